"""The streaming xlsx reader (scrapers.readers.xlsx_stream) against openpyxl.

The streaming reader must yield exactly the rows openpyxl's read-only ``iter_rows(values_only=
True)`` yields after ``reset_dimensions()``, value for value and type for type, and
``read_document`` must return the same Document with it as with openpyxl forced. Checked on
hand-built workbooks (one per cell type and layout quirk, written with ``zipfile`` so that the
XML is exactly what the case needs), on the xlsx files the other reader tests generate, on the
real exports under tests/fixtures and ../shared/reference, and on testbed portals' exports,
defect variants included. Assertions never print cell contents of real files.
"""

from __future__ import annotations

import hashlib
import html
import importlib.util
import io
import random
import warnings
import zipfile
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import openpyxl
import pytest
import xlsxwriter

from scrapers.readers import read_document, sipot_xlsx, xlsx_stream
from scrapers.readers.xlsx_stream import StreamWorkbook, Unsupported

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[2]
FIXTURES = REPO / "tests" / "fixtures"
REFERENCE = REPO.parent / "shared" / "reference"

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
DOC_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
CT_SHEET = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"
CT_CHART = "application/vnd.openxmlformats-officedocument.spreadsheetml.chartsheet+xml"

# ------------------------------------------------------------------------- helpers


def build_xlsx(
    sheets: list[tuple[str, str]],
    *,
    strings: list[str] | None = None,
    styles: str | None = None,
    workbook_pr: str = "",
    chartsheets: tuple[str, ...] = (),
    rel_order: list[int] | None = None,
    absolute_targets: bool = False,
    sheet_xml: dict[int, str] | None = None,
    chartsheet_rels: bool = True,
) -> bytes:
    """A minimal xlsx package written member by member.

    ``sheets``: (name, XML inside <sheetData>) in workbook order; ``strings``: the <si>
    elements' inner XML; ``styles``: the <styleSheet> inner XML; ``chartsheets``: names of
    chartsheets appended after the worksheets; ``rel_order``: the order of the sheets'
    relationships (and of the part numbers) in workbook.xml.rels; ``sheet_xml``: a whole
    worksheet document instead of the generated one, by sheet index; ``chartsheet_rels``:
    give chartsheets a (empty) relationships part, without which openpyxl cannot load them.
    """
    entries = [(name, False) for name, _ in sheets] + [(name, True) for name in chartsheets]
    order = rel_order or list(range(len(entries)))
    number = {index: position + 1 for position, index in enumerate(order)}
    overrides = [
        (
            "/xl/workbook.xml",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml",
        )
    ]
    files: dict[str, str] = {}
    rels = []
    for index in order:
        name, chart = entries[index]
        n = number[index]
        folder = "chartsheets" if chart else "worksheets"
        part = f"xl/{folder}/sheet{n}.xml"
        target = f"/{part}" if absolute_targets else f"{folder}/sheet{n}.xml"
        kind = "chartsheet" if chart else "worksheet"
        rels.append(f'<Relationship Id="rId{n}" Type="{DOC_REL}/{kind}" Target="{target}"/>')
        overrides.append((f"/{part}", CT_CHART if chart else CT_SHEET))
        if chart:
            files[part] = (
                f'<chartsheet xmlns="{MAIN}" xmlns:r="{DOC_REL}"><sheetViews>'
                '<sheetView workbookViewId="0"/></sheetViews></chartsheet>'
            )
            if chartsheet_rels:
                files[f"xl/{folder}/_rels/sheet{n}.xml.rels"] = (
                    f'<Relationships xmlns="{PKG_REL}"></Relationships>'
                )
        elif sheet_xml and index in sheet_xml:
            files[part] = sheet_xml[index]
        else:
            files[part] = (
                f'<worksheet xmlns="{MAIN}" xmlns:r="{DOC_REL}">'
                f"<sheetData>{sheets[index][1]}</sheetData></worksheet>"
            )
    extra = len(entries)
    if strings is not None:
        extra += 1
        rels.append(
            f'<Relationship Id="rId{extra}" Type="{DOC_REL}/sharedStrings" '
            'Target="sharedStrings.xml"/>'
        )
        overrides.append(
            (
                "/xl/sharedStrings.xml",
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml",
            )
        )
        files["xl/sharedStrings.xml"] = (
            f'<sst xmlns="{MAIN}" count="{len(strings)}" uniqueCount="{len(strings)}">'
            + "".join(f"<si>{s}</si>" for s in strings)
            + "</sst>"
        )
    if styles is not None:
        extra += 1
        rels.append(f'<Relationship Id="rId{extra}" Type="{DOC_REL}/styles" Target="styles.xml"/>')
        overrides.append(
            (
                "/xl/styles.xml",
                "application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml",
            )
        )
        files["xl/styles.xml"] = f'<styleSheet xmlns="{MAIN}">{styles}</styleSheet>'
    sheet_elements = "".join(
        f'<sheet name="{name}" sheetId="{index + 1}" r:id="rId{number[index]}"/>'
        for index, (name, _) in enumerate(entries)
    )
    files["xl/workbook.xml"] = (
        f'<workbook xmlns="{MAIN}" xmlns:r="{DOC_REL}">{workbook_pr}'
        f"<sheets>{sheet_elements}</sheets></workbook>"
    )
    files["xl/_rels/workbook.xml.rels"] = (
        f'<Relationships xmlns="{PKG_REL}">{"".join(rels)}</Relationships>'
    )
    files["_rels/.rels"] = (
        f'<Relationships xmlns="{PKG_REL}"><Relationship Id="rId1" '
        f'Type="{DOC_REL}/officeDocument" Target="xl/workbook.xml"/></Relationships>'
    )
    files["[Content_Types].xml"] = (
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package'
        '.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
        + "".join(f'<Override PartName="{p}" ContentType="{c}"/>' for p, c in overrides)
        + "</Types>"
    )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name in [
            "[Content_Types].xml",
            *sorted(n for n in files if n != "[Content_Types].xml"),
        ]:
            archive.writestr(name, '<?xml version="1.0" encoding="UTF-8"?>\n' + files[name])
    return buffer.getvalue()


