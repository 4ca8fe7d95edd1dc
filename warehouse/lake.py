"""The warehouse in DuckLake: a catalog in PostgreSQL and Parquet data files, so that
harvest shards on different workers can commit at the same time.

A DuckLake warehouse is named by DuckDB's own ATTACH string,
``ducklake:postgres:dbname=lupa_lake host=db user=lupa``, wherever a warehouse file path is
accepted (``LUPA_WAREHOUSE``, the DAG's ``warehouse`` param, ``--warehouse``). Its data files
go to ``LUPA_LAKE_DATA_PATH`` (a folder or an object-store URL), which is needed only when
the lake is created: DuckLake remembers it. The extensions come from the package registry
(``duckdb-extension-ducklake``, ``duckdb-extension-postgres-scanner``) and are loaded from
their files, so no download happens at run time.

DuckLake has no PRIMARY KEY, UNIQUE or CHECK constraints, so the schema is not built by
running the migration files: they run on an in-memory DuckDB (the reference) and the lake
mirrors the result — tables with their columns, types and NOT NULLs, then the latest
definition of every view and macro — and records the same ``schema_migrations`` rows. An
upgrade adds new tables and columns and replaces views and macros; a pending migration that
rewrites data is refused on a lake that already holds a schema (it needs its own step).

Besides Lupa's tables the lake holds the shard staging tables (``staged_<table>`` and
``shard_commits``): each audit shard commits its rows there on its own worker
(``warehouse.loader.commit_shard``), and the run's load moves them into the tables analysts
read in one transaction, so a run still becomes visible at once.
"""

from __future__ import annotations

import os
import re
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from warehouse import shards
from warehouse.target import describe, sql_literal

CATALOG = "lupa"  # what the lake is attached as
DATA_PATH_VARIABLE = "LUPA_LAKE_DATA_PATH"
# Tables whose shard rows are staged in the lake before the load publishes them: a shard's
# tables but its subjects (read from the shard directories by the load).
STAGED_TABLES = tuple(t for t in shards.TABLES if t != "subjects")
# (name, type, nullable) as duckdb_columns() gives them
STAGING_COLUMNS = (("shard", "VARCHAR", False), ("_row", "BIGINT", False))
SHARD_COMMITS_COLUMNS = (("run_id", "VARCHAR", False), ("shard", "VARCHAR", False),
                         ("committed_at", "TIMESTAMP", False), ("rows", "BIGINT", False))
_DEFINITION_RE = re.compile(
    r"^\s*(CREATE(?:\s+OR\s+REPLACE)?|DROP)\s+(VIEW|MACRO|FUNCTION)\s+(?:IF\s+EXISTS\s+)?"
    r"([\w.\"]+)", re.IGNORECASE)
_SCHEMA_ONLY_RE = re.compile(
    r"^\s*(CREATE\s+TABLE\s+(?!.*\bAS\b)|ALTER\s+TABLE\s+\S+\s+ADD\s+COLUMN|"
    r"(CREATE(\s+OR\s+REPLACE)?|DROP)\s+(VIEW|MACRO|FUNCTION)|COMMENT\s+ON)",
    re.IGNORECASE | re.DOTALL)


def extension_file(module: str, name: str) -> Path:
    """The ``.duckdb_extension`` file inside a ``duckdb-extension-*`` registry package."""
    import importlib

    try:
        package = importlib.import_module(module)
    except ImportError as exc:
        raise RuntimeError(f"DuckLake needs the {module.replace('_', '-')} package "
                           "(in Lupa's lock file; run `make setup`)") from exc
    found = sorted(Path(package.__file__).parent.rglob(f"{name}.duckdb_extension"))
    if not found:
        raise RuntimeError(f"no {name}.duckdb_extension inside {package.__file__}")
    return found[-1]


