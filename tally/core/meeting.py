"""Polling day as a pure state machine over log entries (spec/log.md, spec/rounds.md).

Every change to an election is a log entry. ``apply_entry`` checks that an entry is allowed in the
current state and returns the next state; the shells build entries with the helpers below, apply
them (so a refused command changes nothing), and only then store them. Opening an election file
replays every stored entry through the same function, so a stored log that breaks the rules cannot
be continued.

The meeting of one round goes: opened (quorum held) -> ballots issued (= electors present) ->
ballots returned (more than issued: VOID, a re-vote follows) -> ballots entered one by one (the
teller may withdraw their last entry) -> counted (outcome recorded; runoff, further round or next
post follows).
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import json
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

from pyrsistent import PSet, PVector, pset, pvector

from tally.core.ballots import INVALID_REASONS, Ballot, Mark, WriteIn
from tally.core.errors import RoundStateError
from tally.core.manifest import canonical
from tally.core.marks_file import resolve_write_in
from tally.core.model import Election, MemberId, Officials, PostKind, zh_label
from tally.core.remote import (
    RemoteTotals,
    assembly_posts,
    check_cast_ballot,
    check_election_key,
    check_partial_decryption,
    check_totals,
    too_many_choices,
    write_in_lists_body,
)
from tally.core.rounds import (
    Blocked,
    ElectingBody,
    ElectionState,
    Finished,
    RoundInput,
    RoundOutcome,
    RoundPurpose,
    RoundSpec,
    RoundStatus,
    amend_candidates,
    amendable_round,
    apply_outcome,
    count_round,
    joint_rounds,
    next_round,
    reduce_seats,
    round_officials,
    start,
    void_held_round,
)
from tally.core.rules import expected_electors, plenary_quorum, quorum

__all__ = [
    "AMENDED_LIST_DOMAIN",
    "AMENDED_LIST_FORMAT",
    "ENTRY_FORMAT",
    "INVALID_DECISION_DOMAIN",
    "SALT_BYTES",
    "EnteredBallot",
    "Entry",
    "Meeting",
    "OpenRound",
    "TownSignatureCheck",
    "amended_list_document",
    "apply_entry",
    "assembly_posts",
    "ballot_from_body",
    "begin",
    "check_supplement",
    "count_current",
    "counted_body",
    "entry_bytes",
    "invalid_decision_message",
    "leaf_hash",
    "make_entry",
    "opened_body",
    "parse_entry",
]

ENTRY_FORMAT = "log-entry/1"
AMENDED_LIST_FORMAT = "amended-list/1"
AMENDED_LIST_DOMAIN = b"branch-election/amended-list/1"
#: (spec/log.md §2.2) The signature domain of a scrutineer's confirmation of an invalid ballot.
INVALID_DECISION_DOMAIN = b"branch-election/invalid-ballot/1"
_HEX32 = re.compile(r"^[0-9a-f]{32}$")
_HEX64 = re.compile(r"^[0-9a-f]{64}$")
#: (spec/log.md §1) The length of an entry's salt in bytes; it is written as 64 lowercase hex.
SALT_BYTES = 32

BODY_FIELDS: Mapping[str, frozenset[str]] = {
    "election.opened": frozenset({"election_id"}),
    "stock.committed": frozenset({"post", "round", "count", "commitment"}),
    "stock.supplemented": frozenset({"post", "round", "part", "count", "commitment"}),
    "member.checked_in": frozenset({"member"}),
    "member.left": frozenset({"member"}),
    "round.quorum_failed": frozenset({"post", "round", "present", "present_members"}),
    "round.opened": frozenset(
        {
            "post",
            "round",
            "purpose",
            "candidates",
            "seats",
            "body",
            "expected",
            "present",
            "present_members",
        }
    ),
    "ballots.issued": frozenset({"post", "round", "count"}),
    "ballots.returned": frozenset({"post", "round", "count"}),
    "round.void": frozenset({"post", "round", "issued", "returned"}),
    "ballot.entered": frozenset({"post", "round", "ballot_id", "qr", "marks", "write_ins"}),
    "ballot.withdrawn": frozenset({"post", "round", "ballot_id"}),
    # (R8.5) a returned ballot entered as invalid by decision, confirmed by a scrutineer.
    "ballot.declared_invalid": frozenset(
        {"post", "round", "ballot_id", "qr", "reason", "scrutineer", "signature"}
    ),
    "round.counted": frozenset(
        {
            "post",
            "round",
            "valid_ballots",
            "invalid_ballots",
            "approvals",
            "base",
            "minimum",
            "elected",
            "tied",
            "tied_seats",
            "shortfall",
        }
    ),
    "seats.reduced": frozenset({"post", "seats", "assembly_consent", "town_agreement"}),
    "officials.changed": frozenset({"scrutineers", "tellers"}),
    # The station's entry mode (spec/log.md §2.3): "on" while two tellers must agree on a ballot.
    "double_entry.set": frozenset({"mode"}),
    "candidates.amended": frozenset(
        {"post", "round", "candidates", "town_approval", "town_signature"}
    ),
    "election.result": frozenset({"elected", "publicity_start", "publicity_end"}),
    # Remote ballots (spec/remote.md RM-8.1).
    "remote.opened": frozenset({"issuer_key", "ballot_key", "k", "n", "shares"}),
    "remote.credential_issued": frozenset({"member"}),
    "remote.cast": frozenset({"token", "token_prefix", "token_signature", "sealed"}),
    "remote.closed": frozenset({"credentials", "casts"}),
    "remote.key_revealed": frozenset({"private_key"}),
    "remote.decrypted": frozenset({"cast", "ballot"}),
    "remote.rejected": frozenset({"cast", "reason"}),
    "remote.not_counted": frozenset({"post", "round", "reason"}),
    # Version 2 (spec/remote-v2.md §5): entries of version 2 only.
    "remote.partial_decryption": frozenset({"index", "posts"}),
    "remote.totals": frozenset({"posts"}),
}
#: (spec/remote-v2.md §5) The version-2 bodies of entries that version 1 also has; which one an
#: election uses is decided by its ``remote.opened`` (``ballot_key``: 1, ``election_key``: 2).
REMOTE_V2_FIELDS: Mapping[str, frozenset[str]] = {
    "remote.opened": frozenset({"issuer_key", "election_key", "shares", "write_in_lists"}),
    "remote.cast": frozenset({"token", "token_prefix", "token_signature", "ballot"}),
}
#: Entries of version 1 only (spec/remote.md RM-8.1): refused in a version-2 election (V18.21).
REMOTE_V1_ONLY = frozenset({"remote.key_revealed", "remote.decrypted", "remote.rejected"})
#: Entries of version 2 only: refused in a version-1 election.
REMOTE_V2_ONLY = frozenset({"remote.partial_decryption", "remote.totals"})
# `round.counted` carries `remote_ballots` only in elections that opened remote voting, and
# `dropped` only when a direct election's candidates dropped out at the count (R22.3).
COUNTED_WITH_REMOTE = BODY_FIELDS["round.counted"] | {"remote_ballots"}
COUNTED_SHAPES = frozenset(
    {
        BODY_FIELDS["round.counted"],
        COUNTED_WITH_REMOTE,
        BODY_FIELDS["round.counted"] | {"dropped"},
        COUNTED_WITH_REMOTE | {"dropped"},
    }
)
REJECT_REASONS = frozenset(
    {"remote.sealed_invalid", "remote.ballot_invalid", "remote.token_mismatch"}
)


class TownSignatureCheck(Protocol):
    """Checks a signature of the manifest's town committee key (spec/keyfile.md §6).

    The shell supplies it, so the core holds no key material. Raises ``ValueError`` when the
    signature does not verify."""

    def __call__(self, domain: bytes, message: bytes, signature: bytes) -> None: ...


def amended_list_document(
    election_id: bytes,
    post: PostKind,
    round_number: int,
    candidates: Sequence[str],
    town_approval: str,
) -> dict[str, Any]:
    """The ``amended-list/1`` object the town committee signs (spec/log.md §2.1)."""
    return {
        "format": AMENDED_LIST_FORMAT,
        "election_id": election_id.hex(),
        "post": post.value,
        "round": round_number,
        "candidates": list(candidates),
        "town_approval": town_approval,
    }


@dataclass(frozen=True, slots=True)
class Entry:
    """One log entry (spec/log.md §1); ``raw`` is its canonical bytes.

    ``salt`` is the entry's secret 32-byte salt in lowercase hex: it makes the leaf hash of an
    entry with guessable content (a check-in: type, member id, a time to the second) impossible to
    recompute for anyone who has the hash but not the entry (docs/adr/0016-salted-log-leaves.md).
    """

    seq: int
    prev: str
    type: str
    at: str
    actor: str
    body: Mapping[str, Any]
    raw: bytes
    salt: str

    @property
    def leaf_hash(self) -> bytes:
        return leaf_hash(self.raw)


def leaf_hash(raw: bytes) -> bytes:
    """RFC 9162 leaf hash of an entry's bytes (spec/merkle.md M2)."""
    return hashlib.sha256(b"\x00" + raw).digest()


