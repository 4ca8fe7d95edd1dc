"""Expectation suites generated from the official SIPOT format catalog.

A suite is a list of checks on the published datasets of one obligation, written down as a
reviewable JSON file under ``expectations/suites/`` (``common.json`` for the columns every
format carries, ``<obligation_id>.json`` for one obligation's own columns). The files are
*generated* from ``audit/catalogs/<LAW>/formats/`` by ``python -m expectations.suites`` and
committed; a test keeps them equal to what the generator writes, so a change to the format
catalog shows up as a diff of the suites in review.

Suites never name a published header: headers differ by LTG edition, state system and case
('Fecha de término del periodo que se informa', 'FECHA DE TÉRMINO DEL PERIODO QUE SE
INFORMA'). A column is referenced either by its **common role** (``ejercicio``,
``periodo_fin``…, found in a header row with ``FormatCatalog.common_roles``) or by its
**official label in each format** of the obligation (``{format_id: label}``); the runner
(``expectations.runner``) decides which format a dataset follows and pairs official labels with
published headers through ``FormatCatalog.match_format``, the same matching that raises
MISSING_COLUMNS. A check whose column cannot be found is not run (MISSING_COLUMNS reports the
absence), except the structural ``column_present`` checks of the common suite.

One check of one column across LTG editions is one expectation: the 2016 'Remuneración
mensual bruta' and the 2023 'Monto de la remuneración mensual bruta…' share the id
``70-VIII.monto_remuneracion_mensual_bruta.non_negative``, so analysts can compare datasets of
every edition. Ids read ``<suite>.<criterion>.<check>`` (``common.<check>`` in the common
suite) and are stable: renaming one breaks the history in ``expectation_results``.
"""

from __future__ import annotations

import argparse
import functools
import json
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import MappingProxyType
from typing import Any

from audit.catalog import DEFAULT_LAW, normalize_text
from audit.formats import (
    COMMON_ROLES,
    Column,
    Format,
    FormatCatalog,
    load_formats,
    normalize_label,
)
from audit.obligations import ObligationRef

SUITES_DIR = Path(__file__).resolve().parent / "suites"
COMMON = "common"
GENERATED_BY = "python -m expectations.suites"
# Obligations with a specific suite. Any obligation with formats in the catalog can be added:
# append it here and run ``python -m expectations.suites``.
SUITE_OBLIGATIONS = ("70-VIII", "70-IX", "70-XVII", "70-XXVIII-A", "70-XXVIII-B")

# The LGTAIP took effect in May 2015: no SIPOT dataset reports an earlier 'Ejercicio'.
FIRST_YEAR = 2015
# Next year's ejercicio is plausible (budgets and programmes are published ahead).
YEARS_AHEAD = 1

# Check kind -> the Great Expectations class that runs it (see README for what each checks).
CHECKS: Mapping[str, str] = MappingProxyType({
    "has_rows": "ExpectTableRowCountToBeBetween",
    "column_present": "ExpectColumnToExist",
    "plausible_year": "ExpectColumnValuesToBeInSet",
    "date_parses": "ExpectColumnValuesToMatchRegex",
    "dates_ordered": "ExpectColumnPairValuesAToBeGreaterThanB",
    "not_blank": "ExpectColumnValuesToNotBeNull",
    "numeric": "ExpectColumnValuesToMatchRegex",
    "non_negative": "ExpectColumnValuesToBeBetween",
    "in_catalog": "ExpectColumnValuesToBeInSet",
    "is_url": "ExpectColumnValuesToMatchRegex",
})
# Checks about the shape of the dataset rather than its values: a failure is a DATA_QUALITY
# finding whatever the share of rows (``expectations.runner.data_quality_findings``).
STRUCTURAL = frozenset({"has_rows", "column_present"})

# An amount as SIPOT files write it: optional sign and '$', thousands separated by commas or
# not, optional decimals ('8364', '40195.6', '$1,250.00', '-3').
NUMBER_REGEX = r"^\s*-?\s*\$?\s*-?\s*(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?\s*$"
# A hyperlink: http(s) or ftp scheme and a dotted host; the rest (path, query) is free.
URL_REGEX = r"(?i)^\s*(?:https?|ftp)://[^\s/?#.]+(?:\.[^\s/?#.]+)+(?::\d+)?(?:[/?#].*)?$"
DATE_FORMATS = "AAAA-MM-DD o DD/MM/AAAA"
# What a date looks like once normalised by the runner (unparseable values are left as
# published, and ISO-shaped impossible dates marked, so that they fail this).
ISO_DATE_REGEX = r"^\d{4}-\d{2}-\d{2}$"

