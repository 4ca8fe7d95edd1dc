"""Every query the report pages need, against the warehouse (read-only).

Functions take the connection and a run id and return plain dicts (column name → value), so
templates can only format. Scores are never recomputed here: indices, sub-indices, bands,
ranks, points lost and changes all come from ``scores``, ``obligation_scores`` and the trend
views of migration 0003. Every query orders its rows fully (with tie-breakers), so the same
warehouse always renders the same pages.

The Spanish vocabularies the pages use (subject types, levels, severities, statuses) live
here too, next to the codes they translate.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

import duckdb

from audit.findings import LABEL_ES, Code

Row = dict[str, Any]

TYPE_ES: dict[str, str] = {
    "ejecutivo": "Poder Ejecutivo",
    "legislativo": "Poder Legislativo",
    "judicial": "Poder Judicial",
    "autonomo": "Organismo autónomo",
    "universidad": "Universidad pública",
    "partido_politico": "Partido político",
    "fideicomiso": "Fideicomiso o fondo público",
    "sindicato": "Sindicato",
    "autoridad_laboral": "Autoridad laboral",
    "persona_fisica_moral": "Persona física o moral",
}
LEVEL_ES: dict[str, str] = {"federal": "Federal", "estatal": "Estatal", "municipal": "Municipal"}
SEVERITY_ES: dict[str, str] = {
    "critical": "crítica", "high": "alta", "medium": "media", "low": "baja", "info": "informativa",
}
# The labels of v_obligation_status.status_es, for statuses read from other tables.
STATUS_ES: dict[str, str] = {
    "present": "Publicada",
    "justified": "Ausencia justificada",
    "missing": "No publicada",
    "blocked": "Acceso bloqueado",
    "unreachable": "Inaccesible",
    "not_applicable": "No aplica",
}
# Subjects without a state (federal ones) are grouped, and ranked by rank_state, together.
FEDERAL = "Federal"
HISTORY_CODES = (Code.REMOVED_EARLY.value, Code.SILENT_EDIT.value)

# The seven criteria in the order of scores' columns (presencia is scores.presence).
CRITERION_COLUMNS: dict[str, str] = {
    "presencia": "presence", "actualizacion": "actualizacion", "confiabilidad": "confiabilidad",
    "formato": "formato", "apertura": "apertura", "validez": "validez", "enlaces": "enlaces",
}
SUBINDEX_COLUMNS: dict[str, str] = {"cumplimiento": "compliance", "utilidad": "usefulness"}


class RunNotScoredError(ValueError):
    """The run does not exist, or has no scores to report."""


def code_label(code: str) -> str:
    """The Spanish label of a finding code (the code itself if the vocabulary lacks it)."""
    try:
        return LABEL_ES[Code(code)]
    except ValueError:
        return code


def type_label(subject_type: str | None) -> str:
    return TYPE_ES.get(subject_type or "", subject_type or "—")


def state_label(state: str | None) -> str:
    return state if state else FEDERAL


def _rows(con: duckdb.DuckDBPyConnection, sql: str, params: Sequence[Any] = ()) -> list[Row]:
    cur = con.execute(sql, list(params))
    names = [d[0] for d in cur.description]
    return [dict(zip(names, values, strict=True)) for values in cur.fetchall()]


# --- the run -----------------------------------------------------------------------------

def run_info(con: duckdb.DuckDBPyConnection, run_id: str) -> Row:
    """The run's row with its totals; raises ``RunNotScoredError`` (a ValueError) when the
    run is unknown or was not scored."""
    rows = _rows(con, """
        SELECT r.run_id, r.status, r.as_of, r.law, r.started_at, r.finished_at,
               r.subjects_total, r.subjects_audited, r.registry,
               (SELECT COUNT(*) FROM scores AS s WHERE s.run_id = r.run_id) AS scored,
               (SELECT MAX(computed_at) FROM scores AS s WHERE s.run_id = r.run_id)
                   AS computed_at,
               (SELECT version FROM score_config AS c WHERE c.run_id = r.run_id)
                   AS scoring_version
        FROM runs AS r WHERE r.run_id = ?""", [run_id])
    if not rows:
        raise RunNotScoredError(f"run {run_id!r} is not in the warehouse")
    run = rows[0]
    if not run["scored"]:
        raise RunNotScoredError(
            f"run {run_id!r} (status {run['status']}) has no scores; score it first with "
            f"`lupa score --run {run_id}`")
    return run


def totals(con: duckdb.DuckDBPyConnection, run_id: str) -> Row:
    """Headline figures: subjects, obligations verified/published, findings (without the
    informational ones), mean and median index."""
    return _rows(con, """
        SELECT COUNT(*) AS subjects,
               SUM(obligations_applicable) AS obligations_applicable,
               SUM(obligations_published) AS obligations_published,
               (SELECT COUNT(*) FROM findings
                 WHERE run_id = ? AND severity <> 'info') AS findings,
               (SELECT COUNT(DISTINCT subject_id) FROM findings
                 WHERE run_id = ? AND severity <> 'info') AS subjects_with_findings,
               AVG(index_0_100) AS mean_index,
               MEDIAN(index_0_100) AS median_index,
               MIN(index_0_100) AS min_index,
               MAX(index_0_100) AS max_index
        FROM scores WHERE run_id = ?""", [run_id, run_id, run_id])[0]


def bands(con: duckdb.DuckDBPyConnection, run_id: str) -> list[Row]:
    """The run's bands, highest first, with how many subjects fall in each; ``level`` is the
    band's position from the lowest (0) and ``levels`` how many bands there are."""
    return _rows(con, """
        SELECT b.band, b.min_index,
               LEAD(b.min_index) OVER (ORDER BY b.min_index) AS next_min,
               (ROW_NUMBER() OVER (ORDER BY b.min_index, b.band) - 1)::INTEGER AS level,
               (COUNT(*) OVER ())::INTEGER AS levels,
               (SELECT COUNT(*) FROM scores AS s
                 WHERE s.run_id = b.run_id AND s.band = b.band) AS subjects
        FROM score_bands AS b WHERE b.run_id = ?
        ORDER BY b.min_index DESC, b.band""", [run_id])


