"""Texts that explain an absence, and text that was decoded with the wrong code page.

A published note such as "No se generó información en el periodo" turns a missing dataset into
a justified one (JUSTIFIED_ABSENCE), so readers collect them: the whole NOTA column of a table,
and the matching sentences of a PDF, Word file or page. Mojibake ('FracciÃ³n') is collected
as evidence for ENCODING_ERROR.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable

from scrapers.discovery import normalize_text

MAX_NOTES = 20
MAX_NOTE_CHARS = 1000

# Folded phrases that introduce a justification (LTG "Nota" usage and portal practice).
_JUSTIFICATION = re.compile(
    r"no se (?:ha |han )?(?:genero|generaron|generado|realizo|realizaron|cuenta|tiene|tuvo"
    r"|registro|registraron|recibio|recibieron|otorgo|otorgaron|erogo|presento|presentaron)"
    r"|no (?:existe|existen|hubo|aplica|es aplicable|le aplica|se encuentra|cuenta con)"
    r"|sin (?:informacion|movimientos|registros)"
    r"|no (?:ha )?generad[oa]|no se dispone|informacion inexistente|inexistencia"
)
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+|\n+")
# UTF-8 bytes of accented letters read as windows-1252/latin-1: 'Ã³', 'Ã±', 'Â¿', and U+FFFD.
_MOJIBAKE = re.compile(
    "\u00c3[\u0080-\u00bf\u0152-\u0178\u2013-\u2122]|\u00c2[\u00a0-\u00bf]|\ufffd"
)


def is_justification(text: str) -> bool:
    """Whether a text explains why information does not exist or does not apply."""
    return bool(_JUSTIFICATION.search(normalize_text(text)))


def column_notes(values: Iterable[str | None]) -> list[str]:
    """Distinct non-empty notes of a NOTA column, most frequent first, bounded in count and size."""
    counts = Counter(value.strip() for value in values if value and value.strip())
    return [text[:MAX_NOTE_CHARS] for text, _ in counts.most_common(MAX_NOTES)]


def justification_sentences(text: str) -> list[str]:
    """Sentences of free text (PDF, Word, page) that justify an absence, deduplicated, bounded."""
    found: list[str] = []
    for sentence in _SENTENCE_END.split(text):
        sentence = " ".join(sentence.split())
        if sentence and is_justification(sentence) and sentence not in found:
            found.append(sentence[:MAX_NOTE_CHARS])
            if len(found) >= MAX_NOTES:
                break
    return found


def merge_notes(first: list[str], second: list[str]) -> list[str]:
    """Table notes, then text notes not already among them, bounded like each list."""
    merged = list(first)
    merged.extend(note for note in second if note not in merged)
    return merged[:MAX_NOTES]


def has_mojibake(text: str) -> bool:
    """Whether a text bears the marks of UTF-8 decoded as a single-byte code page, or lost bytes."""
    return bool(_MOJIBAKE.search(text))
