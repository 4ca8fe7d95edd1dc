"""Versioned migrations: applied in order, recorded, verified against their files."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest

from audit.findings import SEVERITY, Code
from warehouse import shards
from warehouse.schema import (
    MIGRATIONS_DIR,
    MigrationChecksumError,
    MigrationError,
    NotMigratedError,
    SchemaTooNewError,
    WarehouseError,
    applied_migrations,
    connect,
    discover_migrations,
    file_checksum,
    migrate,
    schema_version,
)

TABLES = {
    "runs",
    "subjects",
    "run_subjects",
    "obligations",
    "fetches",
    "obligation_checks",
    "resources",
    "findings",
    "expectation_results",
    "scores",
    "registry_errors",
    "schema_migrations",
}
VIEWS = {"latest_run", "v_obligation_status", "v_findings"}


@pytest.fixture
def migrations_copy(tmp_path: Path) -> Path:
    target = tmp_path / "migrations"
    shutil.copytree(MIGRATIONS_DIR, target)
    return target


def test_migrations_apply_from_empty_and_are_recorded(db_path: Path) -> None:
    con = connect(db_path)
    try:
        tables = {r[0] for r in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
        views = {
            r[0]
            for r in con.execute(
                "SELECT view_name FROM duckdb_views() WHERE NOT internal"
            ).fetchall()
        }
        applied = applied_migrations(con)
    finally:
        con.close()
    assert tables >= TABLES
    assert views >= VIEWS
    known = discover_migrations()
    assert [m.version for m in known][0] == 1
    assert sorted(applied) == [m.version for m in known]
    assert applied[1].name == "initial"
    assert applied[1].checksum == file_checksum(MIGRATIONS_DIR / "0001_initial.sql")


def test_rerunning_migrations_is_a_noop(db_path: Path) -> None:
    connect(db_path).close()
    con = connect(db_path)
    try:
        before = applied_migrations(con)
        assert migrate(con) == []
        assert applied_migrations(con) == before
    finally:
        con.close()


def test_new_migration_is_applied_and_returned(db_path: Path, migrations_copy: Path) -> None:
    connect(db_path, migrations_dir=migrations_copy).close()
    latest = len(discover_migrations(migrations_copy))
    name = f"{latest + 1:04d}_add_note.sql"
    (migrations_copy / name).write_text("ALTER TABLE runs ADD COLUMN operator_note VARCHAR;\n")
    con = duckdb.connect(str(db_path))
    try:
        applied = migrate(con, migrations_copy)
        assert [m.label for m in applied] == [name]
        assert schema_version(con) == latest + 1
        con.execute("SELECT operator_note FROM runs").fetchall()
    finally:
        con.close()


def test_checksum_tamper_is_detected(db_path: Path, migrations_copy: Path) -> None:
    connect(db_path, migrations_dir=migrations_copy).close()
    initial = migrations_copy / "0001_initial.sql"
    initial.write_text(initial.read_text() + "\nCREATE TABLE sneaky (x INTEGER);\n")
    with pytest.raises(MigrationChecksumError, match="0001_initial.sql was edited"):
        connect(db_path, migrations_dir=migrations_copy)
    with pytest.raises(MigrationChecksumError):
        connect(db_path, read_only=True, migrations_dir=migrations_copy)


def test_crlf_checkout_is_not_a_tamper(db_path: Path, migrations_copy: Path) -> None:
    connect(db_path, migrations_dir=migrations_copy).close()
    initial = migrations_copy / "0001_initial.sql"
    initial.write_bytes(initial.read_bytes().replace(b"\n", b"\r\n"))
    connect(db_path, migrations_dir=migrations_copy).close()


def test_database_newer_than_code_is_refused(db_path: Path) -> None:
    connect(db_path).close()
    con = duckdb.connect(str(db_path))
    con.execute("INSERT INTO schema_migrations VALUES (9999, 'from_the_future', now(), 'x')")
    con.close()
    with pytest.raises(SchemaTooNewError, match="version 9999"):
        connect(db_path)
    with pytest.raises(SchemaTooNewError):
        connect(db_path, read_only=True)


def test_failed_migration_rolls_back(db_path: Path, migrations_copy: Path) -> None:
    connect(db_path, migrations_dir=migrations_copy).close()
    latest = len(discover_migrations(migrations_copy))
    broken = f"{latest + 1:04d}_broken.sql"
    (migrations_copy / broken).write_text(
        "CREATE TABLE half_done (x INTEGER);\nSELECT * FROM no_such_table;\n"
    )
    with pytest.raises(MigrationError, match=f"{broken} failed"):
        connect(db_path, migrations_dir=migrations_copy)
    con = duckdb.connect(str(db_path))
    try:
        assert schema_version(con) == latest
        names = {r[0] for r in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
        assert "half_done" not in names
    finally:
        con.close()


def test_misnamed_or_duplicate_migration_files_are_rejected(migrations_copy: Path) -> None:
    (migrations_copy / "2_oops.sql").write_text("SELECT 1;")
    with pytest.raises(MigrationError, match="NNNN_name.sql"):
        discover_migrations(migrations_copy)
    (migrations_copy / "2_oops.sql").unlink()
    (migrations_copy / "0001_again.sql").write_text("SELECT 1;")
    with pytest.raises(MigrationError, match="appears twice"):
        discover_migrations(migrations_copy)


def test_read_only_open_requires_a_migrated_database(tmp_path: Path) -> None:
    with pytest.raises(WarehouseError, match="does not exist"):
        connect(tmp_path / "absent.duckdb", read_only=True)
    empty = tmp_path / "empty.duckdb"
    duckdb.connect(str(empty)).close()
    with pytest.raises(NotMigratedError, match="0001_initial.sql"):
        connect(empty, read_only=True)
    connect(empty).close()
    con = connect(empty, read_only=True)
    try:
        assert con.execute("SELECT count(*) FROM findings").fetchone() == (0,)
    finally:
        con.close()


def test_shard_schemas_match_the_tables() -> None:
    con = connect(":memory:")
    try:
        for table, spec in shards.SCHEMAS.items():
            described = {r[0]: r[1] for r in con.execute(f"DESCRIBE {table}").fetchall()}
            assert {c.name: c.duckdb_type for c in spec}.items() <= described.items(), table
            extra = set(described) - {c.name for c in spec}
            assert extra == (
                {"first_seen_run", "last_seen_run"} if table == "subjects" else set()
            ), table
    finally:
        con.close()


def test_status_check_rejects_an_unknown_status() -> None:
    con = connect(":memory:")
    try:
        insert = (
            "INSERT INTO obligation_checks (run_id, subject_id, obligation_id, status) "
            "VALUES ('r', 's', '70-I', ?)"
        )
        con.execute(insert, ["present"])
        with pytest.raises(duckdb.ConstraintException, match="CHECK constraint"):
            con.execute(insert.replace("'70-I'", "'70-II'"), ["gone"])
    finally:
        con.close()


def test_every_finding_code_and_severity_is_accepted() -> None:
    con = connect(":memory:")
    try:
        for index, code in enumerate(Code):
            con.execute(
                "INSERT INTO findings VALUES (?, 'r', 's', NULL, ?, ?, 'm', NULL)",
                [str(index), code.value, SEVERITY[code].value],
            )
        with pytest.raises(duckdb.ConstraintException):
            con.execute(
                "INSERT INTO findings VALUES ('x', 'r', 's', NULL, 'OBLIGATION_MISING', 'high', "
                "'m', NULL)"
            )
        with pytest.raises(duckdb.ConstraintException):
            con.execute(
                "INSERT INTO findings VALUES ('y', 'r', 's', NULL, 'LINK_BROKEN', "
                "'terrible', 'm', NULL)"
            )
    finally:
        con.close()


def test_findings_keep_their_rows_when_the_key_index_goes(db_path: Path,
                                                          migrations_copy: Path) -> None:
    """0007 rebuilds findings without the PRIMARY KEY: a warehouse made before it keeps every
    finding, the vocabulary CHECKs and the views that read findings."""
    (migrations_copy / "0007_findings_without_index.sql").unlink()
    con = connect(db_path, migrations_dir=migrations_copy)
    con.execute("INSERT INTO findings VALUES ('a', 'r1', 's', NULL, 'LINK_BROKEN', 'high', "
                "'m', NULL), ('b', 'r1', 's', '70-I', 'OUTDATED', 'medium', 'm', 'http://x')")
    con.close()
    con = connect(db_path)
    try:
        assert schema_version(con) == len(discover_migrations())
        assert con.execute("SELECT finding_id, code FROM findings ORDER BY 1").fetchall() == [
            ("a", "LINK_BROKEN"), ("b", "OUTDATED")]
        kinds = {r[0] for r in con.execute("SELECT constraint_type FROM duckdb_constraints() "
                                           "WHERE table_name = 'findings'").fetchall()}
        assert "PRIMARY KEY" not in kinds and "CHECK" in kinds
        con.execute("SELECT count(*) FROM v_findings").fetchone()
        with pytest.raises(duckdb.ConstraintException):
            con.execute("INSERT INTO findings VALUES (NULL, 'r', 's', NULL, 'LINK_BROKEN', "
                        "'high', 'm', NULL)")
    finally:
        con.close()
