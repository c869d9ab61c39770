"""``tally``: the work group's command line (a thin shell over tally.core).

Every command reads its inputs, calls one core operation and prints the result in Simplified
Chinese (``--lang en`` or TALLY_LANG=en for English). ``--json`` prints machine-readable output.
Errors are one clear line per problem on stderr and exit code 1.
"""

from __future__ import annotations

import json
import os
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer

from tally.cli_errors import CliError, clause_note, fail
from tally.cli_input import read_input_text
from tally.core.definition import parse_definition
from tally.core.errors import DefinitionError, Problem, TallyError
from tally.core.explain import describe_next, describe_outcome, describe_quorum, outcome_json
from tally.core.marks_file import (
    AmendCandidatesStep,
    ReduceSeatsStep,
    RoundStep,
    parse_marks_file,
)
from tally.core.model import Election, MemberId, PostKind, QualificationPolicy, zh_label
from tally.core.rounds import (
    Blocked,
    ElectionState,
    Finished,
    RoundInput,
    RoundSpec,
    amend_candidates,
    apply_outcome,
    count_round,
    next_round,
    reduce_seats,
    start,
)
from tally.core.rules import (
    expected_electors,
    full_members_on_roster,
    is_eligible_elector,
    qualification_problems,
    quorum,
)

__all__ = ["app", "main"]

MAX_INPUT_BYTES = 8 * 1024 * 1024


class Lang(StrEnum):
    zh = "zh"
    en = "en"


