"""Freshness and conservation: is the latest period published, and are the periods the law
says to keep still there?

Periods follow the calendar (quarters end 31 Mar, 30 Jun, 30 Sep, 31 Dec; semesters 30 Jun
and 31 Dec; years 31 Dec). A period is *due* once its end plus the publication window
(30 natural days after the period closes, LTG) has passed on the as-of date. A dataset is
OUTDATED when its latest reported period ends before the latest due period: the message says
how many periods behind it is.

Conservation (the "Tabla de actualización y conservación"): "Ejercicio en curso y ejercicio
anterior" means the current fiscal year and the previous one must be available, "… y seis
ejercicios anteriores" seven years, "Información vigente" only the current information.
Years that should be kept but are absent are reported too.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass, field
from datetime import date, timedelta

from audit.catalog import UPDATE_PERIODS, normalize_text

PUBLICATION_WINDOW_DAYS = 30
_NUMBER_WORDS = {"un": 1, "uno": 1, "dos": 2, "tres": 3, "cuatro": 4, "cinco": 5, "seis": 6,
                 "siete": 7, "ocho": 8, "nueve": 9, "diez": 10}


def _month_end(year: int, month: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])


def period_end_containing(day: date, months: int) -> date:
    """End of the period of ``months`` months (1, 3, 6, 12) that contains ``day``."""
    last_month = ((day.month - 1) // months + 1) * months
    return _month_end(day.year, last_month)


def previous_period_end(end: date, months: int) -> date:
    first_month = end.month - months + 1
    return _month_end(end.year, first_month - 1) if first_month > 1 else date(end.year - 1, 12, 31)


def latest_due_period_end(as_of: date, months: int,
                          window_days: int = PUBLICATION_WINDOW_DAYS) -> date:
    """The end of the most recent period whose publication deadline has passed."""
    end = previous_period_end(period_end_containing(as_of, months), months)
    while end + timedelta(days=window_days) > as_of:
        end = previous_period_end(end, months)
    return end


def periods_between(reported_end: date, due_end: date, months: int) -> int:
    """How many due periods come after the reported one (0 when up to date)."""
    behind, end = 0, due_end
    while end > reported_end:
        behind += 1
        end = previous_period_end(end, months)
    return behind


@dataclass(frozen=True)
class Freshness:
    update_period: str
    due_period_end: date | None  # None when the obligation has no periodic update
    reported_period_end: date | None
    periods_behind: int | None
    required_years: tuple[int, ...] = ()
    missing_years: tuple[int, ...] = field(default=())

    @property
    def outdated(self) -> bool:
        return bool(self.periods_behind)


def required_years(conservation: str, as_of: date) -> tuple[int, ...]:
    """Fiscal years the conservation text asks to keep available (empty: only current info)."""
    text = normalize_text(conservation)
    if "ejercicio en curso" not in text:
        return ()
    extra = 0
    several = re.search(r"ejercicio en curso y (\w+) ejercicios anteriores", text)
    if several:
        word = several.group(1)
        extra = int(word) if word.isdigit() else _NUMBER_WORDS.get(word, 0)
    elif "ejercicio anterior" in text:
        extra = 1
    return tuple(range(as_of.year - extra, as_of.year + 1))


def assess(update_period: str, conservation: str, as_of: date, reported_end: date | None,
           reported_years: set[int] | frozenset[int] = frozenset(),
           window_days: int = PUBLICATION_WINDOW_DAYS) -> Freshness:
    """Freshness of one dataset of an obligation, as of a date."""
    months = UPDATE_PERIODS.get(update_period)
    due = latest_due_period_end(as_of, months, window_days) if months else None
    behind = None
    if due is not None and reported_end is not None:
        behind = periods_between(reported_end, due, months)
    years = required_years(conservation, as_of)
    # The current year only counts once one of its periods is due.
    due_years = [y for y in years if due is None or y <= due.year]
    missing = tuple(y for y in due_years if reported_years and y not in reported_years)
    return Freshness(update_period, due, reported_end, behind, tuple(due_years), missing)


def outdated_message(result: Freshness, label: str) -> str:
    periods = {"trimestral": "trimestre(s)", "semestral": "semestre(s)", "anual": "año(s)",
               "mensual": "mes(es)"}.get(result.update_period, "periodo(s)")
    return (f"La información de {label} llega hasta {result.reported_period_end:%d/%m/%Y}; "
            f"al corte ya debía publicarse el periodo que termina el "
            f"{result.due_period_end:%d/%m/%Y}: {result.periods_behind} {periods} de atraso.")
