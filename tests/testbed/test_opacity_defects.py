"""Opacity defect kinds: what the served portals do (TLS, challenges, login walls, script
shells, PNT, soft 404s, block pages under file URLs, mojibake), their ground truth, and an
audit of those portals reproducing it exactly."""

from __future__ import annotations

import collections
import csv

import pytest
import requests

from audit.presence import audit_presence
from scrapers.crawl import crawl_portal
from scrapers.fetch import Fetcher, FetchPolicy
from testbed import generate_network
from testbed.defects import DEFECTS, Mojibake
from testbed.model import LINK_BROKEN
from testbed.truth import gate_of

NEW_KINDS = ("tls_invalid", "access_challenge", "login_wall", "js_required",
             "delegates_to_pnt", "soft_404", "block_page", "mojibake")


def _with(net, kind):
    portal = next((p for p in net.portals if p.has_defect(kind)), None)
    if portal is None:
        pytest.skip(f"no portal with {kind}")
    return portal


def _get(url, **kw):
    return requests.get(url, timeout=5, allow_redirects=False, **kw)


# --------------------------------------------------------------------------- generation


def test_demo_network_shows_every_new_kind_and_code(catalog):
    net = generate_network(2026, 50, catalog=catalog)
    kinds = collections.Counter(d.kind for p in net.portals for d in p.defects)
    assert all(kinds[k] >= 1 for k in NEW_KINDS)
    assert all(kinds[k] >= 1 for k, kind in DEFECTS.items() if kind.drawn)
    codes = collections.Counter(f.code for _, found in net.iter_expected() for f in found)
    for code in ("TLS_INVALID", "ACCESS_BLOCKED", "JS_REQUIRED", "DELEGATES_TO_PNT",
                 "SOFT_404", "ENCODING_ERROR"):
        assert codes[code] >= 1, code
    tls = _with(net, "tls_invalid")
    assert tls.portal_url.startswith("https://") and tls.subject.portal_url == tls.portal_url
    assert all(p.portal_url.startswith("http://") for p in net.portals if p is not tls)


def test_written_registry_has_the_https_portal(catalog, tmp_path):
    net = generate_network(2026, 50, catalog=catalog)
    paths = net.write(tmp_path)
    with paths["registry"].open(encoding="utf-8") as handle:
        urls = [row["portal_url"] for row in csv.DictReader(handle)]
    assert sum(url.startswith("https://") for url in urls) == 1


def test_soft_404_portals_report_soft_404_never_link_broken(net50):
    for portal in net50.portals:
        if not portal.has_defect("soft_404"):
            continue
        _, entries, _ = net50.build(portal)
        assert any(e.state == LINK_BROKEN or e.broken for e in entries)
        _, found = net50.expected(portal)
        codes = {f.code for f in found}
        assert "SOFT_404" in codes and "LINK_BROKEN" not in codes


def test_block_page_truth_follows_the_files(net50):
    portal = _with(net50, "block_page")
    checks, found = net50.expected(portal)
    _, entries, site = net50.build(portal)
    status = {oid: st for _, oid, st in checks}
    blocked = [e for e in entries if e.marks.get("blocked")]
    assert blocked
    for entry in blocked:
        (ob,) = entry.obligations
        every = len(entry.marks["blocked"]) == len(entry.files)
        assert status[ob.obligation_id] == ("blocked" if every else "present")
        urls = {f.url for f in found if f.obligation_id == ob.obligation_id
                and f.code == "ACCESS_BLOCKED"}
        assert len(urls) == 1 and urls <= set(site.layouts[entry.key].file_urls.values())


def test_mojibake_truth(net50):
    for portal in net50.portals:
        if not portal.has_defect("mojibake"):
            continue
        _, found = net50.expected(portal)
        garbled = {(f.obligation_id, f.code) for f in found if f.code == "ENCODING_ERROR"}
        if Mojibake.mode(portal) == "portal":
            assert garbled == {("", "ENCODING_ERROR")}
        else:
            _, entries, _ = net50.build(portal)
            marked = {ob.obligation_id for e in entries if e.marks.get("mojibake")
                      for ob in e.obligations}
            assert marked and garbled == {(oid, "ENCODING_ERROR") for oid in marked}


def test_new_portal_kinds_are_gates(net50):
    for kind in ("tls_invalid", "access_challenge", "login_wall", "js_required",
                 "delegates_to_pnt"):
        portal = _with(net50, kind)
        gate = gate_of(portal)
        assert gate is not None and gate.code in DEFECTS[kind].codes


