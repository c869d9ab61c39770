"""What every station route shares: the station's state, the reader's language, the templates,
the refusal pages and the form readers (the routes themselves are in ``routes``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import anyio
import jinja2
from fastapi import Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.datastructures import FormData

import ballot_printer
import keys
from tally.service.accounts import AccountStore, UserSession
from tally.service.app import state_of
from tally.service.station.auth import ACTIONS, Refused
from tally.service.station.views import Pending, msg
from tally.session_errors import SessionError

TEMPLATES = Path(__file__).parent.parent / "templates" / "station"
LANG_COOKIE = "tally_lang"
# A scanned text is cut one character past the longest ballot QR text (spec/ballot-qr.md §3.4),
# so that a longer one still reaches the reader and is refused as such (qr.text_too_long).
MAX_QR_CHARS = ballot_printer.QR_TEXT_MAX_CHARS + 1
NAV = (
    ("overview", "/station/", "概况", "Overview"),
    ("checkin", "/station/checkin", "签到", "Check-in"),
    ("ballots", "/station/ballots", "发票与收票", "Issue & return"),
    ("count", "/station/count", "录入选票", "Enter ballots"),
    ("tally", "/station/tally", "计票", "Tally"),
    ("result", "/station/result", "轮次结果", "Results"),
    ("downloads", "/station/downloads", "下载", "Downloads"),
)


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


def station_of(request: Request) -> StationState:
    st: StationState = request.app.state.station
    return st


_env = jinja2.Environment(
    loader=jinja2.FileSystemLoader(TEMPLATES),
    autoescape=jinja2.select_autoescape(default=True),
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


def lang_of(request: Request) -> str:
    """``?lang=``, else the language cookie, else the service's default."""
    q = request.query_params.get("lang")
    if q in ("zh", "en"):
        return q
    c = request.cookies.get(LANG_COOKIE)
    if c in ("zh", "en"):
        return c
    return "en" if state_of(request).config.lang == "en" else "zh"


def signin_needed(request: Request) -> JSONResponse:
    """401 for the station's JSON endpoints without a session: a code and a message, as always."""
    message = msg(lang_of(request), "请先登录", "sign in first")
    return JSONResponse({"ok": False, "code": "signin.needed", "message": message}, status_code=401)


def login_redirect(request: Request) -> Response:
    return RedirectResponse("/station/login?next=" + quote(str(request.url.path)), status_code=303)


def flash(request: Request, user: UserSession, kind: str, zh: str, en: str) -> None:
    """A message for the official's next page (after the redirect of a command)."""
    station_of(request).flashes.setdefault(user.session_hash, []).append((kind, zh, en))


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


def key_label(path: Path) -> str:
    """The label a scrutineer's key file carries in its clear header (their name), else the file's
    name: the confirmation form lists people, not files."""
    try:
        return keys.parse_key_file(path.read_bytes()).label or path.stem
    except (OSError, keys.KeysError):
        return path.stem


def render(request: Request, template: str, ctx: dict[str, Any], *, status: int = 200) -> Response:
    """The page ``template`` with ``ctx`` and what every page shows (navigation, the language
    switch, the official's flashes, which are shown once)."""
    lang = lang_of(request)
    user: UserSession | None = ctx.get("user")
    flashes = station_of(request).flashes.pop(user.session_hash, []) if user else []

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


def refuse_page(request: Request, user: UserSession | None, e: Refused) -> Response:
    return render(
        request,
        "error.html",
        {"user": user, "title": "", "message": msg(lang_of(request), e.zh, e.en)},
        status=e.status,
    )


def form_int(form: FormData, key: str, zh: str, en: str) -> int:
    """A whole number of at most 6 digits from the form, or a ``form.number`` refusal naming it."""
    raw = form.get(key)
    text = raw.strip() if isinstance(raw, str) else ""
    if not text.isdigit() or len(text) > 6:
        raise SessionError(
            "form.number", zh=f"请填写{zh}（整数）", en=f"give {en} (a whole number)"
        )
    return int(text)


def form_text(form: FormData, key: str, limit: int = 200) -> str:
    """A text field of the form, trimmed and cut at ``limit`` characters ("" when absent)."""
    raw = form.get(key)
    return raw.strip()[:limit] if isinstance(raw, str) else ""
