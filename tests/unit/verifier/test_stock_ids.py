"""A stock's ``ballot_ids`` (V8) are read in a few C calls over the whole list (performance):
exactly the lists whose every id is 32 lowercase hex digits are accepted, as one regular
expression per id would accept them."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from verifier.parse.entries import stock_ids as _stock_ids

_ID = re.compile(r"[0-9a-f]{32}")

_chars = st.sampled_from("0123456789abcdefABCDEFg\u0660\uff10 ")
_ids = st.one_of(
    st.text(_chars, min_size=31, max_size=33),
    st.just("0123456789abcdef" * 2),
    st.integers(),
    st.none(),
)


@settings(max_examples=500, deadline=None)
@given(st.lists(_ids, max_size=6))
def test_stock_ids_accepts_exactly_lists_of_32_lowercase_hex(raw: list[object]) -> None:
    ok = all(type(x) is str and _ID.fullmatch(x) for x in raw)
    want = [bytes.fromhex(x) for x in raw] if ok else None  # type: ignore[arg-type]
    assert _stock_ids(raw) == want


def test_stock_ids_of_lengths_that_add_up_is_refused() -> None:
    assert _stock_ids(["a" * 31, "a" * 33]) is None
    assert _stock_ids("a" * 32) is None  # not a list