def entry_bytes(
    seq: int,
    prev: str,
    *,
    type_: str,
    at: str,
    actor: str,
    body: Mapping[str, Any],
    salt: str,
) -> bytes:
    """The canonical bytes of an entry."""
    return canonical(
        {
            "format": ENTRY_FORMAT,
            "seq": seq,
            "prev": prev,
            "salt": salt,
            "type": type_,
            "at": at,
            "actor": actor,
            "body": dict(body),
        }
    )


def make_entry(
    meeting: Meeting | None,
    type_: str,
    body: Mapping[str, Any],
    *,
    at: dt.datetime,
    actor: str,
    salt: bytes,
    election_id: bytes | None = None,
) -> Entry:
    """Build the next entry after ``meeting`` (or entry 0 when ``meeting`` is None).

    ``salt`` is the entry's fresh secret salt (``SALT_BYTES`` bytes): the core reads no random
    source, so the shell draws it (``secrets``) and passes it in (spec/log.md §1).
    """
    if len(salt) != SALT_BYTES:
        msg = f"an entry's salt is {SALT_BYTES} bytes"
        raise ValueError(msg)
    if meeting is None:
        if election_id is None:
            msg = "entry 0 needs the election id"
            raise ValueError(msg)
        seq, prev = 0, election_id.hex()
    else:
        seq, prev = meeting.size, meeting.last_leaf.hex()
    stamp = at.isoformat(timespec="seconds")
    hexsalt = salt.hex()
    raw = entry_bytes(seq, prev, type_=type_, at=stamp, actor=actor, body=body, salt=hexsalt)
    return Entry(
        seq=seq,
        prev=prev,
        type=type_,
        at=stamp,
        actor=actor,
        body=dict(body),
        raw=raw,
        salt=hexsalt,
    )


def _bad(code: str, zh: str, en: str, clause: str = "") -> RoundStateError:
    return RoundStateError(code, zh=zh, en=en, clause=clause)


def parse_entry(raw: bytes) -> Entry:
    """Parse stored entry bytes (they must be canonical).

    Raises:
        RoundStateError: malformed or non-canonical entry.
    """
    try:
        doc = json.loads(raw)
    except (ValueError, UnicodeDecodeError, RecursionError) as e:
        raise _bad("log.malformed", "日志记录无法解析", "log entry is not JSON") from e
    keys = {"format", "seq", "prev", "salt", "type", "at", "actor", "body"}
    if not isinstance(doc, dict) or doc.get("format") != ENTRY_FORMAT:
        raise _bad("log.malformed", "日志记录格式错误", "log entry has the wrong shape")
    if not isinstance(doc.get("salt"), str) or _HEX64.fullmatch(doc["salt"]) is None:
        raise _bad(
            "log.salt",
            "日志记录缺少有效的盐值（64 位小写十六进制）",
            "log entry has no valid salt (64 lowercase hex)",
        )
    if set(doc) != keys:
        raise _bad("log.malformed", "日志记录格式错误", "log entry has the wrong shape")
    try:
        again = canonical(doc)
    except ValueError as e:  # a float, an integer beyond 2**53, a lone surrogate: not JCS
        raise _bad(
            "log.not_canonical", "日志记录不是规范形式", "log entry is not canonical JSON"
        ) from e
    if again != raw:
        raise _bad("log.not_canonical", "日志记录不是规范形式", "log entry is not canonical JSON")
    fields = set(doc["body"]) if isinstance(doc["body"], dict) else set()
    allowed = BODY_FIELDS.get(doc["type"]) if isinstance(doc["type"], str) else None
    if allowed is None or (
        fields != allowed
        and not (doc["type"] == "round.counted" and fields in COUNTED_SHAPES)
        and fields != REMOTE_V2_FIELDS.get(doc["type"], allowed)
    ):
        raise _bad("log.malformed", "日志记录类型或内容错误", "unknown entry type or body")
    return Entry(
        seq=doc["seq"],
        prev=doc["prev"],
        type=doc["type"],
        at=doc["at"],
        actor=doc["actor"],
        body=doc["body"],
        raw=raw,
        salt=doc["salt"],
    )


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

    ``version`` is 1 (``remote.opened`` with ``ballot_key``: a sealed box per ballot, decrypted
    at the count) or 2 (``election_key``: encrypted choices, casts batched at the close, threshold
    totals). ``ballot_key`` and ``revealed``/``decided`` are version 1's; ``k``, ``n``,
    ``receipts``, ``partials`` and ``totals`` are version 2's."""

    ballot_key: str = ""
    credentials: PSet[MemberId] = field(default_factory=pset)
    tokens: PSet[str] = field(default_factory=pset)
    casts: PVector[tuple[int, str]] = field(default_factory=pvector)  # (seq, token)
    closed: bool = False
    revealed: bool = False
    decided: PVector[Mapping[str, Any] | None] = field(default_factory=pvector)  # per cast
    not_counted: PSet[PostKind] = field(default_factory=pset)
    counted: PSet[PostKind] = field(default_factory=pset)
    version: int = 1
    k: int = 0  # (v2) partial decryptions needed (EG-7.4)
    n: int = 0  # (v2) scrutineers holding a share
    receipts: PVector[str] = field(default_factory=pvector)  # (v2) per cast, ascending (RV-4.3)
    cast_at: str = ""  # (v2) the `at` of the casts: that of remote.closed (RV-4.3)
    partials: PSet[int] = field(default_factory=pset)  # (v2) indices of the partial decryptions
    # (v2) each assembly-voted post's totals once ``remote.totals`` is logged, in ballot order
    totals: tuple[tuple[PostKind, RemoteTotals], ...] | None = None

    def totals_of(self, post: PostKind) -> RemoteTotals | None:
        """(v2) The post's remote totals, once ``remote.totals`` is logged."""
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
        and entry0.type == "election.opened"
        and entry0.prev == election_id.hex()
        and entry0.body.get("election_id") == election_id.hex()
    )
    if not ok:
        raise _bad(
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
        last_at=_time(entry0.at),
        expected_ids=frozenset(expected_electors(election)),
        town_check=town_check,
    )


def _time(text: str) -> dt.datetime:
    try:
        t = dt.datetime.fromisoformat(text)
    except ValueError as e:
        raise _bad("log.bad_time", "时间格式错误", f"bad time {text!r}") from e
    if t.tzinfo is None:
        raise _bad("log.bad_time", "时间缺少时区", f"time without offset {text!r}")
    return t


def _post(body: Mapping[str, Any]) -> PostKind:
    try:
        return PostKind(body["post"])
    except (KeyError, ValueError) as e:
        raise _bad("log.bad_post", "职位错误", "unknown post") from e


def _int(body: Mapping[str, Any], key: str) -> int:
    value = body.get(key)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise _bad("log.bad_number", f"{key} 应为非负整数", f"{key} must be an integer >= 0")
    return value


def _require_round(m: Meeting, body: Mapping[str, Any]) -> OpenRound:
    cur = m.current
    if cur is None:
        raise _bad("round.none_open", "当前没有进行中的轮次", "no round is open")
    if _post(body) is not cur.spec.post or _int(body, "round") != cur.spec.number:
        raise _bad(
            "round.other",
            f"当前进行的是{zh_label(cur.spec.post)}第{cur.spec.number}轮",
            f"the open round is {cur.spec.post.value} round {cur.spec.number}",
        )
    return cur


