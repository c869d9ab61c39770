"""A whole direct election through the CLI (spec/rules.md R22, RULES A12.4; ADR 0011), with the
independent verifier passing on its bundle.

Roster: 12 full members (E = 12), committee 3 seats of M001-M004, secretary candidates M001 and
M002, `elected_by = "direct"`. Ten members check in: `5*10 > 4*12`.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from tally.cli import app
from tests.helpers.cli_election import ENV, Election
from tests.helpers.elections import definition_text

# 10 present, the scrutineer M012 among them (R25.2)
PRESENT = [f"M{i:03d}" for i in (*range(1, 10), 12)]


def _direct(tmp_path: Path) -> Election:
    text = definition_text(
        full=12,
        committee_seats=3,
        committee_candidates=4,
        secretary_candidates=(1, 2),
        secretary_body="direct",
    )
    path = tmp_path / "direct.toml"
    path.write_text(text, encoding="utf-8")
    return Election(tmp_path, path)


def _enter_and_close(e: Election, kind: str, number: int, marks: list[str]) -> dict[str, Any]:
    batch = e.folder / f"batch-{kind}-{number}.jsonl"
    batch.write_text(
        "".join(
            json.dumps({"qr": qr, "marks": m, "write_ins": []}) + "\n"
            for qr, m in zip(e.stocks[(kind, number)], marks, strict=False)
        ),
        encoding="utf-8",
    )
    e.ok("enter", str(e.db), "--batch", str(batch))
    out = e.json("close", str(e.db), "--key", str(e.wg))
    e.cosign()
    outcome: dict[str, Any] = out["outcome"]
    return outcome


def _joint_vote(e: Election, secretary_marks: list[str]) -> tuple[dict[str, Any], dict[str, Any]]:
    """One opening for both ballot kinds; committee elects M001, M003, M004 (M002 gets none)."""
    e.print_stock("committee", 1, 12)
    e.print_stock("secretary", 1, 12)
    e.checkin(PRESENT)
    issued = e.json("issue", str(e.db), "--key", str(e.wg))
    assert issued["post"] == "committee" and issued["issued"] == 10
    assert issued["joint"] == [{"post": "secretary", "round": 1, "issued": 10}]
    db, key = str(e.db), str(e.wg)
    status = e.json("status", db)
    assert status["held"] == [{"post": "secretary", "round": 1, "issued": 10, "returned": None}]
    assert "待计票" in e.ok("status", db)
    assert e.json("return", db, "--count", "10", "--key", key)["valid"]
    assert e.json("return", db, "--count", "10", "--post", "secretary", "--key", key)["valid"]
    # Secretary ballots wait for the committee count.
    refused = e.fails("enter", db, "--qr", e.stocks[("secretary", 1)][0], "--marks", "ox")
    assert "书记" in refused
    # A late arrival does not change the joint opening's present count.
    e.checkin(["M011"])
    committee = _enter_and_close(e, "committee", 1, ["oxoo"] * 10)
    assert committee["elected"] == ["M001", "M003", "M004"]
    status = e.json("status", db)
    assert status["round"]["post"] == "secretary" and "held" not in status
    secretary = _enter_and_close(e, "secretary", 1, secretary_marks)
    return committee, secretary


def test_direct_election_secretary_candidate_not_on_committee_drops_out_R22_3(
    tmp_path: Path,
) -> None:
    """M002 is not elected to the committee: M002's 3 secretary approvals count for nobody; M001
    with 7 (2*7 > 12) is elected secretary."""
    e = _direct(tmp_path)
    _, secretary = _joint_vote(e, ["ox"] * 7 + ["xo"] * 3)
    assert secretary["elected"] == ["M001"]
    assert secretary["dropped"] == ["M002"]
    assert [a["member"] for a in secretary["approvals"]] == ["M001"]
    published = e.finish()
    result = json.loads((published / "bundle" / "result.json").read_text(encoding="utf-8"))
    assert "M001" in json.dumps(result)
    # What is published says it (R31): the status view and the notice name the drop-out.
    status = e.ok("status", str(e.db))
    assert "万002（M002）：不能当选本职" in status and "退出本轮计票" in status
    notice = subprocess.run(
        ["pdftotext", "-layout", str(published / "notice.pdf"), "-"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "万002不能当选本职" in "".join(notice.split())
    report = e.verify(published / "bundle")  # the verifier's report lists it too
    (sec_round,) = [r for r in report["rounds"] if r["post"] == "secretary"]
    assert sec_round["dropped"] == ["M002"]


def test_direct_election_close_explains_the_drop_out_R22_3(tmp_path: Path) -> None:
    e = _direct(tmp_path)
    e.print_stock("committee", 1, 12)
    e.print_stock("secretary", 1, 12)
    e.checkin(PRESENT)
    db, key = str(e.db), str(e.wg)
    e.ok("issue", db, "--key", key)
    e.ok("return", db, "--count", "10", "--key", key)
    e.ok("return", db, "--count", "10", "--post", "secretary", "--key", key)
    _enter_and_close(e, "committee", 1, ["oxoo"] * 10)
    batch = e.folder / "sec.jsonl"
    batch.write_text(
        "".join(
            json.dumps({"qr": qr, "marks": "ox" if i < 7 else "xo"}) + "\n"
            for i, qr in enumerate(e.stocks[("secretary", 1)][:10])
        ),
        encoding="utf-8",
    )
    e.ok("enter", db, "--batch", str(batch))
    out = e.ok("close", db, "--key", key)
    assert "退出本轮计票" in out and "M002" in out
    out_en = e.ok("status", db, "--lang", "en")
    assert "secretary" in out_en


def test_direct_secretary_candidate_not_standing_for_committee_is_refused_R22_1(
    tmp_path: Path,
) -> None:
    """`tally check` lists the problem in Chinese (English with --lang en) together with the
    definition's other problem (a candidate named teller), in one pass."""
    text = definition_text(
        full=12,
        committee_seats=3,
        committee_candidates=4,
        secretary_candidates=(1, 9),
        secretary_body="direct",
    ).replace('tellers = ["M011"]', 'tellers = ["M002"]')
    path = tmp_path / "bad.toml"
    path.write_text(text, encoding="utf-8")
    runner = CliRunner(env=ENV)
    zh = runner.invoke(app, ["check", str(path)])
    assert zh.exit_code == 1
    assert "M009" in zh.output and "直接选举" in zh.output
    assert "M002" in zh.output  # the teller who is a candidate, reported in the same pass
    en = runner.invoke(app, ["check", str(path), "--lang", "en"])
    assert en.exit_code == 1 and "direct election" in en.output


def test_direct_election_no_one_elected_secretary_further_round_among_committee_R22_4(
    tmp_path: Path,
) -> None:
    """M002 (dropped) has 6, M001 only 4 (2*4 < 12): nobody is secretary; round 2 is a further
    round among the committee members (M001), with its own present count."""
    e = _direct(tmp_path)
    _, secretary = _joint_vote(e, ["xo"] * 6 + ["ox"] * 4)
    assert secretary["elected"] == [] and secretary["shortfall"] == 1
    assert secretary["dropped"] == ["M002"]
    further = e.vote("secretary", 2, ["o"] * 11)
    assert further["elected"] == ["M001"]
    published = e.finish()
    log = [
        json.loads(line)
        for line in (published / "bundle" / "log.jsonl").read_text(encoding="utf-8").splitlines()
    ]
    opened = [x["body"] for x in log if x["type"] == "round.opened"]
    assert [(b["post"], b["round"], b["present"]) for b in opened] == [
        ("committee", 1, 10),
        ("secretary", 1, 10),
        ("secretary", 2, 11),
    ]
    assert (opened[2]["purpose"], opened[2]["candidates"]) == ("further", ["M001"])
