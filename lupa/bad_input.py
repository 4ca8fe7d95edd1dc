"""Bad input Lupa must refuse clearly without losing the good: registry rows, a whole
registry too big, a broken catalog file.

``BAD_REGISTRY_ROWS`` are rows a registry may carry (wrong values, URLs with credentials or
other schemes, duplicate ids, broken encoding, a field the size of a book…), each with the
column its error must name. ``check_bad_input`` appends them to a good registry and checks
that every one is reported with its line and column while every good row is kept; that a
registry past ``MAX_ROWS`` keeps its first rows and says where it stopped; and that a
catalog file with a broken line is refused naming the file and the line. ``make
reliability`` runs it and then audits the registry with the bad rows through Airflow: the
good subjects must all be audited.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

# (what, row bytes after the subject id, column the error must name). Ids 9000xx.
BAD_REGISTRY_ROWS: tuple[tuple[str, bytes, str], ...] = (
    ("unknown subject type", b"Sujeto,,municipal,Jalisco,ayuntamiento,http://a.mx/,",
     "subject_type"),
    ("misspelt level", b"Sujeto,,munisipal,Jalisco,ejecutivo,http://a.mx/,", "level"),
    ("unknown state", b"Sujeto,,estatal,Atlantida,ejecutivo,http://a.mx/,", "state"),
    ("state level without a state", b"Sujeto,,estatal,,ejecutivo,http://a.mx/,", "state"),
    ("ftp portal", b"Sujeto,,federal,,ejecutivo,ftp://a.mx/,", "portal_url"),
    ("file portal", b"Sujeto,,federal,,ejecutivo,file:///etc/passwd,", "portal_url"),
    ("javascript section", b"Sujeto,,federal,,ejecutivo,http://a.mx/,javascript:alert(1)",
     "transparency_url"),
    ("credentials in the URL", b"Sujeto,,federal,,ejecutivo,http://admin:secreto@a.mx/,",
     "portal_url"),
    ("URL without a host", b"Sujeto,,federal,,ejecutivo,http:///transparencia,", "portal_url"),
    ("empty name", b",,federal,,ejecutivo,http://a.mx/,", "name"),
    ("extra fields", b"Sujeto,,federal,,ejecutivo,http://a.mx/,,sobra,otra", "row"),
    ("broken UTF-8", b"Sujeto \xff\xfe,,federal,,ejecutivo,http://a.mx/,", "row"),
    ("a field of 100,000 characters", b"Sujeto " + b"x" * 100_000
     + b",,federal,,ejecutivo,http://a.mx/,", "name"),
)
EMPTY_ID_ROW = b",Sujeto,,federal,,ejecutivo,http://a.mx/,"


def appended_rows(first_good: bytes) -> list[tuple[str, bytes, str]]:
    """(what, row, column its error must name) of every row ``with_bad_rows`` appends: the
    bad rows, an empty id and a duplicate of ``first_good``'s id."""
    rows = [(what, f"9000{i:02d},".encode() + row, column)
            for i, (what, row, column) in enumerate(BAD_REGISTRY_ROWS)]
    return rows + [("empty subject id", EMPTY_ID_ROW, "subject_id"),
                   ("duplicate subject id", first_good.replace(b"http", b"https", 1),
                    "subject_id")]


def bad_row_count() -> int:
    """How many rows ``with_bad_rows`` appends."""
    return len(appended_rows(b""))


@dataclass
class BadInputCheck:
    what: str
    passed: bool
    detail: str


def with_bad_rows(registry: Path, out: Path) -> tuple[Path, int, list[tuple[str, str]]]:
    """A copy of ``registry`` with every bad row appended; (path, good rows, (what, column)
    of each appended row, in order)."""
    lines = registry.read_bytes().rstrip(b"\n").split(b"\n")
    rows = appended_rows(lines[1])
    out.write_bytes(b"\n".join(lines + [row for _, row, _ in rows]) + b"\n")
    return out, len(lines) - 1, [(what, column) for what, _, column in rows]


def _registry_checks(registry: Path, workdir: Path) -> list[BadInputCheck]:
    from audit.registry import load_registry

    path, good, appended = with_bad_rows(registry, workdir / "registry-with-bad-rows.csv")
    result = load_registry(path)
    checks = []
    for offset, (what, column) in enumerate(appended):
        line = good + 2 + offset
        issues = [i for i in result.issues if i.line == line]
        named = [i for i in issues if column == "row" or i.column == column]
        checks.append(BadInputCheck(
            f"registry: {what}", bool(named) and line in result.rejected_lines,
            str(named[0]) if named else f"line {line} not reported as {column}"))
    kept = len(result.subjects) == good
    checks.append(BadInputCheck("registry: every good row kept", kept,
                                f"{len(result.subjects)}/{good} subjects"))
    return checks


def _oversized_check(workdir: Path) -> BadInputCheck:
    from audit import registry as registry_module

    limit = registry_module.MAX_ROWS
    path = workdir / "registry-oversized.csv"
    with path.open("w", encoding="utf-8") as handle:
        handle.write(",".join(registry_module.REQUIRED_COLUMNS) + ",transparency_url\n")
        for i in range(limit + 50):
            handle.write(f"{i + 1},Sujeto {i},,federal,,ejecutivo,http://s{i}.mx/,\n")
    result = registry_module.load_registry(path)
    stopped = [i for i in result.issues if str(limit) in i.message]
    ok = len(result.subjects) == limit and bool(stopped)
    detail = (f"{len(result.subjects):,} rows kept; {stopped[0]}" if stopped
              else f"{len(result.subjects):,} rows kept, no message about the limit")
    return BadInputCheck(f"registry of {limit + 50:,} rows (limit {limit:,})", ok, detail)


def _catalog_check(workdir: Path) -> BadInputCheck:
    from audit.catalog import CatalogError, load_catalog_dir
    from lupa.config import PROJECT_ROOT

    law_dir = workdir / "broken-catalog"
    shutil.rmtree(law_dir, ignore_errors=True)
    shutil.copytree(PROJECT_ROOT / "audit" / "catalogs" / "LGTAIP-2015", law_dir)
    path = law_dir / "obligations.tsv"
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    lines[10] = "XLVII-Z\tsin\tcolumnas\n"
    path.write_text("".join(lines), encoding="utf-8")
    try:
        load_catalog_dir(law_dir)
    except CatalogError as exc:
        text = str(exc)
        ok = "obligations.tsv" in text and "11" in text
        return BadInputCheck("catalog file with a malformed line", ok, text[:160])
    return BadInputCheck("catalog file with a malformed line", False, "accepted")


def check_bad_input(registry: Path, workdir: Path) -> tuple[list[BadInputCheck], Path]:
    """Every bad-input check, and the registry with the bad rows (to audit)."""
    workdir.mkdir(parents=True, exist_ok=True)
    checks = _registry_checks(registry, workdir)
    checks.append(_oversized_check(workdir))
    checks.append(_catalog_check(workdir))
    return checks, workdir / "registry-with-bad-rows.csv"
