"""Verification clauses V1-V19 of spec/bundle.md §6.

``verify_bundle`` runs every clause it can and never stops at the first failure: each clause
function below is marked ``# (Vn)`` and records findings (expected, found, where). A clause whose
inputs failed an earlier clause is reported as not checked. ``log.jsonl`` and ``ballots.jsonl``
are streamed line by line; QR signatures are checked in batches across processes.

V1 bundle, V2 town signature, V3 manifest, V4 expected electors, V5 candidate rules,
V6 log entries, V7 checkpoints, V8 stocks, V9 ballot records, V10 attendance,
V11 round sequence, V12 round validity, V13 count, V14 decisions, V15 result,
V16 final checkpoint, V17 publicity, V18 remote ballots (V18.1-V18.12 of spec/remote.md §13;
V18.10 is reported under V10 and V18.11 under V11, with the finer rule on each finding),
V19 public summary (the town's signature on the derivation of spec/manifest.md §6).
"""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import hashlib
import os
import re
from array import array
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from itertools import accumulate
from pathlib import Path
from typing import Any, Final, NamedTuple

from verifier import ed25519, rules, statutory
from verifier.ballot_ids import BallotIds
from verifier.bundle import (
    Bundle,
    HashingReader,
    hash_member,
    open_bundle,
    open_hashing,
    read_file,
)
from verifier.canonical import (
    LINE_LIMIT,
    canonical_bytes,
    parse_canonical,
    parse_canonical_checked,
)
from verifier.crypto import (
    PublicKey,
    b64decode_canonical,
    parse_pubkey_value,
    verify_signature,
)
from verifier.errors import VerificationError
from verifier.lines import LineReader, read_lines
from verifier.merkle import IncrementalRoot, MerkleProofError, verify_consistency
from verifier.model import POST_ORDER, Checkpoint, Definition, LogEntry, Manifest
from verifier.names import look_alike_names
from verifier.parse import (
    CHECKPOINT_DOMAIN,
    MANIFEST_DOMAIN,
    NEVER_ELECTOR_CATEGORIES,
    parse_ballot_entered,
    parse_checkpoint,
    parse_log_entry,
    parse_manifest,
    parse_signed_manifest,
)
from verifier.qr import (
    KIND_BYTES,
    check_qr,
    normalise_qr_text,
    qr_prefix,
    stock_commitment,
    unproven_common,
)
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
from verifier.report import (
    CLAUSES,
    ClauseResult,
    ElectedPerson,
    Finding,
    Report,
    RoundLine,
    Status,
)
from verifier.summary import PUBLIC_SUMMARY_DOMAIN, public_summary

__all__ = ["TownKey", "verify_bundle"]

AMENDED_LIST_DOMAIN: Final = b"branch-election/amended-list/1"  # spec/log.md §2.1
AMENDABLE_BLOCKS: Final = ("candidates.amended_list_needed", "further.too_few_candidates")

FIXED_FILES: Final = (
    "ballots.jsonl",
    "checkpoints.json",
    "log.jsonl",
    "manifest.json",
    "outcomes.json",
    "result.json",
)
OPTIONAL_FILES: Final = ("calendar.json",)  # the town's signed year file (R26.3), when supplied
CALENDAR_DOMAIN: Final = b"branch-election/calendar/1"
_PUBLICITY_DAYS: Final = (5, 60)  # (R26) at least 5 working days, at most 60
_STOCK_PATH: Final = re.compile(
    r"stocks/(committee|secretary|deputy_secretary)-([1-9][0-9]{0,2})(?:-([2-9]|[1-9][0-9]{1,2}))?\.json"
)
_KIND_NAMES: Final = {
    "committee": "committee",
    "secretary": "secretary",
    "deputy_secretary": "deputy",
}
FINDINGS_SHOWN: Final = 20  # per clause in full; then one per new code, the rest counted
# (bundle.md §8) A log or ballots.jsonl with more unparsable lines is not read further line by line:
# its clause has failed, and the rest is only hashed (V1), so hostile input costs bounded time.
MAX_BAD_LINES: Final = 1000
BATCH: Final = 1024  # ballots per worker task: small enough to even out the last ones
_ID_HEX: Final = re.compile(r"[0-9a-f]{32}")
# Files the replay streams through: V1 hashes them then rather than in a pass of its own.
_STREAMED: Final = frozenset({"log.jsonl", "ballots.jsonl"})
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
ProgressFn = Callable[[int], None]
# (V9) R8.5: a returned ballot entered as invalid by decision, confirmed by a scrutineer.
_INVALID_DOMAIN: Final = b"branch-election/invalid-ballot/1"
_INVALID_REASONS: Final = frozenset({"identifying_marks", "unreadable", "not_official_stock"})
_DECIDED_INVALID: Final = rules.BallotVerdict(valid=False, approvals=())


@dataclass(frozen=True, slots=True)
class TownKey:
    """The trust root: a ``pubkey/1`` key, or only its 25-digit fingerprint."""

    fingerprint: str
    key: PublicKey | None = None


# --------------------------------------------------------------------------- findings


class _Findings:
    """Findings per clause, bounded (spec/bundle.md §8): the first ``FINDINGS_SHOWN`` of a clause in
    full, then only the first of each further code; the rest are counted, so memory stays flat
    however many lines are bad."""

    def __init__(self) -> None:
        self.items: dict[str, list[Finding]] = {c: [] for c in CLAUSES}
        self.omitted: dict[str, int] = dict.fromkeys(CLAUSES, 0)
        self._codes: dict[str, set[str]] = {c: set() for c in CLAUSES}
        self.skipped: dict[str, tuple[str, str]] = {}
        self.warnings: list[Finding] = []  # reported, never a failure (D-5.3 names)

    def fail(self, clause: str, code: str, zh: str, en: str, **where: Any) -> None:
        kept = self.items[clause]
        if len(kept) >= FINDINGS_SHOWN and code in self._codes[clause]:
            self.omitted[clause] += 1
            return
        self._codes[clause].add(code)
        kept.append(Finding(clause=clause, code=code, zh=zh, en=en, **where))

    def error(self, clause: str, e: VerificationError, **where: Any) -> None:
        where.setdefault("path", e.path)
        self.fail(clause, e.code, e.zh, e.en, **where)

    def failed(self, clause: str) -> bool:
        return bool(self.items[clause])

    def clear(self, clause: str) -> None:
        self.items[clause] = []
        self.omitted[clause] = 0
        self._codes[clause] = set()

    def skip(self, clauses: tuple[str, ...] | list[str], zh: str, en: str) -> None:
        for c in clauses:
            if not self.items[c]:
                self.skipped.setdefault(c, (zh, en))

    def results(self) -> tuple[ClauseResult, ...]:
        out = []
        for c in CLAUSES:
            if self.items[c]:
                out.append(
                    ClauseResult(c, Status.FAILED, tuple(self.items[c]), omitted=self.omitted[c])
                )
            elif c in self.skipped:
                zh, en = self.skipped[c]
                out.append(ClauseResult(c, Status.NOT_CHECKED, (), zh, en))
            else:
                out.append(ClauseResult(c, Status.PASSED))
        return tuple(out)


