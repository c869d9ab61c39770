"""Procedure ballot QR payload `procedure-ballot/1`: layout, signing, text form, reading.

Implements spec/procedure.md RP-3.5 (the 100-byte payload of the recommendation and evaluation
ballots, its `BP1:` text form and the reading clauses PQ1-PQ8). The election ballot's payload
(spec/ballot-qr.md, `payload.py`) is a different format with a different domain and prefix; the
two readers name each other's text (`pqr.election_ballot`) instead of calling it garbage.

The checks run in clause order and the first failure raises a `ProcedureQrError` with its own
code, clause, zh and en; only `verify_procedure_payload` hands back a `VerifiedProcedureBallot`.
"""

from __future__ import annotations

import base64
import functools
import re
from dataclasses import dataclass
from enum import IntEnum
from typing import Final

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from ballot_printer.errors import BallotPrinterError, SignerError
from ballot_printer.payload import PaperKind, Signer, ballot_code

__all__ = [
    "MAX_TEXT_LENGTH",
    "PROCEDURE_BALLOT_DOMAIN",
    "PROCEDURE_ID_SIZE",
    "PROCEDURE_PAYLOAD_SIZE",
    "PROCEDURE_PREFIX_SIZE",
    "PROCEDURE_QR_PREFIX",
    "ElectionBallotError",
    "ProcedureBadEncodingError",
    "ProcedureBadFieldError",
    "ProcedureBadPublicKeyError",
    "ProcedureBadSignatureError",
    "ProcedureForm",
    "ProcedureOverlongError",
    "ProcedureQrError",
    "ProcedureQrPayload",
    "ProcedureTruncatedError",
    "ProcedureUnknownVersionError",
    "VerifiedProcedureBallot",
    "WrongFormError",
    "WrongProcedureError",
    "WrongProcedureRoundError",
    "encode_procedure_qr_text",
    "parse_procedure_qr_text",
    "post_code",
    "sign_procedure_payload",
    "verify_procedure_payload",
]

PROCEDURE_PAYLOAD_VERSION: Final = 1
PROCEDURE_BALLOT_DOMAIN: Final = b"branch-election/procedure-ballot/1"
PROCEDURE_QR_PREFIX: Final = "BP1:"
PROCEDURE_ID_SIZE: Final = 32
PROCEDURE_PREFIX_SIZE: Final = 16
_BALLOT_ID_SIZE: Final = 16
_SIGNATURE_SIZE: Final = 64
_PUBLIC_KEY_SIZE: Final = 32
PROCEDURE_SIGNED_SIZE: Final = 1 + PROCEDURE_PREFIX_SIZE + 1 + 1 + 1 + _BALLOT_ID_SIZE  # 36
PROCEDURE_PAYLOAD_SIZE: Final = PROCEDURE_SIGNED_SIZE + _SIGNATURE_SIZE  # 100
# (PQ1, RP-3.5) A scanner text longer than this is refused (`pqr.overlong`) before it is decoded:
# the valid text is 164 characters; the margin leaves room for what a keyboard-wedge scanner adds.
MAX_TEXT_LENGTH: Final = 256

_BASE32_TEXT: Final = re.compile(r"[A-Z2-7]*")
_OTHER_VERSION: Final = re.compile(r"BP([0-9]+):")
_ELECTION_TEXT: Final = re.compile(r"BQ[0-9]+:")
_TO_INT: Final = str.maketrans(
    "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", "0123456789abcdefghijklmnopqrstuv"
)
_VALID_TAIL: Final = frozenset({0, 2, 4, 5, 7})


# --- errors (spec/procedure.md §14, RP-3.5) ------------------------------------------------------


class ProcedureQrError(BallotPrinterError):
    """A procedure ballot's QR text is refused (RP-3.5, PQ1-PQ8)."""

    code = "pqr.error"


class ProcedureBadEncodingError(ProcedureQrError):
    """(PQ1) Not `BP1:` + canonical unpadded base32."""

    code = "pqr.bad_encoding"
    clause = "PQ1"


class ElectionBallotError(ProcedureQrError):
    """(PQ1) An election ballot's `BQ1:` text given to the procedure reader."""

    code = "pqr.election_ballot"
    clause = "PQ1"


