"""tally.service.proxy: forwarded headers are believed only from a configured trusted proxy, and
every limit counts by the source of the client address (an IPv4 address, an IPv6 /64)."""

from __future__ import annotations

import pytest
from starlette.requests import Request

from tally.service.proxy import client_address, client_source, parse_trusted, source_key

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


@pytest.mark.parametrize(
    ("address", "source"),
    [
        ("192.0.2.1", "192.0.2.1"),
        ("2001:db8:1:2::a", "2001:db8:1:2::/64"),
        ("2001:db8:1:2:ffff:ffff:ffff:ffff", "2001:db8:1:2::/64"),
        ("2001:db8:1:3::a", "2001:db8:1:3::/64"),
        ("2001:DB8:1:2:0:0:0:A", "2001:db8:1:2::/64"),  # any spelling of the address
        ("::ffff:192.0.2.1", "192.0.2.1"),  # a dual-stack socket's IPv4 peer
        ("fe80::1%eth0", "fe80::/64"),
        ("unknown", "unknown"),
        ("testclient", "testclient"),
    ],
)
def test_a_source_is_the_ipv4_address_or_the_ipv6_64(address: str, source: str) -> None:
    assert source_key(address) == source


def test_addresses_in_one_64_are_one_source_and_the_next_64_another() -> None:
    first = {source_key(f"2001:db8:7:8:{i:x}::{i:x}") for i in range(1, 200)}
    assert first == {"2001:db8:7:8::/64"}
    assert source_key("2001:db8:7:9::1") != source_key("2001:db8:7:8::1")


def test_the_client_source_of_a_direct_ipv6_peer_is_its_64() -> None:
    assert client_source(_request("2001:db8:1:2::99")) == "2001:db8:1:2::/64"
    assert client_source(_request("::ffff:198.51.100.7")) == "198.51.100.7"


def test_the_client_source_behind_a_trusted_proxy_is_the_forwarded_clients() -> None:
    r = _request("127.0.0.1", ("x-forwarded-for", "2001:db8:5::17, 10.2.3.4"))
    assert client_source(r, PROXY) == "2001:db8:5::/64"
    r = _request("127.0.0.1", ("forwarded", "for=::ffff:203.0.113.9"))
    assert client_source(r, PROXY) == "203.0.113.9"


def test_a_spoofed_header_does_not_move_a_client_into_another_source() -> None:
    r = _request("2001:db8:9::1", ("x-forwarded-for", "203.0.113.9"))
    assert client_source(r, PROXY) == "2001:db8:9::/64"
