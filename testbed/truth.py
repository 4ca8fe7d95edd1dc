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
"""

from __future__ import annotations

from audit.findings import Code
from audit.obligations import Obligation
from testbed.defects import DEFECTS
from testbed.model import (
    JUSTIFIED,
    LINK_BROKEN,
    UNLISTED,
    Entry,
    ExpectedFinding,
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
            if plan.obligation.obligation_id == ob.obligation_id]
    broken = [i for i in mine if i in entry.broken]
    findings = [(Code.LINK_BROKEN, layout.file_urls.get(i, "")) for i in broken]
    if mine and len(broken) == len(mine):
        return {"status": "missing", "findings": findings}
    if layout.info_depth is not None and layout.info_depth > HARD_TO_FIND_CLICKS:
        findings.append((Code.HARD_TO_FIND, layout.info_url or ""))
    return {"status": "present", "findings": findings}


def expected_for_portal(portal: PortalSpec, applicability: list[tuple[Obligation, bool]],
                        entries: list[Entry], site: Site
                        ) -> tuple[list[tuple[str, str, str]], list[ExpectedFinding]]:
    """(subject_id, obligation_id, status) rows and expected findings for one portal."""
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
        checks.append((sid, oid, outcome["status"]))
        findings.extend(ExpectedFinding(sid, oid, code.value, url)
                        for code, url in outcome["findings"])
    return checks, findings
