"""Benchmark: the demo cycle — testbed, audit DAG through Airflow, load, evaluation.

Prints a table of figures and, as its last line, one JSON object with all of them.
Usage: uv run python bench/demo_cycle.py [--size 50] [--seed 2026]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import time
from dataclasses import replace

import duckdb

from lupa.config import Settings
from lupa.demo import run_demo


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=50)
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args(argv)

    os.environ["LUPA_ALLOW_PRIVATE_NETWORKS"] = "1"  # the testbed lives on loopback
    settings = Settings.from_env()
    settings = replace(settings, warehouse=settings.home / "bench" / "demo_cycle.duckdb")
    settings.warehouse.parent.mkdir(parents=True, exist_ok=True)
    settings.warehouse.unlink(missing_ok=True)
    cpu_start = time.process_time()
    result = run_demo(settings, seed=args.seed, size=args.size, out=sys.stderr)
    cpu = time.process_time() - cpu_start
    if result.state != "success":
        print(f"demo run {result.run_id} ended {result.state}: {result.failed_tasks}")
        return 1
    with duckdb.connect(str(settings.warehouse), read_only=True) as con:
        fetches, fetched_bytes = con.execute(
            "SELECT count(*), coalesce(sum(bytes), 0) FROM fetches WHERE run_id = ?",
            [result.run_id]).fetchone()
    evaluation = result.evaluation
    figures = {
        "benchmark": "demo_cycle",
        "portals": args.size,
        "seed": args.seed,
        "state": result.state,
        "wall_seconds": round(result.seconds, 1),
        "cpu_seconds_main_process": round(cpu, 1),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "fetches": fetches,
        "fetched_mb": round(fetched_bytes / 2**20, 1),
        "fetches_per_second": round(fetches / result.seconds, 1),
        "presence_accuracy": round(evaluation.accuracy, 4),
        "pairs": evaluation.pairs,
        "findings": {code: {"precision": s.precision, "recall": s.recall}
                     for code, s in sorted(evaluation.codes.items())},
    }
    for key, value in figures.items():
        if key != "findings":
            print(f"{key:<28}{value}")
    for code, score in figures["findings"].items():
        print(f"{code:<28}precision {score['precision']}  recall {score['recall']}")
    print(json.dumps(figures))
    return 0 if result.state == "success" else 1


if __name__ == "__main__":
    sys.exit(main())
