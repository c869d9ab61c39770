"""The station's pages as data: plain functions from the election session to the dicts the
templates render (no request, no response, no file system: testable without HTTP).

Each runs on the election thread (``ServiceState.run``): every read of the store happens there.
What a page needs from outside the session (the signed-in official, the station's pending first
entries, the scrutineers' key labels, which files exist) is passed in by ``routes``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Final

import ballot_printer
import keys
from tally.core.ballots import INVALID_REASONS, Ballot, Mark, judge_ballot
from tally.core.explain import describe_next, describe_outcome, describe_quorum, spec_title
from tally.core.manifest import canonical
from tally.core.meeting import parse_entry
from tally.core.model import MemberId, PostKind, zh_label
from tally.core.rounds import (
    Blocked,
    ElectingBody,
    Finished,
    RoundOutcome,
    RoundSpec,
    RoundStatus,
    joint_rounds,
)
from tally.core.rules import plenary_quorum, quorum, threshold_base
from tally.election import ElectionSession, EntryInput
from tally.log.checkpoint import signer_name
from tally.service.rounds_view import post_views

MARKS = (
    ("o", "○", "赞成", "approve"),
    ("x", "×", "不赞成", "disapprove"),
    ("-", "空", "弃权", "abstain"),
    ("?", "?", "无法辨认", "unreadable"),
)


@dataclass(frozen=True)
class Pending:
    """A ballot entered once in double-entry mode, waiting for a second teller (not counted)."""

    teller: str
    item: EntryInput
    code: str


# (spec/ballot-qr.md Q1, `qr.procedure_ballot`) what a teller is told on scanning a procedure
# ballot: what the paper is and what to do with it; scanning it again would not help.
PROCEDURE_BALLOT: Final = (
    "这是推荐票或测评票（换届推荐、测评用票），不是选举票，不能录入选举。"
    "请把这张票交给监票人另行处理，不要重复扫描",
    "this is a procedure ballot (a recommendation or evaluation ballot), not an election "
    "ballot; it cannot be entered in the election. Hand it to the scrutineers; do not scan it "
    "again",
)


def msg(lang: str, zh: str, en: str) -> str:
    """The message in the reader's language."""
    return zh if lang == "zh" else en


def post_label(post: PostKind, lang: str) -> str:
    return zh_label(post) if lang == "zh" else post.value


def names(s: ElectionSession, ids: Sequence[str]) -> list[str]:
    e = s.manifest.election
    out = []
    for i in ids:
        try:
            out.append(e.member(MemberId(str(i))).name)
        except KeyError:
            out.append(str(i))
    return out


def quorum_view(s: ElectionSession, lang: str) -> dict[str, Any]:
    m = s.meeting
    q = quorum(len(m.present), m.expected, s.manifest.election.parameters.quorum_comparison)
    return {
        "present": len(m.present),
        "expected": m.expected,
        "minimum": q.minimum_present,
        "valid": q.valid,
        "text": describe_quorum(q, lang),
    }


def round_view(s: ElectionSession, lang: str) -> dict[str, Any]:
    """The round in progress or due, and what its next step is."""
    m = s.meeting
    cur = m.current
    if cur is not None:
        spec = cur.spec
        step = (
            "issue"
            if cur.issued is None
            else "return"
            if cur.returned is None
            else "enter"
            if len(cur.entered) < cur.returned
            else "close"
        )
        return {
            "title": spec_title(spec, lang),
            "spec": spec,
            "open": True,
            "issued": cur.issued,
            "returned": cur.returned,
            "entered": len(cur.entered),
            "present": cur.present,
            "step": step,
            "stock": m.stocks.get((spec.post, spec.number)),
            "candidates": names(s, spec.candidates),
            "seats": spec.seats,
        }
    if m.result is not None:
        return {"title": "", "spec": None, "open": False, "step": "done"}
    due = m.due()
    if isinstance(due, RoundSpec):
        # (R22.2) a direct election's joint opening needs every post's round-1 stock first
        unprinted = [
            r
            for r in (due, *(joint_rounds(m.rounds) if due.post is PostKind.COMMITTEE else ()))
            if (r.post, r.number) not in m.stocks
        ]
        stock = None if unprinted else m.stocks.get((due.post, due.number))
        return {
            "title": spec_title(due, lang),
            "spec": due,
            "open": False,
            "issued": None,
            "returned": None,
            "entered": 0,
            "present": len(m.present),
            "step": "issue" if stock else "print",
            "stock": stock,
            "candidates": names(s, due.candidates),
            "seats": due.seats,
        }
    if isinstance(due, Finished):
        return {"title": "", "spec": None, "open": False, "step": "result"}
    return {"title": "", "spec": None, "open": False, "step": "blocked"}


