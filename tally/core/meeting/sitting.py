"""Appliers of a round's sitting (spec/log.md §2, spec/rounds.md): opening or a failed quorum,
the ballots issued and returned, a void round, each ballot entered, declared invalid or
withdrawn, and the count."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from tally.core.ballots import Ballot
from tally.core.manifest import canonical
from tally.core.model import MemberId, PostKind, zh_label
from tally.core.rounds import (
    ElectingBody,
    RoundInput,
    RoundOutcome,
    RoundSpec,
    RoundStatus,
    apply_outcome,
    count_round,
    joint_rounds,
    void_held_round,
)
from tally.core.rules import QuorumCheck, plenary_quorum, quorum

from .bodies import (
    BallotDeclaredInvalid,
    BallotEntered,
    BallotsIssued,
    BallotsReturned,
    BallotWithdrawn,
    RoundCounted,
    RoundOpened,
    RoundQuorumFailed,
    RoundVoid,
    marks_of,
    write_ins_of,
)
from .common import bad
from .decisions import check_officials
from .entries import Entry
from .remote import remote_totals_for
from .state import (
    EnteredBallot,
    Meeting,
    OpenRound,
    Step,
    no_round_open,
    put,
    require_round,
    sitting_round,
    without_stock,
)

#: (spec/log.md §2.2) The signature domain of a scrutineer's confirmation of an invalid ballot.
INVALID_DECISION_DOMAIN = b"branch-election/invalid-ballot/1"

# -- opening ------------------------------------------------------------------------------------


def opened_body(spec: RoundSpec, present: int, members: tuple[MemberId, ...]) -> dict[str, Any]:
    """The body of ``round.opened`` for ``spec``."""
    return {
        "post": spec.post.value,
        "round": spec.number,
        "purpose": spec.purpose.value,
        "candidates": list(spec.candidates),
        "seats": spec.seats,
        "body": spec.body.value,
        "expected": spec.expected,
        "present": present,
        "present_members": list(members),
    }


def _join(m: Meeting, e: Entry) -> Meeting:
    """(R22.2) The opening of a secretary or deputy first round within the joint opening: the
    same present count and quorum as the committee's round, no new count."""
    cur = m.current
    spec = m.joining[0]
    assert cur is not None
    if e.type != "round.opened" or dict(e.body) != opened_body(spec, cur.present, ()):
        raise bad(
            "joint.mismatch",
            f"联合投票中{zh_label(spec.post)}第{spec.number}轮的内容与规则不符"
            f"（实到人数应与委员选举相同：{cur.present}）",
            f"{spec.post.value} round {spec.number} of the joint opening differs from the rules "
            f"(present must be the committee round's {cur.present})",
            "R22",
        )
    held = OpenRound(
        spec=spec, present=cur.present, present_members=(), paper_present=cur.paper_present
    )
    return replace(m, joining=m.joining[1:], held=(*m.held, held))


def _attendance(
    m: Meeting, v: RoundOpened | RoundQuorumFailed
) -> tuple[RoundSpec, int, int | None, QuorumCheck]:
    """The round due, the present count the rules give, the paper attendance when remote casts
    count toward the quorum (RM-9.3), and the quorum; the entry must name that round and count."""
    no_round_open(m)
    due = m.due()
    if not isinstance(due, RoundSpec):
        raise bad("round.none_due", "现在没有可以开始的轮次", "no round is due now")
    if v.post is not due.post or v.round != due.number:
        raise bad(
            "round.not_due",
            f"应进行的是{zh_label(due.post)}第{due.number}轮",
            f"the round due is {due.post.value} round {due.number}",
        )
    members = v.present_members
    paper_present = None
    if due.body is ElectingBody.PLENARY:
        if members is None or len(set(members)) != len(members):
            raise bad(
                "plenary.members", "到会委员名单有误", "bad list of committee members present"
            )
        if not set(members) <= set(m.rounds.elected(PostKind.COMMITTEE)):
            raise bad(
                "plenary.not_member",
                "到会名单中有人不是新当选的委员",
                "someone listed is not an elected committee member",
                "R21",
            )
        present = len(members)
        q = plenary_quorum(present, due.expected)
    else:
        if members is None or members:
            raise bad(
                "round.members", "党员大会轮次不列到会委员", "assembly rounds list no members"
            )
        present = len(m.present)
        if m.remote is not None and m.election.remote_voting.counts_toward_quorum:
            paper_present = present
            present += len(m.remote.casts)  # (RM-9.3) casts count, not who cast
        q = quorum(present, due.expected, m.election.parameters.quorum_comparison)
    if v.present != present:
        raise bad("round.present", f"实到人数应为 {present}", f"present must be {present}", "R4")
    return due, present, paper_present, q


