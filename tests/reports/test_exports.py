"""CSV/Parquet exports: the warehouse's rows, safe to open in a spreadsheet."""

from __future__ import annotations

import csv

import duckdb
import pytest

from reports.exports import BOM, neutralise, write_exports
from warehouse.schema import connect
from warehouse.scoring import compute_scores

HOSTILE = ["=HYPERLINK(\"http://evil\",\"x\")", "+1+1", "-2+3", "@SUM(A1)", "\tx", " =1",
           "＝1"]


@pytest.fixture
def warehouse(tmp_path):
    path = tmp_path / "w.duckdb"
    con = connect(path)
    con.execute("INSERT INTO runs (run_id, started_at, status, as_of, law) VALUES "
                "('r1', '2025-01-01', 'success', '2025-01-01', 'LGTAIP-2015')")
    for i, name in enumerate(HOSTILE):
        sid = f"s{i}"
        con.execute("INSERT INTO subjects (subject_id, name, level, subject_type, portal_url) "
                    "VALUES (?, ?, 'federal', 'ejecutivo', 'https://example.org/')", [sid, name])
        con.execute("INSERT INTO obligation_checks (run_id, subject_id, obligation_id, status) "
                    "VALUES ('r1', ?, '70-I', 'missing')", [sid])
        con.execute("INSERT INTO findings VALUES (?, 'r1', ?, '70-I', 'OBLIGATION_MISSING', "
                    "'high', ?, ?)", [f"f{i}", sid, name, "=cmd|' /C calc'!A0"])
    compute_scores(con, "r1")
    con.close()
    return path


def test_text_cells_that_look_like_formulas_are_neutralised_in_csv(warehouse, tmp_path):
    con = connect(warehouse, read_only=True)
    files = write_exports(con, "r1", tmp_path / "datos")
    con.close()
    assert sorted(p.name for p in files) == [
        "hallazgos.csv", "hallazgos.parquet", "obligaciones.csv", "obligaciones.parquet",
        "puntajes.csv", "puntajes.parquet"]
    raw = (tmp_path / "datos" / "hallazgos.csv").read_bytes()
    assert raw.startswith(BOM)
    rows = list(csv.DictReader(raw[len(BOM):].decode("utf-8").splitlines(keepends=True)))
    assert sorted(r["message"] for r in rows) == sorted("'" + h for h in HOSTILE)
    assert {r["evidence_url"] for r in rows} == {"'=cmd|' /C calc'!A0"}
    for row in rows:  # no cell a spreadsheet would evaluate
        assert not any(neutralise(v) != v for v in row.values()), row
    scores = list(csv.DictReader((tmp_path / "datos" / "puntajes.csv").read_text(
        encoding="utf-8-sig").splitlines()))
    assert {r["index_0_100"] for r in scores} == {"0.0"}  # numbers stay numbers
    obligations = list(csv.DictReader((tmp_path / "datos" / "obligaciones.csv").read_text(
        encoding="utf-8-sig").splitlines()))
    assert {r["reasons"] for r in obligations} == {"OBLIGATION_MISSING"}  # lists flattened


def test_parquet_keeps_the_warehouse_values(warehouse, tmp_path):
    con = connect(warehouse, read_only=True)
    write_exports(con, "r1", tmp_path / "datos")
    stored = con.execute("SELECT subject_id, index_0_100, rank_national FROM scores "
                         "ORDER BY subject_id").fetchall()
    con.close()
    exported = duckdb.sql(
        f"SELECT subject_id, index_0_100, rank_national FROM "
        f"'{tmp_path / 'datos' / 'puntajes.parquet'}' ORDER BY subject_id").fetchall()
    assert exported == stored
    messages = duckdb.sql(f"SELECT message FROM '{tmp_path / 'datos' / 'hallazgos.parquet'}'"
                          ).fetchall()
    assert sorted(m for (m,) in messages) == sorted(HOSTILE)


@pytest.mark.parametrize(("value", "safe"), [
    ("=1+1", "'=1+1"), ("-5", "'-5"), ("texto", "texto"), ("a=b", "a=b"), ("", ""),
    ("\r=1", "'\r=1"),
])
def test_neutralise(value, safe):
    assert neutralise(value) == safe
