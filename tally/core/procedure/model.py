"""The procedure definition as frozen values (spec/procedure.md §2, RP-2.1, RP-2.2).

Everything here is produced by :func:`tally.core.procedure.definition.parse_procedure` (or
:func:`~tally.core.procedure.definition.build_procedure` from a clerk's input file); code that holds
one of these values may trust it (parse, don't validate). The roster, exclusions, officials and post
kinds are the election definition's own types (:mod:`tally.core.model`), so the same member is the
same value in the procedure and in the later election.

Public names (the contract of piece 1 of spec/procedure.md §17 for the counting core):

* :class:`Procedure`: the whole definition; ``nominable`` (RP-3.1), ``expected_electors`` (``E``,
  R3), ``member``, ``post`` and ``position`` (a member's place in ``ballot_order``).
* :class:`ProcedureInfo`, :class:`ProcedurePost` (``seats``, ``margin``, ``preliminary_size`` ``L``,
  ``formal_size`` ``F``, ``max_per_ballot`` ``K``), :class:`Recommendation` with :class:`Ranking`,
  :class:`Evaluation` with :class:`ScaleItem`, :class:`Qualifications`, :class:`ProcedureKeys` with
  :class:`PublicKeyDocument`.
* The enums :class:`RecommendationLayout`, :class:`RecommendationQuorum`, :class:`RankingMode`,
  :class:`FailComparison`.
* :class:`SignedProcedure`: a ``signed-procedure/1`` whose town signature a shell has checked.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from tally.core.model import (
    Body,
    Education,
    Exclusion,
    MarginRule,
    Member,
    MemberId,
    Officials,
    PostKind,
    QualificationPolicy,
)
from tally.core.rules import is_eligible_elector

__all__ = [
    "LABELS_ZH",
    "Evaluation",
    "FailComparison",
    "Procedure",
    "ProcedureInfo",
    "ProcedureKeys",
    "ProcedurePost",
    "PublicKeyDocument",
    "Qualifications",
    "Ranking",
    "RankingMode",
    "Recommendation",
    "RecommendationLayout",
    "RecommendationQuorum",
    "ScaleItem",
    "SignedProcedure",
]


class RecommendationLayout(StrEnum):
    """(RP-2.2, RP-3.3) What a recommendation ballot prints."""

    LISTED = "listed"
    """Every nominable member in ``ballot_order`` with a mark cell, plus ``K`` blank rows."""
    WRITTEN = "written"
    """``K`` blank rows only (a branch too large for one page)."""


class RecommendationQuorum(StrEnum):
    """(RP-2.2, RP-3.2) Who must be present for a members' recommendation session."""

    HALF = "half"
    """``2*P > E``."""
    FOUR_FIFTHS = "four_fifths"
    """``5*P > 4*E``."""


class RankingMode(StrEnum):
    """(RP-4.1) How the two groups' recommendations make a score."""

    SHARES = "shares"
    """``Wm*m*max(Vp,1) + Wp*p*max(Vm,1)``: the weighted sum of the two shares, in integers."""
    SUM = "sum"
    """``m + p``: every recommender counts once."""


class FailComparison(StrEnum):
    """(RP-5.5) How the fail count is compared with the share of valid evaluation ballots."""

    GT = "GT"
    """超过: ``den*f > num*V``."""
    GE = "GE"
    """达到或超过: ``den*f >= num*V``."""


LABELS_ZH: dict[StrEnum, str] = {
    RecommendationLayout.LISTED: "印出全部可被推荐的党员",
    RecommendationLayout.WRITTEN: "只留空格填写姓名",
    RecommendationQuorum.HALF: "超过半数",
    RecommendationQuorum.FOUR_FIFTHS: "超过五分之四",
    RankingMode.SHARES: "按两组推荐比例加权",
    RankingMode.SUM: "推荐票数相加",
    FailComparison.GT: "超过",
    FailComparison.GE: "达到或超过",
}
"""The Chinese label of each procedure enum value (the English code is its ``value``)."""


@dataclass(frozen=True, slots=True)
class ProcedureInfo:
    """The ``election`` member: what the procedure is for."""

    title: str
    branch: str
    branch_code: str
    town: str
    term: str


@dataclass(frozen=True, slots=True)
class ProcedurePost:
    """(RP-2.1, RP-2.2) A post of the later election and its procedure sizes.

    ``seats`` is ``S``, ``preliminary_size`` is ``L``, ``formal_size`` is ``F`` (0: every name
    that proceeds), ``max_per_ballot`` is ``K``.
    """

    kind: PostKind
    seats: int
    margin: MarginRule
    preliminary_size: int
    formal_size: int
    max_per_ballot: int


