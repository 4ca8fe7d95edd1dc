"""lupa.cluster without starting Airflow: environment, names and failure handling (the
topology itself runs in tests/distributed)."""

from __future__ import annotations

import pytest

from lupa.cluster import (
    ClusterConfig,
    ClusterError,
    LocalCluster,
    _database_dsn,
    _with_driver,
    worker_hostname,
)


def test_every_process_shares_one_environment_and_inherits_no_airflow_setting(
        tmp_path, monkeypatch):
    monkeypatch.setenv("AIRFLOW__CORE__EXECUTOR", "SequentialExecutor")
    monkeypatch.setenv("AIRFLOW__CORE__SQL_ALCHEMY_CONN", "sqlite:///stale.db")
    cluster = LocalCluster(ClusterConfig(root=tmp_path, database="lupa_airflow_x",
                                         env={"LUPA_DELAY_SECONDS": "0.5"}))
    env = cluster.environment()
    assert env["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor"
    assert "AIRFLOW__CORE__SQL_ALCHEMY_CONN" not in env
    assert env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] == (
        "postgresql+psycopg://postgres@127.0.0.1:5432/lupa_airflow_x")
    assert env["AIRFLOW__CELERY__RESULT_BACKEND"].startswith("db+postgresql+psycopg://")
    assert env["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"] == f"{cluster.base_url}/execution/"
    assert env["AIRFLOW__API_AUTH__JWT_SECRET"] == cluster.environment()[
        "AIRFLOW__API_AUTH__JWT_SECRET"]  # the same secret for every process
    assert env["LUPA_DELAY_SECONDS"] == "0.5"


def test_database_names_and_drivers():
    assert _database_dsn("postgresql://u:p@h:5432/postgres", "lupa_1") == (
        "postgresql://u:p@h:5432/lupa_1")
    assert _with_driver("postgresql://h/db") == "postgresql+psycopg://h/db"


def test_a_worker_reports_its_own_name(monkeypatch):
    monkeypatch.setenv("LUPA_WORKER_NAME", "worker7")
    assert worker_hostname() == "worker7"
    monkeypatch.delenv("LUPA_WORKER_NAME")
    assert worker_hostname()


def test_a_dead_process_is_reported_with_its_log(tmp_path):
    import subprocess
    import sys

    cluster = LocalCluster(ClusterConfig(root=tmp_path))
    log = cluster._log_path("scheduler")
    log.write_text("boot\nImportError: no module named nowhere\n")
    cluster.processes["scheduler"] = subprocess.Popen([sys.executable, "-c", "exit(3)"])
    cluster.processes["scheduler"].wait(30)
    with pytest.raises(ClusterError, match=r"scheduler exited with code 3(.|\n)*nowhere"):
        cluster.check()
    cluster.processes.clear()
