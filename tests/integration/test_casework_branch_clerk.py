"""The ``branch_clerk`` role (spec/procedure.md RP-8.2, RP-9.8, RP-9.9): a branch's work group
records an objection made in person for its own branch only (another branch: 403
``case.other_branch``, nothing stored) and sees nothing else of the casework: no case, no
report, no reporter, no summary (403 ``case.role``, JSON or the page)."""

from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from tally.cli import app
from tally.service.accounts import AccountError, AccountStore, Role, accounts_path
from tally.service.casework.web import BranchPublicity
from tests.helpers.casework import png
from tests.helpers.casework_service import ELECTED, FAST, CaseworkService, casework_service
from tests.integration.test_casework_pages import (
    JSON,
    _field,
    _in_person,
    _lodge,
    _official,
    _post,
    _reporter,
    _send,
    _stored,
)

REPORT_TEXT = "村口有人发红包拉票（只给查核组看）"


@pytest.fixture
def svc(tmp_path: Path) -> CaseworkService:
    s = casework_service(tmp_path)
    s.publicity.open["B02"] = BranchPublicity(date(2026, 10, 9), ELECTED)
    _accounts(s).add("clerk1", Role.BRANCH_CLERK, "clerk1-password", branch="B01")
    return s


def _accounts(svc: CaseworkService) -> AccountStore:
    return AccountStore(
        accounts_path(svc.data), opslimit=FAST["opslimit"], memlimit=FAST["memlimit"]
    )


def test_a_branch_clerk_account_needs_its_branch_and_no_other_role_has_one(
    svc: CaseworkService,
) -> None:
    store = _accounts(svc)
    with pytest.raises(AccountError) as e:
        store.add("clerk2", Role.BRANCH_CLERK, "clerk2-password")
    assert e.value.code == "account.branch"
    with pytest.raises(AccountError) as e:
        store.add("head2", Role.CASE_HEAD, "head2-password", branch="B01")
    assert e.value.code == "account.branch"
    assert not store.exists("clerk2") and not store.exists("head2")
    assert [a.branch for a in store.list() if a.name == "clerk1"] == ["B01"]


@pytest.mark.parametrize("name", ["branch:B01:head2", "reporter:R001", "a:b"])
def test_an_account_name_with_a_colon_is_refused_so_none_passes_for_a_work_group(
    svc: CaseworkService, name: str
) -> None:
    """(RP-11.3) ``branch:<B>:<account>`` is the log's mark of a branch work group: a town account
    named so would have its in-person objections listed to that branch's clerks."""
    store = _accounts(svc)
    for role in (Role.CASE_HEAD, Role.BRANCH_CLERK):
        with pytest.raises(AccountError) as e:
            store.add(
                name, role, "a-long-password", branch="B01" if role is Role.BRANCH_CLERK else ""
            )
        assert e.value.code == "account.name"
    assert not store.exists(name)


def test_another_branchs_objection_is_refused_and_nothing_stored(svc: CaseworkService) -> None:
    clerk = _official(svc, "clerk1")
    r = clerk.get("/casework/objection?branch=B02", headers=JSON)
    assert r.status_code == 403 and r.json()["code"] == "case.other_branch"
    r = clerk.get("/casework/objection?branch=B02")
    assert r.status_code == 403 and 'data-code="case.other_branch"' in r.text
    before = _stored(svc)
    r = _in_person(clerk, {"branch": "B02"})
    assert r.status_code == 403 and r.json()["code"] == "case.other_branch", r.text
    assert r.json()["zh"] and r.json()["en"]
    assert _stored(svc) == before


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/casework/case/MQ-2026-00001"),
        ("get", "/casework/town"),
        ("get", "/casework/reporters"),
        ("get", "/casework/photo/" + "0" * 64),
        ("post", "/casework/case/MQ-2026-00001/assign"),
        ("post", "/casework/reporters"),
        ("post", "/casework/reporters/R01/code"),
    ],
)
def test_a_branch_clerk_sees_no_case_report_reporter_or_summary(
    svc: CaseworkService, method: str, path: str
) -> None:
    assert _send(_reporter(svc), [png(2, 2)], what=REPORT_TEXT).status_code == 200
    clerk = _official(svc, "clerk1")
    before = _stored(svc)
    r = clerk.request(method, path, headers=JSON, data={"assignee": "officer"})
    assert r.status_code == 403 and r.json()["code"] == "case.role", r.text
    r = clerk.request(method, path, data={"assignee": "officer"})
    assert r.status_code == 403 and REPORT_TEXT not in r.text and "case.role" in r.text
    assert _stored(svc) == before


