"""Benchmark: Lupa's harvest against Scrapy fetching the same testbed pages, and politeness.

Starts the testbed (``testbed.server.start_subprocess``: its own process, each portal on its own
loopback address, so a host is a portal) and measures, side by side in one run:

1. **Harvest throughput.** The Lupa side is built from the production pieces of
   ``lupa.tasks.harvest_shard``: one shared ``scrapers.fetch.Fetcher`` (``FetchPolicy`` with
   the production defaults, ``delay_seconds=--delay``, robots.txt obeyed, private networks
   allowed) and ``scrapers.crawl.crawl_portal`` for every subject of the testbed's registry in
   a ``ThreadPoolExecutor(max_workers=--threads)``. The primary figure crawls **without the
   document reader** (``reader=None``, hence no ``check_harvest_links`` either, which checks
   links the reader samples): reading every xlsx/csv belongs to the usefulness audit and is
   measured by ``bench/read_documents.py``; ``--with-reader`` adds one Lupa-only run with
   ``lupa.documents.DocumentReader`` and ``check_harvest_links`` as ``harvest_shard`` does.
   Every HTTP request the fetcher sends (its session's ``request``: robots.txt, every redirect
   hop, every retry, every file) is recorded with the subject whose crawl sent it.
   The **Scrapy** side (``scrapy.crawler.CrawlerProcess``, a real crawl) replays exactly that
   request list: per portal, in Lupa's order, ``--threads`` portals at a time (a new portal
   starts when one is finished, as a thread of the pool takes the next subject), each request
   with ``dont_redirect``/``dont_retry`` (Lupa's hops and retries are in the list as requests
   of their own), ``HTTPERROR_ALLOW_ALL`` (the crawl reads error pages too), and every HTML
   answer (2xx, or 401/403/429/503 as the crawl reads them) parsed with Scrapy's selectors:
   ``LinkExtractor().extract_links`` plus the title, as a crawl spider does. Each portal's
   first robots.txt request is left to Scrapy's ``RobotsTxtMiddleware`` (``ROBOTSTXT_OBEY``;
   its later robots.txt requests, e.g. retries, are replayed with ``dont_obey_robotstxt``).
   Settings: ``CONCURRENT_REQUESTS=--threads``, ``CONCURRENT_REQUESTS_PER_DOMAIN=1`` (Lupa
   crawls one portal per thread, one request at a time), ``DOWNLOAD_DELAY=--delay`` with
   ``DOWNLOAD_DELAY_JITTER=0`` (Scrapy 2.19's replacement of the deprecated
   ``RANDOMIZE_DOWNLOAD_DELAY=False``), AutoThrottle and the HTTP cache off, cookies on (Lupa's
   session keeps cookies too), ``DOWNLOAD_MAXSIZE`` = Lupa's ``max_bytes``, ``DOWNLOAD_TIMEOUT``
   = Lupa's read timeout, Lupa's User-Agent, Accept and Accept-Language headers,
   ``ROBOTSTXT_USER_AGENT=LupaBot``, ``LOG_LEVEL=WARNING``, the default
   ``DownloaderAwarePriorityQueue`` (Scrapy's broad-crawl scheduler).
   Scrapy's per-page work is link extraction; Lupa's is its whole page analysis
   (``scrapers.discovery.classify_page``: obligation references, signals, text), so Lupa does
   more per page than Scrapy here. "Pages" are HTTP requests sent (the list above; Scrapy's
   ``downloader/request_count``); the two counts and their answers (status or error) are
   compared request by request and any difference is printed. Scrapy accepts the testbed's
   self-signed certificates, Lupa does not (the TLS_INVALID portals): same requests, other
   outcomes.
2. **Politeness efficiency.** The first ``--polite-hosts`` portals of the registry that answered
   every request of the first throughput round (no network or TLS error), crawled at once
   (``max(--threads, --polite-hosts)`` threads) with ``--polite-delay`` per host, by Lupa and
   by Scrapy replaying Lupa's requests of that crawl. A testbed portal takes ~150-250
   requests, a minute at 0.25 s, so the politeness crawl caps each portal's pages and resource
   checks (``CrawlSettings.max_pages`` = ``max_resources`` = ``--polite-budget``): what is
   measured is the fetcher's per-host scheduling, which does not depend on which pages are
   fetched. The ideal wall time is ``max over hosts of (requests to that host - 1) x delay``
   (hosts in parallel, no time for anything but the delay); efficiency = ideal / actual,
   actual = the side's harvest wall time. Also reported: actual / ideal, the span from the
   first request to the last answer, the smallest gap between two requests leaving for one
   host (Lupa: when its session is called; Scrapy: when the downloader slot hands the request
   to the HTTP handler) and how many gaps were more than 1 % below the delay. Lupa's
   politeness worker first crawls the same portals once, untimed and without delay, to warm
   the testbed's file cache (the testbed renders a file on first request, a scanned PDF takes
   seconds, and keeps 256, which the throughput runs evict); then Scrapy's run follows.

Each side runs in a subprocess of its own (Scrapy's reactor starts once per process), so CPU
time is that process's ``getrusage(RUSAGE_SELF)`` user+sys over the harvest (imports, the
catalog and Scrapy's component imports excluded); the testbed server's CPU over the same
harvest is read from /proc. The throughput runs are interleaved (Lupa first in odd rounds,
Scrapy first in even ones; Scrapy always replays the first round's list; every file request
misses the testbed's small cache on both sides), ``--repeat`` rounds; the best of each figure
and every round are reported. Wall time: from building the fetcher (Lupa) /
``CrawlerProcess.crawl`` (Scrapy) to the end of the last portal, Scrapy's engine start and
stop included.

Targets (performance issue): lupa_pages_per_s / scrapy_pages_per_s >= 1.0; politeness
efficiency >= 0.9. ``--profile`` runs one more Lupa throughput harvest under py-spy
(``record --format raw --gil``: samples of the thread holding the GIL, i.e. Python CPU) and
prints the top functions by self and inclusive samples. ``--with-reader`` adds one Lupa-only
harvest with the document reader. Before the first round, one untimed Lupa crawl of every
portal (at most 10 pages and 10 files each, no delay) pays the testbed's one-time costs.
Prints the figures and, as its last line, one JSON object with all of them; exit status 1
when the two sides' requests differ by more than ``--tolerance``.
Usage: .venv/bin/python bench/harvest_vs_scrapy.py [--portals 30] [--seed 11] [--threads 8]
       [--delay 0.02] [--polite-hosts 4] [--polite-delay 0.25] [--polite-budget 15]
       [--repeat 3] [--with-reader] [--profile]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict, deque
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[1]
# bench/ itself off the path: bench/incremental.py would shadow the ``incremental`` package
# that Twisted (Scrapy) imports.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]
sys.path.insert(0, str(ROOT))

BASE = "127.29.0.1"  # the testbed's first address (other benchmarks and tests use others)
TARGET_RATIO = 1.0
TARGET_EFFICIENCY = 0.9
# HTML answers the crawl reads: 2xx, and the refusals it reads to say why (scrapers.crawl).
READ_STATUSES = frozenset({401, 403, 429, 503})
WARM_BUDGET = 10  # pages and file checks per portal of the untimed warm-up crawl


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def process_cpu(pid: int) -> float | None:
    """User+system CPU seconds of another process (Linux /proc), None if unreadable."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def host_of(url: str) -> str:
    return (urlsplit(url).hostname or "").lower()


