"""Work-group and casework accounts, sign-in sessions and the wrong-password lock (the
polling-station pages and the casework pages, tally/service/casework).

One SQLite file (``accounts.db``) in the service data folder holds:

* ``accounts``: one row per person: name, role, Argon2id password hash (PyNaCl / libsodium);
* ``sessions``: the SHA-256 of each random session id (the cookie holds the id itself), the
  account, a per-session CSRF token and the expiry time;
* ``login_failures``: wrong passwords per (account, client source) and per client source (an
  address; an IPv6 /64: ``tally.service.proxy.client_source``), with
  an exponential back-off (``lock_seconds``): the ``FREE_FAILURES``-th wrong password locks the
  key for ``FIRST_LOCK_SECONDS``, each further one (tried once the lock has passed) for twice as
  long as the one before, up to ``MAX_LOCK_SECONDS``; the count
  is kept until a sign-in succeeds, the lock is lifted, or ``FORGET_SECONDS`` pass without a
  failure. There is no lock per account alone, so guesses from one address cannot lock the chair
  out at another; ``tally accounts unlock`` lifts a lock from the command line (the running server
  reads this table on every sign-in, and a restart keeps it).

Every statement is parameterised. Nothing here knows about ballots or voters.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import secrets
import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

import nacl.exceptions
import nacl.pwhash

from bilingual import BilingualError
from tally.service.proxy import source_key
from tally.store import write_refusal

__all__ = [
    "DEMO_ACCOUNTS",
    "FIRST_LOCK_SECONDS",
    "FREE_FAILURES",
    "MAX_LOCK_SECONDS",
    "Account",
    "AccountError",
    "AccountStore",
    "Role",
    "SignInLocked",
    "UserSession",
    "accounts_path",
    "csrf_ok",
    "ensure_demo_accounts",
    "lock_seconds",
]

ACCOUNTS_FILE = "accounts.db"
FREE_FAILURES = 5  # the wrong password that brings the first lock (4 typing mistakes are free)
FIRST_LOCK_SECONDS = 30
MAX_LOCK_SECONDS = 15 * 60
FORGET_SECONDS = 24 * 3600  # failures older than this (one polling day) are forgotten
SESSION_SECONDS = 12 * 3600  # one polling day
MIN_PASSWORD = 8


class Role(StrEnum):
    CHAIR = "chair"
    SCRUTINEER = "scrutineer"
    TELLER = "teller"
    CLERK = "clerk"
    # The town's casework pages (spec/procedure.md RP-9.8; tally/service/casework): never a
    # station role, and no station role signs in there.
    CASE_HEAD = "case_head"
    CASE_OFFICER = "case_officer"
    TOWN_VIEWER = "town_viewer"
    # A branch's work group on the casework pages: records an objection made in person for its
    # own branch (the account's ``branch``) and sees nothing else of the casework (RP-9.8).
    BRANCH_CLERK = "branch_clerk"

    @property
    def zh(self) -> str:
        return ROLE_ZH[self]

    @property
    def en(self) -> str:
        return ROLE_EN[self]


ROLE_ZH = {
    Role.CHAIR: "主持人",
    Role.SCRUTINEER: "监票人",
    Role.TELLER: "计票人",
    Role.CLERK: "工作人员",
    Role.CASE_HEAD: "查核组组长",
    Role.CASE_OFFICER: "查核组成员",
    Role.TOWN_VIEWER: "镇党委",
    Role.BRANCH_CLERK: "支部工作组",
}
ROLE_EN = {
    Role.CHAIR: "chair",
    Role.SCRUTINEER: "scrutineer",
    Role.TELLER: "teller",
    Role.CLERK: "clerk",
    Role.CASE_HEAD: "head of the verification group",
    Role.CASE_OFFICER: "verification group member",
    Role.TOWN_VIEWER: "town committee",
    Role.BRANCH_CLERK: "branch work group",
}

# Published on purpose: `make run` signs these in on the demo election only.
DEMO_ACCOUNTS: tuple[tuple[str, Role, str], ...] = (
    ("chair", Role.CHAIR, "demo-chair-pass"),
    ("scrutineer", Role.SCRUTINEER, "demo-scrutineer-pass"),
    ("teller", Role.TELLER, "demo-teller-pass"),
    ("teller2", Role.TELLER, "demo-teller2-pass"),
    ("clerk", Role.CLERK, "demo-clerk-pass"),
)


class AccountError(BilingualError):
    """An account command cannot be carried out (bilingual, like TallyError)."""

    code = "account.error"


class SignInLocked(AccountError):
    """Too many wrong passwords: try again after ``seconds``."""

    def __init__(self, seconds: int) -> None:
        super().__init__(
            "signin.locked",
            zh=f"密码错误次数过多，请 {seconds} 秒后再试",
            en=f"too many wrong passwords; try again in {seconds} s",
        )
        self.seconds = seconds


@dataclass(frozen=True, slots=True)
class Account:
    name: str
    role: Role
    branch: str = ""  # the branch code of a ``branch_clerk``; "" for every other role


@dataclass(frozen=True, slots=True)
class UserSession:
    account: Account
    csrf: str
    expires: float
    session_hash: str


def lock_seconds(failures: int) -> int:
    """The lock after the ``failures``-th wrong password of one key: none before the
    ``FREE_FAILURES``-th, then 30 s, 60 s, 120 s, ... doubling up to 15 minutes."""
    if failures < FREE_FAILURES:
        return 0
    return min(MAX_LOCK_SECONDS, FIRST_LOCK_SECONDS << min(failures - FREE_FAILURES, 16))


def accounts_path(data_dir: Path) -> Path:
    return data_dir / ACCOUNTS_FILE


def _digest(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


_SCHEMA = """
CREATE TABLE IF NOT EXISTS accounts (
    name TEXT PRIMARY KEY, role TEXT NOT NULL, pw_hash TEXT NOT NULL, created REAL NOT NULL);
