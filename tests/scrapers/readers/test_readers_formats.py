"""The readers on files generated in the test: every supported format and layout.

Names and values are invented; each case pins one layout a portal really publishes.
"""

from __future__ import annotations

import io
import json
from datetime import date, datetime

import docx
import openpyxl
import pytest
import xlsxwriter
from fpdf import FPDF
from PIL import Image, ImageDraw

from scrapers.readers import inspect_bytes, read_document

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PERIOD_LABELS = [
    "Ejercicio",
    "Fecha de inicio del periodo que se informa",
    "Fecha de término del periodo que se informa",
]
TAIL_LABELS = ["Fecha de actualización", "Nota"]
JUSTIFICATION = "No se generó información en el periodo que se informa."


def _workbook_bytes(workbook: openpyxl.Workbook) -> bytes:
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def header_first_xlsx() -> bytes:
    """An agency's own sheet: header in row 1, date cells, a blank row inside, blanks after."""
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "Hoja1"
    sheet.append([*PERIOD_LABELS, "Denominación del puesto", *TAIL_LABELS])
    sheet.append([2024, datetime(2024, 1, 1), datetime(2024, 3, 31), "Jefe de área",
                  datetime(2024, 4, 15), None])  # fmt: skip
    sheet.append([None] * 6)
    sheet.append([2024, datetime(2024, 4, 1), datetime(2024, 6, 30), "Analista",
                  datetime(2024, 7, 10), JUSTIFICATION])  # fmt: skip
    sheet.append([None] * 6)
    sheet.append([None] * 6)
    return _workbook_bytes(workbook)


def test_header_in_first_row_xlsx() -> None:
    doc = read_document(header_first_xlsx(), filename="remuneraciones.xlsx")
    assert doc.media_type == XLSX
    assert doc.kind == "sipot_export"  # its header follows a SIPOT format
    assert (doc.sheet, doc.header_row, len(doc.columns), doc.rows) == ("Hoja1", 1, 6, 2)
    assert doc.metadata == {}
    assert doc.period.years == [2024]
    assert (doc.period.start, doc.period.end) == (date(2024, 1, 1), date(2024, 6, 30))
    assert doc.dates_parsed["Fecha de actualización"] == "excel_serial"
    assert doc.notes == [JUSTIFICATION]
    assert doc.warning_codes() == ["blank_rows"]
    frame = doc.frame()
    assert frame.shape == (2, 6)
    assert frame.loc[0, "Fecha de inicio del periodo que se informa"] == "2024-01-01"
    assert frame.loc[0, "Ejercicio"] == "2024"
    assert frame["Nota"].isna().tolist() == [True, False]


def test_plain_table_is_not_a_sipot_export() -> None:
    workbook = openpyxl.Workbook()
    workbook.active.append(["Reporte de obras 2024"])
    workbook.active.append([])
    workbook.active.append(["Obra", "Monto", "Municipio"])
    workbook.active.append(["Puente", 1500000.5, "Centro"])
    doc = read_document(_workbook_bytes(workbook))
    assert (doc.kind, doc.header_row, doc.columns, doc.rows) == (
        "table",
        3,
        ["Obra", "Monto", "Municipio"],
        1,
    )
    assert doc.sample == [["Puente", "1500000.5", "Centro"]]
    assert doc.period.source is None


def test_values_right_of_the_header_are_reported() -> None:
    doc = read_document(b"Obra,Monto\nPuente,10\nCamino,20,sin etiqueta\n")
    assert (doc.media_type, doc.delimiter, doc.rows, doc.columns) == (
        "text/plain",
        ",",
        2,
        ["Obra", "Monto"],
    )
    assert doc.warning_codes() == ["unlabelled_cells"]


def test_bare_serial_numbers_in_date_columns() -> None:
    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"in_memory": True})
    sheet = book.add_worksheet("Información")
    for column, label in enumerate([*PERIOD_LABELS, "Nota"]):
        sheet.write(0, column, label)
    sheet.write_row(1, 0, ["2025", 45658, 45747, ""])  # 2025-01-01 .. 2025-03-31, no date style
    book.close()
    doc = read_document(out.getvalue())
    assert doc.dates_parsed["Fecha de inicio del periodo que se informa"] == (
        "number_as_excel_serial"
    )
    assert (doc.period.start, doc.period.end) == (date(2025, 1, 1), date(2025, 3, 31))
    assert doc.frame().iloc[0, 1] == "45658"  # the frame shows what was published


