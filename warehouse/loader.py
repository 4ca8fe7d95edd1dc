"""The one warehouse writer: merges a run's Parquet shards into DuckDB, idempotently.

DuckDB allows one writing process per file, so parallel tasks write shards
(``warehouse.shards``) and only this module writes the database. A load is one transaction:
the run's rows in every run-scoped table are deleted and re-inserted from the shards, so
loading a run twice leaves the same rows, re-loading after a retried shard replaces exactly
that run's rows, and a failure part-way leaves nothing of the attempt visible.

Within a run, rows are deduplicated on the table keys (``shards.KEYS``), keeping the last
one written in shard order, so a shard that was retried into a second directory does not
count twice.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from audit.scoring import ScoringConfig, load_scoring
from warehouse import shards
from warehouse.lake import STAGED_TABLES
from warehouse.schema import WarehouseError, connect, rollback
from warehouse.scoring import CONFIG_TABLES, RESULT_TABLES, compute_scores
from warehouse.target import describe, is_lake

DEFAULT_LOCK_TIMEOUT = 60.0

# Tables whose rows belong to one run and are replaced wholesale by a load. The score
# tables are derived from the others: every load recomputes them (warehouse.scoring).
RUN_SCOPED_TABLES: tuple[str, ...] = (
    "fetches",
    "obligation_checks",
    "resources",
    "findings",
    "expectation_results",
    "registry_errors",
    "run_subjects",
    *CONFIG_TABLES,
    *RESULT_TABLES,
)
# Run-scoped tables filled straight from shard files of the same name.
_SHARD_LOADED = (
    "fetches",
    "obligation_checks",
    "resources",
    "findings",
    "expectation_results",
    "registry_errors",
)
# Outranks every shard position, so rows passed to load_run win over shard rows.
_ARGUMENT_RANK = 2**31 - 1
# Shard files outrank rows a shard staged in a DuckLake (the run's own files come last).
_FILE_RANK = 1_000_000
_COMMIT_ATTEMPTS = 8
_MAX_ERROR_TEXT = 4000
_OPTIONAL_SUBJECT_TEXT = frozenset({"acronym", "state", "transparency_url"})


class LoadError(WarehouseError):
    """A load failed and was rolled back; the message names the table and, when it can tell,
    the shard file at fault."""


@dataclass(frozen=True)
class LoadReport:
    """What a load did. ``counts`` is the number of rows the run now has per table (for
    ``subjects`` and ``obligations``: rows upserted)."""

    run_id: str
    warehouse: str
    counts: dict[str, int]
    rows_read: dict[str, int]
    duplicates_dropped: dict[str, int]
    files_read: dict[str, int]
    missing_files: list[str] = field(default_factory=list)
    elapsed_s: float = 0.0
    scoring_s: float = 0.0  # the part of elapsed_s spent scoring the run (same transaction)

    def as_dict(self) -> dict[str, Any]:
        """Plain JSON-serialisable form (for logs and task return values)."""
        return asdict(self)


def record_run_started(
    db_path: Path | str, run: Mapping[str, Any], *, lock_timeout: float = DEFAULT_LOCK_TIMEOUT
) -> None:
    """Create or reset the run's ``runs`` row with status 'running', so operators can see a
    run in progress (and a crashed one) before anything is loaded."""
    row = _run_row(run)
    row.setdefault("started_at", _utc_now())
    row.update(status="running", finished_at=None, error=None)
    con = connect(db_path, lock_timeout=lock_timeout)
    try:
        _upsert_run(con, row)
    finally:
        con.close()


def mark_run_failed(
    db_path: Path | str,
    run_id: str,
    error: str | BaseException,
    *,
    lock_timeout: float = DEFAULT_LOCK_TIMEOUT,
) -> None:
    """Record that a run failed (status 'failed', finished_at now, the error text).

    Rows of an earlier successful load of the same run are kept: they are still the best
    evidence there is, and ``latest_run`` stops pointing at the run.
    """
    text = error if isinstance(error, str) else f"{type(error).__name__}: {error}"
    row = _run_row({"run_id": run_id})
    row.update(status="failed", finished_at=_utc_now(), error=text[:_MAX_ERROR_TEXT])
    con = connect(db_path, lock_timeout=lock_timeout)
    try:
        _upsert_run(con, row)
    finally:
        con.close()


def load_run(
    db_path: Path | str,
    run: Mapping[str, Any],
    shard_dirs: Sequence[Path | str],
    subjects: Sequence[Mapping[str, Any]],
    obligations: Sequence[Mapping[str, Any]],
    *,
    lock_timeout: float = DEFAULT_LOCK_TIMEOUT,
    scoring: ScoringConfig | None = None,
) -> LoadReport:
    """Load one run from its shard directories, and score it, in a single transaction.

    ``run`` holds ``runs`` columns (``run_id`` required; ``status`` is set to 'success',
    ``loaded_at`` to now; unless given, ``started_at`` is kept from record_run_started (or
    set to now), ``finished_at`` set to now, ``subjects_total`` and ``registry_errors`` to
    the loaded counts). ``subjects`` and ``obligations`` are upserted (rows as in
    ``shards.SCHEMAS``), together with the rows of the shards' ``subjects.parquet`` files
    (``subjects`` wins over a shard row for the same subject). Missing shard files are
    tolerated and listed in the report. The run is scored with ``scoring`` (default: the
    scoring file, ``audit.scoring.load_scoring``). Invalid arguments, a bad scoring file
    included, raise ValueError before the warehouse is opened; anything failing later
    raises ``LoadError`` after rolling back.
    """
    started = time.monotonic()
    run_row = _run_row(run)
    run_id = run_row["run_id"]
    subject_rows = _with_row_numbers(shards.to_arrow("subjects", subjects))
    obligation_rows = _with_row_numbers(shards.to_arrow("obligations", obligations))
    files, missing = _shard_files(shard_dirs)
    scoring = scoring or load_scoring()

    con = connect(db_path, lock_timeout=lock_timeout)
    try:
        if run_row.get("started_at") is None:
            run_row["started_at"] = _started_at(con, run_id)
        staged = _committed_shards(con, run_id, shard_dirs) if is_lake(db_path) else {}
        files, missing = _without_committed(files, missing, staged)
        loader = _Load(run_id, run_row["started_at"], files, staged)
        con.begin()
        try:
            loader.run(con, subject_rows, obligation_rows)
            run_row.pop("status", None)
            run_row.setdefault("finished_at", _utc_now())
            run_row.setdefault("subjects_total", loader.counts["subjects"])
            run_row.setdefault("registry_errors", loader.counts["registry_errors"])
            run_row.update(status="success", loaded_at=_utc_now())
            run_row.setdefault("error", None)  # the caller may note subjects it could not audit
            loader.stage, loader.stage_files = "runs", []
            _upsert_run(con, run_row)
            loader.stage, loader.stage_files = "scores", []
            scoring_started = time.monotonic()
            loader.counts["scores"] = compute_scores(con, run_id, scoring)
            scoring_s = time.monotonic() - scoring_started
            if is_lake(db_path):
                _clear_staging(con, run_id)
            con.commit()
        except BaseException as exc:
            rollback(con)
            if isinstance(exc, duckdb.Error):
                raise LoadError(loader.explain(exc)) from exc
            raise
    finally:
        con.close()

    return LoadReport(
        run_id=run_id,
        warehouse=str(db_path),
        counts=loader.counts,
        rows_read=loader.rows_read,
        duplicates_dropped={t: loader.rows_read[t] - loader.counts[t] for t in _SHARD_LOADED},
        files_read={t: len(paths) for t, paths in files.items()},
        missing_files=[str(p) for p in missing],
        elapsed_s=round(time.monotonic() - started, 3),
        scoring_s=round(scoring_s, 3),
    )


@dataclass(frozen=True)
class CommitReport:
    """What ``commit_shard`` staged in the lake: rows per table, and the attempts it took
    (concurrent commits from other workers can conflict, and are retried)."""

    run_id: str
    shard: str
    rows: dict[str, int]
    attempts: int


def shard_key(shard_dir: Path | str) -> str:
    """How a shard is named in the lake's staging tables: its absolute directory (the same on
    every worker, which share the runs volume)."""
    return str(Path(shard_dir).absolute())


def commit_shard(target: str, run_id: str, shard_dir: Path | str) -> CommitReport:
    """Stage one audited shard's rows in a DuckLake warehouse, from the worker that made
    them, in one transaction: the shard's earlier staged rows (a retried task) are replaced.
    Nothing is visible to analysts until the run's load publishes every staged shard.
    """
    if not is_lake(target):
        raise ValueError(f"commit_shard needs a DuckLake warehouse, not {target}")
    key = shard_key(shard_dir)
    files, _ = _shard_files([shard_dir])
    con = connect(target)
    try:
        for attempt in range(1, _COMMIT_ATTEMPTS + 1):
            try:
                con.begin()
                rows = _stage(con, run_id, key, files)
                con.execute("DELETE FROM shard_commits WHERE run_id = ? AND shard = ?",
                            [run_id, key])
                con.execute("INSERT INTO shard_commits VALUES (?, ?, ?, ?)",
                            [run_id, key, _utc_now(), sum(rows.values())])
                con.commit()
                return CommitReport(run_id, key, rows, attempt)
            except duckdb.TransactionException as exc:  # another worker committed first
                rollback(con)
                if attempt == _COMMIT_ATTEMPTS:
                    raise LoadError(f"committing shard {key} of run {run_id!r} to "
                                    f"{describe(target)} kept conflicting with other commits "
                                    f"({attempt} attempts): {exc}") from exc
                time.sleep(min(0.2 * 2 ** attempt, 5.0))
            except duckdb.Error as exc:
                rollback(con)
                raise LoadError(f"committing shard {key} of run {run_id!r} to "
                                f"{describe(target)} failed and was rolled back: {exc}") from exc
    finally:
        con.close()
    raise AssertionError("unreachable: the last attempt returns or raises")


def _stage(con: duckdb.DuckDBPyConnection, run_id: str, key: str,
           files: dict[str, list[Path]]) -> dict[str, int]:
    rows = {}
    for table in STAGED_TABLES:
        # a DELETE that matches nothing does not conflict with other workers' commits
        con.execute(f"DELETE FROM staged_{table} WHERE run_id = $run AND shard = $shard",
                    {"run": run_id, "shard": key})
        paths = files.get(table, [])
        rows[table] = 0
        if not paths:
            continue
        _check_run_ids(con, run_id, table, paths)
        names = ", ".join(c.name for c in shards.SCHEMAS[table])
        source = _parquet_source(con, table, paths)
        con.execute(f"INSERT INTO staged_{table} ({names}, shard, _row) "
                    f"SELECT {names}, $shard, _row FROM ({source})",
                    {"files": [str(p) for p in paths], "shard": key})
        rows[table] = _count_rows(con, paths)
    return rows


def _committed_shards(con: duckdb.DuckDBPyConnection, run_id: str,
                      shard_dirs: Sequence[Path | str]) -> dict[str, int]:
    """The load's shards that staged their rows in the lake: key -> position in the load."""
    committed = {row[0] for row in con.execute(
        "SELECT shard FROM shard_commits WHERE run_id = ?", [run_id]).fetchall()}
    return {shard_key(d): position for position, d in enumerate(shard_dirs, start=1)
            if shard_key(d) in committed}


