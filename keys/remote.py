"""Remote ballots: the cryptographic pieces of spec/remote.md and spec/remote-v2.md.

* the election's ElGamal key generated k-of-n (keys.elgamal, EG-7), each scrutineer's share
  wrapped in a `remote-share/2` container sealed to that scrutineer's manifest key (RV-5.2); no
  key that opens a ballot ever exists whole (RV-1.1);
* one-time invitation codes: generation, keyed hash for storage, constant-time check, expiry and
  the failed-attempt limit (§3);
* the RFC 9474 token protocol around `keys.blind_rsa`: issuer key, the exact message a token
  signature covers, the client's blind/finalize steps and verification (§4).

Raw private key material (the key shares, the issuer's RSA key) stays in objects of this module
that never print it.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
import secrets
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Final, NoReturn

import nacl.bindings
import nacl.exceptions
import nacl.public
import rfc8785
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from keys import blind_rsa, elgamal
from keys._encoding import load_object
from keys._errors import CorruptKeyFileError, KeysError, WrongRoleError
from keys._issuer_keyfile import open_issuer_key, seal_issuer_key
from keys._keyfile import MODERATE_LIMITS, KdfLimits, UnsafeFixedRandomness
from keys._public import PublicKey
from keys._roles import Role
from keys._signing import InMemorySigner

__all__ = [
    "CHECK_SYMBOL_DOMAIN",
    "ELECTION_ID_SIZE",
    "INVITATION_CODE_GROUPS",
    "INVITATION_CODE_SYMBOLS",
    "INVITATION_DOMAIN",
    "INVITATION_KEY_SIZE",
    "INVITATION_LIFETIME",
    "INVITATION_RANDOM_BITS",
    "MAX_SCRUTINEERS",
    "PIN_DOMAIN",
    "SEAL_OVERHEAD",
    "SHARE_COMMITMENT_DOMAIN_V2",
    "SHARE_DOMAIN_V2",
    "SHARE_FORMAT_V2",
    "TOKEN_DOMAIN",
    "TOKEN_SIZE",
    "ExpiredInvitationError",
    "Invitation",
    "MalformedInvitationCodeError",
    "RateLimit",
    "RateLimitedError",
    "RemoteCredential",
    "RemoteError",
    "RemoteKeySetupV2",
    "ShareContainerError",
    "ShareContainerV2",
    "ShareNotForThisKeyError",
    "TokenIssuer",
    "TokenRequest",
    "TokenSignatureError",
    "TokenSignatureLengthError",
    "UsedInvitationError",
    "WrongInvitationCodeError",
    "begin_token_request",
    "check_invitation",
    "create_remote_key_v2",
    "finish_token_request",
    "generate_invitation_code",
    "generate_invitation_key",
    "hash_invitation_code",
    "invitation_pin",
    "issue_invitation",
    "load_issuer_public_key",
    "normalize_invitation_code",
    "parse_share_container_v2",
    "share_commitment_v2",
    "token_message",
    "unwrap_share_v2",
    "verify_credential",
]

# --------------------------------------------------------------------------- constants

ELECTION_ID_SIZE: Final = 32
SEAL_OVERHEAD: Final = nacl.bindings.crypto_box_SEALBYTES  # 48: ephemeral key + Poly1305 tag
MAX_SCRUTINEERS: Final = 32  # the manifest's scrutineers (RV-5.2)

TOKEN_DOMAIN: Final = b"branch-election/remote-token/1"
TOKEN_SIZE: Final = 32

INVITATION_DOMAIN: Final = b"branch-election/invitation/1"
CHECK_SYMBOL_DOMAIN: Final = b"branch-election/invitation-check/1"
INVITATION_KEY_SIZE: Final = 32
_CROCKFORD: Final = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_CROCKFORD_ALIASES: Final = {"O": "0", "I": "1", "L": "1"}
_RANDOM_SYMBOLS: Final = 23
INVITATION_RANDOM_BITS: Final = 5 * _RANDOM_SYMBOLS  # 115
INVITATION_CODE_SYMBOLS: Final = _RANDOM_SYMBOLS + 1  # plus the check symbol
INVITATION_CODE_GROUPS: Final = 6  # of 4 symbols: XXXX-XXXX-XXXX-XXXX-XXXX-XXXX
INVITATION_LIFETIME: Final = timedelta(hours=72)
_SEPARATORS: Final = re.compile(r"[\s\-]+")


# --------------------------------------------------------------------------- errors


class RemoteError(KeysError):
    """Base of the errors of this module (spec/remote.md §11)."""

    code = "remote.error"


class ShareContainerError(RemoteError):
    """A `remote-share/2` container is malformed or its sealed share does not open (RV-5.2)."""

    code = "remote.share_corrupt"


class ShareNotForThisKeyError(RemoteError):
    """The container is addressed to another scrutineer's key (RV-5.2)."""

    code = "remote.share_wrong_key"