def index_values(con: duckdb.DuckDBPyConnection, run_id: str) -> list[float]:
    rows = con.execute("SELECT index_0_100 FROM scores WHERE run_id = ? "
                       "ORDER BY index_0_100, subject_id", [run_id]).fetchall()
    return [r[0] for r in rows]


def mean_by_type(con: duckdb.DuckDBPyConnection, run_id: str) -> list[Row]:
    rows = _rows(con, """
        SELECT sub.subject_type, COUNT(*) AS subjects, AVG(s.index_0_100) AS mean_index
        FROM scores AS s JOIN subjects AS sub USING (subject_id)
        WHERE s.run_id = ?
        GROUP BY sub.subject_type
        ORDER BY mean_index DESC, sub.subject_type""", [run_id])
    for row in rows:
        row["label"] = type_label(row["subject_type"])
    return rows


def mean_by_state(con: duckdb.DuckDBPyConnection, run_id: str) -> list[Row]:
    """Mean index per state; subjects without a state (federal) form the group "Federal",
    as in scores.rank_state."""
    rows = _rows(con, """
        SELECT COALESCE(sub.state, '') AS state_key, COUNT(*) AS subjects,
               AVG(s.index_0_100) AS mean_index
        FROM scores AS s JOIN subjects AS sub USING (subject_id)
        WHERE s.run_id = ?
        GROUP BY state_key
        ORDER BY mean_index DESC, state_key""", [run_id])
    for row in rows:
        row["label"] = state_label(row["state_key"])
    return rows


def findings_by_code(con: duckdb.DuckDBPyConnection, run_id: str) -> list[Row]:
    """Findings of the run per code and severity: count and subjects affected."""
    rows = _rows(con, """
        SELECT code, severity, MIN(severity_rank) AS severity_rank, COUNT(*) AS findings,
               COUNT(DISTINCT subject_id) AS subjects,
               COUNT(*) FILTER (obligation_id IS NULL) AS portal_level
        FROM v_findings WHERE run_id = ?
        GROUP BY code, severity
        ORDER BY findings DESC, severity_rank, code""", [run_id])
    for row in rows:
        row["label"] = code_label(row["code"])
        row["severity_es"] = SEVERITY_ES.get(row["severity"], row["severity"])
    return rows


