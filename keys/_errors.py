"""The `keys` exception family (spec/keyfile.md §7 Errors).

Every error carries a stable machine id (`code`), a Simplified Chinese message for a clerk (`zh`)
and an English message (`en`, also `str(e)`). Shells map classes to exit codes; the library never
prints or logs.
"""

from __future__ import annotations

from bilingual import BilingualError

__all__ = [
    "CorruptKeyFileError",
    "InvalidDomainError",
    "InvalidLabelError",
    "InvalidPublicKeyError",
    "KeyFileExistsError",
    "KeysError",
    "SignatureError",
    "TruncatedKeyFileError",
    "UnsupportedFormatError",
    "WeakPassphraseError",
    "WrongPassphraseError",
    "WrongRoleError",
]


class KeysError(BilingualError):
    """Base class of every error raised by `keys` (not to be confused with the builtin KeyError).

    Each class names its ``code``; raise it as ``Cls(zh=..., en=...)``.
    """

    code = "keys.error"


class WrongPassphraseError(KeysError):
    """The passphrase does not open the key file (spec §4.3 step 4)."""

    code = "keyfile.wrong_passphrase"


class CorruptKeyFileError(KeysError):
    """The key file is malformed, or its header or ciphertext was altered (spec §4.3)."""

    code = "keyfile.corrupt"


class TruncatedKeyFileError(CorruptKeyFileError):
    """The key file ends before the document does: an interrupted copy or a cut file (spec §4.2)."""

    code = "keyfile.truncated"


class UnsupportedFormatError(KeysError):
    """The document names a format or major version this code does not know (spec §2)."""

    code = "keys.unsupported_format"


class WrongRoleError(KeysError):
    """The key belongs to a different role than the operation requires (spec §4.3 step 2)."""

    code = "keys.wrong_role"


class InvalidPublicKeyError(KeysError):
    """A public-key document or raw public key is malformed (spec §5)."""

    code = "pubkey.invalid"


class InvalidLabelError(KeysError):
    """A key label breaks the label rules (spec §3.2)."""

    code = "keys.invalid_label"


class WeakPassphraseError(KeysError):
    """A new key file's passphrase is too short (spec §4.1)."""

    code = "keyfile.weak_passphrase"


class KeyFileExistsError(KeysError):
    """Refusing to overwrite an existing file (spec §4.4)."""

    code = "keyfile.exists"


class InvalidDomainError(KeysError):
    """A signing domain is not a valid context string (spec §6.1)."""

    code = "signature.invalid_domain"


class SignatureError(KeysError):
    """A signature does not verify for the given key, domain and message (spec §6.3)."""

    code = "signature.invalid"
