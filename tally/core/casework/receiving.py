"""Receiving an objection or a report (spec/procedure.md RP-8.2-RP-8.4, RP-8.6, RP-9.3-RP-9.6)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date, datetime
from typing import Final

from ._checks import (
    NAME_MAX,
    clean_text,
    content,
    known_branch,
    next_reference,
    related_case,
    time_order,
)
from .cases import Channel, Ledger, Note, Step
from .deadlines import WorkingDays, due_date
from .errors import refuse
from .photos import check_photos, photo_body
from .references import CaseKind

__all__ = ["lodge_objection", "submit_report"]

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
            "due_assign": due_date(day, d.objection_assign_days, calendar).isoformat(),
            "due_conclude": due_date(day, d.objection_conclude_days, calendar).isoformat(),
        },
    )


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
            "due_assign": due_date(day, d.report_assign_days, calendar).isoformat(),
            "due_conclude": due_date(day, d.report_conclude_days, calendar).isoformat(),
        },
        notes,
        checked,
    )
