"""The procedure pages' commands: one function per form, run on the store's thread under the lock.

Each reads its form fields, builds one entry body the way ``tally procedure session|evaluate|
issue|return|enter|withdraw|count`` does (the counts by the core's ``count_body``), and appends it
through :meth:`tally.procedure_store.ProcedureStore.append`, which checks everything (order, QR,
stock, marks, the count's recount) before writing; a refusal writes nothing. The account name is
the entry's ``actor``.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final

import keys
from ballot_printer import PaperKind, ProcedureForm, ballot_code, parse_procedure_qr_text
from ballot_printer.procedure_qr import verify_procedure_payload
from tally.core.model import MemberId, PostKind
from tally.core.procedure.entries import (
    DeclaredInvalid,
    EvaluationEntered,
    Form,
    RecommendationEntered,
)
from tally.core.procedure.ledger import (
    RoundKey,
    count_body,
    evaluation_opening,
    recommendation_opening,
)
from tally.procedure_store import ProcedureStore, confirm_invalid, open_recommendation_session
from tally.session_errors import SessionError

__all__ = [
    "COMMANDS",
    "INVALID_REASONS",
    "Command",
    "scan_check",
]

_PAPER = {
    PostKind.COMMITTEE: PaperKind.COMMITTEE,
    PostKind.SECRETARY: PaperKind.SECRETARY,
    PostKind.DEPUTY_SECRETARY: PaperKind.DEPUTY,
}
MAX_FIELD = 400


@dataclass(frozen=True)
class Command:
    """A command's input: the form's fields (trimmed text), the account and the signer."""

    form: Mapping[str, str]
    actor: str
    signer: keys.Signer | None
    multi: Mapping[str, tuple[str, ...]]
    scrutineer: keys.Signer | None = None  # unlocked for this request only (RP-3.8, RP-11.2)

    def text(self, key: str, limit: int = MAX_FIELD) -> str:
        return self.form.get(key, "").strip()[:limit]

    def number(self, key: str, zh: str, en: str) -> int:
        raw = self.text(key)
        if not raw.isdigit() or len(raw) > 6:
            raise SessionError(
                "form.number", zh=f"请填写{zh}（整数）", en=f"give {en} (a whole number)"
            )
        return int(raw)


def _append(store: ProcedureStore, c: Command, type_: str, body: dict[str, Any]) -> None:
    if c.signer is None:
        raise SessionError(
            "procedure.no_key",
            zh="服务启动时没有给出工作组密钥（--key），不能记录",
            en="the service was started without the work group key (--key): nothing recorded",
        )
    store.append(
        type_,
        body,
        at=dt.datetime.now(dt.UTC).astimezone(),
        actor=c.actor,
        work_group=c.signer,
        random=secrets.token_bytes,
    )


def _form(value: str) -> Form:
    try:
        return Form(value)
    except ValueError:
        raise SessionError("procedure.form", zh="未知的票种", en="unknown ballot form") from None


def _key(store: ProcedureStore, c: Command) -> RoundKey:
    """The open session's round named by the form's ``form`` and ``post``."""
    form = _form(c.text("form"))
    s = store.ledger.session
    if s is None or s.form is not form:
        raise SessionError(
            "procedure.no_session", zh="没有正在进行的这种会议", en="no such session is open"
        )
    post = None
    if form is not Form.EVALUATION:
        try:
            post = PostKind(c.text("post"))
        except ValueError:
            raise SessionError(
                "recommendation.post",
                zh="本换届程序没有这一职位",
                en="the procedure has no such post",
            ) from None
    return RoundKey(form, post, s.round)


def _base(key: RoundKey) -> dict[str, Any]:
    return {"form": key.form.value, "post": key.post.value if key.post else "", "round": key.round}


# -- sessions --------------------------------------------------------------------------------------
def open_recommendation(store: ProcedureStore, c: Command) -> tuple[str, str]:
    """(RP-3.2) A recommendation session for every post the group has not counted; a members'
    session below its quorum is recorded as failed, then refused (as the CLI does)."""
    form = _form(c.text("group"))
    if form is Form.EVALUATION:
        raise SessionError("procedure.form", zh="测评会议另行开始", en="an evaluation opens apart")
    ids = [MemberId(m) for m in c.multi.get("member", ())] if form is Form.MEMBER else []
    n = (
        len(ids)
        if form is Form.MEMBER
        else c.number("present", "到会群众代表人数", "the number present")
    )
    body = recommendation_opening(store.ledger, form, ids, n)
    open_recommendation_session(lambda t, b: _append(store, c, t, b), body)
    return (
        f"第 {body['round']} 轮推荐会议已开始：到会 {n} 人",
        f"recommendation round {body['round']} opened: {n} present",
    )


def open_evaluation(store: ProcedureStore, c: Command) -> tuple[str, str]:
    """(RP-5.2) The evaluation of the latest version's names."""
    opening = evaluation_opening(store.ledger)
    if opening is None:
        raise SessionError(
            "procedure.nothing_to_evaluate",
            zh="没有待测评的初步人选",
            en="no proposed names wait for an evaluation",
        )
    round_no, version, persons = opening
    ids = [MemberId(m) for m in c.multi.get("member", ())]
    public = c.number("public", "到会群众代表人数", "the public representatives present")
    body = {
        "round": round_no,
        "version": version,
        "candidates": list(persons),
        "present_members": list(ids),
        "public_present": public,
        "present": len(ids) + public,
    }
    _append(store, c, "evaluation.opened", body)
    return (
        f"群众测评第 {round_no} 轮已开始：到会 {body['present']} 人",
        f"evaluation round {round_no} opened: {body['present']} present",
    )


