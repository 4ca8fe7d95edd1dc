"""Value types shared by the testbed's generator, site builders, server and ground truth.

A ``PortalSpec`` is cheap (a handful of fields) so that a national network of 8,646 portals
is specified in about a second. Everything heavier (the per-obligation ``Entry`` plan, the
site map, the HTML and the files) is derived from it lazily and deterministically.

``AS_OF`` (2025-11-15) is the testbed's audit date: the day the ground truth is true on
(``Network.write`` records it as ``ground_truth/as_of.txt``; audit the network with
``--as-of 2025-11-15``). Portals publish every period already due on that day under
``audit.freshness`` (period end plus the 30-day publication window): quarterly obligations up
to 2025 Q3 (due since 30 Oct; Q4 not yet), semestral ones up to 2025 S1, annual ones up to
2024 (the closed year).

Generations (``testbed.history``): generation 1 is the network as first published;
generation 2 is the same network re-published later (on ``REPUBLISHED_ON``, still before
``AS_OF``): most documents byte-identical, some updated, some silently edited, some removed.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from audit.obligations import Obligation
from audit.subjects import Subject

# The testbed's "today": portals publish up to the third quarter of this year. Fixed, so
# that the same seed always yields the same bytes (and freshness rules have an anchor).
REFERENCE_YEAR = 2025
LATEST_QUARTER = 3
PUBLISHED_ON = (2025, 10, 15)  # "fecha de actualización" written into files
# The audit date the ground truth holds on (see the module docstring).
AS_OF = date(2025, 11, 15)
# The day generation 2's portals re-publish what changed (new "fecha de actualización" of an
# updated file, new Last-Modified of every changed file and page).
REPUBLISHED_ON = (2025, 11, 10)

# Entry states (how an obligation, or a group of sub-formats, shows on a portal).
PUBLISHED = "published"
UNLISTED = "unlisted"
JUSTIFIED = "justified"
LINK_BROKEN = "link_broken"


@dataclass(frozen=True)
class DefectSpec:
    """One defect a portal carries: a registered kind (``testbed.defects``) and its knobs."""

    kind: str
    params: tuple[tuple[str, Any], ...] = ()

    def param(self, name: str, default: Any = None) -> Any:
        return dict(self.params).get(name, default)

    def to_dict(self) -> dict:
        return {"kind": self.kind, **dict(self.params)}


@dataclass
class PortalSpec:
    """What the generator decides about one portal; see the module docstring."""

    index: int
    subject: Subject
    address: str
    port: int
    family: str
    spelling: str
    encoding: str
    seed: str
    defects: tuple[DefectSpec, ...] = ()
    options: dict[str, Any] = field(default_factory=dict)
    # Which generation of the network this portal belongs to, and (generation 2 on) the
    # change kinds it carries with their rates (``testbed.history``).
    generation: int = 1
    history: tuple[tuple[str, float], ...] = ()

    @property
    def base_url(self) -> str:
        return f"{self.options.get('scheme', 'http')}://{self.address}:{self.port}"

    @property
    def portal_url(self) -> str:
        return f"{self.base_url}/"

    def rng(self, *salt: object) -> random.Random:
        """A generator private to this portal and purpose: adding a purpose never shifts
        the draws of another, so adding features keeps older networks stable."""
        return random.Random(":".join([self.seed, *map(str, salt)]))

    def has_defect(self, kind: str) -> bool:
        return any(d.kind == kind for d in self.defects)

    def defect(self, kind: str) -> DefectSpec | None:
        return next((d for d in self.defects if d.kind == kind), None)

    def to_dict(self) -> dict:
        out = {
            "index": self.index, "subject_id": self.subject.subject_id,
            "name": self.subject.name, "address": self.address, "portal_url": self.portal_url,
            "transparency_url": self.subject.transparency_url or "",
            "family": self.family, "spelling": self.spelling, "encoding": self.encoding,
            "defects": [d.to_dict() for d in self.defects],
            "options": dict(sorted(self.options.items())),
        }
        if self.generation > 1:  # generation 1's network.json stays as it always was
            out["history"] = [{"change": kind, "rate": rate} for kind, rate in self.history]
        return out


@dataclass(frozen=True)
class Period:
    """A reporting period a file covers: ('trimestre', 3) of 2025, ('anual', 0) …"""

    year: int
    kind: str
    number: int = 0

    @property
    def label(self) -> str:
        """As SIPOT exports write it in 'Periodo:' ('3er trimestre', '1er semestre')."""
        if self.kind == "anual":
            return "Anual"
        ordinal = {1: "1er", 2: "2do", 3: "3er", 4: "4to"}[self.number]
        return f"{ordinal} {self.kind}"

    @property
    def code(self) -> str:
        """Short code for paths and file names: T3, S1, A."""
        return {"trimestre": "T", "semestre": "S"}.get(self.kind, "A") + (
            str(self.number) if self.number else "")

    def bounds(self) -> tuple[tuple[int, int, int], tuple[int, int, int]]:
        """First and last day of the period."""
        if self.kind == "anual":
            return (self.year, 1, 1), (self.year, 12, 31)
        months = 3 if self.kind == "trimestre" else 6
        first = (self.number - 1) * months + 1
        last = first + months - 1
        end_day = {3: 31, 6: 30, 9: 30, 12: 31}[last]
        return (self.year, first, 1), (self.year, last, end_day)


@dataclass(frozen=True)
class FilePlan:
    """One published file: which obligation's format it carries, for which period.

    ``variant`` names a document-level defect of this file ('' for a clean file; see the
    document kinds in ``testbed.defects`` and ``testbed.resources.render_file``) and
    ``detail`` its knobs (the columns a ``missing_columns`` file leaves out).
    ``revision`` says how a later generation re-published the file ('' as first published;
    'updated' or 'silent_edit', see ``testbed.history``).
    """

    obligation: Obligation
    period: Period
    ext: str
    index: int
    whole_year: bool = False
    variant: str = ""
    detail: tuple[str, ...] = ()
    revision: str = ""

    @property
    def tabular(self) -> bool:
        return self.ext in ("xlsx", "csv")


@dataclass
class Entry:
    """How one obligation (or a fraction with all its sub-formats) shows on a portal.

    ``obligations`` are the applicable obligations the entry covers: one for a plain
    fraction or a sub-format listed as an inciso, several when a portal publishes a split
    fraction on one page. ``marks`` is open for future defect kinds (soft 404s, outdated
    periods, empty datasets…) that renderers and the ground truth consult.
    """

    key: str
    article: int
    fraction: str
    subformat: str | None
    obligations: tuple[Obligation, ...]
    title: str
    update_period: str
    state: str = PUBLISHED
    deep: bool = False
    files: tuple[FilePlan, ...] = ()
    broken: frozenset[int] = frozenset()
    marks: dict[str, Any] = field(default_factory=dict)

    @property
    def shared(self) -> bool:
        """True when one page covers several obligations (a split fraction at fraction level)."""
        return len(self.obligations) > 1

    @property
    def all_broken(self) -> bool:
        return bool(self.files) and len(self.broken) == len(self.files)


@dataclass
class EntryLayout:
    """Where an entry ended up on the site: filled in by the family's site builder and read
    by the ground truth, so that both always agree."""

    link_url: str | None = None       # the entry's own page, when the family gives it one
    note_url: str | None = None       # page showing a justification note
    info_url: str | None = None       # shallowest page listing one of its files
    info_depth: int | None = None
    file_urls: dict[int, str] = field(default_factory=dict)  # file index -> URL
    # files a later generation removed: file index -> the URL they had (no longer linked)
    removed_urls: dict[int, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ExpectedFinding:
    subject_id: str
    obligation_id: str
    code: str
    url: str

    def as_row(self) -> list[str]:
        return [self.subject_id, self.obligation_id, self.code, self.url]
