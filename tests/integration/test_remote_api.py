"""Remote voting endpoints (spec/remote.md, spec/remote-v2.md) through FastAPI's test client; the
test is the device.

The device side uses ``keys.remote_tokens`` (begin/finish_token_request) and a ``remote-ballot/2`` made
for the session's context (tests.helpers.remote_session). Every refusal is checked to leave the
log and the pending casts exactly as they were.
"""

from __future__ import annotations

import base64
import json
import sqlite3
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

import keys
from keys.remote_tokens import (
    RemoteCredential,
    TokenIssuer,
    begin_token_request,
    finish_token_request,
    load_issuer_public_key,
    verify_credential,
)
from tally.core.definition import parse_definition
from tally.core.errors import TallyError
from tally.core.manifest import build_manifest, canonical
from tally.election import ElectionSession
from tally.manifest_io import sign_manifest
from tally.remote_invitations import generate_invitation_code, hash_invitation_code
from tally.service import ServiceConfig, create_app
from tally.service.remote import PAGE_CSP, RemoteLimits
from tally.session_config import SessionConfig
from tests.helpers.disk import disk_full
from tests.helpers.remote_session import ballot_for
from verifier.merkle import verify_inclusion

ROOT = Path(__file__).resolve().parents[2]
APPROVED = ["M020", "M025", "M003"]
PASSPHRASE = "remote test passphrase 2026"


def _pub(s: keys.InMemorySigner) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(keys.export_public_key(s.public_key))
    return doc


def _b64(b: bytes) -> str:
    return base64.b64encode(b).decode()


