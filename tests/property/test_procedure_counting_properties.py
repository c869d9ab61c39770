"""Properties of the procedure's counting core (spec/procedure.md RP-3.7, RP-4.2, RP-5.5) against
naive counters written plainly here: the cut takes every name whose score reaches the L-th's, a
round's count is a per-ballot tally, and the evaluation rule is the exact fraction comparison."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections import Counter
from collections.abc import Sequence
from fractions import Fraction

from hypothesis import given, settings
from hypothesis import strategies as st

from tally.core.model import MemberId, PostKind
from tally.core.procedure import FailComparison, RankingMode, RecommendationLayout
from tally.core.procedure.evaluation import EvaluationBallot, Outcome, count_evaluation
from tally.core.procedure.ranking import Basis, RankedMember, propose, rule_list
from tally.core.procedure.recommendation import (
    RecommendationBallot,
    RecommendationGroup,
    WrittenName,
    count_recommendation_round,
)
from tests.helpers.procedure_counting import BASE, ORDER, count, procedure

COMMITTEE = PostKind.COMMITTEE
ROSTER = [m.id for m in BASE.members]


def _naive_cut(scores: Sequence[Fraction | int], size: int) -> list[Fraction | int]:
    """Sort by score, find the size-th score, take while the score reaches it."""
    ordered = sorted(scores, reverse=True)
    if len(ordered) <= size:
        return ordered
    cut = ordered[size - 1]
    taken = []
    for s in ordered:
        if s < cut:
            break
        taken.append(s)
    return taken


@given(
    scores=st.lists(st.integers(min_value=1, max_value=12), max_size=25),
    size=st.integers(min_value=1, max_value=10),
)
def test_rp_4_2_the_cut_takes_every_name_reaching_the_l_th_score(
    scores: list[int], size: int
) -> None:
    pool = sorted(
        (RankedMember(ORDER[i], s, 0, s) for i, s in enumerate(scores)), key=lambda r: -r.score
    )
    reached, short = rule_list(pool, size)
    assert [r.score for r, _ in reached] == _naive_cut(scores, size)
    assert short == (len(scores) <= size)
    assert len(reached) >= min(size, len(scores))
    if reached and not short:
        c = sorted(scores, reverse=True)[size - 1]
        more = sum(1 for s in scores if s >= c) > size
        for r, basis in reached:
            assert basis is (Basis.TIE_AT_CUT if more and r.score == c else Basis.RANK)
        # never lot: no name with the cut's score is left out
        assert all(s < c for s in scores if s not in [r.score for r, _ in reached])


@settings(max_examples=60, deadline=None)
@given(
    m=st.lists(st.integers(min_value=0, max_value=30), min_size=8, max_size=8),
    p=st.lists(st.integers(min_value=0, max_value=30), min_size=8, max_size=8),
    mode=st.sampled_from(list(RankingMode)),
    weights=st.tuples(st.integers(min_value=1, max_value=3), st.integers(min_value=1, max_value=3)),
)
def test_rp_4_1_the_proposal_is_the_naive_cut_of_the_naive_scores(
    m: list[int], p: list[int], mode: RankingMode, weights: tuple[int, int]
) -> None:
    vm, vp = 30, 40
    members = ORDER[:8]
    counts = [
        count(RecommendationGroup.MEMBER, COMMITTEE, vm, dict(zip(members, m, strict=True))),
        count(RecommendationGroup.PUBLIC, COMMITTEE, vp, dict(zip(members, p, strict=True))),
        count(RecommendationGroup.MEMBER, PostKind.SECRETARY, vm, {}),
        count(RecommendationGroup.PUBLIC, PostKind.SECRETARY, vp, {}),
    ]
    proposal = propose(
        procedure(mode=mode, weights=weights), election_date=dt.date(2026, 12, 20), counts=counts
    )
    committee = proposal.post(COMMITTEE)
    assert committee is not None
    wm, wp = weights
    naive = {
        x: (a + b if mode is RankingMode.SUM else Fraction(wm * a, vm) + Fraction(wp * b, vp))
        for x, a, b in zip(members, m, p, strict=True)
    }
    positive = [v for v in naive.values() if v > 0]
    got = sorted((naive[n.member] for n in committee.names), reverse=True)
    assert got == _naive_cut(positive, 6)


_ROW = st.one_of(
    st.sampled_from(ORDER).map(lambda x: WrittenName("名", x)),
    st.sampled_from(ROSTER).map(lambda x: WrittenName("名", x)),
    st.just(WrittenName("?", "")),
    st.just(WrittenName("外人", "")),
)


@settings(max_examples=80, deadline=None)
@given(
    layout=st.sampled_from(list(RecommendationLayout)),
    raw=st.lists(
        st.tuples(
            st.lists(st.sampled_from("o-?"), min_size=len(ORDER), max_size=len(ORDER)),
            st.lists(_ROW, max_size=7),
        ),
        max_size=12,
    ),
    declared=st.integers(min_value=0, max_value=3),
)
def test_rp_3_7_a_round_count_is_the_naive_per_ballot_tally(
    layout: RecommendationLayout,
    raw: list[tuple[list[str], list[WrittenName]]],
    declared: int,
) -> None:
    p = procedure(layout=layout)
    k = 5
    listed = layout is RecommendationLayout.LISTED
    ballots = [
        RecommendationBallot("".join(marks) if listed else "", tuple(rows)) for marks, rows in raw
    ]
    body = count_recommendation_round(
        p, RecommendationGroup.MEMBER, COMMITTEE, 1, ballots, declared_invalid=declared
    )
    tally: Counter[MemberId] = Counter()
    valid = 0
    dropped = 0
    for b in ballots:
        marked = [ORDER[i] for i, c in enumerate(b.marks) if c == "o"]
        if len(marked) + len(b.written) > k:
            continue
        valid += 1
        given_to = set(marked)
        for row in b.written:
            ok = (
                row.name != "?"
                and row.member in ORDER
                and not listed
                and row.member not in given_to
            )
            if ok:
                given_to.add(MemberId(row.member))
            else:
                dropped += 1
        tally.update(given_to)
    assert body.valid_ballots == valid
    assert body.invalid_ballots == len(ballots) - valid + declared
    assert {r.member: r.recommendations for r in body.recommendations} == dict(tally)
    assert sum(c.count for c in body.not_counted) == dropped == len(body.written_names)


@settings(max_examples=80, deadline=None)
@given(
    columns=st.lists(st.sampled_from("sbd-?"), min_size=1, max_size=60),
    num=st.integers(min_value=1, max_value=9),
    extra=st.integers(min_value=1, max_value=9),
    comparison=st.sampled_from(list(FailComparison)),
)
def test_rp_5_5_the_outcome_is_the_exact_fraction_comparison(
    columns: list[str], num: int, extra: int, comparison: FailComparison
) -> None:
    base = procedure()
    p = dataclasses.replace(
        base,
        evaluation=dataclasses.replace(
            base.evaluation,
            fail_numerator=num,
            fail_denominator=num + extra,
            fail_comparison=comparison,
        ),
    )
    body = count_evaluation(p, 1, [ORDER[0]], [EvaluationBallot(c) for c in columns])
    share = Fraction(columns.count("d"), len(columns))
    limit = Fraction(num, num + extra)
    fails = share > limit if comparison is FailComparison.GT else share >= limit
    assert body.results[0].outcome is (Outcome.DOES_NOT_PROCEED if fails else Outcome.PROCEEDS)
    r = body.results[0]
    assert sum(c.count for c in r.counts) + r.blank + r.unreadable == len(columns)
