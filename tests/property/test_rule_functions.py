"""Properties of the small rule functions of ``tally.core.rules`` (R5 quorum, R18/R19 margin)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from tally.core.model import MarginRule, QuorumComparison
from tally.core.rules import margin_satisfied, passes_threshold, quorum


@settings(max_examples=400, deadline=None)
@given(st.integers(0, 2_000), st.integers(0, 2_000))
def test_quorum_matches_four_fifths(present: int, expected: int) -> None:
    """R5 "Default strict: valid iff 5*P > 4*E. Option GE: valid iff 5*P >= 4*E, with a visible
    warning when 5*P == 4*E." (and no meeting is valid when nobody is expected)."""
    gt = quorum(present, expected, QuorumComparison.GT)
    ge = quorum(present, expected, QuorumComparison.GE)
    assert gt.valid == (5 * present > 4 * expected and expected > 0)
    assert ge.valid == (5 * present >= 4 * expected and expected > 0)
    assert gt.at_equality == ge.at_equality == (5 * present == 4 * expected)
    # The minimum the clerk reads aloud is the smallest count that makes the meeting valid.
    for check, cmp in ((gt, QuorumComparison.GT), (ge, QuorumComparison.GE)):
        if expected > 0:
            m = check.minimum_present
            assert quorum(m, expected, cmp).valid
            assert m == 0 or not quorum(m - 1, expected, cmp).valid


@settings(max_examples=400, deadline=None)
@given(st.integers(0, 60), st.integers(1, 50))
def test_margin_twenty_percent(candidates: int, seats: int) -> None:
    """R18 "Committee members: candidates − seats ≥ 20% of seats, rounded up: 5*(C−S) >= S
    (3 seats → 4 candidates, 5 → 6, 7 → 9)."; R19 uncontested allowed: C >= S."""
    ceil_fifth = (seats + 4) // 5
    assert margin_satisfied(MarginRule.TWENTY_PERCENT, candidates, seats) == (
        candidates >= seats + ceil_fifth
    )
    assert margin_satisfied(MarginRule.NONE, candidates, seats) == (candidates >= seats)


@settings(max_examples=300, deadline=None)
@given(st.integers(0, 5_000), st.integers(0, 5_000))
def test_threshold_is_more_than_half(approvals: int, base: int) -> None:
    """R13 "Threshold: 2*approvals > base ... Exactly half fails." """
    assert passes_threshold(approvals, base) == (approvals > base / 2)
    if base % 2 == 0:
        assert not passes_threshold(base // 2, base)
