"""keys.elgamal: encodings, ballot proofs, threshold decryption (spec/remote-v2-crypto.md).

Each test names the rule it shows; hostile inputs each get their specific error code.
"""

from __future__ import annotations

import base64
import pickle
from typing import Any

import pysodium
import pytest

from keys import elgamal as eg

ELECTION = bytes(range(32))
OTHER_ELECTION = bytes(range(1, 33))
TOKEN = b"\x07" * 32
OTHER_TOKEN = b"\x08" * 32
P = 2**255 - 19  # the field prime of Curve25519

# RFC 9496 Appendix A.1: the encodings of 0·B, 1·B, 2·B.
RFC9496_MULTIPLES = (
    "0000000000000000000000000000000000000000000000000000000000000000",
    "e2f2ae0a6abc4e71a884a961c500515f58e30b6aa582dd8db6a65945e08d2d76",
    "6a493210f7499cd17fecb510ae0cea23a110e8d5b901f8acadd3095c73a3b919",
)


@pytest.fixture(scope="module")
def threshold() -> tuple[eg.ThresholdKey, tuple[eg.KeyShare, ...]]:
    return eg.generate_threshold_key(k=2, n=3, rng=eg.UnsafeDeterministicScalars(b"unit-key"))


def _context(
    key: eg.ThresholdKey,
    *,
    election: bytes = ELECTION,
    token: bytes = TOKEN,
    post: str = "secretary",
) -> eg.ProofContext:
    return eg.ProofContext(election_id=election, public_key=key.public_key, token=token, post=post)


def _flip(data: bytes, index: int) -> bytes:
    return data[:index] + bytes([data[index] ^ 0x01]) + data[index + 1 :]


# --------------------------------------------------------------------------- encodings (§2)


def test_the_group_is_ristretto255_with_the_rfc9496_generator() -> None:
    multiples = [
        eg.parse_point(bytes.fromhex(h), field="p", allow_identity=True) for h in RFC9496_MULTIPLES
    ]
    assert eg._multiples_of_g(3) == tuple(multiples)


@pytest.mark.parametrize("size", [0, 31, 33, 64])
def test_a_point_of_another_length_is_an_encoding_error(size: int) -> None:
    with pytest.raises(eg.EncodingError) as e:
        eg.parse_point(b"\x01" * size, field="p")
    assert e.value.code == "elgamal.encoding"


@pytest.mark.parametrize(
    "encoding",
    [
        P.to_bytes(32, "little"),  # the field element 0 written as p: not canonical
        (P + 2).to_bytes(32, "little"),  # 2 written as p + 2
        (1).to_bytes(32, "little"),  # a negative (odd) field element: refused by RFC 9496
        b"\xff" * 32,  # the high bit set
        bytes.fromhex(RFC9496_MULTIPLES[1])[:31] + b"\x80",  # bit 255 set, the rest not canonical
        # G with bit 255 set: libsodium 1.0.18 accepts it as G; RFC 9496 does not
        bytes.fromhex(RFC9496_MULTIPLES[1])[:31] + bytes([0x76 | 0x80]),
    ],
)
def test_a_non_canonical_point_encoding_is_refused(encoding: bytes) -> None:
    with pytest.raises(eg.InvalidPointError) as e:
        eg.parse_point(encoding, field="p")
    assert e.value.code == "elgamal.invalid_point"


def test_the_identity_is_refused_unless_allowed() -> None:
    with pytest.raises(eg.IdentityPointError) as e:
        eg.parse_point(eg.IDENTITY, field="p")
    assert e.value.code == "elgamal.identity"
    assert eg.parse_point(eg.IDENTITY, field="p", allow_identity=True) == eg.IDENTITY


