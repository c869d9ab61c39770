"""The community reporter's phone page (spec/procedure.md RP-9.2-RP-9.5, RP-9.8).

``/report/login`` exchanges the access code on the reporter's card for a session (cookie
``casework_reporter``, HttpOnly, SameSite=strict, path ``/report``; held in memory, so a restart
asks for the code again); wrong codes from one source (``proxy.client_source``: an address, an
IPv6 /64) back off as the station's sign-in does (``accounts.lock_seconds``). ``/report/`` is
the report form (what, where, when, the branch: the reporter's own by default, any branch of the
town allowed and said so, photos) and the reporter's own reports with their state;
``/report/case/{reference}`` one of them. Another reporter's reference is answered as an unknown
one (404 ``case.unknown``).

The form is a plain multipart post; the page's script (``static/casework/casework.js``) checks
each photo when chosen, shrinks one over the limits on the phone (JPEG) and sends the form with
``Accept: application/json``, so a refusal keeps the text and the photos on the page.
"""

from __future__ import annotations

import hashlib
import math
import secrets
import time
from typing import Annotated, Any, Final

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from starlette.datastructures import UploadFile

from tally.calendar import CalendarError
from tally.casework_store import CaseworkStore
from tally.core.casework import CaseworkError, submit_report
from tally.service.accounts import FREE_FAILURES, csrf_ok, lock_seconds
from tally.service.casework import views
from tally.service.casework.objections import token_refusal
from tally.service.casework.web import (
    Refusal,
    ReporterSession,
    casework_of,
    lang_of,
    refusal,
    render,
    submission_token,
    token_ok,
    wants_json,
)
from tally.service.proxy import request_source
from tally.store import StoreError

__all__ = ["router"]

router = APIRouter(prefix="/report", include_in_schema=False)
COOKIE: Final = "casework_reporter"
PRE_COOKIE: Final = "casework_rpre"
SESSION_SECONDS: Final = 30 * 24 * 3600  # a reporter keeps the page on their phone
_MAX_FILES: Final = 20
# Addresses with wrong codes kept at once; past it, those not locked now are forgotten.
_MAX_FAILING_CLIENTS: Final = 10_000
_FIELD_MAX: Final = 20_000


def _text(form: Any, key: str, limit: int = _FIELD_MAX) -> str:
    raw = form.get(key)
    return raw[:limit] if isinstance(raw, str) else ""


def _digest(sid: str) -> str:
    return hashlib.sha256(sid.encode()).hexdigest()


def current_reporter(request: Request) -> ReporterSession | None:
    cw = casework_of(request)
    sid = request.cookies.get(COOKIE, "")
    s = cw.reporter_sessions.get(_digest(sid)) if sid and len(sid) <= 100 else None
    if s is None or s.expires < time.time():
        return None
    return s


class NoReporter(Exception):
    """No reporter session: a page goes to the sign-in form, a post is refused (401)."""


async def reporter_needed(request: Request) -> ReporterSession:
    """The signed-in reporter, still registered and with the code signed in with (RP-9.2): a
    withdrawal or a new access code (the pages' or ``tally casework replace-code``) ends every
    session of the reporter at its next request."""
    s = current_reporter(request)
    if s is None:
        raise NoReporter
    cw = casework_of(request)
    if await cw.run(lambda store: store.access_stamp(s.reporter)) != s.stamp:
        cw.reporter_sessions.pop(_digest(request.cookies.get(COOKIE, "")), None)
        raise NoReporter
    return s


Reporter = Annotated[ReporterSession, Depends(reporter_needed)]


def signin_refusal() -> Refusal:
    return Refusal(
        "casework.signin",
        zh="请先用直报员卡上的访问码登录（什么也没有记录）",
        en="sign in with the access code on your reporter's card first (nothing was recorded)",
        clause="RP-9.2",
    )


async def no_reporter(request: Request, _exc: Exception) -> Response:
    """The app's handler of ``NoReporter``: GET → the sign-in page; anything else → 401."""
    if request.method == "GET":
        return RedirectResponse("/report/login", status_code=303)
    e = signin_refusal()
    if wants_json(request):
        return refusal(request, e, "report_login.html", {})
    pre = secrets.token_urlsafe(18)
    ctx = {"pre": pre, "back": "/report/login"}
    return _with_pre(request, refusal(request, e, "report_login.html", ctx), pre)


def _with_pre(request: Request, response: Response, token: str) -> Response:
    secure = request.app.state.service.config.secure_cookies
    response.set_cookie(
        PRE_COOKIE, token, httponly=True, samesite="strict", secure=secure, path="/report"
    )
    return response


# -- sign-in ---------------------------------------------------------------------------------------
@router.get("/login")
async def login_page(request: Request) -> Response:
    pre = secrets.token_urlsafe(18)
    return _with_pre(request, render(request, "report_login.html", {"pre": pre}), pre)


