"""xlsx workbooks: PNT exports, upload templates, and any other spreadsheet.

openpyxl runs in read-only mode, which streams each sheet's XML row by row instead of building
the whole workbook, and the container is checked for zip bombs first (``archive.check_zip``).
Declared sheet dimensions are ignored: a sheet claiming A1:XFD1048576 would otherwise make the
reader pad a million empty rows.
"""

from __future__ import annotations

import io
import warnings
import zipfile
from collections.abc import Iterator, Sequence
from typing import IO, Any

import openpyxl
from lxml import etree

from scrapers.readers.archive import check_zip
from scrapers.readers.grid import SheetSource, read_workbook
from scrapers.readers.model import Document, Limits

_MAIN_NS = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_ROW, _VALUE, _TEXT = f"{_MAIN_NS}row", f"{_MAIN_NS}v", f"{_MAIN_NS}t"


def read_xlsx(doc: Document, content: bytes, limits: Limits) -> None:
    """Fill ``doc`` from an xlsx file (errors propagate to ``read_document``'s guard)."""
    archive = check_zip(content, limits.max_unpacked_bytes)
    with warnings.catch_warnings():
        # "Data Validation extension is not supported", "no default style": noise for us.
        warnings.simplefilter("ignore")
        workbook = openpyxl.load_workbook(
            io.BytesIO(content), read_only=True, data_only=True, keep_links=False
        )
        try:
            sheets = [
                SheetSource(
                    name, _row_reader(workbook, name), _row_counter(workbook, name, archive)
                )
                for name in workbook.sheetnames
                if hasattr(workbook[name], "iter_rows")
            ]
            read_workbook(doc, sheets, limits)
        finally:
            workbook.close()
            archive.close()


def _row_reader(workbook: Any, name: str) -> Any:
    def open_rows() -> Iterator[Sequence[Any]]:
        sheet = workbook[name]
        sheet.reset_dimensions()
        return sheet.iter_rows(values_only=True)

    return open_rows


def _row_counter(workbook: Any, name: str, archive: zipfile.ZipFile) -> Any:
    """A fast row counter over the sheet's XML (5x quicker than openpyxl, which converts every
    cell): sub-tables of a big export hold tens of thousands of rows that only need counting.
    None when openpyxl does not say which member holds the sheet."""
    member = getattr(workbook[name], "_worksheet_path", None)
    if not isinstance(member, str) or member not in archive.namelist():
        return None

    def count_rows_after(after: int, limit: int) -> tuple[int, bool]:
        count = 0
        with archive.open(member) as stream:
            for number in _filled_row_numbers(stream):
                if number <= after:
                    continue
                if count >= limit:
                    return count, True
                count += 1
        return count, False

    return count_rows_after


def _filled_row_numbers(stream: IO[bytes]) -> Iterator[int]:
    """Numbers of the rows holding at least one value (a <v> or an inline string's <t>)."""
    previous = 0
    parser = etree.iterparse(
        stream, tag=_ROW, resolve_entities=False, no_network=True, huge_tree=False
    )
    for _, row in parser:
        declared = row.get("r")
        number = int(declared) if declared and declared.isdigit() else previous + 1
        previous = number
        if any((value.text or "").strip() for value in row.iter(_VALUE, _TEXT)):
            yield number
        row.clear()
        while row.getprevious() is not None:
            del row.getparent()[0]
