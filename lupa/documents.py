"""Reading what the harvest downloads: the bridge between the crawl and the usefulness audit.

Each document that answers is read once, while its bytes are at hand: its table goes to the
shard as Parquet (for the expectations), and a compact summary — the document without its
body, the official format it follows, a bounded sample of its hyperlinks checked politely —
travels with the harvest. The audit applies its rules to that summary later, without the
bytes, so rules can be re-run without downloading anything again.
"""

from __future__ import annotations

import threading
from pathlib import Path

from audit.hyperlinks import check_links, hyperlink_columns, sample_links
from audit.usefulness import TABULAR_KINDS
from scrapers.readers import read_document
from scrapers.results import FetchResult

DATASETS_DIR = "datasets"


class DocumentReader:
    """Callable given to the crawl: ``reader(fetch_result) -> summary dict | None``.

    Thread-safe (a shard crawls several portals at once). ``link_budget`` bounds the
    hyperlink checks of the whole shard, on top of the per-dataset and per-host sampling.
    """

    def __init__(self, shard_dir: str | Path, source, formats, *, links_per_dataset: int = 10,
                 links_per_host: int = 2, link_budget: int = 500):
        self.shard_dir = Path(shard_dir)
        self.source = source
        self.formats = formats
        self.links_per_dataset = links_per_dataset
        self.links_per_host = links_per_host
        self._link_budget = link_budget
        self._lock = threading.Lock()

    def __call__(self, result: FetchResult) -> dict | None:
        if result.status_code is None or not 200 <= result.status_code < 300:
            return None
        from audit.formats import match_headers

        name = Path(result.final_url or result.url).name or None
        doc = read_document(result.content, filename=name, declared_type=result.declared_type)
        match = match_headers(doc.columns, self.formats) if doc.columns else None
        summary = doc.to_dict()
        summary.pop("sample", None)
        out = {"document": summary, "format": match.to_dict() if match else None,
               "dataset": None, "links": []}
        if doc.kind in TABULAR_KINDS and doc.rows:
            frame = doc.frame()
            out["dataset"] = self._write_dataset(frame, result.sha256 or "unknown")
            out["links"] = self._check_links(frame, match)
        return out

    def _write_dataset(self, frame, sha256: str) -> str:
        relative = f"{DATASETS_DIR}/{sha256[:24]}.parquet"
        path = self.shard_dir / relative
        if not path.exists():  # the same file published twice is stored once
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(f".{threading.get_ident()}.tmp")
            frame.to_parquet(tmp, index=False)
            tmp.replace(path)
        return relative

    def _check_links(self, frame, match) -> list[dict]:
        columns = hyperlink_columns(frame, match, self.formats)
        if not columns:
            return []
        urls = sample_links(frame, columns, self.links_per_dataset, self.links_per_host)
        with self._lock:
            urls = urls[: max(0, self._link_budget)]
            self._link_budget -= len(urls)
        return [{"url": c.url, "status_code": c.status_code, "error": c.error,
                 "outcome": c.outcome.value} for c in check_links(urls, self.source)]
