"""Retention: how many runs' working directories (shards, datasets, WARC evidence) to keep.

The warehouse keeps every run's rows; the run directories under ``$LUPA_HOME/runs`` hold
the bulky part and can go. What must stay is what a kept run still points at: incremental
harvesting carries evidence forward, so a kept run's ``fetches.evidence_ref`` and
``observed_run`` may name an older run's WARC file and datasets, and that older directory is
kept too. Runs still in progress, and failed runs newer than the oldest kept run, are never
touched. ``LUPA_RETENTION_RUNS`` (0 = keep everything) applies it after every load;
``lupa prune`` applies it by hand.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from warehouse.schema import connect
from warehouse.target import target_exists


@dataclass
class PruneReport:
    kept: list[str] = field(default_factory=list)  # run ids
    removed: list[str] = field(default_factory=list)  # run directories
    freed_bytes: int = 0


def prune_runs(home: Path, warehouse: Path, keep: int, dry_run: bool = False) -> PruneReport:
    """Remove the run directories of successful runs older than the ``keep`` latest ones
    (and of failed runs older than all kept ones), except those kept runs still refer to."""
    if keep < 1:
        raise ValueError(f"keep must be at least 1, got {keep}")
    report = PruneReport()
    runs_dir = Path(home) / "runs"
    if not runs_dir.is_dir() or not target_exists(warehouse):
        return report
    con = connect(warehouse, read_only=True, lock_timeout=60)
    try:
        successful = [r for (r,) in con.execute(
            "SELECT run_id FROM runs WHERE status = 'success' "
            "ORDER BY started_at DESC NULLS LAST, run_id DESC").fetchall()]
        report.kept = successful[:keep]
        referenced = _referenced(con, report.kept)
        oldest_kept = con.execute(
            "SELECT min(started_at) FROM runs WHERE run_id IN (SELECT unnest($1::VARCHAR[]))",
            [report.kept]).fetchone()[0]
        status = dict(con.execute("SELECT run_id, status FROM runs").fetchall())
    finally:
        con.close()
    for directory in sorted(p for p in runs_dir.iterdir() if p.is_dir()):
        run_id, started = _manifest(directory)
        if run_id is None or run_id in report.kept or directory.resolve() in referenced:
            continue
        if status.get(run_id) == "success" or (
                status.get(run_id) == "failed" and oldest_kept and started
                and started < oldest_kept):
            report.freed_bytes += sum(f.stat().st_size for f in directory.rglob("*")
                                      if f.is_file())
            report.removed.append(str(directory))
            if not dry_run:
                shutil.rmtree(directory)
    return report


def _referenced(con, kept: list[str]) -> set[Path]:
    """Run directories the kept runs' evidence and carried results live in."""
    refs = con.execute(
        "SELECT DISTINCT split_part(evidence_ref, '#', 1) FROM fetches "
        "WHERE run_id IN (SELECT unnest($1::VARCHAR[])) AND evidence_ref IS NOT NULL",
        [kept]).fetchall()
    out = set()
    for (path,) in refs:
        parts = Path(path).resolve().parts
        if "runs" in parts:
            index = len(parts) - 1 - parts[::-1].index("runs")
            out.add(Path(*parts[:index + 2]))
    return out


def _manifest(directory: Path) -> tuple[str | None, datetime | None]:
    try:
        data = json.loads((directory / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None, None
    started = data.get("started_at")
    try:
        when = datetime.fromisoformat(started).replace(tzinfo=None) if started else None
    except ValueError:
        when = None
    return data.get("run_id"), when
