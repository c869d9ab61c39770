"""The voting page against the real service opened with remote ballots v2 (``tally remote open``,
spec/remote-v2.md), in chromium at phone size: invitation, check code, write-in from the logged
list, cast into the service's pending casts, receipt pending, close (RV-4.3), receipt logged with a
valid inclusion proof. Skipped where the service cannot open version 2 (the routes and the session
are written on the branch wt/rshell; tests/browser/test_remote_page_v2.py covers the page against a
stand-in of the same API).
"""

from __future__ import annotations

import inspect
from collections.abc import Iterator
from typing import Any

import pytest

from tally.election import ElectionSession
from tests.browser.conftest import CHROMIUM
from tests.browser.test_remote_page_v2 import PHONE, _mark, _pick
from tests.helpers import http_session
from tests.helpers.http_session import LiveRemote

APPROVED = ["M020", "M025", "M026", "M024"]

pytestmark = pytest.mark.skipif(
    "version" not in inspect.signature(ElectionSession.open_remote).parameters,
    reason="this service cannot open remote ballots version 2 yet",
)


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveRemote]:
    pytest.importorskip("playwright.sync_api")
    if not CHROMIUM.exists():
        pytest.skip("Debian chromium is not installed (/usr/bin/chromium)")
    folder = tmp_path_factory.mktemp("remote-v2")
    with http_session.live_remote(folder, APPROVED, "remote page v2 test passphrase") as served:
        yield served


def test_a_member_votes_v2_on_the_real_service_and_checks_the_receipt_after_the_close(
    browser: Any, live: LiveRemote
) -> None:
    context = browser.new_context(**PHONE)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    try:
        page.goto(f"{live.base}/vote/#code={live.codes['M020']}&pin={live.pin}")
        page.wait_for_selector("#s-code:not([hidden])", timeout=20_000)
        page.click("#redeem")
        page.wait_for_selector("#s-ballot:not([hidden]), #code-err:not([hidden])", timeout=30_000)
        assert page.is_visible("#s-ballot"), page.inner_text("#code-err")
        assert page.get_attribute("body", "data-version") == "2"
        _mark(page, "committee", "ooox")
        _pick(page, "committee", "M008", "杨丽")
        _mark(page, "secretary", "-o")
        page.click("#to-confirm")
        page.wait_for_selector("#s-confirm:not([hidden])")
        page.click("#cast")
        page.wait_for_selector("#s-receipt:not([hidden]), #cast-err:not([hidden])", timeout=30_000)
        assert page.is_visible("#s-receipt"), page.inner_text("#cast-err")
        assert page.locator("#receipt-bad").count() == 0
        # RV-4.1: nothing is logged at the cast.
        assert "remote.cast" not in live.log_types()
        page.click("#to-check")
        page.wait_for_selector("body[data-ready]")
        page.click("#check")
        page.wait_for_selector("body[data-check]", timeout=20_000)
        assert page.get_attribute("body", "data-check") == "pending", page.inner_text("#steps")
        live.run(lambda s: s.close_remote(signer=live.wg))
        assert live.log_types().count("remote.cast") == 1
        page.reload()
        page.wait_for_selector("body[data-ready]")
        page.click("#check")
        page.wait_for_selector("body[data-check]", timeout=20_000)
        assert page.get_attribute("body", "data-check") == "ok", page.inner_text("#steps")
        assert not errors, errors
    finally:
        context.close()
