"""The state of polling day after a prefix of the log (spec/log.md, spec/rounds.md): the open
round, the remote voting so far, and the election's round state; ``begin`` reads entry 0."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

from pyrsistent import PSet, PVector, pset, pvector

from tally.core.ballots import Ballot
from tally.core.errors import RoundStateError
from tally.core.model import Election, MemberId, PostKind, zh_label
from tally.core.remote import RemoteTotals
from tally.core.rounds import (
    Blocked,
    ElectionState,
    Finished,
    RoundSpec,
    next_round,
    start,
)
from tally.core.rules import expected_electors

from .bodies import ElectionOpened
from .common import bad, time_of
from .entries import Entry


class TownSignatureCheck(Protocol):
    """Checks a signature of the manifest's town committee key (spec/keyfile.md §6).

    The shell supplies it, so the core holds no key material. Raises ``ValueError`` when the
    signature does not verify."""

    def __call__(self, domain: bytes, message: bytes, signature: bytes) -> None: ...


@dataclass(frozen=True, slots=True)
class EnteredBallot:
    ballot_id: str
    seq: int
    ballot: Ballot


@dataclass(frozen=True, slots=True)
class OpenRound:
    """The round in progress and how far it has got."""

    spec: RoundSpec
    present: int
    present_members: tuple[MemberId, ...]
    paper_present: int | None = None  # when remote casts count toward the quorum (RM-9.3)
    issued: int | None = None
    returned: int | None = None
    # Persistent vector: appending shares structure, so a round of n ballots costs O(n log n),
    # not the O(n^2) of rebuilding a tuple per entry.
    entered: PVector[EnteredBallot] = field(default_factory=pvector)
    # The ids entered in this round. Per round, not per election: a ballot of another round is
    # already refused by the stock check, and a persistent set that grew with the whole election
    # made every garbage collection traverse it (entry slowed as the election grew).
    used_ids: PSet[str] = field(default_factory=pset)


@dataclass(frozen=True, slots=True)
class RemoteState:
    """Remote voting as recorded so far (spec/remote.md, spec/remote-v2.md): never who cast what.
    Encrypted choices, casts batched at the close, totals decrypted by k scrutineers."""

    credentials: PSet[MemberId] = field(default_factory=pset)
    tokens: PSet[str] = field(default_factory=pset)
    casts: PVector[tuple[int, str]] = field(default_factory=pvector)  # (seq, token)
    closed: bool = False
    not_counted: PSet[PostKind] = field(default_factory=pset)
    counted: PSet[PostKind] = field(default_factory=pset)
    k: int = 0  # partial decryptions needed (EG-7.4)
    n: int = 0  # scrutineers holding a share
    receipts: PVector[str] = field(default_factory=pvector)  # per cast, ascending (RV-4.3)
    cast_at: str = ""  # the `at` of the casts: that of remote.closed (RV-4.3)
    partials: PSet[int] = field(default_factory=pset)  # indices of the partial decryptions
    # each assembly-voted post's totals once ``remote.totals`` is logged, in ballot order
    totals: tuple[tuple[PostKind, RemoteTotals], ...] | None = None

    def totals_of(self, post: PostKind) -> RemoteTotals | None:
        """The post's remote totals, once ``remote.totals`` is logged."""
        return next((t for kind, t in self.totals or () if kind is post), None)


@dataclass(frozen=True, slots=True)
class Meeting:
    """The state after a prefix of the log."""

    election: Election
    election_id: bytes
    rounds: ElectionState
    size: int
    last_leaf: bytes
    last_at: dt.datetime
    present: frozenset[MemberId] = frozenset()
    current: OpenRound | None = None
    stocks: Mapping[tuple[PostKind, int], int] = field(default_factory=dict)
    stock_ids: Mapping[tuple[PostKind, int], frozenset[str]] = field(default_factory=dict)
    # parts committed per round (1 = the first print; each supplementary print adds one)
    stock_parts: Mapping[tuple[PostKind, int], int] = field(default_factory=dict)
    result: Mapping[str, Any] | None = None
    expected_ids: frozenset[MemberId] = frozenset()
    remote: RemoteState | None = None
    town_check: TownSignatureCheck | None = field(default=None, compare=False)
    # (R22.2, rounds.md S1a) A direct election's joint opening: the rounds still to be opened
    # with the committee's first round (the next entries), then the rounds opened with it that
    # wait for their count, in post order.
    joining: tuple[RoundSpec, ...] = ()
    held: tuple[OpenRound, ...] = ()
    # (log.md §2.3) the station's entry mode, as last logged by `double_entry.set`
    double_entry: bool = False

    @property
    def expected(self) -> int:
        return self.rounds.expected

    def ballot_entered(self, ballot_id: str) -> bool:
        """Whether the open round already holds this ballot (ballot ids are per round: R-stock)."""
        return self.current is not None and ballot_id in self.current.used_ids

    def due(self) -> RoundSpec | Blocked | Finished:
        """What the rules say comes next (ignores a round in progress)."""
        return next_round(self.rounds)


