"""Due dates in working days (spec/procedure.md RP-8.4, RP-8.4a, RP-9.6; spec/rules.md R26).

The core reads no calendar file and no clock: the shell passes the project's working-day
calendar (``tally.calendar.WorkingDayCalendar`` satisfies :class:`WorkingDays`) and the time.
Receiving never depends on the calendar (RP-8.4a): a due date that needs a year the calendar does
not know yet is provisional, counted on Mondays to Fridays (:func:`provisional_due_date`), until
the town's signed year file makes it exact (:func:`exact_due_date`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from typing import Final, Protocol

__all__ = [
    "PROVISIONAL",
    "TOWN_TIME",
    "DueDate",
    "WorkingDays",
    "due",
    "due_date",
    "exact_due_date",
    "local_date",
    "provisional_due_date",
]

#: Town time: China Standard Time, UTC+08:00 all year (no daylight saving).
TOWN_TIME: Final = timezone(timedelta(hours=8))
#: (RP-8.4a) The mark shown after a provisional due date, in Chinese and in English.
PROVISIONAL: Final = ("暂定", "provisional")
_ONE_DAY: Final = timedelta(days=1)


class WorkingDays(Protocol):
    """What the casework needs of a working-day calendar (R26)."""

    @property
    def known_years(self) -> tuple[int, ...]:
        """The years whose holidays and adjusted working days it knows."""
        ...

    def is_working_day(self, day: date) -> bool:
        """Whether ``day`` (of a known year) is a working day."""
        ...

    def next_working_day(self, day: date) -> date:
        """The first working day strictly after ``day``."""
        ...


@dataclass(frozen=True, slots=True)
class DueDate:
    """A due date, and whether it is provisional (RP-8.4a: shown with 暂定)."""

    day: date
    provisional: bool


def local_date(at: datetime) -> date:
    """The town's local date of an instant (RP-8.6: "the local date received").

    Raises:
        ValueError: ``at`` has no time zone (the core never guesses one).
    """
    if at.tzinfo is None or at.utcoffset() is None:
        msg = "casework times must carry a time zone"
        raise ValueError(msg)
    return at.astimezone(TOWN_TIME).date()


def _at_least_one(days: int) -> None:
    if days < 1:
        msg = "a deadline is at least one working day"
        raise ValueError(msg)


def due_date(received: date, days: int, calendar: WorkingDays) -> date:
    """The ``days``-th working day after ``received``: day 1 is the first working day after it.

    Raises:
        ValueError: ``days`` is below 1.
        tally.calendar.CalendarYearUnknownError: (from the calendar) a year it does not know.
    """
    _at_least_one(days)
    day = received
    for _ in range(days):
        day = calendar.next_working_day(day)
    return day


def exact_due_date(received: date, days: int, calendar: WorkingDays) -> date | None:
    """The ``days``-th working day after ``received`` (as :func:`due_date`), or None when
    counting it needs a year the calendar does not know (RP-8.4a).

    Raises:
        ValueError: ``days`` is below 1.
    """
    _at_least_one(days)
    known = frozenset(calendar.known_years)
    day, left = received, days
    while left:
        day += _ONE_DAY
        if day.year not in known:
            return None
        left -= calendar.is_working_day(day)
    return day


def provisional_due_date(received: date, days: int) -> date:
    """(RP-8.4a) The ``days``-th Monday-to-Friday after ``received``: Saturdays and Sundays are
    the only days not counted (no holiday, no adjusted working day).

    Raises:
        ValueError: ``days`` is below 1.
    """
    _at_least_one(days)
    day, left = received, days
    while left:
        day += _ONE_DAY
        left -= day.weekday() < 5
    return day


def due(received: date, days: int, calendar: WorkingDays) -> DueDate:
    """The exact due date where the calendar knows every year it needs, else the provisional one.

    Raises:
        ValueError: ``days`` is below 1.
    """
    exact = exact_due_date(received, days, calendar)
    if exact is None:
        return DueDate(provisional_due_date(received, days), provisional=True)
    return DueDate(exact, provisional=False)
