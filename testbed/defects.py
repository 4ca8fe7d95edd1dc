"""The registry of defect kinds a simulated portal can carry.

A defect kind is one class registered here. It says which finding codes it produces, how
often portals carry it, and plugs into up to four stages through hooks (every hook has a
harmless default, so a new kind only overrides what it changes):

* generation: ``draw_params`` (its knobs for one portal) and ``shape_entries`` (marks the
  per-obligation plan: which entries are unlisted, justified, broken, nested deeper…);
* serving: ``scheme`` (http, or https with a self-signed certificate), ``binds`` (whether the
  portal's address listens at all), ``intercept`` (answer a request instead of the site: 503,
  a captcha page, …), ``not_found`` (answer a path the site does not have: a soft 404),
  ``file_response`` (answer a file's URL with something else: a firewall's block page),
  ``transform_page`` (rewrite every page: mojibake), ``robots_txt``;
* rendering: ``home_links_transparency`` (whether the home page links the section);
* ground truth: ``gate`` (portal-level: decides every applicable obligation's status),
  ``portal_findings`` (portal-level findings that decide no status) and ``adjust``
  (obligation-level: amend an entry's expected status and findings).

Adding a kind means adding a class here (plus, where the page must look different, a branch
in the site builders that reads the entry's ``marks``); the generator, the server and the
ground truth pick it up from the registry.

Document kinds (``DocumentKind``: ``scanned_pdf``, ``format_mismatch``, ``empty_dataset``,
``justified_file``, ``missing_columns``, ``bad_data``, ``dead_hyperlinks``, ``csv_mojibake``)
turn some files of chosen entries into defective documents: they set ``FilePlan.variant``,
which ``testbed.resources.render_file`` renders and ``testbed.truth`` reads (each kind's
``file_codes`` are the findings one such file raises). ``stale`` ends an entry's files 1-4
periods before the latest due one. At most one of these kinds per entry, and only on entries
of one obligation whose files are served normally (not unlisted, broken, blocked or nested
deeper).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, replace
from datetime import datetime
from typing import ClassVar
from urllib.parse import quote, urlsplit

from audit.findings import Code
from testbed import html
from testbed.model import (
    JUSTIFIED,
    LINK_BROKEN,
    PUBLISHED,
    UNLISTED,
    DefectSpec,
    Entry,
    EntryLayout,
    PortalSpec,
)


@dataclass(frozen=True)
class Response:
    """An HTTP answer: the site's page or file, or a canned one a defect gives instead.

    ``etag`` and ``last_modified`` are the validators of the site's own 200 responses (set by
    ``testbed.server.Responder``; a defect's answer carries none and ignores conditional
    requests)."""

    status: int
    body: bytes
    content_type: str = "text/html; charset=utf-8"
    headers: tuple[tuple[str, str], ...] = ()
    etag: str | None = None
    last_modified: datetime | None = None
    # How the server misbehaves at the transport level instead of answering normally
    # (``testbed.faults``): "hang" (read the request, answer nothing), "reset" (close with a
    # TCP reset), "drip" (send ``body`` one byte a second), "stream" (send ``size`` bytes of
    # ``body`` repeated, with no Content-Length). Empty: a normal answer.
    transport: str = ""
    size: int = 0


@dataclass(frozen=True)
class Gate:
    """The outcome a portal-level defect imposes on every applicable obligation."""

    status: str
    code: Code
    url: str


class DefectKind:
    """Base class: a defect kind that does nothing (see the module docstring)."""

    name: ClassVar[str] = ""
    codes: ClassVar[tuple[Code, ...]] = ()
    scope: ClassVar[str] = "obligation"   # "portal" kinds exclude one another
    share: ClassVar[float] = 0.0          # expected share of portals carrying it
    guaranteed: ClassVar[int] = 1         # portals that carry it in any network >= MIN_SIZE
    drawn: ClassVar[bool] = True          # False: only the fault catalog places it

    def draw_params(self, rng: random.Random) -> tuple[tuple[str, object], ...]:
        return ()

    def eligible(self, portal: PortalSpec) -> bool:
        """Whether this kind can go to ``portal`` (e.g. only some families); obligation-level
        kinds are only ever offered to portals without a portal-level defect."""
        return True

    # generation -------------------------------------------------------------------------
    def shape_entries(self, portal: PortalSpec, spec: DefectSpec, entries: list[Entry],
                      rng: random.Random) -> None:
        return None

    # serving --------------------------------------------------------------------------
    def scheme(self, portal: PortalSpec) -> str:
        return "http"

    def binds(self, portal: PortalSpec) -> bool:
        return True

    def jams(self, portal: PortalSpec) -> bool:
        """Whether the address listens but never completes a connection (a full accept
        queue): clients time out connecting instead of being refused."""
        return False

    def intercept(self, portal: PortalSpec, path: str) -> Response | None:
        return None

    def not_found(self, portal: PortalSpec, path: str) -> Response | None:
        """The answer to a path the site does not serve (None: a plain 404)."""
        return None

    def file_response(self, portal: PortalSpec, route) -> Response | None:
        """The answer to a published file's URL instead of the file (None: the file)."""
        return None

    def transform_page(self, portal: PortalSpec, text: str) -> str:
        """Rewrite a page's HTML before it is encoded and sent."""
        return text

    def robots_txt(self, portal: PortalSpec, spec: DefectSpec) -> str | None:
        return None

    # rendering ------------------------------------------------------------------------
    def home_links_transparency(self, portal: PortalSpec | None = None) -> bool:
        return True

    # ground truth ---------------------------------------------------------------------
    def gate(self, portal: PortalSpec) -> Gate | None:
        return None

    def portal_findings(self, portal: PortalSpec) -> list[tuple[Code, str]]:
        """Portal-level findings (empty obligation id) that decide no status."""
        return []

    def adjust(self, portal: PortalSpec, entry: Entry, outcome: dict,
               obligation_id: str = "", layout: EntryLayout | None = None) -> None:
        """Amend ``outcome`` ({'status': str, 'findings': [(code, url)]}) for one
        obligation of an entry (``layout``: where the entry landed on the site)."""
        return None


