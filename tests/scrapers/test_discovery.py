"""Discovery rules, pinned by tables of real-looking portal snippets.

Each row is a piece of a real portal style (fraction lists, per-fraction pages with
per-period tables, Apache listings of SIPOT files, nested CDMX menus, accordions…) or a trap
("IV Informe de Gobierno", "Ley 875", phone numbers) with what discovery must read from it.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from audit.obligations import ObligationRef
from scrapers.discovery import (
    classify_page,
    detect_cited_law,
    find_justification,
    find_transparency_links,
    is_resource_url,
    map_to_catalog,
    match_by_title,
    normalize_url,
    parse_obligation_ref,
    pnt_links,
    title_ref,
)

_SPEC = importlib.util.spec_from_file_location(
    "lupa_test_fixture_catalog", Path(__file__).parent / "snippets" / "fixture_catalog.py"
)
_MODULE = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(_MODULE)
CATALOG = _MODULE.FixtureCatalog()

# --------------------------------------------------------------------------- references

PARSE_CASES = [
    # (text, default_article, fraction_context, expected obligation id or None)
    ("Fracción VIII", None, False, "70-VIII"),
    ("FRACCION VIII", None, False, "70-VIII"),
    ("fracción viii", None, False, "70-VIII"),
    ("Fr. 8", None, False, "70-VIII"),
    ("Fr.VIII", None, False, "70-VIII"),
    ("Fracc. VIII", None, False, "70-VIII"),
    ("F. VIII", None, False, "70-VIII"),
    ("Fracción 28 inciso b)", None, False, "70-XXVIII-B"),
    ("Fracción XXVIII-B", None, False, "70-XXVIII-B"),
    ("XXVIII b)", None, False, "70-XXVIII-B"),
    ("Artículo 70, fracción XXVIII, inciso a", None, False, "70-XXVIII-A"),
    ("Art. 71 Fr. II a)", None, False, "71-II-A"),
    ("Fracción I del Artículo 71", None, False, "71-I"),
    ("70FXXVIIIA", None, False, "70-XXVIII-A"),
    ("70FXXIIIC1", None, False, "70-XXIII-C"),
    ("LGTA70FVIII", None, False, "70-VIII"),
    ("https://www.seneam.gob.mx/SIPOT/LGTA70FXXVIIIA/2022/", None, False, "70-XXVIII-A"),
    ("LGT_Art_70_Fr_VIII", None, False, "70-VIII"),
    ("8 LGT_Art_70_Fr_VIII_1er semestre_229363.xlsx", None, False, "70-VIII"),
    ("/transparencia/fracc-viii", None, False, "70-VIII"),
    ("/transparencia/fraccion-28", None, False, "70-XXVIII"),
    ("/index.php/pot/art81_fracc7", None, False, "81-VII"),
    ("A121Fr09_Remuneracion-bruta-y_2020", None, False, "121-IX"),
    ("A121Fr47A_Ingresos-recibidos_1676_Parte_1.csv", None, False, "121-XLVII-A"),
    ("LTAIPVIL15IV", None, False, "15-IV"),
    ("9-LTAIPG26F1_IX", None, False, "26-IX"),
    ("LETAYUC72-70FVIII.", None, False, "70-VIII"),
    ("Fracción II Formato A", None, False, "70-II-A"),
    ("Fracción II-A Estructura Orgánica", None, False, "70-II-A"),
    ("Fracción VIII", 71, False, "71-VIII"),
    ("Fr. 2", 72, False, "72-II"),
    ("FRACCIÃ“N VIII", None, False, "70-VIII"),  # UTF-8 read as windows-1252
    ("Fracci\ufffdn XXVIII", None, False, "70-XXVIII"),  # windows-1252 read as UTF-8
    ("fracci%C3%B3n%20IX", None, False, "70-IX"),
    ("Artículo 71", None, False, "71"),
    ("VIII", None, True, "70-VIII"),
    ("VIII. La remuneración bruta y neta", 70, True, "70-VIII"),
    ("II-A", None, True, "70-II-A"),
    ("XV b) Padrón de beneficiarios", None, False, "70-XV-B"),
    # negatives
    ("VIII", None, False, None),
    ("IV Informe de Gobierno", None, False, None),
    ("Vive Veracruz: Vivienda digna", None, False, None),
    ("Ley 875", None, False, None),
    ("Ejercicio 2021", None, False, None),
    ("Tel. 228 841 7700 ext. 12", None, False, None),
    ("Fracción 2021", None, False, None),
    ("Frente a la plaza principal", None, False, None),
    ("Fracción LXXX", None, False, None),
    ("Informe de actividades", None, True, None),
]


@pytest.mark.parametrize(("text", "article", "fraction_context", "expected"), PARSE_CASES)
def test_parse_obligation_ref(text, article, fraction_context, expected):
    ref = parse_obligation_ref(text, article, fraction_context=fraction_context)
    assert (ref.obligation_id if ref else None) == expected


CITED_LAW_CASES = [
    (
        "Obligaciones de Transparencia. Ley General de Transparencia y Acceso a la Información "
        "Pública, Artículo 70",
        "Ley General de Transparencia y Acceso a la Información Pública, Art. 70",
    ),
    (
        "Artículo 121 de la Ley de Transparencia, Acceso a la Información Pública y Rendición de "
        "Cuentas de la Ciudad de México",
        "Art. 121 (ley local)",
    ),
    (
        "Ley 875 de Transparencia y Acceso a la Información Pública para el Estado de Veracruz, "
        "artículo 15",
        "Art. 15 (ley local)",
    ),
    (
        "Ley de Transparencia y Acceso a la Información Pública del Estado de Durango, Artículo 65 "
        "y la Ley General de Transparencia",
        "Art. 65 (ley local)",
    ),
    (
        "Artículo 81 de la Ley de Transparencia y Acceso a la Información Pública para el Estado "
        "de Baja California",
        "Art. 81 (ley local)",
    ),
    (
        "Formatos LGTA70FVIII y LGTA70FXXVIII",
        "Ley General de Transparencia y Acceso a la Información Pública, Art. 70",
    ),
    ("A121Fr09_Remuneracion-bruta-y_2020.xlsx", "Art. 121 (ley local)"),
    ("Bienvenidos al H. Ayuntamiento. IV Informe de Gobierno", None),
]


@pytest.mark.parametrize(("text", "expected"), CITED_LAW_CASES)
def test_detect_cited_law(text, expected):
    assert detect_cited_law(text) == expected


TITLE_CASES = [
    # (text, cited ref or None, local law?, expected catalog id or None)
    ("Remuneraciones", None, False, "70-VIII"),
    ("Sueldos y salarios", None, False, "70-VIII"),
    ("Directorio de servidores públicos", None, False, "70-VII"),
    ("Estructura Orgánica", None, False, "70-II-A"),
    ("Viáticos", None, False, "70-IX"),
    ("Servidores públicos", None, False, None),  # every title says it: undecidable
    ("Noticias", None, False, None),
    # CDMX Art. 121 fr. IX is LGTAIP 70-VIII: the title wins over the number
    ("Fracción IX. La remuneración bruta y neta", "121-IX", True, "70-VIII"),
    # both XXVIII sub-formats match: the whole fraction
    (
        "Fracción XXIX. Procedimientos de adjudicación directa, invitación restringida y "
        "licitación",
        "121-XXIX",
        True,
        "70-XXVIII",
    ),
    ("Fracción VII. Directorio", "81-VII", True, "70-VII"),
    ("Fracción VII", "81-VII", True, None),  # no title to go by: left unmapped
    # split fractions: the sub-format a text names, or the whole fraction (its own title)
    ("Padrón de beneficiarios", None, False, "70-XV-B"),
    ("Programas sociales desarrollados", None, False, "70-XV-A"),
    ("La información de los programas de subsidios, estímulos y apoyos", None, False, "70-XV"),
    ("Fr. 2. Su estructura orgánica completa", "70-II", True, "70-II"),
    ("", "70-VIII", False, "70-VIII"),  # general law, number in the catalog
    ("", "70-IX-A", False, "70-IX"),  # sub-format the catalog merges
]


@pytest.mark.parametrize(("text", "cited", "local_law", "expected"), TITLE_CASES)
def test_title_matching(text, cited, local_law, expected):
    if cited is None:
        ref = title_ref(text, CATALOG)
        assert (ref.obligation_id if ref else None) == expected
    else:
        ref = map_to_catalog(ObligationRef.parse(cited), text, CATALOG, local_law=local_law)
        assert (ref.obligation_id if ref else None) == expected


def test_match_by_title_ranks_candidates():
    matches = match_by_title("Remuneraciones y tabulador de sueldos", CATALOG)
    assert matches[0][0].obligation_id == "70-VIII" and matches[0][1] >= 0.7
    assert all(0.3 <= score <= 1.0 for _, score in matches)
    assert match_by_title("Noticias y eventos", CATALOG) == []


# --------------------------------------------------------------------------- sections

HOME = "https://www.coscomatepec.gob.mx/"

TRANSPARENCY_CASES = [
    (
        """<nav><a href="/">Inicio</a><a href="/noticias">Noticias</a>
        <a href="/transparencia-proactiva">Transparencia proactiva</a>
        <a href="/unidad-de-transparencia">Unidad de Transparencia</a>
        <a href="/transparencia/ley-general">Transparencia</a></nav>""",
        "https://www.coscomatepec.gob.mx/transparencia/ley-general",
        {"https://www.coscomatepec.gob.mx/transparencia-proactiva"},
    ),
    (
        """<ul><li><a href="/transparencia">Transparencia</a></li>
        <li><a href="/obligaciones">Obligaciones de Transparencia</a></li></ul>""",
        "https://www.coscomatepec.gob.mx/obligaciones",
        set(),
    ),
    (
        """<a href="/SIPOT/" title="SIPOT"><img src="/img/sipot.png" alt=""></a>
        <a href="/turismo">Turismo</a>""",
        "https://www.coscomatepec.gob.mx/SIPOT/",
        {"https://www.coscomatepec.gob.mx/turismo"},
    ),
    (
        """<a href="https://www.plataformadetransparencia.org.mx/">Plataforma Nacional de
        Transparencia</a><a href="/art70">Ley General de Transparencia Art. 70</a>""",
        "https://www.coscomatepec.gob.mx/art70",
        {"https://www.plataformadetransparencia.org.mx/"},
    ),
]


@pytest.mark.parametrize(("html", "best", "excluded"), TRANSPARENCY_CASES)
def test_find_transparency_links(html, best, excluded):
    links = find_transparency_links(html, HOME)
    assert links and links[0].url == best
    assert not excluded & {link.url for link in links}


def test_pnt_links():
    pnt = "https://consultapublicamx.plataformadetransparencia.org.mx/vut-web/"
    html = f"""<p>Consulte también la <a href="{pnt}?idSujetoObigadoParametro=1234"
    >Plataforma Nacional</a> y
    <a href="https://www.plataformadetransparencia.org.mx/">PNT</a>,
    <a href="/transparencia">Transparencia</a></p>"""
    assert pnt_links(html, HOME) == [
        "https://consultapublicamx.plataformadetransparencia.org.mx/vut-web/"
        "?idSujetoObigadoParametro=1234",
        "https://www.plataformadetransparencia.org.mx/",
    ]


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://x.gob.mx/archivos/LGT_Art_70_Fr_VIII_2025.xlsx", True),
        ("https://x.gob.mx/docs/Directorio%202025.PDF", True),
        ("https://x.gob.mx/descargar.php?id=77", True),
        ("https://x.gob.mx/ver.php?archivo=padron.csv", True),
        ("https://drive.google.com/file/d/1AbC/view", True),
        ("https://x.gob.mx/transparencia/fracc-viii", False),
        ("https://x.gob.mx/index.php/pot/art81_fracc7", False),
    ],
)
def test_is_resource_url(url, expected):
    assert is_resource_url(url) is expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "Durante el periodo que se informa este sujeto obligado no generó información. "
            "Gracias.",
            "Durante el periodo que se informa este sujeto obligado no generó información.",
        ),
        (
            "Sin información que reportar en el periodo.",
            "Sin información que reportar en el periodo.",
        ),
        ("La información se actualiza trimestralmente.", None),
    ],
)
def test_find_justification(text, expected):
    assert find_justification(text) == expected


# --------------------------------------------------------------------------- pages


def _page(body: str, title: str = "Portal") -> str:
    return (
        f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{title}</title></head>"
        f"<body><header><a href='/'>Inicio</a></header>{body}"
        "<footer><a href='/aviso-de-privacidad.pdf'>Aviso de privacidad</a>"
        "<a href='/contacto'>Contacto</a></footer></body></html>"
    )


COSCOMATEPEC = _page(
    """
