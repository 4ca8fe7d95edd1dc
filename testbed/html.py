"""Page chrome shared by every simulated portal: head, header, navigation, footer, clutter.

Real portals bury the transparency section among news, services and contact pages; the
audit has to find it by link text. Everything here is Spanish page text, generated from
the portal's own seeded generator so that two portals rarely look alike.
"""

from __future__ import annotations

import codecs
from html import escape
from urllib.parse import quote

from testbed.model import PortalSpec

JUSTIFICATION = "No se generó información en el periodo que se informa"

TRANSPARENCY_LINK_TEXTS = (
    "Transparencia", "TRANSPARENCIA", "Portal de Transparencia", "Obligaciones de Transparencia",
    "Transparencia y Acceso a la Información", "Ley General de Transparencia",
    "Información Pública de Oficio",
)
NEWS = (
    ("Arranca programa de bacheo en la zona centro", "Las cuadrillas trabajarán por sectores."),
    ("Entrega de apoyos a productores locales", "Se beneficiará a más de 300 familias."),
    ("Convocatoria para el Consejo Ciudadano", "Las propuestas se reciben hasta fin de mes."),
    ("Jornada de salud en colonias populares", "Consultas gratuitas y vacunación."),
    ("Informe de actividades del primer semestre", "Consulte el resumen de resultados."),
    ("Campaña de regularización de predios", "Descuentos en recargos durante el mes."),
    ("Rehabilitación de la biblioteca pública", "La obra concluirá en diciembre."),
    ("Feria del empleo 2025", "Más de 40 empresas ofertarán vacantes."),
)
SERVICES = ("Pago de predial", "Licencias de funcionamiento", "Constancias y certificados",
            "Atención ciudadana", "Citas en línea", "Registro civil")
CLUTTER_PAGES = ("/nosotros", "/noticias", "/tramites", "/contacto", "/aviso-de-privacidad")


# Portal encoding -> (Content-Type header, Python codec, in-page declaration).
ENCODINGS = {
    "utf-8": ("text/html; charset=utf-8", "utf-8", '<meta charset="utf-8">'),
    "windows-1252": ("text/html; charset=windows-1252", "cp1252",
                     '<meta http-equiv="Content-Type" content="text/html; charset=windows-1252">'),
    "windows-1252-undeclared": ("text/html", "cp1252", ""),
    # the fault catalog's wrong declaration: windows-1252 bytes said to be UTF-8, twice
    "windows-1252-mislabelled": ("text/html; charset=utf-8", "cp1252", '<meta charset="utf-8">'),
}


def content_type_and_codec(portal: PortalSpec) -> tuple[str, str]:
    """(Content-Type header, Python codec) for the portal's HTML."""
    header, codec, _ = ENCODINGS[portal.encoding]
    return header, codec


def meta_charset(portal: PortalSpec) -> str:
    """How the page declares its encoding (or fails to, on a few portals)."""
    return ENCODINGS[portal.encoding][2]


def link(href: str, text: str, extra: str = "") -> str:
    return f'<a href="{escape(href, quote=True)}"{extra}>{escape(text)}</a>'


def nav(portal: PortalSpec, transparency_path: str | None) -> str:
    items = [link("/", "Inicio"), link("/nosotros", "Nosotros"), link("/noticias", "Noticias"),
             link("/tramites", "Trámites y servicios")]
    if transparency_path:
        items.append(link(transparency_path, portal.options.get("link_text", "Transparencia")))
    items.append(link("/contacto", "Contacto"))
    return '<nav class="menu-principal"><ul>' + "".join(
        f"<li>{item}</li>" for item in items) + "</ul></nav>"


def document(portal: PortalSpec, title: str, body: str, transparency_path: str | None,
             crumbs: list[tuple[str, str]] | None = None) -> str:
    """A full page: every page of a portal shares this chrome."""
    name = escape(portal.subject.name)
    trail = ""
    if crumbs:
        parts = [link(href, text) if href else escape(text) for href, text in crumbs]
        trail = '<div class="breadcrumb">' + " &raquo; ".join(parts) + "</div>"
    return (
        "<!DOCTYPE html>\n<html lang=\"es\"><head>" + meta_charset(portal)
        + f"<title>{escape(title)} | {name}</title>"
        + '<meta name="viewport" content="width=device-width, initial-scale=1">'
        + '<link rel="stylesheet" href="/static/estilos.css"></head>\n<body>'
        + f'<header><img src="/static/logo.png" alt="Logotipo"><h1 class="sitio">{name}</h1>'
        + "</header>" + nav(portal, transparency_path) + trail
        + f'<main id="contenido">{body}</main>'
        + '<footer><p>Domicilio conocido s/n, Col. Centro. Tel. 800 000 0000</p>'
        + f'<p>{link("/aviso-de-privacidad", "Aviso de privacidad")} · '
        + f'{link("/contacto", "Contacto")}</p><p>© 2025 {name}</p></footer>'
        + "</body></html>\n"
    )


