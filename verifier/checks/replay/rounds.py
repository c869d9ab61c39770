"""Rounds: their sequence and their validity (spec/bundle.md V11, V12; spec/rules.md R4-R6,
R11, R12, R22.2, R25.2; spec/rounds.md).

A round opens when it is the round due by the rules, with the attendance of that moment and its
quorum, with officials who may serve in it; its entries then come in the order opened → issued →
returned → (void | entered... → counted). A direct election's first committee round opens the
secretary's and deputy's first rounds with it (the joint opening, R22.2).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from verifier import rules
from verifier.canonical import canonical_bytes
from verifier.checks.replay import ballots
from verifier.checks.replay.state import Due, Open
from verifier.model import LogEntry
from verifier.report import RoundLine

if TYPE_CHECKING:
    from verifier.checks.replay.core import Replay

__all__ = [
    "ballots_issued",
    "ballots_returned",
    "canonical_outcome",
    "close_round",
    "joint_incomplete",
    "note_round",
    "quorum_failed",
    "round_opened",
    "round_void",
]


# --------------------------------------------------------------------------- opening (V11)


def check_due(r: Replay, e: LogEntry, due: Due | None, fields: Mapping[str, Any]) -> bool:
    """(V11) The round is the round due: post, number, purpose, candidates, seats, body,
    expected (RS1-RS7); no round opens while the election is blocked."""
    if due is None:
        r.fail(
            "V11",
            "round.not_due",
            "所有职位均已选出，不应再开轮次",
            "no round is due: every post is finished",
            e,
        )
        return False
    if due.blocked:
        r.fail(
            "V11",
            due.blocked,
            "选举处于阻塞状态，不能开此轮次",
            f"no round can open: {due.blocked}",
            e,
            expected="a recorded decision first",
            found=f"{fields.get('post')} round {fields.get('round')}",
        )
        return False
    want = {
        "post": due.post,
        "round": due.number,
        "purpose": due.purpose,
        "candidates": list(due.candidates),
        "seats": due.seats,
        "body": due.body,
        "expected": due.expected,
    }
    ok = True
    for k, w in want.items():
        if k in fields and fields[k] != w:
            r.fail(
                "V11",
                "round.not_due",
                f"轮次与规则应开的轮次不符（{k}）",
                f"round differs from the round due ({k})",
                e,
                expected=str(w),
                found=str(fields[k]),
            )
            ok = False
    return ok


def quorum_holds(
    r: Replay, e: LogEntry, body: str, present: int, present_members: list[str]
) -> bool:
    """(V11) ``present`` is the attendance at this point (with the remote casts per RM-9.3,
    V18.11), or for the plenary the elected committee members present; the quorum (R5, R6)."""
    if body == "assembly":
        remote = r.remote.in_quorum()  # (V18.11) RM-9.3
        casts = len(r.rm.casts)
        r.present_ok = present == len(r.present) + remote and not present_members
        if not r.present_ok:
            r.fail(
                "V11",
                "round.present",
                "实到人数与签到记录不符"
                + (f"（远程投票 {remote} 张计入）" if remote else "")
                + ("（远程投票不计入）" if casts and not remote else ""),
                "present differs from attendance"
                + (f" plus {remote} remote casts (RM-9.3)" if remote else "")
                + (" (remote casts do not count, RM-9.3)" if casts and not remote else ""),
                e,
                expected=str(len(r.present) + remote),
                found=str(present),
                rule="V18.11" if casts else "",
            )
        return rules.quorum(present, r.E, r.d.parameters.quorum_comparison)
    r.present_ok = True  # plenary: R12 against the logged present, as before
    committee = r.posts["committee"].elected if "committee" in r.posts else []
    if (
        len(set(present_members)) != len(present_members)
        or any(x not in committee for x in present_members)
        or present != len(present_members)
    ):
        r.fail(
            "V11",
            "round.present_members",
            "出席委员名单无效",
            "present_members invalid (elected committee, no repeats)",
            e,
            found=str(present_members),
        )
    return rules.plenary_quorum(present, r.committee_size())


def quorum_failed(r: Replay, e: LogEntry) -> None:
    """(V11) A ``round.quorum_failed`` is for the round due, with a quorum that fails; the round
    stays due and consumes no number (RS2)."""
    b = e.body
    if r.open is not None:
        r.fail("V11", "round.order", "上一轮尚未结束", "a round is still open", e)
    due = r.due()
    check_due(r, e, due, b)
    members = list(b["present_members"])
    if due is not None:
        r.v.rounds.append(
            RoundLine(
                post=due.post,
                number=due.number,
                status="quorum_failed",
                purpose=due.purpose,
                body=due.body,
                seats=due.seats,
                candidates=due.candidates,
                expected=due.expected,
                present=b["present"],
                revote_of=r.voided.get(due.post),
            )
        )
    if due is not None and quorum_holds(r, e, due.body, b["present"], members):
        r.fail(
            "V11",
            "round.quorum_failed_wrongly",
            "法定人数实际已满足",
            "quorum_failed recorded but the quorum holds",
            e,
            found=str(b["present"]),
        )


def check_officials(r: Replay, e: LogEntry) -> None:
    """(V11) R25.2: the officials in force may serve in the round: none a candidate of it,
    scrutineers present (assembly) or committee members (plenary)."""
    b = e.body
    for x in sorted(r.officials & set(b["candidates"])):
        r.fail(
            "V11",
            "official.is_candidate",
            "本轮的监票人或计票人是本轮候选人",
            "an official of the round is one of its candidates (R25)",
            e,
            found=x,
        )
    committee = r.posts["committee"].elected if "committee" in r.posts else []
    for x in r.scrutineers:
        if b["body"] == "plenary" and x not in committee:
            r.fail(
                "V11",
                "official.not_committee_member",
                "委员会全体会议的监票人不是新一届委员",
                "a plenary round's scrutineer is not a committee member (R25)",
                e,
                found=x,
            )
        if b["body"] == "assembly" and x not in r.present:
            r.fail(
                "V11",
                "official.not_present",
                "党员大会轮次的监票人未到会",
                "an assembly round's scrutineer is not checked in (R25)",
                e,
                found=x,
            )


def round_opened(r: Replay, e: LogEntry) -> None:
    """(V11) A ``round.opened``: the round due, no round open, officials who may serve, the
    quorum (R4-R6); in a direct election the committee's first round opens the joint rounds."""
    r.moment(f"round-opened {e.body['post']} {e.body['round']}", e)  # (V7)
    b = e.body
    if r.joining:  # (R22.2) the next post's round of the joint opening
        joint_opened(r, e)
        return
    if r.open is not None:
        r.fail("V11", "round.order", "上一轮尚未结束", "a round is still open", e)
    due = r.due()
    check_due(r, e, due, b)
    check_officials(r, e)
    if not quorum_holds(r, e, b["body"], b["present"], list(b["present_members"])):
        r.fail(
            "V11",
            "round.quorum",
            "法定人数不足却开了轮次",
            "round opened without its quorum (R5/R6)",
            e,
            found=f"present {b['present']}, expected {b['expected']}",
        )
    r.open = Open(
        b["post"],
        b["round"],
        b["purpose"],
        tuple(b["candidates"]),
        b["seats"],
        b["body"],
        b["present"],
        r.committee_size(),
        e.seq,
        # R12 is judged against a present V11 accepted; otherwise V11 has reported it.
        paper=(len(r.present) if b["body"] == "assembly" else b["present"])
        if r.present_ok
        else None,
    )
    if b["post"] == "committee":
        r.joining = joint_due(r)
    r.remote.round_opened(e, r.open)  # (V18.6), (V18.9)


