"""lupa report's directory handling: whole-site swap, never clobbering foreign folders."""

from __future__ import annotations

import json

import pytest

import reports.pages
from lupa.cli import main
from reports.build import MARKER, ReportError, build_reports
from warehouse.schema import connect
from warehouse.scoring import compute_scores


@pytest.fixture
def warehouse(tmp_path):
    path = tmp_path / "w.duckdb"
    con = connect(path)
    for run_id, day, status in (("r1", 1, "success"), ("r2", 2, "success"),
                                ("r3", 3, "failed")):
        con.execute("INSERT INTO runs (run_id, started_at, status, as_of, law) VALUES "
                    "(?, ?, ?, ?, 'LGTAIP-2015')", [run_id, f"2025-0{day}-01", status,
                                                   f"2025-0{day}-01"])
    con.execute("INSERT INTO subjects (subject_id, name, level, subject_type, portal_url) "
                "VALUES ('A', 'Sujeto A', 'federal', 'ejecutivo', 'https://a.example/')")
    for run_id in ("r1", "r2"):
        con.execute("INSERT INTO obligation_checks (run_id, subject_id, obligation_id, status) "
                    "VALUES (?, 'A', '70-I', 'present')", [run_id])
        compute_scores(con, run_id)
    con.close()
    return path


def test_builds_the_latest_successful_run_and_prints_the_overview_last(warehouse, tmp_path,
                                                                        capsys):
    out = tmp_path / "informe"
    assert main(["report", "--warehouse", str(warehouse), "--out", str(out)]) == 0
    assert capsys.readouterr().out.strip().splitlines()[-1] == str(out / "index.html")
    assert json.loads((out / MARKER).read_text())["run_id"] == "r2"
    assert (out / "sujetos").is_dir() and (out / "datos" / "puntajes.csv").is_file()


def test_a_folder_that_is_not_a_report_is_never_replaced(warehouse, tmp_path, capsys):
    foreign = tmp_path / "documentos"
    foreign.mkdir()
    (foreign / "tesis.docx").write_text("no borrar")
    with pytest.raises(ReportError, match="holds no Lupa report"):
        build_reports(warehouse, foreign)
    assert main(["report", "--warehouse", str(warehouse), "--out", str(foreign)]) == 2
    assert "holds no Lupa report" in capsys.readouterr().err
    assert [p.name for p in foreign.iterdir()] == ["tesis.docx"]


def test_a_failed_build_leaves_the_previous_report(warehouse, tmp_path, monkeypatch):
    out = tmp_path / "informe"
    build_reports(warehouse, out, "r1")
    before = sorted(p.relative_to(out) for p in out.rglob("*"))

    def broken(*args, **kwargs):
        raise RuntimeError("disco lleno")

    monkeypatch.setattr(reports.pages, "render_site", broken)
    with pytest.raises(RuntimeError, match="disco lleno"):
        build_reports(warehouse, out, "r2")
    assert sorted(p.relative_to(out) for p in out.rglob("*")) == before
    assert json.loads((out / MARKER).read_text())["run_id"] == "r1"
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".informe")] == []


def test_unsuccessful_or_unknown_runs_are_refused(warehouse, tmp_path):
    with pytest.raises(ReportError, match="status 'failed'"):
        build_reports(warehouse, tmp_path / "x", "r3")
    with pytest.raises(ReportError, match="no run 'r9'"):
        build_reports(warehouse, tmp_path / "x", "r9")


def test_lupa_score_rescores_with_another_file(warehouse, tmp_path, capsys):
    from audit.scoring import DEFAULT_PATH

    other = tmp_path / "pesos.toml"
    other.write_text(DEFAULT_PATH.read_text(encoding="utf-8").replace(
        'version = "2026.1"', 'version = "prueba"'), encoding="utf-8")
    assert main(["score", "--warehouse", str(warehouse), "--run", "r1",
                 "--scoring", str(other)]) == 0
    assert "Scored run r1: 1 subjects" in capsys.readouterr().out
    con = connect(warehouse, read_only=True)
    assert con.execute("SELECT run_id, version FROM score_config ORDER BY 1").fetchall() == [
        ("r1", "prueba"), ("r2", "2026.1")]
    con.close()
    assert main(["score", "--warehouse", str(warehouse), "--scoring",
                 str(tmp_path / "nope.toml")]) == 2
