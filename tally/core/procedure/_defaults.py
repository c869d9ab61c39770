"""(RP-2.2) The defaults `tally procedure new` writes out for what the input leaves out."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tally.core.model import Body, Education, PostKind, QualificationPolicy
from tally.core.procedure._common import _ceil_fifth, _enum_or, default_margin
from tally.core.procedure.model import (
    FailComparison,
    RankingMode,
    RecommendationLayout,
    RecommendationQuorum,
)

__all__ = ["DEFAULT_SCALE", "QUALIFICATION_DEFAULTS", "fill_defaults"]

# (RP-2.2) The common 测评 scale, issue 18.
DEFAULT_SCALE: tuple[Mapping[str, str], ...] = (
    {"letter": "s", "zh": "满意", "en": "satisfied"},
    {"letter": "b", "zh": "基本满意", "en": "basically satisfied"},
    {"letter": "d", "zh": "不满意", "en": "dissatisfied"},
)
QUALIFICATION_DEFAULTS: Mapping[str, Any] = {
    "qualification_policy": QualificationPolicy.BLOCK.value,
    "secretary_new_max_age": 45,
    "secretary_new_min_education": Education.SENIOR_HIGH.value,
    "secretary_continuing_max_age": 50,
    "secretary_continuing_min_education": Education.JUNIOR_HIGH.value,
}


def fill_defaults(data: Mapping[str, Any]) -> dict[str, Any]:
    """(RP-2.2) A copy of a clerk's input with every left-out parameter set to its default.

    Only values the input leaves out are added; a value of the wrong type is left for the parser
    to report. ``ballot_order``, the roster, the posts' ``seats`` and
    ``recommendation.public_representatives`` have no default.
    """
    doc: dict[str, Any] = dict(data)
    doc.setdefault("exclusions", [])
    doc.setdefault("publicity_working_days", 5)
    secretary = doc.setdefault("secretary", {"elected_by": Body.ASSEMBLY.value})
    body = Body.ASSEMBLY
    if isinstance(secretary, dict):
        secretary = doc["secretary"] = dict(secretary)
        secretary.setdefault("elected_by", Body.ASSEMBLY.value)
        body = _enum_or(Body, secretary["elected_by"], Body.ASSEMBLY)
    posts = doc.get("posts")
    if isinstance(posts, list):
        doc["posts"] = [_post_defaults(row, body) for row in posts]
    recommendation = doc.setdefault("recommendation", {})
    if isinstance(recommendation, dict):
        recommendation = doc["recommendation"] = dict(recommendation)
        recommendation.setdefault("layout", RecommendationLayout.LISTED.value)
        recommendation.setdefault("quorum", RecommendationQuorum.HALF.value)
        ranking = recommendation.setdefault("ranking", {})
        if isinstance(ranking, dict):
            ranking = recommendation["ranking"] = dict(ranking)
            ranking.setdefault("mode", RankingMode.SHARES.value)
            ranking.setdefault("member_weight", 1)
            ranking.setdefault("public_weight", 1)
    evaluation = doc.setdefault("evaluation", {})
    if isinstance(evaluation, dict):
        evaluation = doc["evaluation"] = dict(evaluation)
        evaluation.setdefault("scale", [dict(item) for item in DEFAULT_SCALE])
        evaluation.setdefault("fail_letters", ["d"])
        evaluation.setdefault("fail_numerator", 1)
        evaluation.setdefault("fail_denominator", 3)
        evaluation.setdefault("fail_comparison", FailComparison.GT.value)
        if isinstance(recommendation, dict) and "public_representatives" in recommendation:
            evaluation.setdefault(
                "public_representatives", recommendation["public_representatives"]
            )
    qualifications = doc.setdefault("qualifications", {})
    if isinstance(qualifications, dict):
        doc["qualifications"] = {**QUALIFICATION_DEFAULTS, **qualifications}
    return doc


def _post_defaults(row: object, body: Body) -> object:
    if not isinstance(row, dict):
        return row
    out = dict(row)
    kind = _enum_or(PostKind, out.get("post"), None)
    if kind is not None:
        out.setdefault("margin", default_margin(kind, body).value)
    seats = out.get("seats")
    if isinstance(seats, int) and not isinstance(seats, bool) and seats > 0:
        out.setdefault("preliminary_size", seats + _ceil_fifth(seats))
        out.setdefault("max_per_ballot", seats)
    out.setdefault("formal_size", 0)
    return out
