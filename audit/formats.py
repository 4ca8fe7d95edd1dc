"""Official SIPOT formats: the columns each obligation's dataset must carry, and header matching.

A published file is only useful when it follows the official format of its obligation: the
MISSING_COLUMNS finding, the freshness rules (which read 'Fecha de término del periodo' and
'Fecha de actualización') and the data-quality expectations all start from "which official
format is this, in which LTG edition, and which published column is which criterion".

The formats are versioned data next to the obligation catalog (``audit/catalogs/<LAW>/formats/``,
layout in ``audit/catalogs/README.md``), generated from the reference material by
``audit/catalogs/build_formats.py``. A bad data file fails loudly, naming the file and line, as
the obligation catalog does: a wrong format would raise wrong findings for every subject.

Matching is tolerant on purpose. The same criterion reads 'Área(s) responsable(s) que genera(n),
posee(n)…' in a template, 'ÁREA(S) RESPONSABLE(S) QUE GENERA(N)  POSEE(N)…' in a PNT export and
' Área Responsable de La Información' in a 2016-era state system; the LTG editions of 2016, 2018
and 2021/2023 add, split and drop columns. So labels are folded (``normalize_label``), compared
as sets of words, and paired by an optimal one-to-one assignment, so that a generic 'Nombre'
cannot take 'Nombre del proveedor' away from the column it really is.
"""

from __future__ import annotations

import functools
import math
import re
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import MappingProxyType
from typing import Any

from audit.catalog import (
    CATALOGS_DIR,
    DEFAULT_LAW,
    Catalog,
    CatalogError,
    _read_tsv,
    _Row,
    load_catalog,
    normalize_text,
)
from audit.obligations import ObligationRef

FORMATS_DIR_NAME = "formats"
FORMAT_COLUMNS = ("format_id", "obligation_id", "edition", "title", "sipot_id", "verified",
                  "source")
COLUMN_COLUMNS = ("format_id", "position", "label", "type", "required", "role", "catalog",
                  "table_id", "note")
SUBTABLE_COLUMNS = ("format_id", "table_id", "position", "label", "type")

# LTG editions a format can belong to: the year its column layout took effect.
EDITIONS: Mapping[str, str] = MappingProxyType({
    "2016": "LTG DOF 04-05-2016 (y reformas de 2016-2017): 'Periodo que se informa', 'Año'",
    "2018": "LTG reforma DOF 28-12-2017 ('LGTAIP_LTG_2018'): fechas de inicio y término del "
            "periodo, 'Fecha de validación'",
    "2023": "LTG reformas de 2020, 2021 y 2023: sin 'Fecha de validación'; criterios con "
            "perspectiva de género",
})
# Column types (SIPOT field-type codes 1-14 in upload templates, folded to what rules need).
COLUMN_TYPES = ("texto", "texto_largo", "numero", "fecha", "hora", "moneda", "url", "archivo",
                "catalogo", "tabla", "anio", "nota")
# Roles of the columns every format shares, in the order they appear in a format.
COMMON_ROLES = ("ejercicio", "periodo", "periodo_inicio", "periodo_fin", "area_responsable",
                "fecha_validacion", "anio", "fecha_actualizacion", "nota")
ROLES = (*COMMON_ROLES, "hyperlink")
# Columns the platform or a state system adds around the format's own (never missing/extra).
METADATA_LABELS = frozenset({"id", "fecha creacion", "fecha modificacion", "sujeto obligado",
                             "nombre del sujeto obligado"})

# Header rows whose format match is remembered (per format catalog).
MATCH_CACHE_SIZE = 4096
# A published header matches a format when its score reaches this.
MATCH_THRESHOLD = 0.5
# Two labels are paired only when their similarity reaches this ('Primer apellido' and
# 'Segundo apellido' share half their words and must stay apart).
PAIR_THRESHOLD = 0.55
# Unrestricted matching scores only the formats whose vocabulary is closest (speed).
SHORTLIST = 10
# Restricted matching gives up when another obligation's format scores this much higher.
DOMINANCE_MARGIN = 0.2
# Other obligations' formats this close to the winner are reported as ambiguous.
AMBIGUITY_MARGIN = 0.05
# Weight floor for generic labels ('Mensaje', 'Nombre(s)') that many formats share.
MIN_WEIGHT = 0.2

_FORMAT_ID_RE = re.compile(r"^(?P<obligation>\d+-[IVXLCDM]+(?:-[A-Z])?):(?P<edition>\d{4}):"
                           r"(?P<tag>[a-z0-9]+(?:-[a-z0-9]+)*)$")
