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
        # login wording without a password field, a 401 or a login redirect is no login wall
        ("<html><head><title>Iniciar sesión</title></head><body><p>Área restringida</p>"
         "</body></html>", None),
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


# --------------------------------------------------------------------------- false positives
# Cues that real portals show on ordinary pages (review of the opacity heuristics).


def _ordinary(main: str, *, head: str = "", aside: str = "", title: str = "Municipio") -> str:
    return (
        f"<!DOCTYPE html><html><head><title>{title}</title>{head}</head><body>"
        f"<header><h1>H. Ayuntamiento de Prueba</h1></header>{CHROME_LINKS}"
        f"<main>{main}</main><aside>{aside}</aside>"
        "<footer><p>Domicilio conocido. Todos los derechos reservados.</p></footer>"
        "</body></html>"
    )


def test_challenge_scripts_on_an_ordinary_page_are_no_captcha():
    head = (
        '<script src="/cdn-cgi/challenge-platform/scripts/jsd/main.js"></script>'
        '<script src="https://www.google.com/recaptcha/api.js?render=6Lc-x"></script>'
    )
    signals = page_signals(_ordinary("<h2>Remuneraciones</h2><p>Tabla de sueldos.</p>",
                                     head=head))
    assert signals.block is None
    assert signals.challenge_script  # kept: it counts on a 403/429/503 answer
    # a reCAPTCHA widget in the footer's newsletter form is chrome
    footer_widget = _ordinary("<p>Noticias</p>").replace(
        "</footer>", '<form><div class="g-recaptcha" data-sitekey="x"></div></form></footer>')
    assert page_signals(footer_widget).block is None


def test_challenge_title_or_widget_in_content_is_a_captcha():
    interstitial = (
        "<html><head><title>Just a moment...</title>"
        '<script src="/cdn-cgi/challenge-platform/h/b/orchestrate/chl_page/v1"></script>'
        "</head><body><p>Checking if the site connection is secure</p></body></html>"
    )
    assert page_signals(interstitial).block == "captcha"
    turnstile = _ordinary('<form><div class="cf-turnstile" data-sitekey="x"></div></form>')
    assert page_signals(turnstile).block == "captcha"


def test_challenge_script_on_a_403_is_a_captcha():
    refused = (
        403,
        HTML,
        "<html><head><title>Municipio</title>"
        '<script src="/cdn-cgi/challenge-platform/scripts/jsd/main.js"></script></head>'
        "<body><p>Un momento</p></body></html>",
    )
    harvest = crawl({HOME: refused})
    assert harvest.home.anomaly == "captcha"


def test_captcha_wording_in_a_contact_form_is_no_captcha():
    form = ("<h2>Contacto</h2><form><input name='nombre'><label>Escriba el texto del captcha"
            "</label><img src='/captcha.php'><input name='captcha'></form>")
    assert page_signals(_ordinary(form)).block is None


def test_login_wording_in_the_header_or_sidebar_is_no_login():
    html = _ordinary("<p>Noticias del municipio.</p>",
                     aside="<h3>Iniciar sesión</h3><p>Acceso restringido</p>")
    assert page_signals(html).block is None


def test_forbidden_needs_a_word_boundary():
    html = "<html><body><h1>Plan</h1><p>Zonas forbiddenness no aplica.</p></body></html>"
    assert page_signals(html).block is None
    assert page_signals("<html><head><title>403 Forbidden</title></head></html>").block == "waf"


JOOMLA_LOGIN = (
    '<div class="moduletable"><h3>Acceso</h3><form action="/index.php" method="post">'
    "<input name='username'><input type='password' name='password'>"
    "<button>Iniciar sesión</button></form></div>"
)
NO_INFO = (
    "<h2>Fracción XXIII. Gastos de comunicación social</h2>"
    "<p>No se generó información en el periodo que se informa.</p>"
)


def test_a_sidebar_login_module_is_no_login_wall():
    assert page_signals(_ordinary(NO_INFO, aside=JOOMLA_LOGIN)).block is None


