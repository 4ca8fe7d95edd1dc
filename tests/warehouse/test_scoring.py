"""The scoring model in SQL (migration 0003) on small hand-made runs, checked by hand."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import replace
from itertools import count
from pathlib import Path

import pyarrow as pa
import pytest

from audit.scoring import load_scoring
from warehouse.schema import connect
from warehouse.scoring import compute_scores, rescore

_ids = count()
# bundled weights: presencia 40, actualizacion 15, confiabilidad 10, formato 10 (cumplimiento);
# apertura 10, validez 10, enlaces 5 (utilidad); total 100
SEVERITY = {"OBLIGATION_MISSING": "high", "OUTDATED": "medium", "HARD_TO_FIND": "low",
            "NOT_MACHINE_READABLE": "medium", "TLS_INVALID": "medium",
            "JUSTIFIED_ABSENCE": "info", "PORTAL_UNREACHABLE": "critical",
            "DATA_QUALITY": "low", "LINK_BROKEN": "high"}


def add_subject(con, subject_id, state="Jalisco", subject_type="ejecutivo", level="estatal"):
    con.execute("INSERT INTO subjects (subject_id, name, level, state, subject_type, portal_url) "
                "VALUES (?, ?, ?, ?, ?, 'https://example.org/')",
                [subject_id, f"Sujeto {subject_id}", level, state, subject_type])


def add_run(con, run_id, day):
    con.execute("INSERT INTO runs (run_id, started_at, status, as_of, law) "
                "VALUES (?, ?, 'success', ?, 'LGTAIP-2015')",
                [run_id, f"2025-0{day}-01 00:00:00", f"2025-0{day}-01"])


def check(con, run_id, subject_id, obligation_id, status, periods_behind=None):
    con.execute("INSERT INTO obligation_checks (run_id, subject_id, obligation_id, status, "
                "periods_behind) VALUES (?, ?, ?, ?, ?)",
                [run_id, subject_id, obligation_id, status, periods_behind])


def finding(con, run_id, subject_id, obligation_id, code):
    con.execute("INSERT INTO findings VALUES (?, ?, ?, ?, ?, ?, 'mensaje', NULL)",
                [f"f{next(_ids)}", run_id, subject_id, obligation_id, code, SEVERITY[code]])


def obligation(con, run_id, subject_id):
    rows = con.execute("SELECT * FROM obligation_scores WHERE run_id = ? AND subject_id = ? "
                       "ORDER BY obligation_id", [run_id, subject_id]).fetchall()
    names = [d[0] for d in con.description]
    return {row[2]: dict(zip(names, row, strict=True)) for row in rows}


def score(con, run_id, subject_id):
    row = con.execute("SELECT * FROM scores WHERE run_id = ? AND subject_id = ?",
                      [run_id, subject_id]).fetchone()
    return dict(zip([d[0] for d in con.description], row, strict=True))


@pytest.fixture
def con(tmp_path):
    con = connect(tmp_path / "w.duckdb")
    yield con
    con.close()


def one_subject_run(con):
    add_subject(con, "A")
    add_run(con, "r1", 1)
    check(con, "r1", "A", "70-I", "present")                        # clean: 1
    check(con, "r1", "A", "70-II", "present", periods_behind=1)     # OUTDATED, one period
    finding(con, "r1", "A", "70-II", "OUTDATED")
    check(con, "r1", "A", "70-III", "present", periods_behind=3)    # OUTDATED, three
    finding(con, "r1", "A", "70-III", "OUTDATED")
    check(con, "r1", "A", "70-IV", "present")                       # PDF only
    finding(con, "r1", "A", "70-IV", "NOT_MACHINE_READABLE")
    check(con, "r1", "A", "70-V", "missing")
    finding(con, "r1", "A", "70-V", "OBLIGATION_MISSING")
    check(con, "r1", "A", "70-VI", "justified")
    finding(con, "r1", "A", "70-VI", "JUSTIFIED_ABSENCE")
    check(con, "r1", "A", "71-I", "not_applicable")


def test_each_criterion_takes_the_value_its_findings_leave(con):
    one_subject_run(con)
    assert compute_scores(con, "r1") == 1
    o = obligation(con, "r1", "A")
    assert "71-I" not in o  # not applicable: not scored
    assert o["70-I"]["score"] == 1 and o["70-I"]["reasons"] == []
    assert o["70-II"]["actualizacion"] == 0.5 and o["70-II"]["score"] == pytest.approx(0.925)
    assert o["70-III"]["actualizacion"] == 0 and o["70-III"]["score"] == pytest.approx(0.85)
    assert (o["70-IV"]["formato"], o["70-IV"]["apertura"]) == (0, 0.5)
    assert o["70-IV"]["score"] == pytest.approx(0.85)
    assert o["70-IV"]["cumplimiento"] == pytest.approx(65 / 75)
    assert o["70-IV"]["utilidad"] == pytest.approx(20 / 25)
    assert o["70-V"]["score"] == 0 and o["70-V"]["reasons"] == ["OBLIGATION_MISSING"]
    assert o["70-VI"]["score"] == 1 and o["70-VI"]["reasons"] == []  # justified = met
    assert o["70-II"]["reasons"] == ["OUTDATED"]
    # points lost add up to what the index lacks
    s = score(con, "r1", "A")
    expected = 100 * (1 + 0.925 + 0.85 + 0.85 + 0 + 1) / 6
    assert s["index_0_100"] == round(expected, 2)
    assert sum(x["points_lost"] for x in o.values()) == pytest.approx(100 - expected, abs=1e-3)
    assert s["presence"] == round(100 * 5 / 6, 2)
    assert (s["obligations_applicable"], s["obligations_published"]) == (6, 5)
    assert s["findings"] == 4  # the informational JUSTIFIED_ABSENCE is not counted
    assert s["band"] == "Alto" and s["rank_national"] == 1  # 77.08


def test_portal_level_findings_count_against_every_published_obligation(con):
    add_subject(con, "A")
    add_run(con, "r1", 1)
    check(con, "r1", "A", "70-I", "present")
    check(con, "r1", "A", "70-II", "present")
    finding(con, "r1", "A", None, "TLS_INVALID")
    compute_scores(con, "r1")
    o = obligation(con, "r1", "A")
    assert {x["enlaces"] for x in o.values()} == {0.5}
    assert {tuple(x["reasons"]) for x in o.values()} == {("TLS_INVALID",)}


def test_an_unreachable_portal_scores_zero_and_says_why(con):
    add_subject(con, "A")
    add_run(con, "r1", 1)
    for oid in ("70-I", "70-II"):
        check(con, "r1", "A", oid, "unreachable")
    finding(con, "r1", "A", None, "PORTAL_UNREACHABLE")
    compute_scores(con, "r1")
    assert score(con, "r1", "A")["index_0_100"] == 0
    assert score(con, "r1", "A")["band"] == "Crítico"
    assert {tuple(x["reasons"]) for x in obligation(con, "r1", "A").values()} == {
        ("PORTAL_UNREACHABLE",)}


def test_weights_come_from_the_configuration_and_are_recorded(con, tmp_path):
    one_subject_run(con)
    compute_scores(con, "r1")
    before = score(con, "r1", "A")["index_0_100"]
    config = load_scoring()
    heavier = replace(config, obligation_weights={"70-V": 4.0},
                      criteria={**config.criteria, "presencia": ("cumplimiento", 100.0)})
    compute_scores(con, "r1", heavier)
    after = score(con, "r1", "A")
    assert after["index_0_100"] < before  # the missing obligation now weighs four
    assert con.execute("SELECT weight FROM score_obligation_weights WHERE run_id = 'r1'"
                       ).fetchall() == [(4.0,)]
    assert con.execute("SELECT weight FROM score_criteria WHERE criterion = 'presencia'"
                       ).fetchone() == (100.0,)
    assert con.execute("SELECT sha256 FROM score_config").fetchone() == (config.sha256,)


def test_ranks_overall_by_type_and_by_state(con):
    add_run(con, "r1", 1)
    for sid, state, kind, status in [("A", "Jalisco", "ejecutivo", "present"),
                                     ("B", "Jalisco", "judicial", "missing"),
                                     ("C", "Sonora", "ejecutivo", "missing"),
                                     ("D", None, "ejecutivo", "present")]:
        add_subject(con, sid, state, kind, "federal" if state is None else "estatal")
        check(con, "r1", sid, "70-I", status)
    compute_scores(con, "r1")
    ranks = {r[0]: r[1:] for r in con.execute(
        "SELECT subject_id, rank_national, rank_type, rank_state FROM scores").fetchall()}
    assert ranks == {"A": (1, 1, 1), "D": (1, 1, 1), "B": (3, 1, 2), "C": (3, 3, 1)}


def test_trend_views_compare_each_subject_with_its_previous_run(con):
    one_subject_run(con)
    add_run(con, "r2", 2)
    check(con, "r2", "A", "70-I", "missing")  # regression
    finding(con, "r2", "A", "70-I", "OBLIGATION_MISSING")
    check(con, "r2", "A", "70-II", "present")  # OUTDATED resolved
    compute_scores(con, "r1")
    compute_scores(con, "r2")
    history = con.execute("SELECT previous_run_id, previous_index, index_change, index_0_100 "
                          "FROM v_score_history WHERE run_id = 'r2'").fetchone()
    assert history[0] == "r1"
    assert history[2] == round(history[3] - history[1], 2)
    changes = sorted(con.execute("SELECT change, obligation_id, code FROM v_finding_changes "
                                 "WHERE run_id = 'r2'").fetchall(), key=repr)
    assert ("new", "70-I", "OBLIGATION_MISSING") in changes
    assert ("resolved", "70-II", "OUTDATED") in changes
    assert ("resolved", "70-V", "OBLIGATION_MISSING") in changes  # not audited in r2
    regressions = con.execute("SELECT obligation_id, previous_status, status FROM "
                              "v_obligation_changes WHERE regression").fetchall()
    assert regressions == [("70-I", "present", "missing")]


def test_rescore_refuses_unknown_and_unsuccessful_runs(tmp_path):
    path = tmp_path / "w.duckdb"
    con = connect(path)
    one_subject_run(con)
    con.execute("INSERT INTO runs (run_id, status) VALUES ('bad', 'failed')")
    con.close()
    with pytest.raises(LookupError, match="no run 'nope'"):
        rescore(path, "nope")
    with pytest.raises(LookupError, match="status 'failed'"):
        rescore(path, "bad")
    assert rescore(path) == ("r1", 1)


def test_the_documented_sql_recomputes_the_stored_scores_in_the_duckdb_cli(tmp_path):
    """README "Scores": the macros, run by an analyst's DuckDB shell, give exactly
    the stored scores."""
    path = tmp_path / "w.duckdb"
    con = connect(path)
    one_subject_run(con)
    add_subject(con, "B", "Sonora")
    check(con, "r1", "B", "70-I", "present")
    finding(con, "r1", "B", "70-I", "DATA_QUALITY")
    compute_scores(con, "r1")
    con.close()
    cli = Path(sys.executable).with_name("duckdb")
    sql = Path(__file__).parents[2] / "warehouse" / "queries" / "recompute_scores.sql"
    out = subprocess.run([str(cli), "-readonly", "-csv", "-cmd", "SET VARIABLE run_id = 'r1'",
                          str(path), "-c", f".read {sql}"],
                         capture_output=True, text=True, timeout=60, check=True).stdout
    assert out.strip().splitlines() == ["differences", "0"], out


def test_a_resource_code_on_a_portal_page_does_not_cost_every_obligation(con):
    add_subject(con, "A")
    add_run(con, "r1", 1)
    check(con, "r1", "A", "70-I", "present")
    con.execute("INSERT INTO findings VALUES ('enc', 'r1', 'A', NULL, 'ENCODING_ERROR', 'low', "
                "'Texto mal codificado en la portada', NULL)")
    compute_scores(con, "r1")
    assert obligation(con, "r1", "A")["70-I"]["score"] == 1


def test_the_previous_run_is_the_one_with_the_earlier_cut_off(con):
    add_subject(con, "A")
    for run_id, day in (("later", 3), ("earlier", 2)):
        add_run(con, run_id, day)
        check(con, run_id, "A", "70-I", "present")
        compute_scores(con, run_id)
    # "earlier" was audited after "later" (it started later) but covers an earlier date
    con.execute("UPDATE runs SET started_at = '2025-09-01' WHERE run_id = 'earlier'")
    assert con.execute("SELECT run_id, previous_run_id FROM v_score_history ORDER BY 1"
                       ).fetchall() == [("earlier", None), ("later", "earlier")]


def many_subjects_run(con, subjects=400, obligations=60):
    """Enough rows for DuckDB to aggregate in parallel, with weights that are not binary
    fractions, so that summing doubles would depend on the order rows arrive in."""
    import random

    rng = random.Random(5)
    add_run(con, "r1", 1)
    codes = ["OUTDATED", "NOT_MACHINE_READABLE", "HARD_TO_FIND", "DATA_QUALITY", "LINK_BROKEN"]
    statuses = ["present"] * 6 + ["missing", "justified"]
    checks, findings = [], []
    for s in range(subjects):
        subject = f"S{s:04d}"
        add_subject(con, subject, rng.choice(["Jalisco", "Sonora", "Yucatán"]))
        for o in range(obligations):
            status = rng.choice(statuses)
            checks.append(("r1", subject, f"70-{o}", status, rng.randint(0, 3)))
            for code in rng.sample(codes, rng.randint(0, 2)) if status == "present" else []:
                findings.append((f"f{next(_ids)}", "r1", subject, f"70-{o}", code, SEVERITY[code]))
    check_rows = pa.table(list(zip(*checks, strict=True)),
                          names=["run_id", "subject_id", "obligation_id", "status", "behind"])
    finding_rows = pa.table(list(zip(*findings, strict=True)),
                            names=["id", "run_id", "subject_id", "obligation_id", "code", "sev"])
    con.register("check_rows", check_rows)
    con.register("finding_rows", finding_rows)
    con.execute("INSERT INTO obligation_checks (run_id, subject_id, obligation_id, status, "
                "periods_behind) SELECT * FROM check_rows")
    con.execute("INSERT INTO findings SELECT *, 'mensaje', NULL FROM finding_rows")
    config = load_scoring()
    return replace(config, obligation_weights={f"70-{o}": round(0.1 + o / 7, 3)
                                               for o in range(0, obligations, 3)})


def test_scores_are_the_same_however_often_and_from_stored_obligation_scores(con):
    config = many_subjects_run(con)
    compute_scores(con, "r1", config)
    first = con.execute("SELECT * EXCLUDE (computed_at) FROM scores ORDER BY subject_id").fetchall()
    for _ in range(3):
        compute_scores(con, "r1", config)
        again = con.execute("SELECT * EXCLUDE (computed_at) FROM scores ORDER BY subject_id"
                            ).fetchall()
        assert again == first
    differences = con.execute(
        "SELECT count(*) FROM ((SELECT * FROM subject_scores_of('r1') EXCEPT ALL "
        "SELECT * FROM subject_scores_of('r1', stored := true)) UNION ALL "
        "(SELECT * FROM subject_scores_of('r1', stored := true) EXCEPT ALL "
        "SELECT * FROM subject_scores_of('r1')))").fetchone()[0]
    assert differences == 0
    assert len(first) == 400
