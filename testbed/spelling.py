"""How portals write 'Fracción VIII': every portal picks one style and sticks to it.

Real portals write the same reference many ways ("Fracción VIII", "FRACCION VIII",
"Fr. 8", "Fracc. VIII", "fracción viii", with and without accents, roman or arabic), and
the audit has to recognise all of them.
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache

from audit.obligations import roman_to_int as _roman_to_int

# style -> (fraction template, inciso template, article template, accents kept)
STYLES: dict[str, tuple[str, str, str, bool]] = {
    "fraccion_roman": ("Fracción {roman}", "inciso {lower})", "Artículo {n}", True),
    "upper_noaccent": ("FRACCION {roman}", "INCISO {upper}", "ARTICULO {n}", False),
    "fr_arabic": ("Fr. {n}", "{lower})", "Art. {n}", True),
    "fracc_roman": ("Fracc. {roman}", "- {upper}", "Art. {n}", True),
    "lower_roman": ("fracción {lower_roman}", "inciso {lower}", "artículo {n}", True),
    "fraccion_arabic": ("Fracción {n}", "Formato {upper}", "Artículo {n}", True),
    "fraccion_noaccent": ("Fraccion {roman}.-", "Inciso {upper}", "Articulo {n}", False),
}


@lru_cache(maxsize=8192)
def roman_to_int(text: str) -> int:
    """Cached: site builders convert the same few numerals thousands of times."""
    return _roman_to_int(text)


@lru_cache(maxsize=65536)
def strip_accents(text: str) -> str:
    """'Fracción' -> 'Fraccion' (portals that write without accents)."""
    decomposed = unicodedata.normalize("NFKD", text)
    return unicodedata.normalize(
        "NFC", "".join(ch for ch in decomposed if not unicodedata.combining(ch)))


def _fill(template: str, roman: str) -> str:
    return template.format(roman=roman, lower_roman=roman.lower(), n=roman_to_int(roman))


def fraction_label(style: str, roman: str) -> str:
    """The fraction reference as this portal writes it."""
    return _fill(STYLES[style][0], roman)


def inciso_label(style: str, letter: str) -> str:
    """The sub-format reference ('inciso a)', 'Formato A'…) as this portal writes it."""
    return STYLES[style][1].format(lower=letter.lower(), upper=letter.upper())


def article_label(style: str, article: int) -> str:
    return STYLES[style][2].format(n=article)


@lru_cache(maxsize=65536)
def title_text(style: str, title: str) -> str:
    """Obligation titles follow the portal's accent and case habits."""
    text = title if STYLES[style][3] else strip_accents(title)
    return text.upper() if style == "upper_noaccent" else text


@lru_cache(maxsize=65536)
def entry_label(style: str, roman: str, letter: str | None) -> str:
    """'Fracción XXVIII inciso a)' / 'Fr. 28 a)' / 'FRACCION XXVIII INCISO A'."""
    label = fraction_label(style, roman)
    return f"{label} {inciso_label(style, letter)}" if letter else label
