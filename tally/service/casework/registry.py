"""The reporters' register (spec/procedure.md RP-9.1, RP-9.2, RP-9.8): the head of the
verification group registers a community reporter for a branch and one of its village groups and
is shown the access code once, to write on the reporter's card (the service keeps a salted hash
only); every casework account sees the register per branch and village group, with a group that
has no reporter flagged (``casework.group_without_reporter``).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from tally.casework_store import CaseworkStore
from tally.core.casework import CaseworkError, register_reporter
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
        return await again(
            role_refusal(
                "只有查核组组长可以登记直报员", "only the group's head registers reporters"
            )
        )
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
