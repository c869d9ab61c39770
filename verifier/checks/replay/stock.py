"""Ballot stocks (spec/bundle.md V8; spec/ballot-qr.md §4.2-§4.4).

Each ``stock.committed`` has its ``stocks/<post>-<round>.json`` and each ``stock.supplemented``
its ``stocks/<post>-<round>-<part>.json``: a ``ballot-stock/1`` list for this election, post and
round whose commitment recomputes and equals the entry's. A round's stock is the union of its
parts; no stock file is without its entry.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from verifier.checks.common import STOCK_PATH
from verifier.checks.replay.state import Stock
from verifier.model import LogEntry
from verifier.parse.entries import StockList, StockListError, parse_stock_list
from verifier.qr import KIND_BYTES, stock_commitment

if TYPE_CHECKING:
    from verifier.checks.replay.core import Replay

__all__ = ["stock_committed", "stock_supplemented", "unreferenced"]

_KIND_NAMES: Final = {
    "committee": "committee",
    "secretary": "secretary",
    "deputy_secretary": "deputy",
}


def stock_committed(r: Replay, e: LogEntry) -> None:
    """(V8) A ``stock.committed``: the round's first stock, with its file."""
    r.moment(f"stock {e.body['post']} {e.body['round']}", e)  # (V7)
    stock(r, e)


def stock_supplemented(r: Replay, e: LogEntry) -> None:
    """(V8) A ``stock.supplemented``: a further part of the round's stock, with its file."""
    b = e.body
    r.moment(f"stock-supplement {b['post']} {b['round']} {b['part']}", e)  # (V7)
    stock(r, e)


def stock(r: Replay, e: LogEntry) -> None:
    """(V8) A ``stock.committed`` or ``stock.supplemented`` entry: once per round (a supplement
    as the round's next part), with its stock file; the round's stock is then its parts."""
    b = e.body
    post, rnd = b["post"], b["round"]
    part = b.get("part", 1)  # stock.supplemented: a supplementary print, part 2, 3, ...
    name = f"stocks/{post}-{rnd}.json" if part == 1 else f"stocks/{post}-{rnd}-{part}.json"
    key = (post, rnd)
    if part == 1 and key in r.stocks:  # one stock.committed per round
        r.fail(
            "V8",
            "stock.duplicate",
            "同一轮次的选票批次重复登记",
            "a second stock for the same post and round",
            e,
        )
    if part != 1:  # (ballot-qr.md §4.4) after the round's stock, before its issue, in order
        supplement_allowed(r, e, key, part)
    r.stock_files_used.add(name)
    sl = stock_list(r, e, name)
    ids = stock_list_matches(r, e, sl, name) if sl is not None else None
    if part == 1:
        r.stocks[key] = Stock(b["count"], ids, e.seq)
        return
    base = r.stocks.get(key)
    if base is None:
        return  # reported by supplement_allowed
    if ids is not None and base.ids is not None and ids & base.ids:  # ids new to the round
        r.fail(
            "V8",
            "stock.supplement_overlap",
            "补印的选票标识与本轮已登记的重复",
            "a supplementary ballot id repeats one already committed for the round",
            e,
        )
    merged = None if ids is None or base.ids is None else base.ids | ids
    r.stocks[key] = Stock(base.count + b["count"], merged, base.seq)
    r.stock_parts[key] = part


def stock_list(r: Replay, e: LogEntry, name: str) -> StockList | None:
    """(V8) The entry's stock file exists and is a ``ballot-stock/1`` list of well-formed ids
    (spec/ballot-qr.md §4.2); None, reported, when it is not."""
    doc = r.v._doc(name, "V8")  # a missing or unreadable file is reported there
    if doc is None:
        return None
    where = {"file": name, "seq": e.seq}
    try:
        return parse_stock_list(doc)
    except StockListError as err:
        for x in err.bad_ids:
            r.f.fail(
                "V8",
                "stock.bad_id",
                "选票标识格式错误",
                "malformed ballot id",
                found=x,
                **where,
            )
        if err.problem == "format":
            r.f.fail(
                "V8",
                "stock.format",
                "不是 ballot-stock/1",
                "not a ballot-stock/1 document",
                **where,
            )
        else:
            r.f.fail("V8", "stock.format", "ballot_ids 格式错误", "ballot_ids malformed", **where)
        return None


