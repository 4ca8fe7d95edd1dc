"""Run the expectation suites on published datasets with Great Expectations.

``validate_datasets(datasets, run_id, docs_dir)`` validates many datasets with ONE Great
Expectations context (ephemeral: nothing is written except the Data Docs site, when asked for)
and returns rows for the ``expectation_results`` warehouse table;
``data_quality_findings(rows)`` turns those rows into DATA_QUALITY findings.

For each dataset:

1. The first ``MAX_ROWS`` rows are validated (``details.rows`` / ``details.rows_validated`` say
   how many there were and how many were checked): SIPOT exports of large subjects run to
   hundreds of thousands of rows, and a data-quality *rate* does not need all of them.
2. Columns are resolved (see ``expectations.suites``): common roles through
   ``FormatCatalog.common_roles``; an obligation's columns through the format the dataset
   follows (``Dataset.format_id`` when the caller knows it, else the best match of the header
   among the obligation's formats, ``match_headers``), pairing official labels with published
   headers with ``FormatCatalog.match_format``. When no format matches, a column is still found
   when its folded label equals an official label of any edition. Checks whose columns are
   not found are not run.
3. Values are normalised into extra columns before validation, never in place (Data Docs show
   both): dates ISO 'YYYY-MM-DD' or 'DD/MM/YYYY' (Mexican order; an optional time is ignored)
   -> '<header> [fecha AAAA-MM-DD]' (unparseable values kept as published, so the
   ISO-date check reports them) and '<header> [fecha]' (datetimes, NaT when unparseable, for
   comparisons); amounts without '$', commas and spaces -> '<header> [número]';
   catalog values folded (no case, accents, punctuation) -> '<header> [normalizado]';
   'Ejercicio' '2025'/'2025.0' -> '<header> [año]'; text stripped, blanks as nulls ->
   '<header> [texto]'. Regex checks (amount format, URL) read the published column.
4. Each suite that applies (``common`` always; the obligation's suite when there is one) runs
   over the prepared frame, in one of two ways that give the same rows:

   - **With ``docs_dir``** (Data Docs), one dataset at a time: a dataframe asset, a suite and a
     validation definition per (suite, dataset), each run stored for the site. Slow (~0.1 s a
     dataset): GX's cost is per expectation run, not per row.
   - **Without it**, in groups: datasets whose plans are the same once their columns are
     renamed by position ('__lupa_0__', '__lupa_0__ [fecha]'…; the *layout*: same expectations,
     GX kwargs, prepared columns and dtypes — typically every file of one format, whatever the
     spelling of its headers) are concatenated, normalised once, and validated in ONE GX run
     of ONE suite per layout (built once and reused, never added to the context's stores).
     GX's COMPLETE result lists the failing rows (``unexpected_index_list``); each dataset's
     result is rebuilt from its own slice with GX's success rule and result formatting, and
     its sample values from its own normalised columns, so the rows equal the per-dataset
     ones (``tests/expectations/test_expectations_grouped.py``). Every check and
     normalisation is row by row, so a row's verdict does not depend on the other datasets.
     A group GX fails on is validated again one dataset at a time. Published header names
     stay in the rows (``column_name``, ``details.columns``) as before.

``unexpected_percent`` is GX's: the share of *non-empty* values that fail (empty cells are left
to the not-null check), or of rows where both dates are present for date-pair checks; it is
None for structural checks (row count, column present).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import html
import json
import logging
import math
import re
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple
from urllib.parse import quote

from audit.catalog import DEFAULT_LAW
from audit.findings import Code, Finding
from audit.formats import MATCH_THRESHOLD, FormatCatalog, load_formats, normalize_label
from expectations.suites import (
    CHECKS,
    COMMON,
    ColumnRef,
    ExpectationSpec,
    Suite,
    fold,
    load_suites,
    suite_for,
)

if TYPE_CHECKING:
    import pandas as pd

log = logging.getLogger(__name__)

# Rows validated per dataset (the first ones; see the module docstring).
MAX_ROWS = 20_000
# A failing expectation raises DATA_QUALITY when more than this share (%) of the values it
# checked fail; structural expectations raise it whatever the share.
DEFAULT_THRESHOLD = 5.0
# Unexpected values kept per expectation (details JSON and Data Docs).
PARTIAL_UNEXPECTED = 5
# Failing checks listed in a finding's message.
MESSAGE_ITEMS = 8
DOCS_SITE = "lupa"
# BASIC gives the unexpected share and a sample of unexpected values; SUMMARY adds value counts
# for ~15 % more time per expectation.
RESULT_FORMAT = {"result_format": "BASIC", "partial_unexpected_count": PARTIAL_UNEXPECTED}

_ISO_DATE = re.compile(r"^(\d{4}-\d{2}-\d{2})(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?$")
_DMY_DATE = re.compile(r"^(\d{1,2}/\d{1,2}/\d{4})(?:\s+\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?$")
_YEAR = re.compile(r"^(\d{4})(?:\.0+)?$")
_UNSAFE = re.compile(r"[/\\\x00-\x1f]+")


@dataclass(frozen=True, eq=False)
class Dataset:
    """One published table to validate: who published it, for which obligation, where, and
    its content (``scrapers.readers.read_document(...).frame()``). ``format_id``: the official
    format it follows when the caller already knows it (``FormatMatch.format_id``)."""

    subject_id: str
    obligation_id: str | None
    resource_url: str
    frame: pd.DataFrame
    format_id: str | None = None


class ValidationResults(list):
    """The ``expectation_results`` rows of one call (a plain list of dicts), plus:

    ``docs_index``: the Data Docs ``index.html`` (None without ``docs_dir``); ``errors``: datasets
    or expectations Lupa itself failed on (never blamed on the publisher: no row is written for
    them); ``stats``: datasets, rows validated, seconds.
    """

    def __init__(self, rows: Iterable[dict] = ()) -> None:
        super().__init__(rows)
        self.docs_index: Path | None = None
        self.errors: list[dict] = []
        self.stats: dict[str, Any] = {}


@dataclass
class _Planned:
    """One expectation resolved against one dataset."""

    suite: str
    spec: ExpectationSpec
    headers: tuple[str, ...]          # published headers (official label when absent)
    kwargs: dict[str, Any]            # GX kwargs, on the prepared frame's columns
    format_id: str | None = None


@dataclass
class _Prepared:
    """A dataset's frame cut to ``MAX_ROWS`` plus its normalised columns (built on demand).

    ``lazy``: normalised columns are only named (``columns[name]`` None, ``sources`` says how
    to build them) until ``column(name)`` or ``materialize()`` computes them; the grouped path
    computes them once for a whole group instead (published columns are always read at once).
    """

    frame: pd.DataFrame
    columns: dict[str, Any] = field(default_factory=dict)
    _cache: dict[tuple[str, str], Any] = field(default_factory=dict)
    lazy: bool = False
    # prepared column -> (published header, normalisation kind; None for the published column)
    sources: dict[str, tuple[str, str | None]] = field(default_factory=dict)

    def raw(self, header: str) -> str:
        """Add a published column (as text) to the prepared frame; its name there."""
        if header not in self.columns:
            column = self.frame[header]
            if str(column.dtype) != "str":
                column = column.astype("str")
            self.columns[header] = column
            self.sources[header] = (header, None)
        return header

    def derived(self, header: str, kind: str) -> str:
        """Add a normalised copy of a published column; its name in the prepared frame."""
        name = f"{header} [{kind}]"
        if name not in self.columns:
            if self.lazy:
                self.raw(header)                # where computing it would add it
                self.columns[name] = None
            else:
                self.columns[name] = _DERIVE[kind](self, header)
            self.sources[name] = (header, kind)
        return name

    def column(self, name: str) -> pd.Series:
        """A prepared column, computed now when it was deferred."""
        if self.columns[name] is None:
            header, kind = self.sources[name]
            self.columns[name] = _DERIVE[kind](self, header)
        return self.columns[name]

    def materialize(self) -> _Prepared:
        for name in list(self.columns):
            self.column(name)
        self.lazy = False
        return self

    def stripped(self, header: str) -> pd.Series:
        key = (header, "stripped")
        if key not in self._cache:
            text = self.columns[self.raw(header)].str.strip()
            self._cache[key] = text.mask(text == "")
        return self._cache[key]

    def dates(self, header: str) -> pd.Series:
        key = (header, "dates")
        if key not in self._cache:
            self._cache[key] = _parse_dates(self.stripped(header))
        return self._cache[key]

    def to_frame(self) -> pd.DataFrame:
        import pandas as pd

        return pd.DataFrame(self.materialize().columns, index=self.frame.index)


# --------------------------------------------------------------------------- normalisation


def _parse_dates(text: pd.Series) -> pd.Series:
    """Datetimes of 'YYYY-MM-DD' and 'DD/MM/YYYY' values (an optional time ignored); NaT else.

    The common case (every value a bare ISO date, as the readers write spreadsheet dates) is
    one vectorised parse; only what it leaves goes through the slower pattern matching.
    """
    import pandas as pd

    parsed = pd.to_datetime(text, format="%Y-%m-%d", errors="coerce")
    rest = text[parsed.isna() & text.notna()]
    if len(rest):
        iso = pd.to_datetime(rest.str.extract(_ISO_DATE, expand=False), format="%Y-%m-%d",
                             errors="coerce")
        dmy = pd.to_datetime(rest.str.extract(_DMY_DATE, expand=False), format="%d/%m/%Y",
                             errors="coerce")
        parsed.loc[rest.index] = iso.fillna(dmy)
    return parsed


def _iso_text(prep: _Prepared, header: str) -> pd.Series:
    """ISO text of the dates that parse; the others as published, so the regex check reports
    them ('2025-02-31', ISO-shaped but not a date, is marked so that it cannot pass)."""
    text, parsed = prep.stripped(header), prep.dates(header)
    out = text.where(parsed.isna(), parsed.dt.strftime("%Y-%m-%d"))
    failed = parsed.isna() & text.notna()
    if failed.any():            # the pattern match only when some value did not parse
        impossible = failed & text.str.match(_ISO_DATE).fillna(False).astype(bool)
        if impossible.any():
            out = out.where(~impossible, text + " (fecha inexistente)")
    return out


def _number(prep: _Prepared, header: str) -> pd.Series:
    import pandas as pd

    cleaned = prep.stripped(header).str.replace(r"[\s$,]", "", regex=True)
    return pd.to_numeric(cleaned, errors="coerce")


def _folded(prep: _Prepared, header: str) -> pd.Series:
    text = prep.stripped(header)
    mapping = {value: fold(value) for value in text.dropna().unique()}
    return text.map(mapping).astype("str")


def _year(prep: _Prepared, header: str) -> pd.Series:
    text = prep.stripped(header)
    return text.str.extract(_YEAR, expand=False).fillna(text)


_DERIVE = {
    "fecha AAAA-MM-DD": _iso_text,
    "fecha": lambda prep, header: prep.dates(header),
    "número": _number,
    "normalizado": _folded,
    "año": _year,
    "texto": lambda prep, header: prep.stripped(header),
}


# --------------------------------------------------------------------------- resolution


@dataclass
class _Columns:
    """Where a dataset's columns are: common roles, and official label -> published header."""

    headers: list[str]
    roles: dict[str, str]
    format_id: str | None = None
    by_label: dict[str, str] = field(default_factory=dict)
    by_folded: dict[str, str] = field(default_factory=dict)

    def role(self, ref: ColumnRef) -> str | None:
        return next((self.roles[r] for r in ref.roles if r in self.roles), None)

    def labelled(self, ref: ColumnRef) -> tuple[str | None, str | None]:
        """(published header, format id of the variant found) for an obligation column."""
        if self.format_id is not None:
            label = ref.labels.get(self.format_id)
            if label is None:
                return None, None
            return self.by_label.get(label), self.format_id
        for format_id, label in ref.labels.items():
            header = self.by_folded.get(normalize_label(label))
            if header is not None:
                return header, format_id
        return None, None