def styles_xml(formats: dict[int, str], xf_formats: list[int]) -> str:
    """A stylesheet with these custom number formats and one cellXfs entry per numFmtId."""
    custom = "".join(
        f'<numFmt numFmtId="{n}" formatCode="{html.escape(code)}"/>' for n, code in formats.items()
    )
    xfs = "".join(f'<xf numFmtId="{n}" fontId="0" fillId="0" borderId="0"/>' for n in xf_formats)
    return (
        f'<numFmts count="{len(formats)}">{custom}</numFmts>'
        '<fonts count="1"><font><sz val="11"/><name val="Calibri"/></font></fonts>'
        '<fills count="1"><fill><patternFill patternType="none"/></fill></fills>'
        '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
        '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/>'
        f"</cellStyleXfs><cellXfs>{xfs}</cellXfs>"
        '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
    )


def openpyxl_rows(content: bytes) -> dict[str, list[Any]]:
    """Every worksheet's rows as sipot_xlsx read them before the streaming reader."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        workbook = openpyxl.load_workbook(
            io.BytesIO(content), read_only=True, data_only=True, keep_links=False
        )
        try:
            rows = {}
            for name in workbook.sheetnames:
                sheet = workbook[name]
                if not hasattr(sheet, "iter_rows"):
                    continue
                sheet.reset_dimensions()
                rows[name] = list(sheet.iter_rows(values_only=True))
            return rows
        finally:
            workbook.close()


def stream_rows(content: bytes) -> dict[str, list[Any]]:
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        book = StreamWorkbook(archive)
        return {sheet.name: list(book.iter_rows(sheet)) for sheet in book.worksheets}


def typed(rows: list[Any]) -> list[Any]:
    """Rows with each row's and each value's type, so that 1 != 1.0 != True and () != []."""
    return [(type(row), [(type(value), value) for value in row]) for row in rows]


def assert_same_rows(content: bytes) -> dict[str, list[Any]]:
    expected = openpyxl_rows(content)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        actual = stream_rows(content)
    assert list(actual) == list(expected)
    for name in expected:
        assert typed(actual[name]) == typed(expected[name]), name
    return actual


def documents(content: bytes, **kwargs: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """read_document with the streaming reader, and with openpyxl forced."""
    streamed = read_document(content, **kwargs).to_dict()
    previous = sipot_xlsx.FORCE_OPENPYXL
    sipot_xlsx.FORCE_OPENPYXL = True
    try:
        forced = read_document(content, **kwargs).to_dict()
    finally:
        sipot_xlsx.FORCE_OPENPYXL = previous
    return streamed, forced


def assert_same_document(content: bytes) -> None:
    streamed, forced = documents(content)
    assert streamed == forced


@pytest.fixture(params=["whole", "streamed"])
def part_mode(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Run the test with parts parsed in one go, then with every part pulled in chunks (the
    mode of parts over 1 MB)."""
    if request.param == "streamed":
        monkeypatch.setattr(xlsx_stream, "_WHOLE_PART_BYTES", -1)
        monkeypatch.setattr(xlsx_stream, "_CHUNK", 97)
    return str(request.param)


