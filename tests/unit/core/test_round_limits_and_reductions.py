"""Round limit (RS3), round inputs (R12: I = 0 iff the quorum failed; P <= E, P <= N), seat
reduction (R17: the town's agreement, 2c > E and c <= E, a committee keeps 3 seats, no post 0) and
the plenary's N (R21: the committee in office)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from tally.core.ballots import Ballot, Mark
from tally.core.errors import RoundInputError, RoundStateError
from tally.core.model import PostKind
from tally.core.rounds import (
    Blocked,
    ElectingBody,
    ElectionState,
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
from tests.helpers.elections import ballots_for, make_election


def _with_rounds_held(state: ElectionState, held: int) -> ElectionState:
    post = state.post(PostKind.COMMITTEE)
    return replace(state, posts=(replace(post, rounds_held=held), *state.posts[1:]))


def _due(state: ElectionState) -> RoundSpec:
    due = next_round(state)
    assert isinstance(due, RoundSpec)
    return due


def test_a_void_round_255_blocks_instead_of_a_revote_numbered_256_RS3() -> None:
    state = _with_rounds_held(start(make_election(full=40, committee_seats=5)), 254)
    spec = _due(state)
    assert spec.number == 255
    void = count_round(state, spec, RoundInput(36, 36, 37, ()))
    assert void.status is RoundStatus.VOID
    blocked = next_round(apply_outcome(state, void))
    assert isinstance(blocked, Blocked) and blocked.code == "rounds.exhausted"
    assert "255" in blocked.zh and "255" in blocked.en


def test_a_tie_in_round_255_blocks_instead_of_a_runoff_numbered_256_RS3() -> None:
    state = _with_rounds_held(start(make_election(full=40, committee_seats=5)), 254)
    spec = _due(state)
    ballots = tuple(ballots_for([30, 29, 28, 27, 25, 25], 36, 5))
    tie = count_round(state, spec, RoundInput(36, 36, 36, ballots))
    assert tie.tied
    blocked = next_round(apply_outcome(state, tie))
    assert isinstance(blocked, Blocked) and blocked.code == "rounds.exhausted"


def test_no_further_round_after_255_rounds_RS3() -> None:
    state = _with_rounds_held(start(make_election(full=40, committee_seats=5)), 255)
    blocked = next_round(state)
    assert isinstance(blocked, Blocked) and blocked.code == "rounds.exhausted"


def test_ballots_are_issued_exactly_when_the_quorum_holds_R12() -> None:
    """I = 0 iff the quorum failed: no ballots without a quorum, and I = P with one."""
    state = start(make_election(full=40, committee_seats=5))
    spec = _due(state)
    with pytest.raises(RoundInputError) as err:
        count_round(state, spec, RoundInput(20, 20, 20, ()))  # 5*20 <= 4*40
    assert err.value.code == "round.ballots_without_quorum"
    with pytest.raises(RoundInputError) as err:
        count_round(state, spec, RoundInput(36, 0, 0, ()))
    assert err.value.code == "round.issued_not_present"
    failed = count_round(state, spec, RoundInput(20, 0, 0, ()))
    assert failed.status is RoundStatus.QUORUM_FAILED and failed.issued == 0


def test_present_never_exceeds_E_nor_N_R12() -> None:
    election = make_election(
        full=12,
        committee_seats=3,
        secretary_body="committee",
        secretary_candidates=(1,),
        secretary_margin="none",
    )
    state = start(election)
    with pytest.raises(RoundInputError) as err:
        count_round(state, _due(state), RoundInput(13, 13, 13, ()))
    assert err.value.code == "round.present_exceeds_expected" and err.value.clause == "R4"
    ballots = tuple(ballots_for([12, 12, 12, 0], 12, 3))
    state = apply_outcome(state, count_round(state, _due(state), RoundInput(12, 12, 12, ballots)))
    plenary = _due(state)
    assert plenary.body is ElectingBody.PLENARY and plenary.expected == 3
    with pytest.raises(RoundInputError) as err:
        count_round(state, plenary, RoundInput(4, 4, 4, (Ballot(marks=(Mark.APPROVE,)),) * 4))
    assert err.value.code == "round.present_exceeds_expected"


def _committee_shortfall(seats: int, approvals: list[int]) -> ElectionState:
    state = start(make_election(full=40, committee_seats=seats))
    spec = _due(state)
    out = count_round(state, spec, RoundInput(36, 36, 36, tuple(ballots_for(approvals, 36, seats))))
    return apply_outcome(state, out)


def test_a_committee_is_never_reduced_below_three_seats_R17() -> None:
    state = _committee_shortfall(4, [30, 29, 10, 9, 8])  # 2 of 4 elected
    with pytest.raises(RoundStateError) as err:
        reduce_seats(
            state, PostKind.COMMITTEE, new_seats=2, assembly_consent=30, town_agreement="镇党委同意"
        )
    assert err.value.code == "reduction.bad_number" and "3" in err.value.zh
    after = reduce_seats(
        state, PostKind.COMMITTEE, new_seats=3, assembly_consent=30, town_agreement="镇党委同意"
    )
    assert after.post(PostKind.COMMITTEE).seats == 3


def test_a_secretary_post_is_never_reduced_to_zero_R17() -> None:
    state = start(make_election(full=40, committee_seats=5, secretary_candidates=(1, 2)))
    state = apply_outcome(
        state,
        count_round(
            state, _due(state), RoundInput(36, 36, 36, tuple(ballots_for([30] * 5 + [5], 36, 5)))
        ),
    )
    sec = _due(state)
    state = apply_outcome(
        state, count_round(state, sec, RoundInput(36, 36, 36, tuple(ballots_for([10, 10], 36, 1))))
    )
    assert state.post(PostKind.SECRETARY).open_seats == 1
    with pytest.raises(RoundStateError) as err:
        reduce_seats(
            state, PostKind.SECRETARY, new_seats=0, assembly_consent=30, town_agreement="镇党委同意"
        )
    assert err.value.code == "reduction.bad_number"


@pytest.mark.parametrize(
    ("consent", "agreement", "code"),
    [
        (20, "镇党委同意", "reduction.no_majority"),  # 2*20 = 40, not > E = 40
        (41, "镇党委同意", "reduction.no_majority"),  # more than E
        (30, "  ", "reduction.no_town_agreement"),
    ],
    ids=["half-of-E", "more-than-E", "no-town-agreement"],
)
def test_a_reduction_needs_a_majority_of_E_at_most_E_and_the_towns_agreement_R17(
    consent: int, agreement: str, code: str
) -> None:
    state = _committee_shortfall(5, [30, 29, 28, 27, 8, 7])  # 4 of 5 elected
    with pytest.raises(RoundStateError) as err:
        reduce_seats(
            state,
            PostKind.COMMITTEE,
            new_seats=4,
            assembly_consent=consent,
            town_agreement=agreement,
        )
    assert err.value.code == code and err.value.clause == "R17" and err.value.zh and err.value.en


def test_plenary_N_is_the_committee_in_office_after_a_reduction_R21_R17() -> None:
    election = make_election(
        full=40,
        committee_seats=5,
        committee_candidates=6,
        secretary_body="committee",
        secretary_candidates=(1,),
        secretary_margin="none",
    )
    state = start(election)
    state = apply_outcome(
        state,
        count_round(
            state,
            _due(state),
            RoundInput(36, 36, 36, tuple(ballots_for([30, 29, 28, 27, 8, 7], 36, 5))),
        ),
    )
    assert _due(state).purpose is RoundPurpose.FURTHER
    state = reduce_seats(
        state, PostKind.COMMITTEE, new_seats=4, assembly_consent=21, town_agreement="镇党委同意"
    )
    plenary = _due(state)
    assert plenary.body is ElectingBody.PLENARY and plenary.expected == 4
    out = count_round(state, plenary, RoundInput(3, 3, 3, (Ballot(marks=(Mark.APPROVE,)),) * 3))
    assert (out.base, out.minimum_to_pass, out.elected) == (4, 3, plenary.candidates)


def test_the_round_limit_block_cites_RS3() -> None:
    state = _with_rounds_held(start(make_election(full=40, committee_seats=5)), 255)
    blocked = next_round(state)
    assert isinstance(blocked, Blocked) and blocked.clause == "RS3"
