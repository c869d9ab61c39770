"""Cases and their states (spec/procedure.md RP-8.2-RP-8.6, RP-9.1-RP-9.6, RP-11.3).

A :class:`Ledger` is the town's casework as its log says: the cases, the reporters and the
reference counters. Each operation (``lodge_objection``, ``submit_report``, ``assign``, ``check``,
``extend``, ``conclude``, ``register_reporter``, ``withdraw_reporter``) checks its input against
the ledger and returns a :class:`Step` (the entry's type and body, plus any notes) or raises a
:class:`~tally.core.casework.errors.CaseworkError`; :func:`apply` folds a step's entry into a new
ledger. Nothing is mutated, so a refused operation leaves the ledger as it was.

States: an objection goes ``received`` → ``assigned`` (again to another account as often as
needed) → ``concluded``; a report goes ``received`` → ``assigned`` → ``checked`` → ``concluded``.
``concluded`` is final. An extension moves ``due_conclude`` later, in any open state.
"""

from __future__ import annotations

import enum
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from types import MappingProxyType
from typing import Any, Final

from tally.core.definition import MEMBER_ID_PATTERN

from .deadlines import WorkingDays, due_date, local_date
from .definition import Casework
from .errors import CaseworkError, refuse
from .photos import Photo, check_photos, photo_body
from .references import CaseKind, format_reference, parse_reference, unknown_case

__all__ = [
    "BODY_FIELDS",
    "Case",
    "CaseState",
    "Channel",
    "Effect",
    "Finding",
    "Ledger",
    "Note",
    "Reporter",
    "Step",
    "allowed_effects",
    "apply",
    "assign",
    "check",
    "conclude",
    "extend",
    "lodge_objection",
    "open_ledger",
    "register_reporter",
    "submit_report",
    "withdraw_reporter",
]

_WHERE_MAX: Final = 200
_REASON_MAX: Final = 200
_NAME_MAX: Final = 64
_PHONE: Final = re.compile(r"[0-9]{11}")
_WHEN: Final = re.compile(r"([0-9]{4}-[0-9]{2}-[0-9]{2})(T[0-9]{2}:[0-9]{2})?")
_REF_IN_TEXT: Final = re.compile(r"(?:YY|MQ)-[0-9]{4}-[0-9]{5}")

#: (RP-11.3) The members of each casework entry type's body.
BODY_FIELDS: Final[Mapping[str, frozenset[str]]] = MappingProxyType(
    {
        "casework.opened": frozenset({"casework_id"}),
        "reporter.registered": frozenset({"reporter", "branch", "group", "name", "phone"}),
        "reporter.withdrawn": frozenset({"reporter", "reason"}),
        "objection.received": frozenset(
            {
                "reference",
                "branch",
                "channel",
                "about",
                "what",
                "objector",
                "relates_to",
                "timing",
                "due_assign",
                "due_conclude",
            }
        ),
        "report.received": frozenset(
            {
                "reference",
                "reporter",
                "branch",
                "own_branch",
                "what",
                "where",
                "when",
                "photos",
                "relates_to",
                "due_assign",
                "due_conclude",
            }
        ),
        "objection.assigned": frozenset({"reference", "assignee"}),
        "report.assigned": frozenset({"reference", "assignee"}),
        "report.checked": frozenset({"reference", "note"}),
        "objection.extended": frozenset({"reference", "due_conclude", "reason"}),
        "report.extended": frozenset({"reference", "due_conclude", "reason"}),
        "objection.concluded": frozenset({"reference", "finding", "effect", "summary"}),
        "report.concluded": frozenset({"reference", "finding", "summary"}),
        "reminder.sent": frozenset({"reference", "kind", "to"}),
    }
)


class CaseState(enum.StrEnum):
    """已受理、已交办、已核实、已办结 (RP-8.4, RP-9.6)."""

    RECEIVED = "received"
    ASSIGNED = "assigned"
    CHECKED = "checked"
    CONCLUDED = "concluded"


class Channel(enum.StrEnum):
    """How an objection came in (RP-8.2)."""

    IN_PERSON = "in_person"
    FORM = "form"


