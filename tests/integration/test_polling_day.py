"""Whole elections through the `tally` CLI, from `manifest sign` to `publish` (issue: polling day).

Each test runs one kind of meeting on the example branches: the normal case, a tie and its runoff,
a shortfall and its further round, a VOID round and its re-vote, the secretary round after the
committee round (assembly and committee plenary), a quorum failure, and a branch without a committee.
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest

import keys
from tests.helpers.cli_election import PRESENT, QINGSHAN, Election, checked_in, make_key, marks_for

ROOT = Path(__file__).resolve().parents[2]
SHIQIAO = ROOT / "examples" / "shiqiao.toml"


@pytest.fixture
def qingshan(tmp_path: Path) -> Election:
    return checked_in(tmp_path)


def test_normal_election_committee_then_secretary_then_publish(qingshan: Election) -> None:
    committee = qingshan.vote(
        "committee",
        1,
        [
            *["ooooox"] * 8,
            *["oxoooo"] * 4,
            *["ooxoox"] * 5,
            *["-oooo-"] * 2,
            ("xxoooo", ["周玉兰"]),
            "oooooo",
            "ooo?ox",
            "------",
        ],
    )
    assert committee["elected"] == ["M001", "M002", "M003", "M004", "M005"]
    assert (committee["valid_ballots"], committee["invalid_ballots"]) == (22, 1)
    assert committee["minimum"] == 13
    secretary = qingshan.vote("secretary", 1, [*["ox"] * 15, *["xo"] * 6, "oo"])
    assert secretary["elected"] == ["M005"]
    status = qingshan.ok("status", str(qingshan.db))
    assert "下一轮" not in status or "选举结束" in status
    out = qingshan.finish()
    bundle = out / "bundle"
    index = json.loads((bundle / "index.json").read_text())
    assert index["format"] == "bundle-index/1"
    names = {f["path"] for f in index["files"]}
    assert {
        "manifest.json",
        "log.jsonl",
        "checkpoints.json",
        "ballots.jsonl",
        "outcomes.json",
        "result.json",
        "stocks/committee-1.json",
        "stocks/secretary-1.json",
    } <= names
    result = json.loads((bundle / "result.json").read_text())
    assert result["elected"] == {
        "committee": ["M005", "M004", "M001", "M002", "M003"],
        "secretary": ["M005"],
    }
    assert (result["publicity_start"], result["publicity_end"]) == ("2026-12-16", "2026-12-22")
    assert len((bundle / "ballots.jsonl").read_text().splitlines()) == 23 + 22
    with zipfile.ZipFile(out / "bundle.zip") as z:
        assert sorted(z.namelist()) == sorted(names | {"index.json"})
    assert (out / "notice.pdf").stat().st_size > 10_000


def test_tie_across_last_seat_opens_runoff_among_tied_R15(qingshan: Election) -> None:
    first = qingshan.vote("committee", 1, marks_for([20, 20, 18, 16, 15, 15], 23, 5))
    assert first["elected"] == ["M001", "M002", "M003", "M004"]
    assert first["tied"] == ["M005", "M006"] and first["tied_seats"] == 1
    status = qingshan.ok("status", str(qingshan.db))
    assert "再次投票" in status
    runoff = qingshan.vote("committee", 2, [*["ox"] * 12, *["xo"] * 11])
    assert runoff["elected"] == ["M005"] and runoff["base"] == 0
    secretary = qingshan.vote("secretary", 1, [*["ox"] * 14, *["xo"] * 9])
    assert secretary["elected"] == ["M005"]
    qingshan.finish()


def test_shortfall_opens_further_round_for_open_seats_R16(qingshan: Election) -> None:
    first = qingshan.vote("committee", 1, marks_for([20, 18, 16, 10, 9, 8], 23, 5))
    assert first["elected"] == ["M001", "M002", "M003"] and first["shortfall"] == 2
    further = qingshan.vote("committee", 2, marks_for([15, 14, 3], 23, 2))
    assert further["elected"] == ["M004", "M005"]
    qingshan.vote("secretary", 1, [*["ox"] * 14, *["xo"] * 9])
    qingshan.finish()


def test_void_round_is_voted_again_with_new_stock_R11(qingshan: Election) -> None:
    void = qingshan.vote("committee", 1, ["ooooox"] * 23, returned=24)
    assert void["void"] is True
    status = qingshan.ok("status", str(qingshan.db))
    assert "第1轮无效后重新投票" in status
    revote = qingshan.vote("committee", 2, ["ooooox"] * 23)
    assert revote["elected"] == ["M001", "M002", "M003", "M004", "M005"]
    qingshan.vote("secretary", 1, [*["ox"] * 14, *["xo"] * 9])
    qingshan.finish()


def test_quorum_failure_is_refused_and_recorded_then_met_after_more_check_ins_R5(
    tmp_path: Path,
) -> None:
    e = Election(tmp_path, QINGSHAN)
    e.checkin(PRESENT[:20])
    e.print_stock("committee", 1, 25)
    out = e.fails("issue", str(e.db), "--key", str(e.wg))
    assert "会议无效" in out and "5P=100" in out
    log = e.json("status", str(e.db))
    assert log["quorum_valid"] is False
    e.checkin(PRESENT[20:21])
    committee = e.vote("committee", 1, ["ooooox"] * 21)
    assert committee["elected"] == ["M001", "M002", "M003", "M004", "M005"]
    e.vote("secretary", 1, ["ox"] * 21)
    e.finish()


def test_secretary_candidate_not_elected_to_committee_blocks_until_amended_list_R20(
    qingshan: Election,
) -> None:
    first = qingshan.vote("committee", 1, marks_for([20, 18, 16, 15, 5, 14], 23, 5))
    assert "M005" not in first["elected"]
    out = qingshan.fails("issue", str(qingshan.db), "--key", str(qingshan.wg))
    assert "镇党委签署调整后的候选人名单" in out
    qingshan.amend("secretary", "M004", "M002")
    sec = qingshan.vote("secretary", 1, [*["ox"] * 14, *["xo"] * 9])
    assert sec["elected"] == ["M004"]
    qingshan.finish()


def test_committee_plenary_elects_secretary_with_its_own_quorum_R21(tmp_path: Path) -> None:
    text = QINGSHAN.read_text(encoding="utf-8").replace(
        'elected_by = "assembly"', 'elected_by = "committee"'
    )
    definition = tmp_path / "plenary.toml"
    definition.write_text(text, encoding="utf-8")
    e = Election(tmp_path, definition)
    e.checkin(PRESENT)
    e.vote("committee", 1, ["ooooox"] * 23)
    # The plenary's scrutineer is a committee member who is not a secretary candidate (R25.2).
    four = [a for m in ("M001", "M002", "M003", "M004") for a in ("--member", m)]
    no_officials = e.fails("issue", str(e.db), "--key", str(e.wg), *four)
    assert "不是新一届委员，不能担任委员会全体会议的监票人" in no_officials
    e.ok("officials", str(e.db), "--scrutineer", "M001", "--teller", "M011")
    too_few = e.fails(
        "issue",
        str(e.db),
        "--key",
        str(e.wg),
        "--member",
        "M001",
        "--member",
        "M002",
        "--member",
        "M003",
    )
    assert "委员会全体会议" in too_few
    sec = e.vote("secretary", 1, ["ox", "ox", "ox", "xo"], members=["M001", "M002", "M003", "M004"])
    assert sec["elected"] == ["M005"] and sec["base"] == 5 and sec["minimum"] == 3
    e.finish()


def test_branch_without_committee_elects_secretary_directly_R23(tmp_path: Path) -> None:
    e = Election(tmp_path, SHIQIAO)
    e.checkin(["S001", "S002", "S003", "S004", "S005"])
    out = e.vote("secretary", 1, ["ox", "ox", "ox", "ox", "xo"])
    assert out["elected"] == ["S002"] and out["minimum"] == 4
    published = e.finish()
    assert (published / "bundle" / "result.json").exists()


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["checkin", "M029"], "不是应到会的有选举权党员"),
        (["checkin", "王伟"], "请用编号"),
        (["checkin", "M001"], "已经签到"),
        (["close"], "没有进行中的轮次"),
        (["return", "--count", "3"], "请先发出选票"),
    ],
    ids=["party-probation", "homonym", "twice", "close-before-open", "return-before-issue"],
)
def test_each_refusal_says_why_and_stores_nothing(
    qingshan: Election, args: list[str], needle: str
) -> None:
    before = qingshan.json("status", str(qingshan.db))["log_entries"]
    extra = ["--key", str(qingshan.wg)] if args[0] in ("close", "return") else []
    out = qingshan.fails(args[0], str(qingshan.db), *args[1:], *extra)
    assert needle in out
    assert qingshan.json("status", str(qingshan.db))["log_entries"] == before


def test_forged_other_round_and_duplicate_ballots_are_refused(qingshan: Election) -> None:
    texts = qingshan.print_stock("committee", 1, 25)
    secretary = qingshan.print_stock("secretary", 1, 3)
    qingshan.ok("issue", str(qingshan.db), "--key", str(qingshan.wg))
    qingshan.ok("return", str(qingshan.db), "--count", "23", "--key", str(qingshan.wg))
    db = str(qingshan.db)
    qingshan.ok("enter", db, "--qr", texts[0], "--marks", "ooooox")
    assert "已经录入过" in qingshan.fails("enter", db, "--qr", texts[0], "--marks", "ooooox")
    assert "书记" in qingshan.fails("enter", db, "--qr", secretary[0], "--marks", "ooooox")
    forged = texts[1][:-6] + ("AAAAAA" if not texts[1].endswith("AAAAAA") else "BBBBBB")
    assert "签名无效" in qingshan.fails("enter", db, "--qr", forged, "--marks", "ooooox")
    assert "标记数应为 6" in qingshan.fails("enter", db, "--qr", texts[1], "--marks", "ooo")
    # A batch with one bad ballot stores none of it.
    batch = qingshan.folder / "bad.jsonl"
    batch.write_text(
        "\n".join(
            json.dumps({"qr": t, "marks": m}) for t, m in [(texts[2], "ooooox"), (texts[3], "oo")]
        ),
        encoding="utf-8",
    )
    assert "第 2 张" in qingshan.fails("enter", db, "--batch", str(batch))
    assert qingshan.json("status", db)["round"]["entered"] == 1
    # Double entry: a mismatch between two tellers is shown and nothing is entered.
    second = qingshan.folder / "second.jsonl"
    second.write_text(json.dumps({"qr": texts[2], "marks": "oooxoo"}), encoding="utf-8")
    first = qingshan.folder / "first.jsonl"
    first.write_text(json.dumps({"qr": texts[2], "marks": "ooooox"}), encoding="utf-8")
    assert "不一致" in qingshan.fails("enter", db, "--batch", str(first), "--second", str(second))
    # Undo only the teller's last entry, recorded rather than deleted.
    qingshan.ok("enter", db, "--batch", str(first))
    last_id = json.loads(qingshan.run("status", db, "--json").output)["round"]["entered"]
    assert last_id == 2


def test_a_supplied_year_file_must_be_signed_by_the_town_R26_3(tmp_path: Path) -> None:
    e = Election(tmp_path, SHIQIAO)
    e.checkin(["S001", "S002", "S003", "S004", "S005"])
    e.vote("secretary", 1, ["ox", "ox", "ox", "ox", "xo"])
    year = tmp_path / "2027.toml"
    year.write_text(
        'format = "calendar/1"\n[years.2027]\nsource = "测试数据"\nholidays = [2027-01-01]\n',
        encoding="utf-8",
    )
    before = e.json("status", str(e.db))["log_entries"]
    out = e.fails("result", str(e.db), "--key", str(e.wg), "--calendar", str(year))
    assert "tally calendar sign" in out
    assert e.json("status", str(e.db))["log_entries"] == before
    signed = tmp_path / "2027.signed.json"
    e.ok(
        "calendar",
        "sign",
        str(year),
        "--town-key",
        str(tmp_path / "town.key"),
        "--out",
        str(signed),
    )
    got = e.json("result", str(e.db), "--key", str(e.wg), "--calendar", str(signed))
    assert got["ok"] and got["publicity_start"] == "2026-12-17"


def test_more_write_ins_than_rows_is_entered_as_one_invalid_ballot_on_every_path_R9_5(
    qingshan: Election,
) -> None:
    texts = qingshan.print_stock("committee", 1, 25)
    qingshan.ok("issue", str(qingshan.db), "--key", str(qingshan.wg))
    qingshan.ok("return", str(qingshan.db), "--count", "23", "--key", str(qingshan.wg))
    db = str(qingshan.db)
    names = [f"无名{i}" for i in range(6)]  # committee: 5 seats, so 5 write-in rows
    args = [a for n in names for a in ("--write-in", n)]
    out = qingshan.ok("enter", db, "--qr", texts[0], "--marks", "------", *args)
    assert "另选人多于选票上的空行，无效票" in out
    jsonl = qingshan.folder / "rows.jsonl"
    jsonl.write_text(
        json.dumps({"qr": texts[1], "marks": "------", "write_ins": names}), encoding="utf-8"
    )
    qingshan.ok("enter", db, "--batch", str(jsonl))
    csv = qingshan.folder / "rows.csv"
    csv.write_text(f"{texts[2]},------,{';'.join(names)}\n", encoding="utf-8")
    qingshan.ok("enter", db, "--batch", str(csv))
    assert qingshan.json("status", db)["round"]["entered"] == 3


# -- invalid ballots entered by decision (RULES A12.7, spec/rules.md R8.5) -------------------------


def _committee_ready(e: Election) -> list[str]:
    texts = e.print_stock("committee", 1, 25)
    e.ok("issue", str(e.db), "--key", str(e.wg))
    e.ok("return", str(e.db), "--count", "23", "--key", str(e.wg))
    return texts


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--invalid", "torn", "--confirm-key", "s1"], "无效票理由 'torn' 不在可选范围内"),
        (["--invalid", "unreadable"], "须由监票人确认"),
        (["--invalid", "unreadable", "--confirm-key", "wg"], "监票人"),
        (["--invalid", "unreadable", "--confirm-key", "outsider"], "不是本次选举清单中的监票人"),
        (["--invalid", "unreadable", "--marks", "------", "--confirm-key", "s1"], "--marks"),
        (["--confirm-key", "s1"], "--confirm-key 只与 --invalid 同用"),
    ],
    ids=[
        "unknown-reason",
        "no-confirmation",
        "work-group-key",
        "not-in-manifest",
        "marks",
        "alone",
    ],
)
def test_invalid_ballot_decision_refusals_say_why_and_store_nothing_R8_5(
    qingshan: Election, args: list[str], needle: str
) -> None:
    _committee_ready(qingshan)
    outsider, _ = make_key(qingshan.folder, keys.Role.SCRUTINEER, "外人", "outsider")
    paths = {"s1": qingshan.scrutineers[0], "wg": qingshan.wg, "outsider": outsider}
    args = [str(paths.get(a, a)) for a in args]
    before = qingshan.json("status", str(qingshan.db))["log_entries"]
    assert needle in qingshan.fails("enter", str(qingshan.db), *args)
    assert qingshan.json("status", str(qingshan.db))["log_entries"] == before


def test_invalid_ballot_decision_without_an_open_round_is_refused_R8_5(
    qingshan: Election,
) -> None:
    out = qingshan.fails(
        "enter",
        str(qingshan.db),
        "--invalid",
        "unreadable",
        "--confirm-key",
        str(qingshan.scrutineers[0]),
    )
    assert "没有进行中的轮次" in out


def test_not_official_stock_takes_no_qr_R8_5(qingshan: Election) -> None:
    texts = _committee_ready(qingshan)
    out = qingshan.fails(
        "enter",
        str(qingshan.db),
        "--invalid",
        "not_official_stock",
        "--qr",
        texts[0],
        "--confirm-key",
        str(qingshan.scrutineers[0]),
    )
    assert "非正式选票" in out


def test_invalid_ballots_by_decision_count_as_returned_and_invalid_and_are_verified_R8_5(
    qingshan: Election,
) -> None:
    texts = _committee_ready(qingshan)
    db, s1 = str(qingshan.db), str(qingshan.scrutineers[0])
    out = qingshan.ok(
        "enter", db, "--invalid", "identifying_marks", "--qr", texts[0], "--confirm-key", s1
    )
    assert "已作为无效票录入" in out and "有识别标记" in out
    assert "已经录入过" in qingshan.fails("enter", db, "--qr", texts[0], "--marks", "ooooox")
    out = qingshan.ok("enter", db, "--invalid", "not_official_stock", "--confirm-key", s1)
    assert "无二维码" in out and "非正式选票" in out
    batch = qingshan.folder / "rest.jsonl"
    batch.write_text(
        "\n".join(json.dumps({"qr": t, "marks": "ooooox"}) for t in texts[1:22]), encoding="utf-8"
    )
    qingshan.ok("enter", db, "--batch", str(batch))
    counted = qingshan.json("close", db, "--key", str(qingshan.wg))["outcome"]
    assert (counted["valid_ballots"], counted["invalid_ballots"]) == (21, 2)
    qingshan.cosign()
    qingshan.vote("secretary", 1, [*["ox"] * 15, *["xo"] * 6, "oo"])
    out = qingshan.finish()  # the verifier checks the confirmations (V9) and the count (V13)
    records = [
        json.loads(line)
        for line in (out / "bundle" / "ballots.jsonl").read_text(encoding="utf-8").splitlines()
    ]
    reasons = sorted(r["reason"] for r in records if "reason" in r)
    assert reasons == ["identifying_marks", "not_official_stock"]


def test_a_ballot_declared_invalid_without_qr_can_be_withdrawn_as_the_last_entry_R8_5(
    qingshan: Election,
) -> None:
    _committee_ready(qingshan)
    db, s1 = str(qingshan.db), str(qingshan.scrutineers[0])
    qingshan.ok("enter", db, "--invalid", "unreadable", "--confirm-key", s1)
    assert qingshan.json("status", db)["round"]["entered"] == 1
    qingshan.ok("withdraw", db, "--ballot", "")
    assert qingshan.json("status", db)["round"]["entered"] == 0
