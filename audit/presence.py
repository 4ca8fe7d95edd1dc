"""Presence audit: from what the crawler saw on a portal to a status per obligation.

Rules, in this fixed order (the first that applies decides), for every obligation of the
articles that apply to the subject:

1. not applicable for the subject's level or kind          -> ``not_applicable``
2. the home page could not be fetched                      -> ``unreachable`` (PORTAL_UNREACHABLE)
3. robots.txt forbids the home page to Lupa                -> ``blocked`` (ROBOTS_DISALLOWED)
4. no transparency section and nothing found               -> ``missing`` (NO_TRANSPARENCY_SECTION,
   portal level only: one finding, not one per obligation)
5. no page or file on the portal refers to the obligation  -> ``missing`` (OBLIGATION_MISSING)
6. a page or file with its information answers             -> ``present``
   (HARD_TO_FIND when the information is more than three clicks from the home page)
7. the portal publishes a justification instead            -> ``justified`` (JUSTIFIED_ABSENCE)
8. otherwise the links decide, judging the obligation's files where its page loaded and the
   page itself where it did not: any broken link or a page without content -> ``missing``;
   else every link refused by robots.txt or by a login wall -> ``blocked``; else (time-outs,
   5xx) -> ``unreachable``.

Every broken link met on the way is a LINK_BROKEN finding, whatever the status. A file
larger than the size cap counts as published (it answered; only its content is unread).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import Enum
from urllib.parse import urlsplit

from audit.findings import Code, Finding
from audit.obligations import Obligation, ObligationRef
from audit.subjects import Subject

HARD_TO_FIND_CLICKS = 3

# Five-star openness by real format (as CKAN's QA scores it; reference/scoring_anchors.md).
FORMATS = {
    "text/csv": ("csv", 3),
    "text/tab-separated-values": ("csv", 3),
    "application/json": ("json", 3),
    "application/xml": ("xml", 3),
    "text/xml": ("xml", 3),
    "application/vnd.oasis.opendocument.spreadsheet": ("ods", 3),
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": ("xlsx", 2),
    "application/vnd.ms-excel": ("xls", 2),
    "application/pdf": ("pdf", 1),
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": ("docx", 1),
    "application/msword": ("doc", 1),
    "application/zip": ("zip", 1),
    "text/plain": ("txt", 1),
    "text/html": ("html", 0),
}


def format_and_stars(media_type: str | None) -> tuple[str | None, int | None]:
    if not media_type:
        return None, None
    return FORMATS.get(media_type, (media_type.split("/")[-1][:20], 0))


class Outcome(Enum):
    """What one fetch says about the link behind it."""

    OK = "ok"
    BROKEN = "broken"            # 4xx, redirect loops, invalid or internal-address targets
    ROBOTS = "robots"            # robots.txt forbids Lupa to read it
    DENIED = "denied"            # 401/403: login wall or firewall
    UNREACHABLE = "unreachable"  # time-outs, refused connections, DNS, TLS, 5xx, 429


_BROKEN_ERRORS = frozenset({"redirect_loop", "too_many_redirects", "invalid_url",
                            "private_address"})
_UNREACHABLE_ERRORS = frozenset({"timeout", "connect", "dns", "tls"})


def classify(status_code: int | None, error: str | None) -> Outcome:
    if error == "robots":
        return Outcome.ROBOTS
    if error in _BROKEN_ERRORS:
        return Outcome.BROKEN
    if error in _UNREACHABLE_ERRORS or status_code is None:
        return Outcome.UNREACHABLE
    if 200 <= status_code < 300:  # error is None or "too_large": it answered
        return Outcome.OK
    if status_code in (401, 403):
        return Outcome.DENIED
    if status_code == 429 or status_code >= 500:
        return Outcome.UNREACHABLE
    if 300 <= status_code < 400:  # a redirect the fetcher could not follow
        return Outcome.BROKEN
    return Outcome.BROKEN


_BROKEN_REASON = {
    "redirect_loop": "entra en un ciclo de redirecciones",
    "too_many_redirects": "redirige demasiadas veces",
    "invalid_url": "no es una dirección web válida",
    "private_address": "apunta a una dirección de red interna",
}


def _broken_reason(status_code: int | None, error: str | None) -> str:
    return _BROKEN_REASON.get(error or "", f"responde HTTP {status_code}")


@dataclass
class PresenceResult:
    checks: list[dict] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    resources: list[dict] = field(default_factory=list)


class _Auditor:
    def __init__(self, subject: Subject, harvest, run_id: str):
        self.subject = subject
        self.harvest = harvest
        self.run_id = run_id
        self.result = PresenceResult()
        self._seen_findings: set[str] = set()

    def finding(self, code: Code, message: str, obligation_id: str | None = None,
                evidence_url: str | None = None) -> None:
        finding = Finding(self.run_id, self.subject.subject_id, obligation_id, code, message,
                          evidence_url)
        if finding.finding_id not in self._seen_findings:
            self._seen_findings.add(finding.finding_id)
            self.result.findings.append(finding)

    def check(self, obligation: Obligation, status: str, evidence_url: str | None = None,
              depth: int | None = None, via: str | None = None, note: str | None = None) -> None:
        self.result.checks.append({
            "run_id": self.run_id, "subject_id": self.subject.subject_id,
            "obligation_id": obligation.obligation_id, "status": status,
            "evidence_url": evidence_url, "depth": depth, "via": via, "note": note,
        })

    # -- portal level -------------------------------------------------------------------
    def portal_verdict(self) -> str | None:
        harvest, home = self.harvest, self.harvest.home
        if harvest.unreachable:
            detail = "sin respuesta"
            if home is not None:
                detail = home.error_detail or home.error or f"HTTP {home.status_code}"
            self.finding(Code.PORTAL_UNREACHABLE,
                         f"El portal {harvest.home_url} no respondió ({detail}).",
                         evidence_url=harvest.home_url)
            return "unreachable"
        if not harvest.robots_home_allowed:
            parts = urlsplit(harvest.home_url)
            self.finding(Code.ROBOTS_DISALLOWED,
                         f"El archivo robots.txt de {parts.netloc} prohíbe a Lupa consultar el "
                         "portal; no se pudo verificar ninguna obligación.",
                         evidence_url=f"{parts.scheme}://{parts.netloc}/robots.txt")
            return "blocked"
        if not harvest.transparency_url and not harvest.hits:
            self.finding(Code.NO_TRANSPARENCY_SECTION,
                         "No se encontró una sección de transparencia a partir de la página de "
                         f"inicio {harvest.home_url}.", evidence_url=harvest.home_url)
            return "missing"
        return None

    # -- obligation level ---------------------------------------------------------------
    def audit_obligation(self, obligation: Obligation) -> None:
        hits = [h for h in self.harvest.hits
                if ObligationRef.parse(h.obligation_id).covers(obligation)]
        oid = obligation.obligation_id
        label = f"{oid} ({obligation.title[:90]})"
        if not hits:
            # The section searched is the evidence of absence.
            where = self.harvest.transparency_url or self.harvest.home_url
            self.finding(Code.OBLIGATION_MISSING,
                         f"No se encontró en el portal la obligación {label}.", oid, where)
            self.check(obligation, "missing", where)
            return
        self.report_broken_links(oid, hits)
        informative = [h for h in hits if self.has_information(h)]
        if informative:
            best = min(informative, key=self.info_depth)
            depth = self.info_depth(best)
            if depth > HARD_TO_FIND_CLICKS:
                self.finding(Code.HARD_TO_FIND,
                             f"La información de {label} está a {depth} clics de la página de "
                             f"inicio (el máximo razonable es {HARD_TO_FIND_CLICKS}).",
                             oid, best.url)
            self.check(obligation, "present", best.url, depth, best.via)
            self.add_resources(obligation, informative)
            return
        justified = [h for h in hits if h.justification
                     and classify(h.status_code, h.error) is Outcome.OK]
        if justified:
            text = justified[0].justification.strip()
            self.finding(Code.JUSTIFIED_ABSENCE,
                         f"El portal justifica la falta de información de {label}: «{text[:200]}».",
                         oid, justified[0].url)
            self.check(obligation, "justified", justified[0].url, justified[0].depth,
                       justified[0].via, note=text[:500])
            return
        self.check(obligation, self.failure_status(oid, label, hits), hits[0].url,
                   hits[0].depth, hits[0].via)

    @staticmethod
    def info_depth(hit) -> int:
        return hit.info_depth if hit.info_depth is not None else hit.depth

    @staticmethod
    def link_outcomes(hits: list) -> list[Outcome | None]:
        """One outcome per link that decides: a loaded page's files (None for a loaded page
        with no files, i.e. a page without content), or the page itself if it failed."""
        outcomes: list[Outcome | None] = []
        for hit in hits:
            page = classify(hit.status_code, hit.error)
            if page is not Outcome.OK:
                outcomes.append(page)
            elif hit.resources:
                outcomes.extend(classify(r.status_code, r.error) for r in hit.resources)
            else:
                outcomes.append(None)
        return outcomes

    def failure_status(self, oid: str, label: str, hits: list) -> str:
        outcomes = self.link_outcomes(hits)
        if Outcome.BROKEN in outcomes:
            return "missing"  # LINK_BROKEN findings already say why
        if None in outcomes:
            self.finding(Code.OBLIGATION_MISSING,
                         f"La página de {label} existe pero no contiene información publicada.",
                         oid, hits[0].url)
            return "missing"
        if Outcome.UNREACHABLE in outcomes:
            return "unreachable"
        if Outcome.DENIED in outcomes:
            denied = next(h for h in hits if classify(h.status_code, h.error) is Outcome.DENIED
                          or any(classify(r.status_code, r.error) is Outcome.DENIED
                                 for r in h.resources))
            self.finding(Code.ACCESS_BLOCKED,
                         f"El acceso a {label} exige iniciar sesión o está bloqueado "
                         "(HTTP 401/403).", oid, denied.url)
        return "blocked"

    @staticmethod
    def has_information(hit) -> bool:
        if classify(hit.status_code, hit.error) is not Outcome.OK:
            return False
        if hit.is_resource:
            return True
        return hit.has_table or any(classify(r.status_code, r.error) is Outcome.OK
                                    for r in hit.resources)

    def report_broken_links(self, oid: str, hits: Iterable) -> None:
        for hit in hits:
            if classify(hit.status_code, hit.error) is Outcome.BROKEN:
                self.finding(Code.LINK_BROKEN,
                             f"El enlace a {oid} {_broken_reason(hit.status_code, hit.error)}: "
                             f"{hit.url}", oid, hit.url)
            for res in hit.resources:
                if classify(res.status_code, res.error) is Outcome.BROKEN:
                    self.finding(Code.LINK_BROKEN,
                                 f"El archivo de {oid} "
                                 f"{_broken_reason(res.status_code, res.error)}: {res.url}",
                                 oid, res.url)

    def add_resources(self, obligation: Obligation, hits: Iterable) -> None:
        seen = set()
        for hit in hits:
            for res in hit.resources:
                if res.url in seen or classify(res.status_code, res.error) is not Outcome.OK:
                    continue
                seen.add(res.url)
                fmt, stars = format_and_stars(res.sniffed_type)
                self.result.resources.append({
                    "run_id": self.run_id, "subject_id": self.subject.subject_id,
                    "obligation_id": obligation.obligation_id, "url": res.url,
                    "detected_format": fmt, "stars": stars, "period_end": None,
                    "updated_at": None, "rows": None, "bytes": res.bytes,
                    "sha256": res.sha256, "status_code": res.status_code, "depth": res.depth,
                })


def audit_presence(subject: Subject, harvest, applicability: list[tuple[Obligation, bool]],
                   run_id: str) -> PresenceResult:
    """Decide every obligation's status for one subject; see the module docstring."""
    auditor = _Auditor(subject, harvest, run_id)
    portal_status = auditor.portal_verdict()
    for obligation, applicable in applicability:
        if not applicable:
            auditor.check(obligation, "not_applicable")
        elif portal_status is not None:
            auditor.check(obligation, portal_status)
        else:
            auditor.audit_obligation(obligation)
    return auditor.result
