"""From a portal spec and the catalog's applicability to the portal's entry plan.

An entry is one unit the portal lists: a fraction, or one sub-format shown as an inciso;
portals that publish split fractions at fraction level get one entry covering every
applicable sub-format. Each entry gets its files (one per reporting period, or one per year
on portals that publish yearly files), then the portal's obligation-level defects mark
entries as unlisted, justified, broken or deeply nested, and files as defective documents,
in registry order.

Periods are those already due on the testbed's audit date ``AS_OF`` (2025-11-15) under
``audit.freshness.latest_due_period_end``: quarterly files up to 2025 Q3, semestral ones up
to 2025 S1, annual ones up to 2024 (a portal showing "one year" of an annual obligation shows
2024, two years 2023-2024). ``make_files(..., until=...)`` ends the files earlier (the
``stale`` defect).
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

from audit.freshness import latest_due_period_end
from audit.obligations import Obligation
from testbed.defects import DEFECTS
from testbed.history import apply_history
from testbed.model import AS_OF, Entry, FilePlan, Period, PortalSpec

FRACTION_TITLES_FILE = Path(__file__).with_name("data") / "art70_fraction_titles.json"


@lru_cache(maxsize=1)
def fraction_titles() -> dict[str, str]:
    """Art. 70 fraction titles, for portals that show a split fraction on one page."""
    return json.loads(FRACTION_TITLES_FILE.read_text(encoding="utf-8"))


def period_kind(update_period: str) -> str:
    """Normalise the catalog's update period to trimestral/semestral/anual."""
    text = (update_period or "").lower()
    if "semes" in text:
        return "semestral"
    if "anual" in text and "trimes" not in text:
        return "anual"
    return "trimestral"


# Months per period of each normalised update period.
KIND_MONTHS = {"trimestral": 3, "semestral": 6, "anual": 12}


@lru_cache(maxsize=8)
def due_period(kind: str) -> Period:
    """The latest period of ``kind`` due on ``AS_OF`` (2025 Q3, 2025 S1, 2024)."""
    months = KIND_MONTHS.get(kind, 3)
    end = latest_due_period_end(AS_OF, months)
    if months == 12:
        return Period(end.year, "anual")
    return Period(end.year, "trimestre" if months == 3 else "semestre", end.month // months)


def _all_periods(kind: str, year: int) -> list[Period]:
    if kind == "anual":
        return [Period(year, "anual")]
    if kind == "semestral":
        return [Period(year, "semestre", n) for n in (1, 2)]
    return [Period(year, "trimestre", n) for n in (1, 2, 3, 4)]


def periods(kind: str, years: tuple[int, ...], until: Period | None = None) -> list[Period]:
    """Every period of ``years`` that ends by ``until`` (default: the latest due one)."""
    return list(_periods(kind, tuple(years), until))


@lru_cache(maxsize=1024)
def _periods(kind: str, years: tuple[int, ...], until: Period | None) -> tuple[Period, ...]:
    last = (until or due_period(kind)).bounds()[1]
    return tuple(p for year in years for p in _all_periods(kind, year) if p.bounds()[1] <= last)


def file_years(kind: str, count: int, until: Period | None = None) -> tuple[int, ...]:
    """The ``count`` years a portal shows, ending with the year of ``until`` (default: the
    latest due period's)."""
    last = (until or due_period(kind)).year
    return tuple(range(last - count + 1, last + 1))


def previous_periods(kind: str, count: int) -> Period:
    """The period ``count`` periods before the latest due one."""
    due = due_period(kind)
    history = periods(kind, tuple(range(due.year - count - 1, due.year + 1)))
    return history[-1 - count]


def group_title(article: int, fraction: str, obligations: list[Obligation],
                catalog: object | None = None) -> str:
    """The title of a whole split fraction (the catalog's, else the reference table's)."""
    if catalog is not None and hasattr(catalog, "fraction_title"):
        try:
            text = catalog.fraction_title(article, fraction)
        except (KeyError, ValueError):
            text = ""
        if text:
            return text
    if article == 70 and fraction in fraction_titles():
        return fraction_titles()[fraction]
    return "; ".join(ob.title for ob in obligations)


def make_files(portal: PortalSpec, key: str, obligations: tuple[Obligation, ...],
               kind: str, until: Period | None = None) -> tuple[FilePlan, ...]:
    """One file per period (or per year, on yearly portals) of each obligation, up to
    ``until`` (default: the latest period due on ``AS_OF``), each in one of the portal's
    formats. An obligation's latest period is never published only as a PDF: when the draw
    says PDF, a spreadsheet/CSV of the same period follows it (as portals that publish both
    versions do), so that a PDF (whose period the audit does not read) never hides how fresh
    the data is. Each obligation follows its own update period (the sub-formats of a fraction
    shown on one page may differ); ``kind`` is the entry's, which ``until`` is counted in."""
    yearly = portal.options.get("granularity") == "year"
    formats = portal.options.get("formats", ("xlsx",))
    tabular = [f for f in formats if f != "pdf"]
    rng = portal.rng("files", key)
    files: list[FilePlan] = []
    for ob in obligations:
        own = period_kind(ob.update_period) if len(obligations) > 1 else kind
        years = file_years(own, portal.options.get("years", 1), until)
        spans = periods(own, years, until)
        if yearly:
            spans = [[p for p in spans if p.year == y][-1] for y in years]
        whole_year = yearly and own != "anual"
        for position, period in enumerate(spans):
            ext = rng.choice(formats)
            if position == len(spans) - 1 and ext == "pdf" and tabular:
                # the latest period is never only a PDF (see the docstring): both versions
                files.append(FilePlan(ob, period, ext, len(files), whole_year=whole_year))
                ext = tabular[0]
            files.append(FilePlan(ob, period, ext, len(files), whole_year=whole_year))
    return tuple(files)


def build_entries(portal: PortalSpec, applicability: list[tuple[Obligation, bool]],
                  catalog: object | None = None) -> list[Entry]:
    """The portal's entry plan, with its obligation-level defects applied (and, from
    generation 2 on, the files that changed: ``testbed.history``)."""
    applicable = [ob for ob, ok in applicability if ok]
    incisos = portal.options.get("subformats", "incisos") == "incisos"
    entries: list[Entry] = []
    groups: dict[tuple[int, str | None], list[Obligation]] = {}
    for ob in applicable:
        groups.setdefault((ob.article, ob.fraction), []).append(ob)
    for (article, fraction), group in groups.items():
        if fraction is None:
            continue
        split = len(group) > 1 or group[0].subformat is not None
        units = [[ob] for ob in group] if (incisos or not split) else [group]
        for unit in units:
            single = len(unit) == 1 and (incisos or not split)
            ob = unit[0]
            key = ob.obligation_id if single else f"{article}-{fraction}"
            kind = period_kind(ob.update_period)
            entries.append(Entry(
                key=key, article=article, fraction=fraction,
                subformat=ob.subformat if single else None, obligations=tuple(unit),
                title=ob.title if single else group_title(article, fraction, unit, catalog),
                update_period=kind, files=make_files(portal, key, tuple(unit), kind)))
    for name, kind in DEFECTS.items():
        spec = portal.defect(name)
        if spec is not None:
            kind.shape_entries(portal, spec, entries, portal.rng("defect", name))
    apply_history(portal, entries)  # generation 2 on: what changed since generation 1
    return entries
