"""Sharding: shard size or count, the cap by Airflow's max_map_length, balance by expected
work (longest processing time first), and each shard reading only the previous run's shards
that held its subjects."""

from __future__ import annotations

import itertools
import json
import logging
import random
import sys
from dataclasses import asdict, replace
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import lupa.documents as documents
import lupa.tasks as tasks
from audit.subjects import Subject
from lupa.config import Settings
from lupa.tasks import (
    DEFAULT_WORK,
    RunConfigurationError,
    plan_shards,
    prepare_run,
    previous_shard_dirs,
    resolve_params,
    run_dir_name,
    shard_subjects,
)

HEADER = "subject_id,name,acronym,level,state,subject_type,portal_url,transparency_url\n"


def subject(subject_id) -> Subject:
    return Subject(str(subject_id), "n", "", "federal", "", "ejecutivo",
                   f"http://portal{subject_id}.example/")


def ids(shards) -> list[list[str]]:
    return [[s.subject_id for s in shard] for shard in shards]


@pytest.fixture
def settings(tmp_path):
    return replace(Settings.from_env(), home=tmp_path / "home",
                   warehouse=tmp_path / "wh" / "lupa.duckdb", allow_private_networks=False)


@pytest.fixture
def no_airflow_limit(monkeypatch):
    """Shard limits independent of the Airflow configuration of the machine."""
    monkeypatch.setattr(tasks, "max_map_length", lambda: tasks.DEFAULT_MAX_MAP_LENGTH)


# -- parameters -------------------------------------------------------------------------

def test_shard_count_wins_over_shard_size_and_the_installation(settings):
    conf = resolve_params({"shard_size": 5, "shard_count": 12}, settings)
    assert (conf["shard_size"], conf["shard_count"]) == (5, 12)
    assert resolve_params({}, settings)["shard_count"] is None
    counted = replace(settings, shard_count=40)
    assert resolve_params({"shard_size": 5}, counted)["shard_count"] == 40
    assert resolve_params({"shard_count": 8}, counted)["shard_count"] == 8
    assert resolve_params({"shard_count": None}, counted)["shard_count"] == 40
    assert resolve_params({"shard_count": ""}, counted)["shard_count"] == 40
    assert resolve_params({"shard_count": "12"}, settings)["shard_count"] == 12
    assert resolve_params({"shard_count": 12.0}, settings)["shard_count"] == 12


@pytest.mark.parametrize("bad", [0, -3, "abc", 2.5, "1.5", True, [4]])
def test_bad_shard_numbers_are_configuration_errors(settings, bad):
    with pytest.raises(RunConfigurationError,
                       match=r"shard_count must be a whole number of at least 1.*\(params\)"):
        resolve_params({"shard_count": bad}, settings)
    with pytest.raises(RunConfigurationError, match=r"shard_size must be a whole number"):
        resolve_params({"shard_size": bad}, settings)


def test_bad_installation_shard_numbers_name_their_variable(settings):
    with pytest.raises(RunConfigurationError, match="LUPA_SHARD_COUNT"):
        resolve_params({}, replace(settings, shard_count=0))
    with pytest.raises(RunConfigurationError, match="LUPA_SHARD_SIZE"):
        resolve_params({}, replace(settings, shard_size=0))


# -- count and cap ----------------------------------------------------------------------

def test_count_from_size_or_count_never_more_than_subjects(no_airflow_limit):
    subjects = [subject(i) for i in range(10)]
    assert [len(s) for s in shard_subjects(subjects, 4)] == [4, 3, 3]
    assert len(shard_subjects(subjects, 4, shard_count=6)) == 6
    plan = plan_shards(subjects, shard_count=50)
    assert len(plan.shards) == 10 and not plan.capped and plan.wanted == 50
    assert len(plan_shards(subjects, shard_size=100).shards) == 1


def test_shards_are_capped_by_max_map_length_and_grow_instead(monkeypatch, caplog):
    monkeypatch.setattr(tasks, "max_map_length", lambda: 7)
    subjects = [subject(i) for i in range(100)]
    with caplog.at_level(logging.WARNING, logger="lupa.tasks"):
        plan = plan_shards(subjects, shard_size=1)
    assert len(plan.shards) == 7 and plan.capped and plan.limit == 7 and plan.wanted == 100
    assert sorted(len(s) for s in plan.shards) == [14, 14, 14, 14, 14, 15, 15]
    assert "at most 7 can be mapped" in caplog.text
    assert len(plan_shards(subjects, shard_count=500).shards) == 7
    monkeypatch.setattr(tasks, "MAX_SHARDS", 3)  # the lower of the two limits wins
    assert tasks.shard_limit() == 3 and len(plan_shards(subjects, shard_size=1).shards) == 3
    monkeypatch.setattr(tasks, "max_map_length", lambda: 0)
    assert tasks.shard_limit() == 1


