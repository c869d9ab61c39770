"""The count with remote totals (spec/remote-v2.md RV-7.1, RV-2.4; spec/rules.md R9.3).

A post's remote totals enter its first counted round like that many valid paper ballots: listed
candidates' totals add to their approvals, a written-in person's total gives approvals only if the
person is write-in-eligible in the round, else no vote (``writein.no_vote``, once per approval).
The property tests compare with the paper rule itself: each remote ballot judged as a paper ballot
(approvals ``o``, the rest ``-`` or ``x``, write-ins naming the persons) by ``judge_ballot``."""

from __future__ import annotations

import hashlib
from collections import Counter
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tally.core.ballots import Ballot, Mark, WriteIn
from tally.core.errors import RoundStateError
from tally.core.meeting import (
    Meeting,
    apply_entry,
    count_current,
    counted_body,
    make_entry,
    opened_body,
)
from tally.core.model import Election, MemberId, PostKind
from tally.core.remote import RemoteTotals, post_choices, write_in_lists
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
from tests.helpers.remote_v2 import (
    do,
    election,
    opened_and_closed,
    partial,
    totals_body,
)

SCRUTINEER, TELLER = MemberId("M012"), MemberId("M011")  # definition_text with full=12


def _first(e: Election) -> tuple[ElectionState, RoundSpec]:
    state = start(e)
    spec = next_round(state)
    assert isinstance(spec, RoundSpec)
    return state, spec


def _count(
    state: ElectionState,
    spec: RoundSpec,
    *,
    totals: RemoteTotals | None = None,
    remote: tuple[Ballot, ...] = (),
    paper: tuple[Ballot, ...] | None = None,
) -> RoundOutcome:
    n = spec.expected
    ballots = (
        paper
        if paper is not None
        else tuple(Ballot(marks=(Mark.ABSTAIN,) * len(spec.candidates)) for _ in range(n))
    )
    return count_round(
        state,
        spec,
        RoundInput(n, n, n, ballots, remote=remote, remote_totals=totals),
    )


def _totals(e: Election, post: PostKind, ballots: int, counts: dict[str, int]) -> RemoteTotals:
    members = dict(post_choices(e))[post]
    assert set(counts) <= set(members)
    return RemoteTotals(ballots, tuple((m, counts.get(m, 0)) for m in members))


def test_listed_candidates_totals_add_to_their_approvals_RV_7_1() -> None:
    e = election()
    state, spec = _first(e)
    plain = _count(state, spec)
    out = _count(state, spec, totals=_totals(e, spec.post, 3, {"M001": 3, "M003": 1}))
    assert dict(out.approvals)["M001"] == dict(plain.approvals)["M001"] + 3
    assert dict(out.approvals)["M003"] == dict(plain.approvals)["M003"] + 1
    assert out.valid_ballots == plain.valid_ballots + 3  # a remote ballot is never invalid
    assert out.invalid_ballots == plain.invalid_ballots
    assert out.remote_ballots == 3


def test_remote_ballots_raise_the_threshold_base_like_paper_ballots_RV_7_1() -> None:
    e = election()
    state, spec = _first(e)
    out = _count(state, spec, totals=_totals(e, spec.post, 2, {"M001": 2}))
    ref = _count(
        state,
        spec,
        remote=(Ballot(marks=(Mark.APPROVE, Mark.ABSTAIN, Mark.ABSTAIN, Mark.ABSTAIN)),) * 2,
    )
    assert (out.base, out.minimum_to_pass, out.passed) == (
        ref.base,
        ref.minimum_to_pass,
        ref.passed,
    )


def test_a_write_in_total_of_an_eligible_person_gives_that_many_approvals_RV_7_1() -> None:
    e = election()
    state, spec = _first(e)
    out = _count(state, spec, totals=_totals(e, spec.post, 2, {"M008": 2}))
    assert dict(out.approvals)[MemberId("M008")] == 2
    assert "writein.no_vote" not in dict(out.ballot_notes)


def test_a_write_in_total_of_an_official_gives_no_vote_and_is_noted_by_number_RV_2_4() -> None:
    e = election()
    state, spec = _first(e)
    assert SCRUTINEER in dict(write_in_lists(e))[spec.post]  # on the list, not eligible (R9.3)
    out = _count(state, spec, totals=_totals(e, spec.post, 3, {SCRUTINEER: 3, TELLER: 1}))
    assert SCRUTINEER not in dict(out.approvals) and TELLER not in dict(out.approvals)
    assert dict(out.ballot_notes)["writein.no_vote"] == 4
    assert out.valid_ballots == spec.expected + 3  # the ballots stay valid


def test_a_zero_write_in_total_adds_no_row_to_the_approvals() -> None:
    e = election()
    state, spec = _first(e)
    out = _count(state, spec, totals=_totals(e, spec.post, 1, {}))
    assert [m for m, _ in out.approvals] == list(spec.candidates)
    assert out.remote_ballots == 1 and out.valid_ballots == spec.expected + 1


