"""The election definition as frozen values (spec/rules.md R1-R30, spec/definition.md).

Everything here is produced by :func:`tally.core.definition.parse_definition`; code that holds one
of these values may trust it (parse, don't validate).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import Enum, StrEnum
from typing import NewType

__all__ = [
    "Body",
    "Education",
    "Election",
    "Exclusion",
    "ExclusionCategory",
    "MarginRule",
    "Member",
    "MemberId",
    "MemberStatus",
    "Officials",
    "Parameters",
    "Post",
    "PostKind",
    "Preset",
    "QualificationPolicy",
    "QuorumComparison",
    "RemoteVoting",
    "Sex",
    "ThresholdBase",
    "UnreadableMark",
    "WriteInUnmarked",
    "zh_label",
]

MemberId = NewType("MemberId", str)


def zh_label(value: Enum) -> str:
    """The Chinese label of an enum value (the English code is its ``value``)."""
    return _LABELS_ZH[(type(value), str(value.value))]


class Preset(StrEnum):
    R2020 = "R2020"
    R1990 = "R1990"


class QuorumComparison(StrEnum):
    GT = "GT"
    GE = "GE"


class ThresholdBase(StrEnum):
    EXPECTED = "E"
    PRESENT = "P"


class UnreadableMark(StrEnum):
    VOID_MARK = "void_mark"
    VOID_BALLOT = "void_ballot"


class WriteInUnmarked(StrEnum):
    """What a write-in name without a ○ under it means (RULES §3.1: templates differ)."""

    IGNORED = "ignored"
    APPROVAL = "approval"


class QualificationPolicy(StrEnum):
    BLOCK = "block"
    WARN = "warn"


class Sex(StrEnum):
    MALE = "male"
    FEMALE = "female"


class MemberStatus(StrEnum):
    FULL = "full"
    PROBATIONARY = "probationary"
    PARTY_PROBATION = "party_probation"
    SUSPENDED = "suspended"
    MEMBERSHIP_STOPPED = "membership_stopped"


class Education(StrEnum):
    PRIMARY = "primary"
    JUNIOR_HIGH = "junior_high"
    SENIOR_HIGH = "senior_high"
    COLLEGE = "college"
    BACHELOR = "bachelor"
    POSTGRADUATE = "postgraduate"

    @property
    def level(self) -> int:
        return list(Education).index(self)


class ExclusionCategory(StrEnum):
    """The categories of RULES §1.2 (2020 list)."""

    ILLNESS = "illness"
    ABROAD = "abroad"
    MEMBERSHIP_STOPPED = "membership_stopped"
    PARTY_PROBATION = "party_probation"
    DETAINED = "detained"
    INFIRM = "infirm"
    AWAY_UNMOVED = "away_unmoved"
    MIGRANT_APPLIED = "migrant_applied"


class PostKind(StrEnum):
    COMMITTEE = "committee"
    SECRETARY = "secretary"
    DEPUTY_SECRETARY = "deputy_secretary"


class Body(StrEnum):
    """The body that elects the secretary and deputy (RULES A7)."""

    ASSEMBLY = "assembly"
    COMMITTEE = "committee"
    DIRECT = "direct"


class MarginRule(StrEnum):
    """Minimum competitive margin of a post (R18, R19)."""

    TWENTY_PERCENT = "20pct"
    NONE = "none"


# Keyed by (enum class, code): StrEnum members of different classes with the same code
# (PostKind.COMMITTEE and Body.COMMITTEE) compare and hash equal.
_LABEL_PAIRS: tuple[tuple[Enum, str], ...] = (
    (Preset.R2020, "2020年条例"),
    (Preset.R1990, "1990年暂行条例"),
    (QuorumComparison.GT, "超过五分之四"),
    (QuorumComparison.GE, "达到或超过五分之四"),
    (ThresholdBase.EXPECTED, "应到会有选举权人数"),
    (ThresholdBase.PRESENT, "实到会有选举权人数"),
    (UnreadableMark.VOID_MARK, "该处无效"),
    (UnreadableMark.VOID_BALLOT, "整张选票无效"),
    (WriteInUnmarked.IGNORED, "不计"),
    (WriteInUnmarked.APPROVAL, "视为赞成"),
    (QualificationPolicy.BLOCK, "阻止"),
    (QualificationPolicy.WARN, "警告"),
    (Sex.MALE, "男"),
    (Sex.FEMALE, "女"),
    (MemberStatus.FULL, "正式党员"),
    (MemberStatus.PROBATIONARY, "预备党员"),
    (MemberStatus.PARTY_PROBATION, "留党察看"),
    (MemberStatus.SUSPENDED, "中止权利（留置或逮捕）"),
    (MemberStatus.MEMBERSHIP_STOPPED, "停止党籍"),
    (Education.PRIMARY, "小学"),
    (Education.JUNIOR_HIGH, "初中"),
    (Education.SENIOR_HIGH, "高中（中专）"),
    (Education.COLLEGE, "大专"),
    (Education.BACHELOR, "本科"),
    (Education.POSTGRADUATE, "研究生"),
    (ExclusionCategory.ILLNESS, "患有精神病或其他疾病导致不能正确表达本人意志"),
    (ExclusionCategory.ABROAD, "出国（境）难以按时回国参加"),
    (ExclusionCategory.MEMBERSHIP_STOPPED, "停止党籍"),
    (ExclusionCategory.PARTY_PROBATION, "留党察看期间"),
    (ExclusionCategory.DETAINED, "被留置或逮捕"),
    (ExclusionCategory.INFIRM, "年老体弱卧床不起或长期生病生活不能自理"),
    (ExclusionCategory.AWAY_UNMOVED, "外出超过半年应转未转组织关系"),
    (ExclusionCategory.MIGRANT_APPLIED, "流动党员本人申请不能参加"),
    (PostKind.COMMITTEE, "委员"),
    (PostKind.SECRETARY, "书记"),
    (PostKind.DEPUTY_SECRETARY, "副书记"),
    (Body.ASSEMBLY, "党员大会"),
    (Body.COMMITTEE, "支部委员会全体会议"),
    (Body.DIRECT, "党员大会直接选举"),
    (MarginRule.TWENTY_PERCENT, "差额不少于20%"),
    (MarginRule.NONE, "可等额"),
)
_LABELS_ZH: dict[tuple[type[Enum], str], str] = {
    (type(k), str(k.value)): v for k, v in _LABEL_PAIRS
}

# Chinese spellings accepted in the definition file for enum fields, beside the English codes.
ZH_ALIASES: dict[type[Enum], dict[str, str]] = {
    Sex: {"男": "male", "女": "female"},
    MemberStatus: {
        "正式党员": "full",
        "预备党员": "probationary",
        "留党察看": "party_probation",
        "中止": "suspended",
        "停止党籍": "membership_stopped",
    },
    Education: {
        "小学": "primary",
        "初中": "junior_high",
        "高中": "senior_high",
        "中专": "senior_high",
        "大专": "college",
        "本科": "bachelor",
        "研究生": "postgraduate",
    },
    PostKind: {"委员": "committee", "书记": "secretary", "副书记": "deputy_secretary"},
    Body: {"党员大会": "assembly", "支部委员会": "committee", "直选": "direct"},
}


@dataclass(frozen=True, slots=True)
class Member:
    """One member on the roster (RULES §1.1)."""

    id: MemberId
    name: str
    sex: Sex
    birth_date: dt.date
    education: Education
    status: MemberStatus
    registered_here: bool
    incumbent_secretary: bool = False

    def age_on(self, day: dt.date) -> int:
        """Age in whole years on ``day``."""
        had_birthday = (day.month, day.day) >= (self.birth_date.month, self.birth_date.day)
        return day.year - self.birth_date.year - (0 if had_birthday else 1)


@dataclass(frozen=True, slots=True)
class Exclusion:
    """A member left out of E with both approvals (R3); one without both never parses."""

    member: MemberId
    category: ExclusionCategory
    higher_level_approval: str
    assembly_approval: str


@dataclass(frozen=True, slots=True)
class Post:
    """A post to fill, its seats, and its candidates in the approved ballot order (R29)."""

    kind: PostKind
    seats: int
    candidates: tuple[MemberId, ...]
    margin: MarginRule


@dataclass(frozen=True, slots=True)
class Officials:
    """Scrutineers and tellers of the assembly rounds (R25)."""

    scrutineers: tuple[MemberId, ...]
    tellers: tuple[MemberId, ...]


@dataclass(frozen=True, slots=True)
class RemoteVoting:
    """The town committee's authorisation of remote ballots (R24)."""

    approved: tuple[MemberId, ...]
    counts_toward_quorum: bool


