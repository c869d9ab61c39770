"""``tally casework``: the town's casework file (spec/procedure.md §8, §9, §12.3, §12.4).

``new`` signs the town's ``casework/1`` definition with the town key and creates the file;
``register`` registers a community reporter and prints the access code once; ``export`` writes
the ``casework-bundle/1`` for the verification group and the town committee, or with ``--public``
only the town's ``casework-public/1`` totals. Objections and reports come in through the casework
pages; ``assign``, ``check``, ``extend``, ``conclude``, ``list`` and ``summary`` are in
:mod:`tally.cli_casework_cases`. Passphrases come from ``TALLY_PASSPHRASE`` or a hidden prompt.
"""

from __future__ import annotations

import datetime as dt
import json
import secrets
import tomllib
from contextlib import closing
from pathlib import Path
from typing import Annotated, Any

import typer

import keys
from tally.casework_store import CaseworkStore, sign_casework
from tally.cli_casework_cases import (
    assign_cmd,
    check_cmd,
    conclude_cmd,
    extend_cmd,
    list_cmd,
    summary_cmd,
)
from tally.cli_day.common import load_calendar_file
from tally.cli_errors import CliError, run_command
from tally.cli_input import read_input_text
from tally.cli_options import CaseworkFileArg as FileArg
from tally.cli_options import JsonOpt, LangOpt, NewFolderOpt
from tally.cli_options import key_signer as _signer
from tally.core.casework import (
    TOWN_TIME,
    Channel,
    casework_document,
    lodge_objection,
    register_reporter,
    withdraw_reporter,
)
from tally.service.casework.publicity import read_procedure
from tally.service.casework.views import reference_of
from tally.service.casework.web import BranchPublicity

__all__ = ["app"]

app = typer.Typer(
    help="异议与民情直报事项登记簿 / casework: objections and reports", no_args_is_help=True
)


def _now() -> dt.datetime:
    return dt.datetime.now(TOWN_TIME)


_MAX_DEFINITION_BYTES = 4 * 1024 * 1024


def _definition(path: Path) -> dict[str, Any]:
    try:
        doc = tomllib.loads(read_input_text(path, limit=_MAX_DEFINITION_BYTES))
    except tomllib.TOMLDecodeError as e:
        raise CliError(
            "casework.toml", zh=f"{path} 不是有效的 TOML：{e}", en=f"{path} is not valid TOML: {e}"
        ) from e
    return doc