@pytest.mark.parametrize("value", [eg.ORDER, eg.ORDER + 1, 2**255, 2**256 - 1])
def test_a_scalar_not_below_the_group_order_is_refused(value: int) -> None:
    with pytest.raises(eg.NonCanonicalScalarError) as e:
        eg.parse_scalar(value.to_bytes(32, "little"), field="s")
    assert e.value.code == "elgamal.noncanonical_scalar"


def test_the_largest_canonical_scalar_is_accepted() -> None:
    assert eg.parse_scalar((eg.ORDER - 1).to_bytes(32, "little"), field="s")


def test_a_scalar_of_another_length_is_an_encoding_error() -> None:
    with pytest.raises(eg.EncodingError):
        eg.parse_scalar(b"\x00" * 31, field="s")


def test_scalar_multiplication_yields_the_identity_where_libsodium_refuses() -> None:
    g = eg._multiples_of_g(2)[1]
    with pytest.raises(ValueError):  # what libsodium itself does: -1
        pysodium.crypto_scalarmult_ristretto255(b"\x00" * 32, g)
    assert eg._mul(eg._scalar(0), g) == eg.IDENTITY
    assert eg._mul(eg._scalar(5), eg.Point(eg.IDENTITY)) == eg.IDENTITY
    assert eg._base(eg._scalar(0)) == eg.IDENTITY
    assert eg._base(eg._scalar(eg.ORDER)) == eg.IDENTITY


def test_the_sum_over_no_ciphertext_is_the_identity_pair() -> None:
    assert eg.add_ciphertexts([]) == eg.ZERO_CIPHERTEXT
    assert eg.ZERO_CIPHERTEXT.to_bytes() == bytes(64)


def test_a_ballot_ciphertext_with_an_identity_half_is_refused() -> None:
    g = bytes.fromhex(RFC9496_MULTIPLES[1])
    with pytest.raises(eg.IdentityPointError):
        eg.parse_ciphertext(eg.IDENTITY + g, field="c")
    with pytest.raises(eg.IdentityPointError):
        eg.parse_ciphertext(g + eg.IDENTITY, field="c")
    assert eg.parse_ciphertext(bytes(64), field="sum", allow_identity=True) == eg.ZERO_CIPHERTEXT


def test_a_ciphertext_of_another_length_is_an_encoding_error() -> None:
    with pytest.raises(eg.EncodingError):
        eg.parse_ciphertext(bytes.fromhex(RFC9496_MULTIPLES[1]) * 2 + b"\x00", field="c")


# --------------------------------------------------------------------------- ballot proofs (§5, §6)


def test_an_honest_post_verifies_and_round_trips_through_json(threshold: Any) -> None:
    key, _ = threshold
    ctx = _context(key)
    post = eg.encrypt_post(ctx, [0, 1], seats=1)
    again = eg.parse_encrypted_post(post.to_json(), choices=2, seats=1)
    assert again == post
    assert eg.verify_post(ctx, again, choices=2, seats=1) is again


@pytest.mark.parametrize("approvals", [[2, 0], [1, -1]])
def test_encrypt_post_refuses_a_choice_other_than_0_or_1(
    threshold: Any, approvals: list[int]
) -> None:
    with pytest.raises(eg.InvalidParametersError):
        eg.encrypt_post(_context(threshold[0]), approvals, seats=1)


def test_encrypt_post_refuses_an_over_vote(threshold: Any) -> None:
    with pytest.raises(eg.InvalidParametersError):
        eg.encrypt_post(_context(threshold[0]), [1, 1], seats=1)


def test_a_proof_made_for_another_election_does_not_verify(threshold: Any) -> None:
    key, _ = threshold
    post = eg.encrypt_post(_context(key, election=OTHER_ELECTION), [1, 0], seats=1)
    with pytest.raises(eg.ChoiceProofError) as e:
        eg.verify_post(_context(key), post, choices=2, seats=1)
    assert e.value.code == "elgamal.choice_proof"


