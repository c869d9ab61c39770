"""RULES A13 on the web: the station's result and tally pages and the public board list every round
of each post (a quorum-failed attempt, a void round and its re-vote, a further round, a runoff) with
its own threshold line, and each elected member with the round and the approvals that elected them.

Every number shown is checked against the round outcomes of the election file (tests/helpers/
round_history.py). The board is public: names of candidates and of those elected only, no ids.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import nacl.pwhash
import pytest
from fastapi.testclient import TestClient

from tally.core.model import PostKind
from tally.core.rounds import RoundOutcome, RoundPurpose, RoundStatus
from tally.election import ElectionSession
from tally.service import ServiceConfig, create_app
from tally.service.accounts import AccountStore, Role, accounts_path
from tests.helpers.round_history import build_every_round_election

FAST = {
    "opslimit": nacl.pwhash.argon2id.OPSLIMIT_MIN,
    "memlimit": nacl.pwhash.argon2id.MEMLIMIT_MIN,
}
MEMBER_ID = re.compile(r"\bM\d{3}\b")


@dataclass
class Site:
    client: TestClient
    outcomes: tuple[RoundOutcome, ...]
    names: dict[str, str]
    cookie: str

    def station(self, path: str) -> str:
        r = self.client.get(path, headers={"cookie": f"tally_session={self.cookie}"})
        assert r.status_code == 200, r.text[-2000:]
        return r.text

    def outcome(self, post: PostKind, number: int) -> RoundOutcome:
        (o,) = [x for x in self.outcomes if x.spec.post is post and x.spec.number == number]
        return o


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    folder = tmp_path_factory.mktemp("history")
    build_every_round_election(folder / "e.db")
    s = ElectionSession.open(folder / "e.db")
    outcomes = s.meeting.rounds.outcomes
    names = {m.id: m.name for m in s.manifest.election.members}
    s.store.close()
    data = folder / "service"
    AccountStore(accounts_path(data), **FAST).add("chair", Role.CHAIR, "chair-password")
    app = create_app(
        ServiceConfig(election_path=folder / "e.db", data_dir=data, extra={"argon2_limits": FAST})
    )
    with TestClient(app) as client:
        page = client.get("/station/login")
        pre = re.search(r'name="csrf" value="([^"]+)"', page.text)
        assert pre is not None
        r = client.post(
            "/station/login",
            data={"csrf": pre.group(1), "name": "chair", "password": "chair-password"},
            follow_redirects=False,
        )
        assert r.status_code == 303, r.text
        cookie = r.cookies["tally_session"]
        client.cookies.clear()
        yield Site(client, outcomes, names, cookie)


def _text(fragment: str) -> str:
    """The visible text of an HTML fragment, whitespace collapsed."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", fragment)).split())


def _section(page: str, post: str) -> str:
    """The HTML of ``post``'s section (board: id="post-…", station: id="history-…")."""
    start = re.search(rf'id="(?:post|history)-{post}"', page)
    assert start is not None, post
    rest = page[start.end() :]
    end = re.search(r'id="(?:post|history)-', rest)
    return rest[: end.start()] if end else rest


def _blocks(page: str, post: str) -> list[str]:
    """The text of each round block of ``post``, in page order."""
    return [_text(b) for b in _section(page, post).split("data-round=")[1:]]


def _elected_rows(page: str, post: str) -> list[str]:
    rows = re.findall(r"<tr data-elected=.*?</tr>", _section(page, post), flags=re.S)
    return [_text(r) for r in rows]


def _board_round(post_view: dict[str, Any], number: int, status: str) -> dict[str, Any]:
    (r,) = [x for x in post_view["rounds"] if x["number"] == number and x["status"] == status]
    return r


