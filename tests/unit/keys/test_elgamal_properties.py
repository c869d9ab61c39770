"""Properties of keys.elgamal against simple oracles (spec/remote-v2-crypto.md).

* encrypting, adding and threshold-decrypting gives the plain per-choice sums;
* any k of the n shares decrypt, and k − 1 do not;
* a choice of 2 (or −1) and a post over its seats cannot be given valid proofs;
* changing any bit of any field of a ballot makes it fail (parse or verify).

Examples are few and small: each post costs milliseconds of libsodium calls.
"""

from __future__ import annotations

import base64
import itertools
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from keys import elgamal as eg

ELECTION = b"\x42" * 32
FAST = settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True
)


def _ctx(key: eg.ThresholdKey, token: bytes, post: str = "committee") -> eg.ProofContext:
    return eg.ProofContext(election_id=ELECTION, public_key=key.public_key, token=token, post=post)


@st.composite
def _elections(draw: st.DrawFn) -> tuple[int, int, int, list[list[int]]]:
    seats = draw(st.integers(1, 3))
    choices = draw(st.integers(seats, seats + 2))
    ballot = st.lists(st.integers(0, 1), min_size=choices, max_size=choices).filter(
        lambda b: sum(b) <= seats
    )
    ballots = draw(st.lists(ballot, min_size=0, max_size=4))
    return seats, choices, draw(st.integers(1, 4)), ballots


@FAST
@given(election=_elections(), data=st.data())
def test_threshold_decrypted_totals_equal_the_plain_sums(
    election: tuple[int, int, int, list[list[int]]], data: st.DataObject
) -> None:
    seats, choices, n, ballots = election
    k = 1 if n == 1 else data.draw(st.integers(2, n))
    key, shares = eg.generate_threshold_key(k=k, n=n)
    posts = [
        eg.verify_post(
            _ctx(key, bytes([i]) * 32),
            eg.parse_encrypted_post(
                eg.encrypt_post(_ctx(key, bytes([i]) * 32), b, seats=seats).to_json(),
                choices=choices,
                seats=seats,
            ),
            choices=choices,
            seats=seats,
        )
        for i, b in enumerate(ballots)
    ]
    subset = data.draw(st.sampled_from(list(itertools.combinations(shares, k))))
    totals = []
    for i, ct in enumerate(eg.tally_posts(posts, choices=choices)):
        label = eg.tally_label("committee", i)
        partials = [
            eg.partial_decrypt(s, key, ct, election_id=ELECTION, label=label) for s in subset
        ]
        totals.append(
            eg.combine_partials(
                key, ct, partials, election_id=ELECTION, label=label, bound=len(ballots)
            )
        )
    assert totals == [sum(b[i] for b in ballots) for i in range(choices)]


@settings(max_examples=8, deadline=None, derandomize=True)
@given(n=st.integers(2, 5), data=st.data())
def test_k_minus_1_partial_decryptions_do_not_recover_the_total(
    n: int, data: st.DataObject
) -> None:
    """Interpolating k − 1 partial decryptions at 0 does not remove the mask r·H."""
    k = data.draw(st.integers(2, n))
    key, shares = eg.generate_threshold_key(k=k, n=n)
    ct = eg.encrypt_post(_ctx(key, b"\x01" * 32), [1], seats=1).choices[0]
    subset = data.draw(st.sampled_from(list(itertools.combinations(shares, k - 1))))
    partials = [eg.partial_decrypt(s, key, ct, election_id=ELECTION, label=b"l") for s in subset]
    lambdas = eg._lagrange_at_zero([p.index for p in partials])
    mask = eg.add_ciphertexts(
        eg.Ciphertext(alpha=eg._mul(lambdas[p.index], p.share), beta=eg._IDENTITY_POINT)
        for p in partials
    ).alpha
    g = eg._multiples_of_g(2)[1]
    assert eg._sub(ct.beta, mask) != g  # the plaintext 1 is not revealed
    assert eg._sub(ct.beta, mask) != eg.IDENTITY


@FAST
@given(m=st.sampled_from([2, 3, -1, eg.ORDER - 1]), seed=st.binary(min_size=1, max_size=8))
def test_a_choice_outside_0_and_1_cannot_be_proven(m: int, seed: bytes) -> None:
    key, _ = eg.generate_threshold_key(k=1, n=1)
    ctx = _ctx(key, b"\x05" * 32)
    rng = eg.UnsafeDeterministicScalars(seed)
    r = rng.scalar()
    ct = eg._encrypt(key.public_key, m, r)
    proof = eg._prove_range(
        eg.CHOICE_DOMAIN,
        [*ctx.statement(), eg._u32(0)],
        public_key=key.public_key,
        ct=ct,
        m=m,
        r=r,
        values=2,
        rng=rng,
    )
    statement = [*ctx.statement(), eg._u32(0)]
    multiples = eg._multiples_of_g(2)
    assert not eg._verify_range(
        eg.CHOICE_DOMAIN,
        statement,
        public_key=key.public_key,
        ct=ct,
        proof=proof,
        multiples=multiples,
    )


