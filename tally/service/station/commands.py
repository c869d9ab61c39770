"""The station's commands: one top-level function each, run on the election thread under the
service lock (``routes.act`` checks sign-in, CSRF and the role first, and answers with the page).

A command reads its form, calls one ``ElectionSession`` command with the official's account name
as the log's ``actor``, and returns the flash message (Simplified Chinese, English). A refusal is
raised (``SessionError``, ``TallyError``, ...) and changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from starlette.datastructures import FormData

import ballot_printer
import keys
from bilingual import inline
from tally.calendar import CalendarError, load_calendar
from tally.core.ballots import INVALID_REASONS
from tally.core.double_entry import DoubleEntryMismatchError, compare_entries
from tally.core.explain import describe_next, spec_title
from tally.core.meeting import ballot_from_body
from tally.core.meeting.bodies import BallotDeclaredInvalid
from tally.core.model import PostKind
from tally.core.rounds import joint_rounds
from tally.election import ElectionSession, EntryInput
from tally.publish import publish as do_publish
from tally.service.accounts import UserSession
from tally.service.app import ServiceState
from tally.service.station import views
from tally.service.station.web import MAX_QR_CHARS, StationState, form_int, form_text
from tally.session_errors import SessionError


@dataclass(frozen=True)
class Command:
    """What a command reads besides the session: the form, who sent it, the service."""

    form: FormData
    user: UserSession
    service: ServiceState
    station: StationState
    # What a refused command leaves for the page that shows the refusal (the two entries of a
    # double-entry mismatch, side by side).
    notes: dict[str, Any] = field(default_factory=dict)

    @property
    def actor(self) -> str:
        return self.user.account.name

    def signer(self) -> keys.InMemorySigner:
        """The work-group key unlocked at start-up, or a ``key.not_loaded`` refusal."""
        if self.service.signer is None:
            raise SessionError(
                "key.not_loaded",
                zh="服务启动时没有载入工作组密钥（tally serve --key），不能进行需要签名的操作",
                en="the service was started without the work-group key (tally serve --key)",
            )
        return self.service.signer


CommandFn = Callable[[ElectionSession, Command], tuple[str, str]]


def checkin(s: ElectionSession, c: Command) -> tuple[str, str]:
    ref = form_text(c.form, "member", 40)
    if form_text(c.form, "leave"):
        s.leave([ref], actor=c.actor)
        name = views.names(s, [ref])[0]
        return f"{name}（{ref}）已离会", f"{name} ({ref}) has left"
    ids = s.check_in([ref], actor=c.actor)
    name = views.names(s, ids)[0]
    return f"{name}（{ids[0]}）已签到", f"{name} ({ids[0]}) checked in"


def print_stock(s: ElectionSession, c: Command) -> tuple[str, str]:
    signer = c.signer()
    count = form_int(c.form, "count", "张数", "the number of ballots")
    spec = s.due_round()
    if s.meeting.current is None and spec.post is PostKind.COMMITTEE:
        # (R22.2) the joint opening's ballots of every post, one stock after another
        spec = next(
            (
                r
                for r in (spec, *joint_rounds(s.meeting.rounds))
                if (r.post, r.number) not in s.meeting.stocks
            ),
            spec,
        )
    folder = c.service.config.data_dir / "stocks"
    folder.mkdir(parents=True, exist_ok=True)
    out = folder / f"{spec.post.value}-{spec.number}.pdf"
    if (spec.post, spec.number) not in s.meeting.stocks:
        out.unlink(missing_ok=True)  # a file left by a failed print is not a stock
    s.print_stock(
        post=spec.post,
        round_number=spec.number,
        count=count,
        out_pdf=out,
        stock_list_out=None,
        signer=signer,
        actor=c.actor,
    )
    return (
        f"已打印并登记选票 {count} 张：{spec_title(spec, 'zh')}（在“下载”页取 PDF 打印）",
        f"{count} ballots printed and committed: {spec_title(spec, 'en')} "
        "(PDF on the Downloads page)",
    )


def issue(s: ElectionSession, c: Command) -> tuple[str, str]:
    members = [str(v) for v in c.form.getlist("member")]
    spec, n = s.issue(count=None, signer=c.signer(), present_members=members, actor=c.actor)
    joint = s.sitting() if spec.post is PostKind.COMMITTEE and spec.number == 1 else ()
    return (
        f"{spec_title(spec, 'zh')}：会议有效，发出选票 {n} 张"
        + "".join(f"；{spec_title(j, 'zh')}同时发出 {n} 张" for j in joint),
        f"{spec_title(spec, 'en')}: quorum held, {n} ballots issued"
        + "".join(f"; {spec_title(j, 'en')}: {n} issued with them" for j in joint),
    )


def return_ballots(s: ElectionSession, c: Command) -> tuple[str, str]:
    count = form_int(c.form, "count", "收回张数", "the number returned")
    cur = s.meeting.current
    post = str(c.form.get("post") or "")
    kind = next((h.spec.post for h in s.meeting.held if h.spec.post.value == post), None)
    if kind is not None:  # (R22.2) a held round of the joint opening
        cur = next(h for h in s.meeting.held if h.spec.post is kind)
    issued = cur.issued if cur is not None else None
    valid = s.return_ballots(count, signer=c.signer(), actor=c.actor, post=kind)
    if valid:
        return (
            f"发出 {issued} 张，收回 {count} 张，本轮选举有效，请开始录入选票（R11）",
            f"{issued} issued, {count} returned: the round is valid; enter the ballots",
        )
    return (
        f"发出 {issued} 张，收回 {count} 张，收回多于发出，本轮选举无效，须用新选票重新投票（R11）",
        f"{issued} issued, {count} returned: the round is VOID and is voted again (R11)",
    )


def entry_input(s: ElectionSession, form: FormData) -> EntryInput:
    """The ballot the teller entered: scanner text, one mark per candidate, write-in rows."""
    qr = form_text(form, "qr", MAX_QR_CHARS)
    if not qr:
        raise SessionError(
            "enter.no_qr",
            zh="请先用扫码枪扫描选票上的二维码",
            en="scan the ballot's QR code first",
        )
    cur = s.meeting.current
    if cur is None:
        raise SessionError("round.none_open", zh="当前没有进行中的轮次", en="no round is open")
    marks = ""
    for i in range(len(cur.spec.candidates)):
        mark = form_text(form, f"m{i}", 1) or "-"
        if mark not in ("o", "x", "-", "?"):
            raise SessionError("enter.marks", zh="标记只能是 ○ × 空 ?", en="bad mark")
        marks += mark
    write_ins = []
    for i in range(cur.spec.seats + 1):  # the last row: a name beyond the paper's rows (R9.5)
        name = form_text(form, f"w{i}", 40)
        if name:
            write_ins.append(name if form_text(form, f"wm{i}") == "o" else f"{name}:-")
    try:
        ballot_printer.parse_qr_text(qr)
    except ballot_printer.ProcedureBallotError as e:
        # (spec/ballot-qr.md Q1) a recommendation or evaluation ballot: named, never "scan again"
        raise SessionError(
            e.code, zh=views.PROCEDURE_BALLOT[0], en=views.PROCEDURE_BALLOT[1]
        ) from e
    except ballot_printer.BallotPrinterError as e:
        raise SessionError(
            "enter.bad_qr",
            zh=f"扫到的内容不是选票二维码（{inline(e.zh)}），请重新扫描",
            en=f"the scanned text is not a ballot QR ({inline(e.en)}); scan again",
        ) from e
    return EntryInput(qr=qr, marks=marks, write_ins=tuple(write_ins))


def enter(s: ElectionSession, c: Command) -> tuple[str, str]:
    """A ballot entered; with double entry on, held until a second teller enters it alike
    (a mismatch counts neither and leaves both entries in ``c.notes["mismatch"]``)."""
    item = entry_input(s, c.form)
    body = s.ballot_body(item)  # checks the QR, the round, the marks' letters
    cur = s.meeting.current
    assert cur is not None
    ballot = ballot_from_body(body, len(cur.spec.candidates))
    ballot_id = body["ballot_id"]
    code = ballot_printer.ballot_code(bytes.fromhex(ballot_id))
    if s.meeting.ballot_entered(ballot_id):
        raise SessionError(
            "enter.duplicate",
            zh=f"选票 {code} 已经录入过，没有重复录入",
            en=f"ballot {code} was already entered; nothing entered twice",
        )
    verdict = (
        views.verdict_text(s, ballot, cur.spec, "zh"),
        views.verdict_text(s, ballot, cur.spec, "en"),
    )
    me, pending = c.actor, c.station.pending
    if s.meeting.double_entry:
        first = pending.get(ballot_id)
        if first is None or first.teller == me:
            pending[ballot_id] = views.Pending(me, item, code)
            return (
                f"选票 {code} 第一次录入已保存（{verdict[0]}），请另一名计票人核对录入后计入",
                f"ballot {code}: first entry saved ({verdict[1]}); a second teller "
                "enters it again before it counts",
            )
        # (spec/log.md §2.3) one rule for "entered alike": tally.core.double_entry
        difference = compare_entries(
            first.item.entered(), item.entered(), params=s.manifest.election.parameters
        )
        if difference is None:
            s.enter([item], actor=f"{first.teller}+{me}")
            del pending[ballot_id]
            return (
                f"选票 {code} 两人录入一致，已计入：{verdict[0]}",
                f"ballot {code}: both entries agree, counted: {verdict[1]}",
            )
        del pending[ballot_id]
        c.notes["mismatch"] = views.mismatch(s, cur.spec, first, item, me)
        raise DoubleEntryMismatchError((difference,), label=lambda _id: code)
    s.enter([item], actor=me)
    return (f"已录入选票 {code}：{verdict[0]}", f"ballot {code} entered: {verdict[1]}")


def _confirmer(c: Command) -> keys.InMemorySigner:
    """(R8.5) The scrutineer's key chosen on the form, opened with the passphrase typed there."""
    index = form_text(c.form, "key", 4)
    passphrase = c.form.get("passphrase")
    scrutineer_keys = c.station.scrutineer_keys
    if not index.isdigit() or int(index) >= len(scrutineer_keys):
        raise SessionError(
            "invalid.no_confirmation",
            zh="须由监票人确认：请选择监票人密钥（服务启动时用 --scrutineer-key 给出）",
            en="a scrutineer must confirm: choose a scrutineer key (tally serve --scrutineer-key)",
        )
    try:
        return keys.load_signer(
            scrutineer_keys[int(index)],
            passphrase if isinstance(passphrase, str) else "",
            expected_role=keys.Role.SCRUTINEER,
        )
    except (keys.KeysError, OSError) as e:
        raise SessionError(
            "invalid.confirmation",
            zh="监票人密钥无法打开（口令不正确或不是监票人密钥），未录入",
            en="the scrutineer key cannot be opened (wrong passphrase or not a "
            "scrutineer key); nothing entered",
        ) from e


