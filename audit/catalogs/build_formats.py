"""Build the official SIPOT format files of LGTAIP-2015 from the shared reference material.

Run from the repository root when the reference changes (the output is committed)::

    python -m audit.catalogs.build_formats [REFERENCE_DIR]     # default: ../shared/reference

It rewrites ``audit/catalogs/LGTAIP-2015/formats/{formats,columns,subtables}.tsv`` in a fixed
order, so a rerun on unchanged input changes nothing and a diff shows exactly what moved.

The judgment calls live in the tables below, each with its reason, so that a reviewer reads
them here instead of reverse-engineering the TSV: which upload template carries which
obligation (the 2018 templates are numbered files of a state law that mirrors Art. 70, not
fraction numbers), which templates are left out, and which formats come from real exports
rather than official templates. Every mapping is also checked against the obligation
catalog's keywords; disagreements are printed for review.
"""

from __future__ import annotations

import csv
import re
import sys
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import xlrd

from audit.catalog import CATALOGS_DIR, Catalog, load_catalog, normalize_text
from audit.formats import (
    COLUMN_COLUMNS,
    COMMON_ROLES,
    FORMAT_COLUMNS,
    FORMATS_DIR_NAME,
    SUBTABLE_COLUMNS,
    detect_role,
    normalize_label,
)
from audit.obligations import ObligationRef, roman_to_int

LAW = "LGTAIP-2015"
REPO = Path(__file__).resolve().parents[2]
DEFAULT_REFERENCE = REPO.parent / "shared" / "reference"
OUT_DIR = CATALOGS_DIR / LAW / FORMATS_DIR_NAME

