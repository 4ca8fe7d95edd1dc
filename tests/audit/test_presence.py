"""The presence rules, one table row per situation the crawler can report."""

import pytest

from audit.catalog import load_catalog
from audit.findings import Code
from audit.presence import audit_presence, format_and_stars
from audit.subjects import Subject
from scrapers.crawl import Hit, HomeFetch, PageVisit, PortalHarvest, ResourceCheck

HOME = "http://portal.example/"
SUBJECT = Subject("1", "Municipio de Prueba", "", "municipal", "Jalisco", "ejecutivo", HOME)
STATE_EXECUTIVE = Subject("2", "Secretaría de Prueba", "", "estatal", "Jalisco", "ejecutivo",
                          HOME)


def catalog():
    return load_catalog("LGTAIP-2015")


def resource(url="http://portal.example/f.xlsx", status=200, error=None):
    return ResourceCheck(url=url, text="xlsx", depth=2, found_on=HOME + "t", checked=True,
                         status_code=status, error=error,
                         sniffed_type="application/vnd.openxmlformats-officedocument."
                                      "spreadsheetml.sheet", bytes=100, sha256="ab")


def hit(oid, url=HOME + "t/viii", status=200, error=None, resources=(), depth=2,
        info_depth=2, justification=None, has_table=False, is_resource=False):
    return Hit(obligation_id=oid, cited_id=oid, url=url, depth=depth, info_depth=info_depth,
               via="link_text", text="Fracción", found_on=HOME + "t", is_resource=is_resource,
               status_code=status, error=error, resources=list(resources),
               justification=justification, has_table=has_table)


def harvest(hits=(), **kw):
    values = dict(subject_id="1", home_url=HOME, home=HomeFetch(status_code=200),
                  transparency_url=HOME + "t", transparency_depth=1, hits=list(hits))
    values.update(kw)
    return PortalHarvest(**values)


def run(h, subject=SUBJECT, only=None):
    applicability = catalog().applicability(subject)
    if only:
        applicability = [(o, a) for o, a in applicability if o.obligation_id in only]
    result = audit_presence(subject, h, applicability, "run-1")
    statuses = {c["obligation_id"]: c["status"] for c in result.checks}
    codes = sorted((f.code.value, f.obligation_id) for f in result.findings)
    return statuses, codes, result


def test_present_with_working_file():
    statuses, codes, result = run(harvest([hit("70-VIII", resources=[resource()])]),
                                  only={"70-VIII"})
    assert statuses == {"70-VIII": "present"}
    assert codes == []
    assert result.resources[0]["detected_format"] == "xlsx"
    assert result.resources[0]["stars"] == 2


def test_fraction_page_covers_its_subformats():
    statuses, codes, _ = run(harvest([hit("70-II", resources=[resource()])]),
                             only={"70-II-A", "70-II-B"})
    assert statuses == {"70-II-A": "present", "70-II-B": "present"}


def test_subformat_page_does_not_cover_its_sibling():
    statuses, codes, _ = run(harvest([hit("70-II-A", resources=[resource()])]),
                             only={"70-II-A", "70-II-B"})
    assert statuses == {"70-II-A": "present", "70-II-B": "missing"}
    assert codes == [("OBLIGATION_MISSING", "70-II-B")]


def test_not_found_is_missing():
    statuses, codes, _ = run(harvest([]), only={"70-VIII"})
    assert statuses == {"70-VIII": "missing"}
    assert codes == [("OBLIGATION_MISSING", "70-VIII")]


def test_deep_information_is_hard_to_find():
    h = harvest([hit("70-VIII", resources=[resource()], depth=3, info_depth=5)])
    statuses, codes, result = run(h, only={"70-VIII"})
    assert statuses == {"70-VIII": "present"}
    assert codes == [("HARD_TO_FIND", "70-VIII")]
    assert "5 clics" in result.findings[0].message


def test_three_clicks_is_fine():
    _, codes, _ = run(harvest([hit("70-VIII", resources=[resource()], info_depth=3)]),
                      only={"70-VIII"})
    assert codes == []


