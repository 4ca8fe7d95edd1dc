"""What analysts rely on: the DuckDB shell opens the warehouse, the example queries run."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest
from warehouse_helpers import obligation_rows, run_dict, subject_rows, write_shard

from warehouse.loader import load_run, mark_run_failed
from warehouse.schema import WarehouseLockedError, connect

QUERIES = Path(__file__).parents[2] / "warehouse" / "queries"


def _duckdb_cli() -> str | None:
    beside_python = Path(sys.executable).with_name("duckdb")
    return str(beside_python) if beside_python.exists() else shutil.which("duckdb")


DUCKDB_CLI = _duckdb_cli()
needs_cli = pytest.mark.skipif(
    DUCKDB_CLI is None, reason="DuckDB CLI not installed (dev dependency duckdb-cli)"
)


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two loaded runs (r2 the latest) and one failed run; the tests only read it."""
    tmp_path = tmp_path_factory.mktemp("analysts")
    db_path = tmp_path / "lupa.duckdb"
    for day, run_id in ((1, "r1"), (2, "r2")):
        dirs = [
            write_shard(tmp_path / run_id / "a", run_id, ["100", "200"]),
            write_shard(tmp_path / run_id / "b", run_id, ["300"], missing=("70-I", "70-II-A")),
        ]
        load_run(db_path, run_dict(run_id, day), dirs, subject_rows(), obligation_rows())
    mark_run_failed(db_path, "r3", "harvest timed out")
    return db_path


@needs_cli
def test_duckdb_cli_reads_the_warehouse_read_only(warehouse: Path) -> None:
    result = subprocess.run(
        [
            DUCKDB_CLI,
            "-readonly",
            "-csv",
            "-noheader",
            str(warehouse),
            "-c",
            "SELECT count(*) FROM findings",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "14"  # per run: 3 portal + 4 missing obligations


@needs_cli
def test_a_writer_waits_for_an_open_shell_then_says_who_holds_the_file(warehouse: Path) -> None:
    shell = subprocess.Popen(
        [DUCKDB_CLI, "-readonly", str(warehouse)],
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_until_locked(warehouse)
        started = time.monotonic()
        with pytest.raises(WarehouseLockedError, match="locked by another process"):
            load_run(warehouse, run_dict("r4"), [], [], [], lock_timeout=0.4)
        assert time.monotonic() - started >= 0.4
    finally:
        shell.communicate(b".quit\n", timeout=30)


def _wait_until_locked(db_path: Path, timeout: float = 20.0) -> None:
    """Wait for the shell to take its lock (probing with a writable open, closed at once)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            duckdb.connect(str(db_path)).close()
        except duckdb.IOException:
            return
        time.sleep(0.1)
    pytest.fail("the DuckDB shell never locked the warehouse")


def run_query(db_path: Path, name: str) -> list[tuple]:
    con = connect(db_path, read_only=True)
    try:
        return con.execute((QUERIES / name).read_text()).fetchall()
    finally:
        con.close()


def test_worst_subjects_query(warehouse: Path) -> None:
    rows = run_query(warehouse, "worst_subjects_by_missing.sql")
    assert [(r[0], r[4], r[5], r[7]) for r in rows] == [
        ("300", 3, 2, 66.7),
        ("100", 3, 1, 33.3),
        ("200", 3, 1, 33.3),
    ]


def test_findings_by_code_and_state_query(warehouse: Path) -> None:
    rows = run_query(warehouse, "findings_by_code_and_state.sql")
    assert rows == [
        ("Durango", "OBLIGATION_MISSING", "high", 2, 1),
        ("Durango", "HARD_TO_FIND", "low", 1, 1),
        ("Federal", "OBLIGATION_MISSING", "high", 1, 1),
        ("Federal", "HARD_TO_FIND", "low", 1, 1),
        ("Veracruz", "OBLIGATION_MISSING", "high", 1, 1),
        ("Veracruz", "HARD_TO_FIND", "low", 1, 1),
    ]


def test_runs_overview_query(warehouse: Path) -> None:
    rows = run_query(warehouse, "runs_overview.sql")
    by_run = {r[0]: r for r in rows}
    assert [r[0] for r in rows] == ["r2", "r1", "r3"]  # r3 never started: listed last
    assert by_run["r2"][1] == "success" and by_run["r2"][6] == 3600
    assert by_run["r2"][10:16] == (5, 4, 0, 7, 3, 0)
    assert by_run["r3"][1] == "failed" and by_run["r3"][-1] == "harvest timed out"


def test_worst_subjects_by_index_query(warehouse: Path) -> None:
    rows = run_query(warehouse, "worst_subjects_by_index.sql")
    assert [r[1] for r in rows] == ["300", "100", "200"]  # 300 misses two obligations
    assert rows[0][5] < rows[1][5] and rows[0][0] == 3
    assert rows[0][9] in ("70-I", "70-II-A") and rows[0][11] == ["OBLIGATION_MISSING"]


def test_trends_query(warehouse: Path) -> None:
    rows = run_query(warehouse, "trends.sql")
    assert {r[0] for r in rows} == {"100", "200", "300"}
    assert all(r[2] == "r1" and r[5] == 0 for r in rows)  # r2 repeats r1: no change
    assert all(r[6:] == (0, 0, 0) for r in rows)


@needs_cli
def test_recompute_query_finds_no_difference(warehouse: Path) -> None:
    out = subprocess.run([DUCKDB_CLI, "-readonly", "-csv", str(warehouse), "-c",
                          f".read {QUERIES / 'recompute_scores.sql'}"],
                         capture_output=True, text=True, timeout=60, check=True).stdout
    assert out.split() == ["differences", "0"]  # the latest run, r2