_CRITERION_PREFIX_RE = re.compile(
    r"^\s*este\s+criterio\s+aplica\s+(?:a\s+partir\s+del|para\s+ejercicios\s+anteriores\s+al)"
    r"\s+[\d/.-]+\s*(?:->|-&gt;|→|>|:)?\s*", re.IGNORECASE)
_LABEL_NOISE_RE = re.compile(
    r"\(\s*cat[aá]logo\s*\)"                                  # '(catálogo)', '(CATÁLOGO )'
    r"|\(\s*tabla(?:[ _]?\d+)?\s*\)"                          # '(Tabla)', '(Tabla_325313)'
    r"|\btabla[ _]\d+\b"                                      # '  Tabla_512939' (templates)
    r"|\(\s*redactad[oa]s?\s+con\s+perspectiva\s+de\s+g[eé]nero\s*\)",
    re.IGNORECASE)
_STOPWORDS = frozenset({"de", "del", "la", "las", "el", "los", "lo", "y", "o", "u", "e", "en",
                        "a", "al", "su", "sus", "por", "para", "que", "se", "con", "un", "una",
                        "es", "as", "os"})


class FormatError(CatalogError):
    """A format data file fails validation (``path`` and ``line`` say where)."""


# --------------------------------------------------------------------------- labels


def normalize_label(text: str) -> str:
    """Fold a column label so that every way SIPOT writes one criterion compares equal.

    Case, accents, punctuation and spacing go (exports write commas as double spaces); so do
    the decorations that are not part of the criterion: '(catálogo)', '(Tabla_325313)',
    '(Redactados con perspectiva de género)' and the 2023 prefix 'ESTE CRITERIO APLICA A
    PARTIR DEL 01/04/2023 ->'.
    """
    return _normalize_label(text)


@functools.lru_cache(maxsize=16384)
def _normalize_label(text: str) -> str:
    bare = _CRITERION_PREFIX_RE.sub("", text)
    bare = _LABEL_NOISE_RE.sub(" ", bare)
    return normalize_text(bare)


@functools.lru_cache(maxsize=16384)
def _tokens(folded: str) -> tuple[str, ...]:
    """Content words of a folded label: stopwords and one-letter '(s)'/'(n)' endings dropped."""
    return tuple(t for t in folded.split() if len(t) > 1 and t not in _STOPWORDS)


def detect_role(label: str) -> str | None:
    """Which common role a label plays (``COMMON_ROLES``), 'hyperlink', or None.

    Written for every edition's wording: 2016 'Área responsable de la información' and 2018+
    'Área(s) responsable(s) que genera(n)…' are both ``area_responsable``; 'Periodo que se
    informa' (2016, free text) is ``periodo``, not ``periodo_inicio``.
    """
    return _role_of(normalize_label(label))


@functools.lru_cache(maxsize=16384)
def _role_of(folded: str) -> str | None:
    words = folded.split()
    exact = {"ejercicio": "ejercicio", "ano": "anio", "nota": "nota", "notas": "nota",
             "periodo que se informa": "periodo"}
    if folded in exact:
        return exact[folded]
    if folded.startswith("fecha de validacion"):
        return "fecha_validacion"
    if folded.startswith("fecha de actualizacion"):
        return "fecha_actualizacion"
    if {"fecha", "periodo", "informa"} <= set(words):
        if "inicio" in words:
            return "periodo_inicio"
        if "termino" in words:
            return "periodo_fin"
    if (words and words[0] in ("area", "areas") and "informacion" in words
            and any(w.startswith(("responsable", "genera")) for w in words)):
        return "area_responsable"
    if words and words[0] == "hipervinculo":
        return "hyperlink"
    return None


def _words_match(a: str, b: str) -> bool:
    """Equal, or one a prefix of the other: plurals ('apellidos') and abbreviations ('imp.')."""
    if a == b:
        return True
    short, long_ = (a, b) if len(a) <= len(b) else (b, a)
    return len(short) >= 3 and long_.startswith(short)


@functools.lru_cache(maxsize=65536)
def _similarity(a: str, b: str) -> float:
    """Similarity of two folded labels in 0..1: mean of Dice and containment on their words.

    Containment lets a short published label ('Nombre(s)') reach its longer official wording
    ('Nombre(s) del adjudicado'); Dice keeps it below an exact match, so the assignment still
    prefers the exact one when both are there.
    """
    if a == b:
        return 1.0
    ta, tb = _tokens(a), _tokens(b)
    if not ta or not tb:
        return 0.0
    unused = list(tb)
    common = 0
    for word in ta:
        for index, other in enumerate(unused):
            if _words_match(word, other):
                common += 1
                del unused[index]
                break
    if not common:
        return 0.0
    dice = 2 * common / (len(ta) + len(tb))
    containment = common / min(len(ta), len(tb))
    return (dice + containment) / 2


