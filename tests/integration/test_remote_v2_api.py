"""Remote ballots version 2 through the HTTP API (spec/remote-v2.md §4, §6; v2contract): the test
is the device. Refusals first, each with its code, both languages and the store unchanged; then a
whole election: redemption with the write-in lists, casts kept pending and listed on the board,
the close, the receipts' inclusion proofs, the totals decrypted and counted with the paper
rounds."""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

import ballot_printer
import keys
from keys import remote_ballot
from keys.remote_tokens import (
    RemoteCredential,
    begin_token_request,
    finish_token_request,
    load_issuer_public_key,
)
from tally.core.definition import parse_definition
from tally.core.manifest import build_manifest, canonical
from tally.election import ElectionSession, EntryInput
from tally.manifest_io import sign_manifest
from tally.remote_device import ballot_context, choices_for
from tally.service import ServiceConfig, create_app
from tally.session_config import SessionConfig
from verifier.merkle import verify_inclusion

ROOT = Path(__file__).resolve().parents[2]
APPROVED = ["M018", "M020", "M025"]
PAPER = [f"M{i:03d}" for i in range(1, 27) if i not in (15, 18, 20, 25)]
PASSPHRASE = "remote test passphrase 2026"


def _pub(s: keys.InMemorySigner) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(keys.export_public_key(s.public_key))
    return doc


def _b64(b: bytes) -> str:
    return base64.b64encode(b).decode()


@dataclass
class Api:
    client: TestClient
    app: Any
    codes: dict[str, str]
    wg: keys.InMemorySigner
    scrutineers: list[keys.InMemorySigner]
    data: Path

    def run(self, fn: Any) -> Any:
        return self.client.portal.call(self.app.state.service.run, fn)  # type: ignore[union-attr]

    def stored(self) -> tuple[object, ...]:
        state = self.app.state.service

        def read() -> tuple[object, ...]:
            st = state.session.store
            return (st.log_rows(), [c.text for c in st.checkpoints()], st.pending_casts())

        result: tuple[object, ...] = state.thread.submit(read).result()
        return result

    def settle(self) -> None:
        """Wait until the checker's verdict on every received cast is applied (RV-4.5)."""
        self.client.portal.call(self.app.state.remote_checks.idle)  # type: ignore[union-attr]

    def status(self, receipt: str, lang: str = "zh") -> dict[str, Any]:
        r = self.client.get("/api/remote/receipt", params={"receipt": receipt, "lang": lang})
        assert r.status_code == 200, r.text
        body: dict[str, Any] = r.json()
        return body

    def info(self) -> dict[str, Any]:
        data: dict[str, Any] = self.client.get("/api/remote/info").json()
        return data

    def redeem(self, member: str) -> tuple[RemoteCredential, dict[str, Any]]:
        info = self.info()
        issuer = load_issuer_public_key(base64.b64decode(info["issuer_key"]))
        req = begin_token_request(issuer, bytes.fromhex(info["election_id"]))
        r = self.client.post(
            "/api/remote/redeem",
            json={"code": self.codes[member], "blinded_msg": _b64(req.blinded_msg)},
        )
        assert r.status_code == 200, r.text
        body: dict[str, Any] = r.json()
        return finish_token_request(req, issuer, base64.b64decode(body["blind_sig"])), body

    def ballot(
        self, cred: RemoteCredential, redeemed: dict[str, Any], approvals: dict[str, list[str]]
    ) -> dict[str, Any]:
        info = self.info()
        lists = redeemed["write_in_lists"]
        return remote_ballot.encrypt_ballot(
            ballot_context(info, lists), cred.token, choices_for(info, lists, approvals)
        )

    def cast(self, cred: RemoteCredential, ballot: Any, query: str = "") -> Any:
        return self.client.post(
            "/api/remote/cast" + query,
            json={
                "token": _b64(cred.token),
                "token_prefix": _b64(cred.prefix),
                "token_signature": _b64(cred.signature),
                "ballot": ballot,
            },
        )


@pytest.fixture
def api(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Api]:
    monkeypatch.setenv("TALLY_PASSPHRASE", PASSPHRASE)
    town = keys.InMemorySigner.generate(keys.Role.TOWN_COMMITTEE, "town")
    wg = keys.InMemorySigner.generate(keys.Role.WORK_GROUP, "wg")
    scs = [keys.InMemorySigner.generate(keys.Role.SCRUTINEER, f"s{i}") for i in (1, 2)]
    text = (ROOT / "examples" / "qingshan.toml").read_text(encoding="utf-8")
    text = text.replace('approved = ["M020"]', f"approved = {json.dumps(APPROVED)}")
    manifest = build_manifest(
        parse_definition(text), work_group_key=_pub(wg), scrutineer_keys=tuple(_pub(x) for x in scs)
    )
    data = tmp_path / "svc"
    s = ElectionSession.init(
        SessionConfig(tmp_path / "e.db", passphrase=PASSPHRASE), sign_manifest(manifest, town), wg
    )
    s.remote.open(signer=wg, k=2, data_dir=data)
    codes = {m: s.remote.issue_invitation(m, data_dir=data)[0] for m in APPROVED}
    s.store.close()
    app = create_app(ServiceConfig(election_path=tmp_path / "e.db", data_dir=data))
    app.state.service.signer = wg
    with TestClient(app) as client:
        yield Api(client, app, codes, wg, scs, data)


