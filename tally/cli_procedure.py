"""``tally procedure``: the procedure before and after the vote (spec/procedure.md), pieces 1-2.

``tally procedure new`` writes the procedure definition (``procedure/1``) from the work group's
input file with every default written out (RP-2.2), and with ``--town-key`` signs it for the town
committee (``signed-procedure/1``, RP-2.3); ``tally procedure check`` checks a written definition,
signed or not, and prints what it fixes; ``tally procedure print`` prints a stock of recommendation
or evaluation ballots with signed ``BP1:`` QR payloads and writes its sealed list (RP-3.3-RP-3.6,
RP-5.3). A thin shell: read the files, call the core
(:mod:`tally.core.procedure`) or :mod:`tally.procedure_file`, print in Chinese (``--lang en`` for
English) or JSON; every problem of a definition is one line (RP-2.4).
"""

from __future__ import annotations

import hmac
import json
from pathlib import Path
from typing import Annotated, Any

import typer

import ballot_printer
import keys
from ballot_printer.procedure_qr import ProcedureForm
from tally.cli_day import _run, _signer
from tally.cli_day.common import _post, _public, _town_root
from tally.cli_errors import CliError
from tally.cli_input import read_input, read_input_text
from tally.cli_options import JsonOpt, KeyOpt, LangOpt, TownPublicOpt
from tally.cli_procedure_log import register as _register_log
from tally.cli_procedure_public import register as _register_public
from tally.cli_procedure_steps import register as _register_steps
from tally.core.model import Member, MemberId, PostKind, zh_label
from tally.core.procedure import (
    FORMAT,
    SIGNED_FORMAT,
    Procedure,
    ProcedureFileError,
    RecommendationLayout,
    SignedProcedure,
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

__all__ = ["app", "check", "new", "print_cmd"]

app = typer.Typer(
    help="换届程序：推荐、测评、考察、审批任命 / the procedure before and after the vote",
    no_args_is_help=True,
)

_MAX_INPUT_BYTES = 8 * 1024 * 1024


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
        text = read_input_text(input_file, limit=_MAX_INPUT_BYTES)
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
        raw = read_input(procedure_file, limit=MAX_PROCEDURE_BYTES)
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
            root = _town_root(town_key)
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


_FORMS = {
    "member": ProcedureForm.MEMBER,
    "public": ProcedureForm.PUBLIC,
    "evaluation": ProcedureForm.EVALUATION,
}
_PAPER_KINDS = {
    PostKind.COMMITTEE: ballot_printer.PaperKind.COMMITTEE,
    PostKind.SECRETARY: ballot_printer.PaperKind.SECRETARY,
    PostKind.DEPUTY_SECRETARY: ballot_printer.PaperKind.DEPUTY,
}


def _form(value: str) -> ProcedureForm:
    try:
        return _FORMS[value]
    except KeyError:
        raise CliError(
            "print.form",
            zh=f"未知的票种 {value}（member 党员推荐 / public 群众推荐 / evaluation 群众测评）",
            en=f"unknown ballot form {value} (member / public / evaluation)",
        ) from None


def _recommendation_post(procedure: Procedure, value: str | None) -> PostKind:
    if value is None:
        raise CliError(
            "print.post_missing",
            zh="推荐票须用 --post 给出职位（committee / secretary / deputy）",
            en="a recommendation ballot needs --post (committee / secretary / deputy)",
        )
    post = _post(value)
    if procedure.post(post) is None:
        raise CliError(
            "print.post_not_in_procedure",
            zh=f"换届程序定义中没有{zh_label(post)}职位",
            en=f"the procedure has no {post.value} post",
        )
    return post


def _notes(procedure: Procedure, ids: tuple[MemberId, ...]) -> tuple[str, ...]:
    """(RP-3.3, RP-5.3) Under each name printed more than once on the paper, the first of year of
    birth, month, day of birth or member id that tells the namesakes apart, so a voter can; the
    name itself is printed exactly as on the roster."""
    members = [procedure.member(m) for m in ids]
    names = [m.name for m in members]
    if len(set(names)) == len(names):
        return ()

    def labels(m: Member) -> tuple[str, ...]:
        d = m.birth_date
        return (f"{d.year}年生", f"{d.year}年{d.month}月生", f"{d.year}年{d.month}月{d.day}日生")

    out: list[str] = []
    for member in members:
        same = [o for o in members if o.name == member.name]
        if len(same) == 1:
            out.append("")
            continue
        out.append(
            next(
                (
                    mine
                    for k, mine in enumerate(labels(member))
                    if sum(labels(o)[k] == mine for o in same) == 1
                ),
                f"编号 {member.id}",
            )
        )
    return tuple(out)


def _evaluated(procedure: Procedure, persons: list[str]) -> tuple[MemberId, ...]:
    """(RP-5.1, RP-5.3) The persons to evaluate, in ``ballot_order``, each once and nominable."""
    if not persons:
        raise CliError(
            "print.persons_missing",
            zh="测评票须用 --person 逐一给出测评对象的党员编号",
            en="an evaluation ballot needs --person for each person evaluated",
        )
    seen: set[str] = set()
    for p in persons:
        if p in seen:
            raise CliError(
                "print.person_twice",
                zh=f"测评对象 {p} 重复",
                en=f"the person {p} is given twice",
            )
        seen.add(p)
        if MemberId(p) not in procedure.nominable:
            raise CliError(
                "print.person_not_nominable",
                zh=f"{p} 不是可被推荐的党员，不能列为测评对象",
                en=f"{p} is not a nominable member and cannot be evaluated",
            )
    return tuple(m for m in procedure.ballot_order if m in seen)


@app.command("print")
def print_cmd(
    procedure_file: Annotated[Path, typer.Argument(help="镇党委签署的换届程序定义（JSON）")],
    town_key: TownPublicOpt,
    form: Annotated[
        str,
        typer.Option("--form", help="member 党员推荐 / public 群众推荐 / evaluation 群众测评"),
    ],
    count: Annotated[int, typer.Option("--count", help="张数 1-5000（到会人数）")],
    out: Annotated[Path, typer.Option("--out", help="输出 PDF")],
    key: KeyOpt,
    post: Annotated[
        str | None,
        typer.Option("--post", help="推荐票的职位：committee / secretary / deputy"),
    ] = None,
    person: Annotated[
        list[str] | None,
        typer.Option("--person", help="测评票：测评对象的党员编号（可多次，按推荐票顺序印出）"),
    ] = None,
    round_number: Annotated[int, typer.Option("--round", help="轮次 1-255")] = 1,
    stock_list: Annotated[
        Path | None,
        typer.Option("--stock-list", help="密封的票号清单（默认：PDF 同名 .stock.json）"),
    ] = None,
    lang: LangOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """打印推荐票或测评票并写出密封的票号清单 / Print recommendation or evaluation ballots.

    每张票的二维码由工作组密钥签名（BP1:，RP-3.5）；票号清单（procedure-stock/1，RP-3.6）
    与未用的票一起密封。The QR of each ballot is signed with the work group key; the sealed
    list is written beside the PDF.
    """

    def act(lg: str) -> tuple[list[str], dict[str, Any]]:
        chosen = _form(form)
        listed = _new_stock_list(stock_list or out.with_suffix(".stock.json"))
        signed = _load_procedure(procedure_file, town_key)
        procedure, pid = signed.procedure, signed.procedure_id
        signer = _work_group_signer(procedure, key)
        if chosen is ProcedureForm.EVALUATION:
            kind = None
            paper: ballot_printer.RecommendationPaper | ballot_printer.EvaluationPaper = (
                _evaluation_paper(procedure, post, person or [], round_number)
            )
        else:
            kind, paper = _recommendation_paper(procedure, chosen, post, person, round_number)
        stock = ballot_printer.make_procedure_stock(
            procedure_id=pid,
            form=chosen,
            post=kind,
            round_number=round_number,
            count=count,
            signer=signer,
        )
        ballot_printer.render_procedure_stock_pdf(paper, stock, out)
        commitment = _write_stock_list(listed, stock)
        what = paper.title if lg == "zh" else f"{chosen.code} {ballot_printer.post_code(kind)}"
        return _printed_lines(lg, what, round_number, count, out, listed, commitment), {
            "pdf": str(out),
            "stock_list": str(listed),
            "procedure_id": pid.hex(),
            "form": chosen.code,
            "post": ballot_printer.post_code(kind),
            "round": round_number,
            "count": count,
            "commitment": commitment,
        }

    _run(lang, as_json, act)


def _new_stock_list(listed: Path) -> Path:
    """(RP-3.6) The sealed list is written once: refuse (``print.exists``) one already there."""
    if listed.exists():
        raise CliError(
            "print.exists",
            zh=f"票号清单已存在，不覆盖：{listed}",
            en=f"the stock list exists and is not replaced: {listed}",
        )
    return listed


def _load_procedure(procedure_file: Path, town_key: str) -> SignedProcedure:
    """(RP-2.3) The definition, checked against the town committee's key (a public key file, or
    its fingerprint)."""
    root = _town_root(town_key)
    return load_signed_procedure(
        read_input(procedure_file, limit=MAX_PROCEDURE_BYTES), trust_root=root
    )


def _work_group_signer(procedure: Procedure, key: Path) -> keys.InMemorySigner:
    """(RP-3.5) The work group's signer; refuse (``print.work_group_key``) a key that is not the
    one the definition names, whose ballots would not verify."""
    signer = _signer(key, keys.Role.WORK_GROUP)
    wg = keys.parse_public_key(json.dumps(procedure.keys.work_group.to_json()).encode())
    if not hmac.compare_digest(signer.public_key.key, wg.key):
        raise CliError(
            "print.work_group_key",
            zh="工作组密钥与换届程序定义中的工作组公钥不符，用它签名的票将无法核验",
            en="the work group key is not the procedure's: its ballots would not verify",
        )
    return signer


def _evaluation_paper(
    procedure: Procedure, post: str | None, persons: list[str], round_number: int
) -> ballot_printer.EvaluationPaper:
    """(RP-5.3) The evaluation paper: no post; the persons evaluated in ``ballot_order``."""
    if post is not None:
        raise CliError(
            "print.post_for_evaluation",
            zh="测评票不分职位，不能给出 --post",
            en="an evaluation ballot has no post: leave out --post",
        )
    ids = _evaluated(procedure, persons)
    e = procedure.election
    return ballot_printer.EvaluationPaper(
        branch=e.branch,
        term=e.term,
        round_number=round_number,
        names=tuple(procedure.member(m).name for m in ids),
        notes=_notes(procedure, ids),
        scale=tuple(s.zh for s in procedure.evaluation.scale),
    )


def _recommendation_paper(
    procedure: Procedure,
    form: ProcedureForm,
    post: str | None,
    persons: list[str] | None,
    round_number: int,
) -> tuple[ballot_printer.PaperKind, ballot_printer.RecommendationPaper]:
    """(RP-3.3) The recommendation paper of one post: every nominable member in ``ballot_order``
    under the ``listed`` layout, none under ``blank``; no ``--person``."""
    if persons:
        raise CliError(
            "print.person_for_recommendation",
            zh="推荐票印出全部可被推荐的党员，不能给出 --person",
            en="a recommendation ballot prints every nominable member: leave out --person",
        )
    post_kind = _recommendation_post(procedure, post)
    spec_post = procedure.post(post_kind)
    assert spec_post is not None  # checked by _recommendation_post
    kind = _PAPER_KINDS[post_kind]
    listed_layout = procedure.recommendation.layout is RecommendationLayout.LISTED
    e = procedure.election
    return kind, ballot_printer.RecommendationPaper(
        branch=e.branch,
        term=e.term,
        group=form,
        post=kind,
        round_number=round_number,
        max_per_ballot=spec_post.max_per_ballot,
        names=tuple(procedure.member(m).name for m in procedure.ballot_order)
        if listed_layout
        else (),
        notes=_notes(procedure, procedure.ballot_order) if listed_layout else (),
    )


def _write_stock_list(listed: Path, stock: ballot_printer.ProcedureStock) -> str:
    """(RP-3.6) Write the sealed list (``procedure-stock/1``); its commitment."""
    sealed = ballot_printer.procedure_stock_list_json(stock)
    keys.write_new_file(listed, sealed, mode=keys.PUBLIC_FILE_MODE)
    commitment: str = json.loads(sealed)["commitment"]
    return commitment


def _printed_lines(
    lg: str, what: str, round_number: int, count: int, out: Path, listed: Path, commitment: str
) -> list[str]:
    """What ``tally procedure print`` says: the paper printed, the sealed list, its commitment."""
    if lg == "zh":
        return [
            f"已打印{what}（第 {round_number} 轮）{count} 张：{out}",
            f"密封的票号清单：{listed}",
            f"票号承诺值：{commitment}",
        ]
    return [
        f"{count} {what} ballot(s), round {round_number}, printed: {out}",
        f"sealed stock list: {listed}",
        f"stock commitment: {commitment}",
    ]


# The procedure log's commands (piece 4), in their own modules to keep this one short.
_register_log(app)
_register_steps(app)
_register_public(app)
