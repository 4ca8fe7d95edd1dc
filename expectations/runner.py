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
4. Each suite that applies (``common`` always; the obligation's suite when there is one) runs as
   one GX validation over the prepared frame.

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
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from audit.catalog import DEFAULT_LAW
from audit.findings import Code, Finding
from audit.formats import MATCH_THRESHOLD, FormatCatalog, load_formats, normalize_label
from expectations.suites import (
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
    """A dataset's frame cut to ``MAX_ROWS`` plus its normalised columns (built on demand)."""

    frame: pd.DataFrame
    columns: dict[str, Any] = field(default_factory=dict)
    _cache: dict[tuple[str, str], Any] = field(default_factory=dict)

    def raw(self, header: str) -> str:
        """Add a published column (as text) to the prepared frame; its name there."""
        if header not in self.columns:
            column = self.frame[header]
            if str(column.dtype) != "str":
                column = column.astype("str")
            self.columns[header] = column
        return header

    def derived(self, header: str, kind: str) -> str:
        """Add a normalised copy of a published column; its name in the prepared frame."""
        name = f"{header} [{kind}]"
        if name not in self.columns:
            self.columns[name] = _DERIVE[kind](self, header)
        return name

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

        return pd.DataFrame(self.columns, index=self.frame.index)


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
    impossible = parsed.isna() & text.str.match(_ISO_DATE).fillna(False).astype(bool)
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


def _plan(suite: Suite, spec: ExpectationSpec, cols: _Columns, prep: _Prepared,
          as_of: dt.date) -> _Planned | None:
    """The GX kwargs of one expectation on one dataset, or None when it cannot run."""
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


def plan_dataset(dataset: Dataset, *, as_of: dt.date | None = None, law: str = DEFAULT_LAW,
                 max_rows: int = MAX_ROWS, suites: Mapping[str, Suite] | None = None,
                 ) -> tuple[list[_Planned], _Prepared, str | None]:
    """Resolve every applicable expectation against one dataset (no Great Expectations
    involved): the plans, the prepared frame, and the format the dataset was taken to follow."""
    suites = load_suites() if suites is None else suites
    as_of = as_of or dt.date.today()
    fc = load_formats(law)
    frame = dataset.frame.head(max_rows).reset_index(drop=True)
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
    prep = _Prepared(frame)
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
    """
    import great_expectations as gx
    from great_expectations.core.run_identifier import RunIdentifier

    started = time.perf_counter()
    suites = load_suites()
    as_of = as_of or dt.date.today()
    docs_path = Path(docs_dir).resolve() if docs_dir is not None else None
    context = _context(docs_path)
    source = context.data_sources.add_pandas("lupa")
    gx_run = RunIdentifier(run_name=_safe(run_id), run_time=dt.datetime.now(dt.UTC))
    results = ValidationResults()
    listed: list[dict[str, Any]] = []
    names: set[str] = set()
    count = rows_validated = 0
    for dataset in datasets:
        count += 1
        try:
            plans, prep, format_id = plan_dataset(dataset, as_of=as_of, law=law,
                                                  max_rows=max_rows, suites=suites)
            frame = prep.to_frame()
            name = _asset_name(dataset, names)
            asset = source.add_dataframe_asset(name, batch_metadata={
                "sujeto_obligado": dataset.subject_id,
                "obligacion": dataset.obligation_id or "",
                "recurso": dataset.resource_url,
                "formato": format_id or "",
            })
            batch = asset.add_batch_definition_whole_dataframe("completo")
            rows_total, validated = len(dataset.frame), len(frame)
            rows_validated += validated
            for suite_name in dict.fromkeys(p.suite for p in plans):
                own = [p for p in plans if p.suite == suite_name]
                gx_suite = context.suites.add(gx.ExpectationSuite(
                    name=f"{suite_name} [{name}]",
                    expectations=[_gx_expectation(p) for p in own]))
                definition = context.validation_definitions.add(gx.ValidationDefinition(
                    name=f"{suite_name} [{name}]", data=batch, suite=gx_suite))
                outcome = definition.run(batch_parameters={"dataframe": frame},
                                         result_format=RESULT_FORMAT, run_id=gx_run)
                outcomes = {(r.expectation_config.meta or {}).get("lupa_id"): r
                            for r in outcome.results}
                for planned in own:               # rows in suite order, not GX's
                    result = outcomes.get(planned.spec.id)
                    if result is None:
                        continue
                    if (result.exception_info or {}).get("raised_exception"):
                        results.errors.append(_error(dataset, planned.spec.id,
                                                     result.exception_info))
                        continue
                    results.append(_row(run_id, dataset, planned, result, rows_total,
                                        validated))
                listed.append({"suite": suite_name, "name": f"{suite_name} [{name}]",
                               "dataset": dataset, "success": bool(outcome.success)})
        except Exception as exc:  # one bad dataset must not stop the others
            log.exception("validating %s failed", dataset.resource_url)
            results.errors.append(_error(dataset, None, {"exception_message": repr(exc)}))
    if docs_path is not None:
        docs_path.mkdir(parents=True, exist_ok=True)
        context.build_data_docs(site_names=[DOCS_SITE])
        index = docs_path / "index.html"
        _add_static_list(index, run_id, listed)
        results.docs_index = index
    elapsed = time.perf_counter() - started
    results.stats = {"datasets": count, "rows_validated": rows_validated,
                     "expectations": len(results), "seconds": round(elapsed, 3)}
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
