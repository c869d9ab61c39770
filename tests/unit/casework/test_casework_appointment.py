"""What the appointment reads of the casework (spec/procedure.md RP-10.1, RP-10.2, RP-12.2): open
objections refuse it, and its items carry no identity and no text."""

from __future__ import annotations

import json
from datetime import date

import pytest

from tally.core.casework import (
    CaseworkError,
    Channel,
    Effect,
    Finding,
    Ledger,
    appointment_objections,
    assign,
    conclude,
    lodge_objection,
    objections_of,
    open_ledger,
    opening_step,
    record,
)
from tests.helpers.casework import CALENDAR, at, casework

SALT = b"\x03" * 32


def _ledger() -> Ledger:
    led = open_ledger(casework())
    _, led = record(
        led, opening_step(led.casework), at=at("2026-09-28 09:00"), actor="town", salt=SALT
    )
    return led


def _lodge(
    led: Ledger, when: str, branch: str, about: str, what: str, name: str
) -> tuple[Ledger, str]:
    step = lodge_objection(
        led,
        at=at(when),
        calendar=CALENDAR,
        branch=branch,
        channel=Channel.FORM,
        about=about,
        what=what,
        objector_name=name,
        objector_contact="13900000000",
        publicity_end=date(2026, 10, 13),
        elected=frozenset({"M001", "M002"}),
    )
    _, led = record(led, step, at=at(when), actor="public", salt=SALT)
    return led, step.body["reference"]


def _close(
    led: Ledger, ref: str, when: str, finding: Finding, effect: Effect, summary: str
) -> Ledger:
    _, led = record(
        led,
        assign(led, at=at(when), reference=ref, assignee="o1"),
        at=at(when),
        actor="head",
        salt=SALT,
    )
    step = conclude(
        led, at=at(when), reference=ref, actor="o1", finding=finding, summary=summary, effect=effect
    )
    _, led = record(led, step, at=at(when), actor="o1", salt=SALT)
    return led


def test_an_open_objection_refuses_the_appointment_naming_it() -> None:
    led, ref = _lodge(_ledger(), "2026-09-30 10:00", "B01", "M001", "代填选票", "张三")
    with pytest.raises(CaseworkError) as e:
        appointment_objections(led, "B01")
    assert e.value.code == "appointment.objection_open"
    assert ref in e.value.en
    assert "2026-10-13" in e.value.en  # its due date
    assert appointment_objections(led, "B02") == []


def test_the_items_are_the_branchs_objections_in_reference_order_without_identity_or_text() -> None:
    led = _ledger()
    led, r1 = _lodge(led, "2026-09-30 10:00", "B01", "M001", "秘密内容甲", "张三")
    led, r2 = _lodge(led, "2026-09-30 10:05", "B02", "", "秘密内容乙", "王五")
    led, r3 = _lodge(led, "2026-10-14 09:00", "B01", "", "秘密内容丙", "赵六")
    led = _close(led, r3, "2026-10-14 10:00", Finding.UNSUBSTANTIATED, Effect.NONE, "结论丙")
    led = _close(led, r1, "2026-10-14 11:00", Finding.SUBSTANTIATED, Effect.NOT_APPOINTED, "结论甲")
    items = appointment_objections(led, "B01")
    assert [i["reference"] for i in items] == [r1, r3]
    assert items[0] == {
        "reference": r1,
        "received": "2026-09-30",
        "channel": "form",
        "timing": "during",
        "about": "M001",
        "finding": "substantiated",
        "effect": "not_appointed",
        "concluded": "2026-10-14",
    }
    assert items[1]["timing"] == "after"
    text = json.dumps(items, ensure_ascii=False)
    for secret in ("秘密", "结论", "张三", "赵六", "139", r2):
        assert secret not in text
    assert [c.reference for c in objections_of(led, "B02")] == [r2]
