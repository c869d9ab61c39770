"""(V31, RP-11.3, issue 18 clerklist) The verifier's replay finds a branch work group's actor
``branch:<B>:<account>`` anywhere but on an in-person ``objection.received`` of B
(``casework.actor_branch``), and never on an account name or on its own branch's objection."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from tests.unit.verifier.test_casework_provisional import DEFINITION
from verifier.casework_log import Replay

DEFINITION_B02 = dataclasses.replace(DEFINITION, branches={"B01": ("G1",), "B02": ("G1",)})


def _codes(
    actor: str, *, branch: str = "B01", channel: str = "in_person", assign: str = ""
) -> set[str]:
    found: list[str] = []

    def fail(code: str, zh: str, en: str, **where: Any) -> None:
        del zh, en, where
        found.append(code)

    replay = Replay(DEFINITION_B02, fail, {})
    seq = 0

    def add(type_: str, body: dict[str, Any], at: str, who: str) -> None:
        nonlocal seq
        doc = {
            "format": "casework-entry/1",
            "seq": seq,
            "prev": "1" * 64,
            "salt": "2" * 64,
            "type": type_,
            "at": at + ":00+08:00",
            "actor": who,
            "body": body,
        }
        replay.entry(doc, "1" * 64)
        seq += 1

    add("casework.opened", {"casework_id": DEFINITION.casework_id}, "2026-09-28T09:00", "town")
    body = {
        "reference": "YY-2026-00001",
        "branch": branch,
        "channel": channel,
        "about": "",
        "what": "当面反映：有人代填选票。",
        "objector": {"name": "", "contact": ""},
        "relates_to": "",
        "timing": "during",
        "due_assign": "2026-09-30",
        "due_conclude": "2026-10-12",
    }
    add("objection.received", body, "2026-09-29T10:00", actor if not assign else "head")
    if assign:
        ref = {"reference": "YY-2026-00001", "assignee": "officer"}
        add("objection.assigned", ref, "2026-09-29T11:00", assign)
    return set(found)


@pytest.mark.parametrize("actor", ["branch:B01:clerk1", "branch:B01:a:b", "head", "clerk1"])
def test_a_work_groups_own_in_person_objection_and_any_account_name_pass(actor: str) -> None:
    assert "casework.actor_branch" not in _codes(actor)


@pytest.mark.parametrize(
    ("actor", "branch", "channel"),
    [
        ("branch:B02:clerk1", "B01", "in_person"),
        ("branch:B01:clerk1", "B02", "in_person"),
        ("branch:B01:clerk1", "B01", "form"),
        ("branch:B01", "B01", "in_person"),
        ("branch::clerk1", "B01", "in_person"),
    ],
    ids=["other-branch-actor", "other-branch-objection", "form", "no-account", "no-branch"],
)
def test_v31_a_work_groups_actor_off_its_own_in_person_objection_is_casework_actor_branch(
    actor: str, branch: str, channel: str
) -> None:
    assert "casework.actor_branch" in _codes(actor, branch=branch, channel=channel)


def test_v31_a_work_groups_actor_on_an_assignment_is_casework_actor_branch() -> None:
    assert "casework.actor_branch" in _codes("", assign="branch:B01:clerk1")
    assert "casework.actor_branch" not in _codes("", assign="head")
