"""What reads a definition's fields and collects their problems (spec/definition.md): every
problem is recorded with its field path, none stops the reading."""

from __future__ import annotations

import datetime as dt
import unicodedata
from collections.abc import Mapping
from enum import StrEnum
from typing import Any, TypeVar

from tally.core.errors import Problem
from tally.core.model import (
    ZH_ALIASES,
    MemberId,
    zh_label,
)

E = TypeVar("E", bound=StrEnum)

# What an unparsable date becomes (its problem is already recorded); never checked against R27.
_NO_DATE = dt.date(1900, 1, 1)


class _Collector:
    """Accumulates problems instead of stopping at the first."""

    def __init__(self) -> None:
        self.problems: list[Problem] = []

    def add(self, code: str, path: str, zh: str, en: str, clause: str = "") -> None:
        self.problems.append(Problem(code=code, path=path, zh=zh, en=en, clause=clause))

    def unknown_keys(self, table: Mapping[str, Any], allowed: set[str], path: str) -> None:
        for key in sorted(set(table) - allowed):
            where = f"{path}.{key}" if path else key
            self.add("field.unknown", where, "未知字段", "unknown field")

    def text(self, table: Mapping[str, Any], key: str, path: str, *, required: bool = True) -> str:
        where = f"{path}.{key}" if path else key
        value = table.get(key)
        if value is None:
            if required:
                self.add("field.missing", where, "缺少此项", "missing")
            return ""
        if not isinstance(value, str) or not value.strip():
            self.add("field.type", where, "应为非空文字", "must be non-empty text")
            return ""
        # Names are kept exactly as entered, only normalised to NFC (never transliterated).
        return unicodedata.normalize("NFC", value.strip())

    def boolean(self, table: Mapping[str, Any], key: str, path: str, default: bool) -> bool:
        value = table.get(key, default)
        if not isinstance(value, bool):
            self.add("field.type", f"{path}.{key}", "应为 true 或 false", "must be true or false")
            return default
        return value

    def integer(self, table: Mapping[str, Any], key: str, path: str, default: int | None) -> int:
        where = f"{path}.{key}" if path else key
        value = table.get(key, default)
        if value is None:
            self.add("field.missing", where, "缺少此项", "missing")
            return 0
        if isinstance(value, bool) or not isinstance(value, int):
            self.add("field.type", where, "应为整数", "must be a whole number")
            return 0
        return value

    def date(self, table: Mapping[str, Any], key: str, path: str) -> dt.date:
        where = f"{path}.{key}" if path else key
        value = table.get(key)
        if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
            return value
        # The manifest (JSON) writes dates as "YYYY-MM-DD" strings.
        if isinstance(value, str) and len(value) == 10:
            try:
                return dt.date.fromisoformat(value)
            except ValueError:
                pass
        if value is None:
            self.add("field.missing", where, "缺少此项", "missing")
        else:
            self.add(
                "field.type",
                where,
                "应为日期，例如 1970-01-31",
                "must be a date such as 1970-01-31",
            )
        return _NO_DATE

    def enum(
        self,
        table: Mapping[str, Any],
        key: str,
        path: str,
        kind: type[E],
        default: E | None = None,
    ) -> E | None:
        where = f"{path}.{key}" if path else key
        value = table.get(key)
        if value is None:
            if default is None:
                self.add("field.missing", where, "缺少此项", "missing")
            return default
        if isinstance(value, str):
            code = ZH_ALIASES.get(kind, {}).get(value, value)
            try:
                return kind(code)
            except ValueError:
                pass
        allowed = ", ".join(f"{m.value}（{zh_label(m)}）" for m in kind)
        allowed_en = ", ".join(m.value for m in kind)
        self.add(
            "field.choice",
            where,
            f"不认识的取值 {value!r}，可选：{allowed}",
            f"unknown value {value!r}; allowed: {allowed_en}",
        )
        return default

    def table(self, data: Mapping[str, Any], key: str, path: str) -> Mapping[str, Any]:
        value = data.get(key, {})
        if not isinstance(value, dict):
            self.add("field.type", path or key, "应为表（[节]）", "must be a table")
            return {}
        return value

    def array_of_tables(self, data: Mapping[str, Any], key: str) -> list[Mapping[str, Any]]:
        value = data.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
            self.add("field.type", key, "应为表数组（[[节]]）", "must be an array of tables")
            return []
        return value

    def ids(self, value: object, where: str) -> tuple[MemberId, ...]:
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            self.add("field.type", where, "应为党员编号列表", "must be a list of member ids")
            return ()
        return tuple(MemberId(unicodedata.normalize("NFC", v.strip())) for v in value)