DEFECTS: dict[str, DefectKind] = {}
# Below this size the generator cannot promise every kind (it still tries, in order).
MIN_SIZE = 30


def register(cls: type[DefectKind]) -> type[DefectKind]:
    """Class decorator: make a defect kind available to the generator by its name."""
    DEFECTS[cls.name] = cls()
    return cls


def _pick(entries: list[Entry], rng: random.Random, rate: float, at_least: int = 1,
          ok=lambda e: True) -> list[Entry]:
    """Choose about ``rate`` of the eligible entries, and at least ``at_least`` of them."""
    pool = [e for e in entries if ok(e)]
    if not pool:
        return []
    count = sum(1 for _ in pool if rng.random() < rate)
    count = min(len(pool), max(count, at_least))
    return rng.sample(pool, count)


# ---- portal level ----------------------------------------------------------------------
@register
class ConnectionRefused(DefectKind):
    """Nothing listens on the portal's address: every connection is refused."""

    name = "connection_refused"
    codes = (Code.PORTAL_UNREACHABLE,)
    scope = "portal"
    share = 0.02

    def binds(self, portal: PortalSpec) -> bool:
        return False

    def gate(self, portal: PortalSpec) -> Gate:
        return Gate("unreachable", Code.PORTAL_UNREACHABLE, portal.portal_url)


@register
class ServiceUnavailable(DefectKind):
    """The server answers every request with 503 (a portal down for 'maintenance')."""

    name = "service_unavailable"
    codes = (Code.PORTAL_UNREACHABLE,)
    scope = "portal"
    share = 0.015

    def intercept(self, portal: PortalSpec, path: str) -> Response:
        body = ("<html><head><title>503 Service Unavailable</title></head><body>"
                "<h1>Servicio no disponible</h1><p>El sitio se encuentra en mantenimiento. "
                "Intente más tarde.</p></body></html>").encode()
        return Response(503, body, headers=(("Retry-After", "3600"),))

    def gate(self, portal: PortalSpec) -> Gate:
        return Gate("unreachable", Code.PORTAL_UNREACHABLE, portal.portal_url)


@register
class RobotsDisallowed(DefectKind):
    """robots.txt forbids the whole site to LupaBot (or to every robot)."""

    name = "robots_disallowed"
    codes = (Code.ROBOTS_DISALLOWED,)
    scope = "portal"
    share = 0.02

    def draw_params(self, rng: random.Random) -> tuple[tuple[str, object], ...]:
        return (("agent", rng.choice(["LupaBot", "*"])),)

    def robots_txt(self, portal: PortalSpec, spec: DefectSpec) -> str:
        agent = spec.param("agent", "*")
        if agent == "*":
            return "User-agent: *\nDisallow: /\n"
        return ("User-agent: Googlebot\nAllow: /\n\n"
                f"User-agent: {agent}\nDisallow: /\n\n"
                "User-agent: *\nDisallow: /admin/\n")

    def gate(self, portal: PortalSpec) -> Gate:
        return Gate("blocked", Code.ROBOTS_DISALLOWED, f"{portal.base_url}/robots.txt")


