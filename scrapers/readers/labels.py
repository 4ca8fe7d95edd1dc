"""Column labels: folding them for comparison and recognising the SIPOT ones.

The same criterion is published as 'FECHA DE TÉRMINO DEL PERIODO QUE SE INFORMA' (PNT export,
upper case), ' Fecha de Termino Del Periodo' (a 2017 state system, title case with a leading
space) or 'Fecha de término del periodo que se informa' (upload template). Expectations and the
MISSING_COLUMNS rule compare folded labels, so folding lives in one place.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from scrapers.discovery import normalize_text

# The columns every SIPOT format carries (reference/sipot_common_columns.tsv), folded.
COMMON_LABELS = frozenset(
    {
        "id",
        "fecha creacion",
        "fecha modificacion",
        "sujeto obligado",
        "ejercicio",
        "periodo que se informa",
        "fecha de inicio del periodo que se informa",
        "fecha de termino del periodo que se informa",
        "fecha de validacion",
        "area responsable de la informacion",
        "ano",
        "fecha de actualizacion",
        "nota",
    }
)
# Long labels whose wording changed between LTG editions: matched by their start.
COMMON_PREFIXES = (
    "area(s) responsable(s)",
    "area(s) o unidad(es) administrativa(s)",
    "fecha de inicio del periodo",
    "fecha de termino del periodo",
)
# Labels that mark a platform export (the PNT adds them before the format's own columns).
PLATFORM_LABELS = ("id", "fecha creacion", "fecha modificacion")
# At least this many common labels make a row a SIPOT header.
SIPOT_HEADER_MIN = 2

# Rows 1-4 of a PNT consultation export: 'Nombre del Sujeto Obligado:' | value, and so on.
METADATA_LABELS = {
    "nombre del sujeto obligado": "sujeto_obligado",
    "sujeto obligado": "sujeto_obligado",
    "normativa": "normativa",
    "formato": "formato",
    "periodo": "periodo",
}

_CATALOG_SHEET = re.compile(r"^hidden_?\d+$", re.IGNORECASE)
_SUBTABLE_SHEET = re.compile(r"^tabla[ _]?\d+$", re.IGNORECASE)
_DOUBLE_SPACE = re.compile(r"(?<=\S) {2,}(?=\S)")
_OPEN_PAREN = re.compile(r"\(\s+")
_CLOSE_PAREN = re.compile(r"\s+\)")


def normalize_label(label: str, commas_as_double_spaces: bool = False) -> str:
    """Fold a column label: lower case, no accents, single spaces, no padding inside parentheses.

    PNT exports replace every comma of a label with a space, leaving a double space ('GENERA(N)
    POSEE(N)'); with ``commas_as_double_spaces`` those become ', ' again, so the label compares
    equal to the official wording. Other files keep a double space as a typo and just collapse it.
    Mojibake ('FracciÃ³n') is repaired by the shared folding function.
    """
    text = label.strip()
    if commas_as_double_spaces:
        text = _DOUBLE_SPACE.sub(", ", text)
    folded = normalize_text(text)
    folded = _OPEN_PAREN.sub("(", folded)
    return _CLOSE_PAREN.sub(")", folded)


def is_common_label(folded: str) -> bool:
    """Whether a folded label is one of the columns all SIPOT formats share."""
    return folded in COMMON_LABELS or folded.startswith(COMMON_PREFIXES)


def header_score(cells: Sequence[str]) -> int:
    """How many cells of a row are common SIPOT labels (the header-row detector's vote)."""
    return sum(1 for cell in cells if cell and is_common_label(normalize_label(cell, True)))


def is_sipot_header(folded_labels: Sequence[str]) -> bool:
    """A header follows a SIPOT format: Ejercicio plus at least two other common columns.

    One shared label is not enough: plenty of budget tables have an 'Ejercicio' and a 'Nota'.
    """
    labels = set(folded_labels)
    if "ejercicio" not in labels:
        return False
    return sum(1 for label in folded_labels if is_common_label(label)) >= SIPOT_HEADER_MIN + 1


def is_platform_header(folded_labels: Sequence[str]) -> bool:
    """The PNT export's own first columns are present (ID, FECHA CREACION, FECHA MODIFICACION)."""
    return all(label in folded_labels for label in PLATFORM_LABELS)


def metadata_key(label: str) -> str | None:
    """The metadata field a first-column label like 'Normativa:' introduces, or None."""
    text = label.strip()
    if not text.endswith(":"):
        return None
    return METADATA_LABELS.get(normalize_label(text[:-1]))


def is_catalog_sheet(name: str) -> bool:
    """'Hidden_1' (exports, newer templates) or 'hidden1' (older templates)."""
    return bool(_CATALOG_SHEET.match(name.strip()))


def is_subtable_sheet(name: str) -> bool:
    """'Tabla_325313' (exports, newer templates), 'Tabla 214585' or 'TABLA221989' (older)."""
    return bool(_SUBTABLE_SHEET.match(name.strip()))
