# ruff: noqa: ARG001, ARG005, E501
# (every command callback and page builder takes the same arguments; bilingual message lines)
"""The polling-station pages: the work group runs the meeting in a browser (a thin shell).

Every page is rendered on the server (Jinja2, Simplified Chinese by default, ``?lang=en``); every
change goes through one ``ElectionSession`` command under the service lock, with the signed-in
person's account name as the log's ``actor``. A refused command changes nothing and its message is
shown on the page in the user's language.

Who may do what (``ACTIONS``): the clerk (工作人员) checks members in; the teller (计票人) enters
ballots and withdraws their own last entry; the chair (主持人) prints the ballot stock, issues and
returns ballots, closes the count, records decisions, the result and publishes; the scrutineer
(监票人) watches every page and co-signs from the command line (``tally cosign``) with their own
key, which never reaches the service.

Pages: ``/station/`` overview, ``checkin``, ``ballots`` (print, issue, return), ``count``
(scanner + marks), ``tally`` (live chart), ``result`` (outcomes, sign-off, decisions),
``downloads``; ``/station/api/live`` is polled every 2 s by ``static/station/station.js``.
"""

from __future__ import annotations

import errno
import functools
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import anyio
import jinja2
from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.datastructures import FormData
from starlette.staticfiles import StaticFiles

import ballot_printer
import keys
from tally.core.ballots import INVALID_REASONS, Ballot, Mark, judge_ballot
from tally.core.double_entry import DoubleEntryMismatchError, compare_entries
from tally.core.errors import TallyError
from tally.core.explain import describe_next, describe_outcome, describe_quorum, spec_title
from tally.core.meeting import ballot_from_body, parse_entry
from tally.core.model import MemberId, PostKind, zh_label
from tally.core.rounds import (
    Blocked,
    ElectingBody,
    Finished,
    RoundOutcome,
    RoundSpec,
    RoundStatus,
    joint_rounds,
)
from tally.core.rules import plenary_quorum, quorum, threshold_base
from tally.election import ElectionSession, EntryInput, SessionError
from tally.service.accounts import (
    AccountError,
    AccountStore,
    Role,
    UserSession,
    accounts_path,
    csrf_ok,
)
from tally.service.app import ServiceState, state_of
from tally.service.proxy import request_client
from tally.service.rounds_view import post_views
from tally.store import StoreError

__all__ = ["ACTIONS", "register"]

HERE = Path(__file__).parent
COOKIE = "tally_session"
PRE_COOKIE = "tally_pre"  # double-submit token of the sign-in form (no session yet)
LANG_COOKIE = "tally_lang"
MAX_QR_CHARS = 400
# A write the disk did not take: a clean 503 refusal, never a 500.
_DISK_ERRORS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EIO, errno.EFBIG})

ACTIONS: Mapping[str, frozenset[Role]] = {
    "checkin": frozenset({Role.CLERK, Role.CHAIR}),
    "print": frozenset({Role.CHAIR}),
    "issue": frozenset({Role.CHAIR}),
    "return": frozenset({Role.CHAIR}),
    "enter": frozenset({Role.TELLER}),
    "withdraw": frozenset({Role.TELLER}),
    "mode": frozenset({Role.CHAIR}),
    "close": frozenset({Role.CHAIR}),
    "decide": frozenset({Role.CHAIR}),
    "result": frozenset({Role.CHAIR}),
    "publish": frozenset({Role.CHAIR}),
    "stock_pdf": frozenset({Role.CHAIR}),
    "bundle": frozenset({Role.CHAIR, Role.SCRUTINEER}),
}
ACTION_NAMES = {
    "checkin": ("签到", "check-in"),
    "print": ("打印选票", "printing ballots"),
    "issue": ("发出选票", "issuing ballots"),
    "return": ("收回选票", "recording ballots returned"),
    "enter": ("录入选票", "entering ballots"),
    "withdraw": ("撤回录入", "withdrawing an entry"),
    "mode": ("切换双人录入", "switching double entry"),
    "close": ("结束计票", "closing the count"),
    "decide": ("记录决定", "recording a decision"),
    "result": ("宣布结果", "recording the result"),
    "publish": ("发布结果", "publishing"),
    "stock_pdf": ("下载选票", "downloading ballots"),
    "bundle": ("下载结果包", "downloading the bundle"),
}
NAV = (
    ("overview", "/station/", "概况", "Overview"),
    ("checkin", "/station/checkin", "签到", "Check-in"),
    ("ballots", "/station/ballots", "发票与收票", "Issue & return"),
    ("count", "/station/count", "录入选票", "Enter ballots"),
    ("tally", "/station/tally", "计票", "Tally"),
    ("result", "/station/result", "轮次结果", "Results"),
    ("downloads", "/station/downloads", "下载", "Downloads"),
)
MARKS = (("o", "○", "赞成", "approve"), ("x", "×", "不赞成", "disapprove"), ("-", "空", "弃权", "abstain"), ("?", "?", "无法辨认", "unreadable"))  # fmt: skip


class Refused(Exception):
    """A request the station refuses before touching the election (403 or 400 + message)."""

    def __init__(self, status: int, zh: str, en: str) -> None:
        super().__init__(en)
        self.status, self.zh, self.en = status, zh, en


@dataclass
class Pending:
    """A ballot entered once in double-entry mode, waiting for a second teller (not counted)."""

    teller: str
    item: EntryInput
    code: str


@dataclass
class StationState:
    accounts: AccountStore
    # First entries waiting for a second teller (double entry is on: the session's
    # `meeting.double_entry`, a logged decision). Not counted, so not logged: lost at a restart,
    # when the first teller enters the ballot again.
    pending: dict[str, Pending] = field(default_factory=dict)
    flashes: dict[str, list[tuple[str, str, str]]] = field(default_factory=dict)
    scrutineer_keys: tuple[Path, ...] = ()  # key files, opened only to confirm (R8.5)
    # Argon2 runs in worker threads, off the event loop; at most this many at once (each takes
    # its memlimit, 64 MiB at the interactive setting), so a sign-in flood cannot exhaust memory.
    hash_slots: int = 2
    hash_limiter: anyio.CapacityLimiter | None = None

    def hashers(self) -> anyio.CapacityLimiter:
        if self.hash_limiter is None:  # made on the event loop, on first use
            self.hash_limiter = anyio.CapacityLimiter(self.hash_slots)
        return self.hash_limiter


def _station(request: Request) -> StationState:
    st: StationState = request.app.state.station
    return st