# --------------------------------------------------------------------------- data types


@dataclass(frozen=True)
class Column:
    """One criterion (column) of an official format, or of one of its sub-tables."""

    position: int
    label: str
    type: str
    required: bool = True
    role: str | None = None
    # Allowed values of a 'catalogo' column (its Hidden_n sheet); empty when not known.
    catalog: tuple[str, ...] = ()
    # The sub-table a 'tabla' column points to: sheet 'Tabla_<table_id>' (None: not known).
    table_id: str | None = None
    note: str = ""

    @property
    def key(self) -> str:
        """The folded label used for matching."""
        return normalize_label(self.label)


@dataclass(frozen=True, eq=False)
class Format:
    """One official format: an obligation's columns in one LTG edition, from one source."""

    format_id: str
    obligation_id: str
    edition: str
    title: str
    columns: tuple[Column, ...]
    verified: bool
    source: str
    sipot_id: str = ""
    # Sub-table id -> its columns (without the 'ID' join column); may be incomplete.
    tables: Mapping[str, tuple[Column, ...]] = field(
        default_factory=lambda: MappingProxyType({}))

    def __repr__(self) -> str:
        return f"<Format {self.format_id}: {len(self.columns)} columns>"

    @property
    def labels(self) -> list[str]:
        return [c.label for c in self.columns]

    def column_for_role(self, role: str) -> Column | None:
        """The format's column playing ``role`` (a common role), if it has one."""
        return next((c for c in self.columns if c.role == role), None)


