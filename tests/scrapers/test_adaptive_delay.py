"""The fetcher's adaptive per-host delay, against a real loopback server.

A host's latency is read on the fetcher's politeness clock, so these tests make a host "slow"
by having the server handler move the fake clock forward before it answers: every wait below is
exact arithmetic on the fake clock, never a measurement of this machine.
"""

from __future__ import annotations

import logging

import pytest
from loopback_server import (
    LoopbackServer,
    closed_port,
    fail_then,
    reset,
    respond,
    sleep_then,
)

from scrapers.fetch import _OVERLOADED, Fetcher, FetchPolicy

HOST = "127.0.0.1"


def make_fetcher(server: LoopbackServer, fake_time, **overrides) -> Fetcher:
    settings = {
        "delay_seconds": 0.0,
        "backoff_jitter": 0.0,
        "connect_timeout": 2.0,
        "read_timeout": 2.0,
        "obey_robots": False,
        "max_retries": 0,
        "allowed_endpoints": (server.endpoint,),
    }
    settings.update(overrides)
    return Fetcher(FetchPolicy(**settings), sleep=fake_time.sleep, clock=fake_time.clock)


def taking(fake_time, *seconds: float, then=None):
    """A handler that answers after ``seconds`` of fake time (one value per request, the last
    one repeated), then as ``then`` (a 200 by default)."""
    pending = list(seconds)
    answer = then or respond("ok")

    def handle(exchange) -> None:
        step = pending.pop(0) if len(pending) > 1 else pending[0]
        with fake_time._lock:  # the fetching thread is blocked on this answer meanwhile
            fake_time.now += step
        answer(exchange)

    return handle


def answers(*handlers):
    """One handler per request, the last one repeated."""
    pending = list(handlers)

    def handle(exchange) -> None:
        (pending.pop(0) if len(pending) > 1 else pending[0])(exchange)

    return handle


def fetch_times(fetcher: Fetcher, url: str, times: int) -> list:
    return [fetcher.fetch(url) for _ in range(times)]


# --- latency ---------------------------------------------------------------------------------


def test_slow_host_rests_as_long_as_it_took_to_answer(server, fake_time) -> None:
    server.route("/lento", taking(fake_time, 0.5))
    fetcher = make_fetcher(server, fake_time)
    assert all(r.ok for r in fetch_times(fetcher, server.url("/lento"), 3))
    assert fake_time.sleeps == [0.5, 0.5]
    assert fetcher.host_delays() == {HOST: pytest.approx(0.5)}


def test_adaptive_factor_scales_the_rest(server, fake_time) -> None:
    server.route("/lento", taking(fake_time, 0.5))
    fetcher = make_fetcher(server, fake_time, adaptive_factor=2.5)
    fetch_times(fetcher, server.url("/lento"), 3)
    assert fake_time.sleeps == [1.25, 1.25]


def test_hosts_faster_than_slow_latency_get_no_rest(server, fake_time) -> None:
    server.route("/x", taking(fake_time, 0.2))
    fetcher = make_fetcher(server, fake_time)  # slow_latency 0.25 s by default
    fetch_times(fetcher, server.url("/x"), 3)
    assert fake_time.sleeps == []
    assert fetcher.host_delays() == {HOST: 0.0}
    stricter = make_fetcher(server, fake_time, slow_latency=0.1)
    fetch_times(stricter, server.url("/x"), 3)
    assert fake_time.sleeps == [0.2, 0.2]


def test_latency_is_a_moving_average(server, fake_time) -> None:
    server.route("/x", taking(fake_time, 1.0, 0.0))
    fetcher = make_fetcher(server, fake_time, latency_smoothing=0.5)
    fetch_times(fetcher, server.url("/x"), 5)
    # 1.0 measured first, then 0.0: the average halves towards it each time, and once under
    # slow_latency (0.25 s) the host is fast again
    assert fake_time.sleeps == [1.0, 0.5, 0.25]


def test_rest_adds_to_the_fixed_delay_only_when_it_is_longer(server, fake_time) -> None:
    server.route("/x", taking(fake_time, 0.2, 0.2, 3.0, 0.2))
    fetcher = make_fetcher(server, fake_time, delay_seconds=1.0, latency_smoothing=1.0)
    fetch_times(fetcher, server.url("/x"), 4)
    # start to start 1.0 s while the host is fast; 3.0 s of rest after its 3 s answer
    assert fake_time.sleeps == [0.8, 0.8, 3.0]


def test_latency_rest_is_capped(server, fake_time) -> None:
    server.route("/x", taking(fake_time, 50.0))
    fetcher = make_fetcher(server, fake_time, max_adaptive_delay=5.0)
    fetch_times(fetcher, server.url("/x"), 2)
    assert fake_time.sleeps == [5.0]
    assert fetcher.host_delays() == {HOST: 5.0}


