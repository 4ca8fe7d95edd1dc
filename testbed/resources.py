"""Published files in real SIPOT layouts: PNT consulta xlsx exports, csv and pdf versions.

Columns come from the official formats (``data/sipot_formats.json``, built from the
reference tables: the 2025 Fr. VIII export, the 2023 Fr. XVII format, formats 43336/43335
for Fr. XXVIII a/b and the 78 upload templates of 2018); obligations without a known format
get a small generic one. Values are synthetic (made-up names, amounts, dates) and drawn from
a generator seeded by portal, entry and file, and every timestamp inside the files is fixed,
so the same seed always yields the same bytes.

Clean files pass every document rule of the audit as of ``testbed.model.AS_OF``: each row's
dates are consistent (period start <= other dates <= period end <= update date; departure
before return, start of a term before its end, because a row's free dates are drawn and then
sorted in column order), 'Fecha de validación' is the update date, catalog values come from
the format's catalogs, amounts are non-negative numbers and hyperlinks point to
``/documentos/hv/N.pdf`` on the same portal (served). A file's ``FilePlan.variant`` turns it
into a defective document (``render_file``): ``scanned`` (a PDF whose page is only a picture),
``format_mismatch`` (CSV bytes behind an .xlsx name and type), ``empty`` (headers, no
record), ``justified`` (one record whose Nota says no information was generated),
``missing_columns`` (``FilePlan.detail`` names the official columns left out),
``bad_data`` (every period start after its end), ``dead_links`` (hyperlinks to
``/documentos/hv-anterior/N.pdf``, which answers 404) and ``mojibake`` (a CSV whose values
were stored double-encoded: 'InformaciÃ³n').

A later generation may re-publish a clean spreadsheet/CSV (``FilePlan.revision``, see
``testbed.history``): an ``updated`` file carries a corrected value or one more record and
``REPUBLISHED_ON`` as its update, validation and modification date; a ``silent_edit`` file
the same kind of change with every date as first published. ``published_at`` is the
version's HTTP Last-Modified.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import random
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from audit.formats import detect_role
from audit.obligations import Obligation
from audit.subjects import STATES
from testbed.html import JUSTIFICATION, garble
from testbed.model import PUBLISHED_ON, REPUBLISHED_ON, FilePlan, Period, PortalSpec

FORMATS_FILE = Path(__file__).with_name("data") / "sipot_formats.json"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FIXED_TIME = dt.datetime(*PUBLISHED_ON, 9, 30, 0)
REPUBLISHED_TIME = dt.datetime(*REPUBLISHED_ON, 9, 30, 0)
# FilePlan.revision values (testbed.history)
UPDATED, SILENT_EDIT = "updated", "silent_edit"
STATE_CODES = {name: code for code, name in STATES.items()}

# Synthetic values (no real person's data).
FIRST_NAMES = ("Ana", "Luis", "María", "José", "Carmen", "Jorge", "Laura", "Miguel", "Rosa",
               "Pedro", "Elena", "Raúl", "Sofía", "Héctor", "Patricia", "Andrés")
SURNAMES = ("García", "Hernández", "López", "Martínez", "Pérez", "Sánchez", "Ramírez",
            "Torres", "Flores", "Rivera", "Gómez", "Díaz", "Cruz", "Morales", "Ortiz", "Núñez")
AREAS = ("Dirección de Administración", "Unidad de Transparencia", "Tesorería",
         "Dirección Jurídica", "Recursos Humanos", "Órgano Interno de Control",
         "Dirección de Planeación", "Secretaría Técnica")
POSTS = ("Director de Área", "Jefe de Departamento", "Analista", "Coordinador", "Auxiliar "
         "Administrativo", "Subdirector", "Enlace", "Asistente Administrativo")
PHRASES = ("Conforme a lo establecido en la normativa aplicable",
           "Programa de trabajo institucional", "Servicios de mantenimiento",
           "Adquisición de material de oficina", "Sesión ordinaria", "Informe trimestral",
           "Acuerdo administrativo", "Convenio de colaboración")
NOTES = ("", "", "", "Sin nota.", "La información se reporta conforme a los registros "
         "disponibles en el periodo.", "Los campos vacíos no aplican para este registro.")
# The Nota of a SIPOT file that publishes nothing (``justified`` variant).
JUSTIFIED_NOTE = (f"{JUSTIFICATION}, de conformidad con los Lineamientos Técnicos Generales y "
                  "el artículo 19 de la Ley General de Transparencia y Acceso a la Información "
                  "Pública: en el periodo no se generaron registros de este rubro.")
# Roles a justified file still fills (as the PNT does), besides the platform's ID and dates.
JUSTIFIED_ROLES = ("ejercicio", "periodo_inicio", "periodo_fin", "area_responsable",
                   "fecha_validacion", "fecha_actualizacion", "nota")
# Where the hyperlinks of a ``dead_links`` file point: a path no portal serves.
DEAD_LINK_PATH = "/documentos/hv-anterior/"

GENERIC_FORMAT = {
    "title": "", "format_id": "", "catalogs": [], "tables": {}, "source": "generic",
    "columns": [
        {"label": "Ejercicio", "type": "text"},
        {"label": "Fecha de inicio del periodo que se informa", "type": "date"},
        {"label": "Fecha de término del periodo que se informa", "type": "date"},
        {"label": "Denominación del documento", "type": "text"},
        {"label": "Descripción", "type": "text"},
        {"label": "Hipervínculo al documento", "type": "url"},
        {"label": "Área(s) responsable(s) que genera(n), posee(n), publica(n) y actualizan la "
                  "información", "type": "text"},
        {"label": "Fecha de actualización", "type": "updated"},
        {"label": "Nota", "type": "note"},
    ],
}


@lru_cache(maxsize=1)
def formats() -> dict[str, dict]:
    return json.loads(FORMATS_FILE.read_text(encoding="utf-8"))


def format_for(ob: Obligation) -> dict:
    """The official format an obligation's files follow (or the generic one)."""
    known = formats()
    oid = ob.obligation_id
    for key in (oid, oid.rsplit("-", 1)[0] if ob.subformat else f"{oid}-A"):
        if key in known:
            return known[key]
    return {**GENERIC_FORMAT, "title": ob.title}


