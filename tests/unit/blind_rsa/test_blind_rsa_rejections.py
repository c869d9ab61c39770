"""RFC 9474 / RFC 8017 error paths: every refusal raises a specific BlindSignatureError."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

from keys import blind_rsa


@dataclass(frozen=True, slots=True)
class Issued:
    """One honest RSABSSA-SHA384-PSS-Randomized run, to tamper with."""

    key: rsa.RSAPrivateKey
    prepared: bytes
    result: blind_rsa.BlindResult
    blind_sig: bytes
    sig: bytes

    @property
    def public_key(self) -> rsa.RSAPublicKey:
        return self.key.public_key()

    @property
    def n(self) -> int:
        return self.public_key.public_numbers().n


@pytest.fixture(scope="module")
def issued(issuer_key: rsa.RSAPrivateKey) -> Issued:
    prepared = blind_rsa.prepare("支部委员会换届选举 token".encode())
    result = blind_rsa.blind(issuer_key.public_key(), prepared)
    blind_sig = blind_rsa.blind_sign(issuer_key, result.blinded_msg)
    sig = blind_rsa.finalize(issuer_key.public_key(), prepared, blind_sig, result.inv)
    return Issued(issuer_key, prepared, result, blind_sig, sig)


def _flip(data: bytes, index: int) -> bytes:
    out = bytearray(data)
    out[index] ^= 0x01
    return bytes(out)


# ----------------------------------------------------------------- Verify (RFC 9474 §4.5)

TAMPERS: list[tuple[str, Callable[[Issued], tuple[bytes, bytes]]]] = [
    ("sig-last-bit-flipped", lambda i: (i.prepared, _flip(i.sig, -1))),
    ("sig-first-byte-flipped", lambda i: (i.prepared, _flip(i.sig, 0))),
    ("sig-all-zero", lambda i: (i.prepared, bytes(len(i.sig)))),
    ("message-changed", lambda i: (_flip(i.prepared, -1), i.sig)),
    ("prefix-changed", lambda i: (_flip(i.prepared, 0), i.sig)),
    ("prefix-dropped", lambda i: (i.prepared[32:], i.sig)),
]


@pytest.mark.parametrize("tamper", [t[1] for t in TAMPERS], ids=[t[0] for t in TAMPERS])
def test_verify_rejects_tampered_signature_or_message(
    issued: Issued, tamper: Callable[[Issued], tuple[bytes, bytes]]
) -> None:
    blind_rsa.verify(issued.public_key, issued.prepared, issued.sig)  # the untampered one passes
    prepared, sig = tamper(issued)
    with pytest.raises(blind_rsa.InvalidSignatureError) as info:
        blind_rsa.verify(issued.public_key, prepared, sig)
    assert info.value.code == "blind_rsa.invalid_signature"


def test_verify_rejects_signature_from_another_issuer_key(
    issued: Issued, other_issuer_key: rsa.RSAPrivateKey
) -> None:
    with pytest.raises(blind_rsa.InvalidSignatureError):
        blind_rsa.verify(other_issuer_key.public_key(), issued.prepared, issued.sig)


def test_blind_sig_from_another_key_fails_at_finalize(
    issued: Issued, other_issuer_key: rsa.RSAPrivateKey
) -> None:
    """Another issuer's answer never gives a valid signature: when the blinded message (reduced
    modulo our n) happens to exceed the other key's modulus, that issuer's BlindSign already
    refuses it (RSASP1 range check); otherwise Finalize's verification fails. Which one depends on
    the two random moduli, so both are accepted, and at least one always holds."""
    other_n = other_issuer_key.public_key().public_numbers().n
    if int.from_bytes(issued.result.blinded_msg, "big") >= other_n:
        with pytest.raises(blind_rsa.MessageRepresentativeOutOfRangeError):
            blind_rsa.blind_sign(other_issuer_key, issued.result.blinded_msg)
        return
    wrong_blind_sig = blind_rsa.blind_sign(other_issuer_key, issued.result.blinded_msg)
    with pytest.raises(blind_rsa.InvalidSignatureError):
        blind_rsa.finalize(issued.public_key, issued.prepared, wrong_blind_sig, issued.result.inv)


def test_verify_rejects_signature_made_with_other_salt_length(issued: Issued) -> None:
    with pytest.raises(blind_rsa.InvalidSignatureError):
        blind_rsa.verify(issued.public_key, issued.prepared, issued.sig, salt_len=0)


# ----------------------------------------------------------------- BlindSign (RFC 9474 §4.3)

BAD_BLINDED_LENGTHS = [
    ("empty", 0),
    ("one-byte-short", 255),
    ("one-byte-long", 257),
    ("double", 512),
]


@pytest.mark.parametrize(
    "length", [b[1] for b in BAD_BLINDED_LENGTHS], ids=[b[0] for b in BAD_BLINDED_LENGTHS]
)
def test_blind_sign_refuses_blinded_msg_not_modulus_len(
    issuer_key: rsa.RSAPrivateKey, length: int
) -> None:
    with pytest.raises(blind_rsa.UnexpectedInputSizeError) as info:
        blind_rsa.blind_sign(issuer_key, b"\x01" * length)
    assert info.value.code == "blind_rsa.unexpected_input_size"


@pytest.mark.parametrize("offset", [0, 1, 2**64], ids=["m=n", "m=n+1", "m=n+2^64"])
def test_blind_sign_refuses_message_representative_not_below_n(
    issuer_key: rsa.RSAPrivateKey, offset: int
) -> None:
    n = issuer_key.public_key().public_numbers().n
    with pytest.raises(blind_rsa.MessageRepresentativeOutOfRangeError):
        blind_rsa.blind_sign(issuer_key, (n + offset).to_bytes(256, "big"))


@pytest.mark.parametrize("faulty_half", [0, 1], ids=["fault-in-mod-p-half", "fault-in-mod-q-half"])
def test_blind_sign_withholds_signature_when_crt_half_is_faulty(
    issued: Issued, monkeypatch: pytest.MonkeyPatch, faulty_half: int
) -> None:
    """RFC 9474 §4.3 step 4: s^e mod n != m raises instead of leaking a factor of n."""
    honest = blind_rsa._powmod_sec
    calls: list[int] = []

    def faulty(base: int, exp: int, mod: int) -> int:
        calls.append(mod)
        out = honest(base, exp, mod)
        return (out ^ 1) % mod if len(calls) - 1 == faulty_half else out

    monkeypatch.setattr(blind_rsa, "_powmod_sec", faulty)
    with pytest.raises(blind_rsa.SigningFailureError) as info:
        blind_rsa.blind_sign(issued.key, issued.result.blinded_msg)
    assert info.value.code == "blind_rsa.signing_failure"
    assert len(calls) == 2  # both CRT halves went through the constant-time wrapper


def test_blind_sign_crt_output_matches_textbook_rsasp1(issued: Issued) -> None:
    numbers = issued.key.private_numbers()
    m = int.from_bytes(issued.result.blinded_msg, "big")
    expected = pow(m, numbers.d, numbers.public_numbers.n)
    assert int.from_bytes(issued.blind_sig, "big") == expected


# ----------------------------------------------------------------- Blind (RFC 9474 §4.2)


def test_blind_refuses_message_not_coprime_with_n(
    issued: Issued, monkeypatch: pytest.MonkeyPatch
) -> None:
    p = issued.key.private_numbers().p

    def encode_to_p(msg: bytes, em_bits: int, *, salt: bytes) -> bytes:
        return p.to_bytes(256, "big")

    monkeypatch.setattr(blind_rsa, "emsa_pss_encode", encode_to_p)
    with pytest.raises(blind_rsa.InvalidInputError):
        blind_rsa.blind(issued.public_key, issued.prepared)


@pytest.mark.parametrize(
    ("r_of", "error"),
    [
        (lambda i: 0, blind_rsa.InvalidInputError),
        (lambda i: i.n, blind_rsa.InvalidInputError),
        (lambda i: -1, blind_rsa.InvalidInputError),
        (lambda i: i.key.private_numbers().p, blind_rsa.BlindingError),
    ],
    ids=["r=0", "r=n", "r=-1", "r=p-not-invertible"],
)
def test_blind_refuses_bad_injected_blinding_factor(
    issued: Issued, r_of: Callable[[Issued], int], error: type[blind_rsa.BlindSignatureError]
) -> None:
    with pytest.raises(error):
        blind_rsa.blind(issued.public_key, issued.prepared, r=r_of(issued))


@pytest.mark.parametrize(
    ("salt_len", "salt"),
    [(32, None), (64, None), (48, bytes(47)), (0, bytes(1))],
    ids=["salt_len-32", "salt_len-64", "salt-47-for-48", "salt-1-for-0"],
)
def test_blind_refuses_salt_outside_rfc9474_variants(
    issued: Issued, salt_len: int, salt: bytes | None
) -> None:
    with pytest.raises(blind_rsa.InvalidParameterError):
        blind_rsa.blind(issued.public_key, issued.prepared, salt_len=salt_len, salt=salt)


def test_emsa_pss_encode_reports_encoding_error_when_em_too_short() -> None:
    # emLen = 97 < hLen + sLen + 2 = 98 (RFC 8017 §9.1.1 step 3).
    with pytest.raises(blind_rsa.EncodingError):
        blind_rsa.emsa_pss_encode(b"m", 8 * 97, salt=bytes(48))


# ----------------------------------------------------------------- Prepare (RFC 9474 §4.1)


@pytest.mark.parametrize(
    ("randomized", "prefix"),
    [(True, bytes(31)), (True, bytes(33)), (True, b""), (False, bytes(32))],
    ids=["prefix-31", "prefix-33", "prefix-empty", "deterministic-with-prefix"],
)
def test_prepare_refuses_bad_prefix(randomized: bool, prefix: bytes) -> None:
    with pytest.raises(blind_rsa.InvalidParameterError):
        blind_rsa.prepare(b"m", randomized=randomized, prefix=prefix)


# ----------------------------------------------------------------- Finalize (RFC 9474 §4.4)


@pytest.mark.parametrize("delta", [-1, 1], ids=["one-byte-short", "one-byte-long"])
def test_finalize_refuses_blind_sig_not_modulus_len(issued: Issued, delta: int) -> None:
    blind_sig = issued.blind_sig[:-1] if delta < 0 else issued.blind_sig + b"\x00"
    with pytest.raises(blind_rsa.UnexpectedInputSizeError):
        blind_rsa.finalize(issued.public_key, issued.prepared, blind_sig, issued.result.inv)


def test_finalize_with_wrong_inv_fails_verification(issued: Issued) -> None:
    with pytest.raises(blind_rsa.InvalidSignatureError):
        blind_rsa.finalize(
            issued.public_key, issued.prepared, issued.blind_sig, issued.result.inv + 1
        )


@pytest.mark.parametrize("inv_of", [lambda i: 0, lambda i: i.n], ids=["inv=0", "inv=n"])
def test_finalize_refuses_inv_outside_range(
    issued: Issued, inv_of: Callable[[Issued], int]
) -> None:
    with pytest.raises(blind_rsa.InvalidInputError):
        blind_rsa.finalize(issued.public_key, issued.prepared, issued.blind_sig, inv_of(issued))


def test_finalize_refuses_blind_sig_for_other_message(issued: Issued) -> None:
    with pytest.raises(blind_rsa.InvalidSignatureError):
        blind_rsa.finalize(
            issued.public_key, _flip(issued.prepared, 5), issued.blind_sig, issued.result.inv
        )


# ----------------------------------------------------------------- keys


def test_generate_issuer_key_refuses_small_modulus() -> None:
    with pytest.raises(blind_rsa.InvalidKeyError):
        blind_rsa.generate_issuer_key(1024)


def test_operations_refuse_keys_below_2048_bits() -> None:
    small = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    with pytest.raises(blind_rsa.InvalidKeyError):
        blind_rsa.blind(small.public_key(), b"m")
    with pytest.raises(blind_rsa.InvalidKeyError):
        blind_rsa.blind_sign(small, bytes(128))
    with pytest.raises(blind_rsa.InvalidKeyError):
        blind_rsa.verify(small.public_key(), b"m", bytes(128))


def _der_with_trailing_byte(key: rsa.RSAPrivateKey) -> bytes:
    return blind_rsa.public_key_to_der(key.public_key()) + b"\x00"


def _ed25519_der(_: rsa.RSAPrivateKey) -> bytes:
    return (
        ed25519.Ed25519PrivateKey.generate()
        .public_key()
        .public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    )


@pytest.mark.parametrize(
    "make_der",
    [lambda k: b"", lambda k: b"not a key", _der_with_trailing_byte, _ed25519_der],
    ids=["empty", "garbage", "trailing-byte", "ed25519-key"],
)
def test_load_public_key_der_refuses_non_rsa_or_non_canonical(
    issuer_key: rsa.RSAPrivateKey, make_der: Callable[[rsa.RSAPrivateKey], bytes]
) -> None:
    with pytest.raises(blind_rsa.InvalidKeyError):
        blind_rsa.load_public_key_der(make_der(issuer_key))


# ----------------------------------------------------------------- error family


def test_errors_carry_code_zh_en_and_str_is_english(issuer_key: rsa.RSAPrivateKey) -> None:
    with pytest.raises(blind_rsa.BlindSignatureError) as info:
        blind_rsa.blind_sign(issuer_key, b"")
    error = info.value
    assert isinstance(error, blind_rsa.UnexpectedInputSizeError)
    assert error.code == "blind_rsa.unexpected_input_size"
    assert "字节" in error.zh
    assert str(error) == error.en
    assert "256" in error.en


def test_every_public_error_name_ends_in_error_and_has_distinct_code() -> None:
    classes = [
        obj
        for name in blind_rsa.__all__
        if isinstance(obj := getattr(blind_rsa, name), type)
        and issubclass(obj, blind_rsa.BlindSignatureError)
    ]
    assert len(classes) == 10
    assert all(c.__name__.endswith("Error") for c in classes)
    codes = [c.code for c in classes]
    assert len(set(codes)) == len(codes)


@pytest.mark.parametrize("shape", ["shortened", "extra_zero"])
def test_verify_refuses_signature_not_modulus_len(
    issuer_key: rsa.RSAPrivateKey, shape: str
) -> None:
    """RFC 8017 §8.1.2 step 1: a signature whose length is not k is refused before RSAVP1, even
    when it is the right integer (a leading zero byte dropped, or one added)."""
    for i in range(20_000):
        prepared = blind_rsa.prepare(f"token {i}".encode())
        result = blind_rsa.blind(issuer_key.public_key(), prepared)
        blind_sig = blind_rsa.blind_sign(issuer_key, result.blinded_msg)
        sig = blind_rsa.finalize(issuer_key.public_key(), prepared, blind_sig, result.inv)
        if sig[0] == 0:
            break
    else:
        raise AssertionError("no signature with a leading zero byte found")
    odd = sig[1:] if shape == "shortened" else b"\x00" + sig
    with pytest.raises(blind_rsa.UnexpectedInputSizeError):
        blind_rsa.verify(issuer_key.public_key(), prepared, odd)


def test_verify_refuses_truncated_signature_as_wrong_size(issued: Issued) -> None:
    with pytest.raises(blind_rsa.UnexpectedInputSizeError) as info:
        blind_rsa.verify(issued.public_key, issued.prepared, issued.sig[:-1])
    assert info.value.code == "blind_rsa.unexpected_input_size"
