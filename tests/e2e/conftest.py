"""One small testbed audited end to end, shared by the end-to-end and report tests.

The first run goes through real Airflow (lupa_audit); a second run of a third of the
subjects a quarter later (in process: its DAG path is the same code) gives the reports a
trend; the lupa_reports DAG then builds the reports of that second run.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from lupa.config import Settings
from lupa.demo import free_port
from testbed.defects import MIN_SIZE
from testbed.model import AS_OF

# MIN_SIZE portals: the smallest network that carries every defect kind (testbed.defects).
SEED, SIZE = 11, MIN_SIZE
NEXT_QUARTER = "2026-02-15"
SECOND_RUN_ID = "manual__2026-02-15T10:00:00+00:00"
BAD_ROWS = (
    "900001,Sujeto con tipo desconocido,,estatal,Jalisco,ayuntamiento,http://127.0.0.9/,\n"
    "900002,Sujeto con URL inválida,,federal,,ejecutivo,ftp://example.org/,\n"
)


@pytest.fixture(scope="session")
def e2e_testbed(tmp_path_factory):
    from testbed.server import start_subprocess

    # The testbed lives on loopback: the installation must allow it, not just the run.
    mp = pytest.MonkeyPatch()
    mp.setenv("LUPA_ALLOW_PRIVATE_NETWORKS", "1")
    settings = Settings.from_env()  # LUPA_HOME and AIRFLOW_HOME come from tests/conftest.py
    settings = replace(settings, warehouse=tmp_path_factory.mktemp("wh") / "lupa.duckdb",
                       reports=tmp_path_factory.mktemp("reports") / "informe")
    out = tmp_path_factory.mktemp("testbed")
    with start_subprocess(seed=SEED, size=SIZE, out_dir=out, port=free_port(),
                          base="127.21.0.1") as testbed:
        registry = Path(testbed.out_dir) / "registry.csv"
        good_rows = registry.read_text(encoding="utf-8").count("\n") - 1
        with registry.open("a", encoding="utf-8") as handle:
            handle.write(BAD_ROWS)
        yield settings, registry, Path(testbed.out_dir), good_rows
    mp.undo()


@pytest.fixture(scope="session")
def audited(e2e_testbed):
    from lupa.airflow_runner import run_dag

    settings, registry, out, good_rows = e2e_testbed
    result = run_dag(settings, "lupa_audit", {
        "registry": str(registry), "allow_private_networks": True,
        "delay_seconds": 0.01, "shard_size": 6, "as_of": AS_OF.isoformat(),
        "warehouse": str(settings.warehouse),
    })
    return settings, result, out, good_rows


@pytest.fixture(scope="session")
def second_run(audited, e2e_testbed):
    """A third of the subjects audited again a quarter later: nothing was updated."""
    import csv

    from lupa.pipeline import run_in_process

    settings, result, _, _ = audited
    assert result.state == "success", result.failed_tasks
    _, registry, _, _ = e2e_testbed
    with registry.open(encoding="utf-8") as handle:
        ids = [row["subject_id"] for row in csv.DictReader(handle)][:SIZE // 3]
    run_in_process({"registry": str(registry), "allow_private_networks": True,
                    "delay_seconds": 0.01, "shard_size": 10, "as_of": NEXT_QUARTER,
                    "subjects": ids, "warehouse": str(settings.warehouse)},
                   SECOND_RUN_ID, settings)
    return settings, SECOND_RUN_ID, ids


@pytest.fixture(scope="session")
def reported(second_run):
    """The lupa_reports DAG, through Airflow, on the warehouse with both runs."""
    from lupa.airflow_runner import run_dag

    settings, run_id, ids = second_run
    result = run_dag(settings, "lupa_reports", {
        "warehouse": str(settings.warehouse), "out": str(settings.reports_dir)})
    return settings, result, run_id, ids