def signoff(s: ElectionSession, lang: str) -> list[dict[str, Any]]:
    """Every round-closed and result checkpoint with the scrutineers who signed it."""
    signers = [
        (signer_name(pk), pk.label)
        for pk in (keys.parse_public_key(canonical(k)) for k in s.manifest.scrutineer_keys)
    ]
    out = []
    for cp in s.store.checkpoints():
        if not (cp.reason.startswith("round-closed") or cp.reason == "result"):
            continue
        have = {n for n, _ in cp.signature_lines}
        if cp.reason == "result":
            what = msg(lang, "选举结果", "election result")
        else:
            _, post, number = cp.reason.split(" ")
            what = msg(
                lang,
                f"{zh_label(PostKind(post))}选举 第{number}轮",
                f"{post} round {number}",
            )
        out.append(
            {
                "what": what,
                "signers": [{"label": label, "signed": n in have} for n, label in signers],
                "complete": all(n in have for n, _ in signers),
            }
        )
    return out


def version(s: ElectionSession) -> str:
    signatures = sum(len(cp.signature_lines) for cp in s.store.checkpoints())
    return f"{s.meeting.size}.{signatures}"


def common(s: ElectionSession, lang: str) -> dict[str, Any]:
    e = s.manifest.election
    return {
        "election": e,
        "quorum": quorum_view(s, lang),
        "round": round_view(s, lang),
        "version": version(s),
    }


def overview(s: ElectionSession, lang: str) -> dict[str, Any]:
    e = s.manifest.election
    m = s.meeting
    posts = [
        {
            "label": post_label(p.kind, lang),
            "seats": p.seats,
            "candidates": names(s, p.candidates),
            "elected": names(s, p.elected),
        }
        for p in m.rounds.posts
    ]
    rounds = [
        {
            "title": spec_title(o.spec, lang),
            "status": o.status.value,
            "summary": outcome_summary(s, o, lang),
        }
        for o in m.rounds.outcomes
    ]
    return {
        "posts": posts,
        "rounds": rounds,
        "next": (
            msg(lang, "选举结果已宣布。", "The result has been recorded.")
            if m.result is not None
            else describe_next(m.due(), e, lang)
        ),
        "signoff": signoff(s, lang),
    }


def outcome_summary(s: ElectionSession, o: RoundOutcome, lang: str) -> str:
    if o.status is RoundStatus.QUORUM_FAILED:
        return msg(lang, "未达到法定人数，未进行选举", "no quorum: not held")
    if o.status is RoundStatus.VOID:
        return msg(
            lang,
            f"发出 {o.issued} 张，收回 {o.returned} 张：本轮无效，重新投票",
            f"{o.issued} issued, {o.returned} returned: void, voted again",
        )
    parts = []
    if o.elected:
        parts.append(msg(lang, "当选：", "elected: ") + "、".join(names(s, o.elected)))
    if o.tied:
        parts.append(
            msg(lang, "票数相等，再次投票：", "tie, runoff: ") + "、".join(names(s, o.tied))
        )
    if o.shortfall:
        parts.append(msg(lang, f"尚缺 {o.shortfall} 名，另行选举", f"{o.shortfall} seat(s) open"))
    return "；".join(parts) or msg(lang, "无人当选", "nobody elected")


def checkin(s: ElectionSession, q: str) -> dict[str, Any]:
    e = s.manifest.election
    m = s.meeting
    remote = set(e.remote_voting.approved)
    needle = q.strip().lower()
    rows = []
    for member in e.members:
        if (
            needle
            and needle not in member.name.lower()
            and not member.id.lower().startswith(needle)
        ):
            continue
        elector = member.id in m.expected_ids
        rows.append(
            {
                "id": member.id,
                "name": member.name,
                "present": member.id in m.present,
                "elector": elector,
                "remote": member.id in remote,
                "homonym": sum(1 for x in e.members if x.name == member.name) > 1,
            }
        )
    return {
        "q": q,
        "rows": rows,
        "present_names": sorted(names(s, sorted(m.present))),
        "open_round": m.current is not None,
    }


def joint_view(s: ElectionSession, lang: str) -> list[dict[str, Any]]:
    """(R22.2) The other rounds of a direct election's joint opening: due with the committee's
    first round, or held (ballots issued together) until their count."""
    m = s.meeting
    if m.held:
        return [
            {
                "post": h.spec.post.value,
                "title": spec_title(h.spec, lang),
                "issued": h.issued,
                "returned": h.returned,
                "stock": (h.spec.post, h.spec.number) in m.stocks,
            }
            for h in m.held
        ]
    if m.current is not None:
        return []
    return [
        {
            "post": r.post.value,
            "title": spec_title(r, lang),
            "issued": None,
            "returned": None,
            "stock": (r.post, r.number) in m.stocks,
        }
        for r in joint_rounds(m.rounds)
    ]