# ---- the Lupa side (a worker process) -------------------------------------------------------

def lupa_worker(spec: dict) -> dict:
    from audit.catalog import load_catalog
    from audit.registry import load_registry
    from lupa.config import Settings
    from scrapers import fetch  # noqa: F401  (imported here: lupa_harvest's import is free)
    from scrapers.crawl import CrawlSettings

    defaults = Settings(home=Path(spec["tmp"]), warehouse=Path(spec["tmp"]) / "unused")
    by_id = {s.subject_id: s for s in load_registry(spec["registry"]).subjects}
    subjects = [by_id[i] for i in spec["subjects"]]
    catalog = load_catalog(defaults.law)
    settings = CrawlSettings(max_clicks=defaults.max_clicks, max_pages=defaults.max_pages)
    if spec.get("budget"):
        settings.max_pages = settings.max_resources = spec["budget"]
    reader = check_links = None
    if spec.get("reader"):
        from audit.formats import load_formats
        from lupa.documents import DocumentReader, check_harvest_links

        reader = DocumentReader(Path(spec["tmp"]) / "shard", load_formats(defaults.law))
        (Path(spec["tmp"]) / "shard").mkdir(parents=True, exist_ok=True)
        check_links = check_harvest_links
    if spec.get("warm_up"):  # untimed, without delay: the testbed renders and caches files
        lupa_harvest(spec, subjects, catalog, settings, defaults, 0.0, reader, check_links)
    server_before = process_cpu(spec["server_pid"])
    result = lupa_harvest(spec, subjects, catalog, settings, defaults, spec["delay"], reader,
                          check_links)
    server_after = process_cpu(spec["server_pid"])
    if server_before is not None and server_after is not None:
        result["server_cpu_s"] = server_after - server_before
    return result


