"""Reading transparency portals: obligation references, sections, resources, notes.

Pure functions (HTML or text in, classified links out, no I/O), so that every reading rule
is pinned by a table of recorded snippets in ``tests/scrapers/test_discovery.py``.

Portals cite obligations in many ways: "Fracción VIII", "Fr. 8", "70FXXVIIIA",
"LGT_Art_70_Fr_VIII", "A121Fr09" (a state law's article), a bare "VIII" in the first cell
of a fractions table, or only a title ("Remuneraciones"). State laws mirror Art. 70 under
other article numbers and sometimes shift the fraction numbers, so a reference to a law the
catalog does not hold is mapped by title first and by number only to break ties.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from functools import lru_cache
from itertools import islice
from typing import Protocol
from urllib.parse import unquote, urljoin, urlsplit, urlunsplit

from bs4 import BeautifulSoup, NavigableString, Tag

from audit.obligations import Obligation, ObligationRef, int_to_roman, roman_to_int

MAX_FRACTION = 70  # Art. 70 has 48 fractions; state mirrors reach the 50s.
VIAS = ("link_text", "heading", "table_cell", "url_pattern", "title_keywords")
RESOURCE_EXTENSIONS = (
    ".xlsx",
    ".xls",
    ".csv",
    ".pdf",
    ".doc",
    ".docx",
    ".zip",
    ".ods",
    ".json",
    ".xml",
    ".txt",
    ".rar",
    ".7z",
    ".odt",
    ".ppt",
    ".pptx",
)
PNT_HOSTS = ("plataformadetransparencia.org.mx", "consultapublicamx")


class CatalogLike(Protocol):
    """The part of ``audit.catalog.Catalog`` discovery needs (tests pass a small stand-in)."""

    @property
    def obligations(self) -> Sequence[Obligation]: ...


# --------------------------------------------------------------------------- text helpers

_MOJIBAKE_PAIR = re.compile(
    "[\u00c2\u00c3][\u0080-\u00bf\u0152\u0153\u0160\u0161\u0178"
    "\u017d\u017e\u0192\u02c6\u02dc\u2013-\u2122]"
)


def _fix_mojibake_pair(match: re.Match[str]) -> str:
    try:
        return match.group().encode("cp1252").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return match.group()


@lru_cache(maxsize=1 << 16)  # the same link texts and headings recur on every page of a portal
def normalize_text(text: str) -> str:
    """Lower-case, accents stripped, spaces collapsed; repairs UTF-8 read as windows-1252.

    Portals mix encodings, so "FRACCIÓN", "fracción", "FracciÃ³n" and "Fracci\ufffdn" (a
    windows-1252 byte read as UTF-8) must all compare equal ("?" stands for the lost letter).
    """
    if text.isascii():
        return " ".join(text.lower().split())
    text = _MOJIBAKE_PAIR.sub(_fix_mojibake_pair, text)
    text = re.sub("[\u00ba\u00b0\u00aa]", "", text)  # ordinal and degree signs
    text = unicodedata.normalize("NFKD", text)
    text = "".join(char for char in text if not unicodedata.combining(char))
    text = text.lower().replace("\ufffd", "?")
    text = re.sub("[\u2010-\u2015\u2212]", "-", text)
    return " ".join(text.split())


def normalize_url(url: str) -> str:
    """The identity of a URL for de-duplication: no fragment, lower-case scheme and host,
    no default port, "/" for an empty path. Paths and queries are kept as written."""
    try:
        parts = urlsplit(url.strip())
        scheme = parts.scheme.lower()
        host = (parts.hostname or "").lower()
        port = parts.port if parts.port not in (None, 80 if scheme == "http" else 443) else None
    except ValueError:  # "http://[broken", "http://x:port/": kept as written
        return url.strip()
    netloc = f"{host}:{port}" if port else host
    return urlunsplit((scheme, netloc, parts.path or "/", parts.query, ""))


def origin(url: str) -> str:
    """scheme://host[:port], the unit of "same site" for the crawl."""
    parts = urlsplit(normalize_url(url))
    return f"{parts.scheme}://{parts.netloc}"


def _roman_value(text: str) -> int | None:
    try:
        value = roman_to_int(text)
    except ValueError:
        return None
    return value if 1 <= value <= MAX_FRACTION else None


def _fraction(numeral: str) -> str | None:
    """'viii' or '8' or '08' -> 'VIII'; None when it cannot be a fraction number."""
    if numeral.isdigit():
        value = int(numeral)
        return int_to_roman(value) if 1 <= value <= MAX_FRACTION else None
    return numeral.upper() if _roman_value(numeral) else None


# --------------------------------------------------------------------------- references

_NUMERAL = r"(?P<num>\d{1,2}|[ivxl]+)(?P<adj>[a-h])?(?![a-z0-9])"
# Compact codes: LGTA70FVIII, 70FXXVIIIA, 70FXXIIIC1, LETAYUC72-70FVIII.
_CODE_F = re.compile(
    r"(?<![a-z0-9])(?:lgta|lgt|letayuc\d{2,3}-?)?(?P<art>\d{2,3})f(?P<num>[ivxl]+)"
    r"(?P<adj>[a-h])?\d?(?![a-z0-9])"
)
# CDMX file/format names: A121Fr09, A121Fr47A.
_CODE_A = re.compile(r"(?<![a-z0-9])a(?P<art>\d{2,3})fr?" + _NUMERAL)
# State format names: LTAIPVIL15IV (Veracruz), LTAIPG26F1_IX (Guanajuato).
_CODE_LTAIP = re.compile(
    r"(?<![a-z0-9])ltaip[a-z]{0,6}?(?P<art>\d{1,3})(?:f\d{1,2}_?)?(?P<num>[ivxl]+)"
    r"(?P<adj>[a-h])?(?![a-z0-9])"
)
_FRACTION_WORD = re.compile(
    r"(?<![a-z])(?:fracc?i[o?]?n(?:es)?|fracc?|fr|f(?=\.))\.?[\s._:=-]*(?:no\.?\s*)?" + _NUMERAL
)
_ARTICLE = re.compile(
    r"(?<![a-z])art(?:[i?]culos?|s)?\.?[\s_:-]*(?:no\.?\s*)?(?P<art>\d{1,3})(?![0-9])"
)
_SUFFIX = re.compile(
    r"^(?:\s*[-_.]?\s*\(?(?P<p>[a-h])\)"  # " b)", "(b)"
    r"|[\s.,:;-]*(?:inciso|formato|apartado)\s*\(?(?P<w>[a-h])(?![a-z0-9])"  # ".- Inciso A"
    r"|[-_](?P<d>[a-h])(?![a-z0-9])"  # "-B", "_a"
    r"|\s*-\s*(?P<s>[a-h])(?=\s*[.)\-:]|\s*$)"  # " - A.-"
    r"|\s+(?P<e>[a-h])\s*$)"  # "XV b" at the end
)
_LEADING_ROMAN = re.compile(r"^\(?(?P<num>[ivxl]+)(?P<adj>[a-h])?\)?(?P<rest>(?![a-z0-9]).*)$")
_INCISO_REST = re.compile(r"^\s*[-.]?\s*\(?(?P<sub>[a-h])\)")
_ENUMERATOR_REST = re.compile(r"^\s*(?:$|[.)\-:;,]|-)")
_SUBFORMAT_LABEL = re.compile(
    r"^(?:formato|inciso|apartado|anexo)\s+\(?([a-h])(?![a-z0-9])|^\(?([a-h])\)(?:\s|$)"
)


def parse_obligation_ref(
    text: str, default_article: int | None = None, *, fraction_context: bool = False
) -> ObligationRef | None:
    """Read an obligation reference from a link text, heading, table cell or URL.

    Returns None when nothing in ``text`` cites a fraction or an article; an article-only
    reference ("Artículo 71") comes back with ``fraction=None``. Without an explicit article
    the fraction is attributed to ``default_article`` or, failing that, to Art. 70 (the
    common obligations). A bare roman numeral ("VIII", "VIII. La remuneración…") only counts
    when ``fraction_context`` says the text sits where fractions are enumerated (first cell
    of a fractions table, an item of a list of fractions), because "IV Informe de Gobierno"
    is not a fraction; "XXVIII b)" is distinctive enough to count anywhere.
    """
    return _parse(text, default_article, fraction_context)[0]


def _parse(
    text: str, default_article: int | None, fraction_context: bool
) -> tuple[ObligationRef | None, bool]:
    """``parse_obligation_ref`` plus whether the text itself named the article."""
    if not text:
        return None, False
    normalized = normalize_text(unquote(text) if "%" in text else text)
    for pattern in (_CODE_F, _CODE_A, _CODE_LTAIP):
        for match in pattern.finditer(normalized):
            ref = _ref_from_match(match, int(match.group("art")))
            if ref:
                return ref, True
    for match in _FRACTION_WORD.finditer(normalized):
        fraction = _fraction(match.group("num"))
        if fraction is None:
            continue
        subformat = match.group("adj") or _suffix_letter(normalized[match.end() :])
        named = _nearest_article(normalized, match.start())
        return _make_ref(named or default_article or 70, fraction, subformat), bool(named)
    leading = _leading_roman(normalized, default_article, fraction_context)
    if leading:
        return leading, False
    article_match = _ARTICLE.search(normalized)
    if article_match and 1 <= int(article_match.group("art")) < 400:
        return ObligationRef(int(article_match.group("art"))), True
    return None, False


def _ref_from_match(match: re.Match[str], article: int) -> ObligationRef | None:
    fraction = _fraction(match.group("num"))
    if fraction is None:
        return None
    return _make_ref(article, fraction, match.group("adj"))


def _make_ref(article: int, fraction: str, subformat: str | None) -> ObligationRef | None:
    if not 1 <= article < 400:
        return None
    return ObligationRef(article, fraction, subformat.upper() if subformat else None)


def _suffix_letter(rest: str) -> str | None:
    match = _SUFFIX.match(rest)
    if not match:
        return None
    return next(letter for letter in match.groups() if letter)


def _nearest_article(text: str, position: int) -> int | None:
    best: tuple[int, int] | None = None
    for match in _ARTICLE.finditer(text):
        distance = abs(match.start() - position)
        if 1 <= int(match.group("art")) < 400 and (best is None or distance < best[0]):
            best = (distance, int(match.group("art")))
    return best[1] if best else None