def test_fast_host_with_a_delay_is_paced_as_before(server, fake_time) -> None:
    server.route("/x", taking(fake_time, 0.001))
    fetcher = make_fetcher(server, fake_time, delay_seconds=1.0)
    fetch_times(fetcher, server.url("/x"), 3)
    assert fake_time.sleeps == [0.999, 0.999]  # 1.0 s start to start, as without adaptation
    assert fetcher.host_delays() == {HOST: 1.0}


def test_fast_host_without_a_delay_is_not_slowed(server, fake_time) -> None:
    server.route("/x", taking(fake_time, 0.001))
    fetcher = make_fetcher(server, fake_time)
    assert all(r.ok for r in fetch_times(fetcher, server.url("/x"), 20))
    assert fake_time.sleeps == []


def test_latency_on_the_real_clock(server) -> None:
    """With the default clock the latency is the real one: a host answering after 0.2 s gets
    at least 0.2 s (only that lower bound, which the server guarantees, is asserted)."""
    server.route("/lento", sleep_then(0.2, respond("tarde")))
    sleeps: list[float] = []
    policy = FetchPolicy(
        delay_seconds=0,
        slow_latency=0.1,
        obey_robots=False,
        allowed_endpoints=(server.endpoint,),
    )
    with Fetcher(policy, sleep=sleeps.append) as fetcher:  # sleeps recorded, not slept
        fetcher.fetch(server.url("/lento"))
        gap = fetcher.host_delays()[HOST]
        fetcher.fetch(server.url("/lento"))
    assert gap >= 0.2
    assert len(sleeps) == 1 and 0 < sleeps[0] <= gap


# --- overload ---------------------------------------------------------------------------------


@pytest.mark.parametrize("status", [429, 503, 504])
def test_overload_doubles_the_gap_then_healthy_answers_bring_it_back(
    server, fake_time, status
) -> None:
    server.route("/x", fail_then(2, respond("ok"), status=status))
    fetcher = make_fetcher(server, fake_time, delay_seconds=1.0)
    results = fetch_times(fetcher, server.url("/x"), 8)
    assert [r.status_code for r in results] == [status] * 2 + [200] * 6
    # 1 s → 2 s → 4 s on the two overload answers, then a quarter less per healthy answer
    # until the configured 1 s start-to-start delay is the longer wait again
    assert fake_time.sleeps == [2.0, 4.0, 3.0, 2.25, 1.6875, 1.265625, 1.0]
    assert fetcher.host_delays() == {HOST: 1.0}


def test_overload_on_a_host_without_delay_starts_at_the_backoff(server, fake_time) -> None:
    server.route("/x", fail_then(3, respond("ok"), status=503))
    fetcher = make_fetcher(server, fake_time, backoff_seconds=0.5)
    fetch_times(fetcher, server.url("/x"), 4)
    assert fake_time.sleeps == [0.5, 1.0, 2.0]
    assert fetcher.host_delays()[HOST] == pytest.approx(1.5)  # 2.0 after one healthy answer


def test_overload_factor_is_configurable(server, fake_time) -> None:
    server.route("/x", fail_then(2, respond("ok"), status=503))
    fetcher = make_fetcher(server, fake_time, delay_seconds=1.0, overload_factor=3.0)
    fetch_times(fetcher, server.url("/x"), 3)
    assert fake_time.sleeps == [3.0, 9.0]


def test_overload_backoff_is_capped(server, fake_time) -> None:
    server.route("/x", fail_then(10, respond("ok"), status=503))
    fetcher = make_fetcher(server, fake_time, delay_seconds=1.0, max_adaptive_delay=5.0)
    fetch_times(fetcher, server.url("/x"), 5)
    assert fake_time.sleeps == [2.0, 4.0, 5.0, 5.0]
    assert fetcher.host_delays() == {HOST: 5.0}


def test_retries_wait_for_the_host_gap_too(server, fake_time) -> None:
    server.route("/x", fail_then(2, respond("ok"), status=503))
    fetcher = make_fetcher(server, fake_time, delay_seconds=1.0, max_retries=2)
    result = fetcher.fetch(server.url("/x"))
    assert result.ok and result.attempts == 3
    # each retry: its own backoff (0.5 s, 1 s), then what is left of the host's gap (2 s, 4 s)
    assert fake_time.sleeps == [0.5, 1.5, 1.0, 3.0]


def test_500_and_404_are_not_overload(server, fake_time) -> None:
    server.route("/roto", fail_then(10, respond("x"), status=500))
    fetcher = make_fetcher(server, fake_time, delay_seconds=1.0, max_retries_500=0)
    fetch_times(fetcher, server.url("/roto"), 2)
    fetch_times(fetcher, server.url("/no-existe"), 2)
    assert fake_time.sleeps == [1.0, 1.0, 1.0]