def _code_refusal(left: int) -> Refusal:
    return Refusal(
        "reporter.code_wrong",
        zh=f"访问码不正确（还可再试 {left} 次）",
        en=f"wrong access code ({left} tries left)",
        clause="RP-9.2",
    )


def _locked(seconds: int) -> Refusal:
    return Refusal(
        "reporter.locked",
        zh=f"访问码错误次数过多，请 {seconds} 秒后再试",
        en=f"too many wrong access codes; try again in {seconds} s",
        clause="RP-9.2",
    )


def _signed_in(store: CaseworkStore, code: str) -> tuple[str | None, str]:
    """The reporter whose access code ``code`` is, and the code's stamp."""
    reporter = store.reporter_for_code(code)
    stamp = store.access_stamp(reporter) if reporter is not None else None
    return (reporter, stamp) if stamp is not None else (None, "")


@router.post("/login")
async def login(request: Request) -> Response:
    cw = casework_of(request)
    form = await request.form()
    pre = request.cookies.get(PRE_COOKIE, "")
    ctx = {"pre": pre or secrets.token_urlsafe(18), "back": "/report/login"}
    if not pre or not csrf_ok(pre, _text(form, "csrf", 100)):
        return _with_pre(request, refusal(request, _csrf(), "report_login.html", ctx), ctx["pre"])
    client = request_source(request)
    count, until = cw.reporter_failures.get(client, (0, 0.0))
    if until > time.monotonic():
        wait = math.ceil(until - time.monotonic())
        return refusal(request, _locked(wait), "report_login.html", ctx)
    code = _text(form, "code", 40)
    reporter, stamp = await cw.run(lambda s: _signed_in(s, code))
    if reporter is None:
        count += 1
        lock = lock_seconds(count)
        if len(cw.reporter_failures) >= _MAX_FAILING_CLIENTS:  # memory stays bounded
            now = time.monotonic()
            cw.reporter_failures = {k: v for k, v in cw.reporter_failures.items() if v[1] > now}
        cw.reporter_failures[client] = (count, time.monotonic() + lock if lock else 0.0)
        e = _locked(lock) if lock else _code_refusal(max(0, FREE_FAILURES - count))
        return refusal(request, e, "report_login.html", ctx)
    cw.reporter_failures.pop(client, None)
    sid = secrets.token_urlsafe(32)
    now = time.time()
    cw.reporter_sessions = {k: v for k, v in cw.reporter_sessions.items() if v.expires >= now} | {
        _digest(sid): ReporterSession(
            reporter, secrets.token_urlsafe(32), now + SESSION_SECONDS, stamp
        )
    }
    response = RedirectResponse("/report/", status_code=303)
    secure = request.app.state.service.config.secure_cookies
    response.set_cookie(
        COOKIE,
        sid,
        httponly=True,
        samesite="strict",
        secure=secure,
        path="/report",
        max_age=SESSION_SECONDS,
    )
    response.delete_cookie(PRE_COOKIE, path="/report")
    return response


@router.post("/logout")
async def logout(request: Request, who: Reporter) -> Response:
    form = await request.form()
    cw = casework_of(request)
    if csrf_ok(who.csrf, _text(form, "csrf", 100)):
        cw.reporter_sessions.pop(_digest(request.cookies.get(COOKIE, "")), None)
    response = RedirectResponse("/report/login", status_code=303)
    response.delete_cookie(COOKIE, path="/report")
    return response


def _csrf() -> Refusal:
    return Refusal(
        "casework.csrf",
        zh="页面已过期或表单来源无法确认，什么也没有记录：请刷新页面后重试。",
        en="The page expired or the form did not come from this system; nothing was recorded. "
        "Reload the page and try again.",
        clause="RP-9.2",
    )


# -- the form and the reporter's list --------------------------------------------------------------
def _page_ctx(store: CaseworkStore, who: ReporterSession, fields: dict[str, str]) -> dict[str, Any]:
    ledger = store.ledger
    me = ledger.reporters[who.reporter]
    files = views.case_files(store.log_rows())
    cw = store.casework
    own = cw.branch(me.branch)
    return {
        "reporter": who.reporter,
        "own": own,
        "group": dict(own.groups).get(me.group, me.group) if own else me.group,
        "branches": [(b.code, b.name) for b in cw.branches],
        "branch_names": {b.code: b.name for b in cw.branches},
        "reports": views.reporter_reports(ledger, files, who.reporter),
        "limits": cw.photos,
        "max_chars": cw.text_max_chars,
        "fields": {"branch": me.branch, **fields},
        "csrf": who.csrf,
        "token": submission_token(),
        "states": views.STATE_LABELS,
        "findings": views.FINDING_LABELS,
        "back": "/report/",
    }


