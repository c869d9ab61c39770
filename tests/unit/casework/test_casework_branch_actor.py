"""A branch work group's actor ``branch:<branch>:<account>`` (spec/procedure.md RP-8.2, RP-11.3,
issue 18 clerklist): allowed on an in-person objection of that branch only, refused
(``casework.actor_branch``) anywhere else, both when recording and when replaying a stored log."""

from __future__ import annotations

import json
from datetime import date

import pytest

from tally.core.casework import (
    CaseworkError,
    Channel,
    Ledger,
    Step,
    actor_branch,
    assign,
    branch_actor,
    lodge_objection,
    open_ledger,
    opening_step,
    record,
    replay,
)
from tally.core.manifest import canonical
from tests.helpers.casework import CALENDAR, at, casework

WHEN = at("2026-09-29 10:00")


def _opened() -> tuple[Ledger, list[bytes]]:
    led = open_ledger(casework())
    entry, led = record(
        led, opening_step(led.casework), at=at("2026-09-28 09:00"), actor="town", salt=bytes(32)
    )
    return led, [entry.raw]


def _objection(led: Ledger, branch: str = "B01", channel: Channel = Channel.IN_PERSON) -> Step:
    return lodge_objection(
        led,
        at=WHEN,
        calendar=CALENDAR,
        branch=branch,
        channel=channel,
        about="",
        what="当面反映：有人代填选票",
        publicity_end=date(2026, 12, 31),
        elected=frozenset(),
    )


def test_the_branch_actor_names_its_branch_and_a_bare_account_name_names_none() -> None:
    assert branch_actor("B01", "clerk1") == "branch:B01:clerk1"
    assert actor_branch("branch:B01:clerk1") == "B01"
    assert actor_branch("branch:B01:a:b") == "B01"  # the account part is the rest
    for town in ("clerk1", "head", "public", "reporter:R1", "Branch:B01:x"):
        assert actor_branch(town) is None
    for broken in ("branch:", "branch:B01", "branch:B01:", "branch::clerk1"):
        assert actor_branch(broken) == ""


def test_a_branch_clerk_records_an_in_person_objection_of_its_own_branch() -> None:
    led, _ = _opened()
    entry, after = record(
        led, _objection(led), at=WHEN, actor=branch_actor("B01", "clerk1"), salt=bytes(32)
    )
    assert json.loads(entry.raw)["actor"] == "branch:B01:clerk1"
    assert after.size == led.size + 1


@pytest.mark.parametrize(
    ("branch", "channel", "actor"),
    [
        ("B02", Channel.IN_PERSON, "branch:B01:clerk1"),  # another branch's objection
        ("B01", Channel.FORM, "branch:B01:clerk1"),  # the public form is no work group's
        ("B01", Channel.IN_PERSON, "branch:B01"),  # no account
        ("B01", Channel.IN_PERSON, "branch::clerk1"),  # no branch
    ],
    ids=["other-branch", "form-channel", "no-account", "no-branch"],
)
def test_rp_11_3_a_branch_actor_on_anything_but_its_own_in_person_objection_is_refused(
    branch: str, channel: Channel, actor: str
) -> None:
    led, _ = _opened()
    with pytest.raises(CaseworkError) as e:
        record(led, _objection(led, branch, channel), at=WHEN, actor=actor, salt=bytes(32))
    assert (e.value.code, e.value.clause) == ("casework.actor_branch", "RP-11.3")
    assert e.value.zh and e.value.en


def test_rp_11_3_a_branch_actor_never_assigns_or_handles_a_case() -> None:
    led, _ = _opened()
    step = _objection(led)
    _, led = record(led, step, at=WHEN, actor=branch_actor("B01", "c"), salt=bytes(32))
    ref = str(step.body["reference"])
    with pytest.raises(CaseworkError) as e:
        record(
            led,
            assign(led, at=WHEN, reference=ref, assignee="officer"),
            at=WHEN,
            actor=branch_actor("B01", "c"),
            salt=bytes(32),
        )
    assert e.value.code == "casework.actor_branch"


def test_rp_11_3_a_stored_entry_with_a_branch_actor_of_another_branch_is_refused_on_replay() -> (
    None
):
    led, raws = _opened()
    good, _ = record(led, _objection(led), at=WHEN, actor="branch:B01:clerk1", salt=bytes(32))
    replay(led.casework, [*raws, good.raw])  # the control: the entry as recorded replays
    doc = json.loads(good.raw)
    bad = canonical({**doc, "actor": "branch:B02:clerk1"})
    with pytest.raises(CaseworkError) as e:
        replay(led.casework, [*raws, bad])
    assert e.value.code == "casework.actor_branch"
