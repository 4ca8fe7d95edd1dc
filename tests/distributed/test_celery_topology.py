"""The production topology, natively: Airflow on PostgreSQL with the CeleryExecutor on Redis,
the api-server, scheduler, dag-processor and two Celery workers as separate processes
(``lupa.cluster``). The audit DAG is triggered through Airflow's REST API on a testbed; its
shards must run on both workers and the warehouse must hold what a single-machine run of the
same testbed holds. A second run writes to a DuckLake warehouse (catalog in PostgreSQL),
where every shard commits its rows from the worker that audited it. A third run is crashed:
a harvest task and then the load are killed with SIGKILL while they run, Airflow retries
them, and the warehouse must end as if nothing had happened (no duplicates, the run visible
whole or not at all while the load was down).

Needs the machine's PostgreSQL (127.0.0.1:5432, trust auth) and Redis (127.0.0.1:6379); the
README says how to start them. ``make test-distributed`` runs the tests marked ``distributed``.
"""

from __future__ import annotations

import os
import secrets
import signal
import socket
import time
from dataclasses import replace

import pytest

from lupa.cluster import (
    ADMIN_DSN,
    HARVEST_POOL,
    ClusterConfig,
    LocalCluster,
    create_database,
    drop_database,
)
from lupa.config import Settings
from lupa.demo import free_port
from testbed.model import AS_OF
from warehouse.compare import run_differences

pytestmark = [pytest.mark.distributed, pytest.mark.e2e]

SEED, SIZE, SHARDS = 5, 12, 4
BASE = "127.23.0.1"
RUN_ID = "distributed__2025-11-15"
LAKE_RUN_ID = "distributed_lake__2025-11-15"
CRASH_RUN_ID = "distributed_crash__2025-11-15"
POSTGRES, REDIS = ("127.0.0.1", 5432), ("127.0.0.1", 6379)
RUN_TIMEOUT_S = 900


def _require(name: str, address: tuple[str, int]) -> None:
    try:
        socket.create_connection(address, timeout=2).close()
    except OSError as exc:
        pytest.fail(f"{name} is not listening on {address[0]}:{address[1]} ({exc}); the "
                    "README's 'Deployment and operations' section says how to start it")


@pytest.fixture(scope="module")
def testbed_registry(tmp_path_factory):
    from testbed.server import start_subprocess

    out = tmp_path_factory.mktemp("testbed")
    with start_subprocess(seed=SEED, size=SIZE, out_dir=out, port=free_port(), base=BASE):
        yield out / "registry.csv"


def _conf(registry, warehouse) -> dict:
    return {"registry": str(registry), "allow_private_networks": True, "delay_seconds": 0.01,
            "shard_count": SHARDS, "as_of": AS_OF.isoformat(), "warehouse": str(warehouse)}


@pytest.fixture(scope="module")
def lake_target(tmp_path_factory):
    _require("PostgreSQL", POSTGRES)
    name = f"lupa_lake_distributed_{secrets.token_hex(4)}"
    create_database(ADMIN_DSN, name)
    yield (f"ducklake:postgres:dbname={name} host=127.0.0.1 user=postgres",
           tmp_path_factory.mktemp("lake-data"))
    drop_database(ADMIN_DSN, name)