class ProcedureUnknownVersionError(ProcedureQrError):
    """(PQ2) Text prefix `BPn:` with n != 1, or a version byte other than 1."""

    code = "pqr.unknown_version"
    clause = "PQ2"


class ProcedureTruncatedError(ProcedureQrError):
    """(PQ3) Fewer than 100 bytes."""

    code = "pqr.truncated"
    clause = "PQ3"


class ProcedureOverlongError(ProcedureQrError):
    """(PQ3) More than 100 bytes, or a text longer than `MAX_TEXT_LENGTH` (not decoded)."""

    code = "pqr.overlong"
    clause = "PQ3"


class ProcedureBadFieldError(ProcedureQrError):
    """(PQ4) Form, post or round out of range, or a field of the wrong size."""

    code = "pqr.bad_field"
    clause = "PQ4"


class WrongProcedureError(ProcedureQrError):
    """(PQ5) The payload names another procedure."""

    code = "pqr.wrong_procedure"
    clause = "PQ5"


class WrongFormError(ProcedureQrError):
    """(PQ6) Another form or post than the count being entered."""

    code = "pqr.wrong_form"
    clause = "PQ6"


class WrongProcedureRoundError(ProcedureQrError):
    """(PQ7) Another round than the count being entered."""

    code = "pqr.wrong_round"
    clause = "PQ7"


class ProcedureBadPublicKeyError(ProcedureQrError):
    """(PQ8) The work group key is not 32 bytes of a valid Ed25519 point."""

    code = "pqr.bad_public_key"
    clause = "PQ8"


class ProcedureBadSignatureError(ProcedureQrError):
    """(PQ8) The signature does not verify: a counterfeit, an altered or a foreign ballot."""

    code = "pqr.bad_signature"
    clause = "PQ8"


# --- values --------------------------------------------------------------------------------------


class ProcedureForm(IntEnum):
    """The ballot form; the value is the payload byte (RP-3.5)."""

    MEMBER = 1
    PUBLIC = 2
    EVALUATION = 3

    @property
    def code(self) -> str:
        """The form's name in `procedure-stock/1` and the log: member / public / evaluation."""
        return self.name.lower()

    @property
    def label_zh(self) -> str:
        """党员推荐 / 群众推荐 / 群众测评."""
        return _FORM_ZH[self]


_FORM_ZH: Final = {
    ProcedureForm.MEMBER: "党员推荐",
    ProcedureForm.PUBLIC: "群众推荐",
    ProcedureForm.EVALUATION: "群众测评",
}
_POST_CODES: Final = {
    PaperKind.COMMITTEE: "committee",
    PaperKind.SECRETARY: "secretary",
    PaperKind.DEPUTY: "deputy_secretary",
}
_POST_ZH: Final = {
    PaperKind.COMMITTEE: "委员",
    PaperKind.SECRETARY: "书记",
    PaperKind.DEPUTY: "副书记",
}


def post_code(post: PaperKind | None) -> str:
    """The post's code in `procedure-stock/1` (RP-0.4): "" for an evaluation ballot."""
    return "" if post is None else _POST_CODES[post]


def _what_zh(form: ProcedureForm, post: PaperKind | None) -> str:
    if form is ProcedureForm.EVALUATION or post is None:
        return "测评票"
    return f"{form.label_zh}的{_POST_ZH[post]}推荐票"


def _what_en(form: ProcedureForm, post: PaperKind | None) -> str:
    if form is ProcedureForm.EVALUATION or post is None:
        return "an evaluation ballot"
    return f"a {form.code} recommendation ballot for {post_code(post)}"


def _field_error(zh: str, en: str) -> ProcedureBadFieldError:
    return ProcedureBadFieldError(
        zh=f"二维码字段取值无效：{zh}。", en=f"a QR field is out of range: {en}"
    )


def _check_fields(form: int, post: int, round_number: int) -> None:
    """(PQ4) form 1..3; post 1..3 for a recommendation, 0 for an evaluation; round 1..255."""
    if form not in (1, 2, 3):
        raise _field_error(f"票的种类 {form} 未知", f"form must be 1..3, got {form}")
    if form == ProcedureForm.EVALUATION and post != 0:
        raise _field_error(
            f"测评票的职位字节应为 0，实为 {post}", f"post must be 0 on an evaluation, got {post}"
        )
    if form != ProcedureForm.EVALUATION and post not in (1, 2, 3):
        raise _field_error(
            f"推荐票的职位字节应为 1 至 3，实为 {post}",
            f"post must be 1..3 on a recommendation, got {post}",
        )
    if not 1 <= round_number <= 255:
        raise _field_error(
            f"轮次应为 1 至 255，实为 {round_number}", f"round must be 1..255, got {round_number}"
        )


