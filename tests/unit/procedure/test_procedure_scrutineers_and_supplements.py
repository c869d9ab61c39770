"""RP-3.2's member scrutineers and RP-3.6's supplementary stocks in the procedure ledger: each
refusal with its own code and the ledger unchanged (spec/procedure.md §14)."""

from __future__ import annotations

from typing import Any

import pytest

from tally.core.procedure import ProcedureCountError
from tally.core.procedure.entries import Form
from tally.core.procedure.errors import ProcedureLogError
from tally.core.procedure.ledger import RoundKey, checkpoint_reason
from tests.helpers.procedure_log import LogBuilder

SCRUTINEERS = ("M009", "M010")  # examples/qingshan.procedure.toml [officials]


def refused(b: LogBuilder, type_: str, body: dict[str, Any], code: str, **kw: Any) -> None:
    before = b.ledger
    with pytest.raises((ProcedureLogError, ProcedureCountError)) as info:
        b.append(type_, body, **kw)
    assert info.value.code == code, info.value.en
    assert b.ledger is before


def _members_opening(b: LogBuilder, present: list[str]) -> dict[str, Any]:
    return {
        "group": "member",
        "round": 1,
        "posts": ["committee", "secretary"],
        "present": len(present),
        "present_members": present,
    }


def _without(b: LogBuilder, absent: set[str], n: int = 20) -> list[str]:
    return [m for m in b.procedure.expected_electors if m not in absent][:n]


# -- RP-3.2: a members' session's scrutineers are expected electors present -------------------------
@pytest.mark.parametrize(
    "absent", [{"M009"}, {"M010"}, {"M009", "M010"}], ids=["one", "other", "both"]
)
def test_rp_3_2_members_session_is_refused_while_a_scrutineer_is_not_present(
    absent: set[str],
) -> None:
    b = LogBuilder()
    assert set(SCRUTINEERS) <= set(b.procedure.officials.scrutineers)
    body = _members_opening(b, _without(b, absent))
    with pytest.raises(ProcedureLogError) as info:
        b.append("recommendation.opened", body)
    assert (info.value.code, info.value.clause) == ("official.not_present", "RP-3.2")
    assert all(m in info.value.en for m in absent)
    assert b.ledger.session is None
    assert b.ledger.next_round(Form.MEMBER) == 1


def test_rp_3_2_members_session_opens_with_both_scrutineers_present() -> None:
    b = LogBuilder()
    b.append("recommendation.opened", _members_opening(b, _without(b, set())))
    assert b.ledger.session is not None


def test_rp_3_2_failed_quorum_is_recorded_whoever_is_present() -> None:
    """A session that does not open has no scrutineers to check: the quorum failure is still
    recordable without them."""
    b = LogBuilder()
    present = _without(b, set(SCRUTINEERS), n=5)
    body = _members_opening(b, present)
    refused(b, "recommendation.opened", body, "recommendation.quorum_failed")
    del body["posts"]
    b.append("recommendation.quorum_failed", body)


def test_rp_3_2_the_officials_in_force_are_checked_after_a_change() -> None:
    b = LogBuilder()
    b.append("officials.changed", {"scrutineers": ["M001"], "tellers": ["M011"]})
    refused(
        b,
        "recommendation.opened",
        _members_opening(b, _without(b, {"M001"})),
        "official.not_present",
    )
    b.append("recommendation.opened", _members_opening(b, _without(b, set(SCRUTINEERS))))
    assert b.ledger.session is not None


def test_rp_3_2_public_session_needs_no_scrutineer_among_those_present() -> None:
    """A public session's scrutineer may be any roster member (product decision)."""
    b = LogBuilder()
    b.open_public(40)
    assert b.ledger.session is not None


# -- RP-3.6 / ballot-qr §4.4: supplementary stocks ---------------------------------------------------
def _stock_body(round_no: int = 1, part: int = 2, count: int = 2) -> dict[str, Any]:
    return {
        "form": "member",
        "post": "committee",
        "round": round_no,
        "count": count,
        "commitment": "ab" * 32,
        "part": part,
    }


def _ids(tag: str, n: int = 2) -> frozenset[str]:
    return frozenset(f"{tag}{i:031x}"[:32] for i in range(n))


def test_supplement_before_the_first_stock_is_refused() -> None:
    b = LogBuilder()
    refused(b, "stock.supplemented", _stock_body(), "stock.supplement_first", stock_ids=_ids("a"))


def test_supplement_adds_the_next_part_and_its_ballots_count_as_the_rounds() -> None:
    b = LogBuilder()
    first = b.stock(Form.MEMBER, "committee", 1, 3)
    b.append("stock.supplemented", _stock_body(), stock_ids=_ids("a"))
    assert checkpoint_reason(b.entries[-1]) == "stock-supplement member committee 1 2"
    b.append("stock.supplemented", _stock_body(part=3), stock_ids=_ids("b"))
    key = RoundKey(Form.MEMBER, b.procedure.posts[0].kind, 1)
    assert b.ledger.stocks[key] == frozenset(first) | _ids("a") | _ids("b")


@pytest.mark.parametrize("part", [2, 4], ids=["repeated", "skipped"])
def test_supplement_part_out_of_order_is_refused(part: int) -> None:
    b = LogBuilder()
    b.stock(Form.MEMBER, "committee", 1, 3)
    b.append("stock.supplemented", _stock_body(), stock_ids=_ids("a"))
    refused(
        b,
        "stock.supplemented",
        _stock_body(part=part),
        "stock.supplement_part",
        stock_ids=_ids("b"),
    )


def test_supplement_repeating_an_id_of_the_round_is_refused() -> None:
    b = LogBuilder()
    first = b.stock(Form.MEMBER, "committee", 1, 3)
    overlap = frozenset({first[0], next(iter(_ids("a", 1)))})
    refused(b, "stock.supplemented", _stock_body(), "stock.supplement_overlap", stock_ids=overlap)


def test_supplement_repeating_an_id_of_another_round_is_refused() -> None:
    b = LogBuilder()
    b.stock(Form.MEMBER, "committee", 1, 3)
    other = b.stock(Form.MEMBER, "secretary", 1, 3)
    overlap = frozenset({other[0], next(iter(_ids("a", 1)))})
    refused(b, "stock.supplemented", _stock_body(), "stock.ids", stock_ids=overlap)


def test_supplement_after_the_ballots_are_issued_is_refused() -> None:
    b = LogBuilder()
    b.stock(Form.MEMBER, "committee", 1, 20)
    b.stock(Form.MEMBER, "secretary", 1, 20)
    b.open_members(20)
    b.append("stock.supplemented", _stock_body(), stock_ids=_ids("a"))  # open, not issued
    b.append("ballots.issued", {"form": "member", "post": "committee", "round": 1, "count": 20})
    refused(
        b, "stock.supplemented", _stock_body(part=3), "stock.supplement_late", stock_ids=_ids("b")
    )


def test_a_second_first_print_is_refused_as_twice() -> None:
    b = LogBuilder()
    b.stock(Form.MEMBER, "committee", 1, 3)
    body = {k: v for k, v in _stock_body(count=2).items() if k != "part"}
    refused(b, "stock.committed", body, "stock.twice", stock_ids=_ids("a"))
