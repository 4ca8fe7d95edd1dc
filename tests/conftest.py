"""Test-session isolation: Airflow and Lupa write only under a temporary directory."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

_SESSION_HOME = Path(tempfile.mkdtemp(prefix="lupa-tests-"))
REPO = Path(__file__).resolve().parent.parent

# Must happen before anything imports airflow (it reads its configuration on import).
os.environ["LUPA_HOME"] = str(_SESSION_HOME / "lupa")
os.environ["AIRFLOW_HOME"] = str(_SESSION_HOME / "lupa" / "airflow")
os.environ["AIRFLOW__CORE__DAGS_FOLDER"] = str(REPO / "dags")
os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
os.environ["AIRFLOW__CORE__PLUGINS_FOLDER"] = str(REPO / "plugins")
os.environ["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] = (
    f"sqlite:///{_SESSION_HOME / 'lupa' / 'airflow' / 'airflow.db'}")
os.environ.pop("LUPA_WAREHOUSE", None)
