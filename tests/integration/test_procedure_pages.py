"""The procedure pages over HTTP (issue 18 piece 8; spec/procedure.md RP-3.2-RP-3.10, RP-5,
RP-12.4): every route, and the hostile cases, each a specific status and code with nothing
written (wrong role, no token, another procedure's QR, a person not on the evaluation list,
a name not printed, an oversized body, a replayed post, no sign-in)."""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from tally.core.procedure.entries import Form
from tally.service.limits import RequestLimits
from tests.helpers.procedure_log import StoreDriver
from tests.helpers.procedure_service import (
    PREFIX,
    log_types,
    make_service,
    other_procedure_qr,
    recommend_all,
    refresh,
    sign_in,
)


@pytest.fixture
def service(tmp_path: Path) -> Iterator[tuple[FastAPI, StoreDriver]]:
    app, driver = make_service(tmp_path, extra={"request_limits": RequestLimits()})
    yield app, driver
    app.state.procedure.close()
    driver.store.close()


def _client(app: FastAPI, name: str) -> tuple[TestClient, str]:
    client = TestClient(app)
    return client, sign_in(client, name)


def _post(client: TestClient, path: str, data: dict[str, Any]) -> Any:
    return client.post(PREFIX + path, data=data, follow_redirects=False)


def _open_members(app: FastAPI, driver: StoreDriver, n: int = 20) -> tuple[TestClient, str]:
    chair, token = _client(app, "chair")
    members = list(driver.procedure.expected_electors[:n])
    r = _post(chair, "/open", {"csrf": token, "group": "member", "member": members})
    assert r.status_code == 303, r.text
    return chair, token


def _issue_return(chair: TestClient, token: str, post: str, returned: int) -> None:
    base = {"csrf": token, "form": "member", "post": post}
    assert _post(chair, "/issue", base).status_code == 303
    assert _post(chair, "/return", {**base, "count": str(returned)}).status_code == 303


def _marks_form(driver: StoreDriver, chosen: Sequence[str]) -> dict[str, str]:
    return {f"m_{m}": "o" for m in chosen}


# -- reading ---------------------------------------------------------------------------------------
def test_pages_without_a_session_go_to_sign_in_and_the_scan_check_answers_401(
    service: tuple[FastAPI, StoreDriver],
) -> None:
    app, _ = service
    client = TestClient(app)
    for path in ("/", "/session", "/enter", "/proposal", "/vetting"):
        r = client.get(PREFIX + path, follow_redirects=False)
        assert r.status_code == 303
        assert r.headers["location"].startswith(f"{PREFIX}/login")
    r = client.get(f"{PREFIX}/api/scan?qr=BP1:X&form=member&post=committee")
    assert (r.status_code, r.json()["code"]) == (401, "signin.needed")
    r = client.post(f"{PREFIX}/open", data={"group": "member"}, follow_redirects=False)
    assert r.status_code == 303


def test_every_page_renders_for_a_signed_in_official_in_both_languages(
    service: tuple[FastAPI, StoreDriver],
) -> None:
    app, _ = service
    client, _ = _client(app, "scrutineer")
    for path in ("/", "/session", "/enter", "/proposal", "/vetting"):
        assert "中共青山村支部委员会" in client.get(PREFIX + path).text
        r = client.get(PREFIX + path + "?lang=en")
        assert r.status_code == 200
        assert 'lang="en"' in r.text


def test_public_page_and_json_need_no_sign_in_and_carry_names_only(
    service: tuple[FastAPI, StoreDriver],
) -> None:
    app, driver = service
    recommend_all(driver)
    client = TestClient(app)
    doc = client.get("/api/board/procedure").json()
    assert doc["format"] == "procedure-public/1"
    names = doc["preliminary"][0]["names"]
    assert names
    page = client.get("/board/procedure").text
    assert all(n in page for n in names)
    assert re.search(r"M\d{3}", page) is None
    assert re.search(r"M\d{3}", str(doc)) is None


