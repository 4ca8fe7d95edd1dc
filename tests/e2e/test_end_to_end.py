"""The whole pipeline through real Airflow on a small testbed, against its ground truth."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import duckdb
import pytest

from audit.findings import Code
from testbed.model import AS_OF

pytestmark = pytest.mark.e2e

ACCURACY_FLOOR = 0.98
# Every code of DESIGN section 7 but the history ones (they need an earlier run) must be
# expected, produced and scored.
HISTORY_CODES = {Code.REMOVED_EARLY.value, Code.SILENT_EDIT.value}
SCORED_CODES = {code.value for code in Code} - HISTORY_CODES


def test_run_succeeds(audited):
    _, result, _, _ = audited
    assert result.state == "success", result.failed_tasks


def test_presence_accuracy_against_ground_truth(audited):
    from lupa.evaluation import evaluate, format_evaluation

    settings, result, out, _ = audited
    evaluation = evaluate(settings.warehouse, result.run_id, out / "ground_truth")
    print(format_evaluation(evaluation))
    assert evaluation.pairs > 500
    assert evaluation.accuracy >= ACCURACY_FLOOR, evaluation.mismatches[:20]
    assert set(evaluation.codes) == SCORED_CODES
    for code, score in evaluation.codes.items():
        assert score.expected > 0, code
        assert score.recall is not None and score.recall >= 0.9, (code, score)
        assert score.precision is not None and score.precision >= 0.9, (code, score)


def test_every_table_of_this_stage_has_rows(audited):
    settings, result, _, good_rows = audited
    with duckdb.connect(str(settings.warehouse), read_only=True) as con:
        def count(sql):
            return con.execute(sql, [result.run_id]).fetchone()[0]

        for table in ("fetches", "obligation_checks", "resources", "findings",
                      "expectation_results"):
            assert count(f"SELECT count(*) FROM {table} WHERE run_id = ?") > 0, table
        assert con.execute("SELECT count(*) FROM obligations").fetchone()[0] == 175
        run = con.execute("SELECT status, subjects_audited, registry_errors, as_of FROM runs "
                          "WHERE run_id = ?", [result.run_id]).fetchone()
        assert run[0] == "success"
        assert run[1] == good_rows
        assert run[2] == 2
        assert str(run[3]) == AS_OF.isoformat()
        assert count("SELECT count(DISTINCT subject_id) FROM obligation_checks "
                     "WHERE run_id = ?") == good_rows
        errors = con.execute("SELECT line, column_name FROM registry_errors WHERE run_id = ? "
                             "ORDER BY line", [result.run_id]).fetchall()
        assert errors == [(good_rows + 2, "subject_type"), (good_rows + 3, "portal_url")]
        # every finding is traceable to a URL
        assert count("SELECT count(*) FROM findings WHERE run_id = ? AND evidence_url IS NULL "
                     "AND code <> 'OBLIGATION_MISSING'") == 0


def test_usefulness_facts_reach_the_warehouse(audited):
    settings, result, _, _ = audited
    with duckdb.connect(str(settings.warehouse), read_only=True) as con:
        read = con.execute(
            "SELECT count(*) FILTER (WHERE kind IS NOT NULL), "
            "count(*) FILTER (WHERE period_end IS NOT NULL), "
            "count(*) FILTER (WHERE format_id IS NOT NULL), count(*) "
            "FROM resources WHERE run_id = ?", [result.run_id]).fetchone()
        assert read[0] == read[3] and read[1] > 0 and read[2] > 0
        current = con.execute(
            "SELECT count(*) FROM obligation_checks WHERE run_id = ? AND periods_behind = 0",
            [result.run_id]).fetchone()[0]
        assert current > 0


def test_data_docs_site_is_built_for_the_run(audited):
    settings, result, _, _ = audited
    from lupa.tasks import DATA_DOCS_DIR, run_dir_name

    run_dir = Path(settings.home) / "runs" / run_dir_name(result.run_id)
    index = run_dir / DATA_DOCS_DIR / "index.html"
    links = re.findall(r'href="([^"]+)"', index.read_text(encoding="utf-8"))
    assert links and all((index.parent / link).resolve().is_file() for link in links)
    assert all("shards" in link for link in links)


def test_reloading_the_run_leaves_the_same_rows(audited):
    from lupa.tasks import load_run

    settings, result, _, _ = audited

    def snapshot():
        with duckdb.connect(str(settings.warehouse), read_only=True) as con:
            return {t: con.execute(f"SELECT * FROM {t} WHERE run_id = ? ORDER BY ALL",
                                   [result.run_id]).fetchall()
                    for t in ("obligation_checks", "findings", "resources", "fetches")}

    before = snapshot()
    run_dir = Path(settings.home) / "runs"
    (directory,) = [d for d in run_dir.iterdir() if d.name.startswith("manual")
                    and (d / "manifest.json").read_text().find(result.run_id) >= 0]
    shards = sorted(str(p) for p in (directory / "shards").iterdir())
    load_run(str(directory), shards)
    assert snapshot() == before


def test_duckdb_cli_opens_the_warehouse(audited):
    settings, result, _, _ = audited
    cli = shutil.which("duckdb") or str(Path(__file__).resolve().parents[2] / ".venv/bin/duckdb")
    if not Path(cli).exists():
        pytest.skip("duckdb CLI not installed")
    import duckdb_extension_json

    extension = next(Path(duckdb_extension_json.__file__).parent.rglob("json.duckdb_extension"))
    sql = (f"LOAD '{extension}'; SELECT to_json({{'n': count(*) > 0}}) FROM findings "
           f"WHERE run_id = '{result.run_id}'")
    out = subprocess.run([cli, "-readonly", "-csv", "-noheader", str(settings.warehouse), sql],
                         capture_output=True, text=True, timeout=60, check=True)
    assert out.stdout.strip() == '"{""n"":true}"'  # CSV-quoted JSON


def test_the_evidence_of_findings_is_archived_and_verifies(audited, tmp_path):
    """Every finding whose URL answered has its response in a WARC record; one finding of
    each code is extracted with `lupa evidence` and its digest checks."""
    from lupa.cli import main
    from lupa.evidence import find_evidence

    settings, result, _, _ = audited
    with duckdb.connect(str(settings.warehouse), read_only=True) as con:
        unarchived = con.execute("""
            SELECT f.code, count(*) FROM findings f
            WHERE f.run_id = ? AND NOT EXISTS (
                SELECT 1 FROM fetches x WHERE x.run_id = f.run_id
                AND x.subject_id = f.subject_id AND x.evidence_ref IS NOT NULL
                AND f.evidence_url IN (x.url, x.final_url))
            GROUP BY ALL""", [result.run_id]).fetchall()
        sample = con.execute("SELECT any_value(finding_id ORDER BY finding_id), code "
                             "FROM findings WHERE run_id = ? GROUP BY code ORDER BY code",
                             [result.run_id]).fetchall()
    # only portals that never answered (no connection, no TLS handshake) lack a record
    assert {code for code, _ in unarchived} <= {"PORTAL_UNREACHABLE", "TLS_INVALID"}
    extracted = 0
    for finding_id, code in sample:
        if code in ("PORTAL_UNREACHABLE", "TLS_INVALID"):
            continue
        out = tmp_path / finding_id
        assert main(["evidence", finding_id, "--out", str(out), "--warehouse",
                     str(settings.warehouse)]) == 0, code
        found = find_evidence(settings.warehouse, finding_id)
        assert found.verified and out.read_bytes() == found.evidence.payload
        extracted += 1
    assert extracted >= 19
