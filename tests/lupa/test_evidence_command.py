"""``lupa evidence`` and the viewer's /evidencia route: a finding's archived response."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient

from lupa.cli import main
from reports.build import MARKER
from reports.viewer import create_app
from scrapers.evidence import WarcArchive
from scrapers.results import FetchResult
from warehouse.schema import connect

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PAGE = b"<html><body>Fraccion VIII</body></html>"


def result(url: str, body: bytes, status: int, content_type: str) -> FetchResult:
    return FetchResult(url=url, final_url=url, status_code=status, content=body,
                       headers={"Content-Type": content_type},
                       fetched_at=datetime(2025, 11, 15, 12, 0, tzinfo=UTC))


@pytest.fixture
def warehouse(tmp_path):
    fetched = [result("https://portal.example/a.pdf", PDF, 200, "application/pdf"),
               result("https://portal.example/roto.xlsx", PAGE, 404, "text/html")]
    with WarcArchive(tmp_path / "shard" / "evidence.warc.gz") as archive:
        for r in fetched:
            r.evidence_ref = archive.record(r)
    path = tmp_path / "w.duckdb"
    con = connect(path)
    con.execute("INSERT INTO runs (run_id, status) VALUES ('r1', 'success')")
    for r in fetched:
        con.execute("INSERT INTO fetches (run_id, subject_id, url, final_url, status_code, "
                    "sha256, evidence_ref, purpose) VALUES ('r1', 'A', ?, ?, ?, ?, ?, "
                    "'resource')", [r.url, r.final_url, r.status_code, r.sha256,
                                    r.evidence_ref])
    con.execute("INSERT INTO fetches (run_id, subject_id, url, error, error_detail) VALUES "
                "('r1', 'B', 'https://caido.example/', 'connect', 'connection refused')")
    for fid, subject, code, url in [("f-pdf", "A", "NOT_MACHINE_READABLE",
                                     "https://portal.example/a.pdf"),
                                    ("f-404", "A", "LINK_BROKEN",
                                     "https://portal.example/roto.xlsx"),
                                    ("f-down", "B", "PORTAL_UNREACHABLE",
                                     "https://caido.example/")]:
        con.execute("INSERT INTO findings VALUES (?, 'r1', ?, NULL, ?, 'high', 'm', ?)",
                    [fid, subject, code, url])
    con.close()
    return path


def test_writes_the_response_behind_a_finding_and_checks_its_digest(warehouse, tmp_path,
                                                                    capsys):
    out = tmp_path / "evidencia.pdf"
    assert main(["evidence", "f-pdf", "--out", str(out), "--warehouse", str(warehouse)]) == 0
    assert out.read_bytes() == PDF
    printed = capsys.readouterr().out
    assert "Digest: OK" in printed and "HTTP 200" in printed
    assert main(["evidence", "f-404", "--out", str(tmp_path / "b.html"),
                 "--warehouse", str(warehouse)]) == 0  # the error page is the evidence
    assert (tmp_path / "b.html").read_bytes() == PAGE


def test_a_payload_that_does_not_match_its_fetch_is_reported(warehouse, tmp_path, capsys):
    con = connect(warehouse)
    con.execute("UPDATE fetches SET sha256 = repeat('0', 64) WHERE url LIKE '%a.pdf'")
    con.close()
    assert main(["evidence", "f-pdf", "--out", str(tmp_path / "x"), "--warehouse",
                 str(warehouse)]) == 3
    assert "Digest: MISMATCH" in capsys.readouterr().out


def test_no_response_and_unknown_findings_say_why(warehouse, capsys):
    assert main(["evidence", "f-down", "--warehouse", str(warehouse)]) == 2
    assert "no response was received" in capsys.readouterr().err
    assert main(["evidence", "nope", "--warehouse", str(warehouse)]) == 2
    assert "no finding 'nope'" in capsys.readouterr().err


def test_the_viewer_serves_evidence_as_a_download_after_checking_it(warehouse, tmp_path):
    site = tmp_path / "informe"
    site.mkdir()
    (site / "index.html").write_text("<h1>Informe</h1>")
    (site / MARKER).write_text(json.dumps({"run_id": "r1", "warehouse": str(warehouse)}))
    client = TestClient(create_app(site))
    got = client.get("/evidencia/f-pdf")
    assert got.status_code == 200 and got.content == PDF
    assert got.headers["content-type"] == "application/octet-stream"
    assert got.headers["content-disposition"].startswith("attachment;")
    assert got.headers["x-lupa-evidence-sha256"] == FetchResult(
        "u", "u", 200, content=PDF).sha256
    missing = client.get("/evidencia/f-down")
    assert missing.status_code == 404 and "no response was received" in missing.text
    con = connect(warehouse)
    con.execute("UPDATE fetches SET sha256 = repeat('0', 64) WHERE url LIKE '%a.pdf'")
    con.close()
    assert client.get("/evidencia/f-pdf").status_code == 409


def test_a_removed_documents_evidence_is_its_last_archived_version(warehouse, tmp_path,
                                                                   capsys):
    con = connect(warehouse)
    con.execute("INSERT INTO runs (run_id, status) VALUES ('r2', 'success')")
    con.execute("INSERT INTO findings VALUES ('f-gone', 'r2', 'A', '70-IX', 'REMOVED_EARLY', "
                "'high', 'm', 'https://portal.example/a.pdf')")
    con.close()
    out = tmp_path / "anterior.pdf"
    assert main(["evidence", "f-gone", "--out", str(out), "--warehouse", str(warehouse)]) == 0
    assert out.read_bytes() == PDF
    assert "(archived by run r1)" in capsys.readouterr().out


def test_evidence_can_live_in_an_object_store(tmp_path):
    """LUPA_EVIDENCE_STORE: the shard's WARC goes to the store (here a file:// URL through
    Airflow's ObjectStoragePath) and references follow it."""
    from types import SimpleNamespace

    from lupa.tasks import EVIDENCE_FILE, _move_evidence
    from scrapers.evidence import read_evidence

    shard = tmp_path / "runs" / "r1" / "shards" / "0000"
    r = result("https://portal.example/a.pdf", PDF, 200, "application/pdf")
    with WarcArchive(shard / EVIDENCE_FILE) as archive:
        r.evidence_ref = archive.record(r)
    harvest = SimpleNamespace(fetches=[{"evidence_ref": r.evidence_ref},
                                       {"evidence_ref": "/elsewhere/old.warc.gz#10"},
                                       {"evidence_ref": None}])
    store = f"file://{tmp_path}/almacen/r1/0000/{EVIDENCE_FILE}"
    _move_evidence(shard, store, [harvest])
    moved = harvest.fetches[0]["evidence_ref"]
    assert moved.startswith(f"file://{tmp_path}/almacen/") and moved.endswith("#0")
    assert harvest.fetches[1]["evidence_ref"] == "/elsewhere/old.warc.gz#10"  # untouched
    assert not (shard / EVIDENCE_FILE).exists()
    evidence = read_evidence(moved)
    assert evidence.payload == PDF and evidence.digest_ok


@pytest.mark.parametrize(("finding_id", "content_type"), [
    ("../../etc/passwd", "text/html"), ("a/b\\c", "application/x-../../x"),
    ("..", "application/pdf; name=../../x.pdf"), ("f\x00id", "")])
def test_evidence_file_names_never_leave_the_folder(finding_id, content_type, tmp_path):
    from types import SimpleNamespace

    from lupa.evidence import default_name

    found = SimpleNamespace(finding={"finding_id": finding_id},
                            evidence=SimpleNamespace(header=lambda name: content_type))
    name = default_name(found)
    assert "/" not in name and "\\" not in name and "\x00" not in name
    assert name.startswith("evidencia-") and name not in (".", "..")
    assert (tmp_path / name).resolve().parent == tmp_path.resolve()
