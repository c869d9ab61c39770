"""The audit tool's errors: each has a stable code, a clause of spec/audit.md, zh and en text."""

from __future__ import annotations

from verifier.errors import VerificationError

__all__ = [
    "AuditError",
    "AuditInputError",
    "AuditRecordError",
    "AuditScanError",
    "AuditSeedError",
    "BundleNotVerifiedError",
]


class AuditError(VerificationError):
    """Root of the audit tool's errors (a ``VerificationError``, so shells can share handling)."""

    def message(self, lang: str) -> str:
        """The message in ``zh`` (default) or ``en``."""
        return self.en if lang == "en" else self.zh


class BundleNotVerifiedError(AuditError):
    """The bundle does not pass ``verifier verify``: nothing is audited against it (A1)."""


class AuditInputError(AuditError):
    """A marks file, a reading or an option is impossible for the ballot or the election."""


class AuditScanError(AuditError):
    """A scan cannot be read: not a file, not an image or PDF, no QR code, unreadable QR."""


class AuditSeedError(AuditError):
    """The dice-roll seed has too few digits or other characters (A4)."""


class AuditRecordError(AuditError):
    """An audit record cannot be written or read (A9)."""
