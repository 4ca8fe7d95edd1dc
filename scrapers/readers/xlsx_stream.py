"""A streaming xlsx reader: the rows openpyxl's read-only mode gives, at a fraction of the cost.

``openpyxl.load_workbook(read_only=True)`` builds descriptor objects for the whole package
(manifest, workbook, every style, fonts, fills, theme, document properties) before the first
row is read, and then parses each cell through ``xml.etree``: on a PNT export that is most of
the time spent reading it. This module reads only what the values need — the content types,
``workbook.xml`` and its relationships (sheet names, order and parts), the date number formats
of ``styles.xml`` and the shared strings — with ``lxml``, and streams each sheet's rows.

The rows are meant to be exactly those of ``sheet.iter_rows(values_only=True)`` on a read-only,
``data_only`` workbook after ``reset_dimensions()`` (``tests/scrapers/readers/
test_xlsx_stream.py`` checks it file by file), quirks included:

* a row is a tuple as wide as its *last* cell's column (cells right of it are dropped), gaps
  are None; a ``<row>`` without cells is ``()`` and a row number skipped in the XML is ``[]``;
  rows numbered at or below one already read are dropped;
* numbers are ``int`` unless their text holds '.', 'e' or 'E'; numbers styled with a date or
  time format become ``datetime``/``date``/``time`` (``timedelta`` for ``[h]:mm`` formats),
  and "#VALUE!" when out of range; ``t="d"`` cells are ISO 8601; booleans are ``bool``; errors
  and formula strings stay text; a formula without a cached value is None;
* shared strings are their plain text (rich-text runs concatenated, phonetic runs left out)
  with 'x005F_' removed; inline strings likewise but without that replacement.

The conversions themselves are openpyxl's own functions (``from_excel``, ``from_ISO8601``,
``is_date_format``…), so the values cannot drift from it. Whatever this reader does not
model (strict OOXML, a DTD, a malformed part, missing attributes openpyxl would reject) raises
``Unsupported`` or the parse error, and the caller falls back to openpyxl.
"""

from __future__ import annotations

import posixpath
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO, Any

from lxml import etree
from openpyxl.styles.numbers import builtin_format_code, is_date_format, is_timedelta_format
from openpyxl.utils.cell import coordinate_to_tuple
from openpyxl.utils.datetime import MAC_EPOCH, WINDOWS_EPOCH, from_excel, from_ISO8601
from openpyxl.xml.constants import (
    ARC_CONTENT_TYPES,
    ARC_STYLE,
    REL_NS,
    SHARED_STRINGS,
    SHEET_MAIN_NS,
    XLSM,
    XLSX,
    XLTM,
    XLTX,
)

_NS = f"{{{SHEET_MAIN_NS}}}"
_ROW, _VALUE, _TEXT = f"{_NS}row", f"{_NS}v", f"{_NS}t"
_INLINE, _SHARED_ITEM = f"{_NS}is", f"{_NS}si"
_RELATION_ID = f"{{{REL_NS}}}id"
_WORKBOOK_TYPES = (XLTM, XLTX, XLSM, XLSX)  # openpyxl's search order
_SHEET_STATES = (None, "none", "visible", "hidden", "veryHidden")  # a NoneSet
_INVALID_TITLE = re.compile(r"[\\*?:/\[\]]")  # openpyxl.workbook.child.INVALID_TITLE_REGEX
_WHOLE_PART_BYTES = 1 << 20  # see elements()


class Unsupported(Exception):
    """The file uses something this reader does not model: read it with openpyxl instead."""


@dataclass(frozen=True)
class Sheet:
    name: str
    member: str  # the zip member holding the sheet XML
    chartsheet: bool = False


_PARSER_OPTIONS: dict[str, Any] = {
    # Comments and processing instructions dropped, so that text around them merges as in
    # xml.etree (which openpyxl uses); no entities, no network, libxml2's default size limits.
    "resolve_entities": False,
    "no_network": True,
    "remove_comments": True,
    "remove_pis": True,
    "huge_tree": False,
}
_CHUNK = 1 << 16


def _parser() -> etree.XMLParser:
    return etree.XMLParser(**_PARSER_OPTIONS)


