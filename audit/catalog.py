"""Obligation catalogs: versioned data files per law, loaded and validated into a ``Catalog``.

The catalog is data, not code, because it changes on its own schedule (the 2025 law moved
the common obligations to Art. 65; the LTG editions split and merge formats) and because
every value carries provenance that a reviewer must be able to check line by line. Each law
version lives in ``audit/catalogs/<LAW>/`` (layout in ``audit/catalogs/README.md``); this
module only reads, validates and indexes it. A bad data file fails loudly, naming the file
and line, because a silently wrong catalog would turn into wrong findings for every subject.
"""

from __future__ import annotations

import functools
import re
import tomllib
import unicodedata
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

from audit.obligations import Obligation, ObligationRef, int_to_roman, roman_to_int
from audit.subjects import LEVELS, STATES, SUBJECT_TYPES, Subject

DEFAULT_LAW = "LGTAIP-2015"
CATALOGS_DIR = Path(__file__).resolve().parent / "catalogs"

# Normalised update-period keys -> length in months (None: no fixed calendar length, so a
# freshness rule cannot judge it on its own).
UPDATE_PERIODS: Mapping[str, int | None] = MappingProxyType({
    "mensual": 1,
    "trimestral": 3,
    "semestral": 6,
    "anual": 12,
    "por_periodo_sesiones": None,
    "variable": None,
})
# How a state law's fraction numbers relate to Art. 70's (state_laws.tsv).
FRACTION_SHIFTS = ("none", "shifted", "unknown")

OBLIGATION_COLUMNS = (
    "obligation_id", "title", "fraction_title", "levels", "name_pattern", "update_period",
    "update_period_text", "conservation_period", "verified", "keywords", "source",
)
ARTICLE_COLUMNS = ("article", "title", "applies_to", "fraction_count", "ltg_annex", "source")
STATE_LAW_COLUMNS = (
    "state", "law_short_name", "law_name", "article", "format_id_pattern", "fraction_shift",
    "known_mappings", "verified", "source", "note",
)
_LAW_KEYS = ("law", "name", "dof_date", "catalog_version", "common_article")
_SUBFORMAT_RE = re.compile(r"^[A-Z]$")
_LOCAL_FRACTION_RE = re.compile(r"^([IVXLCDM]+)(?:-([A-Z]))?$")


class CatalogError(ValueError):
    """A catalog cannot be used: unknown law, or a data file that fails validation.

    ``path`` and ``line`` say where, so whoever edits the data can go straight to it.
    """

    def __init__(self, message: str, path: Path | str | None = None, line: int | None = None):
        self.path = str(path) if path is not None else None
        self.line = line
        self.reason = message
        where = ""
        if self.path:
            where = f"{self.path}:{line}: " if line else f"{self.path}: "
        super().__init__(where + message)


def normalize_text(text: str) -> str:
    """Fold text the way keywords are written: lower case, no accents, no punctuation.

    'Remuneración bruta y neta (Fr. VIII)' -> 'remuneracion bruta y neta fr viii'. Link
    texts are folded the same way before keywords are looked up in them.
    """
    decomposed = unicodedata.normalize("NFKD", text.lower())
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(re.sub(r"[^a-z0-9]+", " ", bare).split())


def keyword_in(keyword: str, text: str) -> bool:
    """True when ``keyword`` starts at a word boundary of the folded ``text``.

    A prefix match, so that 'remuneracion' also finds 'remuneraciones'.
    """
    return _keyword_re(normalize_text(keyword)).search(normalize_text(text)) is not None


@functools.lru_cache(maxsize=4096)
def _keyword_re(folded_keyword: str) -> re.Pattern[str]:
    return re.compile(r"(?<![a-z0-9])" + re.escape(folded_keyword))


@dataclass(frozen=True)
class Article:
    """One article of the law as declared in ``articles.tsv``."""

    number: int
    title: str
    applies_to: frozenset[str]
    fraction_count: int
    ltg_annex: str


