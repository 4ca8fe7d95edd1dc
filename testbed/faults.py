"""The fault catalog's kinds: how hostile servers and malicious files misbehave.

Each kind is a ``testbed.defects.DefectKind`` that is never drawn at random (``drawn``
False): only ``testbed.fault_catalog`` places it, one fault per portal, so that every fault
is tried on its own and its outcome can be told apart. ``expected`` says in a line what the
audit must make of it (``make reliability`` prints it next to what it saw).

* transport faults on the whole portal (PORTAL_UNREACHABLE for every applicable obligation):
  ``connect_timeout`` (the address listens but its accept queue is full, so connections
  time out instead of being refused), ``read_timeout`` (requests are read and never
  answered), ``connection_reset`` (every connection is reset), ``slow_drip`` (the home page
  arrives one byte a second, which no per-read timeout catches);
* faults the ground truth does not see, because a sound crawler absorbs them:
  ``server_error_burst`` (bursts of 502/503/504 that a retry gets past),
  ``script_injection`` (markup and script in titles, link texts and a justification note:
  stored and shown as text, never run), crawler traps (``infinite_calendar``,
  ``session_id_trap``, ``recursive_path_trap``: links that lead to endless made-up pages);
* broken links of a new kind (LINK_BROKEN, as a 404 would be): ``redirect_loop``,
  ``redirect_chain`` (50 hops), ``private_redirect`` (to the cloud metadata address,
  private networks, the machine itself);
* hostile files under document URLs (document kinds): ``huge_response`` (4 GiB, no
  Content-Length), ``gzip_bomb`` and ``deflate_bomb`` (1 GiB of zeros in about a megabyte
  of Content-Encoding), ``xlsx_zip_bomb`` (a valid workbook whose sheet unpacks to 512 MiB),
  ``malformed_xlsx`` and ``malformed_pdf`` (truncated or garbage); bombs and huge bodies are
  cut at the download cap and raise nothing (Lupa's own limit, not the portal's fault),
  damaged files are NOT_MACHINE_READABLE;
* ``wrong_charset``: windows-1252 pages declared UTF-8 in the header and the page
  (ENCODING_ERROR for the portal).

The https portal with an invalid certificate is the random network's ``tls_invalid`` kind,
and a portal that refuses connections its ``connection_refused``; the catalog places them
too.
"""

from __future__ import annotations

import io
import random
import threading
import zipfile
import zlib
from typing import ClassVar
from urllib.parse import parse_qs, urlsplit

from audit.findings import Code
from testbed import html
from testbed.defects import (
    PUBLISHED,
    DefectKind,
    DocumentKind,
    Gate,
    Response,
    _broken_modes,
    _files_of_type,
    _page,
    _path,
    _pick,
    break_entry,
    register,
)
from testbed.model import JUSTIFIED, PortalSpec
from testbed.resources import XLSX_TYPE

HUGE_BYTES = 4 << 30
BOMB_BYTES = 1 << 30
XLSX_BOMB_BYTES = 512 << 20
XSS = "<script>window.lupaXss=1</script>"
XSS_IMG = '<img src=x onerror="window.lupaXss=2">'
XSS_TEXT = html.escape(XSS + XSS_IMG)  # shown as text on the portal, stored as such


class FaultKind(DefectKind):
    """A kind only the fault catalog places."""

    drawn = False
    guaranteed = 0
    expected: ClassVar[str] = ""


class TransportFault(FaultKind):
    """The whole portal fails below HTTP: PORTAL_UNREACHABLE for every obligation. Every
    request gets ``transport`` (``Response.transport``) unless a subclass says otherwise."""

    codes = (Code.PORTAL_UNREACHABLE,)
    scope = "portal"
    transport: ClassVar[str] = ""

    def intercept(self, portal: PortalSpec, path: str) -> Response | None:
        return Response(0, b"", transport=self.transport) if self.transport else None

    def gate(self, portal: PortalSpec) -> Gate:
        return Gate("unreachable", Code.PORTAL_UNREACHABLE, portal.portal_url)


# ---- transport -------------------------------------------------------------------------
@register
class ConnectTimeout(TransportFault):
    name = "connect_timeout"
    expected = "connections time out: PORTAL_UNREACHABLE"

    def binds(self, portal: PortalSpec) -> bool:
        return False

    def jams(self, portal: PortalSpec) -> bool:
        return True


@register
class ReadTimeout(TransportFault):
    name = "read_timeout"
    expected = "requests never answered: PORTAL_UNREACHABLE"
    transport = "hang"


@register
class ConnectionReset(TransportFault):
    name = "connection_reset"
    expected = "every connection reset: PORTAL_UNREACHABLE"
    transport = "reset"


