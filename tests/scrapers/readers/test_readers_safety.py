"""Hostile, broken and oversized input: never an exception, always a warning that says why."""

from __future__ import annotations

import io
import time
import zipfile
from pathlib import Path

import openpyxl
import pytest

from scrapers.readers import ReaderError, read_document

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "real_sipot"


def small_xlsx(rows: int = 3) -> bytes:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["Ejercicio", "Denominación", "Monto", "Nota"])
    for index in range(rows):
        sheet.append([2024, f"Concepto {index}", index * 10, None])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def rezip(
    content: bytes, replace: dict[str, bytes] | None = None, add: dict[str, bytes] | None = None
) -> bytes:
    """A copy of a zip container with some members replaced or added."""
    source = zipfile.ZipFile(io.BytesIO(content))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            data = (replace or {}).get(info.filename, source.read(info.filename))
            target.writestr(info.filename, data)
        for name, data in (add or {}).items():
            target.writestr(name, data)
    return out.getvalue()


def forge_declared_size(content: bytes, member: str, size: int) -> bytes:
    """Make the central directory claim ``size`` unpacked bytes for ``member``."""
    data = bytearray(content)
    at = 0
    while True:
        at = data.find(b"PK\x01\x02", at)
        assert at >= 0, f"{member} not in the central directory"
        name_len = int.from_bytes(data[at + 28 : at + 30], "little")
        if data[at + 46 : at + 46 + name_len].decode() == member:
            data[at + 24 : at + 28] = size.to_bytes(4, "little")
            return bytes(data)
        at += 4


# ---------------------------------------------------------------- truncated and corrupted


