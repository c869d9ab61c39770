"""Kaplan-Markov risk for a ballot-level comparison audit, and sample sizes (spec/audit.md A6, A7).

The method is Stark's "super-simple" ballot-level comparison audit (P. B. Stark, *Super-Simple
Simultaneous Single-Ballot Risk-Limiting Audits*, EVT/WOTE 2010; Lindeman & Stark, *A Gentle
Introduction to Risk-Limiting Audits*, 2012), as Arlo implements it in
``server/audit_math/supersimple.py``: with error inflation ``gamma = 1.03905`` and, for an
assertion whose reported margin is ``M`` votes over ``N`` ballots (diluted margin
``mu = M / N``), the Kaplan-Markov P-value after draws with overstatements ``e_i`` (in votes,
-2..2) is

    P = prod_i (1 - mu / (2 gamma)) / (1 - e_i / (2 gamma)).

Every assertion is tested on the same sample (SHANGRLA); the outcome is confirmed when each
assertion's P-value is at most the risk limit. A margin of zero (a tie) can never be confirmed
by sampling: its risk stays 1 and the audit goes on to a full hand count.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final

__all__ = [
    "GAMMA",
    "Overstatements",
    "initial_sample_size",
    "kaplan_markov",
    "next_sample_size",
]

GAMMA: Final = 1.03905  # Stark's tool, Arlo, Colorado RLA
# Expected discrepancy rates used for the first sample size (Arlo's defaults).
O1_RATE: Final = 0.001
O2_RATE: Final = 0.0001
U1_RATE: Final = 0.001
U2_RATE: Final = 0.0001


@dataclass(frozen=True, slots=True)
class Overstatements:
    """Counts of discrepancies by kind over the draws so far."""

    draws: int
    o1: int = 0
    o2: int = 0
    u1: int = 0
    u2: int = 0


def kaplan_markov(margin: int, ballots: int, errors: Iterable[int]) -> float:
    """The Kaplan-Markov P-value of one assertion, capped at 1.

    Args:
        margin: the reported margin in votes (0 for a tie: risk 1).
        ballots: N, the ballots of the round.
        errors: one overstatement (votes, -2..2) per draw, repeated draws included.
    """
    if margin <= 0 or ballots <= 0:
        return 1.0
    mu = margin / ballots
    p = 1.0
    for e in errors:
        p *= (1 - mu / (2 * GAMMA)) / (1 - e / (2 * GAMMA))
    return min(1.0, p)


def _n_min(alpha: float, mu: float, o1: float, o2: float, u1: float, u2: float) -> int:  # noqa: PLR0917
    n = math.ceil(
        -2
        * GAMMA
        * (
            math.log(alpha)
            + o1 * math.log(1 - 1 / (2 * GAMMA))
            + o2 * math.log(1 - 1 / GAMMA)
            + u1 * math.log(1 + 1 / (2 * GAMMA))
            + u2 * math.log(1 + 1 / GAMMA)
        )
        / mu
    )
    return max(math.ceil(o1 + o2 + u1 + u2), n)


def _size(
    alpha: float, margin: int, ballots: int, *, r1: float, r2: float, s1: float, s2: float
) -> int:
    if margin <= 0:
        return ballots
    mu = margin / ballots
    denom = (
        math.log(1 - mu / (2 * GAMMA))
        - r1 * math.log(1 - 1 / (2 * GAMMA))
        - r2 * math.log(1 - 1 / GAMMA)
        - s1 * math.log(1 + 1 / (2 * GAMMA))
        - s2 * math.log(1 + 1 / GAMMA)
    )
    if denom >= 0:
        return ballots
    n0 = math.ceil(math.log(alpha) / denom)
    o1 = math.ceil(r1 * n0 - 1e-12)
    u1 = math.ceil(s1 * n0 - 1e-12)
    return min(ballots, _n_min(alpha, mu, o1, r2, u1, s2))


def initial_sample_size(alpha: float, margin: int, ballots: int) -> int:
    """Draws for the first stage, expecting Arlo's default discrepancy rates (A7)."""
    return _size(alpha, margin, ballots, r1=O1_RATE, r2=O2_RATE, s1=U1_RATE, s2=U2_RATE)


def next_sample_size(alpha: float, margin: int, ballots: int, seen: Overstatements) -> int:
    """Total draws needed if discrepancies keep their observed rates (escalation, A7)."""
    if seen.draws == 0:
        return initial_sample_size(alpha, margin, ballots)
    d = seen.draws
    return _size(
        alpha, margin, ballots, r1=seen.o1 / d, r2=seen.o2 / d, s1=seen.u1 / d, s2=seen.u2 / d
    )
