"""Election-wide ballot id uniqueness (spec/bundle.md V9: no ballot id appears twice).

Memory must not grow with the number of ballots (spec/bundle.md §7), so the ids do not stay in
memory. Each round's (id, seq) pairs are sorted and appended to one scratch file as a run, with
the run's bucket boundaries (the first byte of the id picks the bucket). At the end the runs are
read back one bucket at a time: only 1/64 of the ids is in memory at once, and a set finds the
repeats. Sorting and slicing are C operations; an earlier SQLite table cost ~4 µs a ballot.
"""

from __future__ import annotations

import tempfile
from array import array
from bisect import bisect_left
from collections.abc import Iterable
from typing import Final

__all__ = ["BallotIds"]

_ID: Final = 16  # bytes of a ballot id (spec/ballot-qr.md §2)
_RECORD: Final = _ID + 8  # id, then the entry's seq (8 bytes, signed, big-endian)
_BUCKETS: Final = 64
_SHIFT: Final = 2  # first id byte >> _SHIFT is the bucket (256 / 64 = 4 byte values each)
# Bucket b starts at the first record not below this key (records are longer, so they sort
# after a key equal to their first byte).
_KEYS: Final = tuple(bytes([b << _SHIFT]) for b in range(1, _BUCKETS))


class BallotIds:
    """Ballot ids of the election, kept on disk; ``repeats()`` lists every second occurrence."""

    def __init__(self) -> None:
        # Closed by close(), at the end of the replay that owns this set.
        self._file = tempfile.TemporaryFile(prefix="verifier-ids-")  # noqa: SIM115
        self._runs: list[tuple[int, array[int]]] = []  # (file offset, bucket start records)
        self._size = 0

    def add_round(self, items: Iterable[tuple[bytes, int]]) -> None:
        """Append one round's (16-byte id, seq) pairs."""
        run = sorted([bid + seq.to_bytes(8, "big", signed=True) for bid, seq in items])
        if not run:
            return
        starts = array("q", [0])
        starts.extend(bisect_left(run, key) for key in _KEYS)
        starts.append(len(run))
        self._runs.append((self._size, starts))
        data = b"".join(run)
        self._file.write(data)
        self._size += len(data)

    def repeats(self) -> list[tuple[bytes, int, int]]:
        """(id, seq, seq of the id's first entry) for each entry whose id came before, by seq."""
        self._file.flush()
        out: list[tuple[bytes, int, int]] = []
        for bucket in range(_BUCKETS):
            records = self._bucket(bucket)
            ids = [records[i : i + _ID] for i in range(0, len(records), _RECORD)]
            if len(set(ids)) != len(ids):
                out.extend(_repeats_in(records))
        out.sort(key=lambda x: x[1])
        return out

    def _bucket(self, bucket: int) -> bytes:
        parts = []
        for offset, starts in self._runs:
            first, end = starts[bucket], starts[bucket + 1]
            if end > first:
                self._file.seek(offset + first * _RECORD)
                parts.append(self._file.read((end - first) * _RECORD))
        return b"".join(parts)

    def close(self) -> None:
        self._file.close()


def _repeats_in(records: bytes) -> list[tuple[bytes, int, int]]:
    # Rare (a failing bundle): group the bucket's records by id, each repeat against the first.
    seqs: dict[bytes, list[int]] = {}
    for i in range(0, len(records), _RECORD):
        seq = int.from_bytes(records[i + _ID : i + _RECORD], "big", signed=True)
        seqs.setdefault(records[i : i + _ID], []).append(seq)
    out: list[tuple[bytes, int, int]] = []
    for bid, found in seqs.items():
        found.sort()
        out.extend((bid, seq, found[0]) for seq in found[1:])
    return out
