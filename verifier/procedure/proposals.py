"""(V26, V27) Every version of ``preliminary.proposed`` and the evaluation rounds that follow it
(spec/procedure.md RP-4, RP-5.1, RP-6.3, §13 V26 and V27), against the log read so far.

* Version 1 is recomputed by ``verifier.procedure.ranking`` and each later version (the
  supplement) by ``verifier.procedure.supplement``, both from the verifier's own recommendation
  recounts, the omissions the body records (``declined``, ``ten_disqualifications``) and the
  higher-level recommendations recorded since the previous version; a supplement from the last
  vetting record, which must follow the previous version (``procedure.order`` otherwise), and it
  must add a name (``preliminary.exhausted``).
* A tie at the cut that the recorded list breaks (some of the names tied at the cut in, others
  out) is ``preliminary.tie_broken``; any other difference ``preliminary.differs``.
* Each ``evaluation.opened`` is the next round (previous + 1) of the earliest version with no
  counted evaluation (``procedure.order``) and evaluates exactly the names first proposed in that
  version, in ``ballot_order`` (``evaluation.not_listed``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from verifier.procedure.definition import CountingDefinition, ProcedureRecountError
from verifier.procedure.log import Entry
from verifier.procedure.ranking import recount_proposal
from verifier.procedure.supplement import recount_supplement

__all__ = ["broken_ties", "check_evaluation_opened", "check_proposal"]

Seen = Mapping[str, Sequence[Entry]]


def _list(v: object) -> list[Any]:
    return v if isinstance(v, list) else []


def _diff(want: Mapping[str, Any], got: Mapping[str, Any]) -> str:
    keys = sorted(k for k in {*want, *got} if want.get(k) != got.get(k))
    return ", ".join(keys)[:200] or "order"


def _members(body: Mapping[str, Any], post: str | None = None) -> set[str]:
    """The names of ``post`` (every post when None) in a proposal body, whatever its shape."""
    return {
        str(n.get("member"))
        for item in _list(body.get("posts"))
        if isinstance(item, dict) and (post is None or item.get("post") == post)
        for n in _list(item.get("names"))
        if isinstance(n, dict)
    }


def _qualified(body: Mapping[str, Any]) -> set[str]:
    """``post:member`` of each ``qualification`` omission of a proposal body (RP-4.4)."""
    return {
        f"{item.get('post')}:{o.get('member')}"
        for item in _list(body.get("posts"))
        if isinstance(item, dict)
        for o in _list(item.get("omitted"))
        if isinstance(o, dict) and o.get("reason") == "qualification"
    }


def broken_ties(
    ties: Mapping[str, frozenset[str]], body: Mapping[str, Any]
) -> list[tuple[str, list[str], list[str]]]:
    """(RP-4.2, V26) Each post whose names tied at the cut the recorded ``body`` takes in part:
    (post, the tied names in, the tied names out)."""
    out = []
    for post, tied in ties.items():
        got = _members(body, post)
        if tied & got and tied - got:
            out.append((post, sorted(tied & got), sorted(tied - got)))
    return out


Fail = Callable[..., None]


def check_proposal(
    run: Any,
    d: CountingDefinition,
    e: Entry,
    seen: Seen,
    counts: Sequence[Mapping[str, Any]],
) -> None:
    """(V26) The proposal ``e`` equals the version the verifier derives; failures through
    ``run.f``."""
    b = e.body

    def fail(code: str, zh: str, en: str, rule: str = "RP-4.5", clause: str = "V26") -> None:
        run.f.fail(code, zh, en, clause=clause, file="log.jsonl", seq=e.seq, rule=rule)

    ties: dict[str, frozenset[str]] = {}
    try:
        want = _recompute(d, e, seen, counts, ties=ties, fail=fail)
    except ProcedureRecountError as x:
        fail(x.code, x.zh, x.en, rule=x.clause)
        return
    except (KeyError, TypeError, ValueError, AttributeError):
        # The counts it rests on are not readable (their own failures are reported under V25).
        run.skip("V26", "推荐计票结果无法读取，初步人选未重新计算", "the counts are unreadable")
        return
    if want is None:
        return
    broken = broken_ties(ties, b)
    for post, kept, left in broken:
        fail(
            "preliminary.tie_broken",
            f"{post}：截止位置票数相同者未全部列入"
            f"（列入 {'、'.join(kept)}，未列入 {'、'.join(left)}）",
            f"{post}: names tied at the cut were not all included (in: {', '.join(kept)}; "
            f"out: {', '.join(left)})",
            rule="RP-4.2",
        )
    if broken:
        return
    missing = _qualified(want) ^ _qualified(b)
    if missing:
        fail(
            "preliminary.omission",
            "资格条件（R27，block）未达者的省略记录与规则不符：" + "、".join(sorted(missing)),
            "the qualification omissions (R27 under block) differ from the rule's: "
            + ", ".join(sorted(missing)),
            rule="RP-4.4",
        )
        return
    if want != b:
        fail(
            "preliminary.differs",
            "初步人选与核验程序按规则得出的名单不符",
            f"the proposal differs from the verifier's list: {_diff(want, b)}",
            rule="RP-4.5" if b.get("version") == 1 else "RP-6.3",
        )
    elif b.get("version") != 1 and not _members(want):
        fail(
            "preliminary.exhausted",
            "补充推荐没有增加任何人选",
            "the supplement adds no name: a new procedure definition is needed",
            rule="RP-6.3",
        )


def _recompute(
    d: CountingDefinition,
    e: Entry,
    seen: Seen,
    counts: Sequence[Mapping[str, Any]],
    *,
    ties: dict[str, frozenset[str]],
    fail: Fail,
) -> dict[str, Any] | None:
    """The body of ``e``'s version by RP-4 (version 1) or RP-6.3 (later); None when it cannot
    be derived (reported through ``fail``).

    Raises:
        ProcedureRecountError: the ranking's or the supplement's refusal.
    """
    b = e.body
    earlier = list(seen.get("preliminary.proposed", []))
    since = earlier[-1].seq if earlier else -1
    higher_level: list[Mapping[str, Any]] = [
        r
        for h in seen.get("higher_level.recommended", [])
        if h.seq > since and isinstance(r := h.body.get("recommendation"), dict)
    ]
    omissions = _recorded(
        [o for p in _list(b.get("posts")) if isinstance(p, dict) for o in _list(p.get("omitted"))]
    )
    try:
        date = dt.date.fromisoformat(str(b.get("election_date")))
    except ValueError:
        fail("preliminary.differs", "选举日期无效", "election_date is no date")
        return None
    if b.get("version") == 1:
        return recount_proposal(
            d,
            election_date=date,
            counts=counts,
            omissions=omissions,
            higher_level=higher_level,
            ties=ties,
        )
    vettings = [v for v in seen.get("vetting.recorded", []) if v.seq > since]
    if not earlier or not vettings:
        fail(
            "procedure.order",
            "补充推荐须在上一版初步人选测评并考察审查之后",
            "a supplement follows the evaluation and vetting of the previous version",
            rule="RP-6.3",
            clause="V22",
        )
        return None
    return recount_supplement(
        d,
        version=_int(b.get("version")),
        election_date=date,
        counts=counts,
        proposals=[p.body for p in earlier],
        vetting=vettings[-1].body,
        omissions=omissions,
        higher_level=higher_level,
        ties=ties,
    )


def _recorded(items: Sequence[Any]) -> list[dict[str, Any]]:
    """The recorded ``declined`` and ``ten_disqualifications`` omissions, once per member."""
    out: dict[str, dict[str, Any]] = {}
    for it in items:
        if isinstance(it, dict) and it.get("reason") in ("declined", "ten_disqualifications"):
            out.setdefault(str(it.get("member")), it)
    return list(out.values())


def _int(v: object) -> int:
    return v if type(v) is int else -1


def check_evaluation_opened(run: Any, d: CountingDefinition, e: Entry, seen: Seen) -> None:
    """(V27, RP-5.1) The round and version of ``e`` and the persons it evaluates."""
    b = e.body

    def fail(code: str, zh: str, en: str) -> None:
        run.f.fail(code, zh, en, clause="V27", file="log.jsonl", seq=e.seq, rule="RP-5.1")

    opened = list(seen.get("evaluation.opened", []))
    counted = {c.body.get("round") for c in seen.get("evaluation.counted", [])}
    evaluated = {o.body.get("version") for o in opened if o.body.get("round") in counted}
    proposals = sorted(
        seen.get("preliminary.proposed", []), key=lambda p: _int(p.body.get("version"))
    )
    pending = [p for p in proposals if p.body.get("version") not in evaluated]
    if not pending:
        fail("procedure.order", "没有待测评的初步人选", "no proposed names wait for an evaluation")
        return
    version = pending[0].body.get("version")
    round_ = _int(opened[-1].body.get("round")) + 1 if opened else 1
    if (b.get("round"), b.get("version")) != (round_, version):
        fail(
            "procedure.order",
            f"应为第 {round_} 轮测评（第 {version} 版初步人选）",
            f"the evaluation is round {round_} of version {version}",
        )
    before: set[str] = set()
    for p in proposals:
        if p.body.get("version") != version:
            before |= _members(p.body)
        else:
            break
    names = _members(pending[0].body) - before
    want = [m for m in d.ballot_order if m in names]
    if b.get("candidates") != want:
        fail(
            "evaluation.not_listed",
            "测评名单须为该版本首次提出的初步人选，按推荐票顺序",
            f"the persons evaluated are the names first proposed in version {version}, in "
            f"ballot order: {', '.join(want)}",
        )
