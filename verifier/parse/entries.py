"""Parsing the contents of log entries that the replay checks (spec/remote.md RM-8.1, V18;
spec/ballot-qr.md §4.2, V8).

``verifier.parse`` checks every entry body's members and their JSON types (V6). Some members
hold more than a JSON type says: base64 keys and tokens, the list of key shares, and the stock
list a ``stock.committed`` names. This module turns them into frozen values, so the replay's
checks (``verifier.checks.replay``) compare meaning, never shape. Nothing here reports a
finding: a parse either returns its value, or gives ``None`` or raises ``StockListError`` for
the check to report under its clause, with the same finding as before this module existed.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final, Literal

from verifier.crypto import b64decode_canonical

__all__ = [
    "STOCK_LIST_MEMBERS",
    "RemoteCast",
    "Share",
    "StockList",
    "StockListError",
    "parse_remote_cast",
    "parse_shares",
    "parse_stock_list",
    "stock_ids",
]

_HEX64: Final = re.compile(r"[0-9a-f]{64}")
_ID_HEX: Final = re.compile(r"[0-9a-f]{32}")
_SHARE_MEMBERS: Final = frozenset({"index", "scrutineer", "commitment"})
STOCK_LIST_MEMBERS: Final = frozenset(
    {"ballot_ids", "commitment", "count", "election_id", "format", "kind", "round"}
)


# --------------------------------------------------------------------------- remote.opened


@dataclass(frozen=True, slots=True)
class Share:
    """One item of ``remote.opened``'s ``shares`` (RM-7.3): a scrutineer's key share."""

    index: int
    scrutineer: str  # base64 Ed25519 key, as written
    commitment: str  # 64 lowercase hex


def parse_shares(value: object) -> tuple[Share, ...] | None:
    """``shares`` of ``remote.opened`` (RM-8.1): a list of ``{index, scrutineer, commitment}``
    with an integer index and a 64-hex commitment; None when it is not."""
    if not isinstance(value, list):
        return None
    out = []
    for item in value:
        if (
            not isinstance(item, dict)
            or set(item) != _SHARE_MEMBERS
            or type(item["index"]) is not int
            or not isinstance(item["scrutineer"], str)
            or not isinstance(item["commitment"], str)
            or _HEX64.fullmatch(item["commitment"]) is None
        ):
            return None
        out.append(Share(item["index"], item["scrutineer"], item["commitment"]))
    return tuple(out)


# --------------------------------------------------------------------------- remote.cast


@dataclass(frozen=True, slots=True)
class RemoteCast:
    """A ``remote.cast`` body decoded (RM-4.6); a member that is not canonical base64 of its
    length is None."""

    token: bytes | None  # 32 bytes
    token_prefix: bytes | None  # 32 bytes
    token_signature: bytes | None  # the modulus length, checked with the issuer key (V18.3)


def parse_remote_cast(body: Mapping[str, Any]) -> RemoteCast:
    """The base64 members of a ``remote.cast`` body (V6 checked they are strings)."""
    return RemoteCast(
        token=b64decode_canonical(body["token"], 32),
        token_prefix=b64decode_canonical(body["token_prefix"], 32),
        token_signature=b64decode_canonical(body["token_signature"]),
    )


# --------------------------------------------------------------------------- stock lists


@dataclass(frozen=True, slots=True)
class StockList:
    """A ``ballot-stock/1`` list (spec/ballot-qr.md §4.2) with well-formed ballot ids.

    The members V8 compares with the entry and the election are kept as written (any JSON
    value), so that one of another type is reported as a wrong value.
    """

    election_id: object
    kind: object
    round: object
    count: object
    commitment: object
    ballot_ids: tuple[str, ...]  # each 32 lowercase hex, in the file's order
    ids: tuple[bytes, ...]  # the same, as 16-byte ids


class StockListError(ValueError):
    """Not a ``ballot-stock/1`` list (``problem`` "format"), or its ``ballot_ids`` are not all
    32 lowercase hex (``problem`` "ids", with the strings that are not)."""

    def __init__(self, problem: Literal["format", "ids"], bad_ids: tuple[str, ...] = ()) -> None:
        super().__init__(problem)
        self.problem = problem
        self.bad_ids = bad_ids


def parse_stock_list(doc: object) -> StockList:
    """A stock file's document (spec/ballot-qr.md §4.2): exactly the members of
    ``ballot-stock/1`` and a list of ballot ids, each 32 lowercase hex.

    Raises:
        StockListError: the document is not that.

    Returns:
        The list.
    """
    if not isinstance(doc, dict) or set(doc) != STOCK_LIST_MEMBERS:
        raise StockListError("format")
    if doc.get("format") != "ballot-stock/1":
        raise StockListError("format")
    raw_ids = doc["ballot_ids"]
    ids = stock_ids(raw_ids)
    if ids is None:
        bad = (
            tuple(str(x) for x in raw_ids if not (isinstance(x, str) and _ID_HEX.fullmatch(x)))
            if isinstance(raw_ids, list)
            else ()
        )
        raise StockListError("ids", bad)
    assert isinstance(raw_ids, list)  # stock_ids accepts only a list
    return StockList(
        election_id=doc["election_id"],
        kind=doc["kind"],
        round=doc["round"],
        count=doc["count"],
        commitment=doc["commitment"],
        ballot_ids=tuple(raw_ids),
        ids=tuple(ids),
    )


def stock_ids(raw_ids: object) -> list[bytes] | None:
    """A stock's ``ballot_ids`` as 16-byte ids when every one is 32 lowercase hex, else None.

    A few C calls over the whole list (5,000 ids a stock), none per id in Python.
    """
    if not isinstance(raw_ids, list):
        return None
    try:
        joined = "".join(raw_ids)
    except TypeError:  # an id that is not a string
        return None
    if set(map(len, raw_ids)) - {32} or not joined.isascii():
        return None
    if joined.encode("ascii").translate(None, b"0123456789abcdef"):  # lowercase hex only
        return None
    raw = bytes.fromhex(joined)
    return [raw[i : i + 16] for i in range(0, len(raw), 16)]
