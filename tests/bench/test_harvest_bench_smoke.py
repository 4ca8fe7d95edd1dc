"""``bench/harvest_vs_scrapy.py`` runs at a tiny size and ends with its JSON line.

Run as a subprocess, as ``bench/run_all.py`` runs it: exit status 0, the last line of stdout one
JSON object with the figures the benchmark promises, Lupa and Scrapy fetching the same
requests. Nothing is asserted on wall-clock figures: the machine may be busy.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "bench"


def run_bench(name: str, *args: str) -> dict:
    run = subprocess.run([sys.executable, str(BENCH / name), *args], capture_output=True,
                         text=True, timeout=300)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    lines = run.stdout.strip().splitlines()
    assert lines, run.stderr[-3000:]
    figures = json.loads(lines[-1])
    assert isinstance(figures, dict)
    return figures


def test_harvest_vs_scrapy_smoke():
    figures = run_bench("harvest_vs_scrapy.py", "--portals", "2", "--repeat", "1",
                        "--polite-hosts", "2", "--polite-budget", "6")
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
