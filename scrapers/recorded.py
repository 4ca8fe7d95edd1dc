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
from scrapers.sniff import detect_encoding, is_text_type, sniff

RecordedResponse = tuple[int, Mapping[str, str], bytes | str]

_REDIRECT_CODES = frozenset({301, 302, 303, 307, 308})
_MAX_REDIRECTS = 10
_CHARSET = re.compile(r"charset\s*=\s*[\"']?([\w.:-]+)", re.IGNORECASE)


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
    sniffed = sniff(content, declared, final_url)
    encoding = None
    if is_text_type(sniffed):
        encoding = detect_encoding(content, declared_charset, sniffed)
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
