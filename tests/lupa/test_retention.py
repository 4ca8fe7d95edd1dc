"""Retention: old run directories go, unless a kept run still points into them."""

from __future__ import annotations

import json

import pytest

from lupa.cli import main
from lupa.retention import prune_runs
from warehouse.schema import connect

RUNS = [("r1", "2025-01-01", "success"), ("r2", "2025-02-01", "success"),
        ("r3", "2025-03-01", "success"), ("r4", "2025-04-01", "success"),
        ("f0", "2024-12-01", "failed"), ("f9", "2025-05-01", "failed")]


@pytest.fixture
def home(tmp_path):
    home = tmp_path / "home"
    con = connect(tmp_path / "w.duckdb")
    for run_id, day, status in RUNS:
        directory = home / "runs" / f"{run_id}-dir"
        (directory / "shards" / "0000").mkdir(parents=True)
        (directory / "manifest.json").write_text(json.dumps(
            {"run_id": run_id, "started_at": f"{day}T00:00:00+00:00"}))
        (directory / "shards" / "0000" / "evidence.warc.gz").write_bytes(b"x" * 100)
        con.execute("INSERT INTO runs (run_id, started_at, status) VALUES (?, ?, ?)",
                    [run_id, day, status])
    (home / "runs" / "running-dir").mkdir()  # no manifest yet: never touched
    # r4 revalidated a file whose body r1 archived: r1's directory must stay
    warc = home / "runs" / "r1-dir" / "shards" / "0000" / "evidence.warc.gz"
    con.execute("INSERT INTO fetches (run_id, subject_id, url, evidence_ref, observed_run) "
                "VALUES ('r4', 'S', 'http://p/x.csv', ?, 'r1')", [f"{warc}#0"])
    con.close()
    return home


def test_keeps_the_latest_runs_and_what_they_refer_to(home, tmp_path):
    report = prune_runs(home, tmp_path / "w.duckdb", keep=2)
    assert report.kept == ["r4", "r3"]
    assert sorted(p.rsplit("/", 1)[1] for p in report.removed) == ["f0-dir", "r2-dir"]
    left = sorted(p.name for p in (home / "runs").iterdir())
    assert left == ["f9-dir", "r1-dir", "r3-dir", "r4-dir", "running-dir"]
    assert report.freed_bytes >= 200


def test_dry_run_and_the_command(home, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("LUPA_HOME", str(home))
    assert main(["prune", "--keep", "1", "--dry-run", "--warehouse",
                 str(tmp_path / "w.duckdb")]) == 0
    printed = capsys.readouterr().out
    assert "Would remove 3 run directories" in printed and "r2-dir" in printed
    assert (home / "runs" / "r2-dir").exists()
    assert main(["prune", "--warehouse", str(tmp_path / "w.duckdb")]) == 2  # keep how many?
    with pytest.raises(ValueError, match="at least 1"):
        prune_runs(home, tmp_path / "w.duckdb", keep=0)
