"""The audit run as plain functions; the DAG only wires them together.

prepare_run -> [shard_dir]   reads the registry, writes one directory per shard (balanced
                             by expected work, within Airflow's max_map_length)
harvest_shard(shard_dir)     crawls the shard's portals, writes harvest.jsonl + fetches
audit_shard(shard_dir)       presence rules -> obligation_checks, findings, resources
load_run(run_dir, shards)    the single writer: merges every shard into DuckDB
record_failure(params, id)   marks a run that could not finish as failed in the warehouse

Only paths cross task boundaries (they travel through XCom), so every step can be retried,
run on another worker, or inspected by hand. Every step rewrites its own outputs whole, so a
retry leaves no trace of the failed attempt.
"""

from __future__ import annotations

import hashlib
import heapq
import json
import logging
import math
import os
import re
import shutil
import statistics
import tempfile
import traceback
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

from audit.catalog import CatalogError, load_catalog
from audit.presence import audit_presence
from audit.registry import RegistryError, load_registry
from audit.subjects import Subject
from lupa.config import Settings
from warehouse.target import is_lake, resolve_target, target_exists

log = logging.getLogger(__name__)

MANIFEST = "manifest.json"
SUBJECTS_FILE = "subjects.json"
HARVEST_FILE = "harvest.jsonl"
HARVEST_ERRORS = "harvest_errors.json"
EVIDENCE_FILE = "evidence.warc.gz"  # every response of the shard (scrapers.evidence)
AUDIT_ERRORS = "audit_errors.json"
DATA_DOCS_DIR = "data_docs"
DATA_DOCS_FILE = "data_docs.json"
# Datasets rendered in a shard's Data Docs site: those failing a check, then some passing.
DOCS_FAILING = 60
DOCS_PASSING = 10
# Airflow refuses to map more task instances than [core] max_map_length (1024 by default):
# a run has at most min(MAX_SHARDS, that) shards (``shard_limit``).
MAX_SHARDS = 1000
DEFAULT_MAX_MAP_LENGTH = 1024
# Expected work (requests) of a subject when no subject of the run has a previous run.
DEFAULT_WORK = 100
# Per shard: its subjects' expected work and the previous shards holding them (prepare_run).
SHARD_PLAN = "shard.json"


class RunConfigurationError(ValueError):
    """The run cannot start as configured (no registry, bad params): retrying won't help."""


def run_dir_name(run_id: str) -> str:
    """A run id as a directory name: readable, unique, and unable to leave ``runs/``."""
    readable = re.sub(r"[^A-Za-z0-9_-]+", "_", run_id).strip("_")[:80] or "run"
    return f"{readable}-{hashlib.sha256(run_id.encode()).hexdigest()[:8]}"


def _write_json(path: Path, data) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile("w", dir=path.parent, delete=False, suffix=".tmp",
                                     encoding="utf-8") as handle:
        json.dump(data, handle, ensure_ascii=False, indent=1, default=str)
    os.replace(handle.name, path)


def _read_json(path: Path, default=None):
    if default is not None and not path.exists():
        return default
    return json.loads(path.read_text(encoding="utf-8"))


def resolve_params(params: dict, settings: Settings | None = None,
                   default_as_of: date | None = None) -> dict:
    """A run's parameters from the DAG params, over the installation settings.

    ``allow_private_networks`` can only narrow what the installation allows: a DAG param
    must not let whoever triggers a run point the crawler at internal addresses.
    ``as_of`` defaults to the run's logical date, so a re-run audits the same "today".
    """
    settings = settings or Settings.from_env()
    registry = params.get("registry") or os.environ.get("LUPA_REGISTRY") or str(
        settings.home / "registry.csv")
    as_of = params.get("as_of") or (default_as_of or date.today()).isoformat()
    try:
        date.fromisoformat(as_of)
    except ValueError as exc:
        raise RunConfigurationError(f"as_of must be YYYY-MM-DD, got {as_of!r}") from exc
    wants_private = params.get("allow_private_networks")
    if wants_private and not settings.allow_private_networks:
        raise RunConfigurationError(
            "allow_private_networks was requested but this installation refuses private "
            "addresses (set LUPA_ALLOW_PRIVATE_NETWORKS=1 where that is intended)")
    _check_allowed_endpoints(settings.allowed_endpoints)
    delay = params.get("delay_seconds")
    shard_size = _shard_number("shard_size", params.get("shard_size"), "params")
    if shard_size is None:
        shard_size = _shard_number("shard_size", settings.shard_size, "LUPA_SHARD_SIZE")
    # shard_count, when given (param, else LUPA_SHARD_COUNT), wins over shard_size
    shard_count = _shard_number("shard_count", params.get("shard_count"), "params")
    if shard_count is None:
        shard_count = _shard_number("shard_count", settings.shard_count, "LUPA_SHARD_COUNT")
    return {
        "registry": str(Path(registry).expanduser().resolve()),
        "subjects": [str(s).strip() for s in (params.get("subjects") or []) if str(s).strip()],
        "law": params.get("law") or settings.law,
        "as_of": as_of,
        "shard_size": shard_size or Settings.shard_size,
        "shard_count": shard_count,
        "allow_private_networks": settings.allow_private_networks and wants_private is not False,
        "delay_seconds": float(settings.delay_seconds if delay in (None, "") else delay),
        "warehouse": resolve_target(params.get("warehouse") or settings.warehouse),
        "home": str(settings.home),
        "settings": settings.as_dict(),
    }


def _check_allowed_endpoints(endpoints: tuple[str, ...]) -> None:
    from scrapers.netguard import NetGuard

    try:
        NetGuard(allowed_endpoints=endpoints)
    except ValueError as exc:
        raise RunConfigurationError(f"LUPA_ALLOWED_ENDPOINTS: {exc}") from exc


