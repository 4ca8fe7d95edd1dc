"""An offline page source built from recorded responses.

The crawler talks to any object with ``fetch``, ``robots_allows`` and ``robots_status`` (the
live ``Fetcher``, the testbed, this class). Tests describe a whole portal as a dict of
responses and run the real crawl over it, with no network and no timing.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from urllib.parse import urljoin

from scrapers.discovery import normalize_url
from scrapers.results import ERRORS, FetchResult, Redirect

RecordedResponse = tuple[int, Mapping[str, str], bytes | str]

_REDIRECT_CODES = frozenset({301, 302, 303, 307, 308})
_MAX_REDIRECTS = 10
_CHARSET = re.compile(r"charset\s*=\s*[\"']?([\w.:-]+)", re.IGNORECASE)
_EXT_TYPES = {
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".xls": "application/vnd.ms-excel",
    ".csv": "text/csv",
    ".pdf": "application/pdf",
    ".doc": "application/msword",
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ".zip": "application/zip",
    ".ods": "application/vnd.oasis.opendocument.spreadsheet",
    ".json": "application/json",
    ".xml": "application/xml",
    ".txt": "text/plain",
}


class RecordedSource:
    """A page source that answers from a dict ``url -> (status, headers, body)``.

    A ``str`` body is encoded with the charset of its Content-Type (UTF-8 if none), so a test
    can record a windows-1252 page by writing ``text/html; charset=windows-1252``. 3xx answers
    with a ``Location`` header are followed. ``errors`` maps URLs to a network failure code
    (``timeout``, ``connect``, ``dns``, ``tls``…); ``disallow`` lists robots.txt prefixes (paths
    like ``/privado`` or absolute URL prefixes). Every requested URL is appended to
    ``requested`` so tests can assert what was (not) fetched.
    """

    def __init__(
        self,
        pages: Mapping[str, RecordedResponse],
        *,
        disallow: Iterable[str] = (),
        errors: Mapping[str, str] | None = None,
    ) -> None:
        self._pages = {normalize_url(url): response for url, response in pages.items()}
        self._errors = {normalize_url(url): code for url, code in (errors or {}).items()}
        for code in self._errors.values():
            if code not in ERRORS:
                raise ValueError(f"unknown fetch error code {code!r}")
        self._disallow = tuple(disallow)
        self.requested: list[str] = []

    def robots_allows(self, url: str) -> bool:
        return self._disallow_rule(url) is None

    def robots_status(self, url: str) -> dict:
        """A JSON-friendly verdict, shaped like what the crawler stores as robots detail."""
        rule = self._disallow_rule(url)
        return {"allowed": rule is None, "rule": rule, "source": "recorded"}

    def fetch(self, url: str, method: str = "GET") -> FetchResult:
        """Like ``Fetcher.fetch``; a HEAD answers with the recorded status and no body."""
        result = self._fetch(url)
        if method == "HEAD":
            result.content = b""
        return result

    def _fetch(self, url: str) -> FetchResult:
        self.requested.append(url)
        if self._disallow_rule(url) is not None:
            return FetchResult(
                url=url,
                final_url=url,
                error="robots",
                error_detail="disallowed by recorded robots rules",
            )
        redirects: list[Redirect] = []
        current = url
        while True:
            key = normalize_url(current)
            if key in self._errors:
                return FetchResult(
                    url=url,
                    final_url=current,
                    redirects=redirects,
                    error=self._errors[key],
                    error_detail="recorded failure",
                )
            if key not in self._pages:
                return _result(url, current, 404, {}, b"Not Found", redirects)
            status, headers, body = self._pages[key]
            location = _header(headers, "location")
            if status not in _REDIRECT_CODES or not location:
                return _result(url, current, status, dict(headers), body, redirects)
            target = urljoin(current, location)
            if any(normalize_url(r.url) == normalize_url(target) for r in redirects):
                return FetchResult(
                    url=url,
                    final_url=target,
                    redirects=redirects,
                    error="redirect_loop",
                    error_detail=target,
                )
            redirects.append(Redirect(url=current, status_code=status, location=target))
            if len(redirects) > _MAX_REDIRECTS:
                return FetchResult(
                    url=url, final_url=target, redirects=redirects, error="too_many_redirects"
                )
            current = target

    def _disallow_rule(self, url: str) -> str | None:
        normalized = normalize_url(url)
        path = re.sub(r"^[a-z]+://[^/]+", "", normalized) or "/"
        for prefix in self._disallow:
            target = normalized if "://" in prefix else path
            if target.startswith(normalize_url(prefix) if "://" in prefix else prefix):
                return prefix
        return None


def _header(headers: Mapping[str, str], name: str) -> str | None:
    for key, value in headers.items():
        if key.lower() == name:
            return value
    return None


def _result(
    url: str,
    final_url: str,
    status: int,
    headers: dict[str, str],
    body: bytes | str,
    redirects: list[Redirect],
) -> FetchResult:
    content_type = _header(headers, "content-type") or ""
    charset_match = _CHARSET.search(content_type)
    declared_charset = charset_match.group(1) if charset_match else None
    content = body.encode(declared_charset or "utf-8") if isinstance(body, str) else body
    declared = content_type.split(";")[0].strip().lower() or None
    sniffed = _sniff(content, final_url, declared)
    encoding = _encoding(content, declared_charset) if _is_text(sniffed) else None
    return FetchResult(
        url=url,
        final_url=final_url,
        status_code=status,
        headers=headers,
        declared_type=declared,
        sniffed_type=sniffed,
        encoding=encoding,
        content=content,
        redirects=redirects,
        error="http_error" if status >= 400 else None,
        error_detail=f"HTTP {status}" if status >= 400 else None,
    )


def _sniff(content: bytes, url: str, declared: str | None) -> str | None:
    """A small stand-in for ``scrapers.sniff``: enough for tests to tell HTML from files."""
    head = content[:512].lstrip().lower()
    if head.startswith(b"%pdf"):
        return "application/pdf"
    if head.startswith(b"pk\x03\x04"):
        path = url.lower().split("?")[0]
        for ext in (".xlsx", ".docx", ".ods"):
            if path.endswith(ext):
                return _EXT_TYPES[ext]
        return "application/zip"
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        return "application/vnd.ms-excel"
    if head.startswith((b"<!doctype html", b"<html", b"<head", b"<body")) or b"<html" in head:
        return "text/html"
    if declared:
        return declared
    path = url.lower().split("?")[0]
    for ext, media_type in _EXT_TYPES.items():
        if path.endswith(ext):
            return media_type
    return "text/plain" if content else None


def _is_text(media_type: str | None) -> bool:
    return bool(media_type) and (
        media_type.startswith("text/") or media_type.endswith(("json", "xml"))
    )


def _encoding(content: bytes, declared: str | None) -> str:
    if declared:
        return declared.lower()
    meta = re.search(rb"<meta[^>]+charset\s*=\s*[\"']?([\w.:-]+)", content[:2048], re.IGNORECASE)
    if meta:
        return meta.group(1).decode("ascii").lower()
    try:
        content.decode("utf-8")
    except UnicodeDecodeError:
        return "windows-1252"
    return "utf-8"