def declare_invalid(s: ElectionSession, c: Command) -> tuple[str, str]:
    """(R8.5) A returned ballot entered as invalid by decision, confirmed by a scrutineer."""
    reason = form_text(c.form, "reason", 40)
    if reason not in INVALID_REASONS:
        raise SessionError(
            "invalid.reason",
            zh="请选择无效票的理由（有识别标记、无法辨认、非正式选票）",
            en="choose the reason (identifying marks, unreadable, not official stock)",
        )
    confirmer = _confirmer(c)
    qr = form_text(c.form, "qr", MAX_QR_CHARS)
    entry = s.declare_invalid(reason, confirmer=confirmer, qr=qr or None, actor=c.actor)
    zh_reason, en_reason = INVALID_REASONS[reason]
    v = entry.value
    assert isinstance(v, BallotDeclaredInvalid)
    bid = v.ballot_id
    code = ballot_printer.ballot_code(bytes.fromhex(bid)) if bid else ""
    return (
        f"已作为无效票录入{('选票 ' + code) if code else '一张无二维码的选票'}"
        f"（{zh_reason}，经监票人确认）",
        f"entered {('ballot ' + code) if code else 'a ballot without QR'} as invalid "
        f"({en_reason}, confirmed by a scrutineer)",
    )


def withdraw(s: ElectionSession, c: Command) -> tuple[str, str]:
    ballot_id = form_text(c.form, "ballot_id", 64)
    cur = s.meeting.current
    if cur is None or not cur.entered or cur.entered[-1].ballot_id != ballot_id:
        raise SessionError(
            "withdraw.not_last",
            zh="只能撤回本轮最后录入的一张选票（可能已有人录入了新的选票）",
            en="only the round's last entered ballot can be withdrawn",
        )
    if c.actor not in views.entry_actor(s, cur.entered[-1].seq).split("+"):
        raise SessionError(
            "withdraw.not_yours",
            zh="只能撤回您自己最后录入的选票",
            en="you can withdraw only your own last entry",
        )
    s.withdraw(ballot_id, actor=c.actor)
    # "": a ballot declared invalid without QR (R8.5)
    code = ballot_printer.ballot_code(bytes.fromhex(ballot_id)) if ballot_id else "—"
    return (
        f"已撤回选票 {code} 的录入（记入日志），请重新录入",
        f"entry of ballot {code} withdrawn (logged); enter it again",
    )