def _without_committed(files: dict[str, list[Path]], missing: list[Path],
                       staged: dict[str, int]) -> tuple[dict[str, list[Path]], list[Path]]:
    """The staged tables' files of committed shards are read from the lake instead."""
    if not staged:
        return files, missing

    def committed(path: Path) -> bool:
        return shard_key(path.parent) in staged and path.stem in STAGED_TABLES

    return ({table: [p for p in paths if not committed(p)] for table, paths in files.items()},
            [p for p in missing if not committed(p)])


def _clear_staging(con: duckdb.DuckDBPyConnection, run_id: str) -> None:
    """The published run's staged rows are gone with the same commit that published them."""
    for table in STAGED_TABLES:
        con.execute(f"DELETE FROM staged_{table} WHERE run_id = ?", [run_id])
    con.execute("DELETE FROM shard_commits WHERE run_id = ?", [run_id])


class _Load:
    """The statements of one load; remembers what it is doing so errors can say so."""

    def __init__(
        self, run_id: str, started_at: datetime | None, files: dict[str, list[Path]],
        staged: dict[str, int] | None = None,
    ) -> None:
        self.run_id = run_id
        self.started_at = started_at
        self.files = files
        self.staged = staged or {}  # shards committed to a DuckLake: key -> shard position
        self.counts: dict[str, int] = {}
        self.rows_read: dict[str, int] = {}
        self.stage = "start"
        self.stage_files: list[Path] = []

    def run(
        self, con: duckdb.DuckDBPyConnection, subjects: pa.Table, obligations: pa.Table
    ) -> None:
        self._subjects(con, subjects)
        self._obligations(con, obligations)
        for table in (*CONFIG_TABLES, *RESULT_TABLES, *_SHARD_LOADED):
            self._enter(table, self.files.get(table, []))
            con.execute(f"DELETE FROM {table} WHERE run_id = ?", [self.run_id])
        for table in _SHARD_LOADED:
            self._shard_table(con, table)

    def explain(self, exc: duckdb.Error) -> str:
        """Error text naming the run, the table and (found by probing) a bad shard file."""
        text = (
            f"loading run {self.run_id!r} failed at {self.stage} and was rolled back "
            f"(nothing of this load was written): {exc}"
        )
        if self.stage_files and not any(str(p) in str(exc) for p in self.stage_files):
            unreadable = _first_unreadable(self.stage_files)
            if unreadable:
                text += f" [unreadable shard file: {unreadable}]"
        return text

    def _enter(self, stage: str, paths: list[Path]) -> None:
        self.stage, self.stage_files = stage, paths

    def _subjects(self, con: duckdb.DuckDBPyConnection, rows: pa.Table) -> None:
        paths = self.files.get("subjects", [])
        self._enter("subjects", paths)
        names = [c.name for c in shards.SCHEMAS["subjects"]]
        con.register("_arg_subjects", rows)
        try:
            sources = [
                f"SELECT {', '.join(names)}, {_ARGUMENT_RANK} AS _src, _row FROM _arg_subjects"
            ]
            params: dict[str, Any] = {}
            if paths:
                sources.append(_parquet_source(con, "subjects", paths))
                params["files"] = [str(p) for p in paths]
            self.rows_read["subjects"] = rows.num_rows + _count_rows(con, paths)
            con.execute(
                "CREATE OR REPLACE TEMP TABLE _incoming_subjects AS "
                f"SELECT {', '.join(_blank_to_null(n) for n in names)} "
                f"FROM ({' UNION ALL '.join(sources)}) "
                f"QUALIFY {_latest('subjects')}",
                params,
            )
        finally:
            con.unregister("_arg_subjects")
        self._merge_subjects(con, names)
        self._enter("run_subjects", [])
        con.execute("DELETE FROM run_subjects WHERE run_id = ?", [self.run_id])
        con.execute(
            "INSERT INTO run_subjects (run_id, subject_id) "
            "SELECT ?, subject_id FROM _incoming_subjects",
            [self.run_id],
        )
        self.counts["subjects"] = _scalar(con, "SELECT count(*) FROM _incoming_subjects")
        self.counts["run_subjects"] = self.counts["subjects"]
        con.execute("DROP TABLE _incoming_subjects")

    def _merge_subjects(self, con: duckdb.DuckDBPyConnection, names: list[str]) -> None:
        """Upsert staged subjects so that ``subjects`` describes each one as of the most
        recent run that saw it (by ``runs.started_at``), whatever order runs are loaded in:
        back-filling an older run must not overwrite newer names or ``last_seen_run``."""
        params = {"run": self.run_id, "started": self.started_at}
        assignments = ", ".join(f"{n} = i.{n}" for n in names if n != "subject_id")
        con.execute(
            f"UPDATE subjects SET {assignments}, last_seen_run = $run "
            "FROM _incoming_subjects AS i WHERE subjects.subject_id = i.subject_id "
            f"AND {_run_start('subjects.last_seen_run', '-infinity')} <= $started",
            params,
        )
        con.execute(
            "UPDATE subjects SET first_seen_run = $run "
            "WHERE subject_id IN (SELECT subject_id FROM _incoming_subjects) "
            f"AND {_run_start('subjects.first_seen_run', 'infinity')} > $started",
            params,
        )
        con.execute(
            f"INSERT INTO subjects ({', '.join(names)}, first_seen_run, last_seen_run) "
            f"SELECT {', '.join(names)}, $run, $run FROM _incoming_subjects AS i "
            "WHERE NOT EXISTS (SELECT 1 FROM subjects AS s WHERE s.subject_id = i.subject_id)",
            {"run": self.run_id},
        )

    def _obligations(self, con: duckdb.DuckDBPyConnection, rows: pa.Table) -> None:
        self._enter("obligations", [])
        names = ", ".join(c.name for c in shards.SCHEMAS["obligations"])
        con.register("_arg_obligations", rows)
        try:
            # DELETE + INSERT rather than INSERT OR REPLACE: a DuckLake table has no key
            con.execute(
                "CREATE OR REPLACE TEMP TABLE _incoming_obligations AS "
                f"SELECT {names} FROM (SELECT *, {_ARGUMENT_RANK} AS _src FROM _arg_obligations) "
                f"QUALIFY {_latest('obligations')}"
            )
            con.execute("DELETE FROM obligations WHERE (law, obligation_id) IN "
                        "(SELECT (law, obligation_id) FROM _incoming_obligations)")
            con.execute(f"INSERT INTO obligations ({names}) "
                        f"SELECT {names} FROM _incoming_obligations")
            con.execute("DROP TABLE _incoming_obligations")
        finally:
            con.unregister("_arg_obligations")
        self.rows_read["obligations"] = rows.num_rows
        self.counts["obligations"] = rows.group_by(["law", "obligation_id"]).aggregate([]).num_rows

    def _shard_table(self, con: duckdb.DuckDBPyConnection, table: str) -> None:
        paths = self.files.get(table, [])
        staged = table in STAGED_TABLES and bool(self.staged)
        self._enter(table, paths)
        sources, params = [], {}
        if paths:
            _check_run_ids(con, self.run_id, table, paths)
            sources.append(_parquet_source(con, table, paths))
            params["files"] = [str(p) for p in paths]
        if staged:
            sources.append(_staged_source(table))
            params.update(shards=list(self.staged), run=self.run_id)
        source = " UNION ALL ".join(sources)
        self.rows_read[table] = (_scalar(con, f"SELECT count(*) FROM ({source})", **params)
                                 if sources else 0)
        if sources:
            names = ", ".join(c.name for c in shards.SCHEMAS[table])
            # The window that keeps the last row per key sorts every row; shards rarely
            # repeat a key (a shard retried into a second directory), so look first.
            dedup = f" QUALIFY {_latest(table)}" if _repeats_a_key(con, table, source,
                                                                   params) else ""
            con.execute(f"INSERT INTO {table} ({names}) SELECT {names} FROM ({source}){dedup}",
                        params)
        self.counts[table] = _scalar(
            con, f"SELECT count(*) FROM {table} WHERE run_id = ?", self.run_id
        )



