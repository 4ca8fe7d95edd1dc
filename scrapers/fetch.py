"""The polite fetcher: one ``FetchResult`` per URL, whatever happens on the network.

Government portals are slow, flaky and sometimes hostile to bots, and an audit must neither
hammer them nor crash on them. So the fetcher:

* identifies itself (``FetchPolicy.user_agent`` names Lupa and a contact URL);
* obeys robots.txt (``scrapers.robots``), fetched once per origin through this same machinery;
* waits between two requests to the same host (``delay_seconds``, raised to the robots
  ``Crawl-delay`` up to ``max_crawl_delay``), counted from the start of one request to the
  start of the next, with the bookkeeping under a lock so that the threads of a shard share it;
* slows down for a host that slows down (``adaptive_delay``, on by default). Per host it keeps
  an exponentially weighted moving average of the latency (from sending a request to its last
  byte; ``latency_smoothing`` weights the newest answer); once that average reaches
  ``slow_latency``, the host rests ``adaptive_factor`` times it after each response, counted
  from the end of the response so that one thread crawling one slow portal pauses too; faster
  hosts get no rest. Overload signals (429, 503, 504, timeouts, refused or reset connections)
  multiply the host's gap by ``overload_factor`` (to at least ``backoff_seconds``), once per
  round of requests in flight; each healthy answer then keeps three quarters of that backoff.
  Both are capped by ``max_adaptive_delay``; ``delay_seconds`` and the crawl-delay still apply,
  so a fast host is paced exactly as before. Failures and 5xx answers never make a host look
  faster. ``Fetcher.host_delays`` reports each host's current gap, and a material change of it
  is logged at INFO;
* retries only what is likely to be transient, with jittered exponential backoff:
  connection failures, timeouts, 408, 429 (honouring ``Retry-After`` up to
  ``max_retry_after``), 502, 503 and 504 get up to ``max_retries`` retries; 500 gets at most
  ``max_retries_500`` (one by default: on government portals a 500 is usually a broken page,
  not a passing fault); other 4xx, DNS failures, TLS failures and network-guard refusals are
  never retried. A body that drips past ``max_seconds`` is not retried either: retrying a
  server that slow would only triple the wait;
* follows redirects itself, recording every hop, checking each against the network guard and
  robots.txt, and detecting loops;
* caps what it downloads (``max_bytes``, counted after gzip/deflate decoding, so compression
  bombs are cut too), the time a body may take (``max_seconds``), and refuses early when the
  declared Content-Length is already over the cap;
* never raises for network or HTTP trouble: the result says ``error`` (one of ``ERRORS``) and
  ``error_detail`` (an English sentence).

Clock use: ``clock``/``sleep`` drive politeness and backoff only (tests inject fakes to assert
the waits), including the latency that paces a host, which is read on ``clock`` so that it is
comparable with the schedule; response timing (``elapsed_ms``) and deadlines always use the
real monotonic clock.
"""

from __future__ import annotations

import contextlib
import email.utils
import errno
import http.client
import logging
import math
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import TracebackType
from typing import Any
from urllib.parse import urljoin, urlsplit, urlunsplit

import requests
import urllib3
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from scrapers.netguard import BlockedDestination, NetGuard, UnresolvableHost
from scrapers.results import ERRORS, FetchResult, Redirect
from scrapers.robots import (
    ROBOTS_MAX_BYTES,
    ROBOTS_MAX_REDIRECTS,
    RobotsCache,
    RobotsEntry,
    RobotsStatus,
)
from scrapers.sniff import detect_encoding, is_text_type, parse_content_type, sniff

__all__ = [
    "ERRORS",
    "FetchPolicy",
    "FetchResult",
    "Fetcher",
    "Redirect",
    "RobotsStatus",
]

REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
TRANSIENT_STATUSES = frozenset({408, 429, 502, 503, 504})
# Answers by which a server says it is overloaded: they raise the host's adaptive gap.
OVERLOAD_STATUSES = frozenset({429, 503, 504})
ADAPTIVE_RECOVERY = 0.75  # each healthy answer keeps this share of a host's overload backoff
CHUNK_BYTES = 64 * 1024
REDIRECT_BODY_BYTES = 64 * 1024  # drained so the connection can be reused
REDIRECT_DRAIN_SECONDS = 1.0
METHODS = ("GET", "HEAD")
# robots.txt failures that mean the host is unreachable, reported as such for the page too.
_UNREACHABLE_ERRORS = frozenset({"timeout", "connect", "dns", "tls", "private_address"})
# What one exchange says about the host's load (see Fetcher._observe).
_HEALTHY, _DEGRADED, _OVERLOADED = "healthy", "degraded", "overloaded"
_NEGLIGIBLE_SECONDS = 0.001  # an overload backoff or a departure shortfall below this is dropped
_DEPARTURE_CHECKS = 3
# A change of the adaptive gap is logged at INFO when it moves by at least this much, in
# seconds and as a share of the gap last logged.
_LOG_CHANGE_SECONDS = 0.5
_LOG_CHANGE_RATIO = 0.5

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class FetchPolicy:
    """How politely and how far the fetcher goes; every limit is configurable per run."""

    agent_name: str = "LupaBot/0.1"
    contact_url: str = "https://github.com/lupa-transparencia/lupa#bot"
    # ASCII on purpose: header values outside ASCII are obsolete in HTTP and trip some WAFs.
    agent_note: str = "auditoria de transparencia"
    accept_language: str = "es-MX,es;q=0.9,en;q=0.5"
    connect_timeout: float = 5.0
    read_timeout: float = 20.0
    max_seconds: float = 120.0  # wall-clock limit for one response, headers to last byte
    max_bytes: int = 25 * 1024 * 1024
    delay_seconds: float = 1.0
    max_crawl_delay: float = 30.0
    max_retries: int = 2
    max_retries_500: int = 1
    backoff_seconds: float = 0.5
    backoff_jitter: float = 0.25  # each backoff is scaled by a factor in [1 - j, 1 + j]
    max_backoff_seconds: float = 30.0
    max_retry_after: float = 60.0  # a longer Retry-After ends the retries instead
    jitter_seed: int | None = None
    max_redirects: int = 10
    obey_robots: bool = True
    allow_private_networks: bool = False
    allowed_endpoints: tuple[str, ...] = ()  # "host:port" exceptions to the private rule
    verify_tls: bool = True
    pool_connections: int = 16
    pool_maxsize: int = 16
    adaptive_delay: bool = True  # rest after each response in proportion to the host's latency
    adaptive_factor: float = 1.0  # rest = average latency × this (0: overload backoff only)
    slow_latency: float = 0.25  # average latencies below this add no rest (fast hosts)
    max_adaptive_delay: float = 30.0  # cap of the adaptive rest, latency and backoff alike
    latency_smoothing: float = 0.3  # weight of the newest latency in the average, in (0, 1]
    overload_factor: float = 2.0  # an overload signal multiplies the host's gap by this

    def __post_init__(self) -> None:
        numbers = {
            "connect_timeout": self.connect_timeout,
            "read_timeout": self.read_timeout,
            "max_seconds": self.max_seconds,
            "max_bytes": self.max_bytes,
        }
        for name, value in numbers.items():
            if value <= 0:
                raise ValueError(f"FetchPolicy.{name} must be positive, got {value!r}")
        for name in (
            "delay_seconds",
            "max_retries",
            "backoff_seconds",
            "max_redirects",
            "max_crawl_delay",
        ):
            value = getattr(self, name)
            if value < 0:
                raise ValueError(f"FetchPolicy.{name} cannot be negative, got {value!r}")
        if not 0 <= self.backoff_jitter < 1:
            raise ValueError("FetchPolicy.backoff_jitter must be in [0, 1)")
        adaptive = {
            # name: (value, lowest allowed, whether the lowest value itself is allowed)
            "adaptive_factor": (self.adaptive_factor, 0.0, True),
            "max_adaptive_delay": (self.max_adaptive_delay, 0.0, True),
            "slow_latency": (self.slow_latency, 0.0, True),
            "latency_smoothing": (self.latency_smoothing, 0.0, False),
            "overload_factor": (self.overload_factor, 1.0, True),
        }
        for name, (value, low, inclusive) in adaptive.items():
            number = isinstance(value, (int, float)) and not isinstance(value, bool)
            if not (
                number and math.isfinite(value) and (value >= low if inclusive else value > low)
            ):
                bound = f">= {low:g}" if inclusive else f"> {low:g}"
                raise ValueError(
                    f"FetchPolicy.{name} must be a finite number {bound}, got {value!r}"
                )
        if self.latency_smoothing > 1:
            raise ValueError(
                f"FetchPolicy.latency_smoothing must be at most 1, got {self.latency_smoothing!r}"
            )

    @property
    def user_agent(self) -> str:
        """E.g. ``LupaBot/0.1 (+https://…#bot; auditoria de transparencia)``."""
        note = f"; {self.agent_note}" if self.agent_note else ""
        return f"{self.agent_name} (+{self.contact_url}{note})"

    @property
    def robots_tokens(self) -> tuple[str, ...]:
        """Product tokens robots.txt groups are matched against, most specific first."""
        product = self.agent_name.split("/", 1)[0].strip().lower()
        return tuple(dict.fromkeys([product, "lupa"]))


# --- connections that re-check the address they actually reached (DNS rebinding) -----------


class _PeerCheck:
    guard: NetGuard

    def _new_conn(self) -> Any:
        sock = super()._new_conn()  # type: ignore[misc]
        try:
            peer = sock.getpeername()
            self.guard.check_peer(peer[0], peer[1], host=self.host)  # type: ignore[attr-defined]
        except BlockedDestination:
            sock.close()
            raise
        return sock


