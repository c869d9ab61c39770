"""Strict JSON and base64 decoding shared by the key-file and public-key parsers (spec §2)."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable
from typing import Any, NoReturn

__all__ = ["b64decode_strict", "b64encode", "dump_document", "load_object", "take_int", "take_str"]

Fail = Callable[[str, str], NoReturn]
"""Raises the caller's error class from (zh, en) problem text."""


def b64encode(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def b64decode_strict(text: str, *, size: int, field: str, fail: Fail) -> bytes:
    """Decode padded standard base64 of exactly `size` bytes; only the canonical spelling passes.

    Re-encoding and comparing rejects non-zero pad bits and other malleable spellings (spec §2.4).
    """
    try:
        raw = base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError):
        fail(f"字段 {field} 不是有效的 base64", f"field {field} is not valid base64")
    if b64encode(raw) != text:
        fail(f"字段 {field} 的 base64 不是规范形式", f"field {field} is not canonical base64")
    if len(raw) != size:
        fail(
            f"字段 {field} 应为 {size} 字节，实为 {len(raw)} 字节",
            f"field {field} must be {size} bytes, got {len(raw)}",
        )
    return raw


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise ValueError(f"duplicate field {key!r}")
        result[key] = value
    return result


def _no_float(text: str) -> NoReturn:
    raise ValueError(f"non-integer number {text}")


def load_object(text: str) -> dict[str, Any]:
    """Parse JSON that must be an object, rejecting duplicate fields and non-integer numbers.

    Raises:
        json.JSONDecodeError: the text is not JSON.
        ValueError: duplicate field, float/NaN/Infinity, nested deeper than Python recurses, or
            not an object.
    """
    try:
        value = json.loads(
            text,
            object_pairs_hook=_no_duplicates,
            parse_float=_no_float,
            parse_constant=_no_float,
        )
    except RecursionError as e:  # `[[[[…` thousands deep: no key document looks like that
        raise ValueError("the document is nested too deep") from e
    if not isinstance(value, dict):
        raise ValueError("the document is not a JSON object")
    return value


def dump_document(doc: dict[str, Any]) -> bytes:
    """Serialise a document the way the spec writes files: sorted keys, 2-space indent, UTF-8."""
    return (json.dumps(doc, ensure_ascii=False, indent=2, sort_keys=True) + "\n").encode("utf-8")


def take_str(doc: dict[str, Any], field: str, fail: Fail) -> str:
    value = doc.get(field)
    if not isinstance(value, str):
        fail(f"缺少文本字段 {field}", f"missing or non-string field {field}")
    return value


def take_int(doc: dict[str, Any], field: str, fail: Fail) -> int:
    value = doc.get(field)
    # bool is an int subclass; JSON true must not pass as 1.
    if not isinstance(value, int) or isinstance(value, bool):
        fail(f"缺少整数字段 {field}", f"missing or non-integer field {field}")
    return value
