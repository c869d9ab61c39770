"""``check_qr_common`` (the per-ballot fast path, performance work) never accepts what ``check_qr``
(Q1-Q8 in order, spec/ballot-qr.md §5) refuses, and gives the same ballot id when it accepts;
``unproven_common`` (the same over a batch, against the records' ids) declines exactly the texts
``check_qr_common`` does not show valid with the expected id.

The fast path may decline (``None``) anything; the verifier then runs ``check_qr``. So the rule
tested is one-way: accepted by the fast path => accepted by ``check_qr`` with the same id. It
accepts every valid normalised vector, so it is really used.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from verifier import ed25519
from verifier.errors import QrError
from verifier.qr import check_qr, check_qr_common, qr_prefix, unproven_common

ROOT = Path(__file__).resolve().parents[3]
QR = ROOT / "spec" / "vectors" / "ballot-qr"
VECTORS = [json.loads(p.read_text()) for p in sorted((QR / "valid").glob("*.json"))]
INVALID = [json.loads(p.read_text()) for p in sorted((QR / "invalid").glob("*.json"))]
BASE = next(v for v in VECTORS if v["qr_text"].startswith("BQ1:"))


def _general(v: dict[str, Any], text: str) -> bytes | None:
    exp = v["expected"]
    try:
        return check_qr(
            text,
            public_key=bytes.fromhex(v["public_key"]),
            election_id=bytes.fromhex(exp["election_id"]),
            kind=exp["kind"],
            round_number=exp["round"],
        ).ballot_id
    except QrError:
        return None


def _fast(v: dict[str, Any], text: str) -> bytes | None:
    exp = v["expected"]
    try:
        key = ed25519.load_key(bytes.fromhex(v["public_key"]))
    except ed25519.InvalidEd25519Error:
        return None
    prefix = qr_prefix(bytes.fromhex(exp["election_id"]), exp["kind"], exp["round"])
    return check_qr_common(text, prefix, key)


def _agrees(v: dict[str, Any], text: str) -> bool:
    fast = _fast(v, text)
    if fast is not None:
        assert _general(v, text) == fast, text
    return fast is not None


@pytest.mark.parametrize("v", VECTORS, ids=lambda v: v["description"][:40])
def test_fast_path_accepts_normalised_valid_vectors_with_the_same_id(v: dict[str, Any]) -> None:
    text = v["qr_text"]
    if text.strip(" \t\r\n").upper() == text:
        assert _fast(v, text) == bytes.fromhex(v["result"]["ballot_id"])
    else:  # not normalised: left to check_qr, which normalises (Q1)
        assert _fast(v, text) is None


@pytest.mark.parametrize("v", INVALID, ids=lambda v: v["description"][:40])
def test_fast_path_refuses_every_invalid_vector(v: dict[str, Any]) -> None:
    assert _fast(v, v["qr_text"]) is None


@settings(max_examples=300, deadline=None)
@given(
    st.integers(min_value=0, max_value=len(BASE["qr_text"]) - 1),
    st.sampled_from("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567abz01 =:\u0410"),
    st.sampled_from(["replace", "insert", "delete"]),
)
def test_fast_path_never_accepts_a_text_check_qr_refuses(pos: int, ch: str, how: str) -> None:
    text = BASE["qr_text"]
    if how == "replace":
        text = text[:pos] + ch + text[pos + 1 :]
    elif how == "insert":
        text = text[:pos] + ch + text[pos:]
    else:
        text = text[:pos] + text[pos + 1 :]
    _agrees(BASE, text)


@pytest.mark.parametrize(
    ("kind", "rnd"), [(2, 1), (1, 2), (3, 255)], ids=["other-kind", "other-round", "deputy-255"]
)
def test_fast_path_refuses_a_ballot_counted_as_another_kind_or_round(kind: int, rnd: int) -> None:
    v = {**BASE, "expected": {**BASE["expected"], "kind": kind, "round": rnd}}
    assert _fast(v, BASE["qr_text"]) is None
    assert _general(v, BASE["qr_text"]) is None


def _mutate(text: str, pos: int, ch: str, how: str) -> str:
    pos %= len(text) or 1
    if how == "replace":
        return text[:pos] + ch + text[pos + 1 :]
    if how == "insert":
        return text[:pos] + ch + text[pos:]
    return text[:pos] + text[pos + 1 :] if how == "delete" else text


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from([v for v in VECTORS if v["qr_text"].startswith("BQ1:")]),
            st.integers(min_value=0, max_value=200),
            st.sampled_from("ABZ27az01 =_+-9\u0410"),  # _ + - and space: int() syntax
            st.sampled_from(["replace", "insert", "delete", "keep", "keep"]),
            st.booleans(),
        ),
        min_size=1,
        max_size=6,
    )
)
def test_batch_declines_exactly_what_check_qr_common_does_not_show_valid(
    batch: list[tuple[dict[str, Any], int, str, str, bool]],
) -> None:
    """One batch is one round of one election (one prefix and key): that of the first vector."""
    v0 = batch[0][0]
    exp = v0["expected"]
    key = ed25519.load_key(bytes.fromhex(v0["public_key"]))
    prefix = qr_prefix(bytes.fromhex(exp["election_id"]), exp["kind"], exp["round"])
    texts, ids, want = [], [], []
    for i, (v, pos, ch, how, right_id) in enumerate(batch):
        text = _mutate(v["qr_text"], pos, ch, how)
        bid = bytes.fromhex(v["result"]["ballot_id"])
        if not right_id:
            bid = bytes([bid[0] ^ 1]) + bid[1:]
        texts.append(text)
        ids.append(bid)
        if check_qr_common(text, prefix, key) != bid:
            want.append(i)
    ends = [sum(map(len, texts[: i + 1])) for i in range(len(texts))]
    assert unproven_common("".join(texts), ends, b"".join(ids), prefix, key) == want
