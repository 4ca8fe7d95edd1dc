"""The benchmarks of issue 6 run at a tiny size and end with their JSON line.

Each runs as a subprocess, as ``bench/run_all.py`` runs it: exit status 0, and the last line of
stdout one JSON object with the figures the benchmark promises. Nothing is asserted on
wall-clock figures: the machine may be busy.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"


def run_bench(name: str, *args: str, timeout: float = 120) -> dict:
    run = subprocess.run([sys.executable, str(BENCH / name), *args], capture_output=True,
                         text=True, timeout=timeout)
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
    for key in ("load_s", "scoring_s", "merge_s", "direct_ctas_s",
                "direct_count_s", "schema_insert_s", "ratio_load_direct",
                "ratio_merge_direct", "meets_target", "rows", "profile"):
        assert key in figures, key
    assert figures["rows"]["findings"] == 20000
    assert figures["distinct_finding_ids"] == 20000
    assert figures["loaded_counts"]["findings"] == 20000
    assert figures["duplicates_dropped"] == 0
    assert figures["scores_recomputed_differences"] == 0
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


def test_national_cycle_smoke():
    figures = run_bench("national_cycle.py", "--network", "8", "--subjects", "2",
                        timeout=600)
    assert figures["benchmark"] == "national_cycle"
    assert figures["subjects"] == 2
    for run in ("first", "rerun"):
        assert figures[run]["state"] == "success"
        assert figures[run]["requests"] > 0
        assert figures[run]["cpu_s_per_subject"] > 0
        assert figures[run]["presence_accuracy"] > 0.9
    assert figures["rerun"]["revalidated_304"] > 0
    assert figures["first"]["revalidated_304"] == 0
    assert figures["peak_rss_mb"] > 0 and figures["testbed_peak_rss_mb"] > 0
    projected = figures["projected_national"]
    assert projected["first"]["wall_s"] > figures["first"]["wall_s"]
    assert set(figures["meets_target"]) == {"wall_s", "peak_rss_mb", "incremental_wall_s",
                                            "measured_at_national_size"}
    assert figures["meets_target"]["measured_at_national_size"] is False


@pytest.mark.distributed
def test_national_cycle_on_the_celery_topology_smoke():
    figures = run_bench("national_cycle.py", "--network", "8", "--subjects", "4",
                        "--shard-size", "1", "--executor", "celery", "--workers", "2",
                        timeout=900)
    assert figures["executor"] == "celery" and figures["workers"] == 2
    for run in ("first", "rerun"):
        assert figures[run]["state"] == "success", figures[run]["failed_tasks"]
        assert figures[run]["workers_used"] == ["worker1", "worker2"]
        assert figures[run]["cpu_s"] > 0  # the workers' task processes are counted
        assert figures[run]["presence_accuracy"] > 0.9
    assert figures["rerun"]["revalidated_304"] > 0
    assert figures["peak_rss_mb"] > 0 and figures["peak_rss_mb_all_processes"] > 0


def test_run_all_lines_up_each_target_with_the_figure_that_answers_it():
    sys.path.insert(0, str(BENCH))
    try:
        from run_all import targets
    finally:
        sys.path.remove(str(BENCH))
    rows = targets({
        "harvest_vs_scrapy": {"ratio_pages_per_s": 1.2, "politeness_efficiency": 0.95,
                              "meets_target": {"ratio_pages_per_s >= 1.0": True,
                                               "politeness_efficiency >= 0.9": True}},
        "warehouse_load": {"ratio_merge_direct": 1.7, "meets_target": False},
        "national_cycle": {"peak_rss_mb": 900, "meets_target": {"wall_s": False},
                           "projected_national": {"first": {"wall_s": 9000},
                                                  "rerun": {"wall_s": 600}}},
    })
    by_figure = {row[0]: row for row in rows}
    assert by_figure["harvest pages/s, Lupa / Scrapy"][1:] == (1.2, ">= 1.0", True)
    assert by_figure["warehouse merge / direct read"][3] is False
    assert by_figure["national cycle wall s (projected from the sample)"][1] == 9000
    assert "Great Expectations / plain pandas" not in by_figure  # not run: not shown


def test_harvest_vs_scrapy_smoke():
    figures = run_bench("harvest_vs_scrapy.py", "--portals", "2", "--repeat", "1",
                        "--polite-hosts", "2", "--polite-budget", "6", timeout=300)
    assert figures["benchmark"] == "harvest_vs_scrapy"
    for key in ("lupa_pages_per_s", "scrapy_pages_per_s", "ratio_pages_per_s",
                "lupa_cpu_ms_per_page", "scrapy_cpu_ms_per_page", "pages",
                "politeness_efficiency", "politeness_ideal_s", "politeness_actual_s",
                "politeness_actual_over_ideal", "scrapy_politeness_efficiency",
                "meets_target", "rounds", "request_check", "load_average_start"):
        assert key in figures, key
    assert figures["pages"]["lupa"] > 0 and figures["pages"]["scrapy"] > 0
    assert figures["lupa_pages_per_s"] > 0 and figures["scrapy_pages_per_s"] > 0
    assert figures["lupa_cpu_ms_per_page"] > 0 and figures["scrapy_cpu_ms_per_page"] > 0
    # Scrapy replayed exactly the requests Lupa sent
    check = figures["request_check"]
    assert figures["url_counts_agree"], check
    assert check["lupa_requests"] == figures["pages"]["lupa"]
    assert abs(check["scrapy_requests"] - check["lupa_requests"]) <= max(
        1, 0.01 * check["lupa_requests"]), check
    assert abs(figures["pages"]["scrapy"] - figures["pages"]["lupa"]) <= max(
        1, 0.01 * figures["pages"]["lupa"])
    assert len(figures["rounds"]) == 1
    assert figures["politeness_ideal_s"] > 0 and figures["politeness_actual_s"] > 0
    assert 0 < figures["politeness_efficiency"] <= 1.5
    assert 0 < figures["scrapy_politeness_efficiency"] <= 1.5
    polite = figures["politeness"]
    assert polite["lupa"]["requests_per_host"] == polite["scrapy"]["requests_per_host"]
    assert set(figures["meets_target"]) == {"ratio_pages_per_s >= 1.0",
                                            "politeness_efficiency >= 0.9"}
