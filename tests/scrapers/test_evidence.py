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
from scrapers.fetch import Fetcher, FetchPolicy, Prior


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


# --- revalidation (incremental harvesting) ----------------------------------------------------

def validated(body: bytes, etag: str, last_modified: str = "Wed, 15 Oct 2025 12:00:00 GMT"):
    """A file that answers 304 to its own validators, like a real static file server."""
    def handle(exchange):
        headers = [("Content-Type", "text/csv"), ("ETag", etag), ("Last-Modified", last_modified)]
        if exchange.headers.get("If-None-Match") == etag:
            exchange.send_body(304, b"", headers)
        else:
            exchange.send_body(200, body, headers)
    return handle


def first_and_second_fetch(server, fake_time, tmp_path, url, tamper=None):
    with WarcArchive(tmp_path / "run1.warc.gz") as archive:
        first = archived_fetcher(server, fake_time, archive).fetch(url)
    if tamper:
        tamper(tmp_path / "run1.warc.gz")
    prior = Prior(first.final_url, first.headers.get("etag"), first.headers.get("last-modified"),
                  first.sha256, first.evidence_ref, "r1")
    with WarcArchive(tmp_path / "run2.warc.gz") as archive:
        fetcher = archived_fetcher(server, fake_time, archive)
        fetcher.priors = {prior.url: prior}
        second = fetcher.fetch(url)
    return first, second, archive


def test_an_unchanged_file_is_revalidated_not_downloaded(server, fake_time, tmp_path):
    body = b"AREA,MONTO\nFinanzas,100\n" * 50
    server.route("/datos.csv", validated(body, '"v1"'))
    first, second, archive = first_and_second_fetch(server, fake_time, tmp_path,
                                                    server.url("/datos.csv"))
    assert first.downloaded_bytes == len(body) and not first.not_modified
    assert second.ok and second.status_code == 200 and second.content == body
    assert second.not_modified and second.downloaded_bytes == 0
    assert second.observed_run == "r1" and second.evidence_ref == first.evidence_ref
    assert second.sha256 == first.sha256 and second.sniffed_type == first.sniffed_type
    sent = [r.headers for r in server.requests if r.path == "/datos.csv"]
    assert sent[-1].get("If-None-Match") == '"v1"'
    assert archive.revisits == 1
    row = second.fetch_row()
    assert (row["not_modified"], row["downloaded_bytes"], row["observed_run"]) == (True, 0, "r1")
    assert row["etag"] == '"v1"'
    check = subprocess.run([str(Path(sys.executable).with_name("warcio")), "check",
                            str(tmp_path / "run2.warc.gz")], capture_output=True, text=True,
                           timeout=60)
    assert check.returncode == 0, check.stdout + check.stderr


def test_a_damaged_archive_means_downloading_again(server, fake_time, tmp_path):
    body = b"AREA,MONTO\nFinanzas,100\n"
    server.route("/datos.csv", validated(body, '"v1"'))

    def damage(path):
        path.write_bytes(b"")

    _, second, _ = first_and_second_fetch(server, fake_time, tmp_path,
                                          server.url("/datos.csv"), tamper=damage)
    assert second.ok and second.content == body and not second.not_modified
    assert second.downloaded_bytes == len(body)
    assert read_evidence(second.evidence_ref).payload == body  # archived anew


def test_a_changed_file_is_downloaded(server, fake_time, tmp_path):
    versions = iter([b"v1 data", b"v2 data, corrected"])
    current = {"body": next(versions)}

    def handle(exchange):
        etag = '"' + hashlib.sha256(current["body"]).hexdigest()[:8] + '"'
        if exchange.headers.get("If-None-Match") == etag:
            exchange.send_body(304, b"", [("ETag", etag)])
        else:
            exchange.send_body(200, current["body"], [("ETag", etag),
                                                      ("Content-Type", "text/plain")])

    server.route("/doc.txt", handle)
    with WarcArchive(tmp_path / "r1.warc.gz") as archive:
        first = archived_fetcher(server, fake_time, archive).fetch(server.url("/doc.txt"))
    current["body"] = next(versions)
    with WarcArchive(tmp_path / "r2.warc.gz") as archive:
        fetcher = archived_fetcher(server, fake_time, archive)
        fetcher.priors = {first.final_url: Prior(first.final_url, first.headers["etag"], None,
                                                 first.sha256, first.evidence_ref, "r1")}
        second = fetcher.fetch(server.url("/doc.txt"))
    assert second.content == b"v2 data, corrected" and not second.not_modified