def _after(*clauses: str) -> tuple[str, ...]:
    return tuple(c for c in CLAUSES if CLAUSES.index(c) > max(CLAUSES.index(x) for x in clauses))


# --------------------------------------------------------------------------- QR batches


class _QrBatch(NamedTuple):
    """Up to BATCH ballots of one round, as a few flat values so that sending one is cheap.

    Ballot ids are 32 hex characters each (V6 checked them), so ``ids`` holds them end to end;
    ``ends[i]`` is where the i-th QR text ends in ``texts``.
    """

    kind: int
    round: int
    seqs: list[int]
    ids: str
    texts: str
    ends: array[int]


_QrFailure = tuple[int, str, str, str, str, str]  # seq, ballot id, clause, code, zh, en


def _qr_batch(
    kind: int, rnd: int, entries: Sequence[tuple[int, Mapping[str, Any], bytes]]
) -> _QrBatch:
    texts = [body["qr"] for _, body, _ in entries]
    return _QrBatch(
        kind=kind,
        round=rnd,
        seqs=[seq for seq, _, _ in entries],
        ids="".join([body["ballot_id"] for _, body, _ in entries]),
        texts="".join(texts),
        ends=array("q", accumulate(map(len, texts))),
    )


def _check_qr_batch(batch: _QrBatch, key: bytes, election_id: bytes) -> list[_QrFailure]:
    """Worker: Q1-Q8 for each ballot of the batch, and the QR's id against the record's."""
    out = []
    loaded: bytes | ed25519.Ed25519Key = key  # if invalid, check_qr reports Q8 for each ballot
    with contextlib.suppress(ed25519.InvalidEd25519Error):
        loaded = ed25519.load_key(key)  # once per batch, not per ballot
    kind, rnd, texts, ids = batch.kind, batch.round, batch.texts, batch.ids
    # The common valid ballot in a few C calls; anything else takes check_qr (Q1-Q8 in order).
    fast = (
        loaded
        if isinstance(loaded, ed25519.Ed25519Key) and 0 < kind < 4 and 0 < rnd < 256
        else None
    )
    ends, seqs = batch.ends, batch.seqs
    if fast is None:
        slow: Iterable[int] = range(len(seqs))
    else:
        slow = unproven_common(
            texts, ends, bytes.fromhex(ids), qr_prefix(election_id, kind, rnd), fast
        )
    # check_qr gives the failure, or passes and the id mismatch is reported
    for i in slow:
        seq, qr, ballot_id = (
            seqs[i],
            texts[ends[i - 1] if i else 0 : ends[i]],
            ids[32 * i : 32 * i + 32],
        )
        try:
            ballot = check_qr(
                qr, public_key=loaded, election_id=election_id, kind=kind, round_number=rnd
            )
        except VerificationError as e:
            out.append((seq, ballot_id, e.clause, e.code, e.zh, e.en))
            continue
        if ballot.ballot_id.hex() != ballot_id:
            out.append(
                (
                    seq,
                    ballot_id,
                    "V9",
                    "ballot.qr_id_mismatch",
                    "二维码中的选票标识与记录不符",
                    f"QR ballot id {ballot.ballot_id.hex()} differs from the record",
                )
            )
    return out


class _QrChecker:
    """Feeds QR checks to a process pool in bounded batches (flat memory)."""

    def __init__(self, findings: _Findings, key: bytes, election_id: bytes, jobs: int) -> None:
        self._f = findings
        self._key = key
        self._eid = election_id
        self._jobs = max(1, jobs)
        self._pool: ProcessPoolExecutor | None = None
        self._pending: list[Future[list[_QrFailure]]] = []
        self.checked = 0

    def add_round(
        self, kind: int, rnd: int, entries: Sequence[tuple[int, Mapping[str, Any], bytes]]
    ) -> None:
        """Check the QR of each (seq, ballot.entered body, record) of one round."""
        for start in range(0, len(entries), BATCH):
            self._submit(_qr_batch(kind, rnd, entries[start : start + BATCH]))

    def _record(self, failures: list[_QrFailure]) -> None:
        for seq, bid, clause, code, zh, en in failures:
            self._f.fail(
                "V9",
                code,
                f"选票二维码未通过 {clause}：{zh}",
                f"ballot QR fails {clause}: {en}",
                file="log.jsonl",
                seq=seq,
                ballot_id=bid,
                expected=f"{clause} holds",
                found=code,
            )

    def _submit(self, batch: _QrBatch) -> None:
        self.checked += len(batch.seqs)
        if self._jobs == 1:
            self._record(_check_qr_batch(batch, self._key, self._eid))
            return
        if self._pool is None:
            self._pool = ProcessPoolExecutor(max_workers=self._jobs)
        self._pending.append(self._pool.submit(_check_qr_batch, batch, self._key, self._eid))
        # Keep about half a second of work queued per worker (the main process replays a round
        # of up to 5,000 ballots between submissions), and memory bounded.
        while len(self._pending) > 4 * self._jobs:
            self._record(self._pending.pop(0).result())

    def close(self) -> None:
        for fut in self._pending:
            self._record(fut.result())
        self._pending = []
        if self._pool is not None:
            self._pool.shutdown()


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
        self._it: Iterator[tuple[int, bytes, str]] = (
            LineReader(self._stream, LINE_LIMIT) if self._stream else iter(())
        )
        self._head: tuple[int, bytes, int | None] | None = None
        self.count = 0
        self._bad = 0

    def match_round(self, entries: Sequence[tuple[int, Mapping[str, Any], bytes]]) -> None:
        """``match`` for each (seq, body, record) of a round, in order; the common case (the
        records are the next lines, byte for byte) a chunk at a time (``LineReader.take``)."""
        it = self._it
        for start in range(0, len(entries), BATCH):
            chunk = entries[start : start + BATCH]
            expected = [record or _record_bytes(seq, body) for seq, body, record in chunk]
            if self._head is None and isinstance(it, LineReader) and it.take(expected):
                self.count += len(chunk)
                continue
            for (seq, body, _), want in zip(chunk, expected, strict=True):
                self.match(seq, want, body["ballot_id"])

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