def _with_sources(app: Any) -> Any:
    """ASGI wrapper: the header x-test-source sets the client address (as a proxy would)."""

    async def asgi(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            for k, v in scope["headers"]:
                if k == b"x-test-source":
                    scope = dict(scope, client=(v.decode(), 4000))
        await app(scope, receive, send)

    return asgi


def _eventually(read: Any, want: Any = None, seconds: float = 5.0) -> Any:
    """``read()`` polled until it returns ``want`` (or, with no ``want``, until it changes)."""
    first = read()
    deadline = time.monotonic() + seconds
    value = first
    while time.monotonic() < deadline:
        value = read()
        if (want is not None and value == want) or (want is None and value != first):
            return value
        time.sleep(0.05)
    return value


@dataclass
class Remote:
    client: TestClient
    app: Any
    codes: dict[str, str]
    wg: keys.InMemorySigner
    data: Path
    limits: RemoteLimits

    def run(self, fn: Any) -> Any:
        """``fn`` on the session through ``ServiceState.run``, as a station request runs it (its
        commit publishes the snapshot the public routes read)."""
        return self.client.portal.call(self.app.state.service.run, fn)  # type: ignore[union-attr]

    def log(self) -> list[tuple[int, bytes]]:
        """The stored rows, read on the session's thread but outside the service (no reopen),
        then the pending casts (RV-4.1), each as a row numbered -1."""
        state = self.app.state.service
        store = state.session.store
        rows: list[tuple[int, bytes]] = state.thread.submit(store.log_rows).result()
        pending = state.thread.submit(store.pending_casts).result()
        return rows + [(-1, repr(row).encode()) for row in pending]

    def pending(self) -> list[Any]:
        state = self.app.state.service
        return list(state.thread.submit(state.session.store.pending_casts).result())

    def info(self) -> dict[str, Any]:
        data: dict[str, Any] = self.client.get("/api/remote/info").json()
        return data

    def redeem(self, code: str, source: str = "10.0.0.1") -> tuple[Any, RemoteCredential | None]:
        info = self.info()
        issuer = load_issuer_public_key(base64.b64decode(info["issuer_key"]))
        req = begin_token_request(issuer, bytes.fromhex(info["election_id"]))
        r = self.client.post(
            "/api/remote/redeem",
            json={"code": code, "blinded_msg": _b64(req.blinded_msg)},
            headers={"x-test-source": source},
        )
        if r.status_code != 200:
            return r, None
        return r, finish_token_request(req, issuer, base64.b64decode(r.json()["blind_sig"]))

    def cast_body(self, cred: RemoteCredential, approve_first: bool = False) -> dict[str, Any]:
        state = self.app.state.service
        ballot = state.thread.submit(ballot_for, state.session, cred.token, approve_first).result()
        return {
            "token": _b64(cred.token),
            "token_prefix": _b64(cred.prefix),
            "token_signature": _b64(cred.signature),
            "ballot": ballot,
        }


@pytest.fixture
def remote(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Remote]:
    monkeypatch.setenv("TALLY_PASSPHRASE", PASSPHRASE)
    town = keys.InMemorySigner.generate(keys.Role.TOWN_COMMITTEE, "town")
    wg = keys.InMemorySigner.generate(keys.Role.WORK_GROUP, "wg")
    sc = keys.InMemorySigner.generate(keys.Role.SCRUTINEER, "s1")
    text = (ROOT / "examples" / "qingshan.toml").read_text(encoding="utf-8")
    text = text.replace('approved = ["M020"]', f"approved = {json.dumps(APPROVED)}")
    election = parse_definition(text)
    manifest = build_manifest(election, work_group_key=_pub(wg), scrutineer_keys=(_pub(sc),))
    data = tmp_path / "svc"
    s = ElectionSession.init(
        SessionConfig(tmp_path / "e.db", passphrase=PASSPHRASE), sign_manifest(manifest, town), wg
    )
    s.remote.open(signer=wg, k=1, data_dir=data)
    codes = {m: s.remote.issue_invitation(m, data_dir=data)[0] for m in APPROVED}
    s.store.close()
    limits = RemoteLimits()
    app = create_app(
        ServiceConfig(
            election_path=tmp_path / "e.db", data_dir=data, extra={"remote_limits": limits}
        )
    )
    app.state.service.signer = wg
    with TestClient(_with_sources(app)) as client:
        yield Remote(client, app, codes, wg, data, limits)


def test_info_gives_keys_posts_in_ballot_order_and_no_roster(remote: Remote) -> None:
    info = remote.info()
    assert info["open"] is True and info["closed"] is False
    assert "ballot_key" not in info  # no key that opens a ballot (RV-1.1)
    assert set(info["election_key"]) == {"k", "n", "commitments"}
    load_issuer_public_key(base64.b64decode(info["issuer_key"]))
    assert info["posts"][0]["post"] == "committee" and info["posts"][0]["listed"]
    assert "roster" not in info and "write_in_lists" not in info  # names at redemption (RV-2.3)
    assert info["work_group_key"] == _pub(remote.wg)["key"]


def test_rm_4_4_member_redeems_once_second_redeem_refused(remote: Remote) -> None:
    r, cred = remote.redeem(remote.codes["M020"])
    assert r.status_code == 200 and cred is not None
    info = remote.info()
    verify_credential(
        load_issuer_public_key(base64.b64decode(info["issuer_key"])),
        bytes.fromhex(info["election_id"]),
        cred,
    )
    before = remote.log()
    r2, _ = remote.redeem(remote.codes["M020"])
    assert r2.status_code == 409 and r2.json()["code"] == "invitation.used"
    assert remote.log() == before
    issued = [raw for _, raw in before if b'"remote.credential_issued"' in raw]
    assert len(issued) == 1 and b'"M020"' in issued[0]


def test_rm_3_3_wrong_malformed_and_expired_codes_refused(remote: Remote) -> None:
    before = remote.log()
    r, _ = remote.redeem("ABCD-1234", source="10.1.0.1")
    assert r.status_code == 400 and r.json()["code"] == "invitation.malformed"
    r, _ = remote.redeem(generate_invitation_code(), source="10.1.0.2")  # guessed, well-formed
    assert r.status_code == 403 and r.json()["code"] == "invitation.wrong"
    # an expired invitation for M025 (re-issue replaces the record)
    key = (remote.data / "remote" / "invitation.key").read_bytes()
    code = generate_invitation_code()
    past = datetime.now(UTC) - timedelta(days=3)
    remote.run(
        lambda s: s.store.put_invitation(
            member="M025",
            code_hash=hash_invitation_code(key, s.manifest.election_id, code),
            issued_at=past.isoformat(),
            expires_at=(past + timedelta(hours=1)).isoformat(),
        )
    )
    r, _ = remote.redeem(code, source="10.1.0.3")
    assert r.status_code == 410 and r.json()["code"] == "invitation.expired"
    assert remote.log() == before


def test_rm_3_5_brute_force_from_one_source_gets_429(remote: Remote) -> None:
    before = remote.log()
    for _ in range(5):
        r, _ = remote.redeem(generate_invitation_code(), source="192.0.2.7")
        assert r.status_code == 403
    r, _ = remote.redeem(remote.codes["M003"], source="192.0.2.7")  # even the right code
    assert r.status_code == 429 and r.json()["code"] == "invitation.rate_limited"
    assert int(r.headers["retry-after"]) > 0
    # an IPv6 /64 is one source
    for i in range(5):
        remote.redeem(generate_invitation_code(), source=f"2001:db8:1:2::{i + 1}")
    r, _ = remote.redeem(generate_invitation_code(), source="2001:db8:1:2:ffff::9")
    assert r.status_code == 429
    assert remote.log() == before
    # another source is not locked out, and the window passes
    r, cred = remote.redeem(remote.codes["M003"], source="192.0.2.8")
    assert r.status_code == 200 and cred is not None
    later = datetime.now(UTC) + timedelta(minutes=16)
    remote.limits.now = lambda: later
    r, _ = remote.redeem(generate_invitation_code(), source="192.0.2.7")
    assert r.status_code == 403


def test_rm_3_5_brute_force_run_from_many_sources_finds_nothing(remote: Remote) -> None:
    before = remote.log()
    statuses: dict[int, int] = {}
    for i in range(300):
        r, cred = remote.redeem(generate_invitation_code(), source=f"198.51.100.{i % 30}")
        assert cred is None
        statuses[r.status_code] = statuses.get(r.status_code, 0) + 1
    assert statuses.get(200, 0) == 0
    assert statuses[403] <= 30 * 5  # at most 5 code checks per source in the window
    assert statuses[429] >= 300 - 30 * 5
    assert remote.log() == before


def test_global_cap_throttles_redeem_attempts(remote: Remote) -> None:
    remote.limits.global_per_minute = 3
    codes = [
        remote.redeem(generate_invitation_code(), source=f"203.0.113.{i}")[0] for i in range(4)
    ]
    assert [r.status_code for r in codes] == [403, 403, 403, 429]
    assert codes[-1].json()["code"] == "remote.busy"


def test_parallel_guesses_cannot_overrun_the_source_limit(remote: Remote) -> None:
    barrier = threading.Barrier(12)

    def guess(_: int) -> int:
        barrier.wait()
        return int(remote.redeem(generate_invitation_code(), source="192.0.2.99")[0].status_code)

    with ThreadPoolExecutor(12) as pool:
        codes = list(pool.map(guess, range(12)))
    assert codes.count(403) <= 5 and codes.count(429) >= 7


def test_rm_4_5_token_signed_by_another_key_refused(remote: Remote) -> None:
    other = TokenIssuer.generate()
    eid = bytes.fromhex(remote.info()["election_id"])
    req = begin_token_request(other.public_key, eid)
    cred = finish_token_request(req, other.public_key, other.sign_blinded(req.blinded_msg))
    before = remote.log()
    r = remote.client.post("/api/remote/cast", json=remote.cast_body(cred))
    assert r.status_code == 403 and r.json()["code"] == "remote.token_invalid"
    # a real credential with an altered token
    _, good = remote.redeem(remote.codes["M020"])
    assert good is not None
    before = remote.log()
    forged = RemoteCredential(bytes(32), good.prefix, good.signature)
    r = remote.client.post("/api/remote/cast", json=remote.cast_body(forged))
    assert r.status_code == 403
    assert remote.log() == before


def test_rm_4_5_token_signature_not_modulus_length_refused_and_nothing_stored(
    remote: Remote,
) -> None:
    """RFC 8017 §8.1.2 step 1 as V18.3: a signature one byte short (its leading zero dropped) or
    with an extra leading zero is the right integer, but the verifier refuses it; so does the
    service, with a 4xx JSON refusal, before anything is logged."""
    _, _spare = remote.redeem(remote.codes["M020"])  # so the V18.5 bound is not what stops it
    issuer = remote.run(lambda s: s.remote._issuer(remote.data))
    eid = bytes.fromhex(remote.info()["election_id"])
    for _ in range(20_000):
        req = begin_token_request(issuer.public_key, eid)
        cred = finish_token_request(req, issuer.public_key, issuer.sign_blinded(req.blinded_msg))
        if cred.signature[0] == 0:
            break
    else:
        raise AssertionError("no signature with a leading zero byte found")
    before = remote.log()
    for sig in (cred.signature[1:], b"\x00" + cred.signature, b"\x00\x00" + cred.signature):
        body = remote.cast_body(RemoteCredential(cred.token, cred.prefix, sig))
        for lang, text in (("zh", "256 字节"), ("en", "256 bytes")):
            r = remote.client.post(f"/api/remote/cast?lang={lang}", json=body)
            assert r.status_code == 422, (r.status_code, r.text[:200])
            assert r.json()["code"] == "remote.token_signature_length"
            assert text in r.text
    assert remote.log() == before
    ok = remote.client.post("/api/remote/cast", json=remote.cast_body(cred))
    assert ok.status_code == 200  # the same credential at its proper length is still unspent


def test_rm_4_6_token_used_twice_refused(remote: Remote) -> None:
    _, cred = remote.redeem(remote.codes["M020"])
    _, cred2 = remote.redeem(remote.codes["M025"])
    assert cred is not None and cred2 is not None
    body = remote.cast_body(cred)
    r = remote.client.post("/api/remote/cast", json=body)
    assert r.status_code == 200
    before = remote.log()
    again = remote.client.post("/api/remote/cast", json=remote.cast_body(cred))
    assert again.status_code == 409 and again.json()["code"] == "remote.token_used"
    assert remote.log() == before


def test_rm_4_6_token_used_concurrently_exactly_one_stored(remote: Remote) -> None:
    _, cred = remote.redeem(remote.codes["M020"])
    _, _spare = remote.redeem(remote.codes["M025"])  # so the V18.5 bound is not what stops it
    assert cred is not None
    bodies = [remote.cast_body(cred), remote.cast_body(cred, approve_first=True)]
    barrier = threading.Barrier(2)

    def cast(body: dict[str, Any]) -> int:
        barrier.wait()
        return int(remote.client.post("/api/remote/cast", json=body).status_code)

    with ThreadPoolExecutor(2) as pool:
        codes = sorted(pool.map(cast, bodies))
    assert codes == [200, 409]
    assert [row[1] for row in remote.pending()] == [_b64(cred.token)]


def test_rm_4_6_cast_after_close_refused(remote: Remote) -> None:
    _, cred = remote.redeem(remote.codes["M020"])
    assert cred is not None
    remote.run(lambda s: s.remote.close(signer=remote.wg))
    assert remote.info()["closed"] is True
    before = remote.log()
    r = remote.client.post("/api/remote/cast", json=remote.cast_body(cred))
    assert r.status_code == 409 and r.json()["code"] == "remote.closed"
    r2, _ = remote.redeem(remote.codes["M025"])
    assert r2.status_code in (409, 410)
    assert remote.log() == before


def test_rv_4_1_malformed_and_oversize_casts_refused(remote: Remote) -> None:
    _, cred = remote.redeem(remote.codes["M020"])
    assert cred is not None
    good = remote.cast_body(cred)
    before = remote.log()
    cases: list[tuple[dict[str, Any], int]] = [
        ({**good, "ballot": {**good["ballot"], "format": "remote-ballot/1"}}, 422),
        ({**good, "ballot": "not an object"}, 422),
        ({**good, "sealed": _b64(bytes(100))}, 422),  # version 1's sealed box: withdrawn
        ({k: v for k, v in good.items() if k != "ballot"} | {"sealed": _b64(bytes(100))}, 422),
        ({**good, "token": _b64(bytes(31))}, 422),
        ({**good, "extra": "x"}, 422),
        ({k: v for k, v in good.items() if k != "ballot"}, 422),
    ]
    for body, status in cases:
        r = remote.client.post("/api/remote/cast", json=body)
        assert r.status_code == status, (r.status_code, r.text[:200])
    huge = remote.client.post(
        "/api/remote/cast",
        content=json.dumps({**good, "ballot": {"format": "A" * 400_000}}),
        headers={"content-type": "application/json"},
    )
    assert huge.status_code == 413
    assert remote.log() == before
    ok = remote.client.post("/api/remote/cast", json=good)  # the credential is still unspent
    assert ok.status_code == 200


def test_r24_3_member_with_credential_cannot_check_in(remote: Remote) -> None:
    _, cred = remote.redeem(remote.codes["M020"])
    assert cred is not None
    before = remote.log()
    with pytest.raises(TallyError) as e:
        remote.run(lambda s: s.check_in(["M020"]))
    assert e.value.code == "checkin.remote_credential"
    assert remote.log() == before


def test_rv_4_4_receipt_is_received_accepted_then_logged_with_a_proof_that_verifies(
    remote: Remote,
) -> None:
    _, cred = remote.redeem(remote.codes["M020"])
    assert cred is not None
    body = remote.cast_body(cred)
    receipt = remote.client.post("/api/remote/cast", json=body).json()
    assert receipt["format"] == "remote-receipt/2" and set(receipt) == {
        "format",
        "election_id",
        "receipt",
        "status",
    }  # no sequence number and no entry before the close (RV-4.3)
    assert receipt["status"] == "received"  # the proofs are checked after the answer (RV-4.1)
    import hashlib  # noqa: PLC0415

    import rfc8785  # noqa: PLC0415

    want = hashlib.sha256(
        b"branch-election/remote-receipt/2\x00" + rfc8785.dumps(body["ballot"])
    ).hexdigest()
    assert receipt["receipt"] == want  # RV-3.6
    q = {"receipt": receipt["receipt"]}
    remote.client.portal.call(remote.app.state.remote_checks.idle)  # type: ignore[union-attr]
    assert remote.client.get("/api/remote/receipt", params=q).json() == {"status": "accepted"}
    remote.run(lambda s: s.remote.close(signer=remote.wg))
    p = remote.client.get("/api/remote/receipt", params=q).json()
    assert p["status"] == "logged"
    entry = json.loads(p["entry"])
    assert entry["type"] == "remote.cast" and entry["actor"] == "remote"
    assert entry["body"]["ballot"] == body["ballot"] and entry["seq"] == p["leaf_index"]
    lines = p["checkpoint"].split("\n")
    verify_inclusion(
        hashlib.sha256(b"\x00" + p["entry"].encode()).digest(),
        p["leaf_index"],
        int(lines[1]),
        [base64.b64decode(h) for h in p["proof"]],
        base64.b64decode(lines[2]),
    )
    # a receipt nobody holds is 404; version 1's ?seq= lookup is gone; a bad receipt is 422
    assert remote.client.get("/api/remote/receipt", params={"receipt": "0" * 64}).status_code == 404
    assert remote.client.get("/api/remote/receipt", params={"seq": 0}).status_code == 422
    assert remote.client.get("/api/remote/receipt", params={"receipt": "AB"}).status_code == 422


def test_remote_routes_set_no_cookies_and_page_csp_allows_wasm_only_there(remote: Remote) -> None:
    page = remote.client.get("/vote/?code=1234")
    assert page.status_code == 200 and "remote-crypto" not in page.text  # vote.js imports it
    assert page.headers["content-security-policy"] == PAGE_CSP
    assert "'wasm-unsafe-eval'" in PAGE_CSP and "'unsafe-eval'" not in PAGE_CSP.replace(
        "'wasm-unsafe-eval'", ""
    )
    assert "1234" not in page.text  # the code is never echoed
    assert remote.client.get("/vote/receipt?lang=en").status_code == 200
    for path in ("/api/remote/info", "/api/remote/noop", "/api/health"):
        r = remote.client.get(path)
        assert "wasm" not in r.headers["content-security-policy"]
        assert "set-cookie" not in r.headers
    assert "set-cookie" not in page.headers
    js = remote.client.get("/vote/static/vote.js")
    assert js.status_code == 200 and "javascript" in js.headers["content-type"]
    assert remote.client.get("/vote/static/remote-crypto.js").status_code == 200


def test_openapi_documents_remote_endpoints_with_models(remote: Remote) -> None:
    spec = remote.client.get("/api/openapi.json").json()
    for path in ("info", "redeem", "cast", "receipt", "noop"):
        assert f"/api/remote/{path}" in spec["paths"]
    schemas = spec["components"]["schemas"]
    for name in (
        "RemoteInfo",
        "RedeemRequest",
        "CastRequest",
        "ReceiptV2",
        "ReceiptStatus",
        "Refusal",
    ):
        assert name in schemas


def test_rm_10_3_pin_material_recomputes_the_invitation_check_code(remote: Remote) -> None:
    """The page's check (RM-10.3) done in Python: the public summary is canonical, names this
    election and is signed by its own town key, the check code recomputes from its hash and the
    entry's leaf hash, the entry is remote.opened with the served keys, and the entry is in the
    remote-opened checkpoint signed by the summary's work-group key."""
    import hashlib  # noqa: PLC0415

    from tally.remote_invitations import invitation_pin  # noqa: PLC0415

    p = remote.client.get("/api/remote/pin").json()
    info = remote.info()
    assert "manifest" not in p  # the manifest holds the roster: never public
    summary = json.loads(p["summary"])
    assert canonical(summary).decode() == p["summary"]
    assert summary["format"] == "public-summary/1"
    assert summary["election_id"] == info["election_id"]
    assert summary["work_group_key"]["key"] == info["work_group_key"]
    town = keys.parse_public_key(canonical(summary["town_key"]))
    assert town.role is keys.Role.TOWN_COMMITTEE
    keys.verify(
        town,
        b"branch-election/public-summary/1",
        p["summary"].encode(),
        base64.b64decode(p["summary_signature"]),
    )
    summary_hash = hashlib.sha256(
        b"branch-election/public-summary/1\x00" + p["summary"].encode()
    ).digest()
    leaf = hashlib.sha256(b"\x00" + p["entry"].encode()).digest()
    entry = json.loads(p["entry"])
    assert entry["type"] == "remote.opened" and entry["seq"] == p["seq"]
    assert (entry["body"]["issuer_key"], entry["body"]["election_key"]) == (
        info["issuer_key"],
        info["election_key"],
    )
    pin = invitation_pin(summary_hash, leaf)
    assert pin == remote.run(lambda s: s.remote.invitation_pin())
    want = hashlib.sha256(b"branch-election/invitation-pin/2\x00" + summary_hash + leaf).hexdigest()
    assert pin.replace("-", "") == want[:16].upper()
    lines = p["checkpoint"].split("\n")
    assert lines[0] == f"branch-election/{info['election_id']}" and lines[3] == "remote-opened"
    verify_inclusion(
        leaf,
        p["seq"],
        p["size"],
        [base64.b64decode(h) for h in p["proof"]],
        base64.b64decode(lines[2]),
    )
    assert "/api/remote/pin" in remote.client.get("/api/openapi.json").json()["paths"]


def test_rm_10_3_summary_posts_are_the_ballot_the_page_is_served(remote: Remote) -> None:
    """The town-signed summary lists every assembly-voted post of /api/remote/info with the same
    seats and candidates (ids and names) in the same order: the page can check its ballot."""
    summary = json.loads(remote.client.get("/api/remote/pin").json()["summary"])
    by_post = {p["post"]: p for p in summary["posts"]}
    for post in remote.info()["posts"]:
        signed = by_post[post["post"]]
        assert signed["seats"] == post["seats"]
        assert signed["candidates"] == post["candidates"] == post["listed"]


def test_service_replays_what_the_cli_wrote_beside_it_before_its_next_request(
    remote: Remote, tmp_path: Path
) -> None:
    """The work group checks a member in from the command line while the service runs: the
    service's next request sees the check-in, and its own writes chain after it."""
    first, _ = remote.redeem(remote.codes["M020"])
    assert first.status_code == 200
    cli = ElectionSession.open(SessionConfig(tmp_path / "e.db", passphrase=PASSPHRASE))
    cli.check_in(["M001"])
    cli.store.close()
    # Public reads answer from the snapshot; a look at the file within about a second (without
    # any station request) brings the CLI's write to them.
    assert _eventually(lambda: remote.client.get("/api/health").json()["log_entries"]) == len(
        remote.log()
    )
    second, cred = remote.redeem(remote.codes["M025"])
    assert second.status_code == 200, second.json()
    assert cred is not None
    assert remote.run(lambda s: "M001" in s.meeting.present)
    types = [json.loads(raw)["type"] for _, raw in remote.log()]
    assert types[-3:] == [
        "remote.credential_issued",
        "member.checked_in",
        "remote.credential_issued",
    ]
    # The file replays from scratch: one chain, no entry lost or forked.
    assert ElectionSession.open(
        SessionConfig(tmp_path / "e.db", passphrase=PASSPHRASE)
    ).meeting.size == len(types)


def test_service_stops_with_a_clear_error_when_the_file_is_edited_outside_the_program(
    remote: Remote, tmp_path: Path
) -> None:
    """Another program rewrites a stored entry while the service runs: the replay before the next
    request fails its checks and every request is refused with store.tampered (503); nothing more
    is written."""
    remote.redeem(remote.codes["M020"])
    conn = sqlite3.connect(tmp_path / "e.db")
    conn.execute("DROP TRIGGER log_no_update")
    raw = conn.execute("SELECT raw FROM log WHERE seq = 1").fetchone()[0]  # chained by seq 2
    assert b'"k":1' in raw
    conn.execute("UPDATE log SET raw = ? WHERE seq = 1", (raw.replace(b'"k":1', b'"k":2'),))
    conn.commit()
    conn.close()
    before = remote.log()
    # The public routes answer from the last snapshot until the service next looks at the file
    # (any station request, or about a second after the last look): from then on, all refuse.
    assert _eventually(lambda: remote.client.get("/api/health").status_code, 503) == 503
    for path in ("/api/remote/pin", "/api/remote/info", "/api/health", "/api/board"):
        r = remote.client.get(path)
        assert r.status_code == 503, path
        assert r.json()["code"] == "store.tampered"
    assert remote.log() == before


# -- issue 14: throttles an attacker cannot turn against voters ---------------------------------
def test_malformed_redeem_requests_count_against_their_source(remote: Remote) -> None:
    hostile = {"x-test-source": "192.0.2.50"}
    bodies: list[dict[str, Any]] = [
        {"content": b"{not json", "headers": {"content-type": "application/json", **hostile}},
        {"json": {"code": 12, "blinded_msg": "AA=="}, "headers": hostile},
        {"json": {"code": "x", "blinded_msg": "AA==", "extra": 1}, "headers": hostile},
        {"json": {"code": remote.codes["M025"], "blinded_msg": "not base64!"}, "headers": hostile},
        {"json": {}, "headers": hostile},
    ]
    for kwargs in bodies:
        r = remote.client.post("/api/remote/redeem", **kwargs)
        assert 400 <= r.status_code < 500 and r.status_code != 429, r.text
    r, cred = remote.redeem(remote.codes["M003"], source="192.0.2.50")  # even the right code
    assert r.status_code == 429 and r.json()["code"] == "invitation.rate_limited", r.text
    assert cred is None


def test_one_source_hammering_redeem_does_not_stop_another_sources_redeem(remote: Remote) -> None:
    # Attempts the code-failure limit does not count (bad blinded_msg, used invitation) must still
    # not let one address fill the global throttle and shut remote voting off for everyone.
    r, _ = remote.redeem(remote.codes["M020"], source="192.0.2.60")
    assert r.status_code == 200
    for i in range(remote.limits.global_per_minute + 30):
        body = (
            {"code": remote.codes["M025"], "blinded_msg": "not base64!"}
            if i % 2
            else {"code": remote.codes["M020"], "blinded_msg": "AA=="}
        )
        remote.client.post("/api/remote/redeem", json=body, headers={"x-test-source": "192.0.2.66"})
    r, cred = remote.redeem(remote.codes["M003"], source="198.51.100.200")
    assert r.status_code == 200 and cred is not None, r.text


def test_forwarded_headers_are_believed_only_from_a_trusted_proxy(remote: Remote) -> None:
    import ipaddress  # noqa: PLC0415

    remote.app.state.service.config.extra["trusted_proxies"] = (
        ipaddress.ip_network("127.0.0.1/32"),
    )

    def redeem(code: str, peer: str, **headers: str) -> Any:
        info = remote.info()
        issuer = load_issuer_public_key(base64.b64decode(info["issuer_key"]))
        req = begin_token_request(issuer, bytes.fromhex(info["election_id"]))
        return remote.client.post(
            "/api/remote/redeem",
            json={"code": code, "blinded_msg": _b64(req.blinded_msg)},
            headers={"x-test-source": peer, **headers},
        )

    # a direct client cannot escape its bucket by writing the headers itself
    for i in range(5):
        r = redeem(generate_invitation_code(), "192.0.2.80", **{"x-forwarded-for": f"10.8.0.{i}"})
        assert r.status_code == 403
    r = redeem(remote.codes["M003"], "192.0.2.80", **{"x-forwarded-for": "10.8.0.99"})
    assert r.status_code == 429
    r = redeem(remote.codes["M003"], "192.0.2.80", forwarded="for=10.8.0.98")
    assert r.status_code == 429
    # behind the trusted proxy, each forwarded client has its own bucket; the proxy's own entry
    # (the rightmost) counts, not what the client prepended
    for _ in range(5):
        r = redeem(generate_invitation_code(), "127.0.0.1", **{"x-forwarded-for": "203.0.113.5"})
        assert r.status_code == 403
    spoof = {"x-forwarded-for": "198.51.100.7, 203.0.113.5"}
    assert redeem(remote.codes["M003"], "127.0.0.1", **spoof).status_code == 429
    r = redeem(remote.codes["M003"], "127.0.0.1", forwarded='for="[2001:db8:cafe::17]:4711"')
    assert r.status_code == 200, r.text
    r = redeem(remote.codes["M025"], "127.0.0.1", **{"x-forwarded-for": "198.51.100.7"})
    assert r.status_code == 200, r.text


def test_a_cast_on_a_full_disk_is_a_503_with_its_code_and_the_credential_stays_usable(
    remote: Remote,
) -> None:
    """The soak's full disk (bench/soak.py), met at the COMMIT."""
    _, cred = remote.redeem(remote.codes["M020"])
    assert cred is not None
    body = remote.cast_body(cred)

    before = remote.log()
    with disk_full(remote.app.state.service.session.store):
        r = remote.client.post("/api/remote/cast", json=body)
    assert r.status_code == 503
    assert r.json()["code"] == "store.disk_full"
    assert remote.log() == before
    r = remote.client.post("/api/remote/cast", json=body)
    assert r.status_code == 200, r.text
    assert r.json()["format"] == "remote-receipt/2"
    assert [row[1] for row in remote.pending()] == [_b64(cred.token)]