def test_a_branch_clerk_records_its_branchs_objection_and_sees_only_the_reference(
    svc: CaseworkService,
) -> None:
    assert _send(_reporter(svc), what=REPORT_TEXT).status_code == 200
    clerk = _official(svc, "clerk1")
    first = clerk.get("/casework/", follow_redirects=False)
    assert first.status_code == 303 and first.headers["location"] == "/casework/objection"
    page = clerk.get("/casework/objection").text
    assert "/casework/objection?branch=B01" in page
    assert "/casework/objection?branch=B02" not in page  # open, but not the clerk's
    assert 'href="/casework/town"' not in page and 'href="/casework/reporters"' not in page
    r = _in_person(clerk)
    assert r.status_code == 303, r.text
    location = r.headers["location"]
    assert location == "/casework/objection?branch=B01&done=YY-2026-00001"
    entry: dict[str, Any] = json.loads(svc.on_thread(lambda s: s.log_rows()[-1]))
    assert entry["type"] == "objection.received" and entry["actor"] == "branch:B01:clerk1"
    assert entry["body"]["channel"] == "in_person" and entry["body"]["branch"] == "B01"
    done = clerk.get(location).text
    assert re.search(r'id="reference">YY-2026-00001<', done)
    assert REPORT_TEXT not in done and "MQ-2026" not in done
    assert _field(done, "submission")  # the form again, for the next one
    en = clerk.get("/casework/objection?lang=en").text
    assert "branch work group" in en


def test_tally_accounts_add_binds_a_branch_clerk_to_its_branch(tmp_path: Path) -> None:
    runner = CliRunner(env={"TALLY_ACCOUNT_PASSWORD": "a-long-password", "TALLY_LANG": "zh"})
    r = runner.invoke(
        app, ["accounts", "add", str(tmp_path), "--name", "c1", "--role", "branch_clerk"]
    )
    assert r.exit_code == 1 and "--branch" in r.output
    r = runner.invoke(
        app,
        [
            "accounts",
            "add",
            str(tmp_path),
            "--name",
            "h1",
            "--role",
            "case_head",
            "--branch",
            "B01",
        ],
    )
    assert r.exit_code == 1
    r = runner.invoke(
        app,
        [
            "accounts",
            "add",
            str(tmp_path),
            "--name",
            "c1",
            "--role",
            "branch_clerk",
            "--branch",
            "B01",
        ],
    )
    assert r.exit_code == 0, r.output
    listed = runner.invoke(app, ["accounts", "list", str(tmp_path), "--json"])
    assert json.loads(listed.output) == [{"name": "c1", "role": "branch_clerk", "branch": "B01"}]


# -- the clerks' list of the objections their branch recorded (RP-9.8, issue 18 clerklist) -------
RECORDED = "/casework/objection/recorded"
B02_TEXT = "二支部当面反映：有人许诺好处"


def _in_person_b02(c: Any) -> Any:
    page = c.get("/casework/objection?branch=B02").text
    data = {
        "csrf": _field(page, "csrf"),
        "submission": _field(page, "submission"),
        "branch": "B02",
        "what": B02_TEXT,
        "name": "钱七",
        "contact": "13900000002",
    }
    return c.post("/casework/objection", data=data, headers=JSON, follow_redirects=False)


def _references(html: str) -> list[str]:
    return re.findall(r'data-reference="([A-Z]{2}-[0-9]{4}-[0-9]{5})"', html)