def export_label(label: str) -> str:
    """Header text as the PNT writes it: upper case, commas replaced by two spaces."""
    return label.upper().replace(",", "  ")


def _date(triple: tuple[int, int, int]) -> dt.datetime:
    return dt.datetime(*triple)


@dataclass
class Table:
    """The rows of one file: main sheet and sub-tables, values already typed."""

    fmt: dict
    headers: list[str]
    rows: list[list[object]]
    subtables: dict[str, tuple[str, list[str], list[list[object]]]]


def period_span(plan: FilePlan) -> tuple[dt.datetime, dt.datetime]:
    start, end = plan.period.bounds()
    if plan.whole_year:
        start = (plan.period.year, 1, 1)
    return _date(start), _date(end)


def _text_value(label: str, rng: random.Random) -> str:
    low = label.lower()
    if low.startswith("nombre") and "razón" not in low:
        return rng.choice(FIRST_NAMES)
    if "apellido" in low:
        return rng.choice(SURNAMES)
    if "razón social" in low or "denominación o razón" in low:
        return f"Servicios {rng.choice(SURNAMES)} S.A. de C.V."
    if low.startswith("rfc"):
        letters = "".join(rng.choice("ABCDEFGHJKLMNPRSTUVWXYZ") for _ in range(4))
        return f"{letters}{rng.randint(600101, 991231)}{rng.choice('ABC')}{rng.randint(10, 99)}"
    if "área" in low or "unidad" in low:
        return rng.choice(AREAS)
    if "puesto" in low or "cargo" in low:
        return rng.choice(POSTS)
    if "clave" in low or "número" in low or "nivel" in low:
        return str(rng.randint(1, 9999))
    return rng.choice(PHRASES)