# 2018 upload templates of a state law's Art. 70 equivalent (file number -> obligation).
# Fraction-level ids are formats that merge the sub-formats the catalog audits separately.
ART70_TEMPLATES: dict[int, str] = {
    1: "70-I", 2: "70-II-A", 3: "70-II-B", 5: "70-IV", 6: "70-V", 7: "70-VI", 8: "70-VII",
    9: "70-VIII", 10: "70-IX", 11: "70-X-A", 12: "70-X-B", 13: "70-XI", 14: "70-XII",
    15: "70-XIII", 16: "70-XIV", 17: "70-XV-B", 18: "70-XV-A", 19: "70-XVI-A", 20: "70-XVI-B",
    21: "70-XVII", 22: "70-XVIII", 23: "70-XIX", 24: "70-XX", 25: "70-XXI-A", 26: "70-XXI-B",
    27: "70-XXI-C", 28: "70-XXII", 29: "70-XXIII-A", 30: "70-XXIII-C", 31: "70-XXIII-D",
    32: "70-XXIV", 33: "70-XXV", 34: "70-XXVI", 35: "70-XXIII-B", 36: "70-XXVII",
    37: "70-XXVIII-A", 38: "70-XXVIII-B", 39: "70-XXIX", 40: "70-XXX", 41: "70-XXXI-A",
    42: "70-XXXI-B", 43: "70-XXXII", 44: "70-XXXIII", 45: "70-XXXIV-A", 46: "70-XXXIV-B",
    47: "70-XXXIV-C", 48: "70-XXXIV-D", 49: "70-XXXIV-E", 50: "70-XXXIV-F", 51: "70-XXXIV-G",
    52: "70-XXXV-A", 53: "70-XXXV-B", 54: "70-XXXV-C", 55: "70-XXXVI", 56: "70-XXXVII-A",
    57: "70-XXXVII-B", 58: "70-XXXVIII-A", 59: "70-XXXVIII-B", 60: "70-XXXIX-A",
    61: "70-XXXIX-B", 62: "70-XXXIX-C", 63: "70-XXXIX-D", 64: "70-XL-B", 65: "70-XL-A",
    66: "70-XLI", 67: "70-XLII-A", 68: "70-XLII-B", 69: "70-XLIII-A", 70: "70-XLIII-B",
    71: "70-XLIV-A", 72: "70-XLIV-B", 73: "70-XLV", 74: "70-XLVI-B", 75: "70-XLVI-A",
    76: "70-XLVIII-A", 77: "70-XLVIII-B", 78: "70-XLVIII-C",
}
# Why a mapping is not read straight off the title (written into the format's source).
ART70_REASONS: dict[int, str] = {
    10: "merged 2018 format: its catalog 'Tipo de gasto' = Viáticos|Representación covers "
        "IX-A and IX-B",
    16: "merged 2018 format: convocatorias and results (XIV-A) plus the hyperlink to the "
        "electronic system (XIV-B, column 22)",
    35: "numbered after XXVI in the state law, but its title is Art. 70 XXIII-B",
    64: "title 'Encuestas sobre programas' = XL-B",
    65: "titled 'Evaluaciones y encuestas', but its columns are evaluations only (programa "
        "evaluado, evaluación): XL-A",
    66: "merged 2018 format: the catalog 'Forma y actores participantes' spans the 2016 "
        "sub-formats XLI-A..D",
}
# Art. 70 templates with no obligation in the catalog.
ART70_SKIPPED: dict[int, str] = {
    4: "'Obligaciones aplicables' is the tabla de aplicabilidad of Art. 70's last paragraph",
}
# 2018 templates for the executive's specific obligations (Art. 71 equivalent).
ART71_TEMPLATES: dict[int, str] = {
    80: "71-I-A", 81: "71-I-A", 86: "71-I-B", 87: "71-I-B", 107: "71-I-B",
    88: "71-I-C", 89: "71-I-C", 90: "71-I-D", 91: "71-I-D", 92: "71-I-D",
    93: "71-I-E", 94: "71-I-E", 95: "71-I-E",
    96: "71-I-F", 97: "71-I-F", 98: "71-I-F", 99: "71-I-F", 100: "71-I-F", 101: "71-I-F",
    102: "71-I-F", 103: "71-I-G", 109: "71-II-A", 110: "71-II-A", 111: "71-II-B",
    112: "71-II-B",
}
ART71_REASONS: dict[int, str] = {
    81: "hyperlink companion of the Plan de Desarrollo format",
    87: "2016-style columns (Periodo que se informa, Año) inside the 2018 template set",
    107: "'Egresos y fórmulas de distribución de los recursos' = I-B's distribution formulas",
    111: "UNCERTAIN: a session calendar is not literally II-B's actas, asistencia y votación; "
         "mapped there as the only cabildo obligation (LTG annex not in the reference)",
}
# Mappings that are a best guess rather than read off the title or the columns.
UNVERIFIED = frozenset({111})
# Templates 082-085 repeat 080/081 (same idFormato and columns: state and municipal plans).
ART71_SKIPPED: dict[int, str] = {
    104: "state-law obligation (origen y aplicación de recursos por dependencia): not in "
         "LGTAIP Art. 71",
    105: "state-law obligation (glosa del informe al Congreso): not in LGTAIP Art. 71",
    106: "state-law obligation (transferencias presupuestales del Gobernador): not in "
         "LGTAIP Art. 71",
    108: "state-law obligation (montos de endeudamiento): not in LGTAIP Art. 71",
}

# SIPOT field-type codes (row 4 of an upload template) -> column types.
_DATE_RE = re.compile(r"\d{2}/\d{2}/\d{4}")
TYPE_CODES = {"1": "texto", "2": "texto_largo", "3": "numero", "4": "fecha", "5": "hora",
              "6": "moneda", "7": "url", "8": "archivo", "9": "catalogo", "10": "tabla",
              "12": "anio", "13": "fecha", "14": "nota"}
TYPE_NAMES = {"Texto corto": "texto", "Texto largo": "texto_largo", "Número": "numero",
              "Fecha": "fecha", "Moneda": "moneda", "Página web (url)": "url",
              "Catálogo": "catalogo", "Tabla": "tabla", "Fecha Actualización": "fecha",
              "Nota": "nota"}

# Fr. VIII in the 2025 export (reference/sipot_export_layout.md, "Column set, Fr. VIII,
# Yucatán state format 2025"): sub-table ids in column order, and the two catalogs.
VIII_2025_TABLES = ("325313", "325299", "325314", "325283", "325303", "325290", "325300",
                    "325291", "325292", "325311", "325315", "325312", "325316")
