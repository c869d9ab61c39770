"""The client address of a request: the direct peer, or what a trusted reverse proxy forwarded.

``X-Forwarded-For`` and ``Forwarded`` (RFC 7239) are read only when the direct peer is one of the
configured trusted proxies (``tally serve --trusted-proxy ADDR``, an address or a network; default
none). Anyone else can write these headers, so from anyone else they are ignored: a spoofed header
cannot move an attacker into another address's rate-limit bucket or sign-in lock. Behind trusted
proxies the list is read from the right: the first address that is not a trusted proxy is the
client.

``client_source`` is the key every rate limit and sign-in back-off of the service counts by
(the station and casework sign-in, the reporters' sign-in, objections, the remote redeem
endpoint) and the connection cap of ``tally.service.limits`` counts the direct peer by: an IPv4
address as it is, an IPv6 address as its /64 (one host is usually given a whole /64, so it could
otherwise rotate through 2^64 addresses), an IPv4-mapped IPv6 address (``::ffff:192.0.2.1``, a
dual-stack socket's view of an IPv4 peer) as the IPv4 address.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

from starlette.requests import Request

__all__ = [
    "TrustedProxies",
    "app_trusted",
    "client_address",
    "client_source",
    "is_trusted",
    "parse_trusted",
    "request_source",
    "source_key",
]

IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
TrustedProxies = tuple[IpNetwork, ...]


def parse_trusted(values: Iterable[str]) -> TrustedProxies:
    """Parse ``--trusted-proxy`` values (``127.0.0.1``, ``10.0.0.0/8``, ``::1``).

    Raises:
        ValueError: a value is not an IP address or network.
    """
    return tuple(ipaddress.ip_network(v.strip(), strict=False) for v in values)


def _ip(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    value = text.strip().strip('"')
    if value.startswith("["):  # RFC 7239: "[2001:db8::1]:4711"
        value = value[1 : value.find("]")] if "]" in value else value[1:]
    elif value.count(":") == 1:  # "192.0.2.43:47011"
        value = value.split(":", 1)[0]
    try:
        ip = ipaddress.ip_address(value)
    except ValueError:
        return None
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    return ip


def _trusted(ip: ipaddress.IPv4Address | ipaddress.IPv6Address | None, by: TrustedProxies) -> bool:
    return ip is not None and any(ip.version == n.version and ip in n for n in by)


def is_trusted(address: str, trusted: TrustedProxies) -> bool:
    """Whether ``address`` (a direct peer's address as the socket gives it) is a trusted proxy."""
    return _trusted(_ip(address), trusted)


def source_key(address: str) -> str:
    """The source an address counts as: an IPv4 address, or the /64 of an IPv6 address
    (``2001:db8::/64``); an IPv4-mapped address counts as its IPv4 address. Text that is not an
    address (``"unknown"``, a test client's name) is its own source."""
    try:
        ip = ipaddress.ip_address(address.strip())
    except ValueError:
        return address
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network((ip, 64), strict=False))
    return str(ip)


def _forwarded_chain(request: Request) -> list[str]:
    forwarded = request.headers.getlist("forwarded")
    if forwarded:
        chain = []
        for element in ",".join(forwarded).split(","):
            for pair in element.split(";"):
                key, _, value = pair.partition("=")
                if key.strip().lower() == "for":
                    chain.append(value.strip())
        return chain
    return [
        part.strip()
        for header in request.headers.getlist("x-forwarded-for")
        for part in header.split(",")
        if part.strip()
    ]


def client_address(request: Request, trusted: TrustedProxies = ()) -> str:
    """The address a request came from (see the module text); ``"unknown"`` without a peer."""
    peer = request.client.host if request.client else "unknown"
    if not trusted or not _trusted(_ip(peer), trusted):
        return peer
    hop = peer
    for entry in reversed(_forwarded_chain(request)):
        ip = _ip(entry)
        if ip is None:  # obfuscated or garbage: the nearest hop that named itself stands
            return hop
        hop = str(ip)
        if not _trusted(ip, trusted):
            return hop
    return hop


def client_source(request: Request, trusted: TrustedProxies = ()) -> str:
    """The rate-limit and back-off key of a request: ``source_key`` of its ``client_address``."""
    return source_key(client_address(request, trusted))


def app_trusted(app: object) -> TrustedProxies:
    """The trusted proxies of a service app (``config.extra["trusted_proxies"]``); none for an
    app that is not the service's."""
    service = getattr(getattr(app, "state", None), "service", None)
    extra = service.config.extra if service is not None else {}
    trusted: TrustedProxies = extra.get("trusted_proxies", ())
    return trusted


def request_source(request: Request) -> str:
    """``client_source`` with the trusted proxies of the running service: what every rate limit
    and sign-in back-off of the service counts by."""
    return client_source(request, app_trusted(request.app))