@register
class SlowDrip(TransportFault):
    name = "slow_drip"
    expected = "home page drips 1 byte/s, cut at the time cap: PORTAL_UNREACHABLE"

    def intercept(self, portal: PortalSpec, path: str) -> Response | None:
        if _path(path) != "/":
            return None
        body = html.document(portal, "Inicio", html.home_body(portal, None), None)
        content, content_type = html.page_bytes(portal, body)
        return Response(200, content, content_type, transport="drip")


# ---- absorbed by a sound crawler -------------------------------------------------------
@register
class ServerErrorBurst(FaultKind):
    """Three requests in every ``PERIOD`` fall in a burst; in a burst, the first try of a
    path (and every other try after it) gets 502, 503 or 504 with Retry-After: 1, so one
    retry gets past it. robots.txt is always served."""

    name = "server_error_burst"
    expected = "5xx bursts absorbed by retries: the ground truth holds"
    PERIOD, BURST = 50, (3, 4, 5)

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._requests: dict[int, int] = {}
        self._tries: dict[tuple[int, str], int] = {}

    def intercept(self, portal: PortalSpec, path: str) -> Response | None:
        if _path(path) == "/robots.txt":
            return None
        with self._lock:
            count = self._requests.get(portal.index, 0)
            self._requests[portal.index] = count + 1
            tries = self._tries.get((portal.index, path), 0)
            self._tries[(portal.index, path)] = tries + 1
        if count % self.PERIOD not in self.BURST or tries % 2:
            return None
        status = (502, 503, 504)[count % 3]
        body = f"<html><body><h1>{status}</h1><p>Error del servidor</p></body></html>"
        return Response(status, body.encode(), headers=(("Retry-After", "1"),))


@register
class ScriptInjection(FaultKind):
    """Markup in titles (raw: a title is text to the browser, so it reaches the audit as
    text), escaped markup in link texts and in a justification note, which the audit quotes
    in its JUSTIFIED_ABSENCE message: the reports must show it all as text."""

    name = "script_injection"
    codes = (Code.JUSTIFIED_ABSENCE,)
    expected = "markup in titles, links and notes kept as text: the ground truth holds"

    def shape_entries(self, portal, spec, entries, rng) -> None:
        for entry in _pick(entries, rng, 0.05, at_least=2,
                           ok=lambda e: e.state == PUBLISHED and not e.shared):
            entry.state = JUSTIFIED
            entry.files = ()

    def transform_page(self, portal: PortalSpec, text: str) -> str:
        text = text.replace("</title>", XSS + "</title>", 1)
        text = text.replace(html.JUSTIFICATION, f"{html.JUSTIFICATION} {XSS_TEXT}")
        return _inject_link_texts(text)


def _inject_link_texts(text: str) -> str:
    """Append the escaped payload and a live ``<img onerror>`` to every third link text."""
    parts = text.split("</a>")
    for i in range(0, len(parts) - 1, 3):
        parts[i] += f" {XSS_TEXT}{XSS_IMG}"
    return "</a>".join(parts)


def _add_link(text: str, href: str, label: str) -> str:
    """``text`` with one more link, in the footer when the page has one."""
    anchor = f'<p>{html.link(href, label)}</p>'
    for marker in ("</footer>", "</body>"):
        if marker in text:
            return text.replace(marker, anchor + marker, 1)
    return text + anchor


class CrawlerTrap(FaultKind):
    """A link on every page into made-up pages that never end."""

    expected = "crawl stays bounded: the ground truth holds"
    prefix: ClassVar[str] = ""
    label: ClassVar[str] = ""

    def entry(self) -> str:
        return self.prefix

    def transform_page(self, portal: PortalSpec, text: str) -> str:
        return _add_link(text, self.entry(), self.label)

    def intercept(self, portal: PortalSpec, path: str) -> Response | None:
        if not _path(path).startswith(self.prefix.rstrip("/")):
            return None
        title, links = self.page(path)
        body = f"<h2>{html.escape(title)}</h2><ul>" + "".join(
            f"<li>{html.link(href, text)}</li>" for href, text in links) + "</ul>"
        return _page(portal, title, body)

    def page(self, path: str) -> tuple[str, list[tuple[str, str]]]:
        raise NotImplementedError


@register
class InfiniteCalendar(CrawlerTrap):
    name = "infinite_calendar"
    prefix = "/calendario/"
    label = "Calendario de actividades"

    def entry(self) -> str:
        return "/calendario/2025/11"

    def page(self, path):
        numbers = [int(p) for p in _path(path).split("/")[2:] if p.isdigit()] or [2025, 11]
        year, month = numbers[0], (numbers[1] if len(numbers) > 1 else 1)
        before = (year, month - 1) if month > 1 else (year - 1, 12)
        after = (year, month + 1) if month < 12 else (year + 1, 1)
        links = [(f"/calendario/{before[0]}/{before[1]}", "« Mes anterior"),
                 (f"/calendario/{after[0]}/{after[1]}", "Mes siguiente »")]
        links += [(f"/calendario/{year}/{month}/{day}", f"Actividades del {day}")
                  for day in (1, 8, 15, 22)]
        return f"Calendario {month:02d}/{year}", links


