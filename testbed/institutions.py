"""The real list of obligated subjects (PNT 2025) and how each maps to a registry row.

The testbed names its simulated portals after the 8,646 institutions the national platform
listed in 2025 (``data/pnt_institutions_2025.tsv.gz``, a copy of
``shared/reference/pnt_institutions_2025.tsv``), so that the audit meets the same variety of
names, levels and kinds of subject it will meet in production. Level, kind and state are
derived from the name and the PNT ámbito code with the heuristics below; they are what the
ground truth calls right, whatever the real institution is.
"""

from __future__ import annotations

import csv
import gzip
import io
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from audit.subjects import STATES

DATA = Path(__file__).with_name("data") / "pnt_institutions_2025.tsv.gz"

_PREFIX = re.compile(r"^\s*(?:[A-Z]{3}(?:-[A-Z]{1,3})?)\s*[-–]\s*")
_ACRONYM = re.compile(r"\(([A-ZÁÉÍÓÚÑ][A-ZÁÉÍÓÚÑ0-9\-\. ]{1,14})\)\s*$")
_PARTY_NAMES = frozenset({
    "MORENA", "PAN", "PRI", "PRD", "PT", "PVEM", "MOVIMIENTO CIUDADANO", "MORENA (MORENA)",
})

# (kind, patterns on the folded upper-case name), checked in order: the first match wins.
# Unions come first (a union "del Poder Judicial" is a union), then the bodies whose names
# contain words of others ("Fondo" appears in many executive names, so it is checked late).
_KIND_RULES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("sindicato", ("SINDICATO",)),
    ("autoridad_laboral", ("CONCILIACION Y ARBITRAJE", "CENTRO DE CONCILIACION LABORAL",
                           "CENTRO FEDERAL DE CONCILIACION", "TRIBUNAL DE ARBITRAJE")),
    ("partido_politico", ("PARTIDO", "CANDIDATO INDEPENDIENTE", "CANDIDATO_INDEPENDIENTE",
                          "CANDIDATURA INDEPENDIENTE", "AGRUPACION POLITICA")),
    ("legislativo", ("CONGRESO DEL ESTADO", "CONGRESO DE LA CIUDAD", "H. CONGRESO",
                     "PODER LEGISLATIVO", "CAMARA DE DIPUTADOS", "CAMARA DE SENADORES",
                     "SENADO DE LA REPUBLICA", "ASAMBLEA LEGISLATIVA", "LEGISLATURA")),
    ("judicial", ("TRIBUNAL SUPERIOR DE JUSTICIA", "PODER JUDICIAL", "CONSEJO DE LA JUDICATURA",
                  "SUPREMA CORTE", "CONSEJO DE LA JUDICATURA FEDERAL")),
    ("universidad", ("UNIVERSIDAD",)),
    ("autonomo", ("INSTITUTO ELECTORAL", "INSTITUTO NACIONAL ELECTORAL",
                  "INSTITUTO ESTATAL ELECTORAL", "DERECHOS HUMANOS",
                  "INSTITUTO DE TRANSPARENCIA", "INSTITUTO NACIONAL DE TRANSPARENCIA",
                  "COMISION DE TRANSPARENCIA", "INSTITUTO DE ACCESO A LA INFORMACION",
                  "COMISION ESTATAL PARA EL ACCESO A LA INFORMACION", "FISCALIA GENERAL",
                  "BANCO DE MEXICO", "INSTITUTO NACIONAL DE ESTADISTICA", "TRIBUNAL ELECTORAL")),
    ("fideicomiso", ("FIDEICOMISO", "FONDO ", "FONDO-", "MANDATO ", "MANDATO-")),
)
_MUNICIPAL = re.compile(
    r"^(H\.?\s*)?(AYUNTAMIENTO|MUNICIPIO|H\.?\s*AYUNTAMIENTO|GOBIERNO MUNICIPAL)\b"
    r"|\bDEL MUNICIPIO DE\b|\bMUNICIPAL\b|\bMUNICIPALES\b|\bALCALDIA\b")


def fold(text: str) -> str:
    """Upper-case without accents: names are written every way on the PNT list."""
    decomposed = unicodedata.normalize("NFKD", text.upper())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


@dataclass(frozen=True)
class Institution:
    """One row of the PNT list, with the registry fields derived from it."""

    pnt_id: str
    ambito: str
    raw_name: str
    name: str
    acronym: str
    level: str
    state: str
    subject_type: str


def clean_name(raw: str) -> str:
    """'AGU - MUNICIPIO DE ASIENTOS' -> 'MUNICIPIO DE ASIENTOS' (the ámbito prefix is PNT's)."""
    return _PREFIX.sub("", raw, count=1).strip() or raw.strip()


def acronym_of(name: str) -> str:
    """A trailing '(CONACYT)' is the acronym; most names carry none."""
    match = _ACRONYM.search(name)
    return match.group(1).strip() if match else ""


def subject_type_of(name: str) -> str:
    """The registry subject type a name suggests (DESIGN section 4); 'ejecutivo' otherwise."""
    folded = fold(name)
    if folded.strip() in _PARTY_NAMES:
        return "partido_politico"
    for kind, patterns in _KIND_RULES:
        if any(pattern in folded for pattern in patterns):
            return kind
    return "ejecutivo"


def state_code_of(ambito: str, raw_name: str) -> str:
    """The ámbito code, recovered from the name for the few rows the PNT left blank."""
    if ambito:
        return ambito
    folded = fold(raw_name)
    if folded.startswith("FED"):
        return "FED"
    for code, state in STATES.items():
        if fold(state) in folded:
            return code
    return "FED"


def classify(pnt_id: str, ambito: str, raw_name: str) -> Institution:
    """Derive level, state and kind (see the module docstring)."""
    code = state_code_of(ambito.strip(), raw_name)
    name = clean_name(raw_name)
    kind = subject_type_of(name)
    if code.startswith("FED"):
        level, state = "federal", ""
    else:
        state = STATES.get(code, "")
        level = "estatal"
        if _MUNICIPAL.search(fold(name)):
            level = "municipal"
        if not state:
            level, state = "federal", ""
    return Institution(pnt_id.strip(), code, raw_name, name, acronym_of(name), level, state,
                       kind)


@lru_cache(maxsize=1)
def load_institutions() -> tuple[Institution, ...]:
    """Every institution of the shipped PNT list, in file order."""
    with gzip.open(DATA, "rb") as handle:
        text = handle.read().decode("utf-8")
    reader = csv.DictReader(io.StringIO(text), delimiter="\t")
    return tuple(classify(row["pnt_institution_id"], row["ambito_code"] or "", row["name"])
                 for row in reader)
