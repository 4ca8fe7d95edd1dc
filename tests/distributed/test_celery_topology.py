"""The production topology, natively: Airflow on PostgreSQL with the CeleryExecutor on Redis,
the api-server, scheduler, dag-processor and two Celery workers as separate processes
(``lupa.cluster``). The audit DAG is triggered through Airflow's REST API on a testbed; its
shards must run on both workers and the warehouse must hold what a single-machine run of the
same testbed holds.

Needs the machine's PostgreSQL (127.0.0.1:5432, trust auth) and Redis (127.0.0.1:6379); the
README says how to start them. ``make test-distributed`` runs only this module.
"""

from __future__ import annotations

import os
import socket
from dataclasses import replace

import pytest

from lupa.cluster import HARVEST_POOL, ClusterConfig, LocalCluster
from lupa.config import Settings
from lupa.demo import free_port
from testbed.model import AS_OF
from warehouse.compare import run_differences

pytestmark = [pytest.mark.distributed, pytest.mark.e2e]

SEED, SIZE, SHARDS = 5, 12, 4
BASE = "127.23.0.1"
RUN_ID = "distributed__2025-11-15"
POSTGRES, REDIS = ("127.0.0.1", 5432), ("127.0.0.1", 6379)
RUN_TIMEOUT_S = 900


def _require(name: str, address: tuple[str, int]) -> None:
    try:
        socket.create_connection(address, timeout=2).close()
    except OSError as exc:
        pytest.fail(f"{name} is not listening on {address[0]}:{address[1]} ({exc}); the "
                    "README's 'Distributed execution' section says how to start it")


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
def distributed_run(testbed_registry, tmp_path_factory):
    _require("PostgreSQL", POSTGRES)
    _require("Redis", REDIS)
    root = tmp_path_factory.mktemp("cluster")
    warehouse = root / "distributed.duckdb"
    config = ClusterConfig(root=root, workers=2, pools={HARVEST_POOL: 2}, env={
        "LUPA_HOME": str(root / "lupa"), "LUPA_ALLOW_PRIVATE_NETWORKS": "1",
        "LUPA_AUDIT_SCHEDULE": "none", "LUPA_HARVEST_POOL": HARVEST_POOL})
    cluster = LocalCluster(config)
    with cluster:
        client = cluster.client
        client.wait_for_dag("lupa_audit")
        client.set_paused("lupa_audit", False)
        client.trigger("lupa_audit", RUN_ID, _conf(testbed_registry, warehouse))
        run = client.wait_for_run("lupa_audit", RUN_ID, RUN_TIMEOUT_S, cluster.check)
        instances = client.task_instances("lupa_audit", RUN_ID)
        pids = [p.pid for p in cluster.processes.values()]
        if run["state"] != "success":
            pytest.fail(f"run {RUN_ID} ended {run['state']}: "
                        f"{[(t['task_id'], t['map_index'], t['state']) for t in instances]}\n"
                        + "\n".join(cluster.tail(name) for name in cluster.logs))
    return cluster, warehouse, instances, pids


def test_the_run_succeeds_with_every_task_through_celery(distributed_run):
    _, _, instances, _ = distributed_run
    assert {t["task_id"] for t in instances} == {"prepare", "harvest", "audit", "load"}
    assert all(t["state"] == "success" for t in instances), instances
    assert sum(t["task_id"] == "harvest" for t in instances) == SHARDS
    assert {t["pool"] for t in instances if t["task_id"] == "harvest"} == {HARVEST_POOL}


def test_shards_ran_on_both_workers(distributed_run):
    _, _, instances, _ = distributed_run
    shard_hosts = {t["hostname"] for t in instances if t["task_id"] in ("harvest", "audit")}
    assert shard_hosts == {"worker1", "worker2"}


def test_the_warehouse_matches_a_single_machine_run(distributed_run, testbed_registry,
                                                     tmp_path, monkeypatch):
    from lupa.airflow_runner import run_dag

    monkeypatch.setenv("LUPA_ALLOW_PRIVATE_NETWORKS", "1")  # the testbed is on loopback
    _, warehouse, _, _ = distributed_run
    local_warehouse = tmp_path / "local.duckdb"
    settings = replace(Settings.from_env(), warehouse=local_warehouse)
    local = run_dag(settings, "lupa_audit", _conf(testbed_registry, local_warehouse))
    assert local.state == "success", local.failed_tasks
    import duckdb

    with duckdb.connect(str(warehouse), read_only=True) as con:
        checks, findings = con.execute(
            "SELECT (SELECT count(*) FROM obligation_checks WHERE run_id = $r), "
            "(SELECT count(*) FROM findings WHERE run_id = $r)", {"r": RUN_ID}).fetchone()
    assert checks > 100 and findings > 10  # the comparison below is not of two empty runs
    differences = run_differences(local_warehouse, local.run_id, warehouse, RUN_ID)
    assert differences == [], "\n".join(str(d) for d in differences)


def test_every_process_is_stopped_and_the_database_dropped(distributed_run):
    import psycopg

    cluster, _, _, pids = distributed_run
    assert cluster.processes == {}
    for pid in pids:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)
    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres") as con:
        found = con.execute("SELECT count(*) FROM pg_database WHERE datname = %s",
                            [cluster.database]).fetchone()[0]
    assert found == 0