def ballots(s: ElectionSession, lang: str) -> dict[str, Any]:
    m = s.meeting
    rv = round_view(s, lang)
    spec: RoundSpec | None = rv["spec"]
    plenary: list[dict[str, str]] = []
    quorum_text = describe_quorum(
        quorum(len(m.present), m.expected, s.manifest.election.parameters.quorum_comparison),
        lang,
    )
    if spec is not None and spec.body is ElectingBody.PLENARY:
        plenary = [
            {"id": i, "name": n}
            for i, n in zip(
                m.rounds.elected(PostKind.COMMITTEE),
                names(s, m.rounds.elected(PostKind.COMMITTEE)),
                strict=True,
            )
        ]
        quorum_text = describe_quorum(plenary_quorum(0, spec.expected), lang)
    verdict = None
    cur = m.current
    if cur is not None and cur.issued is not None and cur.returned is not None:
        verdict = msg(
            lang,
            f"发出选票 {cur.issued} 张，收回 {cur.returned} 张，"
            "收回不多于发出，本轮选举有效（R11）",
            f"{cur.issued} issued, {cur.returned} returned: the round is valid (R11)",
        )
    last_void = next((o for o in reversed(m.rounds.outcomes) if o.status is RoundStatus.VOID), None)
    return {
        "joint": joint_view(s, lang),
        "plenary": plenary,
        "quorum_text": quorum_text,
        "verdict": verdict,
        "suggested_count": len(m.present) + 2,
        "last_void": (
            describe_outcome(last_void, s.manifest.election, lang)[-1]
            if last_void is not None and m.current is None
            else None
        ),
    }


def entry_actor(s: ElectionSession, seq: int) -> str:
    for row_seq, raw in reversed(s.store.log_rows()):
        if row_seq == seq:
            return parse_entry(raw).actor
    return ""


def count(
    s: ElectionSession,
    me: str,
    pending: Sequence[Pending],
    key_labels: Sequence[str],
) -> dict[str, Any]:
    """The count page of official ``me``: the grid, their last entry (which they may withdraw),
    the first entries waiting for a second teller, and the scrutineers who may confirm an invalid
    ballot (``key_labels``, in the order of the service's key files)."""
    m = s.meeting
    cur = m.current
    ctx: dict[str, Any] = {
        "ready": False,
        "mine": None,
        "pending": [],
        "double_entry": s.meeting.double_entry,
        "write_rows": 0,
    }
    if cur is None or cur.returned is None:
        return ctx
    ctx["ready"] = True
    ctx["candidates"] = [
        {"index": i, "id": c, "name": n}
        for i, (c, n) in enumerate(
            zip(cur.spec.candidates, names(s, cur.spec.candidates), strict=True)
        )
    ]
    # One row more than the paper has: a name written beyond the rows (R9.5, invalid ballot).
    ctx["write_rows"] = cur.spec.seats + 1
    ctx["complete"] = len(cur.entered) >= cur.returned
    # (R8.5) entering a returned ballot as invalid by decision, confirmed by a scrutineer.
    ctx["invalid_reasons"] = [
        {"code": c, "zh": zh, "en": en} for c, (zh, en) in INVALID_REASONS.items()
    ]
    ctx["scrutineer_keys"] = [{"index": i, "name": label} for i, label in enumerate(key_labels)]
    if cur.entered:
        last = cur.entered[-1]
        actor = entry_actor(s, last.seq)
        if me in actor.split("+"):
            ctx["mine"] = {
                "ballot_id": last.ballot_id,
                "code": ballot_printer.ballot_code(bytes.fromhex(last.ballot_id))
                if last.ballot_id
                else "—",  # an invalid ballot without QR (R8.5)
            }
    ctx["pending"] = [{"code": p.code, "teller": p.teller} for p in pending]
    return ctx


