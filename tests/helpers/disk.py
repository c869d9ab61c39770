"""A full disk under the election file, for tests that cannot mount one (bench/soak.py does).

SQLite meets a full disk at the COMMIT that writes the WAL frames (the soak saw it there on a
full tmpfs): the statement fails with the primary result code SQLITE_FULL.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from tally.store import ElectionStore

SQLITE_FULL = 13


def _full() -> sqlite3.OperationalError:
    e = sqlite3.OperationalError("database or disk is full")
    e.sqlite_errorcode = SQLITE_FULL  # as SQLite's own error carries it
    e.sqlite_errorname = "SQLITE_FULL"
    return e


class _FullAtCommit:
    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def __getattr__(self, name: str) -> Any:
        return getattr(self.conn, name)

    def execute(self, sql: str, *args: Any) -> Any:
        if sql == "COMMIT":
            raise _full()
        return self.conn.execute(sql, *args)


@contextmanager
def disk_full(store: ElectionStore) -> Iterator[None]:
    """Every COMMIT of ``store`` fails as on a full disk until the block ends."""
    db = store._db
    real = db.conn
    db.conn = _FullAtCommit(real)  # type: ignore[assignment]
    try:
        yield
    finally:
        db.conn = real


class _FullOnExit:
    """A connection used as ``with conn:`` whose commit at the block's end fails as on a full
    disk (the transaction is rolled back, as SQLite leaves it)."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def __getattr__(self, name: str) -> Any:
        return getattr(self.conn, name)

    def __enter__(self) -> _FullOnExit:
        return self

    def __exit__(self, kind: Any, value: Any, tb: Any) -> Any:
        if kind is None:
            self.conn.rollback()
            raise _full()
        return self.conn.__exit__(kind, value, tb)


def full_on_commit(conn: sqlite3.Connection) -> Any:
    """``conn`` as a full disk leaves it: every ``with conn:`` block fails at its commit."""
    return _FullOnExit(conn)
