"""``lupa report``: the reports of one run, written from the warehouse into a directory.

The site is built in a staging directory next to the target and swapped in at the end, so
whoever is reading the reports (the Airflow plugin, someone with the folder open) sees the
old site or the new one, never half of each. A directory that is not a Lupa report is
never replaced.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from warehouse.schema import connect
from warehouse.scoring import unsuccessful_run

MARKER = "informe.json"  # written last into every report directory; names its run
EXPORTS_DIR = "datos"


class ReportError(RuntimeError):
    """The report cannot be built (no scored run, a directory that is not ours…)."""


@dataclass
class ReportBuild:
    run_id: str
    out_dir: Path
    overview: Path
    subjects: int
    exports: list[Path] = field(default_factory=list)


def build_reports(warehouse: Path | str, out_dir: Path | str, run_id: str | None = None,
                  *, lock_timeout: float = 60.0) -> ReportBuild:
    """Build the overview, the subject pages and the exports of ``run_id`` (default: the
    latest successful run) into ``out_dir``."""
    from reports.exports import write_exports
    from reports.pages import render_site

    out_dir = Path(out_dir).expanduser().resolve()
    _check_replaceable(out_dir)
    con = connect(warehouse, read_only=True, lock_timeout=lock_timeout)
    try:
        run_id = run_id or _latest_scored_run(con, warehouse)
        subjects = _scored_subjects(con, run_id, warehouse)
        out_dir.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", dir=out_dir.parent))
        try:
            exports = write_exports(con, run_id, staging / EXPORTS_DIR)
            render_site(con, run_id, staging, exports)
            (staging / MARKER).write_text(json.dumps({
                "run_id": run_id, "warehouse": str(warehouse), "subjects": subjects,
                "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
            }, ensure_ascii=False, indent=1), encoding="utf-8")
            os.chmod(staging, 0o755)  # mkdtemp makes it private; reports are for reading
            _swap(staging, out_dir)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
    finally:
        con.close()
    return ReportBuild(run_id, out_dir, out_dir / "index.html", subjects,
                       [out_dir / EXPORTS_DIR / p.name for p in exports])


def report_info(out_dir: Path | str) -> dict | None:
    """What the report directory holds (its marker), or None when there is no report."""
    try:
        return json.loads((Path(out_dir) / MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _latest_scored_run(con, warehouse) -> str:
    row = con.execute("""
        SELECT r.run_id FROM runs AS r
        WHERE r.status = 'success' AND EXISTS (SELECT 1 FROM scores s WHERE s.run_id = r.run_id)
        ORDER BY r.started_at DESC NULLS LAST, r.run_id DESC LIMIT 1""").fetchone()
    if row is None:
        raise ReportError(f"{warehouse}: no successful, scored run to report on "
                          "(run an audit first, or `lupa score` an older warehouse)")
    return row[0]


def _scored_subjects(con, run_id: str, warehouse) -> int:
    problem = unsuccessful_run(con, run_id, "reported on")
    if problem:
        raise ReportError(f"{warehouse}: {problem}")
    count = con.execute("SELECT count(*) FROM scores WHERE run_id = ?", [run_id]).fetchone()[0]
    if not count:
        raise ReportError(f"{warehouse}: run {run_id!r} has no scores; compute them with "
                          f"`lupa score --run {run_id}`")
    return count


def _check_replaceable(out_dir: Path) -> None:
    if out_dir.exists() and not out_dir.is_dir():
        raise ReportError(f"{out_dir} exists and is not a directory")
    if out_dir.is_dir() and any(out_dir.iterdir()) and not (out_dir / MARKER).exists():
        raise ReportError(f"{out_dir} is not empty and holds no Lupa report ({MARKER}); "
                          "choose another --out, Lupa replaces the whole directory")


def _swap(staging: Path, out_dir: Path) -> None:
    old = None
    if out_dir.exists():
        old = out_dir.with_name(f".{out_dir.name}.old-{os.getpid()}")
        out_dir.rename(old)
    staging.rename(out_dir)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def as_dict(build: ReportBuild) -> dict:
    data = asdict(build)
    return {k: [str(p) for p in v] if isinstance(v, list) else str(v)
            if isinstance(v, Path) else v for k, v in data.items()}
