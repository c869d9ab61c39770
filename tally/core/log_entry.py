"""The entry envelope every log of the project shares (spec/log.md §1, spec/procedure.md RP-11.1).

An entry is the JSON object ``{format, seq, prev, salt, type, at, actor, body}`` stored as its
RFC 8785 bytes; ``salt`` is a fresh secret 32 bytes in lowercase hex; the leaf hash is RFC 9162's
SHA-256(0x00 || bytes). The election log (``log-entry/1``) and the procedure log
(``procedure-entry/1``) differ only in ``format`` and in their types and bodies, so both build and
read the envelope here.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from typing import Any, Final

from tally.core.errors import TallyError
from tally.core.manifest import canonical

__all__ = ["MEMBERS", "SALT_BYTES", "entry_bytes", "leaf_hash", "read_envelope"]

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


def read_envelope(
    raw: bytes, format_: str, *, error: type[TallyError] = TallyError
) -> dict[str, Any]:
    """The JSON object of stored entry bytes, checked as spec/log.md §1: exactly the eight
    members, ``format`` ``format_``, a valid salt, and ``raw`` its own canonical form.

    Raises:
        TallyError: (of class ``error``) ``log.malformed`` (not JSON, wrong members or format),
            ``log.salt`` (no 64-hex salt), ``log.not_canonical``.
    """
    try:
        doc = json.loads(raw)
    except (ValueError, UnicodeDecodeError, RecursionError) as e:
        raise error("log.malformed", zh="日志记录无法解析", en="log entry is not JSON") from e
    if not isinstance(doc, dict) or doc.get("format") != format_:
        raise error("log.malformed", zh="日志记录格式错误", en="log entry has the wrong shape")
    if not isinstance(doc.get("salt"), str) or _HEX64.fullmatch(doc["salt"]) is None:
        raise error(
            "log.salt",
            zh="日志记录缺少有效的盐值（64 位小写十六进制）",
            en="log entry has no valid salt (64 lowercase hex)",
        )
    if set(doc) != MEMBERS:
        raise error("log.malformed", zh="日志记录格式错误", en="log entry has the wrong shape")
    try:
        again = canonical(doc)
    except ValueError as e:  # a float, an integer beyond 2**53, a lone surrogate: not JCS
        raise error(
            "log.not_canonical", zh="日志记录不是规范形式", en="log entry is not canonical JSON"
        ) from e
    if again != raw:
        raise error(
            "log.not_canonical", zh="日志记录不是规范形式", en="log entry is not canonical JSON"
        )
    return doc
