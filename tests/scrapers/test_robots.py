"""robots.txt parsing, RFC 9309 matching, fetch-status verdicts and the per-origin cache."""

from __future__ import annotations

import threading

import pytest

from scrapers.results import FetchResult
from scrapers.robots import (
    FETCHED,
    FORBIDDEN,
    MISSING,
    UNREACHABLE,
    RobotsCache,
    normalize_path,
    origin_of,
    parse_robots,
    path_of,
    robots_url,
    status_from_fetch,
)

TOKENS = ("lupabot", "lupa")

PORTAL_ROBOTS = """\ufeff# robots de un ayuntamiento
Sitemap: https://municipio.gob.mx/sitemap.xml
Disallow: /ignored-before-any-group

User-agent: *
Disallow: /

User-agent: Googlebot
User-agent: LupaBot/0.1
Disallow: /transparencia
Allow: /transparencia/articulo-70
Disallow: /*.pdf$
Crawl-delay: 4

user-agent: otherbot
disallow:
"""


def rules(text: str, tokens: tuple[str, ...] = TOKENS):
    return parse_robots(text).rules_for(tokens)


def test_group_chosen_by_product_token_case_insensitively() -> None:
    chosen = rules(PORTAL_ROBOTS)
    assert chosen.crawl_delay == 4.0
    assert chosen.allows("/inicio") is True  # the * group's "Disallow: /" does not apply
    assert chosen.allows("/transparencia/articulo-70/fraccion-VIII") is True
    assert chosen.allows("/transparencia/articulo-71") is False
    assert chosen.allows("/ignored-before-any-group") is True


def test_fallback_to_star_group_and_to_allow_all() -> None:
    assert rules(PORTAL_ROBOTS, ("otherlupa",)).allows("/inicio") is False
    assert rules("User-agent: somebot\nDisallow: /\n").allows("/x") is True
    assert rules("").allows("/anything") is True


def test_lupa_token_matches_when_lupabot_is_absent() -> None:
    text = "User-agent: *\nDisallow: /\n\nUser-agent: Lupa\nAllow: /\n"
    assert rules(text).allows("/x") is True


def test_groups_for_the_same_agent_are_merged() -> None:
    text = "User-agent: lupabot\nDisallow: /a\n\nUser-agent: LUPABOT\nDisallow: /b\n"
    chosen = rules(text)
    assert (chosen.allows("/a"), chosen.allows("/b"), chosen.allows("/c")) == (False, False, True)


def test_longest_match_wins_whatever_the_order() -> None:
    text = "User-agent: *\nAllow: /datos/publicos\nDisallow: /datos\n"
    assert rules(text).allows("/datos/publicos/2024.csv") is True
    assert rules(text).allows("/datos/privados") is False
    reversed_text = "User-agent: *\nDisallow: /datos/publicos/2024\nAllow: /datos\n"
    assert rules(reversed_text).allows("/datos/publicos/2024.csv") is False


def test_allow_wins_a_tie() -> None:
    text = "User-agent: *\nDisallow: /page\nAllow: /page\n"
    assert rules(text).allows("/page") is True


def test_wildcards() -> None:
    text = "User-agent: *\nDisallow: /*.pdf$\nDisallow: /*?sesion=\nDisallow: /fotos*/grandes\n"
    chosen = rules(text)
    assert chosen.allows("/docs/informe.pdf") is False
    assert chosen.allows("/docs/informe.pdf?descarga=1") is True
    assert chosen.allows("/docs/informe.pdfx") is True
    assert chosen.allows("/buscar?sesion=abc") is False
    assert chosen.allows("/buscar?q=1") is True
    assert chosen.allows("/fotos-2024/grandes/1.jpg") is False
    assert chosen.allows("/fotos-2024/chicas/1.jpg") is True


def test_query_is_part_of_the_matched_path() -> None:
    assert path_of("https://x.mx/a/b?c=1#frag") == "/a/b?c=1"
    assert path_of("https://x.mx") == "/"
    assert rules("User-agent: *\nDisallow: /a?c=\n").allows("/a?c=1") is False


def test_percent_encoding_is_normalised_on_both_sides() -> None:
    text = "User-agent: *\nDisallow: /fracción\nDisallow: /a%2fb\n"
    chosen = rules(text)
    assert chosen.allows("/fracci%C3%B3n-viii") is False
    assert chosen.allows("/fracci%c3%b3n") is False
    assert chosen.allows("/a%2Fb") is False
    assert chosen.allows("/a/b") is True  # an encoded slash is not a slash
    assert normalize_path("/%7Euser/%41") == "/~user/A"


def test_robots_txt_itself_is_always_allowed() -> None:
    assert rules("User-agent: *\nDisallow: /\n").allows("/robots.txt") is True


def test_bad_crawl_delays_are_ignored_and_sitemaps_collected() -> None:
    parsed = parse_robots("User-agent: *\nCrawl-delay: soon\nCrawl-delay: -3\n" + PORTAL_ROBOTS)
    assert parsed.rules_for(("nobody",)).crawl_delay is None
    assert parsed.sitemaps == ("https://municipio.gob.mx/sitemap.xml",)


def test_rule_without_leading_slash_is_read_as_a_path() -> None:
    assert rules("User-agent: *\nDisallow: privado\n").allows("/privado/x") is False


