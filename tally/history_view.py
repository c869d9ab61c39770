"""Every round of each post of a stored election, as published documents and result views show it
(RULES A13): the replayed round outcomes, with the refused openings (``round.quorum_failed``) put
back in their place from the log."""

from __future__ import annotations

from tally.core.history import PostHistory, QuorumFailure, post_histories, with_quorum_failures
from tally.core.meeting import parse_entry
from tally.core.meeting.bodies import RoundQuorumFailed
from tally.core.model import MemberId
from tally.core.rounds import ElectingBody, RoundSpec
from tally.core.rules import plenary_quorum, quorum
from tally.election import ElectionSession

__all__ = ["member_label", "session_histories"]


def session_histories(session: ElectionSession) -> tuple[PostHistory, ...]:
    """The post histories of ``session``, quorum-failed attempts included."""
    m = session.meeting
    election = session.manifest.election
    outcomes = m.rounds.outcomes
    specs = {(o.spec.post, o.spec.number): o.spec for o in outcomes}
    due = m.due()
    pending = [due] if isinstance(due, RoundSpec) else []
    if m.current is not None:
        pending.append(m.current.spec)
    for spec in pending:
        specs.setdefault((spec.post, spec.number), spec)
    failures: list[QuorumFailure] = []
    held = 0
    rows = session.store.log_rows_of_types(("round.counted", "round.void", "round.quorum_failed"))
    for _, raw in rows:
        v = parse_entry(raw).value
        if not isinstance(v, RoundQuorumFailed):
            held += 1
            continue
        key = (v.post, v.round)
        held_spec = specs.get(key)
        if held_spec is None:
            continue
        present = v.present
        q = (
            plenary_quorum(present, held_spec.expected)
            if held_spec.body is ElectingBody.PLENARY
            else quorum(present, held_spec.expected, election.parameters.quorum_comparison)
        )
        failures.append(QuorumFailure(held, key[0], key[1], q))
    return post_histories(with_quorum_failures(outcomes, failures, pending))


def member_label(session: ElectionSession, mid: MemberId) -> str:
    """A person's name, or the id itself when no member has it (never expected)."""
    try:
        return session.manifest.election.member(mid).name
    except KeyError:
        return str(mid)