def row(number: int | None, cells: str) -> str:
    return f'<row r="{number}">{cells}</row>' if number is not None else f"<row>{cells}</row>"


# ------------------------------------------------------------------------- cell types


def test_shared_strings_rich_text_phonetic_and_escapes(part_mode: str) -> None:
    strings = [
        "<t>plain</t>",
        '<t xml:space="preserve">  padded  </t>',
        '<r><rPr><b/></rPr><t>Rich</t></r><r><t xml:space="preserve"> text</t></r>',
        "<t>base</t><r><t>+run</t></r>",
        '<t>漢字</t><rPh sb="0" eb="2"><t>かんじ</t></rPh><phoneticPr fontId="1"/>',
        "<t>a_x005F_x000D_b</t>",
        "<t/>",
        "<t>multi\nline &amp; &lt;escaped&gt;</t>",
        "<t>first</t><t>last t wins</t>",
        "<r><t>run only</t></r>",
    ]
    cells = "".join(f'<c r="{chr(65 + i)}1" t="s"><v>{i}</v></c>' for i in range(len(strings)))
    content = build_xlsx([("S", row(1, cells))], strings=strings)
    rows = assert_same_rows(content)
    assert rows["S"] == [
        (
            "plain",
            "  padded  ",
            "Rich text",
            "base+run",
            "漢字",
            "a_x000D_b",
            "",
            "multi\nline & <escaped>",
            "last t wins",
            "run only",
        )
    ]
    assert_same_document(content)


def test_inline_strings(part_mode: str) -> None:
    cells = (
        '<c r="A1" t="inlineStr"><is><t>inline</t></is></c>'
        '<c r="B1" t="inlineStr"><is><r><t>ri</t></r><r><rPr><i/></rPr><t>ch</t></r></is></c>'
        '<c r="C1" t="inlineStr"><is><t/></is></c>'
        '<c r="D1" t="inlineStr"/>'
        '<c r="E1" t="inlineStr"><v>ignored</v></c>'
        '<c r="F1" t="inlineStr"><is><t>x005F_kept</t></is></c>'
    )
    rows = assert_same_rows(build_xlsx([("S", row(1, cells))]))
    assert rows["S"] == [("inline", "rich", "", None, None, "x005F_kept")]


