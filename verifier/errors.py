"""The verifier's exception family (STYLE §7.2 rule 13).

Every error carries the spec clause it enforces (``V1``..``V18``, ``Q1``..``Q8``, ``K-5.2``, ...),
a stable ``code``, a Simplified Chinese and an English message. Nothing here imports project code.
"""

from __future__ import annotations

__all__ = [
    "BundleOpenError",
    "CanonicalFormError",
    "CheckpointFormatError",
    "DocumentFormatError",
    "JsonLimitError",
    "PublicKeyError",
    "QrError",
    "SignatureInvalidError",
    "VerificationError",
]


class VerificationError(Exception):
    """Root of the verifier's errors: a check failed or an input could not be read."""

    def __init__(self, *, clause: str, code: str, zh: str, en: str, path: str = "") -> None:
        super().__init__(en)
        self.clause = clause
        self.code = code
        self.zh = zh
        self.en = en
        self.path = path

    def __str__(self) -> str:
        where = f" at {self.path}" if self.path else ""
        return f"[{self.clause} {self.code}] {self.en}{where}"


class BundleOpenError(VerificationError):
    """The bundle cannot be read at all (missing, not a folder or zip, no index): exit 2."""


class JsonLimitError(VerificationError):
    """A JSON document exceeds a limit of spec/bundle.md §7 (size, depth)."""


class DocumentFormatError(VerificationError):
    """A JSON document is not the format it must be (unknown or missing field, wrong type)."""


class CanonicalFormError(DocumentFormatError):
    """The stored bytes are not the RFC 8785 canonical form of the document they hold."""


class PublicKeyError(VerificationError):
    """A ``pubkey/1`` document or a fingerprint is invalid (spec/keyfile.md §5)."""


class SignatureInvalidError(VerificationError):
    """An Ed25519 signature does not verify (spec/keyfile.md §6.3)."""


class QrError(VerificationError):
    """A ballot QR text fails one of Q1-Q8 (spec/ballot-qr.md §5)."""


class CheckpointFormatError(VerificationError):
    """A checkpoint text is not a ``checkpoint/1`` signed note (spec/log.md §3)."""
