"""One small testbed audited end to end, shared by the end-to-end and report tests.

The runs, in this order (each fixture asks for the one before):
1. ``audited``: generation 1 through real Airflow (lupa_audit);
2. ``rerun``: generation 1 again, unchanged (in process: the DAG's code path), which must
   revalidate instead of downloading and give the same findings;
3. ``advanced``: the testbed advances to generation 2 (same addresses) and is audited
   again: the history findings against its ground truth;
4. ``second_run``: a third of the subjects a quarter later, for the reports' trend;
5. ``reported``: the lupa_reports DAG, through Airflow, on the warehouse with all of them.
"""

from __future__ import annotations

import os
from contextlib import ExitStack
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
RERUN_ID = "rerun__2025-11-15"
ADVANCED_RUN_ID = "generation2__2025-11-15"
BASE = "127.21.0.1"
CHROMIUM = os.environ.get("LUPA_CHROMIUM", "/usr/bin/chromium")
BAD_ROWS = (
    "900001,Sujeto con tipo desconocido,,estatal,Jalisco,ayuntamiento,http://127.0.0.9/,\n"
    "900002,Sujeto con URL inválida,,federal,,ejecutivo,ftp://example.org/,\n"
)


class Testbed:
    """The testbed subprocess, restartable at another generation on the same addresses."""

    def __init__(self, root: Path) -> None:
        self.root, self.port, self.generation = root, free_port(), 0
        self._stack = ExitStack()

    def start(self, generation: int) -> Path:
        from testbed.server import start_subprocess

        self._stack.close()
        self._stack = ExitStack()
        out = self.root / f"generation{generation}"
        self._stack.enter_context(start_subprocess(
            seed=SEED, size=SIZE, out_dir=out, port=self.port, base=BASE,
            generation=generation))
        self.generation = generation
        return out

    def stop(self) -> None:
        self._stack.close()


@pytest.fixture(scope="session")
def running_testbed(tmp_path_factory):
    testbed = Testbed(tmp_path_factory.mktemp("testbed"))
    yield testbed
    testbed.stop()


@pytest.fixture(scope="session")
def e2e_testbed(tmp_path_factory, running_testbed):
    # The testbed lives on loopback: the installation must allow it, not just the run.
    mp = pytest.MonkeyPatch()
    mp.setenv("LUPA_ALLOW_PRIVATE_NETWORKS", "1")
    settings = Settings.from_env()  # LUPA_HOME and AIRFLOW_HOME come from tests/conftest.py
    settings = replace(settings, warehouse=tmp_path_factory.mktemp("wh") / "lupa.duckdb",
                       reports=tmp_path_factory.mktemp("reports") / "informe")
    out = running_testbed.start(1)
    registry = out / "registry.csv"
    good_rows = registry.read_text(encoding="utf-8").count("\n") - 1
    with registry.open("a", encoding="utf-8") as handle:
        handle.write(BAD_ROWS)
    yield settings, registry, out, good_rows
    mp.undo()


def in_process(settings, registry: Path, run_id: str, as_of: str, subjects=()):
    from lupa.pipeline import run_in_process

    return run_in_process({"registry": str(registry), "allow_private_networks": True,
                           "delay_seconds": 0.01, "shard_size": 10, "as_of": as_of,
                           "subjects": list(subjects), "warehouse": str(settings.warehouse)},
                          run_id, settings)


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
def rerun(audited, e2e_testbed, running_testbed):
    """Generation 1 audited again, unchanged."""
    settings, result, _, _ = audited
    assert result.state == "success", result.failed_tasks
    assert running_testbed.generation == 1
    in_process(settings, e2e_testbed[1], RERUN_ID, AS_OF.isoformat())
    return settings, result.run_id, RERUN_ID


@pytest.fixture(scope="session")
def advanced(rerun, running_testbed):
    """The testbed advances to generation 2 (some documents updated, silently edited or
    removed) and is audited again on the same date."""
    settings, _, _ = rerun
    out = running_testbed.start(2)
    in_process(settings, out / "registry.csv", ADVANCED_RUN_ID, AS_OF.isoformat())
    return settings, ADVANCED_RUN_ID, out


@pytest.fixture(scope="session")
def second_run(advanced):
    """A third of the subjects audited again a quarter later: nothing was updated."""
    import csv

    settings, _, out = advanced
    registry = out / "registry.csv"
    with registry.open(encoding="utf-8") as handle:
        ids = [row["subject_id"] for row in csv.DictReader(handle)][:SIZE // 3]
    in_process(settings, registry, SECOND_RUN_ID, NEXT_QUARTER, ids)
    return settings, SECOND_RUN_ID, ids


@pytest.fixture(scope="session")
def reported(second_run):
    """The lupa_reports DAG, through Airflow, on the warehouse with both runs."""
    from lupa.airflow_runner import run_dag

    settings, run_id, ids = second_run
    result = run_dag(settings, "lupa_reports", {
        "warehouse": str(settings.warehouse), "out": str(settings.reports_dir)})
    return settings, result, run_id, ids


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} is missing: CI must install Debian's chromium (.ci/run)")
        pytest.skip(f"{CHROMIUM} is missing: `make browser` installs Debian's chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--no-first-run"])
        yield browser
        browser.close()