@register
class NoTransparencySection(DefectKind):
    """The home page has no link to any transparency section (and none exists)."""

    name = "no_transparency_section"
    codes = (Code.NO_TRANSPARENCY_SECTION,)
    scope = "portal"
    share = 0.025

    def home_links_transparency(self, portal: PortalSpec | None = None) -> bool:
        return False

    def gate(self, portal: PortalSpec) -> Gate:
        return Gate("missing", Code.NO_TRANSPARENCY_SECTION, portal.portal_url)


def _path(target: str) -> str:
    return urlsplit(target).path or "/"


def _section_path(portal: PortalSpec) -> str:
    from testbed.families import FAMILIES

    return FAMILIES[portal.family].transparency_path


def _in_section(portal: PortalSpec, target: str) -> bool:
    """True for the transparency section's page and everything under its path."""
    section = _section_path(portal).rstrip("/")
    path = _path(target).rstrip("/")
    return path == section or path.startswith(section + "/")


def _page(portal: PortalSpec, title: str, body: str, status: int = 200,
          transparency_path: str | None = None) -> Response:
    text = html.document(portal, title, body, transparency_path)
    content, content_type = html.page_bytes(portal, text)
    return Response(status, content, content_type)


@register
class TlsInvalid(DefectKind):
    """The portal is served over https with a self-signed certificate."""

    name = "tls_invalid"
    codes = (Code.TLS_INVALID,)
    scope = "portal"
    share = 0.01

    def scheme(self, portal: PortalSpec) -> str:
        return "https"

    def gate(self, portal: PortalSpec) -> Gate:
        return Gate("unreachable", Code.TLS_INVALID, portal.portal_url)


@register
class AccessChallenge(DefectKind):
    """A firewall in front of the whole portal: every page but robots.txt is a captcha
    challenge (200) or the firewall's block page (403)."""

    name = "access_challenge"
    codes = (Code.ACCESS_BLOCKED,)
    scope = "portal"
    share = 0.015

    def draw_params(self, rng: random.Random) -> tuple[tuple[str, object], ...]:
        return (("style", rng.choice(["captcha", "waf"])),)

    def _style(self, portal: PortalSpec) -> str:
        spec = portal.defect(self.name)
        return spec.param("style", "captcha") if spec else "captcha"

    def intercept(self, portal: PortalSpec, path: str) -> Response | None:
        if _path(path) == "/robots.txt":
            return None
        if self._style(portal) == "captcha":
            return Response(200, html.CAPTCHA_PAGE)
        return Response(403, html.WAF_PAGE, "text/html")

    def gate(self, portal: PortalSpec) -> Gate:
        return Gate("blocked", Code.ACCESS_BLOCKED, portal.portal_url)


@register
class LoginWall(DefectKind):
    """The home page is public but the transparency section asks for a login: a redirect
    to a login form, or HTTP 401 with basic authentication."""

    name = "login_wall"
    codes = (Code.ACCESS_BLOCKED,)
    scope = "portal"
    share = 0.015

    def draw_params(self, rng: random.Random) -> tuple[tuple[str, object], ...]:
        return (("style", rng.choice(["form", "basic"])),)

    def intercept(self, portal: PortalSpec, path: str) -> Response | None:
        spec = portal.defect(self.name)
        style = spec.param("style", "form") if spec else "form"
        if style == "form" and _path(path) == "/login":
            return _page(portal, "Iniciar sesión", html.login_body())
        if not _in_section(portal, path):
            return None
        if style == "form":
            location = "/login?next=" + quote(path, safe="")
            return Response(302, b"", headers=(("Location", location),))
        body = (b"<html><head><title>401 Authorization Required</title></head><body>"
                b"<h1>Authorization Required</h1><p>This server could not verify that you are "
                b"authorized to access the document requested.</p></body></html>")
        return Response(401, body, "text/html",
                        (("WWW-Authenticate", 'Basic realm="Transparencia"'),))

    def gate(self, portal: PortalSpec) -> Gate:
        return Gate("blocked", Code.ACCESS_BLOCKED, portal.base_url + _section_path(portal))


