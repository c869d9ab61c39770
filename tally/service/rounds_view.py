"""Every round of every post, and who was elected in which round, as the pages show it (RULES A13).

Built from ``tally.history_view.session_histories`` (one view for the notice, the CLI and the
pages), which adds what only the log knows: the attempts that failed their quorum
(``round.quorum_failed``: no round was held, the round number is not used up). Used by the
polling station's result and tally pages (names with the member id in brackets) and by the public
bulletin board (``public=True``: names of candidates and of those elected only, no ids, no
per-person attendance).
"""

from __future__ import annotations

from typing import Any

from tally.core.history import ElectedIn, RoundLine
from tally.core.model import MemberId, zh_label
from tally.core.rounds import ElectingBody, RoundPurpose, RoundStatus
from tally.core.rules import plenary_quorum, quorum
from tally.election import ElectionSession
from tally.history_view import session_histories

__all__ = ["post_views", "round_wording_line"]

_PURPOSE = {
    RoundPurpose.FIRST: ("", ""),
    RoundPurpose.RUNOFF: ("再次投票", "runoff"),
    RoundPurpose.FURTHER: ("另行选举", "further round"),
}


def _t(lang: str, zh: str, en: str) -> str:
    return zh if lang == "zh" else en


def round_wording_line(number: int, purpose: RoundPurpose, revote_of: int | None, lang: str) -> str:
    """ "第4轮（另行选举）" / "round 4 (further round)"; a re-vote names the void round."""
    zh_extra, en_extra = _PURPOSE[purpose]
    if lang == "zh":
        if revote_of is not None:
            zh_extra = (zh_extra + "，" if zh_extra else "") + f"第{revote_of}轮无效后重新投票"
        return f"第{number}轮" + (f"（{zh_extra}）" if zh_extra else "")
    if revote_of is not None:
        en_extra = (en_extra + ", " if en_extra else "") + f"re-vote of void round {revote_of}"
    return f"round {number}" + (f" ({en_extra})" if en_extra else "")


def post_views(s: ElectionSession, lang: str, *, public: bool) -> list[dict[str, Any]]:
    """Per post (in the order the posts first voted): its seats, who was elected in which round
    with that round's approvals, and every round with its own threshold line."""
    e = s.manifest.election
    m = s.meeting
    # The notice's and the CLI's view: the replayed rounds with the attempts refused for want of a
    # quorum put back in their place from the log (only their counts: never who was present).
    histories = session_histories(s)
    # The ballot's candidate list of each round: on the public board, anyone else who got
    # approvals (a write-in) is shown only in a total unless elected (A13).
    candidates = {(o.spec.post, o.spec.number): o.spec.candidates for o in m.rounds.outcomes}
    seats = {p.kind: p.seats for p in m.rounds.posts}
    elected_anywhere = {mid for h in histories for mid in h.elected_ids()}

    def name(mid: MemberId) -> str:
        try:
            text = e.member(mid).name
        except KeyError:
            return str(mid)
        if public:
            return text
        return f"{text}（{mid}）" if lang == "zh" else f"{text} ({mid})"

    views = []
    for h in histories:
        lines = {r.number: r for r in h.rounds if r.status is not RoundStatus.QUORUM_FAILED}
        rounds = [
            _failed_view(s, r, lang)
            if r.status is RoundStatus.QUORUM_FAILED
            else _round_view(
                r,
                candidates.get((h.post, r.number), ()),
                name,
                elected_anywhere,
                public=public,
                lang=lang,
            )
            for r in h.rounds
        ]
        views.append(
            {
                "post": h.post.value,
                "label": zh_label(h.post) if lang == "zh" else h.post.value,
                "seats": seats.get(h.post),
                "elected": [_elected_view(x, lines, name, lang) for x in h.elected],
                "rounds": rounds,
                # A13: the public may learn the per-post total of remote ballots, nothing finer
                "remote": sum(r.remote_ballots for r in h.rounds),
            }
        )
    return views


def _failed_view(s: ElectionSession, r: RoundLine, lang: str) -> dict[str, Any]:
    """An attempt refused for want of a quorum (R5, R6): no ballot was issued, nothing counted."""
    present, expected = r.present, r.expected
    q = (
        plenary_quorum(present, expected)
        if r.body is ElectingBody.PLENARY
        else quorum(present, expected, s.manifest.election.parameters.quorum_comparison)
    )
    return {
        "number": r.number,
        "title": round_wording_line(r.number, r.purpose, r.revote_of, lang)
        + _t(lang, " · 未举行", " · not held"),
        "purpose": r.purpose.value,
        "status": RoundStatus.QUORUM_FAILED.value,
        "status_text": _t(
            lang,
            f"未达到法定人数，未进行选举（到会 {present} 人，应到 {expected} 人，"
            f"至少须到会 {q.minimum_present} 人）",
            f"no quorum, not held ({present} of {expected} present, "
            f"at least {q.minimum_present} needed)",
        ),
        "present": present,
        "expected": expected,
        "issued": None,
        "returned": None,
        "valid": None,
        "invalid": None,
        "remote": 0,
        "seats": r.seats,
        "threshold": None,
        "base": None,
        "threshold_text": _t(
            lang, "未进行选举，不计票，无过半数线", "not held: not counted, no threshold"
        ),
        "rows": [],
        "others": None,
    }


