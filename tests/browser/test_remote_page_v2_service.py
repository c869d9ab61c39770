"""The voting page against the real service opened with remote ballots v2 (``tally remote open``,
spec/remote-v2.md), in chromium at phone size: invitation, check code, write-in from the logged
list, cast into the service's pending casts, receipt pending, close (RV-4.3), receipt logged with a
valid inclusion proof. Skipped where the service cannot open version 2 (the routes and the session
are written on the branch wt/rshell; tests/browser/test_remote_page_v2.py covers the page against a
stand-in of the same API).
"""

from __future__ import annotations

import inspect
import json
import os
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

import keys
from tally.core.definition import parse_definition
from tally.core.manifest import build_manifest
from tally.election import ElectionSession
from tally.manifest_io import sign_manifest
from tally.remote_voting import RemoteVoting
from tally.service import ServiceConfig, create_app
from tally.session_config import SessionConfig
from tests.browser.conftest import CHROMIUM, _free_port, _pub
from tests.browser.test_remote_page_v2 import PHONE, _mark, _pick

ROOT = Path(__file__).resolve().parents[2]
APPROVED = ["M020", "M025", "M026", "M024"]

pytestmark = pytest.mark.skipif(
    "version" not in inspect.signature(RemoteVoting.open).parameters,
    reason="this service cannot open remote ballots version 2 yet",
)


@dataclass
class Live:
    base: str
    app: Any
    codes: dict[str, str]
    pin: str
    wg: keys.InMemorySigner

    def run(self, fn: Any) -> Any:
        state = self.app.state.service
        return state.thread.submit(state._fresh_then, fn).result()

    def log_types(self) -> list[str]:
        rows = self.run(lambda s: s.store.log_rows())
        return [json.loads(raw)["type"] for _, raw in rows]


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    pytest.importorskip("playwright.sync_api")
    if not CHROMIUM.exists():
        pytest.skip("Debian chromium is not installed (/usr/bin/chromium)")
    import uvicorn  # noqa: PLC0415

    old = os.environ.get("TALLY_PASSPHRASE")
    os.environ["TALLY_PASSPHRASE"] = "remote page v2 test passphrase"
    folder = tmp_path_factory.mktemp("remote-v2")
    town = keys.InMemorySigner.generate(keys.Role.TOWN_COMMITTEE, "红旗镇党委")
    wg = keys.InMemorySigner.generate(keys.Role.WORK_GROUP, "选举工作组")
    sc = keys.InMemorySigner.generate(keys.Role.SCRUTINEER, "黄德明")
    text = (ROOT / "examples" / "qingshan.toml").read_text(encoding="utf-8")
    text = text.replace('approved = ["M020"]', f"approved = {json.dumps(APPROVED)}")
    manifest = build_manifest(
        parse_definition(text), work_group_key=_pub(wg), scrutineer_keys=(_pub(sc),)
    )
    data = folder / "service"
    s = ElectionSession.init(
        SessionConfig(folder / "e.db", passphrase="remote page v2 test passphrase"),
        sign_manifest(manifest, town),
        wg,
    )
    s.remote.open(signer=wg, k=1, data_dir=data)
    codes = {m: s.remote.issue_invitation(m, data_dir=data)[0] for m in APPROVED}
    pin = s.remote.invitation_pin()
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
        yield Live(f"http://127.0.0.1:{port}", app, codes, pin, wg)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        if old is None:
            os.environ.pop("TALLY_PASSPHRASE", None)
        else:
            os.environ["TALLY_PASSPHRASE"] = old


def test_a_member_votes_v2_on_the_real_service_and_checks_the_receipt_after_the_close(
    browser: Any, live: Live
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
        live.run(lambda s: s.remote.close(signer=live.wg))
        assert live.log_types().count("remote.cast") == 1
        page.reload()
        page.wait_for_selector("body[data-ready]")
        page.click("#check")
        page.wait_for_selector("body[data-check]", timeout=20_000)
        assert page.get_attribute("body", "data-check") == "ok", page.inner_text("#steps")
        assert not errors, errors
    finally:
        context.close()