class MalformedInvitationCodeError(RemoteError):
    """The text is not an invitation code: wrong length, a foreign character, a typo (§3.1)."""

    code = "invitation.malformed"


class WrongInvitationCodeError(RemoteError):
    """The code does not match the invitation (§3.3)."""

    code = "invitation.wrong"


class UsedInvitationError(RemoteError):
    """The invitation was already redeemed for a credential (§3.3)."""

    code = "invitation.used"


class ExpiredInvitationError(RemoteError):
    """The invitation expired (§3.3)."""

    code = "invitation.expired"


class RateLimitedError(RemoteError):
    """Too many failed attempts from this source in the window (§3.4)."""

    code = "invitation.rate_limited"


class TokenSignatureError(RemoteError):
    """A token signature does not verify for this election and issuer key (§4.5)."""

    code = "remote.token_invalid"


class TokenSignatureLengthError(TokenSignatureError):
    """A token signature that is not modulus_len bytes long (§4.5, RFC 8017 §8.1.2 step 1)."""

    code = "remote.token_signature_length"


# --------------------------------------------------------------------------- helpers


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _check_election_id(election_id: bytes) -> bytes:
    if len(election_id) != ELECTION_ID_SIZE:
        raise ValueError(f"an election id is {ELECTION_ID_SIZE} bytes")
    return election_id


def _domain_hash(domain: bytes, message: bytes) -> bytes:
    return hashlib.sha256(domain + b"\x00" + message).digest()


def _no_pickle(obj: object) -> NoReturn:
    raise TypeError(f"{type(obj).__name__} holds private key material and cannot be pickled")


def _check_threshold(k: int, n: int) -> None:
    if not (1 <= n <= MAX_SCRUTINEERS and 1 <= k <= n and (k >= 2 or n == 1)):
        raise ValueError(
            f"threshold must satisfy 1 <= k <= n <= {MAX_SCRUTINEERS} and k >= 2 when n >= 2, "
            f"got k={k}, n={n}"
        )


def _scrutineer_x25519(public_key: PublicKey) -> nacl.public.PublicKey:
    if public_key.role is not Role.SCRUTINEER:
        raise WrongRoleError(
            zh="密钥份额只能交给监票人。",
            en=f"key shares go to scrutineer keys only, not {public_key.role}",
        )
    try:
        raw = nacl.bindings.crypto_sign_ed25519_pk_to_curve25519(public_key.key)
    except nacl.exceptions.RuntimeError as e:
        raise ShareContainerError(
            zh="监票人公钥不能用于加密。", en="the scrutineer key cannot be converted to X25519"
        ) from e
    return nacl.public.PublicKey(raw)


def _corrupt_share(problem_zh: str, problem_en: str) -> NoReturn:
    raise ShareContainerError(
        zh=f"密钥份额文件无效：{problem_zh}。", en=f"invalid key share container: {problem_en}"
    )