def issue(store: ProcedureStore, c: Command) -> tuple[str, str]:
    """(RP-3.4) The ballots issued: as many as are present."""
    key = _key(store, c)
    s = store.ledger.session
    n = s.present if s is not None else 0
    _append(store, c, "ballots.issued", {**_base(key), "count": n})
    return f"已发出 {n} 张", f"{n} issued"


def return_ballots(store: ProcedureStore, c: Command) -> tuple[str, str]:
    """(RP-3.4) The ballots returned; more than issued voids the round."""
    key = _key(store, c)
    n = c.number("count", "收回票数", "the ballots returned")
    _append(store, c, "ballots.returned", {**_base(key), "count": n})
    issued = store.ledger.rounds[key].issued or 0
    if n > issued:
        _append(store, c, "round.void", {**_base(key), "issued": issued, "returned": n})
        return (
            f"收回 {n} 张多于发出 {issued} 张，本轮无效，须另行推荐",
            f"{n} returned is more than {issued} issued: the round is void",
        )
    return f"已收回 {n} 张", f"{n} returned"


def count(store: ProcedureStore, c: Command) -> tuple[str, str]:
    """(RP-3.10, RP-5.6) The round's count by the core; the scrutineers co-sign after it."""
    key = _key(store, c)
    body = count_body(store.ledger, key.form, key.post)
    type_ = "evaluation.counted" if key.form is Form.EVALUATION else "recommendation.counted"
    _append(store, c, type_, body)
    return (
        f"已计票：有效 {body['valid_ballots']} 张，无效 {body['invalid_ballots']} 张；"
        "请监票人在“监票人签署”页签署",
        f"counted: {body['valid_ballots']} valid, {body['invalid_ballots']} invalid; "
        "the scrutineers co-sign on the Co-signatures page",
    )


# -- entry -----------------------------------------------------------------------------------------
def _written(store: ProcedureStore, c: Command, rows: int) -> list[dict[str, str]]:
    """The filled blank rows: ``w<i>`` the name as written, ``wm<i>`` the teller's match."""
    roster = {m.id for m in store.signed.procedure.members}
    out = []
    for i in range(rows):
        name = c.text(f"w{i}", 64)
        member = c.text(f"wm{i}", 16)
        if not name:
            continue
        if member and member not in roster:
            raise SessionError(
                "recommendation.written",
                zh="另推荐人选对应的党员不在名册中",
                en="the member matched to a written name is not on the roster",
            )
        out.append({"name": name, "member": member})
    return out


