"""What the public bulletin board serves: a snapshot taken after each commit (issue 14 point 6).

The board is public and unauthenticated, so anyone can send it as many requests as they like. If
its routes went through ``ServiceState.run`` they would queue on the election's write lock and on
the one thread that owns the SQLite connection, and every check-in, entry and cast would queue
behind them. Instead, after every request that wrote to the election file, the session thread
(still under the lock) captures what the board needs into a :class:`BoardSnapshot` and publishes
it by one reference assignment; board routes read ``ServiceState.board`` and never touch the lock,
the session thread or the database (docs/adr/0017-board-snapshot.md).

The other public reads (``/api/health``, and the remote voting page's ``/api/remote/info``,
``/api/remote/pin`` and ``/api/remote/receipt``) answer from the same snapshot: it also holds the
``remote.opened`` and ``remote.cast`` entries (a few hundred rows, gathered incrementally), the
page's election info and, once remote voting has opened, the pin document (which never changes).

Taking a snapshot is cheap (small queries: the checkpoints and the few round-outcome entries);
the board itself is rendered on the first read of each language, from the snapshot's frozen inputs,
and kept with the snapshot, so a flood of readers costs one rendering per commit, not one per read.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar, cast

import keys
from tally.core.errors import TallyError
from tally.core.manifest import Manifest
from tally.core.meeting import Meeting, parse_entry
from tally.core.remote import receipt_of
from tally.election import ElectionSession
from tally.log import MerkleTree
from tally.remote_voting import cast_ballot
from tally.store import StoredCheckpoint

__all__ = ["ROUND_TYPES", "BoardSnapshot", "TreePrefix", "take"]

# The entries ``tally.history_view.session_histories`` reads from the store (round outcomes and
# quorum refusals: a few rows per round), captured with each snapshot.
ROUND_TYPES = ("round.counted", "round.void", "round.quorum_failed")
# The entries the remote page's receipt and pin routes serve (one per remote voter, plus one).
REMOTE_TYPES = ("remote.opened", "remote.cast")

T = TypeVar("T")


@dataclass(frozen=True)
class TreePrefix:
    """The first ``size`` leaves of the session's Merkle tree, readable from any thread.

    The tree is append-only and caches each complete subtree's hash once, so every node that lies
    within a committed prefix never changes: ``append`` writes past it, and ``truncate`` (undoing a
    failed transaction) cuts only above the committed size. Proofs for a size at most the
    committed size therefore read only bytes that no later commit touches (each read and each
    append is one call under the GIL on these bytearrays); no copy per commit is needed.
    """

    tree: MerkleTree
    size: int

    def leaf_hash(self, seq: int) -> bytes:
        if not 0 <= seq < self.size:
            raise IndexError(seq)
        return self.tree.leaf_hash(seq)

    def inclusion_proof(self, seq: int) -> tuple[bytes, ...]:
        if not 0 <= seq < self.size:
            raise IndexError(seq)
        return self.tree.inclusion_proof(seq, self.size)


@dataclass(frozen=True)
class _StoreView:
    """The two store reads the board makes, answered from rows captured with the snapshot."""

    _checkpoints: tuple[StoredCheckpoint, ...]
    _round_rows: tuple[tuple[int, bytes], ...]

    def checkpoints(self) -> list[StoredCheckpoint]:
        return list(self._checkpoints)

    def log_rows_of_types(self, types: Sequence[str]) -> list[tuple[int, bytes]]:
        if set(types) != set(ROUND_TYPES):
            # Fail loudly rather than answer from rows that were not captured.
            raise LookupError(f"the board snapshot holds the {ROUND_TYPES} entries, not {types}")
        return list(self._round_rows)


@dataclass(frozen=True)
class _SessionView:
    """A read-only stand-in for the session as the board's renderers read it: the manifest, the
    replayed meeting (an immutable value) and the store reads above. Any other attribute is an
    AttributeError, caught by the test that renders a whole election both ways."""

    manifest: Manifest
    meeting: Meeting
    store: _StoreView


@dataclass(frozen=True, eq=False)
class BoardSnapshot:
    """The board's inputs after one commit. Immutable; ``memo`` keeps what was rendered from it
    (a pure function of these fields), so each rendering happens once per snapshot."""

    size: int  # log entries
    checkpoints: tuple[StoredCheckpoint, ...]
    proofs: TreePrefix  # the tree up to the latest checkpoint
    _view: _SessionView
    _source: object = field(default=None, repr=False)  # the session it was taken from
    _checkpoints_version: tuple[int, int] = (0, 0)
    _memo: dict[object, Any] = field(default_factory=dict, repr=False)
    # seq -> stored bytes of each remote.opened / remote.cast entry. One dict shared by the
    # snapshots of a session and only ever added to (after a commit): copying it per commit
    # would cost O(casts) on every group commit of casts. Every row in it is committed, so a
    # snapshot may see rows newer than itself; the receipt route judges coverage by checkpoint.
    remote_rows: Mapping[int, bytes] = field(default_factory=dict, repr=False)
    # What the session's remote_info() and remote_pin() returned, or the error they raised.
    remote_info: Mapping[str, Any] | Exception | None = None
    remote_pin: Mapping[str, Any] | Exception | None = None
    _remote_key: tuple[object, ...] = ()  # what remote_info depends on, to take it again only then
    # Version 2 (spec/remote-v2.md RV-4.2, RV-4.4): the pending receipts in ascending order while
    # the window is open, and, once logged, each cast's receipt -> its leaf index.
    remote_pending: tuple[str, ...] = ()
    remote_pending_set: frozenset[str] = frozenset()
    remote_receipts: Mapping[str, int] = field(default_factory=dict, repr=False)
    # RV-4.4, RV-4.5: the receipts still to be checked (not on the board), and the refusals
    # (receipt -> code, zh, en), kept after the close too.
    remote_received: frozenset[str] = frozenset()
    remote_refused: Mapping[str, tuple[str, str, str]] = field(default_factory=dict, repr=False)

    @property
    def session(self) -> ElectionSession:
        """The snapshot as the board's renderers (written against a session) read it."""
        return cast(ElectionSession, self._view)

    def memo(self, key: object, render: Callable[[], T]) -> T:
        """``render()`` once per snapshot and ``key``; later reads get the kept value. Readers run
        on the event loop; two threads racing here would only render twice."""
        try:
            value: T = self._memo[key]
        except KeyError:
            value = self._memo[key] = render()
        return value


