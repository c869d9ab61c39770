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
from collections.abc import Callable, Iterator, Mapping, Sequence
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
from verifier.lines import read_lines
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
    check_qr_common,
    normalise_qr_text,
    qr_prefix,
    stock_commitment,
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
_HEX_RUN: Final = re.compile(r"[0-9a-f]*")
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
    prefix = qr_prefix(election_id, kind, rnd) if fast is not None else b""
    start = 0
    for i, (seq, end) in enumerate(zip(batch.seqs, batch.ends, strict=True)):
        qr, start = texts[start:end], end
        ballot_id = ids[32 * i : 32 * i + 32]
        found = check_qr_common(qr, prefix, fast) if fast is not None else None
        if found is not None and found.hex() == ballot_id:
            continue  # else check_qr gives the failure, or passes and the id mismatch is reported
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


# --------------------------------------------------------------------------- the replay
# V6-V15 and V18 are replayed by verifier/checks/replay/ (issue 15.5). It imports names of this
# module, so it is imported when it first runs, not when this module loads. The imports and
# constants above that only the replay used stay until this module's head is rewired at merge:
# ruff: noqa: F401
from typing import TYPE_CHECKING  # noqa: E402

if TYPE_CHECKING:
    from verifier.checks.replay import Replay
    from verifier.checks.replay.state import RemoteState as _RemoteState


def _Replay(v: _Verifier, m: Manifest) -> Replay:
    """The replay of ``log.jsonl`` (V6-V15, V18) for ``_Verifier.run_log``."""
    from verifier.checks.replay import Replay  # noqa: PLC0415

    return Replay(v, m)


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
