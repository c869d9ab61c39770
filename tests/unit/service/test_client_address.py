"""tally.service.proxy: forwarded headers are believed only from a configured trusted proxy."""

from __future__ import annotations

import pytest
from starlette.requests import Request

from tally.service.proxy import client_address, parse_trusted

PROXY = parse_trusted(["127.0.0.1", "10.0.0.0/8"])


def _request(peer: str, *headers: tuple[str, str]) -> Request:
    return Request(
        {
            "type": "http",
            "method": "GET",
            "path": "/",
            "headers": [(k.encode(), v.encode()) for k, v in headers],
            "client": (peer, 5000),
        }
    )


def test_without_trusted_proxies_the_headers_are_ignored() -> None:
    r = _request("192.0.2.1", ("x-forwarded-for", "10.1.1.1"), ("forwarded", "for=10.1.1.2"))
    assert client_address(r) == "192.0.2.1"


def test_a_spoofed_header_from_an_untrusted_peer_is_ignored() -> None:
    r = _request("192.0.2.1", ("x-forwarded-for", "203.0.113.9"))
    assert client_address(r, PROXY) == "192.0.2.1"


@pytest.mark.parametrize(
    ("headers", "client"),
    [
        ((("x-forwarded-for", "203.0.113.9"),), "203.0.113.9"),
        # the client prepended a spoofed entry; the proxy appended the real peer
        ((("x-forwarded-for", "198.51.100.1, 203.0.113.9"),), "203.0.113.9"),
        # two trusted hops: the first untrusted from the right is the client
        ((("x-forwarded-for", "203.0.113.9, 10.2.3.4"),), "203.0.113.9"),
        ((("forwarded", 'for="[2001:db8::17]:4711";proto=https'),), "2001:db8::17"),
        ((("forwarded", "for=198.51.100.1, for=203.0.113.9:8080"),), "203.0.113.9"),
        ((("forwarded", "for=unknown"),), "127.0.0.1"),
        ((), "127.0.0.1"),
    ],
)
def test_behind_a_trusted_proxy_the_rightmost_untrusted_address_is_the_client(
    headers: tuple[tuple[str, str], ...], client: str
) -> None:
    assert client_address(_request("127.0.0.1", *headers), PROXY) == client


def test_a_trusted_proxy_must_be_an_address_or_network() -> None:
    with pytest.raises(ValueError):
        parse_trusted(["proxy.example"])
