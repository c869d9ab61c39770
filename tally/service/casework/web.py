"""What every casework route shares: the casework's state (the open store on its own thread, the
clock, the calendar, the in-memory limits), the reader's language, rendering, and the refusal
as a page or as JSON (spec/procedure.md §8, §9, §14)."""

from __future__ import annotations

import asyncio
import hashlib
import secrets
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any, Final, Protocol
from urllib.parse import urlencode

import anyio
import jinja2
from fastapi import Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

import keys
from bilingual import BilingualError
from tally.calendar import WorkingDayCalendar
from tally.casework_store import CaseworkStore, Randomness
from tally.core.casework import TOWN_TIME, local_date
from tally.service.accounts import AccountStore
from tally.store import StoreError

__all__ = [
    "BranchPublicity",
    "CaseworkState",
    "PublicitySource",
    "Refusal",
    "casework_of",
    "lang_of",
    "refusal",
    "render",
    "status_of",
    "wants_json",
]

TEMPLATES: Final = Path(__file__).parent.parent / "templates" / "casework"
LANG_COOKIE: Final = "casework_lang"
TOKEN_CHARS: Final = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")

# Refusal code → HTTP status (spec/procedure.md RP-9.4: 413 for a photo's size, 422 for the
# other photo and content problems); any other casework refusal is 409.
_STATUS: Final = {
    "report.photo_too_large": 413,
    "report.too_many_photos": 422,
    "report.photo_type": 422,
    "report.photo_unreadable": 422,
    "report.photo_too_many_pixels": 422,
    "report.empty": 422,
    "report.too_long": 422,
    "report.where_too_long": 422,
    "report.when_format": 422,
    "report.when_future": 422,
    "report.no_note": 422,
    "objection.empty": 422,
    "objection.too_long": 422,
    "objection.objector": 422,
    "objection.about_unknown": 422,
    "objection.no_conclusion": 422,
    "objection.rate_limited": 429,
    "objection.lookup_locked": 429,
    "objection.lookup_wrong": 403,
    "casework.branch_unknown": 422,
    "casework.deadline": 422,
    "case.reason": 422,
    "case.account": 422,
    "case.finding": 422,
    "case.effect_invalid": 422,
    "case.duplicate_of": 422,
    "case.unknown": 404,
    "case.not_assignee": 403,
    "case.role": 403,
    "case.other_branch": 403,
    "case.token": 400,
    "casework.csrf": 403,
    "casework.signin": 401,
    "reporter.unknown": 404,
    "reporter.id_format": 422,
    "reporter.group_unknown": 422,
    "reporter.name": 422,
    "reporter.phone": 422,
    "reporter.code_wrong": 401,
    "reporter.locked": 429,
    "signin.wrong": 401,
    "signin.locked": 429,
}


def status_of(error: BilingualError) -> int:
    """The HTTP status of a refusal (a store that cannot be used: 503; any other: 409)."""
    if isinstance(error, StoreError):
        return 503
    return _STATUS.get(error.code, 409)


class Refusal(BilingualError):
    """A refusal of the casework pages themselves (session, CSRF, token, role, rate)."""

    code = "casework.refused"


@dataclass(frozen=True, slots=True)
class BranchPublicity:
    """A branch open to objections (RP-8.6): its publicity dates and its elected, from its
    ``election.concluded`` (RP-7.2)."""

    publicity_end: date
    elected: tuple[tuple[str, str], ...]  # (member id, name), in the notice's order
    publicity_start: date | None = None


class PublicitySource(Protocol):
    """Which branches are open to objections now (from ``election.concluded`` until the
    appointment, RP-8.6): ``tally.service.casework.publicity``."""

    def publicity(self, branch: str) -> BranchPublicity | None:
        """The branch's publicity, or None while it is not open to objections."""
        ...

    def unavailable(self) -> tuple[str, str] | None:
        """Why no branch can be open at all (zh, en), or None."""
        ...


def _now() -> datetime:
    return datetime.now(TOWN_TIME)


@dataclass
class Window:
    """Events per key in a sliding window (in memory only: addresses are never stored)."""

    seconds: float
    limit: int
    clock: Callable[[], float] = time.monotonic
    events: dict[str, deque[float]] = field(default_factory=dict)

    def full(self, key: str) -> bool:
        q = self.events.get(key)
        if q is None:
            return False
        cutoff = self.clock() - self.seconds
        while q and q[0] <= cutoff:
            q.popleft()
        if not q:
            del self.events[key]
            return False
        return len(q) >= self.limit

    def add(self, key: str) -> None:
        self.events.setdefault(key, deque()).append(self.clock())


@dataclass
class ReporterSession:
    reporter: str
    csrf: str
    expires: float
    stamp: str = ""  # the access code's stamp at sign-in (RP-9.2): a new code ends the session


