"""Reminders and overdue marks (spec/procedure.md RP-9.7).

:func:`reminders` lists every open case due today or past a due date on a given local day, with
the working days it is overdue: a case still ``received`` is measured against ``due_assign`` and
reminds the head of the verification group (``to`` ``"case_head"``); an assigned or checked case
against ``due_conclude`` and reminds its assignee. :func:`reminder_step` is the ``reminder.sent``
entry of one of them; the shell logs one per case and day, never to a reporter, an objector or a
branch.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Final

from .cases import CaseState, Ledger, Step
from .deadlines import WorkingDays
from .references import parse_reference

__all__ = ["HEAD", "Reminder", "ReminderKind", "overdue_days", "reminder_step", "reminders"]

#: ``to`` of a reminder about a case nobody is assigned yet: the group head's list.
HEAD: Final = "case_head"
_ONE_DAY: Final = timedelta(days=1)


class ReminderKind(enum.StrEnum):
    """``kind`` of ``reminder.sent`` (RP-9.7)."""

    ASSIGN_DUE = "assign_due"
    CONCLUDE_DUE = "conclude_due"
    OVERDUE = "overdue"


@dataclass(frozen=True, slots=True)
class Reminder:
    """One open case due today or overdue on ``day``."""

    reference: str
    kind: ReminderKind
    to: str
    due: date
    overdue: int  # working days past ``due`` (0: due today)


def overdue_days(due: date, today: date, calendar: WorkingDays) -> int:
    """The working days after ``due`` up to and including ``today`` (0 when not past due); in a
    year the calendar does not know, Monday to Friday (as a provisional due date, RP-8.4a)."""
    known = frozenset(calendar.known_years)
    n, day = 0, due
    while day < today:
        day += _ONE_DAY
        n += calendar.is_working_day(day) if day.year in known else day.weekday() < 5
    return n


def reminders(ledger: Ledger, *, today: date, calendar: WorkingDays) -> tuple[Reminder, ...]:
    """Every open case due on or before ``today``, in reference order (RP-9.7); a provisional
    due date (RP-8.4a) counts as the case's due date until it is settled."""
    out: list[Reminder] = []
    for case in sorted(ledger.cases.values(), key=lambda c: parse_reference(c.reference)):
        if case.state is CaseState.CONCLUDED:
            continue
        unassigned = case.state is CaseState.RECEIVED
        due = case.due_assign if unassigned else case.due_conclude
        if due > today:
            continue
        late = overdue_days(due, today, calendar)
        if due < today:
            kind = ReminderKind.OVERDUE
        else:
            kind = ReminderKind.ASSIGN_DUE if unassigned else ReminderKind.CONCLUDE_DUE
        out.append(Reminder(case.reference, kind, HEAD if unassigned else case.assignee, due, late))
    return tuple(out)


def reminder_step(reminder: Reminder) -> Step:
    """The ``reminder.sent`` entry of one reminder (RP-9.7, RP-11.3)."""
    return Step(
        "reminder.sent",
        {"reference": reminder.reference, "kind": reminder.kind.value, "to": reminder.to},
    )
