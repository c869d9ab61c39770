"""The town committee's casework numbers per branch (spec/procedure.md RP-9.1, RP-9.7, RP-13.2).

Built from the :class:`~tally.core.casework.cases.Ledger` alone, whose cases hold no text and no
identity, so the result carries counts only: per branch, the objections received, open, overdue,
concluded by finding and by effect, and lodged after publicity; the reports about the branch
received, open, overdue and concluded by finding, and how many of them came from a reporter of
another branch; and each village group with its number of registered reporters (a group with none
is flagged, ``casework.group_without_reporter``). No reference, no name, no reporter id.

These numbers are for the town report (the town committee) only: report counts per branch are
never shown to a branch or to the public (RP-9.8, RP-12.4).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any, Final

from .cases import Case, CaseState, Effect, Finding, Ledger
from .references import CaseKind

__all__ = [
    "TOWN_CASEWORK_FORMAT",
    "BranchCasework",
    "CaseCounts",
    "GroupReporters",
    "TownCasework",
    "is_overdue",
    "town_casework",
]

TOWN_CASEWORK_FORMAT: Final = "town-casework/1"


def is_overdue(case: Case, on: date) -> bool:
    """Whether an open case is past a due date on ``on`` (RP-9.7 ``overdue``): still unassigned
    after ``due_assign``, or not concluded after ``due_conclude``. A concluded case never is."""
    if case.state is CaseState.CONCLUDED:
        return False
    return on > case.due_conclude or (case.state is CaseState.RECEIVED and on > case.due_assign)


@dataclass(frozen=True, slots=True)
class CaseCounts:
    """One branch's objections or reports: counts only."""

    received: int
    open: int
    overdue: int
    by_finding: tuple[tuple[Finding, int], ...]  # the concluded, every finding (RP-8.5 order)

    @property
    def concluded(self) -> int:
        return sum(n for _, n in self.by_finding)

    def document(self) -> dict[str, Any]:
        return {
            "received": self.received,
            "open": self.open,
            "overdue": self.overdue,
            "concluded": self.concluded,
            "by_finding": [{"finding": f.value, "count": n} for f, n in self.by_finding],
        }


@dataclass(frozen=True, slots=True)
class GroupReporters:
    """A village group and its number of active registered reporters (RP-9.1)."""

    group: str
    name: str
    reporters: int


@dataclass(frozen=True, slots=True)
class BranchCasework:
    """One branch's line of the town report's casework part (RP-13.2)."""

    branch: str  # the branch code
    name: str
    objections: CaseCounts
    objection_effects: tuple[tuple[Effect, int], ...]  # the concluded, every effect
    objections_after_publicity: int  # ``timing`` ``after`` (RP-8.6)
    reports: CaseCounts
    reports_from_other_branches: int  # about this branch, by a reporter of another (RP-9.5)
    groups: tuple[GroupReporters, ...]

    @property
    def groups_without_reporter(self) -> tuple[GroupReporters, ...]:
        return tuple(g for g in self.groups if g.reporters == 0)

    def document(self) -> dict[str, Any]:
        return {
            "branch": self.branch,
            "name": self.name,
            "objections": {
                **self.objections.document(),
                "by_effect": [{"effect": e.value, "count": n} for e, n in self.objection_effects],
                "after_publicity": self.objections_after_publicity,
            },
            "reports": {
                **self.reports.document(),
                "from_other_branches": self.reports_from_other_branches,
            },
            "groups": [
                {"group": g.group, "name": g.name, "reporters": g.reporters} for g in self.groups
            ],
            "groups_without_reporter": [g.group for g in self.groups_without_reporter],
        }


@dataclass(frozen=True, slots=True)
class TownCasework:
    """Every branch's casework numbers as the log's first ``entries`` entries say, on ``on``."""

    town: str
    on: date
    entries: int
    branches: tuple[BranchCasework, ...]

    def document(self) -> dict[str, Any]:
        """The ``town-casework/1`` JSON object (for the town report's JSON)."""
        return {
            "format": TOWN_CASEWORK_FORMAT,
            "town": self.town,
            "on": self.on.isoformat(),
            "entries": self.entries,
            "branches": [b.document() for b in self.branches],
        }


def _counts(cases: Iterable[Case], on: date) -> CaseCounts:
    cases = tuple(cases)
    done = [c for c in cases if c.state is CaseState.CONCLUDED]
    return CaseCounts(
        received=len(cases),
        open=len(cases) - len(done),
        overdue=sum(is_overdue(c, on) for c in cases),
        by_finding=tuple((f, sum(c.finding is f for c in done)) for f in Finding),
    )


def town_casework(ledger: Ledger, on: date) -> TownCasework:
    """Each branch of the definition, in its order, with its numbers on the day ``on``."""
    active = [r for r in ledger.reporters.values() if r.active]
    out: list[BranchCasework] = []
    for b in ledger.casework.branches:
        mine = [c for c in ledger.cases.values() if c.branch == b.code]
        objections = [c for c in mine if c.kind is CaseKind.OBJECTION]
        reports = [c for c in mine if c.kind is CaseKind.REPORT]
        concluded = [c for c in objections if c.state is CaseState.CONCLUDED]
        out.append(
            BranchCasework(
                branch=b.code,
                name=b.name,
                objections=_counts(objections, on),
                objection_effects=tuple((e, sum(c.effect is e for c in concluded)) for e in Effect),
                objections_after_publicity=sum(c.timing == "after" for c in objections),
                reports=_counts(reports, on),
                reports_from_other_branches=sum(not c.own_branch for c in reports),
                groups=tuple(
                    GroupReporters(
                        group=g,
                        name=name,
                        reporters=sum(r.branch == b.code and r.group == g for r in active),
                    )
                    for g, name in b.groups
                ),
            )
        )
    return TownCasework(town=ledger.casework.town, on=on, entries=ledger.size, branches=tuple(out))