def _evaluation_marks(store: ProcedureStore, c: Command) -> str:
    """One letter per person of the round, from ``m_<id>`` fields; a field for anyone else is
    refused (``evaluation.not_listed``), never dropped."""
    s = store.ledger.session
    persons = s.candidates if s is not None else ()
    given = {k[2:]: v for k, v in c.form.items() if k.startswith("m_")}
    stray = [m for m in given if m not in persons]
    if stray:
        raise SessionError(
            "evaluation.not_listed",
            zh="测评票上的人选不在本轮测评名单中",
            en="the person is not on this round's evaluation list",
        )
    return "".join(given.get(m, "-") or "-" for m in persons)


def _recommendation_marks(store: ProcedureStore, c: Command) -> str:
    p = store.signed.procedure
    if p.recommendation.layout.value != "listed":
        return ""
    given = {k[2:]: v for k, v in c.form.items() if k.startswith("m_")}
    if any(m not in p.nominable for m in given):
        raise SessionError(
            "recommendation.marks",
            zh="推荐票上没有印这一人选",
            en="this person is not printed on the ballot",
        )
    return "".join(given.get(m, "-") or "-" for m in p.ballot_order)


def enter(store: ProcedureStore, c: Command) -> tuple[str, str]:
    """(RP-3.7, RP-5.4) One ballot by its QR and its marks."""
    key = _key(store, c)
    qr = c.text("qr")
    ballot_id = parse_procedure_qr_text(qr).ballot_id.hex()
    base = {"round": key.round, "ballot_id": ballot_id, "qr": qr}
    if key.form is Form.EVALUATION:
        added = (
            c.number("added_rows", "手写添加的人数", "the rows added by hand")
            if c.text("added_rows")
            else 0
        )
        body = base | {"marks": _evaluation_marks(store, c), "added_rows": added}
        type_ = "evaluation.entered"
    else:
        p = store.signed.procedure
        post = p.post(key.post) if key.post else None
        rows = post.max_per_ballot if post else 0
        body = base | {
            "group": key.form.value,
            "post": key.post.value if key.post else "",
            "marks": _recommendation_marks(store, c),
            "written": _written(store, c, rows),
        }
        type_ = "recommendation.entered"
    _append(store, c, type_, body)
    pr = store.ledger.rounds[key]
    code = ballot_code(bytes.fromhex(ballot_id))
    return (
        f"已录入 {code}（{len(pr.ballots)} / {pr.returned}）",
        f"entered {code} ({len(pr.ballots)} of {pr.returned})",
    )


INVALID_REASONS: Final = {
    "identifying_marks": ("有识别标记", "identifying marks"),
    "unreadable": ("无法辨认", "unreadable"),
    "not_official_stock": ("非正式印制的票", "not of the official stock"),
}


def _scrutineer(store: ProcedureStore, c: Command) -> keys.Signer:
    """The scrutineer's key unlocked for this request, of this procedure."""
    if c.scrutineer is None:  # the route unlocks it first; a command without it is a bug
        raise SessionError(
            "procedure.scrutineer_key_missing",
            zh="须由监票人选择本人的密钥并输入口令",
            en="a scrutineer must choose their key and type its passphrase",
        )
    store.scrutineer_name(c.scrutineer.public_key)  # procedure.scrutineer_key otherwise
    return c.scrutineer


def declare_invalid(store: ProcedureStore, c: Command) -> tuple[str, str]:
    """(RP-3.8) A returned ballot entered as invalid by decision, confirmed by a scrutineer's
    signature: the QR is read and the reason checked before the key signs anything."""
    key = _key(store, c)
    reason = c.text("reason", 40)
    if reason not in INVALID_REASONS:
        raise SessionError(
            "invalid.reason",
            zh="请选择无效票的理由（有识别标记、无法辨认、非正式印制的票）",
            en="choose the reason (identifying marks, unreadable, not of the official stock)",
        )
    qr = c.text("qr")
    ballot_id = parse_procedure_qr_text(qr).ballot_id.hex()
    body = {**_base(key), "ballot_id": ballot_id, "qr": qr, "reason": reason}
    _append(
        store, c, "ballot.declared_invalid", confirm_invalid(store, body, _scrutineer(store, c))
    )
    pr = store.ledger.rounds[key]
    code = ballot_code(bytes.fromhex(ballot_id))
    zh_reason, en_reason = INVALID_REASONS[reason]
    return (
        f"已作为无效票录入 {code}（{zh_reason}，经监票人确认；{len(pr.ballots)} / {pr.returned}）",
        f"{code} entered as invalid ({en_reason}, confirmed by a scrutineer; "
        f"{len(pr.ballots)} of {pr.returned})",
    )


