"""Build ``sipot_formats.json`` from the reference tables in ``shared/reference``.

Run by hand when the reference tables change::

    python -m testbed.data.build_formats /path/to/shared/reference

The testbed ships the JSON it writes, so that a fresh clone can serve realistic SIPOT
exports without the reference folder. Each format lists its columns (label and a short
type), its catalogs (``Hidden_n``) and its sub-tables (``Tabla_nnnnnn``).
"""

from __future__ import annotations

import csv
import json
import re
import sys
from collections import defaultdict
from pathlib import Path

OUT = Path(__file__).with_name("sipot_formats.json")

# 2018 upload templates (reference/sipot_templates_art70equiv_2018_*.tsv, by leading number)
# -> the LGTAIP-2015 obligation they carry. Template 4 (tabla de aplicabilidad) has none.
ART70_TEMPLATES = {
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
# Executive specific obligations (Art. 71): one representative template per inciso.
ART71_TEMPLATES = {
    80: "71-I-A", 86: "71-I-B", 88: "71-I-C", 91: "71-I-D", 93: "71-I-E", 97: "71-I-F",
    103: "71-I-G", 109: "71-II-A", 112: "71-II-B",
}

TYPES = {
    "Texto corto": "text", "Texto largo": "text", "Número": "number", "Fecha": "date",
    "Hora": "text", "Moneda": "money", "Hipervínculo/URL": "url", "Página web (url)": "url",
    "Archivo": "url", "Catálogo": "catalog", "Tabla": "table", "Año": "text",
    "Fecha de actualización": "updated", "Nota": "note",
}

# Fr. VIII as exported in 2025 (state consulta export): sub-table ids per concept, in the
# order of the concepts of the 2018 template's tables.
VIII_2025_TABLES = ["325313", "325299", "325314", "325283", "325303", "325290", "325300",
                    "325291", "325292", "325311", "325315", "325312", "325316"]


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle, delimiter="\t"))


def _number(file_name: str) -> int:
    return int(re.match(r"\d+", file_name).group())


def _guess_type(label: str) -> str:
    low = label.lower()
    if "(tabla" in low or "tabla_" in low:
        return "table"
    if "catálogo" in low:
        return "catalog"
    if low.startswith("fecha de actualización"):
        return "updated"
    if low.startswith("fecha"):
        return "date"
    if low == "nota":
        return "note"
    if low.startswith("monto") or low.startswith("importe"):
        return "money"
    if low.startswith("hipervínculo"):
        return "url"
    return "text"


def _clean_label(label: str) -> str:
    label = re.sub(r"\s*Tabla_\d+\s*$", "", label).strip()
    label = re.sub(r"\s*\(Tabla\)\s*$", "", label).strip()
    return label.replace("ESTE CRITERIO APLICA A PARTIR DEL 01/04/2023 -> ", "")


def _templates(ref: Path, fields_file: str, cats_file: str | None, mapping: dict) -> dict:
    fields = defaultdict(list)
    for row in _rows(ref / fields_file):
        fields[row["file"]].append(row)
    titles = {row["file"]: row for row in _rows(ref / fields_file.replace("fields", "formats"))}
    extras: dict[str, dict] = defaultdict(lambda: {"catalogs": defaultdict(list),
                                                    "tables": defaultdict(list)})
    if cats_file:
        for row in _rows(ref / cats_file):
            kind = "catalogs" if row["kind"] == "catalog_value" else "tables"
            extras[row["file"]][kind][row["sheet"]].append(row["value"])
    out = {}
    for file_name, cols in fields.items():
        key = mapping.get(_number(file_name))
        if key is None:
            continue
        extra = extras[file_name]
        main_catalogs = [name for name in extra["catalogs"] if re.fullmatch(r"Hidden_\d+", name)]
        columns, catalogs, tables = [], [], {}
        for col in sorted(cols, key=lambda c: int(c["col_order"])):
            kind = TYPES.get(col["type_name"], "text")
            entry = {"label": _clean_label(col["label"]), "type": kind}
            if kind == "catalog":
                index = len(catalogs)
                if index < len(main_catalogs):
                    catalogs.append(extra["catalogs"][main_catalogs[index]])
                else:
                    catalogs.append(["Sí", "No"])
                entry["catalog"] = index
            if kind == "table":
                table_id = col["idCampo"]
                sheet = f"Tabla_{table_id}"
                table_cols = [c for c in extra["tables"].get(sheet, []) if c != "ID"]
                tables[table_id] = {"title": entry["label"],
                                    "columns": table_cols or ["Descripción"]}
                entry["table"] = table_id
            columns.append(entry)
        title = titles.get(file_name, {}).get("titulo", file_name)
        out[key] = {"title": title.split("_", 1)[-1], "format_id": cols[0]["idFormato"],
                    "columns": columns, "catalogs": catalogs, "tables": tables,
                    "source": f"2018 upload template {file_name}"}
    return out


