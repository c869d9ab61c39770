"""Browser tests: the service on loopback (uvicorn in a thread, tests/helpers/http_session.py)
and Debian's chromium via Playwright.

Never ``playwright install``: the tests use /usr/bin/chromium and skip when it is missing.
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nacl.pwhash
import pytest

import keys
from tally.core.definition import parse_definition
from tally.core.manifest import build_manifest
from tally.election import ElectionSession
from tally.manifest_io import sign_manifest
from tally.service import ServiceConfig, create_app
from tally.service.accounts import AccountStore, Role, accounts_path
from tests.helpers.http_session import public_key_doc, serve

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")


def _shots_dir() -> Path:
    """Where the browser tests put their screenshots. The guides show docs/screenshots/, which
    only `make screenshots` (SCREENSHOTS=update) rewrites; an ordinary run still takes every
    screenshot (the pages must render) but into a temporary folder, so `make test` leaves the
    work tree clean instead of rewriting 40 PNG files that differ only by their clocks."""
    if os.environ.get("SCREENSHOTS") == "update":
        return ROOT / "docs" / "screenshots"
    folder = Path(tempfile.mkdtemp(prefix="branch-election-screenshots-"))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    return folder


SHOTS = _shots_dir()
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
FAST = {
    "opslimit": nacl.pwhash.argon2id.OPSLIMIT_MIN,
    "memlimit": nacl.pwhash.argon2id.MEMLIMIT_MIN,
}
ACCOUNTS = (
    ("chair", Role.CHAIR),
    ("teller", Role.TELLER),
    ("clerk", Role.CLERK),
    ("scrutineer", Role.SCRUTINEER),
)


@dataclass
class LiveStation:
    base: str
    app: Any
    folder: Path
    data: Path
    town_pub: Path
    scrutineers: list[keys.InMemorySigner]

    def cosign(self) -> int:
        """The scrutineers co-sign, as they would with ``tally cosign`` on the counting laptop."""
        state = self.app.state.service
        return sum(state.thread.submit(state.session.cosign, s).result() for s in self.scrutineers)


@pytest.fixture(scope="module")
def live_station(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveStation]:
    pytest.importorskip("playwright.sync_api")
    if not CHROMIUM.exists():
        pytest.skip("Debian chromium is not installed (/usr/bin/chromium)")
    folder = tmp_path_factory.mktemp("station")
    town = keys.InMemorySigner.generate(keys.Role.TOWN_COMMITTEE, "红旗镇党委")
    wg = keys.InMemorySigner.generate(keys.Role.WORK_GROUP, "选举工作组")
    scrutineers = [
        keys.InMemorySigner.generate(keys.Role.SCRUTINEER, label) for label in ("黄德明", "赵红梅")
    ]
    town_pub = folder / "town.pub"
    town_pub.write_bytes(keys.export_public_key(town.public_key))
    election = parse_definition((ROOT / "examples" / "qingshan.toml").read_text(encoding="utf-8"))
    manifest = build_manifest(
        election,
        work_group_key=public_key_doc(wg),
        scrutineer_keys=tuple(public_key_doc(s) for s in scrutineers),
    )
    ElectionSession.init(folder / "e.db", sign_manifest(manifest, town), wg).store.close()
    data = folder / "service"
    store = AccountStore(accounts_path(data), **FAST)
    for name, role in ACCOUNTS:
        store.add(name, role, f"{name}-password")
    app = create_app(
        ServiceConfig(election_path=folder / "e.db", data_dir=data, extra={"argon2_limits": FAST})
    )
    app.state.service.signer = wg
    with serve(app) as base:
        yield LiveStation(base, app, folder, data, town_pub, scrutineers)


CHART_GEOMETRY = """() => {
  const svg = document.querySelector('svg.chart');
  const box = r => ({left: r.left, right: r.right, top: r.top, bottom: r.bottom});
  const line = svg.querySelector('line.c-line');
  return {
    svg: box(svg.getBoundingClientRect()),
    line: line ? box(line.getBoundingClientRect()) : null,
    texts: Array.from(svg.querySelectorAll('text')).map(
      t => ({text: t.textContent.trim(), cls: t.getAttribute('class'),
             ...box(t.getBoundingClientRect())})),
  };
}"""


def check_chart_labels(page: Any) -> dict[str, Any]:
    """The station chart as rendered: every text box inside the drawing, and none crossing the
    threshold line (a name, an approvals count, the line's own label). Returns the geometry."""
    g: dict[str, Any] = page.evaluate(CHART_GEOMETRY)
    svg, line = g["svg"], g["line"]
    for t in g["texts"]:
        assert svg["left"] <= t["left"] and t["right"] <= svg["right"] + 0.5, t
        assert svg["top"] <= t["top"] and t["bottom"] <= svg["bottom"] + 0.5, t
        if line is not None:
            assert t["right"] <= line["left"] or t["left"] >= line["right"], (t, line)
    return g


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    sync_api = pytest.importorskip("playwright.sync_api")
    if not CHROMIUM.exists():
        pytest.skip("Debian chromium is not installed (/usr/bin/chromium)")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=ARGS)
        try:
            yield b
        finally:
            b.close()
