"""The edge cases of RULES.md §12 (1-12), one named test each, citing spec/rules.md clauses."""

from __future__ import annotations

import pytest

from tally.core.ballots import Ballot, Mark, WriteIn
from tally.core.definition import parse_definition
from tally.core.errors import DefinitionError, RoundInputError
from tally.core.model import MarginRule, MemberId, PostKind, QuorumComparison
from tally.core.rounds import (
    ElectingBody,
    RoundInput,
    RoundPurpose,
    RoundSpec,
    RoundStatus,
    apply_outcome,
    count_round,
    next_round,
    start,
)
from tally.core.rules import margin_satisfied, passes_threshold, plenary_quorum, quorum
from tests.helpers.elections import ballots_for, definition_text, make_election, member_id

O, X, N = Mark.APPROVE, Mark.DISAPPROVE, Mark.ABSTAIN


def test_edge_1_exactly_four_fifths_fails_GT_and_passes_GE_with_warning_R5() -> None:
    gt = quorum(40, 50, QuorumComparison.GT)
    ge = quorum(40, 50, QuorumComparison.GE)
    assert not gt.valid and gt.at_equality
    assert ge.valid and ge.at_equality


@pytest.mark.parametrize("comparison", list(QuorumComparison), ids=lambda c: c.value)
def test_edge_2_seven_electors_tolerate_one_absentee_R5(comparison: QuorumComparison) -> None:
    assert quorum(6, 7, comparison).valid
    assert not quorum(5, 7, comparison).valid
    assert quorum(0, 7, comparison).minimum_present == 6


@pytest.mark.parametrize(
    ("preset", "elected"), [("R2020", False), ("R1990", True)], ids=["R2020-base-E", "R1990-base-P"]
)
def test_edge_3_twenty_five_of_fifty_expected_forty_five_present_R13(
    preset: str, elected: bool
) -> None:
    election = make_election(
        full=50,
        preset=preset,
        committee_seats=1,
        committee_candidates=2,
        secretary_candidates=(1,),
        secretary_margin="none",
        secretary_body="committee",
    )
    state = start(election)
    spec = next_round(state)
    assert isinstance(spec, RoundSpec)
    out = count_round(state, spec, RoundInput(45, 45, 45, tuple(ballots_for([25, 3], 45, 1))))
    assert (MemberId(member_id(1)) in out.elected) is elected


def test_edge_4_R1990_exactly_half_of_present_is_not_elected_R13() -> None:
    assert not passes_threshold(20, 40)
    assert passes_threshold(21, 40)


def test_edge_5_three_approvals_plus_write_in_over_three_seats_voids_whole_ballot_R8() -> None:
    election = make_election(full=30, committee_seats=3, committee_candidates=4)
    state = start(election)
    spec = next_round(state)
    assert isinstance(spec, RoundSpec)
    w = WriteIn(name="某", member=MemberId(member_id(10)))
    over = Ballot(marks=(O, O, O, N), write_ins=(w,))
    fine = Ballot(marks=(O, O, N, N), write_ins=(w,))
    out = count_round(state, spec, RoundInput(25, 25, 2, (over, fine)))
    assert (out.valid_ballots, out.invalid_ballots) == (1, 1)
    approvals = dict(out.approvals)
    assert approvals[MemberId(member_id(1))] == 1  # only the valid ballot's approval counts
    assert approvals[MemberId(member_id(3))] == 0
    assert approvals[MemberId(member_id(10))] == 1  # the eligible write-in got a vote


def test_edge_6_more_returned_than_issued_voids_round_and_fewer_is_valid_R11() -> None:
    election = make_election(full=50)
    state = start(election)
    spec = next_round(state)
    assert isinstance(spec, RoundSpec)
    void = count_round(state, spec, RoundInput(45, 45, 46, ()))
    assert void.status is RoundStatus.VOID
    state2 = apply_outcome(state, void)
    revote = next_round(state2)
    assert isinstance(revote, RoundSpec)
    assert revote.revote_of == 1 and revote.number == 2
    assert revote.candidates == spec.candidates and revote.seats == spec.seats
    kept = count_round(state, spec, RoundInput(45, 45, 44, tuple(ballots_for([30] * 6, 44, 5))))
    assert kept.status is RoundStatus.COUNTED
    assert kept.base == 50  # the threshold base stays E under R2020


def test_edge_7_seven_seats_need_nine_candidates_R18() -> None:
    assert not margin_satisfied(MarginRule.TWENTY_PERCENT, 8, 7)
    assert margin_satisfied(MarginRule.TWENTY_PERCENT, 9, 7)
    with pytest.raises(DefinitionError) as e:
        make_election(full=30, committee_seats=7, committee_candidates=8)
    assert [p.clause for p in e.value.problems] == ["R18"]


