"""Score a loaded run, in SQL (the macros of migration 0003).

The loader calls ``compute_scores`` inside its transaction, so a run is never visible
without its scores; ``rescore`` does it again later (``lupa score``), e.g. after the
weights changed. Both record the configuration used next to the results.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import duckdb

from audit.scoring import ScoringConfig, load_scoring
from warehouse.schema import connect, rollback

CONFIG_TABLES = ("score_config", "score_criteria", "score_rules", "score_obligation_weights",
                 "score_bands")
RESULT_TABLES = ("obligation_scores", "scores")
SCORE_COLUMNS = (
    "run_id", "subject_id", "presence", "usefulness", "index_0_100", "compliance",
    "actualizacion", "confiabilidad", "formato", "apertura", "validez", "enlaces",
    "obligations_applicable", "obligations_published", "findings", "band",
    "rank_national", "rank_type", "rank_state",
)


def compute_scores(con: duckdb.DuckDBPyConnection, run_id: str,
                   config: ScoringConfig | None = None) -> int:
    """(Re)write ``run_id``'s scores with ``config`` on ``con`` (the caller's transaction);
    returns how many subjects were scored."""
    config = config or load_scoring()
    for table in CONFIG_TABLES + RESULT_TABLES:
        con.execute(f"DELETE FROM {table} WHERE run_id = ?", [run_id])
    for table, rows in config.table_rows(run_id).items():
        _insert(con, table, rows)
    con.execute("UPDATE score_config SET computed_at = ? WHERE run_id = ?",
                [_utc_now(), run_id])
    con.execute("INSERT INTO obligation_scores SELECT * FROM obligation_scores_of(?)", [run_id])
    columns = ", ".join(SCORE_COLUMNS)
    con.execute(f"INSERT INTO scores ({columns}, computed_at) "
                f"SELECT {columns}, ? FROM subject_scores_of(?, stored := true)",
                [_utc_now(), run_id])
    return con.execute("SELECT COUNT(*) FROM scores WHERE run_id = ?", [run_id]).fetchone()[0]


def rescore(db_path: Path | str, run_id: str | None = None,
            config: ScoringConfig | None = None) -> tuple[str, int]:
    """Rescore one run (default: the latest successful one) in its own transaction."""
    con = connect(db_path)
    try:
        run_id = run_id or latest_run_id(con)
        if run_id is None:
            raise LookupError(f"{db_path}: no successful run to score")
        problem = unsuccessful_run(con, run_id, "scored")
        if problem:
            raise LookupError(f"{db_path}: {problem}")
        con.begin()
        try:
            count = compute_scores(con, run_id, config)
            con.commit()
        except BaseException:
            rollback(con)
            raise
        return run_id, count
    finally:
        con.close()


def unsuccessful_run(con: duckdb.DuckDBPyConnection, run_id: str, done: str) -> str | None:
    """Why ``run_id`` cannot be ``done`` (scored, reported on…), or None when it is a
    successful run."""
    status = con.execute("SELECT status FROM runs WHERE run_id = ?", [run_id]).fetchone()
    if status is None:
        return f"there is no run {run_id!r}"
    if status[0] != "success":
        return f"run {run_id!r} has status {status[0]!r}; only successful runs are {done}"
    return None


def latest_run_id(con: duckdb.DuckDBPyConnection) -> str | None:
    row = con.execute("SELECT run_id FROM latest_run").fetchone()
    return row[0] if row else None


def _insert(con: duckdb.DuckDBPyConnection, table: str, rows: list[dict]) -> None:
    if not rows:
        return
    columns = list(rows[0])
    marks = ", ".join("?" for _ in columns)
    con.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})",
                    [[row[c] for c in columns] for row in rows])


def _utc_now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)
