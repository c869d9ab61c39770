"""Ranking and the proposed preliminary list (spec/procedure.md RP-4): pure functions.

From the rounds' ``recommendation.counted`` bodies, the recorded omissions and the higher level's
names, :func:`propose` computes the ``preliminary.proposed`` body of version 1: per post, every
name with how it was reached (:class:`Basis`) and every name left out with its reason. The cut
includes every tie at it (never lot, never a hidden tie-break): :func:`rule_list`.

Public names: :class:`Basis`, :class:`OmissionReason`, :data:`TEN_DISQUALIFICATIONS`,
:class:`Omission`, :class:`GroupTotals`, :func:`group_totals`, :func:`score`,
:class:`RankedMember`, :func:`rank_post`, :func:`rule_list`, :class:`ProposedName`,
:class:`ProposedPost`, :class:`Proposal`, :func:`propose`, :func:`check_omissions`,
:func:`check_higher_level`,
:func:`r27_problems`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from tally.core.errors import Problem
from tally.core.model import (
    MemberId,
    Parameters,
    PostKind,
    Preset,
    QualificationPolicy,
    QuorumComparison,
    ThresholdBase,
    UnreadableMark,
    WriteInUnmarked,
)
from tally.core.procedure.errors import ProcedureCountError
from tally.core.procedure.model import Procedure, Ranking, RankingMode
from tally.core.procedure.recommendation import RecommendationCount, RecommendationGroup
from tally.core.rules import qualification_problems

__all__ = [
    "TEN_DISQUALIFICATIONS",
    "Basis",
    "GroupTotals",
    "Omission",
    "OmissionReason",
    "Proposal",
    "ProposedName",
    "ProposedPost",
    "RankedMember",
    "check_higher_level",
    "check_omissions",
    "group_totals",
    "propose",
    "r27_problems",
    "rank_post",
    "rule_list",
    "score",
]


class Basis(StrEnum):
    """(RP-4.3) How a name reached the preliminary list; a name's first applicable one."""

    RANK = "rank"
    TIE_AT_CUT = "tie_at_cut"
    SECRETARY_LIST = "secretary_list"
    HIGHER_LEVEL = "higher_level"
    SUPPLEMENT = "supplement"


class OmissionReason(StrEnum):
    """(RP-4.4) Why a member of the ranking is left out of a post."""

    DECLINED = "declined"
    QUALIFICATION = "qualification"
    TEN_DISQUALIFICATIONS = "ten_disqualifications"


TEN_DISQUALIFICATIONS: dict[str, tuple[str, str]] = {
    "td1": ("政治品质和道德品行差的", "poor political integrity or moral conduct"),
    "td2": ("有涉法涉罪或被立案调查的", "involved in a crime or under criminal investigation"),
    "td3": (
        "有违纪违法问题正在接受调查处理的",
        "under investigation for a breach of discipline or law",
    ),
    "td4": ("有拉票贿选或其他不正当行为的", "canvassing, vote buying or other improper conduct"),
    "td5": (
        "组织或参与非法上访、越级上访的",
        "organising or joining illegal or level-skipping petitions",
    ),
    "td6": ("组织或参与封建迷信活动、参加邪教活动的", "superstitious or cult activity"),
    "td7": ("个人信用缺失的", "lack of personal credit standing"),
    "td8": ("能力虽强但心术不正的", "able but of bad intent"),
    "td9": ("廉洁自律过不了关的", "fails the integrity standard"),
    "td10": ("不具备其他履职能力和条件的", "lacks the other abilities and conditions for the post"),
}
"""(RP-4.4) The town plan's 十不推, in its order: category code → (zh, en)."""

REFERENCE_MAX_CHARS = 64


@dataclass(frozen=True, slots=True)
class Omission:
    """(RP-4.4) A member left out with a recorded reason; ``category`` is a ``td`` code for
    ``ten_disqualifications`` and ``""`` otherwise; ``reference`` ``""`` only for
    ``qualification``."""

    member: MemberId
    reason: OmissionReason
    category: str
    reference: str

    def to_json(self) -> dict[str, str]:
        """The ``omitted`` item of RP-4.5 (and the ``stopped`` item of RP-6.1)."""
        return {
            "member": self.member,
            "reason": self.reason.value,
            "category": self.category,
            "reference": self.reference,
        }


