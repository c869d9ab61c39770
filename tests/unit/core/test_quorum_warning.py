"""The quorum equality warning (spec/rules.md R5.1, RULES A12.5): shown under GT and GE alike."""

from __future__ import annotations

import pytest

from tally.core.explain import describe_outcome, describe_quorum
from tally.core.model import QuorumComparison
from tally.core.rounds import RoundInput, RoundSpec, RoundStatus, count_round, next_round, start
from tally.core.rules import quorum
from tests.helpers.elections import make_election

GT, GE = QuorumComparison.GT, QuorumComparison.GE


@pytest.mark.parametrize("comparison", [GT, GE])
def test_equality_flag_is_raised_under_GT_and_GE_alike_R5_1(comparison: QuorumComparison) -> None:
    assert quorum(40, 50, comparison).at_equality
    assert not quorum(41, 50, comparison).at_equality
    assert not quorum(39, 50, comparison).at_equality


def test_equality_warning_under_GT_says_exactly_four_fifths_is_not_a_quorum_R5_1() -> None:
    q = quorum(40, 50, GT)
    assert not q.valid
    assert "恰为五分之四不足法定人数" in describe_quorum(q, "zh")
    assert "exactly four fifths is not a quorum" in describe_quorum(q, "en")


def test_equality_warning_under_GE_says_exactly_four_fifths_is_a_quorum_R5_1() -> None:
    q = quorum(40, 50, GE)
    assert q.valid
    zh, en = describe_quorum(q, "zh"), describe_quorum(q, "en")
    assert "恰为应到的五分之四" in zh and "会议有效" in zh.split("注意")[1]
    assert "exactly four fifths present" in en and "the meeting is valid" in en


@pytest.mark.parametrize("comparison", [GT, GE])
def test_no_equality_warning_off_the_four_fifths_boundary_R5_1(
    comparison: QuorumComparison,
) -> None:
    for present in (39, 41):
        q = quorum(present, 50, comparison)
        assert "注意" not in describe_quorum(q, "zh")
        assert "Warning" not in describe_quorum(q, "en")


@pytest.mark.parametrize(("comparison", "status"), [(GT, RoundStatus.QUORUM_FAILED), (GE, None)])
def test_round_at_exactly_four_fifths_reports_the_warning_R5_1(
    comparison: QuorumComparison, status: RoundStatus | None
) -> None:
    # 30 full members, the last two officials: E = 30 - 0 exclusions; 24 present is 5P == 4E.
    election = make_election(full=30, parameters=f'quorum_comparison = "{comparison.value}"')
    state = start(election)
    spec = next_round(state)
    assert isinstance(spec, RoundSpec) and spec.expected == 30
    issued = 0 if comparison is GT else 24
    out = count_round(state, spec, RoundInput(24, issued, 0, ()))
    assert out.quorum.at_equality
    if status is not None:
        assert out.status is status
    lines = describe_outcome(out, election, "zh")
    assert any("注意：实到人数恰为应到的五分之四" in line for line in lines)
