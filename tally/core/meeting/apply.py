"""``apply_entry``: the checks every entry meets (the chain, the time, the joint opening, the
finished election), then the applier of its type, looked up in ``HANDLERS``."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import TypeVar

from tally.core.model import zh_label

from . import attendance, decisions, remote, sitting
from .bodies import (
    BallotDeclaredInvalid,
    BallotEntered,
    BallotsIssued,
    BallotsReturned,
    BallotWithdrawn,
    CandidatesAmended,
    DoubleEntrySet,
    ElectionOpened,
    ElectionResult,
    EntryBody,
    MemberCheckedIn,
    MemberLeft,
    OfficialsChanged,
    RemoteCastV2,
    RemoteClosed,
    RemoteCredentialIssued,
    RemoteNotCounted,
    RemoteOpenedV2,
    RemotePartialDecryption,
    RemoteTotalsBody,
    RoundCounted,
    RoundOpened,
    RoundQuorumFailed,
    RoundVoid,
    SeatsReduced,
    StockCommitted,
    StockSupplemented,
)
from .common import bad, time_of
from .entries import Entry
from .state import Meeting, Step

V = TypeVar("V", bound=EntryBody)
W = TypeVar("W", bound=EntryBody)
Handler = Callable[[Meeting, EntryBody, Step], Meeting]


@dataclass(frozen=True, slots=True)
class Route:
    """The typed bodies an entry type parses to, and its applier."""

    bodies: tuple[type[EntryBody], ...]
    handle: Handler


def _route(body: type[V], handle: Callable[[Meeting, V, Step], Meeting]) -> Route:
    def typed(m: Meeting, value: EntryBody, step: Step) -> Meeting:
        if not isinstance(value, body):  # the parse gives each type its own dataclass
            raise TypeError(f"{step.entry.type}: {type(value).__name__} is not {body.__name__}")
        return handle(m, value, step)

    return Route((body,), typed)


#: The applier of each entry type (spec/log.md §2, spec/remote.md RM-8.1, spec/remote-v2.md §5).
HANDLERS: Mapping[str, Route] = {
    "election.opened": _route(ElectionOpened, attendance.election_opened),
    "stock.committed": _route(StockCommitted, attendance.stock_committed),
    "stock.supplemented": _route(StockSupplemented, attendance.stock_supplemented),
    "member.checked_in": _route(MemberCheckedIn, attendance.checked_in),
    "member.left": _route(MemberLeft, attendance.left),
    "round.quorum_failed": _route(RoundQuorumFailed, sitting.quorum_failed),
    "round.opened": _route(RoundOpened, sitting.round_opened),
    "ballots.issued": _route(BallotsIssued, sitting.ballots_issued),
    "ballots.returned": _route(BallotsReturned, sitting.ballots_returned),
    "round.void": _route(RoundVoid, sitting.round_void),
    "ballot.entered": _route(BallotEntered, sitting.ballot_entered),
    "ballot.withdrawn": _route(BallotWithdrawn, sitting.ballot_withdrawn),
    "ballot.declared_invalid": _route(BallotDeclaredInvalid, sitting.declared_invalid),
    "round.counted": _route(RoundCounted, sitting.round_counted),
    "seats.reduced": _route(SeatsReduced, decisions.seats_reduced),
    "officials.changed": _route(OfficialsChanged, decisions.officials_changed),
    "double_entry.set": _route(DoubleEntrySet, decisions.double_entry_set),
    "candidates.amended": _route(CandidatesAmended, decisions.candidates_amended),
    "election.result": _route(ElectionResult, decisions.election_result),
    "remote.opened": _route(RemoteOpenedV2, remote.remote_opened),
    "remote.credential_issued": _route(RemoteCredentialIssued, remote.credential_issued),
    "remote.cast": _route(RemoteCastV2, remote.remote_cast),
    "remote.closed": _route(RemoteClosed, remote.remote_closed),
    "remote.not_counted": _route(RemoteNotCounted, remote.not_counted),
    "remote.partial_decryption": _route(RemotePartialDecryption, remote.partial_decryption),
    "remote.totals": _route(RemoteTotalsBody, remote.remote_totals),
}


def apply_entry(m: Meeting, entry: Entry, *, stock_ids: frozenset[str] | None = None) -> Meeting:
    """Check ``entry`` against the state and return the state after it.

    Args:
        m: the state before.
        entry: the next entry.
        stock_ids: for ``stock.committed`` and ``stock.supplemented``, the ballot ids of the
            sealed list (hex); the shell has checked them against the commitment.

    Raises:
        RoundStateError: the entry does not follow, its body is malformed, or the rules forbid
            it; the message says why.
    """
    if entry.seq != m.size or entry.prev != m.last_leaf.hex():
        raise bad(
            "log.chain",
            f"第 {entry.seq} 条记录与前一条不衔接（哈希链断裂）",
            f"entry {entry.seq} does not chain to the previous entry",
        )
    at = time_of(entry.at)
    if at < m.last_at:
        raise bad("log.time_backwards", "记录时间早于前一条", "entry time goes backwards")
    if m.joining and entry.type != "round.opened":
        nxt = m.joining[0]
        raise bad(
            "joint.incomplete",
            f"直接选举的委员、书记、副书记选票一并发出：须接着开始{zh_label(nxt.post)}"
            f"第{nxt.number}轮",
            f"a direct election opens every post's first round together: "
            f"{nxt.post.value} round {nxt.number} must be opened next",
            "R22",
        )
    if m.result is not None:
        raise bad("election.finished", "选举已结束，不能再记录", "the election is finished")
    route = HANDLERS.get(entry.type)
    if route is None:
        raise bad(
            "log.unknown_type", f"未知记录类型 {entry.type}", f"unknown entry type {entry.type}"
        )
    new = _promote(route.handle(m, entry.value, Step(entry, stock_ids)))
    return replace(new, size=m.size + 1, last_leaf=entry.leaf_hash, last_at=at)


def _promote(m: Meeting) -> Meeting:
    """(R22.2) A round of the joint opening becomes the open round when its turn comes (RS1)."""
    if m.current is None and m.held and m.due() == m.held[0].spec:
        return replace(m, current=m.held[0], held=m.held[1:])
    return m
