"""Parsing of the wire forms of keys.elgamal (spec/remote-v2-crypto.md §2): points, scalars and the
canonical base64 they travel in. The only way in for a received element or scalar."""

from __future__ import annotations

import base64
import binascii

import pysodium

from keys.elgamal._errors import (
    EncodingError,
    IdentityPointError,
    InvalidPointError,
    NonCanonicalScalarError,
    _fail,
)
from keys.elgamal._group import ORDER, POINT_SIZE, SCALAR_SIZE, Point, Scalar, _is_identity


def parse_point(data: bytes, *, field: str, allow_identity: bool = False) -> Point:
    """The only way in for a received group element (§2.1).

    Raises:
        EncodingError: not 32 bytes.
        InvalidPointError: not a canonical ristretto255 encoding.
        IdentityPointError: the identity, where `allow_identity` is false.
    """
    if len(data) != POINT_SIZE:
        _fail(
            EncodingError,
            f"{field} 应为 {POINT_SIZE} 字节，实为 {len(data)} 字节。",
            f"{field} must be {POINT_SIZE} bytes, got {len(data)}",
        )
    # Bit 255 is checked here: libsodium 1.0.18 (Debian 12's) ignores it and accepts a second
    # encoding of every element; RFC 9496 §4.3.1 refuses it (spec EG-2.2).
    if data[31] & 0x80 or not pysodium.crypto_core_ristretto255_is_valid_point(data):
        _fail(
            InvalidPointError,
            f"{field} 不是 ristretto255 群元素的规范编码。",
            f"{field} is not the canonical encoding of a ristretto255 element",
        )
    if not allow_identity and _is_identity(data):
        _fail(
            IdentityPointError,
            f"{field} 不能是单位元。",
            f"{field} must not be the identity element",
        )
    return Point(bytes(data))


def parse_scalar(data: bytes, *, field: str) -> Scalar:
    """A received scalar (§2.2): 32 bytes, little-endian, below ORDER.

    Raises:
        EncodingError: not 32 bytes.
        NonCanonicalScalarError: the value is ORDER or more.
    """
    if len(data) != SCALAR_SIZE:
        _fail(
            EncodingError,
            f"{field} 应为 {SCALAR_SIZE} 字节，实为 {len(data)} 字节。",
            f"{field} must be {SCALAR_SIZE} bytes, got {len(data)}",
        )
    if int.from_bytes(data, "little") >= ORDER:
        _fail(
            NonCanonicalScalarError,
            f"{field} 不是规范标量（不小于群的阶）。",
            f"{field} is not a canonical scalar (not below the group order)",
        )
    return Scalar(bytes(data))


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(value: object, *, field: str) -> bytes:
    """Canonical padded standard base64 (spec/README.md), else EncodingError."""
    if not isinstance(value, str):
        _fail(EncodingError, f"{field} 应为 base64 文本。", f"{field} must be a base64 string")
    try:
        raw = base64.b64decode(value.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError):
        _fail(EncodingError, f"{field} 不是有效的 base64。", f"{field} is not valid base64")
    if _b64(raw) != value:
        _fail(
            EncodingError, f"{field} 的 base64 不是规范形式。", f"{field} is not canonical base64"
        )
    return raw
