"""What a response really is: media type from the bytes, and the text encoding.

Transparency portals mislabel constantly (spreadsheets served as ``text/html``, PDFs as
``application/octet-stream``, Windows-1252 pages declared UTF-8), and the audit must judge what
was published, not what the server said. So the fetcher records both the declared type and the
sniffed one, and decodes text with an encoding that was checked against the bytes.
"""

from __future__ import annotations

import codecs
import json
import re
from collections import Counter

import charset_normalizer

OCTET_STREAM = "application/octet-stream"
EMPTY = "application/x-empty"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
PPTX = "application/vnd.openxmlformats-officedocument.presentationml.presentation"
XLS = "application/vnd.ms-excel"
DOC = "application/msword"
PPT = "application/vnd.ms-powerpoint"
OLE = "application/x-ole-storage"

_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
    (b"II*\x00", "image/tiff"),
    (b"MM\x00*", "image/tiff"),
    (b"{\\rtf", "application/rtf"),
    (b"\x1f\x8b", "application/gzip"),
    (b"Rar!\x1a\x07", "application/vnd.rar"),
    (b"7z\xbc\xaf\x27\x1c", "application/x-7z-compressed"),
)
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
# Stream names in an OLE2 directory are UTF-16LE.
_OLE_STREAMS = (
    ("Workbook".encode("utf-16-le"), XLS),
    ("Book".encode("utf-16-le"), XLS),
    ("WordDocument".encode("utf-16-le"), DOC),
    ("PowerPoint Document".encode("utf-16-le"), PPT),
)
_OLE_EXTENSIONS = {".xls": XLS, ".doc": DOC, ".ppt": PPT}
_OOXML_PARTS = (("xl/", XLSX), ("word/", DOCX), ("ppt/", PPTX))
_ODF_PREFIX = b"mimetypeapplication/vnd.oasis.opendocument."

_BOMS: tuple[tuple[bytes, str], ...] = (
    (b"\x00\x00\xfe\xff", "utf-32"),
    (b"\xff\xfe\x00\x00", "utf-32"),
    (b"\xef\xbb\xbf", "utf-8-sig"),
    (b"\xfe\xff", "utf-16"),
    (b"\xff\xfe", "utf-16"),
)
_HTML_START = re.compile(
    r"<(!doctype\s+html|html|head|body|script|iframe|div|table|title|style|meta|link|"
    r"h1|p|br|a|b|font|center|form|!--)[\s/>]",
    re.IGNORECASE,
)
_HTML_ANYWHERE = re.compile(r"<!doctype\s+html|<html[\s>]|<body[\s>]", re.IGNORECASE)
_HTML_TAG = re.compile(r"<(html|head|body|div|p|a|table|script|meta|title|br|span)[\s/>]", re.I)
_JSON_START = re.compile(r'(\{\s*("|\})|\[\s*(["{\[\]\-0-9]|true|false|null))')
_META_CHARSET = re.compile(
    rb"""<meta[^>]{0,512}?charset\s*=\s*["']?\s*([A-Za-z0-9_.:\-]+)""", re.IGNORECASE
)
_XML_ENCODING = re.compile(rb"""^<\?xml[^>]{0,200}?encoding\s*=\s*["']([A-Za-z0-9_.:\-]+)""")
_DELIMITERS = (",", ";", "\t", "|")
_TEXT_TYPES = (
    "text/",
    "application/json",
    "application/xml",
    "application/xhtml+xml",
    "application/javascript",
    "application/ld+json",
    "application/rss+xml",
    "application/atom+xml",
    "application/csv",
)
# Labels browsers map to windows-1252 (WHATWG Encoding standard).
_AS_WINDOWS_1252 = {"latin_1", "iso8859_1", "ascii", "cp819", "windows_1252", "cp1252"}
_MULTIBYTE_PREFIXES = (
    "utf",
    "shift_jis",
    "euc",
    "gb",
    "big5",
    "cp932",
    "cp949",
    "cp950",
    "iso2022",
    "hz",
    "johab",
    "ms_kanji",
    "sjis",
)
REGIONAL_DEFAULT = "windows-1252"  # what browsers in Mexico assume for unlabelled legacy pages


