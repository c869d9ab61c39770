"""The client address of a request: the direct peer, or what a trusted reverse proxy forwarded.

``X-Forwarded-For`` and ``Forwarded`` (RFC 7239) are read only when the direct peer is one of the
configured trusted proxies (``tally serve --trusted-proxy ADDR``, an address or a network; default
none). Anyone else can write these headers, so from anyone else they are ignored: a spoofed header
cannot move an attacker into another address's rate-limit bucket or sign-in lock. Behind trusted
proxies the list is read from the right: the first address that is not a trusted proxy is the
client.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

from starlette.requests import Request

__all__ = ["TrustedProxies", "client_address", "parse_trusted"]

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


def request_client(request: Request) -> str:
    """``client_address`` with the trusted proxies of the running service (``config.extra``)."""
    service = getattr(request.app.state, "service", None)
    extra = service.config.extra if service is not None else {}
    trusted: TrustedProxies = extra.get("trusted_proxies", ())
    return client_address(request, trusted)