def _leading_roman(
    text: str, default_article: int | None, fraction_context: bool
) -> ObligationRef | None:
    match = _LEADING_ROMAN.match(text)
    if not match or _roman_value(match.group("num")) is None:
        return None
    rest = match.group("rest")
    inciso = _INCISO_REST.match(rest)
    if inciso:
        return _make_ref(default_article or 70, match.group("num").upper(), inciso.group("sub"))
    if not fraction_context:
        return None
    subformat = match.group("adj") or _suffix_letter(rest)
    if not (subformat or _ENUMERATOR_REST.match(rest) or rest.startswith(" ")):
        return None
    return _make_ref(default_article or 70, match.group("num").upper(), subformat)


def _starts_with_enumerator(text: str) -> str | None:
    """The fraction a list item opens with ("VIII.", "XXVIII-", "Fracción VIII"), if any."""
    normalized = normalize_text(text)
    match = _LEADING_ROMAN.match(normalized)
    rest = match.group("rest") if match else ""
    if match and _roman_value(match.group("num")) and _ENUMERATOR_REST.match(rest) and rest.strip():
        return match.group("num").upper()
    word = _FRACTION_WORD.match(normalized)
    return _fraction(word.group("num")) if word else None


# --------------------------------------------------------------------------- cited law

_GENERAL_LAW = re.compile(r"ley general de transparencia|lgtaip|(?<![a-z])lgta?\d|lgt_art")
# A state law: "Ley de Transparencia … de Quintana Roo", "Ley 875", state format codes.
# ("Ley General de Transparencia" and "Ley Federal de Transparencia" do not match.)
_LOCAL_LAW = re.compile(
    r"ley de transparencia|ley (?:numero |no\. )?\d{2,4}(?![0-9])|ltaip[a-z]*\d"
    r"|(?<![a-z0-9])a\d{2,3}fr|ley local"
)
GENERAL_LAW_NAME = "Ley General de Transparencia y Acceso a la Información Pública"
_GENERAL_ARTICLES = frozenset({65, *range(70, 84)})


def detect_cited_law(text: str) -> str | None:
    """Which law and article a page says it publishes under, as a short label.

    "Ley General de Transparencia y Acceso a la Información Pública, Art. 70" for the
    general law; "Art. 121 (ley local)" when a state law's article is cited (CDMX 121,
    Veracruz 15, Durango 65, Baja California 81…); None when the page cites nothing.
    """
    normalized = normalize_text(text)
    articles: Counter[int] = Counter()
    for pattern in (_CODE_F, _CODE_A, _CODE_LTAIP, _ARTICLE):
        for match in pattern.finditer(normalized):
            article = int(match.group("art"))
            if 1 <= article < 400:
                articles[article] += 1
    general = bool(_GENERAL_LAW.search(normalized))
    local = bool(_LOCAL_LAW.search(normalized))
    article = _main_article(articles)
    if article is None:
        if general:
            return GENERAL_LAW_NAME
        return "ley local" if local else None
    if (local and (article != 70 or not general)) or article not in _GENERAL_ARTICLES:
        return f"Art. {article} (ley local)"
    return f"{GENERAL_LAW_NAME}, Art. {article}"


def _names_a_law(text: str) -> bool:
    """True when the text names a law (general or state), not only an article number."""
    normalized = normalize_text(text)
    return bool(_GENERAL_LAW.search(normalized) or _LOCAL_LAW.search(normalized))


def _main_article(articles: Counter[int]) -> int | None:
    """The most cited article; among equals the common-obligations one (70, or 65 in 2025)."""
    if not articles:
        return None
    top = max(articles.values())
    tied = [article for article, count in articles.items() if count == top]
    for preferred in (70, 65):
        if preferred in tied:
            return preferred
    return tied[0]


# --------------------------------------------------------------------------- titles

_STOPWORD_TEXT = """
a al ante como con cual de del e el en entre es esta este la las le les lo los mas o para por
que se segun sin sobre su sus u un una y ya cada caso todo toda todos todas otro otra otros
otras asi asimismo mismo misma dicho dicha respectiva respectivo correspondiente
sujeto sujetos obligado obligados informacion relativa relativo publica publicas publico publicos
fraccion fracciones articulo articulos art fr fracc inciso formato formatos ver consultar
consulta descargar descarga hipervinculo liga enlace aqui click clic trimestre trimestral
semestre semestral ejercicio periodo anual anio primer primero segundo tercer tercero cuarto
xlsx xls csv pdf doc docx zip ods json xml txt ley general transparencia lgt lgta lgtaip
acceso nota notas documento documentos archivo archivos
"""
_STOPWORDS = frozenset(_STOPWORD_TEXT.split())


def _stem(token: str) -> str:
    """Spanish plural to singular, enough to match titles: "remuneraciones" ->
    "remuneracion", "facultades" -> "facultad", "informes" -> "informe"."""
    if len(token) <= 4 or not token.endswith("s"):
        return token
    if token.endswith(("ciones", "siones")) or (token.endswith("es") and token[-3] in "lrndzjy"):
        return token[:-2]
    return token[:-1]


def _tokens(text: str) -> set[str]:
    words = re.findall(r"[a-z]{3,}", normalize_text(text))
    return {
        _stem(word)
        for word in words
        if word not in _STOPWORDS and not (re.fullmatch(r"[ivxl]+", word) and _roman_value(word))
    }


@dataclass(frozen=True)
class _TitleEntry:
    obligation: Obligation
    tokens: frozenset[str]
    keywords: tuple[frozenset[str], ...]  # stems of each key phrase
    phrases: tuple[str, ...]  # each key phrase as written, " padded " for a word match
    # A split fraction's own title (``_fraction_entries``), whose ``tokens`` also pool its
    # sub-formats' key phrases; empty for catalog obligations.
    fraction_title: frozenset[str] = frozenset()


@dataclass(frozen=True)
class _CatalogIndex:
    entries: tuple[_TitleEntry, ...]
    idf: dict[str, float]
    unknown_idf: float
    ids: frozenset[str]
    fractions: frozenset[tuple[int, str]]
    articles: frozenset[int]
    common_article: int | None
    by_token: dict[str, tuple[int, ...]]  # token -> positions in ``entries``
    # text -> its _title_scores: a portal repeats the same link texts on every page
    title_scores: dict[str, tuple[_TitleScore, ...]] = field(default_factory=dict, compare=False)


_INDEX_CACHE: dict[int, tuple[object, _CatalogIndex]] = {}


def _fraction_entries(catalog: CatalogLike, obligations: tuple[Obligation, ...]) -> list:
    """Whole-fraction entries for fractions split into sub-formats, when the catalog knows
    the fraction's own title (``fraction_title``): a portal that publishes Art. 70-XV as one
    page titles it "Los programas de subsidios, estímulos y apoyos…", which names neither
    sub-format. They match as the fraction (``70-XV``), which covers its sub-formats."""
    title_of = getattr(catalog, "fraction_title", None)
    if title_of is None:
        return []
    entries = []
    split: dict[tuple[int, str], list[Obligation]] = {}
    for o in obligations:
        if o.fraction and o.subformat:
            split.setdefault((o.article, o.fraction), []).append(o)
    for (article, fraction), parts in split.items():
        first = parts[0]
        try:
            title = title_of(article, fraction)
        except (KeyError, ValueError, LookupError):
            continue
        if title and title != first.title:
            keywords = tuple(dict.fromkeys(k for part in parts for k in part.keywords))
            entries.append(
                replace(
                    first,
                    obligation_id=f"{article}-{fraction}",
                    subformat=None,
                    title=title,
                    keywords=keywords,
                )
            )
    return entries


def _catalog_index(catalog: CatalogLike) -> _CatalogIndex:
    """Per-catalog token statistics, computed once per catalog object."""
    cached = _INDEX_CACHE.get(id(catalog))
    if cached and cached[0] is catalog:
        return cached[1]
    obligations = tuple(catalog.obligations)
    entries = []
    wholes = _fraction_entries(catalog, obligations)
    for obligation in (*obligations, *wholes):
        keywords = tuple(frozenset(_tokens(k)) for k in obligation.keywords if _tokens(k))
        own = frozenset(_tokens(obligation.title))
        tokens = own.union(*keywords)
        phrases = tuple(_padded(k) for k in obligation.keywords if _padded(k).strip())
        whole = any(obligation is entry for entry in wholes)
        entries.append(
            _TitleEntry(obligation, tokens, keywords, phrases, own if whole else frozenset())
        )
    frequency = Counter(token for entry in entries for token in entry.tokens)
    total = max(len(entries), 1)
    idf = {token: math.log((total + 1) / (count + 0.5)) for token, count in frequency.items()}
    per_article = Counter(o.article for o in obligations if o.fraction)
    by_token: dict[str, list[int]] = {}
    for position, entry in enumerate(entries):
        for token in entry.tokens:
            by_token.setdefault(token, []).append(position)
    index = _CatalogIndex(
        entries=tuple(entries),
        idf=idf,
        unknown_idf=math.log((total + 1) / 0.5),
        ids=frozenset(o.obligation_id for o in obligations),
        fractions=frozenset((o.article, o.fraction) for o in obligations if o.fraction),
        articles=frozenset(o.article for o in obligations),
        common_article=per_article.most_common(1)[0][0] if per_article else None,
        by_token={token: tuple(positions) for token, positions in by_token.items()},
    )
    if len(_INDEX_CACHE) > 16:
        _INDEX_CACHE.clear()
    _INDEX_CACHE[id(catalog)] = (catalog, index)
    return index


@dataclass(frozen=True)
class _TitleScore:
    obligation: Obligation
    score: float
    keyword_hit: bool
    shared: int
    specificity: float = 0.0  # share of the entry's own words the text repeats
    words: frozenset[str] = frozenset()  # the text's words the entry explains
    phrases: frozenset[str] = frozenset()  # the entry's key phrases the text contains
    own_title: str = ""  # a split fraction's own title, " padded " (whole-fraction entries)


def _padded(text: str) -> str:
    return " " + re.sub(r"[^a-z0-9?]+", " ", normalize_text(text)).strip() + " "