# -- a session through the pages -------------------------------------------------------------------
def test_a_round_from_opening_to_the_count_through_the_pages(
    service: tuple[FastAPI, StoreDriver],
) -> None:
    app, driver = service
    chair, token = _open_members(app, driver)
    _issue_return(chair, token, "committee", 2)
    teller, t_token = _client(app, "teller")
    order = driver.procedure.ballot_order
    for i, written in enumerate(({}, {"w0": "钱多多", "wm0": ""})):
        _, qr = driver.ballot(Form.MEMBER, "committee", 1, i)
        chosen = list(order[:5]) if not written else list(order[:4])
        check = teller.get(
            f"{PREFIX}/api/scan", params={"qr": qr, "form": "member", "post": "committee"}
        )
        assert check.json()["ok"] is True
        data = {"csrf": t_token, "form": "member", "post": "committee", "qr": qr}
        r = _post(teller, "/enter", {**data, **_marks_form(driver, chosen), **written})
        assert r.status_code == 303, r.text
    assert "2 / 2" in teller.get(f"{PREFIX}/enter?post=committee").text
    r = _post(chair, "/count", {"csrf": token, "form": "member", "post": "committee"})
    assert r.status_code == 303
    types = log_types(driver.store.path)
    assert types[-1] == "recommendation.counted"
    assert types.count("recommendation.entered") == 2
    overview = chair.get(f"{PREFIX}/").text
    assert "已计票" in overview
    assert "round-closed member committee 1" in overview  # awaiting the scrutineers


def test_returned_more_than_issued_voids_the_round(service: tuple[FastAPI, StoreDriver]) -> None:
    app, driver = service
    chair, token = _open_members(app, driver)
    _issue_return(chair, token, "committee", 21)
    assert log_types(driver.store.path)[-1] == "round.void"
    assert "无效" in chair.get(f"{PREFIX}/session").text


def test_members_below_the_quorum_are_recorded_and_refused(
    service: tuple[FastAPI, StoreDriver],
) -> None:
    app, driver = service
    chair, token = _client(app, "chair")
    members = list(driver.procedure.expected_electors[:5])
    r = _post(chair, "/open", {"csrf": token, "group": "member", "member": members})
    assert r.status_code == 409
    assert "未达到推荐所需人数" in r.text
    assert log_types(driver.store.path)[-1] == "recommendation.quorum_failed"


def test_teller_withdraws_only_their_own_last_entry(service: tuple[FastAPI, StoreDriver]) -> None:
    app, driver = service
    chair, token = _open_members(app, driver)
    _issue_return(chair, token, "committee", 2)
    teller, t_token = _client(app, "teller")
    ballot_id, qr = driver.ballot(Form.MEMBER, "committee", 1, 0)
    base = {"csrf": t_token, "form": "member", "post": "committee"}
    assert _post(teller, "/enter", {**base, "qr": qr}).status_code == 303
    other, o_token = _client(app, "teller2")
    before = log_types(driver.store.path)
    r = _post(other, "/withdraw", {"csrf": o_token, "ballot_id": ballot_id})
    assert r.status_code == 409
    assert log_types(driver.store.path) == before
    assert _post(teller, "/withdraw", {"csrf": t_token, "ballot_id": ballot_id}).status_code == 303
    assert log_types(driver.store.path)[-1] == "ballot.withdrawn"


# -- hostile ---------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("who", "path", "data"),
    [
        ("teller", "/open", {"group": "member"}),
        ("clerk", "/issue", {"form": "member", "post": "committee"}),
        ("scrutineer", "/count", {"form": "member", "post": "committee"}),
        ("chair", "/enter", {"form": "member", "post": "committee", "qr": "BP1:X"}),
        ("chair", "/withdraw", {"ballot_id": "00"}),
    ],
    ids=["teller-opens", "clerk-issues", "scrutineer-counts", "chair-enters", "chair-withdraws"],
)
def test_wrong_role_is_refused_with_403_and_nothing_written(
    service: tuple[FastAPI, StoreDriver], who: str, path: str, data: dict[str, str]
) -> None:
    app, driver = service
    before = log_types(driver.store.path)
    client, token = _client(app, who)
    r = _post(client, path, {"csrf": token, **data})
    assert r.status_code == 403
    assert "您的角色是" in r.text
    assert log_types(driver.store.path) == before


def test_form_without_its_token_is_refused(service: tuple[FastAPI, StoreDriver]) -> None:
    app, driver = service
    chair, _ = _client(app, "chair")
    members = list(driver.procedure.expected_electors[:20])
    r = _post(chair, "/open", {"group": "member", "member": members})
    assert r.status_code == 403
    assert log_types(driver.store.path)[-1] == "stock.committed"


