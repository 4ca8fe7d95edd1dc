"""The finding vocabulary (DESIGN section 7) and the finding record.

Codes are stable identifiers shared with analysts, reports and other tools: never rename
one. Messages are written for the audit team, in Spanish.
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass
from enum import StrEnum


class Code(StrEnum):
    # portal level
    PORTAL_UNREACHABLE = "PORTAL_UNREACHABLE"
    TLS_INVALID = "TLS_INVALID"
    ROBOTS_DISALLOWED = "ROBOTS_DISALLOWED"
    ACCESS_BLOCKED = "ACCESS_BLOCKED"
    JS_REQUIRED = "JS_REQUIRED"
    NO_TRANSPARENCY_SECTION = "NO_TRANSPARENCY_SECTION"
    DELEGATES_TO_PNT = "DELEGATES_TO_PNT"
    # obligation level
    OBLIGATION_MISSING = "OBLIGATION_MISSING"
    JUSTIFIED_ABSENCE = "JUSTIFIED_ABSENCE"
    HARD_TO_FIND = "HARD_TO_FIND"
    # resource level
    LINK_BROKEN = "LINK_BROKEN"
    SOFT_404 = "SOFT_404"
    OUTDATED = "OUTDATED"
    NOT_MACHINE_READABLE = "NOT_MACHINE_READABLE"
    SCANNED_DOCUMENT = "SCANNED_DOCUMENT"
    FORMAT_MISMATCH = "FORMAT_MISMATCH"
    MISSING_COLUMNS = "MISSING_COLUMNS"
    EMPTY_DATASET = "EMPTY_DATASET"
    DATA_QUALITY = "DATA_QUALITY"
    DEAD_HYPERLINKS = "DEAD_HYPERLINKS"
    ENCODING_ERROR = "ENCODING_ERROR"
    # history
    REMOVED_EARLY = "REMOVED_EARLY"
    SILENT_EDIT = "SILENT_EDIT"


class Severity(StrEnum):
    CRITICAL = "critical"
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"
    INFO = "info"


SEVERITY: dict[Code, Severity] = {
    Code.PORTAL_UNREACHABLE: Severity.CRITICAL,
    Code.TLS_INVALID: Severity.MEDIUM,
    Code.ROBOTS_DISALLOWED: Severity.HIGH,
    Code.ACCESS_BLOCKED: Severity.HIGH,
    Code.JS_REQUIRED: Severity.MEDIUM,
    Code.NO_TRANSPARENCY_SECTION: Severity.CRITICAL,
    Code.DELEGATES_TO_PNT: Severity.MEDIUM,
    Code.OBLIGATION_MISSING: Severity.HIGH,
    Code.JUSTIFIED_ABSENCE: Severity.INFO,
    Code.HARD_TO_FIND: Severity.LOW,
    Code.LINK_BROKEN: Severity.HIGH,
    Code.SOFT_404: Severity.HIGH,
    Code.OUTDATED: Severity.MEDIUM,
    Code.NOT_MACHINE_READABLE: Severity.MEDIUM,
    Code.SCANNED_DOCUMENT: Severity.MEDIUM,
    Code.FORMAT_MISMATCH: Severity.LOW,
    Code.MISSING_COLUMNS: Severity.MEDIUM,
    Code.EMPTY_DATASET: Severity.HIGH,
    Code.DATA_QUALITY: Severity.LOW,
    Code.DEAD_HYPERLINKS: Severity.LOW,
    Code.ENCODING_ERROR: Severity.LOW,
    Code.REMOVED_EARLY: Severity.HIGH,
    Code.SILENT_EDIT: Severity.HIGH,
}

# Short Spanish labels for reports and messages.
LABEL_ES: dict[Code, str] = {
    Code.PORTAL_UNREACHABLE: "Portal inaccesible",
    Code.TLS_INVALID: "Certificado TLS inválido",
    Code.ROBOTS_DISALLOWED: "robots.txt impide la consulta automatizada",
    Code.ACCESS_BLOCKED: "Acceso bloqueado (captcha, firewall o inicio de sesión)",
    Code.JS_REQUIRED: "Contenido visible solo con JavaScript",
    Code.NO_TRANSPARENCY_SECTION: "Sin sección de transparencia",
    Code.DELEGATES_TO_PNT: "Remite únicamente a la Plataforma Nacional",
    Code.OBLIGATION_MISSING: "Obligación no publicada",
    Code.JUSTIFIED_ABSENCE: "Ausencia justificada",
    Code.HARD_TO_FIND: "Difícil de encontrar (más de tres clics)",
    Code.LINK_BROKEN: "Enlace roto",
    Code.SOFT_404: "Página de error con respuesta 200",
    Code.OUTDATED: "Información desactualizada",
    Code.NOT_MACHINE_READABLE: "Formato no legible por máquina",
    Code.SCANNED_DOCUMENT: "Documento escaneado sin texto",
    Code.FORMAT_MISMATCH: "El formato real no coincide con el declarado",
    Code.MISSING_COLUMNS: "Faltan columnas del formato oficial",
    Code.EMPTY_DATASET: "Conjunto de datos vacío",
    Code.DATA_QUALITY: "Problemas de calidad de datos",
    Code.DEAD_HYPERLINKS: "Hipervínculos muertos en los datos",
    Code.ENCODING_ERROR: "Error de codificación de caracteres",
    Code.REMOVED_EARLY: "Retirado antes de su periodo de conservación",
    Code.SILENT_EDIT: "Modificado sin nueva fecha de actualización",
}

PORTAL_LEVEL = frozenset({
    Code.PORTAL_UNREACHABLE, Code.TLS_INVALID, Code.ROBOTS_DISALLOWED, Code.ACCESS_BLOCKED,
    Code.JS_REQUIRED, Code.NO_TRANSPARENCY_SECTION, Code.DELEGATES_TO_PNT,
})


@dataclass(frozen=True)
class Finding:
    """One finding about a subject (``obligation_id`` None for portal-level findings)."""

    run_id: str
    subject_id: str
    obligation_id: str | None
    code: Code
    message: str
    evidence_url: str | None = None
    severity: Severity | None = None

    @property
    def finding_id(self) -> str:
        """Deterministic id, so that re-running or re-loading a run yields the same rows."""
        key = "\x1f".join([
            self.run_id, self.subject_id, self.obligation_id or "", self.code.value,
            self.evidence_url or "",
        ])
        return hashlib.sha256(key.encode()).hexdigest()[:24]

    def as_row(self) -> dict:
        row = asdict(self)
        row["code"] = self.code.value
        row["severity"] = (self.severity or SEVERITY[self.code]).value
        row["finding_id"] = self.finding_id
        return row
