"""The verifier's own remote-ballot v2 cryptography against spec/remote-v2-crypto.md and its vectors.

Every valid vector of spec/vectors/elgamal/ verifies with its expected values, every invalid one
is refused with its code and clause; hypothesis properties use only ``verifier.remote_v2`` and the
vectors (the public test key's shares are in the vectors, so the tests can decrypt and make partial
decryptions with the verifier's own group functions). Nothing here imports the producer.
"""

from __future__ import annotations

import base64
import json
import secrets
import subprocess
import sys
from pathlib import Path
from typing import Any

import pysodium
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from verifier.remote_v2 import (
    Ciphertext,
    ElGamalVerificationError,
    ThresholdKey,
    VerifiedPost,
    add_ciphertexts,
    check_share,
    decrypt_total,
    decryption_label,
    make_statement,
    parse_ciphertext,
    parse_threshold_key,
    sum_ciphertexts,
    tally_post,
    verify_post_json,
)
from verifier.remote_v2 import errors as E
from verifier.remote_v2 import group as g
from verifier.remote_v2.threshold import DECRYPTION_DOMAIN, parse_partial, recover_total

ROOT = Path(__file__).resolve().parents[3]
VECTORS = ROOT / "spec" / "vectors" / "elgamal"
VALID = sorted((VECTORS / "valid").glob("*.json"))
INVALID = sorted((VECTORS / "invalid").glob("*.json"))
# A proof bound to another election or credential (EG-4.3) cannot be told from a false proof: the
# verifier reports the clause whose check fails, EG-5.3 (spec "Notes from the independent
# implementation", point 1). Every other vector's clause is reported as written.
REPORTED_CLAUSE = {"EG-4.3": "EG-5.3"}


def _load(path: Path) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(path.read_bytes())
    return doc


def _b64(text: str) -> bytes:
    return base64.b64decode(text, validate=True)


def _run(case: dict[str, Any]) -> int | None:
    """Run one vector through the verifier; the decoded total for a decryption case."""
    kind = case["kind"]
    if kind == "point":
        g.parse_point(bytes.fromhex(case["encoding"]), allow_identity=case["allow_identity"])
        return None
    if kind == "scalar":
        g.parse_scalar(bytes.fromhex(case["encoding"]))
        return None
    key = parse_threshold_key(case["key"])
    if kind == "share":
        check_share(key, case["index"], _b64(case["share"]))
        return None
    election_id = bytes.fromhex(case["election_id"])
    if kind == "post":
        statement = make_statement(
            election_id=election_id,
            public_key=key.public_key,
            token=_b64(case["token"]),
            post=case["post"],
            choices=case["choices"],
            seats=case["seats"],
        )
        verify_post_json(statement, case["ballot"])
        return None
    assert kind == "decryption"
    result = decrypt_total(
        key,
        election_id=election_id,
        label=_b64(case["label"]),
        total=parse_ciphertext(_b64(case["total"]), in_ballot=False),
        partials=case["partials"],
        bound=case["bound"],
    )
    return result.total


@pytest.mark.parametrize("path", VALID, ids=[p.stem for p in VALID])
def test_every_valid_vector_verifies_with_its_expected_values(path: Path) -> None:
    case = _load(path)
    total = _run(case)
    assert total == case["expected"].get("total")


@pytest.mark.parametrize("path", INVALID, ids=[p.stem for p in INVALID])
def test_every_invalid_vector_is_refused_with_its_code_and_clause(path: Path) -> None:
    case = _load(path)
    expected = case["expected"]
    assert path.stem.startswith(expected["clause"] + "-")
    with pytest.raises(ElGamalVerificationError) as info:
        _run(case)
    assert info.value.code == expected["code"]
    assert info.value.clause == REPORTED_CLAUSE.get(expected["clause"], expected["clause"])
    assert info.value.zh
    assert info.value.en


def test_every_error_code_of_the_spec_has_a_class() -> None:
    """spec/remote-v2-crypto.md §10: the fourteen codes, each raised by its own class."""
    text = (ROOT / "spec" / "remote-v2-crypto.md").read_text(encoding="utf-8")
    section = text.split("## 10. Errors", 1)[1].split("## 11.", 1)[0]
    codes = {line.split("`")[1] for line in section.splitlines() if line.startswith("| `elgamal.")}
    classes = {
        c.CODE
        for c in vars(E).values()
        if isinstance(c, type) and issubclass(c, E.ElGamalVerificationError)
    }
    assert codes == classes - {"elgamal"}