def open_lake(target: str, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB with the lake attached as ``lupa`` and selected (``USE``)."""
    con = duckdb.connect()
    try:
        attach(con, target, CATALOG, read_only)
        con.execute(f"USE {CATALOG}")
    except BaseException:
        con.close()
        raise
    return con


def attach(con: duckdb.DuckDBPyConnection, target: str, alias: str,
           read_only: bool = False) -> None:
    """Attach the lake ``target`` to ``con`` as ``alias`` (loading the extensions from their
    registry packages; ``LUPA_LAKE_DATA_PATH`` when set)."""
    from warehouse.schema import WarehouseError

    options = []
    data_path = os.environ.get(DATA_PATH_VARIABLE, "").strip()
    if data_path:
        options.append(f"DATA_PATH '{sql_literal(_as_folder(data_path))}'")
    if read_only:
        options.append("READ_ONLY")
    suffix = f" ({', '.join(options)})" if options else ""
    try:
        for path in extension_files():
            con.execute(f"LOAD '{sql_literal(path)}'")
        con.execute(f"ATTACH '{sql_literal(target)}' AS {alias}{suffix}")
    except duckdb.Error as exc:
        raise WarehouseError(f"cannot attach the DuckLake warehouse {describe(target)}: {exc}"
                             f" (a new lake needs {DATA_PATH_VARIABLE})") from exc


def extension_files() -> list[Path]:
    """The postgres and ducklake extension files, in the order they must be loaded."""
    return [extension_file("duckdb_extension_postgres_scanner", "postgres_scanner"),
            extension_file("duckdb_extension_ducklake", "ducklake")]


def migrate_lake(con: duckdb.DuckDBPyConnection, directory: Path | None = None) -> list:
    """Bring the lake's schema to the migrations' (see the module docstring); return the
    migrations newly recorded. One transaction: a failure leaves the lake as it was."""
    from warehouse.schema import (
        MigrationError,
        discover_migrations,
        migrate,
        pending_migrations,
    )

    known = discover_migrations(directory)
    pending = pending_migrations(con, directory)  # checks the applied ones first
    if not pending:
        return []
    if len(pending) < len(known):  # the lake has a schema: only additive steps are safe
        for migration in pending:
            _refuse_data_rewrites(migration)
    reference = duckdb.connect()
    try:
        migrate(reference, directory)
        con.begin()
        try:
            _mirror_tables(_with_staging(_columns(reference, "memory")), con)
            _replay_definitions(known, con)
            now = datetime.now(UTC).replace(tzinfo=None)
            for migration in pending:
                con.execute("INSERT INTO schema_migrations (version, name, applied_at, "
                            "checksum) VALUES (?, ?, ?, ?)",
                            [migration.version, migration.name, now, migration.checksum])
            con.commit()
        except duckdb.Error as exc:
            con.rollback()
            raise MigrationError(f"migrating the DuckLake warehouse to version "
                                 f"{pending[-1].version} failed and was rolled back: {exc}"
                                 ) from exc
    finally:
        reference.close()
    return pending


def _refuse_data_rewrites(migration) -> None:
    from warehouse.schema import MigrationError

    for statement in duckdb.extract_statements(migration.sql()):
        text = _without_comments(statement.query)
        if text and not _SCHEMA_ONLY_RE.match(text):
            raise MigrationError(
                f"migration {migration.label} rewrites data ({text[:60]!r}…); a DuckLake "
                "warehouse with a schema cannot apply it automatically: export the lake, "
                "create a new one at this version and reload the runs")


def _columns(con: duckdb.DuckDBPyConnection, database: str) -> dict[str, list[tuple]]:
    tables: dict[str, list[tuple]] = {}
    for table, column, kind, nullable in con.execute(
            "SELECT c.table_name, c.column_name, c.data_type, c.is_nullable "
            "FROM duckdb_columns() AS c JOIN duckdb_tables() AS t USING (database_name, "
            "schema_name, table_name) WHERE c.database_name = ? AND c.schema_name = 'main' "
            "ORDER BY c.table_name, c.column_index", [database]).fetchall():
        tables.setdefault(table, []).append((column, kind, nullable))
    return tables


def _with_staging(tables: dict[str, list[tuple]]) -> dict[str, list[tuple]]:
    """Lupa's tables plus the lake's own: a staging table per staged table, and the log of
    the shards committed."""
    return {**tables,
            **{f"staged_{t}": tables[t] + list(STAGING_COLUMNS) for t in STAGED_TABLES},
            "shard_commits": list(SHARD_COMMITS_COLUMNS)}


def _mirror_tables(wanted: dict[str, list[tuple]], lake: duckdb.DuckDBPyConnection) -> None:
    """Create the tables the lake lacks and add the columns its tables lack."""
    from warehouse.schema import MigrationError

    present = _columns(lake, CATALOG)
    for table, columns in wanted.items():
        if table not in present:
            lake.execute(f"CREATE TABLE {table} ({_column_list(columns)})")
            continue
        have = {name: kind for name, kind, _ in present[table]}
        for name, kind, _ in columns:
            if name not in have:
                lake.execute(f'ALTER TABLE {table} ADD COLUMN "{name}" {kind}')
            elif have[name] != kind:
                raise MigrationError(f"{table}.{name} is {have[name]} in the lake but {kind} in "
                                     "the migrations; change it by hand")


def _column_list(columns: list[tuple]) -> str:
    return ", ".join(f'"{name}" {kind}{"" if nullable else " NOT NULL"}'
                     for name, kind, nullable in columns)


def _replay_definitions(migrations: list, lake: duckdb.DuckDBPyConnection) -> None:
    """The latest definition of every view and macro, in the order the migrations last
    (re)defined them; those a migration dropped are dropped."""
    latest: dict[tuple[str, str], tuple[str, str]] = {}
    for migration in migrations:
        for statement in duckdb.extract_statements(migration.sql()):
            text = _without_comments(statement.query)
            match = _DEFINITION_RE.match(text)
            if not match:
                continue
            verb, kind, name = match.group(1).upper(), match.group(2).upper(), match.group(3)
            key = ("MACRO" if kind == "FUNCTION" else kind, name.lower())
            latest.pop(key, None)  # re-insert: dict order = order of the last definition
            latest[key] = (verb, text)
    for (kind, name), (verb, text) in latest.items():
        if verb == "DROP":
            lake.execute(f"DROP {kind} IF EXISTS {name}")
        else:
            lake.execute(re.sub(r"^\s*CREATE(\s+OR\s+REPLACE)?", "CREATE OR REPLACE", text,
                                count=1, flags=re.IGNORECASE))


def _without_comments(sql: str) -> str:
    lines = [line for line in sql.strip().splitlines() if not line.lstrip().startswith("--")]
    return "\n".join(lines).strip()


def _as_folder(path: str) -> str:
    return path if path.endswith("/") else path + "/"
