"""Reading a grid of cells the way SIPOT files are laid out, whatever format carried it.

xlsx, xls, CSV, HTML tables and Word tables all end up as rows of cells. Where the header is,
whether metadata rows precede it, which sheets are catalogs or sub-tables: those are questions
about the layout, not the format, so they are answered once, here, from the content (never
from fixed row numbers: exports put the header in row 6, 2017 state systems in row 1,
templates in row 7, CSVs wherever their producer liked).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any

from scrapers.discovery import normalize_text
from scrapers.readers import labels, notes, periods
from scrapers.readers.model import (
    W_BLANK_ROWS,
    W_MOJIBAKE,
    W_NO_HEADER,
    W_TRUNCATED,
    W_UNLABELLED_CELLS,
    Document,
    Limits,
    Subtable,
)

HEAD_ROWS = 30  # non-blank rows examined to find the header
HEAD_SCAN_LIMIT = 1000  # rows scanned (blank ones included) before giving up on a header
MAX_COLUMNS = 16_384  # Excel's own limit; wider rows are cut
SAMPLE_ROWS = 20
MAX_CATALOG_VALUES = 5000
MOJIBAKE_SCAN_ROWS = 1000
_MAIN_SHEET_NAMES = ("informacion", "reporte de formatos")

Cells = list[str | None]


@dataclass
class SheetSource:
    """One sheet to read: a name and a way to iterate its rows of raw cell values.

    ``count_rows_after(row_number, limit)``, when a format offers it, counts non-blank rows
    below a row without converting cells (sub-tables need only their size): it returns the
    count, at most ``limit``, and whether more rows follow.
    """

    name: str
    open_rows: Callable[[], Iterator[Sequence[Any]]]
    count_rows_after: Callable[[int, int], tuple[int, bool]] | None = None


def static_sheet(name: str, rows: Sequence[Sequence[Any]]) -> SheetSource:
    """A sheet over rows already in memory (HTML and Word tables)."""
    return SheetSource(name, lambda: iter(rows))


@dataclass
class _Row:
    number: int  # 1-based row number in the sheet
    cells: Cells
    typed_dates: set[int]  # columns whose value came from a date cell


@dataclass
class _Layout:
    header: _Row | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    template: bool = False
    has_metadata_rows: bool = False


# ------------------------------------------------------------------------- cell conversion


def cell_text(value: Any) -> tuple[str | None, bool]:
    """A cell as text, and whether it was a date cell.

    Integral floats lose their '.0' (xlrd reads every number as a float); dates become ISO
    'YYYY-MM-DD' (with the time only when there is one); empty and whitespace-only cells
    become None.
    """
    if value is None:
        return None, False
    if isinstance(value, str):
        return (value if value.strip() else None), False
    if isinstance(value, bool):
        return ("TRUE" if value else "FALSE"), False
    if isinstance(value, datetime):
        if value.time() == time(0, 0):
            return value.date().isoformat(), True
        return value.isoformat(sep=" "), True
    if isinstance(value, date):
        return value.isoformat(), True
    if isinstance(value, float):
        if math.isfinite(value) and value.is_integer():
            return str(int(value)), False
        return repr(value), False
    return str(value), False


def _convert(raw: Sequence[Any], number: int) -> _Row:
    cells: Cells = []
    typed: set[int] = set()
    for index, value in enumerate(raw[:MAX_COLUMNS]):
        text, is_date = cell_text(value)
        cells.append(text)
        if is_date:
            typed.add(index)
    while cells and cells[-1] is None:
        cells.pop()
    return _Row(number, cells, typed)


def _filled(cells: Cells) -> int:
    return sum(1 for cell in cells if cell is not None)


def _folded(cell: str | None) -> str:
    return normalize_text(cell) if cell else ""


# ------------------------------------------------------------------------- layout detection


def _read_head(rows: Iterator[Sequence[Any]]) -> list[_Row]:
    """The first rows (blank ones included, so positions are row numbers), up to ``HEAD_ROWS``
    non-blank ones: enough to find template rows, metadata rows and the header."""
    head: list[_Row] = []
    filled = 0
    for number, raw in enumerate(rows, start=1):
        row = _convert(raw, number)
        head.append(row)
        filled += bool(row.cells)
        if filled >= HEAD_ROWS or number >= HEAD_SCAN_LIMIT:
            break
    return head


def _template_layout(head: list[_Row]) -> _Layout | None:
    """A SIPOT upload template: 'TITULO' | 'NOMBRE CORTO' …, then 'Tabla Campos' above labels."""
    for index, row in enumerate(head):
        first = [_folded(cell) for cell in row.cells[:2]]
        if first != ["titulo", "nombre corto"]:
            continue
        marker = next(
            (i for i in range(index + 1, len(head)) if _first(head[i]) == "tabla campos"), None
        )
        labels_row = next((r for r in head[(marker or len(head)) + 1 :] if r.cells), None)
        if labels_row is None:
            return None
        layout = _Layout(header=labels_row, template=True)
        meta = layout.metadata
        if index > 0 and head[index - 1].cells:
            meta["id_formato"] = head[index - 1].cells[0]
        values = head[index + 1].cells if index + 1 < marker else []
        for key, position in (("titulo", 0), ("nombre_corto", 1), ("descripcion", 2)):
            meta[key] = values[position] if position < len(values) else None
        if index + 2 < marker:
            meta["field_types"] = [cell or "" for cell in head[index + 2].cells]
        if index + 3 < marker:
            meta["field_ids"] = [cell or "" for cell in head[index + 3].cells]
        return layout
    return None


def _first(row: _Row) -> str:
    return _folded(row.cells[0]) if row.cells else ""


def _metadata_rows(head: list[_Row]) -> dict[int, tuple[str, str | None]]:
    """Rows like 'Normativa:' | 'LGTAIP_LTG_2018': row number -> (metadata key, value)."""
    found: dict[int, tuple[str, str | None]] = {}
    seen: set[str] = set()
    for row in head:
        if not row.cells or row.cells[0] is None or _filled(row.cells) > 2:
            continue
        key = labels.metadata_key(row.cells[0])
        if key and key not in seen:
            seen.add(key)
            value = row.cells[1].strip() if len(row.cells) > 1 and row.cells[1] else None
            found[row.number] = (key, value)
    return found


def _pick_header(head: list[_Row], skip: set[int], hint: int | None) -> _Row | None:
    """The header row: most SIPOT labels, else the hinted row (HTML <th>), else the first row
    holding at least half as many cells as the widest row near the top."""
    candidates = [row for row in head if row.cells and row.number not in skip]
    if not candidates:
        return None
    scores = [labels.header_score([c or "" for c in row.cells]) for row in candidates]
    best = max(scores)
    if best >= labels.SIPOT_HEADER_MIN:
        return candidates[scores.index(best)]
    if hint is not None:
        hinted = [row for row in candidates if row.number == hint]
        if hinted:
            return hinted[0]
    widest = max(_filled(row.cells) for row in candidates)
    needed = max(2, math.ceil(widest / 2)) if widest >= 2 else 1
    return next(row for row in candidates if _filled(row.cells) >= needed)


def detect_layout(head: list[_Row], header_hint: int | None = None) -> _Layout:
    """Where the header is and what precedes it (template rows or export metadata rows)."""
    template = _template_layout(head)
    if template is not None:
        return template
    meta_rows = _metadata_rows(head)
    header = _pick_header(head, set(meta_rows), header_hint)
    layout = _Layout(header=header)
    if header is not None:
        # Only rows above the header are the export's metadata rows.
        for number, (key, value) in sorted(meta_rows.items()):
            if number < header.number:
                layout.metadata[key] = value
        layout.has_metadata_rows = bool(layout.metadata)
    return layout


# ------------------------------------------------------------------------- the main table


@dataclass
class _TableState:
    width: int
    cap: int
    rows: list[tuple[str | None, ...]] = field(default_factory=list)
    typed: Counter[int] = field(default_factory=Counter)
    pending_blank: int = 0
    inner_blank: int = 0
    overflow: int = 0  # rows with values right of the last labelled column
    truncated: bool = False

    def add(self, row: _Row) -> bool:
        """Keep one row; False once the cap is reached and a further row proves truncation."""
        if not row.cells:
            self.pending_blank += 1
            return True
        if len(self.rows) >= self.cap:
            self.truncated = True
            return False
        if self.rows:
            self.inner_blank += self.pending_blank
        self.pending_blank = 0
        self.overflow += len(row.cells) > self.width
        cells = row.cells[: self.width]
        cells.extend([None] * (self.width - len(cells)))
        self.rows.append(tuple(cells))
        for index in row.typed_dates:
            if index < self.width:
                self.typed[index] += 1
        return True


def read_main_table(
    doc: Document, sheet: SheetSource, limits: Limits, header_hint: int | None = None
) -> None:
    """Fill ``doc`` from the main sheet: layout, header, data rows (bounded), period, notes."""
    doc.sheet = sheet.name
    rows = iter(sheet.open_rows())
    head = _read_head(rows)
    if not any(row.cells for row in head):
        doc.kind = "empty"
        return
    layout = detect_layout(head, header_hint)
    header = layout.header
    if header is None:
        doc.kind = "table"
        doc.warn(W_NO_HEADER, "no row looks like a header")
        return
    _set_columns(doc, header, layout)
    width = len(doc.columns)
    cap = max(1, min(limits.max_rows, limits.max_cells // max(1, width)))
    state = _TableState(width=width, cap=cap)
    for row in head:
        if row.number > header.number and not state.add(row):
            break
    else:
        last = head[-1].number
        for number, raw in enumerate(rows, start=last + 1):
            if not state.add(_convert(raw, number)):
                break
    _finish_table(doc, state, limits)


def _set_columns(doc: Document, header: _Row, layout: _Layout) -> None:
    doc.header_row = header.number
    doc.metadata.update(layout.metadata)
    doc.columns = [(cell or "").strip() for cell in header.cells]
    plain = [labels.normalize_label(label) for label in doc.columns]
    platform = labels.is_platform_header(plain)
    commas = layout.has_metadata_rows or platform
    doc.normalized_columns = [labels.normalize_label(c, commas) for c in doc.columns]
    if layout.template:
        doc.kind = "sipot_template"
    elif commas or labels.is_sipot_header(doc.normalized_columns):
        doc.kind = "sipot_export"
    else:
        doc.kind = "table"


def _finish_table(doc: Document, state: _TableState, limits: Limits) -> None:
    doc.table = state.rows
    doc.rows = len(state.rows)
    doc.truncated = state.truncated
    doc.sample = [[cell or "" for cell in row] for row in state.rows[:SAMPLE_ROWS]]
    if state.truncated:
        doc.warn(
            W_TRUNCATED,
            f"stopped after {doc.rows} data rows (max_rows={limits.max_rows}, "
            f"max_cells={limits.max_cells}); the file has more",
        )
    if state.inner_blank:
        doc.warn(W_BLANK_ROWS, f"{state.inner_blank} blank rows inside the table were skipped")
    if state.overflow:
        doc.warn(
            W_UNLABELLED_CELLS,
            f"{state.overflow} rows have values right of the last labelled column (left out)",
        )
    formats = _date_formats(doc, state)
    doc.period = periods.covered_period(
        doc.normalized_columns, state.rows, formats, doc.metadata.get("periodo")
    )
    nota = [i for i, label in enumerate(doc.normalized_columns) if label == "nota"]
    if nota:
        doc.notes = notes.column_notes(row[nota[-1]] for row in state.rows)
    _check_mojibake(doc, state.rows)


def _date_formats(doc: Document, state: _TableState) -> dict[int, str]:
    """Date format per 'Fecha …' column; also fills ``doc.dates_parsed`` by published label."""
    formats: dict[int, str] = {}
    for index, label in enumerate(doc.normalized_columns):
        if "fecha" not in label:
            continue
        values = [row[index] or "" for row in state.rows]
        fmt = periods.column_format(values, state.typed[index])
        if fmt is not None:
            formats[index] = fmt
            doc.dates_parsed[doc.columns[index] or f"column_{index + 1}"] = fmt
    return formats


def _check_mojibake(doc: Document, rows: list[tuple[str | None, ...]]) -> None:
    """Warn (naming columns, never values: cells may hold personal data) about mojibake."""
    bad_columns: Counter[int] = Counter()
    header_bad = [label for label in doc.columns if notes.has_mojibake(label)]
    for row in rows[:MOJIBAKE_SCAN_ROWS]:
        for index, cell in enumerate(row):
            if cell and notes.has_mojibake(cell):
                bad_columns[index] += 1
    if not header_bad and not bad_columns:
        return
    names = [doc.columns[i] or f"column_{i + 1}" for i in sorted(bad_columns)][:5]
    parts = []
    if header_bad:
        parts.append(f"{len(header_bad)} header labels")
    if bad_columns:
        parts.append(f"{sum(bad_columns.values())} cells in columns {names}")
    doc.warn(W_MOJIBAKE, "text looks like UTF-8 decoded as windows-1252: " + "; ".join(parts))


# ------------------------------------------------------------------------- other sheets


def read_catalog(sheet: SheetSource) -> tuple[list[str], bool]:
    """Values of a Hidden_n sheet (column A), and whether the cap cut them."""
    values: list[str] = []
    for raw in sheet.open_rows():
        text, _ = cell_text(raw[0]) if raw else (None, False)
        if text is None:
            continue
        if len(values) >= MAX_CATALOG_VALUES:
            return values, True
        values.append(text.strip())
    return values, False


def read_subtable(sheet: SheetSource, limits: Limits) -> Subtable:
    """A Tabla_n sheet: its title ('Información relacionada a:' row, exports), header and row
    count. Template sub-tables put field-type and field-id rows (all numbers) above the labels;
    2017 state exports put the labels in row 1."""
    title: str | None = None
    header: _Row | None = None
    rows = sheet.open_rows()
    for number, raw in enumerate(rows, start=1):
        row = _convert(raw, number)
        if not row.cells:
            continue
        first = _folded(row.cells[0])
        if first.startswith("informacion relacionada"):
            title = row.cells[1].strip() if len(row.cells) > 1 and row.cells[1] else None
        elif not _all_numbers(row.cells) or number > HEAD_ROWS:
            header = row
            break
    if header is None:
        return Subtable(title=title, columns=[], rows=0)
    if sheet.count_rows_after is not None:
        _close(rows)
        count, truncated = sheet.count_rows_after(header.number, limits.max_rows)
    else:
        count, truncated = _count_rows(rows, limits.max_rows)
    return Subtable(
        title=title,
        columns=[(cell or "").strip() for cell in header.cells],
        rows=count,
        header_row=header.number,
        truncated=truncated,
    )


def _count_rows(rows: Iterator[Sequence[Any]], limit: int) -> tuple[int, bool]:
    count = 0
    for raw in rows:
        if any(cell_text(value)[0] is not None for value in raw):
            if count >= limit:
                return count, True
            count += 1
    return count, False


def _close(rows: Iterator[Sequence[Any]]) -> None:
    """Release a half-read sheet (openpyxl keeps the zip member open inside its generator)."""
    close = getattr(rows, "close", None)
    if close is not None:
        close()


def _all_numbers(cells: Cells) -> bool:
    present = [cell.strip() for cell in cells if cell is not None]
    return bool(present) and all(cell.replace(".", "", 1).isdigit() for cell in present)


def pick_main_sheet(sheets: Sequence[SheetSource]) -> SheetSource | None:
    """'Información' / 'Reporte de Formatos' by name, else the first sheet that is neither a
    catalog nor a sub-table."""
    others = [
        sheet
        for sheet in sheets
        if not labels.is_catalog_sheet(sheet.name) and not labels.is_subtable_sheet(sheet.name)
    ]
    for sheet in others:
        if normalize_text(sheet.name) in _MAIN_SHEET_NAMES:
            return sheet
    return others[0] if others else None


def read_workbook(doc: Document, sheets: Sequence[SheetSource], limits: Limits) -> None:
    """Main sheet, catalogs and sub-tables of a spreadsheet."""
    doc.sheets = [sheet.name for sheet in sheets]
    main = pick_main_sheet(sheets)
    if main is None:
        doc.kind = "empty"
        return
    read_main_table(doc, main, limits)
    for sheet in sheets:
        if labels.is_catalog_sheet(sheet.name):
            values, cut = read_catalog(sheet)
            doc.catalogs[sheet.name] = values
            if cut:
                doc.warn(W_TRUNCATED, f"catalog {sheet.name} cut at {MAX_CATALOG_VALUES} values")
        elif labels.is_subtable_sheet(sheet.name):
            doc.subtables[sheet.name] = read_subtable(sheet, limits)
            if doc.subtables[sheet.name].truncated:
                doc.warn(W_TRUNCATED, f"sub-table {sheet.name} counted up to max_rows")