class _GuardedAdapter(HTTPAdapter):
    """An HTTPAdapter whose new connections are refused when they land on a private address."""

    def __init__(self, guard: NetGuard, **kwargs: Any) -> None:
        http_conn = type("GuardedHTTPConnection", (_PeerCheck, HTTPConnection), {"guard": guard})
        https_conn = type("GuardedHTTPSConnection", (_PeerCheck, HTTPSConnection), {"guard": guard})
        self._pool_classes = {
            "http": type("GuardedHTTPPool", (HTTPConnectionPool,), {"ConnectionCls": http_conn}),
            "https": type(
                "GuardedHTTPSPool", (HTTPSConnectionPool,), {"ConnectionCls": https_conn}
            ),
        }
        super().__init__(**kwargs)

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = self._pool_classes


# --- outcomes of one request ---------------------------------------------------------------


@dataclass(eq=False)
class _Failure(Exception):
    """A request that produced no usable response."""

    error: str
    detail: str
    retryable: bool = False
    status_code: int | None = None


@dataclass
class _Response:
    status_code: int
    headers: dict[str, str]
    content: bytes = b""
    truncated: bool = False
    error: str | None = None
    detail: str | None = None


@dataclass
class _Chain:
    """Mutable state of one fetch across hops and attempts."""

    method: str
    max_bytes: int
    max_redirects: int
    obey_robots: bool
    requests: int = 0
    retries: int = 0
    network_seconds: float = 0.0
    redirects: list[Redirect] = field(default_factory=list)
    fetched_at: datetime | None = None
    conditional: bool = True  # send the validators of a prior version (see Fetcher)


@dataclass
class _HostPace:
    """What the fetcher has learnt about one host's load (guarded by ``Fetcher._host_lock``)."""

    latency: float | None = None  # moving average of the response latency, seconds
    backoff: float = 0.0  # overload backoff, seconds; grows on overload, shrinks when healthy
    backoff_since: float | None = None  # when it last grew (politeness clock)
    reported: float | None = None  # the adaptive gap last logged, None while not slowed down


@dataclass(frozen=True)
class Prior:
    """What an earlier run received from a URL (its final URL): the validators to revalidate
    it with and the WARC record holding its body."""

    url: str
    etag: str | None
    last_modified: str | None
    sha256: str
    evidence_ref: str
    run_id: str


