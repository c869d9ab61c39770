"""The reporters' register (spec/procedure.md RP-9.1, RP-9.2, RP-9.8): the head of the
verification group registers a community reporter for a branch and one of its village groups and
is shown the access code once, to write on the reporter's card (the service keeps a salted hash
only); every casework account sees the register per branch and village group, with a group that
has no reporter flagged (``casework.group_without_reporter``). The head withdraws a reporter
(``reporter.withdrawn``, with a reason) or draws a new access code for one (shown once; the old
code and every session signed in with it stop at once; no log entry, the code is never logged).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from tally.casework_store import CaseworkStore
from tally.core.casework import CaseworkError, register_reporter, withdraw_reporter
from tally.service.accounts import Role, UserSession, csrf_ok
from tally.service.casework import views
from tally.service.casework.group import Official, common, csrf_refusal, role_refusal
from tally.service.casework.web import CaseworkState, Refusal, casework_of, refusal, render
from tally.store import StoreError

__all__ = ["router"]

router = APIRouter(prefix="/casework", include_in_schema=False)
_FIELDS = ("reporter", "branch", "group", "name", "phone")


def _ctx(
    store: CaseworkStore, cw: CaseworkState, user: UserSession, fields: dict[str, str]
) -> dict[str, Any]:
    reporters = views.reporter_rows(store.ledger, store.log_rows())
    staffed = {(r.branch, r.group) for r in reporters if r.active}
    groups = [
        (b.code, b.name, g, name, (b.code, g) in staffed)
        for b in store.casework.branches
        for g, name in b.groups
    ]
    return {
        **common(store, cw, user),
        "reporters": reporters,
        "groups": groups,
        "fields": fields,
        "issued": None,
        "done": "",
        "page": "reporters",
        "back": "/casework/reporters",
    }


@router.get("/reporters")
async def register_page(request: Request, user: Official) -> Response:
    cw = casework_of(request)
    ctx = await cw.run(lambda s: _ctx(s, cw, user, {}))
    return render(request, "group_reporters.html", ctx)


@router.post("/reporters")
async def register(request: Request, user: Official) -> Response:
    cw = casework_of(request)
    form = await request.form()
    fields = {k: v.strip()[:200] for k in _FIELDS if isinstance(v := form.get(k), str)}
    given = form.get("csrf")

    async def again(e: CaseworkError | Refusal | StoreError) -> Response:
        ctx = await cw.run(lambda s: _ctx(s, cw, user, fields))
        return refusal(request, e, "group_reporters.html", ctx)

    if not csrf_ok(user.csrf, given if isinstance(given, str) else None):
        return await again(csrf_refusal())
    if user.account.role is not Role.CASE_HEAD:
        return await again(_head_only())
    group_field = fields.get("group", "")
    branch, _, group = group_field.partition("/")

    def act(store: CaseworkStore) -> tuple[str, dict[str, Any]]:
        at = cw.clock()
        step = register_reporter(
            store.ledger,
            at=at,
            reporter=fields.get("reporter", ""),
            branch=branch,
            group=group,
            name=fields.get("name", ""),
            phone=fields.get("phone", ""),
        )
        _, code = store.register(step, at=at, actor=user.account.name, random=cw.random)
        return code, _ctx(store, cw, user, {})

    try:
        code, ctx = await cw.run(act)
    except (CaseworkError, StoreError) as e:
        return await again(e)
    # The code is shown once, on this answer only (never stored in clear, never logged).
    ctx["issued"] = {"reporter": fields.get("reporter", ""), "code": code}
    return render(request, "group_reporters.html", ctx)


def _head_only() -> Refusal:
    return role_refusal(
        "只有查核组组长可以登记、撤销直报员或更换访问码",
        "only the group's head registers or withdraws reporters and replaces access codes",
    )


def _end_sessions(cw: CaseworkState, reporter: str) -> None:
    """Every session of ``reporter`` ends now (the session check would end it at its next
    request anyway: RP-9.2)."""
    cw.reporter_sessions = {k: v for k, v in cw.reporter_sessions.items() if v.reporter != reporter}


ReporterAct = Callable[[CaseworkStore, str, str], str]


async def _reporter_command(
    request: Request, user: UserSession, reporter: str, act: ReporterAct, done: str
) -> Response:
    """Check the CSRF token and the role, run ``act(store, reporter, reason)`` on the store's
    thread (it returns the new access code to show once, or ""), end the reporter's sessions and
    answer the register with what was done; a refusal stores nothing and ends nothing."""
    cw = casework_of(request)
    form = await request.form()
    given, reason = form.get("csrf"), form.get("reason")

    async def again(e: CaseworkError | Refusal | StoreError) -> Response:
        ctx = await cw.run(lambda s: _ctx(s, cw, user, {}))
        return refusal(request, e, "group_reporters.html", ctx)

    if not csrf_ok(user.csrf, given if isinstance(given, str) else None):
        return await again(csrf_refusal())
    if user.account.role is not Role.CASE_HEAD:
        return await again(_head_only())
    why = reason[:2000] if isinstance(reason, str) else ""

    def run(store: CaseworkStore) -> tuple[str, dict[str, Any]]:
        code = act(store, reporter, why)
        return code, _ctx(store, cw, user, {})

    try:
        code, ctx = await cw.run(run)
    except (CaseworkError, StoreError) as e:
        return await again(e)
    _end_sessions(cw, reporter)
    ctx["done"] = done
    if code:  # shown once, on this answer only (never stored in clear, never logged)
        ctx["issued"] = {"reporter": reporter, "code": code, "replaced": True}
    return render(request, "group_reporters.html", ctx)


@router.post("/reporters/{reporter}/withdraw")
async def withdraw(request: Request, user: Official, reporter: str) -> Response:
    cw = casework_of(request)

    def act(store: CaseworkStore, who: str, reason: str) -> str:
        at = cw.clock()
        step = withdraw_reporter(store.ledger, at=at, reporter=who, reason=reason)
        store.perform(step, at=at, actor=user.account.name, random=cw.random)
        return ""

    return await _reporter_command(request, user, reporter[:40], act, "withdrawn")


@router.post("/reporters/{reporter}/code")
async def new_code(request: Request, user: Official, reporter: str) -> Response:
    cw = casework_of(request)

    def act(store: CaseworkStore, who: str, _reason: str) -> str:
        return store.replace_code(who, random=cw.random)

    return await _reporter_command(request, user, reporter[:40], act, "code")
