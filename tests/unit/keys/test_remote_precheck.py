"""`precheck_ballot`: RV-3.5 without the group (spec/remote-v2.md RV-4.1, RV-3.7), what the service
checks before it answers a cast. Each defect it can see is refused with the code `check_ballot`
gives it; what needs the group (points, scalars, proofs) passes, for the checker to refuse."""

from __future__ import annotations

import base64
import copy
import json
from typing import Any

import pytest
import rfc8785
from hypothesis import given
from hypothesis import strategies as st

from keys import elgamal as eg
from keys import remote_ballot as rb

ELECTION = bytes(range(32))
TOKEN = bytes(range(100, 132))


@pytest.fixture(scope="module")
def ctx() -> rb.BallotContext:
    key, _ = eg.generate_threshold_key(k=1, n=1, rng=eg.UnsafeDeterministicScalars(b"precheck"))
    return rb.BallotContext(
        election_id=ELECTION,
        key=key,
        posts=(
            rb.PostShape("committee", listed=3, choices=5, seats=2, disapprovals=True),
            rb.PostShape("secretary", listed=2, choices=4, seats=1, disapprovals=False),
        ),
    )


@pytest.fixture(scope="module")
def ballot(ctx: rb.BallotContext) -> dict[str, Any]:
    return rb.encrypt_ballot(
        ctx,
        TOKEN,
        (rb.PostChoice((1, 0, 0, 1, 0), disapprovals=1), rb.PostChoice((0, 0, 0, 1))),
    )


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def _edit(ballot: dict[str, Any], post: int, member: str, value: Any, i: int | None = None) -> Any:
    doc = copy.deepcopy(ballot)
    if i is None:
        doc["posts"][post][member] = value
    else:
        doc["posts"][post][member][i] = value
    return doc


def _cut_post(ballot: dict[str, Any], post: int, n: int) -> Any:
    """The post with its first ``n`` choices and their proofs only (one shape, too few)."""
    doc = copy.deepcopy(ballot)
    for member in ("choices", "choice_proofs"):
        doc["posts"][post][member] = doc["posts"][post][member][:n]
    return doc


def _both_refuse(ctx: rb.BallotContext, doc: Any, code: str) -> None:
    for check in (rb.precheck_ballot, rb.check_ballot):
        with pytest.raises((rb.RemoteBallotError, eg.ElGamalError)) as e:
            check(ctx, doc, token=TOKEN)
        assert e.value.code == code, (check.__name__, e.value.en)
        assert e.value.zh and e.value.en


def test_a_valid_ballot_passes_with_the_receipt_of_check_ballot(
    ctx: rb.BallotContext, ballot: dict[str, Any]
) -> None:
    assert rb.precheck_ballot(ctx, ballot, token=TOKEN) == rb.ballot_receipt(ballot)
    assert rb.check_ballot(ctx, ballot, token=TOKEN).receipt == rb.ballot_receipt(ballot)


@pytest.mark.parametrize(
    ("edit", "code"),
    [
        (lambda b: {**b, "format": "remote-ballot/1"}, "remote.ballot_invalid"),
        (lambda b: {**b, "election_id": "0" * 64}, "remote.ballot_invalid"),
        (lambda b: {**b, "posts": b["posts"][::-1]}, "remote.ballot_invalid"),
        (lambda b: {**b, "token": _b64(bytes(32))}, "remote.token_mismatch"),
        (lambda b: {**b, "padding": "a" * 270_000}, "remote.ballot_too_large"),
        (lambda b: _edit(b, 1, "choices", b["posts"][1]["choices"][:3]), "elgamal.wrong_shape"),
        (lambda b: _cut_post(b, 1, 3), "elgamal.wrong_shape"),
        (lambda b: _edit(b, 0, "choices", _b64(bytes(63)), 0), "elgamal.encoding"),
        (lambda b: _edit(b, 0, "choices", "not base64!", 1), "elgamal.encoding"),
        (lambda b: _edit(b, 1, "choice_proofs", _b64(bytes(96)), 0), "elgamal.proof_length"),
        (lambda b: _edit(b, 1, "sum_proof", _b64(bytes(64))), "elgamal.proof_length"),
        (lambda b: _edit(b, 0, "disapprovals", {"count": "AA=="}), "elgamal.encoding"),
        (lambda b: {**b, "posts": [{**b["posts"][0], "x": 1}, b["posts"][1]]}, "elgamal.encoding"),
    ],
    ids=[
        "format",
        "another-election",
        "post-order",
        "another-token",
        "too-large",
        "choice-count",
        "choice-and-proof-count",
        "ciphertext-length",
        "ciphertext-not-base64",
        "choice-proof-length",
        "sum-proof-length",
        "disapprovals-members",
        "post-members",
    ],
)
def test_a_defect_seen_without_the_group_is_refused_with_the_code_of_check_ballot(
    ctx: rb.BallotContext, ballot: dict[str, Any], edit: Any, code: str
) -> None:
    _both_refuse(ctx, edit(ballot), code)


