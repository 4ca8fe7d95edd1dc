"""Dates and periods: which time a published dataset covers.

Freshness (OUTDATED) is judged on the period a file covers, so dates must be read the way each
producer wrote them: spreadsheet date cells (Excel serial numbers), dd/mm/yyyy from state
systems, mm/dd/yy in re-saved PNT exports, bare serial numbers, and — in the 2016 formats — no
dates at all, only an Ejercicio and a 'Periodo que se informa' text such as 'enero-marzo'.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Iterable, Sequence
from datetime import date, timedelta

from scrapers.discovery import normalize_text
from scrapers.readers.model import EXCEL_SERIAL, NUMBER_AS_SERIAL, Period

ISO = "yyyy-mm-dd"
MIXED = "mixed"
TEXT = "text"  # a date column whose values are not dates at all

_EXCEL_EPOCH = date(1899, 12, 30)  # serial 1 = 1900-01-01 with Excel's leap-year bug folded in
_SERIAL_RANGE = (20_000, 80_000)  # 1954-10 .. 2119-01: anything else in a date column is not one
_YEAR_RANGE = (1990, 2100)
_ISO_DATE = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:[T ][\d:.]+)?$")
_SLASH_DATE = re.compile(
    r"^(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{4}|\d{2})(?:\s+[\d:]+(?:\s*[ap]\.?m\.?)?)?$", re.I
)
_SERIAL = re.compile(r"^\d{5}(?:\.\d+)?$")
_YEAR = re.compile(r"^(\d{4})(?:\.0+)?$")
_DATE_IN_TEXT = re.compile(r"\b(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{4})\b")

MONTHS = {
    "enero": 1, "ene": 1, "febrero": 2, "feb": 2, "marzo": 3, "mar": 3, "abril": 4, "abr": 4,
    "mayo": 5, "may": 5, "junio": 6, "jun": 6, "julio": 7, "jul": 7, "agosto": 8, "ago": 8,
    "septiembre": 9, "setiembre": 9, "sep": 9, "sept": 9, "octubre": 10, "oct": 10,
    "noviembre": 11, "nov": 11, "diciembre": 12, "dic": 12,
}  # fmt: skip
_MONTH_WORD = re.compile(r"[a-z]+")
_ORDINALS = {
    "primer": 1, "primero": 1, "1er": 1, "1ro": 1, "1o": 1, "1": 1,
    "segundo": 2, "2do": 2, "2o": 2, "2": 2,
    "tercer": 3, "tercero": 3, "3er": 3, "3ro": 3, "3o": 3, "3": 3,
    "cuarto": 4, "4to": 4, "4o": 4, "4": 4,
    "quinto": 5, "5to": 5, "5o": 5, "5": 5,
    "sexto": 6, "6to": 6, "6o": 6, "6": 6,
}  # fmt: skip
_SPANS = {"bimestre": 2, "trimestre": 3, "cuatrimestre": 4, "semestre": 6}
_ORDINAL_SPAN = re.compile(
    r"\b(" + "|".join(sorted(_ORDINALS, key=len, reverse=True)) + r")\s*(" + "|".join(_SPANS) + r")"
)
_SPAN_ORDINAL = re.compile(r"\b(" + "|".join(_SPANS) + r")\s*(\d)\b")
_SHORT_SPAN = re.compile(r"^(t|s)\s*(\d)$")  # 'T3', 'S1'


def _year(text: str) -> int:
    value = int(text)
    if len(text) == 2:
        value += 2000 if value < 69 else 1900  # the strptime %y pivot
    return value


def _safe_date(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def serial_to_date(serial: float) -> date | None:
    """An Excel serial day number (1900 system) as a date, or None outside plausible years."""
    if not _SERIAL_RANGE[0] <= serial <= _SERIAL_RANGE[1]:
        return None
    return _EXCEL_EPOCH + timedelta(days=int(serial))


def slash_format(values: Iterable[str]) -> str | None:
    """The day/month order of a column of slash dates, decided by the values that can tell.

    A first part above 12 means day first, a second part above 12 month first; both at once is
    'mixed'. When no value decides, four-digit years are read day first (the Mexican convention)
    and two-digit years month first (how spreadsheet re-saves of PNT exports print them).
    """
    day_first = month_first = False
    long_year = short_year = False
    for value in values:
        match = _SLASH_DATE.match(value.strip())
        if not match:
            continue
        first, second, year = int(match.group(1)), int(match.group(2)), match.group(3)
        day_first |= first > 12
        month_first |= second > 12
        long_year |= len(year) == 4
        short_year |= len(year) == 2
    if day_first and month_first:
        return MIXED
    if not (long_year or short_year):
        return None
    suffix = "yyyy" if long_year else "yy"
    if day_first or (not month_first and long_year):
        return f"dd/mm/{suffix}"
    return f"mm/dd/{suffix}"


def parse_date(value: str, fmt: str | None = None) -> date | None:
    """One published date; ``fmt`` (from ``column_format``) settles day/month order."""
    text = value.strip()
    if not text:
        return None
    match = _ISO_DATE.match(text)
    if match:
        return _safe_date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
    match = _SLASH_DATE.match(text)
    if match:
        first, second, year = int(match.group(1)), int(match.group(2)), _year(match.group(3))
        if (fmt or "").startswith("mm/") or first <= 12 < second:
            first, second = second, first
        return _safe_date(year, second, first)
    if _SERIAL.match(text):
        return serial_to_date(float(text))
    return None


def column_format(values: Sequence[str], typed: int) -> str | None:
    """How the dates of one column were written, or None when the column is empty.

    ``typed`` is how many of the values came from spreadsheet date cells (already rendered
    as ISO text by the reader).
    """
    present = [value.strip() for value in values if value and value.strip()]
    if not present:
        return None
    if typed:
        return EXCEL_SERIAL if typed >= len(present) else MIXED
    kinds: set[str] = set()
    slashes: list[str] = []
    for value in present:
        if _ISO_DATE.match(value):
            kinds.add(ISO)
        elif _SLASH_DATE.match(value):
            kinds.add("slash")
            slashes.append(value)
        elif _SERIAL.match(value) and serial_to_date(float(value)):
            kinds.add(NUMBER_AS_SERIAL)
        else:
            kinds.add(TEXT)
    readable = kinds - {TEXT}
    if not readable:
        return TEXT
    if len(readable) > 1:
        return MIXED
    kind = readable.pop()
    return (slash_format(slashes) or MIXED) if kind == "slash" else kind


def _month_end(year: int, month: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])


def _months_in(folded: str) -> list[int]:
    return [MONTHS[word] for word in _MONTH_WORD.findall(folded) if word in MONTHS]


def parse_period_label(label: str, year: int | None) -> tuple[date, date] | None:
    """The dates a period text covers: 'enero-marzo', 'marzo', '3er trimestre', 'Segundo
    semestre', 'T2', 'anual', '2015', or two explicit dd/mm/yyyy dates.

    ``year`` is the row's Ejercicio; a year written in the label wins. None when the text is
    not a period.
    """
    folded = normalize_text(label)
    if not folded:
        return None
    explicit = [_safe_date(int(y), int(m), int(d)) for d, m, y in _DATE_IN_TEXT.findall(folded)]
    explicit = [value for value in explicit if value]
    if len(explicit) >= 2:
        return min(explicit), max(explicit)
    years = [int(y) for y in re.findall(r"\b(\d{4})\b", folded) if _in_years(int(y))]
    year = years[0] if years else year
    if year is None:
        return None
    months = _months_in(folded)
    if months:
        last_year = years[-1] if len(years) > 1 else year
        return date(year, months[0], 1), _month_end(last_year, months[-1])
    span = _span(folded)
    if span:
        size, number = span
        first = (number - 1) * size + 1
        if number < 1 or first + size - 1 > 12:
            return None
        return date(year, first, 1), _month_end(year, first + size - 1)
    if "anual" in folded or "ejercicio" in folded or re.fullmatch(r"\d{4}", folded):
        return date(year, 1, 1), date(year, 12, 31)
    return None


def _span(folded: str) -> tuple[int, int] | None:
    match = _ORDINAL_SPAN.search(folded)
    if match:
        return _SPANS[match.group(2)], _ORDINALS[match.group(1)]
    match = _SPAN_ORDINAL.search(folded)
    if match:
        return _SPANS[match.group(1)], int(match.group(2))
    match = _SHORT_SPAN.match(folded)
    if match:
        return (3 if match.group(1) == "t" else 6), int(match.group(2))
    return None


def _in_years(year: int) -> bool:
    return _YEAR_RANGE[0] <= year <= _YEAR_RANGE[1]


def parse_year(value: str | None) -> int | None:
    """An Ejercicio cell as a year ('2025', '2025.0'), or None."""
    match = _YEAR.match((value or "").strip())
    if not match:
        return None
    year = int(match.group(1))
    return year if _in_years(year) else None


def _find(folded_columns: Sequence[str], *prefixes: str) -> int | None:
    for index, label in enumerate(folded_columns):
        if label.startswith(prefixes):
            return index
    return None


def covered_period(
    folded_columns: Sequence[str],
    rows: Sequence[Sequence[str | None]],
    formats: dict[int, str],
    label: str | None,
) -> Period:
    """The period the rows cover: years from Ejercicio, dates from the period columns.

    Preference: the Fecha de inicio / Fecha de término columns (2018+ formats); else each row's
    Ejercicio with its 'Periodo que se informa' text (2016 formats); else the export's
    'Periodo:' label with the single Ejercicio. ``formats`` maps column index to the date
    format found by ``column_format``.
    """
    period = Period(label=label or None)
    year_col = _find(folded_columns, "ejercicio")
    start_col = _find(folded_columns, "fecha de inicio del periodo")
    end_col = _find(folded_columns, "fecha de termino del periodo")
    text_col = _find(folded_columns, "periodo que se informa")
    years: set[int] = set()
    starts: list[date] = []
    ends: list[date] = []
    for row in rows:
        year = parse_year(_cell(row, year_col))
        if year is not None:
            years.add(year)
        if start_col is not None or end_col is not None:
            _collect(starts, _cell(row, start_col), _format(formats, start_col))
            _collect(ends, _cell(row, end_col), _format(formats, end_col))
        elif text_col is not None and _cell(row, text_col):
            span = parse_period_label(_cell(row, text_col) or "", year)
            if span:
                starts.append(span[0])
                ends.append(span[1])
    period.years = sorted(years)
    if starts or ends:
        period.start = min(starts) if starts else None
        period.end = max(ends) if ends else None
        has_dates = start_col is not None or end_col is not None
        period.source = "dates" if has_dates else "period_labels"
    elif label and len(years) == 1:
        span = parse_period_label(label, next(iter(years)))
        if span:
            period.start, period.end = span
            period.source = "metadata"
    return period


def _format(formats: dict[int, str], index: int | None) -> str | None:
    return formats.get(index) if index is not None else None


def _cell(row: Sequence[str | None], index: int | None) -> str | None:
    if index is None or index >= len(row):
        return None
    return row[index]


def _collect(into: list[date], value: str | None, fmt: str | None) -> None:
    if value:
        parsed = parse_date(value, fmt)
        if parsed:
            into.append(parsed)