def running_tally(
    s: ElectionSession, lang: str, pick: tuple[str, str] | None = None
) -> dict[str, Any]:
    """The chart: the open round's approvals so far, or the last counted round's outcome, or
    the counted round ``pick`` = (post, round number) asked for from the rounds listed below it."""
    m = s.meeting
    e = s.manifest.election
    cur = m.current
    counted = [o for o in m.rounds.outcomes if o.status is RoundStatus.COUNTED]
    chosen = [o for o in counted if pick == (o.spec.post.value, str(o.spec.number))]
    if chosen:
        counted = chosen
    elif cur is not None and cur.returned is not None:
        spec = cur.spec
        votes = dict.fromkeys(spec.candidates, 0)
        valid = invalid = 0
        for eb in cur.entered:
            v = judge_ballot(
                eb.ballot,
                candidates=spec.candidates,
                seats=spec.seats,
                params=e.parameters,
                write_in_eligible=lambda _m: True,
            )
            valid += v.valid
            invalid += not v.valid
            for mid in v.approvals:
                if mid in votes:
                    votes[mid] += 1
        base = (
            spec.expected
            if spec.body is ElectingBody.PLENARY
            else threshold_base(e.parameters, spec.expected, cur.present)
        )
        minimum = base // 2 + 1 if spec.apply_threshold else None
        return {"histories": histories(s, lang, spec.post)} | chart(
            s,
            lang,
            title=spec_title(spec, lang),
            approvals=list(votes.items()),
            minimum=minimum,
            base=base,
            live=True,
            entered=len(cur.entered),
            returned=cur.returned,
            valid=valid,
            invalid=invalid,
            elected=(),
            tied=(),
        )
    if not counted:
        return {"chart": None, "histories": []}
    o = counted[-1]
    return {"histories": histories(s, lang, o.spec.post)} | chart(
        s,
        lang,
        title=spec_title(o.spec, lang),
        approvals=list(o.approvals),
        minimum=o.minimum_to_pass if o.spec.apply_threshold else None,
        base=o.base,
        live=False,
        entered=o.valid_ballots + o.invalid_ballots,
        returned=o.returned,
        valid=o.valid_ballots,
        invalid=o.invalid_ballots,
        elected=o.elected,
        tied=o.tied,
    )


def chart(
    s: ElectionSession,
    lang: str,
    *,
    title: str,
    approvals: list[tuple[MemberId, int]],
    minimum: int | None,
    base: int,
    live: bool,
    entered: int,
    returned: int,
    valid: int,
    invalid: int,
    elected: tuple[MemberId, ...],
    tied: tuple[MemberId, ...],
) -> dict[str, Any]:
    """Inline SVG geometry (attributes only: the CSP forbids inline styles).

    No label ever crosses the threshold line: the names end left of the bars, the approvals
    stand in their own column right of the full track (the line is never right of the track:
    the scale covers the threshold base), and the line's own label starts right of the line.
    """
    scale_max = max([base, *(v for _, v in approvals), 1])
    label_w, bar_w, row_h, top = 230, 640, 64, 50
    votes_x = label_w + bar_w + 24
    rows = []
    for i, (mid, v) in enumerate(approvals):
        state = "elected" if mid in elected else "tied" if mid in tied else ""
        if not state and minimum is not None and v >= minimum:
            state = "passing"
        rows.append(
            {
                "y": top + i * row_h,
                "name": names(s, [mid])[0],
                "votes": v,
                "w": round(bar_w * v / scale_max, 1),
                "state": state,
                "mark": {
                    "elected": msg(lang, "当选", "elected"),
                    "tied": msg(lang, "票数相等", "tied"),
                }.get(state, ""),
            }
        )
    line_x = label_w + round(bar_w * minimum / scale_max, 1) if minimum is not None else None
    return {
        "chart": {
            "title": title,
            "rows": rows,
            "label_w": label_w,
            "bar_w": bar_w,
            "height": top + len(rows) * row_h + 20,
            "line_x": line_x,
            "votes_x": votes_x,
            "width": votes_x + 200,
            "minimum": minimum,
            "base": base,
            "live": live,
            "entered": entered,
            "returned": returned,
            "valid": valid,
            "invalid": invalid,
        }
    }


def result(s: ElectionSession, lang: str) -> dict[str, Any]:
    m = s.meeting
    e = s.manifest.election
    due = m.due()
    blocked = isinstance(due, Blocked)
    shortfall_posts = [
        {"value": p.kind.value, "label": post_label(p.kind, lang), "seats": p.seats}
        for p in m.rounds.posts
        if len(p.elected) < p.seats
    ]
    return {
        "histories": histories(s, lang),
        "signoff": signoff(s, lang),
        "next": (
            msg(lang, "选举结果已宣布。", "The result has been recorded.")
            if m.result is not None
            else describe_next(due, e, lang)
        ),
        "finished": isinstance(due, Finished) and m.current is None,
        "result": m.result,
        "result_lines": result_lines(s, lang),
        "blocked": blocked,
        "decision_posts": shortfall_posts if m.current is None and m.result is None else [],
        "published": False,
    }


