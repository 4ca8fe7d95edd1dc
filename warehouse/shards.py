"""Parquet shards: how parallel tasks hand their rows to the one warehouse writer.

DuckDB allows a single writing process per database file, so harvest and audit tasks never
touch the warehouse: each writes one Parquet file per table into its own shard directory
(``<shard_dir>/<table>.parquet``) and the load task merges them (``warehouse.loader``).

Every table has an explicit column list here whose types match the DuckDB tables created by
the migrations (a test keeps the two in step). Rows are validated before anything is written,
so a wrong type is reported by the task that produced it (table, row index and column) instead
of surfacing later as a failed load. Files are written under a temporary name and renamed, so
a reader never sees half a file, even when a task is killed mid-write.

All timestamps are UTC: aware datetimes are converted, naive ones are taken as UTC.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from enum import Enum
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

# kind -> (Arrow type used in shard files, DuckDB column type in the warehouse)
KINDS: dict[str, tuple[pa.DataType, str]] = {
    "varchar": (pa.string(), "VARCHAR"),
    "integer": (pa.int32(), "INTEGER"),
    "bigint": (pa.int64(), "BIGINT"),
    "double": (pa.float64(), "DOUBLE"),
    "boolean": (pa.bool_(), "BOOLEAN"),
    "date": (pa.date32(), "DATE"),
    "timestamp": (pa.timestamp("us"), "TIMESTAMP"),
    "varchar[]": (pa.list_(pa.string()), "VARCHAR[]"),
    "integer[]": (pa.list_(pa.int32()), "INTEGER[]"),
    "json": (pa.string(), "JSON"),
}

_INT32 = (-(2**31), 2**31 - 1)
_INT64 = (-(2**63), 2**63 - 1)


@dataclass(frozen=True)
class Column:
    """One column of a warehouse table: name, kind (a key of ``KINDS``), NOT NULL or not."""

    name: str
    kind: str
    required: bool = False

    @property
    def arrow_type(self) -> pa.DataType:
        return KINDS[self.kind][0]

    @property
    def duckdb_type(self) -> str:
        return KINDS[self.kind][1]


def _cols(spec: str) -> tuple[Column, ...]:
    """Parse a compact ``name:kind[!]`` list (``!`` = required) so table specs stay readable."""
    columns = []
    for item in spec.split():
        name, kind = item.split(":")
        required = kind.endswith("!")
        columns.append(Column(name, kind.rstrip("!"), required))
    return tuple(columns)


# Column specs of every table the warehouse accepts rows for. Run-scoped tables match their
# DuckDB table exactly; ``subjects`` omits first_seen_run/last_seen_run, which the loader
# maintains. ``runs`` and ``obligations`` are validated here but written only by the loader.
SCHEMAS: dict[str, tuple[Column, ...]] = {
    "subjects": _cols(
        "subject_id:varchar! name:varchar! acronym:varchar level:varchar! state:varchar "
        "subject_type:varchar! portal_url:varchar! transparency_url:varchar"
    ),
    "fetches": _cols(
        "run_id:varchar! subject_id:varchar! url:varchar! final_url:varchar "
        "status_code:integer content_type:varchar declared_type:varchar bytes:bigint "
        "sha256:varchar elapsed_ms:bigint fetched_at:timestamp redirects:integer "
        "error:varchar error_detail:varchar evidence_ref:varchar depth:integer purpose:varchar "
        "etag:varchar last_modified:varchar downloaded_bytes:bigint not_modified:boolean "
        "observed_run:varchar"
    ),
    "obligation_checks": _cols(
        "run_id:varchar! subject_id:varchar! obligation_id:varchar! status:varchar! "
        "evidence_url:varchar depth:integer via:varchar note:varchar "
        "latest_period_end:date due_period_end:date periods_behind:integer "
        "missing_years:integer[]"
    ),
    "resources": _cols(
        "run_id:varchar! subject_id:varchar! obligation_id:varchar url:varchar! "
        "detected_format:varchar stars:integer period_end:date updated_at:date rows:bigint "
        "bytes:bigint sha256:varchar status_code:integer depth:integer evidence_ref:varchar "
        "kind:varchar format_id:varchar format_score:double observed_run:varchar"
    ),
    "findings": _cols(
        "finding_id:varchar! run_id:varchar! subject_id:varchar! obligation_id:varchar "
        "code:varchar! severity:varchar! message:varchar! evidence_url:varchar"
    ),
    "expectation_results": _cols(
        "run_id:varchar! subject_id:varchar! obligation_id:varchar resource_url:varchar! "
        "suite:varchar! expectation:varchar! column_name:varchar success:boolean! "
        "unexpected_percent:double details:varchar observed_run:varchar"
    ),
    "registry_errors": _cols(
        "run_id:varchar! line:integer column_name:varchar value:varchar message:varchar!"
    ),
    "obligations": _cols(
        "law:varchar! obligation_id:varchar! article:integer! fraction:varchar "
        "subformat:varchar title:varchar! applies_to:varchar[] levels:varchar[] "
        "name_pattern:varchar update_period:varchar update_period_text:varchar "
        "conservation_period:varchar verified:boolean keywords:varchar[]"
    ),
    "runs": _cols(
        "run_id:varchar! started_at:timestamp finished_at:timestamp status:varchar "
        "as_of:date law:varchar registry:varchar subjects_total:integer "
        "subjects_audited:integer registry_errors:integer params:json loaded_at:timestamp "
        "error:varchar"
    ),
}

# Tables a harvest/audit shard contributes, one ``<table>.parquet`` each.
TABLES: tuple[str, ...] = (
    "subjects",
    "fetches",
    "obligation_checks",
    "resources",
    "findings",
    "expectation_results",
)
# Files ``write_table`` accepts: the shard tables plus the run's registry errors (written once
# per run by the task that parses the registry, into any directory handed to the loader).
SHARD_FILES: tuple[str, ...] = (*TABLES, "registry_errors")

# Identity of a row within one run: the loader keeps one row per key (the last one written,
# in shard order) so a shard retried into a second directory does not double-count.
KEYS: dict[str, tuple[str, ...]] = {
    "subjects": ("subject_id",),
    "fetches": ("subject_id", "url", "purpose"),
    "obligation_checks": ("subject_id", "obligation_id"),
    "resources": ("subject_id", "obligation_id", "url"),
    "findings": ("finding_id",),
    "expectation_results": (
        "subject_id",
        "obligation_id",
        "resource_url",
        "suite",
        "expectation",
        "column_name",
    ),
    "registry_errors": ("line", "column_name", "value", "message"),
    "obligations": ("law", "obligation_id"),
}


def columns(table: str) -> tuple[Column, ...]:
    """The column spec of ``table`` (ValueError for a table the warehouse does not know)."""
    try:
        return SCHEMAS[table]
    except KeyError:
        raise ValueError(f"unknown warehouse table {table!r}; known: {sorted(SCHEMAS)}") from None


def arrow_schema(table: str) -> pa.Schema:
    """The Arrow schema shard files of ``table`` are written with."""
    return pa.schema(
        [pa.field(c.name, c.arrow_type, nullable=not c.required) for c in columns(table)]
    )


def to_arrow(table: str, rows: Iterable[Mapping[str, Any]]) -> pa.Table:
    """Validate ``rows`` against the table's spec and build an Arrow table with its schema.

    Raises ValueError naming the table, the row index and the column for an unknown column,
    a missing required value or a value of the wrong type.
    """
    spec = columns(table)
    by_name = {c.name: c for c in spec}
    values: dict[str, list[Any]] = {c.name: [] for c in spec}
    for index, row in enumerate(rows):
        if not isinstance(row, Mapping):
            raise ValueError(f"{table}: row {index}: expected a mapping, got {type(row).__name__}")
        for name in row:
            if name not in by_name:
                raise ValueError(f"{table}: row {index}: unknown column {name!r}")
        for column in spec:
            value = row.get(column.name)
            if value is None:
                if column.required:
                    raise ValueError(f"{table}: row {index}: column {column.name!r} is required")
                values[column.name].append(None)
                continue
            try:
                values[column.name].append(_normalise(column.kind, value))
            except (TypeError, ValueError) as exc:
                raise ValueError(f"{table}: row {index}: column {column.name!r}: {exc}") from None
    schema = arrow_schema(table)
    arrays = [pa.array(values[f.name], type=f.type) for f in schema]
    return pa.Table.from_arrays(arrays, schema=schema)


def write_table(shard_dir: Path | str, table: str, rows: Sequence[Mapping[str, Any]]) -> Path:
    """Write ``<shard_dir>/<table>.parquet`` atomically and return its path.

    An empty ``rows`` still writes a file with the schema, so the loader can tell "this shard
    produced no findings" from "this shard never finished" (a missing file).
    """
    if table not in SHARD_FILES:
        raise ValueError(f"{table!r} is not a shard table; shard tables: {list(SHARD_FILES)}")
    data = to_arrow(table, rows)
    directory = Path(shard_dir)
    directory.mkdir(parents=True, exist_ok=True)
    target = directory / f"{table}.parquet"
    temporary = directory / f".{table}.parquet.{os.getpid()}.{uuid.uuid4().hex}.tmp"
    try:
        with open(temporary, "wb") as handle:
            pq.write_table(data, handle, compression="zstd")
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, target)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return target


def read_table(shard_dir: Path | str, table: str) -> list[dict[str, Any]]:
    """Rows of ``<shard_dir>/<table>.parquet`` as dicts (timestamps come back naive UTC)."""
    return pq.read_table(Path(shard_dir) / f"{table}.parquet").to_pylist()


def _normalise(kind: str, value: Any) -> Any:
    """Check one non-null value against a column kind and return what Arrow should store."""
    if isinstance(value, Enum):
        value = value.value
    if kind == "varchar":
        return _expect(value, str, "a string")
    if kind in ("integer", "bigint"):
        if isinstance(value, bool) or not isinstance(value, int):
            raise TypeError(f"expected an integer, got {_describe(value)}")
        low, high = _INT32 if kind == "integer" else _INT64
        if not low <= value <= high:
            raise ValueError(f"{value} is out of range for {kind}")
        return value
    if kind == "double":
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise TypeError(f"expected a number, got {_describe(value)}")
        return float(value)
    if kind == "boolean":
        return _expect(value, bool, "a boolean")
    if kind == "date":
        return _as_date(value)
    if kind == "timestamp":
        return _as_utc_naive(value)
    if kind == "varchar[]":
        return _as_string_list(value)
    if kind == "integer[]":
        if not isinstance(value, list | tuple):
            raise TypeError(f"expected a list of integers, got {_describe(value)}")
        return [_normalise("integer", item) for item in value]
    if kind == "json":
        return _as_json(value)
    raise AssertionError(f"unhandled column kind {kind}")


def _expect(value: Any, kind: type, label: str) -> Any:
    if not isinstance(value, kind):
        raise TypeError(f"expected {label}, got {_describe(value)}")
    return value


def _describe(value: Any) -> str:
    return f"{type(value).__name__} {value!r:.60}"


def _as_date(value: Any) -> date:
    """A date, or an ISO ``YYYY-MM-DD`` string (as found in JSON harvest files)."""
    if isinstance(value, datetime):
        raise TypeError(f"expected a date, got a datetime {value!r:.60}")
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        return date.fromisoformat(value)
    raise TypeError(f"expected a date, got {_describe(value)}")


def _as_utc_naive(value: Any) -> datetime:
    """The warehouse stores timestamps as naive UTC: convert aware values, keep naive ones."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if not isinstance(value, datetime):
        raise TypeError(f"expected a datetime, got {_describe(value)}")
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return value


def _as_string_list(value: Any) -> list[str]:
    """Lists, tuples and sets of strings; sets are sorted so the stored value is stable."""
    if isinstance(value, str | bytes) or not isinstance(value, list | tuple | set | frozenset):
        raise TypeError(f"expected a list of strings, got {_describe(value)}")
    items = [item.value if isinstance(item, Enum) else item for item in value]
    if not all(isinstance(item, str) for item in items):
        raise TypeError(f"expected a list of strings, got {value!r:.60}")
    return sorted(items) if isinstance(value, set | frozenset) else items


def _as_json(value: Any) -> str:
    """JSON text: dicts/lists are serialised with sorted keys, strings must already parse."""
    if isinstance(value, str):
        json.loads(value)
        return value
    if isinstance(value, dict | list):
        return json.dumps(value, sort_keys=True, ensure_ascii=False, default=str)
    raise TypeError(f"expected JSON text or a dict/list, got {_describe(value)}")