<h2>Artículo 70. Obligaciones de Transparencia Comunes</h2>
<table class="table table-striped">
 <thead><tr><th>Fracción</th><th>Descripción</th><th>Periodo</th><th>Formato</th></tr></thead>
 <tbody>
  <tr><td>I</td><td>El marco normativo aplicable</td><td>Trimestral</td>
      <td><a href="/archivos/ley-general/LGT_Art_70_Fr_I_2025.xlsx">Descargar</a></td></tr>
  <tr><td>II</td><td>Estructura orgánica</td><td>Trimestral</td>
      <td><a href="/archivos/ley-general/estructura.xlsx">Formato A</a>
          <a href="/archivos/ley-general/organigrama.pdf">Formato B</a></td></tr>
  <tr><td>VII</td><td>Directorio</td><td>Trimestral</td>
      <td><a href="/transparencia/directorio">Consultar</a></td></tr>
  <tr><td>VIII</td><td>Remuneración bruta y neta</td><td>Trimestral</td>
      <td><a href="/archivos/ley-general/remuneracion-1t-2025.xlsx">1er trimestre</a>
          <a href="/archivos/ley-general/remuneracion-2t-2025.xlsx">2do trimestre</a></td></tr>
  <tr><td>XLVII</td><td>Solicitudes de intervención de comunicaciones</td><td>Trimestral</td>
      <td>No aplica: este sujeto obligado no tiene facultades para solicitar intervenciones.
      </td></tr>
 </tbody>
