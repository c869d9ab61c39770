"""The public objection form and the status page (spec/procedure.md RP-8.2, RP-8.3, RP-8.6).

No account: ``GET /objection/`` lists the branches open to objections, ``?branch=`` gives the
form (the person concerned chosen from the branch's elected, or the election as a whole);
``POST /objection/`` lodges it (``form`` channel) and shows the reference and the check code once.
``/objection/status`` shows a case's state, and its finding once concluded, to whoever gives the
reference and the check code. The form carries a double-submit token (cookie ``casework_pre``)
and a one-time submission token (a resent form is ``case.replayed``, nothing stored again).
"""

from __future__ import annotations

from typing import Any, Final

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from tally.calendar import CalendarError
from tally.core.casework import (
    CaseKind,
    CaseworkError,
    Channel,
    local_date,
    lodge_objection,
    parse_reference,
)
from tally.service.accounts import csrf_ok
from tally.service.casework import views
from tally.service.casework.web import (
    BranchPublicity,
    CaseworkState,
    Refusal,
    casework_of,
    lang_of,
    refusal,
    render,
    submission_token,
    token_ok,
)
from tally.service.proxy import request_source
from tally.store import StoreError

__all__ = ["router"]

router = APIRouter(prefix="/objection", include_in_schema=False)
PRE_COOKIE: Final = "casework_pre"
_FIELD_MAX: Final = 20_000


def _text(form: Any, key: str) -> str:
    raw = form.get(key)
    return raw[:_FIELD_MAX] if isinstance(raw, str) else ""


def _open_branches(cw: CaseworkState) -> list[tuple[str, str]]:
    return [
        (b.code, b.name)
        for b in cw.store.casework.branches
        if cw.publicity.publicity(b.code) is not None
    ]


def period(cw: CaseworkState, pub: BranchPublicity | None) -> dict[str, Any] | None:
    """The branch's publicity dates for the form, and whether today (town time) is after them:
    an objection then is still taken, recorded ``after`` (RP-8.6)."""
    if pub is None:
        return None
    return {
        "start": pub.publicity_start.isoformat() if pub.publicity_start else "",
        "end": pub.publicity_end.isoformat(),
        "late": local_date(cw.clock()) > pub.publicity_end,
    }


def _form_ctx(cw: CaseworkState, branch: str, fields: dict[str, str]) -> dict[str, Any]:
    b = cw.store.casework.branch(branch)
    pub = cw.publicity.publicity(branch) if b is not None else None
    return {
        "town": cw.store.casework.town,
        "branches": _open_branches(cw),
        "closed": cw.publicity.unavailable(),
        "period": period(cw, pub),
        "branch": b,
        "elected": pub.elected if pub is not None else (),
        "max_chars": cw.store.casework.text_max_chars,
        "fields": fields,
        "token": submission_token(),
        "pre": fields.get("csrf", ""),
        "back": "/objection/",
    }


def _with_pre(request: Request, response: Response, token: str) -> Response:
    secure = request.app.state.service.config.secure_cookies
    response.set_cookie(
        PRE_COOKIE, token, httponly=True, samesite="strict", secure=secure, path="/objection"
    )
    return response


@router.get("/")
async def form_page(request: Request) -> Response:
    cw = casework_of(request)
    branch = request.query_params.get("branch", "")[:40]
    pre = submission_token()
    ctx: dict[str, Any] = await cw.run(lambda _s: _form_ctx(cw, branch, {"csrf": pre}))
    return _with_pre(request, render(request, "objection.html", ctx), pre)


def _csrf_refusal() -> Refusal:
    return Refusal(
        "casework.csrf",
        zh="表单已过期或来源无法确认，什么也没有记录：请刷新页面后重新提交（已填写的内容仍在页面上）。",
        en="The form expired or did not come from this system; nothing was recorded. Reload "
        "the page and send again (what you typed is still on the page).",
        clause="RP-8.2",
    )


def token_refusal() -> Refusal:
    return Refusal(
        "case.token",
        zh="表单缺少一次性提交码，什么也没有记录：请刷新页面后重新提交。",
        en="The form lacks its one-time submission token; nothing was recorded. Reload the "
        "page and send again.",
        clause="RP-8.2",
    )


def _rate_refusal() -> Refusal:
    return Refusal(
        "objection.rate_limited",
        zh="提交过于频繁，请一小时后再试（什么也没有记录）",
        en="too many submissions; try again in an hour (nothing was recorded)",
        clause="RP-8.2",
    )


