"""The per-portal crawl: home page → transparency section → obligations → resources.

``crawl_portal`` works over any page source (the live ``Fetcher``, the testbed,
``RecordedSource``) and returns a ``PortalHarvest``: what was fetched and what each
obligation reference led to, with click depths. It judges nothing; the presence and
usefulness rules read the harvest.

Depth is the number of clicks from the home page (home = 0). Pages are fetched in order of
promise (obligation links first), not strictly breadth-first, so the depths are computed at
the end as shortest paths over the links actually seen; a page reached late through a long
detour still gets the depth of its shortest known path. An obligation's ``info_depth`` is the
smallest depth of a page, in that obligation's context, that links one of its resources or
shows a data table; a file linked straight from a fractions list counts at the list's depth.

Besides links, the crawl records what some answers *are* (``anomaly`` on pages, hits and
files), so that the rules can tell an error page or a block page from published content:

* ``soft_404``: a 200 answer that is an error page. Once per portal, right after the home page,
  the crawl requests a made-up path (``/lupa-404-<hex>``, fixed per portal so that runs are
  reproducible). When that probe is answered 200, pages whose own words match the probe's, or
  that land where the probe was redirected, are error pages; so are pages with error wording
  ("Página no encontrada", "Error 404") in their title, headings or a short body, and links
  (pages or files) that land on the home page. Pages that list files or fractions, show a
  data table or carry a justification note never are.
* ``captcha``, ``waf``, ``login``: a challenge, a firewall's block page or a login form
  (``scrapers.discovery.PageSignals``), whatever the HTTP status, also under a document's URL
  (a 247-byte "PDF" that is a firewall's HTML).

A page with an anomaly is not read for links. The home page and the transparency section are
summarised (``HomeFetch``: links, text, scripts, ``<noscript>``, empty app roots, mojibake:
the JS_REQUIRED and ENCODING_ERROR evidence); ``blocked_section`` is the most promising
transparency link that was refused (401/403, challenge, login wall) when no section was found.
"""

from __future__ import annotations

import hashlib
import heapq
import itertools
import logging
import re
from collections import deque
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, fields, is_dataclass, replace
from datetime import UTC, datetime
from typing import Any, Protocol
from urllib.parse import urlsplit

from audit.obligations import ObligationRef, roman_to_int
from audit.subjects import Subject
from scrapers.discovery import (
    CatalogLike,
    Justification,
    Link,
    PageAnalysis,
    ResourceLink,
    classify_page,
    map_to_catalog,
    normalize_text,
    normalize_url,
    origin,
    parse_obligation_ref,
)
from scrapers.results import FetchResult
from scrapers.sniff import charset_conflict, parse_content_type

log = logging.getLogger(__name__)

UNREACHABLE_ERRORS = frozenset(
    {"timeout", "connect", "dns", "tls", "redirect_loop", "too_many_redirects"}
)
HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})
BLOCK_ANOMALIES = frozenset({"captcha", "waf", "login"})
SOFT_404 = "soft_404"
NOT_FOUND_PREFIX = "/lupa-404-"
# A page whose own words are this close to the not-found probe's (Jaccard) is an error page.
PROBE_SIMILARITY = 0.85
# Refusals whose HTML body is read to say why (captcha, firewall, login).
_REFUSAL_STATUSES = frozenset({401, 403, 429, 503})
# Where a redirect lands when a page needs a session (a login wall).
_LOGIN_URL = re.compile(
    r"/(?:login|signin|sign-in|iniciar-?sesion|inicio-?sesion|auth|sso|cas/login)"
    r"(?:[/.?]|$)|/wp-login\.php|/user/login|[?&]returnurl=",
    re.IGNORECASE,
)
_APACHE_SORT = re.compile(r"^C=[NMSD][;&]O=[AD]$", re.IGNORECASE)


class PageSource(Protocol):
    def fetch(self, url: str) -> FetchResult: ...

    def robots_allows(self, url: str) -> bool: ...

    def robots_status(self, url: str) -> Any: ...


@dataclass
class CrawlSettings:
    max_clicks: int = 6
    # Nested state portals (Transparencia → Artículo → Fracción → Ejercicio → Trimestre)
    # take 300+ pages. An obligation often lists a file per quarter for two or three years:
    # every one is checked, so that each broken file is reported.
    max_pages: int = 500
    max_resources_per_obligation: int = 24
    max_resources: int = 1500
    check_resources: bool = True
    # Trap guard: distinct query strings followed per path (calendars, endless pagination).
    max_query_variants: int = 5
    # Transparency-link candidates tried per level while looking for the section.
    section_candidates: int = 3


class _FieldAccess:
    """Lets rules read a record as ``record.status_code`` or ``record.get("status_code")``,
    the way they read it after a JSON round trip."""

    def get(self, name: str, default: Any = None) -> Any:
        return getattr(self, name, default)

    def __getitem__(self, name: str) -> Any:
        try:
            return getattr(self, name)
        except AttributeError:
            raise KeyError(name) from None


@dataclass
class HomeFetch(_FieldAccess):
    """One page's answer, summarised: the home page, the transparency section, a refused
    section link, or the not-found probe (``PortalHarvest``)."""

    status_code: int | None = None
    error: str | None = None
    error_detail: str | None = None
    final_url: str | None = None
    content_type: str | None = None
    links: int = 0  # links and visible text size: JS_REQUIRED evidence for the rules
    text_chars: int = 0
    url: str | None = None  # the URL requested (None on harvests older than this field)
    title: str = ""
    scripts: int = 0  # <script> elements, <noscript> text, an empty app root ("div#root")
    noscript: str = ""
    app_root: str = ""
    frames: int = 0  # frames, iframes and meta refreshes shown without a click
    anomaly: str | None = None  # 'soft_404', 'captcha', 'waf', 'login'
    anomaly_detail: str | None = None
    mojibake: str = ""  # a sample of wrongly decoded text (ENCODING_ERROR evidence)
    # "declared→real" charset when the page declares one it is not written in (ENCODING_ERROR)
    charset_conflict: str = ""


@dataclass
class PageVisit:
    url: str
    depth: int
    status_code: int | None
    error: str | None
    parent: str | None
    context: str | None  # obligation (or article) id the page belongs to
    final_url: str | None = None
    title: str = ""  # <title>, for soft-404 and login-wall checks
    anomaly: str | None = None  # 'soft_404', 'captcha', 'waf', 'login' (module docstring)
    anomaly_detail: str | None = None
    mojibake: str = ""  # a sample of wrongly decoded text on the page


@dataclass
class ResourceCheck(_FieldAccess):
    url: str
    text: str
    depth: int  # depth of the page that lists it (the download click is not counted)
    found_on: str
    checked: bool = False
    status_code: int | None = None
    error: str | None = None
    final_url: str | None = None
    declared_type: str | None = None
    sniffed_type: str | None = None
    bytes: int | None = None
    sha256: str | None = None
    # What a document reader made of the file (see lupa.documents), when one was given.
    document: dict | None = None
    anomaly: str | None = None  # an HTML error or block page under the file's URL
    anomaly_detail: str | None = None


