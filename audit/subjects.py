"""The obligated subject (sujeto obligado) as read from the registry (DESIGN section 4)."""

from __future__ import annotations

from dataclasses import dataclass

LEVELS = ("federal", "estatal", "municipal")
SUBJECT_TYPES = (
    "ejecutivo", "legislativo", "judicial", "autonomo", "universidad", "partido_politico",
    "fideicomiso", "sindicato", "autoridad_laboral", "persona_fisica_moral",
)


@dataclass(frozen=True)
class Subject:
    subject_id: str
    name: str
    acronym: str
    level: str
    state: str
    subject_type: str
    portal_url: str
    transparency_url: str | None = None


# PNT ámbito codes (reference/pnt_institutions_2025.tsv) -> entidad federativa.
STATES: dict[str, str] = {
    "AGU": "Aguascalientes", "BCN": "Baja California", "BCS": "Baja California Sur",
    "CAM": "Campeche", "CHP": "Chiapas", "CHH": "Chihuahua", "CMX": "Ciudad de México",
    "COA": "Coahuila", "COL": "Colima", "DUR": "Durango", "GUA": "Guanajuato",
    "GRO": "Guerrero", "HID": "Hidalgo", "JAL": "Jalisco", "MEX": "Estado de México",
    "MIC": "Michoacán", "MOR": "Morelos", "NAY": "Nayarit", "NLE": "Nuevo León",
    "OAX": "Oaxaca", "PUE": "Puebla", "QUE": "Querétaro", "ROO": "Quintana Roo",
    "SLP": "San Luis Potosí", "SIN": "Sinaloa", "SON": "Sonora", "TAB": "Tabasco",
    "TAM": "Tamaulipas", "TLA": "Tlaxcala", "VER": "Veracruz", "YUC": "Yucatán",
    "ZAC": "Zacatecas",
}