# Column types whose values are amounts or counts.
_NUMERIC_TYPES = frozenset({"moneda", "numero"})
_URL_TYPES = frozenset({"url", "archivo"})
# Date pairs inside a format: (start word, end word) of 'Fecha de inicio…'/'Fecha de término…'.
_DATE_PAIR_WORDS = (("inicio", "termino"), ("salida", "regreso"))
_SLUG_WORDS = 4
# Order of an obligation suite's expectations (then by id).
_CHECK_ORDER = ("numeric", "non_negative", "in_catalog", "is_url", "date_parses",
                "dates_ordered")
_STOPWORDS = frozenset({"de", "del", "la", "las", "el", "los", "lo", "y", "o", "u", "e", "en",
                        "a", "al", "su", "sus", "por", "para", "que", "se", "con", "un", "una",
                        "es", "as", "os", "caso"})


class SuiteError(ValueError):
    """A suite file is malformed or disagrees with the format catalog."""


# --------------------------------------------------------------------------- data model


@dataclass(frozen=True)
class ColumnRef:
    """How an expectation names one column without naming a published header.

    ``roles``: common roles, the first one a dataset has wins (common suite). ``labels``:
    format id -> the column's official label in that format (obligation suites). ``label``:
    the official wording shown to people (descriptions, structural checks on absent columns).
    """

    label: str
    roles: tuple[str, ...] = ()
    labels: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"label": self.label}
        if self.roles:
            out["roles"] = list(self.roles)
        if self.labels:
            out["labels"] = dict(self.labels)
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ColumnRef:
        return cls(label=data["label"], roles=tuple(data.get("roles", ())),
                   labels=MappingProxyType(dict(data.get("labels", {}))))


@dataclass(frozen=True)
class ExpectationSpec:
    """One check of a suite: what is checked (``check``), on which columns, with which values.

    ``values`` (``in_catalog`` only): format id -> the allowed values of that format's catalog,
    as the catalog writes them (the runner compares them folded: no case, accents or
    punctuation). ``params``: check parameters (``regex``, ``min_year``…).
    """

    id: str
    check: str
    description: str
    columns: tuple[ColumnRef, ...] = ()
    values: Mapping[str, tuple[str, ...]] = field(default_factory=lambda: MappingProxyType({}))
    params: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))

    @property
    def gx(self) -> str:
        """Name of the Great Expectations class that runs this check."""
        return CHECKS[self.check]

    @property
    def structural(self) -> bool:
        return self.check in STRUCTURAL

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"id": self.id, "check": self.check, "gx": self.gx}
        if self.structural:
            out["structural"] = True
        out["description"] = self.description
        out["columns"] = [c.to_dict() for c in self.columns]
        if self.values:
            out["values"] = {k: list(v) for k, v in self.values.items()}
        if self.params:
            out["params"] = dict(self.params)
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ExpectationSpec:
        check = data.get("check")
        if check not in CHECKS:
            raise SuiteError(f"{data.get('id')!r}: unknown check {check!r}; known: "
                             f"{', '.join(CHECKS)}")
        if data.get("gx", CHECKS[check]) != CHECKS[check]:
            raise SuiteError(f"{data['id']!r}: check {check!r} runs {CHECKS[check]}, not "
                             f"{data['gx']!r}")
        return cls(
            id=data["id"], check=check, description=data["description"],
            columns=tuple(ColumnRef.from_dict(c) for c in data.get("columns", ())),
            values=MappingProxyType({k: tuple(v) for k, v in data.get("values", {}).items()}),
            params=MappingProxyType(dict(data.get("params", {}))),
        )


