"""Settings, from the environment with sensible defaults (LUPA_* variables).

Per-run choices (registry, as-of date, shard size…) travel as DAG params instead; these are
the installation-wide knobs a data engineer sets once.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CONTACT_URL = "https://github.com/lupa-transparencia/lupa#bot"
# Each quarter, after the publication window closes (5 Feb, May, Aug, Nov), 04:00 Mexico City.
QUARTERLY = "0 4 5 2,5,8,11 *"


def _default_home() -> Path:
    # In a source checkout keep everything under ./var (gitignored); installed elsewhere,
    # use the XDG data directory.
    if (PROJECT_ROOT / "pyproject.toml").exists():
        return PROJECT_ROOT / "var"
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "lupa"


def _env(name: str) -> str | None:
    """The variable's value, or None when unset or empty (empty means "use the default")."""
    value = os.environ.get(name, "").strip()
    return value or None


def _env_bool(name: str, default: bool) -> bool:
    value = _env(name)
    return default if value is None else value.lower() in ("1", "true", "yes", "on", "si", "sí")


def _env_number(name: str, default, kind):
    value = _env(name)
    if value is None:
        return default
    try:
        return kind(value)
    except ValueError:
        raise ValueError(f"{name}={value!r} is not a valid {kind.__name__}") from None


def _schedule(value: str | None, default: str | None) -> str | None:
    if value is None:
        return default
    return None if value.lower() in ("none", "manual", "off") else value


@dataclass(frozen=True)
class Settings:
    home: Path
    warehouse: Path | str  # a DuckDB file, or a DuckLake connection string (warehouse.lake)
    reports: Path | None = None  # None: $LUPA_HOME/reports
    law: str = "LGTAIP-2015"
    shard_size: int = 25  # subjects per shard (about)
    shard_count: int | None = None  # shards per run; when set it wins over shard_size
    harvest_threads: int = 8
    allow_private_networks: bool = False
    # "address:port" or "network/prefix:port" exceptions to the private-address refusal
    allowed_endpoints: tuple[str, ...] = ()
    delay_seconds: float = 1.0
    connect_timeout: float = 5.0
    read_timeout: float = 20.0
    max_bytes: int = 25 * 1024 * 1024
    max_clicks: int = 6
    max_pages: int = 500
    contact_url: str = DEFAULT_CONTACT_URL
    retention_runs: int = 0  # run directories to keep (0: all); lupa.retention
    evidence_store: str | None = None  # object-store URL for WARC files (None: run dirs)
    harvest_pool: str = "default_pool"  # Airflow pool the harvest tasks take slots from
    harvest_tasks: int = 4  # harvest tasks of one run crawling at once (at most)
    audit_schedule: str | None = QUARTERLY  # cron of lupa_audit; None: triggered by hand
    retry_delay_seconds: float = 120.0  # before a failed task's first retry (then doubling)

    @classmethod
    def from_env(cls) -> Settings:
        home = Path(_env("LUPA_HOME") or _default_home()).expanduser().resolve()
        configured = _env("LUPA_WAREHOUSE")
        # "ducklake:" as in warehouse.target, not imported: DAG files parse this module
        warehouse = configured if configured and configured.startswith("ducklake:") else Path(
            configured or home / "warehouse" / "lupa.duckdb").expanduser().resolve()
        d = cls(home=home, warehouse=warehouse)
        reports = Path(_env("LUPA_REPORTS_DIR") or home / "reports")
        return cls(
            home=home,
            warehouse=warehouse,
            reports=reports.expanduser().resolve(),
            law=_env("LUPA_LAW") or d.law,
            shard_size=_env_number("LUPA_SHARD_SIZE", d.shard_size, int),
            shard_count=_env_number("LUPA_SHARD_COUNT", d.shard_count, int),
            harvest_threads=_env_number("LUPA_HARVEST_THREADS", d.harvest_threads, int),
            allow_private_networks=_env_bool("LUPA_ALLOW_PRIVATE_NETWORKS",
                                             d.allow_private_networks),
            allowed_endpoints=tuple(e.strip() for e in (_env("LUPA_ALLOWED_ENDPOINTS") or "")
                                    .split(",") if e.strip()),
            delay_seconds=_env_number("LUPA_DELAY_SECONDS", d.delay_seconds, float),
            connect_timeout=_env_number("LUPA_CONNECT_TIMEOUT", d.connect_timeout, float),
            read_timeout=_env_number("LUPA_READ_TIMEOUT", d.read_timeout, float),
            max_bytes=_env_number("LUPA_MAX_BYTES", d.max_bytes, int),
            max_clicks=_env_number("LUPA_MAX_CLICKS", d.max_clicks, int),
            max_pages=_env_number("LUPA_MAX_PAGES", d.max_pages, int),
            contact_url=_env("LUPA_CONTACT_URL") or d.contact_url,
            retention_runs=_env_number("LUPA_RETENTION_RUNS", d.retention_runs, int),
            evidence_store=_env("LUPA_EVIDENCE_STORE"),
            harvest_pool=_env("LUPA_HARVEST_POOL") or d.harvest_pool,
            harvest_tasks=_env_number("LUPA_HARVEST_TASKS", d.harvest_tasks, int),
            audit_schedule=_schedule(_env("LUPA_AUDIT_SCHEDULE"), d.audit_schedule),
            retry_delay_seconds=_env_number("LUPA_RETRY_DELAY_SECONDS", d.retry_delay_seconds,
                                            float),
        )

    @property
    def reports_dir(self) -> Path:
        return self.reports or self.home / "reports"

    def as_dict(self) -> dict:
        return {k: str(v) if isinstance(v, Path) else v for k, v in asdict(self).items()}
