"""The CLI contract (DESIGN section 5) with the Airflow run replaced by a recorded result."""

from __future__ import annotations

import os

import pytest

import lupa.airflow_runner as runner
from lupa import cli
from lupa.airflow_runner import DagRunResult


@pytest.fixture
def recorded_run(monkeypatch, tmp_path):
    seen = {}

    def fake_run_dag(settings, dag_id, conf):
        seen.update(conf=conf, dag_id=dag_id,
                    allow=os.environ.get("LUPA_ALLOW_PRIVATE_NETWORKS"))
        return DagRunResult(dag_id, "manual__x", "failed", 1.0, ["harvest[0]"])

    monkeypatch.setattr(runner, "run_dag", fake_run_dag)
    # setenv (not delenv) so that whatever the CLI sets is undone after the test
    monkeypatch.setenv("LUPA_ALLOW_PRIVATE_NETWORKS", "")
    monkeypatch.setenv("LUPA_WAREHOUSE", str(tmp_path / "w.duckdb"))
    return seen


def test_run_prints_the_run_id_last(recorded_run, tmp_path, capsys):
    registry = tmp_path / "r.csv"
    registry.write_text("x")
    code = cli.main(["run", "--registry", str(registry), "--as-of", "2026-11-24",
                     "--subjects", "1,2", "--allow-private-networks"])
    out, err = capsys.readouterr()
    assert code == 1  # the recorded run failed
    assert out.strip().splitlines()[-1] == "manual__x"
    assert "harvest[0]" in err
    conf = recorded_run["conf"]
    assert recorded_run["dag_id"] == "lupa_audit"
    assert conf["as_of"] == "2026-11-24" and conf["subjects"] == ["1", "2"]
    assert conf["allow_private_networks"] is True and recorded_run["allow"] == "1"


def test_run_without_private_flag_does_not_open_private_networks(recorded_run, tmp_path):
    registry = tmp_path / "r.csv"
    registry.write_text("x")
    cli.main(["run", "--registry", str(registry)])
    assert recorded_run["conf"]["allow_private_networks"] is False
    assert not recorded_run["allow"]


def test_run_passes_a_shard_count_to_the_dag(recorded_run, tmp_path):
    registry = tmp_path / "r.csv"
    registry.write_text("x")
    cli.main(["run", "--registry", str(registry), "--shard-count", "12"])
    assert recorded_run["conf"]["shard_count"] == 12
    cli.main(["run", "--registry", str(registry)])
    assert recorded_run["conf"]["shard_count"] is None


def test_run_with_missing_registry(capsys, tmp_path):
    assert cli.main(["run", "--registry", str(tmp_path / "none.csv")]) == 2
    assert "registry not found" in capsys.readouterr().err