def _shard_number(name: str, value, source: str) -> int | None:
    """A shard size or count: None when not given (None or empty), else a whole number of
    at least 1; anything else is a configuration error naming where it came from."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    number = None
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif isinstance(value, float) and value.is_integer():
        number = int(value)
    elif isinstance(value, str) and re.fullmatch(r"[+-]?\d+", value.strip()):
        number = int(value.strip())
    if number is None or number < 1:
        raise RunConfigurationError(
            f"{name} must be a whole number of at least 1, got {value!r} ({source})")
    return number


def max_map_length() -> int:
    """Airflow's ``[core] max_map_length`` (how many task instances one XCom may map), or
    its default, 1024, where Airflow is not installed or its configuration cannot be read."""
    try:
        from airflow.configuration import conf
    except Exception:  # no Airflow here (or it cannot start): its default limit
        return DEFAULT_MAX_MAP_LENGTH
    try:
        return conf.getint("core", "max_map_length", fallback=DEFAULT_MAX_MAP_LENGTH)
    except Exception as exc:  # a malformed value: Airflow's default
        log.warning("cannot read [core] max_map_length (%s); assuming %d", exc,
                    DEFAULT_MAX_MAP_LENGTH)
        return DEFAULT_MAX_MAP_LENGTH


def shard_limit() -> int:
    """The most shards a run may have: the mapped harvest and audit tasks must stay within
    Airflow's ``max_map_length``, and MAX_SHARDS bounds them regardless."""
    return max(1, min(MAX_SHARDS, max_map_length()))


@dataclass
class ShardPlan:
    """How a run's subjects are split: the shards (heaviest subject first in each), the
    expected work of each (requests), and how the count was chosen."""

    shards: list[list[Subject]]
    work: list[float]  # expected work per shard: the sum of its subjects' costs
    costs: dict[str, float]  # expected work per subject (known or estimated)
    wanted: int  # shards the params asked for (shard_count, or subjects / shard_size)
    limit: int  # min(MAX_SHARDS, [core] max_map_length)
    capped: bool  # the limit lowered the count: shards are larger than asked
    known: int  # subjects whose cost is their previous run's request count
    estimate: float  # the cost assumed for the others

    def summary(self) -> dict:
        """The run manifest's ``sharding`` entry (benchmarks report balance from it)."""
        mean = sum(self.work) / len(self.work) if self.work else 0.0
        top = max(self.work, default=0.0)
        return {
            "shards": len(self.shards), "wanted": self.wanted, "limit": self.limit,
            "capped": self.capped, "subjects": [len(s) for s in self.shards],
            "expected_work": [round(w, 1) for w in self.work],
            "work_known": self.known, "work_estimate": round(self.estimate, 1),
            "max_work": round(top, 1), "mean_work": round(mean, 1),
            "balance": round(top / mean, 4) if mean else 1.0,
        }


def plan_shards(subjects: list[Subject], shard_size: int | None = None,
                shard_count: int | None = None, work: dict[str, float] | None = None,
                limit: int | None = None) -> ShardPlan:
    """Split the subjects into shards of about equal expected work.

    The count is ``shard_count`` when given, else ``ceil(subjects / shard_size)``; never
    more than the subjects, nor than ``limit`` (default ``shard_limit()``: the shards grow
    instead, and that is logged). A subject's expected work is ``work[subject_id]`` (the
    requests its previous run made) when positive, else the median of the known ones, else
    DEFAULT_WORK. Longest processing time first: subjects by decreasing cost (ties by
    subject id) each go to the shard with the least work so far (ties: the lowest number),
    so the result depends only on the subjects and costs, not on the registry's order, and
    equal costs deal subjects round-robin (shard sizes differ by at most one).
    """
    if not subjects:
        raise ValueError("no subject to shard")
    if shard_count is None:
        wanted = math.ceil(len(subjects) / max(1, shard_size or Settings.shard_size))
    else:
        wanted = shard_count
    wanted = max(1, wanted)
    limit = max(1, shard_limit() if limit is None else limit)
    count = min(wanted, len(subjects), limit)
    capped = count < min(wanted, len(subjects))
    if capped:
        log.warning("%d shards wanted for %d subjects, but at most %d can be mapped "
                    "(min of MAX_SHARDS=%d and Airflow's [core] max_map_length): using %d "
                    "shards of about %d subjects", wanted, len(subjects), limit, MAX_SHARDS,
                    count, math.ceil(len(subjects) / count))
    work = work or {}
    known = [float(work[s.subject_id]) for s in subjects if (work.get(s.subject_id) or 0) > 0]
    estimate = statistics.median(known) if known else float(DEFAULT_WORK)
    costs = {s.subject_id: float(work.get(s.subject_id) or 0) or estimate for s in subjects}
    shards: list[list[Subject]] = [[] for _ in range(count)]
    loads = [0.0] * count
    heap = [(0.0, number) for number in range(count)]
    for subject in sorted(subjects, key=lambda s: (-costs[s.subject_id], s.subject_id)):
        load, number = heapq.heappop(heap)
        shards[number].append(subject)
        loads[number] = load + costs[subject.subject_id]
        heapq.heappush(heap, (loads[number], number))
    return ShardPlan(shards, loads, costs, wanted, limit, capped, len(known), estimate)


def shard_subjects(subjects: list[Subject], shard_size: int | None = None,
                   shard_count: int | None = None, work: dict[str, float] | None = None
                   ) -> list[list[Subject]]:
    """The shards of ``plan_shards`` alone."""
    return plan_shards(subjects, shard_size, shard_count, work).shards


