"""The RFC 9474 token protocol of remote voting (spec/remote.md §4) around ``keys.blind_rsa``:
the issuer key, the exact message a token signature covers, the client's blind and finalize steps,
and verification. The issuer's private key stays inside ``TokenIssuer``, which never prints it.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass, field
from typing import Final, NoReturn

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from keys import blind_rsa
from keys._errors import CorruptKeyFileError
from keys._issuer_keyfile import open_issuer_key, seal_issuer_key
from keys._keyfile import MODERATE_LIMITS, KdfLimits, UnsafeFixedRandomness
from keys._remote_common import ELECTION_ID_SIZE, RemoteError, _check_election_id, _no_pickle

__all__ = [
    "ELECTION_ID_SIZE",
    "TOKEN_DOMAIN",
    "TOKEN_SIZE",
    "RemoteCredential",
    "TokenIssuer",
    "TokenRequest",
    "TokenSignatureError",
    "TokenSignatureLengthError",
    "begin_token_request",
    "finish_token_request",
    "load_issuer_public_key",
    "token_message",
    "verify_credential",
]

TOKEN_DOMAIN: Final = b"branch-election/remote-token/1"
TOKEN_SIZE: Final = 32


class TokenSignatureError(RemoteError):
    """A token signature does not verify for this election and issuer key (§4.5)."""

    code = "remote.token_invalid"


class TokenSignatureLengthError(TokenSignatureError):
    """A token signature that is not modulus_len bytes long (§4.5, RFC 8017 §8.1.2 step 1)."""

    code = "remote.token_signature_length"


def token_message(election_id: bytes, token: bytes) -> bytes:
    """msg = TOKEN_DOMAIN || 0x00 || election_id (32) || token (32), before Prepare (§4.2)."""
    _check_election_id(election_id)
    if len(token) != TOKEN_SIZE:
        raise ValueError(f"a token is {TOKEN_SIZE} bytes")
    return TOKEN_DOMAIN + b"\x00" + election_id + token


def load_issuer_public_key(der: bytes) -> rsa.RSAPublicKey:
    """The issuer key from `remote.opened` (canonical DER SPKI rsaEncryption, >= 2048 bits).

    Raises:
        TokenSignatureError: not such a key.
    """
    try:
        return blind_rsa.load_public_key_der(der)
    except blind_rsa.BlindSignatureError as e:
        raise TokenSignatureError(zh=f"签发公钥无效：{e.zh}", en=f"invalid issuer key: {e}") from e


class TokenIssuer:
    """The work group's RFC 9474 issuer for one election (§4.1): one key, used for nothing else.

    It blind-signs what a device sends and never sees a token. The private key stays inside.
    """

    __slots__ = ("_key",)

    def __init__(self, key: rsa.RSAPrivateKey) -> None:
        self._key = key

    @classmethod
    def generate(cls, bits: int = 2048) -> TokenIssuer:
        """A fresh dedicated key (RSA, e = 65537, at least 2048 bits)."""
        return cls(blind_rsa.generate_issuer_key(bits))

    @property
    def public_key(self) -> rsa.RSAPublicKey:
        return self._key.public_key()

    @property
    def public_key_der(self) -> bytes:
        """The `issuer_key` of `remote.opened`: DER SubjectPublicKeyInfo, rsaEncryption."""
        return blind_rsa.public_key_to_der(self._key.public_key())

    def sign_blinded(self, blinded_msg: bytes) -> bytes:
        """BlindSign (RFC 9474 §4.3) on a device's blinded message.

        The caller records `remote.credential_issued` for the member before returning the result.

        Raises:
            keys.blind_rsa.BlindSignatureError: wrong size, out of range, or a signing fault.
        """
        return blind_rsa.blind_sign(self._key, blinded_msg)

    def to_key_file(
        self,
        passphrase: str,
        *,
        limits: KdfLimits = MODERATE_LIMITS,
        unsafe_randomness: UnsafeFixedRandomness | None = None,
    ) -> bytes:
        """The private key for storage at rest: an `issuer-keyfile/1` document (Argon2id and
        XChaCha20-Poly1305, spec/keyfile.md §10) sealed under ``passphrase``;
        ``unsafe_randomness`` (a fixed salt and nonce) is for test vectors only.

        Raises:
            WeakPassphraseError: the passphrase is shorter than 8 characters.
        """
        der = self._key.private_bytes(
            serialization.Encoding.DER,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        return seal_issuer_key(
            der,
            self.public_key_der,
            passphrase,
            limits=limits,
            unsafe_randomness=unsafe_randomness,
        )

    @classmethod
    def from_key_file(cls, data: bytes, passphrase: str) -> TokenIssuer:
        """Load a key written by :meth:`to_key_file`.

        Raises:
            WrongPassphraseError: wrong passphrase.
            CorruptKeyFileError, TruncatedKeyFileError, UnsupportedFormatError: a damaged or
                altered file, or not an RSA key matching the header's public key.
        """
        private_der, public_der = open_issuer_key(data, passphrase)
        try:
            key = serialization.load_der_private_key(private_der, None)
        except (ValueError, TypeError, UnsupportedAlgorithm) as e:
            raise CorruptKeyFileError(
                zh="签发密钥文件中的私钥无法解析。", en="the issuer key file holds no usable key"
            ) from e
        if not isinstance(key, rsa.RSAPrivateKey):
            raise CorruptKeyFileError(
                zh="签发密钥不是 RSA 密钥。", en="the issuer key is not an RSA key"
            )
        issuer = cls(key)
        if not hmac.compare_digest(issuer.public_key_der, public_der):
            raise CorruptKeyFileError(
                zh="解密出的签发私钥与文件中的公钥不符。",
                en="the decrypted issuer key does not match the public key",
            )
        return issuer

    def __repr__(self) -> str:
        digest = hashlib.sha256(self.public_key_der).hexdigest()[:16]
        return f"TokenIssuer(key_sha256={digest!r})"

    def __reduce__(self) -> NoReturn:
        _no_pickle(self)


@dataclass(frozen=True, slots=True)
class RemoteCredential:
    """A finalized credential (§4.4): spent once in `remote.cast`."""

    token: bytes
    prefix: bytes
    signature: bytes

    def prepared_message(self, election_id: bytes) -> bytes:
        """input_msg of RFC 9474: prefix || token_message(election_id, token)."""
        return self.prefix + token_message(election_id, self.token)


@dataclass(frozen=True, slots=True)
class TokenRequest:
    """The device's state between Blind and Finalize (§4.3). Only `blinded_msg` leaves it."""

    election_id: bytes
    token: bytes = field(repr=False)
    prepared: bytes = field(repr=False)
    blinded_msg: bytes
    inv: int = field(repr=False)