@dataclass(frozen=True)
class Suite:
    """A named list of expectations: ``common`` or one obligation's."""

    name: str
    title: str
    law: str
    expectations: tuple[ExpectationSpec, ...]
    obligation_id: str | None = None
    # Format id -> a short description of the format (edition, title), for reviewers.
    formats: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))

    def __repr__(self) -> str:
        return f"<Suite {self.name}: {len(self.expectations)} expectations>"

    def get(self, expectation_id: str) -> ExpectationSpec:
        for spec in self.expectations:
            if spec.id == expectation_id:
                return spec
        raise KeyError(expectation_id)

    @property
    def ids(self) -> list[str]:
        return [e.id for e in self.expectations]

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"suite": self.name, "title": self.title, "law": self.law}
        if self.obligation_id:
            out["obligation_id"] = self.obligation_id
        out["generated_by"] = GENERATED_BY
        if self.formats:
            out["formats"] = dict(self.formats)
        out["expectations"] = [e.to_dict() for e in self.expectations]
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Suite:
        expectations = tuple(ExpectationSpec.from_dict(e) for e in data["expectations"])
        ids = [e.id for e in expectations]
        duplicates = sorted({i for i in ids if ids.count(i) > 1})
        if duplicates:
            raise SuiteError(f"suite {data['suite']!r}: duplicate ids {duplicates}")
        return cls(name=data["suite"], title=data["title"], law=data["law"],
                   obligation_id=data.get("obligation_id"),
                   formats=MappingProxyType(dict(data.get("formats", {}))),
                   expectations=expectations)


def render(suite: Suite) -> str:
    """The suite as its committed file: indented JSON, UTF-8 text, trailing newline."""
    return json.dumps(suite.to_dict(), ensure_ascii=False, indent=2) + "\n"


# --------------------------------------------------------------------------- generation


def generate_suites(law: str = DEFAULT_LAW,
                    obligations: Sequence[str] = SUITE_OBLIGATIONS) -> dict[str, Suite]:
    """Every suite, generated from the format catalog of ``law``: name -> Suite."""
    fc = load_formats(law)
    suites = {COMMON: common_suite(fc)}
    for obligation_id in obligations:
        suites[obligation_id] = obligation_suite(fc, obligation_id)
    return suites


def _role_label(fc: FormatCatalog, role: str) -> str:
    """The official wording of a common role: its most frequent label among the verified
    formats (all formats when no verified one has the role)."""
    counts: dict[str, int] = {}
    for verified_only in (True, False):
        for fmt in fc:
            column = fmt.column_for_role(role)
            if column is not None and (fmt.verified or not verified_only):
                counts[column.label] = counts.get(column.label, 0) + 1
        if counts:
            break
    if not counts:
        raise SuiteError(f"no format of {fc.law} has a column with role {role!r}")
    return max(sorted(counts), key=lambda label: counts[label])


def _role_types(fc: FormatCatalog, role: str) -> set[str]:
    return {c.type for f in fc for c in f.columns if c.role == role}