# ---------------------------------------------------------------------------------------------
# The public test key and its shares (vectors share-1..3), and the valid posts.

KEY_CASE = _load(VECTORS / "valid" / "share-1.json")
KEY: ThresholdKey = parse_threshold_key(KEY_CASE["key"])
SHARES = {
    c["index"]: g.parse_scalar(_b64(c["share"]))
    for c in (_load(VECTORS / "valid" / f"share-{i}.json") for i in (1, 2, 3))
}
POSTS = {p.stem: _load(p) for p in VALID if p.stem.startswith("post-")}
ELECTION = bytes.fromhex(POSTS["post-secretary-2-of-1"]["election_id"])
TOKEN = _b64(POSTS["post-secretary-2-of-1"]["token"])


def _statement(case: dict[str, Any]) -> Any:
    return make_statement(
        election_id=bytes.fromhex(case["election_id"]),
        public_key=KEY.public_key,
        token=_b64(case["token"]),
        post=case["post"],
        choices=case["choices"],
        seats=case["seats"],
    )


def _private_key() -> int:
    """x from shares 1 and 2 (test key only): λ_1 = 2, λ_2 = −1."""
    x = (2 * SHARES[1] - SHARES[2]) % g.ORDER
    assert g.base_mul(x) == KEY.public_key
    return x


def _plaintext(ct: Ciphertext, bound: int) -> int:
    """Decrypt one test ciphertext with the test key (tests only: the verifier never does)."""
    return recover_total(g.sub(ct.beta, g.mul(_private_key(), ct.alpha)), bound)


VERIFIED = {
    name: verify_post_json(_statement(case), case["ballot"]) for name, case in POSTS.items()
}
# Every ciphertext of the valid vector posts with its plaintext: a pool for the properties.
POOL = [(ct, _plaintext(ct, 1)) for post in VERIFIED.values() for ct in post.choices]


def test_the_vector_posts_hold_what_their_descriptions_say() -> None:
    """The committee post has 7 approvals, the empty secretary post none, the other one at most 1."""

    def approvals(name: str) -> int:
        return sum(_plaintext(ct, 1) for ct in VERIFIED[name].choices)

    assert approvals("post-committee-9-of-7") == 7
    assert approvals("post-secretary-empty") == 0
    assert approvals("post-secretary-2-of-1") <= 1


def _partial(index: int, total: Ciphertext, label: bytes) -> dict[str, Any]:
    """A partial decryption with its Chaum-Pedersen proof (EG-8.1), made with the test shares."""
    x = SHARES[index]
    d = g.mul(x, total.alpha)
    w = 1 + secrets.randbelow(g.ORDER - 1)
    y = KEY.share_commitment(index)
    items = (ELECTION, label, g.u32(index), y, total.alpha, d, g.base_mul(w), g.mul(w, total.alpha))
    c = g.challenge(DECRYPTION_DOMAIN, items)
    proof = g.scalar_bytes(c) + g.scalar_bytes(w + c * x)
    return {
        "index": index,
        "share": base64.b64encode(d).decode(),
        "proof": base64.b64encode(proof).decode(),
    }


pool_items = st.lists(st.integers(0, len(POOL) - 1), max_size=12)


@settings(max_examples=40, deadline=None)
@given(pool_items, pool_items, pool_items)
def test_addition_is_associative_and_commutative(a: list[int], b: list[int], c: list[int]) -> None:
    """(EG-3.3) (a + b) + c = a + (b + c) = c + b + a, componentwise."""
    sa, sb, sc = (sum_ciphertexts(POOL[i][0] for i in xs) for xs in (a, b, c))
    left = add_ciphertexts(add_ciphertexts(sa, sb), sc)
    right = add_ciphertexts(sa, add_ciphertexts(sb, sc))
    assert left == right == sum_ciphertexts(POOL[i][0] for i in reversed(a + b + c))


@settings(max_examples=25, deadline=None)
@given(pool_items, st.sampled_from([(1, 2), (1, 3), (2, 3), (3, 1, 2)]), st.integers(0, 3))
def test_the_threshold_decryption_of_a_sum_is_the_sum_of_the_plaintexts(
    items: list[int], indices: tuple[int, ...], slack: int
) -> None:
    """(EG-3.3, EG-8, EG-9) Any k scrutineers decrypt the sum of vector ciphertexts to the sum of
    their plaintexts, with any bound from the number of ciphertexts up."""
    total = sum_ciphertexts(POOL[i][0] for i in items)
    label = decryption_label("committee", 3)
    partials = [_partial(i, total, label) for i in indices]
    result = decrypt_total(
        KEY,
        election_id=ELECTION,
        label=label,
        total=total,
        partials=partials,
        bound=len(items) + slack,
    )
    assert result.total == sum(POOL[i][1] for i in items)
    assert result.indices == tuple(sorted(indices)[:2])


