"""What the parts of the procedure parser share (spec/procedure.md §2): the formats, the ranges
of RP-2.2, reading one field into a problem, and the shape of a ``pubkey/1``.

The election definition's own helpers are imported here and only here, so that the roster,
exclusion and officials rules keep the codes of spec/definition.md (RP-2.4).
"""

from __future__ import annotations

import base64
import binascii
import re
import unicodedata
from collections.abc import Mapping
from enum import StrEnum
from typing import Any, TypeVar

# The definition parser's helpers (one place to change if tally.core.definition moves them).
from tally.core.definition import (
    MEMBER_ID_PATTERN,
    _Collector,
    _default_margin,
    _parse_exclusions,
    _parse_members,
    _parse_officials,
)
from tally.core.model import ZH_ALIASES, PostKind
from tally.core.procedure.model import LABELS_ZH, PublicKeyDocument

__all__ = [
    "FORMAT",
    "MEMBER_ID_PATTERN",
    "PROCEDURE_DOMAIN",
    "SIGNED_FORMAT",
    "Collector",
    "default_margin",
    "parse_exclusions",
    "parse_members",
    "parse_officials",
]

Collector = _Collector
default_margin = _default_margin
parse_members = _parse_members
parse_exclusions = _parse_exclusions
parse_officials = _parse_officials

FORMAT = "procedure/1"
SIGNED_FORMAT = "signed-procedure/1"
PROCEDURE_DOMAIN = b"branch-election/procedure/1"
E = TypeVar("E", bound=StrEnum)
D = TypeVar("D", bound=StrEnum | None)

_TOP_KEYS = {
    "format",
    "election",
    "casework_id",
    "members",
    "exclusions",
    "ballot_order",
    "posts",
    "secretary",
    "recommendation",
    "evaluation",
    "qualifications",
    "officials",
    "publicity_working_days",
    "keys",
}
_ELECTION_KEYS = {"title", "branch", "branch_code", "town", "term"}
_POST_KEYS = {"post", "seats", "margin", "preliminary_size", "formal_size", "max_per_ballot"}
_POST_ORDER = (PostKind.COMMITTEE, PostKind.SECRETARY, PostKind.DEPUTY_SECRETARY)
_PUBKEY_KEYS = {"format", "algorithm", "role", "label", "key"}
_SIGNED_KEYS = {"format", "procedure", "town_key", "signature"}
_HEX64 = re.compile(r"[0-9a-f]{64}", re.ASCII)
_LETTER = re.compile(r"[a-z]", re.ASCII)
_QUALIFICATION_KEYS = frozenset(
    {
        "qualification_policy",
        "secretary_new_max_age",
        "secretary_new_min_education",
        "secretary_continuing_max_age",
        "secretary_continuing_min_education",
    }
)
_MAX_SEATS = 15
_MAX_REPRESENTATIVES = 2000
_MAX_WEIGHT = 100
_MAX_DENOMINATOR = 100
_MIN_PUBLICITY, _MAX_PUBLICITY = 5, 60
_SCALE_SIZE = (2, 5)
_LABEL_CHARS = {"zh": 16, "en": 32}


def _ceil_fifth(seats: int) -> int:
    return -(-seats // 5)


def _enum_or(kind: type[E], value: object, default: D) -> E | D:
    if not isinstance(value, str):
        return default
    code = ZH_ALIASES.get(kind, {}).get(value, value)
    try:
        return kind(code)
    except ValueError:
        return default


def _b64(value: object) -> bytes | None:
    """Canonical standard base64 with padding (spec/keyfile.md §2.4), else None."""
    if not isinstance(value, str):
        return None
    try:
        out = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        return None
    return out if base64.b64encode(out).decode("ascii") == value else None


def _choice(
    c: _Collector, table: Mapping[str, Any], key: str, path: str, kind: type[E]
) -> E | None:
    """A procedure enum (:data:`LABELS_ZH` names its values in Chinese)."""
    where = f"{path}.{key}"
    value = table.get(key)
    if value is None:
        c.add("field.missing", where, "缺少此项", "missing")
        return None
    if isinstance(value, str):
        try:
            return kind(value)
        except ValueError:
            pass
    allowed = ", ".join(f"{m.value}（{LABELS_ZH[m]}）" for m in kind)
    allowed_en = ", ".join(m.value for m in kind)
    c.add(
        "field.choice",
        where,
        f"不认识的取值 {value!r}，可选：{allowed}",
        f"unknown value {value!r}; allowed: {allowed_en}",
    )
    return None


def _table(
    c: _Collector, data: Mapping[str, Any], key: str, path: str = ""
) -> Mapping[str, Any] | None:
    """The object ``data[key]``; None (with its problem) when it is missing or not an object."""
    where = f"{path}.{key}" if path else key
    if key not in data:
        c.add("field.missing", where, "缺少此项", "missing")
        return None
    value = data[key]
    if not isinstance(value, dict):
        c.add("field.type", where, "应为表（对象）", "must be a table (object)")
        return None
    return value


def _in_range(c: _Collector, value: int, lo: int, hi: int, *, where: str, clause: str) -> bool:
    if lo <= value <= hi:
        return True
    c.add(
        "procedure.parameter",
        where,
        f"取值 {value} 超出允许范围 {lo} 到 {hi}",
        f"the value {value} is outside the allowed range {lo} to {hi}",
        clause,
    )
    return False


def _parameter(c: _Collector, where: str, zh: str, en: str, clause: str = "RP-2.2") -> None:
    c.add("procedure.parameter", where, zh, en, clause)


def _keys_problem(c: _Collector, where: str, zh: str, en: str) -> None:
    c.add("procedure.keys", where, zh, en, "RP-2.4")


def _parse_key(c: _Collector, doc: object, role: str, where: str) -> PublicKeyDocument | None:
    """The shape of a ``pubkey/1`` document of ``role`` (spec/keyfile.md §5.2)."""
    if (
        not isinstance(doc, dict)
        or set(doc) != _PUBKEY_KEYS
        or doc["format"] != "pubkey/1"
        or doc["algorithm"] != "ed25519"
        or not all(isinstance(doc[k], str) for k in _PUBKEY_KEYS)
    ):
        _keys_problem(c, where, "应为公钥文件（pubkey/1）", "must be a pubkey/1 document")
        return None
    if doc["role"] != role:
        _keys_problem(
            c,
            where,
            f"公钥角色应为 {role}，实际为 {doc['role']}",
            f"the key's role must be {role}, found {doc['role']}",
        )
        return None
    raw = _b64(doc["key"])
    label = doc["label"]
    if raw is None or len(raw) != 32 or not label or unicodedata.normalize("NFC", label) != label:
        _keys_problem(c, where, "公钥格式错误", "the public key is malformed")
        return None
    return PublicKeyDocument(algorithm=doc["algorithm"], role=role, label=label, key=doc["key"])
