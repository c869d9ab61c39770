"""Counting one round (spec/rules.md R4-R15, R21, R22.3; spec/remote-v2.md RV-7.1)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, replace

from tally.core.ballots import BallotVerdict, judge_ballot
from tally.core.errors import RoundInputError
from tally.core.model import (
    MemberId,
)
from tally.core.remote import RemoteTotals
from tally.core.rounds._schedule import _dropped, _write_in_rule
from tally.core.rounds._state import (
    ElectingBody,
    ElectionState,
    RoundInput,
    RoundOutcome,
    RoundSpec,
    RoundStatus,
)
from tally.core.rules import (
    QuorumCheck,
    passes_threshold,
    plenary_quorum,
    quorum,
    rank_and_fill,
    threshold_base,
)


def uncounted_outcome(spec: RoundSpec, q: QuorumCheck) -> RoundOutcome:
    """A round that failed its quorum (R5, R6): nothing issued, nothing counted, nobody elected.

    Also the base of a VOID outcome (R11), which keeps the round's issued and returned counts."""
    return RoundOutcome(
        spec=spec,
        quorum=q,
        status=RoundStatus.QUORUM_FAILED,
        issued=0,
        returned=0,
        valid_ballots=0,
        invalid_ballots=0,
        approvals=(),
        base=0,
        minimum_to_pass=0,
        passed=(),
        elected=(),
        tied=(),
        tied_seats=0,
        shortfall=0,
        clauses=(q.clause,),
    )


def count_round(state: ElectionState, spec: RoundSpec, inputs: RoundInput) -> RoundOutcome:
    """Count one round.

    Raises:
        RoundInputError: the counts contradict each other or the paper (R12): ballots issued must
            equal the electors present, every returned ballot must be entered, and each ballot must
            have one mark per listed candidate (more write-ins than rows make a ballot invalid,
            not the input: R9.5).
    """
    q = _round_quorum(state, spec, inputs.present)
    _check_shape(spec, inputs, quorate=q.valid)
    empty = replace(uncounted_outcome(spec, q), issued=inputs.issued, returned=inputs.returned)
    if not q.valid:
        return empty
    if inputs.returned > inputs.issued:
        # (R11) more ballots came back than were issued: the round is void and voted again.
        return replace(empty, status=RoundStatus.VOID, clauses=(q.clause, "R11"))

    verdicts, votes, notes = _judge_and_add_up(state, spec, inputs)
    # (R22.3) a dropped candidate's marks still count in each ballot's choices (R8) but give
    # approvals to nobody; the candidate leaves the approvals list.
    dropped = _dropped(state, spec)
    standing = tuple(c for c in spec.candidates if c not in dropped)
    write_in_ids = sorted(m for m in votes if m not in spec.candidates)
    approvals = tuple((c, votes.get(c, 0)) for c in (*standing, *write_in_ids))
    bar = _threshold(state, spec, inputs.present, approvals, standing)
    order = tuple(m for m, _ in approvals)
    filling = rank_and_fill(dict(approvals), bar.passed, spec.seats, order)
    clauses = [q.clause, "R8", "R11", bar.clause, "R14"]
    if filling.tied:
        clauses.append("R15")
    if filling.open_after:
        clauses.append("R16")
    if dropped:
        clauses.append("R22")
    totals = inputs.remote_totals
    return RoundOutcome(
        spec=spec,
        quorum=q,
        status=RoundStatus.COUNTED,
        issued=inputs.issued,
        returned=inputs.returned,
        valid_ballots=sum(1 for v in verdicts if v.valid) + (totals.ballots if totals else 0),
        invalid_ballots=sum(1 for v in verdicts if not v.valid),
        approvals=approvals,
        base=bar.base,
        minimum_to_pass=bar.minimum,
        passed=bar.passed,
        elected=filling.elected,
        tied=filling.tied,
        tied_seats=filling.tied_seats,
        shortfall=filling.open_after,
        clauses=tuple(dict.fromkeys(clauses)),
        ballot_notes=tuple(sorted(notes.items())),
        remote_ballots=len(inputs.remote) + (totals.ballots if totals else 0),
        dropped=dropped,
    )


def _round_quorum(state: ElectionState, spec: RoundSpec, present: int) -> QuorumCheck:
    """(R4-R6, R21) The quorum of the body that votes: the plenary's own rule, else the
    assembly's comparison from the manifest."""
    if spec.body is ElectingBody.PLENARY:
        return plenary_quorum(present, spec.expected)
    return quorum(present, spec.expected, state.election.parameters.quorum_comparison)


