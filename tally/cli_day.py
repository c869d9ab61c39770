"""The polling-day commands of ``tally`` (a thin shell over ``tally.election``).

``tally manifest sign`` → ``tally init`` → ``tally print`` → ``tally checkin`` → ``tally issue`` →
``tally return`` → ``tally enter`` → ``tally close`` → ``tally cosign`` → (next rounds) →
``tally result`` → ``tally publish``. Each command refuses what the state machine does not allow and
says why; a refused command stores nothing.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import io
import itertools
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer

import ballot_printer
import keys
from tally.calendar import (
    WorkingDayCalendar,
    load_calendar,
    parse_calendar,
    sign_calendar,
)
from tally.cli_errors import CliError, fail, run
from tally.cli_rounds import rounds_json, rounds_lines
from tally.core.ballots import INVALID_REASONS
from tally.core.definition import parse_definition
from tally.core.double_entry import require_same_batches
from tally.core.explain import describe_next, describe_outcome, describe_quorum, spec_title
from tally.core.manifest import build_manifest
from tally.core.meeting import ballot_from_body
from tally.core.model import MemberId, PostKind, zh_label
from tally.core.rules import quorum
from tally.election import (
    ElectionSession,
    EntryInput,
    SessionError,
    check_invalid_reason,
    sign_amended_list,
    sign_manifest,
)
from tally.publish import publish

__all__ = ["register"]

MAX_BATCH_BYTES = 32 * 1024 * 1024
PASSPHRASE_ENV = "TALLY_PASSPHRASE"

LangOpt = Annotated[str | None, typer.Option("--lang", help="zh（默认）或 en")]
JsonOpt = Annotated[bool, typer.Option("--json", help="输出 JSON")]
DbArg = Annotated[Path, typer.Argument(help="选举文件（tally init 创建）")]
KeyOpt = Annotated[Path, typer.Option("--key", help="工作组密钥文件")]
ActorOpt = Annotated[str, typer.Option("--actor", help="操作人（记入日志）")]
KIND_NAMES = {
    "committee": PostKind.COMMITTEE,
    "secretary": PostKind.SECRETARY,
    "deputy": PostKind.DEPUTY_SECRETARY,
    "deputy_secretary": PostKind.DEPUTY_SECRETARY,
}


class Done(Exception):
    """Result lines (zh, en) and JSON of a successful command."""


def _lang(option: str | None) -> str:
    value = option or os.environ.get("TALLY_LANG", "zh")
    return "en" if value == "en" else "zh"


def _run(
    lang_opt: str | None, as_json: bool, action: Callable[[str], tuple[list[str], dict[str, Any]]]
) -> None:
    """Run one command: its result as lines or JSON; every expected failure as one refusal."""
    lang = _lang(lang_opt)
    lines, data = run(lang, as_json, lambda: action(lang))
    if as_json:
        typer.echo(json.dumps({"ok": True, **data}, ensure_ascii=False, indent=2))
    else:
        typer.echo("\n".join(lines))


def _passphrase(path: Path) -> str:
    env = os.environ.get(PASSPHRASE_ENV)
    if env is not None:
        return env
    value: str = typer.prompt(f"{path} 的口令 / passphrase", hide_input=True, err=True)
    return value


def _signer(path: Path, role: keys.Role) -> keys.InMemorySigner:
    return keys.load_signer(path, _passphrase(path), expected_role=role)


def _public(path: Path, role: keys.Role) -> dict[str, Any]:
    pk = keys.parse_public_key(path.read_bytes())
    if pk.role is not role:
        raise SessionError(
            "key.role",
            zh=f"{path} 不是{keys.ROLE_NAMES_ZH[role]}的公钥",
            en=f"{path} is not a {role.value} public key",
        )
    doc: dict[str, Any] = json.loads(keys.export_public_key(pk))
    return doc


def _town_public(path: Path) -> keys.PublicKey:
    pk = keys.parse_public_key(path.read_bytes())
    if pk.role is not keys.Role.TOWN_COMMITTEE:
        raise SessionError(
            "key.role", zh=f"{path} 不是镇党委的公钥", en=f"{path} is not a town key"
        )
    return pk


def _calendar(path: Path | None, session: ElectionSession) -> WorkingDayCalendar:
    """The working-day calendar, with a year file signed by the manifest's town key (R26.3)."""
    return load_calendar(path, town_key=session.town_key)


def _post(kind: str) -> PostKind:
    try:
        return KIND_NAMES[kind]
    except KeyError:
        raise SessionError(
            "post.unknown",
            zh=f"未知选票种类 {kind}（committee / secretary / deputy）",
            en=f"unknown ballot kind {kind} (committee / secretary / deputy)",
        ) from None


