"""姓氏笔画为序: ordering names by the packaged stroke table (tech notes §6)."""

from __future__ import annotations

import random

import pytest

from tally.strokes import (
    EmptyNameError,
    UnknownCharacterError,
    default_table,
    stroke_key,
    suggest_order,
)

SURNAMES = list("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗丁于万")
EXPECTED_GROUPS = (
    "丁 | 于 万 马 | 王 | 朱 刘 孙 | 李 杨 吴 何 张 陈 | 林 罗 周 | 赵 胡 | 徐 高 郭 | 黄"
)


def test_common_surnames_sort_by_count_then_stroke_sequence() -> None:
    expected = tuple(EXPECTED_GROUPS.replace("|", "").split())
    assert suggest_order(SURNAMES) == expected


def test_common_surnames_order_does_not_depend_on_input_order() -> None:
    expected = tuple(EXPECTED_GROUPS.replace("|", "").split())
    rng = random.Random(20261128)
    for _ in range(20):
        shuffled = SURNAMES[:]
        rng.shuffle(shuffled)
        assert suggest_order(shuffled) == expected


def test_groups_of_common_surnames_share_their_stroke_count() -> None:
    groups = [group.split() for group in EXPECTED_GROUPS.split("|")]
    counts = [{stroke_key(name)[0][0] for name in group} for group in groups]
    assert counts == [{2}, {3}, {4}, {6}, {7}, {8}, {9}, {10}, {11}]


def test_da_has_six_strokes_and_sorts_between_guo_and_zhu() -> None:
    assert stroke_key("达")[0][0] == 6
    assert suggest_order(["朱", "达", "过", "白", "叶"]) == ("叶", "白", "过", "达", "朱")


def test_da_follows_hui_and_precedes_shu_within_six_strokes() -> None:
    assert suggest_order(["戍", "达", "灰"]) == ("灰", "达", "戍")


def test_a_name_that_is_a_prefix_sorts_first_then_next_character_decides() -> None:
    assert suggest_order(["王建国", "王小明", "王一", "王"]) == ("王", "王一", "王小明", "王建国")


def test_surname_decides_before_given_name() -> None:
    # 丁 (2 strokes) before 王 (4) whatever the given names' strokes are.
    assert suggest_order(["王一", "丁鑫鑫"]) == ("丁鑫鑫", "王一")


def test_name_key_is_the_tuple_of_its_character_keys() -> None:
    assert stroke_key("王小明") == stroke_key("王") + stroke_key("小") + stroke_key("明")


@pytest.mark.parametrize(
    "dotted",
    ["阿依古丽·买买提", "阿依古丽\u30fb买买提", "阿依古丽\u2027买买提", "阿依古丽\uff65买买提"],
    ids=["U+00B7", "U+30FB", "U+2027", "U+FF65"],
)
def test_middle_dot_in_minority_names_is_ignored(dotted: str) -> None:
    assert stroke_key(dotted) == stroke_key("阿依古丽买买提")


def test_names_are_nfc_normalised_so_compatibility_ideographs_match() -> None:
    assert stroke_key("\uf900") == stroke_key("\u8c48")  # 豈 (compatibility) -> 豈


def test_suggest_order_is_stable_for_equal_keys_and_returns_names_as_given() -> None:
    assert suggest_order(["阿依·古丽", "阿依古丽"]) == ("阿依·古丽", "阿依古丽")
    assert suggest_order(["阿依古丽", "阿依·古丽"]) == ("阿依古丽", "阿依·古丽")
    assert suggest_order(["\uf900", "王"]) == ("王", "\uf900")  # 豈 (10 strokes) kept as given


def test_suggest_order_of_nothing_is_empty() -> None:
    assert suggest_order([]) == ()


def test_table_is_loaded_once() -> None:
    assert default_table() is default_table()


@pytest.mark.parametrize(
    ("name", "char"),
    [
        ("𠮷小明", "𠮷"),
        ("Wang", "W"),
        ("王a", "a"),
        ("王 小明", " "),
        ("王〇", "〇"),
        ("乬", "乬"),
    ],
    ids=["ext-b-ji", "latin", "latin-in-given-name", "space", "ideographic-zero", "withdrawn"],
)
def test_unknown_character_raises_naming_character_and_name(name: str, char: str) -> None:
    with pytest.raises(UnknownCharacterError) as info:
        stroke_key(name)
    error = info.value
    assert (error.code, error.char, error.name) == ("strokes.unknown_character", char, name)
    assert char in error.zh
    assert name in error.zh
    assert "overrides.txt" in error.zh
    assert "overrides" in error.en
    assert str(error) == error.en


def test_suggest_order_raises_on_any_unknown_character_instead_of_placing_it() -> None:
    with pytest.raises(UnknownCharacterError) as info:
        suggest_order(["王", "李", "𠮷"])
    assert info.value.char == "𠮷"


@pytest.mark.parametrize("name", ["", "·", "·\u30fb"], ids=["empty", "only-dot", "only-dots"])
def test_empty_name_raises(name: str) -> None:
    with pytest.raises(EmptyNameError) as info:
        stroke_key(name)
    assert info.value.code == "strokes.empty_name"
    assert str(info.value) == info.value.en
