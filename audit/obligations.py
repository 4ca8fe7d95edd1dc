"""Core value types for obligations: the catalog entry and a reference to one.

An ``Obligation`` is one auditable unit of a law's catalog: an article's fraction, or one
of its sub-formats (SIPOT splits some fractions, e.g. Art. 70 fr. II into II-A estructura
orgánica and II-B organigrama). An ``ObligationRef`` is what discovery reads off a portal
("Fracción II inciso b"); it may stop at the fraction, in which case it covers every
sub-format of that fraction.
"""

from __future__ import annotations

import re
import textwrap
from dataclasses import dataclass, field

_ROMAN_VALUES = (
    (1000, "M"), (900, "CM"), (500, "D"), (400, "CD"), (100, "C"), (90, "XC"),
    (50, "L"), (40, "XL"), (10, "X"), (9, "IX"), (5, "V"), (4, "IV"), (1, "I"),
)
_ROMAN_RE = re.compile(r"^M{0,3}(CM|CD|D?C{0,3})(XC|XL|L?X{0,3})(IX|IV|V?I{0,3})$")


def int_to_roman(number: int) -> str:
    """1 -> 'I', 48 -> 'XLVIII'. Only 1..3999 make sense for fractions."""
    if not 0 < number < 4000:
        raise ValueError(f"cannot write {number} as a roman numeral")
    out = []
    for value, letters in _ROMAN_VALUES:
        count, number = divmod(number, value)
        out.append(letters * count)
    return "".join(out)


def roman_to_int(text: str) -> int:
    """'xlviii' -> 48. Raises ValueError for anything that is not a canonical numeral."""
    roman = text.strip().upper()
    if not roman or not _ROMAN_RE.match(roman):
        raise ValueError(f"not a roman numeral: {text!r}")
    total, index = 0, 0
    for value, letters in _ROMAN_VALUES:
        while roman.startswith(letters, index):
            total += value
            index += len(letters)
    return total


@dataclass(frozen=True, order=True)
class ObligationRef:
    """A pointer to an obligation as read from a portal: article, fraction, sub-format.

    ``fraction`` is an upper-case roman numeral, ``subformat`` an upper-case letter; either
    may be None (a whole article's page, or a whole fraction's page).
    """

    article: int
    fraction: str | None = None
    subformat: str | None = None

    @property
    def obligation_id(self) -> str:
        parts = [str(self.article)]
        if self.fraction:
            parts.append(self.fraction)
            if self.subformat:
                parts.append(self.subformat)
        return "-".join(parts)

    def covers(self, obligation: Obligation) -> bool:
        """True when a page for this ref publishes ``obligation`` (a fraction page covers
        all its sub-formats; a sub-format page covers only itself)."""
        if self.article != obligation.article or self.fraction != obligation.fraction:
            return False
        return self.subformat is None or self.subformat == obligation.subformat

    @classmethod
    def parse(cls, obligation_id: str) -> ObligationRef:
        """'70-XXVIII-B' -> ObligationRef(70, 'XXVIII', 'B')."""
        parts = obligation_id.split("-")
        if not 1 <= len(parts) <= 3 or not parts[0].isdigit():
            raise ValueError(f"not an obligation id: {obligation_id!r}")
        fraction = parts[1].upper() if len(parts) > 1 else None
        if fraction is not None:
            roman_to_int(fraction)
        subformat = parts[2].upper() if len(parts) > 2 else None
        return cls(int(parts[0]), fraction, subformat)


@dataclass(frozen=True)
class Obligation:
    """One entry of a law's obligation catalog (see ``audit/catalogs/``)."""

    law: str
    obligation_id: str
    article: int
    fraction: str | None
    subformat: str | None
    title: str
    # Registry subject types (DESIGN section 4) the article applies to; "*" means all.
    applies_to: frozenset[str]
    # Government levels it applies to (federal/estatal/municipal); empty means all levels.
    levels: frozenset[str] = frozenset()
    # Optional regular expression on the subject's name that narrows applicability
    # (Art. 74: electoral bodies, human-rights commissions, transparency guarantors).
    name_pattern: str | None = None
    update_period: str = "trimestral"
    update_period_text: str = ""
    conservation_period: str = ""
    verified: bool = False
    keywords: tuple[str, ...] = field(default=())

    @property
    def ref(self) -> ObligationRef:
        return ObligationRef(self.article, self.fraction, self.subformat)

    @property
    def label(self) -> str:
        """``70-IX (Gastos por concepto de viáticos…)``: the id and the title, cut at a word,
        for finding messages."""
        return f"{self.obligation_id} ({textwrap.shorten(self.title, 90, placeholder='…')})"

    @property
    def fraction_number(self) -> int | None:
        return roman_to_int(self.fraction) if self.fraction else None