def _viii_2025(ref: Path, base: dict) -> dict:
    rows = [r for r in _rows(ref / "sipot_key_format_columns.tsv")
            if r["fraction"] == "VIII" and r["version"].startswith("2025")]
    old_tables = list(base["tables"].values())
    columns, tables, catalogs, t_index = [], {}, [], 0
    for row in sorted(rows, key=lambda r: int(r["col_order"])):
        label = row["column_label"]
        kind = _guess_type(label)
        entry = {"label": _clean_label(label), "type": kind}
        if kind == "catalog":
            entry["catalog"] = len(catalogs)
            catalogs.append(
                ["Funcionaria (o)", "Personal de confianza", "Persona servidora pública",
                 "Empleada (o)", "Persona prestadora de servicios profesionales",
                 "Persona servidora pública eventual", "Integrante", "Representante popular",
                 "Miembro del poder judicial", "Miembro de órgano autónomo", "Otro"]
                if not catalogs else ["Hombre", "Mujer"])
        if kind == "table":
            table_id = VIII_2025_TABLES[t_index]
            tables[table_id] = {"title": entry["label"],
                                "columns": old_tables[t_index]["columns"]}
            entry["table"] = table_id
            t_index += 1
        columns.append(entry)
    return {"title": "Remuneraciones brutas y netas de todas las personas servidoras públicas "
                     "de base y de confianza", "format_id": "", "columns": columns,
            "catalogs": catalogs, "tables": tables,
            "source": "2025 consulta export (state university), reference layout"}


def _xvii_2023(ref: Path) -> dict:
    rows = _rows(ref / "sipot_key_format_columns.tsv")
    main = sorted((r for r in rows if r["fraction"] == "XVII" and r["version"].startswith("2023")),
                  key=lambda r: int(r["col_order"]))
    sub = [r["column_label"] for r in rows if r["fraction"] == "XVII-Tabla_334596"]
    columns, catalogs = [], []
    studies = ["Ninguno", "Primaria", "Secundaria", "Bachillerato", "Carrera técnica",
               "Licenciatura", "Maestría", "Especialización", "Doctorado", "Posdoctorado"]
    for row in main:
        label = _clean_label(row["column_label"])
        kind = _guess_type(label)
        entry = {"label": label, "type": kind}
        if kind == "catalog":
            entry["catalog"] = len(catalogs)
            catalogs.append([["Hombre", "Mujer"], studies, ["Si", "No"]][min(len(catalogs), 2)])
        if kind == "table":
            entry["table"] = "334596"
        columns.append(entry)
    return {"title": "Información curricular y sanciones administrativas", "format_id": "",
            "columns": columns, "catalogs": catalogs,
            "tables": {"334596": {"title": "Experiencia laboral",
                                  "columns": [c for c in sub if c != "ID"]}},
            "source": "2023+ federal format (reference/sipot_key_format_columns.tsv)"}


def _xxviii(ref: Path, format_id: str) -> dict:
    rows = [r for r in _rows(ref / "sipot_format_fields_XXVIII.tsv")
            if r["idFormato"] == format_id]
    columns, catalogs, tables = [], [], {}
    for row in rows:
        if row["parent_idCampo"]:
            tables[row["parent_idCampo"]]["columns"].append(row["etiqueta"])
            continue
        kind = TYPES.get(row["tipoDato"], "text")
        entry = {"label": row["etiqueta"], "type": kind}
        if kind == "catalog":
            entry["catalog"] = len(catalogs)
            catalogs.append([v for v in row["catalog_values"].split("|") if v] or ["Sí", "No"])
        if kind == "table":
            tables[row["idCampo"]] = {"title": row["etiqueta"], "columns": []}
            entry["table"] = row["idCampo"]
        columns.append(entry)
    return {"title": rows[0]["formato_titulo"].split("_", 1)[-1], "format_id": format_id,
            "columns": columns, "catalogs": catalogs, "tables": tables,
            "source": f"SIPOT format {format_id} (reference/sipot_format_fields_XXVIII.tsv)"}


def build(ref: Path) -> dict:
    formats = _templates(ref, "sipot_templates_art70equiv_2018_fields.tsv",
                         "sipot_templates_art70equiv_catalogs_and_tables.tsv", ART70_TEMPLATES)
    formats.update(_templates(ref, "sipot_templates_art71equiv_2018_fields.tsv", None,
                              ART71_TEMPLATES))
    formats["70-VIII"] = _viii_2025(ref, formats["70-VIII"])
    formats["70-XVII"] = _xvii_2023(ref)
    formats["70-XXVIII-A"] = _xxviii(ref, "43336")
    formats["70-XXVIII-B"] = _xxviii(ref, "43335")
    return dict(sorted(formats.items()))


def main(argv: list[str]) -> None:
    ref = Path(argv[0] if argv else "../shared/reference")
    data = build(ref)
    OUT.write_text(json.dumps(data, ensure_ascii=False, indent=0, sort_keys=True) + "\n",
                   encoding="utf-8")
    print(f"wrote {len(data)} formats to {OUT}")


if __name__ == "__main__":
    main(sys.argv[1:])
