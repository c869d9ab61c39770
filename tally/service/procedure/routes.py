"""The procedure pages' routes: the work group's pages under ``/station/procedure/`` (signed in,
station binding only) and the public page ``/board/procedure`` with its JSON
``/api/board/procedure`` (read-only, public binding).

A page reads the file on its thread (``views``) and renders it; a command (``commands``) checks
the CSRF token, then the role, then runs under the lock and redirects to its page with a flash
(post/redirect/get), or shows its page again with the refusal (409; 403 for the token or role).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

import anyio
from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response

import keys
from ballot_printer import BallotPrinterError
from tally.core.errors import TallyError
from tally.procedure_store import ProcedureStore
from tally.service.accounts import AccountError, Role, UserSession
from tally.service.procedure import commands, views
from tally.service.procedure.web import PREFIX, ProcedureState, lang_of, msg, render, state_of
from tally.service.proxy import request_source
from tally.service.station import auth
from tally.session_errors import SessionError
from tally.store import StoreError

__all__ = ["ACTIONS", "SignInNeeded", "router", "sign_in_needed"]

router = APIRouter(include_in_schema=False)

ACTIONS: dict[str, frozenset[Role]] = {
    "open": frozenset({Role.CHAIR}),
    "evaluate": frozenset({Role.CHAIR}),
    "issue": frozenset({Role.CHAIR}),
    "return": frozenset({Role.CHAIR}),
    "count": frozenset({Role.CHAIR}),
    "enter": frozenset({Role.TELLER}),
    "withdraw": frozenset({Role.TELLER}),
    "invalid": frozenset({Role.TELLER}),
    "cosign": frozenset({Role.SCRUTINEER, Role.CHAIR}),
}
_NAMES = {
    "open": ("开始推荐会议", "opening a recommendation session"),
    "evaluate": ("开始测评", "opening the evaluation"),
    "issue": ("发票", "issuing ballots"),
    "return": ("收票", "recording ballots returned"),
    "count": ("计票", "counting"),
    "enter": ("录入", "entering ballots"),
    "withdraw": ("撤回录入", "withdrawing an entry"),
    "invalid": ("录入无效票", "entering a ballot as invalid"),
    "cosign": ("监票人签署", "co-signing"),
}
# The commands a scrutineer's signature authorises: the key file chosen on the form is unlocked
# with the passphrase typed there, for this request only (never logged, never shown again).
_SCRUTINEER_SIGNS = frozenset({"invalid", "cosign"})


class SignInNeeded(Exception):
    """No live session: a page goes to the sign-in form, the scan check answers 401."""

    def __init__(self, *, api: bool) -> None:
        super().__init__("sign in first")
        self.api = api


async def sign_in_needed(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, SignInNeeded)
    if exc.api:
        message = msg(lang_of(request), "请先登录", "sign in first")
        return JSONResponse({"ok": False, "code": "signin.needed", "message": message}, 401)
    return RedirectResponse(f"{PREFIX}/login?next={request.url.path}", status_code=303)


def _official(request: Request) -> UserSession | None:
    return state_of(request).accounts.session(request.cookies.get(auth.COOKIE))


def signed_in(request: Request) -> UserSession:
    user = _official(request)
    if user is None:
        raise SignInNeeded(api=False)
    return user


def signed_in_api(request: Request) -> UserSession:
    user = _official(request)
    if user is None:
        raise SignInNeeded(api=True)
    return user


Official = Annotated[UserSession, Depends(signed_in)]
State = Annotated[ProcedureState, Depends(state_of)]


def _page_data(
    name: str, lang: str, user: UserSession, q: Any, state: ProcedureState
) -> Callable[[ProcedureStore], Any]:
    builders: dict[str, Callable[[ProcedureStore], dict[str, Any]]] = {
        "overview": lambda s: views.overview(s, lang),
        "session": lambda s: views.session_page(s, lang),
        "enter": lambda s: views.enter_page(s, lang, q.get("post", "")[:20], user.account.name),
        "proposal": lambda s: views.proposal_page(s, lang),
        "vetting": lambda s: views.vetting_page(s, lang),
        "cosign": lambda s: views.cosign_page(s, lang, state.scrutineers),
    }
    build = builders[name]

    def gather(s: ProcedureStore) -> dict[str, Any]:
        return {"info": s.signed.procedure.election, **build(s)}

    return gather


async def show(
    request: Request,
    user: UserSession,
    name: str,
    *,
    status: int = 200,
    error: str | None = None,
    form: dict[str, str] | None = None,
) -> Response:
    lang = lang_of(request)
    st = state_of(request)
    try:
        ctx = await st.run(_page_data(name, lang, user, request.query_params, st))
    except StoreError as e:
        ctx = {"info": None}
        error, status = msg(lang, e.zh, e.en), 503
        return render(request, "error.html", {**ctx, "user": user, "message": error}, status=status)
    can = {a: user.account.role in roles for a, roles in ACTIONS.items()}
    signers = [{"index": i, "name": k.name} for i, k in enumerate(st.scrutineers)]
    full = {
        **ctx,
        "user": user,
        "page": name,
        "error": error,
        "can": can,
        "form": form or {},
        "scrutineer_keys": signers,
        "invalid_reasons": [(k, zh, en) for k, (zh, en) in commands.INVALID_REASONS.items()],
    }
    return render(request, f"{name}.html", full, status=status)


def _pages() -> None:
    for name, path in (
        ("overview", "/"),
        ("session", "/session"),
        ("enter", "/enter"),
        ("proposal", "/proposal"),
        ("vetting", "/vetting"),
        ("cosign", "/cosign"),
    ):

        async def page(request: Request, user: Official, _name: str = name) -> Response:
            return await show(request, user, _name)

        router.add_api_route(PREFIX + path, page, methods=["GET"], name=f"procedure-{name}")


_pages()


# -- sign-in ---------------------------------------------------------------------------------------
@router.get(PREFIX + "/login")
async def login_page(request: Request, st: State) -> Response:
    token = auth.form_token()
    nxt = auth.safe_next(request.query_params.get("next"))
    ctx = {"user": None, "info": None, "pre": token, "next": nxt, "name": ""}
    response = render(request, "login.html", ctx)
    auth.set_form_token_cookie(response, token, secure=st.secure_cookies)
    return response


@router.post(PREFIX + "/login")
async def login(request: Request, st: State) -> Response:
    form = await request.form()
    lang = lang_of(request)
    pre = request.cookies.get(auth.PRE_COOKIE, "")
    raw_next = form.get("next")
    nxt = auth.safe_next(raw_next if isinstance(raw_next, str) else None)
    if not pre or not auth.check_token(pre, form):
        message = msg(
            lang, "登录表单已过期，请刷新后重试。", "The sign-in form expired; reload it."
        )
        ctx = {"user": None, "info": None, "message": message}
        return render(request, "error.html", ctx, status=403)
    raw_name, password = form.get("name"), form.get("password")
    name = raw_name.strip()[:40] if isinstance(raw_name, str) else ""
    try:
        sid = await auth.sign_in(
            st.accounts,
            st.hashers(),
            name,
            password if isinstance(password, str) else "",
            request_source(request),
        )
    except (AccountError, StoreError) as e:
        status = 503 if isinstance(e, StoreError) else 429 if e.code == "signin.locked" else 401
        ctx = {"user": None, "info": None, "pre": pre, "next": nxt, "name": name}
        return render(request, "login.html", {**ctx, "error": msg(lang, e.zh, e.en)}, status=status)
    response = RedirectResponse(nxt if nxt != "/station/" else f"{PREFIX}/", status_code=303)
    auth.set_session_cookie(response, sid, secure=st.secure_cookies)
    return response


@router.post(PREFIX + "/logout")
async def logout(request: Request, user: Official, st: State) -> Response:
    form = await request.form()
    if auth.check_token(user.csrf, form):
        st.accounts.sign_out(request.cookies.get(auth.COOKIE))
    response = RedirectResponse(f"{PREFIX}/login", status_code=303)
    response.delete_cookie(auth.COOKIE, path="/station")
    return response


# -- commands --------------------------------------------------------------------------------------
def _refused(request: Request, user: UserSession, status: int, zh: str, en: str) -> Response:
    ctx = {"user": user, "info": None, "message": msg(lang_of(request), zh, en)}
    return render(request, "error.html", ctx, status=status)


async def _act(request: Request, user: UserSession, action: str) -> Response:
    form = await request.form()
    if not auth.check_token(user.csrf, form):
        return _refused(
            request,
            user,
            403,
            "安全令牌缺失或不符（页面可能已过期），操作未执行。请刷新页面后重试。",
            "The form's security token is missing or wrong; nothing was done. Reload the page.",
        )
    if user.account.role not in ACTIONS[action]:
        zh, en = _NAMES[action]
        roles = ACTIONS[action]
        return _refused(
            request,
            user,
            403,
            f"您的角色是{user.account.role.zh}，不能{zh}：此操作只能由"
            + "、".join(r.zh for r in Role if r in roles)
            + "进行。",
            f"You are signed in as {user.account.role.en}; {en} is for the "
            + ", ".join(r.en for r in Role if r in roles)
            + " only.",
        )
    page, fn = commands.COMMANDS[action]
    fields = {
        k: v for k, v in form.items() if isinstance(v, str) and k not in {"csrf", "passphrase"}
    }
    multi = {k: tuple(str(v) for v in form.getlist(k)) for k in form if k != "passphrase"}
    lang = lang_of(request)
    st = state_of(request)
    scrutineer = None
    if action in _SCRUTINEER_SIGNS:
        passphrase = form.get("passphrase")
        try:
            scrutineer = await _unlock(st, fields.get("key", ""), passphrase)
        except SessionError as e:
            return await show(
                request, user, page, status=409, error=msg(lang, e.zh, e.en), form=fields
            )
    command = commands.Command(fields, user.account.name, st.signer, multi, scrutineer)
    del scrutineer
    try:
        zh, en = await st.run(lambda s: fn(s, command))
    except (SessionError, TallyError, BallotPrinterError) as e:
        return await show(request, user, page, status=409, error=msg(lang, e.zh, e.en), form=fields)
    except StoreError as e:
        return await show(request, user, page, status=503, error=msg(lang, e.zh, e.en))
    state_of(request).flashes.setdefault(user.session_hash, []).append(("ok", zh, en))
    back = f"{PREFIX}/{'' if page == 'overview' else page}"
    if page == "enter" and fields.get("post"):
        back += f"?post={fields['post']}"
    return RedirectResponse(back, status_code=303)


async def _unlock(st: ProcedureState, index: str, passphrase: object) -> keys.InMemorySigner:
    """(RP-3.8, RP-11.2) The scrutineer's key file chosen on the form (by its place in the list
    given at start-up), unlocked with the passphrase typed there, in a worker thread (the KDF
    is slow), for this request only.

    Raises:
        SessionError: ``procedure.scrutineer_key_missing`` (no key chosen, or none given at
            start-up), ``procedure.scrutineer_key`` (the file is of another role),
            ``procedure.scrutineer_passphrase`` (wrong passphrase, or the file is damaged).
    """
    index = index.strip()
    if not index.isdigit() or int(index) >= len(st.scrutineers):
        raise SessionError(
            "procedure.scrutineer_key_missing",
            zh="须由监票人选择本人的密钥（服务启动时用 --scrutineer-key 给出）并输入口令",
            en="a scrutineer must choose their key (tally procedure serve --scrutineer-key) and "
            "type its passphrase",
        )
    path = st.scrutineers[int(index)].path
    secret = passphrase if isinstance(passphrase, str) else ""

    def unlock() -> keys.InMemorySigner:
        return keys.load_signer(path, secret, expected_role=keys.Role.SCRUTINEER)

    try:
        return await anyio.to_thread.run_sync(unlock, limiter=st.hashers())
    except keys.WrongRoleError as e:
        raise SessionError(
            "procedure.scrutineer_key",
            zh="这个密钥文件不是监票人密钥，没有签署，也没有记录",
            en="this key file is not a scrutineer key: nothing was signed or recorded",
        ) from e
    except (keys.KeysError, OSError) as e:
        raise SessionError(
            "procedure.scrutineer_passphrase",
            zh="监票人密钥无法打开（口令不正确），没有签署，也没有记录",
            en="the scrutineer key cannot be opened (wrong passphrase): nothing was signed or "
            "recorded",
        ) from e


def _commands() -> None:
    for action in ACTIONS:

        async def command(request: Request, user: Official, _action: str = action) -> Response:
            return await _act(request, user, _action)

        router.add_api_route(
            f"{PREFIX}/{action}", command, methods=["POST"], name=f"procedure-{action}"
        )


_commands()


@router.get(PREFIX + "/api/scan", dependencies=[Depends(signed_in_api)])
async def scan(request: Request, st: State) -> Response:
    """Check a scanned ``BP1:`` text against the open round before the marks (stores nothing)."""
    lang = lang_of(request)
    q = request.query_params
    qr, form, post = q.get("qr", "")[:400], q.get("form", "")[:20], q.get("post", "")[:20]
    try:
        code, _ = await st.run(lambda s: commands.scan_check(s, qr, form, post))
    except (SessionError, TallyError, BallotPrinterError) as e:
        body = {"ok": False, "code": e.code, "message": msg(lang, e.zh, e.en)}
        return JSONResponse(body, status_code=409)
    message = msg(
        lang, f"票 {code}：签名有效，请录入标记", f"ballot {code}: valid; enter the marks"
    )
    return JSONResponse({"ok": True, "code": code, "message": message})


# -- the public page -------------------------------------------------------------------------------
@router.get("/board/procedure")
async def public_page(request: Request, st: State) -> Response:
    """(RP-12.4) The branch's public page: ``procedure-public/1``, read-only."""
    info, doc = await st.run(lambda s: (s.signed.procedure.election, views.public_page(s)))
    return render(request, "public.html", {"user": None, "info": info, "doc": doc})


@router.get("/api/board/procedure")
async def public_json(st: State) -> Response:
    """(RP-12.4) ``procedure-public/1`` as JSON."""
    return JSONResponse(await st.run(views.public_page))
