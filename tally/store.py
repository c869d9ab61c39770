"""One SQLite file per election (spec/log.md §4): the append-only log, checkpoints, sealed stocks.

Durability: WAL journal with ``synchronous=FULL``, so an acknowledged write survives a crash of the
process (and of the machine). Every change is one transaction: a command's entries, checkpoints
and stock list land together or not at all. Triggers refuse UPDATE and DELETE on every table that
holds history. SQL is always parameterised.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import sqlite_utils

from bilingual import BilingualError

__all__ = [
    "SCHEMA_VERSION",
    "ElectionStore",
    "StoreError",
    "StoredCheckpoint",
    "StoredStock",
    "transaction",
    "write_refusal",
]

SCHEMA_VERSION = 7

# Each migration takes the schema from version i to i+1; never edit one that has shipped.
_MIGRATIONS: tuple[tuple[str, ...], ...] = (
    (
        "CREATE TABLE meta (key TEXT PRIMARY KEY, value BLOB NOT NULL)",
        "CREATE TABLE log (seq INTEGER PRIMARY KEY, type TEXT NOT NULL, raw BLOB NOT NULL)",
        "CREATE TABLE checkpoints (id INTEGER PRIMARY KEY, size INTEGER NOT NULL, "
        "reason TEXT NOT NULL, body TEXT NOT NULL)",
        "CREATE TABLE checkpoint_signatures (checkpoint_id INTEGER NOT NULL "
        "REFERENCES checkpoints(id), signer TEXT NOT NULL, line TEXT NOT NULL, "
        "PRIMARY KEY (checkpoint_id, signer))",
        "CREATE TABLE stocks (post TEXT NOT NULL, round INTEGER NOT NULL, "
        "list BLOB NOT NULL, PRIMARY KEY (post, round))",
        *(
            f"CREATE TRIGGER {table}_no_{op.lower()} BEFORE {op} ON {table} "
            f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END"
            for table in ("log", "checkpoints", "checkpoint_signatures", "stocks")
            for op in ("UPDATE", "DELETE")
        ),
    ),
    (
        # Remote-voting invitations (spec/remote.md §3): only an HMAC of each code, never the code.
        "CREATE TABLE invitations (member TEXT PRIMARY KEY, code_hash BLOB NOT NULL UNIQUE, "
        "issued_at TEXT NOT NULL, expires_at TEXT NOT NULL, redeemed_at TEXT)",
    ),
    (
        # Supplementary prints (spec/ballot-qr.md §4.4): a round's parts 2, 3, ..., append-only.
        "CREATE TABLE stock_supplements (post TEXT NOT NULL, round INTEGER NOT NULL, "
        "part INTEGER NOT NULL, list BLOB NOT NULL, PRIMARY KEY (post, round, part))",
        *(
            f"CREATE TRIGGER stock_supplements_no_{op.lower()} BEFORE {op} ON stock_supplements "
            "BEGIN SELECT RAISE(ABORT, 'stock_supplements is append-only'); END"
            for op in ("UPDATE", "DELETE")
        ),
    ),
    (
        # (spec/log.md §3, V7) Each moment has one checkpoint: the same reason and size never twice.
        "CREATE UNIQUE INDEX checkpoints_once ON checkpoints (size, reason)",
    ),
    (
        # (spec/remote-v2.md RV-4.1) Remote casts accepted and not yet logged (version 2): keyed by
        # receipt, WITHOUT ROWID, no time and no sequence, so nothing in the file orders them; the
        # close logs them in receipt order and deletes the rows (RV-4.3).
        "CREATE TABLE pending_casts (receipt TEXT PRIMARY KEY, token TEXT NOT NULL UNIQUE, "
        "token_prefix TEXT NOT NULL, token_signature TEXT NOT NULL, ballot BLOB NOT NULL) "
        "WITHOUT ROWID",
    ),
    (
        # (spec/remote-v2.md RV-4.1, RV-4.5) A cast is `received` when answered and `accepted` once
        # the checker's RV-3.5 holds (rows of schema 5 were checked before they were stored); a
        # refused cast's row goes and its refusal stays under its receipt. Neither keeps a time or
        # an order (RV-4.7): no time column, WITHOUT ROWID, keyed by receipt.
        "ALTER TABLE pending_casts ADD COLUMN state TEXT NOT NULL DEFAULT 'accepted' "
        "CHECK (state IN ('received', 'accepted'))",
        "CREATE TABLE remote_refusals (receipt TEXT PRIMARY KEY, token TEXT NOT NULL, "
        "code TEXT NOT NULL, zh TEXT NOT NULL, en TEXT NOT NULL) WITHOUT ROWID",
        "CREATE INDEX remote_refusals_token ON remote_refusals (token)",
    ),
    (
        # (spec/remote-v2.md RV-4.2, RV-4.4) The receipts of each state without reading the rows:
        # `state` comes after the ballot in a row, so reading it walks the ballot's overflow
        # pages, and the board takes both lists after every group commit of casts. Receipts and
        # states only: no time, no order (RV-4.7).
        "CREATE INDEX pending_casts_state ON pending_casts (state, receipt)",
    ),
)


_CAST_COLUMNS = "SELECT receipt, token, token_prefix, token_signature, ballot FROM pending_casts "
_CAST_QUERIES: dict[str, str] = {
    where: _CAST_COLUMNS + where + "ORDER BY receipt"
    for where in ("", "WHERE state = 'accepted' ", "WHERE state = 'received' ")
}


class StoreError(BilingualError):
    """The election file cannot be used; ``code``, ``zh`` and ``en`` say why."""

    code = "store.error"


_SQLITE_IOERR, _SQLITE_FULL = 10, 13


def write_refusal(e: sqlite3.OperationalError) -> StoreError | None:
    """The refusal for a write the disk did not take (primary result codes FULL and IOERR)."""
    code = getattr(e, "sqlite_errorcode", None)
    if code is None:
        return None
    if code & 0xFF == _SQLITE_FULL:
        return StoreError(
            "store.disk_full",
            zh="磁盘已满，本次操作没有写入：请腾出磁盘空间后重试",
            en="the disk is full; nothing was written: free some disk space and try again",
        )
    if code & 0xFF == _SQLITE_IOERR:
        return StoreError(
            "store.write_failed",
            zh="写入选举文件失败，本次操作没有写入：请检查磁盘后重试",
            en="writing the election file failed; nothing was written: check the disk and retry",
        )
    return None


@contextmanager
def transaction(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """BEGIN IMMEDIATE ... COMMIT on ``conn``, or ROLLBACK on any error: all or nothing.

    The one transaction of every SQLite file the tally writes (the election file, the casework
    file). A full disk or a failed write (SQLite's FULL and IOERR, met at an insert or at the
    COMMIT) is a ``StoreError`` (``store.disk_full``, ``store.write_failed``) after the rollback,
    so every shell refuses it cleanly and the next write starts afresh.

    Raises:
        StoreError: the disk is full or the write failed; nothing was written.
    """
    try:
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
        except BaseException:
            if conn.in_transaction:  # SQLite may have rolled back already (FULL, IOERR)
                conn.execute("ROLLBACK")
            raise
        try:
            conn.execute("COMMIT")
        except sqlite3.Error:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
    except sqlite3.OperationalError as e:
        refusal = write_refusal(e)
        if refusal is None:
            raise
        raise refusal from e


@dataclass(frozen=True, slots=True)
class StoredCheckpoint:
    id: int
    size: int
    reason: str
    body: str
    signature_lines: tuple[tuple[str, str], ...]  # (signer name, full line)

    @property
    def text(self) -> str:
        return self.body + "\n" + "".join(line for _, line in self.signature_lines)


@dataclass(frozen=True, slots=True)
class StoredStock:
    post: str
    round: int
    list_json: bytes


class ElectionStore:
    """The election file. Use :meth:`create` or :meth:`open`."""

    def __init__(self, db: sqlite_utils.Database, path: Path) -> None:
        self._db = db
        self.path = path

    # -- opening -------------------------------------------------------------------------------
    @staticmethod
    def _connect(path: Path) -> sqlite_utils.Database:
        conn = sqlite3.connect(str(path), isolation_level=None, timeout=10.0)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=FULL")
        conn.execute("PRAGMA foreign_keys=ON")
        # Deleted rows (the pending remote casts at the close, RV-4.3) are overwritten, not left
        # in free pages.
        conn.execute("PRAGMA secure_delete=ON")
        return sqlite_utils.Database(conn)

    @classmethod
    def create(cls, path: Path, *, signed_manifest: bytes, election_id: bytes) -> ElectionStore:
        """Create a new election file; refuses to overwrite.

        Raises:
            StoreError: the file exists or cannot be written.
        """
        if path.exists():
            raise StoreError(
                "store.exists",
                zh=f"选举文件已存在：{path}（不会覆盖）",
                en=f"the election file already exists: {path} (never overwritten)",
            )
        try:
            store = cls(cls._connect(path), path)
            with store.transaction() as conn:
                for version, statements in enumerate(_MIGRATIONS, start=1):
                    for sql in statements:
                        conn.execute(sql)
                    conn.execute(
                        "INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)",
                        ("schema_version", str(version)),
                    )
                conn.execute(
                    "INSERT INTO meta (key, value) VALUES (?, ?)",
                    ("signed_manifest", signed_manifest),
                )
                conn.execute(
                    "INSERT INTO meta (key, value) VALUES (?, ?)", ("election_id", election_id)
                )
        except sqlite3.Error as e:
            path.unlink(missing_ok=True)
            raise StoreError(
                "store.create_failed",
                zh=f"无法创建选举文件：{e}",
                en=f"cannot create the election file: {e}",
            ) from e
        return store

    @classmethod
    def open(cls, path: Path) -> ElectionStore:
        """Open an existing election file and bring its schema up to date.

        Raises:
            StoreError: missing (``store.missing``), not a regular file (``store.not_file``),
                not an election file, or from a newer version of the software.
        """
        if not path.is_file():
            if path.exists():  # a folder, a pipe or a device: there, but no file to open
                raise StoreError(
                    "store.not_file",
                    zh=f"{path} 不是普通文件，不能作选举文件",
                    en=f"{path} is not a regular file, so it cannot be an election file",
                )
            raise StoreError(
                "store.missing", zh=f"找不到选举文件：{path}", en=f"no election file at {path}"
            )
        try:
            store = cls(cls._connect(path), path)
            version = int(store._meta("schema_version").decode())
        except (sqlite3.Error, ValueError, StoreError) as e:
            raise StoreError(
                "store.corrupt",
                zh=f"{path} 不是有效的选举文件或已损坏",
                en=f"{path} is not an election file or is damaged",
            ) from e
        if version > SCHEMA_VERSION:
            raise StoreError(
                "store.newer",
                zh="选举文件由更新版本的软件创建，请升级软件",
                en="the election file was made by a newer version of the software",
            )
        with store.transaction() as conn:
            for v in range(version, SCHEMA_VERSION):
                for sql in _MIGRATIONS[v]:
                    conn.execute(sql)
                conn.execute(
                    "UPDATE meta SET value = ? WHERE key = ?", (str(v + 1), "schema_version")
                )
        return store

    def close(self) -> None:
        self._db.conn.close()

    # -- transactions --------------------------------------------------------------------------
    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """BEGIN IMMEDIATE ... COMMIT, or ROLLBACK on any error: all or nothing (``transaction``).

        Raises:
            StoreError: the disk is full or the write failed; nothing was written.
        """
        with transaction(self._db.conn) as conn:
            yield conn

    # -- reading -------------------------------------------------------------------------------
    def _meta(self, key: str) -> bytes:
        row = self._db.conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        if row is None:
            raise StoreError("store.corrupt", zh="选举文件缺少数据", en=f"missing {key}")
        value = row[0]
        return value if isinstance(value, bytes) else str(value).encode()

    @property
    def signed_manifest(self) -> bytes:
        return self._meta("signed_manifest")

    @property
    def election_id(self) -> bytes:
        return self._meta("election_id")

    def log_rows(self) -> list[tuple[int, bytes]]:
        return list(self.iter_log_rows())

    def iter_log_rows(self) -> Iterator[tuple[int, bytes]]:
        """The log in seq order, one row at a time off the cursor (publishing a large election must
        not hold the whole log in memory)."""
        cursor = self._db.conn.execute("SELECT seq, raw FROM log ORDER BY seq")
        try:
            for seq, raw in cursor:
                yield int(seq), bytes(raw)
        finally:
            cursor.close()

    def log_rows_of_types(self, types: Sequence[str], *, since: int = 0) -> list[tuple[int, bytes]]:
        """The entries of the given types, in seq order (a few rows: round outcomes, refusals);
        ``since``: only those from that seq on (a range of the primary key, not a whole scan)."""
        marks = ", ".join("?" for _ in types)
        cursor = self._db.conn.execute(
            f"SELECT seq, raw FROM log WHERE type IN ({marks}) AND seq >= ? ORDER BY seq",  # noqa: S608
            (*types, since),
        )
        return [(int(seq), bytes(raw)) for seq, raw in cursor]

    def log_row(self, seq: int) -> bytes | None:
        """One entry's stored bytes, or None (a receipt lookup must not read the whole log)."""
        row = self._db.conn.execute("SELECT raw FROM log WHERE seq = ?", (seq,)).fetchone()
        return None if row is None else bytes(row[0])

    def latest_checkpoint_size(self) -> int:
        row = self._db.conn.execute("SELECT MAX(size) FROM checkpoints").fetchone()
        return int(row[0] or 0)

    def last_seq(self) -> int:
        """The seq of the last log entry, -1 for an empty log (O(log n): the primary key)."""
        row = self._db.conn.execute("SELECT MAX(seq) FROM log").fetchone()
        return -1 if row[0] is None else int(row[0])

    def data_version(self) -> int:
        """A number that changes when another connection, another program, commits to the file
        (SQLite's ``PRAGMA data_version``; this connection's own commits leave it alone)."""
        return int(self._db.conn.execute("PRAGMA data_version").fetchone()[0])

    def writes(self) -> int:
        """A number that grows with every row this connection inserts, updates or deletes
        (SQLite's ``total_changes``): read in memory, no query. The service compares it before
        and after a request to know whether to take a new bulletin-board snapshot."""
        return int(self._db.conn.total_changes)

    def log_size(self) -> int:
        row = self._db.conn.execute("SELECT COUNT(*) FROM log").fetchone()
        return int(row[0])

    def checkpoints_version(self) -> tuple[int, int]:
        """Changes whenever a checkpoint or a signature line is added (their largest row ids: two
        primary-key look-ups), so a reader can keep its copy of :meth:`checkpoints` until then."""
        row = self._db.conn.execute(
            "SELECT (SELECT MAX(id) FROM checkpoints), "
            "(SELECT MAX(rowid) FROM checkpoint_signatures)"
        ).fetchone()
        return int(row[0] or 0), int(row[1] or 0)

    def checkpoints(self) -> list[StoredCheckpoint]:
        sigs: dict[int, list[tuple[str, str]]] = {}
        for cid, signer, line in self._db.conn.execute(
            "SELECT checkpoint_id, signer, line FROM checkpoint_signatures ORDER BY rowid"
        ):
            sigs.setdefault(int(cid), []).append((str(signer), str(line)))
        return [
            StoredCheckpoint(
                id=int(cid),
                size=int(size),
                reason=str(reason),
                body=str(body),
                signature_lines=tuple(sigs.get(int(cid), ())),
            )
            for cid, size, reason, body in self._db.conn.execute(
                "SELECT id, size, reason, body FROM checkpoints ORDER BY id"
            )
        ]

    def stocks(self) -> list[StoredStock]:
        return list(self.iter_stocks())

    def stock_list(self, post: str, round_: int) -> bytes | None:
        """One round's sealed stock list, or None."""
        row = self._db.conn.execute(
            "SELECT list FROM stocks WHERE post = ? AND round = ? ORDER BY rowid DESC LIMIT 1",
            (post, round_),
        ).fetchone()
        return None if row is None else bytes(row[0])

    def stock_list_part(self, post: str, round_: int, part: int) -> bytes | None:
        """The sealed list of one part of a round's stock (1: the first print; 2, 3, ...: the
        supplementary prints), or None."""
        if part == 1:
            return self.stock_list(post, round_)
        row = self._db.conn.execute(
            "SELECT list FROM stock_supplements WHERE post = ? AND round = ? AND part = ?",
            (post, round_, part),
        ).fetchone()
        return None if row is None else bytes(row[0])

    def iter_stock_supplements(self) -> Iterator[tuple[StoredStock, int]]:
        """The supplementary prints' lists with their part numbers, in the order committed."""
        cursor = self._db.conn.execute(
            "SELECT post, round, part, list FROM stock_supplements ORDER BY rowid"
        )
        try:
            for p, r, n, lst in cursor:
                yield StoredStock(post=str(p), round=int(r), list_json=bytes(lst)), int(n)
        finally:
            cursor.close()

    def iter_stocks(self) -> Iterator[StoredStock]:
        """The stock lists in the order they were committed, one at a time (each holds a round's
        ballot ids, so together they grow with the election)."""
        cursor = self._db.conn.execute("SELECT post, round, list FROM stocks ORDER BY rowid")
        try:
            for p, r, lst in cursor:
                yield StoredStock(post=str(p), round=int(r), list_json=bytes(lst))
        finally:
            cursor.close()

    # -- writing (inside a transaction) --------------------------------------------------------
    @staticmethod
    def add_entries(conn: sqlite3.Connection, entries: Sequence[tuple[int, str, bytes]]) -> None:
        conn.executemany("INSERT INTO log (seq, type, raw) VALUES (?, ?, ?)", entries)

    @staticmethod
    def add_checkpoint(
        conn: sqlite3.Connection,
        *,
        size: int,
        reason: str,
        body: str,
        lines: Sequence[tuple[str, str]],
    ) -> int:
        cur = conn.execute(
            "INSERT INTO checkpoints (size, reason, body) VALUES (?, ?, ?)", (size, reason, body)
        )
        cid = int(cur.lastrowid or 0)
        ElectionStore.add_signatures(conn, cid, lines)
        return cid

    @staticmethod
    def add_signatures(
        conn: sqlite3.Connection, checkpoint_id: int, lines: Sequence[tuple[str, str]]
    ) -> None:
        conn.executemany(
            "INSERT INTO checkpoint_signatures (checkpoint_id, signer, line) VALUES (?, ?, ?)",
            [(checkpoint_id, signer, line) for signer, line in lines],
        )

    def invitation_by_hash(self, code_hash: bytes) -> tuple[str, str, str, str | None] | None:
        row = self._db.conn.execute(
            "SELECT member, issued_at, expires_at, redeemed_at FROM invitations "
            "WHERE code_hash = ?",
            (code_hash,),
        ).fetchone()
        return None if row is None else (str(row[0]), str(row[1]), str(row[2]), row[3])

    def put_invitation(
        self, *, member: str, code_hash: bytes, issued_at: str, expires_at: str
    ) -> None:
        """Store (or replace, while unredeemed) a member's invitation."""
        with self.transaction() as conn:
            row = conn.execute(
                "SELECT redeemed_at FROM invitations WHERE member = ?", (member,)
            ).fetchone()
            if row is not None and row[0] is not None:
                raise StoreError(
                    "remote.invitation_used",
                    zh="该党员的邀请码已经使用过",
                    en="this member's invitation was already redeemed",
                )
            conn.execute(
                "INSERT OR REPLACE INTO invitations (member, code_hash, issued_at, expires_at, "
                "redeemed_at) VALUES (?, ?, ?, ?, NULL)",
                (member, code_hash, issued_at, expires_at),
            )

    @staticmethod
    def redeem_invitation(conn: sqlite3.Connection, member: str, at: str) -> None:
        cur = conn.execute(
            "UPDATE invitations SET redeemed_at = ? WHERE member = ? AND redeemed_at IS NULL",
            (at, member),
        )
        if cur.rowcount != 1:
            raise StoreError(
                "remote.invitation_used", zh="邀请码已经使用过", en="invitation already used"
            )

    # -- pending remote casts (spec/remote-v2.md RV-4.1, RV-4.3) ---------------------------------
    def pending_cast_count(self) -> int:
        row = self._db.conn.execute("SELECT COUNT(*) FROM pending_casts").fetchone()
        return int(row[0])

    def pending_token_used(self, token: str) -> bool:
        row = self._db.conn.execute(
            "SELECT 1 FROM pending_casts WHERE token = ?", (token,)
        ).fetchone()
        return row is not None

    def pending_receipt(self, receipt: str) -> bool:
        row = self._db.conn.execute(
            "SELECT 1 FROM pending_casts WHERE receipt = ?", (receipt,)
        ).fetchone()
        return row is not None

    def pending_receipts(self) -> tuple[str, ...]:
        """The accepted pending receipts in ascending order (what the board lists while open,
        RV-4.2)."""
        return tuple(
            str(r[0])
            for r in self._db.conn.execute(
                "SELECT receipt FROM pending_casts WHERE state = 'accepted' ORDER BY receipt"
            )
        )

    def received_receipts(self) -> tuple[str, ...]:
        """The receipts of the casts not yet checked (RV-4.1), ascending."""
        return tuple(
            str(r[0])
            for r in self._db.conn.execute(
                "SELECT receipt FROM pending_casts WHERE state = 'received' ORDER BY receipt"
            )
        )

    def pending_casts(self) -> list[tuple[str, str, str, str, bytes]]:
        """Every pending cast, received or accepted: (receipt, token, token_prefix,
        token_signature, ballot JCS), ascending receipt order."""
        return self._casts("")

    def accepted_casts(self) -> list[tuple[str, str, str, str, bytes]]:
        """The accepted pending casts (what the close logs, RV-4.3), ascending receipt order."""
        return self._casts("WHERE state = 'accepted' ")

    def received_casts(self) -> list[tuple[str, str, str, str, bytes]]:
        """The casts still to be checked (RV-4.5), ascending receipt order."""
        return self._casts("WHERE state = 'received' ")

    def _casts(self, where: str) -> list[tuple[str, str, str, str, bytes]]:
        return [
            (str(a), str(b), str(c), str(d), bytes(e))
            for a, b, c, d, e in self._db.conn.execute(_CAST_QUERIES[where])
        ]

    @staticmethod
    def add_pending_casts(
        conn: sqlite3.Connection, rows: Sequence[tuple[str, str, str, str, bytes]]
    ) -> None:
        """Store received casts (RV-4.1): state ``received``."""
        conn.executemany(
            "INSERT INTO pending_casts "
            "(receipt, token, token_prefix, token_signature, ballot, state) "
            "VALUES (?, ?, ?, ?, ?, 'received')",
            rows,
        )

    @staticmethod
    def accept_cast(conn: sqlite3.Connection, receipt: str) -> None:
        """(RV-4.5) A received cast whose RV-3.5 holds; nothing for a row no longer received."""
        conn.execute(
            "UPDATE pending_casts SET state = 'accepted' WHERE receipt = ? AND state = 'received'",
            (receipt,),
        )

    @staticmethod
    def refuse_cast(conn: sqlite3.Connection, receipt: str, code: str, zh: str, en: str) -> None:
        """(RV-4.5) A received cast whose RV-3.5 fails: its row deleted (its token free again), its
        refusal kept under its receipt; nothing for a row no longer received."""
        row = conn.execute(
            "SELECT token FROM pending_casts WHERE receipt = ? AND state = 'received'", (receipt,)
        ).fetchone()
        if row is None:
            return
        conn.execute("DELETE FROM pending_casts WHERE receipt = ?", (receipt,))
        conn.execute(
            "INSERT OR REPLACE INTO remote_refusals (receipt, token, code, zh, en) "
            "VALUES (?, ?, ?, ?, ?)",
            (receipt, row[0], code, zh, en),
        )

    def refusal(self, receipt: str) -> tuple[str, str, str] | None:
        """(code, zh, en) of the receipt's refusal (RV-4.4), or None."""
        row = self._db.conn.execute(
            "SELECT code, zh, en FROM remote_refusals WHERE receipt = ?", (receipt,)
        ).fetchone()
        return None if row is None else (str(row[0]), str(row[1]), str(row[2]))

    def refusals(self) -> dict[str, tuple[str, str, str]]:
        """Every refusal: receipt -> (code, zh, en) (RV-4.4)."""
        return {
            str(r): (str(c), str(z), str(e))
            for r, c, z, e in self._db.conn.execute(
                "SELECT receipt, code, zh, en FROM remote_refusals"
            )
        }

    def token_refusals(self, token: str) -> int:
        """How many casts with ``token`` were refused (RV-4.6)."""
        row = self._db.conn.execute(
            "SELECT COUNT(*) FROM remote_refusals WHERE token = ?", (token,)
        ).fetchone()
        return int(row[0])

    @staticmethod
    def clear_pending_casts(conn: sqlite3.Connection) -> None:
        conn.execute("DELETE FROM pending_casts")

    def compact(self) -> None:
        """(RV-4.3) Rewrite the file so that no page keeps the order in which rows arrived: the
        WAL folded in and truncated, every page rebuilt by VACUUM (whose own WAL frames are
        folded in and truncated again). Outside any transaction."""
        conn = self._db.conn
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        conn.execute("VACUUM")
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    @staticmethod
    def add_stock(
        conn: sqlite3.Connection, *, post: str, round_: int, list_json: bytes, part: int = 1
    ) -> None:
        if part != 1:  # a supplementary print
            conn.execute(
                "INSERT INTO stock_supplements (post, round, part, list) VALUES (?, ?, ?, ?)",
                (post, round_, part, list_json),
            )
            return
        conn.execute(
            "INSERT INTO stocks (post, round, list) VALUES (?, ?, ?)", (post, round_, list_json)
        )
