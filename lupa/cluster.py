"""Airflow's distributed topology, natively on one machine: the same processes the
docker-compose deployment runs, started as local processes.

``LocalCluster`` creates a PostgreSQL database for Airflow's metadata (and Celery's results),
migrates it, and starts the api-server, the scheduler, the dag-processor and N Celery
workers on a Redis broker, each in its own process group with its own log file; it drives
runs through Airflow's public REST API (``AirflowClient``) and, on ``stop``, stops every
process it started, drops the database and empties the Redis database it used.

Each worker gets a name (``LUPA_WORKER_NAME``, reported as the task instances' hostname
through ``[core] hostname_callable = lupa.cluster.worker_hostname``), so that with several
workers on one host the UI and the API still tell which worker ran which shard.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

import requests

from lupa.airflow_runner import AIRFLOW_BIN, lupa_airflow_home
from lupa.config import PROJECT_ROOT
from lupa.demo import free_port

ADMIN_USER = "lupa"
# Pool the audit's harvest tasks take their slots from (LUPA_HARVEST_POOL): slots x
# LUPA_HARVEST_THREADS is the number of portals crawled at once across the whole cluster.
HARVEST_POOL = "lupa_harvest"
# The machine's PostgreSQL as its superuser (trust auth): where databases are created.
ADMIN_DSN = "postgresql://postgres@127.0.0.1:5432/postgres"
_STOP_GRACE_S = 30.0
_TERMINAL_RUN_STATES = frozenset({"success", "failed"})


class ClusterError(RuntimeError):
    """A cluster process could not start, died, or a run did not finish in time; the message
    names the process and the log file to read."""


def worker_hostname() -> str:
    """``[core] hostname_callable``: the worker's name when several share a host."""
    return os.environ.get("LUPA_WORKER_NAME") or socket.getfqdn()


@dataclass
class ClusterConfig:
    root: Path  # AIRFLOW_HOME, logs, passwords file
    postgres_admin_dsn: str = ADMIN_DSN
    redis_url: str = "redis://127.0.0.1:6379/13"  # a database of its own: emptied on stop
    workers: int = 2
    worker_concurrency: int = 1
    api_host: str = "127.0.0.1"
    api_port: int = 0  # 0: a free port
    database: str = ""  # "": lupa_airflow_<random>
    pools: Mapping[str, int] = field(default_factory=lambda: {HARVEST_POOL: 2})
    env: Mapping[str, str] = field(default_factory=dict)  # LUPA_* settings for every process