def _round_view(
    r: RoundLine,
    ballot: tuple[MemberId, ...],
    name: Any,
    elected_anywhere: set[MemberId],
    *,
    public: bool,
    lang: str,
) -> dict[str, Any]:
    counted = r.status is RoundStatus.COUNTED
    status_text, threshold_text = _status_texts(r, lang)
    rows, others = _candidate_rows(r, ballot, name, elected_anywhere, public=public, lang=lang)
    return {
        "number": r.number,
        "title": round_wording_line(r.number, r.purpose, r.revote_of, lang),
        "purpose": r.purpose.value,
        "status": r.status.value,
        "status_text": status_text,
        "present": r.present,
        "expected": r.expected,
        "issued": r.issued,
        "returned": r.returned,
        "valid": r.valid_ballots if counted else None,
        "invalid": r.invalid_ballots if counted else None,
        "remote": None if public else r.remote_ballots,
        "seats": r.seats,
        "threshold": r.threshold,
        "base": r.base if r.threshold is not None else None,
        "threshold_text": threshold_text,
        "rows": rows,
        "others": others,
    }


def _status_texts(r: RoundLine, lang: str) -> tuple[str, str]:
    """The round's status and its threshold line: (R11) void, not counted; (R15) a runoff has no
    threshold; (R13, R21) more than half of the base."""
    if r.status is RoundStatus.VOID:
        return (
            _t(
                lang,
                f"本轮无效：收回 {r.returned} 张，多于发出的 {r.issued} 张，须重新投票",
                f"void: {r.returned} returned, more than the {r.issued} issued; voted again",
            ),
            _t(lang, "本轮无效，不计票，无过半数线", "void: not counted, no threshold"),
        )
    if r.threshold is None:
        return (
            _t(lang, "已计票", "counted"),
            _t(
                lang,
                "再次投票：不适用过半数，无过半数线，只在票数相等的候选人中按得票多少确定当选（R15）",
                "runoff: no threshold; the tied candidates are ranked by approvals only (R15)",
            ),
        )
    return (
        _t(lang, "已计票", "counted"),
        _t(
            lang,
            f"过半数线：当选须得赞成票超过 {r.base} 的半数，即至少 {r.threshold} 票",
            f"threshold: more than half of {r.base}, i.e. at least {r.threshold} approvals",
        ),
    )


def _candidate_rows(
    r: RoundLine,
    ballot: tuple[MemberId, ...],
    name: Any,
    elected_anywhere: set[MemberId],
    *,
    public: bool,
    lang: str,
) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    """A row per candidate with approvals and what they made of the candidate (R14, R15), then
    the dropped (R22.3); on the public board (A13) a write-in who is on no ballot and elected
    nowhere is only added to the total of the others."""
    rows = []
    others_people = others_votes = 0
    for mid, votes in r.approvals:
        if public and mid not in ballot and mid not in elected_anywhere:
            others_people += 1
            others_votes += votes
            continue
        state, mark = _approval_mark(r, mid, votes, lang)
        rows.append({"name": name(mid), "votes": votes, "state": state, "mark": mark})
    for mid in r.dropped:  # (R22.3) out of the count: their approvals count for nobody
        rows.append(
            {
                "name": name(mid),
                "votes": "—",
                "state": "dropped",
                "mark": _t(
                    lang,
                    "不能当选本职（未当选委员，或已当选书记），退出本轮计票",
                    "cannot take the post (not elected to the committee, or elected secretary): "
                    "out of this count",
                ),
            }
        )
    if not others_people:
        return rows, None
    return rows, {
        "people": others_people,
        "votes": others_votes,
        "text": _t(
            lang,
            f"另选他人（{others_people} 人，未当选）合计 {others_votes} 票",
            f"write-ins ({others_people} people, not elected): {others_votes} approvals in all",
        ),
    }


def _approval_mark(r: RoundLine, mid: MemberId, votes: int, lang: str) -> tuple[str, str]:
    """What the round made of a candidate: elected, tied (R15), below the threshold, passed but
    the seats were filled (R14), or (a runoff) not elected."""
    if mid in r.elected:
        return "elected", _t(lang, "当选", "elected")
    if mid in r.tied:
        return "tied", _t(lang, "票数相等，再次投票", "tied: runoff")
    if r.threshold is not None and votes < r.threshold:
        return "below", _t(lang, "未过半数", "below the threshold")
    if r.threshold is not None:
        return "passed", _t(lang, "过半数，名额已满", "passed, seats filled")
    return "", _t(lang, "未当选", "not elected")


def _elected_view(
    x: ElectedIn, lines: dict[int, RoundLine], name: Any, lang: str
) -> dict[str, Any]:
    line = lines[x.round]
    passed = lines[x.passed_round]
    runoff = x.passed_round != x.round
    where = round_wording_line(line.number, line.purpose, line.revote_of, lang)
    if runoff:
        text = _t(
            lang,
            f"{where}得 {x.approvals} 票当选；此前在第{x.passed_round}轮"
            f"得 {x.passed_approvals} 票，已超过半数（过半数线 {passed.threshold} 票）",
            f"elected in {where} with {x.approvals} approvals; passed the threshold "
            f"({passed.threshold}) in round {x.passed_round} with {x.passed_approvals}",
        )
    elif line.threshold is not None:
        text = _t(
            lang,
            f"{where}得 {x.approvals} 票当选（过半数线 {line.threshold} 票）",
            f"elected in {where} with {x.approvals} approvals (threshold {line.threshold})",
        )
    else:
        text = _t(
            lang,
            f"{where}得 {x.approvals} 票当选（该轮不适用过半数）",
            f"elected in {where} with {x.approvals} approvals (no threshold in that round)",
        )
    return {
        "name": name(x.member),
        "round": x.round,
        "round_title": where,
        "approvals": x.approvals,
        "threshold": line.threshold,
        "runoff": runoff,
        "passed_round": x.passed_round,
        "passed_approvals": x.passed_approvals,
        "passed_threshold": passed.threshold,
        "text": text,
    }