def upload_template_xlsx(with_data: bool = True) -> bytes:
    """A SIPOT 'formato de carga' laid out as reference/sipot_export_layout.md section B."""
    workbook = openpyxl.Workbook()
    main = workbook.active
    main.title = "Reporte de Formatos"
    main.append([43336])
    main.append(["TITULO", "NOMBRE CORTO", "DESCRIPCION"])
    main.append(["Procedimientos de licitación", "LGTA70FXXVIIIA", "Resultados de licitaciones"])
    main.append([1, 4, 4, 9, 10, 2, 13, 14])
    main.append([334280, 334281, 334282, 334283, 334284, 334285, 334286, 334287])
    main.append(["Tabla Campos"])
    main.append([*PERIOD_LABELS, "Tipo de procedimiento", "Participantes",
                 "Área(s) responsable(s) que genera(n), posee(n), publica(n) y actualizan la "
                 "información", *TAIL_LABELS])  # fmt: skip
    if with_data:
        main.append(["2023", "01/01/2023", "31/03/2023", "Licitación pública", "1",
                     "Dirección de Adquisiciones", "15/04/2023", ""])  # fmt: skip
    hidden = workbook.create_sheet("Hidden_1")
    for value in ("Licitación pública", "Invitación a cuando menos tres personas"):
        hidden.append([value])
    table = workbook.create_sheet("Tabla_334596")
    table.append([1, 1, 1])
    table.append([43000, 43001, 43002])
    table.append(["ID", "Nombre(s)", "Razón social"])
    table.append([1, "Persona A", "Empresa A"])
    table.append([1, "Persona B", "Empresa B"])
    return _workbook_bytes(workbook)


def test_upload_template() -> None:
    doc = read_document(upload_template_xlsx())
    assert doc.kind == "sipot_template"
    assert (doc.sheet, doc.header_row, len(doc.columns), doc.rows) == (
        "Reporte de Formatos",
        7,
        8,
        1,
    )
    assert doc.metadata["id_formato"] == "43336"
    assert doc.metadata["titulo"] == "Procedimientos de licitación"
    assert doc.metadata["nombre_corto"] == "LGTA70FXXVIIIA"
    assert doc.metadata["descripcion"] == "Resultados de licitaciones"
    assert doc.metadata["field_types"] == ["1", "4", "4", "9", "10", "2", "13", "14"]
    assert doc.metadata["field_ids"][0] == "334280"
    assert doc.catalogs == {
        "Hidden_1": ["Licitación pública", "Invitación a cuando menos tres personas"]
    }
    sub = doc.subtables["Tabla_334596"]
    assert (sub.title, sub.header_row, sub.columns, sub.rows) == (
        None,
        3,
        ["ID", "Nombre(s)", "Razón social"],
        2,
    )
    assert (doc.period.start, doc.period.end) == (date(2023, 1, 1), date(2023, 3, 31))
    assert doc.dates_parsed["Fecha de actualización"] == "dd/mm/yyyy"


def test_blank_upload_template_has_no_rows() -> None:
    doc = read_document(upload_template_xlsx(with_data=False))
    assert (doc.kind, doc.header_row, doc.rows) == ("sipot_template", 7, 0)
    assert doc.frame().shape == (0, 8)


# ---------------------------------------------------------------- CSV


EXPORT_HEADER = [
    "ID",
    "FECHA CREACION",
    "FECHA MODIFICACION",
    "EJERCICIO",
    "FECHA DE INICIO DEL PERIODO QUE SE INFORMA",
    "FECHA DE TÉRMINO DEL PERIODO QUE SE INFORMA",
    "DENOMINACIÓN DEL CARGO",
    "ÁREA(S) RESPONSABLE(S) QUE GENERA(N)  POSEE(N)  PUBLICA(N) Y ACTUALIZAN LA INFORMACIÓN",
    "FECHA DE ACTUALIZACIÓN",
    "NOTA",
]