class LocalCluster:
    """Start with ``with LocalCluster(config) as cluster:``; ``cluster.client`` talks to it."""

    def __init__(self, config: ClusterConfig) -> None:
        self.config = config
        self.root = Path(config.root)
        self.database = config.database or f"lupa_airflow_{secrets.token_hex(4)}"
        self.api_port = config.api_port or free_port(config.api_host)
        self.base_url = f"http://{config.api_host}:{self.api_port}"
        self.password = secrets.token_urlsafe(16)
        self.processes: dict[str, subprocess.Popen] = {}
        self.logs: dict[str, Path] = {}
        self._created_database = False
        self._client: AirflowClient | None = None

    # -- lifecycle ------------------------------------------------------------------------

    def __enter__(self) -> LocalCluster:
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc_info) -> None:
        self.stop()

    def start(self, timeout: float = 300.0) -> None:
        deadline = time.monotonic() + timeout
        self.root.mkdir(parents=True, exist_ok=True)
        (self.root / "passwords.json").write_text(json.dumps({ADMIN_USER: self.password}))
        _flush_redis(self.config.redis_url)
        self._create_database()
        self._airflow("db", "migrate", log="db-migrate")
        self._spawn("api-server", "api-server", "--host", self.config.api_host,
                    "--port", str(self.api_port))
        self._spawn("scheduler", "scheduler")
        self._spawn("dag-processor", "dag-processor")
        for number in range(1, self.config.workers + 1):
            name = f"worker{number}"
            self._spawn(name, "celery", "worker", "--concurrency",
                        str(self.config.worker_concurrency), "--celery-hostname",
                        f"{name}@%h", extra_env={"LUPA_WORKER_NAME": name})
        self.client.wait_healthy(deadline, self.check)
        for number in range(1, self.config.workers + 1):
            self._wait_for_log(f"worker{number}", " ready.", deadline)
        for name, slots in self.config.pools.items():
            self.client.set_pool(name, slots)

    def stop(self) -> None:
        for name, process in reversed(list(self.processes.items())):
            _stop_group(process, name)
        self.processes.clear()
        if self._created_database:
            drop_database(self.config.postgres_admin_dsn, self.database)
            self._created_database = False
        _flush_redis(self.config.redis_url)

    # -- what runs where ------------------------------------------------------------------

    @property
    def client(self) -> AirflowClient:
        if self._client is None:
            self._client = AirflowClient(self.base_url, ADMIN_USER, self.password)
        return self._client

    def environment(self) -> dict[str, str]:
        """The environment every process of the cluster shares (Airflow and Lupa settings)."""
        dsn = _database_dsn(self.config.postgres_admin_dsn, self.database)
        home = self.root / "airflow"
        bin_dir = str(Path(sys.executable).parent)
        inherited = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")}
        env = {
            **inherited,
            **self.config.env,
            **lupa_airflow_home(home),
            "PATH": os.pathsep.join([bin_dir, os.environ.get("PATH", "")]),
            "PYTHONPATH": os.pathsep.join(filter(None, [str(PROJECT_ROOT),
                                                        os.environ.get("PYTHONPATH")])),
            "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor",
            "AIRFLOW__CORE__HOSTNAME_CALLABLE": "lupa.cluster.worker_hostname",
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{self.base_url}/execution/",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": f"{ADMIN_USER}:admin",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(self.root / "passwords.json"),
            "AIRFLOW__API__BASE_URL": self.base_url,
            "AIRFLOW__API__SECRET_KEY": self._secret("api-secret"),
            "AIRFLOW__API_AUTH__JWT_SECRET": self._secret("jwt-secret"),
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": _with_driver(dsn),
            "AIRFLOW__CELERY__BROKER_URL": self.config.redis_url,
            "AIRFLOW__CELERY__RESULT_BACKEND": "db+" + _with_driver(dsn),
            "AIRFLOW__CELERY__WORKER_CONCURRENCY": str(self.config.worker_concurrency),
            "AIRFLOW__SCHEDULER__ENABLE_HEALTH_CHECK": "False",
        }
        return env

    def check(self) -> None:
        """Raise ClusterError if a process the cluster started has exited."""
        for name, process in self.processes.items():
            code = process.poll()
            if code is not None:
                raise ClusterError(f"{name} exited with code {code}: {self.tail(name)}")

    def tail(self, name: str, lines: int = 25) -> str:
        path = self.logs.get(name)
        if path is None or not path.exists():
            return "(no log)"
        text = path.read_text(errors="replace").splitlines()[-lines:]
        return f"last lines of {path}:\n" + "\n".join(text)

    # -- internals ------------------------------------------------------------------------

    def _secret(self, name: str) -> str:
        path = self.root / name
        if not path.exists():
            path.write_text(secrets.token_urlsafe(32))
        return path.read_text()

    def _create_database(self) -> None:
        create_database(self.config.postgres_admin_dsn, self.database)
        self._created_database = True

    def _airflow(self, *args: str, log: str, timeout: float = 300.0) -> None:
        path = self._log_path(log)
        with path.open("w") as handle:
            done = subprocess.run([AIRFLOW_BIN, *args], env=self.environment(), stdout=handle,
                                  stderr=subprocess.STDOUT, timeout=timeout, check=False)
        if done.returncode != 0:
            raise ClusterError(f"airflow {' '.join(args)} failed (exit {done.returncode}): "
                               f"{self.tail(log)}")

    def _spawn(self, name: str, *args: str, extra_env: Mapping[str, str] | None = None) -> None:
        path = self._log_path(name)
        env = {**self.environment(), **(extra_env or {})}
        with path.open("w") as handle:
            self.processes[name] = subprocess.Popen(
                [AIRFLOW_BIN, *args], env=env, stdout=handle, stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL, cwd=self.root, start_new_session=True)

    def _log_path(self, name: str) -> Path:
        path = self.root / "logs" / f"{name}.log"
        path.parent.mkdir(parents=True, exist_ok=True)
        self.logs[name] = path
        return path

    def _wait_for_log(self, name: str, text: str, deadline: float) -> None:
        while time.monotonic() < deadline:
            self.check()
            if text in self.logs[name].read_text(errors="replace"):
                return
            time.sleep(0.5)
        raise ClusterError(f"{name} did not log {text!r} in time: {self.tail(name)}")


