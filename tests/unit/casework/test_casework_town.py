"""The town committee's casework numbers per branch (spec/procedure.md RP-9.1, RP-9.7, RP-13.2):
each count follows the cases' states, findings, effects, timing and due dates; a report made from
another branch is counted for the branch it is about; a village group without a reporter is
flagged; and the numbers carry no reference, name, text or reporter id."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from tally.core.casework import (
    Channel,
    Effect,
    Finding,
    Ledger,
    apply,
    assign,
    check,
    conclude,
    lodge_objection,
    open_ledger,
    opening_step,
    register_reporter,
    submit_report,
    town_casework,
    withdraw_reporter,
)
from tests.helpers.casework import CALENDAR, at, casework

PUBLICITY_END = date(2026, 10, 13)
ELECTED = frozenset({"M001", "M002"})
SECRET_TEXTS = ("李四", "王五", "13800000000", "代填选票", "村口发烟", "核实属实", "R1", "R2")


def _do(ledger: Ledger, step: Any, when: str) -> Ledger:
    return apply(ledger, step.type, step.body, at(when))


def _town() -> Ledger:
    """B01 (groups G1, G2; one reporter in G1) and B02 (G1; one reporter, who reports on B01)."""
    led = open_ledger(casework())
    led = _do(led, opening_step(led.casework), "2026-10-08 09:00")
    for rid, branch, name in (("R1", "B01", "李四"), ("R2", "B02", "王五")):
        when = "2026-10-08 09:30"
        step = register_reporter(
            led, at=at(when), reporter=rid, branch=branch, group="G1", name=name, phone=""
        )
        led = _do(led, step, when)

    def objection(led: Ledger, about: str, when: str, channel: Channel) -> Ledger:
        step = lodge_objection(
            led,
            at=at(when),
            calendar=CALENDAR,
            branch="B01",
            channel=channel,
            about=about,
            what="计票时有人代填选票",
            publicity_end=PUBLICITY_END,
            elected=ELECTED,
        )
        return _do(led, step, when)

    led = objection(led, "M001", "2026-10-09 10:00", Channel.FORM)  # YY-2026-00001
    led = objection(led, "", "2026-10-09 11:00", Channel.IN_PERSON)  # YY-2026-00002
    for rid, when in (("R1", "2026-10-09 12:00"), ("R2", "2026-10-09 13:00")):
        step = submit_report(
            led,
            at=at(when),
            calendar=CALENDAR,
            reporter=rid,
            what="有人在村口发烟拉票",
            branch="B01",
        )
        led = _do(led, step, when)  # MQ-2026-00001 (own branch), MQ-2026-00002 (from B02)
    when = "2026-10-12 09:00"
    for ref in ("YY-2026-00001", "YY-2026-00002", "MQ-2026-00001"):
        led = _do(led, assign(led, at=at(when), reference=ref, assignee="officer"), when)
    led = _do(
        led,
        conclude(
            led,
            at=at(when),
            reference="YY-2026-00001",
            actor="officer",
            finding=Finding.SUBSTANTIATED,
            effect=Effect.NOT_APPOINTED,
            summary="核实属实",
        ),
        when,
    )
    led = _do(
        led,
        check(led, at=at(when), reference="MQ-2026-00001", actor="officer", note="已到现场"),
        when,
    )
    led = _do(
        led,
        conclude(
            led,
            at=at(when),
            reference="MQ-2026-00001",
            actor="officer",
            finding=Finding.UNSUBSTANTIATED,
            summary="核实属实",
        ),
        when,
    )
    return objection(led, "M002", "2026-10-14 09:00", Channel.FORM)  # YY-2026-00003, after


def _by(pairs: Any) -> dict[str, int]:
    return {k.value: n for k, n in pairs if n}


def test_counts_per_branch_follow_states_findings_effects_and_timing_rp_13_2() -> None:
    town = town_casework(_town(), date(2026, 10, 14))
    b01, b02 = town.branches
    assert (b01.branch, b01.name, b02.branch) == ("B01", "东村党支部", "B02")
    o = b01.objections
    assert (o.received, o.open, o.concluded) == (3, 2, 1)
    assert _by(o.by_finding) == {"substantiated": 1}
    assert _by(b01.objection_effects) == {"not_appointed": 1}
    assert b01.objections_after_publicity == 1
    r = b01.reports
    assert (r.received, r.open, r.concluded) == (2, 1, 1)
    assert _by(r.by_finding) == {"unsubstantiated": 1}
    # The report made by B02's reporter counts for B01, the branch it is about (RP-9.5).
    assert b01.reports_from_other_branches == 1
    assert b02.reports.received == 0 and b02.objections.received == 0
    # Every finding and effect is listed, zeros included, in the order of RP-8.5.
    assert [f for f, _ in o.by_finding] == list(Finding)
    assert [e for e, _ in b01.objection_effects] == list(Effect)


def test_overdue_counts_open_cases_past_a_due_date_rp_9_7() -> None:
    led = _town()
    # Received 9 October: to be assigned by the next working day (Saturday 10 October, a working
    # day made up for the National Day holiday)...
    early = town_casework(led, date(2026, 10, 10))
    assert (early.branches[0].objections.overdue, early.branches[0].reports.overdue) == (0, 0)
    # ...so on the 12th the unassigned report from B02 is overdue; the assigned ones are not yet.
    later = town_casework(led, date(2026, 10, 12))
    assert (later.branches[0].objections.overdue, later.branches[0].reports.overdue) == (0, 1)
    # Weeks later every open case is overdue, and no concluded one ever is.
    late = town_casework(led, date(2026, 11, 30)).branches[0]
    assert (late.objections.overdue, late.reports.overdue) == (late.objections.open, 1)


def test_village_group_without_an_active_reporter_is_flagged_rp_9_1() -> None:
    led = _town()
    b01 = town_casework(led, date(2026, 10, 14)).branches[0]
    assert [(g.group, g.reporters) for g in b01.groups] == [("G1", 1), ("G2", 0)]
    assert [g.group for g in b01.groups_without_reporter] == ["G2"]
    when = "2026-10-14 10:00"
    led = _do(led, withdraw_reporter(led, at=at(when), reporter="R1", reason="外出务工"), when)
    b01 = town_casework(led, date(2026, 10, 14)).branches[0]
    assert [g.group for g in b01.groups_without_reporter] == ["G1", "G2"]


def test_town_numbers_carry_no_reference_identity_or_text_rp_12_2() -> None:
    doc = town_casework(_town(), date(2026, 10, 14)).document()
    text = json.dumps(doc, ensure_ascii=False)
    assert doc["format"] == "town-casework/1" and doc["entries"] == 14
    for secret in (*SECRET_TEXTS, "YY-2026", "MQ-2026", "M001", "M002", "officer"):
        assert secret not in text, secret
