"""The count of a round (spec/bundle.md V12, V13; spec/rules.md R7-R16, R21, R22.3).

Every paper ballot of the round is judged again from the manifest's parameters, the round is
counted again with the post's remote totals where they count (RV-7.1), and the ``round.counted``
body must equal the recount; what the round decided (elected, tied) then moves the replay on.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Final

from verifier import rules
from verifier.checks.common import short
from verifier.checks.replay.ballots import MARKS
from verifier.checks.replay.rounds import canonical_outcome, close_round, note_round
from verifier.checks.replay.state import Open
from verifier.model import LogEntry
from verifier.report import ElectedPerson

if TYPE_CHECKING:
    from verifier.checks.replay.core import Replay

__all__ = ["recount", "round_counted", "write_in_eligible"]

_DECIDED_INVALID: Final = rules.BallotVerdict(valid=False, approvals=())


def round_counted(r: Replay, e: LogEntry) -> None:
    """(V12, V13) A ``round.counted``: the round not void (R11), one ballot per ballot returned
    (R12), and its body equal to the verifier's recount; its elected join the post (RS8)."""
    b = e.body
    r.moment(f"round-closed {b['post']} {b['round']}", e)  # (V7)
    r.v.outcomes.append(canonical_outcome(e))  # (V15) outcomes.json
    o = r.round_of(e)
    if o is None:
        return
    r.remote.round_counted(e, o)  # (V18.9), (V18.23)
    if o.issued is not None and o.returned is not None and o.returned > o.issued:
        r.fail(
            "V12",
            "round.void_counted",
            "收回多于发出的轮次应宣布无效",
            "returned > issued but the round was counted (R11)",
            e,
        )
    if o.returned is not None and len(o.entries) != o.returned:
        r.fail(
            "V12",
            "round.entered_not_returned",
            "计入的选票数不等于收回数",
            "counted ballots differ from returned (R12)",
            e,
            expected=str(o.returned),
            found=str(len(o.entries)),
        )
    n_cands = len(o.candidates)
    # Without a misshapen ballot entered none survives; else the survivors are looked at again.
    shapes_ok = not o.misshapen or all(
        "reason" in x[1] or (len(x[1]["marks"]) == n_cands and not x[1]["marks"].strip(MARKS))
        for x in o.entries
    )
    # (V13) only ballots of the round's shape (V9) can be counted again
    want = recount(r, e, o) if shapes_ok else None
    st = r.posts[o.post]
    votes = [(a["member"], a["approvals"]) for a in b["approvals"]]
    line = note_round(
        r,
        o,
        "counted",
        want or b,
        remote=b.get("remote_ballots"),
        recounted=want is not None,
    )
    shown = dict(votes) | dict(line.approvals)
    for m in rules.election_order(votes, b["elected"]):  # (RS8) in the order elected
        if m not in st.elected:
            st.elected.append(m)
            r.v.elected_persons.append(ElectedPerson(o.post, m, o.number, shown.get(m, 0)))
    st.pending = ("runoff", tuple(b["tied"]), b["tied_seats"], o.body) if b["tied"] else None
    close_round(r, o)


def recount(r: Replay, e: LogEntry, o: Open) -> Mapping[str, Any]:
    """(V13) Each ballot's verdict (R7-R10, R8.5, R9.1-R9.5) and the round's count (R13-R16,
    R21, R22.3) from the manifest's parameters, compared member by member with the body."""
    b = e.body
    runoff = o.purpose == "runoff"
    ok = write_in_eligible(r, o)
    # judge_ballot is a pure function of the marks and write-ins within a round, so
    # identical ballots share one verdict (memory: at most one per distinct ballot).
    memo: dict[tuple[str, tuple[tuple[str, str], ...]], rules.BallotVerdict] = {}
    verdicts = []
    for x in o.entries:
        if "reason" in x[1]:  # (R8.5) invalid by a confirmed decision
            verdicts.append(_DECIDED_INVALID)
            continue
        marks, written = x[1]["marks"], x[1]["write_ins"]
        wis = tuple((w["member"], w["mark"]) for w in written) if written else ()
        verdict = memo.get((marks, wis))
        if verdict is None:
            verdict = memo[marks, wis] = rules.judge_ballot(
                marks=marks,
                write_ins=wis,
                candidates=o.candidates,
                seats=o.seats,
                params=r.d.parameters,
                write_in_eligible=ok,
                runoff=runoff,
            )
        verdicts.append(verdict)
    added: tuple[int, tuple[tuple[str, int], ...]] = (0, ())
    if o.remote and r.rm.version == 2:  # (V18.9) RV-7.1: the post's remote totals
        added = r.remote.v2.count_of(o.post, ok)
    if o.body == "plenary":  # (R13, R21) the threshold's base
        base = o.committee_size
    elif r.d.parameters.threshold_base == "P":
        base = o.present
    else:
        base = r.E
    st = r.posts[o.post]
    dropped = [  # (R22.3) listed but unable to take the post at the count
        c
        for c in o.candidates
        if o.post != "committee" and (not r.can_take(o.post, c) or c in st.elected)
    ]
    want = rules.count_round(
        verdicts=verdicts,
        candidates=o.candidates,
        seats=o.seats,
        base=base,
        runoff=runoff,
        dropped=dropped,
        added_ballots=added[0],
        added=added[1],
    ).as_body(o.post, o.number)
    if ("dropped" in want) != ("dropped" in b):
        r.fail(
            "V13",
            "count.dropped",
            "计票结果中退出的候选人与重新计算不符",
            "round.counted dropped differs from the recount (R22.3)",
            e,
            expected=short(want.get("dropped", [])),
            found=short(b.get("dropped", [])),
        )
    for k, w in want.items():
        if k in b and b[k] != w:
            r.fail(
                "V13",
                f"count.{k}",
                f"计票结果的 {k} 与重新计算不符",
                f"round.counted {k} differs from the recount",
                e,
                expected=short(w),
                found=short(b[k]),
            )
    return want


def write_in_eligible(r: Replay, o: Open) -> Callable[[str], bool]:
    """(V13) R9.3: who may get a vote from a write-in in this round."""
    post = r.posts[o.post]

    def ok(member: str) -> bool:
        if member not in r.eligible or member in r.excluded or member in r.officials:
            return False
        if member in o.candidates or member in post.elected:
            return False
        if (
            o.post == "deputy_secretary"
            and "secretary" in r.posts
            and member in r.posts["secretary"].elected
        ):
            return False
        return not (
            o.post != "committee"
            and r.from_committee
            and member not in r.posts["committee"].elected
        )

    return ok
