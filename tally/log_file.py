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

__all__ = [
    "LOG_TABLES",
    "BundleFile",
    "append_only",
    "bundle_index",
    "checkpoint_texts",
    "checkpoints_json",
    "connect",
    "insert_checkpoint",
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