def _select(subjects: list[Subject], wanted: list[str], registry: str) -> list[Subject]:
    if not wanted:
        return subjects
    known = {s.subject_id for s in subjects}
    unknown = sorted(set(wanted) - known)
    if unknown:
        raise RunConfigurationError(f"subjects not in {registry} (or rejected there): "
                                    f"{', '.join(unknown[:20])}")
    chosen = set(wanted)
    return [s for s in subjects if s.subject_id in chosen]


def prepare_run(params: dict, run_id: str, settings: Settings | None = None,
                default_as_of: date | None = None) -> list[str]:
    """Read the registry and split the subjects into shard directories."""
    from warehouse.shards import write_table

    conf = resolve_params(params, settings, default_as_of)
    try:
        registry = load_registry(conf["registry"])
        load_catalog(conf["law"])
    except (RegistryError, CatalogError) as exc:
        hint = "" if params.get("registry") else (
            " (no registry param given: set LUPA_REGISTRY or pass params.registry)")
        raise RunConfigurationError(f"{exc}{hint}") from exc
    for issue in registry.issues:
        log.warning("registry %s: %s", conf["registry"], issue)
    subjects = _select(registry.subjects, conf["subjects"], conf["registry"])
    if not subjects:
        raise RunConfigurationError(f"{conf['registry']}: no valid subject to audit "
                                    f"({registry.rejected_rows} row(s) rejected)")
    run_dir = Path(conf["home"]) / "runs" / run_dir_name(run_id)
    write_table(run_dir, "registry_errors", [
        {"run_id": run_id, "line": i.line, "column_name": i.column, "value": i.value,
         "message": i.message} for i in registry.issues])
    started_at = datetime.now(UTC)
    as_of, ids = date.fromisoformat(conf["as_of"]), [s.subject_id for s in subjects]
    if is_lake(conf["warehouse"]):
        from warehouse.schema import connect

        # create or migrate the lake now: the workers' commits and the reads below need it
        connect(conf["warehouse"]).close()
    priors = previous_run_rows(conf["warehouse"], _PRIOR_FETCHES, run_id, ids, as_of,
                               started_at, out=run_dir / PRIORS_FILE)
    work = dict(previous_run_rows(conf["warehouse"], _PREVIOUS_WORK, run_id, ids, as_of,
                                  started_at) or [])
    plan = plan_shards(subjects, conf["shard_size"], conf["shard_count"], work)
    previous = previous_shard_map(Path(conf["home"]), priors, plan.shards)
    shard_dirs = []
    for number, (members, expected, held) in enumerate(
            zip(plan.shards, plan.work, previous, strict=True)):
        shard_dir = run_dir / "shards" / f"{number:04d}"
        _write_json(shard_dir / SUBJECTS_FILE, [asdict(s) for s in members])
        _write_json(shard_dir / SHARD_PLAN, {
            "expected_work": round(expected, 1),
            "subject_work": {s.subject_id: plan.costs[s.subject_id] for s in members},
            "previous_shards": held})
        shard_dirs.append(str(shard_dir))
    _remove_stale_shards(run_dir, shard_dirs)
    sharding = plan.summary()
    _write_json(run_dir / MANIFEST, {
        "run_id": run_id, "started_at": started_at.isoformat(), **conf,
        "priors": str(priors) if priors else None,
        "registry_rows": registry.rows,
        "registry_rejected_rows": registry.rejected_rows,
        "subjects_selected": len(subjects),
        "registry_issues": [asdict(issue) for issue in registry.issues],
        "shards": shard_dirs,
        "sharding": sharding,
    })
    log.info("run %s: %d subjects in %d shards (%d registry rows rejected); expected work "
             "per shard max %.1f, mean %.1f requests (%d subjects known from their previous "
             "run, the others estimated at %.1f)", run_id, len(subjects), len(shard_dirs),
             registry.rejected_rows, sharding["max_work"], sharding["mean_work"], plan.known,
             plan.estimate)
    return shard_dirs


def _remove_stale_shards(run_dir: Path, shard_dirs: list[str]) -> None:
    """A retried prepare that makes fewer shards removes the extra ones of the attempt
    before, so that nothing (the next run's previous_shard_map) mistakes them for shards."""
    keep = {Path(d).name for d in shard_dirs}
    for stale in sorted((run_dir / "shards").iterdir()):
        if stale.name not in keep and stale.is_dir():
            shutil.rmtree(stale)


def previous_shard_map(home: Path, priors: Path | None, shards: list[list[Subject]]
                       ) -> list[dict[str, list[str]]]:
    """Per new shard, ``{previous run: [its shard directories]}``: the runs ``load_priors``
    names for the shard's subjects (their previous runs, from ``priors``), each with only
    the shards of that run that held any of the shard's subjects (per its ``subjects.json``;
    a shard whose subjects cannot be read is kept, to be safe). The harvest reads carried
    summaries and the audit carried expectation results there alone, instead of every shard
    of those runs, and finds the same rows: a shard's files only hold its own subjects."""
    import duckdb

    if not priors or not Path(priors).exists():
        return [{} for _ in shards]
    with duckdb.connect() as con:  # a national run's priors: about a million rows
        pairs = con.execute("SELECT DISTINCT subject_id, previous_run FROM read_parquet($path)",
                            {"path": str(priors)}).fetchall()
    runs_of: dict[str, set[str]] = {}
    for subject_id, run in pairs:
        runs_of.setdefault(subject_id, set()).add(run)
    held: dict[str, dict[str, set[Path]]] = {}  # run -> subject -> its shard directories
    unknown: dict[str, set[Path]] = {}  # run -> shards whose subjects cannot be read
    for run in sorted({run for runs in runs_of.values() for run in runs}):
        held[run], unknown[run] = {}, set()
        for shard in (home / "runs" / run_dir_name(run) / "shards").glob("*"):
            try:
                members = [row["subject_id"] for row in _read_json(shard / SUBJECTS_FILE)]
            except (OSError, ValueError, TypeError, KeyError):
                unknown[run].add(shard)
                continue
            for subject_id in members:
                held[run].setdefault(subject_id, set()).add(shard)
    out = []
    for members in shards:
        ids = [s.subject_id for s in members]
        out.append({run: [str(d) for d in sorted(
            {d for i in ids for d in held[run].get(i, ())} | unknown[run])]
            for run in sorted({run for i in ids for run in runs_of.get(i, ())})})
    return out