def test_numbers_booleans_errors_and_formulas() -> None:
    cells = (
        '<c r="A1"><v>5</v></c>'
        '<c r="B1" t="n"><v>5.5</v></c>'
        '<c r="C1"><v>1E3</v></c>'
        '<c r="D1"><v>-7</v></c>'
        '<c r="E1" t="b"><v>1</v></c>'
        '<c r="F1" t="b"><v>0</v></c>'
        '<c r="G1" t="e"><v>#N/A</v></c>'
        '<c r="H1" t="str"><f>A1&amp;"x"</f><v>5x</v></c>'
        '<c r="I1"><f>SUM(A1:B1)</f></c>'
        '<c r="J1"><f>A1*2</f><v>10</v></c>'
        '<c r="K1" t="str"><f>"a"</f></c>'
        '<c r="L1"><v></v></c>'
        '<c r="M1" t="weird"><v>raw</v></c>'
        '<c r="N1" t="e"><f>1/0</f><v>#DIV/0!</v></c>'
        '<c r="O1" t="d"><v>2024-03-01T10:30:00</v></c>'
        '<c r="P1" t="d"><v>2024-03-01</v></c>'
        '<c r="Q1" t="d"><v>10:30:00</v></c>'
    )
    content = build_xlsx([("S", row(1, cells))])
    rows = assert_same_rows(content)
    assert rows["S"] == [
        (
            5,
            5.5,
            1000.0,
            -7,
            True,
            False,
            "#N/A",
            "5x",
            None,
            10,
            None,
            None,
            "raw",
            "#DIV/0!",
            datetime(2024, 3, 1, 10, 30),
            date(2024, 3, 1),
            time(10, 30),
        )
    ]
    assert [type(v) for v in rows["S"][0][:4]] == [int, float, float, int]
    assert_same_document(content)


def test_dates_builtin_and_custom_formats(part_mode: str) -> None:
    formats = {
        164: "dd/mm/yyyy",
        165: "[h]:mm:ss",
        166: '"day" 0',
        167: "yyyy-mm-dd hh:mm",
        168: "0.00",
        14: "0.000",
    }
    # cellXfs: 0 general, 1 builtin 14 overridden as a number, 2 builtin 22 (m/d/yy h:mm),
    # 3 builtin 18 (h:mm AM/PM), 4 dd/mm/yyyy, 5 [h]:mm:ss, 6 quoted text, 7 date time,
    # 8 0.00, 9 builtin 47 (mm:ss.0), 10 builtin 15 (d-mmm-yy), 11 an id nobody defines
    styles = styles_xml(formats, [0, 14, 22, 18, 164, 165, 166, 167, 168, 47, 15, 200])
    values = [
        "45000",
        "45000",
        "45000.5",
        "0.75",
        "45000",
        "1.5",
        "45000",
        "45000.25",
        "45000",
        "0.0001",
        "45000",
        "45000",
    ]
    cells = "".join(f'<c r="{chr(65 + i)}1" s="{i}"><v>{v}</v></c>' for i, v in enumerate(values))
    # A date style on a number out of the calendar's range: openpyxl's "#VALUE!".
    cells += '<c r="M1" s="4"><v>99999999</v></c><c r="N1" s="4"><v>-1</v></c>'
    cells += '<c r="O1" s="4" t="s"><v>0</v></c><c r="P1" s="4" t="b"><v>1</v></c>'
    content = build_xlsx([("S", row(1, cells))], strings=["<t>text</t>"], styles=styles)
    rows = assert_same_rows(content)
    got = rows["S"][0]
    assert got[0] == 45000 and got[1] == 45000
    assert got[2] == datetime(2023, 3, 15, 12, 0)
    assert got[3] == time(18, 0)
    assert got[4] == datetime(2023, 3, 15)
    assert got[5] == timedelta(days=1.5)
    assert got[6] == 45000  # a quoted "day" is text, not a date code
    assert got[7] == datetime(2023, 3, 15, 6, 0)
    assert got[11] == 45000
    assert got[12] == "#VALUE!"
    assert got[14:] == ("text", True)
    assert_same_document(content)


def test_1904_epoch() -> None:
    styles = styles_xml({164: "dd/mm/yyyy"}, [0, 164])
    cells = '<c r="A1" s="1"><v>0</v></c><c r="B1" s="1"><v>1</v></c>'
    for pr, first in (
        ('<workbookPr date1904="1"/>', datetime(1904, 1, 2)),
        ('<workbookPr date1904="true"/>', datetime(1904, 1, 2)),
        ('<workbookPr date1904="0"/>', datetime(1900, 1, 1)),
        ('<workbookPr date1904="false"/>', datetime(1900, 1, 1)),
        ("", datetime(1900, 1, 1)),
    ):
        rows = assert_same_rows(build_xlsx([("S", row(1, cells))], styles=styles, workbook_pr=pr))
        assert rows["S"][0][1] == first


