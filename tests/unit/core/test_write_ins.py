"""Write-ins (另选他人), RULES A12.2: spec/rules.md R8.1, R9.1-R9.3, R9.5, one named test each."""

from __future__ import annotations

from tally.core.ballots import Ballot, BallotVerdict, Mark, WriteIn, judge_ballot
from tally.core.meeting import ballot_from_body
from tally.core.model import MemberId, Parameters, PostKind
from tally.core.rounds import (
    ElectionState,
    RoundInput,
    RoundOutcome,
    RoundSpec,
    apply_outcome,
    count_round,
    next_round,
    start,
)
from tests.helpers.elections import ballots_for, make_election, member_id

O, X, N = Mark.APPROVE, Mark.DISAPPROVE, Mark.ABSTAIN
A, B, C = (MemberId(member_id(i)) for i in (1, 2, 3))
W, Y = MemberId(member_id(10)), MemberId(member_id(11))


def _params(extra: str = "") -> Parameters:
    return make_election(full=30, committee_seats=3, parameters=extra).parameters


def _judge(ballot: Ballot, params: Parameters | None = None) -> BallotVerdict:
    return judge_ballot(
        ballot,
        candidates=(A, B, C),
        seats=3,
        params=params or _params(),
        write_in_eligible={W, Y}.__contains__,
    )


def _w(member: MemberId | None, *, marked: bool = True) -> WriteIn:
    return WriteIn(name=str(member or "无名氏"), member=member, marked=marked)


def test_unmarked_write_in_counts_in_choices_but_gives_no_vote_R8_1_R9_1() -> None:
    assert not _judge(Ballot((O, O, O), (_w(W, marked=False),))).valid
    v = _judge(Ballot((O, O, N), (_w(W, marked=False),)))
    assert (v.valid, v.choices, v.approvals) == (True, 3, (A, B))
    assert "writein.unmarked_ignored" in v.notes


def test_write_ins_beyond_the_disapprovals_count_in_choices_R8_1_R9_1() -> None:
    p = _params("write_in_requires_disapproval = true")
    # One × and two write-ins: both count in 所选人数, so 2 approvals + 2 rows > 3 seats.
    v = _judge(Ballot((O, O, X), (_w(W), _w(Y))), p)
    assert not v.valid and v.choices == 4 and "ballot.overvote" in v.notes


def test_write_ins_beyond_the_disapprovals_give_no_vote_R9_1() -> None:
    p = _params("write_in_requires_disapproval = true")
    v = _judge(Ballot((X, N, N), (_w(W), _w(Y))), p)
    assert (v.valid, v.choices, v.approvals) == (True, 2, (W,))
    assert "writein.without_disapproval" in v.notes


def test_disapproval_limit_is_a_count_not_tied_to_slots_R9_1() -> None:
    p = _params("write_in_requires_disapproval = true")
    # Two × marks anywhere on the ballot allow two write-ins to give votes, in row order.
    v = _judge(Ballot((X, N, X), (_w(W), _w(Y))), p)
    assert v.approvals == (W, Y)
    # A write-in that gives no vote for another reason still uses up its row number.
    v = _judge(Ballot((X, N, N), (_w(None), _w(W))), p)
    assert v.approvals == () and v.choices == 2


def test_same_name_written_twice_gives_one_vote_and_both_rows_count_R9_2() -> None:
    v = _judge(Ballot((O, N, N), (_w(W), _w(W))))
    assert (v.valid, v.choices, v.approvals) == (True, 3, (A, W))
    assert v.notes.count("writein.no_vote") == 1
    assert not _judge(Ballot((O, O, N), (_w(W), _w(W)))).valid


def test_write_in_naming_nobody_gives_no_vote_but_counts_R9_2_R9_3() -> None:
    v = _judge(Ballot((O, O, N), (_w(None),)))
    assert (v.valid, v.choices, v.approvals) == (True, 3, (A, B))
    assert not _judge(Ballot((O, O, O), (_w(None),))).valid


def test_more_write_ins_than_rows_is_one_invalid_ballot_R9_5() -> None:
    v = _judge(Ballot((N, N, N), (_w(W), _w(Y), _w(None), _w(None, marked=False))))
    assert not v.valid and v.approvals == () and "ballot.write_in_rows" in v.notes


def _first_round() -> tuple[ElectionState, RoundSpec]:
    state = start(make_election(full=30, committee_seats=3, committee_candidates=4))
    spec = next_round(state)
    assert isinstance(spec, RoundSpec)
    return state, spec


def _count(state: ElectionState, spec: RoundSpec, ballots: list[Ballot]) -> RoundOutcome:
    return count_round(state, spec, RoundInput(30, 30, len(ballots), tuple(ballots)))