# --------------------------------------------------------------------------- serving


@pytest.mark.filterwarnings("ignore::urllib3.exceptions.InsecureRequestWarning")
def test_tls_portal_presents_an_unverifiable_certificate(served, net50):
    portal = _with(net50, "tls_invalid")
    with pytest.raises(requests.exceptions.SSLError):
        _get(portal.portal_url)
    assert _get(portal.portal_url, verify=False).status_code == 200


def test_access_challenge_answers_every_page_but_robots(served, net50):
    portal = _with(net50, "access_challenge")
    home = _get(portal.portal_url)
    if portal.defect("access_challenge").param("style") == "captcha":
        assert home.status_code == 200 and b"g-recaptcha" in home.content
    else:
        assert home.status_code == 403 and b"The requested URL was rejected" in home.content
    assert _get(portal.base_url + "/robots.txt").status_code == 200


def test_login_wall_guards_the_section_only(served, net50):
    portal = _with(net50, "login_wall")
    gate = gate_of(portal)
    assert _get(portal.portal_url).status_code == 200
    section = _get(gate.url)
    if portal.defect("login_wall").param("style") == "form":
        assert section.status_code == 302 and section.headers["Location"].startswith("/login")
        login = _get(portal.base_url + section.headers["Location"])
        assert login.status_code == 200 and b'type="password"' in login.content
    else:
        assert section.status_code == 401 and "Basic" in section.headers["WWW-Authenticate"]


def test_js_required_serves_an_empty_shell(served, net50):
    portal = _with(net50, "js_required")
    shell = _get(gate_of(portal).url)
    assert shell.status_code == 200 and b"<script" in shell.content
    assert b'<div id="root"></div>' in shell.content or b"<app-root></app-root>" in shell.content


def test_delegating_portal_links_the_national_platform(served, net50):
    portal = _with(net50, "delegates_to_pnt")
    page = _get(gate_of(portal).url)
    assert page.status_code == 200 and b"plataformadetransparencia.org.mx" in page.content


def test_soft_404_portal_answers_unknown_paths(served, net50):
    portal = _with(net50, "soft_404")
    answer = _get(portal.base_url + "/no/existe")
    if portal.defect("soft_404").param("style") == "redirect":
        assert answer.status_code == 302 and answer.headers["Location"] == "/"
    else:
        assert answer.status_code == 200 and b"<nav" in answer.content


def test_blocked_documents_are_small_html_under_the_files_url(served, net50):
    portal = _with(net50, "block_page")
    _, entries, site = net50.build(portal)
    entry = next(e for e in entries if e.marks.get("blocked"))
    index = min(entry.marks["blocked"])
    answer = _get(site.layouts[entry.key].file_urls[index])
    assert answer.status_code == 200 and len(answer.content) < 300
    assert answer.content.startswith(b"<html>")
    assert answer.headers["Content-Type"].split(";")[0] != "text/html"


def test_mojibake_pages(served, net50):
    for portal in net50.portals:
        if portal.has_defect("mojibake") and Mojibake.mode(portal) == "portal":
            home = _get(portal.portal_url)
            assert "TrÃ¡mites" in home.content.decode("utf-8")
            return
    pytest.skip("no site-wide mojibake portal")


# --------------------------------------------------------------------------- audit


def test_audit_of_the_opacity_portals_matches_the_ground_truth(served, net50, catalog):
    """Crawl and audit one portal of each opacity kind: exact statuses and finding keys of
    the presence rules (no file is read here)."""
    chosen = {}
    for kind in NEW_KINDS:
        portal = next((p for p in net50.portals if p.has_defect(kind)), None)
        if portal is not None:
            chosen[portal.index] = portal
    policy = FetchPolicy(allow_private_networks=True, delay_seconds=0.0, max_retries=0,
                         max_retries_500=0, connect_timeout=2.0, read_timeout=5.0)
    with Fetcher(policy) as fetcher:
        for portal in chosen.values():
            harvest = crawl_portal(portal.subject, fetcher, catalog)
            result = audit_presence(portal.subject, harvest,
                                    catalog.applicability(portal.subject), "t")
            checks, expected = net50.expected(portal, documents=False)  # presence only
            observed = {c["obligation_id"]: c["status"] for c in result.checks}
            kinds = [d.kind for d in portal.defects]
            assert observed == {oid: st for _, oid, st in checks}, kinds
            assert {(f.obligation_id or "", f.code.value) for f in result.findings} == {
                (f.obligation_id, f.code) for f in expected}, kinds
