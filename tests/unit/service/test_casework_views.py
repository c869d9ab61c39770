"""The casework pages' data (tally/service/casework/views.py), without HTTP: what each page may
show (spec/procedure.md RP-9.8) and the counts per branch (RP-9.7, RP-11.4)."""

from __future__ import annotations

from datetime import date
from typing import Any

from tally.core.casework import (
    Channel,
    Finding,
    Ledger,
    Step,
    assign,
    branch_actor,
    check,
    conclude,
    lodge_objection,
    open_ledger,
    opening_step,
    record,
    register_reporter,
    reminder_step,
    submit_report,
)
from tally.service.casework import views
from tests.helpers.casework import CALENDAR, at, casework


class Log:
    """A ledger and its entries' bytes, as the store would hold them."""

    def __init__(self) -> None:
        self.ledger: Ledger = open_ledger(casework())
        self.rows: list[bytes] = []
        self.n = 0
        self.add(opening_step(self.ledger.casework), "town")

    def add(self, step: Step, actor: str) -> None:
        self.n += 1
        entry, self.ledger = record(
            self.ledger, step, at=at(f"2026-09-28 10:{self.n:02d}"), actor=actor, salt=bytes(32)
        )
        self.rows.append(entry.raw)

    def now(self) -> Any:
        return at(f"2026-09-28 10:{self.n + 1:02d}")


def _town() -> Log:
    log = Log()
    for rid, branch in (("R1", "B01"), ("R2", "B02")):
        log.add(
            register_reporter(
                log.ledger,
                at=log.now(),
                reporter=rid,
                branch=branch,
                group="G1",
                name=rid,
                phone="",
            ),
            "head",
        )
    for rid, what in (("R1", "一号的第一份"), ("R2", "二号的"), ("R1", "一号的第二份")):
        step = submit_report(log.ledger, at=log.now(), calendar=CALENDAR, reporter=rid, what=what)
        log.add(step, f"reporter:{rid}")
    return log


def test_a_reporter_sees_only_their_own_reports_newest_first() -> None:
    log = _town()
    mine = views.reporter_reports(log.ledger, views.case_files(log.rows), "R1")
    assert [r["reference"] for r in mine] == ["MQ-2026-00003", "MQ-2026-00001"]
    assert all("二号" not in r["what"] for r in mine)


def test_a_reporter_sees_the_finding_but_never_the_summary_or_the_assignee() -> None:
    log = _town()
    ref = "MQ-2026-00001"
    log.add(assign(log.ledger, at=log.now(), reference=ref, assignee="officer"), "head")
    log.add(check(log.ledger, at=log.now(), reference=ref, actor="officer", note="走访"), "officer")
    step = conclude(
        log.ledger,
        at=log.now(),
        reference=ref,
        actor="officer",
        finding=Finding.SUBSTANTIATED,
        summary="内部结论",
    )
    log.add(step, "officer")
    (report,) = [
        r
        for r in views.reporter_reports(log.ledger, views.case_files(log.rows), "R1")
        if r["reference"] == ref
    ]
    assert report["state"] == "concluded" and report["finding"] == "substantiated"
    shown = " ".join(str(v) for v in report.values())
    assert "内部结论" not in shown and "officer" not in shown and "走访" not in shown


def test_a_case_file_holds_its_history_in_log_order() -> None:
    log = _town()
    ref = "MQ-2026-00002"
    log.add(assign(log.ledger, at=log.now(), reference=ref, assignee="officer"), "head")
    f = views.case_files(log.rows)[ref]
    assert f.actor == "reporter:R2"
    assert [h["type"] for h in f.history] == ["report.received", "report.assigned"]


def test_branch_counts_by_kind_state_and_finding_and_the_overdue() -> None:
    log = _town()
    due = views.reminders_today(log.ledger, date(2026, 9, 30), CALENDAR)
    b01, b02 = views.branch_counts(log.ledger, due)
    assert (b01.code, b01.reports["received"], b01.objections["received"]) == ("B01", 2, 0)
    assert b02.reports["received"] == 1 and b01.overdue == 2 and b02.overdue == 1
    assert set(b01.findings.values()) == {0}


def test_reminders_sent_today_are_read_back_from_the_log() -> None:
    log = _town()
    (r, *_) = views.reminders_today(log.ledger, date(2026, 9, 29), CALENDAR).values()
    log.add(reminder_step(r), "casework")
    assert views.sent_today(log.rows, date(2026, 9, 28)) == {(r.reference, "assign_due")}
    assert views.sent_today(log.rows, date(2026, 9, 29)) == set()


def test_a_clerks_list_is_every_in_person_objection_its_branchs_work_group_recorded() -> None:
    """(RP-9.8, issue 18 clerklist) The ``in_person`` objections of the branch whose received
    entry's actor is the branch's work group (``branch:B01:…``, any clerk): not one by form, not
    the head's in person, not one logged under a bare account name that a clerk once had, not
    another branch's (even by the same account name), not a report."""
    log = _town()

    def objection(branch: str, channel: Channel, actor: str) -> str:
        step = lodge_objection(
            log.ledger,
            at=log.now(),
            calendar=CALENDAR,
            branch=branch,
            channel=channel,
            about="",
            what="当面反映",
            objector_name="赵六",
            publicity_end=date(2026, 12, 31),
            elected=frozenset(),
        )
        log.add(step, actor)
        return views.reference_of(step)

    first = objection("B01", Channel.IN_PERSON, branch_actor("B01", "clerk1"))
    objection("B01", Channel.FORM, "public")
    objection("B01", Channel.IN_PERSON, "head")
    objection("B01", Channel.IN_PERSON, "clerk1")  # a bare name: the town's, whoever has it now
    b02 = objection("B02", Channel.IN_PERSON, branch_actor("B02", "clerk1"))
    second = objection("B01", Channel.IN_PERSON, branch_actor("B01", "clerk9"))
    files = views.case_files(log.rows)
    got = views.clerk_objections(log.ledger, files, "B01")
    assert [c.reference for c in got] == [first, second]
    assert [c.reference for c in views.clerk_objections(log.ledger, files, "B02")] == [b02]
    assert views.clerk_objections(log.ledger, files, "B03") == []