@dataclass(frozen=True)
class FormatMatch:
    """How a published header row corresponds to one official format.

    ``score`` (0..1) measures the correspondence of the *substantive* columns, weighted by
    how distinctive each label is: the common columns (period, responsible area, dates, note)
    are in every format and say nothing about which one a file follows, so they count in
    ``missing_columns``/``extra_columns`` but not in the score. ``matched`` pairs published
    headers (as given) with official labels. ``missing_columns`` lists required official
    labels nobody published, except platform metadata and the columns the edition explains,
    which are in ``explained_columns`` with the reason (Spanish: reports quote it).
    """

    format_id: str
    obligation_id: str
    edition: str
    score: float
    matched: list[tuple[str, str]]
    missing_columns: list[str]
    extra_columns: list[str]
    explained_columns: list[tuple[str, str]] = field(default_factory=list)
    verified: bool = False
    # Formats of other obligations that fit as well (within AMBIGUITY_MARGIN): the header
    # alone cannot tell them apart.
    ambiguous_with: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready form (``lupa inspect --json``, evidence records)."""
        return {
            "format_id": self.format_id, "obligation_id": self.obligation_id,
            "edition": self.edition, "score": self.score, "verified": self.verified,
            "matched": [list(pair) for pair in self.matched],
            "missing_columns": list(self.missing_columns),
            "extra_columns": list(self.extra_columns),
            "explained_columns": [list(pair) for pair in self.explained_columns],
            "ambiguous_with": list(self.ambiguous_with),
        }


# --------------------------------------------------------------------------- catalog


class FormatCatalog:
    """The validated official formats of one law version. Immutable; shared."""

    def __init__(self, law: str, formats: Sequence[Format], catalog: Catalog) -> None:
        self.law = law
        self.formats = tuple(formats)
        self._by_id = MappingProxyType({f.format_id: f for f in self.formats})
        self._known_ids = _known_obligation_ids(catalog)
        self._catalog_ids = tuple(o.obligation_id for o in catalog.obligations)
        self._role_by_key = _role_index(self.formats)
        self._weights = _label_weights(self.formats)
        self._vocabulary = {f.format_id: _format_vocabulary(f) for f in self.formats}
        self._fraction_of = {f.format_id: _fraction_id(f.obligation_id) for f in self.formats}
        # match_headers answers by (published headers, obligation): a portal publishes the
        # same header in every period's file, so most questions were asked before.
        self._match_cache: dict[tuple, FormatMatch | None] = {}

    def __repr__(self) -> str:
        return f"<FormatCatalog {self.law}: {len(self.formats)} formats>"

    def __len__(self) -> int:
        return len(self.formats)

    def __iter__(self) -> Iterator[Format]:
        return iter(self.formats)

    def __contains__(self, format_id: object) -> bool:
        return format_id in self._by_id

    def get(self, format_id: str) -> Format:
        """The format with this id; KeyError when there is none."""
        return self._by_id[format_id]

    def formats_for(self, obligation_id: str) -> list[Format]:
        """Every format known for an obligation, oldest edition first.

        A fraction-level id ('70-XXVIII') also gets its sub-formats' formats; a sub-format id
        ('70-IX-A') also gets the fraction's merged format (the 2018 'viáticos y
        representación' covers IX-A and IX-B). KeyError for ids the law does not have.
        """
        if obligation_id not in self._known_ids:
            raise KeyError(f"{obligation_id!r} is not an obligation of {self.law}")
        ref = ObligationRef.parse(obligation_id)
        fraction_id = f"{ref.article}-{ref.fraction}"
        found = [f for f in self.formats
                 if f.obligation_id == obligation_id
                 or (ref.subformat and f.obligation_id == fraction_id)
                 or (not ref.subformat and self._fraction_of[f.format_id] == fraction_id)]
        return sorted(found, key=lambda f: (f.edition, f.format_id))

    def obligations_without_formats(self) -> list[str]:
        """Catalog obligations no format covers (their files cannot be checked for columns)."""
        return [i for i in self._catalog_ids if not self.formats_for(i)]

    def common_roles(self, headers: Sequence[str | None]) -> dict[str, str]:
        """Which published header plays each common role ('ejercicio', 'periodo_fin', …).

        Roles the header lacks are absent from the result; the first header wins a role.
        Keys are from ``COMMON_ROLES`` (2016 files have 'periodo' and 'anio' instead of the
        period dates); values are the headers exactly as given.
        """
        found: dict[str, str] = {}
        for header in headers:
            if not isinstance(header, str) or not header.strip():
                continue
            key = normalize_label(header)
            role = self._role_by_key.get(key) or _role_of(key)
            if role in COMMON_ROLES and role not in found:
                found[role] = header
        return found

    def match(self, headers: Sequence[str | None], obligation_id: str | None = None
              ) -> FormatMatch | None:
        """Same as ``match_headers(headers, self, obligation_id)``."""
        return match_headers(headers, self, obligation_id)

    def match_format(self, headers: Sequence[str | None], format_or_id: Format | str
                     ) -> FormatMatch:
        """How ``headers`` correspond to one given format, whatever the score."""
        fmt = format_or_id if isinstance(format_or_id, Format) else self.get(format_or_id)
        return _match(_published(headers), fmt, self._weights)

    def shortlist(self, headers: Sequence[str | None], size: int = SHORTLIST) -> list[Format]:
        """The formats whose vocabulary is closest to the headers' (cheap pre-selection)."""
        return self._shortlist(_published(headers), size)

    def _shortlist(self, published: list[_Published], size: int) -> list[Format]:
        words = {t for p in published if p.role not in COMMON_ROLES for t in _tokens(p.key)}
        if not words:
            words = {t for p in published for t in _tokens(p.key)}

        def overlap(fmt: Format) -> float:
            vocabulary = self._vocabulary[fmt.format_id]
            union = len(words | vocabulary)
            return len(words & vocabulary) / union if union else 0.0

        ranked = sorted(self.formats, key=lambda f: (-overlap(f), f.format_id))
        return ranked[:size]


def _fraction_id(obligation_id: str) -> str:
    ref = ObligationRef.parse(obligation_id)
    return f"{ref.article}-{ref.fraction}"


def _known_obligation_ids(catalog: Catalog) -> frozenset[str]:
    """Catalog ids plus the fraction-level ids of fractions audited by sub-formats."""
    ids = {o.obligation_id for o in catalog.obligations}
    ids |= {f"{article}-{fraction}" for article, fraction in catalog.by_fraction()}
    return frozenset(ids)


def _role_index(formats: Sequence[Format]) -> Mapping[str, str]:
    """Folded label -> common role, from the data (unambiguous labels only)."""
    seen: dict[str, set[str]] = {}
    for fmt in formats:
        for column in fmt.columns:
            if column.role in COMMON_ROLES:
                seen.setdefault(column.key, set()).add(column.role)
    return MappingProxyType({key: next(iter(r)) for key, r in seen.items() if len(r) == 1})


def _label_weights(formats: Sequence[Format]) -> Mapping[str, float]:
    """Folded label -> how distinctive it is: 1 for a label of one format, less the more
    formats share it (inverse document frequency, floored at ``MIN_WEIGHT``)."""
    frequency = Counter(key for f in formats for key in {c.key for c in f.columns})
    total = max(len(formats), 2)
    return MappingProxyType({
        key: max(MIN_WEIGHT, 1 - math.log(count) / math.log(total))
        for key, count in frequency.items()
    })


