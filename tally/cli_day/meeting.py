"""`tally checkin`, `leave`, `issue`, `return` and `officials`: the meeting and its rounds' paper."""

from __future__ import annotations

from typing import Annotated, Any

import typer

import keys
from tally.cli_day.common import ActorOpt, DbArg, JsonOpt, KeyOpt, LangOpt, _post, _run, _signer
from tally.core.explain import spec_title
from tally.core.model import MemberId, PostKind
from tally.core.rules import quorum
from tally.election import ElectionSession

__all__ = ["checkin", "issue", "leave", "officials", "return_cmd"]


def checkin(
    db: DbArg,
    members: Annotated[list[str], typer.Argument(help="党员编号或姓名")],
    actor: ActorOpt = "",
    lang: LangOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """签到 / Check members in."""

    def act(lg: str) -> tuple[list[str], dict[str, Any]]:
        s = ElectionSession.open(db)
        ids = s.check_in(members, actor=actor)
        lines = _presence_lines(s, ids, lg, "签到")
        if len(ids) > 1:
            lines.insert(
                1,
                f"本次 {len(ids)} 人全部签到" if lg == "zh" else f"all {len(ids)} checked in",
            )
        return lines, {
            "checked_in": ids,
            "present": len(s.meeting.present),
        }

    _run(lang, as_json, act)


def leave(
    db: DbArg,
    members: Annotated[list[str], typer.Argument(help="党员编号或姓名")],
    actor: ActorOpt = "",
    lang: LangOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """离会 / Record members leaving the meeting."""

    def act(lg: str) -> tuple[list[str], dict[str, Any]]:
        s = ElectionSession.open(db)
        ids = s.leave(members, actor=actor)
        return _presence_lines(s, ids, lg, "离会"), {
            "left": ids,
            "present": len(s.meeting.present),
        }

    _run(lang, as_json, act)


def issue(
    db: DbArg,
    key: KeyOpt,
    count: Annotated[
        int | None, typer.Option("--count", help="发出张数（默认等于实到人数）")
    ] = None,
    members: Annotated[
        list[str] | None, typer.Option("--member", help="委员会全体会议到会委员（可多次）")
    ] = None,
    actor: ActorOpt = "",
    lang: LangOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """核对法定人数，开始本轮并发出选票 / Check the quorum, open the round, issue ballots."""

    def act(lg: str) -> tuple[list[str], dict[str, Any]]:
        s = ElectionSession.open(db)
        spec, n = s.issue(
            count=count,
            signer=_signer(key, keys.Role.WORK_GROUP),
            present_members=members or (),
            actor=actor,
        )
        lines = [
            spec_title(spec, lg),
            f"发出选票 {n} 张" if lg == "zh" else f"{n} ballots issued",
        ]
        joint = s.sitting() if spec.post is PostKind.COMMITTEE and spec.number == 1 else ()
        for j in joint:  # (R22.2) the other posts' ballots, issued together
            lines += [
                spec_title(j, lg),
                f"同时发出选票 {n} 张（直接选举：各职位选票一并发出，先计委员选票）"
                if lg == "zh"
                else f"{n} ballots issued with them (direct election: every post's ballots "
                "together; the committee ballots are counted first)",
            ]
        data: dict[str, Any] = {"post": spec.post.value, "round": spec.number, "issued": n}
        if joint:
            data["joint"] = [{"post": j.post.value, "round": j.number, "issued": n} for j in joint]
        return lines, data

    _run(lang, as_json, act)


def return_cmd(
    db: DbArg,
    count: Annotated[int, typer.Option("--count", min=0, help="收回张数")],
    key: KeyOpt,
    post: Annotated[
        str | None,
        typer.Option(
            "--post",
            help="直接选举联合投票中另一种选票（secretary 书记 / deputy 副书记）"
            " / another ballot kind of a direct election's joint vote",
        ),
    ] = None,
    actor: ActorOpt = "",
    lang: LangOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """开箱清点收回的选票 / Record the ballots returned (more than issued voids the round)."""

    def act(lg: str) -> tuple[list[str], dict[str, Any]]:
        s = ElectionSession.open(db)
        kind = _post(post) if post is not None else None
        cur = s.meeting.current
        if kind is not None and (cur is None or cur.spec.post is not kind):
            cur = next((h for h in s.meeting.held if h.spec.post is kind), None)
        issued = cur.issued if cur else None
        valid = s.return_ballots(
            count, signer=_signer(key, keys.Role.WORK_GROUP), actor=actor, post=kind
        )
        if valid:
            lines = [
                f"发出 {issued} 张，收回 {count} 张，本轮选举有效（R11）"
                if lg == "zh"
                else f"{issued} issued, {count} returned: the round is valid (R11)"
            ]
        else:
            lines = [
                f"发出 {issued} 张，收回 {count} 张，收回多于发出，本轮选举无效，须重新投票（R11）"
                if lg == "zh"
                else f"{issued} issued, {count} returned: the round is VOID and is voted again (R11)"
            ]
        return lines, {"valid": valid, "issued": issued, "returned": count}

    _run(lang, as_json, act)


def officials(
    db: DbArg,
    scrutineers: Annotated[
        list[str], typer.Option("--scrutineer", help="监票人编号或姓名（可多次）")
    ],
    tellers: Annotated[list[str], typer.Option("--teller", help="计票人编号或姓名（可多次）")],
    actor: ActorOpt = "",
    lang: LangOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """记录此后各轮的监票人和计票人（R25）/ Record the officials of the rounds from now on."""

    def act(lg: str) -> tuple[list[str], dict[str, Any]]:
        s = ElectionSession.open(db)
        s.change_officials(scrutineers, tellers, actor=actor)
        names = s.manifest.election
        scr = "、".join(names.member(MemberId(s.resolve_member(x))).name for x in scrutineers)
        tel = "、".join(names.member(MemberId(s.resolve_member(x))).name for x in tellers)
        line = (
            f"此后各轮的监票人：{scr}；计票人：{tel}（R25）"
            if lg == "zh"
            else f"officials of the rounds from now on: scrutineers {scr}; tellers {tel} (R25)"
        )
        return [line], {"scrutineers": scrutineers, "tellers": tellers}

    _run(lang, as_json, act)


def _presence_lines(s: ElectionSession, ids: list[Any], lg: str, verb: str) -> list[str]:
    e = s.manifest.election
    present = len(s.meeting.present)
    q = quorum(present, s.meeting.expected, e.parameters.quorum_comparison)
    names = "、".join(f"{e.member(i).name}（{i}）" for i in ids)
    if lg == "zh":
        return [
            f"{verb}：{names}",
            f"到会有选举权 {present} 人 / 应到 {s.meeting.expected} 人，"
            f"会议有效需至少 {q.minimum_present} 人",
        ]
    return [
        f"{'checked in' if verb == '签到' else 'left'}: {', '.join(ids)}",
        f"present {present} of {s.meeting.expected}; quorum needs {q.minimum_present}",
    ]