</table>""",
    "Ley General | H. Ayuntamiento de Coscomatepec",
)

TJATAM_FRACTION = _page(
    """
<aside><ul><li><a href="/transparencia/fracc-vii">Fracción VII</a></li>
<li><a href="/transparencia/fracc-viii">Fracción VIII</a></li></ul></aside>
<h1>Fracción VIII</h1>
<p>La remuneración bruta y neta de todos los Servidores Públicos de base o de confianza.</p>
<table class="tabla">
 <tr><th>Ejercicio</th><th>Primer semestre</th><th>Segundo semestre</th></tr>
 <tr><td>2020</td><td><a href="/docs/2020/fracc-viii-1s.pdf">PDF</a></td>
     <td><a href="/docs/2020/fracc-viii-2s.pdf">PDF</a></td></tr>
 <tr><th>Ejercicio</th><th>1er trimestre</th><th>2do trimestre</th></tr>
 <tr><td>2021</td><td><a href="/docs/2021/fracc-viii-1t.xlsx">XLSX</a></td>
     <td><a href="/docs/2021/fracc-viii-2t.xlsx">XLSX</a></td></tr>
</table>""",
    "Fracción VIII - Tribunal de Justicia Administrativa",
)

IEEBC_POT = _page("""
<h1>Portal de Obligaciones de Transparencia</h1>
<p>Ley de Transparencia y Acceso a la Información Pública para el Estado de Baja California</p>
<h2>Artículo 81</h2>
<ul class="pot">
 <li><a href="/index.php/pot/art81_fracc7">Fracción VII. Directorio de servidores públicos</a></li>
 <li><a href="/index.php/pot/art81_fracc8">Fracción VIII. Remuneración bruta y neta</a></li>
 <li><a href="/index.php/pot/art81_fracc9">Fracción IX. Gastos de representación y
 viáticos</a></li>
</ul>""")

CDMX_MENU = _page("""
<nav class="menu-transparencia"><ul>
 <li><a href="#">Artículo 121</a>
  <ul>
   <li><a href="/fideicomiso-procinecdmx/entrada/39538">Fracción IX - Remuneración bruta y
   neta</a></li>
   <li><a href="/fideicomiso-procinecdmx/entrada/39540">Fracción X - Gastos de representación
   y viáticos</a></li>
  </ul>
 </li>
</ul></nav>""")

CDMX_ENTRY = _page("""
<h1>Remuneración bruta y neta</h1>
<p>Artículo 121, fracción IX de la Ley de Transparencia, Acceso a la Información Pública y
Rendición de Cuentas de la Ciudad de México. Periodo de actualización: trimestral.</p>
<table><tr><th>Ejercicio</th><th>Archivo</th></tr>
<tr><td>2025</td><td><a href="/storage/app/uploads/public/A121Fr09_Remuneracion-bruta-y_2025.xlsx"
>1er trimestre</a></td></tr></table>""")

SIPOT_ROOT = """<!DOCTYPE HTML PUBLIC "-//W3C//DTD HTML 3.2 Final//EN"><html><head>
<title>Index of /SIPOT</title></head><body><h1>Index of /SIPOT</h1><table>
<tr><th><a href="?C=N;O=D">Name</a></th><th><a href="?C=M;O=A">Last modified</a></th></tr>
<tr><td><a href="/">Parent Directory</a></td><td>&nbsp;</td></tr>
<tr><td><a href="LGTA70FVIII/">LGTA70FVIII/</a></td><td>2025-04-30 12:01</td></tr>
<tr><td><a href="LGTA70FXXVIII/">LGTA70FXXVIII/</a></td><td>2025-04-30 12:01</td></tr>
<tr><td><a href="LGTA70FXXVIIIA/">LGTA70FXXVIIIA/</a></td><td>2025-04-30 12:01</td></tr>
</table></body></html>"""

SIPOT_YEAR = """<html><head><title>Index of /SIPOT/LGTA70FVIII/2025</title></head><body>
<h1>Index of /SIPOT/LGTA70FVIII/2025</h1><table>
<tr><th><a href="?C=N;O=D">Name</a></th><th><a href="?C=S;O=A">Size</a></th></tr>
<tr><td><a href="/SIPOT/LGTA70FVIII/">Parent Directory</a></td><td>-</td></tr>
<tr><td><a href="1T_2025.xlsx">1T_2025.xlsx</a></td><td>48K</td></tr>
<tr><td><a href="2T_2025.xlsx">2T_2025.xlsx</a></td><td>51K</td></tr>
</table></body></html>"""

ACCORDION = _page("""
<div class="accordion" id="obligaciones">
 <div class="card">
  <div class="card-header"><button class="btn btn-link" data-toggle="collapse">Fracción XXVIII.
  Procedimientos de licitación pública</button></div>
  <div class="collapse"><div class="card-body">
   <a href="/docs/licitaciones-2025-1t.xlsx">2025 - 1er trimestre</a>
   <a href="/docs/licitaciones-2025-2t.xlsx">2025 - 2do trimestre</a>
  </div></div>
 </div>
 <div class="card">
  <div class="card-header"><button class="btn btn-link">Fracción IX. Viáticos</button></div>
  <div class="collapse"><div class="card-body">
   <a href="/docs/viaticos-2025.xlsx">2025</a></div></div>
 </div>