CREATE TABLE IF NOT EXISTS sessions (
    id_hash TEXT PRIMARY KEY, name TEXT NOT NULL REFERENCES accounts(name) ON DELETE CASCADE,
    csrf TEXT NOT NULL, expires REAL NOT NULL);
CREATE TABLE IF NOT EXISTS login_failures (
    key TEXT PRIMARY KEY, count INTEGER NOT NULL, locked_until REAL NOT NULL,
    last_failed REAL NOT NULL DEFAULT 0);
"""


class AccountStore:
    """Accounts, sessions and failures in ``data_dir/accounts.db`` (one connection per call)."""

    def __init__(
        self,
        path: Path,
        *,
        clock: Callable[[], float] = time.time,
        opslimit: int = nacl.pwhash.argon2id.OPSLIMIT_INTERACTIVE,
        memlimit: int = nacl.pwhash.argon2id.MEMLIMIT_INTERACTIVE,
    ) -> None:
        self.path = path
        self.clock = clock
        self.opslimit, self.memlimit = opslimit, memlimit
        path.parent.mkdir(parents=True, exist_ok=True)
        with self._conn() as c:
            c.executescript(_SCHEMA)
            columns = {row[1] for row in c.execute("PRAGMA table_info(login_failures)")}
            if "last_failed" not in columns:  # accounts.db of the flat 60 s lock
                c.execute(
                    "ALTER TABLE login_failures ADD COLUMN last_failed REAL NOT NULL DEFAULT 0"
                )
            if "branch" not in {row[1] for row in c.execute("PRAGMA table_info(accounts)")}:
                c.execute("ALTER TABLE accounts ADD COLUMN branch TEXT NOT NULL DEFAULT ''")
        path.chmod(0o600)

    @contextmanager
    def _conn(self) -> Iterator[sqlite3.Connection]:
        """One transaction; a full disk or a failed write is a ``StoreError`` (503), nothing
        written (a sign-in then signs no one in)."""
        conn = sqlite3.connect(str(self.path), timeout=10.0)
        try:
            conn.execute("PRAGMA foreign_keys=ON")
            with conn:
                yield conn
        except sqlite3.OperationalError as e:
            refusal = write_refusal(e)
            if refusal is None:
                raise
            raise refusal from e
        finally:
            conn.close()

    # -- accounts ------------------------------------------------------------------------------
    def add(self, name: str, role: Role, password: str, *, branch: str = "") -> Account:
        """Create an account; a ``branch_clerk`` names its branch, no other role does.

        Raises:
            AccountError: empty or too long name, short password, the name exists, or a branch
                missing or given where it does not belong (``account.branch``).
        """
        name, branch = name.strip(), branch.strip()
        if (role is Role.BRANCH_CLERK) != bool(branch) or len(branch) > 40:
            raise AccountError(
                "account.branch",
                zh="支部工作组账户须用 --branch 指明本支部代码（至多 40 个字符），"
                "其他账户不指明支部",
                en="a branch_clerk account names its branch code with --branch (at most 40 "
                "characters); no other account names a branch",
            )
        # ':' is kept for the casework log's actors (branch:<B>:<name>, reporter:<id>, RP-11.3)
        if not name or len(name) > 40 or any(ch.isspace() or ch == ":" for ch in name):
            raise AccountError(
                "account.name",
                zh="账户名不能为空、不能含空格或冒号、最多 40 个字",
                en="the name must be 1-40 characters without spaces or ':'",
            )
        if len(password) < MIN_PASSWORD:
            raise AccountError(
                "account.password_short",
                zh=f"密码至少 {MIN_PASSWORD} 个字符",
                en=f"the password needs at least {MIN_PASSWORD} characters",
            )
        pw_hash = nacl.pwhash.argon2id.str(
            password.encode(), opslimit=self.opslimit, memlimit=self.memlimit
        ).decode()
        try:
            with self._conn() as c:
                c.execute(
                    "INSERT INTO accounts (name, role, pw_hash, created, branch) "
                    "VALUES (?, ?, ?, ?, ?)",
                    (name, role.value, pw_hash, self.clock(), branch),
                )
        except sqlite3.IntegrityError as e:
            raise AccountError(
                "account.exists", zh=f"账户 {name} 已存在", en=f"account {name} already exists"
            ) from e
        return Account(name, role, branch)

    def set_password(self, name: str, password: str) -> None:
        if len(password) < MIN_PASSWORD:
            raise AccountError(
                "account.password_short",
                zh=f"密码至少 {MIN_PASSWORD} 个字符",
                en=f"the password needs at least {MIN_PASSWORD} characters",
            )
        pw_hash = nacl.pwhash.argon2id.str(
            password.encode(), opslimit=self.opslimit, memlimit=self.memlimit
        ).decode()
        with self._conn() as c:
            n = c.execute(
                "UPDATE accounts SET pw_hash = ? WHERE name = ?", (pw_hash, name)
            ).rowcount
            c.execute("DELETE FROM sessions WHERE name = ?", (name,))
        if n == 0:
            raise AccountError("account.unknown", zh=f"没有账户 {name}", en=f"no account {name}")

    def remove(self, name: str) -> None:
        with self._conn() as c:
            c.execute("DELETE FROM sessions WHERE name = ?", (name,))
            n = c.execute("DELETE FROM accounts WHERE name = ?", (name,)).rowcount
        if n == 0:
            raise AccountError("account.unknown", zh=f"没有账户 {name}", en=f"no account {name}")

    def list(self) -> list[Account]:
        with self._conn() as c:
            rows = c.execute(
                "SELECT name, role, branch FROM accounts ORDER BY role, name"
            ).fetchall()
        return [Account(n, Role(r), b) for n, r, b in rows]

    def exists(self, name: str) -> bool:
        with self._conn() as c:
            return (
                c.execute("SELECT 1 FROM accounts WHERE name = ?", (name,)).fetchone() is not None
            )

    # -- sign-in -------------------------------------------------------------------------------
    def _locked_for(self, c: sqlite3.Connection, key: str) -> int:
        row = c.execute("SELECT locked_until FROM login_failures WHERE key = ?", (key,)).fetchone()
        if row is None:
            return 0
        left = row[0] - self.clock()
        return math.ceil(left) if left > 0 else 0

    def _fail(self, c: sqlite3.Connection, key: str) -> tuple[int, int]:
        """Count one failure of ``key``; returns (tries left before a lock, seconds locked)."""
        now = self.clock()
        row = c.execute(
            "SELECT count, last_failed FROM login_failures WHERE key = ?", (key,)
        ).fetchone()
        forgotten = row is None or now - row[1] > FORGET_SECONDS
        count = 1 if forgotten else row[0] + 1
        lock = lock_seconds(count)
        c.execute(
            "INSERT INTO login_failures (key, count, locked_until, last_failed) "
            "VALUES (?, ?, ?, ?) ON CONFLICT(key) DO UPDATE SET count = excluded.count, "
            "locked_until = excluded.locked_until, last_failed = excluded.last_failed",
            (key, count, now + lock if lock else 0.0, now),
        )
        return max(0, FREE_FAILURES - count), lock

    def sign_in(self, name: str, password: str, *, client: str) -> tuple[str, UserSession]:
        """Check a password and open a session; returns the cookie value and the session.

        Raises:
            SignInLocked: too many wrong passwords for this account from this address, or from
                this address for any accounts.
            AccountError: wrong name or password (with the tries left).
        """
        keys_ = (_account_key(name.strip(), client), f"ip:{client}")
        with self._conn() as c:
            wait = max(self._locked_for(c, k) for k in keys_)
            if wait:
                raise SignInLocked(wait)
            row = c.execute(
                "SELECT role, pw_hash, branch FROM accounts WHERE name = ?", (name.strip(),)
            ).fetchone()
        ok = False
        if row is not None:
            try:
                ok = nacl.pwhash.verify(row[1].encode(), password.encode())
            except nacl.exceptions.InvalidkeyError:
                ok = False
        else:  # same work for an unknown name: no timing hint about which names exist
            nacl.pwhash.argon2id.str(b"x", opslimit=self.opslimit, memlimit=self.memlimit)
        if not ok:
            with self._conn() as c:  # committed before the refusal is raised
                counted = [self._fail(c, k) for k in keys_]
            left = min(t for t, _ in counted)
            lock = max(seconds for _, seconds in counted)
            if lock:
                raise SignInLocked(lock)
            raise AccountError(
                "signin.wrong",
                zh=f"账户名或密码错误（还可再试 {left} 次）",
                en=f"wrong name or password ({left} tries left)",
            )
        with self._conn() as c:
            for k in keys_:
                c.execute("DELETE FROM login_failures WHERE key = ?", (k,))
            session_id = secrets.token_urlsafe(32)
            csrf = secrets.token_urlsafe(32)
            expires = self.clock() + SESSION_SECONDS
            c.execute("DELETE FROM sessions WHERE expires < ?", (self.clock(),))
            c.execute(
                "INSERT INTO sessions (id_hash, name, csrf, expires) VALUES (?, ?, ?, ?)",
                (_digest(session_id), name.strip(), csrf, expires),
            )
        assert row is not None
        account = Account(name.strip(), Role(row[0]), row[2])
        return session_id, UserSession(account, csrf, expires, _digest(session_id))

    def session(self, session_id: str | None) -> UserSession | None:
        """The live session of a cookie value, or None (unknown or expired)."""
        if not session_id or len(session_id) > 100:
            return None
        with self._conn() as c:
            row = c.execute(
                "SELECT s.name, a.role, s.csrf, s.expires, a.branch FROM sessions s "
                "JOIN accounts a ON a.name = s.name WHERE s.id_hash = ?",
                (_digest(session_id),),
            ).fetchone()
        if row is None or row[3] < self.clock():
            return None
        account = Account(row[0], Role(row[1]), row[4])
        return UserSession(account, row[2], row[3], _digest(session_id))

    def sign_out(self, session_id: str | None) -> None:
        if session_id:
            with self._conn() as c:
                c.execute("DELETE FROM sessions WHERE id_hash = ?", (_digest(session_id),))

    def unlock(self, name: str) -> tuple[str, ...]:
        """Lift the wrong-password locks of an account at every address (and of those addresses,
        so its holder can sign in again at once); returns the addresses that had failures.

        Raises:
            AccountError: no such account.
        """
        if not self.exists(name):
            raise AccountError("account.unknown", zh=f"没有账户 {name}", en=f"no account {name}")
        prefix = _account_key(name, "")
        with self._conn() as c:
            rows = c.execute(
                "SELECT key FROM login_failures WHERE substr(key, 1, ?) = ?",
                (len(prefix), prefix),
            ).fetchall()
            sources = [k[len(prefix) :] for (k,) in rows]
            for k, source in zip([k for (k,) in rows], sources, strict=True):
                c.execute("DELETE FROM login_failures WHERE key = ?", (k,))
                c.execute("DELETE FROM login_failures WHERE key = ?", (f"ip:{source}",))
        return tuple(sources)

    def unlock_address(self, address: str) -> None:
        """Lift the lock of a client address (wrong passwords for several accounts from it): of
        its source, the /64 of an IPv6 address, which is what the sign-in counts by."""
        with self._conn() as c:
            c.execute("DELETE FROM login_failures WHERE key = ?", (f"ip:{source_key(address)}",))


def _account_key(name: str, client: str) -> str:
    """The failure key of one account at one address (names hold no whitespace: no ambiguity)."""
    return f"account:{name}\n{client}"


def csrf_ok(expected: str, given: str | None) -> bool:
    """Constant-time comparison of a form's CSRF token with the session's."""
    return bool(given) and hmac.compare_digest(expected.encode(), (given or "").encode())


def ensure_demo_accounts(data_dir: Path) -> list[tuple[str, Role, str]]:
    """Create the published demo accounts in ``data_dir`` (those missing); for ``make run``."""
    store = AccountStore(accounts_path(data_dir))
    made = []
    for name, role, password in DEMO_ACCOUNTS:
        if not store.exists(name):
            store.add(name, role, password)
            made.append((name, role, password))
    return made