def obligation_gaps(con: duckdb.DuckDBPyConnection, run_id: str, limit: int = 25) -> list[Row]:
    """Obligations most often missing (status 'missing') or outdated (an OUTDATED finding),
    with how many subjects they apply to; most affected first."""
    return _rows(con, """
        WITH outdated AS (
            SELECT DISTINCT subject_id, obligation_id FROM findings
            WHERE run_id = ? AND code = 'OUTDATED' AND obligation_id IS NOT NULL
        ),
        per_obligation AS (
            SELECT os.obligation_id, COUNT(*) AS applicable,
                   COUNT(*) FILTER (os.status = 'missing') AS missing,
                   COUNT(d.subject_id) AS outdated
            FROM obligation_scores AS os
            LEFT JOIN outdated AS d USING (subject_id, obligation_id)
            WHERE os.run_id = ?
            GROUP BY os.obligation_id
        )
        SELECT p.obligation_id, COALESCE(o.title, p.obligation_id) AS title,
               p.applicable, p.missing, p.outdated,
               100.0 * p.missing / p.applicable AS missing_pct,
               100.0 * p.outdated / p.applicable AS outdated_pct
        FROM per_obligation AS p
        LEFT JOIN obligations AS o
               ON o.law = (SELECT law FROM runs WHERE run_id = ?)
              AND o.obligation_id = p.obligation_id
        WHERE p.missing + p.outdated > 0
        ORDER BY p.missing + p.outdated DESC, p.missing DESC, p.obligation_id
        LIMIT ?""", [run_id, run_id, run_id, limit])


def national_trend(con: duckdb.DuckDBPyConnection, run_id: str) -> list[Row]:
    """Mean index of every scored successful run up to this one (by start time, as the trend
    views order runs), oldest first; a report on an older run does not see later ones."""
    return _rows(con, """
        WITH this AS (SELECT run_id, started_at FROM runs WHERE run_id = ?)
        SELECT r.run_id, r.as_of, r.started_at, COUNT(*) AS subjects,
               AVG(s.index_0_100) AS mean_index
        FROM runs AS r
        JOIN scores AS s USING (run_id)
        CROSS JOIN this
        WHERE r.run_id = this.run_id
           OR (r.status = 'success'
               AND (r.started_at < this.started_at
                    OR (r.started_at = this.started_at AND r.run_id < this.run_id)))
        GROUP BY r.run_id, r.as_of, r.started_at
        ORDER BY r.started_at NULLS LAST, r.run_id""", [run_id])


def rankings(con: duckdb.DuckDBPyConnection, run_id: str) -> list[Row]:
    """Every scored subject of the run, by national rank: identity, index, sub-indices,
    band, the three ranks with their group sizes, and the change since its previous run."""
    rows = _rows(con, """
        SELECT s.subject_id, COALESCE(sub.name, s.subject_id) AS name, sub.acronym,
               sub.subject_type, sub.level, sub.state, COALESCE(sub.state, '') AS state_key,
               sub.portal_url, sub.transparency_url,
               s.index_0_100, s.band, s.presence, s.compliance, s.usefulness,
               s.actualizacion, s.confiabilidad, s.formato, s.apertura, s.validez, s.enlaces,
               s.obligations_applicable, s.obligations_published, s.findings,
               s.rank_national, s.rank_type, s.rank_state,
               COUNT(*) OVER () AS n_national,
               COUNT(*) OVER (PARTITION BY sub.subject_type) AS n_type,
               COUNT(*) OVER (PARTITION BY COALESCE(sub.state, '')) AS n_state,
               h.previous_run_id, h.previous_index,
               ROUND(h.index_change, 2) AS index_change,
               p.as_of AS previous_as_of
        FROM scores AS s
        LEFT JOIN subjects AS sub USING (subject_id)
        LEFT JOIN v_score_history AS h ON h.run_id = s.run_id AND h.subject_id = s.subject_id
        LEFT JOIN runs AS p ON p.run_id = h.previous_run_id
        WHERE s.run_id = ?
        ORDER BY s.rank_national, s.index_0_100 DESC, name, s.subject_id""", [run_id])
    for row in rows:
        row["type_es"] = type_label(row["subject_type"])
        row["level_es"] = LEVEL_ES.get(row["level"] or "", row["level"] or "—")
        row["state_es"] = state_label(row["state"])
    return rows


