"""``tally procedure open|stock|session|issue|return|enter|withdraw|count|cosign``: the
procedure log kept by the work group (spec/procedure.md RP-3.2-RP-3.10, RP-5.2-RP-5.4, RP-11).

A thin shell over :class:`tally.procedure_store.ProcedureStore`: each command reads its options,
builds one entry body (the counts by the core, :mod:`tally.core.procedure.ledger`), appends it
and says what was recorded, in Chinese (``--lang en`` for English) or JSON; every refusal is one
line and exit 1, and leaves the file as it was. The commands are registered on the
``tally procedure`` app by :func:`register` (from ``tally.cli_procedure``).
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer

import keys
from ballot_printer import parse_procedure_qr_text
from tally.cli_day import _run
from tally.cli_day.common import _town_root
from tally.cli_errors import CliError
from tally.cli_input import read_input, read_input_text
from tally.cli_options import (
    KIND_NAMES,
    ActorOpt,
    JsonOpt,
    KeyOpt,
    LangOpt,
    MemberOpt,
    MembersFileOpt,
    ProcedureDbArg,
    TownPublicOpt,
    key_signer,
)
from tally.core.model import MemberId, PostKind, zh_label
from tally.core.procedure.entries import (
    DeclaredInvalid,
    EvaluationEntered,
    Form,
    RecommendationEntered,
)
from tally.core.procedure.errors import ProcedureCountError
from tally.core.procedure.ledger import Ledger, RoundKey, count_body, recommendation_opening
from tally.election_log import now
from tally.procedure_file import MAX_PROCEDURE_BYTES
from tally.procedure_store import ProcedureStore, confirm_invalid, open_recommendation_session

__all__ = [
    "append",
    "checkpoint_lines",
    "form_of",
    "members_of",
    "post_of",
    "register",
    "store_command",
    "with_store",
]

FormOpt = Annotated[
    str, typer.Option("--form", help="member 党员推荐 / public 群众推荐 / evaluation 群众测评")
]
PostOpt = Annotated[
    str | None,
    typer.Option("--post", help="推荐的职位：committee / secretary / deputy（测评不填）"),
]
_FORM_ZH = {Form.MEMBER: "党员推荐", Form.PUBLIC: "群众推荐", Form.EVALUATION: "群众测评"}
_MAX_LIST_BYTES = 4 * 1024 * 1024
R = TypeVar("R")


def form_of(value: str) -> Form:
    """``--form``: member, public or evaluation (``procedure.form`` otherwise)."""
    try:
        return Form(value)
    except ValueError:
        raise CliError(
            "procedure.form",
            zh=f"未知的票种 {value}（member / public / evaluation）",
            en=f"unknown form {value} (member / public / evaluation)",
        ) from None


def post_of(form: Form, value: str | None) -> PostKind | None:
    """``--post`` for the form: a post of a recommendation, none for the evaluation."""
    if form is Form.EVALUATION:
        if value is not None:
            raise CliError(
                "print.post_for_evaluation",
                zh="测评票不分职位，不能给出 --post",
                en="an evaluation ballot has no post: leave out --post",
            )
        return None
    if value is None or value not in KIND_NAMES:
        raise CliError(
            "print.post_missing",
            zh="推荐票须给出职位 --post（committee / secretary / deputy）",
            en="a recommendation ballot needs --post (committee / secretary / deputy)",
        )
    return KIND_NAMES[value]


def _what(form: Form, post: PostKind | None, lg: str) -> str:
    if lg == "zh":
        return _FORM_ZH[form] + (f"（{zh_label(post)}）" if post else "")
    return form.value + (f" ({post.value})" if post else "")


def with_store(db: Path, act: Callable[[ProcedureStore], R]) -> R:
    """Open the procedure file, run ``act`` on it, close it."""
    store = ProcedureStore.open(db)
    try:
        return act(store)
    finally:
        store.close()


def store_command(
    db: Path,
    lang: str | None,
    as_json: bool,
    run: Callable[[ProcedureStore, str], tuple[list[str], dict[str, Any]]],
) -> None:
    """Run a command on the procedure file: ``run(store, lang)`` gives its lines and JSON."""
    _run(lang, as_json, lambda lg: with_store(db, lambda store: run(store, lg)))


def append(
    store: ProcedureStore,
    key: Path,
    actor: str,
    type_: str,
    body: dict[str, Any],
    *,
    stock_list: bytes | None = None,
) -> str | None:
    """Append one entry signed for with the work group key; the checkpoint text made after it."""
    signer = key_signer(key, keys.Role.WORK_GROUP)
    _, text = store.append(
        type_,
        body,
        at=now(),
        actor=actor,
        work_group=signer,
        random=secrets.token_bytes,
        stock_list=stock_list,
    )
    return text


def checkpoint_lines(text: str | None, lg: str) -> list[str]:
    if text is None:
        return []
    reason = text.splitlines()[3]
    return [f"检查点：{reason}" if lg == "zh" else f"checkpoint: {reason}"]


def _session_round(ledger: Ledger, form: Form) -> int:
    s = ledger.session
    if s is None or s.form is not form:
        raise CliError(
            "procedure.no_session",
            zh=f"没有正在进行的{_FORM_ZH[form]}会议",
            en=f"no {form.value} session is open",
        )
    return s.round


# -- open, stock ---------------------------------------------------------------------------------
def open_cmd(
    db: ProcedureDbArg,
    procedure_file: Annotated[Path, typer.Option("--procedure", help="镇党委签署的换届程序定义")],
    town_key: TownPublicOpt,
    key: KeyOpt,
    actor: ActorOpt = "",
    lang: LangOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """建立换届程序文件（推荐、测评记录从这里开始） / Open the branch's procedure file."""

    def act(lg: str) -> tuple[list[str], dict[str, Any]]:
        root = _town_root(town_key)
        raw = read_input(procedure_file, limit=MAX_PROCEDURE_BYTES)
        store = ProcedureStore.create(
            db,
            signed_procedure=raw,
            trust_root=root,
            work_group=key_signer(key, keys.Role.WORK_GROUP),
            at=now(),
            actor=actor,
            random=secrets.token_bytes,
        )
        pid = store.procedure_id.hex()
        branch = store.signed.procedure.election.branch
        store.close()
        lines = (
            [f"已建立换届程序文件：{db}", f"支部：{branch}", f"程序标识：{pid}"]
            if lg == "zh"
            else [f"procedure file opened: {db}", f"branch: {branch}", f"procedure id: {pid}"]
        )
        return lines, {"file": str(db), "procedure_id": pid, "checkpoint": "opened"}

    _run(lang, as_json, act)


