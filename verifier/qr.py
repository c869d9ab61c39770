"""Ballot QR text checks Q1-Q8 (spec/ballot-qr.md §2, §3.1, §5) and the stock commitment (§4.3).

Independent of ``ballot_printer``: parses ``BQ1:`` + unpadded base32 and checks the Ed25519
signature strictly with libsodium (``verifier.ed25519``).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Sequence
from typing import Final, NamedTuple

from verifier import ed25519
from verifier.errors import QrError

__all__ = [
    "KIND_BYTES",
    "QR_DOMAIN",
    "STOCK_DOMAIN",
    "TEXT_MAX_CHARS",
    "QrBallot",
    "b32decode_canonical",
    "check_qr",
    "check_qr_common",
    "normalise_qr_text",
    "qr_prefix",
    "stock_commitment",
    "unproven_common",
]

QR_DOMAIN: Final = b"branch-election/ballot-qr/1"
STOCK_DOMAIN: Final = b"branch-election/ballot-stock/1"
PAYLOAD_SIZE: Final = 99
# (§3.4) The most a QR symbol of version 10 at error correction M holds in alphanumeric mode.
TEXT_MAX_CHARS: Final = 311
KIND_BYTES: Final = {"committee": 1, "secretary": 2, "deputy_secretary": 3}
_B32_ALPHABET: Final = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
_OTHER_VERSION: Final = re.compile(r"BQ[0-9]+:")
# A procedure ballot's text (spec/procedure.md RP-3.5), of any version: named, not called garbage.
_PROCEDURE_TEXT: Final = re.compile(r"BP[0-9]+:")
_VALID_B32_REMAINDERS: Final = frozenset({0, 2, 4, 5, 7})
_UPPER: Final = {c: c - 32 for c in range(ord("a"), ord("z") + 1)}
# RFC 4648 base32 letters to the digits of Python's int(..., 32): A..Z -> 0..p, 2..7 -> q..v.
_B32_DIGITS: Final = bytes.maketrans(_B32_ALPHABET, b"0123456789abcdefghijklmnopqrstuv")
# The same, and every other byte to "!", which ``int(..., 32)`` refuses: one translation both
# checks the alphabet (Q1) and gives the digits.
_B32_STRICT: Final = bytes(_B32_DIGITS[b] if b in _B32_ALPHABET else ord("!") for b in range(256))


class QrBallot(NamedTuple):
    """A QR payload that passed Q1-Q8 for the election, kind and round being counted.

    Immutable; a NamedTuple because one is built per ballot (cheaper than a frozen dataclass).
    """

    kind: int
    round: int
    ballot_id: bytes


def _fail(clause: str, code: str, zh: str, en: str) -> QrError:
    return QrError(clause=clause, code=code, zh=zh, en=en)


def normalise_qr_text(text: str) -> str:
    """Q1 normalisation: strip space, tab, CR, LF at both ends; map a-z to A-Z."""
    stripped = text.strip(" \t\r\n")
    if stripped.isascii():
        return stripped.upper()  # on ASCII text, upper() maps exactly a-z
    return stripped.translate(_UPPER)


def b32decode_canonical(body: str) -> bytes | None:
    """Unpadded RFC 4648 base32 (A-Z, 2-7) to bytes, or ``None`` unless canonical.

    Canonical: a length whose remainder mod 8 is 0, 2, 4, 5 or 7, and zero padding bits; exactly
    the texts that ``base64.b32decode`` accepts (after padding) and ``b32encode`` gives back.
    """
    digits = _b32_digits(body)
    return None if digits is None else _b32_value(digits, len(body))


def _b32_digits(body: str) -> bytes | None:
    """``body`` as ASCII bytes if it is only A-Z 2-7 and of a valid unpadded length, else None."""
    if not body.isascii() or len(body) % 8 not in _VALID_B32_REMAINDERS:
        return None
    digits = body.encode("ascii")
    # Deleting the alphabet leaves nothing exactly when every character is in it.
    return None if digits.translate(None, _B32_ALPHABET) else digits


def _b32_value(digits: bytes, length: int) -> bytes | None:
    """Decode checked base32 digits; None if the unused low bits are not zero (not canonical)."""
    if not length:
        return b""
    size = length * 5 // 8
    spare = length * 5 - size * 8
    n = int(digits.translate(_B32_DIGITS), 32)
    if n & ((1 << spare) - 1):
        return None
    return (n >> spare).to_bytes(size, "big")


def _decode(text: str) -> bytes:
    if len(text) > TEXT_MAX_CHARS:  # (Q1) first: a longer text is never trimmed or decoded
        raise _fail(
            "Q1",
            "qr.text_too_long",
            f"二维码内容超过 {TEXT_MAX_CHARS} 个字符",
            f"text of {len(text)} characters, more than {TEXT_MAX_CHARS}",
        )
    norm = normalise_qr_text(text)
    if not norm.startswith("BQ1:"):
        if _PROCEDURE_TEXT.match(norm):
            raise _fail(
                "Q1",
                "qr.procedure_ballot",
                "这是推荐票或测评票（换届推荐、测评用票），不是选举票，不能录入选举。",
                "this is a procedure ballot (a recommendation or evaluation ballot), not an "
                "election ballot; it cannot be entered in the election",
            )
        if _OTHER_VERSION.match(norm):
            raise _fail("Q2", "qr.unknown_version", "二维码版本未知", "unknown QR text version")
        raise _fail("Q1", "qr.bad_encoding", "二维码内容不是选票编码", "missing BQ1: prefix")
    digits = _b32_digits(norm[4:])
    if digits is None:
        raise _fail("Q1", "qr.bad_encoding", "二维码内容含非法字符或长度", "bad base32 text")
    raw = _b32_value(digits, len(digits))
    if raw is None:
        raise _fail("Q1", "qr.bad_encoding", "base32 编码不规范", "non-canonical base32")
    return raw


def check_qr(
    text: str,
    *,
    public_key: bytes | ed25519.Ed25519Key,
    election_id: bytes,
    kind: int,
    round_number: int,
) -> QrBallot:
    """Apply Q1-Q8 in order and stop at the first failure (spec/ballot-qr.md §5).

    Args:
        text: the scanner text.
        public_key: the work group's raw 32-byte Ed25519 key (or the loaded key, to reuse).
        election_id: the 32-byte election id.
        kind: the paper kind being counted (1..3).
        round_number: the round being counted.

    Raises:
        QrError: with the clause (``Q1``..``Q8``) and code of the first failure.

    Returns:
        The accepted ballot.
    """
    raw = _decode(text)  # (Q1)
    if not raw:
        raise _fail("Q3", "qr.truncated", "二维码内容为空", "empty payload")
    if raw[0] != 1:  # (Q2)
        raise _fail("Q2", "qr.unknown_version", "载荷版本未知", f"payload version {raw[0]}")
    if len(raw) < PAYLOAD_SIZE:  # (Q3)
        raise _fail("Q3", "qr.truncated", "载荷过短", f"payload is {len(raw)} bytes, not 99")
    if len(raw) > PAYLOAD_SIZE:
        raise _fail("Q3", "qr.overlong", "载荷过长", f"payload is {len(raw)} bytes, not 99")
    k, r = raw[17], raw[18]
    if not 1 <= k <= 3 or not 1 <= r <= 255:  # (Q4)
        raise _fail("Q4", "qr.bad_field", "选票种类或轮次无效", f"kind {k} / round {r} invalid")
    if raw[1:17] != election_id[:16]:  # (Q5)
        raise _fail("Q5", "qr.wrong_election", "不是本次选举的选票", "ballot of another election")
    if k != kind:  # (Q6)
        raise _fail("Q6", "qr.wrong_kind", "选票种类不符", f"paper kind {k}, counting {kind}")
    if r != round_number:  # (Q7)
        raise _fail("Q7", "qr.wrong_round", "轮次不符", f"round {r}, counting {round_number}")
    try:  # (Q8)
        key = (
            public_key
            if isinstance(public_key, ed25519.Ed25519Key)
            else ed25519.load_key(public_key)
        )
    except ed25519.InvalidEd25519Error as e:
        raise _fail("Q8", "qr.bad_public_key", "工作组公钥无效", "invalid public key") from e
    try:
        ed25519.verify(key, raw[35:], QR_DOMAIN + b"\x00" + raw[:35])
    except ed25519.InvalidEd25519Error as e:
        raise _fail("Q8", "qr.bad_signature", "选票签名无效", "ballot signature invalid") from e
    return QrBallot(k, r, raw[19:35])  # kind, round, ballot id (positional: once per ballot)


# The text of a 99-byte payload: "BQ1:" and 159 base32 digits (795 bits, 3 of them padding).
_TEXT_SIZE: Final = 4 + (PAYLOAD_SIZE * 8 + 4) // 5
_SPARE_BITS: Final = (_TEXT_SIZE - 4) * 5 - PAYLOAD_SIZE * 8
_SPARE_MASK: Final = (1 << _SPARE_BITS) - 1


def qr_prefix(election_id: bytes, kind: int, round_number: int) -> bytes:
    """The first 19 payload bytes every ballot of one round carries (Q2, Q4-Q7)."""
    return bytes([1]) + election_id[:16] + bytes([kind, round_number])


def check_qr_common(text: str, prefix: bytes, public_key: ed25519.Ed25519Key) -> bytes | None:
    """The 16-byte ballot id if ``text`` passes Q1-Q8 in its common form, else ``None``.

    Performance (once per ballot): the common form is an already normalised ``BQ1:`` text of
    exactly one payload whose first 19 bytes are ``prefix`` (``qr_prefix``); it is decoded and
    checked in a few C calls. ``None`` means "not shown valid here": the caller then runs
    ``check_qr``, which applies every clause in order and names the first failure, so no clause
    is skipped and no error is lost (tests/unit/verifier/test_qr_fast_path.py).
    """
    if len(text) != _TEXT_SIZE or not text.startswith("BQ1:") or not text.isascii():
        return None
    digits = text[4:].encode("ascii")
    if digits.translate(None, _B32_ALPHABET):  # (Q1) only A-Z 2-7
        return None
    n = int(digits.translate(_B32_DIGITS), 32)
    if n & ((1 << _SPARE_BITS) - 1):  # (Q1) canonical: zero padding bits
        return None
    raw = (n >> _SPARE_BITS).to_bytes(PAYLOAD_SIZE, "big")
    if raw[:19] != prefix:  # (Q2), (Q4)-(Q7)
        return None
    try:  # (Q8)
        ed25519.verify(public_key, raw[35:], QR_DOMAIN + b"\x00" + raw[:35])
    except ed25519.InvalidEd25519Error:
        return None
    return raw[19:35]


def unproven_common(
    texts: str,
    ends: Sequence[int],
    ballot_ids: bytes,
    prefix: bytes,
    public_key: ed25519.Ed25519Key,
) -> list[int]:
    """Indices of a batch's QR texts that ``check_qr_common`` does not show valid with the
    expected ballot id, the others having passed Q1-Q8 and matched it.

    Text ``i`` is ``texts[ends[i - 1]:ends[i]]`` (from 0 for the first) and its expected id
    ``ballot_ids[16 * i : 16 * i + 16]``. Performance (once per ballot): ``check_qr_common``'s
    steps in one loop over the batch, the text encoded once; the caller runs ``check_qr`` on
    each index returned, which names the first clause that fails (or finds the id differs).
    """
    if not texts.isascii():  # a non-ASCII text is never in the common form: one at a time
        out, start = [], 0
        for i, end in enumerate(ends):
            found = check_qr_common(texts[start:end], prefix, public_key)
            if found is None or found != ballot_ids[16 * i : 16 * i + 16]:
                out.append(i)
            start = end
        return out
    data, head, verify = texts.encode("ascii"), QR_DOMAIN + b"\x00", ed25519.verify
    out, start = [], 0
    for i, end in enumerate(ends):
        text, start = data[start:end], end
        if len(text) != _TEXT_SIZE or not text.startswith(b"BQ1:"):
            out.append(i)  # (Q1)
            continue
        try:  # (Q1) only A-Z 2-7: any other byte becomes "!", which int() refuses
            n = int(text[4:].translate(_B32_STRICT), 32)
        except ValueError:
            out.append(i)
            continue
        if n & _SPARE_MASK:  # (Q1) canonical: zero padding bits
            out.append(i)
            continue
        raw = (n >> _SPARE_BITS).to_bytes(PAYLOAD_SIZE, "big")
        # (Q2), (Q4)-(Q7) and the record's id, in one comparison
        if raw[:35] != prefix + ballot_ids[16 * i : 16 * i + 16]:
            out.append(i)
            continue
        try:  # (Q8)
            verify(public_key, raw[35:], head + raw[:35])
        except ed25519.InvalidEd25519Error:
            out.append(i)
    return out


def stock_commitment(
    election_id: bytes, kind: int, round_number: int, ballot_ids: Iterable[bytes]
) -> bytes:
    """SHA-256 stock commitment of spec/ballot-qr.md §4.3 (ids sorted here)."""
    ids = sorted(ballot_ids)
    h = hashlib.sha256(STOCK_DOMAIN + b"\x00")
    h.update(election_id)
    h.update(bytes([kind, round_number]))
    h.update(len(ids).to_bytes(4, "big"))
    h.update(b"".join(ids))
    return h.digest()