# --------------------------------------------------------------------------- joint opening (R22.2)


def joint_due(r: Replay) -> list[Due]:
    """(V11) R22.2: the first rounds that open with the committee's first round."""
    if not r.direct or any(st.held or st.elected for st in r.posts.values()):
        return []
    out = []
    for post in ("secretary", "deputy_secretary"):
        st = r.posts.get(post)
        if st is not None and st.pending is not None:
            purpose, cands, seats, body = st.pending
            out.append(Due(post, 1, purpose, cands, seats, body, r.E))
    return out


def joint_opened(r: Replay, e: LogEntry) -> None:
    """(V11) R22.2: a round of the joint opening is the next one due with it, with the
    committee round's ``present``; it is held until its turn to be counted."""
    b, o = e.body, r.open
    due = r.joining.pop(0)
    check_due(r, e, due, b)
    assert o is not None
    if b["present"] != o.present or b["present_members"]:
        r.fail(
            "V11",
            "joint.present",
            "联合投票各轮次的实到人数须与委员选举轮次相同",
            "a round of the joint opening has another present count than the committee's",
            e,
            expected=str(o.present),
            found=str(b["present"]),
        )
    h = Open(
        b["post"],
        b["round"],
        b["purpose"],
        tuple(b["candidates"]),
        b["seats"],
        b["body"],
        o.present,
        r.committee_size(),
        e.seq,
        paper=o.paper,
    )
    r.held.append(h)
    r.remote.round_opened(e, h)  # (V18.6), (V18.9)


def joint_incomplete(r: Replay, e: LogEntry) -> None:
    """(V11) R22.2: the joint opening is followed at once by every post's first round."""
    nxt = r.joining[0]
    r.joining = []
    r.fail(
        "V11",
        "joint.incomplete",
        "直接选举的联合投票缺少书记（副书记）轮次的开始记录",
        "a direct election's joint opening does not open every post's first round",
        e,
        expected=f"round.opened {nxt.post} {nxt.number}",
        found=e.type,
    )


# --------------------------------------------------------------------------- issue and return


