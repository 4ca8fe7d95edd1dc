"""Benchmark: the national cycle, end to end through Airflow, and its incremental re-run.

Starts the testbed at national size (``--network``, 8,646 portals by default: the whole
institution list, each portal on its own loopback address, all listening), then runs the
``lupa_audit`` DAG through Airflow in this process (``dag.test``: the tasks run one after
another, so Lupa uses one core and the testbed server the other) over ``--subjects`` of them:
all by default, or an evenly spread sample (every k-th registry row, so every subject type and
state keeps its share). The same DAG runs a second time over the unchanged network: the
incremental re-run (conditional requests, unchanged files and their results carried forward).

Per run it reports wall time, CPU seconds of this process (Airflow and every task; the
testbed server's are reported apart), CPU seconds per subject, peak RSS of this process and of
the testbed server (Linux ``VmHWM``), requests and bytes, shards and their balance, presence
accuracy against the testbed's ground truth for the audited subjects, and, when a sample ran,
the national figures projected linearly to all 8,646 subjects (labelled ``projected``: a
sample's wall and CPU seconds per subject times 8,646, its fixed costs spread over its
subjects, so a small sample overestimates; not a measurement).

``--executor celery`` runs the same two runs on Airflow's distributed topology instead
(``lupa.cluster``: PostgreSQL metadata DB, Redis, api-server, scheduler, dag-processor and
``--workers`` Celery workers as local processes, the runs triggered through the REST API), so
shards run in parallel; CPU seconds are then those of every cluster process and its children,
and peak memory, sampled every 2 s during the runs (task processes included), the largest
process's, with the largest sum over the processes alive at once beside it.

Targets (issue 6): the national cycle within 2 hours, peak memory within 4 GB, the incremental
re-run within 20 minutes. ``--profile`` samples the first run with py-spy (every thread,
idle waits left out) and prints the functions that take the most time; ``--profile-gil``
samples only the thread holding the GIL, i.e. where this process's CPU goes (threads
waiting for the GIL otherwise count as busy).
Prints a table and, as its last line, one JSON object with every figure.
Usage: .venv/bin/python bench/national_cycle.py [--subjects 8646] [--network 8646]
       [--seed 2026] [--delay 0.02] [--shard-size 25] [--profile | --profile-gil]
       [--executor dag-test|celery] [--workers 2] [--keep DIR]
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

NATIONAL = 8646
TARGETS = {"wall_s": 2 * 3600, "peak_rss_mb": 4096, "incremental_wall_s": 20 * 60}
BASE = "127.40.0.1"


def sample(registry: Path, subjects: int) -> list[str]:
    """Every k-th subject of the registry (all when ``subjects`` covers it)."""
    with registry.open(encoding="utf-8", newline="") as handle:
        ids = [row["subject_id"] for row in csv.DictReader(handle)]
    if subjects >= len(ids):
        return ids
    step = len(ids) / subjects
    return [ids[int(i * step)] for i in range(subjects)]


def filtered_truth(source: Path, target: Path, wanted: set[str]) -> Path:
    """The ground truth of the audited subjects only (``lupa.evaluation`` reads every row)."""
    target.mkdir(parents=True, exist_ok=True)
    for name in ("expected_checks.csv", "expected_findings.csv"):
        with (source / name).open(encoding="utf-8", newline="") as handle:
            reader = csv.DictReader(handle)
            rows = [row for row in reader if row["subject_id"] in wanted]
            fields = reader.fieldnames
        with (target / name).open("w", encoding="utf-8", newline="") as handle:
            writer = csv.DictWriter(handle, fields)
            writer.writeheader()
            writer.writerows(rows)
    return target


def process_cpu_s(pid: int) -> float:
    """User + system CPU seconds of another process, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def peak_rss_mb(pid: int | str = "self") -> float:
    """A process's peak resident set (VmHWM), in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _proc_stats() -> dict[int, list[str]]:
    """/proc/<pid>/stat fields after the command name, for every live process."""
    stats = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            stats[int(stat.parent.name)] = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:  # exited meanwhile
            continue
    return stats


def descendants(roots: list[int], stats: dict[int, list[str]]) -> set[int]:
    """``roots`` and every live process below them."""
    wanted = set(roots)
    while True:
        grown = wanted | {pid for pid, fields in stats.items() if int(fields[1]) in wanted}
        if grown == wanted:
            return wanted
        wanted = grown


def tree_cpu_s(roots: list[int]) -> float:
    """CPU seconds of ``roots`` and every live descendant, each with its reaped children's
    (utime + stime + cutime + cstime: a finished task process counts once, in its parent)."""
    stats = _proc_stats()
    tick = os.sysconf("SC_CLK_TCK")
    return sum(sum(int(f) for f in stats[pid][11:15]) / tick
               for pid in descendants(roots, stats) if pid in stats)


def own_cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


class Profiler:
    """py-spy sampling this process, for ``--profile``."""

    def __init__(self, out: Path, gil_only: bool = False) -> None:
        self.out = out
        spy = Path(sys.executable).with_name("py-spy")
        self.process = subprocess.Popen(
            [str(spy), "record", "--pid", str(os.getpid()), "--format", "raw", "--rate", "20",
             "--nonblocking", *(["--gil"] if gil_only else []), "--output", str(out)],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)

    def stop(self) -> dict[str, float]:
        self.process.send_signal(2)  # SIGINT: py-spy writes its output and exits
        try:
            self.process.wait(120)
        except subprocess.TimeoutExpired:
            self.process.kill()
        return top_functions(self.out) if self.out.exists() else {}


def top_functions(raw: Path, count: int = 20) -> dict[str, dict[str, float]]:
    """From py-spy's raw (collapsed stack) output, leaving idle waits out: the share of
    samples in which each function (dir/file.py:function) is on the stack ("inclusive") and
    the share in which it is the innermost frame of Lupa's or a library's code ("self"),
    highest first."""
    inclusive: Counter = Counter()
    own: Counter = Counter()
    total = 0
    for line in raw.read_text(errors="replace").splitlines():
        stack, _, samples = line.rpartition(" ")
        if not samples.isdigit():
            continue
        n = int(samples)
        frames = [_frame_name(f) for f in stack.split(";")]
        if _idle(stack.split(";")[-1]):
            continue
        total += n
        for frame in set(frames):
            inclusive[frame] += n
        own[frames[-1]] += n
    if not total:
        return {}
    return {"inclusive": {k: round(n / total, 3) for k, n in inclusive.most_common(count)},
            "self": {k: round(n / total, 3) for k, n in own.most_common(count)}}


def _frame_name(frame: str) -> str:
    # "function (path/to/file.py:123)" -> "file.py:function"
    name, _, where = frame.partition(" (")
    path = where.rstrip(")").rsplit(":", 1)[0]
    return f"{'/'.join(Path(path).parts[-2:])}:{name}"


def _idle(frame: str) -> bool:
    return any(word in frame for word in ("wait (threading", "select (", "_wait_for_tstate",
                                          "poll (", "sleep", "acquire"))


def _audit_conf(settings, registry: Path, wanted: list[str], args) -> dict:
    from testbed.model import AS_OF

    conf = {"registry": str(registry), "allow_private_networks": True,
            "delay_seconds": args.delay, "shard_size": args.shard_size,
            "as_of": AS_OF.isoformat(), "warehouse": str(settings.warehouse)}
    if len(wanted) < NATIONAL:
        conf["subjects"] = wanted
    return conf


def _timings(wall: float, cpu: float, subjects: int) -> dict:
    return {"wall_s": round(wall, 1), "cpu_s": round(cpu, 1),
            "cpu_s_per_subject": round(cpu / subjects, 3),
            "wall_s_per_subject": round(wall / subjects, 3)}


def run(settings, registry: Path, wanted: list[str], args, label: str) -> dict:
    from lupa.airflow_runner import run_dag

    cpu, started = own_cpu_s(), time.monotonic()
    result = run_dag(settings, "lupa_audit", _audit_conf(settings, registry, wanted, args))
    wall, cpu = time.monotonic() - started, own_cpu_s() - cpu
    print(f"{label}: {result.state} in {wall:.0f} s ({cpu:.0f} CPU s)", file=sys.stderr,
          flush=True)
    return {"run_id": result.run_id, "state": result.state, "failed_tasks": result.failed_tasks,
            **_timings(wall, cpu, len(wanted))}


def run_on_cluster(cluster, memory: MemorySampler, settings, registry: Path,
                   wanted: list[str], args, label: str) -> dict:
    run_id = f"bench_{label.replace(' ', '_')}_{int(time.time())}"
    roots = [p.pid for p in cluster.processes.values()]
    cpu, started = tree_cpu_s(roots), time.monotonic()
    cluster.client.trigger("lupa_audit", run_id,
                           _audit_conf(settings, registry, wanted, args))

    def check() -> None:  # every poll: is the cluster alive, and how much memory it holds
        cluster.check()
        memory.sample()

    run = cluster.client.wait_for_run("lupa_audit", run_id, 24 * 3600, check)
    wall, cpu = time.monotonic() - started, tree_cpu_s(roots) - cpu
    instances = cluster.client.task_instances("lupa_audit", run_id)
    failed = [f"{t['task_id']}[{t['map_index']}]" for t in instances if t["state"] == "failed"]
    print(f"{label}: {run['state']} in {wall:.0f} s ({cpu:.0f} CPU s, {args.workers} "
          "workers)", file=sys.stderr, flush=True)
    return {"run_id": run_id, "state": run["state"], "failed_tasks": failed,
            **_timings(wall, cpu, len(wanted)),
            "workers_used": sorted({t["hostname"] for t in instances
                                    if t["task_id"] == "harvest"})}


class MemorySampler:
    """Peak RSS of a cluster's processes and all their descendants — task processes
    included, which exit when their task ends — sampled at each poll of a run (every 2 s):
    the largest single process, and the largest sum over the processes alive together."""

    def __init__(self, cluster) -> None:
        self.roots = [p.pid for p in cluster.processes.values()]
        self.largest_mb = self.together_mb = 0.0

    def sample(self) -> None:
        peaks = []
        for pid in descendants(self.roots, _proc_stats()):
            try:
                peak = peak_rss_mb(pid)
            except OSError:  # exited meanwhile
                continue
            if peak == peak:  # NaN: a process without memory of its own (a zombie)
                peaks.append(peak)
        self.largest_mb = max(self.largest_mb, max(peaks, default=0.0))
        self.together_mb = max(self.together_mb, sum(peaks))


def warehouse_figures(warehouse: Path, run_id: str) -> dict:
    import duckdb

    with duckdb.connect(str(warehouse), read_only=True) as con:
        requests, body, downloaded, revalidated = con.execute(
            "SELECT count(*), coalesce(sum(bytes), 0), coalesce(sum(downloaded_bytes), 0), "
            "count(*) FILTER (not_modified) FROM fetches WHERE run_id = ?", [run_id]).fetchone()
        findings = con.execute("SELECT count(*) FROM findings WHERE run_id = ?",
                               [run_id]).fetchone()[0]
    return {"requests": requests, "body_mb": round(body / 2**20, 1),
            "downloaded_mb": round(downloaded / 2**20, 1), "revalidated_304": revalidated,
            "findings": findings}


def shard_figures(settings, run_id: str) -> dict:
    from lupa.tasks import MANIFEST, run_dir_name

    manifest = json.loads((settings.home / "runs" / run_dir_name(run_id) / MANIFEST).read_text())
    sharding = manifest.get("sharding") or {}
    return {"shards": len(manifest.get("shards", [])),
            "expected_work_max_over_mean": sharding.get("balance")}


def project(part: dict) -> dict:
    """Linear projection of a sample's run to the national size (not a measurement)."""
    return {"wall_s": round(part["wall_s_per_subject"] * NATIONAL),
            "cpu_s": round(part["cpu_s_per_subject"] * NATIONAL)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subjects", type=int, default=NATIONAL,
                        help="subjects to audit (an evenly spread sample when fewer than all)")
    parser.add_argument("--network", type=int, default=NATIONAL,
                        help="portals the testbed serves (8,646: the national network)")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--delay", type=float, default=0.02,
                        help="politeness delay per host (the testbed answers on loopback)")
    parser.add_argument("--shard-size", type=int, default=25)
    parser.add_argument("--profile", action="store_true", help="py-spy the first run")
    parser.add_argument("--profile-gil", action="store_true",
                        help="py-spy the first run, only the thread holding the GIL")
    parser.add_argument("--executor", choices=("dag-test", "celery"), default="dag-test",
                        help="dag.test in this process, or the local Celery topology")
    parser.add_argument("--workers", type=int, default=2, help="Celery workers (--executor "
                        "celery; each runs one task at a time)")
    parser.add_argument("--keep", type=Path, help="keep Lupa's home (runs, warehouse) here")
    args = parser.parse_args(argv)
    if args.executor == "celery" and (args.profile or args.profile_gil):
        parser.error("--profile samples this process: use it with --executor dag-test")

    load_average = [round(x, 2) for x in os.getloadavg()]
    tmp = Path(args.keep or tempfile.mkdtemp(prefix="lupa-bench-national-"))
    tmp.mkdir(parents=True, exist_ok=True)
    os.environ["LUPA_HOME"] = str(tmp / "home")
    os.environ["LUPA_ALLOW_PRIVATE_NETWORKS"] = "1"
    os.environ.setdefault("LUPA_HARVEST_THREADS", "8")
    try:
        figures = measure(args, tmp, load_average)
    finally:
        if args.keep is None:
            shutil.rmtree(tmp, ignore_errors=True)
    print_table(figures)
    print(json.dumps(figures))
    ok = figures["first"]["state"] == "success" and figures["rerun"]["state"] == "success"
    return 0 if ok else 1