def mode(s: ElectionSession, c: Command) -> tuple[str, str]:
    on = form_text(c.form, "double") == "1"
    if not on and c.station.pending:
        raise SessionError(
            "double_entry.pending",
            zh="还有等待核对的录入，请先完成核对",
            en="some entries still wait for a second teller",
        )
    s.set_double_entry(on, actor=c.actor)  # logged: survives a restart
    return (
        "双人录入已开启：每张选票须两名计票人录入一致才计入" if on else "双人录入已关闭",
        "double entry on: two tellers must agree before a ballot counts"
        if on
        else "double entry off",
    )


def close(s: ElectionSession, c: Command) -> tuple[str, str]:
    if c.station.pending:
        raise SessionError(
            "double_entry.pending",
            zh="还有等待第二名计票人核对的选票，不能结束计票",
            en="ballots still wait for the second teller",
        )
    s.close(signer=c.signer(), actor=c.actor)
    o = s.meeting.rounds.outcomes[-1]
    return (
        f"{spec_title(o.spec, 'zh')} 计票结束：{views.outcome_summary(s, o, 'zh')}。"
        "请监票人签名确认",
        f"{spec_title(o.spec, 'en')} counted: {views.outcome_summary(s, o, 'en')}. "
        "Scrutineers: co-sign",
    )