class Finding(enum.StrEnum):
    """认定 (RP-8.5)."""

    SUBSTANTIATED = "substantiated"
    PARTLY_SUBSTANTIATED = "partly_substantiated"
    UNSUBSTANTIATED = "unsubstantiated"
    NOT_COMPETENT = "not_competent"
    DUPLICATE = "duplicate"


class Effect(enum.StrEnum):
    """处理结果 of an objection (RP-8.5); a report's is always ``none``."""

    NONE = "none"
    NOT_APPOINTED = "not_appointed"
    ELECTION_VOID = "election_void"


def allowed_effects(finding: Finding, about: str) -> frozenset[Effect]:
    """The effects an objection about ``about`` ("" = the election as a whole) may have (RP-8.5)."""
    out = {Effect.NONE}
    if about and finding in (Finding.SUBSTANTIATED, Finding.PARTLY_SUBSTANTIATED):
        out.add(Effect.NOT_APPOINTED)
    if not about and finding is Finding.SUBSTANTIATED:
        out.add(Effect.ELECTION_VOID)
    return frozenset(out)


@dataclass(frozen=True, slots=True)
class Note:
    """A recorded decision that is not a refusal (e.g. ``report.other_branch``)."""

    code: str
    zh: str
    en: str
    clause: str


@dataclass(frozen=True, slots=True)
class Step:
    """A checked operation: the entry's type and body, and the notes it gives."""

    type: str
    body: Mapping[str, Any]
    notes: tuple[Note, ...] = ()
    photos: tuple[Photo, ...] = ()


@dataclass(frozen=True, slots=True)
class Case:
    """One objection or report as its entries so far say."""

    reference: str
    kind: CaseKind
    branch: str
    about: str
    channel: str  # Channel for an objection, "reporter" for a report
    timing: str  # "during" or "after" for an objection (RP-8.6), "" for a report
    received: date
    state: CaseState
    assignee: str
    due_assign: date
    due_conclude: date
    finding: Finding | None = None
    effect: Effect | None = None
    concluded: date | None = None


@dataclass(frozen=True, slots=True)
class Reporter:
    """A registered community reporter (RP-9.1)."""

    id: str
    branch: str
    group: str
    active: bool


@dataclass(frozen=True, slots=True)
class Ledger:
    """The casework as its log says, after ``size`` entries."""

    casework: Casework
    size: int = 0
    last_at: datetime | None = None
    last_leaf: bytes = b""
    cases: Mapping[str, Case] = field(default_factory=lambda: MappingProxyType({}))
    reporters: Mapping[str, Reporter] = field(default_factory=lambda: MappingProxyType({}))
    counters: Mapping[tuple[CaseKind, int], int] = field(
        default_factory=lambda: MappingProxyType({})
    )

    def case(self, reference: str) -> Case:
        """The case with this reference.

        Raises:
            CaseworkError: ``case.unknown``.
        """
        parse_reference(reference)
        found = self.cases.get(reference)
        if found is None:
            raise unknown_case(reference)
        return found


def open_ledger(casework: Casework) -> Ledger:
    """The ledger of a new casework file, before entry 0."""
    return Ledger(casework=casework)


# --------------------------------------------------------------------------- text checks


def _clean(text: str) -> str:
    return unicodedata.normalize("NFC", text).strip()


_EMPTY: Final = {
    CaseKind.OBJECTION: ("异议内容不能为空", "an objection needs content"),
    CaseKind.REPORT: ("报告内容不能为空", "a report needs content"),
}


def _content(text: str, limit: int, kind: CaseKind) -> str:
    """``what`` trimmed and NFC, 1..limit characters (RP-8.2, RP-9.3)."""
    clause = "RP-8.2" if kind is CaseKind.OBJECTION else "RP-9.3"
    t = _clean(text)
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


def _time_order(ledger: Ledger, at: datetime) -> date:
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


def _branch(ledger: Ledger, code: str) -> None:
    if ledger.casework.branch(code) is None:
        raise refuse(
            "casework.branch_unknown",
            "RP-8.1",
            f"本镇没有这个支部：{code}",
            f"the town has no branch {code}",
        )


def _relates_to(ledger: Ledger, relates_to: str) -> str:
    if relates_to:
        ledger.case(relates_to)
    return relates_to