def _format_vocabulary(fmt: Format) -> frozenset[str]:
    words = {t for c in fmt.columns if c.role not in COMMON_ROLES for t in _tokens(c.key)}
    return frozenset(words or {t for c in fmt.columns for t in _tokens(c.key)})


# --------------------------------------------------------------------------- matching


@dataclass(frozen=True)
class _Published:
    index: int
    header: str
    key: str
    role: str | None


def _published(headers: Sequence[str | None]) -> list[_Published]:
    """The format's own columns of a header row: blanks and platform metadata left out."""
    out = []
    for index, header in enumerate(headers):
        if header is None:
            continue
        text = str(header)
        key = normalize_label(text)
        if not key or key in METADATA_LABELS:
            continue
        out.append(_Published(index, text, key, _role_of(key)))
    return out


def match_headers(
    headers: Sequence[str | None], fc: FormatCatalog, obligation_id: str | None = None
) -> FormatMatch | None:
    """The official format a published header row follows best, or None.

    With ``obligation_id`` only that obligation's formats compete (all its editions; see
    ``FormatCatalog.formats_for``), and the answer is None when the header scores under
    ``MATCH_THRESHOLD`` or when another obligation's format fits it clearly better (by
    ``DOMINANCE_MARGIN``: the file is that other obligation's, whatever it shares with this
    one; ask again without ``obligation_id`` to learn which). Without it, every format
    competes. Ties go to the verified format, then to the newer edition; other obligations'
    formats scoring within ``AMBIGUITY_MARGIN`` of the winner are listed in
    ``ambiguous_with`` (some formats differ only in their title). ``headers`` is the header
    row as read: None and blank cells are ignored, and so are ID / FECHA CREACION / FECHA
    MODIFICACION.
    """
    key = (tuple(None if h is None else str(h) for h in headers), obligation_id)
    if key in fc._match_cache:
        return fc._match_cache[key]
    if len(fc._match_cache) >= MATCH_CACHE_SIZE:
        fc._match_cache.clear()
    found = fc._match_cache[key] = _match_uncached(_published(headers), fc, obligation_id)
    return found


def _match_uncached(published: list[_Published], fc: FormatCatalog, obligation_id: str | None
                    ) -> FormatMatch | None:
    if not published:
        return None
    pool = fc._shortlist(published, SHORTLIST)
    own = fc.formats_for(obligation_id) if obligation_id is not None else pool
    results = {f.format_id: _match(published, f, fc._weights)
               for f in (*own, *pool)}
    own_ids = {f.format_id for f in own}
    best = max((results[i] for i in own_ids), key=_rank, default=None)
    if best is None or best.score < MATCH_THRESHOLD:
        return None
    rivals = [m for i, m in results.items() if i not in own_ids or
              (obligation_id is None and m.obligation_id != best.obligation_id)]
    if obligation_id is not None and any(
            m.score >= best.score + DOMINANCE_MARGIN for m in rivals):
        return None
    close = sorted(m.format_id for m in rivals
                   if m.obligation_id != best.obligation_id
                   and m.score >= best.score - AMBIGUITY_MARGIN)
    return replace(best, ambiguous_with=close)


def _rank(found: FormatMatch) -> tuple[float, int, int, bool, str, str]:
    """Best score first; among equals, the edition whose common columns fit (fewest missing,
    most paired), then verified, then newer: editions differ mostly in those columns."""
    return (found.score, -len(found.missing_columns), len(found.matched), found.verified,
            found.edition, found.format_id)


def _pair_similarity(published: _Published, column: Column) -> float:
    """Label similarity, zero when the two play different common roles (a 2016 'Periodo que
    se informa' is not a 2018 'Fecha de inicio del periodo', however many words they share)."""
    if published.role and column.role and published.role != column.role:
        return 0.0
    return _similarity(published.key, column.key)


def _match(published: list[_Published], fmt: Format, weights: Mapping[str, float]
           ) -> FormatMatch:
    columns = fmt.columns
    pairs = _assign(published, columns)
    matched_cols = {j for _, j, _ in pairs}
    matched_pubs = {i for i, _, _ in pairs}
    unmatched = [c for j, c in enumerate(columns) if j not in matched_cols]
    explained = _explained(unmatched, published, fmt)
    explained_labels = {label for label, _ in explained}
    missing = [c.label for c in unmatched if c.required and c.label not in explained_labels]
    extra = [p.header for i, p in enumerate(published) if i not in matched_pubs]
    score = _score(published, columns, pairs, weights, explained_labels)
    return FormatMatch(
        format_id=fmt.format_id, obligation_id=fmt.obligation_id, edition=fmt.edition,
        score=score,
        matched=[(published[i].header, columns[j].label) for i, j, _ in sorted(pairs)],
        missing_columns=missing, extra_columns=extra, explained_columns=explained,
        verified=fmt.verified,
    )


