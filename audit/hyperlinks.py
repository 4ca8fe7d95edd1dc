"""DEAD_HYPERLINKS: hyperlink columns inside published datasets, sampled and checked.

SIPOT formats carry hyperlink columns (contracts, invoices, CVs, resolutions) that are
often the only way to the underlying document. Checking all of them would hammer portals,
so links are sampled: at most ``per_dataset`` distinct URLs per dataset and ``per_host`` per
host, in row order (deterministic), and checked through the same polite page source as the
crawl (robots, per-host delay). HEAD is tried first; servers that refuse it get a GET.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from audit.presence import Outcome, classify

URL_TYPES = frozenset({"url", "archivo"})
_URL = re.compile(r"^https?://[^\s/$.?#][^\s]*$", re.IGNORECASE)
# Share of non-empty sampled values that must look like URLs for a column without an
# official type to count as a hyperlink column.
URL_COLUMN_SHARE = 0.6
DEAD = frozenset({Outcome.BROKEN, Outcome.UNREACHABLE})


@dataclass(frozen=True)
class LinkCheck:
    url: str
    status_code: int | None
    error: str | None
    outcome: Outcome

    @property
    def dead(self) -> bool:
        return self.outcome in DEAD


def _looks_like_url(value) -> bool:
    return isinstance(value, str) and bool(_URL.match(value.strip()))


def hyperlink_columns(frame, match=None, formats=None, sample_rows: int = 200) -> list[str]:
    """Columns holding hyperlinks: typed url/archivo in the official format the dataset
    matches, or (without a format) mostly holding http(s) URLs."""
    columns: list[str] = []
    if match is not None and formats is not None:
        types = {c.label: c.type for c in formats.get(match.format_id).columns}
        columns = [published for published, official in match.matched
                   if types.get(official) in URL_TYPES and published in frame.columns]
    for column in frame.columns:
        if column in columns:
            continue
        values = [v for v in frame[column].head(sample_rows).tolist()
                  if isinstance(v, str) and v.strip()]
        if values and sum(map(_looks_like_url, values)) / len(values) >= URL_COLUMN_SHARE:
            columns.append(column)
    return columns


def sample_links(frame, columns: Sequence[str], per_dataset: int = 20,
                 per_host: int = 3) -> list[str]:
    """Distinct URLs from ``columns``, in row order, bounded per dataset and per host."""
    chosen: list[str] = []
    seen: set[str] = set()
    hosts: Counter = Counter()
    for row in frame[list(columns)].itertuples(index=False):
        for value in row:
            if not _looks_like_url(value):
                continue
            url = value.strip()
            host = (urlsplit(url).hostname or "").lower()
            if url in seen or hosts[host] >= per_host:
                continue
            seen.add(url)
            hosts[host] += 1
            chosen.append(url)
            if len(chosen) >= per_dataset:
                return chosen
    return chosen


def check_links(urls: Iterable[str], source) -> list[LinkCheck]:
    checks = []
    for url in urls:
        result = source.fetch(url, method="HEAD")
        if result.status_code in (405, 501) or (result.error and result.error not in (
                "robots", "private_address", "invalid_url", "dns")):
            result = source.fetch(url)  # some servers mishandle HEAD
        checks.append(LinkCheck(url, result.status_code, result.error,
                                classify(result.status_code, result.error)))
    return checks


def dead_hyperlinks_message(checks: Sequence[LinkCheck], min_share: float = 0.05) -> str | None:
    """The Spanish finding message when enough sampled links are dead, else None."""
    dead = [c for c in checks if c.dead]
    checked = [c for c in checks if c.outcome not in (Outcome.ROBOTS, Outcome.DENIED)]
    if not dead or len(dead) / max(1, len(checked)) < min_share:
        return None
    examples = "; ".join(f"{c.url} ({c.status_code or c.error})" for c in dead[:3])
    return (f"{len(dead)} de {len(checked)} hipervínculos revisados en los datos no funcionan "
            f"(muestra acotada por conjunto y por servidor). Ejemplos: {examples}.")