app = typer.Typer(
    name="tally",
    help="党支部换届选举计票与核验 / Party branch election tally.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

LangOpt = Annotated[Lang | None, typer.Option("--lang", help="界面语言 zh（默认）或 en / language")]
JsonOpt = Annotated[bool, typer.Option("--json", help="输出 JSON / machine-readable output")]


@app.callback()
def _global_options(ctx: typer.Context, lang: LangOpt = None, as_json: JsonOpt = False) -> None:
    """``--lang`` and ``--json`` before the subcommand mean the same as after it."""
    given: dict[str, Any] = {}
    if lang is not None:
        given["--lang"] = lang.value
    if as_json:
        given["--json"] = True
    if given and isinstance(ctx.command, typer.core.TyperGroup):
        ctx.default_map = _defaults_for(ctx.command, given)


def _defaults_for(group: Any, given: dict[str, Any]) -> dict[str, Any]:
    """A click default map giving every (sub)command that has ``--lang``/``--json`` the value."""
    out: dict[str, Any] = {}
    for name, cmd in group.commands.items():
        sub = getattr(cmd, "commands", None)
        if isinstance(sub, dict):
            out[name] = _defaults_for(cmd, given)
            continue
        values = {
            p.name: given[o] for p in cmd.params for o in getattr(p, "opts", ()) if o in given
        }
        if values:
            out[name] = values
    return out


def _lang(option: Lang | None) -> str:
    if option is not None:
        return option.value
    env = os.environ.get("TALLY_LANG", "zh")
    return "en" if env == "en" else "zh"


def _problems_json(problems: tuple[Problem, ...], lang: str) -> list[dict[str, str]]:
    return [
        {
            "code": p.code,
            "path": p.path,
            "clause": p.clause,
            "message": p.zh if lang == "zh" else p.en,
        }
        for p in problems
    ]


def _fail_definition(e: DefinitionError, lang: str, as_json: bool, what: Path) -> NoReturn:
    fail(
        lang,
        as_json,
        e,
        indent=2,
        details=[f"{what}: {p.message(lang)}{clause_note(p.clause, lang)}" for p in e.problems],
        problems=_problems_json(e.problems, lang),
    )


def _read_text(path: Path, lang: str, as_json: bool) -> str:
    try:
        return read_input_text(path, limit=MAX_INPUT_BYTES)
    except CliError as e:
        return fail(lang, as_json, e, indent=2)  # (fail never returns)


def _load_election(path: Path, lang: str, as_json: bool) -> Election:
    text = _read_text(path, lang, as_json)
    try:
        return parse_definition(text)
    except DefinitionError as e:
        _fail_definition(e, lang, as_json, path)


def _warnings(election: Election, lang: str) -> list[str]:
    zh = lang == "zh"
    out: list[str] = []
    params = election.parameters
    if params.qualification_policy is QualificationPolicy.WARN:
        for post in election.posts:
            for cid in post.candidates:
                for p in qualification_problems(
                    post.kind, election.member(cid), election.election_date, params
                ):
                    out.append(
                        f"{p.message(lang)}（{p.clause}）"
                        if zh
                        else f"{p.message(lang)} ({p.clause})"
                    )
    full = full_members_on_roster(election.members)
    if not election.has_committee and full >= 7:
        out.append(
            f"名册上有 {full} 名正式党员，正式党员 7 人以上的支部应设立支部委员会（R23）"
            if zh
            else f"{full} full members on the roster: a branch with 7 or more should have a "
            "committee (R23)"
        )
    committee = election.post(PostKind.COMMITTEE)
    if committee is not None:
        out.extend(_stroke_order_warnings(election, committee.candidates, lang))
    out.extend(_name_warnings(election, lang))
    return out


def _name_warnings(election: Election, lang: str) -> list[str]:
    """(D-5.3) Names that mix scripts or look like another member's (TR39), as warnings."""
    from tally.roster_names import name_warnings  # noqa: PLC0415 - ICU loads only for check

    out: list[str] = []
    for w in name_warnings((str(m.id), m.name) for m in election.members):
        if w.code == "member.name_mixed_script":
            out.append(
                f"{w.member} 的姓名“{w.name}”混用了多种文字，请核对（{w.code}，D-5.3）"
                if lang == "zh"
                else f"{w.member}'s name {w.name!r} mixes scripts: check it ({w.code}, D-5.3)"
            )
        else:
            other = election.member(MemberId(w.other)).name
            out.append(
                f"{w.member} 的姓名“{w.name}”与 {w.other} 的“{other}”看起来相同，请核对"
                f"（{w.code}，D-5.3）"
                if lang == "zh"
                else f"{w.member}'s name {w.name!r} looks like {w.other}'s {other!r}: check it "
                f"({w.code}, D-5.3)"
            )
    return out


def _stroke_order_warnings(election: Election, ids: tuple[Any, ...], lang: str) -> list[str]:
    from tally import strokes  # noqa: PLC0415 - the table loads only when a committee is checked

    names = [election.member(c).name for c in ids]
    try:
        suggested = list(strokes.suggest_order(names))
    except strokes.StrokeOrderError as e:
        return [getattr(e, lang, str(e))]
    if suggested == names:
        return []
    if lang == "zh":
        return [
            "委员候选人顺序与姓氏笔画顺序建议不一致（R29）：建议 "
            + "、".join(suggested)
            + "；清单为 "
            + "、".join(names)
            + "。请核对批准的顺序。"
        ]
    return [
        "committee candidate order differs from the stroke-count suggestion (R29): suggested "
        + ", ".join(suggested)
        + "; file has "
        + ", ".join(names)
    ]


@app.command("check")
def check(
    election_file: Annotated[Path, typer.Argument(help="选举定义文件 (TOML)")],
    procedure: Annotated[
        Path | None,
        typer.Option("--procedure", help="换届程序文件：核对候选人与镇党委批复一致（RP-6.5）"),
    ] = None,
    lang: LangOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """核对选举定义文件，列出全部问题 / Validate an election definition."""
    lg = _lang(lang)
    election = _load_election(election_file, lg, as_json)
    if procedure is not None:
        # Imported here: cli_procedure_town is imported after ``app`` exists (it adds commands).
        from tally.cli_procedure_town import check_binding  # noqa: PLC0415

        check_binding(procedure, election, lg, as_json)
    warnings = _warnings(election, lg)
    if as_json:
        typer.echo(json.dumps(_check_json(election, warnings), ensure_ascii=False, indent=2))
        return
    typer.echo("\n".join(_check_lines(election, warnings, lg)))


def _check_json(election: Election, warnings: list[str]) -> dict[str, Any]:
    """The summary `check --json` prints for a valid definition."""
    expected = len(expected_electors(election))
    q = quorum(0, expected, election.parameters.quorum_comparison)
    return {
        "ok": True,
        "branch": election.branch,
        "preset": election.parameters.preset.value,
        "members": len(election.members),
        "eligible_electors": sum(1 for m in election.members if is_eligible_elector(m)),
        "exclusions": len(election.exclusions),
        "expected_electors": expected,
        "quorum_minimum_present": q.minimum_present,
        "posts": [
            {
                "post": p.kind.value,
                "seats": p.seats,
                "candidates": list(p.candidates),
                "margin": p.margin.value,
            }
            for p in election.posts
        ],
        "secretary_elected_by": election.secretary_body.value,
        "remote_voting_approved": list(election.remote_voting.approved),
        "warnings": warnings,
    }


def _check_lines(election: Election, warnings: list[str], lg: str) -> list[str]:
    """The summary `check` prints for a valid definition, one line a fact, in the language."""
    expected = len(expected_electors(election))
    eligible = sum(1 for m in election.members if is_eligible_elector(m))
    q = quorum(0, expected, election.parameters.quorum_comparison)
    zh = lg == "zh"
    out = [
        f"{election.title}（{election.term}）" if zh else f"{election.title} ({election.term})",
        (
            f"规则：{zh_label(election.parameters.preset)}；名册 {len(election.members)} 人，"
            f"有选举权 {eligible} 人，不计入 {len(election.exclusions)} 人，"
            f"应到会有选举权人数 E={expected}（R2、R3）"
        )
        if zh
        else (
            f"Rules: {election.parameters.preset.value}; roster {len(election.members)}, "
            f"eligible {eligible}, excluded {len(election.exclusions)}, E={expected} (R2, R3)"
        ),
        (f"会议有效至少需实到 {q.minimum_present} 人（{zh_label(q.comparison)}，R5）")
        if zh
        else (f"Quorum: at least {q.minimum_present} present ({q.comparison.value}, R5)"),
    ]
    for p in election.posts:
        names = "、".join(election.member(c).name for c in p.candidates)
        out.append(
            f"{zh_label(p.kind)}：应选 {p.seats} 名，候选人 {len(p.candidates)} 名"
            f"（{zh_label(p.margin)}）：{names}"
            if zh
            else f"{p.kind.value}: {p.seats} seat(s), {len(p.candidates)} candidates "
            f"({p.margin.value}): {', '.join(election.member(c).name for c in p.candidates)}"
        )
    if election.remote_voting.approved:
        out.append(
            f"经镇党委批准远程投票：{len(election.remote_voting.approved)} 人"
            + (
                "（计入到会人数，R24）"
                if election.remote_voting.counts_toward_quorum
                else "（不计入到会人数，R24）"
            )
            if zh
            else f"Remote voting approved for {len(election.remote_voting.approved)} "
            f"member(s) (R24)"
        )
    for w in warnings:
        out.append(("提醒：" if zh else "warning: ") + w)
    out.append("核对通过。" if zh else "The definition is valid.")
    return out


@app.command("simulate")
def simulate(
    election_file: Annotated[Path, typer.Argument(help="选举定义文件 (TOML)")],
    ballots: Annotated[Path, typer.Option("--ballots", help="选票标记文件 (TOML)")],
    lang: LangOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """按选票标记文件逐轮计票并说明结果 / Run the rounds on a file of ballot marks."""
    lg = _lang(lang)
    election = _load_election(election_file, lg, as_json)
    text = _read_text(ballots, lg, as_json)
    try:
        steps = parse_marks_file(text, election)
    except DefinitionError as e:
        _fail_definition(e, lg, as_json, ballots)
    state = start(election)
    lines: list[str] = []
    rounds_json: list[dict[str, Any]] = []
    for i, step in enumerate(steps):
        try:
            if not isinstance(step, RoundStep):
                state, line = _record_decision(state, step, lg)
                lines.append(line)
                continue
            due = _due_round(state, step, i, election, lg, as_json)
            outcome = count_round(
                state,
                due,
                RoundInput(
                    present=step.present,
                    issued=step.issued,
                    returned=step.returned,
                    ballots=step.ballots,
                ),
            )
            state = apply_outcome(state, outcome)
        except TallyError as e:
            fail(
                lg,
                as_json,
                CliError(e.code, zh=f"steps[{i}]：{e.zh}", en=f"steps[{i}]: {e.en}"),
                indent=2,
            )
        rounds_json.append(outcome_json(outcome))
        lines.extend(describe_outcome(outcome, election, lg))
        lines.append("")
    nxt = next_round(state)
    if as_json:
        typer.echo(
            json.dumps(
                {
                    "ok": True,
                    "rounds": rounds_json,
                    "finished": isinstance(nxt, Finished),
                    "blocked": nxt.code if isinstance(nxt, Blocked) else None,
                    "elected": {k.value: list(v) for k, v in nxt.elected}
                    if isinstance(nxt, Finished)
                    else None,
                    "next": describe_next(nxt, election, lg),
                },
                ensure_ascii=False,
                indent=2,
            )
        )
        return
    lines.append(describe_next(nxt, election, lg))
    typer.echo("\n".join(lines))


def _record_decision(
    state: ElectionState, step: ReduceSeatsStep | AmendCandidatesStep, lg: str
) -> tuple[ElectionState, str]:
    """Apply a recorded decision of the marks file (R17 fewer seats, R20 an amended list).

    Returns the new state and the line that says what was recorded.
    """
    if isinstance(step, ReduceSeatsStep):
        state = reduce_seats(
            state,
            step.post,
            new_seats=step.seats,
            assembly_consent=step.assembly_consent,
            town_agreement=step.town_agreement,
        )
        return state, (
            f"记录决定：{zh_label(step.post)}名额减为 {step.seats} 名（R17）"
            if lg == "zh"
            else f"Recorded: {step.post.value} seats reduced to {step.seats} (R17)"
        )
    state = amend_candidates(state, step.post, step.candidates)
    return state, (
        f"记录镇党委签署的{zh_label(step.post)}候选人名单（R20）"
        if lg == "zh"
        else f"Recorded the town's amended {step.post.value} list (R20)"
    )


def _due_round(
    state: ElectionState, step: RoundStep, i: int, election: Election, lg: str, as_json: bool
) -> RoundSpec:
    """The round due now, which must be of the post step `i` of the marks file names."""
    due = next_round(state)
    if not isinstance(due, RoundSpec):
        fail(
            lg,
            as_json,
            CliError(
                "simulate.no_round_due",
                zh=f"steps[{i}]：此时没有待进行的轮次：{describe_next(due, election, 'zh')}",
                en=f"steps[{i}]: no round is due: {describe_next(due, election, 'en')}",
            ),
            indent=2,
        )
    if due.post is not step.post:
        fail(
            lg,
            as_json,
            CliError(
                "simulate.wrong_post",
                zh=f"steps[{i}]：当前应进行{zh_label(due.post)}选举，文件写的是"
                f"{zh_label(step.post)}",
                en=f"steps[{i}]: the {due.post.value} round is due, the file has {step.post.value}",
            ),
            indent=2,
        )
    return due


@app.command("quorum")
def quorum_cmd(
    election_file: Annotated[Path, typer.Argument(help="选举定义文件 (TOML)")],
    present: Annotated[int, typer.Option("--present", min=0, help="实到有选举权人数")],
    lang: LangOpt = None,
) -> None:
    """按实到人数判断会议是否有效 / Check the assembly quorum for a number present."""
    lg = _lang(lang)
    election = _load_election(election_file, lg, False)
    q = quorum(present, len(expected_electors(election)), election.parameters.quorum_comparison)
    typer.echo(describe_quorum(q, lg))
    if not q.valid:
        raise typer.Exit(1)


# The sub-apps are imported here, after ``app`` exists, because they add commands to it.
from tally.cli_accounts import app as accounts_app  # noqa: E402
from tally.cli_audit import register as register_audit  # noqa: E402
from tally.cli_casework import app as casework_app  # noqa: E402
from tally.cli_day import register  # noqa: E402
from tally.cli_keys import app as keys_app  # noqa: E402
from tally.cli_procedure import app as procedure_app  # noqa: E402
from tally.cli_procedure_town import register as register_town_acts  # noqa: E402
from tally.cli_remote import app as remote_app  # noqa: E402
from tally.cli_town_report import register as register_town_report  # noqa: E402

app.add_typer(keys_app, name="keys", help="密钥管理 / keys")
app.add_typer(casework_app, name="casework", help="异议与民情直报 / casework")
app.add_typer(remote_app, name="remote", help="远程投票 / remote voting")
register(app)
register_audit(app)
register_town_report(app)
app.add_typer(accounts_app, name="accounts", help="投票站页面账户 / station accounts")
register_town_acts(procedure_app)
app.add_typer(procedure_app, name="procedure", help="换届程序（推荐、测评、任命） / the procedure")


def main() -> None:
    """Console-script entry point."""
    try:
        app()
    except KeyboardInterrupt:  # pragma: no cover - interactive only
        sys.exit(130)
