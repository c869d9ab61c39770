"""``tally casework assign|check|extend|conclude|list|summary`` (spec/procedure.md RP-8.4, RP-8.5,
RP-9.6-RP-9.8, RP-13.2), in-process on a casework file whose cases came in through the store: each
step is the core's, a refused step says why and stores nothing, the list shows states, due dates
and overdue cases without any text or identity, and the summary of an exported bundle gives the
town report's numbers."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

import keys
from tally import cli_casework_cases
from tally.casework_store import CaseworkStore, sign_casework
from tally.cli import app
from tally.core.casework import Channel, lodge_objection, register_reporter, submit_report
from tests.helpers.casework import CALENDAR, SERVICE, TOWN, at, counter_random, document

NOW = at("2026-10-20 10:00")


@pytest.fixture
def db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A town with a reporter, a report (MQ-2026-00001) and an objection (YY-2026-00001),
    both received on 9 October; the commands' clock stands at 20 October 10:00."""
    monkeypatch.setattr(cli_casework_cases, "_now", lambda: NOW)
    path = tmp_path / "town.casework"
    signed, _ = sign_casework(document(), TOWN)
    rnd = counter_random()
    store = CaseworkStore.create(
        path, signed_casework=signed, casework_signer=SERVICE, at=at("2026-10-08 09:00"), random=rnd
    )
    when = at("2026-10-08 09:30")
    step = register_reporter(
        store.ledger, at=when, reporter="R1", branch="B01", group="G1", name="李四", phone=""
    )
    store.register(step, at=when, actor="case_head", random=rnd)
    when = at("2026-10-09 10:00")
    step = submit_report(
        store.ledger, at=when, calendar=CALENDAR, reporter="R1", what="有人在村口发烟拉票"
    )
    store.perform(step, at=when, actor="reporter:R1", random=rnd)
    step = lodge_objection(
        store.ledger,
        at=when,
        calendar=CALENDAR,
        branch="B01",
        channel=Channel.FORM,
        about="M001",
        what="计票时有人代填选票",
        objector_name="王五",
        publicity_end=dt.date(2026, 10, 13),
        elected=frozenset({"M001"}),
    )
    store.lodge(step, at=when, actor="public", random=rnd, submission="token-1")
    store.close()
    return path


def _cw(*args: str) -> Result:
    return CliRunner().invoke(app, ["casework", *args])


def _size(path: Path) -> int:
    store = CaseworkStore.open(path)
    try:
        return store.ledger.size
    finally:
        store.close()


def test_a_report_is_assigned_checked_and_concluded_by_its_assignee(db: Path) -> None:
    r = _cw("assign", str(db), "MQ-2026-00001", "--to", "officer-li", "--json")
    assert r.exit_code == 0, r.output
    assert json.loads(r.output)["state"] == "assigned"
    r = _cw("check", str(db), "MQ-2026-00001", "--note", "已走访核实", "--actor", "officer-li")
    assert r.exit_code == 0, r.output
    assert "MQ-2026-00001 已记录核实情况" in r.output
    r = _cw(
        "conclude",
        str(db),
        "MQ-2026-00001",
        "--finding",
        "unsubstantiated",
        "--summary",
        "未发现拉票行为",
        "--actor",
        "officer-li",
        "--lang",
        "en",
    )
    assert r.exit_code == 0, r.output
    assert r.output.strip() == "MQ-2026-00001 concluded: unsubstantiated"
    store = CaseworkStore.open(db)
    case = store.ledger.case("MQ-2026-00001")
    store.close()
    assert (case.state.value, case.finding, case.assignee) == (
        "concluded",
        "unsubstantiated",
        "officer-li",
    )


def test_a_step_refused_by_the_core_says_why_and_stores_nothing_rp_9_8(db: Path) -> None:
    assert _cw("assign", str(db), "MQ-2026-00001", "--to", "officer-li").exit_code == 0
    before = _size(db)
    # Only the assignee checks a report...
    r = _cw("check", str(db), "MQ-2026-00001", "--note", "x", "--actor", "officer-wang", "--json")
    assert r.exit_code == 1 and json.loads(r.output)["code"] == "case.not_assignee"
    # ...a report is concluded only once checked...
    r = _cw(
        "conclude",
        str(db),
        "MQ-2026-00001",
        "--finding",
        "substantiated",
        "--summary",
        "属实",
        "--actor",
        "officer-li",
        "--json",
    )
    assert r.exit_code == 1 and json.loads(r.output)["code"] == "case.state_order"
    # ...and an unknown reference is named.
    r = _cw("assign", str(db), "YY-2026-00009", "--to", "officer-li")
    assert r.exit_code == 1 and "YY-2026-00009" in r.output
    assert _size(db) == before


