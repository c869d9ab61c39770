"""``verifier casework``: V31 on a town's casework bundle (spec/procedure.md RP-12.3, §13 V31).

The bundle (``casework-bundle/1``, RP-12.3) is opened by the bounded readers of
``verifier.bundle`` and checked from spec/procedure.md alone, every failure reported (clause V31,
the finer RP clause as ``rule``), the findings capped as ``verifier.checks.findings`` caps them:

* the layout: exactly the files of RP-12.3 (``casework.json``, ``log.jsonl``,
  ``checkpoints.json``, ``photos/<sha256>.<jpg|png>``, ``calendar.json`` when used), each as the
  index says. Privacy (RP-12.2, RP-12.3): no other file may ride along (no check or access codes,
  no submission tokens), and every photo in ``photos/`` is one the log names;
* ``signed-casework/1`` (RP-8.1) signed by the trust root's town key (``casework.other_town``
  for another key, ``casework.not_signed`` for a bad signature), its ``casework/1`` exactly as
  RP-8.1, the casework key of role ``casework`` (RP-1.2), and the casework id;
* the log and its checkpoints as V22 (origin ``branch-casework/<id>``, domain
  ``branch-election/casework-checkpoint/1``, the casework key), replayed by
  ``verifier.casework_log`` (states, numbering, deadlines with the verifier's own calendar);
* the photos by hash and size (``casework.photo``);
* warnings, never failures: overdue cases (``casework.overdue``), missing reminders
  (``casework.reminder_missing``), village groups without a reporter
  (``casework.group_without_reporter``).

What needs the branch's procedure bundle (an objection's ``timing`` and ``about`` against the
branch's ``election.concluded``, the appointment's ``casework`` and ``objections``) is reported as
not checked by ``verify_casework``: ``verifier.casework_appointment.appointment_findings`` is the
part of V31 that a procedure bundle driver calls with the appointment it read.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from verifier import statutory
from verifier.bundle import Bundle, open_bundle, read_file
from verifier.canonical import (
    DOCUMENT_LIMIT,
    LOG_LINE_LIMIT,
    parse_canonical,
    parse_canonical_checked,
)
from verifier.casework_checkpoints import check_checkpoints
from verifier.casework_log import (
    DUE_MEMBERS,
    Case,
    CaseworkDefinition,
    Replay,
    Stop,
    local_date,
)
from verifier.checks.common import TownKey
from verifier.checks.findings import ListFindings
from verifier.checks.indexed_bundle import IndexedBundle, check_indexed_layout
from verifier.checks.publicity import signed_calendar_years
from verifier.crypto import PublicKey, b64decode_canonical, parse_pubkey_value
from verifier.errors import VerificationError
from verifier.merkle import hash_leaf
from verifier.report import Finding
from verifier.town_signed import Refusals, read_town_signed

__all__ = [
    "CASEWORK_DOMAIN",
    "CaseLine",
    "CaseworkReport",
    "verify_casework",
]

CASEWORK_DOMAIN: Final = b"branch-election/casework/1"
_FIXED: Final = ("casework.json", "log.jsonl", "checkpoints.json")
_PHOTO_PATH: Final = re.compile(r"photos/([0-9a-f]{64})\.(jpg|png)")
_SUFFIX: Final = {"jpeg": "jpg", "png": "png"}
_ID: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,31}", re.ASCII)
_TOP: Final = frozenset(
    {"format", "town", "branches", "deadlines", "photos", "text_max_chars", "keys"}
)
_DEADLINES: Final = (
    "objection_assign_days",
    "objection_conclude_days",
    "report_assign_days",
    "report_conclude_days",
)
_PHOTO_RANGES: Final = {
    "max_count": (0, 9),
    "max_bytes": (1024 * 1024, 10 * 1024 * 1024),
    "max_pixels": (1, 100_000_000),
}


@dataclass(frozen=True, slots=True)
class CaseLine:
    """One case as the log says at its end (for the report; no text, no identity)."""

    reference: str
    kind: str
    branch: str
    state: str
    finding: str
    effect: str
    received: str
    due_assign: str
    due_conclude: str
    concluded: str
    channel: str = ""
    timing: str = ""
    about: str = ""
    received_size: int = 0
    """The log size once the case was received (its entry's ``seq`` + 1)."""
    concluded_size: int = 0
    """The log size once it was concluded; 0 while open."""
    due_provisional: tuple[str, ...] = ()
    """(RP-8.4a) The due dates still provisional at the log's end (shown 暂定)."""


@dataclass(frozen=True, slots=True)
class CaseworkReport:
    """The outcome of V31 on a casework bundle; ``ok`` only when nothing failed."""

    bundle: str
    findings: tuple[Finding, ...]
    omitted: int
    warnings: tuple[Finding, ...]
    not_checked: tuple[tuple[str, str], ...]
    casework_id: str = ""
    town: str = ""
    entries: int = 0
    reporters: int = 0
    cases: tuple[CaseLine, ...] = ()
    checkpoints: tuple[tuple[int, str], ...] = ()
    """(size, root hex) of each checkpoint whose signature and root hold."""

    @property
    def ok(self) -> bool:
        return not self.findings


class _Run:
    """One verification: the bundle, the findings and what was learnt so far."""

    def __init__(self, bundle: Bundle, town: TownKey) -> None:
        self.b = bundle
        self.town = town
        self.f = ListFindings("V31")
        self.not_checked: list[tuple[str, str]] = []
        self.digests: dict[str, tuple[str | None, int]] = {}
        self.checkpoints: list[tuple[int, str]] = []

    def skip(self, zh: str, en: str) -> None:
        self.not_checked.append((zh, en))

    def doc(self, name: str) -> Any:
        """A canonical JSON member, or None (reported)."""
        if name not in self.b.names():
            return None
        try:
            return parse_canonical(read_file(self.b, name, DOCUMENT_LIMIT), clause="V31", path=name)
        except VerificationError as e:
            self.f.error(e, file=name)
            return None


def verify_casework(path: Path, town: TownKey) -> CaseworkReport:
    """(V31) Verify a casework bundle (folder or zip) against the town key.

    Raises:
        BundleOpenError: the bundle cannot be read at all (missing, not a folder or zip, no
            index): exit 2.

    Returns:
        The report, every failure listed.
    """
    bundle, problems = open_bundle(path)
    run = _Run(bundle, town)
    for p in problems:
        run.f.fail("c" + p.code, p.zh, p.en, path=p.path, rule="RP-12.3")
    if any(p.fatal for p in problems):
        run.skip("结果包无法安全读取，其余未检查", "the bundle cannot be read safely: nothing else")
        return _report(run, str(path))
    index_id = _check_layout(run)
    definition = _definition(run)
    if definition is None:
        run.skip("登记簿定义无效，日志和检查点未检查", "the definition failed: log not checked")
        return _report(run, str(path))
    d, casework_key = definition
    if index_id is not None and index_id != d.casework_id:
        run.f.fail(
            "cbundle.casework_id",
            "索引中的登记簿标识不符",
            "the index names another casework id",
            file="index.json",
            expected=d.casework_id,
            found=index_id,
        )
    calendar = _calendar(run)
    replay, leaves, stopped = _log(run, d, calendar)
    run.checkpoints = check_checkpoints(run.f, run.doc("checkpoints.json"), d, casework_key, leaves)
    if stopped:
        run.skip(
            "日志无法完整重放，照片和期限提醒未检查",
            "the log could not be replayed: photos and reminders not checked",
        )
    else:
        _check_photos(run, replay)
        _warnings(run, replay, d)
    run.skip(
        "异议的提出时间类别、所指人员和审批任命所列异议须与支部推荐程序包一起核验",
        "each objection's timing and person and the appointment's objections are checked with "
        "the branch's procedure bundle",
    )
    return _report(run, str(path), d, replay)


def _report(
    run: _Run, name: str, d: CaseworkDefinition | None = None, replay: Replay | None = None
) -> CaseworkReport:
    cases = () if replay is None else tuple(_line(c) for c in replay.cases.values())
    return CaseworkReport(
        bundle=name,
        findings=tuple(run.f.items),
        omitted=run.f.omitted,
        warnings=tuple(run.f.warnings),
        not_checked=tuple(run.not_checked),
        casework_id=d.casework_id if d else "",
        town=d.town if d else "",
        entries=replay.size if replay else 0,
        reporters=len(replay.reporters) if replay else 0,
        cases=cases,
        checkpoints=tuple(run.checkpoints),
    )


def _line(c: Case) -> CaseLine:
    return CaseLine(
        reference=c.reference,
        kind=c.kind,
        branch=c.branch,
        state=c.state,
        finding=c.finding,
        effect=c.effect,
        received=c.received.isoformat(),
        due_assign=c.due_assign.isoformat(),
        due_conclude=c.due_conclude.isoformat(),
        concluded=c.concluded.isoformat() if c.concluded else "",
        channel=c.channel,
        timing=c.timing,
        about=c.about,
        received_size=c.received_size,
        concluded_size=c.concluded_size,
        due_provisional=tuple(m for m in DUE_MEMBERS if m in c.provisional),
    )


# --------------------------------------------------------------------------- layout and index


_LAYOUT: Final = IndexedBundle(
    prefix="cbundle",
    extra_zh="事项登记簿包中有不应有的文件",
    extra_en="a file that a casework bundle may not hold (RP-12.3)",
    fixed=_FIXED,
    allowed=lambda name: name == "calendar.json" or _PHOTO_PATH.fullmatch(name) is not None,
    index_format="casework-bundle-index/1",
    id_member="casework_id",
    file_where={"rule": "RP-12.3"},
    index_where={},
    item_where={},
)


def _check_layout(run: _Run) -> str | None:
    """(V31, RP-12.3) Exactly the bundle's files, each as the index says; the index's id."""
    return check_indexed_layout(_LAYOUT, run.f, run.b, run.digests, lambda: run.doc("index.json"))


# --------------------------------------------------------------------------- definition (RP-8.1)


_REFUSALS: Final = Refusals(
    shape="casework.not_signed",
    key_role=None,
    other_town=(
        "casework.other_town",
        "事项登记簿不是由给定的镇党委密钥签署",
        "the casework is another town's: its town key is not the trust root",
    ),
    signature=(
        "casework.not_signed",
        "事项登记簿定义没有有效的镇党委签名",
        "the casework definition lacks a valid town signature",
    ),
)


def _definition(run: _Run) -> tuple[CaseworkDefinition, PublicKey] | None:
    """(V31, RP-8.1) ``signed-casework/1`` by the trust root; None when it cannot be used."""
    signed = read_town_signed(
        run.f,
        run.doc("casework.json"),
        present="casework.json" in run.b.names(),
        trust=run.town,
        member="casework",
        fmt="signed-casework/1",
        domain=CASEWORK_DOMAIN,
        refusals=_REFUSALS,
        where={"file": "casework.json", "rule": "RP-8.1"},
    )
    return None if signed is None else _parse_casework(run, signed.value, signed.id)


def _parse_casework(
    run: _Run, doc: object, cid: str
) -> tuple[CaseworkDefinition, PublicKey] | None:
    """(RP-8.1) ``casework/1`` with every member, in range; every problem reported."""
    problems: list[tuple[str, str, str]] = []

    def bad(path: str, en: str, code: str = "casework.definition") -> None:
        problems.append((code, path, en))

    if not isinstance(doc, dict) or set(doc) != _TOP or doc["format"] != "casework/1":
        run.f.fail(
            "casework.definition",
            "事项登记簿定义的字段不符",
            "casework/1 has the wrong members or format",
            file="casework.json",
            rule="RP-8.1",
        )
        return None
    if not _name(doc["town"]):
        bad("town", "town is not 1..64 NFC characters")
    branches = _branches(doc["branches"], bad)
    deadlines = _numbers(doc["deadlines"], "deadlines", dict.fromkeys(_DEADLINES, (1, 60)), bad)
    photos = _numbers(doc["photos"], "photos", _PHOTO_RANGES, bad)
    text_max = doc["text_max_chars"]
    if type(text_max) is not int or not 200 <= text_max <= 10_000:
        bad("text_max_chars", "text_max_chars is not 200..10000", "casework.parameter")
        text_max = 200
    key: PublicKey | None = None
    ks = doc["keys"]
    if not isinstance(ks, dict) or set(ks) != {"casework"}:
        bad("keys", "keys is not {casework}")
    else:
        try:
            key = parse_pubkey_value(ks["casework"], path="keys.casework", role="casework")
        except VerificationError as e:
            bad("keys.casework", e.en, "casework.wrong_key")
    for code, path, en in problems:
        run.f.fail(
            code,
            f"事项登记簿定义有问题：{path}",
            en,
            file="casework.json",
            path=path,
            rule="RP-8.1",
        )
    if problems or key is None:
        return None
    definition = CaseworkDefinition(
        casework_id=cid,
        town=str(doc["town"]),
        branches=branches,
        deadlines=deadlines,
        max_count=photos["max_count"],
        max_bytes=photos["max_bytes"],
        text_max_chars=text_max,
    )
    return definition, key


def _name(v: object) -> bool:
    return (
        isinstance(v, str)
        and 1 <= len(v) <= 64
        and v == v.strip()
        and unicodedata.normalize("NFC", v) == v
    )


def _branches(value: object, bad: Any) -> dict[str, tuple[str, ...]]:
    out: dict[str, tuple[str, ...]] = {}
    if not isinstance(value, list) or not value:
        bad("branches", "branches is not a non-empty list")
        return out
    for i, b in enumerate(value):
        path = f"branches[{i}]"
        if not isinstance(b, dict) or set(b) != {"branch_code", "name", "groups"}:
            bad(path, "a branch is {branch_code, name, groups}")
            continue
        code = b["branch_code"]
        if not isinstance(code, str) or _ID.fullmatch(code) is None or code in out:
            bad(f"{path}.branch_code", "branch_code is malformed or repeated")
            continue
        if not _name(b["name"]):
            bad(f"{path}.name", "name is not 1..64 NFC characters")
        groups: list[str] = []
        for j, g in enumerate(b["groups"] if isinstance(b["groups"], list) else [None]):
            gp = f"{path}.groups[{j}]"
            if (
                not isinstance(g, dict)
                or set(g) != {"group", "name"}
                or not isinstance(g["group"], str)
                or _ID.fullmatch(g["group"]) is None
                or g["group"] in groups
                or not _name(g["name"])
            ):
                bad(gp, "a village group is {group, name}, its code unique in the branch")
                continue
            groups.append(g["group"])
        out[code] = tuple(groups)
    return out


def _numbers(
    value: object, path: str, ranges: Mapping[str, tuple[int, int]], bad: Any
) -> dict[str, int]:
    out = {k: lo for k, (lo, _) in ranges.items()}
    if not isinstance(value, dict) or set(value) != set(ranges):
        bad(path, f"{path} has the wrong members")
        return out
    for k, (lo, hi) in ranges.items():
        v = value[k]
        if type(v) is not int or not lo <= v <= hi:
            bad(f"{path}.{k}", f"{path}.{k} is not an integer {lo}..{hi}", "casework.parameter")
            continue
        out[k] = v
    return out


# --------------------------------------------------------------------------- calendar and log


def _calendar(run: _Run) -> dict[int, statutory.Year]:
    """(V31, R26.3) The town's signed year file ``calendar.json``, when the bundle has one: signed
    by the casework's town key (``casework.calendar_key``, ``casework.calendar_signature``,
    ``casework.calendar_file``), each year the library also knows equal to it
    (``casework.calendar_conflict``). The verifier counts with chinese_calendar's years and this
    file's for the others (``statutory.own_year``)."""
    if "calendar.json" not in run.b.names():
        return {}
    doc = run.doc("calendar.json")
    key = run.town.key.key if run.town.key is not None else b""
    casework = run.doc("casework.json")
    if not key and isinstance(casework, dict) and isinstance(casework.get("town_key"), dict):
        key = b64decode_canonical(casework["town_key"].get("key"), 32) or b""
    try:
        years = signed_calendar_years(doc, key)
    except ValueError as e:
        run.f.fail(
            str(e).replace("publicity.", "casework.", 1),
            "镇党委签署的节假日文件无效、未经本镇党委密钥签署或签名不符",
            "the signed year file is malformed, not signed by the casework's town key, or its "
            "signature does not verify (R26.3)",
            file="calendar.json",
            rule="R26.3",
        )
        return {}
    out = {y: (frozenset(h), frozenset(w)) for y, (h, w) in years.items()}
    for y in sorted(out):
        known = statutory.builtin_year(y)
        diff = statutory.first_difference(known, out[y]) if known is not None else None
        if diff is not None:
            run.f.fail(
                "casework.calendar_conflict",
                f"镇党委签署的节假日文件中 {y} 年的安排与 chinese_calendar 不一致",
                f"the town's signed year file differs from chinese_calendar for {y} (R26.3)",
                file="calendar.json",
                found=diff,
                rule="R26.3",
            )
    return out


def _log(
    run: _Run, d: CaseworkDefinition, calendar: Mapping[int, statutory.Year]
) -> tuple[Replay, list[bytes], bool]:
    """(V31, RP-11.3) Every line hashed; the entries replayed until one cannot be."""
    replay = Replay(d, run.f.fail, calendar)
    leaves: list[bytes] = []
    stopped = "log.jsonl" not in run.b.names()
    if stopped:
        return replay, leaves, True
    prev = d.casework_id
    try:
        with run.b.open("log.jsonl") as fh:
            while line := fh.readline(LOG_LINE_LIMIT + 2):
                seq = len(leaves)
                if not line.endswith(b"\n") or len(line) > LOG_LINE_LIMIT + 1:
                    run.f.fail(
                        "entry.line",
                        "日志行过长或未以换行结束",
                        "a log line is too long or does not end in a line feed",
                        file="log.jsonl",
                        seq=seq,
                    )
                    return replay, leaves, True
                raw = line[:-1]
                leaf = hash_leaf(raw)
                leaves.append(leaf)
                if not stopped:
                    stopped = _entry(run, replay, raw, prev, seq)
                prev = hashlib.sha256(b"\x00" + raw).hexdigest()
    except VerificationError as e:
        run.f.error(e, file="log.jsonl")
        return replay, leaves, True
    entries = run.digests.get("#entries", (None, len(leaves)))[1]
    if entries != len(leaves):
        run.f.fail(
            "cbundle.entries",
            "索引的记录数与日志不符",
            "the index's entry count differs from the log",
            file="index.json",
            expected=str(len(leaves)),
            found=str(entries),
        )
    return replay, leaves, stopped


def _entry(run: _Run, replay: Replay, raw: bytes, prev: str, seq: int) -> bool:
    """Replay one line; True when the replay must stop."""
    try:
        doc, _ = parse_canonical_checked(raw, clause="V31", path="log.jsonl", limit=LOG_LINE_LIMIT)
    except VerificationError as e:
        run.f.error(e, file="log.jsonl", seq=seq)
        return True
    try:
        replay.entry(doc, prev)
    except Stop:
        return True
    return False


# --------------------------------------------------------------------------- photos and warnings


def _check_photos(run: _Run, replay: Replay) -> None:
    """(V31, RP-9.4, RP-12.3) Every photo named is in photos/ with its hash and size; no other."""
    named: set[str] = set()
    for sha, (size, kind) in sorted(replay.photos.items()):
        name = f"photos/{sha}.{_SUFFIX[kind]}"
        named.add(name)
        digest, actual = run.digests.get(name, (None, -1))
        if digest is None:
            run.f.fail(
                "casework.photo",
                "日志所列照片缺失",
                "a photo the log names is missing",
                file=name,
                rule="RP-12.3",
            )
        elif digest != sha or actual != size:
            run.f.fail(
                "casework.photo",
                "照片文件与记录不一致",
                "a photo file does not match the log",
                file=name,
                expected=f"{sha} ({size} bytes)",
                found=f"{digest} ({actual} bytes)",
                rule="RP-9.4",
            )
    for name in sorted(run.digests):
        if name.startswith("photos/") and name not in named:
            run.f.fail(
                "casework.photo",
                "照片不是日志所列的照片",
                "a photo the log does not name",
                file=name,
                rule="RP-12.3",
            )


def _warnings(run: _Run, replay: Replay, d: CaseworkDefinition) -> None:
    """(V31, RP-9.1, RP-9.7) Overdue cases, missing reminders, groups without a reporter."""
    if replay.last_at is None:
        return
    end = local_date(replay.last_at)
    calendar = replay.calendar
    for case in replay.cases.values():
        _overdue(run, case, end)
        for day in _reminder_days(case, end, calendar):
            run.f.warn(
                "casework.reminder_missing",
                f"{case.reference} 在 {day} 缺少提醒记录",
                f"no reminder was logged for {case.reference} on {day}",
                rule="RP-9.7",
            )
    active = {(b, g) for b, g, on in replay.reporters.values() if on}
    for branch, groups in d.branches.items():
        for group in groups:
            if (branch, group) not in active:
                run.f.warn(
                    "casework.group_without_reporter",
                    f"{branch} {group} 尚无民情直报员",
                    f"village group {group} of {branch} has no reporter",
                    rule="RP-9.1",
                )


def _overdue(run: _Run, case: Case, end: dt.date) -> None:
    """(V31, RP-9.7) Overdue on the exact due date where the verifier's calendar knows its year,
    else on the provisional one (RP-8.4a)."""
    due_assign, due_conclude = case.judged("due_assign"), case.judged("due_conclude")
    late_assign = (case.assigned or end) > due_assign and (
        case.assigned is not None or end > due_assign
    )
    late_conclude = (case.concluded or end) > due_conclude
    if late_assign or late_conclude:
        due = due_conclude if late_conclude else due_assign
        run.f.warn(
            "casework.overdue",
            f"{case.reference} 逾期（期限 {due}）",
            f"{case.reference} is overdue (due {due})",
            rule="RP-9.7",
        )


def _reminder_days(case: Case, end: dt.date, calendar: Mapping[int, statutory.Year]) -> list[str]:
    """(RP-9.7) Working days from a due date to the log's last day on which the case was still
    open for that step at 09:00 and no reminder was logged: one per case and day."""
    out: list[str] = []
    day, due_conclude = case.judged("due_assign"), case.judged("due_conclude")
    while day <= end and len(out) < 10:
        year = statutory.own_year(day.year, calendar)
        step_open = (case.assigned is None or case.assigned > day) or (
            day >= due_conclude and (case.concluded is None or case.concluded > day)
        )
        if (
            year is not None
            and _working(day, year)
            and step_open
            and day not in case.reminders
            and day < end
        ):
            out.append(day.isoformat())
        day += dt.timedelta(days=1)
    return out


def _working(day: dt.date, year: statutory.Year) -> bool:
    return day in year[1] or (day.weekday() < 5 and day not in year[0])