def stock_list_matches(r: Replay, e: LogEntry, sl: StockList, name: str) -> frozenset[str]:
    """(V8) The list is for this election, post and round, with ``count`` ids, sorted, unique,
    and a commitment that recomputes (spec/ballot-qr.md §4.3) and equals the entry's.

    Returns:
        The list's ids, as the stock of the entry's part.
    """
    b = e.body
    post, rnd = b["post"], b["round"]
    where = {"file": name, "seq": e.seq}
    if sl.ballot_ids != tuple(sorted(set(sl.ballot_ids))):
        r.f.fail(
            "V8",
            "stock.order",
            "选票标识未排序或重复",
            "ballot ids not sorted and unique",
            **where,
        )
    checks = [
        ("election_id", sl.election_id, r.m.election_id.hex()),
        ("kind", sl.kind, _KIND_NAMES[post]),
        ("round", sl.round, rnd),
        ("count", sl.count, b["count"]),
    ]
    for k, have, want in checks:
        if have != want:
            r.f.fail(
                "V8",
                f"stock.{k}",
                f"批次的 {k} 不符",
                f"stock {k} differs",
                expected=str(want),
                found=str(have),
                **where,
            )
    if sl.count != len(sl.ids):
        r.f.fail(
            "V8",
            "stock.count",
            "批次张数与标识数不符",
            "count differs from the number of ids",
            expected=str(len(sl.ids)),
            found=str(sl.count),
            **where,
        )
    c = stock_commitment(r.m.election_id, KIND_BYTES[post], rnd, list(sl.ids)).hex()
    if sl.commitment != c:
        r.f.fail(
            "V8",
            "stock.commitment",
            "批次文件中的承诺值与重新计算不符",
            "stock file commitment does not recompute",
            expected=c,
            found=str(sl.commitment),
            **where,
        )
    if b["commitment"] != c:
        r.f.fail(
            "V8",
            "stock.commitment",
            "日志中的承诺值与批次不符",
            "the log entry's commitment differs from the stock",
            expected=c,
            found=b["commitment"],
            **where,
        )
    return frozenset(sl.ballot_ids)


def supplement_allowed(r: Replay, e: LogEntry, key: tuple[str, int], part: int) -> None:
    """(V8) A supplementary print follows the round's stock, before its ballots are issued, as
    the round's next part (spec/ballot-qr.md §4.4)."""
    o = r.open
    if key not in r.stocks or (
        o is not None and (o.post, o.number) == key and o.issued is not None
    ):
        r.fail(
            "V8",
            "stock.supplement_order",
            "补印的选票批次须在本轮选票登记之后、发票之前",
            "a supplementary stock must follow the round's stock and precede its issue",
            e,
        )
        return
    want = r.stock_parts.get(key, 1) + 1
    if part != want:
        r.fail(
            "V8",
            "stock.supplement_part",
            "补印批次编号不连续",
            "supplementary parts are not numbered 2, 3, ...",
            e,
            expected=str(want),
            found=str(part),
        )


def unreferenced(r: Replay) -> None:
    """(V8) No stock file without its ``stock.committed`` or ``stock.supplemented``."""
    for name in r.v.b.names():
        if STOCK_PATH.fullmatch(name) and name not in r.stock_files_used:
            r.f.fail(
                "V8",
                "stock.unreferenced",
                "批次文件没有对应的 stock.committed 或 stock.supplemented",
                "stock file without a stock.committed or stock.supplemented",
                file=name,
            )
