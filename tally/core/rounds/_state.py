"""The values of the round state machine (spec/rules.md R3-R6, R11-R17, R22): what a round is,
what went into and came out of it, and the state of each post and of the election."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from tally.core.ballots import Ballot
from tally.core.errors import RoundStateError
from tally.core.model import (
    Election,
    MemberId,
    Officials,
    PostKind,
    zh_label,
)
from tally.core.remote import RemoteTotals
from tally.core.rules import (
    QuorumCheck,
)

MAX_ROUNDS_PER_POST = 255  # the QR payload's round number is one byte (spec/ballot-qr.md)
MIN_COMMITTEE_SEATS = 3  # a committee needs at least 3 members to exist (RULES §4.3)


class RoundPurpose(StrEnum):
    FIRST = "first"
    RUNOFF = "runoff"
    FURTHER = "further"


class ElectingBody(StrEnum):
    ASSEMBLY = "assembly"
    PLENARY = "plenary"


class RoundStatus(StrEnum):
    QUORUM_FAILED = "quorum_failed"
    VOID = "void"
    COUNTED = "counted"


@dataclass(frozen=True, slots=True)
class RoundSpec:
    """What is voted on in a round: the ballot paper's content and the rules that apply."""

    post: PostKind
    number: int
    purpose: RoundPurpose
    candidates: tuple[MemberId, ...]
    seats: int
    body: ElectingBody
    expected: int
    apply_threshold: bool
    revote_of: int | None = None


@dataclass(frozen=True, slots=True)
class Blocked:
    """No round can open until a person records a decision (amended list, seat reduction)."""

    post: PostKind
    code: str
    clause: str
    zh: str
    en: str


@dataclass(frozen=True, slots=True)
class Finished:
    """Every post is filled (or its seats were reduced by a recorded decision)."""

    elected: tuple[tuple[PostKind, tuple[MemberId, ...]], ...]


@dataclass(frozen=True, slots=True)
class RoundInput:
    """What the work group records for a round: present electors, ballots issued and returned, and
    every returned ballot as read (paper)."""

    present: int
    issued: int
    returned: int
    ballots: tuple[Ballot, ...]
    # Remote ballots counted in this round (spec/remote.md RM-9.2), judged like paper; and the
    # electors present on paper when remote casts count toward the quorum (RM-9.3).
    remote: tuple[Ballot, ...] = ()
    paper_present: int | None = None
    # (spec/remote-v2.md RV-7.1) Version 2: the post's remote totals, counted like that many
    # valid paper ballots (no ballot is decrypted, so there are no ballots to judge).
    remote_totals: RemoteTotals | None = None


@dataclass(frozen=True, slots=True)
class RoundOutcome:
    """What happened in a round and why, with the clause of each decision.

    ``approvals`` lists (member, approvals) for the listed candidates in ballot order, then any
    write-in recipients by id. ``minimum_to_pass`` is the smallest passing count (R13), or 0 in a
    runoff, where no threshold applies (R15).
    """

    spec: RoundSpec
    quorum: QuorumCheck
    status: RoundStatus
    issued: int
    returned: int
    valid_ballots: int
    invalid_ballots: int
    approvals: tuple[tuple[MemberId, int], ...]
    base: int
    minimum_to_pass: int
    passed: tuple[MemberId, ...]
    elected: tuple[MemberId, ...]
    tied: tuple[MemberId, ...]
    tied_seats: int
    shortfall: int
    clauses: tuple[str, ...]
    ballot_notes: tuple[tuple[str, int], ...] = ()
    remote_ballots: int = 0
    # (R22.3) Listed candidates who cannot take the post at the count (direct election: not
    # elected to the committee; deputy: the elected secretary): their approvals count for nobody.
    dropped: tuple[MemberId, ...] = ()


@dataclass(frozen=True, slots=True)
class PostState:
    """Where one post stands: seats still to fill, who is elected, the rounds held."""

    kind: PostKind
    seats: int
    candidates: tuple[MemberId, ...]
    elected: tuple[MemberId, ...] = ()
    rounds_held: int = 0
    pending: RoundSpec | None = None
    reduced_from: int | None = None

    @property
    def open_seats(self) -> int:
        return self.seats - len(self.elected)


@dataclass(frozen=True, slots=True)
class ElectionState:
    """The whole election's progress; a value, replaced by every step."""

    election: Election
    expected: int
    posts: tuple[PostState, ...]
    outcomes: tuple[RoundOutcome, ...] = field(default=())
    # (R25, A12.3) the officials of rounds opened from now on; None: the definition's.
    officials: Officials | None = None

    def post(self, kind: PostKind) -> PostState:
        for p in self.posts:
            if p.kind is kind:
                return p
        raise RoundStateError(
            "post.unknown",
            zh=f"本次选举没有{zh_label(kind)}职位",
            en=f"this election has no {kind.value} post",
        )

    def elected(self, kind: PostKind) -> tuple[MemberId, ...]:
        return self.post(kind).elected


_POST_ORDER = (PostKind.COMMITTEE, PostKind.SECRETARY, PostKind.DEPUTY_SECRETARY)
