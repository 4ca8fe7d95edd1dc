"""Network guard: schemes, credentials, private and numeric-trick addresses, endpoints."""

from __future__ import annotations

import ipaddress
import socket

import pytest

from scrapers.netguard import (
    BlockedDestination,
    InvalidURL,
    NetGuard,
    PrivateAddress,
    UnresolvableHost,
    check_url,
    is_public_address,
    literal_address,
    split_target,
)


class FakeResolver:
    """getaddrinfo stand-in: fixed answers per host, and a record of the questions."""

    def __init__(self, answers: dict[str, list[str]]) -> None:
        self.answers = answers
        self.asked: list[str] = []

    def __call__(self, host: str, port: object, family: int = 0, type: int = 0) -> list:  # noqa: A002
        self.asked.append(host)
        if host not in self.answers:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        result = []
        for address in self.answers[host]:
            fam = socket.AF_INET6 if ":" in address else socket.AF_INET
            result.append((fam, socket.SOCK_STREAM, 6, "", (address, 80)))
        return result


@pytest.mark.parametrize(
    "url",
    ["ftp://portal.gob.mx/a.xlsx", "file:///etc/passwd", "javascript:alert(1)", "gopher://x/"],
)
def test_non_http_schemes_are_invalid(url: str) -> None:
    with pytest.raises(InvalidURL) as info:
        split_target(url)
    assert info.value.reason == "invalid_url"
    assert "only http and https" in str(info.value)


@pytest.mark.parametrize(
    "url", ["http://user:secret@portal.gob.mx/", "https://user@portal.gob.mx/", "http://:p@x.mx/"]
)
def test_credentials_in_url_are_refused(url: str) -> None:
    with pytest.raises(InvalidURL, match="credentials"):
        split_target(url)


@pytest.mark.parametrize(
    "url", ["http://", "http:///path", "http://exa mple.mx/", "http://x:99999/"]
)
def test_urls_without_a_valid_host_or_port_are_invalid(url: str) -> None:
    with pytest.raises(InvalidURL):
        split_target(url)


def test_split_target_fills_default_ports_and_lowercases() -> None:
    assert split_target("HTTPS://Portal.Gob.MX./x").port == 443
    target = split_target("http://Portal.Gob.MX:8080/x")
    assert (target.scheme, target.host, target.port) == ("http", "portal.gob.mx", 8080)


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("127.0.0.1", "127.0.0.1"),
        ("2130706433", "127.0.0.1"),
        ("0x7f.1", "127.0.0.1"),
        ("127.1", "127.0.0.1"),
        ("0177.0.0.1", "127.0.0.1"),
        ("0xa9fea9fe", "169.254.169.254"),
        ("::1", "::1"),
        ("[::ffff:10.0.0.1]", "::ffff:a00:1"),
    ],
)
def test_literal_address_reads_numeric_tricks_like_the_resolver(host: str, expected: str) -> None:
    assert literal_address(host) == ipaddress.ip_address(expected)


@pytest.mark.parametrize("host", ["portal.gob.mx", "cafe.mx", "abc", "1e100.net"])
def test_names_are_not_literals(host: str) -> None:
    assert literal_address(host) is None


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "10.1.2.3",
        "172.16.0.1",
        "192.168.1.1",
        "169.254.169.254",
        "100.64.0.1",
        "0.0.0.0",
        "224.0.0.1",
        "240.0.0.1",
        "255.255.255.255",
        "::1",
        "::",
        "fe80::1",
        "fc00::1",
        "ff02::1",
        "::ffff:127.0.0.1",
        "::ffff:10.0.0.1",
        "64:ff9b::a00:1",
        "2002:7f00:1::",
    ],
)
def test_non_public_addresses(address: str) -> None:
    assert is_public_address(ipaddress.ip_address(address)) is False


@pytest.mark.parametrize("address", ["8.8.8.8", "189.203.1.10", "2001:4860:4860::8888"])
def test_public_addresses(address: str) -> None:
    assert is_public_address(ipaddress.ip_address(address)) is True


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/",
        "http://2130706433/",
        "http://0x7f.1/",
        "http://127.1:8080/",
        "http://[::1]/",
        "http://[::ffff:127.0.0.1]/",
        "http://169.254.169.254/latest/meta-data/",
        "http://10.0.0.1/",
        "http://100.64.0.1/",
    ],
)
def test_private_literals_are_refused_without_any_lookup(url: str) -> None:
    resolver = FakeResolver({})
    with pytest.raises(PrivateAddress) as info:
        NetGuard(resolver=resolver).check_url(url)
    assert info.value.reason == "private_address"
    assert "not a public Internet address" in info.value.message
    assert resolver.asked == []