def _check_run_ids(con: duckdb.DuckDBPyConnection, run_id: str, table: str,
                   paths: list[Path]) -> None:
    """A shard holding another run's rows means the wrong directory was handed over."""
    stray = con.execute(
        "SELECT filename, run_id FROM read_parquet($files, filename = true, "
        "union_by_name = true) WHERE run_id IS DISTINCT FROM $run LIMIT 1",
        {"files": [str(p) for p in paths], "run": run_id},
    ).fetchone()
    if stray:
        raise LoadError(
            f"loading run {run_id!r}: shard file {stray[0]} holds {table} rows of run "
            f"{stray[1]!r}; nothing was written"
        )


def _shard_files(shard_dirs: Sequence[Path | str]) -> tuple[dict[str, list[Path]], list[Path]]:
    """Existing ``<table>.parquet`` files per table, in shard order, and the missing ones
    (a registry_errors file is optional, so its absence is not reported)."""
    files: dict[str, list[Path]] = {table: [] for table in shards.SHARD_FILES}
    missing: list[Path] = []
    for directory in shard_dirs:
        for table in shards.SHARD_FILES:
            path = Path(directory).absolute() / f"{table}.parquet"
            if path.is_file():
                files[table].append(path)
            elif table in shards.TABLES:
                missing.append(path)
    return files, missing


