"""The station's routes: one top-level handler per URL on ``router``, the signed-in official
given by a FastAPI dependency (``Official``: pages and commands send a stranger to the sign-in
page; ``signed_in_api``: the JSON endpoints answer 401).

A page reads the session on the election thread (``views`` builds its data) and renders it; a
command (``commands``) runs through ``act``: CSRF, role, the session call under the lock, then
a redirect to its page with a flash (post/redirect/get), or its page again with the refusal.
"""

from __future__ import annotations

import errno
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import FileResponse, JSONResponse, RedirectResponse, Response

import ballot_printer
from bilingual import inline
from tally.core.errors import TallyError
from tally.core.model import PostKind
from tally.election import ElectionSession, EntryInput
from tally.service.accounts import AccountError, UserSession
from tally.service.app import ServiceState, state_of
from tally.service.proxy import request_source
from tally.service.station import auth, commands, views
from tally.service.station.web import (
    MAX_QR_CHARS,
    StationState,
    flash,
    form_text,
    key_label,
    lang_of,
    login_redirect,
    refuse_page,
    render,
    signin_needed,
    station_of,
)
from tally.session_errors import SessionError
from tally.store import StoreError

__all__ = ["SignInNeeded", "router", "sign_in_needed"]

# A write the disk did not take: a clean 503 refusal, never a 500.
_DISK_ERRORS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EIO, errno.EFBIG})

router = APIRouter(prefix="/station", include_in_schema=False)


# -- who is asking ---------------------------------------------------------------------------------
class SignInNeeded(Exception):
    """No live session: a page goes to the sign-in form, a JSON endpoint answers 401."""

    def __init__(self, *, api: bool) -> None:
        super().__init__("sign in first")
        self.api = api


async def sign_in_needed(request: Request, exc: Exception) -> Response:
    """The app's handler of ``SignInNeeded`` (installed by ``register``)."""
    assert isinstance(exc, SignInNeeded)
    return signin_needed(request) if exc.api else login_redirect(request)


def current_official(request: Request) -> UserSession | None:
    """The official signed in with this request's session cookie, if any (station roles only:
    a casework account of the same file never sees the station)."""
    user = station_of(request).accounts.session(request.cookies.get(auth.COOKIE))
    return user if user is not None and user.account.role in auth.STATION_ROLES else None


def signed_in(request: Request) -> UserSession:
    user = current_official(request)
    if user is None:
        raise SignInNeeded(api=False)
    return user


def signed_in_api(request: Request) -> UserSession:
    user = current_official(request)
    if user is None:
        raise SignInNeeded(api=True)
    return user


Official = Annotated[UserSession, Depends(signed_in)]
MaybeOfficial = Annotated[UserSession | None, Depends(current_official)]
Service = Annotated[ServiceState, Depends(state_of)]
Station = Annotated[StationState, Depends(station_of)]


# -- pages -----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class PageInput:
    """What a page's data is built from besides the session."""

    lang: str
    user: UserSession
    station: StationState
    data_dir: Path
    query: Mapping[str, str]


def _count_page(s: ElectionSession, p: PageInput) -> dict[str, Any]:
    labels = [key_label(path) for path in p.station.scrutineer_keys]
    return views.count(s, p.user.account.name, list(p.station.pending.values()), labels)


def _tally_page(s: ElectionSession, p: PageInput) -> dict[str, Any]:
    return views.running_tally(s, p.lang, (p.query.get("post", ""), p.query.get("round", "")))


def _downloads_page(s: ElectionSession, p: PageInput) -> dict[str, Any]:
    stocks, published = p.data_dir / "stocks", p.data_dir / "published" / "bundle.zip"
    return views.downloads(s, p.lang, lambda name: (stocks / name).exists(), published.exists())


PAGES: Mapping[str, tuple[str, Callable[[ElectionSession, PageInput], dict[str, Any]]]] = {
    "overview": ("overview.html", lambda s, p: views.overview(s, p.lang)),
    "checkin": ("checkin.html", lambda s, p: views.checkin(s, p.query.get("q", "")[:40])),
    "ballots": ("ballots.html", lambda s, p: views.ballots(s, p.lang)),
    "count": ("count.html", _count_page),
    "tally": ("tally.html", _tally_page),
    "result": ("result.html", lambda s, p: views.result(s, p.lang)),
    "downloads": ("downloads.html", _downloads_page),
}