def _next_reference(ledger: Ledger, kind: CaseKind, year: int) -> str:
    return format_reference(kind, year, ledger.counters.get((kind, year), 0) + 1)


# --------------------------------------------------------------------------- receiving


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
    day = _time_order(ledger, at)
    limit = ledger.casework.text_max_chars
    text = _content(what, limit, CaseKind.OBJECTION)
    _branch(ledger, branch)
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
    name, contact = _clean(objector_name), _clean(objector_contact)
    if len(name) > _NAME_MAX or len(contact) > _NAME_MAX:
        raise refuse(
            "objection.objector",
            "RP-8.2",
            f"姓名和联系方式各至多 {_NAME_MAX} 个字符",
            f"the name and the contact are at most {_NAME_MAX} characters each",
        )
    d = ledger.casework.deadlines
    return Step(
        "objection.received",
        {
            "reference": _next_reference(ledger, CaseKind.OBJECTION, day.year),
            "branch": branch,
            "channel": channel.value,
            "about": about,
            "what": text,
            "objector": {"name": name, "contact": contact},
            "relates_to": _relates_to(ledger, relates_to),
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
    day = _time_order(ledger, at)
    who = ledger.reporters.get(reporter)
    if who is None or not who.active:
        raise refuse("reporter.unknown", "RP-9.2", "直报员身份无效", "not a registered reporter")
    cw = ledger.casework
    text = _content(what, cw.text_max_chars, CaseKind.REPORT)
    place = _clean(where)
    if len(place) > _WHERE_MAX:
        raise refuse(
            "report.where_too_long",
            "RP-9.3",
            f"地点至多 {_WHERE_MAX} 个字符",
            f"the place is at most {_WHERE_MAX} characters",
        )
    checked = check_photos(photos, cw.photos)
    target = branch or who.branch
    _branch(ledger, target)
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
            "reference": _next_reference(ledger, CaseKind.REPORT, day.year),
            "reporter": reporter,
            "branch": target,
            "own_branch": "yes" if target == who.branch else "no",
            "what": text,
            "where": place,
            "when": _when(when.strip(), day),
            "photos": [photo_body(p) for p in checked],
            "relates_to": _relates_to(ledger, relates_to),
            "due_assign": due_date(day, d.report_assign_days, calendar).isoformat(),
            "due_conclude": due_date(day, d.report_conclude_days, calendar).isoformat(),
        },
        notes,
        checked,
    )


# --------------------------------------------------------------------------- reporters


