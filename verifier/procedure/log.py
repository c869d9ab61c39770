"""(V22) The procedure log read line by line (spec/procedure.md RP-11.1; spec/log.md §1 as V6).

Each line of ``log.jsonl`` is hashed as a leaf, parsed as canonical JSON and checked for the
members of ``procedure-entry/1``, its ``seq``, the chain (``prev`` of entry 0 is the procedure id),
the salt, ``at`` (ISO 8601 with an offset, never decreasing), a known ``type`` with a body of
exactly that type's members at every level (``verifier.procedure.bodies``), and the order of
RP-11.1 that the whole-log checks rely on (``procedure.opened`` first and only first,
``appointment.recorded`` last, the town's acts after the vetting, a recommendation never after
the proposal). Everything is reported through ``fail``;
the replay stops at a line that is not an entry at all.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Final

from verifier.bundle import Bundle
from verifier.canonical import LOG_LINE_LIMIT, parse_canonical_checked
from verifier.errors import VerificationError
from verifier.merkle import hash_leaf
from verifier.procedure.bodies import BODIES, body_problem

__all__ = ["BODIES", "Entry", "ProcedureLog", "read_log"]

Fail = Callable[..., None]

_ENTRY: Final = frozenset({"format", "seq", "prev", "salt", "type", "at", "actor", "body"})
_HEX64: Final = re.compile(r"[0-9a-f]{64}")
_AT: Final = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}[+-]\d{2}:\d{2}")
_BALLOT_TYPES: Final = ("recommendation.entered", "evaluation.entered", "ballot.declared_invalid")
_TOWN_ACTS: Final = (
    "candidates.approved",
    "election.bound",
    "election.concluded",
    "appointment.recorded",
)


@dataclass(frozen=True, slots=True)
class Entry:
    """One entry that passed the shape checks."""

    seq: int
    type: str
    at: dt.datetime
    body: dict[str, Any]
    raw: bytes


@dataclass(slots=True)
class ProcedureLog:
    """The log as read: every leaf hash, the entries that could be read, whether it stopped."""

    leaves: list[bytes] = field(default_factory=list)
    entries: list[Entry] = field(default_factory=list)
    stopped: bool = False

    def of(self, *types: str) -> list[Entry]:
        return [e for e in self.entries if e.type in types]


def read_log(bundle: Bundle, procedure_id: str, fail: Fail) -> ProcedureLog:
    """(V22) Read ``log.jsonl``: every line a leaf; entries checked and kept until one is not an
    entry at all (``stopped``)."""
    log = ProcedureLog()
    if "log.jsonl" not in bundle.names():
        log.stopped = True
        return log
    prev = procedure_id
    try:
        with bundle.open("log.jsonl") as fh:
            while line := fh.readline(LOG_LINE_LIMIT + 2):
                seq = len(log.leaves)
                if not line.endswith(b"\n") or len(line) > LOG_LINE_LIMIT + 1:
                    fail(
                        "entry.line",
                        "日志行过长或未以换行结束",
                        "a log line is too long or does not end in a line feed",
                        clause="V22",
                        file="log.jsonl",
                        seq=seq,
                    )
                    log.stopped = True
                    return log
                raw = line[:-1]
                log.leaves.append(hash_leaf(raw))
                if not log.stopped:
                    log.stopped = not _entry(log, raw, prev, seq, fail)
                prev = hashlib.sha256(b"\x00" + raw).hexdigest()
    except VerificationError as e:
        fail(e.code, e.zh, e.en, clause="V22", file="log.jsonl", path=e.path)
        log.stopped = True
    _order(log, fail)
    return log


def _entry(log: ProcedureLog, raw: bytes, prev: str, seq: int, fail: Fail) -> bool:
    """Check one line; False when it is no entry at all (the replay stops)."""

    def bad(code: str, zh: str, en: str, **where: Any) -> None:
        fail(code, zh, en, clause="V22", file="log.jsonl", seq=seq, rule="RP-11.1", **where)

    try:
        doc, _ = parse_canonical_checked(raw, clause="V22", path="log.jsonl", limit=LOG_LINE_LIMIT)
    except VerificationError as e:
        bad(e.code, e.zh, e.en)
        return False
    if not isinstance(doc, dict) or set(doc) != _ENTRY or doc["format"] != "procedure-entry/1":
        bad("entry.format", "不是 procedure-entry/1 记录", "not a procedure-entry/1 entry")
        return False
    if type(doc["seq"]) is not int or doc["seq"] != seq:
        bad("entry.seq", "序号不连续", "seq out of order", expected=str(seq))
        return False
    if doc["prev"] != prev:
        bad("entry.prev", "与上一条记录的哈希链不符", "prev does not chain", expected=prev)
    if not isinstance(doc["salt"], str) or _HEX64.fullmatch(doc["salt"]) is None:
        bad("entry.salt", "盐值不是 64 位十六进制", "salt is not 64 lowercase hex")
    at = _at(doc["at"])
    if at is None:
        bad("entry.at", "时间不是带时区的 ISO 8601", "at is not ISO 8601 with an offset")
        return False
    if log.entries and at < log.entries[-1].at:
        bad("log.time_backwards", "记录时间倒退", "at goes backwards")
    if not isinstance(doc["actor"], str):  # "" for the command line (spec/log.md §1)
        bad("entry.format", "记录人无效", "actor is not a string")
    type_, body = doc["type"], doc["body"]
    if not isinstance(type_, str) or type_ not in BODIES:
        bad("entry.type", "未知记录类型", f"unknown entry type {type_!r}")
        return False
    problem = body_problem(type_, body)
    if problem is not None:  # (RP-11.1, RP-12.2) exact members at every level
        path, what = problem
        bad(
            "entry.body",
            f"记录内容的字段不符（{path}）",
            f"the body of {type_} is out of shape at {path}: {what}",
            path=path,
        )
        return False
    log.entries.append(Entry(seq, type_, at, body, raw))
    return True


def _at(value: object) -> dt.datetime | None:
    if not isinstance(value, str) or _AT.fullmatch(value) is None:
        return None
    try:
        return dt.datetime.fromisoformat(value)
    except ValueError:
        return None


def _order(log: ProcedureLog, fail: Fail) -> None:
    """(RP-11.1) The order the whole-log checks rely on (``procedure.order``)."""

    def bad(e: Entry, en: str, zh: str) -> None:
        fail("procedure.order", zh, en, clause="V22", file="log.jsonl", seq=e.seq, rule="RP-11.1")

    types = [e.type for e in log.entries]
    for e in log.entries:
        if (e.type == "procedure.opened") != (e.seq == 0):
            bad(e, "procedure.opened is the first entry and only it", "首条记录须为且仅为程序开始")
    versions = [e.body.get("version") for e in log.of("preliminary.proposed")]
    if versions != list(range(1, len(versions) + 1)):
        first = log.of("preliminary.proposed")[0]
        bad(first, "proposal versions are not 1, 2, ...", "初步人选版本号须从 1 起连续")
    proposed = types.index("preliminary.proposed") if "preliminary.proposed" in types else None
    for i, e in enumerate(log.entries):
        if proposed is not None and i > proposed and e.type.startswith("recommendation."):
            bad(e, "a recommendation entry after the proposal", "初步人选提出后又有推荐记录")
    vetted = [i for i, t in enumerate(types) if t == "vetting.recorded"]
    last = -1
    for act in _TOWN_ACTS:
        for i, t in enumerate(types):
            if t != act:
                continue
            if not vetted or i < vetted[0] or i < last or types.count(act) > 1:
                bad(log.entries[i], f"{act} out of order", f"{act} 的位置不符合规定")
            last = max(last, i)
    if "appointment.recorded" in types and types[-1] != "appointment.recorded":
        bad(log.entries[-1], "appointment.recorded is not the last entry", "任命记录不是最后一条")