@dataclass(frozen=True, slots=True)
class GroupTotals:
    """(RP-3.7) ``V_g`` and ``r_g(x)`` of one group for one post over its counted rounds."""

    valid_ballots: int
    recommendations: Mapping[MemberId, int]

    def of(self, member: MemberId) -> int:
        """``r_g(member)``."""
        return self.recommendations.get(member, 0)


def group_totals(
    counts: Sequence[RecommendationCount], group: RecommendationGroup, post: PostKind
) -> GroupTotals | None:
    """The totals of ``group`` for ``post`` over every counted round given; None when the group
    has no counted round for the post (void rounds have no count and add nothing)."""
    mine = [c for c in counts if c.group is group and c.post is post]
    if not mine:
        return None
    per: dict[MemberId, int] = {}
    for c in mine:
        for r in c.recommendations:
            per[r.member] = per.get(r.member, 0) + r.recommendations
    return GroupTotals(valid_ballots=sum(c.valid_ballots for c in mine), recommendations=per)


def score(ranking: Ranking, m: int, p: int, vm: int, vp: int) -> int:
    """(RP-4.1) The score of a member with ``m`` members' and ``p`` public recommendations.

    ``shares``: ``Wm*m*max(Vp,1) + Wp*p*max(Vm,1)`` (orders as ``Wm*m/Vm + Wp*p/Vp``, in
    integers); ``sum``: ``m + p``.
    """
    if ranking.mode is RankingMode.SUM:
        return m + p
    return ranking.member_weight * m * max(vp, 1) + ranking.public_weight * p * max(vm, 1)


@dataclass(frozen=True, slots=True)
class RankedMember:
    """A member of a post's ranking: both groups' recommendations and the score."""

    member: MemberId
    member_recommendations: int
    public_recommendations: int
    score: int


def rank_post(
    procedure: Procedure, member_totals: GroupTotals | None, public_totals: GroupTotals | None
) -> tuple[RankedMember, ...]:
    """(RP-4.1) The nominable members with ``score > 0``, score descending; equal scores in
    ``ballot_order`` (for reading only: a tie is never broken by it). A missing group adds 0."""
    empty = GroupTotals(valid_ballots=0, recommendations={})
    mt = member_totals or empty
    pt = public_totals or empty
    out: list[RankedMember] = []
    for member in procedure.ballot_order:
        m, p = mt.of(member), pt.of(member)
        s = score(procedure.recommendation.ranking, m, p, mt.valid_ballots, pt.valid_ballots)
        if s > 0:
            out.append(RankedMember(member, m, p, s))
    position = {m: i for i, m in enumerate(procedure.ballot_order)}
    return tuple(sorted(out, key=lambda r: (-r.score, position[r.member])))


def rule_list(
    pool: Sequence[RankedMember], size: int
) -> tuple[tuple[tuple[RankedMember, Basis], ...], bool]:
    """(RP-4.2, RP-4.3) The rule's list of ``pool`` (ranking order) for ``size`` names.

    Returns each name with ``rank`` or ``tie_at_cut`` and whether the post is short. When ``pool``
    has at most ``size`` names all are taken (``rank``, short); otherwise every name with a score at
    least the ``size``-th's ``c``: ``rank`` above ``c``, and at ``c`` too when exactly ``size``
    names reach it, ``tie_at_cut`` at ``c`` when more do.
    """
    if len(pool) <= size:
        return tuple((r, Basis.RANK) for r in pool), True
    if size <= 0:
        return (), False
    c = pool[size - 1].score
    reached = [r for r in pool if r.score >= c]
    tied = len(reached) > size
    return (
        tuple((r, Basis.TIE_AT_CUT if tied and r.score == c else Basis.RANK) for r in reached),
        False,
    )