class Fetcher:
    """Fetches URLs politely; thread-safe; see the module docstring for the rules.

    ``session`` may be supplied (tests, shared cookies); it is then used as given, without the
    connection-time address re-check, and is not closed by :meth:`close`. ``guard`` replaces
    the network guard built from the policy (tests use it to fake DNS answers). ``archive``
    (``scrapers.evidence.WarcArchive``) receives every response received, robots.txt
    included, and the result's ``evidence_ref`` points at its record.

    ``priors`` (final URL → ``Prior``) make GET requests conditional (``If-None-Match``,
    ``If-Modified-Since``). A ``304 Not Modified`` is answered from the prior's WARC record,
    after checking its digest: the result then holds the earlier response, with
    ``not_modified`` set, ``downloaded_bytes`` 0, ``observed_run`` naming the run that
    received the body and ``evidence_ref`` its record (the archive gets a ``revisit``
    record). If the record is unusable the URL is fetched again without validators.
    """

    def __init__(
        self,
        policy: FetchPolicy | None = None,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        *,
        guard: NetGuard | None = None,
        archive: Any = None,
        priors: dict[str, Prior] | None = None,
    ) -> None:
        self.policy = policy or FetchPolicy()
        self.archive = archive
        self.priors = priors or {}
        self._sleep = sleep
        self._clock = clock
        self.guard = guard or NetGuard(
            allow_private=self.policy.allow_private_networks,
            allowed_endpoints=self.policy.allowed_endpoints,
        )
        self._owns_session = session is None
        self.session = session or self._new_session()
        self._host_lock = threading.Lock()
        self._last_start: dict[str, float] = {}
        self._last_end: dict[str, float] = {}
        self._departed: dict[str, float] = {}  # when the last request to a host really left
        self._crawl_delay: dict[str, float] = {}
        self._pace: dict[str, _HostPace] = {}
        self._rng = random.Random(self.policy.jitter_seed)
        self._rng_lock = threading.Lock()
        self._robots = RobotsCache(self._load_robots, self.policy.robots_tokens)

    def _new_session(self) -> requests.Session:
        session = requests.Session()
        # No proxies or .netrc from the environment: runs must not depend on (or leak) them.
        session.trust_env = False
        session.headers.update(
            {
                "User-Agent": self.policy.user_agent,
                "Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
                "Accept-Language": self.policy.accept_language,
            }
        )
        adapter = _GuardedAdapter(
            self.guard,
            pool_connections=self.policy.pool_connections,
            pool_maxsize=self.policy.pool_maxsize,
            max_retries=0,
        )
        session.mount("http://", adapter)
        session.mount("https://", adapter)
        return session

    # --- public API ------------------------------------------------------------------------

    def fetch(self, url: str, method: str = "GET") -> FetchResult:
        """Fetch ``url``; never raises for network or HTTP trouble (see ``FetchResult.error``).

        ``attempts`` is 1 plus the retries made anywhere along the redirect chain (1 for a clean
        fetch, also through redirects; 3 after two retries; 0 when nothing was sent because
        the URL was refused before any request). A redirect back to an already visited URL is a
        loop, unless that redirect set a cookie (portals that check for a session cookie do
        this once); endless cookie games end at ``max_redirects``.
        """
        return self._fetch(url, method, self.policy.obey_robots)

    def fetch_ignoring_robots(self, url: str, method: str = "GET") -> FetchResult:
        """``fetch`` without consulting robots.txt, on the same session and politeness. Only
        for the one look the crawler takes when robots.txt itself answers 401/403 (RFC 9309
        reads a 4xx robots.txt as "no rules")."""
        return self._fetch(url, method, obey_robots=False)

    def _fetch(self, url: str, method: str, obey_robots: bool) -> FetchResult:
        method = method.upper()
        if method not in METHODS:
            raise ValueError(f"unsupported method {method!r}; the fetcher only reads")
        chain = _Chain(method, self.policy.max_bytes, self.policy.max_redirects, obey_robots)
        return self._run(url, chain)

    def robots_allows(self, url: str) -> bool:
        """Whether robots.txt lets Lupa fetch ``url`` (fetching robots.txt if needed)."""
        try:
            self.guard.check_url(url)
        except (BlockedDestination, UnresolvableHost):
            return False
        return self._robots.lookup(url).allows(url)

    def robots_status(self, url: str) -> RobotsStatus:
        """What robots.txt says for ``url``: origin state, crawl-delay, verdict, deciding rule."""
        return self._robots.lookup(url).status_for(url)

    def host_delays(self) -> dict[str, float]:
        """Seconds currently kept between two requests to each host contacted so far: the
        larger of ``delay_seconds``, the host's crawl-delay and its adaptive rest (latency and
        overload backoff, see the module docstring)."""
        with self._host_lock:
            hosts = sorted(set(self._last_start) | set(self._pace))
            return {host: self._gap(host) for host in hosts}

    def close(self) -> None:
        """Release pooled connections (only of a session the fetcher created)."""
        if self._owns_session:
            self.session.close()

    def __enter__(self) -> Fetcher:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # --- the chain of hops -----------------------------------------------------------------

    def _run(self, url: str, chain: _Chain) -> FetchResult:
        result = FetchResult(url=url, final_url=url)
        try:
            self._follow(url, chain, result)
        except _Failure as failure:
            result.error, result.error_detail = failure.error, failure.detail
            if failure.status_code is not None:
                result.status_code = failure.status_code
        if result.status_code == 304 and chain.conditional:
            prior = self.priors.get(result.final_url)
            if prior is None or not self._restore(result, prior):
                # no usable earlier copy: fetch it whole
                return self._run(url, _Chain(chain.method, chain.max_bytes, chain.max_redirects,
                                             chain.obey_robots, conditional=False))
            if self.archive is not None:
                self.archive.revisit(result, prior)
            result.redirects = chain.redirects
            result.attempts = chain.retries + 1
            result.elapsed_ms = round(chain.network_seconds * 1000)
            result.fetched_at = chain.fetched_at or result.fetched_at
            self._describe_content(result)
            return result
        result.redirects = chain.redirects
        result.attempts = chain.retries + 1 if chain.requests else 0
        result.elapsed_ms = round(chain.network_seconds * 1000)
        if chain.fetched_at is not None:
            result.fetched_at = chain.fetched_at
        self._describe_content(result)
        if self.archive is not None:
            result.evidence_ref = self.archive.record(result)
        return result

    def _follow(self, url: str, chain: _Chain, result: FetchResult) -> None:
        visited = {_loop_key(url)}
        while True:
            result.final_url = url
            self._admit(url, chain)
            response = self._request_with_retries(url, chain.method, chain)
            location = response.headers.get("location")
            if response.status_code not in REDIRECT_STATUSES or not location:
                self._finish(result, response)
                return
            target = _resolve_location(url, location)
            chain.redirects.append(Redirect(url, response.status_code, target))
            if _loop_key(target) in visited and "set-cookie" not in response.headers:
                result.final_url = target
                raise _Failure(
                    "redirect_loop",
                    f"redirect from {url} returns to {target}",
                    status_code=response.status_code,
                )
            if len(chain.redirects) > chain.max_redirects:
                result.final_url = target
                raise _Failure(
                    "too_many_redirects",
                    f"more than {chain.max_redirects} redirects starting at {result.url}",
                    status_code=response.status_code,
                )
            visited.add(_loop_key(target))
            url = target  # GET and HEAD stay as they are on every redirect status

    def _admit(self, url: str, chain: _Chain) -> None:
        """Network guard, then robots.txt, before anything is sent to ``url``."""
        try:
            self.guard.check_url(url)
        except BlockedDestination as exc:
            raise _Failure(exc.reason, exc.message) from exc
        except UnresolvableHost as exc:
            raise _Failure("dns", str(exc)) from exc
        if not chain.obey_robots:
            return
        entry = self._robots.lookup(url)
        self._note_crawl_delay(url, entry)
        if entry.status.error in _UNREACHABLE_ERRORS:
            # The host itself failed; say so rather than blame robots.txt for it.
            raise _Failure(entry.status.error, f"page not requested: {entry.status.detail}")
        if not entry.allows(url):
            status = entry.status
            why = (
                status.detail
                if status.disallows_all
                else f"{status.robots_url} disallows this path for {self.policy.agent_name}"
            )
            raise _Failure("robots", f"not fetched: {why}")

    def _restore(self, result: FetchResult, prior: Prior) -> bool:
        """Answer a 304 from the prior's archived response, if it is intact."""
        from scrapers.evidence import EvidenceError, read_evidence

        try:
            earlier = read_evidence(prior.evidence_ref)
        except EvidenceError:
            return False
        if not earlier.digest_ok or earlier.sha256 != prior.sha256:
            return False
        revalidation = result.headers
        result.headers = {name.lower(): value for name, value in earlier.headers}
        result.headers.update({k: v for k, v in revalidation.items()
                               if k in ("date", "etag", "last-modified", "cache-control")})
        result.status_code = earlier.status_code
        result.content = earlier.payload
        result.not_modified = True
        result.downloaded_bytes = 0
        result.observed_run = prior.run_id
        result.evidence_ref = prior.evidence_ref
        return True

    def _validators(self, url: str, method: str, chain: _Chain) -> dict[str, str]:
        prior = self.priors.get(url) if chain.conditional and method == "GET" else None
        if prior is None:
            return {}
        headers = {}
        if prior.etag:
            headers["If-None-Match"] = prior.etag
        if prior.last_modified:
            headers["If-Modified-Since"] = prior.last_modified
        return headers

    def _finish(self, result: FetchResult, response: _Response) -> None:
        result.status_code = response.status_code
        result.headers = response.headers
        result.content = response.content
        result.downloaded_bytes = len(response.content)
        result.truncated = response.truncated
        if response.error is not None:
            result.error, result.error_detail = response.error, response.detail
        elif response.status_code >= 400:
            result.error = "http_error"
            result.error_detail = f"the server answered HTTP {response.status_code}"

    def _describe_content(self, result: FetchResult) -> None:
        content_type = result.headers.get("content-type", "")
        media_type, charset = parse_content_type(content_type)
        result.declared_type = media_type
        if not result.content:
            return
        result.sniffed_type = sniff(result.content, media_type, result.final_url)
        if is_text_type(result.sniffed_type):
            result.encoding = detect_encoding(result.content, charset, result.sniffed_type)

    # --- retries ---------------------------------------------------------------------------

    def _request_with_retries(self, url: str, method: str, chain: _Chain) -> _Response:
        retries = 0
        while True:
            chain.requests += 1
            try:
                outcome = self._attempt(url, method, chain, retries)
            except _Failure as failure:
                if not failure.retryable or retries >= self.policy.max_retries:
                    if retries:
                        failure.detail += f" (after {retries + 1} attempts)"
                    raise
                outcome = self._backoff(retries + 1)
            if isinstance(outcome, _Response):
                return outcome
            retries += 1
            chain.retries += 1
            self._sleep(outcome)

    def _retry_wait(self, status: int, headers: dict[str, str], retries: int) -> float | None:
        """Seconds to wait before retrying a response with ``status``, or None to keep it."""
        budget = self.policy.max_retries
        if status == 500:
            budget = min(budget, self.policy.max_retries_500)
        elif status not in TRANSIENT_STATUSES:
            return None
        if retries >= budget:
            return None
        wait = self._backoff(retries + 1)
        retry_after = _retry_after_seconds(headers.get("retry-after"))
        if retry_after is not None:
            if retry_after > self.policy.max_retry_after:
                return None
            wait = max(wait, retry_after)
        return wait

    def _backoff(self, retry_number: int) -> float:
        base = self.policy.backoff_seconds * 2 ** (retry_number - 1)
        jitter = self.policy.backoff_jitter
        with self._rng_lock:
            factor = self._rng.uniform(1 - jitter, 1 + jitter) if jitter else 1.0
        return min(base * factor, self.policy.max_backoff_seconds)

    # --- politeness ------------------------------------------------------------------------

    def _note_crawl_delay(self, url: str, entry: RobotsEntry) -> None:
        delay = entry.status.crawl_delay
        if delay is None:
            return
        host = _host_key(url)
        capped = min(delay, self.policy.max_crawl_delay)
        with self._host_lock:
            self._crawl_delay[host] = max(capped, self._crawl_delay.get(host, 0.0))

    def _wait_for_turn(self, url: str) -> None:
        """Reserve this host's next slot under the lock, then sleep outside it.

        The slot comes ``delay_seconds`` (or the crawl-delay) after the last request to the
        host started, and the adaptive rest after its last response ended.
        """
        host = _host_key(url)
        with self._host_lock:
            now = self._clock()
            start = now
            last = self._last_start.get(host)
            if last is not None:
                start = max(start, last + self._fixed_gap(host))
            ended = self._last_end.get(host)
            if ended is not None:
                start = max(start, ended + self._rest(host))
            self._last_start[host] = start
        if start > now:
            self._sleep(start - now)
        self._depart(host, start)

    def _depart(self, host: str, booked: float) -> None:
        """Record the request leaving at its slot (or now, if later), after making sure it is
        not early: a thread that woke late sent later than it booked, while the next slot
        was booked from the booking, so the next thread checks the actual departure too (a
        few rounds at most: each wait covers the whole shortfall)."""
        due = booked
        for _ in range(_DEPARTURE_CHECKS):
            with self._host_lock:
                leaves = max(self._clock(), due)
                last = self._departed.get(host)
                short = 0.0 if last is None else last + self._fixed_gap(host) - leaves
                if short <= _NEGLIGIBLE_SECONDS:
                    self._departed[host] = leaves if last is None else max(leaves, last)
                    self._last_start[host] = max(leaves, self._last_start.get(host, leaves))
                    return
            self._sleep(short)
            due = leaves + short

    def _fixed_gap(self, host: str) -> float:
        """The configured gap (``delay_seconds`` or crawl-delay); call with the lock held."""
        return max(self.policy.delay_seconds, self._crawl_delay.get(host, 0.0))

    def _rest(self, host: str) -> float:
        """The adaptive rest after a response; call with the lock held."""
        policy = self.policy
        pace = self._pace.get(host)
        if pace is None or not policy.adaptive_delay:
            return 0.0
        by_latency = 0.0
        if pace.latency is not None and pace.latency >= policy.slow_latency:
            by_latency = pace.latency * policy.adaptive_factor
        return min(policy.max_adaptive_delay, max(by_latency, pace.backoff))

    def _gap(self, host: str) -> float:
        """The effective gap of ``host``; call with the lock held."""
        return max(self._fixed_gap(host), self._rest(host))

    def _observe(self, url: str, sent: float, signal: str, cause: str) -> None:
        """Fold one exchange with ``url``'s host into its pace.

        ``sent`` is when the request left (on the politeness clock); now is when its answer
        (or failure) arrived. ``signal`` is ``_HEALTHY`` (the latency counts as measured and
        the overload backoff shrinks), ``_DEGRADED`` (a 5xx: it cannot make the host look
        faster) or ``_OVERLOADED`` (same, and the host's gap is multiplied by
        ``overload_factor``, at least to ``backoff_seconds``; answers to requests sent
        before the last increase do not multiply it again, so that the threads of a shard
        hitting one overloaded host count as one signal). ``cause`` names the answer in logs.
        """
        policy = self.policy
        if not policy.adaptive_delay:
            return
        host = _host_key(url)
        message: tuple[Any, ...] | None = None
        with self._host_lock:
            now = self._clock()
            self._last_end[host] = max(now, self._last_end.get(host, now))
            pace = self._pace.setdefault(host, _HostPace())
            latency = max(0.0, now - sent)
            if signal != _HEALTHY and pace.latency is not None:
                latency = max(latency, pace.latency)
            if pace.latency is None:
                pace.latency = latency
            else:
                pace.latency += policy.latency_smoothing * (latency - pace.latency)
            if signal == _OVERLOADED:
                if pace.backoff_since is None or sent >= pace.backoff_since:
                    raised = max(self._gap(host) * policy.overload_factor, policy.backoff_seconds)
                    pace.backoff = min(policy.max_adaptive_delay, raised)
                    pace.backoff_since = now
            elif signal == _HEALTHY and pace.backoff:
                pace.backoff *= ADAPTIVE_RECOVERY
                if pace.backoff < _NEGLIGIBLE_SECONDS:
                    pace.backoff = 0.0
            message = self._pace_change(host, pace, cause)
        if message is not None:
            log.info(*message)

    def _pace_change(self, host: str, pace: _HostPace, cause: str) -> tuple[Any, ...] | None:
        """The INFO line to log when the adaptive gap of ``host`` changed materially, if it
        did (lock held): slowing down, moving by half or more, or back to the fixed gap."""
        fixed, gap = self._fixed_gap(host), self._gap(host)
        if gap <= fixed:
            if pace.reported is None:
                return None
            pace.reported = None
            return ("pacing %s: back to %.2f s between requests after %s", host, gap, cause)
        was = fixed if pace.reported is None else pace.reported
        if abs(gap - was) < max(_LOG_CHANGE_SECONDS, _LOG_CHANGE_RATIO * was):
            return None
        pace.reported = gap
        return (
            "pacing %s: %.2f s between requests (was %.2f s) after %s; "
            "average latency %.3f s, overload backoff %.2f s",
            host,
            gap,
            was,
            cause,
            pace.latency or 0.0,
            pace.backoff,
        )

    # --- one request -----------------------------------------------------------------------

    def _attempt(self, url: str, method: str, chain: _Chain, retries: int) -> _Response | float:
        """Send one request: the response to keep, or the seconds to wait before a retry."""
        self._wait_for_turn(url)
        started = time.monotonic()
        sent = self._clock()  # the host's latency is measured on the politeness clock
        chain.fetched_at = datetime.now(UTC)
        try:
            response = self._send(url, method, self._validators(url, method, chain))
            try:
                status = response.status_code
                headers = {key.lower(): value for key, value in response.headers.items()}
                wait = self._retry_wait(status, headers, retries)
                if wait is not None:
                    self._observe(url, sent, _load_signal(status, None), f"HTTP {status}")
                    return wait
                deadline = started + self.policy.max_seconds
                kept = self._read_response(response, headers, chain, deadline)
                cause = f"HTTP {status}" if kept.error is None else f"HTTP {status} ({kept.error})"
                self._observe(url, sent, _load_signal(status, kept.error), cause)
                return kept
            finally:
                response.close()
        except _Failure as failure:
            if failure.retryable:  # timeouts and refused or reset connections
                self._observe(url, sent, _OVERLOADED, failure.error)
            raise
        finally:
            chain.network_seconds += time.monotonic() - started

    def _send(self, url: str, method: str, headers: dict[str, str] | None = None
              ) -> requests.Response:
        """Send the request and wait for the headers; the body is left unread."""
        policy = self.policy
        try:
            return self.session.request(
                method,
                url,
                headers=headers or None,
                stream=True,
                allow_redirects=False,
                verify=policy.verify_tls,
                timeout=(policy.connect_timeout, policy.read_timeout),
            )
        except _NETWORK_EXCEPTIONS as exc:
            raise _classify(exc, url) from exc

    def _read_response(
        self,
        response: requests.Response,
        headers: dict[str, str],
        chain: _Chain,
        deadline: float,
    ) -> _Response:
        result = _Response(response.status_code, headers)
        is_redirect = response.status_code in REDIRECT_STATUSES and "location" in headers
        if is_redirect:
            _drain(response.raw, deadline)
            return result  # the body of a redirect is not kept
        declared = _content_length(headers)
        if declared is not None and declared > chain.max_bytes and chain.method != "HEAD":
            result.truncated = True
            result.error = "too_large"
            result.detail = (
                f"Content-Length {declared} exceeds the {chain.max_bytes}-byte "
                "cap; body not downloaded"
            )
            return result
        try:
            content, truncated, late = _read_body(response.raw, chain.max_bytes, deadline)
        except _NETWORK_EXCEPTIONS as exc:
            raise _classify(exc, response.url) from exc
        result.content = content
        if late:
            result.error = "timeout"
            result.detail = (
                f"body still arriving after {self.policy.max_seconds:g} s "
                f"({len(content)} bytes received); download abandoned"
            )
        elif truncated:
            result.truncated = True
            result.error = "too_large"
            result.detail = f"body exceeds the {chain.max_bytes}-byte cap; truncated"
        return result

    def _load_robots(self, robots_url: str) -> FetchResult:
        chain = _Chain("GET", ROBOTS_MAX_BYTES, ROBOTS_MAX_REDIRECTS, obey_robots=False)
        return self._run(robots_url, chain)


