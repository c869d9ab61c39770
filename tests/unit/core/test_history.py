"""RULES A13: every round of a post is listed, and each elected member with the round that elected
them and that round's approvals (tally/core/history.py)."""

from __future__ import annotations

from tally.core.history import QuorumFailure, post_histories, with_quorum_failures
from tally.core.model import MemberId, PostKind, QuorumComparison
from tally.core.rounds import (
    RoundInput,
    RoundPurpose,
    RoundSpec,
    RoundStatus,
    apply_outcome,
    count_round,
    next_round,
    start,
)
from tally.core.rules import quorum
from tests.helpers.elections import ballots_for, make_election, member_id

A, B, C, D, E_, F = (MemberId(member_id(i)) for i in range(1, 7))


def _round(state, approvals, n, seats):  # type: ignore[no-untyped-def]
    spec = next_round(state)
    assert isinstance(spec, RoundSpec)
    out = count_round(state, spec, RoundInput(n, n, n, tuple(ballots_for(approvals, n, seats))))
    return apply_outcome(state, out), out


def test_further_round_winners_are_shown_with_the_further_rounds_approvals_A13() -> None:
    state = start(make_election(full=40, committee_seats=5, committee_candidates=6))
    state, first = _round(state, [30, 27, 22, 19, 12, 8], 33, 5)
    assert first.shortfall == 2
    state, _ = _round(state, [25, 23, 3], 33, 2)
    (committee,) = post_histories(state.outcomes)
    assert [r.number for r in committee.rounds] == [1, 2]
    assert [r.purpose for r in committee.rounds] == [RoundPurpose.FIRST, RoundPurpose.FURTHER]
    assert [r.threshold for r in committee.rounds] == [21, 21]
    got = {e.member: (e.round, e.approvals) for e in committee.elected}
    # Round 1 elected A, B, C; the further round elected D and E with ITS approvals, not the
    # 19 and 12 of round 1 (below the 21-vote line).
    assert got == {A: (1, 30), B: (1, 27), C: (1, 22), D: (2, 25), E_: (2, 23)}
    assert committee.elected_ids() == (A, B, C, D, E_)


def test_runoff_winner_shows_the_runoff_and_the_round_that_passed_the_threshold_A13() -> None:
    state = start(make_election(full=40, committee_seats=3, committee_candidates=4))
    state, first = _round(state, [34, 30, 25, 25], 38, 3)
    assert set(first.tied) == {C, D}
    state, _ = _round(state, [20, 16], 36, 1)
    (committee,) = post_histories(state.outcomes)
    assert committee.rounds[1].threshold is None  # a runoff only ranks (R15)
    (c,) = [e for e in committee.elected if e.member == C]
    assert (c.round, c.approvals, c.passed_round, c.passed_approvals) == (2, 20, 1, 25)


def test_void_round_is_listed_with_no_counts_and_its_revote_follows_A13() -> None:
    state = start(make_election(full=40, committee_seats=3, committee_candidates=4))
    spec = next_round(state)
    assert isinstance(spec, RoundSpec)
    void = count_round(state, spec, RoundInput(36, 36, 37, ()))
    assert void.status is RoundStatus.VOID
    state = apply_outcome(state, void)
    state, _ = _round(state, [30, 28, 26, 10], 36, 3)
    (committee,) = post_histories(state.outcomes)
    assert [(r.number, r.status, r.revote_of) for r in committee.rounds] == [
        (1, RoundStatus.VOID, None),
        (2, RoundStatus.COUNTED, 1),
    ]
    assert committee.rounds[0].approvals == () and committee.rounds[0].threshold is None
    assert {e.member: e.round for e in committee.elected} == {A: 2, B: 2, C: 2}
    assert committee.post is PostKind.COMMITTEE


def test_quorum_failed_attempt_is_listed_before_the_round_then_held_with_no_counts_R5_A13() -> None:
    state = start(make_election(full=40, committee_seats=3, committee_candidates=4))
    state, _ = _round(state, [30, 28, 26, 10], 36, 3)
    spec = next_round(state)
    assert isinstance(spec, RoundSpec) and spec.post is PostKind.SECRETARY
    failed = QuorumFailure(1, PostKind.SECRETARY, 1, quorum(30, 40, QuorumComparison.GT))
    state, _ = _round(state, [30, 6], 36, 1)
    stray = QuorumFailure(2, PostKind.SECRETARY, 9, failed.quorum)  # no such round: left out
    outcomes = with_quorum_failures(state.outcomes, [failed, stray])
    assert [(o.spec.post, o.status) for o in outcomes] == [
        (PostKind.COMMITTEE, RoundStatus.COUNTED),
        (PostKind.SECRETARY, RoundStatus.QUORUM_FAILED),
        (PostKind.SECRETARY, RoundStatus.COUNTED),
    ]
    _, secretary = post_histories(outcomes)
    first, held = secretary.rounds
    assert (first.number, first.status, first.present, first.expected) == (
        1,
        RoundStatus.QUORUM_FAILED,
        30,
        40,
    )
    assert first.threshold is None and first.approvals == () and first.issued == 0
    assert held.status is RoundStatus.COUNTED and held.threshold is not None
    assert [e.round for e in secretary.elected] == [1]
