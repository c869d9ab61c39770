"""Bounded JSON parsing and the RFC 8785 canonical-bytes check (spec/README.md, spec/bundle.md §7).

``parse_json`` accepts only integers, strings, booleans, null, arrays and objects; it rejects
duplicate member names, fractions, exponents, NaN and Infinity, nesting deeper than 32 and documents
larger than the caller's limit. ``parse_canonical`` additionally requires that the bytes are exactly
``JCS(document)`` (ADR 0005: the ``rfc8785`` package serialises, the verifier compares bytes).
"""

from __future__ import annotations

import json
from typing import Any, Final

import rfc8785

from verifier.errors import CanonicalFormError, DocumentFormatError, JsonLimitError

__all__ = [
    "DOCUMENT_LIMIT",
    "LINE_LIMIT",
    "MAX_DEPTH",
    "canonical_bytes",
    "parse_canonical",
    "parse_json",
]

MAX_DEPTH: Final = 32
DOCUMENT_LIMIT: Final = 16 * 1024 * 1024
LINE_LIMIT: Final = 64 * 1024


class _Reject(Exception):
    def __init__(self, what: str) -> None:
        super().__init__(what)
        self.what = what


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise _Reject(f"duplicate member {key!r}")
        out[key] = value
    return out


def _no_float(text: str) -> Any:
    raise _Reject(f"non-integer number {text}")


def _no_constant(text: str) -> Any:
    raise _Reject(f"non-JSON constant {text}")


def _depth(value: object, limit: int) -> int:
    # Iterative, so a deep document cannot exhaust the interpreter stack here.
    deepest = 0
    stack: list[tuple[object, int]] = [(value, 1)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict | list):
            deepest = max(deepest, level)
            if deepest > limit:
                return deepest
            children = item.values() if isinstance(item, dict) else item
            stack.extend((c, level + 1) for c in children)
    return deepest


def parse_json(data: bytes, *, clause: str, path: str, limit: int = DOCUMENT_LIMIT) -> Any:
    """Parse one JSON document under the limits of spec/bundle.md §7.

    Args:
        data: the document's bytes (UTF-8).
        clause: the clause reported on failure (``V3``, ``V6``, ...).
        path: the file (and line) for the report.
        limit: the largest accepted size in bytes.

    Raises:
        JsonLimitError: too large or nested deeper than 32.
        DocumentFormatError: not UTF-8, not JSON, duplicate members, floats, NaN or Infinity.

    Returns:
        The parsed value (dict, list, str, int, bool or None).
    """
    if len(data) > limit:
        raise JsonLimitError(
            clause=clause,
            code="json.too_large",
            zh=f"JSON 文档超过 {limit} 字节的上限",
            en=f"JSON document exceeds the {limit}-byte limit",
            path=path,
        )
    try:
        text = data.decode("utf-8")
        value = json.loads(
            text,
            object_pairs_hook=_no_duplicates,
            parse_float=_no_float,
            parse_constant=_no_constant,
        )
    except RecursionError as e:
        raise _too_deep(clause, path) from e
    except _Reject as e:
        raise DocumentFormatError(
            clause=clause,
            code="json.invalid",
            zh=f"JSON 内容不被接受：{e.what}",
            en=f"JSON not accepted: {e.what}",
            path=path,
        ) from e
    except (UnicodeDecodeError, ValueError) as e:
        raise DocumentFormatError(
            clause=clause,
            code="json.malformed",
            zh="不是有效的 UTF-8 JSON 文档",
            en=f"not a valid UTF-8 JSON document ({e})",
            path=path,
        ) from e
    if _depth(value, MAX_DEPTH) > MAX_DEPTH:
        raise _too_deep(clause, path)
    return value


def _too_deep(clause: str, path: str) -> JsonLimitError:
    return JsonLimitError(
        clause=clause,
        code="json.too_deep",
        zh=f"JSON 嵌套超过 {MAX_DEPTH} 层",
        en=f"JSON nesting deeper than {MAX_DEPTH}",
        path=path,
    )


def canonical_bytes(value: object) -> bytes:
    """``JCS(value)`` (RFC 8785) via the ``rfc8785`` package.

    Raises:
        DocumentFormatError: the value cannot be canonicalised (e.g. an integer beyond 2**53).
    """
    try:
        return bytes(rfc8785.dumps(value))  # type: ignore[arg-type]
    except Exception as e:  # rfc8785 raises its own family; translate all of it
        raise DocumentFormatError(
            clause="",
            code="json.not_canonicalisable",
            zh="该值无法规范化为 RFC 8785",
            en=f"value cannot be canonicalised with RFC 8785 ({e})",
        ) from e


def parse_canonical(data: bytes, *, clause: str, path: str, limit: int = DOCUMENT_LIMIT) -> Any:
    """Parse as ``parse_json`` and require that ``data`` is exactly the canonical bytes.

    Raises:
        JsonLimitError: see ``parse_json``.
        DocumentFormatError: see ``parse_json``.
        CanonicalFormError: the bytes differ from ``JCS(document)``.

    Returns:
        The parsed value.
    """
    value = parse_json(data, clause=clause, path=path, limit=limit)
    try:
        again = canonical_bytes(value)
    except DocumentFormatError as e:
        raise CanonicalFormError(
            clause=clause, code="json.not_canonical", zh=e.zh, en=e.en, path=path
        ) from e
    if again != data:
        raise CanonicalFormError(
            clause=clause,
            code="json.not_canonical",
            zh="存储的字节不是 RFC 8785 规范形式",
            en="stored bytes are not the RFC 8785 canonical form",
            path=path,
        )
    return value
