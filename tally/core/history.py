"""Every round of every post, and who was elected in which round: what published documents show.

RULES A13: the notice and every result view show, for each elected person, the round that elected
them and the approvals in that round, and list every round of a post (runoffs, further rounds, void
re-votes), never only the first. This module turns the round outcomes into that one view, so the
notice, the CLI, the station pages, the bulletin board and the town report cannot disagree.

Pure: no I/O, no clock.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from tally.core.model import MemberId, PostKind
from tally.core.rounds import (
    ElectingBody,
    RoundOutcome,
    RoundPurpose,
    RoundSpec,
    RoundStatus,
    uncounted_outcome,
)
from tally.core.rules import QuorumCheck

__all__ = [
    "ElectedIn",
    "PostHistory",
    "QuorumFailure",
    "RoundLine",
    "post_histories",
    "with_quorum_failures",
]


@dataclass(frozen=True, slots=True)
class RoundLine:
    """One round of a post as published: its own counts and its own threshold line.

    ``threshold`` is ``None`` for a round that applies none (a runoff only ranks, R15) and for a
    round that was not counted (quorum failed, void). ``approvals`` is in ballot order, then
    write-in recipients, exactly as counted.
    """

    number: int
    purpose: RoundPurpose
    revote_of: int | None
    status: RoundStatus
    body: ElectingBody
    seats: int
    present: int
    expected: int
    issued: int
    returned: int
    valid_ballots: int
    invalid_ballots: int
    remote_ballots: int
    base: int
    threshold: int | None
    approvals: tuple[tuple[MemberId, int], ...]
    elected: tuple[MemberId, ...]
    tied: tuple[MemberId, ...]
    shortfall: int
    # (R22.3) listed candidates who could no longer take the post at the count (direct election)
    dropped: tuple[MemberId, ...] = ()


@dataclass(frozen=True, slots=True)
class ElectedIn:
    """Who was elected, in which round, with the approvals of that round.

    For a runoff winner, ``passed_round``/``passed_approvals`` name the earlier round in which the
    threshold was passed (the runoff itself only ranks); otherwise they equal the electing round.
    """

    member: MemberId
    round: int
    approvals: int
    passed_round: int
    passed_approvals: int


@dataclass(frozen=True, slots=True)
class PostHistory:
    """A post's rounds in the order held, and its elected members in the order elected."""

    post: PostKind
    rounds: tuple[RoundLine, ...]
    elected: tuple[ElectedIn, ...]

    def elected_ids(self) -> tuple[MemberId, ...]:
        return tuple(e.member for e in self.elected)


def _line(o: RoundOutcome) -> RoundLine:
    counted = o.status is RoundStatus.COUNTED
    return RoundLine(
        number=o.spec.number,
        purpose=o.spec.purpose,
        revote_of=o.spec.revote_of,
        status=o.status,
        body=o.spec.body,
        seats=o.spec.seats,
        present=o.quorum.present,
        expected=o.quorum.expected,
        issued=o.issued,
        returned=o.returned,
        valid_ballots=o.valid_ballots,
        invalid_ballots=o.invalid_ballots,
        remote_ballots=o.remote_ballots,
        base=o.base,
        threshold=o.minimum_to_pass if counted and o.spec.apply_threshold else None,
        approvals=o.approvals if counted else (),
        elected=o.elected if counted else (),
        tied=o.tied if counted else (),
        shortfall=o.shortfall if counted else 0,
        dropped=o.dropped if counted else (),
    )


def post_histories(outcomes: Iterable[RoundOutcome]) -> tuple[PostHistory, ...]:
    """The rounds of each post in the order held, posts in the order they first voted.

    A member's electing round is the counted round whose ``elected`` names them; a runoff winner's
    passing round is the latest earlier counted threshold round of the post that they passed.
    """
    lines: dict[PostKind, list[RoundLine]] = {}
    passed: dict[tuple[PostKind, MemberId], tuple[int, int]] = {}
    elected: dict[PostKind, list[ElectedIn]] = {}
    for o in outcomes:
        post = o.spec.post
        line = _line(o)
        lines.setdefault(post, []).append(line)
        elected.setdefault(post, [])
        if o.status is not RoundStatus.COUNTED:
            continue
        votes = dict(o.approvals)
        if o.spec.apply_threshold:
            for m in o.passed:
                passed[(post, m)] = (o.spec.number, votes.get(m, 0))
        for m in o.elected:
            n = votes.get(m, 0)
            p_round, p_votes = passed.get((post, m), (o.spec.number, n))
            elected[post].append(ElectedIn(m, o.spec.number, n, p_round, p_votes))
    return tuple(
        PostHistory(post=post, rounds=tuple(rs), elected=tuple(elected[post]))
        for post, rs in lines.items()
    )


@dataclass(frozen=True, slots=True)
class QuorumFailure:
    """A refused attempt to open a round (``round.quorum_failed``): no ballot was issued.

    ``after`` is how many round outcomes (counted or void) the log held before it.
    """

    after: int
    post: PostKind
    number: int
    quorum: QuorumCheck


def with_quorum_failures(
    outcomes: Sequence[RoundOutcome],
    failures: Iterable[QuorumFailure],
    pending: Iterable[RoundSpec] = (),
) -> tuple[RoundOutcome, ...]:
    """The outcomes with each quorum failure in its place, as a QUORUM_FAILED outcome (R5, R6).

    A failed attempt keeps the round due (its number is reused), so its spec is the one of the
    round later held with that post and number, or of a round still ``pending``; a failure with
    neither is left out (no round it could describe).
    """
    specs = {(o.spec.post, o.spec.number): o.spec for o in outcomes}
    for spec in pending:
        specs.setdefault((spec.post, spec.number), spec)
    by_place: dict[int, list[RoundOutcome]] = {}
    for f in failures:
        found = specs.get((f.post, f.number))
        if found is None:
            continue
        by_place.setdefault(f.after, []).append(uncounted_outcome(found, f.quorum))
    out: list[RoundOutcome] = []
    for i in range(len(outcomes) + 1):
        out.extend(by_place.get(i, ()))
        if i < len(outcomes):
            out.append(outcomes[i])
    return tuple(out)
