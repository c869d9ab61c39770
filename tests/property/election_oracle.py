"""A deliberately naive, independent oracle for one round (RULES.md Part A, A3-A5, A12.2).

It imports no counting code from ``tally.core`` (no rules, rounds or ballots functions): only the
model enums and the ballot data classes (``Mark``, ``Ballot``, ``WriteIn``). Every rule is written
out again in the plainest way, so that a property comparing it with the engine can fail.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass

from tally.core.ballots import Ballot, Mark
from tally.core.model import MemberId, Parameters, QuorumComparison, UnreadableMark


@dataclass(frozen=True)
class OracleBallot:
    valid: bool
    choices: int
    gets_vote: frozenset[MemberId]


@dataclass(frozen=True)
class OracleRound:
    status: str  # "quorum_failed" | "void" | "counted"
    valid_ballots: int
    invalid_ballots: int
    approvals: dict[MemberId, int]
    passed: frozenset[MemberId]
    elected: frozenset[MemberId]
    tied: frozenset[MemberId]
    tied_seats: int
    shortfall: int


def oracle_quorum(present: int, expected: int, comparison: QuorumComparison) -> bool:
    """A3: valid iff 5P > 4E (GT) or 5P >= 4E (GE); never with nobody expected."""
    if expected == 0:
        return False
    if comparison is QuorumComparison.GT:
        return present * 5 > expected * 4
    return present * 5 >= expected * 4


def oracle_ballot(
    ballot: Ballot,
    candidates: Sequence[MemberId],
    seats: int,
    params: Parameters,
    write_in_ok: Collection[MemberId],
) -> OracleBallot:
    """A4 and A12.2: choices = approvals + every filled write-in row (whatever the options); more
    than the seats, or more write-ins than the paper's rows (= seats), voids the whole ballot. A
    write-in gives a vote only when marked (or unmarked ones count as approval), within the number
    of × marks when write-ins require a disapproval, naming someone who may receive one; the same
    person gets one vote from one ballot however often written."""
    marks = list(ballot.marks)
    if Mark.UNREADABLE in marks and params.unreadable_mark == UnreadableMark.VOID_BALLOT:
        return OracleBallot(False, 0, frozenset())
    approved = [candidates[i] for i in range(len(marks)) if marks[i] == Mark.APPROVE]
    choices = len(approved) + len(ballot.write_ins)
    if len(ballot.write_ins) > seats or choices > seats:
        return OracleBallot(False, choices, frozenset())
    crosses = marks.count(Mark.DISAPPROVE)
    votes = set(approved)
    for number, w in enumerate(ballot.write_ins, start=1):
        if not w.marked and params.write_in_unmarked.value == "ignored":
            continue
        if params.write_in_requires_disapproval and number > crosses:
            continue
        if w.member is not None and w.member in write_in_ok:
            votes.add(w.member)
    return OracleBallot(True, choices, frozenset(votes))


def oracle_round(
    *,
    candidates: Sequence[MemberId],
    seats: int,
    present: int,
    expected: int,
    issued: int,
    returned: int,
    base: int,
    apply_threshold: bool,
    params: Parameters,
    ballots: Sequence[Ballot],
    write_in_ok: Collection[MemberId],
    comparison: QuorumComparison | None = None,
    plenary: bool = False,
    dropped: Collection[MemberId] = (),
) -> OracleRound:
    """One round: quorum (A3, or 3P > 2N for a plenary), void (A4), threshold and filling (A5).

    ``dropped``: listed candidates who cannot take the post at the count (A12.4, a direct
    election's secretary candidate not elected to the committee): their ○ marks still make the
    ballot's choices, but their approvals count for nobody."""
    empty: dict[MemberId, int] = {}
    if plenary:
        quorate = expected > 0 and 3 * present > 2 * expected
    else:
        quorate = oracle_quorum(present, expected, comparison or params.quorum_comparison)
    if not quorate:
        return OracleRound(
            "quorum_failed", 0, 0, empty, frozenset(), frozenset(), frozenset(), 0, 0
        )
    if returned > issued:
        return OracleRound("void", 0, 0, empty, frozenset(), frozenset(), frozenset(), 0, 0)

    judged = [oracle_ballot(b, candidates, seats, params, write_in_ok) for b in ballots]
    approvals = {c: 0 for c in candidates if c not in dropped}
    for j in judged:
        for m in j.gets_vote:
            if m not in dropped:
                approvals[m] = approvals.get(m, 0) + 1

    if apply_threshold:
        passed = {m for m, v in approvals.items() if v + v > base}
    else:
        passed = set(candidates) - set(dropped)

    elected: set[MemberId] = set()
    tied: set[MemberId] = set()
    for m in passed:
        higher = len([o for o in passed if approvals[o] > approvals[m]])
        same = len([o for o in passed if approvals[o] == approvals[m]])
        if higher + same <= seats:
            elected.add(m)
        elif higher < seats:
            tied.add(m)
    tied_seats = seats - len(elected) if tied else 0
    shortfall = seats - len(elected) - tied_seats
    return OracleRound(
        "counted",
        len([j for j in judged if j.valid]),
        len([j for j in judged if not j.valid]),
        approvals,
        frozenset(passed),
        frozenset(elected),
        frozenset(tied),
        tied_seats,
        shortfall,
    )
