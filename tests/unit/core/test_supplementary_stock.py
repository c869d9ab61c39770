"""Supplementary print in the pure meeting state (spec/ballot-qr.md §4.4, spec/log.md §2)."""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path
from typing import Any

import pytest

from tally.core.definition import parse_definition
from tally.core.errors import RoundStateError
from tally.core.meeting import Meeting, apply_entry, begin, make_entry
from tally.core.model import PostKind

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "qingshan.toml"
EID = hashlib.sha256(b"supplement test").digest()
SALT = bytes(32)  # the state machine ignores the salt; the shells draw it from secrets
AT = dt.datetime(2026, 12, 15, 9, 0, tzinfo=dt.UTC)
KEY = (PostKind.COMMITTEE, 1)


def ids(start: int, n: int) -> frozenset[str]:
    return frozenset(f"{i:032x}" for i in range(start, start + n))


def add(
    m: Meeting, type_: str, body: dict[str, Any], stock: frozenset[str] | None = None
) -> Meeting:
    return apply_entry(m, make_entry(m, type_, body, at=AT, actor="", salt=SALT), stock_ids=stock)


def committed(count: int = 20) -> Meeting:
    election = parse_definition(EXAMPLE.read_text(encoding="utf-8"))
    e0 = make_entry(
        None,
        "election.opened",
        {"election_id": EID.hex()},
        at=AT,
        actor="",
        salt=SALT,
        election_id=EID,
    )
    m = begin(election, EID, e0)
    body = {"post": "committee", "round": 1, "count": count, "commitment": "a" * 64}
    return add(m, "stock.committed", body, ids(0, count))


def supplement(m: Meeting, part: int, start: int, n: int) -> Meeting:
    body = {"post": "committee", "round": 1, "part": part, "count": n, "commitment": "b" * 64}
    return add(m, "stock.supplemented", body, ids(start, n))


def test_supplement_adds_its_ballots_to_the_round_stock_part_by_part() -> None:
    m = supplement(supplement(committed(), 2, 100, 3), 3, 200, 2)
    assert m.stocks[KEY] == 25
    assert m.stock_ids[KEY] == ids(0, 20) | ids(100, 3) | ids(200, 2)
    assert m.stock_parts[KEY] == 3


def test_supplement_needs_the_round_stock_first() -> None:
    election = parse_definition(EXAMPLE.read_text(encoding="utf-8"))
    e0 = make_entry(
        None,
        "election.opened",
        {"election_id": EID.hex()},
        at=AT,
        actor="",
        salt=SALT,
        election_id=EID,
    )
    with pytest.raises(RoundStateError) as info:
        supplement(begin(election, EID, e0), 2, 100, 3)
    assert info.value.code == "stock.supplement_first"


@pytest.mark.parametrize("part", [1, 3])
def test_supplement_parts_are_numbered_2_3_in_order(part: int) -> None:
    with pytest.raises(RoundStateError) as info:
        supplement(committed(), part, 100, 3)
    assert info.value.code == "stock.supplement_part"


def test_supplement_ids_must_be_new_to_the_round() -> None:
    with pytest.raises(RoundStateError) as info:
        supplement(committed(), 2, 19, 3)  # id 19 is in the first print
    assert info.value.code == "stock.supplement_overlap"
    assert "重复" in info.value.zh and "repeats" in info.value.en


def test_supplement_list_must_match_its_count() -> None:
    body = {"post": "committee", "round": 1, "part": 2, "count": 4, "commitment": "b" * 64}
    with pytest.raises(RoundStateError) as info:
        add(committed(), "stock.supplemented", body, ids(100, 3))
    assert info.value.code == "stock.ids"
