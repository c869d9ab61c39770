"""Procedure ballot stock: shuffled signed payloads, the sealed list and its commitment (RP-3.6).

As the election's stock (spec/ballot-qr.md §4, `stock.py`) with the form added: one stock is one
form, post and round; the sealed list is `procedure-stock/1`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

import rfc8785

from ballot_printer.errors import StockSizeError
from ballot_printer.payload import PaperKind, Signer
from ballot_printer.procedure_qr import (
    PROCEDURE_ID_SIZE,
    ProcedureBadFieldError,
    ProcedureForm,
    ProcedureQrPayload,
    post_code,
    sign_procedure_payload,
)
from ballot_printer.stock import draw_ballot_ids

__all__ = [
    "PROCEDURE_STOCK_DOMAIN",
    "PROCEDURE_STOCK_FORMAT",
    "ProcedureStock",
    "make_procedure_stock",
    "procedure_stock_commitment",
    "procedure_stock_commitment_of",
    "procedure_stock_list_json",
]

PROCEDURE_STOCK_FORMAT: Final = "procedure-stock/1"
PROCEDURE_STOCK_DOMAIN: Final = b"branch-election/procedure-stock/1"
MAX_PROCEDURE_STOCK: Final = 5000


@dataclass(frozen=True, slots=True)
class ProcedureStock:
    """The ballots printed for one form, post and round, in print (shuffled) order."""

    procedure_id: bytes
    form: ProcedureForm
    post: PaperKind | None
    round_number: int
    payloads: tuple[ProcedureQrPayload, ...]

    @property
    def count(self) -> int:
        """Number of ballots in the stock."""
        return len(self.payloads)

    @property
    def ballot_ids(self) -> tuple[bytes, ...]:
        """Ballot ids in print order."""
        return tuple(p.ballot_id for p in self.payloads)


def make_procedure_stock(
    *,
    procedure_id: bytes,
    form: ProcedureForm,
    post: PaperKind | None,
    round_number: int,
    count: int,
    signer: Signer,
) -> ProcedureStock:
    """Draw `count` fresh ids (distinct ballot codes), sign a payload each, shuffle (RP-3.6).

    Raises:
        StockSizeError: count outside 1..5000.
        ProcedureBadFieldError: procedure id not 32 bytes, or form, post or round out of range.
        SignerError: the signer returned a malformed signature.
    """
    if isinstance(count, bool) or not 1 <= count <= MAX_PROCEDURE_STOCK:
        raise StockSizeError(
            zh=f"票数应为 1 至 {MAX_PROCEDURE_STOCK} 张，实为 {count}。",
            en=f"stock count must be 1..{MAX_PROCEDURE_STOCK}, got {count}",
        )
    if len(procedure_id) != PROCEDURE_ID_SIZE:
        raise ProcedureBadFieldError(
            zh="程序标识应为 32 字节的 SHA-256 摘要。",
            en=f"the procedure id must be 32 bytes, got {len(procedure_id)}",
        )
    ids = draw_ballot_ids(count)
    payloads = tuple(
        sign_procedure_payload(
            procedure_id=procedure_id,
            form=form,
            post=post,
            round_number=round_number,
            ballot_id=ballot_id,
            signer=signer,
        )
        for ballot_id in ids
    )
    return ProcedureStock(
        procedure_id=procedure_id,
        form=form,
        post=post,
        round_number=round_number,
        payloads=payloads,
    )


def procedure_stock_commitment(stock: ProcedureStock) -> bytes:
    """The commitment of a printed stock (RP-3.6), from its ids."""
    return procedure_stock_commitment_of(
        stock.procedure_id, stock.form, stock.post, stock.round_number, stock.ballot_ids
    )


def procedure_stock_commitment_of(
    procedure_id: bytes,
    form: ProcedureForm,
    post: PaperKind | None,
    round_number: int,
    ballot_ids: Sequence[bytes],
) -> bytes:
    """SHA-256(domain || 0x00 || procedure_id (32) || form (1) || post (1) || round (1)
    || count (4, big-endian) || ids sorted ascending (16 each)) (RP-3.6); a sealed list's
    reader recomputes it from the list's ids."""
    h = hashlib.sha256(PROCEDURE_STOCK_DOMAIN + b"\x00")
    h.update(procedure_id)
    post_byte = 0 if post is None else int(post)
    h.update(bytes([int(form), post_byte, round_number]))
    h.update(len(ballot_ids).to_bytes(4, "big"))
    for ballot_id in sorted(ballot_ids):
        h.update(ballot_id)
    return h.digest()


def procedure_stock_list_json(stock: ProcedureStock) -> bytes:
    """The sealed list `procedure-stock/1`, RFC 8785 JSON with the sorted ids in hex (RP-3.6)."""
    doc: dict[str, str | int | list[str]] = {
        "format": PROCEDURE_STOCK_FORMAT,
        "procedure_id": stock.procedure_id.hex(),
        "form": stock.form.code,
        "post": post_code(stock.post),
        "round": stock.round_number,
        "count": stock.count,
        "ballot_ids": sorted(i.hex() for i in stock.ballot_ids),
        "commitment": procedure_stock_commitment(stock).hex(),
    }
    return bytes(rfc8785.dumps(doc))