@router.get("/")
async def home(request: Request, who: Reporter) -> Response:
    cw = casework_of(request)
    ctx = await cw.run(lambda s: _page_ctx(s, who, {}))
    done = request.query_params.get("done", "")[:20]
    if done and any(r["reference"] == done for r in ctx["reports"]):
        ctx["notice"] = done
    return render(request, "report.html", ctx)


async def _photos(form: Any) -> list[bytes]:
    out = []
    for item in form.getlist("photos"):
        if isinstance(item, UploadFile) and (item.filename or item.size):
            data = await item.read()
            if item.filename or data:
                out.append(data)
    return out


def _when(form: Any) -> str:
    day, hour = _text(form, "when_date", 20).strip(), _text(form, "when_time", 20).strip()
    return f"{day}T{hour}" if hour else day


@router.post("/")
async def submit(request: Request, who: Reporter) -> Response:
    cw = casework_of(request)
    form = await request.form(max_files=_MAX_FILES)
    keys_ = ("what", "where", "when_date", "when_time", "branch")
    fields = {k: _text(form, k) for k in keys_}
    chosen = any(isinstance(f, UploadFile) and f.filename for f in form.getlist("photos"))

    async def again(e: CaseworkError | CalendarError | Refusal | StoreError) -> Response:
        ctx = await cw.run(lambda s: _page_ctx(s, who, fields))
        # a plain post's page cannot refill its file input: it says to choose the photos again
        ctx["photos_lost"] = chosen and not wants_json(request)
        return refusal(request, e, "report.html", ctx)

    if not csrf_ok(who.csrf, _text(form, "csrf", 100)):
        return await again(_csrf())
    token = _text(form, "submission", 100)
    if not token_ok(token):
        return await again(token_refusal())
    photos = await _photos(form)

    def act(store: CaseworkStore) -> tuple[str, list[tuple[str, str]]]:
        at = cw.clock()
        step = submit_report(
            store.ledger,
            at=at,
            calendar=cw.calendar,
            reporter=who.reporter,
            what=fields["what"],
            where=fields["where"],
            when=_when(form),
            branch=fields["branch"],
            photos=photos,
        )
        store.perform(
            step, at=at, actor=f"reporter:{who.reporter}", random=cw.random, submission=token
        )
        # (RP-9.8) a reporter hears of the other-branch mark, never of the due dates
        said = [(n.zh, n.en) for n in step.notes if n.code == "report.other_branch"]
        return views.reference_of(step), said

    try:
        reference, notes = await cw.run(act)
    except (CaseworkError, CalendarError, StoreError) as e:
        return await again(e)
    lang = lang_of(request)
    said = [en if lang == "en" else zh for zh, en in notes]
    if wants_json(request):
        page = f"/report/case/{reference}?new=1"
        return JSONResponse({"ok": True, "reference": reference, "notes": said, "next": page})
    return RedirectResponse(f"/report/case/{reference}?new=1", status_code=303)


def _not_yours(reference: str) -> CaseworkError:
    """Another reporter's reference is answered as an unknown one (RP-9.8)."""
    return CaseworkError(
        "case.unknown",
        zh=f"您没有编号为 {reference} 的报告",
        en=f"you have no report {reference}",
        clause="RP-9.8",
    )


@router.get("/case/{reference}")
async def one(request: Request, who: Reporter, reference: str) -> Response:
    cw = casework_of(request)
    ctx = await cw.run(lambda s: _page_ctx(s, who, {}))
    found = next((r for r in ctx["reports"] if r["reference"] == reference[:20]), None)
    if found is None:
        return refusal(request, _not_yours(reference[:20]), "report.html", ctx)
    ctx.update(
        case=found,
        new=request.query_params.get("new") == "1",
        back=f"/report/case/{found['reference']}",
    )
    return render(request, "report_case.html", ctx)


@router.get("/photo/{reference}/{n}")
async def own_photo(request: Request, who: Reporter, reference: str, n: int) -> Response:
    """Photo ``n`` (1-based) of one of the reporter's own reports, as received."""
    cw = casework_of(request)

    def read(store: CaseworkStore) -> bytes | None:
        file = views.case_files(store.log_rows()).get(reference[:20])
        if file is None or file.received.get("reporter") != who.reporter:
            return None
        photos = file.received["photos"]
        return store.photo(photos[n - 1]["sha256"]) if 1 <= n <= len(photos) else None

    data = await cw.run(read)
    if data is None:
        ctx = await cw.run(lambda s: _page_ctx(s, who, {}))
        return refusal(request, _not_yours(reference[:20]), "report.html", ctx)
    media = "image/png" if data.startswith(b"\x89PNG") else "image/jpeg"
    return Response(data, media_type=media)
