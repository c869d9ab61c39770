"""V11/V14 for officials per round (R25.1, R25.2), amended further-round lists naming an official
(RS7.3) and seat reductions below a committee's 3 seats (R17), on the scripted election."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tests.unit.verifier import builder as B
from verifier.report import Report

Runner = Callable[..., Report]
Events = list[list[Any]]


def _codes(report: Report) -> set[tuple[str, str]]:
    return {(f.clause, f.code) for c in report.clauses for f in c.findings}


def _idx(ev: Events, etype: str, **match: Any) -> int:
    return next(
        i
        for i, (t, b) in enumerate(ev)
        if t == etype and all(b.get(k) == v for k, v in match.items())
    )


def _shortfall(ev: Events) -> Events:
    """Committee round 1 with M03 and M04 at 4 (minimum 5): M01, M02 elected, one seat open; the
    old runoff becomes the further round among M03 and ``other`` (set by the caller)."""
    entered = [
        i
        for i, (t, b) in enumerate(ev)
        if t == "ballot.entered" and (b["post"], b["round"]) == ("committee", 1)
    ]
    ev[entered[0]][1]["marks"] = "ooxx"  # was ooox: M03 -1
    ev[entered[2]][1]["marks"] = "ooxx"  # was ooxo: M04 -1
    c1 = _idx(ev, "round.counted", post="committee", round=1)
    ev[c1][1].update(
        {
            "approvals": [
                {"member": "M01", "approvals": 7},
                {"member": "M02", "approvals": 6},
                {"member": "M03", "approvals": 4},
                {"member": "M04", "approvals": 4},
                {"member": "M05", "approvals": 1},
            ],
            "elected": ["M01", "M02"],
            "tied": [],
            "tied_seats": 0,
            "shortfall": 1,
        }
    )
    return ev


def _further(ev: Events, candidates: list[str], approvals: list[tuple[str, int]]) -> Events:
    o = _idx(ev, "round.opened", post="committee", round=2)
    ev[o][1].update({"purpose": "further", "candidates": candidates})
    c2 = _idx(ev, "round.counted", post="committee", round=2)
    ev[c2][1].update(
        {
            "approvals": [{"member": m, "approvals": v} for m, v in approvals],
            "base": 9,
            "minimum": 5,
        }
    )
    return ev


def test_v14_amended_further_list_naming_the_scrutineer_fails_R25(run: Runner) -> None:
    ev = _shortfall(B.script())
    ev.insert(
        _idx(ev, "stock.committed", post="committee", round=2),
        B.amended("committee", 2, ["M03", "M08"]),
    )
    ev = _further(ev, ["M03", "M08"], [("M03", 5), ("M08", 2), ("M06", 1)])
    codes = _codes(run(B.build(ev)))
    assert codes == {("V14", "amend.official"), ("V11", "official.is_candidate")}


def test_v14_amended_further_list_after_the_officials_change_passes_R25(run: Runner) -> None:
    """M08 scrutinised round 1; once M07 takes over, M08 may stand in the further round."""
    ev = _shortfall(B.script())
    i = _idx(ev, "stock.committed", post="committee", round=2)
    ev[i:i] = [
        ["officials.changed", {"scrutineers": ["M07"], "tellers": ["M09"]}],
        B.amended("committee", 2, ["M03", "M08"]),
    ]
    ev = _further(ev, ["M03", "M08"], [("M03", 5), ("M08", 2), ("M06", 1)])
    # M07 scrutinises the secretary rounds too, so M07 (not M08) must stay present.
    left = _idx(ev, "member.left", member="M07")
    ev[left][1]["member"] = "M08"
    report = run(B.build(ev))
    assert report.ok, _codes(report)


def test_v14_officials_change_with_a_duplicate_or_both_roles_fails_R25(run: Runner) -> None:
    ev = B.script()
    i = _idx(ev, "member.left", member="M07")
    ev.insert(i, ["officials.changed", {"scrutineers": ["M08", "M08"], "tellers": ["M08"]}])
    codes = _codes(run(B.build(ev)))
    assert codes == {("V14", "official.duplicate"), ("V14", "official.both_roles")}


def test_v11_secretary_round_whose_scrutineer_is_its_candidate_fails_R25(run: Runner) -> None:
    ev = B.script()
    i = _idx(ev, "member.left", member="M07")
    ev.insert(i, ["officials.changed", {"scrutineers": ["M01"], "tellers": ["M09"]}])
    codes = _codes(run(B.build(ev)))
    assert codes == {("V11", "official.is_candidate")}


def test_v14_committee_reduced_below_three_seats_fails_R17(run: Runner) -> None:
    ev = _shortfall(B.script())
    start = _idx(ev, "stock.committed", post="committee", round=2)
    end = _idx(ev, "round.counted", post="committee", round=2)
    ev[start : end + 1] = [
        [
            "seats.reduced",
            {
                "post": "committee",
                "seats": 2,
                "assembly_consent": 5,
                "town_agreement": "红组〔2026〕20号",
            },
        ]
    ]
    ev[_idx(ev, "election.result")][1]["elected"]["committee"] = ["M01", "M02"]
    codes = _codes(run(B.build(ev)))
    assert codes == {("V14", "reduction.bad_number")}
