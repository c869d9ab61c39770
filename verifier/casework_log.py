"""(V31) The casework log replayed from spec/procedure.md alone: entries, cases, deadlines.

Re-implements RP-11.3 (``casework-entry/1``: members, chain, salts, times, types and exact
bodies), the case states of RP-8.4 and RP-9.6, the references of RP-8.3, the registrations of
RP-9.1, the content limits of RP-8.2, RP-9.3 and RP-9.4, the findings and effects of RP-8.5 and
the due dates in working days (RP-8.4: day 1 is the first working day after the local date
received, UTC+08:00) with the verifier's own calendar (``verifier.statutory``: chinese_calendar,
else the town's signed year file), and the provisional due dates of RP-8.4a: a date named in
``due_provisional`` is recomputed on Mondays to Fridays, an extension of it must be later than it
(or than the exact date, once the verifier's calendar knows its year: the log does not say when the
town signed the year), and overdue is judged on the exact date where the verifier's calendar knows
its year. Nothing here imports project code; the producer's rules live in
``tally.core.casework`` and the two meet only in the spec and its vectors.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from verifier import rules, statutory

__all__ = [
    "DUE_MEMBERS",
    "TOWN_TIME",
    "Case",
    "CaseworkDefinition",
    "Replay",
    "local_date",
    "provisional_due",
]

TOWN_TIME: Final = dt.timezone(dt.timedelta(hours=8))
_HEX64: Final = re.compile(r"[0-9a-f]{64}")
_AT: Final = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(Z|[+-]\d{2}:\d{2})")
_ID: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,31}", re.ASCII)
_REFERENCE: Final = re.compile(r"(YY|MQ)-([0-9]{4})-([0-9]{5})")
_REF_IN_TEXT: Final = re.compile(r"(?:YY|MQ)-[0-9]{4}-[0-9]{5}")
_PHONE: Final = re.compile(r"[0-9]{11}")
_WHEN: Final = re.compile(r"([0-9]{4}-[0-9]{2}-[0-9]{2})(T[0-9]{2}:[0-9]{2})?")
_ENTRY: Final = frozenset({"format", "seq", "prev", "salt", "type", "at", "actor", "body"})
_NAME_MAX: Final = 64
_REASON_MAX: Final = 200
_WHERE_MAX: Final = 200
_FINDINGS: Final = (
    "substantiated",
    "partly_substantiated",
    "unsubstantiated",
    "not_competent",
    "duplicate",
)
_KIND: Final = {"YY": "objection", "MQ": "report"}
#: (RP-8.4a) The due dates of a case, in the order ``due_provisional`` names them.
DUE_MEMBERS: Final = ("due_assign", "due_conclude")
#: (RP-11.3, RP-8.4a) A received entry's body may add ``due_provisional`` (never empty).
OPTIONAL: Final[Mapping[str, frozenset[str]]] = {
    "objection.received": frozenset({"due_provisional"}),
    "report.received": frozenset({"due_provisional"}),
}

#: (RP-11.3) The members of each entry type's body.
BODIES: Final[Mapping[str, frozenset[str]]] = {
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


def local_date(at: dt.datetime) -> dt.date:
    """The town's local date of an instant (RP-11.3: the date at UTC+08:00)."""
    return at.astimezone(TOWN_TIME).date()


@dataclass(frozen=True, slots=True)
class CaseworkDefinition:
    """What the replay needs of ``casework/1`` (RP-8.1), parsed by ``verifier.casework``."""

    casework_id: str
    town: str
    branches: Mapping[str, tuple[str, ...]]  # branch code -> its village group codes
    deadlines: Mapping[str, int]
    max_count: int
    max_bytes: int
    text_max_chars: int


@dataclass(slots=True)
class Case:
    """One objection or report as its entries say (mutable while the replay runs)."""

    reference: str
    kind: str  # "objection" or "report"
    branch: str
    about: str
    channel: str
    timing: str
    received: dt.date
    due_assign: dt.date
    due_conclude: dt.date
    state: str = "received"
    assignee: str = ""
    assigned: dt.date | None = None
    finding: str = ""
    effect: str = ""
    concluded: dt.date | None = None
    concluded_size: int = 0  # the log size once its conclusion is in
    received_size: int = 0  # the log size once it was received
    reminders: set[dt.date] = field(default_factory=set)
    provisional: set[str] = field(default_factory=set)
    """(RP-8.4a) The due dates still provisional (named in ``due_provisional``, not extended)."""
    exact: dict[str, dt.date] = field(default_factory=dict)
    """(RP-8.4a) A provisional due date's exact date, where the verifier's calendar knows it."""

    def judged(self, member: str) -> dt.date:
        """(V31) The due date overdue is judged on: the exact one where the verifier's calendar
        knows its year, else the date the log gives (provisional or exact)."""
        logged: dt.date = getattr(self, member)
        return self.exact.get(member, logged) if member in self.provisional else logged


