"""(V22) The order of a supplementary stock (spec/procedure.md RP-3.6, §13): a
``stock.supplemented`` follows its round's ``stock.committed`` (``stock.supplement_first``),
precedes the round's ``ballots.issued`` and its count or void (``stock.supplement_late``), and is
the round's next ``part`` (``stock.supplement_part``), as the producer's ledger refuses them. Each
case is a small log given straight to ``check_stock_order``."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from verifier.procedure.log import Entry, ProcedureLog
from verifier.procedure.stocks import check_stock_order

AT = dt.datetime(2026, 12, 1, 9, tzinfo=dt.UTC)
ROUND = {"form": "member", "post": "committee", "round": 1}
EVALUATION = {"form": "evaluation", "post": "", "round": 1}
HEX = "ab" * 32


@dataclass
class _Findings:
    items: list[tuple[str, int | None]] = field(default_factory=list)

    def fail(self, code: str, zh: str, en: str, **where: Any) -> None:
        assert where["clause"] == "V22"
        assert where["rule"] == "RP-3.6"
        assert zh and en
        self.items.append((code, where.get("seq")))


@dataclass
class _Run:
    f: _Findings = field(default_factory=_Findings)


def committed(r: dict[str, Any] = ROUND) -> tuple[str, dict[str, Any]]:
    return "stock.committed", {**r, "count": 5, "commitment": HEX}


def supplemented(part: int, r: dict[str, Any] = ROUND) -> tuple[str, dict[str, Any]]:
    return "stock.supplemented", {**r, "count": 2, "commitment": HEX, "part": part}


def _check(*steps: tuple[str, dict[str, Any]]) -> list[tuple[str, int | None]]:
    log = ProcedureLog()
    for seq, (type_, body) in enumerate(steps):
        log.entries.append(Entry(seq, type_, AT, body, b""))
    run = _Run()
    check_stock_order(run, log)
    return run.f.items


def test_v22_supplements_in_order_before_the_ballots_are_issued_pass() -> None:
    issued = ("ballots.issued", {**ROUND, "count": 7})
    assert _check(committed(), supplemented(2), supplemented(3), issued) == []


def test_v22_a_supplement_before_the_rounds_first_stock_is_supplement_first() -> None:
    assert _check(supplemented(2), committed()) == [("stock.supplement_first", 0)]


def test_v22_a_first_stock_of_another_round_does_not_open_a_supplement() -> None:
    other = {**ROUND, "post": "secretary"}
    found = _check(committed(other), supplemented(2), committed(EVALUATION))
    assert found == [("stock.supplement_first", 1)]


def test_v22_a_supplement_after_the_ballots_are_issued_is_supplement_late() -> None:
    issued = ("ballots.issued", {**ROUND, "count": 7})
    assert _check(committed(), issued, supplemented(2)) == [("stock.supplement_late", 2)]


def test_v22_a_supplement_after_the_round_is_void_is_supplement_late() -> None:
    void = ("round.void", {**EVALUATION, "issued": 4, "returned": 5})
    found = _check(committed(EVALUATION), void, supplemented(2, EVALUATION))
    assert found == [("stock.supplement_late", 2)]


def test_v22_a_supplement_after_the_round_is_counted_is_supplement_late() -> None:
    counted = ("recommendation.counted", {"group": "member", "post": "committee", "round": 1})
    found = _check(committed(), counted, supplemented(2))
    assert found == [("stock.supplement_late", 2)]


def test_v22_an_evaluation_supplement_after_its_count_is_supplement_late() -> None:
    counted = ("evaluation.counted", {"round": 1, "version": 1})
    found = _check(committed(EVALUATION), counted, supplemented(2, EVALUATION))
    assert found == [("stock.supplement_late", 2)]


def test_v22_the_ballots_issued_of_another_round_leave_a_supplement_on_time() -> None:
    issued = ("ballots.issued", {**ROUND, "round": 2, "count": 7})
    assert _check(committed(), issued, supplemented(2)) == []


def test_v22_a_supplement_skipping_a_part_is_supplement_part() -> None:
    assert _check(committed(), supplemented(3)) == [("stock.supplement_part", 1)]


def test_v22_a_supplement_repeating_a_part_is_supplement_part() -> None:
    found = _check(committed(), supplemented(2), supplemented(2))
    assert found == [("stock.supplement_part", 2)]


def test_v22_a_refused_supplement_does_not_count_as_a_part() -> None:
    """The producer's state is unchanged by a refused entry: the next part is still 2."""
    found = _check(committed(), supplemented(3), supplemented(2))
    assert found == [("stock.supplement_part", 1)]
