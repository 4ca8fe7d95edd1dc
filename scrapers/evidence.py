"""Evidence: every response the fetcher receives, archived as a WARC record.

A finding is only as strong as what backs it. ``WarcArchive`` writes one ``response``
record per fetch (the final hop of a redirect chain, body as received after transfer
decoding) to a gzipped WARC file, one gzip member per record so that any record can be
read back by its offset. ``fetches.evidence_ref`` holds ``<warc path>#<offset>``;
``read_evidence`` reads it back and checks the payload against its SHA-256 digest.

Records carry the standard WARC headers (``WARC-Target-URI`` = final URL, ``WARC-Date`` =
request time) and ``WARC-Payload-Digest: sha256:<hex>`` — the same hex digest as
``fetches.sha256`` — plus ``Lupa-Requested-URI`` (the URL asked for, before redirects),
``Lupa-Redirects`` and ``Lupa-Truncated`` (the body was cut at the size cap).
"""

from __future__ import annotations

import gzip
import hashlib
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from http import HTTPStatus
from io import BytesIO
from pathlib import Path

from warcio.archiveiterator import ArchiveIterator
from warcio.exceptions import ArchiveLoadFailed
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from scrapers.results import FetchResult

DIGEST_PREFIX = "sha256:"
REVISIT_PROFILE = "http://netpreserve.org/warc/1.1/revisit/server-not-modified"
# The body is stored decoded: headers that described the transfer encoding would lie.
_TRANSFER_HEADERS = frozenset({"content-encoding", "transfer-encoding", "content-length"})


class EvidenceError(RuntimeError):
    """The evidence cannot be read, or does not match its digest."""


class WarcArchive:
    """Append response records to one WARC file; safe to share between crawler threads.

    The file is created (truncated) when the archive opens: a retried harvest rewrites its
    shard's evidence together with the fetch rows that point into it.
    """

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._handle = self.path.open("wb")
        self._writer = WARCWriter(self._handle, gzip=True)
        self._lock = threading.Lock()
        self.records = 0
        self.revisits = 0

    def record(self, result: FetchResult) -> str | None:
        """Archive ``result``'s response; returns its reference, or None when nothing was
        received (no status: DNS, connection or TLS failure, refused URL)."""
        if result.status_code is None:
            return None
        record = self._writer.create_warc_record(
            result.final_url, "response", payload=BytesIO(result.content),
            length=len(result.content), warc_headers_dict=_warc_headers(result),
            http_headers=_http_headers(result))
        return self._append(record, "records")

    def revisit(self, result: FetchResult, prior) -> str:
        """Record that ``result`` was revalidated (304) against ``prior``'s archived response
        (a ``revisit`` record, profile server-not-modified, pointing at the original)."""
        headers = _warc_headers(result)
        headers.update({
            "WARC-Profile": REVISIT_PROFILE,
            "WARC-Refers-To-Target-URI": prior.url,
            "Lupa-Refers-To-Record": prior.evidence_ref,
            "Lupa-Refers-To-Run": prior.run_id,
        })
        record = self._writer.create_warc_record(
            result.final_url, "revisit", payload=BytesIO(b""), length=0,
            warc_headers_dict=headers, http_headers=_http_headers(result, 304))
        return self._append(record, "revisits")

    def _append(self, record, counter: str) -> str:
        """Write one record (its own gzip member) and return its reference."""
        with self._lock:
            offset = self._handle.tell()
            self._writer.write_record(record)
            self._handle.flush()
            setattr(self, counter, getattr(self, counter) + 1)
        return f"{self.path}#{offset}"

    def close(self) -> None:
        with self._lock:
            self._handle.close()

    def __enter__(self) -> WarcArchive:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


