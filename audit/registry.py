"""Registry loader (DESIGN section 4): the list of obligated subjects to audit.

A bad row never stops the audit: it is reported with its line number, column and value,
and skipped; every good row is kept. Only problems with the file as a whole (missing
columns, unreadable file) raise ``RegistryError``.
"""

from __future__ import annotations

import csv
import difflib
import io
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from audit.catalog import normalize_text
from audit.subjects import LEVELS, STATES, SUBJECT_TYPES, Subject

REQUIRED_COLUMNS = ("subject_id", "name", "acronym", "level", "state", "subject_type",
                    "portal_url")
OPTIONAL_COLUMNS = ("transparency_url",)
MAX_FIELD_CHARS = 2_000
MAX_ROWS = 200_000


class RegistryError(ValueError):
    """The registry file as a whole cannot be used."""


@dataclass(frozen=True)
class RegistryIssue:
    line: int
    column: str
    value: str
    message: str

    def __str__(self) -> str:
        return f"line {self.line}, {self.column}={self.value!r}: {self.message}"


@dataclass
class RegistryResult:
    path: str
    subjects: list[Subject] = field(default_factory=list)
    issues: list[RegistryIssue] = field(default_factory=list)
    rows: int = 0  # data rows read (blank lines aside)
    rejected_lines: set[int] = field(default_factory=set)

    @property
    def rejected_rows(self) -> int:
        """Rows skipped because of at least one issue (a row with two problems counts once)."""
        return len(self.rejected_lines)


_STATE_BY_FOLDED = {normalize_text(name): name for name in STATES.values()}
_STATE_BY_FOLDED.update({normalize_text(code): name for code, name in STATES.items()})


def normalise_state(value: str) -> str | None:
    """'JAL', 'jalisco', 'Jalisco' -> 'Jalisco'; None when unknown."""
    return _STATE_BY_FOLDED.get(normalize_text(value))


def url_problem(url: str) -> str | None:
    """Why ``url`` cannot be a portal address, or None when it can."""
    if any(ch.isspace() for ch in url):
        return "URL contains white space"
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        return f"URL cannot be parsed ({exc})"
    if parts.scheme not in ("http", "https"):
        return "URL must start with http:// or https://"
    if not parts.hostname:
        return "URL has no host"
    if parts.username is not None or parts.password is not None:
        return "URL must not carry credentials"
    if port == 0:
        return "URL port 0 is not valid"
    return None


def _suggest(value: str, choices: tuple[str, ...]) -> str:
    close = difflib.get_close_matches(value.strip().lower(), choices, n=1)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    return f"must be one of {', '.join(choices)}{hint}"


def _row_issues(line: int, row: dict[str, str]) -> tuple[dict[str, str], list[RegistryIssue]]:
    issues: list[RegistryIssue] = []
    clean = {key: (row.get(key) or "").strip() for key in REQUIRED_COLUMNS + OPTIONAL_COLUMNS}

    def bad(column: str, message: str) -> None:
        issues.append(RegistryIssue(line, column, clean.get(column, ""), message))

    for column, value in list(clean.items()):
        if len(value) > MAX_FIELD_CHARS:
            clean[column] = value[:60] + "…"  # never copy a huge value into logs and tables
            bad(column, f"longer than {MAX_FIELD_CHARS} characters")
        elif "\ufffd" in value:
            bad(column, "not valid UTF-8 (the file must be UTF-8)")
    if issues:
        return clean, issues
    if not clean["subject_id"]:
        bad("subject_id", "is empty")
    if not clean["name"]:
        bad("name", "is empty")
    clean["level"] = clean["level"].lower()
    if clean["level"] not in LEVELS:
        bad("level", _suggest(clean["level"], LEVELS))
    clean["subject_type"] = clean["subject_type"].lower()
    if clean["subject_type"] not in SUBJECT_TYPES:
        bad("subject_type", _suggest(clean["subject_type"], SUBJECT_TYPES))
    if clean["state"]:
        state = normalise_state(clean["state"])
        if state is None:
            bad("state", "is not an entidad federativa (name or PNT code such as JAL)")
        else:
            clean["state"] = state
    elif clean["level"] in ("estatal", "municipal"):
        bad("state", f"is required for level {clean['level']!r}")
    for column in ("portal_url", "transparency_url"):
        if column == "transparency_url" and not clean[column]:
            continue
        problem = url_problem(clean[column])
        if problem:
            bad(column, problem)
    return clean, issues


def _decode(raw: bytes) -> str:
    # Undecodable bytes become U+FFFD so the affected rows (and only those) are reported.
    return raw.decode("utf-8-sig", errors="replace")


def _records(text: str):
    """(first physical line, fields) for every non-blank CSV record, header included."""
    reader = csv.reader(io.StringIO(text, newline=""))
    line = 1
    while True:
        try:
            fields = next(reader)
        except StopIteration:
            return
        yield line, fields
        line = reader.line_num + 1


def parse_registry(text: str, path: str = "<registry>") -> RegistryResult:
    """Parse registry CSV text; see the module docstring for the error policy."""
    # A field may legitimately be long (a name); a huge one is reported on its row, not
    # allowed to abort the whole file.
    csv.field_size_limit(MAX_FIELD_CHARS * 1000)
    records = _records(text)
    result = RegistryResult(path=path)
    try:
        header_line, header = next((r for r in records if r[1]), (1, []))
    except csv.Error as exc:
        raise RegistryError(f"{path}: line 1: malformed CSV header: {exc}") from exc
    header = [name.strip().lstrip("\ufeff").lower() for name in header]
    missing = [column for column in REQUIRED_COLUMNS if column not in header]
    if missing:
        raise RegistryError(
            f"{path}: line {header_line}: missing required column(s): {', '.join(missing)} "
            f"(expected {', '.join(REQUIRED_COLUMNS + OPTIONAL_COLUMNS)})"
        )
    first_line_of: dict[str, int] = {}
    line = header_line + 1
    try:
        for line, fields in records:
            if not any(value.strip() for value in fields):
                continue
            result.rows += 1
            if result.rows > MAX_ROWS:
                result.issues.append(RegistryIssue(line, "*", "", f"registry longer than "
                                                   f"{MAX_ROWS} rows: the rest is ignored"))
                break
            if len(fields) > len(header):
                result.issues.append(RegistryIssue(line, "*", "", "more fields than the "
                                                   "header has columns"))
                result.rejected_lines.add(line)
                continue
            row = dict(zip(header, fields, strict=False))
            clean, issues = _row_issues(line, row)
            subject_id = clean["subject_id"]
            if not issues and subject_id in first_line_of:
                issues.append(RegistryIssue(line, "subject_id", subject_id,
                                            f"duplicate id (first seen on line "
                                            f"{first_line_of[subject_id]})"))
            if issues:
                result.issues.extend(issues)
                result.rejected_lines.add(line)
                continue
            first_line_of[subject_id] = line
            result.subjects.append(Subject(
                subject_id=subject_id, name=clean["name"], acronym=clean["acronym"],
                level=clean["level"], state=clean["state"], subject_type=clean["subject_type"],
                portal_url=clean["portal_url"], transparency_url=clean["transparency_url"] or None,
            ))
    except csv.Error as exc:
        result.issues.append(RegistryIssue(line + 1, "*", "", f"malformed CSV: {exc}; "
                                           "the rest of the file is ignored"))
    return result


def load_registry(path: str | Path) -> RegistryResult:
    """Read and parse a registry file; raises RegistryError if it cannot be read at all."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise RegistryError(f"{path}: cannot read registry: {exc.strerror or exc}") from exc
    return parse_registry(_decode(raw), str(path))
