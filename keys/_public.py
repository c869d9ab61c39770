"""Public keys: the `pubkey/1` document and the spoken fingerprint (spec/keyfile.md §5).

Only public material lives here; it is safe to pass anywhere.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Final, NoReturn

from keys._encoding import b64decode_strict, b64encode, dump_document, load_object, take_str
from keys._errors import InvalidLabelError, InvalidPublicKeyError, UnsupportedFormatError
from keys._roles import ROLE_ALGORITHM, Algorithm, Role, check_label

__all__ = [
    "FINGERPRINT_DOMAIN",
    "PUBKEY_FORMAT",
    "PUBLIC_KEY_SIZE",
    "PublicKey",
    "export_public_key",
    "fingerprint",
    "parse_public_key",
]

PUBKEY_FORMAT: Final = "pubkey/1"
PUBLIC_KEY_SIZE: Final = 32
FINGERPRINT_DOMAIN: Final = b"branch-election/key-fingerprint/1"
_FIELDS: Final = frozenset({"format", "algorithm", "role", "label", "key"})


@dataclass(frozen=True, slots=True)
class PublicKey:
    """A public key with the role and label it was issued for (spec §5.1).

    Construct it with `parse_public_key` from untrusted bytes, or get it from a Signer.
    """

    role: Role
    label: str
    key: bytes
    algorithm: Algorithm = Algorithm.ED25519

    def __post_init__(self) -> None:
        if len(self.key) != PUBLIC_KEY_SIZE:
            raise InvalidPublicKeyError(
                zh=f"公钥长度应为 {PUBLIC_KEY_SIZE} 字节。",
                en=f"a public key must be {PUBLIC_KEY_SIZE} bytes, got {len(self.key)}",
            )
        if ROLE_ALGORITHM[self.role] is not self.algorithm:
            raise InvalidPublicKeyError(
                zh="该角色不使用此算法的密钥。",
                en=f"role {self.role} does not use {self.algorithm} keys",
            )
        check_label(self.label)


def _fail(problem_zh: str, problem_en: str) -> NoReturn:
    raise InvalidPublicKeyError(
        zh=f"公钥文件无效：{problem_zh}。", en=f"invalid public key document: {problem_en}"
    )


def parse_public_key(data: bytes) -> PublicKey:
    """Parse a `pubkey/1` document (spec §5.2), the only way in for an untrusted public key.

    Args:
        data: the UTF-8 JSON document.

    Raises:
        UnsupportedFormatError: `format` is not `pubkey/1`.
        InvalidPublicKeyError: anything else is wrong (JSON, fields, role, label, key size).

    Returns:
        The public key.
    """
    try:
        doc = load_object(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as e:  # JSONDecodeError is a ValueError
        _fail("不是有效的 JSON 对象", f"not a JSON object ({e})")
    fmt = take_str(doc, "format", _fail)
    if fmt != PUBKEY_FORMAT:
        raise UnsupportedFormatError(
            zh=f"不支持的公钥文件格式“{fmt}”，本程序只支持 {PUBKEY_FORMAT}。",
            en=f"unsupported public key format {fmt!r}; this program reads {PUBKEY_FORMAT}",
        )
    unknown = sorted(set(doc) - _FIELDS)
    if unknown:
        _fail(f"未知字段 {', '.join(unknown)}", f"unknown fields {unknown}")
    try:
        algorithm = Algorithm(take_str(doc, "algorithm", _fail))
        role = Role(take_str(doc, "role", _fail))
    except ValueError as e:
        _fail("未知的算法或角色", str(e))
    key = b64decode_strict(
        take_str(doc, "key", _fail), size=PUBLIC_KEY_SIZE, field="key", fail=_fail
    )
    try:
        return PublicKey(
            role=role, label=take_str(doc, "label", _fail), key=key, algorithm=algorithm
        )
    except InvalidLabelError as e:
        _fail(e.zh, e.en)


def export_public_key(public_key: PublicKey) -> bytes:
    """Serialise a public key as a `pubkey/1` document (spec §5.2)."""
    return dump_document(
        {
            "format": PUBKEY_FORMAT,
            "algorithm": str(public_key.algorithm),
            "role": str(public_key.role),
            "label": public_key.label,
            "key": b64encode(public_key.key),
        }
    )


def fingerprint(public_key: PublicKey) -> str:
    """The fingerprint a person reads aloud to compare keys (spec §5.3).

    SHA-256 over `FINGERPRINT_DOMAIN || 0x00 || algorithm || 0x00 || key`; the first 80 bits as a
    25-digit decimal number in five groups of five digits, e.g. "03141 59265 35897 93238 46264".
    """
    digest = hashlib.sha256(
        FINGERPRINT_DOMAIN
        + b"\x00"
        + str(public_key.algorithm).encode("ascii")
        + b"\x00"
        + public_key.key
    ).digest()
    digits = f"{int.from_bytes(digest[:10], 'big'):025d}"
    return " ".join(digits[i : i + 5] for i in range(0, 25, 5))