def _dataset_format(dataset: Dataset, suite: Suite, headers: list[str],
                    fc: FormatCatalog) -> str | None:
    """Which of the suite's formats the dataset follows, or None."""
    if dataset.format_id in suite.formats:
        return dataset.format_id
    if dataset.obligation_id:
        try:
            found = fc.match(headers, dataset.obligation_id)
        except KeyError:
            found = None
        if found is not None and found.format_id in suite.formats:
            return found.format_id
    scored = [(fc.match_format(headers, format_id).score, format_id)
              for format_id in suite.formats if format_id in fc]
    score, best = max(scored, default=(0.0, None))
    return best if score >= MATCH_THRESHOLD else None


def _columns(dataset: Dataset, suite: Suite | None, headers: list[str],
             fc: FormatCatalog) -> _Columns:
    found = _Columns(headers=headers, roles=fc.common_roles(headers))
    if suite is None:
        return found
    found.format_id = _dataset_format(dataset, suite, headers, fc)
    if found.format_id is not None:
        found.by_label = {official: published for published, official
                          in fc.match_format(headers, found.format_id).matched}
    else:
        for header in headers:
            found.by_folded.setdefault(normalize_label(header), header)
    return found


def spec_headers(spec: ExpectationSpec, cols: _Columns) -> tuple[list[str], str | None] | None:
    """The published headers an expectation reads on one dataset (the official label of a
    column that is absent, for column_present) and the format its labelled columns matched;
    None when a column it needs is missing."""
    headers: list[str] = []
    format_id = None
    for ref in spec.columns:
        if ref.roles:
            header = cols.role(ref)
        else:
            header, format_id = cols.labelled(ref)
        if header is None and spec.check != "column_present":
            return None
        headers.append(header if header is not None else ref.label)
    return headers, format_id