VIII_2025_CATALOGS = (
    ("Funcionaria (o)", "Personal de confianza", "Persona servidora pública", "Empleada (o)",
     "Persona prestadora de servicios profesionales", "Persona servidora pública eventual",
     "Integrante", "Representante popular", "Miembro del poder judicial",
     "Miembro de órgano autónomo", "Otro"),
    ("Hombre", "Mujer"),
)
# Fields added to the federal XXVIII-A format after 2018 (idCampo 5636xx, far newer than
# the format's 3343xx): not required of files that follow the format as first published.
LATER_FIELDS = {
    "563637": "added after 2018 (idCampo 563637); not required of earlier files",
    "563638": "added after 2018 (idCampo 563638); the reference lists only the first field of "
              "the fiscal address",
}
# A real 2016-era export of Fr. VIII whose sheets show which 2016 columns are sub-tables.
VIII_2016_DONOR = "export_2017_state_agency_VIII_-_08.xls"
# Formats known only from real 2016-era exports of a state system (Durango, 2017).
REAL_EXPORTS = (
    ("70-IX-A", "export_2017_state_agency_IX_-_09_A.xls",
     "the state's 'IX - 09 A' file: 2016 sub-format A (viáticos) of Fr. IX"),
    ("70-XXVII", "export_2017_state_agency_XXVIII_-_28.xls",
     "labelled fraction XXVIII in the state law (Art. 65), but its columns (acto jurídico, "
     "titular, vigencia, cláusula, monto) are Art. 70 XXVII, concesiones, contratos, "
     "convenios, permisos, licencias o autorizaciones"),
)


@dataclass
class Spec:
    """One format being built, with its columns and sub-tables."""

    obligation_id: str
    edition: str
    tag: str
    title: str
    sipot_id: str
    verified: bool
    source: str
    columns: list[dict[str, str]] = field(default_factory=list)
    tables: dict[str, list[tuple[str, str]]] = field(default_factory=dict)

    @property
    def format_id(self) -> str:
        return f"{self.obligation_id}:{self.edition}:{self.tag}"


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE))


def _number(file_name: str) -> int:
    match = re.match(r"\d+", file_name)
    if not match:
        raise ValueError(f"template file name without a number: {file_name!r}")
    return int(match.group())


def _split_table(label: str) -> tuple[str, str | None]:
    """'Primas…  Tabla_512917' or '… (Tabla_325290)' -> (label without it, '512917')."""
    match = re.search(r"\s*\(?\s*Tabla_(\d+)\s*\)?\s*$", label)
    if not match:
        return label.strip(), None
    return label[:match.start()].strip(), match.group(1)


def _infer_type(label: str) -> str:
    """Column type from the label, for sources without SIPOT field-type codes."""
    folded = normalize_label(label)
    role = detect_role(label)
    by_role = {"ejercicio": "texto", "periodo": "texto", "anio": "anio", "nota": "nota",
               "area_responsable": "texto_largo", "hyperlink": "url"}
    if role in by_role:
        return by_role[role]
    if role:
        return "fecha"
    lowered = normalize_text(label)
    if re.search(r"\btabla\b", lowered):
        return "tabla"
    if "catalogo" in lowered:
        return "catalogo"
    if folded.startswith("fecha"):
        return "fecha"
    if folded.startswith(("monto", "importe", "imp ", "remuneracion mensual")):
        return "moneda"
    return "texto"


def _column(label: str, kind: str, *, catalog: Iterable[str] = (), table_id: str | None = None,
            required: bool = True, note: str = "") -> dict[str, str]:
    role = detect_role(label)
    if role == "hyperlink" and kind not in ("url", "archivo"):
        role = None
    values = [v.strip() for v in catalog if v.strip()]
    for value in values:
        if "|" in value or "\t" in value:
            raise ValueError(f"catalog value {value!r} contains a separator")
    return {"label": " ".join(label.split()), "type": kind, "required": _bool(required),
            "role": role or "", "catalog": "|".join(values) if kind == "catalogo" else "",
            "table_id": table_id or "", "note": note}


def _bool(value: bool) -> str:
    return "true" if value else "false"


def _edition(columns: list[dict[str, str]]) -> str:
    """2016-style layouts carry 'Periodo que se informa' / 'Año' instead of period dates."""
    return "2016" if {c["role"] for c in columns} & {"periodo", "anio"} else "2018"


