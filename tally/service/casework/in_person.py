"""An objection lodged in person, recorded by the verification group or by a branch's work group
(``branch_clerk``, for its own branch only) (spec/procedure.md RP-8.2, channel ``in_person``; the
entry's ``actor`` is the account).

``/casework/objection`` lists the branches open to objections, ``?branch=`` gives the form (the
person concerned, the content, the objector's name and contact if given, a related reference);
the post is checked as the public form's is (RP-8.2, RP-8.6), carries a one-time submission
token, and leads to the new case's page; a branch clerk sees no case (RP-9.8) and is led back
to its form with the new reference. Another branch's form or post is ``case.other_branch`` (403)
for a clerk. An in-person objection has no check code (RP-8.3).

A branch clerk's objection is logged with the actor ``branch:<branch>:<account>`` (RP-11.3), a
verification-group account's with the account name. ``/casework/objection/recorded`` is a branch
clerk's list of the in-person objections its branch's work group recorded (by any clerk of the
branch, read from the log's actor, not from today's accounts): reference, date received, state
and due dates only (RP-9.8); the branch is the account's, never a parameter, and no other role
has the page (``case.role``, 403).
"""

from __future__ import annotations

import re
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from tally.calendar import CalendarError
from tally.casework_store import CaseworkStore
from tally.core.casework import CaseworkError, Channel, branch_actor, lodge_objection
from tally.service.accounts import Role, UserSession, csrf_ok
from tally.service.casework import views
from tally.service.casework.group import HANDLERS, Official, common, csrf_refusal, role_refusal
from tally.service.casework.objections import period, token_refusal
from tally.service.casework.web import (
    CaseworkState,
    Refusal,
    casework_of,
    refusal,
    render,
    submission_token,
    token_ok,
)
from tally.store import StoreError

__all__ = ["router"]

router = APIRouter(prefix="/casework", include_in_schema=False)
_FIELDS = ("branch", "about", "what", "name", "contact", "relates_to")
_RECORDERS = HANDLERS | {Role.BRANCH_CLERK}
_REFERENCE = re.compile(r"YY-[0-9]{4}-[0-9]{5}")


def _other_branch(user: UserSession, branch: str) -> Refusal | None:
    """A branch clerk's refusal for a branch not its own (RP-9.8), else None."""
    if user.account.role is not Role.BRANCH_CLERK or branch == user.account.branch:
        return None
    return Refusal(
        "case.other_branch",
        zh=f"本账户只能记录本支部（{user.account.branch}）当面提出的异议（什么也没有记录）",
        en=f"this account records objections made in person for its own branch "
        f"({user.account.branch}) only (nothing was recorded)",
        clause="RP-9.8",
    )


def _actor(user: UserSession, branch: str) -> str:
    """The entry's actor: a clerk's names its branch's work group (RP-11.3), others the account."""
    if user.account.role is Role.BRANCH_CLERK:
        return branch_actor(branch, user.account.name)
    return user.account.name


def _ctx(
    store: CaseworkStore, cw: CaseworkState, user: UserSession, branch: str, fields: dict[str, str]
) -> dict[str, Any]:
    b = store.casework.branch(branch)
    pub = cw.publicity.publicity(branch) if b is not None else None
    clerk = user.account.role is Role.BRANCH_CLERK
    return {
        **common(store, cw, user),
        "open": [
            (x.code, x.name)
            for x in store.casework.branches
            if cw.publicity.publicity(x.code) and (not clerk or x.code == user.account.branch)
        ],
        "closed": cw.publicity.unavailable(),
        "period": period(cw, pub),
        "branch": b if pub is not None else None,
        "elected": pub.elected if pub is not None else (),
        "max_chars": store.casework.text_max_chars,
        "fields": fields,
        "token": submission_token(),
        "page": "objection",
        "back": "/casework/objection",
    }


@router.get("/objection")
async def form_page(request: Request, user: Official) -> Response:
    cw = casework_of(request)
    branch = request.query_params.get("branch", "")[:40]
    done = request.query_params.get("done", "")
    if branch and (e := _other_branch(user, branch)) is not None:
        ctx = await cw.run(lambda s: _ctx(s, cw, user, "", {}))
        return refusal(request, e, "group_objection.html", ctx)
    ctx = await cw.run(lambda s: _ctx(s, cw, user, branch, {}))
    ctx["done"] = done if _REFERENCE.fullmatch(done) else ""
    return render(request, "group_objection.html", ctx)


@router.get("/objection/recorded")
async def recorded_page(request: Request, user: Official) -> Response:
    if user.account.role is not Role.BRANCH_CLERK:
        e = role_refusal(
            "这一页只给支部工作组看本支部记录的异议",
            "this page is a branch work group's list of the objections it recorded",
        )
        return refusal(request, e, "group_denied.html", {})

    def build(store: CaseworkStore) -> dict[str, Any]:
        files = views.case_files(store.log_rows())
        rows = views.clerk_objections(store.ledger, files, user.account.branch)
        return {**common(store, cw, user), "rows": rows, "page": "recorded"}

    cw = casework_of(request)
    return render(request, "group_recorded.html", await cw.run(build))


@router.post("/objection")
async def lodge(request: Request, user: Official) -> Response:
    cw = casework_of(request)
    form = await request.form()
    fields = {k: v[:20_000] for k in _FIELDS if isinstance(v := form.get(k), str)}
    given = form.get("csrf")
    token = form.get("submission")

    async def again(e: CaseworkError | CalendarError | Refusal | StoreError) -> Response:
        branch = fields.get("branch", "")
        if _other_branch(user, branch) is not None:
            branch = ""
        ctx = await cw.run(lambda s: _ctx(s, cw, user, branch, fields))
        return refusal(request, e, "group_objection.html", ctx)

    if not csrf_ok(user.csrf, given if isinstance(given, str) else None):
        return await again(csrf_refusal())
    if user.account.role not in _RECORDERS:
        return await again(
            role_refusal(
                "只有查核组或支部工作组可以记录当面提出的异议",
                "only the verification group or a branch's work group records an objection "
                "made in person",
            )
        )
    if (other := _other_branch(user, fields.get("branch", ""))) is not None:
        return await again(other)
    if not isinstance(token, str) or not token_ok(token):
        return await again(token_refusal())

    def act(store: CaseworkStore) -> str:
        at = cw.clock()
        branch = fields.get("branch", "")
        known = store.casework.branch(branch) is not None
        pub = cw.publicity.publicity(branch) if known else None
        step = lodge_objection(
            store.ledger,
            at=at,
            calendar=cw.calendar,
            branch=branch,
            channel=Channel.IN_PERSON,
            about=fields.get("about", ""),
            what=fields.get("what", ""),
            objector_name=fields.get("name", ""),
            objector_contact=fields.get("contact", ""),
            relates_to=fields.get("relates_to", "").strip().upper(),
            publicity_end=pub.publicity_end if pub is not None else None,
            elected=frozenset(i for i, _ in pub.elected) if pub is not None else frozenset(),
        )
        store.lodge(step, at=at, actor=_actor(user, branch), random=cw.random, submission=token)
        return views.reference_of(step)

    try:
        reference = await cw.run(act)
    except (CaseworkError, CalendarError, StoreError) as e:
        return await again(e)
    if user.account.role is Role.BRANCH_CLERK:  # sees no case (RP-9.8): back to its form
        branch = fields.get("branch", "")
        return RedirectResponse(f"/casework/objection?branch={branch}&done={reference}", 303)
    return RedirectResponse(f"/casework/case/{reference}?ok=received", status_code=303)
