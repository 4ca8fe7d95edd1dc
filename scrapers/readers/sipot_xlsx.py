"""xlsx workbooks: PNT exports, upload templates, and any other spreadsheet.

The container is checked for zip bombs first (``archive.check_zip``). Rows are then streamed by
``xlsx_stream``, which reads only the parts the values need (workbook, relationships, date
formats, shared strings) and parses each sheet with lxml: it yields the very rows openpyxl's
read-only mode yields, at a fraction of the cost. Whatever it does not model sends the file to
openpyxl (read-only, ``data_only``): a workbook it declines is read by openpyxl from the start,
and a sheet whose XML it fails on half-way is finished by openpyxl from the row where it stopped.
Declared sheet dimensions are ignored: a sheet claiming A1:XFD1048576 would otherwise make the
reader pad a million empty rows.
"""

from __future__ import annotations

import io
import itertools
import warnings
import zipfile
from collections.abc import Callable, Iterator, Sequence
from typing import IO, Any

import openpyxl

from scrapers.readers.archive import check_zip
from scrapers.readers.grid import SheetSource, read_workbook
from scrapers.readers.model import Document, Limits
from scrapers.readers.xlsx_stream import _ROW, _TEXT, _VALUE, Sheet, StreamWorkbook, elements

# True: read every workbook with openpyxl, as before the streaming reader (the tests compare
# the two; also a switch should a file ever read differently).
FORCE_OPENPYXL = False

RowCounter = Callable[[int, int], tuple[int, bool]]


def read_xlsx(doc: Document, content: bytes, limits: Limits) -> None:
    """Fill ``doc`` from an xlsx file (errors propagate to ``read_document``'s guard)."""
    archive = check_zip(content, limits.max_unpacked_bytes)
    with warnings.catch_warnings():
        # "Data Validation extension is not supported", "no default style": noise for us.
        warnings.simplefilter("ignore")
        try:
            book = None if FORCE_OPENPYXL else _stream_workbook(archive)
            if book is None:
                _read_with_openpyxl(doc, content, archive, limits)
            else:
                _read_streamed(doc, book, content, archive, limits)
        finally:
            archive.close()


def _stream_workbook(archive: zipfile.ZipFile) -> StreamWorkbook | None:
    try:
        return StreamWorkbook(archive)
    except Exception:  # anything it does not model, or a damaged part: openpyxl decides
        return None


# ------------------------------------------------------------------------- streamed


class _Openpyxl:
    """openpyxl's reading of the same file, loaded only if a streamed sheet needs it."""

    def __init__(self, content: bytes) -> None:
        self.content = content
        self.workbook: Any = None

    def rows(self, name: str) -> Iterator[Sequence[Any]]:
        if self.workbook is None:
            self.workbook = _load(self.content)
        return _row_reader(self.workbook, name)()

    def close(self) -> None:
        if self.workbook is not None:
            self.workbook.close()


def _read_streamed(
    doc: Document,
    book: StreamWorkbook,
    content: bytes,
    archive: zipfile.ZipFile,
    limits: Limits,
) -> None:
    fallback = _Openpyxl(content)
    try:
        sheets = [
            SheetSource(
                sheet.name,
                _streamed_rows(book, sheet, fallback),
                _member_row_counter(archive, sheet.member),
            )
            for sheet in book.worksheets
        ]
        read_workbook(doc, sheets, limits)
    finally:
        fallback.close()


def _streamed_rows(
    book: StreamWorkbook, sheet: Sheet, fallback: _Openpyxl
) -> Callable[[], Iterator[Sequence[Any]]]:
    def open_rows() -> Iterator[Sequence[Any]]:
        rows = book.iter_rows(sheet)
        done = 0
        try:
            while True:
                try:
                    row = next(rows)
                except StopIteration:
                    return
                except Exception:
                    # The streaming reader failed on this sheet: openpyxl reads it again and
                    # goes on from the row where the streaming reader stopped (or raises the
                    # error it raised before the streaming reader existed).
                    yield from itertools.islice(fallback.rows(sheet.name), done, None)
                    return
                done += 1
                yield row
        finally:
            rows.close()

    return open_rows


# ------------------------------------------------------------------------- openpyxl


def _load(content: bytes) -> Any:
    # read_xlsx silences openpyxl's warnings around every load (the lazy fallback's too)
    return openpyxl.load_workbook(
        io.BytesIO(content), read_only=True, data_only=True, keep_links=False
    )


def _read_with_openpyxl(
    doc: Document, content: bytes, archive: zipfile.ZipFile, limits: Limits
) -> None:
    workbook = _load(content)
    try:
        sheets = [
            SheetSource(name, _row_reader(workbook, name), _row_counter(workbook, name, archive))
            for name in workbook.sheetnames
            if hasattr(workbook[name], "iter_rows")
        ]
        read_workbook(doc, sheets, limits)
    finally:
        workbook.close()


def _row_reader(workbook: Any, name: str) -> Any:
    def open_rows() -> Iterator[Sequence[Any]]:
        sheet = workbook[name]
        sheet.reset_dimensions()
        return sheet.iter_rows(values_only=True)

    return open_rows


def _row_counter(workbook: Any, name: str, archive: zipfile.ZipFile) -> RowCounter | None:
    """None when openpyxl does not say which member holds the sheet."""
    member = getattr(workbook[name], "_worksheet_path", None)
    if not isinstance(member, str) or member not in archive.namelist():
        return None
    return _member_row_counter(archive, member)


# ------------------------------------------------------------------------- row counting


def _member_row_counter(archive: zipfile.ZipFile, member: str) -> RowCounter:
    """A fast row counter over the sheet's XML (5x quicker than converting every cell):
    sub-tables of a big export hold tens of thousands of rows that only need counting."""

    def count_rows_after(after: int, limit: int) -> tuple[int, bool]:
        count = 0
        size = archive.getinfo(member).file_size
        with archive.open(member) as stream:
            for number in _filled_row_numbers(stream, size):
                if number <= after:
                    continue
                if count >= limit:
                    return count, True
                count += 1
        return count, False

    return count_rows_after


_COUNTER_PARSER = {"resolve_entities": False, "no_network": True, "huge_tree": False}


def _filled_row_numbers(stream: IO[bytes], size: int) -> Iterator[int]:
    """Numbers of the rows holding at least one value (a <v> or an inline string's <t>)."""
    previous = 0
    for row in elements(stream, size, _ROW, options=_COUNTER_PARSER, check_doctype=False):
        declared = row.get("r")
        number = int(declared) if declared and declared.isdigit() else previous + 1
        previous = number
        if any((value.text or "").strip() for value in row.iter(_VALUE, _TEXT)):
            yield number