@dataclass(frozen=True, slots=True)
class Parameters:
    """Every rule parameter, resolved from the preset and the file's overrides (R1)."""

    preset: Preset
    quorum_comparison: QuorumComparison
    threshold_base: ThresholdBase
    write_in_requires_disapproval: bool
    write_in_unmarked: WriteInUnmarked
    unreadable_mark: UnreadableMark
    publicity_working_days: int
    qualification_policy: QualificationPolicy
    secretary_new_max_age: int
    secretary_new_min_education: Education
    secretary_continuing_max_age: int
    secretary_continuing_min_education: Education


@dataclass(frozen=True, slots=True)
class Election:
    """A validated election definition: the input of the manifest the town committee signs."""

    title: str
    branch: str
    town: str
    term: str
    election_date: dt.date
    parameters: Parameters
    members: tuple[Member, ...]
    exclusions: tuple[Exclusion, ...]
    posts: tuple[Post, ...]
    secretary_body: Body
    officials: Officials
    remote_voting: RemoteVoting
    objections_to: str

    def member(self, member_id: MemberId) -> Member:
        """The roster entry of ``member_id`` (KeyError if absent: a programming error)."""
        for m in self.members:
            if m.id == member_id:
                return m
        raise KeyError(member_id)

    def post(self, kind: PostKind) -> Post | None:
        """The post of ``kind``, or None when the election has no such post."""
        for p in self.posts:
            if p.kind is kind:
                return p
        return None

    @property
    def has_committee(self) -> bool:
        return self.post(PostKind.COMMITTEE) is not None