@dataclass
class Hit:
    obligation_id: str  # catalog id; a fraction id ('70-II') covers its sub-formats
    cited_id: str  # as the portal cites it ('121-IX' on a CDMX portal)
    url: str  # the obligation's page, or the file when a list links it directly
    depth: int  # clicks to reach ``url`` (for a file: the depth of the page listing it)
    info_depth: int | None  # where its information is first listed; None if nowhere
    via: str
    text: str
    found_on: str | None
    is_resource: bool
    status_code: int | None
    error: str | None
    resources: list[ResourceCheck] = field(default_factory=list)
    justification: str | None = None
    has_table: bool = False
    pages: list[str] = field(default_factory=list)  # pages visited in its context
    anomaly: str | None = None  # its page (or file) is an error or block page
    anomaly_detail: str | None = None


@dataclass
class UnmappedRef:
    """A reference to a state-law fraction that no catalog obligation's title matched
    (often a state-only fraction); kept apart so it is never taken for a catalog id."""

    cited_id: str
    url: str
    text: str
    via: str
    found_on: str
    depth: int


@dataclass
class PortalHarvest:
    subject_id: str
    home_url: str
    home: HomeFetch | None = None
    robots_home_allowed: bool = True
    robots_detail: Any = None
    unreachable: bool = False
    transparency_url: str | None = None
    transparency_depth: int | None = None
    transparency_how: str | None = None  # 'registry', 'link', 'home' or None
    cited_law: str | None = None
    pnt_links: list[str] = field(default_factory=list)
    pages: list[PageVisit] = field(default_factory=list)
    hits: list[Hit] = field(default_factory=list)
    unmapped: list[UnmappedRef] = field(default_factory=list)
    fetches: list[dict] = field(default_factory=list)
    truncated: bool = False
    resources_truncated: bool = False
    notes: list[str] = field(default_factory=list)
    started_at: str = ""
    finished_at: str = ""
    section_fetch: HomeFetch | None = None  # the transparency section's page, summarised
    blocked_section: HomeFetch | None = None  # a refused section link, when none was found
    not_found_probe: HomeFetch | None = None  # the answer to a made-up path on the portal

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> PortalHarvest:
        values = dict(data)
        for name in ("home", "section_fetch", "blocked_section", "not_found_probe"):
            values[name] = HomeFetch(**data[name]) if data.get(name) else None
        values["pages"] = [PageVisit(**page) for page in data.get("pages", [])]
        values["hits"] = [
            Hit(**{**hit, "resources": [ResourceCheck(**r) for r in hit.get("resources", [])]})
            for hit in data.get("hits", [])
        ]
        values["unmapped"] = [UnmappedRef(**ref) for ref in data.get("unmapped", [])]
        values["fetches"] = [dict(row) for row in data.get("fetches", [])]
        known = {f.name for f in fields(cls)}
        return cls(**{key: value for key, value in values.items() if key in known})

    def hit(self, obligation_id: str) -> Hit | None:
        return next((hit for hit in self.hits if hit.obligation_id == obligation_id), None)


# --------------------------------------------------------------------------- internals


@dataclass
class _Node:
    url: str
    parent: str | None
    context: ObligationRef | None
    in_section: bool
    result: FetchResult | None = None
    analysis: PageAnalysis | None = None
    html: str = ""
    is_file: bool = False
    robots_blocked: bool = False
    expandable: bool = True
    depth: int = 0  # clicks along the path the crawl took (final depths are recomputed)
    local_law: bool | None = None  # a state law was cited on this page or above it
    context_mapped: bool = True  # False: the context is a state-law ref matched to nothing
    read: PageAnalysis | None = None  # the analysis, kept even when the page is unusable
    anomaly: str | None = None
    anomaly_detail: str | None = None


@dataclass
class _LinkSeen:
    ref: ObligationRef
    cited: str
    mapped: bool
    url: str
    text: str
    via: str
    found_on: str
    is_resource: bool
    order: int