def _b64_field(doc: dict[str, Any], name: str, size: int) -> bytes:
    text = doc.get(name)
    if not isinstance(text, str):
        _corrupt_share(f"缺少字段 {name}", f"missing or non-string field {name}")
    try:
        raw = base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError):
        _corrupt_share(f"字段 {name} 不是 base64", f"field {name} is not base64")
    if _b64(raw) != text or len(raw) != size:
        _corrupt_share(
            f"字段 {name} 的长度或写法不对", f"field {name} is not {size} canonical bytes"
        )
    return raw


def _int_field(doc: dict[str, Any], name: str) -> int:
    value = doc.get(name)
    if not isinstance(value, int) or isinstance(value, bool):
        _corrupt_share(f"缺少整数字段 {name}", f"missing or non-integer field {name}")
    return value


def _open_sealed_share(addressee: PublicKey, sealed: bytes, scrutineer: InMemorySigner) -> bytes:
    """RV-5.2's first steps of opening a `remote-share/2`: the signer is a scrutineer key, the
    one the container names, and its X25519 form opens `sealed`.

    Raises:
        WrongRoleError, ShareNotForThisKeyError, ShareContainerError.
    """
    if scrutineer.role is not Role.SCRUTINEER:
        raise WrongRoleError(
            zh="只有监票人的密钥能打开密钥份额。",
            en=f"only a scrutineer key opens a key share, not {scrutineer.role}",
        )
    if not hmac.compare_digest(scrutineer.public_key.key, addressee.key):
        raise ShareNotForThisKeyError(
            zh="这份密钥份额不是交给此监票人的。",
            en="this key share is addressed to another scrutineer",
        )
    # The only place the scrutineer's Ed25519 seed is used for decryption (ADR 0006).
    # libsodium's secret key is seed || public key; its X25519 form is the clamped first half of
    # SHA-512(seed), as PyNaCl's SigningKey.to_curve25519_private_key gives.
    private = nacl.public.PrivateKey(
        nacl.bindings.crypto_sign_ed25519_sk_to_curve25519(
            scrutineer._signing_key.private_bytes_raw() + scrutineer.public_key.key
        )
    )
    try:
        return nacl.public.SealedBox(private).decrypt(sealed)
    except nacl.exceptions.CryptoError as e:
        raise ShareContainerError(
            zh="密钥份额无法解密：文件已被改动。",
            en="the sealed share does not open: the container was altered",
        ) from e


# --------------------------------------------------------------------------- shares, v2 (RV-5.2)

SHARE_FORMAT_V2: Final = "remote-share/2"
SHARE_DOMAIN_V2: Final = b"branch-election/remote-share/2"
SHARE_COMMITMENT_DOMAIN_V2: Final = b"branch-election/remote-share-commitment/2"
_SHARE_V2_PLAINTEXT_SIZE: Final = 32 + elgamal.SCALAR_SIZE  # binding || x_i
_SHARE_V2_SEALED_SIZE: Final = _SHARE_V2_PLAINTEXT_SIZE + SEAL_OVERHEAD  # 112
_SHARE_V2_FIELDS: Final = frozenset(
    {
        "format",
        "election_id",
        "commitments",
        "k",
        "n",
        "index",
        "scrutineer",
        "scrutineer_label",
        "sealed",
    }
)

Sealer = Callable[[bytes, bytes], bytes]
"""(plaintext, recipient X25519 public key) -> crypto_box_seal bytes."""


def _seal(plaintext: bytes, recipient: bytes) -> bytes:
    return nacl.public.SealedBox(nacl.public.PublicKey(recipient)).encrypt(plaintext)


@dataclass(frozen=True, slots=True)
class ShareContainerV2:
    """A `remote-share/2` container (spec/remote-v2.md RV-5.2): scrutineer `index`'s share x_i
    of the election's ElGamal key, sealed to their manifest key with the header bound inside.

    Safe to store and copy: only the scrutineer's private key opens `sealed`.
    """

    election_id: bytes
    key: elgamal.ThresholdKey
    index: int
    scrutineer: PublicKey
    sealed: bytes

    def header(self) -> dict[str, Any]:
        """Every member except `sealed`: bound into the sealed plaintext."""
        election_key = self.key.to_json()
        return {
            "format": SHARE_FORMAT_V2,
            "election_id": self.election_id.hex(),
            "commitments": election_key["commitments"],
            "k": self.key.k,
            "n": self.key.n,
            "index": self.index,
            "scrutineer": _b64(self.scrutineer.key),
            "scrutineer_label": self.scrutineer.label,
        }

    def binding(self) -> bytes:
        """SHA-256("branch-election/remote-share/2" || 0x00 || JCS(header))."""
        return _domain_hash(SHARE_DOMAIN_V2, rfc8785.dumps(self.header()))

    def to_bytes(self) -> bytes:
        """The container as stored and handed over: JCS bytes."""
        return rfc8785.dumps({**self.header(), "sealed": _b64(self.sealed)})