@dataclass(frozen=True)
class KeywordCollision:
    """A keyword of one fraction that also matches another fraction a subject may owe."""

    keyword: str
    obligation_id: str
    other_id: str


class Catalog:
    """A validated, indexed obligation catalog for one law version. Immutable; shared."""

    def __init__(
        self,
        *,
        law: str,
        name: str,
        version: str,
        dof_date: str,
        common_article: int,
        directory: Path,
        articles: Mapping[int, Article],
        obligations: tuple[Obligation, ...],
        fraction_titles: Mapping[tuple[int, str], str],
        excluded_subject_types: Mapping[str, str],
        state_laws: tuple[Mapping[str, Any], ...] = (),
    ) -> None:
        self.law = law
        self.name = name
        self.version = version
        self.dof_date = dof_date
        # The article every non-excluded subject owes (70); state laws mirror this one.
        self.common_article = common_article
        self.directory = directory
        # Subject type -> why it gets no obligations (Art. 81 for persona_fisica_moral).
        self.excluded_subject_types = MappingProxyType(dict(excluded_subject_types))
        self.obligations = obligations
        self._articles = MappingProxyType(dict(articles))
        self._by_id = MappingProxyType({o.obligation_id: o for o in obligations})
        self._fraction_titles = MappingProxyType(dict(fraction_titles))
        self._state_laws = state_laws
        self._patterns = {
            o.name_pattern: re.compile(o.name_pattern, re.IGNORECASE)
            for o in obligations if o.name_pattern
        }

    def __repr__(self) -> str:
        return f"<Catalog {self.law} v{self.version}: {len(self.obligations)} obligations>"

    def __len__(self) -> int:
        return len(self.obligations)

    def __iter__(self) -> Iterator[Obligation]:
        return iter(self.obligations)

    def __contains__(self, obligation_id: object) -> bool:
        return obligation_id in self._by_id

    def get(self, obligation_id: str) -> Obligation:
        """The obligation with this id; KeyError when the catalog has none."""
        return self._by_id[obligation_id]

    def articles(self) -> list[int]:
        return sorted(self._articles)

    def article(self, number: int) -> Article:
        """The article's declaration (title, subject types); KeyError when unknown."""
        return self._articles[number]

    def by_fraction(self) -> dict[tuple[int, str], list[Obligation]]:
        """(article, fraction) -> its rows: one, or one per sub-format, in catalog order."""
        groups: dict[tuple[int, str], list[Obligation]] = {}
        for obligation in self.obligations:
            assert obligation.fraction is not None  # enforced when loading
            groups.setdefault((obligation.article, obligation.fraction), []).append(obligation)
        return groups

    def fraction_title(self, article: int, fraction: str) -> str:
        """The law's title for a whole fraction (sub-format rows carry their own titles)."""
        return self._fraction_titles[(article, fraction)]

    def articles_for(self, subject_type: str) -> list[int]:
        """Articles whose obligations a subject of this registry type must publish."""
        _check_subject_type(subject_type)
        return [n for n in self.articles() if subject_type in self._articles[n].applies_to]

    def applies(self, obligation: Obligation, subject: Subject) -> bool:
        """Whether ``subject`` owes ``obligation``: type, then level, then name pattern."""
        if subject.subject_type not in obligation.applies_to:
            return False
        return self._narrowing_allows(obligation, subject.level, _subject_text(subject))

    def applicability(self, subject: Subject) -> list[tuple[Obligation, bool]]:
        """Every obligation of the articles for the subject's type, with whether it applies.

        Rows excluded by level or name pattern stay in the list (as False) so that they are
        recorded as ``not_applicable`` rather than silently missing from the audit.
        """
        articles = set(self.articles_for(subject.subject_type))
        text = _subject_text(subject)
        return [
            (o, self._narrowing_allows(o, subject.level, text))
            for o in self.obligations if o.article in articles
        ]

    def _narrowing_allows(self, obligation: Obligation, level: str, text: str) -> bool:
        if obligation.levels and level not in obligation.levels:
            return False
        if obligation.name_pattern:
            return self._patterns[obligation.name_pattern].search(text) is not None
        return True

    def obligation_rows(self) -> list[dict[str, Any]]:
        """Rows for the warehouse ``obligations`` table (DESIGN section 6).

        ``applies_to``, ``levels`` and ``keywords`` are lists (the table stores them as
        VARCHAR[], so analysts can use ``list_contains``); ``levels`` is empty for all levels.
        """
        return [_warehouse_row(o) for o in self.obligations]

    def state_laws(self) -> list[dict[str, Any]]:
        """State laws that mirror the common article (fresh copies; may be empty)."""
        return [
            {**row, "known_mappings": dict(row["known_mappings"])} for row in self._state_laws
        ]

    def match_text(self, text: str, subject_type: str | None = None) -> list[Obligation]:
        """The obligations a link text most likely names, by keyword (longest match wins).

        The fallback when a portal shows no fraction number, or a state law's shifted one.
        Several rows come back when they tie: all sub-formats of one fraction (the text
        names the fraction as a whole) or, rarely, genuinely ambiguous fractions.
        ``subject_type`` limits the search to the articles that subject type owes.
        """
        folded = normalize_text(text)
        articles = set(self.articles_for(subject_type)) if subject_type else set(self._articles)
        best, found = 0, []
        for obligation in self.obligations:
            if obligation.article not in articles:
                continue
            length = max((len(k) for k in obligation.keywords
                          if _keyword_re(k).search(folded)), default=0)
            if length > best:
                best, found = length, [obligation]
            elif length and length == best:
                found.append(obligation)
        return found

    def keyword_collisions(self) -> list[KeywordCollision]:
        """Keywords that also match another fraction's titles or keywords.

        Only pairs a single subject can owe together are compared (a union's Art. 79
        'padron de socios' never meets a labour authority's Art. 78 one), and sub-formats of
        one fraction may share keywords on purpose: a keyword common to all of them names
        the fraction as a whole.
        """
        # One folded line per text, so that no match can run from one text into the next.
        texts = {
            o.obligation_id: "\n".join(
                normalize_text(t)
                for t in (o.title, self._fraction_titles[_fraction_key(o)], *o.keywords))
            for o in self.obligations
        }
        found: list[KeywordCollision] = []
        for obligation in self.obligations:
            for other in self.obligations:
                if _may_meet(obligation, other):
                    found.extend(
                        KeywordCollision(k, obligation.obligation_id, other.obligation_id)
                        for k in obligation.keywords
                        if _keyword_re(k).search(texts[other.obligation_id])
                    )
        return found


