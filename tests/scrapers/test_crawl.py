"""The per-portal crawl over recorded portals, one per real portal style.

Each portal is a dict of recorded responses served by ``RecordedSource``; the assertions
pin the exact hits, click depths (home = 0) and info depths the testbed's ground truth
uses, plus the failure paths (robots, unreachable home, broken links, budgets, traps).
"""

from __future__ import annotations

import importlib.util
import io
import json
import zipfile
from pathlib import Path

import pytest

from audit.subjects import Subject
from scrapers.crawl import CrawlSettings, PortalHarvest, crawl_portal
from scrapers.recorded import RecordedSource

_SPEC = importlib.util.spec_from_file_location(
    "lupa_test_fixture_catalog", Path(__file__).parent / "snippets" / "fixture_catalog.py"
)
_MODULE = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(_MODULE)
CATALOG = _MODULE.FixtureCatalog()

HTML = {"Content-Type": "text/html; charset=utf-8"}
XLSX = {"Content-Type": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


def page(body: str, title: str = "Portal") -> tuple[int, dict, str]:
    return (
        200,
        HTML,
        (
            f"<!DOCTYPE html><html><head><title>{title}</title></head><body>"
            f"<header><a href='/'>Inicio</a></header>{body}"
            "<footer><a href='/contacto'>Contacto</a></footer></body></html>"
        ),
    )


def xlsx(tag: str = "") -> tuple[int, dict, bytes]:
    """A minimal spreadsheet package: enough for content sniffing to see an xlsx."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as package:
        package.writestr("xl/workbook.xml", f"<workbook>{tag}</workbook>")
    return 200, XLSX, out.getvalue()


def pdf() -> tuple[int, dict, bytes]:
    return 200, {"Content-Type": "application/pdf"}, b"%PDF-1.7\n%fake\n"


def site(base: str, paths: dict[str, tuple]) -> dict[str, tuple]:
    return {base + path: response for path, response in paths.items()}


def subject(url: str, transparency_url: str | None = None) -> Subject:
    return Subject(
        "S-001",
        "H. Ayuntamiento de Prueba",
        "",
        "municipal",
        "Veracruz",
        "ejecutivo",
        url,
        transparency_url,
    )


def crawl(
    pages: dict,
    home: str,
    transparency_url: str | None = None,
    *,
    source: RecordedSource | None = None,
    **settings,
) -> tuple[PortalHarvest, RecordedSource]:
    source = source or RecordedSource(pages)
    harvest = crawl_portal(
        subject(home, transparency_url), source, CATALOG, CrawlSettings(**settings)
    )
    return harvest, source


def summary(harvest: PortalHarvest) -> dict[str, tuple]:
    """obligation id -> (url, depth, info_depth, via) for compact exact assertions."""
    return {
        hit.obligation_id: (hit.url, hit.depth, hit.info_depth, hit.via) for hit in harvest.hits
    }


def not_probes(urls: list[str]) -> list[str]:
    """Requests other than the once-per-portal not-found probe (``/lupa-404-…``)."""
    return [url for url in urls if "/lupa-404-" not in url]


def page_fetches(harvest: PortalHarvest) -> list[str]:
    return [row["url"] for row in harvest.fetches if row["purpose"] in ("home", "page")]


# --------------------------------------------------------------------------- portal styles

COS = "https://coscomatepec.example.gob.mx"
COSCOMATEPEC = {
    "http://coscomatepec.example.gob.mx/": (301, {"Location": COS + "/"}, ""),
    **site(
        COS,
        {
            "/": page("""<nav><a href="/noticias">Noticias</a>
            <a href="/transparencia-proactiva">Transparencia proactiva</a>
            <a href="/transparencia/ley-general">Transparencia</a></nav>
            <h1>Bienvenidos</h1><p><a href="/informe">IV Informe de Gobierno</a></p>"""),
            "/noticias": page("<h1>Noticias</h1>"),
            "/transparencia/ley-general": page("""
            <h1>Ley General de Transparencia y Acceso a la Información Pública</h1>
            <h2>Artículo 70. Obligaciones comunes</h2>
            <table><thead><tr><th>Fracción</th><th>Descripción</th><th>Formato</th></tr></thead>
            <tbody>
             <tr><td>I</td><td>Marco normativo</td>
                 <td><a href="/archivos/LGT_Art_70_Fr_I_2025.xlsx">Descargar</a></td></tr>
             <tr><td>VII</td><td>Directorio</td>
                 <td><a href="/transparencia/directorio">Consultar</a></td></tr>
             <tr><td>VIII</td><td>Remuneración bruta y neta</td>
                 <td><a href="/archivos/remuneracion-1t.xlsx">1er trimestre</a>
                     <a href="/archivos/remuneracion-2t.xlsx">2do trimestre</a></td></tr>
             <tr><td>IX</td><td>Gastos de representación y viáticos</td>
                 <td><a href="/transparencia/viaticos">Consultar</a></td></tr>
             <tr><td>XI</td><td>Contrataciones por honorarios</td>
                 <td><a href="/archivos/honorarios-2025.xlsx">Descargar</a></td></tr>
             <tr><td>XLVII</td><td>Intervención de comunicaciones</td>
                 <td>No aplica: el Ayuntamiento no tiene esa facultad.</td></tr>
            </tbody></table>"""),
            "/transparencia/directorio": page("""<h1>Directorio</h1><table>
            <tr><th>Nombre</th><th>Cargo</th><th>Teléfono</th></tr>
            <tr><td>María López</td><td>Presidenta municipal</td><td>273 737 0001</td></tr>
            <tr><td>Juan Pérez</td><td>Tesorero</td><td>273 737 0002</td></tr></table>"""),
            "/archivos/LGT_Art_70_Fr_I_2025.xlsx": xlsx("I"),
            "/archivos/remuneracion-1t.xlsx": xlsx("VIII-1"),
            "/archivos/remuneracion-2t.xlsx": xlsx("VIII-2"),
        },
    ),
}


def test_fraction_list_with_direct_files():
    harvest, source = crawl(COSCOMATEPEC, "http://coscomatepec.example.gob.mx/")
    assert harvest.home.final_url == COS + "/"
    assert (harvest.transparency_url, harvest.transparency_depth, harvest.transparency_how) == (
        COS + "/transparencia/ley-general",
        1,
        "link",
    )
    lg = COS + "/transparencia/ley-general"
    assert summary(harvest) == {
        "70-I": (COS + "/archivos/LGT_Art_70_Fr_I_2025.xlsx", 1, 1, "table_cell"),
        "70-VII": (COS + "/transparencia/directorio", 2, 2, "table_cell"),
        "70-VIII": (COS + "/archivos/remuneracion-1t.xlsx", 1, 1, "table_cell"),
        "70-IX": (COS + "/transparencia/viaticos", 2, None, "table_cell"),
        "70-XI": (COS + "/archivos/honorarios-2025.xlsx", 1, 1, "table_cell"),
        "70-XLVII": (lg, 1, None, "table_cell"),
    }
    hits = {hit.obligation_id: hit for hit in harvest.hits}
    assert hits["70-I"].is_resource and hits["70-I"].found_on == lg
    assert [(r.url, r.depth, r.status_code, r.checked) for r in hits["70-VIII"].resources] == [
        (COS + "/archivos/remuneracion-1t.xlsx", 1, 200, True),
        (COS + "/archivos/remuneracion-2t.xlsx", 1, 200, True),
    ]
    assert hits["70-VIII"].resources[0].sniffed_type.endswith("spreadsheetml.sheet")
    assert hits["70-VII"].has_table and hits["70-VII"].status_code == 200
    # a broken obligation page and a broken resource
    assert (hits["70-IX"].status_code, hits["70-IX"].error) == (404, "http_error")
    assert [(r.status_code, r.error) for r in hits["70-XI"].resources] == [(404, "http_error")]
    assert (hits["70-XI"].status_code, hits["70-XI"].error) == (404, "http_error")
    assert hits["70-XLVII"].justification.startswith("No aplica")
    assert harvest.cited_law == (
        "Ley General de Transparencia y Acceso a la Información Pública, Art. 70"
    )
    # news and "transparencia proactiva" are not crawled; files are not fetched as pages
    assert COS + "/noticias" not in source.requested
    assert COS + "/transparencia-proactiva" not in source.requested
    assert page_fetches(harvest) == [
        "http://coscomatepec.example.gob.mx/",
        lg,
        COS + "/transparencia/directorio",
        COS + "/transparencia/viaticos",
    ]
    resource_rows = [row for row in harvest.fetches if row["purpose"] == "resource"]
    assert {row["depth"] for row in resource_rows} == {1}
    assert len(resource_rows) == 4
    assert harvest.fetches[0]["purpose"] == "home" and harvest.fetches[0]["depth"] == 0
    assert not harvest.truncated and not harvest.unreachable


TJ = "https://tjatam.example.gob.mx"
TJATAM = site(
    TJ,
    {
        "/": page('<nav><a href="/transparencia">Transparencia</a></nav>'),
        "/transparencia": page("""<h1>Transparencia</h1><h2>Artículo 70</h2><ul>
        <li><a href="/transparencia/fracc-vii">Fracción VII</a></li>
        <li><a href="/transparencia/fracc-viii">Fracción VIII</a></li>
        <li><a href="/transparencia/fracc-ix">Fracción IX</a></li></ul>"""),
        "/transparencia/fracc-vii": page("""<h1>Fracción VII</h1>
        <p>No se generó información en el periodo que se informa.</p>"""),
        "/transparencia/fracc-viii": page("""<h1>Fracción VIII</h1><table>
        <tr><th>Ejercicio</th><th>Primer semestre</th><th>Segundo semestre</th></tr>
        <tr><td>2020</td><td><a href="/docs/2020/fracc-viii-1s.pdf">PDF</a></td>
            <td><a href="/docs/2020/fracc-viii-2s.pdf">PDF</a></td></tr>
        <tr><th>Ejercicio</th><th>1er trimestre</th><th>2do trimestre</th></tr>
        <tr><td>2021</td><td><a href="/docs/2021/fracc-viii-1t.xlsx">XLSX</a></td>
            <td><a href="/docs/2021/fracc-viii-2t.xlsx">XLSX</a></td></tr></table>"""),
        "/transparencia/fracc-ix": page("""<aside>
        <a href="/transparencia/fracc-vii">Fracción VII</a>
        <a href="/transparencia/fracc-viii">Fracción VIII</a></aside>
        <h1>Fracción IX</h1><table><tr><th>Ejercicio</th><th>1er trimestre</th></tr>
        <tr><td>2025</td><td><a href="/docs/2025/fracc-ix-1t.xlsx">XLSX</a></td></tr></table>"""),
        "/docs/2020/fracc-viii-1s.pdf": pdf(),
        "/docs/2020/fracc-viii-2s.pdf": pdf(),
        "/docs/2021/fracc-viii-1t.xlsx": xlsx(),
        "/docs/2021/fracc-viii-2t.xlsx": xlsx(),
        "/docs/2025/fracc-ix-1t.xlsx": xlsx(),
    },
)


def test_per_fraction_pages_with_period_tables():
    harvest, _ = crawl(TJATAM, TJ + "/")
    assert (harvest.transparency_url, harvest.transparency_depth) == (TJ + "/transparencia", 1)
    assert summary(harvest) == {
        "70-VII": (TJ + "/transparencia/fracc-vii", 2, None, "link_text"),
        "70-VIII": (TJ + "/transparencia/fracc-viii", 2, 2, "link_text"),
        "70-IX": (TJ + "/transparencia/fracc-ix", 2, 2, "link_text"),
    }
    hits = {hit.obligation_id: hit for hit in harvest.hits}
    assert hits["70-VII"].justification == (
        "No se generó información en el periodo que se informa."
    )
    # recent files first: they are the ones checked when the budget is short
    assert [r.url.rsplit("/", 1)[1] for r in hits["70-VIII"].resources] == [
        "fracc-viii-1t.xlsx",
        "fracc-viii-2t.xlsx",
        "fracc-viii-1s.pdf",
        "fracc-viii-2s.pdf",
    ]
    assert all(r.checked and r.status_code == 200 for r in hits["70-VIII"].resources)
    assert hits["70-VIII"].resources[2].sniffed_type == "application/pdf"


def test_resource_budgets():
    harvest, _ = crawl(TJATAM, TJ + "/", max_resources_per_obligation=2)
    checked = {h.obligation_id: [r.checked for r in h.resources] for h in harvest.hits}
    assert checked == {"70-VII": [], "70-VIII": [True, True, False, False], "70-IX": [True]}
    harvest, _ = crawl(TJATAM, TJ + "/", max_resources=1)
    assert sum(r.checked for h in harvest.hits for r in h.resources) == 1
    assert harvest.resources_truncated
    harvest, _ = crawl(TJATAM, TJ + "/", check_resources=False)
    assert not [row for row in harvest.fetches if row["purpose"] == "resource"]
    assert harvest.hit("70-VIII").info_depth == 2  # listing still counts


IE = "http://transparenciaieebc.example.mx"
IEEBC = site(
    IE,
    {
        "/": page('<a href="/index.php/pot">Portal de Obligaciones de Transparencia</a>'),
        "/index.php/pot": page("""<h1>Portal de Obligaciones de Transparencia</h1>
        <p>Ley de Transparencia y Acceso a la Información Pública para el Estado de Baja
        California</p><h2>Artículo 81</h2><ul>
        <li><a href="/index.php/pot/art81_fracc7">Fracción VII. Directorio de servidores
        públicos</a></li>
        <li><a href="/index.php/pot/art81_fracc8">Fracción VIII. Remuneración bruta y
        neta</a></li>
        <li><a href="/index.php/pot/art81_fracc9">Fracción IX</a></li></ul>"""),
        "/index.php/pot/art81_fracc7": page("""<h1>Fracción VII. Directorio</h1>
        <p><a href="/images/pot/art81/fracc7/directorio_2025_1t.xlsx">1T 2025</a></p>"""),
        "/index.php/pot/art81_fracc8": page("""<h1>Fracción VIII. Remuneración</h1>
        <p><a href="/images/pot/art81/fracc8/remuneracion_2025.xlsx">2025</a></p>"""),
        "/index.php/pot/art81_fracc9": page("""<h1>Fracción IX. Gastos de representación y
        viáticos</h1><p><a href="/images/pot/art81/fracc9/viaticos_2025.xlsx">2025</a></p>"""),
        "/images/pot/art81/fracc7/directorio_2025_1t.xlsx": xlsx(),
        "/images/pot/art81/fracc8/remuneracion_2025.xlsx": xlsx(),
        "/images/pot/art81/fracc9/viaticos_2025.xlsx": xlsx(),
    },
)


def test_state_law_fraction_pages():
    harvest, _ = crawl(IEEBC, IE + "/")
    pot = IE + "/index.php/pot"
    assert (harvest.transparency_url, harvest.transparency_depth) == (pot, 1)
    assert summary(harvest) == {
        "70-VII": (pot + "/art81_fracc7", 2, 2, "link_text"),
        "70-VIII": (pot + "/art81_fracc8", 2, 2, "link_text"),
        "70-IX": (pot + "/art81_fracc9", 2, 2, "link_text"),
    }
    assert {(h.obligation_id, h.cited_id) for h in harvest.hits} == {
        ("70-VII", "81-VII"),
        ("70-VIII", "81-VIII"),
        # a bare "Fracción IX" is explained by the heading of the page it leads to
        ("70-IX", "81-IX"),
    }
    assert harvest.unmapped == []
    assert harvest.cited_law == "Art. 81 (ley local)"
    contexts = {page.url: page.context for page in harvest.pages}
    assert contexts[pot + "/art81_fracc9"] == "70-IX"


CD = "https://transparencia.cdmx.example.gob.mx"
ENTRY = "/fideicomiso-procinecdmx/entrada"
CDMX = site(
    CD,
    {
        "/": page('<a href="/fideicomiso-procinecdmx">Portal de Transparencia</a>'),
        "/fideicomiso-procinecdmx": page("""<h1>Fideicomiso PROCINE</h1><ul>
        <li><a href="/fideicomiso-procinecdmx/articulo/121">Artículo 121</a></li>
        <li><a href="/fideicomiso-procinecdmx/articulo/122">Artículo 122</a></li></ul>"""),
        "/fideicomiso-procinecdmx/articulo/121": page(f"""<h1>Artículo 121</h1>
        <p>Ley de Transparencia, Acceso a la Información Pública y Rendición de Cuentas de la
        Ciudad de México</p><ul>
        <li><a href="{ENTRY}/39538">Fracción IX - Remuneración bruta y neta</a></li>
        <li><a href="{ENTRY}/39540">Fracción X - Gastos de representación y viáticos</a></li>
        </ul>"""),
        "/fideicomiso-procinecdmx/articulo/122": page("<h1>Artículo 122</h1>"),
        f"{ENTRY}/39538": page(f"""<h1>Remuneración bruta y neta</h1>
        <ul><li><a href="{ENTRY}/39538/2025">2025</a></li></ul>"""),
        f"{ENTRY}/39538/2025": page(f"""<h1>Ejercicio 2025</h1>
        <ul><li><a href="{ENTRY}/39538/2025/1">Primer trimestre</a></li></ul>"""),
        f"{ENTRY}/39538/2025/1": page("""<h1>Primer trimestre</h1><p><a
        href="/storage/app/uploads/public/A121Fr09_Remuneracion-bruta-y_2025_T1.xlsx"
        >Descargar</a></p>"""),
        f"{ENTRY}/39540": page("""<h1>Gastos de representación y viáticos</h1><p><a
        href="/storage/app/uploads/public/A121Fr10_Gastos-de-representacion_2025.xlsx"
        >Descargar</a></p>"""),
        "/storage/app/uploads/public/A121Fr09_Remuneracion-bruta-y_2025_T1.xlsx": xlsx(),
        "/storage/app/uploads/public/A121Fr10_Gastos-de-representacion_2025.xlsx": xlsx(),
    },
)


def test_nested_menus_are_hard_to_find():
    harvest, _ = crawl(CDMX, CD + "/")
    assert (harvest.transparency_url, harvest.transparency_depth) == (
        CD + "/fideicomiso-procinecdmx",
        1,
    )
    assert summary(harvest) == {
        "70-VIII": (CD + ENTRY + "/39538", 3, 5, "link_text"),  # info_depth > 3
        "70-IX": (CD + ENTRY + "/39540", 3, 3, "link_text"),
    }
    assert {h.cited_id for h in harvest.hits} == {"121-IX", "121-X"}
    assert harvest.cited_law == "Art. 121 (ley local)"
    depths = {page.url: (page.depth, page.context) for page in harvest.pages}
    assert depths[CD + ENTRY + "/39538/2025/1"] == (5, "70-VIII")


SE = "https://www.seneam.example.gob.mx"


def apache(path: str, entries: list[str]) -> tuple[int, dict, str]:
    rows = "".join(
        f'<tr><td><a href="{name}">{name}</a></td><td>2025-04-30 12:01</td></tr>'
        for name in entries
    )
    parent = path.rstrip("/").rsplit("/", 1)[0] + "/"
    return (
        200,
        HTML,
        (
            f"<html><head><title>Index of {path}</title></head><body><h1>Index of {path}</h1>"
            '<table><tr><th><a href="?C=N;O=D">Name</a></th><th><a href="?C=M;O=A">Last '
            f'modified</a></th></tr><tr><td><a href="{parent}">Parent Directory</a></td></tr>'
            f"{rows}</table></body></html>"
        ),
    )


SENEAM = site(
    SE,
    {
        "/": page('<a href="/SIPOT/">SIPOT</a> <a href="/transparencia">Transparencia</a>'),
        "/transparencia": page('<p>Consulte el <a href="/SIPOT/">SIPOT</a></p>'),
        "/SIPOT/": apache("/SIPOT/", ["LGTA70FVIII/", "LGTA70FXXVIII/", "LGTA70FXXVIIIA/"]),
        "/SIPOT/LGTA70FVIII/": apache("/SIPOT/LGTA70FVIII/", ["2024/", "2025/"]),
        "/SIPOT/LGTA70FVIII/2024/": apache("/SIPOT/LGTA70FVIII/2024/", ["4T_2024.xlsx"]),
        "/SIPOT/LGTA70FVIII/2025/": apache(
            "/SIPOT/LGTA70FVIII/2025/", ["1T_2025.xlsx", "2T_2025.xlsx"]
        ),
        "/SIPOT/LGTA70FXXVIII/": apache("/SIPOT/LGTA70FXXVIII/", ["2025/"]),
        "/SIPOT/LGTA70FXXVIII/2025/": apache("/SIPOT/LGTA70FXXVIII/2025/", ["1T_2025.xlsx"]),
        "/SIPOT/LGTA70FXXVIIIA/": apache("/SIPOT/LGTA70FXXVIIIA/", []),
        "/SIPOT/LGTA70FVIII/2024/4T_2024.xlsx": xlsx(),
        "/SIPOT/LGTA70FVIII/2025/1T_2025.xlsx": xlsx(),
        "/SIPOT/LGTA70FVIII/2025/2T_2025.xlsx": xlsx(),
        "/SIPOT/LGTA70FXXVIII/2025/1T_2025.xlsx": xlsx(),
    },
)


def test_sipot_directory_listing():
    harvest, source = crawl(SENEAM, SE + "/")
    assert (harvest.transparency_url, harvest.transparency_depth) == (SE + "/SIPOT/", 1)
    assert summary(harvest) == {
        "70-VIII": (SE + "/SIPOT/LGTA70FVIII/", 2, 3, "link_text"),
        "70-XXVIII": (SE + "/SIPOT/LGTA70FXXVIII/", 2, 3, "link_text"),
        "70-XXVIII-A": (SE + "/SIPOT/LGTA70FXXVIIIA/", 2, None, "link_text"),
    }
    assert [r.url.removeprefix(SE) for r in harvest.hit("70-VIII").resources] == [
        "/SIPOT/LGTA70FVIII/2025/1T_2025.xlsx",
        "/SIPOT/LGTA70FVIII/2025/2T_2025.xlsx",
        "/SIPOT/LGTA70FVIII/2024/4T_2024.xlsx",
    ]
    assert not [url for url in source.requested if "?C=" in url]  # Apache sort links


# --------------------------------------------------------------------------- failure paths


def test_robots_disallowed_home_fetches_nothing():
    source = RecordedSource(TJATAM, disallow=["/"])
    harvest, _ = crawl({}, TJ + "/", source=source)
    assert harvest.robots_home_allowed is False
    assert harvest.robots_detail == {"allowed": False, "rule": "/", "source": "recorded"}
    assert source.requested == [] and harvest.fetches == [] and harvest.home is None
    assert harvest.hits == [] and not harvest.unreachable


@pytest.mark.parametrize(
    ("recorded", "errors", "code", "error"),
    [
        ({}, {TJ + "/": "timeout"}, None, "timeout"),
        ({}, {TJ + "/": "dns"}, None, "dns"),
        ({TJ + "/": (503, HTML, "<h1>Service Unavailable</h1>")}, {}, 503, "http_error"),
    ],
)
def test_unreachable_home(recorded, errors, code, error):
    source = RecordedSource(recorded, errors=errors)
    harvest, _ = crawl({}, TJ + "/", source=source)
    assert harvest.unreachable
    assert (harvest.home.status_code, harvest.home.error) == (code, error)
    assert [(row["purpose"], row["depth"], row["error"]) for row in harvest.fetches] == [
        ("home", 0, error)
    ]
    assert harvest.transparency_url is None and harvest.hits == []


def test_no_transparency_section():
    pages = site(
        TJ,
        {
            "/": page("""<a href="/noticias">Noticias</a> <a href="/turismo">Turismo</a>
            <a href="/transparencia-proactiva">Transparencia proactiva</a>"""),
            "/noticias": page("<h1>Noticias</h1>"),
        },
    )
    harvest, source = crawl(pages, TJ + "/")
    assert harvest.transparency_url is None and harvest.transparency_how is None
    assert "no transparency section found" in harvest.notes
    assert harvest.hits == [] and not_probes(source.requested) == [TJ + "/"]


def test_section_that_only_points_to_the_national_platform():
    pnt = "https://consultapublicamx.plataformadetransparencia.org.mx/vut-web/"
    pages = site(
        TJ,
        {
            "/": page('<a href="/transparencia">Transparencia</a>'),
            "/transparencia": page(
                f'<h1>Transparencia</h1><p>Consulte la <a href="{pnt}">'
                "Plataforma Nacional de Transparencia</a>.</p>"
            ),
        },
    )
    harvest, _ = crawl(pages, TJ + "/")
    assert (harvest.transparency_url, harvest.transparency_how) == (TJ + "/transparencia", "link")
    assert harvest.pnt_links == [pnt] and harvest.hits == []


def test_page_budget_truncates():
    items = "".join(f'<li><a href="/t/{n}">Fracción {n}</a></li>' for n in range(1, 31))
    pages = site(
        TJ,
        {
            "/": page('<a href="/transparencia">Transparencia</a>'),
            "/transparencia": page(f"<h1>Artículo 70</h1><ul>{items}</ul>"),
            **{f"/t/{n}": page(f"<h1>Fracción {n}</h1>") for n in range(1, 31)},
        },
    )
    harvest, _ = crawl(pages, TJ + "/", max_pages=8)
    assert harvest.truncated
    assert len(page_fetches(harvest)) == 8
    # every link is reported, fetched or not; fractions the catalog lacks apart
    assert len(harvest.hits) == 10 and len(harvest.unmapped) == 20
    assert [p.depth for p in harvest.pages if p.status_code == 200] == [0, 1, 2, 2, 2, 2, 2, 2]


def test_calendar_trap_is_bounded():
    days = {
        f"/transparencia/sesiones?fecha=2025-01-{d:02d}": page(
            f'<h1>Sesiones</h1><a href="/transparencia/sesiones?fecha=2025-01-{d + 1:02d}">Día '
            "siguiente</a>"
        )
        for d in range(1, 31)
    }
    pages = site(
        TJ,
        {
            "/": page('<a href="/transparencia">Transparencia</a>'),
            "/transparencia": page("""<h1>Transparencia</h1><ul>
            <li><a href="/t/7">Fracción VII</a></li><li><a href="/t/8">Fracción VIII</a></li>
            <li><a href="/t/9">Fracción IX</a></li>
            <li><a href="/transparencia/sesiones?fecha=2025-01-01">Sesiones del Comité</a></li>
            </ul>"""),
            **{f"/t/{n}": page("<p>ok</p>") for n in (7, 8, 9)},
            **days,
        },
    )
    harvest, source = crawl(pages, TJ + "/", max_clicks=40)
    fetched = [url for url in source.requested if "sesiones" in url]
    assert len(fetched) == 5
    assert any("query variants capped at 5" in note for note in harvest.notes)
    assert not harvest.truncated


def test_registry_section_reached_through_an_intermediate_page():
    pages = site(
        TJ,
        {
            "/": page('<a href="/transparencia">Transparencia</a>'),
            "/transparencia": page("""<h1>Unidad de Transparencia</h1><p>Horario de atención.</p>
            <a href="/transparencia/obligaciones">Obligaciones de Transparencia</a>"""),
            "/transparencia/obligaciones": page("""<ul>
            <li><a href="/transparencia/obligaciones/fr8">Fracción VIII</a></li></ul>"""),
            "/transparencia/obligaciones/fr8": page(
                '<h1>Fracción VIII</h1><a href="/docs/rem.xlsx">2025</a>'
            ),
            "/docs/rem.xlsx": xlsx(),
        },
    )
    harvest, _ = crawl(pages, TJ + "/", TJ + "/transparencia/obligaciones")
    assert (harvest.transparency_url, harvest.transparency_depth, harvest.transparency_how) == (
        TJ + "/transparencia/obligaciones",
        2,
        "registry",
    )
    assert summary(harvest) == {
        "70-VIII": (TJ + "/transparencia/obligaciones/fr8", 3, 3, "link_text")
    }


def test_registry_section_not_linked_counts_one_click():
    pages = site(
        TJ,
        {
            "/": page("<h1>Bienvenidos</h1>"),
            "/portal-transparencia/": page("""<ul><li>VIII. Remuneración —
            <a href="/docs/LGTA70FVIII_2025.xlsx">LGTA70FVIII 2025</a></li></ul>"""),
            "/docs/LGTA70FVIII_2025.xlsx": xlsx(),
        },
    )
    harvest, _ = crawl(pages, TJ + "/", TJ + "/portal-transparencia/")
    assert (harvest.transparency_depth, harvest.transparency_how) == (1, "registry")
    assert any("counted as one click" in note for note in harvest.notes)
    assert summary(harvest) == {"70-VIII": (TJ + "/docs/LGTA70FVIII_2025.xlsx", 1, 1, "link_text")}


def test_broken_registry_section_falls_back_to_discovery():
    harvest, _ = crawl(TJATAM, TJ + "/", TJ + "/no-existe")
    assert (harvest.transparency_url, harvest.transparency_how) == (TJ + "/transparencia", "link")
    assert any("registry transparency_url failed (http_error)" in n for n in harvest.notes)


def test_home_listing_fractions_is_the_section():
    pages = site(
        TJ,
        {
            "/": page("""<h2>Obligaciones de transparencia</h2><ul>
            <li><a href="/t/1">I.- Marco normativo</a></li>
            <li><a href="/t/7">VII.- Directorio</a></li>
            <li><a href="/docs/rem.xlsx">VIII.- Remuneración bruta y neta</a></li></ul>"""),
            "/t/1": page('<a href="/docs/marco.pdf">Marco normativo</a>'),
            "/t/7": page("<p>En actualización</p>"),
            "/docs/rem.xlsx": xlsx(),
            "/docs/marco.pdf": pdf(),
        },
    )
    harvest, _ = crawl(pages, TJ + "/")
    assert (harvest.transparency_url, harvest.transparency_depth, harvest.transparency_how) == (
        TJ + "/",
        0,
        "home",
    )
    assert summary(harvest) == {
        "70-I": (TJ + "/t/1", 1, 1, "link_text"),
        "70-VII": (TJ + "/t/7", 1, None, "link_text"),
        "70-VIII": (TJ + "/docs/rem.xlsx", 0, 0, "link_text"),
    }


def test_harvest_round_trips_through_json():
    harvest, _ = crawl(COSCOMATEPEC, "http://coscomatepec.example.gob.mx/")
    data = json.loads(json.dumps(harvest.to_dict()))
    again = PortalHarvest.from_dict(data)
    assert again == harvest
    assert again.to_dict() == data
    assert '"content":' not in json.dumps(data)  # bodies stay out of the harvest


def test_frameset_home_and_embedded_documents():
    pages = site(
        TJ,
        {
            "/": (
                200,
                HTML,
                """<html><head><title>Municipio</title></head><frameset rows="20%,*">
            <frame src="/menu.html"><frame src="/inicio.html"></frameset></html>""",
            ),
            "/menu.html": page('<a href="/transparencia.html">Transparencia</a>'),
            "/inicio.html": page("<h1>Bienvenidos</h1>"),
            "/transparencia.html": page("""<h2>Artículo 70</h2><ul>
            <li><a href="/t/7.html">Fracción VII</a></li><li><a href="/t/8.html">Fracción
            VIII</a></li><li><a href="/t/9.html">Fracción IX</a></li></ul>"""),
            "/t/7.html": page("<p>Sin información que reportar en el periodo.</p>"),
            "/t/8.html": page('<iframe src="/docs/remuneraciones.pdf" width="100%"></iframe>'),
            "/t/9.html": page('<meta http-equiv="refresh" content="0; url=/t/9b.html">'),
            "/t/9b.html": page('<a href="/docs/viaticos.xlsx">Viáticos 2025</a>'),
            "/docs/remuneraciones.pdf": pdf(),
            "/docs/viaticos.xlsx": xlsx(),
        },
    )
    harvest, _ = crawl(pages, TJ + "/")
    # frames are shown without a click: the menu frame is at depth 0
    assert (harvest.transparency_url, harvest.transparency_depth) == (TJ + "/transparencia.html", 1)
    assert summary(harvest) == {
        "70-VII": (TJ + "/t/7.html", 2, None, "link_text"),
        "70-VIII": (TJ + "/t/8.html", 2, 2, "link_text"),
        "70-IX": (TJ + "/t/9.html", 2, 2, "link_text"),  # the refresh costs no click
    }
    assert harvest.hit("70-VII").justification == "Sin información que reportar en el periodo."


def test_robots_disallowed_inner_page_is_not_fetched():
    source = RecordedSource(TJATAM, disallow=["/transparencia/fracc-ix"])
    harvest, _ = crawl({}, TJ + "/", source=source)
    assert TJ + "/transparencia/fracc-ix" not in source.requested
    hit = harvest.hit("70-IX")
    assert (hit.status_code, hit.error, hit.info_depth, hit.depth) == (None, "robots", None, 2)
    blocked = [p for p in harvest.pages if p.url == TJ + "/transparencia/fracc-ix"]
    assert [(p.depth, p.error, p.context) for p in blocked] == [(2, "robots", "70-IX")]


def test_robots_status_of_the_live_fetcher_is_recorded():
    from scrapers.robots import RobotsStatus

    class Source(RecordedSource):
        def robots_status(self, url: str) -> RobotsStatus:
            return RobotsStatus(
                TJ + "/robots.txt",
                "fetched",
                status_code=200,
                detail="robots.txt fetched",
                allowed=True,
            )

    harvest, _ = crawl({}, TJ + "/", source=Source(TJATAM))
    assert harvest.robots_detail["state"] == "fetched"
    robots_rows = [row for row in harvest.fetches if row["purpose"] == "robots"]
    assert [(r["url"], r["status_code"], r["depth"]) for r in robots_rows] == [
        (TJ + "/robots.txt", 200, None)
    ]
    json.dumps(harvest.to_dict())


QR = "https://congreso.qroo.example.gob.mx"
QROO = site(
    QR,
    {
        "/": page('<a href="/transparencia">Transparencia</a>'),
        "/transparencia": page(
            '<ul><li><a href="/transparencia/art70">Artículo 70 – Obligaciones '
            "comunes</a></li></ul>"
        ),
        # the law is named once, on the article page; its numbering is shifted
        "/transparencia/art70": page("""<h1>Artículo 70</h1>
        <p>Ley de Transparencia y Acceso a la Información Pública de Quintana Roo</p><ul>
        <li><a href="/entrada/101">Fracción II. Estructura orgánica</a></li>
        <li><a href="/entrada/109">Fracción IX. La remuneración bruta y neta</a></li>
        <li><a href="/entrada/110">Fracción X. Los programas de trabajo de las unidades
        administrativas</a></li>
        <li><a href="/entrada/116">Fracción XVI. Programas sociales desarrollados</a></li>
        </ul>"""),
        # one page for the whole fraction II: the organigram file is II-B's
        "/entrada/101": page("""<h2>Fracción II</h2><ul>
        <li><a href="/docs/A70Fr02_estructura_2025.xlsx">Estructura orgánica 2025</a></li>
        <li><a href="/docs/A70Fr02_organigrama_2025.pdf">Organigrama 2025</a></li></ul>"""),
        # the state numbers around a page are that page's obligation, not LGTAIP's IX
        "/entrada/109": page("""<h2>Fracción IX</h2>
        <p><a href="/docs/A70Fr09_2025.xlsx">Ejercicio 2025</a></p>"""),
        "/entrada/110": page('<h2>Fracción X</h2><p><a href="/docs/A70Fr10.pdf">2025</a></p>'),
        "/entrada/116": page("""<h2>Fracción XVI</h2>
        <p>No se generó información en el periodo que se informa.</p>"""),
        "/docs/A70Fr02_estructura_2025.xlsx": xlsx(),
        "/docs/A70Fr02_organigrama_2025.pdf": pdf(),
        "/docs/A70Fr09_2025.xlsx": xlsx(),
        "/docs/A70Fr10.pdf": pdf(),
    },
)


def test_state_law_named_above_with_shifted_numbers():
    harvest, _ = crawl(QROO, QR + "/")
    assert harvest.cited_law == "Art. 70 (ley local)"
    assert summary(harvest) == {
        # "Fracción II" without a letter is the whole fraction; its files say which part
        "70-II": (QR + "/entrada/101", 3, None, "link_text"),
        "70-II-A": (QR + "/docs/A70Fr02_estructura_2025.xlsx", 3, 3, "title_keywords"),
        "70-II-B": (QR + "/docs/A70Fr02_organigrama_2025.pdf", 3, 3, "title_keywords"),
        "70-VIII": (QR + "/entrada/109", 3, 3, "link_text"),
        "70-XV-A": (QR + "/entrada/116", 3, None, "link_text"),
    }
    assert [r.url for r in harvest.hit("70-VIII").resources] == [QR + "/docs/A70Fr09_2025.xlsx"]
    assert harvest.hit("70-XV-A").justification.startswith("No se generó información")
    # a state-only fraction is reported apart, never as Art. 70-X
    assert [(u.cited_id, u.url, u.depth) for u in harvest.unmapped] == [
        ("70-X", QR + "/entrada/110", 3)
    ]


def test_unanswered_robots_txt_means_an_unreachable_portal():
    class Source(RecordedSource):
        def robots_allows(self, url: str) -> bool:
            return False

        def robots_status(self, url: str) -> dict:
            return {"state": "unreachable", "allowed": False, "error": "connect"}

        def fetch(self, url: str):
            result = super().fetch(url)
            result.error, result.status_code = "robots", None
            result.error_detail = "not fetched: robots.txt unreachable (connect)"
            return result

    harvest, _ = crawl({}, TJ + "/", source=Source(TJATAM))
    assert harvest.unreachable and harvest.robots_home_allowed
    assert harvest.hits == []


def test_reader_sees_every_checked_resource_and_its_failures_are_contained():
    seen: list[str] = []

    def reader(result):
        seen.append(result.url)
        if "remuneracion" in result.url:
            raise ValueError("reader bug")
        return {"bytes": result.bytes}

    source = RecordedSource(COSCOMATEPEC)
    harvest = crawl_portal(subject("http://coscomatepec.example.gob.mx/"), source, CATALOG,
                           CrawlSettings(), reader=reader)
    checked = [r for hit in harvest.hits for r in hit.resources if r.checked]
    answered = [r for r in checked if r.status_code == 200]
    assert answered and all(r.document is not None for r in answered)
    assert {r.url for r in checked} <= set(seen) | {r.url for r in checked if r.status_code != 200}
    bad = [r for r in checked if "remuneracion" in r.url]
    assert bad and bad[0].document == {"error": "ValueError: reader bug"}
    again = PortalHarvest.from_dict(harvest.to_dict())
    assert again.to_dict() == harvest.to_dict()