def apply_entry(m: Meeting, entry: Entry, *, stock_ids: frozenset[str] | None = None) -> Meeting:
    """Check ``entry`` against the state and return the state after it.

    Args:
        m: the state before.
        entry: the next entry.
        stock_ids: for ``stock.committed``, the ballot ids of the sealed list (hex); the shell has
            checked them against the commitment.

    Raises:
        RoundStateError: the entry does not follow, or the rules forbid it; the message says why.
    """
    if entry.seq != m.size or entry.prev != m.last_leaf.hex():
        raise _bad(
            "log.chain",
            f"第 {entry.seq} 条记录与前一条不衔接（哈希链断裂）",
            f"entry {entry.seq} does not chain to the previous entry",
        )
    at = _time(entry.at)
    if at < m.last_at:
        raise _bad("log.time_backwards", "记录时间早于前一条", "entry time goes backwards")
    if m.joining and entry.type != "round.opened":
        nxt = m.joining[0]
        raise _bad(
            "joint.incomplete",
            f"直接选举的委员、书记、副书记选票一并发出：须接着开始{zh_label(nxt.post)}"
            f"第{nxt.number}轮",
            f"a direct election opens every post's first round together: "
            f"{nxt.post.value} round {nxt.number} must be opened next",
            "R22",
        )
    new = _promote(_apply(m, entry, stock_ids))
    return replace(new, size=m.size + 1, last_leaf=entry.leaf_hash, last_at=at)


def _promote(m: Meeting) -> Meeting:
    """(R22.2) A round of the joint opening becomes the open round when its turn comes (RS1)."""
    if m.current is None and m.held and m.due() == m.held[0].spec:
        return replace(m, current=m.held[0], held=m.held[1:])
    return m


def _sitting_round(m: Meeting, body: Mapping[str, Any]) -> OpenRound:
    """The open round, or a round of the joint opening still waiting for its count, named by
    ``body`` (its ballots are issued and returned with the others, R22.2)."""
    for held in m.held:
        if _post(body) is held.spec.post and _int(body, "round") == held.spec.number:
            return held
    return _require_round(m, body)


def _put(m: Meeting, old: OpenRound, new: OpenRound | None) -> Meeting:
    """``m`` with round ``old`` (open or held) replaced by ``new`` (None: closed)."""
    if m.current is old:
        return replace(m, current=new)
    held = tuple(x for x in (new if h is old else h for h in m.held) if x is not None)
    return replace(m, held=held)


def _apply(m: Meeting, e: Entry, stock_ids: frozenset[str] | None) -> Meeting:
    b = e.body
    t = e.type
    if m.result is not None:
        raise _bad("election.finished", "选举已结束，不能再记录", "the election is finished")
    if t == "member.checked_in":
        member = MemberId(str(b["member"]))
        if member not in m.expected_ids:
            name = _name(m.election, member)
            raise _bad(
                "checkin.not_elector",
                f"{name} 不是应到会的有选举权党员，不计入到会人数",
                f"{name} is not an expected elector",
                "R2",
            )
        if m.remote is not None and member in m.remote.credentials:
            raise _bad(
                "checkin.remote_credential",
                f"{_name(m.election, member)} 已领取远程投票凭证，不能再签到参加现场投票",
                f"{member} received a remote-voting credential and cannot also vote on paper",
                "R24",
            )
        if member in m.present:
            raise _bad(
                "checkin.twice",
                f"{_name(m.election, member)} 已经签到",
                f"{member} has already checked in",
                "R4",
            )
        return replace(m, present=m.present | {member})
    if t == "member.left":
        member = MemberId(str(b["member"]))
        if member not in m.present:
            raise _bad("checkin.not_present", f"{member} 未签到", f"{member} is not checked in")
        return replace(m, present=m.present - {member})
    if t == "stock.committed":
        key = (_post(b), _int(b, "round"))
        count = _int(b, "count")
        if key in m.stocks:
            raise _bad("stock.twice", "该轮次的选票已经登记", "a stock is already committed")
        if not isinstance(b["commitment"], str) or not _HEX64.match(b["commitment"]):
            raise _bad("stock.commitment", "选票承诺值格式错误", "bad commitment")
        if stock_ids is None or len(stock_ids) != count:
            raise _bad("stock.ids", "选票清单与数量不符", "stock list does not match the count")
        return _with_stock(m, key, count, stock_ids)
    if t == "stock.supplemented":
        return _supplement(m, b, stock_ids)
    if t in ("round.opened", "round.quorum_failed"):
        return _open(m, e)
    if t == "ballots.issued":
        cur = _sitting_round(m, b)
        if cur.issued is not None:
            raise _bad("issue.twice", "本轮已发出选票", "ballots were already issued")
        count = _int(b, "count")
        paper = cur.present if cur.paper_present is None else cur.paper_present
        if count != paper:
            raise _bad(
                "issue.not_present",
                f"发出选票数 {count} 应等于到会有选举权人数 {paper}",
                f"{count} issued; must equal the {paper} electors present",
                "R12",
            )
        stock = m.stocks.get((cur.spec.post, cur.spec.number))
        if stock is None:
            raise _bad(
                "issue.no_stock",
                "本轮选票尚未登记，请先打印并登记选票（tally print）",
                "no ballot stock is committed for this round (tally print)",
            )
        if stock < count:
            raise _bad(
                "issue.no_stock",
                f"本轮登记的选票只有 {stock} 张，少于要发出的 {count} 张；"
                "请先补印（tally print --supplement）",
                f"the round's stock has {stock} ballots, fewer than the {count} to issue; "
                "print more first (tally print --supplement)",
            )
        return _put(m, cur, replace(cur, issued=count))
    if t == "ballots.returned":
        cur = _sitting_round(m, b)
        if cur.issued is None or cur.returned is not None:
            raise _bad("return.order", "须先发票，且只能收回一次", "issue first; return once")
        return _put(m, cur, replace(cur, returned=_int(b, "count")))
    if t == "round.void":
        cur = _sitting_round(m, b)
        if cur.issued is None or cur.returned is None or cur.returned <= cur.issued:
            raise _bad(
                "void.not_void",
                "收回选票不多于发出选票，本轮有效",
                "returned is not more than issued: the round is valid",
                "R11",
            )
        if (_int(b, "issued"), _int(b, "returned")) != (cur.issued, cur.returned):
            raise _bad("void.counts", "作废记录的票数与本轮不符", "void counts differ")
        outcome = count_round(
            m.rounds, cur.spec, RoundInput(cur.present, cur.issued, cur.returned, ())
        )
        if cur is not m.current:  # (R22.2) a held round of the joint opening
            return replace(
                _put(m, cur, None),
                rounds=void_held_round(m.rounds, cur.spec, outcome),
                stock_ids=_without_stock(m, cur),
            )
        return replace(
            m,
            rounds=apply_outcome(m.rounds, outcome),
            current=None,
            stock_ids=_without_stock(m, cur),
        )
    if t == "ballot.entered":
        return _enter(m, e)
    if t == "ballot.declared_invalid":
        return _declare_invalid(m, e)
    if t == "ballot.withdrawn":
        cur = _require_round(m, b)
        if not cur.entered or cur.entered[-1].ballot_id != b["ballot_id"]:
            raise _bad(
                "withdraw.not_last",
                "只能撤回本轮最后录入的一张选票",
                "only the last entered ballot of the round can be withdrawn",
            )
        gone = cur.entered[-1].ballot_id
        return replace(
            m,
            current=replace(
                cur,
                entered=cur.entered.delete(len(cur.entered) - 1),
                used_ids=cur.used_ids.discard(gone),  # "": a decision on a ballot without QR
            ),
        )
    if t == "round.counted":
        cur = _require_round(m, b)
        outcome = _count(m, cur)
        if counted_body(outcome, remote=m.remote is not None) != dict(b):
            raise _bad(
                "count.mismatch",
                "计票结果与选票不符",
                "the recorded count differs from the ballots",
            )
        new = replace(
            m,
            rounds=apply_outcome(m.rounds, outcome),
            current=None,
            stock_ids=_without_stock(m, cur),
        )
        if m.remote is not None and outcome.remote_ballots:
            new = replace(
                new, remote=replace(m.remote, counted=m.remote.counted.add(cur.spec.post))
            )
        return new
    if t == "seats.reduced":
        _no_round_open(m)
        agreement = b["town_agreement"]
        return replace(
            m,
            rounds=reduce_seats(
                m.rounds,
                _post(b),
                new_seats=_int(b, "seats"),
                assembly_consent=_int(b, "assembly_consent"),
                town_agreement=agreement if isinstance(agreement, str) else "",
            ),
        )
    if t == "candidates.amended":
        return _amend(m, b)
    if t == "officials.changed":
        return _change_officials(m, b)
    if t == "double_entry.set":
        mode = b["mode"]
        if mode not in ("on", "off"):
            raise _bad("double_entry.bad_mode", "录入方式应为 on 或 off", "mode must be on or off")
        if (mode == "on") == m.double_entry:
            raise _bad(
                "double_entry.unchanged",
                "双人录入已经是" + ("开启" if m.double_entry else "关闭") + "状态",
                f"double entry is already {mode}",
            )
        return replace(m, double_entry=mode == "on")
    if t == "election.result":
        _no_round_open(m)
        due = m.due()
        if not isinstance(due, Finished):
            raise _bad(
                "result.not_finished", "还有职位未选出，不能宣布结果", "posts are still open"
            )
        expected = {k.value: list(v) for k, v in due.elected}
        if b["elected"] != expected:
            raise _bad("result.mismatch", "结果与各轮计票不符", "result differs from the rounds")
        return replace(m, result=dict(b))
    if t.startswith("remote."):
        return _remote(m, e)
    if t == "election.opened":
        raise _bad("log.reopen", "选举已开始", "the election is already open")
    raise _bad("log.unknown_type", f"未知记录类型 {t}", f"unknown entry type {t}")


