"""What the town's appointment reads of the casework (spec/procedure.md RP-10.1, RP-10.2, RP-12.2).

:class:`CaseSource` is the protocol the procedure's town acts read the casework through (the
casework store satisfies it); :func:`appointment_objections` gives the appointment's
``objections`` items of one branch, copying only the members RP-10.1 names (no identity, no text),
and refuses while any of the branch's objections is open (``appointment.objection_open``, each open
reference with its state and due date).
"""

from __future__ import annotations

from typing import Any, Protocol

from .cases import Case, CaseState, Ledger
from .errors import refuse
from .references import CaseKind, parse_reference

__all__ = ["CaseSource", "appointment_objections", "objections_of"]


class CaseSource(Protocol):
    """The casework as its log says now (``CaseworkStore`` is one)."""

    @property
    def ledger(self) -> Ledger:
        """The ledger after every entry of the log."""
        ...


def objections_of(ledger: Ledger, branch: str) -> tuple[Case, ...]:
    """Every objection about ``branch``, in reference order (year, then number)."""
    found = [
        c for c in ledger.cases.values() if c.kind is CaseKind.OBJECTION and c.branch == branch
    ]
    return tuple(sorted(found, key=lambda c: parse_reference(c.reference)[1:]))


def appointment_objections(ledger: Ledger, branch: str) -> list[dict[str, Any]]:
    """The ``objections`` items of an appointment of ``branch`` (RP-10.1).

    Raises:
        CaseworkError: ``appointment.objection_open`` while any objection of the branch is open.
    """
    cases = objections_of(ledger, branch)
    still_open = [c for c in cases if c.state is not CaseState.CONCLUDED]
    if still_open:
        zh = "；".join(
            f"{c.reference}（{c.state.value}，期限 {c.due_conclude}{_mark(c, '，暂定')}）"
            for c in still_open
        )
        en = "; ".join(
            f"{c.reference} ({c.state.value}, due {c.due_conclude}{_mark(c, ', provisional')})"
            for c in still_open
        )
        raise refuse(
            "appointment.objection_open",
            "RP-10.2",
            f"仍有异议未办结，不能审批任命：{zh}",
            f"an objection is still open: no appointment: {en}",
        )
    return [
        {
            "reference": c.reference,
            "received": c.received.isoformat(),
            "channel": c.channel,
            "timing": c.timing,
            "about": c.about,
            "finding": c.finding.value if c.finding else "",
            "effect": c.effect.value if c.effect else "",
            "concluded": c.concluded.isoformat() if c.concluded else "",
        }
        for c in cases
    ]


def _mark(case: Case, text: str) -> str:
    """``text`` after a due date to conclude that is still provisional (RP-8.4a), else ""."""
    return text if "due_conclude" in case.provisional else ""
