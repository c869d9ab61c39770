"""Remote casts are received, then checked (spec/remote-v2.md RV-4.1, RV-4.3 to RV-4.6): the hostile
cases through the HTTP API, the test being the device. The checker is the real process pool, or a
held one (its verdicts come only when the test says) where a cast must stay ``received``."""

from __future__ import annotations

import base64
import json
import os
from collections.abc import Iterator
from concurrent.futures import Future
from pathlib import Path
from typing import Any

import pytest
import rfc8785
from fastapi.testclient import TestClient

import keys
from keys import remote_ballot
from keys.remote_tokens import RemoteCredential
from tally.core.definition import parse_definition
from tally.core.manifest import build_manifest
from tally.election import ElectionSession
from tally.manifest_io import sign_manifest
from tally.remote_checker import CHECKER_NICE, MAX_REFUSALS_PER_TOKEN, Checker, Verdict
from tally.service import ServiceConfig, create_app
from tally.session_config import SessionConfig
from tests.integration.test_remote_v2_api import APPROVED, PASSPHRASE, ROOT, Api, _pub

VOTE = {"committee": ["M001"], "secretary": ["M005"]}


class HeldChecker:
    """A checker whose verdicts come when the test releases them: until then the casts stay
    ``received``."""

    def __init__(self) -> None:
        self.jobs: list[tuple[str, Future[Verdict]]] = []

    def submit(self, receipt: str, token: str, ballot: Any) -> tuple[int, Future[Verdict]]:
        future: Future[Verdict] = Future()
        self.jobs.append((receipt, future))
        return 0, future

    def broken(self, generation: int) -> None:
        pass

    def shutdown(self) -> None:
        for _, f in self.jobs:
            f.cancel()


class DiesWhenUnpickled:
    """A ballot context whose arrival kills the checker process (a crash of the checker)."""

    def __reduce__(self) -> tuple[Any, tuple[int]]:
        return (os._exit, (70,))


class Service:
    """The election file and its service, which the test may stop and start again."""

    def __init__(self, tmp_path: Path) -> None:
        town = keys.InMemorySigner.generate(keys.Role.TOWN_COMMITTEE, "town")
        self.wg = keys.InMemorySigner.generate(keys.Role.WORK_GROUP, "wg")
        scs = [keys.InMemorySigner.generate(keys.Role.SCRUTINEER, f"s{i}") for i in (1, 2)]
        text = (ROOT / "examples" / "qingshan.toml").read_text(encoding="utf-8")
        text = text.replace('approved = ["M020"]', f"approved = {json.dumps(APPROVED)}")
        manifest = build_manifest(
            parse_definition(text),
            work_group_key=_pub(self.wg),
            scrutineer_keys=tuple(_pub(x) for x in scs),
        )
        self.path = tmp_path / "e.db"
        self.data = tmp_path / "svc"
        config = SessionConfig(self.path, passphrase=PASSPHRASE)
        s = ElectionSession.init(config, sign_manifest(manifest, town), self.wg)
        s.remote.open(signer=self.wg, k=2, data_dir=self.data)
        self.codes = {m: s.remote.issue_invitation(m, data_dir=self.data)[0] for m in APPROVED}
        self.scrutineers = scs
        s.store.close()
        self.client: TestClient | None = None

    def start(self) -> Api:
        app = create_app(ServiceConfig(election_path=self.path, data_dir=self.data))
        app.state.service.signer = self.wg
        self.client = TestClient(app)
        self.client.__enter__()
        return Api(self.client, app, self.codes, self.wg, self.scrutineers, self.data)

    def stop(self) -> None:
        if self.client is not None:
            self.client.__exit__(None, None, None)
            self.client = None


@pytest.fixture
def service(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Service]:
    monkeypatch.setenv("TALLY_PASSPHRASE", PASSPHRASE)
    svc = Service(tmp_path)
    yield svc
    svc.stop()


def _replace_checker(api: Api, checker: Any) -> None:
    """The service's checker (started with the service) stopped and replaced by ``checker``."""
    checks = api.app.state.remote_checks
    if checks.checker is not None:
        checks.checker.shutdown()
    checks.checker = checker


def _hold(api: Api) -> HeldChecker:
    """A held checker, given each cast as soon as it is received (no quiet time: the test counts
    what it was given right after the answer)."""
    held = HeldChecker()
    _replace_checker(api, held)
    api.app.state.remote_checks.quiet_seconds = 0.0
    return held