def _parquet_source(con: duckdb.DuckDBPyConnection, table: str, paths: list[Path]) -> str:
    """SELECT over the union of the shard files, with the table's columns (NULL for columns
    no file has, e.g. files written before a column was added), the file's shard position
    (``_src``) and the row's position in its file (``_row``); reads the ``$files`` param."""
    present = {
        row[0]
        for row in con.execute(
            "DESCRIBE SELECT * FROM read_parquet($files, union_by_name = true)",
            {"files": [str(p) for p in paths]},
        ).fetchall()
    }
    spec = shards.SCHEMAS[table]
    unknown = sorted(present - {c.name for c in spec})
    if unknown:
        raise LoadError(
            f"{table} shard files have columns the warehouse does not know: "
            f"{unknown} (files: {[str(p) for p in paths]})"
        )
    columns = [
        c.name if c.name in present else f"CAST(NULL AS {c.duckdb_type}) AS {c.name}" for c in spec
    ]
    return (
        f"SELECT {', '.join(columns)}, {_FILE_RANK} + list_position($files, filename) AS _src, "
        "file_row_number AS _row FROM read_parquet($files, union_by_name = true, "
        "filename = true, file_row_number = true)"
    )


def _staged_source(table: str) -> str:
    """SELECT over the rows committed shards staged in the lake (``commit_shard``), ranked
    by the shard's position in the load (reads the ``$shards`` and ``$run`` params)."""
    names = ", ".join(c.name for c in shards.SCHEMAS[table])
    return (f"SELECT {names}, list_position($shards, shard) AS _src, _row "
            f"FROM staged_{table} WHERE run_id = $run AND list_contains($shards, shard)")