def test_an_objection_is_extended_and_concluded_with_an_effect_rp_8_5(db: Path) -> None:
    assert _cw("assign", str(db), "YY-2026-00001", "--to", "officer-wang").exit_code == 0
    r = _cw(
        "extend",
        str(db),
        "YY-2026-00001",
        "--until",
        "2026-10-30",
        "--reason",
        "需向县纪委调取材料",
    )
    assert r.exit_code == 0, r.output
    assert "办结期限延至 2026-10-30" in r.output
    conclude = [
        "conclude",
        str(db),
        "YY-2026-00001",
        "--finding",
        "unsubstantiated",
        "--summary",
        "反映不属实",
        "--actor",
        "officer-wang",
    ]
    # An effect the finding does not allow is refused...
    r = _cw(*conclude, "--effect", "not_appointed", "--json")
    assert r.exit_code == 1 and json.loads(r.output)["code"] == "case.effect_invalid"
    # ...and a finding that allows it records it.
    conclude[4] = "substantiated"
    r = _cw(*conclude, "--effect", "not_appointed", "--json")
    assert r.exit_code == 0, r.output
    body = json.loads(r.output)
    assert (body["finding"], body["effect"], body["due_conclude"]) == (
        "substantiated",
        "not_appointed",
        "2026-10-30",
    )


def test_extend_refuses_a_due_date_that_is_not_yyyy_mm_dd_and_stores_nothing(db: Path) -> None:
    assert _cw("assign", str(db), "YY-2026-00001", "--to", "officer-wang").exit_code == 0
    before = _size(db)
    for until in ("2026-10-32", "2026-10-3", "２０２６-１０-３０"):
        r = _cw(
            "extend", str(db), "YY-2026-00001", "--until", until, "--reason", "调取材料", "--json"
        )
        assert r.exit_code == 1, r.output
        body = json.loads(r.stdout)
        assert body["code"] == "cli.date" and "--until" in body["message"], body
    assert _size(db) == before


def test_list_shows_states_and_overdue_cases_without_text_or_identity_rp_9_7(db: Path) -> None:
    r = _cw("list", str(db), "--on", "2026-10-13")
    assert r.exit_code == 0, r.output
    # Received 9 October, due to be assigned on the next working day (10 October): overdue.
    assert "MQ-2026-00001　B01　已受理，期限" in r.output and "【逾期】" in r.output
    for secret in ("李四", "王五", "拉票", "代填", "R1"):
        assert secret not in r.output
    assert _cw("assign", str(db), "MQ-2026-00001", "--to", "officer-li").exit_code == 0
    assert _cw("assign", str(db), "YY-2026-00001", "--to", "officer-li").exit_code == 0
    r = _cw("list", str(db), "--open", "--on", "2026-10-13", "--json")
    cases = json.loads(r.output)["cases"]
    # Objections first, then reports; both assigned now, neither past its due date to conclude.
    assert [(c["reference"], c["state"], c["overdue"]) for c in cases] == [
        ("YY-2026-00001", "assigned", False),
        ("MQ-2026-00001", "assigned", False),
    ]
    r = _cw("list", str(db), "--branch", "B02", "--lang", "en")
    assert r.output.strip() == "(no cases)"


def test_summary_of_an_exported_bundle_gives_each_branchs_numbers_rp_13_2(
    db: Path, tmp_path: Path
) -> None:
    out = tmp_path / "bundle"
    assert _cw("export", str(db), "--out", str(out)).exit_code == 0
    town_pub = tmp_path / "town.pub"
    town_pub.write_bytes(keys.export_public_key(TOWN.public_key))
    r = _cw("summary", str(out), "--town-key", str(town_pub), "--on", "2026-10-13", "--json")
    assert r.exit_code == 0, r.output
    b01 = json.loads(r.output)["branches"][0]
    assert (b01["objections"]["received"], b01["objections"]["overdue"]) == (1, 1)
    assert (b01["reports"]["received"], b01["reports"]["open"]) == (1, 1)
    assert b01["groups_without_reporter"] == ["G2"]
    r = _cw("summary", str(out), "--town-key", str(town_pub), "--on", "2026-10-13")
    assert "东村党支部：异议 收到 1、办结 0、未结 1、逾期 1" in r.output
    assert "无直报员的小组：二组" in r.output
    assert "李四" not in r.output and "王五" not in r.output
    other = tmp_path / "other.pub"
    other.write_bytes(keys.export_public_key(SERVICE.public_key))
    r = _cw("summary", str(out), "--town-key", str(other), "--json")
    assert r.exit_code == 1 and json.loads(r.output)["code"] == "casework.bundle"