def test_a_ballot_replayed_under_another_credential_does_not_verify(threshold: Any) -> None:
    key, _ = threshold
    post = eg.encrypt_post(_context(key), [1, 0], seats=1)
    with pytest.raises(eg.ChoiceProofError):
        eg.verify_post(_context(key, token=OTHER_TOKEN), post, choices=2, seats=1)


def test_a_post_ballot_for_another_post_is_refused(threshold: Any) -> None:
    key, _ = threshold
    post = eg.encrypt_post(_context(key, post="deputy_secretary"), [1, 0], seats=1)
    with pytest.raises(eg.WrongShapeError) as e:
        eg.verify_post(_context(key), post, choices=2, seats=1)
    assert e.value.code == "elgamal.wrong_shape"
    relabelled = eg.EncryptedPost(
        post="secretary",
        choices=post.choices,
        choice_proofs=post.choice_proofs,
        sum_proof=post.sum_proof,
    )
    with pytest.raises(eg.ChoiceProofError):  # the post is in every proof's transcript
        eg.verify_post(_context(key), relabelled, choices=2, seats=1)


def test_swapping_two_choices_with_their_proofs_is_caught(threshold: Any) -> None:
    key, _ = threshold
    ctx = _context(key)
    post = eg.encrypt_post(ctx, [1, 0], seats=1)
    swapped = eg.EncryptedPost(
        post=post.post,
        choices=post.choices[::-1],
        choice_proofs=post.choice_proofs[::-1],
        sum_proof=post.sum_proof,
    )
    with pytest.raises(eg.ChoiceProofError):
        eg.verify_post(ctx, swapped, choices=2, seats=1)


def test_a_post_with_another_number_of_choices_is_refused(threshold: Any) -> None:
    key, _ = threshold
    ctx = _context(key)
    post = eg.encrypt_post(ctx, [1, 0, 0], seats=1)
    with pytest.raises(eg.WrongShapeError):
        eg.verify_post(ctx, post, choices=2, seats=1)
    with pytest.raises(eg.WrongShapeError):
        eg.parse_encrypted_post(post.to_json(), choices=2, seats=1)


def test_a_sum_proof_for_other_seats_has_the_wrong_length(threshold: Any) -> None:
    key, _ = threshold
    ctx = _context(key)
    post = eg.encrypt_post(ctx, [1, 0, 0], seats=2)
    with pytest.raises(eg.ProofLengthError) as e:
        eg.parse_encrypted_post(post.to_json(), choices=3, seats=1)
    assert e.value.code == "elgamal.proof_length"
    with pytest.raises(eg.ProofLengthError):
        eg.verify_post(ctx, post, choices=3, seats=1)


def test_a_ciphertext_of_2_with_a_0_or_1_proof_attempt_does_not_verify(threshold: Any) -> None:
    key, _ = threshold
    ctx = _context(key)
    rng = eg.UnsafeDeterministicScalars(b"cheat")
    r = rng.scalar()
    ct = eg._encrypt(key.public_key, 2, r)
    proof = eg._prove_range(
        eg.CHOICE_DOMAIN,
        [*ctx.statement(), eg._u32(0)],
        public_key=key.public_key,
        ct=ct,
        m=2,
        r=r,
        values=2,
        rng=rng,
    )
    honest = eg.encrypt_post(ctx, [0], seats=1)
    forged = eg.EncryptedPost(
        post=ctx.post, choices=(ct,), choice_proofs=(proof,), sum_proof=honest.sum_proof
    )
    with pytest.raises(eg.ChoiceProofError):
        eg.verify_post(ctx, forged, choices=1, seats=1)


