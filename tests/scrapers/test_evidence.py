"""WARC evidence: every response received is archived and reads back with its digest."""

from __future__ import annotations

import gzip
import hashlib
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from loopback_server import closed_port, redirect, respond
from test_fetch import make_fetcher

from scrapers.evidence import EvidenceError, WarcArchive, read_evidence
from scrapers.fetch import Fetcher, FetchPolicy


def archived_fetcher(server, fake_time, archive):
    fetcher = make_fetcher(server, fake_time)
    fetcher.archive = archive
    return fetcher


def test_a_response_reads_back_byte_for_byte_with_its_digest(server, fake_time, tmp_path):
    body = "Fracción VIII — remuneración".encode()
    server.route("/datos.csv", respond(body, content_type="text/csv; charset=utf-8",
                                       headers=[("ETag", '"v1"')]))
    server.route("/viejo", redirect("/datos.csv", 301))
    with WarcArchive(tmp_path / "e.warc.gz") as archive:
        result = archived_fetcher(server, fake_time, archive).fetch(server.url("/viejo"))
    assert result.ok and result.evidence_ref.startswith(f"{tmp_path / 'e.warc.gz'}#")
    evidence = read_evidence(result.evidence_ref)
    assert evidence.payload == body and evidence.digest_ok
    assert evidence.sha256 == result.sha256 == result.fetch_row()["sha256"]
    assert evidence.digest == "sha256:" + hashlib.sha256(body).hexdigest()
    assert evidence.target_uri == server.url("/datos.csv")  # the final hop
    assert evidence.requested_uri == server.url("/viejo")
    assert evidence.status_code == 200 and evidence.header("ETag") == '"v1"'
    assert result.fetch_row()["evidence_ref"] == result.evidence_ref
    assert evidence.date.startswith(result.fetched_at.strftime("%Y-%m-%dT%H:%M"))


def test_error_pages_are_evidence_too_and_failures_leave_no_record(server, fake_time,
                                                                    tmp_path):
    server.route("/roto", respond("<h1>No encontrado</h1>", status=404))
    with WarcArchive(tmp_path / "e.warc.gz") as archive:
        fetcher = archived_fetcher(server, fake_time, archive)
        missing = fetcher.fetch(server.url("/roto"))
        refused = Fetcher(FetchPolicy(delay_seconds=0, connect_timeout=0.5,
                                      allow_private_networks=True), archive=archive
                          ).fetch(f"http://127.0.0.1:{closed_port()}/")
    assert read_evidence(missing.evidence_ref).status_code == 404
    assert refused.error == "connect" and refused.evidence_ref is None
    assert archive.records == 2  # the 404 and robots.txt of the live server


def test_compressed_bodies_are_stored_decoded_with_honest_headers(server, fake_time, tmp_path):
    text = b"<html>" + b"transparencia " * 500 + b"</html>"
    server.route("/gz", respond(gzip.compress(text), headers=[("Content-Encoding", "gzip")]))
    with WarcArchive(tmp_path / "e.warc.gz") as archive:
        result = archived_fetcher(server, fake_time, archive).fetch(server.url("/gz"))
    evidence = read_evidence(result.evidence_ref)
    assert evidence.payload == text and evidence.digest_ok
    assert evidence.header("Content-Encoding") is None
    assert evidence.header("Lupa-Original-Content-Encoding") == "gzip"
    assert evidence.header("Content-Length") == str(len(text))


def test_threads_share_one_archive(server, fake_time, tmp_path):
    for i in range(40):
        server.route(f"/f{i}", respond(f"archivo {i}" * (i + 1), content_type="text/plain"))
    with WarcArchive(tmp_path / "e.warc.gz") as archive:
        fetcher = archived_fetcher(server, fake_time, archive)
        with ThreadPoolExecutor(8) as pool:
            results = list(pool.map(lambda i: fetcher.fetch(server.url(f"/f{i}")), range(40)))
    refs = {r.evidence_ref for r in results}
    assert len(refs) == 40
    for i, result in enumerate(results):
        assert read_evidence(result.evidence_ref).payload == f"archivo {i}".encode() * (i + 1)
    # the standard tool agrees the file is valid WARC with good digests
    check = subprocess.run([str(Path(sys.executable).with_name("warcio")), "check", "-v",
                            str(tmp_path / "e.warc.gz")], capture_output=True, text=True,
                           timeout=60)
    assert check.returncode == 0, check.stdout + check.stderr
    assert check.stdout.count("digest pass") == 41  # 40 files and robots.txt


def test_a_tampered_or_missing_record_is_detected(server, fake_time, tmp_path):
    server.route("/a", respond("original", content_type="text/plain"))
    path = tmp_path / "e.warc.gz"
    with WarcArchive(path) as archive:
        ref = archived_fetcher(server, fake_time, archive).fetch(server.url("/a")).evidence_ref
    raw = gzip.decompress(path.read_bytes()[int(ref.rpartition("#")[2]):])
    path.write_bytes(gzip.compress(raw.replace(b"original", b"cambiado")))
    tampered = read_evidence(f"{path}#0")
    assert tampered.payload == b"cambiado" and not tampered.digest_ok
    with pytest.raises(EvidenceError, match="malformed"):
        read_evidence(str(path))
    with pytest.raises(EvidenceError, match="WARC file is gone"):
        read_evidence(f"{tmp_path / 'nada.warc.gz'}#0")
    with pytest.raises(EvidenceError):
        read_evidence(f"{path}#7")  # not the start of a record
