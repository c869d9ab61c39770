"""The entry envelope every log of the project shares (spec/log.md §1, spec/procedure.md RP-11.1).

An entry is the JSON object ``{format, seq, prev, salt, type, at, actor, body}`` stored as its
RFC 8785 bytes; ``salt`` is a fresh secret 32 bytes in lowercase hex; the leaf hash is RFC 9162's
SHA-256(0x00 || bytes). The election log (``log-entry/1``), the procedure log
(``procedure-entry/1``) and the casework log (``casework-entry/1``) differ only in ``format`` and
in their types and bodies, so all three build and read the envelope here: the first two refuse in
the words of :func:`read_envelope` (``log.*``), the casework log in its own
(:func:`check_envelope`, ``casework.malformed``).
"""

from __future__ import annotations

import enum
import hashlib
import json
import re
from collections.abc import Callable, Mapping
from typing import Any, Final

from tally.core.errors import TallyError
from tally.core.manifest import canonical

__all__ = [
    "MEMBERS",
    "SALT_BYTES",
    "Fault",
    "check_envelope",
    "entry_bytes",
    "leaf_hash",
    "read_envelope",
]

#: (spec/log.md §1) The length of an entry's salt in bytes; it is written as 64 lowercase hex.
SALT_BYTES: Final = 32
MEMBERS: Final = frozenset({"format", "seq", "prev", "salt", "type", "at", "actor", "body"})
_HEX64: Final = re.compile(r"^[0-9a-f]{64}$")


def leaf_hash(raw: bytes) -> bytes:
    """RFC 9162 leaf hash of an entry's bytes (spec/merkle.md M2)."""
    return hashlib.sha256(b"\x00" + raw).digest()


def entry_bytes(
    format_: str,
    seq: int,
    prev: str,
    *,
    type_: str,
    at: str,
    actor: str,
    body: Mapping[str, Any],
    salt: str,
) -> bytes:
    """The canonical bytes of an entry of ``format_``."""
    return canonical(
        {
            "format": format_,
            "seq": seq,
            "prev": prev,
            "salt": salt,
            "type": type_,
            "at": at,
            "actor": actor,
            "body": dict(body),
        }
    )


class Fault(enum.Enum):
    """Why stored bytes are not an entry of the envelope (spec/log.md §1)."""

    NOT_JSON = "not_json"
    #: Not an object, another ``format``, or other members than the eight.
    SHAPE = "shape"
    #: ``salt`` is not 64 lowercase hex.
    SALT = "salt"
    #: The bytes are not the RFC 8785 form of what they hold (or it has none).
    NOT_CANONICAL = "not_canonical"


#: The election and procedure logs' words for each fault: code, zh, en.
_LOG_WORDS: Final[Mapping[Fault, tuple[str, str, str]]] = {
    Fault.NOT_JSON: ("log.malformed", "日志记录无法解析", "log entry is not JSON"),
    Fault.SHAPE: ("log.malformed", "日志记录格式错误", "log entry has the wrong shape"),
    Fault.SALT: (
        "log.salt",
        "日志记录缺少有效的盐值（64 位小写十六进制）",
        "log entry has no valid salt (64 lowercase hex)",
    ),
    Fault.NOT_CANONICAL: (
        "log.not_canonical",
        "日志记录不是规范形式",
        "log entry is not canonical JSON",
    ),
}


def read_envelope(
    raw: bytes, format_: str, *, error: type[TallyError] = TallyError
) -> dict[str, Any]:
    """The JSON object of stored entry bytes, checked as spec/log.md §1: exactly the eight
    members, ``format`` ``format_``, a valid salt, and ``raw`` its own canonical form.

    Raises:
        TallyError: (of class ``error``) ``log.malformed`` (not JSON, wrong members or format),
            ``log.salt`` (no 64-hex salt), ``log.not_canonical``.
    """

    def refuse(fault: Fault) -> TallyError:
        code, zh, en = _LOG_WORDS[fault]
        return error(code, zh=zh, en=en)

    return check_envelope(raw, format_, refuse)


def check_envelope(
    raw: bytes,
    format_: str,
    refuse: Callable[[Fault], Exception],
    *,
    members_before_salt: bool = False,
) -> dict[str, Any]:
    """The JSON object of stored entry bytes, checked as :func:`read_envelope`; the first fault
    found is raised as ``refuse(fault)``, in the order: JSON, object and ``format``, salt,
    members, canonical form. With ``members_before_salt`` the members are checked with the
    ``format`` (so an entry without a salt is :attr:`Fault.SHAPE`, not :attr:`Fault.SALT`): the
    casework log's order, kept so that none of its refusals changed when it came here.

    Raises:
        Exception: ``refuse(fault)``.
    """
    try:
        doc = json.loads(raw)
    except (ValueError, UnicodeDecodeError, RecursionError) as e:
        raise refuse(Fault.NOT_JSON) from e
    if not isinstance(doc, dict) or doc.get("format") != format_:
        raise refuse(Fault.SHAPE)
    if members_before_salt and set(doc) != MEMBERS:
        raise refuse(Fault.SHAPE)
    if not isinstance(doc.get("salt"), str) or _HEX64.fullmatch(doc["salt"]) is None:
        raise refuse(Fault.SALT)
    if set(doc) != MEMBERS:
        raise refuse(Fault.SHAPE)
    try:
        again = canonical(doc)
    except ValueError as e:  # a float, an integer beyond 2**53, a lone surrogate: not JCS
        raise refuse(Fault.NOT_CANONICAL) from e
    if again != raw:
        raise refuse(Fault.NOT_CANONICAL)
    return doc