def register_reporter(
    ledger: Ledger, *, at: datetime, reporter: str, branch: str, group: str, name: str, phone: str
) -> Step:
    """``reporter.registered`` (RP-9.1).

    Raises:
        CaseworkError: ``reporter.id_format``, ``reporter.duplicate``, ``casework.branch_unknown``,
            ``reporter.group_unknown``, ``reporter.name``, ``reporter.phone``,
            ``casework.time_order``.
    """
    _time_order(ledger, at)
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
    _branch(ledger, branch)
    b = ledger.casework.branch(branch)
    if b is None or not b.has_group(group):
        raise refuse(
            "reporter.group_unknown",
            "RP-9.1",
            "村（居）民小组不属于该支部",
            "the village group is not the branch's",
        )
    clean = _clean(name)
    if not clean or len(clean) > _NAME_MAX:
        raise refuse(
            "reporter.name",
            "RP-9.1",
            f"直报员姓名须为 1 至 {_NAME_MAX} 个字符",
            f"a reporter's name is 1 to {_NAME_MAX} characters",
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
    _time_order(ledger, at)
    who = ledger.reporters.get(reporter)
    if who is None or not who.active:
        raise refuse("reporter.unknown", "RP-9.2", "直报员身份无效", "not a registered reporter")
    return Step("reporter.withdrawn", {"reporter": reporter, "reason": _reason(reason)})


# --------------------------------------------------------------------------- handling


def _open_case(ledger: Ledger, reference: str) -> Case:
    case = ledger.case(reference)
    if case.state is CaseState.CONCLUDED:
        raise refuse(
            "case.concluded",
            "RP-8.4",
            f"已办结的事项不能再更改：{reference}",
            f"a concluded case cannot change: {reference}",
        )
    return case


def _out_of_order(case: Case, action_zh: str, action_en: str) -> CaseworkError:
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


def _account(account: str) -> str:
    if not account or len(account) > _NAME_MAX or account != account.strip():
        raise refuse(
            "case.account",
            "RP-9.8",
            "账户名须为 1 至 64 个字符",
            "an account name is 1 to 64 characters",
        )
    return account


def _assignee(case: Case, actor: str) -> None:
    if actor != case.assignee:
        raise refuse(
            "case.not_assignee",
            "RP-9.8",
            "只能办理交办给本人的事项",
            "only the assignee may check or conclude a case",
        )


def _reason(reason: str) -> str:
    r = _clean(reason)
    if not r or len(r) > _REASON_MAX:
        raise refuse(
            "case.reason",
            "RP-8.4",
            f"须填写理由（1 至 {_REASON_MAX} 个字符）",
            f"a reason of 1 to {_REASON_MAX} characters is needed",
        )
    return r


def assign(ledger: Ledger, *, at: datetime, reference: str, assignee: str) -> Step:
    """``objection.assigned`` / ``report.assigned``: from received, or again while assigned.

    Raises:
        CaseworkError: ``case.unknown``, ``case.concluded``, ``case.state_order``,
            ``case.account``, ``casework.time_order``.
    """
    _time_order(ledger, at)
    case = _open_case(ledger, reference)
    if case.state not in (CaseState.RECEIVED, CaseState.ASSIGNED):
        raise _out_of_order(case, "交办", "assigned")
    return Step(
        f"{case.kind.value}.assigned", {"reference": reference, "assignee": _account(assignee)}
    )


def check(ledger: Ledger, *, at: datetime, reference: str, actor: str, note: str) -> Step:
    """``report.checked`` by the assignee; objections have no such step (RP-9.6).

    Raises:
        CaseworkError: ``case.unknown``, ``case.concluded``, ``case.state_order``,
            ``case.not_assignee``, ``report.no_note``, ``casework.time_order``.
    """
    _time_order(ledger, at)
    case = _open_case(ledger, reference)
    if case.kind is not CaseKind.REPORT or case.state is not CaseState.ASSIGNED:
        raise _out_of_order(case, "记录核实", "checked")
    _assignee(case, actor)
    text = _clean(note)
    if not text or len(text) > ledger.casework.text_max_chars:
        raise refuse(
            "report.no_note",
            "RP-9.6",
            "核实须填写核实情况",
            "a check needs its note",
        )
    return Step("report.checked", {"reference": reference, "note": text})


def extend(
    ledger: Ledger, *, at: datetime, reference: str, due_conclude: date, reason: str
) -> Step:
    """``objection.extended`` / ``report.extended``: a later ``due_conclude`` (RP-8.4).

    Raises:
        CaseworkError: ``case.unknown``, ``case.concluded``, ``casework.deadline`` (not later
            than the due date it replaces), ``case.reason``, ``casework.time_order``.
    """
    _time_order(ledger, at)
    case = _open_case(ledger, reference)
    if due_conclude <= case.due_conclude:
        raise refuse(
            "casework.deadline",
            "RP-8.4",
            f"延期后的办结期限须晚于 {case.due_conclude.isoformat()}",
            f"the extended due date must be after {case.due_conclude.isoformat()}",
        )
    return Step(
        f"{case.kind.value}.extended",
        {
            "reference": reference,
            "due_conclude": due_conclude.isoformat(),
            "reason": _reason(reason),
        },
    )


def conclude(
    ledger: Ledger,
    *,
    at: datetime,
    reference: str,
    actor: str,
    finding: Finding,
    summary: str,
    effect: Effect = Effect.NONE,
) -> Step:
    """``objection.concluded`` (from assigned) / ``report.concluded`` (from checked), RP-8.5.

    Raises:
        CaseworkError: ``case.unknown``, ``case.concluded``, ``case.state_order``,
            ``case.not_assignee``, ``objection.no_conclusion``, ``case.effect_invalid``,
            ``case.duplicate_of``, ``casework.time_order``.
    """
    _time_order(ledger, at)
    case = _open_case(ledger, reference)
    ready = CaseState.ASSIGNED if case.kind is CaseKind.OBJECTION else CaseState.CHECKED
    if case.state is not ready:
        raise _out_of_order(case, "办结", "concluded")
    _assignee(case, actor)
    text = _clean(summary)
    if not text or len(text) > ledger.casework.text_max_chars:
        raise refuse(
            "objection.no_conclusion",
            "RP-8.5",
            "办结须填写办理结论",
            "a conclusion needs its summary",
        )
    allowed = (
        allowed_effects(finding, case.about) if case.kind is CaseKind.OBJECTION else {Effect.NONE}
    )
    if effect not in allowed:
        raise refuse(
            "case.effect_invalid",
            "RP-8.5",
            "处理结果与认定不相符",
            "the effect does not fit the finding",
        )
    if finding is Finding.DUPLICATE and not any(
        r != reference and r in ledger.cases for r in _REF_IN_TEXT.findall(text)
    ):
        raise refuse(
            "case.duplicate_of",
            "RP-8.5",
            "认定为重复反映的，办理结论须写明所重复的事项编号",
            "a duplicate's summary must name the reference it repeats",
        )
    body: dict[str, Any] = {"reference": reference, "finding": finding.value, "summary": text}
    if case.kind is CaseKind.OBJECTION:
        body["effect"] = effect.value
    return Step(f"{case.kind.value}.concluded", body)


# --------------------------------------------------------------------------- folding


def apply(ledger: Ledger, type_: str, body: Mapping[str, Any], at: datetime) -> Ledger:
    """The ledger after one entry (its body as :data:`BODY_FIELDS` says).

    Raises:
        CaseworkError: ``casework.malformed`` for an unknown type, a body of other members, or a
            ``casework.opened`` that is not entry 0 of this casework (or an entry 0 that is not).
    """
    if BODY_FIELDS.get(type_) != frozenset(body):
        raise refuse(
            "casework.malformed",
            "RP-11.3",
            "事项记录类型或内容错误",
            "unknown casework entry type or body",
        )
    if (type_ == "casework.opened") != (ledger.size == 0) or (
        type_ == "casework.opened" and body["casework_id"] != ledger.casework.id.hex()
    ):
        raise refuse(
            "casework.malformed",
            "RP-11.3",
            "事项记录须以本登记簿的 casework.opened 开始，且只有一条",
            "the casework log starts with its own casework.opened, and has only that one",
        )
    cases = dict(ledger.cases)
    reporters = dict(ledger.reporters)
    counters = dict(ledger.counters)
    day = local_date(at)
    ref = str(body.get("reference", ""))
    if type_ == "reporter.registered":
        reporters[body["reporter"]] = Reporter(
            body["reporter"], body["branch"], body["group"], True
        )
    elif type_ == "reporter.withdrawn":
        reporters[body["reporter"]] = replace(reporters[body["reporter"]], active=False)
    elif type_ in ("objection.received", "report.received"):
        kind, year, n = parse_reference(ref)
        counters[(kind, year)] = n
        cases[ref] = Case(
            reference=ref,
            kind=kind,
            branch=body["branch"],
            about=body.get("about", ""),
            channel=body.get("channel", "reporter"),
            timing=body.get("timing", ""),
            received=day,
            state=CaseState.RECEIVED,
            assignee="",
            due_assign=date.fromisoformat(body["due_assign"]),
            due_conclude=date.fromisoformat(body["due_conclude"]),
        )
    elif type_.endswith(".assigned"):
        cases[ref] = replace(cases[ref], state=CaseState.ASSIGNED, assignee=body["assignee"])
    elif type_ == "report.checked":
        cases[ref] = replace(cases[ref], state=CaseState.CHECKED)
    elif type_.endswith(".extended"):
        cases[ref] = replace(cases[ref], due_conclude=date.fromisoformat(body["due_conclude"]))
    elif type_.endswith(".concluded"):
        cases[ref] = replace(
            cases[ref],
            state=CaseState.CONCLUDED,
            finding=Finding(body["finding"]),
            effect=Effect(body.get("effect", "none")),
            concluded=day,
        )
    return Ledger(
        casework=ledger.casework,
        size=ledger.size + 1,
        last_at=at.replace(microsecond=0),
        last_leaf=ledger.last_leaf,
        cases=MappingProxyType(cases),
        reporters=MappingProxyType(reporters),
        counters=MappingProxyType(counters),
    )