_TITLE_SCORES_KEPT = 1 << 15


def _title_scores(text: str, index: _CatalogIndex) -> tuple[_TitleScore, ...]:
    """``_scored_titles``, remembered per catalog index (a bounded memo; the result is a
    tuple, so no caller can change what the next one gets)."""
    cached = index.title_scores.get(text)
    if cached is None:
        if len(index.title_scores) >= _TITLE_SCORES_KEPT:
            index.title_scores.clear()
        cached = index.title_scores[text] = tuple(_scored_titles(text, index))
    return cached


def _scored_titles(text: str, index: _CatalogIndex) -> list[_TitleScore]:
    """Score = 0.65 x the share of the text's rarity-weighted words the title and key
    phrases explain + 0.35 for a key phrase present; a key phrase made of common words
    ("otra información" for Art. 70-XLVIII) still scores at least 0.5."""
    words = _tokens(text)
    padded = _padded(text)
    weight = {word: index.idf.get(word, index.unknown_idf) for word in words}
    total = sum(weight.values())
    positions = {p for word in words for p in index.by_token.get(word, ())}
    positions |= {
        p
        for p, entry in enumerate(index.entries)
        if any(phrase in padded for phrase in entry.phrases)
    }
    scored = []
    for entry in (index.entries[p] for p in sorted(positions)):
        shared = words & entry.tokens
        keyword_hit = any(keyword <= words for keyword in entry.keywords) or any(
            phrase in padded for phrase in entry.phrases
        )
        evidence = sum(weight[word] for word in shared)
        if not keyword_hit and evidence < 1.2:
            continue
        cover = evidence / total if total else 0.0
        score = 0.65 * cover + (0.35 if keyword_hit else 0.0)
        if keyword_hit:
            score = max(score, 0.5 + 0.5 * cover)
        if score >= 0.3:
            specificity = len(shared) / len(entry.tokens) if entry.tokens else 0.0
            if entry.fraction_title:  # the text may repeat the fraction's own title
                own = len(words & entry.fraction_title) / len(entry.fraction_title)
                specificity = max(specificity, own)
            scored.append(
                _TitleScore(
                    entry.obligation,
                    round(score, 4),
                    keyword_hit,
                    len(shared),
                    specificity,
                    frozenset(shared),
                    frozenset(phrase for phrase in entry.phrases if phrase in padded),
                    _padded(entry.obligation.title) if entry.fraction_title else "",
                )
            )
    scored.sort(key=lambda s: (-s.score, s.obligation.article, s.obligation.obligation_id))
    return scored


def match_by_title(text: str, catalog: CatalogLike) -> list[tuple[Obligation, float]]:
    """Obligations whose title or keywords the text talks about, best first, scores in 0..1.

    The score is mostly the share of the text's (rarity-weighted) words that the
    obligation's title and keywords explain, plus a bonus when one of its key phrases is
    present; so "Remuneraciones" or "Sueldos y salarios" find Art. 70-VIII while a word every
    title shares ("servidores") finds nothing in particular.
    """
    return [(s.obligation, s.score) for s in _title_scores(text, _catalog_index(catalog))]


def title_ref(text: str, catalog: CatalogLike) -> ObligationRef | None:
    """The obligation a text names by title alone ("Sueldos y salarios" -> 70-VIII), or
    None when no title stands out; a fraction-level ref when the text names a whole split
    fraction or several of its sub-formats."""
    return _map_by_title(text, catalog, _catalog_index(catalog), None)


def map_to_catalog(
    ref: ObligationRef,
    text: str,
    catalog: CatalogLike,
    *,
    local_law: bool = False,
    mirrored: int | None = None,
) -> ObligationRef | None:
    """The catalog obligation a cited reference stands for, or None when undecidable.

    A general-law reference whose (article, fraction) exists in the catalog is taken by
    number. A state-law reference (``local_law``, or an article/fraction the catalog does not
    hold) is matched by the title words in ``text``; the cited fraction number only breaks
    ties, because state laws shift numbering (CDMX Art. 121 fr. IX is Art. 70 fr. VIII).
    ``mirrored`` is the catalog article the cited state article is known to mirror (its
    other fractions matched it): it breaks ties first.
    """
    index = _catalog_index(catalog)
    if ref.fraction is None:
        return ref if ref.article in index.articles else None
    if not local_law and (ref.article, ref.fraction) in index.fractions:
        return _catalog_ref(ref.article, ref.fraction, ref.subformat, index)
    return _map_by_title(text, catalog, index, ref, mirrored)


def _catalog_ref(
    article: int, fraction: str, subformat: str | None, index: _CatalogIndex
) -> ObligationRef:
    if subformat and f"{article}-{fraction}-{subformat}" in index.ids:
        return ObligationRef(article, fraction, subformat)
    return ObligationRef(article, fraction)


def _map_by_title(
    text: str,
    catalog: CatalogLike,
    index: _CatalogIndex,
    cited: ObligationRef | None,
    mirrored: int | None = None,
) -> ObligationRef | None:
    """Best title match, or None when weak or ambiguous.

    Near-equal matches are narrowed by the article the cited state article mirrors (when
    known), the cited article (when the catalog has it), then the common-obligations
    article, then the cited fraction number and letter. Matches
    that are sub-formats of one fraction give the whole fraction, and so does a single
    sub-format when the portal cites that fraction without a letter ("Fr. 2. Su estructura
    orgánica completa" covers II-A and II-B).
    """
    candidates = _title_scores(text, index)
    if not candidates:
        return None
    top = candidates[0]
    if top.score < 0.45 or not (top.keyword_hit or top.shared >= 2):
        return None  # one shared word that is not a key phrase ("Contacto") proves nothing
    close = [c for c in candidates if c.score >= top.score - 0.05]
    tied = [c.obligation for c in close]
    narrowing = []
    if mirrored is not None:
        narrowing.append(lambda o: o.article == mirrored)
    if cited is not None:
        narrowing.append(lambda o: o.article == cited.article)
    if index.common_article is not None:
        narrowing.append(lambda o: o.article == index.common_article)
    if cited is not None and cited.fraction:
        narrowing.append(lambda o: o.fraction == cited.fraction)
    if cited is not None and cited.subformat:
        narrowing.append(lambda o: o.subformat == cited.subformat)
    for keep in narrowing:
        if len({(o.article, o.fraction, o.subformat) for o in tied}) > 1:
            tied = [o for o in tied if keep(o)] or tied
    if len({(o.article, o.fraction) for o in tied}) > 1:
        tied = _closest_fraction(close, tied)
        if not tied:
            return None
    winner = tied[0]
    letters = {o.subformat for o in tied if o.subformat}
    if len(letters) > 1:
        # When the text's words do not tell the sub-formats apart, the one whose title it
        # repeats most closely wins: "Inventario de bienes muebles" is XXXIV-A, not
        # "Inventario de altas practicadas a bienes muebles" (B). Words for several of
        # them ("adjudicación directa … licitación") mean the whole fraction.
        ranked = sorted(
            (c for c in close if c.obligation in tied and c.obligation.subformat),
            key=lambda c: -c.specificity,
        )
        same_words = len({c.words for c in ranked}) == 1
        if same_words and ranked[0].specificity - ranked[1].specificity >= 0.2:
            letters = {ranked[0].obligation.subformat}
    whole = next((c for c in close if c.obligation in tied and not c.obligation.subformat), None)
    if whole is not None and letters:
        parts = [c for c in close if c.obligation in tied and c.obligation.subformat]
        best_letter = max(c.specificity for c in parts)
        if whole.specificity >= 0.9 * best_letter and not _names_one_part(whole, parts):
            letters = set()  # the text is the fraction's own title (Art. 70-XLII's = XLII-B's)
    whole_fraction = len(letters) != 1 or (
        cited is not None
        and cited.subformat is None
        and cited.fraction == winner.fraction  # the article may be the state law's number
    )
    if whole_fraction:
        return ObligationRef(winner.article, winner.fraction)
    return ObligationRef(winner.article, winner.fraction, letters.pop())


def _names_one_part(whole: _TitleScore, parts: list[_TitleScore]) -> bool:
    """The text uses a key phrase of one sub-format that neither its siblings nor the
    fraction's own title use: "Otros estudios financiados con recursos públicos" is
    70-XLI-D even though every other word is Art. 70-XLI's title."""
    for part in parts:
        others = set().union(*(p.phrases for p in parts if p is not part))
        if any(phrase not in others and phrase not in whole.own_title for phrase in part.phrases):
            return True
    return False


def _closest_fraction(close: list[_TitleScore], tied: list[Obligation]) -> list[Obligation]:
    """Between different fractions scoring alike, the one whose title the text repeats
    most closely ("Los trámites, requisitos y formatos que ofrecen" is 70-XX, not 70-XXXVIII,
    which also speaks of trámites and requisitos); nothing when none stands out."""
    ranked = sorted(
        (c for c in close if c.obligation in tied and (c.keyword_hit or c.shared >= 3)),
        key=lambda c: -c.specificity,
    )
    if not ranked:
        return []
    best = ranked[0]
    fraction = (best.obligation.article, best.obligation.fraction)
    rivals = [c for c in ranked if (c.obligation.article, c.obligation.fraction) != fraction]
    if rivals and best.specificity - rivals[0].specificity < 0.2:
        return []
    return [o for o in tied if (o.article, o.fraction) == fraction]


# --------------------------------------------------------------------------- links


@dataclass(frozen=True)
class Link:
    """A link worth following: where, what it said, how promising, and the obligation
    context it carries (``ref``: an obligation id the target page inherits)."""

    url: str
    text: str
    score: float = 0.0
    ref: str | None = None
    chrome: bool = False  # in the page's header, footer, nav or aside (site-wide menus)


@dataclass(frozen=True)
class ObligationLink:
    ref: ObligationRef  # mapped onto the catalog when possible, else as cited
    url: str
    text: str
    via: str  # one of VIAS
    cited: str  # the obligation id as the portal cites it, e.g. '121-IX'
    mapped: bool  # False when a state-law reference could not be matched to the catalog
    is_resource: bool


@dataclass(frozen=True)
class ResourceLink:
    url: str
    text: str
    ref: ObligationRef | None
    inherited: bool  # the ref comes from the page context, not from the link itself
    mapped: bool = True  # False: the link's own state-law reference matched no obligation