_env = jinja2.Environment(
    loader=jinja2.FileSystemLoader(HERE / "templates" / "station"),
    autoescape=jinja2.select_autoescape(default=True),
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


# -- request helpers -------------------------------------------------------------------------------
def _lang(request: Request) -> str:
    q = request.query_params.get("lang")
    if q in ("zh", "en"):
        return q
    c = request.cookies.get(LANG_COOKIE)
    if c in ("zh", "en"):
        return c
    return "en" if state_of(request).config.lang == "en" else "zh"


def _user(request: Request) -> UserSession | None:
    return _station(request).accounts.session(request.cookies.get(COOKIE))


def _msg(lang: str, zh: str, en: str) -> str:
    return zh if lang == "zh" else en


def _signin_needed(request: Request) -> JSONResponse:
    """401 for the station's JSON endpoints without a session: a code and a message, as always."""
    message = _msg(_lang(request), "请先登录", "sign in first")
    return JSONResponse({"ok": False, "code": "signin.needed", "message": message}, status_code=401)


def _flash(request: Request, user: UserSession, kind: str, zh: str, en: str) -> None:
    _station(request).flashes.setdefault(user.session_hash, []).append((kind, zh, en))


def _finish(request: Request, response: Response) -> Response:
    q = request.query_params.get("lang")
    if q in ("zh", "en"):
        response.set_cookie(
            LANG_COOKIE,
            q,
            max_age=365 * 86400,
            samesite="strict",
            secure=state_of(request).config.secure_cookies,
            path="/station",
        )
    return response


def _key_label(path: Path) -> str:
    """The label a scrutineer's key file carries in its clear header (their name), else the file's
    name: the confirmation form lists people, not files."""
    try:
        return keys.parse_key_file(path.read_bytes()).label or path.stem
    except (OSError, keys.KeysError):
        return path.stem


def _render(request: Request, template: str, ctx: dict[str, Any], *, status: int = 200) -> Response:
    lang = _lang(request)
    user: UserSession | None = ctx.get("user")
    flashes = _station(request).flashes.pop(user.session_hash, []) if user else []

    def L(zh: str, en: str) -> str:
        return zh if lang == "zh" else en

    here = str(request.url.path)
    switch = {k: v for k, v in request.query_params.items() if k != "lang"}
    # A refused form is shown at the form's own address, which takes only POST: the language
    # switch then leads to the page the form belongs to.
    shown = here
    if request.method != "GET":
        shown = next((path for name, path, _, _ in NAV if name == ctx.get("page")), "/station/")
    full = {
        "L": L,
        "lang": lang,
        "nav": NAV,
        "flashes": [(k, L(zh, en)) for k, zh, en in flashes],
        "error": None,
        "page": "",
        "here": here,
        "lang_zh": shown + "?" + urlencode({**switch, "lang": "zh"}),
        "lang_en": shown + "?" + urlencode({**switch, "lang": "en"}),
        "role_label": (L(user.account.role.zh, user.account.role.en) if user is not None else ""),
        "can": (lambda a: user is not None and user.account.role in ACTIONS[a]),
        "csrf": user.csrf if user else "",
        **ctx,
    }
    html = _env.get_template(template).render(full)
    return _finish(request, HTMLResponse(html, status_code=status))


def _refuse_page(request: Request, user: UserSession | None, e: Refused) -> Response:
    return _render(
        request,
        "error.html",
        {"user": user, "title": "", "message": _msg(_lang(request), e.zh, e.en)},
        status=e.status,
    )


def _login_redirect(request: Request) -> Response:
    return RedirectResponse("/station/login?next=" + quote(str(request.url.path)), status_code=303)


def _check(user: UserSession, action: str, form: FormData | None) -> None:
    """CSRF first (a forged form learns nothing), then the role.

    Raises:
        Refused: 403 with the reason.
    """
    if form is not None:
        given = form.get("csrf")
        if not csrf_ok(user.csrf, given if isinstance(given, str) else None):
            raise Refused(
                403,
                "安全令牌缺失或不符（可能页面已过期，或表单并非来自本系统），操作未执行。"
                "请回到页面刷新后重试。",
                "The form's security token is missing or wrong (the page may have expired, or "
                "the form did not come from this system). Nothing was done; reload the page "
                "and try again.",
            )
    allowed = ACTIONS[action]
    if user.account.role not in allowed:
        zh_roles = "、".join(r.zh for r in Role if r in allowed)
        en_roles = ", ".join(r.en for r in Role if r in allowed)
        name_zh, name_en = ACTION_NAMES[action]
        raise Refused(
            403,
            f"您的角色是{user.account.role.zh}，不能{name_zh}：此操作只能由{zh_roles}进行。",
            f"You are signed in as {user.account.role.en}; {name_en} is for the {en_roles} only.",
        )


def _int(form: FormData, key: str, zh: str, en: str) -> int:
    raw = form.get(key)
    text = raw.strip() if isinstance(raw, str) else ""
    if not text.isdigit() or len(text) > 6:
        raise SessionError(
            "form.number", zh=f"请填写{zh}（整数）", en=f"give {en} (a whole number)"
        )
    return int(text)


def _text(form: FormData, key: str, limit: int = 200) -> str:
    raw = form.get(key)
    return raw.strip()[:limit] if isinstance(raw, str) else ""


# -- page data (built in the election thread: every read of the store happens there) ----------------
def _post_label(post: PostKind, lang: str) -> str:
    return zh_label(post) if lang == "zh" else post.value


def _names(s: ElectionSession, ids: Sequence[str]) -> list[str]:
    e = s.manifest.election
    out = []
    for i in ids:
        try:
            out.append(e.member(MemberId(str(i))).name)
        except KeyError:
            out.append(str(i))
    return out


def _quorum_view(s: ElectionSession, lang: str) -> dict[str, Any]:
    m = s.meeting
    q = quorum(len(m.present), m.expected, s.manifest.election.parameters.quorum_comparison)
    return {
        "present": len(m.present),
        "expected": m.expected,
        "minimum": q.minimum_present,
        "valid": q.valid,
        "text": describe_quorum(q, lang),
    }


def _round_view(s: ElectionSession, lang: str) -> dict[str, Any]:
    """The round in progress or due, and what its next step is."""
    m = s.meeting
    cur = m.current
    if cur is not None:
        spec = cur.spec
        step = (
            "issue"
            if cur.issued is None
            else "return"
            if cur.returned is None
            else "enter"
            if len(cur.entered) < cur.returned
            else "close"
        )
        return {
            "title": spec_title(spec, lang),
            "spec": spec,
            "open": True,
            "issued": cur.issued,
            "returned": cur.returned,
            "entered": len(cur.entered),
            "present": cur.present,
            "step": step,
            "stock": m.stocks.get((spec.post, spec.number)),
            "candidates": _names(s, spec.candidates),
            "seats": spec.seats,
        }
    if m.result is not None:
        return {"title": "", "spec": None, "open": False, "step": "done"}
    due = m.due()
    if isinstance(due, RoundSpec):
        # (R22.2) a direct election's joint opening needs every post's round-1 stock first
        unprinted = [
            r
            for r in (due, *(joint_rounds(m.rounds) if due.post is PostKind.COMMITTEE else ()))
            if (r.post, r.number) not in m.stocks
        ]
        stock = None if unprinted else m.stocks.get((due.post, due.number))
        return {
            "title": spec_title(due, lang),
            "spec": due,
            "open": False,
            "issued": None,
            "returned": None,
            "entered": 0,
            "present": len(m.present),
            "step": "issue" if stock else "print",
            "stock": stock,
            "candidates": _names(s, due.candidates),
            "seats": due.seats,
        }
    if isinstance(due, Finished):
        return {"title": "", "spec": None, "open": False, "step": "result"}
    return {"title": "", "spec": None, "open": False, "step": "blocked"}


def _signoff(s: ElectionSession, lang: str) -> list[dict[str, Any]]:
    """Every round-closed and result checkpoint with the scrutineers who signed it."""
    from tally.core.manifest import canonical  # noqa: PLC0415
    from tally.log.checkpoint import signer_name  # noqa: PLC0415

    names = [
        (signer_name(pk), pk.label)
        for pk in (keys.parse_public_key(canonical(k)) for k in s.manifest.scrutineer_keys)
    ]
    out = []
    for cp in s.store.checkpoints():
        if not (cp.reason.startswith("round-closed") or cp.reason == "result"):
            continue
        have = {n for n, _ in cp.signature_lines}
        if cp.reason == "result":
            what = _msg(lang, "选举结果", "election result")
        else:
            _, post, number = cp.reason.split(" ")
            what = _msg(
                lang,
                f"{zh_label(PostKind(post))}选举 第{number}轮",
                f"{post} round {number}",
            )
        out.append(
            {
                "what": what,
                "signers": [{"label": label, "signed": n in have} for n, label in names],
                "complete": all(n in have for n, _ in names),
            }
        )
    return out


def _version(s: ElectionSession) -> str:
    signatures = sum(len(cp.signature_lines) for cp in s.store.checkpoints())
    return f"{s.meeting.size}.{signatures}"


def _common(s: ElectionSession, lang: str) -> dict[str, Any]:
    e = s.manifest.election
    return {
        "election": e,
        "quorum": _quorum_view(s, lang),
        "round": _round_view(s, lang),
        "version": _version(s),
    }


def _overview(s: ElectionSession, lang: str) -> dict[str, Any]:
    e = s.manifest.election
    m = s.meeting
    posts = [
        {
            "label": _post_label(p.kind, lang),
            "seats": p.seats,
            "candidates": _names(s, p.candidates),
            "elected": _names(s, p.elected),
        }
        for p in m.rounds.posts
    ]
    rounds = [
        {
            "title": spec_title(o.spec, lang),
            "status": o.status.value,
            "summary": _outcome_summary(s, o, lang),
        }
        for o in m.rounds.outcomes
    ]
    return {
        "posts": posts,
        "rounds": rounds,
        "next": (
            _msg(lang, "选举结果已宣布。", "The result has been recorded.")
            if m.result is not None
            else describe_next(m.due(), e, lang)
        ),
        "signoff": _signoff(s, lang),
    }


def _outcome_summary(s: ElectionSession, o: RoundOutcome, lang: str) -> str:
    if o.status is RoundStatus.QUORUM_FAILED:
        return _msg(lang, "未达到法定人数，未进行选举", "no quorum: not held")
    if o.status is RoundStatus.VOID:
        return _msg(
            lang,
            f"发出 {o.issued} 张，收回 {o.returned} 张：本轮无效，重新投票",
            f"{o.issued} issued, {o.returned} returned: void, voted again",
        )
    parts = []
    if o.elected:
        parts.append(_msg(lang, "当选：", "elected: ") + "、".join(_names(s, o.elected)))
    if o.tied:
        parts.append(
            _msg(lang, "票数相等，再次投票：", "tie, runoff: ") + "、".join(_names(s, o.tied))
        )
    if o.shortfall:
        parts.append(_msg(lang, f"尚缺 {o.shortfall} 名，另行选举", f"{o.shortfall} seat(s) open"))
    return "；".join(parts) or _msg(lang, "无人当选", "nobody elected")


def _checkin(s: ElectionSession, lang: str, q: str) -> dict[str, Any]:
    e = s.manifest.election
    m = s.meeting
    remote = set(e.remote_voting.approved)
    needle = q.strip().lower()
    rows = []
    for member in e.members:
        if (
            needle
            and needle not in member.name.lower()
            and not member.id.lower().startswith(needle)
        ):
            continue
        elector = member.id in m.expected_ids
        rows.append(
            {
                "id": member.id,
                "name": member.name,
                "present": member.id in m.present,
                "elector": elector,
                "remote": member.id in remote,
                "homonym": sum(1 for x in e.members if x.name == member.name) > 1,
            }
        )
    return {
        "q": q,
        "rows": rows,
        "present_names": sorted(_names(s, sorted(m.present))),
        "open_round": m.current is not None,
    }


def _joint_view(s: ElectionSession, lang: str) -> list[dict[str, Any]]:
    """(R22.2) The other rounds of a direct election's joint opening: due with the committee's
    first round, or held (ballots issued together) until their count."""
    m = s.meeting
    if m.held:
        return [
            {
                "post": h.spec.post.value,
                "title": spec_title(h.spec, lang),
                "issued": h.issued,
                "returned": h.returned,
                "stock": (h.spec.post, h.spec.number) in m.stocks,
            }
            for h in m.held
        ]
    if m.current is not None:
        return []
    return [
        {
            "post": r.post.value,
            "title": spec_title(r, lang),
            "issued": None,
            "returned": None,
            "stock": (r.post, r.number) in m.stocks,
        }
        for r in joint_rounds(m.rounds)
    ]


def _ballots(s: ElectionSession, lang: str) -> dict[str, Any]:
    m = s.meeting
    rv = _round_view(s, lang)
    spec: RoundSpec | None = rv["spec"]
    plenary: list[dict[str, str]] = []
    quorum_text = describe_quorum(
        quorum(len(m.present), m.expected, s.manifest.election.parameters.quorum_comparison),
        lang,
    )
    if spec is not None and spec.body is ElectingBody.PLENARY:
        plenary = [
            {"id": i, "name": n}
            for i, n in zip(
                m.rounds.elected(PostKind.COMMITTEE),
                _names(s, m.rounds.elected(PostKind.COMMITTEE)),
                strict=True,
            )
        ]
        quorum_text = describe_quorum(plenary_quorum(0, spec.expected), lang)
    verdict = None
    cur = m.current
    if cur is not None and cur.issued is not None and cur.returned is not None:
        verdict = _msg(
            lang,
            f"发出选票 {cur.issued} 张，收回 {cur.returned} 张，收回不多于发出，本轮选举有效（R11）",
            f"{cur.issued} issued, {cur.returned} returned: the round is valid (R11)",
        )
    last_void = next((o for o in reversed(m.rounds.outcomes) if o.status is RoundStatus.VOID), None)
    return {
        "joint": _joint_view(s, lang),
        "plenary": plenary,
        "quorum_text": quorum_text,
        "verdict": verdict,
        "suggested_count": len(m.present) + 2,
        "last_void": (
            describe_outcome(last_void, s.manifest.election, lang)[-1]
            if last_void is not None and m.current is None
            else None
        ),
    }


def _entry_actor(s: ElectionSession, seq: int) -> str:
    for row_seq, raw in reversed(s.store.log_rows()):
        if row_seq == seq:
            return parse_entry(raw).actor
    return ""


def _count(s: ElectionSession, lang: str, user: UserSession, st: StationState) -> dict[str, Any]:
    m = s.meeting
    cur = m.current
    ctx: dict[str, Any] = {
        "ready": False,
        "mine": None,
        "pending": [],
        "double_entry": s.meeting.double_entry,
        "write_rows": 0,
    }
    if cur is None or cur.returned is None:
        return ctx
    ctx["ready"] = True
    ctx["candidates"] = [
        {"index": i, "id": c, "name": n}
        for i, (c, n) in enumerate(
            zip(cur.spec.candidates, _names(s, cur.spec.candidates), strict=True)
        )
    ]
    # One row more than the paper has: a name written beyond the rows (R9.5, invalid ballot).
    ctx["write_rows"] = cur.spec.seats + 1
    ctx["complete"] = len(cur.entered) >= cur.returned
    # (R8.5) entering a returned ballot as invalid by decision, confirmed by a scrutineer.
    ctx["invalid_reasons"] = [
        {"code": c, "zh": zh, "en": en} for c, (zh, en) in INVALID_REASONS.items()
    ]
    ctx["scrutineer_keys"] = [
        {"index": i, "name": _key_label(p)} for i, p in enumerate(st.scrutineer_keys)
    ]
    if cur.entered:
        last = cur.entered[-1]
        actor = _entry_actor(s, last.seq)
        if user.account.name in actor.split("+"):
            ctx["mine"] = {
                "ballot_id": last.ballot_id,
                "code": ballot_printer.ballot_code(bytes.fromhex(last.ballot_id))
                if last.ballot_id
                else "—",  # an invalid ballot without QR (R8.5)
            }
    ctx["pending"] = [{"code": p.code, "teller": p.teller} for p in st.pending.values()]
    return ctx


def _running_tally(
    s: ElectionSession, lang: str, pick: tuple[str, str] | None = None
) -> dict[str, Any]:
    """The chart: the open round's approvals so far, or the last counted round's outcome, or
    the counted round ``pick`` = (post, round number) asked for from the rounds listed below it."""
    m = s.meeting
    e = s.manifest.election
    cur = m.current
    counted = [o for o in m.rounds.outcomes if o.status is RoundStatus.COUNTED]
    chosen = [o for o in counted if pick == (o.spec.post.value, str(o.spec.number))]
    if chosen:
        counted = chosen
    elif cur is not None and cur.returned is not None:
        spec = cur.spec
        votes = dict.fromkeys(spec.candidates, 0)
        valid = invalid = 0
        for eb in cur.entered:
            v = judge_ballot(
                eb.ballot,
                candidates=spec.candidates,
                seats=spec.seats,
                params=e.parameters,
                write_in_eligible=lambda _m: True,
            )
            valid += v.valid
            invalid += not v.valid
            for mid in v.approvals:
                if mid in votes:
                    votes[mid] += 1
        base = (
            spec.expected
            if spec.body is ElectingBody.PLENARY
            else threshold_base(e.parameters, spec.expected, cur.present)
        )
        minimum = base // 2 + 1 if spec.apply_threshold else None
        return {"histories": _histories(s, lang, spec.post)} | _chart(
            s,
            lang,
            title=spec_title(spec, lang),
            approvals=list(votes.items()),
            minimum=minimum,
            base=base,
            live=True,
            entered=len(cur.entered),
            returned=cur.returned,
            valid=valid,
            invalid=invalid,
            elected=(),
            tied=(),
        )
    if not counted:
        return {"chart": None, "histories": []}
    o = counted[-1]
    return {"histories": _histories(s, lang, o.spec.post)} | _chart(
        s,
        lang,
        title=spec_title(o.spec, lang),
        approvals=list(o.approvals),
        minimum=o.minimum_to_pass if o.spec.apply_threshold else None,
        base=o.base,
        live=False,
        entered=o.valid_ballots + o.invalid_ballots,
        returned=o.returned,
        valid=o.valid_ballots,
        invalid=o.invalid_ballots,
        elected=o.elected,
        tied=o.tied,
    )


def _chart(
    s: ElectionSession,
    lang: str,
    *,
    title: str,
    approvals: list[tuple[MemberId, int]],
    minimum: int | None,
    base: int,
    live: bool,
    entered: int,
    returned: int,
    valid: int,
    invalid: int,
    elected: tuple[MemberId, ...],
    tied: tuple[MemberId, ...],
) -> dict[str, Any]:
    """Inline SVG geometry (attributes only: the CSP forbids inline styles).

    No label ever crosses the threshold line: the names end left of the bars, the approvals
    stand in their own column right of the full track (the line is never right of the track:
    the scale covers the threshold base), and the line's own label starts right of the line.
    """
    scale_max = max([base, *(v for _, v in approvals), 1])
    label_w, bar_w, row_h, top = 230, 640, 64, 50
    votes_x = label_w + bar_w + 24
    rows = []
    for i, (mid, v) in enumerate(approvals):
        state = "elected" if mid in elected else "tied" if mid in tied else ""
        if not state and minimum is not None and v >= minimum:
            state = "passing"
        rows.append(
            {
                "y": top + i * row_h,
                "name": _names(s, [mid])[0],
                "votes": v,
                "w": round(bar_w * v / scale_max, 1),
                "state": state,
                "mark": {
                    "elected": _msg(lang, "当选", "elected"),
                    "tied": _msg(lang, "票数相等", "tied"),
                }.get(state, ""),
            }
        )
    line_x = label_w + round(bar_w * minimum / scale_max, 1) if minimum is not None else None
    return {
        "chart": {
            "title": title,
            "rows": rows,
            "label_w": label_w,
            "bar_w": bar_w,
            "height": top + len(rows) * row_h + 20,
            "line_x": line_x,
            "votes_x": votes_x,
            "width": votes_x + 200,
            "minimum": minimum,
            "base": base,
            "live": live,
            "entered": entered,
            "returned": returned,
            "valid": valid,
            "invalid": invalid,
        }
    }


def _result(s: ElectionSession, lang: str) -> dict[str, Any]:
    m = s.meeting
    e = s.manifest.election
    histories = _histories(s, lang)
    due = m.due()
    blocked = isinstance(due, Blocked)
    shortfall_posts = [
        {"value": p.kind.value, "label": _post_label(p.kind, lang), "seats": p.seats}
        for p in m.rounds.posts
        if len(p.elected) < p.seats
    ]
    return {
        "histories": histories,
        "signoff": _signoff(s, lang),
        "next": (
            _msg(lang, "选举结果已宣布。", "The result has been recorded.")
            if m.result is not None
            else describe_next(due, e, lang)
        ),
        "finished": isinstance(due, Finished) and m.current is None,
        "result": m.result,
        "result_lines": _result_lines(s, lang),
        "blocked": blocked,
        "decision_posts": shortfall_posts if m.current is None and m.result is None else [],
        "published": False,
    }


def _histories(s: ElectionSession, lang: str, post: PostKind | None = None) -> list[dict[str, Any]]:
    """Every round of each post (or of ``post``) and who was elected in which round (A13), with
    each counted round's counting lines for the work group."""
    e = s.manifest.election
    outcomes = {(o.spec.post.value, o.spec.number): o for o in s.meeting.rounds.outcomes}
    views = [
        v for v in post_views(s, lang, public=False) if post is None or v["post"] == post.value
    ]
    for v in views:
        for r in v["rounds"]:
            o = outcomes.get((v["post"], r["number"]))
            held = o is not None and r["status"] == o.status.value
            r["lines"] = describe_outcome(o, e, lang)[1:] if held and o is not None else []
    return views


def _result_lines(s: ElectionSession, lang: str) -> list[str]:
    r = s.meeting.result
    if r is None:
        return []
    lines = [
        f"{_post_label(PostKind(post), lang)}{_msg(lang, '：', ': ')}{'、'.join(_names(s, ids))}"
        for post, ids in r["elected"].items()
    ]
    lines.append(
        _msg(
            lang,
            f"公示期：{r['publicity_start']} 至 {r['publicity_end']}",
            f"publicity: {r['publicity_start']} to {r['publicity_end']}",
        )
    )
    return lines


def _downloads(s: ElectionSession, lang: str, data_dir: Path) -> dict[str, Any]:
    stocks = []
    for post, number in sorted(s.meeting.stocks, key=lambda k: (k[0].value, k[1])):
        name = f"{post.value}-{number}.pdf"
        if (data_dir / "stocks" / name).exists():
            stocks.append(
                {
                    "name": name,
                    "label": _msg(
                        lang,
                        f"{zh_label(post)}选票 第{number}轮（{s.meeting.stocks[(post, number)]} 张）",
                        f"{post.value} ballots, round {number} ({s.meeting.stocks[(post, number)]})",
                    ),
                }
            )
    sheets = []
    rv = _round_view(s, lang)
    spec: RoundSpec | None = rv["spec"]
    if spec is not None:
        sheets.append(
            {"name": f"{spec.post.value}-{spec.number}.pdf", "label": spec_title(spec, lang)}
        )
    published = (data_dir / "published" / "bundle.zip").exists()
    return {
        "stocks": stocks,
        "sheets": sheets,
        "published": published,
        "has_result": s.meeting.result is not None,
        "missing": s.missing_cosignatures(),
    }


# -- the routes ----------------------------------------------------------------------------------
PageBuilder = Callable[[ElectionSession, str, UserSession, StationState, Request], dict[str, Any]]


def _pages(data_dir: Path) -> dict[str, tuple[str, PageBuilder]]:
    return {
        "overview": ("overview.html", lambda s, lg, u, st, r: _overview(s, lg)),
        "checkin": (
            "checkin.html",
            lambda s, lg, u, st, r: _checkin(s, lg, r.query_params.get("q", "")[:40]),
        ),
        "ballots": ("ballots.html", lambda s, lg, u, st, r: _ballots(s, lg)),
        "count": ("count.html", lambda s, lg, u, st, r: _count(s, lg, u, st)),
        "tally": (
            "tally.html",
            lambda s, lg, u, st, r: _running_tally(
                s, lg, (r.query_params.get("post", ""), r.query_params.get("round", ""))
            ),
        ),
        "result": ("result.html", lambda s, lg, u, st, r: _result(s, lg)),
        "downloads": ("downloads.html", lambda s, lg, u, st, r: _downloads(s, lg, data_dir)),
    }


def register(app: FastAPI) -> None:
    """Mount the station's pages, static files and the live endpoint on ``app``."""
    state: ServiceState = app.state.service
    config = state.config
    limits = config.extra.get("argon2_limits", {})
    app.state.station = StationState(
        accounts=AccountStore(accounts_path(config.data_dir), **limits),
        scrutineer_keys=config.scrutineer_keys,
    )
    app.mount(
        "/station/static",
        StaticFiles(directory=HERE / "static" / "station"),
        name="station-static",
    )
    router = APIRouter(prefix="/station", include_in_schema=False)
    pages = _pages(config.data_dir)

    async def show(
        request: Request,
        name: str,
        *,
        status: int = 200,
        error: str | None = None,
        extra: dict[str, Any] | None = None,
    ) -> Response:
        user = _user(request)
        if user is None:
            return _login_redirect(request)
        lang = _lang(request)
        template, build = pages[name]
        st = _station(request)

        def gather(s: ElectionSession) -> dict[str, Any]:
            return {**_common(s, lang), **build(s, lang, user, st, request)}

        try:
            ctx = await state.run(gather)
        except StoreError as e:
            return _render(
                request,
                "error.html",
                {"user": user, "message": _msg(lang, e.zh, e.en)},
                status=503,
            )
        ctx.update(extra or {})
        return _render(
            request, template, {**ctx, "user": user, "page": name, "error": error}, status=status
        )

    async def act(
        request: Request,
        action: str,
        page: str,
        fn: Callable[[ElectionSession, FormData, UserSession], tuple[str, str]],
        *,
        back: str | None = None,
    ) -> Response:
        """One command: sign-in, CSRF, role, the session call under the lock, then PRG."""
        user = _user(request)
        if user is None:
            return _login_redirect(request)
        form = await request.form()
        try:
            _check(user, action, form)
        except Refused as e:
            return _refuse_page(request, user, e)
        lang = _lang(request)
        try:
            zh, en = await state.run(lambda s: fn(s, form, user))
        except (SessionError, TallyError, AccountError) as e:
            return await show(
                request,
                page,
                status=409,
                error=_msg(lang, e.zh, e.en),
                extra={"form": {k: v for k, v in form.items() if k != "csrf"}},
            )
        except ballot_printer.BallotPrinterError as e:
            return await show(request, page, status=409, error=_msg(lang, e.zh, e.en))
        except StoreError as e:
            return await show(request, page, status=503, error=_msg(lang, e.zh, e.en))
        except OSError as e:  # a file of the data folder (stock PDF, bundle) the disk did not take
            if e.errno not in _DISK_ERRORS:
                raise
            return await show(
                request,
                page,
                status=503,
                error=_msg(
                    lang,
                    "磁盘已满或无法写入，本次操作没有完成：请腾出磁盘空间后重试",
                    "the disk is full or cannot be written; nothing was done: free some disk "
                    "space and try again",
                ),
            )
        _flash(request, user, "ok", zh, en)
        return RedirectResponse(back or f"/station/{'' if page == 'overview' else page}", 303)

    # sign-in -------------------------------------------------------------------------------
    @router.get("/login")
    async def login_page(request: Request) -> Response:
        import secrets  # noqa: PLC0415

        token = secrets.token_urlsafe(24)
        response = _render(
            request,
            "login.html",
            {"user": None, "pre": token, "next": _safe_next(request.query_params.get("next"))},
        )
        response.set_cookie(
            PRE_COOKIE,
            token,
            httponly=True,
            samesite="strict",
            secure=config.secure_cookies,
            path="/station",
        )
        return response

    @router.post("/login")
    async def login(request: Request) -> Response:
        form = await request.form()
        lang = _lang(request)
        pre = request.cookies.get(PRE_COOKIE, "")
        given = form.get("csrf")
        nxt = _safe_next(_text(form, "next"))
        if not pre or not csrf_ok(pre, given if isinstance(given, str) else None):
            e = Refused(
                403,
                "登录表单已过期或来源无法确认，请刷新登录页后重试。",
                "The sign-in form expired or did not come from this system; reload it.",
            )
            return _refuse_page(request, None, e)
        name, password = _text(form, "name", 40), form.get("password")
        st = _station(request)
        try:
            sid, _session = await anyio.to_thread.run_sync(
                functools.partial(
                    st.accounts.sign_in,
                    name,
                    password if isinstance(password, str) else "",
                    client=request_client(request),
                ),
                limiter=st.hashers(),
            )
        except (AccountError, StoreError) as e:
            status = 503 if isinstance(e, StoreError) else 429 if e.code == "signin.locked" else 401
            return _render(
                request,
                "login.html",
                {
                    "user": None,
                    "pre": pre,
                    "next": nxt,
                    "error": _msg(lang, e.zh, e.en),
                    "name": name,
                },
                status=status,
            )
        response = RedirectResponse(nxt, status_code=303)
        response.set_cookie(
            COOKIE,
            sid,
            httponly=True,
            samesite="strict",
            secure=config.secure_cookies,
            path="/station",
            max_age=12 * 3600,
        )
        response.delete_cookie(PRE_COOKIE, path="/station")
        return response

    @router.post("/logout")
    async def logout(request: Request) -> Response:
        user = _user(request)
        form = await request.form()
        if user is not None:
            given = form.get("csrf")
            if not csrf_ok(user.csrf, given if isinstance(given, str) else None):
                return _refuse_page(request, user, Refused(403, "安全令牌不符", "bad token"))
            _station(request).accounts.sign_out(request.cookies.get(COOKIE))
        response = RedirectResponse("/station/login", status_code=303)
        response.delete_cookie(COOKIE, path="/station")
        return response

    # pages ---------------------------------------------------------------------------------
    @router.get("/")
    async def overview(request: Request) -> Response:
        return await show(request, "overview")

    @router.get("/checkin")
    async def checkin_page(request: Request) -> Response:
        return await show(request, "checkin")

    @router.get("/ballots")
    async def ballots_page(request: Request) -> Response:
        return await show(request, "ballots")

    @router.get("/count")
    async def count_page(request: Request) -> Response:
        return await show(request, "count")

    @router.get("/tally")
    async def tally_page(request: Request) -> Response:
        return await show(request, "tally")

    @router.get("/result")
    async def result_page(request: Request) -> Response:
        return await show(request, "result")

    @router.get("/downloads")
    async def downloads_page(request: Request) -> Response:
        return await show(request, "downloads")

    # commands ------------------------------------------------------------------------------
    @router.post("/checkin")
    async def checkin(request: Request) -> Response:
        q = request.query_params.get("q", "")

        def fn(s: ElectionSession, form: FormData, user: UserSession) -> tuple[str, str]:
            ref = _text(form, "member", 40)
            if _text(form, "leave"):
                s.leave([ref], actor=user.account.name)
                name = _names(s, [ref])[0]
                return f"{name}（{ref}）已离会", f"{name} ({ref}) has left"
            ids = s.check_in([ref], actor=user.account.name)
            name = _names(s, ids)[0]
            return f"{name}（{ids[0]}）已签到", f"{name} ({ids[0]}) checked in"

        back = "/station/checkin" + (f"?{urlencode({'q': q})}" if q else "")
        return await act(request, "checkin", "checkin", fn, back=back)

    @router.post("/print")
    async def print_stock(request: Request) -> Response:
        def fn(s: ElectionSession, form: FormData, user: UserSession) -> tuple[str, str]:
            signer = _signer(state)
            count = _int(form, "count", "张数", "the number of ballots")
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
            folder = config.data_dir / "stocks"
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
                actor=user.account.name,
            )
            return (
                f"已打印并登记选票 {count} 张：{spec_title(spec, 'zh')}（在“下载”页取 PDF 打印）",
                f"{count} ballots printed and committed: {spec_title(spec, 'en')} "
                "(PDF on the Downloads page)",
            )

        return await act(request, "print", "ballots", fn)

    @router.post("/issue")
    async def issue(request: Request) -> Response:
        def fn(s: ElectionSession, form: FormData, user: UserSession) -> tuple[str, str]:
            members = [str(v) for v in form.getlist("member")]
            spec, n = s.issue(
                count=None,
                signer=_signer(state),
                present_members=members,
                actor=user.account.name,
            )
            joint = s.sitting() if spec.post is PostKind.COMMITTEE and spec.number == 1 else ()
            return (
                f"{spec_title(spec, 'zh')}：会议有效，发出选票 {n} 张"
                + "".join(f"；{spec_title(j, 'zh')}同时发出 {n} 张" for j in joint),
                f"{spec_title(spec, 'en')}: quorum held, {n} ballots issued"
                + "".join(f"; {spec_title(j, 'en')}: {n} issued with them" for j in joint),
            )

        return await act(request, "issue", "ballots", fn)

    @router.post("/return")
    async def return_ballots(request: Request) -> Response:
        def fn(s: ElectionSession, form: FormData, user: UserSession) -> tuple[str, str]:
            count = _int(form, "count", "收回张数", "the number returned")
            cur = s.meeting.current
            post = str(form.get("post") or "")
            kind = next((h.spec.post for h in s.meeting.held if h.spec.post.value == post), None)
            if kind is not None:  # (R22.2) a held round of the joint opening
                cur = next(h for h in s.meeting.held if h.spec.post is kind)
            issued = cur.issued if cur is not None else None
            valid = s.return_ballots(
                count, signer=_signer(state), actor=user.account.name, post=kind
            )
            if valid:
                return (
                    f"发出 {issued} 张，收回 {count} 张，本轮选举有效，请开始录入选票（R11）",
                    f"{issued} issued, {count} returned: the round is valid; enter the ballots",
                )
            return (
                f"发出 {issued} 张，收回 {count} 张，收回多于发出，本轮选举无效，须用新选票重新投票（R11）",
                f"{issued} issued, {count} returned: the round is VOID and is voted again (R11)",
            )

        return await act(request, "return", "ballots", fn)

    @router.post("/count/enter")
    async def enter(request: Request) -> Response:
        st = _station(request)
        lang = _lang(request)
        mismatch: dict[str, Any] = {}

        def fn(s: ElectionSession, form: FormData, user: UserSession) -> tuple[str, str]:
            item = _entry_input(s, form)
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
                _verdict_text(s, ballot, cur.spec, "zh"),
                _verdict_text(s, ballot, cur.spec, "en"),
            )
            me = user.account.name
            if s.meeting.double_entry:
                first = st.pending.get(ballot_id)
                if first is None or first.teller == me:
                    st.pending[ballot_id] = Pending(me, item, code)
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
                    del st.pending[ballot_id]
                    return (
                        f"选票 {code} 两人录入一致，已计入：{verdict[0]}",
                        f"ballot {code}: both entries agree, counted: {verdict[1]}",
                    )
                del st.pending[ballot_id]
                mismatch.update(_mismatch(s, cur.spec, first, item, me))
                raise DoubleEntryMismatchError((difference,), label=lambda _id: code)
            s.enter([item], actor=me)
            return (f"已录入选票 {code}：{verdict[0]}", f"ballot {code} entered: {verdict[1]}")

        response = await act(request, "enter", "count", fn)
        if mismatch and response.status_code == 409:
            return await show(
                request,
                "count",
                status=409,
                error=_msg(
                    lang,
                    "两人录入不一致，均未计入：请两人核对纸质选票后重新录入",
                    "the two entries differ; nothing counted; enter the ballot again",
                ),
                extra={"mismatch": mismatch},
            )
        return response

    @router.post("/count/invalid")
    async def declare_invalid(request: Request) -> Response:
        st = _station(request)

        def fn(s: ElectionSession, form: FormData, user: UserSession) -> tuple[str, str]:
            reason = _text(form, "reason", 40)
            if reason not in INVALID_REASONS:
                raise SessionError(
                    "invalid.reason",
                    zh="请选择无效票的理由（有识别标记、无法辨认、非正式选票）",
                    en="choose the reason (identifying marks, unreadable, not official stock)",
                )
            index = _text(form, "key", 4)
            passphrase = form.get("passphrase")
            if not index.isdigit() or int(index) >= len(st.scrutineer_keys):
                raise SessionError(
                    "invalid.no_confirmation",
                    zh="须由监票人确认：请选择监票人密钥（服务启动时用 --scrutineer-key 给出）",
                    en="a scrutineer must confirm: choose a scrutineer key (tally serve "
                    "--scrutineer-key)",
                )
            try:
                confirmer = keys.load_signer(
                    st.scrutineer_keys[int(index)],
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
            qr = _text(form, "qr", MAX_QR_CHARS)
            entry = s.declare_invalid(
                reason, confirmer=confirmer, qr=qr or None, actor=user.account.name
            )
            zh_reason, en_reason = INVALID_REASONS[reason]
            bid = entry.body["ballot_id"]
            code = ballot_printer.ballot_code(bytes.fromhex(bid)) if bid else ""
            return (
                f"已作为无效票录入{('选票 ' + code) if code else '一张无二维码的选票'}"
                f"（{zh_reason}，经监票人确认）",
                f"entered {('ballot ' + code) if code else 'a ballot without QR'} as invalid "
                f"({en_reason}, confirmed by a scrutineer)",
            )

        return await act(request, "enter", "count", fn)

    @router.post("/count/withdraw")
    async def withdraw(request: Request) -> Response:
        def fn(s: ElectionSession, form: FormData, user: UserSession) -> tuple[str, str]:
            ballot_id = _text(form, "ballot_id", 64)
            cur = s.meeting.current
            if cur is None or not cur.entered or cur.entered[-1].ballot_id != ballot_id:
                raise SessionError(
                    "withdraw.not_last",
                    zh="只能撤回本轮最后录入的一张选票（可能已有人录入了新的选票）",
                    en="only the round's last entered ballot can be withdrawn",
                )
            if user.account.name not in _entry_actor(s, cur.entered[-1].seq).split("+"):
                raise SessionError(
                    "withdraw.not_yours",
                    zh="只能撤回您自己最后录入的选票",
                    en="you can withdraw only your own last entry",
                )
            s.withdraw(ballot_id, actor=user.account.name)
            # "": a ballot declared invalid without QR (R8.5)
            code = ballot_printer.ballot_code(bytes.fromhex(ballot_id)) if ballot_id else "—"
            return (
                f"已撤回选票 {code} 的录入（记入日志），请重新录入",
                f"entry of ballot {code} withdrawn (logged); enter it again",
            )

        return await act(request, "withdraw", "count", fn)

    @router.post("/count/mode")
    async def mode(request: Request) -> Response:
        st = _station(request)

        def fn(s: ElectionSession, form: FormData, user: UserSession) -> tuple[str, str]:
            on = _text(form, "double") == "1"
            if not on and st.pending:
                raise SessionError(
                    "double_entry.pending",
                    zh="还有等待核对的录入，请先完成核对",
                    en="some entries still wait for a second teller",
                )
            s.set_double_entry(on, actor=user.account.name)  # logged: survives a restart
            return (
                "双人录入已开启：每张选票须两名计票人录入一致才计入" if on else "双人录入已关闭",
                "double entry on: two tellers must agree before a ballot counts"
                if on
                else "double entry off",
            )

        return await act(request, "mode", "count", fn)

    @router.post("/close")
    async def close(request: Request) -> Response:
        def fn(s: ElectionSession, form: FormData, user: UserSession) -> tuple[str, str]:
            if _station(request).pending:
                raise SessionError(
                    "double_entry.pending",
                    zh="还有等待第二名计票人核对的选票，不能结束计票",
                    en="ballots still wait for the second teller",
                )
            s.close(signer=_signer(state), actor=user.account.name)
            o = s.meeting.rounds.outcomes[-1]
            return (
                f"{spec_title(o.spec, 'zh')} 计票结束：{_outcome_summary(s, o, 'zh')}。请监票人签名确认",
                f"{spec_title(o.spec, 'en')} counted: {_outcome_summary(s, o, 'en')}. "
                "Scrutineers: co-sign",
            )

        return await act(request, "close", "result", fn)

    @router.post("/decide")
    async def decide(request: Request) -> Response:
        def fn(s: ElectionSession, form: FormData, user: UserSession) -> tuple[str, str]:
            e = s.manifest.election
            if _text(form, "kind") == "officials":  # (R25.1) the officials of later rounds

                def refs(key: str) -> list[str]:
                    return [r for r in _text(form, key, 400).replace("，", " ").split() if r]

                s.change_officials(refs("scrutineers"), refs("tellers"), actor=user.account.name)
                return (
                    "已记录此后各轮的监票人和计票人（R25）。"
                    + describe_next(s.meeting.due(), e, "zh"),
                    "The officials of the rounds from now on are recorded (R25). "
                    + describe_next(s.meeting.due(), e, "en"),
                )
            try:
                post = PostKind(_text(form, "post"))
            except ValueError:
                raise SessionError("post.unknown", zh="请选择职位", en="choose a post") from None
            if _text(form, "kind") == "reduce":
                s.reduce_seats(
                    post,
                    seats=_int(form, "seats", "减少后的名额", "the new number of seats"),
                    consent=_int(form, "consent", "党员大会同意人数", "the assembly's consent"),
                    agreement=_text(form, "agreement"),
                    actor=user.account.name,
                )
            else:
                s.amend_candidates(_text(form, "signed", 65536).encode(), actor=user.account.name)
            e = s.manifest.election
            return describe_next(s.meeting.due(), e, "zh"), describe_next(s.meeting.due(), e, "en")

        return await act(request, "decide", "result", fn)

    @router.post("/result")
    async def record_result(request: Request) -> Response:
        def fn(s: ElectionSession, form: FormData, user: UserSession) -> tuple[str, str]:
            from tally.calendar import CalendarError, load_calendar  # noqa: PLC0415

            try:
                calendar = load_calendar(None)
            except CalendarError as err:
                raise SessionError(err.code, zh=err.zh, en=err.en) from err
            s.record_result(signer=_signer(state), calendar=calendar, actor=user.account.name)
            return (
                "选举结果已记录，请当场宣布；监票人签名确认后即可发布",
                "result recorded: announce it; publish once the scrutineers have co-signed",
            )

        return await act(request, "result", "result", fn)

    @router.post("/publish")
    async def publish(request: Request) -> Response:
        def fn(s: ElectionSession, form: FormData, user: UserSession) -> tuple[str, str]:
            from tally.publish import publish as do_publish  # noqa: PLC0415

            p = do_publish(s, config.data_dir / "published")
            return (
                f"已发布：结果包和公示（最终根哈希 {p.root_hex[:16]}…），在“下载”页取用",
                f"published: bundle and notice (root {p.root_hex[:16]}…), see Downloads",
            )

        return await act(request, "publish", "downloads", fn, back="/station/downloads")

    # downloads -----------------------------------------------------------------------------
    @router.get("/files/stock/{name}")
    async def stock_pdf(request: Request, name: str) -> Response:
        return await _download(request, "stock_pdf", config.data_dir / "stocks", name)

    @router.get("/files/notice.pdf")
    async def notice(request: Request) -> Response:
        return await _download(request, None, config.data_dir / "published", "notice.pdf")

    @router.get("/files/bundle.zip")
    async def bundle(request: Request) -> Response:
        return await _download(request, "bundle", config.data_dir / "published", "bundle.zip")

    @router.get("/files/sheet/{name}")
    async def sheet(request: Request, name: str) -> Response:
        user = _user(request)
        if user is None:
            return _login_redirect(request)
        stem = name.removesuffix(".pdf")
        post_text, _, number = stem.rpartition("-")
        try:
            post, round_number = PostKind(post_text), int(number)
        except ValueError:
            return _refuse_page(request, user, Refused(404, "没有这个文件", "no such file"))

        def make(s: ElectionSession) -> bytes:
            # The PDF is rendered into a scratch folder that goes with the ``with``, whatever
            # happens (a refusal, any other failure), and is read back whole: a tally sheet is a
            # page or two. Nothing is left behind for the response to clean up, so a client that
            # disconnects mid-download leaves no folder either (issue 14 point 5).
            with tempfile.TemporaryDirectory(prefix="sheet-") as tmp:
                out = Path(tmp) / "sheet.pdf"
                ballot_printer.render_tally_sheet(s.paper(post, round_number), out)
                return out.read_bytes()

        try:
            pdf = await state.run(make)
        except (SessionError, ballot_printer.BallotPrinterError) as e:
            return _refuse_page(request, user, Refused(409, e.zh, e.en))
        return Response(
            pdf,
            media_type="application/pdf",
            headers={
                "Content-Disposition": (
                    f'attachment; filename="tally-sheet-{post.value}-{round_number}.pdf"'
                )
            },
        )

    async def _download(request: Request, action: str | None, folder: Path, name: str) -> Response:
        user = _user(request)
        if user is None:
            return _login_redirect(request)
        if action is not None:
            try:
                _check(user, action, None)
            except Refused as e:
                return _refuse_page(request, user, e)
        allowed = {p.name for p in folder.glob("*") if p.is_file()} if folder.is_dir() else set()
        if name not in allowed or not (name.endswith((".pdf", ".zip"))):
            return _refuse_page(
                request, user, Refused(404, "文件还没有生成", "the file does not exist yet")
            )
        media = "application/pdf" if name.endswith(".pdf") else "application/zip"
        return FileResponse(folder / name, media_type=media, filename=name)

    # live updates and the scanner check ------------------------------------------------------
    @router.get("/api/live")
    async def live(request: Request) -> Response:
        user = _user(request)
        if user is None:
            return _signin_needed(request)
        st = _station(request)

        def read(s: ElectionSession) -> dict[str, Any]:
            m = s.meeting
            q = _quorum_view(s, "zh")
            cur = m.current
            return {
                "ok": True,
                "version": f"{_version(s)}.{len(st.pending)}.{int(s.meeting.double_entry)}",
                "present": q["present"],
                "expected": q["expected"],
                "minimum": q["minimum"],
                "quorum_valid": q["valid"],
                "entered": len(cur.entered) if cur else None,
                "returned": cur.returned if cur else None,
            }

        return JSONResponse(await state.run(read))

    @router.get("/api/scan")
    async def scan(request: Request) -> Response:
        """Check a scanned QR text before the teller marks the grid (stores nothing)."""
        user = _user(request)
        if user is None:
            return _signin_needed(request)
        lang = _lang(request)
        qr = request.query_params.get("qr", "")[:MAX_QR_CHARS]
        st = _station(request)

        def check(s: ElectionSession) -> dict[str, Any]:
            cur = s.meeting.current
            if cur is None:
                raise SessionError("round.none_open", zh="当前没有进行中的轮次", en="no round open")
            body = s.ballot_body(EntryInput(qr=qr, marks="-" * len(cur.spec.candidates)))
            code = ballot_printer.ballot_code(bytes.fromhex(body["ballot_id"]))
            if s.meeting.ballot_entered(body["ballot_id"]):
                raise SessionError(
                    "enter.duplicate",
                    zh=f"选票 {code} 已经录入过",
                    en=f"ballot {code} was already entered",
                )
            if body["ballot_id"] not in s.meeting.stock_ids.get(
                (cur.spec.post, cur.spec.number), frozenset()
            ):
                raise SessionError(
                    "enter.not_in_stock",
                    zh="这张选票不在本轮登记的选票中（可能是伪造或其他轮次的选票）",
                    en="this ballot is not in the stock committed for this round",
                )
            first = st.pending.get(body["ballot_id"])
            note = ""
            if first is not None:
                note = _msg(
                    lang,
                    f"（{first.teller} 已录入一次，请核对录入）",
                    f" (entered once by {first.teller}: enter it again to confirm)",
                )
            return {
                "ok": True,
                "code": code,
                "message": _msg(
                    lang,
                    f"选票 {code}：签名有效，请录入标记{note}",
                    f"ballot {code}: signature valid; enter the marks{note}",
                ),
            }

        try:
            return JSONResponse(await state.run(check))
        except SessionError as e:
            return JSONResponse(
                {
                    "ok": False,
                    "code": e.code,
                    "message": _scan_message(lang, e),
                },
                status_code=409,
            )

    app.include_router(router)

    @app.get("/station", include_in_schema=False)
    async def station_root() -> Response:
        return RedirectResponse("/station/", status_code=307)


def _scan_message(lang: str, e: SessionError) -> str:
    if e.code.startswith(("qr.", "payload.")) or "QR" in e.en or "base32" in e.en:
        return _msg(
            lang,
            f"扫到的内容不是本次选举的选票二维码：{e.zh}。请对准选票右上角的二维码重新扫描",
            f"the scanned text is not a ballot QR of this election: {e.en}. Scan the "
            "ballot's QR code again",
        )
    return _msg(lang, e.zh, e.en)


def _safe_next(value: str | None) -> str:
    """Only a path of this station after sign-in (never another site)."""
    if value and value.startswith("/station/") and "//" not in value and "\\" not in value:
        return value
    return "/station/"


def _signer(state: ServiceState) -> Any:
    if state.signer is None:
        raise SessionError(
            "key.not_loaded",
            zh="服务启动时没有载入工作组密钥（tally serve --key），不能进行需要签名的操作",
            en="the service was started without the work-group key (tally serve --key)",
        )
    return state.signer


def _entry_input(s: ElectionSession, form: FormData) -> EntryInput:
    """The ballot the teller entered: scanner text, one mark per candidate, write-in rows."""
    qr = _text(form, "qr", MAX_QR_CHARS)
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
        mark = _text(form, f"m{i}", 1) or "-"
        if mark not in ("o", "x", "-", "?"):
            raise SessionError("enter.marks", zh="标记只能是 ○ × 空 ?", en="bad mark")
        marks += mark
    write_ins = []
    for i in range(cur.spec.seats + 1):  # the last row: a name beyond the paper's rows (R9.5)
        name = _text(form, f"w{i}", 40)
        if name:
            write_ins.append(name if _text(form, f"wm{i}") == "o" else f"{name}:-")
    try:
        ballot_printer.parse_qr_text(qr)
    except ballot_printer.BallotPrinterError as e:
        raise SessionError(
            "enter.bad_qr",
            zh=f"扫到的内容不是选票二维码（{e.zh}），请重新扫描",
            en=f"the scanned text is not a ballot QR ({e.en}); scan again",
        ) from e
    return EntryInput(qr=qr, marks=marks, write_ins=tuple(write_ins))


def _mismatch(
    s: ElectionSession, spec: RoundSpec, first: Pending, second: EntryInput, me: str
) -> dict[str, Any]:
    symbol = {m: sym for m, sym, _, _ in MARKS}
    rows = [
        {
            "name": name,
            "a": symbol.get(a, a),
            "b": symbol.get(b, b),
            "differs": a != b,
        }
        for name, a, b in zip(
            _names(s, spec.candidates), first.item.marks, second.marks, strict=True
        )
    ]
    wa, wb = list(first.item.write_ins), list(second.write_ins)
    for i in range(max(len(wa), len(wb))):
        a = wa[i] if i < len(wa) else ""
        b = wb[i] if i < len(wb) else ""
        rows.append({"name": f"另选 {i + 1}", "a": a, "b": b, "differs": a != b})
    return {"code": first.code, "first": first.teller, "second": me, "rows": rows}


def _verdict_text(s: ElectionSession, ballot: Ballot, spec: RoundSpec, lang: str) -> str:
    v = judge_ballot(
        ballot,
        candidates=spec.candidates,
        seats=spec.seats,
        params=s.manifest.election.parameters,
        write_in_eligible=lambda _m: True,
    )
    if v.valid:
        return _msg(
            lang,
            f"有效票，所选 {v.choices} 人（应选 {spec.seats} 人）",
            f"valid ballot, {v.choices} choice(s) of {spec.seats}",
        )
    if "ballot.write_in_rows" in v.notes:
        return _msg(
            lang,
            f"无效票：另选人 {len(ballot.write_ins)} 名，多于选票上的 {spec.seats} 行",
            f"invalid ballot: {len(ballot.write_ins)} write-ins for {spec.seats} row(s)",
        )
    if Mark.UNREADABLE in ballot.marks and "ballot.overvote" not in v.notes:
        return _msg(lang, "无效票（标记无法辨认）", "invalid ballot (unreadable mark)")
    return _msg(
        lang,
        f"无效票：所选 {v.choices} 人，多于应选 {spec.seats} 人",
        f"invalid ballot: {v.choices} choices for {spec.seats} seat(s)",
    )
