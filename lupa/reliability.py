"""``make reliability``: audit the testbed's fault catalog and say how every fault went.

The fault catalog (``testbed.fault_catalog``) is served in a child process, on its own
loopback network. Every portal is then audited in a run of its own through real Airflow
(``lupa run`` in a child process: its peak memory is read with ``wait4`` and its wall time
measured), and all of them once more in one combined run. The installation allows only the
catalog's network and port (``LUPA_ALLOWED_ENDPOINTS``), not private networks at large: the
redirects to private, link-local and loopback addresses must be refused as they would be in
production.

Per fault, the run's statuses and findings for that portal are compared with its ground
truth. A fault is *handled* when the run completed with no failed task, every applicable
obligation got its expected status, the findings are the expected ones (same codes for the
same obligations), and the run's peak memory stayed under ``MEMORY_BOUND_MB``. One row per
fault is printed (expected outcome, observed findings, run completed, peak memory, time),
then a JSON summary, last.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from lupa.bad_input import BadInputCheck, bad_row_count, check_bad_input
from testbed.model import AS_OF

# A run's peak memory (resident set of the Airflow process and its tasks) must stay under
# this, whatever the portal sends: bombs unpack to 1 GiB, a huge answer is 4 GiB.
MEMORY_BOUND_MB = 1536
RUN_TIMEOUT_S = 900


@dataclass
class PortalOutcome:
    """How one catalog portal came out of a run, against its ground truth."""

    fault: str
    subject_id: str
    expected: str
    expected_codes: Counter = field(default_factory=Counter)
    observed_codes: Counter = field(default_factory=Counter)
    pairs: int = 0
    statuses_correct: int = 0
    requests: int = 0  # fetches the run made for the portal (a trap must not run away)
    missing: list[tuple[str, str]] = field(default_factory=list)     # (obligation, code)
    unexpected: list[tuple[str, str]] = field(default_factory=list)

    @property
    def classified(self) -> bool:
        return self.pairs == self.statuses_correct and not self.missing and not self.unexpected


@dataclass
class RunMeasure:
    run_id: str
    completed: bool
    failed_tasks: list[str]
    peak_mb: float
    seconds: float


# ---- comparing a run with the ground truth ------------------------------------------------
def compare_portals(warehouse: str | Path, run_id: str, ground_truth: Path,
                    faults: dict[str, str], expected_text: dict[str, str]
                    ) -> dict[str, PortalOutcome]:
    """Per subject of ``faults`` (subject id -> fault): the run's outcome for it."""
    from lupa.evaluation import read_csv_rows
    from warehouse.schema import connect

    outcomes = {sid: PortalOutcome(fault, sid, expected_text[fault])
                for sid, fault in faults.items()}
    expected_keys: dict[str, set] = {sid: set() for sid in faults}
    for row in read_csv_rows(ground_truth / "expected_findings.csv"):
        if row["subject_id"] in outcomes:
            expected_keys[row["subject_id"]].add((row["obligation_id"], row["code"]))
            outcomes[row["subject_id"]].expected_codes[row["code"]] += 1
    expected_status = {(r["subject_id"], r["obligation_id"]): r["status"]
                       for r in read_csv_rows(ground_truth / "expected_checks.csv")
                       if r["subject_id"] in outcomes}
    with connect(warehouse, read_only=True) as con:
        ids = list(outcomes)
        observed_status = {(s, o): st for s, o, st in con.execute(
            "SELECT subject_id, obligation_id, status FROM obligation_checks "
            "WHERE run_id = ? AND list_contains(?, subject_id)", [run_id, ids]).fetchall()}
        found = con.execute(
            "SELECT subject_id, coalesce(obligation_id, ''), code FROM findings "
            "WHERE run_id = ? AND list_contains(?, subject_id)", [run_id, ids]).fetchall()
        for sid, count in con.execute(
                "SELECT subject_id, count(*) FROM fetches WHERE run_id = ? "
                "AND list_contains(?, subject_id) GROUP BY 1", [run_id, ids]).fetchall():
            outcomes[sid].requests = count
    observed_keys: dict[str, set] = {sid: set() for sid in faults}
    for sid, oid, code in found:
        observed_keys[sid].add((oid, code))
        outcomes[sid].observed_codes[code] += 1
    for (sid, oid), status in expected_status.items():
        outcome = outcomes[sid]
        outcome.pairs += 1
        outcome.statuses_correct += observed_status.get((sid, oid)) == status
    for sid, outcome in outcomes.items():
        outcome.missing = sorted(expected_keys[sid] - observed_keys[sid])
        outcome.unexpected = sorted(observed_keys[sid] - expected_keys[sid])
    return outcomes