def quorum_failed(m: Meeting, v: RoundQuorumFailed, step: Step) -> Meeting:
    if m.joining:
        return _join(m, step.entry)
    _due, _present, _paper, q = _attendance(m, v)
    if q.valid:
        raise bad("quorum.holds", "会议已达到法定人数", "the quorum is met", q.clause)
    return m


def round_opened(m: Meeting, v: RoundOpened, step: Step) -> Meeting:
    if m.joining:
        return _join(m, step.entry)
    due, present, paper_present, q = _attendance(m, v)
    if not q.valid:
        raise bad(
            "quorum.failed",
            f"实到 {present} 人，未达到法定人数，不能进行选举",
            f"{present} present: no quorum, no election",
            q.clause,
        )
    members = v.present_members or ()
    if dict(step.entry.body) != opened_body(due, present, members):
        raise bad("round.mismatch", "轮次内容与规则不符", "the round differs from the one due")
    check_officials(m, due)
    return replace(
        m,
        current=OpenRound(
            spec=due, present=present, present_members=members, paper_present=paper_present
        ),
        # (R22.2) a direct election's first committee round opens the other posts' first rounds
        joining=joint_rounds(m.rounds) if due.post is PostKind.COMMITTEE else (),
    )


# -- issue, return, void ------------------------------------------------------------------------


def ballots_issued(m: Meeting, v: BallotsIssued, step: Step) -> Meeting:  # noqa: ARG001
    cur = sitting_round(m, v.post, v.round)
    if cur.issued is not None:
        raise bad("issue.twice", "本轮已发出选票", "ballots were already issued")
    count = v.count
    paper = cur.present if cur.paper_present is None else cur.paper_present
    if count != paper:
        raise bad(
            "issue.not_present",
            f"发出选票数 {count} 应等于到会有选举权人数 {paper}",
            f"{count} issued; must equal the {paper} electors present",
            "R12",
        )
    stock = m.stocks.get((cur.spec.post, cur.spec.number))
    if stock is None:
        raise bad(
            "issue.no_stock",
            "本轮选票尚未登记，请先打印并登记选票（tally print）",
            "no ballot stock is committed for this round (tally print)",
        )
    if stock < count:
        raise bad(
            "issue.no_stock",
            f"本轮登记的选票只有 {stock} 张，少于要发出的 {count} 张；"
            "请先补印（tally print --supplement）",
            f"the round's stock has {stock} ballots, fewer than the {count} to issue; "
            "print more first (tally print --supplement)",
        )
    return put(m, cur, replace(cur, issued=count))


def ballots_returned(m: Meeting, v: BallotsReturned, step: Step) -> Meeting:  # noqa: ARG001
    cur = sitting_round(m, v.post, v.round)
    if cur.issued is None or cur.returned is not None:
        raise bad("return.order", "须先发票，且只能收回一次", "issue first; return once")
    return put(m, cur, replace(cur, returned=v.count))


def round_void(m: Meeting, v: RoundVoid, step: Step) -> Meeting:  # noqa: ARG001
    cur = sitting_round(m, v.post, v.round)
    if cur.issued is None or cur.returned is None or cur.returned <= cur.issued:
        raise bad(
            "void.not_void",
            "收回选票不多于发出选票，本轮有效",
            "returned is not more than issued: the round is valid",
            "R11",
        )
    if (v.issued, v.returned) != (cur.issued, cur.returned):
        raise bad("void.counts", "作废记录的票数与本轮不符", "void counts differ")
    outcome = count_round(m.rounds, cur.spec, RoundInput(cur.present, cur.issued, cur.returned, ()))
    if cur is not m.current:  # (R22.2) a held round of the joint opening
        return replace(
            put(m, cur, None),
            rounds=void_held_round(m.rounds, cur.spec, outcome),
            stock_ids=without_stock(m, cur),
        )
    return replace(
        m,
        rounds=apply_outcome(m.rounds, outcome),
        current=None,
        stock_ids=without_stock(m, cur),
    )


