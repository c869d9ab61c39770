"""Producer and verifier agree on the supplement (STYLE §7.3 rule 21, cross-implementation;
spec/procedure.md RP-6.3, V26): for random recommendation counts, evaluation outcomes, declined
members and higher-level names, the producer's ``supplement`` (``tally.core.procedure.vetting``)
and the verifier's ``recount_supplement`` give the same version 2, or refuse with the same code;
and the list the verifier recomputes never breaks a tie of its own cut."""

from __future__ import annotations

import datetime as dt
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from tally.core.model import MemberId, PostKind, QualificationPolicy
from tally.core.procedure import ProcedureCountError, RankingMode, render_procedure
from tally.core.procedure.evaluation import Outcome
from tally.core.procedure.ranking import Omission, OmissionReason, propose
from tally.core.procedure.recommendation import RecommendationGroup
from tally.core.procedure.vetting import supplement, vet
from tests.helpers.procedure_counting import ORDER, count, procedure
from verifier.procedure import ProcedureRecountError, parse_counting, recount_supplement
from verifier.procedure.proposals import broken_ties

DAY = dt.date(2026, 12, 20)
COMMITTEE, SECRETARY = PostKind.COMMITTEE, PostKind.SECRETARY
MEMBER, PUBLIC = RecommendationGroup.MEMBER, RecommendationGroup.PUBLIC

_POOL = ORDER[:14]


@settings(max_examples=120, deadline=None)
@given(
    mode=st.sampled_from([RankingMode.SHARES, RankingMode.SUM]),
    policy=st.sampled_from([QualificationPolicy.WARN, QualificationPolicy.BLOCK]),
    members=st.dictionaries(st.sampled_from(_POOL), st.integers(1, 3), max_size=14),
    public=st.dictionaries(st.sampled_from(_POOL), st.integers(1, 3), max_size=14),
    secretary=st.dictionaries(st.sampled_from(_POOL[:6]), st.integers(1, 3), max_size=6),
    failing=st.sets(st.sampled_from(_POOL[:10]), max_size=7),
    declined=st.sets(st.sampled_from(_POOL), max_size=2),
    higher_level=st.lists(st.sampled_from(ORDER[:20]), max_size=2, unique=True),
)
def test_the_verifiers_supplement_equals_the_producers(
    mode: RankingMode,
    policy: QualificationPolicy,
    members: dict[MemberId, int],
    public: dict[MemberId, int],
    secretary: dict[MemberId, int],
    failing: set[str],
    declined: set[MemberId],
    higher_level: list[MemberId],
) -> None:
    p = procedure(mode=mode, policy=policy)
    counts = [
        count(MEMBER, COMMITTEE, 20, members),
        count(PUBLIC, COMMITTEE, 40, public),
        count(MEMBER, SECRETARY, 20, secretary),
        count(PUBLIC, SECRETARY, 40, {}),
    ]
    findings = tuple(
        Omission(m, OmissionReason.DECLINED, "", f"书面放弃 {i} 号")
        for i, m in enumerate(sorted(declined))
    )
    first = propose(p, election_date=DAY, counts=counts, omissions=findings)
    names = {n.member for post in first.posts for n in post.names}
    outcomes = {m: Outcome.DOES_NOT_PROCEED if m in failing else Outcome.PROCEEDS for m in names}
    record = vet(p, [first], outcomes, [f for f in findings if f.member in names])
    hl = {COMMITTEE: higher_level} if higher_level else {}
    try:
        want: dict[str, Any] | str = supplement(
            p,
            version=2,
            election_date=DAY,
            proposals=[first],
            record=record,
            counts=counts,
            omissions=findings,
            higher_level=hl,
        ).to_json()
    except ProcedureCountError as e:
        want = e.code
    ties: dict[str, frozenset[str]] = {}
    try:
        got: dict[str, Any] | str = recount_supplement(
            parse_counting(render_procedure(p)),
            version=2,
            election_date=DAY,
            counts=[c.to_json() for c in counts],
            proposals=[first.to_json()],
            vetting=record.to_json(),
            omissions=[o.to_json() for o in findings],
            higher_level=[{"post": "committee", "members": higher_level}] if higher_level else [],
            ties=ties,
        )
    except ProcedureRecountError as e:
        got = e.code
    assert got == want
    if isinstance(got, dict):
        assert broken_ties(ties, got) == []