# ----------------------------------------------------------------- 2018 upload templates


def _templates(ref: Path, stem: str, mapping: dict[int, str], reasons: dict[int, str],
               skipped: dict[int, str]) -> list[Spec]:
    fields: dict[str, list[dict[str, str]]] = defaultdict(list)
    fields_file = f"sipot_templates_{stem}_2018_fields.tsv"
    for row in _rows(ref / fields_file):
        fields[row["file"]].append(row)
    heads = {row["file"]: row for row in _rows(ref / f"sipot_templates_{stem}_2018_formats.tsv")}
    extras = _catalogs_and_tables(ref / f"sipot_templates_{stem}_catalogs_and_tables.tsv")
    specs: list[Spec] = []
    seen: dict[tuple, Spec] = {}
    for file_name in sorted(heads, key=_number):
        number = _number(file_name)
        if number in skipped:
            continue
        head = heads[file_name]
        columns, tables = _template_columns(fields[file_name], extras.get(file_name, {}))
        signature = (head["idFormato"], tuple((c["label"], c["type"]) for c in columns))
        if number not in mapping:
            if signature in seen:
                seen[signature].source += f"; same columns in {file_name}"
                continue
            raise ValueError(f"{file_name}: no mapping and not a repeat of an earlier template")
        source = (f"ref:{fields_file} {file_name} (upload template, idFormato "
                  f"{head['idFormato']})")
        if number in reasons:
            source += f"; {reasons[number]}"
        spec = Spec(mapping[number], _edition(columns), head["idFormato"], head["titulo"],
                    head["idFormato"], number not in UNVERIFIED, source, columns, tables)
        seen[signature] = spec
        specs.append(spec)
    return specs


def _catalogs_and_tables(path: Path) -> dict[str, dict[str, list[str]]]:
    """file -> sheet -> values (Hidden_n catalogs, Tabla_n column labels), in sheet order."""
    out: dict[str, dict[str, list[tuple[int, str]]]] = defaultdict(lambda: defaultdict(list))
    if not path.exists():
        return {}
    for row in _rows(path):
        out[row["file"]][row["sheet"]].append((int(row["row_or_col"]), row["value"]))
    return {f: {s: [v for _, v in sorted(vals)] for s, vals in sheets.items()}
            for f, sheets in out.items()}


def _template_columns(rows: list[dict[str, str]], extras: dict[str, list[str]]
                      ) -> tuple[list[dict[str, str]], dict[str, list[tuple[str, str]]]]:
    """Columns of one template; the n-th catalog column takes sheet Hidden_n."""
    hidden = sorted((s for s in extras if re.fullmatch(r"Hidden_\d+", s)),
                    key=lambda s: int(s.split("_")[1]))
    catalog_columns = [r for r in rows if r["type_code"] == "9"]
    if hidden and len(hidden) != len(catalog_columns):
        raise ValueError(f"{rows[0]['file']}: {len(catalog_columns)} catalog columns but "
                         f"{len(hidden)} Hidden sheets")
    columns, tables, n_catalog = [], {}, 0
    for row in sorted(rows, key=lambda r: int(r["col_order"])):
        kind = TYPE_CODES[row["type_code"]]
        label, table_id = _split_table(row["label"])
        catalog: list[str] = []
        if kind == "catalogo":
            if hidden:
                catalog = extras[hidden[n_catalog]]
            n_catalog += 1
        if kind == "tabla":
            table_id = table_id or row["idCampo"]
            tables[table_id] = [(c, "") for c in extras.get(f"Tabla_{table_id}", []) if c != "ID"]
        columns.append(_column(label, kind, catalog=catalog, table_id=table_id))
    return columns, tables


# ----------------------------------------------------------------- other references


def _key_rows(ref: Path, fraction: str, version_prefix: str) -> list[str]:
    rows = [r for r in _rows(ref / "sipot_key_format_columns.tsv")
            if r["fraction"] == fraction and r["version"].startswith(version_prefix)]
    if not rows:
        raise ValueError(f"no reference rows for {fraction} {version_prefix!r}")
    return [r["column_label"] for r in sorted(rows, key=lambda r: int(r["col_order"]))]