def elements(
    stream: IO[bytes],
    size: int,
    tag: str,
    *,
    options: dict[str, Any] | None = None,
    check_doctype: bool = True,
) -> Iterator[Any]:
    """The ``tag`` elements of an XML part, each complete when yielded, in document order.

    A part of at most ``_WHOLE_PART_BYTES`` (``size``, unpacked) is parsed in one go, faster
    for the small parts of a typical export; a bigger one is fed to a pull parser in chunks and
    each element is dropped once the caller is done with it (memory stays flat whatever the
    sheet's length). Malformed XML raises lxml's ``XMLSyntaxError``, a DTD ``Unsupported``
    (unless ``check_doctype`` is false).
    """
    options = _PARSER_OPTIONS if options is None else options
    if size <= _WHOLE_PART_BYTES:
        root = etree.fromstring(stream.read(), etree.XMLParser(**options))
        if check_doctype:
            _check_doctype(root)
        yield from root.iter(tag)
        return
    parser = etree.XMLPullParser(events=("end",), tag=tag, **options)
    checked = not check_doctype
    while True:
        chunk = stream.read(_CHUNK)
        if chunk:
            parser.feed(chunk)
        else:
            root = parser.close()  # raises on a truncated or malformed document
            if not checked:
                _check_doctype(root)
                checked = True
        for _, element in parser.read_events():
            if not checked:
                _check_doctype(element)
                checked = True
            yield element
            element.clear()
            while element.getprevious() is not None:
                del element.getparent()[0]
        if not chunk:
            return


def _check_doctype(tree: Any) -> None:
    """openpyxl parses with defusedxml, which refuses entity declarations; lxml would keep
    them unresolved. A DTD in a spreadsheet part is exotic: leave it to openpyxl."""
    if tree is not None and tree.getroottree().docinfo.doctype:
        raise Unsupported("the part declares a DTD")


def _local(tag: Any) -> str:
    return tag.rpartition("}")[2] if isinstance(tag, str) else ""


