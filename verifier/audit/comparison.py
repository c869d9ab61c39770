"""Risk-limiting ballot-comparison audit of one round (spec/audit.md A4, A6, A7).

The seed is the dice rolls (at least 20 decimal digits). Draws come from Rivest's consistent
sampler *with replacement* over the round's ballot ids. Each assertion of the reported outcome is
tested with the Kaplan-Markov P-value; the audit stops when every assertion's risk is at most the
risk limit, and otherwise escalates to the sample size the observed discrepancies call for, up to
a full hand count. A ballot that cannot be found is a 2-vote overstatement for every assertion;
so is a ballot whose paper gives an approval to someone the outcome does not name.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Final

from verifier import rules
from verifier.audit import risk
from verifier.audit.election import AuditedElection, BallotRecord, RoundInfo, WriteIn
from verifier.audit.errors import AuditInputError, AuditSeedError
from verifier.audit.marks import check_marks
from verifier.audit.sampler import sample

__all__ = [
    "MIN_SEED_DIGITS",
    "Assertion",
    "ComparisonAudit",
    "Reading",
    "assertions_for",
    "parse_seed",
    "run_comparison",
]

MIN_SEED_DIGITS: Final = 20
MAX_STAGES: Final = 64


@dataclass(frozen=True, slots=True)
class Assertion:
    """One claim of the reported outcome (A6).

    ``pass``: ``2 v(a) > base``; ``fail``: ``2 v(a) <= base``; ``pair``: ``v(a) > v(b)``;
    ``tie``: ``v(a) == v(b)`` (margin 0: only a full hand count confirms it).
    """

    kind: str
    a: str
    b: str
    margin: int

    @property
    def name(self) -> str:
        return f"{self.kind}:{self.a}" + (
            f">{self.b}" if self.kind == "pair" else f"={self.b}" if self.b else ""
        )

    def contribution(self, approvals: frozenset[str]) -> int:
        if self.kind == "pass":
            return int(self.a in approvals)
        if self.kind == "fail":
            return -int(self.a in approvals)
        if self.kind == "pair":
            return int(self.a in approvals) - int(self.b in approvals)
        return 0


@dataclass(frozen=True, slots=True)
class Reading:
    """A sampled ballot as the auditors found it (``found`` False: could not be found)."""

    ballot_id: str
    found: bool
    marks: str = ""
    write_ins: tuple[WriteIn, ...] = ()


@dataclass(frozen=True, slots=True)
class ComparisonAudit:
    """The audit's state after using every reading available.

    ``status``: ``confirmed`` (risk <= limit), ``more_ballots`` (``needed`` lists the ballots to
    fetch next), ``full_count_confirmed`` or ``full_count_differs`` (every ballot read).
    """

    post: str
    round: int
    seed: str
    risk_limit: int
    ballots: int
    assertions: tuple[Assertion, ...]
    draws: tuple[str, ...]
    stages: tuple[int, ...]
    overstatements: tuple[
        tuple[str, int], ...
    ]  # (ballot id, worst overstatement) per distinct ballot with one
    risks: tuple[tuple[str, float], ...]  # per assertion
    trajectory: tuple[float, ...]  # overall risk after each draw
    risk: float
    status: str
    needed: tuple[str, ...]
    paper_count: rules.RoundCount | None


def parse_seed(text: str) -> str:
    """The dice digits, spaces removed (A4).

    Raises:
        AuditSeedError: other characters, or fewer than 20 digits.
    """
    digits = re.sub(r"[\s,]", "", text)
    if digits and (not digits.isascii() or not digits.isdigit()):
        raise AuditSeedError(
            clause="A4",
            code="audit.seed_not_digits",
            zh="随机种子只能由掷骰得到的数字组成",
            en="the seed must be the dice digits only",
        )
    if len(digits) < MIN_SEED_DIGITS:
        raise AuditSeedError(
            clause="A4",
            code="audit.seed_too_short",
            zh=f"随机种子只有 {len(digits)} 位数字，至少需要 {MIN_SEED_DIGITS} 位（请当众掷骰）",
            en=f"the seed has {len(digits)} digits; at least {MIN_SEED_DIGITS} dice digits needed",
        )
    return digits


def assertions_for(rnd: RoundInfo) -> tuple[Assertion, ...]:
    """The assertions that together imply the reported outcome of the round (A6)."""
    votes = dict(rnd.approvals)
    half = rnd.base // 2
    elected, tied = list(rnd.elected), list(rnd.tied)
    others = [m for m, _ in rnd.approvals if m not in elected and m not in tied]
    out: list[Assertion] = []
    if not rnd.runoff:
        out += [Assertion("pass", w, "", votes[w] - half) for w in elected + tied]
    if rnd.shortfall and not rnd.runoff:
        out += [Assertion("fail", m, "", half - votes[m] + 1) for m in others]
    else:
        out += [
            Assertion("pair", w, m, votes[w] - votes[m]) for w in elected for m in tied + others
        ]
        out += [Assertion("pair", t, m, votes[t] - votes[m]) for t in tied for m in others]
    out += [Assertion("tie", t, u, 0) for t, u in itertools.pairwise(tied)]
    return tuple(out)


def _overstatement(
    election: AuditedElection, rnd: RoundInfo, rec: BallotRecord, r: Reading, a: Sequence[Assertion]
) -> list[int]:
    if not r.found:
        return [2] * len(a)
    reported = frozenset(election.judge_record(rnd, rec).approvals)
    # A ballot declared invalid by a confirmed decision (R8.5) stays invalid on paper too.
    audited = (
        reported
        if rec.invalid_reason
        else frozenset(election.judge(rnd, r.marks, r.write_ins).approvals)
    )
    named = {x.a for x in a} | {x.b for x in a}
    if audited - named - reported:
        return [2] * len(a)
    return [x.contribution(reported) - x.contribution(audited) for x in a]


class _Run:
    """The mutable working state of one run (private; the result is a frozen value)."""

    def __init__(self, rnd: RoundInfo, seed: str, risk_limit: int, n: int) -> None:
        self.rnd, self.seed, self.risk_limit, self.n = rnd, seed, risk_limit, n
        self.asserts = assertions_for(rnd)
        self.draws: list[str] = []
        self.stages: list[int] = []
        self.errs: dict[str, list[int]] = {}
        self.per: list[list[int]] = [[] for _ in self.asserts]
        self.trajectory: list[float] = []
        self.current = 1.0

    def result(
        self, status: str, needed: tuple[str, ...] = (), paper: rules.RoundCount | None = None
    ) -> ComparisonAudit:
        done = status == "full_count_confirmed"
        return ComparisonAudit(
            post=self.rnd.post,
            round=self.rnd.number,
            seed=self.seed,
            risk_limit=self.risk_limit,
            ballots=self.n,
            assertions=self.asserts,
            draws=tuple(self.draws),
            stages=tuple(self.stages),
            overstatements=tuple((b, max(e)) for b, e in self.errs.items() if any(e)),
            risks=tuple(
                (x.name, 0.0 if done else risk.kaplan_markov(x.margin, self.n, self.per[i]))
                for i, x in enumerate(self.asserts)
            ),
            trajectory=tuple(self.trajectory),
            risk=self.current,
            status=status,
            needed=needed,
            paper_count=paper,
        )


def _check_readings(
    rnd: RoundInfo, recs: Mapping[str, BallotRecord], readings: Mapping[str, Reading]
) -> None:
    for bid, r in readings.items():
        if bid not in recs:
            raise AuditInputError(
                clause="A4",
                code="audit.not_in_round",
                zh=f"选票 {bid} 不属于 {rnd.post} 第 {rnd.number} 轮的记录",
                en=f"ballot {bid} is not a record of {rnd.post} round {rnd.number}",
            )
        if r.found:
            check_marks(r.marks, len(rnd.candidates), f"ballot {bid}")


def run_comparison(
    election: AuditedElection,
    post: str,
    number: int,
    *,
    seed: str,
    risk_limit: int,
    readings: Mapping[str, Reading],
) -> ComparisonAudit:
    """Run the audit as far as the readings go (pure).

    Raises:
        AuditInputError: unknown round, bad risk limit, or impossible marks for a sampled ballot.
        AuditSeedError: a bad seed.
    """
    seed = parse_seed(seed)
    if not 1 <= risk_limit <= 50:
        raise AuditInputError(
            clause="A7",
            code="audit.risk_limit",
            zh="风险限度应为 1 到 50（百分比）",
            en="risk limit must be 1..50 (percent)",
        )
    rnd = election.round(post, number)
    if rnd is None:
        raise AuditInputError(
            clause="A4",
            code="audit.no_such_round",
            zh=f"结果包中没有已计票的 {post} 第 {number} 轮",
            en=f"no counted round {post} {number} in the bundle",
        )
    recs = {b.ballot_id: b for b in election.records_of(post, number)}
    _check_readings(rnd, recs, readings)
    n = len(recs)
    alpha = risk_limit / 100
    st = _Run(rnd, seed, risk_limit, n)
    stream = sample(sorted(recs), seed, with_replacement=True)
    margins = [x.margin for x in st.asserts]
    target = max((risk.initial_sample_size(alpha, m, n) for m in margins), default=n)
    full = target >= n or any(m <= 0 for m in margins)
    while not full and len(st.stages) < MAX_STAGES:
        st.stages.append(target)
        while len(st.draws) < target:
            st.draws.append(next(stream).id)
        needed = tuple(dict.fromkeys(b for b in st.draws if b not in readings))
        if needed:
            return st.result("more_ballots", needed)
        for bid in st.draws[len(st.trajectory) :]:
            e = st.errs.get(bid)
            if e is None:
                e = st.errs[bid] = _overstatement(
                    election, rnd, recs[bid], readings[bid], st.asserts
                )
            for i, v in enumerate(e):
                st.per[i].append(v)
            st.current = max(risk.kaplan_markov(m, n, st.per[i]) for i, m in enumerate(margins))
            st.trajectory.append(st.current)
        if st.current <= alpha:
            return st.result("confirmed")
        nxt = 0
        for i, m in enumerate(margins):
            pa = st.per[i]
            seen = risk.Overstatements(
                draws=len(pa), o1=pa.count(1), o2=pa.count(2), u1=pa.count(-1), u2=pa.count(-2)
            )
            nxt = max(nxt, risk.next_sample_size(alpha, m, n, seen))
        target = max(nxt, len(st.draws) + 1)
        full = target >= n
    # Full hand count: every ballot of the round (A7).
    st.stages.append(n)
    needed = tuple(b for b in sorted(recs, key=lambda b: recs[b].seq) if b not in readings)
    if needed:
        return st.result("more_ballots", needed)
    verdicts = [
        election.judge_record(rnd, recs[bid])
        if recs[bid].invalid_reason
        else election.judge(rnd, r.marks, r.write_ins)
        for bid, r in readings.items()
        if r.found
    ]
    verdicts += [rules.BallotVerdict(False, ())] * election.unidentified_invalid(post, number)
    paper = rules.count_round(
        verdicts=verdicts,
        candidates=rnd.candidates,
        seats=rnd.seats,
        base=rnd.base,
        runoff=rnd.runoff,
        dropped=rnd.dropped,
    )
    same = (
        set(paper.elected) == set(rnd.elected)
        and set(paper.tied) == set(rnd.tied)
        and paper.tied_seats == rnd.tied_seats
        and paper.shortfall == rnd.shortfall
    )
    for bid, rec in recs.items():
        if bid not in st.errs:
            st.errs[bid] = _overstatement(election, rnd, rec, readings[bid], st.asserts)
    st.current = 0.0 if same else 1.0
    return st.result("full_count_confirmed" if same else "full_count_differs", (), paper)