def export_csv(delimiter: str = ";", encoding: str = "windows-1252") -> bytes:
    """A PNT export re-saved as CSV: metadata rows, header in row 6, mm/dd/yy dates."""
    lines = [
        ["Nombre del Sujeto Obligado:", "Municipio de Ejemplo"],
        ["Normativa:", "LGTAIP_LTG_2018"],
        ["Formato:", "Remuneración bruta y neta"],
        ["Periodo:", "1er semestre"],
        [],
        EXPORT_HEADER,
        ["101", "07/15/19", "07/15/19", "2019", "01/01/19", "06/30/19", "Dirección",
         "Recursos Humanos", "07/15/19", JUSTIFICATION],
        ["102", "07/15/19", "07/15/19", "2019", "01/01/19", "06/30/19", "Subdirección",
         "Recursos Humanos", "07/15/19", ""],
    ]  # fmt: skip
    text = "\r\n".join(delimiter.join(line) for line in lines) + "\r\n"
    return text.encode(encoding)


def test_windows_1252_csv_with_semicolons_and_metadata_rows() -> None:
    doc = read_document(export_csv(), filename="8_LGT_Art_70_Fr_VIII.csv")
    assert doc.media_type == "text/csv"
    assert doc.kind == "sipot_export"
    assert (doc.encoding, doc.delimiter) == ("windows-1252", ";")
    assert (doc.header_row, len(doc.columns), doc.rows) == (6, 10, 2)
    assert doc.metadata == {
        "sujeto_obligado": "Municipio de Ejemplo",
        "normativa": "LGTAIP_LTG_2018",
        "formato": "Remuneración bruta y neta",
        "periodo": "1er semestre",
    }
    assert doc.columns[5] == "FECHA DE TÉRMINO DEL PERIODO QUE SE INFORMA"
    assert doc.normalized_columns[7] == (
        "area(s) responsable(s) que genera(n), posee(n), publica(n) y actualizan la informacion"
    )
    assert doc.dates_parsed["FECHA DE TÉRMINO DEL PERIODO QUE SE INFORMA"] == "mm/dd/yy"
    assert (doc.period.start, doc.period.end) == (date(2019, 1, 1), date(2019, 6, 30))
    assert doc.period.label == "1er semestre"
    assert doc.notes == [JUSTIFICATION]
    assert doc.warnings == []


@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"])
def test_csv_delimiters(delimiter: str) -> None:
    doc = read_document(export_csv(delimiter=delimiter, encoding="utf-8"))
    assert doc.delimiter == delimiter
    assert (doc.encoding, doc.header_row, len(doc.columns), doc.rows) == ("utf-8", 6, 10, 2)


def test_utf8_bom_csv_with_header_first() -> None:
    text = (
        "Ejercicio,Fecha de inicio del periodo que se informa,"
        "Fecha de término del periodo que se informa,Denominación,Nota\r\n"
        '2024,01/07/2024,30/09/2024,"Coordinación, área norte",\r\n'
        "2024,01/07/2024,30/09/2024,Secretaría,\r\n"
    )
    doc = read_document(b"\xef\xbb\xbf" + text.encode("utf-8"))
    assert doc.encoding == "utf-8-sig"
    assert doc.columns[0] == "Ejercicio"  # no BOM glued to the first label
    assert (doc.kind, doc.header_row, doc.rows) == ("sipot_export", 1, 2)
    assert doc.sample[0][3] == "Coordinación, área norte"
    assert doc.dates_parsed["Fecha de inicio del periodo que se informa"] == "dd/mm/yyyy"
    assert (doc.period.start, doc.period.end) == (date(2024, 7, 1), date(2024, 9, 30))
    assert doc.notes == []


def test_mojibake_csv_is_flagged_without_quoting_values() -> None:
    text = "Ejercicio,Denominación,Nota\n2024,Direcci\u00c3\u00b3n General,\n2024,Jefatura,\n"
    doc = read_document(text.encode("utf-8"))
    assert doc.warning_codes() == ["mojibake"]
    assert "Denominación" in doc.warnings[0]
    assert "General" not in doc.warnings[0]


def test_plain_text_is_text() -> None:
    doc = read_document(b"Aviso: el sistema esta en mantenimiento, vuelva pronto.\nGracias.\n")
    assert (doc.media_type, doc.kind, doc.rows) == ("text/plain", "text", 0)
    assert doc.text_chars > 0