def _bad_proof(ballot: dict[str, Any]) -> dict[str, Any]:
    """The ballot with one bit of its committee sum proof flipped (a canonical scalar still)."""
    bad: dict[str, Any] = json.loads(json.dumps(ballot))
    proof = bytearray(base64.b64decode(bad["posts"][0]["sum_proof"]))
    proof[0] ^= 1
    bad["posts"][0]["sum_proof"] = base64.b64encode(bytes(proof)).decode()
    return bad


def _cast(api: Api, cred: RemoteCredential, ballot: dict[str, Any]) -> str:
    r = api.cast(cred, ballot)
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "received"
    receipt: str = r.json()["receipt"]
    return receipt


def _logged_receipts(api: Api) -> list[str]:
    rows = api.run(lambda s: s.store.log_rows_of_types(["remote.cast"]))
    return [remote_ballot.ballot_receipt(json.loads(raw)["body"]["ballot"]) for _, raw in rows]


def test_an_invalid_proof_is_received_then_refused_and_the_token_cast_again(
    service: Service,
) -> None:
    api = service.start()
    cred, redeemed = api.redeem("M020")
    ballot = api.ballot(cred, redeemed, VOTE)
    bad = _cast(api, cred, _bad_proof(ballot))
    api.settle()
    status = api.status(bad)
    assert status["status"] == "refused" and status["code"] == "elgamal.sum_proof", status
    assert api.status(bad, "en")["message"] != status["message"]  # zh by default, en by a switch
    good = _cast(api, cred, ballot)  # the token is free again
    api.settle()
    assert api.status(good) == {"status": "accepted"}
    assert api.client.get("/api/board/remote").json()["receipts"] == [good]


def test_a_cast_waits_while_casts_arrive_and_is_accepted_within_max_hold_all_the_same(
    service: Service,
) -> None:
    """(RV-4.5) The checker holds back while casts arrive (a quiet time never reached here), and
    is given the cast all the same once it waited ``max_hold_seconds``."""
    api = service.start()
    checks = api.app.state.remote_checks
    checks.quiet_seconds, checks.max_hold_seconds = 3600.0, 2.0
    cred, redeemed = api.redeem("M020")
    receipt = _cast(api, cred, api.ballot(cred, redeemed, VOTE))
    assert checks.waiting == 1 and api.status(receipt) == {"status": "received"}
    api.settle()
    assert checks.waiting == 0 and api.status(receipt) == {"status": "accepted"}


def test_the_same_refused_ballot_is_refused_again_at_once(service: Service) -> None:
    api = service.start()
    cred, redeemed = api.redeem("M020")
    bad = _bad_proof(api.ballot(cred, redeemed, VOTE))
    _cast(api, cred, bad)
    api.settle()
    before = api.stored()
    r = api.cast(cred, bad)
    assert r.status_code == 422 and r.json()["code"] == "elgamal.sum_proof", r.text
    assert api.stored() == before


def test_a_token_refused_three_times_is_exhausted(service: Service) -> None:
    api = service.start()
    cred, redeemed = api.redeem("M020")
    for _ in range(MAX_REFUSALS_PER_TOKEN):
        _cast(api, cred, _bad_proof(api.ballot(cred, redeemed, VOTE)))  # fresh randomness
        api.settle()
    before = api.stored()
    r = api.cast(cred, api.ballot(cred, redeemed, VOTE))  # even a valid ballot
    assert r.status_code == 409, r.text
    body = r.json()
    assert body["code"] == "remote.token_exhausted" and body["zh"] and body["en"]
    assert api.stored() == before


def test_a_malformed_shape_is_refused_at_once_with_422(service: Service) -> None:
    api = service.start()
    held = _hold(api)
    cred, redeemed = api.redeem("M020")
    ballot = api.ballot(cred, redeemed, VOTE)
    before = api.stored()
    short = json.loads(json.dumps(ballot))
    short["posts"][0]["choice_proofs"][0] = base64.b64encode(bytes(96)).decode()
    for doc, code in [
        (short, "elgamal.proof_length"),
        ({**ballot, "posts": ballot["posts"][:1]}, "remote.ballot_invalid"),
        ({**ballot, "extra": 1}, "remote.ballot_invalid"),
    ]:
        r = api.cast(cred, doc)
        assert r.status_code == 422 and r.json()["code"] == code, r.text
    assert api.stored() == before and held.jobs == []  # nothing stored, nothing to check