def register(app: typer.Typer) -> None:
    """Add the polling-day commands to the ``tally`` app."""
    _serve(app)
    _demo(app)
    manifest_app = typer.Typer(help="选举清单 / manifest", no_args_is_help=True)
    ballot_app = typer.Typer(help="选票 / ballots", no_args_is_help=True)
    calendar_app = typer.Typer(help="节假日文件 / holiday year files", no_args_is_help=True)
    app.add_typer(manifest_app, name="manifest")
    app.add_typer(ballot_app, name="ballot")
    app.add_typer(calendar_app, name="calendar")

    @calendar_app.command("sign")
    def calendar_sign(
        year_file: Annotated[Path, typer.Argument(help="节假日文件 (calendar/1, TOML)")],
        town_key: Annotated[Path, typer.Option("--town-key", help="镇党委密钥文件")],
        out: Annotated[Path, typer.Option("--out", help="输出：签署的节假日文件")],
        lang: LangOpt = None,
        as_json: JsonOpt = False,
    ) -> None:
        """镇党委签署节假日文件（软件包不认识的年份） / The town committee signs a year file (R26.3)."""

        def act(lg: str) -> tuple[list[str], dict[str, Any]]:
            try:
                text = year_file.read_text(encoding="utf-8")
            except UnicodeDecodeError as e:
                raise SessionError(
                    "input.encoding",
                    zh=f"文件不是 UTF-8 编码：{year_file}",
                    en=f"file is not UTF-8: {year_file}",
                ) from e
            years = parse_calendar(text, file=str(year_file))
            signer = _signer(town_key, keys.Role.TOWN_COMMITTEE)
            keys.write_new_file(out, sign_calendar(years, signer), mode=keys.PUBLIC_FILE_MODE)
            listed = "、".join(str(y.year) for y in years)
            return (
                [f"已签署节假日文件：{out}（{listed} 年）"]
                if lg == "zh"
                else [f"holiday file signed: {out} ({listed})"],
                {"out": str(out), "years": [y.year for y in years]},
            )

        _run(lang, as_json, act)

    @manifest_app.command("sign")
    def manifest_sign(
        election_file: Annotated[Path, typer.Argument(help="选举定义文件 (TOML)")],
        town_key: Annotated[Path, typer.Option("--town-key", help="镇党委密钥文件")],
        work_group_pub: Annotated[Path, typer.Option("--work-group-pub", help="工作组公钥")],
        scrutineer_pub: Annotated[
            list[Path], typer.Option("--scrutineer-pub", help="监票人公钥（可多次）")
        ],
        out: Annotated[Path, typer.Option("--out", help="输出：签署的选举清单")],
        lang: LangOpt = None,
        as_json: JsonOpt = False,
    ) -> None:
        """镇党委签署选举清单 / The town committee signs the manifest."""

        def act(lg: str) -> tuple[list[str], dict[str, Any]]:
            election = parse_definition(election_file.read_text(encoding="utf-8"))
            manifest = build_manifest(
                election,
                work_group_key=_public(work_group_pub, keys.Role.WORK_GROUP),
                scrutineer_keys=tuple(_public(p, keys.Role.SCRUTINEER) for p in scrutineer_pub),
            )
            signer = _signer(town_key, keys.Role.TOWN_COMMITTEE)
            keys.write_new_file(out, sign_manifest(manifest, signer), mode=keys.PUBLIC_FILE_MODE)
            fp = keys.fingerprint(signer.public_key)
            eid = manifest.election_id.hex()
            return (
                [f"已签署选举清单：{out}", f"选举标识：{eid}", f"镇党委公钥指纹：{fp}"]
                if lg == "zh"
                else [
                    f"manifest signed: {out}",
                    f"election id: {eid}",
                    f"town key fingerprint: {fp}",
                ],
                {"out": str(out), "election_id": eid, "town_fingerprint": fp},
            )

        _run(lang, as_json, act)

    @app.command("init")
    def init(
        manifest: Annotated[Path, typer.Argument(help="签署的选举清单")],
        out: Annotated[Path, typer.Option("--out", help="新建的选举文件")],
        key: KeyOpt,
        town_key: Annotated[
            str, typer.Option("--town-key", help="镇党委公钥文件或其25位指纹（核对清单签署者）")
        ],
        actor: ActorOpt = "",
        lang: LangOpt = None,
        as_json: JsonOpt = False,
    ) -> None:
        """由签署的选举清单创建选举文件 / Create the election file from a signed manifest."""

        def act(lg: str) -> tuple[list[str], dict[str, Any]]:
            root: keys.PublicKey | str = town_key
            if Path(town_key).is_file():
                root = _town_public(Path(town_key))
            s = ElectionSession.init(
                out,
                manifest.read_bytes(),
                _signer(key, keys.Role.WORK_GROUP),
                actor=actor,
                trust_root=root,
            )
            e = s.manifest.election
            eid = s.manifest.election_id.hex()
            return (
                [f"已创建选举文件 {out}：{e.title}（{e.term}）", f"选举标识：{eid}"]
                if lg == "zh"
                else [f"election file created: {out} ({e.title})", f"election id: {eid}"],
                {"election_file": str(out), "election_id": eid},
            )

        _run(lang, as_json, act)

    @app.command("print")
    def print_cmd(
        db: DbArg,
        kind: Annotated[str, typer.Option("--kind", help="committee / secretary / deputy")],
        count: Annotated[int, typer.Option("--count", help="张数 1-5000")],
        out: Annotated[Path, typer.Option("--out", help="输出 PDF")],
        key: KeyOpt,
        round_number: Annotated[int, typer.Option("--round", help="轮次")] = 1,
        stock_list: Annotated[
            Path | None, typer.Option("--stock-list", help="密封的选票编号清单")
        ] = None,
        a5: Annotated[bool, typer.Option("--a5", help="A5 纸")] = False,
        supplement: Annotated[
            bool,
            typer.Option(
                "--supplement", help="补印：本轮已登记的选票不够时再印一批（发票前，单独登记）"
            ),
        ] = False,
        actor: ActorOpt = "",
        lang: LangOpt = None,
        as_json: JsonOpt = False,
    ) -> None:
        """打印并登记一轮的选票 / Print and commit a round's ballot stock.

        选票不够时（发票前）用 --supplement 为同一轮补印一批，另行登记并生成检查点。
        When a round's stock is too small, --supplement prints more for the same round (before
        its ballots are issued), committed as its own part with its own checkpoint.
        """

        def act(lg: str) -> tuple[list[str], dict[str, Any]]:
            s = ElectionSession.open(db)
            post = _post(kind)
            size = ballot_printer.PageSize.A5 if a5 else ballot_printer.PageSize.A4
            present = len(s.meeting.present)
            before = s.meeting.stocks.get((post, round_number), 0)
            stock = s.print_stock(
                post=post,
                round_number=round_number,
                count=count,
                out_pdf=out,
                stock_list_out=stock_list,
                signer=_signer(key, keys.Role.WORK_GROUP),
                page_size=size,
                actor=actor,
                supplement=supplement,
            )
            total = before + count if supplement else count
            lines = (
                [
                    f"已{'补印' if supplement else '打印'}{zh_label(post)}选票 {count} 张"
                    f"（第 {round_number} 轮{f'，共 {total} 张' if supplement else ''}）：{out}",
                    "选票编号清单须与未用选票一同密封保存，不得与签到名单放在一起",
                ]
                if lg == "zh"
                else [
                    f"{'supplementary: ' if supplement else ''}printed {count} {post.value} "
                    f"ballots (round {round_number}"
                    f"{f', {total} in all' if supplement else ''}): {out}",
                    "seal the ballot-id list with the unused ballots",
                ]
            )
            if total < present:
                lines.append(
                    f"注意：本轮选票共 {total} 张，少于已签到的 {present} 人；"
                    "发票前请用 --supplement 补印"
                    if lg == "zh"
                    else f"warning: {total} ballots for the round but {present} members are "
                    "checked in; print more with --supplement before issuing"
                )
            return (
                lines,
                {
                    "pdf": str(out),
                    "count": len(stock.payloads),
                    "post": post.value,
                    "round": round_number,
                    "supplement": supplement,
                    "total": total,
                    "present": present,
                },
            )

        _run(lang, as_json, act)

    @app.command("sheet")
    def sheet(
        db: DbArg,
        kind: Annotated[str, typer.Option("--kind")],
        out: Annotated[Path, typer.Option("--out")],
        round_number: Annotated[int, typer.Option("--round")] = 1,
        lang: LangOpt = None,
        as_json: JsonOpt = False,
    ) -> None:
        """打印计票单 / Print the scrutineers' tally sheet for a round."""

        def act(lg: str) -> tuple[list[str], dict[str, Any]]:
            s = ElectionSession.open(db)
            ballot_printer.render_tally_sheet(s.paper(_post(kind), round_number), out)
            return (
                [f"已生成计票单：{out}" if lg == "zh" else f"tally sheet written: {out}"],
                {"pdf": str(out)},
            )

        _run(lang, as_json, act)

    @ballot_app.command("read")
    def ballot_read(
        image: Annotated[Path, typer.Argument(help="扫描的选票 PNG/JPEG/PDF")],
        db: Annotated[
            Path | None, typer.Option("--election", help="选举文件，用于核验签名")
        ] = None,
        lang: LangOpt = None,
        as_json: JsonOpt = False,
    ) -> None:
        """读取并核验扫描选票上的二维码 / Read and verify the QR of a scanned ballot."""

        def act(lg: str) -> tuple[list[str], dict[str, Any]]:
            texts = ballot_printer.read_qr_texts(image)
            session = ElectionSession.open(db) if db is not None else None
            lines, found = [], []
            for t in texts:
                p = ballot_printer.parse_qr_text(t)
                item: dict[str, Any] = {
                    "qr": ballot_printer.encode_qr_text(p),
                    "ballot_id": p.ballot_id.hex(),
                    "code": ballot_printer.ballot_code(p.ballot_id),
                    "kind": p.kind.name.lower(),
                    "round": p.round_number,
                    "verified": False,
                }
                if session is not None:
                    wg = keys.parse_public_key(
                        json.dumps(dict(session.manifest.work_group_key)).encode()
                    )
                    ballot_printer.verify_payload(
                        p,
                        wg.key,
                        election_id=session.manifest.election_id,
                        kind=p.kind,
                        round_number=p.round_number,
                    )
                    item["verified"] = True
                found.append(item)
                lines.append(
                    f"选票 {item['code']}：{p.kind.label_zh}第 {p.round_number} 轮"
                    + ("，签名有效" if item["verified"] else "（未核验签名：请加 --election）")
                    if lg == "zh"
                    else f"ballot {item['code']}: {item['kind']} round {p.round_number}"
                    + (
                        ", signature valid"
                        if item["verified"]
                        else " (not verified: add --election)"
                    )
                )
            return lines, {"ballots": found}

        _run(lang, as_json, act)

    @app.command("checkin")
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

    @app.command("leave")
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

    @app.command("issue")
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
                data["joint"] = [
                    {"post": j.post.value, "round": j.number, "issued": n} for j in joint
                ]
            return lines, data

        _run(lang, as_json, act)

    @app.command("return")
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

    @app.command("enter")
    def enter(
        db: DbArg,
        qr: Annotated[str | None, typer.Option("--qr", help="扫码枪读到的二维码文字")] = None,
        marks: Annotated[
            str | None, typer.Option("--marks", help="每名候选人一个标记：o x - ?")
        ] = None,
        write_in: Annotated[
            list[str] | None,
            typer.Option("--write-in", help="另选人姓名或编号（名字后加 :- 表示未画○）"),
        ] = None,
        batch: Annotated[
            Path | None,
            typer.Option("--batch", help="批量录入文件（.jsonl 或 .csv，格式见上）"),
        ] = None,
        second: Annotated[
            Path | None, typer.Option("--second", help="第二名计票人的录入文件（双人录入核对）")
        ] = None,
        invalid: Annotated[
            str | None,
            typer.Option(
                "--invalid",
                help="无效票理由：identifying_marks unreadable not_official_stock",
            ),
        ] = None,
        confirm_key: Annotated[
            Path | None,
            typer.Option("--confirm-key", help="确认无效票的监票人密钥文件（与 --invalid 同用）"),
        ] = None,
        scans: Annotated[
            Path | None,
            typer.Option(
                "--scans",
                help="同一叠选票的扫描件（PDF/PNG/JPEG），按顺序填入批量文件中 qr 为空的各行",
            ),
        ] = None,
        actor: ActorOpt = "",
        lang: LangOpt = None,
        as_json: JsonOpt = False,
    ) -> None:
        """录入选票（单张或批量，全部成功或全部不录入）/ Enter ballots (one, or a batch: all or nothing).

        \b
        二维码文字从哪里来 / where the QR text comes from:
        - 扫码枪（模拟键盘）：光标放在 --qr 之后扫码，扫码枪打出 BQ1:… 文字
          a barcode scanner acting as a keyboard types the BQ1:... text after --qr
        - tally ballot read 扫描件.pdf --election 选举.db 读出扫描件上每张选票的二维码
          tally ballot read reads the QR of every ballot in a scan (PDF/PNG/JPEG)
        - 投票站页面 /station/ 的录入页用扫码枪或摄像头读码
          the station page /station/ reads it with a scanner or the camera
        标记：每名候选人一个，按选票上的顺序：o 赞成，x 不赞成，- 弃权，? 无法辨认
        marks: one per candidate in ballot order: o approve, x disapprove, - abstain, ? unreadable

        \b
        批量文件 / batch files (UTF-8, one ballot per line; examples/*.jsonl, examples/*.csv):
        - JSONL: {"qr": "BQ1:…", "marks": "ooooox", "write_ins": ["周玉兰"]}
        - CSV:   qr,marks,write_ins   （表头可省略；多名另选人用 ; 分隔；另选人后加 :- 表示未画○）
        qr 为空的行按顺序取 --scans 扫描件中的二维码（行数须与二维码数相同）
        rows with an empty qr take the QR codes of --scans in order (the counts must match)

        \b
        经监票人确认作为无效票录入（R8.5）：--invalid 理由 --confirm-key 监票人密钥 [--qr 二维码]；
        理由 identifying_marks（有识别标记）、unreadable（无法辨认）、not_official_stock
        （非正式选票，不给 --qr）。/ With --invalid REASON --confirm-key SCRUTINEER.key [--qr]:
        one returned ballot entered as invalid by decision, signed by a scrutineer.
        """

        def act(lg: str) -> tuple[list[str], dict[str, Any]]:
            seconds: list[EntryInput] | None = None
            if invalid is not None or confirm_key is not None:
                return _enter_invalid(
                    db,
                    lg,
                    invalid,
                    confirm_key,
                    qr,
                    actor,
                    other=(
                        marks is not None
                        or bool(write_in)
                        or batch is not None
                        or second is not None
                        or scans is not None
                    ),
                )
            if scans is not None and batch is None:
                raise SessionError(
                    "enter.scans_without_batch",
                    zh="--scans 须与 --batch 一起使用",
                    en="--scans needs --batch",
                )
            if batch is not None:
                first_rows = _read_batch(batch)
                second_rows = _read_batch(second) if second is not None else None
                texts = ballot_printer.read_qr_texts(scans) if scans is not None else None
                items = _fill_from_scans(first_rows, texts, "--batch")
                if second_rows is not None:
                    seconds = _fill_from_scans(second_rows, texts, "--second")
            elif qr is not None and marks is not None:
                items = [EntryInput(qr=qr, marks=marks, write_ins=tuple(write_in or ()))]
                if second is not None:  # the second teller's entry of this one ballot
                    seconds = _fill_from_scans(_read_batch(second), None, "--second")
            else:
                raise SessionError(
                    "enter.args",
                    zh="请给出 --qr 和 --marks，或 --batch",
                    en="give --qr and --marks, or --batch",
                )
            s = ElectionSession.open(db)
            if seconds is None and s.meeting.double_entry:
                # (spec/log.md §2.3) the logged mode binds every shell, not only the station
                raise SessionError(
                    "double_entry.second_needed",
                    zh="已开启双人录入：请用 --second 给出第二名计票人对同一批选票的录入",
                    en="double entry is on: give the second teller's entry of the same ballots "
                    "with --second",
                )
            if seconds is not None:  # (spec/log.md §2.3) one rule: tally.core.double_entry
                require_same_batches(
                    [x.entered() for x in items],
                    [x.entered() for x in seconds],
                    params=s.manifest.election.parameters,
                )
            entries = s.enter(items, actor=actor)
            cur = s.meeting.current
            assert cur is not None
            lines = []
            for e in entries:
                b = ballot_from_body(e.body, len(cur.spec.candidates))
                # (R8.1) every filled write-in row counts in 所选人数; (R9.5) more write-ins
                # than the paper's rows make one invalid ballot.
                approvals = sum(1 for m in b.marks if m.value == "o") + len(b.write_ins)
                rows = len(b.write_ins) > cur.spec.seats
                over = approvals > cur.spec.seats
                zh_v = "另选人多于选票上的空行，无效票" if rows else "所选人数多于应选人数，无效票"
                en_v = (
                    "more write-ins than rows, invalid ballot"
                    if rows
                    else "over-vote, invalid ballot"
                )
                lines.append(
                    f"已录入选票 {e.body['ballot_id'][:8]}…：" + (zh_v if over else "已记录")
                    if lg == "zh"
                    else f"entered {e.body['ballot_id'][:8]}…: " + (en_v if over else "recorded")
                )
            lines.append(
                f"本轮已录入 {len(cur.entered)} / {cur.returned} 张"
                if lg == "zh"
                else f"{len(cur.entered)} of {cur.returned} returned ballots entered"
            )
            return lines, {
                "entered": len(entries),
                "total": len(cur.entered),
                "returned": cur.returned,
            }

        _run(lang, as_json, act)

    @app.command("withdraw")
    def withdraw(
        db: DbArg,
        ballot: Annotated[str, typer.Option("--ballot", help="最后录入的选票编号")],
        actor: ActorOpt = "",
        lang: LangOpt = None,
        as_json: JsonOpt = False,
    ) -> None:
        """撤回计票人最后录入的一张选票（记入日志，不删除）/ Undo the last entry."""

        def act(lg: str) -> tuple[list[str], dict[str, Any]]:
            s = ElectionSession.open(db)
            s.withdraw(ballot, actor=actor)
            return (
                [f"已撤回选票 {ballot}" if lg == "zh" else f"withdrawn: {ballot}"],
                {"withdrawn": ballot},
            )

        _run(lang, as_json, act)

    @app.command("close")
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

    @app.command("cosign")
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

    @app.command("reduce-seats")
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
            s.reduce_seats(
                _post(kind), seats=seats, consent=consent, agreement=agreement, actor=actor
            )
            return [describe_next(s.meeting.due(), s.manifest.election, lg)], {"seats": seats}

        _run(lang, as_json, act)

    @app.command("officials")
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

    @app.command("amend-request")
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

    @app.command("amend-sign")
    def amend_sign(
        request: Annotated[Path, typer.Argument(help="amend-request 写出的名单文件")],
        key: Annotated[Path, typer.Option("--key", help="镇党委密钥文件")],
        out: Annotated[Path, typer.Option("--out", help="写出签署后的名单文件")],
        lang: LangOpt = None,
        as_json: JsonOpt = False,
    ) -> None:
        """镇党委签署调整后的候选人名单（RS7）/ The town committee signs an amended list."""

        def act(lg: str) -> tuple[list[str], dict[str, Any]]:
            signed = sign_amended_list(request.read_bytes(), _signer(key, keys.Role.TOWN_COMMITTEE))
            if out.exists():
                raise SessionError(
                    "file.exists", zh=f"{out} 已存在，不覆盖", en=f"{out} exists; not overwritten"
                )
            out.write_bytes(signed)
            return [f"已签署：{out}" if lg == "zh" else f"signed: {out}"], {"signed": str(out)}

        _run(lang, as_json, act)

    @app.command("amend-candidates")
    def amend(
        db: DbArg,
        signed: Annotated[Path, typer.Argument(help="镇党委签署的名单文件（tally amend-sign）")],
        actor: ActorOpt = "",
        lang: LangOpt = None,
        as_json: JsonOpt = False,
    ) -> None:
        """记录镇党委签署的调整后候选人名单（RS7、R16、R20）/ Record a town-signed amended list."""

        def act(lg: str) -> tuple[list[str], dict[str, Any]]:
            s = ElectionSession.open(db)
            zh, en = s.amend_candidates(signed.read_bytes(), actor=actor)
            warn = ["提醒：" + w for w in zh] if lg == "zh" else ["warning: " + w for w in en]
            return [*warn, describe_next(s.meeting.due(), s.manifest.election, lg)], {
                "warnings": list(zh if lg == "zh" else en)
            }

        _run(lang, as_json, act)

    @app.command("status")
    def status(db: DbArg, lang: LangOpt = None, as_json: JsonOpt = False) -> None:
        """会议和本轮的实时状态 / The live state of the meeting and the round."""

        def act(lg: str) -> tuple[list[str], dict[str, Any]]:
            s = ElectionSession.open(db)
            return _status(s, lg)

        _run(lang, as_json, act)

    @app.command("result")
    def result(
        db: DbArg,
        key: KeyOpt,
        calendar: Annotated[
            Path | None,
            typer.Option("--calendar", help="镇党委签署的节假日文件（tally calendar sign）"),
        ] = None,
        actor: ActorOpt = "",
        lang: LangOpt = None,
        as_json: JsonOpt = False,
    ) -> None:
        """宣布选举结果并计算公示期 / Record the result and the publicity period."""

        def act(lg: str) -> tuple[list[str], dict[str, Any]]:
            s = ElectionSession.open(db)
            e = s.manifest.election
            entry = s.record_result(
                signer=_signer(key, keys.Role.WORK_GROUP),
                calendar=_calendar(calendar, s),
                actor=actor,
            )
            period = (
                dt.date.fromisoformat(entry.body["publicity_start"]),
                dt.date.fromisoformat(entry.body["publicity_end"]),
            )
            lines: list[str] = []
            for post, ids in entry.body["elected"].items():
                names = ("、" if lg == "zh" else ", ").join(
                    f"{e.member(i).name}（{i}）" if lg == "zh" else f"{e.member(i).name} ({i})"
                    for i in ids
                )
                lines.append(
                    f"{zh_label(PostKind(post))}：{names}" if lg == "zh" else f"{post}: {names}"
                )
            lines.extend(rounds_lines(s, lg))  # every round, each elected with its round (A13)
            lines.append(
                f"公示期：{period[0].isoformat()} 至 {period[1].isoformat()}"
                f"（{e.parameters.publicity_working_days} 个工作日）"
                if lg == "zh"
                else f"publicity: {period[0].isoformat()} to {period[1].isoformat()}"
            )
            return lines, {
                "elected": entry.body["elected"],
                "posts": rounds_json(s),
                "publicity_start": period[0].isoformat(),
                "publicity_end": period[1].isoformat(),
            }

        _run(lang, as_json, act)

    @app.command("publish")
    def publish_cmd(
        db: DbArg,
        out: Annotated[Path, typer.Option("--out", help="输出文件夹")],
        calendar: Annotated[
            Path | None,
            typer.Option("--calendar", help="镇党委签署的节假日文件（tally calendar sign）"),
        ] = None,
        lang: LangOpt = None,
        as_json: JsonOpt = False,
    ) -> None:
        """发布结果包和公示 / Publish the result bundle and the publicity notice."""

        def act(lg: str) -> tuple[list[str], dict[str, Any]]:
            s = ElectionSession.open(db)
            p = publish(s, out, calendar_file=calendar)
            root = p.root_hex
            return (
                [
                    f"结果包：{p.folder} 和 {p.zip_path}（交镇党委核验）",
                    f"公示：{p.notice}",
                    f"最终检查点根哈希：{root}",
                ]
                if lg == "zh"
                else [
                    f"bundle: {p.folder} and {p.zip_path} (for the town committee)",
                    f"notice: {p.notice}",
                    f"final root hash: {root}",
                ],
                {
                    "bundle": str(p.folder),
                    "zip": str(p.zip_path),
                    "notice": str(p.notice) if p.notice else None,
                    "root": root,
                },
            )

        _run(lang, as_json, act)