def test_non_canonical_base64_is_refused_as_check_ballot_refuses_it(
    ctx: rb.BallotContext, ballot: dict[str, Any]
) -> None:
    proof = ballot["posts"][1]["sum_proof"]  # 128 bytes: the last symbol has two spare bits
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    flipped = proof[:-2] + alphabet[alphabet.index(proof[-2]) ^ 1] + "="
    assert base64.b64decode(flipped) == base64.b64decode(proof)
    _both_refuse(ctx, _edit(ballot, 1, "sum_proof", flipped), "elgamal.encoding")


def test_what_needs_the_group_passes_for_the_checker_to_refuse(
    ctx: rb.BallotContext, ballot: dict[str, Any]
) -> None:
    """RV-3.7: a point off the group, a scalar above the order, a proof that does not hold."""
    off = bytearray(base64.b64decode(ballot["posts"][0]["choices"][0]))
    off[:32] = b"\xff" * 31 + b"\x7f"
    big = bytearray(base64.b64decode(ballot["posts"][0]["sum_proof"]))
    big[:32] = b"\xff" * 32
    wrong = bytearray(big)
    wrong[:32] = base64.b64decode(ballot["posts"][0]["sum_proof"])[32:64]
    for doc, code in [
        (_edit(ballot, 0, "choices", _b64(bytes(off)), 0), "elgamal.invalid_point"),
        (_edit(ballot, 0, "sum_proof", _b64(bytes(big))), "elgamal.noncanonical_scalar"),
        (_edit(ballot, 0, "sum_proof", _b64(bytes(wrong))), "elgamal.sum_proof"),
    ]:
        assert rb.precheck_ballot(ctx, doc, token=TOKEN) == rb.ballot_receipt(doc)
        with pytest.raises(eg.ElGamalError) as e:
            rb.check_ballot(ctx, doc, token=TOKEN)
        assert e.value.code == code, e.value.en


def test_the_given_jcs_bytes_make_the_receipt(
    ctx: rb.BallotContext, ballot: dict[str, Any]
) -> None:
    jcs = rb._jcs(ballot)
    assert rb.precheck_ballot(ctx, ballot, token=TOKEN, jcs=jcs) == rb.ballot_receipt(ballot)
    with pytest.raises(rb.BallotTooLargeError):
        rb.precheck_ballot(ctx, ballot, token=TOKEN, jcs=bytes(rb.MAX_BALLOT_JCS_BYTES + 1))


@given(st.binary(max_size=200), st.integers(min_value=0, max_value=200))
def test_the_fast_base64_path_takes_exactly_the_canonical_encoding_of_its_size(
    raw: bytes, size: int
) -> None:
    text = _b64(raw)
    assert rb._is_b64_of(text, size) == (len(raw) == size)
    if raw and text.endswith("="):  # a spare bit set: the same bytes, not canonical
        alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
        k = text.index("=") - 1
        other = text[:k] + alphabet[alphabet.index(text[k]) ^ 1] + text[k + 1 :]
        assert not rb._is_b64_of(other, len(raw))


@given(
    st.lists(st.binary(min_size=0, max_size=70), min_size=1, max_size=5),
    st.integers(min_value=30, max_value=66),
    st.lists(st.tuples(st.integers(min_value=0, max_value=4), st.integers(0, 100)), max_size=3),
)
def test_the_list_base64_check_takes_a_list_exactly_when_each_text_is_canonical_of_its_size(
    raws: list[bytes], size: int, flips: list[tuple[int, int]]
) -> None:
    """`_all_b64_of` checks a whole list at once; it must agree with `_is_b64_of` on every item,
    also when texts are cut, joined across items, given a spare bit or a stray padding."""
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/="
    texts = [_b64(r) for r in raws]
    for item, at in flips:  # a character replaced: another symbol, a padding, a spare bit
        if item < len(texts) and texts[item]:
            t = texts[item]
            i = at % len(t)
            texts[item] = t[:i] + alphabet[(alphabet.index(t[i]) + at) % 65] + t[i + 1 :]
    assert rb._all_b64_of(texts, size) == all(rb._is_b64_of(t, size) for t in texts)