def common_suite(fc: FormatCatalog) -> Suite:
    """Checks on the columns every format carries, found by their common role."""
    for role in ("periodo_inicio", "periodo_fin", "fecha_validacion", "fecha_actualizacion"):
        if _role_types(fc, role) != {"fecha"}:
            raise SuiteError(f"role {role} is not always a date in {fc.law}: "
                             f"{sorted(_role_types(fc, role))}")

    def ref(*roles: str) -> ColumnRef:
        return ColumnRef(label=_role_label(fc, roles[0]), roles=roles)

    year, start, end = ref("ejercicio"), ref("periodo_inicio"), ref("periodo_fin")
    validation, update = ref("fecha_validacion"), ref("fecha_actualizacion")
    area = ref("area_responsable")
    period_any = ColumnRef(label=end.label, roles=("periodo_fin", "periodo"))

    def parses(name: str, column: ColumnRef) -> ExpectationSpec:
        return ExpectationSpec(
            f"common.{name}_parses", "date_parses",
            f"«{column.label}» es una fecha válida ({DATE_FORMATS}).", (column,),
            params=MappingProxyType({"regex": ISO_DATE_REGEX}))

    def present(name: str, column: ColumnRef, what: str) -> ExpectationSpec:
        return ExpectationSpec(f"common.{name}_column_present", "column_present",
                               f"El conjunto de datos tiene {what}.", (column,))

    specs = [
        ExpectationSpec("common.has_rows", "has_rows",
                        "El conjunto de datos tiene al menos un registro.",
                        params=MappingProxyType({"min_value": 1})),
        present("ejercicio", year, f"la columna «{year.label}»"),
        present("period", period_any,
                f"columnas del periodo que se informa («{end.label}» o, en la edición 2016 de "
                f"los lineamientos, «{_role_label(fc, 'periodo')}»)"),
        present("area_responsable", area, f"la columna «{area.label}»"),
        present("update_date", update, f"la columna «{update.label}»"),
        ExpectationSpec(
            "common.ejercicio_plausible_year", "plausible_year",
            f"«{year.label}» es un año entre {FIRST_YEAR} y el año de la auditoría más "
            f"{YEARS_AHEAD}.", (year,),
            params=MappingProxyType({"min_year": FIRST_YEAR, "years_after_as_of": YEARS_AHEAD})),
        parses("period_start", start),
        parses("period_end", end),
        parses("validation_date", validation),
        parses("update_date", update),
        ExpectationSpec(
            "common.period_start_before_end", "dates_ordered",
            f"«{start.label}» no es posterior a «{end.label}».", (start, end)),
        ExpectationSpec(
            "common.update_not_before_period_end", "dates_ordered",
            f"«{update.label}» no es anterior a «{end.label}»: no se actualiza un periodo "
            "antes de que termine.", (end, update)),
        ExpectationSpec(
            "common.area_responsable_present", "not_blank",
            f"Ningún registro deja vacía la columna «{area.label}».", (area,)),
    ]
    return Suite(name=COMMON, title="Columnas comunes a todos los formatos", law=fc.law,
                 expectations=tuple(specs))


@dataclass
class _Criterion:
    """One check of one column across the formats of an obligation (generation only)."""

    check: str
    slug: str
    variants: dict[str, tuple[Column, ...]]   # format id -> the column(s), in its format

    @property
    def first(self) -> Column:
        """The column as the newest format that has it writes it."""
        return next(iter(self.variants.values()))[0]


def _checks_for(column: Column) -> list[str]:
    if column.role in COMMON_ROLES:
        return []                                   # the common suite checks these
    if column.type in _NUMERIC_TYPES:
        return ["numeric", "non_negative"]
    if column.type == "catalogo" and column.catalog:
        return ["in_catalog"]
    if column.type in _URL_TYPES:
        return ["is_url"]
    if column.type == "fecha":
        return ["date_parses"]
    return []


def _words(label: str) -> list[str]:
    return [w for w in normalize_label(label).split() if len(w) > 1 and w not in _STOPWORDS]


def _slug(label: str, check: str, used: set[tuple[str, str]]) -> str:
    words = _words(label) or ["columna"]
    for size in range(min(_SLUG_WORDS, len(words)), len(words) + 1):
        slug = "_".join(words[:size])
        if (slug, check) not in used:
            return slug
    base, n = "_".join(words), 2
    while (f"{base}_{n}", check) in used:
        n += 1
    return f"{base}_{n}"


def _date_pairs(fmt: Format) -> list[tuple[Column, Column]]:
    """Start/end date columns of a format ('Fecha de inicio del plazo…'/'Fecha de término del
    plazo…', 'Fecha de salida…'/'Fecha de regreso…'), paired by the rest of their words."""
    dates = [c for c in fmt.columns if c.type == "fecha" and "date_parses" in _checks_for(c)]
    pairs = []
    for first, last in _DATE_PAIR_WORDS:
        for start in dates:
            start_words = set(_words(start.label))
            if first not in start_words:
                continue
            best, best_score = None, 0.5
            for end in dates:
                end_words = set(_words(end.label))
                if last not in end_words:
                    continue
                a, b = start_words - {first}, end_words - {last}
                score = len(a & b) / len(a | b) if a | b else 0.0
                if score >= best_score:
                    best, best_score = end, score
            if best is not None:
                pairs.append((start, best))
    return pairs


def _format_note(fmt: Format) -> str:
    state = "verificado" if fmt.verified else "no verificado"
    return f"LTG {fmt.edition}, {state}: {fmt.title}"