def test_sparse_cells_gaps_and_positional_cells(part_mode: str) -> None:
    data = (
        row(2, '<c r="C2"><v>1</v></c>')  # row 1 missing, two gaps in row 2
        + row(3, "")  # a row element without cells
        + row(6, '<c r="B6"><v>2</v></c><c><v>3</v></c><c r="E6"><v>4</v></c><c><v>5</v></c>')
        + row(None, "<c><v>6</v></c><c><v>7</v></c>")  # row 7: no r on row nor cells
        + row(8, '<c r="D8"><v>8</v></c><c r="B8"><v>9</v></c>')  # out of order: width 2
        + row(9, '<c r="B9"><v>10</v></c><c r="B9"><v>11</v></c>')  # same cell twice
        + row(9, '<c r="A9"><v>12</v></c>')  # a repeated row number: dropped
        + row(4, '<c r="A4"><v>13</v></c>')  # a row above the last one: dropped
        + row(10, '<c r="A10"/><c r="C10" s="0"/>')  # cells without values
        + row(12, '<c r="a12"><v>14</v></c><c r="$C$12"><v>15</v></c>')
    )
    # openpyxl rejects "$C$12"; keep it out of the reference case and test it below
    data = data.replace('<c r="$C$12"><v>15</v></c>', '<c r="c12"><v>15</v></c>')
    rows = assert_same_rows(build_xlsx([("S", data)]))
    assert rows["S"] == [
        [],
        (None, None, 1),
        (),
        [],
        [],
        (None, 2, 3, None, 4, 5),
        (6, 7),
        (None, 9),
        (None, 11),
        (None, None, None),
        [],
        (14, None, 15),
    ]


def test_row_numbers_written_as_floats_and_trailing_empty_rows(part_mode: str) -> None:
    data = row(1, '<c r="A1"><v>1</v></c>') + '<row r="3.0"><c r="A3"><v>3</v></c></row>'
    data += row(5, "") + row(6, "")
    rows = assert_same_rows(build_xlsx([("S", data)]))
    assert rows["S"] == [(1,), [], (3,), [], (), ()]


def test_empty_sheets(part_mode: str) -> None:
    rows = assert_same_rows(build_xlsx([("A", ""), ("B", row(1, "")), ("C", row(3, ""))]))
    assert rows == {"A": [], "B": [()], "C": [[], [], ()]}


# ------------------------------------------------------------------------- workbook structure


def test_sheet_order_follows_workbook_not_relationships() -> None:
    sheets = [
        (name, row(1, f'<c r="A1" t="inlineStr"><is><t>{name}</t></is></c>'))
        for name in ("Primera", "Segunda", "Tercera")
    ]
    for absolute in (False, True):
        content = build_xlsx(sheets, rel_order=[2, 0, 1], absolute_targets=absolute)
        rows = assert_same_rows(content)
        assert list(rows) == ["Primera", "Segunda", "Tercera"]
        assert [r[0][0] for r in rows.values()] == ["Primera", "Segunda", "Tercera"]


def test_chartsheets_are_left_out() -> None:
    content = build_xlsx([("Datos", row(1, '<c r="A1"><v>1</v></c>'))], chartsheets=("Grafica",))
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        book = StreamWorkbook(archive)
        assert [s.name for s in book.sheets] == ["Datos", "Grafica"]
        assert [s.name for s in book.worksheets] == ["Datos"]
    assert assert_same_rows(content) == {"Datos": [(1,)]}
    assert_same_document(content)


def test_chartsheet_without_relationships_reads_where_openpyxl_fails() -> None:
    """openpyxl 3.1 cannot load a chartsheet that has no relationships part ('list' object
    has no attribute 'find'): such a workbook was unreadable, the streaming reader reads its
    worksheets. The one known case where the two readers differ."""
    content = build_xlsx(
        [("Datos", row(1, '<c r="A1"><v>1</v></c>'))], chartsheets=("G",), chartsheet_rels=False
    )
    with pytest.raises(AttributeError):
        openpyxl_rows(content)
    assert stream_rows(content) == {"Datos": [(1,)]}
    streamed, forced = documents(content)
    assert forced["kind"] == "unreadable"
    assert streamed["kind"] == "table" and streamed["sheets"] == ["Datos"]


