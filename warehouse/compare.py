"""Do two runs say the same thing? Row-by-row comparison of what two runs loaded.

Two audits of the same portals, same day and same settings must agree on every finding,
check, resource, expectation and score, whichever machines ran them: this is how the
distributed deployment is checked against a single-machine run (``make test-distributed``),
and how an analyst checks that a re-run changed nothing. What legitimately differs between
two runs is left out: the run id and ids derived from it (``finding_id``), where the
evidence was archived, how long requests took, and every timestamp.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb

from warehouse.lake import attach
from warehouse.schema import connect
from warehouse.target import is_lake, sql_literal

COMPARED_TABLES: tuple[str, ...] = (
    "run_subjects",
    "registry_errors",
    "fetches",
    "obligation_checks",
    "resources",
    "findings",
    "expectation_results",
    "obligation_scores",
    "scores",
)
RUN_SPECIFIC_COLUMNS = frozenset({
    "run_id", "finding_id", "observed_run", "evidence_ref", "elapsed_ms",
})
_SAMPLE_ROWS = 5


@dataclass(frozen=True)
class TableDifference:
    table: str
    rows_a: int
    rows_b: int
    only_in_a: list[tuple]  # a sample
    only_in_b: list[tuple]
    count_only_in_a: int
    count_only_in_b: int

    def __str__(self) -> str:
        return (f"{self.table}: {self.rows_a} vs {self.rows_b} rows, {self.count_only_in_a} only "
                f"in the first (e.g. {self.only_in_a[:2]}), {self.count_only_in_b} only in the "
                f"second (e.g. {self.only_in_b[:2]})")


def compared_columns(con, table: str, database: str = "a") -> list[str]:
    """The columns of ``table`` that two runs of the same audit must agree on."""
    rows = con.execute(
        "SELECT column_name, data_type FROM duckdb_columns() "
        "WHERE database_name = ? AND schema_name = 'main' AND table_name = ? "
        "ORDER BY column_index", [database, table]).fetchall()
    return [name for name, kind in rows
            if name not in RUN_SPECIFIC_COLUMNS and not kind.startswith("TIMESTAMP")]


def run_differences(warehouse_a: Path | str, run_a: str, warehouse_b: Path | str, run_b: str,
                    tables: tuple[str, ...] = COMPARED_TABLES) -> list[TableDifference]:
    """The tables where run ``run_a`` of ``warehouse_a`` and ``run_b`` of ``warehouse_b``
    differ (empty when they agree on every compared row, duplicates counted). Either may be
    a DuckDB file or a DuckLake."""
    con = duckdb.connect()  # a scratch database: both warehouses are attached to it
    try:
        for alias, target in (("a", warehouse_a), ("b", warehouse_b)):
            connect(target, read_only=True).close()  # refuses an unmigrated warehouse clearly
            if is_lake(target):
                attach(con, str(target), alias, read_only=True)
            else:
                con.execute(f"ATTACH '{sql_literal(target)}' AS {alias} (READ_ONLY)")
        return [diff for table in tables
                if (diff := _table_difference(con, table, run_a, run_b)) is not None]
    finally:
        con.close()


def _table_difference(con, table: str, run_a: str, run_b: str) -> TableDifference | None:
    names = ", ".join(f'"{c}"' for c in compared_columns(con, table))
    side_a = f"SELECT {names} FROM a.main.{table} WHERE run_id = $run_a"
    side_b = f"SELECT {names} FROM b.main.{table} WHERE run_id = $run_b"
    runs = {"run_a": run_a, "run_b": run_b}

    def params(sql: str) -> dict[str, str]:  # DuckDB refuses parameters a query does not use
        return {name: value for name, value in runs.items() if f"${name}" in sql}

    def rows(sql: str) -> list[tuple]:
        return con.execute(sql, params(sql)).fetchall()

    def count(sql: str) -> int:
        return con.execute(f"SELECT count(*) FROM ({sql})", params(sql)).fetchone()[0]

    only_a_sql = f"{side_a} EXCEPT ALL {side_b}"
    only_b_sql = f"{side_b} EXCEPT ALL {side_a}"
    only_a, only_b = count(only_a_sql), count(only_b_sql)
    if not only_a and not only_b:
        return None
    return TableDifference(
        table=table, rows_a=count(side_a), rows_b=count(side_b),
        only_in_a=rows(f"{only_a_sql} LIMIT {_SAMPLE_ROWS}"),
        only_in_b=rows(f"{only_b_sql} LIMIT {_SAMPLE_ROWS}"),
        count_only_in_a=only_a, count_only_in_b=only_b)
