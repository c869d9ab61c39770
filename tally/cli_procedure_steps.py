"""``tally procedure propose|evaluate|vet|publish``: the steps after the recommendation
(spec/procedure.md RP-4.5, RP-5.1, RP-5.2, RP-6.1, RP-12.1).

The proposed preliminary list is computed by the ranking core from the log's counts and the
recorded omissions, the evaluation session lists the names of the version it evaluates, the
vetting record applies the evaluation's outcomes and the town's findings; each is appended to the
procedure log (:class:`tally.procedure_store.ProcedureStore`) only as the core computes it. The
evaluation's ballots are issued, returned, entered and counted with the log commands
(``--form evaluation``). ``publish`` writes the procedure bundle for the town committee.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any

import typer

from tally.cli_day import _run
from tally.cli_errors import CliError
from tally.cli_input import parse_date
from tally.cli_options import (
    ActorOpt,
    JsonOpt,
    KeyOpt,
    LangOpt,
    MemberOpt,
    MembersFileOpt,
    NewFolderOpt,
    ProcedureDbArg,
)
from tally.cli_procedure_log import (
    append,
    checkpoint_lines,
    members_of,
    store_command,
    with_store,
)
from tally.core.model import MemberId, zh_label
from tally.core.procedure.ledger import evaluation_opening, proposal_body, vetting_body
from tally.core.procedure.ranking import Omission, OmissionReason, Proposal
from tally.core.procedure.vetting import VettingRecord
from tally.procedure_store import ProcedureStore

__all__ = ["register"]

DeclinedOpt = Annotated[
    list[str] | None,
    typer.Option("--declined", help="本人书面放弃：党员编号=放弃书编号（可多次）"),
]
DisqualifiedOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--disqualified", help="十不推：党员编号=类别:镇党委认定文号，如 M003=td4:红组〔2026〕7号"
    ),
]


def _omissions(declined: Sequence[str], disqualified: Sequence[str]) -> list[Omission]:
    """(RP-4.4, RP-6.1) ``ID=REF`` declinations and ``ID=tdN:REF`` findings; the core checks
    the member, the category and the reference."""
    out: list[Omission] = []
    for item in declined:
        member, _, reference = item.partition("=")
        out.append(Omission(MemberId(member.strip()), OmissionReason.DECLINED, "", reference))
    for item in disqualified:
        member, _, rest = item.partition("=")
        category, _, reference = rest.partition(":")
        out.append(
            Omission(
                MemberId(member.strip()),
                OmissionReason.TEN_DISQUALIFICATIONS,
                category.strip(),
                reference,
            )
        )
    return out


def propose_cmd(
    db: ProcedureDbArg,
    election_date: Annotated[str, typer.Option("--election-date", help="计划选举日期 YYYY-MM-DD")],
    key: KeyOpt,
    declined: DeclinedOpt = None,
    disqualified: DisqualifiedOpt = None,
    actor: ActorOpt = "",
    lang: LangOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """提出候选人初步人选（按推荐结果和规则计算） / Propose the preliminary list (RP-4.5).

    第一版按两推结果计算；考察审查之后人选不足的，再次运行得到补充的下一版（RP-6.3）。
    Version 1 from the counts; after a vetting record, the next version's supplement.
    """

    def run(store: ProcedureStore, lg: str) -> tuple[list[str], dict[str, Any]]:
        day = parse_date(election_date, option="--election-date")
        found = _omissions(declined or [], disqualified or [])
        proposal = proposal_body(store.ledger, election_date=day, omissions=found)
        text = append(store, key, actor, "preliminary.proposed", proposal.to_json())
        lines = _proposal_lines(store, proposal, lg) + checkpoint_lines(text, lg)
        return lines, {"proposal": proposal.to_json()}

    store_command(db, lang, as_json, run)


def _proposal_lines(store: ProcedureStore, proposal: Proposal, lg: str) -> list[str]:
    p = store.signed.procedure
    zh = lg == "zh"
    lines = [
        f"候选人初步人选（第 {proposal.version} 版）"
        if zh
        else f"preliminary list, version {proposal.version}"
    ]
    for post in proposal.posts:
        lines.append(f"{zh_label(post.post)}：" if zh else f"{post.post.value}:")
        for n in post.names:
            lines.append(
                f"  {p.member(n.member).name}（{n.member}）党员推荐 {n.member_recommendations}，"
                f"群众推荐 {n.public_recommendations}，得分 {n.score}，{n.basis.value}"
                if zh
                else f"  {p.member(n.member).name} ({n.member}) members {n.member_recommendations}"
                f", public {n.public_recommendations}, score {n.score}, {n.basis.value}"
            )
        for o in post.omitted:
            lines.append(
                f"  未列入：{p.member(o.member).name}（{o.reason.value} {o.reference}）"
                if zh
                else f"  left out: {p.member(o.member).name} ({o.reason.value} {o.reference})"
            )
        if post.short:
            lines.append(
                "  注意：得到推荐的人数少于初步人选人数"
                if zh
                else "  note: fewer people were recommended than the preliminary size"
            )
        lines += [f"  {w.message(lg)}" for w in post.warnings]
    return lines


def evaluate_cmd(
    db: ProcedureDbArg,
    public: Annotated[int, typer.Option("--public", help="到会群众代表人数")],
    key: KeyOpt,
    member: MemberOpt = None,
    members_file: MembersFileOpt = None,
    actor: ActorOpt = "",
    lang: LangOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """开始群众测评（测评最新一版初步人选） / Open the evaluation of the latest names (RP-5.2).

    之后用 issue、return、enter、count 加 --form evaluation 记录测评票。
    Then issue, return, enter and count with --form evaluation.
    """

    def run(store: ProcedureStore, lg: str) -> tuple[list[str], dict[str, Any]]:
        ids = members_of(member, members_file)
        opening = evaluation_opening(store.ledger)
        if opening is None:
            raise CliError(
                "procedure.nothing_to_evaluate",
                zh="没有待测评的初步人选",
                en="no proposed names wait for an evaluation",
            )
        round_no, version, persons = opening
        body: dict[str, Any] = {
            "round": round_no,
            "version": version,
            "candidates": list(persons),
            "present_members": list(ids),
            "public_present": public,
            "present": len(ids) + public,
        }
        append(store, key, actor, "evaluation.opened", body)
        names = "、".join(store.signed.procedure.member(m).name for m in persons)
        line = (
            f"群众测评第 {round_no} 轮开始（第 {version} 版初步人选）：到会 {body['present']} 人；"
            f"测评对象 {names}"
            if lg == "zh"
            else f"evaluation round {round_no} (version {version}) opened: "
            f"{body['present']} present; evaluating {names}"
        )
        return [line], body

    store_command(db, lang, as_json, run)


def vet_cmd(
    db: ProcedureDbArg,
    key: KeyOpt,
    declined: DeclinedOpt = None,
    disqualified: DisqualifiedOpt = None,
    actor: ActorOpt = "",
    lang: LangOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """记录组织考察、审查结果（测评结果和镇党委认定） / Record the vetting (RP-6.1)."""

    def run(store: ProcedureStore, lg: str) -> tuple[list[str], dict[str, Any]]:
        found = _omissions(declined or [], disqualified or [])
        record = vetting_body(store.ledger, found)
        text = append(store, key, actor, "vetting.recorded", record.to_json())
        lines = _vetting_lines(store, record, lg) + checkpoint_lines(text, lg)
        return lines, {"vetting": record.to_json()}

    store_command(db, lang, as_json, run)


def _vetting_lines(store: ProcedureStore, record: VettingRecord, lg: str) -> list[str]:
    p = store.signed.procedure
    zh = lg == "zh"
    lines: list[str] = []
    for post in record.posts:
        names = "、".join(p.member(m).name for m in post.proceeding) or "—"
        lines.append(
            f"{zh_label(post.post)}：考察通过 {names}" if zh else f"{post.post.value}: {names}"
        )
        for s in post.stopped:
            lines.append(
                f"  不再列入：{p.member(s.member).name}（{s.reason.value}）"
                if zh
                else f"  stopped: {p.member(s.member).name} ({s.reason.value})"
            )
    return lines


def publish_cmd(
    db: ProcedureDbArg,
    out: NewFolderOpt,
    lang: LangOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """写出换届程序结果包，交镇党委核验 / Write the procedure bundle for the town (RP-12.1)."""

    def act(lg: str) -> tuple[list[str], dict[str, Any]]:
        if out.exists() and (not out.is_dir() or any(out.iterdir())):
            raise CliError(
                "publish.exists",
                zh=f"输出文件夹已存在且不为空：{out}",
                en=f"the output folder exists and is not empty: {out}",
            )
        files = with_store(db, lambda s: s.bundle_files())
        for f in files:
            target = out / f.path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(f.data)
        line = (
            f"已写出换届程序结果包（{len(files)} 个文件）：{out}"
            if lg == "zh"
            else f"procedure bundle written ({len(files)} files): {out}"
        )
        return [line], {"out": str(out), "files": [f.path for f in files]}

    _run(lang, as_json, act)


def register(app: typer.Typer) -> None:
    """Register the steps' commands on the ``tally procedure`` app."""
    for name, command in (
        ("propose", propose_cmd),
        ("evaluate", evaluate_cmd),
        ("vet", vet_cmd),
        ("publish", publish_cmd),
    ):
        app.command(name)(command)
