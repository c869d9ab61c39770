"""Counting recommendation ballots (spec/procedure.md RP-3.7, RP-3.10): pure functions.

A round of one group and one post is counted from its entered ballots (``recommendation.entered``
bodies, as :class:`RecommendationBallot`) and the number of ballots declared invalid (RP-3.8) into
the ``recommendation.counted`` body (:class:`RecommendationCount`). Every written name that gives
no recommendation is counted under its reason and listed (never silently dropped).

Public names: :class:`RecommendationGroup`, :class:`NotCountedReason`, :class:`WrittenName`,
:class:`RecommendationBallot`, :class:`BallotCount`, :func:`count_ballot`,
:class:`RecommendationCount` (with :class:`MemberRecommendations`, :class:`ReasonCount`,
:class:`WrittenNameNote`), :func:`count_recommendation_round`, :func:`check_recommendation_ballot`,
and :data:`NOTE_TEXT` (the zh/en text of each ``written.<reason>`` note, §14).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from tally.core.model import MemberId, PostKind
from tally.core.procedure.errors import ProcedureCountError
from tally.core.procedure.model import Procedure, ProcedurePost, RecommendationLayout

__all__ = [
    "MARK_BLANK",
    "MARK_RECOMMENDED",
    "MARK_UNREADABLE",
    "NOTE_TEXT",
    "UNREADABLE_NAME",
    "BallotCount",
    "MemberRecommendations",
    "NotCountedReason",
    "ReasonCount",
    "RecommendationBallot",
    "RecommendationCount",
    "RecommendationGroup",
    "WrittenName",
    "WrittenNameNote",
    "check_recommendation_ballot",
    "count_ballot",
    "count_recommendation_round",
]

MARK_RECOMMENDED = "o"
MARK_BLANK = "-"
MARK_UNREADABLE = "?"
UNREADABLE_NAME = "?"
"""The ``name`` of a written row that cannot be read (RP-3.7)."""


class RecommendationGroup(StrEnum):
    """(RP-3.2) Who recommends: the members (党员推荐) or the public representatives (群众推荐)."""

    MEMBER = "member"
    PUBLIC = "public"


class NotCountedReason(StrEnum):
    """(RP-3.7 step 3) Why a written name gives no recommendation, in the order they are tried
    (and the order of ``not_counted``)."""

    UNREADABLE = "unreadable"
    NOT_ON_ROSTER = "not_on_roster"
    NOT_NOMINABLE = "not_nominable"
    LISTED = "listed"
    REPEATED = "repeated"


NOTE_TEXT: dict[NotCountedReason, tuple[str, str]] = {
    NotCountedReason.UNREADABLE: (
        "所写姓名无法辨认，不计推荐票",
        "the written name cannot be read: no recommendation",
    ),
    NotCountedReason.NOT_ON_ROSTER: (
        "所写姓名不是本支部党员，不计推荐票",
        "the written name is not a member: no recommendation",
    ),
    NotCountedReason.NOT_NOMINABLE: (
        "所写党员不具备被推荐资格，不计推荐票",
        "the written member may not be recommended: no recommendation",
    ),
    NotCountedReason.LISTED: (
        "已印在推荐票上的人选须画“○”，另写不计",
        "a printed name is recommended only by its mark",
    ),
    NotCountedReason.REPEATED: (
        "同一人在同一张推荐票上重复，只计一次",
        "the same person twice on one ballot counts once",
    ),
}
"""The note ``written.<reason>`` of §14, (zh, en), shown beside each name not counted."""


@dataclass(frozen=True, slots=True)
class WrittenName:
    """One filled blank row: the name as written and the teller's match to the roster (``""``:
    nobody on the roster). An unreadable name is ``"?"`` with member ``""``."""

    name: str
    member: str


@dataclass(frozen=True, slots=True)
class RecommendationBallot:
    """An entered recommendation ballot (the ``marks`` and ``written`` of RP-3.7).

    ``marks`` has one letter per nominable member in ``ballot_order`` under ``listed`` (``o``,
    ``-``, ``?``) and is ``""`` under ``written``.
    """

    marks: str
    written: tuple[WrittenName, ...]


@dataclass(frozen=True, slots=True)
class BallotCount:
    """(RP-3.7) What one ballot gives: ``n``, whether it is valid, the members it recommends (marks
    in ``ballot_order``, then written rows in row order) and each written row that gives none."""

    n: int
    valid: bool
    recommended: tuple[MemberId, ...]
    not_counted: tuple[tuple[WrittenName, NotCountedReason], ...]


@dataclass(frozen=True, slots=True)
class MemberRecommendations:
    """A member and the recommendations the round gave them."""

    member: MemberId
    recommendations: int


@dataclass(frozen=True, slots=True)
class ReasonCount:
    """How many written names gave no recommendation for one reason."""

    reason: NotCountedReason
    count: int


@dataclass(frozen=True, slots=True)
class WrittenNameNote:
    """A written name that gave no recommendation, with its reason (for the town committee)."""

    name: str
    reason: NotCountedReason


@dataclass(frozen=True, slots=True)
class RecommendationCount:
    """(RP-3.10) The ``recommendation.counted`` body of one group's round for one post."""

    group: RecommendationGroup
    post: PostKind
    round: int
    valid_ballots: int
    invalid_ballots: int
    recommendations: tuple[MemberRecommendations, ...]
    not_counted: tuple[ReasonCount, ...]
    written_names: tuple[WrittenNameNote, ...]

    def of(self, member: MemberId) -> int:
        """The recommendations ``member`` received in the round (0 when none)."""
        for r in self.recommendations:
            if r.member == member:
                return r.recommendations
        return 0

    def to_json(self) -> dict[str, Any]:
        """The entry body of RP-3.10."""
        return {
            "group": self.group.value,
            "post": self.post.value,
            "round": self.round,
            "valid_ballots": self.valid_ballots,
            "invalid_ballots": self.invalid_ballots,
            "recommendations": [
                {"member": r.member, "recommendations": r.recommendations}
                for r in self.recommendations
            ],
            "not_counted": [{"reason": c.reason.value, "count": c.count} for c in self.not_counted],
            "written_names": [
                {"name": w.name, "reason": w.reason.value} for w in self.written_names
            ],
        }