@register
class JsRequired(DefectKind):
    """Content rendered only by JavaScript: the whole site is a single-page application,
    or only its transparency section is."""

    name = "js_required"
    codes = (Code.JS_REQUIRED,)
    scope = "portal"
    share = 0.015

    def draw_params(self, rng: random.Random) -> tuple[tuple[str, object], ...]:
        return (("style", rng.choice(["site", "section"])),
                ("flavour", rng.choice(["react", "angular"])))

    def intercept(self, portal: PortalSpec, path: str) -> Response | None:
        spec = portal.defect(self.name)
        if spec is None or _path(path) == "/robots.txt" or _path(path).startswith("/static/"):
            return None
        if spec.param("style") == "section" and not _in_section(portal, path):
            return None
        content, content_type = html.page_bytes(
            portal, html.js_shell(portal, spec.param("flavour", "react")))
        return Response(200, content, content_type)

    def gate(self, portal: PortalSpec) -> Gate:
        spec = portal.defect(self.name)
        if spec is not None and spec.param("style") == "section":
            return Gate("missing", Code.JS_REQUIRED, portal.base_url + _section_path(portal))
        return Gate("missing", Code.JS_REQUIRED, portal.portal_url)


@register
class DelegatesToPnt(DefectKind):
    """The portal publishes nothing itself: its 'Transparencia' link goes straight to the
    national platform, or to a page that only points there."""

    name = "delegates_to_pnt"
    codes = (Code.DELEGATES_TO_PNT,)
    scope = "portal"
    share = 0.015

    def draw_params(self, rng: random.Random) -> tuple[tuple[str, object], ...]:
        return (("style", rng.choice(["home", "section"])),)

    @staticmethod
    def _style(portal: PortalSpec | None) -> str:
        spec = portal.defect("delegates_to_pnt") if portal is not None else None
        return spec.param("style", "section") if spec else "section"

    def home_links_transparency(self, portal: PortalSpec | None = None) -> bool:
        return self._style(portal) == "section"

    def intercept(self, portal: PortalSpec, path: str) -> Response | None:
        if self._style(portal) == "home":
            if _path(path) != "/":
                return None
            body = html.home_body(portal, html.PNT_HOME)
            return _page(portal, "Inicio", body, transparency_path=html.PNT_HOME)
        if _path(path).rstrip("/") != _section_path(portal).rstrip("/"):
            return None
        return _page(portal, "Transparencia", html.pnt_section_body(portal),
                     transparency_path=_section_path(portal))

    def gate(self, portal: PortalSpec) -> Gate:
        if self._style(portal) == "home":
            return Gate("missing", Code.DELEGATES_TO_PNT, portal.portal_url)
        return Gate("missing", Code.DELEGATES_TO_PNT, portal.base_url + _section_path(portal))


# ---- obligation level ------------------------------------------------------------------
@register
class ObligationMissing(DefectKind):
    """Some applicable obligations are simply not listed anywhere on the portal."""

    name = "obligation_missing"
    codes = (Code.OBLIGATION_MISSING,)
    share = 0.75

    def draw_params(self, rng: random.Random) -> tuple[tuple[str, object], ...]:
        return (("rate", round(rng.uniform(0.05, 0.35), 2)),)

    def shape_entries(self, portal, spec, entries, rng) -> None:
        for entry in _pick(entries, rng, spec.param("rate", 0.2),
                           ok=lambda e: e.state == PUBLISHED):
            entry.state = UNLISTED


@register
class JustifiedAbsence(DefectKind):
    """The fraction page says 'No se generó información…' and links no files."""

    name = "justified_absence"
    codes = (Code.JUSTIFIED_ABSENCE,)
    share = 0.4

    def draw_params(self, rng: random.Random) -> tuple[tuple[str, object], ...]:
        return (("rate", round(rng.uniform(0.03, 0.12), 2)),)

    def shape_entries(self, portal, spec, entries, rng) -> None:
        for entry in _pick(entries, rng, spec.param("rate", 0.05),
                           ok=lambda e: e.state == PUBLISHED):
            entry.state = JUSTIFIED
            entry.files = ()


@register
class BrokenLinks(DefectKind):
    """Links that answer 404: an obligation's own page, all of its files, or some of them.

    Only entries that cover a single obligation break, so that every broken URL belongs to
    exactly one obligation in the ground truth.
    """

    name = "link_broken"
    codes = (Code.LINK_BROKEN,)
    share = 0.3

    def draw_params(self, rng: random.Random) -> tuple[tuple[str, object], ...]:
        return (("rate", round(rng.uniform(0.03, 0.12), 2)),)

    def shape_entries(self, portal, spec, entries, rng) -> None:
        chosen = _pick(entries, rng, spec.param("rate", 0.05),
                       ok=lambda e: e.state == PUBLISHED and not e.shared and e.files)
        modes = ["page", "all_files", "some_files"]
        for position, entry in enumerate(chosen):
            # The first three chosen cover every mode; later ones draw freely.
            mode = modes[position] if position < 3 else rng.choice(modes)
            if mode == "some_files" and len(entry.files) < 2:
                mode = "all_files"
            break_entry(entry, mode, rng)