class _Crawl:
    """State of one portal's crawl; ``crawl_portal`` is the public entry point."""

    def __init__(
        self, subject: Subject, source: PageSource, catalog: CatalogLike, settings: CrawlSettings,
        reader: Callable[[FetchResult], dict | None] | None = None,
    ) -> None:
        self.subject = subject
        self.source = source
        self.reader = reader
        self.catalog = catalog
        self.settings = settings
        self.harvest = PortalHarvest(
            subject_id=subject.subject_id,
            home_url=subject.portal_url,
            started_at=_now(),
        )
        self.nodes: dict[str, _Node] = {}
        self.by_final: dict[str, str] = {}  # final URL after redirects -> requested URL
        self.fetch_log: list[tuple[dict, str, str]] = []  # (row, url, purpose)
        self.page_fetches = 0
        self.origins: set[str] = set()
        self.home = normalize_url(subject.portal_url)
        self.section: str | None = None
        # The home page's words: on table-layout sites the template (header, menu, footer in
        # <td>s) is "content" too, and is left out before pages are compared with the probe.
        self.home_words: frozenset[str] = frozenset()
        self.query_variants: dict[str, set[str]] = {}
        self.capped_paths: set[str] = set()
        self.frontier: list[tuple] = []
        self.counter = itertools.count()
        self.aliases: dict[str, ObligationRef] = {}
        self.virtual_edges: list[tuple[str, str]] = []
        self.robots_unreachable = False
        self.informed: set[str] = set()  # obligation contexts already showing information
        self.probe_target: str | None = None  # where the not-found probe was redirected
        self.probe_words: frozenset[str] = frozenset()  # the probe's own words
        self.home_final: str = self.home
        self.section_tries: list[str] = []  # section candidates fetched, in rank order

    # ---------------------------------------------------------------- main flow

    def run(self) -> PortalHarvest:
        if not self._check_home_robots():
            return self._finish()
        home = self._fetch_page(self.home, None, None, in_section=False, purpose="home")
        self._record_home(home)
        if not self._home_usable(home):
            return self._finish()
        self._probe_not_found(home)
        self._find_section(home)
        self._record_section()
        self._seed()
        self._crawl_loop()
        depths = self._depths()
        self._build_pages(depths)
        self._build_hits(depths)
        self._check_resources()
        self._fix_fetch_depths(depths)
        self._summarise(depths)
        return self._finish()

    def _finish(self) -> PortalHarvest:
        self.harvest.fetches = [
            {"depth": 0 if purpose == "home" else None, **row, "purpose": purpose}
            for row, _url, purpose in self.fetch_log
        ]
        self.harvest.finished_at = _now()
        return self.harvest

    # ---------------------------------------------------------------- home

    def _check_home_robots(self) -> bool:
        url = self.subject.portal_url
        try:
            allowed = bool(self.source.robots_allows(url))
            status = self.source.robots_status(url)
        except Exception as exc:  # a robots bug must not hide the portal
            self.harvest.notes.append(f"robots.txt could not be checked: {exc!r}")
            return True
        self.harvest.robots_detail = _jsonable(status)
        row = _robots_row(status)
        if row is not None:
            self.fetch_log.append((row, row["url"], "robots"))
        if not allowed and _robots_unreachable(status):
            # No answer for robots.txt usually means no answer at all: let the home fetch
            # say what happened (a refusal then comes back as error "robots").
            self.harvest.notes.append("robots.txt unreachable; trying the home page")
            self.robots_unreachable = True
            return True
        if not allowed and _robots_state(status) == "forbidden" and self._despite_forbidden(url):
            allowed = True
        self.harvest.robots_home_allowed = allowed
        if not allowed:
            self.harvest.notes.append("robots.txt disallows the home page; nothing fetched")
        return allowed

    def _despite_forbidden(self, url: str) -> bool:
        """robots.txt answered 401/403. RFC 9309 reads any 4xx as "no rules"; Lupa asks the
        home page once: when it answers too, only robots.txt is restricted and the portal is
        crawled; when it refuses, the portal blocks Lupa (ACCESS_BLOCKED)."""
        fetch = _fetch_ignoring_robots(self.source)
        if fetch is None:
            return False
        home = fetch(url)
        if not home.ok:
            self.harvest.notes.append(
                "robots.txt refused (HTTP 401/403) and the home page answered "
                f"{home.error or home.status_code}"
            )
            return False
        self.harvest.notes.append(
            "robots.txt refused (HTTP 401/403) but the home page answered: robots.txt is read "
            "as absent (RFC 9309)"
        )
        self.source = _DespiteRobots(self.source, fetch, home)
        return True

    def _record_home(self, home: _Node) -> None:
        result = home.result
        assert result is not None
        self.harvest.home = _summary(home)
        self.origins.add(origin(self.home))
        if result.final_url:
            self.origins.add(origin(result.final_url))
            self.home_final = normalize_url(result.final_url)

    def _probe_not_found(self, home: _Node) -> None:
        """Request a path that cannot exist; remember how the site answers it (soft 404s)."""
        assert home.result is not None
        token = hashlib.sha256(f"{self.subject.subject_id}|{self.home}".encode()).hexdigest()
        url = origin(home.result.final_url or self.home) + NOT_FOUND_PREFIX + token[:12]
        if not self.source.robots_allows(url):
            return
        result = self.source.fetch(url)
        self.fetch_log.append((_row(result), url, "probe"))
        probe = _Node(url=url, parent=None, context=None, in_section=False, result=result)
        if result.ok:
            final = normalize_url(result.final_url or url)
            if final != normalize_url(url):
                self.probe_target = final
            if _is_html(result):
                probe.read = classify_page(result.text, final, self.catalog, in_section=False)
                words = _words(probe.read.content_text)
                self.probe_words = words if len(words) >= 3 else frozenset()
                probe.read.content_text = ""
        self.harvest.not_found_probe = _summary(probe)
        if result.ok:
            self.harvest.notes.append(
                f"a made-up path answered HTTP {result.status_code}"
                + (f" (redirected to {self.probe_target})" if self.probe_target else "")
                + ": soft 404s are looked for"
            )

    def _anomaly(
        self, url: str, result: FetchResult, analysis: PageAnalysis, purpose: str
    ) -> tuple[str, str] | None:
        """What an HTML answer is when it is not content: a block page or an error page."""
        signals = analysis.signals
        informative = bool(
            analysis.resource_links
            or analysis.has_table
            or analysis.obligation_links
            or analysis.article_links
            or analysis.justification  # "no se generó información": an answer, not a block
        )
        if signals.block and not informative:
            return signals.block, signals.block_cue
        landed = urlsplit(result.final_url or url)
        if (
            not informative
            and normalize_url(result.final_url or url) != normalize_url(url)
            and _LOGIN_URL.search(f"{landed.path}?{landed.query}")
        ):
            return "login", f"redirige a {result.final_url}"
        if purpose == "home" or not result.ok or informative:
            return None
        requested, final = normalize_url(url), normalize_url(result.final_url or url)
        if final == self.home_final and not _home_alias(requested, self.home):
            return SOFT_404, f"lleva a la página de inicio ({final})"
        if self.probe_target and final == self.probe_target and requested != final:
            return SOFT_404, f"redirige a {final}, igual que una dirección inexistente"
        if signals.error_cue:
            return SOFT_404, f"muestra «{signals.error_cue}»"
        if self.probe_words:
            words = _words(analysis.content_text)
            probe_own = self.probe_words - self.home_words
            if len(probe_own) >= 3:  # the words the site's error page adds to its template
                if _similar(words - self.home_words, probe_own):
                    return SOFT_404, "muestra lo mismo que una dirección inexistente del sitio"
            elif _similar(words, self.probe_words):  # unknown paths show the home page
                return SOFT_404, "muestra lo mismo que una dirección inexistente del sitio"
        return None

    def _home_usable(self, home: _Node) -> bool:
        result = home.result
        assert result is not None
        if result.error == "robots" and self.robots_unreachable:
            self.harvest.unreachable = True  # the server did not answer, robots.txt included
            self.harvest.notes.append(f"home page unreachable: {result.error_detail}")
            return False
        if result.error == "robots":
            self.harvest.robots_home_allowed = False
            self.harvest.notes.append("the home page was refused by robots.txt rules")
            return False
        if home.anomaly in BLOCK_ANOMALIES:
            self.harvest.notes.append(
                f"home page refused: {home.anomaly} ({home.anomaly_detail}, "
                f"HTTP {result.status_code})"
            )
            return False
        if result.error in UNREACHABLE_ERRORS or (result.status_code or 0) >= 500:
            self.harvest.unreachable = True
            self.harvest.notes.append(
                f"home page unreachable: {result.error or result.status_code}"
            )
            return False
        if not result.ok or home.analysis is None:
            self.harvest.notes.append(
                f"home page not usable: {result.error or result.status_code}"
                f" ({result.sniffed_type or result.declared_type})"
            )
            return False
        return True

    # ---------------------------------------------------------------- section

    def _home_frames(self, home: _Node) -> list[_Node]:
        """The home page plus what it shows without a click (a frameset, a meta refresh):
        all at depth 0, and the roots from which the section is looked for."""
        roots = [home]
        for url in home.analysis.embedded_links[:3] if home.analysis else []:
            if not self._known(url):
                self.origins.add(origin(url))
                roots.append(
                    self._fetch_page(url, home.url, None, in_section=False, purpose="page", depth=0)
                )
        analysis = home.analysis
        if analysis is not None and len(roots) == 1 and not analysis.transparency_links:
            # A splash page ("Entrar al sitio"): its only same-site link is the real home.
            own = {
                link.url
                for link in analysis.navigation_links
                if origin(link.url) in self.origins and normalize_url(link.url) != self.home
            }
            if len(own) == 1 and not self._known(next(iter(own))):
                roots.append(
                    self._fetch_page(
                        next(iter(own)), home.url, None, in_section=False, purpose="page",
                        depth=1,
                    )
                )
        return [node for node in roots if node.analysis is not None]

    def _find_section(self, home: _Node) -> None:
        roots = self._home_frames(home)
        registry = self.subject.transparency_url
        if registry and self._use_registry_section(roots, normalize_url(registry)):
            return
        listing = next((n for n in roots if len(n.analysis.fraction_refs) >= 3), None)
        if listing is not None:
            self._set_section(listing, "home")
            return
        first_ok: _Node | None = None
        for level_nodes in self._candidate_levels(roots, lambda node: False):
            for node in level_nodes:
                if node.analysis is None:
                    continue
                first_ok = first_ok or node
                if node.analysis.is_section:
                    self._set_section(node, "link")
                    return
        listing = next(
            (n for n in roots if n.analysis.fraction_refs or n.analysis.article_links), None
        )
        if first_ok is not None:
            self._set_section(first_ok, "link")
        elif listing is not None:
            self._set_section(listing, "home")
        else:
            self.harvest.notes.append("no transparency section found")

    def _record_section(self) -> None:
        """Summarise the section page; when none was found, or only a page that lists
        nothing, keep the most promising section link that was refused."""
        node = self.nodes.get(self.section) if self.section else None
        if node is not None:
            self.harvest.section_fetch = _summary(node)
        if node is not None and node.analysis is not None and node.analysis.is_section:
            return
        refused = next(
            (
                self.nodes[url]
                for url in self.section_tries
                if url != self.section and _refused(self.nodes[url])
            ),
            None,
        )
        if refused is not None:
            self.harvest.blocked_section = _summary(refused)
            self.harvest.notes.append(
                f"transparency link refused: {refused.url} "
                f"({refused.anomaly or (refused.result.status_code if refused.result else '')})"
            )

    def _use_registry_section(self, roots: list[_Node], registry: str) -> bool:
        """Use the registry's section URL. The crawl still looks for it from the home page
        so that its depth is the real number of clicks (one when no path is found)."""

        def links_registry(node: _Node) -> bool:
            return node.analysis is not None and registry in self._links_of(node)

        home = roots[0]
        parent = next((n for n in roots if n.url == registry or links_registry(n)), None)
        if parent is None:
            for level_nodes in self._candidate_levels(roots, links_registry):
                parent = next((node for node in level_nodes if links_registry(node)), None)
                if parent is not None:
                    break
        node = self.nodes.get(registry) or self._fetch_page(
            registry,
            (parent or home).url,
            None,
            in_section=True,
            purpose="page",
            depth=(parent or home).depth + 1,
        )
        self.section_tries.append(node.url)
        if node.analysis is None:
            self.harvest.notes.append(
                "registry transparency_url failed "
                f"({_failure(node)}); looking for the section from the home page"
            )
            return False
        if parent is None:
            self.virtual_edges.append((home.url, registry))
            self.harvest.notes.append(
                "registry transparency_url is not linked from the pages seen near the home "
                "page; counted as one click"
            )
        self._set_section(node, "registry")
        return True

    def _candidate_levels(self, roots: list[_Node], stop: Callable[[_Node], bool]):
        """Fetch the best transparency links level by level (up to two intermediate pages),
        yielding each level's fetched nodes in rank order; stops early when ``stop`` says."""
        level = list(roots)
        tried = {node.url for node in roots}
        for _ in range(3):
            candidates: dict[str, tuple[float, _Node]] = {}
            for node in level:
                for link in node.analysis.transparency_links if node.analysis else []:
                    if link.url not in tried and link.url not in candidates:
                        candidates[link.url] = (link.score, node)
            ranked = sorted(candidates.items(), key=lambda item: -item[1][0])
            fetched = []
            for url, (_score, parent) in ranked[: self.settings.section_candidates]:
                tried.add(url)
                known = self.nodes.get(self.by_final.get(url, url))
                if known is None and self.page_fetches >= self.settings.max_pages:
                    break
                node = known or self._fetch_page(
                    url, parent.url, None, in_section=False, purpose="page", depth=parent.depth + 1
                )
                self.section_tries.append(node.url)
                fetched.append(node)
                if stop(node):
                    break
            if not fetched:
                return
            yield fetched
            level = [node for node in fetched if node.analysis is not None]

    def _set_section(self, node: _Node, how: str) -> None:
        self.section = node.url
        self.harvest.transparency_url = node.url
        self.harvest.transparency_how = how
        self.origins.add(origin(node.url))
        if node.result is not None and node.result.final_url:
            self.origins.add(origin(node.result.final_url))
        if not node.in_section and node.analysis is not None:
            node.in_section = True
            node.analysis = self._analyse(node)  # title words count inside the section
            node.analysis.content_text = ""
            node.read = node.analysis
        node.in_section = True

    # ---------------------------------------------------------------- crawl

    def _seed(self) -> None:
        """Expand every page fetched so far: the section's links, and the obligation links
        seen on the way (a home page may link a fraction directly)."""
        for node in list(self.nodes.values()):
            self._expand(node)
            _release(node)

    def _crawl_loop(self) -> None:
        while self.frontier:
            _tier, depth, _score, _seq, url, parent, context, in_section, mapped = heapq.heappop(
                self.frontier
            )
            if self._known(url):
                continue
            if _tier == 0 and context is not None and self._has_information(context):
                # Its obligation already shows information: first look at the others.
                heapq.heappush(
                    self.frontier,
                    (1, depth, _score, _seq, url, parent, context, in_section, mapped),
                )
                continue
            if self.page_fetches >= self.settings.max_pages:
                self.harvest.truncated = True
                self.harvest.notes.append(
                    f"page budget reached ({self.settings.max_pages} pages); crawl truncated"
                )
                return
            node = self._fetch_page(
                url,
                parent,
                context,
                in_section=in_section,
                purpose="page",
                depth=depth,
                context_mapped=mapped,
            )
            self._expand(node)
            _release(node)

    def _expand(self, node: _Node) -> None:
        analysis = node.analysis
        if analysis is None or not node.expandable or origin(node.url) not in self.origins:
            return  # pages of other sites are read (resources, notes) but not crawled
        child_depth = node.depth + 1
        for url in analysis.embedded_links:  # shown without a click: same depth
            self._push(
                url,
                node.url,
                node.context,
                node.in_section,
                0,
                node.depth,
                25.0,
                node.context_mapped,
            )
        for link in analysis.obligation_links:
            if not link.is_resource:
                self._push(link.url, node.url, link.ref, True, 0, child_depth, 20.0, link.mapped)
        for link in analysis.article_links:
            self._push(
                link.url, node.url, ObligationRef.parse(link.ref), True, 0, child_depth, 15.0
            )
        if not (node.in_section or node.context is not None):
            return
        for link in analysis.navigation_links:
            self._push_navigation(node, link, child_depth)

    def _has_information(self, context: ObligationRef) -> bool:
        """True once a fetched page in this obligation's context lists a resource of it or
        shows a data table (cheap check: pages are few, resources are read lazily)."""
        if context.fraction is None:
            return False
        key = context.obligation_id
        if key in self.informed:
            return True
        for node in self.nodes.values():
            if (
                node.context is not None
                and node.context.obligation_id == key
                and (
                    node.analysis is not None
                    and (node.analysis.has_table or node.analysis.resource_links)
                )
            ):
                self.informed.add(key)
                return True
        return False

    def _push_navigation(self, node: _Node, link: Link, child_depth: int) -> None:
        if origin(link.url) not in self.origins or link.score < 0:
            return
        context = ObligationRef.parse(link.ref) if link.ref else node.context
        under_section = self.section is not None and _under(link.url, self.section)
        promising = link.score > (2 if link.ref else 0)  # beyond what the context adds
        if not (promising or under_section) and (context is None or link.chrome):
            return  # site-wide menus ("Nosotros", "Trámites") lead away from obligations
        tier = 0 if (context is not None or link.score >= 3) else 1
        mapped = (
            node.context_mapped
            if link.ref is None
            or node.context is not None
            and (link.ref == node.context.obligation_id)
            else True
        )
        self._push(link.url, node.url, context, True, tier, child_depth, link.score, mapped)

    def _push(
        self,
        url: str,
        parent: str,
        context: ObligationRef | None,
        in_section: bool,
        tier: int,
        depth: int,
        score: float,
        mapped: bool = True,
    ) -> None:
        if self._known(url) or depth > self.settings.max_clicks:
            return
        if not self._query_ok(url, context):
            return
        heapq.heappush(
            self.frontier,
            (tier, depth, -score, next(self.counter), url, parent, context, in_section, mapped),
        )

    def _query_ok(self, url: str, context: ObligationRef | None) -> bool:
        """Trap guard: at most ``max_query_variants`` query strings per path and obligation
        (``consulta.php?fraccion=N`` pages are distinct obligations, not a trap)."""
        parts = urlsplit(url)
        if not parts.query:
            return True
        if _APACHE_SORT.match(parts.query):
            return False
        path = f"{parts.scheme}://{parts.netloc}{parts.path}"
        key = f"{path} [{context.obligation_id}]" if context else path
        variants = self.query_variants.setdefault(key, set())
        if parts.query in variants:
            return True
        if len(variants) >= self.settings.max_query_variants:
            if key not in self.capped_paths:
                self.capped_paths.add(key)
                self.harvest.notes.append(
                    f"query variants capped at {self.settings.max_query_variants} for {path}"
                )
            return False
        variants.add(parts.query)
        return True

    # ---------------------------------------------------------------- fetching pages

    def _known(self, url: str) -> bool:
        return url in self.nodes or url in self.by_final

    def _links_of(self, node: _Node) -> set[str]:
        """Links of a page, as keys of ``self.nodes`` where a redirect maps them."""
        if node.analysis is None or not node.expandable:
            return set()
        return {self.by_final.get(url, url) for url in _link_urls(node.analysis)}

    def _fetch_page(
        self,
        url: str,
        parent: str | None,
        context: ObligationRef | None,
        *,
        in_section: bool,
        purpose: str,
        depth: int = 0,
        context_mapped: bool = True,
    ) -> _Node:
        node = _Node(
            url=url,
            parent=parent,
            context=context,
            in_section=in_section,
            depth=depth,
            context_mapped=context_mapped,
        )
        self.nodes[url] = node
        if purpose != "home" and not self.source.robots_allows(url):
            node.robots_blocked = True
            return node
        result = self.source.fetch(url)
        self.page_fetches += 1
        node.result = result
        final = normalize_url(result.final_url or url)
        if final != url:
            if final in self.nodes or final in self.by_final:
                node.expandable = False  # a redirect to a page already crawled
            self.by_final.setdefault(final, url)
        if result.ok and _is_html(result):
            node.html = result.text
            analysis = self._analyse(node)
            node.read = analysis
            anomaly = self._anomaly(url, result, analysis, purpose)
            if purpose == "home":
                self.home_words = _words(analysis.content_text)
            analysis.content_text = ""
            if anomaly is None:
                node.analysis = analysis
                if node.analysis.page_ref is not None and node.context is None:
                    node.context = node.analysis.page_ref
                    node.context_mapped = node.analysis.page_ref_mapped
                self._remap(node)
            else:
                node.anomaly, node.anomaly_detail = anomaly
                node.html = ""
        elif result.status_code in _REFUSAL_STATUSES and _is_html(result) and result.content:
            node.html = result.text
            node.read = self._analyse(node)
            node.read.content_text = ""
            node.html = ""
            signals = node.read.signals
            if signals.block:
                node.anomaly = signals.block
                node.anomaly_detail = signals.block_cue
            elif signals.challenge_script and result.status_code in (403, 429, 503):
                node.anomaly, node.anomaly_detail = "captcha", signals.challenge_script
            elif result.status_code == 401:
                node.anomaly, node.anomaly_detail = "login", "HTTP 401"
        elif result.ok and purpose != "home":
            node.is_file = True
        self.fetch_log.append((_row(result), url, "resource" if node.is_file else purpose))
        return node

    def _analyse(self, node: _Node) -> PageAnalysis:
        base = node.result.final_url if node.result and node.result.final_url else node.url
        parent = self.nodes.get(node.parent) if node.parent else None
        hint = (
            node.local_law
            if node.local_law is not None
            else (parent.local_law if parent is not None else None)
        )
        context = self._alias(node.context) if node.context else None
        analysis = classify_page(
            node.html,
            base,
            self.catalog,
            context,
            in_section=node.in_section,
            local_law=hint,
            context_mapped=self._is_mapped(node.context, node.context_mapped)
            if node.context
            else True,
        )
        node.local_law = analysis.local_law
        return analysis

    def _remap(self, node: _Node) -> None:
        """A state-law reference no title explained ('81-VII' from a bare "Fracción VII")
        may be explained by the heading of the page it leads to."""
        context, analysis = node.context, node.analysis
        if context is None or context.fraction is None or analysis is None:
            return
        if context.obligation_id in self.aliases or node.context_mapped:
            return
        # Only headings that cite a fraction: the others are site names, years, menus.
        citing = [h for h in analysis.headings if (r := parse_obligation_ref(h)) and r.fraction]
        if not citing:
            return
        mapped = map_to_catalog(context, " ".join(citing[:2]), self.catalog, local_law=True)
        if mapped is not None:
            self.aliases[context.obligation_id] = mapped
            node.analysis = self._analyse(node)  # its links now inherit the catalog ref

    # ---------------------------------------------------------------- results

    def _depths(self) -> dict[str, int]:
        """Shortest click distance from home over the links seen on fetched pages (frames
        and refreshes cost no click)."""
        edges: dict[str, list[tuple[str, int]]] = {}
        for url, node in self.nodes.items():
            clicks = [(u, 1) for u in self._links_of(node) if u in self.nodes]
            shown = [(self.by_final.get(u, u), 0) for u in self._embedded_of(node)]
            edges[url] = sorted(clicks + [(u, w) for u, w in shown if u in self.nodes])
        depths = _bfs(self.home, edges)
        missing = [(a, b) for a, b in self.virtual_edges if b not in depths]
        for start, end in missing:
            edges.setdefault(start, []).append((end, 1))
        if missing:
            depths = _bfs(self.home, edges)
        for url, node in self.nodes.items():  # robots-blocked or unlinked leftovers
            if url not in depths and node.parent in depths:
                depths[url] = depths[node.parent] + 1
        return depths

    def _embedded_of(self, node: _Node) -> list[str]:
        if node.analysis is None or not node.expandable:
            return []
        return node.analysis.embedded_links

    def _build_pages(self, depths: dict[str, int]) -> None:
        for url, node in self.nodes.items():
            if node.is_file:
                continue
            result = node.result
            self.harvest.pages.append(
                PageVisit(
                    url=url,
                    depth=depths.get(url, -1),
                    status_code=result.status_code if result else None,
                    error="robots" if node.robots_blocked else (result.error if result else None),
                    parent=node.parent,
                    context=self._alias(node.context).obligation_id if node.context else None,
                    final_url=normalize_url(result.final_url)
                    if result and result.final_url
                    else None,
                    title=node.read.title[:200] if node.read else "",
                    anomaly=node.anomaly,
                    anomaly_detail=node.anomaly_detail,
                    mojibake=node.read.signals.mojibake if node.read else "",
                )
            )
        self.harvest.pages.sort(key=lambda page: (page.depth, page.url))
        if self.section is not None:
            self.harvest.transparency_depth = depths.get(self.section)

    def _alias(self, ref: ObligationRef) -> ObligationRef:
        return self.aliases.get(ref.obligation_id, ref)

    def _build_hits(self, depths: dict[str, int]) -> None:
        links = self._links_seen()
        contexts = self._page_contexts()
        notes = self._row_notes()
        mapped = [link for link in links if link.mapped]
        ids = dict.fromkeys([*(link.ref.obligation_id for link in mapped), *contexts, *notes])
        for obligation_id in ids:
            self.harvest.hits.append(
                self._make_hit(
                    obligation_id,
                    mapped,
                    contexts.get(obligation_id, []),
                    notes.get(obligation_id),
                    depths,
                )
            )
        self.harvest.hits.sort(key=lambda hit: _id_sort_key(hit.obligation_id))
        seen: set[tuple[str, str]] = set()
        for link in links:
            if not link.mapped and (link.cited, link.url) not in seen:
                seen.add((link.cited, link.url))
                self.harvest.unmapped.append(
                    UnmappedRef(
                        link.cited,
                        link.url,
                        link.text,
                        link.via,
                        link.found_on,
                        self._target_depth(link, depths),
                    )
                )

    def _is_mapped(self, ref: ObligationRef, mapped: bool) -> bool:
        return mapped or ref.obligation_id in self.aliases

    def _links_seen(self) -> list[_LinkSeen]:
        seen = []
        order = itertools.count()
        for url, node in self.nodes.items():
            if node.analysis is None:
                continue
            for link in node.analysis.obligation_links:
                seen.append(
                    _LinkSeen(
                        self._alias(link.ref),
                        link.cited,
                        self._is_mapped(link.ref, link.mapped),
                        link.url,
                        link.text,
                        link.via,
                        url,
                        link.is_resource,
                        next(order),
                    )
                )
        return seen

    def _node_context(self, node: _Node) -> str | None:
        """The catalog obligation a page belongs to (None: none, or one matched to nothing)."""
        context = node.context
        if context is None or context.fraction is None:
            return None
        if not self._is_mapped(context, node.context_mapped):
            return None
        return self._alias(context).obligation_id

    def _page_contexts(self) -> dict[str, list[_Node]]:
        contexts: dict[str, list[_Node]] = {}
        for node in self.nodes.values():
            context = self._node_context(node)
            if context is not None and not node.is_file:
                contexts.setdefault(context, []).append(node)
        return contexts

    def _row_notes(self) -> dict[str, tuple[_Node, Justification]]:
        """Justifications written for one fraction of a list ("XLVII … No aplica")."""
        notes: dict[str, tuple[_Node, Justification]] = {}
        for node in self.nodes.values():
            for note in node.analysis.justifications if node.analysis else []:
                if note.ref is not None and self._is_mapped(note.ref, note.mapped):
                    notes.setdefault(self._alias(note.ref).obligation_id, (node, note))
        return notes

    def _make_hit(
        self,
        obligation_id: str,
        links: list[_LinkSeen],
        pages: list[_Node],
        row_note: tuple[_Node, Justification] | None,
        depths: dict[str, int],
    ) -> Hit:
        own = [link for link in links if link.ref.obligation_id == obligation_id]
        listings = self._resources_for(obligation_id, depths)
        if own:
            primary = min(own, key=lambda link: (self._target_depth(link, depths), link.order))
            url, depth = primary.url, self._target_depth(primary, depths)
            via, text, found_on = primary.via, primary.text, primary.found_on
            cited, is_resource = primary.cited, primary.is_resource
        elif pages:
            first = min(pages, key=lambda node: depths.get(node.url, 99))
            url, depth, via, text = first.url, depths.get(first.url, -1), "heading", ""
            found_on, is_resource = first.parent, False
            cited = first.context.obligation_id if first.context else obligation_id
        else:
            assert row_note is not None
            node, note = row_note
            url, depth, via, text = node.url, depths.get(node.url, -1), note.via, note.text
            found_on, is_resource, cited = node.url, False, note.ref.obligation_id
        target = self.nodes.get(url)
        status, error, anomaly = None, None, (None, None)
        if target is not None and target.result is not None and not is_resource:
            status, error = target.result.status_code, target.result.error
            anomaly = (target.anomaly, target.anomaly_detail)
        elif target is not None and target.robots_blocked:
            error = "robots"
        info_depths = [r.depth for r in listings]
        pages_ok = [n for n in pages if n.analysis is not None]
        info_depths += [depths[n.url] for n in pages_ok if n.analysis.has_table and n.url in depths]
        return Hit(
            obligation_id=obligation_id,
            cited_id=cited,
            url=url,
            depth=depth,
            info_depth=min(info_depths) if info_depths else None,
            via=via,
            text=text,
            found_on=found_on,
            is_resource=is_resource,
            status_code=status,
            error=error,
            resources=listings,
            justification=self._justification(pages) or (row_note[1].text if row_note else None),
            has_table=any(n.analysis.has_table for n in pages_ok),
            pages=sorted(n.url for n in pages),
            anomaly=anomaly[0],
            anomaly_detail=anomaly[1],
        )

    def _target_depth(self, link: _LinkSeen, depths: dict[str, int]) -> int:
        listed_at = depths.get(link.found_on, 99)
        if link.is_resource:
            return listed_at
        return min(depths.get(link.url, listed_at + 1), listed_at + 1)

    def _resources_for(self, obligation_id: str, depths: dict[str, int]) -> list[ResourceCheck]:
        found: dict[str, ResourceCheck] = {}
        for url, node in self.nodes.items():
            if node.analysis is None or url not in depths:
                continue
            for link in node.analysis.resource_links:
                if self._resource_obligation(node, link) != obligation_id:
                    continue
                current = found.get(link.url)
                if current is None or depths[url] < current.depth:
                    found[link.url] = ResourceCheck(link.url, link.text, depths[url], url)
        for url, node in self.nodes.items():  # "pages" that turned out to be files
            context = self._node_context(node)
            if node.is_file and context == obligation_id and node.parent in depths:
                found.setdefault(url, ResourceCheck(url, "", depths[node.parent], node.parent))
        return sorted(found.values(), key=lambda r: (r.depth, -_latest_year(r), r.url))

    def _resource_obligation(self, node: _Node, link: ResourceLink) -> str | None:
        if link.ref is None or link.ref.fraction is None:
            return None
        if link.inherited:
            return self._node_context(node)
        return (
            self._alias(link.ref).obligation_id if self._is_mapped(link.ref, link.mapped) else None
        )

    def _justification(self, pages: list[_Node]) -> str | None:
        for node in sorted(pages, key=lambda node: node.depth):
            if node.analysis is not None and node.analysis.justification:
                return node.analysis.justification
        return None

    # ---------------------------------------------------------------- resources

    def _check_resources(self) -> None:
        """GET each obligation's resources, round-robin (every obligation's first file,
        then every second file…) so a short global budget still covers every obligation."""
        if not self.settings.check_resources:
            return
        checked: dict[str, ResourceCheck] = {}
        total = 0
        for rank in range(self.settings.max_resources_per_obligation):
            for hit in self.harvest.hits:
                if rank >= len(hit.resources):
                    continue
                resource = hit.resources[rank]
                if resource.url in checked:
                    _copy_check(checked[resource.url], resource)
                    continue
                node = self.nodes.get(resource.url)
                result = node.result if node is not None and node.is_file else None
                if result is None:
                    if total >= self.settings.max_resources:
                        self.harvest.resources_truncated = True
                        continue
                    result = self.source.fetch(resource.url)
                    self.fetch_log.append((_row(result), resource.url, "resource"))
                    total += 1
                _fill_check(resource, result)
                if result.status_code is not None and _is_html(result):
                    self._file_anomaly(resource, result)
                if self.reader is not None:
                    resource.document = self._read(result)
                checked[resource.url] = resource
        for hit in self.harvest.hits:
            if hit.is_resource:
                self._settle_file_hit(hit)
        if self.harvest.resources_truncated:
            self.harvest.notes.append(
                f"resource budget reached ({self.settings.max_resources} checks)"
            )

    def _read(self, result: FetchResult) -> dict | None:
        try:
            return self.reader(result)
        except Exception as exc:  # a reader bug must not cost the portal its crawl
            log.exception("reading %s failed", result.url)
            return {"error": f"{type(exc).__name__}: {exc}"}

    def _file_anomaly(self, resource: ResourceCheck, result: FetchResult) -> None:
        """A file link that answered HTML: a firewall's or login page, or an error page."""
        if not result.content or not (result.ok or result.status_code in _REFUSAL_STATUSES):
            return
        analysis = classify_page(
            result.text, result.final_url or resource.url, self.catalog, in_section=False
        )
        anomaly = self._anomaly(resource.url, result, analysis, "resource")
        if anomaly is not None:
            resource.anomaly, resource.anomaly_detail = anomaly

    def _settle_file_hit(self, hit: Hit) -> None:
        """A hit whose link is a file takes that file's check as its status; when a list
        links several files at the same depth and the first is broken, a working one
        stands for the obligation (the broken ones stay in ``resources``)."""
        check = next((r for r in hit.resources if r.url == hit.url and r.checked), None)
        if check is None:
            return
        if check.error is not None or check.anomaly is not None:
            working = next(
                (
                    r
                    for r in hit.resources
                    if r.depth == hit.depth
                    and r.checked
                    and r.error is None
                    and r.anomaly is None
                    and r.found_on == hit.found_on
                ),
                None,
            )
            if working is not None:
                hit.url, hit.text, check = working.url, working.text, working
        hit.status_code, hit.error = check.status_code, check.error
        hit.anomaly, hit.anomaly_detail = check.anomaly, check.anomaly_detail

    def _fix_fetch_depths(self, depths: dict[str, int]) -> None:
        listing = {r.url: r.depth for hit in self.harvest.hits for r in hit.resources}
        for row, url, purpose in self.fetch_log:
            if purpose == "robots":
                row["depth"] = None
            elif purpose == "resource":
                row["depth"] = listing.get(url, depths.get(url))
            else:
                row["depth"] = depths.get(url)

    def _summarise(self, depths: dict[str, int]) -> None:
        pnt: list[str] = []
        laws: list[str] = []
        ordered = sorted(
            (node for node in self.nodes.values() if node.analysis is not None),
            key=lambda node: (node.url != self.section, depths.get(node.url, 99)),
        )
        for node in ordered:
            pnt.extend(u for u in node.analysis.pnt_links if u not in pnt)
            if node.analysis.cited_law:
                laws.append((not node.analysis.law_named, node.analysis.cited_law))
        self.harvest.pnt_links = pnt
        # a page naming the law beats one that only shows an article number
        self.harvest.cited_law = min(laws, key=lambda law: law[0])[1] if laws else None


