"""Word (.docx) files: paragraphs and tables.

Some subjects publish a format as a Word table; the largest table is read like any other grid
(header found by content), and the text is kept for justification notes. The container is
checked for zip bombs before python-docx opens it.
"""

from __future__ import annotations

import io
from typing import Any

import docx

from scrapers.readers import notes
from scrapers.readers.archive import check_zip
from scrapers.readers.grid import read_main_table, static_sheet
from scrapers.readers.model import Document, Limits


def read_docx(doc: Document, content: bytes, limits: Limits) -> None:
    """Fill ``doc`` from a .docx (errors propagate to ``read_document``'s guard)."""
    check_zip(content, limits.max_unpacked_bytes).close()
    word = docx.Document(io.BytesIO(content))
    tables = [_table_cells(table, limits) for table in word.tables]
    paragraphs = "\n".join(p.text for p in word.paragraphs if p.text.strip())
    cells = "\n".join(" ".join(row) for table in tables for row in table)
    doc.set_text("\n".join(part for part in (paragraphs, cells) if part), limits.max_text_chars)
    # Notes from the running text only: a table's own NOTA column speaks for its rows.
    text_notes = notes.justification_sentences(paragraphs[: limits.max_text_chars])
    doc.notes = text_notes
    data_tables = [t for t in tables if len(t) >= 2 and max(len(row) for row in t) >= 2]
    if data_tables:
        largest = max(data_tables, key=lambda t: len(t) * max(len(row) for row in t))
        read_main_table(doc, static_sheet("table", largest), limits)
        doc.sheet = None
        doc.notes = notes.merge_notes(doc.notes, text_notes)
    if doc.kind == "empty" and doc.text_chars:
        doc.kind = "text"


def _table_cells(table: Any, limits: Limits) -> list[list[str]]:
    """Cell texts row by row; merged cells repeat their text, as python-docx reports them."""
    rows: list[list[str]] = []
    for row in table.rows:
        if len(rows) > limits.max_rows:
            break
        rows.append([cell.text.strip() for cell in row.cells])
    return rows
