"""HTML pages: the largest data table on the page, and the page's text.

Portals publish tables as web pages, and often serve an HTML table under an .xls name. The table
read is the largest one that holds no other table (layout tables wrap the data); its header is
the first row of <th> cells when there is one, else found by content like any other grid.
"""

from __future__ import annotations

from bs4 import BeautifulSoup, Tag

from scrapers.readers import notes
from scrapers.readers.csv_reader import decode
from scrapers.readers.grid import read_main_table, static_sheet
from scrapers.readers.model import Document, Limits

MAX_SPAN = 100  # colspan values beyond this are treated as 1 (a broken or hostile page)
_TH_HEADER_ROWS = 5  # a row of <th> this near the top is the header
_BLOCKS = (
    "p", "div", "br", "li", "tr", "td", "th", "table", "h1", "h2", "h3", "h4", "h5", "h6",
    "section", "article", "header", "footer", "ul", "ol", "dd", "dt", "blockquote", "pre",
)  # fmt: skip


def read_html(doc: Document, content: bytes, limits: Limits) -> None:
    """Fill ``doc`` from a page: its largest data table (kind table/sipot_export) or its text."""
    text, encoding = decode(content, doc.media_type)
    doc.encoding = encoding
    soup = BeautifulSoup(text, "lxml")
    for hidden in soup(["script", "style", "noscript", "template"]):
        hidden.decompose()
    table = largest_table(soup)
    rows = table_rows(table) if table is not None else []
    _set_text(doc, page_text(soup), limits)
    if table is None:
        doc.kind = "text" if doc.text_chars else "empty"
        return
    hint = next((i + 1 for i, (_, is_th) in enumerate(rows[:_TH_HEADER_ROWS]) if is_th), None)
    cells = [cells for cells, _ in rows]
    page_notes = doc.notes
    read_main_table(doc, static_sheet("table", cells), limits, header_hint=hint)
    doc.notes = notes.merge_notes(doc.notes, page_notes)
    doc.sheet = None
    if doc.kind == "empty" and doc.text_chars:
        doc.kind = "text"


def _set_text(doc: Document, text: str, limits: Limits) -> None:
    doc.set_text(text, limits.max_text_chars, "page text")
    doc.notes = notes.justification_sentences(doc.text)


def page_text(soup: BeautifulSoup) -> str:
    """Visible text, one line per block element, so sentences of a heading and the paragraph
    under it stay apart (justification notes are found sentence by sentence)."""
    for block in soup.find_all(list(_BLOCKS)):
        block.insert_after("\n")
    lines = (" ".join(line.split()) for line in soup.get_text(" ").splitlines())
    return "\n".join(line for line in lines if line)


def largest_table(soup: BeautifulSoup) -> Tag | None:
    """The leaf table (no nested table) with the most cells, if it has 2+ rows and 2+ columns."""
    best: tuple[int, Tag] | None = None
    for table in soup.find_all("table"):
        if table.find("table") is not None:
            continue
        rows = table.find_all("tr")
        width = max((len(row.find_all(["td", "th"])) for row in rows), default=0)
        if len(rows) < 2 or width < 2:
            continue
        size = len(rows) * width
        if best is None or size > best[0]:
            best = (size, table)
    return best[1] if best else None


def table_rows(table: Tag) -> list[tuple[list[str], bool]]:
    """Each row's cell texts (colspan expanded with empty cells) and whether all are <th>."""
    out: list[tuple[list[str], bool]] = []
    for row in table.find_all("tr"):
        cells = row.find_all(["td", "th"])
        texts: list[str] = []
        for cell in cells:
            texts.append(cell.get_text(" ", strip=True))
            texts.extend([""] * (_span(cell) - 1))
        is_header = bool(cells) and all(cell.name == "th" for cell in cells)
        out.append((texts, is_header))
    return out


def _span(cell: Tag) -> int:
    try:
        span = int(str(cell.get("colspan", "1")).strip())
    except ValueError:
        return 1
    return span if 1 <= span <= MAX_SPAN else 1
