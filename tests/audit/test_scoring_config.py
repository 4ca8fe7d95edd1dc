"""The scoring file: the bundled one loads; a bad one is refused naming the key."""

from __future__ import annotations

import pytest

from audit.findings import Code
from audit.scoring import CRITERIA, DEFAULT_PATH, ScoringConfigError, load_scoring


def test_the_bundled_file_covers_every_criterion_and_only_known_codes():
    config = load_scoring()
    assert list(config.criteria) == list(CRITERIA)
    assert set(config.rules) <= {c.value for c in Code}
    assert config.band(95) == "Sobresaliente" and config.band(0) == "Crítico"
    rows = config.table_rows("r1")
    assert len(rows["score_criteria"]) == 7 and rows["score_config"][0]["sha256"]


def test_lupa_scoring_environment_variable_selects_the_file(tmp_path, monkeypatch):
    other = tmp_path / "other.toml"
    other.write_text(DEFAULT_PATH.read_text(encoding="utf-8").replace(
        'version = "2026.1"', 'version = "prueba"'), encoding="utf-8")
    monkeypatch.setenv("LUPA_SCORING", str(other))
    assert load_scoring().version == "prueba"


@pytest.mark.parametrize(("change", "message"), [
    (("[codes.OUTDATED]\nactualizacion = 0.5", "[codes.OUTDATED]\nactualizacion = 0.3"),
     "codes.OUTDATED.actualizacion = 0.3; a criterion is valued 1, 0.5 or 0"),
    (("[codes.OUTDATED]", "[codes.STALE]"), "codes.STALE is not a finding code"),
    (("[codes.OUTDATED]\nactualizacion", "[codes.OUTDATED]\nfrescura"),
     "codes.OUTDATED.frescura is not a criterion"),
    (("[criteria.enlaces]\nsubindex = \"utilidad\"\nweight = 5",
      "[criteria.enlaces]\nsubindex = \"utilidad\"\nweight = -5"),
     "criteria.enlaces.weight must be a positive number"),
    (("\"Crítico\" = 0", "\"Crítico\" = 10"), "the lowest band must start at 0"),
    (("outdated_zero_after_periods = 2", "outdated_zero_after_periods = 0"),
     "outdated_zero_after_periods must be a whole number"),
    (("version = ", "version = = "), "not a valid UTF-8 TOML file"),
])
def test_a_bad_file_is_refused_naming_the_key(tmp_path, change, message):
    text = DEFAULT_PATH.read_text(encoding="utf-8")
    assert change[0] in text
    bad = tmp_path / "bad.toml"
    bad.write_text(text.replace(change[0], change[1], 1), encoding="utf-8")
    with pytest.raises(ScoringConfigError, match=str(bad)) as caught:
        load_scoring(bad)
    assert message in str(caught.value)


def test_a_missing_file_is_named(tmp_path):
    with pytest.raises(ScoringConfigError, match="cannot read the scoring file"):
        load_scoring(tmp_path / "nope.toml")
