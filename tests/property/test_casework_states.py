"""The case states of spec/procedure.md RP-8.4 and RP-9.6 against a simple oracle.

Random sequences of lodging, reporting, assigning, checking, extending and concluding, by the
right or the wrong account, on existing or made-up references: the core accepts exactly what the
oracle's transition table allows, refuses the rest with the oracle's code, and the states agree
after every step.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from tally.core.casework import (
    CaseworkError,
    Channel,
    Finding,
    Ledger,
    apply,
    assign,
    check,
    conclude,
    extend,
    lodge_objection,
    open_ledger,
    opening_step,
    register_reporter,
    submit_report,
)
from tests.helpers.casework import CALENDAR, at, casework

# The oracle: (kind, state) -> the actions allowed, and the state each leads to.
ALLOWED: dict[tuple[str, str], dict[str, str]] = {
    ("objection", "received"): {"assign": "assigned", "extend": "received"},
    ("objection", "assigned"): {
        "assign": "assigned",
        "conclude": "concluded",
        "extend": "assigned",
    },
    ("report", "received"): {"assign": "assigned", "extend": "received"},
    ("report", "assigned"): {"assign": "assigned", "check": "checked", "extend": "assigned"},
    ("report", "checked"): {"conclude": "concluded", "extend": "checked"},
}
ACCOUNTS = ("o1", "o2")


class CaseStates(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        led = open_ledger(casework())
        self.now: datetime = at("2026-09-28 09:00")
        led = apply(led, "casework.opened", opening_step(led.casework).body, self.now)
        step = register_reporter(
            led, at=self.now, reporter="R1", branch="B01", group="G1", name="李四", phone=""
        )
        self.ledger: Ledger = apply(led, step.type, step.body, self.now)
        self.kind: dict[str, str] = {}
        self.state: dict[str, str] = {}
        self.assignee: dict[str, str] = {}
        self.due: dict[str, date] = {}

    def _tick(self) -> datetime:
        self.now += timedelta(minutes=7)
        return self.now

    def _attempt(self, action: str, ref: str, actor: str, make: Any) -> None:
        """Run ``make`` (which builds a step) and compare with the oracle."""
        at_ = self._tick()
        if ref not in self.state:
            expect = "case.unknown"
        elif self.state[ref] == "concluded":
            expect = "case.concluded"
        elif action not in ALLOWED[(self.kind[ref], self.state[ref])]:
            expect = "case.state_order"
        elif action in ("check", "conclude") and actor != self.assignee[ref]:
            expect = "case.not_assignee"
        else:
            expect = ""
        if expect:
            with pytest.raises(CaseworkError) as e:
                make(at_)
            assert e.value.code == expect, (action, ref, e.value.code, expect)
            return
        step = make(at_)
        self.ledger = apply(self.ledger, step.type, step.body, at_)
        self.state[ref] = ALLOWED[(self.kind[ref], self.state[ref])][action]
        if action == "assign":
            self.assignee[ref] = step.body["assignee"]
        if action == "extend":
            self.due[ref] = date.fromisoformat(step.body["due_conclude"])

    def _ref(self, data: st.DataObject) -> str:
        known = sorted(self.state)
        pick = st.sampled_from(known) if known else st.just("YY-2026-00042")
        return data.draw(st.one_of(pick, st.just("MQ-2026-00099")))

    @rule(about=st.sampled_from(["", "M001"]))
    def lodge(self, about: str) -> None:
        at_ = self._tick()
        step = lodge_objection(
            self.ledger,
            at=at_,
            calendar=CALENDAR,
            branch="B01",
            channel=Channel.FORM,
            about=about,
            what="异议",
            publicity_end=date(2026, 10, 13),
            elected=frozenset({"M001"}),
        )
        ref = step.body["reference"]
        self.ledger = apply(self.ledger, step.type, step.body, at_)
        self.kind[ref], self.state[ref] = "objection", "received"
        self.due[ref] = date.fromisoformat(step.body["due_conclude"])

    @rule(branch=st.sampled_from(["B01", "B02"]))
    def report(self, branch: str) -> None:
        at_ = self._tick()
        step = submit_report(
            self.ledger, at=at_, calendar=CALENDAR, reporter="R1", what="拉票", branch=branch
        )
        ref = step.body["reference"]
        self.ledger = apply(self.ledger, step.type, step.body, at_)
        self.kind[ref], self.state[ref] = "report", "received"
        self.due[ref] = date.fromisoformat(step.body["due_conclude"])

    @rule(data=st.data(), who=st.sampled_from(ACCOUNTS))
    def assign_case(self, data: st.DataObject, who: str) -> None:
        ref = self._ref(data)
        self._attempt(
            "assign", ref, who, lambda t: assign(self.ledger, at=t, reference=ref, assignee=who)
        )

    @rule(data=st.data(), who=st.sampled_from(ACCOUNTS))
    def check_case(self, data: st.DataObject, who: str) -> None:
        ref = self._ref(data)
        self._attempt(
            "check",
            ref,
            who,
            lambda t: check(self.ledger, at=t, reference=ref, actor=who, note="已核实"),
        )

    @rule(data=st.data(), who=st.sampled_from(ACCOUNTS))
    def conclude_case(self, data: st.DataObject, who: str) -> None:
        ref = self._ref(data)
        self._attempt(
            "conclude",
            ref,
            who,
            lambda t: conclude(
                self.ledger,
                at=t,
                reference=ref,
                actor=who,
                finding=Finding.UNSUBSTANTIATED,
                summary="不属实",
            ),
        )

    @rule(data=st.data())
    def extend_case(self, data: st.DataObject) -> None:
        ref = self._ref(data)
        later = self.due.get(ref, date(2026, 10, 1)) + timedelta(days=3)
        self._attempt(
            "extend",
            ref,
            "",
            lambda t: extend(
                self.ledger, at=t, reference=ref, due_conclude=later, reason="补充调查"
            ),
        )

    @precondition(lambda self: bool(self.state))
    @invariant()
    def states_agree(self) -> None:
        for ref, state in self.state.items():
            case = self.ledger.cases[ref]
            assert case.state.value == state
            assert case.due_conclude == self.due[ref]
            if state != "received":
                assert case.assignee == self.assignee[ref]


CaseStates.TestCase.settings = settings(max_examples=60, stateful_step_count=30, deadline=None)
test_case_states_follow_the_oracle = CaseStates.TestCase
