"""Who may do what at the station, and how a person signs in (no routes here: see ``routes``).

Sign-in: the login form carries a double-submit token (``PRE_COOKIE``, no session yet); the
password is checked by ``AccountStore.sign_in`` (Argon2, in a worker thread, at most
``StationState.hash_slots`` at once); the session id goes in an HttpOnly, SameSite=strict cookie
(``COOKIE``) scoped to ``/station``. Every command form carries the session's CSRF token:
``check`` compares it (constant time, ``accounts.csrf_ok``) before it looks at the role, so a
forged form learns nothing.
"""

from __future__ import annotations

import functools
import secrets
from collections.abc import Mapping

import anyio
from starlette.datastructures import FormData
from starlette.responses import Response

from bilingual import BilingualError
from tally.service.accounts import AccountStore, Role, UserSession, csrf_ok

__all__ = [
    "ACTIONS",
    "ACTION_NAMES",
    "COOKIE",
    "PRE_COOKIE",
    "STATION_ROLES",
    "Refused",
    "check",
    "check_token",
    "form_token",
    "safe_next",
    "set_form_token_cookie",
    "set_session_cookie",
    "sign_in",
]

COOKIE = "tally_session"
PRE_COOKIE = "tally_pre"  # double-submit token of the sign-in form (no session yet)
SESSION_SECONDS = 12 * 3600

STATION_ROLES = frozenset({Role.CHAIR, Role.SCRUTINEER, Role.TELLER, Role.CLERK})
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


class Refused(BilingualError):
    """A request the station refuses before touching the election (403 or 400 + message)."""

    code = "station.refused"

    def __init__(self, status: int, zh: str, en: str) -> None:
        super().__init__(zh=zh, en=en)
        self.status = status


def check_token(expected: str, form: FormData) -> bool:
    """Whether the form's ``csrf`` field is ``expected`` (constant-time compare)."""
    given = form.get("csrf")
    return csrf_ok(expected, given if isinstance(given, str) else None)


def check(user: UserSession, action: str, form: FormData | None) -> None:
    """CSRF first (a forged form learns nothing), then the role.

    Raises:
        Refused: 403 with the reason.
    """
    if form is not None and not check_token(user.csrf, form):
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


def safe_next(value: str | None) -> str:
    """Only a path of this station after sign-in (never another site)."""
    if value and value.startswith("/station/") and "//" not in value and "\\" not in value:
        return value
    return "/station/"


def form_token() -> str:
    """A fresh double-submit token for the sign-in form."""
    return secrets.token_urlsafe(24)


def set_form_token_cookie(response: Response, token: str, *, secure: bool) -> None:
    response.set_cookie(
        PRE_COOKIE, token, httponly=True, samesite="strict", secure=secure, path="/station"
    )


def set_session_cookie(response: Response, sid: str, *, secure: bool) -> None:
    """The session cookie after a sign-in; the sign-in form's token is spent."""
    response.set_cookie(
        COOKIE,
        sid,
        httponly=True,
        samesite="strict",
        secure=secure,
        path="/station",
        max_age=SESSION_SECONDS,
    )
    response.delete_cookie(PRE_COOKIE, path="/station")


async def sign_in(
    accounts: AccountStore,
    limiter: anyio.CapacityLimiter,
    name: str,
    password: str,
    client: str,
) -> str:
    """The new session id, the password checked off the event loop under ``limiter``.

    Raises:
        AccountError: wrong name or password, or locked out (``signin.locked``).
        StoreError: the accounts file cannot be read or written.
    """
    sid, _session = await anyio.to_thread.run_sync(
        functools.partial(accounts.sign_in, name, password, client=client),
        limiter=limiter,
    )
    return sid