def test_a_justification_page_with_a_login_box_is_no_access_block():
    # a Joomla login module in the content next to "no se generó información": an answer
    dead = page("<h2>Fracción VIII. Remuneración</h2><p>No se generó información en el "
                "periodo que se informa.</p>" + JOOMLA_LOGIN)
    harvest = crawl(_portal_with(dead)[0])
    hit = harvest.hit("70-VIII")
    assert hit is not None and hit.anomaly is None


def test_a_password_form_that_does_not_dominate_is_no_login():
    text = "<p>" + "Información sobre los trámites y servicios del municipio. " * 20 + "</p>"
    assert page_signals(_ordinary(text + JOOMLA_LOGIN)).block is None
    assert page_signals(_ordinary(JOOMLA_LOGIN)).block == "login"


def test_honest_absence_notice_is_no_error_page():
    notice = ("<h2>Fracción XV. Programas sociales</h2><p>El documento no está disponible por "
              "el momento; se encuentra en proceso de actualización.</p>")
    assert page_signals(_ordinary(notice)).error_cue == ""
    dead = "<h2>Aviso</h2><p>La dirección solicitada no existe.</p>"
    assert page_signals(_ordinary(dead)).error_cue == "la direccion solicitada no existe"
    titled = _ordinary("<p>El documento no está disponible.</p>", title="Página no encontrada")
    assert page_signals(titled).error_cue == "pagina no encontrada"


@pytest.mark.parametrize(
    ("title", "cue"),
    [("404/2025 Recurso de revisión", ""), ("404-2025 Acuerdo", ""), ("404.1 Anexo", ""),
     ("404 | Municipio", "404"), ("Error 404", "error 404")],
)
def test_numbered_titles_are_no_404(title, cue):
    assert page_signals(_ordinary("<p>Resolución del recurso.</p>", title=title)).error_cue == cue


class _ForbiddenRobots(RecordedSource):
    """robots.txt answers 403: the ordinary fetch refuses everything, as the live fetcher
    does; ``fetch_ignoring_robots`` is the one look the crawler takes anyway."""

    def robots_allows(self, url):
        return False

    def robots_status(self, url):
        return {"state": "forbidden", "status_code": 403, "robots_url": BASE + "/robots.txt"}

    def fetch(self, url, method="GET"):
        self.requested.append(url)
        from scrapers.results import FetchResult

        return FetchResult(url=url, final_url=url, error="robots", error_detail="403")

    def fetch_ignoring_robots(self, url, method="GET"):
        return RecordedSource.fetch(self, url, method)


def _crawl_forbidden_robots(pages) -> PortalHarvest:
    subject = Subject("S-9", "Municipio de Prueba", "", "municipal", "Jalisco", "ejecutivo", HOME)
    return crawl_portal(subject, _ForbiddenRobots(pages), CATALOG, CrawlSettings())


def test_robots_txt_answering_403_alone_does_not_block_the_portal():
    harvest = _crawl_forbidden_robots(_portal_with(page("<p>Tabla</p>"))[0])
    assert harvest.robots_home_allowed is True
    assert harvest.transparency_url == BASE + "/transparencia"
    assert harvest.hit("70-I") is not None
    assert any("RFC 9309" in note for note in harvest.notes)


def test_robots_txt_and_home_both_refusing_is_an_access_block():
    harvest = _crawl_forbidden_robots({HOME: (403, HTML, "<h1>Forbidden</h1>")})
    assert harvest.robots_home_allowed is False
    assert harvest.transparency_url is None


SECTIONS = ("Presidencia", "Cabildo", "Tesorería", "Obras", "Servicios", "Cultura", "Deporte",
            "Turismo", "Salud", "Educación", "Seguridad", "Ecología")


def _table_layout(body: str, title: str = "Municipio de Prueba") -> tuple[int, dict, str]:
    """An old table-layout site: header, menu and footer are <td>s, not header/nav/footer."""
    menu = " ".join(
        f"<a href='/seccion/{i}'>Sección {w}</a>"
        for i, w in enumerate(SECTIONS)
    )
    template = ("<td>H. Ayuntamiento Constitucional de Prueba, Jalisco. Administración "
                "2024-2027. Gobierno cercano a la gente, trabajando por un mejor municipio "
                f"para todas las familias.</td></tr><tr><td>{menu}</td>")
    footer = ("<td>Palacio Municipal, Plaza Principal número uno, Colonia Centro, código "
              "postal 45000. Teléfono 33 3333 3333. Horario de atención de lunes a viernes "
              "de nueve a quince horas. Derechos reservados.</td>")
    return (200, HTML, f"<html><head><title>{title}</title></head><body><table><tr>"
            f"{template}</tr><tr><td>{body}</td></tr><tr>{footer}</tr></table></body></html>")