def is_text_type(media_type: str | None) -> bool:
    """Whether a media type carries text that has an encoding."""
    return bool(media_type) and (
        media_type.startswith(_TEXT_TYPES) or media_type.endswith(("+xml", "+json"))
    )


def sniff(content: bytes, declared: str | None = None, url: str | None = None) -> str:
    """Media type of ``content`` judged from its bytes.

    ``declared`` (the Content-Type media type) and ``url`` only break ties the bytes cannot:
    which OLE2 document a truncated file is, or whether delimiter-free text is a CSV.
    """
    if not content:
        return EMPTY
    binary = _sniff_binary(content, url)
    if binary is not None:
        return binary
    return _sniff_text(content, (declared or "").lower(), (url or "").lower())


def _sniff_binary(content: bytes, url: str | None) -> str | None:
    if b"%PDF-" in content[:1024]:
        return "application/pdf"
    if content.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        return _sniff_zip(content)
    if content.startswith(_OLE_MAGIC):
        return _sniff_ole(content, (url or "").lower())
    for magic, media_type in _MAGIC:
        if content.startswith(magic):
            return media_type
    return None


def _zip_member_names(content: bytes, limit: int = 200) -> list[str]:
    """Names from the local file headers; works on a truncated archive, unlike ``zipfile``."""
    names: list[str] = []
    start = 0
    while len(names) < limit:
        at = content.find(b"PK\x03\x04", start)
        if at < 0 or at + 30 > len(content):
            break
        name_len = int.from_bytes(content[at + 26 : at + 28], "little")
        names.append(content[at + 30 : at + 30 + name_len].decode("utf-8", errors="replace"))
        start = at + 4
    return names


def _sniff_zip(content: bytes) -> str:
    if content[30:].startswith(_ODF_PREFIX):
        end = content.find(b"PK", 38)
        return content[38 : end if end > 0 else 120].decode("ascii", errors="replace").strip()
    names = _zip_member_names(content)
    for prefix, media_type in _OOXML_PARTS:
        if any(name.startswith(prefix) for name in names):
            return media_type
    return "application/zip"


def _sniff_ole(content: bytes, url: str) -> str:
    """OLE2 compound files: pick the Office type by the stream names, else by the extension."""
    for stream, media_type in _OLE_STREAMS:
        if stream in content:
            return media_type
    path = url.split("?", 1)[0].split("#", 1)[0]
    for extension, media_type in _OLE_EXTENSIONS.items():
        if path.endswith(extension):
            return media_type
    return OLE


def _head_text(content: bytes, size: int = 4096) -> str:
    for bom, codec in _BOMS:
        if content.startswith(bom):
            return content[: size + 4].decode(codec, errors="replace").lstrip("\ufeff")
    return content[:size].decode("utf-8", errors="replace")


def _sniff_text(content: bytes, declared: str, url: str) -> str:
    has_bom = any(content.startswith(bom) for bom, _ in _BOMS)
    if not has_bom and b"\x00" in content[:1024]:
        return OCTET_STREAM
    head = _head_text(content).lstrip()
    lower = head[:1024].lower()
    if lower.startswith("<?xml"):
        return "text/html" if _HTML_ANYWHERE.search(lower) else "application/xml"
    if _HTML_START.match(lower) or _HTML_ANYWHERE.search(lower):
        return "text/html"
    if lower.startswith(("{", "[")) and _looks_like_json(content, head):
        return "application/json"
    if lower.startswith("<") and re.match(r"<[a-z_][\w.\-]*(:[\w.\-]+)?[\s>/]", lower):
        return "application/xml"
    delimiter = csv_delimiter(head)
    if delimiter is not None:
        return "text/tab-separated-values" if delimiter == "\t" else "text/csv"
    if declared in ("text/csv", "text/tab-separated-values", "application/csv") or url.split(
        "?", 1
    )[0].endswith((".csv", ".tsv")):
        return "text/tab-separated-values" if declared.endswith("values") else "text/csv"
    if declared == "text/html" and _HTML_TAG.search(head):
        return "text/html"
    return "text/plain" if _mostly_printable(head) else OCTET_STREAM