def test_an_over_vote_cannot_be_given_a_valid_sum_proof(threshold: Any) -> None:
    key, _ = threshold
    ctx = _context(key)
    rng = eg.UnsafeDeterministicScalars(b"overvote")
    rs = [rng.scalar(), rng.scalar()]
    cts = tuple(eg._encrypt(key.public_key, 1, r) for r in rs)
    proofs = tuple(
        eg._prove_range(
            eg.CHOICE_DOMAIN,
            [*ctx.statement(), eg._u32(i)],
            public_key=key.public_key,
            ct=ct,
            m=1,
            r=r,
            values=2,
            rng=rng,
        )
        for i, (ct, r) in enumerate(zip(cts, rs, strict=True))
    )
    sum_proof = eg._prove_range(
        eg.SUM_DOMAIN,
        [*ctx.statement(), eg._u32(1), eg._u32(2)],
        public_key=key.public_key,
        ct=eg.add_ciphertexts(cts),
        m=2,
        r=eg._s_add(rs[0], rs[1]),
        values=2,
        rng=rng,
    )
    over = eg.EncryptedPost(post=ctx.post, choices=cts, choice_proofs=proofs, sum_proof=sum_proof)
    with pytest.raises(eg.SumProofError) as e:
        eg.verify_post(ctx, over, choices=2, seats=1)
    assert e.value.code == "elgamal.sum_proof"


def _post_doc(threshold: Any) -> dict[str, Any]:
    return eg.encrypt_post(_context(threshold[0]), [1, 0], seats=1).to_json()


def test_a_post_document_with_an_unknown_field_is_refused(threshold: Any) -> None:
    doc = _post_doc(threshold) | {"extra": 1}
    with pytest.raises(eg.EncodingError):
        eg.parse_encrypted_post(doc, choices=2, seats=1)


def test_non_canonical_base64_in_a_post_is_refused(threshold: Any) -> None:
    doc = _post_doc(threshold)
    doc["choices"][0] = doc["choices"][0].rstrip("=")
    with pytest.raises(eg.EncodingError):
        eg.parse_encrypted_post(doc, choices=2, seats=1)


def test_a_choice_proof_of_another_length_is_refused(threshold: Any) -> None:
    doc = _post_doc(threshold)
    doc["choice_proofs"][1] = base64.b64encode(
        base64.b64decode(doc["choice_proofs"][1])[:96]
    ).decode()
    with pytest.raises(eg.ProofLengthError):
        eg.parse_encrypted_post(doc, choices=2, seats=1)


def test_a_proof_scalar_above_the_order_is_refused(threshold: Any) -> None:
    doc = _post_doc(threshold)
    raw = base64.b64decode(doc["sum_proof"])
    doc["sum_proof"] = base64.b64encode((eg.ORDER + 3).to_bytes(32, "little") + raw[32:]).decode()
    with pytest.raises(eg.NonCanonicalScalarError):
        eg.parse_encrypted_post(doc, choices=2, seats=1)


def test_a_proof_scalar_replaced_by_its_non_canonical_twin_is_refused(threshold: Any) -> None:
    """s and s + ℓ act alike in libsodium; only the canonical one may pass (no malleability)."""
    doc = _post_doc(threshold)
    raw = base64.b64decode(doc["sum_proof"])
    s = int.from_bytes(raw[64:96], "little")  # below ℓ < 2^253: s + ℓ still fits 32 bytes
    twin = raw[:64] + (s + eg.ORDER).to_bytes(32, "little") + raw[96:]
    doc["sum_proof"] = base64.b64encode(twin).decode()
    with pytest.raises(eg.NonCanonicalScalarError):
        eg.parse_encrypted_post(doc, choices=2, seats=1)


# --------------------------------------------------------------------------- threshold (§7-§9)


@pytest.mark.parametrize(("k", "n"), [(0, 3), (4, 3), (1, 3), (2, 33), (1, 0)])
def test_a_threshold_outside_the_rule_is_refused(k: int, n: int) -> None:
    with pytest.raises(eg.InvalidParametersError) as e:
        eg.generate_threshold_key(k=k, n=n)
    assert e.value.code == "elgamal.parameters"


