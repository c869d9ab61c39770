"""Amended candidate lists (spec/rules.md RS7; RULES A12.1): every check a definition's list gets,
and only at the moments RS7 allows."""

from __future__ import annotations

import pytest

from tally.core.definition import parse_definition
from tally.core.errors import RoundStateError
from tally.core.model import Election, MemberId, PostKind
from tally.core.rounds import (
    Blocked,
    ElectionState,
    RoundInput,
    RoundPurpose,
    RoundSpec,
    amend_candidates,
    amended_list_warnings,
    apply_outcome,
    count_round,
    next_round,
    start,
)
from tests.helpers.elections import ballots_for, definition_text, member_id

M = [MemberId(member_id(i)) for i in range(0, 45)]  # M[i] is member i (M[0] unused)
SCRUTINEER, TELLER = M[40], M[39]  # definition_text: the last two eligible members


def _election(*, older: int | None = None, parameters: str = "", **kw: object) -> Election:
    """40 full members; member ``older`` (if any) born in 1975: 51 on the election date."""
    text = definition_text(full=40, parameters=parameters, **kw)  # type: ignore[arg-type]
    if older is not None:
        head, *rest = text.split("birth_date = 1985-01-01")
        births = [
            f"birth_date = {1975 if i == older - 1 else 1985}-01-01" for i in range(len(rest))
        ]
        text = head + "".join(b + part for b, part in zip(births, rest, strict=True))
    return parse_definition(text)


def _vote(state: ElectionState, approvals: list[int], present: int = 36) -> ElectionState:
    spec = next_round(state)
    assert isinstance(spec, RoundSpec)
    ballots = tuple(ballots_for(approvals, present, spec.seats))
    return apply_outcome(
        state, count_round(state, spec, RoundInput(present, present, present, ballots))
    )


def _committee_shortfall(**kw: object) -> ElectionState:
    """Committee 5 seats, 6 candidates: 3 elected, 2 seats open for a further round (R16)."""
    state = start(_election(committee_seats=5, committee_candidates=6, **kw))
    state = _vote(state, [30, 29, 28, 10, 9, 8])
    assert state.post(PostKind.COMMITTEE).elected == (M[1], M[2], M[3])
    return state


def _secretary_blocked(**kw: object) -> ElectionState:
    """Secretary candidates M006 and M001; M006 is not elected to the committee: blocked (R20)."""
    kw.setdefault("secretary_candidates", (6, 1))
    state = start(_election(committee_seats=5, committee_candidates=6, **kw))
    state = _vote(state, [30, 29, 28, 27, 26, 10])
    due = next_round(state)
    assert isinstance(due, Blocked) and due.code == "candidates.amended_list_needed"
    return state


def _refused(state: ElectionState, kind: PostKind, ids: list[MemberId]) -> RoundStateError:
    with pytest.raises(RoundStateError) as err:
        amend_candidates(state, kind, tuple(ids))
    return err.value


@pytest.mark.parametrize(("official", "role"), [(SCRUTINEER, "监票人"), (TELLER, "计票人")])
def test_amended_further_round_list_naming_an_official_of_the_round_is_refused_R25_RS7(
    official: MemberId, role: str
) -> None:
    state = _committee_shortfall()
    err = _refused(state, PostKind.COMMITTEE, [M[4], official])
    assert err.code == "amend.official" and err.clause == "R25"
    assert role in err.zh and "official" not in err.zh
    assert "cannot stand" in err.en


def test_amended_secretary_list_with_an_unqualified_candidate_is_refused_under_block_R27() -> None:
    state = _secretary_blocked(older=2)
    err = _refused(state, PostKind.SECRETARY, [M[1], M[2]])
    assert err.code == "qualification.age" and err.clause == "R27"
    assert "51 岁" in err.zh and "is 51" in err.en