def measure(args, tmp: Path, load_average: list[float]) -> dict:
    from dataclasses import replace

    from lupa.config import Settings
    from lupa.demo import free_port
    from lupa.evaluation import evaluate
    from testbed.server import start_subprocess

    settings = Settings.from_env()
    settings = replace(settings, warehouse=tmp / "home" / "warehouse" / "lupa.duckdb")
    figures: dict = {"benchmark": "national_cycle", "network": args.network, "seed": args.seed,
                     "delay_s": args.delay, "shard_size": args.shard_size,
                     "harvest_threads": settings.harvest_threads, "executor": args.executor,
                     "load_average_at_start": load_average}
    if args.executor == "celery":
        figures["workers"] = args.workers
    started = time.monotonic()
    with start_subprocess(seed=args.seed, size=args.network, out_dir=tmp / "testbed",
                          port=free_port(), base=BASE, timeout=600) as testbed:
        figures["testbed_start_s"] = round(time.monotonic() - started, 1)
        registry = Path(testbed.out_dir) / "registry.csv"
        wanted = sample(registry, args.subjects)
        figures["subjects"] = len(wanted)
        server_pid = testbed.process.pid
        profiler = (Profiler(tmp / "profile.txt", gil_only=args.profile_gil)
                    if args.profile or args.profile_gil else None)
        with executor(args, tmp) as cluster:
            memory = MemorySampler(cluster) if cluster is not None else None

            def one(label: str) -> dict:
                if cluster is None:
                    return run(settings, registry, wanted, args, label)
                return run_on_cluster(cluster, memory, settings, registry, wanted, args,
                                      label)

            server_cpu = process_cpu_s(server_pid)
            figures["first"] = one("first run")
            figures["first"]["testbed_cpu_s"] = round(process_cpu_s(server_pid) - server_cpu, 1)
            if profiler:
                figures["profile"] = profiler.stop()
            server_cpu = process_cpu_s(server_pid)
            figures["rerun"] = one("incremental re-run")
            figures["rerun"]["testbed_cpu_s"] = round(process_cpu_s(server_pid) - server_cpu, 1)
            if memory is not None:
                figures["peak_rss_mb"] = round(memory.largest_mb)
                figures["peak_rss_mb_all_processes"] = round(memory.together_mb)
        figures["testbed_peak_rss_mb"] = round(peak_rss_mb(server_pid))
        truth = filtered_truth(Path(testbed.out_dir) / "ground_truth", tmp / "truth",
                               set(wanted))
    figures.setdefault("peak_rss_mb", round(peak_rss_mb()))
    for key in ("first", "rerun"):
        part = figures[key]
        if part["state"] == "success":
            part.update(warehouse_figures(settings.warehouse, part["run_id"]))
            part.update(shard_figures(settings, part["run_id"]))
            part["presence_accuracy"] = round(
                evaluate(settings.warehouse, part["run_id"], truth).accuracy, 4)
    national = figures["subjects"] >= NATIONAL
    first, rerun = figures["first"], figures["rerun"]
    if not national:
        figures["projected_national"] = {
            "first": project(first),
            "rerun": project(rerun),
            "note": "linear in subjects from the sample; not measured"}
    basis = figures.get("projected_national", {"first": first, "rerun": rerun})
    figures["meets_target"] = {
        "wall_s": basis["first"]["wall_s"] <= TARGETS["wall_s"],
        "peak_rss_mb": figures["peak_rss_mb"] <= TARGETS["peak_rss_mb"],
        "incremental_wall_s": basis["rerun"]["wall_s"] <= TARGETS["incremental_wall_s"],
        "measured_at_national_size": national}
    return figures