# --------------------------------------------------------------------------- helpers


def crawl_portal(
    subject: Subject,
    source: PageSource,
    catalog: CatalogLike,
    settings: CrawlSettings | None = None,
    reader: Callable[[FetchResult], dict | None] | None = None,
) -> PortalHarvest:
    """Crawl one subject's portal through ``source`` and return what was found.

    Never raises for portal trouble: robots refusals, unreachable homes, missing sections,
    broken links and budgets all end up as fields and notes of the harvest. ``reader``, when
    given, is called with every resource fetched and its result kept on the resource check.
    """
    return _Crawl(subject, source, catalog, settings or CrawlSettings(), reader).run()


def _now() -> str:
    return datetime.now(UTC).isoformat()


def _row(result: FetchResult) -> dict:
    row = result.fetch_row()
    if isinstance(row.get("fetched_at"), datetime):
        row["fetched_at"] = row["fetched_at"].isoformat()
    return row


def _latest_year(resource: ResourceCheck) -> int:
    """The latest year a resource's URL or text mentions: checks go to recent files first."""
    years = re.findall(r"(?<![0-9])(?:19|20)\d\d(?![0-9])", f"{resource.url} {resource.text}")
    return max(map(int, years), default=0)


def _similar(words: frozenset[str], probe: frozenset[str]) -> bool:
    """At least 3 words of the page's own, nearly all shared with the probe's."""
    union = words | probe
    return len(words) >= 3 and len(words & probe) >= PROBE_SIMILARITY * len(union)