def _opened_id(entry0: Entry) -> str | None:
    if entry0.type != "election.opened":
        return None
    try:
        value = entry0.value
    except RoundStateError:
        return None
    return value.election_id if isinstance(value, ElectionOpened) else None


def begin(
    election: Election,
    election_id: bytes,
    entry0: Entry,
    *,
    town_check: TownSignatureCheck | None = None,
) -> Meeting:
    """The state after entry 0 (``election.opened``). ``town_check`` verifies the town committee's
    signatures on amended candidate lists; without it no amended list can be recorded.

    Raises:
        RoundStateError: entry 0 is not the opening of this election.
    """
    ok = (
        entry0.seq == 0
        and entry0.prev == election_id.hex()
        and _opened_id(entry0) == election_id.hex()
    )
    if not ok:
        raise bad(
            "log.bad_start",
            "日志第一条不是本次选举的开始记录",
            "entry 0 does not open this election",
        )
    return Meeting(
        election=election,
        election_id=election_id,
        rounds=start(election),
        size=1,
        last_leaf=entry0.leaf_hash,
        last_at=time_of(entry0.at),
        expected_ids=frozenset(expected_electors(election)),
        town_check=town_check,
    )


# -- the round an entry names -------------------------------------------------------------------


def require_round(m: Meeting, post: PostKind, number: int) -> OpenRound:
    """The open round, which must be ``post`` round ``number``."""
    cur = m.current
    if cur is None:
        raise bad("round.none_open", "当前没有进行中的轮次", "no round is open")
    if post is not cur.spec.post or number != cur.spec.number:
        raise bad(
            "round.other",
            f"当前进行的是{zh_label(cur.spec.post)}第{cur.spec.number}轮",
            f"the open round is {cur.spec.post.value} round {cur.spec.number}",
        )
    return cur


def sitting_round(m: Meeting, post: PostKind, number: int) -> OpenRound:
    """The open round, or a round of the joint opening still waiting for its count, named by
    ``post`` and ``number`` (its ballots are issued and returned with the others, R22.2)."""
    for held in m.held:
        if post is held.spec.post and number == held.spec.number:
            return held
    return require_round(m, post, number)


def put(m: Meeting, old: OpenRound, new: OpenRound | None) -> Meeting:
    """``m`` with round ``old`` (open or held) replaced by ``new`` (None: closed)."""
    if m.current is old:
        return replace(m, current=new)
    held = tuple(x for x in (new if h is old else h for h in m.held) if x is not None)
    return replace(m, held=held)


def no_round_open(m: Meeting) -> None:
    if m.current is not None:
        raise bad("round.in_progress", "有轮次正在进行，请先完成本轮", "a round is in progress")


def name(election: Election, member: MemberId) -> str:
    try:
        return f"{election.member(member).name}（{member}）"
    except KeyError:
        return str(member)


def without_stock(m: Meeting, cur: OpenRound) -> Mapping[tuple[PostKind, int], frozenset[str]]:
    """The stock ids once ``cur`` is closed: its ballots can no longer be entered, and keeping every
    round's ids would make the state grow with the election."""
    key = (cur.spec.post, cur.spec.number)
    return {k: v for k, v in m.stock_ids.items() if k != key}


@dataclass(frozen=True, slots=True)
class Step:
    """What an applier gets besides the state and the typed body: the entry itself (its seq and
    time) and, for a stock entry, the ballot ids of the sealed list the shell checked."""

    entry: Entry
    stock_ids: frozenset[str] | None = None
