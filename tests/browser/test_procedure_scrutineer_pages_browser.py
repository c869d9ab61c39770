"""The scrutineers' procedure pages in headless chromium at phone (390x844) and laptop
(1366x768) size (spec/procedure.md RP-3.8, RP-11.2): a teller declares a ballot invalid and the
scrutineer types the passphrase (a wrong one is refused, what was typed but the passphrase is
kept); each scrutineer co-signs the count on the co-signature page. Nothing wider than the
screen; screenshots as the other procedure pages'."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tally.core.model import PostKind
from tally.core.procedure.entries import Form
from tally.core.procedure.ledger import count_body
from tests.browser.test_procedure_pages_browser import SIZES, Live, _fits, _page
from tests.helpers.http_session import serve
from tests.helpers.procedure_log import StoreDriver, marks
from tests.helpers.procedure_service import (
    PREFIX,
    SCRUTINEER_PASSPHRASES,
    log_types,
    make_service,
    scrutineer_key_files,
)

pytestmark = pytest.mark.slow


def _open_and_return(driver: StoreDriver, returned: int) -> None:
    present = list(driver.procedure.expected_electors[:20])
    driver.append(
        "recommendation.opened",
        {
            "group": "member",
            "round": 1,
            "posts": ["committee", "secretary"],
            "present": 20,
            "present_members": present,
        },
    )
    for type_, n in (("ballots.issued", 20), ("ballots.returned", returned)):
        driver.append(type_, {"form": "member", "post": "committee", "round": 1, "count": n})


def _live(tmp: Any, prepare: Any) -> Iterator[Live]:
    folder = tmp.mktemp("procedure-scrutineers")
    app, driver = make_service(folder, scrutineer_keys=scrutineer_key_files(folder / "keys"))
    prepare(driver)
    with serve(app) as base:
        yield Live(base, app, driver)
    app.state.procedure.close()
    driver.store.close()


@pytest.fixture(scope="module")
def returned(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    """Round 1 of the members' committee issued, 2 returned, nothing entered."""
    yield from _live(tmp_path_factory, lambda d: _open_and_return(d, 2))


def _counted(d: StoreDriver) -> None:
    _open_and_return(d, 1)
    ballot_id, qr = d.ballot(Form.MEMBER, "committee", 1, 0)
    body = {"group": "member", "post": "committee", "round": 1, "ballot_id": ballot_id, "qr": qr}
    d.append("recommendation.entered", body | {"marks": marks(d.procedure, []), "written": []})
    d.append("recommendation.counted", count_body(d.store.ledger, Form.MEMBER, PostKind.COMMITTEE))


@pytest.fixture(scope="module")
def counted(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    """Round 1 of the members' committee counted (one ballot), not yet co-signed."""
    yield from _live(tmp_path_factory, _counted)


def test_teller_declares_a_ballot_invalid_with_the_scrutineers_passphrase(
    browser: Any, returned: Live
) -> None:
    teller = _page(browser, returned.base, "teller", "phone")
    teller.goto(f"{returned.base}{PREFIX}/enter?post=committee")
    teller.click("#invalid-decision summary")
    form = teller.locator("#invalid-decision form")
    _, qr = returned.driver.ballot(Form.MEMBER, "committee", 1, 0)
    form.locator("input[name=reason][value=unreadable]").check()
    form.locator("input[name=qr]").fill(qr)
    form.locator("select[name=key]").select_option(label="赵红梅")
    _fits(teller, "invalid-form")

    # a wrong passphrase: refused, nothing stored, the form open again without the passphrase
    before = log_types(returned.driver.store.path)
    form.locator("input[name=passphrase]").fill("not the passphrase")
    with teller.expect_navigation():
        form.locator("button[type=submit]").click()
    assert "口令不正确" in teller.inner_text(".flash.error")
    assert log_types(returned.driver.store.path) == before
    form = teller.locator("#invalid-decision form")
    assert form.is_visible()
    assert form.locator("input[name=qr]").input_value() == qr
    assert form.locator("input[name=passphrase]").input_value() == ""
    assert form.locator("input[name=reason][value=unreadable]").is_checked()
    assert teller.input_value("#pqr") == ""  # the ballot form is not filled with it
    _fits(teller, "invalid-refused")

    form.locator("select[name=key]").select_option(label="赵红梅")
    form.locator("input[name=passphrase]").fill(SCRUTINEER_PASSPHRASES[1])
    with teller.expect_navigation():
        form.locator("button[type=submit]").click()
    assert "已作为无效票录入" in teller.inner_text(".flash.ok")
    assert "1 / 2" in teller.inner_text("#progress")
    assert log_types(returned.driver.store.path)[-1] == "ballot.declared_invalid"
    teller.context.close()


@pytest.mark.parametrize("size", list(SIZES))
def test_the_cosign_page_fits_and_shows_who_has_signed(
    browser: Any, counted: Live, size: str
) -> None:
    page = _page(browser, counted.base, "scrutineer", size)
    page.goto(f"{counted.base}{PREFIX}/cosign")
    text = page.inner_text("main")
    assert "党员推荐（支部委员会委员）第 1 轮" in text
    assert "黄德明" in text and "赵红梅" in text
    assert page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth + 1")
    assert page.locator("nav.tabs").is_visible()
    page.context.close()


def test_each_scrutineer_co_signs_on_the_page(browser: Any, counted: Live) -> None:
    page = _page(browser, counted.base, "scrutineer", "phone")
    page.goto(f"{counted.base}{PREFIX}/cosign")
    _fits(page, "cosign-pending")
    for index, passphrase in enumerate(SCRUTINEER_PASSPHRASES):
        page.select_option("#cosign-form select[name=key]", index=index)
        page.fill("#cosign-form input[name=passphrase]", passphrase)
        with page.expect_navigation():
            page.click("#cosign-form button[type=submit]")
        assert "已签署 1 个计票检查点" in page.inner_text(".flash.ok")
    assert "全部计票检查点都已由全体监票人签署" in page.inner_text("main")
    assert page.locator("#cosign-form").count() == 0
    _fits(page, "cosign-done")
    assert counted.driver.store.missing_cosigners() == []
    page.context.close()
