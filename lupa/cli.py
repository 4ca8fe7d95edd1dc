"""The ``lupa`` command (DESIGN section 5)."""

from __future__ import annotations

import argparse
import os
import sys
from dataclasses import replace
from pathlib import Path

from lupa.config import Settings
from lupa.demo import DEMO_SEED, DEMO_SIZE
from warehouse.target import describe, is_lake, resolve_target


def _settings(args: argparse.Namespace) -> Settings:
    settings = Settings.from_env()
    if getattr(args, "warehouse", None):
        warehouse = resolve_target(args.warehouse)
        settings = replace(settings, warehouse=warehouse if is_lake(warehouse) else Path(warehouse))
    return settings


def _print_rows(settings: Settings, run_id: str) -> None:
    from warehouse.schema import connect

    with connect(settings.warehouse, read_only=True) as con:
        statuses = con.execute(
            "SELECT status, count(*) FROM obligation_checks WHERE run_id = ? GROUP BY 1 "
            "ORDER BY 2 DESC", [run_id]).fetchall()
        codes = con.execute(
            "SELECT code, count(*) FROM findings WHERE run_id = ? GROUP BY 1 ORDER BY 2 DESC",
            [run_id]).fetchall()
        subjects = con.execute("SELECT subjects_audited, registry_errors, status FROM runs "
                               "WHERE run_id = ?", [run_id]).fetchone()
        index = con.execute("SELECT round(avg(index_0_100), 1), round(median(index_0_100), 1) "
                            "FROM scores WHERE run_id = ?", [run_id]).fetchone()
        bands = con.execute(
            "SELECT b.band, count(s.subject_id) FROM score_bands b LEFT JOIN scores s "
            "ON s.run_id = b.run_id AND s.band = b.band WHERE b.run_id = ? "
            "GROUP BY b.band, b.min_index ORDER BY b.min_index DESC", [run_id]).fetchall()
    if subjects:
        print(f"Subjects audited: {subjects[0]}  (registry rows rejected: {subjects[1]}; "
              f"run status: {subjects[2]})")
    print("Obligation checks: " + ", ".join(f"{s} {n}" for s, n in statuses))
    print("Findings: " + ", ".join(f"{c} {n}" for c, n in codes))
    if index and index[0] is not None:
        print(f"Índice Lupa: mean {index[0]}, median {index[1]} (0-100); bands: "
              + ", ".join(f"{b} {n}" for b, n in bands))


def allow_private_networks_in_process() -> None:
    """The operator asked for it on the command line: the in-process tasks read it from the
    installation settings (a DAG param alone cannot open private addresses)."""
    os.environ["LUPA_ALLOW_PRIVATE_NETWORKS"] = "1"


def cmd_run(args: argparse.Namespace) -> int:
    from lupa.airflow_runner import run_dag

    if args.allow_private_networks:
        allow_private_networks_in_process()
    settings = _settings(args)
    conf = {
        "registry": str(Path(args.registry).expanduser().resolve()),
        "allow_private_networks": bool(args.allow_private_networks),
        "warehouse": str(settings.warehouse),
        "as_of": args.as_of or "",
        "law": args.law or settings.law,
        "subjects": args.subjects.split(",") if args.subjects else [],
        "shard_size": args.shard_size or settings.shard_size,
        "shard_count": args.shard_count,  # None: LUPA_SHARD_COUNT, else by shard size
        "delay_seconds": args.delay_seconds,
    }
    if not Path(conf["registry"]).exists():
        print(f"lupa run: registry not found: {conf['registry']}", file=sys.stderr)
        return 2
    result = run_dag(settings, "lupa_audit", conf)
    if result.state != "success":
        print(f"Run {result.run_id} ended {result.state}; failed tasks: "
              f"{', '.join(result.failed_tasks) or '-'} (their output is above)",
              file=sys.stderr)
    else:
        _print_rows(settings, result.run_id)
        print(f"Warehouse: {settings.warehouse}")
        # dag.test does not follow asset schedules: lupa_reports runs under a scheduler only
        print(f"Reports: lupa report --warehouse {settings.warehouse}")
    print(result.run_id)
    return 0 if result.state == "success" else 1


