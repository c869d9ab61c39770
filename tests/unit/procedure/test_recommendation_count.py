"""spec/procedure.md RP-3.7 and RP-3.10: counting recommendation ballots per person, every name
that gives no recommendation counted under its reason and listed."""

from __future__ import annotations

import pytest

from tally.core.model import MemberId, PostKind
from tally.core.procedure import ProcedureCountError, RecommendationLayout
from tally.core.procedure.recommendation import (
    NotCountedReason,
    RecommendationBallot,
    RecommendationGroup,
    WrittenName,
    count_ballot,
    count_recommendation_round,
)
from tests.helpers.procedure_counting import ORDER, procedure

LISTED = procedure()  # committee K = 5
WRITTEN = procedure(layout=RecommendationLayout.WRITTEN)
COMMITTEE = PostKind.COMMITTEE
BLANK = "-" * len(ORDER)
NON_NOMINABLE = MemberId("M027")  # probationary


def _marks(*members: MemberId, unreadable: tuple[MemberId, ...] = ()) -> str:
    return "".join("o" if m in members else "?" if m in unreadable else "-" for m in ORDER)


def test_rp_3_7_more_names_than_k_makes_the_whole_ballot_invalid() -> None:
    ballot = RecommendationBallot(_marks(*ORDER[:5]), (WrittenName("张三", ""),))
    result = count_ballot(LISTED, COMMITTEE, ballot)
    assert (result.n, result.valid, result.recommended, result.not_counted) == (6, False, (), ())
    body = count_recommendation_round(LISTED, RecommendationGroup.MEMBER, COMMITTEE, 1, [ballot])
    assert (body.valid_ballots, body.invalid_ballots, body.recommendations) == (0, 1, ())
    assert body.written_names == ()


def test_rp_3_7_exactly_k_names_is_valid() -> None:
    result = count_ballot(LISTED, COMMITTEE, RecommendationBallot(_marks(*ORDER[:5]), ()))
    assert result.valid
    assert result.recommended == ORDER[:5]


def test_rp_3_7_more_written_rows_than_k_is_an_invalid_ballot_not_an_input_error() -> None:
    rows = tuple(WrittenName(f"人{i}", "") for i in range(7))
    result = count_ballot(WRITTEN, COMMITTEE, RecommendationBallot("", rows))
    assert not result.valid


def test_rp_3_7_a_written_nonmember_gives_no_recommendation_and_is_shown() -> None:
    ballot = RecommendationBallot(_marks(ORDER[0]), (WrittenName("张三", ""),))
    body = count_recommendation_round(LISTED, RecommendationGroup.PUBLIC, COMMITTEE, 1, [ballot])
    assert body.valid_ballots == 1
    assert [(r.member, r.recommendations) for r in body.recommendations] == [(ORDER[0], 1)]
    assert [(c.reason, c.count) for c in body.not_counted] == [(NotCountedReason.NOT_ON_ROSTER, 1)]
    assert [(w.name, w.reason) for w in body.written_names] == [
        ("张三", NotCountedReason.NOT_ON_ROSTER)
    ]


def test_rp_3_7_a_written_member_who_is_not_nominable_gives_no_recommendation() -> None:
    ballot = RecommendationBallot("", (WrittenName("预备党员", NON_NOMINABLE),))
    result = count_ballot(WRITTEN, COMMITTEE, ballot)
    assert result.valid and result.recommended == ()
    assert result.not_counted[0][1] is NotCountedReason.NOT_NOMINABLE


def test_rp_3_7_under_listed_a_printed_name_written_in_counts_only_by_its_mark() -> None:
    ballot = RecommendationBallot(BLANK, (WrittenName("丁建国", ORDER[0]),))
    result = count_ballot(LISTED, COMMITTEE, ballot)
    assert result.recommended == ()
    assert result.not_counted[0][1] is NotCountedReason.LISTED


def test_rp_3_7_under_written_the_same_member_twice_counts_once() -> None:
    rows = (WrittenName("丁建国", ORDER[0]), WrittenName("丁建国", ORDER[0]))
    result = count_ballot(WRITTEN, COMMITTEE, RecommendationBallot("", rows))
    assert result.recommended == (ORDER[0],)
    assert [r for _, r in result.not_counted] == [NotCountedReason.REPEATED]
    assert result.n == 2


