"""Generation: determinism, spread of families and defects, national scale, registry."""

from __future__ import annotations

import collections
import ipaddress
import json
import time

import pytest

from audit.registry import load_registry
from testbed import generate_network
from testbed.defects import DEFECTS
from testbed.institutions import load_institutions
from testbed.network import REGISTRY_COLUMNS, addresses
from testbed.resources import render_file

EXPECTED_CODES = {"PORTAL_UNREACHABLE", "ROBOTS_DISALLOWED", "NO_TRANSPARENCY_SECTION",
                  "OBLIGATION_MISSING", "LINK_BROKEN", "HARD_TO_FIND", "JUSTIFIED_ABSENCE",
                  "TLS_INVALID", "ACCESS_BLOCKED", "JS_REQUIRED", "DELEGATES_TO_PNT",
                  "SOFT_404", "ENCODING_ERROR"}


def _sample_files(net, per_ext: int = 1) -> list[bytes]:
    """Bytes of the first published xlsx, csv and pdf found (for byte-level comparison)."""
    found: dict[str, list[bytes]] = collections.defaultdict(list)
    for portal in net.portals:
        for route in net.site(portal).routes.values():
            if route.kind == "file" and len(found[route.file.ext]) < per_ext:
                found[route.file.ext].append(render_file(portal, route.file)[0])
        if all(len(found[e]) >= per_ext for e in ("xlsx", "csv", "pdf")):
            break
    assert set(found) >= {"xlsx", "csv", "pdf"}
    return [b for ext in sorted(found) for b in found[ext]]


def test_same_seed_same_bytes(catalog, tmp_path):
    first = generate_network(3, 40, catalog=catalog)
    second = generate_network(3, 40, catalog=catalog)
    a, b = first.write(tmp_path / "a"), second.write(tmp_path / "b")
    for name in a:
        assert a[name].read_bytes() == b[name].read_bytes(), name
    assert _sample_files(first) == _sample_files(second)


def test_different_seed_differs(catalog, tmp_path):
    a = generate_network(3, 40, catalog=catalog).write(tmp_path / "a")
    b = generate_network(4, 40, catalog=catalog).write(tmp_path / "b")
    assert a["registry"].read_bytes() != b["registry"].read_bytes()
    assert a["expected_checks"].read_bytes() != b["expected_checks"].read_bytes()


def test_size_50_shows_every_family_defect_and_code(net50, written50):
    families = collections.Counter(p.family for p in net50.portals)
    assert len(families) >= 5
    kinds = {d.kind for p in net50.portals for d in p.defects}
    assert kinds == {name for name, kind in DEFECTS.items() if kind.drawn}
    codes = {row.split(",")[2] for row in
             written50["expected_findings"].read_text(encoding="utf-8").splitlines()[1:]}
    assert codes >= EXPECTED_CODES
    statuses = {row.rsplit(",", 1)[1] for row in
                written50["expected_checks"].read_text(encoding="utf-8").splitlines()[1:]}
    assert statuses >= {"present", "missing", "justified", "blocked", "unreachable"}


def test_size_50_mixes_subject_kinds_and_levels(net50):
    subjects = [p.subject for p in net50.portals]
    types = {s.subject_type for s in subjects}
    assert {"ejecutivo", "legislativo", "judicial", "autonomo", "universidad",
            "partido_politico", "fideicomiso", "sindicato"} <= types
    assert {s.level for s in subjects} == {"federal", "estatal", "municipal"}
    assert any(s.level == "municipal" and s.subject_type == "ejecutivo" for s in subjects)


def test_most_portals_mostly_healthy(net50, written50):
    rows = [r.split(",") for r in
            written50["expected_checks"].read_text(encoding="utf-8").splitlines()[1:]]
    by_subject = collections.defaultdict(collections.Counter)
    for sid, _oid, status in rows:
        by_subject[sid][status] += 1
    shares = []
    for counts in by_subject.values():
        owed = sum(n for s, n in counts.items() if s != "not_applicable")
        if counts["present"]:
            shares.append(counts["present"] / owed)
    shares.sort()
    median = shares[len(shares) // 2]
    assert 0.6 <= median <= 0.95


def test_national_network_spec_is_fast_and_complete(catalog):
    started = time.monotonic()
    net = generate_network(1, 8646, catalog=catalog)
    elapsed = time.monotonic() - started
    assert elapsed < 30, f"spec of 8,646 portals took {elapsed:.1f} s"
    institutions = load_institutions()
    assert {p.subject.subject_id for p in net.portals} == {i.pnt_id for i in institutions}
    assert {p.subject.name for p in net.portals} == {i.name for i in institutions}
    assert len({p.address for p in net.portals}) == 8646
    for portal in net.portals:
        address = ipaddress.IPv4Address(portal.address)
        assert address in ipaddress.IPv4Network("127.0.0.0/8")
        assert portal.address.rsplit(".", 1)[1] not in ("0", "255")


def test_addresses_skip_network_and_broadcast_octets():
    out = addresses("127.20.0.253", 4)
    assert out == ["127.20.0.253", "127.20.0.254", "127.20.1.1", "127.20.1.2"]
    with pytest.raises(ValueError):
        addresses("10.0.0.1", 1)
    with pytest.raises(ValueError):
        addresses("127.255.255.250", 10)


def test_registry_is_valid_for_the_audit(net50, written50):
    header = written50["registry"].read_text(encoding="utf-8").splitlines()[0]
    assert tuple(header.split(",")) == REGISTRY_COLUMNS
    result = load_registry(written50["registry"])
    assert not result.issues
    assert len(result.subjects) == 50
    assert any(s.transparency_url for s in result.subjects)
    assert sum(1 for s in result.subjects if s.transparency_url) < 25


def test_network_json_describes_every_portal(net50, written50):
    data = json.loads(written50["network"].read_text(encoding="utf-8"))
    assert {k: data[k] for k in ("seed", "size", "base", "port")} == {
        "seed": net50.seed, "size": 50, "base": net50.base, "port": net50.port}
    assert len(data["portals"]) == 50
    first = data["portals"][0]
    assert {"family", "spelling", "encoding", "defects", "subject_id"} <= set(first)
