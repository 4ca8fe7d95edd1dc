"""Versioned schema migrations and the one way to open the warehouse.

Migrations are numbered SQL files in ``warehouse/migrations`` (``0001_initial.sql``, ...).
Each is applied in its own transaction and recorded in ``schema_migrations`` with a checksum
of its text, so that:

* an analyst's or a worker's copy of the code never silently runs against a database whose
  schema differs from what it was written for (edited migration → checksum error; database
  newer than the code → ``SchemaTooNewError``);
* a half-applied migration cannot exist (the transaction rolls back, nothing is recorded).

Migration files must not contain their own BEGIN/COMMIT. Released files are frozen: change the
schema with a new file. DuckDB cannot drop or alter CHECK constraints in place nor change the
type of a constrained column, so widening a vocabulary means rebuilding that table in the new
migration (CREATE new, INSERT SELECT, DROP old, RENAME).
"""

from __future__ import annotations

import contextlib
import hashlib
import re
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from warehouse.target import is_lake

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
_FILE_RE = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")
_MEMORY = ":memory:"


class WarehouseError(RuntimeError):
    """Base class of the warehouse's own errors."""


class MigrationError(WarehouseError):
    """The database schema and the migration files disagree, or a migration failed."""


class MigrationChecksumError(MigrationError):
    """An applied migration's file was edited after it was applied."""


class SchemaTooNewError(MigrationError):
    """The database was migrated by newer code than this one."""


class NotMigratedError(MigrationError):
    """A read-only open found a database that still needs migrations."""


class WarehouseLockedError(WarehouseError):
    """Another process holds the warehouse file (DuckDB allows one writer, or readers only)."""


@dataclass(frozen=True)
class Migration:
    """One migration file."""

    version: int
    name: str
    path: Path
    checksum: str

    @property
    def label(self) -> str:
        return self.path.name

    def sql(self) -> str:
        return self.path.read_text(encoding="utf-8")


@dataclass(frozen=True)
class AppliedMigration:
    """One row of ``schema_migrations``."""

    version: int
    name: str
    applied_at: datetime
    checksum: str


def file_checksum(path: Path) -> str:
    """SHA-256 of a migration's text with line endings normalised (a CRLF checkout of the
    repository must not look like an edited migration)."""
    text = path.read_bytes().replace(b"\r\n", b"\n")
    return hashlib.sha256(text).hexdigest()


def discover_migrations(directory: Path | None = None) -> list[Migration]:
    """Migration files in version order; a misnamed ``.sql`` file or a duplicated version is
    an error rather than something silently skipped."""
    directory = directory or MIGRATIONS_DIR
    found: dict[int, Migration] = {}
    for path in sorted(directory.glob("*.sql")):
        match = _FILE_RE.match(path.name)
        if not match:
            raise MigrationError(f"migration file {path} is not named NNNN_name.sql")
        version = int(match.group(1))
        if version in found:
            raise MigrationError(
                f"migration version {version} appears twice: "
                f"{found[version].path.name} and {path.name}"
            )
        found[version] = Migration(version, match.group(2), path, file_checksum(path))
    return [found[v] for v in sorted(found)]


def applied_migrations(con: duckdb.DuckDBPyConnection) -> dict[int, AppliedMigration]:
    """Rows of ``schema_migrations`` by version (empty when the table does not exist yet)."""
    if not _has_migrations_table(con):
        return {}
    rows = con.execute(
        "SELECT version, name, applied_at, checksum FROM schema_migrations ORDER BY version"
    ).fetchall()
    return {row[0]: AppliedMigration(*row) for row in rows}


def pending_migrations(
    con: duckdb.DuckDBPyConnection, directory: Path | None = None
) -> list[Migration]:
    """Migrations still to apply, after checking the applied ones still match their files."""
    known = discover_migrations(directory)
    applied = applied_migrations(con)
    _verify(known, applied)
    return [m for m in known if m.version not in applied]


def migrate(con: duckdb.DuckDBPyConnection, directory: Path | None = None) -> list[Migration]:
    """Apply pending migrations in order, one transaction each; return those applied.

    Re-running is a no-op. Raises ``MigrationChecksumError`` / ``SchemaTooNewError`` /
    ``MigrationError`` before touching anything when the database and files disagree.
    """
    pending = pending_migrations(con, directory)
    if not pending:
        return []
    con.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations ("
        " version INTEGER PRIMARY KEY, name VARCHAR NOT NULL,"
        " applied_at TIMESTAMP NOT NULL, checksum VARCHAR NOT NULL)"
    )
    for migration in pending:
        _apply(con, migration)
    return pending


def schema_version(con: duckdb.DuckDBPyConnection) -> int:
    """Highest applied migration version (0 for an empty database)."""
    return max(applied_migrations(con), default=0)


