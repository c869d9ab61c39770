"""A whole election through start / next_round / count_round / apply_outcome.

Clauses: R5/R6 quorum, R11 void round, R13 threshold, R14 seat filling, R15 ties and runoffs,
R16 shortfall, R18-R21 margins and the secretary from the new committee.
"""

from __future__ import annotations

from collections import defaultdict

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from tally.core.ballots import Ballot, Mark
from tally.core.model import Body, Election, MarginRule, MemberId, PostKind, ThresholdBase
from tally.core.rounds import (
    Blocked,
    ElectingBody,
    ElectionState,
    Finished,
    RoundInput,
    RoundOutcome,
    RoundPurpose,
    RoundSpec,
    RoundStatus,
    apply_outcome,
    count_round,
    next_round,
    start,
)
from tests.property.election_oracle import oracle_round
from tests.property.election_strategies import (
    ballot_stack,
    elections,
    expected_count,
    minimum_present,
    naive_write_in_ok,
    one_in,
    twenty_pct_minimum,
    write_in_targets,
)

MAX_STEPS = 40  # 3 posts x (at most 4 undecided attempts + 1 decisive round), with slack
RANDOM_ATTEMPTS = 4  # after this many attempts on a post, the ballots break every tie


def from_committee(election: Election) -> bool:
    """A7, A12.4: with a committee, the secretary and deputy come from it, whatever the body."""
    return election.has_committee


def direct(election: Election) -> bool:
    return election.has_committee and election.secretary_body is Body.DIRECT


def dropped_at_count(
    election: Election, spec: RoundSpec, elected: dict[PostKind, list[MemberId]]
) -> frozenset[MemberId]:
    """A12.4: listed candidates of a direct election's secretary or deputy ballot who were not
    elected to the committee (or, deputy, were elected secretary) drop out at the count."""
    if spec.post is PostKind.COMMITTEE or not direct(election):
        return frozenset()
    keep = set(standing(election, spec.post, elected))
    return frozenset(c for c in spec.candidates if c not in keep)


def expected_body(
    election: Election, kind: PostKind, elected: dict[PostKind, list[MemberId]]
) -> tuple[ElectingBody, int]:
    """A7: the committee plenary elects the secretary and deputy when so configured (N = the new
    committee); otherwise the assembly (E)."""
    if (
        kind is not PostKind.COMMITTEE
        and election.has_committee
        and election.secretary_body is Body.COMMITTEE
    ):
        return ElectingBody.PLENARY, len(elected[PostKind.COMMITTEE])
    return ElectingBody.ASSEMBLY, expected_count(election)


def standing(
    election: Election, kind: PostKind, elected: dict[PostKind, list[MemberId]]
) -> tuple[MemberId, ...]:
    """Who of the post's list may still stand: not yet elected to it, from the new committee
    (A7), and (deputy) not the secretary."""
    post = election.post(kind)
    assert post is not None
    out = []
    for c in post.candidates:
        if c in elected[kind]:
            continue
        if (
            kind is not PostKind.COMMITTEE
            and from_committee(election)
            and c not in elected[PostKind.COMMITTEE]
        ):
            continue
        if kind is PostKind.DEPUTY_SECRETARY and c in elected[PostKind.SECRETARY]:
            continue
        out.append(c)
    return tuple(out)


def write_in_ok(
    election: Election, spec: RoundSpec, elected: dict[PostKind, list[MemberId]]
) -> frozenset[MemberId]:
    if spec.purpose is RoundPurpose.RUNOFF:
        return frozenset()  # A5: a runoff among the tied candidates only
    ok = set(naive_write_in_ok(election, spec.candidates)) - set(elected[spec.post])
    if spec.post is not PostKind.COMMITTEE and from_committee(election):
        ok &= set(elected[PostKind.COMMITTEE])
    if spec.post is PostKind.DEPUTY_SECRETARY:
        ok -= set(elected[PostKind.SECRETARY])
    return frozenset(ok)


