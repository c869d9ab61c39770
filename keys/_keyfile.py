"""Encrypted key files, format `keyfile/1` (spec/keyfile.md §4).

The seed is encrypted with XChaCha20-Poly1305 under a key derived from the passphrase by Argon2id;
the whole header (role, label, public key, KDF parameters, nonce) is the AEAD's associated data, so
no header field can be changed without the file failing to open.
"""

from __future__ import annotations

import hmac
import json
import logging
import os
import secrets
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, NoReturn

import nacl.encoding
import nacl.exceptions
import nacl.hash
import nacl.pwhash
import nacl.secret
import rfc8785

from keys._encoding import (
    b64decode_strict,
    b64encode,
    dump_document,
    load_object,
    take_int,
    take_str,
)
from keys._errors import (
    CorruptKeyFileError,
    InvalidLabelError,
    InvalidPublicKeyError,
    TruncatedKeyFileError,
    UnsupportedFormatError,
    WeakPassphraseError,
    WrongPassphraseError,
    WrongRoleError,
)
from keys._public import PUBKEY_FORMAT, PUBLIC_KEY_SIZE, PublicKey
from keys._roles import ROLE_NAMES_ZH, Algorithm, Role, check_label
from keys._signing import SEED_SIZE, InMemorySigner, public_key_from_seed

__all__ = [
    "INTERACTIVE_LIMITS",
    "KEYFILE_FORMAT",
    "MODERATE_LIMITS",
    "PASSPHRASE_MIN_CHARS",
    "KdfLimits",
    "KeyFile",
    "UnsafeFixedRandomness",
    "generate_keypair",
    "load_signer",
    "parse_key_file",
    "unlock_key_file",
]

_log = logging.getLogger(__name__)

KEYFILE_FORMAT: Final = "keyfile/1"
KDF_NAME: Final = "argon2id"
CIPHER_NAME: Final = "xchacha20poly1305-ietf"
AAD_DOMAIN: Final = b"branch-election/keyfile/1"
SALT_SIZE: Final = nacl.pwhash.argon2id.SALTBYTES  # 16
NONCE_SIZE: Final = nacl.secret.Aead.NONCE_SIZE  # 24
CHECK_SIZE: Final = 32
CIPHERTEXT_SIZE: Final = SEED_SIZE + nacl.secret.Aead.MACBYTES  # 48
PASSPHRASE_MIN_CHARS: Final = 8
# Subkeys from the Argon2id output, one per purpose (BLAKE2b personalisation, at most 16 bytes).
_PERSON_ENCRYPT: Final = b"keyfile/1-seal"
_PERSON_CHECK: Final = b"keyfile/1-check"

_TOP_FIELDS: Final = frozenset(
    {"format", "algorithm", "role", "label", "public_key", "kdf", "passphrase_check", "cipher"}
    | {"ciphertext"}
)
_KDF_FIELDS: Final = frozenset({"name", "salt", "opslimit", "memlimit"})
_CIPHER_FIELDS: Final = frozenset({"name", "nonce"})


# Argon2id bounds (spec §4.1): never weaker than libsodium's INTERACTIVE preset; never so costly
# that a hostile file could stall the machine (libsodium's SENSITIVE memory, a few more passes).
MIN_OPSLIMIT: Final = nacl.pwhash.argon2id.OPSLIMIT_INTERACTIVE
MAX_OPSLIMIT: Final = 10
MIN_MEMLIMIT: Final = nacl.pwhash.argon2id.MEMLIMIT_INTERACTIVE
MAX_MEMLIMIT: Final = nacl.pwhash.argon2id.MEMLIMIT_SENSITIVE


@dataclass(frozen=True, slots=True)
class KdfLimits:
    """Argon2id cost parameters (spec §4.1): `opslimit` passes, `memlimit` bytes of memory."""

    opslimit: int
    memlimit: int

    def __post_init__(self) -> None:
        if not (
            MIN_OPSLIMIT <= self.opslimit <= MAX_OPSLIMIT
            and MIN_MEMLIMIT <= self.memlimit <= MAX_MEMLIMIT
            and self.memlimit % 1024 == 0
        ):
            raise ValueError(
                f"Argon2id limits out of range: opslimit {self.opslimit}, memlimit {self.memlimit}"
            )


MODERATE_LIMITS: Final = KdfLimits(
    opslimit=nacl.pwhash.argon2id.OPSLIMIT_MODERATE, memlimit=nacl.pwhash.argon2id.MEMLIMIT_MODERATE
)
"""The default: 3 passes over 256 MiB, about one second on an office PC."""

