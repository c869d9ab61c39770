"""The README's remote-voting journey as a new user runs it: `tally serve --demo` (what `make run`
starts), an invitation made with `tally remote invite` in another terminal, and the absent member
voting on the page that link opens, in Debian chromium at phone size, ending with a receipt."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tally.service.demo import DEMO_PASSPHRASE
from tests.browser.conftest import CHROMIUM
from tests.helpers.http_session import free_port

PHONE = {"viewport": {"width": 360, "height": 640}, "device_scale_factor": 2, "is_mobile": True}


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, Path, dict[str, str]]]:
    """`tally serve --demo` in a fresh folder, as `make run` starts it (own process, own port)."""
    if not CHROMIUM.exists():
        pytest.skip("Debian chromium is not installed (/usr/bin/chromium)")
    port = free_port()
    env = {**os.environ, "TALLY_PASSPHRASE": DEMO_PASSPHRASE}
    server = subprocess.Popen(
        [sys.executable, "-m", "tally", "serve", "--demo", "--port", str(port)],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/api/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                pytest.fail(
                    f"the service did not start: {server.stdout.read() if server.stdout else ''}"
                )
            time.sleep(0.2)
        yield base, tmp_path, env
    finally:
        server.terminate()
        server.wait(timeout=20)


def test_member_votes_with_an_invitation_made_on_the_command_line(
    browser: Any, served: tuple[str, Path, dict[str, str]]
) -> None:
    base, folder, env = served
    made = subprocess.run(
        [sys.executable, "-m", "tally", "remote", "invite", ".run/demo/election.db", "M020",
         "--url", base, "--json"],
        cwd=folder, env=env, capture_output=True, text=True, check=True,
    )  # fmt: skip
    invitation = json.loads(made.stdout)
    assert invitation["url"].startswith(f"{base}/vote/#code=")
    context = browser.new_context(**PHONE)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        page.goto(invitation["url"])
        page.wait_for_selector("#s-code:not([hidden])", timeout=20_000)
        page.click("#redeem")
        page.wait_for_selector("#s-ballot:not([hidden]), #code-err:not([hidden])", timeout=20_000)
        assert page.is_visible("#s-ballot"), page.inner_text("#code-err")
        committee = page.locator('.post[data-post="committee"]')
        for i in range(5):  # the demo committee: 5 seats, 6 candidates
            committee.locator(".cand").nth(i).locator('button[data-mark="o"]').click()
        page.click("#to-confirm")
        page.wait_for_selector("#s-confirm:not([hidden])")
        page.click("#cast")
        page.wait_for_selector("#s-receipt:not([hidden])", timeout=20_000)
        receipt = page.text_content("#r-full")
        assert page.locator("#receipt-bad").count() == 0
        assert not errors, errors
    finally:
        context.close()
    # RV-4.1, RV-4.5: the service keeps the cast under its receipt, checked (the page shows the
    # receipt once it is accepted; nothing logged until the close); the election file replays.
    got = httpx.get(f"{base}/api/remote/receipt", params={"receipt": receipt}, timeout=5)
    assert got.json()["status"] == "accepted", got.text
    assert httpx.get(f"{base}/api/health", timeout=5).json()["log_entries"] > 0
