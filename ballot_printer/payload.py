"""Ballot QR payload: binary layout, signing, text form, parsing and verification.

Implements spec/ballot-qr.md §2 (binary payload), §3 (text form) and clauses Q1-Q8 (§5). The
checks run in clause order and the first failure raises; only `verify_payload` hands back a
`VerifiedBallot`.
"""

from __future__ import annotations

import base64
import functools
import re
from dataclasses import dataclass
from enum import IntEnum
from typing import Final, Protocol, runtime_checkable

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from ballot_printer.errors import (
    BadEncodingError,
    BadSignatureError,
    InvalidFieldError,
    InvalidPublicKeyError,
    OverlongPayloadError,
    ProcedureBallotError,
    QrTextTooLongError,
    SignerError,
    TruncatedPayloadError,
    UnknownVersionError,
    WrongElectionError,
    WrongKindError,
    WrongRoundError,
)

__all__ = [
    "BALLOT_ID_SIZE",
    "ELECTION_ID_SIZE",
    "ELECTION_PREFIX_SIZE",
    "PAYLOAD_SIZE",
    "PAYLOAD_VERSION",
    "QR_DOMAIN",
    "QR_TEXT_MAX_CHARS",
    "QR_TEXT_PREFIX",
    "SIGNATURE_SIZE",
    "PaperKind",
    "QrPayload",
    "Signer",
    "VerifiedBallot",
    "ballot_code",
    "encode_qr_text",
    "parse_qr_text",
    "sign_payload",
    "verify_payload",
]

PAYLOAD_VERSION: Final = 1
QR_DOMAIN: Final = b"branch-election/ballot-qr/1"
QR_TEXT_PREFIX: Final = "BQ1:"
# (spec §3.4) The most a QR symbol of version 10 at error correction M holds in alphanumeric mode:
# no ballot text is longer, so a longer one is refused before it is read (Q1).
QR_TEXT_MAX_CHARS: Final = 311
ELECTION_ID_SIZE: Final = 32
ELECTION_PREFIX_SIZE: Final = 16
BALLOT_ID_SIZE: Final = 16
SIGNATURE_SIZE: Final = 64
SIGNED_SIZE: Final = 1 + ELECTION_PREFIX_SIZE + 1 + 1 + BALLOT_ID_SIZE  # 35
PAYLOAD_SIZE: Final = SIGNED_SIZE + SIGNATURE_SIZE  # 99
PUBLIC_KEY_SIZE: Final = 32

_BASE32_TEXT = re.compile(r"[A-Z2-7]*")
_OTHER_VERSION_PREFIX = re.compile(r"BQ([0-9]+):")
# A procedure ballot's text (spec/procedure.md RP-3.5), of any version: named, not called garbage.
_PROCEDURE_PREFIX = re.compile(r"BP[0-9]+:")
# Crockford base32 leaves out I, L, O and U so a teller cannot misread the code.
_CROCKFORD: Final = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


class PaperKind(IntEnum):
    """Kind of paper ballot; the value is the payload byte (spec §2)."""

    COMMITTEE = 1
    SECRETARY = 2
    DEPUTY = 3

    @property
    def label_zh(self) -> str:
        """The paper's printed name: 委员选票 / 书记选票 / 副书记选票."""
        return _KIND_LABELS[self]


_KIND_LABELS: Final = {
    PaperKind.COMMITTEE: "委员选票",
    PaperKind.SECRETARY: "书记选票",
    PaperKind.DEPUTY: "副书记选票",
}
_KIND_NAMES_ZH: Final = {
    PaperKind.COMMITTEE: "委员",
    PaperKind.SECRETARY: "书记",
    PaperKind.DEPUTY: "副书记",
}


@runtime_checkable
class Signer(Protocol):
    """The project-wide signing convention (defined by `keys`; restated here structurally).

    `sign` returns the 64-byte Ed25519 signature over `domain + b"\\x00" + message`.
    """

    def sign(self, domain: bytes, message: bytes) -> bytes:
        """Sign `message` under `domain`."""
        ...


def _field_error(zh: str, en: str) -> InvalidFieldError:
    return InvalidFieldError(zh=f"二维码内容字段无效：{zh}。", en=f"invalid QR payload field: {en}")


def _check_round(round_number: int) -> None:
    if not 1 <= round_number <= 255:
        raise _field_error(
            f"轮次应为 1 至 255，实为 {round_number}", f"round must be 1..255, got {round_number}"
        )