def test_max_map_length_comes_from_airflow_or_its_default(monkeypatch):
    monkeypatch.setenv("AIRFLOW__CORE__MAX_MAP_LENGTH", "50")
    assert tasks.max_map_length() == 50
    monkeypatch.setitem(sys.modules, "airflow.configuration", None)  # not importable
    assert tasks.max_map_length() == 1024


def test_national_size_makes_346_balanced_shards_under_the_limit(no_airflow_limit):
    rng = random.Random(8646)
    subjects = [subject(i) for i in range(1, 8647)]
    work = {s.subject_id: rng.choice([2, 3]) if rng.random() < 0.1 else rng.randint(20, 600)
            for s in subjects}
    plan = plan_shards(subjects, shard_size=25, work=work)
    summary = plan.summary()
    assert summary["shards"] == 346 and not summary["capped"] and summary["limit"] == 1000
    assert summary["balance"] <= 1.01  # max / mean expected work
    assert sum(summary["subjects"]) == 8646
    round_robin = [sum(work[s.subject_id] for s in subjects[i::346]) for i in range(346)]
    assert max(round_robin) / (sum(round_robin) / 346) > summary["balance"]


# -- balance by expected work -----------------------------------------------------------

def test_longest_processing_time_first_balances_known_costs(no_airflow_limit):
    rng = random.Random(3)
    subjects = [subject(i) for i in range(400)]
    work = {s.subject_id: int(rng.paretovariate(1.2) * 20) for s in subjects}
    plan = plan_shards(subjects, shard_count=16, work=work)
    assert sorted(s.subject_id for shard in plan.shards for s in shard) == sorted(work)
    assert plan.work == [sum(plan.costs[s.subject_id] for s in shard) for shard in plan.shards]
    # greedy to the least loaded shard: the spread is at most one subject's cost, and a
    # shard over the mean holds a single subject or is within one subject of the mean
    assert max(plan.work) - min(plan.work) <= max(plan.costs.values())
    mean = sum(plan.work) / len(plan.work)
    for shard, load in zip(plan.shards, plan.work, strict=True):
        assert len(shard) == 1 or load <= mean + min(plan.costs[s.subject_id] for s in shard)
    # heaviest subject first in each shard
    for shard in plan.shards:
        costs = [plan.costs[s.subject_id] for s in shard]
        assert costs == sorted(costs, reverse=True)


def test_longest_processing_time_first_is_within_four_thirds_of_the_optimum(
        no_airflow_limit):
    rng = random.Random(11)
    for _ in range(25):
        costs = [rng.randint(1, 60) for _ in range(8)]
        subjects = [subject(i) for i in range(8)]
        plan = plan_shards(subjects, shard_count=3,
                           work={str(i): c for i, c in enumerate(costs)})
        optimum = min(max(sum(c for c, m in zip(costs, assign, strict=True) if m == k)
                          for k in range(3))
                      for assign in itertools.product(range(3), repeat=8))
        assert max(plan.work) <= (4 / 3 - 1 / 9) * optimum + 1e-9


def test_plans_are_deterministic_whatever_the_registry_order(no_airflow_limit):
    subjects = [subject(i) for i in range(60)]
    work = {s.subject_id: (int(s.subject_id) * 7) % 13 for s in subjects}  # ties, zeros
    first = plan_shards(subjects, shard_count=7, work=work)
    shuffled = subjects[:]
    random.Random(1).shuffle(shuffled)
    again = plan_shards(shuffled, shard_count=7, work=work)
    assert ids(first.shards) == ids(again.shards) and first.work == again.work


def test_equal_costs_deal_subjects_round_robin(no_airflow_limit):
    subjects = [subject(i) for i in range(1, 11)]
    plan = plan_shards(subjects, shard_size=4)
    assert ids(plan.shards) == [["1", "3", "6", "9"], ["10", "4", "7"], ["2", "5", "8"]]
    assert plan.known == 0 and plan.estimate == DEFAULT_WORK
    assert plan.work == [4 * DEFAULT_WORK, 3 * DEFAULT_WORK, 3 * DEFAULT_WORK]


