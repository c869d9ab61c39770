"""The election's remote-ballot key and its shares (spec/remote-v2.md RV-5.2): the ElGamal key
generated k-of-n (keys.elgamal, EG-7), each scrutineer's share wrapped in a ``remote-share/2``
container sealed to that scrutineer's manifest key; no key that opens a ballot ever exists whole
(RV-1.1). The shares stay in objects of this module that never print them.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final, NoReturn

import nacl.bindings
import nacl.exceptions
import nacl.public
import rfc8785

from keys import elgamal
from keys._encoding import load_object
from keys._errors import KeysError, WrongRoleError
from keys._public import PublicKey
from keys._remote_common import RemoteError, _b64, _check_election_id, _domain_hash
from keys._roles import Role
from keys._signing import InMemorySigner
from keys.remote_tokens import TokenIssuer

__all__ = [
    "MAX_SCRUTINEERS",
    "SEAL_OVERHEAD",
    "SHARE_COMMITMENT_DOMAIN_V2",
    "SHARE_DOMAIN_V2",
    "SHARE_FORMAT_V2",
    "RemoteKeySetupV2",
    "ShareContainerError",
    "ShareContainerV2",
    "ShareNotForThisKeyError",
    "create_remote_key_v2",
    "parse_share_container_v2",
    "share_commitment_v2",
    "unwrap_share_v2",
]

SEAL_OVERHEAD: Final = nacl.bindings.crypto_box_SEALBYTES  # 48: ephemeral key + Poly1305 tag
MAX_SCRUTINEERS: Final = 32  # the manifest's scrutineers (RV-5.2)


class ShareContainerError(RemoteError):
    """A `remote-share/2` container is malformed or its sealed share does not open (RV-5.2)."""

    code = "remote.share_corrupt"


class ShareNotForThisKeyError(RemoteError):
    """The container is addressed to another scrutineer's key (RV-5.2)."""

    code = "remote.share_wrong_key"


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