def _plan(suite: Suite, spec: ExpectationSpec, cols: _Columns, prep: _Prepared,
          as_of: dt.date) -> _Planned | None:
    """The GX kwargs of one expectation on one dataset, or None when it cannot run."""
    found = spec_headers(spec, cols)
    if found is None:
        return None
    headers, format_id = found
    check, params = spec.check, spec.params
    column = headers[0] if headers else None
    if check == "has_rows":
        kwargs: dict[str, Any] = {"min_value": params.get("min_value", 1)}
    elif check == "column_present":
        kwargs = {"column": prep.raw(column) if column in prep.frame.columns else column}
    elif check == "plausible_year":
        last = as_of.year + int(params.get("years_after_as_of", 1))
        kwargs = {"column": prep.derived(column, "año"),
                  "value_set": [str(y) for y in range(int(params["min_year"]), last + 1)]}
    elif check == "date_parses":
        kwargs = {"column": prep.derived(column, "fecha AAAA-MM-DD"), "regex": params["regex"]}
    elif check == "dates_ordered":
        kwargs = {"column_A": prep.derived(headers[1], "fecha"),
                  "column_B": prep.derived(headers[0], "fecha"),
                  "or_equal": True, "ignore_row_if": "either_value_is_missing"}
    elif check == "not_blank":
        kwargs = {"column": prep.derived(column, "texto")}
    elif check in ("numeric", "is_url"):
        kwargs = {"column": prep.raw(column), "regex": params["regex"]}
    elif check == "non_negative":
        kwargs = {"column": prep.derived(column, "número"),
                  "min_value": params.get("min_value", 0)}
    elif check == "in_catalog":
        allowed = spec.values.get(format_id or "", ())
        if not allowed:
            return None
        kwargs = {"column": prep.derived(column, "normalizado"),
                  "value_set": sorted({fold(v) for v in allowed})}
    else:  # pragma: no cover - suites are validated on load
        raise ValueError(f"unknown check {check!r}")
    return _Planned(suite.name, spec, tuple(headers), kwargs, format_id or cols.format_id)


def resolve_dataset(dataset: Dataset, suites: Mapping[str, Suite], fc, max_rows: int = MAX_ROWS):
    """A dataset's frame as the checks see it (at most ``max_rows`` rows, a 0-based index,
    string headers), the format-specific suite that applies (or None) and its resolved
    columns: shared by ``plan_dataset`` and the plain-pandas benchmark."""
    import pandas as pd

    frame = dataset.frame
    if len(frame) > max_rows:
        frame = frame.head(max_rows)
    index = frame.index
    if not (isinstance(index, pd.RangeIndex) and index.start == 0 and index.step == 1):
        frame = frame.reset_index(drop=True)
    if any(not isinstance(c, str) for c in frame.columns):
        frame = frame.rename(columns=str)
    headers = list(frame.columns)
    specific = suite_for(dataset.obligation_id, dataset.format_id, suites)
    if specific is None and dataset.obligation_id and not dataset.format_id:
        # A fraction-level obligation ('70-XXVIII') whose sub-formats have suites: the header
        # says which sub-format the file is.
        try:
            found = fc.match(headers, dataset.obligation_id)
        except KeyError:
            found = None
        if found is not None:
            specific = suite_for(None, found.format_id, suites)
    cols = _columns(dataset, specific, headers, fc)
    return frame, specific, cols