# -- the public board ----------------------------------------------------------------------------
def test_board_lists_every_round_with_the_numbers_of_its_outcome(site: Site) -> None:
    data = site.client.get("/api/board").json()
    posts = {p["post"]: p for p in data["posts"]}
    assert list(posts) == ["committee", "secretary"]
    for o in site.outcomes:
        r = _board_round(posts[o.spec.post.value], o.spec.number, o.status.value)
        assert (r["present"], r["expected"]) == (o.quorum.present, o.quorum.expected)
        assert (r["issued"], r["returned"]) == (o.issued, o.returned)
        if o.status is RoundStatus.COUNTED:
            assert (r["valid"], r["invalid"]) == (o.valid_ballots, o.invalid_ballots)
            want = o.minimum_to_pass if o.spec.apply_threshold else None
            assert r["threshold"] == want
            assert [(a["name"], a["votes"]) for a in r["rows"]] == [
                (site.names[m], v) for m, v in o.approvals
            ]
        else:
            assert r["rows"] == [] and r["threshold"] is None and r["valid"] is None
    committee = [(r["number"], r["status"]) for r in posts["committee"]["rounds"]]
    assert committee == [
        (1, "quorum_failed"),  # 20 of 25 present: not held, the number is not used up
        (1, "void"),
        (2, "counted"),
        (3, "counted"),
        (4, "counted"),
    ]
    failed = posts["committee"]["rounds"][0]
    assert (failed["present"], failed["expected"], failed["threshold"]) == (20, 25, None)


def test_board_shows_a_further_round_winner_with_the_further_rounds_approvals(
    site: Site,
) -> None:
    further = site.outcome(PostKind.COMMITTEE, 3)
    assert further.spec.purpose is RoundPurpose.FURTHER
    first = site.outcome(PostKind.COMMITTEE, 2)
    liu = "M004"
    assert dict(first.approvals)[liu] < first.minimum_to_pass  # 12: below the line in round 2
    data = site.client.get("/api/board").json()
    committee = next(p for p in data["posts"] if p["post"] == "committee")
    elected = {x["name"]: x for x in committee["elected"]}
    x = elected[site.names[liu]]
    assert (x["round"], x["approvals"]) == (3, dict(further.approvals)[liu]) == (3, 16)
    assert x["threshold"] == further.minimum_to_pass
    # on the page: the row names the further round and its 16, never round 2's 12
    page = site.client.get("/board/").text
    rows = _elected_rows(page, "committee")
    assert f"{site.names[liu]} 第3轮（另行选举） 16 过半数线 13 票" in rows
    assert len(rows) == 5
    for name, r, v in (("M001", 2, 20), ("M002", 2, 19), ("M003", 2, 18)):
        assert f"{site.names[name]} 第{r}轮（第1轮无效后重新投票） {v} 过半数线 13 票" in rows


def test_board_shows_a_runoff_winner_with_the_runoff_and_the_round_that_passed(
    site: Site,
) -> None:
    runoff = site.outcome(PostKind.COMMITTEE, 4)
    further = site.outcome(PostKind.COMMITTEE, 3)
    assert runoff.spec.purpose is RoundPurpose.RUNOFF and not runoff.spec.apply_threshold
    li = "M005"
    data = site.client.get("/api/board").json()
    committee = next(p for p in data["posts"] if p["post"] == "committee")
    x = next(e for e in committee["elected"] if e["name"] == site.names[li])
    assert (x["round"], x["approvals"]) == (4, dict(runoff.approvals)[li])
    assert (x["passed_round"], x["passed_approvals"], x["passed_threshold"]) == (
        3,
        dict(further.approvals)[li],
        further.minimum_to_pass,
    )
    page = site.client.get("/board/").text
    assert f"{site.names[li]} 第4轮（再次投票） 13 第3轮 14 票，过半数线 13 票" in _elected_rows(
        page, "committee"
    )
    blocks = _blocks(page, "committee")
    assert blocks[4].startswith('"4"> 第4轮（再次投票）')
    assert "再次投票：不适用过半数，无过半数线" in blocks[4]
    assert (
        f"{site.names[li]} 13 当选" in blocks[4] and f"{site.names['M006']} 10 未当选" in blocks[4]
    )


def test_board_lists_the_void_round_its_revote_and_the_quorum_failure(site: Site) -> None:
    page = site.client.get("/board/").text
    blocks = _blocks(page, "committee")
    assert len(blocks) == 5
    assert "未达到法定人数，未进行选举（到会 20 人，应到 25 人，至少须到会 21 人）" in blocks[0]
    assert "未进行选举，不计票，无过半数线" in blocks[0]
    assert "本轮无效：收回 24 张，多于发出的 23 张，须重新投票" in blocks[1]
    assert "本轮无效，不计票，无过半数线" in blocks[1]
    assert "第2轮（第1轮无效后重新投票）" in blocks[2]
    assert "过半数线：当选须得赞成票超过 25 的半数，即至少 13 票" in blocks[2]
    revote = site.outcome(PostKind.COMMITTEE, 2)
    for m, v in revote.approvals:
        assert f"{site.names[m]} {v} " in blocks[2] + " "
    (secretary,) = _blocks(page, "secretary")
    assert "过半数线：当选须得赞成票超过 25 的半数，即至少 13 票" in secretary