def _subject_text(subject: Subject) -> str:
    """Name patterns read the folded name plus acronym ('INE', 'CNDH' often live there)."""
    return normalize_text(f"{subject.name} {subject.acronym}")


def _fraction_key(obligation: Obligation) -> tuple[int, str]:
    return (obligation.article, obligation.fraction or "")


def _may_meet(obligation: Obligation, other: Obligation) -> bool:
    return (_fraction_key(obligation) != _fraction_key(other)
            and bool(obligation.applies_to & other.applies_to))


def _check_subject_type(subject_type: str) -> None:
    if subject_type not in SUBJECT_TYPES:
        known = ", ".join(SUBJECT_TYPES)
        raise ValueError(f"unknown subject type {subject_type!r}; known: {known}")


def _warehouse_row(o: Obligation) -> dict[str, Any]:
    return {
        "law": o.law,
        "obligation_id": o.obligation_id,
        "article": o.article,
        "fraction": o.fraction,
        "subformat": o.subformat,
        "title": o.title,
        "applies_to": [t for t in SUBJECT_TYPES if t in o.applies_to],
        "levels": [level for level in LEVELS if level in o.levels],
        "name_pattern": o.name_pattern,
        "update_period": o.update_period,
        "update_period_text": o.update_period_text,
        "conservation_period": o.conservation_period,
        "verified": o.verified,
        "keywords": list(o.keywords),
    }


# --------------------------------------------------------------------------- loading