def test_another_procedures_qr_is_refused_at_the_scan_and_at_entry(
    service: tuple[FastAPI, StoreDriver],
) -> None:
    app, driver = service
    chair, token = _open_members(app, driver)
    _issue_return(chair, token, "committee", 2)
    teller, t_token = _client(app, "teller")
    qr = other_procedure_qr(Form.MEMBER, "committee", 1)
    r = teller.get(f"{PREFIX}/api/scan", params={"qr": qr, "form": "member", "post": "committee"})
    assert (r.status_code, r.json()["code"]) == (409, "pqr.wrong_procedure")
    before = log_types(driver.store.path)
    data = {"csrf": t_token, "form": "member", "post": "committee", "qr": qr}
    r = _post(teller, "/enter", data)
    assert r.status_code == 409
    assert "不属于本支部本次换届" in r.text
    assert qr in r.text  # what was typed is kept on the page
    assert log_types(driver.store.path) == before


def test_a_ballot_of_another_post_is_refused(service: tuple[FastAPI, StoreDriver]) -> None:
    app, driver = service
    chair, token = _open_members(app, driver)
    _issue_return(chair, token, "committee", 2)
    teller, _ = _client(app, "teller")
    _, qr = driver.ballot(Form.MEMBER, "secretary", 1, 0)
    r = teller.get(f"{PREFIX}/api/scan", params={"qr": qr, "form": "member", "post": "committee"})
    assert r.json()["code"] == "pqr.wrong_form"


def test_a_mark_for_a_name_not_printed_is_refused(service: tuple[FastAPI, StoreDriver]) -> None:
    app, driver = service
    chair, token = _open_members(app, driver)
    _issue_return(chair, token, "committee", 2)
    teller, t_token = _client(app, "teller")
    _, qr = driver.ballot(Form.MEMBER, "committee", 1, 0)
    before = log_types(driver.store.path)
    data = {"csrf": t_token, "form": "member", "post": "committee", "qr": qr, "m_M015": "o"}
    r = _post(teller, "/enter", data)
    assert r.status_code == 409
    assert "推荐票上没有印这一人选" in r.text
    assert log_types(driver.store.path) == before


def test_a_replayed_entry_is_refused_and_stored_once(service: tuple[FastAPI, StoreDriver]) -> None:
    app, driver = service
    chair, token = _open_members(app, driver)
    _issue_return(chair, token, "committee", 2)
    teller, t_token = _client(app, "teller")
    _, qr = driver.ballot(Form.MEMBER, "committee", 1, 0)
    data = {"csrf": t_token, "form": "member", "post": "committee", "qr": qr}
    assert _post(teller, "/enter", data).status_code == 303
    before = log_types(driver.store.path)
    r = _post(teller, "/enter", data)
    assert r.status_code == 409
    assert "已经录入过" in r.text
    assert log_types(driver.store.path) == before
    check = teller.get(
        f"{PREFIX}/api/scan", params={"qr": qr, "form": "member", "post": "committee"}
    )
    assert check.json()["code"] == "ballot.replayed"


def test_an_oversized_body_is_refused_with_413(service: tuple[FastAPI, StoreDriver]) -> None:
    app, driver = service
    teller, t_token = _client(app, "teller")
    before = log_types(driver.store.path)
    r = teller.post(
        f"{PREFIX}/enter",
        data={"csrf": t_token, "form": "member", "w0": "x" * (300 * 1024)},
        follow_redirects=False,
    )
    assert r.status_code == 413
    assert log_types(driver.store.path) == before


def test_an_evaluation_mark_for_a_person_not_on_the_list_is_refused(
    service: tuple[FastAPI, StoreDriver],
) -> None:
    app, driver = service
    recommend_all(driver)
    driver.stock(Form.EVALUATION, "", 1, 60)
    chair, token = _client(app, "chair")
    session = chair.get(f"{PREFIX}/session").text
    assert "群众测评" in session
    r = _post(chair, "/evaluate", {"csrf": token, "public": "40"})
    assert r.status_code == 303, r.text
    base = {"csrf": token, "form": "evaluation", "post": ""}
    assert _post(chair, "/issue", base).status_code == 303
    assert _post(chair, "/return", {**base, "count": "3"}).status_code == 303
    teller, t_token = _client(app, "teller")
    page = teller.get(f"{PREFIX}/enter").text
    assert "测评对象" in page
    refresh(driver)
    persons = driver.store.ledger.session.candidates  # type: ignore[union-attr]
    outsider = next(m for m in driver.procedure.ballot_order if m not in persons)
    _, qr = driver.ballot(Form.EVALUATION, "", 1, 0)
    data = {"csrf": t_token, "form": "evaluation", "post": "", "qr": qr}
    before = log_types(driver.store.path)
    r = _post(teller, "/enter", {**data, f"m_{outsider}": "d"})
    assert r.status_code == 409
    assert "不在本轮测评名单中" in r.text
    assert log_types(driver.store.path) == before
    r = _post(teller, "/enter", {**data, **{f"m_{m}": "s" for m in persons}})
    assert r.status_code == 303
    assert log_types(driver.store.path)[-1] == "evaluation.entered"


