"""Remote casts are received, then checked (spec/remote-v2.md RV-4.1, RV-4.3, RV-4.5, RV-4.6;
ADR "remote casts are received, then checked").

* `check_cast`: RV-3.5 in full on one received cast, as a `Verdict` (runs in the checker process,
  or in the closing process at the close);
* `Checker`: a pool of one process at a lower scheduling priority that runs `check_cast` off the
  service's request path; a broken pool is replaced and its cast stays ``received``;
* `apply_verdicts`: the verdicts in one transaction on the session's store (the election thread);
* `check_received`: every cast still ``received``, checked here and now (the close, RV-4.3);
* `check_token_not_refused`, `check_not_refused_before`: RV-4.6 and a ballot already refused,
  at the cast; `receipt_status`: RV-4.4 before the close.

Nothing here decrypts a ballot or keeps a time or an order.
"""

from __future__ import annotations

import base64
import json
import logging
import multiprocessing
import os
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

import keys
from keys import remote_ballot
from tally.core.errors import TallyError
from tally.store import ElectionStore

if TYPE_CHECKING:
    from tally.remote_voting import RemoteVoting

__all__ = [
    "CHECKER_NICE",
    "MAX_REFUSALS_PER_TOKEN",
    "Checker",
    "Verdict",
    "apply_verdicts",
    "check_cast",
    "check_not_refused_before",
    "check_received",
    "check_token_not_refused",
    "receipt_status",
    "received_receipt",
]

log = logging.getLogger("tally.remote_checker")

MAX_REFUSALS_PER_TOKEN: Final = 3  # RV-4.6
CHECKER_NICE: Final = 10  # the checker yields most of a busy CPU to the service's requests
VERDICTS_PER_COMMIT: Final = 64  # at the close: one transaction per this many checked casts


@dataclass(frozen=True, slots=True)
class Verdict:
    """RV-3.5's outcome for one received cast: accepted (``code`` None) or refused with a code
    and its messages."""

    receipt: str
    code: str | None = None
    zh: str = ""
    en: str = ""

    @property
    def accepted(self) -> bool:
        return self.code is None


def check_cast(ctx: remote_ballot.BallotContext, receipt: str, token: str, ballot: Any) -> Verdict:
    """RV-3.5 in full on a received cast (``token`` base64 as stored; ``ballot`` its JCS bytes as
    stored, or the object as received).

    Returns the verdict; a ballot whose receipt is not ``receipt`` (a row edited outside the
    program) is refused with ``remote.ballot_invalid``.
    """
    doc = json.loads(ballot) if isinstance(ballot, bytes) else ballot
    try:
        checked = remote_ballot.check_ballot(ctx, doc, token=base64.b64decode(token))
    except keys.KeysError as e:
        return Verdict(receipt, e.code, e.zh, e.en)
    if checked.receipt != receipt:
        return Verdict(
            receipt,
            "remote.ballot_invalid",
            "存储的选票与其回执不符。",
            "the stored ballot does not hash to its receipt",
        )
    return Verdict(receipt)


def _lower_priority() -> None:
    """Lower the calling process's priority (RV-4.5) to nice ``CHECKER_NICE``: on a busy CPU it
    gets about a tenth of the service's share. Not Linux's idle class (``SCHED_IDLE``): that runs
    a process only when nothing else wants the CPU, so a loaded machine starved the checker and
    left a voter's cast unchecked for as long as the load lasted (a browser test timed out on the
    loaded CI machine); a niced checker still finishes."""
    os.nice(CHECKER_NICE - os.nice(0))


_CONTEXT: remote_ballot.BallotContext | None = None  # in the checker process: set at its start


def _start_checker(ctx: remote_ballot.BallotContext) -> None:
    """The pool's initializer, in the checker process: the ballot context, sent once, and the
    lowest priority."""
    global _CONTEXT  # noqa: PLW0603  (one value per checker process, set once at its start)
    _CONTEXT = ctx
    _lower_priority()


def _check_received(receipt: str, token: str, ballot: bytes) -> Verdict:
    """``check_cast`` in the checker process, against the context it was started with."""
    assert _CONTEXT is not None, "the checker process was started without its context"
    return check_cast(_CONTEXT, receipt, token, ballot)


def _ready() -> bool:  # Checker.start's first job: the process is up
    return True


