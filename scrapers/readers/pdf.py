"""PDF files: page count, whether there is a text layer, the text itself.

A scanned PDF (pages that are pictures) is a finding of its own (SCANNED_DOCUMENT): nobody can
search or reuse it. A page counts as having text when pypdf extracts at least
``MIN_PAGE_CHARS`` visible characters from it; the document has a text layer when at least half
of the pages read do. Tables inside PDFs are not reconstructed.
"""

from __future__ import annotations

import io

from pypdf import PdfReader

from scrapers.readers import notes
from scrapers.readers.model import (
    W_ENCRYPTED,
    W_MALFORMED,
    W_NO_TEXT_LAYER,
    W_PARTIAL_TEXT_LAYER,
    W_TRUNCATED,
    Document,
    Limits,
)

MIN_PAGE_CHARS = 25  # page numbers, a stamp or a scanner's footer stay below this


def read_pdf(doc: Document, content: bytes, limits: Limits) -> None:
    """Fill ``doc`` from a PDF (errors propagate to ``read_document``'s guard)."""
    reader = PdfReader(io.BytesIO(content), strict=False)
    if reader.is_encrypted and not reader.decrypt(""):
        doc.kind = "unreadable"
        doc.warn(W_ENCRYPTED, "the PDF needs a password to be read")
        return
    doc.pages = len(reader.pages)
    texts, with_text, failed = _page_texts(reader, doc, limits)
    checked = len(texts)
    doc.pages_with_text = with_text
    doc.has_text_layer = with_text > 0 and with_text * 2 >= checked
    if failed:
        doc.warn(W_MALFORMED, f"text of {failed} of {checked} pages could not be extracted")
    if checked and with_text == 0:
        doc.warn(W_NO_TEXT_LAYER, f"none of {checked} pages has extractable text (scanned?)")
    elif checked and not doc.has_text_layer:
        doc.warn(W_PARTIAL_TEXT_LAYER, f"only {with_text} of {checked} pages have text")
    doc.set_text("\n".join(texts), limits.max_text_chars)
    doc.notes = notes.justification_sentences(doc.text)
    doc.kind = "text" if doc.pages else "empty"


def _page_texts(reader: PdfReader, doc: Document, limits: Limits) -> tuple[list[str], int, int]:
    """Text of each page read (up to ``max_pages``), pages with text, pages that failed."""
    texts: list[str] = []
    with_text = failed = 0
    total = 0
    for number, page in enumerate(reader.pages, start=1):
        if number > limits.max_pages:
            doc.warn(W_TRUNCATED, f"text read from the first {limits.max_pages} pages only")
            break
        try:
            text = page.extract_text() or ""
        except Exception:  # one broken page must not hide the others
            failed += 1
            text = ""
        texts.append(text)
        with_text += len("".join(text.split())) >= MIN_PAGE_CHARS
        total += len(text)
        if total > limits.max_text_chars:
            doc.warn(W_TRUNCATED, f"text read from the first {number} pages only")
            break
    return texts, with_text, failed
