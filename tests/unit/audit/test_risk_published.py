"""Kaplan-Markov risk and sample sizes against published values.

Source: VotingWorks Arlo, ``server/tests/audit_math/test_supersimple.py`` (values "From Stark's
tool": ``true_sample_sizes``, ``o1_stopping_size``, ``o2_stopping_size``, ``expected_p_values``;
risk limit 10%), contests A-E with the margins and ballot counts given there.
"""

from __future__ import annotations

import pytest

from verifier.audit.risk import Overstatements, initial_sample_size, kaplan_markov, next_sample_size

ALPHA = 0.1
# contest: (margin in votes, ballots, sample size, o1 stopping size, p none, p one-vote over)
ARLO = {
    "A": (20000, 100000, 27, 38, 0.06507, 0.12534),
    "B": (6000, 60000, 54, 76, 0.06973, 0.13441),
    "C": (5400, 36000, 36, 51, 0.06740, 0.12992),
    "D": (2000, 15000, 40, 57, 0.07048, 0.13585),
    "E": (10000, 10000, 6, 7, 0.01950, 0.03758),
}


@pytest.mark.parametrize("contest", sorted(ARLO))
def test_a7_initial_sample_size_matches_starks_tool(contest: str) -> None:
    margin, n, size, _, _, _ = ARLO[contest]
    assert initial_sample_size(ALPHA, margin, n) == size


@pytest.mark.parametrize("contest", sorted(ARLO))
def test_a7_escalation_after_one_vote_overstatement(contest: str) -> None:
    margin, n, size, o1_stop, _, _ = ARLO[contest]
    assert next_sample_size(ALPHA, margin, n, Overstatements(draws=size, o1=1)) == o1_stop


@pytest.mark.parametrize("contest", ["A", "B", "C", "D"])
def test_a7_two_vote_overstatement_calls_for_full_count(contest: str) -> None:
    margin, n, size, _, _, _ = ARLO[contest]
    assert next_sample_size(ALPHA, margin, n, Overstatements(draws=size, o2=1)) == n


@pytest.mark.parametrize("contest", sorted(ARLO))
def test_a6_kaplan_markov_p_values(contest: str) -> None:
    margin, n, size, _, p0, p1 = ARLO[contest]
    assert kaplan_markov(margin, n, [0] * size) == pytest.approx(p0, abs=1e-3)
    assert kaplan_markov(margin, n, [1] + [0] * (size - 1)) == pytest.approx(p1, abs=1e-3)


def test_a6_two_vote_overstatement_p_values() -> None:
    assert kaplan_markov(20000, 100000, [2] + [0] * 26) == 1.0  # Arlo: 1.0 for contest A
    assert kaplan_markov(10000, 10000, [2] + [0] * 5) == pytest.approx(0.51877, abs=1e-3)


def test_a6_tie_never_confirmed_by_sampling() -> None:
    assert kaplan_markov(0, 100, [0] * 99) == 1.0
    assert initial_sample_size(ALPHA, 0, 100) == 100