def _robots_state(status: Any) -> str | None:
    return status.get("state") if isinstance(status, dict) else getattr(status, "state", None)


def _robots_unreachable(status: Any) -> bool:
    return _robots_state(status) == "unreachable"


def _fetch_ignoring_robots(source: Any) -> Callable[..., FetchResult] | None:
    """The source's fetch that skips robots.txt (``Fetcher.fetch_ignoring_robots`` and
    offline equivalents); None when the source has none."""
    return getattr(source, "fetch_ignoring_robots", None)


class _DespiteRobots:
    """The source of a portal whose robots.txt answered 401/403 while its home page did not:
    robots.txt is read as absent; the home page's answer is not asked for twice."""

    def __init__(self, source: Any, fetch: Callable[..., FetchResult], home: FetchResult):
        self._source, self._fetch, self._home = source, fetch, home

    def robots_allows(self, url: str) -> bool:
        return True

    def robots_status(self, url: str) -> Any:
        return self._source.robots_status(url)

    def fetch(self, url: str, method: str = "GET") -> FetchResult:
        home, self._home = self._home, None
        if home is not None and method == "GET" and url == home.url:
            return home
        return self._fetch(url, method)


def _robots_row(status: Any) -> dict | None:
    """A ``fetches`` row for the robots.txt request when the source says it made one
    (the live fetcher's ``RobotsStatus`` names the file and its answer)."""
    robots_url = getattr(status, "robots_url", None)
    if not robots_url or (status.status_code is None and status.error is None):
        return None
    return {
        "url": robots_url,
        "final_url": robots_url,
        "status_code": status.status_code,
        "content_type": None,
        "declared_type": None,
        "bytes": getattr(status, "bytes", None),
        "sha256": getattr(status, "sha256", None),
        "elapsed_ms": None,
        "fetched_at": _now(),
        "redirects": 0,
        "error": status.error,
        "error_detail": getattr(status, "detail", None) or None,
        "evidence_ref": getattr(status, "evidence_ref", None),
    }