def histories(s: ElectionSession, lang: str, post: PostKind | None = None) -> list[dict[str, Any]]:
    """Every round of each post (or of ``post``) and who was elected in which round (A13), with
    each counted round's counting lines for the work group."""
    e = s.manifest.election
    outcomes = {(o.spec.post.value, o.spec.number): o for o in s.meeting.rounds.outcomes}
    views = [
        v for v in post_views(s, lang, public=False) if post is None or v["post"] == post.value
    ]
    for v in views:
        for r in v["rounds"]:
            o = outcomes.get((v["post"], r["number"]))
            held = o is not None and r["status"] == o.status.value
            r["lines"] = describe_outcome(o, e, lang)[1:] if held and o is not None else []
    return views


def result_lines(s: ElectionSession, lang: str) -> list[str]:
    r = s.meeting.result
    if r is None:
        return []
    lines = [
        f"{post_label(PostKind(post), lang)}{msg(lang, '：', ': ')}{'、'.join(names(s, ids))}"
        for post, ids in r["elected"].items()
    ]
    lines.append(
        msg(
            lang,
            f"公示期：{r['publicity_start']} 至 {r['publicity_end']}",
            f"publicity: {r['publicity_start']} to {r['publicity_end']}",
        )
    )
    return lines


def downloads(
    s: ElectionSession, lang: str, stock_exists: Callable[[str], bool], published: bool
) -> dict[str, Any]:
    """The files to download: each printed stock whose PDF ``stock_exists`` (by file name), the
    tally sheet of the round in progress, and whether the bundle is ``published``."""
    stocks = []
    for post, number in sorted(s.meeting.stocks, key=lambda k: (k[0].value, k[1])):
        name = f"{post.value}-{number}.pdf"
        printed = s.meeting.stocks[(post, number)]
        if stock_exists(name):
            stocks.append(
                {
                    "name": name,
                    "label": msg(
                        lang,
                        f"{zh_label(post)}选票 第{number}轮（{printed} 张）",
                        f"{post.value} ballots, round {number} ({printed})",
                    ),
                }
            )
    sheets = []
    rv = round_view(s, lang)
    spec: RoundSpec | None = rv["spec"]
    if spec is not None:
        sheets.append(
            {"name": f"{spec.post.value}-{spec.number}.pdf", "label": spec_title(spec, lang)}
        )
    return {
        "stocks": stocks,
        "sheets": sheets,
        "published": published,
        "has_result": s.meeting.result is not None,
        "missing": s.missing_cosignatures(),
    }


def mismatch(
    s: ElectionSession, spec: RoundSpec, first: Pending, second: EntryInput, me: str
) -> dict[str, Any]:
    symbol = {m: sym for m, sym, _, _ in MARKS}
    rows = [
        {
            "name": name,
            "a": symbol.get(a, a),
            "b": symbol.get(b, b),
            "differs": a != b,
        }
        for name, a, b in zip(
            names(s, spec.candidates), first.item.marks, second.marks, strict=True
        )
    ]
    wa, wb = list(first.item.write_ins), list(second.write_ins)
    for i in range(max(len(wa), len(wb))):
        a = wa[i] if i < len(wa) else ""
        b = wb[i] if i < len(wb) else ""
        rows.append({"name": f"另选 {i + 1}", "a": a, "b": b, "differs": a != b})
    return {"code": first.code, "first": first.teller, "second": me, "rows": rows}


def verdict_text(s: ElectionSession, ballot: Ballot, spec: RoundSpec, lang: str) -> str:
    v = judge_ballot(
        ballot,
        candidates=spec.candidates,
        seats=spec.seats,
        params=s.manifest.election.parameters,
        write_in_eligible=lambda _m: True,
    )
    if v.valid:
        return msg(
            lang,
            f"有效票，所选 {v.choices} 人（应选 {spec.seats} 人）",
            f"valid ballot, {v.choices} choice(s) of {spec.seats}",
        )
    if "ballot.write_in_rows" in v.notes:
        return msg(
            lang,
            f"无效票：另选人 {len(ballot.write_ins)} 名，多于选票上的 {spec.seats} 行",
            f"invalid ballot: {len(ballot.write_ins)} write-ins for {spec.seats} row(s)",
        )
    if Mark.UNREADABLE in ballot.marks and "ballot.overvote" not in v.notes:
        return msg(lang, "无效票（标记无法辨认）", "invalid ballot (unreadable mark)")
    return msg(
        lang,
        f"无效票：所选 {v.choices} 人，多于应选 {spec.seats} 人",
        f"invalid ballot: {v.choices} choices for {spec.seats} seat(s)",
    )