@pytest.fixture
def mixed(svc: CaseworkService) -> dict[str, str]:
    """B02's clerk records YY-…01; the public form lodges …02 for B01; clerk1 records …03 for
    B01; the head records …04 for B01 in person; a reporter reports MQ-…01 on B01."""
    _accounts(svc).add("clerk2", Role.BRANCH_CLERK, "clerk2-password", branch="B02")
    assert _in_person_b02(_official(svc, "clerk2")).status_code == 303
    assert (
        _lodge(TestClient(svc.app), name="孙八", what="表格异议（只给查核组看）").status_code == 200
    )
    r = _in_person(_official(svc, "clerk1"), {"contact": "13900000001"})
    assert r.status_code == 303, r.text
    assert _in_person(_official(svc, "head"), {"what": "组长记录的异议"}).status_code == 303
    assert _send(_reporter(svc), what=REPORT_TEXT).status_code == 200
    return {"b02": "YY-2026-00001", "form": "YY-2026-00002", "mine": "YY-2026-00003"}


def test_the_clerks_list_holds_only_what_its_branchs_work_group_recorded(
    svc: CaseworkService, mixed: dict[str, str]
) -> None:
    page = _official(svc, "clerk1").get(RECORDED)
    assert page.status_code == 200
    assert _references(page.text) == [mixed["mine"]]
    for never in ("YY-2026-00001", "YY-2026-00002", "YY-2026-00004", "MQ-2026"):
        assert never not in page.text
    for never in (B02_TEXT, "钱七", "孙八", "表格异议", "组长记录", REPORT_TEXT):
        assert never not in page.text
    # what it typed is not shown back either: no objector, contact or content (RP-9.8)
    for never in ("赵六", "13900000001", "代写"):
        assert never not in page.text
    assert "已受理" in page.text and "2026-" in page.text


def test_every_clerk_of_the_branch_sees_what_another_clerk_of_it_recorded(
    svc: CaseworkService, mixed: dict[str, str]
) -> None:
    _accounts(svc).add("clerk3", Role.BRANCH_CLERK, "clerk3-password", branch="B01")
    clerk3 = _official(svc, "clerk3")
    assert _references(clerk3.get(RECORDED).text) == [mixed["mine"]]
    r = _in_person(clerk3, {"what": "三号记录员记录的异议"})
    assert r.status_code == 303, r.text
    both = [mixed["mine"], "YY-2026-00005"]
    assert _references(_official(svc, "clerk1").get(RECORDED).text) == both
    assert _references(clerk3.get(RECORDED).text) == both


def test_an_objection_the_head_recorded_in_person_stays_off_every_clerks_list(
    svc: CaseworkService, mixed: dict[str, str]
) -> None:
    """The verification group's in-person objections for the branch are the town's, like the
    public form's: the objector went to the town, not to the branch (RP-9.8)."""
    entries = [json.loads(r) for r in svc.on_thread(lambda s: s.log_rows())]
    (head,) = [e for e in entries if e["body"].get("reference") == "YY-2026-00004"]
    assert head["actor"] == "head" and head["body"]["channel"] == "in_person"
    assert head["body"]["branch"] == "B01"
    _accounts(svc).add("clerk3", Role.BRANCH_CLERK, "clerk3-password", branch="B01")
    for clerk in ("clerk1", "clerk3"):
        page = _official(svc, clerk).get(RECORDED).text
        assert "YY-2026-00004" not in page and "组长记录" not in page


def _recreate(svc: CaseworkService, name: str, role: Role, branch: str = "") -> TestClient:
    store = _accounts(svc)
    store.remove(name)
    store.add(name, role, f"{name}-password", branch=branch)
    return _official(svc, name)


def test_a_clerks_name_recreated_for_another_branch_sees_nothing_it_recorded_before(
    svc: CaseworkService, mixed: dict[str, str]
) -> None:
    again = _recreate(svc, "clerk1", Role.BRANCH_CLERK, "B02")
    page = again.get(RECORDED).text
    assert _references(page) == [mixed["b02"]]  # B02's, by B02's clerk: rule 1
    assert mixed["mine"] not in page and "赵六" not in page


def test_a_clerks_name_recreated_for_the_same_branch_sees_the_branchs_list(
    svc: CaseworkService, mixed: dict[str, str]
) -> None:
    again = _recreate(svc, "clerk1", Role.BRANCH_CLERK, "B01")
    assert _references(again.get(RECORDED).text) == [mixed["mine"]]