# ---- running --------------------------------------------------------------------------
def _environment(home: Path, port: int, network: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("AIRFLOW", "LUPA_"))}
    env.update(LUPA_HOME=str(home), LUPA_ALLOWED_ENDPOINTS=f"{network}:{port}",
               LUPA_ALLOW_PRIVATE_NETWORKS="0")
    return env


# Linux hands a process the peak resident set of the image it was exec'd from (the forking
# parent's), so a large parent would show in its child's ``ru_maxrss``. The command runs
# under this small launcher instead, which reports the peak of the command it waits for.
_LAUNCHER = (
    "import os, subprocess, sys\n"
    "child = subprocess.Popen(sys.argv[2:])\n"
    "_, status, usage = os.wait4(child.pid, 0)\n"
    "open(sys.argv[1], 'w').write(str(usage.ru_maxrss))\n"
    "sys.exit(os.waitstatus_to_exitcode(status) % 256)\n")


def run_measured(command: list[str], env: dict[str, str], log: Path,
                 timeout: float = RUN_TIMEOUT_S) -> tuple[int, float, float, str]:
    """Run ``command``; (exit status, peak resident MB of it and its waited-for children,
    seconds, last line of its output). A run past ``timeout`` is killed (status -9)."""
    started = time.monotonic()
    report = log.with_suffix(".maxrss")
    report.unlink(missing_ok=True)
    with log.open("w", encoding="utf-8") as out:
        process = subprocess.Popen([sys.executable, "-c", _LAUNCHER, str(report), *command],
                                   env=env, stdout=out, stderr=subprocess.STDOUT,
                                   start_new_session=True)
        deadline = started + timeout
        while True:
            pid, status, usage = os.wait4(process.pid, os.WNOHANG)
            if pid:
                break
            if time.monotonic() > deadline:
                os.killpg(process.pid, 9)
            time.sleep(0.2)
    process.returncode = os.waitstatus_to_exitcode(status)
    peak_kb = int(report.read_text()) if report.exists() else usage.ru_maxrss
    lines = log.read_text(encoding="utf-8", errors="replace").strip().splitlines()
    return (process.returncode, peak_kb / 1024, time.monotonic() - started,
            lines[-1].strip() if lines else "")


def audit_run(registry: Path, warehouse: Path, env: dict[str, str], log: Path,
              subjects: list[str]) -> RunMeasure:
    """One ``lupa run`` (real Airflow) of ``subjects``, measured."""
    command = [sys.executable, "-m", "lupa.cli", "run", "--registry", str(registry),
               "--warehouse", str(warehouse), "--as-of", AS_OF.isoformat(),
               "--subjects", ",".join(subjects), "--delay-seconds", "0.05"]
    status, peak, seconds, last = run_measured(command, env, log)
    failed = []
    text = log.read_text(encoding="utf-8", errors="replace")
    for line in text.splitlines():
        if "failed tasks:" in line:
            failed = [t.strip() for t in line.split("failed tasks:", 1)[1].split("(")[0]
                      .split(",") if t.strip() and t.strip() != "-"]
    return RunMeasure(last, status == 0, failed, round(peak, 1), round(seconds, 1))


@dataclass
class FaultRow:
    fault: str
    expected: str
    observed: str
    run_completed: bool
    classified: bool
    requests: int
    peak_mb: float
    seconds: float
    differences: list[str]

    @property
    def handled(self) -> bool:
        return self.run_completed and self.classified and self.peak_mb < MEMORY_BOUND_MB