def _repeats_a_key(con: duckdb.DuckDBPyConnection, table: str, source: str,
                   files: dict[str, Any]) -> bool:
    """Whether two rows of the shard files share the table's key (NULLs compare equal, as in
    ``_latest``)."""
    keys = ", ".join(shards.KEYS[table])
    return con.execute(
        f"SELECT 1 FROM ({source}) GROUP BY {keys} HAVING count(*) > 1 LIMIT 1", files
    ).fetchone() is not None


def _latest(table: str) -> str:
    """QUALIFY condition keeping the last-written row per key (NULLs in keys compare equal)."""
    keys = ", ".join(shards.KEYS[table])
    return f"row_number() OVER (PARTITION BY {keys} ORDER BY _src DESC, _row DESC) = 1"


def _blank_to_null(column: str) -> str:
    """Optional registry fields come as empty strings (a federal subject's state); store
    NULL so analysts test ``state IS NULL`` and not two spellings of "none"."""
    if column in _OPTIONAL_SUBJECT_TEXT:
        return f"nullif(trim({column}), '') AS {column}"
    return column


def _run_start(run_id_column: str, default: str) -> str:
    """SQL for the start time of the run named in ``run_id_column`` (``default`` when that
    run is unknown), to order runs by recency."""
    return (
        f"coalesce((SELECT r.started_at FROM runs AS r WHERE r.run_id = {run_id_column}), "
        f"TIMESTAMP '{default}')"
    )


