"""The verifier's report tells every round of a real election (spec/bundle.md §6.1, issue 13).

One election is driven through the `tally` CLI with a failed quorum, a VOID round and its re-vote,
a shortfall and its further round (另行选举), a tie and its runoff; the verifier's text (Chinese
and English) and JSON reports are compared number by number with the bundle's ``outcomes.json``.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from tests.helpers.cli_election import PRESENT, QINGSHAN, Election
from tests.helpers.elections import ballots_for
from verifier.cli import app as verifier_app


def _marks(approvals: list[int], ballots: int, seats: int) -> list[str]:
    return ["".join(m.value for m in b.marks) for b in ballots_for(approvals, ballots, seats)]


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    e = Election(tmp_path_factory.mktemp("rounds"), QINGSHAN)
    e.checkin(PRESENT[:20])
    e.print_stock("committee", 1, 25)
    e.fails("issue", str(e.db), "--key", str(e.wg))  # 20 of E=25: no quorum, round 1 stays due
    e.checkin(PRESENT[20:])
    assert e.vote("committee", 1, ["ooooox"] * 23, returned=24)["void"] is True
    revote = e.vote("committee", 2, [*_marks([20, 18, 16, 10, 9, 8], 22, 5), "oooooo"])
    assert revote["shortfall"] == 2 and revote["invalid_ballots"] == 1
    further = e.vote("committee", 3, _marks([16, 14, 14], 23, 2))
    assert further["elected"] == ["M004"] and further["tied"] == ["M005", "M006"]
    runoff = e.vote("committee", 4, [*["ox"] * 12, *["xo"] * 11])
    assert runoff["elected"] == ["M005"]
    e.vote("secretary", 1, [*["ox"] * 14, *["xo"] * 8, "oo"])
    bundle = e.finish() / "bundle"
    (bundle.parent / "town.pub").write_bytes(e.town_pub.read_bytes())
    return bundle


def _verify(bundle: Path, *args: str) -> str:
    town = bundle.parent / "town.pub"
    r = CliRunner().invoke(
        verifier_app,
        ["verify", str(bundle), "--town-key", str(town), "--jobs", "1", *args],
        catch_exceptions=False,
    )
    assert r.exit_code == 0, r.output
    return str(r.output)


def _outcomes(bundle: Path) -> list[dict[str, Any]]:
    rounds: list[dict[str, Any]] = json.loads((bundle / "outcomes.json").read_text())["rounds"]
    return rounds


def _names(bundle: Path) -> dict[str, str]:
    signed = json.loads((bundle / "manifest.json").read_text())
    members = signed["manifest"]["definition"]["members"]
    return {m["id"]: m["name"] for m in members}


def _log(bundle: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (bundle / "log.jsonl").read_text().splitlines()]


def _blocks(text: str) -> dict[tuple[str, int], list[str]]:
    """The text report's round blocks, keyed by (post heading, round number), last one wins."""
    out: dict[tuple[str, int], list[str]] = {}
    post, key = "", None
    for line in text.splitlines():
        if not line.startswith(" "):
            post, key = line, None
            continue
        m = re.match(r"  (?:第(\d+)轮|round (\d+),)", line)
        if m:
            key = (post, int(m.group(1) or m.group(2)))
            out[key] = [line]
        elif key is not None:
            out[key].append(line)
    return out


