"""The verification group's and the town committee's pages (spec/procedure.md RP-8.4, RP-8.5,
RP-9.6-RP-9.8, RP-11.4).

Accounts are the service's (``tally accounts add --role case_head|case_officer|town_viewer``);
only those three roles sign in here (cookie ``casework_session``, path ``/casework``), and no
station role does. ``/casework/`` lists every case, with today's reminders (RP-9.7) at the top for
the signed-in person (the head sees every one); ``/casework/case/{reference}`` shows a case with
its texts, photos and history, and the forms its state and the person's role allow: assign and
extend (head), check and conclude (the assignee). ``/casework/town`` is the town committee's list
per branch with the latest casework checkpoint. Each command: CSRF, role, the core's checks,
one transaction, then post/redirect/get; a refusal shows the case again with its message.
"""

from __future__ import annotations

import functools
import secrets
from collections.abc import Callable
from datetime import date
from typing import Annotated, Any, Final

import anyio
from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response

from tally.calendar import CalendarError
from tally.casework_store import CaseworkStore
from tally.core.casework import (
    CaseKind,
    CaseworkError,
    Effect,
    Finding,
    Step,
    assign,
    check,
    conclude,
    extend,
    local_date,
    reminder_step,
)
from tally.service.accounts import AccountError, Role, UserSession, csrf_ok
from tally.service.casework import views
from tally.service.casework.web import (
    CaseworkState,
    Refusal,
    casework_of,
    refusal,
    render,
)
from tally.service.proxy import request_source
from tally.store import StoreError

__all__ = [
    "CASEWORK_ROLES",
    "CLERK_PATHS",
    "HANDLERS",
    "ClerkNotHere",
    "NoOfficial",
    "Official",
    "clerk_not_here",
    "common",
    "csrf_refusal",
    "no_official",
    "role_refusal",
    "router",
]

router = APIRouter(prefix="/casework", include_in_schema=False)
COOKIE: Final = "casework_session"
PRE_COOKIE: Final = "casework_gpre"
CASEWORK_ROLES: Final = frozenset(
    {Role.CASE_HEAD, Role.CASE_OFFICER, Role.TOWN_VIEWER, Role.BRANCH_CLERK}
)
# (RP-9.8) A branch clerk's only pages: the in-person objection form of its own branch (``/``
# leads there), the list of the objections it recorded, and signing out; every other casework
# page is refused (``case.role``, 403).
CLERK_PATHS: Final = frozenset(
    {"/casework/", "/casework/objection", "/casework/objection/recorded", "/casework/logout"}
)
HANDLERS: Final = frozenset({Role.CASE_HEAD, Role.CASE_OFFICER})
REMINDER_HOUR: Final = 9  # RP-9.7: 09:00 town time


class NoOfficial(Exception):
    """No casework session: a page goes to the sign-in form, a command is refused (401)."""


def current(request: Request) -> UserSession | None:
    user = casework_of(request).accounts.session(request.cookies.get(COOKIE))
    return user if user is not None and user.account.role in CASEWORK_ROLES else None


class ClerkNotHere(Exception):
    """A branch clerk asked for a casework page other than its objection form (RP-9.8)."""


def official(request: Request) -> UserSession:
    user = current(request)
    if user is None:
        raise NoOfficial
    if user.account.role is Role.BRANCH_CLERK and request.url.path not in CLERK_PATHS:
        raise ClerkNotHere
    return user


Official = Annotated[UserSession, Depends(official)]


async def no_official(request: Request, _exc: Exception) -> Response:
    if request.method == "GET":
        return RedirectResponse("/casework/login", status_code=303)
    e = Refusal(
        "casework.signin",
        zh="请先登录（什么也没有记录）",
        en="sign in first (nothing was recorded)",
        clause="RP-9.8",
    )
    return refusal(request, e, "group_login.html", {"pre": "", "user": None})


async def clerk_not_here(request: Request, _exc: Exception) -> Response:
    """The app's handler of ``ClerkNotHere``: 403 ``case.role``, nothing read, nothing stored."""
    e = role_refusal(
        "支部工作组只能记录本支部当面提出的异议，不能查看事项、直报员或汇总（什么也没有记录）",
        "a branch work group records objections made in person for its own branch only and sees "
        "no case, reporter or summary (nothing was recorded)",
    )
    return refusal(request, e, "group_denied.html", {})