# --- helpers -------------------------------------------------------------------------------


def _read_body(raw: Any, cap: int, deadline: float) -> tuple[bytes, bool, bool]:
    """Read at most ``cap`` decoded bytes; returns (content, truncated, deadline_passed).

    ``read1`` returns whatever one socket read brings (each bounded by the read timeout), so a
    server dripping bytes is noticed at the deadline instead of after the whole body.
    """
    buffer = bytearray()
    while True:
        if time.monotonic() > deadline:
            return bytes(buffer), False, True
        chunk = raw.read1(min(CHUNK_BYTES, cap + 1 - len(buffer)), decode_content=True)
        if not chunk:
            return bytes(buffer), False, False
        buffer += chunk
        if len(buffer) > cap:
            return bytes(buffer[:cap]), True, False


_NETWORK_EXCEPTIONS = (
    requests.RequestException,
    urllib3.exceptions.HTTPError,
    http.client.HTTPException,
    OSError,
    ValueError,  # includes BlockedDestination raised by the connection-time peer check
)


def _drain(raw: Any, deadline: float) -> None:
    """Read a small redirect body so the connection can be reused; failures do not matter."""
    with contextlib.suppress(*_NETWORK_EXCEPTIONS):
        _read_body(
            raw, REDIRECT_BODY_BYTES, min(deadline, time.monotonic() + REDIRECT_DRAIN_SECONDS)
        )