@register
class SessionIdTrap(FaultKind):
    """Every page links ``/agenda?sesion=N``; each of those links ``sesion=N+1``."""

    name = "session_id_trap"
    expected = CrawlerTrap.expected

    def transform_page(self, portal: PortalSpec, text: str) -> str:
        return _add_link(text, "/agenda?sesion=1", "Agenda")

    def intercept(self, portal: PortalSpec, path: str) -> Response | None:
        if _path(path) != "/agenda":
            return None
        value = parse_qs(urlsplit(path).query).get("sesion", ["1"])[0]
        number = int(value) if value.isdigit() else 1
        body = (f"<h2>Agenda</h2><p>Sesión {number}</p>"
                + html.link(f"/agenda?sesion={number + 1}", "Ver agenda"))
        return _page(portal, "Agenda", body)


@register
class RecursivePathTrap(CrawlerTrap):
    """A relative ``archivo/`` link on every page: each answer links one level deeper."""

    name = "recursive_path_trap"
    prefix = "/archivo/"
    label = "Archivo histórico"

    def entry(self) -> str:
        return "archivo/"

    def intercept(self, portal: PortalSpec, path: str) -> Response | None:
        if "/archivo/" not in _path(path) + "/":
            return None
        return _page(portal, "Archivo histórico",
                     "<h2>Archivo histórico</h2>" + html.link("archivo/", "Archivo"))


# ---- broken links of a new kind ---------------------------------------------------------
class RedirectingBreak(FaultKind):
    """Some links of the portal (an obligation's page, all or some of its files) lead into
    a redirect that never lands; every path the site lacks answers so."""

    codes = (Code.LINK_BROKEN,)
    expected = "links that never land: LINK_BROKEN per link"

    def shape_entries(self, portal, spec, entries, rng) -> None:
        chosen = _pick(entries, rng, 0.08, at_least=3,
                       ok=lambda e: e.state == PUBLISHED and not e.shared and e.files)
        for entry, mode in _broken_modes(chosen, rng):
            break_entry(entry, mode, rng)

    def not_found(self, portal: PortalSpec, path: str) -> Response:
        return Response(302, b"", headers=(("Location", self.location(portal, path)),))

    def location(self, portal: PortalSpec, path: str) -> str:
        raise NotImplementedError


@register
class RedirectLoop(RedirectingBreak):
    name = "redirect_loop"

    def location(self, portal, path):
        parts = urlsplit(path)
        return parts.path if "bucle" in parts.query else f"{parts.path}?bucle=1"


@register
class RedirectChain(RedirectingBreak):
    name = "redirect_chain"
    HOPS = 50

    def location(self, portal, path):
        parts = urlsplit(path)
        hop = parse_qs(parts.query).get("salto", ["0"])[0]
        number = int(hop) if hop.isdigit() else 0
        if number >= self.HOPS:
            return "/"
        return f"{parts.path}?salto={number + 1}"


@register
class PrivateRedirect(RedirectingBreak):
    name = "private_redirect"
    expected = "redirects to private and link-local addresses refused: LINK_BROKEN per link"

    def location(self, portal, path):
        targets = ("http://169.254.169.254/latest/meta-data/iam/security-credentials/",
                   "http://10.0.0.1/admin/", f"http://127.0.0.1:{portal.port}/",
                   "http://[::1]/", "http://0x7f.1/", "http://localhost/")
        return targets[sum(path.encode()) % len(targets)]


# ---- hostile files ---------------------------------------------------------------------
class HostileFile(DocumentKind, FaultKind):
    """``ext`` files of about ``rate`` of the entries (at least one) answered with hostile
    bytes."""

    dated = False
    has_records = False
    ext: ClassVar[str] = "xlsx"

    def draw_params(self, rng: random.Random) -> tuple[tuple[str, object], ...]:
        return (("rate", 0.1),)

    def candidates(self, portal, entry) -> list[int]:
        return _files_of_type(entry, self.ext)

    def file_response(self, portal: PortalSpec, route) -> Response | None:
        if route.file is None or route.file.variant != self.variant:
            return None
        return self.answer(portal, route)

    def answer(self, portal: PortalSpec, route) -> Response:
        raise NotImplementedError


_cache: dict[str, bytes] = {}
_cache_lock = threading.Lock()


def _cached(name: str, build) -> bytes:
    """Bombs cost seconds to build: once per process."""
    with _cache_lock:
        if name not in _cache:
            _cache[name] = build()
        return _cache[name]


