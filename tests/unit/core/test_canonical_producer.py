"""The producer's canonical JSON (tally.core.manifest.canonical) is RFC 8785 on every value.

Its fast path (``json`` for plain values) must give exactly ``rfc8785.dumps``'s bytes, or the log's
hashes would differ from what the spec and the verifier compute.
"""

from __future__ import annotations

from typing import Any

import pytest
import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st

from tally.core.manifest import canonical

SAFE = 2**53
_text = st.text(st.characters(codec=None, min_codepoint=0, max_codepoint=0x10FFFF), max_size=12)
_special = st.sampled_from(["\u2028", "\u2029", "\x7f", "\x00", "\x1f", "\b", "\f", '"', "\\", "/"])
_values = st.recursive(
    st.one_of(
        _text,
        _special,
        st.integers(min_value=-SAFE - 2, max_value=SAFE + 2),
        st.booleans(),
        st.none(),
    ),
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.one_of(_text, _special), inner, max_size=5),
    ),
    max_leaves=20,
)


def _reference(value: Any) -> bytes | None:
    try:
        return bytes(rfc8785.dumps(value))
    except Exception:  # lone surrogates, integers beyond 2**53
        return None


@settings(max_examples=800, deadline=None)
@given(_values)
def test_canonical_equals_rfc8785_or_refuses_like_it(value: Any) -> None:
    want = _reference(value)
    if want is None:
        with pytest.raises(Exception):  # noqa: B017 - rfc8785's own error family
            canonical(value)
    else:
        assert canonical(value) == want


@pytest.mark.parametrize(
    "value",
    [{"\U0001f600": 1, "\ufb01": 2}, {"b": 1, "a": [1, "\u2028"]}, {"x": SAFE - 1}, "\x7f\x1f"],
)
def test_canonical_matches_rfc8785_on_edge_values(value: Any) -> None:
    assert canonical(value) == rfc8785.dumps(value)
