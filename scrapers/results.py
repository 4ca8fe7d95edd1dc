"""The record of one fetch: what the ``fetches`` table stores and the crawler reasons on.

Kept apart from the fetcher so that offline page sources (recorded responses in tests) and
the live fetcher produce the same thing.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import UTC, datetime

# Machine-readable failure kinds; ``FetchResult.error`` is one of these or None.
ERRORS = (
    "timeout",            # connect or read timeout, after retries
    "connect",            # connection refused/reset, after retries
    "dns",                # name does not resolve
    "tls",                # certificate or handshake failure
    "too_large",          # body exceeded the size cap (content truncated)
    "redirect_loop",      # a redirect chain revisited a URL
    "too_many_redirects",
    "private_address",    # destination refused by the network guard
    "robots",             # robots.txt disallows this URL for Lupa
    "invalid_url",        # not http(s), credentials in URL, unparsable
    "http_error",         # the server answered >= 400 (status_code says which)
)


@dataclass(frozen=True)
class Redirect:
    url: str
    status_code: int
    location: str


@dataclass
class FetchResult:
    url: str
    final_url: str
    status_code: int | None = None
    headers: dict[str, str] = field(default_factory=dict)
    declared_type: str | None = None  # Content-Type media type, lower-case, no parameters
    sniffed_type: str | None = None   # media type detected from the bytes
    encoding: str | None = None       # detected text encoding (text types only)
    content: bytes = b""
    elapsed_ms: int = 0
    fetched_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    redirects: list[Redirect] = field(default_factory=list)
    error: str | None = None
    error_detail: str | None = None
    truncated: bool = False
    attempts: int = 1
    evidence_ref: str | None = None  # the WARC record of the response (scrapers.evidence)
    downloaded_bytes: int = 0  # body bytes received over the network for this result
    not_modified: bool = False  # a 304: the body is an earlier run's (observed_run)
    observed_run: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None and self.status_code is not None and 200 <= self.status_code < 300

    @property
    def bytes(self) -> int:
        return len(self.content)

    @property
    def sha256(self) -> str | None:
        return hashlib.sha256(self.content).hexdigest() if self.status_code is not None else None

    @property
    def text(self) -> str:
        """Body decoded with the detected encoding (replacement characters on errors)."""
        return self.content.decode(self.encoding or "utf-8", errors="replace")

    def fetch_row(self) -> dict:
        """The columns of the ``fetches`` table that come from the fetch itself."""
        return {
            "url": self.url,
            "final_url": self.final_url,
            "status_code": self.status_code,
            "content_type": self.sniffed_type or self.declared_type,
            "declared_type": self.declared_type,
            "bytes": self.bytes,
            "sha256": self.sha256,
            "elapsed_ms": self.elapsed_ms,
            "fetched_at": self.fetched_at,
            "redirects": len(self.redirects),
            "error": self.error,
            "error_detail": self.error_detail,
            "evidence_ref": self.evidence_ref,
            "etag": self.headers.get("etag"),
            "last_modified": self.headers.get("last-modified"),
            "downloaded_bytes": self.downloaded_bytes,
            "not_modified": self.not_modified,
            "observed_run": self.observed_run,
        }