def test_amended_secretary_list_with_an_unqualified_candidate_warns_under_warn_R27() -> None:
    state = _secretary_blocked(older=2, parameters='qualification_policy = "warn"')
    after = amend_candidates(state, PostKind.SECRETARY, (M[1], M[2]))
    warnings = amended_list_warnings(state, PostKind.SECRETARY, (M[1], M[2]))
    assert [w.code for w in warnings] == ["qualification.age"]
    due = next_round(after)
    assert isinstance(due, RoundSpec) and due.candidates == (M[1], M[2])


def test_amended_list_naming_an_excluded_or_ineligible_member_is_refused_R30() -> None:
    state = _committee_shortfall(exclusions=1, probationary=1)
    excluded, probationary = M[38], M[41]
    assert _refused(state, PostKind.COMMITTEE, [M[4], excluded]).code == "candidate.excluded"
    assert _refused(state, PostKind.COMMITTEE, [M[4], probationary]).code == (
        "candidate.not_eligible"
    )
    unknown = _refused(state, PostKind.COMMITTEE, [M[4], MemberId("M999")])
    assert unknown.code == "candidate.not_on_roster"
    assert _refused(state, PostKind.COMMITTEE, [M[4], M[4]]).code == "candidate.duplicate"
    assert _refused(state, PostKind.COMMITTEE, []).code == "amend.empty"


def test_amended_list_names_nobody_elected_already_nor_outside_the_new_committee_R20() -> None:
    state = _committee_shortfall()
    assert _refused(state, PostKind.COMMITTEE, [M[1], M[4]]).code == "amend.not_eligible"
    blocked = _secretary_blocked()
    err = _refused(blocked, PostKind.SECRETARY, [M[1], M[6]])  # M006 not elected to the committee
    assert err.code == "amend.not_eligible" and err.clause == "R20"


def test_amended_first_round_list_must_meet_the_post_margin_R19() -> None:
    state = _secretary_blocked()
    err = _refused(state, PostKind.SECRETARY, [M[1]])
    assert err.code == "post.margin" and err.clause == "R19"


def test_amended_further_round_list_needs_as_many_candidates_as_open_seats_R16() -> None:
    state = _committee_shortfall()
    err = _refused(state, PostKind.COMMITTEE, [M[4]])
    assert err.code == "amend.too_few" and err.clause == "R16"


def test_amended_list_never_replaces_a_first_round_list_the_manifest_fixes_RS7() -> None:
    state = start(_election(committee_seats=5, committee_candidates=6))
    for kind in (PostKind.COMMITTEE, PostKind.SECRETARY):
        err = _refused(state, kind, [M[1], M[2], M[3], M[4], M[5], M[7]])
        assert err.code == "amend.not_now" and err.clause == "RS7"
    # Nor the secretary's list while its first round can open as it stands.
    done = _vote(state, [30, 29, 28, 27, 26, 10])
    due = next_round(done)
    assert isinstance(due, RoundSpec) and due.post is PostKind.SECRETARY
    assert _refused(done, PostKind.SECRETARY, [M[1], M[3]]).code == "amend.not_now"


def test_amended_list_never_changes_a_pending_runoff_RS7() -> None:
    state = start(_election(committee_seats=5, committee_candidates=6))
    state = _vote(state, [30, 29, 28, 27, 25, 25])  # M005 and M006 tie for the last seat
    due = next_round(state)
    assert isinstance(due, RoundSpec) and due.purpose is RoundPurpose.RUNOFF
    assert _refused(state, PostKind.COMMITTEE, [M[5], M[7]]).code == "amend.not_now"


def test_amended_list_for_a_blocked_round_or_a_further_round_opens_that_round_RS7() -> None:
    blocked = _secretary_blocked()
    after = amend_candidates(blocked, PostKind.SECRETARY, (M[3], M[1]))
    due = next_round(after)
    assert isinstance(due, RoundSpec)
    assert (due.purpose, due.candidates) == (RoundPurpose.FIRST, (M[3], M[1]))
    further = amend_candidates(_committee_shortfall(), PostKind.COMMITTEE, (M[7], M[4], M[8]))
    due = next_round(further)
    assert isinstance(due, RoundSpec)
    assert (due.purpose, due.candidates, due.seats) == (RoundPurpose.FURTHER, (M[7], M[4], M[8]), 2)