def previous_shard_dirs(shard_dir: str | Path, home: str | Path, runs
                        ) -> dict[str, list[Path]]:
    """The shard directories of each of ``runs`` (previous runs) that may hold this shard's
    subjects: those ``prepare_run`` recorded in the shard's SHARD_PLAN, or, for a run it did
    not record (a shard prepared by an older version), every shard of that run."""
    recorded = _read_json(Path(shard_dir) / SHARD_PLAN, default={}).get("previous_shards")
    out = {}
    for run in sorted(runs):
        if recorded is not None and run in recorded:
            out[run] = [Path(d) for d in recorded[run]]
        else:
            out[run] = sorted((Path(home) / "runs" / run_dir_name(run) / "shards").glob("*"))
    return out


def run_dir_of(shard_dir: str | Path) -> Path:
    return Path(shard_dir).parent.parent


def read_manifest(shard_dir: str | Path) -> dict:
    return _read_json(run_dir_of(shard_dir) / MANIFEST)


def read_subjects(shard_dir: str | Path) -> list[Subject]:
    return [Subject(**row) for row in _read_json(Path(shard_dir) / SUBJECTS_FILE)]


def _failure(subject: Subject, stage: str, exc: Exception) -> dict:
    """A Lupa bug on one subject must not sink its shard: record it and go on."""
    log.exception("%s of %s (%s) failed", stage, subject.subject_id, subject.portal_url)
    return {"subject_id": subject.subject_id, "stage": stage,
            "error": f"{type(exc).__name__}: {exc}",
            "traceback": traceback.format_exc(limit=8)}


def _fetch_policy(manifest: dict):
    from scrapers.fetch import FetchPolicy

    settings = manifest["settings"]
    return FetchPolicy(
        contact_url=settings["contact_url"],
        connect_timeout=settings["connect_timeout"],
        read_timeout=settings["read_timeout"],
        max_bytes=settings["max_bytes"],
        delay_seconds=manifest["delay_seconds"],
        allow_private_networks=manifest["allow_private_networks"],
        allowed_endpoints=tuple(settings.get("allowed_endpoints") or ()),
    )


def harvest_shard(shard_dir: str) -> str:
    """Crawl every portal of a shard, several at a time; one bad portal never fails it."""
    from audit.formats import load_formats
    from lupa.documents import DocumentReader, carried_documents, check_harvest_links
    from scrapers.crawl import CrawlSettings, crawl_portal
    from scrapers.evidence import WarcArchive
    from scrapers.fetch import Fetcher
    from warehouse.shards import write_table

    manifest = read_manifest(shard_dir)
    subjects = read_subjects(shard_dir)
    catalog = load_catalog(manifest["law"])
    settings = manifest["settings"]
    crawl_settings = CrawlSettings(max_clicks=settings["max_clicks"],
                                   max_pages=settings["max_pages"])
    errors: list[dict] = []

    reader = DocumentReader(shard_dir, load_formats(manifest["law"]))

    def crawl(subject: Subject):
        try:
            harvest = crawl_portal(subject, fetcher, catalog, crawl_settings, reader=reader)
            check_harvest_links(harvest, fetcher)
            return harvest
        except Exception as exc:
            errors.append(_failure(subject, "harvest", exc))
            return None

    path = Path(shard_dir)
    ids = {s.subject_id for s in subjects}
    priors, previous_runs = load_priors(manifest.get("priors"), ids)
    # only the previous shards that held this shard's subjects (prepare_run recorded them)
    reader.carried = carried_documents(
        [shard for shards in previous_shard_dirs(path, manifest["home"], previous_runs).values()
         for shard in shards], ids)
    with WarcArchive(path / EVIDENCE_FILE) as archive, \
            Fetcher(_fetch_policy(manifest), archive=archive, priors=priors) as fetcher, \
            ThreadPoolExecutor(max_workers=max(1, settings["harvest_threads"])) as pool:
        harvests = [h for h in pool.map(crawl, subjects) if h is not None]

    run_id = manifest["run_id"]
    store = settings.get("evidence_store")
    if store:
        _move_evidence(path, f"{store.rstrip('/')}/{run_dir_name(run_id)}/{path.name}/"
                             f"{EVIDENCE_FILE}", harvests)
    write_table(path, "fetches", [
        {**row, "run_id": run_id, "subject_id": harvest.subject_id}
        for harvest in harvests for row in harvest.fetches])
    tmp = path / (HARVEST_FILE + ".tmp")
    with tmp.open("w", encoding="utf-8") as handle:
        for harvest in harvests:
            handle.write(json.dumps(harvest.to_dict(), ensure_ascii=False, default=str) + "\n")
    os.replace(tmp, path / HARVEST_FILE)
    _write_json(path / HARVEST_ERRORS, errors)
    log.info("harvest %s: %d files read, %d carried forward unchanged (304)", shard_dir,
             reader.read, reader.reused)
    return shard_dir