def group_rankings(rows: Iterable[Row], key: str, rank: str) -> list[tuple[str, list[Row]]]:
    """``rankings`` rows grouped by ``key`` (``type_es`` or ``state_es``), groups by label
    ("Federal" first for states), members by ``rank`` then national order."""
    groups: dict[str, list[Row]] = defaultdict(list)
    for position, row in enumerate(rows):
        groups[row[key]].append((row[rank], position, row))
    ordered = sorted(groups, key=lambda label: (label != FEDERAL, label.casefold(), label))
    return [(label, [r for _, _, r in sorted(groups[label], key=lambda t: t[:2])])
            for label in ordered]


# --- trends ------------------------------------------------------------------------------

def trend_summary(con: duckdb.DuckDBPyConnection, run_id: str) -> Row:
    """How the subjects audited before compare with their previous run."""
    row = _rows(con, """
        SELECT COUNT(*) AS compared,
               AVG(index_change) AS mean_change,
               COUNT(*) FILTER (ROUND(index_change, 2) > 0) AS improved,
               COUNT(*) FILTER (ROUND(index_change, 2) < 0) AS worsened,
               COUNT(*) FILTER (ROUND(index_change, 2) = 0) AS unchanged,
               AVG(previous_index) AS mean_previous,
               AVG(index_0_100) AS mean_current
        FROM v_score_history
        WHERE run_id = ? AND previous_run_id IS NOT NULL""", [run_id])[0]
    row["previous_runs"] = _rows(con, """
        SELECT h.previous_run_id AS run_id, r.as_of, COUNT(*) AS subjects
        FROM v_score_history AS h LEFT JOIN runs AS r ON r.run_id = h.previous_run_id
        WHERE h.run_id = ? AND h.previous_run_id IS NOT NULL
        GROUP BY h.previous_run_id, r.as_of
        ORDER BY r.as_of NULLS LAST, h.previous_run_id""", [run_id])
    return row


def finding_changes_by_code(con: duckdb.DuckDBPyConnection, run_id: str) -> list[Row]:
    """New and resolved findings per code against each subject's previous run."""
    rows = _rows(con, """
        SELECT code,
               COUNT(*) FILTER (change = 'new') AS new,
               COUNT(*) FILTER (change = 'resolved') AS resolved,
               COUNT(DISTINCT subject_id) AS subjects
        FROM v_finding_changes WHERE run_id = ?
        GROUP BY code
        ORDER BY new + resolved DESC, code""", [run_id])
    for row in rows:
        row["label"] = code_label(row["code"])
    return rows


def regressions(con: duckdb.DuckDBPyConnection, run_id: str,
                limit: int = 200) -> tuple[int, list[Row]]:
    """Obligations whose score went down since the subject's previous run: (how many, the
    first ``limit``), subjects with the largest index drop first, then largest drops."""
    total = con.execute("SELECT COUNT(*) FROM v_obligation_changes "
                        "WHERE run_id = ? AND regression", [run_id]).fetchone()[0]
    rows = _rows(con, """
        SELECT c.subject_id, COALESCE(sub.name, c.subject_id) AS name, c.obligation_id,
               COALESCE(o.title, c.obligation_id) AS title,
               c.previous_status, c.status, c.previous_score, c.score, c.score_change,
               c.reasons, ROUND(h.index_change, 2) AS index_change,
               COUNT(*) OVER (PARTITION BY c.subject_id) AS subject_regressions
        FROM v_obligation_changes AS c
        LEFT JOIN v_score_history AS h ON h.run_id = c.run_id AND h.subject_id = c.subject_id
        LEFT JOIN subjects AS sub ON sub.subject_id = c.subject_id
        LEFT JOIN obligations AS o
               ON o.law = (SELECT law FROM runs WHERE run_id = ?)
              AND o.obligation_id = c.obligation_id
        WHERE c.run_id = ? AND c.regression
        ORDER BY h.index_change NULLS LAST, name, c.subject_id, c.score_change,
                 c.obligation_id
        LIMIT ?""", [run_id, run_id, limit])
    for row in rows:
        row["previous_status_es"] = STATUS_ES.get(row["previous_status"], row["previous_status"])
        row["status_es"] = STATUS_ES.get(row["status"], row["status"])
        row["reason_labels"] = [code_label(c) for c in row["reasons"] or []]
    return total, rows


