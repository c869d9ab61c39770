"""Folding one casework entry into the ledger (spec/procedure.md RP-11.3)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import date, datetime
from types import MappingProxyType
from typing import Any

from .cases import (
    BODY_FIELDS,
    DUE_FIELDS,
    OPTIONAL_BODY_FIELDS,
    Case,
    CaseState,
    Effect,
    Finding,
    Ledger,
    Reporter,
)
from .deadlines import local_date
from .errors import refuse
from .references import CaseKind, parse_reference

__all__ = ["apply"]


def apply(ledger: Ledger, type_: str, body: Mapping[str, Any], at: datetime) -> Ledger:
    """The ledger after one entry (its body as :data:`BODY_FIELDS` says).

    Raises:
        CaseworkError: ``casework.malformed`` for an unknown type, a body of other members, or a
            ``casework.opened`` that is not entry 0 of this casework (or an entry 0 that is not).
    """
    optional = OPTIONAL_BODY_FIELDS.get(type_, frozenset())
    if BODY_FIELDS.get(type_) != frozenset(body) - optional or not _provisional_ok(body):
        raise refuse(
            "casework.malformed",
            "RP-11.3",
            "事项记录类型或内容错误",
            "unknown casework entry type or body",
        )
    if (type_ == "casework.opened") != (ledger.size == 0) or (
        type_ == "casework.opened" and body["casework_id"] != ledger.casework.id.hex()
    ):
        raise refuse(
            "casework.malformed",
            "RP-11.3",
            "事项记录须以本登记簿的 casework.opened 开始，且只有一条",
            "the casework log starts with its own casework.opened, and has only that one",
        )
    cases = dict(ledger.cases)
    reporters = dict(ledger.reporters)
    counters = dict(ledger.counters)
    day = local_date(at)
    ref = str(body.get("reference", ""))
    if type_ == "reporter.registered":
        reporters[body["reporter"]] = Reporter(
            body["reporter"], body["branch"], body["group"], True
        )
    elif type_ == "reporter.withdrawn":
        reporters[body["reporter"]] = replace(reporters[body["reporter"]], active=False)
    elif type_ in ("objection.received", "report.received"):
        kind, year, n = parse_reference(ref)
        counters[(kind, year)] = n
        cases[ref] = _received(ref, kind, body, day)
    elif type_.endswith(".assigned"):
        cases[ref] = replace(cases[ref], state=CaseState.ASSIGNED, assignee=body["assignee"])
    elif type_ == "report.checked":
        cases[ref] = replace(cases[ref], state=CaseState.CHECKED)
    elif type_.endswith(".extended"):
        case = cases[ref]  # an extension is a date chosen, never provisional (RP-8.4a)
        cases[ref] = replace(
            case,
            due_conclude=date.fromisoformat(body["due_conclude"]),
            provisional=case.provisional - {"due_conclude"},
        )
    elif type_.endswith(".concluded"):
        cases[ref] = replace(
            cases[ref],
            state=CaseState.CONCLUDED,
            finding=Finding(body["finding"]),
            effect=Effect(body.get("effect", "none")),
            concluded=day,
        )
    return Ledger(
        casework=ledger.casework,
        size=ledger.size + 1,
        last_at=at.replace(microsecond=0),
        last_leaf=ledger.last_leaf,
        cases=MappingProxyType(cases),
        reporters=MappingProxyType(reporters),
        counters=MappingProxyType(counters),
    )


def _received(ref: str, kind: CaseKind, body: Mapping[str, Any], day: date) -> Case:
    """The case an ``objection.received`` or ``report.received`` entry opens."""
    return Case(
        reference=ref,
        kind=kind,
        branch=body["branch"],
        about=body.get("about", ""),
        channel=body.get("channel", "reporter"),
        timing=body.get("timing", ""),
        received=day,
        state=CaseState.RECEIVED,
        assignee="",
        provisional=frozenset(body.get("due_provisional", ())),
        due_assign=date.fromisoformat(body["due_assign"]),
        due_conclude=date.fromisoformat(body["due_conclude"]),
        own_branch=body.get("own_branch", "yes") == "yes",
    )


def _provisional_ok(body: Mapping[str, Any]) -> bool:
    """(RP-8.4a) ``due_provisional``, when present: due date names, distinct, in order, not none."""
    names = body.get("due_provisional")
    if names is None:
        return True
    return (
        isinstance(names, list)
        and bool(names)
        and all(isinstance(n, str) for n in names)
        and names == [n for n in DUE_FIELDS if n in names]
    )
