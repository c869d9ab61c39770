"""Bounded JSON parsing and the RFC 8785 canonical-bytes check (spec/README.md, spec/bundle.md §7).

``parse_json`` accepts only integers, strings, booleans, null, arrays and objects; it rejects
duplicate member names, fractions, exponents, NaN and Infinity, nesting deeper than 32 and documents
larger than the caller's limit. ``parse_canonical`` additionally requires that the bytes are exactly
``JCS(document)`` (ADR 0005: the ``rfc8785`` package serialises, the verifier compares bytes).

Fast path (ADR 0005): for a document made only of objects with ASCII member names, arrays,
strings and integers with ``|n| < 2**53`` (no floats, booleans or nulls; log entries and ballot
records qualify) ``JCS(doc)`` equals ``json.dumps(doc, sort_keys=True, separators=(",", ":"),
ensure_ascii=False).encode()`` (same escapes: the two-character forms for backspace, tab,
line feed, form feed and carriage return, lowercase ``u00xx`` escapes for other controls, quote and
backslash, nothing else escaped; ASCII names sort the same by code unit and by code point;
a lone surrogate fails ``encode`` and falls back). Anything outside that shape goes to ``rfc8785``.
"""

from __future__ import annotations

import json
from typing import Any, Final

import rfc8785

from verifier.errors import CanonicalFormError, DocumentFormatError, JsonLimitError

__all__ = [
    "DOCUMENT_LIMIT",
    "LINE_LIMIT",
    "LOG_LINE_LIMIT",
    "MAX_DEPTH",
    "canonical_bytes",
    "fast_canonical",
    "parse_canonical",
    "parse_canonical_checked",
    "parse_json",
]

MAX_DEPTH: Final = 32
_SAFE: Final = 2**53
DOCUMENT_LIMIT: Final = 16 * 1024 * 1024
LINE_LIMIT: Final = 64 * 1024  # a line of ballots.jsonl (spec/bundle.md §8)
# A line of log.jsonl: a `remote.cast` of version 2 carries a ballot of up to 262,144 JCS bytes
# (spec/remote-v2.md RV-3.5) with its token fields; every other entry is far smaller.
LOG_LINE_LIMIT: Final = 320 * 1024


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


def _fast_shape(value: object, depth: int, literals: bool = False) -> bool:
    """True if ``value`` is in the fast-path shape and nests no deeper than ``depth``.

    ``depth`` counts containers as ``parse_json``'s limit does: the top container is level 1.
    Strings and integers are tested inline (the common case) rather than by recursion. With
    ``literals``, ``true``, ``false`` and ``null`` are in the shape too (``json`` writes them as
    JCS does); without, the shape promises strings and integers only (``parse_canonical_checked``).
    """
    t = type(value)
    if t is str:
        return True
    if t is int:
        return -_SAFE < value < _SAFE  # type: ignore[operator]
    if literals and (value is True or value is False or value is None):
        return True
    if depth <= 0:
        return False
    if t is dict:
        items: Any = value.items()  # type: ignore[attr-defined]
    elif t is list:
        items = ((None, v) for v in value)  # type: ignore[attr-defined]
    else:
        return False
    for k, v in items:
        if k is not None and not k.isascii():
            return False
        tv = type(v)
        if tv is str:
            continue
        if tv is int:
            if not -_SAFE < v < _SAFE:
                return False
            continue
        if not _fast_shape(v, depth - 1, literals):
            return False
    return True


_ENCODER: Final = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _fast_dumps(value: object) -> bytes:
    return _ENCODER.encode(value).encode()


def fast_canonical(value: object) -> bytes | None:
    """``JCS(value)`` when ``value`` is in the fast-path shape (literals included: a manifest
    has ``true`` and ``false``), else ``None``."""
    if not _fast_shape(value, MAX_DEPTH, literals=True):
        return None
    try:
        return _fast_dumps(value)
    except UnicodeEncodeError:  # a lone surrogate: let rfc8785 report it
        return None


def canonical_bytes(value: object) -> bytes:
    """``JCS(value)`` (RFC 8785): the fast path when it applies, else the ``rfc8785`` package.

    Raises:
        DocumentFormatError: the value cannot be canonicalised (e.g. an integer beyond 2**53).
    """
    fast = fast_canonical(value)
    if fast is not None:
        return fast
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
    return parse_canonical_checked(data, clause=clause, path=path, limit=limit)[0]


def parse_canonical_checked(
    data: bytes, *, clause: str, path: str, limit: int = DOCUMENT_LIMIT
) -> tuple[Any, bool]:
    """As ``parse_canonical``; also says whether the value is of the fast-path shape.

    ``True`` guarantees objects (ASCII names), arrays, strings and integers only: no booleans,
    nulls or floats anywhere, which callers may rely on instead of walking the value again.

    Raises:
        JsonLimitError: see ``parse_json``.
        DocumentFormatError: see ``parse_json``.
        CanonicalFormError: the bytes differ from ``JCS(document)``.
    """
    if len(data) <= limit:
        # Fast path: the C parser without hooks. If the bytes equal the fast serialisation of
        # what was parsed, they are canonical, hence free of duplicate members, floats, NaN,
        # and the shape walk bounded the depth. Any other outcome takes the strict path below,
        # which reports the precise failure.
        try:
            value = json.loads(data.decode("utf-8"))
        except (UnicodeDecodeError, ValueError, RecursionError):
            value = None
        else:
            if _fast_shape(value, MAX_DEPTH):
                try:
                    if _fast_dumps(value) == data:
                        return value, True
                except UnicodeEncodeError:
                    pass
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
    return value, False