def audit_shard(shard_dir: str) -> str:
    """Presence, then usefulness, then data quality, for every harvested portal of a shard."""
    from audit.formats import load_formats
    from scrapers.crawl import PortalHarvest
    from warehouse.shards import write_table

    manifest = read_manifest(shard_dir)
    run_id = manifest["run_id"]
    as_of = date.fromisoformat(manifest["as_of"])
    catalog = load_catalog(manifest["law"])
    formats = load_formats(manifest["law"])
    subjects = {s.subject_id: s for s in read_subjects(shard_dir)}
    path = Path(shard_dir)
    checks, findings, resources, errors, datasets = [], [], [], [], []
    carried: dict[tuple[str, str], str] = {}  # (subject, url) -> run whose results to reuse
    with (path / HARVEST_FILE).open(encoding="utf-8") as handle:
        for line in handle:
            harvest = PortalHarvest.from_dict(json.loads(line))
            subject = subjects[harvest.subject_id]
            try:
                result = audit_presence(subject, harvest, catalog.applicability(subject), run_id)
                found = audit_usefulness(subject, harvest, result, catalog, formats, as_of,
                                         run_id)
            except Exception as exc:
                errors.append(_failure(subject, "audit", exc))
                continue
            checks.extend(result.checks)
            findings.extend(f.as_row() for f in [*result.findings, *found.findings])
            resources.extend(with_evidence(result.resources, harvest.fetches))
            datasets.extend(found.datasets)
            carried.update({(subject.subject_id, url): summary["carried_from"]
                            for url, summary in _published_files(harvest).items()
                            if summary.get("carried_from")})
    reused = carried_expectation_rows(Path(manifest["home"]), run_id, datasets, carried,
                                      shard_dir=path)
    fresh = [d for d in datasets if (d[0], d[2]) not in reused]
    quality, docs_index = validate_shard_datasets(
        path, fresh, run_id, as_of, manifest["law"],
        carried_rows=[row for rows in reused.values() for row in rows])
    findings.extend(f.as_row() for f in quality.findings)
    write_table(path, "obligation_checks", checks)
    write_table(path, "findings", findings)
    write_table(path, "resources", resources)
    write_table(path, "expectation_results", quality.rows)
    _write_json(path / AUDIT_ERRORS, errors)
    _write_json(path / DATA_DOCS_FILE, {"index": str(docs_index) if docs_index else None,
                                        **quality.stats, "errors": quality.errors})
    if is_lake(manifest["warehouse"]):  # several workers commit to a DuckLake at once
        from warehouse.loader import commit_shard

        committed = commit_shard(manifest["warehouse"], run_id, path)
        log.info("committed shard %s to the lake: %s rows (%d attempt(s))", path.name,
                 committed.rows, committed.attempts)
    return shard_dir


@dataclass
class UsefulnessFindings:
    findings: list = field(default_factory=list)
    datasets: list = field(default_factory=list)  # (subject, obligation, url, path, format)


def with_evidence(resources: list[dict], fetches: list[dict]) -> list[dict]:
    """``resources`` rows with the WARC record of the fetch that read each file, and the run
    that received its body (``observed_run``, set when the server answered 304)."""
    refs: dict[str, dict] = {}
    for row in fetches:
        if row.get("evidence_ref") and row.get("purpose") == "resource":
            refs.setdefault(row["url"], row)
    return [{**row, "evidence_ref": refs.get(row["url"], {}).get("evidence_ref"),
             "observed_run": refs.get(row["url"], {}).get("observed_run")}
            for row in resources]


def _published_files(harvest) -> dict[str, dict]:
    """Reader summaries by file URL, over every obligation page of the harvest."""
    return {r.url: r.document for hit in harvest.hits for r in hit.resources if r.document}


def _attribute_shared_files(harvest, presence, summaries: dict, catalog, formats) -> None:
    """Files listed on a page that covers several obligations (a fraction page listing each
    sub-format's files) are counted by presence for every one of them; keep each file only
    under the obligation it belongs to, when that can be told."""
    from audit.obligations import ObligationRef
    from audit.usefulness import file_obligation

    listed: dict[str, tuple[str, str]] = {}  # file URL -> (link text, hit obligation id)
    for hit in harvest.hits:
        for res in hit.resources:
            listed.setdefault(res.url, (res.text or "", hit.obligation_id))
    by_url: dict[str, list[dict]] = {}
    for row in presence.resources:
        by_url.setdefault(row["url"], []).append(row)
    drop: set[int] = set()
    for url, rows in by_url.items():
        if len(rows) < 2 or url not in listed:
            continue
        text, hit_id = listed[url]
        covered = {row["obligation_id"] for row in rows}
        if ObligationRef.parse(hit_id).subformat:
            owner = hit_id if hit_id in covered else None
        else:
            owner = file_obligation(url, text, summaries.get(url), covered, catalog, formats)
        if owner is not None:
            drop.update(id(row) for row in rows if row["obligation_id"] != owner)
    presence.resources[:] = [row for row in presence.resources if id(row) not in drop]


def audit_usefulness(subject: Subject, harvest, presence, catalog, formats, as_of: date,
                     run_id: str) -> UsefulnessFindings:
    """Apply the usefulness rules to every present obligation of one portal, amending the
    presence result in place: each check gets its freshness, each resource row what the
    reader saw, and an obligation whose every file only justifies an absence turns
    'justified'."""
    from audit.usefulness import JUSTIFIED_STATUS, PublishedFile, assess_obligation

    summaries = _published_files(harvest)
    _attribute_shared_files(harvest, presence, summaries, catalog, formats)
    rows_by_obligation: dict[str, list[dict]] = {}
    for row in presence.resources:
        rows_by_obligation.setdefault(row["obligation_id"], []).append(row)
    out = UsefulnessFindings()
    for check in presence.checks:
        if check["status"] != "present":
            continue
        oid = check["obligation_id"]
        rows = rows_by_obligation.get(oid, [])
        files = [PublishedFile(row["url"], summaries[row["url"]]) for row in rows
                 if row["url"] in summaries]
        if not files:
            continue
        verdict = assess_obligation(catalog.get(oid), files, formats, as_of, run_id,
                                    subject.subject_id)
        out.findings.extend(verdict.findings)
        for row in rows:
            row.update(verdict.resource_facts.get(row["url"], {}))
        out.datasets.extend((subject.subject_id, oid, url, dataset, fmt)
                            for url, dataset, fmt in verdict.datasets)
        fresh = verdict.freshness
        if fresh is not None:
            check.update(latest_period_end=fresh.reported_period_end,
                         due_period_end=fresh.due_period_end,
                         periods_behind=fresh.periods_behind,
                         missing_years=list(fresh.missing_years))
        if verdict.justified_note is not None:
            check.update(status=JUSTIFIED_STATUS, note=verdict.justified_note[:500])
    return out