class Checker:
    """A pool of one checker process (forkserver: the service holds threads and an SQLite
    connection, which ``fork`` would copy) at the lowest priority (``_lower_priority``), given the
    ballot context once when it starts; started on first use."""

    def __init__(self, ctx: remote_ballot.BallotContext) -> None:
        self.ctx = ctx
        self._pool: ProcessPoolExecutor | None = None
        self._generation = 0

    def _executor(self) -> ProcessPoolExecutor:
        if self._pool is None:
            methods = multiprocessing.get_all_start_methods()
            method = "forkserver" if "forkserver" in methods else "spawn"
            self._pool = ProcessPoolExecutor(
                max_workers=1,
                mp_context=multiprocessing.get_context(method),
                initializer=_start_checker,
                initargs=(self.ctx,),
            )
            self._generation += 1
        return self._pool

    def start(self) -> None:
        """Start the checker process and wait until it answers (it imports the group library):
        called off the event loop, so the first cast does not wait for a process to start."""
        self._executor().submit(_ready).result()

    def submit(self, receipt: str, token: str, ballot: bytes) -> tuple[int, Future[Verdict]]:
        """Queue one received cast (``token`` base64 and ``ballot`` the JCS bytes, as stored: a
        few strings to send, not the object). Returns the pool's generation and a future of the
        verdict, which raises when the checker failed (``BrokenProcessPool``: the cast stays
        received; call ``broken`` with the generation)."""
        pool = self._executor()
        return self._generation, pool.submit(_check_received, receipt, token, ballot)

    def broken(self, generation: int) -> None:
        """The pool of ``generation`` broke (its process died): the next submit starts a new
        one. A later generation is left alone."""
        if generation == self._generation and self._pool is not None:
            pool, self._pool = self._pool, None
            pool.shutdown(wait=False, cancel_futures=True)

    def shutdown(self) -> None:
        pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)


def apply_verdicts(session: RemoteVoting, verdicts: Sequence[Verdict]) -> None:
    """(RV-4.5) In one transaction: each accepted cast's state set, each refused cast's row
    deleted and its refusal kept; a verdict for a row no longer ``received`` (closed, or
    already judged) changes nothing."""
    with session.store.transaction() as conn:
        for v in verdicts:
            if v.code is None:
                ElectionStore.accept_cast(conn, v.receipt)
            else:
                ElectionStore.refuse_cast(conn, v.receipt, v.code, v.zh, v.en)


def check_received(
    session: RemoteVoting, progress: Callable[[int, int], None] | None = None
) -> int:
    """(RV-4.3) Check every cast still ``received`` in this process and apply the verdicts
    (``VERDICTS_PER_COMMIT`` a transaction); ``progress(done, total)`` after each. Returns how
    many were checked."""
    rows = session.store.received_casts()
    if not rows:
        return 0
    ctx = session.ballot_context()
    batch: list[Verdict] = []
    for i, (receipt, token, _prefix, _signature, ballot) in enumerate(rows, start=1):
        batch.append(check_cast(ctx, receipt, token, ballot))
        if len(batch) >= VERDICTS_PER_COMMIT or i == len(rows):
            apply_verdicts(session, batch)
            batch = []
        if progress is not None:
            progress(i, len(rows))
    return len(rows)


def check_token_not_refused(store: ElectionStore, token: str) -> None:
    """RV-4.6 at the cast.

    Raises:
        TallyError: ``remote.token_exhausted`` when casts with ``token`` were refused
            ``MAX_REFUSALS_PER_TOKEN`` times.
    """
    if store.token_refusals(token) >= MAX_REFUSALS_PER_TOKEN:
        raise TallyError(
            "remote.token_exhausted",
            zh=f"使用该投票凭证的选票已被拒绝 {MAX_REFUSALS_PER_TOKEN} 次，不能再投",
            en=f"ballots cast with this token were refused {MAX_REFUSALS_PER_TOKEN} times; "
            "it cannot be used again",
            clause="RV-4.6",
        )


def check_not_refused_before(store: ElectionStore, receipt: str) -> None:
    """(RV-4.1) A ballot whose receipt was refused is refused again at once, with that refusal
    (the same bytes cannot pass, and the checker is not asked twice).

    Raises:
        TallyError: the stored refusal's code and messages.
    """
    found = store.refusal(receipt)
    if found is not None:
        code, zh, en = found
        raise TallyError(code, zh=zh, en=en, clause="RV-4.1")


def received_receipt(election_id: bytes, receipt: str) -> dict[str, Any]:
    """The answer to a received cast (RV-4.1): ``remote-receipt/2`` with ``status``."""
    return {
        "format": "remote-receipt/2",
        "election_id": election_id.hex(),
        "receipt": receipt,
        "status": "received",
    }


def receipt_status(store: ElectionStore, receipt: str) -> dict[str, Any] | None:
    """(RV-4.4) A receipt not yet logged: ``received``, ``accepted``, or ``refused`` with its
    ``code``, ``zh`` and ``en``; None when the store has no such cast."""
    found = store.refusal(receipt)
    if found is not None:
        code, zh, en = found
        return {"status": "refused", "code": code, "zh": zh, "en": en}
    if store.pending_receipt(receipt):
        received = receipt in store.received_receipts()
        return {"status": "received" if received else "accepted"}
    return None