def _inferred_columns(labels: list[str], tables: Iterable[str] = (),
                      catalogs: Iterable[tuple[str, ...]] = ()) -> list[dict[str, str]]:
    """Columns from labels only: types inferred; table ids and catalogs given in order."""
    table_ids, catalog_values = iter(tables), iter(catalogs)
    columns = []
    for raw in labels:
        label, table_id = _split_table(raw)
        kind = _infer_type(raw)
        if kind == "tabla":
            table_id = table_id or next(table_ids)
        catalog = next(catalog_values, ()) if kind == "catalogo" else ()
        columns.append(_column(label, kind, catalog=catalog, table_id=table_id))
    return columns


def _key_formats(ref: Path) -> list[Spec]:
    key = "ref:sipot_key_format_columns.tsv"
    viii_2016 = Spec(
        "70-VIII", "2016", "34931", "Remuneración bruta y neta", "34931", True,
        f"{key} VIII 2016 upload template (Yucatán LETAYUC72-70FVIII, idFormato 34931); types "
        f"inferred from labels, sub-table and catalog columns (with the catalog values) from "
        f"the same columns of ref:real-sipot/{VIII_2016_DONOR}",
        _inferred_columns(_key_rows(ref, "VIII", "2016")))
    _donate_types(viii_2016, ref / "real-sipot" / VIII_2016_DONOR)
    viii_2023 = Spec(
        "70-VIII", "2023", "yuc2025", "Remuneraciones brutas y netas de todas las personas "
        "servidoras públicas de base y de confianza", "", True,
        f"{key} VIII 2025 PNT export (state law of Yucatán, 2018-2025 normativa, no Fecha de "
        "validación); table ids and catalogs from ref:sipot_export_layout.md; types inferred",
        _inferred_columns(_key_rows(ref, "VIII", "2025"), VIII_2025_TABLES,
                          VIII_2025_CATALOGS))
    xii_2023 = Spec(
        "70-XII", "2023", "fed", "Declaraciones de situación patrimonial", "", False,
        f"{key} XII 2023+: columns known only from third-party code that reproduces the "
        "SIPOT format; types inferred", _inferred_columns(_key_rows(ref, "XII", "2023")))
    xvii_tables = {"334596": [(label, "") for label in _key_rows(ref, "XVII-Tabla_334596", "")
                              if label != "ID"]}
    xvii_2023 = Spec(
        "70-XVII", "2023", "fed", "Información curricular y sanciones administrativas", "",
        False, f"{key} XVII 2023+: columns known only from a third-party generator that "
        "reproduces the federal format; types inferred",
        _inferred_columns(_key_rows(ref, "XVII", "2023")), xvii_tables)
    return [viii_2016, viii_2023, xii_2023, xvii_2023]


def _xxviii_formats(ref: Path) -> list[Spec]:
    rows = _rows(ref / "sipot_format_fields_XXVIII.tsv")
    specs = []
    for sipot_id, obligation_id in (("43336", "70-XXVIII-A"), ("43335", "70-XXVIII-B")):
        own = [r for r in rows if r["idFormato"] == sipot_id]
        columns, tables = [], {}
        for row in own:
            kind = TYPE_NAMES[row["tipoDato"]]
            if row["parent_idCampo"]:
                tables[row["parent_idCampo"]].append((row["etiqueta"], kind))
                continue
            if kind == "tabla":
                tables[row["idCampo"]] = []
            note = LATER_FIELDS.get(row["idCampo"], "")
            columns.append(_column(
                row["etiqueta"], kind, catalog=row["catalog_values"].split("|"),
                table_id=row["idCampo"] if kind == "tabla" else None,
                required=not note, note=note))
        title = own[0]["formato_titulo"]
        specs.append(Spec(
            obligation_id, "2018", sipot_id, title, sipot_id, True,
            f"ref:sipot_format_fields_XXVIII.tsv idFormato {sipot_id} (federal format used by "
            "the PNT web service)", columns, tables))
    return specs


