"""The remote voting page in Debian chromium on a phone viewport (360×640): the member opens the
invitation link, gets a credential, votes, casts, keeps the receipt and checks it; an over-vote is
stopped before submitting. Screenshots: docs/screenshots/remote-*.png
(rewritten only by `make screenshots`).
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import rfc8785

import keys
from tally.core.definition import parse_definition
from tally.core.manifest import build_manifest, canonical
from tally.election import ElectionSession, sign_manifest
from tally.service import ServiceConfig, create_app
from tests.browser.conftest import CHROMIUM, SHOTS, _free_port, _pub

ROOT = Path(__file__).resolve().parents[2]
APPROVED = ["M020", "M025", "M026", "M024"]
PHONE = {"viewport": {"width": 360, "height": 640}, "device_scale_factor": 2, "is_mobile": True}


@dataclass
class LiveRemote:
    base: str
    app: Any
    codes: dict[str, str]
    pin: str
    wg: keys.InMemorySigner
    sc: keys.InMemorySigner
    data: Path
    town_fp: str

    def run(self, fn: Any) -> Any:
        """``fn`` on the session's thread as a station request runs it (without the lock): its
        commit publishes the snapshot that the public routes (receipt, pin, info) read."""
        state = self.app.state.service
        return state.thread.submit(state._fresh_then, fn).result()

    def log_types(self) -> list[str]:
        rows = self.run(lambda s: s.store.log_rows())
        return [json.loads(raw)["type"] for _, raw in rows]


@pytest.fixture(scope="module")
def live_remote(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveRemote]:
    pytest.importorskip("playwright.sync_api")
    if not CHROMIUM.exists():
        pytest.skip("Debian chromium is not installed (/usr/bin/chromium)")
    import uvicorn  # noqa: PLC0415

    old = os.environ.get("TALLY_PASSPHRASE")
    os.environ["TALLY_PASSPHRASE"] = "remote page test passphrase"
    folder = tmp_path_factory.mktemp("remote")
    town = keys.InMemorySigner.generate(keys.Role.TOWN_COMMITTEE, "红旗镇党委")
    wg = keys.InMemorySigner.generate(keys.Role.WORK_GROUP, "选举工作组")
    sc = keys.InMemorySigner.generate(keys.Role.SCRUTINEER, "黄德明")
    text = (ROOT / "examples" / "qingshan.toml").read_text(encoding="utf-8")
    text = text.replace('approved = ["M020"]', f"approved = {json.dumps(APPROVED)}")
    manifest = build_manifest(
        parse_definition(text), work_group_key=_pub(wg), scrutineer_keys=(_pub(sc),)
    )
    data = folder / "service"
    s = ElectionSession.init(folder / "e.db", sign_manifest(manifest, town), wg)
    s.open_remote(signer=wg, k=1, data_dir=data)
    codes = {m: s.issue_invitation(m, data_dir=data)[0] for m in APPROVED}
    pin = s.invitation_pin()
    s.store.close()
    app = create_app(ServiceConfig(election_path=folder / "e.db", data_dir=data))
    app.state.service.signer = wg
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline:
            pytest.fail("the service did not start")
        time.sleep(0.05)
    try:
        yield LiveRemote(
            f"http://127.0.0.1:{port}",
            app,
            codes,
            pin,
            wg,
            sc,
            data,
            keys.fingerprint(town.public_key),
        )
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        if old is None:
            os.environ.pop("TALLY_PASSPHRASE", None)
        else:
            os.environ["TALLY_PASSPHRASE"] = old


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


def test_over_vote_is_stopped_before_submitting(browser: Any, live_remote: LiveRemote) -> None:
    context, page, errors = _phone(browser)
    try:
        _redeem(page, live_remote, "M025")
        committee = page.locator('.post[data-post="committee"]')
        n = committee.locator(".cand").count()
        for i in range(n):
            committee.locator(".cand").nth(i).locator('button[data-mark="o"]').click()
        assert page.is_disabled("#to-confirm")
        assert committee.locator(".post-err").is_visible()
        assert "多于应选" in committee.locator(".post-err").inner_text()
        committee.scroll_into_view_if_needed()
        page.screenshot(path=str(SHOTS / "remote-overvote-phone.png"))
        committee.locator(".cand").nth(0).locator('button[data-mark="x"]').click()
        assert page.is_enabled("#to-confirm")
        assert "remote.cast" not in live_remote.log_types()
        assert not errors, errors
    finally:
        context.close()


def _receipt_without_salt(election_id: str) -> Any:
    """A route handler standing in for a service that does not follow spec/log.md §1: it answers
    the cast (without passing it on, so nothing is stored) with a receipt whose ``remote.cast``
    entry is canonical, carries exactly the four values sent and recomputes its leaf hash, but
    has no ``salt``."""

    def handle(route: Any) -> None:
        sent = json.loads(route.request.post_data)
        entry = {
            "format": "log-entry/1",
            "seq": 9,
            "prev": "ab" * 32,
            "type": "remote.cast",
            "at": "2026-12-15T09:30:00+08:00",
            "actor": "remote",
            "body": {k: sent[k] for k in ("token", "token_prefix", "token_signature", "sealed")},
        }
        text = rfc8785.dumps(entry)
        receipt = {
            "format": "remote-receipt/1",
            "election_id": election_id,
            "leaf_index": 9,
            "entry": text.decode(),
            "leaf_hash": hashlib.sha256(b"\x00" + text).hexdigest(),
        }
        route.fulfill(status=200, json=receipt)

    return handle


def test_page_refuses_a_receipt_whose_entry_has_no_salt_RM_10_1(
    browser: Any, live_remote: LiveRemote
) -> None:
    """The page checks the receipt's entry has exactly the members of spec/log.md §1, salt
    included (64 lowercase hex), not only the four values it sent. Runs before the test below,
    which closes remote voting; nothing is cast."""
    context, page, errors = _phone(browser)
    try:
        eid = live_remote.run(lambda s: s.manifest.election_id.hex())
        page.route("**/api/remote/cast?*", _receipt_without_salt(eid))
        _redeem(page, live_remote, "M024")
        page.click("#to-confirm")
        page.wait_for_selector("#s-confirm:not([hidden])")
        page.click("#cast")
        page.wait_for_selector("#s-receipt:not([hidden])", timeout=20_000)
        assert page.locator("#receipt-bad").count() == 1
        assert not errors, errors
    finally:
        context.close()


def test_member_votes_from_invitation_link_and_checks_receipt(
    browser: Any, live_remote: LiveRemote
) -> None:
    context, page, errors = _phone(browser)
    try:
        _redeem(page, live_remote, "M020", shot="remote-code-phone.png")
        stored = page.evaluate("Object.keys(sessionStorage).sort()")
        assert [k.split("/")[0] for k in stored] == ["remote-credential", "remote-town-fingerprint"]
        # The page checked the town's signature on the public summary and shows its key's
        # fingerprint, to compare with the one the town committee announces (RM-10.3).
        assert page.inner_text("#town-fp .fp") == live_remote.town_fp
        committee = page.locator('.post[data-post="committee"]')
        marks = "ooox"
        for i, m in enumerate(marks):
            committee.locator(".cand").nth(i).locator(f'button[data-mark="{m}"]').click()
        # A write-in is typed, as on paper: the page has no roster (issue 14.3).
        row = committee.locator(".wi").first
        row.locator("input.wi-name").fill("  杨丽 ")
        row.locator("button.wi-add").click()
        assert row.locator(".chosen .name").inner_text() == "杨丽"
        page.screenshot(path=str(SHOTS / "remote-ballot-phone.png"), full_page=True)
        page.click("#to-confirm")
        page.wait_for_selector("#s-confirm:not([hidden])")
        page.screenshot(path=str(SHOTS / "remote-confirm-phone.png"), full_page=True)
        page.click("#cast")
        page.wait_for_selector("#s-receipt:not([hidden])", timeout=20_000)
        assert page.locator("#receipt-bad").count() == 0
        seq = int(page.inner_text("#r-seq"))
        page.screenshot(path=str(SHOTS / "remote-receipt-phone.png"), full_page=True)
        assert page.evaluate("Object.keys(sessionStorage).length") == 0  # credential spent
        types = live_remote.log_types()
        assert types[seq] == "remote.cast" and types.count("remote.cast") == 1
        # remote voting closes (a checkpoint covers the cast); the member checks the receipt
        live_remote.run(lambda s: s.close_remote(signer=live_remote.wg))
        page.click("#to-check")
        page.wait_for_selector("body[data-ready]")
        assert page.input_value("#seq") == str(seq)
        page.click("#check")
        page.wait_for_selector("body[data-check]", timeout=20_000)
        page.screenshot(path=str(SHOTS / "remote-check-phone.png"), full_page=True)
        assert page.get_attribute("body", "data-check") == "ok", page.inner_text("#steps")
        # the count opens exactly the ballot made on the page
        live_remote.run(
            lambda s: s.reveal_remote(
                [live_remote.sc], signer=live_remote.wg, data_dir=live_remote.data
            )
        )
        rows = live_remote.run(lambda s: s.store.log_rows())
        decrypted = [json.loads(r)["body"] for _, r in rows if b'"remote.decrypted"' in r]
        (body,) = decrypted
        post = body["ballot"]["posts"][0]
        assert post["post"] == "committee"
        assert post["marks"].startswith("ooox")
        assert post["write_ins"] == [{"name": "杨丽", "member": "", "mark": "o"}]
        assert not errors, errors
    finally:
        context.close()


def test_page_in_english_and_not_open_states(browser: Any, live_remote: LiveRemote) -> None:
    context, page, errors = _phone(browser)
    try:
        page.goto(f"{live_remote.base}/vote/?lang=en")
        page.wait_for_selector("body[data-ready]", timeout=20_000)
        assert page.locator("html").get_attribute("lang") == "en"
        assert not errors, errors
    finally:
        context.close()