def lupa_harvest(spec, subjects, catalog, settings, defaults, delay, reader, check_links
                 ) -> dict:
    """``harvest_shard``'s crawl (no WARC archive, no priors): every request recorded."""
    from concurrent.futures import ThreadPoolExecutor

    from scrapers.crawl import crawl_portal
    from scrapers.fetch import Fetcher, FetchPolicy

    # lupa.tasks._fetch_policy with the production defaults
    policy = FetchPolicy(contact_url=defaults.contact_url,
                         connect_timeout=defaults.connect_timeout,
                         read_timeout=defaults.read_timeout, max_bytes=defaults.max_bytes,
                         delay_seconds=delay, allow_private_networks=True)
    log: list = []
    local = threading.local()
    started = time.monotonic()
    cpu0 = cpu_seconds()
    with Fetcher(policy) as fetcher, \
            ThreadPoolExecutor(max_workers=max(1, spec["threads"])) as pool:
        send = fetcher.session.request

        def request(method, url, *args, **kwargs):
            sent = time.monotonic()
            status = error = None
            try:
                response = send(method, url, *args, **kwargs)
                status = response.status_code
                return response
            except Exception as exc:
                error = type(exc).__name__
                raise
            finally:  # headers received (the fetcher streams the body afterwards)
                log.append([getattr(local, "subject", None), method, url, status, error,
                            sent - started, time.monotonic() - started])

        fetcher.session.request = request

        def crawl(subject):
            local.subject = subject.subject_id
            harvest = crawl_portal(subject, fetcher, catalog, settings, reader=reader)
            if check_links is not None:
                check_links(harvest, fetcher)
            return len(harvest.fetches)

        fetch_rows = sum(pool.map(crawl, subjects))
    wall = time.monotonic() - started
    cpu = cpu_seconds() - cpu0
    return {"wall_s": wall, "cpu_s": cpu, "requests": log, "fetch_rows": fetch_rows,
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


# ---- the Scrapy side (a worker process) -----------------------------------------------------

def replay_plan(requests: list, subjects: list[str]) -> list[tuple[str, list[dict]]]:
    """Lupa's requests as Scrapy will send them: per subject, in order. The first robots.txt
    request of a host is left to Scrapy's RobotsTxtMiddleware when a request of that subject
    to that host will trigger it; any other robots.txt request is replayed explicitly."""
    per_subject: dict[str, list] = defaultdict(list)
    for subject, method, url, *_ in requests:
        per_subject[subject].append((method, url))
    plan, robots_seen = [], set()
    for subject in subjects:
        items = per_subject.get(subject, [])
        triggers = {host_of(url) for method, url in items
                    if urlsplit(url).path != "/robots.txt"}
        out = []
        for method, url in items:
            host = host_of(url)
            if urlsplit(url).path == "/robots.txt" and method == "GET":
                if host not in robots_seen and host in triggers:
                    robots_seen.add(host)
                    continue  # Scrapy fetches it itself, before the first request to the host
                out.append({"method": method, "url": url, "robots": True})
                robots_seen.add(host)
            else:
                out.append({"method": method, "url": url, "robots": False})
        plan.append((subject, out))
    return plan


def preload_scrapy() -> None:
    """Import every component a default crawl loads (middlewares, extensions, handlers,
    scheduler...), so that Scrapy's timed crawl, like Lupa's, excludes module imports."""
    import scrapy.core.engine  # noqa: F401
    import scrapy.linkextractors  # noqa: F401
    from scrapy.settings import Settings as ScrapySettings
    from scrapy.utils.misc import load_object

    settings = ScrapySettings()
    paths = [path for key in ("DOWNLOADER_MIDDLEWARES_BASE", "SPIDER_MIDDLEWARES_BASE",
                              "EXTENSIONS_BASE", "ITEM_PIPELINES_BASE")
             for path in settings.getdict(key)]
    paths += list(settings.getdict("DOWNLOAD_HANDLERS_BASE").values())
    paths += [settings.get(key) for key in (
        "SCHEDULER", "SCHEDULER_PRIORITY_QUEUE", "SCHEDULER_MEMORY_QUEUE", "DUPEFILTER_CLASS",
        "STATS_CLASS", "ROBOTSTXT_PARSER", "TWISTED_DNS_RESOLVER",
        "REQUEST_FINGERPRINTER_CLASS", "DOWNLOADER", "LOG_FORMATTER")]
    for path in paths:
        if isinstance(path, str):
            with contextlib.suppress(Exception):  # optional ones (s3...) may be missing
                load_object(path)


def scrapy_worker(spec: dict) -> dict:
    import scrapy
    from scrapy import signals
    from scrapy.crawler import CrawlerProcess
    from scrapy.http import HtmlResponse
    from scrapy.linkextractors import LinkExtractor

    from lupa.config import Settings
    from scrapers.fetch import FetchPolicy

    defaults = Settings(home=Path(spec["tmp"]), warehouse=Path(spec["tmp"]) / "unused")
    policy = FetchPolicy(contact_url=defaults.contact_url)
    from scrapy.core.downloader.handlers.http11 import HTTP11DownloadHandler

    log: list = []
    parsed = Counter()
    clock: dict = {}

    class TimedHandler(HTTP11DownloadHandler):
        """Scrapy's HTTP handler, noting when the downloader slot released the request."""

        async def download_request(self, request):
            request.meta["sent_at"] = time.monotonic() - clock["started"]
            return await super().download_request(request)

    class ReplaySpider(scrapy.Spider):
        name = "lupa_replay"

        def __init__(self, plan, pool, **kwargs):
            super().__init__(**kwargs)
            self.queue = deque(plan)
            self.pool = pool
            self.pending: dict[str, int] = {}
            self.extractor = LinkExtractor()

        async def start(self):
            for _ in range(self.pool):
                for request in self._next_portal():
                    yield request

        def _next_portal(self):
            while self.queue:
                subject, items = self.queue.popleft()
                if not items:
                    continue
                self.pending[subject] = len(items)
                return [scrapy.Request(
                    item["url"], method=item["method"], callback=self.parse,
                    errback=self.failed, dont_filter=True, priority=-index,
                    meta={"subject": subject, "dont_redirect": True, "dont_retry": True,
                          "handle_httpstatus_all": True,
                          **({"dont_obey_robotstxt": True} if item["robots"] else {})})
                    for index, item in enumerate(items)]
            return []

        def _done(self, subject):
            self.pending[subject] -= 1
            if self.pending[subject] == 0:
                yield from self._next_portal()

        def parse(self, response):
            if isinstance(response, HtmlResponse) and (
                    200 <= response.status < 300 or response.status in READ_STATUSES):
                links = self.extractor.extract_links(response)
                response.xpath("//title/text()").get()
                parsed["html_pages"] += 1
                parsed["links"] += len(links)
            yield from self._done(response.meta["subject"])

        def failed(self, failure):
            request = failure.request
            if not getattr(failure.value, "response", None):  # network error, robots refusal
                log.append([request.meta["subject"], request.method, request.url, None,
                            type(failure.value).__name__, request.meta.get("sent_at"),
                            time.monotonic() - clock["started"]])
            yield from self._done(request.meta["subject"])

    def received(response, request, spider):
        log.append([request.meta.get("subject"), request.method, request.url, response.status,
                    None, request.meta.get("sent_at"), time.monotonic() - clock["started"]])

    accept = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
    process = CrawlerProcess({
        "USER_AGENT": policy.user_agent,
        "DEFAULT_REQUEST_HEADERS": {"Accept": accept,
                                    "Accept-Language": policy.accept_language},
        "ROBOTSTXT_OBEY": True,
        "ROBOTSTXT_USER_AGENT": policy.agent_name.split("/", 1)[0],
        "CONCURRENT_REQUESTS": spec["threads"],
        "CONCURRENT_REQUESTS_PER_DOMAIN": 1,
        "CONCURRENT_REQUESTS_PER_IP": 0,
        "DOWNLOAD_DELAY": spec["delay"],
        "DOWNLOAD_DELAY_JITTER": 0,
        "AUTOTHROTTLE_ENABLED": False,
        "HTTPCACHE_ENABLED": False,
        "COOKIES_ENABLED": True,
        "RETRY_ENABLED": False,
        "REDIRECT_ENABLED": True,  # robots.txt redirects are followed, as Lupa does
        "DOWNLOAD_MAXSIZE": defaults.max_bytes,
        "DOWNLOAD_WARNSIZE": 0,
        "DOWNLOAD_TIMEOUT": defaults.read_timeout,
        "HTTPERROR_ALLOW_ALL": True,
        "LOG_LEVEL": "WARNING",
        "TELNETCONSOLE_ENABLED": False,
        "DOWNLOAD_HANDLERS": {"http": TimedHandler, "https": TimedHandler},
    })
    preload_scrapy()
    plan = [(subject, items) for subject, items in spec["plan"]]
    crawler = process.create_crawler(ReplaySpider)
    clock["started"] = started = time.monotonic()
    cpu0 = cpu_seconds()
    crawler.signals.connect(received, signal=signals.response_received)
    server_before = process_cpu(spec["server_pid"])
    process.crawl(crawler, plan=plan, pool=max(1, spec["threads"]))
    process.start()
    wall = time.monotonic() - started
    cpu = cpu_seconds() - cpu0
    server_after = process_cpu(spec["server_pid"])
    stats = crawler.stats.get_stats()
    return {"wall_s": wall, "cpu_s": cpu, "requests": log, "parsed": dict(parsed),
            "stats": {k: v for k, v in stats.items()
                      if k.startswith(("downloader/", "robotstxt/", "response_received",
                                       "finish_reason", "log_count/"))},
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            **({"server_cpu_s": server_after - server_before}
               if server_before is not None and server_after is not None else {})}


# ---- the orchestrator -----------------------------------------------------------------------

def run_worker(side: str, spec: dict, tmp: Path, server_pid: int, tag: str,
               wrap: list[str] | None = None) -> dict:
    spec_path, out_path = tmp / f"{tag}.spec.json", tmp / f"{tag}.out.json"
    spec_path.write_text(json.dumps({**spec, "tmp": str(tmp / tag), "server_pid": server_pid}),
                         encoding="utf-8")
    (tmp / tag).mkdir(exist_ok=True)
    command = [*(wrap or []), sys.executable, str(Path(__file__).resolve()), "--worker", side,
               str(spec_path), str(out_path)]
    run = subprocess.run(command, capture_output=True, text=True, cwd=ROOT)
    if run.returncode != 0 or not out_path.exists():
        sys.stderr.write(run.stderr[-4000:])
        raise RuntimeError(f"{side} worker failed ({run.returncode})")
    result = json.loads(out_path.read_text(encoding="utf-8"))
    result["stderr"] = run.stderr
    return result


def outcome(status, error) -> str:
    return str(status) if status is not None else f"error:{error}"


def summarise(result: dict, side: str) -> dict:
    requests = result["requests"]
    n = (result["stats"].get("downloader/request_count", len(requests)) if side == "scrapy"
         else len(requests))
    figures = {
        "wall_s": round(result["wall_s"], 3),
        "cpu_s": round(result["cpu_s"], 3),
        "pages": n,
        "pages_per_s": round(n / result["wall_s"], 1),
        "cpu_ms_per_page": round(1000 * result["cpu_s"] / n, 2) if n else None,
        "server_cpu_s": round(result["server_cpu_s"], 2) if "server_cpu_s" in result else None,
        "peak_rss_mb": round(result["peak_rss_mb"], 1),
        "outcomes": dict(Counter(outcome(r[3], r[4]) for r in requests).most_common()),
    }
    ends = [r[6] for r in requests if r[6] is not None]
    if ends:
        figures["span_s"] = round(max(ends), 3)
    if side == "scrapy":
        figures["parsed"] = result["parsed"]
        figures["stats"] = result["stats"]
    return figures


def compare(lupa_requests: list, scrapy_requests: list) -> dict:
    """Request multisets, and answers, of the two sides."""
    lupa = Counter((r[1], r[2]) for r in lupa_requests)
    scrapy = Counter((r[1], r[2]) for r in scrapy_requests)
    only_lupa, only_scrapy = lupa - scrapy, scrapy - lupa
    lupa_out = Counter((r[1], r[2], outcome(r[3], r[4])) for r in lupa_requests)
    scrapy_out = Counter((r[1], r[2], outcome(r[3], r[4])) for r in scrapy_requests)
    differ = Counter()
    for (method, url, lupa_answer), count in (lupa_out - scrapy_out).items():
        answers = sorted({a for (m, u, a) in scrapy_out if (m, u) == (method, url)})
        differ[(lupa_answer, "/".join(answers) or "-")] += count
    return {
        "lupa_requests": sum(lupa.values()),
        "scrapy_requests": sum(scrapy.values()),
        "only_lupa": sum(only_lupa.values()),
        "only_scrapy": sum(only_scrapy.values()),
        "only_lupa_sample": [f"{m} {u}" for (m, u) in list(only_lupa)[:5]],
        "only_scrapy_sample": [f"{m} {u}" for (m, u) in list(only_scrapy)[:5]],
        "answers_differ": sum(differ.values()),
        "answers_differ_kinds": {f"lupa {a} / scrapy {b}": n for (a, b), n in differ.items()},
    }


def politeness(result: dict, delay: float, side: str) -> dict:
    per_host: dict[str, list] = defaultdict(list)
    for request in result["requests"]:
        url, sent, end = request[2], request[5], request[6]
        per_host[host_of(url)].append(sent if sent is not None else end)
    counts = {host: len(times) for host, times in per_host.items()}
    ideal = max((n - 1) * delay for n in counts.values())
    actual = result["wall_s"]
    gaps = [b - a for times in map(sorted, per_host.values())
            for a, b in zip(times, times[1:], strict=False)]
    ends = [r[6] for r in result["requests"] if r[6] is not None]
    starts = [r[5] if r[5] is not None else r[6] for r in result["requests"]]
    span = max(ends) - min(starts) if ends else None
    return {
        "side": side,
        "requests_per_host": dict(sorted(counts.items())),
        "ideal_s": round(ideal, 3),
        "actual_s": round(actual, 3),
        "efficiency": round(ideal / actual, 4) if actual else None,
        "actual_over_ideal": round(actual / ideal, 4) if ideal else None,
        "span_s": round(span, 3) if span is not None else None,
        "span_efficiency": round(ideal / span, 4) if span else None,
        # between two requests leaving for one host: Lupa's when its session sends them,
        # Scrapy's when its downloader slot hands them to the HTTP handler
        "min_gap_s": round(min(gaps), 4) if gaps else None,
        "gaps_below_delay": sum(gap < 0.99 * delay for gap in gaps),
        "gaps": len(gaps),
        "server_cpu_s": round(result.get("server_cpu_s") or 0, 2),
    }


def choose_polite(requests: list, subjects: list[str], hosts: int) -> list[str]:
    """The first ``hosts`` subjects whose every request was answered (a host that does not
    answer is timed by connect errors and retry backoff, not by the delay)."""
    per_subject = Counter(r[0] for r in requests)
    failed = {r[0] for r in requests if r[4] is not None}
    usable = [s for s in subjects if per_subject[s] > 1 and s not in failed]
    return (usable + [s for s in subjects if s not in usable])[:hosts]


def profile_lupa(spec: dict, tmp: Path, server_pid: int, top: int = 25) -> dict:
    """One Lupa harvest under py-spy (raw collapsed stacks); top functions by samples.

    ``--gil``: only the thread holding the GIL is sampled, so the figures are shares of the
    Python CPU time of the harvest (stacks under ``lupa_harvest``), not of waiting threads."""
    py_spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    raw = tmp / "profile.txt"
    run_worker("lupa", spec, tmp, server_pid, "profile",
               wrap=[py_spy, "record", "--format", "raw", "--rate", "200", "--gil",
                     "-o", str(raw), "--"])
    self_samples, inclusive, total = Counter(), Counter(), 0
    for line in raw.read_text(encoding="utf-8").splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit() or "lupa_harvest" not in stack:
            continue  # the worker's start-up (imports, catalog) is not the harvest
        frames = [f.split(" (")[0] + " (" + f.split(" (")[1].split(":")[0].replace(
            str(ROOT) + "/", "") + ")" if " (" in f else f for f in stack.split(";")]
        n = int(count)
        total += n
        self_samples[frames[-1]] += n
        for frame in set(frames):
            inclusive[frame] += n
    return {"samples": total,
            "self": [[f, round(100 * n / total, 1)] for f, n in self_samples.most_common(top)],
            "inclusive": [[f, round(100 * n / total, 1)]
                          for f, n in inclusive.most_common(top * 2)]}


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--worker"]:
        side, spec_path, out_path = argv[1:4]
        spec = json.loads(Path(spec_path).read_text(encoding="utf-8"))
        result = (lupa_worker if side == "lupa" else scrapy_worker)(spec)
        Path(out_path).write_text(json.dumps(result), encoding="utf-8")
        return 0
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--portals", type=int, default=30)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--threads", type=int, default=8,
                        help="Lupa's harvest_threads = Scrapy's CONCURRENT_REQUESTS")
    parser.add_argument("--delay", type=float, default=0.02,
                        help="per-host delay of the throughput part (s)")
    parser.add_argument("--polite-hosts", type=int, default=4)
    parser.add_argument("--polite-delay", type=float, default=0.25)
    parser.add_argument("--polite-budget", type=int, default=15,
                        help="max_pages and max_resources of each politeness crawl")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--tolerance", type=float, default=0.01,
                        help="largest accepted share of requests not made by both sides")
    parser.add_argument("--with-reader", action="store_true",
                        help="also one Lupa harvest reading every document (Lupa only)")
    parser.add_argument("--profile", action="store_true",
                        help="also one Lupa throughput harvest under py-spy")
    args = parser.parse_args(argv)

    load = os.getloadavg()
    print(f"load average at start: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} "
          f"({os.cpu_count()} CPUs)", flush=True)
    from audit.registry import load_registry
    from lupa.demo import free_port
    from testbed.server import start_subprocess

    figures: dict = {"benchmark": "harvest_vs_scrapy", "portals": args.portals,
                     "seed": args.seed, "threads": args.threads, "delay_s": args.delay,
                     "polite_hosts": args.polite_hosts, "polite_delay_s": args.polite_delay,
                     "polite_budget": args.polite_budget,
                     "repeat": args.repeat, "load_average_start": [round(x, 2) for x in load]}
    with tempfile.TemporaryDirectory(prefix="lupa-bench-harvest-") as tmp_name:
        tmp = Path(tmp_name)
        started = time.monotonic()
        with start_subprocess(seed=args.seed, size=args.portals, out_dir=tmp / "testbed",
                              port=free_port(), base=BASE) as testbed:
            registry = str(Path(testbed.out_dir) / "registry.csv")
            subjects = [s.subject_id for s in load_registry(registry).subjects]
            pid = testbed.process.pid
            base_spec = {"registry": registry, "threads": args.threads}
            # untimed warm-up: the testbed pays one-time costs on its first files (~1 s for
            # its first PDF, ~0.15 s for its first xlsx: imports and set-up), which would
            # otherwise fall on whichever side runs first
            warm = run_worker("lupa", {**base_spec, "subjects": subjects, "delay": 0.0,
                                       "budget": WARM_BUDGET}, tmp, pid, "warm-up")
            print(f"testbed: {args.portals} portals; untimed warm-up crawl "
                  f"({len(warm['requests'])} requests, at most {WARM_BUDGET} pages and "
                  f"{WARM_BUDGET} files per portal): {warm['wall_s']:.1f} s", flush=True)
            rounds, plan, reference = [], None, None
            polite_subjects = polite_plan = None
            for number in range(1, args.repeat + 1):
                order = ("lupa", "scrapy") if number % 2 or plan is None else ("scrapy", "lupa")
                results = {}
                for side in order:
                    if side == "lupa":
                        results[side] = run_worker("lupa", {
                            **base_spec, "subjects": subjects, "delay": args.delay}, tmp, pid,
                            f"lupa{number}")
                        if plan is None:
                            reference = results[side]["requests"]
                            plan = replay_plan(reference, subjects)
                    else:
                        results[side] = run_worker("scrapy", {
                            **base_spec, "plan": plan, "delay": args.delay}, tmp, pid,
                            f"scrapy{number}")
                row = {side: summarise(results[side], side) for side in ("lupa", "scrapy")}
                row["round"] = number
                row["order"] = list(order)
                row["ratio_pages_per_s"] = round(
                    row["lupa"]["pages_per_s"] / row["scrapy"]["pages_per_s"], 3)
                row["requests"] = compare(reference, results["scrapy"]["requests"])
                row["lupa_same_requests_as_round1"] = (
                    Counter((r[1], r[2]) for r in results["lupa"]["requests"])
                    == Counter((r[1], r[2]) for r in reference))
                # politeness: the same hosts every round, Lupa's own requests replayed
                if polite_subjects is None:
                    polite_subjects = choose_polite(reference, subjects, args.polite_hosts)
                polite_threads = max(args.threads, len(polite_subjects))
                polite = {}
                # Lupa first: its worker first crawls the portals once, untimed and without
                # delay, to warm the testbed's file cache (it renders a file on first request,
                # a scanned PDF takes seconds, and keeps 256, which the throughput runs have
                # evicted): the politeness runs time the crawlers, not that
                for side in ("lupa", "scrapy"):
                    if side == "lupa":
                        result = run_worker("lupa", {
                            **base_spec, "threads": polite_threads,
                            "subjects": polite_subjects, "delay": args.polite_delay,
                            "budget": args.polite_budget, "warm_up": True}, tmp, pid,
                            f"polite-lupa{number}")
                        if polite_plan is None:
                            polite_plan = replay_plan(result["requests"], polite_subjects)
                    else:
                        result = run_worker("scrapy", {
                            **base_spec, "threads": polite_threads, "plan": polite_plan,
                            "delay": args.polite_delay}, tmp, pid, f"polite-scrapy{number}")
                    polite[side] = politeness(result, args.polite_delay, side)
                    polite[side]["requests"] = sum(
                        polite[side]["requests_per_host"].values())
                row["politeness"] = polite
                rounds.append(row)
                print_round(row)
            with_reader = None
            if args.with_reader:
                result = run_worker("lupa", {**base_spec, "subjects": subjects,
                                             "delay": args.delay, "reader": True}, tmp, pid,
                                    "lupa-reader")
                with_reader = summarise(result, "lupa")
            profile = None
            if args.profile:
                profile = profile_lupa({**base_spec, "subjects": subjects, "delay": args.delay},
                                       tmp, pid)
        total_s = time.monotonic() - started

    best = {side: {
        "pages_per_s": max(r[side]["pages_per_s"] for r in rounds),
        "cpu_ms_per_page": min(r[side]["cpu_ms_per_page"] for r in rounds),
        "wall_s": min(r[side]["wall_s"] for r in rounds),
        "server_cpu_s": min((r[side]["server_cpu_s"] or 0) for r in rounds),
    } for side in ("lupa", "scrapy")}
    polite_best = {side: max((r["politeness"][side] for r in rounds),
                             key=lambda p: p["efficiency"] or 0) for side in ("lupa", "scrapy")}
    last = rounds[-1]
    check = last["requests"]
    mismatch = (check["only_lupa"] + check["only_scrapy"]) / max(1, check["lupa_requests"])
    figures.update({
        "pages": {"lupa": last["lupa"]["pages"], "scrapy": last["scrapy"]["pages"]},
        "lupa_pages_per_s": best["lupa"]["pages_per_s"],
        "scrapy_pages_per_s": best["scrapy"]["pages_per_s"],
        "ratio_pages_per_s": round(best["lupa"]["pages_per_s"]
                                   / best["scrapy"]["pages_per_s"], 3),
        "lupa_cpu_ms_per_page": best["lupa"]["cpu_ms_per_page"],
        "scrapy_cpu_ms_per_page": best["scrapy"]["cpu_ms_per_page"],
        "lupa_wall_s": best["lupa"]["wall_s"],
        "scrapy_wall_s": best["scrapy"]["wall_s"],
        "testbed_server_cpu_s": {"lupa": best["lupa"]["server_cpu_s"],
                                 "scrapy": best["scrapy"]["server_cpu_s"]},
        "request_check": check,
        "request_mismatch_share": round(mismatch, 4),
        "url_counts_agree": mismatch <= args.tolerance,
        "politeness_subjects": polite_subjects,
        "politeness_efficiency": polite_best["lupa"]["efficiency"],
        "politeness_actual_over_ideal": polite_best["lupa"]["actual_over_ideal"],
        "politeness_ideal_s": polite_best["lupa"]["ideal_s"],
        "politeness_actual_s": polite_best["lupa"]["actual_s"],
        "scrapy_politeness_efficiency": polite_best["scrapy"]["efficiency"],
        "scrapy_politeness_actual_over_ideal": polite_best["scrapy"]["actual_over_ideal"],
        "scrapy_politeness_ideal_s": polite_best["scrapy"]["ideal_s"],
        "scrapy_politeness_actual_s": polite_best["scrapy"]["actual_s"],
        "politeness": polite_best,
        "rounds": rounds,
        "with_reader": with_reader,
        "profile": profile,
        "total_s": round(total_s, 1),
    })
    figures["meets_target"] = {
        f"ratio_pages_per_s >= {TARGET_RATIO}": figures["ratio_pages_per_s"] >= TARGET_RATIO,
        f"politeness_efficiency >= {TARGET_EFFICIENCY}":
            (figures["politeness_efficiency"] or 0) >= TARGET_EFFICIENCY,
    }
    print_summary(figures, args)
    print(json.dumps(figures))
    return 0 if figures["url_counts_agree"] else 1


