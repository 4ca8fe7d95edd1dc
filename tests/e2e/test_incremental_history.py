"""Incremental harvesting and history on the testbed: an unchanged network is revalidated,
not downloaded; after it advances a generation, the history findings match its ground
truth and their evidence is the last archived version."""

from __future__ import annotations

import duckdb
import pytest

from audit.findings import Code

pytestmark = pytest.mark.e2e

HISTORY = {"removed_early": "REMOVED_EARLY", "silent_edit": "SILENT_EDIT"}
FINDING_KEY = ("SELECT subject_id, coalesce(obligation_id, ''), code, coalesce(evidence_url, '') "
               "FROM findings WHERE run_id = ?")


def run_figures(con, run_id):
    downloaded, received, revalidated, requests = con.execute(
        "SELECT sum(downloaded_bytes), sum(bytes), count(*) FILTER (not_modified), count(*) "
        "FROM fetches WHERE run_id = ?", [run_id]).fetchone()
    return {"downloaded": downloaded, "bytes": received, "revalidated": revalidated,
            "requests": requests}


def test_an_unchanged_network_is_revalidated_not_downloaded(rerun):
    settings, first, second = rerun
    with duckdb.connect(str(settings.warehouse), read_only=True) as con:
        before, after = run_figures(con, first), run_figures(con, second)
        print(f"first run {before}; unchanged rerun {after}")
        assert after["downloaded"] < 0.10 * before["downloaded"]
        assert after["revalidated"] > 0.9 * after["requests"]
        assert set(con.execute(FINDING_KEY, [second]).fetchall()) == set(
            con.execute(FINDING_KEY, [first]).fetchall())
        carried = con.execute(
            "SELECT count(*) FILTER (observed_run = ?), count(*) FROM resources "
            "WHERE run_id = ?", [first, second]).fetchone()
        assert carried[0] > 0.9 * carried[1]  # neither read nor validated again
        rows = con.execute("SELECT count(*) FILTER (observed_run IS NOT NULL), count(*) "
                           "FROM expectation_results WHERE run_id = ?", [second]).fetchone()
        assert rows[0] > 0.9 * rows[1]
        scores = "SELECT subject_id, index_0_100 FROM scores WHERE run_id = ? ORDER BY 1"
        assert con.execute(scores, [second]).fetchall() == con.execute(scores,
                                                                       [first]).fetchall()


def test_history_findings_match_the_advanced_testbeds_ground_truth(advanced, audited):
    from lupa.evaluation import evaluate, format_evaluation

    settings, run_id, out = advanced
    evaluation = evaluate(settings.warehouse, run_id, out / "ground_truth")
    print(format_evaluation(evaluation))
    for code in (Code.REMOVED_EARLY.value, Code.SILENT_EDIT.value):
        score = evaluation.codes[code]
        assert score.expected > 0, code
        assert score.precision >= 0.9 and score.recall >= 0.9, (code, score)
    for code, score in evaluation.codes.items():  # nothing else moved
        assert score.precision >= 0.9 and score.recall >= 0.9, (code, score)
    # per document, not only per obligation: exactly the files the testbed changed so
    import csv

    with (out / "ground_truth" / "changes.csv").open(encoding="utf-8") as handle:
        expected = {(HISTORY[row["change"]], row["subject_id"], row["url"])
                    for row in csv.DictReader(handle) if row["change"] in HISTORY}
    with duckdb.connect(str(settings.warehouse), read_only=True) as con:
        found = set(con.execute(
            "SELECT code, subject_id, evidence_url FROM findings WHERE run_id = ? "
            "AND code IN ('REMOVED_EARLY', 'SILENT_EDIT')", [run_id]).fetchall())
        assert found == expected
        first = run_figures(con, audited[1].run_id)
        now = run_figures(con, run_id)
        print(f"generation 2 run {now}")
        assert now["downloaded"] < 0.10 * first["downloaded"]


def test_a_removed_documents_evidence_is_its_last_archived_version(advanced, tmp_path):
    from lupa.cli import main
    from lupa.evidence import find_evidence

    settings, run_id, _ = advanced
    with duckdb.connect(str(settings.warehouse), read_only=True) as con:
        removed = con.execute("SELECT finding_id FROM findings WHERE run_id = ? AND code = ? "
                              "ORDER BY finding_id", [run_id, "REMOVED_EARLY"]).fetchall()
    assert removed
    for (finding_id,) in removed:
        out = tmp_path / finding_id
        assert main(["evidence", finding_id, "--out", str(out), "--warehouse",
                     str(settings.warehouse)]) == 0
        found = find_evidence(settings.warehouse, finding_id)
        assert found.verified and found.fetch["run_id"] != run_id
