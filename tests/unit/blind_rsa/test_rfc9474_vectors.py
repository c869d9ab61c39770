"""RFC 9474 Appendix A vectors, replayed step by step through keys.blind_rsa.

Source and licence of the JSON: tests/vectors/rfc9474/README.md.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from keys import blind_rsa

VECTORS_PATH = Path(__file__).parents[2] / "vectors" / "rfc9474" / "test_vectors_rfc9474.json"


@dataclass(frozen=True, slots=True)
class Vector:
    name: str
    private_key: rsa.RSAPrivateKey
    msg: bytes
    msg_prefix: bytes
    input_msg: bytes
    salt_len: int
    salt: bytes
    is_randomized: bool
    encoded_msg: bytes | None
    inv: int
    blinded_msg: bytes
    blind_sig: bytes
    sig: bytes

    @property
    def public_key(self) -> rsa.RSAPublicKey:
        return self.private_key.public_key()

    @property
    def n(self) -> int:
        return self.public_key.public_numbers().n

    @property
    def r(self) -> int:
        # The vectors publish inv = r^-1 mod n; Blind takes r.
        return pow(self.inv, -1, self.n)


def _hex_int(value: str) -> int:
    return int(value, 16)


def _parse(raw: dict[str, Any]) -> Vector:
    p, q, d = _hex_int(raw["p"]), _hex_int(raw["q"]), _hex_int(raw["d"])
    public_numbers = rsa.RSAPublicNumbers(e=_hex_int(raw["e"]), n=_hex_int(raw["n"]))
    private_key = rsa.RSAPrivateNumbers(
        p=p,
        q=q,
        d=d,
        dmp1=rsa.rsa_crt_dmp1(d, p),
        dmq1=rsa.rsa_crt_dmq1(d, q),
        iqmp=rsa.rsa_crt_iqmp(p, q),
        public_numbers=public_numbers,
    ).private_key()
    encoded = raw.get("encoded_msg")
    return Vector(
        name=raw["name"],
        private_key=private_key,
        msg=bytes.fromhex(raw["msg"]),
        msg_prefix=bytes.fromhex(raw["msg_prefix"]),
        input_msg=bytes.fromhex(raw["input_msg"]),
        salt_len=_hex_int(raw["sLen"]),
        salt=bytes.fromhex(raw["salt"]),
        is_randomized=_hex_int(raw["is_randomized"]) == 1,
        encoded_msg=bytes.fromhex(encoded) if encoded is not None else None,
        inv=_hex_int(raw["inv"]),
        blinded_msg=bytes.fromhex(raw["blinded_msg"]),
        blind_sig=bytes.fromhex(raw["blind_sig"]),
        sig=bytes.fromhex(raw["sig"]),
    )


VECTORS = [_parse(raw) for raw in json.loads(VECTORS_PATH.read_text(encoding="utf-8"))]
VECTOR_IDS = [v.name for v in VECTORS]
WITH_ENCODED = [v for v in VECTORS if v.encoded_msg is not None]
RANDOMIZED = [v for v in VECTORS if v.is_randomized]


def _prepare(v: Vector) -> bytes:
    return blind_rsa.prepare(
        v.msg, randomized=v.is_randomized, prefix=v.msg_prefix if v.is_randomized else None
    )


def test_all_four_appendix_a_variants_are_present() -> None:
    assert sorted(VECTOR_IDS) == sorted(
        [
            "RSABSSA-SHA384-PSS-Randomized",
            "RSABSSA-SHA384-PSSZERO-Randomized",
            "RSABSSA-SHA384-PSS-Deterministic",
            "RSABSSA-SHA384-PSSZERO-Deterministic",
        ]
    )
    assert len(WITH_ENCODED) == 3


@pytest.mark.parametrize("v", VECTORS, ids=VECTOR_IDS)
def test_prepare_builds_input_msg_as_prefix_then_msg(v: Vector) -> None:
    assert _prepare(v) == v.input_msg


@pytest.mark.parametrize("v", WITH_ENCODED, ids=[v.name for v in WITH_ENCODED])
def test_emsa_pss_encode_reproduces_encoded_msg(v: Vector) -> None:
    em_bits = v.n.bit_length() - 1
    assert blind_rsa.emsa_pss_encode(v.input_msg, em_bits, salt=v.salt) == v.encoded_msg


@pytest.mark.parametrize("v", VECTORS, ids=VECTOR_IDS)
def test_emsa_pss_encode_equals_rsavp1_of_the_vector_signature(v: Vector) -> None:
    """Also covers the vector without encoded_msg: EM = sig^e mod n for a valid PSS signature."""
    numbers = v.public_key.public_numbers()
    em = blind_rsa.emsa_pss_encode(v.input_msg, numbers.n.bit_length() - 1, salt=v.salt)
    assert int.from_bytes(em, "big") == pow(int.from_bytes(v.sig, "big"), numbers.e, numbers.n)


@pytest.mark.parametrize("v", VECTORS, ids=VECTOR_IDS)
def test_blind_reproduces_blinded_msg_and_inv(v: Vector) -> None:
    result = blind_rsa.blind(v.public_key, _prepare(v), salt_len=v.salt_len, salt=v.salt, r=v.r)
    assert result.blinded_msg == v.blinded_msg
    assert result.inv == v.inv


@pytest.mark.parametrize("v", VECTORS, ids=VECTOR_IDS)
def test_blind_sign_reproduces_blind_sig(v: Vector) -> None:
    assert blind_rsa.blind_sign(v.private_key, v.blinded_msg) == v.blind_sig


@pytest.mark.parametrize("v", VECTORS, ids=VECTOR_IDS)
def test_finalize_reproduces_sig(v: Vector) -> None:
    sig = blind_rsa.finalize(v.public_key, v.input_msg, v.blind_sig, v.inv, salt_len=v.salt_len)
    assert sig == v.sig


@pytest.mark.parametrize("v", VECTORS, ids=VECTOR_IDS)
def test_full_protocol_from_msg_reproduces_every_intermediate_value(v: Vector) -> None:
    prepared = _prepare(v)
    result = blind_rsa.blind(v.public_key, prepared, salt_len=v.salt_len, salt=v.salt, r=v.r)
    blind_sig = blind_rsa.blind_sign(v.private_key, result.blinded_msg)
    sig = blind_rsa.finalize(v.public_key, prepared, blind_sig, result.inv, salt_len=v.salt_len)
    assert (result.blinded_msg, blind_sig, sig) == (v.blinded_msg, v.blind_sig, v.sig)
    blind_rsa.verify(v.public_key, prepared, sig, salt_len=v.salt_len)


@pytest.mark.parametrize("v", VECTORS, ids=VECTOR_IDS)
def test_vector_sig_is_a_plain_rsassa_pss_sha384_signature_for_cryptography(v: Vector) -> None:
    """The independent verifier needs nothing but stock RSASSA-PSS (raises on failure)."""
    v.public_key.verify(
        v.sig,
        v.input_msg,
        padding.PSS(mgf=padding.MGF1(hashes.SHA384()), salt_length=v.salt_len),
        hashes.SHA384(),
    )


@pytest.mark.parametrize("v", RANDOMIZED, ids=[v.name for v in RANDOMIZED])
def test_randomized_vector_sig_does_not_verify_for_msg_without_its_prefix(v: Vector) -> None:
    with pytest.raises(blind_rsa.InvalidSignatureError):
        blind_rsa.verify(v.public_key, v.msg, v.sig, salt_len=v.salt_len)
