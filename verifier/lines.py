"""Line-by-line reading of ``log.jsonl`` and ``ballots.jsonl`` with bounded memory (bundle.md §7).

The files are read in blocks and split in C, rather than with one ``readline`` call per line:
the verifier reads about two lines per ballot, so the per-line cost matters at 10^6 ballots.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Final, Protocol

__all__ = ["BLOCK", "Readable", "read_lines"]

BLOCK: Final = 1 << 20


class Readable(Protocol):
    """What ``read_lines`` needs of a stream."""

    def read(self, n: int = -1, /) -> bytes: ...


def read_lines(
    stream: Readable, limit: int, block: int = BLOCK
) -> Iterator[tuple[int, bytes, str]]:
    """Yield (line number from 1, line without LF, problem) for each line of ``stream``.

    ``problem`` is ``""``; ``"too_long"`` when the line with its LF would exceed ``limit`` bytes
    (then the line is ``b""`` and is skipped without being kept in memory); or ``"no_newline"``
    for a last line without LF (at most ``limit`` bytes). Memory stays below ``limit + block``
    plus one block's lines.
    """
    n = 0
    head = b""  # the start of a line whose LF has not been read yet; at most ``limit`` bytes
    skipping = False  # inside an overlong line already reported: drop up to its LF
    while chunk := stream.read(block):
        lines = chunk.split(b"\n")
        rest = lines.pop()  # after the chunk's last LF
        if lines:
            if skipping:
                del lines[0]  # the end of the overlong line: already reported
                skipping = False
            elif head:
                lines[0] = head + lines[0]
            for line in lines:
                n += 1
                if len(line) < limit:
                    yield n, line, ""
                else:
                    yield n, b"", "too_long"
            head = b""
        if skipping:
            continue
        head += rest
        if len(head) > limit:
            n += 1
            yield n, b"", "too_long"
            head, skipping = b"", True
    if head:
        yield n + 1, head, "no_newline"
