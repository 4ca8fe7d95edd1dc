"""``lupa demo``: the whole audit on the bundled testbed, end to end through Airflow."""

from __future__ import annotations

import socket
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from lupa.config import Settings

DEMO_SEED = 2026
DEMO_SIZE = 50
DEMO_BASE = "127.20.0.1"
# The testbed answers on loopback at once; a short politeness delay keeps the demo to a few
# minutes. Real portals get the configured delay (1 s by default).
DEMO_DELAY_SECONDS = 0.02


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


@dataclass
class DemoResult:
    run_id: str
    state: str
    seconds: float
    warehouse: Path
    evaluation: object  # None when the run did not succeed
    testbed_dir: Path
    failed_tasks: list[str]
    data_docs: Path | None = None
    overview: Path | None = None  # the report's overview page, when the reports DAG succeeded
    report_failed_tasks: list[str] | None = None


def run_demo(settings: Settings, seed: int = DEMO_SEED, size: int = DEMO_SIZE,
             as_of: str | None = None, out=sys.stdout) -> DemoResult:
    from lupa.airflow_runner import run_dag
    from lupa.evaluation import evaluate
    from lupa.tasks import DATA_DOCS_DIR, run_dir_name
    from testbed.model import AS_OF
    from testbed.server import start_subprocess

    started = time.monotonic()
    testbed_dir = settings.home / "demo" / f"testbed-{seed}-{size}"
    port = free_port()
    print(f"Starting the testbed: {size} simulated portals (seed {seed}) on "
          f"{DEMO_BASE}… port {port}", file=out, flush=True)
    with start_subprocess(seed=seed, size=size, out_dir=testbed_dir, port=port,
                          base=DEMO_BASE) as testbed:
        registry = Path(testbed.out_dir) / "registry.csv"
        print(f"Registry: {registry}\nRunning the lupa_audit DAG through Airflow "
              "(in process)…", file=out, flush=True)
        result = run_dag(settings, "lupa_audit", {
            "registry": str(registry),
            "allow_private_networks": True,
            "delay_seconds": DEMO_DELAY_SECONDS,
            "shard_size": 10,
            # The testbed publishes as of its own date; auditing it "today" would find
            # every dataset years behind.
            "as_of": as_of or AS_OF.isoformat(),
            "warehouse": str(settings.warehouse),
        })
    evaluation = overview = report_failures = None
    if result.state == "success":
        evaluation = evaluate(settings.warehouse, result.run_id, testbed_dir / "ground_truth")
        overview, report_failures = _reports(settings, result.run_id, out)
    docs = settings.home / "runs" / run_dir_name(result.run_id) / DATA_DOCS_DIR / "index.html"
    return DemoResult(result.run_id, result.state, time.monotonic() - started,
                      settings.warehouse, evaluation, testbed_dir, result.failed_tasks,
                      docs if docs.exists() else None, overview, report_failures)


def _reports(settings: Settings, run_id: str, out) -> tuple[Path | None, list[str]]:
    """Run the lupa_reports DAG for the demo's run (dag.test does not follow asset
    schedules, so the demo triggers it as the scheduler would after the audit)."""
    from lupa.airflow_runner import run_dag

    print("Building the reports (lupa_reports DAG)…", file=out, flush=True)
    result = run_dag(settings, "lupa_reports", {
        "warehouse": str(settings.warehouse), "run_id": run_id,
        "out": str(settings.reports_dir)})
    overview = settings.reports_dir / "index.html"
    if result.state != "success" or not overview.exists():
        return None, result.failed_tasks
    return overview, []