@dataclass(frozen=True)
class Justification:
    ref: ObligationRef | None  # None: the page's own obligation
    text: str
    via: str = "page"  # 'table_cell' (a fractions table row), 'list_item', 'heading', 'page'
    mapped: bool = True  # False: a state-law reference no title matched to the catalog


@dataclass
class PageAnalysis:
    url: str
    title: str = ""
    headings: list[str] = field(default_factory=list)
    page_ref: ObligationRef | None = None
    page_ref_mapped: bool = True  # False: read from a state-law heading, not in the catalog
    article: int | None = None
    obligation_links: list[ObligationLink] = field(default_factory=list)
    article_links: list[Link] = field(default_factory=list)
    resource_links: list[ResourceLink] = field(default_factory=list)
    navigation_links: list[Link] = field(default_factory=list)
    transparency_links: list[Link] = field(default_factory=list)
    pnt_links: list[str] = field(default_factory=list)
    justification: str | None = None
    justifications: list[Justification] = field(default_factory=list)
    has_table: bool = False
    table_rows: int = 0
    cited_law: str | None = None
    law_named: bool = False  # the page names the law; else ``cited_law`` is an article guess
    lists_fractions: bool = False
    link_count: int = 0
    text_chars: int = 0
    # A state law is cited on this page or above it (fractions matched by title); None when
    # no page on the way named a law.
    local_law: bool | None = None
    # Pages shown without a click: meta refresh, frames, iframes (same site only).
    embedded_links: list[str] = field(default_factory=list)
    # What the page is besides its links: script shell, block page, error page, mojibake.
    signals: PageSignals = field(default_factory=lambda: PageSignals())
    # The page's own text (no header/nav/footer), for comparison with the not-found probe;
    # the crawl drops it once compared.
    content_text: str = ""

    @property
    def fraction_refs(self) -> set[str]:
        return {link.ref.obligation_id for link in self.obligation_links if link.ref.fraction}

    @property
    def is_section(self) -> bool:
        """Looks like a transparency section: enumerates fractions or links to articles."""
        return len(self.fraction_refs) >= 3 or bool(self.article_links)


def is_resource_url(url: str) -> bool:
    """A document by extension or a known download pattern (crawled as a file, not a page)."""
    parts = urlsplit(url)
    path = unquote(parts.path).lower()
    if path.endswith(RESOURCE_EXTENSIONS):
        return True
    query = unquote(parts.query).lower()
    if re.search(r"\.(?:xlsx?|csv|pdf|docx?|zip|ods|json|xml|txt)(?:$|[&;])", query):
        return True
    if "drive.google.com" in parts.netloc and "/file/" in path:
        return True
    return bool(
        re.search(
            r"(?:^|[/?&=_.-])(?:download|descarga|descargar|getfile|get_file|attachment|adjunto)"
            r"(?:$|[/?&=_.-])",
            path + "?" + query,
        )
    )


def _is_pnt(url: str) -> bool:
    host = urlsplit(url).netloc.lower()
    return any(marker in host for marker in PNT_HOSTS)


def _clean_href(href: str, base: str) -> str | None:
    href = re.sub(r"[\t\r\n]", "", href).strip()  # browsers drop these inside URLs
    if not href or href.lower().startswith(("#", "mailto:", "tel:", "javascript:", "data:")):
        return None
    try:
        absolute = urljoin(base, href.replace(" ", "%20"))
        if urlsplit(absolute).scheme not in ("http", "https") or not urlsplit(absolute).hostname:
            return None
    except ValueError:
        return None
    return normalize_url(absolute)


def _link_text(anchor: Tag) -> str:
    text = anchor.get_text(" ", strip=True)
    if not text:
        image = anchor.find("img")
        text = (image.get("alt") or "") if image else ""
    return " ".join((text or anchor.get("title") or "").split())


def _base_url(soup: BeautifulSoup, url: str) -> str:
    base = soup.find("base", href=True)
    return urljoin(url, base["href"]) if base else url


def _related_hosts(a: str, b: str) -> bool:
    first, second = (host.removeprefix("www.") for host in (a, b))
    return first == second or first.endswith("." + second) or second.endswith("." + first)


_TRANSPARENCY_TERMS = (
    ("obligaciones de transparencia", 6),
    ("portal de transparencia", 6),
    ("ley general de transparencia", 5),
    ("informacion publica de oficio", 4),
    ("obligaciones comunes", 4),
    ("transparencia", 4),
    ("sipot", 4),
    ("lgtaip", 4),
    ("articulo 70", 4),
    ("art. 70", 4),
    ("art 70", 4),
    ("fracciones", 2),
    ("acceso a la informacion", 2),
    ("unidad de transparencia", -2),
    ("proactiva", -5),
    ("focalizada", -4),
    ("comite de transparencia", -2),
    ("solicitud", -2),
    ("aviso de privacidad", -4),
)
_TRANSPARENCY_PATH = (
    ("transparencia", 3),
    ("sipot", 4),
    ("obligaciones", 2),
    ("ley-general", 2),
    ("lgt", 2),
    ("art70", 2),
    ("articulo-70", 2),
    ("proactiva", -4),
    ("focalizada", -3),
)


def _transparency_score(text: str, title: str, url: str, base_url: str) -> float:
    score = 0.0
    for term, points in _TRANSPARENCY_TERMS:
        if term in text:
            score += points
        elif term in title:
            score += points / 2
    path = normalize_text(unquote(urlsplit(url).path))
    score += sum(points for term, points in _TRANSPARENCY_PATH if term in path)
    if not _related_hosts(urlsplit(url).netloc, urlsplit(base_url).netloc):
        score -= 3
    return score


def _transparency_links(soup: BeautifulSoup, base: str) -> list[Link]:
    best: dict[str, Link] = {}
    for anchor in _anchors(soup):
        url = _clean_href(anchor["href"], base)
        if url is None or _is_pnt(url) or is_resource_url(url):
            continue
        text = _link_text(anchor)
        score = _transparency_score(
            normalize_text(text), normalize_text(anchor.get("title") or ""), url, base
        )
        if score >= 3 and (url not in best or best[url].score < score):
            best[url] = Link(url, text, score)
    return sorted(best.values(), key=lambda link: -link.score)


def find_transparency_links(html: str, base_url: str) -> list[Link]:
    """Links to the transparency section, most promising first.

    Scores the link text ("Obligaciones de Transparencia" beats "Unidad de Transparencia",
    a contact page, and "Transparencia proactiva", a different thing), the title attribute
    and the URL path; links to the national platform are left to ``pnt_links``.
    """
    soup = BeautifulSoup(html, "lxml")
    return _transparency_links(soup, _base_url(soup, base_url))


# A menu item that *is* the portal's transparency link ("Transparencia" pointing to the PNT),
# unlike the platform's banner ("Plataforma Nacional de Transparencia").
_PNT_AS_SECTION = re.compile(
    r"^(?=.*(?:transparencia|obligaciones))(?!.*(?:plataforma|nacional|pnt|inai|sipot|infomex))"
)


def _pnt_links(soup: BeautifulSoup, base: str) -> list[str]:
    """PNT links of the page's own content: the banner most portals put in their header,
    menus, sidebar or footer says nothing about where the obligations are published."""
    found: list[str] = []
    for anchor in _anchors(soup):
        if _ancestor(anchor, _BLOCK_SCOPES) is not None and not _PNT_AS_SECTION.search(
            normalize_text(_link_text(anchor))
        ):
            continue
        url = _clean_href(anchor["href"], base)
        if url and _is_pnt(url) and url not in found:
            found.append(url)
    return found


def pnt_links(html: str, base_url: str) -> list[str]:
    """Links to the national platform (PNT, its public consultation): evidence for
    DELEGATES_TO_PNT when a portal points there instead of publishing itself."""
    soup = BeautifulSoup(html, "lxml")
    return _pnt_links(soup, _base_url(soup, base_url))


_NAV_POSITIVE = (
    (r"(?<![0-9])(?:19|20)\d\d(?![0-9])", 3),
    (r"trimestre|semestre|periodo|ejercicio", 3),
    (r"fracc|articulo|obligacion|formato|sipot|transparencia|ley general|lgt", 2),
    (r"^ver\b|consultar|ver mas|detalle", 1),
)
_NAV_NEGATIVE = re.compile(
    r"noticia|comunicado|boletin|galeria|evento|calendario|agenda|contacto|login|iniciar sesion"
    r"|registro de usuario|aviso de privacidad|mapa del sitio|mapa de sitio|buscar|busqueda"
    r"|facebook|twitter|instagram|youtube|turismo|imprimir|print|idioma|english"
)


def navigation_score(text: str, url: str) -> float:
    """How promising a plain link is for finding published obligations (years, periods,
    articles score up; news, calendars, logins, social networks score down)."""
    haystack = normalize_text(text) + " " + normalize_text(unquote(urlsplit(url).path))
    score = sum(points for pattern, points in _NAV_POSITIVE if re.search(pattern, haystack))
    if _NAV_NEGATIVE.search(haystack):
        score -= 4
    query = urlsplit(url).query.lower()
    if re.search(r"(?:^|&)(?:page|pag|pagina|sort|order|lang|print)=", query):
        score -= 2
    return float(score)


# --------------------------------------------------------------------------- page context

_BLOCK_SCOPES = ("footer", "header", "nav", "aside")
_LABEL_TAGS = frozenset(
    {
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "dt",
        "summary",
        "caption",
        "legend",
        "label",
        "button",
        "strong",
        "b",
        "span",
        "p",
        "a",
        "em",
    }
)
_LABEL_CLASS = re.compile(r"head|title|titulo|toggle|label|trigger|encabezado|collapsed", re.I)
_INLINE_TAGS = ("strong", "b", "em", "i", "span", "font", "u", "small", "sup", "sub", "abbr", "a")
_SKIP_TAGS = ("script", "style", "noscript", "template", "svg")


