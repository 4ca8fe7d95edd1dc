"""Delimited text: CSV/TSV in whatever encoding and delimiter a portal produced.

Encoding comes from ``sniff.detect_encoding`` (BOM, valid UTF-8, else windows-1252, the regional
default) and the delimiter from ``sniff.csv_delimiter``; the rows then go through the same layout
detection as spreadsheets, since CSV exports may carry the same metadata rows before the header.
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from collections.abc import Iterator
from typing import Any

from scrapers.readers.grid import SheetSource, read_main_table
from scrapers.readers.model import W_MALFORMED, Document, Limits
from scrapers.sniff import csv_delimiter, detect_encoding

_CANDIDATES = (",", ";", "\t", "|")
_HEAD_CHARS = 64 * 1024


def decode(content: bytes, media_type: str, declared_charset: str | None = None
           ) -> tuple[str, str]:
    """The text and the encoding it was decoded with (undecodable bytes replaced);
    ``declared_charset`` (the Content-Type's) is used when the bytes agree with it."""
    encoding = detect_encoding(content, declared_charset, media_type=media_type)
    text = content.decode(encoding, errors="replace")
    return text.removeprefix("\ufeff"), encoding


def pick_delimiter(text: str, declared_delimited: bool = False) -> str | None:
    """The sniffed delimiter; failing that, the candidate that splits the most lines alike.

    The sniffer wants most lines to agree, which a header with few data rows under four
    metadata rows cannot give. The fallback accepts a delimiter when two lines or more split
    into the same number (2+) of fields — a header and a row — or, for content already known
    to be CSV, whenever it occurs at all. Prose with a comma here and there stays text.
    """
    head = text[:_HEAD_CHARS]
    found = csv_delimiter(head)
    if found:
        return found
    lines = [line for line in head.splitlines()[:50] if line.strip()]
    best: tuple[int, int, str] | None = None
    for delimiter in _CANDIDATES:
        counts = Counter(line.count(delimiter) for line in lines)
        agreeing = max((n for count, n in counts.items() if count >= 1), default=0)
        widest = max(counts, default=0)
        if widest == 0 or (agreeing < 2 and not declared_delimited):
            continue
        candidate = (agreeing, widest, delimiter)
        if best is None or candidate[:2] > best[:2]:
            best = candidate
    return best[2] if best else None


def read_csv(doc: Document, content: bytes, limits: Limits) -> bool:
    """Fill ``doc`` from delimited text. False when the text has no delimiter (plain text)."""
    text, encoding = decode(content, doc.media_type, doc.encoding)
    doc.encoding = encoding
    delimited = doc.media_type in ("text/csv", "text/tab-separated-values")
    delimiter = pick_delimiter(text, declared_delimited=delimited)
    if delimiter is None:
        return False
    doc.delimiter = delimiter

    def open_rows() -> Iterator[list[Any]]:
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
        try:
            yield from reader
        except csv.Error as exc:
            doc.warn(W_MALFORMED, f"CSV parsing stopped at line {reader.line_num}: {exc}")

    read_main_table(doc, SheetSource("csv", open_rows), limits)
    doc.sheet = None
    return True
