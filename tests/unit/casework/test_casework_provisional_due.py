"""Receiving never depends on the calendar (spec/procedure.md RP-8.4a; issue 18 "nothing lost").

An objection or report whose due date reaches a year the signed working-day calendar lacks is
received and logged with that due date provisional: counted on Mondays to Fridays and marked
(``due_provisional``, shown 暂定). Once the town signs the year, the same due date is exact:
the same working days after the same day received, on the calendar.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from tally.calendar import (
    CalendarYear,
    WorkingDayCalendar,
    builtin_years,
    load_calendar,
    sign_calendar,
)
from tally.casework_store import CaseworkStore, sign_casework
from tally.core.casework import (
    CaseworkError,
    Channel,
    Ledger,
    apply,
    appointment_objections,
    assign,
    exact_due_date,
    extend,
    lodge_objection,
    open_ledger,
    opening_step,
    provisional_due_date,
    register_reporter,
    settle_due_dates,
    submit_report,
)
from tests.helpers.casework import SERVICE, TOWN, at, casework, counter_random, document

# The calendar of a town that has not yet signed 2027: the package's years, up to 2026.
UP_TO_2026 = WorkingDayCalendar(years=tuple(y for y in builtin_years() if y.year <= 2026))
# 2027 as a town would sign it: New Year's Day a Friday, 2 and 3 January the weekend.
YEAR_2027 = CalendarYear(
    year=2027,
    holidays=frozenset({date(2027, 1, 1)}),
    workdays=frozenset(),
    source="国务院办公厅关于2027年部分节假日安排的通知（测试用）",
)
WITH_2027 = WorkingDayCalendar(years=(*UP_TO_2026.years, YEAR_2027))
ELECTED = frozenset({"M001"})


def _opened() -> Ledger:
    cw = casework()
    step = opening_step(cw)
    return apply(open_ledger(cw), step.type, step.body, at("2026-12-01 08:00"))


def _object(led: Ledger, when: str, calendar: WorkingDayCalendar) -> Any:
    return lodge_objection(
        led,
        at=at(when),
        calendar=calendar,
        branch="B01",
        channel=Channel.FORM,
        about="M001",
        what="计票时有人代填选票",
        publicity_end=date(2026, 12, 31),
        elected=ELECTED,
    )


def _with_reporter(led: Ledger) -> Ledger:
    step = register_reporter(
        led,
        at=at("2026-12-01 09:00"),
        reporter="R1",
        branch="B01",
        group="G1",
        name="李四",
        phone="",
    )
    return apply(led, step.type, step.body, at("2026-12-01 09:00"))


def test_an_objection_of_28_december_without_next_years_calendar_is_received() -> None:
    """Day 1 is 29 December; the fifth working day reaches 2027, which the calendar lacks."""
    step = _object(_opened(), "2026-12-28 10:00", UP_TO_2026)
    assert step.type == "objection.received"
    assert step.body["due_assign"] == "2026-12-29"  # exact: 2026 is known
    assert step.body["due_conclude"] == "2027-01-04"  # 29, 30, 31 Dec, Fri 1 Jan, Mon 4 Jan
    assert step.body["due_provisional"] == ["due_conclude"]
    assert [n.code for n in step.notes] == ["casework.due_provisional"]
    assert all(n.zh and n.en and n.clause == "RP-8.4a" for n in step.notes)


def test_a_report_of_28_december_is_received_with_both_due_dates_known_or_marked() -> None:
    led = _with_reporter(_opened())
    step = submit_report(
        led, at=at("2026-12-28 10:00"), calendar=UP_TO_2026, reporter="R1", what="村口发烟拉票"
    )
    assert (step.body["due_assign"], step.body["due_conclude"]) == ("2026-12-29", "2027-01-11")
    assert step.body["due_provisional"] == ["due_conclude"]
    led = apply(led, step.type, step.body, at("2026-12-28 10:00"))
    exact = settle_due_dates(led, WITH_2027).cases[step.body["reference"]]
    assert (exact.due_conclude, exact.provisional) == (date(2027, 1, 12), frozenset())


def test_a_case_whose_due_dates_fall_in_known_years_has_no_mark() -> None:
    step = _object(_opened(), "2026-12-28 10:00", WITH_2027)
    assert "due_provisional" not in step.body
    assert step.notes == ()
    # New Year's Day is a holiday: the fifth working day is Tuesday 5 January
    assert step.body["due_conclude"] == "2027-01-05"


def test_provisional_due_dates_become_exact_once_the_year_is_known() -> None:
    led = _opened()
    step = _object(led, "2026-12-28 10:00", UP_TO_2026)
    led = apply(led, step.type, step.body, at("2026-12-28 10:00"))
    case = led.cases[step.body["reference"]]
    assert (case.due_conclude, case.provisional) == (date(2027, 1, 4), frozenset({"due_conclude"}))
    assert settle_due_dates(led, UP_TO_2026) is led  # still unknown: unchanged
    exact = settle_due_dates(led, WITH_2027).cases[case.reference]
    assert (exact.due_assign, exact.due_conclude) == (date(2026, 12, 29), date(2027, 1, 5))
    assert exact.provisional == frozenset()


def test_the_store_keeps_the_provisional_entry_and_shows_exact_dates_once_2027_is_signed(
    tmp_path: Path,
) -> None:
    signed, _ = sign_casework(document(), TOWN)
    path = tmp_path / "town.casework"
    store = CaseworkStore.create(
        path,
        signed_casework=signed,
        casework_signer=SERVICE,
        at=at("2026-12-01 09:00"),
        random=counter_random(),
    )
    store.use_calendar(UP_TO_2026)
    step = _object(store.ledger, "2026-12-28 10:00", UP_TO_2026)
    entry, _ = store.lodge(step, at=at("2026-12-28 10:00"), actor="public", random=counter_random())
    logged = json.loads(entry.raw)["body"]
    ref = logged["reference"]
    assert store.ledger.cases[ref].provisional == frozenset({"due_conclude"})
    store.close()
    year_file = tmp_path / "calendar-2027.json"
    year_file.write_bytes(sign_calendar([YEAR_2027], TOWN))
    calendar = load_calendar(year_file, town_key=TOWN.public_key)
    reopened = CaseworkStore.open(path)
    assert reopened.ledger.cases[ref].provisional == frozenset({"due_conclude"})  # no calendar yet
    reopened.use_calendar(calendar)
    case = reopened.ledger.cases[ref]
    assert (case.due_conclude, case.provisional) == (date(2027, 1, 5), frozenset())
    # the log is unchanged: it still says what was known and shown when the case was received
    assert json.loads(reopened.log_rows()[-1])["body"] == logged
    # later steps fold on the exact dates
    step = assign(reopened.ledger, at=at("2027-01-04 09:00"), reference=ref, assignee="officer")
    reopened.perform(step, at=at("2027-01-04 09:00"), actor="head", random=counter_random())
    assert reopened.ledger.cases[ref].due_conclude == date(2027, 1, 5)


def test_an_extension_replaces_a_provisional_due_date_with_a_chosen_one() -> None:
    led = _opened()
    step = _object(led, "2026-12-28 10:00", UP_TO_2026)
    led = apply(led, step.type, step.body, at("2026-12-28 10:00"))
    ref = step.body["reference"]
    with pytest.raises(CaseworkError) as e:
        extend(
            led,
            at=at("2026-12-29 10:00"),
            reference=ref,
            due_conclude=date(2027, 1, 4),
            reason="需要外调",
        )
    assert e.value.code == "casework.deadline"
    assert "（暂定）" in e.value.zh and "(provisional)" in e.value.en
    ext = extend(
        led,
        at=at("2026-12-29 10:00"),
        reference=ref,
        due_conclude=date(2027, 1, 15),
        reason="需要外调",
    )
    led = apply(led, ext.type, ext.body, at("2026-12-29 10:00"))
    assert led.cases[ref].provisional == frozenset()
    assert settle_due_dates(led, WITH_2027).cases[ref].due_conclude == date(2027, 1, 15)


def test_the_open_objection_refusal_marks_a_provisional_due_date() -> None:
    led = _opened()
    step = _object(led, "2026-12-28 10:00", UP_TO_2026)
    led = apply(led, step.type, step.body, at("2026-12-28 10:00"))
    with pytest.raises(CaseworkError) as e:
        appointment_objections(led, "B01")
    assert "期限 2027-01-04，暂定" in e.value.zh
    assert "due 2027-01-04, provisional" in e.value.en


@pytest.mark.parametrize(
    "names",
    [[], ["due_later"], ["due_conclude", "due_assign"], ["due_assign", "due_assign"], "due_assign"],
    ids=["empty", "unknown-name", "out-of-order", "twice", "not-a-list"],
)
def test_a_malformed_due_provisional_is_refused_on_replay(names: Any) -> None:
    led = _opened()
    step = _object(led, "2026-12-28 10:00", UP_TO_2026)
    body = {**step.body, "due_provisional": names}
    with pytest.raises(CaseworkError) as e:
        apply(led, step.type, body, at("2026-12-28 10:00"))
    assert e.value.code == "casework.malformed"


@pytest.mark.parametrize(
    ("received", "days", "expected"),
    [
        (date(2026, 12, 28), 5, date(2027, 1, 4)),  # Monday: Tue..Fri, then Monday
        (date(2027, 1, 1), 1, date(2027, 1, 4)),  # a Friday: the next Monday
        (date(2027, 1, 2), 1, date(2027, 1, 4)),  # a Saturday: the next Monday
        (date(2027, 1, 4), 10, date(2027, 1, 18)),  # two whole weeks
    ],
)
def test_the_provisional_rule_counts_mondays_to_fridays_only(
    received: date, days: int, expected: date
) -> None:
    assert provisional_due_date(received, days) == expected


@pytest.mark.parametrize(
    "rule", [provisional_due_date, lambda d, n: exact_due_date(d, n, WITH_2027)]
)
def test_a_due_date_is_at_least_one_day(rule: Any) -> None:
    with pytest.raises(ValueError, match="at least one working day"):
        rule(date(2026, 12, 28), 0)


def test_an_exact_due_date_needs_every_year_it_reaches() -> None:
    assert exact_due_date(date(2026, 12, 28), 3, UP_TO_2026) == date(2026, 12, 31)
    assert exact_due_date(date(2026, 12, 28), 4, UP_TO_2026) is None
    assert exact_due_date(date(2026, 12, 28), 4, WITH_2027) == date(2027, 1, 4)
