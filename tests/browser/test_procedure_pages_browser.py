"""The procedure pages in headless chromium (issue 18 piece 8), at phone (390x844) and laptop
(1366x768) size: every page renders with nothing wider than the screen and its main controls in
view; the chair opens a members' session by checking members in, issues and records the return;
a teller scans a ballot's ``BP1:`` QR into the field (Enter checks it), marks it and saves it; a
refusal keeps what was typed; the proposal, vetting and public pages show their names.

Screenshots go where the other browser tests put theirs (docs/screenshots/ only with
SCREENSHOTS=update)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI

from tally.core.procedure.entries import Form
from tally.core.procedure.ledger import evaluation_opening
from tests.helpers.http_session import serve
from tests.helpers.procedure_log import StoreDriver
from tests.helpers.procedure_service import (
    PREFIX,
    evaluate_and_vet,
    log_types,
    make_service,
    other_procedure_qr,
    recommend_all,
)

from .conftest import SHOTS

pytestmark = pytest.mark.slow

SIZES = {"phone": (390, 844), "laptop": (1366, 768)}
NO_OVERFLOW = "() => document.documentElement.scrollWidth <= window.innerWidth + 1"


@dataclass
class Live:
    base: str
    app: FastAPI
    driver: StoreDriver


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    """A procedure file with round 1's stocks committed and nothing else."""
    app, driver = make_service(tmp_path_factory.mktemp("procedure-live"))
    with serve(app) as base:
        yield Live(base, app, driver)
    app.state.procedure.close()
    driver.store.close()


