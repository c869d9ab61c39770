"""The verifier's per-ballot fast paths give exactly what the general code gives (performance work).

* ``parse_ballot_entered`` accepts only lines the general parse accepts, with the same entry, and
  builds the same ``ballot-record/1`` bytes as ``rfc8785`` does;
* ``read_lines`` (block reads) yields what one ``readline`` per line yields;
* ``LineReader.take`` consumes a run of lines exactly when they are the expected bytes, and the
  lines after it are numbered and split as ``read_lines`` would;
* ``BallotIds`` finds every repeated id across rounds, against the first entry;
* ``HashingReader`` hashes the whole file however much of it was read.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
from collections.abc import Iterator
from typing import IO

import pytest
import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st

from verifier.ballot_ids import BallotIds
from verifier.bundle import HashingReader
from verifier.canonical import LINE_LIMIT, parse_canonical_checked
from verifier.errors import VerificationError
from verifier.lines import LineReader, read_lines
from verifier.model import LogEntry
from verifier.parse import parse_ballot_entered, parse_log_entry

LEAF = b"\x11" * 32


def _general(raw: bytes) -> LogEntry | None:
    try:
        value, shaped = parse_canonical_checked(raw, clause="V6", path="x", limit=LINE_LIMIT)
        return parse_log_entry(value, raw, 1, leaf_hash=LEAF, shape_checked=shaped)
    except VerificationError:
        return None


def _record(entry: LogEntry) -> bytes:
    return bytes(rfc8785.dumps({**entry.body, "format": "ballot-record/1", "seq": entry.seq}))


def _log_lines(files: dict[str, bytes]) -> list[bytes]:
    return files["log.jsonl"].splitlines()


def _assert_same_as_general(raw: bytes) -> bool:
    fast = parse_ballot_entered(raw, LEAF)
    if fast is None:
        return False
    general = _general(raw)
    assert general is not None, raw
    entry, record = fast
    assert entry == general
    assert dict(entry.body) == dict(general.body)
    assert record == _record(general)
    return True


def test_fast_parse_equals_the_general_parse_on_a_bundle(good_files: dict[str, bytes]) -> None:
    lines = _log_lines(good_files)
    taken = [raw for raw in lines if _assert_same_as_general(raw)]
    entered = [raw for raw in lines if b'"type":"ballot.entered"' in raw]
    assert taken, "no line took the fast path"
    # Only ballot lines without write-ins qualify; those with write-ins use the general path.
    assert {json.loads(x)["body"]["write_ins"] == [] for x in taken} == {True}
    assert len(taken) == sum(json.loads(x)["body"]["write_ins"] == [] for x in entered)


def _a_ballot_line(files: dict[str, bytes]) -> bytes:
    for raw in _log_lines(files):
        if parse_ballot_entered(raw, LEAF) is not None:
            return raw
    raise AssertionError("no fast-path line")


@pytest.mark.parametrize(
    ("pattern", "replacement"),
    [
        (rb'"seq":\d+', b'"seq":9007199254740992'),  # 2**53: beyond the fast path
        (rb'"round":\d+', b'"round":256'),
        (rb'"round":\d+', b'"round":0'),
        (rb'"round":(\d+)', rb'"round":0\1'),
        (rb'"actor":"', rb'"actor":"\\u0041'),
        (rb'"actor":"', b'"actor":"\xc3\xa9'),
        (rb'"at":"(\d{4})-\d\d', rb'"at":"\1-13'),  # no month 13
        (rb'"ballot_id":"', b'"ballot_id":"A'),
        (rb'"write_ins":\[\]', b'"write_ins":[1]'),
        (rb'"log-entry/1"', b'"log-entry/2"'),
        (rb'"salt":"', b'"salt":"A'),
        (rb'"salt":"[0-9a-f]{2}', b'"salt":"'),  # 31 bytes
        (rb'"salt":"[0-9a-f]{64}",', b""),  # no salt
        (rb',"post"', b' ,"post"'),
    ],
)
def test_fast_parse_declines_what_it_does_not_cover(
    good_files: dict[str, bytes], pattern: bytes, replacement: bytes
) -> None:
    raw = _a_ballot_line(good_files)
    mutated = re.sub(pattern, replacement, raw, count=1)
    assert mutated != raw
    assert parse_ballot_entered(mutated, LEAF) is None


_EDIT_BYTES = st.sampled_from([*b'"\\ {}[],:0129afAZo-x\x00\x7f', 0xC3, 0xA9])


@settings(max_examples=400, deadline=None)
@given(st.data())
def test_fast_parse_never_accepts_what_the_general_parse_refuses(
    good_files: dict[str, bytes], data: st.DataObject
) -> None:
    raw = bytearray(_a_ballot_line(good_files))
    for _ in range(data.draw(st.integers(min_value=1, max_value=3))):
        at = data.draw(st.integers(min_value=0, max_value=len(raw) - 1))
        op = data.draw(st.sampled_from(["set", "insert", "delete"]))
        if op == "delete":
            del raw[at]
        elif op == "insert":
            raw.insert(at, data.draw(_EDIT_BYTES))
        else:
            raw[at] = data.draw(_EDIT_BYTES)
    _assert_same_as_general(bytes(raw))


# ----------------------------------------------------------------------------- read_lines


def _readline_reference(stream: IO[bytes], limit: int) -> Iterator[tuple[int, bytes, str]]:
    # The former one-readline-per-line reader, kept as the oracle.
    n = 0
    while True:
        line = stream.readline(limit + 1)
        if not line:
            return
        n += 1
        if len(line) > limit:
            while line and not line.endswith(b"\n"):
                line = stream.readline(1 << 16)
            yield n, b"", "too_long"
            continue
        if not line.endswith(b"\n"):
            yield n, line, "no_newline"
            continue
        yield n, line[:-1], ""


@settings(max_examples=500, deadline=None)
@given(
    st.lists(st.sampled_from([b"a", b"bc", b"\n", b"defgh"]), max_size=30).map(b"".join),
    st.integers(min_value=1, max_value=9),
    st.integers(min_value=1, max_value=12),
)
def test_read_lines_equals_readline(data: bytes, limit: int, block: int) -> None:
    want = list(_readline_reference(io.BytesIO(data), limit))
    assert list(read_lines(io.BytesIO(data), limit, block)) == want


@settings(max_examples=500, deadline=None)
@given(
    st.lists(st.sampled_from([b"a", b"bc", b"\n", b"defgh", b"a\n"]), max_size=30).map(b"".join),
    st.integers(min_value=1, max_value=9),
    st.integers(min_value=1, max_value=12),
    st.lists(st.tuples(st.integers(0, 4), st.booleans()), max_size=5),
)
def test_line_reader_take_then_iterate_equals_read_lines(
    data: bytes, limit: int, block: int, takes: list[tuple[int, bool]]
) -> None:
    """Whatever is taken (right or wrong guesses) and then iterated, the lines come out as
    ``read_lines`` gives them: taken ones exactly, the rest with their numbers and problems."""
    want = list(read_lines(io.BytesIO(data), limit, block))
    reader = LineReader(io.BytesIO(data), limit, block)
    got: list[tuple[int, bytes, str]] = []
    for count, right in takes:
        nxt = want[len(got) : len(got) + count]
        guess = [line for _, line, _ in nxt] + [b""] * (count - len(nxt))  # past the end
        if not right and guess:
            guess[-1] += b"x"
        fits = len(nxt) == count and all(not p for _, _, p in nxt)
        taken = reader.take(guess)
        # A guess is taken exactly when it is right, whole and every line without a problem
        # (and not empty); a line at the limit is never taken (read_lines reports it too long).
        assert taken == (right and fits and count > 0)
        if taken:
            got += nxt
    got += list(reader)
    assert got == want
    assert not reader.take([b"a"])  # once iterated, never again


def test_line_reader_take_refuses_a_line_as_long_as_the_limit() -> None:
    reader = LineReader(io.BytesIO(b"abcd\nef\n"), 4)
    assert not reader.take([b"abcd", b"ef"])
    assert list(reader) == [(1, b"", "too_long"), (2, b"ef", "")]


# ----------------------------------------------------------------------------- BallotIds


def test_ballot_ids_find_repeats_across_and_within_rounds() -> None:
    ids = BallotIds()
    rounds: list[list[tuple[bytes, int]]] = []
    seq = 0
    for _ in range(6):
        items = []
        for _ in range(300):
            items.append((os.urandom(16), seq))
            seq += 1
        rounds.append(items)
    repeated = rounds[0][5][0]
    rounds[3][7] = (repeated, rounds[3][7][1])  # same id in a later round
    rounds[5][1] = (repeated, rounds[5][1][1])  # and once more
    inner = rounds[2][0][0]
    rounds[2][9] = (inner, rounds[2][9][1])  # twice in one round
    for items in rounds:
        ids.add_round(items)
    ids.add_round([])
    found = ids.repeats()
    ids.close()
    first = rounds[0][5][1]
    assert found == [
        (inner, rounds[2][9][1], rounds[2][0][1]),
        (repeated, rounds[3][7][1], first),
        (repeated, rounds[5][1][1], first),
    ]


def test_ballot_ids_without_repeats() -> None:
    ids = BallotIds()
    for r in range(3):
        ids.add_round((bytes([b, r]) + b"\x00" * 14, 256 * r + b) for b in range(256))
    assert ids.repeats() == []
    ids.close()


# ----------------------------------------------------------------------------- HashingReader


@pytest.mark.parametrize("first_read", [0, 1, 1000, 5000, -1])
def test_hashing_reader_hashes_the_whole_file(first_read: int) -> None:
    data = bytes(range(256)) * 20
    reader = HashingReader(io.BytesIO(data))
    if first_read:
        reader.read(first_read)
    reader.close()
    reader.close()
    assert reader.hexdigest == hashlib.sha256(data).hexdigest()
    assert reader.error is None