def test_table_layout_template_words_are_no_soft_404():
    pages, _ = _portal_with(_table_layout(
        "<h2>Fracción VIII. Remuneración</h2><p>Consulte el tabulador vigente de sueldos y "
        "salarios.</p>"))
    pages[HOME] = _table_layout("<p>Bienvenidos. <a href='/transparencia'>Transparencia</a>"
                                "</p>")
    probe = _table_layout("<p>Lo sentimos.</p>")
    harvest = _crawl_soft(pages, probe)
    assert harvest.not_found_probe.status_code == 200
    assert harvest.hit("70-VIII").anomaly is None


SPLASH = (
    200,
    HTML,
    "<!DOCTYPE html><html><head><title>H. Ayuntamiento de Prueba</title>"
    '<script src="/js/jquery-1.12.4.min.js"></script>'
    '<script async src="https://www.googletagmanager.com/gtag/js?id=G-X1"></script>'
    "<script>window.dataLayer = window.dataLayer || []; function gtag(){dataLayer.push("
    "arguments);} gtag('js', new Date()); gtag('config', 'G-X1');</script></head>"
    '<body><center><img src="/img/escudo.png" alt=""><br><a href="/inicio.html">'
    "Entrar al sitio</a></center></body></html>",
)


def test_a_splash_home_page_is_no_script_shell():
    from audit.presence import audit_presence

    signals = page_signals(SPLASH[2])
    assert signals.scripts == 1  # jQuery; the analytics tag does not count
    pages, _ = _portal_with(page("<p>Tabla</p>"))
    pages[HOME] = SPLASH
    pages[BASE + "/inicio.html"] = HOME_PAGE
    harvest = crawl(pages)
    assert harvest.transparency_url == BASE + "/transparencia"  # through its only link
    subject = Subject("S-9", "Municipio de Prueba", "", "municipal", "Jalisco", "ejecutivo", HOME)
    result = audit_presence(subject, harvest, [(o, True) for o in CATALOG.obligations], "r")
    assert "JS_REQUIRED" not in {f.code.value for f in result.findings}
    assert "NO_TRANSPARENCY_SECTION" not in {f.code.value for f in result.findings}


def test_a_footer_pnt_banner_is_no_delegation():
    from audit.presence import audit_presence

    pnt = "https://www.plataformadetransparencia.org.mx/"
    footer = (f'<footer><a href="{pnt}"><img alt="Plataforma Nacional de Transparencia" '
              'src="/img/pnt.png"></a></footer>')
    home = (200, HTML, "<html><head><title>Municipio</title></head><body>"
            f"{CHROME_LINKS}<main><p>Bienvenidos</p></main>{footer}</body></html>")
    harvest = crawl({HOME: home, BASE + "/transparencia": page("<p>En construcción</p>")})
    assert harvest.pnt_links == []
    subject = Subject("S-9", "Municipio de Prueba", "", "municipal", "Jalisco", "ejecutivo", HOME)
    result = audit_presence(subject, harvest, [(o, True) for o in CATALOG.obligations], "r")
    assert "DELEGATES_TO_PNT" not in {f.code.value for f in result.findings}
    # the menu's own "Transparencia" item pointing to the platform still delegates
    menu = (200, HTML, f'<html><body><nav><a href="{pnt}">Transparencia</a></nav></body></html>')
    assert crawl({HOME: menu}).pnt_links == [pnt]


def test_a_redirect_to_a_login_url_is_a_login_wall():
    sso = page("<h2>Intranet</h2><p><a href='/auth/sso'>Entrar con su cuenta institucional</a>"
               "</p>", title="Intranet")
    harvest = crawl({HOME: HOME_PAGE,
                     BASE + "/transparencia": (302, {"Location": "/login?next=%2Ft"}, ""),
                     BASE + "/login?next=%2Ft": sso})
    assert harvest.blocked_section.anomaly == "login"