def _summary(node: _Node) -> HomeFetch:
    """A page's answer and what it showed (home, section, refused link, probe)."""
    result, read = node.result, node.read
    signals = read.signals if read is not None else None
    return HomeFetch(
        status_code=result.status_code if result else None,
        error=("robots" if node.robots_blocked else result.error if result else None),
        error_detail=result.error_detail if result else None,
        final_url=normalize_url(result.final_url) if result and result.final_url else None,
        content_type=(result.sniffed_type or result.declared_type) if result else None,
        links=read.link_count if read else 0,
        text_chars=read.text_chars if read else 0,
        url=node.url,
        title=read.title[:200] if read else "",
        scripts=signals.scripts if signals else 0,
        noscript=signals.noscript if signals else "",
        app_root=signals.app_root if signals else "",
        frames=len(read.embedded_links) if read else 0,
        anomaly=node.anomaly,
        anomaly_detail=node.anomaly_detail,
        mojibake=signals.mojibake if signals else "",
        charset_conflict=_charset_conflict(result) if result is not None else "",
    )


def _charset_conflict(result: FetchResult) -> str:
    if not result.encoding or not result.ok:
        return ""
    _, charset = parse_content_type(result.headers.get("content-type", ""))
    return charset_conflict(result.content, charset, result.sniffed_type, result.encoding)


