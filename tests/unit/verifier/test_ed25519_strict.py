"""The verifier's Ed25519 is strict on every edge case (spec/keyfile.md §6.3; ADR verifier Ed25519
strictness).

Vectors: tests/vectors/external/ed25519-speccheck/ (cases.json of "Taming the many EdDSAs"; source,
licence and the meaning of each case in its README).
"""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path
from typing import Any

import nacl.bindings
import nacl.exceptions
import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from verifier import ed25519
from verifier.crypto import parse_pubkey_value, verify_signature
from verifier.errors import PublicKeyError, SignatureInvalidError

ROOT = Path(__file__).resolve().parents[3]
CASES: list[dict[str, str]] = json.loads(
    (ROOT / "tests" / "vectors" / "external" / "ed25519-speccheck" / "cases.json").read_bytes()
)
L = 2**252 + 27742317777372353535851937790883648493
# What each case is (README of the vectors) and which check of the verifier refuses it first:
# "key" = the public key is not a canonical point of the prime-order subgroup; "signature" = the
# key is fine and the signature fails (S >= L).
CLASSES = {
    0: ("small-order A and R, S = 0", "key"),
    1: ("small-order A", "key"),
    2: ("mixed-order A, small-order R", "key"),
    3: ("mixed-order A and R, passes both equations", "key"),
    4: ("mixed-order A and R, passes only the cofactored equation", "key"),
    5: ("mixed-order A, passes only a pre-reduced cofactored equation", "key"),
    6: ("S > L", "signature"),
    7: ("S >> L", "signature"),
    8: ("non-canonical small-order R, reduced for the hash", "key"),
    9: ("non-canonical small-order R, not reduced for the hash", "key"),
    10: ("non-canonical small-order A, reduced for the hash", "key"),
    11: ("non-canonical small-order A, not reduced for the hash", "key"),
}
IDS = [f"case{i}-{CLASSES[i][0].replace(' ', '-')}" for i in range(len(CASES))]


def _case(i: int) -> tuple[bytes, bytes, bytes]:
    c = CASES[i]
    return (
        bytes.fromhex(c["pub_key"]),
        bytes.fromhex(c["signature"]),
        bytes.fromhex(c["message"]),
    )


def _pubkey_doc(key: bytes) -> dict[str, Any]:
    return {
        "format": "pubkey/1",
        "algorithm": "ed25519",
        "role": "work_group",
        "label": "speccheck",
        "key": base64.b64encode(key).decode("ascii"),
    }


def test_the_vectors_are_the_twelve_published_cases() -> None:
    path = ROOT / "tests" / "vectors" / "external" / "ed25519-speccheck" / "cases.json"
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    assert digest == "08e47a36d9aead288664930505584f353fff113ab854f2800db1e4f5b3540450"
    assert len(CASES) == len(CLASSES) == 12


@pytest.mark.parametrize("i", range(12), ids=IDS)
def test_verifier_refuses_every_speccheck_case(i: int) -> None:
    key, sig, msg = _case(i)
    with pytest.raises(ed25519.InvalidEd25519Error):
        ed25519.verify(ed25519.load_key(key), sig, msg)


@pytest.mark.parametrize("i", range(12), ids=IDS)
def test_verifier_refuses_each_case_at_the_stated_check(i: int) -> None:
    """Cases with a bad key are refused when the key is loaded (once per key, and a ``pubkey/1``
    with it is ``pubkey.invalid``); the two out-of-range S cases by the signature check."""
    key, sig, msg = _case(i)
    if CLASSES[i][1] == "key":
        with pytest.raises(ed25519.InvalidEd25519Error):
            ed25519.load_key(key)
        with pytest.raises(PublicKeyError) as info:
            parse_pubkey_value(_pubkey_doc(key))
        assert info.value.code == "pubkey.invalid"
    else:
        loaded = ed25519.load_key(key)
        assert int.from_bytes(sig[32:], "little") >= L
        with pytest.raises(ed25519.InvalidEd25519Error):
            ed25519.verify(loaded, sig, msg)


def test_mixed_order_key_accepted_by_bare_libsodium_is_refused() -> None:
    """Case 3 is the one libsodium's own verify accepts (speccheck's results table): the verifier's
    prime-order-subgroup check on the key is what refuses it."""
    key, sig, msg = _case(3)
    nacl.bindings.crypto_sign_open(sig + msg, key)  # libsodium alone: accepted
    with pytest.raises(ed25519.InvalidEd25519Error):
        ed25519.load_key(key)
    with pytest.raises(SignatureInvalidError) as info:
        verify_signature(key, b"d", b"m", sig)  # any message: the key is refused first
    assert info.value.clause == "K-6.3"