def begin_token_request(issuer_key: rsa.RSAPublicKey, election_id: bytes) -> TokenRequest:
    """Device side: draw a token, Prepare (randomized) and Blind it (§4.3)."""
    token = secrets.token_bytes(TOKEN_SIZE)
    prepared = blind_rsa.prepare(token_message(election_id, token))
    blinded = blind_rsa.blind(issuer_key, prepared)
    return TokenRequest(
        election_id=election_id,
        token=token,
        prepared=prepared,
        blinded_msg=blinded.blinded_msg,
        inv=blinded.inv,
    )


def finish_token_request(
    request: TokenRequest, issuer_key: rsa.RSAPublicKey, blind_sig: bytes
) -> RemoteCredential:
    """Device side: Finalize (RFC 9474 §4.4), which also verifies the signature.

    Raises:
        TokenSignatureError: the issuer's answer does not give a valid signature.
    """
    try:
        signature = blind_rsa.finalize(issuer_key, request.prepared, blind_sig, request.inv)
    except blind_rsa.BlindSignatureError as e:
        raise TokenSignatureError(
            zh=f"签发方返回的盲签名无效：{e.zh}", en=f"the issuer's blind signature is invalid: {e}"
        ) from e
    return RemoteCredential(
        token=request.token, prefix=request.prepared[: blind_rsa.PREFIX_LEN], signature=signature
    )


def verify_credential(
    issuer_key: rsa.RSAPublicKey, election_id: bytes, credential: RemoteCredential
) -> None:
    """Check a spent credential (§4.5, V18.3): RSASSA-PSS-SHA384 (salt 48) over prefix || msg.

    Raises:
        TokenSignatureLengthError: the signature is not modulus_len bytes (even when it is the
            right integer with a leading zero byte dropped or added).
        TokenSignatureError: wrong sizes, another election, another issuer key, or altered.
    """
    if len(credential.token) != TOKEN_SIZE or len(credential.prefix) != blind_rsa.PREFIX_LEN:
        raise TokenSignatureError(
            zh="投票凭证的长度不对。", en="token or prefix has the wrong length"
        )
    modulus_len = (issuer_key.key_size + 7) // 8
    got = len(credential.signature)
    if got != modulus_len:  # RFC 8017 §8.1.2 step 1, as V18.3
        raise TokenSignatureLengthError(
            zh=f"投票凭证的签名必须为 {modulus_len} 字节，实际为 {got} 字节。",
            en=f"the token signature must be {modulus_len} bytes, got {got}",
        )
    try:
        blind_rsa.verify(issuer_key, credential.prepared_message(election_id), credential.signature)
    except blind_rsa.BlindSignatureError as e:
        raise TokenSignatureError(
            zh="投票凭证的签名无效。", en="the token signature does not verify"
        ) from e
