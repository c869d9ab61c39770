"""tally.service.limits.ConnectionSources: the per-source connection count behind the cap.

The sockets are in tests/integration/test_connection_sources.py; here the IPv6 cases loopback
cannot give (many addresses of one /64, and of others), and the count's own bookkeeping.
"""

from __future__ import annotations

from tally.service.limits import ConnectionSources
from tally.service.proxy import parse_trusted


def test_addresses_of_one_ipv6_64_share_one_cap() -> None:
    count = ConnectionSources(3)
    slots = [count.admit(f"2001:db8:1:2::{i:x}") for i in range(1, 4)]
    assert [kind for kind, _ in slots] == ["open"] * 3
    assert count.admit("2001:db8:1:2:ffff::1") == ("refused", "2001:db8:1:2::/64")
    assert count.admit("2001:db8:1:3::1") == ("open", "2001:db8:1:3::/64")  # the next /64
    assert count.open == {"2001:db8:1:2::/64": 3, "2001:db8:1:3::/64": 1}


def test_an_ipv4_mapped_peer_shares_the_cap_of_its_ipv4_address() -> None:
    count = ConnectionSources(2)
    assert count.admit("192.0.2.1") == ("open", "192.0.2.1")
    assert count.admit("::ffff:192.0.2.1") == ("open", "192.0.2.1")
    assert count.admit("::ffff:192.0.2.1")[0] == "refused"
    assert count.admit("192.0.2.2")[0] == "open"


def test_past_the_cap_refused_then_closed_at_accept() -> None:
    count = ConnectionSources(2)
    kinds = [count.admit("192.0.2.1")[0] for _ in range(6)]
    assert kinds == ["open", "open", "refused", "refused", "closed", "closed"]


def test_a_trusted_proxy_is_exempt_and_takes_no_slot() -> None:
    count = ConnectionSources(1, parse_trusted(["10.0.0.0/8", "2001:db8:ff::/48"]))
    assert {count.admit("10.1.2.3")[0] for _ in range(50)} == {"exempt"}
    assert {count.admit("::ffff:10.1.2.3")[0] for _ in range(5)} == {"exempt"}
    assert count.admit("2001:db8:ff:1::1")[0] == "exempt"
    assert count.open == {} and count.refused == {}
    assert count.admit("2001:db8:fe::1")[0] == "open"  # outside the trusted network


def test_released_slots_free_the_cap_and_leave_no_entry() -> None:
    count = ConnectionSources(2)
    slots = [count.admit("2001:db8::1"), count.admit("2001:db8::2"), count.admit("2001:db8::3")]
    assert [k for k, _ in slots] == ["open", "open", "refused"]
    count.release(slots[0])
    assert count.admit("2001:db8::4")[0] == "open"
    for slot in [*slots[1:], ("open", "2001:db8::/64")]:
        count.release(slot)
    assert count.open == {} and count.refused == {}
    count.release(("open", "2001:db8::/64"))  # a slot given back twice takes nothing below 0
    assert count.open == {}
    count.release(("closed", "2001:db8::/64"))
    count.release(("exempt", "10.0.0.1"))
    assert count.admit("2001:db8::5") == ("open", "2001:db8::/64")
