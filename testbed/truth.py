"""Ground truth: the status and findings the audit must report for every pair.

The rules mirror ``audit.presence`` (the first that applies decides):

* not applicable for the subject                    -> not_applicable
* a portal-level defect (unreachable, robots, no section) -> its status for every
  applicable obligation, and one portal-level finding
* entry not listed                                  -> missing + OBLIGATION_MISSING (no URL)
* entry link answers 404                            -> missing + LINK_BROKEN (the link)
* justification note instead of files               -> justified + JUSTIFIED_ABSENCE (page)
* every file of the obligation answers 404          -> missing + LINK_BROKEN per file
* otherwise                                         -> present, + LINK_BROKEN per broken file,
  + HARD_TO_FIND (the shallowest page listing its files) when that page is deeper than 3.

Then every defect kind the portal carries may amend the outcome (``DefectKind.adjust``: soft
404s turn LINK_BROKEN into SOFT_404, block pages under file URLs add ACCESS_BLOCKED and make
the obligation 'blocked' when every file is one, garbled pages add ENCODING_ERROR), and add
portal-level findings that decide no status (``DefectKind.portal_findings``: a site-wide
ENCODING_ERROR).

Last, the document rules (``document_outcome``), true on the audit date ``AS_OF``
(2025-11-15). They read the obligation's files *served normally*: its own files (a shared
entry's files belong to the obligation whose format they carry) that neither answer 404 nor
a block page, on a portal without a portal-level outcome. Per such file, with the file's URL:

* a PDF                                    -> NOT_MACHINE_READABLE (scanned or not)
* a file with a document defect            -> that kind's ``file_codes`` (``scanned`` adds
  SCANNED_DOCUMENT, ``format_mismatch`` FORMAT_MISMATCH, ``empty`` EMPTY_DATASET,
  ``justified`` JUSTIFIED_ABSENCE, ``missing_columns`` MISSING_COLUMNS, ``bad_data``
  DATA_QUALITY, ``mojibake`` ENCODING_ERROR)

and per obligation:

* every served file is a ``justified`` one  -> status 'justified' (instead of 'present')
* trimestral/semestral/anual obligation whose latest period end among its served
  spreadsheets/CSVs with records (justified and bad-data files count; empty ones and PDFs,
  whose period is not read, do not) is before ``latest_due_period_end(AS_OF, months)``
                                           -> OUTDATED (URL of that latest file)
* a served spreadsheet/CSV with dead hyperlinks (``dead_links``) -> DEAD_HYPERLINKS (URL of
  its latest dataset)

and, from generation 2 on, what changed since generation 1 (``testbed.history``; a removed
file is not served, so no other rule reads it):

* a file removed although its conservation period covers its year -> REMOVED_EARLY (the URL
  it had in generation 1)
* a file whose data changed without a new update date   -> SILENT_EDIT (its URL)
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache

from audit.catalog import UPDATE_PERIODS
from audit.findings import Code
from audit.freshness import latest_due_period_end
from audit.obligations import Obligation
from testbed.defects import DEFECTS, VARIANTS
from testbed.history import REMOVED_EARLY, SILENT_EDIT, removed
from testbed.model import (
    AS_OF,
    JUSTIFIED,
    LINK_BROKEN,
    PUBLISHED,
    UNLISTED,
    Entry,
    EntryLayout,
    ExpectedFinding,
    FilePlan,
    PortalSpec,
)
from testbed.site import Site

HARD_TO_FIND_CLICKS = 3
STATUSES = ("present", "justified", "missing", "blocked", "unreachable", "not_applicable")


def gate_of(portal: PortalSpec):
    """The portal-level outcome, if one of its defects imposes one (registry order)."""
    for name, kind in DEFECTS.items():
        if portal.has_defect(name):
            gate = kind.gate(portal)
            if gate is not None:
                return gate
    return None


def entry_outcome(site: Site, entry: Entry, ob: Obligation) -> dict:
    """Expected status and findings of one obligation from how its entry was published."""
    layout = site.layouts.get(entry.key)
    if entry.state == UNLISTED or layout is None:
        return {"status": "missing", "findings": [(Code.OBLIGATION_MISSING, "")]}
    if entry.state == LINK_BROKEN:
        return {"status": "missing", "findings": [(Code.LINK_BROKEN, layout.link_url or "")]}
    if entry.state == JUSTIFIED:
        return {"status": "justified",
                "findings": [(Code.JUSTIFIED_ABSENCE, layout.note_url or "")]}
    mine = [i for i, plan in enumerate(entry.files)
            if plan.obligation.obligation_id == ob.obligation_id and i not in removed(entry)]
    broken = [i for i in mine if i in entry.broken]
    findings = [(Code.LINK_BROKEN, layout.file_urls.get(i, "")) for i in broken]
    if mine and len(broken) == len(mine):
        return {"status": "missing", "findings": findings}
    if layout.info_depth is not None and layout.info_depth > HARD_TO_FIND_CLICKS:
        findings.append((Code.HARD_TO_FIND, layout.info_url or ""))
    return {"status": "present", "findings": findings}


# Document-level codes: what reading the files adds (the test suite compares them per file).
DOCUMENT_CODES = frozenset({
    Code.NOT_MACHINE_READABLE, Code.SCANNED_DOCUMENT, Code.FORMAT_MISMATCH, Code.EMPTY_DATASET,
    Code.MISSING_COLUMNS, Code.DATA_QUALITY, Code.DEAD_HYPERLINKS, Code.OUTDATED,
})
# Variants whose period the audit cannot read, and those that are not datasets with records.
UNDATED = frozenset({"empty"} | {v for v, k in VARIANTS.items() if not k.dated})
NO_RECORDS = frozenset({"empty", "justified"} | {v for v, k in VARIANTS.items()
                                                 if not k.has_records})


def file_codes(plan: FilePlan) -> list[Code]:
    """Findings one served file raises by itself (see the module docstring), each once."""
    codes = [Code.NOT_MACHINE_READABLE] if plan.ext == "pdf" else []
    kind = VARIANTS.get(plan.variant)
    if kind is not None:
        codes.extend(kind.file_codes)
    return list(dict.fromkeys(codes))


@lru_cache(maxsize=8)
def due_end(months: int) -> dt.date:
    """End of the latest period of ``months`` months due on ``AS_OF``."""
    return latest_due_period_end(AS_OF, months)


def period_end(plan: FilePlan) -> dt.date:
    """The last day the file reports on (a whole-year file: its last period's)."""
    return dt.date(*plan.period.bounds()[1])


def served_files(entry: Entry, ob: Obligation) -> list[int]:
    """Indexes of the obligation's files that are served normally (not 404, not blocked,
    not removed by a later generation)."""
    blocked = entry.marks.get("blocked", frozenset())
    gone = removed(entry)
    return [i for i, plan in enumerate(entry.files)
            if plan.obligation.obligation_id == ob.obligation_id
            and i not in entry.broken and i not in blocked and i not in gone]


def history_outcome(entry: Entry, ob: Obligation, outcome: dict,
                    layout: EntryLayout | None) -> None:
    """Add what changed since generation 1: REMOVED_EARLY per file removed within its
    conservation period, SILENT_EDIT per file edited without a new update date."""
    if entry.state != PUBLISHED or layout is None:
        return
    for i, plan in enumerate(entry.files):
        if plan.obligation.obligation_id != ob.obligation_id:
            continue
        if removed(entry).get(i) == REMOVED_EARLY:
            outcome["findings"].append((Code.REMOVED_EARLY, layout.removed_urls.get(i, "")))
        elif plan.revision == SILENT_EDIT and i in served_files(entry, ob):
            outcome["findings"].append((Code.SILENT_EDIT, layout.file_urls.get(i, "")))


def document_outcome(entry: Entry, ob: Obligation, outcome: dict,
                     layout: EntryLayout | None) -> None:
    """Add the document rules' findings (and the 'justified' status) to ``outcome``."""
    if entry.state != PUBLISHED or layout is None:
        return
    served = served_files(entry, ob)
    if not served:
        return
    found = outcome["findings"]
    for i in served:
        found.extend((code, layout.file_urls.get(i, "")) for code in file_codes(entry.files[i]))
    if outcome["status"] == "present" and all(
            entry.files[i].variant == "justified" for i in served):
        outcome["status"] = "justified"
    dated = [i for i in served if entry.files[i].tabular
             and entry.files[i].variant not in UNDATED]
    months = UPDATE_PERIODS.get(ob.update_period)
    if dated and months:
        latest = max(dated, key=lambda i: period_end(entry.files[i]))
        if period_end(entry.files[latest]) < due_end(months):
            found.append((Code.OUTDATED, layout.file_urls.get(latest, "")))
    datasets = [i for i in served if entry.files[i].tabular
                and entry.files[i].variant not in NO_RECORDS]
    if any(entry.files[i].variant == "dead_links" for i in datasets):
        latest = max(datasets, key=lambda i: period_end(entry.files[i]))
        found.append((Code.DEAD_HYPERLINKS, layout.file_urls.get(latest, "")))


def expected_for_portal(portal: PortalSpec, applicability: list[tuple[Obligation, bool]],
                        entries: list[Entry], site: Site, documents: bool = True
                        ) -> tuple[list[tuple[str, str, str]], list[ExpectedFinding]]:
    """(subject_id, obligation_id, status) rows and expected findings for one portal
    (``documents=False``: what the presence rules alone say, without reading any file)."""
    sid = portal.subject.subject_id
    checks: list[tuple[str, str, str]] = []
    findings: list[ExpectedFinding] = []
    gate = gate_of(portal)
    if gate is not None and any(ok for _, ok in applicability):
        findings.append(ExpectedFinding(sid, "", gate.code.value, gate.url))
    entry_of = {ob.obligation_id: e for e in entries for ob in e.obligations}
    kinds = [DEFECTS[d.kind] for d in portal.defects]
    if gate is None and any(ok for _, ok in applicability):
        findings.extend(ExpectedFinding(sid, "", code.value, url)
                        for kind in kinds for code, url in kind.portal_findings(portal))
    for ob, ok in applicability:
        oid = ob.obligation_id
        if not ok:
            checks.append((sid, oid, "not_applicable"))
            continue
        if gate is not None:
            checks.append((sid, oid, gate.status))
            continue
        entry = entry_of[oid]
        outcome = entry_outcome(site, entry, ob)
        for kind in kinds:
            kind.adjust(portal, entry, outcome, oid, site.layouts.get(entry.key))
        if documents:
            document_outcome(entry, ob, outcome, site.layouts.get(entry.key))
            history_outcome(entry, ob, outcome, site.layouts.get(entry.key))
        checks.append((sid, oid, outcome["status"]))
        findings.extend(ExpectedFinding(sid, oid, code.value, url)
                        for code, url in outcome["findings"])
    return checks, findings
