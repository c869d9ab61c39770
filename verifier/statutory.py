"""(V17, spec/rules.md R26, RULES A12.8) The verifier's own statutory working-day calendar.

The verifier never takes the working days from the bundle: ``result.json``'s ``calendar`` is a
copy for readers, checked here against the verifier's own calendar for every day of every year it
lists. The verifier's calendar is the ``chinese_calendar`` package (a required dependency, the same
source the producer ships) for the years it knows, and the town committee's signed year file
(``calendar.json``, R26.3) for the years it does not; a year that neither knows fails V17.
See docs/adr/0020-publicity-calendar-source.md.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterable, Mapping

import chinese_calendar

__all__ = ["Year", "builtin_year", "first_difference", "own_year"]

Year = tuple[frozenset[dt.date], frozenset[dt.date]]
"""A year's statutory holidays and adjusted working days."""


@functools.cache
def _builtin() -> Mapping[int, Year]:
    holidays: Iterable[dt.date] = chinese_calendar.holidays
    workdays: Iterable[dt.date] = chinese_calendar.workdays
    years: dict[int, tuple[set[dt.date], set[dt.date]]] = {}
    for d in holidays:
        years.setdefault(d.year, (set(), set()))[0].add(d)
    for d in workdays:
        years.setdefault(d.year, (set(), set()))[1].add(d)
    return {y: (frozenset(h), frozenset(w)) for y, (h, w) in years.items() if h}


def builtin_year(year: int) -> Year | None:
    """The year as ``chinese_calendar`` ships it, or None when it does not know the year."""
    return _builtin().get(year)


def own_year(year: int, signed: Mapping[int, Year]) -> Year | None:
    """The verifier's calendar for ``year``: the library's, else the town's signed year file's."""
    known = builtin_year(year)
    return known if known is not None else signed.get(year)


def first_difference(ours: Year, theirs: Year) -> str | None:
    """The first date (ISO) listed by one side and not the other, with the list it concerns."""
    for kind, a, b in (("holidays", ours[0], theirs[0]), ("workdays", ours[1], theirs[1])):
        diff = sorted(a ^ b)
        if diff:
            return f"{kind}: {diff[0].isoformat()}"
    return None
