"""Generations (``testbed.history``) and conditional requests.

Generation 1 is what the testbed always generated (checked against digests captured before
generations existed, ``data/generation1.json``). Generation 2 is the same network
re-published later: most documents byte-identical, some updated, silently edited or removed,
with a ground truth that only adds REMOVED_EARLY and SILENT_EDIT rows. The server answers
conditional GETs and HEADs with 304 when a document did not change.
"""

from __future__ import annotations

import collections
import csv
import datetime as dt
import hashlib
import http.client
import json
import socket
from email.utils import format_datetime, parsedate_to_datetime
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import lxml.html
import pytest
import requests
from testbed_helpers import crawl, free_base_and_port, route_key

from audit.formats import load_formats
from audit.freshness import required_years
from lupa.documents import latest_date
from scrapers.readers import read_document
from testbed import generate_network, serve_in_thread
from testbed.cli import main as cli_main
from testbed.defects import MIN_SIZE
from testbed.history import (
    CHANGES,
    REMOVED_EARLY,
    REMOVED_LEGITIMATELY,
    SILENT_EDIT,
    UPDATED,
    removal_kind,
    removed,
)
from testbed.model import AS_OF, REPUBLISHED_ON
from testbed.resources import render_file
from testbed.server import Responder, start_subprocess
from testbed.truth import gate_of

FIXTURE = Path(__file__).with_name("data") / "generation1.json"
SEED, SIZE = 11, MIN_SIZE
HISTORY_CODES = {"REMOVED_EARLY", "SILENT_EDIT"}
REPUBLISHED = dt.datetime(*REPUBLISHED_ON, 9, 30, tzinfo=dt.UTC)


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _rows(path: Path) -> list[dict]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def _own_block() -> tuple[str, int]:
    """A loopback block apart from the session's served network, and a port free on it."""
    base, _ = free_base_and_port()
    parts = base.split(".")
    base = ".".join(parts[:2] + [str((int(parts[2]) + 50) % 250 + 1), "1"])
    with socket.socket() as probe:
        probe.bind((base, 0))
        return base, probe.getsockname()[1]


@pytest.fixture(scope="module")
def gen1(catalog):
    base, port = _own_block()
    return generate_network(SEED, SIZE, base=base, port=port, catalog=catalog)


@pytest.fixture(scope="module")
def gen2(gen1):
    return gen1.at_generation(2)


@pytest.fixture(scope="module")
def changes(gen2) -> list[tuple[str, str, str, str]]:
    return [row for portal in gen2.portals for row in gen2.changes(portal)]


def _located(net, url: str):
    """(portal, entry, file index, plan) of the file a URL of ``net`` names (published or
    removed)."""
    portal = net.by_address[urlsplit(url).hostname]
    _, entries, site = net.build(portal)
    for entry in entries:
        layout = site.layouts.get(entry.key)
        if layout is None:
            continue
        for i, plan in enumerate(entry.files):
            if url in (layout.file_urls.get(i), layout.removed_urls.get(i)):
                return portal, entry, i, plan
    raise AssertionError(f"no file at {url}")