def cosign(store: ProcedureStore, c: Command) -> tuple[str, str]:
    """(RP-11.2) The scrutineer's line on every ``round-closed`` checkpoint they have not
    signed; none left to sign is a refusal (nothing written)."""
    done = store.cosign(_scrutineer(store, c))
    if not done:
        raise SessionError(
            "procedure.nothing_to_cosign",
            zh="这位监票人已签署全部计票检查点，没有待签署的",
            en="this scrutineer has co-signed every count's checkpoint: nothing to co-sign",
        )
    return (
        f"已签署 {len(done)} 个计票检查点：" + "；".join(done),
        f"co-signed {len(done)} count checkpoint(s): " + "; ".join(done),
    )


def withdraw(store: ProcedureStore, c: Command) -> tuple[str, str]:
    """The teller's own last entry undone (the log's last entry must be it)."""
    last = store.entries()[-1]
    v = last.value
    if (
        last.actor != c.actor
        or not isinstance(v, RecommendationEntered | EvaluationEntered | DeclaredInvalid)
        or v.ballot_id != c.text("ballot_id")
    ):
        raise SessionError(
            "procedure.nothing_to_withdraw",
            zh="只能撤回本人刚录入的最后一张票",
            en="only your own last entry can be withdrawn",
        )
    if isinstance(v, RecommendationEntered):
        form, post = v.group.value, v.post.value
    elif isinstance(v, DeclaredInvalid):
        form, post = v.form.value, v.post.value if v.post else ""
    else:
        form, post = Form.EVALUATION.value, ""
    body = {"form": form, "post": post, "round": v.round, "ballot_id": v.ballot_id}
    _append(store, c, "ballot.withdrawn", body)
    code = ballot_code(bytes.fromhex(v.ballot_id))
    return f"已撤回 {code}", f"withdrawn: {code}"


def scan_check(store: ProcedureStore, qr: str, form: str, post: str) -> tuple[str, str]:
    """A scanned ``BP1:`` text checked against the open round (PQ1-PQ8, the stock, not entered
    before); stores nothing. The ballot code."""
    key = _key(store, Command({"form": form, "post": post}, "", None, {}))
    verified = verify_procedure_payload(
        parse_procedure_qr_text(qr),
        store.work_group_key.key,
        procedure_id=store.procedure_id,
        form=ProcedureForm[key.form.name],
        post=None if key.post is None else _PAPER[key.post],
        round_number=key.round,
    )
    ballot_id = verified.ballot_id.hex()
    code = ballot_code(verified.ballot_id)
    if ballot_id in store.ledger.used_ids:
        raise SessionError(
            "ballot.replayed",
            zh=f"这张票 {code} 已经录入过，不能重复录入",
            en=f"ballot {code} was entered already",
        )
    if ballot_id not in store.ledger.stocks.get(key, frozenset()):
        raise SessionError(
            "ballot.not_in_stock",
            zh="这张票不在本轮登记的票号清单中",
            en="the ballot is not in the round's committed stock",
        )
    return code, ballot_id


COMMANDS: Mapping[str, tuple[str, Callable[[ProcedureStore, Command], tuple[str, str]]]] = {
    "open": ("session", open_recommendation),
    "evaluate": ("session", open_evaluation),
    "issue": ("session", issue),
    "return": ("session", return_ballots),
    "count": ("session", count),
    "enter": ("enter", enter),
    "withdraw": ("enter", withdraw),
    "invalid": ("enter", declare_invalid),
    "cosign": ("cosign", cosign),
}