def _score(
    published: list[_Published], columns: tuple[Column, ...],
    pairs: list[tuple[int, int, float]], weights: Mapping[str, float], explained: set[str],
) -> float:
    """Weighted F1 of the substantive columns (see ``FormatMatch``)."""
    def weight(key: str) -> float:
        return weights.get(key, 1.0)

    column_of = {i: j for i, j, _ in pairs}
    pub_weight = 0.0
    for i, p in enumerate(published):
        if i in column_of:
            column = columns[column_of[i]]
            if column.role not in COMMON_ROLES:
                pub_weight += weight(column.key)
        elif p.role not in COMMON_ROLES:
            pub_weight += weight(p.key)
    matched_cols = set(column_of.values())
    official_weight = sum(
        weight(c.key) for j, c in enumerate(columns)
        if c.role not in COMMON_ROLES and c.label not in explained
        and (c.required or j in matched_cols))
    gained = sum(sim * weight(columns[j].key) for _, j, sim in pairs
                 if columns[j].role not in COMMON_ROLES)
    if not official_weight or not pub_weight or not gained:
        return 0.0
    precision, recall = gained / pub_weight, gained / official_weight
    return round(2 * precision * recall / (precision + recall), 4)


def _explained(unmatched: list[Column], published: list[_Published], fmt: Format
               ) -> list[tuple[str, str]]:
    """Official columns whose absence another LTG edition accounts for, with the reason."""
    roles = {p.role for p in published}
    out = []
    for column in unmatched:
        reason = None
        if column.role == "fecha_validacion" and fmt.edition < "2023":
            reason = ("criterio suprimido en las reformas de los LTG de 2020-2023; solo se "
                      "exige en publicaciones anteriores a 2021")
        elif column.role in ("periodo_inicio", "periodo_fin") and "periodo" in roles:
            reason = ("edición 2016 de los LTG: el periodo se informa en una sola columna "
                      "('Periodo que se informa')")
        elif column.role in ("periodo", "anio") and "periodo_inicio" in roles:
            reason = ("edición 2018 o posterior de los LTG: el periodo se informa con fechas "
                      "de inicio y término")
        if reason:
            out.append((column.label, reason))
    return out


def _assign(published: list[_Published], columns: tuple[Column, ...]
            ) -> list[tuple[int, int, float]]:
    """Best one-to-one pairing (maximum total similarity): (published, column, similarity).

    Exact matches that are unique on both sides are fixed first (cheap, and most columns of
    a well-formed file); the optimal assignment (Hungarian method) settles the rest. Pairs
    under ``PAIR_THRESHOLD`` are dropped. A tiny bonus for similar relative positions breaks
    ties between identical labels in favour of the published order.
    """
    by_key: dict[str, list[int]] = {}
    for j, column in enumerate(columns):
        by_key.setdefault(column.key, []).append(j)
    key_count = Counter(p.key for p in published)
    pairs = [(i, by_key[p.key][0], 1.0) for i, p in enumerate(published)
             if len(by_key.get(p.key, ())) == 1 and key_count[p.key] == 1]
    rows = [i for i in range(len(published)) if i not in {i for i, _, _ in pairs}]
    used = {j for _, j, _ in pairs}
    cols = [j for j in range(len(columns)) if j not in used]
    sims = {(i, j): _pair_similarity(published[i], columns[j]) for i in rows for j in cols}
    rows = [i for i in rows if any(sims[i, j] >= PAIR_THRESHOLD for j in cols)]
    cols = [j for j in cols if any(sims[i, j] >= PAIR_THRESHOLD for i in rows)]
    if not rows or not cols:
        return pairs
    n, m = len(published), len(columns)

    def gain(i: int, j: int) -> float:
        if sims[i, j] < PAIR_THRESHOLD:
            return 0.0
        return sims[i, j] + 1e-3 * (1 - abs(i / n - j / m))

    matrix = [[gain(i, j) for j in cols] for i in rows]
    for r, c in _hungarian_max(matrix):
        i, j = rows[r], cols[c]
        if sims[i, j] >= PAIR_THRESHOLD:
            pairs.append((i, j, sims[i, j]))
    return pairs


