"""docker-compose.yml and the Dockerfile: valid, complete, and made of real commands.

There is no Docker engine here, so the compose file is validated by Debian's docker-compose
(``config``), its topology is checked from the normalised output, and the commands its
services run are run natively; ``make test-distributed`` runs the topology itself.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
SECRETS = {"POSTGRES_PASSWORD": "pg-secret", "AIRFLOW_JWT_SECRET": "jwt-secret",
           "AIRFLOW_API_SECRET_KEY": "api-secret", "LUPA_ADMIN_PASSWORD": "admin-secret"}
AIRFLOW_SERVICES = {"airflow-init", "airflow-apiserver", "airflow-scheduler",
                    "airflow-dag-processor", "airflow-triggerer", "airflow-worker"}


def _compose(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    if shutil.which("docker-compose") is None:
        if os.environ.get("CI"):
            pytest.fail("docker-compose is missing: `make debian-packages` installs it")
        pytest.skip("Debian's docker-compose is not installed (make debian-packages)")
    clean = {k: v for k, v in os.environ.items() if k not in SECRETS and not k.startswith(
        ("LUPA_", "AIRFLOW", "POSTGRES_"))}
    return subprocess.run(["docker-compose", "--project-directory", str(REPO), "-f",
                           str(REPO / "docker-compose.yml"), *args], env={**clean, **(env or {})},
                          capture_output=True, text=True, timeout=60, check=False)


@pytest.fixture(scope="module")
def compose() -> dict:
    done = _compose("config", env=SECRETS)
    assert done.returncode == 0, done.stderr
    return yaml.safe_load(done.stdout)


def test_the_compose_file_refuses_to_start_without_its_secrets():
    done = _compose("config", "-q")
    assert done.returncode != 0
    assert "set POSTGRES_PASSWORD in .env" in done.stderr


def test_the_topology_is_airflows_production_one(compose):
    services = compose["services"]
    assert set(services) == {"postgres", "redis", *AIRFLOW_SERVICES}
    for name in AIRFLOW_SERVICES:
        env = services[name]["environment"]
        assert env["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor", name
        assert env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"].startswith(
            "postgresql+psycopg://airflow:pg-secret@postgres:5432/"), name
        assert env["AIRFLOW__CELERY__BROKER_URL"].startswith("redis://redis:6379/"), name
        assert env["AIRFLOW__API_AUTH__JWT_SECRET"] == "jwt-secret", name
        assert env["LUPA_HARVEST_POOL"] == "lupa_harvest", name
        assert services[name]["depends_on"]["postgres"]["condition"] == "service_healthy"
        if name != "airflow-init":
            assert services[name]["depends_on"]["airflow-init"]["condition"] == \
                "service_completed_successfully", name
    assert services["airflow-worker"]["command"] == ["airflow", "celery", "worker"]
    assert "ports" not in services["airflow-worker"]  # scalable: --scale airflow-worker=N


def test_every_long_running_service_has_a_health_check(compose):
    for name, service in compose["services"].items():
        if name != "airflow-init":
            assert service.get("healthcheck", {}).get("test"), name


def test_warehouse_evidence_and_reports_live_on_volumes(compose):
    assert {"lupa-warehouse", "lupa-runs", "lupa-reports", "postgres-db"} <= set(
        compose["volumes"])
    for name in AIRFLOW_SERVICES:
        targets = {v["target"] if isinstance(v, dict) else v.split(":")[1]
                   for v in compose["services"][name]["volumes"]}
        assert {"/var/lib/lupa/warehouse", "/var/lib/lupa/runs",
                "/var/lib/lupa/reports"} <= targets, name


def test_the_init_job_migrates_and_creates_the_politeness_pool(compose):
    # `config` keeps the $$ that escapes a variable from compose for the shell
    command = " ".join(compose["services"]["airflow-init"]["command"]).replace("$$", "$")
    assert "airflow db migrate" in command
    assert 'airflow pools set lupa_harvest "${LUPA_HARVEST_SLOTS}"' in command
    assert "lupa migrate" in command


@pytest.mark.parametrize("command", [
    ["airflow", "jobs", "check", "--help"],
    ["airflow", "pools", "set", "--help"],
    ["airflow", "celery", "worker", "--help"],
    ["lupa", "migrate", "--help"],
])
def test_the_commands_the_services_run_exist(command):
    binary = Path(sys.executable).parent / command[0]
    done = subprocess.run([str(binary), *command[1:]], capture_output=True, text=True,
                          timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-2000:]


def test_the_worker_health_check_names_a_real_celery_app(compose):
    test = compose["services"]["airflow-worker"]["healthcheck"]["test"][1]
    module = re.search(r"--app (\S+)\.app", test).group(1)
    done = subprocess.run([sys.executable, "-c", f"from {module} import app; print(app.main)"],
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-2000:]


def test_the_image_installs_the_locked_project_and_copies_every_package():
    dockerfile = (REPO / "Dockerfile").read_text()
    assert "uv sync --frozen --no-dev" in dockerfile
    copied = set()
    for line in dockerfile.splitlines():
        if line.startswith("COPY "):
            sources = line.split()[1:-1]
            for source in sources:
                assert (REPO / source).exists(), f"Dockerfile copies missing {source}"
            copied.update(sources)
    packages = set(re.search(r'packages = \[([^\]]*)\]', (REPO / "pyproject.toml").read_text())
                   .group(1).replace('"', "").replace(" ", "").split(","))
    assert packages | {"dags", "plugins", "uv.lock", "pyproject.toml"} <= copied
