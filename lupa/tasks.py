"""The audit run as four plain functions; the DAG only wires them together.

prepare_run -> [shard_dir]   reads the registry, writes one directory per shard
harvest_shard(shard_dir)     crawls the shard's portals, writes harvest.jsonl + fetches
audit_shard(shard_dir)       presence rules -> obligation_checks, findings, resources
load_run(run_dir)            the single writer: merges every shard into DuckDB

Only paths cross task boundaries (they travel through XCom), so every step can be retried,
run on another worker, or inspected by hand.
"""

from __future__ import annotations

import json
import logging
import math
import os
import re
import tempfile
import traceback
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict
from datetime import UTC, date, datetime
from pathlib import Path

from audit.catalog import CatalogError, load_catalog
from audit.presence import audit_presence
from audit.registry import RegistryError, load_registry
from audit.subjects import Subject
from lupa.config import Settings

log = logging.getLogger(__name__)

MANIFEST = "manifest.json"
SUBJECTS_FILE = "subjects.json"
HARVEST_FILE = "harvest.jsonl"
ERRORS_FILE = "errors.json"


class RunConfigurationError(ValueError):
    """The run cannot start as configured (no registry, bad params): retrying won't help."""


def safe_name(run_id: str) -> str:
    """A run id as a directory name (Airflow run ids contain ':' and '+')."""
    return re.sub(r"[^A-Za-z0-9._-]+", "_", run_id).strip("_") or "run"


def _write_json(path: Path, data) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile("w", dir=path.parent, delete=False, suffix=".tmp",
                                     encoding="utf-8") as handle:
        json.dump(data, handle, ensure_ascii=False, indent=1, default=str)
    os.replace(handle.name, path)


def _read_json(path: Path):
    return json.loads(path.read_text(encoding="utf-8"))


def resolve_params(params: dict, settings: Settings | None = None) -> dict:
    """Fill a run's parameters from the DAG params and the installation settings."""
    settings = settings or Settings.from_env()
    registry = params.get("registry") or os.environ.get("LUPA_REGISTRY") or str(
        settings.home / "registry.csv")
    as_of = params.get("as_of") or date.today().isoformat()
    try:
        date.fromisoformat(as_of)
    except ValueError as exc:
        raise RunConfigurationError(f"as_of must be YYYY-MM-DD, got {as_of!r}") from exc
    delay = params.get("delay_seconds")
    return {
        "registry": str(Path(registry).expanduser().resolve()),
        "subjects": [str(s) for s in (params.get("subjects") or [])],
        "law": params.get("law") or settings.law,
        "as_of": as_of,
        "shard_size": int(params.get("shard_size") or settings.shard_size),
        "allow_private_networks": bool(params.get("allow_private_networks")
                                       or settings.allow_private_networks),
        "delay_seconds": float(settings.delay_seconds if delay in (None, "") else delay),
        "warehouse": str(Path(params.get("warehouse") or settings.warehouse).resolve()),
        "home": str(settings.home),
        "settings": settings.as_dict(),
    }


def prepare_run(params: dict, run_id: str, settings: Settings | None = None) -> list[str]:
    """Read the registry and split the subjects into shard directories."""
    conf = resolve_params(params, settings)
    try:
        registry = load_registry(conf["registry"])
        load_catalog(conf["law"])
    except (RegistryError, CatalogError) as exc:
        hint = "" if params.get("registry") else (
            " (no registry param given: set LUPA_REGISTRY or pass params.registry)")
        raise RunConfigurationError(f"{exc}{hint}") from exc
    subjects = registry.subjects
    if conf["subjects"]:
        wanted = set(conf["subjects"])
        subjects = [s for s in subjects if s.subject_id in wanted]
    run_dir = Path(conf["home"]) / "runs" / safe_name(run_id)
    shard_count = max(1, math.ceil(len(subjects) / max(1, conf["shard_size"])))
    shards: list[list[Subject]] = [[] for _ in range(shard_count)]
    for index, subject in enumerate(subjects):
        shards[index % shard_count].append(subject)
    manifest = {
        "run_id": run_id, "started_at": datetime.now(UTC).isoformat(), **conf,
        "subjects_total": len(registry.subjects) + len(registry.issues),
        "subjects_selected": len(subjects),
        "registry_issues": [asdict(issue) for issue in registry.issues],
        "shards": [],
    }
    for issue in registry.issues:
        log.warning("registry %s: %s", conf["registry"], issue)
    from warehouse.shards import write_table

    write_table(run_dir, "registry_errors", [
        {"run_id": run_id, "line": i.line, "column_name": i.column, "value": i.value,
         "message": i.message} for i in registry.issues])
    shard_dirs = []
    for number, members in enumerate(shards):
        shard_dir = run_dir / "shards" / f"{number:04d}"
        _write_json(shard_dir / SUBJECTS_FILE, [asdict(s) for s in members])
        shard_dirs.append(str(shard_dir))
    manifest["shards"] = shard_dirs
    _write_json(run_dir / MANIFEST, manifest)
    log.info("run %s: %d subjects in %d shards (%d registry issues)", run_id, len(subjects),
             shard_count, len(registry.issues))
    return shard_dirs


def read_manifest(shard_dir: str | Path) -> dict:
    return _read_json(Path(shard_dir).parent.parent / MANIFEST)


def read_subjects(shard_dir: str | Path) -> list[Subject]:
    return [Subject(**row) for row in _read_json(Path(shard_dir) / SUBJECTS_FILE)]


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
    )