def test_board_shows_no_member_ids_and_no_attendance_list(site: Site) -> None:
    for lang in ("zh", "en"):
        page = site.client.get("/board/", params={"lang": lang}).text
        data = site.client.get("/api/board", params={"lang": lang}).text
        assert not MEMBER_ID.findall(page), MEMBER_ID.findall(page)[:5]
        assert not MEMBER_ID.findall(data), MEMBER_ID.findall(data)[:5]
        assert "present_members" not in data
    result = site.client.get("/api/board").json()["result"]
    assert result["elected"]["secretary"] == [site.names["M005"]]


def test_board_in_english_names_each_kind_of_round(site: Site) -> None:
    page = _text(site.client.get("/board/", params={"lang": "en"}).text)
    assert "round 3 (further round)" in page
    assert "round 4 (runoff)" in page
    assert "round 2 (re-vote of void round 1)" in page
    assert "runoff: no threshold" in page
    assert "threshold: more than half of 25, i.e. at least 13 approvals" in page
    assert "no quorum, not held (20 of 25 present, at least 21 needed)" in page


# -- the polling station (work group: names with the id in brackets) ------------------------------
def test_station_result_page_lists_every_round_and_the_round_that_elected_each_member(
    site: Site,
) -> None:
    page = site.station("/station/result")
    rows = _elected_rows(page, "committee")
    assert rows == [
        "丁建国（M001） 第2轮（第1轮无效后重新投票） 20 过半数线 13 票",
        "马秀英（M002） 第2轮（第1轮无效后重新投票） 19 过半数线 13 票",
        "王卫东（M003） 第2轮（第1轮无效后重新投票） 18 过半数线 13 票",
        "刘海燕（M004） 第3轮（另行选举） 16 过半数线 13 票",
        "李志强（M005） 第4轮（再次投票） 13 第3轮 14 票，过半数线 13 票",
    ]
    for (m, r, v), row in zip(
        (("M001", 2, 20), ("M002", 2, 19), ("M003", 2, 18), ("M004", 3, 16), ("M005", 4, 13)),
        rows,
        strict=True,
    ):
        assert dict(site.outcome(PostKind.COMMITTEE, r).approvals)[m] == v
        assert row.startswith(f"{site.names[m]}（{m}）")
    blocks = _blocks(page, "committee")
    assert len(blocks) == 5
    for block, o in zip(blocks[1:], site.outcomes, strict=False):
        assert o.spec.post is PostKind.COMMITTEE
        if o.status is RoundStatus.COUNTED:
            for m, v in o.approvals:
                assert f"{site.names[m]}（{m}） {v} " in block
            if o.spec.apply_threshold:
                assert f"即至少 {o.minimum_to_pass} 票" in block
            else:
                assert "不适用过半数" in block
    assert _elected_rows(page, "secretary") == ["李志强（M005） 第1轮 15 过半数线 13 票"]


def test_station_result_page_in_english(site: Site) -> None:
    page = site.station("/station/result?lang=en")
    rows = _elected_rows(page, "committee")
    assert "刘海燕 (M004) round 3 (further round) 16 threshold 13" in rows
    assert "李志强 (M005) round 4 (runoff) 13 round 3: 14, threshold 13" in rows
    assert "runoff: no threshold" in _text(page)


def test_station_tally_page_shows_the_chart_and_every_round_of_its_post(site: Site) -> None:
    page = site.station("/station/tally")
    # the last counted round is the secretary's: its chart, then the secretary's rounds
    assert "书记选举 第1轮 · 计票结果" in page
    assert _elected_rows(page, "secretary") == ["李志强（M005） 第1轮 15 过半数线 13 票"]
    assert 'id="history-committee"' not in page
    # the chart: the line at 13 of a 25 scale, every approvals label right of the whole track
    line_x = float(re.search(r'<line x1="([\d.]+)"', page).group(1))  # type: ignore[union-attr]
    votes = [float(x) for x in re.findall(r'<text x="([\d.]+)" y="[\d.]+" class="c-votes"', page)]
    assert len(votes) == 2 and all(x > line_x for x in votes)
