"""Each casework page's data, from the ledger and the log (pure: no HTTP, tested without it).

What a page may show is decided here (spec/procedure.md RP-9.8): a reporter's view carries only
their own reports (no summary, no assignee); an objector's only the state and the finding; the
verification group's every case with its history; the town committee's counts per branch.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Final

from tally.core.casework import (
    Case,
    CaseKind,
    CaseState,
    Channel,
    Effect,
    Finding,
    Ledger,
    Reminder,
    Step,
    WorkingDays,
    actor_branch,
    local_date,
    parse_entry,
    parse_reference,
    reminders,
)

__all__ = [
    "EFFECT_LABELS",
    "FINDING_LABELS",
    "STATE_LABELS",
    "BranchCounts",
    "CaseFile",
    "ReporterRow",
    "branch_counts",
    "case_files",
    "clerk_objections",
    "reference_of",
    "reminders_today",
    "reporter_reports",
    "reporter_rows",
    "sent_today",
]

STATE_LABELS: Final[Mapping[str, tuple[str, str]]] = {
    CaseState.RECEIVED: ("已受理", "received"),
    CaseState.ASSIGNED: ("已交办", "assigned"),
    CaseState.CHECKED: ("已核实", "checked"),
    CaseState.CONCLUDED: ("已办结", "concluded"),
}
FINDING_LABELS: Final[Mapping[str, tuple[str, str]]] = {
    Finding.SUBSTANTIATED: ("属实", "substantiated"),
    Finding.PARTLY_SUBSTANTIATED: ("部分属实", "partly substantiated"),
    Finding.UNSUBSTANTIATED: ("不属实", "unsubstantiated"),
    Finding.NOT_COMPETENT: ("不属于换届纪律或选举问题，已转办", "not competent: passed on"),
    Finding.DUPLICATE: ("重复反映", "duplicate"),
}
EFFECT_LABELS: Final[Mapping[str, tuple[str, str]]] = {
    Effect.NONE: ("无", "none"),
    Effect.NOT_APPOINTED: ("该同志不予任命", "the person is not appointed"),
    Effect.ELECTION_VOID: ("选举无效，重新选举", "the election is void and held again"),
}
KIND_LABELS: Final[Mapping[str, tuple[str, str]]] = {
    CaseKind.OBJECTION: ("异议", "objection"),
    CaseKind.REPORT: ("民情直报", "report"),
}


@dataclass
class CaseFile:
    """A case's texts as the log holds them: the received body and every later step."""

    reference: str
    received: Mapping[str, Any]
    actor: str
    at: str
    history: list[dict[str, Any]] = field(default_factory=list)


def case_files(rows: Iterable[bytes]) -> dict[str, CaseFile]:
    """Every case's texts and history from the stored log rows."""
    files: dict[str, CaseFile] = {}
    for raw in rows:
        e = parse_entry(raw)
        ref = str(e.body.get("reference", ""))
        if e.type in ("objection.received", "report.received"):
            files[ref] = CaseFile(ref, e.body, e.actor, e.at)
        if ref in files:
            files[ref].history.append({"type": e.type, "at": e.at, "actor": e.actor, **e.body})
    return files


def reference_of(step: Step) -> str:
    """The reference a received step gives its case (a casework step, not a meeting entry)."""
    return str(step.body["reference"])


def _order(c: Case) -> tuple[int, int, int]:
    kind, year, n = parse_reference(c.reference)
    return (0 if kind is CaseKind.OBJECTION else 1, year, n)


def clerk_objections(ledger: Ledger, files: Mapping[str, CaseFile], branch: str) -> list[Case]:
    """(RP-9.8) A branch clerk's list: the objections of ``branch`` made in person and recorded
    by its work group (the log's actor ``branch:<branch>:…``, whichever clerk's account), oldest
    first. The caller shows only each one's reference, date received, state and due dates;
    never a report, an objection by form, one the verification group recorded in person,
    another branch's case, and never the objector, the content or a finding."""
    out = []
    for ref, f in files.items():
        case = ledger.cases.get(ref)
        if case is None or case.kind is not CaseKind.OBJECTION:
            continue
        if case.channel != Channel.IN_PERSON or case.branch != branch:
            continue
        if actor_branch(f.actor) != branch:
            continue
        out.append(case)
    return sorted(out, key=_order)


