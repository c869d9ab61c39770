"""Why a branch's appointment is pending on the report's day (spec/procedure.md RP-13.2, RP-10;
tally.core.procedure.figures.pending_reason): the refusal the town's ``appoint`` would meet, in
its order, from the procedure log and the casework numbers of a bundle that passed V31."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from types import SimpleNamespace
from typing import Any, cast

import pytest

from tally.core.procedure.entries import ProcedureEntry
from tally.core.procedure.figures import pending_reason

END = dt.date(2026, 12, 22)


def _log(*types: str) -> Sequence[ProcedureEntry]:
    bodies: dict[str, dict[str, Any]] = {
        "election.concluded": {"publicity_end": END.isoformat()},
        "appointment.recorded": {"appointment": {"date": "2026-12-28", "decision": "approved"}},
    }
    entries = [SimpleNamespace(type=t, body=bodies.get(t, {})) for t in types]
    return cast("Sequence[ProcedureEntry]", entries)


AFTER = dt.date(2026, 12, 28)


@pytest.mark.parametrize(
    ("types", "open_objections", "on", "want"),
    [
        (("candidates.approved", "election.bound"), 1, AFTER, "appointment.not_concluded"),
        (("election.bound", "election.concluded"), 2, AFTER, "appointment.objection_open"),
        (("election.bound", "election.concluded"), 2, END, "appointment.objection_open"),
        (("election.bound", "election.concluded"), 0, END, "appointment.during_publicity"),
        (("election.bound", "election.concluded"), 0, AFTER, ""),
        (("election.concluded", "appointment.recorded"), 1, AFTER, ""),
    ],
    ids=[
        "no-result-yet-comes-first",
        "an-open-objection",
        "an-open-objection-before-the-publicity-check",
        "publicity-not-ended-on-its-last-day",
        "nothing-stands-in-the-way",
        "recorded-is-not-pending",
    ],
)
def test_the_reason_is_appoints_first_refusal(
    types: tuple[str, ...], open_objections: int, on: dt.date, want: str
) -> None:
    assert pending_reason(_log(*types), open_objections=open_objections, on=on) == want


def test_without_verified_casework_numbers_the_objections_are_not_judged() -> None:
    log = _log("election.bound", "election.concluded")
    assert pending_reason(log, open_objections=None, on=AFTER) == ""
    assert pending_reason(log, open_objections=None, on=END) == "appointment.during_publicity"