def test_the_list_base64_check_refuses_texts_canonical_only_when_joined_or_misplaced() -> None:
    """An 87- and an 89-character text whose join is two canonical 88-character texts; a
    padding out of its place; no text, a number, a character outside ASCII."""
    good = [_b64(bytes([i]) * 64) for i in (1, 2)]
    cut = [good[0][:-1], "=" + good[1]]
    assert "".join(cut) == "".join(good)
    assert rb._all_b64_of(good, 64)
    assert not rb._all_b64_of(cut, 64)
    assert not rb._all_b64_of([], 64)
    assert not rb._all_b64_of([good[0], 7], 64)
    assert not rb._all_b64_of([good[0].replace("A", "\u00c4")], 64)
    proof = _b64(bytes(128))  # "A" * 171 + "=": the "=" moved to the front, the count right
    assert rb._all_b64_of([proof], 128)
    assert not rb._all_b64_of(["=" + proof[:-1]], 128)


def _outcome(run: Any) -> tuple[Any, ...]:
    try:
        received = run()
    except (rb.RemoteBallotError, eg.ElGamalError) as e:
        return ("refused", e.code, e.en)
    return ("received", received.receipt, received.jcs)


def _general_way(ctx: rb.BallotContext, doc: Any) -> tuple[Any, ...]:
    """The outcome of the checks without the fast path: the JCS by rfc8785, every value alone."""

    def run() -> rb.ReceivedBallot:
        jcs = rb._jcs(doc)
        return rb.ReceivedBallot(rb.precheck_ballot(ctx, doc, token=TOKEN, jcs=jcs), jcs)

    return _outcome(run)


def test_a_received_ballot_keeps_its_rfc_8785_bytes_and_the_receipt_of_check_ballot(
    ctx: rb.BallotContext, ballot: dict[str, Any]
) -> None:
    """The fast path builds the JCS bytes of a ballot of the checked shape (both posts: with and
    without disapprovals); they are rfc8785's, and hash to the receipt of RV-3.6."""
    assert rb._checked_jcs(ctx, ballot) is not None  # the fast path is the one taken
    received = rb.receive_ballot(ctx, ballot, token=TOKEN)
    assert received.jcs == rfc8785.dumps(ballot)
    assert received.receipt == rb.check_ballot(ctx, ballot, token=TOKEN).receipt
    reordered = json.loads(json.dumps(ballot, sort_keys=True))  # members in another order
    reordered["posts"] = [dict(reversed(p.items())) for p in reordered["posts"]]
    assert rb.receive_ballot(ctx, reordered, token=TOKEN) == received


_MUTANTS = st.one_of(
    st.none(),
    st.integers(),
    st.text(max_size=3),
    st.text(alphabet='ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=é\\"'),
    st.binary(min_size=30, max_size=200).map(_b64),
    st.lists(st.binary(min_size=63, max_size=65).map(_b64), max_size=6),
    st.dictionaries(st.sampled_from(["count", "count_proof", "x"]), st.just("AA==")),
)


def _paths(doc: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix]
    if isinstance(doc, dict):
        for k, v in doc.items():
            out += _paths(v, (*prefix, k))
    elif isinstance(doc, list):
        for i, v in enumerate(doc):
            out += _paths(v, (*prefix, i))
    return out


@given(st.data())
def test_the_fast_path_receives_and_refuses_exactly_as_the_general_way(
    ctx: rb.BallotContext, ballot: dict[str, Any], data: st.DataObject
) -> None:
    """Whatever one value of a valid ballot is replaced by (or a member added or removed), the
    cast's outcome (receipt and bytes, or the refusal's code and message) is the one the checks
    without the fast path give."""
    doc = copy.deepcopy(ballot)
    path = data.draw(st.sampled_from(_paths(doc)[1:]))
    parent = doc
    for step in path[:-1]:
        parent = parent[step]
    how = data.draw(st.sampled_from(["replace", "remove", "add"]))
    if how == "remove" and isinstance(parent, dict):
        del parent[path[-1]]
    elif how == "add" and isinstance(parent, dict):
        parent[data.draw(st.text(max_size=12))] = data.draw(_MUTANTS)
    else:
        parent[path[-1]] = data.draw(_MUTANTS)
    assert _outcome(lambda: rb.receive_ballot(ctx, doc, token=TOKEN)) == _general_way(ctx, doc)
