"""What a reader returns: one ``Document`` per published file, whatever its format.

The audit judges published files by what is inside them (columns, rows, period covered,
notes), so every reader — spreadsheet, CSV, HTML, PDF, Word — fills the same record. Bad input
never raises: a file Lupa cannot read is a ``Document`` of kind ``unreadable`` whose warnings
say what failed, because an unreadable file is itself a finding about the portal.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import date
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pandas costs ~1 s to import; only frame() needs it
    import pandas as pd

KINDS = ("sipot_export", "sipot_template", "table", "text", "empty", "unreadable")

# Warning codes (the text before the colon of each warning).
W_UNREADABLE = "unreadable"  # the file is malformed or truncated
W_UNSUPPORTED = "unsupported"  # no reader for this format (images, archives, .doc, …)
W_ZIP_BOMB = "zip_bomb"  # an archive unpacks to more than the cap: refused, not opened
W_TRUNCATED = "truncated"  # reading stopped at max_rows / max_cells / a text cap
W_MOJIBAKE = "mojibake"  # text that looks like UTF-8 decoded with a single-byte code page
W_FORMAT_MISMATCH = "format_mismatch"  # declared type or file name disagrees with the bytes
W_NO_HEADER = "no_header"  # no row looked like a header
W_BLANK_ROWS = "blank_rows"  # fully blank rows inside a table were skipped
W_UNLABELLED_CELLS = "unlabelled_cells"  # values right of the last header label (left out)
W_MALFORMED = "malformed"  # part of the file could not be parsed; what came before is kept
W_NO_TEXT_LAYER = "no_text_layer"  # a PDF whose pages carry (almost) no extractable text
W_PARTIAL_TEXT_LAYER = "partial_text_layer"  # some pages have text, most do not
W_ENCRYPTED = "encrypted"  # a PDF that needs a password
W_TOO_LARGE = "too_large"  # the download was cut at the size cap: the file was not read

# Date formats reported in ``Document.dates_parsed``.
EXCEL_SERIAL = "excel_serial"  # a spreadsheet date cell (stored as an Excel serial number)
NUMBER_AS_SERIAL = "number_as_excel_serial"  # a bare number in a date column, read as a serial


class ReaderError(Exception):
    """A programming error in how a reader was called (bad limits, unknown option).

    Never raised for bad input files: those become ``kind='unreadable'`` documents.
    """


@dataclass(frozen=True)
class Limits:
    """Bounds on what one read may load, so a hostile or huge file cannot exhaust a worker.

    ``max_rows`` and ``max_cells`` bound the main table kept in memory; ``max_unpacked_bytes``
    bounds what a zip container (xlsx, docx) may expand to; ``max_text_chars`` bounds text kept
    from PDFs, Word files and pages; ``max_pages`` bounds the PDF pages whose text is extracted.
    """

    max_rows: int = 200_000
    max_cells: int = 5_000_000
    max_unpacked_bytes: int = 256 * 1024 * 1024
    max_text_chars: int = 2_000_000
    max_pages: int = 500

    def __post_init__(self) -> None:
        for item in fields(self):
            value = getattr(self, item.name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ReaderError(f"{item.name} must be a positive integer, got {value!r}")


@dataclass
class Period:
    """The time a dataset covers, as its own columns say.

    ``source`` tells where the dates came from: ``dates`` (the Fecha de inicio / Fecha de
    término columns), ``period_labels`` (Ejercicio plus a 'Periodo que se informa' text such as
    'enero-marzo', the 2016 formats), ``metadata`` (the export's 'Periodo:' label plus a single
    Ejercicio) or None when nothing was found.
    """

    start: date | None = None
    end: date | None = None
    years: list[int] = field(default_factory=list)
    label: str | None = None
    source: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly form: dates as ISO strings."""
        return {
            "start": self.start.isoformat() if self.start else None,
            "end": self.end.isoformat() if self.end else None,
            "years": list(self.years),
            "label": self.label,
            "source": self.source,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Period:
        return cls(start=date.fromisoformat(data["start"]) if data.get("start") else None,
                   end=date.fromisoformat(data["end"]) if data.get("end") else None,
                   years=list(data.get("years") or []), label=data.get("label"),
                   source=data.get("source"))


@dataclass
class Subtable:
    """A ``Tabla_nnnnnn`` sheet: rows of a multi-valued field, joined to the main sheet by ID."""

    title: str | None
    columns: list[str]
    rows: int
    header_row: int | None = None
    truncated: bool = False

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly form."""
        return {
            "title": self.title,
            "columns": list(self.columns),
            "rows": self.rows,
            "header_row": self.header_row,
            "truncated": self.truncated,
        }


# Fields kept out of ``to_dict``: the table body and the full text can be large.
_NOT_SERIALISED = ("table", "text")


@dataclass
class Document:
    """What Lupa sees inside one published file.

    ``media_type`` is sniffed from the bytes (never from the file name); ``header_row`` is the
    1-based row number in the sheet (for HTML and Word, the row number inside the table that
    was read); ``rows`` counts non-blank data rows, at most the row cap (``truncated`` says
    whether the file had more). ``table`` holds the data rows read (cells as strings, None
    for empty cells) and ``text`` the extracted text; both are left out of ``to_dict``.
    """

    media_type: str
    kind: str = "empty"
    declared_type: str | None = None
    filename: str | None = None
    encoding: str | None = None
    delimiter: str | None = None
    sheet: str | None = None
    sheets: list[str] = field(default_factory=list)
    metadata: dict[str, Any] = field(default_factory=dict)
    header_row: int | None = None
    columns: list[str] = field(default_factory=list)
    normalized_columns: list[str] = field(default_factory=list)
    rows: int = 0
    truncated: bool = False
    sample: list[list[str]] = field(default_factory=list, repr=False)
    catalogs: dict[str, list[str]] = field(default_factory=dict)
    subtables: dict[str, Subtable] = field(default_factory=dict)
    period: Period = field(default_factory=Period)
    dates_parsed: dict[str, str] = field(default_factory=dict)
    has_text_layer: bool | None = None
    pages: int | None = None
    pages_with_text: int | None = None
    text_chars: int = 0
    notes: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    table: list[tuple[str | None, ...]] = field(default_factory=list, repr=False)
    text: str = field(default="", repr=False)

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ReaderError(f"unknown document kind {self.kind!r}")

    def warn(self, code: str, message: str) -> None:
        """Record a warning as 'code: message' (codes are the W_* constants)."""
        entry = f"{code}: {message}"
        if entry not in self.warnings:
            self.warnings.append(entry)

    def set_text(self, text: str, max_chars: int, label: str = "text") -> None:
        """Keep the extracted text, cut at ``max_chars`` (a ``truncated`` warning says so)."""
        if len(text) > max_chars:
            self.warn(W_TRUNCATED, f"{label} cut at {max_chars} characters")
            text = text[:max_chars]
        self.text = text
        self.text_chars = len(text)

    def warning_codes(self) -> list[str]:
        """The distinct warning codes, in the order first raised."""
        codes: list[str] = []
        for entry in self.warnings:
            code = entry.split(":", 1)[0]
            if code not in codes:
                codes.append(code)
        return codes

    def frame(self) -> pd.DataFrame:
        """The main table as a DataFrame whose every column has pandas' ``str`` dtype.

        That is pandas 3's default string dtype, ``StringDtype(na_value=nan)``: values are
        Python strings, empty cells are NaN (``isna()`` is True), nothing is coerced to numbers
        or dates, so expectations see exactly what was published. Date cells of spreadsheets
        appear as ISO 'YYYY-MM-DD'. Column names are the published labels, made unique ('' ->
        'column_<n>', repeats get a '__<k>' suffix). At most ``rows`` rows (bounded by
        ``max_rows``/``max_cells`` when the document was read).
        """
        import pandas as pd

        names = unique_names(self.columns)
        return pd.DataFrame(self.table, columns=names, dtype="str")

    def to_dict(self) -> dict[str, Any]:
        """Everything but the table body and the full text, JSON-serialisable."""
        out: dict[str, Any] = {}
        for item in fields(self):
            if item.name in _NOT_SERIALISED:
                continue
            value = getattr(self, item.name)
            if isinstance(value, Period):
                value = value.to_dict()
            elif item.name == "subtables":
                value = {name: sub.to_dict() for name, sub in value.items()}
            elif isinstance(value, list | dict):
                value = _plain(value)
            out[item.name] = value
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Document:
        """Inverse of ``to_dict``: the document without its table body and text, enough for
        rules that judge a file after its bytes are gone (the audit task)."""
        known = {item.name for item in fields(cls)} - set(_NOT_SERIALISED)
        values = {key: value for key, value in data.items() if key in known}
        if isinstance(values.get("period"), dict):
            values["period"] = Period.from_dict(values["period"])
        if isinstance(values.get("subtables"), dict):
            values["subtables"] = {name: Subtable(**sub)
                                   for name, sub in values["subtables"].items()}
        return cls(**values)


def _plain(value: Any) -> Any:
    """Copy nested lists/dicts so callers cannot mutate the document through ``to_dict``."""
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    return value


def unique_names(labels: list[str]) -> list[str]:
    """DataFrame column names from published labels: blanks named by position, repeats suffixed."""
    used: set[str] = set()
    names: list[str] = []
    for position, label in enumerate(labels, start=1):
        base = label if label else f"column_{position}"
        name, count = base, 1
        while name in used:
            count += 1
            name = f"{base}__{count}"
        used.add(name)
        names.append(name)
    return names
