"""What names a warehouse: a DuckDB file path (the default) or a DuckLake connection string
(``ducklake:postgres:dbname=… host=…``, see ``warehouse.lake``). Import-light: no DuckDB."""

from __future__ import annotations

import re
from pathlib import Path

LAKE_PREFIX = "ducklake:"


def is_lake(target: str | Path) -> bool:
    return str(target).startswith(LAKE_PREFIX)


def resolve_target(target: str | Path) -> str:
    """A warehouse as the tasks pass it around: an absolute file path, or a DuckLake
    connection string unchanged."""
    if is_lake(target):
        return str(target)
    return str(Path(target).expanduser().resolve())


def target_exists(target: str | Path) -> bool:
    """Whether there is a warehouse to read (a DuckLake answers when it is attached)."""
    return is_lake(target) or Path(target).exists()


def describe(target: str | Path) -> str:
    """The target for messages and logs: a lake's connection string without its password."""
    return re.sub(r"password=\S+", "password=***", str(target))


def sql_literal(value: str | Path) -> str:
    """``value`` for inside a single-quoted SQL string (quotes doubled)."""
    return str(value).replace("'", "''")