</div>""")

DEFINITIONS = _page("""<dl>
<dt>Fracción VII Directorio</dt><dd><a href="/docs/directorio-2025.pdf">Directorio 2025</a></dd>
<dt>Fracción XI Honorarios</dt><dd><a href="/docs/honorarios-2025.xlsx">Honorarios 2025</a></dd>
</dl>
<details><summary>Fracción IX Viáticos</summary><a href="/docs/viaticos.csv">2025</a></details>""")

ART71 = _page("""
<h2>Artículo 70</h2>
<ul><li><a href="/t/70/8">Fracción VIII Remuneraciones</a></li></ul>
<h2>Artículo 71</h2>
<ul>
 <li><a href="/t/71/1a">Fracción I inciso a) Plan de Desarrollo</a></li>
 <li><a href="/t/71/2a">II a) Gaceta municipal</a></li>
 <li><a href="/t/71/2b">Fracción II, inciso b) Actas de sesiones de cabildo</a></li>
</ul>
<h2>Artículo 72</h2>
<p><a href="/t/72/1">Fr. I Agenda legislativa</a></p>""")

ENUMERATED = _page("""
<h2>Obligaciones de transparencia</h2>
<ul>
 <li><a href="/t/1">I.- Marco normativo</a></li>
 <li><a href="/t/2">II.- Estructura orgánica</a></li>
 <li><a href="/t/8">VIII.- Remuneración bruta y neta</a></li>
 <li><a href="/t/9">IX.- Gastos de representación y viáticos</a></li>
</ul>""")

HOME_NEGATIVE = _page("""
<h1>H. Ayuntamiento de Xalapa</h1>
<a href="/informe">IV Informe de Gobierno</a> <a href="/vive">Vive Xalapa</a>
<a href="/ley875">Ley 875</a> <a href="/contacto">Tel. 228 841 7700</a>
<a href="/calendario?mes=2025-05">Calendario 2025</a>
<a href="/transparencia">Transparencia</a>""")

CP1252_PAGE = _page("""<h2>OBLIGACIONES DE TRANSPARENCIA</h2><ul>
<li><a href="/t/a">FRACCIÓN VIII. REMUNERACIÓN</a></li>
<li><a href="/t/b">FRACCIÃ“N IX. VIÃTICOS</a></li>
<li><a href="/t/c">Fracci\ufffdn XI. Honorarios</a></li></ul>""")

FRACTION_II = _page("""<h1>Estructura orgánica</h1><ul>
<li><a href="/docs/formato-a-estructura.xlsx">Formato A - Estructura orgánica</a></li>
<li><a href="/docs/formato-b-organigrama.pdf">Formato B - Organigrama</a></li></ul>""")

SECTION_TITLES = _page("""<h1>Transparencia</h1><ul>
<li><a href="/transparencia/directorio">Directorio</a></li>
<li><a href="/transparencia/sueldos">Sueldos y salarios</a></li>
<li><a href="/noticias">Noticias</a></li></ul>""")

JUSTIFIED = _page("""<h1>Solicitudes de intervención de comunicaciones</h1>
<p>Durante el periodo que se informa, este sujeto obligado <strong>no generó
información</strong> relativa a solicitudes de intervención de comunicaciones privadas.</p>""")

DIRECTORY_TABLE = _page("""<h1>Directorio</h1><table>
<tr><th>Nombre</th><th>Cargo</th><th>Teléfono</th><th>Correo</th></tr>
<tr><td>María López</td><td>Directora</td><td>228 841 0001</td>
    <td><a href="mailto:mlopez@x.gob.mx">mlopez@x.gob.mx</a></td></tr>
