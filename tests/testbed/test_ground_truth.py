"""Ground truth: one status per applicable pair, following the rules, and matching the site."""

from __future__ import annotations

import collections
import csv

import lxml.html
from testbed_helpers import crawl, element_texts, route_key, shows_title

from testbed.defects import DEFECTS, Mojibake
from testbed.html import JUSTIFICATION
from testbed.model import JUSTIFIED, LINK_BROKEN, UNLISTED
from testbed.plan import build_entries
from testbed.truth import STATUSES, gate_of

DOCUMENT_CODES = {"NOT_MACHINE_READABLE", "SCANNED_DOCUMENT", "FORMAT_MISMATCH",
                  "EMPTY_DATASET", "JUSTIFIED_ABSENCE", "MISSING_COLUMNS", "DATA_QUALITY",
                  "DEAD_HYPERLINKS", "OUTDATED"}

GATE_STATUS = {"connection_refused": ("unreachable", "PORTAL_UNREACHABLE"),
               "service_unavailable": ("unreachable", "PORTAL_UNREACHABLE"),
               "robots_disallowed": ("blocked", "ROBOTS_DISALLOWED"),
               "no_transparency_section": ("missing", "NO_TRANSPARENCY_SECTION"),
               "tls_invalid": ("unreachable", "TLS_INVALID"),
               "access_challenge": ("blocked", "ACCESS_BLOCKED"),
               "login_wall": ("blocked", "ACCESS_BLOCKED"),
               "js_required": ("missing", "JS_REQUIRED"),
               "delegates_to_pnt": ("missing", "DELEGATES_TO_PNT")}


def _read(path):
    with open(path, encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def test_every_pair_has_exactly_one_status(net50, written50):
    checks = _read(written50["expected_checks"])
    seen = collections.Counter((r["subject_id"], r["obligation_id"]) for r in checks)
    assert max(seen.values()) == 1
    expected = {(p.subject.subject_id, ob.obligation_id)
                for p in net50.portals for ob, _ in net50.catalog.applicability(p.subject)}
    assert set(seen) == expected
    assert {r["status"] for r in checks} <= set(STATUSES)


def test_statuses_follow_the_rules(net50, written50):
    checks = _read(written50["expected_checks"])
    findings = _read(written50["expected_findings"])
    codes = collections.defaultdict(list)
    for f in findings:
        codes[(f["subject_id"], f["obligation_id"])].append(f["code"])
    status_of = {(r["subject_id"], r["obligation_id"]): r["status"] for r in checks}
    for portal in net50.portals:
        sid = portal.subject.subject_id
        applicability = net50.catalog.applicability(portal.subject)
        gate = [d.kind for d in portal.defects if d.kind in GATE_STATUS]
        for ob, ok in applicability:
            status = status_of[(sid, ob.obligation_id)]
            mine = codes.get((sid, ob.obligation_id), [])
            if not ok:
                assert status == "not_applicable" and not mine
            elif gate:
                assert status == GATE_STATUS[gate[0]][0] and not mine
            elif status == "missing":
                assert {"OBLIGATION_MISSING", "LINK_BROKEN", "SOFT_404"} & set(mine)
                assert "LINK_BROKEN" not in mine or not portal.has_defect("soft_404")
            elif status == "justified":  # a note on the page, or only justification files
                assert "JUSTIFIED_ABSENCE" in mine
                assert set(mine) <= {"JUSTIFIED_ABSENCE", "ENCODING_ERROR"}
            elif status == "blocked":
                assert mine == ["ACCESS_BLOCKED"] and portal.has_defect("block_page")
            else:
                assert status == "present"
                assert set(mine) <= {"LINK_BROKEN", "SOFT_404", "HARD_TO_FIND",
                                     "ACCESS_BLOCKED", "ENCODING_ERROR"} | DOCUMENT_CODES
        if gate:
            assert codes[(sid, "")] == [GATE_STATUS[gate[0]][1]]
        elif portal.has_defect("mojibake") and Mojibake.mode(portal) == "portal":
            assert codes[(sid, "")] == ["ENCODING_ERROR"]
        else:
            assert (sid, "") not in codes


def test_site_matches_the_ground_truth(net50):
    """Crawl every readable portal from its home page: recorded depths, missing obligations,
    justification notes and broken links must be what a visitor meets."""
    checked = {p.family for p in net50.portals if gate_of(p) is None}
    assert len(checked) >= 5
    for portal in net50.portals:
        if gate_of(portal) is None:
            _check_portal(net50, portal)


def _check_portal(net, portal):
    applicability, entries, site = net.build(portal)
    depth, pages, linked = crawl(net, portal)
    linked_keys = {route_key(u) for u in linked}
    texts = element_texts(pages)
    for entry in entries:
        layout = site.layouts.get(entry.key)
        if entry.state == UNLISTED:
            assert layout is None or not layout.file_urls
            assert not shows_title(texts, entry.title), (portal.family, entry.key)
            continue
        if entry.state == LINK_BROKEN:
            key = route_key(layout.link_url)
            assert key in linked_keys and key not in site.routes
            continue
        if entry.state == JUSTIFIED:
            assert JUSTIFICATION in pages[route_key(layout.note_url)]
            continue
        assert depth[route_key(layout.info_url)] == layout.info_depth, (portal.family, entry.key)
        for index, url in layout.file_urls.items():
            key = route_key(url)
            assert key in linked_keys
            assert (key in site.routes) == (index not in entry.broken)
        deepest_allowed = 3 if not entry.deep else 99
        assert layout.info_depth <= deepest_allowed
        if entry.deep:
            assert layout.info_depth > 3


def test_whole_fractions_nested_by_period_list_every_file(catalog):
    """Deep entries that publish a whole fraction (one page for all its sub-formats) get
    one page per period listing every sub-format's files of that period. (A repository
    listing once showed "T1/" twice, once per sub-format, and served only the first one's
    files, so the others' were published nowhere.) Seed 99 (60 portals) has such
    repositorio_sipot and menu_anidado portals."""
    from testbed import generate_network

    net = generate_network(99, 60, catalog=catalog)
    portals = [p for p in net.portals if gate_of(p) is None
               and any(e.shared and e.deep for e in net.build(p)[1])]
    assert {"repositorio_sipot", "menu_anidado"} <= {p.family for p in portals}
    for portal in portals:
        _check_portal(net, portal)
        depth, pages, _ = crawl(net, portal)
        for key, text in pages.items():
            if depth[key] >= 3:  # year and period pages: each period once
                hrefs = lxml.html.fromstring(text).xpath("//main//a/@href|//table//a/@href")
                assert len(hrefs) == len(set(hrefs)), (portal.family, key)


def test_defect_kinds_shape_plans_deterministically(net50):
    portal = next(p for p in net50.portals if p.has_defect("link_broken"))
    applicability = net50.catalog.applicability(portal.subject)
    one = build_entries(portal, applicability, net50.catalog)
    two = build_entries(portal, applicability, net50.catalog)
    assert [(e.key, e.state, e.deep, e.broken) for e in one] == [
        (e.key, e.state, e.deep, e.broken) for e in two]
    assert any(e.broken or e.state == LINK_BROKEN for e in one)


def test_registry_of_defects_is_complete():
    for name, kind in DEFECTS.items():
        assert kind.name == name
        assert kind.codes or not kind.drawn  # some faults must raise nothing at all
        assert kind.scope in ("portal", "obligation")