def check_spec(
    election: Election,
    spec: RoundSpec,
    held: list[RoundOutcome],
    elected: dict[PostKind, list[MemberId]],
) -> None:
    """The state machine's invariants for the round that is due."""
    post = election.post(spec.post)
    assert post is not None
    body, expected = expected_body(election, spec.post, elected)
    assert (spec.body, spec.expected) == (body, expected)
    prev = held[-1] if held else None
    if prev is None:
        assert spec.purpose is RoundPurpose.FIRST
        assert spec.number == 1
        assert spec.revote_of is None
        if spec.post is not PostKind.COMMITTEE and direct(election):
            # A12.4: printed and voted with the committee ballots: the whole list
            assert spec.candidates == post.candidates
        else:
            assert spec.candidates == standing(election, spec.post, elected)
        assert spec.seats == post.seats
        assert spec.apply_threshold
        if post.margin is MarginRule.TWENTY_PERCENT:  # R18/R19 on the first round only
            assert len(spec.candidates) >= twenty_pct_minimum(spec.seats)
        return
    assert spec.number == prev.spec.number + 1  # round numbers strictly increase per post
    if prev.status is RoundStatus.VOID:  # R11: voted again, same paper
        assert spec.revote_of == prev.spec.number
        assert spec.candidates == prev.spec.candidates
        assert spec.seats == prev.spec.seats
        assert spec.purpose is prev.spec.purpose
        assert spec.apply_threshold == prev.spec.apply_threshold
    elif prev.tied:  # R15: runoff among exactly the tied, for the seats they straddle
        assert spec.purpose is RoundPurpose.RUNOFF
        assert set(spec.candidates) == set(prev.tied)
        assert len(spec.candidates) == len(prev.tied)
        assert spec.seats == prev.tied_seats
        assert not spec.apply_threshold
    else:  # R16: a further round for the open seats, threshold unchanged
        assert prev.shortfall > 0
        assert spec.purpose is RoundPurpose.FURTHER
        assert spec.seats == post.seats - len(elected[spec.post])
        assert spec.candidates == standing(election, spec.post, elected)
        assert spec.apply_threshold


def draw_inputs(
    data: st.DataObject, election: Election, spec: RoundSpec, attempts: int
) -> RoundInput:
    if spec.body is ElectingBody.PLENARY:
        low = next(p for p in range(spec.expected + 1) if 3 * p > 2 * spec.expected)
    else:
        low = minimum_present(spec.expected, election.parameters.quorum_comparison)
    if attempts >= RANDOM_ATTEMPTS:
        # Decisive: everyone present approves the first `seats` candidates.
        present = data.draw(st.integers(low, spec.expected), label="present")
        k = len(spec.candidates)
        marks = tuple(Mark.APPROVE if i < spec.seats else Mark.ABSTAIN for i in range(k))
        return RoundInput(present, present, present, tuple(Ballot(marks) for _ in range(present)))
    present = data.draw(
        st.integers(low, spec.expected) | st.integers(0, spec.expected), label="present"
    )
    if present < low:
        return RoundInput(present, 0, 0, ())  # R5/R6: no ballots without a quorum
    if data.draw(one_in(8), label="void?"):
        returned = present + data.draw(st.integers(1, 2))
        n = data.draw(st.integers(0, returned))
    else:
        returned = present - data.draw(st.integers(0, min(present, 2)))
        n = returned
    targets = write_in_targets(election, spec.candidates)
    ballots = data.draw(ballot_stack(n, len(spec.candidates), spec.seats, targets))
    return RoundInput(present, present, returned, ballots)


def check_against_oracle(
    election: Election,
    spec: RoundSpec,
    inputs: RoundInput,
    out: RoundOutcome,
    elected: dict[PostKind, list[MemberId]],
) -> None:
    params = election.parameters
    plenary = spec.body is ElectingBody.PLENARY
    if plenary or params.threshold_base is ThresholdBase.EXPECTED:
        base = spec.expected
    else:
        base = inputs.present
    want = oracle_round(
        candidates=spec.candidates,
        seats=spec.seats,
        present=inputs.present,
        expected=spec.expected,
        issued=inputs.issued,
        returned=inputs.returned,
        base=base,
        apply_threshold=spec.apply_threshold,
        params=params,
        ballots=inputs.ballots,
        write_in_ok=write_in_ok(election, spec, elected),
        plenary=plenary,
        dropped=dropped_at_count(election, spec, elected),
    )
    assert out.status.value == want.status
    if want.status == "counted":
        if out.dropped:
            event("direct: a secretary candidate dropped out at the count")
        assert frozenset(out.dropped) == dropped_at_count(election, spec, elected)
        assert dict(out.approvals) == want.approvals
        assert frozenset(out.elected) == want.elected
        assert frozenset(out.tied) == want.tied
        assert (out.tied_seats, out.shortfall) == (want.tied_seats, want.shortfall)
        assert (out.valid_ballots, out.invalid_ballots) == (
            want.valid_ballots,
            want.invalid_ballots,
        )