@dataclass(frozen=True, slots=True)
class ProcedureQrPayload:
    """One procedure ballot's payload (RP-3.5). Not yet verified: see `verify_procedure_payload`.

    `post` is None exactly for an evaluation ballot (post byte 0).
    """

    procedure_prefix: bytes
    form: ProcedureForm
    post: PaperKind | None
    round_number: int
    ballot_id: bytes
    signature: bytes

    def __post_init__(self) -> None:
        for name, value, size in (
            ("procedure_prefix", self.procedure_prefix, PROCEDURE_PREFIX_SIZE),
            ("ballot_id", self.ballot_id, _BALLOT_ID_SIZE),
            ("signature", self.signature, _SIGNATURE_SIZE),
        ):
            if len(value) != size:
                raise _field_error(
                    f"{name} 长度应为 {size} 字节", f"{name} must be {size} bytes, got {len(value)}"
                )
        if not isinstance(self.form, ProcedureForm):
            raise _field_error("票的种类未知", f"unknown form {self.form!r}")
        if self.post is not None and not isinstance(self.post, PaperKind):
            raise _field_error("职位未知", f"unknown post {self.post!r}")
        _check_fields(int(self.form), 0 if self.post is None else int(self.post), self.round_number)

    @property
    def signed_bytes(self) -> bytes:
        """The 36 bytes the signature covers (after the domain and its 0x00)."""
        return _signed_bytes(
            self.procedure_prefix, self.form, self.post, self.round_number, self.ballot_id
        )

    def to_bytes(self) -> bytes:
        """The 100-byte binary payload."""
        return self.signed_bytes + self.signature

    @property
    def code(self) -> str:
        """The ballot code printed under the QR (as spec/ballot-qr.md §3.3)."""
        return ballot_code(self.ballot_id)


@dataclass(frozen=True, slots=True)
class VerifiedProcedureBallot:
    """A payload that passed PQ1-PQ8 for the given procedure, form, post and round."""

    procedure_id: bytes
    form: ProcedureForm
    post: PaperKind | None
    round_number: int
    ballot_id: bytes

    @property
    def code(self) -> str:
        """The printed ballot code."""
        return ballot_code(self.ballot_id)


def _signed_bytes(
    prefix: bytes, form: ProcedureForm, post: PaperKind | None, round_number: int, ballot_id: bytes
) -> bytes:
    post_byte = 0 if post is None else int(post)
    return (
        bytes([PROCEDURE_PAYLOAD_VERSION])
        + prefix
        + bytes([int(form), post_byte, round_number])
        + ballot_id
    )


def sign_procedure_payload(
    *,
    procedure_id: bytes,
    form: ProcedureForm,
    post: PaperKind | None,
    round_number: int,
    ballot_id: bytes,
    signer: Signer,
) -> ProcedureQrPayload:
    """Build and sign one procedure ballot payload (RP-3.5).

    Raises:
        ProcedureBadFieldError: a field has the wrong size or range (post given for an evaluation,
            or missing for a recommendation).
        SignerError: the signer returned something that is not 64 bytes.
    """
    if len(procedure_id) != PROCEDURE_ID_SIZE:
        raise _field_error("程序标识应为 32 字节", "procedure id must be 32 bytes")
    if len(ballot_id) != _BALLOT_ID_SIZE:
        raise _field_error("选票标识应为 16 字节", "ballot id must be 16 bytes")
    _check_fields(int(form), 0 if post is None else int(post), round_number)
    prefix = procedure_id[:PROCEDURE_PREFIX_SIZE]
    signature = signer.sign(
        PROCEDURE_BALLOT_DOMAIN, _signed_bytes(prefix, form, post, round_number, ballot_id)
    )
    if len(signature) != _SIGNATURE_SIZE:
        raise SignerError(
            zh="签名程序返回的不是 64 字节的 Ed25519 签名。",
            en="the signer did not return a 64-byte Ed25519 signature",
        )
    return ProcedureQrPayload(
        procedure_prefix=prefix,
        form=form,
        post=post,
        round_number=round_number,
        ballot_id=ballot_id,
        signature=signature,
    )


