"""The static HTML report of a run: the national overview and one page per audited subject.

Pages are Jinja2 templates (``reports/templates``) rendered with autoescape on; they work
opened from disk (relative links only, CSS inlined, no JavaScript). Everything shown comes
from the warehouse through ``reports.data``; the only markup not escaped is the SVG of the
charts, which ``reports.charts`` produces. Portal-supplied URLs become links only when they
are http(s).
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Iterator, Sequence
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

import duckdb
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from audit.findings import Code
from audit.scoring import SUBINDICES
from reports import charts, data

TEMPLATES = Path(__file__).with_name("templates")
SUBJECTS_DIR = "sujetos"
BATCH_SIZE = 200  # subjects whose obligations and findings are fetched in one query

CRITERION_ABBR = {
    "presencia": "Pres", "actualizacion": "Act", "confiabilidad": "Conf", "formato": "Form",
    "apertura": "Aper", "validez": "Val", "enlaces": "Enl",
}
MONTHS_ES = ("enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto",
             "septiembre", "octubre", "noviembre", "diciembre")
_SAFE_NAME = re.compile(r"[^a-z0-9_-]")
_WINDOWS_RESERVED = frozenset(
    {"con", "prn", "aux", "nul"} | {f"com{i}" for i in range(10)} | {f"lpt{i}" for i in range(10)})
_HTTP_URL = re.compile(r"https?://[^\x00-\x20\x7f]", re.I)
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


# --- file names ------------------------------------------------------------------------------

def subject_page_name(subject_id: str) -> str:
    """The site-relative path of a subject's page: ``sujetos/<safe>.html``.

    An id made only of lowercase ASCII letters, digits, ``_`` and ``-`` (at most 64
    characters, not a reserved Windows device name) is used as is. Any other id is
    sanitised and given a dot and a hash of the original id: a dot never appears in an
    unchanged name, so a sanitised name cannot equal another id's, and two sanitised ids
    only collide if their SHA-256 prefixes do. Names are also unique on case-insensitive
    file systems (uppercase counts as a change)."""
    safe = _SAFE_NAME.sub("_", subject_id)[:64]
    if safe != subject_id or not safe or safe in _WINDOWS_RESERVED:
        digest = hashlib.sha256(subject_id.encode("utf-8", "surrogatepass")).hexdigest()[:12]
        safe = f"{safe.strip('_') or 'sujeto'}.{digest}"
    return f"{SUBJECTS_DIR}/{safe}.html"


# --- formatting (Jinja filters) -----------------------------------------------------------

def fmt_index(value: float | None) -> str:
    """An index or sub-index, 0–100, with one decimal."""
    if value is None:
        return "—"
    text = f"{value:.1f}"
    return "0.0" if text == "-0.0" else text


def fmt_points(value: float | None) -> str:
    if value is None:
        return "—"
    text = f"{value:.2f}"
    return "0.00" if text == "-0.00" else text


def fmt_int(value: int | None) -> str:
    return "—" if value is None else f"{value:,}"


def fmt_pct(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f}%"


def fmt_pct_of(count: int | None, total: int | None) -> str:
    if not total or count is None:
        return "—"
    return fmt_pct(100.0 * count / total)


def fmt_date(value: date | datetime | None) -> str:
    if value is None:
        return "—"
    return f"{value.day} de {MONTHS_ES[value.month - 1]} de {value.year}"


def fmt_band_range(band: dict) -> str:
    low, high = band["min_index"], band.get("next_min")
    return f"≥ {low:g}" if high is None else f"{low:g} a < {high:g}"


def fmt_criterion_value(value: float) -> str:
    return {1.0: "1", 0.5: "0.5", 0.0: "0"}.get(value, f"{value:g}")


def fmt_weight(value: float | None) -> str:
    return "—" if value is None else f"{value:g}"


def fmt_filesize(size: int | None) -> str:
    if size is None:
        return "—"
    for unit in ("B", "kB", "MB"):
        if size < 1000 or unit == "MB":
            return f"{size:,} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1000
    return f"{size:.1f} GB"  # pragma: no cover


def is_http_url(value: Any) -> bool:
    """Only http(s) URLs without control characters are ever put in an href."""
    return (isinstance(value, str) and bool(_HTTP_URL.match(value))
            and not _CONTROL.search(value))


def href(url: str) -> str:
    """An http(s) URL ready for an href (autoescape then escapes quotes and ampersands)."""
    return url.replace(" ", "%20")


def short_url(url: str, limit: int = 40) -> str:
    """Link text for a long URL: its last path segment (or host), at most ``limit`` chars."""
    rest = re.sub(r"^[a-z][a-z0-9+.-]*://", "", url.split("#")[0].split("?")[0], flags=re.I)
    parts = [p for p in rest.split("/") if p]
    text = unquote(parts[-1]) if len(parts) > 1 else (parts[0] if parts else url)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html"], default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update({
        "idx": fmt_index, "pts": fmt_points, "score": fmt_points, "num": fmt_int,
        "pct": fmt_pct, "pct_of": fmt_pct_of, "date_es": fmt_date,
        "band_range": fmt_band_range, "crit_value": fmt_criterion_value,
        "weight": fmt_weight, "filesize": fmt_filesize, "href": href, "short_url": short_url,
    })
    env.tests["http_url"] = is_http_url
    return env


# --- the site ---------------------------------------------------------------------------------

def render_site(con: duckdb.DuckDBPyConnection, run_id: str, dest: Path,
                exports: list[Path] | None = None, *,
                generated_at: datetime | None = None) -> Path:
    """Write the overview (dest/index.html) and one page per audited subject of the run
    (dest/sujetos/<file>.html) from the warehouse opened read-only on ``con``; returns the
    overview's path. ``exports`` are files already written under ``dest`` (e.g.
    dest/datos/hallazgos.csv) to link from the overview.

    ``generated_at`` is the "fecha de generación" shown (default: ``SOURCE_DATE_EPOCH`` if
    set, else now); everything else on the pages depends only on the warehouse.
    Raises ValueError if the run is unknown or has no scores, or an export is not under
    ``dest``."""
    dest = Path(dest)
    run = data.run_info(con, run_id)
    downloads = _downloads(dest, exports or [])
    env = environment()
    common = {"run": run, "generated_at": _generated(generated_at)}

    bands = data.bands(con, run_id)
    band_colors = {b["band"]: charts.band_color(b["level"], b["levels"]) for b in bands}
    method = data.methodology(con, run_id)
    for criterion in method["criteria"]:
        criterion["abbr"] = CRITERION_ABBR.get(criterion["criterion"], criterion["label"][:4])
    ranking = data.rankings(con, run_id)
    for row in ranking:
        row["page"] = subject_page_name(row["subject_id"])

    (dest / SUBJECTS_DIR).mkdir(parents=True, exist_ok=True)
    overview = dest / "index.html"
    _write(overview, env.get_template("index.html").render(
        **common, **_overview_context(con, run_id, ranking, bands),
        bands=bands, band_colors=band_colors, method=method, downloads=downloads))

    template = env.get_template("subject.html")
    criteria_chart = charts.CriteriaChart(method["criteria"])
    for batch in _batches(ranking, BATCH_SIZE):
        ids = [row["subject_id"] for row in batch]
        obligations = data.subject_obligations(con, run_id, ids)
        findings = data.subject_findings(con, run_id, ids)
        changes = data.subject_finding_changes(con, run_id, ids)
        for subject in batch:
            sid = subject["subject_id"]
            context = _subject_context(subject, obligations.get(sid, []),
                                       findings.get(sid, []), changes.get(sid, []),
                                       criteria_chart, method)
            _write(dest / subject["page"], template.render(
                **common, **context, band_colors=band_colors))
    return overview


def _overview_context(con: duckdb.DuckDBPyConnection, run_id: str, ranking: list[dict],
                      bands: list[dict]) -> dict[str, Any]:
    totals = data.totals(con, run_id)
    by_type = data.mean_by_type(con, run_id)
    by_state = data.mean_by_state(con, run_id)
    findings = data.findings_by_code(con, run_id)
    gaps = data.obligation_gaps(con, run_id, limit=25)
    trend_runs = data.national_trend(con, run_id)
    regressions_total, regressions = data.regressions(con, run_id)

    by_code: dict[str, dict] = {}
    for row in findings:  # the chart counts per code, without informational findings
        if row["severity"] == "info":
            continue
        entry = by_code.setdefault(row["code"], {**row, "findings": 0})
        entry["findings"] += row["findings"]
    chart_findings = sorted(by_code.values(), key=lambda r: (-r["findings"], r["code"]))
    chart_gaps = gaps[:15]
    built = {
        "histogram": charts.index_histogram(data.index_values(con, run_id), bands),
        "by_type": charts.mean_index_bars(
            by_type, bands, name="por-tipo", title="Índice promedio por tipo de sujeto",
            caption="Índice promedio por tipo de sujeto obligado (n = sujetos)."),
        "by_state": charts.mean_index_bars(
            by_state, bands, name="por-entidad", title="Índice promedio por entidad",
            caption="Índice promedio por entidad federativa; los sujetos federales forman "
                    "el grupo «Federal» (n = sujetos)."),
        "findings": charts.findings_by_code(chart_findings) if chart_findings else None,
        "gaps": charts.obligation_gaps(chart_gaps) if chart_gaps else None,
        "trend": charts.national_trend(trend_runs) if len(trend_runs) >= 2 else None,
    }
    return {
        "totals": totals,
        "charts": built,
        "trend": data.trend_summary(con, run_id),
        "finding_changes": data.finding_changes_by_code(con, run_id),
        "regressions_total": regressions_total,
        "regressions": regressions,
        "history": data.history_findings(con, run_id),
        "ranking": ranking,
        "pages": {row["subject_id"]: row["page"] for row in ranking},
        "by_type": data.group_rankings(ranking, "type_es", "rank_type"),
        "by_state": data.group_rankings(ranking, "state_es", "rank_state"),
        "gaps": gaps,
        "findings": findings,
        "outdated_label": data.code_label(Code.OUTDATED.value),
        "subindex_es": SUBINDICES,
    }


def _subject_context(subject: dict, obligations: list[dict], findings: list[dict],
                     changes: list[dict], chart: charts.CriteriaChart,
                     method: dict) -> dict[str, Any]:
    by_obligation: dict[str | None, list[dict]] = {}
    for finding in findings:
        by_obligation.setdefault(finding["obligation_id"], []).append(finding)
    for row in obligations:
        row["findings"] = by_obligation.get(row["obligation_id"], [])
        row["problems"] = [f for f in row["findings"] if f["severity"] != "info"]
        own = {f["code"] for f in row["problems"]}
        # reasons not explained by the obligation's own findings: portal-level ones
        row["portal_reasons"] = [data.code_label(c) for c in row["reasons"] or []
                                 if c not in own]
    order = {row["obligation_id"]: i for i, row in enumerate(obligations)}
    losing = [row for row in obligations if (row["points_lost"] or 0) > 0]
    fix_first = sorted(losing, key=lambda r: (-r["points_lost"], order[r["obligation_id"]]))[:10]
    # portal-level findings behind the points lost on every obligation that loses some
    shared = set.intersection(*(set(r["portal_reasons"]) for r in losing)) if losing else set()

    criteria_rows = []
    for subindex, column in data.SUBINDEX_COLUMNS.items():
        members = [c for c in method["criteria"] if c["subindex"] == subindex]
        criteria_rows.append({"label": SUBINDICES.get(subindex, subindex), "head": True,
                              "weight_pct": sum(c["weight_pct"] for c in members),
                              "value": subject[column]})
        criteria_rows += [{"label": c["label"], "head": False, "weight_pct": c["weight_pct"],
                           "value": subject[data.CRITERION_COLUMNS[c["criterion"]]]}
                          for c in members]
    return {
        "s": subject,
        "chart": chart.render(subject),
        "criteria": method["criteria"],
        "criteria_rows": criteria_rows,
        "obligations": obligations,
        "fix_first": fix_first,
        "fix_portal": sorted(shared),
        "losing": len(losing),
        "portal_findings": by_obligation.get(None, []),
        "new_findings": [c for c in changes if c["change"] == "new"],
        "resolved_findings": [c for c in changes if c["change"] == "resolved"],
    }


def _downloads(dest: Path, exports: Sequence[Path]) -> list[dict[str, Any]]:
    root = dest.resolve()
    out = []
    for path in exports:
        path = Path(path)
        full = (path if path.is_absolute() else Path.cwd() / path).resolve()
        try:
            relative = full.relative_to(root)
        except ValueError:
            raise ValueError(f"export {path} is not under the report directory {dest}; "
                             "exports must be written inside it to be linked") from None
        out.append({"name": path.name, "href": quote(relative.as_posix()),
                    "size": full.stat().st_size if full.is_file() else None})
    return out


def _generated(value: datetime | None) -> str:
    if value is None:
        epoch = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
        value = (datetime.fromtimestamp(int(epoch), UTC) if epoch.isdigit()
                 else datetime.now(UTC))
    if value.tzinfo is not None:
        value = value.astimezone(UTC)
    return f"{fmt_date(value)}, {value:%H:%M} UTC"


def _batches(rows: list[dict], size: int) -> Iterator[list[dict]]:
    for start in range(0, len(rows), size):
        yield rows[start:start + size]


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8", newline="\n") as fh:
        fh.write(text)
