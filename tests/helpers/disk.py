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


class _FullAtCommit:
    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def __getattr__(self, name: str) -> Any:
        return getattr(self.conn, name)

    def execute(self, sql: str, *args: Any) -> Any:
        if sql == "COMMIT":
            e = sqlite3.OperationalError("database or disk is full")
            e.sqlite_errorcode = SQLITE_FULL  # as SQLite's own error carries it
            e.sqlite_errorname = "SQLITE_FULL"
            raise e
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
