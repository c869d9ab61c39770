"""The casework pages over real files (FastAPI TestClient): the reporter's phone page, the public
objection form and status page, the verification group's and the town committee's pages
(spec/procedure.md §8, §9, RP-9.7, RP-9.8, RP-11.4).

Hostile cases first: each refusal has its status and code, and the log and the photos are as they
were before it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from tally.service.accounts import FREE_FAILURES
from tally.service.casework import REPORT_BODY_SECONDS, request_limits
from tally.service.limits import RequestLimits
from tally.service.transport import is_public_path
from tests.helpers.casework import at, jpeg, png
from tests.helpers.casework_service import CaseworkService, casework_service

JSON = {"accept": "application/json"}
MIB = 1024 * 1024


@pytest.fixture
def svc(tmp_path: Path) -> CaseworkService:
    # The smallest photo limit the definition allows, so an oversized photo stays small.
    return casework_service(tmp_path, max_bytes=MIB, max_count=2)


@pytest.fixture
def client(svc: CaseworkService) -> Iterator[TestClient]:
    with TestClient(svc.app) as c:
        yield c


def _field(html: str, name: str) -> str:
    m = re.search(rf'name="{name}" value="([^"]*)"', html)
    assert m is not None, name
    return m[1]


def _stored(svc: CaseworkService) -> tuple[int, int]:
    """(log entries, photos) in the file."""

    def count(s: Any) -> tuple[int, int]:
        photos = s._conn.execute("SELECT COUNT(*) FROM photos").fetchone()[0]
        return len(s.log_rows()), photos

    result: tuple[int, int] = svc.on_thread(count)
    return result


# -- the reporter ----------------------------------------------------------------------------------
def _reporter(svc: CaseworkService, rid: str = "R01") -> TestClient:
    c = TestClient(svc.app)
    page = c.get("/report/login")
    r = c.post(
        "/report/login",
        data={"csrf": _field(page.text, "csrf"), "code": svc.codes[rid]},
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    return c


def _report_form(c: TestClient) -> dict[str, str]:
    page = c.get("/report/")
    assert page.status_code == 200
    return {"csrf": _field(page.text, "csrf"), "submission": _field(page.text, "submission")}


def _send(
    c: TestClient,
    photos: list[bytes] | None = None,
    *,
    as_json: bool = True,
    extra: dict[str, str] | None = None,
    **fields: str,
) -> Any:
    data = {**_report_form(c), "what": "有人在村口发红包拉票", "branch": "B01", **fields}
    data.update(extra or {})
    files = [("photos", (f"p{i}.png", p, "image/png")) for i, p in enumerate(photos or [])]
    return c.post("/report/", data=data, files=files or None, headers=JSON if as_json else {})


def test_reporter_signs_in_with_the_access_code_and_reports(svc: CaseworkService) -> None:
    c = _reporter(svc)
    r = _send(c, [png(10, 10), jpeg(20, 10)], where="村口", when_date="2026-09-27")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["ok"] and body["reference"] == "MQ-2026-00001" and body["notes"] == []
    assert svc.log_types()[-1] == "report.received"
    assert _stored(svc)[1] == 2
    page = c.get(body["next"])
    assert "MQ-2026-00001" in page.text and "已受理" in page.text


def test_reporter_access_code_is_typed_loosely(svc: CaseworkService) -> None:
    c = TestClient(svc.app)
    page = c.get("/report/login")
    typed = svc.codes["R01"].replace("-", " ").lower()
    r = c.post(
        "/report/login",
        data={"csrf": _field(page.text, "csrf"), "code": typed},
        follow_redirects=False,
    )
    assert r.status_code == 303


def test_reporter_wrong_code_is_refused_then_backs_off(svc: CaseworkService) -> None:
    c = TestClient(svc.app)
    pre = _field(c.get("/report/login").text, "csrf")
    for i in range(1, FREE_FAILURES):
        r = c.post("/report/login", data={"csrf": pre, "code": "AAAA-BBBB-CCCC"}, headers=JSON)
        assert r.status_code == 401 and r.json()["code"] == "reporter.code_wrong", i
    r = c.post("/report/login", data={"csrf": pre, "code": "AAAA-BBBB-CCCC"}, headers=JSON)
    assert r.status_code == 429 and r.json()["code"] == "reporter.locked"
    # locked: even the right code waits
    r = c.post("/report/login", data={"csrf": pre, "code": svc.codes["R01"]}, headers=JSON)
    assert r.status_code == 429


def _at(svc: CaseworkService, address: str) -> TestClient:
    """A browser at ``address`` (the direct peer the server sees)."""
    return TestClient(svc.app, client=(address, 4000))


def _reporter_sign_in(c: TestClient, code: str) -> Any:
    pre = _field(c.get("/report/login").text, "csrf")
    return c.post("/report/login", data={"csrf": pre, "code": code}, follow_redirects=False)


def test_reporter_wrong_codes_from_one_ipv6_64_back_off_the_whole_64(svc: CaseworkService) -> None:
    """An attacker rotating through the addresses of its /64 is one source (issue 14)."""
    for i in range(1, FREE_FAILURES + 1):
        r = _reporter_sign_in(_at(svc, f"2001:db8:5:6::{i:x}"), "AAAA-BBBB-CCCC")
    assert r.status_code == 429
    assert _reporter_sign_in(_at(svc, "2001:db8:5:6:ffff::1"), svc.codes["R01"]).status_code == 429
    assert _reporter_sign_in(_at(svc, "2001:db8:5:7::1"), svc.codes["R01"]).status_code == 303


def test_reporter_sign_in_without_the_form_token_is_refused(svc: CaseworkService) -> None:
    c = TestClient(svc.app)
    r = c.post("/report/login", data={"code": svc.codes["R01"]}, headers=JSON)
    assert r.status_code == 403 and r.json()["code"] == "casework.csrf"


def test_report_without_a_session_is_refused_and_nothing_stored(svc: CaseworkService) -> None:
    before = _stored(svc)
    c = TestClient(svc.app)
    r = c.get("/report/", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/report/login"
    r = c.post("/report/", data={"what": "x"}, headers=JSON)
    assert r.status_code == 401 and r.json()["code"] == "casework.signin"
    r = c.post("/report/", data={"what": "x"})
    assert r.status_code == 401 and "请先用直报员卡上的访问码登录" in r.text
    assert _stored(svc) == before


def test_report_oversized_photo_is_413_naming_it_and_nothing_stored(svc: CaseworkService) -> None:
    c = _reporter(svc)
    before = _stored(svc)
    r = _send(c, [png(10, 10), png(10, 10, pad=MIB)])
    assert r.status_code == 413
    body = r.json()
    assert body["code"] == "report.photo_too_large" and "第2张" in body["zh"]
    assert _stored(svc) == before


def test_report_photo_of_another_type_is_422(svc: CaseworkService) -> None:
    c = _reporter(svc)
    before = _stored(svc)
    r = _send(c, [b"GIF89a" + b"\x00" * 50])
    assert r.status_code == 422 and r.json()["code"] == "report.photo_type"
    assert _stored(svc) == before


def test_report_too_many_photos_is_422(svc: CaseworkService) -> None:
    c = _reporter(svc)
    r = _send(c, [png(2, 2)] * 3)
    assert r.status_code == 422 and r.json()["code"] == "report.too_many_photos"


def test_report_photo_with_too_many_pixels_is_422(svc: CaseworkService) -> None:
    c = _reporter(svc)
    r = _send(c, [png(10_000, 5_000)])
    assert r.status_code == 422 and r.json()["code"] == "report.photo_too_many_pixels"


def test_report_body_over_the_route_limit_is_413_before_reading(svc: CaseworkService) -> None:
    c = _reporter(svc)
    r = _send(c, [png(2, 2, pad=MIB)] * 3)  # past max_count x max_bytes + the form allowance
    assert r.status_code == 413 and r.json()["code"] == "request.too_large"


def test_report_empty_content_is_422_and_the_page_keeps_the_text(svc: CaseworkService) -> None:
    c = _reporter(svc)
    before = _stored(svc)
    r = _send(c, as_json=False, what="   ", where="村委会门口")
    assert r.status_code == 422
    assert "报告内容不能为空" in r.text and "村委会门口" in r.text
    assert _stored(svc) == before


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({"when_date": "2026-10-30"}, "report.when_future"),
        ({"when_date": "2026-9-1"}, "report.when_format"),
        ({"when_time": "10:00"}, "report.when_format"),
        ({"where": "x" * 201}, "report.where_too_long"),
        ({"branch": "B99"}, "casework.branch_unknown"),
    ],
    ids=["future", "malformed-date", "time-without-date", "where-too-long", "unknown-branch"],
)
def test_report_bad_fields_are_422(svc: CaseworkService, fields: dict[str, str], code: str) -> None:
    c = _reporter(svc)
    before = _stored(svc)
    r = _send(c, extra=fields)
    assert r.status_code == 422 and r.json()["code"] == code
    assert _stored(svc) == before


def test_report_replayed_form_is_refused_naming_the_reference(svc: CaseworkService) -> None:
    c = _reporter(svc)
    form = _report_form(c)
    data = {**form, "what": "发红包", "branch": "B01"}
    assert c.post("/report/", data=data, headers=JSON).status_code == 200
    before = _stored(svc)
    r = c.post("/report/", data=data, headers=JSON)
    assert r.status_code == 409 and r.json()["code"] == "case.replayed"
    assert "MQ-2026-00001" in r.json()["zh"]
    assert _stored(svc) == before


def test_report_without_its_submission_token_is_400(svc: CaseworkService) -> None:
    c = _reporter(svc)
    form = _report_form(c)
    r = c.post("/report/", data={"csrf": form["csrf"], "what": "x"}, headers=JSON)
    assert r.status_code == 400 and r.json()["code"] == "case.token"


def test_report_with_a_forged_csrf_token_is_403(svc: CaseworkService) -> None:
    c = _reporter(svc)
    form = _report_form(c)
    r = c.post("/report/", data={**form, "csrf": "forged", "what": "x"}, headers=JSON)
    assert r.status_code == 403 and r.json()["code"] == "casework.csrf"


def test_report_about_another_branch_is_recorded_and_said(svc: CaseworkService) -> None:
    c = _reporter(svc)
    page = c.get("/report/").text
    assert "可以报告其他支部的问题" in page
    r = _send(c, branch="B02")
    assert r.status_code == 200
    assert r.json()["notes"] == ["所报告的不是本人所在支部，已记录并照常办理"]
    shown = c.get(r.json()["next"]).text
    assert "所报告的不是本人所在支部" in shown


def test_reporter_never_sees_another_reporters_report(svc: CaseworkService) -> None:
    one = _reporter(svc, "R01")
    ref = _send(one, what="一号直报员的报告").json()["reference"]
    two = _reporter(svc, "R02")
    r = two.get(f"/report/case/{ref}")
    assert r.status_code == 404 and "一号直报员的报告" not in r.text
    assert ref not in two.get("/report/").text
    r = two.get("/report/case/MQ-2026-09999")
    assert r.status_code == 404


# -- the public objection form ---------------------------------------------------------------------
def _objection_form(c: TestClient, branch: str = "B01") -> dict[str, str]:
    page = c.get(f"/objection/?branch={branch}")
    assert page.status_code == 200
    return {"csrf": _field(page.text, "csrf"), "submission": _field(page.text, "submission")}


def _lodge(
    c: TestClient, *, as_json: bool = True, extra: dict[str, str] | None = None, **fields: str
) -> Any:
    data = {**_objection_form(c), "branch": "B01", "about": "M001", "what": "存在拉票行为"}
    data.update(fields)
    data.update(extra or {})
    return c.post("/objection/", data=data, headers=JSON if as_json else {})


def test_objection_lodged_shows_reference_and_check_code_once(
    svc: CaseworkService, client: TestClient
) -> None:
    r = _lodge(client, as_json=False)
    assert r.status_code == 200
    assert "YY-2026-00001" in r.text and "请保存异议编号和查询码" in r.text
    assert re.search(r'id="check-code">[0-9A-Z]{4}-[0-9A-Z]{4}<', r.text)
    assert svc.log_types()[-1] == "objection.received"


def test_objection_form_lists_only_branches_in_publicity(client: TestClient) -> None:
    page = client.get("/objection/").text
    assert "/objection/?branch=B01" in page and "/objection/?branch=B02" not in page


@pytest.mark.parametrize(
    ("fields", "status", "code"),
    [
        ({"what": "  \n "}, 422, "objection.empty"),
        ({"about": "M099"}, 422, "objection.about_unknown"),
        ({"name": "名" * 65}, 422, "objection.objector"),
        ({"branch": "B02"}, 409, "objection.not_in_publicity"),
        ({"branch": "B99"}, 422, "casework.branch_unknown"),
        ({"submission": ""}, 400, "case.token"),
        ({"csrf": "forged"}, 403, "casework.csrf"),
    ],
    ids=[
        "empty",
        "about-unknown",
        "objector-too-long",
        "not-in-publicity",
        "unknown-branch",
        "no-token",
        "forged-csrf",
    ],
)
def test_objection_refusals_store_nothing(
    svc: CaseworkService, client: TestClient, fields: dict[str, str], status: int, code: str
) -> None:
    before = _stored(svc)
    r = _lodge(client, extra=fields)
    assert r.status_code == status and r.json()["code"] == code
    assert _stored(svc) == before


def test_objection_refused_page_keeps_what_was_typed(client: TestClient) -> None:
    r = _lodge(client, as_json=False, what=" ", name="张三", contact="13800000000")
    assert r.status_code == 422 and "异议内容不能为空" in r.text
    assert "张三" in r.text and "13800000000" in r.text


def test_objection_replayed_is_refused(svc: CaseworkService, client: TestClient) -> None:
    data = {**_objection_form(client), "branch": "B01", "about": "", "what": "整体有问题"}
    assert client.post("/objection/", data=data, headers=JSON).status_code == 200
    before = _stored(svc)
    r = client.post("/objection/", data=data, headers=JSON)
    assert r.status_code == 409 and r.json()["code"] == "case.replayed"
    assert _stored(svc) == before


def test_objection_sixth_in_an_hour_from_one_address_is_429(client: TestClient) -> None:
    for _ in range(5):
        assert _lodge(client).status_code == 200
    r = _lodge(client)
    assert r.status_code == 429 and r.json()["code"] == "objection.rate_limited"


def test_objection_status_by_reference_and_check_code(client: TestClient) -> None:
    body = _lodge(client).json()
    r = client.post(
        "/objection/status",
        data={"reference": body["reference"], "check_code": body["check_code"].lower()},
        headers=JSON,
    )
    assert r.status_code == 200
    assert r.json() == {
        "ok": True,
        "reference": "YY-2026-00001",
        "state": "received",
        "finding": "",
    }


def test_objection_status_wrong_code_then_locked(client: TestClient) -> None:
    ref = _lodge(client).json()["reference"]
    for _ in range(10):
        r = client.post("/objection/status", data={"reference": ref, "check_code": "0000-0000"})
        assert r.status_code == 403 and "异议编号与查询码不相符" in r.text
    r = client.post("/objection/status", data={"reference": ref, "check_code": "0000-0000"})
    assert r.status_code == 429 and "一小时后再试" in r.text


@pytest.mark.parametrize("reference", ["YY-2026-00042", "not-a-reference", "MQ-2026-00001"])
def test_objection_status_of_an_unknown_reference_is_404(
    client: TestClient, reference: str
) -> None:
    r = client.post(
        "/objection/status", data={"reference": reference, "check_code": "0000-0000"}, headers=JSON
    )
    assert r.status_code == 404 and r.json()["code"] == "case.unknown"


# -- the verification group and the town committee -------------------------------------------------
def _official(svc: CaseworkService, name: str) -> TestClient:
    c = TestClient(svc.app)
    page = c.get("/casework/login")
    r = c.post(
        "/casework/login",
        data={"csrf": _field(page.text, "csrf"), "name": name, "password": f"{name}-password"},
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    return c


def _csrf_of(c: TestClient, path: str = "/casework/") -> str:
    return _field(c.get(path).text, "csrf")


def _post(c: TestClient, path: str, **data: str) -> Any:
    return c.post(path, data={"csrf": _csrf_of(c), **data}, follow_redirects=False)


def _report_case(svc: CaseworkService) -> str:
    ref: str = _send(_reporter(svc), [png(4, 4)]).json()["reference"]
    return ref


def test_station_account_cannot_sign_in_to_casework(svc: CaseworkService) -> None:
    c = TestClient(svc.app)
    page = c.get("/casework/login")
    r = c.post(
        "/casework/login",
        data={"csrf": _field(page.text, "csrf"), "name": "chair", "password": "chair-password"},
    )
    assert r.status_code == 403 and "不是查核组或镇党委的账户" in r.text
    assert c.get("/casework/", follow_redirects=False).status_code == 303


def _casework_sign_in(c: TestClient, name: str, password: str) -> Any:
    page = c.get("/casework/login")
    return c.post(
        "/casework/login",
        data={"csrf": _field(page.text, "csrf"), "name": name, "password": password},
        follow_redirects=False,
    )


def test_casework_wrong_passwords_from_one_ipv6_64_lock_the_whole_64(svc: CaseworkService) -> None:
    """The back-off counts by source: every address of the attacker's /64 is one (issue 14)."""
    for i in range(1, FREE_FAILURES + 1):
        r = _casework_sign_in(_at(svc, f"2001:db8:5:6::{i:x}"), "head", "guessed-password")
    assert r.status_code == 429, r.text
    same_64 = _at(svc, "2001:db8:5:6:ffff::1")
    assert _casework_sign_in(same_64, "head", "head-password").status_code == 429
    assert (
        _casework_sign_in(_at(svc, "2001:db8:5:7::1"), "head", "head-password").status_code == 303
    )


