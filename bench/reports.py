"""Benchmark: scoring in SQL and building the reports, at a scale set by --subjects.

Writes a synthetic warehouse (deterministic seed): N subjects of every type and state, each
with the obligations of the catalog that apply to it and statuses and findings drawn at the
rates the testbed shows; then times ``compute_scores`` (the SQL macros of migration 0003)
and ``build_reports`` (every page, chart and export). Prints the figures and, as its last
line, one JSON object with all of them.
Usage: .venv/bin/python bench/reports.py [--subjects 500] [--seed 7] [--scoring-only]
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import sys
import tempfile
import time
from pathlib import Path

import pyarrow as pa

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from audit.catalog import load_catalog  # noqa: E402
from audit.findings import SEVERITY, Code  # noqa: E402
from reports.build import build_reports  # noqa: E402
from warehouse.schema import connect  # noqa: E402
from warehouse.scoring import compute_scores  # noqa: E402

TYPES = ("ejecutivo", "legislativo", "judicial", "autonomo", "universidad",
         "partido_politico", "fideicomiso", "sindicato")
STATES = ("Jalisco", "Veracruz", "Oaxaca", "Sonora", "Yucatán", "Ciudad de México", None)
# status, probability (present takes the rest)
STATUSES = (("missing", 0.18), ("justified", 0.03), ("blocked", 0.04), ("unreachable", 0.04))
# obligation-level finding codes on present obligations, probability each
PRESENT_FINDINGS = ((Code.NOT_MACHINE_READABLE, 0.25), (Code.OUTDATED, 0.15),
                    (Code.HARD_TO_FIND, 0.05), (Code.DATA_QUALITY, 0.03),
                    (Code.MISSING_COLUMNS, 0.03), (Code.LINK_BROKEN, 0.02),
                    (Code.DEAD_HYPERLINKS, 0.02), (Code.FORMAT_MISMATCH, 0.02))


def synthesise(path: Path, subjects: int, seed: int) -> dict:
    rng = random.Random(seed)
    catalog = load_catalog("LGTAIP-2015")
    con = connect(path)
    con.execute("INSERT INTO runs (run_id, started_at, finished_at, status, as_of, law) VALUES "
                "('bench', '2025-11-15 04:00', '2025-11-15 06:00', 'success', '2025-11-15', "
                "'LGTAIP-2015')")
    con.executemany("INSERT INTO obligations (law, obligation_id, article, title) "
                    "VALUES ('LGTAIP-2015', ?, ?, ?)",
                    [[o.obligation_id, o.article, o.title] for o in catalog.obligations])
    subject_rows, checks, findings = [], [], []
    for i in range(subjects):
        sid, kind, state = f"S{i:05d}", TYPES[i % len(TYPES)], rng.choice(STATES)
        level = "federal" if state is None else "estatal"
        subject_rows.append([sid, f"Sujeto obligado de prueba {i}", level, state, kind,
                             f"https://portal{i}.example.org/"])
        for o in catalog.obligations:
            if o.article not in (70, {"ejecutivo": 71, "legislativo": 72, "judicial": 73,
                                      "autonomo": 74, "universidad": 75, "partido_politico": 76,
                                      "fideicomiso": 77, "sindicato": 79}[kind]):
                continue
            draw, status = rng.random(), "present"
            for name, p in STATUSES:
                if draw < p:
                    status = name
                    break
                draw -= p
            behind = rng.choice((1, 1, 2, 3)) if status == "present" else None
            checks.append(["bench", sid, o.obligation_id, status, behind,
                           f"https://portal{i}.example.org/{o.obligation_id}"])
            codes = ([Code.OBLIGATION_MISSING] if status == "missing" else
                     [c for c, p in PRESENT_FINDINGS if rng.random() < p]
                     if status == "present" else [])
            for code in codes:
                findings.append([f"{sid}-{o.obligation_id}-{code.value}", "bench", sid,
                                 o.obligation_id, code.value, SEVERITY[code].value,
                                 f"Hallazgo {code.value} en {o.obligation_id}.",
                                 f"https://portal{i}.example.org/{o.obligation_id}/a.pdf"])
    insert(con, "subjects", ["subject_id", "name", "level", "state", "subject_type",
                             "portal_url"], subject_rows)
    insert(con, "obligation_checks", ["run_id", "subject_id", "obligation_id", "status",
                                      "periods_behind", "evidence_url"], checks)
    insert(con, "findings", ["finding_id", "run_id", "subject_id", "obligation_id", "code",
                             "severity", "message", "evidence_url"], findings)
    con.close()
    return {"subjects": subjects, "obligation_checks": len(checks), "findings": len(findings)}


def insert(con, table: str, columns: list[str], rows: list[list]) -> None:
    batch = pa.Table.from_pylist([dict(zip(columns, row, strict=True)) for row in rows])
    con.register("batch", batch)
    con.execute(f"INSERT INTO {table} ({', '.join(columns)}) SELECT * FROM batch")
    con.unregister("batch")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subjects", type=int, default=500)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--scoring-only", action="store_true",
                        help="time the scoring SQL only (national scale without the pages)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="lupa-bench-reports-") as tmp:
        path = Path(tmp) / "lupa.duckdb"
        started = time.perf_counter()
        sizes = synthesise(path, args.subjects, args.seed)
        synthesise_s = time.perf_counter() - started
        con = connect(path)
        started = time.perf_counter()
        con.begin()
        compute_scores(con, "bench")
        con.commit()
        scoring_s = time.perf_counter() - started
        con.close()
        figures = {
            **sizes,
            "synthesise_s": round(synthesise_s, 2),
            "scoring_s": round(scoring_s, 3),
            "obligation_rows_scored_per_s": round(sizes["obligation_checks"] / scoring_s),
        }
        if not args.scoring_only:
            started = time.perf_counter()
            build = build_reports(path, Path(tmp) / "informe")
            report_s = time.perf_counter() - started
            pages = sum(p.stat().st_size for p in (Path(tmp) / "informe").rglob("*.html"))
            figures.update({
                "report_s": round(report_s, 2),
                "subject_pages_per_s": round(build.subjects / report_s, 1),
                "ms_per_subject_page": round(1000 * report_s / build.subjects, 1),
                "html_mb": round(pages / 2**20, 1),
            })
    figures["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    print(f"Synthetic warehouse: {sizes['subjects']} subjects, {sizes['obligation_checks']} "
          f"obligation checks, {sizes['findings']} findings ({synthesise_s:.1f} s)")
    print(f"Scoring (SQL): {scoring_s:.2f} s = {figures['obligation_rows_scored_per_s']} "
          "obligation rows/s")
    if "report_s" in figures:
        print(f"Reports: {figures['report_s']:.1f} s for {sizes['subjects']} subject pages + "
              f"overview + exports = {figures['ms_per_subject_page']} ms/page "
              f"({figures['html_mb']} MB of HTML)")
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