INTERACTIVE_LIMITS: Final = KdfLimits(
    opslimit=nacl.pwhash.argon2id.OPSLIMIT_INTERACTIVE,
    memlimit=nacl.pwhash.argon2id.MEMLIMIT_INTERACTIVE,
)
"""The floor: 2 passes over 64 MiB. For tests, vectors and demos."""


@dataclass(frozen=True, slots=True)
class UnsafeFixedRandomness:
    """Fixed seed, salt and nonce, so `scripts/gen_keyfile_vectors.py` is reproducible.

    Unsafe: anyone who knows these values knows the private key. Never use it for a real key.
    """

    seed: bytes
    salt: bytes
    nonce: bytes

    def __post_init__(self) -> None:
        if (len(self.seed), len(self.salt), len(self.nonce)) != (SEED_SIZE, SALT_SIZE, NONCE_SIZE):
            raise ValueError("seed, salt and nonce must be 32, 16 and 24 bytes")


@dataclass(frozen=True, slots=True)
class KeyFile:
    """A parsed, still encrypted, `keyfile/1` document (spec §4.2).

    Its header is not authenticated until `unlock_key_file` succeeds: `show` may display it, but
    nothing may trust it before then.
    """

    public_key: PublicKey
    limits: KdfLimits
    salt: bytes
    passphrase_check: bytes
    nonce: bytes
    ciphertext: bytes

    @property
    def role(self) -> Role:
        return self.public_key.role

    @property
    def label(self) -> str:
        return self.public_key.label

    def header(self) -> dict[str, Any]:
        """Every field except `ciphertext`: the AEAD's associated data (spec §4.2)."""
        return {
            "format": KEYFILE_FORMAT,
            "algorithm": str(self.public_key.algorithm),
            "role": str(self.public_key.role),
            "label": self.public_key.label,
            "public_key": b64encode(self.public_key.key),
            "kdf": {
                "name": KDF_NAME,
                "salt": b64encode(self.salt),
                "opslimit": self.limits.opslimit,
                "memlimit": self.limits.memlimit,
            },
            "passphrase_check": b64encode(self.passphrase_check),
            "cipher": {"name": CIPHER_NAME, "nonce": b64encode(self.nonce)},
        }

    def associated_data(self) -> bytes:
        return AAD_DOMAIN + b"\x00" + rfc8785.dumps(self.header())

    def to_bytes(self) -> bytes:
        return dump_document({**self.header(), "ciphertext": b64encode(self.ciphertext)})


def _passphrase_bytes(passphrase: str) -> bytes:
    # The same phrase typed with different input methods may differ in composition; NFC fixes it.
    return unicodedata.normalize("NFC", passphrase).encode("utf-8")


def _derive(passphrase: str, salt: bytes, limits: KdfLimits) -> tuple[bytes, bytes]:
    """(encryption key, passphrase check) from the passphrase (spec §4.1)."""
    master = nacl.pwhash.argon2id.kdf(
        32, _passphrase_bytes(passphrase), salt, opslimit=limits.opslimit, memlimit=limits.memlimit
    )
    raw = nacl.encoding.RawEncoder
    key = nacl.hash.blake2b(b"", digest_size=32, key=master, person=_PERSON_ENCRYPT, encoder=raw)
    check = nacl.hash.blake2b(
        b"", digest_size=CHECK_SIZE, key=master, person=_PERSON_CHECK, encoder=raw
    )
    return key, check


def generate_keypair(
    role: Role,
    label: str,
    *,
    passphrase: str,
    limits: KdfLimits = MODERATE_LIMITS,
    unsafe_randomness: UnsafeFixedRandomness | None = None,
) -> tuple[bytes, PublicKey]:
    """Make a new Ed25519 key and seal it in a `keyfile/1` document (spec §4.1).

    Args:
        role: what the key will sign.
        label: who holds it, e.g. the scrutineer's name (spec §3.2).
        passphrase: at least 8 characters; NFC-normalised, UTF-8 encoded.
        limits: Argon2id cost; `INTERACTIVE_LIMITS` only for tests and demos.
        unsafe_randomness: fixed seed/salt/nonce for test vectors only.

    Raises:
        InvalidLabelError: the label breaks spec §3.2.
        WeakPassphraseError: the passphrase is shorter than 8 characters.

    Returns:
        The key file bytes (write them with `write_new_file(..., mode=PRIVATE_FILE_MODE)`) and the
        public key.
    """
    check_label(label)
    if len(unicodedata.normalize("NFC", passphrase)) < PASSPHRASE_MIN_CHARS:
        raise WeakPassphraseError(
            zh=f"口令太短：至少需要 {PASSPHRASE_MIN_CHARS} 个字符。",
            en=f"the passphrase is too short: at least {PASSPHRASE_MIN_CHARS} characters",
        )
    if unsafe_randomness is None:
        seed = secrets.token_bytes(SEED_SIZE)
        salt = secrets.token_bytes(SALT_SIZE)
        nonce = secrets.token_bytes(NONCE_SIZE)
    else:
        _log.warning("key file sealed with fixed randomness: test vectors only, never a real key")
        seed, salt, nonce = unsafe_randomness.seed, unsafe_randomness.salt, unsafe_randomness.nonce
    public_key = PublicKey(role=role, label=label, key=public_key_from_seed(seed))
    key, check = _derive(passphrase, salt, limits)
    unsealed = KeyFile(
        public_key=public_key,
        limits=limits,
        salt=salt,
        passphrase_check=check,
        nonce=nonce,
        ciphertext=b"",
    )
    ciphertext = nacl.secret.Aead(key).encrypt(seed, unsealed.associated_data(), nonce).ciphertext
    sealed = KeyFile(
        public_key=public_key,
        limits=limits,
        salt=salt,
        passphrase_check=check,
        nonce=nonce,
        ciphertext=ciphertext,
    )
    return sealed.to_bytes(), public_key


