"""robots.txt for Lupa: parsing, RFC 9309 matching, and a per-origin cache.

Why our own matcher: ``urllib.robotparser`` applies the first matching rule instead of the
longest one and knows no ``*``/``$`` wildcards, so it would get real portal files wrong.

Rules as implemented (RFC 9309 unless noted):

* the group is chosen by product token, case-insensitively, in the order of ``tokens``
  (``lupabot`` then ``lupa``), falling back to ``*``; all groups naming the chosen token are
  merged; a ``User-agent`` value is compared up to its first ``/`` (``LupaBot/0.1`` names
  ``lupabot``);
* the longest matching ``Allow``/``Disallow`` pattern wins; on a tie ``Allow`` wins; ``*``
  matches any run of characters and a final ``$`` anchors the end; paths and patterns are
  compared after the same percent-encoding normalisation;
* ``/robots.txt`` itself is always allowed;
* ``Crawl-delay`` (not in the RFC, but common on portals) is read from the chosen group.

What a fetch of robots.txt means (:func:`status_from_fetch`):

* 2xx: the file is parsed (a body cut at the size cap is parsed up to its last full line);
* 404, 410 and other 4xx: "missing", everything is allowed;
* 401 and 403: "forbidden", everything is disallowed. RFC 9309 treats all 4xx as
  "unavailable" (allow all); Lupa is deliberately more conservative, and the distinct state
  lets the crawler report an access block rather than a robots policy;
* 429, 5xx, connection failures, timeouts: "unreachable", everything is disallowed, as
  RFC 9309 asks for server errors; ``detail`` says so, so reports can explain it;
* a redirect loop or too many redirects: "missing" (RFC 9309 allows treating it as
  unavailable).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field, replace
from functools import cached_property
from typing import Any
from urllib.parse import urlsplit

from scrapers.results import FetchResult

ROBOTS_MAX_BYTES = 500 * 1024  # RFC 9309: parse at least the first 500 KiB
ROBOTS_MAX_REDIRECTS = 5  # RFC 9309: follow at least five redirects

MISSING = "missing"
FETCHED = "fetched"
FORBIDDEN = "forbidden"
UNREACHABLE = "unreachable"

_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
_ESCAPE = re.compile(r"%([0-9A-Fa-f]{2})")


def origin_of(url: str) -> str:
    """``scheme://host:port`` of ``url``: robots.txt applies to exactly this origin."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    port = parts.port or (443 if scheme == "https" else 80)
    host = (parts.hostname or "").rstrip(".")
    if ":" in host:
        host = f"[{host}]"
    return f"{scheme}://{host}:{port}"