def obligation_suite(fc: FormatCatalog, obligation_id: str) -> Suite:
    """Checks on one obligation's own columns, across every format (edition) it has."""
    formats = fc.formats_for(obligation_id)
    if not formats:
        raise SuiteError(f"{obligation_id} has no format in {fc.law}")
    reference = max(formats, key=lambda f: (f.edition, f.verified, f.format_id))
    ordered = [reference, *sorted((f for f in formats if f is not reference),
                                  key=lambda f: (f.edition, f.format_id), reverse=True)]
    criteria: list[_Criterion] = []
    used: set[tuple[str, str]] = set()
    by_column: dict[tuple[str, str, int], _Criterion] = {}   # (check, format, position)

    for fmt in ordered:
        for check in _CHECK_ORDER:
            if check == "dates_ordered":
                continue                            # paired below, from the date criteria
            columns = [c for c in fmt.columns if check in _checks_for(c)]
            known = [c for c in criteria if c.check == check and fmt.format_id not in c.variants]
            paired: dict[str, str] = {}
            if columns and known:
                # The catalog's own matcher, restricted to columns checked the same way (a
                # 2016 'Remuneración mensual bruta' must meet the 2023 amount, not the 2023
                # 'Tipo de moneda de la remuneración mensual bruta').
                candidates = replace(reference, columns=tuple(c.first for c in known))
                paired = dict(fc.match_format([c.label for c in columns], candidates).matched)
            for column in columns:
                official = paired.get(column.label)
                target = next((c for c in known if official is not None
                               and c.first.label == official
                               and fmt.format_id not in c.variants), None)
                if target is None:
                    target = _Criterion(check, _slug(column.label, check, used), {})
                    used.add((target.slug, check))
                    criteria.append(target)
                target.variants[fmt.format_id] = (column,)
                by_column[check, fmt.format_id, column.position] = target

    # Start/end date pairs, merged across formats through their date criteria.
    pair_criteria: dict[tuple[str, str], _Criterion] = {}
    for fmt in ordered:
        for start, end in _date_pairs(fmt):
            first = by_column[("date_parses", fmt.format_id, start.position)]
            last = by_column[("date_parses", fmt.format_id, end.position)]
            key = (first.slug, last.slug)
            if key not in pair_criteria:
                pair_criteria[key] = _Criterion("dates_ordered", first.slug, {})
                criteria.append(pair_criteria[key])
            pair_criteria[key].variants.setdefault(fmt.format_id, (start, end))

    order = {fmt.format_id: i for i, fmt in enumerate(ordered)}
    specs = [_spec(obligation_id, c, order) for c in criteria]
    specs.sort(key=lambda s: (_CHECK_ORDER.index(s.check), s.id))
    return Suite(
        name=obligation_id, title=reference.title, law=fc.law, obligation_id=obligation_id,
        formats=MappingProxyType({f.format_id: _format_note(f) for f in ordered}),
        expectations=tuple(specs))


def _spec(suite: str, criterion: _Criterion, order: Mapping[str, int]) -> ExpectationSpec:
    variants = sorted(criterion.variants.items(), key=lambda item: order[item[0]])
    width = len(variants[0][1])
    refs = tuple(
        ColumnRef(label=variants[0][1][i].label,
                  labels=MappingProxyType({fid: cols[i].label for fid, cols in variants}))
        for i in range(width))
    label = refs[0].label
    check = criterion.check
    values: Mapping[str, tuple[str, ...]] = MappingProxyType({})
    params: dict[str, Any] = {}
    if check == "numeric":
        description = f"«{label}» contiene importes numéricos."
        params["regex"] = NUMBER_REGEX
    elif check == "non_negative":
        description = f"«{label}» no contiene importes negativos."
        params["min_value"] = 0
    elif check == "in_catalog":
        description = (f"«{label}» toma solo valores de su catálogo oficial (sin distinguir "
                       "mayúsculas, acentos ni puntuación).")
        values = MappingProxyType({fid: cols[0].catalog for fid, cols in variants})
    elif check == "is_url":
        description = f"«{label}» contiene hipervínculos (URL http, https o ftp)."
        params["regex"] = URL_REGEX
    elif check == "date_parses":
        description = f"«{label}» es una fecha válida ({DATE_FORMATS})."
        params["regex"] = ISO_DATE_REGEX
    else:
        description = f"«{label}» no es posterior a «{refs[1].label}»."
    name = {"dates_ordered": "not_after_end"}.get(check, check)
    return ExpectationSpec(id=f"{suite}.{criterion.slug}.{name}", check=check,
                           description=description, columns=refs, values=values,
                           params=MappingProxyType(params))