def print_round(row: dict) -> None:
    print(f"round {row['round']} ({' then '.join(row['order'])})", flush=True)
    print(f"  {'side':<7} {'requests':>8} {'wall s':>8} {'pages/s':>8} {'CPU s':>7} "
          f"{'CPU ms/page':>11} {'server CPU s':>12}")
    for side in ("lupa", "scrapy"):
        f = row[side]
        print(f"  {side:<7} {f['pages']:>8} {f['wall_s']:>8.2f} {f['pages_per_s']:>8.1f} "
              f"{f['cpu_s']:>7.2f} {f['cpu_ms_per_page']:>11.2f} "
              f"{f['server_cpu_s'] if f['server_cpu_s'] is not None else '-':>12}")
    check = row["requests"]
    print(f"  ratio lupa/scrapy pages/s: {row['ratio_pages_per_s']:.3f}; requests lupa "
          f"{check['lupa_requests']} scrapy {check['scrapy_requests']} (only lupa "
          f"{check['only_lupa']}, only scrapy {check['only_scrapy']}, answers differ "
          f"{check['answers_differ']})")
    for side in ("lupa", "scrapy"):
        p = row["politeness"][side]
        print(f"  politeness {side:<6}: {p['requests']} requests on "
              f"{len(p['requests_per_host'])} hosts, ideal {p['ideal_s']:.2f} s, actual "
              f"{p['actual_s']:.2f} s, efficiency {p['efficiency']:.3f} (span "
              f"{p['span_efficiency']}), min gap {p['min_gap_s']} s, "
              f"{p['gaps_below_delay']}/{p['gaps']} gaps below the delay", flush=True)