def list_laws(root: Path | None = None) -> list[str]:
    """Law ids with a catalog directory (one holding ``law.toml``)."""
    base = root or CATALOGS_DIR
    if not base.is_dir():
        return []
    return sorted(p.name for p in base.iterdir() if (p / "law.toml").is_file())


def load_catalog(law: str = DEFAULT_LAW) -> Catalog:
    """The catalog of ``law`` from ``audit/catalogs/``, loaded once per process.

    Cached (``functools.cache``, an unbounded lru_cache; ``load_catalog.cache_clear()``
    empties it), so ``load_catalog()`` and ``load_catalog("LGTAIP-2015")`` are one object.
    """
    return _cached_catalog(law)


@functools.cache
def _cached_catalog(law: str) -> Catalog:
    known = list_laws()
    if law not in known:
        raise CatalogError(f"unknown law {law!r}; known laws: {', '.join(known) or 'none'}")
    catalog = load_catalog_dir(CATALOGS_DIR / law)
    if catalog.law != law:
        raise CatalogError(f"declares law {catalog.law!r}, expected {law!r}",
                           CATALOGS_DIR / law / "law.toml")
    return catalog


load_catalog.cache_clear = _cached_catalog.cache_clear  # type: ignore[attr-defined]


def load_catalog_dir(directory: Path | str) -> Catalog:
    """Load and validate the catalog in ``directory`` (not cached: for tests and tools)."""
    directory = Path(directory)
    meta = _read_law(directory / "law.toml")
    excluded = meta["excluded_subject_types"]
    articles = _read_articles(directory / "articles.tsv", excluded)
    if meta["common_article"] not in articles:
        raise CatalogError(f"common_article {meta['common_article']} is not declared in "
                           "articles.tsv", directory / "law.toml")
    obligations, fraction_titles = _read_obligations(
        directory / "obligations.tsv", meta["law"], articles)
    catalog_ids = {o.obligation_id for o in obligations} | {
        f"{a}-{f}" for a, f in fraction_titles}
    state_laws = _read_state_laws(directory / "state_laws.tsv", catalog_ids)
    return Catalog(
        law=meta["law"], name=meta["name"], version=meta["catalog_version"],
        dof_date=meta["dof_date"], common_article=meta["common_article"],
        directory=directory, articles=articles,
        obligations=obligations, fraction_titles=fraction_titles,
        excluded_subject_types=excluded, state_laws=state_laws,
    )


# law.toml ------------------------------------------------------------------------


def _read_law(path: Path) -> dict[str, Any]:
    text = _read_text(path)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise CatalogError(f"not valid TOML: {exc}", path) from exc
    meta: dict[str, Any] = {}
    for key in _LAW_KEYS:
        value = data.get(key)
        if value is None or value == "":
            raise CatalogError(f"missing required key {key!r}", path)
        meta[key] = str(value)
    if not isinstance(data["common_article"], int):
        raise CatalogError("common_article must be an integer", path,
                           _toml_line(text, "common_article"))
    meta["common_article"] = data["common_article"]
    excluded = data.get("excluded_subject_types", {})
    if not isinstance(excluded, dict):
        raise CatalogError("[excluded_subject_types] must be a table", path,
                           _toml_line(text, "excluded_subject_types"))
    for subject_type, reason in excluded.items():
        line = _toml_line(text, subject_type)
        if subject_type not in SUBJECT_TYPES:
            raise CatalogError(f"unknown subject type {subject_type!r} in "
                               "[excluded_subject_types]", path, line)
        if not isinstance(reason, str) or not reason.strip():
            raise CatalogError(f"excluded subject type {subject_type!r} needs a reason",
                               path, line)
    meta["excluded_subject_types"] = {k: v.strip() for k, v in excluded.items()}
    return meta


def _toml_line(text: str, key: str) -> int | None:
    """Line of ``key`` in a TOML text: tomllib reports syntax errors but not positions."""
    for number, line in enumerate(text.splitlines(), start=1):
        if re.match(rf"\s*\[?\s*{re.escape(key)}\b", line):
            return number
    return None


# TSV files -------------------------------------------------------------------------