def plan_dataset(dataset: Dataset, *, as_of: dt.date | None = None, law: str = DEFAULT_LAW,
                 max_rows: int = MAX_ROWS, suites: Mapping[str, Suite] | None = None,
                 lazy: bool = False) -> tuple[list[_Planned], _Prepared, str | None]:
    """Resolve every applicable expectation against one dataset (no Great Expectations
    involved): the plans, the prepared frame, and the format the dataset was taken to follow.
    ``lazy``: leave the normalised columns to be computed later (``_Prepared``)."""

    suites = load_suites() if suites is None else suites
    as_of = as_of or dt.date.today()
    frame, specific, cols = resolve_dataset(dataset, suites, load_formats(law), max_rows)
    prep = _Prepared(frame, lazy=lazy)
    plans = []
    for suite in (suites[COMMON], specific):
        if suite is None:
            continue
        for spec in suite.expectations:
            planned = _plan(suite, spec, cols, prep, as_of)
            if planned is not None:
                plans.append(planned)
    return plans, prep, cols.format_id


# --------------------------------------------------------------------------- GX


def _context(docs_dir: Path | None):
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    # An ephemeral context comes with a 'local_site' in a temporary directory: never build it.
    for name in list(context.variables.data_docs_sites or {}):
        context.delete_data_docs_site(name)
    if docs_dir is not None:
        context.add_data_docs_site(DOCS_SITE, {
            "class_name": "SiteBuilder",
            "show_how_to_buttons": False,
            "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
            "store_backend": {"class_name": "TupleFilesystemStoreBackend",
                              "base_directory": str(docs_dir)},
        })
    return context


def _gx_expectation(planned: _Planned):
    import great_expectations.expectations as gxe

    cls = getattr(gxe, planned.spec.gx)
    meta = {"lupa_id": planned.spec.id, "columnas_publicadas": list(planned.headers)}
    return cls(**planned.kwargs, meta=meta, notes=planned.spec.description)


def _safe(text: str) -> str:
    return _UNSAFE.sub("_", text).strip() or "_"


