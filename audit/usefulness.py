"""Usefulness rules for one published document: what its content says about openness,
format and completeness.

These are the document-level rules of the usefulness audit, in a fixed order. They look at
one file as read by ``scrapers.readers`` and, when known, the official format it follows;
portal-level and history rules live elsewhere. Each rule yields (code, message) with the
message in Spanish for the audit team.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from audit.findings import Code
from audit.presence import format_and_stars

TABULAR_KINDS = frozenset({"sipot_export", "sipot_template", "table"})
# A format scoring below this is not evidence enough to name missing columns.
MISSING_COLUMNS_MIN_SCORE = 0.6


@dataclass(frozen=True)
class DocumentFinding:
    code: Code
    message: str


# Why a published file cannot be opened at all, in the audit team's words (reader warning
# codes, scrapers.readers.model). A download Lupa cut at its own size cap is not the portal's
# fault and is not here.
_DAMAGE = {
    "unreadable": "está dañado o incompleto y no se puede abrir",
    "zip_bomb": ("no se abrió: se descomprime a un tamaño desproporcionado (posible «bomba "
                 "zip»)"),
    "encrypted": "exige una contraseña para abrirse",
}


def _not_machine_readable(doc, fmt: str | None, stars: int | None, match):
    codes = doc.warning_codes()
    damage = next((text for code, text in _DAMAGE.items() if code in codes), None)
    if damage is not None:
        yield Code.NOT_MACHINE_READABLE, (
            f"El archivo ({fmt or 'formato desconocido'}) {damage}; sus datos no se pueden "
            "reutilizar.")
    elif stars is not None and stars <= 1 and (
            doc.kind != "unreadable" or {"unsupported", "too_large"} & set(codes)):
        yield Code.NOT_MACHINE_READABLE, (
            f"El archivo se publica como {fmt or 'formato desconocido'} ({stars} de 5 "
            "estrellas de apertura); los datos no se pueden reutilizar sin transcribirlos.")


def _scanned(doc, *_):
    if doc.media_type == "application/pdf" and doc.pages and doc.has_text_layer is False:
        yield Code.SCANNED_DOCUMENT, (
            f"El PDF ({doc.pages} página(s)) no tiene capa de texto: es una imagen escaneada.")


def _format_mismatch(doc, *_):
    for warning in doc.warnings:
        if warning.startswith("format_mismatch:"):
            yield Code.FORMAT_MISMATCH, (
                "El formato real del archivo no coincide con el declarado ("
                + _in_spanish(warning.split(":", 1)[1].strip()) + ").")
            return


def _in_spanish(detail: str) -> str:
    """The reader's ``declared X, content is Y`` / ``named .x, content is Y``, in Spanish."""
    for english, spanish in (("declared ", "se declara "), ("named ", "el nombre indica "),
                             (", content is ", ", pero el contenido es ")):
        detail = detail.replace(english, spanish)
    return detail


def _encoding(doc, *_):
    if "mojibake" in doc.warning_codes():
        yield Code.ENCODING_ERROR, ("El texto contiene caracteres mal codificados "
                                    "(p. ej. «Ã³» en lugar de «ó»).")


def justifying_note(doc) -> str | None:
    """The first note of a document that explains an absence ("Sin nota." explains none)."""
    from scrapers.readers.notes import is_justification

    return next((note for note in doc.notes if is_justification(note)), None)


def _empty_or_justified(doc, *_):
    if doc.kind not in TABULAR_KINDS:
        return
    # A single row whose NOTA explains the absence is how SIPOT publishes "nothing to report".
    justifying = justifying_note(doc)
    if justifying and doc.rows <= 1:
        note = justifying[:200]
        yield Code.JUSTIFIED_ABSENCE, f"El archivo justifica la falta de datos: «{note}»."
    elif doc.rows == 0:
        yield Code.EMPTY_DATASET, "El archivo tiene encabezados pero ningún registro."


def _missing_columns(doc, fmt, stars, match):
    if match is None or match.score < MISSING_COLUMNS_MIN_SCORE or not match.missing_columns:
        return
    names = "; ".join(match.missing_columns[:12])
    more = f" y {len(match.missing_columns) - 12} más" if len(match.missing_columns) > 12 else ""
    yield Code.MISSING_COLUMNS, (
        f"Faltan {len(match.missing_columns)} columna(s) del formato oficial "
        f"{match.format_id}: {names}{more}.")


# Every rule takes (document, format name, openness stars, format match) and yields
# (code, message) pairs.
RULES = (_not_machine_readable, _scanned, _format_mismatch, _encoding, _empty_or_justified,
         _missing_columns)


def document_findings(doc, match=None) -> list[DocumentFinding]:
    """Apply RULES in order to a ``scrapers.readers.Document`` and its format match."""
    fmt, stars = format_and_stars(doc.media_type)
    return [DocumentFinding(code, message) for rule in RULES
            for code, message in rule(doc, fmt, stars, match)]


# ---- one obligation: every readable file it publishes ---------------------------------------
JUSTIFIED_STATUS = "justified"