@dataclass(frozen=True)
class _Row:
    """One data line of a TSV file, remembering where it came from for error messages."""

    path: Path
    line: int
    fields: Mapping[str, str]

    def fail(self, message: str) -> CatalogError:
        return CatalogError(message, self.path, self.line)

    def get(self, column: str) -> str:
        return self.fields.get(column, "")

    def required(self, column: str) -> str:
        value = self.get(column)
        if not value:
            raise self.fail(f"missing {column}")
        return value

    def flag(self, column: str) -> bool:
        value = self.get(column).lower()
        if value not in ("true", "false"):
            raise self.fail(f"{column} must be 'true' or 'false', not {self.get(column)!r}")
        return value == "true"

    def integer(self, column: str, minimum: int = 1) -> int:
        value = self.required(column)
        if not (value.isascii() and value.isdigit()) or int(value) < minimum:
            raise self.fail(f"{column} must be an integer >= {minimum}, not {value!r}")
        return int(value)

    def items(self, column: str, sep: str = ",") -> list[str]:
        return [part.strip() for part in self.get(column).split(sep) if part.strip()]


def _read_text(path: Path) -> str:
    if not path.is_file():
        raise CatalogError("file not found", path)
    try:
        return path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise CatalogError(f"not UTF-8 ({exc.reason} at byte {exc.start})", path) from exc


def _read_tsv(path: Path, columns: tuple[str, ...]) -> list[_Row]:
    """Tab-separated, header first; blank lines skipped; short rows padded with ''."""
    lines = _read_text(path).splitlines()
    if not lines:
        raise CatalogError("empty file", path)
    header = [name.strip() for name in lines[0].split("\t")]
    unknown = [name for name in header if name not in columns]
    missing = [name for name in columns if name not in header]
    if unknown or missing or len(set(header)) != len(header):
        raise CatalogError(f"bad header: unknown {unknown}, missing {missing}; expected "
                           f"the columns {list(columns)}", path, 1)
    rows = []
    for number, text in enumerate(lines[1:], start=2):
        if not text.strip():
            continue
        values = [value.strip() for value in text.split("\t")]
        if len(values) > len(header):
            raise CatalogError(f"{len(values)} fields, the header has {len(header)}",
                               path, number)
        values += [""] * (len(header) - len(values))
        rows.append(_Row(path, number, dict(zip(header, values, strict=True))))
    return rows


def _subject_types(row: _Row, column: str) -> frozenset[str]:
    types = row.items(column)
    for subject_type in types:
        if subject_type not in SUBJECT_TYPES:
            raise row.fail(f"unknown subject type {subject_type!r} in {column}; known: "
                           f"{', '.join(SUBJECT_TYPES)}")
    if not types:
        raise row.fail(f"missing {column}")
    return frozenset(types)


# articles.tsv ----------------------------------------------------------------------


def _read_articles(path: Path, excluded: Mapping[str, str]) -> dict[int, Article]:
    articles: dict[int, Article] = {}
    for row in _read_tsv(path, ARTICLE_COLUMNS):
        article = _parse_article(row, excluded)
        if article.number in articles:
            raise row.fail(f"article {article.number} declared twice")
        articles[article.number] = article
    covered = set(excluded).union(*(a.applies_to for a in articles.values()))
    orphans = [t for t in SUBJECT_TYPES if t not in covered]
    if orphans:
        raise CatalogError(f"subject types {orphans} get no article: list them in an "
                           "article or under [excluded_subject_types] in law.toml", path)
    return articles


def _parse_article(row: _Row, excluded: Mapping[str, str]) -> Article:
    applies_to = _subject_types(row, "applies_to")
    clash = sorted(applies_to & set(excluded))
    if clash:
        raise row.fail(f"subject types {clash} are excluded in law.toml")
    return Article(
        number=row.integer("article"),
        title=row.required("title"),
        applies_to=applies_to,
        fraction_count=row.integer("fraction_count"),
        ltg_annex=row.get("ltg_annex"),
    )


# obligations.tsv -------------------------------------------------------------------


