"""The parts of a resolved ``procedure/1`` (spec/procedure.md RP-2.1, RP-2.2) the recounts read.

A shape parser, not V21: every member of RP-2.1 must be present and no other, and the members the
counting reads are parsed exactly (``Reader``: no unknown or missing member, integers are
integers); the ranges and the roster rules of RP-2.4 are V21's. ``ballot_order`` is taken as the
nominable members (RP-2.1: "the ids of every nominable member, each once"; RP-2.4 checks it).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

from verifier.errors import VerificationError
from verifier.model import EDUCATION_ORDER
from verifier.parse._reader import Reader, err

__all__ = [
    "CountingDefinition",
    "MemberFacts",
    "PostRule",
    "ProcedureRecountError",
    "parse_counting",
]

_CLAUSE: Final = "RP-2.1"
_TOP: Final = frozenset(
    {
        "format",
        "election",
        "casework_id",
        "members",
        "exclusions",
        "ballot_order",
        "posts",
        "secretary",
        "recommendation",
        "evaluation",
        "qualifications",
        "officials",
        "publicity_working_days",
        "keys",
    }
)
_MEMBER: Final = frozenset(
    {
        "id",
        "name",
        "sex",
        "birth_date",
        "education",
        "status",
        "registered_here",
        "incumbent_secretary",
    }
)
_POST: Final = frozenset(
    {"post", "seats", "margin", "preliminary_size", "formal_size", "max_per_ballot"}
)
_QUALIFICATIONS: Final = frozenset(
    {
        "qualification_policy",
        "secretary_new_max_age",
        "secretary_new_min_education",
        "secretary_continuing_max_age",
        "secretary_continuing_min_education",
    }
)
POSTS: Final = ("committee", "secretary", "deputy_secretary")


class ProcedureRecountError(VerificationError):
    """A recount refuses its input, with the code and the RP clause of the refusal."""


@dataclass(frozen=True, slots=True)
class PostRule:
    """A post's counting parameters (RP-2.1 ``posts``)."""

    post: str
    seats: int
    margin: str
    preliminary_size: int
    formal_size: int
    max_per_ballot: int


@dataclass(frozen=True, slots=True)
class MemberFacts:
    """What R27 reads of a roster member."""

    birth_date: dt.date
    education: str
    incumbent_secretary: bool


@dataclass(frozen=True, slots=True)
class CountingDefinition:
    """The counting parameters of a procedure definition."""

    roster: Mapping[str, MemberFacts]
    ballot_order: tuple[str, ...]
    posts: tuple[PostRule, ...]
    layout: str
    mode: str
    member_weight: int
    public_weight: int
    scale: tuple[str, ...]
    fail_letters: frozenset[str]
    fail_numerator: int
    fail_denominator: int
    fail_comparison: str
    qualification_policy: str
    max_age: tuple[int, int]  # (new, continuing)
    min_education: tuple[str, str]  # (new, continuing)

    def post(self, code: str) -> PostRule:
        """The post's parameters.

        Raises:
            ProcedureRecountError: ``recommendation.post`` (RP-3.4) for a post not defined.
        """
        for p in self.posts:
            if p.post == code:
                return p
        raise ProcedureRecountError(
            clause="RP-3.4",
            code="recommendation.post",
            zh=f"本程序没有这个职位：{code}",
            en=f"the procedure has no post {code!r}",
        )


def parse_counting(value: object) -> CountingDefinition:
    """The counting parts of a resolved ``procedure/1`` value.

    Raises:
        DocumentFormatError: a member missing, unknown or of the wrong type (``field.*``).
    """
    top = Reader(value, "", _CLAUSE, _TOP)
    if top.raw("format") != "procedure/1":
        raise err(_CLAUSE, "format", "not procedure/1", "不是 procedure/1", "format.version")
    roster: dict[str, MemberFacts] = {}
    for i, item in enumerate(top.list_("members")):
        m = Reader(item, f"members[{i}]", _CLAUSE, _MEMBER)
        roster[m.str_("id", nonempty=True)] = MemberFacts(
            birth_date=m.date("birth_date"),
            education=m.code("education", EDUCATION_ORDER),
            incumbent_secretary=m.bool_("incumbent_secretary"),
        )
    posts = []
    for i, item in enumerate(top.list_("posts")):
        p = Reader(item, f"posts[{i}]", _CLAUSE, _POST)
        posts.append(
            PostRule(
                post=p.code("post", POSTS),
                seats=p.int_("seats"),
                margin=p.code("margin", ("20pct", "none")),
                preliminary_size=p.int_("preliminary_size"),
                formal_size=p.int_("formal_size"),
                max_per_ballot=p.int_("max_per_ballot"),
            )
        )
    rec = Reader(
        top.raw("recommendation"),
        "recommendation",
        _CLAUSE,
        frozenset({"layout", "quorum", "public_representatives", "ranking"}),
    )
    rank = Reader(
        rec.raw("ranking"),
        "recommendation.ranking",
        _CLAUSE,
        frozenset({"mode", "member_weight", "public_weight"}),
    )
    ev = Reader(
        top.raw("evaluation"),
        "evaluation",
        _CLAUSE,
        frozenset(
            {
                "scale",
                "fail_letters",
                "fail_numerator",
                "fail_denominator",
                "fail_comparison",
                "public_representatives",
            }
        ),
    )
    scale = tuple(
        Reader(s, f"evaluation.scale[{i}]", _CLAUSE, frozenset({"letter", "zh", "en"})).str_(
            "letter", nonempty=True
        )
        for i, s in enumerate(ev.list_("scale"))
    )
    q = Reader(top.raw("qualifications"), "qualifications", _CLAUSE, _QUALIFICATIONS)
    return CountingDefinition(
        roster=roster,
        ballot_order=top.ids("ballot_order"),
        posts=tuple(posts),
        layout=rec.code("layout", ("listed", "written")),
        mode=rank.code("mode", ("shares", "sum")),
        member_weight=rank.int_("member_weight"),
        public_weight=rank.int_("public_weight"),
        scale=scale,
        fail_letters=frozenset(ev.ids("fail_letters")),
        fail_numerator=ev.int_("fail_numerator"),
        fail_denominator=ev.int_("fail_denominator"),
        fail_comparison=ev.code("fail_comparison", ("GT", "GE")),
        qualification_policy=q.code("qualification_policy", ("warn", "block")),
        max_age=(q.int_("secretary_new_max_age"), q.int_("secretary_continuing_max_age")),
        min_education=(
            q.code("secretary_new_min_education", EDUCATION_ORDER),
            q.code("secretary_continuing_min_education", EDUCATION_ORDER),
        ),
    )
