"""Plain-language explanations of outcomes, in Simplified Chinese or English.

Pure text building: the CLI, the web pages and the notice all show the same sentences, each ending
with the clause of spec/rules.md that decided it.
"""

from __future__ import annotations

from typing import Any

from tally.core.ballots import INVALID_REASONS
from tally.core.model import Election, MemberId, zh_label
from tally.core.rounds import (
    Blocked,
    ElectingBody,
    Finished,
    RoundOutcome,
    RoundPurpose,
    RoundSpec,
    RoundStatus,
)
from tally.core.rules import QuorumCheck, QuorumRule

__all__ = [
    "describe_next",
    "describe_outcome",
    "describe_quorum",
    "outcome_json",
    "round_wording",
    "spec_title",
]

_PURPOSE_ZH = {
    RoundPurpose.FIRST: "",
    RoundPurpose.RUNOFF: "再次投票",
    RoundPurpose.FURTHER: "另行选举",
}

_NOTES = {
    "mark.unreadable_voided": ("无法辨认的标记按该处无效处理", "unreadable marks voided"),
    "mark.unreadable_voids_ballot": (
        "因标记无法辨认而整张作废",
        "ballots void for an unreadable mark",
    ),
    "writein.unmarked_ignored": (
        "另选人下未画○，计入所选人数但不计票",
        "write-ins without ○ (count in choices, no vote)",
    ),
    "writein.without_disapproval": (
        "另选人多于不赞成数，计入所选人数但不计票",
        "write-ins beyond the disapprovals (count in choices, no vote)",
    ),
    "writein.no_vote": (
        "另选人不符合条件，计入所选人数但不计票",
        "write-ins for nobody eligible (count in choices, no vote)",
    ),
    "ballot.overvote": ("所选人数多于应选人数，整张无效", "over-votes (whole ballot invalid)"),
    "ballot.write_in_rows": (
        "另选人多于选票上的空行，整张无效",
        "more write-ins than rows (whole ballot invalid)",
    ),
    **{
        f"ballot.invalid.{code}": (
            f"经监票人确认作为无效票录入（{zh}）",
            f"entered as invalid by decision, confirmed by a scrutineer ({en})",
        )
        for code, (zh, en) in INVALID_REASONS.items()
    },
}


def _name(election: Election, mid: MemberId) -> str:
    try:
        return election.member(mid).name
    except KeyError:
        return str(mid)


def _names(election: Election, ids: tuple[MemberId, ...], lang: str) -> str:
    sep = "、" if lang == "zh" else ", "
    return sep.join(_name(election, m) for m in ids) or ("无" if lang == "zh" else "none")


def round_wording(spec: RoundSpec, lang: str) -> str:
    """The round part of a title, such as "第2轮（再次投票）" / "round 2 (runoff)"."""
    if lang == "zh":
        extra = _PURPOSE_ZH[spec.purpose]
        if spec.revote_of is not None:
            extra = (extra + "，" if extra else "") + f"第{spec.revote_of}轮无效后重新投票"
        return f"第{spec.number}轮" + (f"（{extra}）" if extra else "")
    extra = "" if spec.purpose is RoundPurpose.FIRST else spec.purpose.value
    if spec.revote_of is not None:
        extra = (extra + ", " if extra else "") + f"re-vote of round {spec.revote_of}"
    return f"round {spec.number}" + (f" ({extra})" if extra else "")


def spec_title(spec: RoundSpec, lang: str) -> str:
    """A short title such as "委员选举 第2轮（再次投票）"."""
    if lang == "zh":
        return f"{zh_label(spec.post)}选举 {round_wording(spec, lang)}"
    return f"{spec.post.value} {round_wording(spec, lang)}"


