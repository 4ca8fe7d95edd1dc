"""Opacity signals: what a page *is* (a JavaScript shell, a captcha, a firewall's or login
page, an error page answered 200, mojibake), from HTML snippets and recorded portals."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

from audit.subjects import Subject
from scrapers.crawl import (
    CrawlSettings,
    HomeFetch,
    PageVisit,
    PortalHarvest,
    crawl_portal,
)
from scrapers.discovery import find_mojibake, normalize_url, page_signals
from scrapers.recorded import RecordedSource

_SPEC = importlib.util.spec_from_file_location(
    "lupa_test_fixture_catalog_signals", Path(__file__).parent / "snippets" / "fixture_catalog.py"
)
_MODULE = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(_MODULE)
CATALOG = _MODULE.FixtureCatalog()

HTML = {"Content-Type": "text/html; charset=utf-8"}
XLSX = {"Content-Type": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
BASE = "http://municipio.example.gob.mx"
HOME = BASE + "/"

WAF = (
    "<html><head><title>Request Rejected</title></head><body>The requested URL was rejected. "
    "Please consult with your administrator.<br><br>Your support ID is: 1404897735276315683"
    "<br><br><a href='javascript:history.back();'>[Go Back]</a></body></html>"
)
CAPTCHA = (
    "<html><head><title>Verificación de seguridad</title>"
    '<script src="https://www.google.com/recaptcha/api.js"></script></head><body>'
    '<h1>Verificación</h1><form><div class="g-recaptcha" data-sitekey="x"></div></form>'
    "</body></html>"
)
REACT_SHELL = (
    '<!DOCTYPE html><html><head><title>Municipio</title></head><body><noscript>Necesitas '
    'habilitar JavaScript para ver este sitio.</noscript><div id="root"></div>'
    '<script src="/static/js/runtime.1a2b.js"></script>'
    '<script src="/static/js/main.1a2b.js"></script></body></html>'
)
CHROME_LINKS = (
    '<nav><a href="/">Inicio</a> <a href="/nosotros">Nosotros</a> '
    '<a href="/noticias">Noticias</a> <a href="/transparencia">Transparencia</a></nav>'
)


def page(body: str, title: str = "Municipio de Prueba") -> tuple[int, dict, str]:
    return (
        200,
        HTML,
        f"<!DOCTYPE html><html><head><title>{title}</title></head><body>"
        f"<header><h1>Municipio de Prueba</h1></header>{CHROME_LINKS}<main>{body}</main>"
        "<footer><a href='/contacto'>Contacto</a> Domicilio conocido</footer></body></html>",
    )


def xlsx() -> tuple[int, dict, bytes]:
    return 200, XLSX, b"PK\x03\x04xl/workbook.xml" + b"\x00" * 16


def crawl(pages: dict, *, errors: dict | None = None, disallow=()) -> PortalHarvest:
    subject = Subject("S-9", "Municipio de Prueba", "", "municipal", "Jalisco", "ejecutivo", HOME)
    source = RecordedSource(pages, errors=errors, disallow=disallow)
    return crawl_portal(subject, source, CATALOG, CrawlSettings())


HOME_PAGE = page(
    "<h2>Bienvenidos</h2><p>Noticias del municipio y servicios en línea.</p>"
    '<p><a href="/transparencia">Transparencia</a></p>'
)
SECTION = page(
    "<h2>Obligaciones de transparencia</h2><ul>"
    '<li><a href="/transparencia/fraccion-i">Fracción I. Marco normativo</a></li>'
    '<li><a href="/transparencia/fraccion-vii">Fracción VII. Directorio</a></li>'
    '<li><a href="/transparencia/fraccion-viii">Fracción VIII. Remuneración</a></li>'
    "</ul>"
)


# --------------------------------------------------------------------------- page signals


@pytest.mark.parametrize(
    ("html", "block"),
    [
        (WAF, "waf"),
        (CAPTCHA, "captcha"),
        ("<html><head><title>Attention Required! | Cloudflare</title></head>"
         "<body><h1>Sorry, you have been blocked</h1></body></html>", "waf"),
        ("<html><body><h1>Acceso</h1><form><input name=u><input type='password' name=p>"
         "</form></body></html>", "login"),
        ("<html><head><title>Iniciar sesión</title></head><body><p>Área restringida</p>"
         "</body></html>", "login"),
        ("<html><body><h1>Remuneraciones</h1><p>Tabla de sueldos.</p></body></html>", None),
    ],
)
def test_block_pages(html, block):
    assert page_signals(html).block == block


def test_a_login_box_on_a_rich_home_page_is_no_login_wall():
    links = "".join(f'<li><a href="/n/{i}">Noticia {i}</a></li>' for i in range(30))
    html = (f"<html><body><ul>{links}</ul><form><input type='password' name='p'></form>"
            "</body></html>")
    assert page_signals(html).block is None


@pytest.mark.parametrize(
    ("html", "cue"),
    [
        ("<html><head><title>Página no encontrada</title></head><body></body></html>",
         "pagina no encontrada"),
        ("<html><head><title>404 | Municipio</title></head><body>x</body></html>", "404"),
        ("<html><body><h2>Error 404</h2></body></html>", "error 404"),
        ("<html><body><p>Lo sentimos, la página que busca no existe.</p></body></html>",
         "la pagina que busca no existe"),
        ("<html><head><title>Acuerdo 404/2025</title></head><body>x</body></html>", ""),
        # a note of absence is a justification, not an error page
        ("<html><body><p>No existe información: el documento solicitado no existe en los "
         "archivos porque no se generó en el periodo.</p></body></html>", ""),
    ],
)
def test_error_page_wording(html, cue):
    assert page_signals(html).error_cue == cue


def test_script_shell_signals():
    signals = page_signals(REACT_SHELL)
    assert (signals.scripts, signals.app_root) == (2, "div#root")
    assert "JavaScript" in signals.noscript
    angular = page_signals("<html><body><app-root></app-root><script src='main.js'></script>"
                           "</body></html>")
    assert angular.app_root == "app-root"
    assert page_signals("<html><body><div id='root'><p>Hola</p></div></body></html>").app_root == ""


def test_mojibake():
    assert find_mojibake("Información pública, Fracción VIII, niñas") == ""
    assert "FracciÃ³n" in find_mojibake("La FracciÃ³n VIII: RemuneraciÃ³n bruta")
    assert find_mojibake("Fracci\ufffdn VIII Remuneraci\ufffdn") != ""
    assert find_mojibake("â€œcomillasâ€\x9d") != ""
    assert find_mojibake("una sola FracciÃ³n") == ""  # one mark is not enough
    assert page_signals("<html><body><p>InformaciÃ³n PÃºblica</p></body></html>").mojibake


# --------------------------------------------------------------------------- soft 404


def _portal_with(dead_page, probe=None):
    """A portal whose fraction VIII page answers ``dead_page`` and whose unknown paths
    answer ``probe`` (None: a real 404)."""
    pages = {
        HOME: HOME_PAGE,
        BASE + "/transparencia": SECTION,
        BASE + "/transparencia/fraccion-i": page(
            "<h2>Fracción I</h2><a href='/docs/marco.xlsx'>Marco normativo 2025</a>"),
        BASE + "/docs/marco.xlsx": xlsx(),
        BASE + "/transparencia/fraccion-vii": page(
            "<h2>Fracción VII</h2><p>No se generó información en el periodo.</p>"),
        BASE + "/transparencia/fraccion-viii": dead_page,
    }
    return pages, probe


class _SoftSource(RecordedSource):
    """Unknown paths answer ``probe`` instead of 404."""

    def __init__(self, pages, probe):
        super().__init__(pages)
        self._probe = probe

    def _fetch(self, url):
        key = normalize_url(url)
        if self._probe is not None and key not in self._pages:
            self._pages[key] = self._probe
        return super()._fetch(url)


def _crawl_soft(pages, probe) -> PortalHarvest:
    subject = Subject("S-9", "Municipio de Prueba", "", "municipal", "Jalisco", "ejecutivo", HOME)
    return crawl_portal(subject, _SoftSource(pages, probe), CATALOG, CrawlSettings())


def test_error_page_with_error_words_is_a_soft_404():
    dead = page("<h2>Página no encontrada</h2><p>La dirección no existe.</p>",
                title="Página no encontrada")
    harvest = _crawl_soft(*_portal_with(dead))
    hit = harvest.hit("70-VIII")
    assert (hit.status_code, hit.anomaly) == (200, "soft_404")
    assert "pagina no encontrada" in hit.anomaly_detail
    assert harvest.hit("70-I").anomaly is None and harvest.hit("70-VII").anomaly is None
    assert harvest.not_found_probe.status_code == 404  # the probe found a real 404


def test_error_page_without_error_words_matches_the_probe():
    sorry = "<h2>Aviso</h2><p>Lo sentimos, por el momento no fue posible mostrar la " \
            "información solicitada ({}).</p>"
    dead = page(sorry.format("/transparencia/fraccion-viii"), title="Aviso")
    probe = page(sorry.format("/lupa-404-0123456789ab"), title="Aviso")
    harvest = _crawl_soft(*_portal_with(dead, probe))
    assert harvest.not_found_probe.status_code == 200
    assert harvest.not_found_probe.url.startswith(BASE + "/lupa-404-")
    assert harvest.hit("70-VIII").anomaly == "soft_404"
    assert "dirección inexistente" in harvest.hit("70-VIII").anomaly_detail
    assert harvest.hit("70-I").anomaly is None  # it lists a file: content, not an error
    assert [r["purpose"] for r in harvest.fetches].count("probe") == 1


def test_dead_links_redirected_to_the_home_page():
    redirect = (302, {"Location": "/"}, "")
    pages, _ = _portal_with(redirect)
    pages[BASE + "/docs/viejo.xlsx"] = redirect
    pages[BASE + "/transparencia/fraccion-i"] = page(
        "<h2>Fracción I</h2><a href='/docs/marco.xlsx'>2025</a> "
        "<a href='/docs/viejo.xlsx'>2024</a>")
    harvest = _crawl_soft(pages, redirect)
    assert harvest.hit("70-VIII").anomaly == "soft_404"
    files = {r.url.rsplit("/", 1)[1]: r.anomaly for r in harvest.hit("70-I").resources}
    assert files == {"marco.xlsx": None, "viejo.xlsx": "soft_404"}


def test_a_site_answering_every_path_with_its_home_page():
    pages, _ = _portal_with(HOME_PAGE)
    harvest = _crawl_soft(pages, HOME_PAGE)
    assert harvest.hit("70-VIII").anomaly == "soft_404"
    assert harvest.home.anomaly is None and harvest.transparency_url == BASE + "/transparencia"


# --------------------------------------------------------------------------- refusals


def test_captcha_home_page():
    harvest = crawl({HOME: (200, HTML, CAPTCHA)})
    assert (harvest.home.anomaly, harvest.unreachable) == ("captcha", False)
    assert harvest.transparency_url is None and harvest.hits == []


def test_firewall_home_page_answered_403():
    harvest = crawl({HOME: (403, HTML, WAF)})
    assert (harvest.home.status_code, harvest.home.anomaly) == (403, "waf")
    assert "request rejected" in harvest.home.anomaly_detail


def test_firewall_answering_503_is_a_refusal_not_an_outage():
    cloudflare = ("<html><head><title>Just a moment...</title></head><body>Checking your "
                  "browser before accessing the site.</body></html>")
    harvest = crawl({HOME: (503, HTML, cloudflare)})
    assert harvest.home.anomaly == "captcha" and not harvest.unreachable


@pytest.mark.parametrize(
    ("section", "anomaly", "status"),
    [
        ((401, {**HTML, "WWW-Authenticate": "Basic"}, "<h1>Authorization Required</h1>"),
         "login", 401),
        ((403, HTML, "<h1>Prohibido</h1>"), None, 403),
        ((302, {"Location": "/login?next=%2Ftransparencia"}, ""), "login", 200),
    ],
)
def test_login_wall_on_the_section(section, anomaly, status):
    login = page("<h2>Acceso al sistema</h2><form><input name='usuario'>"
                 "<input type='password' name='clave'></form>", title="Iniciar sesión")
    harvest = crawl({HOME: HOME_PAGE, BASE + "/transparencia": section,
                     BASE + "/login?next=%2Ftransparencia": login})
    assert harvest.transparency_url is None and harvest.hits == []
    blocked = harvest.blocked_section
    assert (blocked.url, blocked.status_code, blocked.anomaly) == (
        BASE + "/transparencia", status, anomaly)


def test_block_page_served_as_a_pdf():
    pages = {
        HOME: HOME_PAGE,
        BASE + "/transparencia": SECTION,
        BASE + "/transparencia/fraccion-i": page(
            "<h2>Fracción I</h2><a href='/docs/marco.pdf'>Marco normativo 2025</a>"),
        BASE + "/docs/marco.pdf": (200, {"Content-Type": "application/pdf"}, WAF),
    }
    harvest = crawl(pages)
    (resource,) = harvest.hit("70-I").resources
    assert (resource.declared_type, resource.sniffed_type) == ("application/pdf", "text/html")
    assert (resource.anomaly, resource.bytes) == ("waf", len(WAF))


# --------------------------------------------------------------------------- shells, PNT


def test_script_shell_home_is_summarised():
    harvest = crawl({HOME: (200, HTML, REACT_SHELL)})
    home = harvest.home
    assert (home.links, home.scripts, home.app_root) == (0, 2, "div#root")
    assert home.text_chars < 50 and "JavaScript" in home.noscript
    assert harvest.transparency_url is None and harvest.hits == []


def test_script_shell_section_is_summarised():
    harvest = crawl({HOME: HOME_PAGE, BASE + "/transparencia": (200, HTML, REACT_SHELL)})
    section = harvest.section_fetch
    assert harvest.transparency_url == BASE + "/transparencia"
    assert (section.url, section.app_root, section.scripts) == (
        BASE + "/transparencia", "div#root", 2)


def test_home_linking_only_the_national_platform():
    pnt = "https://www.plataformadetransparencia.org.mx/"
    harvest = crawl({HOME: page(f'<p><a href="{pnt}">Transparencia</a></p>')})
    assert harvest.transparency_url is None and harvest.pnt_links == [pnt]


# --------------------------------------------------------------------------- mojibake, TLS


def test_mojibake_is_recorded_per_page():
    pages = {
        HOME: HOME_PAGE,
        BASE + "/transparencia": SECTION,
        BASE + "/transparencia/fraccion-i": page(
            "<h2>FracciÃ³n I</h2><p>Marco normativo de la instituciÃ³n</p>"
            "<a href='/docs/marco.xlsx'>2025</a>"),
        BASE + "/docs/marco.xlsx": xlsx(),
    }
    harvest = crawl(pages)
    visits = {p.url: p.mojibake for p in harvest.pages}
    assert "FracciÃ³n" in visits[BASE + "/transparencia/fraccion-i"]
    assert visits[HOME] == "" and harvest.home.mojibake == ""
    assert harvest.section_fetch.mojibake == ""


def test_invalid_certificate_is_an_unreachable_home_with_error_tls():
    https = "https://municipio.example.gob.mx/"
    subject = Subject("S-9", "Municipio", "", "municipal", "Jalisco", "ejecutivo", https)
    source = RecordedSource({}, errors={https: "tls"})
    harvest = crawl_portal(subject, source, CATALOG)
    assert harvest.unreachable and harvest.home.error == "tls"
    assert harvest.not_found_probe is None


# --------------------------------------------------------------------------- records


def test_new_fields_round_trip_and_old_records_still_load():
    dead = page("<h2>Página no encontrada</h2>", title="Página no encontrada")
    harvest = _crawl_soft(*_portal_with(dead))
    data = json.loads(json.dumps(harvest.to_dict()))
    assert PortalHarvest.from_dict(data) == harvest
    old = {"subject_id": "1", "home_url": HOME,
           "home": {"status_code": 200, "error": None, "error_detail": None, "final_url": HOME,
                    "content_type": "text/html", "links": 12, "text_chars": 900},
           "pages": [{"url": HOME, "depth": 0, "status_code": 200, "error": None,
                      "parent": None, "context": None}]}
    loaded = PortalHarvest.from_dict(old)
    assert loaded.home == HomeFetch(200, None, None, HOME, "text/html", 12, 900)
    assert loaded.pages == [PageVisit(HOME, 0, 200, None, None, None)]
    assert (loaded.section_fetch, loaded.blocked_section, loaded.not_found_probe) == (
        None, None, None)


def test_links_to_the_home_page_itself_are_no_soft_404():
    from scrapers.crawl import _home_alias

    assert _home_alias(HOME, HOME) and _home_alias(BASE + "/index.php", HOME)
    assert _home_alias("https://municipio.example.gob.mx/inicio", HOME)
    assert not _home_alias(BASE + "/transparencia/fraccion-viii", HOME)
    assert not _home_alias(BASE + "/index.php?option=com_content&id=7", HOME)
    assert not _home_alias("http://otro.example.gob.mx/", HOME)


def test_a_login_frame_on_the_home_page_is_no_refused_section():
    login = page("<form><input name='u'><input type='password' name='p'></form>", "Intranet")
    harvest = crawl({HOME: page("<p>Bienvenidos</p><iframe src='/intranet'></iframe>"),
                     BASE + "/intranet": login})
    assert harvest.transparency_url is None and harvest.blocked_section is None
    assert any(p.anomaly == "login" for p in harvest.pages)