def _refused(api: Api, r: Any, status: int, code: str, before: tuple[object, ...]) -> None:
    assert r.status_code == status, (r.status_code, r.text[:300])
    body = r.json()
    assert body["code"] == code, body
    assert body["zh"] and body["en"] and body["zh"] != body["en"]
    assert api.stored() == before


# -- refusals ---------------------------------------------------------------------------------


def test_info_gives_version_key_listed_candidates_and_no_write_in_list(api: Api) -> None:
    info = api.info()
    assert info["version"] == 2 and info["approved_count"] == 3
    assert set(info["election_key"]) == {"k", "n", "commitments"}
    assert info["election_key"]["k"] == 2 and info["election_key"]["n"] == 2
    committee = info["posts"][0]
    assert committee["post"] == "committee" and committee["seats"] == 5
    assert [c["id"] for c in committee["listed"]] == [
        "M001",
        "M002",
        "M003",
        "M004",
        "M005",
        "M006",
    ]
    assert committee["write_in_requires_disapproval"] is False
    # RV-2.3: the names of the write-in lists only at redemption.
    assert "write_in_lists" not in info and "丁建国" in json.dumps(info, ensure_ascii=False)
    assert "何长青" not in json.dumps(info, ensure_ascii=False)  # M018: not a listed candidate


def test_redemption_gives_the_write_in_lists_with_names_and_the_key(api: Api) -> None:
    _cred, body = api.redeem("M020")
    assert body["election_key"] == api.info()["election_key"]
    lists = body["write_in_lists"]
    assert [w["post"] for w in lists] == ["committee", "secretary"]
    committee = [m["member"] for m in lists[0]["members"]]
    assert committee == sorted(committee) and not {"M001", "M006", "M015"} & set(committee)
    assert {"member": "M018", "name": "何长青"} in lists[0]["members"]


def test_a_ballot_failing_its_proofs_is_received_then_refused_with_its_code(api: Api) -> None:
    """RV-4.1, RV-4.5: the proofs are checked after the answer; a malformed shape is still 422."""
    cred, redeemed = api.redeem("M020")
    ballot = api.ballot(cred, redeemed, {"committee": ["M001"], "secretary": ["M005"]})
    proof = bytearray(base64.b64decode(ballot["posts"][0]["sum_proof"]))
    proof[0] ^= 1
    bad = json.loads(json.dumps(ballot))
    bad["posts"][0]["sum_proof"] = _b64(bytes(proof))
    before = api.stored()
    _refused(
        api, api.cast(cred, {"format": "remote-ballot/2"}), 422, "remote.ballot_invalid", before
    )
    r = api.cast(cred, bad)
    assert r.status_code == 200 and r.json()["status"] == "received", r.text
    api.settle()
    refused = api.status(r.json()["receipt"])
    assert refused["status"] == "refused" and refused["code"] == "elgamal.sum_proof", refused
    assert api.status(r.json()["receipt"], "en")["message"] != refused["message"]
    assert api.stored() == before  # the row went; the token is free again
    again = api.cast(cred, ballot)
    assert again.status_code == 200, again.text
    api.settle()
    assert api.status(again.json()["receipt"]) == {"status": "accepted"}


def test_a_replayed_cast_is_409_and_a_cast_after_the_close_409(api: Api) -> None:
    cred, redeemed = api.redeem("M020")
    ballot = api.ballot(cred, redeemed, {"committee": ["M001"], "secretary": ["M005"]})
    r = api.cast(cred, ballot)
    assert r.status_code == 200, r.text
    before = api.stored()
    _refused(api, api.cast(cred, ballot), 409, "remote.token_used", before)
    cred2, redeemed2 = api.redeem("M025")
    ballot2 = api.ballot(cred2, redeemed2, {"committee": ["M002"], "secretary": ["M004"]})
    api.run(lambda s: s.remote.close(signer=api.wg, data_dir=api.data))
    before = api.stored()
    _refused(api, api.cast(cred2, ballot2), 409, "remote.closed", before)


def test_a_sealed_cast_of_the_withdrawn_version_1_is_refused(api: Api) -> None:
    cred, _ = api.redeem("M020")
    before = api.stored()
    r = api.client.post(
        "/api/remote/cast",
        json={
            "token": _b64(cred.token),
            "token_prefix": _b64(cred.prefix),
            "token_signature": _b64(cred.signature),
            "sealed": _b64(bytes(100)),
        },
    )
    _refused(api, r, 422, "request.malformed", before)


def test_the_cast_route_takes_300_kib_and_no_more(api: Api) -> None:
    cred, redeemed = api.redeem("M020")
    ballot = api.ballot(cred, redeemed, {"committee": ["M001"], "secretary": ["M005"]})
    before = api.stored()
    # 280 KiB: past the service's 256 KiB, within the route's 300 KiB: the route answers, and
    # RV-3.5 refuses the ballot by its own limit (262,144 JCS bytes).
    padded = {**ballot, "padding": "a" * (280 * 1024)}
    _refused(api, api.cast(cred, padded), 413, "remote.ballot_too_large", before)
    huge = {**ballot, "padding": "a" * (310 * 1024)}
    _refused(api, api.cast(cred, huge), 413, "request.too_large", before)