def _serve(app: typer.Typer) -> None:
    @app.command("serve")
    def serve(
        db: Annotated[Path | None, typer.Argument(help="选举文件（省略时用 --demo）")] = None,
        demo: Annotated[bool, typer.Option("--demo", help="使用示例选举（.run/demo）")] = False,
        key: Annotated[Path | None, typer.Option("--key", help="工作组密钥文件")] = None,
        scrutineer_key: Annotated[
            list[Path] | None,
            typer.Option(
                "--scrutineer-key",
                help="监票人密钥文件（可多个；在投票站确认无效票时由监票人输入口令）",
            ),
        ] = None,
        host: Annotated[str, typer.Option("--host")] = "127.0.0.1",
        port: Annotated[int, typer.Option("--port")] = 8000,
        data: Annotated[Path, typer.Option("--data", help="服务数据文件夹")] = Path(".run/service"),
        trusted_proxy: Annotated[
            list[str] | None,
            typer.Option(
                "--trusted-proxy",
                help="可信反向代理的地址或网段（可多个）：只有来自它的 X-Forwarded-For / "
                "Forwarded 才用来确定客户端地址；默认无",
            ),
        ] = None,
        tls_cert: Annotated[
            Path | None,
            typer.Option(
                "--tls-cert",
                help="TLS 证书（PEM）：给出后以 HTTPS 提供服务，Cookie 带 Secure，并发送 HSTS；"
                "须与 --tls-key 同时给出",
            ),
        ] = None,
        tls_key: Annotated[
            Path | None,
            typer.Option("--tls-key", help="TLS 私钥（PEM，不加密，文件权限须为 0600 或更窄）"),
        ] = None,
        public_host: Annotated[
            str | None,
            typer.Option(
                "--public-host",
                help="公开页面（公告板、远程投票）单独监听的地址；给出 --public-host 或 "
                "--public-port 时，投票站页面不在该地址提供（默认同 --host）",
            ),
        ] = None,
        public_port: Annotated[
            int | None,
            typer.Option("--public-port", help="公开页面单独监听的端口（默认同 --port）"),
        ] = None,
        lang: LangOpt = None,
    ) -> None:
        """启动服务：投票站页面、远程投票、公告板 / Start the service."""
        # FastAPI, uvicorn and the service load only for `serve`: every other command starts faster
        from tally.service import ServiceConfig, create_app  # noqa: PLC0415
        from tally.service.demo import DEMO_PASSPHRASE, ensure_demo  # noqa: PLC0415
        from tally.service.transport import (  # noqa: PLC0415
            Binding,
            TlsFiles,
            TransportError,
            build_servers,
            describe,
            load_tls,
            run_servers,
        )

        lg = _lang(lang)
        tls = None
        if (tls_cert is None) != (tls_key is None):
            fail(
                lg,
                False,
                CliError(
                    "serve.tls_pair",
                    zh="--tls-cert 和 --tls-key 须同时给出",
                    en="give both --tls-cert and --tls-key",
                ),
            )
        if tls_cert is not None and tls_key is not None:
            tls = TlsFiles(cert=tls_cert, key=tls_key)
            try:
                load_tls(tls)  # every problem now, in one line, before anything listens
            except TransportError as e:
                fail(lg, False, e)
        bindings = [Binding(host, port)]
        if public_host is not None or public_port is not None:
            public = Binding(public_host or host, public_port or port, public_only=True)
            wildcard = {"0.0.0.0", "::", ""}  # noqa: S104  (a comparison, not a bind)
            if public.port == port and (
                public.host == host or public.host in wildcard or host in wildcard
            ):
                fail(
                    lg,
                    False,
                    CliError(
                        "serve.same_binding",
                        zh=f"公开页面的地址 {public.host}:{public.port} 与投票站页面的 {host}:{port} "
                        "重叠：请给出不同的地址或端口",
                        en=f"the public binding {public.host}:{public.port} overlaps the station's "
                        f"{host}:{port}: give another address or port",
                    ),
                )
            bindings.append(public)
        if demo:
            here = Path(__file__).resolve().parents[1]
            os.environ.setdefault(PASSPHRASE_ENV, DEMO_PASSPHRASE)
            d = ensure_demo(
                Path(".run/demo"), here / "examples" / "qingshan.toml", accounts_dir=data
            )
            db, key = d.election, d.work_group_key
            os.environ.setdefault(PASSPHRASE_ENV, DEMO_PASSPHRASE)
            typer.echo(f"示例选举：{d.election}（示例口令：{DEMO_PASSPHRASE}，仅供试用）")
            typer.echo(f"镇党委公钥：{d.town_pub}")
        if db is None:
            fail(
                lg,
                False,
                CliError(
                    "serve.no_election",
                    zh="请给出选举文件或 --demo",
                    en="give an election file or --demo",
                ),
            )
        from tally.service.proxy import parse_trusted  # noqa: PLC0415 - service modules: see above

        try:
            trusted = parse_trusted(trusted_proxy or ())
        except ValueError:
            fail(
                lg,
                False,
                CliError(
                    "serve.trusted_proxy",
                    zh=f"--trusted-proxy 应为 IP 地址或网段：{' '.join(trusted_proxy or ())}",
                    en=f"--trusted-proxy must be an IP address or network: {' '.join(trusted_proxy or ())}",
                ),
            )
        config = ServiceConfig(
            election_path=db,
            data_dir=data,
            work_group_key=key,
            scrutineer_keys=tuple(scrutineer_key or ()),
            extra={"trusted_proxies": trusted} if trusted else {},
            tls=tls is not None,
        )
        data.mkdir(parents=True, exist_ok=True)
        application = create_app(config)
        for zh, en in describe(bindings, tls is not None):
            typer.echo(zh if lg == "zh" else en)
        # Body, header and connection limits (SECURITY.md "Resource limits") on every binding;
        # uvicorn's own forwarded-header handling off (the app reads them from --trusted-proxy
        # peers only).
        servers = build_servers(application, bindings, tls=tls)
        with contextlib.suppress(KeyboardInterrupt):  # as uvicorn.run: Ctrl-C stops quietly
            run_servers(servers)