<tr><td>Juan Pérez</td><td>Jefe de departamento</td><td>228 841 0002</td><td>No aplica</td></tr>
<tr><td>Ana Ruiz</td><td>Analista</td><td>228 841 0003</td><td>aruiz@x.gob.mx</td></tr>
</table>""")

YEARS = _page("""<h1>Ejercicios</h1><ul><li><a href="/t/8/2024">2024</a></li>
<li><a href="/t/8/2025">2025</a></li></ul>""")

URL_ONLY = _page("""<h1>Obligaciones</h1><table>
<tr><td>Contrataciones</td><td><a href="/transparencia/fraccion-28">Ver</a></td></tr>
<tr><td>Formato</td><td><a href="/files/LGT_Art_70_Fr_XXVIII_2025_T1.xlsx">Descargar</a></td></tr>
<tr><td>Fracción 28 inciso b)</td><td><a href="/transparencia/adjudicaciones">Ver</a></td></tr>
</table>""")

SECTIONS_WITH_FOOTER = _page("""<h1>Obligaciones</h1>
<h2>Fracción VII</h2><p><a href="/docs/dir.pdf">Directorio</a></p>
<h2>Fracción VIII</h2><p><a href="/docs/rem.xlsx">Tabulador</a></p>""")

VERACRUZ = _page("""<p>Ley 875 de Transparencia y Acceso a la Información Pública para el Estado
de Veracruz, artículo 15.</p><ul>
<li><a href="/docs/LTAIPVIL15VIII_Remuneracion_mensual.xlsx">Remuneración mensual</a></li></ul>""")

DOWNLOADS = _page("""<h1>Fracción XV</h1><p>
<a href="/descargar.php?id=77">Descargar padrón</a>
<a href="https://drive.google.com/file/d/1AbC/view">Programas (Drive)</a></p>""")

PNT_ONLY = _page("""<h1>Transparencia</h1><p>Consulte nuestras obligaciones en la
<a href="https://consultapublicamx.plataformadetransparencia.org.mx/vut-web/">Plataforma
Nacional de Transparencia</a>.</p>""")

S = "https://portal.example.gob.mx"

# (name, html, url, context, expected obligation links {(id, url, via)}, expected resources
#  {(url, ref id)}, extra expectations)
PAGE_CASES = [
    (
        "fraction-table-direct-files",
        COSCOMATEPEC,
        f"{S}/transparencia/ley-general",
        None,
        {
            ("70-I", f"{S}/archivos/ley-general/LGT_Art_70_Fr_I_2025.xlsx", "table_cell"),
            ("70-II-A", f"{S}/archivos/ley-general/estructura.xlsx", "table_cell"),
            ("70-II-B", f"{S}/archivos/ley-general/organigrama.pdf", "table_cell"),
            ("70-VII", f"{S}/transparencia/directorio", "table_cell"),
            ("70-VIII", f"{S}/archivos/ley-general/remuneracion-1t-2025.xlsx", "table_cell"),
            ("70-VIII", f"{S}/archivos/ley-general/remuneracion-2t-2025.xlsx", "table_cell"),
        },
        {
            (f"{S}/archivos/ley-general/LGT_Art_70_Fr_I_2025.xlsx", "70-I"),
            (f"{S}/archivos/ley-general/estructura.xlsx", "70-II-A"),
            (f"{S}/archivos/ley-general/organigrama.pdf", "70-II-B"),
            (f"{S}/archivos/ley-general/remuneracion-1t-2025.xlsx", "70-VIII"),
            (f"{S}/archivos/ley-general/remuneracion-2t-2025.xlsx", "70-VIII"),
            (f"{S}/aviso-de-privacidad.pdf", None),
        },
        {
            "is_section": True,
            "has_table": False,
            "justifications": {"70-XLVII": "No aplica"},
            "cited_law": "Ley General de Transparencia y Acceso a la Información Pública, Art. 70",
        },
    ),
    (
        "per-fraction-trimester-table",
        TJATAM_FRACTION,
        f"{S}/transparencia/fracc-viii",
        None,
        {
            ("70-VII", f"{S}/transparencia/fracc-vii", "link_text"),
            ("70-VIII", f"{S}/transparencia/fracc-viii", "link_text"),
        },
        {
            (f"{S}/docs/2020/fracc-viii-1s.pdf", "70-VIII"),
            (f"{S}/docs/2020/fracc-viii-2s.pdf", "70-VIII"),
            (f"{S}/docs/2021/fracc-viii-1t.xlsx", "70-VIII"),
            (f"{S}/docs/2021/fracc-viii-2t.xlsx", "70-VIII"),
            (f"{S}/aviso-de-privacidad.pdf", "70-VIII"),
        },
        {"page_ref": "70-VIII", "has_table": False},
    ),
    (
        "state-law-art81-fraction-pages",
        IEEBC_POT,
        f"{S}/index.php/pot",
        None,
        {
            ("70-VII", f"{S}/index.php/pot/art81_fracc7", "link_text"),
            ("70-VIII", f"{S}/index.php/pot/art81_fracc8", "link_text"),
            ("70-IX", f"{S}/index.php/pot/art81_fracc9", "link_text"),
        },
        {(f"{S}/aviso-de-privacidad.pdf", None)},
        {
            "cited": {"81-VII", "81-VIII", "81-IX"},
            "cited_law": "Art. 81 (ley local)",
            "is_section": True,
        },
    ),
    (
        "cdmx-nested-menu-shifted-fractions",
        CDMX_MENU,
        f"{S}/fideicomiso-procinecdmx",
        None,
        {
            ("70-VIII", f"{S}/fideicomiso-procinecdmx/entrada/39538", "link_text"),
            ("70-IX", f"{S}/fideicomiso-procinecdmx/entrada/39540", "link_text"),
        },
        {(f"{S}/aviso-de-privacidad.pdf", None)},
        {"cited": {"121-IX", "121-X"}, "cited_law": "Art. 121 (ley local)"},
    ),
    (
        "cdmx-entry-file-name-code",
        CDMX_ENTRY,
        f"{S}/fideicomiso-procinecdmx/entrada/39538",
        None,
        {
            (
                "70-VIII",
                f"{S}/storage/app/uploads/public/A121Fr09_Remuneracion-bruta-y_2025.xlsx",
                "url_pattern",
            )
        },
        {
            (f"{S}/storage/app/uploads/public/A121Fr09_Remuneracion-bruta-y_2025.xlsx", "70-VIII"),
            (f"{S}/aviso-de-privacidad.pdf", None),
        },
        {"cited": {"121-IX"}},
    ),
    (
        "cdmx-entry-with-context",
        CDMX_ENTRY,
        f"{S}/fideicomiso-procinecdmx/entrada/39538",
        ObligationRef(70, "VIII"),
        set(),
        {
            (f"{S}/storage/app/uploads/public/A121Fr09_Remuneracion-bruta-y_2025.xlsx", "70-VIII"),
            (f"{S}/aviso-de-privacidad.pdf", "70-VIII"),
        },
        {"page_ref": "70-VIII"},
    ),
    (
        "sipot-apache-root",
        SIPOT_ROOT,
        f"{S}/SIPOT/",
        None,
        {
            ("70-VIII", f"{S}/SIPOT/LGTA70FVIII/", "link_text"),
            ("70-XXVIII", f"{S}/SIPOT/LGTA70FXXVIII/", "link_text"),
            ("70-XXVIII-A", f"{S}/SIPOT/LGTA70FXXVIIIA/", "link_text"),
        },
        set(),
        {"is_section": True},
    ),
    (
        "sipot-apache-year",
        SIPOT_YEAR,
        f"{S}/SIPOT/LGTA70FVIII/2025/",
        None,
        set(),
        {
            (f"{S}/SIPOT/LGTA70FVIII/2025/1T_2025.xlsx", "70-VIII"),
            (f"{S}/SIPOT/LGTA70FVIII/2025/2T_2025.xlsx", "70-VIII"),
        },
        {"page_ref": "70-VIII", "has_table": False},
    ),
    (
        "accordion",
        ACCORDION,
        f"{S}/transparencia",
        None,
        # the heading names the sub-format ("licitación pública" is XXVIII-A)
        {
            ("70-XXVIII-A", f"{S}/docs/licitaciones-2025-1t.xlsx", "heading"),
            ("70-XXVIII-A", f"{S}/docs/licitaciones-2025-2t.xlsx", "heading"),
            ("70-IX", f"{S}/docs/viaticos-2025.xlsx", "heading"),
        },
        {
            (f"{S}/docs/licitaciones-2025-1t.xlsx", "70-XXVIII-A"),
            (f"{S}/docs/licitaciones-2025-2t.xlsx", "70-XXVIII-A"),
            (f"{S}/docs/viaticos-2025.xlsx", "70-IX"),
            (f"{S}/aviso-de-privacidad.pdf", None),
        },
        {},
    ),
    (
        "definition-list-and-details",
        DEFINITIONS,
        f"{S}/transparencia",
        None,
        {
            ("70-VII", f"{S}/docs/directorio-2025.pdf", "heading"),
            ("70-XI", f"{S}/docs/honorarios-2025.xlsx", "heading"),
            ("70-IX", f"{S}/docs/viaticos.csv", "heading"),
        },
        {
            (f"{S}/docs/directorio-2025.pdf", "70-VII"),
            (f"{S}/docs/honorarios-2025.xlsx", "70-XI"),
            (f"{S}/docs/viaticos.csv", "70-IX"),
            (f"{S}/aviso-de-privacidad.pdf", None),
        },
        {},
    ),
    (
        "articles-71-72-under-headings",
        ART71,
        f"{S}/transparencia",
        None,
        {
            ("70-VIII", f"{S}/t/70/8", "link_text"),
            ("71-I-A", f"{S}/t/71/1a", "link_text"),
            ("71-II-A", f"{S}/t/71/2a", "link_text"),
            ("71-II-B", f"{S}/t/71/2b", "link_text"),
            ("72-I", f"{S}/t/72/1", "link_text"),
        },
        {(f"{S}/aviso-de-privacidad.pdf", None)},
        {},
    ),
    (
        "enumerated-bare-romans",
        ENUMERATED,
        f"{S}/transparencia",
        None,
        {
            ("70-I", f"{S}/t/1", "link_text"),
            ("70-II", f"{S}/t/2", "link_text"),
            ("70-VIII", f"{S}/t/8", "link_text"),
            ("70-IX", f"{S}/t/9", "link_text"),
        },
        {(f"{S}/aviso-de-privacidad.pdf", None)},
        {"is_section": True},
    ),
    (
        "negative-home",
        HOME_NEGATIVE,
        f"{S}/",
        None,
        set(),
        {(f"{S}/aviso-de-privacidad.pdf", None)},
        {"is_section": False, "transparency": f"{S}/transparencia", "in_section": False},
    ),
    (
        "windows-1252-and-mojibake",
        CP1252_PAGE,
        f"{S}/transparencia",
        None,
        {
            ("70-VIII", f"{S}/t/a", "link_text"),
            ("70-IX", f"{S}/t/b", "link_text"),
            ("70-XI", f"{S}/t/c", "link_text"),
        },
        {(f"{S}/aviso-de-privacidad.pdf", None)},
        {"is_section": True},
    ),
    (
        "subformats-on-fraction-page",
        FRACTION_II,
        f"{S}/t/2",
        ObligationRef(70, "II"),
        {
            ("70-II-A", f"{S}/docs/formato-a-estructura.xlsx", "link_text"),
            ("70-II-B", f"{S}/docs/formato-b-organigrama.pdf", "link_text"),
        },
        {
            (f"{S}/docs/formato-a-estructura.xlsx", "70-II-A"),
            (f"{S}/docs/formato-b-organigrama.pdf", "70-II-B"),
            (f"{S}/aviso-de-privacidad.pdf", "70-II"),
        },
        {},
    ),
    (
        "title-keywords-in-section",
        SECTION_TITLES,
        f"{S}/transparencia",
        None,
        {
            ("70-VII", f"{S}/transparencia/directorio", "title_keywords"),
            ("70-VIII", f"{S}/transparencia/sueldos", "title_keywords"),
        },
        {(f"{S}/aviso-de-privacidad.pdf", None)},
        {"navigation": f"{S}/noticias"},
    ),
    (
        "title-keywords-not-on-home",
        SECTION_TITLES,
        f"{S}/",
        None,
        set(),
        {(f"{S}/aviso-de-privacidad.pdf", None)},
        {"in_section": False},
    ),
    (
        "justified-absence",
        JUSTIFIED,
        f"{S}/t/47",
        ObligationRef(70, "XLVII"),
        set(),
        {(f"{S}/aviso-de-privacidad.pdf", "70-XLVII")},
        {"justification": "no generó información", "has_table": False},
    ),
    (
        "inline-data-table",
        DIRECTORY_TABLE,
        f"{S}/t/7",
        ObligationRef(70, "VII"),
        set(),
        {(f"{S}/aviso-de-privacidad.pdf", "70-VII")},
        {"has_table": True, "table_rows": 3, "justification": None},
    ),
    (
        "year-links-inherit-context",
        YEARS,
        f"{S}/t/8",
        ObligationRef(70, "VIII"),
        set(),
        {(f"{S}/aviso-de-privacidad.pdf", "70-VIII")},
        {"navigation_refs": {f"{S}/t/8/2024": "70-VIII", f"{S}/t/8/2025": "70-VIII"}},
    ),
    (
        "url-patterns-and-cells",
        URL_ONLY,
        f"{S}/obligaciones",
        None,
        {
            ("70-XXVIII", f"{S}/transparencia/fraccion-28", "url_pattern"),
            ("70-XXVIII", f"{S}/files/LGT_Art_70_Fr_XXVIII_2025_T1.xlsx", "url_pattern"),
            ("70-XXVIII-B", f"{S}/transparencia/adjudicaciones", "table_cell"),
        },
        {
            (f"{S}/files/LGT_Art_70_Fr_XXVIII_2025_T1.xlsx", "70-XXVIII"),
            (f"{S}/aviso-de-privacidad.pdf", None),
        },
        {},
    ),
    (
        "headings-do-not-leak-into-footer",
        SECTIONS_WITH_FOOTER,
        f"{S}/obligaciones",
        None,
        {("70-VII", f"{S}/docs/dir.pdf", "heading"), ("70-VIII", f"{S}/docs/rem.xlsx", "heading")},
        {
            (f"{S}/docs/dir.pdf", "70-VII"),
            (f"{S}/docs/rem.xlsx", "70-VIII"),
            (f"{S}/aviso-de-privacidad.pdf", None),
        },
        {"page_ref": None},
    ),
    (
        "veracruz-format-code",
        VERACRUZ,
        f"{S}/transparencia",
        None,
        {("70-VIII", f"{S}/docs/LTAIPVIL15VIII_Remuneracion_mensual.xlsx", "url_pattern")},
        {
            (f"{S}/docs/LTAIPVIL15VIII_Remuneracion_mensual.xlsx", "70-VIII"),
            (f"{S}/aviso-de-privacidad.pdf", None),
        },
        {"cited": {"15-VIII"}, "cited_law": "Art. 15 (ley local)"},
    ),
    (
        "download-patterns",
        DOWNLOADS,
        f"{S}/t/15",
        None,
        set(),
        {
            (f"{S}/descargar.php?id=77", "70-XV"),
            ("https://drive.google.com/file/d/1AbC/view", "70-XV"),
            (f"{S}/aviso-de-privacidad.pdf", "70-XV"),
        },
        {"page_ref": "70-XV"},
    ),
    (
        "pnt-only",
        PNT_ONLY,
        f"{S}/transparencia",
        None,
        set(),
        {(f"{S}/aviso-de-privacidad.pdf", None)},
        {
            "pnt": ["https://consultapublicamx.plataformadetransparencia.org.mx/vut-web/"],
            "is_section": False,
        },
    ),
]


@pytest.mark.parametrize(
    ("html", "url", "context", "links", "resources", "extra"),
    [case[1:] for case in PAGE_CASES],
    ids=[case[0] for case in PAGE_CASES],
)
def test_classify_page(html, url, context, links, resources, extra):
    analysis = classify_page(html, url, CATALOG, context, in_section=extra.get("in_section", True))
    found = {(link.ref.obligation_id, link.url, link.via) for link in analysis.obligation_links}
    assert found == links
    found_resources = {
        (link.url, link.ref.obligation_id if link.ref else None) for link in analysis.resource_links
    }
    assert found_resources == resources
    if "cited" in extra:
        assert {link.cited for link in analysis.obligation_links} == extra["cited"]
    if "page_ref" in extra:
        page_ref = analysis.page_ref.obligation_id if analysis.page_ref else None
        assert page_ref == extra["page_ref"]
    for key in ("is_section", "has_table", "table_rows", "cited_law"):
        if key in extra:
            assert getattr(analysis, key) == extra[key]
    if "justification" in extra:
        if extra["justification"] is None:
            assert analysis.justification is None
        else:
            assert extra["justification"] in analysis.justification
    if "justifications" in extra:
        notes = {j.ref.obligation_id: j.text for j in analysis.justifications}
        assert notes.keys() == extra["justifications"].keys()
        for ref, text in extra["justifications"].items():
            assert text in notes[ref]
    if "transparency" in extra:
        assert analysis.transparency_links[0].url == extra["transparency"]
    if "navigation" in extra:
        assert extra["navigation"] in {link.url for link in analysis.navigation_links}
    if "navigation_refs" in extra:
        refs = {link.url: link.ref for link in analysis.navigation_links}
        for nav_url, ref in extra["navigation_refs"].items():
            assert refs[nav_url] == ref
    if "pnt" in extra:
        assert analysis.pnt_links == extra["pnt"]


def test_windows_1252_bytes_decoded():
    raw = "<html><body><ul><li><a href='/a'>Fracción VIII Remuneración</a></li></ul></body>"
    html = raw.encode("cp1252").decode("cp1252")
    analysis = classify_page(html, S + "/", CATALOG)
    assert [link.ref.obligation_id for link in analysis.obligation_links] == ["70-VIII"]


def test_normalize_url():
    assert normalize_url("HTTPS://Portal.Gob.MX:443#top") == "https://portal.gob.mx/"
    assert normalize_url("http://x.mx:8080/a/b?c=1#d") == "http://x.mx:8080/a/b?c=1"


def test_malformed_links_are_skipped():
    html = _page("""<a href="http://[broken/x">roto</a><a href="http://x.mx:abc/">puerto</a>
    <a href="javascript:void(0)">js</a><a href="mailto:ut@x.mx">correo</a>
    <a href="/t/8">Fracción VIII</a>""")
    analysis = classify_page(html, S + "/", CATALOG)
    assert [link.url for link in analysis.obligation_links] == [f"{S}/t/8"]


# --------------------------------------------------------------------------- state laws
# These read pages against the real LGTAIP catalog: the traps come from titles the fixture
# catalog does not hold (Art. 77's "El padrón de beneficiarios, en su caso").

YUCATAN_LAW = "Ley de Transparencia y Acceso a la Información Pública del Estado de Yucatán"


@pytest.fixture(scope="module")
def lgtaip():
    from audit.catalog import load_catalog

    return load_catalog("LGTAIP-2015")


def _state_page(main: str, menu_text: str = "Ley General de Transparencia") -> str:
    """A state portal's page whose site menu links the transparency section under the
    text "Ley General de Transparencia" (the law's name used as a menu label)."""
    return (
        "<!DOCTYPE html><html><head><title>Fracción 1 | Fondo Estatal</title></head><body>"
        "<header><h1>Fondo Estatal</h1></header><nav><ul><li><a href='/'>Inicio</a></li>"
        f"<li><a href='/transparencia'>{menu_text}</a></li>"
        "<li><a href='/contacto'>Contacto</a></li></ul></nav>"
        f"<main>{main}</main><footer><p>© 2025 Fondo Estatal</p></footer></body></html>"
    )


STATE_FRACTION_MAIN = """
<h2>Fracción 1</h2><p>El marco normativo aplicable al sujeto obligado</p>
<h3>Ejercicio 2025</h3>
<ul class="archivos"><li><a href="/uploads/A72Fr01_El-marco-normativo_2025.xlsx">
Ejercicio 2025 (XLSX)</a></li></ul>"""


def test_menu_naming_the_general_law_does_not_override_the_state_law(lgtaip):
    """Yucatán Art. 72 mirrors Art. 70: its fraction 1 page (reached as 70-I from the article
    page, which names the state law) links A72Fr01_….xlsx. The site menu's "Ley General de
    Transparencia" must not turn the page into a general-law one, where 72-I is the
    legislative agenda."""
    url = f"{S}/entrada/47176"
    context = ObligationRef.parse("70-I")
    analysis = classify_page(_state_page(STATE_FRACTION_MAIN), url, lgtaip, context, local_law=True)
    assert analysis.local_law is True
    assert analysis.obligation_links == []
    assert {(r.url, r.ref.obligation_id) for r in analysis.resource_links} == {
        (f"{S}/uploads/A72Fr01_El-marco-normativo_2025.xlsx", "70-I")
    }


@pytest.mark.parametrize(
    ("main", "menu_text", "inherited", "expected"),
    [
        # the page's own content names a law: it wins over the pages above
        (f"<p>{YUCATAN_LAW}</p>", "Transparencia", False, True),
        (
            "<p>Ley General de Transparencia y Acceso a la Información Pública</p>",
            "Transparencia",
            True,
            False,
        ),
        # only the menu names one: the pages above decide; with nothing above, the menu
        ("<p>Fracción 1</p>", "Ley General de Transparencia", True, True),
        ("<p>Fracción 1</p>", f"{YUCATAN_LAW}", False, False),
        ("<p>Fracción 1</p>", "Ley General de Transparencia", None, None),
        ("<p>Artículo 121</p>", "Ley General de Transparencia", None, None),
    ],
)
def test_law_reading_order(lgtaip, main, menu_text, inherited, expected):
    analysis = classify_page(_state_page(main, menu_text), f"{S}/p", lgtaip, local_law=inherited)
    assert analysis.local_law is expected


def test_state_article_mirroring_a_specific_article(lgtaip):
    """A state "Artículo 79 – Fideicomisos" mirrors LGTAIP Art. 77: its fraction VI, titled
    exactly like 77-VI, is not the common obligations' 70-XV-B (same words)."""
    titles = {
        "I": "El nombre del servidor público y de la persona física o moral que represente al "
        "fideicomitente, al fiduciario y al fideicomisario",
        "II": "La unidad administrativa responsable del fideicomiso",
        "III": "El monto total, el uso y destino del patrimonio fideicomitido",
        "IV": "El saldo total al cierre del ejercicio fiscal",
        "VI": "El padrón de beneficiarios, en su caso",
    }
    items = "".join(
        f"<li><a href='/index.php/pot/art79_fracc{i}'>FRACCION {fraction}. {text.upper()}</a></li>"
        for i, (fraction, text) in zip((1, 2, 3, 4, 6), titles.items(), strict=True)
    )
    heading = "<h2>ARTICULO 79. Fideicomisos y fondos públicos</h2>"
    main = f"{heading}<p>{YUCATAN_LAW}</p><ul>{items}</ul>"
    analysis = classify_page(
        _state_page(main), f"{S}/index.php/pot/art79", lgtaip, ObligationRef(79), local_law=True
    )
    found = {link.cited: link.ref.obligation_id for link in analysis.obligation_links}
    assert found == {
        "79-I": "77-I",
        "79-II": "77-II",
        "79-III": "77-III",
        "79-IV": "77-IV",
        "79-VI": "77-VI",
    }


def test_state_article_mirroring_art_70_keeps_common_titles(lgtaip):
    """The mirror only breaks ties: on a state article mirroring Art. 70, "Padrón de
    beneficiarios" stays 70-XV-B."""
    items = "".join(
        f"<li><a href='/f{i}'>Fracción {i}. {text}</a></li>"
        for i, text in (
            (1, "El marco normativo aplicable al sujeto obligado"),
            (3, "Las facultades de cada Área"),
            (8, "La remuneración bruta y neta de todos los servidores públicos"),
            (16, "Padrón de beneficiarios"),
        )
    )
    main = f"<h2>Artículo 72</h2><p>{YUCATAN_LAW}</p><ul>{items}</ul>"
    analysis = classify_page(
        _state_page(main), f"{S}/art72", lgtaip, ObligationRef(72), local_law=True
    )
    found = {link.cited: link.ref.obligation_id for link in analysis.obligation_links}
    assert found == {"72-I": "70-I", "72-III": "70-III", "72-VIII": "70-VIII", "72-XVI": "70-XV-B"}


@pytest.mark.parametrize(
    ("text", "cited", "expected"),
    [
        # a shifted state fraction titled with the whole fraction's own title (Art. 70-XLI's)
        # is the whole fraction, not "Otros estudios financiados…" (XLI-D)
        ("FRACCION XLIV. LOS ESTUDIOS FINANCIADOS CON RECURSOS PUBLICOS", "15-XLIV", "70-XLI"),
        ("Fracción 44. Otros estudios financiados con recursos públicos", "15-XLIV", "70-XLI-D"),
    ],
)
def test_whole_fraction_title_under_a_state_law(lgtaip, text, cited, expected):
    ref = map_to_catalog(ObligationRef.parse(cited), text, lgtaip, local_law=True)
    assert ref is not None and ref.obligation_id == expected
