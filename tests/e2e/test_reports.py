"""Scores, trends and reports on the audited testbed; the report opened in headless Chromium."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parents[2]
from e2e_browser import open_page  # noqa: E402  (tests/e2e/e2e_browser.py)

# Where the screenshots stay for people to look at (var/ is gitignored).
SCREENSHOTS = REPO / "var" / "screenshots"


def scores(settings, run_id):
    with duckdb.connect(str(settings.warehouse), read_only=True) as con:
        return con.execute("SELECT s.subject_id, s.index_0_100, j.name FROM scores s "
                           "JOIN subjects j USING (subject_id) WHERE run_id = ? "
                           "ORDER BY rank_national, subject_id", [run_id]).fetchall()


def test_reports_dag_builds_the_latest_runs_report(reported):
    settings, result, run_id, ids = reported
    assert result.state == "success", result.failed_tasks
    out = settings.reports_dir
    assert json.loads((out / "informe.json").read_text())["run_id"] == run_id
    assert (out / "index.html").is_file()
    assert len(list((out / "sujetos").glob("*.html"))) == len(ids)
    for name in ("hallazgos", "puntajes", "obligaciones"):
        assert (out / "datos" / f"{name}.csv").stat().st_size > 0
        assert (out / "datos" / f"{name}.parquet").stat().st_size > 0


@pytest.mark.parametrize("which", ["first", "second"])
def test_every_stored_score_is_what_the_documented_sql_gives(reported, audited, which):
    settings, _, second_id, _ = reported
    run_id = audited[1].run_id if which == "first" else second_id
    cli = Path(sys.executable).with_name("duckdb")
    out = subprocess.run(
        [str(cli), "-readonly", "-csv", "-cmd", f"SET VARIABLE run_id = '{run_id}'",
         str(settings.warehouse), "-c",
         f".read {REPO / 'warehouse' / 'queries' / 'recompute_scores.sql'}"],
        capture_output=True, text=True, timeout=120, check=True).stdout
    assert out.split() == ["differences", "0"]
    with duckdb.connect(str(settings.warehouse), read_only=True) as con:
        untraced = con.execute("SELECT count(*) FROM obligation_scores WHERE run_id = ? AND "
                               "points_lost > 0 AND len(reasons) = 0", [run_id]).fetchone()[0]
        lost = con.execute("SELECT count(*) FROM obligation_scores WHERE run_id = ? AND "
                           "points_lost > 0", [run_id]).fetchone()[0]
    assert lost > 0 and untraced == 0  # every point lost names the findings behind it


def test_a_quarter_without_updates_shows_as_a_downward_trend(reported):
    settings, _, run_id, ids = reported
    with duckdb.connect(str(settings.warehouse), read_only=True) as con:
        history = con.execute("SELECT subject_id, previous_index, index_change FROM "
                              "v_score_history WHERE run_id = ?", [run_id]).fetchall()
        new = dict(con.execute("SELECT code, count(*) FROM v_finding_changes WHERE run_id = ? "
                               "AND change = 'new' GROUP BY code", [run_id]).fetchall())
        regressions = con.execute("SELECT count(*) FROM v_obligation_changes WHERE run_id = ? "
                                  "AND regression", [run_id]).fetchone()[0]
    assert sorted(h[0] for h in history) == sorted(ids)
    assert all(h[1] is not None for h in history)  # every one has a previous run
    assert any(h[2] < 0 for h in history) and all(h[2] <= 0 for h in history)
    assert new.get("OUTDATED", 0) > 0 and regressions > 0


def test_every_index_in_the_report_is_the_stored_one(reported):
    settings, _, run_id, _ = reported
    overview = (settings.reports_dir / "index.html").read_text(encoding="utf-8")
    for _, index, name in scores(settings, run_id):
        assert f"{index:.1f}" in overview, (name, index)


def test_overview_and_subject_page_in_headless_chromium(reported, browser):
    settings, _, run_id, ids = reported
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    ranked = scores(settings, run_id)
    page = open_page(browser, settings.reports_dir / "index.html")
    body = page.inner_text("body")
    assert "Informe" in page.title() + body
    assert run_id in body
    for _, index, name in ranked:  # every subject ranked, with its index
        assert page.get_by_text(name, exact=True).first.is_visible(), name
        assert f"{index:.1f}" in body, (name, index)
    charts = page.locator("svg")
    assert charts.count() >= 4
    for i in range(charts.count()):
        box = charts.nth(i).bounding_box()
        assert box and box["width"] > 100 and box["height"] > 50, i
    page.screenshot(path=str(SCREENSHOTS / "overview.png"), full_page=True)
    assert page.errors == []
    assert all(url.startswith("file://") for url in page.requests), page.requests

    # follow the best-ranked subject's link, as a reader would
    _, index, name = ranked[0]
    page.get_by_role("link", name=name, exact=True).first.click()
    page.wait_for_load_state("load")
    subject = page.inner_text("body")
    assert name in subject and f"{index:.1f}" in subject
    assert "Qué corregir primero" in subject or index == 100
    assert page.locator("svg").count() >= 1
    page.screenshot(path=str(SCREENSHOTS / "subject.png"), full_page=True)
    assert page.errors == []
    assert all(url.startswith("file://") for url in page.requests), page.requests
    shutil.copy(SCREENSHOTS / "overview.png", settings.reports_dir.parent / "overview.png")


def test_the_audit_announces_its_warehouse_and_run_to_the_reports_dag(audited):
    """The asset event lupa_load emits is what schedules lupa_reports and tells it what to
    report on (lupa.tasks.build_report reads its extra)."""
    from airflow.models.asset import AssetEvent
    from airflow.utils.session import create_session
    from sqlalchemy import select

    settings, result, _, _ = audited
    with create_session() as session:
        events = session.scalars(select(AssetEvent).where(
            AssetEvent.source_run_id == result.run_id)).all()
        extras = [(e.source_task_id, e.extra) for e in events]
    assert extras == [("load", {"warehouse": str(settings.warehouse),
                                "run_id": result.run_id})]