def test_broken_obligation_link():
    statuses, codes, _ = run(harvest([hit("70-VIII", status=404, error="http_error")]),
                             only={"70-VIII"})
    assert statuses == {"70-VIII": "missing"}
    assert codes == [("LINK_BROKEN", "70-VIII")]


def test_some_files_broken_still_present():
    files = [resource(), resource(HOME + "old.xlsx", status=404, error="http_error")]
    statuses, codes, _ = run(harvest([hit("70-VIII", resources=files)]), only={"70-VIII"})
    assert statuses == {"70-VIII": "present"}
    assert codes == [("LINK_BROKEN", "70-VIII")]


def test_all_files_broken_is_missing_with_one_finding_per_file():
    files = [resource(HOME + f"{i}.xlsx", status=404, error="http_error") for i in range(2)]
    statuses, codes, _ = run(harvest([hit("70-VIII", resources=files)]), only={"70-VIII"})
    assert statuses == {"70-VIII": "missing"}
    assert codes == [("LINK_BROKEN", "70-VIII")] * 2


def test_justified_absence():
    h = harvest([hit("70-XXII", justification="No se generó información en el periodo.")])
    statuses, codes, result = run(h, only={"70-XXII"})
    assert statuses == {"70-XXII": "justified"}
    assert codes == [("JUSTIFIED_ABSENCE", "70-XXII")]
    assert "No se generó" in result.checks[0]["note"]


def test_empty_page_without_justification_is_missing():
    statuses, codes, _ = run(harvest([hit("70-VIII")]), only={"70-VIII"})
    assert statuses == {"70-VIII": "missing"}
    assert codes == [("OBLIGATION_MISSING", "70-VIII")]


def test_inline_table_counts_as_published():
    statuses, _, _ = run(harvest([hit("70-VIII", has_table=True)]), only={"70-VIII"})
    assert statuses == {"70-VIII": "present"}


def test_direct_file_link_is_published():
    h = harvest([hit("70-VIII", url=HOME + "f.csv", is_resource=True, resources=[])])
    statuses, _, _ = run(h, only={"70-VIII"})
    assert statuses == {"70-VIII": "present"}


@pytest.mark.parametrize(("error", "status_code", "expected"), [
    ("timeout", None, "unreachable"), ("connect", None, "unreachable"),
    ("http_error", 503, "unreachable"), ("robots", None, "blocked"),
])
def test_obligation_page_failures(error, status_code, expected):
    statuses, codes, _ = run(harvest([hit("70-VIII", status=status_code, error=error)]),
                             only={"70-VIII"})
    assert statuses == {"70-VIII": expected}
    assert codes == []


def test_unreachable_portal_one_finding_all_unreachable():
    h = harvest(unreachable=True, home=HomeFetch(error="connect", error_detail="refused"),
                transparency_url=None)
    statuses, codes, _ = run(h)
    applicable = {s for s in statuses.values() if s != "not_applicable"}
    assert applicable == {"unreachable"}
    assert codes == [("PORTAL_UNREACHABLE", None)]


def test_robots_disallowed_portal():
    statuses, codes, result = run(harvest(robots_home_allowed=False, transparency_url=None))
    assert {s for s in statuses.values() if s != "not_applicable"} == {"blocked"}
    assert codes == [("ROBOTS_DISALLOWED", None)]
    assert result.findings[0].evidence_url == "http://portal.example/robots.txt"


def test_no_transparency_section_is_one_portal_finding():
    statuses, codes, _ = run(harvest(transparency_url=None))
    assert {s for s in statuses.values() if s != "not_applicable"} == {"missing"}
    assert codes == [("NO_TRANSPARENCY_SECTION", None)]


def test_applicability_by_level():
    municipal, _, _ = run(harvest([]), subject=SUBJECT, only={"71-II-A"})
    state, codes, _ = run(harvest([]), subject=STATE_EXECUTIVE, only={"71-II-A"})
    assert municipal == {"71-II-A": "missing"}
    assert state == {"71-II-A": "not_applicable"}
    assert codes == []


def test_every_applicable_obligation_gets_exactly_one_check():
    _, _, result = run(harvest([hit("70-VIII", resources=[resource()])]))
    ids = [c["obligation_id"] for c in result.checks]
    assert len(ids) == len(set(ids)) == len(catalog().applicability(SUBJECT))