def _corrupt(problem_zh: str, problem_en: str) -> NoReturn:
    raise CorruptKeyFileError(
        zh=f"密钥文件已损坏或被篡改：{problem_zh}。",
        en=f"the key file is corrupt or was altered: {problem_en}",
    )


def _truncated() -> NoReturn:
    raise TruncatedKeyFileError(
        zh="密钥文件不完整（被截断）：请从备份重新复制。",
        en="the key file is truncated: copy it again from the backup",
    )


def _is_cut_short(text: str, error: json.JSONDecodeError) -> bool:
    # The parser ran off the end of the input, or inside a string that never closes: the document
    # was cut, rather than changed.
    return error.pos >= len(text.rstrip()) or error.msg.startswith("Unterminated string")


def _load_document(data: bytes) -> dict[str, Any]:
    if not data.strip():
        _truncated()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        if e.reason == "unexpected end of data":
            _truncated()
        _corrupt("不是 UTF-8 文本", "not UTF-8 text")
    try:
        return load_object(text)
    except json.JSONDecodeError as e:
        if _is_cut_short(text, e):
            _truncated()
        _corrupt("不是有效的 JSON", f"not valid JSON ({e})")
    except ValueError as e:
        _corrupt("JSON 内容不合规范", str(e))


def _sub_object(doc: dict[str, Any], field: str, fields: frozenset[str]) -> dict[str, Any]:
    value = doc.get(field)
    if not isinstance(value, dict):
        _corrupt(f"缺少字段 {field}", f"missing or non-object field {field}")
    if set(value) != fields:
        _corrupt(f"字段 {field} 的子字段不对", f"field {field} must have exactly {sorted(fields)}")
    return value


def parse_kdf_and_cipher(
    doc: dict[str, Any],
) -> tuple[dict[str, Any], dict[str, Any], KdfLimits]:
    """The ``kdf`` and ``cipher`` members of a key file (this format's and ``issuer-keyfile/1``'s):
    exactly their fields, the supported names, and KDF limits within range.

    Raises:
        CorruptKeyFileError: any of these does not hold.
    """
    kdf = _sub_object(doc, "kdf", _KDF_FIELDS)
    cipher = _sub_object(doc, "cipher", _CIPHER_FIELDS)
    if take_str(kdf, "name", _corrupt) != KDF_NAME:
        _corrupt("不支持的口令派生算法", f"kdf.name must be {KDF_NAME}")
    if take_str(cipher, "name", _corrupt) != CIPHER_NAME:
        _corrupt("不支持的加密算法", f"cipher.name must be {CIPHER_NAME}")
    try:
        limits = KdfLimits(
            opslimit=take_int(kdf, "opslimit", _corrupt),
            memlimit=take_int(kdf, "memlimit", _corrupt),
        )
    except ValueError as e:
        _corrupt("口令派生参数超出范围", str(e))
    return kdf, cipher, limits