class _Verifier:
    def __init__(
        self, bundle: Bundle, town: TownKey, jobs: int, progress: ProgressFn | None
    ) -> None:
        self.b = bundle
        self.town = town
        self.jobs = jobs
        self.progress = progress
        self.f = _Findings()
        self.index_files: dict[str, tuple[str, int]] = {}
        self.deferred_hashes: dict[str, str] = {}  # V1: path -> indexed SHA-256, for _STREAMED
        self.readers: dict[str, HashingReader] = {}
        self.index_doc: dict[str, Any] = {}
        self.manifest: Manifest | None = None
        self.town_raw: bytes | None = None  # the town key of the signed manifest, after V2
        self.entries = 0
        self.ballots = 0
        self.elected: dict[str, list[str]] = {}
        self.rounds: list[RoundLine] = []  # the report's round listing, in log order
        self.elected_persons: list[ElectedPerson] = []
        self.outcomes: list[bytes] = []
        self.result_entry: LogEntry | None = None
        self.checkpoints: list[tuple[Checkpoint, list[bytes]]] = []
        self.checkpoint_sizes: set[int] = set()
        self.moments: list[tuple[str, int, int]] = []
        self.roots: dict[int, bytes] = {}
        self.structure_ok = True
        self.remote: _RemoteState | None = None
        self.replay_stopped = False  # too many bad log lines: entries and roots are incomplete

    # ------------------------------------------------------------------ V1

    def check_index(self) -> None:  # (V1)
        f = self.f
        try:
            raw = read_file(self.b, "index.json", 16 * 1024 * 1024)
            doc = parse_canonical(raw, clause="V1", path="index.json")
        except VerificationError as e:
            f.error("V1", e, file="index.json")
            return
        if (
            not isinstance(doc, dict)
            or set(doc) != {"format", "election_id", "entries", "files"}
            or doc.get("format") != "bundle-index/1"
            or not isinstance(doc.get("files"), list)
            or type(doc.get("entries")) is not int
            or not isinstance(doc.get("election_id"), str)
        ):
            f.fail(
                "V1",
                "index.format",
                "index.json 不是 bundle-index/1",
                "index.json is not bundle-index/1",
                file="index.json",
            )
            return
        self.index_doc = doc
        paths = []
        for i, item in enumerate(doc["files"]):
            if (
                not isinstance(item, dict)
                or set(item) != {"path", "sha256", "size"}
                or not isinstance(item["path"], str)
                or not isinstance(item["sha256"], str)
                or re.fullmatch(r"[0-9a-f]{64}", item["sha256"]) is None
                or type(item["size"]) is not int
            ):
                f.fail(
                    "V1",
                    "index.format",
                    "索引文件条目格式错误",
                    "malformed index file entry",
                    file="index.json",
                    path=f"files[{i}]",
                )
                continue
            paths.append(item["path"])
            if item["path"] in self.index_files:
                f.fail(
                    "V1",
                    "index.duplicate",
                    "索引中路径重复",
                    "path listed twice in the index",
                    file="index.json",
                    path=item["path"],
                )
            self.index_files[item["path"]] = (item["sha256"], item["size"])
        if paths != sorted(paths):
            f.fail(
                "V1",
                "index.order",
                "索引文件未按路径排序",
                "index files not sorted by path",
                file="index.json",
            )
        for p in self.index_files:
            if (
                p not in FIXED_FILES
                and p not in OPTIONAL_FILES
                and _STOCK_PATH.fullmatch(p) is None
            ):
                f.fail(
                    "V1",
                    "index.unknown_file",
                    "索引列出了规范之外的文件",
                    "index lists a file the layout does not have",
                    file="index.json",
                    path=p,
                )
        for p in FIXED_FILES:
            if p not in self.index_files:
                f.fail(
                    "V1",
                    "index.missing_file",
                    "索引缺少必需文件",
                    "index does not list a required file",
                    file="index.json",
                    path=p,
                    expected=p,
                    found="absent",
                )
        present = set(self.b.names())
        for p in sorted(present - {"index.json"}):
            if p not in self.index_files:
                f.fail(
                    "V1",
                    "bundle.extra_file",
                    "结果包中有索引之外的文件",
                    "file not listed in the index",
                    file=p,
                    expected="no such file",
                    found=p,
                )
        for p, (digest, size) in sorted(self.index_files.items()):
            if p not in present:
                f.fail(
                    "V1",
                    "bundle.missing_file",
                    "索引列出的文件不存在",
                    "file listed in the index is missing",
                    file=p,
                    expected=p,
                    found="absent",
                )
                continue
            if self.b.size(p) != size:
                f.fail(
                    "V1",
                    "bundle.size_mismatch",
                    "文件大小与索引不符",
                    "file size differs from the index",
                    file=p,
                    expected=str(size),
                    found=str(self.b.size(p)),
                )
                continue
            if p in _STREAMED:
                self.deferred_hashes[p] = digest  # hashed as the replay reads it
                continue
            self.check_hash(p, digest, *hash_member(self.b, p))

    def check_hash(  # (V1)
        self, path: str, digest: str, found: str | None, error: str | None
    ) -> None:
        if error is not None:
            self.f.fail(
                "V1", "bundle.read_error", "读取文件失败", f"cannot read file ({error})", file=path
            )
        elif found != digest:
            self.f.fail(
                "V1",
                "bundle.hash_mismatch",
                "文件的 SHA-256 与索引不符",
                "file SHA-256 differs from the index",
                file=path,
                expected=digest,
                found=str(found),
            )

    def open_streamed(self, name: str) -> HashingReader:
        """Open ``log.jsonl`` or ``ballots.jsonl`` for the replay; V1 hashes it on the way."""
        reader = open_hashing(self.b, name)
        self.readers[name] = reader
        return reader

    def settle_hashes(self) -> None:  # (V1) the files whose hash waited for the replay
        for path, digest in sorted(self.deferred_hashes.items()):
            reader = self.readers.pop(path, None)
            if reader is None:  # the replay did not run
                self.check_hash(path, digest, *hash_member(self.b, path))
                continue
            reader.close()  # hashes whatever the replay left unread
            self.check_hash(path, digest, reader.hexdigest, reader.error)
        self.deferred_hashes = {}

    def _doc(self, name: str, clause: str) -> Any:
        if name not in self.b.names():
            self.f.fail(
                clause, "bundle.missing_file", f"缺少 {name}", f"{name} is missing", file=name
            )
            return None
        try:
            return parse_canonical(
                read_file(self.b, name, 16 * 1024 * 1024), clause=clause, path=name
            )
        except VerificationError as e:
            self.f.error(clause, e, file=name)
            return None

    # ------------------------------------------------------------------ V2, V3

    def check_manifest(self) -> bool:
        f = self.f
        doc = self._doc("manifest.json", "V2")
        if doc is None:
            return False
        try:  # (V2)
            raw_manifest, town_key, sig, summary_sig = parse_signed_manifest(doc)
        except VerificationError as e:
            f.error("V2", e, file="manifest.json")
            return False
        if self.town.key is not None:
            if town_key.key != self.town.key.key or self.town.key.role != "town_committee":
                f.fail(
                    "V2",
                    "manifest.town_key",
                    "清单中的镇党委公钥与给定的信任根不符",
                    "the manifest's town key is not the trust root given",
                    file="manifest.json",
                    path="town_key",
                    expected=self.town.fingerprint,
                    found=town_key.fingerprint,
                )
        elif town_key.fingerprint != self.town.fingerprint:
            f.fail(
                "V2",
                "manifest.town_key",
                "清单中的镇党委公钥指纹与给定的指纹不符",
                "the manifest's town key fingerprint is not the one given",
                file="manifest.json",
                path="town_key",
                expected=self.town.fingerprint,
                found=town_key.fingerprint,
            )
        if f.failed("V2"):
            return False
        try:
            message = canonical_bytes(raw_manifest)
            verify_signature(town_key.key, MANIFEST_DOMAIN, message, sig)
            self.town_raw = town_key.key
        except VerificationError as e:
            f.fail(
                "V2",
                "manifest.signature",
                "镇党委对清单的签名无效",
                "the town committee's signature does not verify",
                file="manifest.json",
                path="signature",
                found=e.code,
            )
            return False
        try:  # (V3)
            self.manifest = parse_manifest(raw_manifest, message)
        except VerificationError as e:
            f.error("V3", e, file="manifest.json")
            return False
        eid = self.manifest.election_id.hex()
        try:  # (V19) the town signed exactly the public summary derived from this manifest
            summary = public_summary(raw_manifest, doc["town_key"], eid)
            verify_signature(
                town_key.key, PUBLIC_SUMMARY_DOMAIN, canonical_bytes(summary), summary_sig
            )
        except VerificationError as e:
            f.fail(
                "V19",
                "manifest.summary_signature",
                "镇党委对公开摘要的签名无效：摘要不是由本清单推导出的，或未经签署",
                "the town committee's signature on the public summary derived from this "
                "manifest does not verify",
                file="manifest.json",
                path="summary_signature",
                found=e.code,
            )
        if self.index_doc and self.index_doc.get("election_id") != eid:  # (V1) index vs manifest
            f.fail(
                "V1",
                "index.election_id",
                "索引的选举标识与清单不符",
                "index election_id differs from the manifest",
                file="index.json",
                expected=eid,
                found=str(self.index_doc.get("election_id")),
            )
        return True

    # ------------------------------------------------------------------ V4, V5

    def check_definition(self, d: Definition) -> None:
        f = self.f
        roster = {m.id: m for m in d.members}
        # (V3, D-5.3) names that mix scripts or look like another member's: warnings only.
        for code, mid, other in look_alike_names((m.id, m.name) for m in d.members):
            name = roster[mid].name
            f.warnings.append(
                Finding(
                    clause="V3",
                    code=code,
                    zh=f"{mid} 的姓名“{name}”混用了多种文字"
                    if not other
                    else f"{mid} 的姓名“{name}”与 {other} 的“{roster[other].name}”看起来相同",
                    en=f"{mid}'s name {name!r} mixes scripts"
                    if not other
                    else f"{mid}'s name {name!r} looks like {other}'s {roster[other].name!r}",
                    file="manifest.json",
                    rule="D-5.3",
                )
            )
        eligible = {m.id for m in d.members if m.eligible}
        seen: set[str] = set()
        for i, x in enumerate(d.exclusions):  # (V4)
            where = {"file": "manifest.json", "path": f"definition.exclusions[{i}]"}
            for k in ("higher_level_approval", "assembly_approval"):
                if not getattr(x, k).strip():
                    f.fail(
                        "V4",
                        "exclusion.approval_missing",
                        f"不计入应到会人数缺少批准（{k}）",
                        f"exclusion lacks its {k} (R3.1)",
                        expected="non-empty approval",
                        found="empty",
                        **where,
                    )
            if x.category in NEVER_ELECTOR_CATEGORIES:  # (V4, R3.4)
                f.fail(
                    "V4",
                    "exclusion.category_not_elector",
                    "该类人员本来就不是有选举权的党员，不能列入不计入应到会人数名单",
                    "people of this category are simply not eligible electors; they cannot be "
                    "an exclusion (R3.4)",
                    expected="a category of electors",
                    found=x.category,
                    **where,
                )
            if x.member not in roster:
                f.fail(
                    "V4",
                    "member.unknown",
                    "不计入人员不在名册中",
                    "excluded member not on the roster",
                    **where,
                )
            elif x.member not in eligible:
                f.fail(
                    "V4",
                    "exclusion.not_elector",
                    "只有有选举权的党员才能不计入",
                    "excluded member is not an eligible elector (R3.2)",
                    **where,
                )
            if x.member in seen:
                f.fail(
                    "V4",
                    "exclusion.duplicate",
                    "同一成员重复不计入",
                    "member excluded twice",
                    **where,
                )
            seen.add(x.member)
        excluded = seen
        officials = set(d.scrutineers) | set(d.tellers)
        posts = {p.post: p for p in d.posts}
        first_post = next((x for x in POST_ORDER if x in posts), "")
        for p in d.posts:  # (V5)
            path = f"definition.posts.{p.post}.candidates"
            seen_c: set[str] = set()
            for c in p.candidates:
                where = {"file": "manifest.json", "path": path, "found": c}
                if c not in roster:
                    f.fail(
                        "V5",
                        "candidate.not_on_roster",
                        "候选人不在名册中",
                        "candidate not on the roster (R30)",
                        **where,
                    )
                elif c not in eligible:
                    f.fail(
                        "V5",
                        "candidate.not_eligible",
                        "候选人没有被选举权",
                        "candidate not eligible (R30)",
                        **where,
                    )
                elif c in excluded:
                    f.fail(
                        "V5",
                        "candidate.excluded",
                        "候选人已不计入应到会人数",
                        "candidate is excluded (R30)",
                        **where,
                    )
                if c in seen_c:
                    f.fail(
                        "V5",
                        "candidate.duplicate",
                        "候选人重复",
                        "candidate listed twice (R30)",
                        **where,
                    )
                seen_c.add(c)
                if c in officials and p.post == first_post:  # (R25.1) they serve the first round
                    f.fail(
                        "V5",
                        "official.is_candidate",
                        "监票人、计票人不得为候选人",
                        "an official is a candidate (R25)",
                        **where,
                    )
            if p.post == "committee" and p.margin != "20pct":
                f.fail(
                    "V5",
                    "post.margin",
                    "委员差额不可免除",
                    "committee margin cannot be none (R18)",
                    file="manifest.json",
                    path=path,
                    expected="20pct",
                    found=p.margin,
                )
            if len(p.candidates) < p.seats:  # (V5, A12.13) its own problem, any margin
                f.fail(
                    "V5",
                    "post.too_few_candidates",
                    "候选人少于应选人数",
                    "fewer candidates than seats (R18/R19)",
                    file="manifest.json",
                    path=path,
                    expected=f"at least {p.seats} candidates",
                    found=f"{len(p.candidates)} candidates",
                )
            elif not rules.margin_ok(len(p.candidates), p.seats, p.margin):
                f.fail(
                    "V5",
                    "post.margin",
                    "候选人数不满足差额要求",
                    "candidates fail the margin (R18/R19)",
                    file="manifest.json",
                    path=path,
                    expected=f"margin {p.margin} for {p.seats} seats",
                    found=f"{len(p.candidates)} candidates",
                )
        if "secretary" not in posts:
            f.fail(
                "V5",
                "post.no_secretary",
                "没有书记职位",
                "no secretary post",
                file="manifest.json",
                path="definition.posts",
            )
        if "committee" not in posts and d.elected_by != "assembly":
            f.fail(
                "V5",
                "secretary.body",
                "不设委员会时书记须由党员大会选举",
                "without a committee the assembly elects (R23)",
                file="manifest.json",
                path="definition.secretary.elected_by",
            )
        if "committee" in posts:  # (R20.1), (R22.1): whatever the body
            rule = "R22" if d.elected_by == "direct" else "R20"
            for post in ("secretary", "deputy_secretary"):
                for c in posts[post].candidates if post in posts else ():
                    if c not in posts["committee"].candidates:
                        f.fail(
                            "V5",
                            "secretary.not_committee_candidate",
                            "书记、副书记候选人须为委员候选人",
                            f"secretary/deputy candidate not a committee candidate ({rule})",
                            file="manifest.json",
                            path=f"posts.{post}.candidates",
                            found=c,
                        )
        if not d.scrutineers or not d.tellers:
            f.fail(
                "V5",
                "officials.missing",
                "缺少监票人或计票人",
                "officials missing (R25)",
                file="manifest.json",
                path="definition.officials",
            )
        for o in sorted(officials):
            if o not in roster:
                f.fail(
                    "V5",
                    "member.unknown",
                    "监票人或计票人不在名册中",
                    "official not on the roster",
                    file="manifest.json",
                    path="definition.officials",
                    found=o,
                )
        for role in (d.scrutineers, d.tellers):
            for o in sorted({x for x in role if role.count(x) > 1}):
                f.fail(
                    "V5",
                    "official.duplicate",
                    "同一人在监票人或计票人名单中重复",
                    "an official is listed twice in one list (R25)",
                    file="manifest.json",
                    path="definition.officials",
                    found=o,
                )
        for o in sorted(set(d.scrutineers) & set(d.tellers)):
            f.fail(
                "V5",
                "official.both_roles",
                "同一人不得兼任监票人和计票人",
                "member holds both roles (R25)",
                file="manifest.json",
                path="definition.officials",
                found=o,
            )
        for r in d.remote_approved:
            if r not in eligible or r in excluded:
                f.fail(
                    "V3",
                    "remote.not_elector",
                    "远程投票人员不是应到会党员",
                    "remote voter is not an expected elector (R24.1)",
                    file="manifest.json",
                    path="definition.remote_voting.approved",
                    found=r,
                )
        if d.parameters.qualification_policy == "block":  # (R27)
            for cid, code in rules.qualification_problems(d):
                f.fail(
                    "V5",
                    code,
                    "书记候选人资格不符",
                    f"secretary candidate fails {code} (R27)",
                    file="manifest.json",
                    path=f"candidates.{cid}",
                    found=cid,
                )

    # ------------------------------------------------------------------ V6-V15 (one pass)

    def run_log(self, m: Manifest) -> None:
        _Replay(self, m).run()

    # ------------------------------------------------------------------ V7

    def load_checkpoints(self) -> None:  # (V7) parsing
        doc = self._doc("checkpoints.json", "V7")
        if doc is None:
            return
        if (
            not isinstance(doc, dict)
            or set(doc) != {"format", "checkpoints"}
            or doc["format"] != "checkpoints/1"
            or not isinstance(doc["checkpoints"], list)
        ):
            self.f.fail(
                "V7",
                "checkpoints.format",
                "不是 checkpoints/1",
                "not a checkpoints/1 document",
                file="checkpoints.json",
            )
            return
        for i, item in enumerate(doc["checkpoints"]):
            path = f"checkpoints[{i}]"
            if (
                not isinstance(item, dict)
                or set(item) != {"text", "consistency"}
                or not isinstance(item["consistency"], list)
            ):
                self.f.fail(
                    "V7",
                    "checkpoints.format",
                    "检查点条目格式错误",
                    "malformed checkpoint item",
                    file="checkpoints.json",
                    path=path,
                )
                continue
            proof = [b64decode_canonical(x, 32) for x in item["consistency"]]
            if any(x is None for x in proof):
                self.f.fail(
                    "V7",
                    "checkpoints.proof_format",
                    "一致性证明格式错误",
                    "consistency proof is not base64 hashes",
                    file="checkpoints.json",
                    path=path,
                )
                continue
            try:
                cp = parse_checkpoint(item["text"], path)
            except VerificationError as e:
                self.f.error("V7", e, file="checkpoints.json")
                continue
            self.checkpoints.append((cp, [x for x in proof if x is not None]))
            self.checkpoint_sizes.add(cp.size)

    def check_checkpoints(self, m: Manifest) -> None:  # (V7)
        f = self.f
        n = self.entries
        origin = f"branch-election/{m.election_id.hex()}"
        prev: Checkpoint | None = None
        keys = {k.signer_name: k for k in (m.work_group, *m.scrutineers)}
        for i, (cp, proof) in enumerate(self.checkpoints):
            where: dict[str, Any] = {
                "file": "checkpoints.json",
                "path": f"checkpoints[{i}] ({cp.reason})",
            }
            if cp.origin != origin:
                f.fail(
                    "V7",
                    "checkpoint.origin",
                    "检查点来源行不符",
                    "checkpoint origin line differs",
                    expected=origin,
                    found=cp.origin,
                    **where,
                )
            if cp.size > n:
                f.fail(
                    "V7",
                    "checkpoint.beyond_log",
                    "检查点大小超过日志条目数",
                    "checkpoint size exceeds the log",
                    expected=f"<= {n}",
                    found=str(cp.size),
                    **where,
                )
            elif cp.size == 0 or self.roots.get(cp.size) != cp.root:
                f.fail(
                    "V7",
                    "checkpoint.root",
                    "检查点根哈希与日志不符",
                    "checkpoint root differs from the log's tree head",
                    expected=self.roots.get(cp.size, b"").hex(),
                    found=cp.root.hex(),
                    **where,
                )
            if prev is None:
                if proof:
                    f.fail(
                        "V7",
                        "checkpoint.proof",
                        "第一个检查点的一致性证明应为空",
                        "first checkpoint has a consistency proof",
                        **where,
                    )
            elif cp.size < prev.size:
                f.fail(
                    "V7",
                    "checkpoint.size_order",
                    "检查点大小减小",
                    "checkpoint sizes decrease",
                    expected=f">= {prev.size}",
                    found=str(cp.size),
                    **where,
                )
            else:
                try:
                    verify_consistency(prev.size, cp.size, prev.root, cp.root, proof)
                except MerkleProofError as e:
                    f.fail(
                        "V7",
                        "checkpoint.consistency",
                        "一致性证明不成立",
                        f"consistency proof fails ({e.code})",
                        **where,
                    )
            prev = cp
            seen: list[str] = []
            for sig in cp.signatures:
                key = keys.get(sig.name)
                if key is None:
                    f.fail(
                        "V7",
                        "checkpoint.unknown_signer",
                        "检查点上有清单之外的签名",
                        "signature line from a key outside the manifest",
                        found=sig.name,
                        **where,
                    )
                    continue
                try:
                    if sig.key_id != key.key_id:
                        raise VerificationError(
                            clause="V7", code="signature.invalid", zh="", en="key id"
                        )
                    verify_signature(key.key, CHECKPOINT_DOMAIN, cp.body, sig.signature)
                except VerificationError:
                    f.fail(
                        "V7",
                        "checkpoint.signature",
                        "检查点签名无效",
                        "checkpoint signature invalid",
                        found=sig.name,
                        **where,
                    )
                    continue
                seen.append(sig.name)
            wg = m.work_group.signer_name
            if not cp.signatures or cp.signatures[0].name != wg or wg not in seen:
                f.fail(
                    "V7",
                    "checkpoint.work_group",
                    "缺少工作组的有效签名（应为第一行）",
                    "no valid work-group signature first",
                    expected=wg,
                    found=", ".join(s.name for s in cp.signatures) or "none",
                    **where,
                )
            order = [wg] + [k.signer_name for k in m.scrutineers]
            names = [s.name for s in cp.signatures]
            if names != [x for x in order if x in names] or len(set(names)) != len(names):
                f.fail(
                    "V7",
                    "checkpoint.signature_order",
                    "签名行顺序错误或重复",
                    "signature lines out of order or repeated",
                    found=", ".join(names),
                    **where,
                )
            if cp.reason == "result" or cp.reason.startswith("round-closed"):
                for k in m.scrutineers:
                    if k.signer_name not in seen:
                        f.fail(
                            "V7",
                            "checkpoint.scrutineer",
                            "缺少监票人的有效签名",
                            "a scrutineer's valid signature is missing",
                            expected=k.signer_name,
                            **where,
                        )
        have = [(cp.reason, cp.size) for cp, _ in self.checkpoints]
        want = [(r, s) for r, s, _ in self.moments]
        rules_of = {"remote-opened": "V18.1", "remote-closed": "V18.6", "remote-key": "V18.7"}
        for r, s, seq in self.moments:
            if (r, s) not in have:
                f.fail(
                    "V7",
                    "checkpoint.missing",
                    "缺少规定时刻的检查点",
                    "no checkpoint for a required moment",
                    file="checkpoints.json",
                    seq=seq,
                    expected=f"{r} @ {s}",
                    found="none",
                    rule=rules_of.get(r, ""),
                )
        opened = self.remote.opened_size if self.remote is not None else 0
        closed = self.remote.closed_seq if self.remote is not None else None
        once: set[tuple[str, int]] = set()
        for i, (r, s) in enumerate(have):
            if (r, s) in once:  # (V7) each moment has one checkpoint
                f.fail(
                    "V7",
                    "checkpoint.repeated",
                    "同一检查点出现了不止一次",
                    "the same checkpoint appears more than once",
                    file="checkpoints.json",
                    path=f"checkpoints[{i}]",
                    found=f"{r} @ {s}",
                )
                continue
            once.add((r, s))
            if r == "remote-casts":
                # (V7, RM-8.2) made inside the remote window: after remote.opened's checkpoint and
                # before remote.closed (a size covering remote.closed or later is outside it);
                # without remote.opened there is no window at all.
                if opened and opened < s and (closed is None or s <= closed):
                    continue
                f.fail(
                    "V7",
                    "checkpoint.remote_casts_window",
                    "remote-casts 检查点不在远程投票期间",
                    "a remote-casts checkpoint outside the remote window (RM-8.2)",
                    file="checkpoints.json",
                    path=f"checkpoints[{i}]",
                    expected=f"{opened} < size <= {closed if closed is not None else 'N'}"
                    if opened
                    else "no remote window: no remote-casts checkpoint",
                    found=f"{r} @ {s}",
                    rule="RM-8.2",
                )
                continue
            if (r, s) not in want:
                f.fail(
                    "V7",
                    "checkpoint.unexpected",
                    "检查点的原因或大小与日志不符",
                    "checkpoint does not match a moment of the log",
                    file="checkpoints.json",
                    found=f"{r} @ {s}",
                )

    # ------------------------------------------------------------------ V15-V18

    def check_result(self, m: Manifest) -> None:
        f = self.f
        out = self._doc("outcomes.json", "V15")  # (V15)
        if out is not None:
            if (
                not isinstance(out, dict)
                or set(out) != {"format", "rounds"}
                or out["format"] != "outcomes/1"
                or not isinstance(out["rounds"], list)
            ):
                f.fail(
                    "V15",
                    "outcomes.format",
                    "不是 outcomes/1",
                    "not an outcomes/1 document",
                    file="outcomes.json",
                )
            else:
                got = [canonical_bytes(x) for x in out["rounds"]]
                if got != self.outcomes:
                    f.fail(
                        "V15",
                        "outcomes.differ",
                        "outcomes.json 与日志中的轮次结果不符",
                        "outcomes.json differs from the log",
                        file="outcomes.json",
                        expected=f"{len(self.outcomes)} rounds as logged",
                        found=f"{len(got)} rounds, first difference at index "
                        f"{_first_diff(got, self.outcomes)}",
                    )
        res = self._doc("result.json", "V15")
        members = {
            "format",
            "election_id",
            "elected",
            "publicity_start",
            "publicity_end",
            "working_days",
            "calendar",
            "remote_ballots",
            "checkpoint",
        }
        if not isinstance(res, dict) or set(res) != members or res.get("format") != "result/1":
            if res is not None:
                f.fail(
                    "V15",
                    "result.format",
                    "不是 result/1",
                    "not a result/1 document",
                    file="result.json",
                )
            f.skip(["V16", "V17", "V18"], "result.json 无法读取", "result.json unreadable")
            return
        e = self.result_entry
        if res["election_id"] != m.election_id.hex():
            f.fail(
                "V15",
                "result.election_id",
                "结果的选举标识不符",
                "result election_id differs",
                file="result.json",
                expected=m.election_id.hex(),
                found=str(res["election_id"]),
            )
        if e is not None:
            for k in ("elected", "publicity_start", "publicity_end"):
                if res[k] != (dict(e.body[k]) if k == "elected" else e.body[k]):
                    f.fail(
                        "V15",
                        f"result.{k}",
                        f"result.json 的 {k} 与日志不符",
                        f"result.json {k} differs from election.result",
                        file="result.json",
                        path=k,
                        expected=_short(e.body[k] if k != "elected" else dict(e.body[k])),
                        found=_short(res[k]),
                    )
        cps = self.checkpoints  # (V16)
        last = cps[-1][0] if cps else None
        if last is None or res["checkpoint"] != last.text:
            f.fail(
                "V16",
                "result.checkpoint",
                "result.json 的检查点不是最后一个检查点",
                "result checkpoint is not the last checkpoint",
                file="result.json",
                path="checkpoint",
            )
        elif last.size != self.entries or last.reason != "result":
            f.fail(
                "V16",
                "result.checkpoint_size",
                "最终检查点未覆盖全部日志条目",
                "final checkpoint does not cover all entries",
                file="result.json",
                expected=f"result @ {self.entries}",
                found=f"{last.reason} @ {last.size}",
            )
        want_remote = self.remote.decrypted if self.remote is not None else 0
        if res["remote_ballots"] != want_remote:  # (V18.12)
            f.fail(
                "V18",
                "result.remote_ballots",
                "远程选票数与日志中的 remote.decrypted 条目数不符",
                "remote_ballots differs from the number of remote.decrypted entries",
                file="result.json",
                expected=str(want_remote),
                found=str(res["remote_ballots"]),
                rule="V18.12",
            )
        self.check_publicity(m, res)

    def check_publicity(self, m: Manifest, res: dict[str, Any]) -> None:  # (V17)
        f = self.f
        where = {"file": "result.json"}
        d = m.definition
        if res["working_days"] != d.parameters.publicity_working_days:
            f.fail(
                "V17",
                "publicity.working_days",
                "公示工作日数与清单不符",
                "working_days differs from the manifest",
                expected=str(d.parameters.publicity_working_days),
                found=str(res["working_days"]),
                **where,
            )
        lo, hi = _PUBLICITY_DAYS
        if not lo <= d.parameters.publicity_working_days <= hi:  # (V17, R26)
            f.fail(
                "V17",
                "publicity.working_days_range",
                f"清单中的公示工作日数应为 {lo} 到 {hi}",
                f"the manifest's publicity_working_days must be {lo} to {hi}",
                expected=f"{lo}..{hi}",
                found=str(d.parameters.publicity_working_days),
                file="manifest.json",
            )
        cal = res["calendar"]
        dates: dict[str, list[dt.date]] = {}
        if not isinstance(cal, dict) or set(cal) != {"holidays", "workdays"}:
            f.fail("V17", "publicity.calendar", "日历格式错误", "calendar malformed", **where)
            return
        for k in ("holidays", "workdays"):
            items = cal[k]
            parsed = []
            if isinstance(items, list):
                for x in items:
                    try:
                        if not isinstance(x, str) or re.fullmatch(r"\d{4}-\d{2}-\d{2}", x) is None:
                            raise ValueError(x)
                        parsed.append(dt.date.fromisoformat(x))
                    except ValueError:
                        parsed = []
                        break
            if (
                not isinstance(items, list)
                or len(parsed) != len(items)
                or parsed != sorted(set(parsed))
            ):
                f.fail(
                    "V17",
                    "publicity.calendar",
                    f"日历 {k} 应为升序不重复的日期",
                    f"calendar {k} must be sorted unique dates",
                    **where,
                )
                return
            dates[k] = parsed
        try:
            start = dt.date.fromisoformat(str(res["publicity_start"]))
            end = dt.date.fromisoformat(str(res["publicity_end"]))
        except ValueError:
            f.fail("V17", "publicity.date", "公示日期无效", "publicity dates invalid", **where)
            return
        signed = self.signed_calendar_years()
        if signed is None:
            return  # the town's year file is bad (reported): no calendar to count with
        # (V17, A12.8) The verifier's own calendar: chinese_calendar's years, else the town's
        # signed year file's; never result.json's copy. A signed year the library knows must agree.
        for y in sorted(signed):
            known = statutory.builtin_year(y)
            diff = statutory.first_difference(known, signed[y]) if known is not None else None
            if diff is not None:
                f.fail(
                    "V17",
                    "publicity.calendar_conflict",
                    f"镇党委签署的节假日文件中 {y} 年的安排与 chinese_calendar 不一致",
                    f"the town's signed year file differs from chinese_calendar for {y} (R26.3)",
                    file="calendar.json",
                    found=diff,
                )
        # (V17, R26.1) Day 1 is the first working day after the day the result was announced:
        # the local date of the election.result entry, never earlier than the election date.
        announced = self.result_entry.at.date() if self.result_entry is not None else d.date
        day_zero = max(d.date, announced)
        first = d.date.year
        own: dict[int, statutory.Year] = {}
        for y in range(first, min(max(first, day_zero.year, start.year, end.year) + 2, 9999)):
            year = statutory.own_year(y, signed)
            if year is not None:
                own[y] = year
        hol = {x for h, _ in own.values() for x in h}
        work = {x for _, w in own.values() for x in w}
        n = d.parameters.publicity_working_days
        if not _PUBLICITY_DAYS[0] <= n <= _PUBLICITY_DAYS[1]:
            return  # reported above (publicity.working_days_range); nothing sound to count
        try:
            want_start = rules.first_working_day_after(day_zero, hol, work)
            want_end = rules.nth_working_day(want_start, n, hol, work)
        except OverflowError:  # an announcement dated at the end of year 9999
            f.fail("V17", "publicity.date", "公示日期无效", "publicity dates invalid", **where)
            return
        # (V17, A12.8) Every year from the election to the end of the publicity: known to the
        # verifier (else the count above is not trusted) and copied exactly, every day of it.
        years = range(first, want_end.year + 1)
        unknown = [y for y in years if y not in own]
        for y in unknown:
            f.fail(
                "V17",
                "publicity.calendar_unsigned_year",
                f"{y} 年的节假日安排没有镇党委签署的节假日文件",
                f"no year file signed by the town committee for {y} (R26.3)",
                file="result.json",
                expected=f"calendar.json signed for {y}",
                found="none",
            )
        if unknown:
            return
        if start != want_start:
            f.fail(
                "V17",
                "publicity.start",
                "公示开始日不是宣布结果之日后的第一个工作日",
                "publicity_start is not the first working day after the result was announced",
                expected=want_start.isoformat(),
                found=start.isoformat(),
                **where,
            )
        if end != want_end:
            f.fail(
                "V17",
                "publicity.end",
                "公示结束日计算不符",
                "publicity_end is not the working_days-th working day",
                expected=want_end.isoformat(),
                found=end.isoformat(),
                **where,
            )
        theirs_h, theirs_w = set(dates["holidays"]), set(dates["workdays"])
        for y in years:
            theirs = (frozenset(_year_dates(theirs_h, y)), frozenset(_year_dates(theirs_w, y)))
            diff = statutory.first_difference(own[y], theirs)
            if diff is not None:
                f.fail(
                    "V17",
                    "publicity.calendar_differs" if theirs[0] else "publicity.calendar_year",
                    f"结果包日历中 {y} 年的安排与法定节假日不符",
                    f"the bundle's calendar for {y} differs from the statutory calendar",
                    expected=f"the statutory dates of {y}",
                    found=diff,
                    **where,
                )
        outside = sorted(x for x in theirs_h | theirs_w if x.year not in years)
        if outside:
            f.fail(
                "V17",
                "publicity.calendar_differs",
                "结果包日历含有选举至公示结束以外年份的日期",
                "the bundle's calendar lists a date outside the years from the election to the "
                "end of the publicity",
                found=outside[0].isoformat(),
                **where,
            )

    def signed_calendar_years(self) -> dict[int, statutory.Year] | None:  # (V17, R26.3)
        """The years of the town's signed year file (none without one); None when it is bad."""
        if "calendar.json" not in self.b.names():
            return {}
        doc = self._doc("calendar.json", "V17")
        if doc is None:
            return None
        try:
            years = _signed_calendar_years(doc, self.town_raw or b"")
        except ValueError as e:
            self.f.fail(
                "V17",
                str(e),
                "镇党委签署的节假日文件无效、未经本清单的镇党委密钥签署或签名不符",
                "the signed year file is malformed, not signed by the manifest's town key, "
                "or its signature does not verify (R26.3)",
                file="calendar.json",
            )
            return None
        return {y: (frozenset(h), frozenset(w)) for y, (h, w) in years.items()}