@register
class DeepNesting(DefectKind):
    """Files reachable only through extra year/period pages: more than three clicks."""

    name = "deep_nesting"
    codes = (Code.HARD_TO_FIND,)
    share = 0.15

    def draw_params(self, rng: random.Random) -> tuple[tuple[str, object], ...]:
        return (("rate", round(rng.uniform(0.1, 0.5), 2)),)

    def shape_entries(self, portal, spec, entries, rng) -> None:
        for entry in _pick(entries, rng, spec.param("rate", 0.3),
                           ok=lambda e: e.state == PUBLISHED and e.files and not e.all_broken):
            entry.deep = True


def _broken_modes(chosen: list[Entry], rng: random.Random) -> list[tuple[Entry, str]]:
    """A mode per chosen entry: its page, all its files or some of them (the first three
    chosen cover every mode; later ones draw freely)."""
    modes = ["page", "all_files", "some_files"]
    out = []
    for position, entry in enumerate(chosen):
        mode = modes[position] if position < 3 else rng.choice(modes)
        if mode == "some_files" and len(entry.files) < 2:
            mode = "all_files"
        out.append((entry, mode))
    return out


def break_entry(entry: Entry, mode: str, rng: random.Random) -> None:
    """Kill the entry's page, all its files or some of them (``_broken_modes``)."""
    if mode == "page":
        entry.state = LINK_BROKEN
    elif mode == "all_files":
        entry.broken = frozenset(range(len(entry.files)))
    else:
        count = rng.randint(1, len(entry.files) - 1)
        entry.broken = frozenset(rng.sample(range(len(entry.files)), count))


@register
class SoftNotFound(DefectKind):
    """The server answers paths it does not have with 200 and an error page (in the site's
    chrome, with or without error wording), or by redirecting to the home page; some of
    the portal's links are dead, so they land on that page (SOFT_404, not LINK_BROKEN)."""

    name = "soft_404"
    codes = (Code.SOFT_404,)
    share = 0.1

    def draw_params(self, rng: random.Random) -> tuple[tuple[str, object], ...]:
        return (("style", rng.choice(["page", "plain", "redirect"])),
                ("rate", round(rng.uniform(0.03, 0.1), 2)))

    def shape_entries(self, portal, spec, entries, rng) -> None:
        chosen = _pick(entries, rng, spec.param("rate", 0.05),
                       ok=lambda e: e.state == PUBLISHED and not e.shared and e.files
                       and not e.broken and not e.deep)
        for entry, mode in _broken_modes(chosen, rng):
            break_entry(entry, mode, rng)

    def not_found(self, portal: PortalSpec, path: str) -> Response | None:
        spec = portal.defect(self.name)
        style = spec.param("style", "page") if spec else "page"
        if style == "redirect":
            return Response(302, b"", headers=(("Location", "/"),))
        title, body = html.not_found_body(path, style)
        return _page(portal, title, body)

    def adjust(self, portal, entry, outcome, obligation_id="", layout=None) -> None:
        # every dead link of this portal answers 200, whichever defect killed it
        outcome["findings"] = [(Code.SOFT_404 if code is Code.LINK_BROKEN else code, url)
                               for code, url in outcome["findings"]]