def _demo(app: typer.Typer) -> None:
    @app.command("demo")
    def demo(
        out: Annotated[Path, typer.Option("--out", help="输出文件夹")],
        seed: Annotated[int, typer.Option("--seed", help="随机种子（可重现）")] = 2026,
        branches: Annotated[int, typer.Option("--branches", min=1, max=99, help="支部数")] = 20,
        lang: LangOpt = None,
    ) -> None:
        """全镇换届演示：生成、选举、发布并核验每个支部 / The whole town's election, verified."""
        # rich and the demo generator load only for `demo`
        from rich.cells import cell_len  # noqa: PLC0415
        from rich.console import Console  # noqa: PLC0415
        from rich.progress import Progress  # noqa: PLC0415
        from rich.table import Table  # noqa: PLC0415

        from tally.demo import run_town, town_report  # noqa: PLC0415 - only for `demo`

        lg = _lang(lang)
        zh = lg == "zh"
        if out.exists() and any(out.iterdir()):
            fail(
                lg,
                False,
                CliError("demo.exists", zh=f"{out} 不是空文件夹", en=f"{out} is not empty"),
            )
        console = Console(stderr=True)
        with Progress(console=console) as bar:
            task = bar.add_task("全镇换届选举" if zh else "town re-election", total=branches)
            summaries = run_town(
                out, seed=seed, branches=branches, progress=lambda _: bar.advance(task)
            )
        json_path, pdf = town_report(out, summaries)
        # The verdict comes before the names, and every name is shown in full, never cut by an
        # ellipsis or split across lines: each post's label stands on its own line, names are
        # separated by an ideographic space (where Chinese text may wrap), and the names column
        # gets exactly the width the other columns leave (rich would crop the table's right edge).
        headers = (
            ("支部", "应到E", "实到", "法定人数", "轮次", "核验", "当选")
            if zh
            else ("branch", "E", "present", "quorum", "rounds", "verifier", "elected")
        )
        rows = [
            (
                s.name,
                str(s.expected),
                str(s.present),
                str(s.quorum_minimum),
                str(s.rounds),
                ("通过" if zh else "pass")
                if s.verified
                else ("未通过 " if zh else "FAIL ") + ",".join(s.verifier_failures),
                "\n".join(
                    (f"{zh_label(PostKind(k))}：\n" if zh else f"{k}\n") + "\u3000".join(v)
                    for k, v in s.elected.items()
                ),
            )
            for s in summaries
        ]
        console_out = Console()
        fixed = [
            max([cell_len(h), *(cell_len(r[i]) for r in rows)]) for i, h in enumerate(headers[:-1])
        ]
        left = console_out.width - sum(w + 3 for w in fixed) - 4  # padding and rules
        table = Table(title="红旗镇换届选举汇总" if zh else "Town summary")
        for i, h in enumerate(headers):
            table.add_column(h, no_wrap=i < len(headers) - 1, overflow="fold")
        table.columns[-1].max_width = max(8, left)
        for row in rows:
            table.add_row(*row)
        console_out.print(table)
        typer.echo(f"{'汇总报告' if zh else 'town report'}：{json_path}，{pdf}")
        if not all(s.verified for s in summaries):
            raise typer.Exit(1)


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