def _hungarian_max(gains: list[list[float]]) -> list[tuple[int, int]]:
    """Row/column pairs maximising the total gain (rectangular; O(n²m) Hungarian method)."""
    transposed = len(gains) > len(gains[0])
    if transposed:
        gains = [list(column) for column in zip(*gains, strict=True)]
    n, m = len(gains), len(gains[0])
    top = max(max(row) for row in gains)
    cost = [[top - g for g in row] for row in gains]
    # Potentials u (rows) and v (columns); owner[j] = row assigned to column j (1-based, 0 none).
    u, v = [0.0] * (n + 1), [0.0] * (m + 1)
    owner, way = [0] * (m + 1), [0] * (m + 1)
    for row in range(1, n + 1):
        owner[0], col = row, 0
        slack, done = [math.inf] * (m + 1), [False] * (m + 1)
        while owner[col]:
            done[col] = True
            current, delta, next_col = owner[col], math.inf, 0
            for j in range(1, m + 1):
                if done[j]:
                    continue
                reduced = cost[current - 1][j - 1] - u[current] - v[j]
                if reduced < slack[j]:
                    slack[j], way[j] = reduced, col
                if slack[j] < delta:
                    delta, next_col = slack[j], j
            for j in range(m + 1):
                if done[j]:
                    u[owner[j]] += delta
                    v[j] -= delta
                else:
                    slack[j] -= delta
            col = next_col
        while col:
            previous = way[col]
            owner[col] = owner[previous]
            col = previous
    pairs = [(owner[j] - 1, j - 1) for j in range(1, m + 1) if owner[j]]
    return [(c, r) for r, c in pairs] if transposed else pairs


# --------------------------------------------------------------------------- loading


def load_formats(law: str = DEFAULT_LAW) -> FormatCatalog:
    """The official formats of ``law`` (``audit/catalogs/<law>/formats/``), loaded once.

    Validated against the law's obligation catalog (``load_catalog(law)``).
    ``load_formats.cache_clear()`` forgets the cached copy.
    """
    return _cached_formats(law)


@functools.cache
def _cached_formats(law: str) -> FormatCatalog:
    catalog = load_catalog(law)
    return load_formats_dir(CATALOGS_DIR / law / FORMATS_DIR_NAME, catalog)


load_formats.cache_clear = _cached_formats.cache_clear  # type: ignore[attr-defined]


def load_formats_dir(directory: Path | str, catalog: Catalog) -> FormatCatalog:
    """Load and validate the format files in ``directory`` (not cached: tests and tools)."""
    directory = Path(directory)
    heads = _read_formats(directory / "formats.tsv", _known_obligation_ids(catalog))
    columns = _read_columns(directory / "columns.tsv", heads)
    tables = _read_subtables(directory / "subtables.tsv", heads, columns)
    formats = []
    for format_id, (row, values) in heads.items():
        if not columns.get(format_id):
            raise _fail(row, f"format {format_id} has no rows in columns.tsv")
        formats.append(Format(
            columns=tuple(columns[format_id]),
            tables=MappingProxyType({k: tuple(v) for k, v in tables.get(format_id, {}).items()}),
            **values,
        ))
    return FormatCatalog(catalog.law, formats, catalog)


def _fail(row: _Row, message: str) -> FormatError:
    return FormatError(message, row.path, row.line)


def _flag(row: _Row, column: str) -> bool:
    try:
        return row.flag(column)
    except CatalogError as exc:
        raise _fail(row, exc.reason) from None


def _integer(row: _Row, column: str) -> int:
    try:
        return row.integer(column)
    except CatalogError as exc:
        raise _fail(row, exc.reason) from None


def _required(row: _Row, column: str) -> str:
    value = row.get(column)
    if not value:
        raise _fail(row, f"missing {column}")
    return value


def _tsv(path: Path, columns: tuple[str, ...]) -> list[_Row]:
    try:
        return _read_tsv(path, columns)
    except FormatError:
        raise
    except CatalogError as exc:
        raise FormatError(exc.reason, exc.path, exc.line) from None


