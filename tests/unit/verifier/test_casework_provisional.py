"""(V31, spec/procedure.md RP-8.4a) The verifier's replay of provisional due dates.

A due date named in ``due_provisional`` is recomputed on Mondays to Fridays; ``due_provisional``
is a non-empty list of distinct due-date names in the order of RP-11.3, else
``casework.malformed``; an extension must be later than the provisional date or, where the
verifier's calendar knows the year, the exact one (the log does not say when the town signed the
year); overdue is judged on the exact date where the verifier's calendar knows it.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from verifier import statutory
from verifier.casework_log import Case, CaseworkDefinition, Replay

D = dt.date
DEFINITION = CaseworkDefinition(
    casework_id="0" * 64,
    town="青山镇",
    branches={"B01": ("G1",)},
    deadlines={
        "objection_assign_days": 1,
        "objection_conclude_days": 5,
        "report_assign_days": 1,
        "report_conclude_days": 10,
    },
    max_count=4,
    max_bytes=5 * 1024 * 1024,
    text_max_chars=2000,
)
#: The year the provisional rule is about: one chinese_calendar does not ship.
UNKNOWN = 2027


def test_the_library_does_not_know_the_year_these_cases_reach() -> None:
    assert statutory.builtin_year(UNKNOWN) is None


class _Log:
    """Entries fed to a replay; every finding kept as (code, rule)."""

    def __init__(self, calendar: dict[int, statutory.Year] | None = None) -> None:
        self.found: list[tuple[str, str]] = []
        self.replay = Replay(DEFINITION, self._fail, calendar or {})
        self.seq = 0
        self.add("casework.opened", {"casework_id": DEFINITION.casework_id}, "2026-12-21T09:00")

    def _fail(self, code: str, zh: str, en: str, **where: Any) -> None:
        del zh, en
        self.found.append((code, str(where.get("rule", ""))))

    def add(self, type_: str, body: dict[str, Any], at: str, actor: str = "head") -> None:
        doc = {
            "format": "casework-entry/1",
            "seq": self.seq,
            "prev": "1" * 64,
            "salt": "2" * 64,
            "type": type_,
            "at": at + ":00+08:00",
            "actor": actor,
            "body": body,
        }
        self.replay.entry(doc, "1" * 64)
        self.seq += 1

    def objection(self, due_conclude: str, provisional: object = ("due_conclude",)) -> None:
        body: dict[str, Any] = {
            "reference": "YY-2026-00001",
            "branch": "B01",
            "channel": "in_person",
            "about": "",
            "what": "年底有人反映计票问题。",
            "objector": {"name": "", "contact": ""},
            "relates_to": "",
            "timing": "after",
            "due_assign": "2026-12-29",
            "due_conclude": due_conclude,
        }
        if provisional is not None:
            body["due_provisional"] = (
                list(provisional) if isinstance(provisional, tuple) else provisional
            )
        self.add("objection.received", body, "2026-12-28T10:00", actor="clerk")

    def extend(self, due_conclude: str) -> None:
        body = {"reference": "YY-2026-00001", "due_conclude": due_conclude, "reason": "需核实"}
        self.add("objection.extended", body, "2026-12-30T11:00")

    @property
    def case(self) -> Case:
        return self.replay.cases["YY-2026-00001"]


def test_a_provisional_due_date_is_the_nth_monday_to_friday_rp_8_4a() -> None:
    log = _Log()
    log.objection("2027-01-04")  # 29, 30, 31 Dec, Fri 1 Jan, Mon 4 Jan
    assert log.found == []
    assert log.case.provisional == {"due_conclude"}


def test_a_provisional_due_date_miscounted_is_casework_deadline_rp_8_4a() -> None:
    log = _Log()
    log.objection("2027-01-05")  # as if 1 January were known to be a holiday
    assert log.found == [("casework.deadline", "RP-8.4a")]


def test_a_date_not_named_provisional_in_an_unknown_year_is_casework_calendar_year() -> None:
    log = _Log()
    log.objection("2027-01-04", provisional=None)
    assert [code for code, _ in log.found] == ["casework.calendar_year"]


@pytest.mark.parametrize(
    "value",
    [
        [],
        ["due_conclude", "due_conclude"],
        ["due_start"],
        ["due_conclude", "due_assign"],
        "due_conclude",
        [1],
    ],
    ids=["empty", "repeated", "unknown-name", "out-of-order", "not-a-list", "not-a-name"],
)
def test_a_malformed_due_provisional_is_casework_malformed_v31(value: object) -> None:
    log = _Log()
    log.objection("2027-01-04", provisional=value)
    assert log.found[0] == ("casework.malformed", "RP-8.4a")


def test_an_extension_of_a_provisional_date_must_be_later_than_it_rp_8_4a() -> None:
    log = _Log()
    log.objection("2027-01-04")
    log.extend("2027-01-04")
    assert log.found == [("casework.deadline", "RP-8.4a")]
    assert log.case.provisional == {"due_conclude"}


def test_an_extension_is_never_provisional_rp_8_4a() -> None:
    log = _Log()
    log.objection("2027-01-04")
    log.extend("2027-01-08")
    assert log.found == []
    assert log.case.provisional == set()
    assert log.case.judged("due_conclude") == D(2027, 1, 8)


def test_an_extension_later_than_the_exact_date_only_is_accepted_rp_8_4a() -> None:
    """With the year signed, an adjusted working Saturday (2 January) makes the exact date
    (2027-01-02) earlier than the provisional one (2027-01-04): an extension after the town
    signed the year replaces the exact date, and the log does not say when that was."""
    calendar: dict[int, statutory.Year] = {UNKNOWN: (frozenset(), frozenset({D(2027, 1, 2)}))}
    log = _Log(calendar)
    log.objection("2027-01-04")
    assert log.case.exact == {"due_conclude": D(2027, 1, 2)}
    log.extend("2027-01-03")
    assert log.found == []
    again = _Log(calendar)
    again.objection("2027-01-04")
    again.extend("2027-01-02")
    assert again.found == [("casework.deadline", "RP-8.4a")]


def test_overdue_is_judged_on_the_exact_date_where_the_calendar_knows_it_v31() -> None:
    """1 January a holiday of the signed year: exact 2027-01-05, provisional 2027-01-04."""
    log = _Log({UNKNOWN: (frozenset({D(2027, 1, 1)}), frozenset())})
    log.objection("2027-01-04")
    assert log.found == []
    assert log.case.judged("due_conclude") == D(2027, 1, 5)
    assert log.case.due_conclude == D(2027, 1, 4)  # the log's date, as shown on the day
    unknown = _Log()
    unknown.objection("2027-01-04")
    assert unknown.case.judged("due_conclude") == D(2027, 1, 4)
