"""The replay of the log (V6, V8-V15, V18 of spec/bundle.md §6), while it moves out (issue 15.5).

The document checks, the findings collector, the QR signature checker and ``verify_bundle`` moved
to their modules of ``verifier.checks``; the replay still here uses them under their old names
(imported below) until it moves to ``verifier.checks.replay``.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from verifier import rules
from verifier.ballot_ids import BallotIds
from verifier.bundle import HashingReader
from verifier.canonical import LINE_LIMIT, canonical_bytes, parse_canonical, parse_canonical_checked
from verifier.checks.common import KIND_NAMES as _KIND_NAMES
from verifier.checks.common import MAX_BAD_LINES
from verifier.checks.common import STOCK_PATH as _STOCK_PATH
from verifier.checks.common import short as _short
from verifier.checks.context import Context as _Verifier
from verifier.checks.findings import Findings as _Findings
from verifier.checks.signatures import QrChecker as _QrChecker
from verifier.crypto import b64decode_canonical, verify_signature
from verifier.errors import VerificationError
from verifier.lines import read_lines
from verifier.merkle import IncrementalRoot
from verifier.model import POST_ORDER, LogEntry, Manifest
from verifier.parse import parse_ballot_entered, parse_log_entry
from verifier.qr import KIND_BYTES, normalise_qr_text, stock_commitment
from verifier.remote import (
    PostSpec,
    ballot_ok,
    decide_cast,
    is_clamped,
    key_matches,
    load_issuer_key,
    verify_token,
    write_in_member,
)
from verifier.report import ElectedPerson, RoundLine

AMENDED_LIST_DOMAIN: Final = b"branch-election/amended-list/1"  # spec/log.md §2.1
AMENDABLE_BLOCKS: Final = ("candidates.amended_list_needed", "further.too_few_candidates")
_ID_HEX: Final = re.compile(r"[0-9a-f]{32}")
_HEX_RUN: Final = re.compile(r"[0-9a-f]*")
_MARKS: Final = "ox-?"  # R7.2; ``marks.strip(_MARKS)`` is empty exactly when all are valid
# The stage an open round must be in for each of its entries (V11).
_ROUND_ORDER: Final = {
    "ballots.issued": ("opened",),
    "ballots.returned": ("issued",),
    "round.void": ("returned",),
    "ballot.entered": ("returned",),
    "ballot.declared_invalid": ("returned",),
    "ballot.withdrawn": ("returned",),
    "round.counted": ("returned",),
}
_INVALID_DOMAIN: Final = b"branch-election/invalid-ballot/1"
_INVALID_REASONS: Final = frozenset({"identifying_marks", "unreadable", "not_official_stock"})
_DECIDED_INVALID: Final = rules.BallotVerdict(valid=False, approvals=())


# --------------------------------------------------------------------------- replay state


@dataclass
class _PostState:
    seats: int
    candidates: tuple[str, ...]
    margin: str
    elected: list[str] = field(default_factory=list)
    held: int = 0
    pending: tuple[str, tuple[str, ...], int, str] | None = None  # purpose, candidates, seats, body


@dataclass(frozen=True, slots=True)
class _Due:
    post: str
    number: int
    purpose: str
    candidates: tuple[str, ...]
    seats: int
    body: str
    expected: int
    blocked: str = ""


@dataclass
class _Open:
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


@dataclass
class _Stock:
    count: int
    ids: frozenset[bytes] | None
    seq: int


@dataclass
class _Cast:
    seq: int
    token: bytes | None
    sealed: bytes | None
    decided: bool = False


@dataclass
class _RemoteState:
    """What the replay knows of remote voting (spec/remote.md §13); small: one item per cast."""

    posts: tuple[PostSpec, ...]
    opened_seq: int | None = None
    opened_size: int = 0
    issuer: Any = None  # the RSA public key once V18.1 accepted it
    ballot_key: bytes | None = None
    credentials: dict[str, int] = field(default_factory=dict)
    credential_entries: int = 0
    casts: list[_Cast] = field(default_factory=list)
    by_seq: dict[int, _Cast] = field(default_factory=dict)
    tokens: dict[bytes, int] = field(default_factory=dict)
    closed_seq: int | None = None
    key_seq: int | None = None
    key: bytes | None = None
    next_undecided: int = 0
    decided: int = 0
    decrypted: int = 0
    rejected: int = 0
    ballots: list[Mapping[str, Any]] = field(default_factory=list)
    round_opened: bool = False
    counted_round: bool = False
    status: dict[str, str] = field(default_factory=dict)  # post -> pending/counted/not_counted
    expect_not_counted: tuple[str, int, int, bool] | None = None  # post, round, seq, required

    def parts(
        self, post: str, roster: Mapping[str, Any]
    ) -> Iterator[tuple[str, tuple[tuple[str, str], ...]]]:
        """(marks, write-ins) of each decrypted ballot's part for ``post``; a typed write-in is
        read by the rule of paper entry (RM-9.2, ``write_in_member``)."""
        names: dict[str, tuple[str, ...]] = {}
        for mid, member in roster.items():
            names[member.name] = (*names.get(member.name, ()), mid)
        ids = frozenset(roster)
        for ballot in self.ballots:
            for part in ballot["posts"]:
                if part["post"] == post:
                    yield (
                        part["marks"],
                        tuple(
                            (write_in_member(w, names, ids), w["mark"]) for w in part["write_ins"]
                        ),
                    )


class _Records:
    """Compares the log's surviving ballots with ``ballots.jsonl``, both in seq order (V9)."""

    def __init__(self, stream: HashingReader | None, findings: _Findings) -> None:
        self._f = findings
        self._stream = stream
        self._it = read_lines(self._stream, LINE_LIMIT) if self._stream else iter(())
        self._head: tuple[int, bytes, int | None] | None = None
        self.count = 0
        self._bad = 0

    def match(self, seq: int, expected: bytes, ballot_id: str) -> None:
        """The next record should be ``expected`` (the JCS bytes of the entry's record)."""
        if self._head is None:
            for n, raw, problem in self._it:
                if not problem and raw == expected:
                    # Identical to canonical bytes built from the log: canonical, right seq.
                    self.count += 1
                    return
                head = self._parse(n, raw, problem)
                if head is not None:
                    self._head = head
                    break
        self._match(seq, expected, ballot_id)

    def _parse(self, n: int, raw: bytes, problem: str) -> tuple[int, bytes, int | None] | None:
        seq: int | None = None
        if problem:
            self._f.fail(
                "V9",
                "record.line",
                "ballots.jsonl 行格式错误",
                f"ballots.jsonl line {problem}",
                file="ballots.jsonl",
                path=f"line {n}",
            )
        else:
            try:
                doc = parse_canonical(raw, clause="V9", path=f"ballots.jsonl:{n}", limit=LINE_LIMIT)
                if isinstance(doc, dict) and type(doc.get("seq")) is int:
                    seq = doc["seq"]
            except VerificationError as e:
                self._f.error("V9", e, file="ballots.jsonl")
        if seq is None:
            self._bad += 1
            if self._bad > MAX_BAD_LINES:  # (bundle.md §8) stop reading line by line
                self._it = iter(())
                self._f.fail(
                    "V9",
                    "record.too_many_bad_lines",
                    f"ballots.jsonl 中超过 {MAX_BAD_LINES} 行无法解析，其余部分不再读取",
                    f"more than {MAX_BAD_LINES} lines of ballots.jsonl cannot be parsed: "
                    "the rest is not read",
                    file="ballots.jsonl",
                    path=f"line {n}",
                )
                return (n, raw, None)  # ends the callers' loops over the old iterator
        return None if problem else (n, raw, seq)

    def _next(self) -> tuple[int, bytes, int | None] | None:
        if self._head is None:
            for n, raw, problem in self._it:
                head = self._parse(n, raw, problem)
                if head is not None:
                    self._head = head
                    break
        return self._head

    def _match(self, seq: int, expected: bytes, ballot_id: str) -> None:
        while True:
            head = self._next()
            if head is None or (head[2] is not None and head[2] > seq):
                self._f.fail(
                    "V9",
                    "record.missing",
                    "日志中计入的选票在 ballots.jsonl 中缺失",
                    "a counted ballot of the log is missing from ballots.jsonl",
                    file="ballots.jsonl",
                    seq=seq,
                    ballot_id=ballot_id,
                    expected="a ballot-record/1 for this entry",
                    found="none",
                )
                return
            self._head = None
            n, raw, rseq = head
            if rseq is None or rseq < seq:
                self._f.fail(
                    "V9",
                    "record.extra",
                    "ballots.jsonl 中有日志中不存在（或已撤回）的记录",
                    "ballots.jsonl holds a record that is not a counted ballot of the log",
                    file="ballots.jsonl",
                    path=f"line {n}",
                    seq=rseq,
                )
                continue
            self.count += 1
            if raw != expected:
                self._f.fail(
                    "V9",
                    "record.differs",
                    "选票记录与日志条目不一致",
                    "ballot record differs from its log entry",
                    file="ballots.jsonl",
                    seq=seq,
                    ballot_id=ballot_id,
                    path=f"line {n}",
                    expected=expected.decode("utf-8", "replace")[:300],
                    found=raw.decode("utf-8", "replace")[:300],
                )
            return

    def finish(self) -> None:
        while (head := self._next()) is not None:
            self._head = None
            self._f.fail(
                "V9",
                "record.extra",
                "ballots.jsonl 中有多余的记录",
                "ballots.jsonl holds a record that is not a counted ballot of the log",
                file="ballots.jsonl",
                path=f"line {head[0]}",
                seq=head[2],
            )
        if self._stream is not None:
            self._stream.close()


# --------------------------------------------------------------------------- the verifier


# _Verifier and its document checks moved to verifier/checks/context.py, index.py, manifest.py,
# definition.py, checkpoints.py, result.py and publicity.py.


def _stock_ids(raw_ids: object) -> list[bytes] | None:
    """A stock's ``ballot_ids`` as 16-byte ids when every one is 32 lowercase hex, else None.

    One regular expression over the joined list instead of one per id (5,000 a stock).
    """
    if not isinstance(raw_ids, list) or not all(type(x) is str and len(x) == 32 for x in raw_ids):
        return None
    joined = "".join(raw_ids)
    if _HEX_RUN.fullmatch(joined) is None:
        return None
    raw = bytes.fromhex(joined)
    return [raw[i : i + 16] for i in range(0, len(raw), 16)]


