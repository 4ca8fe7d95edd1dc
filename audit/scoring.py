"""The scoring model's configuration: criterion weights, finding → criterion rules, bands.

The arithmetic lives in SQL in the warehouse (``warehouse.scoring``); this module reads and
checks the TOML file (``audit/scoring.toml`` by default, ``LUPA_SCORING`` to override) and
turns it into the rows a run is scored with, so that a bad file is refused with a message
naming the key before anything is scored.
"""

from __future__ import annotations

import hashlib
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from audit.findings import Code

DEFAULT_PATH = Path(__file__).with_name("scoring.toml")

# The seven criteria are the model; the file only weighs them. Order = report order.
CRITERIA: dict[str, str] = {
    "presencia": "Presencia",
    "actualizacion": "Actualización",
    "confiabilidad": "Confiabilidad",
    "formato": "Formato",
    "apertura": "Apertura",
    "validez": "Validez",
    "enlaces": "Enlaces",
}
SUBINDICES: dict[str, str] = {"cumplimiento": "Cumplimiento", "utilidad": "Utilidad"}
ALLOWED_VALUES = (0.0, 0.5, 1.0)


class ScoringConfigError(ValueError):
    """The scoring file is malformed; the message names the file and the key."""


@dataclass(frozen=True)
class ScoringConfig:
    version: str
    sha256: str
    source: str
    criteria: dict[str, tuple[str, float]]  # criterion -> (subindex, weight)
    rules: dict[str, dict[str, float]]  # finding code -> {criterion: value}
    outdated_zero_after_periods: int
    default_obligation_weight: float
    obligation_weights: dict[str, float] = field(default_factory=dict)
    bands: dict[str, float] = field(default_factory=dict)  # label -> lowest index

    def band(self, index: float) -> str:
        reached = [(low, label) for label, low in self.bands.items() if index >= low]
        return max(reached)[1] if reached else ""

    def table_rows(self, run_id: str) -> dict[str, list[dict]]:
        """The rows of the warehouse's score_* tables that record this configuration."""
        return {
            "score_config": [{
                "run_id": run_id, "version": self.version, "sha256": self.sha256,
                "source": self.source,
                "outdated_zero_after_periods": self.outdated_zero_after_periods,
                "default_obligation_weight": self.default_obligation_weight,
            }],
            "score_criteria": [
                {"run_id": run_id, "criterion": name, "subindex": subindex, "weight": weight,
                 "position": position, "label_es": CRITERIA[name]}
                for position, (name, (subindex, weight)) in enumerate(self.criteria.items())],
            "score_rules": [
                {"run_id": run_id, "code": code, "criterion": criterion, "value": value}
                for code, values in self.rules.items() for criterion, value in values.items()],
            "score_obligation_weights": [
                {"run_id": run_id, "obligation_id": oid, "weight": weight}
                for oid, weight in self.obligation_weights.items()],
            "score_bands": [
                {"run_id": run_id, "band": label, "min_index": low}
                for label, low in self.bands.items()],
        }


def load_scoring(path: str | Path | None = None) -> ScoringConfig:
    """Read and check the scoring file (``LUPA_SCORING`` or the bundled one)."""
    path = Path(path or os.environ.get("LUPA_SCORING", "").strip() or DEFAULT_PATH)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ScoringConfigError(f"{path}: cannot read the scoring file: {exc}") from exc
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ScoringConfigError(f"{path}: not a valid UTF-8 TOML file: {exc}") from exc
    where = str(path)
    return ScoringConfig(
        version=str(data.get("version", "")),
        sha256=hashlib.sha256(raw).hexdigest(),
        source=where,
        criteria=_criteria(data.get("criteria"), where),
        rules=_rules(data.get("codes", {}), where),
        outdated_zero_after_periods=_positive_int(
            data.get("actualizacion", {}).get("outdated_zero_after_periods", 2),
            f"{where}: actualizacion.outdated_zero_after_periods"),
        default_obligation_weight=_positive(
            data.get("obligations", {}).get("default_weight", 1.0),
            f"{where}: obligations.default_weight"),
        obligation_weights={
            str(oid): _positive(w, f"{where}: obligations.weights.{oid}")
            for oid, w in data.get("obligations", {}).get("weights", {}).items()},
        bands=_bands(data.get("bands", {}), where),
    )


def _criteria(section, where: str) -> dict[str, tuple[str, float]]:
    if not isinstance(section, dict):
        raise ScoringConfigError(f"{where}: a [criteria.NAME] table is required for each of "
                                 f"{', '.join(CRITERIA)}")
    unknown = set(section) - set(CRITERIA)
    if unknown:
        raise ScoringConfigError(f"{where}: unknown criteria {sorted(unknown)}; the model's "
                                 f"criteria are {', '.join(CRITERIA)}")
    out = {}
    for name in CRITERIA:
        entry = section.get(name)
        if not isinstance(entry, dict):
            raise ScoringConfigError(f"{where}: criteria.{name} is missing")
        subindex = entry.get("subindex")
        if subindex not in SUBINDICES:
            raise ScoringConfigError(f"{where}: criteria.{name}.subindex must be one of "
                                     f"{', '.join(SUBINDICES)}, got {subindex!r}")
        out[name] = (subindex, _positive(entry.get("weight"), f"{where}: criteria.{name}.weight"))
    for subindex in SUBINDICES:
        if not any(s == subindex for s, _ in out.values()):
            raise ScoringConfigError(f"{where}: no criterion belongs to subindex {subindex}")
    return out


def _rules(section: dict, where: str) -> dict[str, dict[str, float]]:
    known = {code.value for code in Code}
    out = {}
    for code, values in section.items():
        if code not in known:
            raise ScoringConfigError(f"{where}: codes.{code} is not a finding code "
                                     "(DESIGN section 7)")
        if not isinstance(values, dict) or not values:
            raise ScoringConfigError(f"{where}: codes.{code} must map criteria to values")
        for criterion, value in values.items():
            if criterion not in CRITERIA:
                raise ScoringConfigError(f"{where}: codes.{code}.{criterion} is not a criterion")
            if value not in ALLOWED_VALUES:
                raise ScoringConfigError(f"{where}: codes.{code}.{criterion} = {value!r}; "
                                         "a criterion is valued 1, 0.5 or 0")
        out[code] = {criterion: float(value) for criterion, value in values.items()}
    return out


def _bands(section: dict, where: str) -> dict[str, float]:
    out = {}
    for label, low in section.items():
        if not isinstance(low, int | float) or isinstance(low, bool) or not 0 <= low <= 100:
            raise ScoringConfigError(f"{where}: bands.{label} must be a number from 0 to 100")
        out[str(label)] = float(low)
    if out and min(out.values()) > 0:
        raise ScoringConfigError(f"{where}: the lowest band must start at 0")
    return out


def _positive(value, what: str) -> float:
    if not isinstance(value, int | float) or isinstance(value, bool) or value <= 0:
        raise ScoringConfigError(f"{what} must be a positive number, got {value!r}")
    return float(value)


def _positive_int(value, what: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise ScoringConfigError(f"{what} must be a whole number ≥ 1, got {value!r}")
    return value
