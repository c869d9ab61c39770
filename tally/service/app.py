"""The application factory and what every route shares (a thin shell over tally.election).

One service serves one election file. Every request that changes the election takes the
election lock, reopens nothing (the session is kept) and commits through the session, so the
service and the CLI share one mechanism and one set of checks. Routers live beside this module:
``station`` (the work group's pages), ``remote`` (remote voting), ``bulletin`` (public board),
``casework`` (objections and reports, when the service has a casework file).
"""

from __future__ import annotations

import asyncio
import functools
import gc
import os
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

import keys
from tally.core.errors import TallyError
from tally.election import ElectionSession
from tally.remote_voting import RemoteCastV2
from tally.service import board_snapshot
from tally.service.api_docs import mount_docs
from tally.service.board_snapshot import BoardSnapshot
from tally.service.limits import SECURITY_HEADERS, RequestLimits
from tally.service.limits import install as install_limits
from tally.service.transport import TransportGate
from tally.session_config import SessionConfig
from tally.session_errors import SessionError
from tally.store import StoreError

__all__ = ["SECURITY_HEADERS", "ServiceConfig", "ServiceState", "create_app", "state_of"]

# A bound on one group commit, so one transaction's latency stays short under a burst.
MAX_CASTS_PER_COMMIT = 256
# A board read schedules a look at the file (for writes by another program, the CLI beside the
# service) when no request has looked for this long; the read itself never waits for it.
BOARD_RECHECK_SECONDS = 1.0


_HTTP_MESSAGES = {
    400: ("请求格式不正确", "malformed request"),
    404: ("没有这个地址", "not found"),
    405: ("不支持这种请求方法", "method not allowed"),
}


@dataclass
class ServiceConfig:
    """What the service serves; ``data_dir`` holds files the routers create (e.g. remote keys)."""

    election_path: Path
    data_dir: Path
    work_group_key: Path | None = None  # unlocked at start-up (TALLY_PASSPHRASE) for checkpoints
    # Scrutineers' key files, never unlocked at start-up: a scrutineer types the passphrase at the
    # station to confirm a ballot entered as invalid (R8.5); the key is opened for that signature.
    scrutineer_keys: tuple[Path, ...] = ()
    lang: str = "zh"
    secure_cookies: bool = False  # True behind TLS; loopback demo runs plain HTTP
    # Served over HTTPS by `tally serve --tls-cert/--tls-key`: Secure cookies, and HSTS on every
    # response (tally.service.transport).
    tls: bool = False
    # The town's casework file (spec/procedure.md §8, §9): its pages are mounted when given.
    casework_path: Path | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.tls:
            self.secure_cookies = True


