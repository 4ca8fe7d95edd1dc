"""``make reliability``'s pieces that need no testbed: measuring a child run, the bad-input
battery, the table it prints."""

from __future__ import annotations

import sys

from lupa.bad_input import BAD_REGISTRY_ROWS, bad_row_count, check_bad_input
from lupa.reliability import FaultRow, format_table, run_measured


def test_a_child_run_is_measured_with_its_peak_memory_not_its_parents(tmp_path):
    ballast = bytearray(700 * 1024 * 1024)  # this process is big: the child must not look so
    ballast[::4096] = b"x" * len(ballast[::4096])
    code = "b = bytearray(300 * 1024 * 1024); b[::4096] = b'x' * len(b[::4096]); print('done')"
    status, peak_mb, seconds, last = run_measured([sys.executable, "-c", code], {},
                                                  tmp_path / "child.log")
    assert (status, last) == (0, "done")
    assert 300 <= peak_mb < 600 and seconds > 0
    del ballast


def test_a_failing_child_keeps_its_exit_status(tmp_path):
    status, _, _, last = run_measured(
        [sys.executable, "-c", "print('bye'); raise SystemExit(3)"], {}, tmp_path / "c.log")
    assert (status, last) == (3, "bye")


def test_a_child_past_its_time_is_killed(tmp_path):
    status, _, _, _ = run_measured([sys.executable, "-c", "import time; time.sleep(60)"], {},
                                   tmp_path / "child.log", timeout=0.5)
    assert status == -9


def test_every_bad_input_is_refused_clearly_and_the_good_rows_kept(tmp_path):
    registry = tmp_path / "registry.csv"
    registry.write_text(
        "subject_id,name,acronym,level,state,subject_type,portal_url,transparency_url\n"
        "1,Secretaría de Salud,SS,federal,,ejecutivo,http://salud.example/,\n"
        "2,Congreso de Yucatán,CY,estatal,YUC,legislativo,http://congreso.example/,\n",
        encoding="utf-8")
    checks, with_bad = check_bad_input(registry, tmp_path / "bad")
    assert [c.what for c in checks if not c.passed] == []
    assert len(checks) == len(BAD_REGISTRY_ROWS) + 2 + 1 + 2  # + empty/duplicate id, kept,
    # oversized registry, broken catalog
    lines = with_bad.read_bytes().split(b"\n")
    assert len([line for line in lines if line]) == 1 + 2 + bad_row_count()
    details = {c.what: c.detail for c in checks}
    assert "line 11" in details["registry: credentials in the URL"] \
        and "credentials" in details["registry: credentials in the URL"]
    assert "obligations.tsv:11" in details["catalog file with a malformed line"]


def test_the_table_flags_what_was_not_handled():
    rows = [FaultRow("read_timeout", "PORTAL_UNREACHABLE", "PORTAL_UNREACHABLE", True, True,
                     2, 600.0, 70.2, []),
            FaultRow("gzip_bomb", "no finding", "NOT_MACHINE_READABLE", True, False, 310,
                     4000.0, 9.0, ["unexpected NOT_MACHINE_READABLE 70-I"])]
    text = format_table(rows)
    assert rows[0].handled and not rows[1].handled
    assert "read_timeout" in text and "! unexpected NOT_MACHINE_READABLE 70-I" in text