# ---------------------------------------------------------------- HTML


HTML_PAGE = """<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>Fracción VIII</title>
<script>var x = "<table><tr><td>no</td></tr></table>";</script></head>
<body><table id="layout"><tr><td>
  <ul><li>Inicio</li><li>Transparencia</li></ul>
  <table class="menu"><tr><td>Art. 70</td><td>Art. 71</td></tr>
                      <tr><td>Fr. I</td><td>Fr. II</td></tr></table>
  <table class="datos">
    <thead><tr><th>Ejercicio</th><th>Fecha de inicio del periodo que se informa</th>
      <th>Fecha de término del periodo que se informa</th><th>Puesto</th><th>Nota</th></tr></thead>
    <tbody>
      <tr><td>2024</td><td>01/10/2024</td><td>31/12/2024</td><td>Director</td><td></td></tr>
      <tr><td>2024</td><td>01/10/2024</td><td>31/12/2024</td><td>Jefe</td><td></td></tr>
      <tr><td colspan="5"></td></tr>
      <tr><td>2024</td><td>01/10/2024</td><td>31/12/2024</td><td>Auxiliar</td><td></td></tr>
    </tbody>
  </table>
</td></tr></table></body></html>"""


def test_html_table_page() -> None:
    doc = read_document(HTML_PAGE.encode("utf-8"), filename="fraccion_viii.html")
    assert doc.media_type == "text/html"
    assert doc.encoding == "utf-8"
    assert doc.kind == "sipot_export"
    assert (doc.header_row, len(doc.columns), doc.rows) == (1, 5, 3)
    assert doc.columns[2] == "Fecha de término del periodo que se informa"
    assert (doc.period.start, doc.period.end) == (date(2024, 10, 1), date(2024, 12, 31))
    assert doc.text_chars > 0
    assert doc.warning_codes() == ["blank_rows"]


def test_html_served_as_xls_is_a_format_mismatch() -> None:
    page = "<html><body><table><tr><th>Obra</th><th>Monto</th></tr>"
    page += "".join(f"<tr><td>Obra {i}</td><td>{i * 100}</td></tr>" for i in range(5))
    page += "</table></body></html>"
    doc = read_document(
        page.encode("utf-8"), filename="obras.xls", declared_type="application/vnd.ms-excel"
    )
    assert (doc.media_type, doc.kind, doc.header_row, doc.rows) == ("text/html", "table", 1, 5)
    assert doc.warning_codes() == ["format_mismatch"]
    assert len(doc.warnings) == 2  # declared type and file name both disagree


def test_html_without_table_keeps_justification_notes() -> None:
    page = (
        "<html><body><h1>Fracción XXVIII</h1><p>En el periodo no se generó información "
        "relativa a licitaciones. Consulte el periodo anterior.</p></body></html>"
    )
    doc = read_document(page.encode("windows-1252"))
    assert (doc.kind, doc.rows) == ("text", 0)
    assert doc.notes == ["En el periodo no se generó información relativa a licitaciones."]


# ---------------------------------------------------------------- PDF and Word


def text_pdf() -> bytes:
    pdf = FPDF()
    pdf.set_font("helvetica", size=12)
    for page_text in ("Remuneraciones del personal, tercer trimestre de 2024.", JUSTIFICATION):
        pdf.add_page()
        pdf.multi_cell(0, 10, page_text * 2)
    return bytes(pdf.output())


def scanned_pdf() -> bytes:
    """What a scanner produces: each page one picture (here, grey with dark 'lines' of ink)."""
    picture = Image.new("L", (850, 1100), color=235)
    ink = ImageDraw.Draw(picture)
    for top in range(100, 1000, 40):
        ink.rectangle((80, top, 770, top + 12), fill=30)
    pdf = FPDF()
    for _ in range(3):
        pdf.add_page()
        pdf.image(picture, x=0, y=0, w=210)
    return bytes(pdf.output())


def test_pdf_with_text_layer() -> None:
    doc = read_document(text_pdf(), filename="remuneraciones.pdf")
    assert (doc.media_type, doc.kind) == ("application/pdf", "text")
    assert (doc.pages, doc.pages_with_text, doc.has_text_layer) == (2, 2, True)
    assert doc.text_chars > 100
    assert doc.notes and doc.notes[0].startswith("No se generó información")
    assert doc.warnings == []