_ROLES = (("scrutineers", "监票人", "scrutineer"), ("tellers", "计票人", "teller"))


def _change_officials(m: Meeting, b: Mapping[str, Any]) -> Meeting:
    """(R25.1) The scrutineers and tellers of the rounds opened from now on (a logged decision)."""
    _no_round_open(m)
    roster = {x.id for x in m.election.members}
    lists: dict[str, tuple[MemberId, ...]] = {}
    for key, zh, en in _ROLES:
        ids = b[key]
        if not isinstance(ids, list) or not all(isinstance(x, str) for x in ids):
            raise _bad("officials.bad_list", f"{zh}名单格式错误", f"bad list of {en}s", "R25")
        if not ids:
            raise _bad(
                "officials.missing", f"至少需要一名{zh}", f"at least one {en} is needed", "R25"
            )
        for x in ids:
            if x not in roster:
                raise _bad(
                    "member.unknown", f"名册中没有编号 {x}", f"no member {x} on the roster", "R25"
                )
            if ids.count(x) > 1:
                raise _bad(
                    "official.duplicate",
                    f"{_name(m.election, MemberId(x))} 在{zh}名单中重复",
                    f"{x} is listed twice as {en}",
                    "R25",
                )
        lists[key] = tuple(MemberId(x) for x in ids)
    for x in sorted(set(lists["scrutineers"]) & set(lists["tellers"])):
        raise _bad(
            "official.both_roles",
            f"{_name(m.election, x)} 不能同时担任监票人和计票人",
            f"{x} cannot be both scrutineer and teller",
            "R25",
        )
    officials = Officials(scrutineers=lists["scrutineers"], tellers=lists["tellers"])
    return replace(m, rounds=replace(m.rounds, officials=officials))


def _check_officials(m: Meeting, due: RoundSpec) -> None:
    """(R25.2) The officials in force may serve in the round that opens."""
    off = round_officials(m.rounds)
    where = f"{zh_label(due.post)}第{due.number}轮"
    for key, zh, en in _ROLES:
        for x in getattr(off, key):
            if x in due.candidates:
                raise _bad(
                    "official.is_candidate",
                    f"{_name(m.election, x)} 是{where}的候选人，不能担任本轮{zh}；"
                    "请先用 tally officials 记录本轮的监票人和计票人",
                    f"{x} is a candidate of {due.post.value} round {due.number} and cannot be its "
                    f"{en}; record this round's officials first (tally officials)",
                    "R25",
                )
    for x in off.scrutineers:
        if due.body is ElectingBody.PLENARY and x not in m.rounds.elected(PostKind.COMMITTEE):
            raise _bad(
                "official.not_committee_member",
                f"{_name(m.election, x)} 不是新一届委员，不能担任委员会全体会议的监票人；"
                "请先用 tally officials 记录本轮的监票人（不是本职位候选人的委员）",
                f"{x} is not a member of the new committee and cannot scrutinise its plenary; "
                "record the plenary's scrutineers first (tally officials)",
                "R25",
            )
        if due.body is ElectingBody.ASSEMBLY and x not in m.present:
            raise _bad(
                "official.not_present",
                f"监票人 {_name(m.election, x)} 未签到：党员大会的监票人须是到会的有选举权党员",
                f"scrutineer {x} is not checked in: an assembly round's scrutineers are "
                "eligible electors present",
                "R25",
            )


def _amend(m: Meeting, b: Mapping[str, Any]) -> Meeting:
    """(RS7) A candidate list signed by the town committee, checked like the definition's."""
    _no_round_open(m)
    post = _post(b)
    approval = b["town_approval"]
    if not isinstance(approval, str) or not approval.strip():
        raise _bad(
            "amend.no_approval",
            "须记录镇党委批准调整候选人名单的文号",
            "the town committee's approval reference is missing",
            "RS7",
        )
    ids = b["candidates"]
    if not isinstance(ids, list) or not all(isinstance(x, str) for x in ids):
        raise _bad("amend.bad_list", "候选人名单格式错误", "bad candidate list", "RS7")
    number = amendable_round(m.rounds, post)
    if _int(b, "round") != number:
        raise _bad(
            "amend.wrong_round",
            f"镇党委签署的名单是为{zh_label(post)}第{b['round']}轮，现在调整的是第{number}轮",
            f"the signed list is for {post.value} round {b['round']}; the round now is {number}",
            "RS7",
        )
    sig = b["town_signature"]
    try:
        signature = base64.b64decode(sig, validate=True) if isinstance(sig, str) else b""
    except (binascii.Error, ValueError):
        signature = b""
    canonical_b64 = base64.b64encode(signature).decode() == sig
    if len(signature) != 64 or not canonical_b64 or m.town_check is None:
        raise _bad(
            "amend.not_signed",
            "调整后的候选人名单没有镇党委的有效签名",
            "the amended list carries no valid town committee signature",
            "RS7",
        )
    message = canonical(amended_list_document(m.election_id, post, number, ids, approval))
    try:
        m.town_check(AMENDED_LIST_DOMAIN, message, signature)
    except ValueError as e:
        raise _bad(
            "amend.not_signed",
            "调整后的候选人名单的签名不是本次选举清单中镇党委的签名，或名单在签名后被改动",
            "the amended list's signature is not the manifest's town committee key, or the "
            "list was changed after signing",
            "RS7",
        ) from e
    return replace(m, rounds=amend_candidates(m.rounds, post, tuple(MemberId(x) for x in ids)))


def _with_stock(m: Meeting, key: tuple[PostKind, int], count: int, ids: frozenset[str]) -> Meeting:
    if not all(_HEX32.match(i) for i in ids):
        raise _bad("stock.ids", "选票编号格式错误", "bad ballot id in the stock")
    return replace(m, stocks={**m.stocks, key: count}, stock_ids={**m.stock_ids, key: ids})


