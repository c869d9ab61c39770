"""The remote voting page in Debian chromium on a phone viewport (360×640), against the real
service with remote ballots version 2: the check code and the town-signed summary are checked
before the invitation is used (RM-10.3); the member opens the invitation link, gets a credential,
votes, casts, keeps the receipt and checks it after the close; the page in English. Screenshots:
docs/screenshots/remote-*.png (rewritten only by `make screenshots`). The ballot's own rules
(seats, write-ins, RV-3.4) and a tampered key, list or receipt: test_remote_page_v2.py.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import rfc8785

from tally.core.manifest import canonical
from tests.browser.conftest import CHROMIUM, SHOTS
from tests.browser.test_remote_page_v2 import _mark, _pick
from tests.helpers import http_session
from tests.helpers.http_session import LiveRemote

APPROVED = ["M020", "M025", "M026", "M024"]
PHONE = {"viewport": {"width": 360, "height": 640}, "device_scale_factor": 2, "is_mobile": True}


@pytest.fixture
def live_remote(tmp_path: Path) -> Iterator[LiveRemote]:
    """A service of the test's own, remote voting open, no invitation used: each test starts from
    there whatever ran before it or on another worker."""
    pytest.importorskip("playwright.sync_api")
    if not CHROMIUM.exists():
        pytest.skip("Debian chromium is not installed (/usr/bin/chromium)")
    with http_session.live_remote(tmp_path, APPROVED, "remote page test passphrase") as live:
        yield live


def _phone(browser: Any) -> tuple[Any, Any, list[str]]:
    context = browser.new_context(**PHONE)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    return context, page, errors


def _redeem(page: Any, live: LiveRemote, member: str, shot: str | None = None) -> None:
    page.goto(f"{live.base}/vote/#code={live.codes[member]}&pin={live.pin}")
    page.wait_for_selector("#s-code:not([hidden])", timeout=20_000)
    assert page.input_value("#code") == live.codes[member]
    assert page.input_value("#pin") == live.pin
    assert "code=" not in page.url and "pin=" not in page.url  # out of the address bar
    if shot:
        page.screenshot(path=str(SHOTS / shot), full_page=True)
    page.click("#redeem")
    page.wait_for_selector("#s-ballot:not([hidden]), #code-err:not([hidden])", timeout=20_000)
    assert page.is_visible("#s-ballot"), page.inner_text("#code-err")


def test_wrong_check_code_stops_the_page_before_the_code_is_used(
    browser: Any, live_remote: LiveRemote
) -> None:
    """RM-10.3: keys that do not match the invitation's check code are refused before anything is
    blinded or sent; the invitation stays unused and the right check code then works."""
    context, page, errors = _phone(browser)
    try:
        wrong = ("0000" if not live_remote.pin.startswith("0000") else "1111") + live_remote.pin[4:]
        page.goto(f"{live_remote.base}/vote/#code={live_remote.codes['M026']}&pin={wrong}")
        page.wait_for_selector("#s-code:not([hidden])", timeout=20_000)
        before = live_remote.log_types().count("remote.credential_issued")
        page.click("#redeem")
        page.wait_for_selector("#code-err:not([hidden])", timeout=20_000)
        assert "校验码不符" in page.inner_text("#code-err")
        page.fill("#pin", "12")
        page.click("#redeem")
        page.wait_for_function("document.getElementById('code-err').textContent.includes('格式')")
        assert live_remote.log_types().count("remote.credential_issued") == before
        page.fill("#pin", live_remote.pin.replace("-", " ").lower())  # typed loosely
        page.click("#redeem")
        page.wait_for_selector("#s-ballot:not([hidden])", timeout=20_000)
        assert live_remote.log_types().count("remote.credential_issued") == before + 1
        assert not errors, errors
    finally:
        context.close()


@pytest.mark.parametrize("tamper", ["signature", "candidate"])
def test_page_refuses_a_public_summary_the_town_did_not_sign(
    browser: Any, live_remote: LiveRemote, tamper: str
) -> None:
    """RM-10.3: the page checks the town's signature on the public summary it is served (a flipped
    signature bit: the check code alone would pass) and that the check code binds the summary (a
    renamed candidate): either stops the page before anything is blinded or sent."""
    context, page, errors = _phone(browser)

    def forged(route: Any) -> None:
        pin = route.fetch().json()
        if tamper == "signature":
            sig = bytearray(base64.b64decode(pin["summary_signature"]))
            sig[5] ^= 1
            pin["summary_signature"] = base64.b64encode(bytes(sig)).decode()
        else:
            summary = json.loads(pin["summary"])
            summary["posts"][0]["candidates"][0]["name"] = "王某某"
            pin["summary"] = canonical(summary).decode()
        route.fulfill(status=200, content_type="application/json", body=json.dumps(pin))

    try:
        page.route("**/api/remote/pin*", forged)
        page.goto(
            f"{live_remote.base}/vote/#code={live_remote.codes['M026']}&pin={live_remote.pin}"
        )
        page.wait_for_selector("#s-code:not([hidden])", timeout=20_000)
        before = live_remote.log_types().count("remote.credential_issued")
        page.click("#redeem")
        page.wait_for_selector("#code-err:not([hidden])", timeout=20_000)
        assert "校验码不符" in page.inner_text("#code-err")
        assert live_remote.log_types().count("remote.credential_issued") == before
        assert not errors, errors
    finally:
        context.close()


def test_member_votes_from_invitation_link_and_checks_receipt(
    browser: Any, live_remote: LiveRemote
) -> None:
    """The ballot is encrypted on the phone (RV-3); the service keeps the cast pending (RV-4.1)
    and logs it at the close, where the receipt then checks (RV-4.4). Nothing decrypts it: the
    log holds the remote-ballot/2 the page made, and no key to open it."""
    context, page, errors = _phone(browser)
    try:
        _redeem(page, live_remote, "M020", shot="remote-code-phone.png")
        assert page.get_attribute("body", "data-version") == "2"
        stored = page.evaluate("Object.keys(sessionStorage).sort()")
        assert [k.split("/")[0] for k in stored] == [
            "remote-credential",
            "remote-town-fingerprint",
            "remote-write-ins",
        ]
        # The page checked the town's signature on the public summary and shows its key's
        # fingerprint, to compare with the one the town committee announces (RM-10.3).
        assert page.inner_text("#town-fp .fp") == live_remote.town_fp
        _mark(page, "committee", "ooox")
        # A write-in is picked from the post's logged write-in list (RV-2.1, RV-6.1).
        _pick(page, "committee", "M008", "杨丽")
        _mark(page, "secretary", "-o")
        page.screenshot(path=str(SHOTS / "remote-ballot-phone.png"), full_page=True)
        page.click("#to-confirm")
        page.wait_for_selector("#s-confirm:not([hidden])")
        page.screenshot(path=str(SHOTS / "remote-confirm-phone.png"), full_page=True)
        page.click("#cast")
        page.wait_for_selector("#s-receipt:not([hidden]), #cast-err:not([hidden])", timeout=30_000)
        assert page.is_visible("#s-receipt"), page.inner_text("#cast-err")
        assert page.locator("#receipt-bad").count() == 0
        receipt = page.text_content("#r-full")
        page.screenshot(path=str(SHOTS / "remote-receipt-phone.png"), full_page=True)
        assert page.evaluate("Object.keys(sessionStorage).length") == 0  # credential spent
        assert "remote.cast" not in live_remote.log_types()  # RV-4.1: pending until the close
        live_remote.run(lambda s: s.remote.close(signer=live_remote.wg))
        page.click("#to-check")
        page.wait_for_selector("body[data-ready]")
        assert page.input_value("#hash") == receipt
        page.click("#check")
        page.wait_for_selector("body[data-check]", timeout=20_000)
        page.screenshot(path=str(SHOTS / "remote-check-phone.png"), full_page=True)
        assert page.get_attribute("body", "data-check") == "ok", page.inner_text("#steps")
        rows = live_remote.run(lambda s: s.store.log_rows())
        entries = [json.loads(raw) for _, raw in rows]
        (cast,) = [e["body"] for e in entries if e["type"] == "remote.cast"]
        assert cast["ballot"]["format"] == "remote-ballot/2"
        assert [p["post"] for p in cast["ballot"]["posts"]] == ["committee", "secretary"]
        # Nothing opened a ballot: the remote entries are the opening, this member's credential,
        # the cast and the close, and no partial decryption or totals (nor any other kind).
        assert Counter(e["type"] for e in entries if e["type"].startswith("remote.")) == {
            "remote.opened": 1,
            "remote.credential_issued": 1,
            "remote.cast": 1,
            "remote.closed": 1,
        }
        assert not errors, errors
    finally:
        context.close()


def test_page_refuses_a_logged_entry_without_salt_RM_10_1(
    browser: Any, live_remote: LiveRemote
) -> None:
    """After the close (a member voted, remote voting closed): the receipt's entry must have
    exactly the members of spec/log.md §1, salt included, not only a ballot that hashes to the
    receipt. A service that drops the salt (the entry then hashes to another leaf) is caught at
    the entry's shape."""
    live_remote.vote_and_close("M020", {"committee": ["M001", "M002"], "secretary": ["M005"]})
    rows = live_remote.run(lambda s: s.store.log_rows())
    (ballot,) = [json.loads(raw)["body"]["ballot"] for _, raw in rows if b'"remote.cast"' in raw]
    receipt = hashlib.sha256(
        b"branch-election/remote-receipt/2\x00" + rfc8785.dumps(ballot)
    ).hexdigest()

    def without_salt(route: Any) -> None:
        got = route.fetch().json()
        entry = json.loads(got["entry"])
        del entry["salt"]
        got["entry"] = rfc8785.dumps(entry).decode()
        route.fulfill(status=200, content_type="application/json", body=json.dumps(got))

    context, page, errors = _phone(browser)
    try:
        page.goto(f"{live_remote.base}/vote/receipt#receipt={receipt}")
        page.wait_for_selector("body[data-ready]", timeout=20_000)
        page.click("#check")
        page.wait_for_selector("body[data-check]", timeout=20_000)
        assert page.get_attribute("body", "data-check") == "ok", page.inner_text("#steps")
        page.route("**/api/remote/receipt?*", without_salt)
        page.reload()
        page.wait_for_selector("body[data-ready]", timeout=20_000)
        page.click("#check")
        page.wait_for_selector("body[data-check]", timeout=20_000)
        assert page.get_attribute("body", "data-check") == "fail"
        assert page.locator("#steps li").count() == 1
        assert page.locator("#steps li.bad").count() == 1
        assert not errors, errors
    finally:
        context.close()


def test_page_in_english_after_the_close(browser: Any, live_remote: LiveRemote) -> None:
    """After remote voting closed, the page says so, in English."""
    live_remote.run(lambda s: s.remote.close(signer=live_remote.wg))
    context, page, errors = _phone(browser)
    try:
        page.goto(f"{live_remote.base}/vote/?lang=en")
        page.wait_for_selector("body[data-ready]", timeout=20_000)
        assert page.locator("html").get_attribute("lang") == "en"
        assert page.is_visible("#s-notopen")
        assert page.inner_text("#notopen-title") == "Remote voting has closed"
        assert not errors, errors
    finally:
        context.close()
