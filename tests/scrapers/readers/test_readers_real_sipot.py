"""The readers on real published files: a 2025 PNT export (xlsx) and three 2017 state exports (xls).

Expected values were taken by inspecting the files by hand (header position, column count,
data rows, Ejercicio values, period columns). Assertions never print cell contents: the files
hold personal data.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from scrapers.readers import Document, inspect_bytes, read_document

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "real_sipot"
EXPORT_2025 = "export_2025_state_university_art70_frVIII.xlsx"
XLS_VIII = "export_2017_state_agency_VIII_-_08.xls"
XLS_IX_A = "export_2017_state_agency_IX_-_09_A.xls"
XLS_XXVIII = "export_2017_state_agency_XXVIII_-_28.xls"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _read(name: str) -> Document:
    return read_document((FIXTURES / name).read_bytes(), filename=name)


@pytest.fixture(scope="module")
def export_2025() -> Document:
    """Read once: the workbook has 16 sheets and ~60,000 rows in all (a few seconds)."""
    return _read(EXPORT_2025)


@pytest.fixture(scope="module")
def xls_docs() -> dict[str, Document]:
    return {name: _read(name) for name in (XLS_VIII, XLS_IX_A, XLS_XXVIII)}


def test_fixtures_are_in_the_repository() -> None:
    names = sorted(path.name for path in FIXTURES.iterdir() if path.suffix in (".xls", ".xlsx"))
    assert names == sorted([EXPORT_2025, XLS_VIII, XLS_IX_A, XLS_XXVIII])


# ---------------------------------------------------------------- 2025 PNT export (xlsx)


def test_2025_export_layout(export_2025: Document) -> None:
    doc = export_2025
    assert doc.media_type == XLSX
    assert doc.kind == "sipot_export"
    assert doc.sheet == "Información"
    assert doc.sheets[:3] == ["Información", "Hidden_1", "Hidden_2"]
    assert len(doc.sheets) == 16
    assert doc.header_row == 6
    assert len(doc.columns) == 35
    assert doc.columns[:4] == ["ID", "FECHA CREACION", "FECHA MODIFICACION", "EJERCICIO"]
    assert doc.columns[5] == "FECHA DE TÉRMINO DEL PERIODO QUE SE INFORMA"
    assert doc.columns[-2:] == ["FECHA DE ACTUALIZACIÓN", "NOTA"]
    assert doc.rows == 3900
    assert not doc.truncated
    assert doc.warnings == []


def test_2025_export_metadata_rows(export_2025: Document) -> None:
    assert export_2025.metadata == {
        "sujeto_obligado": "YUC - Universidad Autónoma de Yucatán",
        "normativa": "LETAIP de Yucatán  2018-2025",
        "formato": "Remuneraciones brutas y netas de todas las personas servidoras públicas "
        "de base y de confianza",
        "periodo": "3er trimestre",
    }


def test_2025_export_labels_are_folded_with_commas_restored(export_2025: Document) -> None:
    folded = export_2025.normalized_columns
    assert folded[4] == "fecha de inicio del periodo que se informa"
    assert folded[5] == "fecha de termino del periodo que se informa"
    assert folded[14] == "sexo (catalogo)"  # published as 'SEXO (CATÁLOGO )'
    assert folded[32] == (
        "area(s) responsable(s) que genera(n), posee(n), publica(n) y actualizan la informacion"
    )
    assert folded[15].startswith("monto de la remuneracion mensual bruta, de conformidad al")


def test_2025_export_period(export_2025: Document) -> None:
    period = export_2025.period
    assert period.years == [2025]
    assert (period.start, period.end) == (date(2025, 7, 1), date(2025, 9, 30))
    assert period.label == "3er trimestre"
    assert period.source == "dates"
    assert export_2025.dates_parsed == {
        "FECHA CREACION": "excel_serial",
        "FECHA MODIFICACION": "excel_serial",
        "FECHA DE INICIO DEL PERIODO QUE SE INFORMA": "excel_serial",
        "FECHA DE TÉRMINO DEL PERIODO QUE SE INFORMA": "excel_serial",
        "FECHA DE ACTUALIZACIÓN": "excel_serial",
    }


def test_2025_export_catalogs(export_2025: Document) -> None:
    assert set(export_2025.catalogs) == {"Hidden_1", "Hidden_2"}
    assert export_2025.catalogs["Hidden_2"] == ["Hombre", "Mujer"]
    hidden_1 = export_2025.catalogs["Hidden_1"]
    assert len(hidden_1) == 11
    assert hidden_1[:3] == ["Funcionaria (o)", "Personal de confianza", "Persona servidora pública"]
    assert hidden_1[-1] == "Otro"


def test_2025_export_subtables(export_2025: Document) -> None:
    subtables = export_2025.subtables
    assert len(subtables) == 13
    assert all(name.startswith("Tabla_325") for name in subtables)
    primas = subtables["Tabla_325290"]
    assert primas.title == "Primas, monto bruto y neto, tipo de moneda y su periodicidad"
    assert primas.header_row == 3
    assert primas.columns == [
        "ID",
        "FECHA CREACION",
        "FECHA MODIFICACION",
        "DENOMINACIÓN DE LAS PRIMAS",
        "MONTO BRUTO DE LAS PRIMAS",
        "MONTO NETO DE LAS PRIMAS",
        "TIPO DE MONEDA DE LAS PRIMAS",
        "PERIODICIDAD DE LAS PRIMAS",
    ]
    assert primas.rows == 6331
    assert subtables["Tabla_325315"].rows == 6911
    assert subtables["Tabla_325299"].columns[3] == (
        "DESCRIPCIÓN DE LAS PERCEPCIONES ADICIONALES EN ESPECIE"
    )
    # Every sub-table is referenced by a main-sheet column label.
    assert all(any(f"({name})" in label for label in export_2025.columns) for name in subtables)


def test_2025_export_frame_and_notes(export_2025: Document) -> None:
    frame = export_2025.frame()
    assert frame.shape == (3900, 35)
    assert all(str(dtype) == "str" for dtype in frame.dtypes)
    assert set(frame["EJERCICIO"]) == {"2025"}
    assert set(frame["FECHA DE INICIO DEL PERIODO QUE SE INFORMA"]) == {"2025-07-01"}
    assert frame["ID"].str.fullmatch(r"\d+").all()
    assert len(export_2025.sample) == 20
    assert all(len(row) == 35 for row in export_2025.sample)
    assert export_2025.notes  # the NOTA column explains the net amounts
    assert any("monto neto" in note for note in export_2025.notes)


def test_2025_export_serialises(export_2025: Document) -> None:
    data = json.loads(json.dumps(export_2025.to_dict()))
    assert data["period"] == {
        "start": "2025-07-01",
        "end": "2025-09-30",
        "years": [2025],
        "label": "3er trimestre",
        "source": "dates",
    }
    assert data["subtables"]["Tabla_325290"]["rows"] == 6331
    assert "table" not in data and "text" not in data


# ---------------------------------------------------------------- 2017 state exports (xls)


@pytest.mark.parametrize(
    ("name", "columns", "rows", "years", "start", "end"),
    [
        (XLS_VIII, 34, 93, [2015, 2016, 2017], date(2015, 1, 1), date(2017, 3, 31)),
        (XLS_IX_A, 37, 39, [2016, 2017], date(2016, 2, 1), date(2017, 3, 31)),
        (XLS_XXVIII, 27, 23, [2015, 2016, 2017], date(2015, 1, 1), date(2017, 12, 31)),
    ],
)
def test_2017_xls_exports(
    xls_docs: dict[str, Document],
    name: str,
    columns: int,
    rows: int,
    years: list[int],
    start: date,
    end: date,
) -> None:
    doc = xls_docs[name]
    assert doc.media_type == "application/vnd.ms-excel"
    assert doc.kind == "sipot_export"
    assert doc.sheet == "Informacion"
    assert doc.header_row == 1
    assert len(doc.columns) == columns
    assert doc.rows == rows
    assert doc.metadata == {}  # these exports have no metadata rows
    # 2016 formats: no period dates, only Ejercicio + 'Periodo que se informa' text.
    assert doc.period.years == years
    assert (doc.period.start, doc.period.end) == (start, end)
    assert doc.period.source == "period_labels"
    assert doc.period.label is None
    # The ID column has no label; the others carry a leading space, stripped.
    assert doc.columns[:4] == ["", "Sujeto Obligado", "Ejercicio", "Periodo Que Se Informa"]
    assert doc.columns[-3:] == ["Año", "Fecha de Actualización", "Nota"]
    assert doc.normalized_columns[-4:] == [
        "area responsable de la informacion",
        "ano",
        "fecha de actualizacion",
        "nota",
    ]
    assert doc.dates_parsed["Fecha de Actualización"] == "dd/mm/yyyy"
    assert doc.dates_parsed["Fecha de Validación"] == "dd/mm/yyyy"
    assert doc.warnings == []
    frame = doc.frame()
    assert frame.shape == (rows, columns)
    assert list(frame.columns[:2]) == ["column_1", "Sujeto Obligado"]
    assert frame["column_1"].str.fullmatch(r"\d+").all()  # IDs: '5642394', not '5642394.0'


def test_2017_viii_catalogs_and_subtables(xls_docs: dict[str, Document]) -> None:
    doc = xls_docs[XLS_VIII]
    assert doc.catalogs["hidden2"] == ["Masculino", "Femenino"]
    assert len(doc.catalogs["hidden1"]) == 10
    assert len(doc.subtables) == 14
    assert doc.subtables["TABLA221989"].columns == [
        "",
        "Denominación de La Percepción en Efectivo",
        "Monto de La Percepción en Efectivo",
        "Moneda",
        "Periodicidad de La Percepción en Efectivo",
    ]
    assert doc.subtables["TABLA221989"].rows == 93
    assert doc.subtables["TABLA221989"].title is None
    empty = doc.subtables["TABLA222000"]
    assert (empty.rows, empty.columns, empty.header_row) == (0, [], None)


def test_2017_ix_a_and_xxviii_details(xls_docs: dict[str, Document]) -> None:
    travel = xls_docs[XLS_IX_A]
    assert travel.columns[28] == "Fecha de Entrega Del Informe de La Comisión"
    assert travel.subtables["TABLA223391"].rows == 39
    assert travel.catalogs["hidden2"] == ["Nacional", "Internacional"]
    contracts = xls_docs[XLS_XXVIII]
    assert contracts.catalogs == {
        "hidden1": ["Autorización", "Concesión", "Licencia", "Permiso", "Contrato", "Convenio"],
        "hidden2": ["Privado", "Público"],
    }
    assert contracts.subtables == {}
    assert contracts.columns[15] == "Cláusula, Punto, Artículo O Fracción"
    assert contracts.dates_parsed["Fecha de Inicio de Vigencia"] == "dd/mm/yyyy"
    assert len(contracts.notes) == 14  # distinct NOTA texts


def test_inspect_bytes_on_a_real_export() -> None:
    summary = inspect_bytes((FIXTURES / XLS_XXVIII).read_bytes(), filename=XLS_XXVIII)
    assert summary["format"] == "application/vnd.ms-excel"
    assert summary["kind"] == "sipot_export"
    assert (summary["header_row"], summary["columns"], summary["rows"]) == (1, 27, 23)
    assert summary["period"]["years"] == [2015, 2016, 2017]
    assert summary["catalogs"] == {"hidden1": 6, "hidden2": 2}
    assert summary["warnings"] == []
    json.dumps(summary)