def test_xlsxwriter_workbook_with_every_writer_type() -> None:
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True})
    sheet = book.add_worksheet("Información")
    fmt_date = book.add_format({"num_format": "dd/mm/yyyy"})
    fmt_time = book.add_format({"num_format": "hh:mm"})
    bold = book.add_format({"bold": True})
    sheet.write_string(0, 0, "Título", bold)
    sheet.write_rich_string(0, 1, "rich ", bold, "text")
    sheet.write_number(1, 0, 3)
    sheet.write_number(1, 1, 2.25)
    sheet.write_boolean(1, 2, True)
    sheet.write_formula(1, 3, "=A2*2", None, 6)
    sheet.write_formula(1, 4, "=A2*3")
    sheet.write_datetime(2, 0, datetime(2024, 1, 31), fmt_date)
    sheet.write_datetime(2, 1, datetime(2024, 1, 31, 13, 45), fmt_time)
    sheet.write_blank(2, 5, None, bold)
    sheet.write_string(40, 3, "far")
    book.add_worksheet("Hidden_1").write_string(0, 0, "Sí")
    book.add_chartsheet("Chart1")
    chart = book.add_chart({"type": "column"})
    chart.add_series({"values": "=Información!$A$2:$A$3"})
    book.get_worksheet_by_name("Chart1").set_chart(chart)
    book.close()
    content = buffer.getvalue()
    rows = assert_same_rows(content)
    assert list(rows) == ["Información", "Hidden_1"]
    assert rows["Información"][1] == (3, 2.25, True, 6, 0)
    assert_same_document(content)


# ------------------------------------------------------------------------- fallback


def test_unsupported_workbooks_are_read_by_openpyxl() -> None:
    base = build_xlsx([("S", row(1, '<c r="A1"><v>1</v></c>'))])

    def rewrite(member: str, old: str, new: str) -> bytes:
        source = zipfile.ZipFile(io.BytesIO(base))
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w") as target:
            for info in source.infolist():
                data = source.read(info)
                if info.filename == member:
                    data = data.replace(old.encode(), new.encode())
                target.writestr(info, data)
        return out.getvalue()

    doctype = rewrite("xl/workbook.xml", "<workbook", "<!DOCTYPE workbook>\n<workbook")
    no_name = rewrite("xl/workbook.xml", 'name="S" ', "")
    for content in (doctype, no_name):
        with zipfile.ZipFile(io.BytesIO(content)) as archive, pytest.raises(Unsupported):
            StreamWorkbook(archive)
    # openpyxl reads the DOCTYPE one, and rejects the sheet without a name: same either way
    streamed, forced = documents(doctype)
    assert streamed == forced and streamed["kind"] == "table"
    streamed, forced = documents(no_name)
    assert streamed == forced and streamed["kind"] == "unreadable"