def harvest_shard(shard_dir: str) -> str:
    """Crawl every portal of a shard, several at a time; one bad portal never fails it."""
    from scrapers.crawl import CrawlSettings, crawl_portal
    from scrapers.fetch import Fetcher
    from warehouse.shards import write_table

    manifest = read_manifest(shard_dir)
    subjects = read_subjects(shard_dir)
    catalog = load_catalog(manifest["law"])
    settings = manifest["settings"]
    crawl_settings = CrawlSettings(max_clicks=settings["max_clicks"],
                                   max_pages=settings["max_pages"])
    errors: list[dict] = []

    def crawl(subject: Subject):
        try:
            return crawl_portal(subject, fetcher, catalog, crawl_settings)
        except Exception as exc:  # a Lupa bug on one portal must not sink the shard
            log.exception("crawl of %s (%s) failed", subject.subject_id, subject.portal_url)
            errors.append({"subject_id": subject.subject_id, "stage": "harvest",
                           "error": f"{type(exc).__name__}: {exc}",
                           "traceback": traceback.format_exc(limit=8)})
            return None

    with Fetcher(_fetch_policy(manifest)) as fetcher, ThreadPoolExecutor(
            max_workers=max(1, settings["harvest_threads"])) as pool:
        harvests = [h for h in pool.map(crawl, subjects) if h is not None]

    run_id = manifest["run_id"]
    fetch_rows = []
    for harvest in harvests:
        for row in harvest.fetches:
            fetch_rows.append({**row, "run_id": run_id, "subject_id": harvest.subject_id,
                               "evidence_ref": None})
    path = Path(shard_dir)
    write_table(path, "fetches", fetch_rows)
    tmp = path / (HARVEST_FILE + ".tmp")
    with tmp.open("w", encoding="utf-8") as handle:
        for harvest in harvests:
            handle.write(json.dumps(harvest.to_dict(), ensure_ascii=False, default=str) + "\n")
    os.replace(tmp, path / HARVEST_FILE)
    _write_json(path / ERRORS_FILE, errors)
    return shard_dir


def audit_shard(shard_dir: str) -> str:
    """Apply the presence rules to every harvested portal of a shard."""
    from scrapers.crawl import PortalHarvest
    from warehouse.shards import write_table

    manifest = read_manifest(shard_dir)
    run_id = manifest["run_id"]
    catalog = load_catalog(manifest["law"])
    subjects = {s.subject_id: s for s in read_subjects(shard_dir)}
    path = Path(shard_dir)
    errors = _read_json(path / ERRORS_FILE) if (path / ERRORS_FILE).exists() else []
    checks, findings, resources = [], [], []
    with (path / HARVEST_FILE).open(encoding="utf-8") as handle:
        for line in handle:
            harvest = PortalHarvest.from_dict(json.loads(line))
            subject = subjects[harvest.subject_id]
            try:
                result = audit_presence(subject, harvest, catalog.applicability(subject), run_id)
            except Exception as exc:
                log.exception("audit of %s failed", subject.subject_id)
                errors.append({"subject_id": subject.subject_id, "stage": "audit",
                               "error": f"{type(exc).__name__}: {exc}",
                               "traceback": traceback.format_exc(limit=8)})
                continue
            checks.extend(result.checks)
            findings.extend(f.as_row() for f in result.findings)
            resources.extend(result.resources)
    write_table(path, "obligation_checks", checks)
    write_table(path, "findings", findings)
    write_table(path, "resources", resources)
    _write_json(path / ERRORS_FILE, errors)
    return shard_dir


def load_run(run_dir: str, shard_dirs: list[str]) -> dict:
    """Merge every shard of a run into the warehouse in one transaction (idempotent)."""
    from warehouse.loader import load_run as load_into_warehouse

    manifest = _read_json(Path(run_dir) / MANIFEST)
    catalog = load_catalog(manifest["law"])
    subjects = []
    errors = []
    for shard_dir in shard_dirs:
        subjects.extend(asdict(s) for s in read_subjects(shard_dir))
        error_file = Path(shard_dir) / ERRORS_FILE
        if error_file.exists():
            errors.extend(_read_json(error_file))
    failed = {e["subject_id"] for e in errors}
    run = {
        "run_id": manifest["run_id"],
        "started_at": manifest["started_at"],
        "finished_at": datetime.now(UTC).isoformat(),
        "status": "success",
        "error": (f"{len(failed)} subject(s) could not be audited: "
                  + ", ".join(sorted(failed)[:20])) if failed else None,
        "as_of": manifest["as_of"],
        "law": manifest["law"],
        "registry": manifest["registry"],
        "subjects_total": manifest["subjects_total"],
        "subjects_audited": len(subjects) - len(failed),
        "registry_errors": len(manifest["registry_issues"]),
        "params": json.dumps({k: manifest[k] for k in ("subjects", "shard_size",
                                                         "allow_private_networks",
                                                         "delay_seconds")}),
    }
    # The run directory holds registry_errors.parquet; the loader reads every table file it
    # finds in the directories it is given.
    report = load_into_warehouse(
        manifest["warehouse"], run, [Path(d) for d in shard_dirs] + [Path(run_dir)], subjects,
        catalog.obligation_rows(),
    )
    summary = {"run_id": manifest["run_id"], "warehouse": manifest["warehouse"],
               "status": run["status"], "subject_errors": errors, "rows": report.counts}
    _write_json(Path(run_dir) / "load_report.json", summary)
    return summary


def run_dir_of(shard_dir: str | Path) -> str:
    return str(Path(shard_dir).parent.parent)
