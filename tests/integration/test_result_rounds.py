"""`tally result` and `tally status` tell every round (RULES A13): each post's rounds with their
own threshold, and each elected person (name, id in brackets) with the round and the approvals
that elected them, in Chinese, in English and as JSON; compared with the published bundle."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from tests.helpers.cli_election import PRESENT, Election, checked_in, marks_for

SECRETARY = [*["ox"] * 14, *["xo"] * 9]


def _election(tmp_path: Path, present: list[str] = PRESENT) -> Election:
    return checked_in(tmp_path, present)


def _publish(e: Election) -> tuple[Path, list[dict[str, Any]]]:
    e.cosign()
    out = e.publish()
    outcomes = json.loads((out / "bundle" / "outcomes.json").read_text())["rounds"]
    return out / "bundle", outcomes


def _names(bundle: Path) -> dict[str, str]:
    manifest = json.loads((bundle / "manifest.json").read_text())["manifest"]["definition"]
    return {m["id"]: m["name"] for m in manifest["members"]}


def _check_json(posts: list[dict[str, Any]], outcomes: list[dict[str, Any]], bundle: Path) -> None:
    """The JSON view equals the bundle: every round, every count, every elected's round."""
    names = _names(bundle)
    result = json.loads((bundle / "result.json").read_text())
    assert {p["post"]: [e["member"] for e in p["elected"]] for p in posts} == result["elected"]
    for p in posts:
        mine = [o for o in outcomes if o["post"] == p["post"]]
        assert [r["round"] for r in p["rounds"]] == [o["round"] for o in mine]
        for r, o in zip(p["rounds"], mine, strict=True):
            if o["type"] == "round.void":
                assert (r["status"], r["issued"], r["returned"], r["approvals"]) == (
                    "void",
                    o["issued"],
                    o["returned"],
                    [],
                )
                assert r["threshold"] is None
                continue
            assert r["status"] == "counted"
            assert r["threshold"] == (o["minimum"] or None)
            assert (r["base"], r["valid_ballots"], r["invalid_ballots"]) == (
                o["base"],
                o["valid_ballots"],
                o["invalid_ballots"],
            )
            assert r["approvals"] == [
                {
                    "member": a["member"],
                    "name": names[a["member"]],
                    "approvals": a["approvals"],
                    "elected": a["member"] in o["elected"],
                }
                for a in o["approvals"]
            ]
        for el in p["elected"]:
            (won,) = [o for o in mine if el["member"] in o.get("elected", ())]
            votes = {a["member"]: a["approvals"] for a in won["approvals"]}
            assert (el["name"], el["round"], el["approvals"]) == (
                names[el["member"]],
                won["round"],
                votes[el["member"]],
            )


def test_result_and_status_show_further_round_winners_with_that_rounds_approvals_A13(
    tmp_path: Path,
) -> None:
    e = _election(tmp_path)
    e.vote("committee", 1, marks_for([20, 18, 16, 10, 9, 8], 23, 5))
    e.vote("committee", 2, marks_for([15, 14, 3], 23, 2))
    e.vote("secretary", 1, SECRETARY)
    text = e.ok("result", str(e.db), "--key", str(e.wg))
    bundle, outcomes = _publish(e)
    assert (
        "委员：丁建国（M001）、马秀英（M002）、王卫东（M003）、刘海燕（M004）、李志强（M005）"
        in text
    )
    assert "刘海燕（M004）：第2轮（另行选举）得 15 票" in text
    assert "李志强（M005）：第2轮（另行选举）得 14 票" in text
    assert "第1轮得 10 票" not in text and "第1轮得 9 票" not in text
    assert (
        "  第1轮：发出 23 张，收回 23 张，有效 23 张，无效 0 张；当选票数线 13 票（基数 25）"
        in text
    )
    assert (
        "  第2轮（另行选举）：发出 23 张，收回 23 张，有效 23 张，无效 0 张；当选票数线 13 票"
        in text
    )
    # The rounds as listed, in order: each candidate line under its own round.
    block = text[text.index("委员（应选 5 名）各轮：") : text.index("书记（应选 1 名）各轮：")]
    assert re.findall(r"(\S+（M\d+）)：(\d+) 票(  当选)?", block) == [
        ("丁建国（M001）", "20", "  当选"),
        ("马秀英（M002）", "18", "  当选"),
        ("王卫东（M003）", "16", "  当选"),
        ("刘海燕（M004）", "10", ""),
        ("李志强（M005）", "9", ""),
        ("张桂兰（M006）", "8", ""),
        ("刘海燕（M004）", "15", "  当选"),
        ("李志强（M005）", "14", "  当选"),
        ("张桂兰（M006）", "3", ""),
    ]
    status = e.json("status", str(e.db))
    _check_json(status["posts"], outcomes, bundle)
    en = e.ok("status", str(e.db), "--lang", "en")
    assert "round 2 (further): 23 issued, 23 returned, 23 valid, 0 invalid; threshold 13" in en
    assert "刘海燕 (M004) round 2 (further): 15" in en


