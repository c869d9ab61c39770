"""Tokens and credentials with RFC 9474, spec/remote.md §4 (RM-4.2 .. RM-4.5, V18.3)."""

from __future__ import annotations

import copy
import dataclasses
import hashlib
import json
import pickle

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import keys
from keys import blind_rsa, remote_tokens

from .conftest import ELECTION_ID, OTHER_ELECTION_ID


def _flow(
    issuer: remote_tokens.TokenIssuer,
) -> tuple[remote_tokens.TokenRequest, remote_tokens.RemoteCredential]:
    public = remote_tokens.load_issuer_public_key(issuer.public_key_der)
    request = remote_tokens.begin_token_request(public, ELECTION_ID)
    blind_sig = issuer.sign_blinded(request.blinded_msg)
    return request, remote_tokens.finish_token_request(request, public, blind_sig)


def test_rm_4_2_token_message_layout() -> None:
    token = bytes(range(32))
    msg = remote_tokens.token_message(ELECTION_ID, token)
    assert msg == b"branch-election/remote-token/1\x00" + ELECTION_ID + token
    assert len(msg) == 95
    with pytest.raises(ValueError):
        remote_tokens.token_message(ELECTION_ID, token[:31])
    with pytest.raises(ValueError):
        remote_tokens.token_message(ELECTION_ID[:16], token)


def test_rm_4_3_full_flow_blind_sign_finalize_verify(issuer: remote_tokens.TokenIssuer) -> None:
    request, credential = _flow(issuer)
    assert len(credential.token) == 32 and len(credential.prefix) == 32
    assert len(credential.signature) == 256
    assert credential.prepared_message(ELECTION_ID) == request.prepared
    remote_tokens.verify_credential(issuer.public_key, ELECTION_ID, credential)


def test_rm_4_5_signature_is_stock_rsassa_pss_sha384_salt_48(
    issuer: remote_tokens.TokenIssuer,
) -> None:
    """What an independent verifier runs (V18.3): no blind-signature code needed."""
    _, credential = _flow(issuer)
    issuer.public_key.verify(
        credential.signature,
        credential.prefix + remote_tokens.token_message(ELECTION_ID, credential.token),
        padding.PSS(mgf=padding.MGF1(hashes.SHA384()), salt_length=48),
        hashes.SHA384(),
    )


def test_rm_4_5_token_signed_by_another_key_is_refused(
    issuer: remote_tokens.TokenIssuer, other_issuer: remote_tokens.TokenIssuer
) -> None:
    _, credential = _flow(other_issuer)
    with pytest.raises(remote_tokens.TokenSignatureError) as e:
        remote_tokens.verify_credential(issuer.public_key, ELECTION_ID, credential)
    assert e.value.code == "remote.token_invalid"


def test_rm_4_2_credential_of_another_election_is_refused(
    issuer: remote_tokens.TokenIssuer,
) -> None:
    _, credential = _flow(issuer)
    with pytest.raises(remote_tokens.TokenSignatureError):
        remote_tokens.verify_credential(issuer.public_key, OTHER_ELECTION_ID, credential)


@pytest.mark.parametrize("field", ["token", "prefix", "signature"])
def test_rm_4_5_altered_credential_is_refused(
    issuer: remote_tokens.TokenIssuer, field: str
) -> None:
    _, credential = _flow(issuer)
    value = bytearray(getattr(credential, field))
    value[5] ^= 0x40
    with pytest.raises(remote_tokens.TokenSignatureError):
        remote_tokens.verify_credential(
            issuer.public_key, ELECTION_ID, dataclasses.replace(credential, **{field: bytes(value)})
        )
    with pytest.raises(remote_tokens.TokenSignatureError):
        remote_tokens.verify_credential(
            issuer.public_key, ELECTION_ID, dataclasses.replace(credential, **{field: b""})
        )


def test_rm_4_3_a_wrong_blind_signature_is_caught_on_the_device(
    issuer: remote_tokens.TokenIssuer,
) -> None:
    public = issuer.public_key
    request = remote_tokens.begin_token_request(public, ELECTION_ID)
    blind_sig = bytearray(issuer.sign_blinded(request.blinded_msg))
    blind_sig[-1] ^= 1
    with pytest.raises(remote_tokens.TokenSignatureError):
        remote_tokens.finish_token_request(request, public, bytes(blind_sig))
    with pytest.raises(remote_tokens.TokenSignatureError):
        remote_tokens.finish_token_request(request, public, bytes(blind_sig[:-1]))


@settings(
    max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.data())