def updated_on(plan: FilePlan) -> dt.datetime:
    """'Fecha de actualización' (and 'Fecha de validación'): 15 days after the period, never
    after the fixed publication day; the re-publication day for an ``updated`` file."""
    if plan.revision == UPDATED:
        return REPUBLISHED_TIME.replace(hour=0, minute=0)
    return min(period_span(plan)[1] + dt.timedelta(days=15), FIXED_TIME.replace(hour=0, minute=0))


def modified_on(plan: FilePlan) -> dt.datetime:
    """The export's 'FECHA MODIFICACION' (the platform's record timestamp)."""
    if plan.revision == UPDATED:
        return REPUBLISHED_TIME.replace(hour=0, minute=0)
    return FIXED_TIME.replace(hour=0, minute=0)


def published_at(plan: FilePlan) -> dt.datetime:
    """When this version of the file was uploaded (its HTTP Last-Modified, UTC): on its
    update day as first published; on the re-publication day once revised, silently or
    not."""
    if plan.revision:
        return REPUBLISHED_TIME.replace(tzinfo=dt.UTC)
    return updated_on(plan).replace(hour=9, minute=30, tzinfo=dt.UTC)


def _value(col: dict, fmt: dict, plan: FilePlan, portal: PortalSpec, rng: random.Random,
           record_id: int) -> object:
    label, kind = col["label"], col["type"]
    start, end = period_span(plan)
    low = label.lower()
    if low.startswith("ejercicio"):
        return str(plan.period.year)
    if low.startswith("fecha de inicio del periodo"):
        return start
    if low.startswith("fecha de término del periodo"):
        return end
    if kind == "updated" or low.startswith(("fecha de actualización", "fecha de validación")):
        # some formats type 'Fecha de actualización' as text: it is a date all the same
        return updated_on(plan)
    if kind == "date":
        return start + dt.timedelta(days=rng.randint(0, max(0, (end - start).days)))
    if kind == "catalog":
        values = fmt["catalogs"][col["catalog"]] if col.get("catalog") is not None and \
            col["catalog"] < len(fmt["catalogs"]) else ["Sí", "No"]
        return rng.choice(values)
    if kind == "table":
        return str(record_id)
    if kind == "money":
        return f"{rng.uniform(1500, 95000):.2f}"
    if kind == "number":
        return rng.randint(0, 40)
    if kind == "url":
        folder = DEAD_LINK_PATH if plan.variant == "dead_links" else "/documentos/hv/"
        return f"{portal.base_url}{folder}{rng.randint(10000, 99999)}.pdf"
    if kind == "note":
        return rng.choice(NOTES)
    return _text_value(label, rng)


def _free_date(col: dict) -> bool:
    """A date column drawn inside the period (not the period bounds nor the update dates)."""
    low = col["label"].lower()
    return col["type"] == "date" and not low.startswith((
        "fecha de inicio del periodo", "fecha de término del periodo", "fecha de actualización",
        "fecha de validación"))


def columns_of(plan: FilePlan) -> list[dict]:
    """The format's columns this file publishes (a ``missing_columns`` file leaves some out)."""
    columns = format_for(plan.obligation)["columns"]
    if plan.variant == "missing_columns" and plan.detail:
        columns = [c for c in columns if c["label"] not in plan.detail]
    return columns


