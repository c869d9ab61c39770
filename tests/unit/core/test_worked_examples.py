"""The worked examples of RULES.md §11 (A-D), each as a named test citing spec/rules.md clauses."""

from __future__ import annotations

from dataclasses import replace

import pytest

from tally.core.ballots import Ballot, Mark
from tally.core.model import MemberId, PostKind
from tally.core.rounds import (
    Blocked,
    ElectingBody,
    RoundInput,
    RoundPurpose,
    RoundSpec,
    RoundStatus,
    apply_outcome,
    count_round,
    next_round,
    reduce_seats,
    start,
)
from tally.core.rules import expected_electors
from tests.helpers.elections import ballots_for, make_election, member_id

A, B, C, D, E_, F = (MemberId(member_id(i)) for i in range(1, 7))


def example_a(preset: str = "R2020"):  # type: ignore[no-untyped-def]
    # 58 full members of whom one is under party probation (57 eligible), 6 probationary,
    # 2 approved exclusions: E = 55.
    return make_election(
        full=57,
        party_probation=1,
        probationary=6,
        exclusions=2,
        preset=preset,
        committee_seats=5,
        committee_candidates=6,
    )


def committee_round(state):  # type: ignore[no-untyped-def]
    spec = next_round(state)
    assert isinstance(spec, RoundSpec)
    assert spec.post is PostKind.COMMITTEE
    return spec


def example_a_ballots() -> tuple[Ballot, ...]:
    valid = ballots_for([44, 41, 39, 30, 28, 25], valid=46, seats=5)
    overvote = Ballot(marks=(Mark.APPROVE,) * 6)
    return (*valid, overvote)


def test_example_a_expected_electors_exclude_probation_and_approved_exclusions_R2_R3() -> None:
    election = example_a()
    assert len(election.members) == 64
    assert len(expected_electors(election)) == 55


def test_example_a_R2020_elects_five_above_threshold_of_E_R5_R8_R13_R14() -> None:
    state = start(example_a())
    spec = committee_round(state)
    out = count_round(state, spec, RoundInput(47, 47, 47, example_a_ballots()))
    assert out.quorum.valid and (5 * 47, 4 * 55) == (235, 220)
    assert out.status is RoundStatus.COUNTED
    assert (out.valid_ballots, out.invalid_ballots) == (46, 1)
    assert dict(out.approvals) == {A: 44, B: 41, C: 39, D: 30, E_: 28, F: 25}
    assert (out.base, out.minimum_to_pass) == (55, 28)
    assert set(out.passed) == {A, B, C, D, E_}
    assert set(out.elected) == {A, B, C, D, E_}
    assert out.shortfall == 0 and not out.tied


def test_example_a_R1990_threshold_of_P_lets_F_pass_but_ranking_elects_A_to_E_R13_R14() -> None:
    state = start(example_a("R1990"))
    out = count_round(state, committee_round(state), RoundInput(47, 47, 47, example_a_ballots()))
    assert (out.base, out.minimum_to_pass) == (47, 24)
    assert F in out.passed
    assert set(out.elected) == {A, B, C, D, E_}


def test_example_b_tie_at_last_seat_goes_to_runoff_among_tied_only_R15() -> None:
    election = make_election(full=40, committee_seats=3, committee_candidates=4)
    state = start(election)
    spec = committee_round(state)
    # spec/rules.md §12 B: P = 36; 33+28+23+23 = 107 approvals fit on 36 ballots of 3 choices.
    out = count_round(
        state, spec, RoundInput(36, 36, 36, tuple(ballots_for([33, 28, 23, 23], 36, 3)))
    )
    assert out.minimum_to_pass == 21
    assert set(out.elected) == {A, B}
    assert set(out.tied) == {C, D} and out.tied_seats == 1
    state = apply_outcome(state, out)
    runoff = next_round(state)
    assert isinstance(runoff, RoundSpec)
    assert runoff.purpose is RoundPurpose.RUNOFF
    assert set(runoff.candidates) == {C, D} and runoff.seats == 1
    assert runoff.number == 2 and not runoff.apply_threshold
    # Tied again: another runoff, nobody elected by lot or by input order.
    again = count_round(state, runoff, RoundInput(36, 36, 36, tuple(ballots_for([17, 17], 36, 1))))
    assert again.elected == () and set(again.tied) == {C, D}
    state = apply_outcome(state, again)
    third = next_round(state)
    assert isinstance(third, RoundSpec) and third.number == 3
    # The one with more votes takes the seat.
    final = count_round(state, third, RoundInput(36, 36, 36, tuple(ballots_for([20, 15], 36, 1))))
    assert final.elected == (C,)
    state = apply_outcome(state, final)
    assert set(state.elected(PostKind.COMMITTEE)) == {A, B, C}
    nxt = next_round(state)
    assert isinstance(nxt, RoundSpec) and nxt.post is PostKind.SECRETARY


