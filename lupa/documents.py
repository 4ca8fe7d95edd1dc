"""Reading what the harvest downloads: the bridge between the crawl and the usefulness audit.

Each document that answers is read once, while its bytes are at hand: its table goes to the
shard as Parquet (for the expectations), and a compact summary — the document without its
body, the official format it follows, the latest update date it states, a bounded sample of
the hyperlinks inside it — travels with the harvest. The audit applies its rules to that
summary later, without the bytes, so rules can be re-run without downloading anything again.

Hyperlinks are checked after a portal's crawl (``check_harvest_links``), not while reading:
per obligation page only the dataset covering the latest period has its sample checked, so a
portal costs a few requests per obligation however many files it publishes.
"""

from __future__ import annotations

import copy
import json
import os
import re
import shutil
import threading
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from audit.hyperlinks import check_links, hyperlink_columns, sample_links
from audit.usefulness import TABULAR_KINDS
from scrapers.readers import not_read, read_document
from scrapers.readers.model import W_TOO_LARGE
from scrapers.readers.periods import parse_date, slash_format
from scrapers.results import FetchResult

DATASETS_DIR = "datasets"


def latest_date(values) -> date | None:
    """The latest date among published cells (ISO or d/m/y), None when none parses."""
    texts = [v for v in values if isinstance(v, str) and v.strip()]
    fmt = slash_format(texts)
    dates = [d for d in (parse_date(v, fmt) for v in texts) if d is not None]
    return max(dates) if dates else None


@dataclass(frozen=True)
class CarriedDocument:
    """What the previous run's reader made of a file: reused when the same URL serves the
    same bytes under the same declared type (a 304, or a server without validators whose
    content hash did not change), instead of parsing it again."""

    summary: dict
    shard_dir: Path  # the previous run's shard holding the summary's dataset
    run_id: str  # the previous run
    declared_type: str | None = None  # what the server said the file was, then


class DocumentReader:
    """Callable given to the crawl: ``reader(fetch_result) -> summary dict | None``.

    Thread-safe (a shard crawls several portals at once). The summary's ``link_sample`` holds
    at most ``links_per_dataset`` URLs of the dataset's hyperlink columns, at most
    ``links_per_host`` per host, in row order. ``carried`` (``carried_documents``) holds the
    previous run's summaries by final URL and SHA-256: a file that did not change (revalidated
    with a 304, or downloaded with the same content hash and declared type) is not read
    again; its summary and dataset are carried forward, marked with ``carried_from`` (the
    previous run) and ``observed_run`` (the run that read it), and its hyperlinks are
    checked anew.
    """

    def __init__(self, shard_dir: str | Path, formats, *, links_per_dataset: int = 3,
                 links_per_host: int = 2,
                 carried: dict[tuple[str, str], CarriedDocument] | None = None):
        self.shard_dir = Path(shard_dir)
        self.formats = formats
        self.links_per_dataset = links_per_dataset
        self.links_per_host = links_per_host
        self.carried = carried or {}
        self.read = self.reused = 0

    def __call__(self, result: FetchResult) -> dict | None:
        if result.status_code is None or not 200 <= result.status_code < 300:
            return None
        prior = self.carried.get((result.final_url, result.sha256))
        if prior is not None and (result.not_modified
                                  or prior.declared_type == result.declared_type) \
                and self._carry_dataset(prior):
            self.reused += 1
            summary = copy.deepcopy(prior.summary)
            summary.update(links=None, carried_from=prior.run_id,
                           observed_run=summary.get("observed_run") or prior.run_id)
            return summary
        self.read += 1
        from audit.formats import match_headers

        name = Path(result.final_url or result.url).name or None
        if result.error == "too_large":
            doc = not_read(W_TOO_LARGE, f"download cut at {len(result.content)} bytes (the size "
                           "cap): the file was not read", filename=name,
                           declared_type=result.declared_type)
        else:
            doc = read_document(result.content, filename=name,
                                declared_type=result.declared_type)
        match = match_headers(doc.columns, self.formats) if doc.columns else None
        summary = doc.to_dict()
        summary.pop("sample", None)
        out = {"document": summary, "format": match.to_dict() if match else None,
               "dataset": None, "updated_at": None, "link_sample": [], "links": None}
        if doc.kind in TABULAR_KINDS and doc.rows:
            frame = doc.frame()
            out["dataset"] = self._write_dataset(frame, result.sha256 or "unknown")
            updated = self.formats.common_roles(list(frame.columns)).get("fecha_actualizacion")
            if updated is not None:
                latest = latest_date(frame[updated].dropna().tolist())
                out["updated_at"] = latest.isoformat() if latest else None
            columns = hyperlink_columns(frame, match, self.formats)
            if columns:
                out["link_sample"] = sample_links(frame, columns, self.links_per_dataset,
                                                  self.links_per_host)
        return out

    def _carry_dataset(self, prior: CarriedDocument) -> bool:
        """Bring the previous run's dataset file into this shard (a hard link when the file
        system allows); False when it is gone, so the file is read again."""
        relative = prior.summary.get("dataset")
        if not relative:
            return True
        source, target = prior.shard_dir / relative, self.shard_dir / relative
        if target.exists():
            return True
        if not source.is_file():
            return False
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_suffix(f".{threading.get_ident()}.tmp")
        try:
            os.link(source, tmp)
        except OSError:
            shutil.copyfile(source, tmp)
        tmp.replace(target)
        return True

    def _write_dataset(self, frame, sha256: str) -> str:
        relative = f"{DATASETS_DIR}/{sha256[:24]}.parquet"
        path = self.shard_dir / relative
        if not path.exists():  # the same file published twice is stored once
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(f".{threading.get_ident()}.tmp")
            frame.to_parquet(tmp, index=False)
            tmp.replace(path)
        return relative