def build_table(portal: PortalSpec, plan: FilePlan, rows: int | None = None) -> Table:
    """Synthetic records for one file of ``plan``'s obligation and period (shaped by the
    file's ``variant``: no record, one justified record, period starts after their end…)."""
    fmt = format_for(plan.obligation)
    columns = columns_of(plan)
    rng = portal.rng("data", plan.obligation.obligation_id, plan.period.year, plan.period.code,
                     plan.index)
    count = rows if rows is not None else rng.randint(3, 12)
    if plan.variant == "empty":
        count = 0
    elif plan.variant == "justified":
        count = 1
    edit = revision_edit(portal, plan, columns)
    if edit == "record_added":  # drawn last: the first records stay as they were
        count += 1
    first_id = rng.randint(10_000_000, 39_000_000)
    subtables = {tid: (t["title"], t["columns"], []) for tid, t in fmt["tables"].items()}
    free = [i for i, c in enumerate(columns) if _free_date(c)]
    start, end = period_span(plan)
    created, modified = FIXED_TIME.replace(hour=0, minute=0), modified_on(plan)
    data = []
    for n in range(count):
        record_id = first_id + n
        row: list[object] = [record_id, created, modified]
        values: list[object] = []
        for col in columns:
            values.append(_value(col, fmt, plan, portal, rng, record_id))
            if plan.variant == "justified":
                continue
            if col["type"] == "table" and col.get("table") in subtables:
                title, cols, sub_rows = subtables[col["table"]]
                sub = [record_id, created, modified]
                sub += [_value({"label": c, "type": _sub_type(c)}, fmt, plan, portal, rng,
                               record_id) for c in cols]
                sub_rows.append(sub)
        # free dates in column order: departure <= return, start of a term <= its end…
        for i, value in zip(free, sorted(values[i] for i in free), strict=True):
            values[i] = value
        if plan.variant == "justified":
            values = [_justified_value(col, value) for col, value in zip(
                columns, values, strict=True)]
        elif plan.variant == "bad_data":
            late = end + dt.timedelta(days=rng.randint(1, 60))
            values = [late if col["label"].lower().startswith("fecha de inicio del periodo")
                      else value for col, value in zip(columns, values, strict=True)]
        data.append(row + values)
    if edit == "value_corrected":
        _correct_value(portal, plan, columns, data)
    headers = ["ID", "FECHA CREACION", "FECHA MODIFICACION"] + [
        export_label(c["label"]) + (f" (Tabla_{c['table']})" if c["type"] == "table" else "")
        for c in columns]
    return Table({**fmt, "columns": columns}, headers, data, subtables)


def editable_columns(columns: list[dict]) -> list[int]:
    """Columns a correction may change: amounts and plain text with no common role (never a
    catalog, date, hyperlink or sub-table column, nor Ejercicio)."""
    return [i for i, c in enumerate(columns) if c["type"] in ("money", "text")
            and detect_role(c["label"]) is None
            and not c["label"].lower().startswith("ejercicio")]


def revision_edit(portal: PortalSpec, plan: FilePlan, columns: list[dict]) -> str:
    """How a revised file's content changed: 'record_added' (one more record, drawn after
    the others) or 'value_corrected' (one amount or text value of one record, when the
    format has such a column); '' for a file as first published."""
    if not plan.revision:
        return ""
    rng = portal.rng("revision", plan.obligation.obligation_id, plan.period.year,
                     plan.period.code, plan.index, plan.revision)
    edit = rng.choice(["record_added", "value_corrected"])
    return edit if editable_columns(columns) else "record_added"


def _correct_value(portal: PortalSpec, plan: FilePlan, columns: list[dict],
                   data: list[list[object]]) -> None:
    """Change one value of ``editable_columns`` of one record into another value of the
    same kind."""
    rng = portal.rng("correction", plan.obligation.obligation_id, plan.period.year,
                     plan.period.code, plan.index)
    cells = [(r, i) for r in range(len(data)) for i in editable_columns(columns)
             if data[r][i + 3] is not None]
    if not cells:
        return
    r, i = rng.choice(cells)
    old = data[r][i + 3]
    for _ in range(20):
        new = (f"{rng.uniform(1500, 95000):.2f}" if columns[i]["type"] == "money"
               else _text_value(columns[i]["label"], rng))
        if new != old:
            break
    else:
        new = f"{old} (corregido)"
    data[r][i + 3] = new


def _justified_value(col: dict, value: object) -> object:
    """What a 'nothing to report' record keeps of a column: the common ones, the note."""
    role = detect_role(col["label"])
    if role == "nota":
        return JUSTIFIED_NOTE
    return value if role in JUSTIFIED_ROLES else None


