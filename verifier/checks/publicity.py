"""(V17) Publicity: the publicity period of ``result.json`` counted with the verifier's calendar.

spec/bundle.md §6 V17; spec/rules.md R26 (R26.1 day 1, R26.3 the town's signed year file);
RULES A12.8 and docs/adr/0020-publicity-calendar-source.md: the verifier counts with its own
statutory calendar (``chinese_calendar``'s years, else the town's signed ``calendar.json``),
never with the bundle's copy, which must equal it for every year it affects.
"""

from __future__ import annotations

import datetime as dt
from typing import Final

from verifier import rules, statutory
from verifier.canonical import canonical_bytes
from verifier.checks.context import Context
from verifier.crypto import verify_signature
from verifier.errors import VerificationError
from verifier.model import Definition, Manifest
from verifier.parse.documents import (
    ResultDocument,
    parse_calendar_years,
    parse_publicity_period,
    parse_result_calendar,
    parse_signed_calendar,
)

__all__ = ["CALENDAR_DOMAIN", "check_publicity", "load_signed_calendar", "signed_calendar_years"]

CALENDAR_DOMAIN: Final = b"branch-election/calendar/1"
_PUBLICITY_DAYS: Final = (5, 60)  # (R26) at least 5 working days, at most 60


def check_publicity(cx: Context, m: Manifest, res: ResultDocument) -> None:
    """(V17) ``working_days`` is the manifest's, in 5..60; ``publicity_start`` and
    ``publicity_end`` are the ones the verifier counts from the announcement; ``result.json``'s
    calendar equals the verifier's for every year from the election to the end of the publicity.
    """
    f = cx.f
    where = {"file": "result.json"}
    d = m.definition
    _check_working_days(cx, d, res)
    try:
        cal = parse_result_calendar(res.calendar)
        start, end = parse_publicity_period(res.publicity_start, res.publicity_end)
    except VerificationError as e:
        f.error("V17", e, file="result.json")
        return
    signed = load_signed_calendar(cx)
    if signed is None:
        return  # the town's year file is bad (reported): no calendar to count with
    # (V17, A12.8) The verifier's own calendar: chinese_calendar's years, else the town's
    # signed year file's; never result.json's copy. A signed year the library knows must agree.
    for y in sorted(signed):
        known = statutory.builtin_year(y)
        diff = statutory.first_difference(known, signed[y]) if known is not None else None
        if diff is not None:
            f.fail(
                "V17",
                "publicity.calendar_conflict",
                f"镇党委签署的节假日文件中 {y} 年的安排与 chinese_calendar 不一致",
                f"the town's signed year file differs from chinese_calendar for {y} (R26.3)",
                file="calendar.json",
                found=diff,
            )
    # (V17, R26.1) Day 1 is the first working day after the day the result was announced:
    # the local date of the election.result entry, never earlier than the election date.
    announced = cx.result_entry.at.date() if cx.result_entry is not None else d.date
    day_zero = max(d.date, announced)
    first = d.date.year
    own: dict[int, statutory.Year] = {}
    for y in range(first, min(max(first, day_zero.year, start.year, end.year) + 2, 9999)):
        year = statutory.own_year(y, signed)
        if year is not None:
            own[y] = year
    hol = {x for h, _ in own.values() for x in h}
    work = {x for _, w in own.values() for x in w}
    n = d.parameters.publicity_working_days
    if not _PUBLICITY_DAYS[0] <= n <= _PUBLICITY_DAYS[1]:
        return  # reported above (publicity.working_days_range); nothing sound to count
    try:
        want_start = rules.first_working_day_after(day_zero, hol, work)
        want_end = rules.nth_working_day(want_start, n, hol, work)
    except OverflowError:  # an announcement dated at the end of year 9999
        f.fail("V17", "publicity.date", "公示日期无效", "publicity dates invalid", **where)
        return
    # (V17, A12.8) Every year from the election to the end of the publicity: known to the
    # verifier (else the count above is not trusted) and copied exactly, every day of it.
    years = range(first, want_end.year + 1)
    unknown = [y for y in years if y not in own]
    for y in unknown:
        f.fail(
            "V17",
            "publicity.calendar_unsigned_year",
            f"{y} 年的节假日安排没有镇党委签署的节假日文件",
            f"no year file signed by the town committee for {y} (R26.3)",
            file="result.json",
            expected=f"calendar.json signed for {y}",
            found="none",
        )
    if unknown:
        return
    if start != want_start:
        f.fail(
            "V17",
            "publicity.start",
            "公示开始日不是宣布结果之日后的第一个工作日",
            "publicity_start is not the first working day after the result was announced",
            expected=want_start.isoformat(),
            found=start.isoformat(),
            **where,
        )
    if end != want_end:
        f.fail(
            "V17",
            "publicity.end",
            "公示结束日计算不符",
            "publicity_end is not the working_days-th working day",
            expected=want_end.isoformat(),
            found=end.isoformat(),
            **where,
        )
    theirs_h, theirs_w = set(cal.holidays), set(cal.workdays)
    for y in years:
        theirs = (frozenset(_year_dates(theirs_h, y)), frozenset(_year_dates(theirs_w, y)))
        diff = statutory.first_difference(own[y], theirs)
        if diff is not None:
            f.fail(
                "V17",
                "publicity.calendar_differs" if theirs[0] else "publicity.calendar_year",
                f"结果包日历中 {y} 年的安排与法定节假日不符",
                f"the bundle's calendar for {y} differs from the statutory calendar",
                expected=f"the statutory dates of {y}",
                found=diff,
                **where,
            )
    outside = sorted(x for x in theirs_h | theirs_w if x.year not in years)
    if outside:
        f.fail(
            "V17",
            "publicity.calendar_differs",
            "结果包日历含有选举至公示结束以外年份的日期",
            "the bundle's calendar lists a date outside the years from the election to the "
            "end of the publicity",
            found=outside[0].isoformat(),
            **where,
        )