@pytest.fixture(scope="module")
def distributed_run(testbed_registry, lake_target, tmp_path_factory):
    _require("PostgreSQL", POSTGRES)
    _require("Redis", REDIS)
    root = tmp_path_factory.mktemp("cluster")
    warehouse = root / "distributed.duckdb"
    lake, lake_data = lake_target
    config = ClusterConfig(root=root, workers=2, pools={HARVEST_POOL: 2}, env={
        "LUPA_HOME": str(root / "lupa"), "LUPA_ALLOW_PRIVATE_NETWORKS": "1",
        "LUPA_AUDIT_SCHEDULE": "none", "LUPA_HARVEST_POOL": HARVEST_POOL,
        "LUPA_LAKE_DATA_PATH": str(lake_data), "LUPA_RETRY_DELAY_SECONDS": "3"})
    cluster = LocalCluster(config)
    instances, reruns = {}, {}
    with cluster:
        client = cluster.client
        client.wait_for_dag("lupa_audit")
        client.set_paused("lupa_audit", False)
        for run_id, target in ((RUN_ID, warehouse), (LAKE_RUN_ID, lake)):
            client.trigger("lupa_audit", run_id, _conf(testbed_registry, target))
            run = client.wait_for_run("lupa_audit", run_id, RUN_TIMEOUT_S, cluster.check)
            if run["state"] == "success":  # an operator re-runs one shard: same warehouse
                cleared = client.clear("lupa_audit", run_id, [("harvest", 1)])
                reruns[run_id] = {(t["task_id"], t["map_index"]) for t in cleared}
                run = client.wait_for_run("lupa_audit", run_id, RUN_TIMEOUT_S, cluster.check)
            instances[run_id] = client.task_instances("lupa_audit", run_id)
            if run["state"] != "success":
                states = [(t["task_id"], t["map_index"], t["state"]) for t in instances[run_id]]
                pytest.fail(f"run {run_id} ended {run['state']}: {states}\n"
                            + "\n".join(cluster.tail(name) for name in cluster.logs))
        crash = _crashed_run(cluster, testbed_registry, root / "crashed.duckdb")
        pids = [p.pid for p in cluster.processes.values()]
    return cluster, warehouse, instances, pids, reruns, crash


def _kill_while_running(cluster, task_id: str, map_index: int, after_s: float) -> dict:
    """SIGKILL the process of the crash run's task once it has run about ``after_s``."""
    deadline = time.monotonic() + RUN_TIMEOUT_S
    while time.monotonic() < deadline:
        cluster.check()
        for ti in cluster.client.task_instances("lupa_audit", CRASH_RUN_ID):
            if (ti["task_id"], ti["map_index"]) == (task_id, map_index) and \
                    ti["state"] == "running" and ti.get("pid"):
                time.sleep(after_s)
                os.kill(ti["pid"], signal.SIGKILL)
                return ti
        time.sleep(0.1)
    pytest.fail(f"{task_id}[{map_index}] of {CRASH_RUN_ID} never ran")


def _visible(warehouse) -> tuple[str | None, int]:
    """(run status, obligation checks) of the crash run in the warehouse right now."""
    import duckdb

    if not warehouse.exists():
        return None, 0
    with duckdb.connect(str(warehouse), read_only=True) as con:
        status = con.execute("SELECT status FROM runs WHERE run_id = ?",
                             [CRASH_RUN_ID]).fetchone()
        checks = con.execute("SELECT count(*) FROM obligation_checks WHERE run_id = ?",
                             [CRASH_RUN_ID]).fetchone()[0]
    return (status[0] if status else None), checks


def _crashed_run(cluster, registry, warehouse) -> dict:
    """Trigger a run, SIGKILL harvest[0] mid-crawl and then the load mid-way; Airflow retries
    both (retry delay 3 s). What the warehouse showed between the load's kill and its retry,
    and the run's final task instances."""
    client = cluster.client
    client.trigger("lupa_audit", CRASH_RUN_ID, _conf(registry, warehouse))
    harvest = _kill_while_running(cluster, "harvest", 0, after_s=2.0)
    load = _kill_while_running(cluster, "load", -1, after_s=0.5)
    between = _visible(warehouse)
    run = client.wait_for_run("lupa_audit", CRASH_RUN_ID, RUN_TIMEOUT_S, cluster.check)
    return {"killed": [harvest, load], "between": between, "state": run["state"],
            "instances": client.task_instances("lupa_audit", CRASH_RUN_ID),
            "warehouse": warehouse}


@pytest.fixture(scope="module")
def local_run(testbed_registry, tmp_path_factory):
    """The same audit on one machine: Airflow in this process (dag.test), a DuckDB file."""
    from lupa.airflow_runner import run_dag

    patch = pytest.MonkeyPatch()
    patch.setenv("LUPA_ALLOW_PRIVATE_NETWORKS", "1")  # the testbed is on loopback
    try:
        warehouse = tmp_path_factory.mktemp("local") / "local.duckdb"
        settings = replace(Settings.from_env(), warehouse=warehouse)
        result = run_dag(settings, "lupa_audit", _conf(testbed_registry, warehouse))
    finally:
        patch.undo()
    assert result.state == "success", result.failed_tasks
    return warehouse, result.run_id