@dataclass(frozen=True, slots=True)
class ProposedName:
    """(RP-4.5) A name of the proposal with its basis, recommendations and score."""

    member: MemberId
    basis: Basis
    member_recommendations: int
    public_recommendations: int
    score: int

    def to_json(self) -> dict[str, Any]:
        """The ``names`` item of RP-4.5."""
        return {
            "member": self.member,
            "basis": self.basis.value,
            "member_recommendations": self.member_recommendations,
            "public_recommendations": self.public_recommendations,
            "score": self.score,
        }


@dataclass(frozen=True, slots=True)
class ProposedPost:
    """(RP-4.5) One post of a proposal. ``short`` is the ``preliminary.short`` note (RP-4.2);
    ``warnings`` the R27 problems shown beside names under ``warn`` (not part of the entry)."""

    post: PostKind
    names: tuple[ProposedName, ...]
    omitted: tuple[Omission, ...]
    short: bool
    warnings: tuple[Problem, ...] = ()

    def to_json(self) -> dict[str, Any]:
        """The ``posts`` item of RP-4.5."""
        return {
            "post": self.post.value,
            "names": [n.to_json() for n in self.names],
            "omitted": [o.to_json() for o in self.omitted],
        }


@dataclass(frozen=True, slots=True)
class Proposal:
    """(RP-4.5) The ``preliminary.proposed`` body of one version."""

    version: int
    election_date: dt.date
    posts: tuple[ProposedPost, ...]

    def post(self, kind: PostKind) -> ProposedPost | None:
        """The proposal's post of ``kind`` (None if the procedure has none)."""
        for p in self.posts:
            if p.post is kind:
                return p
        return None

    def to_json(self) -> dict[str, Any]:
        """The entry body of RP-4.5."""
        return {
            "version": self.version,
            "election_date": self.election_date.isoformat(),
            "posts": [p.to_json() for p in self.posts],
        }


def _refuse(code: str, clause: str, zh: str, en: str) -> ProcedureCountError:
    return ProcedureCountError(code, zh=zh, en=en, clause=clause)


def check_omissions(procedure: Procedure, omissions: Sequence[Omission]) -> None:
    """(RP-4.4) Refuse (``preliminary.omission``) an omission the rule does not allow: a member who
    is not nominable or listed twice, ``qualification`` given by hand (it is computed), a
    ``declined`` or ``ten_disqualifications`` without a reference (1..64 characters), or a
    category that is not one of the ten for ``ten_disqualifications`` (and ``""`` otherwise)."""
    seen: set[MemberId] = set()
    for o in omissions:
        problem: tuple[str, str] | None = None
        if o.member not in procedure.nominable:
            problem = ("不是可被推荐的党员", "is not a nominable member")
        elif o.member in seen:
            problem = ("重复列出", "is listed twice")
        elif o.reason is OmissionReason.QUALIFICATION:
            problem = (
                "任职资格不符由系统按规则计算，不能手工列入",
                "qualification is computed, not given",
            )
        elif not 1 <= len(o.reference.strip()) <= REFERENCE_MAX_CHARS:
            problem = (
                "须写明依据文号（1 至 64 个字符）",
                "needs a reference of 1 to 64 characters",
            )
        elif o.reason is OmissionReason.TEN_DISQUALIFICATIONS and o.category not in (
            TEN_DISQUALIFICATIONS
        ):
            problem = ("须注明“十不推”的具体情形", "needs one of the ten categories (td1..td10)")
        elif o.reason is not OmissionReason.TEN_DISQUALIFICATIONS and o.category != "":
            problem = ("只有“十不推”注明情形", "only ten_disqualifications has a category")
        if problem is not None:
            raise _refuse(
                "preliminary.omission",
                "RP-4.4",
                f"未列入人选 {o.member}：{problem[0]}",
                f"omission of {o.member}: {problem[1]}",
            )
        seen.add(o.member)


