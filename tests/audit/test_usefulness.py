"""Document-level usefulness rules on documents read by scrapers.readers."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from fpdf import FPDF
from openpyxl import Workbook

from audit.formats import load_formats, match_headers
from audit.usefulness import document_findings
from scrapers.readers import read_document

REAL = Path(__file__).resolve().parents[1] / "fixtures" / "real_sipot"
HEADER = ["Ejercicio", "Fecha de inicio del periodo que se informa",
          "Fecha de término del periodo que se informa", "Denominación de la norma",
          "Área(s) responsable(s) que genera(n), posee(n), publica(n) y actualizan la información",
          "Fecha de actualización", "Nota"]


def xlsx(rows: list[list]) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.append(HEADER)
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def codes(content: bytes, filename: str, match=None) -> list[str]:
    doc = read_document(content, filename=filename)
    return [f.code.value for f in document_findings(doc, match)]


def test_clean_spreadsheet_raises_nothing():
    content = xlsx([[2025, "01/07/2025", "30/09/2025", "Ley", "Dirección", "15/10/2025", ""]])
    assert codes(content, "f.xlsx") == []


def test_headers_without_rows_is_empty():
    assert codes(xlsx([]), "f.xlsx") == ["EMPTY_DATASET"]


def test_single_row_with_a_note_is_justified():
    note = "No se generó información en el periodo que se informa."
    content = xlsx([[2025, "01/07/2025", "30/09/2025", "", "Dirección", "15/10/2025", note]])
    assert codes(content, "f.xlsx") == ["JUSTIFIED_ABSENCE"]


def test_scanned_pdf():
    pdf = FPDF()
    pdf.add_page()
    pdf.rect(20, 20, 150, 200, style="F")  # ink, but no text layer
    content = bytes(pdf.output())
    assert codes(content, "f.pdf") == ["NOT_MACHINE_READABLE", "SCANNED_DOCUMENT"]


def test_pdf_with_text_is_only_not_machine_readable():
    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("helvetica", size=12)
    for line in range(20):
        pdf.cell(0, 8, f"Remuneracion bruta y neta del personal, registro {line}", new_x="LMARGIN",
                 new_y="NEXT")
    assert codes(bytes(pdf.output()), "f.pdf") == ["NOT_MACHINE_READABLE"]


def test_html_served_as_pdf_is_a_format_mismatch():
    page = b"<html><head><title>Acceso denegado</title></head><body>Bloqueado</body></html>"
    found = codes(page, "informe.pdf")
    assert "FORMAT_MISMATCH" in found and "NOT_MACHINE_READABLE" in found


@pytest.mark.skipif(not REAL.exists(), reason="real SIPOT fixtures absent")
def test_missing_columns_are_named():
    doc = read_document((REAL / "export_2025_state_university_art70_frVIII.xlsx").read_bytes(),
                        filename="viii.xlsx")
    dropped = [doc.columns[9], doc.columns[12]]
    kept = [c for c in doc.columns if c not in dropped]
    match = match_headers(kept, load_formats(), "70-VIII")
    findings = document_findings(doc, match)
    (missing,) = [f for f in findings if f.code.value == "MISSING_COLUMNS"]
    assert "Faltan 2 columna(s)" in missing.message
    assert match.format_id in missing.message


def test_damaged_files_are_not_machine_readable_and_say_why():
    whole = xlsx([[2025, "01/07/2025", "30/09/2025", "Ley", "Dirección", "15/10/2025", ""]])
    for content, name, why in ((whole[: len(whole) // 2], "f.xlsx", "dañado"),
                               (b"%PDF-1.4\n1 0 obj<<>>\nbasura sin xref", "f.pdf", "dañado")):
        doc = read_document(content, filename=name)
        found = document_findings(doc)
        assert [f.code.value for f in found] == ["NOT_MACHINE_READABLE"], name
        assert why in found[0].message


def test_a_download_cut_at_the_size_cap_is_not_the_portals_fault():
    from scrapers.readers import not_read

    cut = not_read("too_large", "cut", filename="f.xlsx",
                   declared_type="application/vnd.openxmlformats-officedocument.spreadsheetml"
                                 ".sheet")
    assert cut.kind == "unreadable" and document_findings(cut) == []
    pdf = not_read("too_large", "cut", filename="f.pdf", declared_type="application/pdf")
    assert [f.code.value for f in document_findings(pdf)] == ["NOT_MACHINE_READABLE"]
