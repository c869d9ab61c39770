"""(V23) A procedure ballot's QR text, PQ1-PQ8 (spec/procedure.md RP-3.5).

``BP1:`` + unpadded base32 of a 100-byte ``procedure-ballot/1`` payload: version, the procedure
id's first 16 bytes, form, post, round, ballot id, and the work group key's Ed25519 signature over
``"branch-election/procedure-ballot/1" || 0x00 || payload[0:36]``. Independent of
``ballot_printer``; the base32 and the strict signature check are the election reader's.
"""

from __future__ import annotations

import re
from typing import Final

from verifier import ed25519
from verifier.errors import QrError
from verifier.qr import b32decode_canonical, normalise_qr_text

__all__ = ["FORMS", "POSTS", "PROCEDURE_QR_DOMAIN", "check_procedure_qr"]

PROCEDURE_QR_DOMAIN: Final = b"branch-election/procedure-ballot/1"
FORMS: Final = {"member": 1, "public": 2, "evaluation": 3}
POSTS: Final = {"committee": 1, "secretary": 2, "deputy_secretary": 3, "": 0}
_PAYLOAD: Final = 100
_TEXT_MAX: Final = 256
_ELECTION: Final = re.compile(r"BQ[0-9]+:")
_OTHER: Final = re.compile(r"BP[0-9]+:")


def _fail(clause: str, code: str, zh: str, en: str) -> QrError:
    return QrError(clause=clause, code=code, zh=zh, en=en)


def _payload(text: str) -> bytes:
    """PQ1-PQ3: the text decoded to exactly 100 bytes of version 1."""
    if len(text) > _TEXT_MAX:
        raise _fail("PQ3", "pqr.overlong", "二维码内容过长", "the text is too long")
    norm = normalise_qr_text(text)
    if not norm.startswith("BP1:"):
        if _ELECTION.match(norm):
            raise _fail("PQ1", "pqr.election_ballot", "这是选举票，不是推荐票或测评票",
                        "an election ballot, not a procedure ballot")  # fmt: skip
        if _OTHER.match(norm):
            raise _fail("PQ2", "pqr.unknown_version", "二维码版本未知", "unknown QR text version")
        raise _fail("PQ1", "pqr.bad_encoding", "二维码内容不是推荐票编码", "missing BP1: prefix")
    raw = b32decode_canonical(norm[4:])
    if raw is None:
        raise _fail("PQ1", "pqr.bad_encoding", "base32 编码无效或不规范", "bad base32 text")
    if raw[:1] != b"\x01":
        raise _fail("PQ2", "pqr.unknown_version", "载荷版本未知", "unknown payload version")
    if len(raw) != _PAYLOAD:
        code = "pqr.truncated" if len(raw) < _PAYLOAD else "pqr.overlong"
        raise _fail("PQ3", code, "载荷长度不是 100 字节", f"a payload of {len(raw)} bytes")
    return raw


def check_procedure_qr(  # noqa: PLR0917 - the reader's expectations
    text: str, procedure_id: bytes, form: str, post: str, round_: int, public_key: bytes
) -> bytes:
    """PQ1-PQ8 for a ballot entered into ``form``/``post``/``round_`` of the procedure; returns
    the ballot id (16 bytes).

    Raises:
        QrError: the first clause that fails, with its ``pqr.*`` code.
    """
    raw = _payload(text)
    f, p, r = raw[17], raw[18], raw[19]
    if f not in (1, 2, 3) or (p == 0) != (f == 3) or p > 3 or r == 0:
        raise _fail("PQ4", "pqr.bad_field", "载荷字段无效", "a payload field is out of range")
    if raw[1:17] != procedure_id[:16]:
        raise _fail(
            "PQ5", "pqr.wrong_procedure", "不是本程序的选票", "a ballot of another procedure"
        )
    if (f, p) != (FORMS.get(form), POSTS.get(post if form != "evaluation" else "")):
        raise _fail(
            "PQ6", "pqr.wrong_form", "选票种类或职位不符", "a ballot of another form or post"
        )
    if r != round_:
        raise _fail("PQ7", "pqr.wrong_round", "选票轮次不符", "a ballot of another round")
    try:
        key = ed25519.load_key(public_key)
    except ed25519.InvalidEd25519Error as e:
        raise _fail(
            "PQ8", "pqr.bad_public_key", "工作组公钥无效", "the work group key is invalid"
        ) from e
    try:
        ed25519.verify(key, raw[36:], PROCEDURE_QR_DOMAIN + b"\x00" + raw[:36])
    except ed25519.InvalidEd25519Error as e:
        raise _fail(
            "PQ8", "pqr.bad_signature", "选票签名无效", "the ballot signature does not verify"
        ) from e
    return raw[20:36]