def _observed_text(outcome: PortalOutcome) -> str:
    codes = ", ".join(f"{code} ×{n}" if n > 1 else code
                      for code, n in sorted(outcome.observed_codes.items()))
    return codes or "no finding"


def _differences(outcome: PortalOutcome) -> list[str]:
    out = []
    if outcome.statuses_correct != outcome.pairs:
        out.append(f"statuses {outcome.statuses_correct}/{outcome.pairs}")
    out += [f"missing {code} {oid or '(portal)'}" for oid, code in outcome.missing[:5]]
    out += [f"unexpected {code} {oid or '(portal)'}" for oid, code in outcome.unexpected[:5]]
    return out


def row_for(outcome: PortalOutcome, measure: RunMeasure) -> FaultRow:
    return FaultRow(outcome.fault, outcome.expected, _observed_text(outcome),
                    measure.completed and not measure.failed_tasks, outcome.classified,
                    outcome.requests, measure.peak_mb, measure.seconds, _differences(outcome))


def format_row(row: FaultRow) -> str:
    """The row's line, then one line per difference from the ground truth."""
    line = (f"{row.fault:<22}{row.expected[:77]:<78}{row.observed[:43]:<44}"
            f"{'yes' if row.run_completed else 'NO':>5}{'yes' if row.handled else 'NO':>4}"
            f"{row.requests:>9}{row.peak_mb:>9.0f}{row.seconds:>8.1f}")
    return "\n".join([line] + [f"{'':<22}  ! {text}" for text in row.differences])


def format_table(rows: list[FaultRow]) -> str:
    head = (f"{'fault':<22}{'expected outcome':<78}{'observed findings':<44}"
            f"{'run':>5}{'ok':>4}{'requests':>9}{'peak MB':>9}{'time s':>8}")
    return "\n".join([head, "-" * len(head)] + [format_row(row) for row in rows])


def _run_counts(warehouse: Path, run_id: str) -> tuple[int, int]:
    """(subjects audited, registry rows rejected) of a run, from the ``runs`` table."""
    from warehouse.schema import connect

    with connect(warehouse, read_only=True) as con:
        row = con.execute("SELECT subjects_audited, registry_errors FROM runs "
                          "WHERE run_id = ?", [run_id]).fetchone()
    return (row[0], row[1]) if row else (0, 0)


def format_checks(checks: list[BadInputCheck]) -> str:
    lines = ["", "bad input                                          ok  what Lupa said"]
    lines += [f"{c.what[:50]:<50} {'yes' if c.passed else 'NO':>3}  {c.detail[:110]}"
              for c in checks]
    return "\n".join(lines)