def cmd_demo(args: argparse.Namespace) -> int:
    from lupa.demo import run_demo
    from lupa.evaluation import format_evaluation

    allow_private_networks_in_process()  # the testbed lives on loopback
    settings = _settings(args)
    result = run_demo(settings, seed=args.seed, size=args.size, as_of=args.as_of)
    if result.state != "success":
        print(f"Demo run {result.run_id} ended {result.state}; failed tasks: "
              f"{', '.join(result.failed_tasks) or '-'} (their output is above)",
              file=sys.stderr)
        return 1
    print()
    _print_rows(settings, result.run_id)
    print(format_evaluation(result.evaluation))
    print(f"Time: {result.seconds:.0f} s (testbed start, Airflow runs of lupa_audit and "
          "lupa_reports, evaluation)")
    print(f"Run id: {result.run_id}")
    print(f"Ground truth: {result.testbed_dir / 'ground_truth'}")
    if result.data_docs is not None:
        print(f"Data Docs (Great Expectations): {result.data_docs.as_uri()}")
    print(f"Open the warehouse: .venv/bin/duckdb -readonly {result.warehouse}")
    print(f"Warehouse: {result.warehouse}")
    if result.overview is None:
        print(f"The reports DAG failed ({', '.join(result.report_failed_tasks or []) or '-'});"
              " rebuild them with `lupa report`", file=sys.stderr)
        return 1
    print(f"Exports (CSV, Parquet): {result.overview.parent / 'datos'}")
    print(f"Report (overview page): {result.overview}")
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    from reports.build import ReportError, build_reports
    from warehouse.schema import WarehouseError

    settings = _settings(args)
    out = Path(args.out).expanduser() if args.out else settings.reports_dir
    try:
        build = build_reports(settings.warehouse, out, args.run)
    except (ReportError, WarehouseError) as exc:
        print(f"lupa report: {exc}", file=sys.stderr)
        return 2
    print(f"Run {build.run_id}: {build.subjects} subject pages; exports in "
          f"{build.out_dir / 'datos'}")
    print(build.overview)
    return 0


def cmd_score(args: argparse.Namespace) -> int:
    from audit.scoring import ScoringConfigError, load_scoring
    from warehouse.schema import WarehouseError
    from warehouse.scoring import rescore

    settings = _settings(args)
    try:
        config = load_scoring(args.scoring)
        run_id, count = rescore(settings.warehouse, args.run, config)
    except (ScoringConfigError, WarehouseError, LookupError) as exc:
        print(f"lupa score: {exc}", file=sys.stderr)
        return 2
    print(f"Scored run {run_id}: {count} subjects with {config.source} "
          f"(version {config.version or '-'})")
    return 0


def cmd_evidence(args: argparse.Namespace) -> int:
    from lupa.evidence import NoEvidence, default_name, describe, find_evidence
    from warehouse.schema import WarehouseError

    settings = _settings(args)
    try:
        found = find_evidence(settings.warehouse, args.finding_id)
    except (NoEvidence, WarehouseError) as exc:
        print(f"lupa evidence: {exc}", file=sys.stderr)
        return 2
    out = Path(args.out) if args.out else Path(default_name(found))
    out.write_bytes(found.evidence.payload)
    for line in describe(found):
        print(line)
    print(f"Written: {out} ({len(found.evidence.payload)} bytes)")
    return 0 if found.verified else 3


def cmd_prune(args: argparse.Namespace) -> int:
    from lupa.retention import prune_runs
    from warehouse.schema import WarehouseError

    settings = _settings(args)
    keep = args.keep or settings.retention_runs
    if keep < 1:
        print("lupa prune: say how many runs to keep (--keep N or LUPA_RETENTION_RUNS)",
              file=sys.stderr)
        return 2
    try:
        report = prune_runs(settings.home, settings.warehouse, keep, dry_run=args.dry_run)
    except WarehouseError as exc:
        print(f"lupa prune: {exc}", file=sys.stderr)
        return 2
    verb = "Would remove" if args.dry_run else "Removed"
    for directory in report.removed:
        print(f"{verb} {directory}")
    print(f"{verb} {len(report.removed)} run directories ({report.freed_bytes / 2**20:.1f} MB); "
          f"kept the latest {len(report.kept)} successful runs and what they refer to")
    return 0


def cmd_evaluate(args: argparse.Namespace) -> int:
    from lupa.evaluation import evaluate, format_evaluation

    settings = _settings(args)
    print(format_evaluation(evaluate(settings.warehouse, args.run_id, args.ground_truth)))
    return 0


def cmd_migrate(args: argparse.Namespace) -> int:
    from warehouse.schema import connect

    settings = _settings(args)
    with connect(settings.warehouse) as con:  # a file's folder is created by connect
        version = con.execute("SELECT max(version) FROM schema_migrations").fetchone()[0]
    print(f"{describe(settings.warehouse)}: schema version {version}")
    return 0