def _jcs(value: object) -> bytes:
    return canonical_bytes(value)


def _record_bytes(seq: int, body: Mapping[str, Any]) -> bytes:
    """The ``ballot-record/1`` of an entry: its body plus format and seq (bundle.md §3), JCS."""
    record = dict(body)
    record["format"] = "ballot-record/1"
    record["seq"] = seq
    return _jcs(record)


class _ReplayStopped(Exception):
    """More than MAX_BAD_LINES log lines do not parse: the replay stops (bundle.md §8)."""


class _Replay:
    """One streaming pass over ``log.jsonl``: V6 (entries), leaf hashes for V7, V8-V15."""

    def __init__(self, v: _Verifier, m: Manifest) -> None:
        self.v = v
        self.f = v.f
        self.m = m
        self.bad_lines = 0  # V6 lines that do not parse; over MAX_BAD_LINES the replay stops
        d = m.definition
        self.d = d
        self.roster = {x.id: x for x in d.members}
        self.eligible = {x.id for x in d.members if x.eligible}
        self.excluded = {x.member for x in d.exclusions}
        self.electors = self.eligible - self.excluded
        self.E = rules.expected_electors(d)
        self.scrutineers, self.tellers = tuple(d.scrutineers), tuple(d.tellers)  # (R25.1)
        self.officials = set(d.scrutineers) | set(d.tellers)
        self.posts = {p.post: _PostState(p.seats, p.candidates, p.margin) for p in d.posts}
        # (R20, R21, R22) with a committee, secretary and deputy come from it, whatever the body
        self.from_committee = "committee" in self.posts
        self.direct = self.from_committee and d.elected_by == "direct"
        if self.direct:  # (R22.2) their first rounds are voted with the committee's
            for post in ("secretary", "deputy_secretary"):
                if post in self.posts:
                    st = self.posts[post]
                    st.pending = ("first", st.candidates, st.seats, "assembly")
        self.present: set[str] = set()
        self.open: _Open | None = None
        self.joining: list[_Due] = []  # (R22.2) rounds the joint opening must open next
        self.held: list[_Open] = []  # (R22.2) rounds of the joint opening awaiting their count
        self.stocks: dict[tuple[str, int], _Stock] = {}
        self.stock_parts: dict[tuple[str, int], int] = {}  # supplementary prints (V8)
        self.stock_files_used: set[str] = set()
        self.moments: list[tuple[str, int, int]] = []  # reason, size, seq
        self.roots: dict[int, bytes] = {}
        self.structure_ok = True
        self.result_seen = False
        self.ids = BallotIds()
        self.qr = _QrChecker(self.f, m.work_group.key, m.election_id, v.jobs)
        self.records = _Records(
            v.open_streamed("ballots.jsonl") if "ballots.jsonl" in v.b.names() else None, self.f
        )
        self.rm = _RemoteState(
            posts=tuple(
                PostSpec(p.post, p.candidates, p.seats)
                for p in d.posts
                if self.body_kind(p.post) == "assembly"
            )
        )
        self.ever_checked_in: set[str] = set()
        self.present_ok = True
        self.voided: dict[str, int] = {}  # post -> its last round, while that round was VOID
        self.double_entry = "off"  # the station's entry mode (log.md §2.3, V14)
        if "ballots.jsonl" not in v.b.names():
            self.f.fail(
                "V9",
                "bundle.missing_file",
                "缺少 ballots.jsonl",
                "ballots.jsonl is missing",
                file="ballots.jsonl",
            )

    # -------------------------------------------------------------- helpers

    def fail(
        self, clause: str, code: str, zh: str, en: str, e: LogEntry | None = None, **kw: Any
    ) -> None:
        if e is not None:
            kw.setdefault("seq", e.seq)
            kw.setdefault("file", "log.jsonl")
        self.f.fail(clause, code, zh, en, **kw)

    def rfail(
        self, rule: str, code: str, zh: str, en: str, e: LogEntry | None = None, **kw: Any
    ) -> None:
        """A V18 finding with its clause of spec/remote.md §13."""
        self.fail("V18", code, zh, en, e, rule=rule, **kw)

    def remote_in_quorum(self) -> int:
        """RM-9.3: remote casts counted into an assembly round's present."""
        rm = self.rm
        return len(rm.casts) if rm.opened_seq is not None and self.d.counts_toward_quorum else 0

    def body_kind(self, post: str) -> str:
        return "plenary" if post != "committee" and self.d.elected_by == "committee" else "assembly"

    def can_take(self, post: str, member: str) -> bool:
        if (
            post in ("secretary", "deputy_secretary")
            and self.from_committee
            and member not in self.posts["committee"].elected
        ):
            return False
        return not (
            post == "deputy_secretary"
            and "secretary" in self.posts
            and member in self.posts["secretary"].elected
        )

    def committee_size(self) -> int:
        return len(self.posts["committee"].elected) if "committee" in self.posts else 0

    def due(self) -> _Due | None:  # RS1-RS7
        for post in POST_ORDER:
            st = self.posts.get(post)
            if st is None:
                continue
            body = self.body_kind(post)
            expected = self.E if body == "assembly" else self.committee_size()
            number = st.held + 1
            if st.pending is not None:
                purpose, cands, seats, pbody = st.pending
                blocked = "rounds.exhausted" if number > 255 else ""
                return _Due(post, number, purpose, cands, seats, pbody, expected, blocked)
            open_seats = st.seats - len(st.elected)
            if open_seats <= 0:
                continue
            if number > 255:
                return _Due(
                    post, number, "further", (), open_seats, body, expected, "rounds.exhausted"
                )
            if st.held == 0 and not st.elected:  # RS5
                cands = tuple(c for c in st.candidates if self.can_take(post, c))
                margin = "20pct" if post == "committee" else st.margin
                ok = rules.margin_ok(len(cands), st.seats, margin)
                return _Due(
                    post,
                    number,
                    "first",
                    cands,
                    st.seats,
                    body,
                    expected,
                    "" if ok else "candidates.amended_list_needed",
                )
            cands = tuple(
                c for c in st.candidates if c not in st.elected and self.can_take(post, c)
            )
            blocked = "further.too_few_candidates" if len(cands) < open_seats else ""  # R16.3
            return _Due(post, number, "further", cands, open_seats, body, expected, blocked)
        return None

    def write_in_eligible(self, o: _Open) -> Callable[[str], bool]:  # R9.3
        post = self.posts[o.post]

        def ok(member: str) -> bool:
            if member not in self.eligible or member in self.excluded or member in self.officials:
                return False
            if member in o.candidates or member in post.elected:
                return False
            if (
                o.post == "deputy_secretary"
                and "secretary" in self.posts
                and member in self.posts["secretary"].elected
            ):
                return False
            return not (
                o.post != "committee"
                and self.from_committee
                and member not in self.posts["committee"].elected
            )

        return ok

    # -------------------------------------------------------------- main loop

    def run(self) -> None:
        v = self.v
        if "log.jsonl" not in v.b.names():
            self.f.fail(
                "V6",
                "bundle.missing_file",
                "缺少 log.jsonl",
                "log.jsonl is missing",
                file="log.jsonl",
            )
            self.structure_ok = False
            self.finish(0)
            return
        tree = IncrementalRoot()
        wanted = self.v.checkpoint_sizes
        prev_hash = self.m.election_id.hex()
        prev_at: dt.datetime | None = None
        expected_seq = 0
        progress, sha256 = v.progress, hashlib.sha256
        with v.open_streamed("log.jsonl") as stream:
            try:
                for n, raw, problem in read_lines(stream, LINE_LIMIT):
                    if progress is not None:
                        progress(len(raw) + 1)
                    leaf = sha256(b"\x00" + raw).digest()  # (M2)
                    if problem or not raw:  # an empty line is refused before any JSON parse
                        self.bad_line(n, problem or "empty")
                    else:
                        # (V6): the common ballot line in one step, else the general parse
                        entry, record = parse_ballot_entered(raw, leaf) or (
                            self.parse_line(raw, n, leaf),
                            b"",
                        )
                        if entry is not None:
                            if (
                                entry.seq != expected_seq
                                or entry.prev != prev_hash
                                or (prev_at is not None and entry.at < prev_at)
                                or expected_seq == 0
                            ):
                                self.check_chain(entry, expected_seq, prev_hash, prev_at)
                            prev_at = entry.at
                            self.apply(entry, record)
                    tree.add(leaf)
                    if tree.size in wanted:
                        self.roots[tree.size] = tree.root()
                    prev_hash = leaf.hex()
                    expected_seq += 1
            except VerificationError as e:
                self.f.error("V6", e, file="log.jsonl")
                self.structure_ok = False
            except _ReplayStopped:  # (bundle.md §8)
                self.f.fail(
                    "V6",
                    "entry.too_many_bad_lines",
                    f"日志中超过 {MAX_BAD_LINES} 行无法解析，其余部分不再重放",
                    f"more than {MAX_BAD_LINES} log lines cannot be parsed: "
                    "the rest is not replayed",
                    file="log.jsonl",
                )
                v.replay_stopped = True
        self.finish(expected_seq)

    def bad_line(self, n: int, problem: str) -> None:  # (V6)
        self.fail(
            "V6",
            "entry.line",
            "日志行过长、为空或缺少换行",
            f"log line {problem}",
            file="log.jsonl",
            path=f"line {n}",
        )
        self.structure_ok = False
        self.count_bad_line()

    def count_bad_line(self) -> None:  # (bundle.md §8)
        self.bad_lines += 1
        if self.bad_lines > MAX_BAD_LINES:
            raise _ReplayStopped

    def check_chain(
        self, entry: LogEntry, expected_seq: int, prev_hash: str, prev_at: dt.datetime | None
    ) -> None:  # (V6) seq, prev, at, entry 0; called only when one of them may fail
        if entry.seq != expected_seq:
            self.fail(
                "V6",
                "entry.seq",
                "日志序号不连续",
                "seq does not run 0..N-1",
                entry,
                expected=str(expected_seq),
                found=str(entry.seq),
            )
            self.structure_ok = False
        if entry.prev != prev_hash:
            self.fail(
                "V6",
                "entry.prev",
                "哈希链断开",
                "prev does not chain to the previous entry",
                entry,
                expected=prev_hash,
                found=entry.prev,
            )
            self.structure_ok = False
        if prev_at is not None and entry.at < prev_at:
            self.fail(
                "V6",
                "entry.at",
                "时间倒退",
                "at decreases",
                entry,
                expected=f">= {prev_at.isoformat()}",
                found=entry.at.isoformat(),
            )
        if expected_seq == 0 and (
            entry.type != "election.opened" or entry.body["election_id"] != self.m.election_id.hex()
        ):
            self.fail(
                "V6",
                "entry.first",
                "第一条日志应为 election.opened 且含本选举标识",
                "entry 0 must be election.opened with the election id",
                entry,
            )
            self.structure_ok = False

    def wanted(self, size: int) -> bool:
        return size in self.v.checkpoint_sizes

    def parse_line(self, raw: bytes, n: int, leaf: bytes) -> LogEntry | None:
        try:
            value, shaped = parse_canonical_checked(
                raw, clause="V6", path=f"log.jsonl:{n}", limit=LINE_LIMIT
            )
            return parse_log_entry(value, raw, n, leaf_hash=leaf, shape_checked=shaped)
        except VerificationError as e:
            self.f.error("V6", e, file="log.jsonl", seq=n - 1)
            self.structure_ok = False
            self.count_bad_line()
            return None

    # -------------------------------------------------------------- entries

    def apply(self, e: LogEntry, record: bytes = b"") -> None:
        """Replay one entry; ``record`` is its ballot-record/1 bytes when already built."""
        self.apply_one(e, record)
        if self.held and self.open is None:  # (V11) R22.2: a held round's turn to be counted
            due = self.due()
            h = self.held[0]
            if due is not None and (due.post, due.number) == (h.post, h.number):
                self.open = self.held.pop(0)

    def apply_one(self, e: LogEntry, record: bytes = b"") -> None:
        b = e.body
        t = e.type
        size = e.seq + 1
        if self.joining and t != "round.opened":  # (V11) R22.2
            nxt = self.joining[0]
            self.joining = []
            self.fail(
                "V11",
                "joint.incomplete",
                "直接选举的联合投票缺少书记（副书记）轮次的开始记录",
                "a direct election's joint opening does not open every post's first round",
                e,
                expected=f"round.opened {nxt.post} {nxt.number}",
                found=t,
            )
        if self.result_seen:
            self.fail(
                "V15",
                "result.not_last",
                "election.result 之后还有日志条目",
                "entries after election.result",
                e,
            )
        rm = self.rm
        if rm.expect_not_counted is not None and t != "remote.not_counted":  # (V18.9)
            post, rnd, seq, required = rm.expect_not_counted
            rm.expect_not_counted = None
            if required:
                self.rfail(
                    "V18.9",
                    "remote.not_counted_missing",
                    "候选人名单与清单不同的首轮开始后，缺少 remote.not_counted",
                    "remote.not_counted must follow the opening of a first round whose list "
                    "differs from the manifest's (RM-9.1)",
                    None,
                    file="log.jsonl",
                    seq=seq,
                    expected=f"remote.not_counted {post} {rnd}",
                    found=t,
                )
        if t == "ballot.entered":  # nearly every entry: tested first
            self.round_entry(e, record)
        elif t.startswith("remote."):
            self.remote_entry(e)
        elif t == "election.opened":
            self.moments.append(("opened", size, e.seq))
            if e.seq != 0:
                self.fail(
                    "V6",
                    "entry.type",
                    "election.opened 只能是第 0 条",
                    "election.opened only as entry 0",
                    e,
                )
        elif t in ("member.checked_in", "member.left"):
            self.attendance(e)
        elif t == "stock.committed":
            self.moments.append((f"stock {b['post']} {b['round']}", size, e.seq))
            self.stock(e)
        elif t == "stock.supplemented":
            reason = f"stock-supplement {b['post']} {b['round']} {b['part']}"
            self.moments.append((reason, size, e.seq))
            self.stock(e)
        elif t == "round.quorum_failed":
            self.quorum_failed(e)
        elif t == "round.opened":
            self.moments.append((f"round-opened {b['post']} {b['round']}", size, e.seq))
            self.round_opened(e)
        elif t in (
            "ballots.issued",
            "ballots.returned",
            "round.void",
            "ballot.entered",
            "ballot.declared_invalid",
            "ballot.withdrawn",
            "round.counted",
        ):
            if t in ("round.void", "round.counted"):
                self.moments.append((f"round-closed {b['post']} {b['round']}", size, e.seq))
                self.v.outcomes.append(_jcs({**dict(b), "type": t}))
            self.round_entry(e)
        elif t in ("seats.reduced", "candidates.amended"):
            self.decision(e)
        elif t == "officials.changed":
            self.officials_changed(e)
        elif t == "double_entry.set":
            self.double_entry_set(e)
        elif t == "election.result":
            self.moments.append(("result", size, e.seq))
            self.result(e)

    # -------------------------------------------------------------- remote (V18)

    def remote_entry(self, e: LogEntry) -> None:  # (V18)
        rm, t = self.rm, e.type
        if t == "remote.opened":
            self.remote_opened(e)
            return
        if rm.opened_seq is None:
            self.rfail(
                "V18.1",
                "remote.not_opened",
                "remote.opened 之前出现了远程投票条目",
                f"{t} without an earlier remote.opened",
                e,
            )
            return
        if t == "remote.credential_issued":
            self.remote_credential(e)
        elif t == "remote.cast":
            self.remote_cast(e)
        elif t == "remote.closed":
            self.remote_closed(e)
        elif t == "remote.key_revealed":
            self.remote_key(e)
        elif t in ("remote.decrypted", "remote.rejected"):
            self.remote_decision(e)
        else:
            self.remote_not_counted(e)

    def remote_opened(self, e: LogEntry) -> None:  # (V18.1)
        rm, b, m = self.rm, e.body, self.m
        if not self.d.remote_approved:
            self.rfail(
                "V18.1",
                "remote.not_approved",
                "清单未批准任何远程投票人员，却开启了远程投票",
                "remote.opened although the manifest approves no remote voter",
                e,
            )
        if rm.opened_seq is not None:
            self.rfail(
                "V18.1",
                "remote.opened_twice",
                "remote.opened 出现了不止一次",
                "a second remote.opened",
                e,
                expected=f"only seq {rm.opened_seq}",
            )
            return
        if rm.credential_entries or rm.casts or rm.round_opened:
            self.rfail(
                "V18.1",
                "remote.opened_late",
                "remote.opened 须在其他远程条目和第一轮之前",
                "remote.opened must precede every other remote entry and every round.opened",
                e,
            )
        rm.opened_seq = e.seq
        rm.opened_size = e.seq + 1
        rm.status = {p.post: "pending" for p in rm.posts}
        self.moments.append(("remote-opened", e.seq + 1, e.seq))
        der = b64decode_canonical(b["issuer_key"])
        issuer = load_issuer_key(der) if der is not None else "not canonical base64"
        if isinstance(issuer, str):
            self.rfail(
                "V18.1",
                "remote.issuer_key",
                "签发公钥无效",
                f"issuer_key invalid: {issuer} (RM-4.1)",
                e,
                path="body.issuer_key",
            )
        else:
            rm.issuer = issuer
        rm.ballot_key = b64decode_canonical(b["ballot_key"], 32)
        if rm.ballot_key is None:
            self.rfail(
                "V18.1",
                "remote.ballot_key",
                "远程选票公钥不是 32 字节",
                "ballot_key is not base64 of 32 bytes",
                e,
                path="body.ballot_key",
            )
        n, k = b["n"], b["k"]
        want_n = len(m.scrutineers)
        if n != want_n or not (1 <= k <= n and (k >= 2 or n == 1)):
            self.rfail(
                "V18.1",
                "remote.threshold",
                "门限 k、n 不符合 RM-7.2",
                "k and n break RM-7.2 (n = scrutineer keys, 2 <= k <= n)",
                e,
                expected=f"n = {want_n}, 2 <= k <= n",
                found=f"k = {k}, n = {n}",
            )
        shares = b["shares"]
        want = [base64.b64encode(x.key).decode("ascii") for x in m.scrutineers]
        ok = isinstance(shares, list) and len(shares) == want_n
        if ok:
            for i, item in enumerate(shares):
                if (
                    not isinstance(item, dict)
                    or set(item) != {"index", "scrutineer", "commitment"}
                    or item["index"] != i + 1
                    or type(item["index"]) is not int
                    or item["scrutineer"] != want[i]
                    or not isinstance(item["commitment"], str)
                    or re.fullmatch(r"[0-9a-f]{64}", item["commitment"]) is None
                ):
                    ok = False
        if not ok:
            self.rfail(
                "V18.1",
                "remote.shares",
                "密钥份额列表与清单中的监票人公钥不符",
                "shares must list indices 1..n with the manifest's scrutineer keys in order",
                e,
                path="body.shares",
            )

    def remote_credential(self, e: LogEntry) -> None:  # (V18.2), (V18.10)
        rm, member = self.rm, e.body["member"]
        rm.credential_entries += 1
        if member not in self.d.remote_approved:
            self.rfail(
                "V18.2",
                "remote.credential_not_approved",
                "凭证发给了未获批准远程投票的人",
                "credential for a member not approved for remote voting",
                e,
                found=member,
            )
        if member in rm.credentials:
            self.rfail(
                "V18.2",
                "remote.credential_twice",
                "同一党员领取了两份凭证",
                "a second credential for the same member (RM-4.4)",
                e,
                found=member,
                expected=f"only seq {rm.credentials[member]}",
            )
        if rm.closed_seq is not None:
            self.rfail(
                "V18.2",
                "remote.credential_after_close",
                "远程投票关闭后仍发放凭证",
                "credential issued after remote.closed",
                e,
            )
        if member in self.ever_checked_in:
            self.fail(
                "V10",
                "attendance.remote_credential",
                "已签到的党员又领取了远程投票凭证（R24.3）",
                "a member who checked in received a remote credential (R24.3)",
                e,
                found=member,
                rule="V18.10",
            )
        rm.credentials.setdefault(member, e.seq)

    def remote_cast(self, e: LogEntry) -> None:  # (V18.3)-(V18.6)
        rm, b = self.rm, e.body
        if e.actor != "remote":
            self.rfail(
                "V18.3",
                "remote.cast_actor",
                "remote.cast 的 actor 应为 remote",
                'the actor of remote.cast must be "remote" (RM-8.2)',
                e,
                expected="remote",
                found=e.actor,
            )
        if rm.closed_seq is not None:
            self.rfail(
                "V18.6",
                "remote.cast_after_close",
                "远程投票关闭后仍有投票",
                "remote.cast after remote.closed",
                e,
                expected=f"before seq {rm.closed_seq}",
            )
        token = b64decode_canonical(b["token"], 32)
        prefix = b64decode_canonical(b["token_prefix"], 32)
        sig = b64decode_canonical(b["token_signature"])
        if token is None or prefix is None or sig is None:
            self.rfail(
                "V18.3",
                "remote.token_invalid",
                "投票凭证格式无效",
                "token and token_prefix must be base64 of 32 bytes, token_signature base64",
                e,
            )
        elif rm.issuer is not None and not verify_token(
            rm.issuer, self.m.election_id, token, prefix, sig
        ):
            self.rfail(
                "V18.3",
                "remote.token_invalid",
                "投票凭证的签名无效",
                "the token signature does not verify under issuer_key (RM-4.5)",
                e,
            )
        if token is not None:
            if token in rm.tokens:
                self.rfail(
                    "V18.4",
                    "remote.token_used",
                    "同一凭证投了两次",
                    "the token was already used",
                    e,
                    expected="a fresh token",
                    found=f"also at seq {rm.tokens[token]}",
                )
            else:
                rm.tokens[token] = e.seq
        if len(rm.casts) + 1 > rm.credential_entries:
            self.rfail(
                "V18.5",
                "remote.casts_exceed_credentials",
                "远程投票数超过已发放的凭证数",
                "more remote casts than credentials issued so far",
                e,
                expected=f"<= {rm.credential_entries}",
                found=str(len(rm.casts) + 1),
            )
        cast = _Cast(e.seq, token, b64decode_canonical(b["sealed"]))
        rm.casts.append(cast)
        rm.by_seq[e.seq] = cast

    def remote_closed(self, e: LogEntry) -> None:  # (V18.6)
        rm, b = self.rm, e.body
        if rm.closed_seq is not None:
            self.rfail(
                "V18.6",
                "remote.closed_twice",
                "remote.closed 出现了不止一次",
                "a second remote.closed",
                e,
            )
            return
        rm.closed_seq = e.seq
        self.moments.append(("remote-closed", e.seq + 1, e.seq))
        if rm.round_opened:
            self.rfail(
                "V18.6",
                "remote.closed_late",
                "远程投票须在第一轮开始前关闭",
                "remote.closed must come before the first round.opened",
                e,
            )
        for k, have in (("credentials", rm.credential_entries), ("casts", len(rm.casts))):
            if b[k] != have:
                self.rfail(
                    "V18.6",
                    f"remote.closed_{k}",
                    f"remote.closed 的 {k} 与日志不符",
                    f"remote.closed {k} differs from the log",
                    e,
                    expected=str(have),
                    found=str(b[k]),
                )

    def remote_key(self, e: LogEntry) -> None:  # (V18.7)
        rm = self.rm
        if rm.key_seq is not None:
            self.rfail(
                "V18.7",
                "remote.key_twice",
                "私钥公布了不止一次",
                "a second remote.key_revealed",
                e,
                expected=f"only seq {rm.key_seq}",
            )
            return
        rm.key_seq = e.seq
        self.moments.append(("remote-key", e.seq + 1, e.seq))
        if rm.closed_seq is None:
            self.rfail(
                "V18.7",
                "remote.key_early",
                "远程投票关闭前公布了私钥",
                "remote.key_revealed before remote.closed",
                e,
            )
        raw = b64decode_canonical(e.body["private_key"], 32)
        if raw is None or not is_clamped(raw):
            self.rfail(
                "V18.7",
                "remote.key_invalid",
                "公布的私钥不是 32 字节的规范（clamped）形式",
                "private_key is not 32 bytes in clamped form (RM-6.1)",
                e,
            )
        elif rm.ballot_key is not None:
            if key_matches(raw, rm.ballot_key):
                rm.key = raw
            else:
                self.rfail(
                    "V18.7",
                    "remote.key_mismatch",
                    "公布的私钥与远程选票公钥不对应",
                    "the X25519 public key of private_key is not ballot_key",
                    e,
                )

    def remote_decision(self, e: LogEntry) -> None:  # (V18.8)
        rm, b = self.rm, e.body
        if rm.key_seq is None:
            self.rfail(
                "V18.7",
                "remote.decision_before_key",
                "私钥公布之前就有解密结果",
                f"{e.type} before remote.key_revealed",
                e,
            )
        if rm.counted_round:
            self.rfail(
                "V18.8",
                "remote.decision_late",
                "远程选票计入的轮次已计票之后才解密",
                f"{e.type} after the count in which remote ballots count",
                e,
            )
        cast = rm.by_seq.get(b["cast"])
        if cast is None or cast.decided:
            self.rfail(
                "V18.8",
                "remote.decision_cast",
                "解密结果指向的不是未处理的远程投票",
                "cast is not the seq of a remote.cast still undecided",
                e,
                found=str(b["cast"]),
            )
            return
        expected_next = rm.casts[rm.next_undecided]
        if cast is not expected_next:
            self.rfail(
                "V18.8",
                "remote.decision_order",
                "解密结果未按投票顺序",
                "decisions must follow the order of the casts",
                e,
                expected=str(expected_next.seq),
                found=str(cast.seq),
            )
        cast.decided = True
        rm.decided += 1
        while rm.next_undecided < len(rm.casts) and rm.casts[rm.next_undecided].decided:
            rm.next_undecided += 1
        eid = self.m.election_id.hex()
        roster = frozenset(self.roster)
        if e.type == "remote.decrypted":
            rm.decrypted += 1
            ballot = b["ballot"]
            if ballot_ok(ballot, eid, rm.posts, roster):
                rm.ballots.append(ballot)
        else:
            rm.rejected += 1
        if rm.key is None or cast.token is None:
            return  # the key (V18.7) or the cast (V18.3) failed already: nothing to open with
        if cast.sealed is None:
            want: tuple[str, Any] = ("remote.rejected", "remote.sealed_invalid")
        else:
            want = decide_cast(
                rm.key,
                cast.sealed,
                token=cast.token,
                election_id_hex=eid,
                posts=rm.posts,
                roster=roster,
            )
        if e.type == "remote.decrypted":
            same = want[0] == e.type and canonical_bytes(b["ballot"]) == want[1][0]
            found = _short(b["ballot"])
        else:
            reasons = {want[1]}
            if want[1] == "remote.sealed_too_large":
                reasons.add("remote.sealed_invalid")
            same = want[0] == e.type and b["reason"] in reasons
            found = f"rejected: {b['reason']}"
        if not same:
            self.rfail(
                "V18.8",
                "remote.decryption_differs",
                "用公布的私钥打开密封选票，结果与日志不符",
                "opening the sealed ballot with the published key gives another result",
                e,
                expected=(
                    want[1][0].decode("utf-8", "replace")[:300]
                    if want[0] == "remote.decrypted"
                    else f"rejected: {want[1]}"
                ),
                found=found,
            )

    def remote_not_counted(self, e: LogEntry) -> None:  # (V18.9)
        rm, b = self.rm, e.body
        want = rm.expect_not_counted
        rm.expect_not_counted = None
        if (
            want is None
            or (b["post"], b["round"]) != want[:2]
            or b["reason"] != "remote.list_changed"
        ):
            self.rfail(
                "V18.9",
                "remote.not_counted_unexpected",
                "remote.not_counted 与 RM-9.1 不符",
                "remote.not_counted where RM-9.1 does not call for it",
                e,
                expected=f"{want[0]} {want[1]} remote.list_changed" if want else "none",
                found=f"{b['post']} {b['round']} {b['reason']}",
            )

    def remote_round_opened(self, e: LogEntry, o: _Open) -> None:  # (V18.6), (V18.9)
        rm = self.rm
        if rm.opened_seq is not None and rm.closed_seq is None and not rm.round_opened:
            self.rfail(
                "V18.6",
                "remote.not_closed",
                "第一轮开始时远程投票尚未关闭",
                "the first round.opened comes before remote.closed",
                e,
            )
        rm.round_opened = True
        if rm.status.get(o.post) != "pending" or o.purpose != "first" or o.body != "assembly":
            return
        manifest = next(p.candidates for p in rm.posts if p.post == o.post)
        if o.candidates == manifest:
            o.remote = True
        else:
            rm.status[o.post] = "not_counted"
            # Without casts there is nothing left out: the producer may omit the entry.
            rm.expect_not_counted = (o.post, o.number, e.seq, bool(rm.casts))

    def remote_round_counted(self, e: LogEntry, o: _Open) -> None:  # (V18.7)-(V18.9)
        rm, b = self.rm, e.body
        if rm.opened_seq is None:
            if "remote_ballots" in b:
                self.fail(
                    "V6",
                    "field.unknown",
                    "没有远程投票的选举，round.counted 不应含 remote_ballots",
                    "round.counted has remote_ballots in an election without remote voting",
                    e,
                    path="body.remote_ballots",
                )
            return
        want = len(rm.ballots) if o.remote else 0
        if o.remote:
            rm.status[o.post] = "counted"
            if not rm.counted_round:
                rm.counted_round = True
                if rm.casts and rm.key_seq is None:
                    self.rfail(
                        "V18.7",
                        "remote.key_missing_at_count",
                        "计入远程选票的轮次计票前未公布私钥",
                        "no remote.key_revealed before the count that includes remote ballots",
                        e,
                    )
                if rm.decided < len(rm.casts):
                    self.rfail(
                        "V18.8",
                        "remote.undecided_at_count",
                        "计票时仍有远程投票未解密",
                        "remote casts still undecided at the count that includes them",
                        e,
                        expected=str(len(rm.casts)),
                        found=str(rm.decided),
                    )
        if "remote_ballots" not in b:
            self.rfail(
                "V18.9",
                "remote.round_member_missing",
                "有远程投票的选举，round.counted 须含 remote_ballots",
                "round.counted lacks remote_ballots in an election with remote voting",
                e,
                expected=str(want),
                found="absent",
            )
        elif b["remote_ballots"] != want:
            self.rfail(
                "V18.9",
                "remote.round_count",
                "本轮计入的远程选票数不符（RM-9.1）",
                "remote ballots counted in this round differ from RM-9.1",
                e,
                expected=str(want),
                found=str(b["remote_ballots"]),
            )

    def remote_finish(self) -> None:  # (V18.6)-(V18.9)
        rm = self.rm
        end = {"file": "log.jsonl"}
        if rm.expect_not_counted is not None and rm.expect_not_counted[3]:
            post, rnd, seq, _ = rm.expect_not_counted
            self.rfail(
                "V18.9",
                "remote.not_counted_missing",
                "缺少 remote.not_counted",
                "remote.not_counted missing (RM-9.1)",
                None,
                seq=seq,
                expected=f"remote.not_counted {post} {rnd}",
                **end,
            )
        if rm.opened_seq is None:
            return
        if rm.closed_seq is None:
            self.rfail(
                "V18.6",
                "remote.never_closed",
                "远程投票从未关闭",
                "remote.opened without remote.closed",
                None,
                **end,
            )
        if rm.casts and rm.key_seq is None:
            self.rfail(
                "V18.7",
                "remote.key_missing",
                "有远程投票，但私钥从未公布",
                "remote casts exist but no remote.key_revealed",
                None,
                **end,
            )
        for cast in rm.casts:
            if not cast.decided:
                self.rfail(
                    "V18.8",
                    "remote.undecided",
                    "该远程投票没有解密或拒收记录",
                    "no remote.decrypted or remote.rejected for this cast",
                    None,
                    seq=cast.seq,
                    **end,
                )

    def attendance(self, e: LogEntry) -> None:  # (V10)
        m = e.body["member"]
        if e.type == "member.checked_in":
            if m not in self.electors:
                self.fail(
                    "V10",
                    "attendance.not_elector",
                    "签到者不是应到会党员",
                    "checked-in member is not in E (R2, R3)",
                    e,
                    found=m,
                )
            elif m in self.present:
                self.fail(
                    "V10",
                    "attendance.twice",
                    "重复签到",
                    "member checked in twice without leaving",
                    e,
                    found=m,
                )
            if m in self.rm.credentials:  # (V18.10)
                self.fail(
                    "V10",
                    "attendance.remote_credential",
                    "已领取远程投票凭证的党员不得签到（R24.3）",
                    "a member who received a remote credential checks in (R24.3)",
                    e,
                    found=m,
                    expected=f"no check-in (credential at seq {self.rm.credentials[m]})",
                    rule="V18.10",
                )
            self.present.add(m)
            self.ever_checked_in.add(m)
        else:
            if m not in self.present:
                self.fail(
                    "V10",
                    "attendance.not_present",
                    "未签到的成员离场",
                    "member.left for a member not checked in",
                    e,
                    found=m,
                )
            self.present.discard(m)

    def stock(self, e: LogEntry) -> None:  # (V8)
        b = e.body
        post, rnd = b["post"], b["round"]
        part = b.get("part", 1)  # stock.supplemented: a supplementary print, part 2, 3, ...
        name = f"stocks/{post}-{rnd}.json" if part == 1 else f"stocks/{post}-{rnd}-{part}.json"
        key = (post, rnd)
        if part == 1 and key in self.stocks:
            self.fail(
                "V8",
                "stock.duplicate",
                "同一轮次的选票批次重复登记",
                "a second stock for the same post and round",
                e,
            )
        if part != 1:
            self.supplement_allowed(e, key, part)
        self.stock_files_used.add(name)
        ids: frozenset[bytes] | None = None
        doc = self.v._doc(name, "V8")
        where = {"file": name, "seq": e.seq}
        if isinstance(doc, dict):
            members = {
                "ballot_ids",
                "commitment",
                "count",
                "election_id",
                "format",
                "kind",
                "round",
            }
            if set(doc) != members or doc.get("format") != "ballot-stock/1":
                self.f.fail(
                    "V8",
                    "stock.format",
                    "不是 ballot-stock/1",
                    "not a ballot-stock/1 document",
                    **where,
                )
            else:
                raw_ids = doc["ballot_ids"]
                parsed = _stock_ids(raw_ids)
                if parsed is None and isinstance(raw_ids, list):  # find and report each bad id
                    parsed = []
                    for x in raw_ids:
                        if isinstance(x, str) and _ID_HEX.fullmatch(x):
                            parsed.append(bytes.fromhex(x))
                        else:
                            self.f.fail(
                                "V8",
                                "stock.bad_id",
                                "选票标识格式错误",
                                "malformed ballot id",
                                found=str(x),
                                **where,
                            )
                if parsed is None or len(parsed) != len(raw_ids):
                    self.f.fail(
                        "V8", "stock.format", "ballot_ids 格式错误", "ballot_ids malformed", **where
                    )
                else:
                    if raw_ids != sorted(set(raw_ids)):
                        self.f.fail(
                            "V8",
                            "stock.order",
                            "选票标识未排序或重复",
                            "ballot ids not sorted and unique",
                            **where,
                        )
                    checks = [
                        ("election_id", self.m.election_id.hex()),
                        ("kind", _KIND_NAMES[post]),
                        ("round", rnd),
                        ("count", b["count"]),
                    ]
                    for k, want in checks:
                        if doc[k] != want:
                            self.f.fail(
                                "V8",
                                f"stock.{k}",
                                f"批次的 {k} 不符",
                                f"stock {k} differs",
                                expected=str(want),
                                found=str(doc[k]),
                                **where,
                            )
                    if doc["count"] != len(parsed):
                        self.f.fail(
                            "V8",
                            "stock.count",
                            "批次张数与标识数不符",
                            "count differs from the number of ids",
                            expected=str(len(parsed)),
                            found=str(doc["count"]),
                            **where,
                        )
                    c = stock_commitment(self.m.election_id, KIND_BYTES[post], rnd, parsed).hex()
                    if doc["commitment"] != c:
                        self.f.fail(
                            "V8",
                            "stock.commitment",
                            "批次文件中的承诺值与重新计算不符",
                            "stock file commitment does not recompute",
                            expected=c,
                            found=str(doc["commitment"]),
                            **where,
                        )
                    if b["commitment"] != c:
                        self.f.fail(
                            "V8",
                            "stock.commitment",
                            "日志中的承诺值与批次不符",
                            "the log entry's commitment differs from the stock",
                            expected=c,
                            found=b["commitment"],
                            **where,
                        )
                    ids = frozenset(parsed)
        elif doc is not None:
            self.f.fail(
                "V8",
                "stock.format",
                "不是 ballot-stock/1",
                "not a ballot-stock/1 document",
                **where,
            )
        if part == 1:
            self.stocks[key] = _Stock(b["count"], ids, e.seq)
            return
        base = self.stocks.get(key)
        if base is None:
            return  # reported by supplement_allowed
        if ids is not None and base.ids is not None and ids & base.ids:
            self.fail(
                "V8",
                "stock.supplement_overlap",
                "补印的选票标识与本轮已登记的重复",
                "a supplementary ballot id repeats one already committed for the round",
                e,
            )
        merged = None if ids is None or base.ids is None else base.ids | ids
        self.stocks[key] = _Stock(base.count + b["count"], merged, base.seq)
        self.stock_parts[key] = part

    def supplement_allowed(self, e: LogEntry, key: tuple[str, int], part: int) -> None:  # (V8)
        """A supplementary print follows the round's stock, before its ballots are issued, as
        the round's next part (spec/ballot-qr.md §4.4)."""
        o = self.open
        if key not in self.stocks or (
            o is not None and (o.post, o.number) == key and o.issued is not None
        ):
            self.fail(
                "V8",
                "stock.supplement_order",
                "补印的选票批次须在本轮选票登记之后、发票之前",
                "a supplementary stock must follow the round's stock and precede its issue",
                e,
            )
            return
        want = self.stock_parts.get(key, 1) + 1
        if part != want:
            self.fail(
                "V8",
                "stock.supplement_part",
                "补印批次编号不连续",
                "supplementary parts are not numbered 2, 3, ...",
                e,
                expected=str(want),
                found=str(part),
            )

    def check_due(self, e: LogEntry, due: _Due | None, fields: Mapping[str, Any]) -> bool:
        if due is None:
            self.fail(
                "V11",
                "round.not_due",
                "所有职位均已选出，不应再开轮次",
                "no round is due: every post is finished",
                e,
            )
            return False
        if due.blocked:
            self.fail(
                "V11",
                due.blocked,
                "选举处于阻塞状态，不能开此轮次",
                f"no round can open: {due.blocked}",
                e,
                expected="a recorded decision first",
                found=f"{fields.get('post')} round {fields.get('round')}",
            )
            return False
        want = {
            "post": due.post,
            "round": due.number,
            "purpose": due.purpose,
            "candidates": list(due.candidates),
            "seats": due.seats,
            "body": due.body,
            "expected": due.expected,
        }
        ok = True
        for k, w in want.items():
            if k in fields and fields[k] != w:
                self.fail(
                    "V11",
                    "round.not_due",
                    f"轮次与规则应开的轮次不符（{k}）",
                    f"round differs from the round due ({k})",
                    e,
                    expected=str(w),
                    found=str(fields[k]),
                )
                ok = False
        return ok

    def quorum_holds(
        self, e: LogEntry, body: str, present: int, present_members: list[str]
    ) -> bool:
        if body == "assembly":
            remote = self.remote_in_quorum()  # (V18.11) RM-9.3
            casts = len(self.rm.casts)
            self.present_ok = present == len(self.present) + remote and not present_members
            if not self.present_ok:
                self.fail(
                    "V11",
                    "round.present",
                    "实到人数与签到记录不符"
                    + (f"（远程投票 {remote} 张计入）" if remote else "")
                    + ("（远程投票不计入）" if casts and not remote else ""),
                    "present differs from attendance"
                    + (f" plus {remote} remote casts (RM-9.3)" if remote else "")
                    + (" (remote casts do not count, RM-9.3)" if casts and not remote else ""),
                    e,
                    expected=str(len(self.present) + remote),
                    found=str(present),
                    rule="V18.11" if casts else "",
                )
            return rules.quorum(present, self.E, self.d.parameters.quorum_comparison)
        self.present_ok = True  # plenary: R12 against the logged present, as before
        committee = self.posts["committee"].elected if "committee" in self.posts else []
        if (
            len(set(present_members)) != len(present_members)
            or any(x not in committee for x in present_members)
            or present != len(present_members)
        ):
            self.fail(
                "V11",
                "round.present_members",
                "出席委员名单无效",
                "present_members invalid (elected committee, no repeats)",
                e,
                found=str(present_members),
            )
        return rules.plenary_quorum(present, self.committee_size())

    def quorum_failed(self, e: LogEntry) -> None:  # (V11)
        b = e.body
        if self.open is not None:
            self.fail("V11", "round.order", "上一轮尚未结束", "a round is still open", e)
        due = self.due()
        self.check_due(e, due, b)
        members = list(b["present_members"])
        if due is not None:
            self.v.rounds.append(
                RoundLine(
                    post=due.post,
                    number=due.number,
                    status="quorum_failed",
                    purpose=due.purpose,
                    body=due.body,
                    seats=due.seats,
                    candidates=due.candidates,
                    expected=due.expected,
                    present=b["present"],
                    revote_of=self.voided.get(due.post),
                )
            )
        if due is not None and self.quorum_holds(e, due.body, b["present"], members):
            self.fail(
                "V11",
                "round.quorum_failed_wrongly",
                "法定人数实际已满足",
                "quorum_failed recorded but the quorum holds",
                e,
                found=str(b["present"]),
            )

    def double_entry_set(self, e: LogEntry) -> None:  # (V14) log.md §2.3
        mode = e.body["mode"]
        if mode == self.double_entry:
            self.fail(
                "V14",
                "double_entry.unchanged",
                f"双人录入已经是 {mode}，记录没有改变录入方式",
                f"double_entry.set to {mode}, the mode already in force",
                e,
            )
        self.double_entry = mode

    def officials_changed(self, e: LogEntry) -> None:  # (V14) R25.1
        b = e.body
        if self.open is not None:
            self.fail(
                "V14",
                "decision.during_round",
                "轮次进行中不得记录决定",
                "decision recorded while a round is open",
                e,
            )
        scr, tel = tuple(b["scrutineers"]), tuple(b["tellers"])
        if not scr or not tel:
            self.fail(
                "V14", "officials.missing", "缺少监票人或计票人", "officials missing (R25)", e
            )
        for x in sorted(set(scr) | set(tel)):
            if x not in self.roster:
                self.fail(
                    "V14",
                    "member.unknown",
                    "监票人或计票人不在名册中",
                    "official not on the roster",
                    e,
                    found=x,
                )
        for role in (scr, tel):
            for x in sorted({y for y in role if role.count(y) > 1}):
                self.fail(
                    "V14",
                    "official.duplicate",
                    "同一人在名单中重复",
                    "an official is listed twice (R25)",
                    e,
                    found=x,
                )
        for x in sorted(set(scr) & set(tel)):
            self.fail(
                "V14",
                "official.both_roles",
                "同一人不得兼任监票人和计票人",
                "member holds both roles (R25)",
                e,
                found=x,
            )
        self.scrutineers, self.tellers = scr, tel
        self.officials = set(scr) | set(tel)

    def check_officials(self, e: LogEntry) -> None:  # (V11) R25.2
        b = e.body
        for x in sorted(self.officials & set(b["candidates"])):
            self.fail(
                "V11",
                "official.is_candidate",
                "本轮的监票人或计票人是本轮候选人",
                "an official of the round is one of its candidates (R25)",
                e,
                found=x,
            )
        committee = self.posts["committee"].elected if "committee" in self.posts else []
        for x in self.scrutineers:
            if b["body"] == "plenary" and x not in committee:
                self.fail(
                    "V11",
                    "official.not_committee_member",
                    "委员会全体会议的监票人不是新一届委员",
                    "a plenary round's scrutineer is not a committee member (R25)",
                    e,
                    found=x,
                )
            if b["body"] == "assembly" and x not in self.present:
                self.fail(
                    "V11",
                    "official.not_present",
                    "党员大会轮次的监票人未到会",
                    "an assembly round's scrutineer is not checked in (R25)",
                    e,
                    found=x,
                )

    def joint_opened(self, e: LogEntry) -> None:  # (V11) R22.2
        b, o = e.body, self.open
        due = self.joining.pop(0)
        self.check_due(e, due, b)
        assert o is not None
        if b["present"] != o.present or b["present_members"]:
            self.fail(
                "V11",
                "joint.present",
                "联合投票各轮次的实到人数须与委员选举轮次相同",
                "a round of the joint opening has another present count than the committee's",
                e,
                expected=str(o.present),
                found=str(b["present"]),
            )
        h = _Open(
            b["post"],
            b["round"],
            b["purpose"],
            tuple(b["candidates"]),
            b["seats"],
            b["body"],
            o.present,
            self.committee_size(),
            e.seq,
            paper=o.paper,
        )
        self.held.append(h)
        self.remote_round_opened(e, h)

    def joint_due(self) -> list[_Due]:
        """(R22.2) The first rounds that open with the committee's first round."""
        if not self.direct or any(st.held or st.elected for st in self.posts.values()):
            return []
        out = []
        for post in ("secretary", "deputy_secretary"):
            st = self.posts.get(post)
            if st is not None and st.pending is not None:
                purpose, cands, seats, body = st.pending
                out.append(_Due(post, 1, purpose, cands, seats, body, self.E))
        return out

    def round_opened(self, e: LogEntry) -> None:  # (V11)
        b = e.body
        if self.joining:
            self.joint_opened(e)
            return
        if self.open is not None:
            self.fail("V11", "round.order", "上一轮尚未结束", "a round is still open", e)
        due = self.due()
        self.check_due(e, due, b)
        self.check_officials(e)
        if not self.quorum_holds(e, b["body"], b["present"], list(b["present_members"])):
            self.fail(
                "V11",
                "round.quorum",
                "法定人数不足却开了轮次",
                "round opened without its quorum (R5/R6)",
                e,
                found=f"present {b['present']}, expected {b['expected']}",
            )
        self.open = _Open(
            b["post"],
            b["round"],
            b["purpose"],
            tuple(b["candidates"]),
            b["seats"],
            b["body"],
            b["present"],
            self.committee_size(),
            e.seq,
            # R12 is judged against a present V11 accepted; otherwise V11 has reported it.
            paper=(len(self.present) if b["body"] == "assembly" else b["present"])
            if self.present_ok
            else None,
        )
        if b["post"] == "committee":
            self.joining = self.joint_due()
        self.remote_round_opened(e, self.open)

    def round_entry(self, e: LogEntry, record: bytes = b"") -> None:
        b, t, o = e.body, e.type, self.open
        if t in ("ballots.issued", "ballots.returned", "round.void"):  # (R22.2) held rounds too
            o = next((h for h in self.held if (h.post, h.number) == (b["post"], b["round"])), o)
        if o is None or (b["post"], b["round"]) != (o.post, o.number):
            self.fail(
                "V11",
                "round.order",
                "该条目不属于当前进行中的轮次",
                f"{t} for a round that is not open",
                e,
            )
            return
        if o.stage not in _ROUND_ORDER[t]:
            self.fail(
                "V11", "round.order", "轮次内条目顺序错误", f"{t} out of order (after {o.stage})", e
            )
        if t == "ballots.issued":
            o.stage, o.issued = "issued", b["count"]
            stock = self.stocks.get((o.post, o.number))
            if stock is None:
                self.fail(
                    "V11",
                    "stock.missing",
                    "发票前没有登记选票批次",
                    "no stock committed before ballots.issued",
                    e,
                )
            elif stock.count < b["count"]:
                self.fail(
                    "V11",
                    "stock.too_small",
                    "发出选票多于批次张数",
                    "more ballots issued than printed",
                    e,
                    expected=f"<= {stock.count}",
                    found=str(b["count"]),
                )
            if o.paper is not None and b["count"] != o.paper:  # (V12) paper voters (RM-9.3)
                self.fail(
                    "V12",
                    "round.issued_not_present",
                    "发出选票数不等于实到人数",
                    "issued differs from present (R12)",
                    e,
                    expected=str(o.paper),
                    found=str(b["count"]),
                )
        elif t == "ballots.returned":
            o.stage, o.returned = "returned", b["count"]
        elif t == "ballot.entered":
            self.ballot_entered(e, o, record)
        elif t == "ballot.declared_invalid":
            self.ballot_declared_invalid(e, o)
        elif t == "ballot.withdrawn":
            bid = b["ballot_id"]
            if bid in o.ids:
                o.ids[bid] -= 1
                if not o.ids[bid]:
                    del o.ids[bid]
            if not o.entries or o.entries[-1][1]["ballot_id"] != bid:
                self.fail(
                    "V9",
                    "ballot.withdraw_not_last",
                    "撤回的不是本轮最后一张未撤回的选票",
                    "ballot.withdrawn does not withdraw the last entry of its round",
                    e,
                    ballot_id=b["ballot_id"],
                )
                for i in range(len(o.entries) - 1, -1, -1):
                    if o.entries[i][1]["ballot_id"] == b["ballot_id"]:
                        del o.entries[i]
                        break
            elif "reason" in o.entries.pop()[1]:
                o.decided -= 1
        elif t == "round.void":
            self.round_void(e, o)
        else:
            self.round_counted(e, o)

    def ballot_entered(self, e: LogEntry, o: _Open, record: bytes = b"") -> None:  # (V9)
        b = e.body
        bid = b["ballot_id"]
        where = {"ballot_id": bid}
        if o.issued is not None and o.returned is not None and o.returned > o.issued:
            self.fail(
                "V12",
                "round.void_has_ballots",
                "收回多于发出的轮次不得录入选票",
                "ballot entered in a void round (R11)",
                e,
                **where,
            )
        marks = b["marks"]
        if len(marks) != len(o.candidates) or marks.strip(_MARKS):
            self.fail(
                "V9",
                "ballot.shape",
                "选票标记数量或符号无效",
                "marks: one of o x - ? per candidate (R7.2)",
                e,
                expected=f"{len(o.candidates)} marks",
                found=marks,
                **where,
            )
        # More write-ins than rows is an invalid ballot (R9.5), judged in V13, not a bad entry.
        for w in b["write_ins"]:
            if w["mark"] not in ("o", "-") or (w["member"] and w["member"] not in self.roster):
                self.fail(
                    "V9",
                    "ballot.write_in",
                    "另选他人格式无效",
                    "write-in mark or member invalid",
                    e,
                    found=str(w),
                    **where,
                )
        self.paper_of_the_round(e, o, bid, where)
        o.entries.append((e.seq, b, record))
        o.entered_total += 1

    def paper_of_the_round(
        self, e: LogEntry, o: _Open, bid: str, where: dict[str, Any]
    ) -> None:  # (V9)
        """A paper with a QR, entered or declared invalid: its QR text normalised (Q1), its id in
        the round's stock and not used before in the round."""
        if normalise_qr_text(e.body["qr"]) != e.body["qr"]:
            self.fail(
                "V9",
                "ballot.qr_not_normalised",
                "二维码文本未按 Q1 规范化",
                "qr is not the Q1-normalised text",
                e,
                **where,
            )
        stock = self.stocks.get((o.post, o.number))
        if stock is None or stock.ids is None or bytes.fromhex(bid) not in stock.ids:
            self.fail(
                "V9",
                "ballot.not_in_stock",
                "选票标识不在本轮登记的批次中",
                "ballot id not in the stock of its round",
                e,
                **where,
            )
        if bid in o.ids:
            self.fail(
                "V9", "ballot.duplicate", "同一选票重复录入", "ballot id entered twice", e, **where
            )
        o.ids[bid] = o.ids.get(bid, 0) + 1

    def ballot_declared_invalid(self, e: LogEntry, o: _Open) -> None:  # (V9) R8.5
        b = e.body
        bid = b["ballot_id"]
        where = {"ballot_id": bid} if bid else {}
        if o.issued is not None and o.returned is not None and o.returned > o.issued:
            self.fail(
                "V12",
                "round.void_has_ballots",
                "收回多于发出的轮次不得录入选票",
                "ballot entered in a void round (R11)",
                e,
                **where,
            )
        if b["reason"] not in _INVALID_REASONS:
            self.fail(
                "V9",
                "ballot.invalid_reason",
                "无效票理由不在可选范围内",
                "reason is not one of R8.5",
                e,
                found=_short(b["reason"]),
                **where,
            )
        if (bid == "") != (b["qr"] == "") or (bid and b["reason"] == "not_official_stock"):
            self.fail(
                "V9",
                "ballot.invalid_qr",
                "无效票的二维码与选票标识不一致，或“非正式选票”带有二维码",
                "ballot_id and qr must both be given or both be empty, and empty for "
                "not_official_stock (R8.5)",
                e,
                **where,
            )
        key = {k.signer_name: k for k in self.m.scrutineers}.get(b["scrutineer"])
        signature = b64decode_canonical(b["signature"], 64)
        message = _jcs(
            {
                "election_id": self.m.election_id.hex(),
                "seq": e.seq,
                "post": b["post"],
                "round": b["round"],
                "ballot_id": bid,
                "qr": b["qr"],
                "reason": b["reason"],
            }
        )
        confirmed = key is not None and signature is not None
        if key is not None and signature is not None:
            try:
                verify_signature(key.key, _INVALID_DOMAIN, message, signature)
            except VerificationError:
                confirmed = False
        if not confirmed:
            self.fail(
                "V9",
                "ballot.invalid_confirmation",
                "无效票没有本次选举清单中监票人的有效确认签名",
                "no valid confirmation by a scrutineer key of the manifest (R8.5)",
                e,
                found=_short(b["scrutineer"]),
                **where,
            )
        if bid:
            self.paper_of_the_round(e, o, bid, where)
        o.entries.append((e.seq, b, b""))
        o.entered_total += 1
        o.decided += 1

    def close_round(self, o: _Open) -> None:
        st = self.posts[o.post]
        st.held += 1
        # Ballots declared invalid without a QR (R8.5) have no id and no QR to check.
        with_qr = [x for x in o.entries if x[1]["ballot_id"]] if o.decided else o.entries
        self.ids.add_round((bytes.fromhex(x[1]["ballot_id"]), x[0]) for x in with_qr)
        self.qr.add_round(KIND_BYTES[o.post], o.number, with_qr)
        match = self.records.match
        for seq, body, record in o.entries:
            match(seq, record or _record_bytes(seq, body), body["ballot_id"])
        self.v.ballots += len(o.entries)
        self.stocks.pop((o.post, o.number), None)
        if o in self.held:  # (R22.2) a held round of the joint opening, VOID
            self.held.remove(o)
        else:
            self.open = None

    def round_void(self, e: LogEntry, o: _Open) -> None:  # (V12)
        b = e.body
        if o.issued is None or o.returned is None or not o.returned > o.issued:
            self.fail(
                "V12",
                "round.void_invalid",
                "收回选票不多于发出，不应宣布无效",
                "round.void but returned <= issued (R11)",
                e,
            )
        if (b["issued"], b["returned"]) != (o.issued, o.returned):
            self.fail(
                "V12",
                "round.void_counts",
                "无效轮次记录的票数不符",
                "round.void counts differ",
                e,
                expected=f"{o.issued}/{o.returned}",
                found=f"{b['issued']}/{b['returned']}",
            )
        if o.entries:
            self.fail(
                "V12",
                "round.void_has_ballots",
                "无效轮次不得录入选票",
                "ballots entered in a void round",
                e,
            )
        o.entries = []
        o.ids = {}
        self.note_round(o, "void")
        self.voided[o.post] = o.number
        self.posts[o.post].pending = (o.purpose, o.candidates, o.seats, o.body)
        self.close_round(o)

    def round_counted(self, e: LogEntry, o: _Open) -> None:  # (V12), (V13)
        b = e.body
        self.remote_round_counted(e, o)
        if o.issued is not None and o.returned is not None and o.returned > o.issued:
            self.fail(
                "V12",
                "round.void_counted",
                "收回多于发出的轮次应宣布无效",
                "returned > issued but the round was counted (R11)",
                e,
            )
        if o.returned is not None and len(o.entries) != o.returned:
            self.fail(
                "V12",
                "round.entered_not_returned",
                "计入的选票数不等于收回数",
                "counted ballots differ from returned (R12)",
                e,
                expected=str(o.returned),
                found=str(len(o.entries)),
            )
        n_cands = len(o.candidates)
        shapes_ok = all(
            "reason" in x[1] or (len(x[1]["marks"]) == n_cands and not x[1]["marks"].strip(_MARKS))
            for x in o.entries
        )
        recount: Mapping[str, Any] | None = None
        if shapes_ok:
            runoff = o.purpose == "runoff"
            ok = self.write_in_eligible(o)
            # judge_ballot is a pure function of the marks and write-ins within a round, so
            # identical ballots share one verdict (memory: at most one per distinct ballot).
            memo: dict[tuple[str, tuple[tuple[str, str], ...]], rules.BallotVerdict] = {}
            verdicts = []
            for x in o.entries:
                if "reason" in x[1]:  # (R8.5) invalid by a confirmed decision
                    verdicts.append(_DECIDED_INVALID)
                    continue
                marks, written = x[1]["marks"], x[1]["write_ins"]
                wis = tuple((w["member"], w["mark"]) for w in written) if written else ()
                verdict = memo.get((marks, wis))
                if verdict is None:
                    verdict = memo[marks, wis] = rules.judge_ballot(
                        marks=marks,
                        write_ins=wis,
                        candidates=o.candidates,
                        seats=o.seats,
                        params=self.d.parameters,
                        write_in_eligible=ok,
                        runoff=runoff,
                    )
                verdicts.append(verdict)
            if o.remote:  # (V18.9) RM-9.2: each remote ballot's post part, judged like paper
                for part in self.rm.parts(o.post, self.roster):
                    verdicts.append(
                        rules.judge_ballot(
                            marks=part[0],
                            write_ins=part[1],
                            candidates=o.candidates,
                            seats=o.seats,
                            params=self.d.parameters,
                            write_in_eligible=ok,
                            runoff=runoff,
                        )
                    )
            if o.body == "plenary":
                base = o.committee_size
            elif self.d.parameters.threshold_base == "P":
                base = o.present
            else:
                base = self.E
            st = self.posts[o.post]
            dropped = [  # (R22.3) listed but unable to take the post at the count
                c
                for c in o.candidates
                if o.post != "committee" and (not self.can_take(o.post, c) or c in st.elected)
            ]
            want = rules.count_round(
                verdicts=verdicts,
                candidates=o.candidates,
                seats=o.seats,
                base=base,
                runoff=runoff,
                dropped=dropped,
            ).as_body(o.post, o.number)
            recount = want
            if ("dropped" in want) != ("dropped" in b):
                self.fail(
                    "V13",
                    "count.dropped",
                    "计票结果中退出的候选人与重新计算不符",
                    "round.counted dropped differs from the recount (R22.3)",
                    e,
                    expected=_short(want.get("dropped", [])),
                    found=_short(b.get("dropped", [])),
                )
            for k, w in want.items():
                if k in b and b[k] != w:
                    self.fail(
                        "V13",
                        f"count.{k}",
                        f"计票结果的 {k} 与重新计算不符",
                        f"round.counted {k} differs from the recount",
                        e,
                        expected=_short(w),
                        found=_short(b[k]),
                    )
        st = self.posts[o.post]
        votes = [(a["member"], a["approvals"]) for a in b["approvals"]]
        line = self.note_round(
            o,
            "counted",
            recount or b,
            remote=b.get("remote_ballots"),
            recounted=recount is not None,
        )
        shown = dict(votes) | dict(line.approvals)
        for m in rules.election_order(votes, b["elected"]):
            if m not in st.elected:
                st.elected.append(m)
                self.v.elected_persons.append(ElectedPerson(o.post, m, o.number, shown.get(m, 0)))
        st.pending = ("runoff", tuple(b["tied"]), b["tied_seats"], o.body) if b["tied"] else None
        self.close_round(o)

    def note_round(
        self,
        o: _Open,
        status: str,
        count: Mapping[str, Any] | None = None,
        *,
        remote: int | None = None,
        recounted: bool = True,
    ) -> RoundLine:
        """Add a closed round to the report's listing (spec/bundle.md §6, the round listing).

        ``count`` is the counted round's numbers: the verifier's recount, else the logged body.
        """
        plenary = o.body == "plenary"
        numbers: dict[str, Any] = {}
        if count is not None:
            numbers = {
                "valid": count["valid_ballots"],
                "invalid": count["invalid_ballots"],
                "remote": remote,
                "base_kind": "N" if plenary else self.d.parameters.threshold_base,
                "base": count["base"],
                "minimum": count["minimum"],
                "approvals": tuple((a["member"], a["approvals"]) for a in count["approvals"]),
                "elected": tuple(count["elected"]),
                "tied": tuple(count["tied"]),
                "tied_seats": count["tied_seats"],
                "shortfall": count["shortfall"],
                "dropped": tuple(count.get("dropped", ())),
                "recounted": recounted,
            }
        line = RoundLine(
            post=o.post,
            number=o.number,
            status=status,
            purpose=o.purpose,
            body=o.body,
            seats=o.seats,
            candidates=o.candidates,
            expected=o.committee_size if plenary else self.E,
            present=o.present,
            issued=o.issued,
            returned=o.returned,
            revote_of=self.voided.pop(o.post, None),
            **numbers,
        )
        self.v.rounds.append(line)
        return line

    def decision(self, e: LogEntry) -> None:  # (V14)
        b = e.body
        post = b["post"]
        st = self.posts.get(post)
        if self.open is not None:
            self.fail(
                "V14",
                "decision.during_round",
                "轮次进行中不得记录决定",
                "decision recorded while a round is open",
                e,
            )
        if st is None:
            self.fail(
                "V14",
                "decision.unknown_post",
                "决定针对未设置的职位",
                "decision for a post the election does not have",
                e,
            )
            return
        if e.type == "seats.reduced":
            if not b["town_agreement"].strip():
                self.fail(
                    "V14",
                    "reduction.no_town_reference",
                    "减少名额缺少镇党委同意的文号",
                    "seat reduction lacks the town reference",
                    e,
                )
            open_seats = st.seats - len(st.elected)
            if st.held == 0 or open_seats <= 0 or st.pending is not None:
                self.fail(
                    "V14",
                    "reduction.not_after_shortfall",
                    "减少名额只能在差额不足之后",
                    "reduction not after a shortfall (R17)",
                    e,
                )
            codes = rules.seat_reduction_problems(
                post,
                elected=len(st.elected),
                seats=st.seats,
                new=b["seats"],
                consent=b["assembly_consent"],
                e=self.E,
            )
            if "reduction.bad_number" in codes:
                low = max(len(st.elected), rules.MIN_COMMITTEE_SEATS if post == "committee" else 1)
                self.fail(
                    "V14",
                    "reduction.bad_number",
                    "减少后的名额无效（委员会不少于 3 名，其他职位不少于 1 名，"
                    "且不少于已当选人数）",
                    "reduced seats out of range (R17: a committee keeps 3, any post 1, and the "
                    "elected)",
                    e,
                    expected=f"{low}..{st.seats - 1}",
                    found=str(b["seats"]),
                )
            if "reduction.no_majority" in codes:
                self.fail(
                    "V14",
                    "reduction.no_majority",
                    "同意人数未过应到会人数半数，或多于应到会人数",
                    "consent is not a majority of E, or exceeds E (R17: 2c > E, c <= E)",
                    e,
                    expected=f"> {self.E // 2} and <= {self.E}",
                    found=str(b["assembly_consent"]),
                )
            st.seats = b["seats"]
        else:
            self.amended(e, post, st)

    def amended(self, e: LogEntry, post: str, st: _PostState) -> None:  # (V14) RS7
        b = e.body
        if not b["town_approval"].strip():
            self.fail(
                "V14",
                "amend.no_town_reference",
                "候选人名单缺少镇党委批准文号",
                "amended list lacks the town reference",
                e,
            )
        due = self.due()
        allowed = (
            due is not None
            and due.post == post
            and (
                due.blocked in AMENDABLE_BLOCKS
                or (not due.blocked and due.purpose == "further" and st.pending is None)
            )
        )
        if not allowed:
            self.fail(
                "V14",
                "amend.not_now",
                "此时不得调整该职位的候选人名单（仅在轮次因候选人不足无法进行或另行选举时）",
                "amended list outside the moments RS7 allows (blocked round or further round)",
                e,
            )
        if b["round"] != st.held + 1:
            self.fail(
                "V14",
                "amend.wrong_round",
                "名单所签的轮次不是该职位的下一轮",
                "the list is signed for another round of the post",
                e,
                expected=str(st.held + 1),
                found=str(b["round"]),
            )
        signed = {
            "format": "amended-list/1",
            "election_id": self.m.election_id.hex(),
            "post": post,
            "round": b["round"],
            "candidates": list(b["candidates"]),
            "town_approval": b["town_approval"],
        }
        sig = b64decode_canonical(b["town_signature"], 64)
        town = self.v.town_raw
        try:
            ok = sig is not None and town is not None
            if sig is not None and town is not None:
                verify_signature(town, AMENDED_LIST_DOMAIN, _jcs(signed), sig)
        except VerificationError:
            ok = False
        if not ok:
            self.fail(
                "V14",
                "amend.not_signed",
                "调整后的候选人名单没有镇党委的有效签名",
                "the amended list's town committee signature does not verify",
                e,
            )
        cands = list(b["candidates"])
        if len(set(cands)) != len(cands) or not cands:
            self.fail(
                "V14",
                "amend.not_eligible",
                "候选人名单为空或重复",
                "amended list empty or repeated",
                e,
            )
        block = self.d.parameters.qualification_policy == "block"
        for c in cands:
            member = self.roster.get(c)
            if (
                member is None
                or c not in self.eligible
                or c in self.excluded
                or c in st.elected
                or not self.can_take(post, c)
            ):
                self.fail(
                    "V14",
                    "amend.not_eligible",
                    "名单中有不能担任该职务的人",
                    "amended list names a member who may not take the post (RS7, R30)",
                    e,
                    found=c,
                )
                continue
            if c in self.officials:
                self.fail(
                    "V14",
                    "amend.official",
                    "名单中有本轮的监票人或计票人",
                    "amended list names an official of the round (R25)",
                    e,
                    found=c,
                )
            if post == "secretary" and block:
                for code in rules.member_qualification_problems(self.d, member):
                    self.fail(
                        "V14",
                        code,
                        "名单中的书记候选人不符合任职条件",
                        "an amended secretary candidate fails the qualifications (R27)",
                        e,
                        found=c,
                    )
        n, open_seats = len(set(cands)), st.seats - len(st.elected)
        if st.held == 0 and not st.elected:
            margin = "20pct" if post == "committee" else st.margin
            if cands and not rules.margin_ok(n, open_seats, margin):
                self.fail(
                    "V14",
                    "post.margin",
                    "调整后的名单差额不足",
                    "the amended first-round list breaks the margin (R18, R19)",
                    e,
                    found=str(n),
                )
        elif cands and n < open_seats:
            self.fail(
                "V14",
                "amend.too_few",
                "另行选举的候选人少于空缺名额",
                "fewer candidates than open seats (R16)",
                e,
                expected=f">= {open_seats}",
                found=str(n),
            )
        st.candidates = tuple(cands)

    def result(self, e: LogEntry) -> None:  # (V15)
        self.result_seen = True
        self.v.result_entry = e
        if self.open is not None or self.due() is not None:
            self.fail(
                "V15",
                "result.unfinished",
                "仍有职位未选完就宣布结果",
                "election.result while a post is unfinished (RS8)",
                e,
            )
        want = {p: list(st.elected) for p, st in self.posts.items()}
        if dict(e.body["elected"]) != want:
            self.fail(
                "V15",
                "result.elected",
                "结果与重放的当选名单不符",
                "election.result elected differs from the replay",
                e,
                expected=_short(want),
                found=_short(e.body["elected"]),
            )
        self.v.elected = want

    # -------------------------------------------------------------- end

    def finish(self, count: int) -> None:
        self.v.entries = count
        if self.open is not None:
            self.fail(
                "V11",
                "round.unclosed",
                "日志结束时仍有轮次未结束",
                "the log ends with a round open",
                None,
                file="log.jsonl",
                seq=self.open.seq,
            )
            self.close_round(self.open)
        if not self.result_seen:
            self.fail(
                "V15",
                "result.missing",
                "日志中没有 election.result",
                "no election.result entry",
                None,
                file="log.jsonl",
            )
        self.remote_finish()
        self.qr.close()
        self.records.finish()
        for raw_id, seq, earlier in self.ids.repeats():  # (V9)
            self.fail(
                "V9",
                "ballot.duplicate",
                "同一选票标识在本次选举中出现两次",
                "ballot id appears twice in the election",
                None,
                file="log.jsonl",
                seq=seq,
                ballot_id=raw_id.hex(),
                expected="unique",
                found=f"also at seq {earlier}",
            )
        self.ids.close()
        for name in self.v.b.names():
            if _STOCK_PATH.fullmatch(name) and name not in self.stock_files_used:
                self.f.fail(
                    "V8",
                    "stock.unreferenced",
                    "批次文件没有对应的 stock.committed 或 stock.supplemented",
                    "stock file without a stock.committed or stock.supplemented",
                    file=name,
                )
        self.v.moments = self.moments
        self.v.roots = self.roots
        self.v.remote = self.rm
        self.v.structure_ok = self.structure_ok


# _year_dates, verify_bundle, _first_diff and _short moved to verifier/checks/publicity.py,
# run.py, result.py and common.py.
