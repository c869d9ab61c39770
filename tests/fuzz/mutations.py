"""Hypothesis strategies that damage valid samples: byte edits, JSON/TOML tree edits, splices.

Random bytes rarely get past a parser's first check; a valid document with one or two edits
reaches the checks behind it. Every strategy here starts from real samples (tests/fuzz/samples.py).
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import math
from collections.abc import Sequence
from typing import Any

from hypothesis import strategies as st

__all__ = [
    "INTERESTING_BYTES",
    "json_values",
    "mutated_bytes",
    "mutated_text",
    "mutated_tree",
    "toml_text",
    "toml_values",
]

# Tokens that break parsers more often than random bytes: quotes, brackets, escapes, huge and
# odd numbers, lone surrogates, invalid UTF-8, NUL, line ends, TOML and JSON keywords.
INTERESTING_BYTES: tuple[bytes, ...] = (
    b'"',
    b"{",
    b"}",
    b"[",
    b"]",
    b",",
    b":",
    b"=",
    b"\\",
    b"\\u0000",
    b"\\ud800",
    b"\\udc00\\ud800",
    b"\x00",
    b"\n",
    b"\r\n",
    b"\n\n",
    b"\xff",
    b"\xc0\x80",
    b"\xed\xa0\x80",
    b"\xe2\x80\x94",
    b"null",
    b"true",
    b"false",
    b"[]",
    b"{}",
    b'""',
    b"-0",
    b"1e999",
    b"-1",
    b"0.5",
    b"NaN",
    b"Infinity",
    b"9" * 40,
    b"1" * 400,
    b"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[",
    b"[" * 5000,  # deeper than Python's recursion limit: recursive parsers must refuse it
    b'{"a":' * 3000,
    b"{a=" * 3000,
    b"=" * 3,
    b"BQ1:",
    b"BQ2:",
    b"2026-02-30",
    b"9999-12-31",
    b"0000-01-01",
    b"\xe4\xb8\xad",
)

_SMALL_INTS = st.sampled_from([0, -1, 1, 2, 255, 256, 2**31, 2**53 + 1, 2**63, 10**30, -(10**30)])


@st.composite
def mutated_bytes(draw: st.DrawFn, samples: Sequence[bytes], max_edits: int = 4) -> bytes:
    """One sample with 1..max_edits edits: set a byte, flip a bit, cut, delete, insert, splice."""
    data = bytearray(draw(st.sampled_from(samples)))
    for _ in range(draw(st.integers(1, max_edits))):
        n = len(data)
        op = draw(
            st.sampled_from(
                ["set", "bit", "cut", "delete", "insert", "token", "splice", "repeat", "swap"]
            )
        )
        if op in {"set", "bit"} and n:
            i = draw(st.integers(0, n - 1))
            if op == "set":
                data[i] = draw(st.integers(0, 255))
            else:
                data[i] ^= 1 << draw(st.integers(0, 7))
        elif op == "cut":
            data = data[: draw(st.integers(0, n))]
        elif op == "delete" and n:
            i = draw(st.integers(0, n - 1))
            del data[i : i + draw(st.integers(1, 32))]
        elif op == "insert":
            i = draw(st.integers(0, n))
            data[i:i] = draw(st.binary(min_size=1, max_size=16))
        elif op == "token":
            i = draw(st.integers(0, n))
            data[i:i] = draw(st.sampled_from(INTERESTING_BYTES))
        elif op == "splice":
            other = draw(st.sampled_from(samples))
            if other:
                a = draw(st.integers(0, len(other) - 1))
                piece = other[a : a + draw(st.integers(1, 256))]
                i = draw(st.integers(0, n))
                j = draw(st.integers(i, min(n, i + 256)))
                data[i:j] = piece
        elif op == "repeat" and n:
            a = draw(st.integers(0, n - 1))
            piece = data[a : a + draw(st.integers(1, 64))]
            data[a:a] = piece * draw(st.integers(1, 8))
        elif op == "swap" and n > 1:
            a, b = sorted((draw(st.integers(0, n - 1)), draw(st.integers(0, n - 1))))
            data[a], data[b] = data[b], data[a]
    return bytes(data)


def mutated_text(samples: Sequence[str], max_edits: int = 4) -> st.SearchStrategy[str]:
    """As ``mutated_bytes`` over UTF-8 samples, decoded back (bad sequences become U+FFFD or a
    lone surrogate, as a careless editor or a scanner might produce), or any text at all."""
    raw = [s.encode("utf-8") for s in samples]
    return st.one_of(
        mutated_bytes(raw, max_edits).map(lambda b: b.decode("utf-8", "replace")),
        mutated_bytes(raw, max_edits).map(lambda b: b.decode("utf-8", "surrogateescape")),
        st.text(max_size=200),
    )


def json_values(*, floats: bool = True) -> st.SearchStrategy[Any]:
    """Any JSON value, with the numbers and strings that break code (bool for int, huge ints)."""
    leaves = st.one_of(
        st.none(),
        st.booleans(),
        st.integers(),
        _SMALL_INTS,
        st.text(max_size=20),
        st.sampled_from(
            [
                "",
                "M001",
                "committee",
                "secretary",
                "comparison",
                "reconciliation",
                "o",
                "x",
                "\u2014",
            ]
        ),
        *([st.floats(allow_nan=False, allow_infinity=False)] if floats else []),
    )
    return st.recursive(
        leaves,
        lambda kids: st.lists(kids, max_size=4) | st.dictionaries(st.text(max_size=8), kids),
        max_leaves=6,
    )


def toml_values() -> st.SearchStrategy[Any]:
    """Any value a TOML document can hold (dates and times included)."""
    leaves = st.one_of(
        st.booleans(),
        st.integers(min_value=-(2**63), max_value=2**63 - 1),
        _SMALL_INTS.filter(lambda i: -(2**63) <= i < 2**63),
        st.floats(),
        st.text(max_size=20),
        st.dates(),
        st.datetimes(),
        st.times(),
        st.sampled_from(["", "M001", "committee", "secretary", "full", "R2020", "oooooo"]),
    )
    return st.recursive(
        leaves,
        lambda kids: st.lists(kids, max_size=4) | st.dictionaries(st.text(max_size=8), kids),
        max_leaves=6,
    )


def _slots(doc: Any) -> list[tuple[Any, Any]]:
    """Every (container, key) in ``doc``: the places a value can be replaced or removed."""
    out: list[tuple[Any, Any]] = []
    stack = [doc]
    while stack:
        node = stack.pop()
        items = node.items() if isinstance(node, dict) else enumerate(node)
        for k, v in items:
            out.append((node, k))
            if isinstance(v, dict | list):
                stack.append(v)
    return out


@st.composite
def mutated_tree(
    draw: st.DrawFn,
    samples: Sequence[Any],
    values: st.SearchStrategy[Any],
    max_edits: int = 3,
) -> Any:
    """A decoded document with 1..max_edits edits: a value replaced (by a random value or by
    another part of the same document), a member removed, a member added, a list item repeated."""
    doc = copy.deepcopy(draw(st.sampled_from(samples)))
    for _ in range(draw(st.integers(1, max_edits))):
        slots = _slots(doc)
        if not slots:
            return draw(values)
        parent, key = draw(st.sampled_from(slots))
        op = draw(st.sampled_from(["replace", "graft", "remove", "add", "repeat"]))
        if op == "replace":
            parent[key] = draw(values)
        elif op == "graft":
            donor, dkey = draw(st.sampled_from(slots))
            parent[key] = copy.deepcopy(donor[dkey])
        elif op == "remove":
            del parent[key]
        elif op == "add" and isinstance(parent, dict):
            parent[draw(st.text(max_size=12))] = draw(values)
        elif op == "repeat" and isinstance(parent, list):
            parent.insert(key, copy.deepcopy(parent[key]))
    return doc


def _toml_key(k: str) -> str:
    return json.dumps(k, ensure_ascii=False)


def _toml_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if math.isnan(v):
            return "nan"
        if math.isinf(v):
            return "inf" if v > 0 else "-inf"
        return repr(v)
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=False)
    if isinstance(v, dt.datetime | dt.date | dt.time):
        return v.isoformat()
    if isinstance(v, list):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{" + ", ".join(f"{_toml_key(k)} = {_toml_value(x)}" for k, x in v.items()) + "}"
    raise TypeError(type(v))


def toml_text(doc: dict[str, Any]) -> str:
    """A TOML document for ``doc`` (inline tables throughout; the parser reads it back equal
    where TOML can say it, and refuses it with its own error where it cannot)."""
    return "".join(f"{_toml_key(k)} = {_toml_value(v)}\n" for k, v in doc.items())
