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


def test_shard_count_is_optional(monkeypatch):
    monkeypatch.setenv("LUPA_SHARD_COUNT", "")
    assert Settings.from_env().shard_count is None
    monkeypatch.setenv("LUPA_SHARD_COUNT", "340")
    assert Settings.from_env().shard_count == 340
    assert Settings.from_env().as_dict()["shard_count"] == 340
    monkeypatch.setenv("LUPA_SHARD_COUNT", "lots")
    with pytest.raises(ValueError, match="LUPA_SHARD_COUNT='lots' is not a valid int"):
        Settings.from_env()