def _sub_type(label: str) -> str:
    low = label.lower()
    if low.startswith("monto") or low.startswith("importe"):
        return "money"
    if low.startswith("fecha"):
        return "date"
    if low.startswith("hipervínculo"):
        return "url"
    return "text"


def subject_line(portal: PortalSpec) -> str:
    """'YUC - Universidad …' for state subjects, the bare name for federal ones (as PNT)."""
    code = STATE_CODES.get(portal.subject.state)
    return f"{code} - {portal.subject.name}" if code else portal.subject.name


def normativa(portal: PortalSpec) -> str:
    if portal.subject.level == "federal" or not portal.subject.state:
        return "LGTAIP_LTG_2018"
    return f"LTAIP de {portal.subject.state}  2018-2025"


def period_line(plan: FilePlan) -> str:
    if not plan.whole_year:
        return plan.period.label
    last = plan.period
    return ", ".join(Period(last.year, last.kind, n).label for n in range(1, last.number + 1))


# ---- writers ----------------------------------------------------------------------------
def render_xlsx(portal: PortalSpec, plan: FilePlan) -> bytes:
    """A PNT 'consulta pública' export (layout in reference/sipot_export_layout.md)."""
    import xlsxwriter

    table = build_table(portal, plan)
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True, "strings_to_numbers": False,
                                        "strings_to_urls": False})
    book.set_properties({"created": FIXED_TIME, "author": "oracle"})
    bold = book.add_format({"bold": True})
    date = book.add_format({"num_format": "dd/mm/yyyy"})
    sheet = book.add_worksheet("Información")
    meta = [("Nombre del Sujeto Obligado:", subject_line(portal)), ("Normativa:",
            normativa(portal)), ("Formato:", table.fmt["title"] or plan.obligation.title),
            ("Periodo:", period_line(plan))]
    for r, (key, value) in enumerate(meta):
        sheet.write_string(r, 0, key)
        sheet.write_string(r, 1, value)
    for c, header in enumerate(table.headers):
        sheet.write_string(5, c, header, bold)
    _write_rows(sheet, table.rows, 6, date)
    for n, values in enumerate(table.fmt["catalogs"], start=1):
        hidden = book.add_worksheet(f"Hidden_{n}")
        for r, value in enumerate(values):
            hidden.write_string(r, 0, value)
    for tid, (title, cols, rows) in sorted(table.subtables.items()):
        sub = book.add_worksheet(f"Tabla_{tid}")
        sub.write_string(0, 0, "Información relacionada a:")
        sub.write_string(0, 1, title)
        for c, header in enumerate(["ID", "FECHA CREACION", "FECHA MODIFICACION"]
                                   + [export_label(x) for x in cols]):
            sub.write_string(2, c, header, bold)
        _write_rows(sub, rows, 3, date)
    book.close()
    return buffer.getvalue()


def _write_rows(sheet, rows: list[list[object]], first: int, date_format) -> None:
    for r, row in enumerate(rows, start=first):
        for c, value in enumerate(row):
            if value is None:
                continue
            if isinstance(value, dt.datetime):
                sheet.write_datetime(r, c, value, date_format)
            elif isinstance(value, int):
                sheet.write_number(r, c, value)
            else:
                sheet.write_string(r, c, str(value))


