"""Refuse destinations the fetcher must never reach: other schemes, credentials, private networks.

Lupa fetches URLs taken from registries and from pages written by third parties. Without a
guard, a portal (or a redirect it sends) could point the fetcher at the machine's own services,
at the cloud metadata endpoint (169.254.169.254) or at the operator's internal network, and the
response would end up archived as evidence. So every URL, and every redirect hop, is checked:

* only ``http`` and ``https``;
* no ``user:password@`` in the URL (credentials would be sent to whoever the URL names, and
  would be stored in the evidence);
* unless private networks are explicitly allowed, the host must not be, nor resolve to, a
  loopback, private, link-local, multicast, reserved, unspecified, shared (carrier-grade NAT)
  or otherwise non-global address. IPv4-mapped, 6to4 and Teredo IPv6 addresses are judged by
  the IPv4 address they carry. Legacy numeric spellings (``2130706433``, ``0x7f.1``,
  ``127.1``) are read the way the C resolver reads them, so they cannot slip through.

DNS rebinding: checking the name and then letting the HTTP library resolve it again leaves a
window in which the answer can change. :class:`NetGuard.check_peer` closes that window for the
fetcher's own connections: it is called with the address a socket actually connected to, before
any byte of the request is sent (see ``scrapers.fetch``). The up-front :meth:`NetGuard.check_url`
still matters: it refuses without opening any connection, and it gives the clearer message.
"""

from __future__ import annotations

import ipaddress
import re
import socket
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from urllib.parse import SplitResult, urlsplit

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[..., list]

ALLOWED_SCHEMES = ("http", "https")

# 100.64.0.0/10 (RFC 6598) is not "private" for the ipaddress module in every Python version.
_SHARED = ipaddress.ip_network("100.64.0.0/10")
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_NUMERIC_HOST = re.compile(r"[0-9a-fA-FxX.]+")
_BAD_HOST_CHARS = re.compile(r"[\s\x00-\x1f\x7f/\\?#@%]")


class BlockedDestination(ValueError):
    """A URL the fetcher refuses to contact. ``reason`` is a ``FetchResult.error`` code."""

    reason = "private_address"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidURL(BlockedDestination):
    """Not an http(s) URL Lupa may fetch (other scheme, credentials, unparsable)."""

    reason = "invalid_url"


class PrivateAddress(BlockedDestination):
    """The host is, or resolves to, an address outside the public Internet."""

    reason = "private_address"


class UnresolvableHost(LookupError):
    """The host name does not resolve; the fetcher reports it as ``dns``, not as blocked."""


@dataclass(frozen=True)
class Target:
    """The parts of a checked URL the fetcher needs."""

    scheme: str
    host: str  # lower-case, without brackets or trailing dot
    port: int


def split_target(url: str) -> Target:
    """Parse and validate the scheme, credentials and host of ``url``; raise :class:`InvalidURL`."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise InvalidURL(f"unparsable URL {url!r}: {exc}") from exc
    scheme = parts.scheme.lower()
    if scheme not in ALLOWED_SCHEMES:
        shown = scheme or "(none)"
        raise InvalidURL(f"scheme {shown!r} is not allowed; only http and https are fetched")
    _refuse_credentials(parts)
    host = (parts.hostname or "").rstrip(".")
    if not host or _BAD_HOST_CHARS.search(host):
        raise InvalidURL(f"URL {url!r} has no valid host")
    if port is None:
        port = 443 if scheme == "https" else 80
    return Target(scheme=scheme, host=host, port=port)


def _refuse_credentials(parts: SplitResult) -> None:
    if "@" in parts.netloc:
        raise InvalidURL(
            "URL carries user credentials (user:password@host); they would be sent to the "
            "server and stored in the evidence, so it is refused"
        )


def literal_address(host: str) -> IPAddress | None:
    """The address ``host`` denotes when it is an IP literal, including legacy IPv4 spellings.

    ``inet_aton`` accepts what the C resolver accepts (``127.1``, ``0x7f.1``, ``2130706433``,
    octal parts), which is exactly what the HTTP library would connect to.
    """
    try:
        return ipaddress.ip_address(host.strip("[]").split("%")[0])
    except ValueError:
        pass
    if _NUMERIC_HOST.fullmatch(host) and any(ch.isdigit() for ch in host):
        try:
            return ipaddress.IPv4Address(socket.inet_aton(host))
        except OSError:
            return None
    return None


def embedded_ipv4(address: IPAddress) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address tunnels to (mapped, 6to4, Teredo, NAT64), if any."""
    if isinstance(address, ipaddress.IPv4Address):
        return None
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address.teredo is not None:
        return address.teredo[1]
    if address in _NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def is_public_address(address: IPAddress) -> bool:
    """True when ``address`` is a globally routable unicast address."""
    inner = embedded_ipv4(address)
    if inner is not None and not is_public_address(inner):
        return False
    if address.is_multicast or address.is_unspecified or address.is_reserved:
        return False
    if address.is_loopback or address.is_link_local or address.is_private:
        return False
    if isinstance(address, ipaddress.IPv4Address) and address in _SHARED:
        return False
    return address.is_global


Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def _parse_endpoint(text: str) -> tuple[Network, int]:
    """``host:port`` or ``network/prefix:port`` (``[::1]:8080``, ``127.31.0.0/24:8080``)."""
    host, sep, port = text.strip().rpartition(":")
    host = host.strip("[]")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"allowed endpoint {text!r} must look like host:port or "
                         "network/prefix:port")
    if "/" in host:
        try:
            return ipaddress.ip_network(host, strict=False), int(port)
        except ValueError as exc:
            raise ValueError(f"allowed endpoint {text!r}: {exc}") from exc
    address = literal_address(host)
    if address is None:
        raise ValueError(f"allowed endpoint {text!r} must name an IP address or a network")
    return ipaddress.ip_network(address), int(port)


