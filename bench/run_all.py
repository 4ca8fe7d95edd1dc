"""Run every benchmark in ``bench/`` and print their figures.

Each benchmark prints its own table and, as its last line, one JSON object; this runs them in
turn (output passed through), prints the issue-6 targets side by side with the figures that
answer them, and ends with one JSON object holding every benchmark's figures.

The national cycle runs on an evenly spread sample of the 8,646 testbed subjects
(``LUPA_BENCH_NATIONAL_SUBJECTS``, 200 by default: the whole national run takes hours on two
cores) with the whole national network listening; it prints its figures for the sample and
their linear projection to 8,646 subjects, labelled as such. ``LUPA_BENCH_NATIONAL_SUBJECTS=8646``
measures the full cycle. It runs on the Celery topology with two workers
(``LUPA_BENCH_NATIONAL_EXECUTOR``, ``celery`` by default; ``dag-test`` runs the tasks one after
another in one process), which needs the local PostgreSQL and Redis.
Usage: uv run python bench/run_all.py [benchmark.py ...]
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

NATIONAL_SUBJECTS = os.environ.get("LUPA_BENCH_NATIONAL_SUBJECTS", "200")
NATIONAL_EXECUTOR = os.environ.get("LUPA_BENCH_NATIONAL_EXECUTOR", "celery")
BENCHMARKS: dict[str, tuple[str, ...]] = {
    "harvest_vs_scrapy.py": (),
    "warehouse_load.py": (),
    "expectations_vs_pandas.py": (),
    "national_cycle.py": ("--subjects", NATIONAL_SUBJECTS, "--executor", NATIONAL_EXECUTOR),
    "read_documents.py": (),
    "gx_validate.py": (),
    "reports.py": (),
    "incremental.py": (),
    "demo_cycle.py": (),
}


def _get(figures: dict, *path: str):
    for key in path:
        if not isinstance(figures, dict) or key not in figures:
            return None
        figures = figures[key]
    return figures


def targets(combined: dict) -> list[tuple[str, object, str, object]]:
    """(figure, value, target, met) for every target of issue 6 that a benchmark answered."""
    harvest = combined.get("harvest_vs_scrapy", {})
    load = combined.get("warehouse_load", {})
    gx = combined.get("expectations_vs_pandas", {})
    national = combined.get("national_cycle", {})
    projected = national.get("projected_national")
    first = projected["first"] if projected else national.get("first", {})
    rerun = projected["rerun"] if projected else national.get("rerun", {})
    scope = " (projected from the sample)" if projected else ""
    rows = [
        ("harvest pages/s, Lupa / Scrapy", harvest.get("ratio_pages_per_s"), ">= 1.0",
         _get(harvest, "meets_target", "ratio_pages_per_s >= 1.0")),
        ("politeness efficiency (ideal / actual)", harvest.get("politeness_efficiency"),
         ">= 0.9", _get(harvest, "meets_target", "politeness_efficiency >= 0.9")),
        ("warehouse merge / direct read", load.get("ratio_merge_direct"), "<= 1.5",
         load.get("meets_target")),
        ("Great Expectations / plain pandas", gx.get("ratio_gx_pandas"), "<= 3.0",
         gx.get("meets_target")),
        (f"national cycle wall s{scope}", first.get("wall_s"), "<= 7200",
         _get(national, "meets_target", "wall_s")),
        ("national cycle peak RSS MB", national.get("peak_rss_mb"), "<= 4096",
         _get(national, "meets_target", "peak_rss_mb")),
        (f"incremental re-run wall s{scope}", rerun.get("wall_s"), "<= 1200",
         _get(national, "meets_target", "incremental_wall_s")),
    ]
    return [row for row in rows if row[1] is not None]


def main(argv: list[str] | None = None) -> int:
    here = Path(__file__).resolve().parent
    chosen = (argv if argv is not None else sys.argv[1:]) or list(BENCHMARKS)
    combined, failed = {}, []
    for name in chosen:
        print(f"== {name}", flush=True)
        run = subprocess.run([sys.executable, str(here / name), *BENCHMARKS.get(name, ())],
                             capture_output=True, text=True)
        sys.stderr.write(run.stderr[-4000:])
        lines = run.stdout.strip().splitlines()
        print("\n".join(lines[:-1]), flush=True)
        try:
            combined[name.removesuffix(".py")] = json.loads(lines[-1])
        except (IndexError, json.JSONDecodeError):
            failed.append(name)
        if run.returncode != 0:
            failed.append(name)
    print("== targets (issue 6)")
    print(f"{'figure':<52}{'value':>12}  {'target':<9}met")
    for figure, value, target, met in targets(combined):
        print(f"{figure:<52}{value!s:>12}  {target:<9}{met}")
    if failed:
        combined["failed"] = sorted(set(failed))
    print(json.dumps(combined))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