def test_the_same_token_twice_while_received_is_409(service: Service) -> None:
    api = service.start()
    held = _hold(api)
    cred, redeemed = api.redeem("M020")
    first = _cast(api, cred, api.ballot(cred, redeemed, VOTE))
    assert api.status(first) == {"status": "received"}
    before = api.stored()
    r = api.cast(cred, api.ballot(cred, redeemed, {"committee": ["M002"], "secretary": ["M004"]}))
    assert r.status_code == 409 and r.json()["code"] == "remote.token_used", r.text
    assert api.stored() == before and len(held.jobs) == 1
    assert api.client.get("/api/board/remote").json()["receipts"] == []  # not checked yet


def test_received_casts_are_checked_after_a_restart(service: Service) -> None:
    api = service.start()
    _hold(api)
    cred, redeemed = api.redeem("M020")
    receipt = _cast(api, cred, api.ballot(cred, redeemed, VOTE))
    service.stop()  # the held verdict never came
    api = service.start()  # the start queues the received casts again
    api.settle()
    assert api.status(receipt) == {"status": "accepted"}


def test_the_close_checks_received_casts_and_logs_no_refused_one(service: Service) -> None:
    api = service.start()
    _hold(api)
    cred_a, redeemed_a = api.redeem("M020")
    cred_b, redeemed_b = api.redeem("M025")
    good = _cast(api, cred_a, api.ballot(cred_a, redeemed_a, VOTE))
    bad = _cast(api, cred_b, _bad_proof(api.ballot(cred_b, redeemed_b, VOTE)))
    api.run(lambda s: s.remote.close(signer=api.wg, data_dir=api.data))
    assert _logged_receipts(api) == [good]
    closed = [
        json.loads(raw)["body"]
        for _, raw in api.run(lambda s: s.store.log_rows_of_types(["remote.closed"]))
    ]
    assert closed == [{"credentials": 2, "casts": 1}]
    assert api.status(good)["status"] == "logged"
    refused = api.status(bad)
    assert refused["status"] == "refused" and refused["code"] == "elgamal.sum_proof"


def test_a_checker_crash_leaves_the_cast_received_and_the_close_checks_it(
    service: Service,
) -> None:
    api = service.start()
    _replace_checker(api, Checker(DiesWhenUnpickled()))  # type: ignore[arg-type]
    cred, redeemed = api.redeem("M020")
    receipt = _cast(api, cred, api.ballot(cred, redeemed, VOTE))
    api.settle()  # the pool broke: no verdict
    assert api.status(receipt) == {"status": "received"}
    api.run(lambda s: s.remote.close(signer=api.wg, data_dir=api.data))
    assert _logged_receipts(api) == [receipt]
    assert api.status(receipt)["status"] == "logged"


def test_the_checker_runs_at_the_lowest_priority_and_checks_the_stored_bytes(
    service: Service,
) -> None:
    """(RV-4.5) The checker process yields most of the CPU to the service (nice 10) but stays in
    the normal scheduling class, so load never starves it; it is given the ballot context once, at
    its start, and each cast as its stored token and JCS bytes."""
    api = service.start()
    checker = api.app.state.remote_checks.checker
    assert isinstance(checker, Checker)
    pool = checker._executor()
    assert pool.submit(os.nice, 0).result() == CHECKER_NICE == 10
    if hasattr(os, "SCHED_OTHER"):
        assert pool.submit(os.sched_getscheduler, 0).result() == os.SCHED_OTHER
    cred, redeemed = api.redeem("M020")
    ballot = api.ballot(cred, redeemed, VOTE)
    token = base64.b64encode(cred.token).decode()
    jcs = rfc8785.dumps(ballot)
    receipt = remote_ballot.ballot_receipt(ballot)
    bad = rfc8785.dumps(_bad_proof(ballot))
    _, good_verdict = checker.submit(receipt, token, jcs)
    _, bad_verdict = checker.submit(remote_ballot.ballot_receipt(_bad_proof(ballot)), token, bad)
    assert good_verdict.result(timeout=60) == Verdict(receipt)
    assert bad_verdict.result(timeout=60).code == "elgamal.sum_proof"
