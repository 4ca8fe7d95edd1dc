"""The polite fetcher against a real loopback server.

Waits are asserted through an injected fake clock/sleep (never wall-clock time); only the
timeout tests really wait, for well under a second each.
"""

from __future__ import annotations

import socket
import threading
from datetime import UTC

import pytest
from loopback_server import (
    LoopbackServer,
    closed_port,
    drip,
    fail_then,
    gzip_bomb,
    huge,
    redirect,
    reset,
    respond,
    robots,
    sleep_then,
)

from scrapers.fetch import ERRORS, Fetcher, FetchPolicy, Redirect
from scrapers.netguard import NetGuard

MIB = 1024 * 1024


def make_fetcher(server: LoopbackServer, fake_time, guard: NetGuard | None = None, **overrides):
    """A fetcher that treats ``server`` as a public origin and never really sleeps."""
    settings = {
        "delay_seconds": 0.0,
        "backoff_jitter": 0.0,
        "connect_timeout": 2.0,
        "read_timeout": 2.0,
        "allowed_endpoints": (server.endpoint,),
    }
    settings.update(overrides)
    return Fetcher(
        FetchPolicy(**settings), sleep=fake_time.sleep, clock=fake_time.clock, guard=guard
    )


# --- identity and basics ---------------------------------------------------------------------


def test_user_agent_names_lupa_and_a_contact(server, fake_time) -> None:
    server.route("/", respond("<html><body>hola</body></html>"))
    with make_fetcher(server, fake_time, obey_robots=False) as fetcher:
        result = fetcher.fetch(server.url("/"))
    sent = server.requests[-1].headers["User-Agent"]
    contact = "https://github.com/lupa-transparencia/lupa#bot"
    assert sent == f"LupaBot/0.1 (+{contact}; auditoria de transparencia)"
    assert result.ok and result.status_code == 200 and result.attempts == 1
    assert result.declared_type == "text/html" and result.sniffed_type == "text/html"
    assert result.headers["content-type"] == "text/html; charset=utf-8"
    assert result.fetched_at.tzinfo is UTC
    assert result.error is None and result.final_url == server.url("/")


def test_contact_is_configurable(server, fake_time) -> None:
    server.route("/", respond("x"))
    fetcher = make_fetcher(
        server, fake_time, obey_robots=False, contact_url="mailto:auditoria@example.org"
    )
    fetcher.fetch(server.url("/"))
    assert (
        server.requests[-1]
        .headers["User-Agent"]
        .startswith("LupaBot/0.1 (+mailto:auditoria@example.org;")
    )


def test_head_is_supported_and_other_methods_are_not(server, fake_time) -> None:
    server.route("/", respond("cuerpo"))
    fetcher = make_fetcher(server, fake_time, obey_robots=False)
    result = fetcher.fetch(server.url("/"), method="HEAD")
    assert (result.status_code, result.content, server.requests[-1].method) == (200, b"", "HEAD")
    with pytest.raises(ValueError, match="only reads"):
        fetcher.fetch(server.url("/"), method="POST")


def test_errors_are_drawn_from_the_shared_vocabulary() -> None:
    assert "private_address" in ERRORS and "http_error" in ERRORS


# --- robots.txt -------------------------------------------------------------------------------


def test_robots_disallow_means_no_request(server, fake_time) -> None:
    server.route("/robots.txt", robots("User-agent: *\nDisallow: /privado\n"))
    server.route("/privado/nomina.xlsx", respond(b"secret"))
    server.route("/publico", respond(b"ok"))
    fetcher = make_fetcher(server, fake_time)
    blocked = fetcher.fetch(server.url("/privado/nomina.xlsx"))
    allowed = fetcher.fetch(server.url("/publico"))
    assert (blocked.error, blocked.status_code, blocked.attempts) == ("robots", None, 0)
    assert "disallows" in blocked.error_detail
    assert allowed.ok
    assert server.hits("/privado/nomina.xlsx") == 0
    assert server.hits("/robots.txt") == 1  # cached per origin
    assert fetcher.robots_allows(server.url("/privado/x")) is False
    assert fetcher.robots_allows(server.url("/otra")) is True


