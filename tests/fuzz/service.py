"""One running service over a temporary election, for the HTTP fuzzers: remote voting open with
invitations issued, a committee round open with its stock printed, issued and returned, and one
signed-in session per role. ``snapshot()`` is everything the service stores, to show that a
refused request changed nothing."""

from __future__ import annotations

import hashlib
import json
import os
import re
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from unittest import mock

import nacl.pwhash
from fastapi.testclient import TestClient

import ballot_printer
from tally.core.definition import parse_definition
from tally.core.manifest import build_manifest
from tally.election import ElectionSession
from tally.manifest_io import sign_manifest
from tally.remote_invitations import RateLimit
from tally.service import ServiceConfig, create_app
from tally.service.accounts import AccountStore, Role, accounts_path
from tally.service.remote import RemoteLimits
from tally.session_config import SessionConfig
from tests.fuzz import samples as S

APPROVED = ("M020", "M025")
PRESENT = tuple(f"M{i:03d}" for i in range(1, 27) if i not in (15, 20, 25))
ROLES = {
    "chair": Role.CHAIR,
    "teller": Role.TELLER,
    "clerk": Role.CLERK,
    "scrutineer": Role.SCRUTINEER,
}
FAST = {
    "opslimit": nacl.pwhash.argon2id.OPSLIMIT_MIN,
    "memlimit": nacl.pwhash.argon2id.MEMLIMIT_MIN,
}


@dataclass
class Service:
    app: Any
    client: TestClient
    db: Path
    data: Path
    codes: dict[str, str]
    qr: list[str]
    sids: dict[str, str] = field(default_factory=dict)
    csrf: dict[str, str] = field(default_factory=dict)

    def headers(self, user: str | None) -> dict[str, str]:
        return {"cookie": f"tally_session={self.sids[user]}"} if user else {}

    def snapshot(self) -> str:
        """A digest of every stored row of the election and of the accounts (not their sign-in
        failure counters, which refused sign-ins are meant to raise), and of the data folder's
        file names and sizes."""
        h = hashlib.sha256()
        with contextlib_closing(sqlite3.connect(f"file:{self.db}?mode=ro", uri=True)) as c:
            tables = [r[0] for r in c.execute("SELECT name FROM sqlite_master WHERE type='table'")]
            for t in sorted(tables):
                h.update(t.encode())
                # WITHOUT ROWID: ordered by their key
                without_rowid = t in ("pending_casts", "remote_refusals")
                order = "receipt" if without_rowid else "rowid"
                for row in c.execute(f'SELECT * FROM "{t}" ORDER BY {order}'):
                    h.update(repr(row).encode())
        with contextlib_closing(
            sqlite3.connect(f"file:{accounts_path(self.data)}?mode=ro", uri=True)
        ) as c:
            for row in c.execute("SELECT * FROM accounts ORDER BY rowid"):
                h.update(repr(row).encode())
        for p in sorted(self.data.rglob("*")):
            if p.is_file() and not p.name.startswith("accounts.db"):
                h.update(f"{p.relative_to(self.data)}:{p.stat().st_size}".encode())
        return h.hexdigest()


@contextmanager
def contextlib_closing(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    try:
        yield conn
    finally:
        conn.close()


def _sign_in(client: TestClient, name: str) -> tuple[str, str]:
    client.cookies.clear()
    page = client.get("/station/login")
    pre = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert pre is not None
    r = client.post(
        "/station/login",
        data={"csrf": pre.group(1), "name": name, "password": f"{name}-password"},
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    sid = r.cookies["tally_session"]
    client.cookies.clear()
    home = client.get("/station/", headers={"cookie": f"tally_session={sid}"})
    token = re.search(r'name="csrf" value="([^"]+)"', home.text)
    assert token is not None
    return sid, token.group(1)


@contextmanager
def running_service(tmp: Path) -> Iterator[Service]:
    with mock.patch.dict(os.environ, {"TALLY_PASSPHRASE": S.PASSPHRASE}):
        yield from _running_service(tmp)


def _running_service(tmp: Path) -> Iterator[Service]:
    text = S.definition_texts()[0].replace('approved = ["M020"]', f"approved = {list(APPROVED)}")
    text = text.replace("'", '"')
    election = parse_definition(text)
    manifest = build_manifest(
        election,
        work_group_key=S.pubdoc(S.WORK_GROUP),
        scrutineer_keys=tuple(S.pubdoc(s) for s in S.SCRUTINEERS),
    )
    db, data = tmp / "e.db", tmp / "svc"
    s = ElectionSession.init(
        SessionConfig(db, passphrase=S.PASSPHRASE), sign_manifest(manifest, S.TOWN), S.WORK_GROUP
    )
    s.remote.open(signer=S.WORK_GROUP, k=2, data_dir=data)
    codes = {m: s.remote.issue_invitation(m, data_dir=data)[0] for m in APPROVED}
    s.check_in(list(PRESENT), actor="clerk")
    stock = ballot_printer.make_stock(
        election_id=s.manifest.election_id,
        kind=ballot_printer.PaperKind.COMMITTEE,
        round_number=1,
        count=25,
        signer=S.WORK_GROUP,
    )
    s.commit_stock(stock, signer=S.WORK_GROUP)
    s.issue(count=None, signer=S.WORK_GROUP)
    s.return_ballots(len(PRESENT), signer=S.WORK_GROUP)
    qr = [ballot_printer.encode_qr_text(p) for p in stock.payloads]
    s.store.close()
    accounts = AccountStore(accounts_path(data), **FAST)
    for name, role in ROLES.items():
        accounts.add(name, role, f"{name}-password")
    # Generous redeem limits: the fuzzer's requests all come from one address and should reach
    # the code behind the throttle, not only the throttle.
    limits = RemoteLimits(
        per_source=RateLimit(max_failures=10**6),
        global_per_minute=10**6,
        per_source_per_minute=10**6,
    )
    app = create_app(
        ServiceConfig(
            election_path=db,
            data_dir=data,
            extra={"argon2_limits": FAST, "remote_limits": limits},
        )
    )
    app.state.service.signer = S.WORK_GROUP
    with TestClient(app) as client:
        service = Service(app, client, db, data, codes, qr)
        for name in ROLES:
            service.sids[name], service.csrf[name] = _sign_in(client, name)
        yield service


def json_code(response: Any) -> str | None:
    """The ``code`` of a JSON refusal, or None when the body is not such a refusal.

    Most refusals say ``{"ok": false, "code": …, "message": …}``; the board's HTTPExceptions
    say ``{"detail": {"code": …, "message": …}}`` (FastAPI's shape), accepted as well."""
    try:
        body = response.json()
    except (ValueError, json.JSONDecodeError):
        return None
    if not isinstance(body, dict):
        return None
    detail = body.get("detail")
    if "code" not in body and isinstance(detail, dict):
        body = detail
    code = body.get("code")
    return code if isinstance(code, str) and body.get("message") else None
