"""The election rules as small pure functions, one per clause of spec/rules.md.

Each function names the clause it implements. Integer arithmetic only: every comparison of the
rules is written without division (``5*P > 4*E`` rather than ``P/E > 0.8``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

from tally.core.errors import Problem
from tally.core.model import (
    Election,
    Member,
    MemberId,
    MemberStatus,
    Parameters,
    PostKind,
    QuorumComparison,
    Sex,
    ThresholdBase,
    zh_label,
)
from tally.core.model import MarginRule as _MarginRule

__all__ = [
    "QuorumCheck",
    "TownSecretary",
    "TownShares",
    "candidate_eligible_for_election",
    "expected_electors",
    "full_members_on_roster",
    "is_eligible_elector",
    "margin_satisfied",
    "passes_threshold",
    "plenary_quorum",
    "publicity_day_zero",
    "qualification_problems",
    "quorum",
    "rank_and_fill",
    "seat_reduction_allowed",
    "town_shares",
]


def is_eligible_elector(member: Member) -> bool:
    """(R2) A full member, not under party probation, rights not suspended, not stopped, registered
    in this branch."""
    return member.status is MemberStatus.FULL and member.registered_here


def candidate_eligible_for_election(member: Member) -> bool:
    """(R30) Only a member who may vote here may be elected here."""
    return is_eligible_elector(member)


def full_members_on_roster(members: Iterable[Member]) -> int:
    """(R23) The count behind "7 or more full members: set up a committee": every full member
    (正式党员) on the roster, before exclusions (R3) and wherever the formal relationship is."""
    return sum(1 for m in members if m.status is MemberStatus.FULL)


def expected_electors(election: Election) -> tuple[MemberId, ...]:
    """(R2, R3) The members counted in E: eligible electors minus approved exclusions."""
    excluded = {x.member for x in election.exclusions}
    return tuple(m.id for m in election.members if is_eligible_elector(m) and m.id not in excluded)


class QuorumRule(StrEnum):
    ASSEMBLY = "assembly"
    PLENARY = "plenary"


@dataclass(frozen=True, slots=True)
class QuorumCheck:
    """The verdict of a quorum check, with the numbers a clerk reads aloud."""

    rule: QuorumRule
    present: int
    expected: int
    comparison: QuorumComparison
    valid: bool
    at_equality: bool
    clause: str

    @property
    def minimum_present(self) -> int:
        """The smallest number present that makes the meeting valid."""
        if self.rule is QuorumRule.PLENARY:
            return (2 * self.expected) // 3 + 1
        if self.comparison is QuorumComparison.GE:
            return -(-4 * self.expected // 5)
        return (4 * self.expected) // 5 + 1


def quorum(present: int, expected: int, comparison: QuorumComparison) -> QuorumCheck:
    """(R5) The assembly is valid iff ``5P > 4E`` (GT) or ``5P >= 4E`` (GE).

    ``at_equality`` is set when ``5P == 4E``: the shell must show a warning naming the rule applied.
    """
    if present < 0 or expected < 0:
        msg = "counts cannot be negative"
        raise ValueError(msg)
    lhs, rhs = 5 * present, 4 * expected
    valid = lhs > rhs or (comparison is QuorumComparison.GE and lhs == rhs)
    return QuorumCheck(
        rule=QuorumRule.ASSEMBLY,
        present=present,
        expected=expected,
        comparison=comparison,
        valid=valid and expected > 0,
        at_equality=lhs == rhs,
        clause="R5",
    )


def plenary_quorum(present: int, committee_size: int) -> QuorumCheck:
    """(R6) The committee plenary is valid iff ``3P > 2N``."""
    return QuorumCheck(
        rule=QuorumRule.PLENARY,
        present=present,
        expected=committee_size,
        comparison=QuorumComparison.GT,
        valid=3 * present > 2 * committee_size and committee_size > 0,
        at_equality=False,
        clause="R6",
    )


def threshold_base(params: Parameters, expected: int, present: int) -> int:
    """(R13) The base of the assembly threshold: E under R2020, P under R1990 (a parameter)."""
    return expected if params.threshold_base is ThresholdBase.EXPECTED else present


def passes_threshold(approvals: int, base: int) -> bool:
    """(R13) More than half: ``2v > base``. Exactly half fails."""
    return 2 * approvals > base


def margin_satisfied(rule: _MarginRule, candidates: int, seats: int) -> bool:
    """(R18, R19) ``5*(C-S) >= S`` under the 20% rule; ``C >= S`` when uncontested is allowed."""
    if rule is _MarginRule.TWENTY_PERCENT:
        return candidates > seats and 5 * (candidates - seats) >= seats
    return candidates >= seats


@dataclass(frozen=True, slots=True)
class Filling:
    """The result of ranking: who is elected, who ties across the last open seat, seats left."""

    elected: tuple[MemberId, ...]
    tied: tuple[MemberId, ...]
    tied_seats: int
    open_after: int


def rank_and_fill(
    approvals: Mapping[MemberId, int],
    qualifiers: Iterable[MemberId],
    seats: int,
    order: Sequence[MemberId],
) -> Filling:
    """(R14, R15, R16) Fill ``seats`` from ``qualifiers`` by approvals.

    Candidates strictly above the last-seat value are elected; a group tied across the last seat
    goes to a runoff for the seats it straddles (``tied_seats``); nobody is ever placed by input
    order or by lot. ``order`` (the ballot order) only orders the output for display.

    Returns:
        The filling; ``open_after`` counts seats neither filled nor tied for (a shortfall).
    """
    pos = {mid: i for i, mid in enumerate(order)}
    ranked = sorted(qualifiers, key=lambda m: (-approvals.get(m, 0), pos.get(m, len(pos)), m))
    if len(ranked) <= seats:
        return Filling(elected=tuple(ranked), tied=(), tied_seats=0, open_after=seats - len(ranked))
    cut = approvals.get(ranked[seats - 1], 0)
    above = tuple(m for m in ranked if approvals.get(m, 0) > cut)
    at_cut = tuple(m for m in ranked if approvals.get(m, 0) == cut)
    if len(above) + len(at_cut) <= seats:  # pragma: no cover - impossible when len(ranked) > seats
        return Filling(elected=above + at_cut, tied=(), tied_seats=0, open_after=0)
    return Filling(elected=above, tied=at_cut, tied_seats=seats - len(above), open_after=0)


def publicity_day_zero(election_date: dt.date, announced_on: dt.date) -> dt.date:
    """(R26) The day after which publicity counts: the day the result is announced (the local
    date of the ``election.result`` entry), never earlier than the election date (a result is
    announced at the meeting; a clock showing an earlier day never shortens the publicity)."""
    return max(election_date, announced_on)


def seat_reduction_allowed(assembly_consent: int, expected: int) -> bool:
    """(R17) A seat reduction needs the consent of more than half of the electors: ``2c > E``."""
    return 2 * assembly_consent > expected


def qualification_problems(
    kind: PostKind, member: Member, on: dt.date, params: Parameters
) -> tuple[Problem, ...]:
    """(R27) The town plan's age and education limits for secretary candidates."""
    if kind is not PostKind.SECRETARY:
        return ()
    if member.incumbent_secretary:
        max_age = params.secretary_continuing_max_age
        min_edu = params.secretary_continuing_min_education
        who_zh, who_en = "连任书记", "a continuing secretary"
    else:
        max_age = params.secretary_new_max_age
        min_edu = params.secretary_new_min_education
        who_zh, who_en = "新任书记", "a new secretary"
    out: list[Problem] = []
    age = member.age_on(on)
    path = f"candidates.{member.id}"
    if age > max_age:
        out.append(
            Problem(
                code="qualification.age",
                path=path,
                zh=f"{member.name} {age} 岁，{who_zh}人选年龄一般不超过 {max_age} 岁",
                en=f"{member.name} is {age}; {who_en} should be at most {max_age}",
                clause="R27",
            )
        )
    if member.education.level < min_edu.level:
        out.append(
            Problem(
                code="qualification.education",
                path=path,
                zh=f"{member.name} 学历为{zh_label(member.education)}，"
                f"{who_zh}人选应具有{zh_label(min_edu)}及以上学历",
                en=f"{member.name} has {member.education.value}; {who_en} needs "
                f"{min_edu.value} or above",
                clause="R27",
            )
        )
    return tuple(out)


