"""Settings, from the environment with sensible defaults (LUPA_* variables).

Per-run choices (registry, as-of date, shard size…) travel as DAG params instead; these are
the installation-wide knobs a data engineer sets once.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, fields
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CONTACT_URL = "https://github.com/lupa-transparencia/lupa#bot"


def _default_home() -> Path:
    # In a source checkout keep everything under ./var (gitignored); installed elsewhere,
    # use the XDG data directory.
    if (PROJECT_ROOT / "pyproject.toml").exists():
        return PROJECT_ROOT / "var"
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "lupa"


def _env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in ("1", "true", "yes", "on", "si", "sí")


@dataclass(frozen=True)
class Settings:
    home: Path
    warehouse: Path
    law: str = "LGTAIP-2015"
    shard_size: int = 25
    harvest_threads: int = 8
    allow_private_networks: bool = False
    delay_seconds: float = 1.0
    connect_timeout: float = 5.0
    read_timeout: float = 20.0
    max_bytes: int = 25 * 1024 * 1024
    max_clicks: int = 6
    max_pages: int = 500
    contact_url: str = DEFAULT_CONTACT_URL

    @classmethod
    def from_env(cls) -> Settings:
        env = os.environ
        home = Path(env.get("LUPA_HOME") or _default_home()).expanduser().resolve()
        warehouse = Path(env.get("LUPA_WAREHOUSE") or home / "warehouse" / "lupa.duckdb")
        defaults = cls(home=home, warehouse=warehouse)
        return cls(
            home=home,
            warehouse=warehouse.expanduser().resolve(),
            law=env.get("LUPA_LAW", defaults.law),
            shard_size=int(env.get("LUPA_SHARD_SIZE", defaults.shard_size)),
            harvest_threads=int(env.get("LUPA_HARVEST_THREADS", defaults.harvest_threads)),
            allow_private_networks=_env_bool("LUPA_ALLOW_PRIVATE_NETWORKS",
                                             defaults.allow_private_networks),
            delay_seconds=float(env.get("LUPA_DELAY_SECONDS", defaults.delay_seconds)),
            connect_timeout=float(env.get("LUPA_CONNECT_TIMEOUT", defaults.connect_timeout)),
            read_timeout=float(env.get("LUPA_READ_TIMEOUT", defaults.read_timeout)),
            max_bytes=int(env.get("LUPA_MAX_BYTES", defaults.max_bytes)),
            max_clicks=int(env.get("LUPA_MAX_CLICKS", defaults.max_clicks)),
            max_pages=int(env.get("LUPA_MAX_PAGES", defaults.max_pages)),
            contact_url=env.get("LUPA_CONTACT_URL", defaults.contact_url),
        )

    def as_dict(self) -> dict:
        return {f.name: (str(v) if isinstance(v, Path) else v)
                for f, v in zip(fields(self), asdict(self).values(), strict=True)}