@dataclass
class NetGuard:
    """Decides whether a URL or a connected peer may be used.

    ``allowed_endpoints`` ("127.0.0.1:8080", "[::1]:8080", "127.31.0.0/24:8080") are
    address:port (or network:port) exceptions to the private-address rule; they let tests and
    the bundled testbed act as a "public" origin while every other private destination (another
    port, another network, the metadata endpoint) stays refused. ``resolver`` is
    ``socket.getaddrinfo`` unless a test supplies a fake one. Name lookups are cached for
    ``cache_seconds`` because the fetcher checks every request; the connection-time
    :meth:`check_peer` keeps the cache from weakening the guard.
    """

    allow_private: bool = False
    allowed_endpoints: Iterable[str] = ()
    resolver: Resolver = socket.getaddrinfo
    cache_seconds: float = 60.0
    _endpoints: tuple[tuple[Network, int], ...] = field(init=False, repr=False)
    _cache: dict[str, tuple[float, tuple[IPAddress, ...]]] = field(
        init=False, repr=False, default_factory=dict
    )
    _lock: threading.Lock = field(init=False, repr=False, default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self._endpoints = tuple(_parse_endpoint(e) for e in self.allowed_endpoints)

    def check_url(self, url: str) -> Target:
        """Validate ``url``; raise :class:`BlockedDestination` or :class:`UnresolvableHost`."""
        target = split_target(url)
        if self.allow_private:
            return target
        for address in self._addresses(target.host):
            self._check_address(address, target.port, target.host)
        return target

    def check_peer(self, address: str, port: int, host: str | None = None) -> None:
        """Refuse a socket already connected to ``address``; called before the request is sent."""
        if self.allow_private:
            return
        self._check_address(ipaddress.ip_address(address.split("%")[0]), port, host or address)

    def _check_address(self, address: IPAddress, port: int, host: str) -> None:
        if is_public_address(address) or self._allowed(address, port):
            return
        shown = host if host == str(address) else f"{host} ({address})"
        raise PrivateAddress(
            f"destination {shown} port {port} is not a public Internet address; "
            "private networks are not fetched unless explicitly allowed"
        )

    def _allowed(self, address: IPAddress, port: int) -> bool:
        return any(port == allowed_port and address.version == network.version
                   and address in network for network, allowed_port in self._endpoints)

    def _addresses(self, host: str) -> tuple[IPAddress, ...]:
        literal = literal_address(host)
        if literal is not None:
            return (literal,)
        now = time.monotonic()
        with self._lock:
            cached = self._cache.get(host)
        if cached is not None and cached[0] > now:
            return cached[1]
        addresses = self._resolve(host)
        with self._lock:
            self._cache[host] = (now + self.cache_seconds, addresses)
        return addresses

    def _resolve(self, host: str) -> tuple[IPAddress, ...]:
        try:
            infos = self.resolver(host, None, 0, socket.SOCK_STREAM)
        except UnicodeError as exc:
            raise InvalidURL(f"host name {host!r} cannot be encoded: {exc}") from exc
        except (socket.gaierror, socket.herror) as exc:
            raise UnresolvableHost(f"host {host} does not resolve: {exc.strerror or exc}") from exc
        addresses = tuple(
            ipaddress.ip_address(str(info[4][0]).split("%")[0])
            for info in infos
            if info[0] in (socket.AF_INET, socket.AF_INET6)
        )
        if not addresses:
            raise UnresolvableHost(f"host {host} has no IPv4 or IPv6 address")
        return addresses


def check_url(url: str, allow_private: bool = False) -> None:
    """Raise :class:`BlockedDestination` when Lupa must not fetch ``url`` (see module doc)."""
    NetGuard(allow_private=allow_private).check_url(url)
