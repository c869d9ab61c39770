"""The group, its constants and the randomness of keys.elgamal (spec/remote-v2-crypto.md §2-§4).

ristretto255 (RFC 9496) through libsodium (`pysodium`, a ctypes binding of the system library):
every group and scalar operation is a libsodium call, with the identity element handled explicitly
(libsodium refuses to *return* it from a scalar multiplication). Also the Fiat-Shamir challenge
(§4) and where secret scalars come from.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import logging
import secrets
from collections.abc import Iterable
from typing import Final, NewType, Protocol

import pysodium

# The package's name, not this module's: the fixed-seed warning is "keys.elgamal"'s, which the
# vector generators silence and the tests capture by that name.
_log = logging.getLogger("keys.elgamal")

# --------------------------------------------------------------------------- constants

ORDER: Final = 2**252 + 27742317777372353535851937790883648493  # ℓ, the group order (RFC 9496)
POINT_SIZE: Final = 32
SCALAR_SIZE: Final = 32
CIPHERTEXT_SIZE: Final = 2 * POINT_SIZE
IDENTITY: Final = b"\x00" * POINT_SIZE  # the canonical encoding of the identity (RFC 9496 §4.3.2)
_ZERO_SCALAR: Final = b"\x00" * SCALAR_SIZE
MAX_SCRUTINEERS: Final = 32
MAX_RANGE: Final = 64  # the largest `seats` a sum proof covers (a committee has far fewer)
ELECTION_ID_SIZE: Final = 32
TOKEN_SIZE: Final = 32

CHOICE_DOMAIN: Final = b"branch-election/elgamal-choice/1"
SUM_DOMAIN: Final = b"branch-election/elgamal-sum/1"
DECRYPTION_DOMAIN: Final = b"branch-election/elgamal-decryption/1"
DISAPPROVALS_DOMAIN: Final = b"branch-election/elgamal-disapprovals/1"
TEST_SCALARS_DOMAIN: Final = b"branch-election/elgamal-test-scalars/1"


Point = NewType("Point", bytes)
"""The canonical 32-byte encoding of a ristretto255 element (made by `parse_point` or libsodium)."""
Scalar = NewType("Scalar", bytes)
"""A 32-byte little-endian integer below ORDER (made by `parse_scalar` or libsodium)."""

_IDENTITY_POINT: Final = Point(IDENTITY)
_ZERO_SCALAR_S: Final = Scalar(_ZERO_SCALAR)


def _is_identity(p: bytes) -> bool:
    return hmac.compare_digest(p, IDENTITY)


def _add(p: Point, q: Point) -> Point:
    return Point(pysodium.crypto_core_ristretto255_add(p, q))


def _sub(p: Point, q: Point) -> Point:
    return Point(pysodium.crypto_core_ristretto255_sub(p, q))


def _mul(s: Scalar, p: Point) -> Point:
    """s·P for a canonical scalar and a parsed point, the identity included.

    libsodium returns -1 exactly when the result is the identity (or P does not decode, which a
    parsed point always does): in a group of prime order that is s = 0 or P = identity.
    """
    if _is_identity(p):
        return _IDENTITY_POINT
    try:
        return Point(pysodium.crypto_scalarmult_ristretto255(s, p))
    except ValueError:
        return _IDENTITY_POINT


def _base(s: Scalar) -> Point:
    """s·G, the identity for s = 0 (which libsodium refuses to return)."""
    try:
        return Point(pysodium.crypto_scalarmult_ristretto255_base(s))
    except ValueError:
        return _IDENTITY_POINT


def _s_add(a: Scalar, b: Scalar) -> Scalar:
    return Scalar(pysodium.crypto_core_ristretto255_scalar_add(a, b))


def _s_sub(a: Scalar, b: Scalar) -> Scalar:
    return Scalar(pysodium.crypto_core_ristretto255_scalar_sub(a, b))


def _s_mul(a: Scalar, b: Scalar) -> Scalar:
    return Scalar(pysodium.crypto_core_ristretto255_scalar_mul(a, b))


def _scalar(value: int) -> Scalar:
    """A public integer (a challenge, an index, a Lagrange coefficient) as a canonical scalar."""
    return Scalar((value % ORDER).to_bytes(SCALAR_SIZE, "little"))


def _int(s: Scalar) -> int:
    """A public scalar as an integer (never used on secret scalars)."""
    return int.from_bytes(s, "little")


def _reduce_wide(data64: bytes) -> Scalar:
    return Scalar(pysodium.crypto_core_ristretto255_scalar_reduce(data64))


_G: Final = _base(_scalar(1))


@functools.lru_cache(maxsize=MAX_RANGE + 2)
def _multiples_of_g(count: int) -> tuple[Point, ...]:
    """(0·G, 1·G, ..., (count-1)·G), by additions from the identity (public, cached)."""
    out = [_IDENTITY_POINT]
    for _ in range(count - 1):
        out.append(_add(out[-1], _G))
    return tuple(out)


def _frame(item: bytes) -> bytes:
    return len(item).to_bytes(4, "big") + item


def _challenge(domain: bytes, items: Iterable[bytes]) -> Scalar:
    """Hash-to-scalar of the Fiat-Shamir transcript (§4): SHA-512 of the framed domain and items,
    reduced modulo ORDER (64-byte wide reduction)."""
    h = hashlib.sha512(_frame(domain))
    for item in items:
        h.update(_frame(item))
    return _reduce_wide(h.digest())


def _u32(value: int) -> bytes:
    return value.to_bytes(4, "big")


# --------------------------------------------------------------------------- randomness


class ScalarSource(Protocol):
    """Where secret nonces and coefficients come from: non-zero uniform scalars."""

    def scalar(self) -> Scalar: ...


class SystemScalars:
    """The OS CSPRNG (`secrets`): 64 random bytes reduced modulo ORDER, redrawn if zero."""

    __slots__ = ()

    def scalar(self) -> Scalar:
        while True:
            s = _reduce_wide(secrets.token_bytes(64))
            if not hmac.compare_digest(s, _ZERO_SCALAR):
                return s


class UnsafeDeterministicScalars:
    """Scalars from a fixed seed, so vectors are reproducible (scripts/gen_elgamal_vectors.py).

    Unsafe: anyone who knows the seed knows every nonce, hence every plaintext and key share.
    Never use it for a real election.
    """

    __slots__ = ("_counter", "_seed")

    def __init__(self, seed: bytes) -> None:
        _log.warning("ElGamal scalars from a fixed seed: test vectors only, never a real election")
        self._seed = seed
        self._counter = 0

    def scalar(self) -> Scalar:
        while True:
            self._counter += 1
            digest = hashlib.sha512(
                _frame(TEST_SCALARS_DOMAIN) + _frame(self._seed) + _u32(self._counter)
            ).digest()
            s = _reduce_wide(digest)
            if s != _ZERO_SCALAR:
                return s


_SYSTEM: Final = SystemScalars()
