"""A synthetic election at scale, produced by the real tally code (for the benchmarks).

A branch of 4,998 members (the most one ballot stock holds, divisible by 3) elects a 3-seat
committee from 4 candidates. Every member approves A; B, C and D each get two thirds of the
ballots, so A is elected and B, C, D tie for the last two seats. Each runoff among B, C, D ties
again until the last, which B and C win; the assembly then elects A secretary. The number of
runoffs sets the number of ballots: 4,998 per round.
"""

from __future__ import annotations

import collections
import contextlib
import datetime as dt
import hashlib
import json
import multiprocessing
import random
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from types import SimpleNamespace

import ballot_printer
import keys
import tally.election_log
from tally.calendar import load_calendar
from tally.core.definition import parse_definition_data
from tally.core.manifest import build_manifest
from tally.core.model import PostKind
from tally.election import ElectionSession, EntryInput
from tally.manifest_io import sign_manifest

MEMBERS = int(__import__("os").environ.get("BENCH_MEMBERS", "4998"))
BATCH = 1000


def _definition(members: int) -> dict[str, object]:
    return {
        "format": "election-definition/1",
        "preset": "R2020",
        "election": {
            "title": "基准测试选举",
            "branch": "中共基准村支部委员会",
            "town": "中共基准镇委员会",
            "term": "第一届",
            "date": dt.date(2026, 12, 15),
            "objections_to": "镇党委组织办",
        },
        "secretary": {"elected_by": "assembly"},
        "posts": [
            {
                "post": "committee",
                "seats": 3,
                "candidates": ["B00001", "B00002", "B00003", "B00004"],
            },
            {"post": "secretary", "seats": 1, "candidates": ["B00001", "B00002"]},
        ],
        "officials": {"scrutineers": [f"B{members:05d}"], "tellers": [f"B{members - 1:05d}"]},
        "members": [
            {
                "id": f"B{i:05d}",
                "name": f"党员{i:05d}",
                "sex": "male" if i % 2 else "female",
                "birth_date": dt.date(1985, 1, 1),
                "education": "bachelor",
                "status": "full",
            }
            for i in range(1, members + 1)
        ],
    }


# The work group's signer in a stock worker: set before the workers are forked (a signer is never
# pickled), so each worker holds the parent's key.
_SIGNER: keys.InMemorySigner | None = None


def _rng(seed: bytes, *labels: object) -> random.Random:
    """A generator for one use of the seed (a key, a stock's ids, the salts)."""
    label = "/".join(str(x) for x in labels).encode()
    return random.Random(hashlib.sha256(seed + b"\x00" + label).digest())


@contextlib.contextmanager
def _seeded_stock(seed: bytes, kind: int, number: int) -> Iterator[None]:
    """``make_stock``'s ids and shuffle drawn from a generator of the seed, the paper kind and the
    round (so a stock does not depend on which process makes it, nor on the stocks before it)."""
    import ballot_printer.stock as stock_module  # noqa: PLC0415

    rng = _rng(seed, "stock", kind, number)
    saved = stock_module.secrets
    stock_module.secrets = SimpleNamespace(  # type: ignore[assignment]
        token_bytes=rng.randbytes, SystemRandom=lambda: rng
    )
    try:
        yield
    finally:
        stock_module.secrets = saved


@contextlib.contextmanager
def _seeded_session(seed: bytes) -> Iterator[None]:
    """The session's clock (a millisecond a reading from a fixed start) and entry salts from the
    seed, as scripts/gen_bundle_vectors.py replaces them."""
    start = dt.datetime(2026, 12, 15, 8, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))
    readings = iter(range(1 << 62))
    salts = _rng(seed, "salts")
    salt_size = len(tally.election_log._fresh_salt())
    saved = tally.election_log._now, tally.election_log._salt
    tally.election_log._now = lambda: start + dt.timedelta(milliseconds=next(readings))
    tally.election_log._salt = lambda: salts.randbytes(salt_size)
    try:
        yield
    finally:
        tally.election_log._now, tally.election_log._salt = saved


def _stock_job(job: tuple[bytes, int, int, int, bytes | None]) -> tuple[object, list[str]]:
    """One round's ballot stock and the scanner texts of its ballots (in a worker or in process)."""
    election_id, kind, number, count, seed = job
    assert _SIGNER is not None
    with _seeded_stock(seed, kind, number) if seed is not None else contextlib.nullcontext():
        stock = ballot_printer.make_stock(
            election_id=election_id,
            kind=ballot_printer.PaperKind(kind),
            round_number=number,
            count=count,
            signer=_SIGNER,
        )
    return stock, [ballot_printer.encode_qr_text(p) for p in stock.payloads]


def _signer(role: keys.Role, label: str, seed: bytes | None) -> keys.InMemorySigner:
    if seed is None:
        return keys.InMemorySigner.generate(role, label)
    return keys.InMemorySigner.from_seed(role, label, _rng(seed, "key", label).randbytes(32))