def describe_quorum(q: QuorumCheck, lang: str) -> str:
    """The quorum verdict with its arithmetic (R5, R6)."""
    if q.rule is QuorumRule.PLENARY:
        if lang == "zh":
            verdict = "有效" if q.valid else "无效"
            return (
                f"委员会全体会议：应到 {q.expected} 人，实到 {q.present} 人；"
                f"3×{q.present}={3 * q.present} {'>' if q.valid else '≤'} 2×{q.expected}"
                f"={2 * q.expected}，会议{verdict}（{q.clause}）"
            )
        return (
            f"Committee plenary: {q.present} of {q.expected} present; 3P={3 * q.present} "
            f"{'>' if q.valid else '<='} 2N={2 * q.expected}: "
            f"{'valid' if q.valid else 'not valid'} ({q.clause})"
        )
    op = ">=" if q.comparison.value == "GE" else ">"
    if lang == "zh":
        text = (
            f"应到会有选举权人数 E={q.expected}，实到 P={q.present}；"
            f"5P={5 * q.present}，4E={4 * q.expected}，"
            f"按“{zh_label(q.comparison)}”：会议{'有效' if q.valid else '无效，不能进行选举'}"
            f"（{q.clause}）"
        )
        if q.at_equality:  # (R5.1) under GT and GE alike
            text += (
                "。注意：实到人数恰为应到的五分之四，按所采用的规则“超过五分之四”，"
                "恰为五分之四不足法定人数"
                if q.comparison.value == "GT"
                else "。注意：实到人数恰为应到的五分之四，"
                "按所采用的规则“达到或超过五分之四”，会议有效"
            )
        return text
    text = (
        f"E={q.expected}, P={q.present}; 5P={5 * q.present} {op} 4E={4 * q.expected} "
        f"required: {'valid' if q.valid else 'NOT valid, no election'} ({q.clause})"
    )
    if q.at_equality:  # (R5.1) under GT and GE alike
        text += (
            ". Warning: exactly four fifths present; under the rule applied (GT, more than four "
            "fifths) exactly four fifths is not a quorum"
            if q.comparison.value == "GT"
            else ". Warning: exactly four fifths present; under the rule applied (GE, at least "
            "four fifths) the meeting is valid"
        )
    return text


def describe_outcome(outcome: RoundOutcome, election: Election, lang: str) -> list[str]:
    """Lines a clerk reads aloud: quorum, validity, counts, threshold, who is elected and why."""
    zh = lang == "zh"
    lines = [spec_title(outcome.spec, lang), describe_quorum(outcome.quorum, lang)]
    if outcome.status is RoundStatus.QUORUM_FAILED:
        return lines
    if outcome.status is RoundStatus.VOID:
        lines.append(
            f"发出选票 {outcome.issued} 张，收回 {outcome.returned} 张，收回多于发出，"
            "本轮选举无效，须用新选票重新投票（R11）"
            if zh
            else f"{outcome.issued} issued, {outcome.returned} returned: more returned than "
            "issued, the round is VOID and is voted again with new ballots (R11)"
        )
        return lines
    lines += _ballot_lines(outcome, zh=zh)
    lines.append(_threshold_line(outcome, election, zh=zh))
    lines += _candidate_lines(outcome, election, zh=zh)
    lines += _what_follows_lines(outcome, election, lang)
    return lines


def _ballot_lines(outcome: RoundOutcome, *, zh: bool) -> list[str]:
    """(R8, R11) The round is valid: issued, returned, valid and invalid ballots, then each note
    on what the ballots' marks gave no vote to."""
    lines = [
        f"发出选票 {outcome.issued} 张，收回 {outcome.returned} 张，选举有效；"
        f"有效票 {outcome.valid_ballots} 张，无效票 {outcome.invalid_ballots} 张（R8、R11）"
        if zh
        else f"{outcome.issued} issued, {outcome.returned} returned: valid round; "
        f"{outcome.valid_ballots} valid, {outcome.invalid_ballots} invalid ballots (R8, R11)"
    ]
    for code, n in outcome.ballot_notes:
        zh_text, en_text = _NOTES.get(code, (code, code))
        lines.append(f"  {zh_text}：{n}" if zh else f"  {en_text}: {n}")
    return lines


def _threshold_line(outcome: RoundOutcome, election: Election, *, zh: bool) -> str:
    """(R13, R21) More than half of the base, and of which base; (R15) none in a runoff."""
    if not outcome.spec.apply_threshold:
        return (
            "再次投票只在票数相等的候选人中排序，不再适用过半数（R15）"
            if zh
            else "A runoff only ranks the tied candidates; no threshold applies (R15)"
        )
    base_name = (
        "委员会委员总数 N"
        if outcome.spec.body is ElectingBody.PLENARY
        else zh_label(election.parameters.threshold_base)
    )
    return (
        f"当选须得赞成票超过半数：2×得票 > {outcome.base}（{base_name}），"
        f"即至少 {outcome.minimum_to_pass} 票"
        if zh
        else f"Threshold: 2 x approvals > {outcome.base}, i.e. at least "
        f"{outcome.minimum_to_pass} approvals"
    )


