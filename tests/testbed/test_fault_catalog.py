"""The fault catalog: one portal per fault, each misbehaving as its kind says, with ground
truth. Served in a thread on loopback; every client here has a short timeout."""

from __future__ import annotations

import http.client
import socket
import time
import zlib
from collections import Counter

import pytest

from lupa.demo import free_port
from scrapers.readers import read_document
from testbed import faults
from testbed.defects import DEFECTS
from testbed.fault_catalog import CONTROL, FAULT_NAMES, FAULTS, fault_of, generate_fault_catalog
from testbed.server import serve_in_thread

BASE = "127.32.0.1"


@pytest.fixture(scope="module")
def catalog_net(catalog):
    return generate_fault_catalog(free_port(), BASE, catalog)


@pytest.fixture(scope="module")
def served(catalog_net):
    with serve_in_thread(catalog_net) as handle:
        yield handle


def _portal(net, fault):
    return next(p for p in net.portals if fault_of(p) == fault)


def _first_variant_file(net, portal, variant):
    site = net.site(portal)
    return next(key for key, route in site.routes.items()
                if route.kind == "file" and route.file.variant == variant)


def _get(portal, path, timeout=3.0, method="GET"):
    connection = http.client.HTTPConnection(portal.address, portal.port, timeout=timeout)
    connection.request(method, path, headers={"Accept-Encoding": "identity"})
    return connection, connection.getresponse()


def test_every_fault_kind_has_its_own_portal_and_a_control(catalog_net):
    kinds = {name for name, kind in DEFECTS.items() if isinstance(kind, faults.FaultKind)}
    assert kinds | {"tls_invalid", "connection_refused", CONTROL} == set(FAULT_NAMES)
    assert [fault_of(p) for p in catalog_net.portals] == list(FAULT_NAMES)
    assert "menu_anidado" not in {family for _, family, _ in FAULTS}
    assert len({p.address for p in catalog_net.portals}) == len(FAULTS)


def test_ground_truth_states_what_each_fault_must_raise(catalog_net):
    expected = {fault_of(p): catalog_net.expected(p) for p in catalog_net.portals}

    def codes(fault):
        return Counter(f.code for f in expected[fault][1])

    for fault in ("connect_timeout", "read_timeout", "connection_reset", "slow_drip",
                  "connection_refused"):
        assert codes(fault) == {"PORTAL_UNREACHABLE": 1}
        assert {status for _, _, status in expected[fault][0]} <= {"unreachable",
                                                                  "not_applicable"}
    assert codes("tls_invalid") == {"TLS_INVALID": 1}
    assert codes("wrong_charset") == {"ENCODING_ERROR": 1}
    for fault in ("redirect_loop", "redirect_chain", "private_redirect"):
        assert codes(fault)["LINK_BROKEN"] >= 3
    for fault in ("xlsx_zip_bomb", "malformed_xlsx", "malformed_pdf"):
        assert codes(fault)["NOT_MACHINE_READABLE"] >= 1
    for fault in ("control", "server_error_burst", "infinite_calendar", "session_id_trap",
                  "recursive_path_trap", "gzip_bomb"):
        assert set(codes(fault)) <= {"OUTDATED"}, fault
    assert codes("script_injection")["JUSTIFIED_ABSENCE"] >= 2


def test_a_jammed_portal_times_out_instead_of_refusing(served, catalog_net):
    portal = _portal(catalog_net, "connect_timeout")
    with pytest.raises(TimeoutError):
        socket.create_connection((portal.address, portal.port), timeout=1.0).close()
    refused = _portal(catalog_net, "connection_refused")
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection((refused.address, refused.port), timeout=1.0).close()


def test_read_timeout_reset_and_drip(served, catalog_net):
    with pytest.raises(TimeoutError):
        _get(_portal(catalog_net, "read_timeout"), "/robots.txt", timeout=1.0)
    with pytest.raises((ConnectionResetError, http.client.RemoteDisconnected)):
        _get(_portal(catalog_net, "connection_reset"), "/")
    connection, response = _get(_portal(catalog_net, "slow_drip"), "/", timeout=5.0)
    assert response.status == 200 and int(response.getheader("Content-Length")) > 1000
    started = time.monotonic()
    assert len(response.read(2)) == 2
    assert time.monotonic() - started >= 0.5  # one byte a second
    connection.close()
    connection, response = _get(_portal(catalog_net, "slow_drip"), "/robots.txt")
    assert response.status == 200 and b"User-agent" in response.read()


