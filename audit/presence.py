"""Presence audit: from what the crawler saw on a portal to a status per obligation.

Rules, in this fixed order (the first that applies decides), for every obligation of the
articles that apply to the subject. Rules 2–7 are portal level: one finding for the portal
(``obligation_id`` NULL), none per obligation.

1. not applicable for the subject's level or kind          -> ``not_applicable``
2. the home page could not be fetched                      -> ``unreachable``: TLS_INVALID when
   the https certificate could not be verified (Lupa neither skips verification nor falls
   back to http: what it would read could not be attributed to the subject), else
   PORTAL_UNREACHABLE
3. robots.txt forbids the home page to Lupa                -> ``blocked`` (ROBOTS_DISALLOWED;
   ACCESS_BLOCKED instead when robots.txt itself answered 401/403: an access restriction,
   usually a firewall, not a robots policy)
4. the home page, or the transparency section when nothing was found, is refused: HTTP
   401/403, a captcha or firewall challenge, a login wall  -> ``blocked`` (ACCESS_BLOCKED)
5. the home page or the transparency section is an empty shell that only JavaScript fills
   (few links and little text, with script bundles, a ``<noscript>`` notice or an empty app
   root)                                                   -> JS_REQUIRED; if nothing was
   found, ``missing`` for every obligation; otherwise the rules below judge what was seen
6. nothing found, and the portal only points to the national platform (PNT)
                                                           -> ``missing`` (DELEGATES_TO_PNT)
7. no transparency section and nothing found               -> ``missing`` (NO_TRANSPARENCY_SECTION)
8. no page or file on the portal refers to the obligation  -> ``missing`` (OBLIGATION_MISSING)
9. a page or file with its information answers             -> ``present``
   (HARD_TO_FIND when the information is more than three clicks from the home page)
10. the portal publishes a justification instead           -> ``justified`` (JUSTIFIED_ABSENCE)
11. otherwise the links decide, judging the obligation's files where its page loaded and the
    page itself where it did not: any broken link, error page answered 200 or page without
    content -> ``missing``; else every link refused (robots.txt, 401/403, a login, captcha
    or firewall page) -> ``blocked``; else (time-outs, 5xx) -> ``unreachable``.

Whatever the status, every broken link met on the way is a LINK_BROKEN finding and every
error page answered 200 (``anomaly`` 'soft_404' in the harvest) a SOFT_404 finding instead;
an obligation with a refused link (401/403, or a block page served under a document's URL)
gets one ACCESS_BLOCKED finding. ENCODING_ERROR does not change statuses: one portal-level
finding when the home page or the section shows mojibake, else one per obligation whose own
pages show it. A file larger than the size cap counts as published (it answered; only its
content is unread).
"""

from __future__ import annotations

import re
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
    SOFT_404 = "soft_404"        # 200, but an error page: broken, reported as SOFT_404
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


BLOCK_ANOMALIES = frozenset({"captcha", "waf", "login"})


def outcome_of(record) -> Outcome:
    """``classify`` of a crawled page, hit or file, reading what its body turned out to be:
    an error page answered 200 is SOFT_404; a captcha, firewall or login page is DENIED
    (whatever its status, short of an unreachable server)."""
    outcome = classify(record.status_code, record.error)
    anomaly = getattr(record, "anomaly", None)
    if anomaly == "soft_404" and outcome is Outcome.OK:
        return Outcome.SOFT_404
    if anomaly in BLOCK_ANOMALIES and outcome in (Outcome.OK, Outcome.DENIED,
                                                  Outcome.UNREACHABLE, Outcome.BROKEN):
        return Outcome.DENIED
    return outcome


_REFUSAL_REASON = {
    "captcha": "muestra un captcha o una verificación anti-robots",
    "waf": "muestra la página de bloqueo de un cortafuegos",
    "login": "exige iniciar sesión",
}


def _refusal_reason(record) -> str:
    anomaly = getattr(record, "anomaly", None)
    if anomaly in _REFUSAL_REASON:
        cue = getattr(record, "anomaly_detail", None)
        return _REFUSAL_REASON[anomaly] + (f" («{cue}»)" if cue else "")
    if record.status_code == 401:
        return "exige autenticación (HTTP 401)"
    return f"niega el acceso (HTTP {record.status_code})"


# JS_REQUIRED: at most this many links and characters of text on a script-filled shell.
JS_MAX_LINKS = 3
JS_MAX_TEXT = 300


def js_shell(page) -> bool:
    """True when a fetched page (``HomeFetch``) is an empty shell that only JavaScript fills:
    few links and little text, no frames, and an empty app root (``<div id="root"></div>``),
    or no link at all and a script with a ``<noscript>`` notice that mentions JavaScript."""
    if page is None or page.status_code is None or not 200 <= page.status_code < 300:
        return False
    if page.get("anomaly") or page.get("frames", 0):
        return False
    if page.links > JS_MAX_LINKS or page.text_chars > JS_MAX_TEXT:
        return False
    if page.get("app_root"):
        return True
    # Without an empty mount point, only a <noscript> notice that asks for JavaScript says
    # so: a splash page with jQuery, an analytics tag and an "Entrar al sitio" link is not a
    # shell. A page with a link to follow is navigable.
    if page.links >= 1:
        return False
    return page.get("scripts", 0) >= 1 and bool(_NEEDS_JS.search(page.get("noscript") or ""))


