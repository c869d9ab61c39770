"""Small helpers shared by the entry parser and the appliers: the refusal constructor, the field
readers that give the log's refusal codes, and the formats of hex and base64 fields."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import re
from collections.abc import Mapping
from typing import Any

from tally.core.errors import RoundStateError
from tally.core.model import PostKind

HEX32 = re.compile(r"^[0-9a-f]{32}$")
HEX64 = re.compile(r"^[0-9a-f]{64}$")


def bad(code: str, zh: str, en: str, clause: str = "") -> RoundStateError:
    return RoundStateError(code, zh=zh, en=en, clause=clause)


def time_of(text: str) -> dt.datetime:
    """An entry's ``at``: ISO 8601 with an offset (``log.bad_time`` otherwise)."""
    try:
        t = dt.datetime.fromisoformat(text)
    except ValueError as e:
        raise bad("log.bad_time", "时间格式错误", f"bad time {text!r}") from e
    if t.tzinfo is None:
        raise bad("log.bad_time", "时间缺少时区", f"time without offset {text!r}")
    return t


def post_of(body: Mapping[str, Any]) -> PostKind:
    """The body's ``post`` (``log.bad_post`` when it names no post)."""
    try:
        return PostKind(body["post"])
    except (KeyError, ValueError) as e:
        raise bad("log.bad_post", "职位错误", "unknown post") from e


def int_of(body: Mapping[str, Any], key: str) -> int:
    """The body's ``key`` as an integer >= 0 (``log.bad_number`` otherwise)."""
    value = body.get(key)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise bad("log.bad_number", f"{key} 应为非负整数", f"{key} must be an integer >= 0")
    return value


def b64_bytes(value: object) -> bytes | None:
    """The bytes of a base64 string (padding required), or None."""
    if not isinstance(value, str):
        return None
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        return None


def b64len(value: object, size: int | None = None) -> bool:
    """Whether ``value`` is base64 (of ``size`` bytes when given)."""
    raw = b64_bytes(value)
    return raw is not None and (size is None or len(raw) == size)


def is_token(value: object) -> bool:
    """Canonical base64 of 32 bytes (the credential's ``T``)."""
    if not isinstance(value, str) or not value.isascii():
        return False
    try:
        raw = base64.b64decode(value, validate=True)
    except binascii.Error:
        return False
    return len(raw) == 32 and base64.b64encode(raw).decode() == value