def _check_working_days(cx: Context, d: Definition, res: ResultDocument) -> None:
    """(V17, R26) ``working_days`` is the manifest's ``publicity_working_days``, in 5..60."""
    f = cx.f
    where = {"file": "result.json"}
    if res.working_days != d.parameters.publicity_working_days:
        f.fail(
            "V17",
            "publicity.working_days",
            "公示工作日数与清单不符",
            "working_days differs from the manifest",
            expected=str(d.parameters.publicity_working_days),
            found=str(res.working_days),
            **where,
        )
    lo, hi = _PUBLICITY_DAYS
    if not lo <= d.parameters.publicity_working_days <= hi:  # (V17, R26)
        f.fail(
            "V17",
            "publicity.working_days_range",
            f"清单中的公示工作日数应为 {lo} 到 {hi}",
            f"the manifest's publicity_working_days must be {lo} to {hi}",
            expected=f"{lo}..{hi}",
            found=str(d.parameters.publicity_working_days),
            file="manifest.json",
        )


def load_signed_calendar(cx: Context) -> dict[int, statutory.Year] | None:
    """(V17, R26.3) The years of the town's signed year file ``calendar.json``.

    Returns:
        Its years (none without the file), or None when it is bad (reported).
    """
    if "calendar.json" not in cx.b.names():
        return {}
    doc = cx.doc("calendar.json", "V17")
    if doc is None:
        return None
    try:
        years = signed_calendar_years(doc, cx.town_raw or b"")
    except ValueError as e:
        cx.f.fail(
            "V17",
            str(e),
            "镇党委签署的节假日文件无效、未经本清单的镇党委密钥签署或签名不符",
            "the signed year file is malformed, not signed by the manifest's town key, "
            "or its signature does not verify (R26.3)",
            file="calendar.json",
        )
        return None
    return {y: (frozenset(h), frozenset(w)) for y, (h, w) in years.items()}


def _year_dates(days: set[dt.date], year: int) -> set[dt.date]:
    return {x for x in days if x.year == year}


def signed_calendar_years(
    doc: object, town_key: bytes
) -> dict[int, tuple[set[dt.date], set[dt.date]]]:
    """(V17, R26.3) The years of a ``signed-calendar/1`` signed by ``town_key``.

    Raises:
        ValueError: with the finding code, when the document is malformed or not signed by the key.
    """
    try:
        signed = parse_signed_calendar(doc)
    except VerificationError as e:
        raise ValueError(e.code) from None
    if signed.town_key.key != town_key:
        raise ValueError("publicity.calendar_key")
    try:
        if signed.signature is None:
            raise ValueError("publicity.calendar_signature")
        verify_signature(
            signed.town_key.key, CALENDAR_DOMAIN, canonical_bytes(signed.calendar), signed.signature
        )
    except VerificationError:
        raise ValueError("publicity.calendar_signature") from None
    try:
        return parse_calendar_years(signed.calendar)
    except VerificationError as e:
        raise ValueError(e.code) from None