def _classify(exc: BaseException, url: str) -> _Failure:
    """Map a requests/urllib3/socket exception to an error code, a sentence and retryability."""
    where = urlsplit(url).netloc
    reason = _root_reason(exc)
    if isinstance(exc, BlockedDestination):
        return _Failure(exc.reason, exc.message)
    if isinstance(exc, (requests.exceptions.SSLError, urllib3.exceptions.SSLError)):
        return _Failure("tls", f"TLS failure with {where}: {reason}")
    if isinstance(
        exc, (requests.exceptions.ConnectTimeout, urllib3.exceptions.ConnectTimeoutError)
    ):
        return _Failure("timeout", f"connecting to {where} timed out", retryable=True)
    if isinstance(
        exc, (requests.exceptions.Timeout, urllib3.exceptions.TimeoutError, TimeoutError)
    ):
        return _Failure("timeout", f"{where} did not answer in time (read timeout)", retryable=True)
    if _has_cause(exc, urllib3.exceptions.NameResolutionError):
        return _Failure("dns", f"host {urlsplit(url).hostname} does not resolve: {reason}")
    if isinstance(
        exc,
        (
            requests.exceptions.InvalidURL,
            requests.exceptions.MissingSchema,
            requests.exceptions.InvalidSchema,
            urllib3.exceptions.LocationParseError,
            ValueError,
        ),
    ) and not isinstance(exc, OSError):
        return _Failure("invalid_url", f"cannot request {url!r}: {reason}")
    if isinstance(exc, (requests.exceptions.ContentDecodingError, urllib3.exceptions.DecodeError)):
        return _Failure("connect", f"{where} sent a body that cannot be decoded: {reason}")
    return _Failure("connect", f"connection to {where} failed: {reason}", retryable=True)