def test_a_5xx_never_makes_the_host_look_faster(server, fake_time) -> None:
    ok, broken = respond("ok"), respond("roto", status=500)
    server.route("/x", taking(fake_time, 2.0, 0.0, then=answers(ok, broken, ok)))
    fetcher = make_fetcher(server, fake_time, max_retries_500=0, latency_smoothing=1.0)
    assert [r.status_code for r in fetch_times(fetcher, server.url("/x"), 3)] == [200, 500, 200]
    # the 500 answered at once but still counts 2 s; the healthy 200 at once resets it
    assert fake_time.sleeps == [2.0, 2.0]
    assert fetcher.host_delays() == {HOST: 0.0}


def test_connection_reset_is_overload(server, fake_time) -> None:
    server.route("/reset", reset)
    fetcher = make_fetcher(server, fake_time, delay_seconds=1.0)
    assert [r.error for r in fetch_times(fetcher, server.url("/reset"), 2)] == ["connect"] * 2
    assert fake_time.sleeps == [2.0]


def test_refused_connection_is_overload(fake_time) -> None:
    port = closed_port()
    policy = FetchPolicy(
        delay_seconds=1.0,
        max_retries=0,
        obey_robots=False,
        allowed_endpoints=(f"127.0.0.1:{port}",),
    )
    fetcher = Fetcher(policy, sleep=fake_time.sleep, clock=fake_time.clock)
    for _ in range(3):
        assert fetcher.fetch(f"http://127.0.0.1:{port}/").error == "connect"
    assert fake_time.sleeps == [2.0, 4.0]


def test_timeout_is_overload_and_counts_as_slow(server, fake_time) -> None:
    # 1.5 s pass on the fake clock before the answer the client stops waiting for (really
    # 0.2 s later): the timeout counts as a 1.5 s latency, then the gap doubles
    server.route("/x", taking(fake_time, 1.5, then=sleep_then(3.0, respond("tarde"))))
    fetcher = make_fetcher(server, fake_time, read_timeout=0.2)
    assert [r.error for r in fetch_times(fetcher, server.url("/x"), 2)] == ["timeout"] * 2
    assert fake_time.sleeps == [3.0]


def test_concurrent_overload_answers_count_once(fake_time) -> None:
    """Threads whose requests were already in flight when the backoff grew do not make it
    grow again."""
    fetcher = Fetcher(FetchPolicy(delay_seconds=1.0), sleep=fake_time.sleep, clock=fake_time.clock)
    url = "http://portal.example.gob.mx/"
    for _ in range(3):  # three requests sent at 1000, answered 503 at 1001
        fake_time.now = 1001.0
        fetcher._observe(url, 1000.0, _OVERLOADED, "HTTP 503")
    assert fetcher.host_delays() == {"portal.example.gob.mx": 2.0}
    fetcher._observe(url, 1001.0, _OVERLOADED, "HTTP 503")  # sent after the first answer
    assert fetcher.host_delays() == {"portal.example.gob.mx": 4.0}


def test_adaptive_pace_is_per_host(server, fake_time) -> None:
    try:
        other = LoopbackServer(host="127.0.0.2")
    except OSError:
        pytest.skip("127.0.0.2 is not a loopback address on this system")
    with other:
        server.route("/x", fail_then(5, respond("ok"), status=503))
        other.route("/y", respond("y"))
        fetcher = make_fetcher(
            server,
            fake_time,
            delay_seconds=1.0,
            allowed_endpoints=(server.endpoint, other.endpoint),
        )
        fetcher.fetch(server.url("/x"))
        fetcher.fetch(other.url("/y"))
        fetcher.fetch(other.url("/y"))
    assert fake_time.sleeps == [1.0]
    assert fetcher.host_delays() == {"127.0.0.1": 2.0, "127.0.0.2": 1.0}


# --- switched off -------------------------------------------------------------------------------


def test_disabled_keeps_the_fixed_delay(server, fake_time) -> None:
    server.route("/lento", taking(fake_time, 0.5))
    server.route("/caido", fail_then(10, respond("ok"), status=503))
    fetcher = make_fetcher(server, fake_time, adaptive_delay=False)
    fetch_times(fetcher, server.url("/lento"), 3)
    assert fake_time.sleeps == []
    slow = make_fetcher(server, fake_time, adaptive_delay=False, delay_seconds=1.0)
    fetch_times(slow, server.url("/caido"), 3)
    assert fake_time.sleeps == [1.0, 1.0]
    assert slow.host_delays() == {HOST: 1.0}


def test_host_delays_starts_empty() -> None:
    assert Fetcher(FetchPolicy()).host_delays() == {}


# --- logging ----------------------------------------------------------------------------------