def test_findings_are_deterministic_and_deduplicated():
    files = [resource(HOME + "x.xlsx", status=404, error="http_error")]
    h = harvest([hit("70-II", resources=files)])
    _, _, first = run(h, only={"70-II-A", "70-II-B"})
    _, _, second = run(h, only={"70-II-A", "70-II-B"})
    assert [f.finding_id for f in first.findings] == [f.finding_id for f in second.findings]
    # one broken file shared by two sub-formats is one finding per sub-format
    assert len({f.finding_id for f in first.findings}) == len(first.findings) == 2


def test_messages_are_spanish():
    _, _, result = run(harvest([]), only={"70-VIII"})
    assert result.findings[0].code is Code.OBLIGATION_MISSING
    assert "No se encontró" in result.findings[0].message


def test_format_and_stars():
    assert format_and_stars("text/csv") == ("csv", 3)
    assert format_and_stars("application/pdf") == ("pdf", 1)
    assert format_and_stars("text/html") == ("html", 0)
    assert format_and_stars(None) == (None, None)


@pytest.mark.parametrize(("error", "status_code", "expected", "codes"), [
    ("timeout", None, "unreachable", []),
    ("robots", None, "blocked", []),
    ("http_error", 403, "blocked", [("ACCESS_BLOCKED", "70-VIII")]),
    ("redirect_loop", 302, "missing", [("LINK_BROKEN", "70-VIII")]),
    ("private_address", None, "missing", [("LINK_BROKEN", "70-VIII")]),
])
def test_loaded_page_whose_files_fail_is_judged_by_its_files(error, status_code, expected,
                                                             codes):
    files = [resource(status=status_code, error=error)]
    statuses, found, _ = run(harvest([hit("70-VIII", resources=files)]), only={"70-VIII"})
    assert statuses == {"70-VIII": expected}
    assert found == codes


def test_file_over_the_size_cap_counts_as_published():
    files = [resource(status=200, error="too_large")]
    statuses, codes, _ = run(harvest([hit("70-VIII", resources=files)]), only={"70-VIII"})
    assert statuses == {"70-VIII": "present"}
    assert codes == []


def test_missing_obligation_points_at_the_section_searched():
    _, _, result = run(harvest([]), only={"70-VIII"})
    assert result.findings[0].evidence_url == HOME + "t"
    assert result.checks[0]["evidence_url"] == HOME + "t"


# --------------------------------------------------------------------------- opacity rules

def page_fetch(url=HOME, **kw):
    values = dict(status_code=200, url=url, links=25, text_chars=3000)
    values.update(kw)
    return HomeFetch(**values)


def applicable_statuses(statuses):
    return {s for s in statuses.values() if s != "not_applicable"}


def test_invalid_certificate_is_tls_invalid_not_unreachable_finding():
    h = harvest(unreachable=True, transparency_url=None,
                home=HomeFetch(error="tls", error_detail="certificate verify failed"))
    statuses, codes, result = run(h)
    assert applicable_statuses(statuses) == {"unreachable"}
    assert codes == [("TLS_INVALID", None)]
    assert "certificado" in result.findings[0].message
    assert result.findings[0].evidence_url == HOME


def test_robots_txt_answering_403_is_an_access_block():
    detail = {"state": "forbidden", "status_code": 403, "robots_url": HOME + "robots.txt"}
    statuses, codes, result = run(harvest(robots_home_allowed=False, robots_detail=detail,
                                          transparency_url=None, home=None))
    assert applicable_statuses(statuses) == {"blocked"}
    assert codes == [("ACCESS_BLOCKED", None)]
    assert result.findings[0].evidence_url == HOME + "robots.txt"


@pytest.mark.parametrize(("home", "words"), [
    (page_fetch(status_code=403, anomaly="waf", anomaly_detail="request rejected"),
     "cortafuegos"),
    (page_fetch(anomaly="captcha", anomaly_detail="g-recaptcha"), "captcha"),
    (page_fetch(status_code=401), "HTTP 401"),
])
def test_refused_home_page_blocks_every_obligation(home, words):
    statuses, codes, result = run(harvest(home=home, transparency_url=None))
    assert applicable_statuses(statuses) == {"blocked"}
    assert codes == [("ACCESS_BLOCKED", None)]
    assert words in result.findings[0].message


