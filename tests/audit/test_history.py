"""History rules on hand-made versions: removed before the end of conservation, silent edits."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from audit.findings import Code
from audit.history import Version, history_findings

Q2, Q3 = date(2025, 6, 30), date(2025, 9, 30)
OLD_YEAR = date(2022, 12, 31)
ISSUED, LATER = date(2025, 10, 15), date(2026, 1, 20)


def v(url, sha="a" * 64, period=Q3, updated=ISSUED, run="r1", obligation="70-IX", subject="S"):
    return Version(run, subject, obligation, url, sha, period, updated)


def findings(previous, current, statuses=None, years=(2024, 2025)):
    statuses = statuses or {("S", "70-IX"): "present"}
    return history_findings("r2", previous, current, statuses, lambda oid: years)


def codes(found):
    return [(f.code, f.evidence_url) for f in found]


def test_an_unchanged_portal_has_no_history_findings():
    same = [v("u1"), v("u2", sha="b" * 64, period=Q2)]
    assert findings(same, [replace(x, run_id="r2") for x in same]) == []


def test_a_document_within_its_conservation_period_must_not_disappear():
    found = findings([v("u1"), v("u2", sha="b" * 64, period=Q2)], [v("u1", run="r2")])
    assert codes(found) == [(Code.REMOVED_EARLY, "u2")]
    assert "2024, 2025" in found[0].message and found[0].obligation_id == "70-IX"


def test_documents_past_conservation_may_go_and_moved_ones_are_not_removed():
    previous = [v("viejo", sha="c" * 64, period=OLD_YEAR), v("u2", sha="b" * 64, period=Q2)]
    current = [v("nuevo/u2", sha="b" * 64, period=Q2, run="r2")]  # same bytes, new URL
    assert findings(previous, current) == []


def test_no_removal_is_claimed_where_the_portal_cannot_be_verified_now():
    for status in ("blocked", "unreachable", None):
        statuses = {("S", "70-IX"): status} if status else {("T", "70-IX"): "present"}
        assert findings([v("u1")], [], statuses) == []
    assert codes(findings([v("u1")], [], {("S", "70-IX"): "missing"})) == [
        (Code.REMOVED_EARLY, "u1")]  # every file of the obligation gone: each one counts


def test_a_document_without_a_period_cannot_be_judged_for_removal():
    assert findings([v("u1", period=None)], []) == []


def test_new_bytes_under_the_same_url_and_period_without_a_new_update_date_is_silent():
    found = findings([v("u1")], [v("u1", sha="d" * 64, run="r2")])
    assert codes(found) == [(Code.SILENT_EDIT, "u1")]
    assert "15/10/2025" in found[0].message and "aaaaaaaaaaaa" in found[0].message
    assert codes(findings([v("u1", updated=None)], [v("u1", sha="d" * 64, updated=None)])) == [
        (Code.SILENT_EDIT, "u1")]


def test_declared_updates_and_new_periods_are_not_silent_edits():
    assert findings([v("u1")], [v("u1", sha="d" * 64, updated=LATER, run="r2")]) == []
    assert findings([v("u1", period=Q2)], [v("u1", sha="d" * 64, period=Q3, run="r2")]) == []
    assert findings([v("u1")], [v("u1", run="r2")]) == []  # same bytes
