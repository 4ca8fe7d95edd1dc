"""Benchmark: reading published files the way the harvest does (lupa.documents.DocumentReader).

Renders the files of a few testbed portals (fixed seed: PNT xlsx exports, csv, pdf), then
times the reader on them: sniffing, reading, format matching, Parquet dataset and link
sample. Prints the figures and, as its last line, one JSON object with all of them.
Usage: .venv/bin/python bench/read_documents.py [--portals 4]
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from audit.catalog import load_catalog  # noqa: E402
from audit.formats import load_formats  # noqa: E402
from lupa.documents import DocumentReader  # noqa: E402
from scrapers.results import FetchResult  # noqa: E402
from testbed.network import generate_network  # noqa: E402
from testbed.plan import build_entries  # noqa: E402
from testbed.resources import render_file  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--portals", type=int, default=4)
    args = parser.parse_args(argv)
    network = generate_network(seed=7, size=30, base="127.30.0.1", port=8080)
    catalog, formats = load_catalog(), load_formats()
    results, kinds = [], Counter()
    for portal in network.portals[: args.portals]:
        for entry in build_entries(portal, catalog.applicability(portal.subject), catalog):
            for plan in entry.files:
                body, content_type = render_file(portal, plan)
                url = f"{portal.base_url}/f/{plan.obligation.obligation_id}/{plan.index}.{plan.ext}"
                results.append(FetchResult(url=url, final_url=url, status_code=200,
                                           declared_type=content_type, content=body))
                kinds[plan.ext] += 1
    megabytes = sum(len(r.content) for r in results) / 2**20
    with tempfile.TemporaryDirectory() as shard:
        reader = DocumentReader(shard, formats)
        reader(results[0])  # warm-up: reader modules and the format catalog
        started, cpu = time.perf_counter(), time.process_time()
        for result in results:
            reader(result)
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    figures = {
        "benchmark": "read_documents", "files": len(results),
        "by_extension": dict(sorted(kinds.items())), "megabytes": round(megabytes, 1),
        "seconds": round(seconds, 2), "cpu_seconds": round(cpu, 2),
        "files_per_second": round(len(results) / seconds, 1),
        "ms_per_file": round(1000 * seconds / len(results), 1),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }
    for key, value in figures.items():
        print(f"{key:<20}{value}")
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