def _plain(value: Any) -> Any:
    """JSON-safe copy: NaN/NaT -> None, numpy scalars -> Python, timestamps -> ISO text."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if value is None or isinstance(value, bool | str | int):
        return value
    if isinstance(value, float):
        return None if math.isnan(value) else value
    if hasattr(value, "item"):
        try:
            return _plain(value.item())
        except (TypeError, ValueError):
            pass
    if hasattr(value, "isoformat"):
        try:
            return value.isoformat()
        except ValueError:      # NaT
            return None
    return str(value)


def _row(run_id: str, dataset: Dataset, planned: _Planned, result, rows: int,
         validated: int) -> dict[str, Any]:
    outcome = result.result or {}
    percent = outcome.get("unexpected_percent")
    details = {
        "description": planned.spec.description,
        "gx": planned.spec.gx,
        "columns": list(planned.headers),
        "structural": planned.spec.structural,
        "format_id": planned.format_id,
        "rows": rows,
        "rows_validated": validated,
    }
    for key in ("element_count", "missing_count", "unexpected_count", "unexpected_percent_total",
                "observed_value"):
        if key in outcome:
            details[key] = outcome[key]
    if outcome.get("partial_unexpected_list"):
        details["unexpected_sample"] = outcome["partial_unexpected_list"][:PARTIAL_UNEXPECTED]
    percent = _plain(percent)
    return {
        "run_id": run_id,
        "subject_id": dataset.subject_id,
        "obligation_id": dataset.obligation_id,
        "resource_url": dataset.resource_url,
        "suite": planned.suite,
        "expectation": planned.spec.id,
        "column_name": " | ".join(planned.headers) if planned.headers else None,
        "success": bool(result.success),
        "unexpected_percent": None if planned.spec.structural else percent,
        "details": json.dumps(_plain(details), ensure_ascii=False, sort_keys=True),
    }


# Rows of prepared frames validated by one GX run of the grouped path (datasets concatenated).
GROUP_ROWS = 50_000
# Datasets (and prepared rows) held in memory before their groups are validated; the rows of
# a batch come out in input order once the whole batch is done.
BATCH_DATASETS = 1_000
BATCH_ROWS = 200_000
# The grouped path reads which rows failed from GX's COMPLETE result (unexpected_index_list).
_GROUP_FORMAT = {"result_format": "COMPLETE", "partial_unexpected_count": PARTIAL_UNEXPECTED,
                 "return_unexpected_index_query": False}
_COLUMN_KWARGS = frozenset({"column", "column_A", "column_B"})


@dataclass(eq=False)
class _Checked:
    """One dataset on its way through ``validate_datasets``: its plans, prepared frame and,
    once validated, its rows and errors. ``dataset.frame`` is cut to ``max_rows``; ``rows``
    counts the rows of the full frame, which is not kept."""

    dataset: Dataset
    rows: int
    plans: list[_Planned] | None = None
    prep: _Prepared | None = None
    format_id: str | None = None
    out: list[dict[str, Any]] = field(default_factory=list)
    errors: list[dict[str, Any]] = field(default_factory=list)
    validated: int = 0


class _Outcome(NamedTuple):
    """What ``_row`` reads of a GX ``ExpectationValidationResult``."""

    success: bool
    result: dict | None


def _check(dataset: Dataset, *, as_of: dt.date, law: str, max_rows: int,
           suites: Mapping[str, Suite], lazy: bool = False) -> _Checked:
    """Plan one dataset; a dataset Lupa cannot plan carries its error and no plans."""
    try:
        plans, prep, format_id = plan_dataset(dataset, as_of=as_of, law=law, max_rows=max_rows,
                                              suites=suites, lazy=lazy)
    except Exception as exc:  # one bad dataset must not stop the others
        log.exception("validating %s failed", dataset.resource_url)
        item = _Checked(dataset, 0)
        item.errors.append(_error(dataset, None, {"exception_message": repr(exc)}))
        return item
    cut = Dataset(dataset.subject_id, dataset.obligation_id, dataset.resource_url, prep.frame,
                  dataset.format_id)
    return _Checked(cut, len(dataset.frame), plans, prep, format_id)


class _PerDataset:
    """Validate datasets one by one: a dataframe asset, a suite and a validation definition per
    (suite, dataset), each run stored so that Data Docs can show it."""

    def __init__(self, run_id: str, docs_path: Path | None) -> None:
        from great_expectations.core.run_identifier import RunIdentifier

        self.run_id = run_id
        self.context = _context(docs_path)
        self.source = self.context.data_sources.add_pandas("lupa")
        self.gx_run = RunIdentifier(run_name=_safe(run_id), run_time=dt.datetime.now(dt.UTC))
        self.names: set[str] = set()
        self.listed: list[dict[str, Any]] = []

    def run(self, item: _Checked) -> None:
        """Validate one planned dataset: rows to ``item.out``, Lupa's failures to
        ``item.errors``."""
        import great_expectations as gx

        dataset, plans, prep = item.dataset, item.plans or [], item.prep
        try:
            frame = prep.to_frame()         # computes the normalised columns left for later
            name = _asset_name(dataset, self.names)
            asset = self.source.add_dataframe_asset(name, batch_metadata={
                "sujeto_obligado": dataset.subject_id,
                "obligacion": dataset.obligation_id or "",
                "recurso": dataset.resource_url,
                "formato": item.format_id or "",
            })
            batch = asset.add_batch_definition_whole_dataframe("completo")
            item.validated = validated = len(frame)
            for suite_name in dict.fromkeys(p.suite for p in plans):
                own = [p for p in plans if p.suite == suite_name]
                gx_suite = self.context.suites.add(gx.ExpectationSuite(
                    name=f"{suite_name} [{name}]",
                    expectations=[_gx_expectation(p) for p in own]))
                definition = self.context.validation_definitions.add(gx.ValidationDefinition(
                    name=f"{suite_name} [{name}]", data=batch, suite=gx_suite))
                outcome = definition.run(batch_parameters={"dataframe": frame},
                                         result_format=RESULT_FORMAT, run_id=self.gx_run)
                outcomes = {(r.expectation_config.meta or {}).get("lupa_id"): r
                            for r in outcome.results}
                for planned in own:               # rows in suite order, not GX's
                    result = outcomes.get(planned.spec.id)
                    if result is None:
                        continue
                    if (result.exception_info or {}).get("raised_exception"):
                        item.errors.append(_error(dataset, planned.spec.id,
                                                  result.exception_info))
                        continue
                    item.out.append(_row(self.run_id, dataset, planned, result, item.rows,
                                         validated))
                self.listed.append({"suite": suite_name, "name": f"{suite_name} [{name}]",
                                    "dataset": dataset, "success": bool(outcome.success)})
        except Exception as exc:  # one bad dataset must not stop the others
            log.exception("validating %s failed", dataset.resource_url)
            item.errors.append(_error(dataset, None, {"exception_message": repr(exc)}))


def _kinds() -> dict[str, str]:
    """GX class name -> how the grouped path splits its result per dataset. A class whose
    ``_validate`` is not the one the split mirrors is left out (its datasets run one by one)."""
    import great_expectations.expectations as gxe
    from great_expectations.expectations.expectation import (
        ColumnMapExpectation,
        ColumnPairMapExpectation,
    )

    kinds = {}
    for name in set(CHECKS.values()):
        cls = getattr(gxe, name, None)
        if cls is None:
            continue
        if cls is gxe.ExpectTableRowCountToBeBetween:
            kinds[name] = "row_count"
        elif cls is gxe.ExpectColumnToExist:
            kinds[name] = "exists"
        elif cls is gxe.ExpectColumnValuesToNotBeNull:
            kinds[name] = "not_null"
        elif cls._validate is ColumnMapExpectation._validate:
            kinds[name] = "map"
        elif cls._validate is ColumnPairMapExpectation._validate:
            kinds[name] = "pair"
    return kinds


def _frozen(value: Any) -> Any:
    if isinstance(value, list | tuple):
        return tuple(_frozen(v) for v in value)
    if isinstance(value, dict):
        return tuple(sorted((k, _frozen(v)) for k, v in value.items()))
    return value


def _layout(item: _Checked, kinds: Mapping[str, str]) -> tuple[tuple, list[str]] | None:
    """What the GX run of a dataset depends on, with its columns renamed by position — the
    published headers to '__lupa_0__', '__lupa_1__'…, the normalised columns after them
    ('__lupa_0__ [fecha]') — plus the published headers in that order; None when the dataset
    cannot join a group. Datasets with the same layout (same expectations and GX kwargs, same
    prepared columns and dtypes) are validated as one frame."""
    headers: dict[str, str] = {}
    names: dict[str, str] = {}
    sources = []
    for name, (header, kind) in item.prep.sources.items():
        canon = headers.setdefault(header, f"__lupa_{len(headers)}__")
        names[name] = canon if kind is None else f"{canon} [{kind}]"
        sources.append((canon, kind))
    parts = []
    for planned in item.plans:
        if planned.spec.gx not in kinds:
            return None
        kwargs = {k: names.get(v, v) if k in _COLUMN_KWARGS else v
                  for k, v in planned.kwargs.items()}
        parts.append((planned.spec.gx, _frozen(kwargs)))
    dtypes = tuple(repr(item.prep.columns[header].dtype) for header in headers)
    return (tuple(parts), tuple(sources), dtypes), list(headers)


class _Grouped:
    """Validate datasets in groups of the same layout (``_layout``): the published columns
    the expectations read are concatenated under stable names, normalised once for the whole
    group, and validated in ONE GX run of ONE suite per layout (built once, never stored).
    Each dataset's result is then rebuilt from the failing rows GX reports (COMPLETE
    ``unexpected_index_list``) with GX's own success rule and result formatting
    (``_mostly_success``, ``_format_map_output``), as a run on the dataset alone gives it;
    sample values are read from the dataset's own normalised column (same types). Every check
    and normalisation is row by row, so a row's verdict does not depend on its neighbours."""

    def __init__(self, run_id: str) -> None:
        from great_expectations.expectations.expectation_configuration import (
            parse_result_format,
        )

        self.run_id = run_id
        self.kinds = _kinds()
        self.context = _context(None)
        asset = self.context.data_sources.add_pandas("lupa").add_dataframe_asset("grupos")
        self.batch = asset.add_batch_definition_whole_dataframe("completo")
        self.format = parse_result_format(dict(RESULT_FORMAT))
        self.suites: dict[tuple, tuple[Any, list[Any]]] = {}
        self.row_counts: dict[tuple[int, int], _Outcome] = {}
        self._one: _PerDataset | None = None

    def validate(self, items: Sequence[_Checked]) -> None:
        groups: dict[tuple, list[tuple[_Checked, list[str]]]] = {}
        for item in items:
            try:
                found = _layout(item, self.kinds)
            except Exception:  # noqa: BLE001 - the dataset then runs on its own
                found = None
            if found is None:
                self.one_by_one(item)
            else:
                groups.setdefault(found[0], []).append((item, found[1]))
        for layout, members in groups.items():
            for run in _runs(members):
                try:
                    self._run(layout, run)
                except Exception:  # noqa: BLE001 - each dataset then runs on its own
                    log.debug("grouped validation failed; validating %d dataset(s) one by one",
                              len(run), exc_info=True)
                    for item, _ in run:
                        self.one_by_one(item)

    def one_by_one(self, item: _Checked) -> None:
        if self._one is None:
            self._one = _PerDataset(self.run_id, None)
        item.out, item.errors, item.validated = [], [], 0
        self._one.run(item)

    def _suite(self, layout: tuple) -> tuple[Any, list[Any]]:
        if layout not in self.suites:
            import great_expectations as gx
            import great_expectations.expectations as gxe

            expectations = [getattr(gxe, cls)(**_thawed(kwargs), meta={"lupa_index": index})
                            for index, (cls, kwargs) in enumerate(layout[0])]
            suite = gx.ExpectationSuite(name=f"lupa-{len(self.suites)}",
                                        expectations=expectations)
            self.suites[layout] = suite, expectations
        return self.suites[layout]

    def _run(self, layout: tuple, members: Sequence[tuple[_Checked, list[str]]]) -> None:
        import numpy as np
        import pandas as pd
        from great_expectations.validator.v1_validator import Validator

        suite, expectations = self._suite(layout)
        lengths = [len(item.prep.frame) for item, _ in members]
        offsets = np.cumsum([0, *lengths])
        outcomes: list[list[_Outcome]] = [[] for _ in members]
        if expectations:
            group = _group(layout, members, int(offsets[-1]))
            # Only the columns the expectations name: GX copies the frame's columns when it
            # filters rows, and no expectation reads another's column.
            used = dict.fromkeys(v for _, kwargs in layout[0] for k, v in kwargs
                                 if k in _COLUMN_KWARGS and v in group.columns)
            frame = pd.DataFrame({name: group.columns[name] for name in used},
                                 index=group.frame.index)
            validator = Validator(batch_definition=self.batch, result_format=_GROUP_FORMAT,
                                  batch_parameters={"dataframe": frame})
            results = validator.validate_expectation_suite(suite).results
            by_index = {(r.expectation_config.meta or {}).get("lupa_index"): r for r in results}
            for index, expectation in enumerate(expectations):
                result = by_index[index]
                if (result.exception_info or {}).get("raised_exception"):
                    raise RuntimeError(str(result.exception_info.get("exception_message")))
                split = self._split(expectation, dict(layout[0][index][1]), index, result,
                                    [item for item, _ in members], offsets, group)
                for k, outcome in enumerate(split):
                    outcomes[k].append(outcome)
        for (item, _), length, own in zip(members, lengths, outcomes, strict=True):
            item.validated = length
            item.out = [_row(self.run_id, item.dataset, planned, outcome, item.rows, length)
                        for planned, outcome in zip(item.plans, own, strict=True)]

    def _split(self, expectation, kwargs: Mapping[str, Any], index: int, result,
               members: Sequence[_Checked], offsets, group: _Prepared) -> list[_Outcome]:
        """Each member's outcome of one expectation of a group run."""
        import numpy as np
        from great_expectations.constants import MAX_RESULT_RECORDS
        from great_expectations.expectations.expectation import (
            _format_map_output,
            _mostly_success,
        )

        kind = self.kinds[type(expectation).__name__]
        if kind == "exists":        # depends on the column names only: one answer for all
            return [_Outcome(result.success, result.result)] * len(members)
        if kind == "row_count":
            return [self._row_count(expectation, len(item.prep.frame)) for item in members]
        found = result.result or {}
        positions = np.asarray(found.get("unexpected_index_list", ()), dtype=np.int64)
        if len(positions) != found.get("unexpected_count") or np.any(np.diff(positions) <= 0):
            raise RuntimeError("incomplete unexpected_index_list")
        bounds = np.searchsorted(positions, offsets)
        if kind == "pair":
            present = (group.columns[kwargs["column_A"]].notna()
                       & group.columns[kwargs["column_B"]].notna()).to_numpy()
        else:
            present = group.columns[kwargs["column"]].notna().to_numpy()
        counted = np.concatenate(([0], np.cumsum(present)))
        limit = min(self.format["partial_unexpected_count"], MAX_RESULT_RECORDS)
        mostly = expectation.mostly
        split = []
        for k, item in enumerate(members):
            total = int(offsets[k + 1] - offsets[k])
            considered = int(counted[offsets[k + 1]] - counted[offsets[k]])
            local = positions[bounds[k]:bounds[k + 1]] - offsets[k]
            unexpected = len(local)
            values: list[Any] = []
            own = item.plans[index].kwargs
            if kind == "pair":
                if unexpected:
                    shown = local[:limit]
                    values = list(zip(item.prep.column(own["column_A"]).values[shown],
                                      item.prep.column(own["column_B"]).values[shown],
                                      strict=True))
                success = (True if total == 0 or considered == 0
                           else _mostly_success(considered, unexpected, mostly))
                nonnull: int | None = considered
            else:
                if unexpected:
                    values = list(item.prep.column(own["column"]).iloc[local[:limit]])
                if kind == "not_null":
                    success = True if total == 0 else (total - unexpected) / total >= mostly
                    nonnull = None
                else:
                    nonnull = considered
                    success = (True if total == 0 or nonnull == 0
                               else _mostly_success(nonnull, unexpected, mostly))
            out = _format_map_output(
                result_format=self.format, success=success, element_count=total,
                nonnull_count=nonnull, unexpected_count=unexpected, unexpected_list=values,
                unexpected_index_list=None, unexpected_index_query=None,
                unexpected_index_column_names=None, unexpected_rows=None)
            split.append(_Outcome(out["success"], out.get("result")))
        return split

    def _row_count(self, expectation, rows: int) -> _Outcome:
        key = (id(expectation), rows)
        if key not in self.row_counts:
            out = expectation._validate(metrics={"table.row_count": rows},
                                        runtime_configuration={"result_format": self.format})
            self.row_counts[key] = _Outcome(out["success"], out.get("result"))
        return self.row_counts[key]


