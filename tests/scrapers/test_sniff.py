"""Content sniffing and encoding detection."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest

from scrapers.sniff import (
    DOC,
    DOCX,
    EMPTY,
    OCTET_STREAM,
    OLE,
    XLS,
    XLSX,
    canonical_encoding,
    csv_delimiter,
    detect_encoding,
    is_text_type,
    sniff,
)

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


def make_zip(names: list[str], first: tuple[str, bytes] | None = None) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        if first is not None:
            archive.writestr(zipfile.ZipInfo(first[0]), first[1])  # stored, as ODF requires
        for name in names:
            archive.writestr(name, "<x/>", compress_type=zipfile.ZIP_DEFLATED)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj", "application/pdf"),
        (b"\r\n%PDF-1.4\n", "application/pdf"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "image/png"),
        (b"\xff\xd8\xff\xe0\x00\x10JFIF", "image/jpeg"),
        (b"GIF89a\x01\x00", "image/gif"),
        (b"II*\x00\x08\x00", "image/tiff"),
        (b"{\\rtf1\\ansi", "application/rtf"),
        (b"\x1f\x8b\x08\x00", "application/gzip"),
        (b"", EMPTY),
        (b"\x00\x01\x02\x03binary\x00", OCTET_STREAM),
    ],
)
def test_magic_bytes(content: bytes, expected: str) -> None:
    assert sniff(content) == expected


def test_ooxml_spreadsheet_and_document_and_plain_zip() -> None:
    xlsx = make_zip(["[Content_Types].xml", "_rels/.rels", "xl/workbook.xml"])
    docx = make_zip(["[Content_Types].xml", "word/document.xml"])
    assert sniff(xlsx, "text/html") == XLSX
    assert sniff(docx) == DOCX
    assert sniff(make_zip(["datos/fraccion_VIII.csv"])) == "application/zip"


def test_truncated_xlsx_is_still_recognised() -> None:
    xlsx = make_zip(["[Content_Types].xml", "xl/workbook.xml", "xl/worksheets/sheet1.xml"])
    cut = xlsx[: xlsx.index(b"xl/workbook.xml") + 40]
    assert sniff(cut) == XLSX


def test_opendocument_spreadsheet() -> None:
    ods = make_zip(
        ["content.xml"], first=("mimetype", b"application/vnd.oasis.opendocument.spreadsheet")
    )
    assert sniff(ods) == "application/vnd.oasis.opendocument.spreadsheet"


def test_ole2_by_stream_name_then_by_extension() -> None:
    workbook = OLE_MAGIC + b"\x00" * 100 + "Workbook".encode("utf-16-le") + b"\x00" * 10
    word = OLE_MAGIC + b"\x00" * 100 + "WordDocument".encode("utf-16-le")
    unnamed = OLE_MAGIC + b"\x00" * 100
    assert sniff(workbook, "application/octet-stream") == XLS
    assert sniff(word) == DOC
    assert sniff(unnamed, None, "https://x.gob.mx/a/FORMATO_70_VIII.XLS?v=2") == XLS
    assert sniff(unnamed, None, "https://x.gob.mx/a/archivo.bin") == OLE


@pytest.mark.parametrize(
    "content",
    [
        b"<!DOCTYPE html><html><body>x</body></html>",
        b"\xef\xbb\xbf  \r\n<!doctype HTML>\n<html>",
        b"\n\n<HTML>\n<HEAD><TITLE>Portal</TITLE>",
        b"<head><meta charset=utf-8>",
        b"<body>solo cuerpo</body>",
        b"<!-- generado por CMS -->\n<html>",
        b"<?xml version='1.0'?>\n<!DOCTYPE html PUBLIC '-//W3C//DTD XHTML 1.0//EN'>\n<html>",
        "\ufeff<html><body>UTF-16</body></html>".encode("utf-16-le"),
        b"Warning: mysql_connect() failed in /var/www/index.php\n<html><body>",
    ],
)
def test_html_is_recognised_near_the_start(content: bytes) -> None:
    assert sniff(content, "application/octet-stream") == "text/html"


def test_xml_and_json() -> None:
    assert sniff(b'<?xml version="1.0" encoding="UTF-8"?><rss></rss>') == "application/xml"
    assert sniff(b"<sitemapindex xmlns='x'></sitemapindex>") == "application/xml"
    assert sniff(b'  {"fraccion": "VIII", "filas": [1, 2]}') == "application/json"
    assert sniff(b'[{"a": 1}, {"a": 2}') == "application/json"  # cut short, still JSON


def test_csv_tsv_and_sipot_metadata_rows() -> None:
    comma = b"nombre,cargo,sueldo\nAna,Directora,1000\nLuis,Jefe,900\n"
    semicolon = b"nombre;cargo;sueldo\nAna;Directora;1000,50\nLuis;Jefe;900,00\n"
    tab = b"nombre\tcargo\nAna\tDirectora\nLuis\tJefe\n"
    sipot = (
        b"TITULO,NOMBRE CORTO,DESCRIPCION\n"
        b"Remuneracion,LGTA70FVIII,Remuneraciones\n"
        b"Ejercicio,Fecha de inicio,Fecha de termino,Nombre,Monto\n"
        b'2024,01/01/2024,31/03/2024,"Perez, Ana",1000\n'
        b"2024,01/01/2024,31/03/2024,Luis,900\n"
        b"2024,01/01/2024,31/03/2024,Eva,800\n"
        b"2024,01/01/2024,31/03/2024,Rosa,700\n"
    )
    assert sniff(comma, "text/html") == "text/csv"
    assert sniff(semicolon) == "text/csv"
    assert csv_delimiter(semicolon.decode()) == ";"
    assert sniff(tab) == "text/tab-separated-values"
    assert csv_delimiter(sipot.decode()) == ","


def test_quoted_multiline_cells_do_not_break_csv_detection() -> None:
    text = 'a,b,c\n1,"linea uno\nlinea dos",3\n4,5,6\n'
    assert csv_delimiter(text) == ","


def test_plain_text_stays_plain_unless_declared_csv() -> None:
    prose = "La información se encuentra en proceso de actualización.\nGracias.\n".encode()
    one_column = b"nombre\nAna\nLuis\n"
    assert sniff(prose) == "text/plain"
    assert sniff(one_column) == "text/plain"
    assert sniff(one_column, "text/csv") == "text/csv"
    assert sniff(one_column, None, "https://x.gob.mx/datos.csv") == "text/csv"


def test_html_fragment_declared_html_stays_html() -> None:
    assert sniff(b"Bienvenido al portal <b>oficial</b><br>", "text/html") == "text/html"
    assert sniff(b"Bienvenido al portal <b>oficial</b><br>", None) == "text/plain"


@pytest.mark.parametrize(
    ("media_type", "expected"),
    [
        ("text/html", True),
        ("text/csv", True),
        ("application/json", True),
        ("application/xml", True),
        ("image/svg+xml", True),
        ("application/pdf", False),
        (XLSX, False),
        (None, False),
    ],
)
def test_is_text_type(media_type: str | None, expected: bool) -> None:
    assert is_text_type(media_type) is expected


# --- encodings ------------------------------------------------------------------------------

CP1252_PAGE = (
    b"<html><head><title>Transparencia</title></head><body>"
    b"<p>Fracci\xf3n VIII. Remuneraci\xf3n bruta y neta de todos los servidores p\xfablicos; "
    b"a\xf1o 2024, informaci\xf3n del Ayuntamiento de Le\xf3n.</p></body></html>"
)


def test_utf8_content() -> None:
    content = "<p>Fracción VIII — año</p>".encode()
    assert detect_encoding(content, None, "text/html") == "utf-8"
    assert detect_encoding(content, "iso-8859-1", "text/html") == "utf-8"


def test_windows_1252_without_declaration() -> None:
    assert detect_encoding(b"Fracci\xf3n VIII", None, "text/plain") == "windows-1252"
    assert detect_encoding(CP1252_PAGE, None, "text/html") == "windows-1252"


def test_page_declaring_utf8_but_written_in_windows_1252() -> None:
    encoding = detect_encoding(CP1252_PAGE, "utf-8", "text/html")
    assert encoding == "windows-1252"
    assert "Fracción VIII" in CP1252_PAGE.decode(encoding)
    assert "año 2024" in CP1252_PAGE.decode(encoding)


def test_latin1_declarations_read_as_windows_1252() -> None:
    content = b"Cotizaci\xf3n \x93entre comillas\x94 \x80 100"
    assert detect_encoding(content, "ISO-8859-1", "text/plain") == "windows-1252"
    assert content.decode("windows-1252").endswith("“entre comillas” € 100")
    assert detect_encoding(b"solo ascii", "latin1", "text/plain") == "windows-1252"


def test_meta_charset_is_used_and_checked() -> None:
    meta_1252 = (
        b'<html><head><meta http-equiv="Content-Type" content="text/html; charset=windows-1252">'
    )
    page = meta_1252 + b"<body>Fracci\xf3n</body></html>"
    assert detect_encoding(page, "utf-8", "text/html") == "windows-1252"
    meta_latin1_but_utf8 = '<meta charset="iso-8859-1"><p>Fracción</p>'.encode()
    assert detect_encoding(meta_latin1_but_utf8, None, "text/html") == "utf-8"


def test_meta_charset_wins_over_http_for_ascii_pages() -> None:
    page = b'<meta charset="utf-8"><p>hola</p>'
    assert detect_encoding(page, "iso-8859-15", "text/html") == "utf-8"
    assert detect_encoding(b"<p>hola</p>", None, "text/html") == "utf-8"


def test_boms_come_first() -> None:
    assert (
        detect_encoding(b"\xef\xbb\xbfFracci\xc3\xb3n", "windows-1252", "text/csv") == "utf-8-sig"
    )
    utf16 = "\ufeffFracción".encode("utf-16-le")
    assert detect_encoding(utf16, "utf-8", "text/plain") == "utf-16"
    assert utf16.decode(detect_encoding(utf16)) == "Fracción"
    assert detect_encoding("\ufeffx".encode("utf-16-be")) == "utf-16"


def test_utf8_cut_by_the_size_cap_is_still_utf8() -> None:
    content = "Fracción ñ".encode()[:-1]  # last character cut in the middle
    assert detect_encoding(content, None, "text/plain") == "utf-8"


def test_xml_declaration_encoding() -> None:
    doc = b'<?xml version="1.0" encoding="ISO-8859-1"?><a>Le\xf3n</a>'
    assert detect_encoding(doc, None, "application/xml") == "windows-1252"


@pytest.mark.parametrize(
    ("label", "expected"),
    [
        ("UTF-8", "utf-8"),
        ("utf8", "utf-8"),
        ("latin-1", "windows-1252"),
        ("ISO-8859-1", "windows-1252"),
        ("us-ascii", "windows-1252"),
        ("cp1252", "windows-1252"),
        ("windows-1250", "windows-1250"),
        ('"utf-8"', "utf-8"),
        ("no-such-charset", None),
        (None, None),
    ],
)
def test_canonical_encoding(label: str | None, expected: str | None) -> None:
    assert canonical_encoding(label) == expected


def test_one_stray_windows_1252_byte_in_a_utf8_page_stays_utf8():
    body = ("<html><head><meta charset='utf-8'></head><body><p>Información pública, "
            "Fracción VIII, Remuneración, Año 2025, Dirección de Administración.</p>" * 4
            + "<p>Versi").encode() + b"\xf3" + b"n p\xc3\xbablica</p></body></html>"
    assert detect_encoding(body, "utf-8", "text/html") == "utf-8"
    assert detect_encoding(body, None, "text/html") == "utf-8"  # declared in the document
    text = body.decode("utf-8", errors="replace")
    assert "Fracción VIII" in text and text.count("\ufffd") == 1  # no ENCODING_ERROR
    # undeclared, nearly all of it valid UTF-8
    assert detect_encoding(body.replace(b"<meta charset='utf-8'>", b"")) == "utf-8"
    # a page that is windows-1252 throughout is still read as windows-1252
    latin = "<p>Información pública, Fracción VIII</p>".encode("cp1252")
    assert detect_encoding(latin, "utf-8", "text/html") == "windows-1252"


# A windows-1252 CSV (synthetic testbed data) that charset-normalizer takes for Japanese
# (cp932): 'Fecha de término' came out as 'Fecha de t駻mino' and the period went unread.
CP932_TRAP = (Path(__file__).resolve().parents[1] / "fixtures" / "encoding"
              / "windows1252_guessed_as_cp932.csv")


def test_an_east_asian_guess_for_latin_text_falls_back_to_windows_1252():
    import charset_normalizer

    content = CP932_TRAP.read_bytes()
    assert charset_normalizer.from_bytes(content).best().encoding == "cp932"  # the trap
    assert detect_encoding(content, None, "text/csv") == "windows-1252"


def test_read_document_honours_the_declared_charset_of_a_csv():
    from scrapers.readers import read_document

    doc = read_document(CP932_TRAP.read_bytes(), filename="t3.csv",
                        declared_type="text/csv; charset=windows-1252")
    assert doc.encoding == "windows-1252"
    assert "Fecha de término del periodo que se informa" in doc.columns
    assert doc.period.end is not None


@pytest.mark.parametrize(("content", "http", "used", "expected"), [
    ("<p>Información pública</p>".encode("cp1252"), "utf-8", "windows-1252",
     "utf-8→windows-1252"),
    ("<p>Información pública</p>".encode(), "iso-8859-1", "utf-8", "windows-1252→utf-8"),
    ('<meta charset="iso-8859-1"><p>Información</p>'.encode(), None, "utf-8",
     "windows-1252→utf-8"),
    ("<p>Información</p>".encode("cp1252"), "ISO-8859-1", "windows-1252", ""),  # same in browsers
    ("<p>Información</p>".encode(), "utf-8", "utf-8", ""),
    (b"<p>Informacion</p>", "windows-1252", "windows-1252", ""),  # ASCII cannot conflict
    ("<p>Información</p>".encode("cp1252"), None, "windows-1252", ""),  # nothing declared
    (b"\xef\xbb\xbf" + "<p>Información</p>".encode(), "iso-8859-1", "utf-8", ""),  # BOM wins
])
def test_charset_conflict(content, http, used, expected) -> None:
    from scrapers.sniff import charset_conflict

    assert charset_conflict(content, http, "text/html", used) == expected
