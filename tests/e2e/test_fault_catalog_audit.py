"""The whole fault catalog audited in one run, as ``make reliability``'s combined run does
(in this process, the DAG's code path), from a registry that also carries every bad row:
the run completes, every fault is classified as its ground truth says, the bad rows are
reported and every good subject audited. Then the reports built from that warehouse are
opened in headless Chromium: the script-injection portal's markup is shown as text and
never runs."""

from __future__ import annotations

from dataclasses import replace

import pytest
from e2e_browser import open_page

from lupa.bad_input import bad_row_count, check_bad_input
from lupa.config import Settings
from lupa.demo import free_port
from lupa.reliability import MEMORY_BOUND_MB, compare_portals
from testbed import faults
from testbed.fault_catalog import expected_outcome, fault_of
from testbed.model import AS_OF

pytestmark = pytest.mark.e2e

BASE = "127.34.0.1"
RUN_ID = "faults__2025-11-15"


def _reset_peak_rss() -> None:
    """Start this process's peak resident set (VmHWM) afresh (Linux: clear_refs "5")."""
    with open("/proc/self/clear_refs", "w") as handle:
        handle.write("5")


def _peak_rss_mb() -> float:
    with open("/proc/self/status") as handle:
        line = next(line for line in handle if line.startswith("VmHWM:"))
    return int(line.split()[1]) / 1024


@pytest.fixture(scope="module")
def fault_run(tmp_path_factory):
    from lupa.pipeline import run_in_process
    from testbed.server import start_subprocess

    root = tmp_path_factory.mktemp("faults")
    port = free_port()
    patch = pytest.MonkeyPatch()
    # only the catalog's network and port, as in production: private addresses stay refused
    patch.setenv("LUPA_ALLOWED_ENDPOINTS", f"127.34.0.0/24:{port}")
    patch.setenv("LUPA_ALLOW_PRIVATE_NETWORKS", "0")
    try:
        settings = replace(Settings.from_env(), warehouse=root / "faults.duckdb",
                           reports=root / "informe")
        with start_subprocess(0, 0, root / "catalog", port=port, base=BASE,
                              faults=True) as served:
            checks, registry = check_bad_input(served.out_dir / "registry.csv", root / "bad")
            _reset_peak_rss()
            summary = run_in_process({"registry": str(registry), "as_of": AS_OF.isoformat(),
                                      "delay_seconds": 0.02, "shard_size": 50,
                                      "warehouse": str(settings.warehouse)}, RUN_ID, settings)
            peak_mb = _peak_rss_mb()
            network = served.network
            truth = served.out_dir / "ground_truth"
    finally:
        patch.undo()
    return settings, summary, network, truth, checks, peak_mb


def test_every_fault_is_classified_as_its_ground_truth_says(fault_run):
    settings, summary, network, truth, _, _ = fault_run
    faults_by_subject = {p.subject.subject_id: fault_of(p) for p in network.portals}
    texts = {f: expected_outcome(f) for f in faults_by_subject.values()}
    outcomes = compare_portals(settings.warehouse, RUN_ID, truth, faults_by_subject, texts)
    wrong = {o.fault: (o.statuses_correct, o.pairs, o.missing[:3], o.unexpected[:3])
             for o in outcomes.values() if not o.classified}
    assert wrong == {}
    by_fault = {o.fault: o for o in outcomes.values()}
    assert by_fault["connect_timeout"].observed_codes == {"PORTAL_UNREACHABLE": 1}
    assert by_fault["tls_invalid"].observed_codes == {"TLS_INVALID": 1}
    assert by_fault["private_redirect"].observed_codes["LINK_BROKEN"] >= 3
    assert by_fault["xlsx_zip_bomb"].observed_codes["NOT_MACHINE_READABLE"] >= 1


def test_the_run_completes_with_bad_rows_reported_and_good_rows_audited(fault_run):
    settings, summary, network, _, checks, peak_mb = fault_run
    from warehouse.schema import connect

    with connect(settings.warehouse, read_only=True) as con:
        status, audited, rejected = con.execute(
            "SELECT status, subjects_audited, registry_errors FROM runs WHERE run_id = ?",
            [RUN_ID]).fetchone()
    assert (status, audited, rejected) == ("success", len(network.portals), bad_row_count())
    assert [c.what for c in checks if not c.passed] == []
    # 4 GiB answers and 1 GiB bombs went through this process (its peak resident set,
    # measured from the run's start) without it growing near them
    assert 0 < peak_mb < MEMORY_BOUND_MB


def test_reports_show_injected_markup_as_text_and_never_run_it(fault_run, browser):
    from reports.build import build_reports
    from reports.pages import subject_page_name

    settings, _, network, _, _, _ = fault_run
    build_reports(settings.warehouse, settings.reports_dir, RUN_ID)
    injected = next(p for p in network.portals if fault_of(p) == "script_injection")
    pages = [settings.reports_dir / "index.html",
             settings.reports_dir / subject_page_name(injected.subject.subject_id)]
    shown = ""
    for path in pages:
        page = open_page(browser, path)
        assert page.evaluate("typeof window.lupaXss") == "undefined", path
        assert page.locator("script").count() == 0  # the reports carry no script at all
        shown += page.inner_text("body")
        assert page.errors == [], (path, page.errors)
        page.close()
    assert faults.XSS in shown  # the portal's markup, as the portal showed it: text
