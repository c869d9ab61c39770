"""`tally close`, `cosign`, `reduce-seats`, the amended lists and `status`: counting and deciding."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

import keys
from tally.cli_day.common import ActorOpt, DbArg, JsonOpt, KeyOpt, LangOpt, _post, _run, _signer
from tally.cli_input import read_input
from tally.cli_rounds import rounds_json, rounds_lines
from tally.core.explain import describe_next, describe_outcome, describe_quorum, spec_title
from tally.core.model import zh_label
from tally.core.rules import quorum
from tally.election import ElectionSession
from tally.manifest_io import MAX_AMENDED_LIST_BYTES, sign_amended_list
from tally.session_errors import SessionError

__all__ = [
    "amend_candidates",
    "amend_request",
    "amend_sign",
    "close",
    "cosign",
    "reduce_seats_cmd",
    "status",
]


def close(
    db: DbArg,
    key: KeyOpt,
    actor: ActorOpt = "",
    lang: LangOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """计票并记录本轮结果 / Count the round and record its outcome."""

    def act(lg: str) -> tuple[list[str], dict[str, Any]]:
        s = ElectionSession.open(db)
        outcome_spec = s.meeting.current
        e = s.close(signer=_signer(key, keys.Role.WORK_GROUP), actor=actor)
        outcome = s.meeting.rounds.outcomes[-1]
        assert outcome_spec is not None
        lines = describe_outcome(outcome, s.manifest.election, lg)
        lines.append(describe_next(s.meeting.due(), s.manifest.election, lg))
        lines.append(
            "请监票人签名确认（tally cosign）"
            if lg == "zh"
            else "scrutineers: co-sign with tally cosign"
        )
        return lines, {"outcome": dict(e.body)}

    _run(lang, as_json, act)


def cosign(
    db: DbArg,
    key: Annotated[Path, typer.Option("--key", help="监票人密钥文件")],
    lang: LangOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """监票人签名确认各轮结果 / A scrutineer co-signs the round results."""

    def act(lg: str) -> tuple[list[str], dict[str, Any]]:
        s = ElectionSession.open(db)
        n = s.cosign(_signer(key, keys.Role.SCRUTINEER))
        return (
            [f"已签名 {n} 个检查点" if lg == "zh" else f"{n} checkpoint(s) signed"],
            {"signed": n},
        )

    _run(lang, as_json, act)


def reduce_seats_cmd(
    db: DbArg,
    kind: Annotated[str, typer.Option("--kind")],
    seats: Annotated[int, typer.Option("--seats", help="减少后的名额")],
    consent: Annotated[int, typer.Option("--consent", help="党员大会同意人数")],
    agreement: Annotated[str, typer.Option("--agreement", help="上级同意的文件")],
    actor: ActorOpt = "",
    lang: LangOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """记录减少名额的决定（R17）/ Record a seat reduction decision."""

    def act(lg: str) -> tuple[list[str], dict[str, Any]]:
        s = ElectionSession.open(db)
        s.reduce_seats(_post(kind), seats=seats, consent=consent, agreement=agreement, actor=actor)
        return [describe_next(s.meeting.due(), s.manifest.election, lg)], {"seats": seats}

    _run(lang, as_json, act)


def amend_request(
    db: DbArg,
    kind: Annotated[str, typer.Option("--kind")],
    candidates: Annotated[list[str], typer.Argument(help="候选人编号或姓名，按批准顺序")],
    approval: Annotated[str, typer.Option("--approval", help="镇党委批准的文号")],
    out: Annotated[Path, typer.Option("--out", help="写出待镇党委签署的名单文件")],
    lang: LangOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """写出待镇党委签署的调整后候选人名单（RS7）/ Write an amended list for the town to sign."""

    def act(lg: str) -> tuple[list[str], dict[str, Any]]:
        s = ElectionSession.open(db)
        raw, zh, en = s.amend_request(_post(kind), candidates, approval=approval)
        if out.exists():
            raise SessionError(
                "file.exists", zh=f"{out} 已存在，不覆盖", en=f"{out} exists; not overwritten"
            )
        out.write_bytes(raw)
        warn = ["提醒：" + w for w in zh] if lg == "zh" else ["warning: " + w for w in en]
        done = (
            f"已写出 {out}：请交镇党委用其密钥签署（tally amend-sign），"
            "再用 tally amend-candidates 记录签署后的名单"
            if lg == "zh"
            else f"wrote {out}: the town committee signs it (tally amend-sign), then record "
            "the signed list with tally amend-candidates"
        )
        return [*warn, done], {"request": str(out), "warnings": list(zh if lg == "zh" else en)}

    _run(lang, as_json, act)


def amend_sign(
    request: Annotated[Path, typer.Argument(help="amend-request 写出的名单文件")],
    key: Annotated[Path, typer.Option("--key", help="镇党委密钥文件")],
    out: Annotated[Path, typer.Option("--out", help="写出签署后的名单文件")],
    lang: LangOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """镇党委签署调整后的候选人名单（RS7）/ The town committee signs an amended list."""

    def act(lg: str) -> tuple[list[str], dict[str, Any]]:
        signed = sign_amended_list(
            read_input(request, limit=MAX_AMENDED_LIST_BYTES),
            _signer(key, keys.Role.TOWN_COMMITTEE),
        )
        if out.exists():
            raise SessionError(
                "file.exists", zh=f"{out} 已存在，不覆盖", en=f"{out} exists; not overwritten"
            )
        out.write_bytes(signed)
        return [f"已签署：{out}" if lg == "zh" else f"signed: {out}"], {"signed": str(out)}

    _run(lang, as_json, act)


def amend_candidates(
    db: DbArg,
    signed: Annotated[Path, typer.Argument(help="镇党委签署的名单文件（tally amend-sign）")],
    actor: ActorOpt = "",
    lang: LangOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """记录镇党委签署的调整后候选人名单（RS7、R16、R20）/ Record a town-signed amended list."""

    def act(lg: str) -> tuple[list[str], dict[str, Any]]:
        s = ElectionSession.open(db)
        zh, en = s.amend_candidates(read_input(signed, limit=MAX_AMENDED_LIST_BYTES), actor=actor)
        warn = ["提醒：" + w for w in zh] if lg == "zh" else ["warning: " + w for w in en]
        return [*warn, describe_next(s.meeting.due(), s.manifest.election, lg)], {
            "warnings": list(zh if lg == "zh" else en)
        }

    _run(lang, as_json, act)


def status(db: DbArg, lang: LangOpt = None, as_json: JsonOpt = False) -> None:
    """会议和本轮的实时状态 / The live state of the meeting and the round."""

    def act(lg: str) -> tuple[list[str], dict[str, Any]]:
        s = ElectionSession.open(db)
        return _status(s, lg)

    _run(lang, as_json, act)


def _status(s: ElectionSession, lg: str) -> tuple[list[str], dict[str, Any]]:
    e = s.manifest.election
    m = s.meeting
    zh = lg == "zh"
    q = quorum(len(m.present), m.expected, e.parameters.quorum_comparison)
    lines = [f"{e.title}（{e.term}）" if zh else f"{e.title} ({e.term})", describe_quorum(q, lg)]
    data: dict[str, Any] = {
        "present": len(m.present),
        "expected": m.expected,
        "quorum_valid": q.valid,
        "log_entries": m.size,
    }
    for p in m.rounds.posts:
        names = ("、" if zh else ", ").join(
            f"{e.member(i).name}（{i}）" if zh else f"{e.member(i).name} ({i})" for i in p.elected
        ) or ("无" if zh else "none")
        lines.append(
            f"{zh_label(p.kind)}：应选 {p.seats} 名，已当选：{names}"
            if zh
            else f"{p.kind.value}: {p.seats} seat(s); elected: {names}"
        )
    lines.extend(rounds_lines(s, lg))  # every round so far, each elected with its round (A13)
    data["posts"] = rounds_json(s)
    cur = m.current
    if cur is not None:
        lines.append(
            f"进行中：{spec_title(cur.spec, lg)}；发出 {cur.issued if cur.issued is not None else '-'}，"
            f"收回 {cur.returned if cur.returned is not None else '-'}，已录入 {len(cur.entered)}"
            if zh
            else f"in progress: {spec_title(cur.spec, lg)}; issued {cur.issued}, returned {cur.returned}, "
            f"entered {len(cur.entered)}"
        )
        data["round"] = {
            "post": cur.spec.post.value,
            "round": cur.spec.number,
            "issued": cur.issued,
            "returned": cur.returned,
            "entered": len(cur.entered),
        }
    for h in m.held:  # (R22.2) issued with the committee ballots, counted after them
        lines.append(
            f"待计票：{spec_title(h.spec, lg)}；与委员选票一并发出 "
            f"{h.issued if h.issued is not None else '-'}，"
            f"收回 {h.returned if h.returned is not None else '-'}"
            if zh
            else f"waiting for its count: {spec_title(h.spec, lg)}; issued with the committee "
            f"ballots {h.issued}, returned {h.returned}"
        )
        data.setdefault("held", []).append(
            {
                "post": h.spec.post.value,
                "round": h.spec.number,
                "issued": h.issued,
                "returned": h.returned,
            }
        )
    if cur is None and m.result is not None:
        lines.append("选举已结束，结果已宣布" if zh else "the election is finished")
    elif cur is None:
        lines.append(describe_next(m.due(), e, lg))
    missing = s.missing_cosignatures()
    if missing:
        lines.append(
            ("待监票人签名：" if zh else "awaiting scrutineer signatures: ") + "；".join(missing)
        )
    return lines, data