def share_commitment_v2(container: bytes) -> str:
    """RV-5.2: SHA-256("branch-election/remote-share-commitment/2" || 0x00 || container bytes),
    64 lowercase hex, as logged in `remote.opened`'s `shares`."""
    return _domain_hash(SHARE_COMMITMENT_DOMAIN_V2, container).hex()


@dataclass(frozen=True, slots=True)
class RemoteKeySetupV2:
    """What `create_remote_key_v2` leaves behind: the public election key and one sealed
    container per scrutineer (index order). No share and no private key is kept."""

    election_id: bytes
    key: elgamal.ThresholdKey
    scrutineers: tuple[PublicKey, ...]
    containers: tuple[bytes, ...]  # JCS of remote-share/2, index order
    commitments: tuple[str, ...]  # share_commitment_v2 of each container, 64 hex

    def shares_body(self) -> list[dict[str, Any]]:
        """`remote.opened`'s `shares`: `{index, scrutineer, commitment}` per container."""
        return [
            {"index": i, "scrutineer": _b64(s.key), "commitment": c}
            for i, (s, c) in enumerate(zip(self.scrutineers, self.commitments, strict=True), 1)
        ]

    def opened_body(
        self, issuer: TokenIssuer, write_in_lists: Sequence[Mapping[str, Any]]
    ) -> dict[str, Any]:
        """The body of a version-2 `remote.opened` (spec/remote-v2.md §5); `write_in_lists` as
        RV-2.1 computes them (`{post, members}` per assembly-voted post, ballot order)."""
        return {
            "issuer_key": _b64(issuer.public_key_der),
            "election_key": self.key.to_json(),
            "shares": self.shares_body(),
            "write_in_lists": [dict(item) for item in write_in_lists],
        }


def _create_remote_key_v2(
    election_id: bytes,
    scrutineers: Sequence[PublicKey],
    k: int,
    *,
    rng: elgamal.ScalarSource,
    seal: Sealer,
) -> RemoteKeySetupV2:
    """`create_remote_key_v2` with the randomness given (the vectors' fixed seeds)."""
    _check_election_id(election_id)
    n = len(scrutineers)
    _check_threshold(k, n)
    if len({s.key for s in scrutineers}) != n:
        raise ValueError("a scrutineer key is listed twice")
    recipients = [bytes(_scrutineer_x25519(s)) for s in scrutineers]
    key, shares = elgamal.generate_threshold_key(k=k, n=n, rng=rng)
    containers = []
    for share, scrutineer, recipient in zip(shares, scrutineers, recipients, strict=True):
        header = ShareContainerV2(
            election_id=election_id, key=key, index=share.index, scrutineer=scrutineer, sealed=b""
        )
        sealed = seal(header.binding() + share.secret_bytes(), recipient)
        containers.append(
            ShareContainerV2(
                election_id=election_id,
                key=key,
                index=share.index,
                scrutineer=scrutineer,
                sealed=sealed,
            ).to_bytes()
        )
    del shares
    return RemoteKeySetupV2(
        election_id=election_id,
        key=key,
        scrutineers=tuple(scrutineers),
        containers=tuple(containers),
        commitments=tuple(share_commitment_v2(c) for c in containers),
    )


