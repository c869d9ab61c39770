"""RFC 9474 round trips on fresh keys: Prepare, Blind, BlindSign, Finalize, Verify."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from keys import blind_rsa

# (randomized, salt_len) for the four RFC 9474 §5 variants.
VARIANTS = [(True, 48), (True, 0), (False, 48), (False, 0)]


def _round_trip(
    key: rsa.RSAPrivateKey, msg: bytes, *, randomized: bool = True, salt_len: int = 48
) -> tuple[bytes, bytes]:
    public_key = key.public_key()
    prepared = blind_rsa.prepare(msg, randomized=randomized)
    result = blind_rsa.blind(public_key, prepared, salt_len=salt_len)
    blind_sig = blind_rsa.blind_sign(key, result.blinded_msg)
    sig = blind_rsa.finalize(public_key, prepared, blind_sig, result.inv, salt_len=salt_len)
    blind_rsa.verify(public_key, prepared, sig, salt_len=salt_len)
    return prepared, sig


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(msg=st.binary(max_size=512), variant=st.sampled_from(VARIANTS))
def test_round_trip_signature_verifies_for_any_message(
    issuer_key: rsa.RSAPrivateKey, msg: bytes, variant: tuple[bool, int]
) -> None:
    """RFC 9474 §4: Finalize output verifies under §4.5 and under stock RSASSA-PSS."""
    randomized, salt_len = variant
    prepared, sig = _round_trip(issuer_key, msg, randomized=randomized, salt_len=salt_len)
    assert len(sig) == 256
    issuer_key.public_key().verify(
        sig,
        prepared,
        padding.PSS(mgf=padding.MGF1(hashes.SHA384()), salt_length=salt_len),
        hashes.SHA384(),
    )


@pytest.mark.parametrize(
    "key_fixture", ["issuer_key", "key_2049_bits"], ids=["2048-bit", "2049-bit-emLen-short"]
)
def test_round_trip_works_when_em_is_shorter_than_the_modulus(
    key_fixture: str, request: pytest.FixtureRequest
) -> None:
    """emBits = modBits - 1: with modBits = 8k + 1, EM has k bytes and the modulus k + 1."""
    key: rsa.RSAPrivateKey = request.getfixturevalue(key_fixture)
    _round_trip(key, "候选人甲".encode())


@pytest.mark.parametrize("em_bits", [2040, 2041, 2042, 2045, 2047, 2048], ids=str)
def test_emsa_pss_encode_clears_top_bits_to_fit_em_bits(em_bits: int) -> None:
    em = blind_rsa.emsa_pss_encode(b"ballot", em_bits, salt=bytes(48))
    assert len(em) == (em_bits + 7) // 8
    assert int.from_bytes(em, "big") < 2**em_bits
    assert em[-1] == 0xBC


def test_randomized_prepare_draws_a_fresh_32_byte_prefix() -> None:
    a = blind_rsa.prepare(b"token")
    b = blind_rsa.prepare(b"token")
    assert len(a) == len(b) == 32 + len(b"token")
    assert a[32:] == b[32:] == b"token"
    assert a[:32] != b[:32]


def test_deterministic_prepare_returns_msg_unchanged() -> None:
    assert blind_rsa.prepare(b"token", randomized=False) == b"token"


def test_two_blindings_of_the_same_prepared_msg_are_unlinkable(
    issuer_key: rsa.RSAPrivateKey,
) -> None:
    """Sanity check of RFC 9474 blindness: the issuer sees unrelated blinded messages."""
    public_key = issuer_key.public_key()
    prepared = blind_rsa.prepare(b"same token", randomized=False)
    first = blind_rsa.blind(public_key, prepared, salt=bytes(48))
    second = blind_rsa.blind(public_key, prepared, salt=bytes(48))
    assert first.blinded_msg != second.blinded_msg
    assert first.inv != second.inv
    # Both still finalize to valid signatures on the same message.
    for result in (first, second):
        blind_sig = blind_rsa.blind_sign(issuer_key, result.blinded_msg)
        blind_rsa.finalize(public_key, prepared, blind_sig, result.inv)


def test_blind_result_repr_hides_inv(issuer_key: rsa.RSAPrivateKey) -> None:
    result = blind_rsa.blind(issuer_key.public_key(), blind_rsa.prepare(b"x"))
    assert str(result.inv) not in repr(result)
    assert hex(result.inv) not in repr(result)


def test_public_key_der_round_trip_is_plain_rsa_encryption_spki(
    issuer_key: rsa.RSAPrivateKey,
) -> None:
    der = blind_rsa.public_key_to_der(issuer_key.public_key())
    rsa_encryption_oid = bytes.fromhex("06092a864886f70d010101")  # 1.2.840.113549.1.1.1
    assert rsa_encryption_oid in der[:32]
    loaded = blind_rsa.load_public_key_der(der)
    assert loaded.public_numbers() == issuer_key.public_key().public_numbers()


def test_generated_issuer_key_has_requested_size_and_e_65537() -> None:
    key = blind_rsa.generate_issuer_key(2048)
    assert key.key_size == 2048
    assert key.public_key().public_numbers().e == 65537