def _supplement(m: Meeting, b: Mapping[str, Any], stock_ids: frozenset[str] | None) -> Meeting:
    """A supplementary print for a round whose stock is too small (R-stock-supplement): more
    ballots for the same round, before its ballots are issued, with ids new to the round."""
    post, rnd = _post(b), _int(b, "round")
    key = (post, rnd)
    count, part = _int(b, "count"), _int(b, "part")
    check_supplement(m, post, rnd)
    expected = m.stock_parts.get(key, 1) + 1
    if part != expected:
        raise _bad(
            "stock.supplement_part",
            f"补印批次应为第 {expected} 批",
            f"the supplementary print should be part {expected}",
        )
    if not isinstance(b["commitment"], str) or not _HEX64.match(b["commitment"]):
        raise _bad("stock.commitment", "选票承诺值格式错误", "bad commitment")
    if stock_ids is None or len(stock_ids) != count or count < 1:
        raise _bad("stock.ids", "选票清单与数量不符", "stock list does not match the count")
    if not all(_HEX32.match(i) for i in stock_ids):
        raise _bad("stock.ids", "选票编号格式错误", "bad ballot id in the stock")
    if stock_ids & m.stock_ids[key]:
        raise _bad(
            "stock.supplement_overlap",
            "补印的选票编号与本轮已登记的选票重复",
            "a supplementary ballot id repeats one already committed for the round",
        )
    return replace(
        m,
        stocks={**m.stocks, key: m.stocks[key] + count},
        stock_ids={**m.stock_ids, key: m.stock_ids[key] | stock_ids},
        stock_parts={**m.stock_parts, key: part},
    )


def check_supplement(m: Meeting, post: PostKind, rnd: int) -> None:
    """Refuse a supplementary print the rules do not allow: the round has no stock yet, or its
    ballots are already issued (or the round is over).

    Raises:
        RoundStateError: ``stock.supplement_first`` or ``stock.supplement_late``.
    """
    key = (post, rnd)
    label = f"{zh_label(post)}选举第 {rnd} 轮"
    if key not in m.stocks:
        raise _bad(
            "stock.supplement_first",
            f"{label}还没有打印登记选票，请先正常打印（不加 --supplement）",
            f"{post.value} round {rnd} has no stock yet: print it first (without --supplement)",
        )
    cur = m.current
    issued = cur is not None and (cur.spec.post, cur.spec.number) == key and cur.issued is not None
    if issued or key not in m.stock_ids:
        raise _bad(
            "stock.supplement_late",
            f"{label}的选票已经发出，不能再补印",
            f"{post.value} round {rnd}: ballots are already issued; no supplementary print",
        )


def _no_round_open(m: Meeting) -> None:
    if m.current is not None:
        raise _bad("round.in_progress", "有轮次正在进行，请先完成本轮", "a round is in progress")


def _name(election: Election, member: MemberId) -> str:
    try:
        return f"{election.member(member).name}（{member}）"
    except KeyError:
        return str(member)


def _join(m: Meeting, e: Entry) -> Meeting:
    """(R22.2) The opening of a secretary or deputy first round within the joint opening: the
    same present count and quorum as the committee's round, no new count."""
    b = e.body
    cur = m.current
    spec = m.joining[0]
    assert cur is not None
    if e.type != "round.opened" or dict(b) != opened_body(spec, cur.present, ()):
        raise _bad(
            "joint.mismatch",
            f"联合投票中{zh_label(spec.post)}第{spec.number}轮的内容与规则不符"
            f"（实到人数应与委员选举相同：{cur.present}）",
            f"{spec.post.value} round {spec.number} of the joint opening differs from the rules "
            f"(present must be the committee round's {cur.present})",
            "R22",
        )
    held = OpenRound(
        spec=spec, present=cur.present, present_members=(), paper_present=cur.paper_present
    )
    return replace(m, joining=m.joining[1:], held=(*m.held, held))


def _open(m: Meeting, e: Entry) -> Meeting:
    b = e.body
    if m.joining:
        return _join(m, e)
    _no_round_open(m)
    due = m.due()
    if not isinstance(due, RoundSpec):
        raise _bad("round.none_due", "现在没有可以开始的轮次", "no round is due now")
    if _post(b) is not due.post or _int(b, "round") != due.number:
        raise _bad(
            "round.not_due",
            f"应进行的是{zh_label(due.post)}第{due.number}轮",
            f"the round due is {due.post.value} round {due.number}",
        )
    members = b.get("present_members", [])
    paper_present = None
    if due.body is ElectingBody.PLENARY:
        if not isinstance(members, list) or len(set(members)) != len(members):
            raise _bad(
                "plenary.members", "到会委员名单有误", "bad list of committee members present"
            )
        elected = set(m.rounds.elected(PostKind.COMMITTEE))
        if not set(members) <= elected:
            raise _bad(
                "plenary.not_member",
                "到会名单中有人不是新当选的委员",
                "someone listed is not an elected committee member",
                "R21",
            )
        present = len(members)
        q = plenary_quorum(present, due.expected)
    else:
        if members:
            raise _bad(
                "round.members", "党员大会轮次不列到会委员", "assembly rounds list no members"
            )
        present = len(m.present)
        if m.remote is not None and m.election.remote_voting.counts_toward_quorum:
            paper_present = present
            present += len(m.remote.casts)  # (RM-9.3) casts count, not who cast
        q = quorum(present, due.expected, m.election.parameters.quorum_comparison)
    if _int(b, "present") != present:
        raise _bad(
            "round.present",
            f"实到人数应为 {present}",
            f"present must be {present}",
            "R4",
        )
    if e.type == "round.quorum_failed":
        if q.valid:
            raise _bad("quorum.holds", "会议已达到法定人数", "the quorum is met", q.clause)
        return m
    if not q.valid:
        raise _bad(
            "quorum.failed",
            f"实到 {present} 人，未达到法定人数，不能进行选举",
            f"{present} present: no quorum, no election",
            q.clause,
        )
    expect = opened_body(due, present, tuple(MemberId(x) for x in members))
    if dict(b) != expect:
        raise _bad("round.mismatch", "轮次内容与规则不符", "the round differs from the one due")
    _check_officials(m, due)
    return replace(
        m,
        current=OpenRound(
            spec=due,
            present=present,
            present_members=tuple(MemberId(x) for x in members),
            paper_present=paper_present,
        ),
        # (R22.2) a direct election's first committee round opens the other posts' first rounds
        joining=joint_rounds(m.rounds) if due.post is PostKind.COMMITTEE else (),
    )


def opened_body(spec: RoundSpec, present: int, members: tuple[MemberId, ...]) -> dict[str, Any]:
    """The body of ``round.opened`` for ``spec``."""
    return {
        "post": spec.post.value,
        "round": spec.number,
        "purpose": spec.purpose.value,
        "candidates": list(spec.candidates),
        "seats": spec.seats,
        "body": spec.body.value,
        "expected": spec.expected,
        "present": present,
        "present_members": list(members),
    }


def _without_stock(m: Meeting, cur: OpenRound) -> Mapping[tuple[PostKind, int], frozenset[str]]:
    """The stock ids once ``cur`` is closed: its ballots can no longer be entered, and keeping every
    round's ids would make the state grow with the election."""
    key = (cur.spec.post, cur.spec.number)
    return {k: v for k, v in m.stock_ids.items() if k != key}


def _room_for_a_ballot(cur: OpenRound) -> None:
    """A ballot, entered or declared invalid, needs the returned count and room within it (R12)."""
    if cur.returned is None or cur.issued is None:
        raise _bad(
            "enter.not_returned", "请先记录收回的选票数", "record the ballots returned first"
        )
    if len(cur.entered) >= cur.returned:
        raise _bad(
            "enter.too_many",
            f"已录入 {len(cur.entered)} 张，等于收回的选票数，不能再录入",
            f"{len(cur.entered)} entered already: that is every returned ballot",
            "R12",
        )


def _unused_id_of_the_stock(m: Meeting, cur: OpenRound, ballot_id: str) -> None:
    """A paper's id is in the stock committed for its round and not used before in it."""
    if ballot_id not in m.stock_ids.get((cur.spec.post, cur.spec.number), frozenset()):
        raise _bad(
            "enter.not_in_stock",
            "这张选票不在本轮登记的选票中（可能是伪造或其他轮次的选票）",
            "this ballot is not in the stock committed for this round",
        )
    if ballot_id in cur.used_ids:
        raise _bad("enter.duplicate", "这张选票已经录入过", "this ballot was already entered")