@dataclass(frozen=True, slots=True)
class QrPayload:
    """One ballot's QR payload, version 1 (spec §2). Not yet verified: see `verify_payload`."""

    election_prefix: bytes
    kind: PaperKind
    round_number: int
    ballot_id: bytes
    signature: bytes

    def __post_init__(self) -> None:
        for name, value, size in (
            ("election_prefix", self.election_prefix, ELECTION_PREFIX_SIZE),
            ("ballot_id", self.ballot_id, BALLOT_ID_SIZE),
            ("signature", self.signature, SIGNATURE_SIZE),
        ):
            if len(value) != size:
                raise _field_error(
                    f"{name} 长度应为 {size} 字节", f"{name} must be {size} bytes, got {len(value)}"
                )
        if not isinstance(self.kind, PaperKind):
            raise _field_error("选票种类未知", f"unknown paper kind {self.kind!r}")
        _check_round(self.round_number)

    @property
    def signed_bytes(self) -> bytes:
        """The 35 bytes the signature covers (before the domain prefix)."""
        return _signed_bytes(self.election_prefix, self.kind, self.round_number, self.ballot_id)

    def to_bytes(self) -> bytes:
        """The 99-byte binary payload."""
        return self.signed_bytes + self.signature

    @property
    def code(self) -> str:
        """The short human-readable ballot code printed under the QR (spec §3.3)."""
        return ballot_code(self.ballot_id)


@dataclass(frozen=True, slots=True)
class VerifiedBallot:
    """A payload that passed every clause Q1-Q8 for the given election, kind and round.

    Only `verify_payload` constructs it.
    """

    election_id: bytes
    kind: PaperKind
    round_number: int
    ballot_id: bytes

    @property
    def code(self) -> str:
        """The printed ballot code."""
        return ballot_code(self.ballot_id)


def _signed_bytes(prefix: bytes, kind: PaperKind, round_number: int, ballot_id: bytes) -> bytes:
    return bytes([PAYLOAD_VERSION]) + prefix + bytes([int(kind), round_number]) + ballot_id


def sign_payload(
    *, election_id: bytes, kind: PaperKind, round_number: int, ballot_id: bytes, signer: Signer
) -> QrPayload:
    """Build and sign one ballot payload (spec §2).

    Args:
        election_id: the 32-byte SHA-256 election id; its first 16 bytes go into the payload.
        kind: the paper kind.
        round_number: 1..255.
        ballot_id: 16 random bytes.
        signer: signs `QR_DOMAIN || 0x00 || signed bytes`.

    Raises:
        InvalidFieldError: a field has the wrong size or range.
        SignerError: the signer returned something that is not 64 bytes.

    Returns:
        The signed payload.
    """
    if len(election_id) != ELECTION_ID_SIZE:
        raise _field_error("选举标识应为 32 字节", "election id must be 32 bytes")
    if len(ballot_id) != BALLOT_ID_SIZE:
        raise _field_error("选票标识应为 16 字节", "ballot id must be 16 bytes")
    _check_round(round_number)
    prefix = election_id[:ELECTION_PREFIX_SIZE]
    signature = signer.sign(QR_DOMAIN, _signed_bytes(prefix, kind, round_number, ballot_id))
    if len(signature) != SIGNATURE_SIZE:
        raise SignerError(
            zh="签名程序返回的不是 64 字节的 Ed25519 签名。",
            en="the signer did not return a 64-byte Ed25519 signature",
        )
    return QrPayload(
        election_prefix=prefix,
        kind=kind,
        round_number=round_number,
        ballot_id=ballot_id,
        signature=signature,
    )


# Decoding RFC 4648 base32 through int(): the stdlib decoder plus the re-encoding that checks the
# padding bits are pure Python in 3.11 and were a large part of ballot entry. The text's symbols map
# onto int()'s base-32 digits; exactness against base64's codec is property-tested
# (tests/unit/ballot_printer/test_qr_base32.py).
_TO_INT = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", "0123456789abcdefghijklmnopqrstuv")
# Unpadded lengths that RFC 4648 base32 can produce, by length modulo 8.
_VALID_TAIL = frozenset({0, 2, 4, 5, 7})


def encode_qr_text(payload: QrPayload) -> str:
    """The QR text: `BQ1:` + unpadded uppercase RFC 4648 base32 of the payload (spec §3.1)."""
    return QR_TEXT_PREFIX + base64.b32encode(payload.to_bytes()).decode("ascii").rstrip("=")