@app.command("new")
def new_cmd(
    definition: Annotated[
        Path,
        typer.Argument(
            help="本镇事项登记簿定义（TOML：town、branches、可选 deadlines、photos、text_max_chars）"
        ),
    ],
    town_key: Annotated[Path, typer.Option("--town-key", help="镇党委密钥文件（签署定义）")],
    casework_key: Annotated[
        Path, typer.Option("--casework-key", help="查核组密钥文件（角色 casework，签署检查点）")
    ],
    out: Annotated[Path, typer.Option("--out", help="新建的事项登记簿文件（不会覆盖）")],
    lang: LangOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """新建本镇事项登记簿 / Sign the town's casework definition and create its file."""

    def action(lg: str) -> tuple[list[str], dict[str, Any]]:
        doc = _definition(definition)
        unknown = sorted(set(doc) - {"town", "branches", "deadlines", "photos", "text_max_chars"})
        if unknown:
            raise CliError(
                "casework.unknown_member",
                zh=f"定义中有未知字段：{'、'.join(unknown)}",
                en=f"unknown member(s) in the definition: {', '.join(unknown)}",
            )
        town = _signer(town_key, keys.Role.TOWN_COMMITTEE)
        service = _signer(casework_key, keys.Role.CASEWORK)
        full = casework_document(
            town=doc.get("town", ""),
            branches=doc.get("branches", []),
            casework_key=json.loads(keys.export_public_key(service.public_key)),
            deadlines=doc.get("deadlines"),
            photos=doc.get("photos"),
            text_max_chars=doc.get("text_max_chars"),
        )
        signed, casework = sign_casework(full, town)
        store = CaseworkStore.create(
            out,
            signed_casework=signed,
            casework_signer=service,
            at=_now(),
            random=secrets.token_bytes,
        )
        store.close()
        cid = casework.id.hex()
        line = (
            f"已新建事项登记簿 {out}（{casework.town}，{len(casework.branches)} 个支部），编号 {cid}"
            if lg == "zh"
            else f"casework file {out} created ({casework.town}, {len(casework.branches)} branches), id {cid}"
        )
        return [line], {"file": str(out), "casework_id": cid}

    run_command(lang, as_json, action)


@app.command("register")
def register_cmd(
    file: FileArg,
    reporter: Annotated[str, typer.Option("--reporter", help="直报员编号（全镇唯一）")],
    branch: Annotated[str, typer.Option("--branch", help="所在支部代码")],
    group: Annotated[str, typer.Option("--group", help="所在村（居）民小组代码")],
    name: Annotated[str, typer.Option("--name", help="直报员姓名")],
    phone: Annotated[str, typer.Option("--phone", help="手机号码（11 位，可不填）")] = "",
    actor: Annotated[str, typer.Option("--actor", help="登记人账户（记入日志）")] = "case_head",
    lang: LangOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """登记民情直报员并生成访问码 / Register a community reporter; prints the access code once."""

    def action(lg: str) -> tuple[list[str], dict[str, Any]]:
        with closing(CaseworkStore.open(file)) as store:
            at = _now()
            step = register_reporter(
                store.ledger,
                at=at,
                reporter=reporter,
                branch=branch,
                group=group,
                name=name,
                phone=phone,
            )
            _, code = store.register(step, at=at, actor=actor, random=secrets.token_bytes)
        lines = (
            [
                f"已登记直报员 {reporter}（{branch} / {group}）",
                f"访问码：{code}（只显示这一次，请写在直报员卡上）",
            ]
            if lg == "zh"
            else [
                f"reporter {reporter} registered ({branch} / {group})",
                f"access code: {code} (shown only this once: write it on the reporter's card)",
            ]
        )
        return lines, {"reporter": reporter, "access_code": code}

    run_command(lang, as_json, action)


@app.command("withdraw-reporter")
def withdraw_reporter_cmd(
    file: FileArg,
    reporter: Annotated[str, typer.Argument(help="直报员编号")],
    reason: Annotated[str, typer.Option("--reason", help="撤销原因（记入日志）")],
    actor: Annotated[str, typer.Option("--actor", help="办理人账户（记入日志）")] = "case_head",
    lang: LangOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """撤销民情直报员 / Withdraw a community reporter: the access code stops at once, reports made stay."""

    def action(lg: str) -> tuple[list[str], dict[str, Any]]:
        with closing(CaseworkStore.open(file)) as store:
            at = _now()
            step = withdraw_reporter(store.ledger, at=at, reporter=reporter, reason=reason)
            store.perform(step, at=at, actor=actor, random=secrets.token_bytes)
        line = (
            f"已撤销直报员 {reporter}：其访问码即时失效，已报送的事项保留"
            if lg == "zh"
            else f"reporter {reporter} withdrawn: the access code stops at once, "
            "the reports made stay"
        )
        return [line], {"reporter": reporter, "type": step.type}

    run_command(lang, as_json, action)


@app.command("replace-code")
def replace_code_cmd(
    file: FileArg,
    reporter: Annotated[str, typer.Argument(help="直报员编号")],
    lang: LangOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """更换直报员访问码 / Replace a reporter's access code; prints the new code once, the old one stops at once."""

    def action(lg: str) -> tuple[list[str], dict[str, Any]]:
        with closing(CaseworkStore.open(file)) as store:
            code = store.replace_code(reporter, random=secrets.token_bytes)
        lines = (
            [
                f"已更换直报员 {reporter} 的访问码，旧访问码即时失效",
                f"新访问码：{code}（只显示这一次，请写在新的直报员卡上）",
            ]
            if lg == "zh"
            else [
                f"access code of reporter {reporter} replaced; the old code stops at once",
                f"new access code: {code} (shown only this once: write it on the new card)",
            ]
        )
        return lines, {"reporter": reporter, "access_code": code}

    run_command(lang, as_json, action)


@app.command("lodge")
def lodge_cmd(
    file: FileArg,
    branch: Annotated[str, typer.Option("--branch", help="异议所涉支部代码")],
    procedure: Annotated[
        Path,
        typer.Option("--procedure", help="该支部的换届程序文件（只读：公示期和当选人员）"),
    ],
    what: Annotated[str, typer.Option("--what", help="异议内容")],
    about: Annotated[str, typer.Option("--about", help="所指当选人员的党员编号（可不填）")] = "",
    name: Annotated[str, typer.Option("--name", help="提出人姓名（可不填）")] = "",
    contact: Annotated[str, typer.Option("--contact", help="提出人联系方式（可不填）")] = "",
    relates_to: Annotated[str, typer.Option("--relates-to", help="相关事项编号（可不填）")] = "",
    calendar: Annotated[
        Path | None, typer.Option("--calendar", help="镇党委签署的节假日文件（计算办理期限）")
    ] = None,
    actor: Annotated[str, typer.Option("--actor", help="记录人账户（记入日志）")] = "case_head",
    lang: LangOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """记录当面提出的异议 / Record an objection lodged in person (channel in_person; no check code)."""

    def action(lg: str) -> tuple[list[str], dict[str, Any]]:
        with closing(CaseworkStore.open(file)) as store:
            pub = _publicity(procedure, store.casework.id.hex(), branch)
            cal = load_calendar_file(calendar, store.town_key)
            at = _now()
            step = lodge_objection(
                store.ledger,
                at=at,
                calendar=cal,
                branch=branch,
                channel=Channel.IN_PERSON,
                about=about,
                what=what,
                objector_name=name,
                objector_contact=contact,
                relates_to=relates_to.strip().upper(),
                publicity_end=pub.publicity_end if pub is not None else None,
                elected=frozenset(i for i, _ in pub.elected) if pub is not None else frozenset(),
            )
            store.lodge(step, at=at, actor=actor, random=secrets.token_bytes)
            ref = reference_of(step)
            due = store.ledger.case(ref).due_conclude
        line = (
            f"已记录当面提出的异议，事项编号 {ref}（{branch}），办结期限 {due}；当面提出的异议没有查询码"
            if lg == "zh"
            else f"objection lodged in person recorded as {ref} ({branch}), due {due}; "
            "an objection made in person has no check code"
        )
        return [line], {"reference": ref, "branch": branch, "channel": "in_person"}

    run_command(lang, as_json, action)


def _publicity(path: Path, casework_id: str, branch: str) -> BranchPublicity | None:
    """The branch's publicity from its procedure file, or None while it is not open (RP-8.6).

    Raises:
        CliError: ``casework.procedure_branch`` when the file is another branch's.
        BilingualError: as :func:`read_procedure` (``store.*``, ``casework.other_town``).
    """
    of, pub = read_procedure(path, casework_id)
    if of != branch:
        raise CliError(
            "casework.procedure_branch",
            zh=f"换届程序文件 {path} 属于支部 {of}，不是 {branch}（什么也没有记录）",
            en=f"the procedure file {path} is branch {of}'s, not {branch}'s (nothing recorded)",
        )
    return pub


@app.command("export")
def export_cmd(
    file: FileArg,
    out: NewFolderOpt,
    public: Annotated[
        bool, typer.Option("--public", help="只写公开的全镇民情直报统计（casework-public/1）")
    ] = False,
    calendar: Annotated[
        Path | None,
        typer.Option(
            "--calendar",
            help="镇党委签署的节假日文件：办理期限用到其年份时写入导出包",
        ),
    ] = None,
    lang: LangOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """导出事项登记簿 / Export the casework bundle (verification group, town committee only) or, with --public, the town's public totals."""

    def action(lg: str) -> tuple[list[str], dict[str, Any]]:
        if out.exists() and (not out.is_dir() or any(out.iterdir())):
            raise CliError(
                "export.exists",
                zh=f"输出文件夹已存在且不为空：{out}（不会覆盖）",
                en=f"the output folder exists and is not empty: {out} (never overwritten)",
            )
        with closing(CaseworkStore.open(file)) as store:
            # (RP-12.3, R26.3) the town's signed year file goes with the bundle when used
            cal = load_calendar_file(calendar, store.town_key)
            files = (
                [("casework-public.json", store.public_document())]
                if public
                else [(f.path, f.data) for f in store.bundle_files(cal)]
            )
        for rel, data in files:
            target = out / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
        what_zh = "公开统计" if public else "事项登记簿（仅供查核组和镇党委）"
        what_en = (
            "public totals"
            if public
            else "casework bundle (verification group and town committee only)"
        )
        line = (
            f"已导出{what_zh}：{out}（{len(files)} 个文件）"
            if lg == "zh"
            else f"{what_en} exported to {out} ({len(files)} files)"
        )
        return [line], {"out": str(out), "files": [rel for rel, _ in files]}

    run_command(lang, as_json, action)


for _name, _command in (
    ("assign", assign_cmd),
    ("check", check_cmd),
    ("extend", extend_cmd),
    ("conclude", conclude_cmd),
    ("list", list_cmd),
    ("summary", summary_cmd),
):
    app.command(_name)(_command)
