"""From a portal spec and the catalog's applicability to the portal's entry plan.

An entry is one unit the portal lists: a fraction, or one sub-format shown as an inciso;
portals that publish split fractions at fraction level get one entry covering every
applicable sub-format. Each entry gets its files (one per reporting period, or one per year
on portals that publish yearly files), then the portal's obligation-level defects mark
entries as unlisted, justified, broken or deeply nested, in registry order.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

from audit.obligations import Obligation
from testbed.defects import DEFECTS
from testbed.model import LATEST_QUARTER, REFERENCE_YEAR, Entry, FilePlan, Period, PortalSpec

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


def periods(kind: str, years: tuple[int, ...]) -> list[Period]:
    """Every closed period of ``years`` up to the testbed's reference quarter."""
    out: list[Period] = []
    for year in years:
        if kind == "anual":
            out.append(Period(year, "anual"))
        elif kind == "semestral":
            last = 2 if year < REFERENCE_YEAR else (1 if LATEST_QUARTER < 4 else 2)
            out += [Period(year, "semestre", n) for n in range(1, last + 1)]
        else:
            last = 4 if year < REFERENCE_YEAR else LATEST_QUARTER
            out += [Period(year, "trimestre", n) for n in range(1, last + 1)]
    return out


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
               kind: str) -> tuple[FilePlan, ...]:
    years = tuple(range(REFERENCE_YEAR - portal.options.get("years", 1) + 1,
                        REFERENCE_YEAR + 1))
    yearly = portal.options.get("granularity") == "year"
    formats = portal.options.get("formats", ("xlsx",))
    rng = portal.rng("files", key)
    files: list[FilePlan] = []
    for ob in obligations:
        spans = periods(kind, years)
        if yearly:
            spans = [[p for p in spans if p.year == y][-1] for y in years]
        for period in spans:
            files.append(FilePlan(ob, period, rng.choice(formats), len(files),
                                  whole_year=yearly and kind != "anual"))
    return tuple(files)


def build_entries(portal: PortalSpec, applicability: list[tuple[Obligation, bool]],
                  catalog: object | None = None) -> list[Entry]:
    """The portal's entry plan, with its obligation-level defects applied."""
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
    return entries