def example_c():  # type: ignore[no-untyped-def]
    return make_election(full=40, committee_seats=5, committee_candidates=6)


def test_example_c_shortfall_opens_further_round_for_open_seats_R16() -> None:
    state = start(example_c())
    spec = committee_round(state)
    out = count_round(
        state, spec, RoundInput(33, 33, 33, tuple(ballots_for([30, 27, 22, 19, 12, 8], 33, 5)))
    )
    assert out.quorum.valid and (5 * 33, 4 * 40) == (165, 160)
    assert out.minimum_to_pass == 21
    assert set(out.elected) == {A, B, C}
    assert out.shortfall == 2
    state = apply_outcome(state, out)
    further = next_round(state)
    assert isinstance(further, RoundSpec)
    assert further.purpose is RoundPurpose.FURTHER
    assert further.seats == 2 and set(further.candidates) == {D, E_, F}
    assert further.apply_threshold  # threshold unchanged in a further round


def test_example_c_seat_reduction_is_only_a_recorded_decision_with_majority_consent_R17() -> None:
    state = start(example_c())
    out = count_round(
        state,
        committee_round(state),
        RoundInput(33, 33, 33, tuple(ballots_for([30, 27, 22, 21, 12, 8], 33, 5))),
    )
    assert len(out.elected) == 4
    state = apply_outcome(state, out)
    # Never automatic: the further round is what comes next.
    assert isinstance(next_round(state), RoundSpec)
    with pytest.raises(Exception, match="more than half"):
        reduce_seats(
            state, PostKind.COMMITTEE, new_seats=4, assembly_consent=20, town_agreement="镇党委同意"
        )
    with pytest.raises(Exception, match="agreement"):
        reduce_seats(state, PostKind.COMMITTEE, new_seats=4, assembly_consent=21, town_agreement="")
    state = reduce_seats(
        state, PostKind.COMMITTEE, new_seats=4, assembly_consent=21, town_agreement="镇党委同意"
    )
    nxt = next_round(state)
    assert isinstance(nxt, RoundSpec) and nxt.post is PostKind.SECRETARY


def test_example_d_committee_plenary_elects_uncontested_secretary_R6_R19_R21() -> None:
    election = make_election(
        full=55,
        committee_seats=5,
        committee_candidates=6,
        secretary_candidates=(1,),
        secretary_body="committee",
    )
    state = start(election)
    out = count_round(
        state,
        committee_round(state),
        RoundInput(47, 47, 47, tuple(ballots_for([44, 41, 39, 30, 28, 25], 47, 5))),
    )
    state = apply_outcome(state, out)
    sec = next_round(state)
    assert isinstance(sec, RoundSpec)
    assert sec.post is PostKind.SECRETARY and sec.body is ElectingBody.PLENARY
    assert sec.expected == 5 and sec.candidates == (A,)
    ballots = (*[Ballot(marks=(Mark.APPROVE,))] * 4, Ballot(marks=(Mark.ABSTAIN,)))
    res = count_round(state, sec, RoundInput(5, 5, 5, ballots))
    assert res.quorum.valid and res.quorum.clause == "R6"
    assert (res.base, res.minimum_to_pass) == (5, 3)
    assert res.elected == (A,)


def test_secretary_round_drops_candidate_not_elected_to_committee_and_blocks_R20() -> None:
    # Assembly elects the secretary from the new committee; candidate F (6th) is not elected.
    election = make_election(
        full=40, committee_seats=5, committee_candidates=6, secretary_candidates=(6, 1)
    )
    state = start(election)
    out = count_round(
        state,
        committee_round(state),
        RoundInput(36, 36, 36, tuple(ballots_for([30, 29, 28, 27, 26, 10], 36, 5))),
    )
    state = apply_outcome(state, out)
    blocked = next_round(state)
    assert isinstance(blocked, Blocked)
    assert blocked.code == "candidates.amended_list_needed" and blocked.clause == "R20"
    assert replace(blocked).post is PostKind.SECRETARY