def test_origin_and_robots_url() -> None:
    assert origin_of("HTTPS://Portal.gob.mx/a") == "https://portal.gob.mx:443"
    assert origin_of("http://portal.gob.mx:8080/a") == "http://portal.gob.mx:8080"
    assert robots_url("https://portal.gob.mx:443/a?b") == "https://portal.gob.mx/robots.txt"
    assert robots_url("http://127.0.0.1:8080/x") == "http://127.0.0.1:8080/robots.txt"
    assert robots_url("http://[::1]:81/x") == "http://[::1]:81/robots.txt"


# --- what a fetch of robots.txt means --------------------------------------------------------

URL = "https://portal.gob.mx/robots.txt"


def fetched(status: int | None, body: bytes = b"", error: str | None = None, **kw) -> FetchResult:
    return FetchResult(
        url=URL,
        final_url=URL,
        status_code=status,
        content=body,
        error=error,
        error_detail=kw.pop("detail", None),
        **kw,
    )


def test_200_is_parsed() -> None:
    entry = status_from_fetch(
        URL, fetched(200, b"User-agent: *\nDisallow: /x\nCrawl-delay: 2"), TOKENS
    )
    assert entry.status.state == FETCHED
    assert entry.status.crawl_delay == 2.0
    assert entry.allows("https://portal.gob.mx/x/1") is False
    assert entry.allows("https://portal.gob.mx/y") is True


def test_truncated_file_is_parsed_up_to_its_last_full_line() -> None:
    body = b"User-agent: *\nDisallow: /a\nDisallow: /b-cut-he"
    entry = status_from_fetch(URL, fetched(200, body, "too_large", truncated=True), TOKENS)
    assert entry.status.state == FETCHED
    assert entry.allows("https://portal.gob.mx/a") is False
    assert entry.allows("https://portal.gob.mx/b") is True


@pytest.mark.parametrize("status", [404, 410, 400])
def test_missing_file_allows_everything(status: int) -> None:
    entry = status_from_fetch(URL, fetched(status, b"<html>no</html>", "http_error"), TOKENS)
    assert entry.status.state == MISSING
    assert entry.status.allows_all
    assert entry.allows("https://portal.gob.mx/anything") is True


@pytest.mark.parametrize("status", [401, 403])
def test_forbidden_file_disallows_everything(status: int) -> None:
    entry = status_from_fetch(URL, fetched(status, b"", "http_error"), TOKENS)
    assert entry.status.state == FORBIDDEN
    assert entry.allows("https://portal.gob.mx/") is False
    assert str(status) in entry.status.detail


@pytest.mark.parametrize("status", [500, 503, 429])
def test_server_errors_disallow_everything_and_say_why(status: int) -> None:
    entry = status_from_fetch(URL, fetched(status, b"oops", "http_error"), TOKENS)
    assert entry.status.state == UNREACHABLE
    assert entry.status.disallows_all
    assert entry.allows("https://portal.gob.mx/") is False
    assert f"HTTP {status}" in entry.status.detail
    assert "RFC 9309" in entry.status.detail


def test_network_failure_is_unreachable_with_the_error_code() -> None:
    result = fetched(None, error="connect", detail="connection refused")
    entry = status_from_fetch(URL, result, TOKENS)
    assert (entry.status.state, entry.status.error) == (UNREACHABLE, "connect")
    assert "connection refused" in entry.status.detail


def test_redirect_loop_counts_as_missing() -> None:
    entry = status_from_fetch(URL, fetched(302, error="redirect_loop", detail="loop"), TOKENS)
    assert entry.status.state == MISSING
    assert entry.allows("https://portal.gob.mx/x") is True


def test_status_for_a_url_names_the_deciding_rule() -> None:
    entry = status_from_fetch(URL, fetched(200, b"User-agent: *\nDisallow: /priv\n"), TOKENS)
    status = entry.status_for("https://portal.gob.mx/privado")
    assert (status.allowed, status.rule) == (False, "Disallow: /priv")
    data = entry.status_for("https://portal.gob.mx/ok").to_dict()
    assert data["allowed"] is True and data["rule"] is None and data["state"] == FETCHED


def test_cache_fetches_each_origin_once_across_threads() -> None:
    calls: list[str] = []
    gate = threading.Event()

    def load(url: str) -> FetchResult:
        calls.append(url)
        gate.wait(2)
        return FetchResult(
            url=url, final_url=url, status_code=200, content=b"User-agent: *\nDisallow: /x\n"
        )

    cache = RobotsCache(load, TOKENS)
    verdicts: list[bool] = []
    threads = [
        threading.Thread(
            target=lambda: verdicts.append(cache.lookup("https://a.mx/x").allows("https://a.mx/x"))
        )
        for _ in range(6)
    ]
    for thread in threads:
        thread.start()
    gate.set()
    for thread in threads:
        thread.join(5)
    cache.lookup("https://a.mx:443/other")
    cache.lookup("http://a.mx/other")  # another origin (scheme differs)
    assert calls == ["https://a.mx/robots.txt", "http://a.mx/robots.txt"]
    assert verdicts == [False] * 6
    assert cache.cached("https://b.mx/") is None