def build(
    folder: Path,
    *,
    runoffs: int,
    progress: Callable[[int], None] | None = None,
    members: int | None = None,
    workers: int = 1,
    seed: bytes | None = None,
) -> tuple[ElectionSession, keys.InMemorySigner, float, int]:
    """Run the election into ``folder/election.db``.

    ``workers`` processes in all: with 2 or more, the ballot stocks are made by ``workers - 1``
    forked processes, at most ``workers`` rounds ahead of the session. ``seed``: see the module.

    Returns:
        The session, the town signer, the seconds spent entering ballots, the ballots entered.
    """
    global _SIGNER  # noqa: PLW0603 - read by the forked stock workers
    with _seeded_session(seed) if seed is not None else contextlib.nullcontext():
        town = _signer(keys.Role.TOWN_COMMITTEE, "town", seed)
        wg = _signer(keys.Role.WORK_GROUP, "wg", seed)
        sc = _signer(keys.Role.SCRUTINEER, "s1", seed)
        _SIGNER = wg
        try:
            return _build(
                folder, runoffs, progress, members or MEMBERS, workers, seed, town, wg, sc
            )
        finally:
            _SIGNER = None


def _build(
    folder: Path,
    runoffs: int,
    progress: Callable[[int], None] | None,
    size: int,
    workers: int,
    seed: bytes | None,
    town: keys.InMemorySigner,
    wg: keys.InMemorySigner,
    sc: keys.InMemorySigner,
) -> tuple[ElectionSession, keys.InMemorySigner, float, int]:
    def pub(s: keys.InMemorySigner) -> dict[str, object]:
        doc: dict[str, object] = json.loads(keys.export_public_key(s.public_key))
        return doc

    election = parse_definition_data(_definition(size))
    manifest = build_manifest(election, work_group_key=pub(wg), scrutineer_keys=(pub(sc),))
    (folder / "town.pub").write_bytes(keys.export_public_key(town.public_key))
    session = ElectionSession.init(folder / "election.db", sign_manifest(manifest, town), wg)
    session.check_in([m.id for m in election.members])
    third = size // 3
    # Every round, in the order the session holds them: (post, number, marks).
    rounds: list[tuple[PostKind, int, list[str]]] = [
        (PostKind.COMMITTEE, 1, ["ooo-"] * third + ["oo-o"] * third + ["o-oo"] * third)
    ]
    for n in range(2, runoffs + 1):
        rounds.append((PostKind.COMMITTEE, n, ["oo-"] * third + ["o-o"] * third + ["-oo"] * third))
    # B and C win the last runoff; the assembly then elects A secretary.
    rounds.append((PostKind.COMMITTEE, runoffs + 1, ["oo-"] * (2 * third) + ["-oo"] * third))
    rounds.append((PostKind.SECRETARY, 1, ["ox"] * size))
    kinds = {PostKind.COMMITTEE: 1, PostKind.SECRETARY: 2}
    jobs = [
        (manifest.election_id, kinds[post], number, len(marks), seed)
        for post, number, marks in rounds
    ]
    entering, entered = 0.0, 0

    def run_round(
        post: PostKind, number: int, marks: list[str], made: tuple[object, list[str]]
    ) -> None:
        nonlocal entering, entered
        spec = session.due_round()
        if (spec.post, spec.number) != (post, number):
            raise RuntimeError(
                f"the session's next round is {spec.post} {spec.number}, not {post} {number}"
            )
        stock, texts = made
        session.commit_stock(stock, signer=wg)  # type: ignore[arg-type]
        session.issue(count=None, signer=wg)
        session.return_ballots(len(marks), signer=wg)
        items = [EntryInput(qr=q, marks=m) for q, m in zip(texts, marks, strict=True)]
        t0 = time.perf_counter()
        for i in range(0, len(items), BATCH):
            session.enter(items[i : i + BATCH])
        entering += time.perf_counter() - t0
        entered += len(items)
        session.close(signer=wg)
        if progress:
            progress(entered)

    if workers <= 1:
        for (post, number, marks), job in zip(rounds, jobs, strict=True):
            run_round(post, number, marks, _stock_job(job))
    else:
        # Fork after the signer is set; at most ``workers`` stocks made ahead of the session, so
        # the session's memory holds a couple of stocks, not the election's.
        with multiprocessing.get_context("fork").Pool(workers - 1) as pool:
            pending = collections.deque(pool.apply_async(_stock_job, (j,)) for j in jobs[:workers])
            for k, (post, number, marks) in enumerate(rounds):
                made = pending.popleft().get()
                if k + workers < len(jobs):
                    pending.append(pool.apply_async(_stock_job, (jobs[k + workers],)))
                run_round(post, number, marks, made)
    session.record_result(signer=wg, calendar=load_calendar(None))
    session.cosign(sc)
    return session, town, entering, entered