def test_a_town_accounts_name_recreated_as_a_clerk_sees_nothing_that_account_recorded(
    svc: CaseworkService, mixed: dict[str, str]
) -> None:
    """``head`` recorded YY-…04 for B01 in person; a new B01 clerk named ``head`` does not get it."""
    again = _recreate(svc, "head", Role.BRANCH_CLERK, "B01")
    page = again.get(RECORDED).text
    assert _references(page) == [mixed["mine"]]
    assert "YY-2026-00004" not in page and "组长记录" not in page


def test_a_clerks_name_recreated_as_a_town_account_has_no_list(
    svc: CaseworkService, mixed: dict[str, str]
) -> None:
    again = _recreate(svc, "clerk1", Role.CASE_OFFICER)
    r = again.get(RECORDED, headers=JSON)
    assert r.status_code == 403 and r.json()["code"] == "case.role"


@pytest.mark.parametrize(
    "path",
    [
        RECORDED + "?branch=B02",
        RECORDED + "?branch=B02&actor=clerk2",
        RECORDED + "/B02",
        RECORDED + "/../B02",
        "/casework/objection/recorded%2FB02",
    ],
)
def test_a_clerk_tampering_with_the_query_or_path_gets_nothing_of_another_branch(
    svc: CaseworkService, mixed: dict[str, str], path: str
) -> None:
    r = _official(svc, "clerk1").get(path)
    assert mixed["b02"] not in r.text and B02_TEXT not in r.text and "钱七" not in r.text
    if r.status_code == 200:
        assert _references(r.text) == [mixed["mine"]]
    else:
        assert r.status_code in (403, 404)


def test_the_other_branchs_clerk_sees_only_its_own(
    svc: CaseworkService, mixed: dict[str, str]
) -> None:
    page = _official(svc, "clerk2").get(RECORDED + "?branch=B01").text
    assert _references(page) == [mixed["b02"]]
    assert mixed["mine"] not in page and B02_TEXT not in page and "钱七" not in page


@pytest.mark.parametrize("name", ["head", "officer", "town"])
def test_no_other_role_has_the_clerks_list(
    svc: CaseworkService, mixed: dict[str, str], name: str
) -> None:
    c = _official(svc, name)
    r = c.get(RECORDED, headers=JSON)
    assert r.status_code == 403 and r.json()["code"] == "case.role"
    r = c.get(RECORDED)
    assert r.status_code == 403 and mixed["mine"] not in r.text


def test_a_signed_out_visitor_is_led_to_sign_in(svc: CaseworkService) -> None:
    r = TestClient(svc.app).get(RECORDED, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/casework/login"


def test_the_clerks_list_follows_the_state_and_names_no_assignee(
    svc: CaseworkService, mixed: dict[str, str]
) -> None:
    head = _official(svc, "head")
    r = _post(head, f"/casework/case/{mixed['mine']}/assign", assignee="officer")
    assert r.status_code == 303, r.text
    clerk = _official(svc, "clerk1")
    page = clerk.get(RECORDED).text
    assert re.search(r'class="assigned" data-reference="YY-2026-00003"', page)
    assert "已交办" in page and "officer" not in page
    assert "assigned" in clerk.get(RECORDED + "?lang=en").text
    form = clerk.get("/casework/objection").text
    assert f'href="{RECORDED}"' in form


def test_the_list_says_it_is_the_work_groups_and_what_it_leaves_out(svc: CaseworkService) -> None:
    _accounts(svc).add("clerk2", Role.BRANCH_CLERK, "clerk2-password", branch="B02")
    clerk2 = _official(svc, "clerk2")
    assert _in_person(_official(svc, "clerk1")).status_code == 303  # B01's: not B02's
    zh = clerk2.get(RECORDED).text
    assert 'id="none-recorded"' in zh and "本支部工作组还没有记录过" in zh and "YY-2026" not in zh
    en = clerk2.get(RECORDED + "?lang=en").text
    assert "recorded, by any of its accounts" in en and "verification group or online" in en
    assert "work group has recorded no objection yet" in en
