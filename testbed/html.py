"""Page chrome shared by every simulated portal: head, header, navigation, footer, clutter.

Real portals bury the transparency section among news, services and contact pages; the
audit has to find it by link text. Everything here is Spanish page text, generated from
the portal's own seeded generator so that two portals rarely look alike.
"""

from __future__ import annotations

from html import escape

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


def meta_charset(portal: PortalSpec) -> str:
    """How the page declares its encoding (or fails to, on a few portals)."""
    if portal.encoding == "utf-8":
        return '<meta charset="utf-8">'
    if portal.encoding == "windows-1252":
        return ('<meta http-equiv="Content-Type" '
                'content="text/html; charset=windows-1252">')
    return ""  # windows-1252 without any declaration


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