def _real_export_formats(ref: Path, catalog: Catalog) -> list[Spec]:
    specs = []
    for obligation_id, file_name, why in REAL_EXPORTS:
        path = ref / "real-sipot" / file_name
        columns, tables = _export_columns(xlrd.open_workbook(str(path)))
        specs.append(Spec(
            obligation_id, "2016", "dgo2017", catalog.get(obligation_id).title, "", False,
            f"ref:real-sipot/{file_name}: header row of a real 2017 export of a Durango state "
            f"agency, as the state system wrote it (title case, some labels abbreviated or "
            f"cut); official LTG 2016 wording not in the reference; {why}",
            columns, tables))
    return specs


def _export_columns(book: xlrd.book.Book
                    ) -> tuple[list[dict[str, str]], dict[str, list[tuple[str, str]]]]:
    """Columns of a 2017 state export: 'Tabla_n' cells mark sub-tables; a hiddenN sheet
    is the catalog of the first column whose values all belong to it."""
    sheet = book.sheet_by_index(0)
    header = [str(v).strip() for v in sheet.row_values(0)]
    data = [sheet.row_values(r) for r in range(1, sheet.nrows)]
    keep = [i for i, label in enumerate(header)
            if label and normalize_label(label) != "sujeto obligado"]
    catalogs = _export_catalogs(book, data, keep)
    columns, tables = [], {}
    for i in keep:
        first = str(data[0][i]) if data else ""
        table = re.fullmatch(r"Tabla_(\d+)", first)
        if table:
            table_id = table.group(1)
            sub = book.sheet_by_name(f"TABLA{table_id}")
            labels = [str(v).strip() for v in sub.row_values(0)[1:]] if sub.nrows else []
            tables[table_id] = [(label, "") for label in labels if label]
            columns.append(_column(header[i], "tabla", table_id=table_id))
        elif i in catalogs:
            columns.append(_column(header[i], "catalogo", catalog=catalogs[i]))
        else:
            columns.append(_column(header[i], _export_type(header[i], [row[i] for row in data])))
    return columns, tables


def _export_type(label: str, values: list) -> str:
    """Inferred type, made 'fecha' when every value is a dd/mm/aaaa date."""
    kind = _infer_type(label)
    present = [str(v).strip() for v in values if str(v).strip()]
    if kind == "texto" and present and all(_DATE_RE.fullmatch(v) for v in present):
        return "fecha"
    return kind


def _export_layout(path: Path) -> dict[str, tuple[str, tuple[str, ...]]]:
    """Folded label -> (type, catalog) of a real export's 'tabla' and 'catalogo' columns."""
    columns, _ = _export_columns(xlrd.open_workbook(str(path)))
    return {normalize_label(c["label"]): (c["type"], tuple(c["catalog"].split("|")))
            for c in columns if c["type"] in ("tabla", "catalogo")}


def _donate_types(spec: Spec, path: Path) -> None:
    """Give a format without type codes the sub-table and catalog columns of a real export
    of the same format (its Tabla_n cells and hiddenN sheets show them)."""
    layout = _export_layout(path)
    for column in spec.columns:
        if column["type"] in ("tabla", "catalogo"):
            continue
        kind, catalog = layout.get(normalize_label(column["label"]), (None, ()))
        if kind == "tabla":
            column["type"] = "tabla"
        elif kind == "catalogo":
            column["type"], column["catalog"] = "catalogo", "|".join(catalog)


def _export_catalogs(book: xlrd.book.Book, data: list[list], keep: list[int]
                     ) -> dict[int, list[str]]:
    found: dict[int, list[str]] = {}
    hidden = sorted((s for s in book.sheet_names() if re.fullmatch(r"hidden\d+", s)),
                    key=lambda s: int(s[6:]))
    for name in hidden:
        sheet = book.sheet_by_name(name)
        values = [str(sheet.cell_value(r, 0)).strip() for r in range(sheet.nrows)]
        allowed = {normalize_text(v) for v in values}
        for i in keep:
            seen = {normalize_text(str(row[i])) for row in data if str(row[i]).strip()}
            if i not in found and seen and seen <= allowed:
                found[i] = values
                break
    return found


# ----------------------------------------------------------------- checks and output