def ballots_issued(r: Replay, e: LogEntry) -> None:
    """(V11, V12) ``ballots.issued``: after the round's stock, no more than it holds (V11), and
    as many as the paper voters present (R12, RM-9.3)."""
    o = r.round_of(e, held=True)
    if o is None:
        return
    b = e.body
    o.stage, o.issued = "issued", b["count"]
    stock = r.stocks.get((o.post, o.number))
    if stock is None:
        r.fail(
            "V11",
            "stock.missing",
            "发票前没有登记选票批次",
            "no stock committed before ballots.issued",
            e,
        )
    elif stock.count < b["count"]:
        r.fail(
            "V11",
            "stock.too_small",
            "发出选票多于批次张数",
            "more ballots issued than printed",
            e,
            expected=f"<= {stock.count}",
            found=str(b["count"]),
        )
    if o.paper is not None and b["count"] != o.paper:  # (V12) paper voters (RM-9.3)
        r.fail(
            "V12",
            "round.issued_not_present",
            "发出选票数不等于实到人数",
            "issued differs from present (R12)",
            e,
            expected=str(o.paper),
            found=str(b["count"]),
        )


def ballots_returned(r: Replay, e: LogEntry) -> None:
    """(V11) ``ballots.returned``: the box opened after the issue."""
    o = r.round_of(e, held=True)
    if o is None:
        return
    o.stage, o.returned = "returned", e.body["count"]


# --------------------------------------------------------------------------- closing


def round_void(r: Replay, e: LogEntry) -> None:
    """(V12) R11: a ``round.void`` exactly when returned > issued, with those counts and no
    ballot entered; the round is voted again."""
    b = e.body
    r.moment(f"round-closed {b['post']} {b['round']}", e)  # (V7)
    r.v.outcomes.append(canonical_outcome(e))  # (V15) outcomes.json
    o = r.round_of(e, held=True)
    if o is None:
        return
    if o.issued is None or o.returned is None or not o.returned > o.issued:
        r.fail(
            "V12",
            "round.void_invalid",
            "收回选票不多于发出，不应宣布无效",
            "round.void but returned <= issued (R11)",
            e,
        )
    if (b["issued"], b["returned"]) != (o.issued, o.returned):
        r.fail(
            "V12",
            "round.void_counts",
            "无效轮次记录的票数不符",
            "round.void counts differ",
            e,
            expected=f"{o.issued}/{o.returned}",
            found=f"{b['issued']}/{b['returned']}",
        )
    if o.entries:
        r.fail(
            "V12",
            "round.void_has_ballots",
            "无效轮次不得录入选票",
            "ballots entered in a void round",
            e,
        )
    o.entries = []
    o.ids = {}
    note_round(r, o, "void")
    r.voided[o.post] = o.number
    r.posts[o.post].pending = (o.purpose, o.candidates, o.seats, o.body)
    close_round(r, o)


def canonical_outcome(e: LogEntry) -> bytes:
    """(V15) The entry's body with its ``type``, as ``outcomes.json`` holds it (JCS)."""
    return canonical_bytes({**dict(e.body), "type": e.type})


def close_round(r: Replay, o: Open) -> None:
    """(V9, V11) A round closed (counted, void, or unclosed at the end of the log): its ballots
    checked as a whole, its number used, its stock spent."""
    r.posts[o.post].held += 1
    ballots.close_round(r, o)
    r.stocks.pop((o.post, o.number), None)
    if o in r.held:  # (R22.2) a held round of the joint opening, VOID
        r.held.remove(o)
    else:
        r.open = None


def note_round(
    r: Replay,
    o: Open,
    status: str,
    count: Mapping[str, Any] | None = None,
    *,
    remote: int | None = None,
    recounted: bool = True,
) -> RoundLine:
    """Add a closed round to the report's listing (spec/bundle.md §6.1).

    ``count`` is the counted round's numbers: the verifier's recount, else the logged body.
    """
    plenary = o.body == "plenary"
    numbers: dict[str, Any] = {}
    if count is not None:
        numbers = {
            "valid": count["valid_ballots"],
            "invalid": count["invalid_ballots"],
            "remote": remote,
            "base_kind": "N" if plenary else r.d.parameters.threshold_base,
            "base": count["base"],
            "minimum": count["minimum"],
            "approvals": tuple((a["member"], a["approvals"]) for a in count["approvals"]),
            "elected": tuple(count["elected"]),
            "tied": tuple(count["tied"]),
            "tied_seats": count["tied_seats"],
            "shortfall": count["shortfall"],
            "dropped": tuple(count.get("dropped", ())),
            "recounted": recounted,
        }
    line = RoundLine(
        post=o.post,
        number=o.number,
        status=status,
        purpose=o.purpose,
        body=o.body,
        seats=o.seats,
        candidates=o.candidates,
        expected=o.committee_size if plenary else r.E,
        present=o.present,
        issued=o.issued,
        returned=o.returned,
        revote_of=r.voided.pop(o.post, None),
        **numbers,
    )
    r.v.rounds.append(line)
    return line
