"""The one writer: idempotent, transactional, run-scoped loads."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import duckdb
import pytest
from warehouse_helpers import (
    obligation_rows,
    run_counts,
    run_dict,
    snapshot,
    subject_rows,
    write_shard,
)

from warehouse import shards
from warehouse.loader import LoadError, load_run, mark_run_failed, record_run_started
from warehouse.schema import connect
from warehouse.scoring import CONFIG_TABLES, RESULT_TABLES


def two_shards(base: Path, run_id: str, **kwargs) -> list[Path]:
    return [
        write_shard(base / run_id / "shard-0", run_id, ["100", "200"], **kwargs),
        write_shard(base / run_id / "shard-1", run_id, ["300"], **kwargs),
    ]


def load(db_path: Path, run_id: str, dirs: list[Path], day: int = 1):
    return load_run(db_path, run_dict(run_id, day), dirs, subject_rows(), obligation_rows())


def query(db_path: Path, sql: str, params: list | None = None) -> list[tuple]:
    con = connect(db_path, read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def test_load_writes_every_table_and_reports_counts(db_path: Path, tmp_path: Path) -> None:
    report = load(db_path, "r1", two_shards(tmp_path, "r1"))

    assert report.counts == {
        "subjects": 3,
        "run_subjects": 3,
        "obligations": 3,
        "fetches": 3,
        "obligation_checks": 9,
        "resources": 6,
        "findings": 6,
        "expectation_results": 6,
        "registry_errors": 0,
        "scores": 3,
    }
    assert report.missing_files == []
    assert report.files_read["findings"] == 2
    assert set(report.duplicates_dropped.values()) == {0}
    assert run_counts(db_path, "r1")["obligation_checks"] == 9
    status, started, loaded, total, params = query(
        db_path, "SELECT status, started_at, loaded_at, subjects_total, params FROM runs"
    )[0]
    assert (status, started, total) == ("success", datetime(2026, 11, 1, 10), 3)
    assert loaded is not None and '"shard_size": 2' in params
    assert query(db_path, "SELECT run_id FROM latest_run") == [("r1",)]
    assert query(
        db_path,
        "SELECT list_contains(applies_to, 'legislativo') FROM obligations "
        "WHERE obligation_id = '72-I'",
    ) == [(True,)]


def test_views_spell_out_subjects_obligations_and_spanish_status(
    db_path: Path, tmp_path: Path
) -> None:
    load(db_path, "r1", two_shards(tmp_path, "r1"))
    rows = query(
        db_path,
        "SELECT subject_name, obligation_title, status_es FROM "
        "v_obligation_status WHERE subject_id = '200' ORDER BY obligation_id",
    )
    assert rows == [
        ("Municipio de Prueba", "Marco normativo", "No publicada"),
        ("Municipio de Prueba", "Estructura orgánica", "Publicada"),
        ("Municipio de Prueba", "Agenda legislativa", "Publicada"),
    ]
    findings = query(
        db_path,
        "SELECT state, code, severity_rank, obligation_title FROM "
        "v_findings WHERE subject_id = '200' ORDER BY severity_rank",
    )
    assert findings == [
        ("Veracruz", "OBLIGATION_MISSING", 2, "Marco normativo"),
        ("Veracruz", "HARD_TO_FIND", 4, None),
    ]


def test_loading_the_same_run_twice_leaves_the_same_rows(db_path: Path, tmp_path: Path) -> None:
    dirs = two_shards(tmp_path, "r1")
    first_report = load(db_path, "r1", dirs)
    first = snapshot(db_path)
    second_report = load(db_path, "r1", dirs)
    assert snapshot(db_path) == first
    assert second_report.counts == first_report.counts
    loaded = {t: rows for t, rows in first.items() if t not in CONFIG_TABLES + RESULT_TABLES}
    assert sum(len(rows) for rows in loaded.values()) == 40
    assert len(first["scores"]) == 3 and len(first["obligation_scores"]) == 9


def test_reload_replaces_the_run_and_leaves_other_runs_alone(db_path: Path, tmp_path: Path) -> None:
    load(db_path, "r1", two_shards(tmp_path, "r1"), day=1)
    load(db_path, "r2", two_shards(tmp_path, "r2"), day=2)
    r2_before = snapshot(db_path, "r2")

    changed = two_shards(tmp_path / "retry", "r1", note=" (corregido)", missing=())
    load(db_path, "r1", changed, day=1)

    assert snapshot(db_path, "r2") == r2_before
    assert run_counts(db_path, "r1")["findings"] == 3  # no more OBLIGATION_MISSING
    messages = {m for (m,) in query(db_path, "SELECT message FROM findings WHERE run_id = 'r1'")}
    assert messages == {"Portal lento (corregido)"}
    assert query(
        db_path, "SELECT count(*) FROM obligation_checks WHERE run_id = 'r1' AND status = 'missing'"
    ) == [(0,)]
    assert query(db_path, "SELECT run_id FROM latest_run") == [("r2",)]
    # r1 started before r2: re-loading it does not make it the subjects' latest sighting.
    assert query(db_path, "SELECT DISTINCT first_seen_run, last_seen_run FROM subjects") == [
        ("r1", "r2")
    ]


def test_duplicate_shards_are_deduplicated_last_one_wins(db_path: Path, tmp_path: Path) -> None:
    dirs = two_shards(tmp_path, "r1")
    retried = write_shard(
        tmp_path / "r1" / "shard-0-retry", "r1", ["100", "200"], note=" (reintento)"
    )
    report = load(db_path, "r1", [*dirs, retried])

    assert report.counts["findings"] == 6 and report.counts["obligation_checks"] == 9
    assert report.duplicates_dropped["findings"] == 4
    messages = {
        m for (m,) in query(db_path, "SELECT message FROM findings WHERE subject_id = '100'")
    }
    assert messages == {"Portal lento (reintento)", "No se encontró 70-I (reintento)"}


def test_subjects_describe_the_most_recent_run_whatever_the_load_order(
    db_path: Path, tmp_path: Path
) -> None:
    renamed = [{**row, "name": row["name"] + " (nuevo nombre)"} for row in subject_rows()]
    load_run(db_path, run_dict("r2", day=2), two_shards(tmp_path, "r2"), renamed, [])
    load(db_path, "r1", two_shards(tmp_path, "r1"), day=1)  # back-fill an older run
    assert query(
        db_path,
        "SELECT DISTINCT first_seen_run, last_seen_run, name LIKE '%(nuevo nombre)' FROM subjects",
    ) == [("r1", "r2", True)]
    load(db_path, "r3", two_shards(tmp_path, "r3"), day=3)
    assert query(
        db_path,
        "SELECT DISTINCT first_seen_run, last_seen_run, name LIKE '%(nuevo nombre)' FROM subjects",
    ) == [("r1", "r3", False)]
    assert query(
        db_path, "SELECT run_id, count(*) FROM run_subjects GROUP BY ALL ORDER BY run_id"
    ) == [("r1", 3), ("r2", 3), ("r3", 3)]


def test_missing_shard_files_are_tolerated_and_reported(db_path: Path, tmp_path: Path) -> None:
    dirs = two_shards(tmp_path, "r1")
    (dirs[1] / "findings.parquet").unlink()
    never_ran = tmp_path / "r1" / "shard-2"
    report = load(db_path, "r1", [*dirs, never_ran])

    assert report.counts["findings"] == 4
    assert str(dirs[1] / "findings.parquet") in report.missing_files
    assert str(never_ran / "fetches.parquet") in report.missing_files
    assert len(report.missing_files) == 1 + len(shards.TABLES)


def test_registry_errors_are_loaded_from_any_directory(db_path: Path, tmp_path: Path) -> None:
    run_dir = tmp_path / "r1"
    shards.write_table(
        run_dir,
        "registry_errors",
        [
            {
                "run_id": "r1",
                "line": 7,
                "column_name": "subject_type",
                "value": "ministerio",
                "message": "tipo de sujeto desconocido",
            }
        ],
    )
    report = load(db_path, "r1", [*two_shards(tmp_path, "r1"), run_dir])
    assert report.counts["registry_errors"] == 1
    assert query(db_path, "SELECT registry_errors FROM runs") == [(1,)]


def test_corrupt_shard_rolls_back_everything_and_names_the_file(
    db_path: Path, tmp_path: Path
) -> None:
    dirs = two_shards(tmp_path, "r1")
    bad = dirs[1] / "resources.parquet"
    bad.write_bytes(b"this is not parquet")
    with pytest.raises(LoadError, match=r"rolled back") as caught:
        load(db_path, "r1", dirs)
    assert str(bad) in str(caught.value)
    assert "resources" in str(caught.value)
    assert set(run_counts(db_path, "r1").values()) == {0}
    assert query(db_path, "SELECT count(*) FROM subjects") == [(0,)]


def test_failed_reload_keeps_the_previous_load(db_path: Path, tmp_path: Path) -> None:
    load(db_path, "r1", two_shards(tmp_path, "r1"))
    before = snapshot(db_path)
    dirs = two_shards(tmp_path / "again", "r1", note=" (nuevo)")
    (dirs[0] / "findings.parquet").write_bytes(b"PAR1 truncated")
    with pytest.raises(LoadError, match="findings"):
        load(db_path, "r1", dirs)
    assert snapshot(db_path) == before


def test_bad_status_in_a_shard_is_rejected_by_the_check(db_path: Path, tmp_path: Path) -> None:
    dirs = two_shards(tmp_path, "r1")
    shards.write_table(
        dirs[1],
        "obligation_checks",
        [{"run_id": "r1", "subject_id": "300", "obligation_id": "70-I", "status": "lost"}],
    )
    with pytest.raises(LoadError, match="CHECK constraint"):
        load(db_path, "r1", dirs)
    assert set(run_counts(db_path, "r1").values()) == {0}


def test_shard_of_another_run_is_refused(db_path: Path, tmp_path: Path) -> None:
    dirs = [*two_shards(tmp_path, "r1"), write_shard(tmp_path / "r2" / "s", "r2", ["300"])]
    with pytest.raises(LoadError, match=r"holds fetches rows of run 'r2'"):
        load(db_path, "r1", dirs)
    assert set(run_counts(db_path, "r1").values()) == {0}


def test_run_lifecycle_running_success_failed(db_path: Path, tmp_path: Path) -> None:
    record_run_started(
        db_path, {"run_id": "r1", "started_at": datetime(2026, 11, 1, 9), "law": "LGTAIP-2015"}
    )
    assert query(db_path, "SELECT status, started_at FROM runs") == [
        ("running", datetime(2026, 11, 1, 9))
    ]
    assert query(db_path, "SELECT count(*) FROM latest_run") == [(0,)]

    load_run(
        db_path,
        {"run_id": "r1", "as_of": "2026-11-01"},
        two_shards(tmp_path, "r1"),
        subject_rows(),
        obligation_rows(),
    )
    status, started, finished = query(db_path, "SELECT status, started_at, finished_at FROM runs")[
        0
    ]
    assert (status, started) == ("success", datetime(2026, 11, 1, 9))  # kept from the start
    assert finished is not None

    mark_run_failed(db_path, "r1", RuntimeError("scores task died"))
    assert query(db_path, "SELECT status, error FROM runs") == [
        ("failed", "RuntimeError: scores task died")
    ]
    assert query(db_path, "SELECT count(*) FROM latest_run") == [(0,)]
    mark_run_failed(db_path, "r-unknown", "registry missing")
    assert query(db_path, "SELECT status FROM runs WHERE run_id = 'r-unknown'") == [("failed",)]


def test_reload_replaces_stale_scores(db_path: Path, tmp_path: Path) -> None:
    dirs = two_shards(tmp_path, "r1")
    load(db_path, "r1", dirs)
    fresh = query(db_path, "SELECT subject_id, index_0_100 FROM scores ORDER BY 1")
    con = duckdb.connect(str(db_path))
    con.execute("UPDATE scores SET index_0_100 = 1 WHERE run_id = 'r1'")
    con.execute("INSERT INTO scores (run_id, subject_id) VALUES ('r1', 'gone')")
    con.close()
    load(db_path, "r1", dirs)
    assert query(db_path, "SELECT subject_id, index_0_100 FROM scores ORDER BY 1") == fresh
    assert len(fresh) == 3


def test_invalid_arguments_fail_before_touching_the_warehouse(
    db_path: Path, tmp_path: Path
) -> None:
    with pytest.raises(ValueError, match="subjects: row 0: unknown column 'website'"):
        load_run(db_path, {"run_id": "r1"}, [], [{**subject_rows()[0], "website": "x"}], [])
    with pytest.raises(ValueError, match="runs: row 0: column 'run_id' is required"):
        load_run(db_path, {"law": "LGTAIP-2015"}, [], [], [])
    assert not db_path.exists()