def parse_key_file(data: bytes) -> KeyFile:
    """Parse a `keyfile/1` document without decrypting it (spec §4.2).

    Args:
        data: the file's bytes.

    Raises:
        TruncatedKeyFileError: the document stops short.
        UnsupportedFormatError: `format` is not `keyfile/1` (e.g. a future version or a public key).
        CorruptKeyFileError: any other structural problem.

    Returns:
        The parsed, still encrypted, key file.
    """
    doc = _load_document(data)
    fmt = take_str(doc, "format", _corrupt)
    if fmt != KEYFILE_FORMAT:
        hint_zh = "（这是公钥文件，不是密钥文件）" if fmt == PUBKEY_FORMAT else ""
        raise UnsupportedFormatError(
            zh=f"不支持的密钥文件格式“{fmt}”{hint_zh}，本程序只支持 {KEYFILE_FORMAT}。",
            en=f"unsupported key file format {fmt!r}; this program reads {KEYFILE_FORMAT}",
        )
    if set(doc) != _TOP_FIELDS:
        extra, missing = sorted(set(doc) - _TOP_FIELDS), sorted(_TOP_FIELDS - set(doc))
        _corrupt(f"字段不对（多余 {extra}，缺少 {missing}）", f"unknown {extra}, missing {missing}")
    try:
        algorithm = Algorithm(take_str(doc, "algorithm", _corrupt))
        role = Role(take_str(doc, "role", _corrupt))
    except ValueError as e:
        _corrupt("未知的算法或角色", str(e))
    kdf, cipher, limits = parse_kdf_and_cipher(doc)

    def b64(obj: dict[str, Any], field: str, size: int) -> bytes:
        return b64decode_strict(
            take_str(obj, field, _corrupt), size=size, field=field, fail=_corrupt
        )

    try:
        public_key = PublicKey(
            role=role,
            label=take_str(doc, "label", _corrupt),
            key=b64(doc, "public_key", PUBLIC_KEY_SIZE),
            algorithm=algorithm,
        )
    except (InvalidLabelError, InvalidPublicKeyError) as e:
        _corrupt(e.zh, e.en)
    return KeyFile(
        public_key=public_key,
        limits=limits,
        salt=b64(kdf, "salt", SALT_SIZE),
        passphrase_check=b64(doc, "passphrase_check", CHECK_SIZE),
        nonce=b64(cipher, "nonce", NONCE_SIZE),
        ciphertext=b64(doc, "ciphertext", CIPHERTEXT_SIZE),
    )


def _check_role(key_file: KeyFile, expected_role: Role | None) -> None:
    if expected_role is not None and key_file.role is not expected_role:
        raise WrongRoleError(
            zh=f"密钥角色不符：此操作需要{ROLE_NAMES_ZH[expected_role]}的密钥，"
            f"而这是{ROLE_NAMES_ZH[key_file.role]}的密钥（{key_file.label}）。",
            en=f"wrong key role: this needs a {expected_role} key, "
            f"but this is a {key_file.role} key ({key_file.label})",
        )


def unlock_key_file(
    key_file: KeyFile, passphrase: str, *, expected_role: Role | None
) -> InMemorySigner:
    """Decrypt a parsed key file into a signer (spec §4.3).

    Args:
        key_file: from `parse_key_file`.
        passphrase: the key file's passphrase.
        expected_role: the role the caller's operation needs; None only where any role will do
            (exporting the public key).

    Raises:
        WrongRoleError: the header names another role (checked first: no KDF cost).
        WrongPassphraseError: the passphrase check does not match.
        CorruptKeyFileError: the header or ciphertext was altered, or the decrypted key does not
            match the header's public key.

    Returns:
        A signer whose public key, role and label are now authenticated.
    """
    _check_role(key_file, expected_role)
    key, check = _derive(passphrase, key_file.salt, key_file.limits)
    if not hmac.compare_digest(check, key_file.passphrase_check):
        raise WrongPassphraseError(
            zh="口令错误：无法打开密钥文件。", en="wrong passphrase: the key file cannot be opened"
        )
    try:
        seed = nacl.secret.Aead(key).decrypt(
            key_file.ciphertext, key_file.associated_data(), key_file.nonce
        )
    except nacl.exceptions.CryptoError:
        _corrupt(
            "文件头或密文与加密时不一致", "the header or ciphertext differs from when it was sealed"
        )
    signer = InMemorySigner.from_seed(key_file.role, key_file.label, seed)
    if not hmac.compare_digest(signer.public_key.key, key_file.public_key.key):
        _corrupt(
            "解密出的私钥与文件中的公钥不符", "the decrypted key does not match the public key"
        )
    return signer


def load_signer(
    source: bytes | str | os.PathLike[str], passphrase: str, *, expected_role: Role | None
) -> InMemorySigner:
    """Read, parse and unlock a key file (spec §4.3).

    Args:
        source: the file's bytes, or a path to it.
        passphrase: the key file's passphrase.
        expected_role: the role the caller's operation needs (None: any role).

    Raises:
        OSError: the path cannot be read.
        TruncatedKeyFileError, CorruptKeyFileError, UnsupportedFormatError: see `parse_key_file`.
        WrongRoleError, WrongPassphraseError: see `unlock_key_file`.

    Returns:
        The signer.
    """
    data = source if isinstance(source, bytes) else Path(source).read_bytes()
    return unlock_key_file(parse_key_file(data), passphrase, expected_role=expected_role)