def _plain(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.strftime("%d/%m/%Y")
    return str(value)


def render_csv(portal: PortalSpec, plan: FilePlan) -> tuple[bytes, str]:
    """A csv version: one header row of the format's labels, then the records.

    A ``mojibake`` file is UTF-8 whose values were stored double-encoded (UTF-8 read back as
    windows-1252 by a database migration: 'InformaciÃ³n'); its header, written by the export
    template, is intact."""
    table = build_table(portal, plan)
    out = io.StringIO()
    writer = csv.writer(out, delimiter=portal.options.get("csv_delimiter", ","),
                        lineterminator="\r\n")
    labels = ["ID", "Fecha creación", "Fecha modificación"] + [
        c["label"] for c in table.fmt["columns"]]
    writer.writerow(labels)
    rows = [[_plain(v) for v in row] for row in table.rows]
    encoding = portal.options.get("csv_encoding", "utf-8")
    if plan.variant == "mojibake":
        encoding = "utf-8"
        garbled = [[garble(v) for v in row] for row in rows]
        if garbled == rows and rows:  # nothing accented drawn: the note shows it
            rows[0][-1] = "Información actualizada por el área responsable."
            garbled = [[garble(v) for v in row] for row in rows]
        rows = garbled
    writer.writerows(rows)
    return out.getvalue().encode(encoding, errors="replace"), encoding


def render_pdf(portal: PortalSpec, plan: FilePlan) -> bytes:
    """A pdf with a text layer: the export's metadata and a table-like listing."""
    from fpdf import FPDF

    table = build_table(portal, plan)
    pdf = FPDF(orientation="L", format="A4")
    pdf.set_creation_date(FIXED_TIME.replace(tzinfo=dt.UTC))
    pdf.set_title(_latin(table.fmt["title"] or plan.obligation.title))
    pdf.set_author(_latin(portal.subject.name))
    pdf.set_creator("Sistema de Portales de Obligaciones de Transparencia")
    pdf.set_producer("Lupa testbed")
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 11)
    for line in (subject_line(portal), f"Formato: {table.fmt['title'] or plan.obligation.title}",
                 f"Periodo: {period_line(plan)} {plan.period.year}"):
        pdf.multi_cell(0, 6, _latin(line), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)
    shown = [i for i, c in enumerate(table.fmt["columns"]) if c["type"] != "table"][:6]
    width = (pdf.w - 20) / max(len(shown), 1)
    pdf.set_font("Helvetica", "B", 7)
    for i in shown:
        pdf.cell(width, 6, _latin(table.fmt["columns"][i]["label"][:40]), border=1)
    pdf.ln()
    pdf.set_font("Helvetica", "", 7)
    for row in table.rows:
        for i in shown:
            pdf.cell(width, 5, _latin(_plain(row[i + 3])[:45]), border=1)
        pdf.ln()
    return bytes(pdf.output())


def _latin(text: str) -> str:
    """Core pdf fonts are Latin-1: replace what they cannot draw."""
    return text.replace("–", "-").replace("“", '"').replace("”", '"').encode(
        "latin-1", errors="replace").decode("latin-1")


def render_scanned_pdf(portal: PortalSpec, plan: FilePlan) -> bytes:
    """A scanned PDF: the same listing, but each page is only a picture (no text layer)."""
    from fpdf import FPDF
    from PIL import Image, ImageDraw

    table = build_table(portal, plan)
    rng = portal.rng("scan", plan.obligation.obligation_id, plan.period.code, plan.index)
    image = Image.new("L", (1170, 827), 255)
    draw = ImageDraw.Draw(image)
    lines = [subject_line(portal), f"Formato: {table.fmt['title'] or plan.obligation.title}",
             f"Periodo: {period_line(plan)} {plan.period.year}", ""]
    shown = [i for i, c in enumerate(table.fmt["columns"]) if c["type"] != "table"][:6]
    lines.append(" | ".join(table.fmt["columns"][i]["label"][:24] for i in shown))
    lines += [" | ".join(_plain(row[i + 3])[:24] for i in shown) for row in table.rows]
    for n, line in enumerate(lines[:60]):
        draw.text((40, 40 + 13 * n), _latin(line)[:180], fill=0)
    for _ in range(400):  # scanner speckle
        x, y = rng.randrange(image.width), rng.randrange(image.height)
        draw.point((x, y), fill=rng.randint(90, 200))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=False)
    pdf = FPDF(orientation="L", format="A4")
    pdf.set_creation_date(FIXED_TIME.replace(tzinfo=dt.UTC))
    pdf.set_creator("Escáner de documentos")
    pdf.set_producer("Lupa testbed")
    pdf.add_page()
    buffer.seek(0)
    pdf.image(buffer, x=0, y=0, w=pdf.w, h=pdf.h)
    return bytes(pdf.output())