def test_pdf_without_text_layer() -> None:
    doc = read_document(scanned_pdf())
    assert (doc.kind, doc.pages, doc.pages_with_text, doc.has_text_layer) == ("text", 3, 0, False)
    assert doc.warning_codes() == ["no_text_layer"]


def word_file() -> bytes:
    document = docx.Document()
    document.add_paragraph("Padrón de beneficiarios del programa social.")
    document.add_paragraph("No existe información adicional que reportar.")
    table = document.add_table(rows=3, cols=4)
    labels = ["Ejercicio", *PERIOD_LABELS[1:], "Nota"]
    rows = [labels, ["2024", "01/01/2024", "31/03/2024", ""],
            ["2024", "01/04/2024", "30/06/2024", "Sin movimientos en el periodo."]]  # fmt: skip
    for row, values in zip(table.rows, rows, strict=True):
        for cell, value in zip(row.cells, values, strict=True):
            cell.text = value
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def test_docx_with_a_table() -> None:
    doc = read_document(word_file(), filename="padron.docx")
    assert (
        doc.media_type == "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    )
    assert doc.kind == "sipot_export"
    assert (doc.header_row, len(doc.columns), doc.rows) == (1, 4, 2)
    assert (doc.period.start, doc.period.end) == (date(2024, 1, 1), date(2024, 6, 30))
    assert doc.notes == [
        "Sin movimientos en el periodo.",
        "No existe información adicional que reportar.",
    ]
    assert doc.text_chars > 0


def test_docx_without_tables_is_text() -> None:
    document = docx.Document()
    document.add_paragraph("Acta de la sesión del comité de transparencia.")
    out = io.BytesIO()
    document.save(out)
    doc = read_document(out.getvalue())
    assert (doc.kind, doc.rows, doc.columns) == ("text", 0, [])


# ---------------------------------------------------------------- summaries


def test_inspect_bytes_is_compact_and_serialisable() -> None:
    summary = inspect_bytes(export_csv(), filename="export.csv")
    assert summary == {
        "format": "text/csv",
        "kind": "sipot_export",
        "sheet": None,
        "header_row": 6,
        "columns": 10,
        "rows": 2,
        "truncated": False,
        "period": {
            "start": "2019-01-01",
            "end": "2019-06-30",
            "years": [2019],
            "label": "1er semestre",
            "source": "dates",
        },
        "metadata": {
            "sujeto_obligado": "Municipio de Ejemplo",
            "normativa": "LGTAIP_LTG_2018",
            "formato": "Remuneración bruta y neta",
            "periodo": "1er semestre",
        },
        "warnings": [],
        "encoding": "windows-1252",
        "delimiter": ";",
        "dates_parsed": {
            "FECHA CREACION": "mm/dd/yy",
            "FECHA MODIFICACION": "mm/dd/yy",
            "FECHA DE INICIO DEL PERIODO QUE SE INFORMA": "mm/dd/yy",
            "FECHA DE TÉRMINO DEL PERIODO QUE SE INFORMA": "mm/dd/yy",
            "FECHA DE ACTUALIZACIÓN": "mm/dd/yy",
        },
        "notes": 1,
    }
    json.dumps(summary)


def test_template_summary_leaves_out_field_rows() -> None:
    summary = inspect_bytes(upload_template_xlsx())
    assert summary["kind"] == "sipot_template"
    assert summary["metadata"]["nombre_corto"] == "LGTA70FXXVIIIA"
    assert "field_types" not in summary["metadata"]
    assert summary["subtables"] == {"Tabla_334596": 2}


def test_document_round_trips_through_its_dict():
    from pathlib import Path

    from scrapers.readers import Document

    real = Path(__file__).resolve().parents[2] / "fixtures" / "real_sipot"
    path = real / "export_2025_state_university_art70_frVIII.xlsx"
    doc = read_document(path.read_bytes(), filename=path.name)
    again = Document.from_dict(json.loads(json.dumps(doc.to_dict())))
    assert again.to_dict() == doc.to_dict()
    assert again.period.end == doc.period.end and again.warning_codes() == doc.warning_codes()