def home_body(portal: PortalSpec, transparency_path: str | None) -> str:
    rng = portal.rng("home")
    news = rng.sample(range(len(NEWS)), 4)
    parts = ['<section class="banner"><h2>Bienvenidos</h2><p>Trabajamos para servirte con '
             "honestidad y cercanía.</p></section>", '<section class="noticias"><h2>Noticias'
             "</h2><ul>"]
    for number in news:
        title, lead = NEWS[number]
        parts.append(f"<li>{link(f'/noticias/{number + 1}', title)}<p>{escape(lead)}</p></li>")
    parts.append("</ul></section><section class=\"servicios\"><h2>Trámites en línea</h2><ul>")
    for service in rng.sample(SERVICES, 3):
        parts.append(f"<li>{link('/tramites', service)}</li>")
    parts.append("</ul></section>")
    if transparency_path:
        text = portal.options.get("link_text", "Transparencia")
        button = link(transparency_path, text, ' class="btn"')
        parts.append(f'<section class="accesos"><h2>Accesos rápidos</h2><p>{button}</p></section>')
    return "".join(parts)


def clutter_body(path: str) -> tuple[str, str] | None:
    """Title and body of the non-transparency pages every portal has."""
    if path == "/nosotros":
        return "Nosotros", ("<h2>Misión</h2><p>Brindar servicios públicos de calidad.</p>"
                            "<h2>Visión</h2><p>Ser una institución cercana a la gente.</p>")
    if path == "/noticias":
        items = "".join(f"<li>{link(f'/noticias/{i + 1}', t)}</li>"
                        for i, (t, _) in enumerate(NEWS))
        return "Noticias", f"<h2>Sala de prensa</h2><ul>{items}</ul>"
    if path.startswith("/noticias/"):
        try:
            title, lead = NEWS[int(path.rsplit("/", 1)[1]) - 1]
        except (ValueError, IndexError):
            return None
        return title, f"<h2>{escape(title)}</h2><p>{escape(lead)}</p><p>Boletín de prensa.</p>"
    if path == "/tramites":
        items = "".join(f"<li>{escape(s)}</li>" for s in SERVICES)
        return "Trámites y servicios", f"<h2>Trámites y servicios</h2><ul>{items}</ul>"
    if path == "/contacto":
        return "Contacto", ("<h2>Contacto</h2><p>Horario de atención: lunes a viernes de 9:00 a "
                            "15:00 horas.</p><p>Correo: contacto@ejemplo.gob.mx</p>")
    if path == "/aviso-de-privacidad":
        return "Aviso de privacidad", ("<h2>Aviso de privacidad integral</h2><p>Los datos "
                                       "personales recabados serán protegidos.</p>")
    return None


# ---- pages some defects serve instead of the site's -----------------------------------
PNT_HOME = "https://www.plataformadetransparencia.org.mx/"
PNT_CONSULTA = ("https://consultapublicamx.plataformadetransparencia.org.mx/vut-web/faces/"
                "view/consultaPublica.xhtml#inicio")


def page_bytes(portal: PortalSpec, text: str) -> tuple[bytes, str]:
    """(body, Content-Type) of an HTML page in the portal's encoding."""
    header, codec = content_type_and_codec(portal)
    return text.encode(codec, errors="xmlcharrefreplace"), header


def _latin1_fallback(error: UnicodeDecodeError) -> tuple[str, int]:
    return error.object[error.start:error.end].decode("latin-1"), error.end


codecs.register_error("testbed-latin1", _latin1_fallback)


def garble(text: str) -> str:
    """UTF-8 text read back as windows-1252 (bytes it leaves undefined as latin-1): the
    mojibake of a database migrated with the wrong encoding ('Fracción' -> 'FracciÃ³n')."""
    if text.isascii():
        return text
    return text.encode("utf-8").decode("cp1252", errors="testbed-latin1")


