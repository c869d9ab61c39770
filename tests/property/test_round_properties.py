"""Properties of counting one round (``tally.core.rounds.count_round``) against a naive oracle.

Clauses (RULES.md Part A; numbered R5..R16 in tally/core/rules.py and rounds.py): R5 quorum,
R8 over-vote, R11 void round, R13 threshold, R14 seat filling, R15 ties and runoffs, R16 shortfall.
"""

from __future__ import annotations

from dataclasses import replace

from hypothesis import HealthCheck, assume, event, given, settings
from hypothesis import strategies as st

from tally.core.ballots import Ballot, Mark
from tally.core.rounds import RoundOutcome, RoundStatus, apply_outcome, count_round
from tests.property.election_oracle import OracleRound, oracle_ballot, oracle_round
from tests.property.election_strategies import RoundCase, round_cases

SETTINGS = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.filter_too_much,
    ],
)


def run(case: RoundCase) -> RoundOutcome:
    return count_round(case.state, case.spec, case.inputs)


def oracle(case: RoundCase, ballots: tuple[Ballot, ...] | None = None) -> OracleRound:
    return oracle_round(
        candidates=case.spec.candidates,
        seats=case.spec.seats,
        present=case.inputs.present,
        expected=case.spec.expected,
        issued=case.inputs.issued,
        returned=case.inputs.returned,
        base=case.base,
        apply_threshold=case.spec.apply_threshold,
        params=case.election.parameters,
        ballots=case.inputs.ballots if ballots is None else ballots,
        write_in_ok=case.write_in_ok,
    )


def summary(out: RoundOutcome) -> tuple[object, ...]:
    """What a round decides, as sets (display order aside)."""
    return (
        out.status,
        out.valid_ballots,
        out.invalid_ballots,
        dict(out.approvals),
        frozenset(out.passed),
        frozenset(out.elected),
        frozenset(out.tied),
        out.tied_seats,
        out.shortfall,
    )


@settings(SETTINGS, max_examples=300)
@given(round_cases(quorate=False, allow_void=True))
def test_count_round_agrees_with_oracle(case: RoundCase) -> None:
    """R5 "valid iff 5*P > 4*E (GE: 5*P >= 4*E)"; R8 "所选人数 > seats: invalid as a whole";
    R11 "returned > issued: the round is VOID"; R13 "2*approvals > base"; R14 "ranked by approvals
    and fill the seats in that order"; R15 "a tie that straddles the last seat(s): a runoff";
    R16 "fewer pass than seats: the open seats go to another round"."""
    out = run(case)
    want = oracle(case)
    event(f"status={want.status}")
    event(f"runoff={not case.spec.apply_threshold}")
    if want.status == "counted":
        event(f"elected>0={bool(want.elected)}")
        event(f"tied={bool(want.tied)} threshold={case.spec.apply_threshold}")
        event(f"shortfall={want.shortfall > 0}")
        event(f"invalid>0={want.invalid_ballots > 0}")
        event(f"write-in votes={len(want.approvals) > len(case.spec.candidates)}")
        event(f"write-in elected={bool(want.elected - set(case.spec.candidates))}")
    assert out.status.value == want.status
    if want.status != "counted":
        assert (out.elected, out.tied, out.tied_seats, out.shortfall) == ((), (), 0, 0)
        return
    assert out.valid_ballots == want.valid_ballots
    assert out.invalid_ballots == want.invalid_ballots
    assert dict(out.approvals) == want.approvals
    assert frozenset(out.passed) == want.passed
    assert frozenset(out.elected) == want.elected
    assert len(out.elected) == len(set(out.elected))
    assert frozenset(out.tied) == want.tied
    assert out.tied_seats == want.tied_seats
    assert out.shortfall == want.shortfall
    expected_base = case.base if case.spec.apply_threshold else 0
    assert out.base == expected_base


@SETTINGS
@given(round_cases(allow_void=True), st.data())
def test_ballot_order_does_not_matter(case: RoundCase, data: st.DataObject) -> None:
    """R14 "Candidates who pass are ranked by approvals": the count depends on the ballots, never
    on the order in which they were read."""
    shuffled = data.draw(st.permutations(case.inputs.ballots))
    other = replace(case, inputs=replace(case.inputs, ballots=tuple(shuffled)))
    assert run(other) == run(case)


@settings(SETTINGS, max_examples=60)
@given(round_cases(runoff=None), st.data())
def test_more_approval_never_unelects(case: RoundCase, data: st.DataObject) -> None:
    """R13/R14 "2*approvals > base ... ranked by approvals": turning one abstain or disapprove
    mark into approve for an elected candidate (without creating an over-vote) keeps them
    elected."""
    out = run(case)
    listed = [m for m in out.elected if m in case.spec.candidates]
    assume(listed)
    who = data.draw(st.sampled_from(listed))
    col = case.spec.candidates.index(who)
    params = case.election.parameters

    def bumped(b: Ballot) -> Ballot:
        marks = list(b.marks)
        marks[col] = Mark.APPROVE
        return replace(b, marks=tuple(marks))

    spots = [
        i
        for i, b in enumerate(case.inputs.ballots)
        if b.marks[col] in (Mark.ABSTAIN, Mark.DISAPPROVE)
        and oracle_ballot(
            bumped(b), case.spec.candidates, case.spec.seats, params, case.write_in_ok
        ).valid
    ]
    assume(spots)
    i = data.draw(st.sampled_from(spots))
    ballots = list(case.inputs.ballots)
    ballots[i] = bumped(ballots[i])
    after = run(replace(case, inputs=replace(case.inputs, ballots=tuple(ballots))))
    assert dict(after.approvals)[who] == dict(out.approvals)[who] + 1
    assert who in after.elected