def _post(procedure: Procedure, post: PostKind) -> ProcedurePost:
    found = procedure.post(post)
    if found is None:
        raise ProcedureCountError(
            "recommendation.post",
            zh=f"本换届程序没有“{post.value}”这一职位",
            en=f"the procedure has no post {post.value}",
            clause="RP-3.2",
        )
    return found


def check_recommendation_ballot(procedure: Procedure, ballot: RecommendationBallot) -> None:
    """(RP-3.7) Refuse an entry that does not fit the definition (nothing is counted from it).

    ``recommendation.marks``: under ``listed`` one of ``o``, ``-``, ``?`` per nominable member;
    under ``written`` no marks. ``recommendation.written``: a row with an empty name, an
    unreadable name (``"?"``) matched to a member, or a match to an id not on the roster. A row
    count above ``K`` is not refused here: such a ballot is invalid (RP-3.7 step 2).
    """
    layout = procedure.recommendation.layout
    if layout is RecommendationLayout.LISTED:
        if len(ballot.marks) != len(procedure.ballot_order) or any(
            c not in (MARK_RECOMMENDED, MARK_BLANK, MARK_UNREADABLE) for c in ballot.marks
        ):
            raise ProcedureCountError(
                "recommendation.marks",
                zh=f"推荐票标记须为每位可被推荐的党员各一个（○、空白或无法辨认），共 "
                f"{len(procedure.ballot_order)} 个",
                en=f"the marks must be one of o, -, ? for each of the "
                f"{len(procedure.ballot_order)} nominable members",
                clause="RP-3.7",
            )
    elif ballot.marks != "":
        raise ProcedureCountError(
            "recommendation.marks",
            zh="只留空格的推荐票没有印出的人选，不能有标记",
            en="a written-layout ballot has no printed names and so no marks",
            clause="RP-3.7",
        )
    roster = {m.id for m in procedure.members}
    for i, row in enumerate(ballot.written, start=1):
        if row.name == "":
            problem = ("姓名为空", "the name is empty")
        elif row.name == UNREADABLE_NAME and row.member != "":
            problem = ("无法辨认的姓名不能对应到党员", "an unreadable name matches no member")
        elif row.member != "" and row.member not in roster:
            problem = (f"{row.member} 不在名册中", f"{row.member} is not on the roster")
        else:
            continue
        raise ProcedureCountError(
            "recommendation.written",
            zh=f"第 {i} 个另推荐人选：{problem[0]}",
            en=f"written row {i}: {problem[1]}",
            clause="RP-3.7",
        )


