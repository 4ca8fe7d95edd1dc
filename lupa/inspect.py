"""``lupa inspect FILE_OR_URL``: what Lupa sees in one published file."""

from __future__ import annotations

import hashlib
from pathlib import Path
from urllib.parse import urlsplit

from lupa.config import Settings


class InspectError(ValueError):
    """The target cannot be read at all (missing file, refused or failed download)."""


def _load(target: str, settings: Settings, allow_private: bool) -> tuple[bytes, dict]:
    if urlsplit(target).scheme in ("http", "https"):
        from scrapers.fetch import Fetcher, FetchPolicy

        policy = FetchPolicy(contact_url=settings.contact_url, max_bytes=settings.max_bytes,
                             connect_timeout=settings.connect_timeout,
                             read_timeout=settings.read_timeout, delay_seconds=0.0,
                             allow_private_networks=allow_private)
        with Fetcher(policy) as fetcher:
            result = fetcher.fetch(target)
        source = {"url": target, "final_url": result.final_url,
                  "status_code": result.status_code, "declared_type": result.declared_type,
                  "bytes": result.bytes, "sha256": result.sha256, "error": result.error}
        if result.error and result.error != "too_large":
            raise InspectError(f"{target}: {result.error_detail or result.error}")
        name = Path(urlsplit(result.final_url or target).path).name or None
        return result.content, {**source, "filename": name}
    path = Path(target)
    try:
        with path.open("rb") as handle:
            content = handle.read(settings.max_bytes + 1)
    except OSError as exc:
        raise InspectError(f"{target}: {exc.strerror or exc}") from exc
    return content[: settings.max_bytes], {
        "path": str(path.resolve()), "filename": path.name, "bytes": len(content),
        "sha256": hashlib.sha256(content).hexdigest(),
        "truncated_at": settings.max_bytes if len(content) > settings.max_bytes else None}


def inspect_target(target: str, settings: Settings | None = None,
                   allow_private_networks: bool = False, law: str | None = None) -> dict:
    """Read ``target`` (a path or an http(s) URL) and say what Lupa makes of it."""
    from audit.formats import load_formats, match_headers
    from audit.presence import format_and_stars
    from audit.usefulness import document_findings
    from scrapers.readers import read_document

    settings = settings or Settings.from_env()
    content, source = _load(target, settings, allow_private_networks)
    doc = read_document(content, filename=source.get("filename"),
                        declared_type=source.get("declared_type"))
    formats = load_formats(law or settings.law)
    match = match_headers(doc.columns, formats) if doc.columns else None
    fmt, stars = format_and_stars(doc.media_type)
    summary = doc.to_dict()
    summary.pop("sample", None)
    return {
        "source": source,
        "detected_format": fmt, "media_type": doc.media_type, "stars": stars,
        "kind": doc.kind, "header_row": doc.header_row, "columns": doc.columns,
        "rows": doc.rows, "period": summary.get("period"),
        "official_format": match.to_dict() if match else None,
        "roles": formats.common_roles(doc.columns) if doc.columns else {},
        "findings": [{"code": f.code.value, "message": f.message}
                     for f in document_findings(doc, match)],
        "document": summary,
    }


def format_report(report: dict) -> str:
    """Human-readable summary (English labels, Spanish findings as the auditors read them)."""
    source = report["source"]
    lines = [f"{source.get('url') or source.get('path')}  ({source.get('bytes')} bytes)",
             f"format: {report['detected_format']} ({report['media_type']}), "
             f"openness {report['stars']}/5, kind {report['kind']}"]
    if report["columns"]:
        lines.append(f"header row {report['header_row']}, {len(report['columns'])} columns, "
                     f"{report['rows']} data rows")
    period = report.get("period") or {}
    if period.get("start") or period.get("years"):
        lines.append(f"period covered: {period.get('start')} to {period.get('end')} "
                     f"(years {period.get('years')}, {period.get('label') or '-'})")
    match = report.get("official_format")
    if match:
        lines.append(f"official format: {match['format_id']} ({match['obligation_id']}, "
                     f"edition {match['edition']}, score {match['score']:.2f})")
    else:
        lines.append("official format: none recognised")
    lines.append("findings:" if report["findings"] else "findings: none")
    lines.extend(f"  {f['code']}: {f['message']}" for f in report["findings"])
    return "\n".join(lines)