def test_a_burst_of_server_errors_gives_way_to_a_retry(served, catalog_net):
    portal = _portal(catalog_net, "server_error_burst")
    statuses = []
    for _ in range(faults.ServerErrorBurst.PERIOD + 2):
        connection, response = _get(portal, "/")
        response.read()
        statuses.append(response.status)
        if response.status != 200:
            assert response.getheader("Retry-After") == "1"
        connection.close()
    assert {502, 503, 504} & set(statuses) and statuses.count(200) >= len(statuses) - 3
    failed = [i for i, s in enumerate(statuses) if s != 200]
    assert all(statuses[i + 1] == 200 for i in failed if i + 1 < len(statuses))


@pytest.mark.parametrize("fault", ["redirect_loop", "redirect_chain", "private_redirect"])
def test_broken_links_redirect_and_never_land(served, catalog_net, fault):
    portal = _portal(catalog_net, fault)
    broken = [f.url for f in catalog_net.expected(portal)[1] if f.code == "LINK_BROKEN"]
    path = broken[0].split(f":{portal.port}", 1)[1]
    seen = []
    for _ in range(12):
        connection, response = _get(portal, path)
        response.read()
        connection.close()
        assert response.status == 302
        path = response.getheader("Location")
        seen.append(path)
        if not path.startswith("/"):
            break
    if fault == "private_redirect":
        assert seen[-1].startswith("http://") and f"{portal.address}" not in seen[-1]
    else:
        assert len(seen) == 12  # still redirecting


def test_hostile_files(served, catalog_net):
    portal = _portal(catalog_net, "huge_response")
    connection, response = _get(portal, _first_variant_file(catalog_net, portal, "huge"),
                                timeout=30)
    assert response.getheader("Content-Length") is None
    assert len(response.read(4 << 20)) == 4 << 20
    connection.close()
    for fault, encoding in (("gzip_bomb", "gzip"), ("deflate_bomb", "deflate")):
        portal = _portal(catalog_net, fault)
        connection, response = _get(portal, _first_variant_file(catalog_net, portal, fault),
                                timeout=30)  # a bomb is built on first use
        body = response.read()
        connection.close()
        assert response.getheader("Content-Encoding") == encoding and len(body) < 2 << 20
        unpacked = zlib.decompressobj(31 if encoding == "gzip" else 15).decompress(
            body, 64 << 20)
        assert len(unpacked) == 64 << 20 and not unpacked.strip(b"\x00")
    for fault, warning in (("xlsx_zip_bomb", "zip_bomb"), ("malformed_xlsx", "unreadable"),
                           ("malformed_pdf", "unreadable")):
        portal = _portal(catalog_net, fault)
        connection, response = _get(portal, _first_variant_file(catalog_net, portal, fault),
                                timeout=30)  # a bomb is built on first use
        body = response.read()
        connection.close()
        document = read_document(body, declared_type=response.getheader("Content-Type"))
        assert warning in document.warning_codes(), (fault, document.warnings)


def test_wrong_charset_script_injection_and_traps(served, catalog_net):
    connection, response = _get(_portal(catalog_net, "wrong_charset"), "/")
    body = response.read()
    assert "charset=utf-8" in response.getheader("Content-Type")
    with pytest.raises(UnicodeDecodeError):
        body.decode("utf-8")
    connection, response = _get(_portal(catalog_net, "script_injection"), "/")
    page = response.read().decode()
    assert faults.XSS + "</title>" in page and faults.XSS_TEXT in page
    for fault, entry, first in (
            ("infinite_calendar", "/calendario/2025/11", "/calendario/2025/11"),
            ("session_id_trap", "/agenda?sesion=1", "/agenda?sesion=1"),
            ("recursive_path_trap", "archivo/", "/archivo/archivo/")):
        portal = _portal(catalog_net, fault)
        connection, response = _get(portal, "/")
        home = response.read().decode()
        assert f'href="{entry}"' in home, fault
        connection, response = _get(portal, first)
        assert response.status == 200
        assert "<a href=" in response.read().decode()