def _label_text(node: Tag | NavigableString, ancestor: Tag) -> str | None:
    """The text of ``node`` if it reads like a label for the block after it: a heading,
    a bold or short element, a header-classed element, or loose text; never a sibling of
    the same kind as the block (the previous list item or row is not a label)."""
    if isinstance(node, NavigableString):
        text = " ".join(str(node).split()) if type(node) is NavigableString else ""
        return text if text and len(text) <= 200 else None
    if not isinstance(node, Tag):
        return None
    labelled = bool(_LABEL_CLASS.search(" ".join(node.get("class") or [])))
    if node.name == ancestor.name and not (
        labelled and not _LABEL_CLASS.search(" ".join(ancestor.get("class") or []))
    ):
        return None
    if node.name not in _LABEL_TAGS and not labelled:
        return None
    text = " ".join(node.get_text(" ", strip=True).split())
    return text if text and len(text) <= 200 else None


def _structural_labels(anchor: Tag) -> list[str]:
    """Labels of the blocks enclosing a link, innermost first: an accordion title, the label
    of the list item holding a nested list, a <dt>, a <summary>, a heading right before.

    Only the element immediately before each enclosing block counts, and the walk stops at
    page chrome (header/footer), so a footer does not inherit the last fraction's title.
    """
    labels: list[str] = []
    node: Tag | None = anchor
    while node is not None and node.name not in ("body", "html", "[document]"):
        if node.name in ("footer", "header"):
            break
        if node.name == "details":
            summary = node.find("summary")
            if summary and _ancestor(summary, ("details",)) is node:
                labels.append(summary.get_text(" ", strip=True))
        if node.name not in ("td", "th", "tr", "tbody", "thead"):
            sibling = _previous_meaningful(node)
            label = _label_text(sibling, node) if sibling is not None else None
            if label:
                labels.append(label)
        node = node.parent
    return labels


def _previous_meaningful(node: Tag) -> Tag | NavigableString | None:
    for sibling in node.previous_siblings:
        if isinstance(sibling, Tag) and sibling.name in ("br", "hr", "img"):
            continue
        if isinstance(sibling, NavigableString) and not str(sibling).strip():
            continue
        return sibling
    return None


def _outline(soup: BeautifulSoup) -> dict[int, list[str]]:
    """For every link outside page chrome, the open headings above it, innermost first."""
    stack: list[tuple[int, str]] = []
    result: dict[int, list[str]] = {}
    for tag in _tags(soup, ("h1", "h2", "h3", "h4", "h5", "h6", "a")):
        if tag.name == "a":
            if not _ancestor(tag, _BLOCK_SCOPES):
                result[id(tag)] = [text for _, text in reversed(stack)]
            continue
        level = int(tag.name[1])
        while stack and stack[-1][0] >= level:
            stack.pop()
        text = " ".join(tag.get_text(" ", strip=True).split())
        if text:
            stack.append((level, text))
    return result


@dataclass
class _TableInfo:
    row_label: dict[int, str]  # id(cell) -> first-cell text of its row
    fraction_tables: set[int]  # id(table)
    data_rows: int
    data_table_ids: set[int]



# --- one walk of the tree per page -----------------------------------------------------------
# bs4's find_all builds its matching machinery on every call, and a page is searched some
# twenty times; classify_page walks the tree once, after removing what it skips, and keeps
# every tag in document order on the soup until the tree changes again.
_TAG_INDEX = "_lupa_tags"
_LABEL_TAGS = ("a", "li", "td", "th", "p", "dt", "h3", "h4", "h5", "span")


def _index_tags(soup: Tag) -> None:
    soup.__dict__[_TAG_INDEX] = [node for node in soup.descendants if isinstance(node, Tag)]


def _forget_tags(soup: Tag) -> None:
    soup.__dict__.pop(_TAG_INDEX, None)


def _tags(soup: Tag, names: tuple[str, ...]) -> list[Tag]:
    """``soup.find_all(list(names))``, from the index when the soup has one."""
    indexed = soup.__dict__.get(_TAG_INDEX)
    if indexed is None:
        return soup.find_all(list(names))
    return [tag for tag in indexed if tag.name in names]


def _holds_row_or_link(item: Tag) -> bool:
    """``item.find(["tr", "li"]) or item.find("a", href=True)``, without bs4's matcher."""
    return any(
        isinstance(node, Tag)
        and (node.name in ("tr", "li") or (node.name == "a" and node.get("href") is not None))
        for node in item.descendants
    )


def _anchors(soup: Tag) -> list[Tag]:
    """``soup.find_all("a", href=True)``."""
    return [tag for tag in _tags(soup, ("a",)) if tag.get("href") is not None]


def _ancestor(node: Tag | NavigableString, names: Iterable[str]) -> Tag | None:
    """The nearest enclosing element named in ``names`` (a plain walk: bs4's find_parent
    is too slow to call for every link of a large page)."""
    for parent in node.parents:
        if parent.name in names:
            return parent
    return None


def _direct_rows(table: Tag) -> list[Tag]:
    rows = []
    for child in table.find_all(["tr", "thead", "tbody", "tfoot"], recursive=False):
        if child.name == "tr":
            rows.append(child)
        else:
            rows.extend(child.find_all("tr", recursive=False))
    return rows


def _cells(row: Tag) -> list[Tag]:
    return row.find_all(["td", "th"], recursive=False)


def _tables(soup: BeautifulSoup, base: str) -> _TableInfo:
    info = _TableInfo({}, set(), 0, set())
    for table in _tags(soup, ("table",)):
        rows = _direct_rows(table)
        body_rows = [row for row in rows if row.find("td")]
        enumerated = 0
        for row in body_rows:
            cells = _cells(row)
            if not cells:
                continue
            label = " ".join(cells[0].get_text(" ", strip=True).split())
            ref = parse_obligation_ref(label[:200], fraction_context=True)
            enumerated += bool(ref and ref.fraction)
            for cell in cells:
                info.row_label[id(cell)] = label
        header = normalize_text(" ".join(c.get_text(" ") for r in rows[:1] for c in _cells(r)))
        if enumerated >= 2 or (enumerated >= 1 and "fracc" in header):
            info.fraction_tables.add(id(table))
        if _is_data_table(body_rows, enumerated, base):
            info.data_table_ids.add(id(table))
            info.data_rows = max(info.data_rows, len(body_rows))
    return info


def _is_data_table(body_rows: list[Tag], enumerated: int, base: str) -> bool:
    """An inline publication (a directory, a list of contracts) rather than a layout, an
    index or a listing of files (an Apache "Index of"): several rows and columns, links in
    fewer than half of the rows, not a fractions index."""
    if len(body_rows) < 2 or enumerated * 2 >= len(body_rows):
        return False
    if max(len(_cells(row)) for row in body_rows) < 3:
        return False
    linked = sum(
        1
        for row in body_rows
        if any(_clean_href(a["href"], base) for a in row.find_all("a", href=True))
    )
    return linked * 2 < len(body_rows)


def _lists_fractions(soup: BeautifulSoup) -> bool:
    """True when the page enumerates fractions (three or more distinct ones), which makes
    bare roman numerals in its links and items readable as fractions."""
    seen: set[str] = set()
    for tag in _tags(soup, _LABEL_TAGS):
        opening = " ".join(islice(tag.stripped_strings, 3))[:200]
        fraction = _starts_with_enumerator(opening)
        if fraction:
            seen.add(fraction)
            if len(seen) >= 3:
                return True
    return False


# --------------------------------------------------------------------------- justification

JUSTIFICATION_PHRASES = (
    "no se genero",
    "no se ha generado",
    "no se han generado",
    "no se genera",
    "no genero",
    "no aplica",
    "no le aplica",
    "no es aplicable",
    "no son aplicables",
    "sin informacion que reportar",
    "sin informacion para reportar",
    "sin informacion generada",
    "no se cuenta con",
    "no cuenta con informacion",
    "no existe informacion",
    "no se tiene",
    "no se realizaron",
    "no se realizo",
    "no hubo",
    "no se presentaron",
    "no se han presentado",
    "no se recibieron",
    "no se han recibido",
    "no se emitieron",
    "no se han emitido",
    "no se otorgaron",
    "no se celebraron",
    "no se suscribieron",
    "no se llevaron a cabo",
    "no ha generado",
    "no existen",
)
_JUSTIFICATION = re.compile("|".join(re.escape(p) for p in JUSTIFICATION_PHRASES))


def find_justification(text: str) -> str | None:
    """The sentence explaining why information does not exist ("No se generó información
    en el periodo…"), trimmed; None if there is none."""
    for block in re.split(r"\n+", text):
        for sentence in re.split(r"(?<=[.;!?])\s+", block):
            clean = " ".join(sentence.split())
            if clean and _JUSTIFICATION.search(normalize_text(clean)):
                return clean[:400]
    return None


def _justifications(
    soup: BeautifulSoup, ctx: _PageContext
) -> tuple[str | None, list[Justification]]:
    """Notes of absence: per fraction when a row or item of a fractions list carries one
    ("XLVII | … | No aplica") or when the note sits under a fraction's heading on a page
    listing several; else one for the whole page (its obligation)."""
    per_ref: list[Justification] = []
    attributed: set[int] = set()
    for item in _tags(soup, ("tr", "li")):
        if _holds_row_or_link(item):
            continue
        text = " ".join(item.get_text(" ", strip=True).split())
        ref = parse_obligation_ref(text[:120], ctx.article, fraction_context=True)
        parts = [cell.get_text(" ", strip=True) for cell in _cells(item)] or [text]
        note = None
        if ref and ref.fraction:
            note = next(filter(None, map(find_justification, parts[1:] or parts)), None)
        if ref and note:
            mapped = map_to_catalog(
                ref, text, ctx.catalog, local_law=ctx.local_law, mirrored=ctx.mirrored
            )
            via = "table_cell" if item.name == "tr" else "list_item"
            per_ref.append(Justification(mapped or ref, note, via, mapped is not None))
            attributed.add(id(item))
    for inline in soup.find_all(_INLINE_TAGS):
        inline.unwrap()  # so that "No se generó <b>información</b>" is one sentence
    soup.smooth()
    _forget_tags(soup)
    blocks = []
    for element in soup.find_all(string=True):
        parent = element.parent
        if type(element) is not NavigableString or parent is None or parent.name == "title":
            continue
        if parent.name in _BLOCK_SCOPES or _ancestor(parent, (*_BLOCK_SCOPES, "head")):
            continue
        holder = parent if parent.name in ("tr", "li") else _ancestor(parent, ("tr", "li"))
        if holder is not None and id(holder) in attributed:
            continue
        table = _ancestor(parent, ("table",))
        if table is not None and id(table) in ctx.tables.data_table_ids:
            continue
        block = " ".join(str(element).split())
        note = find_justification(block)
        ref, mapped = _block_ref(parent, ctx) if note else (None, False)
        if (
            note
            and ref is not None
            and ctx.known_ref is not None
            and (not mapped or _covers(ref, ctx.known_ref))
        ):
            ref = None  # on an obligation's page, the note is that obligation's
        if note and ref is not None:
            per_ref.append(Justification(ref, note, "heading", mapped))
            continue
        blocks.append(block)
    return find_justification("\n".join(blocks)), per_ref