def connect(
    path: Path | str,
    read_only: bool = False,
    *,
    lock_timeout: float = 0.0,
    migrations_dir: Path | None = None,
) -> duckdb.DuckDBPyConnection:
    """Open the warehouse: writable opens migrate it, read-only opens require it migrated.

    The session time zone is set to UTC so that any timestamp arithmetic agrees with the
    stored (UTC) values. ``lock_timeout`` is how long to keep retrying while another process
    holds the file (an analyst's DuckDB shell holds it as long as it stays open).
    """
    target = str(path)
    if is_lake(target):
        from warehouse.lake import migrate_lake, open_lake
        from warehouse.target import describe

        con, label, apply = open_lake(target, read_only), describe(target), migrate_lake
    else:
        if target != _MEMORY:
            if read_only and not Path(target).exists():
                raise WarehouseError(f"warehouse {target} does not exist")
            if not read_only:
                Path(target).parent.mkdir(parents=True, exist_ok=True)
        con, label, apply = _open(target, read_only, lock_timeout), target, migrate
    try:
        con.execute("SET TimeZone = 'UTC'")
        if read_only:
            pending = pending_migrations(con, migrations_dir)
            if pending:
                raise NotMigratedError(
                    f"warehouse {label} needs migrations {[m.label for m in pending]}; "
                    "open it once writable (`lupa migrate`, or any Lupa load) to migrate it"
                )
        else:
            apply(con, migrations_dir)
    except BaseException:
        con.close()
        raise
    return con


def rollback(con: duckdb.DuckDBPyConnection) -> None:
    """Roll back the open transaction, if any: DuckDB has already ended a transaction whose
    COMMIT failed, and a second error there would hide the first."""
    with contextlib.suppress(duckdb.TransactionException):
        con.rollback()


def _open(target: str, read_only: bool, lock_timeout: float) -> duckdb.DuckDBPyConnection:
    """duckdb.connect, retrying while the file is locked by another process."""
    deadline = time.monotonic() + lock_timeout
    delay = 0.05
    while True:
        try:
            return duckdb.connect(target, read_only=read_only)
        except duckdb.IOException as exc:
            if "lock" not in str(exc).lower():
                raise
            if time.monotonic() >= deadline:
                raise WarehouseLockedError(
                    f"warehouse {target} is locked by another process (a DuckDB shell left "
                    f"open, or another load); waited {lock_timeout:g} s: {exc}"
                ) from exc
            time.sleep(min(delay, max(0.0, deadline - time.monotonic())))
            delay = min(delay * 2, 1.0)


def _has_migrations_table(con: duckdb.DuckDBPyConnection) -> bool:
    row = con.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE database_name = current_database()"
        " AND schema_name = 'main' AND table_name = 'schema_migrations'"
    ).fetchone()
    return bool(row and row[0])


def _verify(known: list[Migration], applied: dict[int, AppliedMigration]) -> None:
    """Refuse a database whose applied migrations do not match the files of this code."""
    by_version = {m.version: m for m in known}
    newest_known = max(by_version, default=0)
    unknown = sorted(v for v in applied if v not in by_version)
    too_new = [v for v in unknown if v > newest_known]
    if too_new:
        raise SchemaTooNewError(
            f"database schema is at version {max(too_new)} ({applied[max(too_new)].name}) but "
            f"this code only knows up to version {newest_known}: upgrade Lupa to open it"
        )
    if unknown:
        raise MigrationError(f"applied migrations {unknown} have no file in this code")
    for version, row in applied.items():
        migration = by_version[version]
        if row.checksum != migration.checksum:
            raise MigrationChecksumError(
                f"migration {migration.label} was edited after it was applied "
                f"(recorded checksum {row.checksum[:12]}, file {migration.checksum[:12]}); "
                "restore the file and put the change in a new migration"
            )
    newest_applied = max(applied, default=0)
    skipped = [m.label for m in known if m.version < newest_applied and m.version not in applied]
    if skipped:
        raise MigrationError(
            f"migrations {skipped} are older than applied version {newest_applied} but were "
            "never applied; renumber them after the newest applied migration"
        )


def _apply(con: duckdb.DuckDBPyConnection, migration: Migration) -> None:
    applied_at = datetime.now(UTC).replace(tzinfo=None)
    con.begin()
    try:
        con.execute(migration.sql())
        con.execute(
            "INSERT INTO schema_migrations (version, name, applied_at, checksum)"
            " VALUES (?, ?, ?, ?)",
            [migration.version, migration.name, applied_at, migration.checksum],
        )
        con.commit()
    except duckdb.Error as exc:
        rollback(con)
        raise MigrationError(
            f"migration {migration.label} failed and was rolled back: {exc}"
        ) from exc