@dataclass
class QualityResults:
    rows: list = field(default_factory=list)
    findings: list = field(default_factory=list)
    stats: dict = field(default_factory=dict)
    errors: list = field(default_factory=list)


def carried_expectation_rows(home: Path, run_id: str, datasets: list,
                             carried: dict[tuple[str, str], str],
                             shard_dir: str | Path | None = None) -> dict:
    """The previous run's expectation rows of every dataset carried forward unchanged
    ((subject, url) -> rows, run_id set to this run, observed_run kept): those datasets are
    not validated again. A dataset whose rows cannot be found is validated as usual. With
    ``shard_dir`` (this run's shard), only the previous shards that held its subjects are
    read (``previous_shard_dirs``); without, every shard of each previous run."""
    import pyarrow.parquet as pq

    wanted = {(d[0], d[2]) for d in datasets if (d[0], d[2]) in carried}
    if not wanted:
        return {}
    runs = sorted({carried[key] for key in wanted})
    if shard_dir is not None:
        shards_of = previous_shard_dirs(shard_dir, home, runs)
    else:
        shards_of = {run: sorted((home / "runs" / run_dir_name(run) / "shards").glob("*"))
                     for run in runs}
    out: dict[tuple[str, str], list[dict]] = {}
    for previous in runs:
        for shard in shards_of[previous]:
            path = shard / "expectation_results.parquet"
            if not path.exists():
                continue
            urls = sorted({url for subject, url in wanted if carried[(subject, url)] == previous})
            for row in pq.read_table(path, filters=[("resource_url", "in", urls)]).to_pylist():
                key = (row["subject_id"], row["resource_url"])
                if key in wanted and carried[key] == previous:
                    out.setdefault(key, []).append(
                        {**row, "run_id": run_id,
                         "observed_run": row.get("observed_run") or previous})
    return out


def validate_shard_datasets(shard: Path, datasets: list, run_id: str, as_of: date, law: str,
                            carried_rows: list[dict] | None = None
                            ) -> tuple[QualityResults, Path | None]:
    """Run the expectation suites over every dataset of the shard (one GX context, datasets
    of one layout validated together), then build the shard's Data Docs site for the
    datasets that failed a check (at most DOCS_FAILING) plus a few that passed (DOCS_PASSING),
    since rendering costs about a tenth of a second per dataset. Lupa's own failures on a
    dataset (never blamed on the publisher) are kept in ``QualityResults.errors`` and logged;
    the other datasets go on. ``carried_rows`` (unchanged datasets' earlier results) join the
    rows and the DATA_QUALITY findings without being validated again."""
    carried_rows = carried_rows or []
    if not datasets:
        from expectations.runner import data_quality_findings

        return QualityResults(carried_rows, data_quality_findings(carried_rows),
                              {"datasets": 0, "datasets_carried": _datasets_in(carried_rows)}
                              ), None
    import pandas as pd

    from expectations.runner import Dataset, data_quality_findings, validate_datasets

    def frames(chosen):
        for subject_id, oid, url, dataset, fmt in chosen:
            yield Dataset(subject_id, oid, url, pd.read_parquet(shard / dataset), fmt)

    results = validate_datasets(frames(datasets), run_id, None, as_of=as_of, law=law)
    for error in results.errors:
        log.warning("expectations could not run on %s: %s", error.get("resource_url"),
                    error.get("error"))
    rows = [dict(row) for row in results]
    failing = {row["resource_url"] for row in rows if not row["success"]}
    rows += carried_rows
    shown = ([d for d in datasets if d[2] in failing][:DOCS_FAILING]
             + [d for d in datasets if d[2] not in failing][:DOCS_PASSING])
    docs_dir = shard / DATA_DOCS_DIR
    shutil.rmtree(docs_dir, ignore_errors=True)  # a retry starts a fresh site
    docs = validate_datasets(frames(shown), run_id, docs_dir, as_of=as_of, law=law)
    stats = {**results.stats, "datasets_failing": len(failing), "datasets_in_docs": len(shown),
             "datasets_carried": _datasets_in(carried_rows)}
    return (QualityResults(rows, data_quality_findings(rows), stats, results.errors),
            docs.docs_index)


def _datasets_in(rows: list[dict]) -> int:
    return len({(row["subject_id"], row["resource_url"]) for row in rows})


def shard_errors(shard_dirs: list[str]) -> list[dict]:
    errors = []
    for shard_dir in shard_dirs:
        for name in (HARVEST_ERRORS, AUDIT_ERRORS):
            errors.extend(_read_json(Path(shard_dir) / name, default=[]))
    return errors