def r27_problems(
    procedure: Procedure, post: PostKind, member: MemberId, on: dt.date
) -> tuple[Problem, ...]:
    """(R27) The qualification problems of ``member`` for ``post`` on ``on`` (secretary only).

    The election's own rule function is used so the codes and texts are the same
    (``qualification.age``, ``qualification.education``); it reads only the five R27 fields of
    the parameters, the others are filled with placeholders.
    """
    q = procedure.qualifications
    params = Parameters(
        preset=Preset.R2020,
        quorum_comparison=QuorumComparison.GT,
        threshold_base=ThresholdBase.EXPECTED,
        write_in_requires_disapproval=False,
        write_in_unmarked=WriteInUnmarked.IGNORED,
        unreadable_mark=UnreadableMark.VOID_MARK,
        publicity_working_days=procedure.publicity_working_days,
        qualification_policy=q.qualification_policy,
        secretary_new_max_age=q.secretary_new_max_age,
        secretary_new_min_education=q.secretary_new_min_education,
        secretary_continuing_max_age=q.secretary_continuing_max_age,
        secretary_continuing_min_education=q.secretary_continuing_min_education,
    )
    return qualification_problems(post, procedure.member(member), on, params)


def check_higher_level(
    procedure: Procedure, higher_level: Mapping[PostKind, Sequence[MemberId]]
) -> None:
    """(RP-3.9) Refuse (``preliminary.higher_level``) names for a post the procedure lacks, a
    member who is not nominable or named twice, or more names than the post's ``L``."""
    for post, names in higher_level.items():
        spec = procedure.post(post)
        bad = (
            spec is None
            or not 1 <= len(names) <= spec.preliminary_size
            or len(set(names)) != len(names)
            or any(n not in procedure.nominable for n in names)
        )
        if bad:
            raise _refuse(
                "preliminary.higher_level",
                "RP-3.9",
                f"{post.value} 的上级推荐人选须为本程序的职位、可被推荐的党员、"
                "各一次、不超过初步人选人数",
                f"the higher-level names for {post.value} must be nominable members of a post of "
                "the procedure, each once, at most its preliminary size",
            )


def _group_missing(post: PostKind, group: RecommendationGroup) -> None:
    raise _refuse(
        "preliminary.group_missing",
        "RP-4.1",
        f"党员推荐和群众推荐须都已进行（{post.value} 缺少"
        f"{'党员推荐' if group is RecommendationGroup.MEMBER else '群众推荐'}）",
        f"both the members' and the public recommendation must be held ({post.value} has no "
        f"counted {group.value} round)",
    )


def _counted_totals(
    procedure: Procedure, counts: Sequence[RecommendationCount], post: PostKind
) -> tuple[GroupTotals | None, GroupTotals | None]:
    """(RP-4.1) The members' and the public totals of ``post``; refuse
    (``preliminary.group_missing``) a group with no counted round, unless ``shares`` gives it
    weight 0."""
    ranking = procedure.recommendation.ranking
    totals: dict[RecommendationGroup, GroupTotals | None] = {}
    for group in RecommendationGroup:
        totals[group] = group_totals(counts, group, post)
        weight = (
            ranking.member_weight if group is RecommendationGroup.MEMBER else ranking.public_weight
        )
        exempt = ranking.mode is RankingMode.SHARES and weight == 0
        if totals[group] is None and not exempt:
            _group_missing(post, group)
    return totals[RecommendationGroup.MEMBER], totals[RecommendationGroup.PUBLIC]


def _apply_r27(
    procedure: Procedure,
    post: PostKind,
    candidates: set[MemberId],
    election_date: dt.date,
    omitted: dict[MemberId, Omission],
) -> list[Problem]:
    """(RP-4, R27) For the secretary post, each of ``candidates`` (in ``ballot_order``) that fails
    R27 on ``election_date``: under ``block`` a ``qualification`` omission is added to ``omitted``
    (a recorded omission stays); under ``warn`` its problems are returned as the post's
    ``warnings``. Other posts: nothing."""
    warnings: list[Problem] = []
    if post is not PostKind.SECRETARY:
        return warnings
    position = {m: i for i, m in enumerate(procedure.ballot_order)}
    for member in sorted(candidates, key=position.__getitem__):
        problems = r27_problems(procedure, post, member, election_date)
        if not problems:
            continue
        if procedure.qualifications.qualification_policy is QualificationPolicy.BLOCK:
            omitted.setdefault(member, Omission(member, OmissionReason.QUALIFICATION, "", ""))
        else:
            warnings.extend(problems)
    return warnings


