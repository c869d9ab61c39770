"""The town report's verifier gates run several at a time (``tally.town_report.Gates``): at most
``jobs`` at once, the results in the order the gates were given whatever order they end in,
``jobs=1`` one after another in the caller's thread; a gate's exception or Ctrl-C stops the gates
not yet started and kills the verifier processes still running (no orphan), and a verifier that
outlives its time limit is killed and answers with ``TIMED_OUT``. The slow verifiers here are
stand-in processes that write their pid and sleep."""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

import pytest

from tally import town_report
from tally.town_report import Gates, run_gates, run_verifier

SLEEPER = "import os, sys, time; open(sys.argv[1], 'w').write(str(os.getpid())); time.sleep(60)"


def _slow(pidfile: Path, exits: list[int]) -> Callable[[], None]:
    """A gate whose verifier process writes its pid to ``pidfile`` and then sleeps a minute; its
    exit code goes to ``exits``."""
    return lambda: exits.append(
        run_verifier([sys.executable, "-c", SLEEPER, str(pidfile)]).returncode
    )


def _wait_for(*files: Path) -> None:
    deadline = time.monotonic() + 30
    while not all(f.exists() and f.read_text() for f in files):
        assert time.monotonic() < deadline, "the stand-in verifiers did not start"
        time.sleep(0.02)


def _gone(pidfile: Path) -> bool:
    """The process is neither running nor left unreaped (it was waited for)."""
    try:
        os.kill(int(pidfile.read_text()), 0)
    except ProcessLookupError:
        return True
    return False


def test_results_keep_the_order_given_whatever_order_the_gates_end_in() -> None:
    # gate i waits until gate i + 1 ended: they end last to first
    ended = [threading.Event() for _ in range(4)]

    def gate(i: int) -> int:
        if i + 1 < len(ended):
            assert ended[i + 1].wait(10)
        ended[i].set()
        return i

    assert run_gates([partial(gate, i) for i in range(4)], jobs=4) == [0, 1, 2, 3]


def test_at_most_jobs_gates_run_at_once_and_that_many_do() -> None:
    lock = threading.Lock()
    running, most = [0], [0]
    together = threading.Barrier(2)

    def gate() -> None:
        with lock:
            running[0] += 1
            most[0] = max(most[0], running[0])
        together.wait(10)  # breaks (raises) unless two gates run at once
        with lock:
            running[0] -= 1

    run_gates([gate] * 6, jobs=2)
    assert most[0] == 2


def test_one_job_runs_each_gate_in_the_callers_thread_in_order_and_stops_at_an_exception() -> None:
    seen: list[tuple[int, str]] = []
    ended: list[int] = []

    def gate(i: int) -> int:
        seen.append((i, threading.current_thread().name))
        if i == 1:
            raise RuntimeError(i)
        return i

    with pytest.raises(RuntimeError):
        run_gates([partial(gate, i) for i in range(3)], jobs=1, done=lambda: ended.append(1))
    assert seen == [(0, threading.current_thread().name), (1, threading.current_thread().name)]
    assert len(ended) == 2


def test_done_is_called_once_per_gate() -> None:
    ended: list[int] = []
    lock = threading.Lock()

    def done() -> None:
        with lock:
            ended.append(1)

    assert run_gates([lambda: 1] * 5, jobs=3, done=done) == [1] * 5
    assert len(ended) == 5


@pytest.mark.parametrize("jobs", [0, -1])
def test_fewer_than_one_job_is_a_programming_error(jobs: int) -> None:
    with pytest.raises(ValueError, match=str(jobs)):
        Gates(jobs)


def test_an_exception_in_one_gate_kills_the_running_verifiers_and_starts_no_other(
    tmp_path: Path,
) -> None:
    a, b, never = tmp_path / "a", tmp_path / "b", tmp_path / "never"
    exits: list[int] = []

    def failing() -> None:
        _wait_for(a, b)
        raise RuntimeError("bundle unreadable")

    with pytest.raises(RuntimeError, match="bundle unreadable"):
        run_gates([_slow(a, exits), _slow(b, exits), failing, _slow(never, exits)], jobs=3)
    assert exits == [-signal.SIGKILL, -signal.SIGKILL]  # killed, not slept to their end
    assert _gone(a) and _gone(b)
    assert not never.exists()


def test_ctrl_c_kills_the_running_verifiers_and_starts_no_other(tmp_path: Path) -> None:
    a, b, never = tmp_path / "a", tmp_path / "b", tmp_path / "never"

    def interrupt() -> None:
        _wait_for(a, b)
        os.kill(os.getpid(), signal.SIGINT)  # as the terminal's Ctrl-C, to the main thread

    exits: list[int] = []
    with pytest.raises(KeyboardInterrupt):  # noqa: PT012 - the signal comes while it waits
        threading.Thread(target=interrupt, daemon=True).start()
        run_gates([_slow(a, exits), _slow(b, exits), _slow(never, exits)], jobs=2)
    assert exits == [-signal.SIGKILL, -signal.SIGKILL]
    assert _gone(a) and _gone(b)
    assert not never.exists()


def test_a_verifier_past_its_time_limit_is_killed_and_answers_timed_out(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(town_report, "_TIMEOUT", 0.5)
    pid = tmp_path / "pid"
    got = run_verifier([sys.executable, "-c", SLEEPER, str(pid)])
    assert got.returncode == town_report.TIMED_OUT
    assert "verifier.timeout" in got.stderr
    assert not pid.exists() or _gone(pid)  # killed, perhaps before it wrote its pid