def reporter_reports(
    ledger: Ledger, files: Mapping[str, CaseFile], reporter: str
) -> list[dict[str, Any]]:
    """The reporter's own reports, newest first: reference, content, state, finding once
    concluded; never the summary, the assignee or anything of another reporter (RP-9.8)."""
    out = []
    for ref, f in files.items():
        if f.received.get("reporter") != reporter:
            continue
        case = ledger.cases[ref]
        out.append(
            {
                "reference": ref,
                "branch": case.branch,
                "own_branch": f.received["own_branch"],
                "what": f.received["what"],
                "where": f.received["where"],
                "when": f.received["when"],
                "photos": len(f.received["photos"]),
                "received": case.received.isoformat(),
                "state": case.state.value,
                "finding": case.finding.value if case.finding else "",
            }
        )
    return sorted(out, key=lambda r: parse_reference(r["reference"])[1:], reverse=True)


def sent_today(rows: Iterable[bytes], today: date) -> set[tuple[str, str]]:
    """(reference, kind) of every ``reminder.sent`` logged on the local day ``today``."""
    out: set[tuple[str, str]] = set()
    for raw in rows:
        e = parse_entry(raw)
        if e.type == "reminder.sent" and local_date(datetime.fromisoformat(e.at)) == today:
            out.add((str(e.body["reference"]), str(e.body["kind"])))
    return out


def reminders_today(ledger: Ledger, today: date, calendar: WorkingDays) -> dict[str, Reminder]:
    """The open cases due today or overdue, by reference (RP-9.7)."""
    return {r.reference: r for r in reminders(ledger, today=today, calendar=calendar)}


@dataclass
class BranchCounts:
    """The town committee's line for one branch (RP-9.8): counts, never texts or identities."""

    code: str
    name: str
    objections: dict[str, int]
    reports: dict[str, int]
    findings: dict[str, int]
    overdue: int
    cases: list[Case]


def branch_counts(ledger: Ledger, due: Mapping[str, Reminder]) -> list[BranchCounts]:
    """Per branch of the definition, in its order: counts by kind and state, concluded cases by
    finding, the overdue cases, and the cases themselves (references, states, due dates)."""
    out = []
    for b in ledger.casework.branches:
        cases = sorted((c for c in ledger.cases.values() if c.branch == b.code), key=_order)
        by_kind: dict[CaseKind, dict[str, int]] = {
            k: {s.value: 0 for s in CaseState} for k in CaseKind
        }
        findings = {f.value: 0 for f in Finding}
        for c in cases:
            by_kind[c.kind][c.state.value] += 1
            if c.finding is not None:
                findings[c.finding.value] += 1
        late = sum(
            1 for c in cases if c.reference in due and due[c.reference].kind.value == "overdue"
        )
        out.append(
            BranchCounts(
                b.code,
                b.name,
                by_kind[CaseKind.OBJECTION],
                by_kind[CaseKind.REPORT],
                findings,
                late,
                cases,
            )
        )
    return out


def group_cases(ledger: Ledger) -> list[Case]:
    """Every case, open ones first, then by reference."""
    return sorted(ledger.cases.values(), key=lambda c: (c.state is CaseState.CONCLUDED, *_order(c)))


_REGISTERED: Final = ("reporter", "branch", "group", "name", "phone")


@dataclass(frozen=True)
class ReporterRow:
    """A registered reporter as the verification group's register shows them (RP-9.1)."""

    id: str
    branch: str
    group: str
    name: str
    phone: str
    active: bool


def reporter_rows(ledger: Ledger, rows: Iterable[bytes]) -> list[ReporterRow]:
    """Every reporter ever registered, by branch and group in the definition's order, then id."""
    out: dict[str, ReporterRow] = {}
    for raw in rows:
        e = parse_entry(raw)
        if e.type == "reporter.registered":
            rid, branch, group, name, phone = (str(e.body[k]) for k in _REGISTERED)
            out[rid] = ReporterRow(rid, branch, group, name, phone, active=True)
    order = {
        (br.code, g): i
        for i, (br, g) in enumerate(
            (br, g) for br in ledger.casework.branches for g, _ in br.groups
        )
    }
    rows_ = [
        ReporterRow(r.id, r.branch, r.group, r.name, r.phone, ledger.reporters[r.id].active)
        for r in out.values()
    ]
    return sorted(rows_, key=lambda r: (order.get((r.branch, r.group), len(order)), r.id))
