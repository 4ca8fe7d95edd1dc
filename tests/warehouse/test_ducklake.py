"""The DuckLake warehouse option, against the machine's PostgreSQL: the schema mirrors the
migrations, shards commit concurrently, a load publishes a run at once with the same rows a
DuckDB file gets, and analysts attach it from the DuckDB CLI."""

from __future__ import annotations

import re
import secrets
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from warehouse_helpers import obligation_rows, run_dict, snapshot, subject_rows, write_shard

from lupa.cluster import ADMIN_DSN, create_database, drop_database
from warehouse.compare import run_differences
from warehouse.lake import DATA_PATH_VARIABLE, extension_files, migrate_lake
from warehouse.loader import commit_shard, load_run
from warehouse.schema import (
    MigrationError,
    NotMigratedError,
    connect,
    discover_migrations,
    schema_version,
)


def _admin(action, name: str) -> None:
    import psycopg

    try:
        action(ADMIN_DSN, name)
    except psycopg.OperationalError as exc:
        pytest.fail(f"PostgreSQL is not reachable at 127.0.0.1:5432 ({exc}); the README's "
                    "'Deployment and operations' section says how to start it")


@pytest.fixture
def lake(tmp_path, monkeypatch):
    """A new DuckLake: a PostgreSQL catalog database of its own (dropped afterwards) and a
    data folder."""
    name = f"lupa_lake_test_{secrets.token_hex(4)}"
    _admin(create_database, name)
    monkeypatch.setenv(DATA_PATH_VARIABLE, str(tmp_path / "lake-data"))
    yield f"ducklake:postgres:dbname={name} host=127.0.0.1 user=postgres"
    _admin(drop_database, name)


def _objects(con, kind: str) -> set[str]:
    sql = {"tables": "SELECT table_name FROM duckdb_tables() WHERE database_name = 'lupa'",
           "views": "SELECT view_name FROM duckdb_views() WHERE database_name = 'lupa'",
           "macros": "SELECT function_name FROM duckdb_functions() "
                     "WHERE database_name = 'lupa'"}[kind]
    return {row[0] for row in con.execute(sql).fetchall()}


def test_a_new_lake_gets_the_whole_schema(lake, tmp_path):
    reference = connect(tmp_path / "file.duckdb")
    con = connect(lake)
    try:
        assert schema_version(con) == discover_migrations()[-1].version
        for kind in ("views", "macros"):
            assert _objects(con, kind) == _objects_of_file(reference, kind)
        tables = _objects(con, "tables")
        assert _objects_of_file(reference, "tables") <= tables
        assert {"staged_findings", "staged_fetches", "shard_commits"} <= tables
        assert migrate_lake(con) == []  # opening again migrates nothing
    finally:
        con.close()
        reference.close()


def _objects_of_file(con, kind: str) -> set[str]:
    sql = {"tables": "SELECT table_name FROM duckdb_tables() WHERE NOT internal",
           "views": "SELECT view_name FROM duckdb_views() WHERE NOT internal",
           "macros": "SELECT DISTINCT function_name FROM duckdb_functions() "
                     "WHERE database_name NOT IN ('system', 'temp') AND NOT internal"}[kind]
    return {row[0] for row in con.execute(sql).fetchall()}


def test_not_null_still_holds_in_the_lake(lake):
    import duckdb

    con = connect(lake)
    try:
        with pytest.raises(duckdb.ConstraintException):
            con.execute("INSERT INTO findings (finding_id) VALUES ('x')")
    finally:
        con.close()


def test_a_load_gives_the_same_rows_as_a_duckdb_file(lake, tmp_path):
    dirs = [write_shard(tmp_path / "r1" / "shard-0", "r1", ["100", "200"]),
            write_shard(tmp_path / "r1" / "shard-1", "r1", ["300"])]
    file_db = tmp_path / "file.duckdb"
    for target in (file_db, lake):
        report = load_run(target, run_dict("r1"), dirs, subject_rows(), obligation_rows())
        assert report.counts["findings"] > 0
    assert snapshot(lake, "r1") == snapshot(file_db, "r1")
    assert run_differences(file_db, "r1", lake, "r1") == []