def check_state(state: ElectionState, elected: dict[PostKind, list[MemberId]]) -> None:
    election = state.election
    for p in state.posts:
        assert list(p.elected) == elected[p.kind]
        assert len(p.elected) == len(set(p.elected))
        assert len(p.elected) <= p.seats
    if from_committee(election):
        for kind in (PostKind.SECRETARY, PostKind.DEPUTY_SECRETARY):
            assert set(elected[kind]) <= set(elected[PostKind.COMMITTEE])
    assert not set(elected[PostKind.SECRETARY]) & set(elected[PostKind.DEPUTY_SECRETARY])


@settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(st.data())
def test_whole_election_state_machine(data: st.DataObject) -> None:
    """R14 "never more elected than seats"; R11 "returned > issued: the round is VOID and is
    voted again"; R15 "a runoff round among the tied candidates only, for the seats still open";
    R16 "Fewer pass than seats: the open seats go to another round ... threshold unchanged; the
    margin rule does not apply to runoffs and further rounds"; A7 "elects the secretary (and
    deputy) from among the newly elected committee members". With ballots that eventually break
    every tie, the election finishes (or stops for a signed amended list) in a bounded number of
    rounds, and each step keeps the state machine's invariants."""
    election = data.draw(
        elections(with_committee=None, with_deputy=data.draw(st.booleans())), label="election"
    )
    state = start(election)
    assert state.expected == expected_count(election)
    elected: dict[PostKind, list[MemberId]] = defaultdict(list)
    held: dict[PostKind, list[RoundOutcome]] = defaultdict(list)
    attempts: dict[PostKind, int] = defaultdict(int)
    for _ in range(MAX_STEPS):
        due = next_round(state)
        if isinstance(due, Finished):
            event("finished")
            assert dict(due.elected) == {p.kind: tuple(elected[p.kind]) for p in state.posts}
            for p in state.posts:
                assert len(elected[p.kind]) == p.seats
            return
        if isinstance(due, Blocked):
            # R20: only a secretary or deputy list thinned by the committee vote can block.
            event("blocked")
            if direct(election) and due.code == "further.too_few_candidates":
                # A12.4: every secretary (deputy) candidate dropped out at the count or was
                # elected to the other post; the further round among the committee members
                # needs a signed candidate set.
                assert due.post is not PostKind.COMMITTEE
                assert held[due.post]
                assert not standing(election, due.post, elected)
                return
            assert due.code == "candidates.amended_list_needed"
            assert due.post is not PostKind.COMMITTEE
            assert not held[due.post]
            post = election.post(due.post)
            assert post is not None
            left = standing(election, due.post, elected)
            need = twenty_pct_minimum(1) if post.margin is MarginRule.TWENTY_PERCENT else 1
            assert len(left) < need
            return
        spec = due
        check_spec(election, spec, held[spec.post], elected)
        inputs = draw_inputs(data, election, spec, attempts[spec.post])
        attempts[spec.post] += 1
        out = count_round(state, spec, inputs)
        check_against_oracle(election, spec, inputs, out, elected)
        state = apply_outcome(state, out)
        event(f"round: {spec.purpose.value}/{out.status.value}")
        if out.tied:
            event("tie")
        if out.status is RoundStatus.QUORUM_FAILED:
            # The same round stays due and its number is not used.
            assert next_round(state) == spec
        else:
            held[spec.post].append(out)
            elected[spec.post].extend(out.elected)
        check_state(state, elected)
    raise AssertionError(f"no end after {MAX_STEPS} steps")
