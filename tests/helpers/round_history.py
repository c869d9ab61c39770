"""One election with every kind of round (RULES A13), driven through the real session.

Qingshan (E = 25, threshold 13 = more than half of 25, committee 5 seats M001-M006, then the
secretary M005/M004):

* committee round 1: 20 of 25 checked in, no quorum (more than 4/5 of 25 is 21): not held;
* committee round 2: 23 present, 23 issued, 24 returned: VOID;
* committee round 3 (re-vote of round 2): M001-M003 pass (20, 19, 18), M004-M006 stay below 13
  (12, 11, 10): 3 elected, 2 seats open;
* committee round 4 (further round 另行选举, M004-M006 for 2 seats): M004 16, M005 and M006 14
  each (both pass): M004 elected, M005/M006 tie across the last seat;
* committee round 5 (runoff, no threshold): M005 13, M006 10: M005 elected;
* secretary round 1: M005 15, M004 8: M005 elected. Then the result and the scrutineers' sign-off.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

import ballot_printer
import keys
from tally.calendar import load_calendar
from tally.core.definition import parse_definition
from tally.core.manifest import build_manifest
from tally.election import ElectionSession, EntryInput
from tally.manifest_io import sign_manifest
from tally.session_errors import SessionError

ROOT = Path(__file__).resolve().parents[2]
PRESENT = [f"M{i:03d}" for i in range(1, 27) if i not in (15, 20, 25)]  # 23 of E = 25

# (post, candidates in ballot order, seats, approvals per candidate, ballots returned)
ROUND_3 = (20, 19, 18, 12, 11, 10)
FURTHER = (16, 14, 14)
RUNOFF = (13, 10)
SECRETARY = (15, 8)


def spread(approvals: Sequence[int], ballots: int, seats: int) -> list[str]:
    """Marks strings (one per ballot) giving each candidate exactly ``approvals[j]`` approvals,
    never more than ``seats`` per ballot (so every ballot is valid)."""
    counts = [0] * ballots
    marks = [["x"] * len(approvals) for _ in range(ballots)]
    for j in sorted(range(len(approvals)), key=lambda j: -approvals[j]):
        chosen = sorted(range(ballots), key=lambda b: (counts[b], b))[: approvals[j]]
        for b in chosen:
            marks[b][j] = "o"
            counts[b] += 1
    assert max(counts) <= seats
    return ["".join(m) for m in marks]


def _pub(s: keys.InMemorySigner) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(keys.export_public_key(s.public_key))
    return doc


def _stock(
    s: ElectionSession, wg: keys.InMemorySigner, kind: ballot_printer.PaperKind, number: int
) -> list[str]:
    made = ballot_printer.make_stock(
        election_id=s.manifest.election_id,
        kind=kind,
        round_number=number,
        count=25,
        signer=wg,
    )
    s.commit_stock(made, signer=wg)
    return [ballot_printer.encode_qr_text(p) for p in made.payloads]


def _vote(
    s: ElectionSession,
    wg: keys.InMemorySigner,
    kind: ballot_printer.PaperKind,
    approvals: Sequence[int],
    seats: int,
) -> None:
    spec = s.due_round()
    assert spec.seats == seats and len(spec.candidates) == len(approvals), spec
    texts = _stock(s, wg, kind, spec.number)
    s.issue(count=None, signer=wg)
    s.return_ballots(len(PRESENT), signer=wg)
    marks = spread(approvals, len(PRESENT), seats)
    s.enter([EntryInput(qr=q, marks=m) for q, m in zip(texts, marks, strict=False)])
    s.close(signer=wg)


def build_every_round_election(
    path: Path,
) -> tuple[keys.InMemorySigner, keys.InMemorySigner, list[keys.InMemorySigner]]:
    """Write the election file at ``path``; returns (town, work group, scrutineers)."""
    town = keys.InMemorySigner.generate(keys.Role.TOWN_COMMITTEE, "红旗镇党委")
    wg = keys.InMemorySigner.generate(keys.Role.WORK_GROUP, "选举工作组")
    scrutineers = [
        keys.InMemorySigner.generate(keys.Role.SCRUTINEER, label) for label in ("黄德明", "赵红梅")
    ]
    election = parse_definition((ROOT / "examples" / "qingshan.toml").read_text(encoding="utf-8"))
    manifest = build_manifest(
        election, work_group_key=_pub(wg), scrutineer_keys=tuple(_pub(x) for x in scrutineers)
    )
    s = ElectionSession.init(path, sign_manifest(manifest, town), wg)
    committee = ballot_printer.PaperKind.COMMITTEE
    try:
        # round 1: no quorum
        s.check_in(PRESENT[:20])
        _stock(s, wg, committee, 1)
        with pytest.raises(SessionError, match="NOT valid"):
            s.issue(count=None, signer=wg)
        s.check_in(PRESENT[20:])
        # round 2: void (more returned than issued)
        if (s.due_round().post, s.due_round().number) not in s.meeting.stocks:
            _stock(s, wg, committee, s.due_round().number)
        s.issue(count=None, signer=wg)
        assert s.return_ballots(len(PRESENT) + 1, signer=wg) is False
        for sc in scrutineers:
            s.cosign(sc)
        _vote(s, wg, committee, ROUND_3, 5)
        _vote(s, wg, committee, FURTHER, 2)
        _vote(s, wg, committee, RUNOFF, 1)
        _vote(s, wg, ballot_printer.PaperKind.SECRETARY, SECRETARY, 1)
        s.record_result(signer=wg, calendar=load_calendar(None))
        for sc in scrutineers:
            s.cosign(sc)
    finally:
        s.store.close()
    return town, wg, scrutineers
