"""The verifier report's round listing (spec/bundle.md §6.1): the renderer alone, on fixed values."""

from __future__ import annotations

import json

from verifier.report import (
    ClauseResult,
    ElectedPerson,
    Report,
    RoundLine,
    Status,
    render_json,
    render_text,
)

NAMES = (("M001", "王建国"), ("M002", "李秀英"), ("M003", "张伟"), ("M004", "刘洋"))
ROUNDS = (
    RoundLine("committee", 1, "quorum_failed", "first", "assembly", 2, ("M001", "M002", "M003"),
              expected=25, present=19),
    RoundLine("committee", 1, "void", "first", "assembly", 2, ("M001", "M002", "M003"),
              expected=25, present=23, issued=23, returned=24),
    RoundLine("committee", 2, "counted", "first", "assembly", 2, ("M001", "M002", "M003"),
              expected=25, present=23, issued=23, returned=23, valid=22, invalid=1,
              base_kind="E", base=25, minimum=13,
              approvals=(("M001", 20), ("M002", 15), ("M003", 15), ("M004", 1)),
              elected=("M001",), tied=("M002", "M003"), tied_seats=1, revote_of=1),
    RoundLine("committee", 3, "counted", "runoff", "assembly", 1, ("M002", "M003"),
              expected=25, present=23, issued=23, returned=22, valid=22, invalid=0,
              base_kind="E", approvals=(("M002", 12), ("M003", 10)), elected=("M002",)),
    RoundLine("secretary", 1, "counted", "first", "plenary", 1, ("M001", "M002"),
              expected=2, present=2, issued=2, returned=2, valid=2, invalid=0,
              base_kind="N", base=2, minimum=2, approvals=(("M001", 2), ("M002", 0)),
              elected=("M001",)),
)  # fmt: skip
REPORT = Report(
    bundle="b",
    clauses=(ClauseResult("V1", Status.PASSED),),
    elected=(("committee", ("M001", "M002")), ("secretary", ("M001",))),
    rounds=ROUNDS,
    elected_persons=(
        ElectedPerson("committee", "M001", 2, 20),
        ElectedPerson("committee", "M002", 3, 12),
        ElectedPerson("secretary", "M001", 1, 2),
    ),
    names=NAMES,
)


def _block(text: str, head: str) -> list[str]:
    lines = text.splitlines()
    i = next(i for i, line in enumerate(lines) if line.startswith(head))
    out = [lines[i]]
    for line in lines[i + 1 :]:
        if not line.startswith("    "):
            break
        out.append(line)
    return out


def test_each_counted_round_has_its_own_numbers_and_threshold_line_R13() -> None:
    block = _block(render_text(REPORT), "  第2轮")
    assert block[0] == "  第2轮 第一次选举（党员大会，应选 2 名，第1轮无效后重新投票）"
    assert block[1] == (
        "    应到 E 25 人，实到 23 人；发出选票 23 张，收回 23 张，有效 22 张，无效 1 张"
    )
    assert block[2] == (
        "    当选票数线：以应到会有选举权人数 25 人为基数，得票不少于 13 票（超过半数，R13）"
    )
    assert block[3:7] == [
        "    王建国（M001）：20 票，当选",
        "    李秀英（M002）：15 票，并列",
        "    张伟（M003）：15 票，并列",
        "    刘洋（M004）：1 票",
    ]
    assert block[7] == "    并列者争 1 个名额，须再次投票（R15）"


def test_a_runoff_has_no_threshold_line_and_says_so_R15() -> None:
    block = _block(render_text(REPORT), "  第3轮")
    assert "再次投票" in block[0]
    assert "    再次投票不设当选票数线，得票多者当选（R15）" in block
    assert not any("当选票数线：" in line for line in block)
    en = _block(render_text(REPORT, "en"), "  round 3,")
    assert "    runoff: no threshold line; the most approvals win (R15)" in en
    assert not any("threshold line: base" in line for line in en)