# -- ballots ------------------------------------------------------------------------------------


def _room_for_a_ballot(cur: OpenRound) -> None:
    """A ballot, entered or declared invalid, needs the returned count and room within it (R12)."""
    if cur.returned is None or cur.issued is None:
        raise bad("enter.not_returned", "请先记录收回的选票数", "record the ballots returned first")
    if len(cur.entered) >= cur.returned:
        raise bad(
            "enter.too_many",
            f"已录入 {len(cur.entered)} 张，等于收回的选票数，不能再录入",
            f"{len(cur.entered)} entered already: that is every returned ballot",
            "R12",
        )


def _unused_id_of_the_stock(m: Meeting, cur: OpenRound, ballot_id: str) -> None:
    """A paper's id is in the stock committed for its round and not used before in it."""
    if ballot_id not in m.stock_ids.get((cur.spec.post, cur.spec.number), frozenset()):
        raise bad(
            "enter.not_in_stock",
            "这张选票不在本轮登记的选票中（可能是伪造或其他轮次的选票）",
            "this ballot is not in the stock committed for this round",
        )
    if ballot_id in cur.used_ids:
        raise bad("enter.duplicate", "这张选票已经录入过", "this ballot was already entered")


def _marks_count(marks: object, candidates: int) -> None:
    if (len(marks) if isinstance(marks, str | tuple) else -1) != candidates:
        raise bad(
            "enter.marks",
            f"标记数应为 {candidates} 个（每名候选人一个）",
            f"expected {candidates} marks, one per candidate",
            "R7",
        )


def ballot_entered(m: Meeting, v: BallotEntered, step: Step) -> Meeting:
    cur = require_round(m, v.post, v.round)
    _room_for_a_ballot(cur)
    _unused_id_of_the_stock(m, cur, v.ballot_id)
    _marks_count(v.marks, len(cur.spec.candidates))
    ballot = Ballot(marks=v.marks, write_ins=v.write_ins)
    entered = EnteredBallot(ballot_id=v.ballot_id, seq=step.entry.seq, ballot=ballot)
    return replace(
        m,
        current=replace(
            cur, entered=cur.entered.append(entered), used_ids=cur.used_ids.add(v.ballot_id)
        ),
    )


def ballot_from_body(b: Mapping[str, Any], candidates: int) -> Ballot:
    """The ballot of a ``ballot.entered`` body.

    The write-ins are every filled row as read, however many: a ballot with more names than the
    paper's write-in rows is one invalid ballot (R9.5), not malformed input.

    Raises:
        RoundStateError: marks of the wrong length or letters, or malformed write-ins.
    """
    _marks_count(b["marks"], candidates)
    return Ballot(marks=marks_of(b["marks"]), write_ins=write_ins_of(b["write_ins"]))


def invalid_decision_message(election_id: bytes, seq: int, body: Mapping[str, Any]) -> bytes:
    """What the scrutineer signs for a ``ballot.declared_invalid`` entry at ``seq`` (spec/log.md
    §2.1): JCS of the election id, the entry's seq and the decision; the seq binds the signature to
    this one entry, so it cannot be replayed to add another invalid ballot."""
    return canonical(
        {
            "election_id": election_id.hex(),
            "seq": seq,
            "post": body["post"],
            "round": body["round"],
            "ballot_id": body["ballot_id"],
            "qr": body["qr"],
            "reason": body["reason"],
        }
    )


def declared_invalid(m: Meeting, v: BallotDeclaredInvalid, step: Step) -> Meeting:
    """(R8.5) A returned ballot entered as invalid by decision. The scrutineer's signature is
    checked by the shell (the core holds no keys); the body's fields by the parse; here: the
    round's state and the ballot id (in the round's stock and not entered yet, or "" for a ballot
    without QR)."""
    cur = require_round(m, v.post, v.round)
    _room_for_a_ballot(cur)
    if v.ballot_id:
        _unused_id_of_the_stock(m, cur, v.ballot_id)
    entered = EnteredBallot(
        ballot_id=v.ballot_id,
        seq=step.entry.seq,
        ballot=Ballot(marks=(), invalid_reason=v.reason),
    )
    used = cur.used_ids.add(v.ballot_id) if v.ballot_id else cur.used_ids
    return replace(m, current=replace(cur, entered=cur.entered.append(entered), used_ids=used))


