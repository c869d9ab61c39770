"""Every round of each post, and who was elected in which round, for `tally result` and
`tally status` (RULES A13): the text (zh/en) and the JSON, from tally/core/history.py."""

from __future__ import annotations

from typing import Any

from tally.core.history import ElectedIn, PostHistory, RoundLine
from tally.core.model import MemberId, PostKind, zh_label
from tally.core.rounds import RoundPurpose, RoundStatus
from tally.election import ElectionSession
from tally.history_view import member_label, session_histories

__all__ = ["rounds_json", "rounds_lines"]

_PURPOSE_ZH = {
    RoundPurpose.FIRST: "",
    RoundPurpose.RUNOFF: "再次投票",
    RoundPurpose.FURTHER: "另行选举",
}


def _title(r: RoundLine, zh: bool) -> str:
    if zh:
        extra = _PURPOSE_ZH[r.purpose]
        if r.status is RoundStatus.QUORUM_FAILED:
            extra = (extra + "，" if extra else "") + "未能举行"
        elif r.revote_of is not None:
            extra = (extra + "，" if extra else "") + f"第{r.revote_of}轮无效后重新投票"
        return f"第{r.number}轮" + (f"（{extra}）" if extra else "")
    parts = [] if r.purpose is RoundPurpose.FIRST else [r.purpose.value]
    if r.status is RoundStatus.QUORUM_FAILED:
        parts.append("not held")
    elif r.revote_of is not None:
        parts.append(f"re-vote of round {r.revote_of}")
    return f"round {r.number}" + (f" ({', '.join(parts)})" if parts else "")


def _who(s: ElectionSession, mid: MemberId, zh: bool) -> str:
    return f"{member_label(s, mid)}（{mid}）" if zh else f"{member_label(s, mid)} ({mid})"


_DROPPED_ZH = (
    "不能当选本职（未当选委员，或已当选书记），退出本轮计票，所得赞成票不计给任何人（R22.3）"
)
_DROPPED_EN = (
    "cannot take the post (not elected to the committee, or elected secretary): out of this "
    "count, their approvals count for nobody (R22.3)"
)


def _round_lines(s: ElectionSession, r: RoundLine, zh: bool) -> list[str]:
    title = _title(r, zh)
    if r.status is RoundStatus.QUORUM_FAILED:
        return [
            f"  {title}：应到 {r.expected} 人，实到 {r.present} 人，未达到法定人数，会议无效，"
            "未投票（R5）"
            if zh
            else f"  {title}: {r.present} of {r.expected} present: no quorum, no vote (R5)"
        ]
    if r.status is RoundStatus.VOID:
        return [
            f"  {title}：发出 {r.issued} 张，收回 {r.returned} 张，收回多于发出，本轮无效，"
            "不计票（R11）"
            if zh
            else f"  {title}: {r.issued} issued, {r.returned} returned: more returned than "
            "issued, VOID, not counted (R11)"
        ]
    remote = ""
    if r.remote_ballots:
        remote = (
            f"另计入远程投票 {r.remote_ballots} 张，"
            if zh
            else f"{r.remote_ballots} remote ballots counted, "
        )
    counts = (
        f"发出 {r.issued} 张，收回 {r.returned} 张，{remote}有效 {r.valid_ballots} 张，"
        f"无效 {r.invalid_ballots} 张"
        if zh
        else f"{r.issued} issued, {r.returned} returned, {remote}{r.valid_ballots} valid, "
        f"{r.invalid_ballots} invalid"
    )
    if r.threshold is None:
        line = "再次投票，不适用当选票数线（R15）" if zh else "runoff: no threshold applies (R15)"
    else:
        line = (
            f"当选票数线 {r.threshold} 票（基数 {r.base}）"
            if zh
            else f"threshold {r.threshold} (base {r.base})"
        )
    out = [f"  {title}：{counts}；{line}" if zh else f"  {title}: {counts}; {line}"]
    for mid, v in r.approvals:
        mark = ("  当选" if zh else "  elected") if mid in r.elected else ""
        out.append(
            f"    {_who(s, mid, zh)}：{v} 票{mark}" if zh else f"    {_who(s, mid, zh)}: {v}{mark}"
        )
    for mid in r.dropped:
        out.append(
            f"    {_who(s, mid, zh)}：{_DROPPED_ZH}"
            if zh
            else f"    {_who(s, mid, zh)}: {_DROPPED_EN}"
        )
    return out


def _elected_text(s: ElectionSession, h: PostHistory, e: ElectedIn, zh: bool) -> str:
    r = next(x for x in h.rounds if x.number == e.round and x.status is RoundStatus.COUNTED)
    where = _title(r, zh)
    if zh:
        text = f"{_who(s, e.member, zh)}：{where}得 {e.approvals} 票"
        if e.passed_round != e.round:
            text += f"（第{e.passed_round}轮 {e.passed_approvals} 票，已过当选票数线）"
        return text
    text = f"{_who(s, e.member, zh)} {where}: {e.approvals}"
    if e.passed_round != e.round:
        text += f" (passed the threshold in round {e.passed_round} with {e.passed_approvals})"
    return text


def rounds_lines(s: ElectionSession, lang: str) -> list[str]:
    """Per post: every round with its counts and threshold, then the elected with their round."""
    zh = lang == "zh"
    seats = {p.kind: p.seats for p in s.meeting.rounds.posts}
    lines: list[str] = []
    for h in session_histories(s):
        n = seats.get(h.post)
        if zh:
            lines.append(f"{zh_label(h.post)}（应选 {n} 名）各轮：")
        else:
            lines.append(f"{h.post.value} ({n} seat(s)), every round:")
        for r in h.rounds:
            lines.extend(_round_lines(s, r, zh))
        if not h.elected:
            lines.append("  当选：无" if zh else "  elected: none")
            continue
        lines.append("  当选（按当选顺序）：" if zh else "  elected, in order:")
        lines.extend(f"    {_elected_text(s, h, e, zh)}" for e in h.elected)
    return lines


def _round_json(s: ElectionSession, r: RoundLine) -> dict[str, Any]:
    return {
        "round": r.number,
        "purpose": r.purpose.value,
        "revote_of": r.revote_of,
        "status": r.status.value,
        "body": r.body.value,
        "seats": r.seats,
        "present": r.present,
        "expected": r.expected,
        "issued": r.issued,
        "returned": r.returned,
        "valid_ballots": r.valid_ballots,
        "invalid_ballots": r.invalid_ballots,
        "remote_ballots": r.remote_ballots,
        "base": r.base,
        "threshold": r.threshold,
        "approvals": [
            {
                "member": mid,
                "name": member_label(s, mid),
                "approvals": v,
                "elected": mid in r.elected,
            }
            for mid, v in r.approvals
        ],
    }


def rounds_json(s: ElectionSession) -> list[dict[str, Any]]:
    """The same as JSON: per post, ``rounds`` in the order held and ``elected`` in order."""
    seats: dict[PostKind, int] = {p.kind: p.seats for p in s.meeting.rounds.posts}
    return [
        {
            "post": h.post.value,
            "seats": seats.get(h.post),
            "rounds": [_round_json(s, r) for r in h.rounds],
            "elected": [
                {
                    "member": e.member,
                    "name": member_label(s, e.member),
                    "round": e.round,
                    "approvals": e.approvals,
                    "passed_round": e.passed_round,
                    "passed_approvals": e.passed_approvals,
                }
                for e in h.elected
            ],
        }
        for h in session_histories(s)
    ]