# A harvest.jsonl line starts with its subject id (PortalHarvest's first field): lines of
# other subjects are skipped without parsing the whole harvest.
_LEADING_SUBJECT = re.compile(r'\{\s*"subject_id"\s*:\s*("(?:[^"\\]|\\.)*")')


def carried_documents(shard_dirs: list[Path], subject_ids: set[str]
                      ) -> dict[tuple[str, str], CarriedDocument]:
    """The reader summaries of ``subject_ids`` in a previous run's shards, by the file's
    final URL and SHA-256 (``DocumentReader(carried=...)``); a later shard's summary of
    the same key wins. The harvest passes only the previous shards that held its subjects
    (``lupa.tasks.previous_shard_dirs``)."""
    out: dict[tuple[str, str], CarriedDocument] = {}
    for shard in shard_dirs:
        manifest_run = _run_id_of(shard)
        path = Path(shard) / "harvest.jsonl"
        if manifest_run is None or not path.exists():
            continue
        with path.open(encoding="utf-8") as handle:
            for line in handle:
                leading = _LEADING_SUBJECT.match(line)
                if leading is not None and json.loads(leading.group(1)) not in subject_ids:
                    continue
                harvest = json.loads(line)
                if harvest.get("subject_id") not in subject_ids:
                    continue
                for hit in harvest.get("hits") or []:
                    for res in hit.get("resources") or []:
                        if res.get("document") and res.get("sha256"):
                            key = (res.get("final_url") or res["url"], res["sha256"])
                            out[key] = CarriedDocument(res["document"], Path(shard),
                                                       manifest_run, res.get("declared_type"))
    return out


def _run_id_of(shard: Path) -> str | None:
    try:
        return json.loads((Path(shard).parent.parent / "manifest.json").read_text())["run_id"]
    except (OSError, ValueError, KeyError):
        return None


def _period_end(summary: dict) -> str:
    period = (summary.get("document") or {}).get("period") or {}
    return period.get("end") or ""


def check_harvest_links(harvest, source) -> int:
    """Check the link sample of one dataset per obligation page of a crawled portal: the one
    covering the latest period (the first listed on ties). Results land in the resource's
    summary (``links``); returns how many links were requested."""
    checked: dict[str, list[dict]] = {}
    requested = 0
    for hit in harvest.hits:
        candidates = [r for r in hit.resources
                      if r.document and r.document.get("link_sample") and r.anomaly is None]
        if not candidates:
            continue
        chosen = max(candidates, key=lambda r: _period_end(r.document))
        if chosen.url not in checked:
            urls = chosen.document["link_sample"]
            requested += len(urls)
            checked[chosen.url] = [
                {"url": c.url, "status_code": c.status_code, "error": c.error,
                 "outcome": c.outcome.value} for c in check_links(urls, source)]
        chosen.document["links"] = checked[chosen.url]
    return requested
