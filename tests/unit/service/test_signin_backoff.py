"""Issue 14 point 2: the sign-in lock is an exponential back-off per (account, source).

Five wrong passwords lock the pair for 30 s, each further wrong one (tried once the lock has
passed) for twice as long, up to 15 minutes; the schedule is kept in accounts.db, so a restart of
the service does not reset it, and ``unlock`` lifts it. Guessing from one source never locks the
account at another.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import nacl.pwhash
import pytest

from tally.service.accounts import (
    AccountError,
    AccountStore,
    Role,
    SignInLocked,
    lock_seconds,
)

FAST = {
    "opslimit": nacl.pwhash.argon2id.OPSLIMIT_MIN,
    "memlimit": nacl.pwhash.argon2id.MEMLIMIT_MIN,
}
ATTACKER, CHAIR_DESK = "192.0.2.9", "10.0.0.2"


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


def _store(path: Path, clock: Clock) -> AccountStore:
    return AccountStore(path, clock=clock, **FAST)


@pytest.fixture
def store(tmp_path: Path) -> tuple[AccountStore, Clock]:
    clock = Clock()
    s = _store(tmp_path / "accounts.db", clock)
    s.add("chair", Role.CHAIR, "chair-password")
    return s, clock


def _guess(s: AccountStore, client: str = ATTACKER, name: str = "chair") -> int:
    """One wrong password; the lock it brought (0: none)."""
    try:
        s.sign_in(name, "guessed-password", client=client)
    except SignInLocked as e:
        return e.seconds
    except AccountError:
        return 0
    raise AssertionError("a wrong password was accepted")


def _attack(s: AccountStore, clock: Clock, n: int) -> int:
    """``n`` wrong passwords, each after the lock of the one before has passed; the last lock."""
    lock = 0
    for _ in range(n):
        clock.now += lock
        lock = _guess(s)
    return lock


def test_schedule_is_four_free_then_30_s_doubling_to_a_15_minute_cap() -> None:
    assert [lock_seconds(n) for n in range(1, 13)] == [
        0, 0, 0, 0, 30, 60, 120, 240, 480, 900, 900, 900,
    ]  # fmt: skip
    assert lock_seconds(10_000) == 900


def test_each_wrong_password_after_a_lock_doubles_the_next_lock(
    store: tuple[AccountStore, Clock],
) -> None:
    s, clock = store
    locks = []
    for _ in range(11):
        locks.append(_guess(s))
        clock.now += locks[-1]  # the attacker waits out each lock, then guesses again
    assert locks == [0, 0, 0, 0, 30, 60, 120, 240, 480, 900, 900]


def test_a_locked_pair_is_refused_even_the_right_password_until_the_lock_passes(
    store: tuple[AccountStore, Clock],
) -> None:
    s, clock = store
    assert _attack(s, clock, 6) == 60
    clock.now += 59  # the 6th failure locked for 60 s
    with pytest.raises(SignInLocked) as locked:
        s.sign_in("chair", "chair-password", client=ATTACKER)
    assert locked.value.seconds == 1
    with pytest.raises(SignInLocked):  # a guess while locked is not even checked
        s.sign_in("chair", "guessed-password", client=ATTACKER)
    clock.now += 1
    s.sign_in("chair", "chair-password", client=ATTACKER)  # after the lock: the password counts
    assert _guess(s) == 0  # and a success starts the count again


def test_the_back_off_survives_a_restart_of_the_service(tmp_path: Path) -> None:
    clock = Clock()
    first = _store(tmp_path / "accounts.db", clock)
    first.add("chair", Role.CHAIR, "chair-password")
    assert _attack(first, clock, 7) == 120
    restarted = _store(tmp_path / "accounts.db", clock)  # a new process opens the same file
    with pytest.raises(SignInLocked) as locked:
        restarted.sign_in("chair", "chair-password", client=ATTACKER)
    assert locked.value.seconds == 120
    clock.now += 120
    assert _guess(restarted) == 240  # the count went on where it was


def test_a_long_attack_from_one_source_never_locks_the_chair_at_another(
    store: tuple[AccountStore, Clock],
) -> None:
    s, clock = store
    assert _attack(s, clock, 40) == 900
    with pytest.raises(SignInLocked):
        s.sign_in("chair", "chair-password", client=ATTACKER)
    s.sign_in("chair", "chair-password", client=CHAIR_DESK)


def test_unlock_lifts_the_back_off_and_resets_its_count(store: tuple[AccountStore, Clock]) -> None:
    s, clock = store
    assert _attack(s, clock, 8) == 240
    assert s.unlock("chair") == (ATTACKER,)
    s.sign_in("chair", "chair-password", client=ATTACKER)
    assert [_guess(s) for _ in range(5)] == [0, 0, 0, 0, 30]


def test_failures_a_day_old_are_forgotten(store: tuple[AccountStore, Clock]) -> None:
    s, clock = store
    assert _attack(s, clock, 7) == 120
    clock.now += 24 * 3600 + 1
    assert [_guess(s) for _ in range(5)] == [0, 0, 0, 0, 30]


def test_an_accounts_file_of_the_flat_lock_is_upgraded_in_place(tmp_path: Path) -> None:
    path = tmp_path / "accounts.db"
    with sqlite3.connect(path) as c:
        c.execute(
            "CREATE TABLE login_failures (key TEXT PRIMARY KEY, count INTEGER NOT NULL, "
            "locked_until REAL NOT NULL)"
        )
        c.execute("INSERT INTO login_failures VALUES ('ip:192.0.2.9', 3, 0)")
    clock = Clock()
    s = _store(path, clock)
    s.add("chair", Role.CHAIR, "chair-password")
    assert _guess(s, name="nobody") == 0
    assert _guess(s, name="nobody") == 0  # the old rows' failures are forgotten (no time kept)