def count_ballot(procedure: Procedure, post: PostKind, ballot: RecommendationBallot) -> BallotCount:
    """(RP-3.7) Count one entered ballot for ``post``; the entry is checked first.

    ``n`` counts the ``o`` marks and every filled row; ``n > K`` makes the whole ballot invalid
    (it then recommends nobody and lists no name). On a valid ballot each ``o`` recommends its
    member and each row its ``member`` unless a reason of step 3 applies (first in the order of
    :class:`NotCountedReason`).
    """
    check_recommendation_ballot(procedure, ballot)
    k = _post(procedure, post).max_per_ballot
    marked = [
        member
        for member, mark in zip(procedure.ballot_order, ballot.marks, strict=False)
        if mark == MARK_RECOMMENDED
    ]
    n = len(marked) + len(ballot.written)
    if n > k:
        return BallotCount(n=n, valid=False, recommended=(), not_counted=())
    nominable = procedure.nominable
    listed = procedure.recommendation.layout is RecommendationLayout.LISTED
    recommended: list[MemberId] = list(marked)
    not_counted: list[tuple[WrittenName, NotCountedReason]] = []
    for row in ballot.written:
        if row.name == UNREADABLE_NAME:
            reason: NotCountedReason | None = NotCountedReason.UNREADABLE
        elif row.member == "":
            reason = NotCountedReason.NOT_ON_ROSTER
        elif row.member not in nominable:
            reason = NotCountedReason.NOT_NOMINABLE
        elif listed:
            reason = NotCountedReason.LISTED
        elif row.member in recommended:
            reason = NotCountedReason.REPEATED
        else:
            reason = None
        if reason is None:
            recommended.append(MemberId(row.member))
        else:
            not_counted.append((row, reason))
    return BallotCount(
        n=n, valid=True, recommended=tuple(recommended), not_counted=tuple(not_counted)
    )


def count_recommendation_round(
    procedure: Procedure,
    group: RecommendationGroup,
    post: PostKind,
    round_no: int,
    ballots: Sequence[RecommendationBallot],
    *,
    declared_invalid: int = 0,
) -> RecommendationCount:
    """(RP-3.10) The ``recommendation.counted`` body of a round of ``group`` for ``post``.

    ``ballots`` are the round's ``recommendation.entered`` ballots in entry order;
    ``declared_invalid`` the number of its ``ballot.declared_invalid`` entries (RP-3.8). Invalid
    ballots are those declared so plus those with ``n > K``; ``recommendations`` lists every member
    with at least one, in ``ballot_order``; ``written_names`` the rows of valid ballots that gave
    none, in entry order.
    """
    if declared_invalid < 0 or not 1 <= round_no <= 255:
        raise ProcedureCountError(
            "recommendation.round",
            zh="轮次须为 1 至 255，宣布无效的票数不能为负",
            en="the round is 1..255 and the number declared invalid is not negative",
            clause="RP-3.2",
        )
    _post(procedure, post)
    per_member: dict[MemberId, int] = {}
    reasons: dict[NotCountedReason, int] = {}
    notes: list[WrittenNameNote] = []
    valid = 0
    invalid = declared_invalid
    for ballot in ballots:
        result = count_ballot(procedure, post, ballot)
        if not result.valid:
            invalid += 1
            continue
        valid += 1
        for member in result.recommended:
            per_member[member] = per_member.get(member, 0) + 1
        for row, reason in result.not_counted:
            reasons[reason] = reasons.get(reason, 0) + 1
            notes.append(WrittenNameNote(name=row.name, reason=reason))
    return RecommendationCount(
        group=group,
        post=post,
        round=round_no,
        valid_ballots=valid,
        invalid_ballots=invalid,
        recommendations=tuple(
            MemberRecommendations(member=m, recommendations=per_member[m])
            for m in procedure.ballot_order
            if m in per_member
        ),
        not_counted=tuple(
            ReasonCount(reason=r, count=reasons[r]) for r in NotCountedReason if r in reasons
        ),
        written_names=tuple(notes),
    )
