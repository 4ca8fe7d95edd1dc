"""The runner on real and synthetic SIPOT datasets, through Great Expectations.

Importing great_expectations costs several seconds: the module validates every dataset in ONE
``validate_datasets`` call (one GX context) and the tests read its results.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from urllib.parse import unquote

import pandas as pd
import pytest

from audit.findings import Code
from audit.formats import load_formats
from expectations.runner import Dataset, data_quality_findings, validate_datasets
from scrapers.readers import read_document
from warehouse.shards import to_arrow

REAL = Path(__file__).resolve().parents[1] / "fixtures" / "real_sipot"
AS_OF = dt.date(2025, 11, 20)
RUN = "manual__2025-11-20T00:00:00+00:00"
GOOD_URL = "https://transparencia.example.mx/70/VIII/2025-3.xlsx"
BAD_URL = "https://sujeto.example.mx/70/VIII/malo.xlsx"
LINKS_URL = "https://sujeto.example.mx/70/XVII/curriculos.xlsx"
OLD_URL = "https://estatal.example.mx/VIII-08.xls"
NO_AREA_URL = "https://sujeto.example.mx/70/VIII/sin-area.xlsx"
BROKEN_URL = "https://sujeto.example.mx/repetidas.csv"
GROSS = "MONTO DE LA REMUNERACIÓN MENSUAL BRUTA  DE CONFORMIDAD AL TABULADOR DE SUELDOS Y " \
        "SALARIOS QUE CORRESPONDA"
NET = "MONTO DE LA REMUNERACIÓN MENSUAL NETA  DE CONFORMIDAD AL TABULADOR DE SUELDOS Y " \
      "SALARIOS QUE CORRESPONDA"
AREA = "ÁREA(S) RESPONSABLE(S) QUE GENERA(N)  POSEE(N)  PUBLICA(N) Y ACTUALIZAN LA INFORMACIÓN"
TRAJECTORY = "Hipervínculo al documento que contenga la trayectoria"


def frame_of(name: str) -> pd.DataFrame:
    return read_document((REAL / name).read_bytes()).frame()


def bad_viii(real: pd.DataFrame) -> pd.DataFrame:
    """Eight real rows with known defects (percentages over the non-empty values)."""
    bad = real.head(8).copy()
    bad.loc[[0, 1], GROSS] = ["-1500.50", "-20"]                 # 2/8 negative = 25 %
    bad.loc[2, NET] = "No aplica"                                 # 1/8 not a number = 12.5 %
    bad.loc[3, "SEXO (CATÁLOGO )"] = "No binario"                # 1 of 7 non-empty = 14.29 %
    bad.loc[4, "SEXO (CATÁLOGO )"] = None
    bad.loc[5, "FECHA DE INICIO DEL PERIODO QUE SE INFORMA"] = "2025-10-15"   # after the end
    bad.loc[6, "EJERCICIO"] = "1900"                              # 1/8 = 12.5 %
    bad.loc[7, "TIPO DE INTEGRANTE DEL SUJETO OBLIGADO (CATÁLOGO)"] = "EMPLEADA  (O)"  # folded
    return bad


def links_xvii() -> pd.DataFrame:
    """A 2018-edition Fr. XVII file whose only defect is two non-URLs in a hyperlink column."""
    labels = load_formats().get("70-XVII:2018:53477").labels
    rows = []
    for index, link in enumerate(["https://sujeto.gob.mx/cv/1.pdf", "http://sujeto.gob.mx/cv 2.pdf",
                                  "No disponible", "www.sujeto.gob.mx/cv/4.pdf"]):
        row = dict.fromkeys(labels, "x")
        row.update({
            "Ejercicio": "2025", "Fecha de inicio del periodo que se informa": "01/07/2025",
            "Fecha de término del periodo que se informa": "30/09/2025",
            "Nivel máximo de estudios concluido y comprobable (catálogo)":
                ["Licenciatura", "MAESTRIA", "Doctorado", "carrera tecnica"][index],
            TRAJECTORY: link,
            "Sanciones Administrativas definitivas aplicadas por la autoridad competente "
            "(catálogo)": ["No", "SI", "no", "Sí"][index],
            "Área(s) responsable(s) que genera(n), posee(n), publica(n) y actualizan la "
            "información": "Dirección de Administración",
            "Fecha de validación": "2025-10-15", "Fecha de actualización": "2025-10-15",
        })
        rows.append(row)
    return pd.DataFrame(rows, columns=labels, dtype="str")


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    real = frame_of("export_2025_state_university_art70_frVIII.xlsx")
    docs = tmp_path_factory.mktemp("data_docs")
    broken = pd.DataFrame([["2025", "2024"]], columns=["Ejercicio", "Ejercicio"], dtype="str")
    datasets = [
        Dataset("uady", "70-VIII", GOOD_URL, real),
        Dataset("malo", "70-VIII", BAD_URL, bad_viii(real)),
        Dataset("ligas", "70-XVII", LINKS_URL, links_xvii(), format_id="70-XVII:2018:53477"),
        Dataset("conalep", "70-VIII", OLD_URL, frame_of("export_2017_state_agency_VIII_-_08.xls")),
        Dataset("sinarea", "70-VIII", NO_AREA_URL, real.head(3).drop(columns=[AREA])),
        Dataset("roto", None, BROKEN_URL, broken),
    ]
    results = validate_datasets(datasets, RUN, docs, as_of=AS_OF)
    return results, docs


def rows_of(results, url: str) -> dict[str, dict]:
    return {r["expectation"]: r for r in results if r["resource_url"] == url}


def failing(results, url: str) -> dict[str, float | None]:
    return {k: r["unexpected_percent"] for k, r in rows_of(results, url).items()
            if not r["success"]}


def test_real_2025_export_passes_the_common_and_viii_suites(run):
    results, _ = run
    rows = rows_of(results, GOOD_URL)
    assert {r["suite"] for r in rows.values()} == {"common", "70-VIII"}
    for expectation in (
            "common.ejercicio_plausible_year", "common.period_start_parses",
            "common.period_end_parses", "common.update_date_parses",
            "common.period_start_before_end", "common.update_not_before_period_end",
            "common.area_responsable_present",
            "70-VIII.monto_remuneracion_mensual_bruta.numeric",
            "70-VIII.monto_remuneracion_mensual_bruta.non_negative",
            "70-VIII.monto_remuneracion_mensual_neta.non_negative",
            "70-VIII.sexo.in_catalog", "70-VIII.tipo_integrante_sujeto_obligado.in_catalog"):
        assert rows[expectation]["success"], expectation
        assert rows[expectation]["unexpected_percent"] == 0.0, expectation
    assert rows["common.has_rows"]["success"]
    assert rows["common.has_rows"]["unexpected_percent"] is None
    # The 2023 edition has no 'Fecha de validación': that check does not run.
    assert "common.validation_date_parses" not in rows
    sexo = rows["70-VIII.sexo.in_catalog"]
    assert sexo["column_name"] == "SEXO (CATÁLOGO )"
    details = json.loads(sexo["details"])
    assert details["format_id"] == "70-VIII:2023:yuc2025"
    assert details["rows"] == details["rows_validated"] == details["element_count"] == 3900
    assert rows["common.period_start_before_end"]["column_name"] == (
        "FECHA DE INICIO DEL PERIODO QUE SE INFORMA | FECHA DE TÉRMINO DEL PERIODO QUE SE INFORMA")
    assert all(r["run_id"] == RUN and r["subject_id"] == "uady" for r in rows.values())


def test_synthetic_viii_fails_exactly_its_defects(run):
    results, _ = run
    assert failing(results, BAD_URL) == pytest.approx({
        "70-VIII.monto_remuneracion_mensual_bruta.non_negative": 25.0,
        "70-VIII.monto_remuneracion_mensual_neta.numeric": 12.5,
        "70-VIII.sexo.in_catalog": 100 / 7,
        "common.period_start_before_end": 12.5,
        "common.ejercicio_plausible_year": 12.5,
    })
    rows = rows_of(results, BAD_URL)
    assert json.loads(rows["common.ejercicio_plausible_year"]["details"])[
        "unexpected_sample"] == ["1900"]
    assert json.loads(rows["70-VIII.sexo.in_catalog"]["details"])["missing_count"] == 1
    # 'No aplica' is reported once, as not numeric, not again as negative.
    assert rows["70-VIII.monto_remuneracion_mensual_neta.non_negative"]["success"]


def test_non_urls_in_a_hyperlink_column_fail_only_the_url_check(run):
    results, _ = run
    # Fr. VIII formats have no hyperlink column: the URL defect is tested on Fr. XVII.
    assert failing(results, LINKS_URL) == {
        "70-XVII.hipervinculo_documento_contenga_trayectoria.is_url": 50.0}
    rows = rows_of(results, LINKS_URL)
    sample = json.loads(rows["70-XVII.hipervinculo_documento_contenga_trayectoria.is_url"][
        "details"])["unexpected_sample"]
    assert sorted(sample) == ["No disponible", "www.sujeto.gob.mx/cv/4.pdf"]
    assert rows["common.period_start_before_end"]["success"]          # dd/mm/yyyy dates
    assert rows["common.validation_date_parses"]["success"]
    assert rows["70-XVII.nivel_maximo_estudios_concluido.in_catalog"]["success"]


def test_2016_edition_file_with_day_month_year_dates(run):
    results, _ = run
    rows = rows_of(results, OLD_URL)
    assert failing(results, OLD_URL) == {}
    assert json.loads(rows["70-VIII.sexo.in_catalog"]["details"])["format_id"] == (
        "70-VIII:2016:34931")
    assert rows["common.update_date_parses"]["success"]
    assert rows["common.period_column_present"]["column_name"] == "Periodo Que Se Informa"
    assert "common.period_start_before_end" not in rows     # 2016: no period dates


def test_missing_column_is_a_failed_structural_expectation(run):
    results, _ = run
    assert failing(results, NO_AREA_URL) == {"common.area_responsable_column_present": None}


def test_lupa_failures_are_reported_not_blamed_on_the_publisher(run):
    results, _ = run
    assert rows_of(results, BROKEN_URL) == {}
    assert [e["resource_url"] for e in results.errors] == [BROKEN_URL]
    assert results.stats["datasets"] == 6


def test_rows_fit_the_warehouse_table(run):
    results, _ = run
    table = to_arrow("expectation_results", results)
    assert table.num_rows == len(results)
    keys = {(r["resource_url"], r["suite"], r["expectation"], r["column_name"]) for r in results}
    assert len(keys) == len(results)


def test_data_quality_findings_pick_the_bad_datasets_only(run):
    results, _ = run
    findings = {f.evidence_url: f for f in data_quality_findings(results)}
    assert set(findings) == {BAD_URL, LINKS_URL, NO_AREA_URL}
    bad = findings[BAD_URL]
    assert bad.code is Code.DATA_QUALITY and bad.subject_id == "malo"
    assert bad.obligation_id == "70-VIII" and bad.run_id == RUN
    assert bad.message.startswith("Los datos publicados no superan 5 verificaciones de calidad")
    assert "25.0 % de los valores revisados" in bad.message
    assert "«Ejercicio» es un año entre 2015" in bad.message
    assert "«Área(s) responsable(s)" in findings[NO_AREA_URL].message
    # A higher tolerance spares the bad VIII file (worst check: 25 %), never a structural one.
    lenient = {f.evidence_url for f in data_quality_findings(results, threshold=30)}
    assert lenient == {LINKS_URL, NO_AREA_URL}


def test_data_docs_site_is_built_and_reads_offline(run):
    results, docs = run
    index = results.docs_index
    assert index == docs / "index.html" and index.exists()
    text = index.read_text(encoding="utf-8")
    assert "70-VIII" in text and "common" in text and BAD_URL in text
    static = text[text.index('id="lupa-validaciones"'):text.index("</section>")]
    links = [unquote(part.split('"', 1)[0]) for part in static.split('href="')[1:]]
    assert len(links) == 10        # common + obligation suite for each readable dataset
    assert all((docs / link).exists() for link in links)
    assert len(list((docs / "validations").rglob("*.html"))) == 10
