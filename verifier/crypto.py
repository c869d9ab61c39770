"""Public keys, fingerprints and signature checks (spec/keyfile.md §2.4, §5, §6).

Re-implemented from the spec: ``pubkey/1`` parsing, the 25-digit fingerprint and Ed25519
verification of ``domain || 0x00 || message`` with libsodium, strictly (``verifier.ed25519``; the
producer signs with OpenSSL through ``cryptography``).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
import unicodedata
from dataclasses import dataclass
from typing import Any, Final

from verifier import ed25519
from verifier.canonical import parse_json
from verifier.errors import PublicKeyError, SignatureInvalidError

__all__ = [
    "ROLES",
    "PublicKey",
    "b64decode_canonical",
    "fingerprint",
    "parse_fingerprint",
    "parse_pubkey_document",
    "parse_pubkey_value",
    "verify_signature",
]

#: spec/keyfile.md §3.1 roles the verifier reads: ``casework`` signs the casework log's checkpoints
#: (spec/procedure.md RP-1.2, RP-11.4; ``verifier casework``).
ROLES: Final = ("town_committee", "work_group", "scrutineer", "casework")
_PUBKEY_MEMBERS: Final = frozenset({"format", "algorithm", "role", "label", "key"})
_FINGERPRINT_DOMAIN: Final = b"branch-election/key-fingerprint/1"
_FP_INPUT: Final = re.compile(r"[0-9 ]+")


def b64decode_canonical(text: object, size: int | None = None) -> bytes | None:
    """Decode RFC 4648 §4 base64 with padding, canonical spelling only; ``None`` if invalid."""
    if not isinstance(text, str) or not text.isascii():
        return None
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return None
    if base64.b64encode(raw).decode("ascii") != text:
        return None
    if size is not None and len(raw) != size:
        return None
    return raw


@dataclass(frozen=True, slots=True)
class PublicKey:
    """A verified-shape public key: role, label and the 32 raw Ed25519 bytes (K-5.1)."""

    role: str
    label: str
    key: bytes

    @property
    def fingerprint(self) -> str:
        """The 25-digit fingerprint (K-5.3)."""
        return fingerprint(self.key)

    @property
    def signer_name(self) -> str:
        """``<role>:<first 16 hex of SHA-256(key)>`` as used on checkpoint lines (log.md §3)."""
        return f"{self.role}:{hashlib.sha256(self.key).hexdigest()[:16]}"

    @property
    def key_id(self) -> bytes:
        """First 4 bytes of SHA-256(key) (log.md §3)."""
        return hashlib.sha256(self.key).digest()[:4]


def fingerprint(key: bytes) -> str:
    """``ddddd ddddd ddddd ddddd ddddd`` of spec/keyfile.md §5.3."""
    h = hashlib.sha256(_FINGERPRINT_DOMAIN + b"\x00" + b"ed25519" + b"\x00" + key).digest()
    digits = f"{int.from_bytes(h[:10], 'big'):025d}"
    return " ".join(digits[i : i + 5] for i in range(0, 25, 5))


def parse_fingerprint(text: str) -> str:
    """Normalise a typed fingerprint (25 digits, with or without spaces) to the grouped form.

    Raises:
        PublicKeyError: not 25 decimal digits.
    """
    if _FP_INPUT.fullmatch(text.strip()) is None or len(text.replace(" ", "").strip()) != 25:
        raise PublicKeyError(
            clause="K-5.3",
            code="pubkey.bad_fingerprint",
            zh="指纹应为 25 位数字",
            en="a fingerprint is 25 decimal digits",
        )
    digits = text.replace(" ", "").strip()
    return " ".join(digits[i : i + 5] for i in range(0, 25, 5))


def _label_ok(label: object) -> bool:
    if not isinstance(label, str) or not 1 <= len(label) <= 64:
        return False
    if unicodedata.normalize("NFC", label) != label or label.strip() != label:
        return False
    return all(unicodedata.category(ch)[0] != "C" for ch in label)


def _bad(en: str, zh: str, path: str) -> PublicKeyError:
    return PublicKeyError(clause="K-5.2", code="pubkey.invalid", zh=zh, en=en, path=path)


def parse_pubkey_value(doc: Any, *, path: str = "", role: str | None = None) -> PublicKey:
    """Check a parsed ``pubkey/1`` object (K-5.2) and, if given, its role (K-3.1).

    Raises:
        PublicKeyError: ``keys.unsupported_format`` (K-2.1), ``pubkey.invalid`` (K-5.2) or
            ``keys.wrong_role`` (K-3.1).

    Returns:
        The public key.
    """
    if not isinstance(doc, dict):
        raise _bad("public key is not a JSON object", "公钥不是 JSON 对象", path)
    if doc.get("format") != "pubkey/1":
        raise PublicKeyError(
            clause="K-2.1",
            code="keys.unsupported_format",
            zh=f"不支持的公钥格式 {doc.get('format')!r}",
            en=f"unsupported public key format {doc.get('format')!r}",
            path=path,
        )
    if set(doc) != _PUBKEY_MEMBERS:
        extra = sorted(set(doc) - _PUBKEY_MEMBERS)
        missing = sorted(_PUBKEY_MEMBERS - set(doc))
        raise _bad(
            f"members wrong (unknown {extra}, missing {missing})",
            f"公钥成员不符（多余 {extra}，缺少 {missing}）",
            path,
        )
    if doc["algorithm"] != "ed25519":
        raise _bad("algorithm is not ed25519", "算法不是 ed25519", path)
    if doc["role"] not in ROLES:
        raise _bad(f"unknown role {doc['role']!r}", f"未知角色 {doc['role']!r}", path)
    if not _label_ok(doc["label"]):
        raise _bad("label is not 1-64 NFC characters", "标签无效", path)
    raw = b64decode_canonical(doc["key"], 32)
    if raw is None:
        raise _bad("key is not canonical base64 of 32 bytes", "公钥不是 32 字节的规范 base64", path)
    try:
        ed25519.load_key(raw)
    except ed25519.InvalidEd25519Error as e:
        raise _bad(
            "key is not a canonical Ed25519 point of the prime-order subgroup",
            "不是有效的 Ed25519 公钥（须为素数阶子群中的规范编码点）",
            path,
        ) from e
    if role is not None and doc["role"] != role:
        raise PublicKeyError(
            clause="K-3.1",
            code="keys.wrong_role",
            zh=f"公钥角色应为 {role}，实为 {doc['role']}",
            en=f"key role should be {role}, found {doc['role']}",
            path=path,
        )
    return PublicKey(role=doc["role"], label=doc["label"], key=raw)


def parse_pubkey_document(data: bytes, *, path: str = "") -> PublicKey:
    """Parse a ``pubkey/1`` file (any whitespace, K-2.3).

    Raises:
        PublicKeyError: as ``parse_pubkey_value``, or the bytes are not acceptable JSON.

    Returns:
        The public key.
    """
    try:
        doc = parse_json(data, clause="K-5.2", path=path, limit=65536)
    except Exception as e:
        raise _bad(f"not a JSON document ({e})", "不是有效的 JSON 文档", path) from e
    return parse_pubkey_value(doc, path=path)


def verify_signature(key: bytes, domain: bytes, message: bytes, signature: bytes) -> None:
    """Verify Ed25519 strictly over ``domain || 0x00 || message`` (K-6.2, K-6.3).

    Raises:
        SignatureInvalidError: any failure, including wrong lengths, a key outside the
            prime-order subgroup, a non-canonical R or S, or a small-order R.
    """
    try:
        ed25519.verify(ed25519.load_key(key), signature, domain + b"\x00" + message)
    except ed25519.InvalidEd25519Error as e:
        raise SignatureInvalidError(
            clause="K-6.3",
            code="signature.invalid",
            zh=f"签名无效（签名域 {domain.decode('ascii', 'replace')}）",
            en=f"invalid signature (domain {domain.decode('ascii', 'replace')})",
        ) from e
