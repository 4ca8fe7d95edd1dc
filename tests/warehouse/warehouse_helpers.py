"""Helpers for the warehouse tests: small synthetic runs built from the real producer types
(``Subject``, ``Obligation``, ``Finding``, ``FetchResult``), so that a change in what they
emit shows up here."""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import duckdb

from audit.findings import Code, Finding
from audit.obligations import Obligation
from audit.subjects import Subject
from scrapers.results import FetchResult
from warehouse import shards
from warehouse.loader import RUN_SCOPED_TABLES
from warehouse.schema import connect

SUBJECTS = [
    Subject(
        "100",
        "Secretaría de Ejemplo",
        "SE",
        "federal",
        "",
        "ejecutivo",
        "https://se.example.gob.mx/",
    ),
    Subject(
        "200",
        "Municipio de Prueba",
        "",
        "municipal",
        "Veracruz",
        "ejecutivo",
        "https://prueba.example.gob.mx/",
        "https://prueba.example.gob.mx/transparencia",
    ),
    Subject(
        "300",
        "Congreso de Muestra",
        "CM",
        "estatal",
        "Durango",
        "legislativo",
        "https://congreso.example.gob.mx/",
    ),
]

OBLIGATIONS = [
    Obligation("LGTAIP-2015", "70-I", 70, "I", None, "Marco normativo", frozenset({"*"})),
    Obligation(
        "LGTAIP-2015",
        "70-II-A",
        70,
        "II",
        "A",
        "Estructura orgánica",
        frozenset({"*"}),
        keywords=("estructura", "orgánica"),
    ),
    Obligation(
        "LGTAIP-2015",
        "72-I",
        72,
        "I",
        None,
        "Agenda legislativa",
        frozenset({"legislativo"}),
        levels=frozenset({"estatal", "federal"}),
    ),
]


def subject_rows(ids: list[str] | None = None) -> list[dict[str, Any]]:
    return [asdict(s) for s in SUBJECTS if ids is None or s.subject_id in ids]


def obligation_rows() -> list[dict[str, Any]]:
    return [asdict(o) for o in OBLIGATIONS]


def run_dict(run_id: str, day: int = 1) -> dict[str, Any]:
    return {
        "run_id": run_id,
        "started_at": datetime(2026, 11, day, 10, 0, tzinfo=UTC),
        "finished_at": datetime(2026, 11, day, 11, 0, tzinfo=UTC),
        "as_of": date(2026, 11, day),
        "law": "LGTAIP-2015",
        "registry": "registry.csv",
        "subjects_audited": 2,
        "params": {"shard_size": 2, "subset": None},
    }


def write_shard(
    shard_dir: Path,
    run_id: str,
    subject_ids: list[str],
    *,
    note: str = "",
    missing: tuple[str, ...] = ("70-I",),
) -> Path:
    """One shard's files for ``subject_ids``: every obligation checked, ``missing`` ones
    missing (with a finding), one resource and expectation each for the present ones."""
    fetches, checks, resources, findings, expectations = [], [], [], [], []
    for sid in subject_ids:
        home = f"https://{sid}.example.gob.mx/"
        result = FetchResult(
            url=home,
            final_url=home,
            status_code=200,
            content=b"<html>",
            declared_type="text/html",
            fetched_at=datetime(2026, 11, 1, 10, 5, tzinfo=UTC),
        )
        fetches.append(
            {
                **result.fetch_row(),
                "run_id": run_id,
                "subject_id": sid,
                "depth": 0,
                "purpose": "home",
                "evidence_ref": f"warc:{sid}:0",
            }
        )
        for obligation in OBLIGATIONS:
            oid = obligation.obligation_id
            url = f"{home}transparencia/{oid}"
            status = "missing" if oid in missing else "present"
            checks.append(
                {
                    "run_id": run_id,
                    "subject_id": sid,
                    "obligation_id": oid,
                    "status": status,
                    "evidence_url": None if status == "missing" else url,
                    "depth": 2,
                    "via": "number",
                    "note": note or None,
                }
            )
            if status == "missing":
                findings.append(
                    Finding(
                        run_id, sid, oid, Code.OBLIGATION_MISSING, f"No se encontró {oid}{note}"
                    ).as_row()
                )
                continue
            resources.append(
                {
                    "run_id": run_id,
                    "subject_id": sid,
                    "obligation_id": oid,
                    "url": f"{url}.xlsx",
                    "detected_format": "xlsx",
                    "stars": 2,
                    "period_end": date(2026, 9, 30),
                    "rows": 10,
                    "bytes": 2048,
                }
            )
            expectations.append(
                {
                    "run_id": run_id,
                    "subject_id": sid,
                    "obligation_id": oid,
                    "resource_url": f"{url}.xlsx",
                    "suite": "sipot_common",
                    "expectation": "expect_column_values_to_not_be_null",
                    "column_name": "Ejercicio",
                    "success": True,
                    "unexpected_percent": 0.0,
                }
            )
        findings.append(
            Finding(run_id, sid, None, Code.HARD_TO_FIND, f"Portal lento{note}", home).as_row()
        )
    shards.write_table(shard_dir, "subjects", subject_rows(subject_ids))
    shards.write_table(shard_dir, "fetches", fetches)
    shards.write_table(shard_dir, "obligation_checks", checks)
    shards.write_table(shard_dir, "resources", resources)
    shards.write_table(shard_dir, "findings", findings)
    shards.write_table(shard_dir, "expectation_results", expectations)
    return shard_dir


# Columns that record when a load or a scoring happened rather than what it wrote.
TIMES = {"runs": " EXCLUDE (loaded_at)", "scores": " EXCLUDE (computed_at)",
         "score_config": " EXCLUDE (computed_at)"}


def snapshot(db_path: Path, run_id: str | None = None) -> dict[str, list[tuple]]:
    """Every row of every warehouse table but the TIMES columns, sorted; ``run_id`` limits
    run-scoped tables."""
    con = connect(db_path, read_only=True)  # a DuckDB file or a DuckLake
    try:
        out = {}
        for table in (*RUN_SCOPED_TABLES, "subjects", "obligations", "runs"):
            where = " WHERE run_id = ?" if run_id and table in RUN_SCOPED_TABLES else ""
            params = [run_id] if where else []
            exclude = TIMES.get(table, "")
            rows = con.execute(f"SELECT *{exclude} FROM {table}{where}", params).fetchall()
            out[table] = sorted(rows, key=repr)
        return out
    finally:
        con.close()


def run_counts(db_path: Path, run_id: str) -> dict[str, int]:
    con = duckdb.connect(str(db_path), read_only=True)
    try:
        return {
            t: con.execute(f"SELECT count(*) FROM {t} WHERE run_id = ?", [run_id]).fetchone()[0]
            for t in (*RUN_SCOPED_TABLES, "runs")
        }
    finally:
        con.close()
