"""Read a published notice (公示) back from its PDF (pdftotext) and compare every number on it with
the bundle: outcomes.json, result.json, the ballots issued and returned in log.jsonl, the names in
manifest.json (RULES A13). Any digit on the notice that the reader does not check fails."""

from __future__ import annotations

import json
import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

POSTS = {"committee": "支部委员会委员", "secretary": "书记", "deputy_secretary": "副书记"}
POST_RE = "(支部委员会委员|书记|副书记)"


# --- what the bundle says -----------------------------------------------------------------------


@dataclass
class Expected:
    """Per post: rounds in order as (number, status, caption numbers, bars as (name, approvals,
    当选/票数相等/""), threshold), and the elected as (name, round, approvals, passed round,
    passed approvals) in result.json's order."""

    rounds: dict[str, list[tuple[int, str, tuple[int, ...], list[tuple[str, int, str]], int]]]
    elected: dict[str, list[tuple[str, int, int, int, int]]]
    seats: dict[str, int]


def _expected(bundle: Path) -> Expected:
    manifest = json.loads((bundle / "manifest.json").read_text())["manifest"]["definition"]
    names = {m["id"]: m["name"] for m in manifest["members"]}
    seats = {POSTS[p["post"]]: p["seats"] for p in manifest["posts"]}
    outcomes = json.loads((bundle / "outcomes.json").read_text())["rounds"]
    result = json.loads((bundle / "result.json").read_text())
    issued: dict[tuple[str, int], int] = {}
    returned: dict[tuple[str, int], int] = {}
    for line in (bundle / "log.jsonl").read_text().splitlines():
        e = json.loads(line)
        key = (e["body"].get("post"), e["body"].get("round"))
        if e["type"] == "ballots.issued":
            issued[key] = e["body"]["count"]
        elif e["type"] == "ballots.returned":
            returned[key] = e["body"]["count"]
    rounds: dict[str, list[Any]] = {}
    elected: dict[str, list[tuple[str, int, int, int, int]]] = {}
    for o in outcomes:
        post, n = POSTS[o["post"]], o["round"]
        key = (o["post"], n)
        if o["type"] == "round.void":
            assert (o["issued"], o["returned"]) == (issued[key], returned[key])
            rounds.setdefault(post, []).append((n, "void", (issued[key], returned[key]), [], 0))
            continue
        bars = [
            (
                names[a["member"]],
                a["approvals"],
                "当选"
                if a["member"] in o["elected"]
                else "票数相等"
                if a["member"] in o["tied"]
                else "",
            )
            for a in o["approvals"]
        ]
        numbers = (issued[key], returned[key])
        if o.get("remote_ballots"):  # reported beside the paper counts (spec/remote.md RM-9.2)
            numbers += (o["remote_ballots"],)
        numbers += (o["valid_ballots"], o["invalid_ballots"])
        if o["minimum"]:
            numbers += (o["base"], o["minimum"])
        rounds.setdefault(post, []).append((n, "counted", numbers, bars, o["minimum"]))
    for kind, ids in result["elected"].items():
        post = POSTS[kind]
        elected[post] = []
        for mid in ids:
            (won,) = [o for o in outcomes if o["post"] == kind and mid in o.get("elected", ())]
            votes = {a["member"]: a["approvals"] for a in won["approvals"]}[mid]
            passed = (won["round"], votes)
            if not won["minimum"]:  # a runoff: the latest earlier round whose line they passed
                passed = max(
                    (o["round"], v)
                    for o in outcomes
                    if o["post"] == kind and o["round"] < won["round"] and o.get("minimum")
                    for a in o["approvals"]
                    if a["member"] == mid and (v := a["approvals"]) >= o["minimum"]
                )
            elected[post].append((names[mid], won["round"], votes, *passed))
    return Expected(rounds, elected, seats)


# --- what the notice says -----------------------------------------------------------------------


@dataclass
class Read:
    rounds: dict[str, list[tuple[int, str, tuple[int, ...], list[tuple[str, int, str]], int]]] = (
        field(default_factory=dict)
    )
    elected: dict[str, list[tuple[str, int, int, int, int]]] = field(default_factory=dict)
    seats: dict[str, int] = field(default_factory=dict)


_COUNTED = re.compile(
    r"发出选票(\d+)张，收回(\d+)张，(?:另计入远程投票(\d+)张，)?有效票(\d+)张，无效票(\d+)张。"
    r"(?:以应到会有选举权人数(\d+)人为基数，得票不少于(\d+)票当选。"
    r"|本轮为票数相等候选人的再次投票，不适用当选票数线，按得票多少确定当选人。)"
)
_VOID = re.compile(
    r"发出选票(\d+)张，收回(\d+)张，收回选票多于发出选票，本轮选举无效，"
    r"所投选票不予统计（不计入选举结果），须用新选票重新投票。"
)
_ROUND_HEAD = re.compile(
    r"第(\d+)轮(?:（(再次投票|另行选举|第(\d+)轮无效后重新投票)）)?，应选(\d+)名："
)
_POST_HEAD = re.compile(POST_RE + r"（应选(\d+)名，共进行(\d+)轮投票）")
_SINGLE_HEAD = re.compile(POST_RE + r"（应选(\d+)名）：")
_BAR = re.compile(r"(\S+?)\s+(\d+)票(?:\s+(当选|票数相等))?")
_LINE = re.compile(r"当选票数线\s*(\d+)\s*票")
_AXIS = re.compile(r"\d+(\s+\d+)+")
_PIECE = re.compile(
    r"([^、（）：]+)（(?:第(\d+)轮(?:再次投票|另行选举|重新投票)?，)?(\d+)票"
    r"(?:；第(\d+)轮得(\d+)票，已达当选票数线)?）"
)