_FILE_TYPES = {"pdf": "application/pdf", "csv": "text/csv",
               "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


@register
class BlockedDocuments(DefectKind):
    """A firewall answers some document URLs with its block page: a couple of hundred bytes
    of HTML served as the PDF or spreadsheet (ACCESS_BLOCKED; the obligation is 'blocked'
    when every file of it is)."""

    name = "block_page"
    codes = (Code.ACCESS_BLOCKED,)
    share = 0.08

    def draw_params(self, rng: random.Random) -> tuple[tuple[str, object], ...]:
        return (("rate", round(rng.uniform(0.03, 0.1), 2)),)

    def shape_entries(self, portal, spec, entries, rng) -> None:
        chosen = _pick(entries, rng, spec.param("rate", 0.05),
                       ok=lambda e: e.state == PUBLISHED and not e.shared and e.files
                       and not e.broken and not e.deep)
        for position, entry in enumerate(chosen):
            if position % 2 == 0 or len(entry.files) < 2:
                entry.marks["blocked"] = frozenset(range(len(entry.files)))
            else:
                count = rng.randint(1, len(entry.files) - 1)
                entry.marks["blocked"] = frozenset(rng.sample(range(len(entry.files)), count))

    def file_response(self, portal: PortalSpec, route) -> Response | None:
        entry, plan = route.entry, route.file
        if entry is None or plan is None or plan.index not in entry.marks.get("blocked", ()):
            return None
        return Response(200, html.WAF_PAGE, _FILE_TYPES.get(plan.ext, "application/octet-stream"))

    def adjust(self, portal, entry, outcome, obligation_id="", layout=None) -> None:
        blocked = entry.marks.get("blocked", frozenset())
        mine = [i for i, plan in enumerate(entry.files)
                if plan.obligation.obligation_id == obligation_id]
        hit = sorted(i for i in mine if i in blocked)
        if not hit or entry.state != PUBLISHED:
            return
        url = layout.file_urls.get(hit[0], "") if layout is not None else ""
        outcome["findings"].append((Code.ACCESS_BLOCKED, url))
        if len(hit) == len(mine):
            outcome["status"] = "blocked"
            outcome["findings"] = [f for f in outcome["findings"] if f[0] is not Code.HARD_TO_FIND]


# Families whose entries have a page of their own that repeats the entry's title.
OWN_PAGE_FAMILIES = ("tabla_trimestral", "pagina_por_fraccion", "menu_anidado",
                     "consulta_parametros")


@register
class Mojibake(DefectKind):
    """Text stored with the wrong encoding: the whole site ('portal': every page shows
    'InformaciÃ³n'), or only the pages of some obligations ('entries')."""

    name = "mojibake"
    codes = (Code.ENCODING_ERROR,)
    share = 0.06

    def eligible(self, portal: PortalSpec) -> bool:
        return portal.encoding == "utf-8"  # a legacy code page would hide the UTF-8 bytes

    def draw_params(self, rng: random.Random) -> tuple[tuple[str, object], ...]:
        return (("mode", rng.choice(["portal", "entries"])),
                ("rate", round(rng.uniform(0.05, 0.2), 2)))

    @staticmethod
    def mode(portal: PortalSpec) -> str:
        from testbed.spelling import STYLES

        spec = portal.defect("mojibake")
        mode = spec.param("mode", "portal") if spec else "portal"
        if mode == "entries" and (portal.family not in OWN_PAGE_FAMILIES
                                  or not STYLES[portal.spelling][3]):
            return "portal"  # no page of its own, or no accents to garble
        return mode

    def shape_entries(self, portal, spec, entries, rng) -> None:
        if self.mode(portal) != "entries":
            return
        for entry in _pick(entries, rng, spec.param("rate", 0.1),
                           ok=lambda e: e.state == PUBLISHED and not e.title.isascii()):
            entry.marks["mojibake"] = True

    def transform_page(self, portal: PortalSpec, text: str) -> str:
        return html.garble(text) if self.mode(portal) == "portal" else text

    def portal_findings(self, portal: PortalSpec) -> list[tuple[Code, str]]:
        if self.mode(portal) == "portal":
            return [(Code.ENCODING_ERROR, portal.portal_url)]
        return []

    def adjust(self, portal, entry, outcome, obligation_id="", layout=None) -> None:
        if entry.marks.get("mojibake") and entry.state == PUBLISHED:
            outcome["findings"].append(
                (Code.ENCODING_ERROR, (layout.link_url or "") if layout is not None else ""))


# ---- document level --------------------------------------------------------------------
def document_entry(entry: Entry) -> bool:
    """Whether a document kind may take ``entry``: published, one obligation, files served
    normally (none broken or blocked), not nested deeper, no other document kind."""
    return (entry.state == PUBLISHED and not entry.shared and bool(entry.files)
            and not entry.broken and not entry.deep and not entry.marks.get("blocked")
            and "document" not in entry.marks)


def _formats(portal: PortalSpec) -> tuple[str, ...]:
    return tuple(portal.options.get("formats", ("xlsx",)))


def _files_of_type(entry: Entry, ext: str) -> list[int]:
    return [i for i, plan in enumerate(entry.files) if plan.ext == ext]


class DocumentKind(DefectKind):
    """Some files of about ``rate`` of a portal's entries become defective documents: their
    ``FilePlan.variant`` is ``variant`` and each raises ``file_codes`` (``testbed.truth``).

    ``candidates`` says which files of an entry can carry it (an entry without any is never
    chosen) and ``choose`` which of them do (default: one, at random). A kind whose finding
    is per obligation rather than per file sets ``per_file`` False.
    """

    variant: ClassVar[str] = ""
    per_file: ClassVar[bool] = True
    # Whether the audit can read the period of such a file, and whether it holds records.
    dated: ClassVar[bool] = True
    has_records: ClassVar[bool] = True

    @property
    def file_codes(self) -> tuple[Code, ...]:
        return self.codes if self.per_file else ()

    def draw_params(self, rng: random.Random) -> tuple[tuple[str, object], ...]:
        return (("rate", round(rng.uniform(0.03, 0.1), 2)),)

    def candidates(self, portal: PortalSpec, entry: Entry) -> list[int]:
        return [i for i, plan in enumerate(entry.files) if plan.tabular]

    def choose(self, entry: Entry, candidates: list[int], position: int,
               rng: random.Random) -> list[int]:
        return [rng.choice(candidates)]

    def detail(self, entry: Entry, rng: random.Random) -> tuple[str, ...]:
        return ()

    def shape_entries(self, portal, spec, entries, rng) -> None:
        chosen = _pick(entries, rng, spec.param("rate", 0.05),
                       ok=lambda e: document_entry(e) and bool(self.candidates(portal, e)))
        for position, entry in enumerate(chosen):
            indexes = self.choose(entry, self.candidates(portal, entry), position, rng)
            detail = self.detail(entry, rng)
            files = list(entry.files)
            for i in indexes:
                files[i] = replace(files[i], variant=self.variant, detail=detail)
            entry.files = tuple(files)
            entry.marks["document"] = self.name


@register
class ScannedPdf(DocumentKind):
    """PDFs that are scans: each page only a picture, no text layer (SCANNED_DOCUMENT, and
    NOT_MACHINE_READABLE like every PDF)."""

    name = "scanned_pdf"
    codes = (Code.SCANNED_DOCUMENT,)
    share = 0.3
    variant = "scanned"

    def eligible(self, portal: PortalSpec) -> bool:
        return "pdf" in _formats(portal)

    def candidates(self, portal, entry) -> list[int]:
        return _files_of_type(entry, "pdf")

    def choose(self, entry, candidates, position, rng) -> list[int]:
        return sorted(rng.sample(candidates, rng.randint(1, len(candidates))))


@register
class FormatMismatch(DocumentKind):
    """An .xlsx link (name and Content-Type) whose bytes are the CSV rendering."""

    name = "format_mismatch"
    codes = (Code.FORMAT_MISMATCH,)
    share = 0.1
    variant = "format_mismatch"

    def eligible(self, portal: PortalSpec) -> bool:
        return "xlsx" in _formats(portal)

    def candidates(self, portal, entry) -> list[int]:
        return _files_of_type(entry, "xlsx")


@register
class EmptyDataset(DocumentKind):
    """A spreadsheet or CSV with its header row(s) and not one record."""

    name = "empty_dataset"
    codes = (Code.EMPTY_DATASET,)
    share = 0.12
    variant = "empty"


@register
class JustifiedFile(DocumentKind):
    """SIPOT's way of publishing nothing: one record whose Nota says 'No se generó
    información en el periodo que se informa…', with Ejercicio, period dates, responsible
    area and update date filled and every other column blank (JUSTIFIED_ABSENCE; the
    obligation is 'justified' when every file it serves is one). The first chosen entry and
    every other one justify all their files; the rest only some."""

    name = "justified_file"
    codes = (Code.JUSTIFIED_ABSENCE,)
    share = 0.15
    variant = "justified"

    def choose(self, entry, candidates, position, rng) -> list[int]:
        if position % 2 == 0 or len(candidates) < 2:
            return candidates
        return sorted(rng.sample(candidates, rng.randint(1, len(candidates) - 1)))


@register
class MissingColumns(DocumentKind):
    """Every spreadsheet/CSV of the entry lacks 2-4 columns of its official format (plain
    text columns only: see ``testbed.resources.missing_column_sets``)."""

    name = "missing_columns"
    codes = (Code.MISSING_COLUMNS,)
    share = 0.12
    variant = "missing_columns"

    def candidates(self, portal, entry) -> list[int]:
        from testbed.resources import missing_column_sets

        tabular = super().candidates(portal, entry)
        return tabular if tabular and missing_column_sets(entry.obligations[0]) else []

    def choose(self, entry, candidates, position, rng) -> list[int]:
        return candidates

    def detail(self, entry, rng) -> tuple[str, ...]:
        from testbed.resources import missing_column_sets

        return rng.choice(missing_column_sets(entry.obligations[0]))


@register
class BadData(DocumentKind):
    """A spreadsheet/CSV whose every record starts its period after it ends (DATA_QUALITY:
    'common.period_start_before_end' fails on every row; the period end is unchanged)."""

    name = "bad_data"
    codes = (Code.DATA_QUALITY,)
    share = 0.12
    variant = "bad_data"


@register
class DeadHyperlinks(DocumentKind):
    """Every spreadsheet/CSV of the entry links its documents under
    ``/documentos/hv-anterior/``, which answers 404 (DEAD_HYPERLINKS, once per obligation,
    with the URL of its latest dataset). Not on portals with soft 404s, and only for formats
    with a hyperlink column."""

    name = "dead_hyperlinks"
    codes = (Code.DEAD_HYPERLINKS,)
    share = 0.12
    variant = "dead_links"
    per_file = False

    def eligible(self, portal: PortalSpec) -> bool:
        return not portal.has_defect("soft_404")

    def candidates(self, portal, entry) -> list[int]:
        from testbed.resources import has_hyperlinks

        if not has_hyperlinks(entry.obligations[0]):
            return []
        return super().candidates(portal, entry)

    def choose(self, entry, candidates, position, rng) -> list[int]:
        return candidates


# Catalog update periods that have a due date (audit.freshness).
PERIODIC = ("trimestral", "semestral", "anual")


@register
class Stale(DefectKind):
    """Entries whose files stop 1-4 periods before the latest due one (OUTDATED, with the
    URL of the latest file). Yearly portals show whole-year files up to that period; years
    shift back when the cut falls in an earlier year. Only on portals publishing
    spreadsheets/CSV alone (a PDF's period is not read, so it could hide the cut)."""

    name = "stale"
    codes = (Code.OUTDATED,)
    share = 0.25

    def draw_params(self, rng: random.Random) -> tuple[tuple[str, object], ...]:
        return (("rate", round(rng.uniform(0.03, 0.12), 2)),)

    def eligible(self, portal: PortalSpec) -> bool:
        return set(_formats(portal)) <= {"xlsx", "csv"}

    def shape_entries(self, portal, spec, entries, rng) -> None:
        from testbed.plan import make_files, previous_periods

        chosen = _pick(entries, rng, spec.param("rate", 0.05),
                       ok=lambda e: document_entry(e)
                       and e.obligations[0].update_period in PERIODIC)
        for entry in chosen:
            behind = rng.randint(1, 4)
            until = previous_periods(entry.update_period, behind)
            entry.files = make_files(portal, entry.key, entry.obligations, entry.update_period,
                                     until)
            entry.marks["document"] = self.name
            entry.marks["stale"] = behind


@register
class CsvMojibake(DocumentKind):
    """A UTF-8 CSV whose values were stored double-encoded ('InformaciÃ³n'; the header, from
    the export template, is intact): ENCODING_ERROR. Only for obligations without an
    expectation suite of their own (garbled catalog values would also fail it)."""

    name = "csv_mojibake"
    codes = (Code.ENCODING_ERROR,)
    share = 0.15
    variant = "mojibake"

    def eligible(self, portal: PortalSpec) -> bool:
        return "csv" in _formats(portal)

    def candidates(self, portal, entry) -> list[int]:
        if has_suite(entry.obligations[0].obligation_id):
            return []
        return _files_of_type(entry, "csv")


def has_suite(obligation_id: str) -> bool:
    """Whether ``expectations`` has a suite of the obligation's own (70-VIII, 70-IX…)."""
    from expectations.suites import load_suites, suite_for

    return suite_for(obligation_id, None, load_suites()) is not None


# The fault catalog's kinds register themselves too (they are never drawn at random).
from testbed import faults  # noqa: E402,F401  (needs the classes above)

# Variant written into FilePlan -> the document kind that writes it.
VARIANTS = {k.variant: k for k in DEFECTS.values() if isinstance(k, DocumentKind)}

PORTAL_KINDS = tuple(k for k in DEFECTS.values() if k.scope == "portal" and k.drawn)
OBLIGATION_KINDS = tuple(k for k in DEFECTS.values() if k.scope != "portal" and k.drawn)