class CaseworkState:
    """The open casework file and what the pages keep in memory.

    The store's SQLite connection belongs to one thread: every call runs there, under one lock
    (``run``); the file is opened again when another program (``tally casework register``) wrote
    to it since."""

    def __init__(
        self,
        *,
        path: Path,
        accounts: AccountStore,
        publicity: PublicitySource,
        calendar: WorkingDayCalendar,
        clock: Callable[[], datetime] = _now,
        random: Randomness = secrets.token_bytes,
        signer: keys.Signer | None = None,
    ) -> None:
        self.path = path
        self.accounts = accounts
        self.publicity = publicity
        self.calendar = calendar
        self.clock = clock
        self.random = random
        self.signer = signer  # the casework key (RP-1.2): signs the day checkpoints
        self.thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="casework")
        self.store: CaseworkStore = self.thread.submit(self._open).result()
        self.lock = asyncio.Lock()
        self.reporter_sessions: dict[str, ReporterSession] = {}
        self.reporter_failures: dict[str, tuple[int, float]] = {}  # client → (count, until)
        self.objections_per_client = Window(3600.0, 5)  # RP-8.2: 5 an hour
        self.lookup_failures = Window(3600.0, 10)  # RP-8.3: 10 wrong codes an hour
        self.hash_limiter: anyio.CapacityLimiter | None = None

    def hashers(self) -> anyio.CapacityLimiter:
        if self.hash_limiter is None:
            self.hash_limiter = anyio.CapacityLimiter(2)
        return self.hash_limiter

    async def run(self, fn: Callable[[CaseworkStore], Any]) -> Any:
        """``fn(store)`` on the store's thread under the lock."""
        async with self.lock:
            loop = asyncio.get_running_loop()
            return await loop.run_in_executor(self.thread, self._fresh_then, fn)

    def _open(self) -> CaseworkStore:
        """The casework file, its provisional due dates settled on the calendar (RP-8.4a)."""
        store = CaseworkStore.open(self.path)
        store.use_calendar(self.calendar)
        return store

    def _fresh_then(self, fn: Callable[[CaseworkStore], Any]) -> Any:
        if self.store.changed_elsewhere():
            fresh = self._open()
            self.store.close()
            self.store = fresh
        self._close_day()
        return fn(self.store)

    def _close_day(self) -> None:
        """(RP-11.4) The ``day <date>`` checkpoint of the last entry's day, once that day is over:
        made before anything else of a later day is read or written, so it covers that day's
        entries exactly (the service does not wait for 23:59)."""
        last = self.store.ledger.last_at
        if self.signer is None or last is None:
            return
        day = local_date(last)
        if day >= local_date(self.clock()):
            return
        reason = f"day {day.isoformat()}"
        made = {text.split("\n")[3] for _, text in self.store.checkpoint_texts()}
        if reason not in made:
            self.store.checkpoint(reason, self.signer)


def casework_of(request: Request) -> CaseworkState:
    st: CaseworkState = request.app.state.casework
    return st


def lang_of(request: Request) -> str:
    """``?lang=``, else the language cookie, else the service's default."""
    q = request.query_params.get("lang")
    if q in ("zh", "en"):
        return q
    c = request.cookies.get(LANG_COOKIE)
    if c in ("zh", "en"):
        return c
    return "en" if request.app.state.service.config.lang == "en" else "zh"


def wants_json(request: Request) -> bool:
    """The phone page's script asks for JSON; a plain form post gets a page."""
    return "application/json" in request.headers.get("accept", "")


def submission_token() -> str:
    """A fresh one-time token for a form (RP-8.2 "Replays")."""
    return secrets.token_urlsafe(18)


def token_ok(token: str) -> bool:
    return 16 <= len(token) <= 64 and set(token) <= TOKEN_CHARS


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


_env = jinja2.Environment(
    loader=jinja2.FileSystemLoader(TEMPLATES),
    autoescape=jinja2.select_autoescape(default=True),
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


def render(request: Request, template: str, ctx: dict[str, Any], *, status: int = 200) -> Response:
    """The page ``template`` with ``ctx`` and what every casework page shows (the language switch,
    the page's error)."""
    lang = lang_of(request)

    def L(zh: str, en: str) -> str:
        return zh if lang == "zh" else en

    here = ctx.pop("back", None) or str(request.url.path)
    switch = {k: v for k, v in request.query_params.items() if k != "lang"}
    full = {
        "L": L,
        "lang": lang,
        "error": None,
        "notice": None,
        "lang_zh": here + "?" + urlencode({**switch, "lang": "zh"}),
        "lang_en": here + "?" + urlencode({**switch, "lang": "en"}),
        **ctx,
    }
    response = HTMLResponse(_env.get_template(template).render(full), status_code=status)
    q = request.query_params.get("lang")
    if q in ("zh", "en"):
        secure = request.app.state.service.config.secure_cookies
        response.set_cookie(
            LANG_COOKIE, q, max_age=365 * 86400, samesite="strict", secure=secure, path="/"
        )
    return response


def refusal(
    request: Request,
    error: BilingualError,
    template: str,
    ctx: dict[str, Any],
) -> Response:
    """A refusal: JSON (``ok``, ``code``, ``message``, ``zh``, ``en``, ``clause``) for the page's
    script, else ``template`` again with the message and what was typed (nothing lost)."""
    status = status_of(error)
    message = error.message(lang_of(request))
    if wants_json(request):
        body = {
            "ok": False,
            "code": error.code,
            "message": message,
            "zh": error.zh,
            "en": error.en,
            "clause": error.clause,
        }
        return JSONResponse(body, status_code=status)
    return render(request, template, {**ctx, "error": message, "code": error.code}, status=status)