# -- sign-in ---------------------------------------------------------------------------------------
def _with_pre(request: Request, response: Response, token: str) -> Response:
    secure = request.app.state.service.config.secure_cookies
    response.set_cookie(
        PRE_COOKIE, token, httponly=True, samesite="strict", secure=secure, path="/casework"
    )
    return response


@router.get("/login")
async def login_page(request: Request) -> Response:
    pre = secrets.token_urlsafe(18)
    page = render(request, "group_login.html", {"pre": pre, "user": None})
    return _with_pre(request, page, pre)


@router.post("/login")
async def login(request: Request) -> Response:
    cw = casework_of(request)
    form = await request.form()
    pre = request.cookies.get(PRE_COOKIE, "")
    ctx: dict[str, Any] = {"pre": pre, "user": None, "back": "/casework/login"}
    given = form.get("csrf")
    if not pre or not csrf_ok(pre, given if isinstance(given, str) else None):
        return refusal(request, csrf_refusal(), "group_login.html", ctx)
    name = str(form.get("name") or "")[:40].strip()
    password = form.get("password")
    try:
        sid, session = await anyio.to_thread.run_sync(
            functools.partial(
                cw.accounts.sign_in,
                name,
                password if isinstance(password, str) else "",
                client=request_source(request),
            ),
            limiter=cw.hashers(),
        )
    except (AccountError, StoreError) as e:
        return refusal(request, e, "group_login.html", {**ctx, "name": name})
    if session.account.role not in CASEWORK_ROLES:
        cw.accounts.sign_out(sid)
        return refusal(request, _not_here(), "group_login.html", {**ctx, "name": name})
    response = RedirectResponse("/casework/", status_code=303)
    secure = request.app.state.service.config.secure_cookies
    response.set_cookie(
        COOKIE, sid, httponly=True, samesite="strict", secure=secure, path="/casework"
    )
    response.delete_cookie(PRE_COOKIE, path="/casework")
    return response


@router.post("/logout")
async def logout(request: Request, user: Official) -> Response:
    form = await request.form()
    given = form.get("csrf")
    if csrf_ok(user.csrf, given if isinstance(given, str) else None):
        casework_of(request).accounts.sign_out(request.cookies.get(COOKIE))
    response = RedirectResponse("/casework/login", status_code=303)
    response.delete_cookie(COOKIE, path="/casework")
    return response


def csrf_refusal() -> Refusal:
    return Refusal(
        "casework.csrf",
        zh="安全令牌缺失或不符（可能页面已过期，或表单并非来自本系统），什么也没有记录。请刷新页面后重试。",
        en="The form's security token is missing or wrong (the page may have expired, or the "
        "form did not come from this system); nothing was recorded. Reload and try again.",
        clause="RP-9.8",
    )


def _not_here() -> Refusal:
    return Refusal(
        "case.role",
        zh="此账户不是查核组或镇党委的账户，不能登录事项办理页面",
        en="this account is not a verification group or town committee account",
        clause="RP-9.8",
    )


def role_refusal(zh: str, en: str) -> Refusal:
    return Refusal("case.role", zh=zh, en=en, clause="RP-9.8")


# -- reminders -------------------------------------------------------------------------------------
def catch_up(store: CaseworkStore, cw: CaseworkState) -> None:
    """(RP-9.7) From 09:00 town time on a working day: log one ``reminder.sent`` per case due or
    overdue that day, those not logged yet (the first page of the day that looks does it)."""
    now = cw.clock()
    today = local_date(now)
    try:
        if now.hour < REMINDER_HOUR or not cw.calendar.is_working_day(today):
            return
        due = views.reminders_today(store.ledger, today, cw.calendar)
    except CalendarError:  # a year the calendar does not know: the page says nothing is due
        return
    if not due:
        return
    sent = views.sent_today(store.log_rows(), today)
    for r in due.values():
        if (r.reference, r.kind.value) not in sent:
            store.perform(reminder_step(r), at=cw.clock(), actor="casework", random=cw.random)