def test_robots_longest_match_for_the_lupabot_group(server, fake_time) -> None:
    server.route(
        "/robots.txt",
        robots(
            "User-agent: *\nDisallow: /\n\n"
            "User-agent: LupaBot\nDisallow: /transparencia\nAllow: /transparencia/articulo-70\n"
        ),
    )
    for path in ("/transparencia/articulo-70/viii", "/transparencia/articulo-71", "/inicio"):
        server.route(path, respond("x"))
    fetcher = make_fetcher(server, fake_time)
    assert fetcher.fetch(server.url("/transparencia/articulo-70/viii")).ok
    assert fetcher.fetch(server.url("/transparencia/articulo-71")).error == "robots"
    assert fetcher.fetch(server.url("/inicio")).ok
    status = fetcher.robots_status(server.url("/transparencia/articulo-71"))
    assert (status.state, status.allowed, status.rule) == (
        "fetched",
        False,
        "Disallow: /transparencia",
    )


def test_obey_robots_false_fetches_anyway_but_still_reports(server, fake_time) -> None:
    server.route("/robots.txt", robots("User-agent: *\nDisallow: /\n"))
    server.route("/x", respond("x"))
    fetcher = make_fetcher(server, fake_time, obey_robots=False)
    assert fetcher.fetch(server.url("/x")).ok
    assert server.hits("/robots.txt") == 0
    assert fetcher.robots_allows(server.url("/x")) is False


def test_robots_404_allows_everything(server, fake_time) -> None:
    server.route("/x", respond("x"))
    fetcher = make_fetcher(server, fake_time)
    assert fetcher.fetch(server.url("/x")).ok
    status = fetcher.robots_status(server.url("/x"))
    assert (status.state, status.status_code, status.allowed) == ("missing", 404, True)


def test_robots_5xx_disallows_everything_visibly(server, fake_time) -> None:
    server.route("/robots.txt", respond("caido", status=503))
    server.route("/x", respond("x"))
    fetcher = make_fetcher(server, fake_time, max_retries=1)
    result = fetcher.fetch(server.url("/x"))
    assert result.error == "robots"
    assert "HTTP 503" in result.error_detail and "RFC 9309" in result.error_detail
    assert server.hits("/x") == 0
    assert server.hits("/robots.txt") == 2  # the robots fetch itself was retried once
    assert fetcher.robots_status(server.url("/")).state == "unreachable"


def test_fetch_ignoring_robots_takes_one_look_past_a_403_robots(server, fake_time) -> None:
    server.route("/robots.txt", respond("no", status=403))
    server.route("/", respond("inicio"))
    fetcher = make_fetcher(server, fake_time)
    assert fetcher.fetch(server.url("/")).error == "robots"
    assert server.hits("/") == 0
    home = fetcher.fetch_ignoring_robots(server.url("/"))
    assert home.ok and home.content == b"inicio"
    assert server.hits("/") == 1


def test_robots_403_disallows_everything(server, fake_time) -> None:
    server.route("/robots.txt", respond("no", status=403))
    server.route("/", respond("x"))
    fetcher = make_fetcher(server, fake_time)
    assert fetcher.fetch(server.url("/")).error == "robots"
    assert fetcher.robots_status(server.url("/")).state == "forbidden"


def test_crawl_delay_raises_the_per_host_delay(server, fake_time) -> None:
    server.route("/robots.txt", robots("User-agent: *\nCrawl-delay: 3\n"))
    server.route("/a", respond("a"))
    fetcher = make_fetcher(server, fake_time, delay_seconds=1.0)
    fetcher.fetch(server.url("/a"))
    fetcher.fetch(server.url("/a"))
    # robots.txt at t, first page at t+3, second at t+6
    assert fake_time.sleeps == [3.0, 3.0]


