"""The head of the verification group withdraws a reporter or gives a new access code on the
reporters' register (spec/procedure.md RP-9.1, RP-9.2): hostile cases first, a refusal stores
nothing and ends nothing; the new code is shown once; the old code, and every session signed in
with it, stop at once (also when ``tally casework replace-code`` changes it beside the service)."""

from __future__ import annotations

import json
import re
import secrets
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tally.casework_store import CaseworkStore
from tests.helpers.casework_service import CaseworkService, casework_service
from tests.integration.test_casework_pages import JSON, _csrf_of, _field, _official, _reporter


@pytest.fixture
def svc(tmp_path: Path) -> CaseworkService:
    return casework_service(tmp_path)


def _rows(svc: CaseworkService) -> list[bytes]:
    rows: list[bytes] = svc.on_thread(lambda s: s.log_rows())
    return rows


def _act(c: TestClient, path: str, **data: str) -> Any:
    fields = {"csrf": _csrf_of(c, "/casework/reporters"), **data}
    return c.post(path, data=fields, headers=JSON)


def _signed_in(c: TestClient) -> bool:
    status: int = c.get("/report/", follow_redirects=False).status_code
    return status == 200


def _code_signs_in(svc: CaseworkService, code: str) -> int:
    c = TestClient(svc.app)
    pre = _field(c.get("/report/login").text, "csrf")
    r = c.post("/report/login", data={"csrf": pre, "code": code}, follow_redirects=False)
    status: int = r.status_code
    return status


@pytest.mark.parametrize(
    ("who", "path", "fields", "status", "code"),
    [
        ("officer", "/casework/reporters/R01/withdraw", {"reason": "辞去"}, 403, "case.role"),
        ("town", "/casework/reporters/R01/withdraw", {"reason": "辞去"}, 403, "case.role"),
        ("officer", "/casework/reporters/R01/code", {}, 403, "case.role"),
        ("head", "/casework/reporters/R01/withdraw", {"csrf": "forged"}, 403, "casework.csrf"),
        ("head", "/casework/reporters/R01/code", {"csrf": "forged"}, 403, "casework.csrf"),
        ("head", "/casework/reporters/R09/withdraw", {"reason": "x"}, 404, "reporter.unknown"),
        ("head", "/casework/reporters/R09/code", {}, 404, "reporter.unknown"),
        ("head", "/casework/reporters/R01/withdraw", {"reason": " "}, 422, "case.reason"),
    ],
    ids=[
        "officer-withdraw",
        "town-withdraw",
        "officer-code",
        "csrf-withdraw",
        "csrf-code",
        "unknown-withdraw",
        "unknown-code",
        "no-reason",
    ],
)
def test_refusals_store_nothing_and_end_no_session(
    svc: CaseworkService, who: str, path: str, fields: dict[str, str], status: int, code: str
) -> None:
    phone = _reporter(svc, "R01")
    c = _official(svc, who)
    before = _rows(svc)
    stamp = svc.on_thread(lambda s: s.access_stamp("R01"))
    r = _act(c, path, **fields)
    assert r.status_code == status and r.json()["code"] == code, r.text
    assert r.json()["zh"] and r.json()["en"]
    assert _rows(svc) == before
    assert svc.on_thread(lambda s: s.access_stamp("R01")) == stamp
    assert _signed_in(phone)


def test_without_a_session_the_buttons_are_refused(svc: CaseworkService) -> None:
    before = _rows(svc)
    c = TestClient(svc.app)
    r = c.post("/casework/reporters/R01/code", data={}, headers=JSON)
    assert r.status_code == 401 and r.json()["code"] == "casework.signin"
    assert _rows(svc) == before


def test_the_head_withdraws_a_reporter_whose_code_and_session_stop_at_once(
    svc: CaseworkService,
) -> None:
    phone = _reporter(svc, "R01")
    other = _reporter(svc, "R02")
    head = _official(svc, "head")
    page = head.get("/casework/reporters").text
    assert 'action="/casework/reporters/R01/withdraw"' in page
    r = head.post(
        "/casework/reporters/R01/withdraw",
        data={"csrf": _csrf_of(head, "/casework/reporters"), "reason": "本人辞去"},
    )
    assert r.status_code == 200 and 'id="done"' in r.text
    last = json.loads(_rows(svc)[-1])
    assert last["type"] == "reporter.withdrawn" and last["actor"] == "head"
    assert last["body"] == {"reporter": "R01", "reason": "本人辞去"}
    assert 'action="/casework/reporters/R01/withdraw"' not in r.text  # no buttons on a withdrawn
    assert not _signed_in(phone)
    assert phone.post("/report/", data={"what": "x"}, headers=JSON).status_code == 401
    assert _code_signs_in(svc, svc.codes["R01"]) == 401
    assert _signed_in(other)  # another reporter's session stays
    r = _act(head, "/casework/reporters/R01/code")
    assert r.status_code == 404 and r.json()["code"] == "reporter.unknown"


def test_a_new_access_code_is_shown_once_and_the_old_one_stops_at_once(
    svc: CaseworkService,
) -> None:
    phone = _reporter(svc, "R01")
    head = _official(svc, "head")
    before = _rows(svc)
    r = head.post(
        "/casework/reporters/R01/code", data={"csrf": _csrf_of(head, "/casework/reporters")}
    )
    assert r.status_code == 200
    found = re.search(r'id="access-code">([0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4})<', r.text)
    assert found is not None and found[1] != svc.codes["R01"]
    assert "已更换访问码" in r.text
    assert found[1] not in head.get("/casework/reporters").text  # shown once
    assert _rows(svc) == before  # the code is never in the log
    assert not _signed_in(phone)
    assert _code_signs_in(svc, svc.codes["R01"]) == 401
    assert _code_signs_in(svc, found[1]) == 303


def test_a_code_replaced_by_the_cli_beside_the_service_ends_the_session(
    svc: CaseworkService,
) -> None:
    phone = _reporter(svc, "R01")
    assert _signed_in(phone)
    store = CaseworkStore.open(svc.casework)
    try:
        new = store.replace_code("R01", random=secrets.token_bytes)
    finally:
        store.close()
    assert not _signed_in(phone)
    assert _code_signs_in(svc, new) == 303


def test_the_buttons_are_the_heads_only(svc: CaseworkService) -> None:
    officer = _official(svc, "officer")
    page = officer.get("/casework/reporters").text
    assert "/casework/reporters/R01/code" not in page
    head = _official(svc, "head").get("/casework/reporters?lang=en").text
    assert "New access code" in head and "Withdraw" in head
