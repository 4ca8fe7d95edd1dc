"""The registry of defect kinds a simulated portal can carry.

A defect kind is one class registered here. It says which finding codes it produces, how
often portals carry it, and plugs into up to four stages through hooks (every hook has a
harmless default, so a new kind only overrides what it changes):

* generation: ``draw_params`` (its knobs for one portal) and ``shape_entries`` (marks the
  per-obligation plan: which entries are unlisted, justified, broken, nested deeper…);
* serving: ``binds`` (whether the portal's address listens at all), ``intercept`` (answer a
  request instead of the site: 503, a captcha page, …), ``robots_txt``;
* rendering: ``home_links_transparency`` (whether the home page links the section);
* ground truth: ``gate`` (portal-level: decides every applicable obligation's status) and
  ``adjust`` (obligation-level: amend an entry's expected status and findings).

Adding SOFT_404, ACCESS_BLOCKED, JS_REQUIRED, DELEGATES_TO_PNT, OUTDATED or EMPTY_DATASET
means adding a class here (plus, where the page must look different, a branch in the site
builders that reads the entry's ``marks``); the generator, the server and the ground truth
pick it up from the registry.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import ClassVar

from audit.findings import Code
from testbed.model import (
    JUSTIFIED,
    LINK_BROKEN,
    PUBLISHED,
    UNLISTED,
    DefectSpec,
    Entry,
    PortalSpec,
)


@dataclass(frozen=True)
class Response:
    """A canned HTTP answer a defect gives instead of the site's page."""

    status: int
    body: bytes
    content_type: str = "text/html; charset=utf-8"
    headers: tuple[tuple[str, str], ...] = ()


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
    def binds(self, portal: PortalSpec) -> bool:
        return True

    def intercept(self, portal: PortalSpec, path: str) -> Response | None:
        return None

    def robots_txt(self, portal: PortalSpec, spec: DefectSpec) -> str | None:
        return None

    # rendering ------------------------------------------------------------------------
    def home_links_transparency(self) -> bool:
        return True

    # ground truth ---------------------------------------------------------------------
    def gate(self, portal: PortalSpec) -> Gate | None:
        return None

    def adjust(self, portal: PortalSpec, entry: Entry, outcome: dict) -> None:
        """Amend ``outcome`` ({'status': str, 'findings': [(code, url)]}) for one entry."""
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

    def home_links_transparency(self) -> bool:
        return False

    def gate(self, portal: PortalSpec) -> Gate:
        return Gate("missing", Code.NO_TRANSPARENCY_SECTION, portal.portal_url)


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
            if mode == "page":
                entry.state = LINK_BROKEN
            elif mode == "all_files":
                entry.broken = frozenset(range(len(entry.files)))
            else:
                count = rng.randint(1, len(entry.files) - 1)
                entry.broken = frozenset(rng.sample(range(len(entry.files)), count))


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


PORTAL_KINDS = tuple(k for k in DEFECTS.values() if k.scope == "portal")
OBLIGATION_KINDS = tuple(k for k in DEFECTS.values() if k.scope != "portal")
