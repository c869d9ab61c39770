"""The verification report: one result per clause V1-V18 (spec/bundle.md §6).

Frozen values; rendering in Simplified Chinese (default) or English, and JSON. Presentation only:
no checking happens here.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Final

__all__ = [
    "CLAUSE_TITLES",
    "ClauseResult",
    "Finding",
    "Report",
    "Status",
    "render_json",
    "render_text",
]


class Status(StrEnum):
    PASSED = "passed"
    FAILED = "failed"
    NOT_CHECKED = "not_checked"


CLAUSE_TITLES: Final[dict[str, tuple[str, str]]] = {
    "V1": ("结果包完整", "Bundle"),
    "V2": ("镇党委签名", "Town signature"),
    "V3": ("选举清单", "Manifest"),
    "V4": ("应到会人数", "Expected electors"),
    "V5": ("候选人规则", "Candidate rules"),
    "V6": ("日志条目", "Log entries"),
    "V7": ("检查点", "Checkpoints"),
    "V8": ("选票批次", "Stocks"),
    "V9": ("选票记录", "Ballot records"),
    "V10": ("签到", "Attendance"),
    "V11": ("轮次顺序", "Round sequence"),
    "V12": ("轮次有效性", "Round validity"),
    "V13": ("计票", "Count"),
    "V14": ("记录的决定", "Decisions"),
    "V15": ("选举结果", "Result"),
    "V16": ("最终检查点", "Final checkpoint"),
    "V17": ("公示期", "Publicity"),
    "V18": ("远程选票", "Remote ballots"),
}
CLAUSES: Final = tuple(CLAUSE_TITLES)
_STATUS_TEXT: Final = {
    Status.PASSED: ("通过", "passed"),
    Status.FAILED: ("未通过", "FAILED"),
    Status.NOT_CHECKED: ("未检查", "not checked"),
}


@dataclass(frozen=True, slots=True)
class Finding:
    """One failure: what was expected, what was found and where."""

    clause: str
    code: str
    zh: str
    en: str
    expected: str = ""
    found: str = ""
    file: str = ""
    seq: int | None = None
    ballot_id: str = ""
    path: str = ""
    rule: str = ""
    """The finer clause, when there is one (e.g. ``V18.3`` of spec/remote.md §13)."""

    def where(self) -> str:
        parts = [self.file] if self.file else []
        if self.seq is not None:
            parts.append(f"seq {self.seq}")
        if self.ballot_id:
            parts.append(f"ballot {self.ballot_id}")
        if self.path:
            parts.append(self.path)
        return ", ".join(parts)


@dataclass(frozen=True, slots=True)
class ClauseResult:
    clause: str
    status: Status
    findings: tuple[Finding, ...] = ()
    reason_zh: str = ""
    reason_en: str = ""


@dataclass(frozen=True, slots=True)
class Report:
    """The whole verification outcome; ``ok`` only when every clause passed."""

    bundle: str
    clauses: tuple[ClauseResult, ...]
    entries: int = 0
    ballots: int = 0
    remote_ballots: int = 0
    remote_opened: bool = False
    remote_credentials: int = 0
    remote_casts: int = 0
    remote_rejected: int = 0
    election_id: str = ""
    elected: tuple[tuple[str, tuple[str, ...]], ...] = field(default=())

    @property
    def ok(self) -> bool:
        return all(c.status is Status.PASSED for c in self.clauses)

    def failed(self) -> tuple[str, ...]:
        return tuple(c.clause for c in self.clauses if c.status is Status.FAILED)

    def status(self, clause: str) -> Status:
        for c in self.clauses:
            if c.clause == clause:
                return c.status
        raise KeyError(clause)


_POSTS: Final = {
    "committee": ("委员", "committee"),
    "secretary": ("书记", "secretary"),
    "deputy_secretary": ("副书记", "deputy secretary"),
}


def render_text(report: Report, lang: str = "zh", *, max_findings: int = 50) -> str:
    """Plain-language report; ``lang`` is ``zh`` (default) or ``en``."""
    zh = lang != "en"
    out: list[str] = []
    out.append(("结果包核验报告：" if zh else "Bundle verification report: ") + report.bundle)
    if report.election_id:
        out.append(("选举标识：" if zh else "Election id: ") + report.election_id)
    out.append("")
    for c in report.clauses:
        title_zh, title_en = CLAUSE_TITLES[c.clause]
        st_zh, st_en = _STATUS_TEXT[c.status]
        title, st = (title_zh, st_zh) if zh else (title_en, st_en)
        line = f"{c.clause:<4} {title}：{st}" if zh else f"{c.clause:<4} {title}: {st}"
        if c.status is Status.NOT_CHECKED and (c.reason_zh or c.reason_en):
            line += f"（{c.reason_zh}）" if zh else f" ({c.reason_en})"
        out.append(line)
        for f in c.findings[:max_findings]:
            msg = f.zh if zh else f.en
            if f.rule:
                msg = f"〔{f.rule}〕{msg}" if zh else f"[{f.rule}] {msg}"
            out.append(f"     - {msg}")
            if f.expected or f.found:
                out.append(
                    f"       应为：{f.expected}；实为：{f.found}"
                    if zh
                    else f"       expected: {f.expected}; found: {f.found}"
                )
            where = f.where()
            if where:
                out.append(f"       位置：{where}" if zh else f"       where: {where}")
        if len(c.findings) > max_findings:
            more = len(c.findings) - max_findings
            out.append(f"     ……另有 {more} 处" if zh else f"     ... and {more} more")
    out.append("")
    if zh:
        out.append(
            f"日志条目 {report.entries} 条，计入选票 {report.ballots} 张，"
            f"其中远程选票 {report.remote_ballots} 张。"
        )
    else:
        out.append(
            f"{report.entries} log entries, {report.ballots} counted ballots, "
            f"including {report.remote_ballots} remote ballots."
        )
    if report.remote_opened:  # V18.12 (R24.4)
        out.append(
            f"远程投票：发放凭证 {report.remote_credentials} 份，投出 {report.remote_casts} 张，"
            f"拒收 {report.remote_rejected} 张，计入 {report.remote_ballots} 张。"
            if zh
            else f"Remote voting: {report.remote_credentials} credentials issued, "
            f"{report.remote_casts} cast, {report.remote_rejected} rejected, "
            f"{report.remote_ballots} counted."
        )
    for post, ids in report.elected:
        name_zh, name_en = _POSTS.get(post, (post, post))
        out.append(
            f"当选{name_zh}：{'、'.join(ids)}" if zh else f"elected {name_en}: {', '.join(ids)}"
        )
    if report.ok:
        out.append("结论：全部条款通过。" if zh else "Result: every clause holds.")
    else:
        failed = "、".join(report.failed()) or "—"
        out.append(
            f"结论：未通过（{failed}）。"
            if zh
            else f"Result: FAILED ({', '.join(report.failed())})."
        )
    return "\n".join(out) + "\n"


def render_json(report: Report) -> str:
    """The report as one JSON object."""
    doc = {
        "ok": report.ok,
        "bundle": report.bundle,
        "election_id": report.election_id,
        "entries": report.entries,
        "ballots": report.ballots,
        "remote_ballots": report.remote_ballots,
        "remote": {
            "opened": report.remote_opened,
            "credentials": report.remote_credentials,
            "casts": report.remote_casts,
            "rejected": report.remote_rejected,
        },
        "elected": {p: list(ids) for p, ids in report.elected},
        "clauses": [
            {
                "clause": c.clause,
                "status": c.status.value,
                "reason": c.reason_en,
                "findings": [
                    {
                        "code": f.code,
                        "zh": f.zh,
                        "en": f.en,
                        "expected": f.expected,
                        "found": f.found,
                        "file": f.file,
                        "seq": f.seq,
                        "ballot_id": f.ballot_id,
                        "path": f.path,
                        "rule": f.rule,
                    }
                    for f in c.findings
                ],
            }
            for c in report.clauses
        ],
    }
    return json.dumps(doc, ensure_ascii=False, indent=2) + "\n"