def ballot_withdrawn(m: Meeting, v: BallotWithdrawn, step: Step) -> Meeting:  # noqa: ARG001
    cur = require_round(m, v.post, v.round)
    if not cur.entered or cur.entered[-1].ballot_id != v.ballot_id:
        raise bad(
            "withdraw.not_last",
            "只能撤回本轮最后录入的一张选票",
            "only the last entered ballot of the round can be withdrawn",
        )
    return replace(
        m,
        current=replace(
            cur,
            entered=cur.entered.delete(len(cur.entered) - 1),
            used_ids=cur.used_ids.discard(v.ballot_id),  # "": a decision on a ballot without QR
        ),
    )


# -- the count ----------------------------------------------------------------------------------


def _count(m: Meeting, cur: OpenRound) -> RoundOutcome:
    if cur.returned is None or cur.issued is None or len(cur.entered) != cur.returned:
        have = len(cur.entered)
        raise bad(
            "count.incomplete",
            f"已录入 {have} 张，收回 {cur.returned} 张，须全部录入后才能计票",
            f"{have} ballots entered of {cur.returned} returned: enter them all first",
            "R12",
        )
    outcome = count_round(
        m.rounds,
        cur.spec,
        RoundInput(
            cur.present,
            cur.issued,
            cur.returned,
            tuple(x.ballot for x in cur.entered),
            paper_present=cur.paper_present,
            remote_totals=remote_totals_for(m, cur.spec),
        ),
    )
    assert outcome.status is RoundStatus.COUNTED
    return outcome


def count_current(m: Meeting) -> RoundOutcome:
    """The outcome of the open round from its entered ballots (what ``round.counted`` records).

    Raises:
        RoundStateError: no round open, or not every returned ballot entered.
    """
    if m.current is None:
        raise bad("round.none_open", "当前没有进行中的轮次", "no round is open")
    return _count(m, m.current)


def counted_body(outcome: RoundOutcome, *, remote: bool = False) -> dict[str, Any]:
    """The body of ``round.counted`` (spec/log.md §2); ``remote_ballots`` when the election opened
    remote voting."""
    extra: dict[str, Any] = {"remote_ballots": outcome.remote_ballots} if remote else {}
    if outcome.dropped:
        extra["dropped"] = list(outcome.dropped)  # (R22.3) in ballot order
    return extra | {
        "post": outcome.spec.post.value,
        "round": outcome.spec.number,
        "valid_ballots": outcome.valid_ballots,
        "invalid_ballots": outcome.invalid_ballots,
        "approvals": [{"member": mid, "approvals": v} for mid, v in outcome.approvals],
        "base": outcome.base,
        "minimum": outcome.minimum_to_pass,
        "elected": _in_ballot_order(outcome, outcome.elected),
        "tied": _in_ballot_order(outcome, outcome.tied),
        "tied_seats": outcome.tied_seats,
        "shortfall": outcome.shortfall,
    }


def _in_ballot_order(outcome: RoundOutcome, ids: Sequence[MemberId]) -> list[str]:
    order: dict[str, int] = {mid: i for i, (mid, _) in enumerate(outcome.approvals)}
    return sorted((str(mid) for mid in ids), key=lambda mid: order[mid])


def round_counted(m: Meeting, v: RoundCounted, step: Step) -> Meeting:
    """The recorded outcome must be, field for field, the count of the entered ballots."""
    cur = require_round(m, v.post, v.round)
    outcome = _count(m, cur)
    if counted_body(outcome, remote=m.remote is not None) != dict(step.entry.body):
        raise bad(
            "count.mismatch",
            "计票结果与选票不符",
            "the recorded count differs from the ballots",
        )
    new = replace(
        m,
        rounds=apply_outcome(m.rounds, outcome),
        current=None,
        stock_ids=without_stock(m, cur),
    )
    if m.remote is not None and outcome.remote_ballots:
        new = replace(new, remote=replace(m.remote, counted=m.remote.counted.add(cur.spec.post)))
    return new
