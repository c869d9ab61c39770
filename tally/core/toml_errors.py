"""Explain a TOML syntax error to a clerk, in Chinese and English, with its line and column.

``tomllib`` reports errors in English as "<what> (at line L, column C)". This module turns that
into a problem a clerk can act on: the line and column, what is wrong in plain words, the text of
the line, and for a date that is not a real date (2026-13-45, 2026-02-30) what a date looks like.
Pure: it reads only the text it is given.
"""

from __future__ import annotations

import datetime as dt
import re
import tomllib
from typing import Any

from tally.core.errors import DefinitionError, Problem

__all__ = ["load_toml", "toml_problem"]

_WHERE = re.compile(r"\s*\(at line (\d+), column (\d+)\)\s*$|\s*\(at end of document\)\s*$")
_DATE = re.compile(r"(?<![\d-])(\d{4})-(\d{1,2})-(\d{1,2})(?![\d-])")

# tomllib's messages (Python 3.11+), by their start, in Chinese.
_ZH: tuple[tuple[str, str], ...] = (
    ("Invalid date or datetime", "不是有效的日期或时间"),
    ("Invalid value", "值写得不对（文字须加英文双引号，数字和日期不加，列表用 [ ]）"),
    ("Invalid statement", "这一行不是“键 = 值”，也不是 [表] 或 [[表]]"),
    ("Invalid initial character for a key part", "键名的开头有不允许的字符"),
    ("Invalid hex value", "十六进制转义写得不对"),
    ("Expected newline or end of document after a statement", "一行只能写一项，值的后面多了内容"),
    ("Expected '=' after a key in a key/value pair", "键名后面缺少等号 ="),
    ("Expected ']' at the end of a table declaration", "表名 [ ] 缺少右方括号 ]"),
    ("Expected ']]' at the end of an array declaration", "表名 [[ ]] 缺少右方括号 ]]"),
    ("Expected", "缺少应有的符号"),
    ("Unclosed array", "列表 [ ] 没有闭合（缺少 ] 或逗号）"),
    ("Unclosed inline table", "行内表 { } 没有闭合（缺少 } 或逗号）"),
    ("Unterminated string", "文字缺少结尾的双引号"),
    ("Unescaped '\\' in a string", "文字中的反斜杠 \\ 须写成 \\\\"),
    ("Escaped character is not a Unicode scalar value", "转义字符不是有效的 Unicode 字符"),
    ("Illegal character", "文字中有不允许的控制字符"),
    ("Found invalid character", "有不允许的字符"),
    ("Cannot overwrite a value", "同一个键写了两次"),
    ("Cannot declare", "同一个表写了两次"),
    ("Cannot mutate immutable namespace", "这个表已经写完，不能再往里加内容"),
    ("Cannot redefine namespace", "这个表已经定义过"),
    ("Duplicate inline table key", "行内表中同一个键写了两次"),
)


def _bad_date(line: str) -> str | None:
    """The first y-m-d text on the line that is not a real date."""
    for m in _DATE.finditer(line):
        try:
            dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
        except ValueError:
            return m.group(0)
        if len(m.group(2)) != 2 or len(m.group(3)) != 2:
            return m.group(0)
    return None


def toml_problem(text: str, error: tomllib.TOMLDecodeError) -> Problem:
    """One ``toml.malformed`` problem for ``error`` raised while reading ``text``."""
    raw = str(error)
    where = _WHERE.search(raw)
    what = raw[: where.start()] if where else raw
    lines = text.splitlines()
    if where and where.group(1):
        line_no, col = int(where.group(1)), int(where.group(2))
        at_zh, at_en = f"第 {line_no} 行第 {col} 列", f"line {line_no}, column {col}"
    else:
        line_no, col = len(lines), 0
        at_zh, at_en = "文件末尾", "end of file"
    line = lines[line_no - 1].strip() if 0 < line_no <= len(lines) else ""
    zh_what = next((zh for start, zh in _ZH if what.startswith(start)), "格式错误")
    if what.startswith("Illegal character '\\n'"):  # a string that runs to the end of its line
        zh_what = "文字缺少结尾的双引号"
    bad = _bad_date(line)
    if bad is not None:
        zh_what = (
            f"{bad} 不是有效日期：日期写成 年-月-日，如 2026-12-15（不加引号，月份 01–12，"
            "日期不超过当月天数，个位数前补 0）"
        )
        what = (
            f"{bad} is not a valid date: write year-month-day like 2026-12-15 (no quotes, "
            "month 01-12, a day that exists, two digits each)"
        )
    shown_zh = f"：{line}" if line else ""
    shown_en = f": {line}" if line else ""
    return Problem(
        code="toml.malformed",
        path="",
        zh=f"TOML 格式错误，{at_zh}：{zh_what}{shown_zh}",
        en=f"malformed TOML at {at_en}: {what}{shown_en}",
    )


def load_toml(text: str) -> dict[str, Any]:
    """``tomllib.loads``, every failure a ``DefinitionError`` with one ``toml.malformed`` problem.

    ``tomllib`` recurses once per nested array or inline table: text nested deeper than Python's
    recursion limit (``a = [[[[…``) raises ``RecursionError``, refused here like any bad TOML.
    """
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise DefinitionError((toml_problem(text, e),)) from e
    except RecursionError as e:
        raise DefinitionError(
            (
                Problem(
                    code="toml.malformed",
                    path="",
                    zh="TOML 格式错误：列表或行内表嵌套过深",
                    en="malformed TOML: arrays or inline tables nested too deep",
                ),
            )
        ) from e