def compressed_zeros(size: int, wbits: int) -> bytes:
    """``size`` zero bytes compressed as gzip (wbits 31) or zlib/deflate (wbits 15)."""
    packer = zlib.compressobj(9, zlib.DEFLATED, wbits)
    block = bytes(1 << 20)
    parts = [packer.compress(block) for _ in range(size // len(block))]
    parts.append(packer.flush())
    return b"".join(parts)


def xlsx_bomb(sheet_bytes: int) -> bytes:
    """A well-formed workbook whose one sheet unpacks to about ``sheet_bytes``."""
    row = b'<row><c t="inlineStr"><is><t>0</t></is></c></row>'
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        archive.writestr("[Content_Types].xml", (
            '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats'
            '.org/package/2006/content-types"><Default Extension="rels" ContentType="'
            'application/vnd.openxmlformats-package.relationships+xml"/><Default Extension='
            '"xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" '
            'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.'
            'main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="'
            'application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
            '</Types>'))
        archive.writestr("_rels/.rels", (
            '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.'
            'openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="'
            'http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
            'officeDocument" Target="xl/workbook.xml"/></Relationships>'))
        archive.writestr("xl/workbook.xml", (
            '<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.'
            'openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.'
            'openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="'
            'Reporte" sheetId="1" r:id="rId1"/></sheets></workbook>'))
        archive.writestr("xl/_rels/workbook.xml.rels", (
            '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.'
            'openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="'
            'http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" '
            'Target="worksheets/sheet1.xml"/></Relationships>'))
        with archive.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as sheet:
            sheet.write(b'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://'
                        b'schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>')
            block = row * ((1 << 20) // len(row))
            for _ in range(sheet_bytes // len(block)):
                sheet.write(block)
            sheet.write(b"</sheetData></worksheet>")
    return out.getvalue()


@register
class HugeResponse(HostileFile):
    name = "huge_response"
    variant = "huge"
    expected = "4 GiB without Content-Length, cut at the download cap: no finding of its own"

    def answer(self, portal, route) -> Response:
        return Response(200, b"\x00" * 65536, XLSX_TYPE, transport="stream", size=HUGE_BYTES)


@register
class GzipBomb(HostileFile):
    name = "gzip_bomb"
    variant = "gzip_bomb"
    expected = "1 GiB behind gzip, cut once decoded: no finding of its own"
    wbits, encoding = 31, "gzip"

    def answer(self, portal, route) -> Response:
        body = _cached(self.name, lambda: compressed_zeros(BOMB_BYTES, self.wbits))
        return Response(200, body, XLSX_TYPE, (("Content-Encoding", self.encoding),))


@register
class DeflateBomb(GzipBomb):
    name = "deflate_bomb"
    variant = "deflate_bomb"
    expected = "1 GiB behind deflate, cut once decoded: no finding of its own"
    wbits, encoding = 15, "deflate"


@register
class XlsxZipBomb(HostileFile):
    name = "xlsx_zip_bomb"
    variant = "xlsx_zip_bomb"
    codes = (Code.NOT_MACHINE_READABLE,)
    expected = "xlsx unpacking to 512 MiB refused unopened: NOT_MACHINE_READABLE"

    def answer(self, portal, route) -> Response:
        return Response(200, _cached(self.name, lambda: xlsx_bomb(XLSX_BOMB_BYTES)), XLSX_TYPE)


@register
class MalformedXlsx(HostileFile):
    name = "malformed_xlsx"
    variant = "malformed_xlsx"
    codes = (Code.NOT_MACHINE_READABLE,)
    expected = "truncated xlsx: NOT_MACHINE_READABLE"

    def answer(self, portal, route) -> Response:
        from dataclasses import replace

        from testbed.resources import render_file

        body, content_type = render_file(portal, replace(route.file, variant=""))
        return Response(200, body[: len(body) * 3 // 5], content_type)


@register
class MalformedPdf(HostileFile):
    name = "malformed_pdf"
    variant = "malformed_pdf"
    codes = (Code.NOT_MACHINE_READABLE,)
    expected = "PDF of garbage: NOT_MACHINE_READABLE"
    ext = "pdf"

    def answer(self, portal, route) -> Response:
        noise = random.Random(route.file.index).randbytes(4096)
        return Response(200, b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n" + noise + b"\n%%EOF\n",
                        "application/pdf")


# ---- encoding --------------------------------------------------------------------------
@register
class WrongCharset(FaultKind):
    """Set by the catalog as the portal's encoding ('windows-1252-mislabelled'): this kind
    only states the finding."""

    name = "wrong_charset"
    codes = (Code.ENCODING_ERROR,)
    expected = "windows-1252 pages declared UTF-8: ENCODING_ERROR for the portal"

    def portal_findings(self, portal: PortalSpec) -> list[tuple[Code, str]]:
        return [(Code.ENCODING_ERROR, portal.portal_url)]
