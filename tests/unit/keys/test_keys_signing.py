"""The signing convention, spec/keyfile.md §6 (K-6.1 .. K-6.3)."""

from __future__ import annotations

import copy
import pickle
from collections.abc import Callable

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

import keys

DOMAIN = b"branch-election/ballot-qr/1"
OTHER_DOMAIN = b"branch-election/checkpoint/1"
MESSAGE = "第一轮 委员 选票".encode()
SEED = bytes(range(32))


@pytest.fixture
def signer() -> keys.InMemorySigner:
    return keys.InMemorySigner.from_seed(keys.Role.WORK_GROUP, "工作组", SEED)


def test_rfc8032_seed_gives_the_rfc_public_key() -> None:
    """RFC 8032 §7.1 TEST 1: the seed-to-public-key mapping is plain Ed25519."""
    seed = bytes.fromhex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")
    signer = keys.InMemorySigner.from_seed(keys.Role.TOWN_COMMITTEE, "镇党委", seed)
    assert signer.public_key.key.hex() == (
        "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"
    )


def test_signed_bytes_are_domain_nul_message() -> None:
    assert keys.signed_bytes(DOMAIN, MESSAGE) == DOMAIN + b"\x00" + MESSAGE


def test_signature_verifies_with_cryptography_over_domain_nul_message(
    signer: keys.InMemorySigner,
) -> None:
    """K-6.3: the independent verifier's library accepts the producer's signature."""
    signature = signer.sign(DOMAIN, MESSAGE)
    public = Ed25519PublicKey.from_public_bytes(signer.public_key.key)
    public.verify(signature, DOMAIN + b"\x00" + MESSAGE)
    with pytest.raises(InvalidSignature):
        public.verify(signature, MESSAGE)  # the domain is really part of the signed bytes


def test_signature_for_one_domain_does_not_verify_for_another(
    signer: keys.InMemorySigner,
) -> None:
    signature = signer.sign(DOMAIN, MESSAGE)
    keys.verify(signer.public_key, DOMAIN, MESSAGE, signature)
    with pytest.raises(keys.SignatureError) as info:
        keys.verify(signer.public_key, OTHER_DOMAIN, MESSAGE, signature)
    assert info.value.code == "signature.invalid"


def test_domain_boundary_cannot_shift(signer: keys.InMemorySigner) -> None:
    """Moving bytes between domain and message changes the signed bytes (the NUL separator)."""
    signature = signer.sign(b"branch-election/a", b"b/1" + MESSAGE)
    with pytest.raises(keys.SignatureError):
        keys.verify(signer.public_key, b"branch-election/a/1", MESSAGE, signature)


def test_verify_accepts_raw_key_bytes(signer: keys.InMemorySigner) -> None:
    signature = signer.sign(DOMAIN, MESSAGE)
    keys.verify(signer.public_key.key, DOMAIN, MESSAGE, signature)


def _flip_last(data: bytes) -> bytes:
    return data[:-1] + bytes([data[-1] ^ 1])


OTHER = keys.InMemorySigner.from_seed(keys.Role.WORK_GROUP, "工作组", bytes(32))

MakeArgs = Callable[[bytes, keys.PublicKey], tuple[keys.PublicKey | bytes, bytes, bytes, bytes]]
BAD: list[tuple[str, MakeArgs]] = [
    ("message-altered", lambda s, k: (k, DOMAIN, MESSAGE + b"x", s)),
    ("signature-bit-flipped", lambda s, k: (k, DOMAIN, MESSAGE, _flip_last(s))),
    ("signature-short", lambda s, k: (k, DOMAIN, MESSAGE, s[:63])),
    ("signature-long", lambda s, k: (k, DOMAIN, MESSAGE, s + b"\x00")),
    ("other-key", lambda s, k: (OTHER.public_key, DOMAIN, MESSAGE, s)),
    ("key-short", lambda s, k: (k.key[:31], DOMAIN, MESSAGE, s)),
    ("key-not-on-curve", lambda s, k: (bytes([2]) + bytes(30) + b"\x80", DOMAIN, MESSAGE, s)),
]


@pytest.mark.parametrize("make", [b[1] for b in BAD], ids=[b[0] for b in BAD])
def test_bad_signature_raises_signature_error(signer: keys.InMemorySigner, make: MakeArgs) -> None:
    signature = signer.sign(DOMAIN, MESSAGE)
    args = make(signature, signer.public_key)
    with pytest.raises(keys.SignatureError):
        keys.verify(*args)


@pytest.mark.parametrize(
    "domain",
    [b"", b"has space", b"nul\x00inside", "中文".encode(), b"x" * 129, b"tab\t"],
    ids=["empty", "space", "nul", "non-ascii", "too-long", "tab"],
)
def test_invalid_domain_is_refused_when_signing_and_verifying(
    signer: keys.InMemorySigner, domain: bytes
) -> None:
    with pytest.raises(keys.InvalidDomainError):
        signer.sign(domain, MESSAGE)
    with pytest.raises(keys.InvalidDomainError):
        keys.verify(signer.public_key, domain, MESSAGE, bytes(64))


def test_longest_domain_is_accepted(signer: keys.InMemorySigner) -> None:
    domain = b"d" * 128
    keys.verify(signer.public_key, domain, MESSAGE, signer.sign(domain, MESSAGE))


def test_signature_is_deterministic_for_a_fixed_seed(signer: keys.InMemorySigner) -> None:
    again = keys.InMemorySigner.from_seed(signer.role, signer.label, SEED)
    assert again.sign(DOMAIN, MESSAGE) == signer.sign(DOMAIN, MESSAGE)


def test_generated_signers_differ() -> None:
    a = keys.InMemorySigner.generate(keys.Role.SCRUTINEER, "甲")
    b = keys.InMemorySigner.generate(keys.Role.SCRUTINEER, "甲")
    assert a.public_key != b.public_key


def test_in_memory_signer_satisfies_the_protocol(signer: keys.InMemorySigner) -> None:
    assert isinstance(signer, keys.Signer)


def test_private_key_does_not_leak_through_repr_pickle_or_copy(
    signer: keys.InMemorySigner,
) -> None:
    assert SEED.hex() not in repr(signer)
    assert keys.fingerprint(signer.public_key) in repr(signer)
    with pytest.raises(TypeError):
        pickle.dumps(signer)
    with pytest.raises(TypeError):
        copy.copy(signer)


def test_seed_must_be_32_bytes() -> None:
    with pytest.raises(ValueError, match="32"):
        keys.InMemorySigner.from_seed(keys.Role.SCRUTINEER, "甲", bytes(31))
