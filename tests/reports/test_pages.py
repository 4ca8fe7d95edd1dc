"""The HTML report on a small real warehouse: two scored runs (so trends exist), a federal
subject without acronym or state, a subject with hostile portal text, one whose portal was
unreachable, and an id that needs sanitising into a file name."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

from reports.pages import is_http_url, render_site, subject_page_name
from warehouse.schema import connect
from warehouse.scoring import compute_scores

LAW = "LGTAIP-2015"
R1, R2 = "manual__2026-01-01", "manual__2026-04-01"
GENERATED = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
XSS = "<script>alert(1)</script>"
ODD_ID = "Sujeto/300 Ñ"

SUBJECTS = [
    # subject_id, name, acronym, level, state, subject_type, portal_url
    ("100", "Secretaría de Ejemplo", "SE", "federal", None, "ejecutivo",
     "https://se.example.gob.mx/"),
    ("200", f"Municipio {XSS}", None, "municipal", "Veracruz", "ejecutivo",
     "javascript:alert(1)"),
    (ODD_ID, "Congreso de Muestra", None, "estatal", "Durango $x$", "legislativo",
     "http://congreso.example.gob.mx/"),
    ("400", "Universidad Inaccesible", "UI", "estatal", "Veracruz", "universidad",
     "http://ui.example.gob.mx/"),
]
OBLIGATIONS = [
    ("70-I", 70, "I", None, "Marco normativo"),
    ("70-II-A", 70, "II", "A", "Estructura orgánica"),
    ("70-IX", 70, "IX", None, "Gastos por concepto de viáticos"),
    ("72-I", 72, "I", None, "Agenda legislativa"),
]


def _checks(run: str, sid: str, overrides: dict[str, str]) -> list[tuple]:
    rows = []
    for oid, *_ in OBLIGATIONS:
        status = "not_applicable" if oid == "72-I" and sid != ODD_ID else "present"
        status = overrides.get(oid, status)
        url = None if status in ("missing", "unreachable") else f"https://x.example/{oid}"
        rows.append((run, sid, oid, status, url, 1 if oid == "70-IX" else None))
    return rows


def _build(path: Path, runs: list[str]) -> None:
    con = connect(path)
    con.executemany(
        "INSERT INTO subjects (subject_id, name, acronym, level, state, subject_type, "
        "portal_url) VALUES (?, ?, ?, ?, ?, ?, ?)", SUBJECTS)
    con.executemany(
        "INSERT INTO obligations (law, obligation_id, article, fraction, subformat, title) "
        "VALUES (?, ?, ?, ?, ?, ?)", [(LAW, *o) for o in OBLIGATIONS])
    for n, run in enumerate(runs):
        con.execute(
            "INSERT INTO runs (run_id, started_at, finished_at, status, as_of, law) "
            "VALUES (?, ?, ?, 'success', ?, ?)",
            [run, datetime(2026, 1 + 3 * n, 2, 10), datetime(2026, 1 + 3 * n, 2, 11),
             [date(2025, 12, 31), date(2026, 3, 31)][n], LAW])
        checks, findings = [], []
        for sid, *_ in SUBJECTS:
            if sid == "400":
                checks += _checks(run, sid, {o[0]: "unreachable" for o in OBLIGATIONS
                                             if o[0] != "72-I"})
                findings.append((sid, None, "PORTAL_UNREACHABLE", "critical",
                                 "El portal no respondió.", "http://ui.example.gob.mx/"))
                continue
            overrides = {"70-I": "missing"} if sid == "200" else {}
            if sid == "100" and n == 0:
                overrides = {"70-II-A": "justified"}
            checks += _checks(run, sid, overrides)
            if sid == "200":
                findings.append((sid, "70-I", "OBLIGATION_MISSING", "high",
                                 f"No se encontró {XSS}", "javascript:alert(1)"))
                findings.append((sid, None, "HARD_TO_FIND", "low", "Portal lento",
                                 "https://prueba.example.gob.mx/a b?x=1&y=\"2\""))
            if sid == "100" and n == 0:
                findings.append((sid, "70-II-A", "JUSTIFIED_ABSENCE", "info",
                                 "No se generó información.", None))
            if sid == ODD_ID or (sid == "100" and n == 1):
                findings.append((sid, "70-IX", "OUTDATED", "medium",
                                 "Información desactualizada: 1 trimestre de atraso.",
                                 "https://x.example/70-IX.xlsx"))
            if sid == ODD_ID and n == 1:
                findings.append((sid, "70-I", "SILENT_EDIT", "high",
                                 "El archivo cambió sin nueva fecha.",
                                 "https://x.example/70-I.xlsx"))
        con.executemany(
            "INSERT INTO obligation_checks (run_id, subject_id, obligation_id, status, "
            "evidence_url, periods_behind) VALUES (?, ?, ?, ?, ?, ?)", checks)
        con.executemany(
            "INSERT INTO findings (finding_id, run_id, subject_id, obligation_id, code, "
            "severity, message, evidence_url) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [(f"{run}-{i}", run, *f) for i, f in enumerate(findings)])
        compute_scores(con, run)
    con.close()


def _pages(root: Path) -> dict[Path, str]:
    return {p: p.read_text(encoding="utf-8") for p in sorted(root.rglob("*.html"))}


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> dict:
    base = tmp_path_factory.mktemp("reports")
    db = base / "lupa.duckdb"
    _build(db, [R1, R2])
    con = connect(db, read_only=True)
    out = {}
    try:
        for run in (R1, R2):
            dest = base / run
            (dest / "datos").mkdir(parents=True)
            export = dest / "datos" / "hallazgos.csv"
            export.write_text("code,count\nOUTDATED,1\n", encoding="utf-8")
            index = render_site(con, run, dest, [export], generated_at=GENERATED)
            scores = dict(con.execute("SELECT subject_id, index_0_100 FROM scores "
                                      "WHERE run_id = ?", [run]).fetchall())
            out[run] = {"dest": dest, "index": index, "scores": scores}
    finally:
        con.close()
    out["db"] = db
    return out


def test_overview_and_one_page_per_subject(site: dict) -> None:
    for run in (R1, R2):
        dest, scores = site[run]["dest"], site[run]["scores"]
        assert site[run]["index"] == dest / "index.html"
        assert sorted(scores) == sorted(s[0] for s in SUBJECTS)
        for sid in scores:
            assert (dest / subject_page_name(sid)).is_file(), sid
        assert len(list((dest / "sujetos").iterdir())) == len(scores)


def test_overview_shows_each_index_as_scored(site: dict) -> None:
    for run in (R1, R2):
        html = site[run]["index"].read_text(encoding="utf-8")
        rows = html.split("<tr>")
        for sid, value in site[run]["scores"].items():
            link = f'href="{subject_page_name(sid)}"'
            ranking_row = next(r for r in rows if link in r and "band" in r)
            assert f'<td class="num">{value:.1f}</td>' in ranking_row, (sid, value)
            page = (site[run]["dest"] / subject_page_name(sid)).read_text(encoding="utf-8")
            assert f">{value:.1f}<" in page


def test_spanish_labels(site: dict) -> None:
    html = site[R2]["index"].read_text(encoding="utf-8")
    assert '<html lang="es">' in html and '<meta charset="utf-8">' in html
    for text in ("Informe nacional", "Fecha de corte", "Poder Ejecutivo", "Poder Legislativo",
                 "Universidad pública", "Federal", "Obligación no publicada",
                 "Portal inaccesible", "Información desactualizada", "crítica", "alta",
                 "Metodología", "Presencia", "Actualización", "Descargas", "Sobresaliente",
                 "Marco normativo"):
        assert text in html, text
    page = (site[R2]["dest"] / subject_page_name("400")).read_text(encoding="utf-8")
    for text in ("Universidad pública", "Estatal", "Inaccesible", "Portal inaccesible",
                 "Qué corregir primero", "Hallazgos a nivel portal", "de 4"):
        assert text in page, text


def test_hostile_portal_text_is_escaped_and_not_linked(site: dict) -> None:
    for run in (R1, R2):
        for path, html in _pages(site[run]["dest"]).items():
            assert "<script" not in html.lower(), path
            assert XSS not in html, path
            assert not re.search(r"href=\"\s*javascript", html, re.I), path
            assert "None" not in html, path  # NULL acronym / state never leak as text
    page = (site[R2]["dest"] / subject_page_name("200")).read_text(encoding="utf-8")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "javascript:alert(1)" in page  # shown as text
    # an http URL with a space and quotes is linked, escaped and encoded
    assert 'href="https://prueba.example.gob.mx/a%20b?x=1&amp;y=&#34;2&#34;"' in page


def test_trend_section_needs_a_previous_run(site: dict) -> None:
    first = site[R1]["index"].read_text(encoding="utf-8")
    second = site[R2]["index"].read_text(encoding="utf-8")
    assert "primera corrida evaluada" in first
    assert 'id="fig-tendencia"' not in first
    assert "Comparación con la corrida anterior de cada sujeto" not in first
    assert "primera corrida evaluada" not in second
    assert 'id="fig-tendencia"' in second
    assert "Comparación con la corrida anterior de cada sujeto" in second
    assert "Retrocesos por obligación" in second
    assert "Modificado sin nueva fecha de actualización" in second  # SILENT_EDIT listed
    page = (site[R2]["dest"] / subject_page_name("100")).read_text(encoding="utf-8")
    assert "Hallazgos nuevos (1)" in page and "Hallazgos resueltos (1)" in page
    assert "▼" in page


def test_charts_are_inline_svg_with_unique_ids(site: dict) -> None:
    for run in (R1, R2):
        for path, html in _pages(site[run]["dest"]).items():
            assert "<?xml" not in html and "<!DOCTYPE svg" not in html
            svgs = html.count("<svg ")
            assert svgs >= (5 if path.name == "index.html" else 1), path
            assert html.count("<figure") == svgs and html.count("<figcaption>") == svgs
            ids = re.findall(r'\sid="([^"]+)"', html)
            assert len(ids) == len(set(ids)), path
            for target in re.findall(r'(?:href="#|url\(#)([^")]+)', html):
                assert target in ids, (path, target)


VIEWER_EVIDENCE = "../../evidencia/"


def test_links_resolve(site: dict) -> None:
    for run in (R1, R2):
        dest = site[run]["dest"]
        for path, html in _pages(dest).items():
            parser = _Links()
            parser.feed(html)
            for href in parser.hrefs:
                if is_http_url(href):
                    continue
                if href.startswith(VIEWER_EVIDENCE):  # served by the viewer, not from disk
                    assert path.parent.name == "sujetos", (path, href)
                    assert re.fullmatch(r"[\w.-]+", href[len(VIEWER_EVIDENCE):]), href
                    continue
                parts = urlsplit(href)
                assert not parts.scheme, (path, href)
                target = (path.parent / unquote(parts.path)).resolve() if parts.path else path
                assert target.is_file(), (path, href)
                assert dest.resolve() in target.parents, (path, href)
                if parts.fragment:
                    assert f'id="{parts.fragment}"' in target.read_text(encoding="utf-8")
    html = site[R2]["index"].read_text(encoding="utf-8")
    assert 'href="datos/hallazgos.csv"' in html


def test_output_is_deterministic(site: dict, tmp_path: Path) -> None:
    con = connect(site["db"], read_only=True)
    try:
        dest = tmp_path / "again"
        (dest / "datos").mkdir(parents=True)
        export = dest / "datos" / "hallazgos.csv"
        export.write_text("code,count\nOUTDATED,1\n", encoding="utf-8")
        render_site(con, R2, dest, [export], generated_at=GENERATED)
    finally:
        con.close()
    before = {p.relative_to(site[R2]["dest"]): t for p, t in _pages(site[R2]["dest"]).items()}
    after = {p.relative_to(dest): t for p, t in _pages(dest).items()}
    assert before == after


def test_single_subject_run_and_unscored_run(tmp_path: Path) -> None:
    db = tmp_path / "one.duckdb"
    con = connect(db)
    con.execute("INSERT INTO subjects (subject_id, name, level, subject_type, portal_url) "
                "VALUES ('1', 'Único', 'federal', 'autonomo', 'https://u.example/')")
    con.execute("INSERT INTO obligations (law, obligation_id, article, title) "
                "VALUES (?, '70-I', 70, 'Marco normativo')", [LAW])
    for run in ("solo", "sin-puntaje"):
        con.execute("INSERT INTO runs (run_id, started_at, status, as_of, law) "
                    "VALUES (?, '2026-01-01', 'success', '2025-12-31', ?)", [run, LAW])
        con.execute("INSERT INTO obligation_checks (run_id, subject_id, obligation_id, "
                    "status) VALUES (?, '1', '70-I', 'present')", [run])
    compute_scores(con, "solo")
    con.close()
    con = connect(db, read_only=True)
    try:
        index = render_site(con, "solo", tmp_path / "site")
        html = index.read_text(encoding="utf-8")
        assert "primera corrida evaluada" in html and ">100.0<" in html
        page = (tmp_path / "site" / subject_page_name("1")).read_text(encoding="utf-8")
        assert "Sin hallazgos a nivel portal" in page and "Entre sujetos federales" in page
        assert "1 <span class=\"small muted\">de 1</span>" in page
        with pytest.raises(ValueError, match=r"sin-puntaje.*lupa score --run sin-puntaje"):
            render_site(con, "sin-puntaje", tmp_path / "other")
        with pytest.raises(ValueError, match="not in the warehouse"):
            render_site(con, "nope", tmp_path / "other")
        with pytest.raises(ValueError, match="not under the report directory"):
            render_site(con, "solo", tmp_path / "site2", [db])
    finally:
        con.close()


@pytest.mark.parametrize("ids", [
    ["100", "abc_1-2", "A", "a", "a.b", "a_b", "a/b", "a\\b", "../x", "", " ", "con", "CON",
     "ñ", "n", "x" * 300, "x" * 301, "<script>", "sujeto"],
])
def test_subject_page_names_are_safe_and_distinct(ids: list[str]) -> None:
    names = [subject_page_name(i) for i in ids]
    assert len(set(names)) == len(names)
    assert len({n.lower() for n in names}) == len(names)  # case-insensitive file systems
    for name in names:
        assert re.fullmatch(r"sujetos/[a-z0-9_-]{1,64}(\.[0-9a-f]{12})?\.html", name), name
    assert subject_page_name("100") == "sujetos/100.html"
    assert subject_page_name("a.b") == subject_page_name("a.b")


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            self.hrefs += [v for k, v in attrs if k == "href" and v is not None]
