"""Bounded fuzzing of the document readers over mutated real files: whatever the bytes,
``read_document`` returns a Document (an unreadable file is a finding, not a crash) and its
memory stays bounded. ``LUPA_FUZZ_EXAMPLES`` raises the number of mutants per strategy."""

from __future__ import annotations

import io
import os
import tracemalloc
import zipfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scrapers.readers import read_document

REAL = Path(__file__).resolve().parents[1] / "fixtures" / "real_sipot"
FILES = sorted(p for p in REAL.iterdir() if p.suffix in (".xls", ".xlsx"))
XLSX = [p for p in FILES if p.suffix == ".xlsx"]
EXAMPLES = int(os.environ.get("LUPA_FUZZ_EXAMPLES", "12"))
PEAK_BYTES = 300 * 2**20  # per read; the real files are at most ~1 MB
FUZZ = settings(max_examples=EXAMPLES, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def _mutate(data: bytes, draw) -> bytes:
    """Flip, delete, duplicate or truncate a few spans of ``data``."""
    out = bytearray(data)
    for _ in range(draw(st.integers(1, 6))):
        if not out:
            break
        at = draw(st.integers(0, len(out) - 1))
        kind = draw(st.sampled_from(["flip", "delete", "repeat", "truncate", "junk"]))
        span = draw(st.integers(1, 64))
        if kind == "flip":
            out[at] ^= draw(st.integers(1, 255))
        elif kind == "delete":
            del out[at:at + span]
        elif kind == "repeat":
            out[at:at] = out[at:at + span] * draw(st.integers(2, 50))
        elif kind == "truncate":
            del out[at:]
        else:
            out[at:at] = draw(st.binary(min_size=1, max_size=64))
    return bytes(out)


def _read_bounded(content: bytes, name: str):
    tracemalloc.start()
    try:
        doc = read_document(content, filename=name)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < PEAK_BYTES, f"{name}: {peak / 2**20:.0f} MB"
    return doc


@FUZZ
@given(st.sampled_from(FILES), st.data())
def test_mutated_bytes_never_crash_a_reader(path, data):
    _read_bounded(_mutate(path.read_bytes(), data.draw), path.name)


@FUZZ
@given(st.sampled_from(XLSX), st.data())
def test_a_valid_zip_with_mutated_sheets_never_crashes_the_xlsx_reader(path, data):
    source = zipfile.ZipFile(io.BytesIO(path.read_bytes()))
    names = source.namelist()
    targets = [n for n in names if n.startswith("xl/") and n.endswith(".xml")]
    victim = data.draw(st.sampled_from(targets))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as mutant:
        for name in names:
            member = source.read(name)
            mutant.writestr(name, _mutate(member, data.draw) if name == victim else member)
    _read_bounded(out.getvalue(), path.name)


def test_the_fixtures_are_there_and_readable():
    assert len(FILES) >= 4 and XLSX
    for path in FILES:
        assert _read_bounded(path.read_bytes(), path.name).kind != "unreadable"
