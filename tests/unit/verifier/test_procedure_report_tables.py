"""The pieces of the verifier's procedure report tables (spec/procedure.md RP-13.1, RP-5.5): the
rule written out from the definition's fraction and comparison, display widths for aligned CJK
columns, the objections and appointment of V30 as text, and the gates: the ranking is the
verifier's own and an item whose clauses did not pass shows nothing but what it is."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from tally.core.procedure import render_procedure
from tests.helpers.procedure import build
from verifier.procedure.definition import parse_counting
from verifier.procedure.log import Entry
from verifier.procedure.report_tables import (
    Recounted,
    chinese_number,
    fail_rule,
    fraction_en,
    fraction_zh,
    procedure_tables,
)
from verifier.procedure.report_text import display_width, render_tables, table

DEFINITION = render_procedure(build())
COUNTING = parse_counting(DEFINITION)
ORDER = COUNTING.ballot_order
AT = dt.datetime(2026, 11, 2, 9, 0, tzinfo=dt.UTC)
SCALE = {
    "b": {"zh": "基本满意", "en": "basically satisfied"},
    "d": {"zh": "不满意", "en": "dissatisfied"},
}


@pytest.mark.parametrize(
    ("n", "zh"),
    [(1, "一"), (3, "三"), (10, "十"), (12, "十二"), (20, "二十"), (35, "三十五"), (100, "一百")],
)
def test_chinese_numerals_for_the_fractions_denominators(n: int, zh: str) -> None:
    assert chinese_number(n) == zh


def test_fractions_are_written_in_words() -> None:
    assert fraction_zh(1, 3) == "三分之一" and fraction_zh(2, 5) == "五分之二"
    assert fraction_en(1, 3) == "one third" and fraction_en(2, 5) == "two fifths"
    assert fraction_en(1, 2) == "one half" and fraction_en(7, 20) == "7/20"


def test_rp_5_5_the_default_rule_is_more_than_one_third_dissatisfied() -> None:
    rule = fail_rule(COUNTING, SCALE, 30)
    assert rule["zh"] == "不满意票超过有效测评票三分之一的，不进入下一步"
    assert rule["en"] == (
        "a person does not proceed when the dissatisfied (不满意) ballots exceed one third of the "
        "valid ballots"
    )
    assert rule["from"] == 11  # RP-5.5: V = 30, f = 10 proceeds, f = 11 does not


def test_rp_5_5_ge_and_several_fail_letters_are_written_out() -> None:
    d = dataclasses.replace(
        COUNTING,
        fail_letters=frozenset({"b", "d"}),
        fail_numerator=2,
        fail_denominator=5,
        fail_comparison="GE",
    )
    rule = fail_rule(d, SCALE, 30)
    assert rule["zh"] == "基本满意、不满意票合计达到或超过有效测评票五分之二的，不进入下一步"
    assert "basically satisfied and dissatisfied" in rule["en"] and "reach or exceed" in rule["en"]
    assert rule["from"] == 12  # 5*12 >= 2*30
    assert rule["fail_letters"] == ["b", "d"]  # in scale order


def test_rp_5_5_the_least_failing_count_matches_the_comparison() -> None:
    for valid in range(1, 61):
        for cmp in ("GT", "GE"):
            d = dataclasses.replace(COUNTING, fail_comparison=cmp)
            least = fail_rule(d, SCALE, valid)["from"]

            def fails(f: int, cmp: str = cmp, valid: int = valid) -> bool:
                return 3 * f > valid if cmp == "GT" else 3 * f >= valid

            assert fails(least) and not fails(least - 1), (valid, cmp)


def test_cjk_characters_take_two_columns() -> None:
    assert display_width("马秀英（M002）") == 14
    assert display_width("abc") == 3
    assert display_width("e\u0301") == 1  # a combining mark takes none


def test_a_table_aligns_cjk_names_and_numbers_to_the_right() -> None:
    lines = table(("姓名", "票数"), [["马秀英", 12], ["Li Wei", 3]], "  ")
    assert lines == ["  姓名    票数", "  马秀英    12", "  Li Wei     3"]
    assert len({display_width(line) for line in lines}) == 1


def _appointed(check: str = "passed") -> dict[str, object]:
    objection = {
        "reference": "YY-2026-00001", "check": check, "withheld_by": [],
        "received": "2026-12-20", "channel": "form", "timing": "during",
        "about": {"member": "M004", "name": "刘海燕"}, "finding": "substantiated",
        "effect": "not_appointed", "concluded": "2026-12-24",
    }  # fmt: skip
    appointment = {
        "check": "passed", "withheld_by": [], "date": "2027-01-05", "decision": "approved",
        "reference": "红组〔2027〕1号",
        "persons": [{"post": "committee", "member": "M004", "name": "刘海燕",
                     "status": "not_appointed", "objections": ["YY-2026-00001"]}],
    }  # fmt: skip
    return {"objections": [objection], "appointment": appointment}


def test_v30_the_objections_and_the_appointment_read_as_tables() -> None:
    zh = render_tables(_appointed())
    assert zh[0] == "六、异议和审批任命"
    assert zh[1] == "  异议"
    assert zh[3].split() == [
        "YY-2026-00001", "网上表单", "公示期内", "刘海燕（M004）", "属实", "不予任命", "2026-12-20",
        "2026-12-24",
    ]  # fmt: skip
    assert "  审批任命：2027-01-05，批准（红组〔2027〕1号）" in zh
    en = render_tables(_appointed(), "en")
    assert "substantiated" in en[3] and "刘海燕 (M004)" in en[3]


def test_v30_an_objection_about_the_whole_election_names_nobody() -> None:
    doc = _appointed()
    doc["objections"][0]["about"] = None  # type: ignore[index]
    assert "整个选举" in render_tables(doc)[3]


def test_v30_withheld_objections_say_which_clause_failed() -> None:
    doc = _appointed()
    doc["objections"][0] = {"reference": "YY-2026-00001", "check": "failed",  # type: ignore[index]
                            "withheld_by": ["V30"], **dict.fromkeys(("received", "about"))}  # fmt: skip
    lines = render_tables(doc)
    assert "  异议 （V30 未通过，不予显示）" in lines
    assert not any("2026-12-20" in line for line in lines)


# --------------------------------------------------------------------------- gates


def _material() -> Recounted:
    """Both groups counted for the committee, then proposals version 1 and 2 (a supplement)."""
    a, b, c = ORDER[:3]
    counts = {
        1: {"group": "member", "post": "committee", "round": 1, "valid_ballots": 3,
            "invalid_ballots": 1,
            "recommendations": [{"member": a, "recommendations": 3},
                                {"member": b, "recommendations": 1}],
            "not_counted": [{"reason": "not_on_roster", "count": 1}],
            "written_names": [{"name": "张三", "reason": "not_on_roster"}]},
        2: {"group": "public", "post": "committee", "round": 1, "valid_ballots": 2,
            "invalid_ballots": 0,
            "recommendations": [{"member": b, "recommendations": 2},
                                {"member": c, "recommendations": 1}],
            "not_counted": [], "written_names": []},
    }  # fmt: skip
    recorded = {"recommendations": [], "valid_ballots": 99}  # never shown
    entries = [
        Entry(s, "recommendation.counted", AT, {**c_, **recorded}, b"") for s, c_ in counts.items()
    ]
    for version, member, basis in ((1, a, "rank"), (2, c, "supplement")):
        body = {"version": version, "election_date": "2026-12-01",
                "posts": [{"post": "committee", "names": [
                    {"member": member, "basis": basis, "member_recommendations": 0,
                     "public_recommendations": 0, "score": 0}], "omitted": []}]}  # fmt: skip
        entries.append(Entry(len(entries) + 1, "preliminary.proposed", AT, body, b""))
    return Recounted(DEFINITION, COUNTING, tuple(entries), counts)


def _all(status: str = "passed", **clauses: str) -> dict[str, str]:
    return {f"V{n}": status for n in range(20, 32)} | clauses


def test_rp_13_1_the_ranking_is_the_verifiers_own_with_shared_ranks() -> None:
    doc = procedure_tables(_material(), _all())
    [ranking] = doc["ranking"]
    a, b, c = ORDER[:3]
    assert ranking["valid_ballots"] == {"member": 3, "public": 2}  # not the recorded 99
    # shares 1:1: score = m*Vp + p*Vm = m*2 + p*3
    assert [(p["member"], p["score"], p["rank"]) for p in ranking["persons"]] == [
        (b, 1 * 2 + 2 * 3, 1), (a, 3 * 2, 2), (c, 1 * 3, 3),
    ]  # fmt: skip
    assert ranking["not_counted"] == [
        {"group": "member", "reason": "not_on_roster", "count": 1, "names": ["张三"]}
    ]
    [first_, _] = doc["preliminary"]
    assert first_["names"][0] | {"name": ""} == {
        "member": a, "name": "", "basis": "rank", "member_recommendations": 3,
        "public_recommendations": 0, "score": 6,
    }  # fmt: skip


def test_rp_13_1_a_supplement_is_withheld_while_v26_is_partial() -> None:
    first_, second = procedure_tables(_material(), _all(V26="partial"))["preliminary"]
    assert first_["check"] == "passed"
    assert (second["check"], second["withheld_by"], second["names"]) == (
        "not_checked",
        ["V26"],
        None,
    )
    both = procedure_tables(_material(), _all())["preliminary"]
    assert [p["check"] for p in both] == ["passed", "passed"]


def test_rp_13_1_a_failed_base_clause_withholds_every_table() -> None:
    doc = procedure_tables(_material(), _all(V23="failed", V29="not_checked"))
    items = [*doc["ranking"], *doc["preliminary"]]
    assert {(i["check"], tuple(i["withheld_by"])) for i in items} == {("failed", ("V23",))}
    assert all(i.get("persons") is None and i.get("names") is None for i in items)


def test_rp_3_4_a_void_round_shows_its_ballots_and_no_count() -> None:
    member = {"group": "member", "round": 1, "posts": ["committee"], "present": 20}
    step = {"form": "member", "post": "committee", "round": 1}
    entries = (
        Entry(1, "recommendation.opened", AT, member | {"present_members": list(ORDER[:20])}, b""),
        Entry(2, "ballots.issued", AT, step | {"count": 20}, b""),
        Entry(3, "ballots.returned", AT, step | {"count": 21}, b""),
        Entry(4, "round.void", AT, step | {"issued": 20, "returned": 21}, b""),
    )
    doc = procedure_tables(Recounted(DEFINITION, COUNTING, entries, {}), _all())
    [session] = doc["sessions"]
    assert (session["status"], session["present"], session["issued"], session["returned"]) == (
        "void", 20, 20, 21
    )  # fmt: skip
    assert (session["valid"], session["invalid"], session["check"]) == (None, None, "passed")
    assert "present_members" not in session  # counted, the names are the log's business
    lines = render_tables(doc)
    assert lines[4].split() == ["党员推荐", "1", "作废", "20", "20", "21", "-", "-"]


def test_rp_3_10_the_written_names_not_counted_are_listed_by_reason() -> None:
    lines = render_tables(procedure_tables(_material(), _all()))
    assert "    未计入推荐的书写人选（党员推荐，不在党员名册）1 个：张三" in lines
    en = render_tables(procedure_tables(_material(), _all()), "en")
    assert "    written names not counted (members, not on the roster): 1: 张三" in en


def test_rp_13_1_sum_mode_several_fail_letters_and_every_stop_reason_read_as_text() -> None:
    a, b, c = ORDER[:3]
    d = dataclasses.replace(COUNTING, mode="sum", fail_letters=frozenset({"b", "d"}))
    base = _material()
    opened = {"round": 1, "version": 1, "candidates": [a, b], "present_members": [a],
              "public_present": 39, "present": 40}  # fmt: skip
    step = {"form": "evaluation", "post": "", "round": 1, "count": 40}
    own = {"round": 1, "valid_ballots": 40, "invalid_ballots": 0, "added_rows": 1, "results": [
        {"member": m, "counts": [{"letter": x, "count": n} for x, n in zip("sbd", counts, strict=True)],
         "blank": 0, "unreadable": 0, "fail_count": counts[1] + counts[2], "outcome": outcome}
        for m, counts, outcome in ((a, (30, 5, 5), "proceeds"), (b, (20, 10, 10), "does_not_proceed"))
    ]}  # fmt: skip
    vetting = {"posts": [{"post": "committee", "proceeding": [a], "stopped": [
        {"member": b, "reason": "evaluation", "category": "", "reference": ""},
        {"member": c, "reason": "ten_disqualifications", "category": "td4",
         "reference": "红组〔2026〕7号"}]}]}  # fmt: skip
    n = len(base.entries)
    entries = (
        *base.entries,
        Entry(n + 1, "evaluation.opened", AT, opened, b""),
        Entry(n + 2, "ballots.issued", AT, step, b""),
        Entry(n + 3, "ballots.returned", AT, step, b""),
        Entry(n + 4, "evaluation.counted", AT, {"round": 1}, b""),
        Entry(n + 5, "vetting.recorded", AT, vetting, b""),
    )
    recounts = {**base.recounts, n + 4: own}
    doc = procedure_tables(Recounted(DEFINITION, d, entries, recounts), _all())
    assert doc["evaluation"][0]["rule"]["zh"] == (
        "基本满意、不满意票合计超过有效测评票三分之一的，不进入下一步"
    )
    assert (doc["evaluation"][0]["members_present"], doc["evaluation"][0]["public_present"]) == (
        1, 39
    )  # fmt: skip
    zh = render_tables(doc)
    assert any("综合得分 = 党员推荐票 + 群众推荐票" in line for line in zh)
    head = next(line for line in zh if line.startswith("    姓名（编号）    满意"))
    assert head.split()[-2:] == ["合计", "结果"]
    assert any(line.split()[-2:] == ["20", "不进入下一步"] for line in zh)
    assert "    未进入：丁建国（M001）（测评未通过）" not in zh  # a proceeds
    assert any(
        line.endswith("（十不推：有拉票贿选或其他不正当行为的，红组〔2026〕7号）") for line in zh
    )
    en = render_tables(doc, "en")
    assert any("canvassing, vote buying or other improper conduct" in line for line in en)


def test_v30_a_withheld_appointment_says_so_and_names_nobody() -> None:
    doc = _appointed()
    doc["appointment"] = {"check": "not_checked", "withheld_by": ["V31"],
                          **dict.fromkeys(("date", "decision", "reference", "persons"))}  # fmt: skip
    lines = render_tables(doc)
    assert "  审批任命 （V31 未核验，不予显示）" in lines
    assert not any("不予任命" in line for line in lines if "YY-" not in line)