@router.post("/")
async def lodge(request: Request) -> Response:
    cw = casework_of(request)
    form = await request.form()
    fields = {k: _text(form, k) for k in ("branch", "about", "what", "name", "contact", "csrf")}
    branch = fields["branch"]
    pre = request.cookies.get(PRE_COOKIE, "")
    client = request_source(request)

    def again(error: CaseworkError | CalendarError | Refusal | StoreError) -> Response:
        ctx = _form_ctx(cw, branch, fields)
        ctx["pre"] = pre or ctx["token"]
        response = refusal(request, error, "objection.html", ctx)
        return _with_pre(request, response, ctx["pre"])

    if not pre or not csrf_ok(pre, fields["csrf"]):
        return again(_csrf_refusal())
    token = _text(form, "submission")
    if not token_ok(token):
        return again(token_refusal())
    if cw.objections_per_client.full(client):
        return again(_rate_refusal())

    def act(store: Any) -> tuple[str, str]:
        at = cw.clock()
        step = lodge_objection(
            store.ledger,
            at=at,
            calendar=cw.calendar,
            branch=branch,
            channel=Channel.FORM,
            about=fields["about"],
            what=fields["what"],
            objector_name=fields["name"],
            objector_contact=fields["contact"],
            publicity_end=_end(cw, branch),
            elected=frozenset(i for i, _ in _elected(cw, branch)),
        )
        _, code = store.lodge(step, at=at, actor="public", random=cw.random, submission=token)
        return views.reference_of(step), code

    try:
        reference, code = await cw.run(act)
    except (CaseworkError, CalendarError, StoreError) as e:
        return again(e)
    cw.objections_per_client.add(client)
    if "application/json" in request.headers.get("accept", ""):
        return JSONResponse({"ok": True, "reference": reference, "check_code": code})
    ctx = {"reference": reference, "check_code": code, "back": "/objection/"}
    return render(request, "objection_done.html", ctx)


def _end(cw: CaseworkState, branch: str) -> Any:
    pub = cw.publicity.publicity(branch) if cw.store.casework.branch(branch) else None
    return pub.publicity_end if pub is not None else None


def _elected(cw: CaseworkState, branch: str) -> tuple[tuple[str, str], ...]:
    pub = cw.publicity.publicity(branch) if cw.store.casework.branch(branch) else None
    return pub.elected if pub is not None else ()


# -- status ----------------------------------------------------------------------------------------
@router.get("/status")
async def status_page(request: Request) -> Response:
    return render(request, "objection_status.html", {"fields": {}, "case": None})


def _locked() -> Refusal:
    return Refusal(
        "objection.lookup_locked",
        zh="查询码错误次数过多，请一小时后再试",
        en="too many wrong check codes; try again in an hour",
        clause="RP-8.3",
    )


def _wrong() -> Refusal:
    return Refusal(
        "objection.lookup_wrong",
        zh="异议编号与查询码不相符，请核对后重试",
        en="the reference and the check code do not match; check them and try again",
        clause="RP-8.3",
    )


@router.post("/status")
async def status(request: Request) -> Response:
    cw = casework_of(request)
    form = await request.form()
    reference = _text(form, "reference").strip().upper()[:20]
    code = _text(form, "check_code")[:20]
    fields = {"reference": reference}
    ctx: dict[str, Any] = {"fields": fields, "case": None, "back": "/objection/status"}
    if cw.lookup_failures.full(reference):
        return refusal(request, _locked(), "objection_status.html", ctx)

    def look(store: Any) -> dict[str, str]:
        kind, _, _ = parse_reference(reference)
        case = store.ledger.case(reference)
        if kind is not CaseKind.OBJECTION or not store.verify_code(f"check:{reference}", code):
            raise _wrong()
        return {
            "reference": reference,
            "state": case.state.value,
            "finding": case.finding.value if case.finding else "",
        }

    try:
        case = await cw.run(look)
    except (CaseworkError, Refusal, StoreError) as e:
        if isinstance(e, Refusal):
            cw.lookup_failures.add(reference)
        return refusal(request, e, "objection_status.html", ctx)
    if "application/json" in request.headers.get("accept", ""):
        return JSONResponse({"ok": True, **case})
    lang = lang_of(request)
    state = views.STATE_LABELS[case["state"]][lang == "en"]
    finding = views.FINDING_LABELS[case["finding"]][lang == "en"] if case["finding"] else ""
    ctx["case"] = {**case, "state_label": state, "finding_label": finding}
    return render(request, "objection_status.html", ctx)