def _read_obligations(
    path: Path, law: str, articles: Mapping[int, Article]
) -> tuple[tuple[Obligation, ...], dict[tuple[int, str], str]]:
    lines: dict[str, int] = {}
    shapes: dict[tuple[int, str], set[str | None]] = {}
    fraction_titles: dict[tuple[int, str], str] = {}
    obligations = []
    for row in _read_tsv(path, OBLIGATION_COLUMNS):
        obligation = _parse_obligation(row, law, articles)
        if obligation.obligation_id in lines:
            raise row.fail(f"duplicate obligation_id {obligation.obligation_id!r} "
                           f"(first on line {lines[obligation.obligation_id]})")
        lines[obligation.obligation_id] = row.line
        key = _fraction_key(obligation)
        _check_fraction_shape(row, obligation, shapes.setdefault(key, set()))
        _check_fraction_title(row, obligation, fraction_titles)
        obligations.append(obligation)
    _check_coverage(path, articles, shapes)
    obligations.sort(key=lambda o: (o.article, o.fraction_number or 0, o.subformat or ""))
    return tuple(obligations), fraction_titles


def _parse_obligation(row: _Row, law: str, articles: Mapping[int, Article]) -> Obligation:
    ref = _parse_obligation_id(row)
    article = articles.get(ref.article)
    if article is None:
        raise row.fail(f"article {ref.article} is not declared in articles.tsv")
    assert ref.fraction is not None
    if roman_to_int(ref.fraction) > article.fraction_count:
        raise row.fail(f"fraction {ref.fraction} is beyond the {article.fraction_count} "
                       f"fractions articles.tsv declares for article {ref.article}")
    return Obligation(
        law=law,
        obligation_id=ref.obligation_id,
        article=ref.article,
        fraction=ref.fraction,
        subformat=ref.subformat,
        title=row.required("title"),
        applies_to=article.applies_to,
        levels=_parse_levels(row),
        name_pattern=_parse_pattern(row),
        update_period=_parse_period(row),
        update_period_text=row.get("update_period_text"),
        conservation_period=row.get("conservation_period"),
        verified=row.flag("verified"),
        keywords=_parse_keywords(row),
    )


def _parse_obligation_id(row: _Row) -> ObligationRef:
    raw = row.required("obligation_id")
    try:
        ref = ObligationRef.parse(raw)
    except ValueError as exc:
        raise row.fail(f"bad obligation_id {raw!r}: {exc}") from exc
    if ref.fraction is None:
        raise row.fail(f"obligation_id {raw!r} needs a fraction (e.g. '70-VIII')")
    if ref.subformat is not None and not _SUBFORMAT_RE.match(ref.subformat):
        raise row.fail(f"sub-format of {raw!r} must be one letter A-Z")
    if ref.obligation_id != raw:
        raise row.fail(f"write obligation_id {raw!r} as {ref.obligation_id!r}")
    return ref


def _parse_levels(row: _Row) -> frozenset[str]:
    levels = row.items("levels")
    for level in levels:
        if level not in LEVELS:
            raise row.fail(f"unknown level {level!r}; known: {', '.join(LEVELS)}")
    return frozenset(levels)


def _parse_pattern(row: _Row) -> str | None:
    pattern = row.get("name_pattern")
    if not pattern:
        return None
    if not pattern.isascii():
        raise row.fail("name_pattern is matched against folded text (lower case, no "
                       "accents): write it without accents")
    try:
        re.compile(pattern)
    except re.error as exc:
        raise row.fail(f"name_pattern is not a valid regular expression: {exc}") from exc
    return pattern


def _parse_period(row: _Row) -> str:
    period = row.required("update_period")
    if period not in UPDATE_PERIODS:
        raise row.fail(f"unknown update_period {period!r}; known: {', '.join(UPDATE_PERIODS)}")
    return period