# -- a whole election through the API ---------------------------------------------------------


def _round(api: Api, kind: ballot_printer.PaperKind, marks: str) -> dict[str, Any]:
    wg = api.wg

    def go(s: ElectionSession) -> dict[str, Any]:
        spec = s.due_round()
        stock = ballot_printer.make_stock(
            election_id=s.manifest.election_id,
            kind=kind,
            round_number=spec.number,
            count=len(PAPER),
            signer=wg,
        )
        s.commit_stock(stock, signer=wg)
        s.issue(count=None, signer=wg)
        s.return_ballots(len(PAPER), signer=wg)
        s.enter(
            [EntryInput(qr=ballot_printer.encode_qr_text(p), marks=marks) for p in stock.payloads]
        )
        return dict(s.close(signer=wg).body)

    result: dict[str, Any] = api.run(go)
    return result


def test_v2_election_through_the_api(api: Api) -> None:
    votes = {
        "M020": {"committee": ["M001", "M002"], "secretary": ["M005"]},
        "M025": {"committee": ["M001", "M018"], "secretary": ["M004"]},  # M018 written in
        "M018": {"committee": ["M003"], "secretary": ["M005"]},
    }
    receipts: dict[str, str] = {}
    for member, approvals in votes.items():
        cred, redeemed = api.redeem(member)
        r = api.cast(cred, api.ballot(cred, redeemed, approvals))
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["format"] == "remote-receipt/2"
        assert body["election_id"] == api.info()["election_id"]
        receipts[member] = body["receipt"]
        assert body["status"] == "received"
    api.settle()
    for receipt in receipts.values():
        assert api.status(receipt) == {"status": "accepted"}
    board = api.client.get("/api/board/remote").json()
    assert board == {"status": "pending", "count": 3, "receipts": sorted(receipts.values())}
    log_rows = api.run(lambda s: s.store.log_rows())
    assert not any(b'"remote.cast"' in raw for _, raw in log_rows)  # RV-4.1: nothing logged
    api.run(lambda s: s.remote.close(signer=api.wg, data_dir=api.data))
    for member, receipt in receipts.items():
        r = api.client.get("/api/remote/receipt", params={"receipt": receipt})
        proof = r.json()
        assert proof["status"] == "logged", (member, proof)
        entry = json.loads(proof["entry"])
        ballot = entry["body"]["ballot"]
        assert (
            hashlib.sha256(b"branch-election/remote-receipt/2\x00" + canonical(ballot)).hexdigest()
            == receipt
        )
        size = int(proof["checkpoint"].split("\n")[1])
        root = base64.b64decode(proof["checkpoint"].split("\n")[2])
        leaf = hashlib.sha256(b"\x00" + proof["entry"].encode()).digest()
        verify_inclusion(
            leaf, proof["leaf_index"], size, [base64.b64decode(h) for h in proof["proof"]], root
        )
    logged = api.client.get("/api/board/remote").json()
    assert logged["status"] == "logged" and logged["count"] == 3
    assert [x["receipt"] for x in logged["receipts"]] == sorted(receipts.values())
    assert [x["leaf_index"] for x in logged["receipts"]] == sorted(
        x["leaf_index"] for x in logged["receipts"]
    )
    api.run(lambda s: s.check_in(PAPER))
    api.run(lambda s: s.remote.decrypt(api.scrutineers[1], signer=None, data_dir=api.data))
    out = api.run(lambda s: s.remote.decrypt(api.scrutineers[0], signer=api.wg, data_dir=api.data))
    assert out["totals"][0]["totals"][:6] == [2, 1, 1, 0, 0, 0]
    committee = _round(api, ballot_printer.PaperKind.COMMITTEE, "ooooox")
    paper = len(PAPER)
    assert committee["remote_ballots"] == 3
    approvals = {a["member"]: a["approvals"] for a in committee["approvals"]}
    assert approvals["M001"] == paper + 2 and approvals["M002"] == paper + 1
    assert approvals["M003"] == paper + 1 and approvals.get("M006", 0) == 0
    assert approvals.get("M018") == 1  # written in from the list; M018 is write-in-eligible
    secretary = _round(api, ballot_printer.PaperKind.SECRETARY, "ox")
    approvals = {a["member"]: a["approvals"] for a in secretary["approvals"]}
    assert approvals["M005"] == paper + 2 and approvals["M004"] == 1


def test_the_server_keeps_no_access_log(api: Api) -> None:
    """RV-1.2, RM-10.4(b): nothing the service runs logs a line per request (which would time
    every cast)."""
    from tally.service.limits import uvicorn_config  # noqa: PLC0415

    config = uvicorn_config(api.app, host="127.0.0.1", port=0)
    assert config.access_log is False
    assert config.log_level == "warning"
