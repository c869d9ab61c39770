"""Remote ballots version 2 in the log (spec/remote-v2.md §8: V18.1 v2, V18.20-V18.23).

``RemoteV2`` is the part of ``RemoteChecks`` that only a version-2 log has (an ``election_key``
in ``remote.opened``): the election key and the write-in lists (V18.1), the batch of casts at
the close (V18.20), each cast's ballot (V18.21), the partial decryptions (V18.22) and the totals
(V18.23). The clauses of spec/remote.md §13 (V18.2-V18.6, V18.9-V18.11) stay in ``remote``.

Performance: the ballots' proofs (RV-3.5) are checked in batches of ``BATCH`` casts on a process
pool of ``jobs`` workers (one process: in line), as the QR signatures are (``signatures``);
the casts are all logged at the close, so the batch is checked before ``remote.closed`` is
replayed. Only the first ``len(approved)`` casts are checked (more casts than approved members
already fail V18.5): the work is bounded by the manifest, whatever the log holds.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from typing import TYPE_CHECKING, Any, Final

from verifier.checks.common import short
from verifier.errors import VerificationError
from verifier.model import POST_ORDER, LogEntry
from verifier.remote_v2 import (
    Ciphertext,
    ElGamalVerificationError,
    ThresholdKey,
    add_ciphertexts,
    decryption_label,
    parse_threshold_key,
)
from verifier.remote_v2.group import EMPTY_SUM, base_mul
from verifier.remote_v2.remote_ballot import PostShape, check_ballot, receipt
from verifier.remote_v2.threshold import (
    VerifiedPartial,
    combine,
    parse_partial,
    recover_total,
    verify_partial,
)

if TYPE_CHECKING:
    from verifier.checks.replay.remote import RemoteChecks
    from verifier.checks.replay.state import Cast

__all__ = ["BATCH", "RemoteV2", "check_ballot_batch", "write_in_lists"]

BATCH: Final = 16  # casts per worker task (a ballot's proofs take milliseconds per choice)
_PARTIAL_POST: Final = frozenset({"post", "shares", "proofs"})
_TOTALS_POST: Final = frozenset({"post", "ballots", "totals"})

# (seq, per post the parsed ciphertexts or None, (clause, code, zh, en, path) or None)
BallotResult = tuple[int, tuple[tuple[Ciphertext, ...] | None, ...], tuple[str, ...] | None]


def check_ballot_batch(
    batch: Sequence[tuple[int, bytes, object]],
    election_id: bytes,
    public_key: bytes,
    shapes: tuple[PostShape, ...],
) -> list[BallotResult]:
    """Worker: RV-3.5 for each (seq, token, ballot) of the batch."""
    out: list[BallotResult] = []
    for seq, token, doc in batch:
        parsed, failure = check_ballot(
            doc, election_id=election_id, public_key=public_key, token=token, shapes=shapes
        )
        why = (
            None
            if failure is None
            else (failure.clause, failure.code, failure.zh, failure.en, failure.path)
        )
        out.append((seq, parsed, why))
    return out


def write_in_lists(
    members: Mapping[str, Any],
    eligible: set[str],
    excluded: set[str],
    posts: Sequence[tuple[str, Sequence[str]]],
) -> dict[str, tuple[str, ...]]:
    """(RV-2.1) Each post's write-in list: the roster members eligible for election (R30), not
    excluded (R3) and not listed candidates of the post, in ascending member-id order (bytewise).
    """
    return {
        post: tuple(
            sorted(
                (m for m in members if m in eligible and m not in excluded and m not in listed),
                key=lambda m: m.encode("utf-8"),
            )
        )
        for post, listed in posts
    }


class RemoteV2:
    """V18.1 (v2), V18.20-V18.23 over the replay; state in ``RemoteChecks.s``."""

    def __init__(self, rc: RemoteChecks) -> None:
        self.rc = rc
        self.r = rc.r
        self.s = rc.s
        self.shapes: tuple[PostShape, ...] = ()
        self.queue: list[tuple[int, bytes, object]] = []
        self.pool: ProcessPoolExecutor | None = None
        self.pending: list[Future[list[BallotResult]]] = []
        self.checked = 0  # ballots handed to the check (at most len(approved))

    def fail(self, rule: str, code: str, zh: str, en: str, e: LogEntry | None, **kw: Any) -> None:
        self.rc.fail(rule, code, zh, en, e, **kw)

    # -------------------------------------------------------------- remote.opened

    def opened(self, e: LogEntry) -> None:
        """(V18.1) ``election_key`` by EG-7.4 with n = the manifest's scrutineers, and
        ``write_in_lists`` equal to RV-2.1's lists computed from the manifest."""
        s, b, r = self.s, e.body, self.r
        s.version = 2
        try:
            key = parse_threshold_key(b["election_key"])
        except ElGamalVerificationError as x:
            self.fail(
                "V18.1",
                x.code,
                f"选举公钥无效（{x.clause}）：{x.zh}",
                f"election_key fails {x.clause}: {x.en}",
                e,
                path=f"body.election_key.{x.path}" if x.path else "body.election_key",
            )
            key = None
        want_n = len(r.m.scrutineers)
        if key is not None and key.n != want_n:
            self.fail(
                "V18.1",
                "remote.threshold",
                "选举公钥的 n 应等于清单中的监票人数",
                "election_key's n must be the number of the manifest's scrutineer keys",
                e,
                expected=f"n = {want_n}",
                found=f"k = {key.k}, n = {key.n}",
            )
        elif key is not None:
            s.election_key = key
        posts = sorted(s.posts, key=lambda p: POST_ORDER.index(p.post))
        lists = write_in_lists(
            r.roster, r.eligible, r.excluded, [(p.post, p.candidates) for p in posts]
        )
        want = [{"post": p.post, "members": list(lists[p.post])} for p in posts]
        if b["write_in_lists"] != want:
            self.fail(
                "V18.1",
                "remote.write_in_lists",
                "另选他人名单与按清单计算的不符（RV-2.1）",
                "write_in_lists differ from RV-2.1's lists computed from the manifest",
                e,
                path="body.write_in_lists",
                expected=short(want),
                found=short(b["write_in_lists"]),
            )
        s.write_in_lists = lists
        disapprovals = r.d.parameters.write_in_requires_disapproval
        self.shapes = tuple(
            PostShape(
                post=p.post,
                listed=len(p.candidates),
                choices=len(p.candidates) + len(lists[p.post]),
                seats=p.seats,
                disapprovals=disapprovals,
            )
            for p in posts
        )
        s.sums = {sh.post: [EMPTY_SUM] * sh.choices for sh in self.shapes}

    # -------------------------------------------------------------- remote.cast

    def cast(self, e: LogEntry, cast: Cast) -> None:
        """(V18.20) note the cast's receipt and time; (V18.21) its ballot passes RV-3.5 with
        its own token (checked in batches, ``flush``)."""
        s, b = self.s, e.body
        cast.at = e.at
        try:
            cast.receipt = receipt(b["ballot"])
        except VerificationError:
            cast.receipt = ""
        if s.closed_seq is not None:  # (V18.20) a cast logged after the close
            self.fail(
                "V18.20",
                "remote.casts_not_batched",
                "remote.cast 不在 remote.closed 之前的那一批中",
                "a remote.cast after remote.closed is outside the batch of the close",
                e,
            )
        if s.election_key is None:
            s.sums_known = False  # (V18.1) no key to check with; reported there
            return
        if self.checked >= len(self.r.d.remote_approved) or cast.token is None:
            # more casts than approved members (V18.5) or no token (V18.3): not checked
            s.sums_known = False
            return
        self.checked += 1
        self.queue.append((e.seq, cast.token, b["ballot"]))
        if len(self.queue) >= BATCH:
            self.submit()

    def submit(self) -> None:
        batch, self.queue = self.queue, []
        if not batch:
            return
        key: ThresholdKey = self.s.election_key
        args = (batch, self.r.m.election_id, key.public_key, self.shapes)
        jobs = max(1, self.r.v.jobs)
        if jobs == 1 or (self.pool is None and len(batch) < BATCH):  # a few: no pool to start
            self.record(check_ballot_batch(*args))
            return
        if self.pool is None:
            self.pool = ProcessPoolExecutor(max_workers=jobs)
        self.pending.append(self.pool.submit(check_ballot_batch, *args))
        while len(self.pending) > 4 * jobs:
            self.record(self.pending.pop(0).result())

    def flush(self) -> None:
        """Every queued ballot checked and added to the encrypted totals."""
        self.submit()
        for fut in self.pending:
            self.record(fut.result())
        self.pending = []

    def close(self) -> None:
        self.flush()
        if self.pool is not None:
            self.pool.shutdown()
            self.pool = None

    def record(self, results: list[BallotResult]) -> None:
        s = self.s
        for seq, parsed, why in results:
            if why is not None:
                clause, code, zh, en, path = why
                self.fail(
                    "V18.21",
                    code,
                    f"远程选票未通过 {clause}：{zh}",
                    f"the remote ballot fails {clause}: {en}",
                    None,
                    file="log.jsonl",
                    seq=seq,
                    path=f"body.ballot.{path}" if path else "body.ballot",
                    expected=f"{clause} holds",
                    found=code,
                )
            for shape, cts in zip(self.shapes, parsed, strict=True):
                if cts is None:
                    s.sums_known = False
                    continue
                sums = s.sums[shape.post]
                s.sums[shape.post] = [add_ciphertexts(a, c) for a, c in zip(sums, cts, strict=True)]

    # -------------------------------------------------------------- remote.closed

    def closed(self, e: LogEntry) -> None:
        """(V18.20) The casts are the run of entries right before ``remote.closed``, in strictly
        ascending receipt order, each with the close's ``at``."""
        s = self.s
        self.flush()
        first = e.seq - len(s.casts)
        last = ""
        for i, cast in enumerate(s.casts):
            problems = []
            if cast.seq != first + i:
                problems.append("not in the run of casts right before remote.closed")
            if cast.at != e.at:
                problems.append("its at is not the close's")
            if not cast.receipt or cast.receipt <= last:
                problems.append("its receipt does not follow the previous one's")
            last = max(last, cast.receipt)
            if problems:
                self.fail(
                    "V18.20",
                    "remote.casts_not_batched",
                    "远程投票未在关闭时按回执升序、以关闭时间成批记入日志（RV-4.3）",
                    "remote casts not logged as the close's batch: " + "; ".join(problems),
                    None,
                    file="log.jsonl",
                    seq=cast.seq,
                    expected=f"seq {first + i}, at {e.at.isoformat()}, ascending receipts",
                    found=f"seq {cast.seq}, at {cast.at.isoformat() if cast.at else '?'}",
                )

    # -------------------------------------------------------------- partial decryptions

    def partial(self, e: LogEntry) -> None:
        """(V18.22) ``remote.partial_decryption``: after ``remote.closed``, an index 1..n not
        seen before, one post object per assembly-voted post with a share and proof per choice,
        each proof verified (EG-8.3) against Y_index and the totals recomputed from the casts."""
        s, b = self.s, e.body
        self.flush()
        if s.closed_seq is None:
            self.fail(
                "V18.22",
                "remote.partial_early",
                "远程投票关闭前就有部分解密",
                "remote.partial_decryption before remote.closed",
                e,
            )
        key: ThresholdKey | None = s.election_key
        if key is None:
            return  # (V18.1) failed: nothing to check against
        index = b["index"]
        if not 1 <= index <= key.n:
            self.fail(
                "V18.22",
                "elgamal.parameters",
                f"部分解密的监票人编号应在 1 至 {key.n} 之间",
                f"the index must be 1..{key.n} (EG-8.2)",
                e,
                found=str(index),
            )
            return
        if index in s.partial_indices:
            self.fail(
                "V18.22",
                "remote.partial_twice",
                "同一监票人的部分解密出现了两次",
                "a second remote.partial_decryption with this index (RV-5.3)",
                e,
                found=str(index),
            )
            return
        s.partial_indices.add(index)
        posts = b["posts"]
        if not isinstance(posts, list) or len(posts) != len(self.shapes):
            self.fail(
                "V18.22",
                "remote.partial_shape",
                "部分解密应为每个党员大会选举职位各有一项",
                "one post object per assembly-voted post, in ballot order",
                e,
                path="body.posts",
            )
            return
        shares: dict[str, tuple[bytes, ...]] = {}
        for i, (part, shape) in enumerate(zip(posts, self.shapes, strict=True)):
            if (
                not isinstance(part, dict)
                or set(part) != _PARTIAL_POST
                or part["post"] != shape.post
                or not isinstance(part["shares"], list)
                or not isinstance(part["proofs"], list)
                or len(part["shares"]) != shape.choices
                or len(part["proofs"]) != shape.choices
            ):
                self.fail(
                    "V18.22",
                    "remote.partial_shape",
                    f"第 {i + 1} 项应为职位 {shape.post}，每个选项一个份额和一个证明",
                    f"posts[{i}] must be {{post, shares, proofs}} for {shape.post} with "
                    f"{shape.choices} shares and proofs",
                    e,
                    path=f"body.posts[{i}]",
                )
                return
            if not s.sums_known:
                continue  # a ballot did not parse (V18.21): the totals are not known
            got = []
            for j, (share, proof) in enumerate(zip(part["shares"], part["proofs"], strict=True)):
                try:
                    parsed = parse_partial({"index": index, "share": share, "proof": proof}, key)
                    ok: VerifiedPartial = verify_partial(
                        key,
                        election_id=self.r.m.election_id,
                        label=decryption_label(shape.post, j),
                        total=s.sums[shape.post][j],
                        partial=parsed,
                    )
                except ElGamalVerificationError as x:
                    self.fail(
                        "V18.22",
                        x.code,
                        f"部分解密未通过 {x.clause}：{x.zh}",
                        f"the partial decryption fails {x.clause}: {x.en}",
                        e,
                        path=f"body.posts[{i}].shares[{j}]",
                        expected=f"{x.clause} holds",
                        found=x.code,
                    )
                    return
                got.append(ok.share)
            shares[shape.post] = tuple(got)
        if s.sums_known:
            s.partials[index] = shares

    # -------------------------------------------------------------- totals

    def totals(self, e: LogEntry) -> None:
        """(V18.23) ``remote.totals``: once, after at least k partial decryptions; per post
        ``ballots`` the number of casts and ``totals`` the combination of the k lowest-index
        partial decryptions (EG-9.1, EG-9.2); a ``remote-totals`` checkpoint covers it."""
        s, b = self.s, e.body
        self.flush()
        if s.totals_seq is not None:
            self.fail(
                "V18.23",
                "remote.totals_twice",
                "remote.totals 出现了不止一次",
                "a second remote.totals",
                e,
                expected=f"only seq {s.totals_seq}",
            )
            return
        s.totals_seq = e.seq
        self.r.moment("remote-totals", e)  # (V7)
        if s.closed_seq is None:
            self.fail(
                "V18.23",
                "remote.totals_early",
                "远程投票关闭前就有合计",
                "remote.totals before remote.closed",
                e,
            )
        key: ThresholdKey | None = s.election_key
        if key is not None and len(s.partial_indices) < key.k:
            self.fail(
                "V18.23",
                "elgamal.not_enough_shares",
                f"合计之前须有至少 {key.k} 份部分解密",
                f"remote.totals needs at least k = {key.k} partial decryptions before it",
                e,
                expected=f">= {key.k}",
                found=str(len(s.partial_indices)),
            )
        posts = b["posts"]
        ok_shape = isinstance(posts, list) and len(posts) == len(self.shapes)
        for i, shape in enumerate(self.shapes if ok_shape else ()):
            part = posts[i]
            if not (
                isinstance(part, dict)
                and set(part) == _TOTALS_POST
                and part["post"] == shape.post
                and isinstance(part["totals"], list)
                and len(part["totals"]) == shape.choices
                and all(type(t) is int and t >= 0 for t in part["totals"])
                and type(part["ballots"]) is int
            ):
                ok_shape = False
                break
        if not ok_shape:
            self.fail(
                "V18.23",
                "remote.totals_shape",
                "合计应为每个党员大会选举职位各一项 {post, ballots, totals}，每个选项一个整数",
                "totals must hold {post, ballots, totals} per assembly-voted post, one "
                "non-negative integer per choice",
                e,
                path="body.posts",
            )
            return
        casts = len(s.casts)
        for part in posts:
            s.totals[part["post"]] = tuple(part["totals"])
            if part["ballots"] != casts:
                self.fail(
                    "V18.23",
                    "remote.totals_ballots",
                    "合计中的选票数不等于远程投票数",
                    "ballots differs from the number of remote.cast entries",
                    e,
                    expected=str(casts),
                    found=str(part["ballots"]),
                )
        if key is None or not s.sums_known or len(s.partials) < key.k:
            return  # the inputs failed V18.1, V18.21 or V18.22 (or too few, above)
        chosen = sorted(s.partials)[: key.k]
        for i, shape in enumerate(self.shapes):
            for j in range(shape.choices):
                total = s.sums[shape.post][j]
                m = combine(
                    key,
                    total,
                    [VerifiedPartial(x, s.partials[x][shape.post][j]) for x in chosen],
                )
                t = posts[i]["totals"][j]
                if t <= casts and base_mul(t) == m:
                    continue
                try:
                    want = str(recover_total(m, casts))
                except ElGamalVerificationError as x:
                    want = x.code
                self.fail(
                    "V18.23",
                    "remote.totals_differ",
                    f"职位 {shape.post} 第 {j + 1} 个选项的合计与部分解密合并的结果不符",
                    f"the total of {shape.post} choice {j} differs from the combination of the "
                    "k lowest-index partial decryptions (EG-9.1, EG-9.2)",
                    e,
                    path=f"body.posts[{i}].totals[{j}]",
                    expected=want,
                    found=str(t),
                )

    # -------------------------------------------------------------- rounds and the end

    def round_counted(self, e: LogEntry) -> None:
        """(V18.23) ``remote.totals`` precedes the first count in which remote ballots count."""
        s = self.s
        if s.casts and s.totals_seq is None:
            self.fail(
                "V18.23",
                "remote.totals_missing_at_count",
                "计入远程选票的轮次计票前没有 remote.totals",
                "no remote.totals before the count that includes remote ballots",
                e,
            )

    def finish(self) -> None:
        """(V18.23) With any cast, a ``remote.totals``."""
        s = self.s
        self.close()
        if s.casts and s.totals_seq is None:
            self.fail(
                "V18.23",
                "remote.totals_missing",
                "有远程投票，但没有 remote.totals",
                "remote casts exist but no remote.totals",
                None,
                file="log.jsonl",
            )

    def count_of(self, post: str, ok: Any) -> tuple[int, tuple[tuple[str, int], ...]]:
        """(RV-7.1) What the post's remote totals add to its round: the ballots, and per
        listed candidate and write-in-eligible written-in person their approvals (R9.3, RV-2.4:
        the others' are dropped)."""
        s = self.s
        totals = s.totals.get(post)
        cands = next(p.candidates for p in s.posts if p.post == post)
        names = (*cands, *s.write_in_lists.get(post, ()))
        if totals is None or len(totals) != len(names):
            return len(s.casts), ()
        out = [
            (m, t)
            for i, (m, t) in enumerate(zip(names, totals, strict=True))
            if t and (i < len(cands) or ok(m))
        ]
        return len(s.casts), tuple(out)
