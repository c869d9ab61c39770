"""A ``remote-ballot/2`` for an open session, without a device (spec/remote-v2.md §3): for tests
that exercise the cast path (window, credential, single use, limits) rather than the ballot."""

from __future__ import annotations

from typing import Any

from keys import remote_ballot
from tally.election import ElectionSession


def ballot_for(s: ElectionSession, token: bytes, approve_first: bool = False) -> dict[str, Any]:
    """A valid ballot for ``token`` against the session's context (RV-3.2): no choice approved,
    or with ``approve_first`` the first listed candidate of every post."""
    ctx = s.remote.ballot_context()
    return remote_ballot.encrypt_ballot(
        ctx,
        token,
        [
            remote_ballot.PostChoice(
                approvals=tuple(
                    1 if (approve_first and i == 0) else 0 for i in range(shape.choices)
                )
            )
            for shape in ctx.posts
        ],
    )
