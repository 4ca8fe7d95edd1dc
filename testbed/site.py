"""A portal's site map: every path it serves, what each one is, and where each entry landed.

Site builders (``testbed.families``) register pages with their depth in clicks from the
home page, and files; page bodies are closures rendered only when requested, so building
the map (which the ground truth needs for every portal) stays cheap.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import quote

from testbed import html
from testbed.model import Entry, EntryLayout, FilePlan, PortalSpec

SAFE = "/?=&%:;,+()'~"


@dataclass
class Route:
    """What one path serves: a page (``body`` closure) or a generated file."""

    kind: str                                # "page", "raw" (no chrome) or "file"
    depth: int | None = None
    title: str = ""
    body: Callable[[], str] | None = None
    crumbs: list[tuple[str, str]] | None = None
    entry: Entry | None = None
    file: FilePlan | None = None
    download_name: str | None = None


@dataclass
class Site:
    portal: PortalSpec
    transparency_path: str | None
    routes: dict[str, Route] = field(default_factory=dict)
    layouts: dict[str, EntryLayout] = field(default_factory=dict)
    file_paths: set[str] = field(default_factory=set)
    serials: dict[str, int] = field(default_factory=dict)

    def url(self, path: str) -> str:
        """Absolute URL of a site path, percent-encoded as the page's href resolves."""
        return self.portal.base_url + quote(path, safe=SAFE)

    @property
    def transparency_url(self) -> str | None:
        return self.url(self.transparency_path) if self.transparency_path else None

    def page(self, path: str, depth: int, title: str, body: Callable[[], str],
             crumbs: list[tuple[str, str]] | None = None, raw: bool = False) -> None:
        known = self.routes.get(path)
        if known is not None and known.depth is not None and known.depth <= depth:
            return
        self.routes[path] = Route("raw" if raw else "page", depth, title, body, crumbs)

    def file(self, path: str, entry: Entry, plan: FilePlan,
             download_name: str | None = None) -> None:
        self.routes[path] = Route("file", entry=entry, file=plan, download_name=download_name)

    def serial(self, key: str) -> int:
        """A number unique within the site, fixed by build order (download ids)."""
        if key not in self.serials:
            self.serials[key] = stable_number(self.portal.seed, "serial", span=800_000) + len(
                self.serials)
        return self.serials[key]

    def layout(self, entry: Entry) -> EntryLayout:
        return self.layouts.setdefault(entry.key, EntryLayout())

    def publish_files(self, entry: Entry, files: list[tuple[int, FilePlan, str]],
                      depth: int, page_path: str) -> None:
        """Register the files a page at ``depth`` lists (broken ones get no route) and
        remember the shallowest such page for the entry."""
        layout = self.layout(entry)
        for index, plan, path in files:
            if path in self.file_paths:
                raise ValueError(f"two files at {path} on {self.portal.portal_url}")
            self.file_paths.add(path)
            if index not in entry.broken:
                self.file(path, entry, plan)
        if files and (layout.info_depth is None or depth < layout.info_depth):
            layout.info_depth = depth
            layout.info_url = self.url(page_path)

    def render(self, path: str) -> str | None:
        """The full HTML of a page route, or None for files and unknown paths."""
        route = self.routes.get(path)
        if route is None or route.kind == "file" or route.body is None:
            return None
        body = route.body()
        if route.kind == "raw":
            return body
        return html.document(self.portal, route.title, body, self.transparency_path,
                             route.crumbs)


def stable_number(*parts: object, low: int = 1_000_000, span: int = 9_000_000) -> int:
    """A number fixed by its inputs (consulta ids, entry ids): crc32, cheap and stable."""
    return low + zlib.crc32(":".join(map(str, parts)).encode()) % span


def home_and_clutter(site: Site, link_transparency: bool) -> None:
    """Home page (depth 0) and the ordinary pages every portal carries."""
    portal = site.portal
    target = site.transparency_path if link_transparency else None
    site.page("/", 0, "Inicio", lambda: html.home_body(portal, target))
    for path in html.CLUTTER_PAGES + tuple(f"/noticias/{i + 1}" for i in range(len(html.NEWS))):
        title, body = html.clutter_body(path)
        site.page(path, 1 if path in html.CLUTTER_PAGES else 2, title,
                  lambda body=body: body)
