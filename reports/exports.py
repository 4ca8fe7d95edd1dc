"""Findings and scores of a run as CSV and Parquet, for spreadsheets and analysts.

The CSV files are for spreadsheets: UTF-8 with a BOM (so Excel shows accents), lists
flattened to ``a; b``, and every text cell that a spreadsheet would take for a formula
(``=``, ``+``, ``-``, ``@``, tab or carriage return first) prefixed with an apostrophe,
because portal-supplied text ends up in names, messages and URLs. The Parquet files keep
the warehouse's types and values unchanged (spreadsheets do not evaluate formulas in them).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb

BOM = "\ufeff".encode()
# A cell a spreadsheet would evaluate: formula characters (ASCII or full-width) after
# optional blanks, or a leading tab / carriage return / line feed.
FORMULA_START = r"^(\s*[=+\-@＝＋－＠]|[\t\r\n])"

# name -> query over the run (parameter: run_id); column names are the warehouse's.
EXPORTS: dict[str, str] = {
    "puntajes": """
        SELECT sc.run_id, r.as_of, sc.subject_id, s.name, s.acronym, s.level, s.state,
               s.subject_type, sc.index_0_100, sc.band, sc.compliance, sc.usefulness,
               sc.presence, sc.actualizacion, sc.confiabilidad, sc.formato, sc.apertura,
               sc.validez, sc.enlaces, sc.obligations_applicable, sc.obligations_published,
               sc.findings, sc.rank_national, sc.rank_type, sc.rank_state,
               h.previous_run_id, h.previous_index, h.index_change
        FROM scores AS sc
        JOIN runs AS r USING (run_id)
        LEFT JOIN subjects AS s USING (subject_id)
        LEFT JOIN v_score_history AS h USING (run_id, subject_id)
        WHERE sc.run_id = $run_id
        ORDER BY sc.rank_national, sc.subject_id""",
    "obligaciones": """
        SELECT o.run_id, o.subject_id, s.name AS subject_name, o.obligation_id,
               ob.title AS obligation_title, o.status, o.weight, o.presencia,
               o.actualizacion, o.confiabilidad, o.formato, o.apertura, o.validez,
               o.enlaces, o.cumplimiento, o.utilidad, o.score, o.points_lost, o.reasons,
               c.evidence_url, c.latest_period_end, c.due_period_end, c.periods_behind,
               c.missing_years
        FROM obligation_scores AS o
        JOIN runs AS r USING (run_id)
        LEFT JOIN subjects AS s USING (subject_id)
        LEFT JOIN obligations AS ob ON ob.law = r.law AND ob.obligation_id = o.obligation_id
        LEFT JOIN obligation_checks AS c
               ON c.run_id = o.run_id AND c.subject_id = o.subject_id
              AND c.obligation_id = o.obligation_id
        WHERE o.run_id = $run_id
        ORDER BY o.subject_id, o.obligation_id""",
    "hallazgos": """
        SELECT finding_id, run_id, as_of, subject_id, subject_name, acronym, level, state,
               subject_type, obligation_id, obligation_title, code, severity, message,
               evidence_url
        FROM v_findings
        WHERE run_id = $run_id
        ORDER BY subject_id, severity_rank, obligation_id NULLS FIRST, code, finding_id""",
}


def write_exports(con: duckdb.DuckDBPyConnection, run_id: str, dest: Path) -> list[Path]:
    """Write every export of ``run_id`` as ``dest/<name>.csv`` and ``.parquet``."""
    dest.mkdir(parents=True, exist_ok=True)
    written = []
    for name, query in EXPORTS.items():
        parquet = dest / f"{name}.parquet"
        con.execute(f"COPY ({query}) TO '{_sql_path(parquet)}' (FORMAT parquet)",
                    {"run_id": run_id})
        csv = dest / f"{name}.csv"
        _write_csv(con, spreadsheet_safe(con, query), run_id, csv)
        written += [csv, parquet]
    return written


def spreadsheet_safe(con: duckdb.DuckDBPyConnection, query: str) -> str:
    """``query`` with lists flattened and every text column neutralised for spreadsheets."""
    described = con.execute(f"DESCRIBE ({query})", {"run_id": "\x00"}).fetchall()
    columns = []
    for name, kind, *_ in described:
        column = f'"{name}"'
        if kind.endswith("[]"):
            column = f"array_to_string({column}, '; ')"
            kind = "VARCHAR"
        if kind == "VARCHAR":
            column = (f"CASE WHEN regexp_matches({column}, '{FORMULA_START}') "
                      f"THEN '''' || {column} ELSE {column} END")
        columns.append(f'{column} AS "{name}"')
    return f"SELECT {', '.join(columns)} FROM ({query})"


def neutralise(value: str) -> str:
    """The same rule in Python (for text written outside DuckDB)."""
    import re

    return "'" + value if re.match(FORMULA_START, value) else value


def _write_csv(con: duckdb.DuckDBPyConnection, query: str, run_id: str, path: Path) -> None:
    body = path.with_suffix(".body.csv")
    con.execute(f"COPY ({query}) TO '{_sql_path(body)}' (FORMAT csv, HEADER true)",
                {"run_id": run_id})
    with path.open("wb") as out, body.open("rb") as src:
        out.write(BOM)
        shutil.copyfileobj(src, out)
    body.unlink()


def _sql_path(path: Path) -> str:
    return str(path).replace("'", "''")