def _enter(m: Meeting, e: Entry) -> Meeting:
    b = e.body
    cur = _require_round(m, b)
    _room_for_a_ballot(cur)
    ballot_id = b["ballot_id"]
    if not isinstance(ballot_id, str) or not _HEX32.match(ballot_id):
        raise _bad("enter.bad_id", "选票编号格式错误", "bad ballot id")
    _unused_id_of_the_stock(m, cur, ballot_id)
    ballot = ballot_from_body(b, len(cur.spec.candidates))
    entered = EnteredBallot(ballot_id=ballot_id, seq=e.seq, ballot=ballot)
    return replace(
        m,
        current=replace(
            cur, entered=cur.entered.append(entered), used_ids=cur.used_ids.add(ballot_id)
        ),
    )


def invalid_decision_message(election_id: bytes, seq: int, body: Mapping[str, Any]) -> bytes:
    """What the scrutineer signs for a ``ballot.declared_invalid`` entry at ``seq`` (spec/log.md
    §2.1): JCS of the election id, the entry's seq and the decision; the seq binds the signature to
    this one entry, so it cannot be replayed to add another invalid ballot."""
    return canonical(
        {
            "election_id": election_id.hex(),
            "seq": seq,
            "post": body["post"],
            "round": body["round"],
            "ballot_id": body["ballot_id"],
            "qr": body["qr"],
            "reason": body["reason"],
        }
    )


def _declare_invalid(m: Meeting, e: Entry) -> Meeting:
    """(R8.5) A returned ballot entered as invalid by decision. The scrutineer's signature is
    checked by the shell (the core holds no keys); here: the reason, the round's state and the
    ballot id (in the round's stock and not entered yet, or "" for a ballot without QR)."""
    b = e.body
    cur = _require_round(m, b)
    _room_for_a_ballot(cur)
    reason = b["reason"]
    if not isinstance(reason, str) or reason not in INVALID_REASONS:
        raise _bad(
            "invalid.reason",
            f"无效票理由 {reason!r} 不在可选范围内（有识别标记、无法辨认、非正式选票）",
            f"unknown reason {reason!r} (identifying_marks, unreadable, not_official_stock)",
            "R8.5",
        )
    ballot_id, qr = b["ballot_id"], b["qr"]
    if not isinstance(ballot_id, str) or not isinstance(qr, str) or (ballot_id == "") != (qr == ""):
        raise _bad("enter.bad_id", "选票编号格式错误", "bad ballot id", "R8.5")
    if reason == "not_official_stock" and ballot_id:
        raise _bad(
            "invalid.official_qr",
            "这张选票的二维码属于本轮正式选票，不能以“非正式选票”为由作废",
            "this ballot's QR is of the round's official stock: it is not 'not official stock'",
            "R8.5",
        )
    if not isinstance(b["scrutineer"], str) or not isinstance(b["signature"], str):
        raise _bad(
            "invalid.no_confirmation", "缺少监票人确认", "no scrutineer confirmation", "R8.5"
        )
    if ballot_id:
        if not _HEX32.match(ballot_id):
            raise _bad("enter.bad_id", "选票编号格式错误", "bad ballot id")
        _unused_id_of_the_stock(m, cur, ballot_id)
    entered = EnteredBallot(
        ballot_id=ballot_id, seq=e.seq, ballot=Ballot(marks=(), invalid_reason=reason)
    )
    used = cur.used_ids.add(ballot_id) if ballot_id else cur.used_ids
    return replace(m, current=replace(cur, entered=cur.entered.append(entered), used_ids=used))


def ballot_from_body(b: Mapping[str, Any], candidates: int) -> Ballot:
    """The ballot of a ``ballot.entered`` body.

    The write-ins are every filled row as read, however many: a ballot with more names than the
    paper's write-in rows is one invalid ballot (R9.5), not malformed input.

    Raises:
        RoundStateError: marks of the wrong length or letters, or malformed write-ins.
    """
    marks_text = b["marks"]
    if not isinstance(marks_text, str) or len(marks_text) != candidates:
        raise _bad(
            "enter.marks",
            f"标记数应为 {candidates} 个（每名候选人一个）",
            f"expected {candidates} marks, one per candidate",
            "R7",
        )
    try:
        marks = tuple(Mark(c) for c in marks_text)
    except ValueError as err:
        raise _bad("enter.marks", "标记只能是 o x - ?", "marks must be o x - ?", "R7") from err
    raw_w = b["write_ins"]
    if not isinstance(raw_w, list):
        raise _bad("enter.write_ins", "另选人格式错误", "malformed write-ins", "R7")
    write_ins: list[WriteIn] = []
    for w in raw_w:
        ok = (
            isinstance(w, dict)
            and set(w) == {"name", "member", "mark"}
            and isinstance(w["name"], str)
            and w["name"].strip() != ""
            and isinstance(w["member"], str)
            and w["mark"] in ("o", "-")
        )
        if not ok:
            raise _bad("enter.write_ins", "另选人格式错误", "malformed write-in", "R7")
        write_ins.append(
            WriteIn(
                name=w["name"],
                member=MemberId(w["member"]) if w["member"] else None,
                marked=w["mark"] == "o",
            )
        )
    return Ballot(marks=marks, write_ins=tuple(write_ins))


def _count(m: Meeting, cur: OpenRound) -> RoundOutcome:
    if cur.returned is None or cur.issued is None or len(cur.entered) != cur.returned:
        have = len(cur.entered)
        raise _bad(
            "count.incomplete",
            f"已录入 {have} 张，收回 {cur.returned} 张，须全部录入后才能计票",
            f"{have} ballots entered of {cur.returned} returned: enter them all first",
            "R12",
        )
    outcome = count_round(
        m.rounds,
        cur.spec,
        RoundInput(
            cur.present,
            cur.issued,
            cur.returned,
            tuple(x.ballot for x in cur.entered),
            remote=remote_ballots_for(m, cur.spec),
            paper_present=cur.paper_present,
            remote_totals=remote_totals_for(m, cur.spec),
        ),
    )
    assert outcome.status is RoundStatus.COUNTED
    return outcome


def count_current(m: Meeting) -> RoundOutcome:
    """The outcome of the open round from its entered ballots (what ``round.counted`` records).

    Raises:
        RoundStateError: no round open, or not every returned ballot entered.
    """
    if m.current is None:
        raise _bad("round.none_open", "当前没有进行中的轮次", "no round is open")
    return _count(m, m.current)


def counted_body(outcome: RoundOutcome, *, remote: bool = False) -> dict[str, Any]:
    """The body of ``round.counted`` (spec/log.md §2); ``remote_ballots`` when the election opened
    remote voting."""
    extra: dict[str, Any] = {"remote_ballots": outcome.remote_ballots} if remote else {}
    if outcome.dropped:
        extra["dropped"] = list(outcome.dropped)  # (R22.3) in ballot order
    return extra | {
        "post": outcome.spec.post.value,
        "round": outcome.spec.number,
        "valid_ballots": outcome.valid_ballots,
        "invalid_ballots": outcome.invalid_ballots,
        "approvals": [{"member": mid, "approvals": v} for mid, v in outcome.approvals],
        "base": outcome.base,
        "minimum": outcome.minimum_to_pass,
        "elected": _in_ballot_order(outcome, outcome.elected),
        "tied": _in_ballot_order(outcome, outcome.tied),
        "tied_seats": outcome.tied_seats,
        "shortfall": outcome.shortfall,
    }


def _in_ballot_order(outcome: RoundOutcome, ids: Sequence[MemberId]) -> list[str]:
    order: dict[str, int] = {mid: i for i, (mid, _) in enumerate(outcome.approvals)}
    return sorted((str(mid) for mid in ids), key=lambda mid: order[mid])


# -- remote ballots (spec/remote.md) -----------------------------------------------------------


def _b64len(value: object, size: int | None = None) -> bool:
    if not isinstance(value, str):
        return False
    try:
        raw = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        return False
    return size is None or len(raw) == size