def _looks_like_json(content: bytes, head: str) -> bool:
    if len(content) <= 1024 * 1024:
        try:
            json.loads(content.decode("utf-8-sig"))
            return True
        except (ValueError, UnicodeDecodeError):
            pass
    return _JSON_START.match(head) is not None


def _mostly_printable(text: str) -> bool:
    if not text:
        return True
    bad = sum(1 for ch in text if ord(ch) < 32 and ch not in "\r\n\t\f")
    return bad / len(text) < 0.02


def _logical_lines(text: str, limit: int) -> list[str]:
    """Split on newlines outside double quotes, so quoted multi-line cells stay whole."""
    lines: list[str] = []
    current: list[str] = []
    quoted = False
    for ch in text:
        if ch == '"':
            quoted = not quoted
        if ch in "\r\n" and not quoted:
            if current:
                lines.append("".join(current))
                current = []
                if len(lines) >= limit:
                    break
            continue
        current.append(ch)
    return lines  # the unterminated last line is left out: it may be cut


def _count_outside_quotes(line: str, delimiter: str) -> int:
    count, quoted = 0, False
    for ch in line:
        if ch == '"':
            quoted = not quoted
        elif ch == delimiter and not quoted:
            count += 1
    return count


def csv_delimiter(text: str, max_lines: int = 25) -> str | None:
    """The delimiter of delimited text, or None.

    A delimiter qualifies when most lines (70 %) hold the same non-zero number of it; SIPOT
    exports start with a few title rows, which the threshold tolerates. Among candidates the
    most consistent wins, then the one giving more columns.
    """
    lines = _logical_lines(text, max_lines)
    if len(lines) < 2:
        return None
    best: tuple[float, int, str] | None = None
    for delimiter in _DELIMITERS:
        counts = Counter(_count_outside_quotes(line, delimiter) for line in lines)
        columns, hits = max(counts.items(), key=lambda item: (item[1], item[0]))
        if columns == 0:
            nonzero = [(n, c) for c, n in counts.items() if c > 0]
            if not nonzero:
                continue
            hits, columns = max(nonzero)
        share = hits / len(lines)
        if hits < 2 or share < 0.7:
            continue
        candidate = (share, columns, delimiter)
        if best is None or candidate[:2] > best[:2]:
            best = candidate
    return best[2] if best else None


def canonical_encoding(label: str | None) -> str | None:
    """A Python codec name for ``label`` as browsers read it, or None when unknown.

    Latin-1 and ASCII labels become windows-1252, as in browsers: servers label Windows text
    that way all the time, and windows-1252 is a superset for the printable range.
    """
    if not label:
        return None
    try:
        name = codecs.lookup(label.strip().strip("\"'")).name
    except (LookupError, ValueError):
        return None
    name = name.replace("-", "_")
    if name in _AS_WINDOWS_1252:
        return "windows-1252"
    if name.startswith("cp125") and len(name) == 6:
        return f"windows-{name[2:]}"
    return name.replace("_", "-")


def _decodes(content: bytes, encoding: str) -> bool:
    """Strict decode, forgiving a multi-byte sequence cut off by the size cap at the very end."""
    try:
        content.decode(encoding)
        return True
    except UnicodeDecodeError as exc:
        cut_tail = exc.start >= len(content) - 3 and "end of data" in str(exc.reason)
        return cut_tail
    except LookupError:
        return False


def _declared_in_document(content: bytes, media_type: str | None) -> str | None:
    head = content[:2048]
    if media_type in ("text/html", "application/xhtml+xml"):
        match = _META_CHARSET.search(head)
        if match:
            label = canonical_encoding(match.group(1).decode("ascii"))
            # A meta tag cannot truthfully declare UTF-16 (it would not be readable as ASCII).
            return "utf-8" if label and label.startswith("utf-16") else label
    if media_type and ("xml" in media_type):
        match = _XML_ENCODING.search(head)
        if match:
            return canonical_encoding(match.group(1).decode("ascii"))
    return None


def _is_multibyte(encoding: str) -> bool:
    return encoding.replace("-", "_").startswith(_MULTIBYTE_PREFIXES)