class ServiceState:
    """The open election and the lock that serialises every change to it."""

    def __init__(self, config: ServiceConfig) -> None:
        self.config = config
        # SQLite connections belong to the thread that opened them: one thread owns the session,
        # whichever thread runs the event loop (uvicorn, a test client's portal).
        self.thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="election")
        # The work group's passphrase unlocks the remote issuer key (redemptions), as the key below;
        # the data folder holds it.
        self.session_config = SessionConfig(
            config.election_path,
            passphrase=os.environ.get("TALLY_PASSPHRASE", ""),
            data_dir=config.data_dir,
        )
        self.session = self.thread.submit(ElectionSession.open, self.session_config).result()
        self._data_version = self.thread.submit(self.session.store.data_version).result()
        # What the public board serves (board_snapshot.py): replaced after every request that
        # wrote, by one assignment; board routes read it and never take the lock.
        self._board_key: tuple[object, ...] = ()
        self._board_checked = 0.0
        self._board_recheck: asyncio.Task[None] | None = None
        # The refusal of the last reopen, while the file fails its checks (edited outside the
        # program): public reads answer with it rather than from the last good snapshot.
        self.store_error: StoreError | None = None
        self.board: BoardSnapshot = self.thread.submit(self._publish_board).result()
        # The replayed meeting is a large, long-lived object graph: move it out of the collector's
        # sight so full collections do not pause every request (tail latency under load).
        gc.collect()
        gc.freeze()
        self.lock = asyncio.Lock()
        self._pending_casts: list[
            tuple[RemoteCastV2, asyncio.Future[dict[str, Any] | SessionError]]
        ] = []
        self._cast_drain: asyncio.Task[None] | None = None
        self.signer: keys.InMemorySigner | None = None
        if config.work_group_key is not None:
            self.signer = keys.load_signer(
                config.work_group_key,
                os.environ.get("TALLY_PASSPHRASE", ""),
                expected_role=keys.Role.WORK_GROUP,
            )

    async def cast(self, cast: RemoteCastV2) -> dict[str, Any]:
        """Queue one remote cast for the next group commit; its receipt, or raise its refusal.

        Casts that arrive while a batch is being committed wait for the next one, so under load
        many casts share one transaction and one fsync (the store stays at full sync)."""
        future: asyncio.Future[dict[str, Any] | SessionError] = (
            asyncio.get_running_loop().create_future()
        )
        self._pending_casts.append((cast, future))
        if self._cast_drain is None or self._cast_drain.done():
            self._cast_drain = asyncio.create_task(self._drain_casts())
        result = await future
        if isinstance(result, SessionError):
            raise result
        return result

    async def _drain_casts(self) -> None:
        while self._pending_casts:
            batch = self._pending_casts[:MAX_CASTS_PER_COMMIT]
            del self._pending_casts[:MAX_CASTS_PER_COMMIT]
            casts = [c for c, _ in batch]
            try:
                results = await self.run(functools.partial(_cast_many, casts=casts))
            except Exception as e:  # the store refused the batch: every cast in it fails
                for _, future in batch:
                    if not future.done():
                        future.set_exception(e)
                continue
            for (_, future), result in zip(batch, results, strict=True):
                if not future.done():
                    future.set_result(result)

    def board_snapshot(self) -> BoardSnapshot:
        """The latest board snapshot, at once. When no request has looked at the file for
        ``BOARD_RECHECK_SECONDS``, a look is scheduled (it waits for the lock, the reader does not),
        so a write by another program reaches the board without a station request."""
        if time.monotonic() - self._board_checked > BOARD_RECHECK_SECONDS and (
            self._board_recheck is None or self._board_recheck.done()
        ):
            self._board_recheck = asyncio.create_task(self._recheck_board())
        if self.store_error is not None:
            raise self.store_error
        return self.board

    async def _recheck_board(self) -> None:
        try:
            await self.run(_look)
        except Exception:  # a damaged file (StoreError): the next station request reports it
            self._board_checked = time.monotonic()

    async def run(self, fn: Callable[[ElectionSession], Any]) -> Any:
        """Run ``fn`` on the session under the lock (writes are serialised; SQLite FULL sync)."""
        async with self.lock:
            loop = asyncio.get_running_loop()
            return await loop.run_in_executor(self.thread, self._fresh_then, fn)

    def _fresh_then(self, fn: Callable[[ElectionSession], Any]) -> Any:
        """On the session thread: replay the election again if another program (the CLI run
        beside the service) wrote to the file since the last call, then run ``fn``. Without
        this the service would answer from a stale state and refuse every write after it."""
        version = self.session.store.data_version()
        if version != self._data_version:
            # Open first: if the file now fails its checks (edited outside the program), every
            # request gets that StoreError (a clear 503) and the old session is left intact.
            try:
                fresh = ElectionSession.open(self.session_config)
            except StoreError as e:
                self.store_error = e
                raise
            self.store_error = None
            self.session.store.close()
            self.session = fresh
            self._data_version = fresh.store.data_version()
            gc.collect()  # as at start-up: the stale state goes, the new one leaves the GC's sight
            gc.freeze()
        try:
            return fn(self.session)
        finally:
            self._publish_board()

    def _publish_board(self) -> BoardSnapshot:
        """On the session thread, under the lock: a new board snapshot when the election changed
        (a new meeting, another session, or any row written: checkpoints and cosignatures
        change no meeting), published by one reference assignment."""
        s = self.session
        writes = s.store.writes()
        self._board_checked = time.monotonic()
        old = self._board_key
        if not old or old[0] is not s or old[1] is not s.meeting or old[2] != writes:
            self.board = board_snapshot.take(s, self.board if old else None)
            self._board_key = (s, s.meeting, writes)
        return self.board