def render_file(portal: PortalSpec, plan: FilePlan) -> tuple[bytes, str]:
    """Bytes and Content-Type of one published file (its ``variant`` decides how it is
    broken: a ``format_mismatch`` file is the CSV rendering served as xlsx)."""
    if plan.variant == "format_mismatch":
        body, _encoding = render_csv(portal, plan)
        return body, XLSX_TYPE
    if plan.ext == "xlsx":
        return render_xlsx(portal, plan), XLSX_TYPE
    if plan.ext == "csv":
        body, encoding = render_csv(portal, plan)
        return body, f"text/csv; charset={encoding}"
    if plan.variant == "scanned":
        return render_scanned_pdf(portal, plan), "application/pdf"
    return render_pdf(portal, plan), "application/pdf"


# ---- document defects: which files can carry them -------------------------------------
def has_hyperlinks(ob: Obligation) -> bool:
    """Whether the obligation's format has a hyperlink (url-typed) column."""
    return any(c["type"] == "url" for c in format_for(ob)["columns"])


@lru_cache(maxsize=512)
def missing_column_sets(ob: Obligation) -> tuple[tuple[str, ...], ...]:
    """Sets of 2-4 columns a ``missing_columns`` file of ``ob`` may leave out (empty: none).

    Only for known official formats, and only plain text columns that play no common role
    (never Ejercicio, the period dates, the responsible area, the update and validation
    dates, the note; never a date, amount, catalog or hyperlink column, which the expectation
    suites read). Each set is checked with ``audit.formats.match_headers``: with and without
    the obligation, the header still matches the clean file's format with a score of at least
    ``MISSING_COLUMNS_SCORE`` and names every column left out as missing.
    """
    from audit.formats import load_formats, match_headers

    fmt = format_for(ob)
    if fmt.get("source") == "generic":
        return ()
    columns = fmt["columns"]
    candidates = [c["label"] for c in columns
                  if c["type"] == "text" and detect_role(c["label"]) is None
                  and not c["label"].lower().startswith("ejercicio")]
    if len(candidates) < 2:
        return ()
    catalog = load_formats()
    labels = ["ID", "Fecha creación", "Fecha modificación"] + [c["label"] for c in columns]
    clean = match_headers(labels, catalog, ob.obligation_id)
    if clean is None or clean.missing_columns:
        return ()
    random.Random(f"missing-columns:{ob.obligation_id}").shuffle(candidates)
    found: list[tuple[str, ...]] = []
    for count in (4, 3, 2):
        for offset in range(0, len(candidates) - count + 1, count):
            drop = tuple(candidates[offset:offset + count])
            kept = [label for label in labels if label not in drop]
            own = match_headers(kept, catalog, ob.obligation_id)
            if (own is None or own.format_id != clean.format_id
                    or own.score < MISSING_COLUMNS_SCORE or len(own.missing_columns) != count):
                continue
            anyone = match_headers(kept, catalog)
            if anyone is not None and anyone.format_id == clean.format_id and len(
                    anyone.missing_columns) == count:
                found.append(drop)
            if len(found) >= 3:
                return tuple(found)
    return tuple(found)


# Margin over audit.usefulness.MISSING_COLUMNS_MIN_SCORE (0.6).
MISSING_COLUMNS_SCORE = 0.65


def render_hyperlink_pdf(portal: PortalSpec, number: str) -> bytes:
    """The small document behind a 'Hipervínculo' cell of the exports."""
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_creation_date(FIXED_TIME.replace(tzinfo=dt.UTC))
    pdf.set_producer("Lupa testbed")
    pdf.add_page()
    pdf.set_font("Helvetica", "", 11)
    pdf.multi_cell(0, 6, _latin(f"{portal.subject.name}\nDocumento {number}\n"
                                "Versión pública."), new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())