def load_run(run_dir: str, shard_dirs: list[str]) -> dict:
    """Merge every shard of a run into the warehouse in one transaction (idempotent)."""
    from warehouse.loader import load_run as load_into_warehouse

    manifest = _read_json(Path(run_dir) / MANIFEST)
    catalog = load_catalog(manifest["law"])
    errors = shard_errors(shard_dirs)
    failed = sorted({e["subject_id"] for e in errors})
    subjects = [asdict(s) for d in shard_dirs for s in read_subjects(d)]
    run = {
        "run_id": manifest["run_id"],
        "started_at": manifest["started_at"],
        "finished_at": datetime.now(UTC).isoformat(),
        "as_of": manifest["as_of"],
        "law": manifest["law"],
        "registry": manifest["registry"],
        "subjects_total": manifest["registry_rows"],
        "subjects_audited": len(subjects) - len(failed),
        "registry_errors": manifest["registry_rejected_rows"],
        "error": (f"{len(failed)} subject(s) could not be audited because of an internal "
                  f"error: {', '.join(failed[:20])}") if failed else None,
        "params": json.dumps({k: manifest.get(k) for k in ("subjects", "shard_size",
                                                             "shard_count",
                                                             "allow_private_networks",
                                                             "delay_seconds")}),
    }
    history_dir = write_history_findings(Path(run_dir), manifest, shard_dirs, catalog)
    # The run directory holds registry_errors.parquet (and history/ the history findings);
    # the loader reads every table file it finds in the directories it is given.
    report = load_into_warehouse(
        manifest["warehouse"], run,
        [Path(d) for d in shard_dirs] + [Path(run_dir), history_dir], subjects,
        catalog.obligation_rows(),
    )
    docs = write_data_docs_index(Path(run_dir), manifest["run_id"], shard_dirs)
    summary = {"run_id": manifest["run_id"], "warehouse": manifest["warehouse"],
               "subject_errors": errors, "rows": report.counts,
               "data_docs": str(docs) if docs else None}
    keep = int(manifest["settings"].get("retention_runs") or 0)
    if keep:
        from lupa.retention import prune_runs

        pruned = prune_runs(Path(manifest["home"]), manifest["warehouse"], keep)
        summary["pruned_run_dirs"] = pruned.removed
        log.info("retention (%d runs): removed %d run directories, %.1f MB", keep,
                 len(pruned.removed), pruned.freed_bytes / 2**20)
    _write_json(Path(run_dir) / "load_report.json", summary)
    return summary


HISTORY_DIR = "history"

# Each subject's previous run: the latest successful run that covered it before this one,
# by cut-off date then start time (as v_score_history orders runs).
_PREVIOUS_RUNS = """
    WITH previous AS (
        SELECT rs.subject_id, r.run_id,
               row_number() OVER (PARTITION BY rs.subject_id
                                  ORDER BY r.as_of DESC, r.started_at DESC, r.run_id DESC) AS n
        FROM run_subjects AS rs
        JOIN runs AS r USING (run_id)
        WHERE r.status = 'success' AND r.run_id <> $run_id
          AND rs.subject_id IN (SELECT unnest($subjects::VARCHAR[]))
          AND (r.as_of < $as_of OR (r.as_of = $as_of AND r.started_at < $started_at))
    )"""
_PREVIOUS_VERSIONS = _PREVIOUS_RUNS + """
    SELECT x.run_id, x.subject_id, x.obligation_id, x.url, x.sha256, x.period_end,
           x.updated_at
    FROM resources AS x
    JOIN previous AS p ON p.run_id = x.run_id AND p.subject_id = x.subject_id AND p.n = 1
    WHERE coalesce(x.status_code, 200) BETWEEN 200 AND 299"""
# What each subject's previous run received whole, with validators: the next harvest asks
# the server whether it changed (scrapers.fetch.Prior).
_PRIOR_FETCHES = _PREVIOUS_RUNS + """
    SELECT f.subject_id, f.final_url AS url, f.etag, f.last_modified, f.sha256,
           f.evidence_ref, coalesce(f.observed_run, f.run_id) AS run_id,
           f.run_id AS previous_run
    FROM fetches AS f
    JOIN previous AS p ON p.run_id = f.run_id AND p.subject_id = f.subject_id AND p.n = 1
    WHERE f.evidence_ref IS NOT NULL AND f.error IS NULL AND f.sha256 IS NOT NULL
      AND f.status_code BETWEEN 200 AND 299
      AND (f.etag IS NOT NULL OR f.last_modified IS NOT NULL)
    -- one response per URL (its validators, digest and record together): the latest
    QUALIFY row_number() OVER (PARTITION BY f.subject_id, f.final_url
                               ORDER BY f.fetched_at DESC, f.evidence_ref DESC) = 1"""
PRIORS_FILE = "prior_fetches.parquet"
# Each subject's expected work for shard balancing: the requests its previous run made
# (an unreachable portal's few; none recorded, e.g. Lupa failed on it: unknown).
_PREVIOUS_WORK = _PREVIOUS_RUNS + """
    SELECT p.subject_id, count(f.subject_id) AS requests
    FROM previous AS p
    LEFT JOIN fetches AS f ON f.run_id = p.run_id AND f.subject_id = p.subject_id
    WHERE p.n = 1
    GROUP BY p.subject_id"""


def previous_run_rows(warehouse: str, query: str, run_id: str, subjects: list[str],
                      as_of: date, started_at: datetime, out: Path | None = None):
    """Rows of ``query`` (one of the _PREVIOUS_* queries) over each subject's previous run;
    with ``out``, written there as Parquet instead. None when there is no warehouse yet."""
    from warehouse.schema import connect

    if not target_exists(warehouse) or not subjects:
        return None
    params = {"run_id": run_id, "subjects": subjects, "as_of": as_of,
              "started_at": started_at.astimezone(UTC).replace(tzinfo=None)}
    con = connect(warehouse, read_only=True, lock_timeout=60)
    try:
        if out is not None:
            out.parent.mkdir(parents=True, exist_ok=True)
            con.execute(f"COPY ({query}) TO '{str(out).replace(chr(39), chr(39) * 2)}' "
                        "(FORMAT parquet)", params)
            return out
        return con.execute(query, params).fetchall()
    finally:
        con.close()


