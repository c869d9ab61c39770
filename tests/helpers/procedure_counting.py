"""Builders for the counting-core tests (spec/procedure.md RP-3.7 to RP-6.3): the example
procedure with parameters changed, and count bodies written directly from per-member numbers."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from tally.core.model import MemberId, PostKind, QualificationPolicy
from tally.core.procedure import (
    Procedure,
    ProcedurePost,
    RankingMode,
    RecommendationLayout,
)
from tally.core.procedure.recommendation import (
    MemberRecommendations,
    RecommendationCount,
    RecommendationGroup,
)
from tests.helpers.procedure import build

BASE = build()
ORDER = BASE.ballot_order
"""The example's nominable members in ballot order (25)."""
WORKED = dict(zip("ABCDEFGH", ORDER[:8], strict=True))
"""RP-4.6's members A..H: the first eight of the ballot order (so F precedes G)."""


def procedure(
    *,
    mode: RankingMode = RankingMode.SHARES,
    weights: tuple[int, int] = (1, 1),
    layout: RecommendationLayout = RecommendationLayout.LISTED,
    policy: QualificationPolicy = QualificationPolicy.WARN,
    committee: Mapping[str, int] | None = None,
    secretary: Mapping[str, int] | None = None,
) -> Procedure:
    """The example procedure with the ranking, layout, R27 policy and post sizes given.

    ``committee`` and ``secretary`` override fields of the post (``seats``,
    ``preliminary_size``, ``formal_size``, ``max_per_ballot``).
    """
    p = BASE
    posts: list[ProcedurePost] = []
    for post in p.posts:
        change = committee if post.kind is PostKind.COMMITTEE else secretary
        fields: dict[str, Any] = dict(change or {})
        posts.append(dataclasses.replace(post, **fields))
    ranking = dataclasses.replace(
        p.recommendation.ranking, mode=mode, member_weight=weights[0], public_weight=weights[1]
    )
    return dataclasses.replace(
        p,
        posts=tuple(posts),
        recommendation=dataclasses.replace(p.recommendation, ranking=ranking, layout=layout),
        qualifications=dataclasses.replace(p.qualifications, qualification_policy=policy),
    )


def count(
    group: RecommendationGroup,
    post: PostKind,
    valid: int,
    per_member: Mapping[MemberId, int],
    round_no: int = 1,
) -> RecommendationCount:
    """A ``recommendation.counted`` body with these numbers (no notes)."""
    return RecommendationCount(
        group=group,
        post=post,
        round=round_no,
        valid_ballots=valid,
        invalid_ballots=0,
        recommendations=tuple(
            MemberRecommendations(m, per_member[m]) for m in ORDER if per_member.get(m, 0) > 0
        ),
        not_counted=(),
        written_names=(),
    )


def worked_counts(
    secretary: Mapping[MemberId, tuple[int, int]] | None = None,
) -> list[RecommendationCount]:
    """RP-4.6's committee counts (Vm = 38, Vp = 44) and a secretary post's (default: none)."""
    table = {
        "A": (35, 40),
        "B": (30, 20),
        "C": (20, 30),
        "D": (25, 10),
        "E": (10, 25),
        "F": (12, 22),
        "G": (31, 0),
        "H": (5, 8),
    }
    m = {WORKED[k]: v[0] for k, v in table.items()}
    p = {WORKED[k]: v[1] for k, v in table.items()}
    sec = secretary or {}
    return [
        count(RecommendationGroup.MEMBER, PostKind.COMMITTEE, 38, m),
        count(RecommendationGroup.PUBLIC, PostKind.COMMITTEE, 44, p),
        count(
            RecommendationGroup.MEMBER, PostKind.SECRETARY, 38, {k: v[0] for k, v in sec.items()}
        ),
        count(
            RecommendationGroup.PUBLIC, PostKind.SECRETARY, 44, {k: v[1] for k, v in sec.items()}
        ),
    ]


__all__ = ["BASE", "ORDER", "WORKED", "count", "procedure", "worked_counts"]