def test_a_void_round_shows_issued_and_returned_and_counts_nothing_R11() -> None:
    text = render_text(REPORT)
    lines = text.splitlines()
    i = lines.index("    应到 E 25 人，实到 23 人；发出选票 23 张，收回 24 张")
    assert lines[i + 1] == "    收回选票多于发出选票，本轮选举无效，不计票，须重新投票（R11）"
    assert lines[i + 2].startswith("  第2轮")


def test_a_quorum_failed_round_is_listed_with_E_and_P_RS2() -> None:
    lines = render_text(REPORT).splitlines()
    assert lines[lines.index("委员选举轮次：") + 1] == "  第1轮 第一次选举（党员大会，应选 2 名）"
    assert "    法定人数不足，本轮未能进行（应到 E 25 人，实到 19 人）" in lines
    en = render_text(REPORT, "en").splitlines()
    assert "    quorum not met, the round did not open (expected E 25, present 19)" in en


def test_plenary_threshold_counts_committee_members_N_R21() -> None:
    block = _block(render_text(REPORT), "  第1轮 第一次选举（委员会全体会议")
    assert "    当选票数线：以委员会委员总数 2 人为基数，得票不少于 2 票（超过半数，R13）" in block
    en = render_text(REPORT, "en")
    assert "threshold line: base 2 (committee members N), at least 2 approvals" in en


def test_each_elected_person_shows_the_round_and_its_approvals_by_name() -> None:
    lines = render_text(REPORT).splitlines()
    i = lines.index("当选委员：")
    assert lines[i + 1 : i + 3] == [
        "  王建国（M001）：第2轮当选，得 20 票",
        "  李秀英（M002）：第3轮当选，得 12 票",
    ]
    assert "  王建国（M001）：第1轮当选，得 2 票" in lines[lines.index("当选书记：") :]
    en = render_text(REPORT, "en").splitlines()
    assert "  李秀英 (M002): elected in round 3 with 12 approvals" in en
    assert not any(line.startswith("当选委员：M") for line in lines)


def test_a_member_without_a_roster_name_is_shown_by_id() -> None:
    report = Report(
        bundle="b",
        clauses=(),
        elected=(("committee", ("M009",)),),
        elected_persons=(ElectedPerson("committee", "M009", 1, 7),),
    )
    assert "  M009：第1轮当选，得 7 票" in render_text(report).splitlines()


def test_elected_without_round_detail_still_names_people() -> None:
    report = Report(bundle="b", clauses=(), elected=(("secretary", ("M001",)),), names=NAMES)
    assert "当选书记：王建国（M001）" in render_text(report).splitlines()


def test_json_carries_every_round_with_ids_and_names() -> None:
    doc = json.loads(render_json(REPORT))
    rounds = doc["rounds"]
    assert [(r["round"], r["status"]) for r in rounds] == [
        (1, "quorum_failed"),
        (1, "void"),
        (2, "counted"),
        (3, "counted"),
        (1, "counted"),
    ]
    assert "issued" not in rounds[0] and rounds[0]["present"] == 19
    assert (rounds[1]["issued"], rounds[1]["returned"]) == (23, 24)
    assert "approvals" not in rounds[1]
    second = rounds[2]
    assert second["threshold"] == {"base_kind": "E", "base": 25, "minimum": 13}
    assert second["revote_of"] == 1
    assert (second["valid_ballots"], second["invalid_ballots"]) == (22, 1)
    assert second["approvals"][0] == {"member": "M001", "name": "王建国", "approvals": 20}
    assert (second["tied"], second["tied_seats"]) == (["M002", "M003"], 1)
    assert second["candidates"][2] == {"member": "M003", "name": "张伟"}
    assert rounds[3]["threshold"] is None
    assert doc["elected_persons"]["committee"] == [
        {"member": "M001", "name": "王建国", "round": 2, "approvals": 20},
        {"member": "M002", "name": "李秀英", "round": 3, "approvals": 12},
    ]
    assert doc["elected"] == {"committee": ["M001", "M002"], "secretary": ["M001"]}