def write_history_findings(run_dir: Path, manifest: dict, shard_dirs: list[str],
                           catalog) -> Path:
    """REMOVED_EARLY and SILENT_EDIT against each subject's previous run in the warehouse,
    written as ``<run_dir>/history/findings.parquet`` for the loader."""
    from audit.freshness import required_years
    from audit.history import Version, history_findings
    from warehouse.shards import read_table, write_table

    current, statuses = [], {}
    for shard in shard_dirs:
        current += [_version(row) for row in read_table(shard, "resources")]
        statuses.update({(row["subject_id"], row["obligation_id"]): row["status"]
                         for row in read_table(shard, "obligation_checks")})
    subjects = sorted({subject for subject, _ in statuses})
    as_of = date.fromisoformat(manifest["as_of"])
    rows = previous_run_rows(manifest["warehouse"], _PREVIOUS_VERSIONS,
                             manifest["run_id"], subjects, as_of,
                             datetime.fromisoformat(manifest["started_at"]))
    previous = [Version(*row) for row in rows or []]
    conservation = {o.obligation_id: o.conservation_period for o in catalog.obligations}
    labels = {o.obligation_id: o.label for o in catalog.obligations}
    found = history_findings(
        manifest["run_id"], previous, current, statuses,
        lambda oid: required_years(conservation.get(oid, ""), as_of),
        lambda oid: labels.get(oid, oid))
    out = run_dir / HISTORY_DIR
    write_table(out, "findings", [f.as_row() for f in found])
    log.info("history: %d previous documents compared, %d findings", len(previous), len(found))
    return out


def _version(row: dict):
    from audit.history import Version

    return Version(row["run_id"], row["subject_id"], row["obligation_id"], row["url"],
                   row["sha256"], row["period_end"], row["updated_at"])


def write_data_docs_index(run_dir: Path, run_id: str, shard_dirs: list[str]) -> Path | None:
    """``<run_dir>/data_docs/index.html``: one page linking the Data Docs site every audit
    shard built (Great Expectations builds one site per context, and a shard is a context)."""
    from html import escape

    sites = []
    for shard_dir in shard_dirs:
        info = _read_json(Path(shard_dir) / DATA_DOCS_FILE, default={})
        if info.get("index"):
            sites.append((Path(shard_dir).name, Path(info["index"]), info))
    if not sites:
        return None
    out = run_dir / DATA_DOCS_DIR / "index.html"
    out.parent.mkdir(parents=True, exist_ok=True)
    items = "\n".join(
        f'<li><a href="{escape(os.path.relpath(index, out.parent))}">Fragmento {escape(name)}</a>'
        f" — {info.get('datasets', 0)} conjuntos de datos validados, "
        f"{info.get('datasets_failing', 0)} con algún error; el sitio muestra "
        f"{info.get('datasets_in_docs', 0)}</li>" for name, index, info in sites)
    out.write_text(
        "<!DOCTYPE html><html lang=\"es\"><head><meta charset=\"utf-8\">"
        f"<title>Calidad de datos — {escape(run_id)}</title></head><body>"
        f"<h1>Calidad de los datos publicados</h1><p>Ejecución {escape(run_id)}: resultados "
        "de Great Expectations por fragmento de la ejecución.</p>"
        f"<ul>{items}</ul></body></html>\n", encoding="utf-8")
    return out


def record_failure(params: dict, run_id: str, reason: str) -> None:
    """Make a run that could not finish visible in the warehouse as 'failed'."""
    from warehouse.loader import mark_run_failed

    settings = Settings.from_env()
    mark_run_failed(resolve_target(params.get("warehouse") or settings.warehouse), run_id, reason)


def _move_evidence(shard: Path, url: str, harvests) -> None:
    """Publish the shard's WARC file to the object store and point its references there
    (revalidated responses keep pointing at the earlier run's record, wherever it is)."""
    from scrapers.evidence import publish

    local = str(shard / EVIDENCE_FILE) + "#"
    stored = publish(shard / EVIDENCE_FILE, url) + "#"
    for harvest in harvests:
        for row in harvest.fetches:
            ref = row.get("evidence_ref")
            if ref and ref.startswith(local):
                row["evidence_ref"] = stored + ref[len(local):]


def load_priors(path: str | None, subject_ids: set[str]) -> tuple[dict, set[str]]:
    """The previous run's validators and records for these subjects (final URL → Prior),
    and which runs were those subjects' previous ones."""
    import pyarrow.parquet as pq

    from scrapers.fetch import Prior

    if not path or not Path(path).exists():
        return {}, set()
    rows = pq.read_table(path, filters=[("subject_id", "in", sorted(subject_ids))]).to_pylist()
    priors = {row["url"]: Prior(row["url"], row["etag"], row["last_modified"], row["sha256"],
                                row["evidence_ref"], row["run_id"]) for row in rows}
    return priors, {row["previous_run"] for row in rows}


def build_report(params: dict, event: dict | None = None,
                 settings: Settings | None = None) -> dict:
    """The reports of one run: the DAG params win, then the triggering asset event's
    warehouse and run, then the installation's defaults."""
    from reports.build import as_dict, build_reports

    settings = settings or Settings.from_env()
    event = event or {}
    warehouse = params.get("warehouse") or event.get("warehouse") or str(settings.warehouse)
    run_id = params.get("run_id") or event.get("run_id") or None
    out = params.get("out") or str(settings.reports_dir)
    build = build_reports(warehouse, out, run_id)
    log.info("reports of run %s (%d subjects): %s", build.run_id, build.subjects,
             build.overview)
    return as_dict(build)
