"""(V24) The verifier's session checks (spec/procedure.md RP-3.4, RP-5.2, §13 V24): a round is
void exactly when more ballots are returned than issued, and then keeps no ballot and is never
counted; otherwise the ballots kept at the count are the returned number. Each case is a small
log given straight to ``check_sessions``. An evaluation needs more than half of its ``Q`` public
representatives and at most ``Q`` (RP-5.2, ``evaluation.public_quorum``)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from verifier.procedure.log import Entry, ProcedureLog
from verifier.procedure.sessions import check_sessions

MEMBERS = [f"M{i:02d}" for i in range(1, 6)]
VALUE: dict[str, Any] = {
    "members": [{"id": m, "status": "full", "registered_here": True} for m in MEMBERS],
    "exclusions": [],
    "recommendation": {"quorum": "half", "public_representatives": 10},
    "evaluation": {"public_representatives": 3},
}
AT = dt.datetime(2026, 12, 1, 9, tzinfo=dt.UTC)


@dataclass
class _Findings:
    items: list[tuple[str, int | None]] = field(default_factory=list)

    def fail(self, code: str, _zh: str, _en: str, **where: Any) -> None:
        assert where["clause"] == "V24"
        self.items.append((code, where.get("seq")))


@dataclass
class _Run:
    f: _Findings = field(default_factory=_Findings)


def _log(*steps: tuple[str, dict[str, Any]]) -> tuple[ProcedureLog, list[Entry]]:
    log = ProcedureLog()
    for seq, (type_, body) in enumerate(steps):
        log.entries.append(Entry(seq, type_, AT, body, b""))
    records = log.of("recommendation.entered", "evaluation.entered", "ballot.declared_invalid")
    return log, records


def _member_round(issued: int, returned: int) -> list[tuple[str, dict[str, Any]]]:
    post = {"form": "member", "post": "committee", "round": 1}
    opened = {
        "group": "member",
        "round": 1,
        "posts": ["committee"],
        "present": issued,
        "present_members": MEMBERS[:issued],
    }
    return [
        ("recommendation.opened", opened),
        ("ballots.issued", {**post, "count": issued}),
        ("ballots.returned", {**post, "count": returned}),
    ]


def _entered(n: int) -> list[tuple[str, dict[str, Any]]]:
    body = {"group": "member", "post": "committee", "round": 1, "marks": "", "written": []}
    return [("recommendation.entered", {**body, "ballot_id": f"b{i}"}) for i in range(n)]


COUNTED = ("recommendation.counted", {"group": "member", "post": "committee", "round": 1})


def _check(steps: list[tuple[str, dict[str, Any]]]) -> list[tuple[str, int | None]]:
    run = _Run()
    log, records = _log(*steps)
    check_sessions(run, VALUE, log, records)
    return run.f.items


def test_v24_a_round_counted_with_returned_not_above_issued_and_records_equal_passes() -> None:
    assert _check([*_member_round(4, 4), *_entered(4), COUNTED]) == []


def test_v24_a_round_counted_though_more_were_returned_than_issued_is_session_void() -> None:
    """The records equal the returned number, so only the void rule can catch it (vector
    V24-returned-more-not-void): the count and the ballots kept are both reported."""
    steps = [*_member_round(4, 5), *_entered(5), COUNTED]
    found = _check(steps)
    assert found == [("session.void", len(steps) - 1), ("session.void", 3)]


def test_v24_ballots_kept_in_a_round_with_more_returned_than_issued_are_session_void() -> None:
    """Not voided and not counted (a bundle published mid-round): the ballots alone fail."""
    assert _check([*_member_round(4, 5), *_entered(2)]) == [("session.void", 3)]


def test_v24_a_void_round_keeps_no_ballot_reported_once_per_round() -> None:
    void = {"form": "member", "post": "committee", "round": 1, "issued": 4, "returned": 5}
    found = _check([*_member_round(4, 5), *_entered(3), ("round.void", void)])
    assert found == [("session.void", 3)]


def test_v24_a_void_round_with_more_returned_than_issued_and_no_ballot_passes() -> None:
    void = {"form": "member", "post": "committee", "round": 1, "issued": 4, "returned": 5}
    assert _check([*_member_round(4, 5), ("round.void", void)]) == []


def _evaluation_round(issued: int, returned: int) -> list[tuple[str, dict[str, Any]]]:
    post = {"form": "evaluation", "post": "", "round": 1}
    opened = {
        "round": 1,
        "version": 1,
        "candidates": MEMBERS[:2],
        "present_members": MEMBERS[:2],
        "public_present": issued - 2,
        "present": issued,
    }
    return [
        ("evaluation.opened", opened),
        ("ballots.issued", {**post, "count": issued}),
        ("ballots.returned", {**post, "count": returned}),
    ]


def _declared(n: int) -> list[tuple[str, dict[str, Any]]]:
    body = {"form": "evaluation", "post": "", "round": 1}
    return [("ballot.declared_invalid", {**body, "ballot_id": f"e{i}"}) for i in range(n)]


def test_v24_an_evaluation_round_with_more_returned_than_issued_keeps_no_ballot() -> None:
    void = {"form": "evaluation", "post": "", "round": 1, "issued": 4, "returned": 5}
    found = _check([*_evaluation_round(4, 5), *_declared(2), ("round.void", void)])
    assert found == [("session.void", 3)]


def test_v24_an_evaluation_round_without_a_valid_ballot_is_void_with_its_ballots() -> None:
    """RP-5.5: every returned ballot entered, none valid: void though returned = issued."""
    void = {"form": "evaluation", "post": "", "round": 1, "issued": 4, "returned": 4}
    assert _check([*_evaluation_round(4, 4), *_declared(4), ("round.void", void)]) == []


def _opened_with_public(public: int, q: int) -> list[tuple[str, int | None]]:
    steps = _evaluation_round(2 + public, 2 + public)
    value = {**VALUE, "evaluation": {"public_representatives": q}}
    run = _Run()
    log, records = _log(*steps)
    check_sessions(run, value, log, records)
    return run.f.items


def test_v24_an_evaluation_with_more_than_half_of_its_public_representatives_passes() -> None:
    assert _opened_with_public(2, 3) == []
    assert _opened_with_public(3, 3) == []


def test_v24_an_evaluation_with_exactly_half_of_its_public_representatives_fails() -> None:
    assert _opened_with_public(2, 4) == [("evaluation.public_quorum", 0)]


def test_v24_an_evaluation_with_fewer_than_half_of_its_public_representatives_fails() -> None:
    assert _opened_with_public(0, 3) == [("evaluation.public_quorum", 0)]


def test_v24_an_evaluation_with_more_public_representatives_than_the_town_fixed_fails() -> None:
    assert _opened_with_public(4, 3) == [("evaluation.public_quorum", 0)]


def test_v24_an_evaluation_public_present_not_an_integer_fails() -> None:
    steps = _evaluation_round(4, 4)
    steps[0][1]["public_present"] = "2"
    assert ("evaluation.public_quorum", 0) in _check(steps)
