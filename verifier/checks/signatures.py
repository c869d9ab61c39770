"""The parallel QR signature checker of V9 (spec/ballot-qr.md Q1-Q8, spec/bundle.md §6 V9).

The replay hands over each counted round's ballots; they are checked in batches of ``BATCH``
across a process pool (``jobs``), a bounded number queued, so memory stays flat.
"""

from __future__ import annotations

import contextlib
from array import array
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from itertools import accumulate
from typing import Any, Final, NamedTuple

from verifier import ed25519
from verifier.checks.findings import Findings
from verifier.errors import VerificationError
from verifier.qr import check_qr, qr_prefix, unproven_common

__all__ = ["BATCH", "QrBatch", "QrChecker", "QrFailure", "check_qr_batch", "qr_batch"]

BATCH: Final = 1024  # ballots per worker task: small enough to even out the last ones


class QrBatch(NamedTuple):
    """Up to BATCH ballots of one round, as a few flat values so that sending one is cheap.

    Ballot ids are 32 hex characters each (V6 checked them), so ``ids`` holds them end to end;
    ``ends[i]`` is where the i-th QR text ends in ``texts``.
    """

    kind: int
    round: int
    seqs: list[int]
    ids: str
    texts: str
    ends: array[int]


QrFailure = tuple[int, str, str, str, str, str]  # seq, ballot id, clause, code, zh, en


def qr_batch(
    kind: int, rnd: int, entries: Sequence[tuple[int, Mapping[str, Any], bytes]]
) -> QrBatch:
    texts = [body["qr"] for _, body, _ in entries]
    return QrBatch(
        kind=kind,
        round=rnd,
        seqs=[seq for seq, _, _ in entries],
        ids="".join([body["ballot_id"] for _, body, _ in entries]),
        texts="".join(texts),
        ends=array("q", accumulate(map(len, texts))),
    )


def check_qr_batch(batch: QrBatch, key: bytes, election_id: bytes) -> list[QrFailure]:
    """Worker: Q1-Q8 for each ballot of the batch, and the QR's id against the record's."""
    out = []
    loaded: bytes | ed25519.Ed25519Key = key  # if invalid, check_qr reports Q8 for each ballot
    with contextlib.suppress(ed25519.InvalidEd25519Error):
        loaded = ed25519.load_key(key)  # once per batch, not per ballot
    kind, rnd, texts, ids = batch.kind, batch.round, batch.texts, batch.ids
    # The common valid ballot in a few C calls; anything else takes check_qr (Q1-Q8 in order).
    fast = (
        loaded
        if isinstance(loaded, ed25519.Ed25519Key) and 0 < kind < 4 and 0 < rnd < 256
        else None
    )
    ends, seqs = batch.ends, batch.seqs
    if fast is None:
        slow: Iterable[int] = range(len(seqs))
    else:
        slow = unproven_common(
            texts, ends, bytes.fromhex(ids), qr_prefix(election_id, kind, rnd), fast
        )
    # check_qr gives the failure, or passes and the id mismatch is reported
    for i in slow:
        seq, qr, ballot_id = (
            seqs[i],
            texts[ends[i - 1] if i else 0 : ends[i]],
            ids[32 * i : 32 * i + 32],
        )
        try:
            ballot = check_qr(
                qr, public_key=loaded, election_id=election_id, kind=kind, round_number=rnd
            )
        except VerificationError as e:
            out.append((seq, ballot_id, e.clause, e.code, e.zh, e.en))
            continue
        if ballot.ballot_id.hex() != ballot_id:
            out.append(
                (
                    seq,
                    ballot_id,
                    "V9",
                    "ballot.qr_id_mismatch",
                    "二维码中的选票标识与记录不符",
                    f"QR ballot id {ballot.ballot_id.hex()} differs from the record",
                )
            )
    return out


class QrChecker:
    """Feeds QR checks to a process pool in bounded batches (flat memory)."""

    def __init__(self, findings: Findings, key: bytes, election_id: bytes, jobs: int) -> None:
        self._f = findings
        self._key = key
        self._eid = election_id
        self._jobs = max(1, jobs)
        self._pool: ProcessPoolExecutor | None = None
        self._pending: list[Future[list[QrFailure]]] = []
        self.checked = 0

    def add_round(
        self, kind: int, rnd: int, entries: Sequence[tuple[int, Mapping[str, Any], bytes]]
    ) -> None:
        """Check the QR of each (seq, ballot.entered body, record) of one round."""
        for start in range(0, len(entries), BATCH):
            self._submit(qr_batch(kind, rnd, entries[start : start + BATCH]))

    def _record(self, failures: list[QrFailure]) -> None:
        for seq, bid, clause, code, zh, en in failures:
            self._f.fail(
                "V9",
                code,
                f"选票二维码未通过 {clause}：{zh}",
                f"ballot QR fails {clause}: {en}",
                file="log.jsonl",
                seq=seq,
                ballot_id=bid,
                expected=f"{clause} holds",
                found=code,
            )

    def _submit(self, batch: QrBatch) -> None:
        self.checked += len(batch.seqs)
        if self._jobs == 1:
            self._record(check_qr_batch(batch, self._key, self._eid))
            return
        if self._pool is None:
            self._pool = ProcessPoolExecutor(max_workers=self._jobs)
        self._pending.append(self._pool.submit(check_qr_batch, batch, self._key, self._eid))
        # Keep about half a second of work queued per worker (the main process replays a round
        # of up to 5,000 ballots between submissions), and memory bounded.
        while len(self._pending) > 4 * self._jobs:
            self._record(self._pending.pop(0).result())

    def close(self) -> None:
        for fut in self._pending:
            self._record(fut.result())
        self._pending = []
        if self._pool is not None:
            self._pool.shutdown()