def test_login_wall_on_the_section_blocks_every_obligation():
    wall = page_fetch(HOME + "transparencia", anomaly="login", anomaly_detail="contraseña",
                      final_url=HOME + "login")
    statuses, codes, result = run(harvest(transparency_url=None, blocked_section=wall))
    assert applicable_statuses(statuses) == {"blocked"}
    assert codes == [("ACCESS_BLOCKED", None)]
    assert result.findings[0].evidence_url == HOME + "transparencia"
    assert "iniciar sesión" in result.findings[0].message


def test_refused_section_link_does_not_matter_when_obligations_were_found():
    wall = page_fetch(HOME + "intranet", status_code=403)
    h = harvest([hit("70-VIII", resources=[resource()])], blocked_section=wall)
    statuses, codes, _ = run(h, only={"70-VIII"})
    assert statuses == {"70-VIII": "present"} and codes == []


SHELL = dict(links=0, text_chars=40, scripts=2, app_root="div#root",
             noscript="Necesitas habilitar JavaScript")


def test_script_shell_home_is_js_required_and_everything_missing():
    statuses, codes, result = run(harvest(home=page_fetch(**SHELL), transparency_url=None))
    assert applicable_statuses(statuses) == {"missing"}
    assert codes == [("JS_REQUIRED", None)]
    assert "JavaScript" in result.findings[0].message


def test_script_shell_section():
    section = page_fetch(HOME + "t", **SHELL)
    statuses, codes, result = run(harvest(section_fetch=section))
    assert applicable_statuses(statuses) == {"missing"}
    assert codes == [("JS_REQUIRED", None)]
    assert result.findings[0].evidence_url == HOME + "t"


def test_script_shell_home_with_a_readable_registry_section_keeps_the_other_rules():
    h = harvest([hit("70-VIII", resources=[resource()])], home=page_fetch(**SHELL))
    statuses, codes, _ = run(h, only={"70-VIII", "70-XI"})
    assert statuses == {"70-VIII": "present", "70-XI": "missing"}
    assert codes == [("JS_REQUIRED", None), ("OBLIGATION_MISSING", "70-XI")]


@pytest.mark.parametrize("page", [
    page_fetch(links=2, text_chars=100),                                 # small, no scripts
    page_fetch(links=2, text_chars=100, scripts=1, frames=1),            # a frameset
    page_fetch(links=30, text_chars=100, scripts=5, app_root="div#app"),  # links: rendered
    page_fetch(status_code=404, links=0, text_chars=0, scripts=3),
])
def test_pages_that_are_not_script_shells(page):
    _, codes, _ = run(harvest(home=page, transparency_url=None), only={"70-VIII"})
    assert codes == [("NO_TRANSPARENCY_SECTION", None)]


def test_section_that_only_points_to_the_national_platform():
    pnt = "https://consultapublicamx.plataformadetransparencia.org.mx/vut-web/"
    statuses, codes, result = run(harvest(pnt_links=[pnt]))
    assert applicable_statuses(statuses) == {"missing"}
    assert codes == [("DELEGATES_TO_PNT", None)]
    assert result.findings[0].evidence_url == HOME + "t"
    assert "Plataforma Nacional" in result.findings[0].message


def test_home_linking_only_the_national_platform():
    pnt = "https://www.plataformadetransparencia.org.mx/"
    _, codes, result = run(harvest(pnt_links=[pnt], transparency_url=None))
    assert codes == [("DELEGATES_TO_PNT", None)]
    assert result.findings[0].evidence_url == HOME


def test_a_pnt_link_next_to_published_obligations_is_fine():
    h = harvest([hit("70-VIII", resources=[resource()])], pnt_links=["https://x.plataformadet"
                                                                      "ransparencia.org.mx/"])
    _, codes, _ = run(h, only={"70-VIII"})
    assert codes == []


def test_soft_404_obligation_page_is_missing_and_reported_as_soft_404():
    dead = hit("70-VIII")
    dead.anomaly, dead.anomaly_detail = "soft_404", "muestra «pagina no encontrada»"
    statuses, codes, result = run(harvest([dead]), only={"70-VIII"})
    assert statuses == {"70-VIII": "missing"}
    assert codes == [("SOFT_404", "70-VIII")]
    assert "página de error" in result.findings[0].message


