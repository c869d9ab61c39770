"""``tally casework assign|check|extend|conclude|list|summary``: handling cases from the command
line (spec/procedure.md RP-8.4, RP-8.5, RP-9.6, RP-9.7, RP-9.8, RP-13.2).

The verification group's steps on a case, each checked by the casework core and written by the
store in one transaction (a refused step stores nothing): ``assign`` (the group head), ``check``
(a report's assignee records the check), ``extend`` (the group head sets a later due date) and
``conclude`` (the assignee, with a finding and, for an objection, an effect). ``list`` shows the
cases (reference, branch, state, assignee, due dates, overdue, finding: no text and no identity).
``summary`` gives the town committee each branch's numbers from an exported casework bundle (the
same numbers as the town report). Registered on ``tally casework`` by :mod:`tally.cli_casework`.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Callable
from contextlib import closing
from pathlib import Path
from typing import Annotated, Any

import typer

from tally.casework_bundle import read_verified_casework
from tally.casework_store import CaseworkStore
from tally.cli_day.common import MAX_KEY_BYTES
from tally.cli_errors import CliError, run_command
from tally.cli_input import parse_date, read_input
from tally.cli_options import CaseworkFileArg as FileArg
from tally.cli_options import JsonOpt, LangOpt
from tally.core.casework import (
    TOWN_TIME,
    Case,
    CaseState,
    Effect,
    Finding,
    Ledger,
    Step,
    TownCasework,
    assign,
    check,
    conclude,
    extend,
    is_overdue,
    town_casework,
)

__all__ = [
    "assign_cmd",
    "check_cmd",
    "conclude_cmd",
    "extend_cmd",
    "list_cmd",
    "summary_cmd",
]

RefArg = Annotated[str, typer.Argument(help="事项编号（YY-… 异议，MQ-… 民情直报）")]
ActorOpt = Annotated[str, typer.Option("--actor", help="办理人账户（记入日志）")]
OnOpt = Annotated[str | None, typer.Option("--on", help="按哪一天计算逾期（YYYY-MM-DD，默认今天）")]

_STATE_ZH = {"received": "已受理", "assigned": "已交办", "checked": "已核实", "concluded": "已办结"}
_FINDING_ZH = {
    "substantiated": "属实",
    "partly_substantiated": "部分属实",
    "unsubstantiated": "不属实",
    "not_competent": "已转办",
    "duplicate": "重复反映",
}


def _now() -> dt.datetime:
    return dt.datetime.now(TOWN_TIME)


def _day(on: str | None) -> dt.date:
    """``--on``, or today in the town."""
    return _now().date() if on is None else parse_date(on, option="--on")


def _step(
    file: Path,
    reference: str,
    actor: str,
    make: Callable[[Ledger, dt.datetime], Step],
    done: Callable[[str, Case], str],
    lang: str | None,
    as_json: bool,
) -> None:
    """Open the file, make the step at the current time, write it, report the case after it."""

    def action(lg: str) -> tuple[list[str], dict[str, Any]]:
        with closing(CaseworkStore.open(file)) as store:
            at = _now()
            step = make(store.ledger, at)
            store.perform(step, at=at, actor=actor, random=secrets.token_bytes)
            case = store.ledger.case(reference)
        return [done(lg, case)], {"type": step.type, **_case_json(case)}

    run_command(lang, as_json, action)


def assign_cmd(
    file: FileArg,
    reference: RefArg,
    to: Annotated[str, typer.Option("--to", help="交办给哪个查核组成员账户")],
    actor: ActorOpt = "case_head",
    lang: LangOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """交办事项 / Assign a case to a verification-group member (again while not concluded)."""
    _step(
        file,
        reference,
        actor,
        lambda led, at: assign(led, at=at, reference=reference, assignee=to),
        lambda lg, c: (
            f"{c.reference} 已交办给 {c.assignee}，办结期限 {c.due_conclude}"
            if lg == "zh"
            else f"{c.reference} assigned to {c.assignee}, due {c.due_conclude}"
        ),
        lang,
        as_json,
    )


def check_cmd(
    file: FileArg,
    reference: RefArg,
    note: Annotated[str, typer.Option("--note", help="核实情况（必填）")],
    actor: ActorOpt,
    lang: LangOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """记录核实情况（民情直报，承办人）/ Record a report's check (the assignee only)."""
    _step(
        file,
        reference,
        actor,
        lambda led, at: check(led, at=at, reference=reference, actor=actor, note=note),
        lambda lg, c: f"{c.reference} 已记录核实情况" if lg == "zh" else f"{c.reference} checked",
        lang,
        as_json,
    )


