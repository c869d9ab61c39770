"""The service's side of "received, then checked" (spec/remote-v2.md RV-4.5; ADR "remote casts
are received, then checked").

A received cast is handed to the checker process (``tally.remote_checker.Checker``) as soon as its
receipt is answered; each verdict comes back to the event loop and the verdicts that arrived
meanwhile are applied together on the election thread (``ServiceState.run``: one transaction). On
start the casts still ``received`` in the file are queued again. A checker that dies leaves its
casts ``received`` (the close checks them, RV-4.3) and the next cast starts a new one.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections.abc import AsyncIterator, Callable
from concurrent.futures import Future
from typing import Any

from fastapi import FastAPI

from keys.remote_ballot import BallotContext
from tally.election import ElectionSession
from tally.remote_checker import Checker, Verdict, apply_verdicts
from tally.service.app import ServiceState

__all__ = ["CastChecks", "install"]

log = logging.getLogger("tally.service.remote_checks")


def _remote_open(s: ElectionSession) -> bool:
    r = s.meeting.remote
    return r is not None and not r.closed


def _ballot_context(s: ElectionSession) -> BallotContext:
    return s.remote.ballot_context()


def _apply_verdicts(s: ElectionSession, verdicts: list[Verdict]) -> None:
    apply_verdicts(s.remote, verdicts)


def _received_rows(s: ElectionSession) -> list[tuple[str, str, str, str, bytes]]:
    r = s.meeting.remote
    if r is None or r.closed:
        return []
    return s.store.received_casts()


class CastChecks:
    """The received casts on their way through the checker, and their verdicts' way back."""

    def __init__(self, state: ServiceState) -> None:
        self.state = state
        self.checker: Checker | None = None  # made on first use: the ballot context needs the key
        self._starting: asyncio.Future[Checker] | None = None
        self._verdicts: list[Verdict] = []
        self._applying: asyncio.Task[None] | None = None
        self._outstanding = 0
        self._idle = asyncio.Event()
        self._idle.set()

    @property
    def outstanding(self) -> int:
        """Casts handed to the checker whose verdict is not applied yet."""
        return self._outstanding

    async def _ensure(self) -> Checker:
        if self.checker is not None:
            return self.checker
        if self._starting is None or (self._starting.done() and self._starting.exception()):
            self._starting = asyncio.ensure_future(self._make())
        return await asyncio.shield(self._starting)

    async def _make(self) -> Checker:
        ctx = await self.state.run(_ballot_context)
        checker = Checker(ctx)
        # The process starts in a worker thread, never on the event loop.
        await asyncio.get_running_loop().run_in_executor(None, checker.start)
        self.checker = checker
        return checker

    async def start(self) -> None:
        """Start the checker at the service's start when remote voting is open."""
        if await self.state.run(_remote_open):
            await self._ensure()

    async def requeue(self) -> int:
        """(RV-4.5) Queue every cast still ``received`` in the file (at start). Returns how many."""
        rows = await self.state.run(_received_rows)
        for receipt, token, _prefix, _signature, ballot in rows:
            await self.submit(receipt, token, ballot)
        return len(rows)

    async def submit(self, receipt: str, token: str, ballot: bytes) -> None:
        """Hand one received cast (``token`` base64, ``ballot`` its JCS bytes, as stored) to the
        checker."""
        checker = await self._ensure()
        generation, future = checker.submit(receipt, token, ballot)
        loop = asyncio.get_running_loop()
        self._outstanding += 1
        self._idle.clear()

        def done(f: Future[Verdict]) -> None:  # in the pool's thread: back to the loop
            with contextlib.suppress(RuntimeError):  # the loop is closed: the service stopped
                loop.call_soon_threadsafe(self._done, checker, generation, f)

        future.add_done_callback(done)

    def _done(self, checker: Checker, generation: int, f: Future[Verdict]) -> None:
        if f.cancelled():  # the service is stopping: the cast stays received for the next start
            self._settled(1)
            return
        try:
            verdict = f.result()
        except Exception:  # BrokenProcessPool: the cast stays received
            log.warning("remote checker failed; the cast stays received until the close checks it")
            checker.broken(generation)
            self._settled(1)
            return
        self._verdicts.append(verdict)
        if self._applying is None or self._applying.done():
            self._applying = asyncio.create_task(self._apply())

    async def _apply(self) -> None:
        while self._verdicts:
            batch, self._verdicts = self._verdicts, []
            try:
                await self.state.run(functools.partial(_apply_verdicts, verdicts=batch))
            except Exception:  # the store refused: the rows stay received (the close checks them)
                log.exception("remote checker: applying %d verdicts failed", len(batch))
            self._settled(len(batch))

    def _settled(self, n: int) -> None:
        self._outstanding -= n
        if self._outstanding <= 0:
            self._outstanding = 0
            self._idle.set()

    async def idle(self) -> None:
        """Wait until every cast handed to the checker has its verdict applied (tests, bench)."""
        await self._idle.wait()

    def shutdown(self) -> None:
        if self.checker is not None:
            self.checker.shutdown()


def install(app: FastAPI, state: ServiceState) -> CastChecks:
    """Keep a ``CastChecks`` on ``app.state.remote_checks``; the app's lifespan queues the casts
    still received at start and stops the checker at the end."""
    checks = CastChecks(state)
    app.state.remote_checks = checks
    inner: Callable[[Any], contextlib.AbstractAsyncContextManager[Any]] = (
        app.router.lifespan_context
    )

    @contextlib.asynccontextmanager
    async def lifespan(a: Any) -> AsyncIterator[Any]:
        async with inner(a) as value:
            try:
                await checks.start()
                await checks.requeue()
            except Exception:  # no remote voting open, a damaged file: nothing to queue
                log.debug("remote checker: nothing requeued", exc_info=True)
            try:
                yield value
            finally:
                checks.shutdown()

    app.router.lifespan_context = lifespan
    return checks