@functools.lru_cache(maxsize=16)
def _verify_key(public_key_bytes: bytes) -> Ed25519PublicKey:
    """The work group's key, parsed once per key: every ballot of a count is checked against it.
    The producer checks with OpenSSL's Ed25519 (``cryptography``), as it signs; the independent
    verifier rechecks every recorded ballot with libsodium's (DESIGN.md §2.5)."""
    return Ed25519PublicKey.from_public_bytes(public_key_bytes)


def _bad_encoding(zh: str, en: str) -> BadEncodingError:
    return BadEncodingError(
        zh=f"二维码内容不是本系统的选票编码：{zh}。", en=f"not a ballot QR text: {en}"
    )


def _decode_text(text: str) -> bytes:
    if len(text) > QR_TEXT_MAX_CHARS:
        # (Q1): first of all, so that an endless text is never trimmed, decoded or shown.
        raise QrTextTooLongError(
            zh=f"内容超过选票二维码最多能容纳的 {QR_TEXT_MAX_CHARS} 个字符。",
            en=f"longer than the {QR_TEXT_MAX_CHARS} characters a ballot QR holds",
        )
    # (Q1): trim only what a keyboard-wedge scanner adds; with Caps Lock on it types lowercase.
    body = text.strip(" \t\r\n").upper()
    if not body.startswith(QR_TEXT_PREFIX):
        if _PROCEDURE_PREFIX.match(body):
            # (Q1): a recommendation or evaluation ballot scanned at the election: say what it is.
            raise ProcedureBallotError(
                zh="这是推荐票或测评票（换届推荐、测评用票），不是选举票，不能录入选举。",
                en="this is a procedure ballot (a recommendation or evaluation ballot), not an "
                "election ballot; it cannot be entered in the election",
            )
        other = _OTHER_VERSION_PREFIX.match(body)
        if other:
            # (Q2): a future text version is reported as such, not as garbage.
            raise UnknownVersionError(
                zh=f"二维码版本 {other.group(1)} 不受本程序支持。",
                en=f"unknown QR text version BQ{other.group(1)}",
            )
        raise _bad_encoding("缺少“BQ1:”前缀", "missing the BQ1: prefix")
    data = body[len(QR_TEXT_PREFIX) :]
    if not _BASE32_TEXT.fullmatch(data):
        raise _bad_encoding("含有 base32 以外的字符", "characters outside unpadded base32")
    if len(data) % 8 not in _VALID_TAIL:
        raise _bad_encoding("base32 长度无效", f"invalid base32 length ({len(data)} symbols)")
    if not data:
        return b""
    spare = len(data) * 5 % 8  # low bits of the last symbol that carry no data
    n = int(data.translate(_TO_INT), 32)
    # (Q1): exactly one text per payload, so the same ballot cannot enter under two spellings.
    if n & ((1 << spare) - 1):
        raise _bad_encoding("base32 编码不规范", "non-canonical base32 (non-zero padding bits)")
    return (n >> spare).to_bytes(len(data) * 5 // 8, "big")


def parse_qr_text(text: str) -> QrPayload:
    """Parse the text a scanner produced (clauses Q1-Q4). The signature is NOT checked here.

    Args:
        text: the decoded QR text, possibly with surrounding whitespace or in lowercase.

    Raises:
        QrTextTooLongError: (Q1) more than ``QR_TEXT_MAX_CHARS`` characters, checked first.
        BadEncodingError: (Q1) wrong prefix or not canonical unpadded base32.
        ProcedureBallotError: (Q1) a procedure ballot's `BP<n>:` text.
        UnknownVersionError: (Q2) text prefix `BQn:` with n != 1, or version byte != 1.
        TruncatedPayloadError: (Q3) fewer than 99 bytes.
        OverlongPayloadError: (Q3) more than 99 bytes.
        InvalidFieldError: (Q4) paper kind not 1..3 or round 0.

    Returns:
        The unverified payload.
    """
    raw = _decode_text(text)
    if not raw:
        raise TruncatedPayloadError(zh="二维码内容为空。", en="empty payload")
    if raw[0] != PAYLOAD_VERSION:  # (Q2)
        raise UnknownVersionError(
            zh=f"选票格式版本 {raw[0]} 不受本程序支持。", en=f"unknown payload version {raw[0]}"
        )
    if len(raw) < PAYLOAD_SIZE:  # (Q3)
        raise TruncatedPayloadError(
            zh=f"二维码内容不完整（{len(raw)} 字节，应为 {PAYLOAD_SIZE} 字节）。",
            en=f"truncated payload: {len(raw)} bytes, expected {PAYLOAD_SIZE}",
        )
    if len(raw) > PAYLOAD_SIZE:  # (Q3)
        raise OverlongPayloadError(
            zh=f"二维码内容过长（{len(raw)} 字节，应为 {PAYLOAD_SIZE} 字节）。",
            en=f"overlong payload: {len(raw)} bytes, expected {PAYLOAD_SIZE}",
        )
    kind_byte = raw[17]
    try:
        kind = PaperKind(kind_byte)  # (Q4)
    except ValueError as e:
        raise _field_error(
            f"选票种类 {kind_byte} 未知", f"unknown paper kind byte {kind_byte}"
        ) from e
    return QrPayload(
        election_prefix=raw[1:17],
        kind=kind,
        round_number=raw[18],  # (Q4): range checked in __post_init__
        ballot_id=raw[19:35],
        signature=raw[35:99],
    )


def verify_payload(
    payload: QrPayload,
    public_key_bytes: bytes,
    *,
    election_id: bytes,
    kind: PaperKind,
    round_number: int,
) -> VerifiedBallot:
    """Check a parsed payload against the ballot box being counted (clauses Q5-Q8).

    The context checks come before the signature so that a ballot of another election (which is
    also signed with another key) is reported as "wrong election", the message a clerk can act on.
    A payload is accepted only when every check passes.

    Args:
        payload: from `parse_qr_text`.
        public_key_bytes: the work group's raw 32-byte Ed25519 public key.
        election_id: the 32-byte election id of this election.
        kind: the paper kind being counted.
        round_number: the round being counted.

    Raises:
        WrongElectionError: (Q5) the election prefix differs.
        WrongKindError: (Q6) the paper kind differs.
        WrongRoundError: (Q7) the round differs.
        InvalidPublicKeyError: (Q8) the public key is not 32 bytes or not a valid point.
        BadSignatureError: (Q8) the signature does not verify.

    Returns:
        The verified ballot.
    """
    if len(election_id) != ELECTION_ID_SIZE or payload.election_prefix != election_id[:16]:
        raise WrongElectionError(  # (Q5)
            zh="这张选票不属于本次选举（选举标识不符）。",
            en=f"ballot belongs to another election (prefix {payload.election_prefix.hex()})",
        )
    if payload.kind is not kind:  # (Q6)
        raise WrongKindError(
            zh=f"这是{_KIND_NAMES_ZH[payload.kind]}选票，当前正在计{_KIND_NAMES_ZH[kind]}选票。",
            en=f"ballot is a {payload.kind.name.lower()} ballot, counting {kind.name.lower()}",
        )
    if payload.round_number != round_number:  # (Q7)
        raise WrongRoundError(
            zh=f"这是第 {payload.round_number} 轮的选票，当前正在计第 {round_number} 轮。",
            en=f"ballot is for round {payload.round_number}, counting round {round_number}",
        )
    if len(public_key_bytes) != PUBLIC_KEY_SIZE:  # (Q8)
        raise InvalidPublicKeyError(
            zh="工作组公钥应为 32 字节。",
            en=f"public key must be {PUBLIC_KEY_SIZE} bytes, got {len(public_key_bytes)}",
        )
    try:
        _verify_key(public_key_bytes).verify(
            payload.signature, QR_DOMAIN + b"\x00" + payload.signed_bytes
        )  # (Q8)
    except (InvalidSignature, ValueError) as e:
        raise BadSignatureError(
            zh="选票签名无效：可能是伪造、复印改动或其他选举的选票，请交监票人处理。",
            en="ballot signature does not verify",
        ) from e
    return VerifiedBallot(
        election_id=election_id,
        kind=payload.kind,
        round_number=payload.round_number,
        ballot_id=payload.ballot_id,
    )


def ballot_code(ballot_id: bytes) -> str:
    """Short code for tellers and the audit: the first 40 bits of the ballot id (spec §3.3).

    Crockford base32, two groups of four, e.g. "7K3M-Q9ZD".
    """
    if len(ballot_id) != BALLOT_ID_SIZE:
        raise _field_error("选票标识应为 16 字节", "ballot id must be 16 bytes")
    value = int.from_bytes(ballot_id[:5], "big")
    chars = "".join(_CROCKFORD[(value >> shift) & 31] for shift in range(35, -1, -5))
    return f"{chars[:4]}-{chars[4:]}"
