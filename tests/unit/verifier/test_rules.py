"""The rules re-implementation against the worked examples and edge cases of spec/rules.md §12-§13."""

from __future__ import annotations

import datetime as dt

import pytest

from verifier import rules
from verifier.model import Parameters

R2020 = Parameters(
    "GT", "E", False, "ignored", "void_mark", 5, "block", 45, "senior_high", 50, "junior_high"
)


def _verdicts(counts: dict[str, int], invalid: int = 0) -> list[rules.BallotVerdict]:
    out = [rules.BallotVerdict(False, ()) for _ in range(invalid)]
    for m, n in counts.items():
        out += [rules.BallotVerdict(True, (m,)) for _ in range(n)]
    return out


def test_example_a() -> None:
    assert rules.quorum(47, 55, "GT")
    assert rules.margin_ok(6, 5, "20pct")
    c = {"A": 44, "B": 41, "C": 39, "D": 30, "E": 28, "F": 25}
    r = rules.count_round(
        verdicts=_verdicts(c, 1), candidates=list(c), seats=5, base=55, runoff=False
    )
    assert (r.minimum, r.elected, r.tied, r.shortfall, r.invalid_ballots) == (
        28,
        ("A", "B", "C", "D", "E"),
        (),
        0,
        1,
    )
    r = rules.count_round(verdicts=_verdicts(c), candidates=list(c), seats=5, base=47, runoff=False)
    assert (r.minimum, r.elected) == (24, ("A", "B", "C", "D", "E"))
    overvote = rules.judge_ballot(
        marks="oooooo",
        write_ins=[],
        candidates=list(c),
        seats=5,
        params=R2020,
        write_in_eligible=lambda m: True,
        runoff=False,
    )
    assert not overvote.valid


def test_example_b_tie_and_runoff() -> None:
    assert rules.quorum(36, 40, "GT")
    c = {"A": 33, "B": 28, "C": 23, "D": 23}  # 107 approvals fit on 36 ballots of 3 choices
    assert sum(c.values()) <= 3 * 36
    r = rules.count_round(verdicts=_verdicts(c), candidates=list(c), seats=3, base=40, runoff=False)
    assert (r.minimum, r.elected, r.tied, r.tied_seats) == (21, ("A", "B"), ("C", "D"), 1)
    r = rules.count_round(
        verdicts=_verdicts({"C": 20, "D": 15}), candidates=["C", "D"], seats=1, base=0, runoff=True
    )
    assert (r.base, r.minimum, r.elected) == (0, 0, ("C",))
    r = rules.count_round(
        verdicts=_verdicts({"C": 17, "D": 17}), candidates=["C", "D"], seats=1, base=0, runoff=True
    )
    assert (r.elected, r.tied, r.tied_seats) == ((), ("C", "D"), 1)


def test_example_c_shortfall() -> None:
    c = {"A": 30, "B": 27, "C": 22, "D": 19, "E": 12, "F": 8}
    r = rules.count_round(verdicts=_verdicts(c), candidates=list(c), seats=5, base=40, runoff=False)
    assert (r.elected, r.shortfall) == (("A", "B", "C"), 2)
    assert 2 * 21 > 40 and not 2 * 20 > 40


def test_example_d_plenary() -> None:
    assert rules.plenary_quorum(5, 5)
    assert rules.margin_ok(1, 1, "none")
    r = rules.count_round(
        verdicts=[*_verdicts({"S": 4}, 0), rules.BallotVerdict(True, ())],
        candidates=["S"],
        seats=1,
        base=5,
        runoff=False,
    )
    assert r.elected == ("S",)


def test_edge_cases() -> None:
    assert not rules.quorum(40, 50, "GT") and rules.quorum(40, 50, "GE")  # 1
    assert rules.quorum(6, 7, "GT") and not rules.quorum(5, 7, "GE")  # 2
    assert not 2 * 25 > 50 and 2 * 25 > 45  # 3
    assert not rules.margin_ok(8, 7, "20pct") and rules.margin_ok(9, 7, "20pct")  # 7
    assert [rules.minimum_candidates(s) for s in (1, 5, 6, 11, 15)] == [2, 6, 8, 14, 18]
    assert not rules.plenary_quorum(2, 3)  # 10
    assert not rules.quorum(0, 0, "GE")


def test_write_ins() -> None:
    kw = {
        "candidates": ["A", "B", "C"],
        "seats": 3,
        "params": R2020,
        "write_in_eligible": lambda m: m == "W",
        "runoff": False,
    }
    v = rules.judge_ballot(marks="oox", write_ins=[("W", "o")], **kw)  # type: ignore[arg-type]
    assert v.valid and v.approvals == ("A", "B", "W")
    v = rules.judge_ballot(marks="ooo", write_ins=[("W", "o")], **kw)  # type: ignore[arg-type]
    assert not v.valid  # edge case 5
    v = rules.judge_ballot(marks="oo-", write_ins=[("W", "-")], **kw)  # type: ignore[arg-type]
    assert v.valid and v.approvals == ("A", "B")  # unmarked write-in: no vote (R9.1)
    v = rules.judge_ballot(marks="o?x", write_ins=[], **kw)  # type: ignore[arg-type]
    assert v.valid and v.approvals == ("A",)


