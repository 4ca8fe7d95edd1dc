"""Document readers: what Lupa sees inside a published file.

``read_document(content)`` sniffs the format from the bytes and returns a ``Document``: for
tables (SIPOT exports and templates, other spreadsheets, CSV, HTML and Word tables) the header
row, columns, row count, period covered, catalogs, sub-tables and notes; for PDFs and text, the
page count, text layer and justification notes. Bad input never raises — a malformed, truncated,
encrypted or oversized file comes back as ``kind='unreadable'`` with a warning naming what
failed — and memory is bounded by ``max_rows``/``max_cells`` and the zip-bomb cap.

``inspect_bytes`` is the compact summary behind ``lupa inspect``.
"""

from __future__ import annotations

import importlib
import posixpath
from collections.abc import Callable
from typing import Any

from scrapers import sniff
from scrapers.readers.archive import ArchiveRefused
from scrapers.readers.csv_reader import decode, read_csv
from scrapers.readers.labels import normalize_label
from scrapers.readers.model import (
    KINDS,
    W_FORMAT_MISMATCH,
    W_UNREADABLE,
    W_UNSUPPORTED,
    Document,
    Limits,
    Period,
    ReaderError,
    Subtable,
)
from scrapers.readers.notes import justification_sentences

__all__ = [
    "KINDS",
    "Document",
    "Limits",
    "Period",
    "ReaderError",
    "Subtable",
    "inspect_bytes",
    "not_read",
    "normalize_label",
    "read_document",
]

_CSV_TYPES = ("text/csv", "text/tab-separated-values", "application/csv")
_TEXT_TYPES = ("text/plain", "application/json", "application/xml")
# Declared types that say nothing about the format (no mismatch can be claimed).
_GENERIC_TYPES = {
    "",
    sniff.OCTET_STREAM,
    "binary/octet-stream",
    "application/download",
    "application/force-download",
    "application/x-download",
    "application/unknown",
}
# Media types that count as the same format when comparing declared and sniffed types.
_FAMILIES = {
    "text/csv": "delimited",
    "application/csv": "delimited",
    "text/tab-separated-values": "delimited",
    "text/plain": "delimited",
    "text/html": "html",
    "application/xhtml+xml": "html",
    "application/xml": "xml",
    "text/xml": "xml",
}
_EXTENSIONS = {
    ".xlsx": sniff.XLSX,
    ".xlsm": sniff.XLSX,
    ".xls": sniff.XLS,
    ".csv": "text/csv",
    ".tsv": "text/tab-separated-values",
    ".txt": "text/plain",
    ".pdf": "application/pdf",
    ".docx": sniff.DOCX,
    ".doc": sniff.DOC,
    ".html": "text/html",
    ".htm": "text/html",
    ".json": "application/json",
    ".xml": "application/xml",
    ".zip": "application/zip",
}

_LIST_METADATA = ("field_types", "field_ids")  # template rows 4-5: long, left out of summaries

Reader = Callable[[Document, bytes, Limits], None]


def read_document(
    content: bytes,
    *,
    filename: str | None = None,
    declared_type: str | None = None,
    max_rows: int = 200_000,
    max_cells: int = 5_000_000,
    max_unpacked_bytes: int = Limits.max_unpacked_bytes,
) -> Document:
    """Read one published file.

    ``filename`` and ``declared_type`` (the Content-Type) never decide the format; they break
    ties the bytes cannot (an OLE file with a damaged directory) and are compared with what the
    bytes are (a ``format_mismatch`` warning). Raises ``ReaderError`` only for bad arguments.
    """
    if not isinstance(content, bytes | bytearray | memoryview):
        raise ReaderError(f"content must be bytes, got {type(content).__name__}")
    limits = Limits(max_rows=max_rows, max_cells=max_cells, max_unpacked_bytes=max_unpacked_bytes)
    content = bytes(content)
    declared, charset = sniff.parse_content_type(declared_type or "")
    media_type = sniff.sniff(content, declared, filename)
    doc = Document(media_type=media_type, declared_type=declared, filename=filename)
    if media_type in _CSV_TYPES or media_type in _TEXT_TYPES:
        # The Content-Type's charset, a hint the text readers check against the bytes (they
        # overwrite it with the encoding actually used).
        doc.encoding = charset.lower() if charset else None
    _check_declared(doc)
    if media_type == sniff.EMPTY:
        return doc
    reader = _reader_for(media_type)
    if reader is None:
        return _failed(doc, W_UNSUPPORTED, f"no reader for {media_type}")
    try:
        reader(doc, content, limits)
    except ArchiveRefused as exc:
        return _failed(doc, exc.code, str(exc))
    except Exception as exc:  # bad input of any kind: the document is unreadable, not the run
        detail = " ".join(str(exc).split())[:300]
        return _failed(
            doc, W_UNREADABLE, f"{media_type} could not be read: {type(exc).__name__}: {detail}"
        )
    return doc