def test_in_a_secretary_round_from_the_committee_a_non_committee_write_in_gives_no_vote_R9_3() -> (
    None
):
    e = election(secretary_body="assembly")
    state, spec = _first(e)
    paper = tuple(
        Ballot(marks=(Mark.APPROVE, Mark.APPROVE, Mark.APPROVE, Mark.ABSTAIN))
        for _ in range(spec.expected)
    )
    outcome = _count(state, spec, paper=paper)
    state = apply_outcome(state, outcome)
    sec = next_round(state)
    assert isinstance(sec, RoundSpec) and sec.post is PostKind.SECRETARY
    assert sec.candidates == ("M001", "M002")
    # M003 is a newly elected committee member; M008 is not.
    chosen = ({"M003"}, {"M008"}, {"M008"})  # one seat: one approval per ballot
    totals = _totals(e, PostKind.SECRETARY, 3, {"M003": 1, "M008": 2})
    out = _count(state, sec, totals=totals)
    ref = _count(state, sec, remote=tuple(_as_paper(e, PostKind.SECRETARY, sec, s) for s in chosen))
    assert out == ref
    assert dict(out.approvals) == {"M001": 0, "M002": 0, "M003": 1}
    assert dict(out.ballot_notes)["writein.no_vote"] == 2  # M008 is not on the committee


# -- the meeting: count.remote_pending, where totals count ---------------------------------------

PAPER = tuple(f"M{i:03d}" for i in range(1, 13) if i not in (4, 5))


def _round(m: Meeting, marks: list[str]) -> Meeting:
    """Open the due round, issue, return, enter ``marks``."""
    due = m.due()
    assert isinstance(due, RoundSpec)
    key = {"post": due.post.value, "round": due.number}
    ids = [
        hashlib.sha256(f"{due.post}{due.number}{i}".encode()).hexdigest()[:32]
        for i in range(len(marks))
    ]
    m = apply_entry(
        m,
        make_entry(
            m,
            "stock.committed",
            {**key, "count": len(ids), "commitment": "0" * 64},
            at=m.last_at,
            actor="",
            salt=bytes(32),
        ),
        stock_ids=frozenset(ids),
    )
    m = do(m, "round.opened", opened_body(due, len(m.present), ()))
    m = do(m, "ballots.issued", {**key, "count": len(marks)})
    m = do(m, "ballots.returned", {**key, "count": len(marks)})
    for bid, text in zip(ids, marks, strict=True):
        m = do(
            m, "ballot.entered", {**key, "ballot_id": bid, "qr": "", "marks": text, "write_ins": []}
        )
    return m


def _checked_in(m: Meeting) -> Meeting:
    for x in PAPER:
        m = do(m, "member.checked_in", {"member": x})
    return m


def test_a_round_where_remote_counts_cannot_be_counted_before_the_totals_RV_5_3() -> None:
    e = election()
    m = _checked_in(opened_and_closed(e, ("M004", "M005")))
    m = _round(m, ["ooo-"] * len(PAPER))
    with pytest.raises(RoundStateError) as err:
        count_current(m)
    assert err.value.code == "count.remote_pending" and err.value.zh and err.value.en


def _with_totals(e: Election, committee: dict[str, int], secretary: dict[str, int]) -> Meeting:
    m = opened_and_closed(e, ("M004", "M005"))
    m = do(m, "remote.partial_decryption", partial(e, 1))
    m = do(m, "remote.partial_decryption", partial(e, 2))
    per = {}
    for kind, members in post_choices(e):
        counts = committee if kind is PostKind.COMMITTEE else secretary
        per[kind.value] = [counts.get(x, 0) for x in members]
    return do(m, "remote.totals", totals_body(e, 2, per))


def test_the_first_round_counts_the_remote_totals_and_records_remote_ballots_RV_7_1() -> None:
    e = election()
    m = _checked_in(_with_totals(e, {"M001": 2, "M004": 1, "M008": 1}, {"M002": 2}))
    m = _round(m, ["ooo-"] * len(PAPER))
    out = count_current(m)
    assert out.remote_ballots == 2 and out.valid_ballots == len(PAPER) + 2
    got = dict(out.approvals)
    assert (got["M001"], got["M002"], got["M004"], got["M008"]) == (
        len(PAPER) + 2,
        len(PAPER),
        1,
        1,
    )
    body = counted_body(out, remote=True)
    assert body["remote_ballots"] == 2
    m = do(m, "round.counted", body)
    assert m.remote is not None and PostKind.COMMITTEE in m.remote.counted
    # The secretary's first round counts the secretary's totals, once.
    m = _round(m, ["-o"] * len(PAPER))
    sec = count_current(m)
    assert sec.remote_ballots == 2 and dict(sec.approvals)["M002"] == len(PAPER) + 2