# -- pages -----------------------------------------------------------------------------------------
def common(store: CaseworkStore, cw: CaseworkState, user: UserSession) -> dict[str, Any]:
    today = local_date(cw.clock())
    try:
        due = views.reminders_today(store.ledger, today, cw.calendar)
    except Exception:
        due = {}
    return {
        "user": user,
        "role": user.account.role.value,
        "role_label": (user.account.role.zh, user.account.role.en),
        "town": store.casework.town,
        "today": today.isoformat(),
        "due": due,
        "branch_names": {b.code: b.name for b in store.casework.branches},
        "states": views.STATE_LABELS,
        "findings": views.FINDING_LABELS,
        "effects": views.EFFECT_LABELS,
        "kinds": views.KIND_LABELS,
        "csrf": user.csrf,
    }


def _list_ctx(store: CaseworkStore, cw: CaseworkState, user: UserSession) -> dict[str, Any]:
    if user.account.role in HANDLERS:
        catch_up(store, cw)
    ctx = common(store, cw, user)
    mine = [
        r
        for r in ctx["due"].values()
        if user.account.role is Role.CASE_HEAD or r.to == user.account.name
    ]
    return {**ctx, "mine": mine, "cases": views.group_cases(store.ledger), "page": "list"}


@router.get("/")
async def case_list(request: Request, user: Official) -> Response:
    cw = casework_of(request)
    if user.account.role is Role.TOWN_VIEWER:
        return RedirectResponse("/casework/town", status_code=303)
    if user.account.role is Role.BRANCH_CLERK:
        return RedirectResponse("/casework/objection", status_code=303)
    ctx = await cw.run(lambda s: _list_ctx(s, cw, user))
    return render(request, "group_list.html", ctx)


def _town_ctx(store: CaseworkStore, cw: CaseworkState, user: UserSession) -> dict[str, Any]:
    ctx = common(store, cw, user)
    texts = store.checkpoint_texts()
    return {
        **ctx,
        "branches": views.branch_counts(store.ledger, ctx["due"]),
        "checkpoint": texts[-1][1] if texts else "",
        "page": "town",
    }


@router.get("/town")
async def town(request: Request, user: Official) -> Response:
    cw = casework_of(request)
    ctx = await cw.run(lambda s: _town_ctx(s, cw, user))
    return render(request, "group_town.html", ctx)


def _case_ctx(
    store: CaseworkStore, cw: CaseworkState, user: UserSession, reference: str
) -> dict[str, Any]:
    ctx = common(store, cw, user)
    case = store.ledger.case(reference)
    file = views.case_files(store.log_rows())[reference]
    officers = [a.name for a in cw.accounts.list() if a.role in HANDLERS]
    return {
        **ctx,
        "case": case,
        "file": file,
        "officers": officers,
        "page": "case",
        "back": f"/casework/case/{reference}",
        "form": {},
    }


@router.get("/case/{reference}")
async def case_page(request: Request, user: Official, reference: str) -> Response:
    cw = casework_of(request)
    try:
        ctx = await cw.run(lambda s: _case_ctx(s, cw, user, reference[:20]))
    except CaseworkError as e:
        ctx = await cw.run(lambda s: _list_ctx(s, cw, user))
        return refusal(request, e, "group_list.html", ctx)
    ok = request.query_params.get("ok", "")
    ctx["ok"] = ok if ok in ("received", "assigned", "checked", "extended", "concluded") else ""
    return render(request, "group_case.html", ctx)


@router.get("/photo/{sha256}")
async def photo(request: Request, user: Official, sha256: str) -> Response:
    cw = casework_of(request)
    data = await cw.run(lambda s: s.photo(sha256[:64]))
    if data is None:
        e = CaseworkError("case.unknown", zh="没有这张照片", en="no such photo", clause="RP-9.4")
        ctx = await cw.run(lambda s: _list_ctx(s, cw, user))
        return refusal(request, e, "group_list.html", ctx)
    media = "image/png" if data.startswith(b"\x89PNG") else "image/jpeg"
    return Response(data, media_type=media)


# -- commands --------------------------------------------------------------------------------------
StepFn = Callable[[CaseworkStore, Any, UserSession], Step]