def stock_cmd(
    db: ProcedureDbArg,
    stock_list: Annotated[Path, typer.Argument(help="tally procedure print 写出的密封票号清单")],
    key: KeyOpt,
    supplement: Annotated[
        bool,
        typer.Option(
            "--supplement", help="补印：本轮已登记的票不够时再登记一批（发票前，按批次编号）"
        ),
    ] = False,
    actor: ActorOpt = "",
    lang: LangOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """登记印制的推荐票或测评票（票号承诺） / Commit a printed stock to the log (RP-3.6).

    票不够时（发票前）用 tally procedure print 为同一轮再印一批，再用 --supplement 登记为
    补印批次（第 2、3…批）。With --supplement: a supplementary print for the same round,
    before its ballots are issued, committed as the round's next part.
    """

    def act(lg: str) -> tuple[list[str], dict[str, Any]]:
        sealed = read_input(stock_list, limit=_MAX_LIST_BYTES)
        try:
            doc = json.loads(sealed)
            body = {k: doc[k] for k in ("form", "post", "round", "count", "commitment")}
        except (ValueError, KeyError, TypeError) as e:
            raise CliError(
                "stock.list",
                zh=f"不是推荐票或测评票的票号清单：{stock_list}",
                en=f"not a procedure stock list: {stock_list}",
            ) from e

        def commit(s: ProcedureStore) -> tuple[str | None, int]:
            part = _stock_part(s.ledger, body, supplement=supplement)
            type_ = "stock.supplemented" if part > 1 else "stock.committed"
            full = body | ({"part": part} if part > 1 else {})
            return append(s, key, actor, type_, full, stock_list=sealed), part

        text, part = with_store(db, commit)
        what = f"{body['form']} {body['post'] or '-'} {body['round']}"
        head = (
            f"已登记票号清单（{what}，{body['count']} 张）"
            if lg == "zh"
            else f"stock committed ({what}, {body['count']} ballots)"
        )
        if part > 1:
            head = (
                f"已登记补印的第 {part} 批票号清单（{what}，{body['count']} 张）"
                if lg == "zh"
                else f"supplementary print part {part} committed ({what}, {body['count']} ballots)"
            )
        return [head, *checkpoint_lines(text, lg)], {"stock": body, "part": part}

    _run(lang, as_json, act)


def _stock_part(ledger: Ledger, body: dict[str, Any], *, supplement: bool) -> int:
    """The part a stock list is committed as: 1, or with ``--supplement`` the round's next part
    (the ledger refuses a supplement before the first part or after the issue). A second first
    print is refused here with the option named (``stock.twice``)."""
    parts = [
        n
        for k, n in ledger.stock_parts
        if (k.form.value, k.post.value if k.post else "", k.round)
        == (body["form"], body["post"], body["round"])
    ]
    if supplement:
        return max(parts, default=1) + 1
    if parts:
        raise CliError(
            "stock.twice",
            zh="本轮这种票已登记；票不够时再印一批，用 --supplement 登记为补印",
            en="this round's stock is committed already; commit a further print with --supplement",
        )
    return 1


# -- sessions ------------------------------------------------------------------------------------
def members_of(members: list[str] | None, members_file: Path | None) -> list[MemberId]:
    ids = [MemberId(m) for m in members or []]
    if members_file is not None:
        text = read_input_text(members_file, limit=_MAX_LIST_BYTES)
        ids += [MemberId(line.strip()) for line in text.splitlines() if line.strip()]
    return ids


def session_cmd(
    db: ProcedureDbArg,
    group: Annotated[str, typer.Option("--group", help="member 党员推荐 / public 群众推荐")],
    key: KeyOpt,
    member: MemberOpt = None,
    members_file: MembersFileOpt = None,
    present: Annotated[int | None, typer.Option("--present", help="到会群众代表人数")] = None,
    actor: ActorOpt = "",
    lang: LangOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """开始一次推荐会议（全部尚未计票的职位） / Open a recommendation session (RP-3.2).

    党员推荐须到会党员超过半数（或定义的五分之四），否则记录“未达人数”并拒绝。
    A members' session below its quorum is recorded as failed and refused.
    """

    def act(lg: str) -> tuple[list[str], dict[str, Any]]:
        form = form_of(group)
        if form is Form.EVALUATION:
            raise CliError(
                "procedure.form",
                zh="测评会议用 tally procedure evaluate 开始",
                en="an evaluation session is opened by tally procedure evaluate",
            )
        ids = members_of(member, members_file) if form is Form.MEMBER else []
        n = len(ids) if form is Form.MEMBER else (present or 0)
        return with_store(db, lambda s: _open_session(s, key, actor, form, ids, n, lg))

    _run(lang, as_json, act)


def _open_session(
    store: ProcedureStore,
    key: Path,
    actor: str,
    form: Form,
    ids: list[MemberId],
    n: int,
    lg: str,
) -> tuple[list[str], dict[str, Any]]:
    body = recommendation_opening(store.ledger, form, ids, n)
    round_no, posts = body["round"], body["posts"]
    text = open_recommendation_session(lambda t, b: append(store, key, actor, t, b), body)
    head = (
        f"{_FORM_ZH[form]}第 {round_no} 轮开始：到会 {n} 人；职位 {'、'.join(posts)}"
        if lg == "zh"
        else f"{form.value} recommendation round {round_no} opened: {n} present; posts "
        f"{', '.join(posts)}"
    )
    return [head, *checkpoint_lines(text, lg)], {
        "group": form.value,
        "round": round_no,
        "posts": posts,
        "present": n,
    }


# -- issue, return -------------------------------------------------------------------------------
def issue_cmd(
    db: ProcedureDbArg,
    form: FormOpt,
    key: KeyOpt,
    post: PostOpt = None,
    count: Annotated[int | None, typer.Option("--count", help="发出票数（默认：到会人数）")] = None,
    actor: ActorOpt = "",
    lang: LangOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """记录发出的票数（须等于到会人数） / Record the ballots issued (RP-3.4)."""

    def run(store: ProcedureStore, lg: str) -> tuple[list[str], dict[str, Any]]:
        f = form_of(form)
        p = post_of(f, post)
        round_no = _session_round(store.ledger, f)
        session = store.ledger.session
        n = count if count is not None else (session.present if session else 0)
        body = {"form": f.value, "post": p.value if p else "", "round": round_no, "count": n}
        append(store, key, actor, "ballots.issued", body)
        what = _what(f, p, lg)
        line = (
            f"{what}第 {round_no} 轮发出 {n} 张"
            if lg == "zh"
            else f"{what} round {round_no}: {n} issued"
        )
        return [line], body

    store_command(db, lang, as_json, run)


def return_cmd(
    db: ProcedureDbArg,
    form: FormOpt,
    count: Annotated[int, typer.Option("--count", help="收回票数")],
    key: KeyOpt,
    post: PostOpt = None,
    actor: ActorOpt = "",
    lang: LangOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """记录收回的票数（多于发出的本轮无效） / Record the ballots returned (RP-3.4).

    收回多于发出的，本轮无效，记录 round.void。More returned than issued voids the round.
    """

    def run(store: ProcedureStore, lg: str) -> tuple[list[str], dict[str, Any]]:
        f = form_of(form)
        p = post_of(f, post)
        round_no = _session_round(store.ledger, f)
        base = {"form": f.value, "post": p.value if p else "", "round": round_no}
        append(store, key, actor, "ballots.returned", {**base, "count": count})
        issued = store.ledger.rounds[_round_key(f, p, round_no)].issued or 0
        what = _what(f, p, lg)
        lines = [
            f"{what}第 {round_no} 轮收回 {count} 张"
            if lg == "zh"
            else f"{what} round {round_no}: {count} returned"
        ]
        void = count > issued
        if void:
            text = append(
                store, key, actor, "round.void", {**base, "issued": issued, "returned": count}
            )
            lines.append(
                f"收回 {count} 张多于发出 {issued} 张，本轮无效，须另行推荐"
                if lg == "zh"
                else f"{count} returned is more than {issued} issued: the round is void"
            )
            lines += checkpoint_lines(text, lg)
        return lines, {**base, "returned": count, "issued": issued, "void": void}

    store_command(db, lang, as_json, run)


def _round_key(form: Form, post: PostKind | None, round_no: int) -> RoundKey:
    return RoundKey(form, post, round_no)


# -- enter, withdraw -----------------------------------------------------------------------------
def _written_rows(written: Sequence[str]) -> list[dict[str, str]]:
    """``--written 姓名`` (nobody on the roster), ``姓名=ID`` (the teller's match), ``?``."""
    rows = []
    for w in written:
        name, _, member = w.partition("=")
        rows.append({"name": name.strip(), "member": member.strip()})
    return rows


def _recommendation_marks(store: ProcedureStore, marks: str | None, chosen: Sequence[str]) -> str:
    p = store.signed.procedure
    if marks is not None:
        return marks
    if p.recommendation.layout.value == "written":
        if chosen:
            raise CliError(
                "recommendation.marks",
                zh="只留空格的推荐票没有印出的人选，不能画○：请用 --written 录入所写姓名",
                en="a written-layout ballot has no printed names to mark: use --written",
            )
        return ""
    unknown = [m for m in chosen if m not in p.nominable]
    if unknown:
        raise CliError(
            "recommendation.marks",
            zh=f"{'、'.join(unknown)} 不在推荐票的印出名单中，只能另写",
            en=f"{', '.join(unknown)} is not printed on the ballot: write the name instead",
        )
    return "".join("o" if m in chosen else "-" for m in p.ballot_order)


def _evaluation_marks(store: ProcedureStore, marks: str | None, chosen: Sequence[str]) -> str:
    if marks is not None:
        return marks
    s = store.ledger.session
    persons = s.candidates if s is not None else ()
    given: dict[str, str] = {}
    for item in chosen:
        member, _, letter = item.partition("=")
        if member not in persons:
            raise CliError(
                "evaluation.not_listed",
                zh=f"{member} 不在本轮测评名单中",
                en=f"{member} is not on this round's evaluation list",
            )
        given[member] = letter
    return "".join(given.get(m, "-") for m in persons)


def enter_cmd(
    db: ProcedureDbArg,
    form: FormOpt,
    qr: Annotated[str, typer.Option("--qr", help="扫描的二维码文本（BP1:…）")],
    key: KeyOpt,
    post: PostOpt = None,
    marks: Annotated[
        str | None,
        typer.Option("--marks", help="全部标记：推荐票每人 o/-/?，测评票每人一个等次字母/-/?"),
    ] = None,
    mark: Annotated[
        list[str] | None,
        typer.Option("--mark", help="推荐票：画○的党员编号；测评票：编号=等次字母（可多次）"),
    ] = None,
    written: Annotated[
        list[str] | None,
        typer.Option(
            "--written", help="另推荐人选：姓名，或 姓名=党员编号，无法辨认写 ?（可多次）"
        ),
    ] = None,
    added_rows: Annotated[int, typer.Option("--added-rows", help="测评票上手写添加的人数")] = 0,
    invalid: Annotated[
        str | None,
        typer.Option(
            "--invalid", help="宣布无效：identifying_marks / unreadable / not_official_stock"
        ),
    ] = None,
    scrutineer_key: Annotated[
        Path | None, typer.Option("--scrutineer-key", help="确认无效票的监票人密钥")
    ] = None,
    actor: ActorOpt = "",
    lang: LangOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """录入一张推荐票或测评票（二维码和标记） / Enter one ballot by its QR (RP-3.7, RP-5.4).

    --invalid 加监票人密钥：宣布无效（RP-3.8）。With --invalid and a scrutineer key: declared
    invalid (RP-3.8).
    """

    def run(store: ProcedureStore, lg: str) -> tuple[list[str], dict[str, Any]]:
        f = form_of(form)
        p = post_of(f, post)
        round_no = _session_round(store.ledger, f)
        ballot_id = parse_procedure_qr_text(qr).ballot_id.hex()
        base: dict[str, Any] = {"round": round_no, "ballot_id": ballot_id, "qr": qr.strip()}
        if invalid is not None:
            type_ = "ballot.declared_invalid"
            body = _declared(store, f, p, base, invalid, scrutineer_key)
        elif f is Form.EVALUATION:
            type_ = "evaluation.entered"
            body = base | {
                "marks": _evaluation_marks(store, marks, mark or []),
                "added_rows": added_rows,
            }
        else:
            type_ = "recommendation.entered"
            body = base | {
                "group": f.value,
                "post": p.value if p else "",
                "marks": _recommendation_marks(store, marks, mark or []),
                "written": _written_rows(written or []),
            }
        append(store, key, actor, type_, body)
        pr = store.ledger.rounds[_round_key(f, p, round_no)]
        n = len(pr.ballots)
        line = (
            f"已录入第 {n} 张（收回 {pr.returned} 张）：{ballot_id[:8]}"
            if lg == "zh"
            else f"ballot {n} of {pr.returned} entered: {ballot_id[:8]}"
        )
        return [line], {"type": type_, "ballot_id": ballot_id, "entered": n}

    store_command(db, lang, as_json, run)


def _declared(
    store: ProcedureStore,
    form: Form,
    post: PostKind | None,
    base: dict[str, Any],
    reason: str,
    scrutineer_key: Path | None,
) -> dict[str, Any]:
    """(RP-3.8) The ``ballot.declared_invalid`` body, confirmed by the scrutineer's key."""
    if scrutineer_key is None:
        raise CliError(
            "invalid.no_confirmation",
            zh="宣布无效须由监票人确认：请给出 --scrutineer-key",
            en="a ballot declared invalid needs a scrutineer's confirmation: --scrutineer-key",
        )
    scrutineer = key_signer(scrutineer_key, keys.Role.SCRUTINEER)
    body = base | {"form": form.value, "post": post.value if post else "", "reason": reason}
    return confirm_invalid(store, body, scrutineer)


def withdraw_cmd(
    db: ProcedureDbArg,
    key: KeyOpt,
    actor: ActorOpt = "",
    lang: LangOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """撤回刚录入的最后一张票 / Withdraw the last ballot entered."""

    def run(store: ProcedureStore, lg: str) -> tuple[list[str], dict[str, Any]]:
        last = store.ledger.last
        if isinstance(last, RecommendationEntered):
            form, post = Form(last.group.value), last.post.value
        elif isinstance(last, EvaluationEntered):
            form, post = Form.EVALUATION, ""
        elif isinstance(last, DeclaredInvalid):
            form, post = last.form, last.post.value if last.post else ""
        else:
            raise CliError(
                "procedure.nothing_to_withdraw",
                zh="最后一条记录不是录入的票，没有可撤回的",
                en="the last entry is not a ballot: nothing to withdraw",
            )
        body = {"form": form.value, "post": post, "round": last.round, "ballot_id": last.ballot_id}
        append(store, key, actor, "ballot.withdrawn", body)
        short = last.ballot_id[:8]
        line = f"已撤回：{short}" if lg == "zh" else f"withdrawn: {short}"
        return [line], body

    store_command(db, lang, as_json, run)


def count_cmd(
    db: ProcedureDbArg,
    form: FormOpt,
    key: KeyOpt,
    post: PostOpt = None,
    scrutineer_key: Annotated[
        list[Path] | None,
        typer.Option("--scrutineer-key", help="监票人密钥，当场共同签署（可多次）"),
    ] = None,
    actor: ActorOpt = "",
    lang: LangOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """计票：一个职位本轮的推荐票或本轮测评票 / Count a post's round (RP-3.10, RP-5.6)."""

    def run(store: ProcedureStore, lg: str) -> tuple[list[str], dict[str, Any]]:
        f = form_of(form)
        p = post_of(f, post)
        _session_round(store.ledger, f)
        body = _count_or_void(store, key, actor, f, p)
        type_ = "evaluation.counted" if f is Form.EVALUATION else "recommendation.counted"
        text = append(store, key, actor, type_, body)
        for path in scrutineer_key or []:
            store.cosign(key_signer(path, keys.Role.SCRUTINEER))
        missing = store.missing_cosigners()
        lines = _count_lines(store, f, p, body, lg) + checkpoint_lines(text, lg)
        if missing:
            names = "；".join(f"{r}: {', '.join(n)}" for r, n in missing)
            lines.append(
                f"待监票人签名（tally procedure cosign）：{names}"
                if lg == "zh"
                else f"awaiting scrutineer signatures (tally procedure cosign): {names}"
            )
        return lines, {"type": type_, "count": body, "awaiting_cosigners": missing}

    store_command(db, lang, as_json, run)


def _count_or_void(
    store: ProcedureStore, key: Path, actor: str, form: Form, post: PostKind | None
) -> dict[str, Any]:
    """The count body of the open round; an evaluation round without a valid ballot is recorded
    as void (RP-5.5: held again) and then refused."""
    try:
        return count_body(store.ledger, form, post)
    except ProcedureCountError as e:
        if e.code == "evaluation.no_valid_ballots":
            s = store.ledger.session
            pr = store.ledger.rounds[_round_key(form, None, s.round if s else 0)]
            void = {
                "form": form.value,
                "post": "",
                "round": pr.key.round,
                "issued": pr.issued,
                "returned": pr.returned,
            }
            append(store, key, actor, "round.void", void)
        raise


def _count_lines(
    store: ProcedureStore, form: Form, post: PostKind | None, body: dict[str, Any], lg: str
) -> list[str]:
    p = store.signed.procedure
    what = _what(form, post, lg)
    zh = lg == "zh"
    lines = [
        f"{what}第 {body['round']} 轮：有效 {body['valid_ballots']} 张，无效 "
        f"{body['invalid_ballots']} 张"
        if zh
        else f"{what} round {body['round']}: {body['valid_ballots']} valid, "
        f"{body['invalid_ballots']} invalid"
    ]
    if form is Form.EVALUATION:
        for r in body["results"]:
            name = p.member(r["member"]).name
            counts = " ".join(f"{c['letter']}={c['count']}" for c in r["counts"])
            outcome = r["outcome"]
            if zh:
                outcome = "通过" if outcome == "proceeds" else "不再列入"
            lines.append(f"  {name}（{r['member']}）{counts} → {outcome}")
        return lines
    for r in body["recommendations"]:
        lines.append(f"  {p.member(r['member']).name}（{r['member']}）{r['recommendations']}")
    for w in body["written_names"]:
        lines.append(
            f"  另写“{w['name']}”不计推荐票（{w['reason']}）"
            if zh
            else f"  written {w['name']!r} not counted ({w['reason']})"
        )
    return lines


def cosign_cmd(
    db: ProcedureDbArg,
    key: Annotated[Path, typer.Option("--key", help="监票人密钥文件")],
    lang: LangOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """监票人签署计票结果的检查点 / A scrutineer co-signs the counts' checkpoints (RP-11.2)."""

    def act(lg: str) -> tuple[list[str], dict[str, Any]]:
        signer = key_signer(key, keys.Role.SCRUTINEER)
        done: list[str] = with_store(db, lambda s: s.cosign(signer))
        lines = [("已签署：" if lg == "zh" else "co-signed: ") + r for r in done] or [
            "没有待签署的检查点" if lg == "zh" else "nothing to co-sign"
        ]
        return lines, {"cosigned": done}

    _run(lang, as_json, act)


def register(app: typer.Typer) -> None:
    """Register the log commands on the ``tally procedure`` app."""
    for name, command in (
        ("open", open_cmd),
        ("stock", stock_cmd),
        ("session", session_cmd),
        ("issue", issue_cmd),
        ("return", return_cmd),
        ("enter", enter_cmd),
        ("withdraw", withdraw_cmd),
        ("count", count_cmd),
        ("cosign", cosign_cmd),
    ):
        app.command(name)(command)