def robots_url(url: str) -> str:
    """The robots.txt URL governing ``url`` (default ports left out)."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    netloc = (parts.hostname or "").rstrip(".")
    if ":" in netloc:
        netloc = f"[{netloc}]"
    if parts.port and parts.port != (443 if scheme == "https" else 80):
        netloc = f"{netloc}:{parts.port}"
    return f"{scheme}://{netloc}/robots.txt"


def path_of(url: str) -> str:
    """The part of ``url`` that robots rules match: path plus query."""
    parts = urlsplit(url)
    path = parts.path or "/"
    return f"{path}?{parts.query}" if parts.query else path


def normalize_path(text: str) -> str:
    """Percent-encoding normal form shared by paths and patterns.

    Non-ASCII characters are encoded as UTF-8 escapes, escapes of unreserved characters are
    decoded, and the remaining escapes are upper-cased, so ``/fracci%C3%B3n``, ``/fracción`` and
    ``/fracci%c3%b3n`` compare equal while ``%2F`` stays distinct from ``/``.
    """
    encoded = "".join(
        ch if ord(ch) < 128 else "".join(f"%{b:02X}" for b in ch.encode("utf-8")) for ch in text
    )

    def fix(match: re.Match[str]) -> str:
        char = chr(int(match.group(1), 16))
        return char if char in _UNRESERVED else f"%{match.group(1).upper()}"

    return _ESCAPE.sub(fix, encoded)


@dataclass(frozen=True)
class Rule:
    """One Allow/Disallow line."""

    allow: bool
    pattern: str  # normalised

    @cached_property
    def regex(self) -> re.Pattern[str]:
        """The pattern as an anchored regular expression (``*`` any run, final ``$`` end)."""
        body, anchored = self.pattern, False
        if body.endswith("$"):
            body, anchored = body[:-1], True
        regex = ".*".join(re.escape(piece) for piece in body.split("*"))
        return re.compile(regex + ("$" if anchored else ""), re.DOTALL)

    def matches(self, path: str) -> bool:
        return self.regex.match(path) is not None


@dataclass(frozen=True)
class RuleSet:
    """The rules that apply to Lupa on one origin."""

    rules: tuple[Rule, ...] = ()
    crawl_delay: float | None = None
    disallow_everything: bool = False

    @classmethod
    def allow_all(cls) -> RuleSet:
        return cls()

    @classmethod
    def disallow_all(cls) -> RuleSet:
        return cls(disallow_everything=True)

    def allows(self, path: str) -> bool:
        """Longest matching pattern wins; an Allow wins a tie; no match means allowed."""
        return self.decide(path)[0]

    def decide(self, path: str) -> tuple[bool, Rule | None]:
        """The verdict for ``path`` and the rule that decided it (None: no rule matched)."""
        path = normalize_path(path or "/")
        if path == "/robots.txt":
            return True, None
        if self.disallow_everything:
            return False, None
        best: Rule | None = None
        for rule in self.rules:
            if not rule.matches(path):
                continue
            if (
                best is None
                or len(rule.pattern) > len(best.pattern)
                or (len(rule.pattern) == len(best.pattern) and rule.allow and not best.allow)
            ):
                best = rule
        return (best is None or best.allow), best


@dataclass
class _Group:
    agents: list[str] = field(default_factory=list)
    rules: list[Rule] = field(default_factory=list)
    crawl_delay: float | None = None


@dataclass(frozen=True)
class RobotsFile:
    """A parsed robots.txt: its groups and sitemaps."""

    groups: tuple[_Group, ...] = ()
    sitemaps: tuple[str, ...] = ()

    def rules_for(self, tokens: Sequence[str]) -> RuleSet:
        """Merge the groups of the first token that has any, else of ``*``; else allow all."""
        for token in [t.lower() for t in tokens] + ["*"]:
            chosen = [g for g in self.groups if token in g.agents]
            if chosen:
                delays = [g.crawl_delay for g in chosen if g.crawl_delay is not None]
                return RuleSet(
                    rules=tuple(rule for g in chosen for rule in g.rules),
                    crawl_delay=max(delays) if delays else None,
                )
        return RuleSet.allow_all()


def _agent_token(value: str) -> str:
    return value.split("/", 1)[0].strip().lower()


def _crawl_delay(value: str) -> float | None:
    try:
        delay = float(value)
    except ValueError:
        return None
    return delay if delay >= 0 and delay == delay and delay != float("inf") else None


def parse_robots(text: str) -> RobotsFile:
    """Parse robots.txt text leniently: unknown lines and rules outside a group are ignored."""
    groups: list[_Group] = []
    sitemaps: list[str] = []
    current: _Group | None = None
    in_agent_lines = False
    for raw_line in text.lstrip("\ufeff").splitlines():
        line = raw_line.split("#", 1)[0].strip()
        key, sep, value = line.partition(":")
        if not sep:
            continue
        key, value = key.strip().lower().replace(" ", "-"), value.strip()
        if key == "sitemap":
            if value:
                sitemaps.append(value)
            continue
        if key == "user-agent":
            if current is None or not in_agent_lines:
                current = _Group()
                groups.append(current)
            current.agents.append(_agent_token(value))
            in_agent_lines = True
            continue
        in_agent_lines = False
        if current is None:
            continue
        if key in ("allow", "disallow") and value:
            if not value.startswith(("/", "*")):
                value = "/" + value
            current.rules.append(Rule(allow=key == "allow", pattern=normalize_path(value)))
        elif key == "crawl-delay":
            delay = _crawl_delay(value)
            if delay is not None:
                current.crawl_delay = max(delay, current.crawl_delay or 0.0)
    return RobotsFile(groups=tuple(groups), sitemaps=tuple(sitemaps))


@dataclass(frozen=True)
class RobotsStatus:
    """What Lupa learnt from one origin's robots.txt, for reports and the crawler.

    ``state`` is ``fetched``, ``missing`` (no file: all allowed), ``forbidden`` (401/403: all
    disallowed) or ``unreachable`` (429/5xx/network failure: all disallowed). ``crawl_delay`` is
    the value the file asks of Lupa, before any cap. ``allowed`` and ``rule`` (e.g.
    ``Disallow: /privado``) describe one URL when the status was asked for a URL.
    """

    robots_url: str
    state: str
    status_code: int | None = None
    crawl_delay: float | None = None
    error: str | None = None
    detail: str = ""
    sitemaps: tuple[str, ...] = ()
    allowed: bool | None = None
    rule: str | None = None
    # the response behind the verdict (scrapers.evidence), for the fetches table
    sha256: str | None = None
    bytes: int | None = None
    evidence_ref: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly form, for the harvest record and reports."""
        data = asdict(self)
        data["sitemaps"] = list(self.sitemaps)
        data["source"] = "robots.txt"
        return data

    @property
    def allows_all(self) -> bool:
        return self.state == MISSING

    @property
    def disallows_all(self) -> bool:
        return self.state in (FORBIDDEN, UNREACHABLE)