def _cast_many(
    session: ElectionSession, casts: list[RemoteCastV2]
) -> list[dict[str, Any] | SessionError]:
    return session.remote.cast_many(casts)


def _look(session: ElectionSession) -> None:
    """Nothing: ``run`` itself reopens the file if another program wrote to it."""


def state_of(request: Request) -> ServiceState:
    state: ServiceState = request.app.state.service
    return state


def create_app(config: ServiceConfig) -> FastAPI:
    """Build the app for one election file (the routers that exist are included)."""
    app = FastAPI(
        title="党支部换届选举 / Branch election service",
        version="1",
        docs_url=None,  # served from local assets by api_docs.mount_docs
        redoc_url=None,
        openapi_url="/api/openapi.json",
    )
    mount_docs(app, "/api/openapi.json")
    app.state.service = ServiceState(config)
    # Outermost but one: body limit and deadline, security headers on every response, 413/408/422
    # refusals in the request's language (tally/service/limits.py, the one place for these).
    install_limits(app, _request_limits(config), default_lang=config.lang)
    # outermost: the public binding's paths (before any body is read) and HSTS under TLS
    app.add_middleware(TransportGate, tls=config.tls)

    @app.exception_handler(SessionError)
    @app.exception_handler(TallyError)
    async def tally_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, TallyError)
        body = exc.to_json(request.query_params.get("lang", config.lang))
        return JSONResponse({**body, "clause": exc.clause}, status_code=409)

    @app.exception_handler(StoreError)
    async def store_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StoreError)
        body = exc.to_json(request.query_params.get("lang", config.lang))
        return JSONResponse(body, status_code=503)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: Exception) -> Response:
        """An HTTPException whose detail is bare text (a body FastAPI cannot decode, such as JSON
        in invalid UTF-8; an unknown path) gets a ``code`` like every other refusal."""
        assert isinstance(exc, StarletteHTTPException)
        detail: object = exc.detail  # fastapi.HTTPException's detail may be any JSON value
        if not isinstance(detail, str):  # already structured, with its own code
            return await http_exception_handler(request, exc)
        code = "request.malformed" if exc.status_code == 400 else f"http.{exc.status_code}"
        zh, en = _HTTP_MESSAGES.get(exc.status_code, (detail, detail))
        lang = request.query_params.get("lang", config.lang)
        return JSONResponse(
            {"ok": False, "code": code, "message": zh if lang != "en" else en},
            status_code=exc.status_code,
            headers=exc.headers,
        )

    @app.get("/api/health")
    async def health() -> dict[str, Any]:
        """Liveness, and the size of the log (no ballot content), from the board snapshot: a
        health probe never queues on the election lock."""
        return {"ok": True, "log_entries": app.state.service.board_snapshot().size}

    _include_routers(app)
    return app


def _request_limits(config: ServiceConfig) -> RequestLimits:
    """The configured limits, with the casework's report form raised to its photo limits."""
    limits: RequestLimits = config.extra.get("request_limits") or RequestLimits()
    if config.casework_path is None:
        return limits
    from tally.service import casework  # noqa: PLC0415 - as the routers below

    return casework.request_limits(limits, config.casework_path)


def _include_routers(app: FastAPI) -> None:
    # The routers import ServiceState from this module, so they are imported when an app is built
    # rather than when this module loads (a cycle otherwise). Each must be there: a missing router
    # is an installation error, not a smaller service.
    from tally.service import bulletin, casework, remote, station  # noqa: PLC0415

    for module in (station, remote, bulletin, casework):
        module.register(app)
