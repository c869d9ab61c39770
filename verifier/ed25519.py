"""Strict Ed25519 verification with libsodium (spec/keyfile.md §6.3).

The verifier checks every signature with libsodium (PyNaCl); the producer signs and checks with
OpenSSL (``cryptography``), so the two sides never share an implementation (DESIGN.md §2.5).

Strict means: a signature is accepted only if every encoding is canonical, no point has a small
order or a torsion component, and the cofactorless equation holds (ADR "verifier Ed25519
strictness", tested on every case of ed25519-speccheck):

* the public key ``A`` is the canonical encoding of a point of the prime-order subgroup, not the
  identity (``crypto_core_ed25519_is_valid_point``: canonical, not small-order, ``[L]A = 0``);
  libsodium's verify alone refuses small-order and non-canonical keys but accepts a mixed-order one;
* ``S < L`` (libsodium refuses a non-canonical ``S``);
* ``R`` is a canonical encoding (checked here: ``y < p``) of a point that is not of small order
  (libsodium);
* ``[S]B = R + [k]A`` exactly, without the cofactor (libsodium); with ``A`` in the prime-order
  subgroup this also refuses an ``R`` with a torsion component.

The key check costs a scalar multiplication, so ``Ed25519Key`` does it once per key and is reused
for every signature under that key.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import nacl.bindings
import nacl.exceptions

__all__ = ["Ed25519Key", "InvalidEd25519Error", "load_key", "verify"]

KEY_SIZE: Final = 32
SIGNATURE_SIZE: Final = 64
# p = 2^255 - 19; a point encoding is y (255 bits, little-endian) and the sign of x in the top bit.
_P: Final = 2**255 - 19
_Y_MASK: Final = 2**255 - 1


class InvalidEd25519Error(Exception):
    """A key or signature that strict Ed25519 refuses (the caller maps it to its clause)."""


@dataclass(frozen=True, slots=True)
class Ed25519Key:
    """A public key already checked to be a canonical point of the prime-order subgroup."""

    raw: bytes


def load_key(raw: bytes) -> Ed25519Key:
    """Check a 32-byte public key once (canonical, not small-order, in the prime-order subgroup).

    Raises:
        InvalidEd25519Error: not 32 bytes, or not such a point.

    Returns:
        The checked key, for ``verify``.
    """
    if len(raw) != KEY_SIZE or not nacl.bindings.crypto_core_ed25519_is_valid_point(raw):
        raise InvalidEd25519Error("not a canonical Ed25519 point of the prime-order subgroup")
    return Ed25519Key(raw)


def verify(key: Ed25519Key, signature: bytes, data: bytes) -> None:
    """Verify ``signature`` over ``data`` strictly (see the module docstring).

    Raises:
        InvalidEd25519Error: wrong length, non-canonical or small-order R, S >= L, or the
            equation fails.
    """
    if len(signature) != SIGNATURE_SIZE:
        raise InvalidEd25519Error("a signature is 64 bytes")
    # y >= p needs the low 255 bits of R all ones but for the first byte, so the top byte
    # (bits 248-254 all set) singles out the rare candidate before any big-integer arithmetic.
    if signature[31] | 0x80 == 0xFF and int.from_bytes(signature[:32], "little") & _Y_MASK >= _P:
        raise InvalidEd25519Error("non-canonical R")
    try:
        nacl.bindings.crypto_sign_open(signature + data, key.raw)
    except nacl.exceptions.BadSignatureError as e:
        raise InvalidEd25519Error("signature does not verify") from e