def test_edge_8_absent_member_without_approved_exclusion_stays_in_E_R3() -> None:
    text = definition_text(full=20).replace(
        "[officials]",
        '[[exclusions]]\nmember = "M005"\ncategory = "abroad"\n'
        'higher_level_approval = "某文件"\n\n[officials]',
    )
    with pytest.raises(DefinitionError) as e:
        parse_definition(text)
    assert any(
        p.code == "exclusion.approval_missing" and p.path == "exclusions[0].assembly_approval"
        for p in e.value.problems
    )


def test_edge_9_absent_members_proxy_ballot_cannot_be_issued_R4_R12() -> None:
    # Only electors present receive a ballot: issuing one more than present is refused, and an
    # extra ballot in the box voids the round.
    state = start(make_election(full=20))
    spec = next_round(state)
    assert isinstance(spec, RoundSpec)
    with pytest.raises(RoundInputError) as e:
        count_round(state, spec, RoundInput(18, 19, 19, ()))
    assert e.value.code == "round.issued_not_present"
    assert count_round(state, spec, RoundInput(18, 18, 19, ())).status is RoundStatus.VOID


def test_edge_10_three_member_committee_with_two_present_is_not_quorate_R6() -> None:
    assert not plenary_quorum(2, 3).valid
    assert plenary_quorum(3, 3).valid
    assert plenary_quorum(4, 5).valid and not plenary_quorum(3, 5).valid


def test_edge_11_candidate_who_is_scrutineer_is_refused_R25() -> None:
    text = definition_text(full=20).replace('scrutineers = ["M020"]', 'scrutineers = ["M001"]')
    with pytest.raises(DefinitionError) as e:
        parse_definition(text)
    assert [(p.code, p.path, p.clause) for p in e.value.problems] == [
        ("official.is_candidate", "officials.scrutineers[0]", "R25")
    ]


def test_edge_12_nobody_below_threshold_is_ranked_into_an_empty_seat_R14_R16() -> None:
    state = start(make_election(full=40, committee_seats=5, committee_candidates=6))
    spec = next_round(state)
    assert isinstance(spec, RoundSpec)
    out = count_round(
        state, spec, RoundInput(33, 33, 33, tuple(ballots_for([30, 27, 22, 20, 20, 8], 33, 5)))
    )
    assert len(out.elected) == 3 and out.shortfall == 2
    assert MemberId(member_id(4)) not in out.elected  # 20 of E=40 is exactly half


def test_runoff_ballot_write_in_gives_no_vote_R15() -> None:
    state = start(make_election(full=40, committee_seats=3, committee_candidates=4))
    spec = next_round(state)
    assert isinstance(spec, RoundSpec)
    out = count_round(
        state, spec, RoundInput(38, 38, 38, tuple(ballots_for([34, 30, 25, 25], 38, 3)))
    )
    state = apply_outcome(state, out)
    runoff = next_round(state)
    assert isinstance(runoff, RoundSpec) and runoff.purpose is RoundPurpose.RUNOFF
    w = WriteIn(name="x", member=MemberId(member_id(10)))
    res = count_round(
        state,
        runoff,
        RoundInput(38, 38, 2, (Ballot(marks=(N, N), write_ins=(w,)), Ballot(marks=(O, N)))),
    )
    assert MemberId(member_id(10)) not in dict(res.approvals)
    assert res.elected == (MemberId(member_id(3)),)


def test_committee_plenary_quorum_failure_keeps_round_due_without_using_a_number_R6() -> None:
    election = make_election(
        full=30,
        committee_seats=3,
        committee_candidates=4,
        secretary_candidates=(1,),
        secretary_body="committee",
    )
    state = start(election)
    spec = next_round(state)
    assert isinstance(spec, RoundSpec)
    state = apply_outcome(
        state,
        count_round(
            state, spec, RoundInput(28, 28, 28, tuple(ballots_for([25, 24, 23, 1], 28, 3)))
        ),
    )
    sec = next_round(state)
    assert isinstance(sec, RoundSpec) and sec.body is ElectingBody.PLENARY and sec.expected == 3
    failed = count_round(state, sec, RoundInput(2, 0, 0, ()))
    assert failed.status is RoundStatus.QUORUM_FAILED
    state = apply_outcome(state, failed)
    assert next_round(state) == sec
    assert state.post(PostKind.SECRETARY).rounds_held == 0