async def _command(
    request: Request,
    user: UserSession,
    reference: str,
    *,
    roles: frozenset[Role],
    fn: StepFn,
    done: str,
) -> Response:
    cw = casework_of(request)
    form = await request.form()
    fields = {k: str(v)[:20_000] for k, v in form.items() if k != "csrf" and isinstance(v, str)}
    given = form.get("csrf")

    async def again(e: CaseworkError | Refusal | StoreError) -> Response:
        try:
            ctx = await cw.run(lambda s: _case_ctx(s, cw, user, reference))
        except CaseworkError:
            ctx = await cw.run(lambda s: _list_ctx(s, cw, user))
            return refusal(request, e, "group_list.html", ctx)
        ctx["form"] = fields
        ctx["ok"] = ""
        return refusal(request, e, "group_case.html", ctx)

    if not csrf_ok(user.csrf, given if isinstance(given, str) else None):
        return await again(csrf_refusal())
    if user.account.role not in roles:
        names = "、".join(r.zh for r in Role if r in roles)
        en = ", ".join(r.en for r in Role if r in roles)
        return await again(role_refusal(f"此操作只能由{names}进行", f"only the {en} may do this"))

    def act(store: CaseworkStore) -> None:
        step = fn(store, form, user)
        store.perform(step, at=cw.clock(), actor=user.account.name, random=cw.random)

    try:
        await cw.run(act)
    except (CaseworkError, StoreError, Refusal) as e:
        return await again(e)
    return RedirectResponse(f"/casework/case/{reference}?ok={done}", status_code=303)


def _field(form: Any, key: str) -> str:
    raw = form.get(key)
    return raw[:20_000] if isinstance(raw, str) else ""


@router.post("/case/{reference}/assign")
async def assign_case(request: Request, user: Official, reference: str) -> Response:
    cw = casework_of(request)

    def step(store: CaseworkStore, form: Any, _u: UserSession) -> Step:
        who = _field(form, "assignee").strip()
        if who not in {a.name for a in cw.accounts.list() if a.role in HANDLERS}:
            raise CaseworkError(
                "case.account",
                zh=f"没有查核组账户 {who}",
                en=f"no verification group account {who}",
                clause="RP-9.8",
            )
        return assign(store.ledger, at=cw.clock(), reference=reference, assignee=who)

    roles = frozenset({Role.CASE_HEAD})
    return await _command(request, user, reference[:20], roles=roles, fn=step, done="assigned")


@router.post("/case/{reference}/check")
async def check_case(request: Request, user: Official, reference: str) -> Response:
    cw = casework_of(request)

    def step(store: CaseworkStore, form: Any, u: UserSession) -> Step:
        return check(
            store.ledger,
            at=cw.clock(),
            reference=reference,
            actor=u.account.name,
            note=_field(form, "note"),
        )

    return await _command(request, user, reference[:20], roles=HANDLERS, fn=step, done="checked")


@router.post("/case/{reference}/extend")
async def extend_case(request: Request, user: Official, reference: str) -> Response:
    cw = casework_of(request)

    def step(store: CaseworkStore, form: Any, _u: UserSession) -> Step:
        try:
            due = date.fromisoformat(_field(form, "due_conclude").strip())
        except ValueError as e:
            raise CaseworkError(
                "casework.deadline",
                zh="延期后的办结期限须为日期（YYYY-MM-DD）",
                en="the extended due date must be a date (YYYY-MM-DD)",
                clause="RP-8.4",
            ) from e
        return extend(
            store.ledger,
            at=cw.clock(),
            reference=reference,
            due_conclude=due,
            reason=_field(form, "reason"),
        )

    roles = frozenset({Role.CASE_HEAD})
    return await _command(request, user, reference[:20], roles=roles, fn=step, done="extended")


@router.post("/case/{reference}/conclude")
async def conclude_case(request: Request, user: Official, reference: str) -> Response:
    cw = casework_of(request)

    def step(store: CaseworkStore, form: Any, u: UserSession) -> Step:
        try:
            finding = Finding(_field(form, "finding"))
            kind = store.ledger.case(reference).kind
            effect = Effect(_field(form, "effect") or "none")
        except ValueError as e:
            raise CaseworkError(
                "case.finding",
                zh="请选择认定和处理结果",
                en="choose a finding and an effect",
                clause="RP-8.5",
            ) from e
        return conclude(
            store.ledger,
            at=cw.clock(),
            reference=reference,
            actor=u.account.name,
            finding=finding,
            summary=_field(form, "summary"),
            effect=effect if kind is CaseKind.OBJECTION else Effect.NONE,
        )

    return await _command(request, user, reference[:20], roles=HANDLERS, fn=step, done="concluded")
