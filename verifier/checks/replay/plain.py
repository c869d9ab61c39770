"""A run of plain ``ballot.entered`` lines replayed in a few C calls (spec/bundle.md V6, V7, V9).

Performance: at 10^6 ballots nearly every log line is a ``ballot.entered`` of the open round, and
one Python step per line was most of the verifier's cost beside the signatures. ``Replay.run``
reads the log a block of lines at a time (``verifier.lines.read_blocks``) and matches every line
of the block against ``BALLOT_LINE`` (``parse_ballot_entered``'s canonical form: a
``ballot.entered`` without write-ins whose bytes are its JCS form). While nothing but ballots is
due (``Replay.plain``), ``take_run`` checks a run of consecutive such lines as a whole, each
check over the run what the line-by-line replay checks of each line:

* (V6) seq runs on from the previous entry, each ``prev`` is the hex leaf hash of the line before
  it, ``at`` never decreases and is a valid time;
* (V9, V11) every ballot is of the open round, whose ballots are returned and which is not void
  (R11); marks one of ``o x - ?`` per candidate (R7.2); the QR text in Q1 normal form; its id in
  the round's stock and in no other entry of the round.

If every check holds, the run's entries are exactly what the line-by-line replay would record
(the same state, no finding; tests/unit/verifier/test_plain_runs.py), and ``take_run`` records
them and returns the run's leaf hashes. Otherwise it changes nothing and returns ``None``: the
caller replays the run line by line, which finds and reports what is wrong.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import operator
import re
from collections.abc import Sequence
from itertools import islice
from typing import TYPE_CHECKING, Any, Final

from verifier.checks.replay.ballots import MARKS
from verifier.checks.replay.state import Open
from verifier.parse.log import BALLOT_LINE

if TYPE_CHECKING:
    from verifier.checks.replay.core import Replay

__all__ = ["BALLOT_LINE", "take_run"]

_GROUPS: Final = re.Match.groups
_SHA256: Final = hashlib.sha256
_DIGEST: Final = type(hashlib.sha256()).digest
_LEAF_PREFIX: Final = b"\x00".__add__  # (M2) SHA-256(0x00 || line)
_TIME: Final = dt.datetime.fromisoformat


def take_run(
    r: Replay,
    o: Open,
    lines: Sequence[bytes],
    matches: Sequence[re.Match[str]],
    *,
    seq: int,
    prev_hash: str,
    prev_at: dt.datetime | None,
) -> tuple[list[bytes], dt.datetime] | None:
    """Replay ``lines`` (each matched by ``BALLOT_LINE``: ``matches``) as entries ``seq``... of
    the open round ``o`` after an entry with leaf hash ``prev_hash`` at ``prev_at``.

    Returns:
        The lines' leaf hashes and the last entry's time, the entries having been recorded; or
        ``None``, nothing recorded, when any check of any line would not hold.
    """
    n = len(lines)
    if n == 0 or o.stage != "returned":  # (V11)
        return None
    if o.issued is not None and o.returned is not None and o.returned > o.issued:  # (V12) R11
        return None
    _actor, at, bid, middle, marks, post, qr, rnd, prev, seqs = zip(
        *map(_GROUPS, matches), strict=True
    )
    # (V11) every entry of the open round
    if post.count(o.post) != n or rnd.count(str(o.number)) != n:
        return None
    # (V6) seq runs on; the regular expression allows no leading zero, so text equality is enough
    if seqs != tuple(map(str, range(seq, seq + n))):
        return None
    # (V6) the hash chain: each prev is the previous line's leaf hash (M2)
    leaves = list(map(_DIGEST, map(_SHA256, map(_LEAF_PREFIX, lines))))
    if prev[0] != prev_hash or prev[1:] != tuple(map(bytes.hex, islice(leaves, n - 1))):
        return None
    # (V6) at never decreases
    try:
        times = list(map(_TIME, at))
    except ValueError:
        return None
    if (prev_at is not None and times[0] < prev_at) or not all(
        map(operator.le, times, islice(times, 1, None))
    ):
        return None
    # (V9) R7.2: one mark of o x - ? per candidate
    if set(map(len, marks)) != {len(o.candidates)} or "".join(marks).strip(MARKS):
        return None
    # (V9) Q1 normal form: the fast-path class has no tab, CR or LF, so with no space the text is
    # its own strip, and normal exactly when it is its own upper case
    texts = "".join(qr)
    if " " in texts or texts.upper() != texts:
        return None
    # (V9) each id in the round's stock, once in the round
    stock = r.stocks.get((o.post, o.number))
    if stock is None or stock.ids is None or not stock.ids.issuperset(bid):
        return None
    if len(set(bid)) != n or not o.ids.keys().isdisjoint(bid):
        return None
    # Recorded as ``ballot_entered`` records each entry (the body, and its ballot-record/1 bytes
    # as ``parse_ballot_entered`` splices them).
    o.ids.update(dict.fromkeys(bid, 1))
    p, number = o.post, o.number
    bodies: list[dict[str, Any]] = [
        {"ballot_id": b, "marks": m, "post": p, "qr": q, "round": number, "write_ins": []}
        for b, m, q in zip(bid, marks, qr, strict=True)
    ]
    records = [
        f'{{"ballot_id":"{b}","format":"ballot-record/1",{mid},"seq":{s},"write_ins":[]}}'.encode()
        for b, mid, s in zip(bid, middle, seqs, strict=True)
    ]
    o.entries.extend(zip(range(seq, seq + n), bodies, records, strict=True))
    o.entered_total += n
    return leaves, times[-1]
