"""The SQLite file of a signed log, as the town casework file and the branch procedure file keep
it (spec/procedure.md RP-1.1, RP-11.2, RP-11.4): the connection settings, the tables every such
file has (meta, log, checkpoints and their signature lines, append-only by trigger), the
checkpoints' texts and their ``checkpoints/1`` document, and a bundle's files and index.

Shared by :mod:`tally.casework_store` and :mod:`tally.procedure_store`; every write goes through
:func:`tally.store.transaction`.
"""

from __future__ import annotations

import base64
import hashlib
import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from tally.core.manifest import canonical
from tally.log import MerkleTree
from tally.store import StoreError, transaction

__all__ = [
    "LOG_TABLES",
    "BundleFile",
    "SignedLogFile",
    "append_only",
    "bundle_index",
    "checkpoint_texts",
    "checkpoints_json",
    "connect",
    "create_file",
    "insert_checkpoint",
    "open_file",
]

LOG_TABLES: Final[tuple[str, ...]] = (
    "CREATE TABLE meta (key TEXT PRIMARY KEY, value BLOB NOT NULL)",
    "CREATE TABLE log (seq INTEGER PRIMARY KEY, type TEXT NOT NULL, raw BLOB NOT NULL)",
    "CREATE TABLE checkpoints (id INTEGER PRIMARY KEY, size INTEGER NOT NULL, "
    "reason TEXT NOT NULL, body TEXT NOT NULL, UNIQUE (size, reason))",
    "CREATE TABLE checkpoint_signatures (checkpoint_id INTEGER NOT NULL "
    "REFERENCES checkpoints(id), signer TEXT NOT NULL, line TEXT NOT NULL, "
    "PRIMARY KEY (checkpoint_id, signer))",
)
"""The tables of every signed-log file; a file adds its own after them."""


def append_only(tables: Iterable[str]) -> tuple[str, ...]:
    """Triggers that refuse UPDATE and DELETE on each of ``tables`` (history is never changed)."""
    return tuple(
        f"CREATE TRIGGER {table}_no_{op.lower()} BEFORE {op} ON {table} "
        f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END"
        for table in tables
        for op in ("UPDATE", "DELETE")
    )


def connect(path: Path) -> sqlite3.Connection:
    """A connection in autocommit mode with WAL, full sync and foreign keys (DESIGN §2.6)."""
    conn = sqlite3.connect(str(path), isolation_level=None, timeout=10.0)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("PRAGMA foreign_keys=ON")
    return conn


def create_file(
    path: Path,
    *,
    schema: Sequence[str],
    meta: Sequence[tuple[str, bytes]],
    entry: tuple[int, str, bytes],
    checkpoint: tuple[str, tuple[str, str]],
    name: tuple[str, str],
) -> None:
    """Create a signed-log file with its tables, its ``meta`` rows, entry 0 (seq, type, bytes)
    and the checkpoint made with it (body and the signer's line), in one transaction; never
    overwrites. ``name`` is the file's (zh, en) name for the refusals.

    Raises:
        StoreError: ``store.exists``, or ``store.create_failed`` (nothing is left behind).
    """
    if path.exists():
        raise StoreError(
            "store.exists",
            zh=f"{name[0]}已存在：{path}（不会覆盖）",
            en=f"the {name[1]} already exists: {path} (never overwritten)",
        )
    try:
        conn = connect(path)
        with transaction(conn):
            for sql in schema:
                conn.execute(sql)
            conn.executemany("INSERT INTO meta (key, value) VALUES (?, ?)", meta)
            conn.execute("INSERT INTO log (seq, type, raw) VALUES (?, ?, ?)", entry)
            insert_checkpoint(conn, 1, "opened", checkpoint[0], [checkpoint[1]])
        conn.close()
    except sqlite3.Error as e:
        path.unlink(missing_ok=True)
        raise StoreError(
            "store.create_failed",
            zh=f"无法创建{name[0]}：{e}",
            en=f"cannot create the {name[1]}: {e}",
        ) from e


def open_file(
    path: Path, *, key: str, schema_version: int, name: tuple[str, str]
) -> tuple[sqlite3.Connection, bytes]:
    """Open a signed-log file: its connection and the ``meta`` value of ``key`` (the signed
    definition it was made from).

    Raises:
        StoreError: ``store.missing``, ``store.not_file`` (a folder, pipe or device),
            ``store.corrupt`` (not such a file, or damaged), or
            ``store.newer`` (made by a newer version than ``schema_version``).
    """
    if not path.is_file():
        if path.exists():  # a folder, a pipe or a device: there, but no file to open
            raise StoreError(
                "store.not_file",
                zh=f"{path} 不是普通文件，不能作{name[0]}",
                en=f"{path} is not a regular file, so it cannot be the {name[1]}",
            )
        raise StoreError(
            "store.missing", zh=f"找不到{name[0]}：{path}", en=f"no {name[1]} at {path}"
        )
    try:
        conn = connect(path)
        rows = dict(conn.execute("SELECT key, value FROM meta").fetchall())
        version = int(bytes(rows["schema_version"]).decode())
        value = bytes(rows[key])
    except (sqlite3.Error, KeyError, ValueError) as e:
        raise StoreError(
            "store.corrupt",
            zh=f"{path} 不是有效的{name[0]}或已损坏",
            en=f"{path} is not a {name[1]} or is damaged",
        ) from e
    if version > schema_version:
        conn.close()
        raise StoreError(
            "store.newer",
            zh=f"{name[0]}由更新版本的软件创建，请升级软件",
            en=f"the {name[1]} was made by a newer version of the software",
        )
    return conn, value