def _enter_invalid(
    db: Path,
    lg: str,
    reason: str | None,
    confirm_key: Path | None,
    qr: str | None,
    actor: str,
    *,
    other: bool,
) -> tuple[list[str], dict[str, Any]]:
    """`tally enter --invalid REASON --confirm-key KEY [--qr TEXT]` (R8.5)."""
    if reason is None:
        raise SessionError(
            "enter.args",
            zh="--confirm-key 只与 --invalid 同用",
            en="--confirm-key goes with --invalid",
        )
    if other:
        raise SessionError(
            "enter.args",
            zh="作为无效票录入时不给 --marks、--write-in、--batch 或 --second",
            en="--invalid takes no --marks, --write-in, --batch or --second",
        )
    check_invalid_reason(reason)  # before asking for the scrutineer's passphrase
    if confirm_key is None:
        raise SessionError(
            "invalid.no_confirmation",
            zh="作为无效票录入须由监票人确认：请用 --confirm-key 给出监票人密钥文件",
            en="an invalid ballot needs a scrutineer's confirmation: give --confirm-key",
        )
    s = ElectionSession.open(db)
    if s.meeting.current is None:  # before asking for the scrutineer's passphrase
        raise SessionError("round.none_open", zh="当前没有进行中的轮次", en="no round is open")
    entry = s.declare_invalid(
        reason, confirmer=_signer(confirm_key, keys.Role.SCRUTINEER), qr=qr, actor=actor
    )
    zh_reason, en_reason = INVALID_REASONS[reason]
    cur = s.meeting.current
    assert cur is not None
    code = entry.body["ballot_id"][:8] + "…" if entry.body["ballot_id"] else ""
    lines = [
        f"已作为无效票录入{('选票 ' + code) if code else '一张无二维码的选票'}"
        f"（{zh_reason}，经监票人 {entry.body['scrutineer']} 确认）"
        if lg == "zh"
        else f"entered {('ballot ' + code) if code else 'a ballot without QR'} as invalid "
        f"({en_reason}, confirmed by {entry.body['scrutineer']})",
        f"本轮已录入 {len(cur.entered)} / {cur.returned} 张"
        if lg == "zh"
        else f"{len(cur.entered)} of {cur.returned} returned ballots entered",
    ]
    return lines, {
        "invalid": reason,
        "ballot_id": entry.body["ballot_id"],
        "scrutineer": entry.body["scrutineer"],
        "total": len(cur.entered),
        "returned": cur.returned,
    }


