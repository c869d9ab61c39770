"""What the replay of ``log.jsonl`` knows at a given entry (spec/bundle.md V8-V15, V18).

Plain mutable records, changed only by the replay's handlers: the state of each post (RS1-RS8 of
spec/rounds.md), the round due and the round open, each round's committed stock, and what the log
has said of remote voting. Their size grows with the election as the manifest and the stock lists
describe it, never with the number of log lines (spec/bundle.md §8).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from verifier.remote import PostSpec

__all__ = ["Cast", "Due", "Open", "PostState", "RemoteState", "Stock"]


@dataclass
class PostState:
    """One post of the manifest as the log has changed it: seats (R17), candidates (RS7), those
    elected in order (RS8), rounds held, and the round it owes (a runoff, a re-vote, R22.2)."""

    seats: int
    candidates: tuple[str, ...]
    margin: str
    elected: list[str] = field(default_factory=list)
    held: int = 0
    pending: tuple[str, tuple[str, ...], int, str] | None = None  # purpose, candidates, seats, body


@dataclass(frozen=True, slots=True)
class Due:
    """The round the rules call for next (RS1-RS7), or why none can open (``blocked``)."""

    post: str
    number: int
    purpose: str
    candidates: tuple[str, ...]
    seats: int
    body: str
    expected: int
    blocked: str = ""


@dataclass
class Open:
    """A round between its ``round.opened`` and its ``round.counted`` or ``round.void``."""

    post: str
    number: int
    purpose: str
    candidates: tuple[str, ...]
    seats: int
    body: str
    present: int
    committee_size: int
    seq: int
    stage: str = "opened"
    issued: int | None = None
    returned: int | None = None
    entries: list[tuple[int, Mapping[str, Any], bytes]] = field(default_factory=list)
    entered_total: int = 0
    ids: dict[str, int] = field(default_factory=dict)  # ballot id -> surviving entries
    paper: int | None = None  # ballots to issue: paper attendance (R12, RM-9.3); None: unknown
    remote: bool = False  # the remote ballots count in this round (RM-9.1)
    decided: int = 0  # ballot.declared_invalid entries among ``entries`` (R8.5)
    misshapen: int = 0  # ballot.entered reported for their marks (V9 ballot.shape), ever


@dataclass
class Stock:
    """A round's committed stock (V8): its count and ids, all parts together.

    The ids are kept as the stock file spells them, 32 lowercase hex (V8 checked them), so that
    a ballot's id is looked up as the log spells it, without decoding it.
    """

    count: int
    ids: frozenset[str] | None
    seq: int


@dataclass
class Cast:
    """One ``remote.cast`` (V18.3-V18.6, V18.20, V18.21)."""

    seq: int
    token: bytes | None
    receipt: str = ""  # RV-3.6 ("" when the ballot has no JCS form)
    at: Any = None  # the entry's time (V18.20)


@dataclass
class RemoteState:
    """What the replay knows of remote voting (spec/remote.md §13); small: one item per cast."""

    posts: tuple[PostSpec, ...]
    opened_seq: int | None = None
    opened_leaf: bytes = b""  # the leaf hash of remote.opened: the invitations' check code binds it
    issuer: Any = None  # the RSA public key once V18.1 accepted it
    credentials: dict[str, int] = field(default_factory=dict)
    credential_entries: int = 0
    casts: list[Cast] = field(default_factory=list)
    tokens: dict[bytes, int] = field(default_factory=dict)
    closed_seq: int | None = None
    round_opened: bool = False
    counted_round: bool = False
    status: dict[str, str] = field(default_factory=dict)  # post -> pending/counted/not_counted
    expect_not_counted: tuple[str, int, int, bool] | None = None  # post, round, seq, required
    # spec/remote-v2.md: remote.opened has an ``election_key`` (version 2); version 1 (a
    # ``ballot_key``) is no longer supported, V18.1.
    version: int = 0
    election_key: Any = None  # verifier.remote_v2.ThresholdKey once V18.1 accepted it
    write_in_lists: dict[str, tuple[str, ...]] = field(default_factory=dict)  # RV-2.1
    sums: dict[str, list[Any]] = field(default_factory=dict)  # post -> encrypted totals (EG-3.3)
    sums_known: bool = True  # every cast's ciphertexts parsed, so the sums are the totals'
    partial_indices: set[int] = field(default_factory=set)  # remote.partial_decryption seen
    partials: dict[int, dict[str, tuple[bytes, ...]]] = field(default_factory=dict)  # verified
    totals_seq: int | None = None
    totals: dict[str, tuple[int, ...]] = field(default_factory=dict)  # post -> per choice

    @property
    def remote_ballots(self) -> int:
        """(V18.12) The remote ballots of the election: the casts (spec/remote-v2.md §8)."""
        return len(self.casts)
