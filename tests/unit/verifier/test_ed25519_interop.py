"""Signatures cross between the two sides' Ed25519 implementations (spec/keyfile.md §6.3,
DESIGN.md §2.5): the producer (``keys``) signs and checks with OpenSSL (``cryptography``), the
verifier checks with libsodium (PyNaCl); keys made by either library work on both sides.
"""

from __future__ import annotations

import json
from pathlib import Path

import nacl.bindings
import nacl.exceptions
import nacl.signing
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

import keys
from verifier.crypto import verify_signature
from verifier.errors import SignatureInvalidError

ROOT = Path(__file__).resolve().parents[3]
DOMAIN = b"branch-election/ballot-qr/1"
MESSAGES = [b"", b"\x00", b"ballot" * 100, bytes(range(256))]


def _producer_signers() -> list[keys.InMemorySigner]:
    return [
        keys.InMemorySigner.generate(keys.Role.WORK_GROUP, "generated"),
        keys.InMemorySigner.from_seed(keys.Role.TOWN_COMMITTEE, "seeded", b"\x01" * 32),
    ]


@pytest.mark.parametrize("message", MESSAGES, ids=["empty", "nul", "long", "all-bytes"])
def test_producer_signature_verifies_in_the_verifier(message: bytes) -> None:
    for signer in _producer_signers():
        sig = signer.sign(DOMAIN, message)
        verify_signature(signer.public_key.key, DOMAIN, message, sig)
        with pytest.raises(SignatureInvalidError):  # and it is a real check
            verify_signature(signer.public_key.key, DOMAIN, message + b"x", sig)


@pytest.mark.parametrize("message", MESSAGES, ids=["empty", "nul", "long", "all-bytes"])
def test_libsodium_signature_with_a_pynacl_key_verifies_in_the_producer(message: bytes) -> None:
    key = nacl.signing.SigningKey.generate()
    sig = key.sign(DOMAIN + b"\x00" + message).signature
    public = bytes(key.verify_key)
    keys.verify(public, DOMAIN, message, sig)
    verify_signature(public, DOMAIN, message, sig)
    with pytest.raises(keys.SignatureError):
        keys.verify(public, DOMAIN, message + b"x", sig)


@pytest.mark.parametrize("message", MESSAGES, ids=["empty", "nul", "long", "all-bytes"])
def test_openssl_signature_with_a_cryptography_key_verifies_on_both_sides(message: bytes) -> None:
    key = Ed25519PrivateKey.generate()
    sig = key.sign(DOMAIN + b"\x00" + message)
    public = key.public_key().public_bytes_raw()
    verify_signature(public, DOMAIN, message, sig)
    keys.verify(public, DOMAIN, message, sig)


def test_producer_and_libsodium_make_the_same_key_and_signature_from_one_seed() -> None:
    """Ed25519 is deterministic: the library switch changes no key and no signature."""
    seed = bytes(range(32))
    signer = keys.InMemorySigner.from_seed(keys.Role.SCRUTINEER, "s", seed)
    libsodium = nacl.signing.SigningKey(seed)
    assert signer.public_key.key == bytes(libsodium.verify_key)
    for message in MESSAGES:
        expected = libsodium.sign(DOMAIN + b"\x00" + message).signature
        assert signer.sign(DOMAIN, message) == expected


def test_key_file_signs_the_committed_vector_signature_byte_for_byte() -> None:
    """A ``keyfile/1`` keeps its format (the 32-byte seed): unlocked and signing with OpenSSL it
    gives the committed vector's signature (made with libsodium before the switch), which the
    verifier accepts."""
    vectors = ROOT / "spec" / "vectors" / "keyfile"
    index = json.loads((vectors / "vectors.json").read_text(encoding="utf-8"))
    signer = keys.load_signer(
        (vectors / "valid.key").read_bytes(), index["passphrase"], expected_role=None
    )
    vector = index["signature"]
    domain, message = vector["domain"].encode(), bytes.fromhex(vector["message_hex"])
    sig = signer.sign(domain, message)
    assert sig.hex() == vector["signature_hex"]
    verify_signature(signer.public_key.key, domain, message, sig)


def test_the_two_sides_share_no_ed25519_implementation(monkeypatch: pytest.MonkeyPatch) -> None:
    """With libsodium's verify broken, the producer still checks (OpenSSL) and the verifier fails
    closed: neither side runs the other's Ed25519 (DESIGN.md §2.5)."""
    signer = keys.InMemorySigner.from_seed(keys.Role.WORK_GROUP, "w", b"\x02" * 32)
    sig = signer.sign(DOMAIN, b"m")

    def broken(*_: object) -> bytes:
        raise nacl.exceptions.BadSignatureError

    monkeypatch.setattr(nacl.bindings, "crypto_sign_open", broken)
    keys.verify(signer.public_key, DOMAIN, b"m", sig)  # OpenSSL: unaffected
    with pytest.raises(SignatureInvalidError):
        verify_signature(signer.public_key.key, DOMAIN, b"m", sig)  # libsodium: the patched one