@dataclass(frozen=True)
class RobotsEntry:
    """A cached verdict for one origin."""

    status: RobotsStatus
    rules: RuleSet

    def allows(self, url: str) -> bool:
        return self.rules.allows(path_of(url))

    def status_for(self, url: str) -> RobotsStatus:
        """The origin's status, completed with the verdict for ``url``."""
        allowed, rule = self.rules.decide(path_of(url))
        shown = f"{'Allow' if rule.allow else 'Disallow'}: {rule.pattern}" if rule else None
        return replace(self.status, allowed=allowed, rule=shown)


def _last_full_lines(content: bytes) -> bytes:
    cut = content.rfind(b"\n")
    return content[: cut + 1] if cut >= 0 else content


def _response_facts(result: FetchResult) -> dict[str, Any]:
    if result.status_code is None:
        return {}
    return {"sha256": result.sha256, "bytes": result.bytes, "evidence_ref": result.evidence_ref}


def _verdict(url: str, state: str, result: FetchResult, detail: str) -> RobotsEntry:
    """An entry for a robots.txt that was not parsed: all allowed or all disallowed."""
    rules = RuleSet.allow_all() if state == MISSING else RuleSet.disallow_all()
    status = RobotsStatus(
        url, state, status_code=result.status_code, error=result.error, detail=detail,
        **_response_facts(result),
    )
    return RobotsEntry(status, rules)


def _parsed(url: str, result: FetchResult, tokens: Sequence[str]) -> RobotsEntry:
    content = _last_full_lines(result.content) if result.truncated else result.content
    parsed = parse_robots(content.decode("utf-8", errors="replace"))
    rules = parsed.rules_for(tokens)
    detail = f"robots.txt fetched (HTTP {result.status_code}, {len(result.content)} bytes)"
    status = RobotsStatus(
        url,
        FETCHED,
        status_code=result.status_code,
        crawl_delay=rules.crawl_delay,
        detail=detail,
        sitemaps=parsed.sitemaps,
        **_response_facts(result),
    )
    return RobotsEntry(status, rules)


def status_from_fetch(url: str, result: FetchResult, tokens: Sequence[str]) -> RobotsEntry:
    """Turn the fetch of a robots.txt into a verdict (see the module doc for the table)."""
    code, error = result.status_code, result.error
    if code is not None and 200 <= code < 300 and error in (None, "too_large"):
        return _parsed(url, result, tokens)
    if error in ("redirect_loop", "too_many_redirects"):
        why = f"robots.txt redirects endlessly ({result.error_detail}); treated as missing"
        return _verdict(url, MISSING, result, why)
    if code in (401, 403):
        why = (
            f"robots.txt answered HTTP {code}; Lupa treats an access-restricted robots.txt "
            "as disallowing everything"
        )
        return _verdict(url, FORBIDDEN, result, why)
    if code is not None and 400 <= code < 500 and code != 429:
        return _verdict(url, MISSING, result, f"no robots.txt (HTTP {code}); all is allowed")
    if code is not None and code < 400 and error is None:
        why = f"robots.txt answered HTTP {code} without a usable redirect; treated as missing"
        return _verdict(url, MISSING, result, why)
    cause = f"HTTP {code}" if error in (None, "http_error") else f"{error}: {result.error_detail}"
    why = f"robots.txt unreachable ({cause}); as RFC 9309 asks, everything is treated as disallowed"
    return _verdict(url, UNREACHABLE, result, why)


class RobotsCache:
    """robots.txt verdicts per origin, each fetched once even when many threads ask at once.

    ``load`` fetches a robots.txt URL and returns its :class:`FetchResult`; the fetcher passes
    its own machinery (politeness delay, network guard, size cap) without the robots check.
    """

    def __init__(self, load: Callable[[str], FetchResult], tokens: Iterable[str]) -> None:
        self._load = load
        self._tokens = tuple(tokens)
        self._entries: dict[str, RobotsEntry] = {}
        self._locks: dict[str, threading.Lock] = {}
        self._lock = threading.Lock()

    def lookup(self, url: str) -> RobotsEntry:
        """The verdict for the origin of ``url``, fetching robots.txt on first use."""
        origin = origin_of(url)
        with self._lock:
            entry = self._entries.get(origin)
            if entry is not None:
                return entry
            origin_lock = self._locks.setdefault(origin, threading.Lock())
        with origin_lock:
            with self._lock:
                entry = self._entries.get(origin)
            if entry is None:
                target = robots_url(url)
                entry = status_from_fetch(target, self._load(target), self._tokens)
                with self._lock:
                    self._entries[origin] = entry
        return entry

    def cached(self, url: str) -> RobotsEntry | None:
        """The verdict if already known, without fetching."""
        with self._lock:
            return self._entries.get(origin_of(url))
