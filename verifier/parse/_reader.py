"""Shared shape readers of the verifier's parsers (STYLE §7.2 rule 6: parse, don't validate).

``Reader`` reads one JSON object demanding exactly its members (spec/README.md §Formats); the
parsers of ``verifier.parse`` build models with it and raise ``DocumentFormatError`` with a path.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from typing import Any, Final

from verifier.errors import DocumentFormatError

DATE: Final = re.compile(r"\d{4}-\d{2}-\d{2}")


def err(clause: str, path: str, en: str, zh: str, code: str = "field.type") -> DocumentFormatError:
    return DocumentFormatError(clause=clause, code=code, zh=zh, en=en, path=path)


class Reader:
    """Reads one JSON object, demanding exactly the listed members (spec/README.md §Formats)."""

    def __init__(self, value: object, path: str, clause: str, members: frozenset[str]) -> None:
        if type(value) is dict and value.keys() == members:
            self.value: dict[str, Any] = value
            self.path = path
            self.clause = clause
            return
        if not isinstance(value, dict):
            raise err(clause, path, "not a JSON object", "不是 JSON 对象")
        unknown = sorted(set(value) - members)
        if unknown:
            raise err(
                clause,
                f"{path}.{unknown[0]}" if path else unknown[0],
                f"unknown member {unknown[0]!r}",
                f"未知字段 {unknown[0]!r}",
                "field.unknown",
            )
        missing = sorted(members - set(value))
        if missing:
            raise err(
                clause,
                f"{path}.{missing[0]}" if path else missing[0],
                f"missing member {missing[0]!r}",
                f"缺少字段 {missing[0]!r}",
                "field.missing",
            )
        self.value = value
        self.path = path
        self.clause = clause

    def at(self, key: str) -> str:
        return f"{self.path}.{key}" if self.path else key

    def raw(self, key: str) -> Any:
        return self.value[key]

    def str_(self, key: str, *, nonempty: bool = False) -> str:
        v = self.value[key]
        if not isinstance(v, str) or (nonempty and not v.strip()):
            raise err(self.clause, self.at(key), "expected a string", "应为字符串")
        return v

    def text(self, key: str) -> str:
        v = self.str_(key, nonempty=True)
        if unicodedata.normalize("NFC", v) != v or v.strip() != v:
            raise err(self.clause, self.at(key), "text not trimmed NFC", "文本不是规范化形式")
        return v

    def int_(self, key: str) -> int:
        v = self.value[key]
        if type(v) is not int:
            raise err(self.clause, self.at(key), "expected an integer", "应为整数")
        return v

    def bool_(self, key: str) -> bool:
        v = self.value[key]
        if type(v) is not bool:
            raise err(self.clause, self.at(key), "expected a boolean", "应为布尔值")
        return v

    def code(self, key: str, allowed: tuple[str, ...]) -> str:
        v = self.value[key]
        if v not in allowed:
            raise err(
                self.clause,
                self.at(key),
                f"value {v!r} not one of {list(allowed)}",
                f"取值 {v!r} 无效",
                "field.choice",
            )
        return str(v)

    def date(self, key: str) -> dt.date:
        v = self.value[key]
        if not isinstance(v, str) or DATE.fullmatch(v) is None:
            raise err(self.clause, self.at(key), "expected YYYY-MM-DD", "应为 YYYY-MM-DD 日期")
        try:
            return dt.date.fromisoformat(v)
        except ValueError as e:
            raise err(self.clause, self.at(key), "not a calendar date", "不是有效日期") from e

    def ids(self, key: str) -> tuple[str, ...]:
        v = self.value[key]
        if not isinstance(v, list) or not all(isinstance(x, str) and x for x in v):
            raise err(self.clause, self.at(key), "expected a list of ids", "应为成员编号列表")
        return tuple(v)

    def list_(self, key: str) -> list[Any]:
        v = self.value[key]
        if not isinstance(v, list):
            raise err(self.clause, self.at(key), "expected a list", "应为列表")
        return v