_HEADINGS = ("h1", "h2", "h3", "h4", "h5", "h6")


def _headings_before(element: Tag) -> list[str]:
    """The open headings above ``element``, innermost first (its place in the outline)."""
    found: list[str] = []
    level_above = 7
    for heading in element.find_all_previous(_HEADINGS):
        level = int(heading.name[1])
        if level < level_above:
            found.append(" ".join(heading.get_text(" ", strip=True).split()))
            level_above = level
        if level == 1:
            break
    return found


def _block_ref(element: Tag, ctx: _PageContext) -> tuple[ObligationRef | None, bool]:
    """The fraction a block of text belongs to, read from its labels and headings, and
    whether it maps onto the catalog."""
    labels = _structural_labels(element) + _headings_before(element)
    article = _label_article(labels) or ctx.article
    for label in labels:
        ref = parse_obligation_ref(label[:200], article)
        if ref is not None and ref.fraction:
            mapped = map_to_catalog(
                ref, label, ctx.catalog, local_law=ctx.local_law, mirrored=ctx.mirrored
            )
            return (mapped or ref), mapped is not None
    return None, False


# --------------------------------------------------------------------------- page signals
#
# What a page is, besides what it links: a JavaScript shell (JS_REQUIRED), a captcha, firewall
# or login page (ACCESS_BLOCKED), an error page answered with 200 (SOFT_404), text with
# mojibake (ENCODING_ERROR). Discovery only records the cues; the crawl and the presence
# rules decide what they mean.

_CONTENT_KEPT = 20000
# Elements single-page applications mount into, and the tags some frameworks use for it.
_APP_ROOT_IDS = frozenset(
    ("root", "app", "__next", "__nuxt", "___gatsby", "q-app", "main-app", "app-root")
)
_APP_ROOT_TAGS = ("app-root", "ng-view", "router-outlet")
# Third-party analytics and tag scripts: present on every kind of page, they render nothing.
_ANALYTICS = re.compile(
    r"googletagmanager\.com|google-analytics\.com|\bgtag\(|\bdataLayer\b|\bga\("
    r"|connect\.facebook\.net|fbq\(|hotjar|clarity\.ms|matomo|piwik|statcounter",
    re.IGNORECASE,
)
# A challenge widget (reCAPTCHA, hCaptcha, Turnstile, Cloudflare's interstitial): counted only
# when it sits in the page's own content, not in its header, menus or footer.
_CHALLENGE_WIDGET = re.compile(r"g-recaptcha|h-captcha|cf-turnstile|cf-chl-", re.IGNORECASE)
# Challenge scripts in the raw HTML: many sites load them on every page (reCAPTCHA v3,
# Cloudflare's bot detection), so they count only with a challenge title (below) or when the
# server refused the page (403, 429, 503; the crawl decides that).
_CHALLENGE_SCRIPT = re.compile(
    r"recaptcha/api\.js|hcaptcha\.com|challenges\.cloudflare\.com|/cdn-cgi/challenge-platform",
    re.IGNORECASE,
)
_CHALLENGE_TITLE = re.compile(
    r"just a moment|attention required|checking your browser"
    r"|comprobando (?:su|tu) navegador|verificacion de seguridad"
)
# Challenge wording, read in the title and the content's h1 only.
_CHALLENGE_TEXT = re.compile(
    r"captcha|no (?:es|soy) un robot|not a robot|verificacion de seguridad"
    r"|checking (?:if the site connection is secure|your browser)|verify(?:ing)? you are human"
    r"|comprobando (?:su|tu) navegador|just a moment"
)
_WAF_TEXT = re.compile(
    r"the requested url was rejected|request rejected|your support id is|access denied"
    r"|acceso denegado|you have been blocked|attention required|incapsula incident"
    r"|request unsuccessful|sucuri website firewall|web application firewall"
    r"|firewall de aplicaciones|solicitud (?:ha sido )?(?:rechazada|bloqueada)"
    r"|(?:su|tu) (?:direccion ip|acceso) (?:ha sido )?bloquead[oa]|\bforbidden\b"
)
_LOGIN_TEXT = re.compile(
    r"iniciar sesion|inicio de sesion|inicie sesion|acceso restringido|area restringida"
    r"|ingrese (?:su )?(?:usuario|contrasena)|usuario y contrasena|autenticacion requerida"
    r"|authorization required|\blog ?in\b|\bsign in\b"
)
_ERROR_TEXT = re.compile(
    r"pagina no (?:encontrada|existe|disponible)"
    r"|(?:la pagina|el documento|el archivo|el recurso|la direccion|la url)"
    r"(?: que (?:busca|buscas|solicita|solicito|solicitaste|intenta|intentas)"
    r"(?: consultar| abrir| ver| visitar)?| solicitad[oa])?"
    r" no (?:existe|fue encontrad[oa]|se encuentra disponible|esta disponible|se encontro)"
    r"|no se (?:encontro|pudo encontrar|ha encontrado) (?:la pagina|el documento|el archivo)"
    r"|error 404|404 not found|404 no encontrad|\bnot found\b"
)
# In the content (not the title or h1) only errors about the page or address count: "el
# documento no está disponible por el momento" is an honest notice of absence.
_ERROR_CONTENT = re.compile(
    r"pagina no (?:encontrada|existe)"
    r"|(?:la pagina|la direccion|la url)"
    r"(?: que (?:busca|buscas|solicita|solicito|solicitaste|intenta|intentas)"
    r"(?: consultar| abrir| ver| visitar)?| solicitad[oa])?"
    r" no (?:existe|fue encontrad[oa]|se encuentra disponible|esta disponible|se encontro)"
    r"|no se (?:encontro|pudo encontrar|ha encontrado) la pagina"
    r"|error 404|404 not found|404 no encontrad|page not found"
)
# "404 | Municipio", "Error 404", but not "404/2025 Recurso de revisión" or "404-B".
_ERROR_TITLE = re.compile(r"^\W*(?:error\s*)?404(?![/\-.]?\d)\b")
# Pages larger than this are real pages, whatever words they contain.
_SMALL_TEXT = 2500
_SMALL_LINKS = 15
_SHORT_CONTENT = 600
_MOJIBAKE_MARK = re.compile(
    "[\u00c2\u00c3][\u0080-\u00bf\u0152\u0153\u0160\u0161\u0178\u017d\u017e\u0192"
    "\u02c6\u02dc\u2013-\u2122]|\u00e2\u20ac|\ufffd"
)
MOJIBAKE_MINIMUM = 2


@dataclass
class PageSignals:
    """Cues about what a page is (see the section comment); all empty for an ordinary page."""

    scripts: int = 0  # <script> elements with a source or code
    noscript: str = ""  # text of <noscript> elements
    app_root: str = ""  # an empty mount point of a script application ("div#root")
    password: bool = False  # the page's content is mostly a form asking for a password
    block: str | None = None  # 'captcha', 'waf' or 'login'
    block_cue: str = ""  # the words or markup that gave it away
    error_cue: str = ""  # error-page wording ("Página no encontrada") in a small page
    mojibake: str = ""  # a sample of text decoded with the wrong encoding
    challenge_script: str = ""  # a challenge script loaded (counts only on a refusal)


@dataclass
class _ScriptSignals:
    scripts: int
    noscript: str
    app_root: str
    password: bool
    password_form_chars: int
    challenge: str
    challenge_script: str


def _script_signals(soup: BeautifulSoup, html: str) -> _ScriptSignals:
    """Read before scripts are dropped: script count, noscript text, empty app roots."""
    scripts = sum(
        1
        for tag in soup.find_all("script")
        if (tag.get("src") or tag.get_text(strip=True))
        and not _ANALYTICS.search(str(tag.get("src") or "") or tag.get_text()[:2000])
    )
    noscript = " ".join(
        " ".join(tag.get_text(" ", strip=True).split()) for tag in soup.find_all("noscript")
    )[:300]
    app_root = ""
    for element in soup.find_all(True, id=True):
        ident = str(element.get("id", "")).strip()
        if ident.lower() in _APP_ROOT_IDS and _empty(element):
            app_root = f"{element.name}#{ident}"
            break
    if not app_root:
        element = next((e for e in soup.find_all(list(_APP_ROOT_TAGS)) if _empty(e)), None)
        app_root = element.name if element is not None else ""
    password, form_chars = False, 0
    for field_ in soup.find_all("input", attrs={"type": re.compile("^password$", re.I)}):
        if _ancestor(field_, _BLOCK_SCOPES) is not None:
            continue  # a login box in the header, a sidebar or the footer
        form = _ancestor(field_, ("form",))
        password = True
        form_chars = len(" ".join(form.get_text(" ", strip=True).split())) if form else 0
        break
    challenge = ""
    for element in soup.find_all(True, attrs={"class": True}) + soup.find_all(True, id=True):
        names = " ".join([*element.get("class", []), str(element.get("id", ""))])
        found = _CHALLENGE_WIDGET.search(names)
        if found and _ancestor(element, _BLOCK_SCOPES) is None:
            challenge = found.group(0)
            break
    script = _CHALLENGE_SCRIPT.search(html[:100000])
    return _ScriptSignals(
        scripts,
        noscript,
        app_root,
        password,
        form_chars,
        challenge,
        script.group(0) if script else "",
    )


def _empty(element: Tag) -> bool:
    return not element.get_text(strip=True) and element.find(["a", "p", "li", "table"]) is None