_BATCH_KEYS = frozenset({"qr", "marks", "write_ins"})


def _read_batch(path: Path) -> list[EntryInput]:
    if path.stat().st_size > MAX_BATCH_BYTES:
        raise SessionError("batch.too_large", zh="批量文件过大", en="batch file too large")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as e:
        raise SessionError(
            "batch.encoding",
            zh=f"批量文件不是 UTF-8 编码（第 {e.start + 1} 字节；请用 UTF-8 保存，如 Excel 的“CSV UTF-8”）",
            en=f"the batch file is not UTF-8 (byte {e.start + 1}; save it as UTF-8, "
            'e.g. Excel\'s "CSV UTF-8")',
        ) from e
    items: list[EntryInput] = []
    if path.suffix.lower() == ".csv":
        rows = csv.reader(io.StringIO(text))
        for i in itertools.count(1):
            try:
                row = next(rows, None)
            except csv.Error as e:  # a field over the csv module's limit (128 KiB)
                raise SessionError(
                    "batch.row", zh=f"第 {i} 行格式错误", en=f"line {i} is malformed"
                ) from e
            if row is None:
                break
            if not row or (i == 1 and row[0].strip().lower() == "qr"):
                continue
            if not 2 <= len(row) <= 3:  # (A12.12) no column beyond the three known ones
                raise SessionError(
                    "batch.row",
                    zh=f"第 {i} 行应为 qr,marks[,另选人;…]（最多三列）",
                    en=f"line {i}: expected qr,marks[,write-ins;...] (at most three columns)",
                )
            write_ins = tuple(w for w in (row[2].split(";") if len(row) > 2 else []) if w.strip())
            items.append(EntryInput(qr=row[0], marks=row[1], write_ins=write_ins))
        return _non_empty(items, path)
    for i, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            doc = json.loads(line)
            unknown = sorted(set(doc) - _BATCH_KEYS) if isinstance(doc, dict) else []
            if unknown:  # (A12.12) unknown fields are refused, never ignored
                raise SessionError(
                    "batch.unknown_field",
                    zh=f"第 {i} 行有未知字段：{'、'.join(unknown)}（只允许 qr、marks、write_ins）",
                    en=f"line {i}: unknown field(s) {', '.join(unknown)} "
                    "(only qr, marks, write_ins)",
                )
            items.append(
                EntryInput(
                    qr=str(doc["qr"]),
                    marks=str(doc["marks"]),
                    write_ins=tuple(str(w) for w in doc.get("write_ins", [])),
                )
            )
        except (ValueError, KeyError, TypeError, RecursionError) as e:
            raise SessionError(
                "batch.row", zh=f"第 {i} 行格式错误", en=f"line {i} is malformed"
            ) from e
    return _non_empty(items, path)