def test_a_single_scrutineer_holds_the_whole_key_as_share_1() -> None:
    key, shares = eg.generate_threshold_key(k=1, n=1)
    assert key.share_public_key(1) == key.public_key
    eg.verify_share(key, shares[0])


def test_every_share_matches_the_feldman_commitments(threshold: Any) -> None:
    key, shares = threshold
    for share in shares:
        eg.verify_share(key, share)


def test_a_share_under_another_index_does_not_match_the_commitments(threshold: Any) -> None:
    key, shares = threshold
    moved = eg.KeyShare.from_bytes(index=2, data=shares[0].secret_bytes())
    with pytest.raises(eg.ShareMismatchError) as e:
        eg.verify_share(key, moved)
    assert e.value.code == "elgamal.share_mismatch"
    with pytest.raises(eg.ShareMismatchError):  # and it is refused before decrypting anything
        eg.partial_decrypt(moved, key, eg.ZERO_CIPHERTEXT, election_id=ELECTION, label=b"x")


def test_a_key_share_never_prints_or_pickles_its_value(threshold: Any) -> None:
    share = threshold[1][0]
    assert repr(share) == "KeyShare(index=1)"
    assert share.secret_bytes().hex() not in repr(share)
    with pytest.raises(TypeError):
        pickle.dumps(share)


def test_the_published_key_round_trips_and_refuses_an_identity_commitment(threshold: Any) -> None:
    key, _ = threshold
    assert eg.parse_threshold_key(key.to_json()) == key
    doc = key.to_json()
    doc["commitments"][1] = base64.b64encode(eg.IDENTITY).decode()
    with pytest.raises(eg.IdentityPointError):
        eg.parse_threshold_key(doc)
    with pytest.raises(eg.EncodingError):
        eg.parse_threshold_key(key.to_json() | {"k": 3})


def _encrypted_total(key: eg.ThresholdKey, votes: list[list[int]]) -> eg.Ciphertext:
    posts = [
        eg.encrypt_post(_context(key, token=bytes([i]) * 32), v, seats=1)
        for i, v in enumerate(votes)
    ]
    return eg.tally_posts(posts, choices=2)[0]


def test_k_partial_decryptions_give_the_total_and_no_ballot_is_opened(threshold: Any) -> None:
    key, shares = threshold
    total = _encrypted_total(key, [[1, 0], [1, 0], [0, 1]])
    label = eg.tally_label("secretary", 0)
    partials = [
        eg.partial_decrypt(s, key, total, election_id=ELECTION, label=label) for s in shares[1:]
    ]
    assert (
        eg.combine_partials(key, total, partials, election_id=ELECTION, label=label, bound=3) == 2
    )


def test_the_empty_sum_decrypts_to_zero(threshold: Any) -> None:
    key, shares = threshold
    partials = [
        eg.partial_decrypt(s, key, eg.ZERO_CIPHERTEXT, election_id=ELECTION, label=b"e")
        for s in shares[:2]
    ]
    assert partials[0].share == eg.IDENTITY
    assert (
        eg.combine_partials(
            key, eg.ZERO_CIPHERTEXT, partials, election_id=ELECTION, label=b"e", bound=0
        )
        == 0
    )


def test_fewer_than_k_partial_decryptions_are_not_enough(threshold: Any) -> None:
    key, shares = threshold
    total = _encrypted_total(key, [[1, 0]])
    one = [eg.partial_decrypt(shares[0], key, total, election_id=ELECTION, label=b"l")]
    with pytest.raises(eg.NotEnoughSharesError) as e:
        eg.combine_partials(key, total, one, election_id=ELECTION, label=b"l", bound=1)
    assert e.value.code == "elgamal.not_enough_shares"


def test_the_same_scrutineer_twice_is_refused(threshold: Any) -> None:
    key, shares = threshold
    total = _encrypted_total(key, [[1, 0]])
    p = eg.partial_decrypt(shares[0], key, total, election_id=ELECTION, label=b"l")
    with pytest.raises(eg.DuplicateShareError):
        eg.combine_partials(key, total, [p, p], election_id=ELECTION, label=b"l", bound=1)