@pytest.mark.parametrize("run_id", [RUN_ID, LAKE_RUN_ID])
def test_the_run_succeeds_with_every_task_through_celery(distributed_run, run_id):
    instances = distributed_run[2][run_id]
    assert {t["task_id"] for t in instances} == {"prepare", "harvest", "audit", "load"}
    assert all(t["state"] == "success" for t in instances), instances
    assert sum(t["task_id"] == "harvest" for t in instances) == SHARDS
    assert {t["pool"] for t in instances if t["task_id"] == "harvest"} == {HARVEST_POOL}


@pytest.mark.parametrize("run_id", [RUN_ID, LAKE_RUN_ID])
def test_shards_ran_on_both_workers(distributed_run, run_id):
    instances = distributed_run[2][run_id]
    shard_hosts = {t["hostname"] for t in instances if t["task_id"] in ("harvest", "audit")}
    assert shard_hosts == {"worker1", "worker2"}


@pytest.mark.parametrize("run_id", [RUN_ID, LAKE_RUN_ID])
def test_a_cleared_shard_ran_again_with_the_load(distributed_run, run_id):
    cleared = distributed_run[4][run_id]
    assert ("harvest", 1) in cleared and ("audit", 1) in cleared and ("load", -1) in cleared
    again = [t for t in distributed_run[2][run_id] if t["task_id"] == "harvest"
             and t["map_index"] == 1]
    assert again[0]["try_number"] >= 2


def test_the_warehouse_matches_a_single_machine_run(distributed_run, local_run):
    import duckdb

    warehouse = distributed_run[1]
    with duckdb.connect(str(warehouse), read_only=True) as con:
        checks, findings = con.execute(
            "SELECT (SELECT count(*) FROM obligation_checks WHERE run_id = $r), "
            "(SELECT count(*) FROM findings WHERE run_id = $r)", {"r": RUN_ID}).fetchone()
    assert checks > 100 and findings > 10  # the comparison below is not of two empty runs
    differences = run_differences(local_run[0], local_run[1], warehouse, RUN_ID)
    assert differences == [], "\n".join(str(d) for d in differences)


def test_the_ducklake_written_by_both_workers_matches_a_single_machine_run(
        distributed_run, local_run, lake_target, monkeypatch):
    lake, lake_data = lake_target
    monkeypatch.setenv("LUPA_LAKE_DATA_PATH", str(lake_data))
    differences = run_differences(local_run[0], local_run[1], lake, LAKE_RUN_ID)
    assert differences == [], "\n".join(str(d) for d in differences)
    assert list(lake_data.rglob("*.parquet"))  # the rows live in the lake's data files


def test_every_process_is_stopped_and_the_database_dropped(distributed_run):
    import psycopg

    cluster, _, _, pids, _, _ = distributed_run
    for pid in pids:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)
    with psycopg.connect(ADMIN_DSN) as con:
        found = con.execute("SELECT count(*) FROM pg_database WHERE datname = %s",
                            [cluster.database]).fetchone()[0]
    assert found == 0


def test_a_harvest_and_a_load_killed_mid_way_are_retried_and_lose_nothing(
        distributed_run, local_run):
    crash = distributed_run[5]
    assert crash["state"] == "success", crash["instances"]
    tries = {(t["task_id"], t["map_index"]): t["try_number"] for t in crash["instances"]}
    assert tries[("harvest", 0)] >= 2 and tries[("load", -1)] >= 2  # killed, then retried
    # between the load's death and its retry the run was all there or not there at all
    status, checks = crash["between"]
    expected_checks = _checks_of(local_run)
    assert (status, checks) in ((None, 0), ("failed", 0), ("success", expected_checks)), \
        crash["between"]
    differences = run_differences(local_run[0], local_run[1], crash["warehouse"], CRASH_RUN_ID)
    assert differences == [], "\n".join(str(d) for d in differences)


def _checks_of(run) -> int:
    import duckdb

    with duckdb.connect(str(run[0]), read_only=True) as con:
        return con.execute("SELECT count(*) FROM obligation_checks WHERE run_id = ?",
                                   [run[1]]).fetchone()[0]