def extend_cmd(
    file: FileArg,
    reference: RefArg,
    until: Annotated[str, typer.Option("--until", help="新的办结期限（YYYY-MM-DD）")],
    reason: Annotated[str, typer.Option("--reason", help="延期理由（1 至 200 字）")],
    actor: ActorOpt = "case_head",
    lang: LangOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """延长办结期限（查核组组长）/ Extend a case's due date (the group head)."""
    _step(
        file,
        reference,
        actor,
        lambda led, at: extend(
            led,
            at=at,
            reference=reference,
            due_conclude=parse_date(until, option="--until"),
            reason=reason,
        ),
        lambda lg, c: (
            f"{c.reference} 办结期限延至 {c.due_conclude}"
            if lg == "zh"
            else f"{c.reference} now due {c.due_conclude}"
        ),
        lang,
        as_json,
    )


def conclude_cmd(
    file: FileArg,
    reference: RefArg,
    finding: Annotated[
        Finding,
        typer.Option(
            "--finding",
            help="认定：substantiated 属实，partly_substantiated 部分属实，unsubstantiated 不属实，"
            "not_competent 不属于换届纪律或选举问题（已转办），duplicate 重复反映",
        ),
    ],
    summary: Annotated[
        str, typer.Option("--summary", help="办理结论（必填；重复反映须写明原编号）")
    ],
    actor: ActorOpt,
    effect: Annotated[
        Effect,
        typer.Option(
            "--effect",
            help="处理结果（仅异议）：none 无，not_appointed 不予任命，election_void 选举无效",
        ),
    ] = Effect.NONE,
    lang: LangOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """办结事项（承办人）/ Conclude a case with a finding (the assignee only)."""
    _step(
        file,
        reference,
        actor,
        lambda led, at: conclude(
            led,
            at=at,
            reference=reference,
            actor=actor,
            finding=finding,
            summary=summary,
            effect=effect,
        ),
        lambda lg, c: (
            f"{c.reference} 已办结：{_FINDING_ZH[finding.value]}"
            if lg == "zh"
            else f"{c.reference} concluded: {finding.value}"
        ),
        lang,
        as_json,
    )


def _case_json(c: Case, on: dt.date | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "reference": c.reference,
        "kind": c.kind.value,
        "branch": c.branch,
        "channel": c.channel,
        "own_branch": c.own_branch,
        "received": c.received.isoformat(),
        "state": c.state.value,
        "assignee": c.assignee,
        "due_assign": c.due_assign.isoformat(),
        "due_conclude": c.due_conclude.isoformat(),
        "finding": c.finding.value if c.finding else "",
        "effect": c.effect.value if c.effect else "",
    }
    if on is not None:
        out["overdue"] = is_overdue(c, on)
    return out


def _case_line(c: Case, on: dt.date, lg: str) -> str:
    late = is_overdue(c, on)
    if lg == "zh":
        state = _STATE_ZH[c.state.value] + (
            f"（{_FINDING_ZH[c.finding.value]}）" if c.finding else ""
        )
        who = f"，承办 {c.assignee}" if c.assignee else ""
        return (
            f"{c.reference}　{c.branch}　{state}{who}，期限 {c.due_conclude}"
            + ("　【逾期】" if late else "")
            + ("　（他支部直报员报送）" if not c.own_branch else "")
        )
    state = c.state.value + (f" ({c.finding.value})" if c.finding else "")
    who = f", assigned to {c.assignee}" if c.assignee else ""
    return (
        f"{c.reference}  {c.branch}  {state}{who}, due {c.due_conclude}"
        + ("  [OVERDUE]" if late else "")
        + ("  (from another branch's reporter)" if not c.own_branch else "")
    )


def list_cmd(
    file: FileArg,
    branch: Annotated[str | None, typer.Option("--branch", help="只列出该支部（支部代码）")] = None,
    only_open: Annotated[bool, typer.Option("--open", help="只列出未办结的事项")] = False,
    on: OnOpt = None,
    lang: LangOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """列出事项（查核组）/ List the cases: state, assignee, due date, overdue, finding."""

    def action(lg: str) -> tuple[list[str], dict[str, Any]]:
        day = _day(on)
        with closing(CaseworkStore.open(file)) as store:
            cases = list(store.ledger.cases.values())
        shown = [
            c
            for c in sorted(cases, key=lambda c: (c.kind.value, c.reference))
            if (branch is None or c.branch == branch)
            and (not only_open or c.state is not CaseState.CONCLUDED)
        ]
        lines = [_case_line(c, day, lg) for c in shown] or [
            "（没有事项）" if lg == "zh" else "(no cases)"
        ]
        return lines, {"on": day.isoformat(), "cases": [_case_json(c, day) for c in shown]}

    run_command(lang, as_json, action)


def _summary_lines(town: TownCasework, lg: str) -> list[str]:
    out = [
        f"{town.town}　截至 {town.on}（事项登记簿前 {town.entries} 条记录）"
        if lg == "zh"
        else f"{town.town}, as of {town.on} (the first {town.entries} entries)"
    ]
    for b in town.branches:
        o, r = b.objections, b.reports
        missing = "、".join(g.name for g in b.groups_without_reporter)
        if lg == "zh":
            out.append(
                f"{b.name}：异议 收到 {o.received}、办结 {o.concluded}、未结 {o.open}、逾期 {o.overdue}；"
                f"民情直报 收到 {r.received}、办结 {r.concluded}、未结 {r.open}、逾期 {r.overdue}"
                f"（他支部报送 {b.reports_from_other_branches}）；"
                f"直报员 {sum(g.reporters for g in b.groups)} 名"
                + (f"，无直报员的小组：{missing}" if missing else "")
            )
        else:
            out.append(
                f"{b.name}: objections {o.received} in, {o.concluded} concluded, {o.open} open, "
                f"{o.overdue} overdue; reports {r.received} in, {r.concluded} concluded, "
                f"{r.open} open, {r.overdue} overdue ({b.reports_from_other_branches} from "
                f"another branch); {sum(g.reporters for g in b.groups)} reporters"
                + (f", groups without one: {missing}" if missing else "")
            )
    return out


def summary_cmd(
    bundle: Annotated[Path, typer.Argument(help="事项登记簿导出包文件夹（tally casework export）")],
    town_key: Annotated[
        Path,
        typer.Option("--town-key", help="镇党委公钥文件（先用 verifier casework 核验 V31）"),
    ],
    on: OnOpt = None,
    lang: LangOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """各支部事项统计（镇党委）/ Each branch's cases, from a casework bundle that passed V31."""

    def action(lg: str) -> tuple[list[str], dict[str, Any]]:
        day = _day(on)
        # (RP-13.2) numbers only from a bundle that the independent verifier passed (V31)
        read_input(
            town_key, limit=MAX_KEY_BYTES
        )  # a FIFO or /dev/zero: refused before the verifier
        ledger, verification = read_verified_casework(bundle, town_key)
        if ledger is None:
            codes = (
                "、".join(verification.codes()) if lg == "zh" else ", ".join(verification.codes())
            )
            raise CliError(
                "casework.bundle",
                zh=f"事项登记簿导出包未通过核验（V31：{codes}），不给出任何数字",
                en=f"the casework bundle failed verification (V31: {codes}): no number is given",
            )
        town = town_casework(ledger, day)
        return _summary_lines(town, lg), town.document()

    run_command(lang, as_json, action)
