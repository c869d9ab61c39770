"""Who recorded an entry: the ``actor`` of a casework entry (spec/procedure.md RP-8.2, RP-11.3).

An objection a branch's work group records in person is logged with the actor
``branch:<branch>:<account>``, so that the log itself says it was recorded for that branch by its
work group (RP-9.8: the branch's clerks list those, and only those). Every other actor is an
account name of the verification group, ``reporter:<id>`` or ``public``. An actor of the branch
form is allowed on an ``objection.received`` of channel ``in_person`` for that same branch only
(``casework.actor_branch``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from .errors import refuse

__all__ = ["BRANCH_ACTOR", "actor_branch", "branch_actor", "check_actor"]

#: The prefix of a branch work group's actor.
BRANCH_ACTOR: Final = "branch:"


def branch_actor(branch: str, account: str) -> str:
    """The actor of an in-person objection recorded by ``account``, a clerk of ``branch``."""
    return f"{BRANCH_ACTOR}{branch}:{account}"


def actor_branch(actor: str) -> str | None:
    """The branch an actor of the branch form names, or None for any other actor."""
    if not actor.startswith(BRANCH_ACTOR):
        return None
    branch, sep, account = actor[len(BRANCH_ACTOR) :].partition(":")
    return branch if sep and branch and account else ""


def check_actor(type_: str, body: Mapping[str, Any], actor: str) -> None:
    """Refuse an actor of the branch form anywhere but on its own branch's in-person objection.

    Raises:
        CaseworkError: ``casework.actor_branch``.
    """
    branch = actor_branch(actor)
    if branch is None:
        return
    if (
        type_ != "objection.received"
        or body.get("channel") != "in_person"
        or not branch
        or body.get("branch") != branch
    ):
        raise refuse(
            "casework.actor_branch",
            "RP-11.3",
            "支部工作组只能记录本支部当面提出的异议",
            f"the actor {actor!r} is a branch work group's: it records an in-person objection "
            "of that branch only",
        )