def _thawed(kwargs: tuple) -> dict[str, Any]:
    return {k: list(v) if isinstance(v, tuple) else v for k, v in kwargs}


def _runs(members: Sequence[tuple[_Checked, list[str]]]) -> Iterable[list]:
    """Members cut into runs of at most ``GROUP_ROWS`` prepared rows (a bigger dataset alone)."""
    run: list = []
    rows = 0
    for member in members:
        size = len(member[0].prep.frame)
        if run and rows + size > GROUP_ROWS:
            yield run
            run, rows = [], 0
        run.append(member)
        rows += size
    if run:
        yield run


def _group(layout: tuple, members: Sequence[tuple[_Checked, list[str]]], total: int
           ) -> _Prepared:
    """The members' published columns one under the other (renamed by position) and their
    normalised columns computed once, as ``_Prepared`` over the concatenation."""
    import pandas as pd

    canon = list(dict.fromkeys(name for name, kind in layout[1] if kind is None))
    data = {name: pd.concat([item.prep.columns[headers[i]] for item, headers in members],
                            ignore_index=True)
            for i, name in enumerate(canon)}
    group = _Prepared(pd.DataFrame(data, index=pd.RangeIndex(total)))
    for name, kind in layout[1]:
        if kind is None:
            group.raw(name)
        else:
            group.derived(name, kind)
    return group


