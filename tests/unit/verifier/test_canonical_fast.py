"""The canonical-JSON fast path equals ``rfc8785.dumps`` on its shape (ADR 0005), and falls back.

Also: the fast base32 decoder accepts exactly what ``base64.b32decode`` + re-encoding accepts.
"""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st

from verifier.canonical import canonical_bytes, fast_canonical, parse_canonical
from verifier.errors import CanonicalFormError, DocumentFormatError, JsonLimitError
from verifier.qr import b32decode_canonical

SAFE = 2**53
# Any code point, including controls, U+2028/U+2029, U+007F, non-BMP and lone surrogates.
_text = st.text(st.characters(codec=None, min_codepoint=0, max_codepoint=0x10FFFF), max_size=12)
_special = st.sampled_from(["\u2028", "\u2029", "\x7f", "\x00", "\x1f", "\b", "\f", '"', "\\", "/"])
_strings = st.one_of(_text, _special, st.lists(_special, max_size=4).map("".join))
_ints = st.one_of(
    st.integers(min_value=-SAFE + 1, max_value=SAFE - 1),
    st.sampled_from([0, -1, SAFE - 1, -SAFE + 1]),
)
_keys = st.text(st.characters(min_codepoint=0, max_codepoint=127), max_size=6)
_docs = st.recursive(
    st.one_of(_strings, _ints, st.booleans(), st.none()),
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(_keys, inner, max_size=5)),
    max_leaves=20,
)


def _reference(doc: Any) -> bytes | None:
    try:
        return bytes(rfc8785.dumps(doc))
    except Exception:  # lone surrogates: rfc8785 refuses them
        return None


@settings(max_examples=600, deadline=None)
@given(_docs)
def test_fast_path_equals_rfc8785(doc: Any) -> None:
    want = _reference(doc)
    fast = fast_canonical(doc)
    if want is None:
        assert fast is None  # fell back; rfc8785 decides (and refuses)
        with pytest.raises(DocumentFormatError):
            canonical_bytes(doc)
        return
    assert fast == want
    assert canonical_bytes(doc) == want
    # And the stored bytes round-trip through the fast parser exactly like the strict one.
    assert parse_canonical(want, clause="V6", path="x") == json.loads(want)


@pytest.mark.parametrize(
    "doc",
    [
        [1.5],
        {"a": SAFE},
        {"a": -SAFE},
        {"é": 1},
        {"\U0001f600": 1, "\ufb01": 2},  # UTF-16 order differs from code point order
        "\ud800",
        [[[]]] * 1,
    ],
)
def test_outside_the_shape_falls_back(doc: Any) -> None:
    fast = fast_canonical(doc)
    assert fast is None or doc == [[[]]]
    want = _reference(doc)
    if want is None:
        with pytest.raises(DocumentFormatError):
            canonical_bytes(doc)
    else:
        assert canonical_bytes(doc) == want


def test_literals_take_the_fast_path_and_equal_rfc8785() -> None:
    doc = {"b": [True, False, None], "a": {"z": None, "eligible": True}}
    assert fast_canonical(doc) == bytes(rfc8785.dumps(doc))


def test_parse_canonical_checked_promises_strings_and_integers_only() -> None:
    """Its fast flag stays False for a document with literals (callers skip type checks on it)."""
    from verifier.canonical import parse_canonical_checked  # noqa: PLC0415

    value, fast = parse_canonical_checked(b'{"a":true}', clause="V6", path="x")
    assert value == {"a": True} and fast is False
    assert parse_canonical_checked(b'{"a":1}', clause="V6", path="x")[1] is True


def test_depth_limit_still_enforced_on_fast_path() -> None:
    ok = b"[" * 32 + b"]" * 32
    assert parse_canonical(ok, clause="V6", path="x") is not None
    with pytest.raises(JsonLimitError):
        parse_canonical(b"[" * 33 + b"]" * 33, clause="V6", path="x")


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b'{"b":1,"a":2}', "json.not_canonical"),
        (b'{"a": 1}', "json.not_canonical"),
        (b'{"a":"\\u0041"}', "json.not_canonical"),
        (b'{"a":1,"a":1}', "json.invalid"),
        (b'{"a":"\\ud800"}', "json.not_canonical"),
    ],
)
def test_non_canonical_rejected_with_strict_codes(data: bytes, code: str) -> None:
    with pytest.raises((CanonicalFormError, DocumentFormatError)) as e:
        parse_canonical(data, clause="V6", path="x")
    assert e.value.code == code


@settings(max_examples=400, deadline=None)
@given(st.binary(max_size=120), st.integers(min_value=0, max_value=31))
def test_b32_decoder_matches_base64(raw: bytes, tweak: int) -> None:
    text = base64.b32encode(raw).decode("ascii").rstrip("=")
    assert b32decode_canonical(text) == raw
    if text:  # change the last letter: canonical only if the padding bits stay zero
        alt = text[:-1] + "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"[tweak]
        decoded = base64.b32decode(alt + "=" * (-len(alt) % 8))
        canonical = base64.b32encode(decoded).decode("ascii").rstrip("=") == alt
        assert b32decode_canonical(alt) == (decoded if canonical else None)


@pytest.mark.parametrize("text", ["A", "ABC", "ABCDEF", "a", "AB=", "AB1", ""])
def test_b32_decoder_rejects_bad_lengths_and_letters(text: str) -> None:
    want: bytes | None
    try:
        want = base64.b32decode(text + "=" * (-len(text) % 8))
        if base64.b32encode(want).decode("ascii").rstrip("=") != text:
            want = None
    except ValueError:
        want = None
    if text and not text.isupper():
        want = None  # the QR decoder works on normalised (upper-case) text only
    assert b32decode_canonical(text) == want