def test_rp_3_7_an_unreadable_name_is_counted_as_unreadable_first() -> None:
    result = count_ballot(WRITTEN, COMMITTEE, RecommendationBallot("", (WrittenName("?", ""),)))
    assert result.not_counted[0][1] is NotCountedReason.UNREADABLE


def test_rp_3_7_an_unreadable_mark_counts_for_nothing_and_not_in_n() -> None:
    one_seat = procedure(committee={"max_per_ballot": 1})
    ballot = RecommendationBallot(_marks(ORDER[0], unreadable=(ORDER[1], ORDER[2])), ())
    result = count_ballot(one_seat, COMMITTEE, ballot)
    assert (result.n, result.valid, result.recommended) == (1, True, (ORDER[0],))


def test_rp_3_7_a_blank_ballot_is_valid_and_recommends_nobody() -> None:
    body = count_recommendation_round(
        LISTED, RecommendationGroup.MEMBER, COMMITTEE, 1, [RecommendationBallot(BLANK, ())]
    )
    assert (body.valid_ballots, body.invalid_ballots, body.recommendations) == (1, 0, ())


def test_rp_3_10_declared_invalid_ballots_are_counted_invalid() -> None:
    body = count_recommendation_round(
        LISTED,
        RecommendationGroup.MEMBER,
        COMMITTEE,
        2,
        [RecommendationBallot(_marks(ORDER[3]), ())],
        declared_invalid=2,
    )
    assert (body.round, body.valid_ballots, body.invalid_ballots) == (2, 1, 2)


def test_rp_3_10_orders_members_by_ballot_order_reasons_by_rule_names_by_entry() -> None:
    ballots = [
        RecommendationBallot("", (WrittenName("李四", ""), WrittenName(ORDER[4], ORDER[4]))),
        RecommendationBallot("", (WrittenName("?", ""), WrittenName(ORDER[1], ORDER[1]))),
        RecommendationBallot("", (WrittenName("预备", NON_NOMINABLE), WrittenName("王五", ""))),
    ]
    body = count_recommendation_round(WRITTEN, RecommendationGroup.MEMBER, COMMITTEE, 1, ballots)
    assert [r.member for r in body.recommendations] == [ORDER[1], ORDER[4]]
    assert [(c.reason.value, c.count) for c in body.not_counted] == [
        ("unreadable", 1),
        ("not_on_roster", 2),
        ("not_nominable", 1),
    ]
    assert [w.name for w in body.written_names] == ["李四", "?", "预备", "王五"]
    assert body.to_json()["not_counted"][1] == {"reason": "not_on_roster", "count": 2}


@pytest.mark.parametrize(
    ("layout", "ballot", "code"),
    [
        (RecommendationLayout.LISTED, RecommendationBallot(BLANK[1:], ()), "recommendation.marks"),
        (
            RecommendationLayout.LISTED,
            RecommendationBallot("x" + BLANK[1:], ()),
            "recommendation.marks",
        ),
        (RecommendationLayout.WRITTEN, RecommendationBallot(BLANK, ()), "recommendation.marks"),
        (
            RecommendationLayout.WRITTEN,
            RecommendationBallot("", (WrittenName("", ""),)),
            "recommendation.written",
        ),
        (
            RecommendationLayout.WRITTEN,
            RecommendationBallot("", (WrittenName("?", ORDER[0]),)),
            "recommendation.written",
        ),
        (
            RecommendationLayout.WRITTEN,
            RecommendationBallot("", (WrittenName("某", "M999"),)),
            "recommendation.written",
        ),
    ],
)
def test_rp_3_7_an_entry_that_does_not_fit_the_definition_is_refused(
    layout: RecommendationLayout, ballot: RecommendationBallot, code: str
) -> None:
    p = LISTED if layout is RecommendationLayout.LISTED else WRITTEN
    with pytest.raises(ProcedureCountError) as e:
        count_recommendation_round(p, RecommendationGroup.MEMBER, COMMITTEE, 1, [ballot])
    assert e.value.code == code
    assert e.value.zh and e.value.en and e.value.clause == "RP-3.7"