def _lines(pdf: Path) -> list[str]:
    text = subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"], check=True, capture_output=True, text=True
    ).stdout
    lines = [ln.strip() for ln in text.splitlines()]
    return [ln for ln in lines if ln and not re.fullmatch(r"第\d+页\s*共\d+页", ln)]


def _read_opening(lines: list[str]) -> Read:
    """The opening paragraph: who was elected, in which round, with which approvals."""
    flat = "".join("".join(ln.split()) for ln in lines)
    out = Read()
    # The opening paragraph: who was elected, in which round, with which approvals.
    opening = flat[flat.index("公示如下：") + 5 : flat.index("一、得票情况")]
    for m in re.finditer(POST_RE + r"（应选(\d+)名）：(.*?)(?=" + POST_RE + "（应选|$)", opening):
        post, pieces = m.group(1), m.group(3)
        out.seats[post] = int(m.group(2))
        found = list(_PIECE.finditer(pieces))
        assert "".join(p.group(0) for p in found) == pieces.replace("、", ""), pieces
        out.elected[post] = [
            (
                p.group(1),
                int(p.group(2) or 0),
                int(p.group(3)),
                int(p.group(4) or p.group(2) or 0),
                int(p.group(5) or p.group(3)),
            )
            for p in found
        ]
    return out


def _read_rounds(lines: list[str], out: Read) -> Read:
    """一、得票情况: every round's caption, bars and threshold line; any digit left unread fails."""
    # 一、得票情况: walk the lines; captions are read from their flattened text.
    start = next(i for i, ln in enumerate(lines) if ln.startswith("一、得票情况"))
    end = next(i for i, ln in enumerate(lines) if ln.startswith("二、公示期限"))
    post = ""
    said: dict[str, int] = {}
    caption = ""
    current: list[Any] | None = None

    def close_caption() -> None:
        nonlocal caption
        if not caption:
            return
        assert current is not None
        m = _COUNTED.fullmatch(caption) or _VOID.fullmatch(caption)
        assert m is not None, caption
        current[1] = "counted" if m.re is _COUNTED else "void"
        current[2] = tuple(int(g) for g in m.groups() if g is not None)
        caption = ""

    for ln in lines[start + 1 : end]:
        squeezed = "".join(ln.split())
        if m := _POST_HEAD.fullmatch(squeezed):
            close_caption()
            post = m.group(1)
            out.rounds[post] = []
            assert int(m.group(2)) == out.seats[post]
            said[post] = int(m.group(3))
            continue
        head = _ROUND_HEAD.match(squeezed) or _SINGLE_HEAD.match(squeezed)
        if head is not None:
            close_caption()
            if head.re is _SINGLE_HEAD:
                post = head.group(1)
                assert int(head.group(2)) == out.seats[post]
                out.rounds[post] = []
                number = 0  # the post's only round
            else:
                number = int(head.group(1))
            current = [number, "", (), [], 0]
            out.rounds[post].append(current)
            caption = squeezed[head.end() :]
            continue
        if (m := _LINE.fullmatch(ln)) is not None:
            close_caption()
            assert current is not None and current[4] == 0
            current[4] = int(m.group(1))
        elif squeezed == "本轮不设当选票数线":  # a runoff's chart: no line (R15)
            close_caption()
            assert current is not None and current[4] == 0
        elif (m := _BAR.fullmatch(ln)) is not None:
            close_caption()
            assert current is not None
            current[3].append((m.group(1), int(m.group(2)), m.group(3) or ""))
        elif _AXIS.fullmatch(ln):
            close_caption()
        elif caption:
            caption += squeezed
        else:
            assert not re.search(r"\d", ln), ln  # a number nobody checked
    close_caption()
    for p, n in said.items():
        assert len(out.rounds[p]) == n, (p, n)  # "共进行N轮投票": every round is listed
    return out


def compare_notice(published: Path) -> Read:
    """Assert that ``published``/notice.pdf says exactly what ``published``/bundle says."""
    expected = _expected(published / "bundle")
    lines = _lines(published / "notice.pdf")
    read = _read_opening(lines)
    assert read.seats == expected.seats
    for post, winners in expected.elected.items():
        got = read.elected[post]
        if len(expected.rounds[post]) == 1:
            only = expected.rounds[post][0][0]
            got = [(n, only, v, only, v) for n, _, v, _, _ in got]
        assert got == winners, post
    _read_rounds(lines, read)
    for post, rounds in expected.rounds.items():
        got = [tuple(r) for r in read.rounds[post]]
        if len(rounds) == 1:
            got = [(rounds[0][0], *g[1:]) for g in got]  # a single round is not numbered
        assert got == [tuple(r) for r in rounds], post
    return read