def validate_datasets(
    datasets: Iterable[Dataset],
    run_id: str,
    docs_dir: Path | str | None = None,
    *,
    as_of: dt.date | None = None,
    law: str = DEFAULT_LAW,
    max_rows: int = MAX_ROWS,
) -> ValidationResults:
    """Validate every dataset with the suites that apply; rows for ``expectation_results``.

    One ephemeral Great Expectations context serves the whole call. ``as_of`` fixes "today"
    for the plausible-year check (default: today). With ``docs_dir``, a Data Docs site (static
    HTML; the index also lists the validations without JavaScript, so it reads offline) is
    built there and its ``index.html`` is ``result.docs_index``; use a fresh directory per run.
    A dataset Lupa fails on is reported in ``result.errors`` and skipped; the others go on.

    Without ``docs_dir`` the datasets are validated in groups (see the module docstring): the
    same rows, several times faster. With it, each dataset is validated on its own, as Data
    Docs need one stored validation per (suite, dataset).
    """
    started = time.perf_counter()
    suites = load_suites()
    as_of = as_of or dt.date.today()
    if docs_dir is None:
        results = _validate_grouped(datasets, run_id, as_of=as_of, law=law, max_rows=max_rows,
                                    suites=suites)
    else:
        results = _validate_each(datasets, run_id, Path(docs_dir).resolve(), as_of=as_of,
                                 law=law, max_rows=max_rows, suites=suites)
    results.stats["seconds"] = round(time.perf_counter() - started, 3)
    return results


def _collect(results: ValidationResults, items: Iterable[_Checked]) -> int:
    rows = 0
    for item in items:
        results.extend(item.out)
        results.errors.extend(item.errors)
        rows += item.validated
    return rows


def _validate_grouped(datasets: Iterable[Dataset], run_id: str, *, as_of: dt.date, law: str,
                      max_rows: int, suites: Mapping[str, Suite]) -> ValidationResults:
    """The fast path of ``validate_datasets`` (no Data Docs)."""
    results = ValidationResults()
    grouped: _Grouped | None = None
    count = rows_validated = held = 0
    batch: list[_Checked] = []
    for dataset in datasets:
        count += 1
        item = _check(dataset, as_of=as_of, law=law, max_rows=max_rows, suites=suites,
                      lazy=True)
        batch.append(item)
        held += len(item.prep.frame) if item.prep is not None else 0
        if len(batch) >= BATCH_DATASETS or held >= BATCH_ROWS:
            grouped = grouped or _Grouped(run_id)
            grouped.validate([i for i in batch if i.plans is not None])
            rows_validated += _collect(results, batch)
            batch, held = [], 0
    if batch:
        grouped = grouped or _Grouped(run_id)
        grouped.validate([i for i in batch if i.plans is not None])
        rows_validated += _collect(results, batch)
    results.stats = {"datasets": count, "rows_validated": rows_validated,
                     "expectations": len(results)}
    return results