@dataclass(frozen=True, slots=True)
class TownSecretary:
    """(R28) An elected secretary with their branch's meeting date and its manifest's
    ``secretary_new_max_age``: the age limit of the town plan's young-secretary share."""

    member: Member
    meeting_date: dt.date
    max_age: int

    @property
    def young(self) -> bool:
        """Aged ``max_age`` or under on the branch's meeting date (whole years, as R27)."""
        return self.member.age_on(self.meeting_date) <= self.max_age


@dataclass(frozen=True, slots=True)
class TownShares:
    """(R28) The town plan's shares, as exact counts (the shell formats percentages)."""

    secretaries: int
    young_secretaries: int
    """Secretaries aged their branch's ``secretary_new_max_age`` or under on its meeting date."""
    committee_members: int
    women_committee_members: int
    women_secretaries: int
    max_ages: tuple[int, ...] = ()
    """The distinct ``secretary_new_max_age`` values of the branches counted, ascending."""

    @property
    def young_secretary_target_met(self) -> bool:
        """Young secretaries at 30% or more: ``10*young >= 3*all``."""
        return 10 * self.young_secretaries >= 3 * self.secretaries


def town_shares(
    secretaries: Sequence[TownSecretary], committee_members: Sequence[Member]
) -> TownShares:
    """(R28) Shares across a town's branches (a committee member list includes secretaries).

    Each secretary's age is taken on their own branch's meeting date and compared with that
    branch's ``secretary_new_max_age`` (RULES A12.9).
    """
    return TownShares(
        secretaries=len(secretaries),
        young_secretaries=sum(1 for s in secretaries if s.young),
        committee_members=len(committee_members),
        women_committee_members=sum(1 for m in committee_members if m.sex is Sex.FEMALE),
        women_secretaries=sum(1 for s in secretaries if s.member.sex is Sex.FEMALE),
        max_ages=tuple(sorted({s.max_age for s in secretaries})),
    )