@settings(max_examples=20, deadline=None)
@given(st.lists(st.sampled_from(["post-secretary-2-of-1", "post-secretary-empty"]), max_size=8))
def test_tallying_verified_posts_adds_each_choice(names: list[str]) -> None:
    """(EG-3.3) A post's totals are, choice by choice, the sums of the ballots' ciphertexts, and
    decrypt to the number of approvals of each candidate."""
    ballots = [VERIFIED[n] for n in names]
    tally = tally_post("secretary", 2, ballots)
    assert tally.ballots == len(names)
    for position, total in enumerate(tally.totals):
        assert total == sum_ciphertexts(b.choices[position] for b in ballots)
        expected = sum(_plaintext(b.choices[position], 1) for b in ballots)
        assert _plaintext(total, len(names)) == expected


def test_tallying_refuses_a_ballot_of_another_post() -> None:
    with pytest.raises(E.WrongShapeError) as info:
        tally_post("secretary", 2, [VERIFIED["post-committee-9-of-7"]])
    assert info.value.clause == "EG-6.4"


def test_the_sum_over_no_ballot_is_the_identity_pair() -> None:
    """(EG-3.3) 64 zero bytes; it decrypts to 0 (vector decryption-empty-sum)."""
    tally = tally_post("secretary", 2, [])
    assert tally.totals == (g.EMPTY_SUM, g.EMPTY_SUM)
    assert g.EMPTY_SUM.to_bytes() == bytes(64)


def _flip(text: str, position: int, mask: int) -> str:
    raw = bytearray(_b64(text))
    raw[position % len(raw)] ^= mask
    return base64.b64encode(bytes(raw)).decode()


@settings(max_examples=60, deadline=None)
@given(
    st.sampled_from(sorted(POSTS)),
    st.sampled_from(["choices", "choice_proofs", "sum_proof"]),
    st.integers(0, 63),
    st.integers(0, 10_000),
    st.integers(1, 255),
)
def test_any_flipped_byte_in_a_vector_ballot_is_refused(
    name: str, field: str, which: int, position: int, mask: int
) -> None:
    """(EG-2.2, EG-2.3, EG-5.3, EG-6.2) One changed byte anywhere in a valid post is refused."""
    case = json.loads(json.dumps(POSTS[name]))
    ballot = case["ballot"]
    if field == "sum_proof":
        ballot[field] = _flip(ballot[field], position, mask)
    else:
        i = which % len(ballot[field])
        ballot[field][i] = _flip(ballot[field][i], position, mask)
    with pytest.raises(ElGamalVerificationError) as info:
        verify_post_json(_statement(case), ballot)
    assert info.value.clause in {"EG-2.2", "EG-2.3", "EG-5.3", "EG-6.2"}


@settings(max_examples=30, deadline=None)
@given(st.sampled_from(["share", "proof"]), st.integers(0, 63), st.integers(1, 255))
def test_any_flipped_byte_in_a_partial_decryption_is_refused(
    field: str, position: int, mask: int
) -> None:
    """(EG-2.2, EG-2.3, EG-8.3) One changed byte in a vector's partial decryption is refused."""
    case = _load(VECTORS / "valid" / "decryption-shares-1-3.json")
    case["partials"][1][field] = _flip(case["partials"][1][field], position, mask)
    with pytest.raises(ElGamalVerificationError) as info:
        _run(case)
    assert info.value.clause in {"EG-2.2", "EG-2.3", "EG-8.3"}


@settings(max_examples=60, deadline=None)
@given(st.binary(min_size=32, max_size=32), st.booleans())
def test_a_point_is_accepted_only_in_its_one_canonical_encoding(raw: bytes, high: bool) -> None:
    """(EG-2.2) Any 32 bytes: an accepted point re-encodes (P + O) to the same bytes, so bit 255 is
    clear; with bit 255 set, or from a multiple of G with it set, it is always refused."""
    if high:
        raw = raw[:31] + bytes([raw[31] | 0x80])
    try:
        point = g.parse_point(raw, allow_identity=True)
    except E.InvalidPointError:
        return
    assert not high
    assert g.add(point, g.IDENTITY) == raw


