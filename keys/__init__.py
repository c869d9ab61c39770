"""The hazmat layer: the only place raw key material lives (spec/keyfile.md).

Ed25519 keys per role, encrypted key files (`keyfile/1`), public-key documents (`pubkey/1`) and
their fingerprints, the `Signer` protocol and the project-wide signing convention
`Ed25519(domain || 0x00 || message)`.

Private key bytes never leave this package: callers hold a `Signer` and get signatures.
(`keys.blind_rsa`, the RFC 9474 token issuer, `keys.remote_tokens`, `keys.remote_key`,
`keys.elgamal` and `keys.remote_ballot`, the remote-ballot cryptography of spec/remote.md,
spec/remote-v2-crypto.md and spec/remote-v2.md, are separate modules and are not re-exported
here.)
"""

from keys._errors import (
    CorruptKeyFileError,
    InvalidDomainError,
    InvalidLabelError,
    InvalidPublicKeyError,
    KeyFileExistsError,
    KeysError,
    SignatureError,
    TruncatedKeyFileError,
    UnsupportedFormatError,
    WeakPassphraseError,
    WrongPassphraseError,
    WrongRoleError,
)
from keys._files import PRIVATE_FILE_MODE, PUBLIC_FILE_MODE, destroy_file, write_new_file
from keys._keyfile import (
    INTERACTIVE_LIMITS,
    KEYFILE_FORMAT,
    MODERATE_LIMITS,
    PASSPHRASE_MIN_CHARS,
    KdfLimits,
    KeyFile,
    UnsafeFixedRandomness,
    generate_keypair,
    load_signer,
    parse_key_file,
    unlock_key_file,
)
from keys._public import (
    PUBKEY_FORMAT,
    PublicKey,
    export_public_key,
    fingerprint,
    parse_public_key,
)
from keys._roles import ROLE_NAMES_ZH, Algorithm, Role
from keys._signing import InMemorySigner, Signer, check_domain, signed_bytes, verify

__all__ = [
    "INTERACTIVE_LIMITS",
    "KEYFILE_FORMAT",
    "MODERATE_LIMITS",
    "PASSPHRASE_MIN_CHARS",
    "PRIVATE_FILE_MODE",
    "PUBKEY_FORMAT",
    "PUBLIC_FILE_MODE",
    "ROLE_NAMES_ZH",
    "Algorithm",
    "CorruptKeyFileError",
    "InMemorySigner",
    "InvalidDomainError",
    "InvalidLabelError",
    "InvalidPublicKeyError",
    "KdfLimits",
    "KeyFile",
    "KeyFileExistsError",
    "KeysError",
    "PublicKey",
    "Role",
    "SignatureError",
    "Signer",
    "TruncatedKeyFileError",
    "UnsafeFixedRandomness",
    "UnsupportedFormatError",
    "WeakPassphraseError",
    "WrongPassphraseError",
    "WrongRoleError",
    "check_domain",
    "destroy_file",
    "export_public_key",
    "fingerprint",
    "generate_keypair",
    "load_signer",
    "parse_key_file",
    "parse_public_key",
    "signed_bytes",
    "unlock_key_file",
    "verify",
    "write_new_file",
]