def decide(s: ElectionSession, c: Command) -> tuple[str, str]:
    """A decision of the assembly: the officials of later rounds (R25), fewer seats, or a
    town-signed amended candidate list."""
    e = s.manifest.election
    if form_text(c.form, "kind") == "officials":  # (R25.1) the officials of later rounds

        def refs(key: str) -> list[str]:
            return [r for r in form_text(c.form, key, 400).replace("，", " ").split() if r]

        s.change_officials(refs("scrutineers"), refs("tellers"), actor=c.actor)
        return (
            "已记录此后各轮的监票人和计票人（R25）。" + describe_next(s.meeting.due(), e, "zh"),
            "The officials of the rounds from now on are recorded (R25). "
            + describe_next(s.meeting.due(), e, "en"),
        )
    try:
        post = PostKind(form_text(c.form, "post"))
    except ValueError:
        raise SessionError("post.unknown", zh="请选择职位", en="choose a post") from None
    if form_text(c.form, "kind") == "reduce":
        s.reduce_seats(
            post,
            seats=form_int(c.form, "seats", "减少后的名额", "the new number of seats"),
            consent=form_int(c.form, "consent", "党员大会同意人数", "the assembly's consent"),
            agreement=form_text(c.form, "agreement"),
            actor=c.actor,
        )
    else:
        s.amend_candidates(form_text(c.form, "signed", 65536).encode(), actor=c.actor)
    e = s.manifest.election
    return describe_next(s.meeting.due(), e, "zh"), describe_next(s.meeting.due(), e, "en")


def record_result(s: ElectionSession, c: Command) -> tuple[str, str]:
    try:
        calendar = load_calendar(None)
    except CalendarError as err:
        raise SessionError(err.code, zh=err.zh, en=err.en) from err
    s.record_result(signer=c.signer(), calendar=calendar, actor=c.actor)
    return (
        "选举结果已记录，请当场宣布；监票人签名确认后即可发布",
        "result recorded: announce it; publish once the scrutineers have co-signed",
    )


def publish(s: ElectionSession, c: Command) -> tuple[str, str]:
    p = do_publish(s, c.service.config.data_dir / "published")
    return (
        f"已发布：结果包和公示（最终根哈希 {p.root_hex[:16]}…），在“下载”页取用",
        f"published: bundle and notice (root {p.root_hex[:16]}…), see Downloads",
    )