def test_material_changes_are_logged_once_each(server, fake_time, caplog) -> None:
    server.route("/x", fail_then(2, respond("ok"), status=503))
    fetcher = make_fetcher(server, fake_time, delay_seconds=1.0)
    with caplog.at_level(logging.INFO, logger="scrapers.fetch"):
        fetch_times(fetcher, server.url("/x"), 10)
    lines = [r.getMessage() for r in caplog.records if r.name == "scrapers.fetch"]
    # gaps 2, 4, 3, 2.25, 1.69, 1.27, 1.0, 1.0, 1.0, 1.0: only the material moves are told
    assert lines == [
        "pacing 127.0.0.1: 2.00 s between requests (was 1.00 s) after HTTP 503; "
        "average latency 0.000 s, overload backoff 2.00 s",
        "pacing 127.0.0.1: 4.00 s between requests (was 2.00 s) after HTTP 503; "
        "average latency 0.000 s, overload backoff 4.00 s",
        "pacing 127.0.0.1: 1.69 s between requests (was 4.00 s) after HTTP 200; "
        "average latency 0.000 s, overload backoff 1.69 s",
        "pacing 127.0.0.1: back to 1.00 s between requests after HTTP 200",
    ]


def test_small_or_steady_latency_is_not_logged(server, fake_time, caplog) -> None:
    server.route("/rapido", taking(fake_time, 0.001))
    server.route("/lento", taking(fake_time, 2.0, 2.1, 1.9, 2.2, 2.0))
    with caplog.at_level(logging.INFO, logger="scrapers.fetch"):
        fetch_times(make_fetcher(server, fake_time), server.url("/rapido"), 20)
        assert caplog.records == []
        fetch_times(make_fetcher(server, fake_time), server.url("/lento"), 10)
    assert [r.getMessage()[:60] for r in caplog.records] == [
        "pacing 127.0.0.1: 2.00 s between requests (was 0.00 s) after"
    ]


# --- policy -----------------------------------------------------------------------------------


def test_adaptive_defaults() -> None:
    policy = FetchPolicy()
    assert policy.adaptive_delay is True
    assert (policy.adaptive_factor, policy.max_adaptive_delay) == (1.0, 30.0)
    assert policy.slow_latency == 0.25
    assert (policy.latency_smoothing, policy.overload_factor) == (0.3, 2.0)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("adaptive_factor", -0.5),
        ("adaptive_factor", float("nan")),
        ("adaptive_factor", float("inf")),
        ("max_adaptive_delay", -1.0),
        ("max_adaptive_delay", float("inf")),
        ("slow_latency", -0.1),
        ("latency_smoothing", 0.0),
        ("latency_smoothing", 1.5),
        ("overload_factor", 0.5),
        ("overload_factor", "2"),
        ("delay_seconds", -1.0),
        ("max_crawl_delay", -1.0),
    ],
)
def test_policy_validation_names_the_field(field: str, value) -> None:
    with pytest.raises(ValueError, match=rf"FetchPolicy\.{field} "):
        FetchPolicy(**{field: value})


def test_boundary_values_are_accepted() -> None:
    policy = FetchPolicy(
        adaptive_factor=0,
        max_adaptive_delay=0,
        latency_smoothing=1,
        overload_factor=1,
        slow_latency=0,
    )
    assert policy.overload_factor == 1


def test_adaptive_factor_zero_keeps_only_the_overload_backoff(server, fake_time) -> None:
    server.route("/x", taking(fake_time, 5.0, then=fail_then(1, respond("ok"), status=503)))
    fetcher = make_fetcher(server, fake_time, adaptive_factor=0.0, latency_smoothing=1.0)
    fetch_times(fetcher, server.url("/x"), 3)
    # no rest for the 5 s latency itself; the 503 sets max(2 × gap 0, floor 0.5), which the
    # next healthy answer shrinks by a quarter
    assert fake_time.sleeps == [0.5, 0.375]


def test_sleeps_are_never_taken_under_the_lock(server, fake_time) -> None:
    server.route("/x", fail_then(1, taking(fake_time, 0.3), status=503))
    held: list[bool] = []

    def sleep(seconds: float) -> None:
        held.append(fetcher._host_lock.locked())
        fake_time.sleep(seconds)

    policy = FetchPolicy(
        delay_seconds=1.0,
        backoff_jitter=0,
        max_retries=1,
        obey_robots=False,
        allowed_endpoints=(server.endpoint,),
    )
    fetcher = Fetcher(policy, sleep=sleep, clock=fake_time.clock)
    fetch_times(fetcher, server.url("/x"), 3)
    # retry backoff 0.5 s, the rest of the 2 s overload gap, then a quarter less per answer
    assert fake_time.sleeps == [0.5, 1.5, 1.5, 1.125]
    assert held == [False] * 4