@contextmanager
def executor(args, tmp: Path):
    """None for dag.test; for ``--executor celery`` a started ``LocalCluster`` (stopped on
    exit) running every task with this benchmark's Lupa settings."""
    if args.executor != "celery":
        yield None
        return
    from lupa.cluster import HARVEST_POOL, ClusterConfig, LocalCluster

    env = {k: v for k, v in os.environ.items() if k.startswith("LUPA_")}
    env.update(LUPA_AUDIT_SCHEDULE="none", LUPA_HARVEST_POOL=HARVEST_POOL,
               LUPA_HARVEST_TASKS=str(args.workers))
    config = ClusterConfig(root=tmp / "cluster", workers=args.workers,
                           pools={HARVEST_POOL: args.workers}, env=env,
                           redis_url="redis://127.0.0.1:6379/14")  # not the tests' database
    with LocalCluster(config) as cluster:
        cluster.client.wait_for_dag("lupa_audit")
        cluster.client.set_paused("lupa_audit", False)
        yield cluster


def print_table(figures: dict) -> None:
    how = ("dag.test in one process" if figures["executor"] == "dag-test"
           else f"CeleryExecutor, {figures['workers']} workers")
    print(f"National cycle: {figures['subjects']:,} of {figures['network']:,} testbed subjects "
          f"(seed {figures['seed']}), delay {figures['delay_s']} s, shards of "
          f"{figures['shard_size']}, {how}; load average at start "
          f"{figures['load_average_at_start']}")
    rows = ("state", "wall_s", "cpu_s", "cpu_s_per_subject", "wall_s_per_subject",
            "testbed_cpu_s", "requests", "downloaded_mb", "revalidated_304", "findings",
            "shards", "expected_work_max_over_mean", "presence_accuracy")
    print(f"{'figure':<30}{'first run':>16}{'incremental':>16}")
    for key in rows:
        print(f"{key:<30}{str(figures['first'].get(key, '')):>16}"
              f"{str(figures['rerun'].get(key, '')):>16}")
    label = ("peak RSS, this process (MB)" if figures["executor"] == "dag-test"
             else "peak RSS, largest process (MB)")
    print(f"{label:<30}{figures['peak_rss_mb']:>16}")
    print(f"{'peak RSS, testbed server (MB)':<30}{figures['testbed_peak_rss_mb']:>16}")
    if "projected_national" in figures:
        p = figures["projected_national"]
        print(f"projected to {NATIONAL:,} subjects (not measured): first run "
              f"{p['first']['wall_s'] / 3600:.1f} h, incremental {p['rerun']['wall_s'] / 60:.0f} "
              f"min, {p['first']['cpu_s'] / 3600:.1f} CPU h")
    print(f"targets (<= 2 h, <= 4 GB, re-run <= 20 min): {figures['meets_target']}")
    for kind, shares in figures.get("profile", {}).items():
        print(f"py-spy, first run, share of busy samples ({kind}):")
        for name, share in shares.items():
            print(f"  {100 * share:5.1f} %  {name}")


if __name__ == "__main__":
    sys.exit(main())