@dataclass(frozen=True)
class Evidence:
    """One archived response, read back from its WARC record."""

    ref: str
    target_uri: str
    requested_uri: str | None
    date: str
    status_code: int
    headers: list[tuple[str, str]]
    payload: bytes
    digest: str  # the record's WARC-Payload-Digest

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.payload).hexdigest()

    @property
    def digest_ok(self) -> bool:
        return self.digest == DIGEST_PREFIX + self.sha256

    def header(self, name: str) -> str | None:
        return next((v for k, v in self.headers if k.lower() == name.lower()), None)


def read_evidence(ref: str) -> Evidence:
    """The record ``ref`` (``<path>#<offset>``) points at; EvidenceError when it cannot be
    read. The digest is not enforced here: check ``Evidence.digest_ok``."""
    path, sep, offset = ref.rpartition("#")
    if not sep or not offset.isdigit():
        raise EvidenceError(f"malformed evidence reference {ref!r} (expected PATH#OFFSET)")
    try:
        with _open(path) as handle:
            handle.seek(int(offset))
            record = next(iter(ArchiveIterator(handle)), None)
            if record is None or record.rec_type != "response":
                raise EvidenceError(f"{ref}: no response record at that offset")
            payload = record.content_stream().read()
            http = record.http_headers
            return Evidence(
                ref=ref,
                target_uri=record.rec_headers.get_header("WARC-Target-URI"),
                requested_uri=record.rec_headers.get_header("Lupa-Requested-URI"),
                date=record.rec_headers.get_header("WARC-Date"),
                status_code=int(http.get_statuscode()),
                headers=list(http.headers),
                payload=payload,
                digest=record.rec_headers.get_header("WARC-Payload-Digest") or "",
            )
    except FileNotFoundError as exc:
        raise EvidenceError(f"{ref}: the WARC file is gone ({path})") from exc
    except (OSError, ArchiveLoadFailed, EOFError, gzip.BadGzipFile, ValueError) as exc:
        raise EvidenceError(f"{ref}: unreadable WARC record: {exc}") from exc


def _open(path: str):
    """A local file, or an object-store URL (``s3://…``, ``file://…``) through Airflow's
    ObjectStoragePath (fsspec), for evidence kept in object storage."""
    if "://" not in path:
        return open(path, "rb")
    from airflow.sdk import ObjectStoragePath

    try:
        return ObjectStoragePath(path).open("rb")
    except ValueError as exc:  # no filesystem for the scheme (provider not installed)
        raise OSError(f"cannot open {path}: {exc}") from exc


def publish(local: Path, store_url: str) -> str:
    """Copy a finished WARC file to ``store_url`` (an object-store URL) and remove the local
    copy; returns the stored file's URL, for evidence references."""
    from airflow.sdk import ObjectStoragePath

    target = ObjectStoragePath(store_url)
    target.parent.mkdir(parents=True, exist_ok=True)
    with Path(local).open("rb") as src, target.open("wb") as dst:
        while chunk := src.read(1 << 20):
            dst.write(chunk)
    Path(local).unlink()
    return str(target)


def _warc_headers(result: FetchResult) -> dict[str, str]:
    when = result.fetched_at or datetime.now(UTC)
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return {
        "WARC-Date": when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "WARC-Payload-Digest": DIGEST_PREFIX + hashlib.sha256(result.content).hexdigest(),
        "Lupa-Requested-URI": result.url,
        "Lupa-Redirects": str(len(result.redirects)),
        "Lupa-Truncated": "true" if result.truncated else "false",
    }


def _http_headers(result: FetchResult, status: int | None = None) -> StatusAndHeaders:
    status = status or result.status_code
    try:
        reason = HTTPStatus(status).phrase
    except ValueError:
        reason = "Unknown"
    headers = []
    for name, value in result.headers.items():
        if name.lower() in _TRANSFER_HEADERS:
            headers.append((f"Lupa-Original-{name}", value))
        else:
            headers.append((name, value))
    if status == result.status_code:
        headers.append(("Content-Length", str(len(result.content))))
    return StatusAndHeaders(f"{status} {reason}", headers, protocol="HTTP/1.1")
