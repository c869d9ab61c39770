"""Ballot stock: a shuffled set of signed payloads, its sealed list and its commitment.

Implements spec/ballot-qr.md §4 (stock, sealed list `ballot-stock/1`, stock commitment).
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from typing import Final

import rfc8785

from ballot_printer.errors import InvalidElectionIdError, StockSizeError
from ballot_printer.payload import (
    BALLOT_ID_SIZE,
    ELECTION_ID_SIZE,
    PaperKind,
    QrPayload,
    Signer,
    ballot_code,
    sign_payload,
)

__all__ = [
    "MAX_STOCK",
    "STOCK_COMMITMENT_DOMAIN",
    "STOCK_LIST_FORMAT",
    "BallotStock",
    "draw_ballot_ids",
    "make_stock",
    "stock_commitment",
    "stock_list_json",
]

MAX_STOCK: Final = 5000
STOCK_LIST_FORMAT: Final = "ballot-stock/1"
STOCK_COMMITMENT_DOMAIN: Final = b"branch-election/ballot-stock/1"
_KIND_NAMES: Final = {
    PaperKind.COMMITTEE: "committee",
    PaperKind.SECRETARY: "secretary",
    PaperKind.DEPUTY: "deputy",
}


@dataclass(frozen=True, slots=True)
class BallotStock:
    """The ballots printed for one round of one post, in print (shuffled) order."""

    election_id: bytes
    kind: PaperKind
    round_number: int
    payloads: tuple[QrPayload, ...]

    @property
    def count(self) -> int:
        """Number of ballots in the stock."""
        return len(self.payloads)

    @property
    def ballot_ids(self) -> tuple[bytes, ...]:
        """Ballot ids in print order."""
        return tuple(p.ballot_id for p in self.payloads)


def draw_ballot_ids(count: int) -> list[bytes]:
    """`count` fresh random ballot ids in print (shuffled) order, for any stock.

    Ids are unique, and so are their printed ballot codes: an id whose code repeats one already
    drawn is redrawn, so a teller's code always names one ballot of the stock.
    """
    ids: list[bytes] = []
    codes: set[str] = set()
    while len(ids) < count:
        candidate = secrets.token_bytes(BALLOT_ID_SIZE)
        code = ballot_code(candidate)
        if code in codes:  # also catches a repeated id
            continue
        codes.add(code)
        ids.append(candidate)
    secrets.SystemRandom().shuffle(ids)
    return ids


def make_stock(
    *, election_id: bytes, kind: PaperKind, round_number: int, count: int, signer: Signer
) -> BallotStock:
    """Draw `count` fresh ballot ids, sign a payload for each and shuffle them (spec §4.1).

    Ids are unique, and so are their printed ballot codes: an id whose code repeats one already
    drawn is redrawn, so a teller's code always names one ballot of the stock.

    Args:
        election_id: the 32-byte SHA-256 election id.
        kind: the paper kind.
        round_number: 1..255.
        count: 1..5000.
        signer: the work group signer (see `Signer`).

    Raises:
        StockSizeError: count outside 1..5000.
        InvalidElectionIdError: election id not 32 bytes.
        InvalidFieldError: round outside 1..255.
        SignerError: the signer returned a malformed signature.

    Returns:
        The stock.
    """
    if isinstance(count, bool) or not 1 <= count <= MAX_STOCK:
        raise StockSizeError(
            zh=f"选票数量应为 1 至 {MAX_STOCK} 张，实为 {count}。",
            en=f"stock count must be 1..{MAX_STOCK}, got {count}",
        )
    if len(election_id) != ELECTION_ID_SIZE:
        raise InvalidElectionIdError(
            zh="选举标识应为 32 字节的 SHA-256 摘要。",
            en=f"election id must be a 32-byte SHA-256 digest, got {len(election_id)} bytes",
        )
    ids = draw_ballot_ids(count)
    payloads = tuple(
        sign_payload(
            election_id=election_id,
            kind=kind,
            round_number=round_number,
            ballot_id=ballot_id,
            signer=signer,
        )
        for ballot_id in ids
    )
    return BallotStock(
        election_id=election_id, kind=kind, round_number=round_number, payloads=payloads
    )


def stock_commitment(stock: BallotStock) -> bytes:
    """SHA-256 commitment to the stock (spec §4.3).

    SHA-256(domain || 0x00 || election_id(32) || kind(1) || round(1) || count(u32 BE)
    || ids sorted ascending, 16 bytes each).
    """
    h = hashlib.sha256(STOCK_COMMITMENT_DOMAIN + b"\x00")
    h.update(stock.election_id)
    h.update(bytes([int(stock.kind), stock.round_number]))
    h.update(stock.count.to_bytes(4, "big"))
    for ballot_id in sorted(stock.ballot_ids):
        h.update(ballot_id)
    return h.digest()


def stock_list_json(stock: BallotStock) -> bytes:
    """The sealed list `ballot-stock/1`: RFC 8785 JSON with the sorted ids in hex (spec §4.2)."""
    doc: dict[str, str | int | list[str]] = {
        "format": STOCK_LIST_FORMAT,
        "election_id": stock.election_id.hex(),
        "kind": _KIND_NAMES[stock.kind],
        "round": stock.round_number,
        "count": stock.count,
        "ballot_ids": sorted(i.hex() for i in stock.ballot_ids),
        "commitment": stock_commitment(stock).hex(),
    }
    return bytes(rfc8785.dumps(doc))
