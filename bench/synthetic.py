"""A synthetic election at scale, produced by the real tally code (for the benchmarks).

A branch of 4,998 members (the most one ballot stock holds, divisible by 3) elects a 3-seat
committee from 4 candidates. Every member approves A; B, C and D each get two thirds of the
ballots, so A is elected and B, C, D tie for the last two seats. Each runoff among B, C, D ties
again until the last, which B and C win; the assembly then elects A secretary. The number of
runoffs sets the number of ballots: 4,998 per round.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Callable
from pathlib import Path

import ballot_printer
import keys
from tally.calendar import load_calendar
from tally.core.definition import parse_definition_data
from tally.core.manifest import build_manifest
from tally.core.model import PostKind
from tally.election import ElectionSession, EntryInput, sign_manifest

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


def build(
    folder: Path,
    *,
    runoffs: int,
    progress: Callable[[int], None] | None = None,
    members: int | None = None,
) -> tuple[ElectionSession, keys.InMemorySigner, float, int]:
    """Run the election into ``folder/election.db``.

    Returns:
        The session, the town signer, the seconds spent entering ballots, the ballots entered.
    """
    town = keys.InMemorySigner.generate(keys.Role.TOWN_COMMITTEE, "town")
    wg = keys.InMemorySigner.generate(keys.Role.WORK_GROUP, "wg")
    sc = keys.InMemorySigner.generate(keys.Role.SCRUTINEER, "s1")

    def pub(s: keys.InMemorySigner) -> dict[str, object]:
        doc: dict[str, object] = json.loads(keys.export_public_key(s.public_key))
        return doc

    size = members or MEMBERS
    election = parse_definition_data(_definition(size))
    manifest = build_manifest(election, work_group_key=pub(wg), scrutineer_keys=(pub(sc),))
    (folder / "town.pub").write_bytes(keys.export_public_key(town.public_key))
    session = ElectionSession.init(folder / "election.db", sign_manifest(manifest, town), wg)
    session.check_in([m.id for m in election.members])
    third = size // 3
    entering, entered = 0.0, 0

    def run_round(marks: list[str]) -> None:
        nonlocal entering, entered
        spec = session.due_round()
        stock = ballot_printer.make_stock(
            election_id=manifest.election_id,
            kind=ballot_printer.PaperKind(
                {PostKind.COMMITTEE: 1, PostKind.SECRETARY: 2}[spec.post]
            ),
            round_number=spec.number,
            count=len(marks),
            signer=wg,
        )
        session.commit_stock(stock, signer=wg)
        session.issue(count=None, signer=wg)
        session.return_ballots(len(marks), signer=wg)
        items = [
            EntryInput(qr=ballot_printer.encode_qr_text(p), marks=m)
            for p, m in zip(stock.payloads, marks, strict=True)
        ]
        t0 = time.perf_counter()
        for i in range(0, len(items), BATCH):
            session.enter(items[i : i + BATCH])
        entering += time.perf_counter() - t0
        entered += len(items)
        session.close(signer=wg)
        if progress:
            progress(entered)

    run_round(["ooo-"] * third + ["oo-o"] * third + ["o-oo"] * third)
    for _ in range(runoffs - 1):
        run_round(["oo-"] * third + ["o-o"] * third + ["-oo"] * third)
    run_round(["oo-"] * (2 * third) + ["-oo"] * third)  # B and C win the last runoff
    run_round(["ox"] * size)  # the assembly elects A secretary
    session.record_result(signer=wg, calendar=load_calendar(None))
    session.cosign(sc)
    return session, town, entering, entered