def test_json_report_lists_every_round_with_the_bundle_numbers(bundle: Path) -> None:
    report = json.loads(_verify(bundle, "--json"))
    names = _names(bundle)
    rounds = report["rounds"]
    assert [(r["post"], r["round"], r["status"]) for r in rounds] == [
        ("committee", 1, "quorum_failed"),
        ("committee", 1, "void"),
        ("committee", 2, "counted"),
        ("committee", 3, "counted"),
        ("committee", 4, "counted"),
        ("secretary", 1, "counted"),
    ]
    assert [r["purpose"] for r in rounds] == [
        "first",
        "first",
        "first",
        "further",
        "runoff",
        "first",
    ]
    assert [r["revote_of"] for r in rounds] == [None, None, 1, None, None, None]
    assert (rounds[0]["expected"], rounds[0]["present"]) == (25, 20)
    held = [r for r in rounds if r["status"] != "quorum_failed"]
    outcomes = _outcomes(bundle)
    assert len(held) == len(outcomes)
    log = _log(bundle)
    for r, o in zip(held, outcomes, strict=True):
        assert (r["post"], r["round"]) == (o["post"], o["round"])
        issued = next(
            x["body"]["count"]
            for x in log
            if x["type"] == "ballots.issued"
            and (x["body"]["post"], x["body"]["round"]) == (o["post"], o["round"])
        )
        assert r["issued"] == issued
        opened = [
            x["body"]
            for x in log
            if x["type"] == "round.opened"
            and (x["body"]["post"], x["body"]["round"]) == (o["post"], o["round"])
        ]
        assert len(opened) == 1
        assert (r["present"], r["expected"]) == (opened[0]["present"], opened[0]["expected"])
        assert [c["member"] for c in r["candidates"]] == opened[0]["candidates"]
        if o["type"] == "round.void":
            assert r["status"] == "void"
            assert (r["issued"], r["returned"]) == (o["issued"], o["returned"])
            assert "approvals" not in r and "threshold" not in r
            continue
        assert r["returned"] == o["valid_ballots"] + o["invalid_ballots"]
        assert (r["valid_ballots"], r["invalid_ballots"]) == (
            o["valid_ballots"],
            o["invalid_ballots"],
        )
        if r["purpose"] == "runoff":
            assert r["threshold"] is None and (o["base"], o["minimum"]) == (0, 0)
        else:
            assert (r["threshold"]["base"], r["threshold"]["minimum"]) == (o["base"], o["minimum"])
            assert r["threshold"]["base_kind"] == "E"
        assert r["approvals"] == [
            {"member": a["member"], "name": names[a["member"]], "approvals": a["approvals"]}
            for a in o["approvals"]
        ]
        for k in ("elected", "tied", "tied_seats", "shortfall"):
            assert r[k] == o[k], k
        assert r["recounted"] is True
    # Each elected person: the round that elected them and the approvals in that round.
    result = json.loads((bundle / "result.json").read_text())
    for post, ids in result["elected"].items():
        persons = report["elected_persons"][post]
        assert [p["member"] for p in persons] == ids
        for p in persons:
            o = next(
                o
                for o in outcomes
                if o["post"] == post
                and o["type"] == "round.counted"
                and p["member"] in o["elected"]
            )
            votes = {a["member"]: a["approvals"] for a in o["approvals"]}
            assert (p["round"], p["approvals"], p["name"]) == (
                o["round"],
                votes[p["member"]],
                names[p["member"]],
            )
    assert [p["round"] for p in report["elected_persons"]["committee"]] == [2, 2, 2, 3, 4]


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_text_report_shows_each_round_and_its_threshold_line_by_name(
    bundle: Path, lang: str
) -> None:
    zh = lang == "zh"
    text = _verify(bundle, "--lang", lang)
    names = _names(bundle)
    blocks = _blocks(text)
    post_heading = {
        "committee": "委员选举轮次：" if zh else "Rounds for committee:",
        "secretary": "书记选举轮次：" if zh else "Rounds for secretary:",
    }
    log = _log(bundle)
    failed = next(x["body"] for x in log if x["type"] == "round.quorum_failed")
    # The quorum failure is listed too (it keeps its number, RS2), before the VOID round 1.
    assert ("法定人数不足" if zh else "quorum not met") in text
    assert (f"实到 {failed['present']} 人" if zh else f"present {failed['present']})") in text
    for o in _outcomes(bundle):
        block = "\n".join(blocks[post_heading[o["post"]], o["round"]])
        if o["type"] == "round.void":
            want = (
                f"发出选票 {o['issued']} 张，收回 {o['returned']} 张"
                if zh
                else (f"ballots issued {o['issued']}, returned {o['returned']}")
            )
            assert want in block
            assert ("本轮选举无效" if zh else "VOID") in block
            continue
        valid, invalid = o["valid_ballots"], o["invalid_ballots"]
        assert (
            f"收回 {valid + invalid} 张，有效 {valid} 张，无效 {invalid} 张"
            if zh
            else f"returned {valid + invalid}, valid {valid}, invalid {invalid}"
        ) in block
        if o["base"] == 0:
            assert ("不设当选票数线" if zh else "no threshold line") in block
            assert ("当选票数线：" if zh else "threshold line:") not in block
        else:
            assert (
                f"以应到会有选举权人数 {o['base']} 人为基数，得票不少于 {o['minimum']} 票"
                if zh
                else f"threshold line: base {o['base']} (expected electors E), "
                f"at least {o['minimum']} approvals"
            ) in block
        for a in o["approvals"]:
            who = (
                f"{names[a['member']]}（{a['member']}）"
                if zh
                else f"{names[a['member']]} ({a['member']})"
            )
            mark = (
                ("，当选" if zh else ", elected")
                if a["member"] in o["elected"]
                else ("，并列" if zh else ", tied")
                if a["member"] in o["tied"]
                else ""
            )
            line = (
                f"    {who}：{a['approvals']} 票{mark}"
                if zh
                else f"    {who}: {a['approvals']}{mark}"
            )
            assert line in block.splitlines(), (line, block)
        if o["shortfall"]:
            assert (f"缺额 {o['shortfall']} 名" if zh else f"{o['shortfall']} seat(s)") in block
    assert ("第1轮无效后重新投票" if zh else "re-vote of void round 1") in blocks[
        post_heading["committee"], 2
    ][0]
    # Who was elected, in which round, with how many approvals, by name (ids only in brackets).
    result = json.loads((bundle / "result.json").read_text())
    outcomes = [o for o in _outcomes(bundle) if o["type"] == "round.counted"]
    for post, ids in result["elected"].items():
        for member in ids:
            o = next(o for o in outcomes if o["post"] == post and member in o["elected"])
            votes = {a["member"]: a["approvals"] for a in o["approvals"]}[member]
            line = (
                f"  {names[member]}（{member}）：第{o['round']}轮当选，得 {votes} 票"
                if zh
                else f"  {names[member]} ({member}): elected in round {o['round']} "
                f"with {votes} approvals"
            )
            assert line in text.splitlines(), line
    assert not re.search(r"当选委员：M\d|elected committee: M\d", text)