@pytest.fixture(scope="module")
def vetted(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    """Another file through both recommendations, the proposal, the evaluation and the vetting."""
    app, driver = make_service(tmp_path_factory.mktemp("procedure-vetted"))
    recommend_all(driver)
    evaluate_and_vet(driver)
    with serve(app) as base:
        yield Live(base, app, driver)
    app.state.procedure.close()
    driver.store.close()


def _page(browser: Any, base: str, name: str | None, size: str = "laptop") -> Any:
    w, h = SIZES[size]
    context = browser.new_context(viewport={"width": w, "height": h}, locale="zh-CN")
    page = context.new_page()
    page.on("dialog", lambda d: d.accept())
    if name is None:
        return page
    page.goto(f"{base}{PREFIX}/login")
    page.fill("input[name=name]", name)
    page.fill("input[name=password]", f"{name}-password")
    with page.expect_navigation():
        page.click("button[type=submit].primary")
    assert page.url.endswith(f"{PREFIX}/"), page.url
    return page


def _fits(page: Any, shot: str) -> None:
    """At each size: nothing wider than the screen, the heading in view; a screenshot."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    for size, (w, h) in SIZES.items():
        page.set_viewport_size({"width": w, "height": h})
        assert page.evaluate(NO_OVERFLOW), (shot, size)
        assert page.locator("h1").first.is_visible()
        page.screenshot(path=str(SHOTS / f"procedure-{shot}-{size}.png"), full_page=True)


@pytest.mark.parametrize("size", list(SIZES))
def test_sign_in_and_every_page_fits_the_screen(browser: Any, live: Live, size: str) -> None:
    page = _page(browser, live.base, "scrutineer", size)
    for path, text in (
        ("/", "推荐和测评概况"),
        ("/session", "推荐、测评会议与发票收票"),
        ("/enter", "记录发出和收回的票数后，才能录入"),
        ("/proposal", "尚未提出初步人选"),
        ("/vetting", "尚未测评"),
    ):
        page.goto(f"{live.base}{PREFIX}{path}")
        assert text in page.inner_text("main")
        assert page.evaluate(NO_OVERFLOW), (path, size)
        assert page.locator("nav.tabs").is_visible()
    page.context.close()


def test_chair_opens_issues_and_returns_then_teller_scans_and_enters(
    browser: Any, live: Live
) -> None:
    chair = _page(browser, live.base, "chair", "phone")
    chair.goto(f"{live.base}{PREFIX}/session")
    _fits(chair, "session-open")
    member_form = chair.locator("form[action$='/open']").first
    for box in member_form.locator("input[name=member]").all()[:20]:
        box.check()
    with chair.expect_navigation():
        member_form.locator("button[type=submit]").click()
    assert "第 1 轮推荐会议已开始：到会 20 人" in chair.inner_text(".flash.ok")
    row = chair.locator("tr[data-round=member-committee]")
    with chair.expect_navigation():
        row.locator("button[type=submit]").click()
    row = chair.locator("tr[data-round=member-committee]")
    row.locator("input[name=count]").fill("2")
    with chair.expect_navigation():
        row.locator("button[type=submit]").click()
    assert "已收回 2 张" in chair.inner_text(".flash.ok")
    _fits(chair, "session-rounds")

    teller = _page(browser, live.base, "teller", "phone")
    teller.goto(f"{live.base}{PREFIX}/enter?post=committee")
    _, qr = live.driver.ballot(Form.MEMBER, "committee", 1, 0)
    teller.fill("#pqr", qr)
    teller.press("#pqr", "Enter")
    teller.wait_for_function(
        "() => document.getElementById('pscan-status').classList.contains('ok')"
    )
    assert "签名有效" in teller.inner_text("#pscan-status")
    _fits(teller, "enter-recommendation")
    order = live.driver.procedure.ballot_order
    for m in order[:5]:
        teller.check(f"input[name=m_{m}][value=o]")
    teller.fill("input[name=w0]", "钱多多")
    with teller.expect_navigation():
        teller.click("#psave")
    assert "已录入" in teller.inner_text(".flash.ok")
    assert "1 / 2" in teller.inner_text("#progress")
    assert log_types(live.driver.store.path)[-1] == "recommendation.entered"

    # another procedure's ballot: named at the scan, refused at the save, the text kept
    other = other_procedure_qr(Form.MEMBER, "committee", 1)
    teller.fill("#pqr", other)
    teller.press("#pqr", "Enter")
    teller.wait_for_function(
        "() => document.getElementById('pscan-status').classList.contains('bad')"
    )
    assert "不属于本支部本次换届" in teller.inner_text("#pscan-status")
    teller.fill("input[name=w1]", "孙某")
    with teller.expect_navigation():
        teller.click("#psave")
    assert "不属于本支部本次换届" in teller.inner_text(".flash.error")
    assert teller.input_value("#pqr") == other
    assert teller.input_value("input[name=w1]") == "孙某"
    _fits(teller, "enter-refused")
    chair.context.close()
    teller.context.close()


def test_proposal_vetting_and_public_pages(browser: Any, vetted: Live) -> None:
    p = vetted.driver.procedure
    ledger = vetted.driver.store.ledger
    page = _page(browser, vetted.base, "scrutineer", "laptop")
    page.goto(f"{vetted.base}{PREFIX}/proposal")
    text = page.inner_text("main")
    for n in ledger.proposals[0].posts[0].names:
        assert p.member(n.member).name in text
    assert "列入依据" in text
    _fits(page, "proposal")
    page.goto(f"{vetted.base}{PREFIX}/vetting")
    text = page.inner_text("main")
    assert "不再列入" in text
    assert "考察通过" in text
    _fits(page, "vetting")
    page.context.close()

    public = _page(browser, vetted.base, None, "phone")
    public.goto(f"{vetted.base}/board/procedure")
    text = public.inner_text("main")
    assert "候选人初步人选" in text
    assert "镇党委尚未批复" in text
    assert "得分" not in text and "M0" not in text
    _fits(public, "public")
    public.context.close()


def test_public_page_in_english(browser: Any, vetted: Live) -> None:
    page = _page(browser, vetted.base, None, "laptop")
    page.goto(f"{vetted.base}/board/procedure?lang=en")
    text = page.inner_text("main")
    assert "Preliminary candidates" in text
    assert "Not yet approved by the town committee." in text
    assert Path(SHOTS).exists()
    page.context.close()


@pytest.fixture(scope="module")
def evaluating(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    """A file through the proposal, with evaluation round 1 opened, issued and returned (3)."""
    app, driver = make_service(tmp_path_factory.mktemp("procedure-evaluating"))
    recommend_all(driver)
    opening = evaluation_opening(driver.store.ledger)
    assert opening is not None
    round_no, version, persons = opening
    driver.stock(Form.EVALUATION, "", round_no, 60)
    driver.append(
        "evaluation.opened",
        {
            "round": round_no,
            "version": version,
            "candidates": list(persons),
            "present_members": [],
            "public_present": 40,
            "present": 40,
        },
    )
    base = {"form": "evaluation", "post": "", "round": round_no}
    driver.append("ballots.issued", {**base, "count": 40})
    driver.append("ballots.returned", {**base, "count": 3})
    with serve(app) as url:
        yield Live(url, app, driver)
    app.state.procedure.close()
    driver.store.close()


def test_teller_enters_an_evaluation_ballot(browser: Any, evaluating: Live) -> None:
    persons = evaluating.driver.store.ledger.session.candidates  # type: ignore[union-attr]
    teller = _page(browser, evaluating.base, "teller", "phone")
    teller.goto(f"{evaluating.base}{PREFIX}/enter")
    assert "群众测评第 1 轮" in teller.inner_text("h1")
    _, qr = evaluating.driver.ballot(Form.EVALUATION, "", 1, 0)
    teller.fill("#pqr", qr)
    teller.press("#pqr", "Enter")
    teller.wait_for_function(
        "() => document.getElementById('pscan-status').classList.contains('ok')"
    )
    for m in persons[:-1]:
        teller.check(f"input[name=m_{m}][value=s]")
    teller.check(f"input[name=m_{persons[-1]}][value=d]")
    _fits(teller, "enter-evaluation")
    with teller.expect_navigation():
        teller.click("#psave")
    assert "已录入" in teller.inner_text(".flash.ok")
    assert log_types(evaluating.driver.store.path)[-1] == "evaluation.entered"
    teller.context.close()