async def show(
    request: Request,
    user: UserSession,
    name: str,
    *,
    status: int = 200,
    error: str | None = None,
    extra: dict[str, Any] | None = None,
) -> Response:
    """The page ``name`` for ``user`` (with a refusal's ``error`` and ``status``, if any)."""
    state = state_of(request)
    lang = lang_of(request)
    template, build = PAGES[name]
    page = PageInput(lang, user, station_of(request), state.config.data_dir, request.query_params)

    def gather(s: ElectionSession) -> dict[str, Any]:
        return {**views.common(s, lang), **build(s, page)}

    try:
        ctx: dict[str, Any] = await state.run(gather)
    except StoreError as e:
        return render(
            request,
            "error.html",
            {"user": user, "message": views.msg(lang, e.zh, e.en)},
            status=503,
        )
    ctx.update(extra or {})
    return render(
        request, template, {**ctx, "user": user, "page": name, "error": error}, status=status
    )


@router.get("/")
async def overview(request: Request, user: Official) -> Response:
    return await show(request, user, "overview")


@router.get("/checkin")
async def checkin_page(request: Request, user: Official) -> Response:
    return await show(request, user, "checkin")


@router.get("/ballots")
async def ballots_page(request: Request, user: Official) -> Response:
    return await show(request, user, "ballots")


@router.get("/count")
async def count_page(request: Request, user: Official) -> Response:
    return await show(request, user, "count")


@router.get("/tally")
async def tally_page(request: Request, user: Official) -> Response:
    return await show(request, user, "tally")


@router.get("/result")
async def result_page(request: Request, user: Official) -> Response:
    return await show(request, user, "result")


@router.get("/downloads")
async def downloads_page(request: Request, user: Official) -> Response:
    return await show(request, user, "downloads")


# -- sign-in ---------------------------------------------------------------------------------------
@router.get("/login")
async def login_page(request: Request, service: Service) -> Response:
    token = auth.form_token()
    nxt = auth.safe_next(request.query_params.get("next"))
    response = render(request, "login.html", {"user": None, "pre": token, "next": nxt})
    auth.set_form_token_cookie(response, token, secure=service.config.secure_cookies)
    return response


@router.post("/login")
async def login(request: Request, service: Service, station: Station) -> Response:
    form = await request.form()
    lang = lang_of(request)
    pre = request.cookies.get(auth.PRE_COOKIE, "")
    nxt = auth.safe_next(form_text(form, "next"))
    if not pre or not auth.check_token(pre, form):
        e = auth.Refused(
            403,
            "登录表单已过期或来源无法确认，请刷新登录页后重试。",
            "The sign-in form expired or did not come from this system; reload it.",
        )
        return refuse_page(request, None, e)
    name, password = form_text(form, "name", 40), form.get("password")
    try:
        sid = await auth.sign_in(
            station.accounts,
            station.hashers(),
            name,
            password if isinstance(password, str) else "",
            request_source(request),
        )
    except (AccountError, StoreError) as e:
        status = 503 if isinstance(e, StoreError) else 429 if e.code == "signin.locked" else 401
        ctx = {"user": None, "pre": pre, "next": nxt, "error": views.msg(lang, e.zh, e.en)}
        return render(request, "login.html", {**ctx, "name": name}, status=status)
    response = RedirectResponse(nxt, status_code=303)
    auth.set_session_cookie(response, sid, secure=service.config.secure_cookies)
    return response


@router.post("/logout")
async def logout(request: Request, user: MaybeOfficial, station: Station) -> Response:
    form = await request.form()
    if user is not None:
        if not auth.check_token(user.csrf, form):
            return refuse_page(request, user, auth.Refused(403, "安全令牌不符", "bad token"))
        station.accounts.sign_out(request.cookies.get(auth.COOKIE))
    response = RedirectResponse("/station/login", status_code=303)
    response.delete_cookie(auth.COOKIE, path="/station")
    return response