def test_age_and_publicity() -> None:
    assert rules.age_on(dt.date(1980, 2, 29), dt.date(2025, 2, 28)) == 44
    assert rules.age_on(dt.date(1980, 2, 29), dt.date(2025, 3, 1)) == 45
    hol = {dt.date(2026, 10, d) for d in range(1, 8)}
    work = {dt.date(2026, 10, 10)}
    start = rules.first_working_day_after(dt.date(2026, 9, 29), hol, work)
    assert start == dt.date(2026, 9, 30)
    assert rules.nth_working_day(start, 5, hol, work) == dt.date(2026, 10, 12)


@pytest.mark.parametrize(
    ("post", "elected", "seats", "new", "consent", "codes"),
    [
        ("committee", 4, 5, 4, 21, []),  # Example C: c = 21 of E = 40
        ("committee", 2, 4, 2, 30, ["reduction.bad_number"]),  # a committee keeps 3 seats
        ("committee", 3, 4, 3, 30, []),
        ("secretary", 0, 1, 0, 30, ["reduction.bad_number"]),  # no post reduced to 0
        ("committee", 4, 5, 5, 30, ["reduction.bad_number"]),  # not a reduction
        ("committee", 4, 5, 4, 20, ["reduction.no_majority"]),  # 2c = E fails
        ("committee", 4, 5, 4, 41, ["reduction.no_majority"]),  # c > E
    ],
    ids=[
        "example-c",
        "committee-below-3",
        "committee-to-3",
        "secretary-to-0",
        "same-seats",
        "half-of-E",
        "consent-above-E",
    ],
)
def test_v14_seat_reduction_rule_R17(
    post: str, elected: int, seats: int, new: int, consent: int, codes: list[str]
) -> None:
    got = rules.seat_reduction_problems(
        post, elected=elected, seats=seats, new=new, consent=consent, e=40
    )
    assert got == codes


_KW = {
    "candidates": ["A", "B", "C"],
    "seats": 3,
    "write_in_eligible": lambda m: m in ("W", "Y"),
    "runoff": False,
}


def test_unmarked_write_in_still_counts_in_choices_R8_1() -> None:
    v = rules.judge_ballot(marks="ooo", write_ins=[("W", "-")], params=R2020, **_KW)  # type: ignore[arg-type]
    assert not v.valid


def test_write_ins_beyond_disapprovals_give_no_vote_but_count_in_choices_R9_1() -> None:
    p = Parameters(
        "GT", "E", True, "ignored", "void_mark", 5, "block", 45, "senior_high", 50, "junior_high"
    )
    v = rules.judge_ballot(marks="x--", write_ins=[("W", "o"), ("Y", "o")], params=p, **_KW)  # type: ignore[arg-type]
    assert v.valid and v.approvals == ("W",)  # one x: only the first write-in gives a vote
    v = rules.judge_ballot(marks="oox", write_ins=[("W", "o"), ("Y", "o")], params=p, **_KW)  # type: ignore[arg-type]
    assert not v.valid  # 2 approvals + 2 write-ins > 3 seats, whatever the option


def test_same_name_written_twice_gives_one_vote_R9_2() -> None:
    v = rules.judge_ballot(marks="o--", write_ins=[("W", "o"), ("W", "o")], params=R2020, **_KW)  # type: ignore[arg-type]
    assert v.valid and v.approvals == ("A", "W")
    v = rules.judge_ballot(marks="oo-", write_ins=[("W", "o"), ("W", "o")], params=R2020, **_KW)  # type: ignore[arg-type]
    assert not v.valid  # both rows count in choices: 4 > 3


def test_write_in_of_ineligible_person_or_nobody_gives_no_vote_R9_3() -> None:
    v = rules.judge_ballot(marks="---", write_ins=[("Z", "o"), ("", "o")], params=R2020, **_KW)  # type: ignore[arg-type]
    assert v.valid and v.approvals == ()


def test_more_write_ins_than_rows_is_one_invalid_ballot_R9_5() -> None:
    four = [("W", "-"), ("Y", "-"), ("", "-"), ("", "-")]
    v = rules.judge_ballot(marks="---", write_ins=four, params=R2020, **_KW)  # type: ignore[arg-type]
    assert v == rules.BallotVerdict(valid=False, approvals=())


def test_exactly_four_fifths_fails_GT_and_holds_GE_V11_R5_1() -> None:
    assert not rules.quorum(40, 50, "GT")
    assert rules.quorum(40, 50, "GE")
    assert rules.quorum(41, 50, "GT")