def test_shards_commit_concurrently_and_appear_only_when_the_run_is_loaded(lake, tmp_path):
    connect(lake).close()  # the schema exists before the workers start
    dirs = [write_shard(tmp_path / "r2" / f"shard-{i}", "r2", [sid])
            for i, sid in enumerate(["100", "200", "300"])]
    reports, errors = [], []

    def commit(shard: Path) -> None:
        try:
            reports.append(commit_shard(lake, "r2", shard))
        except Exception as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=commit, args=(d,)) for d in dirs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert errors == [] and len(reports) == 3
    con = connect(lake, read_only=True)
    try:
        assert con.execute("SELECT count(*) FROM findings WHERE run_id = 'r2'").fetchone() == (0,)
        assert con.execute("SELECT count(*) FROM shard_commits").fetchone() == (3,)
    finally:
        con.close()

    report = load_run(lake, run_dict("r2"), dirs, subject_rows(), obligation_rows())
    file_db = tmp_path / "file.duckdb"
    load_run(file_db, run_dict("r2"), dirs, subject_rows(), obligation_rows())
    assert snapshot(lake, "r2") == snapshot(file_db, "r2")
    assert report.files_read["findings"] == 0  # read from the lake, not from the shard files
    con = connect(lake, read_only=True)
    try:
        staged = sum(con.execute(f"SELECT count(*) FROM staged_{t}").fetchone()[0]
                     for t in ("fetches", "findings", "resources"))
        assert staged == 0
        assert con.execute("SELECT count(*) FROM shard_commits").fetchone() == (0,)
    finally:
        con.close()


def test_a_retried_shard_commit_replaces_its_rows(lake, tmp_path):
    shard = write_shard(tmp_path / "r3" / "shard-0", "r3", ["100"])
    first = commit_shard(lake, "r3", shard)
    write_shard(shard, "r3", ["100"], note=" (reintento)")
    second = commit_shard(lake, "r3", shard)
    assert first.rows == second.rows
    con = connect(lake, read_only=True)
    try:  # the second commit replaced the first one's staged rows
        staged = con.execute("SELECT count(*) FROM staged_findings WHERE run_id = 'r3'")
        assert staged.fetchone()[0] == first.rows["findings"]
    finally:
        con.close()
    load_run(lake, run_dict("r3"), [shard], subject_rows(), obligation_rows())
    con = connect(lake, read_only=True)
    try:
        messages = {row[0] for row in con.execute(
            "SELECT message FROM findings WHERE run_id = 'r3'").fetchall()}
    finally:
        con.close()
    assert messages and all(m.endswith("(reintento)") for m in messages)


def _lake_at_current_version(lake: str, tmp_path: Path) -> tuple[Path, int]:
    """A copy of the migrations folder, the lake migrated with it, and the next version."""
    migrations = tmp_path / "migrations"
    migrations.mkdir()
    for migration in discover_migrations():
        shutil.copy(migration.path, migrations / migration.path.name)
    connect(lake, migrations_dir=migrations).close()
    return migrations, discover_migrations()[-1].version + 1


def test_a_lake_is_upgraded_by_an_additive_migration(lake, tmp_path):
    migrations, version = _lake_at_current_version(lake, tmp_path)
    (migrations / f"{version:04d}_reviewers.sql").write_text(
        "ALTER TABLE findings ADD COLUMN reviewer VARCHAR;\n"
        "CREATE TABLE reviews (finding_id VARCHAR NOT NULL, verdict VARCHAR);\n"
        "CREATE VIEW v_reviews AS SELECT finding_id, verdict FROM reviews;\n")
    with pytest.raises(NotMigratedError):
        connect(lake, read_only=True, migrations_dir=migrations)
    con = connect(lake, migrations_dir=migrations)
    try:
        assert schema_version(con) == version
        columns = {r[0] for r in con.execute("DESCRIBE findings").fetchall()}
        assert "reviewer" in columns
        assert con.execute("SELECT count(*) FROM v_reviews").fetchone() == (0,)
    finally:
        con.close()


def test_a_migration_that_rewrites_data_is_refused_on_an_existing_lake(lake, tmp_path):
    migrations, version = _lake_at_current_version(lake, tmp_path)
    (migrations / f"{version:04d}_backfill.sql").write_text(
        "UPDATE findings SET severity = 'low' WHERE code = 'HARD_TO_FIND';\n")
    with pytest.raises(MigrationError, match="rewrites data"):
        connect(lake, migrations_dir=migrations)
    con = connect(lake, read_only=True)  # still at the previous version, still usable
    con.close()


def test_analysts_attach_the_lake_from_the_duckdb_cli(lake, tmp_path):
    dirs = [write_shard(tmp_path / "r4" / "shard-0", "r4", ["100"])]
    load_run(lake, run_dict("r4"), dirs, subject_rows(), obligation_rows())
    cli = Path(sys.executable).parent / "duckdb"
    loads = "".join(f"LOAD '{path}';" for path in extension_files())
    done = subprocess.run(
        [str(cli), "-csv", "-c", f"{loads} ATTACH '{lake}' AS lupa (READ_ONLY); USE lupa; "
                                 "SELECT run_id, count(*) FROM findings GROUP BY 1;"],
        capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1].startswith("r4,")


def test_the_readmes_extension_paths_are_the_ones_installed():
    repo = Path(__file__).resolve().parents[2]
    paths = re.findall(r"LOAD '(\.venv/[^']+ducklake[^']*|\.venv/[^']+postgres_scanner[^']*)'",
                       (repo / "README.md").read_text())
    assert len(paths) == 2
    assert [(repo / p).resolve() for p in paths] == [p.resolve() for p in extension_files()]