def test_unknown_subjects_cost_the_median_of_the_known(no_airflow_limit):
    subjects = [subject(i) for i in "abcde"]
    plan = plan_shards(subjects, shard_count=2, work={"a": 10, "b": 30, "c": 20, "d": 0})
    assert plan.known == 3 and plan.estimate == 20
    assert plan.costs == {"a": 10, "b": 30, "c": 20, "d": 20, "e": 20}
    assert sorted(plan.work) == [50, 50]


# -- prepare_run with a previous run ----------------------------------------------------

def _registry(tmp_path: Path, count: int) -> Path:
    path = tmp_path / "registry.csv"
    path.write_text(HEADER + "".join(
        f"{i},Municipio {i},,municipal,Jalisco,ejecutivo,http://portal{i}.example/,\n"
        for i in range(1, count + 1)), encoding="utf-8")
    return path


def _previous_run(settings, run_id: str, shards: list[list[int]], requests: dict[int, int],
                  as_of="2025-11-01"):
    """A successful run in the warehouse (each subject with ``requests`` fetch rows, one
    with validators) and its run directory (subjects.json, harvest.jsonl with one carried
    document per subject, expectation_results.parquet)."""
    from warehouse.schema import connect

    run_dir = settings.home / "runs" / run_dir_name(run_id)
    run_dir.mkdir(parents=True, exist_ok=True)
    (run_dir / "manifest.json").write_text(json.dumps({"run_id": run_id}))
    for number, members in enumerate(shards):
        shard = run_dir / "shards" / f"{number:04d}"
        shard.mkdir(parents=True)
        (shard / "subjects.json").write_text(json.dumps([asdict(subject(i)) for i in members]))
        (shard / "harvest.jsonl").write_text("".join(json.dumps({
            "subject_id": str(i), "hits": [{"resources": [{
                "url": f"http://portal{i}.example/f.csv", "sha256": f"{i:064d}",
                "document": {"dataset": None, "seen_in": run_id}}]}]}) + "\n"
            for i in members))
        pq.write_table(pa.Table.from_pylist([
            {"run_id": run_id, "subject_id": str(i), "resource_url":
             f"http://portal{i}.example/f.csv", "suite": "s", "observed_run": None}
            for i in members]), shard / "expectation_results.parquet")
    settings.warehouse.parent.mkdir(parents=True, exist_ok=True)
    con = connect(settings.warehouse)
    con.execute("INSERT INTO runs (run_id, started_at, status, as_of) VALUES "
                "(?, ?, 'success', ?)", [run_id, as_of, as_of])
    for members in shards:
        for i in members:
            con.execute("INSERT INTO run_subjects VALUES (?, ?)", [run_id, str(i)])
            for n in range(requests.get(i, 1)):
                con.execute(
                    "INSERT INTO fetches (run_id, subject_id, url, final_url, status_code, "
                    "sha256, fetched_at, etag, evidence_ref) VALUES (?, ?, ?, ?, 200, ?, ?, "
                    "?, ?)", [run_id, str(i), f"http://portal{i}.example/{n}",
                              f"http://portal{i}.example/{n}", f"{i:064d}", as_of,
                              '"e"' if n == 0 else None, f"w#{n}"])
    con.close()
    return run_dir


def test_prepare_balances_by_previous_requests_and_records_it(tmp_path, settings,
                                                             no_airflow_limit):
    _previous_run(settings, "r1", [[1, 2, 3, 4], [5, 6, 7, 8]], {1: 80, **{i: 10 for i in
                                                                        range(2, 9)}})
    shard_dirs = prepare_run({"registry": str(_registry(tmp_path, 9)), "shard_count": 4,
                              "as_of": "2025-11-15"}, "r2", settings)
    manifest = json.loads((Path(shard_dirs[0]).parent.parent / "manifest.json").read_text())
    sharding = manifest["sharding"]
    # subject 9 is new: it costs the median of the known (10)
    assert sharding["expected_work"] == [80, 30, 30, 20]
    assert sharding["work_known"] == 8 and sharding["work_estimate"] == 10
    assert sharding["balance"] == round(80 / 40, 4) and sharding["subjects"] == [1, 3, 3, 2]
    assert manifest["shard_count"] == 4 and manifest["shards"] == shard_dirs
    plan = json.loads((Path(shard_dirs[0]) / "shard.json").read_text())
    assert plan["expected_work"] == 80 and plan["subject_work"] == {"1": 80}


def test_a_retried_prepare_with_fewer_shards_leaves_none_behind(tmp_path, settings,
                                                               no_airflow_limit):
    path = _registry(tmp_path, 6)
    assert len(prepare_run({"registry": str(path), "shard_size": 1}, "r", settings)) == 6
    shard_dirs = prepare_run({"registry": str(path), "shard_size": 3}, "r", settings)
    assert sorted(p.name for p in Path(shard_dirs[0]).parent.iterdir()) == ["0000", "0001"]