def test_a_sheet_failing_half_way_is_finished_by_openpyxl(monkeypatch) -> None:
    data = "".join(
        row(n, f'<c r="A{n}"><v>{n}</v></c><c r="B{n}" t="inlineStr"><is><t>Fila {n}</t></is></c>')
        for n in range(1, 40)
    )
    content = build_xlsx(
        [
            (
                "S",
                row(
                    None,
                    '<c t="inlineStr"><is><t>Nombre</t></is></c>'
                    '<c t="inlineStr"><is><t>Valor</t></is></c>',
                )
                + data,
            )
        ]
    )
    expected = documents(content)[1]
    real = StreamWorkbook._row_values
    calls = {"n": 0}

    def flaky(self: StreamWorkbook, element: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 12:
            raise ValueError("simulated parse failure")
        return real(self, element)

    monkeypatch.setattr(StreamWorkbook, "_row_values", flaky)
    loads = []
    real_load = sipot_xlsx._load
    monkeypatch.setattr(sipot_xlsx, "_load", lambda c: loads.append(1) or real_load(c))
    assert read_document(content).to_dict() == expected
    assert loads == [1]  # openpyxl was needed, once


def test_malformed_sheet_xml_fails_as_openpyxl_fails(part_mode: str) -> None:
    """Rows stream out before the parser meets the damage: the streaming reader hands over to
    openpyxl, which meets it too; the document is unreadable with openpyxl's message."""
    data = "".join(
        row(n, f'<c r="A{n}" t="inlineStr"><is><t>Fila {n}</t></is></c>') for n in range(1, 60)
    )
    for damage in (
        lambda x: x[: len(x) * 2 // 3],
        lambda x: x.replace('<row r="50">', "<row r=50>"),
    ):
        sheet = damage(f'<worksheet xmlns="{MAIN}"><sheetData>{data}</sheetData></worksheet>')
        content = build_xlsx([("S", data)], sheet_xml={0: sheet})
        with pytest.raises(SyntaxError):  # xml.etree's ParseError
            openpyxl_rows(content)
        streamed, forced = documents(content)
        assert streamed == forced
        assert streamed["kind"] == "unreadable"


def test_a_dtd_in_a_sheet_goes_to_openpyxl(part_mode: str) -> None:
    sheet = (
        f'<!DOCTYPE worksheet [<!ENTITY e "entity">]><worksheet xmlns="{MAIN}"><sheetData>'
        + row(1, '<c r="A1" t="inlineStr"><is><t>&e;</t></is></c>')
        + "</sheetData></worksheet>"
    )
    content = build_xlsx([("S", "")], sheet_xml={0: sheet})
    with pytest.raises(Unsupported):
        stream_rows(content)
    streamed, forced = documents(content)
    assert streamed == forced  # defusedxml refuses the entity: unreadable both ways


def test_bad_cells_fail_as_openpyxl_fails() -> None:
    for cell in (
        '<c r="A1"><v>abc</v></c>',
        '<c r="A1" t="s"><v>5</v></c>',
        '<c r="$A$1"><v>1</v></c>',
        '<c r="A1" s="x"><v>1</v></c>',
    ):
        content = build_xlsx([("S", row(1, cell))])
        with pytest.raises((ValueError, IndexError)):
            stream_rows(content)
        streamed, forced = documents(content)
        assert streamed == forced
        assert streamed["kind"] == "unreadable"


def test_force_openpyxl_switch(monkeypatch) -> None:
    content = build_xlsx([("S", row(1, '<c r="A1"><v>1</v></c>'))])
    opened = []
    monkeypatch.setattr(
        xlsx_stream.StreamWorkbook,
        "__init__",
        lambda self, archive: opened.append(1) or (_ for _ in ()).throw(Unsupported("test")),
    )
    monkeypatch.setattr(sipot_xlsx, "FORCE_OPENPYXL", True)
    read_document(content)
    assert opened == []
    monkeypatch.setattr(sipot_xlsx, "FORCE_OPENPYXL", False)
    assert read_document(content).kind != "unreadable"  # declined: openpyxl read it
    assert opened == [1]


# ------------------------------------------------------------------------- corpora


def _load_module(name: str) -> Any:
    spec = importlib.util.spec_from_file_location(f"_xlsx_stream_cases_{name}", HERE / name)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_workbooks_of_the_other_reader_tests() -> None:
    formats = _load_module("test_readers_formats.py")
    safety = _load_module("test_readers_safety.py")
    cases = [
        formats.header_first_xlsx(),
        formats.upload_template_xlsx(True),
        formats.upload_template_xlsx(False),
        safety.small_xlsx(),
        safety.small_xlsx(0),
    ]
    for content in cases:
        assert_same_rows(content)
        assert_same_document(content)


def _real_files() -> list[Path]:
    """Every xlsx under tests/fixtures and ../shared/reference, each content once."""
    found: dict[bytes, Path] = {}
    roots = [FIXTURES] + ([REFERENCE] if REFERENCE.is_dir() else [])
    for root in roots:
        for path in sorted(root.rglob("*.xlsx")):
            found.setdefault(hashlib.sha256(path.read_bytes()).digest(), path)
    return list(found.values())


@pytest.mark.parametrize("path", _real_files(), ids=lambda p: p.name)
def test_real_exports(path: Path) -> None:
    content = path.read_bytes()
    assert_same_rows(content)
    streamed, forced = documents(content, filename=path.name)
    assert streamed == forced


@pytest.fixture(scope="module")
def testbed_files() -> list[tuple[str, str, bytes]]:
    """The xlsx files of one testbed portal, plus every defect variant of the network."""
    from audit.catalog import load_catalog
    from testbed.network import generate_network
    from testbed.plan import build_entries
    from testbed.resources import render_file

    network = generate_network(seed=7, size=30, base="127.30.0.1", port=8080)
    catalog = load_catalog()
    files = []
    for number, portal in enumerate(network.portals):
        for entry in build_entries(portal, catalog.applicability(portal.subject), catalog):
            for plan in entry.files:
                if plan.ext != "xlsx" or (number >= 1 and not plan.variant):
                    continue
                body, _ = render_file(portal, plan)
                name = f"{portal.base_url}/{plan.obligation.obligation_id}/{plan.index}"
                files.append((name, plan.variant, body))
    return files


def test_testbed_exports(testbed_files: list[tuple[str, str, bytes]]) -> None:
    variants = {variant for _, variant, _ in testbed_files}
    assert {"", "empty", "missing_columns", "bad_data", "format_mismatch"} <= variants
    read = 0
    for name, variant, content in testbed_files:
        streamed, forced = documents(content, filename="f.xlsx")
        assert streamed == forced, (name, variant)
        if variant == "format_mismatch":
            continue  # CSV bytes behind an xlsx name: neither reader opens them
        assert_same_rows(content)
        read += 1
    assert read > 50


def _random_sheet(rng: random.Random, strings: int) -> str:
    """Sheet XML mixing every cell type, style and numbering quirk at random."""
    out, number = [], 0
    for _ in range(rng.randint(0, 12)):
        roll = rng.random()
        if roll < 0.15:
            declared = None
            number += 1
        elif roll < 0.25:
            declared = max(1, number - rng.randint(0, 2))  # repeated or going back
        else:
            number += rng.choice((1, 1, 1, 2, 5))
            declared = number
        cells, column = [], 0
        for _ in range(rng.randint(0, 8)):
            column = max(1, column + rng.choice((1, 1, 1, 2, 4, -1)))
            letters = openpyxl.utils.get_column_letter(column)
            ref = rng.choice((f' r="{letters}{number or 1}"', "", f' r="{letters.lower()}1"'))
            style = rng.choice(("", ' s="0"', ' s="1"', ' s="2"', ' s="3"'))
            kind, value = rng.choice(
                [
                    ("", f"<v>{rng.randint(-5, 50000)}</v>"),
                    ("", f"<v>{rng.uniform(-2, 50000):.6f}</v>"),
                    ("", f"<v>{rng.uniform(0, 9):.3E}</v>"),
                    (' t="n"', "<v>0.5</v>"),
                    (' t="s"', f"<v>{rng.randrange(strings)}</v>"),
                    (' t="b"', f"<v>{rng.randint(0, 1)}</v>"),
                    (' t="e"', "<v>#REF!</v>"),
                    (' t="str"', "<f>A1</f><v>formula text</v>"),
                    ("", "<f>A1+1</f>"),
                    ("", ""),
                    (' t="inlineStr"', "<is><t>inline</t></is>"),
                    (' t="d"', "<v>2021-02-03T04:05:06</v>"),
                ]
            )
            cells.append(f"<c{ref}{style}{kind}>{value}</c>")
        out.append(row(declared, "".join(cells)))
    return "".join(out)


def test_random_sheets_match_openpyxl(part_mode: str) -> None:
    rng = random.Random(20240601)
    strings = ["<t>uno</t>", "<r><t>d</t></r><r><t>os</t></r>", '<t xml:space="preserve"> </t>']
    styles = styles_xml({164: "dd/mm/yyyy hh:mm", 165: "[mm]:ss"}, [0, 14, 164, 165])
    for case in range(150):
        sheets = [(f"H{n}", _random_sheet(rng, len(strings))) for n in range(rng.randint(1, 3))]
        pr = '<workbookPr date1904="1"/>' if case % 5 == 0 else ""
        content = build_xlsx(sheets, strings=strings, styles=styles, workbook_pr=pr)
        assert_same_rows(content)