def _target(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


# --------------------------------------------------------------------------- generation 1


def test_generation_1_is_what_the_testbed_always_generated(catalog, tmp_path):
    """Registry, ground truth and network.json of three networks, and a sample of served
    documents, byte for byte as before generations existed; no generation files."""
    fixture = json.loads(FIXTURE.read_text(encoding="utf-8"))
    for key, want in fixture.items():
        net = generate_network(want["seed"], want["size"], catalog=catalog, generation=1)
        out = tmp_path / key
        net.write(out)
        got = {name: _sha((out / name).read_bytes()) for name in want["files"]}
        assert got == want["files"], key
        assert sorted(p.name for p in (out / "ground_truth").iterdir()) == [
            "as_of.txt", "expected_checks.csv", "expected_findings.csv"]
        assert "generation" not in json.loads((out / "network.json").read_text("utf-8"))
        for name, digest in want.get("documents", {}).items():
            index, key_path = name.split(" ", 1)
            portal = net.portals[int(index)]
            plan = net.site(portal).routes[key_path].file
            assert _sha(render_file(portal, plan)[0]) == digest, name


def test_generation_must_be_known(catalog):
    for wrong in (0, 3, "2"):
        with pytest.raises(ValueError):
            generate_network(SEED, 5, catalog=catalog, generation=wrong)


# --------------------------------------------------------------------------- generation 2


@pytest.mark.parametrize(("seed", "size"), [(SEED, SIZE), (5, MIN_SIZE), (2026, 50),
                                            (7, 50), (99, MIN_SIZE)])
def test_every_change_kind_in_small_networks(catalog, seed, size):
    net = generate_network(seed, size, catalog=catalog, generation=2)
    kinds = collections.Counter(row[3] for p in net.portals for row in net.changes(p))
    assert all(kinds[kind] >= 1 for kind in CHANGES), (seed, size, kinds)
    assert set(kinds) == set(CHANGES)


def test_generation_2_is_the_same_network(gen1, gen2, changes):
    assert [(p.subject, p.address, p.family, p.spelling, p.encoding, p.defects, p.options)
            for p in gen1.portals] == [
        (p.subject, p.address, p.family, p.spelling, p.encoding, p.defects, p.options)
        for p in gen2.portals]
    assert all(p.generation == 2 for p in gen2.portals)
    assert all(not p.history for p in gen2.portals if gate_of(p) is not None)
    for p1, p2 in zip(gen1.portals, gen2.portals, strict=True):
        s1, s2 = gen1.site(p1), gen2.site(p2)
        assert s1.transparency_path == s2.transparency_path
        assert set(s2.routes) <= set(s1.routes)  # nothing new
        gone = {k for k in set(s1.routes) - set(s2.routes) if s1.routes[k].kind == "file"}
        assert gone == {route_key(url) for sid, _oid, url, change in changes
                        if sid == p2.subject.subject_id and change in (
                            REMOVED_EARLY, REMOVED_LEGITIMATELY)}


def test_most_documents_are_byte_identical(gen1, gen2):
    """At least 90 % of the files and pages of the readable portals are unchanged: every page
    compared byte for byte, every file by its plan (the bytes are a function of it, checked
    on a sample), every changed file's bytes differ."""
    r1, r2 = Responder(gen1), Responder(gen2)
    same = total = 0
    unchanged_files, changed_files = [], []
    for p1, p2 in zip(gen1.portals, gen2.portals, strict=True):
        if gate_of(p1) is not None:
            continue
        s1, s2 = gen1.site(p1), gen2.site(p2)
        for key in sorted(set(s1.routes) | set(s2.routes)):
            before, after = s1.routes.get(key), s2.routes.get(key)
            total += 1
            if after is None:
                continue
            if after.kind == "file":
                if before.file == after.file:
                    same += 1
                    unchanged_files.append((p1, p2, key))
                else:
                    changed_files.append((p1, p2, key))
            elif s1.render(key) == s2.render(key):
                same += 1
    assert same / total >= 0.9, (same, total)
    for p1, p2, key in unchanged_files[::max(1, len(unchanged_files) // 40)]:
        a, b = r1.respond(p1, key), r2.respond(p2, key)
        assert (a.status, a.body, a.etag, a.last_modified) == (
            b.status, b.body, b.etag, b.last_modified), key
    assert changed_files
    for p1, p2, key in changed_files:
        a, b = r1.respond(p1, key), r2.respond(p2, key)
        assert a.status == b.status == 200 and a.body != b.body and a.etag != b.etag, key
        assert b.last_modified == REPUBLISHED > a.last_modified


def test_changes_touch_only_clean_files_of_healthy_portals(gen2, changes):
    assert len({row[2] for row in changes}) == len(changes)  # each file changes once
    for sid, oid, url, change in changes:
        portal, entry, index, plan = _located(gen2, url)
        assert portal.subject.subject_id == sid and plan.obligation.obligation_id == oid
        assert gate_of(portal) is None and plan.tabular and not plan.variant
        assert "document" not in entry.marks and not entry.shared and not entry.deep
        assert not entry.broken and not entry.marks.get("blocked")
        assert change == (removed(entry).get(index) or plan.revision)


def test_removed_files_are_gone_and_follow_the_conservation_period(gen1, gen2, changes):
    r1, r2 = Responder(gen1), Responder(gen2)
    linked: dict[str, set[str]] = {}
    seen = collections.Counter()
    for sid, _oid, url, change in changes:
        if change not in (REMOVED_EARLY, REMOVED_LEGITIMATELY):
            continue
        seen[change] += 1
        portal, entry, index, plan = _located(gen2, url)
        _, entries1, site1 = gen1.build(gen1.portals[portal.index])
        assert site1.layouts[entry.key].file_urls[index] == url  # the URL it had
        assert r1.respond(gen1.portals[portal.index], _target(url)).status == 200
        answer = r2.respond(portal, _target(url))
        assert answer.status == 404 and answer.etag is None
        if sid not in linked:
            linked[sid] = crawl(gen2, portal)[2]
        assert url not in linked[sid] and route_key(url) not in gen2.site(portal).routes
        years = required_years(plan.obligation.conservation_period or "", AS_OF)
        if change == REMOVED_EARLY:
            assert plan.period.year in years
        else:
            assert plan.period.year not in years and plan.obligation.conservation_period
        assert removal_kind(plan) == change
        # the obligation keeps its latest period (present, as fresh as before)
        mine = [(i, p) for i, p in enumerate(entry.files) if p.obligation == plan.obligation]
        latest = max(p.period.bounds()[1] for _, p in mine)
        assert plan.period.bounds()[1] < latest
        assert any(p.period.bounds()[1] == latest and p.tabular and i not in removed(entry)
                   for i, p in mine)
    assert seen[REMOVED_EARLY] and seen[REMOVED_LEGITIMATELY]


def _update_date(body: bytes, plan, content_type: str) -> dt.date:
    """The latest 'Fecha de actualización' of a file's data, as the harvest reads it."""
    doc = read_document(body, filename=f"archivo.{plan.ext}", declared_type=content_type)
    frame = doc.frame()
    column = load_formats().common_roles(list(frame.columns))["fecha_actualizacion"]
    return latest_date(frame[column].dropna().tolist()), doc


def test_revised_files_change_bytes_and_update_date_as_their_kind_says(gen1, gen2, changes):
    r1, r2 = Responder(gen1), Responder(gen2)
    seen = collections.Counter()
    for _sid, _oid, url, change in changes:
        if change not in (UPDATED, SILENT_EDIT):
            continue
        seen[change] += 1
        portal, _entry, _index, plan = _located(gen2, url)
        before = r1.respond(gen1.portals[portal.index], _target(url))
        after = r2.respond(portal, _target(url))
        assert before.status == after.status == 200 and before.body != after.body
        assert before.content_type == after.content_type
        old, old_doc = _update_date(before.body, plan, before.content_type)
        new, new_doc = _update_date(after.body, plan, after.content_type)
        assert old_doc.period == new_doc.period and old_doc.columns == new_doc.columns
        assert new_doc.rows - old_doc.rows in (0, 1)
        if change == SILENT_EDIT:
            assert new == old
        else:
            assert new == dt.date(*REPUBLISHED_ON) > old
        assert after.last_modified == REPUBLISHED > before.last_modified
    assert seen[UPDATED] and seen[SILENT_EDIT]


def test_ground_truth_of_generation_2(gen1, gen2, changes, tmp_path):
    one, two = gen1.write(tmp_path / "g1"), gen2.write(tmp_path / "g2")
    for name in ("registry", "expected_checks", "as_of"):
        assert one[name].read_bytes() == two[name].read_bytes(), name
    assert two["generation"].read_text(encoding="utf-8") == "2\n"
    lines1 = one["expected_findings"].read_text(encoding="utf-8").splitlines()
    lines2 = two["expected_findings"].read_text(encoding="utf-8").splitlines()
    assert [line for line in lines2 if line.split(",")[2] not in HISTORY_CODES] == lines1
    history = {(r["subject_id"], r["obligation_id"], r["code"], r["url"])
               for r in _rows(two["expected_findings"]) if r["code"] in HISTORY_CODES}
    wanted = {(sid, oid, {REMOVED_EARLY: "REMOVED_EARLY", SILENT_EDIT: "SILENT_EDIT"}[c], url)
              for sid, oid, url, c in changes if c in (REMOVED_EARLY, SILENT_EDIT)}
    assert history == wanted and len(lines2) - len(lines1) == len(wanted)
    written = [(r["subject_id"], r["obligation_id"], r["url"], r["change"])
               for r in _rows(two["changes"])]
    assert written == changes
    data = json.loads(two["network"].read_text(encoding="utf-8"))
    assert data["generation"] == 2
    assert data["changes"] == {k: sum(1 for row in changes if row[3] == k) for k in CHANGES}
    assert sum(len(p["changes"]) for p in data["portals"]) == len(changes)
    assert all("history" in p for p in data["portals"])


def test_cli_writes_generation_2(tmp_path, capsys):
    assert cli_main(["generate", "--seed", "3", "--size", "12", "--generation", "2",
                     "--out", str(tmp_path)]) == 0
    assert (tmp_path / "ground_truth" / "generation.txt").read_text() == "2\n"
    assert (tmp_path / "ground_truth" / "changes.csv").exists()
    assert "generation 2" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        cli_main(["generate", "--generation", "3", "--out", str(tmp_path / "x")])


# --------------------------------------------------------------------------- validators


def _first(changes, kind) -> str:
    return next(url for *_, url, change in changes if change == kind)


def _unchanged_file(gen2, changes) -> str:
    changed = {row[2] for row in changes}
    for portal in gen2.portals:
        if gate_of(portal) is not None or not portal.history:
            continue
        site = gen2.site(portal)
        for key, route in sorted(site.routes.items()):
            if route.kind == "file" and site.url(key) not in changed and route.file.tabular:
                return site.url(key)
    raise AssertionError("no unchanged file")


def _changed_page(gen1, gen2, url: str) -> str:
    """A page that listed the removed file ``url`` in generation 1 and no longer does."""
    portal, entry, _index, _plan = _located(gen2, url)
    layout = gen2.site(portal).layouts[entry.key]
    return layout.info_url


def _links(url: str, content: bytes) -> set[str]:
    return {urljoin(url, href) for href in lxml.html.fromstring(content).xpath("//a/@href")}


def _get(url: str, **headers) -> requests.Response:
    return requests.get(url, headers=headers, timeout=10, allow_redirects=False)


@pytest.fixture(scope="module")
def first_seen(gen1, gen2, changes) -> dict[str, requests.Response]:
    """Generation 1's answers (served over loopback) to the URLs the conditional tests ask
    generation 2 about."""
    urls = {"unchanged": _unchanged_file(gen2, changes),
            "updated": _first(changes, UPDATED), "silent": _first(changes, SILENT_EDIT),
            "removed": _first(changes, REMOVED_EARLY),
            "home": gen2.portals[next(p.index for p in gen2.portals
                                      if gate_of(p) is None)].portal_url}
    urls["changed_page"] = _changed_page(gen1, gen2, urls["removed"])
    with serve_in_thread(gen1):
        return {name: (url, _get(url)) for name, url in urls.items()}


@pytest.fixture(scope="module")
def served2(gen2, first_seen):
    with serve_in_thread(gen2) as handle:
        yield handle


def test_generation_1_answers_carry_validators(first_seen):
    for name, (_url, response) in first_seen.items():
        assert response.status_code == 200, name
        etag = response.headers["ETag"]
        assert etag.startswith('"') and etag.endswith('"') and not etag.startswith("W/")
        assert etag == '"' + _sha(response.content)[:32] + '"'
        modified = parsedate_to_datetime(response.headers["Last-Modified"])
        assert response.headers["Last-Modified"].endswith(" GMT")
        assert modified <= dt.datetime(*AS_OF.timetuple()[:3], tzinfo=dt.UTC)


def test_unchanged_document_answers_304_to_generation_1_validators(served2, first_seen):
    url, before = first_seen["unchanged"]
    etag, modified = before.headers["ETag"], before.headers["Last-Modified"]
    for headers in ({"If-None-Match": etag}, {"If-Modified-Since": modified},
                    {"If-None-Match": f'"nope", W/{etag}'}, {"If-None-Match": "*"},
                    {"If-None-Match": etag, "If-Modified-Since": "Mon, 01 Jan 2001 00:00:00 GMT"}):
        answer = _get(url, **headers)
        assert answer.status_code == 304 and answer.content == b"", headers
        assert answer.headers["ETag"] == etag and answer.headers["Last-Modified"] == modified
        assert "Content-Type" not in answer.headers
    full = _get(url)
    assert full.status_code == 200 and full.content == before.content
    assert full.headers["ETag"] == etag and full.headers["Last-Modified"] == modified
    # If-None-Match wins over If-Modified-Since; an invalid date is ignored
    assert _get(url, **{"If-None-Match": '"other"', "If-Modified-Since": modified}
                ).status_code == 200
    assert _get(url, **{"If-Modified-Since": "yesterday"}).status_code == 200
    older = format_datetime(parsedate_to_datetime(modified) - dt.timedelta(seconds=1),
                            usegmt=True)
    assert _get(url, **{"If-Modified-Since": older}).status_code == 200
    head = requests.head(url, headers={"If-None-Match": etag}, timeout=10)
    assert head.status_code == 304 and head.content == b""


def test_changed_documents_answer_200_to_generation_1_validators(served2, first_seen):
    for name in ("updated", "silent"):
        url, before = first_seen[name]
        for headers in ({"If-None-Match": before.headers["ETag"]},
                        {"If-Modified-Since": before.headers["Last-Modified"]}):
            answer = _get(url, **headers)
            assert answer.status_code == 200 and answer.content != before.content, name
            assert answer.headers["ETag"] != before.headers["ETag"]
            assert parsedate_to_datetime(answer.headers["Last-Modified"]) == REPUBLISHED
            assert answer.headers["ETag"] == '"' + _sha(answer.content)[:32] + '"'
    url, before = first_seen["removed"]
    gone = _get(url, **{"If-None-Match": before.headers["ETag"]})
    assert gone.status_code == 404 and "ETag" not in gone.headers


def test_pages_keep_or_move_their_validators(served2, first_seen):
    url, before = first_seen["home"]
    again = _get(url, **{"If-None-Match": before.headers["ETag"]})
    assert again.status_code == 304
    url, before = first_seen["changed_page"]
    now = _get(url, **{"If-None-Match": before.headers["ETag"],
                       "If-Modified-Since": before.headers["Last-Modified"]})
    assert now.status_code == 200 and now.content != before.content
    removed_url = first_seen["removed"][0]
    assert removed_url in _links(url, before.content)
    assert removed_url not in _links(url, now.content)
    assert parsedate_to_datetime(now.headers["Last-Modified"]) == REPUBLISHED
    assert _get(url, **{"If-None-Match": now.headers["ETag"]}).status_code == 304


def test_defect_answers_carry_no_validators(served2, gen2):
    soft = next(p for p in gen2.portals if p.has_defect("soft_404")
                and p.defect("soft_404").param("style") in ("page", "plain"))
    answer = _get(soft.base_url + "/no/existe", **{"If-None-Match": "*"})
    assert answer.status_code == 200 and "ETag" not in answer.headers
    assert "Last-Modified" not in answer.headers
    down = next(p for p in gen2.portals if p.has_defect("service_unavailable"))
    answer = _get(down.portal_url, **{"If-None-Match": "*"})
    assert answer.status_code == 503 and "ETag" not in answer.headers


def test_keep_alive_survives_a_304(served2, first_seen):
    url, before = first_seen["unchanged"]
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=5)
    try:
        for _ in range(3):
            conn.request("GET", _target(url), headers={"If-None-Match": before.headers["ETag"]})
            answer = conn.getresponse()
            assert answer.status == 304 and answer.read() == b""
        conn.request("GET", _target(url))
        answer = conn.getresponse()
        assert answer.status == 200 and answer.read() == before.content
    finally:
        conn.close()


def test_start_subprocess_serves_generation_2(tmp_path, catalog):
    base, port = _own_block()
    parts = base.split(".")
    base = ".".join(parts[:2] + [str((int(parts[2]) + 60) % 250 + 1), "1"])
    with socket.socket() as probe:
        probe.bind((base, 0))
        port = probe.getsockname()[1]
    with start_subprocess(5, 8, tmp_path, port=port, base=base, timeout=60, catalog=catalog,
                          generation=2) as handle:
        assert handle.network.generation == 2
        assert (tmp_path / "ground_truth" / "generation.txt").read_text() == "2\n"
        portal = next(p for p in handle.network.bound_portals() if gate_of(p) is None)
        answer = _get(portal.portal_url)
        assert answer.status_code == 200 and answer.headers["ETag"]
        assert _get(portal.portal_url, **{"If-None-Match": answer.headers["ETag"]}
                    ).status_code == 304