def test_casework_account_never_sees_the_station(svc: CaseworkService) -> None:
    c = TestClient(svc.app)
    page = c.get("/station/login")
    c.post(
        "/station/login",
        data={"csrf": _field(page.text, "csrf"), "name": "head", "password": "head-password"},
    )
    r = c.get("/station/", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/station/login")


def test_group_pages_without_a_session(svc: CaseworkService) -> None:
    ref = _report_case(svc)
    c = TestClient(svc.app)
    assert c.get("/casework/", follow_redirects=False).status_code == 303
    assert c.get(f"/casework/case/{ref}", follow_redirects=False).status_code == 303
    assert c.get("/casework/town", follow_redirects=False).status_code == 303
    before = _stored(svc)
    r = c.post(f"/casework/case/{ref}/assign", data={"assignee": "officer"}, headers=JSON)
    assert r.status_code == 401 and r.json()["code"] == "casework.signin"
    assert _stored(svc) == before


def test_a_report_from_received_to_concluded(svc: CaseworkService) -> None:
    ref = _report_case(svc)
    head, officer = _official(svc, "head"), _official(svc, "officer")
    assert ref in head.get("/casework/").text
    assert _post(head, f"/casework/case/{ref}/assign", assignee="officer").status_code == 303
    assert _post(officer, f"/casework/case/{ref}/check", note="走访核实").status_code == 303
    r = _post(
        officer, f"/casework/case/{ref}/conclude", finding="substantiated", summary="已查实，已处理"
    )
    assert r.status_code == 303
    page = head.get(f"/casework/case/{ref}").text
    assert "已办结" in page and "已查实，已处理" in page
    types = svc.log_types()
    assert types[-3:] == ["report.assigned", "report.checked", "report.concluded"]
    # the reporter sees the finding, never the summary or the assignee
    mine = _reporter(svc).get(f"/report/case/{ref}").text
    assert "属实" in mine and "已查实，已处理" not in mine and "officer" not in mine


@pytest.mark.parametrize(
    ("who", "action", "data", "status", "code"),
    [
        ("officer", "assign", {"assignee": "officer"}, 403, "case.role"),
        ("town", "assign", {"assignee": "officer"}, 403, "case.role"),
        ("head", "assign", {"assignee": "nobody"}, 422, "case.account"),
        ("head", "check", {"note": "x"}, 409, "case.state_order"),
        ("head", "conclude", {"finding": "substantiated", "summary": "x"}, 409, "case.state_order"),
        ("head", "extend", {"due_conclude": "2026-09-01", "reason": "x"}, 422, "casework.deadline"),
        ("head", "extend", {"due_conclude": "soon", "reason": "x"}, 422, "casework.deadline"),
        ("head", "extend", {"due_conclude": "2026-12-31", "reason": " "}, 422, "case.reason"),
        ("head", "assign", {"assignee": "officer", "csrf": "forged"}, 403, "casework.csrf"),
    ],
    ids=[
        "officer-assigns",
        "town-assigns",
        "unknown-assignee",
        "check-unassigned",
        "conclude-unassigned",
        "extend-earlier",
        "extend-not-a-date",
        "extend-no-reason",
        "forged-csrf",
    ],
)
def test_group_refusals_store_nothing(
    svc: CaseworkService, who: str, action: str, data: dict[str, str], status: int, code: str
) -> None:
    ref = _report_case(svc)
    c = _official(svc, who)
    before = _stored(svc)
    form = {"csrf": _csrf_of(c, "/casework/town"), **data}
    r = c.post(f"/casework/case/{ref}/{action}", data=form, headers=JSON)
    assert r.status_code == status and r.json()["code"] == code, r.text
    assert _stored(svc) == before


def test_only_the_assignee_checks_and_concludes(svc: CaseworkService) -> None:
    ref = _report_case(svc)
    head = _official(svc, "head")
    _post(head, f"/casework/case/{ref}/assign", assignee="officer")
    before = _stored(svc)
    r = head.post(
        f"/casework/case/{ref}/check", data={"csrf": _csrf_of(head), "note": "x"}, headers=JSON
    )
    assert r.status_code == 403 and r.json()["code"] == "case.not_assignee"
    assert _stored(svc) == before


def test_objection_conclusion_checks_finding_and_effect(svc: CaseworkService) -> None:
    ref = _lodge(TestClient(svc.app), about="").json()["reference"]
    head = _official(svc, "head")
    _post(head, f"/casework/case/{ref}/assign", assignee="head")
    csrf = _csrf_of(head)
    url = f"/casework/case/{ref}/conclude"
    r = head.post(url, data={"csrf": csrf, "finding": "maybe", "summary": "x"}, headers=JSON)
    assert r.status_code == 422 and r.json()["code"] == "case.finding"
    bad = {"csrf": csrf, "finding": "unsubstantiated", "effect": "election_void", "summary": "x"}
    r = head.post(url, data=bad, headers=JSON)
    assert r.status_code == 422 and r.json()["code"] == "case.effect_invalid"
    ok = {"csrf": csrf, "finding": "unsubstantiated", "effect": "none", "summary": "经核查不属实"}
    assert head.post(url, data=ok, follow_redirects=False).status_code == 303
    r = head.post(
        f"/casework/case/{ref}/assign", data={"csrf": csrf, "assignee": "officer"}, headers=JSON
    )
    assert r.status_code == 409 and r.json()["code"] == "case.concluded"


def test_unknown_case_page_is_404(svc: CaseworkService) -> None:
    head = _official(svc, "head")
    assert head.get("/casework/case/MQ-2026-00077").status_code == 404
    assert head.get("/casework/photo/" + "0" * 64).status_code == 404


def test_group_sees_the_photos_and_the_other_branch_mark(svc: CaseworkService) -> None:
    ref = _send(_reporter(svc), [png(4, 4)], branch="B02").json()["reference"]
    head = _official(svc, "head")
    page = head.get(f"/casework/case/{ref}").text
    sha = re.search(r"/casework/photo/([0-9a-f]{64})", page)
    assert sha is not None and 'data-code="report.other_branch"' in page
    r = head.get(f"/casework/photo/{sha[1]}")
    assert r.status_code == 200 and r.headers["content-type"] == "image/png"
    assert r.content == png(4, 4)
    assert (
        TestClient(svc.app).get(f"/casework/photo/{sha[1]}", follow_redirects=False).status_code
        == 303
    )


def test_reminders_are_shown_and_logged_once_per_case_and_day(svc: CaseworkService) -> None:
    ref = _report_case(svc)  # Monday 2026-09-28: due_assign Tuesday
    head = _official(svc, "head")
    assert 'id="reminders"' not in head.get("/casework/").text
    svc.clock.now = at("2026-09-30 08:30")  # Wednesday before nine: marks, nothing logged
    page = head.get("/casework/").text
    assert "逾期" in page and "reminder.sent" not in svc.log_types()
    svc.clock.now = at("2026-09-30 09:05")
    page = head.get("/casework/").text
    assert 'id="reminders"' in page and ref in page
    assert svc.log_types().count("reminder.sent") == 1
    head.get("/casework/")
    assert svc.log_types().count("reminder.sent") == 1
    svc.clock.now += timedelta(days=1)  # 1 October, a holiday: no reminder
    head.get("/casework/")
    assert svc.log_types().count("reminder.sent") == 1
    svc.clock.now = at("2026-10-08 09:00")  # the next working day: a new reminder
    head.get("/casework/")
    assert svc.log_types().count("reminder.sent") == 2


def test_town_committee_sees_counts_per_branch_and_the_checkpoint(svc: CaseworkService) -> None:
    _report_case(svc)
    _lodge(TestClient(svc.app))
    town = _official(svc, "town")
    r = town.get("/casework/", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/casework/town"
    page = town.get("/casework/town").text
    row = re.search(r'<tr id="branch-B01".*?</tr>', page, re.S)
    assert row is not None and row[0].count("已受理 1") == 2
    assert "branch-casework/" in page  # the latest checkpoint's origin line
    assert "有人在村口发红包拉票" not in page  # counts and references only, no text


def test_english_by_the_switch(svc: CaseworkService, client: TestClient) -> None:
    page = client.get("/objection/?branch=B01&lang=en").text
    assert "Raise an objection" in page
    assert "Raise an objection" in client.get("/objection/").text  # the switch is remembered


def test_the_report_form_has_its_own_body_limit_and_deadline(svc: CaseworkService) -> None:
    limits = request_limits(RequestLimits(), svc.casework)
    assert limits.body_limit("/report/") == 2 * MIB + MIB  # max_count x max_bytes + the form
    assert limits.body_seconds("/report/") == REPORT_BODY_SECONDS
    assert limits.body_limit("/objection/") == RequestLimits().max_body_bytes
    assert limits.body_seconds("/objection/") == RequestLimits().body_timeout_seconds


def test_reporter_sees_own_photos_only(svc: CaseworkService) -> None:
    one = _reporter(svc, "R01")
    ref = _send(one, [png(3, 3), jpeg(5, 5)]).json()["reference"]
    r = one.get(f"/report/photo/{ref}/2")
    assert r.status_code == 200 and r.headers["content-type"] == "image/jpeg"
    assert r.content == jpeg(5, 5)
    assert one.get(f"/report/photo/{ref}/3").status_code == 404
    two = _reporter(svc, "R02")
    r = two.get(f"/report/photo/{ref}/1", headers=JSON)
    assert r.status_code == 404 and r.json()["code"] == "case.unknown"


def test_tally_serve_mounts_the_casework_pages_given_the_file(
    svc: CaseworkService, monkeypatch: pytest.MonkeyPatch
) -> None:
    import uvicorn  # noqa: PLC0415

    from tally.cli import app  # noqa: PLC0415

    seen: dict[str, Any] = {}

    class FakeServer:
        def __init__(self, config: uvicorn.Config) -> None:
            application: Any = config.app
            seen["casework"] = getattr(application.state, "casework", None)

        def run(self) -> None:
            return None

    monkeypatch.setattr(uvicorn, "Server", FakeServer)
    db, data = svc.folder / "e.db", svc.data
    runner = CliRunner()
    r = runner.invoke(app, ["serve", str(db), "--data", str(data), "--casework", str(svc.casework)])
    assert r.exit_code == 0, r.output
    assert seen["casework"] is not None and seen["casework"].path == svc.casework
    assert "民情直报页面" in r.output and "/casework/" in r.output
    r = runner.invoke(app, ["serve", str(db), "--data", str(data)])
    assert r.exit_code == 0 and seen["casework"] is None and "/report/" not in r.output
    missing = svc.folder / "none.casework"
    r = runner.invoke(app, ["serve", str(db), "--data", str(data), "--casework", str(missing)])
    assert r.exit_code != 0 and "找不到事项登记簿文件" in r.output


def test_a_case_whose_due_dates_reach_an_unknown_year_is_received_with_them_provisional(
    svc: CaseworkService,
) -> None:
    c = _reporter(svc)
    head = _official(svc, "head")
    svc.clock.now = at("2091-06-01 10:00")  # a Friday of a year no calendar knows (R26.3)
    r = _send(c)
    assert r.status_code == 200 and r.json()["notes"] == []  # the reporter sees no due date
    ref = r.json()["reference"]
    assert ref == "MQ-2091-00001"
    page = head.get(f"/casework/case/{ref}").text
    assert page.count("暂定") == 2  # both due dates (RP-8.4a)
    svc.clock.now = at("2091-06-05 10:00")  # Tuesday: due_assign (Monday) passed by one day
    listed = head.get("/casework/").text
    assert "逾期 1 个工作日" in listed and "暂定" in listed


# -- an objection made in person -------------------------------------------------------------------
def _in_person(c: TestClient, extra: dict[str, str] | None = None) -> Any:
    page = c.get("/casework/objection?branch=B01").text
    data = {
        "csrf": _field(page, "csrf"),
        "submission": _field(page, "submission"),
        "branch": "B01",
        "about": "M002",
        "what": "当面反映：投票时有人代写",
        "name": "赵六",
    }
    data.update(extra or {})
    return c.post("/casework/objection", data=data, headers=JSON, follow_redirects=False)


def test_an_objection_made_in_person_is_recorded_under_the_account(svc: CaseworkService) -> None:
    head = _official(svc, "head")
    r = _in_person(head)
    assert (
        r.status_code == 303 and r.headers["location"] == "/casework/case/YY-2026-00001?ok=received"
    )
    raw = svc.on_thread(lambda s: s.log_rows()[-1])
    entry = json.loads(raw)
    assert entry["actor"] == "head" and entry["body"]["channel"] == "in_person"
    assert entry["body"]["objector"] == {"name": "赵六", "contact": ""}
    page = head.get("/casework/case/YY-2026-00001").text
    assert "当面提出" in page and "已受理" in page


@pytest.mark.parametrize(
    ("who", "extra", "status", "code"),
    [
        ("town", {}, 403, "case.role"),
        ("head", {"what": " "}, 422, "objection.empty"),
        ("head", {"branch": "B02"}, 409, "objection.not_in_publicity"),
        ("head", {"relates_to": "YY-2026-00009"}, 404, "case.unknown"),
        ("head", {"submission": "x"}, 400, "case.token"),
        ("head", {"csrf": "forged"}, 403, "casework.csrf"),
    ],
    ids=["town-viewer", "empty", "not-in-publicity", "unknown-relates-to", "no-token", "csrf"],
)
def test_in_person_refusals_store_nothing(
    svc: CaseworkService, who: str, extra: dict[str, str], status: int, code: str
) -> None:
    c = _official(svc, who)
    before = _stored(svc)
    r = _in_person(c, extra)
    assert r.status_code == status and r.json()["code"] == code, r.text
    assert _stored(svc) == before


def test_the_day_checkpoint_closes_a_day_before_the_next_days_first_request(
    svc: CaseworkService,
) -> None:
    _report_case(svc)
    size = len(svc.log_types())
    town = _official(svc, "town")
    assert "\nday " not in town.get("/casework/town").text  # the day is not over
    svc.clock.now = at("2026-09-29 08:00")
    page = town.get("/casework/town").text
    assert f"\n{size}\n" in page and "\nday 2026-09-28\n" in page
    _send(_reporter(svc))  # the next day's entry comes after the checkpoint
    texts = svc.on_thread(lambda s: s.checkpoint_texts())
    assert [t.split("\n")[3] for _, t in texts] == ["opened", "day 2026-09-28"]
    assert texts[-1][0] == size


@pytest.mark.parametrize(
    ("path", "public"),
    [
        ("/report/", True),
        ("/report/login", True),
        ("/report/static/casework.js", True),
        ("/objection/", True),
        ("/objection/status", True),
        ("/casework/", False),
        ("/casework/town", False),
        ("/reporting", False),
    ],
)
def test_the_reporter_and_objection_pages_are_public_and_the_groups_are_not(
    path: str, public: bool
) -> None:
    assert is_public_path(path) is public


# -- the reporters' register -----------------------------------------------------------------------
def _register(c: TestClient, **fields: str) -> Any:
    data = {
        "csrf": _csrf_of(c, "/casework/reporters"),
        "reporter": "R03",
        "group": "B01/G2",
        "name": "孙七",
        "phone": "13900000000",
        **fields,
    }
    return c.post("/casework/reporters", data=data, headers={})


def test_the_head_registers_a_reporter_whose_code_then_signs_in(svc: CaseworkService) -> None:
    head = _official(svc, "head")
    before = head.get("/casework/reporters").text
    assert 'data-code="casework.group_without_reporter"' in before  # B01 / G2 has nobody
    r = _register(head)
    assert r.status_code == 200
    code = re.search(r'id="access-code">([0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4})<', r.text)
    assert code is not None and 'data-code="casework.group_without_reporter"' not in r.text
    assert svc.log_types()[-1] == "reporter.registered"
    assert code[1] not in head.get("/casework/reporters").text  # shown once
    svc.codes["R03"] = code[1]
    c = _reporter(svc, "R03")
    assert "东村党支部 · 二组" in c.get("/report/").text


@pytest.mark.parametrize(
    ("who", "fields", "status", "code"),
    [
        ("officer", {}, 403, "case.role"),
        ("head", {"reporter": "R01"}, 409, "reporter.duplicate"),
        ("head", {"reporter": "r 1"}, 422, "reporter.id_format"),
        ("head", {"group": "B02/G2"}, 422, "reporter.group_unknown"),
        ("head", {"name": " "}, 422, "reporter.name"),
        ("head", {"phone": "123"}, 422, "reporter.phone"),
        ("head", {"csrf": "forged"}, 403, "casework.csrf"),
    ],
    ids=["officer", "duplicate", "id-format", "group-unknown", "no-name", "phone", "csrf"],
)
def test_register_refusals_store_nothing(
    svc: CaseworkService, who: str, fields: dict[str, str], status: int, code: str
) -> None:
    c = _official(svc, who)
    before = _stored(svc)
    data = {
        "csrf": _csrf_of(c, "/casework/reporters"),
        "reporter": "R03",
        "group": "B01/G2",
        "name": "孙七",
        "phone": "",
    }
    data.update(fields)
    r = c.post("/casework/reporters", data=data, headers=JSON)
    assert r.status_code == status and r.json()["code"] == code, r.text
    assert _stored(svc) == before


def test_a_refused_plain_post_with_photos_asks_to_choose_them_again(svc: CaseworkService) -> None:
    c = _reporter(svc)
    r = _send(c, [png(2, 2)], as_json=False, what=" ")
    assert r.status_code == 422 and "请重新选择后再提交" in r.text
    r = _send(c, as_json=False, what=" ")
    assert r.status_code == 422 and "请重新选择后再提交" not in r.text
