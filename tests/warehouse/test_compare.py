"""warehouse.compare: two runs agree unless a compared row differs."""

from __future__ import annotations

from warehouse.compare import compared_columns, run_differences
from warehouse.schema import connect


def _warehouse(path, run_id: str, *, code: str = "OBLIGATION_MISSING", finding_id: str = "f1",
               elapsed_ms: int = 10):
    con = connect(path)
    con.execute("INSERT INTO findings VALUES (?, ?, 's1', '70-I', ?, 'high', 'falta', NULL)",
                [finding_id, run_id, code])
    con.execute("INSERT INTO fetches (run_id, subject_id, url, status_code, elapsed_ms, "
                "fetched_at, evidence_ref, purpose) VALUES (?, 's1', 'http://a/', 200, ?, "
                "now(), ?, 'home')", [run_id, elapsed_ms, f"{run_id}/evidence.warc.gz"])
    con.close()
    return path


def test_runs_that_differ_only_in_run_specific_columns_agree(tmp_path):
    a = _warehouse(tmp_path / "a.duckdb", "run-a", finding_id="fa", elapsed_ms=3)
    b = _warehouse(tmp_path / "b.duckdb", "run-b", finding_id="fb", elapsed_ms=900)
    assert run_differences(a, "run-a", b, "run-b") == []


def test_a_different_finding_is_reported_with_samples(tmp_path):
    a = _warehouse(tmp_path / "a.duckdb", "run-a")
    b = _warehouse(tmp_path / "b.duckdb", "run-b", code="OUTDATED")
    [difference] = run_differences(a, "run-a", b, "run-b")
    assert difference.table == "findings"
    assert (difference.count_only_in_a, difference.count_only_in_b) == (1, 1)
    assert "OBLIGATION_MISSING" in difference.only_in_a[0]
    assert "OUTDATED" in difference.only_in_b[0]
    assert "findings: 1 vs 1 rows" in str(difference)


def test_a_missing_row_counts_even_when_the_other_run_repeats_it(tmp_path):
    a = _warehouse(tmp_path / "a.duckdb", "run-a")
    con = connect(a)
    con.execute("INSERT INTO findings SELECT 'f2', run_id, subject_id, obligation_id, code, "
                "severity, message, evidence_url FROM findings")
    con.close()
    b = _warehouse(tmp_path / "b.duckdb", "run-b")
    [difference] = run_differences(a, "run-a", b, "run-b")
    assert (difference.rows_a, difference.rows_b, difference.count_only_in_a) == (2, 1, 1)


def test_compared_columns_leave_out_ids_evidence_timings_and_timestamps(tmp_path):
    con = connect(tmp_path / "w.duckdb")

    columns = compared_columns(con, "fetches", database="w")
    con.close()
    assert {"url", "status_code", "sha256", "error"} <= set(columns)
    assert not {"run_id", "elapsed_ms", "fetched_at", "evidence_ref", "observed_run"} & set(
        columns)