def test_a_shards_harvest_reads_only_the_previous_shards_of_its_subjects(
        tmp_path, settings, monkeypatch, no_airflow_limit):
    from scrapers import crawl
    from scrapers.crawl import HomeFetch, PortalHarvest

    previous = _previous_run(settings, "r1", [[1, 2], [3, 4], [5, 6], [7, 8]], {})
    all_previous = sorted((previous / "shards").glob("*"))
    shard_dirs = prepare_run({"registry": str(_registry(tmp_path, 8)), "shard_size": 2,
                              "as_of": "2025-11-15"}, "r2", settings)
    read: list[list[Path]] = []
    carried: list[dict] = []
    real = documents.carried_documents

    def spy(shards, subject_ids):
        read.append([Path(s) for s in shards])
        carried.append(real(shards, subject_ids))
        assert carried[-1] == real(all_previous, subject_ids)  # what reading all finds
        return carried[-1]

    monkeypatch.setattr(documents, "carried_documents", spy)
    monkeypatch.setattr(crawl, "crawl_portal", lambda s, *a, **k: PortalHarvest(
        subject_id=s.subject_id, home_url=s.portal_url, home=HomeFetch(status_code=200)))
    for shard_dir in shard_dirs:
        tasks.harvest_shard(shard_dir)
    for shard_dir, shards, found in zip(shard_dirs, read, carried, strict=True):
        members = {s.subject_id for s in tasks.read_subjects(shard_dir)}
        holding = sorted(d for d in all_previous
                         if members & {r["subject_id"] for r in
                                       json.loads((d / "subjects.json").read_text())})
        assert shards == holding and len(shards) == 2 < len(all_previous)
        assert {key[0] for key in found} == {f"http://portal{i}.example/f.csv"
                                             for i in members}
        assert json.loads((Path(shard_dir) / "shard.json").read_text())[
            "previous_shards"] == {"r1": [str(d) for d in holding]}


def test_carried_expectation_rows_read_only_the_previous_shards_of_the_shard(
        tmp_path, settings, monkeypatch, no_airflow_limit):
    previous = _previous_run(settings, "r1", [[1, 2], [3, 4], [5, 6], [7, 8]], {})
    shard_dirs = prepare_run({"registry": str(_registry(tmp_path, 8)), "shard_size": 2,
                              "as_of": "2025-11-15"}, "r2", settings)
    opened: list[Path] = []
    real = pq.read_table

    def spy(path, *args, **kwargs):
        opened.append(Path(path).parent)
        return real(path, *args, **kwargs)

    monkeypatch.setattr(pq, "read_table", spy)
    home = settings.home
    for shard_dir in shard_dirs:
        members = [s.subject_id for s in tasks.read_subjects(shard_dir)]
        datasets = [(i, "70-I", f"http://portal{i}.example/f.csv", "d.parquet", None)
                    for i in members]
        carried = {(i, f"http://portal{i}.example/f.csv"): "r1" for i in members}
        opened.clear()
        rows = tasks.carried_expectation_rows(home, "r2", datasets, carried,
                                              shard_dir=shard_dir)
        narrow = sorted(set(opened))
        assert rows == tasks.carried_expectation_rows(home, "r2", datasets, carried)
        assert sorted(rows) == sorted(carried)
        assert all(r["run_id"] == "r2" and r["observed_run"] == "r1"
                   for found in rows.values() for r in found)
        recorded = json.loads((Path(shard_dir) / "shard.json").read_text())["previous_shards"]
        assert narrow == [Path(p) for p in recorded["r1"]]
        assert narrow == previous_shard_dirs(shard_dir, home, {"r1"})["r1"]
        assert len(narrow) == 2 < len(list(previous.glob("shards/*")))


def test_shards_prepared_without_a_plan_read_every_previous_shard(tmp_path, settings):
    previous = _previous_run(settings, "r1", [[1], [2], [3]], {})
    shard = tmp_path / "old" / "shards" / "0000"
    shard.mkdir(parents=True)
    assert previous_shard_dirs(shard, settings.home, {"r1"}) == {
        "r1": sorted((previous / "shards").glob("*"))}
    (shard / "shard.json").write_text(json.dumps({"previous_shards": {"r0": []}}))
    assert previous_shard_dirs(shard, settings.home, {"r0", "r1"}) == {
        "r0": [], "r1": sorted((previous / "shards").glob("*"))}