@dataclass(frozen=True, slots=True)
class Ranking:
    """(RP-4.1) The ranking rule and its integer weights (members', public's)."""

    mode: RankingMode
    member_weight: int
    public_weight: int


@dataclass(frozen=True, slots=True)
class Recommendation:
    """(RP-2.2) The recommendation's parameters; ``public_representatives`` is ``R``."""

    layout: RecommendationLayout
    quorum: RecommendationQuorum
    public_representatives: int
    ranking: Ranking


@dataclass(frozen=True, slots=True)
class ScaleItem:
    """One column of the evaluation scale (RP-2.2): a letter ``a``-``z`` and its two labels."""

    letter: str
    zh: str
    en: str


@dataclass(frozen=True, slots=True)
class Evaluation:
    """(RP-2.2, RP-5.5) The evaluation's scale and its rule; ``public_representatives`` is ``Q``.

    A person does not proceed iff ``fail_denominator * f > fail_numerator * V`` (``GT``; ``>=``
    for ``GE``), ``f`` the ballots marked with one of ``fail_letters``.
    """

    scale: tuple[ScaleItem, ...]
    fail_letters: tuple[str, ...]
    fail_numerator: int
    fail_denominator: int
    fail_comparison: FailComparison
    public_representatives: int


@dataclass(frozen=True, slots=True)
class Qualifications:
    """(R27, RP-4.4) The five qualification parameters, with their R1 names."""

    qualification_policy: QualificationPolicy
    secretary_new_max_age: int
    secretary_new_min_education: Education
    secretary_continuing_max_age: int
    secretary_continuing_min_education: Education


@dataclass(frozen=True, slots=True)
class PublicKeyDocument:
    """A ``pubkey/1`` document as written in the definition (spec/keyfile.md §5.2).

    The core checks its shape only; that ``keys`` reads it (label rules included) is the shell's
    check (``tally.procedure_file``), which holds the crypto.
    """

    algorithm: str
    role: str
    label: str
    key: str

    def to_json(self) -> dict[str, str]:
        """The document's JSON members."""
        return {
            "format": "pubkey/1",
            "algorithm": self.algorithm,
            "role": self.role,
            "label": self.label,
            "key": self.key,
        }


@dataclass(frozen=True, slots=True)
class ProcedureKeys:
    """(RP-2.1) The work group key and one scrutineer key per scrutineer, in the same order."""

    work_group: PublicKeyDocument
    scrutineers: tuple[PublicKeyDocument, ...]


@dataclass(frozen=True, slots=True)
class Procedure:
    """A validated ``procedure/1`` definition (spec/procedure.md RP-2.1 and RP-2.4 hold)."""

    election: ProcedureInfo
    casework_id: str
    members: tuple[Member, ...]
    exclusions: tuple[Exclusion, ...]
    ballot_order: tuple[MemberId, ...]
    posts: tuple[ProcedurePost, ...]
    secretary_body: Body
    recommendation: Recommendation
    evaluation: Evaluation
    qualifications: Qualifications
    officials: Officials
    publicity_working_days: int
    keys: ProcedureKeys

    def member(self, member_id: MemberId) -> Member:
        """The roster entry of ``member_id`` (KeyError if absent: a programming error)."""
        for m in self.members:
            if m.id == member_id:
                return m
        raise KeyError(member_id)

    def post(self, kind: PostKind) -> ProcedurePost | None:
        """The post of ``kind``, or None when the procedure has no such post."""
        for p in self.posts:
            if p.kind is kind:
                return p
        return None

    @property
    def excluded(self) -> frozenset[MemberId]:
        """The members excluded from ``E`` for the procedure (RP-2.1)."""
        return frozenset(x.member for x in self.exclusions)

    @property
    def expected_electors(self) -> tuple[MemberId, ...]:
        """(R2, R3) ``E`` of a members' session: eligible electors not excluded, roster order."""
        excluded = self.excluded
        return tuple(m.id for m in self.members if is_eligible_elector(m) and m.id not in excluded)

    @property
    def nominable(self) -> frozenset[MemberId]:
        """(RP-3.1) The members who may be recommended: exactly those of ``ballot_order``."""
        return frozenset(self.ballot_order)

    def position(self, member_id: MemberId) -> int:
        """A nominable member's index in ``ballot_order`` (ValueError if not nominable)."""
        return self.ballot_order.index(member_id)


@dataclass(frozen=True, slots=True)
class SignedProcedure:
    """A ``signed-procedure/1`` (RP-2.3) whose signature and trust root a shell has checked.

    ``procedure_id`` is 32 bytes (its first 16 are every procedure ballot's QR prefix, RP-3.5);
    ``raw`` the stored bytes, never re-serialised to re-check.
    """

    procedure: Procedure
    procedure_id: bytes
    town_key: PublicKeyDocument
    signature: bytes
    raw: bytes
