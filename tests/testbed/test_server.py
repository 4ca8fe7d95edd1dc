"""Serving over loopback: pages, encodings, robots.txt, unreachable portals, files."""

from __future__ import annotations

import csv
import http.client
import io
import socket
import urllib.robotparser

import openpyxl
import pytest
import requests
from testbed_helpers import element_texts, shows_title

from testbed.cli import main as cli_main
from testbed.html import JUSTIFICATION
from testbed.model import UNLISTED
from testbed.server import start_subprocess
from testbed.truth import gate_of


def _healthy(net, **wanted):
    for portal in net.portals:
        if gate_of(portal) is None and all(getattr(portal, k) == v for k, v in wanted.items()):
            return portal
    pytest.skip(f"no healthy portal with {wanted}")


def _with_defect(net, kind):
    return next(p for p in net.portals if p.has_defect(kind))


def _file_url(net, portal, ext):
    site = net.site(portal)
    for key, route in site.routes.items():
        if route.kind == "file" and route.file.ext == ext:
            return site.url(key), route
    return None, None


def _any_file(net, ext):
    for portal in net.portals:
        if gate_of(portal) is None:
            url, route = _file_url(net, portal, ext)
            if url:
                return portal, url, route
    pytest.skip(f"no {ext} file in the network")


def test_home_and_transparency_pages(served, net50):
    portal = _healthy(net50, encoding="utf-8")
    home = requests.get(portal.portal_url, timeout=5)
    assert home.status_code == 200
    assert home.headers["Content-Type"] == "text/html; charset=utf-8"
    assert int(home.headers["Content-Length"]) == len(home.content)
    text = portal.options["link_text"]
    assert text in home.text
    site = net50.site(portal)
    section = requests.get(site.transparency_url, timeout=5)
    assert section.status_code == 200 and "<main" in section.text


def test_windows_1252_page_bytes(served, net50):
    portal = _healthy(net50, encoding="windows-1252")
    response = requests.get(net50.site(portal).transparency_url, timeout=5)
    assert response.headers["Content-Type"] == "text/html; charset=windows-1252"
    assert b"charset=windows-1252" in response.content
    text = response.content.decode("cp1252")
    assert "Transparencia" in text or "TRANSPARENCIA" in text
    assert "Ã" not in text  # not UTF-8 bytes read as cp1252
    with pytest.raises(UnicodeDecodeError):
        requests.get(portal.portal_url + "contacto", timeout=5).content.decode("utf-8")


def test_undeclared_charset_page(served, net50):
    portal = _healthy(net50, encoding="windows-1252-undeclared")
    response = requests.get(portal.portal_url + "tramites", timeout=5)
    assert response.headers["Content-Type"] == "text/html"
    assert b"charset" not in response.content
    assert "Trámites".encode("cp1252") in response.content


def test_missing_obligation_is_absent_from_the_html(served, net50):
    for portal in net50.portals:
        if gate_of(portal) is not None or portal.family not in ("lista_fracciones",
                                                                 "tabla_trimestral"):
            continue
        _, entries, site = net50.build(portal)
        missing = [e for e in entries if e.state == UNLISTED]
        shown = [e for e in entries if e.state != UNLISTED and e.article == 70]
        if not missing or not shown:
            continue
        page = "/transparencia/ley-general" if portal.family == "lista_fracciones" else (
            "/transparencia")
        response = requests.get(site.url(page), timeout=5)
        texts = element_texts([response.text])
        for entry in missing:
            assert not shows_title(texts, entry.title)
        assert any(shows_title(texts, entry.title) for entry in shown)
        return
    pytest.skip("no list-style portal with a missing obligation")


def test_justified_page_says_so(served, net50):
    for portal in net50.portals:
        if gate_of(portal) is not None:
            continue
        _, entries, site = net50.build(portal)
        for entry in entries:
            layout = site.layouts.get(entry.key)
            if layout is not None and layout.note_url:
                response = requests.get(layout.note_url, timeout=5)
                assert response.status_code == 200
                assert JUSTIFICATION in response.content.decode(response.encoding or "cp1252")
                return
    pytest.fail("no justified entry")


def test_robots_txt_of_a_disallowing_portal(served, net50):
    portal = _with_defect(net50, "robots_disallowed")
    response = requests.get(portal.base_url + "/robots.txt", timeout=5)
    assert response.status_code == 200
    parser = urllib.robotparser.RobotFileParser()
    parser.parse(response.text.splitlines())
    assert not parser.can_fetch("LupaBot", portal.portal_url)
    healthy = _healthy(net50)
    ok = urllib.robotparser.RobotFileParser()
    ok.parse(requests.get(healthy.base_url + "/robots.txt", timeout=5).text.splitlines())
    assert ok.can_fetch("LupaBot", healthy.portal_url)


