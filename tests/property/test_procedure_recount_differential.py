"""Producer and verifier agree (STYLE §7.3 rule 21, cross-implementation): for any recommendation
ballots, evaluation ballots and recommendation counts, the producer's counting core
(``tally.core.procedure``) and the verifier's own recounts (``verifier.procedure``) give the same
entry bodies, or both refuse, and find the same problems in the formal lists (spec/procedure.md
RP-3.7, RP-3.10, RP-4, RP-5.5, RP-5.6, RP-6.1, RP-6.2)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from tally.core.model import MemberId, PostKind, QualificationPolicy
from tally.core.procedure import (
    ProcedureCountError,
    RankingMode,
    RecommendationLayout,
    render_procedure,
)
from tally.core.procedure.errors import ApprovalBlockedError
from tally.core.procedure.evaluation import EvaluationBallot, Outcome, count_evaluation
from tally.core.procedure.ranking import Omission, OmissionReason, propose
from tally.core.procedure.recommendation import (
    RecommendationBallot,
    RecommendationGroup,
    WrittenName,
    count_recommendation_round,
)
from tally.core.procedure.vetting import formal_lists, vet
from tests.helpers.procedure_counting import BASE, ORDER, count, procedure
from verifier.procedure import (
    ProcedureRecountError,
    formal_list_problems,
    parse_counting,
    recount_evaluation,
    recount_proposal,
    recount_recommendation,
    recount_vetting,
)

ROSTER = [m.id for m in BASE.members]
DAY = dt.date(2026, 12, 20)


def _written() -> st.SearchStrategy[WrittenName]:
    return st.one_of(
        st.builds(WrittenName, st.just("?"), st.just("")),
        st.builds(WrittenName, st.just("张三"), st.just("")),
        st.builds(WrittenName, st.just("某人"), st.sampled_from(ROSTER)),
    )


@settings(max_examples=150, deadline=None)
@given(
    layout=st.sampled_from(list(RecommendationLayout)),
    data=st.data(),
    declared=st.integers(0, 3),
)
def test_rp_3_7_producer_and_verifier_count_a_round_alike(
    layout: RecommendationLayout, data: st.DataObject, declared: int
) -> None:
    p = procedure(layout=layout)
    width = len(ORDER) if layout is RecommendationLayout.LISTED else 0
    ballots = data.draw(
        st.lists(
            st.builds(
                RecommendationBallot,
                st.text(alphabet="o-?", min_size=width, max_size=width),
                st.lists(_written(), max_size=7).map(tuple),
            ),
            max_size=12,
        )
    )
    mine = count_recommendation_round(
        p, RecommendationGroup.MEMBER, PostKind.COMMITTEE, 1, ballots, declared_invalid=declared
    ).to_json()
    theirs = recount_recommendation(
        parse_counting(render_procedure(p)),
        group="member",
        post="committee",
        round_=1,
        ballots=[
            {"marks": b.marks, "written": [{"name": w.name, "member": w.member} for w in b.written]}
            for b in ballots
        ],
        declared_invalid=declared,
    )
    assert theirs == mine


@settings(max_examples=150, deadline=None)
@given(
    persons=st.lists(st.sampled_from(ORDER[:10]), min_size=1, max_size=5, unique=True),
    data=st.data(),
)
def test_rp_5_5_producer_and_verifier_count_an_evaluation_alike(
    persons: list[str], data: st.DataObject
) -> None:
    order = [m for m in ORDER if m in persons]
    ballots = data.draw(
        st.lists(
            st.builds(
                EvaluationBallot,
                st.text(alphabet="sbd-?", min_size=len(order), max_size=len(order)),
                st.integers(0, 2),
            ),
            max_size=40,
        )
    )
    theirs = _or_code(
        lambda: recount_evaluation(
            parse_counting(render_procedure(BASE)),
            round_=1,
            persons=order,
            ballots=[{"marks": b.marks, "added_rows": b.added_rows} for b in ballots],
            declared_invalid=0,
        )
    )
    mine = _or_code(lambda: count_evaluation(BASE, 1, order, ballots).to_json())
    assert theirs == mine


def _or_code(run: Any) -> Any:
    try:
        return run()
    except (ProcedureCountError, ProcedureRecountError) as e:
        return e.code


@settings(max_examples=150, deadline=None)
@given(
    mode=st.sampled_from(list(RankingMode)),
    weights=st.tuples(st.integers(0, 3), st.integers(1, 3)),
    policy=st.sampled_from(list(QualificationPolicy)),
    member=st.dictionaries(st.sampled_from(ORDER), st.integers(1, 9), max_size=12),
    public=st.dictionaries(st.sampled_from(ORDER), st.integers(1, 9), max_size=12),
    secretary=st.dictionaries(st.sampled_from(ORDER), st.integers(1, 9), max_size=4),
    valid=st.tuples(st.integers(0, 40), st.integers(0, 40)),
)
def test_rp_4_producer_and_verifier_propose_alike(
    mode: RankingMode,
    weights: tuple[int, int],
    policy: QualificationPolicy,
    member: dict[MemberId, int],
    public: dict[MemberId, int],
    secretary: dict[MemberId, int],
    valid: tuple[int, int],
) -> None:
    p = procedure(mode=mode, weights=weights, policy=policy)
    counts = [
        count(RecommendationGroup.MEMBER, PostKind.COMMITTEE, valid[0], member),
        count(RecommendationGroup.PUBLIC, PostKind.COMMITTEE, valid[1], public),
        count(RecommendationGroup.MEMBER, PostKind.SECRETARY, valid[0], secretary),
        count(RecommendationGroup.PUBLIC, PostKind.SECRETARY, valid[1], secretary),
    ]
    mine = _or_code(lambda: propose(p, election_date=DAY, counts=counts).to_json())
    theirs = _or_code(
        lambda: recount_proposal(
            parse_counting(render_procedure(p)),
            election_date=DAY,
            counts=[c.to_json() for c in counts],
            omissions=[],
            higher_level=[],
        )
    )
    assert theirs == mine


@settings(max_examples=150, deadline=None)
@given(
    formal=st.sampled_from([0, 5, 6, 7]),
    policy=st.sampled_from(list(QualificationPolicy)),
    member=st.dictionaries(st.sampled_from(ORDER), st.integers(1, 9), min_size=1, max_size=12),
    secretary=st.dictionaries(st.sampled_from(ORDER), st.integers(1, 9), min_size=1, max_size=4),
    data=st.data(),
)
def test_rp_6_producer_and_verifier_vet_alike(
    formal: int,
    policy: QualificationPolicy,
    member: dict[MemberId, int],
    secretary: dict[MemberId, int],
    data: st.DataObject,
) -> None:
    p = procedure(policy=policy, committee={"formal_size": formal})
    counts = [
        count(group, post, 20, per)
        for group in RecommendationGroup
        for post, per in ((PostKind.COMMITTEE, member), (PostKind.SECRETARY, secretary))
    ]
    proposal = propose(p, election_date=DAY, counts=counts)
    names = sorted({n.member for post in proposal.posts for n in post.names})
    failing = data.draw(st.sets(st.sampled_from(names))) if names else set()
    declined = data.draw(st.sets(st.sampled_from(names), max_size=2)) if names else set()
    outcomes = {m: Outcome.DOES_NOT_PROCEED if m in failing else Outcome.PROCEEDS for m in names}
    findings = [Omission(m, OmissionReason.DECLINED, "", "本人书面放弃") for m in sorted(declined)]
    mine = _or_code(lambda: vet(p, [proposal], outcomes, findings).to_json())
    theirs = _or_code(
        lambda: recount_vetting(
            parse_counting(render_procedure(p)),
            proposals=[proposal.to_json()],
            evaluations=[
                {
                    "round": 1,
                    "results": [{"member": m, "outcome": o.value} for m, o in outcomes.items()],
                }
            ],
            findings=[o.to_json() for o in findings],
        )
    )
    assert theirs == mine
    if isinstance(mine, dict):
        try:
            formal_lists(p, vet(p, [proposal], outcomes, findings), election_date=DAY)
            codes: set[str] = set()
        except ApprovalBlockedError as e:
            codes = {x.code for x in e.problems}
        problems = formal_list_problems(
            parse_counting(render_procedure(p)), mine, election_date=DAY, orders={}
        )
        assert set(problems) == codes