def test_more_write_ins_than_rows_is_counted_as_returned_and_invalid_not_refused_R9_5() -> None:
    state, spec = _first_round()
    four = tuple(_w(MemberId(member_id(i))) for i in (10, 11, 12, 13))
    out = _count(state, spec, [Ballot((N, N, N, N), four), Ballot((O, O, O, N))])
    assert (out.returned, out.valid_ballots, out.invalid_ballots) == (2, 1, 1)
    assert dict(out.ballot_notes)["ballot.write_in_rows"] == 1
    assert all(m not in dict(out.approvals) for m in (w.member for w in four))


def test_ballot_entry_body_with_more_write_ins_than_rows_is_accepted_R9_5() -> None:
    row = {"name": "某", "member": "", "mark": "o"}
    ballot = ballot_from_body({"marks": "----", "write_ins": [row] * 5}, 4)
    assert len(ballot.write_ins) == 5


def test_write_in_of_a_listed_candidate_gives_no_vote_R9_3() -> None:
    state, spec = _first_round()
    out = _count(state, spec, [Ballot((N, N, N, N), (_w(spec.candidates[3]),))])
    assert dict(out.approvals)[spec.candidates[3]] == 0
    assert out.valid_ballots == 1


def test_write_in_of_an_official_gives_no_vote_R9_3() -> None:
    state, spec = _first_round()
    scrutineer, teller = MemberId(member_id(30)), MemberId(member_id(29))
    out = _count(state, spec, [Ballot((N, N, N, N), (_w(scrutineer), _w(teller)))])
    assert scrutineer not in dict(out.approvals) and teller not in dict(out.approvals)
    assert out.valid_ballots == 1 and dict(out.ballot_notes)["writein.no_vote"] == 2


def test_write_in_of_a_non_elector_gives_no_vote_R9_3() -> None:
    state = start(make_election(full=30, probationary=2, committee_seats=3))
    spec = next_round(state)
    assert isinstance(spec, RoundSpec)
    probationary = MemberId(member_id(31))
    out = _count(state, spec, [Ballot((N,) * len(spec.candidates), (_w(probationary),))])
    assert probationary not in dict(out.approvals)


def _after_committee(**kw: object) -> ElectionState:
    """The committee (3 seats, candidates M001-M004) elected: M001, M002, M003."""
    state = start(make_election(full=30, committee_seats=3, committee_candidates=4, **kw))
    spec = next_round(state)
    assert isinstance(spec, RoundSpec)
    out = count_round(
        state, spec, RoundInput(30, 30, 30, tuple(ballots_for([25, 24, 23, 2], 30, 3)))
    )
    assert set(out.elected) == {A, B, C}
    return apply_outcome(state, out)


def test_write_in_of_a_member_already_elected_to_the_post_gives_no_vote_R9_3() -> None:
    state = start(make_election(full=30, committee_seats=3, committee_candidates=4))
    spec = next_round(state)
    assert isinstance(spec, RoundSpec)
    # A elected alone (the others below 16 of E = 30): a further round for 2 seats follows.
    out = count_round(state, spec, RoundInput(30, 30, 30, tuple(ballots_for([20, 9, 8, 7], 30, 3))))
    state = apply_outcome(state, out)
    further = next_round(state)
    assert isinstance(further, RoundSpec) and A not in further.candidates
    res = count_round(
        state, further, RoundInput(30, 30, 1, (Ballot((N,) * len(further.candidates), (_w(A),)),))
    )
    assert A not in dict(res.approvals) and res.valid_ballots == 1


def test_write_in_of_a_non_committee_member_in_a_secretary_round_gives_no_vote_R9_3() -> None:
    state = _after_committee()
    spec = next_round(state)
    assert isinstance(spec, RoundSpec) and spec.post is PostKind.SECRETARY
    outsider, member = MemberId(member_id(12)), C  # C is on the committee, not a candidate
    assert member not in spec.candidates
    blank = (N,) * len(spec.candidates)
    ballots = (Ballot(blank, (_w(outsider),)), Ballot(blank, (_w(member),)))
    out = count_round(state, spec, RoundInput(30, 30, 2, ballots))
    votes = dict(out.approvals)
    assert outsider not in votes and votes[member] == 1


def test_write_in_of_the_elected_secretary_in_a_deputy_round_gives_no_vote_R9_3() -> None:
    deputy = '[[posts]]\npost = "deputy_secretary"\nseats = 1\ncandidates = ["M002", "M003"]\n'
    state = _after_committee(extra=deputy)
    sec = next_round(state)
    assert isinstance(sec, RoundSpec) and sec.post is PostKind.SECRETARY
    sec_out = count_round(state, sec, RoundInput(30, 30, 30, tuple(ballots_for([25, 3], 30, 1))))
    assert sec_out.elected == (A,)
    state = apply_outcome(state, sec_out)
    dep = next_round(state)
    assert isinstance(dep, RoundSpec) and dep.post is PostKind.DEPUTY_SECRETARY
    out = count_round(
        state, dep, RoundInput(30, 30, 1, (Ballot((N,) * len(dep.candidates), (_w(A),)),))
    )
    assert A not in dict(out.approvals) and out.valid_ballots == 1
