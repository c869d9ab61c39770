"""V14 for amended candidate lists (spec/rules.md RS7, spec/log.md §2.1): the town's signature, the
moments RS7 allows, and every check a definition's list gets.

The scripted election with secretary candidates M01 and M04 in the manifest: M04 loses the
committee runoff, so the secretary round is blocked (R20) until the town signs M01, M02; the rest
of the script (M01, M02 on the secretary ballot) follows unchanged."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tests.unit.verifier import builder as B
from verifier.report import Report

Runner = Callable[..., Report]


def _manifest(**member_changes: dict[str, Any]) -> dict[str, Any]:
    d = B.definition()
    next(p for p in d["posts"] if p["post"] == "secretary")["candidates"] = ["M01", "M04"]
    for m in d["members"]:
        m.update(member_changes.get(m["id"], {}))
    return B.manifest(d)


def _script(man: dict[str, Any], event: list[Any] | None = None) -> list[list[Any]]:
    ev = B.script()
    i = next(k for k, (t, b) in enumerate(ev) if t == "member.left")  # after the committee
    ev.insert(i, event or B.amended("secretary", 1, ["M01", "M02"], eid=B.election_id(man)))
    return ev


def _codes(report: Report) -> set[tuple[str, str]]:
    return {(f.clause, f.code) for c in report.clauses for f in c.findings}


def test_v14_town_signed_list_for_a_blocked_round_passes(run: Runner) -> None:
    man = _manifest()
    report = run(B.build(_script(man), man=man))
    assert report.ok, _codes(report)


def test_v14_list_signed_by_another_key_fails(run: Runner) -> None:
    man = _manifest()
    forged = B.amended("secretary", 1, ["M01", "M02"], eid=B.election_id(man), signer=B.OTHER_TOWN)
    report = run(B.build(_script(man, forged), man=man))
    assert _codes(report) == {("V14", "amend.not_signed")}


def test_v14_list_altered_after_signing_fails(run: Runner) -> None:
    man = _manifest()
    event = B.amended("secretary", 1, ["M01", "M03"], eid=B.election_id(man))
    event[1]["candidates"] = ["M01", "M02"]
    report = run(B.build(_script(man, event), man=man))
    assert _codes(report) == {("V14", "amend.not_signed")}


def test_v14_list_for_another_round_fails(run: Runner) -> None:
    man = _manifest()
    event = B.amended("secretary", 2, ["M01", "M02"], eid=B.election_id(man))
    report = run(B.build(_script(man, event), man=man))
    assert _codes(report) == {("V14", "amend.wrong_round")}


def test_v14_unqualified_secretary_candidate_fails_under_block_R27(run: Runner) -> None:
    man = _manifest(M02={"birth_date": "1970-01-01"})
    report = run(B.build(_script(man), man=man))
    assert _codes(report) == {("V14", "qualification.age")}


def test_v14_list_replacing_a_first_round_list_that_can_open_fails_RS7(run: Runner) -> None:
    """The manifest's own secretary list (M01, M02) can open: no amended list may replace it."""
    ev = _script(B.manifest(), B.amended("secretary", 1, ["M01", "M02"]))
    report = run(B.build(ev))
    assert _codes(report) == {("V14", "amend.not_now")}


def test_v14_first_round_list_below_the_margin_fails_R19(run: Runner) -> None:
    man = _manifest()
    report = run(
        B.build(_script(man, B.amended("secretary", 1, ["M01"], eid=B.election_id(man))), man=man)
    )
    assert ("V14", "post.margin") in _codes(report)
