"""``tally procedure``: the procedure before and after the vote (spec/procedure.md), piece 1.

``tally procedure new`` writes the procedure definition (``procedure/1``) from the work group's
input file with every default written out (RP-2.2), and with ``--town-key`` signs it for the town
committee (``signed-procedure/1``, RP-2.3); ``tally procedure check`` checks a written definition,
signed or not, and prints what it fixes. A thin shell: read the files, call the core
(:mod:`tally.core.procedure`) or :mod:`tally.procedure_file`, print in Chinese (``--lang en`` for
English) or JSON; every problem of a definition is one line (RP-2.4).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

import keys
from tally.cli_day import JsonOpt, LangOpt, _run, _signer
from tally.cli_day.common import _public, _town_public
from tally.cli_errors import CliError
from tally.core.model import PostKind, zh_label
from tally.core.procedure import (
    FORMAT,
    SIGNED_FORMAT,
    Procedure,
    ProcedureFileError,
    build_procedure,
    decode_json,
    parse_procedure,
    procedure_id_of,
    render_procedure,
)
from tally.core.rules import full_members_on_roster
from tally.core.toml_errors import load_toml
from tally.procedure_file import (
    MAX_PROCEDURE_BYTES,
    check_key_material,
    load_signed_procedure,
    sign_procedure,
)

__all__ = ["app", "check", "new"]

app = typer.Typer(
    help="换届程序：推荐、测评、考察、审批任命 / the procedure before and after the vote",
    no_args_is_help=True,
)

_MAX_INPUT_BYTES = 8 * 1024 * 1024


def _read(path: Path, limit: int) -> bytes:
    with path.open("rb") as f:
        raw = f.read(limit + 1)
    if len(raw) > limit:
        raise CliError(
            "input.too_large",
            zh=f"文件超过 {limit} 字节：{path}",
            en=f"the file is larger than {limit} bytes: {path}",
        )
    return raw


def _summary(procedure: Procedure, procedure_id: bytes, lang: str) -> list[str]:
    """What the definition fixes, one line each (the clerk reads it back to the town)."""
    p = procedure
    zh = lang == "zh"
    e = p.election
    lines = [
        f"程序标识：{procedure_id.hex()}" if zh else f"procedure id: {procedure_id.hex()}",
        f"支部：{e.branch}（{e.branch_code}），{e.town}，{e.term}"
        if zh
        else f"branch: {e.branch} ({e.branch_code}), {e.town}, {e.term}",
        f"可被推荐的党员 {len(p.ballot_order)} 名；应到会有选举权的党员 {len(p.expected_electors)} 名"
        if zh
        else f"{len(p.ballot_order)} nominable members; {len(p.expected_electors)} expected "
        "electors",
    ]
    for post in p.posts:
        formal_zh = f"{post.formal_size} 名" if post.formal_size else "为全部通过考察的人选"
        formal = post.formal_size or "every name that proceeds"
        lines.append(
            f"{zh_label(post.kind)}：应选 {post.seats} 名，初步人选 {post.preliminary_size} 名，"
            f"正式候选人{formal_zh}，每张推荐票最多推荐 {post.max_per_ballot} 名"
            if zh
            else f"{post.kind.value}: {post.seats} seat(s), preliminary list "
            f"{post.preliminary_size}, formal list {formal}, at most {post.max_per_ballot} "
            "name(s) per recommendation ballot"
        )
    r = p.recommendation
    ev = p.evaluation
    fail = "、".join(s.zh for s in ev.scale if s.letter in ev.fail_letters)
    fail_en = ", ".join(s.en for s in ev.scale if s.letter in ev.fail_letters)
    more = "超过" if ev.fail_comparison.value == "GT" else "达到或超过"
    more_en = "more than" if ev.fail_comparison.value == "GT" else "at least"
    lines += [
        f"群众代表 {r.public_representatives} 名（推荐），{ev.public_representatives} 名（测评）；"
        f"排序方式 {r.ranking.mode.value}，权重 党员 {r.ranking.member_weight} : "
        f"群众 {r.ranking.public_weight}"
        if zh
        else f"public representatives: {r.public_representatives} (recommendation), "
        f"{ev.public_representatives} (evaluation); ranking {r.ranking.mode.value}, weights "
        f"members {r.ranking.member_weight} : public {r.ranking.public_weight}",
        f"测评：{fail}票{more}有效测评票的 {ev.fail_numerator}/{ev.fail_denominator} 的，不再列入"
        if zh
        else f"evaluation: a person with {fail_en} on {more_en} {ev.fail_numerator}/"
        f"{ev.fail_denominator} of the valid ballots does not proceed",
        f"公示期 {p.publicity_working_days} 个工作日"
        if zh
        else f"publicity: {p.publicity_working_days} working days",
    ]
    return lines + _warnings(p, lang)


def _warnings(procedure: Procedure, lang: str) -> list[str]:
    """What the clerk should look at again; none of it refuses the definition."""
    out = _stroke_order_warnings(procedure, lang)
    full = full_members_on_roster(procedure.members)
    if procedure.post(PostKind.COMMITTEE) is None and full >= 7:
        out.append(
            f"注意：名册上有 {full} 名正式党员，正式党员 7 人以上的支部应设立支部委员会（R23）"
            if lang == "zh"
            else f"warning: {full} full members on the roster: a branch with 7 or more should "
            "have a committee (R23)"
        )
    return out


def _stroke_order_warnings(procedure: Procedure, lang: str) -> list[str]:
    """(R29, RP-2.1) ``ballot_order`` is in surname stroke order as the town approved it: a line
    when it differs from the suggestion, for the clerk to confirm (never a refusal)."""
    from tally import strokes  # noqa: PLC0415 - the stroke table loads only when it is needed

    names = [procedure.member(m).name for m in procedure.ballot_order]
    try:
        suggested = list(strokes.suggest_order(names))
    except strokes.StrokeOrderError as e:
        return [f"注意：{e.zh}" if lang == "zh" else f"warning: {e.en}"]
    if suggested == names:
        return []
    if lang == "zh":
        return [
            "注意：推荐票排列顺序与姓氏笔画顺序建议不一致（R29）：建议 "
            + "、".join(suggested)
            + "。请核对镇党委审定的顺序。"
        ]
    return [
        "warning: the ballot order differs from the stroke-count suggestion (R29): suggested "
        + ", ".join(suggested)
    ]


def _summary_json(procedure: Procedure, procedure_id: bytes, lang: str) -> dict[str, Any]:
    p = procedure
    return {
        "procedure_id": procedure_id.hex(),
        "branch_code": p.election.branch_code,
        "nominable": len(p.ballot_order),
        "expected_electors": len(p.expected_electors),
        "warnings": _warnings(p, lang),
        "posts": [
            {
                "post": post.kind.value,
                "seats": post.seats,
                "preliminary_size": post.preliminary_size,
                "formal_size": post.formal_size,
                "max_per_ballot": post.max_per_ballot,
            }
            for post in p.posts
        ],
    }


@app.command("new")
def new(
    input_file: Annotated[
        Path, typer.Argument(help="换届程序输入文件（procedure/1，TOML，可省略有默认值的参数）")
    ],
    work_group_pub: Annotated[Path, typer.Option("--work-group-pub", help="工作组公钥")],
    scrutineer_pub: Annotated[
        list[Path], typer.Option("--scrutineer-pub", help="监票人公钥（按监票人顺序，可多次）")
    ],
    out: Annotated[Path, typer.Option("--out", help="输出：换届程序定义（JSON）")],
    town_key: Annotated[
        Path | None,
        typer.Option("--town-key", help="镇党委密钥文件：给出时写出镇党委签署的定义"),
    ] = None,
    lang: LangOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """写出换届程序定义（补全默认参数，可由镇党委签署） / Write the procedure definition."""

    def act(lg: str) -> tuple[list[str], dict[str, Any]]:
        text = _read(input_file, _MAX_INPUT_BYTES).decode("utf-8")
        procedure = build_procedure(
            load_toml(text),
            work_group_key=_public(work_group_pub, keys.Role.WORK_GROUP),
            scrutineer_keys=[_public(p, keys.Role.SCRUTINEER) for p in scrutineer_pub],
        )
        document = render_procedure(procedure)
        pid = procedure_id_of(document)
        data: dict[str, Any] = {"out": str(out), "signed": town_key is not None}
        if town_key is not None:
            signer = _signer(town_key, keys.Role.TOWN_COMMITTEE)
            raw = sign_procedure(procedure, signer)
            fp = keys.fingerprint(signer.public_key)
            data["town_fingerprint"] = fp
            head = (
                [f"已写出镇党委签署的换届程序定义：{out}", f"镇党委公钥指纹：{fp}"]
                if lg == "zh"
                else [f"signed procedure definition written: {out}", f"town key fingerprint: {fp}"]
            )
        else:
            raw = (
                json.dumps(document, ensure_ascii=False, indent=2, sort_keys=True) + "\n"
            ).encode()
            head = (
                [f"已写出换届程序定义（未签署，请镇党委审定后签署）：{out}"]
                if lg == "zh"
                else [f"procedure definition written (not signed yet): {out}"]
            )
        keys.write_new_file(out, raw, mode=keys.PUBLIC_FILE_MODE)
        return head + _summary(procedure, pid, lg), {**data, **_summary_json(procedure, pid, lg)}

    _run(lang, as_json, act)


@app.command("check")
def check(
    procedure_file: Annotated[
        Path, typer.Argument(help="换届程序定义（procedure/1 或 signed-procedure/1，JSON）")
    ],
    town_key: Annotated[
        str | None,
        typer.Option("--town-key", help="镇党委公钥文件或其25位指纹（签署的定义必须给出）"),
    ] = None,
    lang: LangOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """检查换届程序定义（签名和全部规则，一次列出所有问题） / Check a procedure definition."""

    def act(lg: str) -> tuple[list[str], dict[str, Any]]:
        raw = _read(procedure_file, MAX_PROCEDURE_BYTES)
        doc = decode_json(raw)
        fmt = doc.get("format") if isinstance(doc, dict) else None
        if fmt == SIGNED_FORMAT:
            if town_key is None:
                raise CliError(
                    "procedure.trust_root_missing",
                    zh="检查签署的换届程序定义须用 --town-key 给出镇党委公钥文件或其指纹",
                    en="checking a signed procedure needs --town-key (the town public key file "
                    "or its fingerprint)",
                )
            root: keys.PublicKey | str = town_key
            if Path(town_key).is_file():
                root = _town_public(Path(town_key))
            signed = load_signed_procedure(raw, trust_root=root)
            procedure, pid = signed.procedure, signed.procedure_id
            fp = keys.fingerprint(
                keys.parse_public_key(json.dumps(signed.town_key.to_json()).encode())
            )
            head = (
                [f"换届程序定义检查通过：{procedure_file}", f"镇党委签名有效（公钥指纹 {fp}）"]
                if lg == "zh"
                else [
                    f"procedure definition checked: {procedure_file}",
                    f"the town committee's signature verifies (fingerprint {fp})",
                ]
            )
            data: dict[str, Any] = {"signed": True, "town_fingerprint": fp}
        elif fmt == FORMAT and isinstance(doc, dict):
            procedure = parse_procedure(doc)
            check_key_material(procedure)
            pid = procedure_id_of(doc)
            head = (
                [f"换届程序定义检查通过（未签署）：{procedure_file}"]
                if lg == "zh"
                else [f"procedure definition checked (not signed): {procedure_file}"]
            )
            data = {"signed": False}
        else:
            raise ProcedureFileError(
                "procedure.format",
                clause="RP-2.1",
                zh=f"不是换届程序定义（{FORMAT} 或 {SIGNED_FORMAT}），格式为 {fmt!r}",
                en=f"not a procedure definition ({FORMAT} or {SIGNED_FORMAT}); format is {fmt!r}",
            )
        return head + _summary(procedure, pid, lg), {**data, **_summary_json(procedure, pid, lg)}

    _run(lang, as_json, act)
