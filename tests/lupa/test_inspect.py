"""``lupa inspect`` on the real SIPOT files and over HTTP on loopback."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lupa import cli
from tests.scrapers.loopback_server import LoopbackServer, respond

REAL = Path(__file__).resolve().parents[1] / "fixtures" / "real_sipot"
VIII_2025 = REAL / "export_2025_state_university_art70_frVIII.xlsx"


def run_json(capsys, *args) -> dict:
    assert cli.main(["inspect", *args, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


@pytest.mark.skipif(not VIII_2025.exists(), reason="real SIPOT fixtures absent")
def test_real_export(capsys):
    report = run_json(capsys, str(VIII_2025))
    assert report["detected_format"] == "xlsx" and report["stars"] == 2
    assert report["header_row"] == 6 and len(report["columns"]) == 35
    assert report["rows"] == 3900
    assert report["period"]["start"] == "2025-07-01" and report["period"]["end"] == "2025-09-30"
    assert report["official_format"]["obligation_id"] == "70-VIII"
    assert report["findings"] == []
    assert report["roles"]["ejercicio"].upper() == "EJERCICIO"


def test_text_output_and_missing_file(capsys, tmp_path):
    assert cli.main(["inspect", str(tmp_path / "nothing.xlsx")]) == 2
    assert "nothing.xlsx" in capsys.readouterr().err
    csv = tmp_path / "datos.csv"
    csv.write_text("Ejercicio,Nota\n", encoding="utf-8")
    assert cli.main(["inspect", str(csv)]) == 0
    out = capsys.readouterr().out
    assert "openness 3/5" in out and "EMPTY_DATASET" in out


@pytest.fixture
def server():
    with LoopbackServer() as srv:
        yield srv


def test_url_on_loopback_needs_permission(capsys, server):
    server.route("/f.csv", respond(b"Ejercicio;Nota\n2025;x\n", content_type="text/csv"))
    url = server.url("/f.csv")
    assert cli.main(["inspect", url]) == 2
    assert "private" in capsys.readouterr().err.lower()
    report = run_json(capsys, url, "--allow-private-networks")
    assert report["source"]["status_code"] == 200 and report["rows"] == 1