def _judge_and_add_up(
    state: ElectionState, spec: RoundSpec, inputs: RoundInput
) -> tuple[list[BallotVerdict], Counter[MemberId], Counter[str]]:
    """(R7-R10, RV-7.1) Judge every paper and remote ballot, then add up the approvals (the
    remote totals' included) and the notes of what gave no vote."""
    allowed = _write_in_rule(state, spec)
    verdicts: list[BallotVerdict] = [
        judge_ballot(
            b,
            candidates=spec.candidates,
            seats=spec.seats,
            params=state.election.parameters,
            write_in_eligible=(allowed or set()).__contains__,
        )
        for b in (*inputs.ballots, *inputs.remote)
    ]
    votes: Counter[MemberId] = Counter()
    for v in verdicts:
        votes.update(v.approvals)
    notes: Counter[str] = Counter(n for v in verdicts for n in v.notes)
    totals = inputs.remote_totals
    if totals is not None:
        _add_remote_totals(totals, spec, allowed or set(), votes, notes)
    return verdicts, votes, notes


@dataclass(frozen=True, slots=True)
class _Threshold:
    """What passing a round takes: the base, the minimum (more than half of it), who reached it,
    and the clause that decided (R13, R21, or R15 for a runoff, which has none)."""

    base: int
    minimum: int
    passed: tuple[MemberId, ...]
    clause: str


def _threshold(
    state: ElectionState,
    spec: RoundSpec,
    present: int,
    approvals: tuple[tuple[MemberId, int], ...],
    standing: tuple[MemberId, ...],
) -> _Threshold:
    """(R13, R21) More than half of the base: the plenary's whole membership, else the assembly's
    base from the manifest; (R15) a runoff has no threshold, every standing candidate passes."""
    if not spec.apply_threshold:
        return _Threshold(base=0, minimum=0, passed=standing, clause="R15")
    if spec.body is ElectingBody.PLENARY:
        base, clause = spec.expected, "R21"
    else:
        base, clause = threshold_base(state.election.parameters, spec.expected, present), "R13"
    passed = tuple(m for m, v in approvals if passes_threshold(v, base))
    return _Threshold(base=base, minimum=base // 2 + 1, passed=passed, clause=clause)


def _add_remote_totals(
    totals: RemoteTotals,
    spec: RoundSpec,
    allowed: set[MemberId],
    votes: Counter[MemberId],
    notes: Counter[str],
) -> None:
    """(RV-7.1, RV-2.4) A listed candidate's total adds to its approvals; a written-in person's
    total gives that many approvals if the person is write-in-eligible in the round (R9.3), else
    no vote: noted ``writein.no_vote`` once per approval, as R9.2 notes each paper write-in. A
    remote ballot is never invalid (its proofs exclude an over-vote) and names each person once,
    so R8, R9.1 (under RV-3.4) and R9.5 never apply to it."""
    for member, n in totals.approvals:
        if n == 0:
            continue
        if member in spec.candidates or member in allowed:
            votes[member] += n
        else:
            notes["writein.no_vote"] += n


def _check_shape(spec: RoundSpec, inputs: RoundInput, *, quorate: bool) -> None:
    if min(inputs.present, inputs.issued, inputs.returned) < 0:
        raise RoundInputError(
            "round.negative", zh="人数不能为负数", en="counts cannot be negative", clause="R12"
        )
    if inputs.present > spec.expected:
        raise RoundInputError(
            "round.present_exceeds_expected",
            zh=f"实到 {inputs.present} 人多于应到 {spec.expected} 人",
            en=f"{inputs.present} present is more than the {spec.expected} expected",
            clause="R4",
        )
    if not quorate:
        if inputs.issued or inputs.returned or inputs.ballots:
            raise RoundInputError(
                "round.ballots_without_quorum",
                zh="会议未达到法定人数，不能发出选票",
                en="no ballots may be issued when the quorum is not met",
                clause="R5",
            )
        return
    paper = inputs.present if inputs.paper_present is None else inputs.paper_present
    if inputs.issued != paper:
        raise RoundInputError(
            "round.issued_not_present",
            zh=f"发出选票 {inputs.issued} 张，应等于到会有选举权人数 {paper}",
            en=f"{inputs.issued} ballots issued; must equal the {paper} electors present",
            clause="R12",
        )
    if len(inputs.ballots) != inputs.returned and inputs.returned <= inputs.issued:
        raise RoundInputError(
            "round.entered_not_returned",
            zh=f"已录入 {len(inputs.ballots)} 张选票，收回 {inputs.returned} 张，二者应相等",
            en=f"{len(inputs.ballots)} ballots entered but {inputs.returned} returned",
            clause="R12",
        )
    for i, b in enumerate((*inputs.ballots, *inputs.remote), start=1):
        if b.invalid_reason is not None:
            continue  # (R8.5) entered as invalid by decision: no marks to check
        if len(b.marks) != len(spec.candidates):
            raise RoundInputError(
                "ballot.shape",
                zh=f"第 {i} 张选票有 {len(b.marks)} 个标记，候选人有 {len(spec.candidates)} 名",
                en=f"ballot {i} has {len(b.marks)} marks for {len(spec.candidates)} candidates",
                clause="R7",
            )
