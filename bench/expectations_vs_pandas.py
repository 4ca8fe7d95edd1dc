"""Benchmark: the expectation suites run by Great Expectations against the same rules in pandas.

The datasets are the ones ``bench/gx_validate.py`` builds (its ``build``: testbed portals of a
fixed seed render their files, ``scrapers.readers`` reads them, ``audit.formats`` matches their
format). They are validated three ways:

* **GX**: ``expectations.runner.validate_datasets`` (the grouped path, no Data Docs), GX
  imported and warmed up first, as ``gx_validate.py`` does;
* **pandas** (the figure compared with GX): the suite files (``expectations/suites/*.json``,
  read here with ``json``) applied in plain vectorised pandas, each expectation run once over
  the concatenated columns of every dataset it applies to and counted per dataset, as the
  runner groups datasets for GX; **pandas, one at a time**: the same rules dataset by dataset.
  Suites are picked as the runner picks them (``common`` always; the obligation's suite by
  format id, obligation id or fraction, else by the format the header matches) and columns
  are found with the runner's resolution (common roles; official labels through the format
  catalog): neither involves GX. Each check kind is one vectorised rule on the first
  ``MAX_ROWS`` rows: has_rows (row count), column_present (header present), plausible_year
  (year in a range, '2025.0' read as 2025), date_parses (ISO or DD/MM/YYYY, an optional time
  ignored), dates_ordered (end not before start where both parse), not_blank (no empty or
  blank cell), numeric and is_url (the suite's regex on the published text), non_negative
  (amount without '$', ',' and spaces >= 0), in_catalog (value folded as
  ``expectations.suites.fold`` in the catalog of the matched format). ``unexpected_percent``
  follows GX: the failing share of non-empty values (of rows with both dates for
  dates_ordered; of all rows for not_blank), None for structural checks.

Every path gives, per (dataset, expectation, column), a success flag and
``unexpected_percent``; each pandas path is compared with GX pair by pair and the mismatches
listed. The testbed's datasets pass every expectation, so the comparison is repeated on
copies with deterministic defects (``with_defects``: cells of checked columns replaced by bad
values in about half of them), timed too. The timings cover the same work, from the datasets
to those figures (suite choice, column resolution, normalisation, checks); the GX path also
writes each row's details JSON (a sample of failing values), which the pandas paths do not.
``--repeat`` rounds alternate the paths; the best of each is reported.
Prints the figures and, as its last line, one JSON object with all of them.
Usage: .venv/bin/python bench/expectations_vs_pandas.py [--datasets 300] [--seed 7]
       [--portals 30] [--repeat 3] [--target 3] [--rows-scale 1]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import random
import re
import resource
import sys
import time
from collections import Counter
from dataclasses import replace
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from gx_validate import AS_OF, build  # noqa: E402

from audit.formats import load_formats  # noqa: E402
from expectations import runner  # noqa: E402
from expectations.runner import Dataset  # noqa: E402
from expectations.suites import COMMON, SUITES_DIR, Suite, fold  # noqa: E402

# The runner's date shapes: ISO or Mexican day/month/year, an optional time ignored.
ISO_DATE = re.compile(r"^(\d{4}-\d{2}-\d{2})(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?$")
DMY_DATE = re.compile(r"^(\d{1,2}/\d{1,2}/\d{4})(?:\s+\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?$")
YEAR = re.compile(r"^(\d{4})(?:\.0+)?$")
PERCENT_TOLERANCE = 1e-9
# Cell values the defects variant writes (``with_defects``).
DEFECTS = ("", "   ", None, "-1500.50", "No aplica", "2025-02-31", "30/09/2025", "15/10/2030",
           "1900", "2025.0", "www.sin-esquema.gob.mx/a.pdf", "$1,250.00", "N/D", "Otro valor")


def read_suites(directory: Path = SUITES_DIR) -> dict[str, Suite]:
    """The committed suite files, read with ``json`` (not the runner's cached loader)."""
    return {path.stem: Suite.from_dict(json.loads(path.read_text(encoding="utf-8")))
            for path in sorted(directory.glob("*.json"))}


class _Frame:
    """One dataset's first rows and its columns as the rules read them (computed once)."""

    def __init__(self, frame) -> None:
        self.frame = frame
        self.cache: dict[tuple[str, str], Any] = {}

    def text(self, header: str):
        key = (header, "text")
        if key not in self.cache:
            column = self.frame[header]
            self.cache[key] = column if str(column.dtype) == "str" else column.astype("str")
        return self.cache[key]

    def stripped(self, header: str):
        key = (header, "stripped")
        if key not in self.cache:
            text = self.text(header).str.strip()
            self.cache[key] = text.mask(text == "")
        return self.cache[key]

    def dates(self, header: str):
        key = (header, "dates")
        if key not in self.cache:
            import pandas as pd

            text = self.stripped(header)
            parsed = pd.to_datetime(text, format="%Y-%m-%d", errors="coerce")
            rest = text[parsed.isna() & text.notna()]
            if len(rest):
                iso = pd.to_datetime(rest.str.extract(ISO_DATE, expand=False),
                                     format="%Y-%m-%d", errors="coerce")
                dmy = pd.to_datetime(rest.str.extract(DMY_DATE, expand=False),
                                     format="%d/%m/%Y", errors="coerce")
                parsed.loc[rest.index] = iso.fillna(dmy)
            self.cache[key] = parsed
        return self.cache[key]


class _Task(NamedTuple):
    """One expectation resolved on one dataset."""

    key: tuple                  # (resource_url, expectation id, column_name)
    spec: Any                   # expectations.suites.ExpectationSpec
    headers: list[str]          # published headers (official label when absent)
    allowed: tuple              # in_catalog: the catalog of the matched format


def plan(dataset: Dataset, suites: dict[str, Suite], fc, max_rows: int):
    """A dataset's first rows and the expectations that apply to it, resolved on its headers:
    suites picked and columns found as the runner does (no GX involved)."""
    frame, specific, cols = runner.resolve_dataset(dataset, suites, fc, max_rows)
    tasks = []
    for suite in (suites[COMMON], specific):
        if suite is None:
            continue
        for spec in suite.expectations:
            found = runner.spec_headers(spec, cols)
            if found is None:
                continue
            names, format_id = found
            allowed = spec.values.get(format_id or "", ())
            if spec.check == "in_catalog" and not allowed:
                continue
            key = (dataset.resource_url, spec.id, " | ".join(names) or None)
            tasks.append(_Task(key, spec, names, tuple(allowed)))
    return frame, tasks


def masks(spec, headers: list[str], prep: _Frame, allowed: tuple, as_of: dt.date):
    """One value check on a frame, vectorised: (unexpected rows, rows considered; None for
    every row)."""
    import pandas as pd

    check, params, header = spec.check, spec.params, headers[0]
    if check == "not_blank":
        return prep.stripped(header).isna(), None
    if check == "dates_ordered":
        end, start = prep.dates(headers[1]), prep.dates(headers[0])
        both = end.notna() & start.notna()
        return both & ~(end >= start), both
    if check in ("numeric", "is_url"):
        text = prep.text(header)
        present = text.notna()
        return present & ~text.str.contains(params["regex"], regex=True, na=False), present
    value = prep.stripped(header)
    present = value.notna()
    if check == "date_parses":
        return present & prep.dates(header).isna(), present
    if check == "plausible_year":
        last = as_of.year + int(params.get("years_after_as_of", 1))
        years = pd.to_numeric(value.str.extract(YEAR, expand=False), errors="coerce")
        return present & ~years.between(int(params["min_year"]), last), present
    if check == "non_negative":
        amount = pd.to_numeric(value.str.replace(r"[\s$,]", "", regex=True), errors="coerce")
        number = amount.notna()
        return number & (amount < params.get("min_value", 0)), number
    if check == "in_catalog":
        wanted = {fold(v) for v in allowed}
        bad = [v for v in value[present].unique() if fold(v) not in wanted]
        return value.isin(bad), present
    raise ValueError(f"unknown check {check!r}")


def verdict(check: str, total: int, considered: int, unexpected: int):
    """GX's success rule (mostly = 1) and unexpected_percent for a value check's counts."""
    if check == "not_blank":                  # GX counts nulls over every row
        return unexpected == 0, (100.0 * unexpected / total if total else None)
    if total == 0 or considered == 0:
        return True, None
    return unexpected == 0, 100.0 * unexpected / considered


def structural(spec, headers: list[str], frame) -> tuple[bool, None] | None:
    if spec.check == "has_rows":
        return len(frame) >= int(spec.params.get("min_value", 1)), None
    if spec.check == "column_present":
        return headers[0] in frame.columns, None
    return None


def _flags(series) -> np.ndarray:
    return series.to_numpy(dtype=bool, na_value=False)


def validate_pandas(datasets: list[Dataset], suites: dict[str, Suite], as_of: dt.date,
                    max_rows: int = runner.MAX_ROWS) -> tuple[dict, int]:
    """Each dataset on its own: per (resource_url, expectation, column_name), (success,
    unexpected_percent); and the rows checked."""
    fc = load_formats()
    out: dict[tuple, tuple[bool, float | None]] = {}
    rows = 0
    for dataset in datasets:
        frame, tasks = plan(dataset, suites, fc, max_rows)
        rows += len(frame)
        prep = _Frame(frame)
        for task in tasks:
            found = structural(task.spec, task.headers, frame)
            if found is None:
                bad, considered = masks(task.spec, task.headers, prep, task.allowed, as_of)
                found = verdict(task.spec.check, len(frame),
                                len(frame) if considered is None else int(considered.sum()),
                                int(bad.sum()))
            out[task.key] = found
    return out, rows


def validate_pandas_grouped(datasets: list[Dataset], suites: dict[str, Suite],
                            as_of: dt.date, max_rows: int = runner.MAX_ROWS
                            ) -> tuple[dict, int]:
    """The same rules, each run once over the concatenated columns of every dataset it
    applies to (same expectation, same catalog), then counted per dataset (``bincount``) —
    what the runner's grouped path does with GX."""
    import pandas as pd

    fc = load_formats()
    out: dict[tuple, tuple[bool, float | None]] = {}
    groups: dict[tuple, list] = {}
    rows = 0
    for dataset in datasets:
        frame, tasks = plan(dataset, suites, fc, max_rows)
        rows += len(frame)
        prep = _Frame(frame)
        for task in tasks:
            found = structural(task.spec, task.headers, frame)
            if found is not None:
                out[task.key] = found
                continue
            out[task.key] = None                # keeps the dataset's order of rows
            groups.setdefault((task.spec.id, task.allowed), []).append((task, prep))
    for (_, allowed), members in groups.items():
        spec = members[0][0].spec
        width = len(members[0][0].headers)
        columns = [f"c{i}" for i in range(width)]
        # one array per column (numpy concatenation: pd.concat's cost is per piece)
        data = {name: pd.Series(np.concatenate(
                    [prep.text(task.headers[i]).to_numpy(dtype=object, na_value=None)
                     for task, prep in members]), dtype="str")
                for i, name in enumerate(columns)}
        lengths = np.array([len(prep.frame) for _, prep in members])
        joined = _Frame(pd.DataFrame(data))
        bad, considered = masks(spec, columns, joined, allowed, as_of)
        codes = np.repeat(np.arange(len(members)), lengths)
        unexpected = np.bincount(codes, weights=_flags(bad), minlength=len(members))
        counted = (lengths if considered is None else
                   np.bincount(codes, weights=_flags(considered), minlength=len(members)))
        for k, (task, _) in enumerate(members):
            out[task.key] = verdict(spec.check, int(lengths[k]), int(counted[k]),
                                    int(unexpected[k]))
    return out, rows


def with_defects(datasets: list[Dataset], suites: dict[str, Suite], seed: int
                 ) -> list[Dataset]:
    """Copies of the datasets with deterministic defects in about half of them: a few cells
    of the columns the suites check replaced by values that fail one check or another."""
    fc = load_formats()
    out = []
    for index, dataset in enumerate(datasets):
        rng = random.Random(seed * 7919 + index)
        frame = dataset.frame
        _, tasks = plan(dataset, suites, fc, runner.MAX_ROWS)
        checked = sorted({h for t in tasks if t.spec.check not in ("has_rows", "column_present")
                          for h in t.headers})
        if len(frame) and checked and rng.random() < 0.5:
            frame = frame.copy()
            for _ in range(rng.randint(1, 4)):
                column = rng.choice(checked)
                if str(frame[column].dtype) != "str":
                    frame[column] = frame[column].astype("str")
                row = frame.index[rng.randrange(min(len(frame), runner.MAX_ROWS))]
                frame.loc[row, column] = rng.choice(DEFECTS)
        out.append(Dataset(dataset.subject_id, dataset.obligation_id,
                           dataset.resource_url, frame, dataset.format_id))
    return out


def compare(gx_rows, pandas_rows: dict) -> dict:
    """Success flags and unexpected percentages of the two paths, pair by pair."""
    gx = {(r["resource_url"], r["expectation"], r["column_name"]):
          (r["success"], r["unexpected_percent"]) for r in gx_rows}
    keys = sorted(set(gx) | set(pandas_rows), key=lambda k: tuple(str(x) for x in k))
    agree_success = agree_percent = 0
    mismatches = []
    for key in keys:
        if key not in gx or key not in pandas_rows:
            mismatches.append({"key": list(key), "gx": gx.get(key), "pandas":
                               pandas_rows.get(key), "why": "only in one path"})
            continue
        (gs, gp), (ps, pp) = gx[key], pandas_rows[key]
        same_success = bool(gs) == bool(ps)
        same_percent = (gp is None and pp is None) or (
            gp is not None and pp is not None
            and math.isclose(gp, pp, rel_tol=PERCENT_TOLERANCE, abs_tol=PERCENT_TOLERANCE))
        agree_success += same_success
        agree_percent += same_percent
        if not (same_success and same_percent):
            mismatches.append({"key": list(key), "gx": [gs, gp], "pandas": [ps, pp],
                               "why": "success" if not same_success else "unexpected_percent"})
    return {"pairs": len(keys), "pairs_gx": len(gx), "pairs_pandas": len(pandas_rows),
            "success_agree": agree_success, "percent_agree": agree_percent,
            "mismatches": mismatches}


def _timed(function, *args):
    started = time.perf_counter()
    result = function(*args)
    return time.perf_counter() - started, result


def scaled(datasets: list, times: int) -> list:
    """Each dataset with its rows repeated ``times`` times (the same values, so the same
    verdicts; only the per-call overhead's share changes)."""
    if times <= 1:
        return datasets
    import pandas as pd

    return [replace(d, frame=pd.concat([d.frame] * times, ignore_index=True))
            for d in datasets]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", type=int, default=300)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--portals", type=int, default=30)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--target", type=float, default=3.0,
                        help="target ratio GX seconds / pandas seconds")
    parser.add_argument("--rows-scale", type=int, default=1,
                        help="repeat each dataset's rows this many times (the testbed's "
                             "datasets are small; real exports often hold hundreds of rows)")
    args = parser.parse_args(argv)

    started = time.perf_counter()
    datasets = scaled(build(args.datasets, args.seed, args.portals), args.rows_scale)
    suites = read_suites()
    defective = with_defects(datasets, suites, args.seed)
    build_seconds = time.perf_counter() - started
    gx = lambda items: runner.validate_datasets(items, "bench", as_of=AS_OF)  # noqa: E731
    paths = {
        "gx": gx,
        "pandas": lambda items: validate_pandas_grouped(items, suites, AS_OF),
        "pandas_each": lambda items: validate_pandas(items, suites, AS_OF),
    }

    started = time.perf_counter()
    runner.validate_datasets(datasets[:1], "bench-warmup", as_of=AS_OF)      # GX import
    runner._validate_each(datasets[:1], "bench-warmup", as_of=AS_OF)
    for name in ("pandas", "pandas_each"):
        paths[name](datasets[:1])
    warmup_seconds = time.perf_counter() - started

    times: dict[str, list[float]] = {name: [] for name in paths}
    found: dict[str, Any] = {}
    for _ in range(args.repeat):
        for name, path in paths.items():
            seconds, found[name] = _timed(path, datasets)
            times[name].append(seconds)
    results = found["gx"]
    best = {name: min(values) for name, values in times.items()}
    rows = results.stats["rows_validated"]
    checks = {name: compare(results, found[name][0]) for name in ("pandas", "pandas_each")}
    # The same comparison on the copies with defects (best of two runs each, also timed).
    defect_s, defect_gx = min((_timed(gx, defective) for _ in range(2)), key=lambda r: r[0])
    defect_pandas_s, (defect_rows, _) = min((_timed(paths["pandas"], defective)
                                             for _ in range(2)), key=lambda r: r[0])
    failing = Counter(r["expectation"].rsplit(".", 1)[-1] for r in defect_gx
                      if not r["success"])
    defect_check = compare(defect_gx, defect_rows)
    defect_each = compare(defect_gx, validate_pandas(defective, suites, AS_OF)[0])

    def agree(check: dict) -> bool:
        return (check["success_agree"] == check["pairs"]
                and check["pairs_gx"] == check["pairs_pandas"] == check["pairs"])

    ratio = best["gx"] / best["pandas"]
    figures = {
        "benchmark": "expectations_vs_pandas",
        "datasets": len(datasets),
        "rows_scale": args.rows_scale,
        "rows_validated": rows,
        "rows_validated_pandas": found["pandas"][1],
        "expectation_rows_gx": len(results),
        "expectation_rows_pandas": len(found["pandas"][0]),
        "gx_errors": len(results.errors),
        "failed_expectations_gx": sum(not r["success"] for r in results),
        "repeat": args.repeat,
        "gx_seconds": round(best["gx"], 3),
        "pandas_seconds": round(best["pandas"], 3),
        "pandas_each_seconds": round(best["pandas_each"], 3),
        "gx_datasets_per_second": round(len(datasets) / best["gx"], 1),
        "pandas_datasets_per_second": round(len(datasets) / best["pandas"], 1),
        "pandas_each_datasets_per_second": round(len(datasets) / best["pandas_each"], 1),
        "gx_rows_per_second": round(rows / best["gx"]),
        "pandas_rows_per_second": round(rows / best["pandas"]),
        "pandas_each_rows_per_second": round(rows / best["pandas_each"]),
        "ratio_gx_pandas": round(ratio, 2),
        "ratio_gx_pandas_each": round(best["gx"] / best["pandas_each"], 2),
        "target_ratio": args.target,
        "meets_target": ratio <= args.target,
        "pairs_compared": checks["pandas"]["pairs"],
        "success_agree": checks["pandas"]["success_agree"],
        "percent_agree": checks["pandas"]["percent_agree"],
        "success_agree_each": checks["pandas_each"]["success_agree"],
        "defects_pairs_compared": defect_check["pairs"],
        "defects_failed_expectations_gx": sum(not r["success"] for r in defect_gx),
        "defects_failing_by_check": dict(sorted(failing.items())),
        "defects_success_agree": defect_check["success_agree"],
        "defects_percent_agree": defect_check["percent_agree"],
        "defects_success_agree_each": defect_each["success_agree"],
        "defects_gx_seconds": round(defect_s, 3),
        "defects_pandas_seconds": round(defect_pandas_s, 3),
        "all_success_agree": all(agree(c) for c in (*checks.values(), defect_check,
                                                    defect_each)),
        "mismatch_count": sum(len(c["mismatches"]) for c in (*checks.values(), defect_check,
                                                             defect_each)),
        "mismatches": [dict(m, variant=variant) for variant, check in (
            ("clean", checks["pandas"]), ("clean, each", checks["pandas_each"]),
            ("defects", defect_check), ("defects, each", defect_each))
            for m in check["mismatches"]][:50],
        "rounds_s": {name: [round(t, 3) for t in values] for name, values in times.items()},
        "build_seconds": round(build_seconds, 1),
        "warmup_seconds": round(warmup_seconds, 1),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }
    print(f"{len(datasets)} testbed datasets (seed {args.seed}, {args.portals} portals), "
          f"{rows:,} rows validated, {len(results)} expectation rows "
          f"({figures['failed_expectations_gx']} failing); best of {args.repeat} round(s)")
    print(f"{'path':<42}{'seconds':>9}{'datasets/s':>12}{'rows/s':>10}{'x pandas':>10}")
    for name, label in (("gx", "GX: validate_datasets (grouped)"),
                        ("pandas", "pandas: suite JSON, grouped by expectation"),
                        ("pandas_each", "pandas: suite JSON, one dataset at a time")):
        print(f"{label:<42}{best[name]:>9.3f}{len(datasets) / best[name]:>12.1f}"
              f"{rows / best[name]:>10.0f}{best[name] / best['pandas']:>9.2f}x")
    verdict_text = "meets" if figures["meets_target"] else "misses"
    print(f"ratio GX/pandas: {figures['ratio_gx_pandas']} ({verdict_text} the target "
          f"<= {args.target}); GX / pandas one at a time: {figures['ratio_gx_pandas_each']}")
    for label, check in (("clean", checks["pandas"]), ("clean, pandas one at a time",
                                                        checks["pandas_each"]),
                         ("with defects", defect_check),
                         ("with defects, pandas one at a time", defect_each)):
        print(f"agreement, {label}: {check['pairs']} (dataset, expectation, column) pairs, "
              f"success {check['success_agree']}, unexpected_percent "
              f"{check['percent_agree']}, {len(check['mismatches'])} mismatch(es)")
    print(f"with defects: {figures['defects_failed_expectations_gx']} failing expectation rows "
          f"({', '.join(f'{k} {v}' for k, v in figures['defects_failing_by_check'].items())}); "
          f"GX {defect_s:.3f} s, pandas {defect_pandas_s:.3f} s")
    for item in figures["mismatches"][:20]:
        print(f"  mismatch [{item['variant']}] ({item['why']}): {item['key']} "
              f"gx={item['gx']} pandas={item['pandas']}")
    print(json.dumps(figures, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