class AirflowClient:
    """The few calls of Airflow's public REST API (v2) that Lupa's operations need."""

    def __init__(self, base_url: str, username: str, password: str,
                 timeout: float = 30.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.username, self.password = username, password
        self.timeout = timeout
        self.session = requests.Session()
        self._token: str | None = None

    def wait_healthy(self, deadline: float, check) -> None:
        """Wait until the api-server answers and its scheduler reports healthy."""
        last = "no answer"
        while time.monotonic() < deadline:
            check()
            try:
                answer = self.session.get(f"{self.base_url}/api/v2/monitor/health", timeout=5)
                if answer.ok and answer.json().get("scheduler", {}).get("status") == "healthy":
                    return
                last = f"{answer.status_code} {answer.text[:200]}"
            except requests.RequestException as exc:
                last = str(exc)
            time.sleep(1.0)
        raise ClusterError(f"Airflow at {self.base_url} not healthy in time: {last}")

    def wait_for_dag(self, dag_id: str, timeout: float = 180.0) -> dict:
        """Wait until the dag-processor has parsed ``dag_id`` (import errors are raised)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            answer = self._call("GET", f"/api/v2/dags/{quote(dag_id)}", expect=(200, 404))
            if answer.status_code == 200:
                return answer.json()
            errors = self._call("GET", "/api/v2/importErrors").json().get("import_errors", [])
            if errors:
                raise ClusterError(f"DAG import errors: {errors}")
            time.sleep(1.0)
        raise ClusterError(f"DAG {dag_id} was not parsed within {timeout:g} s")

    def set_paused(self, dag_id: str, paused: bool) -> None:
        self._call("PATCH", f"/api/v2/dags/{quote(dag_id)}", json={"is_paused": paused})

    def set_pool(self, name: str, slots: int) -> None:
        body = {"name": name, "slots": slots,
                "description": "Lupa: harvest shards crawling at once"}
        answer = self._call("PATCH", f"/api/v2/pools/{quote(name)}", json=body,
                            expect=(200, 404))
        if answer.status_code == 404:
            self._call("POST", "/api/v2/pools", json=body, expect=(201,))

    def trigger(self, dag_id: str, run_id: str, conf: Mapping[str, Any]) -> dict:
        return self._call("POST", f"/api/v2/dags/{quote(dag_id)}/dagRuns",
                          json={"dag_run_id": run_id, "logical_date": None,
                                "conf": dict(conf)}, expect=(200, 201)).json()

    def dag_run(self, dag_id: str, run_id: str) -> dict:
        return self._call("GET",
                          f"/api/v2/dags/{quote(dag_id)}/dagRuns/{quote(run_id, safe='')}").json()

    def wait_for_run(self, dag_id: str, run_id: str, timeout: float, check) -> dict:
        """Poll until the run succeeds or fails (bounded by ``timeout``)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            check()
            run = self.dag_run(dag_id, run_id)
            if run.get("state") in _TERMINAL_RUN_STATES:
                return run
            time.sleep(2.0)
        raise ClusterError(f"run {run_id} of {dag_id} did not finish within {timeout:g} s "
                           f"(state {self.dag_run(dag_id, run_id).get('state')})")

    def clear(self, dag_id: str, run_id: str, tasks: list[tuple[str, int]]) -> list[dict]:
        """Clear task instances (``(task_id, map_index)``; -1 for an unmapped task) and the
        tasks after them, so the scheduler runs them again: how an operator re-runs one
        shard. Returns the task instances cleared."""
        body = {"dag_run_id": run_id, "task_ids": [list(t) for t in tasks], "dry_run": False,
                "include_downstream": True, "only_failed": False,
                "reset_dag_runs": True}
        return self._call("POST", f"/api/v2/dags/{quote(dag_id)}/clearTaskInstances",
                          json=body).json()["task_instances"]

    def task_instances(self, dag_id: str, run_id: str) -> list[dict]:
        path = (f"/api/v2/dags/{quote(dag_id)}/dagRuns/{quote(run_id, safe='')}"
                "/taskInstances")
        return self._call("GET", path, params={"limit": 1000}).json()["task_instances"]

    def _call(self, method: str, path: str, expect=(200,), **kwargs) -> requests.Response:
        for attempt in range(2):
            answer = self.session.request(method, self.base_url + path, timeout=self.timeout,
                                          headers={"Authorization": f"Bearer {self.token()}"},
                                          **kwargs)
            if answer.status_code == 401 and attempt == 0:
                self._token = None  # expired: log in again once
                continue
            break
        if answer.status_code not in expect:
            raise ClusterError(f"{method} {path}: {answer.status_code} {answer.text[:500]}")
        return answer

    def token(self) -> str:
        if self._token is None:
            answer = self.session.post(f"{self.base_url}/auth/token", timeout=self.timeout,
                                       json={"username": self.username,
                                             "password": self.password})
            if answer.status_code not in (200, 201):
                raise ClusterError(f"login to {self.base_url} failed: {answer.status_code} "
                                   f"{answer.text[:200]}")
            self._token = answer.json()["access_token"]
        return self._token


def _database_dsn(admin_dsn: str, database: str) -> str:
    parts = urlsplit(admin_dsn)
    return urlunsplit(parts._replace(path=f"/{database}"))


def _with_driver(dsn: str) -> str:
    """SQLAlchemy URL with the psycopg (3) driver, Airflow 3's default for PostgreSQL."""
    return dsn.replace("postgresql://", "postgresql+psycopg://", 1)


def _admin_execute(admin_dsn: str, sql: str) -> None:
    import psycopg

    # CREATE/DROP DATABASE cannot run inside a transaction
    with psycopg.connect(admin_dsn, autocommit=True) as con:
        con.execute(sql)


def create_database(admin_dsn: str, database: str) -> None:
    _admin_execute(admin_dsn, f'CREATE DATABASE "{database}"')


def drop_database(admin_dsn: str, database: str) -> None:
    _admin_execute(admin_dsn, f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')


def _flush_redis(url: str) -> None:
    import redis

    client = redis.Redis.from_url(url)
    try:
        client.flushdb()
    finally:
        client.close()


def _stop_group(process: subprocess.Popen, name: str) -> None:
    """SIGTERM the process group (Airflow's children included), SIGKILL after a grace."""
    if process.poll() is not None:
        return
    for sig, wait in ((signal.SIGTERM, _STOP_GRACE_S), (signal.SIGKILL, 10.0)):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            return
        try:
            process.wait(wait)
            return
        except subprocess.TimeoutExpired:
            continue
    raise ClusterError(f"{name} (pid {process.pid}) did not stop")
