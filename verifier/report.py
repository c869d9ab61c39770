"""The verification report: one result per clause V1-V19 (spec/bundle.md §6).

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
    "ElectedPerson",
    "Finding",
    "Report",
    "RoundLine",
    "Status",
    "render_json",
    "render_rounds",
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
    "V19": ("公开摘要", "Public summary"),
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
    omitted: int = 0  # further findings of this clause, counted but not kept (bundle.md §8)


@dataclass(frozen=True, slots=True)
class RoundLine:
    """One round of a post as the replay saw it (spec/bundle.md §6, the report's round listing).

    ``status`` is ``counted``, ``void`` or ``quorum_failed``. The numbers of a counted round are the
    verifier's own recount (``recounted``), or the log's when the ballots could not be recounted.
    """

    post: str
    number: int
    status: str
    purpose: str = ""
    body: str = ""
    seats: int = 0
    candidates: tuple[str, ...] = ()
    expected: int = 0
    present: int = 0
    issued: int | None = None
    returned: int | None = None
    valid: int = 0
    invalid: int = 0
    remote: int | None = None
    base_kind: str = ""
    """``E``, ``P`` (assembly, the manifest's ``threshold_base``) or ``N`` (plenary)."""
    base: int = 0
    minimum: int = 0
    approvals: tuple[tuple[str, int], ...] = ()
    elected: tuple[str, ...] = ()
    tied: tuple[str, ...] = ()
    tied_seats: int = 0
    shortfall: int = 0
    dropped: tuple[str, ...] = ()
    """(R22.3) listed candidates out of the count: they could no longer take the post."""
    revote_of: int | None = None
    recounted: bool = True


@dataclass(frozen=True, slots=True)
class ElectedPerson:
    """A member elected to a post: the round that elected them and their approvals in it."""

    post: str
    member: str
    round: int
    approvals: int


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
    election_id: str = ""
    elected: tuple[tuple[str, tuple[str, ...]], ...] = field(default=())
    rounds: tuple[RoundLine, ...] = ()
    elected_persons: tuple[ElectedPerson, ...] = ()
    names: tuple[tuple[str, str], ...] = ()
    """Member id -> roster name, for every member the round listing names."""
    warnings: tuple[Finding, ...] = ()
    """What a reader should check but that fails no clause (look-alike names, D-5.3)."""
    check_code: str = ""
    """The remote invitations' check code recomputed from the town-signed summary (RM-10.3)."""
    held_checkpoints: int = 0
    """Checkpoints held outside the bundle (``verify --checkpoint``) that were checked (V7)."""

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
        more = max(len(c.findings) - max_findings, 0) + c.omitted
        if more:
            out.append(
                f"     ……另有 {more} 处问题未逐条列出"
                if zh
                else f"     ... and {more} more findings not listed"
            )
    for w in report.warnings[:max_findings]:  # D-5.3: shown, never a failure
        out.append(
            f"提示（{w.clause}，{w.rule}）：{w.zh}"
            if zh
            else f"Warning ({w.clause}, {w.rule}): {w.en}"
        )
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
            f"计入 {report.remote_ballots} 张。"
            if zh
            else f"Remote voting: {report.remote_credentials} credentials issued, "
            f"{report.remote_casts} cast, {report.remote_ballots} counted."
        )
    if report.check_code:  # RM-10.3: what every genuine invitation printed
        out.append(
            f"远程投票邀请函校验码：{report.check_code}（请镇党委公布，供远程投票党员与邀请函核对）"
            if zh
            else f"Remote invitations' check code: {report.check_code} (for the town committee to "
            "announce; members compare it with their invitations)"
        )
    if report.held_checkpoints:  # V7: checkpoints kept outside the bundle
        out.append(
            f"外部检查点（--checkpoint）：核对 {report.held_checkpoints} 个。"
            if zh
            else f"Held checkpoints (--checkpoint): {report.held_checkpoints} checked."
        )
    out += render_rounds(report, lang)
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


_PURPOSES: Final = {
    "first": ("第一次选举", "first round"),
    "runoff": ("再次投票", "runoff"),
    "further": ("另行选举", "further round"),
}
_BODIES: Final = {
    "assembly": ("党员大会", "members' assembly"),
    "plenary": ("委员会全体会议", "committee plenary"),
}
_BASES: Final = {
    "E": ("应到会有选举权人数", "expected electors E"),
    "P": ("实到会有选举权人数", "electors present P"),
    "N": ("委员会委员总数", "committee members N"),
}


def _who(names: dict[str, str], member: str, zh: bool) -> str:
    """A person as a reader sees them: the roster name, the id in brackets."""
    name = names.get(member)
    if not name:
        return member
    return f"{name}（{member}）" if zh else f"{name} ({member})"


def _round_head(r: RoundLine, zh: bool) -> str:
    purpose_zh, purpose_en = _PURPOSES.get(r.purpose, (r.purpose, r.purpose))
    body_zh, body_en = _BODIES.get(r.body, (r.body, r.body))
    if zh:
        head = f"第{r.number}轮 {purpose_zh}（{body_zh}，应选 {r.seats} 名"
        if r.revote_of is not None:
            head += f"，第{r.revote_of}轮无效后重新投票"
        return head + "）"
    head = f"round {r.number}, {purpose_en} ({body_en}, {r.seats} seat{'s' * (r.seats != 1)}"
    if r.revote_of is not None:
        head += f", re-vote of void round {r.revote_of}"
    return head + ")"


def _round_lines(r: RoundLine, names: dict[str, str], zh: bool) -> list[str]:
    who_expected = ("应到" if zh else "expected") + (" N" if r.body == "plenary" else " E")
    out = ["  " + _round_head(r, zh)]
    if r.status == "quorum_failed":
        out.append(
            f"    法定人数不足，本轮未能进行（{who_expected} {r.expected} 人，实到 {r.present} 人）"
            if zh
            else f"    quorum not met, the round did not open ({who_expected} {r.expected}, "
            f"present {r.present})"
        )
        return out
    out.append(
        f"    {who_expected} {r.expected} 人，实到 {r.present} 人；"
        f"发出选票 {r.issued} 张，收回 {r.returned} 张"
        if zh
        else f"    {who_expected} {r.expected}, present {r.present}; "
        f"ballots issued {r.issued}, returned {r.returned}"
    )
    if r.status == "void":
        out.append(
            "    收回选票多于发出选票，本轮选举无效，不计票，须重新投票（R11）"
            if zh
            else "    more ballots returned than issued: the round is VOID, nothing counted, "
            "it is voted again (R11)"
        )
        return out
    out[-1] += (
        f"，有效 {r.valid} 张，无效 {r.invalid} 张"
        if zh
        else f", valid {r.valid}, invalid {r.invalid}"
    )
    if r.remote is not None:
        out[-1] += f"（含远程选票 {r.remote} 张）" if zh else f" (remote ballots: {r.remote})"
    if r.purpose == "runoff":
        out.append(
            "    再次投票不设当选票数线，得票多者当选（R15）"
            if zh
            else "    runoff: no threshold line; the most approvals win (R15)"
        )
    else:
        base_zh, base_en = _BASES.get(r.base_kind, (r.base_kind, r.base_kind))
        out.append(
            f"    当选票数线：以{base_zh} {r.base} 人为基数，得票不少于 {r.minimum} 票"
            "（超过半数，R13）"
            if zh
            else f"    threshold line: base {r.base} ({base_en}), at least {r.minimum} "
            "approvals (more than half, R13)"
        )
    elected, tied = set(r.elected), set(r.tied)
    for member, votes in r.approvals:
        if zh:
            line = f"    {_who(names, member, zh)}：{votes} 票"
            line += "，当选" if member in elected else "，并列" if member in tied else ""
        else:
            line = f"    {_who(names, member, zh)}: {votes}"
            line += ", elected" if member in elected else ", tied" if member in tied else ""
        out.append(line)
    for member in r.dropped:
        out.append(
            f"    {_who(names, member, zh)}：不能当选本职（未当选委员，或已当选书记），"
            "退出本轮计票（R22.3）"
            if zh
            else f"    {_who(names, member, zh)}: cannot take the post, out of this count (R22.3)"
        )
    if r.tied:
        out.append(
            f"    并列者争 {r.tied_seats} 个名额，须再次投票（R15）"
            if zh
            else f"    the tied compete for {r.tied_seats} seat(s) in a runoff (R15)"
        )
    if r.shortfall:
        out.append(
            f"    缺额 {r.shortfall} 名（R16）"
            if zh
            else f"    {r.shortfall} seat(s) unfilled (R16)"
        )
    if not r.recounted:
        out.append(
            "    （选票无法重新计算，以上为日志记录的数字）"
            if zh
            else "    (the ballots could not be recounted: these are the log's numbers)"
        )
    return out


def render_rounds(report: Report, lang: str = "zh") -> list[str]:
    """Every round of each post with its own numbers, then who was elected, in which round."""
    zh = lang != "en"
    names = dict(report.names)
    out: list[str] = []
    posts = [p for p, _ in report.elected] + [
        r.post for r in report.rounds if r.post not in {p for p, _ in report.elected}
    ]
    for post in dict.fromkeys(posts):
        post_zh, post_en = _POSTS.get(post, (post, post))
        rounds = [r for r in report.rounds if r.post == post]
        if rounds:
            out.append(f"{post_zh}选举轮次：" if zh else f"Rounds for {post_en}:")
            for r in rounds:
                out += _round_lines(r, names, zh)
        persons = [x for x in report.elected_persons if x.post == post]
        if persons:
            out.append(f"当选{post_zh}：" if zh else f"Elected {post_en}:")
            out += [
                f"  {_who(names, x.member, zh)}：第{x.round}轮当选，得 {x.approvals} 票"
                if zh
                else f"  {_who(names, x.member, zh)}: elected in round {x.round} "
                f"with {x.approvals} approvals"
                for x in persons
            ]
        elif any(p == post for p, _ in report.elected):
            ids = dict(report.elected)[post]
            out.append(
                f"当选{post_zh}：{'、'.join(_who(names, m, zh) for m in ids) or '—'}"
                if zh
                else f"Elected {post_en}: {', '.join(_who(names, m, zh) for m in ids) or '-'}"
            )
    return out


def _round_json(r: RoundLine, names: dict[str, str]) -> dict[str, object]:
    doc: dict[str, object] = {
        "post": r.post,
        "round": r.number,
        "status": r.status,
        "purpose": r.purpose,
        "body": r.body,
        "seats": r.seats,
        "candidates": [{"member": m, "name": names.get(m, "")} for m in r.candidates],
        "expected": r.expected,
        "present": r.present,
        "revote_of": r.revote_of,
    }
    if r.status == "quorum_failed":
        return doc
    doc |= {"issued": r.issued, "returned": r.returned}
    if r.status == "void":
        return doc
    doc |= {
        "valid_ballots": r.valid,
        "invalid_ballots": r.invalid,
        "remote_ballots": r.remote,
        "threshold": None
        if r.purpose == "runoff"
        else {"base_kind": r.base_kind, "base": r.base, "minimum": r.minimum},
        "approvals": [
            {"member": m, "name": names.get(m, ""), "approvals": v} for m, v in r.approvals
        ],
        "elected": list(r.elected),
        "tied": list(r.tied),
        "tied_seats": r.tied_seats,
        "shortfall": r.shortfall,
        "dropped": list(r.dropped),
        "recounted": r.recounted,
    }
    return doc


def render_json(report: Report) -> str:
    """The report as one JSON object."""
    names = dict(report.names)
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
            "check_code": report.check_code,
        },
        "held_checkpoints": report.held_checkpoints,
        "elected": {p: list(ids) for p, ids in report.elected},
        "elected_persons": {
            p: [
                {
                    "member": x.member,
                    "name": names.get(x.member, ""),
                    "round": x.round,
                    "approvals": x.approvals,
                }
                for x in report.elected_persons
                if x.post == p
            ]
            for p in dict.fromkeys(x.post for x in report.elected_persons)
        },
        "rounds": [_round_json(r, names) for r in report.rounds],
        "warnings": [
            {"clause": w.clause, "code": w.code, "zh": w.zh, "en": w.en, "rule": w.rule}
            for w in report.warnings
        ],
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
                "omitted": c.omitted,
            }
            for c in report.clauses
        ],
    }
    return json.dumps(doc, ensure_ascii=False, indent=2) + "\n"