def test_rm_4_3_unlinkability_issuer_sees_nothing_of_the_token(
    issuer: remote_tokens.TokenIssuer, data: st.DataObject
) -> None:
    """Everything the issuer receives is blinded_msg; it holds neither T, its hash, nor input_msg."""
    request, credential = _flow(issuer)
    seen = request.blinded_msg
    secrets_ = [
        credential.token,
        hashlib.sha256(credential.token).digest(),
        hashlib.sha384(credential.token).digest(),
        credential.prefix,
        credential.signature,
        credential.prepared_message(ELECTION_ID),
        hashlib.sha384(credential.prepared_message(ELECTION_ID)).digest(),
    ]
    for secret in secrets_:
        assert secret != seen
        assert secret[:16] not in seen  # no 16-byte window of any of them
    assert credential.token.hex() not in repr(request)
    # Blinding is fresh: the same token blinded twice gives unrelated messages.
    public = issuer.public_key
    again = blind_rsa.blind(public, request.prepared)
    assert again.blinded_msg != seen


def test_rm_4_1_issuer_key_is_dedicated_rsa_2048_and_private_part_stays_inside(
    issuer: remote_tokens.TokenIssuer,
) -> None:
    assert issuer.public_key.key_size >= 2048
    assert issuer.public_key.public_numbers().e == 65537
    der = issuer.public_key_der
    assert (
        remote_tokens.load_issuer_public_key(der).public_numbers()
        == issuer.public_key.public_numbers()
    )
    with pytest.raises(remote_tokens.TokenSignatureError):
        remote_tokens.load_issuer_public_key(der + b"\x00")
    with pytest.raises(blind_rsa.InvalidKeyError):
        remote_tokens.TokenIssuer.generate(1024)
    for leak in (pickle.dumps, copy.copy, copy.deepcopy):
        with pytest.raises(TypeError):
            leak(issuer)
    assert "key_sha256" in repr(issuer)


def test_rm_4_4_issuer_refuses_malformed_blinded_messages(
    issuer: remote_tokens.TokenIssuer,
) -> None:
    with pytest.raises(blind_rsa.UnexpectedInputSizeError):
        issuer.sign_blinded(b"\x01" * 255)
    with pytest.raises(blind_rsa.MessageRepresentativeOutOfRangeError):
        issuer.sign_blinded(b"\xff" * 256)


def _credential_with_leading_zero(
    issuer: remote_tokens.TokenIssuer,
) -> remote_tokens.RemoteCredential:
    """An honest credential whose signature happens to start with a zero byte (about 1 in 256)."""
    for _ in range(20_000):
        _, credential = _flow(issuer)
        if credential.signature[0] == 0:
            return credential
    raise AssertionError("no signature with a leading zero byte found")


@pytest.mark.parametrize("shape", ["shortened", "extra_zero"])
def test_rm_4_5_signature_not_modulus_length_is_refused_even_if_the_integer_verifies(
    issuer: remote_tokens.TokenIssuer, shape: str
) -> None:
    """RFC 8017 §8.1.2 step 1 (V18.3): the signature is exactly modulus_len bytes; the same
    integer written one byte shorter or with an extra leading zero is refused, as the verifier
    refuses it."""
    credential = _credential_with_leading_zero(issuer)
    remote_tokens.verify_credential(issuer.public_key, ELECTION_ID, credential)
    sig = credential.signature[1:] if shape == "shortened" else b"\x00" + credential.signature
    odd = dataclasses.replace(credential, signature=sig)
    with pytest.raises(remote_tokens.TokenSignatureError) as info:
        remote_tokens.verify_credential(issuer.public_key, ELECTION_ID, odd)
    assert info.value.code == "remote.token_signature_length"
    assert "256" in info.value.en and "256" in info.value.zh


def test_rm_4_1_issuer_key_file_is_argon2id_sealed_and_authenticates_its_header(
    issuer: remote_tokens.TokenIssuer,
) -> None:
    """spec/keyfile.md §10: the issuer key at rest is an Argon2id/XChaCha20-Poly1305 document,
    never PEM; every header change, a cut file and a wrong passphrase are refused."""
    data = issuer.to_key_file("issuer passphrase", limits=keys.INTERACTIVE_LIMITS)
    assert b"BEGIN" not in data
    doc = json.loads(data)
    assert (doc["format"], doc["kdf"]["name"]) == ("issuer-keyfile/1", "argon2id")
    again = remote_tokens.TokenIssuer.from_key_file(data, "issuer passphrase")
    assert again.public_key_der == issuer.public_key_der
    with pytest.raises(keys.WrongPassphraseError):
        remote_tokens.TokenIssuer.from_key_file(data, "wrong passphrase!")
    with pytest.raises(keys.TruncatedKeyFileError):
        remote_tokens.TokenIssuer.from_key_file(data[: len(data) // 2], "issuer passphrase")
    nonce = doc["cipher"]["nonce"]
    doc["cipher"]["nonce"] = ("B" if nonce[0] == "A" else "A") + nonce[1:]
    with pytest.raises(keys.CorruptKeyFileError):
        remote_tokens.TokenIssuer.from_key_file(json.dumps(doc).encode(), "issuer passphrase")
    with pytest.raises(keys.WeakPassphraseError):
        issuer.to_key_file("short")