def test_without_casts_remote_counts_nowhere_and_no_totals_are_needed_V18_23() -> None:
    e = election()
    m = _checked_in(opened_and_closed(e, ()))
    m = _round(m, ["ooo-"] * len(PAPER))
    out = count_current(m)
    assert out.remote_ballots == 0 and out.valid_ballots == len(PAPER)


# -- the oracle: remote totals count as the same choices on paper --------------------------------


def _as_paper(
    e: Election, post: PostKind, spec: RoundSpec, approved: set[str], room: int = 0
) -> Ballot:
    """A remote ballot's choices as a paper ballot: ``o`` for an approved listed candidate, ``x``
    for as many others as its write-ins (RV-3.4 proves the ballot has that many), ``-`` for the
    rest; one marked write-in row per written-in person, naming that member."""
    listed = spec.candidates
    writes = [m for m in dict(post_choices(e))[post][len(listed) :] if m in approved]
    crosses = len(writes) + room
    marks = []
    for c in listed:
        if c in approved:
            marks.append(Mark.APPROVE)
        elif crosses:
            marks.append(Mark.DISAPPROVE)
            crosses -= 1
        else:
            marks.append(Mark.ABSTAIN)
    names = {x.id: x.name for x in e.members}
    return Ballot(marks=tuple(marks), write_ins=tuple(WriteIn(names[m], m, True) for m in writes))


def _totals_of(e: Election, post: PostKind, chosen: list[set[str]]) -> RemoteTotals:
    members = dict(post_choices(e))[post]
    counts = Counter(m for s in chosen for m in s)
    return RemoteTotals(len(chosen), tuple((m, counts.get(m, 0)) for m in members))


@st.composite
def _case(draw: Any, *, eligible_only: bool) -> tuple[Election, list[set[str]], list[str]]:
    full = draw(st.integers(6, 16))
    seats = draw(st.integers(1, min(5, full - 4)))
    disapproval = draw(st.booleans())
    e = election(
        approved=("M003",),
        full=full,
        committee_seats=seats,
        parameters=f"write_in_requires_disapproval = {'true' if disapproval else 'false'}",
    )
    _state, spec = _first(e)
    choices = list(dict(post_choices(e))[spec.post])
    officials = {f"M{full:03d}", f"M{full - 1:03d}"}
    if eligible_only:
        choices = [c for c in choices if c not in officials]
    n = draw(st.integers(0, 8))
    chosen = [
        set(draw(st.lists(st.sampled_from(choices), max_size=seats, unique=True))) for _ in range(n)
    ]
    paper = [
        draw(st.text("ox-", min_size=len(spec.candidates), max_size=len(spec.candidates)))
        for _ in range(spec.expected)
    ]
    return e, chosen, paper


def _both(
    e: Election, chosen: list[set[str]], paper: list[str]
) -> tuple[RoundOutcome, RoundOutcome]:
    state, spec = _first(e)
    ballots = tuple(Ballot(marks=tuple(Mark(c) for c in p)) for p in paper)
    by_totals = _count(state, spec, paper=ballots, totals=_totals_of(e, spec.post, chosen))
    as_paper = _count(
        state, spec, paper=ballots, remote=tuple(_as_paper(e, spec.post, spec, s) for s in chosen)
    )
    return by_totals, as_paper


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_case(eligible_only=True))
def test_remote_totals_count_as_the_same_choices_on_paper_when_every_write_in_is_eligible_RV_7_1(
    case: tuple[Election, list[set[str]], list[str]],
) -> None:
    e, chosen, paper = case
    by_totals, as_paper = _both(e, chosen, paper)
    assert by_totals == as_paper
    _state, spec = _first(e)
    written = sum(1 for s in chosen for m in s if m not in spec.candidates)
    got = sum(v for m, v in by_totals.approvals if m not in spec.candidates)
    assert got == written  # every written-in person is eligible: every write-in is a vote


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_case(eligible_only=False))
def test_remote_totals_count_as_the_same_choices_on_paper_with_officials_written_in_RV_2_4(
    case: tuple[Election, list[set[str]], list[str]],
) -> None:
    e, chosen, paper = case
    by_totals, as_paper = _both(e, chosen, paper)
    assert by_totals == as_paper


def test_an_official_written_in_gets_no_vote_on_both_counts_RV_2_4() -> None:
    e = election()
    chosen = [{"M001", SCRUTINEER}, {SCRUTINEER}, {"M008"}]
    _state, spec = _first(e)
    paper = ["----"] * spec.expected
    by_totals, as_paper = _both(e, chosen, paper)
    assert by_totals == as_paper
    assert SCRUTINEER not in dict(by_totals.approvals)
    assert dict(by_totals.ballot_notes)["writein.no_vote"] == 2
    assert dict(by_totals.approvals)["M008"] == 1
