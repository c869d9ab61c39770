"""Reminders and overdue marks (spec/procedure.md RP-9.7): which open cases are due on a day, of
which kind, to whom, and how many working days late; never a concluded case or one not yet due."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from tally.core.casework import (
    Channel,
    Finding,
    Ledger,
    Reminder,
    ReminderKind,
    apply,
    assign,
    check,
    conclude,
    lodge_objection,
    open_ledger,
    opening_step,
    reminder_step,
    reminders,
)
from tally.core.casework.reminders import HEAD, overdue_days
from tests.helpers.casework import CALENDAR, at, casework


def _do(ledger: Ledger, step: Any, when: str) -> Ledger:
    return apply(ledger, step.type, step.body, at(when))


def _lodged(when: str = "2026-09-28 10:00") -> Ledger:
    """One objection received on Monday 28 September 2026: assign by 29 Sep, conclude by Saturday
    10 Oct, a working day (five working days; 1-7 October are holidays)."""
    led = open_ledger(casework())
    led = _do(led, opening_step(led.casework), "2026-09-28 09:00")
    step = lodge_objection(
        led,
        at=at(when),
        calendar=CALENDAR,
        branch="B01",
        channel=Channel.FORM,
        about="",
        what="计票时有人代填选票",
        publicity_end=date(2026, 10, 13),
        elected=frozenset(),
    )
    return _do(led, step, when)


def _due(led: Ledger, day: str) -> tuple[Reminder, ...]:
    return reminders(led, today=date.fromisoformat(day), calendar=CALENDAR)


def test_nothing_is_due_before_the_due_date() -> None:
    led = _lodged()
    assert led.cases["YY-2026-00001"].due_assign == date(2026, 9, 29)
    assert _due(led, "2026-09-28") == ()


def test_an_unassigned_case_due_today_reminds_the_head() -> None:
    (r,) = _due(_lodged(), "2026-09-29")
    assert r == Reminder("YY-2026-00001", ReminderKind.ASSIGN_DUE, HEAD, date(2026, 9, 29), 0)


def test_an_unassigned_case_past_its_date_is_overdue_by_working_days() -> None:
    led = _lodged()
    (r,) = _due(led, "2026-09-30")
    assert (r.kind, r.overdue) == (ReminderKind.OVERDUE, 1)
    # 1-7 October are holidays: still one working day late on the 7th, two on the 8th
    assert _due(led, "2026-10-07")[0].overdue == 1
    assert _due(led, "2026-10-08")[0].overdue == 2


def test_an_assigned_case_reminds_its_assignee_on_the_conclude_date() -> None:
    led = _lodged()
    led = _do(
        led,
        assign(led, at=at("2026-09-28 11:00"), reference="YY-2026-00001", assignee="officer"),
        "2026-09-28 11:00",
    )
    assert _due(led, "2026-10-09") == ()
    (r,) = _due(led, "2026-10-10")
    assert (r.kind, r.to, r.overdue) == (ReminderKind.CONCLUDE_DUE, "officer", 0)
    (late,) = _due(led, "2026-10-12")
    assert (late.kind, late.overdue) == (ReminderKind.OVERDUE, 1)


def test_a_case_overdue_on_a_day_off_has_no_working_day_late_yet() -> None:
    led = _lodged()
    led = _do(
        led,
        assign(led, at=at("2026-09-28 11:00"), reference="YY-2026-00001", assignee="officer"),
        "2026-09-28 11:00",
    )
    (r,) = _due(led, "2026-10-11")  # the Sunday after the due date
    assert (r.kind, r.overdue) == (ReminderKind.OVERDUE, 0)


def test_a_concluded_case_has_no_reminder() -> None:
    led = _lodged()
    ref = "YY-2026-00001"
    led = _do(
        led, assign(led, at=at("2026-09-28 11:00"), reference=ref, assignee="o"), "2026-09-28 11:00"
    )
    led = _do(
        led,
        conclude(
            led,
            at=at("2026-09-28 12:00"),
            reference=ref,
            actor="o",
            finding=Finding.UNSUBSTANTIATED,
            summary="经核查不属实",
        ),
        "2026-09-28 12:00",
    )
    assert _due(led, "2026-12-01") == ()


def test_reminders_are_in_reference_order() -> None:
    led = _lodged()
    step = lodge_objection(
        led,
        at=at("2026-09-28 10:30"),
        calendar=CALENDAR,
        branch="B02",
        channel=Channel.IN_PERSON,
        about="",
        what="第二件",
        publicity_end=date(2026, 10, 13),
        elected=frozenset(),
    )
    led = _do(led, step, "2026-09-28 10:30")
    assert [r.reference for r in _due(led, "2026-09-29")] == ["YY-2026-00001", "YY-2026-00002"]


@pytest.mark.parametrize(
    ("due", "today", "late"),
    [
        ("2026-09-29", "2026-09-29", 0),
        ("2026-09-30", "2026-09-29", 0),
        ("2026-09-29", "2026-10-09", 3),
        ("2026-09-30", "2026-10-01", 0),
        ("2091-06-01", "2091-06-05", 2),
    ],
    ids=["same-day", "not-yet", "across-the-holidays", "holiday-after", "unknown-year-weekdays"],
)
def test_overdue_days_counts_working_days_after_the_due_date(
    due: str, today: str, late: int
) -> None:
    assert overdue_days(date.fromisoformat(due), date.fromisoformat(today), CALENDAR) == late


def test_a_reminder_step_is_a_reminder_sent_entry_the_ledger_folds() -> None:
    led = _lodged()
    (r,) = _due(led, "2026-09-29")
    step = reminder_step(r)
    assert (step.type, dict(step.body)) == (
        "reminder.sent",
        {"reference": "YY-2026-00001", "kind": "assign_due", "to": HEAD},
    )
    after = _do(led, step, "2026-09-29 09:00")
    assert after.size == led.size + 1 and after.cases == led.cases


def test_a_reported_case_goes_checked_and_still_reminds_its_assignee() -> None:
    from tally.core.casework import register_reporter, submit_report  # noqa: PLC0415

    led = open_ledger(casework())
    led = _do(led, opening_step(led.casework), "2026-09-28 09:00")
    led = _do(
        led,
        register_reporter(
            led,
            at=at("2026-09-28 09:10"),
            reporter="R1",
            branch="B01",
            group="G1",
            name="李四",
            phone="",
        ),
        "2026-09-28 09:10",
    )
    led = _do(
        led,
        submit_report(
            led, at=at("2026-09-28 10:00"), calendar=CALENDAR, reporter="R1", what="发烟拉票"
        ),
        "2026-09-28 10:00",
    )
    ref = "MQ-2026-00001"
    led = _do(
        led, assign(led, at=at("2026-09-28 11:00"), reference=ref, assignee="o"), "2026-09-28 11:00"
    )
    led = _do(
        led,
        check(led, at=at("2026-09-28 12:00"), reference=ref, actor="o", note="走访"),
        "2026-09-28 12:00",
    )
    due = led.cases[ref].due_conclude
    (r,) = _due(led, due.isoformat())
    assert (r.kind, r.to) == (ReminderKind.CONCLUDE_DUE, "o")
