"""Domain-separated Ed25519 signing: the `Signer` protocol, the in-memory signer, `verify`
(spec/keyfile.md §6 Signing).

Every signature in the project is Ed25519 over `domain || 0x00 || message`. The domain is a
printable-ASCII context string without 0x00, so the first 0x00 always ends it and a signature made
for one purpose can never be replayed as another.

Ed25519 here is OpenSSL's, through `cryptography`; the verifier checks with libsodium, so the two
sides share no implementation (DESIGN.md §2.5).
"""

from __future__ import annotations

import re
import secrets
from typing import Final, NoReturn, Protocol, runtime_checkable

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from keys._errors import InvalidDomainError, SignatureError
from keys._public import PUBLIC_KEY_SIZE, PublicKey, fingerprint
from keys._roles import ROLE_ALGORITHM, Algorithm, Role, check_label

__all__ = [
    "SEED_SIZE",
    "SIGNATURE_SIZE",
    "InMemorySigner",
    "Signer",
    "check_domain",
    "public_key_from_seed",
    "public_key_of",
    "signed_bytes",
    "verify",
]

SEED_SIZE: Final = 32
SIGNATURE_SIZE: Final = 64
DOMAIN_MAX_BYTES: Final = 128
# Printable ASCII without space: unambiguous on paper and in logs, and never 0x00 (spec §6.1).
_DOMAIN_RE: Final = re.compile(rb"[\x21-\x7e]{1,%d}" % DOMAIN_MAX_BYTES)


def check_domain(domain: bytes) -> bytes:
    """Check a signing domain against spec §6.1 and return it.

    Raises:
        InvalidDomainError: empty, longer than 128 bytes, or not printable ASCII without spaces.
    """
    if _DOMAIN_RE.fullmatch(domain) is None:
        raise InvalidDomainError(
            zh="签名域无效：应为 1 到 128 个可打印 ASCII 字符（不含空格）。",
            en=f"invalid signing domain {domain!r}: 1 to {DOMAIN_MAX_BYTES} printable ASCII bytes "
            "without spaces",
        )
    return domain


def public_key_of(signing_key: Ed25519PrivateKey) -> bytes:
    """The raw 32-byte public key of a private key (RFC 8032 §5.1.5)."""
    return signing_key.public_key().public_bytes_raw()


def public_key_from_seed(seed: bytes) -> bytes:
    """The raw 32-byte public key of a 32-byte seed (RFC 8032 §5.1.5)."""
    return public_key_of(Ed25519PrivateKey.from_private_bytes(seed))


def signed_bytes(domain: bytes, message: bytes) -> bytes:
    """The exact bytes an Ed25519 signature covers: `domain || 0x00 || message` (spec §6.2)."""
    return check_domain(domain) + b"\x00" + message


@runtime_checkable
class Signer(Protocol):
    """Something that signs on behalf of one role's key (spec §6.2).

    Callers never see the private key; they get signatures over domain-separated bytes.
    """

    @property
    def public_key(self) -> PublicKey: ...

    @property
    def role(self) -> Role: ...

    @property
    def label(self) -> str: ...

    def sign(self, domain: bytes, message: bytes) -> bytes:
        """Return the 64-byte Ed25519 signature over `domain || 0x00 || message`."""
        ...


class InMemorySigner:
    """An Ed25519 signer holding its key in process memory.

    `load_signer` returns one after decrypting a key file; tests use `generate` and `from_seed`.
    The seed is never exposed: no accessor, no pickling, and `repr` shows only the fingerprint.
    """

    __slots__ = ("_public_key", "_signing_key")

    def __init__(self, *, role: Role, label: str, signing_key: Ed25519PrivateKey) -> None:
        if ROLE_ALGORITHM[role] is not Algorithm.ED25519:  # pragma: no cover - future roles
            raise ValueError(f"role {role} does not sign with Ed25519")
        self._signing_key = signing_key
        self._public_key = PublicKey(
            role=role, label=check_label(label), key=public_key_of(signing_key)
        )

    @classmethod
    def generate(cls, role: Role, label: str) -> InMemorySigner:
        """A fresh key from the `secrets` module."""
        return cls.from_seed(role, label, secrets.token_bytes(SEED_SIZE))

    @classmethod
    def from_seed(cls, role: Role, label: str, seed: bytes) -> InMemorySigner:
        """A key from a fixed 32-byte seed, for deterministic test vectors."""
        if len(seed) != SEED_SIZE:
            raise ValueError(f"an Ed25519 seed is {SEED_SIZE} bytes, got {len(seed)}")
        return cls(role=role, label=label, signing_key=Ed25519PrivateKey.from_private_bytes(seed))

    @property
    def public_key(self) -> PublicKey:
        return self._public_key

    @property
    def role(self) -> Role:
        return self._public_key.role

    @property
    def label(self) -> str:
        return self._public_key.label

    def sign(self, domain: bytes, message: bytes) -> bytes:
        """Sign `domain || 0x00 || message` (spec §6.2).

        Raises:
            InvalidDomainError: the domain breaks spec §6.1.
        """
        return self._signing_key.sign(signed_bytes(domain, message))

    def __repr__(self) -> str:
        return (
            f"InMemorySigner(role={self.role.value!r}, label={self.label!r}, "
            f"fingerprint={fingerprint(self._public_key)!r})"
        )

    def __reduce__(self) -> NoReturn:
        raise TypeError("an InMemorySigner holds a private key and cannot be pickled or copied")


def verify(public_key: PublicKey | bytes, domain: bytes, message: bytes, signature: bytes) -> None:
    """Check an Ed25519 signature over `domain || 0x00 || message` (spec §6.3).

    Args:
        public_key: a `PublicKey`, or the raw 32-byte Ed25519 key.
        domain: the context string the signer used.
        message: the signed message.
        signature: the 64-byte signature.

    Raises:
        InvalidDomainError: the domain breaks spec §6.1.
        SignatureError: wrong length, wrong key, wrong domain, altered message or signature.

    Returns:
        None: returning at all means the signature is valid.
    """
    raw = public_key.key if isinstance(public_key, PublicKey) else public_key
    data = signed_bytes(domain, message)
    if len(raw) != PUBLIC_KEY_SIZE or len(signature) != SIGNATURE_SIZE:
        _bad_signature(domain)
    try:
        Ed25519PublicKey.from_public_bytes(raw).verify(signature, data)
    except (InvalidSignature, ValueError) as e:
        _bad_signature(domain, e)


def _bad_signature(domain: bytes, cause: Exception | None = None) -> NoReturn:
    raise SignatureError(
        zh=f"签名无效（签名域 {domain.decode('ascii')}）：签名与公钥或内容不符。",
        en=f"invalid signature for domain {domain.decode('ascii')}: "
        "it does not match the key and message",
    ) from cause