def test_soft_404_files():
    soft = resource(HOME + "old.xlsx")
    soft.anomaly, soft.anomaly_detail = "soft_404", "lleva a la página de inicio"
    statuses, codes, result = run(harvest([hit("70-VIII", resources=[resource(), soft])]),
                                  only={"70-VIII"})
    assert statuses == {"70-VIII": "present"}
    assert codes == [("SOFT_404", "70-VIII")]
    assert [r["url"] for r in result.resources] == [HOME + "f.xlsx"]
    statuses, codes, _ = run(harvest([hit("70-VIII", resources=[soft])]), only={"70-VIII"})
    assert statuses == {"70-VIII": "missing"} and codes == [("SOFT_404", "70-VIII")]


def test_block_page_under_a_document_url():
    blocked = resource(HOME + "f.pdf")
    blocked.anomaly, blocked.anomaly_detail = "waf", "request rejected"
    statuses, codes, result = run(harvest([hit("70-VIII", resources=[blocked])]),
                                  only={"70-VIII"})
    assert statuses == {"70-VIII": "blocked"}
    assert codes == [("ACCESS_BLOCKED", "70-VIII")]
    assert result.findings[0].evidence_url == HOME + "f.pdf"
    assert result.resources == []
    # one good file: published, but the blocked one is still reported
    statuses, codes, _ = run(harvest([hit("70-VIII", resources=[resource(), blocked])]),
                             only={"70-VIII"})
    assert statuses == {"70-VIII": "present"} and codes == [("ACCESS_BLOCKED", "70-VIII")]


def test_login_page_as_an_obligation_page_is_blocked():
    wall = hit("70-VIII")
    wall.anomaly, wall.anomaly_detail = "login", "iniciar sesion"
    statuses, codes, _ = run(harvest([wall]), only={"70-VIII"})
    assert statuses == {"70-VIII": "blocked"} and codes == [("ACCESS_BLOCKED", "70-VIII")]


def test_mojibake_on_the_portal_is_one_portal_finding():
    h = harvest([hit("70-VIII", resources=[resource()])],
                home=page_fetch(mojibake="TrÃ¡mites en lÃ­nea"))
    h.pages = [PageVisit(HOME + "t/viii", 2, 200, None, HOME + "t", "70-VIII",
                         mojibake="FracciÃ³n VIII")]
    h.hits[0].pages = [HOME + "t/viii"]
    statuses, codes, result = run(h, only={"70-VIII"})
    assert statuses == {"70-VIII": "present"}
    assert codes == [("ENCODING_ERROR", None)]
    assert "TrÃ¡mites" in result.findings[0].message


def test_mojibake_on_an_obligation_page_is_that_obligations_finding():
    h = harvest([hit("70-VIII", resources=[resource()]), hit("70-XI", url=HOME + "t/xi",
                                                             resources=[resource()])])
    h.pages = [PageVisit(HOME + "t/viii", 2, 200, None, HOME + "t", "70-VIII",
                         mojibake="FracciÃ³n VIII"),
               PageVisit(HOME + "t/xi", 2, 200, None, HOME + "t", "70-XI")]
    h.hits[0].pages, h.hits[1].pages = [HOME + "t/viii"], [HOME + "t/xi"]
    statuses, codes, result = run(h, only={"70-VIII", "70-XI"})
    assert statuses == {"70-VIII": "present", "70-XI": "present"}
    assert codes == [("ENCODING_ERROR", "70-VIII")]
    assert result.findings[0].evidence_url == HOME + "t/viii"


def test_opacity_messages_are_spanish_and_portal_findings_have_no_obligation():
    for h in (harvest(home=page_fetch(**SHELL), transparency_url=None),
              harvest(pnt_links=["https://www.plataformadetransparencia.org.mx/"])):
        _, _, result = run(h, only={"70-VIII"})
        (finding,) = result.findings
        assert finding.obligation_id is None and finding.evidence_url
        assert any(word in finding.message for word in ("portal", "página", "La "))