def _count_rows(con: duckdb.DuckDBPyConnection, paths: list[Path]) -> int:
    if not paths:
        return 0
    return _scalar(
        con,
        "SELECT count(*) FROM read_parquet($files, union_by_name = true)",
        files=[str(p) for p in paths],
    )


def _scalar(con: duckdb.DuckDBPyConnection, sql: str, *args: Any, **params: Any) -> int:
    row = con.execute(sql, params or list(args)).fetchone()
    return int(row[0]) if row else 0


def _with_row_numbers(table: pa.Table) -> pa.Table:
    """Append ``_row`` (input position), so "last row wins" is deterministic."""
    return table.append_column("_row", pa.array(range(table.num_rows), type=pa.int64()))


def _run_row(run: Mapping[str, Any]) -> dict[str, Any]:
    """Validate a ``runs`` row and keep only the keys the caller gave (an upsert must not
    blank columns set earlier, e.g. started_at by record_run_started)."""
    normalised = shards.to_arrow("runs", [run]).to_pylist()[0]
    return {name: normalised[name] for name in run}


def _started_at(con: duckdb.DuckDBPyConnection, run_id: str) -> datetime:
    """When a run given without a start time started: as recorded by record_run_started,
    else now (so it counts as the most recent run)."""
    row = con.execute("SELECT started_at FROM runs WHERE run_id = ?", [run_id]).fetchone()
    return row[0] if row and row[0] is not None else _utc_now()


def _upsert_run(con: duckdb.DuckDBPyConnection, row: dict[str, Any]) -> None:
    """Insert the run, or update only the given columns of its row (a DuckLake table has no
    key to resolve an INSERT conflict on, nor RETURNING on UPDATE: look first)."""
    names = list(row)
    if con.execute("SELECT 1 FROM runs WHERE run_id = ?", [row["run_id"]]).fetchone():
        updates = [n for n in names if n != "run_id"]
        if updates:
            con.execute(f"UPDATE runs SET {', '.join(f'{n} = ?' for n in updates)} "
                        "WHERE run_id = ?", [*(row[n] for n in updates), row["run_id"]])
        return
    con.execute(
        f"INSERT INTO runs ({', '.join(names)}) VALUES ({', '.join('?' for _ in names)})",
        [row[n] for n in names],
    )


def _first_unreadable(paths: list[Path]) -> str | None:
    """The first shard file Arrow cannot read (used only to explain a failed load)."""
    for path in paths:
        try:
            pq.read_table(path)
        except Exception:  # noqa: BLE001 - any failure means "this is the bad file"
            return str(path)
    return None


def _utc_now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)