def test_truncated_xlsx_is_unreadable() -> None:
    content = small_xlsx()
    doc = read_document(content[: len(content) // 2], filename="datos.xlsx")
    assert doc.media_type == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert doc.kind == "unreadable"
    assert doc.warning_codes() == ["unreadable"]
    assert "not a valid zip container" in doc.warnings[0]
    assert (doc.columns, doc.rows, doc.header_row) == ([], 0, None)


def test_truncated_real_xls_is_unreadable() -> None:
    content = (FIXTURES / "export_2017_state_agency_XXVIII_-_28.xls").read_bytes()
    doc = read_document(content[:5000])
    assert (doc.media_type, doc.kind) == ("application/vnd.ms-excel", "unreadable")
    assert doc.warning_codes() == ["unreadable"]
    assert doc.warnings[0].startswith("unreadable: application/vnd.ms-excel could not be read:")


def test_xlsx_with_broken_sheet_xml_is_unreadable() -> None:
    broken = rezip(
        small_xlsx(), replace={"xl/worksheets/sheet1.xml": b"<worksheet><sheetData><row"}
    )
    doc = read_document(broken)
    assert (doc.kind, doc.warning_codes()) == ("unreadable", ["unreadable"])


@pytest.mark.parametrize(
    ("content", "media_type", "code"),
    [
        (b"%PDF-1.4\n1 0 obj garbage", "application/pdf", "unreadable"),
        (
            b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(600),
            "application/vnd.ms-excel",
            "unreadable",
        ),
        (bytes(range(256)) * 8, "application/octet-stream", "unsupported"),
        (b"\x89PNG\r\n\x1a\n" + bytes(64), "image/png", "unsupported"),
        (b"PK\x03\x04" + bytes(40), "application/zip", "unsupported"),
    ],
)
def test_bad_bytes_never_raise(content: bytes, media_type: str, code: str) -> None:
    doc = read_document(content, filename="archivo.xls")
    assert (doc.media_type, doc.kind) == (media_type, "unreadable")
    assert code in doc.warning_codes()


def test_empty_content() -> None:
    doc = read_document(b"")
    assert (doc.media_type, doc.kind, doc.rows, doc.warnings) == (
        "application/x-empty",
        "empty",
        0,
        [],
    )
    assert doc.frame().shape == (0, 0)


def test_empty_sheet_is_empty() -> None:
    workbook = openpyxl.Workbook()
    out = io.BytesIO()
    workbook.save(out)
    assert read_document(out.getvalue()).kind == "empty"


def test_bad_arguments_are_programming_errors() -> None:
    with pytest.raises(ReaderError):
        read_document(b"a,b\n1,2\n", max_rows=0)
    with pytest.raises(ReaderError):
        read_document("a,b\n1,2\n")  # type: ignore[arg-type]


# ---------------------------------------------------------------- zip bombs


def test_declared_huge_member_is_refused_before_opening() -> None:
    forged = forge_declared_size(small_xlsx(), "xl/worksheets/sheet1.xml", 3_000_000_000)
    doc = read_document(forged)
    assert doc.kind == "unreadable"
    assert doc.warning_codes() == ["zip_bomb"]
    assert "xl/worksheets/sheet1.xml" in doc.warnings[0]
    assert "3,000,000,000" in doc.warnings[0]


def test_highly_compressible_member_is_refused_above_the_cap() -> None:
    padded = rezip(small_xlsx(), add={"xl/media/padding.bin": bytes(8 * 1024 * 1024)})
    assert len(padded) < 64 * 1024  # 8 MiB of zeros compress to almost nothing
    refused = read_document(padded, max_unpacked_bytes=4 * 1024 * 1024)
    assert (refused.kind, refused.warning_codes()) == ("unreadable", ["zip_bomb"])
    accepted = read_document(padded)  # the default cap (256 MiB) lets a real file through
    assert (accepted.kind, accepted.rows, accepted.warnings) == ("table", 3, [])


def test_docx_bomb_is_refused() -> None:
    import docx

    document = docx.Document()
    document.add_paragraph("Texto")
    out = io.BytesIO()
    document.save(out)
    forged = forge_declared_size(out.getvalue(), "word/document.xml", 4_000_000_000)
    doc = read_document(forged)
    assert (doc.kind, doc.warning_codes()) == ("unreadable", ["zip_bomb"])


def test_declared_sheet_dimension_is_ignored() -> None:
    """A sheet claiming A1:XFD1048576 must not make the reader pad a million rows."""
    content = small_xlsx()
    sheet = zipfile.ZipFile(io.BytesIO(content)).read("xl/worksheets/sheet1.xml")
    lying = sheet.replace(b'<dimension ref="A1:D4"/>', b'<dimension ref="A1:XFD1048576"/>')
    assert lying != sheet
    started = time.monotonic()
    doc = read_document(rezip(content, replace={"xl/worksheets/sheet1.xml": lying}))
    assert time.monotonic() - started < 5
    assert (doc.rows, len(doc.columns)) == (3, 4)


# ---------------------------------------------------------------- bounds


def big_csv(rows: int) -> bytes:
    lines = ["Ejercicio,Denominación,Monto,Nota"]
    lines.extend(f"2024,Concepto {index},{index},Sin nota" for index in range(rows))
    return ("\n".join(lines) + "\n").encode("utf-8")


def test_max_rows_bounds_the_table_and_says_so() -> None:
    doc = read_document(big_csv(50_000), max_rows=1000)
    assert (doc.rows, doc.truncated) == (1000, True)
    assert doc.warning_codes() == ["truncated"]
    assert "max_rows=1000" in doc.warnings[0]
    assert doc.frame().shape == (1000, 4)
    assert doc.sample[-1][1] == "Concepto 19"


def test_exactly_max_rows_is_not_truncated() -> None:
    doc = read_document(big_csv(1000), max_rows=1000)
    assert (doc.rows, doc.truncated, doc.warnings) == (1000, False, [])


def test_max_cells_bounds_wide_tables() -> None:
    doc = read_document(big_csv(500), max_cells=100)  # 4 columns -> 25 rows
    assert (doc.rows, doc.truncated) == (25, True)


def test_max_rows_bounds_xlsx_and_subtables() -> None:
    workbook = openpyxl.Workbook()
    main = workbook.active
    main.append(["ID", "Ejercicio", "Nota"])
    for index in range(30):
        main.append([index, 2024, None])
    sub = workbook.create_sheet("Tabla_100")
    sub.append(["ID", "Monto"])
    for index in range(30):
        sub.append([index, 1])
    out = io.BytesIO()
    workbook.save(out)
    doc = read_document(out.getvalue(), max_rows=10)
    assert (doc.rows, doc.truncated) == (10, True)
    assert (doc.subtables["Tabla_100"].rows, doc.subtables["Tabla_100"].truncated) == (10, True)
    assert doc.warning_codes() == ["truncated"]
    assert len(doc.warnings) == 2
