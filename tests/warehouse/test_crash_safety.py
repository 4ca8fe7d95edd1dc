"""Crash safety of the load: a loader process killed with SIGKILL at any moment leaves the
warehouse with either the whole run or none of it (a run becomes visible atomically), never
duplicates, and the next load completes it; loading again replaces the run.

The shards are the warehouse benchmark's synthetic ones (``bench/warehouse_load.py``), big
enough that a load takes a while; the kills land at spread fractions of a full load's
duration, measured first (a kill that lands after the commit must also leave a whole run)."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

REPO = Path(__file__).resolve().parents[2]
FINDINGS, SHARDS = 60_000, 6
KILL_FRACTIONS = (0.2, 0.45, 0.7, 0.95, 1.3)
CHILD = """
import sys, time
sys.path[:0] = [{repo!r}, {bench!r}]
from pathlib import Path
from audit.catalog import load_catalog
from warehouse import shards
import warehouse_load as bench
root = Path({root!r})
subjects = [row for path in bench._files(root, "subjects")
            for row in shards.read_table(Path(path).parent, "subjects")]
obligations = load_catalog(bench.LAW).obligation_rows()
from warehouse.schema import connect
connect({db!r}).close()
print("loading", flush=True)
started = time.perf_counter()
bench.load(root, Path({db!r}), subjects, obligations)
print(f"loaded {{time.perf_counter() - started:.3f}}", flush=True)
"""


@pytest.fixture(scope="module")
def synthetic_shards(tmp_path_factory):
    sys.path.insert(0, str(REPO / "bench"))
    try:
        import warehouse_load as bench
    finally:
        sys.path.remove(str(REPO / "bench"))
    root = tmp_path_factory.mktemp("shards")
    sizes = bench.synthesise(root, FINDINGS, SHARDS, seed=3)
    return root, sizes, bench.RUN_ID


def _loader(root: Path, db: Path) -> subprocess.Popen:
    code = CHILD.format(repo=str(REPO), bench=str(REPO / "bench"), root=str(root), db=str(db))
    return subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)


def _state(db: Path, run_id: str) -> tuple[str | None, int, int]:
    with duckdb.connect(str(db), read_only=True) as con:
        status = con.execute("SELECT status FROM runs WHERE run_id = ?", [run_id]).fetchone()
        total, distinct = con.execute(
            "SELECT count(*), count(DISTINCT finding_id) FROM findings WHERE run_id = ?",
            [run_id]).fetchone()
    return (status[0] if status else None), total, distinct


def test_a_killed_load_leaves_all_or_nothing_and_the_next_load_completes(
        synthetic_shards, tmp_path):
    root, sizes, run_id = synthetic_shards
    clean = _loader(root, tmp_path / "clean.duckdb")
    out, _ = clean.communicate(timeout=600)
    assert clean.returncode == 0, out
    duration = float(out.split("loaded ")[1])
    expected = _state(tmp_path / "clean.duckdb", run_id)
    assert expected == ("success", sizes["findings"], sizes["findings"])

    db = tmp_path / "crashed.duckdb"
    outcomes = []
    for fraction in KILL_FRACTIONS:
        child = _loader(root, db)
        assert child.stdout.readline().strip() == "loading"
        time.sleep(duration * fraction)
        child.send_signal(signal.SIGKILL)
        child.wait(60)
        state = _state(db, run_id)
        assert state in ((None, 0, 0), expected), f"after a kill at {fraction}: {state}"
        outcomes.append(state == expected)

    finisher = _loader(root, db)
    out, _ = finisher.communicate(timeout=600)
    assert finisher.returncode == 0, out
    assert _state(db, run_id) == expected
    again = _loader(root, db)  # loading the run again replaces it
    again.communicate(timeout=600)
    assert again.returncode == 0
    assert _state(db, run_id) == expected
    # the first kill lands well inside the load: it must have left nothing (later kills
    # may interrupt a reload, which leaves the previous complete load)
    assert outcomes[0] is False