def run_reliability(workdir: Path, only: list[str] | None = None, combined: bool = True,
                    port: int | None = None) -> dict:
    """Serve the catalog, audit every fault (and all of them together); the summary (its
    ``rows`` are ``FaultRow``s and its ``bad_inputs`` ``BadInputCheck``s, the rest JSON)."""
    from lupa.demo import free_port
    from testbed.fault_catalog import BASE, expected_outcome, fault_of
    from testbed.server import start_subprocess

    port = port or free_port()
    workdir.mkdir(parents=True, exist_ok=True)
    env = _environment(workdir / "home", port, "127.31.0.0/24")
    warehouse = workdir / "reliability.duckdb"
    rows: list[FaultRow] = []
    combined_row: dict | None = None
    started = time.monotonic()
    with start_subprocess(0, 0, workdir / "catalog", port=port, base=BASE,
                          faults=True) as served:
        registry = served.out_dir / "registry.csv"
        truth = served.out_dir / "ground_truth"
        faults = {p.subject.subject_id: fault_of(p) for p in served.network.portals
                  if not only or fault_of(p) in only}
        texts = {f: expected_outcome(f) for f in faults.values()}
        for sid, fault in faults.items():
            measure = audit_run(registry, warehouse, env, workdir / f"run-{fault}.log", [sid])
            outcome = compare_portals(warehouse, measure.run_id, truth, {sid: fault},
                                      texts)[sid] if measure.completed else \
                PortalOutcome(fault, sid, texts[fault])
            rows.append(row_for(outcome, measure))
            print(format_row(rows[-1]).split("\n", 1)[0], flush=True)  # progress
        checks, with_bad_rows = check_bad_input(registry, workdir / "bad-input")
        if combined:
            # every fault at once, from the registry with the bad rows: they are reported,
            # every good subject is audited
            measure = audit_run(with_bad_rows, warehouse, env, workdir / "run-all.log", [])
            outcomes = compare_portals(warehouse, measure.run_id, truth, faults, texts) \
                if measure.completed else {}
            audited, rejected = _run_counts(warehouse, measure.run_id) \
                if measure.completed else (0, 0)
            combined_row = {
                "run_completed": measure.completed and not measure.failed_tasks,
                "faults_classified": sum(o.classified for o in outcomes.values()),
                "peak_mb": measure.peak_mb, "seconds": measure.seconds,
                "unclassified": sorted(o.fault for o in outcomes.values() if not o.classified),
                "subjects_audited": audited, "registry_rows_rejected": rejected,
            }
            checks.append(BadInputCheck(
                "audit of the registry with the bad rows (Airflow)",
                audited == len(served.network.portals) and rejected == bad_row_count(),
                f"{audited} subjects audited, {rejected} rows rejected"))
    handled = [r for r in rows if r.handled]
    print(format_checks(checks), flush=True)
    return {
        "bad_inputs_tried": len(checks),
        "bad_inputs_handled": sum(c.passed for c in checks),
        "bad_inputs": checks,
        "faults_tried": len(rows),
        "faults_handled": len(handled),
        "runs_completed": sum(r.run_completed for r in rows),
        "memory_bound_mb": MEMORY_BOUND_MB,
        "max_peak_mb": max((r.peak_mb for r in rows), default=0.0),
        "total_seconds": round(time.monotonic() - started, 1),
        "not_handled": [r.fault for r in rows if not r.handled],
        "combined_run": combined_row,
        "rows": rows,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="lupa reliability",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--only", help="comma-separated faults to try (default all)")
    parser.add_argument("--no-combined", action="store_true",
                        help="skip the run of every fault together")
    parser.add_argument("--workdir", help="where runs, logs and the warehouse go "
                        "(default a new temporary folder)")
    args = parser.parse_args(argv)
    workdir = Path(args.workdir or tempfile.mkdtemp(prefix="lupa-reliability-"))
    only = [f.strip() for f in args.only.split(",")] if args.only else None
    print(f"lupa reliability: the fault catalog, one Airflow run per fault; logs in {workdir}",
          flush=True)
    summary = run_reliability(workdir, only, combined=not args.no_combined)
    rows = summary["rows"]
    print()
    print(format_table(rows))
    if summary["combined_run"] is not None:
        c = summary["combined_run"]
        print(f"\nAll faults in one run: completed {'yes' if c['run_completed'] else 'NO'}, "
              f"{c['faults_classified']}/{len(rows)} classified, peak {c['peak_mb']:.0f} MB, "
              f"{c['seconds']:.0f} s")
    print(f"\n{summary['faults_handled']}/{summary['faults_tried']} faults handled "
          f"(memory bound {MEMORY_BOUND_MB} MB per run)")
    print(f"{summary['bad_inputs_handled']}/{summary['bad_inputs_tried']} bad inputs refused "
          "clearly with the good kept")
    print(json.dumps({k: v for k, v in summary.items() if k not in ("rows", "bad_inputs")},
                     ensure_ascii=False))
    ok = summary["faults_handled"] == summary["faults_tried"] and summary[
        "bad_inputs_handled"] == summary["bad_inputs_tried"] and (
        summary["combined_run"] is None or (summary["combined_run"]["run_completed"]
                                            and not summary["combined_run"]["unclassified"]))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