_HOME_PATH = re.compile(r"^/?(?:(?:index|inicio|default|home|portal)(?:\.\w{2,5})?)?/?$", re.I)


def _home_alias(url: str, home: str) -> bool:
    """A link that means the home page itself ("/", "/index.php", "/inicio"), on its host."""
    parts = urlsplit(url)
    return url == home or (
        urlsplit(home).hostname == parts.hostname
        and not parts.query
        and bool(_HOME_PATH.match(parts.path))
    )


def _refused(node: _Node) -> bool:
    """Refused to Lupa: HTTP 401/403, or a challenge, firewall or login page."""
    if node.anomaly in BLOCK_ANOMALIES:
        return True
    return node.result is not None and node.result.status_code in (401, 403)


def _words(text: str) -> frozenset[str]:
    """The distinct words of a page's own text, without URLs and paths (error pages often
    repeat the address asked for) and without the probe's made-up name."""
    return frozenset(
        word
        for word in normalize_text(text).split()
        if "/" not in word and not word.startswith(NOT_FOUND_PREFIX[1:])
    )


def _failure(node: _Node) -> str:
    if node.robots_blocked:
        return "robots"
    if node.result is None:
        return "not fetched"
    return str(node.result.error or node.result.status_code or "not an HTML page")


def _is_html(result: FetchResult) -> bool:
    if result.sniffed_type in HTML_TYPES:
        return True
    if result.sniffed_type in (None, "text/plain") and result.declared_type in HTML_TYPES:
        return True
    return (
        result.sniffed_type is None
        and result.declared_type is None
        and (result.content.lstrip()[:1] == b"<")
    )


