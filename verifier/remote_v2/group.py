"""ristretto255, its encodings and the Fiat-Shamir challenge (spec/remote-v2-crypto.md §2-§4).

Re-implemented from the spec with libsodium's ristretto255 functions through ``pysodium`` (the
binding ADR 0024 chose; issue 16 allows the verifier a libsodium binding):

* (EG-2.2) a point is parsed, in this order: 32 bytes (``elgamal.encoding``); the canonical
  RFC 9496 encoding of a group element (``elgamal.invalid_point``): the little-endian value must be
  below p (so bit 255 is clear: libsodium 1.0.18 ignores that bit) and even, and libsodium's
  decoding must accept it; the identity only where the caller allows it (``elgamal.identity``).
* (EG-2.3) a scalar is 32 bytes little-endian below ℓ (``elgamal.noncanonical_scalar``).
* (EG-2.4) ``s·P`` is the identity when s = 0 or P = O (libsodium refuses to return it).
* (EG-3.3) ciphertexts add componentwise; the sum over none is (O, O).
* (EG-4.1, EG-4.2) ``frame(x) = u32(len(x)) ‖ x``; a challenge is SHA-512 of the framed transcript,
  reduced modulo ℓ.

Public scalars (challenges, responses, Lagrange coefficients) are Python integers: the verifier
holds no secret.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final

import pysodium

from verifier.remote_v2.errors import (
    ElGamalEncodingError,
    IdentityPointError,
    InvalidPointError,
    NonCanonicalScalarError,
)

__all__ = [
    "EMPTY_SUM",
    "GENERATOR",
    "IDENTITY",
    "ORDER",
    "POINT_SIZE",
    "SCALAR_SIZE",
    "Ciphertext",
    "add",
    "add_ciphertexts",
    "base_mul",
    "challenge",
    "frame",
    "mul",
    "parse_ciphertext",
    "parse_point",
    "parse_scalar",
    "scalar_bytes",
    "sub",
    "sum_ciphertexts",
    "u32",
]

POINT_SIZE: Final = 32
SCALAR_SIZE: Final = 32
# (EG-2.1) the group order ℓ and the field prime p of Curve25519.
ORDER: Final = 2**252 + 27742317777372353535851937790883648493
_P: Final = 2**255 - 19
IDENTITY: Final = bytes(POINT_SIZE)
GENERATOR: Final = bytes.fromhex("e2f2ae0a6abc4e71a884a961c500515f58e30b6aa582dd8db6a65945e08d2d76")


def parse_point(
    raw: bytes, *, allow_identity: bool, clause: str = "EG-2.2", what: str = ""
) -> bytes:
    """(EG-2.2) The canonical encoding of a ristretto255 element, checked.

    Args:
        raw: the received bytes.
        allow_identity: whether the identity is a legitimate value here (sums, partial
            decryptions, the decoded total) or forbidden (keys, commitments, ballot ciphertexts).
        clause: the clause named in an error.
        what: the field, for the error's path.

    Raises:
        ElGamalEncodingError: not 32 bytes.
        InvalidPointError: bit 255 set, a field element >= p or odd, or no group element.
        IdentityPointError: the identity where it is forbidden.

    Returns:
        The same 32 bytes (two points are equal exactly when their encodings are).
    """
    if len(raw) != POINT_SIZE:
        raise ElGamalEncodingError(
            clause=clause,
            zh=f"群元素编码应为 32 字节，实为 {len(raw)} 字节",
            en=f"a group element is 32 bytes, not {len(raw)}",
            path=what,
        )
    value = int.from_bytes(raw, "little")
    # (EG-2.2) RFC 9496 §4.3.1: s >= p (which includes bit 255 set) or s negative (odd) fails;
    # libsodium 1.0.18 does not look at bit 255 itself, so this check must come first.
    if value >= _P or value & 1 or not pysodium.crypto_core_ristretto255_is_valid_point(raw):
        raise InvalidPointError(
            clause=clause,
            zh="不是 ristretto255 群元素的规范编码",
            en="not the canonical encoding of a ristretto255 group element",
            path=what,
        )
    if not allow_identity and raw == IDENTITY:
        raise IdentityPointError(
            clause=clause,
            zh="此处不允许单位元（全零）",
            en="the identity (32 zero bytes) is not allowed here",
            path=what,
        )
    return raw


def parse_scalar(raw: bytes, *, clause: str = "EG-2.3", what: str = "") -> int:
    """(EG-2.3) A canonical scalar: 32 bytes little-endian, below ℓ (0 allowed).

    Raises:
        ElGamalEncodingError: not 32 bytes.
        NonCanonicalScalarError: a value >= ℓ.

    Returns:
        Its value.
    """
    if len(raw) != SCALAR_SIZE:
        raise ElGamalEncodingError(
            clause=clause,
            zh=f"标量应为 32 字节，实为 {len(raw)} 字节",
            en=f"a scalar is 32 bytes, not {len(raw)}",
            path=what,
        )
    value = int.from_bytes(raw, "little")
    if value >= ORDER:
        raise NonCanonicalScalarError(
            clause="EG-2.3",
            zh="标量不小于群的阶 ℓ（非规范编码）",
            en="a scalar is not below the group order ℓ (non-canonical)",
            path=what,
        )
    return value


def scalar_bytes(value: int) -> bytes:
    """The 32-byte encoding of ``value mod ℓ``."""
    return (value % ORDER).to_bytes(SCALAR_SIZE, "little")


def mul(s: int, p: bytes) -> bytes:
    """(EG-2.4) ``s·P`` for a checked point P: the identity when s ≡ 0 or P = O."""
    s %= ORDER
    if s == 0 or p == IDENTITY:
        return IDENTITY
    try:
        return bytes(pysodium.crypto_scalarmult_ristretto255(s.to_bytes(SCALAR_SIZE, "little"), p))
    except ValueError:  # (EG-2.4) libsodium's refusal to return O, on checked inputs
        return IDENTITY


def base_mul(s: int) -> bytes:
    """(EG-2.4) ``s·G``: the identity when s ≡ 0."""
    s %= ORDER
    if s == 0:
        return IDENTITY
    return bytes(pysodium.crypto_scalarmult_ristretto255_base(s.to_bytes(SCALAR_SIZE, "little")))


def add(p: bytes, q: bytes) -> bytes:
    """``P + Q`` (libsodium accepts and returns the identity)."""
    return bytes(pysodium.crypto_core_ristretto255_add(p, q))


def sub(p: bytes, q: bytes) -> bytes:
    """``P − Q``."""
    return bytes(pysodium.crypto_core_ristretto255_sub(p, q))


@dataclass(frozen=True, slots=True)
class Ciphertext:
    """(EG-3.1) An exponential-ElGamal ciphertext ``(alpha, beta)``, both halves checked points."""

    alpha: bytes
    beta: bytes

    def to_bytes(self) -> bytes:
        """``alpha ‖ beta``, 64 bytes."""
        return self.alpha + self.beta


EMPTY_SUM: Final = Ciphertext(alpha=IDENTITY, beta=IDENTITY)


def parse_ciphertext(raw: bytes, *, in_ballot: bool, what: str = "") -> Ciphertext:
    """(EG-3.1) 64 bytes ``alpha ‖ beta``; in a ballot neither half may be the identity.

    Args:
        raw: the received bytes.
        in_ballot: True for a ballot's choice (identity forbidden), False for a published sum.
        what: the field, for the error's path.

    Raises:
        ElGamalEncodingError: not 64 bytes.
        InvalidPointError: a half is not a canonical group element.
        IdentityPointError: a half is the identity in a ballot.

    Returns:
        The ciphertext.
    """
    if len(raw) != 2 * POINT_SIZE:
        raise ElGamalEncodingError(
            clause="EG-3.1",
            zh=f"密文应为 64 字节，实为 {len(raw)} 字节",
            en=f"a ciphertext is 64 bytes, not {len(raw)}",
            path=what,
        )
    allow = not in_ballot
    return Ciphertext(
        alpha=parse_point(raw[:POINT_SIZE], allow_identity=allow, what=f"{what}.alpha"),
        beta=parse_point(raw[POINT_SIZE:], allow_identity=allow, what=f"{what}.beta"),
    )


def add_ciphertexts(a: Ciphertext, b: Ciphertext) -> Ciphertext:
    """(EG-3.3) ``(a, b) + (a', b') = (a + a', b + b')``."""
    return Ciphertext(alpha=add(a.alpha, b.alpha), beta=add(a.beta, b.beta))


def sum_ciphertexts(items: Iterable[Ciphertext]) -> Ciphertext:
    """(EG-3.3) The sum of ``items``; over none, (O, O)."""
    total = EMPTY_SUM
    for c in items:
        total = add_ciphertexts(total, c)
    return total


def u32(i: int) -> bytes:
    """(EG-1.2) ``i`` as 4 bytes big-endian."""
    return i.to_bytes(4, "big")


def frame(x: bytes) -> bytes:
    """(EG-4.1) ``u32(len(x)) ‖ x``."""
    return len(x).to_bytes(4, "big") + x


def challenge(domain: bytes, items: Iterable[bytes]) -> int:
    """(EG-4.1, EG-4.2) SHA-512 of ``frame(domain) ‖ frame(item_1) ‖ …``, reduced modulo ℓ."""
    h = hashlib.sha512(frame(domain))
    for item in items:
        h.update(len(item).to_bytes(4, "big"))
        h.update(item)
    return int.from_bytes(h.digest(), "little") % ORDER
