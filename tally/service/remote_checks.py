"""The service's side of "received, then checked" (spec/remote-v2.md RV-4.5; ADR "remote casts
are received, then checked").

A received cast waits in memory, once its receipt is answered, until the checker process
(``tally.remote_checker.Checker``) is given it: one cast at a time, and only when no cast has been
on its way for ``QUIET_SECONDS`` or the oldest waiting cast has waited ``MAX_HOLD_SECONDS`` (the
checker holds back while casts are arriving, so a burst of casts has the service's core to itself,
and it always finishes: ADR "the checker holds back while casts arrive"). Each verdict comes back
to the event loop and the verdicts that arrived meanwhile are applied together on the election
thread (``ServiceState.run``: one transaction). On start the casts still ``received`` in the file
are queued again. A checker that dies leaves its casts ``received`` (the close checks them,
RV-4.3) and the next cast starts a new one.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import time
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterator
from concurrent.futures import Future
from typing import Any, Final

from fastapi import FastAPI

from keys.remote_ballot import BallotContext
from tally.election import ElectionSession
from tally.remote_checker import Checker, Verdict, apply_verdicts
from tally.service.app import ServiceState

__all__ = ["MAX_HOLD_SECONDS", "QUIET_SECONDS", "CastChecks", "hold_delay", "install"]

log = logging.getLogger("tally.service.remote_checks")

# The checker is given a cast once no cast has been on its way for this long ...
QUIET_SECONDS: Final = 0.05
# ... or once the oldest cast waiting for it has waited this long: under a steady stream of casts
# it then checks at its own pace (at nice 10), so every cast is checked however long casts come.
MAX_HOLD_SECONDS: Final = 2.0


def hold_delay(
    now: float, oldest: float, last_cast: float, casting: int, *, quiet: float, max_hold: float
) -> float:
    """Seconds to wait before the checker is given the oldest waiting cast (0: now).

    ``oldest`` is when that cast was queued, ``last_cast`` when the last cast request ended,
    ``casting`` how many cast requests are on their way (all on the ``time.monotonic`` clock):
    the checker waits while casts arrive, until ``quiet`` seconds passed without one, but never
    past ``max_hold`` seconds after ``oldest``. While a cast is on its way only ``max_hold``
    counts: its end is looked at again (``CastChecks.arriving``)."""
    overdue = max_hold - (now - oldest)
    if overdue <= 0:
        return 0.0
    if casting:
        return overdue
    return max(0.0, min(quiet - (now - last_cast), overdue))


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

    def __init__(
        self,
        state: ServiceState,
        *,
        quiet_seconds: float = QUIET_SECONDS,
        max_hold_seconds: float = MAX_HOLD_SECONDS,
    ) -> None:
        self.state = state
        self.checker: Checker | None = None  # made on first use: the ballot context needs the key
        self.quiet_seconds = quiet_seconds
        self.max_hold_seconds = max_hold_seconds
        self._starting: asyncio.Future[Checker] | None = None
        self._verdicts: list[Verdict] = []
        self._applying: asyncio.Task[None] | None = None
        self._outstanding = 0
        self._idle = asyncio.Event()
        self._idle.set()
        # The casts received and not yet given to the checker, each with the moment it was
        # queued (in memory only, never stored: RV-4.7), oldest first.
        self._waiting: deque[tuple[str, str, bytes, float]] = deque()
        self._in_checker = 0  # given to the checker, verdict not back yet (at most one)
        self._casting = 0  # cast requests on their way (``arriving``)
        self._last_cast = float("-inf")
        self._timer: asyncio.Handle | None = None

    @property
    def outstanding(self) -> int:
        """Casts received here whose verdict is not applied yet (waiting or being checked)."""
        return self._outstanding

    @property
    def waiting(self) -> int:
        """Casts received here and not yet given to the checker."""
        return len(self._waiting)

    @contextlib.contextmanager
    def arriving(self) -> Iterator[None]:
        """Around a cast request, from its head to its answer (the cast route's class,
        remote.py): while it lasts and for ``quiet_seconds`` after, the checker is given nothing
        new (unless a cast is overdue)."""
        self._casting += 1
        try:
            yield
        finally:
            self._casting -= 1
            self._last_cast = time.monotonic()
            self._pump()

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
        """Queue one received cast (``token`` base64, ``ballot`` its JCS bytes, as stored) for the
        checker, which is given it when ``hold_delay`` allows."""
        await self._ensure()
        self._waiting.append((receipt, token, ballot, time.monotonic()))
        self._outstanding += 1
        self._idle.clear()
        self._pump()

    def _pump(self) -> None:
        """Give the checker the oldest waiting cast if it has none and the hold is over;
        otherwise look again when it may be (a timer on the event loop)."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        checker = self.checker
        if checker is None or self._in_checker or not self._waiting:
            return
        delay = hold_delay(
            time.monotonic(),
            self._waiting[0][3],
            self._last_cast,
            self._casting,
            quiet=self.quiet_seconds,
            max_hold=self.max_hold_seconds,
        )
        loop = asyncio.get_running_loop()
        if delay > 0:
            self._timer = loop.call_later(delay, self._pump)
            return
        receipt, token, ballot, _ = self._waiting.popleft()
        try:
            generation, future = checker.submit(receipt, token, ballot)
        except Exception:  # a pool shut down or broken at the submit: the cast stays received
            log.warning("remote checker failed; the cast stays received until the close checks it")
            self._settled(1)
            self._timer = loop.call_soon(self._pump)
            return
        self._in_checker += 1

        def done(f: Future[Verdict]) -> None:  # in the pool's thread: back to the loop
            with contextlib.suppress(RuntimeError):  # the loop is closed: the service stopped
                loop.call_soon_threadsafe(self._done, checker, generation, f)

        future.add_done_callback(done)

    def _done(self, checker: Checker, generation: int, f: Future[Verdict]) -> None:
        self._in_checker -= 1
        if f.cancelled():  # the service is stopping: the cast stays received for the next start
            self._settled(1)
            return
        try:
            verdict = f.result()
        except Exception:  # BrokenProcessPool: the cast stays received
            log.warning("remote checker failed; the cast stays received until the close checks it")
            checker.broken(generation)
            self._settled(1)
            self._pump()
            return
        self._verdicts.append(verdict)
        if self._applying is None or self._applying.done():
            self._applying = asyncio.create_task(self._apply())
        self._pump()

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
        """Wait until every cast queued here has its verdict applied, or failed (tests, bench)."""
        await self._idle.wait()

    def shutdown(self) -> None:
        """Stop the checker; the casts still waiting stay ``received`` for the next start."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._settled(len(self._waiting))
        self._waiting.clear()
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
