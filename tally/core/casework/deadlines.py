"""Due dates in working days (spec/procedure.md RP-8.4, RP-9.6; spec/rules.md R26).

The core reads no calendar file and no clock: the shell passes the project's working-day
calendar (``tally.calendar.WorkingDayCalendar`` satisfies :class:`WorkingDays`) and the time.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from typing import Final, Protocol

__all__ = ["TOWN_TIME", "WorkingDays", "due_date", "local_date"]

#: Town time: China Standard Time, UTC+08:00 all year (no daylight saving).
TOWN_TIME: Final = timezone(timedelta(hours=8))


class WorkingDays(Protocol):
    """What the casework needs of a working-day calendar (R26)."""

    def next_working_day(self, day: date) -> date:
        """The first working day strictly after ``day``."""
        ...


def local_date(at: datetime) -> date:
    """The town's local date of an instant (RP-8.6: "the local date received").

    Raises:
        ValueError: ``at`` has no time zone (the core never guesses one).
    """
    if at.tzinfo is None or at.utcoffset() is None:
        msg = "casework times must carry a time zone"
        raise ValueError(msg)
    return at.astimezone(TOWN_TIME).date()


def due_date(received: date, days: int, calendar: WorkingDays) -> date:
    """The ``days``-th working day after ``received``: day 1 is the first working day after it.

    Raises:
        ValueError: ``days`` is below 1.
        tally.calendar.CalendarYearUnknownError: (from the calendar) a year it does not know.
    """
    if days < 1:
        msg = "a deadline is at least one working day"
        raise ValueError(msg)
    day = received
    for _ in range(days):
        day = calendar.next_working_day(day)
    return day
