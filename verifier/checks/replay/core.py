"""The replay: one streaming pass over ``log.jsonl`` (spec/bundle.md V6-V15, V18).

Each line is hashed as a Merkle leaf (spec/merkle.md M2) for the checkpoints (V7), parsed into a
``log-entry/1`` and chained (V6), then handed to the handler of its type (``HANDLERS``), which
applies the rules of its clause to the replay's state. After 1,000 lines that do not parse the
replay stops (spec/bundle.md §8).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from bisect import bisect_right
from collections.abc import Callable
from typing import Any, Final

from verifier import rules
from verifier.ballot_ids import BallotIds
from verifier.canonical import LOG_LINE_LIMIT, parse_canonical_checked
from verifier.checks.common import MAX_BAD_LINES
from verifier.checks.context import Context
from verifier.checks.replay import (
    attendance,
    ballots,
    count,
    decisions,
    outcome,
    remote,
    rounds,
    stock,
)
from verifier.checks.replay.ballots import Records, ballot_entered
from verifier.checks.replay.plain import take_run
from verifier.checks.replay.state import Due, Open, PostState, RemoteState, Stock
from verifier.checks.signatures import QrChecker
from verifier.errors import VerificationError
from verifier.lines import read_blocks
from verifier.merkle import IncrementalRoot
from verifier.model import POST_ORDER, LogEntry, Manifest
from verifier.parse import parse_ballot_entered, parse_log_entry
from verifier.parse.log import BALLOT_LINE
from verifier.remote import PostSpec

__all__ = ["HANDLERS", "ROUND_ORDER", "Replay", "ReplayStopped"]

# (V11) The stage an open round must be in for each of its entries.
ROUND_ORDER: Final = {
    "ballots.issued": ("opened",),
    "ballots.returned": ("issued",),
    "round.void": ("returned",),
    "ballot.entered": ("returned",),
    "ballot.declared_invalid": ("returned",),
    "ballot.withdrawn": ("returned",),
    "round.counted": ("returned",),
}


_FLUSH_AT: Final = 4096  # (V7) leaf hashes buffered before they go to the tree
_WINDOW: Final = 4096  # lines matched against BALLOT_LINE at a time


class ReplayStopped(Exception):
    """More than MAX_BAD_LINES log lines do not parse: the replay stops (bundle.md §8)."""


class Replay:
    """One streaming pass over ``log.jsonl``: V6 (entries), leaf hashes for V7, V8-V15, V18."""

    def __init__(self, v: Context, m: Manifest) -> None:
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
        self.posts = {p.post: PostState(p.seats, p.candidates, p.margin) for p in d.posts}
        # (R20, R21, R22) with a committee, secretary and deputy come from it, whatever the body
        self.from_committee = "committee" in self.posts
        self.direct = self.from_committee and d.elected_by == "direct"
        if self.direct:  # (R22.2) their first rounds are voted with the committee's
            for post in ("secretary", "deputy_secretary"):
                if post in self.posts:
                    st = self.posts[post]
                    st.pending = ("first", st.candidates, st.seats, "assembly")
        self.present: set[str] = set()
        self.open: Open | None = None
        self.joining: list[Due] = []  # (R22.2) rounds the joint opening must open next
        self.held: list[Open] = []  # (R22.2) rounds of the joint opening awaiting their count
        self.stocks: dict[tuple[str, int], Stock] = {}
        self.stock_parts: dict[tuple[str, int], int] = {}  # supplementary prints (V8)
        self.stock_files_used: set[str] = set()
        self.moments: list[tuple[str, int, int]] = []  # reason, size, seq
        self.roots: dict[int, bytes] = {}
        self.structure_ok = True
        self.result_seen = False
        self.ids = BallotIds()
        self.qr = QrChecker(self.f, m.work_group.key, m.election_id, v.jobs)
        self.records = Records(
            v.open_streamed("ballots.jsonl") if "ballots.jsonl" in v.b.names() else None, self.f
        )
        self.rm = RemoteState(
            posts=tuple(
                PostSpec(p.post, p.candidates, p.seats)
                for p in d.posts
                if self.body_kind(p.post) == "assembly"
            )
        )
        self.remote = remote.RemoteChecks(self)
        self.ever_checked_in: set[str] = set()
        self.present_ok = True
        self.voided: dict[str, int] = {}  # post -> its last round, while that round was VOID
        self.double_entry = "off"  # the station's entry mode (log.md §2.3, V14)
        # Performance: no joint opening under way, no result yet, no remote.not_counted awaited
        # and no held round to open: a ballot.entered goes straight to its handler (``apply``
        # keeps this up to date after every entry it replays).
        self.plain = False
        # (V6, V7) The pass over the log: the tree of the leaf hashes, which go to it in batches
        # (``IncrementalRoot.extend``), flushed at each checkpoint size so that its root is taken
        # at exactly that size; the next seq (the lines read so far), the previous leaf and time.
        self._tree = IncrementalRoot()
        self._leaves: list[bytes] = []
        self._wanted = v.checkpoint_sizes
        self._cuts: list[int] = sorted(self._wanted)
        self._seq = 0
        self._prev_hash = m.election_id.hex()
        self._prev_at: dt.datetime | None = None
        if "ballots.jsonl" not in v.b.names():
            self.f.fail(
                "V9",
                "bundle.missing_file",
                "缺少 ballots.jsonl",
                "ballots.jsonl is missing",
                file="ballots.jsonl",
            )

    # -------------------------------------------------------------- the state, read

    def fail(
        self, clause: str, code: str, zh: str, en: str, e: LogEntry | None = None, **kw: Any
    ) -> None:
        """Record a finding; with ``e``, at that entry of ``log.jsonl``."""
        if e is not None:
            kw.setdefault("seq", e.seq)
            kw.setdefault("file", "log.jsonl")
        self.f.fail(clause, code, zh, en, **kw)

    def moment(self, reason: str, e: LogEntry) -> None:
        """(V7) A checkpoint with ``reason`` must cover the log up to ``e`` (spec/log.md §3)."""
        self.moments.append((reason, e.seq + 1, e.seq))

    def body_kind(self, post: str) -> str:
        """(R21) Who votes for ``post``: the assembly, or the committee's plenary."""
        return "plenary" if post != "committee" and self.d.elected_by == "committee" else "assembly"

    def can_take(self, post: str, member: str) -> bool:
        """(R20, R22.3) Whether ``member`` may still take ``post``."""
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
        """N: the committee members elected so far."""
        return len(self.posts["committee"].elected) if "committee" in self.posts else 0

    def due(self) -> Due | None:
        """(RS1-RS7) The round the rules call for next, or None when every post is finished."""
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
                return Due(post, number, purpose, cands, seats, pbody, expected, blocked)
            open_seats = st.seats - len(st.elected)
            if open_seats <= 0:
                continue
            if number > 255:
                return Due(
                    post, number, "further", (), open_seats, body, expected, "rounds.exhausted"
                )
            if st.held == 0 and not st.elected:  # RS5
                cands = tuple(c for c in st.candidates if self.can_take(post, c))
                margin = "20pct" if post == "committee" else st.margin
                ok = rules.margin_ok(len(cands), st.seats, margin)
                return Due(
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
            return Due(post, number, "further", cands, open_seats, body, expected, blocked)
        return None

    def round_of(self, e: LogEntry, *, held: bool = False) -> Open | None:
        """(V11) The open round an entry of a round belongs to, in the order opened → issued →
        returned → (void | entered... → counted); None, reported, when that round is not open.

        With ``held``, also a round of the joint opening not yet open (R22.2): it may record
        issued, returned and void before it opens.
        """
        b, t, o = e.body, e.type, self.open
        if held:
            o = next((h for h in self.held if (h.post, h.number) == (b["post"], b["round"])), o)
        if o is None or (b["post"], b["round"]) != (o.post, o.number):
            self.fail(
                "V11",
                "round.order",
                "该条目不属于当前进行中的轮次",
                f"{t} for a round that is not open",
                e,
            )
            return None
        if o.stage not in ROUND_ORDER[t]:
            self.fail(
                "V11", "round.order", "轮次内条目顺序错误", f"{t} out of order (after {o.stage})", e
            )
        return o

    # -------------------------------------------------------------- the pass over the log

    def run(self) -> None:
        """(V6) Stream ``log.jsonl``: hash, parse and chain each line, replay each entry."""
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
        self._wanted = v.checkpoint_sizes
        self._cuts = sorted(v.checkpoint_sizes)
        with v.open_streamed("log.jsonl") as stream:
            try:
                for first, lines, problem in read_blocks(stream, LOG_LINE_LIMIT):
                    if problem:
                        self.line(first, lines[0], problem)
                    else:
                        self.block(first, lines)
            except VerificationError as e:
                self.f.error("V6", e, file="log.jsonl")
                self.structure_ok = False
            except ReplayStopped:  # (bundle.md §8)
                self.f.fail(
                    "V6",
                    "entry.too_many_bad_lines",
                    f"日志中超过 {MAX_BAD_LINES} 行无法解析，其余部分不再重放",
                    f"more than {MAX_BAD_LINES} log lines cannot be parsed: "
                    "the rest is not replayed",
                    file="log.jsonl",
                )
                v.replay_stopped = True
        self.finish(self._seq)

    def block(self, first: int, lines: list[bytes]) -> None:
        """Lines ``first``... of the log, none too long, ``_WINDOW`` at a time: each run of plain
        ballot lines at once (``plain.take_run``) while nothing else is due, every other line by
        ``line``. (Windows keep the matches' list small however short the lines are.)"""
        for start in range(0, len(lines), _WINDOW):
            window = lines[start : start + _WINDOW]
            try:
                matches = list(map(BALLOT_LINE.fullmatch, map(bytes.decode, window)))
            except UnicodeDecodeError:  # not UTF-8: line by line, where V6 reports it
                matches = [None] * len(window)
            self.window(first + start, window, matches)

    def window(self, first: int, lines: list[bytes], matches: list[Any]) -> None:
        """Lines ``first``... with their ``BALLOT_LINE`` matches (None: not a plain ballot line):
        each run of matched lines at once if it can be, else line by line."""
        i, end = 0, len(lines)
        while i < end:
            if matches[i] is None:  # not a plain ballot line
                self.line(first + i, lines[i], "")
                i += 1
                continue
            try:
                j = matches.index(None, i)
            except ValueError:
                j = end
            if not self.run_of_ballots(lines[i:j], matches[i:j]):
                for k in range(i, j):
                    self.line(first + k, lines[k], "")
            i = j

    def run_of_ballots(self, lines: list[bytes], matches: list[Any]) -> bool:
        """Consecutive plain ballot lines replayed at once, if ``plain.take_run`` finds every
        check holds; False, nothing replayed, for the caller to replay them line by line."""
        o = self.open
        if not self.plain or o is None or self._seq == 0:
            return False
        taken = take_run(
            self, o, lines, matches, seq=self._seq, prev_hash=self._prev_hash, prev_at=self._prev_at
        )
        if taken is None:
            return False
        leaves, self._prev_at = taken
        if self.v.progress is not None:
            self.v.progress(sum(map(len, lines)) + len(lines))
        self.add_leaves(leaves)
        self._prev_hash = leaves[-1].hex()
        return True

    def add_leaves(self, leaves: list[bytes]) -> None:
        """(V7) The leaf hashes of the next lines, with the tree's root at each checkpoint size
        among them."""
        start, end = self._seq, self._seq + len(leaves)
        cuts, pos = self._cuts, 0
        at = bisect_right(cuts, start)
        while at < len(cuts) and cuts[at] <= end:
            self._leaves.extend(leaves[pos : cuts[at] - start])
            pos = cuts[at] - start
            self._tree.extend(self._leaves)
            self._leaves.clear()
            self.roots[cuts[at]] = self._tree.root()
            at += 1
        self._leaves.extend(leaves[pos:] if pos else leaves)
        if len(self._leaves) >= _FLUSH_AT:
            self._tree.extend(self._leaves)
            self._leaves.clear()
        self._seq = end

    def line(self, n: int, raw: bytes, problem: str) -> None:
        """(V6) One line: hashed as a leaf (V7), parsed, chained and replayed."""
        if self.v.progress is not None:
            self.v.progress(len(raw) + 1)
        leaf = hashlib.sha256(b"\x00" + raw).digest()  # (M2)
        if problem or not raw:  # an empty line is refused before any JSON parse
            self.bad_line(n, problem or "empty")
        else:
            # (V6): the common ballot line in one step, else the general parse
            entry, record = parse_ballot_entered(raw, leaf) or (
                self.parse_line(raw, n, leaf),
                b"",
            )
            if entry is not None:
                seq, prev_at = self._seq, self._prev_at
                if (
                    entry.seq != seq
                    or entry.prev != self._prev_hash
                    or (prev_at is not None and entry.at < prev_at)
                    or seq == 0
                ):
                    self.check_chain(entry, seq, self._prev_hash, prev_at)
                self._prev_at = entry.at
                if record and self.plain:  # a ballot.entered with nothing else due
                    ballot_entered(self, entry, record)
                else:
                    self.apply(entry, record)
        self._leaves.append(leaf)  # (V7) the leaves of the checkpoints' trees
        self._seq += 1
        if self._seq in self._wanted or len(self._leaves) >= _FLUSH_AT:
            self._tree.extend(self._leaves)
            self._leaves.clear()
            if self._seq in self._wanted:
                self.roots[self._seq] = self._tree.root()
        self._prev_hash = leaf.hex()

    def bad_line(self, n: int, problem: str) -> None:
        """(V6) A line too long, empty or without its newline."""
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

    def count_bad_line(self) -> None:
        """(bundle.md §8) Stop after MAX_BAD_LINES lines that are not entries."""
        self.bad_lines += 1
        if self.bad_lines > MAX_BAD_LINES:
            raise ReplayStopped

    def check_chain(
        self, entry: LogEntry, expected_seq: int, prev_hash: str, prev_at: dt.datetime | None
    ) -> None:
        """(V6) seq, prev, at, entry 0; called only when one of them may fail."""
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

    def parse_line(self, raw: bytes, n: int, leaf: bytes) -> LogEntry | None:
        """(V6) A canonical ``log-entry/1`` with a known type and exactly its body members."""
        try:
            value, shaped = parse_canonical_checked(
                raw, clause="V6", path=f"log.jsonl:{n}", limit=LOG_LINE_LIMIT
            )
            return parse_log_entry(value, raw, n, leaf_hash=leaf, shape_checked=shaped)
        except VerificationError as e:
            self.f.error("V6", e, file="log.jsonl", seq=n - 1)
            self.structure_ok = False
            self.count_bad_line()
            return None

    # -------------------------------------------------------------- one entry

    def apply(self, e: LogEntry, record: bytes = b"") -> None:
        """Replay one entry; ``record`` is its ballot-record/1 bytes when already built."""
        t = e.type
        if self.joining and t != "round.opened":  # (V11) R22.2
            rounds.joint_incomplete(self, e)
        if self.result_seen:  # (V15)
            outcome.not_last(self, e)
        if self.rm.expect_not_counted is not None and t != "remote.not_counted":  # (V18.9)
            self.remote.not_counted_missing(e)
        if t == "ballot.entered":  # nearly every entry: straight to its handler
            ballot_entered(self, e, record)
        else:
            HANDLERS[t](self, e)
        if self.held and self.open is None:  # (V11) R22.2: a held round's turn to be counted
            due = self.due()
            h = self.held[0]
            if due is not None and (due.post, due.number) == (h.post, h.number):
                self.open = self.held.pop(0)
        # Whether the next ballot.entered needs none of the checks above (``run`` then calls its
        # handler directly). Only the handlers of other entry types change what they read.
        self.plain = not (
            self.joining
            or self.result_seen
            or self.rm.expect_not_counted is not None
            or (self.held and self.open is None)
        )

    # -------------------------------------------------------------- end

    def finish(self, entries: int) -> None:
        """The end of the log (``entries`` lines): what must have happened by then, and the
        state V7 and V15-V18 read."""
        self.v.entries = entries
        if self.open is not None:  # (V11)
            self.fail(
                "V11",
                "round.unclosed",
                "日志结束时仍有轮次未结束",
                "the log ends with a round open",
                None,
                file="log.jsonl",
                seq=self.open.seq,
            )
            rounds.close_round(self, self.open)
        if not self.result_seen:  # (V15)
            outcome.missing(self)
        self.remote.finish()  # (V18)
        ballots.finish(self)  # (V9)
        stock.unreferenced(self)  # (V8)
        self.v.moments = self.moments
        self.v.roots = self.roots
        self.v.remote = self.rm
        self.v.structure_ok = self.structure_ok


Handler = Callable[[Replay, LogEntry], None]
# (V6) Each entry type of spec/log.md §2 and spec/remote.md RM-8.1, and the handler replaying it.
HANDLERS: Final[dict[str, Handler]] = {
    "election.opened": outcome.election_opened,
    "stock.committed": stock.stock_committed,
    "stock.supplemented": stock.stock_supplemented,
    "member.checked_in": attendance.checked_in,
    "member.left": attendance.left,
    "round.quorum_failed": rounds.quorum_failed,
    "round.opened": rounds.round_opened,
    "ballots.issued": rounds.ballots_issued,
    "ballots.returned": rounds.ballots_returned,
    "round.void": rounds.round_void,
    "ballot.entered": ballot_entered,
    "ballot.declared_invalid": ballots.ballot_declared_invalid,
    "ballot.withdrawn": ballots.ballot_withdrawn,
    "round.counted": count.round_counted,
    "seats.reduced": decisions.seats_reduced,
    "candidates.amended": decisions.candidates_amended,
    "officials.changed": decisions.officials_changed,
    "double_entry.set": decisions.double_entry_set,
    "election.result": outcome.election_result,
    **remote.HANDLERS,
}
