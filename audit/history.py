"""History rules: what changed in a subject's published documents since its previous run.

A document version is a resource a run read successfully, keyed by subject, URL and the
period it reports. Against the subject's previous run:

* ``REMOVED_EARLY`` — a document the previous run read is gone (no successful read of its
  URL now, and its bytes are not published under another URL either) although the
  conservation period still covers the year of its period (``audit.freshness``). Only
  judged for obligations the portal still lets Lupa verify (present, justified or
  missing now): a portal that is blocked or down proves nothing about removals.
* ``SILENT_EDIT`` — the same URL and period now has other bytes, and the update date the
  data declares ("fecha de actualización") did not move forward.

The rules are pure functions over versions; ``lupa.tasks`` feeds them from the warehouse
(previous run) and the run's shards (current run).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date

from audit.findings import Code, Finding

VERIFIABLE_STATUSES = frozenset({"present", "justified", "missing"})


@dataclass(frozen=True)
class Version:
    """One document as a run read it."""

    run_id: str
    subject_id: str
    obligation_id: str | None
    url: str
    sha256: str | None
    period_end: date | None
    updated_at: date | None


def history_findings(
    run_id: str,
    previous: Iterable[Version],
    current: Iterable[Version],
    statuses: dict[tuple[str, str], str],
    required_years: Callable[[str], Iterable[int]],
    label: Callable[[str], str] = str,
) -> list[Finding]:
    """REMOVED_EARLY and SILENT_EDIT findings of ``run_id``.

    ``previous`` are the versions of each subject's previous run, ``current`` this run's;
    ``statuses`` maps (subject, obligation) to this run's check status; ``required_years``
    gives the fiscal years an obligation must keep available as of this run's date.
    """
    now_by_url: dict[tuple[str, str], Version] = {}
    now_hashes: set[tuple[str, str]] = set()
    for version in current:
        now_by_url.setdefault((version.subject_id, version.url), version)
        if version.sha256:
            now_hashes.add((version.subject_id, version.sha256))
    findings = []
    for old in previous:
        new = now_by_url.get((old.subject_id, old.url))
        if new is None:
            finding = _removed(run_id, old, now_hashes, statuses, required_years, label)
        else:
            finding = _silently_edited(run_id, old, new, label)
        if finding is not None:
            findings.append(finding)
    return findings


def _removed(run_id, old: Version, now_hashes, statuses, required_years, label):
    if old.period_end is None or old.obligation_id is None:
        return None  # no period: the conservation rule cannot be applied
    if old.sha256 and (old.subject_id, old.sha256) in now_hashes:
        return None  # moved to another URL, still published
    if statuses.get((old.subject_id, old.obligation_id)) not in VERIFIABLE_STATUSES:
        return None
    years = sorted(set(required_years(old.obligation_id)))
    if old.period_end.year not in years:
        return None  # its conservation period is over: removing it is allowed
    return Finding(
        run_id, old.subject_id, old.obligation_id, Code.REMOVED_EARLY,
        f"El documento {old.url} de {label(old.obligation_id)}, con información al "
        f"{old.period_end:%d/%m/%Y}, se leyó en la corrida anterior ({old.run_id}) y ya no "
        f"está publicado, aunque deben conservarse los ejercicios "
        f"{', '.join(map(str, years))}.",
        old.url)


def _silently_edited(run_id, old: Version, new: Version, label):
    if old.period_end is None or new.period_end != old.period_end:
        return None  # another period under the same URL is an update, not an edit
    if not old.sha256 or not new.sha256 or old.sha256 == new.sha256:
        return None
    if new.updated_at is not None and (old.updated_at is None or new.updated_at > old.updated_at):
        return None  # a new update date: a declared update
    declared = f"{old.updated_at:%d/%m/%Y}" if old.updated_at else "ninguna"
    return Finding(
        run_id, new.subject_id, new.obligation_id or old.obligation_id, Code.SILENT_EDIT,
        f"El documento {new.url} de {label(new.obligation_id or old.obligation_id)}, con "
        f"información al {new.period_end:%d/%m/%Y}, cambió de contenido desde la corrida "
        f"anterior ({old.run_id}; SHA-256 {old.sha256[:12]}… → {new.sha256[:12]}…) sin una "
        f"nueva fecha de actualización (declarada: {declared}).",
        new.url)