# Media type -> (module, function). Imported on first use: openpyxl, xlrd, pypdf and
# python-docx together add about a second to ``import scrapers.readers``.
_READERS: dict[str, tuple[str, str]] = {
    sniff.XLSX: ("sipot_xlsx", "read_xlsx"),
    sniff.XLS: ("xls", "read_xls"),
    sniff.OLE: ("xls", "read_xls"),
    "text/html": ("html_tables", "read_html"),
    "application/xhtml+xml": ("html_tables", "read_html"),
    "application/pdf": ("pdf", "read_pdf"),
    sniff.DOCX: ("docx_reader", "read_docx"),
}


def _reader_for(media_type: str) -> Reader | None:
    if media_type in _CSV_TYPES or media_type in _TEXT_TYPES:
        return _read_delimited_or_text
    entry = _READERS.get(media_type)
    if entry is None:
        return None
    module = importlib.import_module(f"scrapers.readers.{entry[0]}")
    reader: Reader = getattr(module, entry[1])
    return reader


def _read_delimited_or_text(doc: Document, content: bytes, limits: Limits) -> None:
    """CSV/TSV as a table; text without a delimiter (or JSON/XML) as plain text."""
    if doc.media_type not in ("application/json", "application/xml") and read_csv(
        doc, content, limits
    ):
        return
    text, encoding = decode(content, doc.media_type, doc.encoding)
    doc.encoding = encoding
    doc.text = text[: limits.max_text_chars]
    doc.text_chars = len(doc.text)
    doc.notes = justification_sentences(doc.text)
    doc.kind = "text" if doc.text.strip() else "empty"


def not_read(code: str, message: str, *, filename: str | None = None,
             declared_type: str | None = None) -> Document:
    """The document of a file Lupa chose not to read (e.g. a download cut at the size cap:
    reading the first megabytes would pass a part for the whole)."""
    declared, _ = sniff.parse_content_type(declared_type or "")
    return _failed(Document(media_type=declared or sniff.OCTET_STREAM, declared_type=declared,
                            filename=filename), code, message)


def _failed(doc: Document, code: str, message: str) -> Document:
    """A clean unreadable document: nothing half-read survives, the warnings say why."""
    failed = Document(
        media_type=doc.media_type,
        kind="unreadable",
        declared_type=doc.declared_type,
        filename=doc.filename,
        warnings=list(doc.warnings),
    )
    failed.warn(code, message)
    return failed


def _family(media_type: str) -> str:
    return _FAMILIES.get(media_type, media_type)


def _check_declared(doc: Document) -> None:
    """Warn when the Content-Type or the file name promise another format than the bytes."""
    actual = _family(doc.media_type)
    if doc.media_type == sniff.EMPTY:
        return
    declared = doc.declared_type
    if declared and declared not in _GENERIC_TYPES and _family(declared) != actual:
        doc.warn(W_FORMAT_MISMATCH, f"declared {declared}, content is {doc.media_type}")
    if doc.filename:
        name = doc.filename.split("?", 1)[0].split("#", 1)[0]
        extension = posixpath.splitext(name.lower())[1]
        expected = _EXTENSIONS.get(extension)
        if expected and _family(expected) != actual:
            doc.warn(W_FORMAT_MISMATCH, f"named {extension}, content is {doc.media_type}")


def inspect_bytes(content: bytes, filename: str | None = None) -> dict[str, Any]:
    """A compact, JSON-serialisable summary of one file (what ``lupa inspect`` prints)."""
    doc = read_document(content, filename=filename)
    summary: dict[str, Any] = {
        "format": doc.media_type,
        "kind": doc.kind,
        "sheet": doc.sheet,
        "header_row": doc.header_row,
        "columns": len(doc.columns),
        "rows": doc.rows,
        "truncated": doc.truncated,
        "period": doc.period.to_dict(),
        "metadata": {k: v for k, v in doc.metadata.items() if k not in _LIST_METADATA},
        "warnings": list(doc.warnings),
    }
    optional = {
        "encoding": doc.encoding,
        "delimiter": doc.delimiter,
        "catalogs": {name: len(values) for name, values in doc.catalogs.items()} or None,
        "subtables": {name: sub.rows for name, sub in doc.subtables.items()} or None,
        "dates_parsed": doc.dates_parsed or None,
        "pages": doc.pages,
        "has_text_layer": doc.has_text_layer,
        "text_chars": doc.text_chars or None,
        "notes": len(doc.notes) or None,
    }
    summary.update({key: value for key, value in optional.items() if value is not None})
    return summary