def insert_checkpoint(
    conn: sqlite3.Connection, size: int, reason: str, body: str, lines: Sequence[tuple[str, str]]
) -> int:
    """Store a checkpoint body and its (signer, line) signature lines (inside a transaction);
    its row id."""
    cur = conn.execute(
        "INSERT INTO checkpoints (size, reason, body) VALUES (?, ?, ?)", (size, reason, body)
    )
    cid = cur.lastrowid
    assert cid is not None
    conn.executemany(
        "INSERT INTO checkpoint_signatures (checkpoint_id, signer, line) VALUES (?, ?, ?)",
        [(cid, signer, line) for signer, line in lines],
    )
    return cid


def checkpoint_texts(conn: sqlite3.Connection) -> list[tuple[int, str]]:
    """(size, full text) of every checkpoint, in order of creation; signature lines by signer."""
    out: list[tuple[int, str]] = []
    for cid, size, body in conn.execute(
        "SELECT id, size, body FROM checkpoints ORDER BY id"
    ).fetchall():
        lines = conn.execute(
            "SELECT line FROM checkpoint_signatures WHERE checkpoint_id = ? ORDER BY signer",
            (cid,),
        ).fetchall()
        out.append((size, body + "\n" + "".join(line for (line,) in lines)))
    return out


def checkpoints_json(texts: Sequence[tuple[int, str]], tree: MerkleTree) -> bytes:
    """The ``checkpoints/1`` document (spec/bundle.md §1): each checkpoint's text with the
    consistency proof from the one before it."""
    cps: list[dict[str, object]] = []
    prev = 0
    for size, text in texts:
        proof = tree.consistency_proof(prev, size) if 0 < prev < size else ()
        cps.append({"text": text, "consistency": [base64.b64encode(h).decode() for h in proof]})
        prev = size
    return canonical({"format": "checkpoints/1", "checkpoints": cps})


@dataclass(frozen=True, slots=True)
class BundleFile:
    """One file of a bundle."""

    path: str
    data: bytes


def bundle_index(
    format_: str, id_name: str, id_hex: str, entries: int, files: Sequence[BundleFile]
) -> BundleFile:
    """The bundle's ``index.json``: its format, the log's id and size, each file's hash and
    size."""
    index = {
        "format": format_,
        id_name: id_hex,
        "entries": entries,
        "files": [
            {"path": f.path, "sha256": hashlib.sha256(f.data).hexdigest(), "size": len(f.data)}
            for f in files
        ],
    }
    return BundleFile("index.json", canonical(index))


class SignedLogFile:
    """What every signed-log file does alike: its connection and Merkle tree, the reads of its
    log and checkpoints, and the check that no other process appended since it was read.

    A subclass sets ``_conn``, ``_tree`` and ``path``, and names its file in ``FILE_ZH`` and
    ``FILE_EN`` for the ``store.stale`` refusal.
    """

    FILE_ZH = "文件"
    FILE_EN = "file"
    _conn: sqlite3.Connection
    _tree: MerkleTree
    path: Path

    def close(self) -> None:
        self._conn.close()

    def head(self) -> tuple[int, bytes]:
        """(size, RFC 9162 root) of the log now."""
        return self._tree.size, self._tree.root()

    def stored_size(self) -> int:
        """The number of entries in the file now (another process may have appended since this
        handle read it: then it differs from :meth:`head`'s size)."""
        (n,) = self._conn.execute("SELECT COUNT(*) FROM log").fetchone()
        return int(n)

    def log_rows(self) -> list[bytes]:
        return [bytes(r[0]) for r in self._conn.execute("SELECT raw FROM log ORDER BY seq")]

    def checkpoint_texts(self) -> list[tuple[int, str]]:
        """(size, full text) of every checkpoint, in order of creation."""
        return checkpoint_texts(self._conn)

    def _checkpoints_json(self) -> bytes:
        return checkpoints_json(self.checkpoint_texts(), self._tree)

    def _same_log(self, conn: sqlite3.Connection) -> None:
        """Inside the write lock: the file's log is the one this handle checked against.

        Raises:
            StoreError: ``store.stale`` when another process appended since this file was read.
        """
        (n,) = conn.execute("SELECT COUNT(*) FROM log").fetchone()
        if n != self._tree.size:
            raise StoreError(
                "store.stale",
                zh=f"{self.FILE_ZH}已被另一处更改，本次没有写入：请重新打开后再试",
                en=f"the {self.FILE_EN} was changed elsewhere; nothing was written: "
                "open it again and retry",
            )