def _signed_calendar_years(
    doc: object, town_key: bytes
) -> dict[int, tuple[set[dt.date], set[dt.date]]]:
    """(V17, R26.3) The years of a ``signed-calendar/1`` signed by ``town_key``.

    Raises:
        ValueError: with the finding code, when the document is malformed or not signed by the key.
    """
    if not isinstance(doc, dict) or set(doc) != {"format", "calendar", "town_key", "signature"}:
        raise ValueError("publicity.calendar_file")
    if doc["format"] != "signed-calendar/1":
        raise ValueError("publicity.calendar_file")
    try:
        key = parse_pubkey_value(doc["town_key"], path="town_key", role="town_committee")
    except VerificationError:
        raise ValueError("publicity.calendar_file") from None
    if key.key != town_key:
        raise ValueError("publicity.calendar_key")
    sig = b64decode_canonical(doc["signature"], 64)
    try:
        if sig is None:
            raise ValueError("publicity.calendar_signature")
        verify_signature(key.key, CALENDAR_DOMAIN, canonical_bytes(doc["calendar"]), sig)
    except VerificationError:
        raise ValueError("publicity.calendar_signature") from None
    body = doc["calendar"]
    if (
        not isinstance(body, dict)
        or set(body) != {"format", "years"}
        or body["format"] != "calendar/1"
        or not isinstance(body["years"], dict)
    ):
        raise ValueError("publicity.calendar_file")
    out: dict[int, tuple[set[dt.date], set[dt.date]]] = {}
    for year, table in body["years"].items():
        if (
            not re.fullmatch(r"[0-9]{4}", year)
            or not isinstance(table, dict)
            or not {"source", "holidays"} <= set(table) <= {"source", "holidays", "workdays"}
        ):
            raise ValueError("publicity.calendar_file")
        days: list[set[dt.date]] = []
        for k in ("holidays", "workdays"):
            items = table.get(k, [])
            if not isinstance(items, list) or not all(
                isinstance(x, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", x) for x in items
            ):
                raise ValueError("publicity.calendar_file")
            days.append({dt.date.fromisoformat(x) for x in items})
        out[int(year)] = (days[0], days[1])
    return out


def _stock_ids(raw_ids: object) -> list[bytes] | None:
    """A stock's ``ballot_ids`` as 16-byte ids when every one is 32 lowercase hex, else None.

    A few C calls over the whole list (5,000 ids a stock), none per id in Python.
    """
    if not isinstance(raw_ids, list):
        return None
    try:
        joined = "".join(raw_ids)
    except TypeError:  # an id that is not a string
        return None
    if set(map(len, raw_ids)) - {32} or not joined.isascii():
        return None
    if joined.encode("ascii").translate(None, b"0123456789abcdef"):  # lowercase hex only
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
        o = self.open
        if (  # Performance: a ballot.entered (``record`` is only given for one) of the open
            # round with nothing pending goes straight to its checks, which is where
            # apply_one and round_entry would send it after finding all of this to hold.
            record
            and o is not None
            and o.stage == "returned"
            and o.number == e.body["round"]
            and o.post == e.body["post"]
            and not self.joining
            and not self.result_seen
            and self.rm.expect_not_counted is None
        ):
            self.ballot_entered(e, o, record)
            return
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
        self.records.match_round(o.entries)
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


def _year_dates(days: set[dt.date], year: int) -> set[dt.date]:
    return {x for x in days if x.year == year}


def verify_bundle(
    path: Path, town: TownKey, *, jobs: int | None = None, progress: ProgressFn | None = None
) -> Report:
    """Verify a bundle against the town committee's key: every clause V1-V19.

    Args:
        path: the bundle folder or ``.zip``.
        town: the trust root.
        jobs: processes for QR signature checks (default: CPU count).
        progress: called with the number of log bytes consumed, for a progress bar.

    Raises:
        BundleOpenError: the bundle cannot be read at all (missing, not a folder or zip, no index).

    Returns:
        The report; ``report.ok`` only if every clause holds.
    """
    bundle, problems = open_bundle(path)
    v = _Verifier(bundle, town, jobs or os.cpu_count() or 1, progress)
    f = v.f
    for p in problems:  # (V1)
        f.fail("V1", p.code, p.zh, p.en, file=p.path)
    if any(p.fatal for p in problems):
        f.skip(CLAUSES[1:], "结果包不安全，未读取", "unsafe bundle, not read")
        return Report(bundle=str(path), clauses=f.results())
    v.check_index()
    if not v.check_manifest() or v.manifest is None:
        v.settle_hashes()
        failed = "V2" if f.failed("V2") else "V3"
        f.skip(_after(failed), f"{failed} 未通过", f"{failed} failed")
        return Report(bundle=str(path), clauses=f.results())
    m = v.manifest
    v.check_definition(m.definition)
    v.load_checkpoints()
    v.run_log(m)
    v.settle_hashes()
    if v.index_doc and not v.replay_stopped and v.index_doc.get("entries") != v.entries:
        f.fail(
            "V1",
            "index.entries",
            "索引中的条目数与日志不符",
            "index entries differs from the log",
            file="index.json",
            expected=str(v.entries),
            found=str(v.index_doc.get("entries")),
        )
    if not v.structure_ok:
        for c in _after("V7"):
            f.clear(c)
        f.skip(_after("V7"), "日志条目未通过 V6", "log entries failed V6")
    if v.replay_stopped:
        f.skip(("V7",), "日志未完整重放", "the log was not replayed to its end")
    else:
        v.check_checkpoints(m)
    if v.structure_ok:
        v.check_result(m)
    rm = v.remote
    return Report(
        bundle=str(path),
        clauses=f.results(),
        entries=v.entries,
        ballots=v.ballots + (rm.decrypted if rm is not None else 0),
        remote_ballots=rm.decrypted if rm is not None else 0,
        remote_opened=rm is not None and rm.opened_seq is not None,
        remote_credentials=rm.credential_entries if rm is not None else 0,
        remote_casts=len(rm.casts) if rm is not None else 0,
        remote_rejected=rm.rejected if rm is not None else 0,
        election_id=m.election_id.hex(),
        elected=tuple((p, tuple(ids)) for p, ids in v.elected.items()),
        rounds=tuple(v.rounds),
        elected_persons=tuple(v.elected_persons),
        names=tuple((x.id, x.name) for x in m.definition.members),
        warnings=tuple(f.warnings),
    )


def _first_diff(a: list[bytes], b: list[bytes]) -> int:
    for i, (x, y) in enumerate(zip(a, b, strict=False)):
        if x != y:
            return i
    return min(len(a), len(b))


def _short(value: object) -> str:
    text = canonical_bytes(value).decode("utf-8") if not isinstance(value, str) else value
    return text if len(text) <= 400 else text[:400] + "…"