def _page_signals(
    raw: _ScriptSignals,
    title: str,
    main_h1: list[str],
    content: str,
    body_text: str,
    analysis: PageAnalysis,
) -> PageSignals:
    signals = PageSignals(
        scripts=raw.scripts,
        noscript=raw.noscript,
        app_root=raw.app_root,
        mojibake=find_mojibake(f"{title}\n{body_text}"),
        challenge_script=raw.challenge_script,
    )
    small = analysis.text_chars < _SMALL_TEXT and analysis.link_count <= _SMALL_LINKS
    if not small:
        return signals
    text = normalize_text(f"{title}\n{body_text}")
    # Wording is read in the title and the content's h1 only: a site name, a sidebar login
    # box or a contact form's "escriba el texto del captcha" says nothing about the page.
    top = normalize_text("\n".join([title, *main_h1[:2]]))
    own = " ".join(content.split())
    # A password field counts when its form is most of what the page says.
    signals.password = raw.password and len(own) - raw.password_form_chars < _SHORT_CONTENT
    challenge = raw.challenge or _match(_CHALLENGE_TEXT, top)
    if not challenge and raw.challenge_script and _CHALLENGE_TITLE.search(top):
        challenge = raw.challenge_script
    if challenge:
        signals.block, signals.block_cue = "captcha", challenge
    elif waf := _match(_WAF_TEXT, text):
        signals.block, signals.block_cue = "waf", waf
    elif signals.password:
        signals.block, signals.block_cue = "login", _match(_LOGIN_TEXT, text) or "contraseña"
    if signals.block is None:
        short = len(own) < _SHORT_CONTENT
        error = _match(_ERROR_TEXT, top) or (
            "404" if _ERROR_TITLE.search(normalize_text(title)) else ""
        )
        if not error and short:
            error = _match(_ERROR_CONTENT, normalize_text(content))
        signals.error_cue = error
    return signals


def _match(pattern: re.Pattern[str], text: str) -> str:
    found = pattern.search(text)
    return found.group(0) if found else ""


def find_mojibake(text: str, minimum: int = MOJIBAKE_MINIMUM) -> str:
    """A short sample of text decoded with the wrong encoding ("FracciÃ³n", "â€œ", runs of
    U+FFFD), or "" when fewer than ``minimum`` such marks appear."""
    marks = list(islice(_MOJIBAKE_MARK.finditer(text), minimum))
    if len(marks) < minimum:
        return ""
    start = marks[0].start()
    return " ".join(text[max(0, start - 25) : start + 25].split())


def page_signals(html: str, url: str = "") -> PageSignals:
    """The signals of one HTML document on its own (a file URL that answered HTML)."""
    return classify_page(html, url or "http://localhost/", _NO_CATALOG).signals


class _EmptyCatalog:
    obligations: tuple[Obligation, ...] = ()


_NO_CATALOG = _EmptyCatalog()


# --------------------------------------------------------------------------- classify


@dataclass
class _PageContext:
    catalog: CatalogLike
    base: str
    page_ref: ObligationRef | None
    article: int | None
    local_law: bool
    lists_fractions: bool
    in_section: bool
    tables: _TableInfo
    outline: dict[int, list[str]]
    page_ref_mapped: bool = True
    mirrored: int | None = None  # catalog article the page's state article mirrors

    @property
    def known_ref(self) -> ObligationRef | None:
        """The page's obligation when it is a catalog one (what its links inherit)."""
        return self.page_ref if self.page_ref_mapped else None


def classify_page(
    html: str,
    url: str,
    catalog: CatalogLike,
    context: ObligationRef | None = None,
    *,
    in_section: bool = True,
    local_law: bool | None = None,
    context_mapped: bool = True,
) -> PageAnalysis:
    """Map a page's links to obligations, resources and further navigation.

    ``context`` is the obligation (or article) the page belongs to when the crawl reached it
    from an obligation link; year/trimester pages and files below inherit it. Links are read
    in this order: their own text, the first cell of their table row, the enclosing labels
    (accordion titles, nested list items, headings), their URL, and (inside a transparency
    section only, ``in_section``) the title words of their text. ``local_law`` is what the
    pages above said about the law (a state law: map fractions by title); a law named in
    the page's own content wins, one named only in its menus or footer does not.
    ``context_mapped=False`` says ``context`` is a state-law reference that matched no
    catalog obligation: the page's links are then read on their own (titles included)
    rather than inheriting it.
    """
    soup = BeautifulSoup(html or "", "lxml")
    scripts = _script_signals(soup, html or "")
    for tag in soup(list(_SKIP_TAGS)):
        tag.decompose()
    _index_tags(soup)
    base = _base_url(soup, url)
    title = " ".join((soup.title.get_text(" ", strip=True) if soup.title else "").split())
    headings = [
        " ".join(h.get_text(" ", strip=True).split())
        for h in _tags(soup, ("h1", "h2", "h3", "h4"))
    ]
    headings = [h for h in headings if h]
    body_text = soup.get_text("\n")
    content, chrome = _content_and_chrome(soup)
    law = _LawReading.of("\n".join([title, content[:20000], url]), chrome[:5000], local_law)
    local_law = law.applied
    page_ref, article, page_ref_mapped = _page_ref(context, soup, title, catalog, local_law)
    page_ref_mapped = page_ref_mapped and (context is None or context_mapped)
    tables = _tables(soup, base)
    ctx = _PageContext(
        catalog=catalog,
        base=base,
        page_ref=page_ref,
        article=article,
        local_law=local_law,
        lists_fractions=_lists_fractions(soup),
        in_section=in_section,
        tables=tables,
        outline=_outline(soup),
        page_ref_mapped=page_ref_mapped,
    )
    analysis = PageAnalysis(
        url=normalize_url(url),
        title=title,
        headings=headings,
        page_ref=page_ref,
        page_ref_mapped=page_ref_mapped,
        article=article,
        cited_law=law.cited,
        law_named=law.named,
        lists_fractions=ctx.lists_fractions,
        has_table=bool(tables.data_table_ids),
        table_rows=tables.data_rows,
        transparency_links=_transparency_links(soup, base),
        pnt_links=_pnt_links(soup, base),
        text_chars=len(" ".join(body_text.split())),
        local_law=law.reported,
    )
    _classify_links(soup, ctx, analysis)
    ctx.mirrored = _mirrored_article(analysis, ctx)
    if ctx.mirrored is not None:  # read the odd ones out again, knowing the article
        analysis.obligation_links, analysis.article_links = [], []
        analysis.resource_links, analysis.link_count = [], 0
        _classify_links(soup, ctx, analysis)
    _embedded(soup, ctx, analysis)
    analysis.content_text = content[:_CONTENT_KEPT]
    main_h1 = [
        " ".join(h.get_text(" ", strip=True).split())
        for h in _tags(soup, ("h1",))
        if _ancestor(h, _BLOCK_SCOPES) is None
    ]
    analysis.signals = _page_signals(scripts, title, main_h1, content, body_text, analysis)
    analysis.justification, analysis.justifications = _justifications(soup, ctx)
    if analysis.justification:
        analysis.signals.error_cue = ""  # a note of absence is not an error page
    return analysis


def _content_and_chrome(soup: BeautifulSoup) -> tuple[str, str]:
    """The page's own text (headings included) and the text of its chrome (header, nav,
    footer, aside), each a newline-joined string."""
    content: list[str] = []
    chrome: list[str] = []
    body = soup.body or soup
    for element in body.find_all(string=True):
        if type(element) is not NavigableString or not element.strip():
            continue
        in_chrome = element.parent is not None and (
            element.parent.name in _BLOCK_SCOPES or _ancestor(element.parent, _BLOCK_SCOPES)
        )
        (chrome if in_chrome else content).append(str(element))
    return "\n".join(content), "\n".join(chrome)


def _mirrored_article(analysis: PageAnalysis, ctx: _PageContext) -> int | None:
    """The catalog article a state-law article page mirrors, when most of its fractions
    matched one article by title and some did not: a state's "Artículo 79 – Fideicomisos"
    is Art. 77, so its "Fracción VI. El padrón de beneficiarios, en su caso" is 77-VI,
    not the common obligations' 70-XV-B, which has the same title. None when there is
    nothing to correct or no clear majority."""
    if not ctx.local_law or ctx.article is None or ctx.known_ref is not None:
        return None
    prefix = f"{ctx.article}-"
    articles = Counter(
        link.ref.article
        for link in analysis.obligation_links
        if link.via == "link_text"
        and link.mapped
        and link.ref.fraction
        and link.cited.startswith(prefix)
    )
    if not articles:
        return None
    article, count = articles.most_common(1)[0]
    total = sum(articles.values())
    if count == total or count < 3 or count * 3 < total * 2:
        return None
    return article


@dataclass(frozen=True)
class _LawReading:
    cited: str | None  # detect_cited_law's label for the page
    named: bool  # the page's own content names a law (not only an article number)
    reported: bool | None  # state law per this page or the pages above; None: unknown
    applied: bool  # what fraction mapping uses (unknown: guessed from the article number)

    @classmethod
    def of(cls, content: str, chrome: str, inherited: bool | None) -> _LawReading:
        """A law named in the page's own content wins over what the pages above said, and
        what they said wins over the site chrome: a menu entry "Ley General de
        Transparencia" on every page of a state-law portal (a link to the law's text) says
        nothing about the law one fraction's page publishes under."""
        if _names_a_law(content):
            cited = detect_cited_law(content)
            guess = bool(cited and "ley local" in cited)
            return cls(cited, True, guess, guess)
        cited = detect_cited_law(f"{content}\n{chrome}")
        guess = bool(cited and "ley local" in cited)
        return cls(cited, False, inherited, guess if inherited is None else inherited)