def _candidate_lines(outcome: RoundOutcome, election: Election, *, zh: bool) -> list[str]:
    """(R14, R15) Each candidate's approvals and what they made of the candidate; (R22) the
    candidates who dropped out of the count."""
    lines: list[str] = []
    for mid, v in outcome.approvals:
        mark = ""
        if mid in outcome.elected:
            mark = "当选" if zh else "elected"
        elif mid in outcome.tied:
            mark = "票数相等，再次投票" if zh else "tied: runoff"
        elif outcome.spec.apply_threshold and mid not in outcome.passed:
            mark = "未过半数" if zh else "below threshold"
        else:
            mark = "名额已满" if zh else "seats filled"
        lines.append(
            f"  {_name(election, mid)}（{mid}）：{v} 票  {mark}"
            if zh
            else f"  {_name(election, mid)} ({mid}): {v}  {mark}"
        )
    lines.extend(
        f"  {_name(election, mid)}（{mid}）：未当选委员（或已当选书记），"
        "退出本轮计票，所得赞成票不计给任何人（R22）"
        if zh
        else f"  {_name(election, mid)} ({mid}): not elected to the committee (or elected "
        "secretary), drops out of this count; their approvals count for nobody (R22)"
        for mid in outcome.dropped
    )
    return lines


def _what_follows_lines(outcome: RoundOutcome, election: Election, lang: str) -> list[str]:
    """(R15) A tie across the last seat calls a runoff; (R16, R17) a shortfall a further round."""
    zh = lang == "zh"
    lines: list[str] = []
    if outcome.tied:
        lines.append(
            f"{_names(election, outcome.tied, lang)} 票数相等且跨越最后名额，"
            f"须就这 {len(outcome.tied)} 人再次投票，选出 {outcome.tied_seats} 名（R15）"
            if zh
            else f"{_names(election, outcome.tied, lang)} tie across the last seat: runoff among "
            f"them for {outcome.tied_seats} seat(s) (R15)"
        )
    if outcome.shortfall:
        lines.append(
            f"当选人数不足，尚缺 {outcome.shortfall} 名，须另行选举"
            "（或经党员大会半数以上选举人同意并经上级同意减少名额）（R16、R17）"
            if zh
            else f"Shortfall: {outcome.shortfall} seat(s) open; a further round follows "
            "(or a recorded seat reduction) (R16, R17)"
        )
    return lines


def describe_next(state_next: RoundSpec | Blocked | Finished, election: Election, lang: str) -> str:
    """What happens next, in one sentence."""
    zh = lang == "zh"
    if isinstance(state_next, Finished):
        parts = [
            f"{zh_label(kind) if zh else kind.value}：{_names(election, ids, lang)}"
            for kind, ids in state_next.elected
        ]
        return ("选举结束。" if zh else "Election finished. ") + "；".join(parts)
    if isinstance(state_next, Blocked):
        return (state_next.zh if zh else state_next.en) + f"（{state_next.clause}）"
    cands = _names(election, state_next.candidates, lang)
    if zh:
        return (
            f"下一轮：{spec_title(state_next, lang)}，应选 {state_next.seats} 名，候选人：{cands}"
        )
    return f"Next: {spec_title(state_next, lang)}, {state_next.seats} seat(s), candidates: {cands}"


def outcome_json(outcome: RoundOutcome) -> dict[str, Any]:
    """The outcome as JSON-ready data (integers and strings only)."""
    spec = outcome.spec
    return {
        "post": spec.post.value,
        "round": spec.number,
        "purpose": spec.purpose.value,
        "revote_of": spec.revote_of,
        "body": spec.body.value,
        "seats": spec.seats,
        "candidates": list(spec.candidates),
        "quorum": {
            "present": outcome.quorum.present,
            "expected": outcome.quorum.expected,
            "comparison": outcome.quorum.comparison.value,
            "valid": outcome.quorum.valid,
            "at_equality": outcome.quorum.at_equality,
        },
        "status": outcome.status.value,
        "issued": outcome.issued,
        "returned": outcome.returned,
        "valid_ballots": outcome.valid_ballots,
        "invalid_ballots": outcome.invalid_ballots,
        "approvals": [{"member": m, "approvals": v} for m, v in outcome.approvals],
        "base": outcome.base,
        "minimum_to_pass": outcome.minimum_to_pass,
        "passed": list(outcome.passed),
        "elected": list(outcome.elected),
        "tied": list(outcome.tied),
        "tied_seats": outcome.tied_seats,
        "shortfall": outcome.shortfall,
        "clauses": list(outcome.clauses),
    }