def _check_keywords(specs: list[Spec], catalog: Catalog) -> list[str]:
    """Template titles whose keyword match disagrees with the mapping (for review)."""
    notes = []
    for spec in specs:
        if not spec.source.startswith("ref:sipot_templates"):
            continue
        title = spec.title.split("_", 1)[-1]
        found = {o.obligation_id for o in catalog.match_text(title)}
        ref = ObligationRef.parse(spec.obligation_id)
        wanted = {o.obligation_id for o in catalog.obligations if ref.covers(o)}
        if not found & wanted:
            notes.append(f"{spec.format_id}: title {title!r} -> keywords say "
                         f"{sorted(found) or 'nothing'}")
    return notes


def _without_repeats(specs: list[Spec]) -> list[Spec]:
    """One format per obligation, edition and column list: a later source with the same
    folded labels is recorded in the first one's source instead (the state template of
    XXVIII-B reproduces the federal format 43335 column by column)."""
    kept: dict[tuple, Spec] = {}
    for spec in specs:
        key = (spec.obligation_id, spec.edition,
               tuple(normalize_label(c["label"]) for c in spec.columns))
        if key in kept:
            first = kept[key]
            first.source += f"; same columns in {spec.source.split(' (')[0]}"
            continue
        kept[key] = spec
    return list(kept.values())


def _check_roles(spec: Spec) -> None:
    """A common role appears once per format: keep it on the first column that has it."""
    seen: set[str] = set()
    for column in spec.columns:
        role = column["role"]
        if role in COMMON_ROLES:
            if role in seen:
                column["role"] = ""
            seen.add(role)


def build(ref: Path) -> list[Spec]:
    catalog = load_catalog(LAW)
    specs = _templates(ref, "art70equiv", ART70_TEMPLATES, ART70_REASONS, ART70_SKIPPED)
    specs += _templates(ref, "art71equiv", ART71_TEMPLATES, ART71_REASONS, ART71_SKIPPED)
    specs += _key_formats(ref) + _xxviii_formats(ref) + _real_export_formats(ref, catalog)
    specs = _without_repeats(specs)
    for spec in specs:
        _check_roles(spec)
    for note in _check_keywords(specs, catalog):
        print(f"review: {note}", file=sys.stderr)
    return sorted(specs, key=_sort_key)


def _sort_key(spec: Spec) -> tuple[int, int, str, str, str]:
    ref = ObligationRef.parse(spec.obligation_id)
    fraction = roman_to_int(ref.fraction) if ref.fraction else 0
    return (ref.article, fraction, ref.subformat or "", spec.edition, spec.tag)


def _write(path: Path, header: tuple[str, ...], rows: list[dict[str, str]]) -> None:
    lines = ["\t".join(header)]
    for row in rows:
        values = [str(row.get(name, "")) for name in header]
        for value in values:
            if "\t" in value or "\n" in value:
                raise ValueError(f"{path.name}: value with a tab or line break: {value!r}")
        lines.append("\t".join(values))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def write(specs: list[Spec], out: Path = OUT_DIR) -> None:
    out.mkdir(parents=True, exist_ok=True)
    formats, columns, subtables = [], [], []
    for spec in specs:
        formats.append({"format_id": spec.format_id, "obligation_id": spec.obligation_id,
                        "edition": spec.edition, "title": spec.title,
                        "sipot_id": spec.sipot_id, "verified": _bool(spec.verified),
                        "source": spec.source})
        for position, column in enumerate(spec.columns, start=1):
            columns.append({"format_id": spec.format_id, "position": str(position), **column})
        for table_id in sorted(spec.tables, key=int):
            for position, (label, kind) in enumerate(spec.tables[table_id], start=1):
                subtables.append({"format_id": spec.format_id, "table_id": table_id,
                                  "position": str(position), "label": " ".join(label.split()),
                                  "type": kind})
    _write(out / "formats.tsv", FORMAT_COLUMNS, formats)
    _write(out / "columns.tsv", COLUMN_COLUMNS, columns)
    _write(out / "subtables.tsv", SUBTABLE_COLUMNS, subtables)


def main(argv: list[str]) -> None:
    ref = Path(argv[0]) if argv else DEFAULT_REFERENCE
    specs = build(ref)
    write(specs)
    obligations = {s.obligation_id for s in specs}
    print(f"wrote {len(specs)} formats for {len(obligations)} obligation ids to {OUT_DIR}")


if __name__ == "__main__":
    main(sys.argv[1:])