def test_crawl_delay_is_capped(server, fake_time) -> None:
    server.route("/robots.txt", robots("User-agent: *\nCrawl-delay: 600\n"))
    server.route("/a", respond("a"))
    fetcher = make_fetcher(server, fake_time, delay_seconds=1.0, max_crawl_delay=5.0)
    fetcher.fetch(server.url("/a"))
    assert fake_time.sleeps == [5.0]
    assert fetcher.robots_status(server.url("/a")).crawl_delay == 600.0


# --- politeness -----------------------------------------------------------------------------


def test_per_host_delay_is_enforced(server, fake_time) -> None:
    server.route("/a", respond("a"))
    fetcher = make_fetcher(server, fake_time, delay_seconds=1.5, obey_robots=False)
    for _ in range(3):
        assert fetcher.fetch(server.url("/a")).ok
    assert fake_time.sleeps == [1.5, 1.5]


def test_delay_is_per_host(server, fake_time) -> None:
    try:
        second = LoopbackServer(host="127.0.0.2")
    except OSError:
        pytest.skip("127.0.0.2 is not a loopback address on this system")
    with second as other:
        server.route("/a", respond("a"))
        other.route("/b", respond("b"))
        fetcher = make_fetcher(
            server,
            fake_time,
            delay_seconds=1.0,
            obey_robots=False,
            allowed_endpoints=(server.endpoint, other.endpoint),
        )
        for url in (server.url("/a"), other.url("/b"), server.url("/a"), other.url("/b")):
            assert fetcher.fetch(url).ok
    # only the second request to 127.0.0.1 had to wait; by then 127.0.0.2 had waited too
    assert fake_time.sleeps == [1.0]


