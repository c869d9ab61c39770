"""`tally print`, `tally sheet` and `tally ballot read`: the ballot stock on paper."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

import ballot_printer
import keys
from tally.cli_day.common import ActorOpt, DbArg, JsonOpt, KeyOpt, LangOpt, _post, _run, _signer
from tally.core.model import PostKind, zh_label
from tally.election import ElectionSession

__all__ = ["ballot_read", "print_cmd", "sheet"]


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
        lines = _printed_lines(lg, post, round_number, count, total, present, out, supplement)
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


def ballot_read(
    image: Annotated[Path, typer.Argument(help="扫描的选票 PNG/JPEG/PDF")],
    db: Annotated[Path | None, typer.Option("--election", help="选举文件，用于核验签名")] = None,
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
                + (", signature valid" if item["verified"] else " (not verified: add --election)")
            )
        return lines, {"ballots": found}

    _run(lang, as_json, act)


def _printed_lines(
    lg: str,
    post: PostKind,
    round_number: int,
    count: int,
    total: int,
    present: int,
    out: Path,
    supplement: bool,
) -> list[str]:
    """What `tally print` says: the stock printed, and a warning when it is short of those present."""
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
            f"注意：本轮选票共 {total} 张，少于已签到的 {present} 人；发票前请用 --supplement 补印"
            if lg == "zh"
            else f"warning: {total} ballots for the round but {present} members are "
            "checked in; print more with --supplement before issuing"
        )
    return lines
