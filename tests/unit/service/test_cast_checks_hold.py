"""The checker holds back while casts arrive (tally/service/remote_checks.py, spec/remote-v2.md
RV-4.5): it is given one cast at a time, none while a burst of casts lasts, and the oldest waiting
cast once it waited ``max_hold_seconds`` however long the casts keep coming, so every cast is
checked. A fake checker and a fake election thread: the test says when a verdict comes back."""

from __future__ import annotations

import asyncio
import functools
from concurrent.futures import Future
from typing import Any, cast

import pytest

from tally.remote_checker import Verdict
from tally.service.remote_checks import CastChecks, hold_delay

QUIET, HOLD = 0.05, 2.0


@pytest.mark.parametrize(
    ("now", "oldest", "last_cast", "casting", "expected"),
    [
        (10.0, 9.99, 9.0, 0, 0.0),  # no cast for a second: now
        (10.0, 9.99, 9.98, 0, QUIET - 0.02),  # the last cast ended 20 ms ago: the rest of QUIET
        (10.0, 9.99, 9.0, 1, HOLD - 0.01),  # a cast on its way: until overdue (or it ends)
        (10.0, 8.0, 9.999, 3, 0.0),  # the oldest waited HOLD: now, casts or not
        (10.0, 7.0, 10.0, 0, 0.0),  # long overdue
        (10.0, 8.0 + QUIET / 2, 10.0, 0, QUIET / 2),  # never past HOLD after the oldest
    ],
)
def test_the_hold_is_over_when_casts_stop_for_quiet_or_the_oldest_waited_max_hold(
    now: float, oldest: float, last_cast: float, casting: int, expected: float
) -> None:
    assert hold_delay(now, oldest, last_cast, casting, quiet=QUIET, max_hold=HOLD) == pytest.approx(
        expected
    )


class _Checker:
    """Records what it is given; each verdict comes when the test calls ``release`` (or at once
    with ``auto``)."""

    def __init__(self, *, auto: bool = False) -> None:
        self.auto = auto
        self.given: list[str] = []
        self.open: list[tuple[str, Future[Verdict]]] = []
        self.most_open = 0

    def submit(self, receipt: str, token: str, ballot: bytes) -> tuple[int, Future[Verdict]]:
        future: Future[Verdict] = Future()
        self.given.append(receipt)
        self.open.append((receipt, future))
        self.most_open = max(self.most_open, len(self.open))
        if self.auto:
            asyncio.get_running_loop().call_soon(self.release)
        return 0, future

    def release(self) -> None:
        receipt, future = self.open.pop(0)
        future.set_result(Verdict(receipt))

    def broken(self, generation: int) -> None:
        pass

    def shutdown(self) -> None:
        pass


class _State:
    """The election thread: records the verdicts applied."""

    def __init__(self) -> None:
        self.applied: list[str] = []

    async def run(self, fn: Any) -> None:
        assert isinstance(fn, functools.partial)
        self.applied.extend(v.receipt for v in fn.keywords["verdicts"])


def _checks(checker: _Checker, state: _State, quiet: float, hold: float) -> CastChecks:
    checks = CastChecks(cast(Any, state), quiet_seconds=quiet, max_hold_seconds=hold)
    checks.checker = cast(Any, checker)
    return checks


async def _until(condition: Any, timeout: float = 10.0) -> None:
    async def poll() -> None:
        while not condition():
            await asyncio.sleep(0.005)

    await asyncio.wait_for(poll(), timeout)


def test_a_burst_of_casts_gives_the_checker_nothing_then_one_cast_at_a_time() -> None:
    async def main() -> None:
        checker, state = _Checker(), _State()
        checks = _checks(checker, state, QUIET, 60.0)
        receipts = [f"r{i:02d}" for i in range(12)]
        for r in receipts:  # back to back: a cast is always on its way but between two of them
            with checks.arriving():
                await asyncio.sleep(0.002)
            await checks.submit(r, "t", b"{}")
        assert checker.given == [] and checks.waiting == len(receipts)
        await _until(lambda: checker.given)  # QUIET after the burst
        for n in range(1, len(receipts) + 1):
            await _until(lambda n=n: len(checker.given) == n)
            assert len(checker.open) == 1  # the next only once this verdict is back
            checker.release()
        await asyncio.wait_for(checks.idle(), 10)
        assert checker.given == receipts and sorted(state.applied) == receipts
        assert checker.most_open == 1 and checks.outstanding == 0

    asyncio.run(main())


def test_under_a_steady_stream_of_casts_the_checker_still_checks_every_one() -> None:
    async def main() -> None:
        checker, state = _Checker(auto=True), _State()
        # Never quiet for long enough: only the oldest cast's wait gives the checker work.
        checks = _checks(checker, state, 3600.0, 0.05)
        sent: list[str] = []
        while len(checker.given) < 5:
            assert len(sent) < 5000, "the checker was given nothing while casts kept coming"
            with checks.arriving():
                await asyncio.sleep(0.002)
            sent.append(f"r{len(sent):04d}")
            await checks.submit(sent[-1], "t", b"{}")
        assert checks.waiting > 0  # the stream is still outrunning the hold
        await asyncio.wait_for(checks.idle(), 30)  # the stream stopped: every cast is checked
        assert checker.given == sent and sorted(state.applied) == sent
        assert checker.most_open == 1

    asyncio.run(main())


def test_a_lone_cast_is_given_to_the_checker_once_quiet_without_waiting_for_max_hold() -> None:
    async def main() -> None:
        checker, state = _Checker(auto=True), _State()
        checks = _checks(checker, state, QUIET, 3600.0)
        with checks.arriving():
            pass
        await checks.submit("r", "t", b"{}")
        await asyncio.wait_for(checks.idle(), 30)  # far less than max_hold
        assert checker.given == ["r"] and state.applied == ["r"]

    asyncio.run(main())


def test_stopping_leaves_the_waiting_casts_for_the_next_start_and_settles_them_here() -> None:
    async def main() -> None:
        checker, state = _Checker(), _State()
        checks = _checks(checker, state, 3600.0, 3600.0)
        with checks.arriving():
            await checks.submit("r", "t", b"{}")
        assert checks.waiting == 1 and checks.outstanding == 1
        checks.shutdown()
        await asyncio.wait_for(checks.idle(), 1)
        assert checker.given == [] and state.applied == [] and checks.waiting == 0

    asyncio.run(main())