@SETTINGS
@given(round_cases(runoff=False))
def test_nobody_below_threshold_is_elected(case: RoundCase) -> None:
    """R13 "Threshold: 2*approvals > base, base = E under R2020, P under R1990. Exactly half
    fails." Nobody elected or sent to a runoff in a threshold round falls short of it."""
    out = run(case)
    assert out.status is RoundStatus.COUNTED
    votes = dict(out.approvals)
    assert out.base == case.base
    for m in (*out.elected, *out.tied):
        assert 2 * votes[m] > case.base
    assert out.minimum_to_pass == min(v for v in range(case.base + 2) if 2 * v > case.base)


@SETTINGS
@given(round_cases(runoff=None))
def test_seats_are_accounted_for(case: RoundCase) -> None:
    """R14-R16: never more elected than seats; every open seat is filled, tied for (runoff) or
    short (another round): elected + tied_seats + shortfall == seats."""
    out = run(case)
    seats = case.spec.seats
    assert len(out.elected) <= seats
    assert len(out.elected) + out.tied_seats + out.shortfall == seats
    assert out.shortfall >= 0
    if out.tied:
        assert 0 < out.tied_seats < len(out.tied)
        assert out.shortfall == 0
    else:
        assert out.tied_seats == 0


@SETTINGS
@given(round_cases(runoff=False), st.data())
def test_exactly_half_never_passes(case: RoundCase, data: st.DataObject) -> None:
    """R13 "A candidate passes iff 2*approvals > base ... Exactly half fails." A candidate given
    exactly base/2 approvals is not elected; one more approval makes them pass."""
    base = case.base
    assume(base % 2 == 0 and 0 < base // 2 <= case.inputs.returned)
    col = data.draw(st.integers(0, len(case.spec.candidates) - 1))
    who = case.spec.candidates[col]
    half = base // 2

    def with_mark(b: Ballot, mark: Mark) -> Ballot:
        # Keep disapprovals and abstentions; no other approval, no unreadable mark, no write-in.
        marks = [Mark.DISAPPROVE if m is Mark.DISAPPROVE else Mark.ABSTAIN for m in b.marks]
        marks[col] = mark
        return Ballot(marks=tuple(marks), write_ins=())

    def stack(k: int) -> tuple[Ballot, ...]:
        bs = case.inputs.ballots
        return tuple(with_mark(b, Mark.APPROVE) for b in bs[:k]) + tuple(
            with_mark(b, Mark.DISAPPROVE) for b in bs[k:]
        )

    at_half = run(replace(case, inputs=replace(case.inputs, ballots=stack(half))))
    assert dict(at_half.approvals)[who] == half
    assert who not in at_half.passed
    assert who not in at_half.elected
    assert who not in at_half.tied
    assume(half + 1 <= case.inputs.returned)
    above = run(replace(case, inputs=replace(case.inputs, ballots=stack(half + 1))))
    assert who in above.passed
    assert who in above.elected  # the only candidate with any approval


@SETTINGS
@given(round_cases(runoff=None), st.data())
def test_ties_never_resolved_by_input_order(case: RoundCase, data: st.DataObject) -> None:
    """R15 "A tie that straddles the last seat(s): a runoff round among the tied candidates only
    ... Nobody is elected by lot." Permuting the ballot order of candidates (and their marks)
    leaves the elected and tied sets unchanged, and no tied candidate is elected."""
    out = run(case)
    n = len(case.spec.candidates)
    perm = data.draw(st.permutations(range(n)))
    spec2 = replace(case.spec, candidates=tuple(case.spec.candidates[i] for i in perm))
    ballots2 = tuple(replace(b, marks=tuple(b.marks[i] for i in perm)) for b in case.inputs.ballots)
    out2 = count_round(case.state, spec2, replace(case.inputs, ballots=ballots2))
    assert summary(out2) == summary(out)

    votes = dict(out.approvals)
    assert not set(out.tied) & set(out.elected)
    if out.tied:
        level = {votes[m] for m in out.tied}
        assert len(level) == 1
        assert all(votes[m] > next(iter(level)) for m in out.elected)
        assert len(out.tied) > out.tied_seats


@SETTINGS
@given(round_cases(runoff=False, allow_void=True))
def test_void_round_is_voted_again(case: RoundCase) -> None:
    """R11 "returned > issued: the round is VOID and is voted again (a new round, new ballot
    stock)": the re-vote has the same candidates and seats and the next number."""
    out = run(case)
    if case.inputs.returned <= case.inputs.issued:
        assert out.status is RoundStatus.COUNTED
        return
    assert out.status is RoundStatus.VOID
    after = apply_outcome(case.state, out)
    pending = after.post(case.spec.post).pending
    assert pending is not None
    assert pending.candidates == case.spec.candidates
    assert pending.seats == case.spec.seats
    assert pending.number == case.spec.number + 1
    assert pending.revote_of == case.spec.number
    assert after.post(case.spec.post).elected == ()
