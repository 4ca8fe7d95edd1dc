"""Legacy .xls workbooks (BIFF, read with xlrd): 2016-2017 state exports and old templates.

xlrd has no streaming mode; the fetcher's size cap already bounds the file, and sheets are
loaded on demand so catalogs and sub-tables are read one at a time. Date cells (a number with a
date format) come back as datetimes, using the workbook's own 1900/1904 date system.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import xlrd

from scrapers.readers.grid import SheetSource, read_workbook
from scrapers.readers.model import Document, Limits


def read_xls(doc: Document, content: bytes, limits: Limits) -> None:
    """Fill ``doc`` from an .xls file (errors propagate to ``read_document``'s guard)."""
    book = xlrd.open_workbook(file_contents=content, on_demand=True, logfile=_Silent())
    try:
        doc.encoding = getattr(book, "encoding", None)
        names = book.sheet_names()
        sheets = [SheetSource(name, _row_reader(book, index)) for index, name in enumerate(names)]
        read_workbook(doc, sheets, limits)
    finally:
        book.release_resources()


def _row_reader(book: Any, index: int) -> Any:
    def open_rows() -> Iterator[Sequence[Any]]:
        sheet = book.sheet_by_index(index)
        for row in range(sheet.nrows):
            yield [_value(cell, book.datemode) for cell in sheet.row(row)]
        book.unload_sheet(index)

    return open_rows


def _value(cell: Any, datemode: int) -> Any:
    if cell.ctype == xlrd.XL_CELL_DATE:
        try:
            return xlrd.xldate.xldate_as_datetime(cell.value, datemode)
        except (ValueError, OverflowError, xlrd.xldate.XLDateError):
            return cell.value
    if cell.ctype == xlrd.XL_CELL_BOOLEAN:
        return bool(cell.value)
    if cell.ctype in (xlrd.XL_CELL_ERROR, xlrd.XL_CELL_EMPTY, xlrd.XL_CELL_BLANK):
        return None
    return cell.value


class _Silent:
    """xlrd writes format warnings to a log file; they are not findings."""

    def write(self, _text: str) -> int:
        return 0
