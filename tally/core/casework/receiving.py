"""Receiving an objection or a report (spec/procedure.md RP-8.2-RP-8.4a, RP-8.6, RP-9.3-RP-9.6),
and making provisional due dates exact once the calendar knows their year (RP-8.4a)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace
from datetime import date, datetime
from types import MappingProxyType
from typing import Any, Final

from ._checks import (
    NAME_MAX,
    clean_text,
    content,
    known_branch,
    next_reference,
    related_case,
    time_order,
)
from .cases import DUE_FIELDS, Case, Channel, Ledger, Note, Step
from .deadlines import WorkingDays, due, exact_due_date
from .definition import Deadlines
from .errors import refuse
from .photos import check_photos, photo_body
from .references import CaseKind

__all__ = ["lodge_objection", "settle_due_dates", "submit_report"]

_WHERE_MAX: Final = 200
_WHEN: Final = re.compile(r"([0-9]{4}-[0-9]{2}-[0-9]{2})(T[0-9]{2}:[0-9]{2})?")


def lodge_objection(
    ledger: Ledger,
    *,
    at: datetime,
    calendar: WorkingDays,
    branch: str,
    channel: Channel,
    about: str,
    what: str,
    objector_name: str = "",
    objector_contact: str = "",
    relates_to: str = "",
    publicity_end: date | None,
    elected: frozenset[str],
) -> Step:
    """``objection.received`` (RP-8.2, RP-8.3, RP-8.4, RP-8.6).

    Args:
        publicity_end: the branch's ``publicity_end`` from its ``election.concluded``, or None
            while the branch is not open to objections (no result yet, or appointed).
        elected: the member ids of the branch's elected persons.

    Raises:
        CaseworkError: ``objection.empty``, ``objection.too_long``, ``casework.branch_unknown``,
            ``objection.not_in_publicity``, ``objection.about_unknown``, ``case.unknown``
            (``relates_to``), ``casework.time_order``, ``casework.numbering``.
    """
    day = time_order(ledger, at)
    limit = ledger.casework.text_max_chars
    text = content(what, limit, CaseKind.OBJECTION)
    known_branch(ledger, branch)
    if publicity_end is None:
        raise refuse(
            "objection.not_in_publicity",
            "RP-8.6",
            "该支部不在可提出异议的期间",
            "the branch is not open to objections",
        )
    if about and about not in elected:
        raise refuse(
            "objection.about_unknown",
            "RP-8.2",
            f"所指人员不是该支部当选人员：{about}",
            f"the person is not one of the branch's elected: {about}",
        )
    name, contact = clean_text(objector_name), clean_text(objector_contact)
    if len(name) > NAME_MAX or len(contact) > NAME_MAX:
        raise refuse(
            "objection.objector",
            "RP-8.2",
            f"姓名和联系方式各至多 {NAME_MAX} 个字符",
            f"the name and the contact are at most {NAME_MAX} characters each",
        )
    d = ledger.casework.deadlines
    dates, notes = _due(day, (d.objection_assign_days, d.objection_conclude_days), calendar)
    return Step(
        "objection.received",
        {
            "reference": next_reference(ledger, CaseKind.OBJECTION, day.year),
            "branch": branch,
            "channel": channel.value,
            "about": about,
            "what": text,
            "objector": {"name": name, "contact": contact},
            "relates_to": related_case(ledger, relates_to),
            "timing": "during" if day <= publicity_end else "after",
            **dates,
        },
        notes,
    )


def _due(
    day: date, days: tuple[int, int], calendar: WorkingDays
) -> tuple[dict[str, Any], tuple[Note, ...]]:
    """(RP-8.4, RP-8.4a) The body's due dates for a case received on ``day``: exact where the
    calendar knows the years they need, else provisional, named in ``due_provisional`` and noted
    (the case is received all the same)."""
    dates = {name: due(day, n, calendar) for name, n in zip(DUE_FIELDS, days, strict=True)}
    body: dict[str, Any] = {name: d.day.isoformat() for name, d in dates.items()}
    provisional = [name for name, d in dates.items() if d.provisional]
    if not provisional:
        return body, ()
    body["due_provisional"] = provisional
    note = Note(
        "casework.due_provisional",
        "工作日历还没有办理期限所到年份的节假日安排：期限暂按周一至周五计算并标明“暂定”，"
        "镇党委签署该年份的工作日历后按工作日确定",
        "the working-day calendar lacks the year a due date reaches: it is counted on Mondays "
        "to Fridays and marked provisional until the town signs that year's calendar",
        "RP-8.4a",
    )
    return body, (note,)


def _when(when: str, day: date) -> str:
    if not when:
        return ""
    m = _WHEN.fullmatch(when)
    try:
        given = date.fromisoformat(m[1]) if m else None
        if m and m[2]:
            datetime.fromisoformat(when)
    except ValueError:
        given = None
    if given is None:
        raise refuse(
            "report.when_format",
            "RP-9.3",
            "发生时间格式应为 YYYY-MM-DD 或 YYYY-MM-DDTHH:MM",
            "the time must be YYYY-MM-DD or YYYY-MM-DDTHH:MM",
        )
    if given > day:
        raise refuse(
            "report.when_future",
            "RP-9.3",
            "发生时间不能晚于提交日期",
            "the time reported is after the day of submission",
        )
    return when


def submit_report(
    ledger: Ledger,
    *,
    at: datetime,
    calendar: WorkingDays,
    reporter: str,
    what: str,
    where: str = "",
    when: str = "",
    branch: str = "",
    photos: Sequence[bytes] = (),
    relates_to: str = "",
) -> Step:
    """``report.received`` (RP-9.3-RP-9.6), its photos checked by ``check_photos`` (RP-9.4).

    A report about another branch than the reporter's is accepted with the note
    ``report.other_branch`` and ``own_branch`` ``"no"`` (RP-9.5).

    Raises:
        CaseworkError: ``reporter.unknown``, ``report.empty``, ``report.too_long``,
            ``report.where_too_long``, ``report.when_format``, ``report.when_future``,
            the photo codes of ``check_photos``, ``casework.branch_unknown``, ``case.unknown``,
            ``casework.time_order``, ``casework.numbering``.
    """
    day = time_order(ledger, at)
    who = ledger.reporters.get(reporter)
    if who is None or not who.active:
        raise refuse("reporter.unknown", "RP-9.2", "直报员身份无效", "not a registered reporter")
    cw = ledger.casework
    text = content(what, cw.text_max_chars, CaseKind.REPORT)
    place = clean_text(where)
    if len(place) > _WHERE_MAX:
        raise refuse(
            "report.where_too_long",
            "RP-9.3",
            f"地点至多 {_WHERE_MAX} 个字符",
            f"the place is at most {_WHERE_MAX} characters",
        )
    checked = check_photos(photos, cw.photos)
    target = branch or who.branch
    known_branch(ledger, target)
    notes: tuple[Note, ...] = ()
    if target != who.branch:
        notes = (
            Note(
                "report.other_branch",
                "所报告的不是本人所在支部，已记录并照常办理",
                "the report is about another branch: recorded and handled as usual",
                "RP-9.5",
            ),
        )
    d = cw.deadlines
    dates, provisional = _due(day, (d.report_assign_days, d.report_conclude_days), calendar)
    return Step(
        "report.received",
        {
            "reference": next_reference(ledger, CaseKind.REPORT, day.year),
            "reporter": reporter,
            "branch": target,
            "own_branch": "yes" if target == who.branch else "no",
            "what": text,
            "where": place,
            "when": _when(when.strip(), day),
            "photos": [photo_body(p) for p in checked],
            "relates_to": related_case(ledger, relates_to),
            **dates,
        },
        notes + provisional,
        checked,
    )


def _days(deadlines: Deadlines, case: Case) -> dict[str, int]:
    if case.kind is CaseKind.OBJECTION:
        pair = (deadlines.objection_assign_days, deadlines.objection_conclude_days)
    else:
        pair = (deadlines.report_assign_days, deadlines.report_conclude_days)
    return dict(zip(DUE_FIELDS, pair, strict=True))


def settle_due_dates(ledger: Ledger, calendar: WorkingDays) -> Ledger:
    """(RP-8.4a) The ledger with each provisional due date made exact where ``calendar`` now
    knows every year it needs: the same working days after the same day received, so nothing
    but the calendar decides it; a date whose year is still unknown stays provisional.
    """
    settled: dict[str, Case] = {}
    for reference, case in ledger.cases.items():
        if not case.provisional:
            continue
        days = _days(ledger.casework.deadlines, case)
        exact = {n: exact_due_date(case.received, days[n], calendar) for n in case.provisional}
        found = {n: d for n, d in exact.items() if d is not None}
        if found:
            settled[reference] = replace(
                case,
                due_assign=found.get("due_assign", case.due_assign),
                due_conclude=found.get("due_conclude", case.due_conclude),
                provisional=case.provisional - frozenset(found),
            )
    if not settled:
        return ledger
    return replace(ledger, cases=MappingProxyType({**ledger.cases, **settled}))
