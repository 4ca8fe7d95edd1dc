"""Every DAG file imports cleanly and follows the project's policies."""

from pathlib import Path

import pytest

DAGS = Path(__file__).resolve().parents[2] / "dags"


@pytest.fixture(scope="module")
def bag():
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(DAGS))


def test_no_import_errors(bag):
    assert bag.import_errors == {}
    assert len(bag.dags) == len(list(DAGS.glob("*.py")))


def test_policies(bag):
    for dag_id, dag in bag.dags.items():
        assert dag.tags and "lupa" in dag.tags, dag_id
        assert dag.doc_md and len(dag.doc_md) > 200, dag_id
        for task in dag.tasks:
            assert task.retries >= 1, f"{dag_id}.{task.task_id} has no retries"
            assert task.owner == "lupa", f"{dag_id}.{task.task_id}"


def test_audit_dag_shape(bag):
    dag = bag.dags["lupa_audit"]
    assert {t.task_id for t in dag.tasks} == {"prepare", "harvest", "audit", "load"}
    assert dag.get_task("harvest").upstream_task_ids == {"prepare"}
    assert dag.get_task("audit").upstream_task_ids == {"harvest"}
    assert dag.get_task("load").upstream_task_ids == {"audit"}
    outlets = dag.get_task("load").outlets
    assert [a.name for a in outlets] == ["lupa_warehouse"]
    assert dag.params["allow_private_networks"] is None  # installation setting decides
    assert dag.timetable.expression == "0 4 5 2,5,8,11 *"
    assert dag.get_task("harvest").pool == "default_pool"
    assert dag.get_task("harvest").max_active_tis_per_dagrun == 4


def _parse_audit_dag(monkeypatch, **env):
    from airflow.dag_processing.dagbag import DagBag

    for name, value in env.items():
        monkeypatch.setenv(name, value)
    bag = DagBag(dag_folder=str(DAGS / "lupa_audit.py"))
    assert bag.import_errors == {}
    return bag.dags["lupa_audit"]


def test_schedule_and_harvest_pool_come_from_the_environment(monkeypatch):
    dag = _parse_audit_dag(monkeypatch, LUPA_AUDIT_SCHEDULE="30 2 10 1,4,7,10 *",
                           LUPA_HARVEST_POOL="lupa_harvest", LUPA_HARVEST_TASKS="16")
    assert dag.timetable.expression == "30 2 10 1,4,7,10 *"
    assert dag.get_task("harvest").pool == "lupa_harvest"
    assert dag.get_task("harvest").max_active_tis_per_dagrun == 16
    assert dag.get_task("audit").pool == "default_pool"


def test_schedule_none_means_triggered_by_hand(monkeypatch):
    dag = _parse_audit_dag(monkeypatch, LUPA_AUDIT_SCHEDULE="none")
    assert type(dag.timetable).__name__ == "NullTimetable"


def test_reports_dag_runs_when_the_warehouse_asset_is_updated(bag):
    dag = bag.dags["lupa_reports"]
    assert [t.task_id for t in dag.tasks] == ["build"]
    assert [a.name for a in dag.timetable.asset_condition.objects] == ["lupa_warehouse"]
    assert set(dag.params) == {"warehouse", "run_id", "out"}


@pytest.mark.parametrize("path", sorted(DAGS.glob("*.py")), ids=lambda p: p.name)
def test_dag_files_do_not_import_heavy_modules_at_parse_time(path):
    import subprocess
    import sys

    heavy = ["great_expectations", "pandas", "duckdb", "scrapers", "lupa.tasks", "warehouse",
             "reports", "matplotlib"]
    code = ("import importlib.util, sys\n"
            f"spec = importlib.util.spec_from_file_location('d', {str(path)!r})\n"
            "spec.loader.exec_module(importlib.util.module_from_spec(spec))\n"
            f"print(','.join(m for m in {heavy!r} if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120, check=True)
    assert out.stdout.strip().splitlines()[-1:] in ([], [""]), out.stdout
