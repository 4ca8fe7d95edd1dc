"""The benchmarks of issue 6 run at a tiny size and end with their JSON line.

Each runs as a subprocess, as ``bench/run_all.py`` runs it: exit status 0, and the last line of
stdout one JSON object with the figures the benchmark promises.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "bench"


def run_bench(name: str, *args: str) -> dict:
    run = subprocess.run([sys.executable, str(BENCH / name), *args], capture_output=True,
                         text=True, timeout=120)
    assert run.returncode == 0, run.stderr[-3000:]
    lines = run.stdout.strip().splitlines()
    assert lines, run.stderr[-3000:]
    figures = json.loads(lines[-1])
    assert isinstance(figures, dict)
    return figures


def test_warehouse_load_smoke():
    figures = run_bench("warehouse_load.py", "--findings", "20000", "--shards", "4",
                        "--repeat", "1", "--profile")
    assert figures["benchmark"] == "warehouse_load"
    for key in ("load_s", "scoring_s", "load_without_scoring_s", "direct_ctas_s",
                "direct_count_s", "schema_insert_s", "ratio_load_direct",
                "ratio_load_without_scoring_direct", "meets_target", "rows", "profile"):
        assert key in figures, key
    assert figures["rows"]["findings"] == 20000
    assert figures["distinct_finding_ids"] == 20000
    assert figures["loaded_counts"]["findings"] == 20000
    assert figures["duplicates_dropped"] == 0
    assert figures["rows"]["findings"] > max(
        n for table, n in figures["rows"].items() if table != "findings")
    assert figures["load_s"] > 0 and figures["direct_ctas_s"] > 0
    assert figures["profile"]["statements_s"]


def test_expectations_vs_pandas_smoke():
    figures = run_bench("expectations_vs_pandas.py", "--datasets", "10", "--repeat", "1")
    assert figures["benchmark"] == "expectations_vs_pandas"
    for key in ("gx_seconds", "pandas_seconds", "gx_datasets_per_second",
                "pandas_datasets_per_second", "gx_rows_per_second", "pandas_rows_per_second",
                "ratio_gx_pandas", "meets_target", "pairs_compared", "success_agree"):
        assert key in figures, key
    assert figures["datasets"] == 10
    assert figures["pairs_compared"] > 0
    assert figures["all_success_agree"], figures["mismatches"]
    assert figures["success_agree"] == figures["pairs_compared"]
    assert figures["mismatch_count"] == 0, figures["mismatches"]