def print_summary(figures: dict, args) -> None:
    print()
    print(f"Harvest of {figures['portals']} testbed portals (seed {figures['seed']}), "
          f"{figures['threads']} threads / CONCURRENT_REQUESTS, delay {figures['delay_s']} s "
          f"per host; best of {figures['repeat']} rounds")
    print(f"{'':<8} {'requests':>8} {'pages/s':>9} {'CPU ms/page':>12} {'wall s':>8} "
          f"{'server CPU s':>13}")
    for side in ("lupa", "scrapy"):
        print(f"{side:<8} {figures['pages'][side]:>8} {figures[f'{side}_pages_per_s']:>9.1f} "
              f"{figures[f'{side}_cpu_ms_per_page']:>12.2f} {figures[f'{side}_wall_s']:>8.2f} "
              f"{figures['testbed_server_cpu_s'][side]:>13.2f}")
    print(f"ratio lupa/scrapy pages per second: {figures['ratio_pages_per_s']:.3f} "
          f"(target >= {TARGET_RATIO})")
    parsed = figures["rounds"][-1]["scrapy"]["parsed"]
    print(f"Scrapy parsed {parsed.get('html_pages', 0)} HTML answers with LinkExtractor "
          f"({parsed.get('links', 0)} links)")
    check = figures["request_check"]
    print(f"requests: lupa {check['lupa_requests']}, scrapy {check['scrapy_requests']}; only "
          f"lupa {check['only_lupa']} {check['only_lupa_sample']}, only scrapy "
          f"{check['only_scrapy']} {check['only_scrapy_sample']}; agree within "
          f"{args.tolerance:.0%}: {figures['url_counts_agree']}")
    for kind, n in check["answers_differ_kinds"].items():
        print(f"  answers differ: {kind}: {n}")
    for side in ("lupa", "scrapy"):
        p = figures["politeness"][side]
        print(f"politeness {side:<6} ({len(p['requests_per_host'])} hosts, delay "
              f"{args.polite_delay} s): ideal {p['ideal_s']:.2f} s, actual {p['actual_s']:.2f} s"
              f", efficiency {p['efficiency']:.3f}, actual/ideal {p['actual_over_ideal']:.3f}")
    print(f"politeness efficiency target >= {TARGET_EFFICIENCY}: "
          f"{figures['meets_target'][f'politeness_efficiency >= {TARGET_EFFICIENCY}']}")
    if figures["with_reader"]:
        w = figures["with_reader"]
        print(f"lupa with the document reader: {w['pages']} requests, {w['pages_per_s']} "
              f"pages/s, {w['cpu_ms_per_page']} CPU ms/page, wall {w['wall_s']} s")
    if figures["profile"]:
        profile = figures["profile"]
        print(f"py-spy profile of one Lupa throughput harvest ({profile['samples']} samples of "
              "the thread holding the GIL, share of them)")
        print("  top self:")
        for frame, share in profile["self"]:
            print(f"    {share:5.1f} %  {frame}")
        print("  top inclusive:")
        for frame, share in profile["inclusive"]:
            print(f"    {share:5.1f} %  {frame}")
    print(f"total time {figures['total_s']} s")


if __name__ == "__main__":
    sys.exit(main())