def history_findings(con: duckdb.DuckDBPyConnection, run_id: str,
                     limit: int = 200) -> list[Row]:
    """REMOVED_EARLY and SILENT_EDIT findings of the run (changes between runs)."""
    rows = _rows(con, """
        SELECT subject_id, COALESCE(subject_name, subject_id) AS name, obligation_id,
               obligation_title, code, severity, message, evidence_url
        FROM v_findings
        WHERE run_id = ? AND list_contains(?::VARCHAR[], code)
        ORDER BY severity_rank, code, name, subject_id, obligation_id NULLS FIRST, finding_id
        LIMIT ?""", [run_id, list(HISTORY_CODES), limit])
    for row in rows:
        row["label"] = code_label(row["code"])
    return rows


# --- the scoring model of the run ----------------------------------------------------------

def methodology(con: duckdb.DuckDBPyConnection, run_id: str) -> Row:
    """The configuration the run was scored with: criteria (weight as % of the total),
    rules (finding → criterion value), obligation weights and settings."""
    criteria = _rows(con, """
        SELECT criterion, COALESCE(label_es, criterion) AS label, subindex, weight,
               100.0 * weight / SUM(weight) OVER () AS weight_pct,
               100.0 * weight / SUM(weight) OVER (PARTITION BY subindex) AS subindex_pct,
               position
        FROM score_criteria WHERE run_id = ?
        ORDER BY position NULLS LAST, criterion""", [run_id])
    labels = {c["criterion"]: c["label"] for c in criteria}
    order = {c["criterion"]: i for i, c in enumerate(criteria)}
    rules = _rows(con, "SELECT code, criterion, value FROM score_rules WHERE run_id = ? "
                       "ORDER BY code, criterion", [run_id])
    by_code: dict[str, list[Row]] = defaultdict(list)
    for rule in rules:
        rule["label"] = labels.get(rule["criterion"], rule["criterion"])
        by_code[rule["code"]].append(rule)
    rule_rows = [
        {"code": code, "label": code_label(code),
         "effects": sorted(effects, key=lambda r: (order.get(r["criterion"], 99),
                                                   r["criterion"]))}
        for code, effects in sorted(by_code.items())]
    config = _rows(con, "SELECT version, outdated_zero_after_periods, default_obligation_weight "
                        "FROM score_config WHERE run_id = ?", [run_id])
    weights = _rows(con, """
        SELECT w.obligation_id, COALESCE(o.title, w.obligation_id) AS title, w.weight
        FROM score_obligation_weights AS w
        LEFT JOIN obligations AS o
               ON o.law = (SELECT law FROM runs WHERE run_id = ?)
              AND o.obligation_id = w.obligation_id
        WHERE w.run_id = ?
        ORDER BY w.obligation_id""", [run_id, run_id])
    return {"criteria": criteria, "rules": rule_rows,
            "config": config[0] if config else None, "weights": weights}


# --- subject pages (fetched for a batch of subjects at a time) ------------------------------

