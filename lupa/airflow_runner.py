"""Run Lupa's DAGs through real Airflow, in this process (``dag.test``).

Airflow reads its configuration when first imported, so the environment is prepared here
before anything imports ``airflow``: a metadata DB (SQLite) under ``$LUPA_HOME/airflow``,
the repository's ``dags/`` folder, no example DAGs. ``airflow standalone`` with the same
``AIRFLOW_HOME`` sees the same DAGs and runs (README, "Running under airflow standalone").
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

from lupa.config import PROJECT_ROOT, Settings

DAGS_FOLDER = PROJECT_ROOT / "dags"
AIRFLOW_BIN = str(Path(sys.executable).parent / "airflow")


def lupa_airflow_home(home: Path) -> dict[str, str]:
    """What every Airflow process of Lupa's needs: its home and logs under ``home``, the
    repository's DAGs and plugins, no example DAGs."""
    return {
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS_FOLDER),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(PROJECT_ROOT / "plugins"),
        "AIRFLOW__LOGGING__BASE_LOG_FOLDER": str(home / "logs"),
    }


def airflow_environment(settings: Settings) -> dict[str, str]:
    home = settings.home / "airflow"
    return {
        **lupa_airflow_home(home),
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}",
        "LUPA_HOME": str(settings.home),
    }


def configure(settings: Settings, quiet: bool = True) -> None:
    """Point this process's (future) Airflow at Lupa's home; call before importing airflow."""
    if "airflow.configuration" in sys.modules and os.environ.get("AIRFLOW_HOME") != str(
            settings.home / "airflow"):
        raise RuntimeError("Airflow was imported before lupa.airflow_runner.configure()")
    os.environ.update(airflow_environment(settings))
    (settings.home / "airflow").mkdir(parents=True, exist_ok=True)
    if quiet:
        os.environ.setdefault("AIRFLOW__LOGGING__LOGGING_LEVEL", "WARNING")


def ensure_metadata_db(settings: Settings) -> None:
    """Create or upgrade the SQLite metadata DB (``airflow db migrate``), once."""
    home = settings.home / "airflow"
    marker = home / ".lupa-db-migrated"
    stamp = _airflow_version()
    if marker.exists() and marker.read_text() == stamp and (home / "airflow.db").exists():
        return
    env = {**os.environ, **airflow_environment(settings)}
    log_file = home / "db-migrate.log"
    with log_file.open("w") as log:
        done = subprocess.run([AIRFLOW_BIN, "db", "migrate"], env=env, stdout=log,
                              stderr=subprocess.STDOUT, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"airflow db migrate failed (exit {done.returncode}); see {log_file}")
    marker.write_text(stamp)


def _airflow_version() -> str:
    from importlib.metadata import version

    return version("apache-airflow")


@dataclass
class DagRunResult:
    dag_id: str
    run_id: str
    state: str
    seconds: float
    failed_tasks: list[str]


def run_dag(settings: Settings, dag_id: str, conf: dict) -> DagRunResult:
    """Parse the DAG folder and run ``dag_id`` to completion with ``conf`` as params."""
    configure(settings)
    ensure_metadata_db(settings)
    started = time.monotonic()
    # Airflow's own imports trip a third-party deprecation warning users cannot act on.
    warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(DAGS_FOLDER))
    if bag.import_errors:
        raise RuntimeError(f"DAG import errors: {bag.import_errors}")
    dag = bag.dags[dag_id]
    dag_run = dag.test(run_conf=conf)
    failed = [ti.task_id + (f"[{ti.map_index}]" if ti.map_index >= 0 else "")
              for ti in dag_run.get_task_instances() if ti.state == "failed"]
    return DagRunResult(dag_id, dag_run.run_id, str(dag_run.state), time.monotonic() - started,
                        failed)
