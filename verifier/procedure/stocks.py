"""(V23) The sealed stock lists of a procedure bundle (spec/procedure.md RP-3.6, RP-12.1).

Each ``stock.committed`` / ``stock.supplemented`` entry has its ``procedure-stock/1`` in
``stocks/<form>-<post>-<round>[-<part>].json`` (``evaluation-<round>[-<part>].json``): the same
procedure, form, post, round, count and commitment, the commitment recomputed from its ids
(``stock.list``); no id in two stocks (``stock.ids``); every ballot kept is in a stock of its form,
post and round (``ballot.not_in_stock``); no stock file without its entry.

(V22) A ``stock.supplemented`` is in the producer's order (RP-3.6): after its round's
``stock.committed`` (``stock.supplement_first``), before the round's ``ballots.issued`` and before
the round is counted or void (``stock.supplement_late``), with the round's next ``part``
(``stock.supplement_part``).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Sequence
from typing import Any, Final

from verifier.procedure.log import Entry, ProcedureLog
from verifier.procedure.qr import FORMS, POSTS

__all__ = ["STOCK_DOMAIN", "check_stock_order", "check_stocks", "stock_commitment"]

STOCK_DOMAIN: Final = b"branch-election/procedure-stock/1"
_MEMBERS: Final = frozenset(
    {"format", "procedure_id", "form", "post", "round", "count", "ballot_ids", "commitment"}
)
_ID: Final = re.compile(r"[0-9a-f]{32}")
Key = tuple[object, object, object]


def stock_commitment(
    procedure_id: bytes, form: str, post: str, round_: int, ids: Iterable[bytes]
) -> str:
    """(RP-3.6) The commitment of a stock, as 64 hex (ids sorted here)."""
    ordered = sorted(ids)
    h = hashlib.sha256(STOCK_DOMAIN + b"\x00" + procedure_id)
    h.update(bytes([FORMS[form], POSTS[post], round_]))
    h.update(len(ordered).to_bytes(4, "big"))
    h.update(b"".join(ordered))
    return h.hexdigest()


def _name(b: dict[str, Any], part: object) -> str:
    tail = f"-{part}" if part is not None else ""
    if b.get("form") == "evaluation":
        return f"stocks/evaluation-{b.get('round')}{tail}.json"
    return f"stocks/{b.get('form')}-{b.get('post')}-{b.get('round')}{tail}.json"


def check_stocks(run: Any, procedure_id: str, log: ProcedureLog, records: Sequence[Entry]) -> None:
    """(V23) Every stock entry against its sealed list; every ballot kept in its stock; (V22)
    every supplementary stock in its order."""
    check_stock_order(run, log)
    stocks: dict[Key, set[str]] = {}
    owner: dict[str, str] = {}
    named: set[str] = set()
    for e in log.of("stock.committed", "stock.supplemented"):
        b = e.body
        name = _name(b, b.get("part") if e.type == "stock.supplemented" else None)
        named.add(name)
        ids = _list(run, e, name, procedure_id)
        key: Key = (b.get("form"), b.get("post"), b.get("round"))
        for i in ids:
            if i in owner:
                run.f.fail(
                    "stock.ids",
                    "同一票号出现在两个封存清单中",
                    "a ballot id is in two stocks",
                    clause="V23",
                    file=name,
                    ballot_id=i,
                    rule="RP-3.6",
                )
            owner[i] = name
        stocks.setdefault(key, set()).update(ids)
    for name in sorted(n for n in run.b.names() if n.startswith("stocks/") and n not in named):
        run.f.fail(
            "stock.list",
            "封存清单没有对应的日志记录",
            "a stock list no log entry commits",
            clause="V23",
            file=name,
            rule="RP-3.6",
        )
    for r in records:
        b = r.body
        form = "evaluation" if r.type == "evaluation.entered" else b.get("form", b.get("group"))
        key = (form, b.get("post", ""), b.get("round"))
        if b.get("ballot_id") not in stocks.get(key, set()):
            run.f.fail(
                "ballot.not_in_stock",
                "选票编号不在本轮已封存的票号中",
                "the ballot id is in no committed stock of its round",
                clause="V23",
                file="log.jsonl",
                seq=r.seq,
                ballot_id=str(b.get("ballot_id")),
                rule="RP-3.7",
            )


def _round_key(e: Entry) -> Key:
    """The (form, post, round) an entry of a round names (``""`` the evaluation's post)."""
    b = e.body
    if e.type == "evaluation.counted":
        return "evaluation", "", b.get("round")
    if e.type == "recommendation.counted":
        return b.get("group"), b.get("post"), b.get("round")
    return b.get("form"), b.get("post"), b.get("round")


_CLOSING: Final = ("ballots.issued", "round.void", "recommendation.counted", "evaluation.counted")


def check_stock_order(run: Any, log: ProcedureLog) -> None:
    """(V22, RP-3.6) Each ``stock.supplemented`` follows its round's first stock, precedes its
    round's ballots issued and its closing, and is the round's next part; as the producer refuses
    them (``tally/core/procedure/ledger.py``), one finding per entry, the first that applies."""
    parts: dict[Key, int] = {}
    late: set[Key] = set()
    for e in log.entries:
        key = _round_key(e)
        if e.type in _CLOSING:
            late.add(key)
        elif e.type == "stock.committed":
            parts.setdefault(key, 1)
        elif e.type == "stock.supplemented":
            part = e.body.get("part")
            found = _supplement_problem(parts.get(key), key in late, part)
            if found is None:
                parts[key] = part if type(part) is int else parts[key]
                continue
            code, zh, en = found
            run.f.fail(code, zh, en, clause="V22", file="log.jsonl", seq=e.seq, rule="RP-3.6")


def _supplement_problem(last: int | None, late: bool, part: object) -> tuple[str, str, str] | None:
    if last is None:
        return (
            "stock.supplement_first",
            "本轮还没有登记首批票，不能补印",
            "the round has no stock committed yet: no supplementary print",
        )
    if late:
        return (
            "stock.supplement_late",
            "本轮的票已经发出，不能再补印",
            "the round's ballots are issued already: no supplementary print",
        )
    if part != last + 1:
        return (
            "stock.supplement_part",
            f"补印批次编号不接续（应为第 {last + 1} 批）",
            f"the supplementary print is not the round's next part ({last + 1})",
        )
    return None


def _list(run: Any, e: Entry, name: str, procedure_id: str) -> list[str]:
    """The stock's ids when its list agrees with the entry; [] (reported) otherwise."""
    b = e.body
    doc = run.doc(name, "V23")
    if not isinstance(doc, dict):
        doc = {}
    want = {k: v for k, v in b.items() if k in _MEMBERS or k in doc}
    want |= {"format": "procedure-stock/1", "procedure_id": procedure_id}
    ok = set(doc) - {"part"} == _MEMBERS
    raw_ids = doc.get("ballot_ids")
    ids: list[Any] = raw_ids if isinstance(raw_ids, list) else []
    good_ids = (
        isinstance(raw_ids, list)
        and all(isinstance(i, str) and _ID.fullmatch(i) for i in ids)
        and len(set(ids)) == len(ids) == b.get("count")
    )
    if not ok or not good_ids or any(doc.get(k) != v for k, v in want.items()):
        run.f.fail(
            "stock.list",
            "封存清单与日志中的封存记录不符",
            "the sealed stock list differs from its log entry",
            clause="V23",
            file=name,
            seq=e.seq,
            rule="RP-3.6",
        )
        return []
    form, post, round_ = str(b.get("form")), str(b.get("post")), b.get("round")
    if form not in FORMS or post not in POSTS or type(round_) is not int or not 0 < round_ < 256:
        return []
    got = stock_commitment(bytes.fromhex(procedure_id), form, post, round_, _raw(ids))
    if got != b.get("commitment"):
        run.f.fail(
            "stock.list",
            "封存清单的承诺值与票号不符",
            "the commitment does not recompute from the ids",
            clause="V23",
            file=name,
            seq=e.seq,
            expected=got,
            rule="RP-3.6",
        )
    return [str(i) for i in ids]


def _raw(ids: Sequence[object]) -> list[bytes]:
    return [bytes.fromhex(str(i)) for i in ids]