@settings(max_examples=30, deadline=None)
@given(st.integers(1, g.ORDER - 1))
def test_every_multiple_of_g_is_accepted_and_refused_with_bit_255_set(s: int) -> None:
    """(EG-2.2) s·G is accepted; the same bytes with bit 255 set are not (libsodium 1.0.18 would)."""
    point = g.base_mul(s)
    assert g.parse_point(point, allow_identity=False) == point
    with pytest.raises(E.InvalidPointError):
        g.parse_point(point[:31] + bytes([point[31] | 0x80]), allow_identity=True)


# ---------------------------------------------------------------------------------------------
# Named cases that the vectors do not cover.


def test_a_point_with_bit_255_set_is_refused_even_where_libsodium_accepts_it() -> None:
    """(EG-2.2) libsodium 1.0.18 accepts G with bit 255 set; the reader must not."""
    high = bytearray(g.GENERATOR)
    high[31] |= 0x80
    if not pysodium.crypto_core_ristretto255_is_valid_point(bytes(high)):
        pytest.skip("this libsodium refuses bit 255 itself")
    with pytest.raises(E.InvalidPointError):
        g.parse_point(bytes(high), allow_identity=True)


def test_scalar_multiplication_by_zero_or_of_the_identity_is_the_identity() -> None:
    """(EG-2.4) libsodium refuses to return O; the verifier computes it."""
    assert g.mul(0, g.GENERATOR) == g.IDENTITY
    assert g.mul(5, g.IDENTITY) == g.IDENTITY
    assert g.mul(g.ORDER, g.GENERATOR) == g.IDENTITY
    assert g.base_mul(0) == g.IDENTITY
    assert g.base_mul(1) == g.GENERATOR


@pytest.mark.parametrize(
    ("change", "error", "clause"),
    [
        ({"k": 4}, E.ElGamalParametersError, "EG-7.1"),
        ({"k": 1}, E.ElGamalParametersError, "EG-7.1"),
        ({"n": 33}, E.ElGamalParametersError, "EG-7.1"),
        ({"k": True}, E.ElGamalParametersError, "EG-7.1"),
        ({"extra": 1}, E.ElGamalEncodingError, "EG-7.4"),
        (
            {"commitments": ["AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="] * 2},
            E.IdentityPointError,
            "EG-2.2",
        ),
        ({"commitments": [KEY_CASE["key"]["commitments"][0]]}, E.ElGamalEncodingError, "EG-7.4"),
    ],
    ids=[
        "k-above-n",
        "k-1-with-n-3",
        "n-33",
        "k-bool",
        "unknown-member",
        "identity-commitment",
        "one-commitment-for-k-2",
    ],
)
def test_a_bad_published_key_is_refused(
    change: dict[str, Any], error: type[ElGamalVerificationError], clause: str
) -> None:
    doc = {**KEY_CASE["key"], **change}
    with pytest.raises(error) as info:
        parse_threshold_key(doc)
    assert info.value.clause == clause


def test_a_single_scrutineer_key_is_allowed() -> None:
    """(EG-7.1) k = 1 when n = 1."""
    key = parse_threshold_key({"k": 1, "n": 1, "commitments": KEY_CASE["key"]["commitments"][:1]})
    assert key.public_key == KEY.public_key


@pytest.mark.parametrize(
    ("doc", "error", "clause"),
    [
        ({"index": 4, "share": "", "proof": ""}, E.ElGamalParametersError, "EG-8.2"),
        ({"index": 0, "share": "", "proof": ""}, E.ElGamalParametersError, "EG-8.2"),
        ({"index": True, "share": "", "proof": ""}, E.ElGamalParametersError, "EG-8.2"),
        ({"index": 1, "share": "", "proof": "", "x": 1}, E.ElGamalEncodingError, "EG-8.2"),
        (
            {"index": 1, "share": base64.b64encode(g.GENERATOR).decode(), "proof": "AAAA"},
            E.ProofLengthError,
            "EG-8.2",
        ),
    ],
    ids=["index-above-n", "index-0", "index-bool", "unknown-member", "short-proof"],
)
def test_a_bad_partial_decryption_is_refused(
    doc: dict[str, Any], error: type[ElGamalVerificationError], clause: str
) -> None:
    with pytest.raises(error) as info:
        parse_partial(doc, KEY)
    assert info.value.clause == clause


