"""Issue 14 point 5: transport and sessions.

TLS in ``tally serve`` (Secure cookies, HSTS) over a real handshake; the station and the public
pages on separate bindings; double-entry mode as a logged decision that survives a restart; no
scratch folder left behind by a failed or abandoned download.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import nacl.pwhash
import pytest
from fastapi.testclient import TestClient

import ballot_printer
import keys
from tally.core.definition import parse_definition
from tally.core.manifest import build_manifest
from tally.election import ElectionSession, sign_manifest
from tally.service import ServiceConfig, create_app
from tally.service.accounts import AccountStore, Role, accounts_path

ROOT = Path(__file__).resolve().parents[2]
FAST = {
    "opslimit": nacl.pwhash.argon2id.OPSLIMIT_MIN,
    "memlimit": nacl.pwhash.argon2id.MEMLIMIT_MIN,
}
ACCOUNTS = {"chair": Role.CHAIR, "teller": Role.TELLER, "teller2": Role.TELLER}
PRESENT = [f"M{i:03d}" for i in range(1, 27) if i not in (15, 20, 25)]  # 23 of E = 25


def _pub(s: keys.InMemorySigner) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(keys.export_public_key(s.public_key))
    return doc


@dataclass
class Election:
    db: Path
    data: Path
    wg: keys.InMemorySigner
    town: keys.InMemorySigner

    def config(self, **kw: Any) -> ServiceConfig:
        return ServiceConfig(
            election_path=self.db, data_dir=self.data, extra={"argon2_limits": FAST}, **kw
        )


@pytest.fixture
def election(tmp_path: Path) -> Election:
    town = keys.InMemorySigner.generate(keys.Role.TOWN_COMMITTEE, "town")
    wg = keys.InMemorySigner.generate(keys.Role.WORK_GROUP, "wg")
    sc = keys.InMemorySigner.generate(keys.Role.SCRUTINEER, "s1")
    definition = parse_definition((ROOT / "examples" / "qingshan.toml").read_text("utf-8"))
    manifest = build_manifest(definition, work_group_key=_pub(wg), scrutineer_keys=(_pub(sc),))
    db = tmp_path / "e.db"
    ElectionSession.init(db, sign_manifest(manifest, town), wg).store.close()
    data = tmp_path / "service"
    accounts = AccountStore(accounts_path(data), **FAST)
    for name, role in ACCOUNTS.items():
        accounts.add(name, role, f"{name}-password")
    return Election(db, data, wg, town)


def _sign_in(client: httpx.Client | TestClient, name: str) -> str:
    """Sign ``name`` in; the session cookie's value (the client keeps no cookie)."""
    client.cookies.clear()
    page = client.get("/station/login")
    pre = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert pre is not None, page.text[:500]
    r = client.post(
        "/station/login",
        data={"csrf": pre.group(1), "name": name, "password": f"{name}-password"},
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text[:500]
    sid = r.cookies["tally_session"]
    client.cookies.clear()
    return sid


def _scratch_dirs(root: Path) -> list[str]:
    return sorted(p.name for p in root.iterdir())


@pytest.fixture
def private_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A TMPDIR of the test's own: every scratch folder the service makes lands here."""
    root = tmp_path / "scratch"
    root.mkdir()
    monkeypatch.setenv("TMPDIR", str(root))
    monkeypatch.setattr(tempfile, "tempdir", str(root))
    return root


# -- 4. downloads leave no scratch folders ---------------------------------------------------------
def test_a_tally_sheet_download_whose_renderer_fails_leaves_no_scratch_folder(
    election: Election, private_tmp: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def jammed(paper: Any, out: Path, **_: Any) -> Path:
        Path(out).write_bytes(b"%PDF-1.4 half a page")
        raise RuntimeError("printer jam")

    monkeypatch.setattr(ballot_printer, "render_tally_sheet", jammed)
    app = create_app(election.config())
    with TestClient(app, raise_server_exceptions=False) as client:
        sid = _sign_in(client, "chair")
        before = _scratch_dirs(private_tmp)
        r = client.get(
            "/station/files/sheet/committee-1.pdf", headers={"cookie": f"tally_session={sid}"}
        )
        assert r.status_code == 500
        assert _scratch_dirs(private_tmp) == before


def test_a_refused_tally_sheet_download_leaves_no_scratch_folder(
    election: Election, private_tmp: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refused(paper: Any, out: Path, **_: Any) -> Path:
        raise ballot_printer.OutputError(zh="无法写入", en="cannot write")

    monkeypatch.setattr(ballot_printer, "render_tally_sheet", refused)
    app = create_app(election.config())
    with TestClient(app) as client:
        sid = _sign_in(client, "chair")
        before = _scratch_dirs(private_tmp)
        r = client.get(
            "/station/files/sheet/committee-1.pdf", headers={"cookie": f"tally_session={sid}"}
        )
        assert r.status_code == 409
        assert _scratch_dirs(private_tmp) == before


def test_a_tally_sheet_download_abandoned_mid_stream_leaves_no_scratch_folder(
    election: Election, private_tmp: Path
) -> None:
    """The client goes away while the PDF is being sent: the server's ``send`` raises (ASGI 2.4:
    ``OSError`` on a closed connection), so nothing after the response, such as a background
    task, runs."""
    app = create_app(election.config())
    with TestClient(app) as client:
        sid = _sign_in(client, "chair")
        ok = client.get(
            "/station/files/sheet/committee-1.pdf", headers={"cookie": f"tally_session={sid}"}
        )
        assert ok.status_code == 200 and ok.content.startswith(b"%PDF")
        assert _scratch_dirs(private_tmp) == []
        scope = {
            "type": "http",
            "asgi": {"version": "3.0", "spec_version": "2.4"},
            "http_version": "1.1",
            "method": "GET",
            "scheme": "http",
            "path": "/station/files/sheet/committee-1.pdf",
            "raw_path": b"/station/files/sheet/committee-1.pdf",
            "query_string": b"",
            "root_path": "",
            "headers": [(b"host", b"testserver"), (b"cookie", f"tally_session={sid}".encode())],
            "client": ("127.0.0.1", 50000),
            "server": ("testserver", 80),
            "extensions": {},
        }
        sent: list[str] = []
        gone = asyncio.Event()

        async def receive() -> dict[str, Any]:
            if not sent:
                return {"type": "http.request", "body": b"", "more_body": False}
            await gone.wait()
            return {"type": "http.disconnect"}

        async def send(message: dict[str, Any]) -> None:
            sent.append(message["type"])
            if message["type"] == "http.response.body":
                gone.set()
                raise OSError("the client went away")

        async def abandon() -> None:
            with contextlib.suppress(OSError, ExceptionGroup):
                await app(scope, receive, send)
            await asyncio.sleep(0.2)  # anything the response scheduled has run

        client.portal.call(abandon)
        assert "http.response.body" in sent
        assert _scratch_dirs(private_tmp) == []