def detect_encoding(
    content: bytes, declared_charset: str | None = None, media_type: str | None = None
) -> str:
    """The encoding to decode ``content`` with.

    Order: a byte-order mark; for HTML/XML the charset the document declares in its first
    2 KB; the HTTP charset. Declarations are checked against the bytes: text that is valid
    UTF-8 (and not plain ASCII) is UTF-8 whatever it claims, and a declaration the bytes do not
    decode under is skipped. With nothing usable, charset-normalizer guesses; when it guesses a
    single-byte code page and windows-1252 fits, windows-1252 is used (the regional default,
    and the usual truth for Mexican portals).
    """
    for bom, encoding in _BOMS:
        if content.startswith(bom):
            return encoding
    candidates = [
        label
        for label in (
            _declared_in_document(content, media_type),
            canonical_encoding(declared_charset),
        )
        if label
    ]
    if content.isascii():
        usable = [c for c in candidates if not _is_multibyte(c) or c == "utf-8"]
        return usable[0] if usable else "utf-8"
    if _decodes(content, "utf-8") or _mostly_utf8(content, declared="utf-8" in candidates):
        return "utf-8"
    for candidate in candidates:
        if candidate != "utf-8" and _decodes(content, candidate):
            return candidate
    return _guess(content)


def parse_content_type(value: str) -> tuple[str | None, str | None]:
    """(media type, charset) of a Content-Type header value."""
    media_type, _, params = value.partition(";")
    media_type = media_type.strip().lower() or None
    charset = None
    for param in params.split(";"):
        key, _, val = param.partition("=")
        if key.strip().lower() == "charset":
            charset = val.strip().strip("\"'") or None
    return media_type, charset


def charset_conflict(content: bytes, http_charset: str | None, media_type: str | None,
                     used: str | None) -> str:
    """``"declared→used"`` when the charset a browser would obey is not the page's real one.

    Browsers decode with the HTTP charset, else the document's own declaration (a BOM wins
    over both), so a page that declares one charset and is written in another shows its
    accents and ñ broken to every visitor, even though Lupa reads it right (``used``, from
    ``detect_encoding``). Plain ASCII cannot conflict; Latin-1 labels count as windows-1252.
    """
    if not used or content.isascii() or any(content.startswith(bom) for bom, _ in _BOMS):
        return ""
    declared = canonical_encoding(http_charset) or _declared_in_document(content, media_type)
    if not declared or declared == canonical_encoding(used):
        return ""
    return f"{declared}→{canonical_encoding(used) or used}"


def _mostly_utf8(content: bytes, declared: bool) -> bool:
    """UTF-8 with a few stray bytes (a windows-1252 "ó" pasted into a UTF-8 page): decoded as
    UTF-8 with replacement characters, as browsers do, rather than as windows-1252 (which
    would turn every correct accent into mojibake). Declared UTF-8 needs at least half the
    non-ASCII text to be valid UTF-8; undeclared, nearly all of it."""
    sample = content[: 512 * 1024]
    text = sample.decode("utf-8", errors="replace")
    bad = text.count("\ufffd")
    good = sum(1 for char in text if ord(char) > 127 and char != "\ufffd")
    if not good:
        return False
    return bad <= good if declared else bad * 20 <= good


# Multibyte encodings a Mexican portal plausibly uses. East Asian code pages (cp932, gb18030,
# big5, euc-*) decode almost any run of Latin-1 high bytes, so charset-normalizer sometimes
# names one for a short windows-1252 file ('Fecha de término' read as Japanese).
_PLAUSIBLE_MULTIBYTE = ("utf_8", "utf_16", "utf_32")


def _guess(content: bytes) -> str:
    match = charset_normalizer.from_bytes(content[: 512 * 1024]).best()
    guessed = canonical_encoding(match.encoding) if match is not None else None
    if (guessed and _is_multibyte(guessed) and _decodes(content, guessed)
            and guessed.replace("-", "_").startswith(_PLAUSIBLE_MULTIBYTE)):
        return guessed
    if _decodes(content, REGIONAL_DEFAULT):
        return REGIONAL_DEFAULT
    return guessed or REGIONAL_DEFAULT