def not_found_body(path: str, wording: str) -> tuple[str, str]:
    """Title and body of a soft-404 answer: the site's error page inside its chrome.
    ``wording`` 'page' says so plainly; 'plain' only apologises (no error words)."""
    shown = escape(quote(path, safe="/?=&%:;,+()'~"))
    if wording == "page":
        return "Página no encontrada", (
            "<h2>Página no encontrada</h2><p>La dirección <code>" + shown + "</code> no existe "
            f"en este sitio o fue movida.</p><p>{link('/', 'Regresar al inicio')}</p>")
    return "Aviso", ("<h2>Aviso</h2><p>Lo sentimos, por el momento no fue posible mostrar la "
                     f"información solicitada ({shown}).</p><p>{link('/', 'Regresar al inicio')}"
                     "</p>")


def login_body() -> str:
    return ("<h2>Acceso al sistema</h2><p>Para consultar la información de transparencia "
            "ingrese con su usuario y contraseña.</p>"
            '<form method="post" action="/login"><p><label>Usuario <input name="usuario">'
            '</label></p><p><label>Contraseña <input type="password" name="clave"></label></p>'
            '<p><button type="submit">Entrar</button></p></form>')


def pnt_section_body(portal: PortalSpec) -> str:
    """A transparency 'section' that only sends visitors to the national platform."""
    name = escape(portal.subject.name)
    return ("<h2>Transparencia</h2><p>En cumplimiento de la Ley General de Transparencia y "
            f"Acceso a la Información Pública, las obligaciones de transparencia de {name} "
            "pueden consultarse en la Plataforma Nacional de Transparencia.</p>"
            f"<p>{link(PNT_CONSULTA, 'Consultar en la Plataforma Nacional de Transparencia')}"
            "</p><h3>Unidad de Transparencia</h3><p>Horario de atención: 9:00 a 15:00 horas."
            "</p>")


def js_shell(portal: PortalSpec, flavour: str) -> str:
    """The HTML a single-page application sends: an empty mount point and script bundles."""
    rng = portal.rng("js-shell")
    digest = "".join(rng.choice("0123456789abcdef") for _ in range(8))
    name = escape(portal.subject.name)
    if flavour == "angular":
        return ("<!DOCTYPE html>\n<html lang=\"es\"><head><meta charset=\"utf-8\">"
                f"<title>{name}</title><base href=\"/\">"
                f'<link rel="stylesheet" href="/static/styles.{digest}.css"></head>\n'
                "<body><app-root></app-root>"
                f'<script src="/static/runtime.{digest}.js" type="module"></script>'
                f'<script src="/static/polyfills.{digest}.js" type="module"></script>'
                f'<script src="/static/main.{digest}.js" type="module"></script>'
                "</body></html>\n")
    return ("<!DOCTYPE html>\n<html lang=\"es\"><head><meta charset=\"utf-8\">"
            f"<title>{name}</title>"
            f'<link href="/static/css/main.{digest}.css" rel="stylesheet"></head>\n'
            "<body><noscript>Necesitas habilitar JavaScript para ver este sitio.</noscript>"
            '<div id="root"></div>'
            f'<script src="/static/js/runtime.{digest}.js"></script>'
            f'<script src="/static/js/main.{digest}.js"></script></body></html>\n')


CAPTCHA_PAGE = (
    "<!DOCTYPE html>\n<html lang=\"es\"><head><meta charset=\"utf-8\">"
    "<title>Verificación de seguridad</title>"
    '<script src="https://www.google.com/recaptcha/api.js" async defer></script></head>'
    "<body><h1>Verificación de seguridad</h1><p>Para continuar, confirme que no es un robot."
    '</p><form method="post" action="/verificar"><div class="g-recaptcha" '
    'data-sitekey="6Lc-testbed-0000000000000000000000000000"></div>'
    '<button type="submit">Continuar</button></form></body></html>\n').encode()
# What a BIG-IP style application firewall answers: a couple of hundred bytes of HTML.
WAF_PAGE = (
    b"<html><head><title>Request Rejected</title></head><body>The requested URL was rejected. "
    b"Please consult with your administrator.<br><br>Your support ID is: 1404897735276315683"
    b"<br><br><a href='javascript:history.back();'>[Go Back]</a></body></html>")