def create_remote_key_v2(
    election_id: bytes, scrutineers: Sequence[PublicKey], k: int
) -> RemoteKeySetupV2:
    """Generate the election's ElGamal key k-of-n in memory (EG-7.2) and seal share i to the
    i-th scrutineer in a `remote-share/2` container (RV-5.2). The shares and the polynomial are
    dropped when this returns; no key that opens a ballot exists afterwards (RV-1.1).

    Args:
        election_id: the 32-byte election id.
        scrutineers: the manifest's scrutineer keys, in manifest order; share i+1 goes to the i-th.
        k: 2 <= k <= n (k = 1 only when n = 1).

    Raises:
        ValueError: bad election id, threshold, or a scrutineer key listed twice.
        WrongRoleError: a key that is not a scrutineer key.
    """
    return _create_remote_key_v2(
        election_id, scrutineers, k, rng=elgamal.SystemScalars(), seal=_seal
    )


def parse_share_container_v2(data: bytes) -> ShareContainerV2:
    """Parse a `remote-share/2` container from its JCS bytes (RV-5.2).

    Raises:
        ShareContainerError: not canonical JSON, unknown or missing members, bad sizes or values
            (the commitments included: each a canonical non-identity point, exactly k of them).
    """
    try:
        doc = load_object(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as e:
        _corrupt_share("不是有效的 JSON 对象", f"not a JSON object ({e})")
    if doc.get("format") != SHARE_FORMAT_V2:
        _corrupt_share(f"格式不是 {SHARE_FORMAT_V2}", f"format is not {SHARE_FORMAT_V2}")
    if set(doc) != _SHARE_V2_FIELDS:
        _corrupt_share("字段不符", f"members must be exactly {sorted(_SHARE_V2_FIELDS)}")
    election_hex = doc["election_id"]
    if not isinstance(election_hex, str) or re.fullmatch(r"[0-9a-f]{64}", election_hex) is None:
        _corrupt_share("选举编号无效", "election_id is not 64 lowercase hex digits")
    label = doc["scrutineer_label"]
    if not isinstance(label, str):
        _corrupt_share("缺少监票人标签", "scrutineer_label is not a string")
    try:
        scrutineer = PublicKey(
            role=Role.SCRUTINEER, label=label, key=_b64_field(doc, "scrutineer", 32)
        )
    except KeysError as e:
        _corrupt_share(e.zh, e.en)
    k, n, index = _int_field(doc, "k"), _int_field(doc, "n"), _int_field(doc, "index")
    try:
        key = elgamal.parse_threshold_key({"k": k, "n": n, "commitments": doc["commitments"]})
    except elgamal.ElGamalError as e:
        _corrupt_share(f"选举公钥无效：{e.zh}", f"invalid election key: {e.en}")
    if not 1 <= index <= n:
        _corrupt_share("份额序号超出范围", f"index {index} outside 1..{n}")
    container = ShareContainerV2(
        election_id=bytes.fromhex(election_hex),
        key=key,
        index=index,
        scrutineer=scrutineer,
        sealed=_b64_field(doc, "sealed", _SHARE_V2_SEALED_SIZE),
    )
    if container.to_bytes() != data:
        _corrupt_share("不是规范 JSON（JCS）", "not the canonical JCS bytes")
    return container


def unwrap_share_v2(
    container: ShareContainerV2, scrutineer: InMemorySigner, key: elgamal.ThresholdKey
) -> elgamal.KeyShare:
    """Open one's own share (RM-7.4 as RV-5.2 says) and check it against the election key of
    `remote.opened` (EG-7.3). The caller has checked the container's commitment (RV-5.2).

    Raises:
        WrongRoleError: the signer is not a scrutineer key.
        ShareNotForThisKeyError: the container names another scrutineer's key.
        ShareContainerError: the sealed share does not open, or its header binding differs.
        keys.elgamal.ShareMismatchError: the container is for another election key, or the share
            does not match the commitments (x_i·G ≠ Y_i).
    """
    plaintext = _open_sealed_share(container.scrutineer, container.sealed, scrutineer)
    if len(plaintext) != _SHARE_V2_PLAINTEXT_SIZE or not hmac.compare_digest(
        plaintext[:32], container.binding()
    ):
        _corrupt_share("文件头与加密时不一致", "the header differs from when the share was sealed")
    if container.key != key:
        raise elgamal.ShareMismatchError(
            zh="这份密钥份额属于另一个选举公钥。",
            en="this key share belongs to another election key",
        )
    try:
        share = elgamal.KeyShare.from_bytes(index=container.index, data=plaintext[32:])
    except elgamal.ElGamalError as e:
        raise elgamal.ShareMismatchError(
            zh="密钥份额不是规范标量。", en="the key share is not a canonical scalar"
        ) from e
    elgamal.verify_share(key, share)
    return share


# --------------------------------------------------------------------------- invitations (§3)


def generate_invitation_key() -> bytes:
    """A fresh 32-byte HMAC key for invitation hashes (§3.2); kept outside the database."""
    return secrets.token_bytes(INVITATION_KEY_SIZE)


def _check_symbol(symbols: str) -> str:
    digest = _domain_hash(CHECK_SYMBOL_DOMAIN, symbols.encode("ascii"))
    return _CROCKFORD[digest[0] >> 3]


def _group(symbols: str) -> str:
    return "-".join(symbols[i : i + 4] for i in range(0, len(symbols), 4))


def generate_invitation_code() -> str:
    """A fresh code: 23 random Crockford symbols (115 bits) and a check symbol, grouped (§3.1)."""
    symbols = "".join(secrets.choice(_CROCKFORD) for _ in range(_RANDOM_SYMBOLS))
    return _group(symbols + _check_symbol(symbols))


PIN_DOMAIN: Final = b"branch-election/invitation-pin/2"


def invitation_pin(summary_hash: bytes, opened_leaf_hash: bytes) -> str:
    """The invitation's check code (RM-10.3): 16 hex digits in groups of 4 that bind the hash of
    the town-signed public summary (which holds the election id, the town key and the work-group
    key; spec/manifest.md §6) and the leaf hash of the ``remote.opened`` entry, so the page can
    tell that what it is served is what every member was invited with."""
    if len(summary_hash) != 32 or len(opened_leaf_hash) != 32:
        raise ValueError("summary hash and leaf hash are 32 bytes each")
    digest = hashlib.sha256(PIN_DOMAIN + b"\x00" + summary_hash + opened_leaf_hash).hexdigest()
    return "-".join(digest[i : i + 4].upper() for i in range(0, 16, 4))


def normalize_invitation_code(text: str) -> str:
    """The canonical grouped spelling of a typed code (§3.1).

    Case is ignored, spaces and hyphens anywhere are dropped, O reads as 0 and I, L as 1.

    Raises:
        MalformedInvitationCodeError: a character outside Crockford base32, the wrong number of
            symbols, or a check symbol that does not match (a typo).
    """
    compact = _SEPARATORS.sub("", text).upper()
    compact = "".join(_CROCKFORD_ALIASES.get(c, c) for c in compact)
    if len(compact) != INVITATION_CODE_SYMBOLS or any(c not in _CROCKFORD for c in compact):
        raise MalformedInvitationCodeError(
            zh=f"邀请码格式不对：应为 {INVITATION_CODE_SYMBOLS} 个字母或数字。",
            en=f"not an invitation code: it has {INVITATION_CODE_SYMBOLS} letters and digits",
        )
    if compact[-1] != _check_symbol(compact[:-1]):
        raise MalformedInvitationCodeError(
            zh="邀请码有输入错误，请核对后重新输入。",
            en="the invitation code has a typo; check it and type it again",
        )
    return _group(compact)


def hash_invitation_code(server_key: bytes, election_id: bytes, code: str) -> bytes:
    """The stored form: HMAC-SHA-256(server_key, INVITATION_DOMAIN || 0x00 || id || code) (§3.2).

    Raises:
        MalformedInvitationCodeError: see `normalize_invitation_code`.
        ValueError: a server key shorter than 32 bytes, or a bad election id.
    """
    if len(server_key) < INVITATION_KEY_SIZE:
        raise ValueError(f"the invitation key must have at least {INVITATION_KEY_SIZE} bytes")
    _check_election_id(election_id)
    canonical = normalize_invitation_code(code).replace("-", "")
    message = INVITATION_DOMAIN + b"\x00" + election_id + canonical.encode("ascii")
    return hmac.new(server_key, message, hashlib.sha256).digest()


def _aware(moment: datetime, name: str) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware")
    return moment


@dataclass(frozen=True, slots=True)
class Invitation:
    """What the service stores for one invitation: never the code itself (§3.2)."""

    member: str
    code_hash: bytes = field(repr=False)
    issued_at: datetime
    expires_at: datetime
    redeemed_at: datetime | None = None

    def __post_init__(self) -> None:
        _aware(self.issued_at, "issued_at")
        _aware(self.expires_at, "expires_at")
        if self.expires_at <= self.issued_at:
            raise ValueError("an invitation must expire after it is issued")


def issue_invitation(
    server_key: bytes,
    election_id: bytes,
    member: str,
    *,
    now: datetime,
    closes_at: datetime,
    lifetime: timedelta = INVITATION_LIFETIME,
) -> tuple[str, Invitation]:
    """A new code for `member` and the record to store (§3.2); show the code once, then drop it.

    The invitation expires after `lifetime` or when remote voting closes, whichever is first.

    Raises:
        ValueError: naive datetimes, or remote voting already closed.
    """
    expires_at = min(_aware(now, "now") + lifetime, _aware(closes_at, "closes_at"))
    if expires_at <= now:
        raise ValueError("remote voting is already closed")
    code = generate_invitation_code()
    record = Invitation(
        member=member,
        code_hash=hash_invitation_code(server_key, election_id, code),
        issued_at=now,
        expires_at=expires_at,
    )
    return code, record


def check_invitation(
    invitation: Invitation, code: str, *, server_key: bytes, election_id: bytes, now: datetime
) -> None:
    """Check a typed code against a stored invitation, in the order of §3.3.

    Raises:
        MalformedInvitationCodeError: not a code, or a typo (check symbol).
        WrongInvitationCodeError: another code (compared in constant time).
        UsedInvitationError: the invitation was already redeemed.
        ExpiredInvitationError: `now` is at or after `expires_at`.
    """
    candidate = hash_invitation_code(server_key, election_id, code)
    if not hmac.compare_digest(candidate, invitation.code_hash):
        raise WrongInvitationCodeError(zh="邀请码不正确。", en="wrong invitation code")
    if invitation.redeemed_at is not None:
        raise UsedInvitationError(
            zh="此邀请码已经使用过，不能再次领取投票凭证。",
            en="this invitation code was already used for a credential",
        )
    if _aware(now, "now") >= invitation.expires_at:
        raise ExpiredInvitationError(
            zh="邀请码已过期，请联系选举工作组。",
            en="the invitation code has expired; contact the election work group",
        )


@dataclass(frozen=True, slots=True)
class RateLimit:
    """At most `max_failures` failed attempts per source within `window` (§3.4)."""

    max_failures: int = 5
    window: timedelta = timedelta(minutes=15)

    def __post_init__(self) -> None:
        if self.max_failures < 1 or self.window <= timedelta(0):
            raise ValueError("a rate limit needs max_failures >= 1 and a positive window")

    def check(self, failures: Sequence[datetime], now: datetime) -> None:
        """Refuse a new attempt when the source already failed `max_failures` times in the window.

        Raises:
            RateLimitedError: too many recent failures; `retry_after` tells when to try again.
        """
        start = _aware(now, "now") - self.window
        recent = sorted(t for t in failures if t > start)
        if len(recent) >= self.max_failures:
            retry_after = recent[-self.max_failures] + self.window
            raise RateLimitedError(
                zh=f"尝试次数过多，请于 {retry_after:%H:%M} 之后再试。",
                en=f"too many attempts; try again after {retry_after:%H:%M}",
            )


# --------------------------------------------------------------------------- tokens (§4)


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