class StreamWorkbook:
    """The worksheets of an xlsx package, and their rows (``iter_rows``)."""

    def __init__(self, archive: zipfile.ZipFile) -> None:
        self.archive = archive
        self.members = set(archive.namelist())
        manifest = self._parse_member(ARC_CONTENT_TYPES)
        workbook_part, strings_part = self._manifest(manifest)
        self.epoch, sheets = self._workbook(workbook_part)
        self.sheets = self._resolve(workbook_part, sheets)
        self.date_styles, self.timedelta_styles = self._styles()
        self.shared_strings = self._shared_strings(strings_part)
        self._style_kinds: dict[str, int] = {}

    # ---------------------------------------------------------------------- package parts

    def _parse_member(self, member: str) -> Any:
        """A small part as an element tree (KeyError when it is missing, as in openpyxl)."""
        root = etree.fromstring(self.archive.read(member), _parser())
        _check_doctype(root)
        return root

    @staticmethod
    def _manifest(root: Any) -> tuple[str, str | None]:
        """The workbook part and the shared-strings part, found as openpyxl finds them."""
        overrides, defaults = [], set()
        for element in root:
            name = _local(element.tag)
            if name == "Override":
                part, content_type = element.get("PartName"), element.get("ContentType")
                if part is None or content_type is None:
                    raise Unsupported("Override without PartName or ContentType")
                overrides.append((content_type, part))
            elif name == "Default":
                if element.get("Extension") is None or element.get("ContentType") is None:
                    raise Unsupported("Default without Extension or ContentType")
                defaults.add(element.get("ContentType"))
        found = {}
        for content_type, part in overrides:
            found.setdefault(content_type, part)
        workbook = next((found[ct] for ct in _WORKBOOK_TYPES if ct in found), None)
        if workbook is None:
            if not defaults & set(_WORKBOOK_TYPES):
                raise Unsupported("no workbook part")
            workbook = "/xl/workbook.xml"
        strings = found.get(SHARED_STRINGS)
        return workbook[1:], (strings[1:] if strings is not None else None)

    def _workbook(self, part: str) -> tuple[Any, list[tuple[str, str | None]]]:
        """The epoch and the sheets (name, relationship id) in workbook order."""
        root = self._parse_member(part)
        if root.tag != f"{_NS}workbook":
            raise Unsupported(f"workbook root is {root.tag}")
        date1904: Any = None
        sheets: list[tuple[str, str | None]] = []
        for element in root:
            name = _local(element.tag)
            if name == "workbookPr":
                date1904 = element.get("date1904")
            elif name == "sheets":
                sheets = []  # openpyxl keeps the last <sheets>
                for child in element:
                    title, sheet_id = child.get("name"), child.get("sheetId")
                    if title is None or sheet_id is None:
                        raise Unsupported("sheet without name or sheetId")
                    int(sheet_id)  # openpyxl's Integer descriptor: fails the same way
                    if child.get("state") not in _SHEET_STATES:
                        raise Unsupported(f"sheet state {child.get('state')!r}")
                    sheets.append((title, child.get(_RELATION_ID)))
        # openpyxl's Bool descriptor: 'false', 'f', '0' and '' are false, any other text true
        epoch = MAC_EPOCH if date1904 not in (None, "false", "f", "0", "") else WINDOWS_EPOCH
        return epoch, sheets

    def _resolve(self, part: str, sheets: list[tuple[str, str | None]]) -> list[Sheet]:
        folder, name = posixpath.split(part)
        rels_member = posixpath.join(folder, "_rels", f"{name}.rels")
        root = self._parse_member(rels_member)
        parent = posixpath.split(posixpath.dirname(rels_member))[0]
        relations: dict[str | None, tuple[str, str]] = {}
        for element in root:
            kind, target = element.get("Type"), element.get("Target")
            if kind is None or target is None:
                raise Unsupported("relationship without Type or Target")
            if element.get("TargetMode") != "External":
                if target.startswith("/"):
                    target = target[1:]
                else:
                    target = posixpath.normpath(posixpath.join(parent, target))
            relations[element.get("Id")] = (kind, target)
        resolved: list[Sheet] = []
        for title, relation_id in sheets:
            if not relation_id:
                continue  # openpyxl drops it with a warning
            if relation_id not in relations:
                raise Unsupported(f"no relationship {relation_id}")
            kind, target = relations[relation_id]
            if target not in self.members:
                continue
            resolved.append(Sheet(title, target, chartsheet="chartsheet" in kind))
        names = [sheet.name for sheet in resolved]
        worksheets = [sheet.name for sheet in resolved if not sheet.chartsheet]
        if len(set(worksheets)) != len(worksheets):
            raise Unsupported("two worksheets share a name")  # openpyxl reads the first twice
        for sheet in resolved:
            if sheet.chartsheet and (
                not sheet.name
                or _INVALID_TITLE.search(sheet.name)
                or sum(n.lower() == sheet.name.lower() for n in names) > 1
            ):
                raise Unsupported("a chartsheet title openpyxl would reject or rename")
        return resolved

    def _styles(self) -> tuple[frozenset[int], frozenset[int]]:
        """Indexes of the cell formats (cellXfs) showing numbers as dates, and as durations."""
        if ARC_STYLE not in self.members:
            return frozenset(), frozenset()
        root = self._parse_member(ARC_STYLE)
        formats_node = cells_node = None
        for element in root:
            name = _local(element.tag)
            if name == "numFmts":
                formats_node = element
            elif name == "cellXfs":
                cells_node = element
        custom: dict[int, str] = {}
        for element in formats_node if formats_node is not None else ():
            if _local(element.tag) != "numFmt":
                continue
            number, code = element.get("numFmtId"), element.get("formatCode")
            if number is None or code is None:
                raise Unsupported("numFmt without numFmtId or formatCode")
            custom[int(number)] = code
        dates, durations = set(), set()
        xfs = [e for e in cells_node if _local(e.tag) == "xf"] if cells_node is not None else []
        for index, xf in enumerate(xfs):
            number = int(xf.get("numFmtId", 0))
            fmt = custom[number] if number in custom else builtin_format_code(number)
            if is_date_format(fmt):
                dates.add(index)
            if is_timedelta_format(fmt):
                durations.add(index)
        return frozenset(dates), frozenset(durations)

    def _shared_strings(self, part: str | None) -> list[str]:
        if part is None:
            return []
        size = self.archive.getinfo(part).file_size
        with self.archive.open(part) as stream:
            return [
                _text_content(item).replace("x005F_", "")
                for item in elements(stream, size, _SHARED_ITEM)
            ]

    # ---------------------------------------------------------------------- rows

    @property
    def worksheets(self) -> list[Sheet]:
        return [sheet for sheet in self.sheets if not sheet.chartsheet]

    def iter_rows(self, sheet: Sheet) -> Iterator[Any]:
        """The sheet's rows as openpyxl's read-only ``iter_rows(values_only=True)`` gives them
        after ``reset_dimensions()``."""
        expected = 1  # the next row number to yield
        number = 0
        size = self.archive.getinfo(sheet.member).file_size
        with self.archive.open(sheet.member) as stream:
            for row in elements(stream, size, _ROW):
                declared = row.get("r")
                if declared is not None:
                    number = _row_number(declared)
                else:
                    number += 1
                # Cells are converted even in rows openpyxl then drops, so that a bad cell
                # fails here as it fails there.
                values = self._row_values(row)
                if number < expected:
                    continue  # a row at or above one already read: openpyxl skips it
                while expected < number:
                    expected += 1
                    yield []
                expected += 1
                yield values

    def _row_values(self, row: Any) -> tuple[Any, ...]:
        out: list[Any] = []
        pairs: list[tuple[int, Any]] | None = None  # set once cells come out of order
        column = 0
        strings, epoch = self.shared_strings, self.epoch
        for cell in row:
            kind = cell.get("t", "n")
            reference = cell.get("r")
            style = cell.get("s")
            date_kind = self._style_kinds.get(style, -1) if style else 0
            if date_kind < 0:
                date_kind = self._style_kind(style)
            if kind == "inlineStr":
                value: Any = None
                inline = cell.find(_INLINE)
                if inline is not None:
                    value = _text_content(inline)
            else:
                value = None
                for child in cell:  # findtext(_VALUE), without its path machinery
                    if child.tag == _VALUE:
                        value = child.text or None
                        break
                if value is not None:
                    if kind == "n":
                        value = (
                            float(value)
                            if "." in value or "E" in value or "e" in value
                            else int(value)
                        )
                        if date_kind:
                            try:
                                value = from_excel(value, epoch, timedelta=date_kind == 2)
                            except (OverflowError, ValueError):
                                value = "#VALUE!"
                    elif kind == "s":
                        value = strings[int(value)]
                    elif kind == "b":
                        value = bool(int(value))
                    elif kind == "d":
                        value = from_ISO8601(value)
            if reference:
                letters = reference.rstrip(_DIGITS)
                column = _COLUMNS.get(letters, 0)
                if not column or len(letters) == len(reference):
                    column = _column(reference, letters)
            else:
                column += 1
            if pairs is None:
                width = len(out)
                if column == width + 1:
                    out.append(value)
                    continue
                if column > width:
                    out.extend([None] * (column - width - 1))
                    out.append(value)
                    continue
                pairs = list(enumerate(out, start=1))
            pairs.append((column, value))
        if pairs is None:
            return tuple(out)
        width = pairs[-1][0]
        placed: list[Any] = [None] * width
        for position, value in pairs:
            if 1 <= position <= width:
                placed[position - 1] = value
        return tuple(placed)

    def _style_kind(self, style: str) -> int:
        """0: plain number format, 1: a date format, 2: a duration format ('[h]:mm')."""
        index = int(style)  # as openpyxl does for every cell with an 's', whatever its type
        kind = (2 if index in self.timedelta_styles else 1) if index in self.date_styles else 0
        self._style_kinds[style] = kind
        return kind