def encode_procedure_qr_text(payload: ProcedureQrPayload) -> str:
    """`BP1:` + unpadded uppercase RFC 4648 base32 of the payload: 164 characters (RP-3.5)."""
    return PROCEDURE_QR_PREFIX + base64.b32encode(payload.to_bytes()).decode("ascii").rstrip("=")


def _bad_encoding(zh: str, en: str) -> ProcedureBadEncodingError:
    return ProcedureBadEncodingError(
        zh=f"二维码内容不是推荐/测评票格式：{zh}。",
        en=f"the QR text is not a procedure ballot: {en}",
    )


def _decode_text(text: str) -> bytes:
    if len(text) > MAX_TEXT_LENGTH:  # (PQ1, PQ3) an oversized text is refused before decoding
        raise ProcedureOverlongError(
            zh=f"二维码数据长度不正确（{len(text)} 个字符，超过上限 {MAX_TEXT_LENGTH}）。",
            en=f"the QR data has the wrong length: {len(text)} characters, more than "
            f"{MAX_TEXT_LENGTH}",
        )
    # (PQ1) as spec/ballot-qr.md Q1: trim what a scanner adds; with Caps Lock on it types lowercase.
    body = text.strip(" \t\r\n").upper()
    if not body.startswith(PROCEDURE_QR_PREFIX):
        if _ELECTION_TEXT.match(body):
            raise ElectionBallotError(
                zh="这是选举票，不是推荐票或测评票。",
                en="this is an election ballot, not a procedure ballot",
            )
        other = _OTHER_VERSION.match(body)
        if other:  # (PQ2) a later text version is named as such
            raise ProcedureUnknownVersionError(
                zh=f"不支持的二维码版本（BP{other.group(1)}）。",
                en=f"unsupported QR version BP{other.group(1)}",
            )
        raise _bad_encoding("缺少“BP1:”前缀", "missing the BP1: prefix")
    data = body[len(PROCEDURE_QR_PREFIX) :]
    if not _BASE32_TEXT.fullmatch(data):
        raise _bad_encoding("含有 base32 以外的字符", "characters outside unpadded base32")
    if len(data) % 8 not in _VALID_TAIL:
        raise _bad_encoding("base32 长度无效", f"invalid base32 length ({len(data)} symbols)")
    if not data:
        return b""
    spare = len(data) * 5 % 8
    n = int(data.translate(_TO_INT), 32)
    if n & ((1 << spare) - 1):  # (PQ1) one text per payload
        raise _bad_encoding("base32 编码不规范", "non-canonical base32 (non-zero padding bits)")
    return (n >> spare).to_bytes(len(data) * 5 // 8, "big")


def parse_procedure_qr_text(text: str) -> ProcedureQrPayload:
    """Parse a scanner's text (PQ1-PQ4). The signature is NOT checked here.

    Raises:
        ElectionBallotError: (PQ1) a `BQn:` election ballot text.
        ProcedureBadEncodingError: (PQ1) wrong prefix or not canonical unpadded base32.
        ProcedureUnknownVersionError: (PQ2) `BPn:` with n != 1, or a version byte != 1.
        ProcedureTruncatedError: (PQ3) fewer than 100 bytes.
        ProcedureOverlongError: (PQ3) more than 100 bytes, or a text over 256 characters.
        ProcedureBadFieldError: (PQ4) form, post or round out of range.
    """
    raw = _decode_text(text)
    if not raw:
        raise ProcedureTruncatedError(zh="二维码数据长度不正确（内容为空）。", en="empty payload")
    if raw[0] != PROCEDURE_PAYLOAD_VERSION:  # (PQ2)
        raise ProcedureUnknownVersionError(
            zh=f"不支持的二维码版本（版本字节 {raw[0]}）。",
            en=f"unsupported QR version (version byte {raw[0]})",
        )
    if len(raw) < PROCEDURE_PAYLOAD_SIZE:  # (PQ3)
        raise ProcedureTruncatedError(
            zh=f"二维码数据长度不正确（{len(raw)} 字节，应为 {PROCEDURE_PAYLOAD_SIZE} 字节）。",
            en=f"the QR data has the wrong length: {len(raw)} bytes, expected "
            f"{PROCEDURE_PAYLOAD_SIZE}",
        )
    if len(raw) > PROCEDURE_PAYLOAD_SIZE:  # (PQ3)
        raise ProcedureOverlongError(
            zh=f"二维码数据长度不正确（{len(raw)} 字节，应为 {PROCEDURE_PAYLOAD_SIZE} 字节）。",
            en=f"the QR data has the wrong length: {len(raw)} bytes, expected "
            f"{PROCEDURE_PAYLOAD_SIZE}",
        )
    form, post, round_number = raw[17], raw[18], raw[19]
    _check_fields(form, post, round_number)  # (PQ4)
    return ProcedureQrPayload(
        procedure_prefix=raw[1:17],
        form=ProcedureForm(form),
        post=None if post == 0 else PaperKind(post),
        round_number=round_number,
        ballot_id=raw[20:36],
        signature=raw[36:100],
    )


@functools.lru_cache(maxsize=16)
def _verify_key(public_key_bytes: bytes) -> Ed25519PublicKey:
    return Ed25519PublicKey.from_public_bytes(public_key_bytes)


def verify_procedure_payload(
    payload: ProcedureQrPayload,
    public_key_bytes: bytes,
    *,
    procedure_id: bytes,
    form: ProcedureForm,
    post: PaperKind | None,
    round_number: int,
) -> VerifiedProcedureBallot:
    """Check a parsed payload against the count being entered (PQ5-PQ8), in clause order.

    The context checks come before the signature, so a ballot of another branch (signed with
    another work group key) is named "another procedure", the message a teller can act on.

    Raises:
        WrongProcedureError: (PQ5) the procedure prefix differs.
        WrongFormError: (PQ6) the form or the post differs.
        WrongProcedureRoundError: (PQ7) the round differs.
        ProcedureBadPublicKeyError: (PQ8) the key is not 32 bytes of a valid point.
        ProcedureBadSignatureError: (PQ8) the signature does not verify.
    """
    if (
        len(procedure_id) != PROCEDURE_ID_SIZE
        or payload.procedure_prefix != procedure_id[:PROCEDURE_PREFIX_SIZE]
    ):
        raise WrongProcedureError(  # (PQ5)
            zh="这张票不属于本支部本次换届。",
            en=f"the ballot belongs to another procedure (prefix {payload.procedure_prefix.hex()})",
        )
    if payload.form is not form or payload.post is not post:  # (PQ6)
        raise WrongFormError(
            zh=f"票的种类或职位不符：这是{_what_zh(payload.form, payload.post)}，"
            f"当前录入的是{_what_zh(form, post)}。",
            en=f"wrong ballot form or post: this is {_what_en(payload.form, payload.post)}, "
            f"the count is of {_what_en(form, post)}",
        )
    if payload.round_number != round_number:  # (PQ7)
        raise WrongProcedureRoundError(
            zh=f"票的轮次不符：这是第 {payload.round_number} 轮的票，"
            f"当前录入第 {round_number} 轮。",
            en=f"the ballot is for round {payload.round_number}, the count is of round "
            f"{round_number}",
        )
    if len(public_key_bytes) != _PUBLIC_KEY_SIZE:  # (PQ8)
        raise ProcedureBadPublicKeyError(
            zh="二维码签名无效：工作组公钥应为 32 字节。",
            en=f"the work group key must be {_PUBLIC_KEY_SIZE} bytes, got {len(public_key_bytes)}",
        )
    try:
        key = _verify_key(public_key_bytes)
    except ValueError as e:
        raise ProcedureBadPublicKeyError(
            zh="二维码签名无效：工作组公钥不是有效的 Ed25519 公钥。",
            en="the work group key is not a valid Ed25519 point",
        ) from e
    try:
        key.verify(payload.signature, PROCEDURE_BALLOT_DOMAIN + b"\x00" + payload.signed_bytes)
    except (InvalidSignature, ValueError) as e:
        raise ProcedureBadSignatureError(
            zh="二维码签名无效，可能是伪造的票，请交监票人处理。",
            en="the QR signature is invalid: possibly a counterfeit",
        ) from e
    return VerifiedProcedureBallot(
        procedure_id=procedure_id,
        form=payload.form,
        post=payload.post,
        round_number=payload.round_number,
        ballot_id=payload.ballot_id,
    )
