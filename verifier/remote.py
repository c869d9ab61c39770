"""The remote credentials' cryptography for V18 (spec/remote.md §4, §13).

Re-implemented from the spec with a library only (ADR 0009): RSASSA-PSS verification (SHA-384,
MGF1-SHA-384, salt 48) with ``cryptography``. No blind-signature code is needed: a spent token
is a stock RSASSA-PSS signature (RM-4.5). The ballots are version 2's (``verifier.remote_v2``):
no remote ballot is ever decrypted (spec/remote-v2.md RV-1.1).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

__all__ = [
    "TOKEN_DOMAIN",
    "PostSpec",
    "load_issuer_key",
    "modulus_len",
    "verify_token",
]

TOKEN_DOMAIN: Final = b"branch-election/remote-token/1"
TOKEN_SIZE: Final = 32
PREFIX_SIZE: Final = 32
SALT_LEN: Final = 48


def load_issuer_key(der: bytes) -> rsa.RSAPublicKey | str:
    """The issuer key of ``remote.opened`` (RM-4.1), or the reason it is refused.

    Canonical DER SubjectPublicKeyInfo with the plain ``rsaEncryption`` identifier (re-encoding
    must give the same bytes), e = 65537, at least 2048 bits.
    """
    try:
        key = serialization.load_der_public_key(der)
    except (ValueError, TypeError, UnsupportedAlgorithm) as e:
        return f"not a DER public key ({e.__class__.__name__})"
    if not isinstance(key, rsa.RSAPublicKey):
        return "not an RSA key"
    again = key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    if again != der:
        return "not canonical DER SubjectPublicKeyInfo with rsaEncryption"
    if key.public_numbers().e != 65537:
        return f"public exponent {key.public_numbers().e}, not 65537"
    if key.key_size < 2048:
        return f"modulus of {key.key_size} bits, below 2048"
    return key


def modulus_len(key: rsa.RSAPublicKey) -> int:
    return (key.key_size + 7) // 8


def verify_token(
    key: rsa.RSAPublicKey, election_id: bytes, token: bytes, prefix: bytes, signature: bytes
) -> bool:
    """RM-4.5: RSASSA-PSS-VERIFY (SHA-384, MGF1-SHA-384, salt 48) of ``prefix || msg``."""
    if len(token) != TOKEN_SIZE or len(prefix) != PREFIX_SIZE or len(signature) != modulus_len(key):
        return False
    msg = TOKEN_DOMAIN + b"\x00" + election_id + token
    try:
        key.verify(
            signature,
            prefix + msg,
            padding.PSS(mgf=padding.MGF1(hashes.SHA384()), salt_length=SALT_LEN),
            hashes.SHA384(),
        )
    except InvalidSignature:
        return False
    return True


@dataclass(frozen=True, slots=True)
class PostSpec:
    """An assembly-voted post of the manifest (RM-5.2): its list and seats."""

    post: str
    candidates: tuple[str, ...]
    seats: int
