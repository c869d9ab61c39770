"""Registering and withdrawing community reporters (spec/procedure.md RP-9.1, RP-9.2)."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Final

from tally.core.definition import MEMBER_ID_PATTERN

from ._checks import NAME_MAX, clean_text, known_branch, reason_text, time_order
from .cases import Ledger, Step
from .errors import refuse

__all__ = ["register_reporter", "withdraw_reporter"]

_PHONE: Final = re.compile(r"[0-9]{11}")


def register_reporter(
    ledger: Ledger, *, at: datetime, reporter: str, branch: str, group: str, name: str, phone: str
) -> Step:
    """``reporter.registered`` (RP-9.1).

    Raises:
        CaseworkError: ``reporter.id_format``, ``reporter.duplicate``, ``casework.branch_unknown``,
            ``reporter.group_unknown``, ``reporter.name``, ``reporter.phone``,
            ``casework.time_order``.
    """
    time_order(ledger, at)
    if MEMBER_ID_PATTERN.fullmatch(reporter) is None:
        raise refuse(
            "reporter.id_format",
            "RP-9.1",
            "直报员编号格式不正确（字母、数字、.、_、-，至多 32 个字符）",
            "malformed reporter id (letters, digits, '.', '_', '-', at most 32 characters)",
        )
    if reporter in ledger.reporters:
        raise refuse(
            "reporter.duplicate",
            "RP-9.1",
            f"直报员编号已登记：{reporter}",
            f"the reporter id is already registered: {reporter}",
        )
    known_branch(ledger, branch)
    b = ledger.casework.branch(branch)
    if b is None or not b.has_group(group):
        raise refuse(
            "reporter.group_unknown",
            "RP-9.1",
            "村（居）民小组不属于该支部",
            "the village group is not the branch's",
        )
    clean = clean_text(name)
    if not clean or len(clean) > NAME_MAX:
        raise refuse(
            "reporter.name",
            "RP-9.1",
            f"直报员姓名须为 1 至 {NAME_MAX} 个字符",
            f"a reporter's name is 1 to {NAME_MAX} characters",
        )
    if phone and _PHONE.fullmatch(phone) is None:
        raise refuse(
            "reporter.phone",
            "RP-9.1",
            "手机号码须为 11 位数字，或不填",
            "the phone number is 11 digits, or empty",
        )
    return Step(
        "reporter.registered",
        {"reporter": reporter, "branch": branch, "group": group, "name": clean, "phone": phone},
    )


def withdraw_reporter(ledger: Ledger, *, at: datetime, reporter: str, reason: str) -> Step:
    """``reporter.withdrawn`` (RP-9.1); the reporter's reports stay.

    Raises:
        CaseworkError: ``reporter.unknown``, ``case.reason``, ``casework.time_order``.
    """
    time_order(ledger, at)
    who = ledger.reporters.get(reporter)
    if who is None or not who.active:
        raise refuse("reporter.unknown", "RP-9.2", "直报员身份无效", "not a registered reporter")
    return Step("reporter.withdrawn", {"reporter": reporter, "reason": reason_text(reason)})