def test_proposal_and_vetting_views_show_how_each_name_was_reached(
    service: tuple[FastAPI, StoreDriver],
) -> None:
    app, driver = service
    recommend_all(driver)
    client, _ = _client(app, "scrutineer")
    page = client.get(f"{PREFIX}/proposal").text
    proposal = driver.store.ledger.proposals[0]
    for post in proposal.posts:
        for n in post.names:
            assert driver.procedure.member(n.member).name in page
    assert "按推荐得分" in page
    assert "综合得分" in page
    assert "尚未测评" in client.get(f"{PREFIX}/vetting").text


def test_two_printed_persons_of_the_same_name_are_told_apart_on_the_entry_form(
    service: tuple[FastAPI, StoreDriver],
) -> None:
    app, driver = service
    chair, token = _open_members(app, driver)
    _issue_return(chair, token, "committee", 2)
    teller, _ = _client(app, "teller")
    page = teller.get(f"{PREFIX}/enter?post=committee").text
    p = driver.procedure
    twins = [m for m in p.ballot_order if p.member(m).name == "王伟"]
    assert len(twins) == 2
    for m in twins:
        assert f"王伟（{p.member(m).birth_date.year}年生）" in page


def test_sign_in_refusals_and_sign_out(service: tuple[FastAPI, StoreDriver]) -> None:
    app, _ = service
    client = TestClient(app)
    page = client.get(f"{PREFIX}/login").text
    token = re.search(r'name="csrf" value="([^"]+)"', page)
    assert token is not None
    data = {"csrf": token.group(1), "next": f"{PREFIX}/", "name": "chair", "password": "wrong"}
    r = client.post(f"{PREFIX}/login", data=data, follow_redirects=False)
    assert r.status_code == 401
    stranger = TestClient(app)  # no sign-in form cookie: the token cannot be checked
    r = stranger.post(f"{PREFIX}/login", data=data, follow_redirects=False)
    assert r.status_code == 403
    chair, c_token = _client(app, "chair")
    r = _post(chair, "/logout", {"csrf": c_token})
    assert (r.status_code, r.headers["location"]) == (303, f"{PREFIX}/login")
    assert chair.get(f"{PREFIX}/", follow_redirects=False).status_code == 303


def test_next_after_sign_in_stays_on_this_service(service: tuple[FastAPI, StoreDriver]) -> None:
    app, _ = service
    client = TestClient(app)
    page = client.get(f"{PREFIX}/login?next=https://evil.example/").text
    assert 'name="next" value="/station/"' in page  # the sign-in goes back to this service


def test_a_written_name_matched_to_someone_not_on_the_roster_is_refused(
    service: tuple[FastAPI, StoreDriver],
) -> None:
    app, driver = service
    chair, token = _open_members(app, driver)
    _issue_return(chair, token, "committee", 2)
    teller, t_token = _client(app, "teller")
    _, qr = driver.ballot(Form.MEMBER, "committee", 1, 0)
    before = log_types(driver.store.path)
    data = {"csrf": t_token, "form": "member", "post": "committee", "qr": qr}
    r = _post(teller, "/enter", {**data, "w0": "钱多多", "wm0": "X999"})
    assert r.status_code == 409
    assert "不在名册中" in r.text
    assert log_types(driver.store.path) == before
    # matched to a member who may not be recommended: entered, and counted as not nominable
    r = _post(teller, "/enter", {**data, "w0": "朱永福", "wm0": "M015"})
    assert r.status_code == 303
    assert log_types(driver.store.path)[-1] == "recommendation.entered"
