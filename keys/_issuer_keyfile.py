"""Encrypted issuer key files, format `issuer-keyfile/1` (spec/keyfile.md §6).

The envelope of `keyfile/1` (§4.1: Argon2id, the passphrase check, XChaCha20-Poly1305 with the
whole header as associated data) around a key that is not an Ed25519 seed: the remote-voting
issuer's RSA private key (spec/remote.md RM-4.1), as unencrypted PKCS#8 DER inside the AEAD.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import logging
import secrets
import unicodedata
from typing import Any, Final

import nacl.bindings
import nacl.exceptions
import nacl.secret
import rfc8785

from keys._encoding import b64encode, dump_document, take_str
from keys._errors import UnsupportedFormatError, WeakPassphraseError, WrongPassphraseError
from keys._keyfile import (
    CHECK_SIZE,
    CIPHER_NAME,
    KDF_NAME,
    MODERATE_LIMITS,
    NONCE_SIZE,
    PASSPHRASE_MIN_CHARS,
    SALT_SIZE,
    KdfLimits,
    UnsafeFixedRandomness,
    _corrupt,
    _derive,
    _load_document,
    parse_kdf_and_cipher,
)

__all__ = ["ISSUER_KEYFILE_FORMAT", "open_issuer_key", "seal_issuer_key"]

ISSUER_KEYFILE_FORMAT: Final = "issuer-keyfile/1"
ISSUER_ALGORITHM: Final = "rsabssa-sha384-pss-randomized"
AAD_DOMAIN: Final = b"branch-election/issuer-keyfile/1"
MAX_KEY_BYTES: Final = 16384  # PKCS#8 DER of an RSA key up to 8192 bits fits easily

_log = logging.getLogger("keys")

_TOP_FIELDS: Final = frozenset(
    {"format", "algorithm", "public_key", "kdf", "passphrase_check", "cipher", "ciphertext"}
)


def _aad(header: dict[str, Any]) -> bytes:
    return AAD_DOMAIN + b"\x00" + rfc8785.dumps(header)


def _b64(obj: dict[str, Any], field: str, *, size: int | None = None) -> bytes:
    text = take_str(obj, field, _corrupt)
    try:
        raw = base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, ValueError, UnicodeEncodeError):
        _corrupt(f"字段 {field} 不是 base64", f"field {field} is not base64")
    if b64encode(raw) != text or (size is not None and len(raw) != size) or not raw:
        _corrupt(f"字段 {field} 的长度或写法不对", f"field {field} has the wrong size or spelling")
    if len(raw) > MAX_KEY_BYTES:
        _corrupt(f"字段 {field} 过长", f"field {field} is too long")
    return raw


def seal_issuer_key(
    private_der: bytes,
    public_der: bytes,
    passphrase: str,
    *,
    limits: KdfLimits = MODERATE_LIMITS,
    unsafe_randomness: UnsafeFixedRandomness | None = None,
) -> bytes:
    """Seal PKCS#8 DER under ``passphrase`` (spec/keyfile.md §10).

    Args:
        private_der: the RSA private key, unencrypted PKCS#8 DER.
        public_der: its DER SubjectPublicKeyInfo (the header's ``public_key``).
        passphrase: at least 8 characters; NFC-normalised, UTF-8 encoded.
        limits: Argon2id cost; ``INTERACTIVE_LIMITS`` only for tests and vectors.
        unsafe_randomness: a fixed salt and nonce (its seed is unused), for test vectors only.

    Raises:
        WeakPassphraseError: the passphrase is shorter than 8 characters.
    """
    if len(unicodedata.normalize("NFC", passphrase)) < PASSPHRASE_MIN_CHARS:
        raise WeakPassphraseError(
            zh=f"口令太短：至少需要 {PASSPHRASE_MIN_CHARS} 个字符。",
            en=f"the passphrase is too short: at least {PASSPHRASE_MIN_CHARS} characters",
        )
    if unsafe_randomness is None:
        salt, nonce = secrets.token_bytes(SALT_SIZE), secrets.token_bytes(NONCE_SIZE)
    else:
        _log.warning("issuer key sealed with fixed randomness: test vectors only, never a real key")
        salt, nonce = unsafe_randomness.salt, unsafe_randomness.nonce
    key, check = _derive(passphrase, salt, limits)
    header: dict[str, Any] = {
        "format": ISSUER_KEYFILE_FORMAT,
        "algorithm": ISSUER_ALGORITHM,
        "public_key": b64encode(public_der),
        "kdf": {
            "name": KDF_NAME,
            "salt": b64encode(salt),
            "opslimit": limits.opslimit,
            "memlimit": limits.memlimit,
        },
        "passphrase_check": b64encode(check),
        "cipher": {"name": CIPHER_NAME, "nonce": b64encode(nonce)},
    }
    sealed = nacl.secret.Aead(key).encrypt(private_der, _aad(header), nonce).ciphertext
    return dump_document({**header, "ciphertext": b64encode(sealed)})


def open_issuer_key(data: bytes, passphrase: str) -> tuple[bytes, bytes]:
    """Open a file written by `seal_issuer_key`: (PKCS#8 DER, the header's public key DER).

    The caller checks that the private key matches the public key.

    Raises:
        TruncatedKeyFileError, CorruptKeyFileError: damaged or altered.
        UnsupportedFormatError: another format.
        WrongPassphraseError: the passphrase check does not match.
    """
    doc = _load_document(data)
    fmt = take_str(doc, "format", _corrupt)
    if fmt != ISSUER_KEYFILE_FORMAT:
        raise UnsupportedFormatError(
            zh=f"不支持的签发密钥文件格式“{fmt}”，本程序只支持 {ISSUER_KEYFILE_FORMAT}。",
            en=f"unsupported issuer key file format {fmt!r}; this program reads "
            f"{ISSUER_KEYFILE_FORMAT}",
        )
    if set(doc) != _TOP_FIELDS:
        extra, missing = sorted(set(doc) - _TOP_FIELDS), sorted(_TOP_FIELDS - set(doc))
        _corrupt(f"字段不对（多余 {extra}，缺少 {missing}）", f"unknown {extra}, missing {missing}")
    if take_str(doc, "algorithm", _corrupt) != ISSUER_ALGORITHM:
        _corrupt("未知的算法", f"algorithm must be {ISSUER_ALGORITHM}")
    kdf, cipher, limits = parse_kdf_and_cipher(doc)
    public_der = _b64(doc, "public_key")
    salt = _b64(kdf, "salt", size=SALT_SIZE)
    check_stored = _b64(doc, "passphrase_check", size=CHECK_SIZE)
    nonce = _b64(cipher, "nonce", size=NONCE_SIZE)
    ciphertext = _b64(doc, "ciphertext")
    if len(ciphertext) <= nacl.bindings.crypto_aead_xchacha20poly1305_ietf_ABYTES:
        # shorter than its tag: libsodium's binding would fail with a ValueError, not CryptoError
        _corrupt("密文过短", "the ciphertext is shorter than its authentication tag")
    header = {k: v for k, v in doc.items() if k != "ciphertext"}
    key, check = _derive(passphrase, salt, limits)
    if not hmac.compare_digest(check, check_stored):
        raise WrongPassphraseError(
            zh="口令错误：无法打开签发密钥文件。",
            en="wrong passphrase: the issuer key file cannot be opened",
        )
    try:
        private_der = nacl.secret.Aead(key).decrypt(ciphertext, _aad(header), nonce)
    except nacl.exceptions.CryptoError:
        _corrupt(
            "文件头或密文与加密时不一致", "the header or ciphertext differs from when it was sealed"
        )
    return private_der, public_der
