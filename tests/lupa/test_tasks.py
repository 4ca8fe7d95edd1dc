"""The run tasks without Airflow: parameters, sharding, retries, loading, failure."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest

import lupa.tasks as tasks
from lupa.config import Settings
from lupa.tasks import (
    RunConfigurationError,
    audit_shard,
    build_report,
    load_run,
    prepare_run,
    record_failure,
    resolve_params,
    run_dir_name,
    shard_subjects,
)
from reports.build import ReportError
from scrapers.crawl import HomeFetch, PortalHarvest

HEADER = "subject_id,name,acronym,level,state,subject_type,portal_url,transparency_url\n"


def registry(tmp_path: Path, rows: int, bad: str = "") -> Path:
    path = tmp_path / "registry.csv"
    lines = [f"{i},Municipio {i},,municipal,Jalisco,ejecutivo,http://portal{i}.example/,\n"
             for i in range(1, rows + 1)]
    path.write_text(HEADER + "".join(lines) + bad, encoding="utf-8")
    return path


@pytest.fixture
def settings(tmp_path):
    return replace(Settings.from_env(), home=tmp_path / "home",
                   warehouse=tmp_path / "wh" / "lupa.duckdb", allow_private_networks=False)


def test_run_dir_names_stay_inside_runs_and_are_unique():
    for run_id in ("..", ".", "../../etc", "a/b", ""):
        name = run_dir_name(run_id)
        assert "/" not in name and not name.startswith(".")
    assert run_dir_name("a:b") != run_dir_name("a+b")
    assert run_dir_name("manual__2026-11-24T03:40:27+00:00").startswith("manual__2026-11-24")


def test_private_networks_only_where_the_installation_allows(settings):
    with pytest.raises(RunConfigurationError, match="LUPA_ALLOW_PRIVATE_NETWORKS"):
        resolve_params({"allow_private_networks": True}, settings)
    allowing = replace(settings, allow_private_networks=True)
    assert resolve_params({"allow_private_networks": True}, allowing)[
        "allow_private_networks"] is True
    assert resolve_params({"allow_private_networks": False}, allowing)[
        "allow_private_networks"] is False  # a run may narrow, not widen
    assert resolve_params({}, allowing)["allow_private_networks"] is True


def test_allowed_endpoints_reach_the_fetch_policy_and_bad_ones_stop_the_run(settings,
                                                                             monkeypatch):
    from lupa.tasks import _fetch_policy
    from scrapers.fetch import Fetcher
    from scrapers.netguard import PrivateAddress

    monkeypatch.setenv("LUPA_ALLOWED_ENDPOINTS", " 127.31.0.0/24:8080 ,, [::1]:9000")
    narrowed = replace(settings, allowed_endpoints=Settings.from_env().allowed_endpoints)
    conf = resolve_params({}, narrowed)
    policy = _fetch_policy({**conf, "delay_seconds": 0})
    assert policy.allowed_endpoints == ("127.31.0.0/24:8080", "[::1]:9000")
    guard = Fetcher(policy).guard
    guard.check_url("http://127.31.0.9:8080/")
    with pytest.raises(PrivateAddress):
        guard.check_url("http://169.254.169.254:8080/latest/meta-data/")
    with pytest.raises(RunConfigurationError, match="LUPA_ALLOWED_ENDPOINTS.*localhost:80"):
        resolve_params({}, replace(settings, allowed_endpoints=("localhost:80",)))


def test_empty_params_fall_back_to_the_installation(settings):
    conf = resolve_params({"law": None, "shard_size": None, "as_of": ""},
                          replace(settings, shard_size=7))
    assert conf["shard_size"] == 7 and conf["law"] == "LGTAIP-2015"
    with pytest.raises(RunConfigurationError, match="as_of"):
        resolve_params({"as_of": "24/11/2026"}, settings)


def test_shards_are_balanced_and_capped(monkeypatch):
    from audit.subjects import Subject

    subjects = [Subject(str(i), "n", "", "federal", "", "ejecutivo", "http://x/")
                for i in range(10)]
    assert [len(s) for s in shard_subjects(subjects, 4)] == [4, 3, 3]
    monkeypatch.setattr(tasks, "MAX_SHARDS", 2)
    assert [len(s) for s in shard_subjects(subjects, 1)] == [5, 5]


def test_prepare_writes_shards_manifest_and_registry_errors(tmp_path, settings):
    path = registry(tmp_path, 5, bad="99,X,,municipal,Jalisco,tipo,http://x.example/,\n")
    shard_dirs = prepare_run({"registry": str(path), "shard_size": 2}, "run-1", settings)
    assert len(shard_dirs) == 3
    run_dir = Path(shard_dirs[0]).parent.parent
    manifest = json.loads((run_dir / "manifest.json").read_text())
    assert (manifest["registry_rows"], manifest["registry_rejected_rows"]) == (6, 1)
    assert manifest["registry_issues"][0]["line"] == 7
    assert (run_dir / "registry_errors.parquet").exists()


def test_prepare_refuses_unknown_subjects_and_empty_selections(tmp_path, settings):
    path = registry(tmp_path, 3)
    with pytest.raises(RunConfigurationError, match="not in .*: 42"):
        prepare_run({"registry": str(path), "subjects": ["1", "42"]}, "r", settings)
    assert len(prepare_run({"registry": str(path), "subjects": [" 2 "]}, "r2", settings)) == 1
    empty = tmp_path / "empty.csv"
    empty.write_text(HEADER)
    with pytest.raises(RunConfigurationError, match="no valid subject"):
        prepare_run({"registry": str(empty)}, "r3", settings)
    with pytest.raises(RunConfigurationError, match="cannot read registry"):
        prepare_run({"registry": str(tmp_path / "absent.csv")}, "r4", settings)


def _harvested_shard(tmp_path, settings) -> str:
    (shard_dir,) = prepare_run({"registry": str(registry(tmp_path, 2))}, "run-h", settings)
    lines = [PortalHarvest(subject_id=str(i), home_url=f"http://portal{i}.example/",
                           home=HomeFetch(status_code=200), transparency_url=None).to_dict()
             for i in (1, 2)]
    (Path(shard_dir) / "harvest.jsonl").write_text(
        "".join(json.dumps(line) + "\n" for line in lines))
    return shard_dir


def test_a_retried_audit_forgets_the_failed_attempt(tmp_path, settings, monkeypatch):
    shard_dir = _harvested_shard(tmp_path, settings)
    real = tasks.audit_presence

    def flaky(subject, *args):
        if subject.subject_id == "1":
            raise RuntimeError("bug")
        return real(subject, *args)

    monkeypatch.setattr(tasks, "audit_presence", flaky)
    audit_shard(shard_dir)
    assert [e["subject_id"] for e in tasks.shard_errors([shard_dir])] == ["1"]
    monkeypatch.setattr(tasks, "audit_presence", real)
    audit_shard(shard_dir)
    assert tasks.shard_errors([shard_dir]) == []


def test_load_and_failure_are_visible_in_the_warehouse(tmp_path, settings):
    shard_dir = _harvested_shard(tmp_path, settings)
    audit_shard(shard_dir)
    (Path(shard_dir) / "harvest_errors.json").write_text("[]")
    from warehouse.shards import write_table

    write_table(shard_dir, "fetches", [])
    summary = load_run(str(Path(shard_dir).parent.parent), [shard_dir])
    assert summary["rows"]["obligation_checks"] > 0
    with duckdb.connect(str(settings.warehouse), read_only=True) as con:
        row = con.execute("SELECT status, subjects_total, subjects_audited, registry_errors "
                          "FROM runs WHERE run_id = 'run-h'").fetchone()
    assert row == ("success", 2, 2, 0)

    record_failure({"warehouse": str(settings.warehouse)}, "run-x", "harvest[3] failed")
    with duckdb.connect(str(settings.warehouse), read_only=True) as con:
        assert con.execute("SELECT status, error FROM runs WHERE run_id = 'run-x'"
                           ).fetchone() == ("failed", "harvest[3] failed")

    # the reports DAG: the asset event names the warehouse and run; params win over it
    out = tmp_path / "informe"
    built = build_report({}, {"warehouse": str(settings.warehouse), "run_id": "run-h"},
                         replace(settings, reports=out))
    assert built["run_id"] == "run-h" and Path(built["overview"]).is_file()
    assert built["overview"] == str(out / "index.html")
    with pytest.raises(ReportError, match="no run 'run-zz'"):
        build_report({"run_id": "run-zz"}, {"warehouse": str(settings.warehouse),
                                            "run_id": "run-h"}, replace(settings, reports=out))
    with pytest.raises(ReportError, match="status 'failed'"):
        build_report({"run_id": "run-x", "warehouse": str(settings.warehouse)}, None,
                     replace(settings, reports=out))
    assert json.loads((out / "informe.json").read_text())["run_id"] == "run-h"  # kept


def test_priors_keep_each_urls_validators_digest_and_record_together(tmp_path):
    """A URL fetched twice by the previous run gives one prior, from one response."""
    from datetime import date as day

    from lupa.tasks import _PRIOR_FETCHES, previous_run_rows
    from warehouse.schema import connect

    path = tmp_path / "w.duckdb"
    con = connect(path)
    con.execute("INSERT INTO runs (run_id, started_at, status, as_of) VALUES "
                "('r1', '2025-11-01', 'success', '2025-11-15')")
    con.execute("INSERT INTO run_subjects VALUES ('r1', 'S')")
    for etag, sha, ref, when in (('"a"', "1" * 64, "w#0", "2025-11-01 10:00"),
                                 ('"b"', "2" * 64, "w#90", "2025-11-01 11:00")):
        con.execute("INSERT INTO fetches (run_id, subject_id, url, final_url, status_code, "
                    "sha256, fetched_at, etag, evidence_ref) VALUES "
                    "('r1', 'S', 'http://p/x', 'http://p/x', 200, ?, ?, ?, ?)",
                    [sha, when, etag, ref])
    con.close()
    rows = previous_run_rows(path, _PRIOR_FETCHES, "r2", ["S"], day(2025, 11, 15),
                             datetime(2025, 11, 20, tzinfo=UTC))
    assert [(r[2], r[4], r[5]) for r in rows] == [('"b"', "2" * 64, "w#90")]