def test_result_json_and_status_show_the_runoff_and_the_round_that_passed_the_line_A13(
    tmp_path: Path,
) -> None:
    e = _election(tmp_path)
    e.vote("committee", 1, marks_for([20, 20, 18, 16, 15, 15], 23, 5))
    e.vote("committee", 2, [*["ox"] * 12, *["xo"] * 11])
    e.vote("secretary", 1, SECRETARY)
    data = e.json("result", str(e.db), "--key", str(e.wg))
    bundle, outcomes = _publish(e)
    _check_json(data["posts"], outcomes, bundle)
    committee = data["posts"][0]
    assert committee["rounds"][1]["purpose"] == "runoff"
    assert committee["rounds"][1]["threshold"] is None
    assert committee["elected"][-1] == {
        "member": "M005",
        "name": "李志强",
        "round": 2,
        "approvals": 12,
        "passed_round": 1,
        "passed_approvals": 15,
    }
    zh = e.ok("status", str(e.db))
    assert (
        "第2轮（再次投票）：发出 23 张，收回 23 张，有效 23 张，无效 0 张；再次投票，不适用当选票数线"
        in zh
    )
    assert "李志强（M005）：第2轮（再次投票）得 12 票（第1轮 15 票，已过当选票数线）" in zh
    en = e.ok("status", str(e.db), "--lang", "en")
    assert "李志强 (M005) round 2 (runoff): 12 (passed the threshold in round 1 with 15)" in en


def test_result_in_english_lists_the_void_round_and_its_revote_A13(tmp_path: Path) -> None:
    e = _election(tmp_path)
    e.vote("committee", 1, ["ooooox"] * 23, returned=24)
    e.vote("committee", 2, ["ooooox"] * 23)
    e.vote("secretary", 1, SECRETARY)
    en = e.ok("result", str(e.db), "--key", str(e.wg), "--lang", "en")
    bundle, outcomes = _publish(e)
    assert "committee: 丁建国 (M001), 马秀英 (M002)" in en
    assert "round 1: 23 issued, 24 returned: more returned than issued, VOID, not counted" in en
    assert "round 2 (re-vote of round 1): 23 issued, 23 returned, 23 valid, 0 invalid" in en
    assert "丁建国 (M001) round 2 (re-vote of round 1): 23" in en
    _check_json(e.json("status", str(e.db))["posts"], outcomes, bundle)
    zh = e.ok("status", str(e.db))
    assert "第1轮：发出 23 张，收回 24 张，收回多于发出，本轮无效，不计票（R11）" in zh


def test_status_lists_a_round_not_held_for_want_of_a_quorum_R5_A13(tmp_path: Path) -> None:
    e = _election(tmp_path, PRESENT[:20])
    e.print_stock("committee", 1, 25)
    e.fails("issue", str(e.db), "--key", str(e.wg))
    zh = e.ok("status", str(e.db))
    assert "第1轮（未能举行）：应到 25 人，实到 20 人，未达到法定人数，会议无效，未投票（R5）" in zh
    (committee,) = e.json("status", str(e.db))["posts"]
    (failed,) = committee["rounds"]
    assert (failed["status"], failed["present"], failed["expected"], failed["threshold"]) == (
        "quorum_failed",
        20,
        25,
        None,
    )
    e.checkin(PRESENT[20:21])
    e.vote("committee", 1, ["ooooox"] * 21)
    (committee,) = e.json("status", str(e.db))["posts"][:1]
    assert [(r["round"], r["status"]) for r in committee["rounds"]] == [
        (1, "quorum_failed"),
        (1, "counted"),
    ]
    assert [x["round"] for x in committee["elected"]] == [1] * 5