def test_a_partial_decryption_of_another_choice_is_refused() -> None:
    """(EG-8.3) A partial made for the label of choice 0 does not verify for choice 1."""
    case = _load(VECTORS / "valid" / "decryption-shares-1-3.json")
    case["label"] = base64.b64encode(decryption_label("secretary", 1)).decode()
    with pytest.raises(E.DecryptionProofError):
        _run(case)


def test_the_vector_label_is_the_post_code_framed_and_the_position() -> None:
    """(EG-8.1) ``frame(post code) ‖ u32(position)``."""
    case = _load(VECTORS / "valid" / "decryption-shares-1-3.json")
    assert _b64(case["label"]) == decryption_label("secretary", 0)


@pytest.mark.parametrize(
    ("change", "error", "clause"),
    [
        ({"seats": 0}, E.ElGamalParametersError, "EG-6.2"),
        ({"seats": 65}, E.ElGamalParametersError, "EG-6.2"),
        ({"choices": 0}, E.ElGamalParametersError, "EG-6.2"),
        ({"token": b"\x00" * 31}, E.ElGamalParametersError, "EG-4.3"),
        ({"post": "秘书"}, E.ElGamalParametersError, "EG-4.3"),
        ({"public_key": g.IDENTITY}, E.IdentityPointError, "EG-2.2"),
    ],
    ids=["seats-0", "seats-65", "no-choice", "short-token", "non-ascii-post", "identity-key"],
)
def test_a_bad_statement_is_refused(
    change: dict[str, Any], error: type[ElGamalVerificationError], clause: str
) -> None:
    args: dict[str, Any] = {
        "election_id": ELECTION,
        "public_key": KEY.public_key,
        "token": TOKEN,
        "post": "secretary",
        "choices": 2,
        "seats": 1,
    }
    with pytest.raises(error) as info:
        make_statement(**{**args, **change})
    assert info.value.clause == clause


@pytest.mark.parametrize(
    ("mutate", "error", "clause"),
    [
        (lambda b: b.pop("sum_proof"), E.ElGamalEncodingError, "EG-6.3"),
        (lambda b: b.update(extra=1), E.ElGamalEncodingError, "EG-6.3"),
        (lambda b: b.update(post=7), E.ElGamalEncodingError, "EG-6.3"),
        (lambda b: b.update(choices="x"), E.ElGamalEncodingError, "EG-6.3"),
        (lambda b: b["choice_proofs"].pop(), E.WrongShapeError, "EG-6.4"),
        (
            lambda b: b["choices"].__setitem__(0, b["choices"][0][:-4]),
            E.ElGamalEncodingError,
            "EG-3.1",
        ),
        (
            lambda b: b["choices"].__setitem__(0, b["choices"][0] + " "),
            E.ElGamalEncodingError,
            "EG-6.3",
        ),
    ],
    ids=[
        "missing-member",
        "unknown-member",
        "post-not-string",
        "choices-not-list",
        "one-proof-short",
        "short-ciphertext",
        "non-canonical-base64",
    ],
)
def test_a_malformed_post_is_refused(
    mutate: Any, error: type[ElGamalVerificationError], clause: str
) -> None:
    case = json.loads(json.dumps(POSTS["post-secretary-2-of-1"]))
    mutate(case["ballot"])
    with pytest.raises(error) as info:
        verify_post_json(_statement(case), case["ballot"])
    assert info.value.clause == clause


def test_a_verified_post_carries_its_ciphertexts() -> None:
    post = VERIFIED["post-committee-9-of-7"]
    assert isinstance(post, VerifiedPost)
    assert post.post == "committee"
    assert len(post.choices) == 9


def test_the_remote_v2_verifier_runs_with_the_producer_unimportable() -> None:
    """STYLE §7.2 rule 1: ``verifier.remote_v2`` imports neither keys (the producer) nor tally."""
    code = """
import json, sys
sys.modules["tally"] = sys.modules["keys"] = sys.modules["ballot_printer"] = None
from verifier import remote_v2 as v
case = json.load(open("spec/vectors/elgamal/valid/decryption-shares-2-3.json"))
import base64
r = v.decrypt_total(
    v.parse_threshold_key(case["key"]),
    election_id=bytes.fromhex(case["election_id"]),
    label=base64.b64decode(case["label"]),
    total=v.parse_ciphertext(base64.b64decode(case["total"]), in_ballot=False),
    partials=case["partials"],
    bound=case["bound"],
)
bad = [m for m in sys.modules if m.split(".")[0] in ("tally", "keys") and sys.modules[m]]
print(r.total, bad)
"""
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "2 []"
