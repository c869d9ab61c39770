"""The contents of log entries are parsed into frozen values before the replay checks them
(verifier/parse/entries.py; issue 15.5: no shape checked inline in a check)."""

from __future__ import annotations

import base64
import dataclasses
from typing import Any

import pytest

from verifier.parse.entries import (
    Share,
    StockListError,
    parse_remote_cast,
    parse_shares,
    parse_stock_list,
)

IDS = ["0" * 32, "1" * 32]


def _stock(**kw: Any) -> dict[str, Any]:
    doc = {
        "format": "ballot-stock/1",
        "election_id": "e" * 64,
        "kind": "committee",
        "round": 1,
        "count": 2,
        "commitment": "c" * 64,
        "ballot_ids": list(IDS),
    }
    doc.update(kw)
    return doc


def test_a_stock_list_parses_into_a_frozen_value_with_its_ids_decoded_V8() -> None:
    sl = parse_stock_list(_stock())
    assert sl.ballot_ids == tuple(IDS)
    assert sl.ids == (bytes(16), bytes.fromhex("1" * 32))
    with pytest.raises(dataclasses.FrozenInstanceError):
        sl.count = 3  # type: ignore[misc]


@pytest.mark.parametrize(
    "doc",
    [
        [1],
        {k: v for k, v in _stock().items() if k != "kind"},
        _stock(extra=1),
        _stock(format="ballot-stock/2"),
    ],
    ids=["not-an-object", "member-missing", "member-unknown", "other-format"],
)
def test_a_document_that_is_not_a_stock_list_is_refused_V8(doc: object) -> None:
    with pytest.raises(StockListError) as err:
        parse_stock_list(doc)
    assert err.value.problem == "format"


def test_malformed_ballot_ids_are_refused_naming_each_bad_one_V8() -> None:
    with pytest.raises(StockListError) as err:
        parse_stock_list(_stock(ballot_ids=[IDS[0], "A" * 32, 5, "0" * 31]))
    assert (err.value.problem, err.value.bad_ids) == ("ids", ("A" * 32, "5", "0" * 31))
    with pytest.raises(StockListError) as err:
        parse_stock_list(_stock(ballot_ids="0" * 32))
    assert (err.value.problem, err.value.bad_ids) == ("ids", ())


def test_key_shares_parse_only_with_integer_indices_and_hex_commitments_V18_1() -> None:
    item = {"index": 1, "scrutineer": "a2V5", "commitment": "f" * 64}
    assert parse_shares([item]) == (Share(1, "a2V5", "f" * 64),)
    assert parse_shares(item) is None
    assert parse_shares([{**item, "index": "1"}]) is None
    assert parse_shares([{**item, "commitment": "F" * 64}]) is None
    assert parse_shares([{**item, "extra": 1}]) is None


def test_a_cast_decodes_its_base64_members_or_gives_none_for_each_bad_one_V18_3() -> None:
    b32 = base64.b64encode(bytes(32)).decode()
    body = {"token": b32, "token_prefix": b32[:-2], "token_signature": "!", "ballot": {}}
    cast = parse_remote_cast(body)
    assert (cast.token, cast.token_prefix, cast.token_signature) == (bytes(32), None, None)
