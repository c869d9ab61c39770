"""Invalid ballots entered by decision (spec/rules.md R8.5, RULES A12.7): the core's part."""

from __future__ import annotations

from tally.core.ballots import INVALID_REASONS, Ballot, Mark, judge_ballot
from tally.core.explain import describe_outcome
from tally.core.rounds import RoundInput, RoundSpec, count_round, next_round, start
from tests.helpers.elections import make_election

O, N = Mark.APPROVE, Mark.ABSTAIN


def test_the_three_reasons_are_identifying_marks_unreadable_and_not_official_stock_R8_5() -> None:
    assert set(INVALID_REASONS) == {"identifying_marks", "unreadable", "not_official_stock"}
    assert [zh for zh, _ in INVALID_REASONS.values()] == ["有识别标记", "无法辨认", "非正式选票"]


def test_a_ballot_declared_invalid_gives_no_vote_and_is_invalid_R8_5() -> None:
    election = make_election(full=30, committee_seats=3)
    for reason in INVALID_REASONS:
        v = judge_ballot(
            Ballot(marks=(), invalid_reason=reason),
            candidates=(),
            seats=3,
            params=election.parameters,
            write_in_eligible=lambda _m: True,
        )
        assert (v.valid, v.choices, v.approvals) == (False, 0, ())
        assert v.notes == (f"ballot.invalid.{reason}",)


def test_a_ballot_declared_invalid_counts_as_returned_and_invalid_not_as_bad_shape_R8_5() -> None:
    election = make_election(full=30, committee_seats=3, committee_candidates=4)
    state = start(election)
    spec = next_round(state)
    assert isinstance(spec, RoundSpec)
    ballots = (
        *[Ballot((O, O, O, N))] * 20,
        Ballot(marks=(), invalid_reason="identifying_marks"),
        Ballot(marks=(), invalid_reason="not_official_stock"),
    )
    out = count_round(state, spec, RoundInput(25, 25, 22, ballots))
    assert (out.returned, out.valid_ballots, out.invalid_ballots) == (22, 20, 2)
    text = "\n".join(describe_outcome(out, election, "zh"))
    assert "经监票人确认作为无效票录入（有识别标记）：1" in text
    assert "经监票人确认作为无效票录入（非正式选票）：1" in text