def _load_signal(status: int, error: str | None) -> str:
    """What an answer says about its host's load (see ``Fetcher._observe``)."""
    if status in OVERLOAD_STATUSES or error == "timeout":  # incl. a body dripping too slowly
        return _OVERLOADED
    if status >= 500:
        return _DEGRADED
    return _HEALTHY


def _has_cause(exc: BaseException, kind: type[BaseException]) -> bool:
    return any(isinstance(item, kind) for item in _causes(exc))


def _causes(exc: BaseException) -> list[BaseException]:
    """The exception, what it wraps (urllib3 ``reason``, ``args``, ``__cause__``), and so on."""
    seen: list[BaseException] = []
    pending: list[BaseException] = [exc]
    while pending and len(seen) < 20:
        item = pending.pop(0)
        if any(item is s for s in seen):
            continue
        seen.append(item)
        for nxt in (
            getattr(item, "reason", None),
            item.__cause__,
            item.__context__,
            *getattr(item, "args", ()),
        ):
            if isinstance(nxt, BaseException):
                pending.append(nxt)
    return seen


_ERRNO_TEXT = {
    errno.ECONNREFUSED: "connection refused",
    errno.ECONNRESET: "connection reset by peer",
    errno.EHOSTUNREACH: "host unreachable",
    errno.ENETUNREACH: "network unreachable",
    errno.EPIPE: "connection closed while sending",
}


def _root_reason(exc: BaseException) -> str:
    """A short human reason: a known errno if any, else the innermost message."""
    causes = _causes(exc)
    for item in causes:
        if isinstance(item, OSError) and item.errno in _ERRNO_TEXT:
            return _ERRNO_TEXT[item.errno]
    for item in reversed(causes):
        text = str(item).strip()
        if text:
            return text[:300]
    return type(exc).__name__


def _content_length(headers: dict[str, str]) -> int | None:
    try:
        return int(headers["content-length"])
    except (KeyError, ValueError):
        return None


def _retry_after_seconds(value: str | None) -> float | None:
    """Retry-After as seconds from now (delta-seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def _resolve_location(base: str, location: str) -> str:
    """Absolute URL of a Location header (relative ones are common on portals)."""
    return urljoin(base, location.strip())


def _loop_key(url: str) -> str:
    """URL identity for loop detection: fragment dropped, scheme and host lower-cased."""
    parts = urlsplit(url)
    return urlunsplit(
        (parts.scheme.lower(), parts.netloc.lower(), parts.path or "/", parts.query, "")
    )


def _host_key(url: str) -> str:
    """Politeness is per server, whatever the scheme or port."""
    return (urlsplit(url).hostname or "").rstrip(".").lower()
