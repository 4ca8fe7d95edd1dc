"""Benchmark: Great Expectations validation of published datasets (expectations.runner).

Builds N deterministic datasets the way the pipeline gets them — testbed portals (fixed seed)
render their files, ``scrapers.readers`` reads them, ``audit.formats`` matches their format —
then times ``validate_datasets`` on them (GX imported and warmed up first, so the import is
not counted). ``--path each`` times the per-dataset path (the one Data Docs use) instead of
the grouped one. Prints the figures and, as its last line, one JSON object with all of them.
Usage: .venv/bin/python bench/gx_validate.py [--datasets 300] [--path grouped|each]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from audit.catalog import load_catalog  # noqa: E402
from audit.formats import load_formats, match_headers  # noqa: E402
from expectations import runner  # noqa: E402
from expectations.runner import Dataset  # noqa: E402
from scrapers.readers import read_document  # noqa: E402
from testbed.network import generate_network  # noqa: E402
from testbed.plan import build_entries  # noqa: E402
from testbed.resources import render_file  # noqa: E402

AS_OF = dt.date(2025, 11, 20)
TABLES = ("sipot_export", "table", "sipot_template")


def build(count: int, seed: int, portals: int) -> list[Dataset]:
    """The first ``count`` readable tables of the testbed's portals, in portal order."""
    network = generate_network(seed=seed, size=portals, base="127.30.0.1", port=8080)
    catalog = load_catalog("LGTAIP-2015")
    formats = load_formats()
    datasets: list[Dataset] = []
    files = 0
    for portal in network.portals:
        for entry in build_entries(portal, catalog.applicability(portal.subject), catalog):
            for plan in entry.files:
                body, content_type = render_file(portal, plan)
                files += 1
                doc = read_document(body, filename=f"f.{plan.ext}", declared_type=content_type)
                if doc.kind not in TABLES or not doc.rows:
                    continue
                found = match_headers(doc.columns, formats)
                datasets.append(Dataset(portal.subject.subject_id, plan.obligation.obligation_id,
                                        f"{portal.base_url}/bench/{files}.{plan.ext}",
                                        doc.frame(), found.format_id if found else None))
                if len(datasets) == count:
                    return datasets
    return datasets


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", type=int, default=300)
    parser.add_argument("--path", choices=("grouped", "each"), default="grouped")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--portals", type=int, default=30)
    args = parser.parse_args(argv)

    started = time.perf_counter()
    datasets = build(args.datasets, args.seed, args.portals)
    build_seconds = time.perf_counter() - started

    started = time.perf_counter()
    runner.validate_datasets(datasets[:1], "bench-warmup", as_of=AS_OF)      # GX import
    runner._validate_each(datasets[:1], "bench-warmup", as_of=AS_OF)
    warmup_seconds = time.perf_counter() - started

    validate = runner.validate_datasets if args.path == "grouped" else runner._validate_each
    cpu = time.process_time()
    started = time.perf_counter()
    results = validate(datasets, "bench", as_of=AS_OF)
    seconds = time.perf_counter() - started
    cpu = time.process_time() - cpu

    figures = {
        "benchmark": "gx_validate",
        "path": args.path,
        "datasets": len(datasets),
        "rows_validated": results.stats["rows_validated"],
        "expectation_rows": len(results),
        "failed_expectations": sum(not row["success"] for row in results),
        "errors": len(results.errors),
        "seconds": round(seconds, 3),
        "cpu_seconds": round(cpu, 3),
        "datasets_per_second": round(len(datasets) / seconds, 1),
        "build_seconds": round(build_seconds, 1),
        "warmup_seconds": round(warmup_seconds, 1),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }
    print(f"validated {figures['datasets']} datasets ({figures['rows_validated']} rows, "
          f"{figures['expectation_rows']} expectation rows, {figures['errors']} errors) "
          f"on the {args.path} path")
    print(f"datasets/s: {figures['datasets_per_second']}")
    print(f"seconds: {figures['seconds']} (cpu {figures['cpu_seconds']}; building the datasets "
          f"took {figures['build_seconds']} s, GX import and warm-up "
          f"{figures['warmup_seconds']} s)")
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