# -- commands --------------------------------------------------------------------------------------
async def act(
    request: Request,
    user: UserSession,
    action: str,
    page: str,
    fn: commands.CommandFn,
    *,
    back: str | None = None,
    notes: dict[str, Any] | None = None,
) -> Response:
    """One command: CSRF, role, the session call under the lock, then PRG."""
    form = await request.form()
    try:
        auth.check(user, action, form)
    except auth.Refused as e:
        return refuse_page(request, user, e)
    lang = lang_of(request)
    state = state_of(request)
    command = commands.Command(
        form, user, state, station_of(request), {} if notes is None else notes
    )
    try:
        zh, en = await state.run(lambda s: fn(s, command))
    except (SessionError, TallyError, AccountError) as e:
        fields = {k: v for k, v in form.items() if k != "csrf"}
        error = views.msg(lang, e.zh, e.en)
        return await show(request, user, page, status=409, error=error, extra={"form": fields})
    except ballot_printer.BallotPrinterError as e:
        return await show(request, user, page, status=409, error=views.msg(lang, e.zh, e.en))
    except StoreError as e:
        return await show(request, user, page, status=503, error=views.msg(lang, e.zh, e.en))
    except OSError as e:  # a file of the data folder (stock PDF, bundle) the disk did not take
        if e.errno not in _DISK_ERRORS:
            raise
        error = views.msg(
            lang,
            "磁盘已满或无法写入，本次操作没有完成：请腾出磁盘空间后重试",
            "the disk is full or cannot be written; nothing was done: free some disk "
            "space and try again",
        )
        return await show(request, user, page, status=503, error=error)
    flash(request, user, "ok", zh, en)
    return RedirectResponse(back or f"/station/{'' if page == 'overview' else page}", 303)


@router.post("/checkin")
async def checkin(request: Request, user: Official) -> Response:
    q = request.query_params.get("q", "")
    back = "/station/checkin" + (f"?{urlencode({'q': q})}" if q else "")
    return await act(request, user, "checkin", "checkin", commands.checkin, back=back)


@router.post("/print")
async def print_stock(request: Request, user: Official) -> Response:
    return await act(request, user, "print", "ballots", commands.print_stock)


@router.post("/issue")
async def issue(request: Request, user: Official) -> Response:
    return await act(request, user, "issue", "ballots", commands.issue)


@router.post("/return")
async def return_ballots(request: Request, user: Official) -> Response:
    return await act(request, user, "return", "ballots", commands.return_ballots)


@router.post("/count/enter")
async def enter(request: Request, user: Official) -> Response:
    notes: dict[str, Any] = {}
    response = await act(request, user, "enter", "count", commands.enter, notes=notes)
    if notes.get("mismatch") and response.status_code == 409:
        error = views.msg(
            lang_of(request),
            "两人录入不一致，均未计入：请两人核对纸质选票后重新录入",
            "the two entries differ; nothing counted; enter the ballot again",
        )
        extra = {"mismatch": notes["mismatch"]}
        return await show(request, user, "count", status=409, error=error, extra=extra)
    return response


@router.post("/count/invalid")
async def declare_invalid(request: Request, user: Official) -> Response:
    return await act(request, user, "enter", "count", commands.declare_invalid)


@router.post("/count/withdraw")
async def withdraw(request: Request, user: Official) -> Response:
    return await act(request, user, "withdraw", "count", commands.withdraw)


@router.post("/count/mode")
async def mode(request: Request, user: Official) -> Response:
    return await act(request, user, "mode", "count", commands.mode)


@router.post("/close")
async def close(request: Request, user: Official) -> Response:
    return await act(request, user, "close", "result", commands.close)


@router.post("/decide")
async def decide(request: Request, user: Official) -> Response:
    return await act(request, user, "decide", "result", commands.decide)


@router.post("/result")
async def record_result(request: Request, user: Official) -> Response:
    return await act(request, user, "result", "result", commands.record_result)


@router.post("/publish")
async def publish(request: Request, user: Official) -> Response:
    back = "/station/downloads"
    return await act(request, user, "publish", "downloads", commands.publish, back=back)


# -- downloads -------------------------------------------------------------------------------------
async def _download(
    request: Request, user: UserSession, action: str | None, folder: Path, name: str
) -> Response:
    if action is not None:
        try:
            auth.check(user, action, None)
        except auth.Refused as e:
            return refuse_page(request, user, e)
    allowed = {p.name for p in folder.glob("*") if p.is_file()} if folder.is_dir() else set()
    if name not in allowed or not (name.endswith((".pdf", ".zip"))):
        return refuse_page(
            request, user, auth.Refused(404, "文件还没有生成", "the file does not exist yet")
        )
    media = "application/pdf" if name.endswith(".pdf") else "application/zip"
    return FileResponse(folder / name, media_type=media, filename=name)