def cmd_inspect(args: argparse.Namespace) -> int:
    import json

    from lupa.inspect import InspectError, format_report, inspect_target

    try:
        report = inspect_target(args.target, allow_private_networks=args.allow_private_networks)
    except InspectError as exc:
        print(f"lupa inspect: {exc}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(report, ensure_ascii=False, indent=1, default=str))
    else:
        print(format_report(report))
    return 0


def cmd_testbed(args: argparse.Namespace, rest: list[str]) -> int:
    from testbed.cli import main as testbed_main

    return testbed_main(rest, prog="lupa testbed")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="lupa", description="Audit Mexico's transparency "
                                     "portals (Airflow + DuckDB).")
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="audit a registry through the lupa_audit DAG")
    run.add_argument("--registry", required=True, help="registry CSV (DESIGN section 4)")
    run.add_argument("--warehouse", help="DuckDB file (default $LUPA_HOME/warehouse/lupa.duckdb)")
    run.add_argument("--as-of", help="YYYY-MM-DD: 'today' for freshness rules")
    run.add_argument("--law", help="obligation catalog (default LGTAIP-2015)")
    run.add_argument("--subjects", help="comma-separated subject ids to audit (default all)")
    run.add_argument("--shard-size", type=int, help="subjects per harvest task")
    run.add_argument("--shard-count", type=int,
                     help="harvest tasks (wins over --shard-size; balanced by expected work)")
    run.add_argument("--delay-seconds", type=float, help="politeness delay per host")
    run.add_argument("--allow-private-networks", action="store_true",
                     help="allow loopback/private/link-local portal addresses (testbeds)")
    run.set_defaults(func=cmd_run)

    demo = sub.add_parser("demo", help="run the audit on the bundled testbed and score it")
    demo.add_argument("--size", type=int, default=DEMO_SIZE, help="testbed portals (default "
                      f"{DEMO_SIZE})")
    demo.add_argument("--seed", type=int, default=DEMO_SEED, help="testbed seed (default "
                      f"{DEMO_SEED})")
    demo.add_argument("--as-of")
    demo.add_argument("--warehouse")
    demo.set_defaults(func=cmd_demo)

    ev = sub.add_parser("evaluate", help="compare a run with a testbed's ground truth")
    ev.add_argument("--run-id", required=True)
    ev.add_argument("--ground-truth", required=True, help="the testbed's ground_truth/ folder")
    ev.add_argument("--warehouse")
    ev.set_defaults(func=cmd_evaluate)

    ins = sub.add_parser("inspect", help="what Lupa sees in one published file")
    ins.add_argument("target", metavar="FILE_OR_URL")
    ins.add_argument("--json", action="store_true", help="machine-readable output")
    ins.add_argument("--allow-private-networks", action="store_true",
                     help="allow a loopback/private URL (testbeds)")
    ins.set_defaults(func=cmd_inspect)

    rep = sub.add_parser("report", help="build the audit reports (HTML, CSV, Parquet)")
    rep.add_argument("--warehouse", help="DuckDB file (default $LUPA_HOME/warehouse/lupa.duckdb)")
    rep.add_argument("--out", help="report directory (default LUPA_REPORTS_DIR or "
                     "$LUPA_HOME/reports); replaced as a whole")
    rep.add_argument("--run", help="run id (default the latest successful run)")
    rep.set_defaults(func=cmd_report)

    evi = sub.add_parser("evidence", help="write the archived response behind a finding "
                         "and check its digest")
    evi.add_argument("finding_id")
    evi.add_argument("--out", help="file to write the response body to (default "
                     "evidencia-<id>.<ext> here)")
    evi.add_argument("--warehouse")
    evi.set_defaults(func=cmd_evidence)

    sco = sub.add_parser("score", help="(re)compute a run's scores with the scoring file")
    sco.add_argument("--warehouse")
    sco.add_argument("--run", help="run id (default the latest successful run)")
    sco.add_argument("--scoring", help="scoring TOML (default LUPA_SCORING or the bundled "
                     "audit/scoring.toml)")
    sco.set_defaults(func=cmd_score)

    pru = sub.add_parser("prune", help="remove old run directories (shards, datasets, WARC), "
                         "keeping what recent runs refer to")
    pru.add_argument("--keep", type=int, help="successful runs to keep (default "
                     "LUPA_RETENTION_RUNS)")
    pru.add_argument("--dry-run", action="store_true", help="only list what would go")
    pru.add_argument("--warehouse")
    pru.set_defaults(func=cmd_prune)

    mig = sub.add_parser("migrate", help="create or upgrade the warehouse schema")
    mig.add_argument("--warehouse")
    mig.set_defaults(func=cmd_migrate)

    tb = sub.add_parser("testbed", help="the simulated portal network (serve, generate)",
                        add_help=False)
    tb.set_defaults(func=None)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["testbed"]:
        return cmd_testbed(argparse.Namespace(), argv[1:])
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
