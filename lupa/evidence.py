"""``lupa evidence FINDING_ID``: the archived response behind a finding, digest checked.

A finding names its evidence by URL (``findings.evidence_url``); the run's ``fetches`` say
which request answered that URL and where its WARC record is (``evidence_ref``). The
payload read back must hash to the digest recorded at fetch time (``fetches.sha256`` and
the record's ``WARC-Payload-Digest``), otherwise the evidence is reported as tampered.
"""

from __future__ import annotations

import mimetypes
import re
from dataclasses import dataclass
from pathlib import Path

from scrapers.evidence import Evidence, EvidenceError, read_evidence
from warehouse.schema import connect

# Which fetch answers a finding's URL: the final hop of the request, a file before a page,
# the latest.
_FETCH_FOR_FINDING = """
    SELECT f.url, f.final_url, f.status_code, f.sha256, f.fetched_at, f.error,
           f.error_detail, f.evidence_ref, f.purpose, f.run_id
    FROM fetches AS f
    WHERE f.run_id = ? AND f.subject_id = ? AND (f.url = ? OR f.final_url = ?)
    ORDER BY f.evidence_ref IS NULL, f.final_url = ? DESC, f.purpose = 'resource' DESC,
             f.fetched_at DESC
    LIMIT 1"""
# A history finding (REMOVED_EARLY) names a document this run no longer found: its evidence
# is the last version an earlier run archived.
_EARLIER_FETCH = """
    SELECT f.url, f.final_url, f.status_code, f.sha256, f.fetched_at, f.error,
           f.error_detail, f.evidence_ref, f.purpose, f.run_id
    FROM fetches AS f
    WHERE f.run_id <> ? AND f.subject_id = ? AND (f.url = ? OR f.final_url = ?)
      AND f.evidence_ref IS NOT NULL AND f.status_code BETWEEN 200 AND 299
    ORDER BY f.fetched_at DESC
    LIMIT 1"""
_FETCH_COLUMNS = ("url", "final_url", "status_code", "sha256", "fetched_at", "error",
                  "error_detail", "evidence_ref", "purpose", "run_id")


class NoEvidence(LookupError):
    """The finding does not exist, names no URL, or no response was archived for it."""


@dataclass
class FindingEvidence:
    finding: dict
    fetch: dict
    evidence: Evidence

    @property
    def verified(self) -> bool:
        return self.evidence.digest_ok and self.evidence.sha256 == self.fetch["sha256"]


def find_evidence(warehouse: Path | str, finding_id: str) -> FindingEvidence:
    con = connect(warehouse, read_only=True, lock_timeout=30)
    try:
        row = con.execute("SELECT finding_id, run_id, subject_id, obligation_id, code, "
                          "message, evidence_url FROM findings WHERE finding_id = ?",
                          [finding_id]).fetchone()
        if row is None:
            raise NoEvidence(f"{warehouse}: no finding {finding_id!r}")
        finding = dict(zip(("finding_id", "run_id", "subject_id", "obligation_id", "code",
                            "message", "evidence_url"), row, strict=True))
        url = finding["evidence_url"]
        if not url:
            raise NoEvidence(f"finding {finding_id} ({finding['code']}) names no evidence URL")
        key = [finding["run_id"], finding["subject_id"], url, url]
        fetch = con.execute(_FETCH_FOR_FINDING, [*key, url]).fetchone()
        if fetch is None:
            fetch = con.execute(_EARLIER_FETCH, key).fetchone()
    finally:
        con.close()
    if fetch is None:
        raise NoEvidence(f"finding {finding_id}: run {finding['run_id']} made no request for "
                         f"{url}")
    fetch = dict(zip(_FETCH_COLUMNS, fetch, strict=True))
    if not fetch["evidence_ref"]:
        raise NoEvidence(f"finding {finding_id}: no response was received from {url} "
                         f"({fetch['error'] or 'no record'}: {fetch['error_detail'] or '-'}); "
                         "the fetches row is the evidence")
    try:
        evidence = read_evidence(fetch["evidence_ref"])
    except EvidenceError as exc:
        raise NoEvidence(f"finding {finding_id}: {exc}") from exc
    return FindingEvidence(finding, fetch, evidence)


def default_name(found: FindingEvidence) -> str:
    """``evidencia-<finding id><extension of the archived content type>``."""
    content_type = (found.evidence.header("Content-Type") or "").split(";")[0].strip()
    extension = mimetypes.guess_extension(content_type) or ".bin"
    return f"evidencia-{re.sub(r'[^A-Za-z0-9_-]', '_', found.finding['finding_id'])}{extension}"


def describe(found: FindingEvidence) -> list[str]:
    f, e = found.finding, found.evidence
    return [
        f"Finding {f['finding_id']}: {f['code']} — {f['message']}",
        f"Requested: {e.requested_uri or found.fetch['url']}",
        f"Answered by: {e.target_uri} (HTTP {e.status_code}) at {e.date}",
        f"WARC record: {e.ref}" + ("" if found.fetch["run_id"] == f["run_id"] else
                                   f" (archived by run {found.fetch['run_id']})"),
        f"SHA-256: {e.sha256}",
        "Digest: OK (matches the record and fetches.sha256)" if found.verified else
        f"Digest: MISMATCH (record {e.digest}, fetches.sha256 {found.fetch['sha256']}): "
        "the archived payload is not what was fetched",
    ]
