"""What every procedure route shares: the open procedure file and its lock, the reader's language,
the templates and the refusal pages (the routes are in ``routes``, the commands in ``commands``).

One thread owns the :class:`~tally.procedure_store.ProcedureStore` (SQLite connections belong to
the thread that opened them); every read and write runs there under one asyncio lock. Before each
call the file's stored size is compared with the store's: when the CLI beside the service
appended (a stock, a town act), the file is opened again, so the pages never answer from a stale
log and never refuse a write for it (``store.stale``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlencode

import anyio
import jinja2
from fastapi import Request
from fastapi.responses import HTMLResponse, Response

import keys
from tally.log.checkpoint import signer_name
from tally.procedure_store import ProcedureStore
from tally.service.accounts import AccountStore, UserSession
from tally.session_errors import SessionError

__all__ = [
    "LANG_COOKIE",
    "NAV",
    "PREFIX",
    "ProcedureState",
    "ScrutineerKeyFile",
    "lang_of",
    "msg",
    "render",
    "scrutineer_key_files",
    "state_of",
]

T = TypeVar("T")
PREFIX = "/station/procedure"
TEMPLATES = Path(__file__).parent.parent / "templates" / "procedure"
LANG_COOKIE = "tally_lang"
NAV = (
    ("overview", f"{PREFIX}/", "程序概况", "Overview"),
    ("session", f"{PREFIX}/session", "会议与发票", "Sessions"),
    ("enter", f"{PREFIX}/enter", "录入推荐票、测评票", "Enter ballots"),
    ("proposal", f"{PREFIX}/proposal", "初步人选", "Preliminary list"),
    ("vetting", f"{PREFIX}/vetting", "考察审查", "Vetting"),
    ("cosign", f"{PREFIX}/cosign", "监票人签署", "Co-signatures"),
)


def msg(lang: str, zh: str, en: str) -> str:
    return zh if lang == "zh" else en


@dataclass(frozen=True, slots=True)
class ScrutineerKeyFile:
    """A scrutineer's key file given at start-up (still encrypted): its place in the
    definition's scrutineer keys, the scrutineer's roster name and the signer name its lines
    carry."""

    path: Path
    index: int
    name: str
    signer: str


def scrutineer_key_files(store: ProcedureStore, paths: tuple[Path, ...]) -> list[ScrutineerKeyFile]:
    """(RP-1.2) Each key file read (not unlocked) and matched to a scrutineer of the definition.

    Raises:
        SessionError: ``procedure.scrutineer_key`` (unreadable, another role, not one of the
            definition's scrutineer keys, or given twice).
    """
    p = store.signed.procedure
    by_name = {signer_name(k): i for i, k in enumerate(store.scrutineer_keys)}
    out: list[ScrutineerKeyFile] = []
    for path in paths:
        try:
            public = keys.parse_key_file(path.read_bytes()).public_key
        except (OSError, keys.KeysError):
            public = None
        name = signer_name(public) if public is not None else ""
        if public is None or name not in by_name or any(k.signer == name for k in out):
            raise SessionError(
                "procedure.scrutineer_key",
                zh=f"{path} 不是本换届程序定义中的监票人密钥（或重复给出）",
                en=f"{path} is not a scrutineer key of the procedure (or is given twice)",
            )
        i = by_name[name]
        out.append(ScrutineerKeyFile(path, i, p.member(p.officials.scrutineers[i]).name, name))
    return out


@dataclass
class ProcedureState:
    """The open procedure file, the lock over it, the accounts and the work group's signer."""

    path: Path
    accounts: AccountStore
    signer: keys.Signer | None
    scrutineer_keys: tuple[Path, ...] = ()
    lang: str = "zh"
    secure_cookies: bool = False
    flashes: dict[str, list[tuple[str, str, str]]] = field(default_factory=dict)
    hash_slots: int = 2
    thread: ThreadPoolExecutor = field(
        default_factory=lambda: ThreadPoolExecutor(max_workers=1, thread_name_prefix="procedure")
    )
    scrutineers: tuple[ScrutineerKeyFile, ...] = ()
    _store: ProcedureStore | None = None
    _lock: asyncio.Lock | None = None
    _limiter: anyio.CapacityLimiter | None = None

    def open(self) -> None:
        """Open the file on the owning thread (at start-up: a damaged file, or a scrutineer key
        file that is not the definition's, stops the service)."""
        self._store = store = self.thread.submit(ProcedureStore.open, self.path).result()
        try:
            self.scrutineers = tuple(scrutineer_key_files(store, self.scrutineer_keys))
        except SessionError:
            self.close()
            raise

    def hashers(self) -> anyio.CapacityLimiter:
        if self._limiter is None:
            self._limiter = anyio.CapacityLimiter(self.hash_slots)
        return self._limiter

    async def run(self, fn: Callable[[ProcedureStore], T]) -> T:
        """``fn(store)`` on the owning thread, under the lock, on a fresh view of the file."""
        if self._lock is None:
            self._lock = asyncio.Lock()
        async with self._lock:
            loop = asyncio.get_running_loop()
            return await loop.run_in_executor(self.thread, self._fresh_then, fn)

    def _fresh_then(self, fn: Callable[[ProcedureStore], T]) -> T:
        store = self._store
        assert store is not None, "ProcedureState.open() first"
        if store.stored_size() != store.ledger.size:
            fresh = ProcedureStore.open(self.path)  # StoreError: the file fails its checks
            store.close()
            self._store = store = fresh
        return fn(store)

    def close(self) -> None:
        if self._store is not None:
            self.thread.submit(self._store.close).result()
            self._store = None
        self.thread.shutdown(wait=False)


def state_of(request: Request) -> ProcedureState:
    st: ProcedureState = request.app.state.procedure
    return st


def lang_of(request: Request) -> str:
    """``?lang=``, else the language cookie, else the service's default."""
    q = request.query_params.get("lang")
    if q in ("zh", "en"):
        return q
    c = request.cookies.get(LANG_COOKIE)
    if c in ("zh", "en"):
        return c
    return "en" if state_of(request).lang == "en" else "zh"


_env = jinja2.Environment(
    loader=jinja2.FileSystemLoader(TEMPLATES),
    autoescape=jinja2.select_autoescape(default=True),
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


def render(request: Request, template: str, ctx: dict[str, Any], *, status: int = 200) -> Response:
    """The page ``template`` with ``ctx`` and what every page shows (navigation, the language
    switch, the official's flashes, shown once)."""
    lang = lang_of(request)
    st = state_of(request)
    user: UserSession | None = ctx.get("user")
    flashes = st.flashes.pop(user.session_hash, []) if user else []
    switch = {k: v for k, v in request.query_params.items() if k != "lang"}
    here = str(request.url.path) if request.method == "GET" else f"{PREFIX}/"
    full = {
        "L": lambda zh, en: zh if lang == "zh" else en,
        "lang": lang,
        "nav": NAV,
        "prefix": PREFIX,
        "flashes": [(k, msg(lang, zh, en)) for k, zh, en in flashes],
        "error": None,
        "page": "",
        "lang_zh": here + "?" + urlencode({**switch, "lang": "zh"}),
        "lang_en": here + "?" + urlencode({**switch, "lang": "en"}),
        "role_label": msg(lang, user.account.role.zh, user.account.role.en) if user else "",
        "csrf": user.csrf if user else "",
        **ctx,
    }
    response = HTMLResponse(_env.get_template(template).render(full), status_code=status)
    q = request.query_params.get("lang")
    if q in ("zh", "en"):
        response.set_cookie(
            LANG_COOKIE, q, max_age=365 * 86400, samesite="strict", secure=st.secure_cookies
        )
    return response