# --------------------------------------------------------------------------- files


def write_suites(directory: Path | str = SUITES_DIR, law: str = DEFAULT_LAW) -> list[Path]:
    """(Re)write every generated suite file into ``directory``; returns the paths written.

    Files of suites no longer generated are removed, so the directory always equals the
    generator's output.
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    suites = generate_suites(law)
    for name, suite in suites.items():
        path = directory / f"{name}.json"
        text = render(suite)
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
        written.append(path)
    for stale in directory.glob("*.json"):
        if stale.stem not in suites:
            stale.unlink()
    load_suites.cache_clear()
    return written


def check_suites(directory: Path | str = SUITES_DIR, law: str = DEFAULT_LAW) -> list[str]:
    """Names of the suite files that differ from (or are missing from) the generator's output,
    plus files the generator would not write. Empty when the committed files are current."""
    directory = Path(directory)
    suites = generate_suites(law)
    stale = [name for name, suite in suites.items()
             if not (directory / f"{name}.json").exists()
             or (directory / f"{name}.json").read_text(encoding="utf-8") != render(suite)]
    stale += sorted(p.stem for p in directory.glob("*.json") if p.stem not in suites)
    return stale


@functools.cache
def load_suites(directory: str = str(SUITES_DIR)) -> Mapping[str, Suite]:
    """The committed suites (name -> Suite), read once. ``load_suites.cache_clear()``."""
    out = {}
    for path in sorted(Path(directory).glob("*.json")):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            suite = Suite.from_dict(data)
        except (KeyError, TypeError, json.JSONDecodeError, SuiteError) as exc:
            raise SuiteError(f"{path}: {exc}") from exc
        if suite.name != path.stem:
            raise SuiteError(f"{path}: suite name {suite.name!r} differs from the file name")
        out[suite.name] = suite
    if COMMON not in out:
        raise SuiteError(f"{directory}: no {COMMON}.json")
    return MappingProxyType(out)


def suite_for(obligation_id: str | None, format_id: str | None = None,
              suites: Mapping[str, Suite] | None = None) -> Suite | None:
    """The obligation suite that applies to a dataset, or None (only ``common`` applies).

    Tried in order: the obligation of the dataset's format ('70-XXVIII-B:2018:53499' ->
    '70-XXVIII-B'), the dataset's obligation, and its fraction ('70-IX-A' -> '70-IX').
    """
    suites = load_suites() if suites is None else suites
    candidates: list[str] = []
    if format_id:
        candidates.append(format_id.split(":", 1)[0])
    if obligation_id:
        candidates.append(obligation_id)
        try:
            ref = ObligationRef.parse(obligation_id)
        except ValueError:
            ref = None
        if ref is not None and ref.fraction and ref.subformat:
            candidates.append(f"{ref.article}-{ref.fraction}")
    for name in candidates:
        if name != COMMON and name in suites:
            return suites[name]
    return None


def fold(value: str) -> str:
    """How catalog values are compared: no case, accents, punctuation or extra spaces
    ('Servidor(a) público(a)' and 'SERVIDOR (A) PUBLICO (A)' both give 'servidor a publico a')."""
    return normalize_text(value)


def main(argv: Iterable[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m expectations.suites",
        description="Regenerate the expectation suites from the SIPOT format catalog.")
    parser.add_argument("--check", action="store_true",
                        help="write nothing; exit 1 when the committed files are stale")
    parser.add_argument("--out", type=Path, default=SUITES_DIR, help="directory of the suites")
    parser.add_argument("--law", default=DEFAULT_LAW)
    args = parser.parse_args(list(argv) if argv is not None else None)
    if args.check:
        stale = check_suites(args.out, args.law)
        for name in stale:
            print(f"stale: {args.out / (name + '.json')}")
        if stale:
            print("run: python -m expectations.suites", file=sys.stderr)
        return 1 if stale else 0
    for path in write_suites(args.out, args.law):
        suite = load_suites(str(args.out))[path.stem]
        print(f"{path}: {len(suite.expectations)} expectations")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