def test_threads_share_the_per_host_schedule(server, fake_time) -> None:
    server.route("/a", respond("a"))
    fake_time.advance = False  # every thread sees the same instant
    fetcher = make_fetcher(server, fake_time, delay_seconds=1.0, obey_robots=False)
    results = []
    threads = [
        threading.Thread(target=lambda: results.append(fetcher.fetch(server.url("/a"))))
        for _ in range(4)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert [r.ok for r in results] == [True] * 4
    assert sorted(fake_time.sleeps) == [1.0, 2.0, 3.0]


def test_a_thread_that_woke_late_does_not_let_the_next_request_go_early(server, fake_time):
    """Thread A booked its slot at t+1 but its sleep overran to t+1.6; thread B had booked
    t+2 from A's booking. B must wait until A's real departure + the delay, t+2.6."""
    server.route("/a", respond("a"))
    fetcher = make_fetcher(server, fake_time, delay_seconds=1.0, obey_robots=False,
                           adaptive_delay=False)
    assert fetcher.fetch(server.url("/a")).ok  # leaves at once, t = 1000
    host = next(iter(fetcher._departed))
    fetcher._departed[host] = 1001.6  # A left late
    fake_time.now = 1002.0            # B wakes at its booked slot
    fetcher._depart(host, booked=1002.0)
    assert fake_time.sleeps == [0.6]
    assert fetcher._departed[host] == 1002.6


# --- redirects --------------------------------------------------------------------------------


def test_redirect_chain_is_recorded(server, fake_time) -> None:
    server.route("/viejo", redirect("/transparencia/", status=301))
    server.route("/transparencia/", redirect("../portal/inicio.html"))
    server.route("/portal/inicio.html", respond("<html>portal</html>"))
    result = make_fetcher(server, fake_time, obey_robots=False).fetch(server.url("/viejo"))
    assert result.ok
    assert result.final_url == server.url("/portal/inicio.html")
    assert result.redirects == [
        Redirect(server.url("/viejo"), 301, server.url("/transparencia/")),
        Redirect(server.url("/transparencia/"), 302, server.url("/portal/inicio.html")),
    ]
    assert result.content == b"<html>portal</html>"
    assert result.attempts == 1


def test_redirect_loop(server, fake_time) -> None:
    server.route("/x", redirect("/y"))
    server.route("/y", redirect(server.url("/x")))
    result = make_fetcher(server, fake_time, obey_robots=False).fetch(server.url("/x"))
    assert result.error == "redirect_loop"
    assert result.final_url == server.url("/x")
    assert len(result.redirects) == 2
    assert server.hits("/x") == 1 and server.hits("/y") == 1


def test_too_many_redirects(server, fake_time) -> None:
    for n in range(8):
        server.route(f"/r{n}", redirect(f"/r{n + 1}"))
    result = make_fetcher(server, fake_time, obey_robots=False, max_redirects=3).fetch(
        server.url("/r0")
    )
    assert result.error == "too_many_redirects"
    assert len(result.redirects) == 4
    assert server.hits("/r3") == 1 and server.hits("/r4") == 0


def test_each_hop_is_checked_against_robots(server, fake_time) -> None:
    server.route("/robots.txt", robots("User-agent: *\nDisallow: /privado\n"))
    server.route("/go", redirect("/privado/x"))
    result = make_fetcher(server, fake_time).fetch(server.url("/go"))
    assert result.error == "robots"
    assert result.final_url == server.url("/privado/x")
    assert server.hits("/privado/x") == 0


# --- timeouts and retries -----------------------------------------------------------------------


def test_read_timeout_is_retried_then_reported(server, fake_time) -> None:
    server.route("/lento", sleep_then(3.0, respond("tarde")))
    fetcher = make_fetcher(server, fake_time, obey_robots=False, read_timeout=0.3, max_retries=1)
    result = fetcher.fetch(server.url("/lento"))
    assert (result.error, result.status_code, result.attempts) == ("timeout", None, 2)
    assert "read timeout" in result.error_detail
    assert server.hits("/lento") == 2
    assert fake_time.sleeps == [0.5]
    assert result.elapsed_ms >= 500


def test_dripping_body_is_cut_at_the_deadline(server, fake_time) -> None:
    server.route("/goteo", drip(total=10_000, every=0.05))
    fetcher = make_fetcher(server, fake_time, obey_robots=False, read_timeout=1.0, max_seconds=0.4)
    result = fetcher.fetch(server.url("/goteo"))
    assert (result.error, result.status_code, result.attempts) == ("timeout", 200, 1)
    assert 0 < len(result.content) < 100
    assert "0.4 s" in result.error_detail


def test_connection_refused_is_retried_with_backoff(fake_time) -> None:
    port = closed_port()
    policy = FetchPolicy(
        delay_seconds=0,
        backoff_jitter=0,
        obey_robots=False,
        allowed_endpoints=(f"127.0.0.1:{port}",),
    )
    result = Fetcher(policy, sleep=fake_time.sleep, clock=fake_time.clock).fetch(
        f"http://127.0.0.1:{port}/"
    )
    assert (result.error, result.attempts, result.status_code) == ("connect", 3, None)
    assert "connection refused" in result.error_detail and "after 3 attempts" in result.error_detail
    assert fake_time.sleeps == [0.5, 1.0]


def test_unreachable_host_is_reported_as_such_not_as_robots(fake_time) -> None:
    port = closed_port()
    policy = FetchPolicy(
        delay_seconds=0, backoff_jitter=0, max_retries=0, allowed_endpoints=(f"127.0.0.1:{port}",)
    )
    fetcher = Fetcher(policy, sleep=fake_time.sleep, clock=fake_time.clock)
    result = fetcher.fetch(f"http://127.0.0.1:{port}/")
    assert result.error == "connect" and "robots.txt" in result.error_detail
    assert fetcher.robots_status(f"http://127.0.0.1:{port}/").state == "unreachable"


def test_503_twice_then_200(server, fake_time) -> None:
    server.route("/inestable", fail_then(2, respond("por fin"), status=503))
    result = make_fetcher(server, fake_time, obey_robots=False).fetch(server.url("/inestable"))
    assert result.ok and result.attempts == 3 and result.content == b"por fin"
    assert fake_time.sleeps == [0.5, 1.0]


def test_backoff_jitter_is_seedable(server, fake_time) -> None:
    server.route("/inestable", fail_then(2, respond("ok"), status=502))
    fetcher = make_fetcher(server, fake_time, obey_robots=False, backoff_jitter=0.5, jitter_seed=7)
    assert fetcher.fetch(server.url("/inestable")).ok
    first, second = fake_time.sleeps
    assert 0.25 <= first <= 0.75 and 0.5 <= second <= 1.5
    server.route("/otra", fail_then(2, respond("ok"), status=502))
    again = make_fetcher(server, fake_time, obey_robots=False, backoff_jitter=0.5, jitter_seed=7)
    again.fetch(server.url("/otra"))
    assert fake_time.sleeps[2:] == [first, second]


def test_404_is_not_retried_and_keeps_its_body(server, fake_time) -> None:
    result = make_fetcher(server, fake_time, obey_robots=False).fetch(server.url("/no-existe"))
    assert (result.error, result.status_code, result.attempts) == ("http_error", 404, 1)
    assert result.content == b"not found" and not result.ok
    assert server.hits("/no-existe") == 1
    assert fake_time.sleeps == []


def test_500_is_retried_once_only(server, fake_time) -> None:
    server.route("/roto", fail_then(10, respond("x"), status=500))
    result = make_fetcher(server, fake_time, obey_robots=False).fetch(server.url("/roto"))
    assert (result.error, result.status_code, result.attempts) == ("http_error", 500, 2)
    assert result.content == b"try later"
    assert server.hits("/roto") == 2


def test_429_honours_retry_after(server, fake_time) -> None:
    server.route(
        "/limitado", fail_then(1, respond("ok"), status=429, headers=[("Retry-After", "4")])
    )
    result = make_fetcher(server, fake_time, obey_robots=False).fetch(server.url("/limitado"))
    assert result.ok and result.attempts == 2
    assert fake_time.sleeps == [4.0]


def test_429_with_a_long_retry_after_gives_up(server, fake_time) -> None:
    server.route(
        "/limitado", fail_then(5, respond("ok"), status=429, headers=[("Retry-After", "3600")])
    )
    result = make_fetcher(server, fake_time, obey_robots=False).fetch(server.url("/limitado"))
    assert (result.error, result.status_code, result.attempts) == ("http_error", 429, 1)
    assert fake_time.sleeps == []


def test_connection_reset_is_a_connect_error(server, fake_time) -> None:
    server.route("/reset", reset)
    result = make_fetcher(server, fake_time, obey_robots=False, max_retries=1).fetch(
        server.url("/reset")
    )
    assert (result.error, result.attempts) == ("connect", 2)
    assert server.hits("/reset") == 2


def test_tls_failure_is_not_retried(server, fake_time) -> None:
    result = make_fetcher(server, fake_time, obey_robots=False).fetch(
        f"https://127.0.0.1:{server.port}/"
    )
    assert (result.error, result.attempts) == ("tls", 1)
    assert "TLS" in result.error_detail


# --- size caps ---------------------------------------------------------------------------------


def test_declared_length_over_the_cap_is_refused_early(server, fake_time) -> None:
    server.route("/enorme", huge(3 * MIB))
    result = make_fetcher(server, fake_time, obey_robots=False, max_bytes=MIB).fetch(
        server.url("/enorme")
    )
    assert (result.error, result.status_code, result.truncated) == ("too_large", 200, True)
    assert result.content == b""
    assert "Content-Length 3145728" in result.error_detail


@pytest.mark.parametrize(
    "handler",
    [huge(3 * MIB, chunked=True), huge(3 * MIB, declare_length=False)],
    ids=["chunked", "no-length"],
)
def test_streamed_body_is_cut_at_the_cap(server, fake_time, handler) -> None:
    server.route("/enorme", handler)
    result = make_fetcher(server, fake_time, obey_robots=False, max_bytes=MIB).fetch(
        server.url("/enorme")
    )
    assert (result.error, result.truncated, len(result.content)) == ("too_large", True, MIB)
    assert result.content.startswith(b"0123456789abcdef")


def test_gzip_bomb_is_capped_after_decoding(server, fake_time) -> None:
    server.route("/bomba", gzip_bomb(16 * MIB))
    result = make_fetcher(server, fake_time, obey_robots=False, max_bytes=MIB).fetch(
        server.url("/bomba")
    )
    assert (result.error, result.truncated, len(result.content)) == ("too_large", True, MIB)
    assert set(result.content) == {0}


def test_body_under_the_cap_is_complete(server, fake_time) -> None:
    server.route("/mediano", huge(200_000, chunked=True))
    result = make_fetcher(server, fake_time, obey_robots=False, max_bytes=MIB).fetch(
        server.url("/mediano")
    )
    assert result.ok and len(result.content) == 200_000 and not result.truncated


# --- content and encodings ----------------------------------------------------------------------


def test_windows_1252_page_declared_utf8(server, fake_time) -> None:
    body = b"<html><body><h1>Fracci\xf3n VIII</h1><p>Remuneraci\xf3n del a\xf1o</p></body></html>"
    server.route("/p", respond(body, content_type="text/html; charset=UTF-8"))
    result = make_fetcher(server, fake_time, obey_robots=False).fetch(server.url("/p"))
    assert result.encoding == "windows-1252"
    assert "Fracción VIII" in result.text and "año" in result.text


def test_utf8_page(server, fake_time) -> None:
    server.route("/p", respond("<p>Información pública</p>", content_type="text/html"))
    result = make_fetcher(server, fake_time, obey_robots=False).fetch(server.url("/p"))
    assert (result.encoding, result.text) == ("utf-8", "<p>Información pública</p>")


def test_mislabelled_spreadsheet_is_sniffed(server, fake_time) -> None:
    import io
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/workbook.xml", "<workbook/>")
    server.route("/formato.xlsx", respond(buffer.getvalue(), content_type="text/html"))
    result = make_fetcher(server, fake_time, obey_robots=False).fetch(server.url("/formato.xlsx"))
    assert result.declared_type == "text/html"
    assert result.sniffed_type == (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    assert result.encoding is None
    assert result.fetch_row()["content_type"] == result.sniffed_type


# --- network guard ----------------------------------------------------------------------------


def test_loopback_is_refused_by_default_without_connecting(server, fake_time) -> None:
    server.route("/", respond("x"))
    fetcher = Fetcher(FetchPolicy(delay_seconds=0), sleep=fake_time.sleep, clock=fake_time.clock)
    for url in (
        server.url("/"),
        f"http://2130706433:{server.port}/",
        f"http://127.1:{server.port}/",
    ):
        result = fetcher.fetch(url)
        assert (result.error, result.attempts, result.status_code) == ("private_address", 0, None)
    assert server.connections == 0
    assert fetcher.robots_allows(server.url("/")) is False


def test_allow_private_networks(server, fake_time) -> None:
    server.route("/", respond("x"))
    policy = FetchPolicy(delay_seconds=0, allow_private_networks=True, obey_robots=False)
    assert Fetcher(policy, sleep=fake_time.sleep, clock=fake_time.clock).fetch(server.url("/")).ok


@pytest.mark.parametrize(
    "target",
    [
        "http://127.0.0.2:{port}/admin",
        "http://169.254.169.254/latest/meta-data/",
        "http://10.0.0.1/",
        "http://[::ffff:127.0.0.1]:{port}/",
        "http://127.0.0.1:{other}/",
    ],
)
def test_redirect_to_a_private_address_is_refused(server, fake_time, target: str) -> None:
    target = target.format(port=server.port, other=closed_port())
    server.route("/salir", redirect(target))
    result = make_fetcher(server, fake_time, obey_robots=False).fetch(server.url("/salir"))
    assert result.error == "private_address"
    assert result.final_url == target
    assert result.redirects == [Redirect(server.url("/salir"), 302, target)]
    assert server.connections == 1  # only the public origin was contacted


def test_connection_time_check_defeats_dns_rebinding(server, fake_time) -> None:
    """The name looked public when checked, but the socket landed on loopback."""

    def rebinding_resolver(host, port, family=0, type=0):  # noqa: A002
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("8.8.8.8", 80))]

    server.route("/", respond("x"))
    guard = NetGuard(resolver=rebinding_resolver)
    fetcher = make_fetcher(server, fake_time, guard=guard, obey_robots=False)
    result = fetcher.fetch(f"http://localhost:{server.port}/")
    assert (result.error, result.status_code) == ("private_address", None)
    assert "127.0.0.1" in result.error_detail or "::1" in result.error_detail
    assert server.requests == []