def _text_content(node: Any) -> str:
    """openpyxl's ``Text.from_tree(node).content``: the last <t> child, then each rich-text
    run's last <t>; phonetic runs (<rPh>) and properties are left out."""
    if len(node) == 1 and node[0].tag == _TEXT:
        return node[0].text or ""
    plain: str | None = None
    runs: list[str] = []
    for child in node:
        name = _local(child.tag)
        if name == "t":
            plain = child.text
        elif name == "r":
            text = None
            for part in child:
                if _local(part.tag) == "t":
                    text = part.text
            if text is not None:
                runs.append(text)
    return (plain or "") + "".join(runs)


def _row_number(declared: str) -> int:
    """openpyxl's reading of <row r=...>: an integer, or a float with an integral value."""
    try:
        return int(declared)
    except ValueError:
        value = float(declared)
        if value.is_integer():
            return int(value)
        raise ValueError(f"{declared} is not a valid row number") from None


_DIGITS = "0123456789"
_COLUMN_LETTERS = re.compile(r"[A-Z]{1,3}")
_COLUMNS: dict[str, int] = {}  # 'AB' -> 28, filled as references are met


def _column(reference: str, letters: str) -> int:
    """The column of a cell reference: plain ones ('AB12') computed and cached, anything else
    ('$A$1', 'a1', 'A') left to openpyxl's own parser (which raises where it raises)."""
    if len(letters) < len(reference) and _COLUMN_LETTERS.fullmatch(letters):
        index = 0
        for letter in letters:
            index = index * 26 + ord(letter) - 64
        _COLUMNS[letters] = index
        return index
    column: int = coordinate_to_tuple(reference)[1]
    return column
