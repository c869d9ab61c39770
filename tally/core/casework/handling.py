"""Handling a case: assigning, checking, extending and concluding it (spec/procedure.md RP-8.4,
RP-8.5, RP-9.6, RP-9.8)."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any, Final

from ._checks import (
    account_name,
    clean_text,
    open_case,
    out_of_order,
    reason_text,
    require_assignee,
    time_order,
)
from .cases import CaseState, Effect, Finding, Ledger, Step, allowed_effects
from .errors import refuse
from .references import CaseKind

__all__ = ["assign", "check", "conclude", "extend"]

_REF_IN_TEXT: Final = re.compile(r"(?:YY|MQ)-[0-9]{4}-[0-9]{5}")


def assign(ledger: Ledger, *, at: datetime, reference: str, assignee: str) -> Step:
    """``objection.assigned`` / ``report.assigned``: from received, or again while assigned.

    Raises:
        CaseworkError: ``case.unknown``, ``case.concluded``, ``case.state_order``,
            ``case.account``, ``casework.time_order``.
    """
    time_order(ledger, at)
    case = open_case(ledger, reference)
    if case.state not in (CaseState.RECEIVED, CaseState.ASSIGNED):
        raise out_of_order(case, "交办", "assigned")
    return Step(
        f"{case.kind.value}.assigned", {"reference": reference, "assignee": account_name(assignee)}
    )


def check(ledger: Ledger, *, at: datetime, reference: str, actor: str, note: str) -> Step:
    """``report.checked`` by the assignee; objections have no such step (RP-9.6).

    Raises:
        CaseworkError: ``case.unknown``, ``case.concluded``, ``case.state_order``,
            ``case.not_assignee``, ``report.no_note``, ``casework.time_order``.
    """
    time_order(ledger, at)
    case = open_case(ledger, reference)
    if case.kind is not CaseKind.REPORT or case.state is not CaseState.ASSIGNED:
        raise out_of_order(case, "记录核实", "checked")
    require_assignee(case, actor)
    text = clean_text(note)
    if not text or len(text) > ledger.casework.text_max_chars:
        raise refuse(
            "report.no_note",
            "RP-9.6",
            "核实须填写核实情况",
            "a check needs its note",
        )
    return Step("report.checked", {"reference": reference, "note": text})


def extend(
    ledger: Ledger, *, at: datetime, reference: str, due_conclude: date, reason: str
) -> Step:
    """``objection.extended`` / ``report.extended``: a later ``due_conclude`` (RP-8.4).

    Raises:
        CaseworkError: ``case.unknown``, ``case.concluded``, ``casework.deadline`` (not later
            than the due date it replaces), ``case.reason``, ``casework.time_order``.
    """
    time_order(ledger, at)
    case = open_case(ledger, reference)
    if due_conclude <= case.due_conclude:
        zh, en = ("（暂定）", " (provisional)") if "due_conclude" in case.provisional else ("", "")
        raise refuse(
            "casework.deadline",
            "RP-8.4",
            f"延期后的办结期限须晚于 {case.due_conclude.isoformat()}{zh}",
            f"the extended due date must be after {case.due_conclude.isoformat()}{en}",
        )
    return Step(
        f"{case.kind.value}.extended",
        {
            "reference": reference,
            "due_conclude": due_conclude.isoformat(),
            "reason": reason_text(reason),
        },
    )


def conclude(
    ledger: Ledger,
    *,
    at: datetime,
    reference: str,
    actor: str,
    finding: Finding,
    summary: str,
    effect: Effect = Effect.NONE,
) -> Step:
    """``objection.concluded`` (from assigned) / ``report.concluded`` (from checked), RP-8.5.

    Raises:
        CaseworkError: ``case.unknown``, ``case.concluded``, ``case.state_order``,
            ``case.not_assignee``, ``objection.no_conclusion``, ``case.effect_invalid``,
            ``case.duplicate_of``, ``casework.time_order``.
    """
    time_order(ledger, at)
    case = open_case(ledger, reference)
    ready = CaseState.ASSIGNED if case.kind is CaseKind.OBJECTION else CaseState.CHECKED
    if case.state is not ready:
        raise out_of_order(case, "办结", "concluded")
    require_assignee(case, actor)
    text = clean_text(summary)
    if not text or len(text) > ledger.casework.text_max_chars:
        raise refuse(
            "objection.no_conclusion",
            "RP-8.5",
            "办结须填写办理结论",
            "a conclusion needs its summary",
        )
    allowed = (
        allowed_effects(finding, case.about) if case.kind is CaseKind.OBJECTION else {Effect.NONE}
    )
    if effect not in allowed:
        raise refuse(
            "case.effect_invalid",
            "RP-8.5",
            "处理结果与认定不相符",
            "the effect does not fit the finding",
        )
    if finding is Finding.DUPLICATE and not any(
        r != reference and r in ledger.cases for r in _REF_IN_TEXT.findall(text)
    ):
        raise refuse(
            "case.duplicate_of",
            "RP-8.5",
            "认定为重复反映的，办理结论须写明所重复的事项编号",
            "a duplicate's summary must name the reference it repeats",
        )
    body: dict[str, Any] = {"reference": reference, "finding": finding.value, "summary": text}
    if case.kind is CaseKind.OBJECTION:
        body["effect"] = effect.value
    return Step(f"{case.kind.value}.concluded", body)
