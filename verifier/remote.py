"""Remote-ballot cryptography and ballot checks for V18 (spec/remote.md §4-§6, §13).

Re-implemented from the spec with libraries only (ADR 0009): RSASSA-PSS verification (SHA-384,
MGF1-SHA-384, salt 48) and X25519 with ``cryptography``; the libsodium sealed box
(``crypto_box_seal``) with PyNaCl's ``SealedBox``. No blind-signature code is needed: a spent
token is a stock RSASSA-PSS signature (RM-4.5).
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from typing import Any, Final

import nacl.exceptions
import nacl.public
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from verifier.canonical import parse_canonical
from verifier.crypto import b64decode_canonical
from verifier.errors import VerificationError

__all__ = [
    "MAX_PLAINTEXT",
    "SEAL_OVERHEAD",
    "TOKEN_DOMAIN",
    "PostSpec",
    "ballot_ok",
    "decide_cast",
    "is_clamped",
    "key_matches",
    "load_issuer_key",
    "modulus_len",
    "verify_token",
    "write_in_member",
]

TOKEN_DOMAIN: Final = b"branch-election/remote-token/1"
TOKEN_SIZE: Final = 32
PREFIX_SIZE: Final = 32
SALT_LEN: Final = 48
SEAL_OVERHEAD: Final = 48  # ephemeral public key (32) + Poly1305 tag (16)
MAX_PLAINTEXT: Final = 16384
_BALLOT_MEMBERS: Final = frozenset({"format", "election_id", "token", "posts"})
_POST_MEMBERS: Final = frozenset({"post", "candidates", "marks", "write_ins"})
_WRITE_IN_MEMBERS: Final = frozenset({"name", "member", "mark"})


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


def is_clamped(raw: bytes) -> bool:
    """RM-6.1: the RFC 7748 decodeScalar25519 bits are already fixed."""
    return len(raw) == 32 and raw[0] & 7 == 0 and raw[31] & 0xC0 == 0x40


def key_matches(raw: bytes, ballot_key: bytes) -> bool:
    """RM-7.5/V18.7: clamped form and the X25519 public key is ``ballot_key``."""
    if not is_clamped(raw):
        return False
    public = X25519PrivateKey.from_private_bytes(raw).public_key().public_bytes_raw()
    return public == ballot_key


@dataclass(frozen=True, slots=True)
class PostSpec:
    """What RM-5.2 demands of one post ballot: the manifest list and seats."""

    post: str
    candidates: tuple[str, ...]
    seats: int


def _valid_name(name: object) -> bool:
    return (
        isinstance(name, str)
        and 1 <= len(name) <= 32
        and unicodedata.normalize("NFC", name) == name
        and not any(unicodedata.category(c).startswith("C") for c in name)
    )


def write_in_member(write_in: Any, names: dict[str, tuple[str, ...]], ids: frozenset[str]) -> str:
    """RM-9.2: the member a remote write-in names, or "" for nobody. Its ``member`` when given;
    else the ``name`` with surrounding white space removed, NFC: a roster id names that member, a
    name borne by exactly one roster member names that member; anything else names nobody.

    Args:
        names: roster name -> the ids of the members of that name.
        ids: the roster's ids.
    """
    if write_in["member"]:
        return str(write_in["member"])
    text = unicodedata.normalize("NFC", str(write_in["name"]).strip())
    if text in ids:
        return text
    same = names.get(text, ())
    return same[0] if len(same) == 1 else ""


def ballot_ok(
    value: Any, election_id_hex: str, posts: tuple[PostSpec, ...], roster: frozenset[str]
) -> bool:
    """RM-5.1-RM-5.3 on the parsed object (the bytes were already checked canonical)."""
    if not isinstance(value, dict) or value.keys() != _BALLOT_MEMBERS:
        return False
    if value["format"] != "remote-ballot/1" or value["election_id"] != election_id_hex:
        return False
    if b64decode_canonical(value["token"], TOKEN_SIZE) is None:
        return False
    parts = value["posts"]
    if not isinstance(parts, list) or len(parts) != len(posts):
        return False
    for part, spec in zip(parts, posts, strict=True):
        if not isinstance(part, dict) or part.keys() != _POST_MEMBERS:
            return False
        if part["post"] != spec.post or part["candidates"] != list(spec.candidates):
            return False
        marks = part["marks"]
        if (
            not isinstance(marks, str)
            or len(marks) != len(spec.candidates)
            or any(c not in "ox-" for c in marks)
        ):
            return False
        wis = part["write_ins"]
        if not isinstance(wis, list) or len(wis) > spec.seats:
            return False
        for w in wis:
            if not isinstance(w, dict) or w.keys() != _WRITE_IN_MEMBERS:
                return False
            if not _valid_name(w["name"]) or w["mark"] not in ("o", "-"):
                return False
            member = w["member"]
            if not isinstance(member, str) or (member and member not in roster):
                return False
    return True


def decide_cast(
    private_key: bytes,
    sealed: bytes,
    *,
    token: bytes,
    election_id_hex: str,
    posts: tuple[PostSpec, ...],
    roster: frozenset[str],
) -> tuple[str, Any]:
    """RM-6.3/RM-6.4: what the count must log for one cast.

    Returns:
        ``("remote.decrypted", (plaintext bytes, ballot object))`` or
        ``("remote.rejected", reason)``.
    """
    if len(sealed) < SEAL_OVERHEAD:
        return "remote.rejected", "remote.sealed_invalid"
    if len(sealed) > MAX_PLAINTEXT + SEAL_OVERHEAD:
        return "remote.rejected", "remote.sealed_too_large"
    try:
        box = nacl.public.SealedBox(nacl.public.PrivateKey(private_key))
        plaintext = box.decrypt(sealed)
    except (nacl.exceptions.CryptoError, ValueError, TypeError):
        return "remote.rejected", "remote.sealed_invalid"
    if len(plaintext) > MAX_PLAINTEXT:
        return "remote.rejected", "remote.ballot_invalid"
    try:
        value = parse_canonical(plaintext, clause="V18", path="remote-ballot")
    except VerificationError:
        return "remote.rejected", "remote.ballot_invalid"
    if not ballot_ok(value, election_id_hex, posts, roster):
        return "remote.rejected", "remote.ballot_invalid"
    if b64decode_canonical(value["token"], TOKEN_SIZE) != token:
        return "remote.rejected", "remote.token_mismatch"
    return "remote.decrypted", (plaintext, value)