@router.get("/files/stock/{name}")
async def stock_pdf(request: Request, user: Official, service: Service, name: str) -> Response:
    folder = service.config.data_dir / "stocks"
    return await _download(request, user, "stock_pdf", folder, name)


@router.get("/files/notice.pdf")
async def notice(request: Request, user: Official, service: Service) -> Response:
    folder = service.config.data_dir / "published"
    return await _download(request, user, None, folder, "notice.pdf")


@router.get("/files/bundle.zip")
async def bundle(request: Request, user: Official, service: Service) -> Response:
    folder = service.config.data_dir / "published"
    return await _download(request, user, "bundle", folder, "bundle.zip")


@router.get("/files/sheet/{name}")
async def sheet(request: Request, user: Official, service: Service, name: str) -> Response:
    stem = name.removesuffix(".pdf")
    post_text, _, number = stem.rpartition("-")
    try:
        post, round_number = PostKind(post_text), int(number)
    except ValueError:
        return refuse_page(request, user, auth.Refused(404, "没有这个文件", "no such file"))

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
        pdf = await service.run(make)
    except (SessionError, ballot_printer.BallotPrinterError) as e:
        return refuse_page(request, user, auth.Refused(409, e.zh, e.en))
    filename = f"tally-sheet-{post.value}-{round_number}.pdf"
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


# -- live updates and the scanner check ------------------------------------------------------------
@router.get("/api/live", dependencies=[Depends(signed_in_api)])
async def live(service: Service, station: Station) -> Response:
    """What the pages poll every 2 s: a version that changes with every write, and the counts."""

    def read(s: ElectionSession) -> dict[str, Any]:
        q = views.quorum_view(s, "zh")
        cur = s.meeting.current
        return {
            "ok": True,
            "version": f"{views.version(s)}.{len(station.pending)}.{int(s.meeting.double_entry)}",
            "present": q["present"],
            "expected": q["expected"],
            "minimum": q["minimum"],
            "quorum_valid": q["valid"],
            "entered": len(cur.entered) if cur else None,
            "returned": cur.returned if cur else None,
        }

    return JSONResponse(await service.run(read))


def _scan_check(s: ElectionSession, qr: str, station: StationState, lang: str) -> dict[str, Any]:
    """A scanned QR text checked against the open round (stores nothing)."""
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
    first = station.pending.get(body["ballot_id"])
    note = ""
    if first is not None:
        note = views.msg(
            lang,
            f"（{first.teller} 已录入一次，请核对录入）",
            f" (entered once by {first.teller}: enter it again to confirm)",
        )
    message = views.msg(
        lang,
        f"选票 {code}：签名有效，请录入标记{note}",
        f"ballot {code}: signature valid; enter the marks{note}",
    )
    return {"ok": True, "code": code, "message": message}


def _scan_message(lang: str, e: SessionError) -> str:
    if e.code == "qr.procedure_ballot":  # named, not "scan again" (spec/ballot-qr.md Q1)
        return views.msg(lang, *views.PROCEDURE_BALLOT)
    if e.code.startswith(("qr.", "payload.")) or "QR" in e.en or "base32" in e.en:
        return views.msg(
            lang,
            f"扫到的内容不是本次选举的选票二维码：{inline(e.zh)}。请对准选票右上角的二维码重新扫描",
            f"the scanned text is not a ballot QR of this election: {inline(e.en)}. Scan the "
            "ballot's QR code again",
        )
    return views.msg(lang, e.zh, e.en)


@router.get("/api/scan", dependencies=[Depends(signed_in_api)])
async def scan(request: Request, service: Service, station: Station) -> Response:
    """Check a scanned QR text before the teller marks the grid (stores nothing)."""
    lang = lang_of(request)
    qr = request.query_params.get("qr", "")[:MAX_QR_CHARS]
    try:
        return JSONResponse(await service.run(lambda s: _scan_check(s, qr, station, lang)))
    except SessionError as e:
        body = {"ok": False, "code": e.code, "message": _scan_message(lang, e)}
        return JSONResponse(body, status_code=409)
