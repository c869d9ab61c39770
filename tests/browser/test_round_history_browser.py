"""RULES A13 in chromium: the station's tally and result pages and the public board of an election
with a quorum failure, a void round and its re-vote, a further round and a runoff.

Each counted round's chart is rendered and measured: no text box (a name, an approvals count, the
threshold line's own label) crosses the threshold line, and every text stays inside the chart.
Pages are read in Chinese and, through the page's language switch, in English. Screenshots go to
the browser tests' screenshot folder (docs/screenshots/ only with `make screenshots`).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import nacl.pwhash
import pytest

from tally.core.model import PostKind
from tally.core.rounds import RoundOutcome, RoundStatus
from tally.election import ElectionSession
from tally.service import ServiceConfig, create_app
from tally.service.accounts import AccountStore, Role, accounts_path
from tests.helpers.http_session import serve
from tests.helpers.round_history import build_every_round_election

from .conftest import CHROMIUM, SHOTS, check_chart_labels

pytestmark = pytest.mark.slow

FAST = {
    "opslimit": nacl.pwhash.argon2id.OPSLIMIT_MIN,
    "memlimit": nacl.pwhash.argon2id.MEMLIMIT_MIN,
}


@dataclass
class Site:
    base: str
    outcomes: tuple[RoundOutcome, ...]
    names: dict[str, str]


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    pytest.importorskip("playwright.sync_api")
    if not CHROMIUM.exists():
        pytest.skip("Debian chromium is not installed (/usr/bin/chromium)")
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
    with serve(app) as base:
        yield Site(base, outcomes, names)


def _chair(browser: Any, site: Site) -> Any:
    context = browser.new_context(viewport={"width": 1366, "height": 768}, locale="zh-CN")
    page = context.new_page()
    page.goto(site.base + "/station/login")
    page.fill("input[name=name]", "chair")
    page.fill("input[name=password]", "chair-password")
    with page.expect_navigation():
        page.click("button[type=submit].primary")
    return page


def _shot(page: Any, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def _check_chart(page: Any, o: RoundOutcome, names: dict[str, str]) -> None:
    g = check_chart_labels(page)  # inside the drawing, none crossing the threshold line
    if o.spec.apply_threshold:
        assert g["line"] is not None
        label = next(t for t in g["texts"] if t["cls"] == "c-line-label")
        assert label["text"].endswith(str(o.minimum_to_pass)), label
    else:
        assert g["line"] is None  # a runoff: no threshold, and the page says so
        assert "再次投票不适用过半数" in page.inner_text(".chart-meta")
    shown_names = [t["text"] for t in g["texts"] if t["cls"] == "c-name"]
    shown_votes = [int(t["text"].split()[0]) for t in g["texts"] if t["cls"] == "c-votes"]
    assert shown_names == [names[m] for m, _ in o.approvals]
    assert shown_votes == [v for _, v in o.approvals]


def test_every_counted_rounds_chart_keeps_its_labels_off_the_threshold_line(
    browser: Any, site: Site
) -> None:
    page = _chair(browser, site)
    counted = [o for o in site.outcomes if o.status is RoundStatus.COUNTED]
    assert len(counted) == 4
    for o in counted:
        post, number = o.spec.post.value, o.spec.number
        page.goto(f"{site.base}/station/tally?post={post}&round={number}")
        assert page.inner_text("h1.page").startswith(("委员选举", "书记选举"))
        for width in (1366, 820, 390):  # laptop, tablet, phone: the drawing scales as a whole
            page.set_viewport_size({"width": width, "height": 900})
            _check_chart(page, o, site.names)
        page.set_viewport_size({"width": 1366, "height": 768})
        _shot(page, f"tally-{post}-{number}")
    # the round list below the chart links each counted round's chart
    page.goto(site.base + "/station/tally")
    links = page.eval_on_selector_all(
        "#history-secretary a.chart-link", "els => els.map(e => e.getAttribute('href'))"
    )
    assert links == ["/station/tally?post=secretary&round=1"]
    page.context.close()


def test_result_page_in_chromium_in_chinese_and_through_the_language_switch(
    browser: Any, site: Site
) -> None:
    page = _chair(browser, site)
    page.goto(site.base + "/station/result")
    rows = page.eval_on_selector_all(
        "#history-committee tr[data-elected]",
        "els => els.map(e => e.innerText.replace(/\\s+/g, ' ').trim())",
    )
    assert rows[3] == "刘海燕（M004） 第3轮（另行选举） 16 过半数线 13 票"
    assert rows[4] == "李志强（M005） 第4轮（再次投票） 13 第3轮 14 票，过半数线 13 票"
    rounds = page.locator("#history-committee .round-line")
    assert rounds.count() == 5
    lines = [rounds.nth(i).locator(".threshold-line").inner_text() for i in range(5)]
    assert lines == [
        "未进行选举，不计票，无过半数线",
        "本轮无效，不计票，无过半数线",
        "过半数线：当选须得赞成票超过 25 的半数，即至少 13 票",
        "过半数线：当选须得赞成票超过 25 的半数，即至少 13 票",
        "再次投票：不适用过半数，无过半数线，只在票数相等的候选人中按得票多少确定当选（R15）",
    ]
    _shot(page, "result-every-round")
    with page.expect_navigation():
        page.click("a.lang:text-is('English')")
    assert "round 3 (further round)" in page.inner_text("#history-committee")
    en_rows = page.eval_on_selector_all(
        "#history-committee tr[data-elected]",
        "els => els.map(e => e.innerText.replace(/\\s+/g, ' ').trim())",
    )
    assert en_rows[4] == "李志强 (M005) round 4 (runoff) 13 round 3: 14, threshold 13"
    assert (
        page.locator("#history-committee .round-line")
        .nth(4)
        .locator(".threshold-line")
        .inner_text()
        .startswith("runoff: no threshold")
    )
    _shot(page, "result-every-round-en")
    page.context.close()


def test_public_board_in_chromium_names_only(browser: Any, site: Site) -> None:
    context = browser.new_context(viewport={"width": 1100, "height": 900}, locale="zh-CN")
    page = context.new_page()
    page.goto(site.base + "/board/")
    body = page.inner_text("body")
    assert not re.search(r"\bM\d{3}\b", body)
    further = next(
        o for o in site.outcomes if o.spec.post is PostKind.COMMITTEE and o.spec.number == 3
    )
    rows = page.eval_on_selector_all(
        "#post-committee tr[data-elected]",
        "els => els.map(e => e.innerText.replace(/\\s+/g, ' ').trim())",
    )
    assert rows[3] == f"刘海燕 第3轮（另行选举） {dict(further.approvals)['M004']} 过半数线 13 票"
    assert page.locator("#post-committee .round").count() == 5
    assert page.locator("#post-secretary .round").count() == 1
    _shot(page, "board-every-round")
    with page.expect_navigation():
        page.click("header a:text-is('English')")
    body = page.inner_text("body")
    assert "round 4 (runoff)" in body and "runoff: no threshold" in body
    assert not re.search(r"\bM\d{3}\b", body)
    _shot(page, "board-every-round-en")
    context.close()