def _non_empty(items: list[EntryInput], path: Path) -> list[EntryInput]:
    if not items:
        raise SessionError(
            "batch.empty", zh=f"批量文件 {path.name} 中没有选票", en=f"no ballots in {path.name}"
        )
    return items


def _fill_from_scans(
    items: list[EntryInput], texts: list[str] | None, which: str
) -> list[EntryInput]:
    """Rows with an empty ``qr`` take the scan's QR codes in order; every other row keeps its own.

    Raises:
        SessionError: empty rows without a scan, a scan without empty rows, or counts that differ.
    """
    empty = [i for i, x in enumerate(items) if not x.qr.strip()]
    if texts is None:
        if empty:
            raise SessionError(
                "batch.qr_missing",
                zh=f"{which} 文件第 {empty[0] + 1} 张选票没有二维码文字（qr 为空时须给出 --scans）",
                en=f"{which} file: ballot {empty[0] + 1} has no QR text (empty qr needs --scans)",
            )
        return items
    if len(texts) != len(empty):
        raise SessionError(
            "batch.scan_count",
            zh=f"扫描件中有 {len(texts)} 个二维码，{which} 文件中 qr 为空的有 {len(empty)} 行，"
            "两者须相同，均未录入",
            en=f"the scan holds {len(texts)} QR codes but the {which} file has {len(empty)} rows "
            "with an empty qr; they must match; nothing entered",
        )
    out = list(items)
    for i, text in zip(empty, texts, strict=True):
        out[i] = EntryInput(qr=text, marks=items[i].marks, write_ins=items[i].write_ins)
    return out
