import pytest

from lupa.config import Settings


def test_empty_variables_mean_defaults(monkeypatch):
    monkeypatch.setenv("LUPA_SHARD_SIZE", "")
    monkeypatch.setenv("LUPA_ALLOW_PRIVATE_NETWORKS", "")
    settings = Settings.from_env()
    assert settings.shard_size == 25 and settings.allow_private_networks is False


def test_values_and_errors(monkeypatch, tmp_path):
    monkeypatch.setenv("LUPA_HOME", str(tmp_path))
    monkeypatch.setenv("LUPA_DELAY_SECONDS", "0.5")
    monkeypatch.setenv("LUPA_ALLOW_PRIVATE_NETWORKS", "sí")
    settings = Settings.from_env()
    assert settings.delay_seconds == 0.5 and settings.allow_private_networks is True
    assert settings.warehouse == tmp_path / "warehouse" / "lupa.duckdb"
    assert settings.as_dict()["home"] == str(tmp_path)
    monkeypatch.setenv("LUPA_MAX_PAGES", "many")
    with pytest.raises(ValueError, match="LUPA_MAX_PAGES='many' is not a valid int"):
        Settings.from_env()