def test_a_wrong_partial_decryption_fails_its_proof(threshold: Any) -> None:
    key, shares = threshold
    total = _encrypted_total(key, [[1, 0]])
    good = eg.partial_decrypt(shares[0], key, total, election_id=ELECTION, label=b"l")
    g = eg._multiples_of_g(2)[1]
    bad = eg.PartialDecryption(
        index=good.index,
        share=eg._add(good.share, g),
        challenge=good.challenge,
        response=good.response,
    )
    other = eg.partial_decrypt(shares[1], key, total, election_id=ELECTION, label=b"l")
    with pytest.raises(eg.DecryptionProofError) as e:
        eg.combine_partials(key, total, [bad, other], election_id=ELECTION, label=b"l", bound=1)
    assert e.value.code == "elgamal.decryption_proof"


@pytest.mark.parametrize(("election", "label"), [(OTHER_ELECTION, b"l"), (ELECTION, b"other")])
def test_a_partial_decryption_for_another_election_or_total_fails(
    threshold: Any, election: bytes, label: bytes
) -> None:
    key, shares = threshold
    total = _encrypted_total(key, [[1, 0]])
    p = eg.partial_decrypt(shares[0], key, total, election_id=ELECTION, label=b"l")
    with pytest.raises(eg.DecryptionProofError):
        eg.verify_partial(key, total, p, election_id=election, label=label)


def test_a_total_above_the_bound_is_out_of_range(threshold: Any) -> None:
    key, shares = threshold
    total = _encrypted_total(key, [[1, 0], [1, 0]])
    partials = [eg.partial_decrypt(s, key, total, election_id=ELECTION, label=b"l") for s in shares]
    with pytest.raises(eg.TotalOutOfRangeError) as e:
        eg.combine_partials(key, total, partials, election_id=ELECTION, label=b"l", bound=1)
    assert e.value.code == "elgamal.total_out_of_range"


def test_a_partial_decryption_document_round_trips_and_is_strict(threshold: Any) -> None:
    key, shares = threshold
    total = _encrypted_total(key, [[1, 0]])
    p = eg.partial_decrypt(shares[2], key, total, election_id=ELECTION, label=b"l")
    assert eg.parse_partial_decryption(p.to_json(), n=3) == p
    with pytest.raises(eg.InvalidParametersError):
        eg.parse_partial_decryption(p.to_json() | {"index": 4}, n=3)
    with pytest.raises(eg.ProofLengthError):
        eg.parse_partial_decryption(
            p.to_json() | {"proof": base64.b64encode(b"\x00" * 63).decode()}, n=3
        )


@pytest.mark.parametrize(
    ("election", "token", "post"),
    [
        (ELECTION[:31], TOKEN, "secretary"),
        (ELECTION, TOKEN + b"\x00", "secretary"),
        (ELECTION, TOKEN, ""),
        (ELECTION, TOKEN, "书记"),
    ],
)
def test_a_proof_context_needs_32_byte_ids_and_an_ascii_post(
    threshold: Any, election: bytes, token: bytes, post: str
) -> None:
    with pytest.raises(eg.InvalidParametersError):
        eg.ProofContext(
            election_id=election, public_key=threshold[0].public_key, token=token, post=post
        )


def test_fixed_seed_scalars_warn_and_repeat(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level("WARNING", logger="keys.elgamal"):
        a = eg.UnsafeDeterministicScalars(b"seed")
    assert "test vectors only" in caplog.text
    b = eg.UnsafeDeterministicScalars(b"seed")
    assert [a.scalar() for _ in range(3)] == [b.scalar() for _ in range(3)]
    assert eg.SystemScalars().scalar() != eg.SystemScalars().scalar()