def _read_formats(path: Path, known_ids: frozenset[str]
                  ) -> dict[str, tuple[_Row, dict[str, Any]]]:
    heads: dict[str, tuple[_Row, dict[str, Any]]] = {}
    for row in _tsv(path, FORMAT_COLUMNS):
        format_id = _required(row, "format_id")
        if format_id in heads:
            raise _fail(row, f"duplicate format_id {format_id!r} (first on line "
                             f"{heads[format_id][0].line})")
        obligation_id = _required(row, "obligation_id")
        if obligation_id not in known_ids:
            raise _fail(row, f"obligation_id {obligation_id!r} is not in the obligation "
                             "catalog (nor a fraction of it)")
        edition = _required(row, "edition")
        if edition not in EDITIONS:
            raise _fail(row, f"unknown edition {edition!r}; known: {', '.join(EDITIONS)}")
        match = _FORMAT_ID_RE.match(format_id)
        if not match or (match["obligation"], match["edition"]) != (obligation_id, edition):
            raise _fail(row, f"format_id {format_id!r} must read "
                             f"'{obligation_id}:{edition}:<tag>' (tag: lower-case letters, "
                             "digits and hyphens)")
        sipot_id = row.get("sipot_id")
        if sipot_id and not sipot_id.isdigit():
            raise _fail(row, f"sipot_id must be the numeric idFormato, not {sipot_id!r}")
        heads[format_id] = (row, {
            "format_id": format_id, "obligation_id": obligation_id, "edition": edition,
            "title": _required(row, "title"), "sipot_id": sipot_id,
            "verified": _flag(row, "verified"), "source": _required(row, "source"),
        })
    return heads


def _read_columns(path: Path, heads: Mapping[str, Any]) -> dict[str, list[Column]]:
    columns: dict[str, list[Column]] = {}
    roles: dict[tuple[str, str], int] = {}
    for row in _tsv(path, COLUMN_COLUMNS):
        format_id = _required(row, "format_id")
        if format_id not in heads:
            raise _fail(row, f"format_id {format_id!r} is not in formats.tsv")
        column = _parse_column(row)
        own = columns.setdefault(format_id, [])
        if column.position != len(own) + 1:
            raise _fail(row, f"position {column.position} of {format_id}: expected "
                             f"{len(own) + 1} (positions run 1, 2, 3… in file order)")
        if column.role in COMMON_ROLES:
            key = (format_id, column.role)
            if key in roles:
                raise _fail(row, f"role {column.role} given twice in {format_id} (first on "
                                 f"line {roles[key]})")
            roles[key] = row.line
        own.append(column)
    return columns


def _parse_column(row: _Row) -> Column:
    kind = _required(row, "type")
    if kind not in COLUMN_TYPES:
        raise _fail(row, f"unknown type {kind!r}; known: {', '.join(COLUMN_TYPES)}")
    role = row.get("role") or None
    if role is not None and role not in ROLES:
        raise _fail(row, f"unknown role {role!r}; known: {', '.join(ROLES)}")
    if role == "hyperlink" and kind not in ("url", "archivo"):
        raise _fail(row, f"role hyperlink needs type url or archivo, not {kind!r}")
    catalog = tuple(v.strip() for v in row.get("catalog").split("|") if v.strip())
    if catalog and kind != "catalogo":
        raise _fail(row, f"catalog values on a column of type {kind!r} (only 'catalogo')")
    table_id = row.get("table_id") or None
    if table_id is not None and kind != "tabla":
        raise _fail(row, f"table_id on a column of type {kind!r} (only 'tabla')")
    if table_id is not None and not table_id.isdigit():
        raise _fail(row, f"table_id must be the numeric id of sheet Tabla_<id>, not "
                         f"{table_id!r}")
    label = _required(row, "label")
    if not normalize_label(label):
        raise _fail(row, f"label {label!r} has no words left once folded")
    return Column(
        position=_integer(row, "position"), label=label, type=kind,
        required=_flag(row, "required"), role=role, catalog=catalog, table_id=table_id,
        note=row.get("note"),
    )


def _read_subtables(path: Path, heads: Mapping[str, Any], columns: Mapping[str, list[Column]]
                    ) -> dict[str, dict[str, list[Column]]]:
    tables: dict[str, dict[str, list[Column]]] = {}
    if not path.exists():
        return tables
    for row in _tsv(path, SUBTABLE_COLUMNS):
        format_id = _required(row, "format_id")
        if format_id not in heads:
            raise _fail(row, f"format_id {format_id!r} is not in formats.tsv")
        table_id = _required(row, "table_id")
        if table_id not in {c.table_id for c in columns.get(format_id, ())}:
            raise _fail(row, f"table_id {table_id} is not a 'tabla' column of {format_id}")
        kind = row.get("type") or "texto"
        if kind not in COLUMN_TYPES:
            raise _fail(row, f"unknown type {kind!r}; known: {', '.join(COLUMN_TYPES)}")
        own = tables.setdefault(format_id, {}).setdefault(table_id, [])
        position = _integer(row, "position")
        if position != len(own) + 1:
            raise _fail(row, f"position {position} of table {table_id}: expected "
                             f"{len(own) + 1}")
        own.append(Column(position=position, label=_required(row, "label"), type=kind))
    return tables
