"""Line-by-line reading of ``log.jsonl`` and ``ballots.jsonl`` with bounded memory (bundle.md §7).

The files are read in blocks and split in C, rather than with one ``readline`` call per line:
the verifier reads about two lines per ballot, so the per-line cost matters at 10^6 ballots.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Final, Protocol

__all__ = ["BLOCK", "LineReader", "Readable", "read_blocks", "read_lines"]

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


def read_blocks(
    stream: Readable, limit: int, block: int = BLOCK
) -> Iterator[tuple[int, list[bytes], str]]:
    """``read_lines`` a run of lines at a time: (number of the first line, lines, problem).

    With ``problem`` ``""``, ``lines`` are consecutive lines without a problem (at most a
    block's); otherwise ``lines`` is the one line ``read_lines`` yields with that problem.
    Flattened, the runs are exactly what ``read_lines`` yields (tests/unit/verifier/
    test_fast_paths.py). Performance: the replay handles a run of ballot lines in a few C calls
    (``verifier.checks.replay.plain``) rather than one Python step per line.
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
            if lines and max(map(len, lines)) < limit:  # the common case: the block at once
                yield n + 1, lines, ""
                n += len(lines)
            else:
                run: list[bytes] = []
                for line in lines:
                    if len(line) < limit:
                        run.append(line)
                        continue
                    if run:
                        yield n + 1, run, ""
                        n += len(run)
                        run = []
                    n += 1
                    yield n, [b""], "too_long"
                if run:
                    yield n + 1, run, ""
                    n += len(run)
            head = b""
        if skipping:
            continue
        head += rest
        if len(head) > limit:
            n += 1
            yield n, [b""], "too_long"
            head, skipping = b"", True
    if head:
        yield n + 1, [head], "no_newline"


class LineReader:
    """``read_lines`` of a stream, with a shortcut for lines the caller already knows.

    Performance (``ballots.jsonl``, one line per ballot): when the next lines are expected to be
    exactly some bytes, ``take(expected)`` compares them in one C call and consumes them, instead
    of splitting them into lines and comparing each. Any difference consumes nothing, and the
    caller then iterates line by line (``read_lines`` from that point, with the same numbering)
    to find and report it; once iterated, ``take`` always declines, so the two never interleave.
    """

    def __init__(self, stream: Readable, limit: int, block: int = BLOCK) -> None:
        self._stream = stream
        self._limit = limit
        self._block = block
        self._buf = b""  # read from the stream but not yet consumed from ``_pos`` on
        self._pos = 0
        self._n = 0  # lines consumed by ``take``
        self._lines: Iterator[tuple[int, bytes, str]] | None = None

    def take(self, expected: list[bytes]) -> bool:
        """Consume the next ``len(expected)`` lines if they are exactly ``expected``, each with
        its LF; else consume nothing and return ``False``. Each expected line must be shorter
        than the limit and hold no LF (the lines ``read_lines`` would yield with no problem)."""
        if self._lines is not None or not expected or max(map(len, expected)) >= self._limit:
            return False
        want = b"\n".join(expected) + b"\n"
        end = self._pos + len(want)
        while len(self._buf) < end:  # at most ``block`` more than ``want`` is held
            chunk = self._stream.read(max(self._block, end - len(self._buf)))
            if not chunk:
                return False
            self._buf = self._buf[self._pos :] + chunk
            end -= self._pos
            self._pos = 0
        if not self._buf.startswith(want, self._pos):
            return False
        self._pos = end
        self._n += len(expected)
        return True

    def __iter__(self) -> Iterator[tuple[int, bytes, str]]:
        return self

    def __next__(self) -> tuple[int, bytes, str]:
        """The next (line number from 1, line, problem) as ``read_lines`` gives them."""
        if self._lines is None:
            self._lines = self._rest()
        return next(self._lines)

    def _rest(self) -> Iterator[tuple[int, bytes, str]]:
        rest, offset = self._buf[self._pos :], self._n
        self._buf = b""
        for n, line, problem in read_lines(_Prefixed(rest, self._stream), self._limit, self._block):
            yield n + offset, line, problem


class _Prefixed:
    """``head`` then the rest of ``stream``, as one stream."""

    def __init__(self, head: bytes, stream: Readable) -> None:
        self._head = head
        self._stream = stream

    def read(self, n: int = -1, /) -> bytes:
        if self._head:
            head, self._head = self._head, b""
            return head
        return self._stream.read(n)