def subject_obligations(con: duckdb.DuckDBPyConnection, run_id: str,
                        subject_ids: Sequence[str]) -> dict[str, list[Row]]:
    """Every applicable obligation of each subject: status, criteria, score, points lost,
    reasons, title and the check's evidence and currency; in catalog order."""
    rows = _rows(con, """
        SELECT os.subject_id, os.obligation_id, os.status, v.status_es, os.weight,
               os.presencia, os.actualizacion, os.confiabilidad, os.formato, os.apertura,
               os.validez, os.enlaces, os.cumplimiento, os.utilidad, os.score,
               os.points_lost, os.reasons,
               COALESCE(v.obligation_title, os.obligation_id) AS title,
               v.article, v.fraction, v.subformat,
               c.evidence_url, c.latest_period_end, c.due_period_end, c.periods_behind,
               c.missing_years
        FROM obligation_scores AS os
        LEFT JOIN v_obligation_status AS v
               ON v.run_id = os.run_id AND v.subject_id = os.subject_id
              AND v.obligation_id = os.obligation_id
        LEFT JOIN obligation_checks AS c
               ON c.run_id = os.run_id AND c.subject_id = os.subject_id
              AND c.obligation_id = os.obligation_id
        WHERE os.run_id = ? AND os.subject_id IN (SELECT UNNEST(?::VARCHAR[]))
        ORDER BY os.subject_id, os.obligation_id""", [run_id, list(subject_ids)])
    out: dict[str, list[Row]] = defaultdict(list)
    for row in rows:
        row["status_es"] = row["status_es"] or STATUS_ES.get(row["status"], row["status"])
        row["reason_labels"] = [code_label(c) for c in row["reasons"] or []]
        out[row["subject_id"]].append(row)
    for items in out.values():
        items.sort(key=obligation_sort_key)
    return out


def subject_findings(con: duckdb.DuckDBPyConnection, run_id: str,
                     subject_ids: Sequence[str]) -> dict[str, list[Row]]:
    """Every finding of each subject (portal-level first, then by obligation, severity)."""
    rows = _rows(con, """
        SELECT subject_id, obligation_id, code, severity, severity_rank, message,
               evidence_url, finding_id
        FROM v_findings
        WHERE run_id = ? AND subject_id IN (SELECT UNNEST(?::VARCHAR[]))
        ORDER BY subject_id, obligation_id NULLS FIRST, severity_rank, code, finding_id""",
        [run_id, list(subject_ids)])
    return _findings_by_subject(rows)


def _findings_by_subject(rows: list[Row]) -> dict[str, list[Row]]:
    """Finding rows grouped by subject, with their Spanish code and severity labels."""
    out: dict[str, list[Row]] = defaultdict(list)
    for row in rows:
        row["label"] = code_label(row["code"])
        row["severity_es"] = SEVERITY_ES.get(row["severity"], row["severity"])
        out[row["subject_id"]].append(row)
    return out


def subject_finding_changes(con: duckdb.DuckDBPyConnection, run_id: str,
                            subject_ids: Sequence[str]) -> dict[str, list[Row]]:
    """New and resolved findings of each subject against its previous run."""
    rows = _rows(con, """
        SELECT c.subject_id, c.change, c.obligation_id, c.code, c.severity, c.message,
               c.evidence_url, c.finding_id
        FROM v_finding_changes AS c
        WHERE c.run_id = ? AND c.subject_id IN (SELECT UNNEST(?::VARCHAR[]))
        ORDER BY c.subject_id, c.change, c.obligation_id NULLS FIRST, c.code, c.finding_id""",
        [run_id, list(subject_ids)])
    return _findings_by_subject(rows)


_ROMAN = {"I": 1, "V": 5, "X": 10, "L": 50, "C": 100, "D": 500, "M": 1000}


def roman_value(text: str | None) -> int:
    """The value of a roman numeral fraction ("XXVIII" → 28); unparsable text sorts last."""
    text = (text or "").strip().upper()
    if not text or not re.fullmatch(r"[IVXLCDM]+", text):
        return 10_000
    total = 0
    for i, ch in enumerate(text):
        value = _ROMAN[ch]
        following = _ROMAN[text[i + 1]] if i + 1 < len(text) else 0
        total += -value if value < following else value
    return total


def obligation_sort_key(row: Row) -> tuple:
    """Catalog order: article, fraction as a number, sub-format, id."""
    article = row.get("article")
    return (article if article is not None else 10_000, roman_value(row.get("fraction")),
            row.get("subformat") or "", row["obligation_id"])