@dataclass
class PublishedFile:
    """One file of an obligation as the harvest read it: its URL and the reader's summary
    (``lupa.documents.DocumentReader``: document, format, dataset, updated_at, links)."""

    url: str
    summary: dict

    @property
    def document(self):
        from scrapers.readers import Document

        return Document.from_dict(self.summary["document"])


@dataclass
class ObligationUsefulness:
    """What the files of one obligation say: findings, the freshness verdict, the facts each
    file adds to its ``resources`` row, the datasets to validate, and whether every file only
    justifies the absence of data (the obligation is then 'justified', not 'present')."""

    findings: list = field(default_factory=list)
    freshness: object = None  # audit.freshness.Freshness, None without a readable period
    latest_url: str | None = None
    resource_facts: dict[str, dict] = field(default_factory=dict)
    datasets: list[tuple[str, str, str | None]] = field(default_factory=list)  # url, path, fmt
    justified_note: str | None = None


def _dead_links(summary: dict) -> str | None:
    from audit.hyperlinks import LinkCheck, dead_hyperlinks_message
    from audit.presence import Outcome

    checks = [LinkCheck(c["url"], c.get("status_code"), c.get("error"), Outcome(c["outcome"]))
              for c in summary.get("links") or []]
    return dead_hyperlinks_message(checks) if checks else None


def assess_obligation(obligation, files: list[PublishedFile], formats, as_of, run_id: str,
                      subject_id: str) -> ObligationUsefulness:
    """Apply the usefulness rules to the readable files of one present obligation.

    Per file: ``document_findings`` (format match restricted to the obligation's formats when
    one fits, else the best of any), DEAD_HYPERLINKS from its checked link sample. Per
    obligation: OUTDATED from the latest period any tabular file reports (a justification
    row counts: it reports on its period), against the update period and ``as_of``;
    conservation gaps are kept on the verdict (``missing_years``) and named in the OUTDATED
    message when both apply.
    """
    from audit.findings import Finding
    from audit.formats import match_headers
    from audit.freshness import assess, outdated_message

    out = ObligationUsefulness()
    oid = obligation.obligation_id
    latest_end, years, justified_notes, readable = None, set(), [], 0

    def add(code: Code, message: str, url: str) -> None:
        out.findings.append(Finding(run_id, subject_id, oid, code, message, url))

    for published in files:
        summary = published.summary
        if not summary or "document" not in summary:
            continue
        doc = published.document
        match = None
        if doc.columns:
            match = match_headers(doc.columns, formats, oid) or match_headers(doc.columns,
                                                                              formats)
        readable += 1
        found = document_findings(doc, match)
        for item in found:
            add(item.code, item.message, published.url)
        codes = {item.code for item in found}
        if Code.JUSTIFIED_ABSENCE in codes:
            justified_notes.append(justifying_note(doc) or "")
        dead = _dead_links(summary)
        if dead:
            add(Code.DEAD_HYPERLINKS, dead, published.url)
        has_data = doc.kind in TABULAR_KINDS and doc.rows > 0
        end = doc.period.end if has_data else None
        if end is not None and (latest_end is None or end > latest_end):
            latest_end, out.latest_url = end, published.url
        if has_data:
            years.update(doc.period.years)
        fmt, stars = format_and_stars(doc.media_type)
        out.resource_facts[published.url] = {
            "detected_format": fmt, "stars": stars, "kind": doc.kind,
            "rows": doc.rows if doc.kind in TABULAR_KINDS else None,
            "period_end": end, "updated_at": summary.get("updated_at"),
            "format_id": match.format_id if match else None,
            "format_score": round(match.score, 4) if match else None,
        }
        if summary.get("dataset") and not codes & {Code.JUSTIFIED_ABSENCE, Code.EMPTY_DATASET}:
            out.datasets.append((published.url, summary["dataset"],
                                 match.format_id if match else None))
    if readable and len(justified_notes) == readable:
        out.justified_note = justified_notes[0]
    if latest_end is not None:
        out.freshness = assess(obligation.update_period, obligation.conservation_period, as_of,
                               latest_end, frozenset(years))
        if out.freshness.outdated:
            label = obligation.label
            message = outdated_message(out.freshness, label)
            if out.freshness.missing_years:
                message += (" Además faltan los ejercicios que deben conservarse: "
                            + ", ".join(map(str, out.freshness.missing_years)) + ".")
            add(Code.OUTDATED, message, out.latest_url)
    return out


def file_obligation(url: str, link_text: str, summary: dict | None, covered: set[str],
                    catalog, formats) -> str | None:
    """Which of the ``covered`` obligations one file listed on a shared page belongs to
    (a fraction page listing every sub-format's files), or None when nothing tells: the
    official format its header follows, else the sub-format its link text names by title,
    else the one its URL cites ('…fracc34d…')."""
    from audit.formats import match_headers
    from scrapers.discovery import parse_obligation_ref, title_ref

    columns = ((summary or {}).get("document") or {}).get("columns") or []
    match = match_headers(columns, formats) if columns else None
    if match is not None and match.obligation_id in covered:
        return match.obligation_id
    for ref in (title_ref(link_text, catalog) if link_text else None,
                parse_obligation_ref(url)):
        if ref is not None and ref.subformat and ref.obligation_id in covered:
            return ref.obligation_id
    return None