def test_dns_failure(server, fake_time) -> None:
    def no_such_host(host, port, family=0, type=0):  # noqa: A002
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    fetcher = make_fetcher(server, fake_time, guard=NetGuard(resolver=no_such_host))
    result = fetcher.fetch("https://portal-inexistente.gob.mx/")
    assert (result.error, result.attempts) == ("dns", 0)
    assert "does not resolve" in result.error_detail


@pytest.mark.parametrize(
    "url",
    ["ftp://127.0.0.1/archivo.xlsx", "http://usuario:clave@portal.gob.mx/", "notaurl", "http://"],
)
def test_invalid_urls(server, fake_time, url: str) -> None:
    result = make_fetcher(server, fake_time).fetch(url)
    assert (result.error, result.attempts, result.status_code) == ("invalid_url", 0, None)
    assert result.error_detail


def test_redirect_to_ftp_is_invalid(server, fake_time) -> None:
    server.route("/ftp", redirect("ftp://127.0.0.1/datos.csv"))
    result = make_fetcher(server, fake_time, obey_robots=False).fetch(server.url("/ftp"))
    assert (result.error, result.final_url) == ("invalid_url", "ftp://127.0.0.1/datos.csv")


def test_self_redirect_that_sets_a_session_cookie_is_not_a_loop(server, fake_time) -> None:
    def cookie_check(exchange) -> None:
        if "sesion=1" in exchange.headers.get("Cookie", ""):
            exchange.send_body(200, b"con sesion", [("Content-Type", "text/plain")])
        else:
            exchange.send_body(
                302, b"", [("Location", "/portal"), ("Set-Cookie", "sesion=1; Path=/")]
            )

    server.route("/portal", cookie_check)
    result = make_fetcher(server, fake_time, obey_robots=False).fetch(server.url("/portal"))
    assert result.ok and result.content == b"con sesion"
    assert result.redirects == [Redirect(server.url("/portal"), 302, server.url("/portal"))]


def test_retry_after_parsing() -> None:
    from scrapers.fetch import _retry_after_seconds

    assert _retry_after_seconds("120") == 120.0
    assert _retry_after_seconds("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0
    assert _retry_after_seconds("mañana") is None
    assert _retry_after_seconds(None) is None


def test_head_is_not_refused_for_a_large_declared_length(server, fake_time) -> None:
    server.route("/enorme", huge(3 * MIB))
    result = make_fetcher(server, fake_time, obey_robots=False, max_bytes=MIB).fetch(
        server.url("/enorme"), method="HEAD"
    )
    assert result.ok and result.content == b"" and result.headers["content-length"] == "3145728"


def test_redirect_connections_are_reused(server, fake_time) -> None:
    server.route("/a", redirect("/b"))
    server.route("/b", redirect("/c"))
    server.route("/c", respond("fin"))
    with make_fetcher(server, fake_time, obey_robots=False) as fetcher:
        assert fetcher.fetch(server.url("/a")).ok
        assert fetcher.fetch(server.url("/a")).ok
    assert len(server.requests) == 6
    assert server.connections == 1  # keep-alive across hops and fetches