class Stop(Exception):
    """The replay cannot go on: the failure is already reported."""


Fail = Callable[..., None]


def _text(v: object, lo: int, hi: int) -> bool:
    """A stored text: a string, NFC, trimmed, ``lo``..``hi`` characters."""
    return (
        isinstance(v, str)
        and lo <= len(v) <= hi
        and v == v.strip()
        and unicodedata.normalize("NFC", v) == v
    )


def _day(v: object) -> dt.date | None:
    if not isinstance(v, str) or re.fullmatch(r"\d{4}-\d{2}-\d{2}", v) is None:
        return None
    try:
        return dt.date.fromisoformat(v)
    except ValueError:
        return None


class Replay:
    """The casework log's entries folded one by one (V31); every failure goes to ``fail``.

    ``fail(code, zh, en, *, seq=None, path="", expected="", found="", rule="")`` records a finding.
    """

    def __init__(
        self,
        definition: CaseworkDefinition,
        fail: Fail,
        calendar: Mapping[int, statutory.Year],
    ) -> None:
        self.d = definition
        self.fail = fail
        self.calendar = calendar
        self.cases: dict[str, Case] = {}
        self.reporters: dict[str, tuple[str, str, bool]] = {}  # id -> (branch, group, active)
        self.counters: dict[tuple[str, int], int] = {}
        self.photos: dict[str, tuple[int, str]] = {}  # sha256 -> (bytes, type)
        self.size = 0
        self.last_at: dt.datetime | None = None
        self.unknown_years: set[int] = set()
        self.seq = 0

    # -- entries -------------------------------------------------------------------------------
    def entry(self, doc: object, prev: str) -> None:
        """Fold one parsed entry; ``prev`` is the hash it must chain to.

        Raises:
            Stop: the entry is not an entry at all (what follows cannot be replayed).
        """
        seq = self.size
        self.seq = seq
        if not isinstance(doc, dict) or set(doc) != _ENTRY or doc["format"] != "casework-entry/1":
            self._bad("entry.format", "不是 casework-entry/1 记录", "not a casework-entry/1 entry")
            raise Stop
        if doc["seq"] != seq or type(doc["seq"]) is not int:
            self._bad("entry.seq", "序号不连续", "seq out of order", expected=str(seq))
            raise Stop
        if doc["prev"] != prev:
            self._bad(
                "entry.prev", "与上一条记录的哈希链不符", "prev does not chain", expected=prev
            )
        if not isinstance(doc["salt"], str) or _HEX64.fullmatch(doc["salt"]) is None:
            self._bad("entry.salt", "盐值不是 64 位十六进制", "salt is not 64 lowercase hex")
        at = self._at(doc["at"])
        if not isinstance(doc["actor"], str) or not doc["actor"]:
            self._bad("casework.malformed", "记录人无效", "actor is not a non-empty string")
        type_, body = doc["type"], doc["body"]
        if not isinstance(type_, str) or type_ not in BODIES:
            self._bad("casework.malformed", "未知记录类型", f"unknown entry type {type_!r}")
            raise Stop
        if (
            not isinstance(body, dict)
            or set(body) - OPTIONAL.get(type_, frozenset()) != BODIES[type_]
        ):
            self._bad("casework.malformed", "记录内容的字段不符", f"the body of {type_} is wrong")
            raise Stop
        if (type_ == "casework.opened") != (seq == 0):
            self._bad(
                "casework.malformed",
                "事项记录须以 casework.opened 开始，且只有一条",
                "the log starts with casework.opened, and has only that one",
            )
        self._actor(type_, body, doc["actor"])
        self.size += 1
        if at is None:
            return
        handler = getattr(self, "_" + type_.replace(".", "_"))
        handler(body, local_date(at), str(doc["actor"]))

    def _actor(self, type_: str, body: Mapping[str, Any], actor: object) -> None:
        """(RP-11.3) ``branch:<B>:<account>``, a work group's actor: its own in-person objection."""
        if isinstance(actor, str) and actor.startswith("branch:"):
            branch, _, account = actor[7:].partition(":")
            own = (type_, body.get("channel"), body.get("branch")) == (
                "objection.received",
                "in_person",
                branch,
            )
            if not (branch and account and own):
                zh = "支部工作组只能记录本支部当面提出的异议"
                en = "a work group's actor on what is not its branch's in-person objection"
                self._bad("casework.actor_branch", zh, en, found=actor)

    def _bad(self, code: str, zh: str, en: str, **where: Any) -> None:
        where.setdefault("seq", self.seq)
        where.setdefault("rule", "RP-11.3")
        self.fail(code, zh, en, **where)

    def _at(self, v: object) -> dt.datetime | None:
        if not isinstance(v, str) or _AT.fullmatch(v) is None:
            self._bad(
                "entry.at", "时间格式无效（须含时区，精确到秒）", "at is not ISO 8601 to the second"
            )
            return None
        try:
            at = dt.datetime.fromisoformat(v)
        except ValueError:
            self._bad("entry.at", "时间无效", "at is not a valid time")
            return None
        if self.last_at is not None and at < self.last_at:
            self._bad(
                "casework.time_order",
                "记录时间早于上一条记录",
                "the time is before the previous entry's",
                found=v,
            )
        else:
            self.last_at = at
        return at

    # -- calendar ------------------------------------------------------------------------------
    def due(self, day: dt.date, n: int) -> dt.date | None:
        """The ``n``-th working day after ``day`` (RP-8.4, R26.1: day 1 is the first working day
        after it), or None when the calendar of a year it reaches is unknown (reported once)."""
        d, count = day, 0
        while count < n:
            d += dt.timedelta(days=1)
            year = statutory.own_year(d.year, self.calendar)
            if year is None:
                if d.year not in self.unknown_years:
                    self.unknown_years.add(d.year)
                    self.fail(
                        "casework.calendar_year",
                        f"{d.year} 年的节假日安排未知，无法核对办理期限",
                        f"the working days of {d.year} are unknown: due dates cannot be checked",
                        rule="RP-8.4",
                    )
                return None
            if rules.is_working_day(d, year[0], year[1]):
                count += 1
        return d

    def exact_due(self, day: dt.date, n: int) -> dt.date | None:
        """The ``n``-th working day after ``day``, or None (silently) when the verifier's calendar
        does not know a year it reaches (RP-8.4a: the provisional date then stands)."""
        d, count = day, 0
        while count < n:
            d += dt.timedelta(days=1)
            year = statutory.own_year(d.year, self.calendar)
            if year is None:
                return None
            count += rules.is_working_day(d, year[0], year[1])
        return d

    def _provisional_names(self, body: Mapping[str, Any]) -> set[str]:
        """(RP-8.4a) The names of ``due_provisional``: a non-empty list of distinct due-date
        members, in the order of RP-11.3; anything else is ``casework.malformed``."""
        if "due_provisional" not in body:
            return set()
        names = body["due_provisional"]
        valid = (
            isinstance(names, list)
            and names
            and all(isinstance(n, str) for n in names)
            and len(set(names)) == len(names)
            and set(names) <= set(DUE_MEMBERS)
            and names == [m for m in DUE_MEMBERS if m in names]
        )
        if not valid:
            self._bad(
                "casework.malformed",
                "“暂定期限”须列出暂定的期限名称，不得为空、重复或有其他名称",
                "due_provisional must name due_assign and/or due_conclude, in that order, "
                "never empty, never repeated, nothing else",
                path="body.due_provisional",
                found=str(names),
                rule="RP-8.4a",
            )
        listed = names if isinstance(names, list) else []
        return {n for n in listed if isinstance(n, str) and n in DUE_MEMBERS}

    def _deadlines(
        self, body: Mapping[str, Any], day: dt.date, kind: str
    ) -> tuple[dt.date, dt.date, set[str], dict[str, dt.date]]:
        """(V31, RP-8.4, RP-8.4a) The body's due dates, each recomputed: with the verifier's
        calendar, or on Mondays to Fridays when ``due_provisional`` names it. Returns the two
        dates, the provisional names and the exact dates of those the verifier's calendar knows."""
        provisional = self._provisional_names(body)
        out: list[dt.date] = []
        exact: dict[str, dt.date] = {}
        for member in DUE_MEMBERS:
            given = _day(body[member])
            if given is None:
                self._bad("casework.malformed", "期限不是日期", f"{member} is not a date")
                given = day
            n = self.d.deadlines.get(f"{kind}_{member.removeprefix('due_')}_days", 1)
            if member in provisional:
                want: dt.date | None = provisional_due(day, n)
                known = self.exact_due(day, n)
                if known is not None:
                    exact[member] = known
                how = f"the {n}th Monday-to-Friday after {day.isoformat()} (provisional, RP-8.4a)"
            else:
                want = self.due(day, n)
                how = f"the {n}th working day after {day.isoformat()}"
            if want is not None and want != given:
                self._bad(
                    "casework.deadline",
                    "办理期限计算有误" + ("（暂定期限）" if member in provisional else ""),
                    f"{member} is not {how}",
                    path=f"body.{member}",
                    expected=want.isoformat(),
                    found=given.isoformat(),
                    rule="RP-8.4a" if member in provisional else "RP-8.4",
                )
            out.append(given)
        return out[0], out[1], provisional, exact

    # -- receiving -----------------------------------------------------------------------------
    def _reference(self, ref: object, kind: str, day: dt.date) -> str | None:
        m = _REFERENCE.fullmatch(ref) if isinstance(ref, str) else None
        if m is None or _KIND[m[1]] != kind:
            self._bad("casework.numbering", "编号格式不正确", f"malformed {kind} reference")
            return None
        year, n = int(m[2]), int(m[3])
        want = self.counters.get((kind, day.year), 0) + 1
        if year != day.year or n != want:
            self._bad(
                "casework.numbering",
                "编号不连续",
                "the references are not numbered without gaps",
                expected=f"{m[1]}-{day.year:04d}-{want:05d}",
                found=str(ref),
                rule="RP-8.3",
            )
        self.counters[(kind, year)] = max(n, self.counters.get((kind, year), 0))
        if str(ref) in self.cases:
            self._bad("casework.numbering", "编号重复", f"reference {ref} given twice")
            return None
        return str(ref)

    def _branch(self, code: object) -> None:
        if not isinstance(code, str) or code not in self.d.branches:
            self._bad(
                "casework.branch_unknown",
                f"本镇没有这个支部：{code}",
                f"the town has no branch {code!r}",
                rule="RP-8.1",
            )

    def _related(self, ref: object) -> None:
        if ref != "" and (not isinstance(ref, str) or ref not in self.cases):
            self._bad("case.unknown", "关联事项不存在", f"relates_to {ref!r} is no earlier case")

    def _content(self, what: object, kind: str) -> None:
        if not _text(what, 1, self.d.text_max_chars):
            empty = not isinstance(what, str) or not what.strip()
            code = f"{kind}.empty" if empty else f"{kind}.too_long"
            self._bad(code, "内容为空或过长", f"the {kind}'s text is empty or too long")

    def _objection_received(self, body: Mapping[str, Any], day: dt.date, actor: str) -> None:
        del actor
        ref = self._reference(body["reference"], "objection", day)
        self._branch(body["branch"])
        if body["channel"] not in ("in_person", "form"):
            self._bad("casework.malformed", "渠道无效", "channel is not in_person or form")
        about = body["about"]
        if not isinstance(about, str) or (about and _ID.fullmatch(about) is None):
            self._bad("casework.malformed", "所指人员编号无效", "about is not a member id or ''")
        self._content(body["what"], "objection")
        who = body["objector"]
        if (
            not isinstance(who, dict)
            or set(who) != {"name", "contact"}
            or not all(x == "" or _text(x, 1, _NAME_MAX) for x in who.values())
        ):
            self._bad("objection.objector", "异议人姓名或联系方式无效", "objector is malformed")
        self._related(body["relates_to"])
        if body["timing"] not in ("during", "after"):
            self._bad("casework.malformed", "提出时间类别无效", "timing is not during or after")
        due_a, due_c, provisional, exact = self._deadlines(body, day, "objection")
        if ref is not None:
            self.cases[ref] = Case(
                ref,
                "objection",
                str(body["branch"]),
                str(about),
                str(body["channel"]),
                str(body["timing"]),
                day,
                due_a,
                due_c,
                received_size=self.size,
                provisional=provisional,
                exact=exact,
            )

    def _report_received(self, body: Mapping[str, Any], day: dt.date, actor: str) -> None:
        del actor
        ref = self._reference(body["reference"], "report", day)
        who = self.reporters.get(body["reporter"]) if isinstance(body["reporter"], str) else None
        if who is None or not who[2]:
            self._bad(
                "reporter.unknown", "直报员身份无效", "not a registered reporter", rule="RP-9.2"
            )
        self._branch(body["branch"])
        if who is not None and body["own_branch"] != ("yes" if body["branch"] == who[0] else "no"):
            self._bad(
                "casework.own_branch",
                "“是否本支部”与直报员所在支部不符",
                "own_branch does not say whether the branch is the reporter's",
                expected="yes" if body["branch"] == who[0] else "no",
                found=str(body["own_branch"]),
                rule="RP-9.5",
            )
        self._content(body["what"], "report")
        if not (body["where"] == "" or _text(body["where"], 1, _WHERE_MAX)):
            self._bad("report.where_too_long", "地点过长或格式错误", "where is malformed")
        self._when(body["when"], day)
        self._photos(body["photos"])
        self._related(body["relates_to"])
        due_a, due_c, provisional, exact = self._deadlines(body, day, "report")
        if ref is not None:
            self.cases[ref] = Case(
                ref,
                "report",
                str(body["branch"]),
                "",
                "reporter",
                "",
                day,
                due_a,
                due_c,
                received_size=self.size,
                provisional=provisional,
                exact=exact,
            )

    def _when(self, when: object, day: dt.date) -> None:
        if when == "":
            return
        m = _WHEN.fullmatch(when) if isinstance(when, str) else None
        given = _day(m[1]) if m else None
        if m and m[2]:
            try:
                dt.datetime.fromisoformat(str(when))
            except ValueError:
                given = None
        if given is None:
            self._bad(
                "report.when_format", "发生时间格式不正确", "when is malformed", rule="RP-9.3"
            )
        elif given > day:
            self._bad(
                "report.when_future", "发生时间晚于提交日期", "when is after the day received"
            )

    def _photos(self, photos: object) -> None:
        if not isinstance(photos, list):
            self._bad("casework.malformed", "照片列表无效", "photos is not a list")
            return
        if len(photos) > self.d.max_count:
            self._bad(
                "report.too_many_photos", "照片数量超过上限", "too many photos", rule="RP-9.4"
            )
        for i, p in enumerate(photos):
            if (
                not isinstance(p, dict)
                or set(p) != {"sha256", "bytes", "type"}
                or not isinstance(p["sha256"], str)
                or _HEX64.fullmatch(p["sha256"]) is None
                or type(p["bytes"]) is not int
                or p["type"] not in ("jpeg", "png")
            ):
                self._bad(
                    "casework.malformed",
                    "照片记录格式错误",
                    "malformed photo item",
                    path=f"body.photos[{i}]",
                )
                continue
            if not 1 <= p["bytes"] <= self.d.max_bytes:
                self._bad(
                    "report.photo_too_large",
                    "照片过大",
                    f"photo {i + 1} is too large",
                    path=f"body.photos[{i}]",
                    rule="RP-9.4",
                )
            seen = self.photos.setdefault(p["sha256"], (p["bytes"], p["type"]))
            if seen != (p["bytes"], p["type"]):
                self._bad(
                    "casework.photo",
                    "同一照片的大小或类型前后不一",
                    "one photo, two sizes or types",
                    path=f"body.photos[{i}]",
                    rule="RP-9.4",
                )

    # -- reporters -----------------------------------------------------------------------------
    def _reporter_registered(self, body: Mapping[str, Any], day: dt.date, actor: str) -> None:
        del day, actor
        rid = body["reporter"]
        if not isinstance(rid, str) or _ID.fullmatch(rid) is None:
            self._bad("reporter.id_format", "直报员编号格式不正确", "malformed reporter id")
            return
        if rid in self.reporters:
            self._bad("reporter.duplicate", "直报员编号已登记", f"reporter {rid} registered twice")
        self._branch(body["branch"])
        groups = self.d.branches.get(str(body["branch"]), ())
        if body["group"] not in groups:
            self._bad(
                "reporter.group_unknown", "村（居）民小组不属于该支部", "group not the branch's"
            )
        if not _text(body["name"], 1, _NAME_MAX):
            self._bad("reporter.name", "直报员姓名须为 1 至 64 个字符", "reporter name malformed")
        if not (
            body["phone"] == ""
            or (isinstance(body["phone"], str) and _PHONE.fullmatch(body["phone"]))
        ):
            self._bad("reporter.phone", "手机号码须为 11 位数字，或不填", "phone malformed")
        self.reporters[rid] = (str(body["branch"]), str(body["group"]), True)

    def _reporter_withdrawn(self, body: Mapping[str, Any], day: dt.date, actor: str) -> None:
        del day, actor
        who = self.reporters.get(body["reporter"]) if isinstance(body["reporter"], str) else None
        if who is None or not who[2]:
            self._bad("reporter.unknown", "直报员身份无效", "not a registered reporter")
            return
        if not _text(body["reason"], 1, _REASON_MAX):
            self._bad("case.reason", "须填写理由", "a reason of 1 to 200 characters is needed")
        self.reporters[body["reporter"]] = (who[0], who[1], False)

    def _casework_opened(self, body: Mapping[str, Any], day: dt.date, actor: str) -> None:
        del day, actor
        if body["casework_id"] != self.d.casework_id:
            self._bad(
                "casework.malformed",
                "第一条记录的登记簿标识不符",
                "entry 0 names another casework id",
                expected=self.d.casework_id,
            )

    # -- handling ------------------------------------------------------------------------------
    def _case(self, body: Mapping[str, Any], kind: str) -> Case | None:
        ref = body["reference"]
        case = self.cases.get(ref) if isinstance(ref, str) else None
        if case is None:
            self._bad("case.unknown", "没有这个编号的事项", f"no case has reference {ref!r}")
            return None
        if case.kind != kind:
            self._out_of_order(case, f"a {kind} step on {case.kind} {case.reference}")
            return None
        return case

    def _out_of_order(self, case: Case, what: str) -> None:
        self._bad(
            "casework.state_order",
            f"办理步骤顺序不正确：{case.reference} 处于 {case.state}",
            f"a case's entries are out of order: {what} while {case.state}",
            rule="RP-8.4" if case.kind == "objection" else "RP-9.6",
        )

    def _assigned(self, body: Mapping[str, Any], day: dt.date, kind: str) -> None:
        case = self._case(body, kind)
        if case is None:
            return
        if case.state not in ("received", "assigned"):
            self._out_of_order(case, f"{kind}.assigned")
            return
        if not _text(body["assignee"], 1, _NAME_MAX):
            self._bad("case.account", "账户名须为 1 至 64 个字符", "assignee is malformed")
        case.state, case.assignee = "assigned", str(body["assignee"])
        case.assigned = case.assigned or day

    def _objection_assigned(self, body: Mapping[str, Any], day: dt.date, actor: str) -> None:
        del actor
        self._assigned(body, day, "objection")

    def _report_assigned(self, body: Mapping[str, Any], day: dt.date, actor: str) -> None:
        del actor
        self._assigned(body, day, "report")

    def _report_checked(self, body: Mapping[str, Any], day: dt.date, actor: str) -> None:
        del day
        case = self._case(body, "report")
        if case is None:
            return
        if case.state != "assigned":
            self._out_of_order(case, "report.checked")
            return
        self._assignee(case, actor)
        if not _text(body["note"], 1, self.d.text_max_chars):
            self._bad("report.no_note", "核实须填写核实情况", "a check needs its note")
        case.state = "checked"

    def _assignee(self, case: Case, actor: str) -> None:
        if actor != case.assignee:
            self._bad(
                "case.not_assignee",
                "只能办理交办给本人的事项",
                "only the assignee may check or conclude a case",
                expected=case.assignee,
                found=actor,
                rule="RP-9.8",
            )

    def _extended(self, body: Mapping[str, Any], kind: str) -> None:
        case = self._case(body, kind)
        if case is None:
            return
        if case.state == "concluded":
            self._out_of_order(case, f"{kind}.extended")
            return
        new = _day(body["due_conclude"])
        # (RP-8.4a) A provisional date is replaced while provisional, or after the town signed
        # its year (the log does not say when): later than either date will do.
        floor = case.due_conclude
        if "due_conclude" in case.provisional:
            floor = min(floor, case.exact.get("due_conclude", floor))
        if new is None or new <= floor:
            self._bad(
                "casework.deadline",
                "延期后的办结期限须晚于原期限",
                "an extension must set a later due date than the one it replaces",
                expected=f"after {floor.isoformat()}",
                found=str(body["due_conclude"]),
                rule="RP-8.4a" if "due_conclude" in case.provisional else "RP-8.4",
            )
        else:
            case.due_conclude = new
            case.provisional.discard("due_conclude")  # an extension is never provisional
        if not _text(body["reason"], 1, _REASON_MAX):
            self._bad("case.reason", "须填写理由", "a reason of 1 to 200 characters is needed")

    def _objection_extended(self, body: Mapping[str, Any], day: dt.date, actor: str) -> None:
        del day, actor
        self._extended(body, "objection")

    def _report_extended(self, body: Mapping[str, Any], day: dt.date, actor: str) -> None:
        del day, actor
        self._extended(body, "report")

    def _concluded(self, body: Mapping[str, Any], day: dt.date, actor: str, kind: str) -> None:
        case = self._case(body, kind)
        if case is None:
            return
        ready = "assigned" if kind == "objection" else "checked"
        if case.state != ready:
            self._out_of_order(case, f"{kind}.concluded")
            return
        self._assignee(case, actor)
        finding = body["finding"]
        if finding not in _FINDINGS:
            self._bad("casework.malformed", "认定无效", f"unknown finding {finding!r}")
        effect = body.get("effect", "none")
        if effect not in _allowed_effects(str(finding), case.about, kind):
            self._bad(
                "case.effect_invalid",
                "处理结果与认定不相符",
                "the effect does not fit the finding",
                found=f"{finding}/{effect}",
                rule="RP-8.5",
            )
        summary = body["summary"]
        if not _text(summary, 1, self.d.text_max_chars):
            self._bad(
                "objection.no_conclusion", "办结须填写办理结论", "a conclusion needs its summary"
            )
        elif finding == "duplicate" and not any(
            r != case.reference and r in self.cases for r in _REF_IN_TEXT.findall(summary)
        ):
            self._bad(
                "case.duplicate_of",
                "认定为重复反映的，须写明所重复的事项编号",
                "a duplicate's summary must name the reference it repeats",
            )
        case.state, case.finding, case.effect = "concluded", str(finding), str(effect)
        case.concluded, case.concluded_size = day, self.size

    def _objection_concluded(self, body: Mapping[str, Any], day: dt.date, actor: str) -> None:
        self._concluded(body, day, actor, "objection")

    def _report_concluded(self, body: Mapping[str, Any], day: dt.date, actor: str) -> None:
        self._concluded(body, day, actor, "report")

    def _reminder_sent(self, body: Mapping[str, Any], day: dt.date, actor: str) -> None:
        del actor
        ref = body["reference"]
        case = self.cases.get(ref) if isinstance(ref, str) else None
        if case is None:
            self._bad("case.unknown", "没有这个编号的事项", f"no case has reference {ref!r}")
            return
        if body["kind"] not in ("assign_due", "conclude_due", "overdue"):
            self._bad("casework.malformed", "提醒类别无效", "unknown reminder kind")
        if not _text(body["to"], 1, _NAME_MAX):
            self._bad("casework.malformed", "提醒对象无效", "reminder 'to' is malformed")
        case.reminders.add(day)


def provisional_due(day: dt.date, n: int) -> dt.date:
    """(RP-8.4a) The ``n``-th Monday-to-Friday after ``day``: only Saturdays and Sundays are not
    counted (no holiday and no adjusted working day of an unknown year is guessed)."""
    d, count = day, 0
    while count < n:
        d += dt.timedelta(days=1)
        count += d.weekday() < 5
    return d


def _allowed_effects(finding: str, about: str, kind: str) -> tuple[str, ...]:
    """(RP-8.5) The effects a conclusion may have; a report's is always ``none``."""
    out = ["none"]
    if kind == "objection" and about and finding in ("substantiated", "partly_substantiated"):
        out.append("not_appointed")
    if kind == "objection" and not about and finding == "substantiated":
        out.append("election_void")
    return tuple(out)
