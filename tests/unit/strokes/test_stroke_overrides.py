"""The table and overrides formats, on a small synthetic table."""

from __future__ import annotations

import pytest

from tally.strokes import InvalidStrokeDataError, StrokeTable

# Real sequences: 过 124454, 灰 134334, 达 134454, 戍 134534, 朱 311234, 叶 25112, 白 32511.
SMALL = "# comment\n叶\t5\t1\n白\t5\t2\n过\t6\t1\n灰\t6\t2\n戍\t6\t3\n朱\t6\t4\n"


def _table(overrides: str = "") -> StrokeTable:
    return StrokeTable.parse(SMALL, source="small.txt").with_overrides(overrides)


def test_parse_gives_count_and_rank() -> None:
    assert _table().keys["灰"] == (6, 2)


def test_override_replaces_entry_and_places_it_after_its_anchor() -> None:
    raw = SMALL.replace("白\t5\t2\n", "白\t5\t2\n达\t5\t3\n")  # cn-sort's mistake
    table = StrokeTable.parse(raw).with_overrides("达 134454 灰 # fix\n")
    assert table.keys["达"][0] == 6
    assert table.order(["朱", "戍", "达", "灰", "过"]) == ("过", "灰", "达", "戍", "朱")


def test_overrides_sharing_an_anchor_sort_by_stroke_sequence_not_file_order() -> None:
    table = _table("达 134454 灰 # a\n夸 134115 灰 # b\n")  # 夸 is really before 灰; test only
    assert table.order(["戍", "达", "夸", "灰"]) == ("灰", "夸", "达", "戍")


def test_override_may_anchor_after_another_override() -> None:
    table = _table("达 134454 灰 # a\n𠮷 134455 达 # b\n")
    assert table.order(["戍", "𠮷", "达", "灰"]) == ("灰", "达", "𠮷", "戍")


def test_dash_anchor_places_first_within_its_count() -> None:
    table = _table("丰 1112 - # four strokes\n丁 12 - # two strokes\n")
    assert table.order(["叶", "丰", "丁", "过"]) == ("丁", "丰", "叶", "过")
    assert table.keys["丰"][0] == 4


def test_withdraw_removes_the_character() -> None:
    assert "灰" not in _table("灰 withdraw # unverified\n").keys


def test_overrides_file_ignores_blank_and_comment_lines() -> None:
    assert _table("\n# only a comment\n   \n").keys == _table().keys


@pytest.mark.parametrize(
    "overrides",
    [
        "达 134454 灰\n",
        "达 134454 灰 #   \n",
        "达 13445 灰 # wrong count for the anchor\n",
        "达 134464 灰 # digit 6 is not a stroke\n",
        "达 一ノ丶 灰 # not digits\n",
        "达 134454 龘 # anchor not in table\n",
        "达 134454 达 # anchor is itself\n",
        "达 134454 # anchor missing\n",
        "达 134454 灰 extra # too many fields\n",
        "达达 134454 灰 # two characters\n",
        "王 withdraw # not in the table\n",
        "灰 withdraw\n",
        "· 134 灰 # middle dot is not a character\n",
    ],
    ids=[
        "no-reason",
        "blank-reason",
        "count-differs-from-anchor",
        "digit-out-of-range",
        "non-digit-sequence",
        "unknown-anchor",
        "self-anchor",
        "missing-anchor",
        "extra-field",
        "two-characters",
        "withdraw-unknown",
        "withdraw-without-reason",
        "middle-dot",
    ],
)
def test_malformed_override_raises_with_line_number(overrides: str) -> None:
    with pytest.raises(InvalidStrokeDataError) as info:
        _table("# first line\n" + overrides)
    assert (info.value.code, info.value.source, info.value.line) == (
        "strokes.invalid_data",
        "overrides.txt",
        2,
    )
    assert "overrides.txt" in info.value.zh


@pytest.mark.parametrize(
    "table",
    [
        "叶\t5\t1\n白\t5\t3\n",
        "叶\t5\t2\n",
        "叶\t5\t1\n叶\t5\t2\n",
        "叶\t6\t1\n白\t5\t1\n",
        "叶\t5\n",
        "叶\tfive\t1\n",
        "叶 5 1\n",
        "\u8c48\t10\t1\n\uf900\t10\t2\n",
    ],
    ids=[
        "rank-gap",
        "rank-not-from-one",
        "duplicate",
        "count-decreases",
        "missing-field",
        "non-numeric",
        "spaces-not-tabs",
        "non-nfc-char",
    ],
)
def test_malformed_table_raises(table: str) -> None:
    with pytest.raises(InvalidStrokeDataError) as info:
        StrokeTable.parse(table, source="t.txt")
    assert info.value.source == "t.txt"
    assert str(info.value).startswith("t.txt line ")
