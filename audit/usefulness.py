"""Usefulness rules for one published document: what its content says about openness,
format and completeness.

These are the document-level rules of the usefulness audit, in a fixed order. They look at
one file as read by ``scrapers.readers`` and, when known, the official format it follows;
portal-level and history rules live elsewhere. Each rule yields (code, message) with the
message in Spanish for the audit team.
"""

from __future__ import annotations

from dataclasses import dataclass

from audit.findings import Code
from audit.presence import format_and_stars

TABULAR_KINDS = frozenset({"sipot_export", "sipot_template", "table"})
# A format scoring below this is not evidence enough to name missing columns.
MISSING_COLUMNS_MIN_SCORE = 0.6


@dataclass(frozen=True)
class DocumentFinding:
    code: Code
    message: str


def _not_machine_readable(doc, fmt: str | None, stars: int | None, match):
    if stars is not None and stars <= 1 and doc.kind != "unreadable":
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
                "El formato real del archivo no coincide con el declarado "
                f"({warning.split(':', 1)[1].strip()}).")
            return


def _encoding(doc, *_):
    if "mojibake" in doc.warning_codes():
        yield Code.ENCODING_ERROR, ("El texto contiene caracteres mal codificados "
                                    "(p. ej. «Ã³» en lugar de «ó»).")


def _empty_or_justified(doc, *_):
    if doc.kind not in TABULAR_KINDS:
        return
    # A single row holding only a NOTA is how SIPOT publishes "nothing to report".
    if doc.notes and doc.rows <= 1:
        note = doc.notes[0][:200]
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
