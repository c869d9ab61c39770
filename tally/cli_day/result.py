"""`tally result` and `tally publish`: the result, its publicity period and the bundle."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any

import typer

import keys
from tally.cli_day.common import ActorOpt, DbArg, JsonOpt, KeyOpt, LangOpt, _calendar, _run, _signer
from tally.cli_rounds import rounds_json, rounds_lines
from tally.core.meeting.bodies import ElectionResult
from tally.core.model import PostKind, zh_label
from tally.election import ElectionSession
from tally.publish import publish

__all__ = ["publish_cmd", "result"]


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
        v = entry.value
        # record_result built the body (spec/log.md §2.1): the elected by post, ISO dates
        assert isinstance(v, ElectionResult)
        assert isinstance(v.elected, Mapping)
        assert isinstance(v.publicity_start, str)
        assert isinstance(v.publicity_end, str)
        period = (dt.date.fromisoformat(v.publicity_start), dt.date.fromisoformat(v.publicity_end))
        lines: list[str] = []
        for post, ids in v.elected.items():
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
            "elected": v.elected,
            "posts": rounds_json(s),
            "publicity_start": period[0].isoformat(),
            "publicity_end": period[1].isoformat(),
        }

    _run(lang, as_json, act)


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