def test_unreachable_portals(served, net50):
    refused = _with_defect(net50, "connection_refused")
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection((refused.address, refused.port), timeout=2)
    down = _with_defect(net50, "service_unavailable")
    assert requests.get(down.portal_url, timeout=5).status_code == 503


def test_no_transparency_section_home(served, net50):
    portal = _with_defect(net50, "no_transparency_section")
    home = requests.get(portal.portal_url, timeout=5)
    text = home.content.decode(home.encoding or "cp1252")
    assert home.status_code == 200 and "ransparencia" not in text


def test_unknown_path_404_and_keep_alive(served, net50):
    portal = _healthy(net50)
    conn = http.client.HTTPConnection(portal.address, portal.port, timeout=5)
    conn.request("GET", "/no/existe")
    first = conn.getresponse()
    assert first.status == 404
    first.read()
    conn.request("HEAD", "/")
    second = conn.getresponse()
    assert second.status == 200 and second.read() == b""
    assert int(second.getheader("Content-Length")) > 0
    conn.close()


def test_xlsx_export_layout(served, net50):
    portal, url, route = _any_file(net50, "xlsx")
    response = requests.get(url, timeout=10)
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/vnd.openxmlformats")
    book = openpyxl.load_workbook(io.BytesIO(response.content))
    sheet = book["Información"]
    labels = [sheet.cell(row, 1).value for row in range(1, 5)]
    assert labels == ["Nombre del Sujeto Obligado:", "Normativa:", "Formato:", "Periodo:"]
    assert portal.subject.name in sheet["B1"].value
    assert sheet["A5"].value is None
    header = [c.value for c in sheet[6]]
    assert header[:3] == ["ID", "FECHA CREACION", "FECHA MODIFICACION"]
    assert all(h == h.upper() and "," not in h for h in header if h)
    assert sheet.max_row > 6
    assert requests.get(url, timeout=10).content == response.content


def test_xlsx_with_catalogs_and_subtables(net50):
    from dataclasses import replace

    from testbed.resources import render_file

    for portal in net50.portals:
        _, entries, _ = net50.build(portal)
        for entry in entries:
            for plan in entry.files:
                if plan.obligation.obligation_id == "70-VIII":
                    body, _ = render_file(portal, replace(plan, ext="xlsx"))
                    book = openpyxl.load_workbook(io.BytesIO(body))
                    assert "Hidden_1" in book.sheetnames and "Tabla_325313" in book.sheetnames
                    table = book["Tabla_325313"]
                    assert table["A1"].value == "Información relacionada a:"
                    assert table["A3"].value == "ID"
                    main = book["Información"]
                    ids = {main.cell(r, 1).value for r in range(7, main.max_row + 1)}
                    assert table["A4"].value in ids
                    return
    pytest.fail("no Fr. VIII file")


def test_csv_decodes(served, net50):
    portal, url, _ = _any_file(net50, "csv")
    response = requests.get(url, timeout=10)
    charset = response.headers["Content-Type"].split("charset=")[1]
    text = response.content.decode(charset)
    rows = list(csv.reader(io.StringIO(text), delimiter=portal.options["csv_delimiter"]))
    assert rows[0][0] == "ID" and len(rows) > 1 and len(rows[1]) == len(rows[0])


def test_pdf_is_a_pdf(served, net50):
    _, url, _ = _any_file(net50, "pdf")
    response = requests.get(url, timeout=10)
    assert response.headers["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")


def test_cli_generate(tmp_path, capsys):
    assert cli_main(["generate", "--seed", "2", "--size", "12", "--out", str(tmp_path)]) == 0
    assert (tmp_path / "registry.csv").exists()
    assert (tmp_path / "ground_truth" / "expected_checks.csv").exists()
    assert "registry" in capsys.readouterr().out


def test_start_subprocess_serves_until_stopped(tmp_path, catalog):
    from testbed_helpers import free_base_and_port

    base, port = free_base_and_port()
    parts = base.split(".")
    base = ".".join(parts[:2] + [str((int(parts[2]) + 100) % 250 + 1), "1"])
    with socket.socket() as probe:
        probe.bind((base, 0))
        port = probe.getsockname()[1]
    handle = start_subprocess(5, 8, tmp_path, port=port, base=base, timeout=60,
                              catalog=catalog)
    try:
        portal = next(p for p in handle.network.bound_portals()
                      if not p.has_defect("service_unavailable"))
        assert requests.get(portal.portal_url, timeout=5).status_code == 200
        assert (tmp_path / "registry.csv").exists()
    finally:
        assert handle.stop() is not None
    with pytest.raises(OSError):
        socket.create_connection((portal.address, port), timeout=1)
