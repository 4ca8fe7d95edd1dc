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

# 2018 upload templates -> obligation: the same mapping as the format catalog's builder.
from audit.catalogs.build_formats import ART70_TEMPLATES

OUT = Path(__file__).with_name("sipot_formats.json")

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