def propose(
    procedure: Procedure,
    *,
    election_date: dt.date,
    counts: Sequence[RecommendationCount],
    omissions: Sequence[Omission] = (),
    higher_level: Mapping[PostKind, Sequence[MemberId]] | None = None,
) -> Proposal:
    """(RP-4) The ``preliminary.proposed`` body of version 1.

    ``counts`` are every ``recommendation.counted`` body; ``omissions`` the recorded ``declined``
    and ``ten_disqualifications`` (each holds for every post, and is listed under every post's
    ``omitted``); ``higher_level`` the names of each post's higher-level recommendation (RP-3.9).
    ``qualification`` omissions are computed: under ``block``, every secretary-post name that fails
    R27 on ``election_date``; under ``warn`` the problems are the post's ``warnings``. Omitted
    members are proposed on no ground for that post; ``omitted`` is in ``ballot_order``.

    Posts are computed secretary and deputy first, so the committee's ``secretary_list`` names are
    known; the posts of the body keep the definition's order.
    """
    check_omissions(procedure, omissions)
    hl = dict(higher_level or {})
    check_higher_level(procedure, hl)
    by_member = {o.member: o for o in omissions}
    position = {m: i for i, m in enumerate(procedure.ballot_order)}
    done: dict[PostKind, ProposedPost] = {}
    order = sorted(procedure.posts, key=lambda p: p.kind is PostKind.COMMITTEE)
    for spec in order:
        kind = spec.kind
        member_totals, public_totals = _counted_totals(procedure, counts, kind)
        ranked = rank_post(procedure, member_totals, public_totals)
        by_rank = {r.member: r for r in ranked}
        candidates = {r.member for r in ranked} | set(hl.get(kind, ()))
        omitted = dict(by_member)
        warnings = _apply_r27(procedure, kind, candidates, election_date, omitted)
        pool = [r for r in ranked if r.member not in omitted]
        reached, short = rule_list(pool, spec.preliminary_size)
        names: dict[MemberId, tuple[RankedMember, Basis]] = {r.member: (r, b) for r, b in reached}
        if kind is PostKind.COMMITTEE:
            for other in (PostKind.SECRETARY, PostKind.DEPUTY_SECRETARY):
                for n in done[other].names if other in done else ():
                    if n.member not in names and n.member not in omitted:
                        names[n.member] = (_ranked(by_rank, n.member), Basis.SECRETARY_LIST)
        for member in hl.get(kind, ()):
            if member not in names and member not in omitted:
                names[member] = (_ranked(by_rank, member), Basis.HIGHER_LEVEL)
        done[kind] = ProposedPost(
            post=kind,
            names=_ordered(names.values(), position),
            omitted=tuple(sorted(omitted.values(), key=lambda o: position[o.member])),
            short=short,
            warnings=tuple(warnings),
        )
    return Proposal(
        version=1,
        election_date=election_date,
        posts=tuple(done[p.kind] for p in procedure.posts),
    )


def _ranked(by_rank: Mapping[MemberId, RankedMember], member: MemberId) -> RankedMember:
    return by_rank.get(member) or RankedMember(member, 0, 0, 0)


def _ordered(
    names: Iterable[tuple[RankedMember, Basis]], position: Mapping[MemberId, int]
) -> tuple[ProposedName, ...]:
    items = sorted(names, key=lambda rb: (-rb[0].score, position[rb[0].member]))
    return tuple(
        ProposedName(
            member=r.member,
            basis=b,
            member_recommendations=r.member_recommendations,
            public_recommendations=r.public_recommendations,
            score=r.score,
        )
        for r, b in items
    )
