"""The checks the casework operations share: text, time order, branches, references, accounts,
reasons and the state a case must be in (spec/procedure.md RP-8.2-RP-8.6, RP-9.3-RP-9.8,
RP-11.3)."""

from __future__ import annotations

import unicodedata
from datetime import date, datetime
from typing import Final

from .cases import Case, CaseState, Ledger
from .deadlines import local_date
from .errors import CaseworkError, refuse
from .references import CaseKind, format_reference

__all__ = [
    "NAME_MAX",
    "account_name",
    "clean_text",
    "content",
    "known_branch",
    "next_reference",
    "open_case",
    "out_of_order",
    "reason_text",
    "related_case",
    "require_assignee",
    "time_order",
]

_REASON_MAX: Final = 200
NAME_MAX: Final = 64


def clean_text(text: str) -> str:
    return unicodedata.normalize("NFC", text).strip()


_EMPTY: Final = {
    CaseKind.OBJECTION: ("异议内容不能为空", "an objection needs content"),
    CaseKind.REPORT: ("报告内容不能为空", "a report needs content"),
}


def content(text: str, limit: int, kind: CaseKind) -> str:
    """``what`` trimmed and NFC, 1..limit characters (RP-8.2, RP-9.3)."""
    clause = "RP-8.2" if kind is CaseKind.OBJECTION else "RP-9.3"
    t = clean_text(text)
    if not t:
        raise refuse(f"{kind.value}.empty", clause, *_EMPTY[kind])
    if len(t) > limit:
        raise refuse(
            f"{kind.value}.too_long",
            clause,
            f"内容过长（{len(t)} 个字符，至多 {limit} 个）",
            f"the text is too long ({len(t)} characters, at most {limit})",
        )
    return t


def time_order(ledger: Ledger, at: datetime) -> date:
    day = local_date(at)
    # Entries carry their time to the second (RP-11.3), so the order is compared to the second.
    if ledger.last_at is not None and at.replace(microsecond=0) < ledger.last_at:
        raise refuse(
            "casework.time_order",
            "RP-11.3",
            "记录时间早于上一条记录，请检查计算机时钟",
            "the time is before the previous entry's: check the computer's clock",
        )
    return day


def known_branch(ledger: Ledger, code: str) -> None:
    if ledger.casework.branch(code) is None:
        raise refuse(
            "casework.branch_unknown",
            "RP-8.1",
            f"本镇没有这个支部：{code}",
            f"the town has no branch {code}",
        )


def related_case(ledger: Ledger, relates_to: str) -> str:
    if relates_to:
        ledger.case(relates_to)
    return relates_to


def next_reference(ledger: Ledger, kind: CaseKind, year: int) -> str:
    return format_reference(kind, year, ledger.counters.get((kind, year), 0) + 1)


def open_case(ledger: Ledger, reference: str) -> Case:
    case = ledger.case(reference)
    if case.state is CaseState.CONCLUDED:
        raise refuse(
            "case.concluded",
            "RP-8.4",
            f"已办结的事项不能再更改：{reference}",
            f"a concluded case cannot change: {reference}",
        )
    return case


def out_of_order(case: Case, action_zh: str, action_en: str) -> CaseworkError:
    return refuse(
        "case.state_order",
        "RP-8.4" if case.kind is CaseKind.OBJECTION else "RP-9.6",
        f"办理步骤顺序不正确：{case.reference} 处于“{_STATE_ZH[case.state]}”，不能{action_zh}",
        f"the case's steps are out of order: {case.reference} is {case.state.value}; "
        f"it cannot be {action_en}",
    )


_STATE_ZH: Final = {
    CaseState.RECEIVED: "已受理",
    CaseState.ASSIGNED: "已交办",
    CaseState.CHECKED: "已核实",
    CaseState.CONCLUDED: "已办结",
}


def account_name(account: str) -> str:
    if not account or len(account) > NAME_MAX or account != account.strip():
        raise refuse(
            "case.account",
            "RP-9.8",
            "账户名须为 1 至 64 个字符",
            "an account name is 1 to 64 characters",
        )
    return account


def require_assignee(case: Case, actor: str) -> None:
    if actor != case.assignee:
        raise refuse(
            "case.not_assignee",
            "RP-9.8",
            "只能办理交办给本人的事项",
            "only the assignee may check or conclude a case",
        )


def reason_text(reason: str) -> str:
    r = clean_text(reason)
    if not r or len(r) > _REASON_MAX:
        raise refuse(
            "case.reason",
            "RP-8.4",
            f"须填写理由（1 至 {_REASON_MAX} 个字符）",
            f"a reason of 1 to {_REASON_MAX} characters is needed",
        )
    return r
