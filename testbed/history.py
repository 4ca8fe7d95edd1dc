"""Generations: the same network re-published later, and what changed in between.

Generation 1 is the network as first published. Generation 2 is the same network (same
subjects, addresses, layouts, URLs, defects and audit date ``AS_OF``) re-published by its
portals on ``REPUBLISHED_ON`` (2025-11-10). Across the network, deterministically from the
seed, some documents changed since generation 1 and everything else is byte-identical:

* ``updated``: a spreadsheet/CSV re-published legitimately: new bytes (a corrected value or
  a record added) and a new "Fecha de actualización" (and "Fecha de validación", "FECHA
  MODIFICACION") in every record, ``REPUBLISHED_ON``. No finding.
* ``silent_edit``: a spreadsheet/CSV whose content changed (a corrected value or a record
  added, nothing else) with the same update date as in generation 1: SILENT_EDIT (the
  file's URL). Only files whose format has an update-date column (the audit reads that date
  from the data), and never PDFs (no update date to compare).
* ``removed_early``: a spreadsheet/CSV no longer linked (its URL answers 404) although
  ``audit.freshness.required_years(obligation.conservation_period, AS_OF)`` still covers its
  year: REMOVED_EARLY (the URL it had in generation 1).
* ``removed_legitimately``: a spreadsheet/CSV no longer linked whose year the conservation
  period no longer requires: its year is before the first required year ("Ejercicio en curso
  y ejercicio anterior" keeps 2024-2025, so a 2023 file may go), or the obligation keeps
  only current information ("Información vigente") and the file is not of its latest
  period. Obligations without a conservation text never lose a file. No finding.

Both revisions move the file's HTTP Last-Modified to ``REPUBLISHED_ON`` (a server's file
mtime moves even when the content's update date does not), so SILENT_EDIT is defined on the
data alone: same URL, same period, different bytes, and the latest "Fecha de actualización"
in the data is not later than the previous run's.

Changes only touch files whose removal or edit changes no other finding: clean
spreadsheets/CSVs (no document defect) of entries a document kind could take (published,
one obligation, files served normally, not nested deeper; ``defects.document_entry``), on
portals without a portal-level defect; removals never touch an obligation's latest period
(so it stays present and as fresh as before) and never a portal with soft 404s (a removed
URL answers a plain 404). Each file changes at most once.

Which portals carry which change kinds is decided per network (``assign_history``: a share
of the healthy portals each, and in a network of ``MIN_SIZE`` portals or more at least one
portal that actually changes a file of each kind); which files change, per portal, from
its own generator (``apply_history``, called by ``plan.build_entries``).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, replace

from audit.catalog import normalize_text
from audit.freshness import required_years
from testbed.defects import MIN_SIZE, document_entry
from testbed.model import AS_OF, Entry, EntryLayout, FilePlan, PortalSpec

MAX_GENERATION = 2
UPDATED = "updated"
SILENT_EDIT = "silent_edit"
REMOVED_EARLY = "removed_early"
REMOVED_LEGITIMATELY = "removed_legitimately"
# In the order they are applied (each file changes at most once).
CHANGES = (REMOVED_EARLY, REMOVED_LEGITIMATELY, SILENT_EDIT, UPDATED)
REVISIONS = (SILENT_EDIT, UPDATED)
REMOVALS = (REMOVED_EARLY, REMOVED_LEGITIMATELY)


@dataclass(frozen=True)
class ChangeKind:
    """How often a change happens: the share of healthy portals carrying it, and the range
    its per-portal rate (share of the portal's candidate files) is drawn from."""

    name: str
    share: float
    rates: tuple[float, float]


KINDS: dict[str, ChangeKind] = {k.name: k for k in (
    ChangeKind(REMOVED_EARLY, 0.3, (0.03, 0.08)),
    ChangeKind(REMOVED_LEGITIMATELY, 0.3, (0.1, 0.3)),
    ChangeKind(SILENT_EDIT, 0.3, (0.01, 0.04)),
    ChangeKind(UPDATED, 0.5, (0.02, 0.08)),
)}


def check_generation(generation: int) -> int:
    if not isinstance(generation, int) or not 1 <= generation <= MAX_GENERATION:
        raise ValueError(f"generation must be an integer from 1 to {MAX_GENERATION}, "
                         f"not {generation!r}")
    return generation


# ---- which files can change ---------------------------------------------------------------
def removal_kind(plan: FilePlan) -> str | None:
    """What removing this file means under its obligation's conservation period (see the
    module docstring): REMOVED_EARLY, REMOVED_LEGITIMATELY, or None when the text does not
    say (no conservation text, or one ``required_years`` cannot read)."""
    text = plan.obligation.conservation_period or ""
    required = required_years(text, AS_OF)
    if required:
        if plan.period.year in required:
            return REMOVED_EARLY
        return REMOVED_LEGITIMATELY if plan.period.year < min(required) else None
    return REMOVED_LEGITIMATELY if normalize_text(text) == "informacion vigente" else None


def has_update_date(plan: FilePlan) -> bool:
    """Whether the file's format has a "Fecha de actualización" column."""
    from audit.formats import detect_role
    from testbed.resources import columns_of

    return any(detect_role(c["label"]) == "fecha_actualizacion" for c in columns_of(plan))


def candidates(portal: PortalSpec, entries: list[Entry], kind: str,
               taken: set[tuple[str, int]] = frozenset()) -> list[tuple[Entry, int]]:
    """(entry, file index) pairs that may carry change ``kind`` on this portal."""
    if kind in REMOVALS and portal.has_defect("soft_404"):
        return []
    out = []
    for entry in entries:
        if not document_entry(entry):
            continue
        latest = max(plan.period.bounds()[1] for plan in entry.files)
        for i, plan in enumerate(entry.files):
            if not plan.tabular or plan.variant or plan.revision or (entry.key, i) in taken:
                continue
            if kind in REVISIONS:
                ok = has_update_date(plan)
            else:
                ok = plan.period.bounds()[1] < latest and removal_kind(plan) == kind
            if ok:
                out.append((entry, i))
    return out


def apply_history(portal: PortalSpec, entries: list[Entry]) -> None:
    """Mark the files this portal changed in its generation: ``FilePlan.revision`` for
    updated and silently edited files, ``entry.marks['removed']`` (file index -> change)
    for removed ones. Each kind the portal carries changes about its rate of the candidate
    files, and at least one when there is any."""
    if portal.generation < 2 or not portal.history:
        return
    rates = dict(portal.history)
    taken: set[tuple[str, int]] = set()
    for kind in CHANGES:
        if kind not in rates:
            continue
        pool = candidates(portal, entries, kind, taken)
        if not pool:
            continue
        rng = portal.rng("history", portal.generation, kind)
        count = sum(1 for _ in pool if rng.random() < rates[kind])
        for entry, i in rng.sample(pool, min(len(pool), max(1, count))):
            taken.add((entry.key, i))
            if kind in REVISIONS:
                files = list(entry.files)
                files[i] = replace(files[i], revision=kind)
                entry.files = tuple(files)
            else:
                entry.marks.setdefault("removed", {})[i] = kind


def removed(entry: Entry) -> dict[int, str]:
    """File index -> removal kind, for the files a later generation no longer lists."""
    return entry.marks.get("removed", {})


def entry_changes(entry: Entry, layout: EntryLayout | None) -> list[tuple[str, str, str]]:
    """(obligation_id, url, change) of every file of the entry that changed."""
    if layout is None:
        return []
    out = []
    for i, plan in enumerate(entry.files):
        oid = plan.obligation.obligation_id
        if i in removed(entry):
            out.append((oid, layout.removed_urls.get(i, ""), removed(entry)[i]))
        elif plan.revision:
            out.append((oid, layout.file_urls.get(i, ""), plan.revision))
    return out


# ---- which portals change ------------------------------------------------------------------
def eligible(kind: str, portal: PortalSpec) -> bool:
    return kind not in REMOVALS or not portal.has_defect("soft_404")


def _rate(portal: PortalSpec, generation: int, kind: str) -> float:
    low, high = KINDS[kind].rates
    return round(portal.rng("history-rate", generation, kind).uniform(low, high), 3)


def _changes_kind(portal: PortalSpec, kind: str,
                  entries_of: Callable[[PortalSpec], list[Entry]]) -> bool:
    entries = entries_of(portal)
    return any(kind in removed(e).values() or any(p.revision == kind for p in e.files)
               for e in entries)


def assign_history(rng: random.Random, portals: list[PortalSpec], healthy: list[PortalSpec],
                   generation: int, entries_of: Callable[[PortalSpec], list[Entry]]) -> None:
    """Set every portal's ``generation`` and, from generation 2 on, the change kinds the
    healthy ones carry (``history``: kind and rate). ``entries_of`` builds a portal's entry
    plan (with its changes applied): in a network of ``MIN_SIZE`` portals or more, each kind
    is checked to change at least one file somewhere, and goes to one more portal (in a
    seeded order) until it does."""
    check_generation(generation)
    for portal in portals:
        portal.generation, portal.history = generation, ()
    if generation < 2:
        return
    chosen: dict[int, dict[str, float]] = {p.index: {} for p in portals}
    for name, kind in KINDS.items():
        pool = [p for p in healthy if eligible(name, p)]
        count = round(kind.share * len(pool))
        if len(portals) >= MIN_SIZE:
            count = max(count, 1)
        for portal in rng.sample(pool, min(count, len(pool))):
            chosen[portal.index][name] = _rate(portal, generation, name)

    def settle(portal: PortalSpec) -> None:
        mine = chosen[portal.index]
        portal.history = tuple((k, mine[k]) for k in CHANGES if k in mine)

    for portal in portals:
        settle(portal)
    if len(portals) < MIN_SIZE:
        return
    for name in CHANGES:  # later kinds never shift earlier ones' picks (see apply_history)
        carriers = [p for p in healthy if name in chosen[p.index]]
        if any(_changes_kind(p, name, entries_of) for p in carriers):
            continue
        others = [p for p in healthy if eligible(name, p) and name not in chosen[p.index]]
        rng.shuffle(others)
        for portal in others:
            chosen[portal.index][name] = _rate(portal, generation, name)
            settle(portal)
            if _changes_kind(portal, name, entries_of):
                break
            del chosen[portal.index][name]
            settle(portal)