def _link_urls(analysis: PageAnalysis) -> set[str]:
    urls = {link.url for link in analysis.obligation_links if not link.is_resource}
    urls.update(link.url for link in analysis.article_links)
    urls.update(link.url for link in analysis.navigation_links)
    urls.update(link.url for link in analysis.transparency_links)
    return urls


def _bfs(start: str, edges: dict[str, list[tuple[str, int]]]) -> dict[str, int]:
    """Shortest distances with edge weights 0 or 1 (a 0-1 breadth-first search)."""
    depths = {start: 0}
    queue = deque([start])
    while queue:
        current = queue.popleft()
        for child, weight in edges.get(current, []):
            candidate = depths[current] + weight
            if candidate < depths.get(child, candidate + 1):
                depths[child] = candidate
                if weight == 0:
                    queue.appendleft(child)
                else:
                    queue.append(child)
    return depths


def _under(url: str, section: str) -> bool:
    """True when ``url`` is inside the section's folder (same origin, path prefix)."""
    if origin(url) != origin(section):
        return False
    folder = urlsplit(section).path.rsplit("/", 1)[0] + "/"
    return urlsplit(url).path.startswith(folder) and folder != "/"


def _release(node: _Node) -> None:
    """Drop a page's body once it is read: a harvest keeps hashes and sizes, and a crawl of
    hundreds of pages should not hold them all in memory (files keep theirs for the check)."""
    node.html = ""
    if node.analysis is not None:
        node.analysis.content_text = ""
    if node.result is not None and not node.is_file and node.result.content:
        node.result = replace(node.result, content=b"")


def _fill_check(resource: ResourceCheck, result: FetchResult) -> None:
    resource.checked = True
    resource.status_code = result.status_code
    resource.error = result.error
    resource.final_url = normalize_url(result.final_url) if result.final_url else None
    resource.declared_type = result.declared_type
    resource.sniffed_type = result.sniffed_type
    resource.bytes = result.bytes if result.status_code is not None else None
    resource.sha256 = result.sha256


def _copy_check(source: ResourceCheck, target: ResourceCheck) -> None:
    for name in (
        "checked",
        "status_code",
        "error",
        "final_url",
        "declared_type",
        "sniffed_type",
        "bytes",
        "sha256",
        "anomaly",
        "anomaly_detail",
    ):
        setattr(target, name, getattr(source, name))


def _id_sort_key(obligation_id: str) -> tuple:
    try:
        ref = ObligationRef.parse(obligation_id)
    except ValueError:
        return (999, 0, "")
    return (ref.article, roman_to_int(ref.fraction) if ref.fraction else 0, ref.subformat or "")


def _jsonable(value: Any) -> Any:
    """Robots detail as plain JSON values, whatever the page source returns."""
    if value is None or isinstance(value, str | int | float | bool):
        return value
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_jsonable(v) for v in value]
    if isinstance(value, FetchResult):
        return _jsonable(_row(value))
    if callable(getattr(value, "to_dict", None)):
        return _jsonable(value.to_dict())
    if is_dataclass(value) and not isinstance(value, type):
        return _jsonable(asdict(value))
    return str(value)
