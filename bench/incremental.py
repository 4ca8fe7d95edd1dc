"""Benchmark: incremental harvesting. Three runs of the in-process pipeline on one testbed
network (same addresses): generation 1, generation 1 again (unchanged), then generation 2
(some documents updated, silently edited or removed). Prints, per run, the wall time, the
requests, the body bytes downloaded, the revalidated (304) responses and the results carried
forward; whether the unchanged rerun gave the same findings; and the history codes of the
generation-2 run against its ground truth. Last line: one JSON object with all figures.
Usage: .venv/bin/python bench/incremental.py [--seed 11] [--size 30]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

QUERY = """
    SELECT count(*), sum(downloaded_bytes), sum(bytes), count(*) FILTER (not_modified),
           (SELECT count(*) FILTER (observed_run IS NOT NULL) FROM resources WHERE run_id = $r),
           (SELECT count(*) FROM resources WHERE run_id = $r)
    FROM fetches WHERE run_id = $r"""
FINDINGS = ("SELECT subject_id, coalesce(obligation_id, ''), code, coalesce(evidence_url, '') "
            "FROM findings WHERE run_id = ?")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--size", type=int, default=30)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="lupa-bench-incremental-") as tmp:
        os.environ["LUPA_HOME"] = f"{tmp}/home"
        os.environ["LUPA_ALLOW_PRIVATE_NETWORKS"] = "1"
        import duckdb

        from lupa.config import Settings
        from lupa.demo import free_port
        from lupa.evaluation import evaluate
        from lupa.pipeline import run_in_process
        from testbed.model import AS_OF
        from testbed.server import start_subprocess

        settings, warehouse, port = Settings.from_env(), Path(tmp) / "w.duckdb", free_port()
        figures: dict = {}
        for run_id, generation in (("first", 1), ("unchanged", 1), ("generation2", 2)):
            with start_subprocess(seed=args.seed, size=args.size, port=port,
                                  out_dir=f"{tmp}/testbed{generation}", base="127.27.0.1",
                                  generation=generation) as testbed:
                started = time.monotonic()
                run_in_process({"registry": str(Path(testbed.out_dir) / "registry.csv"),
                                "allow_private_networks": True, "delay_seconds": 0.0,
                                "shard_size": 10, "as_of": AS_OF.isoformat(),
                                "warehouse": str(warehouse)}, run_id, settings)
                seconds = time.monotonic() - started
            with duckdb.connect(str(warehouse), read_only=True) as con:
                n, downloaded, body, revalidated, carried, resources = con.execute(
                    QUERY, {"r": run_id}).fetchone()
            figures[run_id] = {"seconds": round(seconds, 1), "requests": n,
                               "downloaded_bytes": downloaded, "body_bytes": body,
                               "revalidated": revalidated, "files_carried": carried,
                               "files": resources}
        with duckdb.connect(str(warehouse), read_only=True) as con:
            same = (set(con.execute(FINDINGS, ["first"]).fetchall())
                    == set(con.execute(FINDINGS, ["unchanged"]).fetchall()))
        truth = evaluate(warehouse, "generation2", Path(f"{tmp}/testbed2/ground_truth"))
    first = figures["first"]["downloaded_bytes"]
    for run_id in ("unchanged", "generation2"):
        figures[run_id]["share_of_first_bytes"] = round(
            figures[run_id]["downloaded_bytes"] / first, 4)
    figures["unchanged_same_findings"] = same
    figures["history"] = {code: {"expected": s.expected, "found": s.found,
                                 "precision": s.precision, "recall": s.recall}
                          for code, s in truth.codes.items()
                          if code in ("REMOVED_EARLY", "SILENT_EDIT")}
    print(f"{'run':<12} {'seconds':>8} {'requests':>9} {'downloaded':>12} {'304':>6} "
          f"{'carried':>8}")
    for run_id in ("first", "unchanged", "generation2"):
        f = figures[run_id]
        print(f"{run_id:<12} {f['seconds']:>8} {f['requests']:>9} {f['downloaded_bytes']:>12} "
              f"{f['revalidated']:>6} {f['files_carried']:>4}/{f['files']}")
    print(f"unchanged rerun: same findings = {same}; "
          f"{100 * figures['unchanged']['share_of_first_bytes']:.2f} % of the first run's bytes")
    for code, s in figures["history"].items():
        print(f"{code}: expected {s['expected']}, found {s['found']}, "
              f"precision {s['precision']}, recall {s['recall']}")
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
