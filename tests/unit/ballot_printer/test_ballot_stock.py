"""Ballot stock: size bounds, unique shuffled ids, sealed list, commitment (spec §4)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace

import pytest

from ballot_printer import (
    InvalidElectionIdError,
    PaperKind,
    Signer,
    StockSizeError,
    ballot_code,
    encode_qr_text,
    make_stock,
    parse_qr_text,
    stock_commitment,
    stock_list_json,
    verify_payload,
)


@pytest.mark.parametrize("count", [0, -1, 5001, 10**6], ids=["zero", "negative", "5001", "million"])
def test_stock_count_outside_1_to_5000_is_refused(
    signer: Signer, election_id: bytes, count: int
) -> None:
    with pytest.raises(StockSizeError) as info:
        make_stock(
            election_id=election_id,
            kind=PaperKind.COMMITTEE,
            round_number=1,
            count=count,
            signer=signer,
        )
    assert info.value.code == "stock.count_out_of_range"


def test_election_id_must_be_32_bytes(signer: Signer) -> None:
    with pytest.raises(InvalidElectionIdError):
        make_stock(
            election_id=b"\x01" * 16,
            kind=PaperKind.COMMITTEE,
            round_number=1,
            count=1,
            signer=signer,
        )


def test_stock_ids_and_codes_are_unique_and_every_payload_verifies(
    signer: Signer, public_key: bytes, election_id: bytes
) -> None:
    stock = make_stock(
        election_id=election_id, kind=PaperKind.DEPUTY, round_number=3, count=300, signer=signer
    )
    assert stock.count == 300
    assert len(set(stock.ballot_ids)) == 300
    assert len({ballot_code(i) for i in stock.ballot_ids}) == 300
    for p in stock.payloads:
        verify_payload(
            parse_qr_text(encode_qr_text(p)),
            public_key,
            election_id=election_id,
            kind=PaperKind.DEPUTY,
            round_number=3,
        )


def test_stock_is_not_in_sorted_order(signer: Signer, election_id: bytes) -> None:
    # Shuffled random ids: 200 of them in sorted order would be a 1-in-200! accident.
    stock = make_stock(
        election_id=election_id, kind=PaperKind.COMMITTEE, round_number=1, count=200, signer=signer
    )
    assert list(stock.ballot_ids) != sorted(stock.ballot_ids)


def test_sealed_list_is_canonical_json_with_sorted_hex_ids(
    signer: Signer, election_id: bytes
) -> None:
    stock = make_stock(
        election_id=election_id, kind=PaperKind.SECRETARY, round_number=2, count=25, signer=signer
    )
    raw = stock_list_json(stock)
    doc = json.loads(raw)
    assert doc["format"] == "ballot-stock/1"
    assert doc["ballot_ids"] == sorted(i.hex() for i in stock.ballot_ids)
    assert (doc["kind"], doc["round"], doc["count"]) == ("secretary", 2, 25)
    assert doc["election_id"] == election_id.hex()
    assert doc["commitment"] == stock_commitment(stock).hex()
    # RFC 8785: sorted keys, no whitespace.
    assert raw == json.dumps(doc, sort_keys=True, separators=(",", ":")).encode()


def test_commitment_follows_the_spec_encoding_and_ignores_print_order(
    signer: Signer, election_id: bytes
) -> None:
    stock = make_stock(
        election_id=election_id, kind=PaperKind.COMMITTEE, round_number=4, count=7, signer=signer
    )
    ids = sorted(stock.ballot_ids)
    expected = hashlib.sha256(
        b"branch-election/ballot-stock/1\x00"
        + election_id
        + bytes([1, 4])
        + (7).to_bytes(4, "big")
        + b"".join(ids)
    ).digest()
    assert stock_commitment(stock) == expected
    reversed_stock = replace(stock, payloads=tuple(reversed(stock.payloads)))
    assert stock_commitment(reversed_stock) == expected
    other_round = replace(stock, round_number=5)
    assert stock_commitment(other_round) != expected