def check_remote_ballot(m: Meeting, doc: object, token: str) -> Mapping[str, Any]:
    """(RM-5.3) A decrypted ``remote-ballot/1`` object of this election and this cast's token.

    Raises:
        RoundStateError: ``remote.ballot_invalid`` or ``remote.token_mismatch``.
    """

    def invalid(why: str) -> RoundStateError:
        return _bad(
            "remote.ballot_invalid", f"远程选票格式不符：{why}", f"remote ballot invalid: {why}"
        )

    if not isinstance(doc, dict) or set(doc) != {"format", "election_id", "token", "posts"}:
        raise invalid("members")
    if doc["format"] != "remote-ballot/1" or doc["election_id"] != m.election_id.hex():
        raise invalid("format or election")
    if not _is_token(doc["token"]):  # (RM-5.1) base64 of 32 bytes, else a malformed ballot
        raise invalid("token")
    posts = doc["posts"]
    expected = assembly_posts(m.election)
    roster = {member.id for member in m.election.members}
    if not isinstance(posts, list) or len(posts) != len(expected):
        raise invalid("posts")
    for kind, part in zip(expected, posts, strict=True):
        post = m.election.post(kind)
        assert post is not None
        if not isinstance(part, dict) or set(part) != {"post", "candidates", "marks", "write_ins"}:
            raise invalid("post members")
        if part["post"] != kind.value or part["candidates"] != list(post.candidates):
            raise invalid("post or candidate list")
        marks = part["marks"]
        if (
            not isinstance(marks, str)
            or len(marks) != len(post.candidates)
            or set(marks) - set("ox-")
        ):
            raise invalid("marks")
        ws = part["write_ins"]
        if not isinstance(ws, list) or len(ws) > post.seats:
            raise invalid("write-ins")
        for w in ws:
            ok = (
                isinstance(w, dict)
                and set(w) == {"name", "member", "mark"}
                and _is_write_in_name(w["name"])
                and isinstance(w["member"], str)
                and (w["member"] == "" or w["member"] in roster)
                and w["mark"] in ("o", "-")
            )
            if not ok:
                raise invalid("write-in")
    # Last: only a well-formed ballot can name another credential (RM-6.4), as the verifier judges.
    if doc["token"] != token:
        raise _bad("remote.token_mismatch", "选票中的凭证与投递凭证不符", "token mismatch")
    return doc


def _is_write_in_name(value: object) -> bool:
    """(RM-5.2) 1-32 characters, NFC, none of Unicode category C (control, format, unassigned)."""
    return (
        isinstance(value, str)
        and 1 <= len(value) <= 32
        and unicodedata.normalize("NFC", value) == value
        and not any(unicodedata.category(c).startswith("C") for c in value)
    )


def _is_token(value: object) -> bool:
    """Canonical base64 of 32 bytes (the credential's ``T``)."""
    if not isinstance(value, str) or not value.isascii():
        return False
    try:
        raw = base64.b64decode(value, validate=True)
    except binascii.Error:
        return False
    return len(raw) == 32 and base64.b64encode(raw).decode() == value


def remote_list_changed(m: Meeting, spec: RoundSpec) -> bool:
    """(RM-9.1) The post's first round does not use the manifest's candidate list."""
    post = m.election.post(spec.post)
    return post is None or tuple(post.candidates) != spec.candidates


def remote_counts_here(m: Meeting, spec: RoundSpec) -> bool:
    r = m.remote
    return (
        r is not None
        and bool(r.casts)
        and spec.purpose is RoundPurpose.FIRST
        and spec.body is ElectingBody.ASSEMBLY
        and spec.post in assembly_posts(m.election)
        and spec.post not in r.not_counted
        and spec.post not in r.counted
    )


def remote_ballots_for(m: Meeting, spec: RoundSpec) -> tuple[Ballot, ...]:
    """(RM-9.1, RM-9.2) The remote ballots that count in ``spec``, as ballots of that round.

    Raises:
        RoundStateError: remote ballots should count here but are not all decrypted, or the list
            changed and ``remote.not_counted`` was not recorded.
    """
    r = m.remote
    if r is None or r.version != 1 or not remote_counts_here(m, spec):
        return ()
    if remote_list_changed(m, spec):
        raise _bad(
            "remote.not_counted_missing",
            "候选人名单已调整，须先记录远程选票在本轮不计入",
            "the list changed: record remote.not_counted first",
        )
    if not r.revealed or len(r.decided) != len(r.casts):
        raise _bad(
            "count.remote_pending",
            "远程选票尚未全部解密，须先由监票人合成密钥并解密",
            "remote ballots are not all decrypted yet: the scrutineers must rebuild the key first",
            "R24",
        )
    out = []
    for doc in r.decided:
        if doc is None:
            continue
        part = next(p for p in doc["posts"] if p["post"] == spec.post.value)
        out.append(
            Ballot(
                marks=tuple(Mark(c) for c in part["marks"]),
                write_ins=tuple(
                    WriteIn(
                        name=w["name"],
                        member=remote_write_in_member(w, m.election),
                        marked=w["mark"] == "o",
                    )
                    for w in part["write_ins"]
                ),
            )
        )
    return tuple(out)


def remote_totals_for(m: Meeting, spec: RoundSpec) -> RemoteTotals | None:
    """(RV-7.1, RM-9.1) Version 2: the post's remote totals where remote ballots count in
    ``spec``, else None.

    Raises:
        RoundStateError: remote ballots should count here but ``remote.totals`` is not logged yet
            (``count.remote_pending``), or the list changed and ``remote.not_counted`` was not
            recorded.
    """
    r = m.remote
    if r is None or r.version != 2 or not remote_counts_here(m, spec):
        return None
    if remote_list_changed(m, spec):
        raise _bad(
            "remote.not_counted_missing",
            "候选人名单已调整，须先记录远程选票在本轮不计入",
            "the list changed: record remote.not_counted first",
        )
    totals = r.totals_of(spec.post)
    if totals is None:
        raise _bad(
            "count.remote_pending",
            "远程选票总数尚未解密，须先由监票人部分解密并合成总数",
            "the remote totals are not decrypted yet: the scrutineers must decrypt them first",
            "RV-5.3",
        )
    return totals


def remote_write_in_member(write_in: Mapping[str, Any], election: Election) -> MemberId | None:
    """(RM-9.2) The member a remote write-in names: its ``member`` when the page gave one, else
    the typed ``name`` read by the rule of paper entry (``resolve_write_in``: a member id, or the
    one roster member of that name); a name shared by several members, or nobody's, names nobody
    (the write-in still counts in choices, R9.2)."""
    if write_in["member"]:
        return MemberId(write_in["member"])
    member, _ambiguous = resolve_write_in(write_in["name"], election)
    return member


def _open_v2(m: Meeting, b: Mapping[str, Any]) -> RemoteState:
    """(spec/remote-v2.md §5) A version-2 ``remote.opened``: the election key's shape (EG-7.4),
    one share per scrutineer, and the write-in lists computed from the manifest (RV-2.1)."""
    if set(b) != REMOTE_V2_FIELDS["remote.opened"] or not _b64len(b["issuer_key"]):
        raise _bad("remote.opened_bad", "远程投票开启记录格式错误", "malformed remote.opened")
    k, n = check_election_key(b["election_key"])
    shares = b["shares"]
    if (
        not isinstance(shares, list)
        or len(shares) != n
        or not all(
            isinstance(x, dict)
            and set(x) == {"index", "scrutineer", "commitment"}
            and x["index"] == i
            and not isinstance(x["index"], bool)
            and _b64len(x["scrutineer"], 32)
            and isinstance(x["commitment"], str)
            and _HEX64.fullmatch(x["commitment"]) is not None
            for i, x in enumerate(shares, start=1)
        )
    ):
        raise _bad(
            "remote.opened_bad", "远程投票开启记录格式错误：份额", "one share per scrutineer"
        )
    big = too_many_choices(m.election)
    if big is not None:
        raise _bad(
            "remote.too_many_choices",
            f"{zh_label(big)}的候选人与可另选人合计超过 256 个选项",
            f"{big.value} has more than 256 choices (listed candidates and write-in list)",
            "RV-2.2",
        )
    if b["write_in_lists"] != write_in_lists_body(m.election):
        raise _bad(
            "remote.write_in_lists",
            "另选人名单与选举清单计算结果不符",
            "write_in_lists differ from the lists computed from the manifest",
            "RV-2.1",
        )
    return RemoteState(version=2, k=k, n=n)