def _libsodium_accepts(i: int) -> bool:
    key, sig, msg = _case(i)
    try:
        nacl.bindings.crypto_sign_open(sig + msg, key)
    except nacl.exceptions.BadSignatureError:
        return False
    return True


def _openssl_accepts(i: int) -> bool:
    key, sig, msg = _case(i)
    try:
        Ed25519PublicKey.from_public_bytes(key).verify(sig, msg)
    except (InvalidSignature, ValueError):
        return False
    return True


def test_adr_table_bare_libsodium_accepts_only_case_3() -> None:
    """What the ADR says of libsodium alone (the PyNaCl installed here)."""
    assert [i for i in range(12) if _libsodium_accepts(i)] == [3]


def test_adr_table_producer_openssl_accepts_cases_0_to_3_and_11() -> None:
    """What the ADR says of the producer's library (OpenSSL through ``cryptography``): it checks
    S < L and the cofactorless equation but not the order or encoding of A or R. The producer only
    ever verifies its own keys' signatures, and the verifier refuses these cases."""
    assert [i for i in range(12) if _openssl_accepts(i)] == [0, 1, 2, 3, 11]


# A cofactored-only signature under a VALID (prime-order) key, made with our own private key: R is
# an honest R plus a torsion point T, and S = r + k'a for k' = H(R + T || A || M). The cofactored
# equation [8][S]B = [8](R' + [k']A) holds, the cofactorless one does not.
_T8 = bytes.fromhex(CASES[0]["signature"][:64])  # a small-order point (speccheck case 0's R)


def _signature(*, torsion: bool) -> tuple[bytes, bytes, bytes]:
    seed = hashlib.sha256(b"cofactored-only vector").digest()
    h = bytearray(hashlib.sha512(seed).digest()[:32])
    h[0] &= 248
    h[31] &= 127
    h[31] |= 64
    a = int.from_bytes(h, "little") % L
    key = nacl.bindings.crypto_scalarmult_ed25519_base_noclamp(a.to_bytes(32, "little"))
    msg = b"branch-election/ballot-qr/1\x00cofactored"
    r = int.from_bytes(hashlib.sha512(b"r" + msg).digest(), "little") % L
    big_r = nacl.bindings.crypto_scalarmult_ed25519_base_noclamp(r.to_bytes(32, "little"))
    if torsion:
        big_r = nacl.bindings.crypto_core_ed25519_add(big_r, _T8)
    k = int.from_bytes(hashlib.sha512(big_r + key + msg).digest(), "little") % L
    return key, big_r + ((r + k * a) % L).to_bytes(32, "little"), msg


def test_cofactored_only_signature_under_a_valid_key_is_refused() -> None:
    """Pins the cofactorless equation: the key is a valid prime-order point, only R has torsion."""
    key, sig, msg = _signature(torsion=True)
    loaded = ed25519.load_key(key)  # a valid key
    with pytest.raises(ed25519.InvalidEd25519Error):
        ed25519.verify(loaded, sig, msg)
    # The same construction without the torsion point is a valid signature: the test is sound.
    key, sig, msg = _signature(torsion=False)
    ed25519.verify(ed25519.load_key(key), sig, msg)


@pytest.mark.parametrize(
    "key",
    [
        bytes(32),  # y = 0: a point of order 4
        (1).to_bytes(32, "little"),  # the identity
        (2**255 - 19 + 1).to_bytes(32, "little"),  # the identity, non-canonical (y = p + 1)
        b"\xff" * 32,  # y >= p
        b"\x02" + bytes(31),  # y = 2 is not on the curve
    ],
    ids=["order-4", "identity", "identity-non-canonical", "y-above-p", "not-on-curve"],
)
def test_pubkey_document_with_an_invalid_point_is_refused(key: bytes) -> None:
    with pytest.raises(PublicKeyError) as info:
        parse_pubkey_value(_pubkey_doc(key))
    assert info.value.code == "pubkey.invalid"


@pytest.mark.parametrize("sign", [0, 1], ids=["x-even", "x-odd"])
@pytest.mark.parametrize("y", range(2**255 - 19, 2**255))
def test_every_non_canonical_r_is_refused_by_the_encoding_check(y: int, sign: int) -> None:
    """All 19 encodings of y >= p, with either sign bit, are refused as non-canonical R before
    libsodium is asked (the check singles them out by their top byte first)."""
    key, sig, msg = _signature(torsion=False)
    bad_r = (y | sign << 255).to_bytes(32, "little")
    with pytest.raises(ed25519.InvalidEd25519Error, match="non-canonical R"):
        ed25519.verify(ed25519.load_key(key), bad_r + sig[32:], msg)