def _parse_keywords(row: _Row) -> tuple[str, ...]:
    keywords = row.items("keywords")
    if not keywords:
        raise row.fail("missing keywords (discovery needs at least one)")
    for keyword in keywords:
        if normalize_text(keyword) != keyword:
            raise row.fail(f"keyword {keyword!r} must be folded: {normalize_text(keyword)!r}")
    if len(set(keywords)) != len(keywords):
        raise row.fail("repeated keyword")
    return tuple(keywords)


def _check_fraction_shape(row: _Row, obligation: Obligation, shape: set[str | None]) -> None:
    """A fraction is audited either whole or by sub-formats, never both."""
    shape.add(obligation.subformat)
    if None in shape and len(shape) > 1:
        raise row.fail(f"fraction {obligation.article}-{obligation.fraction} has both a "
                       "whole-fraction row and sub-format rows")


def _check_fraction_title(
    row: _Row, obligation: Obligation, titles: dict[tuple[int, str], str]
) -> None:
    key = _fraction_key(obligation)
    if obligation.subformat is None:
        title = row.get("fraction_title") or obligation.title
    else:
        title = row.required("fraction_title")
    if titles.setdefault(key, title) != title:
        raise row.fail(f"fraction_title differs from the one given earlier for "
                       f"{obligation.article}-{obligation.fraction}")


def _check_coverage(
    path: Path, articles: Mapping[int, Article], shapes: Mapping[tuple[int, str], set]
) -> None:
    """Every declared fraction of every article has at least one row."""
    for number, article in sorted(articles.items()):
        missing = [int_to_roman(n) for n in range(1, article.fraction_count + 1)
                   if (number, int_to_roman(n)) not in shapes]
        if missing:
            raise CatalogError(f"article {number} has no rows for fractions "
                               f"{', '.join(missing)}", path)


# state_laws.tsv --------------------------------------------------------------------


def _read_state_laws(path: Path, catalog_ids: set[str]) -> tuple[Mapping[str, Any], ...]:
    if not path.exists():
        return ()
    seen: dict[str, int] = {}
    laws = []
    for row in _read_tsv(path, STATE_LAW_COLUMNS):
        state = row.required("state")
        if state not in STATES:
            raise row.fail(f"unknown state code {state!r}; known: {', '.join(STATES)}")
        if state in seen:
            raise row.fail(f"state {state} listed twice (first on line {seen[state]})")
        seen[state] = row.line
        laws.append(_parse_state_law(row, state, catalog_ids))
    return tuple(laws)


def _parse_state_law(row: _Row, state: str, catalog_ids: set[str]) -> Mapping[str, Any]:
    shift = row.required("fraction_shift")
    if shift not in FRACTION_SHIFTS:
        raise row.fail(f"fraction_shift must be one of {FRACTION_SHIFTS}, not {shift!r}")
    return MappingProxyType({
        "state": state,
        "state_name": STATES[state],
        "law_short_name": row.required("law_short_name"),
        "law_name": row.required("law_name"),
        "article": row.integer("article"),
        "format_id_pattern": row.get("format_id_pattern"),
        "fraction_shift": shift,
        "known_mappings": MappingProxyType(_parse_mappings(row, catalog_ids)),
        "verified": row.flag("verified"),
        "source": row.required("source"),
        "note": row.get("note"),
    })


def _parse_mappings(row: _Row, catalog_ids: set[str]) -> dict[str, str]:
    """'IX=70-VIII;XLVII-A=70-XLIII-A' -> {'IX': '70-VIII', 'XLVII-A': '70-XLIII-A'}."""
    mappings = {}
    for item in row.items("known_mappings", sep=";"):
        local, _, target = (part.strip() for part in item.partition("="))
        if not _is_local_fraction(local):
            raise row.fail(f"known_mappings: {local!r} is not a local fraction like 'IX' "
                           "or 'XLVII-A'")
        if target not in catalog_ids:
            raise row.fail(f"known_mappings: {target!r} is not in this catalog")
        mappings[local] = target
    return mappings


def _is_local_fraction(text: str) -> bool:
    match = _LOCAL_FRACTION_RE.match(text)
    if not match:
        return False
    try:
        roman_to_int(match.group(1))
    except ValueError:
        return False
    return True