def _page_ref(
    context: ObligationRef | None,
    soup: BeautifulSoup,
    title: str,
    catalog: CatalogLike,
    local_law: bool,
) -> tuple[ObligationRef | None, int | None, bool]:
    """The obligation and article a page is about: the crawl context, else its main heading
    or title (an Apache listing "Index of /SIPOT/LGTA70FVIII/2025" is about 70-VIII). A
    page whose headings name several fractions is an index, not one obligation's page."""
    if context is not None and context.fraction:
        return context, context.article, True
    article = context.article if context else None
    heading_refs = set()
    for heading in _tags(soup, ("h1", "h2", "h3", "h4")):
        ref = parse_obligation_ref(heading.get_text(" ", strip=True)[:200])
        if ref is not None and ref.fraction:
            heading_refs.add(ref.fraction)
    first_h1 = soup.find("h1")
    texts = [first_h1.get_text(" ", strip=True) if first_h1 else "", title]
    for text in texts:
        ref = parse_obligation_ref(text, article)
        if ref is None:
            continue
        if ref.fraction is None:
            article = article or ref.article
            continue
        if len(heading_refs) > 1:
            break
        mapped = map_to_catalog(ref, text, catalog, local_law=local_law)
        return (mapped or ref), ref.article, mapped is not None
    return None, article, True


def _classify_links(soup: BeautifulSoup, ctx: _PageContext, analysis: PageAnalysis) -> None:
    seen_navigation: dict[str, Link] = {}
    for anchor in _anchors(soup):
        url = _clean_href(anchor["href"], ctx.base)
        if url is None or _is_pnt(url):
            continue
        analysis.link_count += 1
        text = _link_text(anchor)
        found = _find_ref(anchor, text, url, ctx)
        resource = is_resource_url(url)
        if found and found[0].fraction is None:
            if not resource:
                analysis.article_links.append(Link(url, text, 10.0, found[0].obligation_id))
                continue
            found = None
        inherited = found is None or (
            found[1] != "link_text" and ctx.page_ref is not None and _covers(found[0], ctx.page_ref)
        )
        if found and not inherited:
            ref, via, cited, mapped = found
            analysis.obligation_links.append(
                ObligationLink(ref, url, text, via, cited, mapped, resource)
            )
        effective = found[0] if found else ctx.page_ref
        if resource:
            mapped = found[3] if found and not inherited else True
            analysis.resource_links.append(ResourceLink(url, text, effective, inherited, mapped))
        elif inherited and url not in seen_navigation:
            score = navigation_score(text, url) + (2.0 if effective else 0.0)
            ref_id = effective.obligation_id if effective else None
            chrome = _ancestor(anchor, _BLOCK_SCOPES) is not None
            seen_navigation[url] = Link(url, text, score, ref_id, chrome)
    analysis.navigation_links = sorted(seen_navigation.values(), key=lambda link: -link.score)


_REFRESH = re.compile(r"url\s*=\s*['\"]?([^'\";]+)", re.IGNORECASE)


def _embedded(soup: BeautifulSoup, ctx: _PageContext, analysis: PageAnalysis) -> None:
    """Targets a browser shows without a click: a meta refresh, frames, iframes, embedded
    documents. Old municipal portals are often a frameset, and a PDF shown in an iframe is
    a resource of the page."""
    targets = []
    for meta in soup.find_all("meta", attrs={"http-equiv": re.compile("refresh", re.I)}):
        match = _REFRESH.search(meta.get("content") or "")
        if match:
            targets.append(match.group(1))
    for tag in _tags(soup, ("frame", "iframe", "embed", "object")):
        targets.append(tag.get("src") or tag.get("data") or "")
    page_host = urlsplit(ctx.base).netloc
    for target in targets:
        url = _clean_href(target, ctx.base)
        if url is None or _is_pnt(url) or not _related_hosts(urlsplit(url).netloc, page_host):
            continue
        if is_resource_url(url):
            analysis.resource_links.append(ResourceLink(url, "", ctx.page_ref, True))
        elif url not in analysis.embedded_links and url != analysis.url:
            analysis.embedded_links.append(url)


def _covers(outer: ObligationRef, inner: ObligationRef) -> bool:
    """``outer`` is ``inner`` or the whole fraction ``inner`` is a sub-format of."""
    return (outer.article, outer.fraction) == (inner.article, inner.fraction) and (
        outer.subformat in (None, inner.subformat)
    )


def _find_ref(
    anchor: Tag, text: str, url: str, ctx: _PageContext
) -> tuple[ObligationRef, str, str, bool] | None:
    """(catalog ref, via, cited id, mapped) for a link, or None if it cites nothing."""
    labels = _structural_labels(anchor) + ctx.outline.get(id(anchor), [])
    article = _label_article(labels) or ctx.article
    candidates: list[tuple[str, str]] = [(text, "link_text")]
    cell = _ancestor(anchor, ("td", "th"))
    table = _ancestor(cell, ("table",)) if cell is not None else None
    if cell is not None and id(cell) in ctx.tables.row_label:
        candidates.append((ctx.tables.row_label[id(cell)], "table_cell"))
    candidates += [(label, "heading") for label in labels]
    unmapped: tuple[ObligationRef, str, str, bool] | None = None
    url_text = unquote(urlsplit(url).path + " " + urlsplit(url).query)
    candidates.append((url_text, "url_pattern"))
    url_ref, url_names_article = _parse(url_text, None, False)
    for source_text, via in candidates:
        if via != "link_text" and ctx.local_law and ctx.known_ref is not None:
            continue  # state-law numbers around an obligation's page are that obligation's
        fraction_context = (via == "link_text" and ctx.lists_fractions) or (
            via == "table_cell" and table is not None and id(table) in ctx.tables.fraction_tables
        )
        ref, named = _parse(source_text, article, fraction_context)
        if (
            ref is not None
            and not named
            and url_names_article
            and url_ref is not None
            and (url_ref.fraction == ref.fraction and url_ref.article != ref.article)
        ):  # "Fracc. IV" in a row, /SIPOT/LGTA76FIV/ in the link: Art. 76
            ref = ObligationRef(url_ref.article, ref.fraction, ref.subformat or url_ref.subformat)
        if (
            ref is not None
            and ref.subformat is None
            and url_ref is not None
            and ((url_ref.article, url_ref.fraction) == (ref.article, ref.fraction))
        ):  # "Fracción X" in the text, /fracc-x-a in the link
            ref = ObligationRef(ref.article, ref.fraction, url_ref.subformat)
        if ref is None and via == "link_text":
            ref = _subformat_of_context(source_text, ctx.page_ref)
        if ref is None or (ref.fraction is None and via != "link_text"):
            continue
        if ref.fraction and ref.subformat is None and via != "link_text":
            ref = _subformat_of_context(text, ref) or ref  # "Formato A" in row/section II
        evidence = source_text if via != "url_pattern" else f"{text} {source_text}"
        resolved = _resolve(ref, via, f"{evidence} {text}", ctx)
        if resolved[3] or resolved[0].fraction is None:
            return resolved
        unmapped = unmapped or resolved  # a later clue may say what it is in the catalog
    if unmapped is not None:
        # On an obligation's page, a heading or URL citing a state-law number nothing
        # explains is about that page's obligation; a link's own text is not.
        return unmapped if unmapped[1] == "link_text" or ctx.known_ref is None else None
    if ctx.known_ref is not None:
        return _sibling_subformat(text, ctx)  # else the page's obligation (inherited)
    if not ctx.in_section:
        return None
    row_label = ctx.tables.row_label.get(id(cell)) if cell is not None else None
    for candidate in (text, row_label, labels[0] if labels else None):
        found = _title_only(candidate, ctx) if candidate and 3 <= len(candidate) <= 300 else None
        if found:
            return found
    return None


def _sibling_subformat(text: str, ctx: _PageContext) -> tuple[ObligationRef, str, str, bool] | None:
    """On a page reached for one sub-format or fraction, a file titled like another
    sub-format of the same fraction belongs to that one: the portal published the whole
    fraction on one page ("Resultado de los mecanismos de participación" is XXXVII-B)."""
    page = ctx.known_ref
    if page is None or page.fraction is None or not 3 <= len(text) <= 300:
        return None
    ref = _subformat_by_title(ObligationRef(page.article, page.fraction), text, ctx.catalog)
    if ref is None or ref == page:
        return None
    return ref, "title_keywords", ref.obligation_id, True


def _label_article(labels: Iterable[str]) -> int | None:
    for label in labels:
        match = _ARTICLE.search(normalize_text(label))
        if match:
            return int(match.group("art"))
    return None


def _subformat_of_context(text: str, page_ref: ObligationRef | None) -> ObligationRef | None:
    """ "Formato A" / "Inciso b)" on a fraction's page is that fraction's sub-format."""
    if page_ref is None or page_ref.fraction is None:
        return None
    match = _SUBFORMAT_LABEL.match(normalize_text(text))
    if not match:
        return None
    letter = (match.group(1) or match.group(2)).upper()
    return ObligationRef(page_ref.article, page_ref.fraction, letter)


def _resolve(
    ref: ObligationRef, via: str, evidence: str, ctx: _PageContext
) -> tuple[ObligationRef, str, str, bool]:
    if ref.fraction is None:
        return ref, via, ref.obligation_id, True
    mapped = map_to_catalog(
        ref, evidence, ctx.catalog, local_law=ctx.local_law, mirrored=ctx.mirrored
    )
    if mapped is not None and mapped.subformat is None and via != "link_text":
        mapped = _subformat_by_title(mapped, evidence, ctx.catalog) or mapped
    return (mapped or ref), via, ref.obligation_id, mapped is not None


def _subformat_by_title(
    ref: ObligationRef, text: str, catalog: CatalogLike
) -> ObligationRef | None:
    """Under a fraction's heading, "Inventario de bienes muebles – 2024 (CSV)" is that
    fraction's sub-format whose title it repeats (one clear winner, or nothing)."""
    index = _catalog_index(catalog)
    scores = [
        s
        for s in _title_scores(text, index)
        if (s.obligation.article, s.obligation.fraction) == (ref.article, ref.fraction)
        and s.obligation.subformat
    ]
    if not scores or scores[0].score < 0.45 or not (scores[0].keyword_hit or scores[0].shared >= 2):
        return None
    if len(scores) > 1 and scores[1].score >= scores[0].score - 0.05:
        return None
    return scores[0].obligation.ref


def _title_only(text: str, ctx: _PageContext) -> tuple[ObligationRef, str, str, bool] | None:
    index = _catalog_index(ctx.catalog)
    ref = _map_by_title(text, ctx.catalog, index, None)
    if ref is None:
        return None
    return ref, "title_keywords", ref.obligation_id, True