def _validate_each(datasets: Iterable[Dataset], run_id: str, docs_path: Path | None = None, *,
                   as_of: dt.date | None = None, law: str = DEFAULT_LAW,
                   max_rows: int = MAX_ROWS, suites: Mapping[str, Suite] | None = None,
                   ) -> ValidationResults:
    """The per-dataset path of ``validate_datasets`` (and the reference the grouped path is
    tested against): every dataset validated on its own, stored, and shown in Data Docs when
    ``docs_path`` is given."""
    suites = load_suites() if suites is None else suites
    as_of = as_of or dt.date.today()
    runner = _PerDataset(run_id, docs_path)
    results = ValidationResults()
    count = rows_validated = 0
    for dataset in datasets:
        count += 1
        item = _check(dataset, as_of=as_of, law=law, max_rows=max_rows, suites=suites)
        if item.plans is not None:
            runner.run(item)
        rows_validated += _collect(results, [item])
    if docs_path is not None:
        docs_path.mkdir(parents=True, exist_ok=True)
        runner.context.build_data_docs(site_names=[DOCS_SITE])
        index = docs_path / "index.html"
        _add_static_list(index, run_id, runner.listed)
        results.docs_index = index
    results.stats = {"datasets": count, "rows_validated": rows_validated,
                     "expectations": len(results)}
    return results


def _asset_name(dataset: Dataset, used: set[str]) -> str:
    digest = hashlib.sha256(dataset.resource_url.encode()).hexdigest()[:8]
    base = _safe(f"{dataset.subject_id} {dataset.obligation_id or 'sin-obligacion'} {digest}")
    name, n = base, 1
    while name in used:
        n += 1
        name = f"{base} #{n}"
    used.add(name)
    return name


def _error(dataset: Dataset, expectation: str | None, info: Mapping[str, Any]) -> dict:
    return {"subject_id": dataset.subject_id, "obligation_id": dataset.obligation_id,
            "resource_url": dataset.resource_url, "expectation": expectation,
            "error": str(info.get("exception_message") or "error")[:500]}


def _add_static_list(index: Path, run_id: str, listed: Sequence[Mapping[str, Any]]) -> None:
    """Prepend a plain-HTML list of this run's validations to the Data Docs index.

    The GX index draws its tables with JavaScript from public CDNs; offline it shows none.
    This list needs nothing but the files next to it.
    """
    if not index.exists():
        return
    items = []
    for entry in listed:
        dataset = entry["dataset"]
        link = html.escape(quote(_validation_link(index.parent, entry["name"])), quote=True)
        state = "superada" if entry["success"] else "con fallas"
        items.append(
            f"<li><a href=\"{link}\">{html.escape(entry['suite'])}</a> — {state} — "
            f"{html.escape(dataset.subject_id)} · {html.escape(dataset.obligation_id or '')} · "
            f"<code>{html.escape(dataset.resource_url)}</code></li>")
    block = (
        "<section id=\"lupa-validaciones\" style=\"margin:1em;font-family:sans-serif\">"
        f"<h2>Validaciones de la corrida {html.escape(run_id)}</h2>"
        "<p>Suites de expectativas de Lupa (lista estática: se lee sin conexión).</p>"
        f"<ul>{''.join(items)}</ul></section>")
    text = index.read_text(encoding="utf-8")
    match = re.search(r"<body[^>]*>", text)
    position = match.end() if match else 0
    index.write_text(text[:position] + block + text[position:], encoding="utf-8")


def _validation_link(root: Path, suite_name: str) -> str:
    folder = root / "validations" / suite_name
    pages = sorted(folder.rglob("*.html")) if folder.exists() else []
    if pages:
        return pages[-1].relative_to(root).as_posix()
    return f"expectations/{suite_name}.html"


# --------------------------------------------------------------------------- findings


def _details(row: Mapping[str, Any]) -> dict[str, Any]:
    raw = row.get("details")
    if isinstance(raw, dict):
        return raw
    try:
        return json.loads(raw) if raw else {}
    except (TypeError, ValueError):
        return {}


def _counts(row: Mapping[str, Any], threshold: float) -> bool:
    """Does this failed row count towards DATA_QUALITY?"""
    if row.get("success"):
        return False
    if _details(row).get("structural"):
        return True
    percent = row.get("unexpected_percent")
    return percent is None or percent > threshold


def _describe(row: Mapping[str, Any]) -> str:
    details = _details(row)
    text = str(details.get("description") or row.get("expectation")).rstrip(". ")
    column = row.get("column_name")
    where = f"columna «{column}»" if column else ""
    if details.get("structural"):
        return f"{text} — no se cumple" + (f" ({where})" if where and "«" not in text else "")
    percent = row.get("unexpected_percent")
    share = "no se cumple" if percent is None else (
        f"no se cumple en {percent:.1f} % de los valores revisados")
    return f"{text} — {share}" + (f" ({where})" if where else "")


def data_quality_findings(rows: Iterable[Mapping[str, Any]],
                          threshold: float = DEFAULT_THRESHOLD) -> list[Finding]:
    """One DATA_QUALITY finding per published dataset (subject, obligation, resource URL) with
    a failed structural expectation or an expectation failing on more than ``threshold`` % of
    the values it checked. The Spanish message lists the failing checks, worst first."""
    groups: dict[tuple[str, str, str | None, str], list[Mapping[str, Any]]] = {}
    for row in rows:
        key = (row["run_id"], row["subject_id"], row.get("obligation_id"), row["resource_url"])
        groups.setdefault(key, []).append(row)
    findings = []
    for (run_id, subject_id, obligation_id, url), group in groups.items():
        failing = [r for r in group if _counts(r, threshold)]
        if not failing:
            continue
        failing.sort(key=lambda r: (not _details(r).get("structural"),
                                    -(r.get("unexpected_percent") or 0.0), r["expectation"]))
        items = [_describe(r) for r in failing[:MESSAGE_ITEMS]]
        if len(failing) > MESSAGE_ITEMS:
            items.append(f"y {len(failing) - MESSAGE_ITEMS} verificación(es) más")
        plural = "verificación" if len(failing) == 1 else "verificaciones"
        message = (f"Los datos publicados no superan {len(failing)} {plural} de calidad "
                   f"(tolerancia: {threshold:g} % de valores con error): "
                   + "; ".join(items) + ".")
        findings.append(Finding(run_id=run_id, subject_id=subject_id,
                                obligation_id=obligation_id, code=Code.DATA_QUALITY,
                                message=message, evidence_url=url))
    return findings
