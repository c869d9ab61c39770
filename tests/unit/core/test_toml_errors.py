"""TOML syntax and date errors are explained in Chinese and English with the line and column."""

from __future__ import annotations

from pathlib import Path

import pytest

from tally.core.definition import parse_definition
from tally.core.errors import DefinitionError
from tally.core.marks_file import parse_marks_file

EXAMPLE = (Path(__file__).resolve().parents[3] / "examples" / "qingshan.toml").read_text(
    encoding="utf-8"
)


def problem(text: str) -> tuple[str, str]:
    with pytest.raises(DefinitionError) as info:
        parse_definition(text)
    (p,) = info.value.problems
    assert p.code == "toml.malformed"
    return p.zh, p.en


def test_invalid_value_names_line_column_and_the_line_in_both_languages() -> None:
    zh, en = problem(EXAMPLE.replace("seats = 5", "seats = = 5"))
    line = EXAMPLE.splitlines().index("seats = 5") + 1
    assert zh.startswith(f"TOML 格式错误，第 {line} 行第 9 列：值写得不对")
    assert zh.endswith("：seats = = 5")
    assert en.startswith(f"malformed TOML at line {line}, column 9: Invalid value")


@pytest.mark.parametrize("bad", ["2026-13-45", "2026-02-30", "2026-12-5"])
def test_a_date_that_does_not_exist_is_explained_with_the_date_format(bad: str) -> None:
    zh, en = problem(EXAMPLE.replace("date = 2026-12-15", f"date = {bad}"))
    assert "第 11 行" in zh
    assert f"{bad} 不是有效日期：日期写成 年-月-日，如 2026-12-15" in zh
    assert f"{bad} is not a valid date" in en and "line 11" in en


def test_unterminated_string_says_the_closing_quote_is_missing() -> None:
    zh, en = problem('format = "election-definition/1"\ntitle = "abc\n')
    assert zh == 'TOML 格式错误，第 2 行第 13 列：文字缺少结尾的双引号：title = "abc'
    assert "line 2, column 13" in en


def test_error_at_end_of_file_says_so() -> None:
    zh, en = problem('format = "election-definition/1"\nx = [1,\n')
    assert zh.startswith("TOML 格式错误，文件末尾：值写得不对")
    assert en.startswith("malformed TOML at end of file: Invalid value")


def test_marks_file_toml_errors_are_explained_the_same_way() -> None:
    election = parse_definition(EXAMPLE)
    with pytest.raises(DefinitionError) as info:
        parse_marks_file('format = "ballot-marks/1"\n[[steps]\n', election)
    (p,) = info.value.problems
    assert p.zh.startswith("TOML 格式错误，第 2 行第 8 列：表名 [[ ]] 缺少右方括号 ]]")