def test_names_resolving_to_private_addresses_are_refused() -> None:
    resolver = FakeResolver({"intranet.gob.mx": ["10.0.0.7"], "mixed.gob.mx": ["8.8.8.8", "::1"]})
    guard = NetGuard(resolver=resolver)
    with pytest.raises(PrivateAddress, match=r"intranet\.gob\.mx \(10\.0\.0\.7\)"):
        guard.check_url("https://intranet.gob.mx/")
    with pytest.raises(PrivateAddress, match="::1"):
        guard.check_url("https://mixed.gob.mx/")


def test_public_names_pass_and_lookups_are_cached() -> None:
    resolver = FakeResolver({"portal.gob.mx": ["189.203.1.10"]})
    guard = NetGuard(resolver=resolver)
    target = guard.check_url("https://portal.gob.mx/transparencia")
    guard.check_url("https://portal.gob.mx/otra")
    assert target.host == "portal.gob.mx"
    assert resolver.asked == ["portal.gob.mx"]


def test_unresolvable_names_are_not_blocked_but_reported() -> None:
    with pytest.raises(UnresolvableHost, match="does not resolve"):
        NetGuard(resolver=FakeResolver({})).check_url("https://nowhere.invalid/")


def test_allow_private_skips_address_checks_but_not_scheme_checks() -> None:
    resolver = FakeResolver({})
    guard = NetGuard(allow_private=True, resolver=resolver)
    guard.check_url("http://127.0.0.1:8080/")
    guard.check_url("http://intranet.local/")
    guard.check_peer("10.0.0.1", 80)
    assert resolver.asked == []
    with pytest.raises(InvalidURL):
        guard.check_url("ftp://127.0.0.1/")


def test_allowed_endpoints_are_exact_address_and_port() -> None:
    guard = NetGuard(allowed_endpoints=("127.0.0.1:8080",), resolver=FakeResolver({}))
    guard.check_url("http://127.0.0.1:8080/")
    guard.check_url("http://2130706433:8080/")  # the same address, spelt differently
    guard.check_peer("127.0.0.1", 8080)
    for url in ("http://127.0.0.1:8081/", "http://127.0.0.2:8080/", "http://10.0.0.1:8080/"):
        with pytest.raises(PrivateAddress):
            guard.check_url(url)
    with pytest.raises(PrivateAddress):
        guard.check_peer("127.0.0.2", 8080)


def test_allowed_networks_take_a_prefix_and_one_port() -> None:
    guard = NetGuard(allowed_endpoints=("127.31.0.0/24:8080", "[::1]:9000"),
                     resolver=FakeResolver({}))
    for url in ("http://127.31.0.1:8080/", "http://127.31.0.255:8080/a", "http://[::1]:9000/"):
        guard.check_url(url)
    guard.check_peer("127.31.0.7", 8080)
    for url in ("http://127.31.1.1:8080/", "http://127.31.0.1:8081/", "http://127.0.0.1:8080/",
                "http://169.254.169.254:8080/", "http://[::1]:8080/",
                "http://[::ffff:127.31.0.1]:9000/"):
        with pytest.raises(PrivateAddress):
            guard.check_url(url)


@pytest.mark.parametrize("endpoint", ["127.0.0.1", "localhost:8080", "127.0.0.0/33:80",
                                      "10.0.0.0/8:0", "10.0.0.0/8:http"])
def test_bad_allowed_endpoint_is_a_configuration_error(endpoint) -> None:
    with pytest.raises(ValueError, match="allowed endpoint"):
        NetGuard(allowed_endpoints=(endpoint,))


def test_check_peer_judges_the_connected_address() -> None:
    guard = NetGuard(resolver=FakeResolver({}))
    guard.check_peer("8.8.8.8", 443, host="portal.gob.mx")
    with pytest.raises(PrivateAddress, match=r"portal\.gob\.mx \(127\.0\.0\.1\)"):
        guard.check_peer("127.0.0.1", 443, host="portal.gob.mx")


def test_module_level_check_url() -> None:
    with pytest.raises(BlockedDestination):
        check_url("http://127.0.0.1/")
    with pytest.raises(BlockedDestination):
        check_url("http://user:pw@127.0.0.1/", allow_private=True)
    assert check_url("http://127.0.0.1/", allow_private=True) is None
    assert issubclass(BlockedDestination, ValueError)