_NEEDS_JS = re.compile(r"java\s*script|\bjs\b", re.IGNORECASE)


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
        self.portal_mojibake = False
        self.pages = {page.url: page for page in harvest.pages}

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
            if home is not None and home.error == "tls":
                self.finding(Code.TLS_INVALID,
                             f"El certificado TLS del portal {harvest.home_url} no es válido "
                             f"({detail}); Lupa no consulta portales cuyo certificado no puede "
                             "verificarse, así que no se pudo verificar ninguna obligación.",
                             evidence_url=harvest.home_url)
                return "unreachable"
            self.finding(Code.PORTAL_UNREACHABLE,
                         f"El portal {harvest.home_url} no respondió ({detail}).",
                         evidence_url=harvest.home_url)
            return "unreachable"
        if not harvest.robots_home_allowed:
            parts = urlsplit(harvest.home_url)
            robots_url = f"{parts.scheme}://{parts.netloc}/robots.txt"
            detail = harvest.robots_detail if isinstance(harvest.robots_detail, dict) else {}
            if detail.get("state") == "forbidden":
                self.finding(Code.ACCESS_BLOCKED,
                             f"El archivo robots.txt de {parts.netloc} niega el acceso (HTTP "
                             f"{detail.get('status_code')}): el servidor restringe el acceso "
                             "a Lupa; no se pudo verificar ninguna obligación.",
                             evidence_url=detail.get("robots_url") or robots_url)
                return "blocked"
            self.finding(Code.ROBOTS_DISALLOWED,
                         f"El archivo robots.txt de {parts.netloc} prohíbe a Lupa consultar el "
                         "portal; no se pudo verificar ninguna obligación.",
                         evidence_url=robots_url)
            return "blocked"
        refused = self.portal_refusal()
        if refused is not None:
            where, page = refused
            url = page.get("url") or harvest.home_url
            self.finding(Code.ACCESS_BLOCKED,
                         f"{where} {url} {_refusal_reason(page)}; no se pudo verificar "
                         "ninguna obligación.", evidence_url=url)
            return "blocked"
        self.report_portal_encoding()
        shell = next((p for p in (home, harvest.get_section()) if js_shell(p)), None)
        if shell is not None:
            url = shell.get("url") or harvest.home_url
            self.finding(Code.JS_REQUIRED,
                         f"La página {url} solo muestra su contenido con JavaScript "
                         f"({shell.links} enlaces y {shell.text_chars} caracteres de texto sin "
                         "él); la información no es accesible sin ejecutar scripts.",
                         evidence_url=url)
            if not harvest.hits:
                return "missing"
        if not harvest.hits and harvest.pnt_links:
            where = harvest.transparency_url or harvest.home_url
            self.finding(Code.DELEGATES_TO_PNT,
                         f"El portal no publica sus obligaciones: {where} solo remite a la "
                         f"Plataforma Nacional de Transparencia ({harvest.pnt_links[0]}).",
                         evidence_url=where)
            return "missing"
        if not harvest.transparency_url and not harvest.hits:
            self.finding(Code.NO_TRANSPARENCY_SECTION,
                         "No se encontró una sección de transparencia a partir de la página de "
                         f"inicio {harvest.home_url}.", evidence_url=harvest.home_url)
            return "missing"
        return None

    def portal_refusal(self) -> tuple[str, object] | None:
        """The home page refused, or the section refused when nothing was found."""
        home = self.harvest.home
        if home is not None and (home.status_code in (401, 403)
                                 or home.get("anomaly") in BLOCK_ANOMALIES):
            return "La página de inicio", home
        blocked = self.harvest.get("blocked_section")
        if blocked is not None and not self.harvest.hits:
            return "La sección de transparencia", blocked
        return None

    def report_portal_encoding(self) -> None:
        """One ENCODING_ERROR for the portal, from its first encoding problem."""
        found = next(self._portal_encoding_problems(), None)
        if found is not None:
            url, message = found
            self.finding(Code.ENCODING_ERROR, message, evidence_url=url)
            self.portal_mojibake = True

    def _portal_encoding_problems(self):
        """(url, message) per problem of the home page and the section: garbled text first,
        then a charset declared that the page is not written in."""
        harvest = self.harvest
        pages = [(page, page.get("url") or harvest.home_url)
                 for page in (harvest.home, harvest.get_section()) if page is not None]
        for page, url in pages:
            if page.get("mojibake"):
                yield url, (f"Las páginas del portal muestran texto mal codificado, p. ej. "
                            f"«{page.mojibake}» en {url}.")
        for page, url in pages:
            declared, _, real = (page.get("charset_conflict") or "").partition("→")
            if real:
                yield url, (f"La página {url} declara la codificación {declared} pero está "
                            f"escrita en {real}: los navegadores muestran mal los acentos y "
                            "la ñ.")

    def report_encoding(self, oid: str, label: str, hits: list) -> None:
        if self.portal_mojibake:
            return
        for hit in hits:
            for url in dict.fromkeys([hit.url, *hit.pages]):
                page = self.pages.get(url)
                if page is not None and page.mojibake:
                    self.finding(Code.ENCODING_ERROR,
                                 f"La página de {label} muestra texto mal codificado: "
                                 f"«{page.mojibake}» ({url}).", oid, url)
                    return

    # -- obligation level ---------------------------------------------------------------
    def audit_obligation(self, obligation: Obligation) -> None:
        hits = [h for h in self.harvest.hits
                if ObligationRef.parse(h.obligation_id).covers(obligation)]
        oid = obligation.obligation_id
        label = obligation.label
        if not hits:
            # The section searched is the evidence of absence.
            where = self.harvest.transparency_url or self.harvest.home_url
            self.finding(Code.OBLIGATION_MISSING,
                         f"No se encontró en el portal la obligación {label}.", oid, where)
            self.check(obligation, "missing", where)
            return
        self.report_broken_links(oid, hits)
        self.report_denied_links(oid, label, hits)
        self.report_encoding(oid, label, hits)
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
        justified = [h for h in hits if h.justification and outcome_of(h) is Outcome.OK]
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
            page = outcome_of(hit)
            if page is not Outcome.OK:
                outcomes.append(page)
            elif hit.resources:
                outcomes.extend(outcome_of(r) for r in hit.resources)
            else:
                outcomes.append(None)
        return outcomes

    def failure_status(self, oid: str, label: str, hits: list) -> str:
        outcomes = self.link_outcomes(hits)
        if Outcome.BROKEN in outcomes or Outcome.SOFT_404 in outcomes:
            return "missing"  # LINK_BROKEN / SOFT_404 findings already say why
        if None in outcomes:
            self.finding(Code.OBLIGATION_MISSING,
                         f"La página de {label} existe pero no contiene información publicada.",
                         oid, hits[0].url)
            return "missing"
        if Outcome.UNREACHABLE in outcomes:
            return "unreachable"
        return "blocked"  # robots.txt or refusals (ACCESS_BLOCKED already reported)

    @staticmethod
    def has_information(hit) -> bool:
        if outcome_of(hit) is not Outcome.OK:
            return False
        if hit.is_resource:
            return True
        return hit.has_table or any(outcome_of(r) is Outcome.OK for r in hit.resources)

    def report_broken_links(self, oid: str, hits: Iterable) -> None:
        for hit in hits:
            for record, what in ((hit, "El enlace a"), *((r, "El archivo de")
                                                         for r in hit.resources)):
                outcome = outcome_of(record)
                if outcome is Outcome.BROKEN:
                    self.finding(Code.LINK_BROKEN,
                                 f"{what} {oid} "
                                 f"{_broken_reason(record.status_code, record.error)}: "
                                 f"{record.url}", oid, record.url)
                elif outcome is Outcome.SOFT_404:
                    self.finding(Code.SOFT_404,
                                 f"{what} {oid} responde HTTP {record.status_code} pero es una "
                                 f"página de error ({record.anomaly_detail}): {record.url}",
                                 oid, record.url)

    def report_denied_links(self, oid: str, label: str, hits: list) -> None:
        """One ACCESS_BLOCKED per obligation: its first refused page or file."""
        records = [record for hit in hits for record in (hit, *hit.resources)]
        denied = [record for record in records if outcome_of(record) is Outcome.DENIED]
        if denied:
            more = f" ({len(denied)} enlaces rechazados)" if len(denied) > 1 else ""
            self.finding(Code.ACCESS_BLOCKED,
                         f"El acceso a {label} está bloqueado: {denied[0].url} "
                         f"{_refusal_reason(denied[0])}{more}.", oid, denied[0].url)

    def add_resources(self, obligation: Obligation, hits: Iterable) -> None:
        seen = set()
        for hit in hits:
            for res in hit.resources:
                if res.url in seen or outcome_of(res) is not Outcome.OK:
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


class _Harvest:
    """Read access to a harvest, tolerant of records written before a field existed."""

    def __init__(self, harvest):
        self._harvest = harvest

    def __getattr__(self, name: str):
        return getattr(self._harvest, name)

    def get(self, name: str, default=None):
        return getattr(self._harvest, name, default)

    def get_section(self):
        return getattr(self._harvest, "section_fetch", None)


def audit_presence(subject: Subject, harvest, applicability: list[tuple[Obligation, bool]],
                   run_id: str) -> PresenceResult:
    """Decide every obligation's status for one subject; see the module docstring."""
    auditor = _Auditor(subject, _Harvest(harvest), run_id)
    portal_status = auditor.portal_verdict()
    for obligation, applicable in applicability:
        if not applicable:
            auditor.check(obligation, "not_applicable")
        elif portal_status is not None:
            auditor.check(obligation, portal_status)
        else:
            auditor.audit_obligation(obligation)
    return auditor.result
