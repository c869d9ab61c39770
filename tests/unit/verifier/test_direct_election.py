"""The verifier on direct elections (spec/rules.md R22; verification V5, V11, V13).

E = 9 (M01-M09). Committee 3 seats of M01-M04; secretary candidates M01, M02; elected_by direct.
One opening for both ballot kinds; the committee elects M01, M03, M04; M02 drops out of the
secretary count (its 4 approvals count for nobody) and M01 (5, 2*5 > 9) is secretary.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tests.unit.verifier import builder as B
from verifier.report import Report

Runner = Callable[..., Report]


def _definition(secretary: list[str] | None = None) -> dict[str, Any]:
    d = B.definition()
    d["secretary"]["elected_by"] = "direct"
    if secretary is not None:
        d["posts"][1]["candidates"] = secretary
    return d


def _script() -> list[list[Any]]:
    ev: list[list[Any]] = [["election.opened", {}]]
    ev += [["member.checked_in", {"member": f"M0{i}"}] for i in range(1, 10)]
    ev += [
        ["stock.committed", {"post": "committee", "round": 1, "count": 12}],
        ["stock.committed", {"post": "secretary", "round": 1, "count": 12}],
        B._opened("committee", 1, "first", ["M01", "M02", "M03", "M04"], 3, 9),
        B._opened("secretary", 1, "first", ["M01", "M02"], 1, 9),
        ["ballots.issued", {"post": "committee", "round": 1, "count": 9}],
        ["ballots.issued", {"post": "secretary", "round": 1, "count": 9}],
        ["ballots.returned", {"post": "committee", "round": 1, "count": 9}],
        ["ballots.returned", {"post": "secretary", "round": 1, "count": 9}],
    ]
    ev += [B._ballot("committee", 1, "oxoo") for _ in range(9)]
    ev += [
        B._counted(
            "committee",
            1,
            9,
            0,
            [("M01", 9), ("M02", 0), ("M03", 9), ("M04", 9)],
            9,
            5,
            ["M01", "M03", "M04"],
            [],
            0,
            0,
        )
    ]
    ev += [B._ballot("secretary", 1, "ox") for _ in range(5)]
    ev += [B._ballot("secretary", 1, "xo") for _ in range(4)]
    counted = B._counted("secretary", 1, 9, 0, [("M01", 5)], 9, 5, ["M01"], [], 0, 0)
    counted[1]["dropped"] = ["M02"]
    ev += [counted]
    ev += [
        [
            "election.result",
            {
                "elected": {"committee": ["M01", "M03", "M04"], "secretary": ["M01"]},
                "publicity_start": "2026-09-30",
                "publicity_end": "2026-10-12",
            },
        ]
    ]
    return ev


def _idx(ev: list[list[Any]], etype: str, **match: Any) -> int:
    return next(
        i
        for i, (t, b) in enumerate(ev)
        if t == etype and all(b.get(k) == v for k, v in match.items())
    )


def test_direct_election_joint_opening_and_drop_out_verify_R22(run: Runner) -> None:
    report = run(B.build(_script(), man=B.manifest(_definition())))
    assert report.ok, [(c.clause, f.code, f.en) for c in report.clauses for f in c.findings]


def test_secretary_candidate_not_committee_candidate_fails_V5_R22_1(run: Runner) -> None:
    ev = _script()
    report = run(B.build(ev, man=B.manifest(_definition(["M01", "M05"]))))
    assert "V5" in set(report.failed())


def test_dropped_candidate_counted_for_fails_V13_R22_3(run: Runner) -> None:
    """A dishonest count gives M02 (not on the committee) the secretary post."""
    ev = _script()
    i = _idx(ev, "round.counted", post="secretary")
    ev[i][1].update(
        {"approvals": [{"member": "M01", "approvals": 5}, {"member": "M02", "approvals": 4}]}
    )
    del ev[i][1]["dropped"]
    assert set(run(B.build(ev, man=B.manifest(_definition()))).failed()) == {"V13"}


def test_joint_round_with_its_own_present_count_fails_V11_R22_2(run: Runner) -> None:
    ev = _script()
    ev[_idx(ev, "round.opened", post="secretary")][1]["present"] = 8
    assert "V11" in set(run(B.build(ev, man=B.manifest(_definition()))).failed())


def test_secretary_round_opened_apart_from_committee_fails_V11_R22_2(run: Runner) -> None:
    """The secretary's first round opened on its own after the committee count: not one
    opening for all posts."""
    ev = _script()
    opened = ev.pop(_idx(ev, "round.opened", post="secretary"))
    issued = ev.pop(_idx(ev, "ballots.issued", post="secretary"))
    returned = ev.pop(_idx(ev, "ballots.returned", post="secretary"))
    at = _idx(ev, "round.counted", post="committee") + 1
    ev[at:at] = [opened, issued, returned]
    report = run(B.build(ev, man=B.manifest(_definition())))
    assert "joint.incomplete" in {f.code for c in report.clauses for f in c.findings}


def _script_with_runoff() -> list[list[Any]]:
    """The committee ties (M02, M03, M04 for two seats); its runoff opens on its own; the secretary
    round of the joint opening is counted after it (nobody drops out: M01, M02 are elected)."""
    ev: list[list[Any]] = [["election.opened", {}]]
    ev += [["member.checked_in", {"member": f"M0{i}"}] for i in range(1, 10)]
    ev += [
        ["stock.committed", {"post": "committee", "round": 1, "count": 12}],
        ["stock.committed", {"post": "secretary", "round": 1, "count": 12}],
        B._opened("committee", 1, "first", ["M01", "M02", "M03", "M04"], 3, 9),
        B._opened("secretary", 1, "first", ["M01", "M02"], 1, 9),
        ["ballots.issued", {"post": "committee", "round": 1, "count": 9}],
        ["ballots.issued", {"post": "secretary", "round": 1, "count": 9}],
        ["ballots.returned", {"post": "committee", "round": 1, "count": 9}],
        ["ballots.returned", {"post": "secretary", "round": 1, "count": 9}],
    ]
    ev += [B._ballot("committee", 1, m) for m in ["ooox"] * 3 + ["ooxo"] * 3 + ["oxoo"] * 3]
    ev += [
        B._counted(
            "committee",
            1,
            9,
            0,
            [("M01", 9), ("M02", 6), ("M03", 6), ("M04", 6)],
            9,
            5,
            ["M01"],
            ["M02", "M03", "M04"],
            2,
            0,
        ),
        ["stock.committed", {"post": "committee", "round": 2, "count": 12}],
        B._opened("committee", 2, "runoff", ["M02", "M03", "M04"], 2, 9),
        ["ballots.issued", {"post": "committee", "round": 2, "count": 9}],
        ["ballots.returned", {"post": "committee", "round": 2, "count": 9}],
    ]
    ev += [B._ballot("committee", 2, "oox") for _ in range(9)]
    ev += [
        B._counted(
            "committee",
            2,
            9,
            0,
            [("M02", 9), ("M03", 9), ("M04", 0)],
            0,
            0,
            ["M02", "M03"],
            [],
            0,
            0,
        )
    ]
    ev += [B._ballot("secretary", 1, "ox") for _ in range(6)]
    ev += [B._ballot("secretary", 1, "xo") for _ in range(3)]
    ev += [B._counted("secretary", 1, 9, 0, [("M01", 6), ("M02", 3)], 9, 5, ["M01"], [], 0, 0)]
    ev += [
        [
            "election.result",
            {
                "elected": {"committee": ["M01", "M02", "M03"], "secretary": ["M01"]},
                "publicity_start": "2026-09-30",
                "publicity_end": "2026-10-12",
            },
        ]
    ]
    return ev


def test_committee_runoff_before_the_held_secretary_round_verifies_R22_2(run: Runner) -> None:
    report = run(B.build(_script_with_runoff(), man=B.manifest(_definition())))
    assert report.ok, [(c.clause, f.code, f.en) for c in report.clauses for f in c.findings]


def test_secretary_ballot_entered_before_the_committee_is_filled_fails_V11_R22_2(
    run: Runner,
) -> None:
    """A secretary ballot entered while the committee runoff is still to come."""
    ev = _script_with_runoff()
    ballot = ev.pop(_idx(ev, "ballot.entered", post="secretary"))
    ev.insert(_idx(ev, "round.counted", post="committee") + 1, ballot)
    report = run(B.build(ev, man=B.manifest(_definition())))
    assert "V11" in set(report.failed())
