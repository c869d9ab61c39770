"""`tally calendar sign`, `tally manifest sign` and `tally init`: what is signed before the meeting."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

import keys
from tally.calendar import parse_calendar, sign_calendar
from tally.cli_day.common import (
    MAX_CALENDAR_BYTES,
    MAX_DEFINITION_BYTES,
    ActorOpt,
    JsonOpt,
    KeyOpt,
    LangOpt,
    _public,
    _run,
    _signer,
    _town_root,
)
from tally.cli_input import read_input, read_input_text
from tally.core.definition import parse_definition
from tally.core.manifest import build_manifest
from tally.election import ElectionSession
from tally.manifest_io import MAX_MANIFEST_BYTES, sign_manifest

__all__ = ["calendar_sign", "init", "manifest_sign"]


def calendar_sign(
    year_file: Annotated[Path, typer.Argument(help="节假日文件 (calendar/1, TOML)")],
    town_key: Annotated[Path, typer.Option("--town-key", help="镇党委密钥文件")],
    out: Annotated[Path, typer.Option("--out", help="输出：签署的节假日文件")],
    lang: LangOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """镇党委签署节假日文件（软件包不认识的年份） / The town committee signs a year file (R26.3)."""

    def act(lg: str) -> tuple[list[str], dict[str, Any]]:
        text = read_input_text(year_file, limit=MAX_CALENDAR_BYTES)
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
        election = parse_definition(read_input_text(election_file, limit=MAX_DEFINITION_BYTES))
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
        root = _town_root(town_key)
        s = ElectionSession.init(
            out,
            read_input(manifest, limit=MAX_MANIFEST_BYTES),
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