@FAST
@given(seats=st.integers(1, 3), extra=st.integers(1, 2), seed=st.binary(min_size=1, max_size=8))
def test_a_post_above_its_seats_cannot_be_proven(seats: int, extra: int, seed: bytes) -> None:
    key, _ = eg.generate_threshold_key(k=1, n=1)
    ctx = _ctx(key, b"\x06" * 32)
    rng = eg.UnsafeDeterministicScalars(seed)
    ones = seats + extra
    rs = [rng.scalar() for _ in range(ones)]
    cts = [eg._encrypt(key.public_key, 1, r) for r in rs]
    r_sum = rs[0]
    for r in rs[1:]:
        r_sum = eg._s_add(r_sum, r)
    proof = eg._prove_range(
        eg.SUM_DOMAIN,
        [*ctx.statement(), eg._u32(seats), eg._u32(ones)],
        public_key=key.public_key,
        ct=eg.add_ciphertexts(cts),
        m=ones,
        r=r_sum,
        values=seats + 1,
        rng=rng,
    )
    assert not eg._verify_range(
        eg.SUM_DOMAIN,
        [*ctx.statement(), eg._u32(seats), eg._u32(ones)],
        public_key=key.public_key,
        ct=eg.add_ciphertexts(cts),
        proof=proof,
        multiples=eg._multiples_of_g(seats + 1),
    )


_KEY, _ = eg.generate_threshold_key(k=2, n=2, rng=eg.UnsafeDeterministicScalars(b"tamper"))
_CTX = _ctx(_KEY, b"\x09" * 32, post="secretary")
_DOC: dict[str, Any] = eg.encrypt_post(
    _CTX, [0, 1], seats=1, rng=eg.UnsafeDeterministicScalars(b"tamper-post")
).to_json()
_FIELDS = [
    ("choices", 0),
    ("choices", 1),
    ("choice_proofs", 0),
    ("choice_proofs", 1),
    ("sum_proof", None),
]


@settings(max_examples=150, deadline=None, derandomize=True)
@given(field=st.sampled_from(_FIELDS), data=st.data())
def test_any_flipped_bit_in_any_field_makes_the_ballot_fail(
    field: tuple[str, int | None], data: st.DataObject
) -> None:
    name, index = field
    doc = {k: (list(v) if isinstance(v, list) else v) for k, v in _DOC.items()}
    raw = base64.b64decode(doc[name] if index is None else doc[name][index])
    bit = data.draw(st.integers(0, 8 * len(raw) - 1))
    flipped = bytearray(raw)
    flipped[bit // 8] ^= 1 << (bit % 8)
    encoded = base64.b64encode(bytes(flipped)).decode()
    if index is None:
        doc[name] = encoded
    else:
        doc[name][index] = encoded
    try:
        post = eg.parse_encrypted_post(doc, choices=2, seats=1)
        eg.verify_post(_CTX, post, choices=2, seats=1)
    except eg.ElGamalError:
        return
    raise AssertionError(f"bit {bit} of {name}[{index}] flipped and the ballot still verifies")


@settings(max_examples=15, deadline=None, derandomize=True)
@given(n=st.integers(1, 6), data=st.data())
def test_any_k_shares_interpolate_to_the_key_behind_the_published_h(
    n: int, data: st.DataObject
) -> None:
    """Oracle: Lagrange interpolation at 0 over the integers modulo ℓ (Python ints)."""
    k = 1 if n == 1 else data.draw(st.integers(2, n))
    key, shares = eg.generate_threshold_key(k=k, n=n)
    subset = data.draw(st.sampled_from(list(itertools.combinations(shares, k))))
    x = 0
    for s in subset:
        lam = 1
        for t in subset:
            if t.index != s.index:
                lam = lam * t.index * pow(t.index - s.index, -1, eg.ORDER) % eg.ORDER
        x = (x + lam * int.from_bytes(s.secret_bytes(), "little")) % eg.ORDER
    assert eg._base(eg._scalar(x)) == key.public_key
    assert len(key.commitments) == k


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=4)
    ),
    max_leaves=12,
)


def _mutations() -> st.SearchStrategy[Any]:
    """Arbitrary JSON, and the valid post with one member replaced by arbitrary JSON."""
    replaced = st.builds(lambda k, v: _DOC | {k: v}, st.sampled_from(sorted(_DOC)), _JSON)
    return _JSON | replaced


@settings(max_examples=300, deadline=None, derandomize=True)
@given(doc=_mutations())
def test_any_json_given_as_a_post_is_parsed_or_refused_with_an_elgamal_error(doc: Any) -> None:
    try:
        post = eg.parse_encrypted_post(doc, choices=2, seats=1)
        eg.verify_post(_CTX, post, choices=2, seats=1)
    except eg.ElGamalError:
        return
    assert doc == _DOC


@settings(max_examples=200, deadline=None, derandomize=True)
@given(doc=_JSON)
def test_any_json_given_as_a_key_or_partial_decryption_is_refused_with_an_elgamal_error(
    doc: Any,
) -> None:
    for parse in (eg.parse_threshold_key, lambda d: eg.parse_partial_decryption(d, n=3)):
        try:
            parse(doc)
        except eg.ElGamalError:
            continue
        raise AssertionError(f"{doc!r} was accepted")