def _same_version(r: RemoteState, t: str, b: Mapping[str, Any]) -> None:
    """Entries of the other version are refused (spec/remote-v2.md §8: V18.21)."""
    other = (
        t in REMOTE_V1_ONLY or (t == "remote.cast" and set(b) != REMOTE_V2_FIELDS[t])
        if r.version == 2
        else t in REMOTE_V2_ONLY or (t == "remote.cast" and set(b) != BODY_FIELDS[t])
    )
    if other:
        raise _bad(
            "remote.wrong_version",
            f"该记录不属于第 {r.version} 版远程投票",
            f"{t} does not belong to remote voting version {r.version}",
        )


def _not_batched(why: str) -> RoundStateError:
    return _bad(
        "remote.casts_not_batched",
        "远程选票须在截止时按回执升序、以截止时间一并记录",
        f"casts are appended at the close in ascending receipt order: {why}",
        "RV-4.3",
    )


def _batched_cast(r: RemoteState, e: Entry, receipt: str) -> RemoteState:
    """(RV-4.3, V18.20) A version-2 cast follows the previous cast directly, with a greater
    receipt and the same time (that of ``remote.closed``, checked at the close)."""
    if r.casts:
        seq, _token = r.casts[-1]
        if seq != e.seq - 1:
            raise _not_batched("another entry between two casts")
        if receipt <= r.receipts[-1]:
            raise _not_batched("receipts not strictly ascending")
        if e.at != r.cast_at:
            raise _not_batched("casts with different times")
    return replace(r, receipts=r.receipts.append(receipt), cast_at=e.at)


def _remote(m: Meeting, e: Entry) -> Meeting:
    b, t, r = e.body, e.type, m.remote
    approved = m.election.remote_voting.approved  # a tuple: only the two branches below read it
    if t == "remote.opened":
        if r is not None:
            raise _bad("remote.twice", "远程投票已开启", "remote voting is already open")
        if not approved:
            raise _bad(
                "remote.not_authorised",
                "选举清单未批准远程投票",
                "no remote voting approved",
                "R24",
            )
        if m.current is not None or m.rounds.outcomes:
            raise _bad("remote.too_late", "会议轮次已开始，不能再开启远程投票", "rounds have begun")
        if "election_key" in b:
            return replace(m, remote=_open_v2(m, b))
        k, n = b["k"], b["n"]
        ok = (
            _b64len(b["issuer_key"])
            and _b64len(b["ballot_key"], 32)
            and isinstance(k, int)
            and isinstance(n, int)
            and 1 <= k <= n
            and isinstance(b["shares"], list)
            and len(b["shares"]) == n
        )
        if not ok:
            raise _bad("remote.opened_bad", "远程投票开启记录格式错误", "malformed remote.opened")
        return replace(m, remote=RemoteState(ballot_key=str(b["ballot_key"])))
    if r is None:
        raise _bad("remote.not_open", "远程投票尚未开启", "remote voting is not open")
    _same_version(r, t, b)
    if t == "remote.credential_issued":
        member = MemberId(str(b["member"]))
        if r.closed:
            raise _bad("remote.closed", "远程投票已截止", "remote voting is closed")
        if member not in approved:
            raise _bad(
                "remote.not_approved", f"{member} 未经镇党委批准远程投票", "not approved", "R24"
            )
        if member in r.credentials:
            raise _bad(
                "remote.credential_twice", "该党员已领取投票凭证", "credential already issued"
            )
        if member in m.present:
            raise _bad(
                "remote.checked_in", "该党员已签到，应现场投票", "member is checked in", "R24"
            )
        return replace(m, remote=replace(r, credentials=r.credentials.add(member)))
    if t == "remote.cast":
        if r.closed:
            raise _bad("remote.closed", "远程投票已截止", "remote voting is closed")
        token = b["token"]
        if not (
            _b64len(token, 32)
            and _b64len(b["token_prefix"], 32)
            and _b64len(b["token_signature"])
            and (r.version == 2 or _b64len(b["sealed"]))
        ):
            raise _bad("remote.cast_bad", "远程选票格式错误", "malformed remote.cast")
        receipt = ""
        if r.version == 2:
            receipt = check_cast_ballot(m.election_id, m.election, b["ballot"], str(token))
        if token in r.tokens:
            raise _bad("remote.token_used", "该投票凭证已经使用过", "this token was already used")
        if len(r.casts) >= len(r.credentials):
            raise _bad("remote.too_many", "远程选票多于已发凭证", "more casts than credentials")
        if r.version == 2:
            r = _batched_cast(r, e, receipt)
        return replace(
            m,
            remote=replace(
                r, tokens=r.tokens.add(str(token)), casts=r.casts.append((e.seq, str(token)))
            ),
        )
    if t == "remote.closed":
        if r.closed:
            raise _bad("remote.closed", "远程投票已截止", "remote voting is already closed")
        if m.current is not None or m.rounds.outcomes:
            raise _bad(
                "remote.too_late", "须在第一轮开始前截止远程投票", "close before the first round"
            )
        if (b["credentials"], b["casts"]) != (len(r.credentials), len(r.casts)):
            raise _bad("remote.closed_counts", "截止记录的数目不符", "counts differ")
        if r.version == 2 and r.casts and (r.casts[-1][0] != e.seq - 1 or r.cast_at != e.at):
            raise _not_batched("the casts must come right before remote.closed, at its time")
        return replace(m, remote=replace(r, closed=True))
    if t == "remote.partial_decryption":
        if not r.closed:
            raise _bad(
                "remote.partial_early",
                "远程投票截止后才能部分解密",
                "partial decryption only after remote.closed",
                "RV-5.3",
            )
        index = check_partial_decryption(m.election, b, r.n)
        if index in r.partials:
            raise _bad(
                "remote.partial_twice",
                f"第 {index} 号监票人已提交部分解密",
                f"scrutineer {index} already decrypted",
                "RV-5.3",
            )
        return replace(m, remote=replace(r, partials=r.partials.add(index)))
    if t == "remote.totals":
        if r.totals is not None:
            raise _bad(
                "remote.totals_twice", "远程计票总数已记录", "remote.totals is already logged"
            )
        if len(r.partials) < r.k:
            raise _bad(
                "remote.totals_early",
                f"须有 {r.k} 名监票人部分解密后才能合成总数（现有 {len(r.partials)} 名）",
                f"{r.k} partial decryptions are needed before the totals, {len(r.partials)} logged",
                "RV-5.3",
            )
        return replace(m, remote=replace(r, totals=check_totals(m.election, b, len(r.casts))))
    if t == "remote.key_revealed":
        if not r.closed or r.revealed or not _b64len(b["private_key"], 32):
            raise _bad(
                "remote.reveal_order", "须在截止后公布一次密钥", "reveal once, after closing"
            )
        return replace(m, remote=replace(r, revealed=True))
    if t in ("remote.decrypted", "remote.rejected"):
        i = len(r.decided)
        if not r.revealed or i >= len(r.casts) or b["cast"] != r.casts[i][0]:
            raise _bad(
                "remote.decrypt_order", "解密记录须按投递顺序逐一对应", "decrypt casts in order"
            )
        if t == "remote.rejected":
            if b["reason"] not in REJECT_REASONS:
                raise _bad("remote.reason", "拒绝原因不符", "unknown reason")
            return replace(m, remote=replace(r, decided=r.decided.append(None)))
        doc = check_remote_ballot(m, b["ballot"], r.casts[i][1])
        return replace(m, remote=replace(r, decided=r.decided.append(doc)))
    if t == "remote.not_counted":
        cur = _require_round(m, b)
        if (
            b["reason"] != "remote.list_changed"
            or cur.spec.post in r.not_counted
            or not (remote_counts_here(m, cur.spec) and remote_list_changed(m, cur.spec))
        ):
            raise _bad(
                "remote.not_counted_bad", "不应记录远程选票不计入", "not_counted does not apply"
            )
        return replace(m, remote=replace(r, not_counted=r.not_counted.add(cur.spec.post)))
    raise _bad("log.unknown_type", f"未知记录类型 {t}", f"unknown entry type {t}")