def take(session: ElectionSession, previous: BoardSnapshot | None = None) -> BoardSnapshot:
    """Capture the board's inputs (on the session thread, under the election lock).

    ``previous``, the last snapshot: when it was taken from the same session, only the log
    entries appended since are searched for round outcomes (the log is append-only), and the
    checkpoints are read again only if one or a signature was added, so the cost of a snapshot
    does not grow with the log."""
    store = session.store
    version = store.checkpoints_version()
    same_session = previous is not None and previous._source is session
    if previous is not None and same_session:
        rows = previous._view.store._round_rows + tuple(
            store.log_rows_of_types(ROUND_TYPES, since=previous.size)
        )
        remote_rows = cast(dict[int, bytes], previous.remote_rows)
        remote_rows.update(store.log_rows_of_types(REMOTE_TYPES, since=previous.size))
        same = previous._checkpoints_version == version
        checkpoints = previous.checkpoints if same else tuple(store.checkpoints())
    else:
        rows = tuple(store.log_rows_of_types(ROUND_TYPES))
        remote_rows = dict(store.log_rows_of_types(REMOTE_TYPES))
        checkpoints = tuple(store.checkpoints())
    covered = checkpoints[-1].size if checkpoints else 0
    kept_pin = previous.remote_pin if previous is not None and same_session else None
    r = session.meeting.remote
    remote_key = (session, r is not None, r.closed if r is not None else None)
    info = (
        previous.remote_info
        if previous is not None and previous._remote_key == remote_key
        else _outcome(session.remote.info)
    )
    pending: tuple[str, ...] = ()
    received: tuple[str, ...] = ()
    refused: Mapping[str, tuple[str, str, str]] = {}
    receipts: Mapping[str, int] = {}
    if r is not None:
        refused = store.refusals()
        if not r.closed:
            pending = store.pending_receipts()
            received = store.received_receipts()
        elif previous is not None and same_session and previous.remote_receipts:
            receipts = previous.remote_receipts
        else:
            receipts = {
                receipt_of(cast_ballot(raw)): seq
                for seq, raw in remote_rows.items()
                if parse_entry(raw).type == "remote.cast"
            }
    return BoardSnapshot(
        size=session.meeting.size,
        checkpoints=checkpoints,
        proofs=TreePrefix(session.tree, covered),
        _view=_SessionView(session.manifest, session.meeting, _StoreView(checkpoints, rows)),
        _source=session,
        _checkpoints_version=version,
        remote_rows=remote_rows,
        remote_info=info,
        _remote_key=remote_key,
        # Once given, the pin never changes (the entry and its checkpoint are in the log for good).
        remote_pin=kept_pin if isinstance(kept_pin, Mapping) else _outcome(session.remote.pin),
        remote_pending=pending,
        remote_pending_set=frozenset(pending),
        remote_receipts=receipts,
        remote_received=frozenset(received),
        remote_refused=refused,
    )


def _outcome(fn: Callable[[], Mapping[str, Any]]) -> Mapping[str, Any] | Exception:
    """``fn()``, or the refusal it raised (served to the reader as that refusal)."""
    try:
        return fn()
    except (TallyError, keys.KeysError) as e:
        return e


class BoardGate:
    """Pure ASGI middleware: at most ``limit`` board requests being worked on at once.

    Reading the snapshot needs no lock, but every request still costs the one event loop some
    CPU (parsing, middleware, rendering the response), and a station request shares that loop:
    each of its steps waits behind the steps of every request in flight. A flood of board readers
    would thus still slow the station by sheer numbers. The gate parks the excess board requests
    before any work is done for them, on a FIFO semaphore (a parked request costs nothing), and
    frees the slot as the last part of the response is handed over, before the socket drains, so
    a reader that does not read cannot hold it. Station and remote-voting requests never pass
    through it.
    """

    def __init__(self, app: Any, limit: int = 2) -> None:
        self.app = app
        self.limit = limit
        self._slots: asyncio.Semaphore | None = None

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or not is_board_path(scope["path"]):
            await self.app(scope, receive, send)
            return
        if self._slots is None:
            self._slots = asyncio.Semaphore(self.limit)
        slots = self._slots
        held = True
        await slots.acquire()

        async def send_then_free(message: Any) -> None:
            nonlocal held
            if held and message["type"] == "http.response.body" and not message.get("more_body"):
                held = False
                slots.release()
            await send(message)

        try:
            await self.app(scope, receive, send_then_free)
        finally:
            if held:
                held = False
                slots.release()


def is_board_path(path: str) -> bool:
    """The public board's pages, assets and API (bulletin.py)."""
    return path.startswith(("/board/", "/api/board")) or path == "/board"
