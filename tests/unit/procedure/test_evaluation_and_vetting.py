"""spec/procedure.md RP-5.4 to RP-5.6 (the evaluation's count and rule, in integers) and RP-6.1 to
RP-6.3 (the vetting record, the formal lists, the supplement), with RP-4.6's worked example."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

import pytest

from tally.core.model import MemberId, PostKind
from tally.core.procedure import (
    ApprovalBlockedError,
    FailComparison,
    Procedure,
    ProcedureCountError,
    RankingMode,
    ScaleItem,
)
from tally.core.procedure.evaluation import (
    EvaluationBallot,
    EvaluationCount,
    Outcome,
    count_evaluation,
    rule_text,
)
from tally.core.procedure.ranking import Omission, OmissionReason, propose
from tally.core.procedure.recommendation import RecommendationGroup
from tally.core.procedure.vetting import (
    StopReason,
    formal_lists,
    latest_outcomes,
    supplement,
    supplement_need,
    vet,
)
from tests.helpers.procedure_counting import ORDER, WORKED, count, procedure, worked_counts

DAY = dt.date(2026, 12, 20)
COMMITTEE, SECRETARY = PostKind.COMMITTEE, PostKind.SECRETARY
A, B, C, D, E, F, G, H = (WORKED[k] for k in "ABCDEFGH")


def _ballots(column: str) -> list[EvaluationBallot]:
    """One ballot per character: the mark of a single evaluated person."""
    return [EvaluationBallot(c) for c in column]


def _with_rule(
    p: Procedure, comparison: FailComparison = FailComparison.GT, **changes: Any
) -> Procedure:
    ev = dataclasses.replace(p.evaluation, fail_comparison=comparison, **changes)
    return dataclasses.replace(p, evaluation=ev)


def test_rp_5_5_one_third_gt_boundary_10_of_30_proceeds() -> None:
    body = count_evaluation(procedure(), 1, [A], _ballots("d" * 10 + "s" * 20))
    assert body.results[0].fail_count == 10
    assert body.results[0].outcome is Outcome.PROCEEDS


def test_rp_5_5_one_third_gt_11_of_30_does_not_proceed() -> None:
    body = count_evaluation(procedure(), 1, [A], _ballots("d" * 11 + "s" * 19))
    assert body.results[0].outcome is Outcome.DOES_NOT_PROCEED


def test_rp_5_5_ge_boundary_10_of_30_does_not_proceed() -> None:
    p = _with_rule(procedure(), FailComparison.GE)
    body = count_evaluation(p, 1, [A], _ballots("d" * 10 + "s" * 20))
    assert body.results[0].outcome is Outcome.DOES_NOT_PROCEED
    body = count_evaluation(p, 1, [A], _ballots("d" * 9 + "s" * 21))
    assert body.results[0].outcome is Outcome.PROCEEDS


def test_rp_5_5_blank_and_unreadable_rows_are_in_the_base() -> None:
    # 10 不满意 of 30 valid ballots, 12 of them blank or unreadable: 30 > 30 is false.
    body = count_evaluation(procedure(), 1, [A], _ballots("d" * 10 + "-" * 8 + "?" * 4 + "s" * 8))
    r = body.results[0]
    assert (r.blank, r.unreadable, r.fail_count, body.valid_ballots) == (8, 4, 10, 30)
    assert r.outcome is Outcome.PROCEEDS


def test_rp_5_5_custom_scale_of_two_letters_with_its_own_fail_letter() -> None:
    scale = (ScaleItem("y", "称职", "competent"), ScaleItem("n", "不称职", "not competent"))
    p = _with_rule(
        procedure(), scale=scale, fail_letters=("n",), fail_numerator=1, fail_denominator=2
    )
    body = count_evaluation(
        p, 1, [A, B], [EvaluationBallot("yn"), EvaluationBallot("nn"), EvaluationBallot("y-")]
    )
    assert [(c.letter, c.count) for c in body.results[0].counts] == [("y", 2), ("n", 1)]
    assert [r.outcome for r in body.results] == [Outcome.PROCEEDS, Outcome.DOES_NOT_PROCEED]
    with pytest.raises(ProcedureCountError) as e:
        count_evaluation(p, 1, [A, B], [EvaluationBallot("sd")])
    assert e.value.code == "evaluation.marks"


def test_rp_5_5_a_round_with_no_valid_ballot_cannot_be_used() -> None:
    with pytest.raises(ProcedureCountError) as e:
        count_evaluation(procedure(), 1, [A], [], declared_invalid=3)
    assert e.value.code == "evaluation.no_valid_ballots"


def test_rp_5_4_marks_of_another_length_are_refused() -> None:
    with pytest.raises(ProcedureCountError) as e:
        count_evaluation(procedure(), 1, [A, B], [EvaluationBallot("s")])
    assert e.value.code == "evaluation.marks_length"


@pytest.mark.parametrize("persons", [[B, A], [A, A], [MemberId("M027")], []])
def test_rp_5_1_persons_are_nominable_once_each_in_ballot_order(persons: list[MemberId]) -> None:
    with pytest.raises(ProcedureCountError) as e:
        count_evaluation(procedure(), 1, persons, [EvaluationBallot("s" * len(persons))])
    assert e.value.code == "evaluation.not_listed"


def test_rp_5_6_body_counts_in_scale_order_added_rows_and_invalid() -> None:
    ballots = [EvaluationBallot("sb", added_rows=1), EvaluationBallot("dd", added_rows=2)]
    body = count_evaluation(procedure(), 2, [A, B], ballots, declared_invalid=1).to_json()
    assert body["round"] == 2 and body["valid_ballots"] == 2 and body["invalid_ballots"] == 1
    assert body["added_rows"] == 3
    assert body["results"][1] == {
        "member": B,
        "counts": [
            {"letter": "s", "count": 0},
            {"letter": "b", "count": 1},
            {"letter": "d", "count": 1},
        ],
        "blank": 0,
        "unreadable": 0,
        "fail_count": 1,
        "outcome": "does_not_proceed",
    }


def _worked_evaluation() -> EvaluationCount:
    """RP-4.6: V = 84; E has 28 不满意, G 29, everyone else none."""
    persons = [A, B, C, D, E, F, G]
    ballots = []
    for i in range(84):
        marks = "".join("d" if (m == E and i < 28) or (m == G and i < 29) else "s" for m in persons)
        ballots.append(EvaluationBallot(marks))
    return count_evaluation(procedure(), 1, persons, ballots)


def test_rp_4_6_worked_example_evaluation_e_proceeds_g_does_not_and_vetting_leaves_a_to_f() -> None:
    p = procedure()
    counts = worked_counts(secretary={A: (20, 20), B: (10, 10)})
    proposal = propose(p, election_date=DAY, counts=counts)
    evaluation = _worked_evaluation()
    assert evaluation.outcome(E) is Outcome.PROCEEDS
    assert evaluation.outcome(G) is Outcome.DOES_NOT_PROCEED
    record = vet(p, [proposal], latest_outcomes([evaluation]))
    committee = record.post(COMMITTEE)
    assert committee is not None
    assert committee.proceeding == (A, B, C, D, E, F)
    assert [(s.member, s.reason) for s in committee.stopped] == [(G, StopReason.EVALUATION)]
    lists = formal_lists(p, record, election_date=DAY)
    assert [(f.post, f.candidates) for f in lists] == [
        (COMMITTEE, (A, B, C, D, E, F)),
        (SECRETARY, (A, B)),
    ]


def test_rp_6_1_evaluation_stops_a_member_on_every_post() -> None:
    p = procedure()
    proposal = propose(p, election_date=DAY, counts=worked_counts(secretary={A: (1, 1), G: (2, 2)}))
    record = vet(p, [proposal], latest_outcomes([_worked_evaluation()]))
    for post in record.posts:
        assert G not in post.proceeding
        assert [s.member for s in post.stopped] == [G]


def test_rp_6_1_every_preliminary_name_must_have_been_evaluated() -> None:
    p = procedure()
    proposal = propose(p, election_date=DAY, counts=worked_counts())
    with pytest.raises(ProcedureCountError) as e:
        vet(p, [proposal], {A: Outcome.PROCEEDS})
    assert e.value.code == "vetting.not_evaluated"


def test_rp_6_1_findings_stop_with_their_reference_and_only_preliminary_names() -> None:
    p = procedure()
    proposal = propose(p, election_date=DAY, counts=worked_counts())
    outcomes = dict.fromkeys([A, B, C, D, E, F, G], Outcome.PROCEEDS)
    finding = Omission(B, OmissionReason.TEN_DISQUALIFICATIONS, "td7", "红组〔2026〕15号")
    record = vet(p, [proposal], outcomes, [finding])
    committee = record.post(COMMITTEE)
    assert committee is not None
    assert committee.to_json()["stopped"] == [
        {
            "member": B,
            "reason": "ten_disqualifications",
            "category": "td7",
            "reference": "红组〔2026〕15号",
        }
    ]
    with pytest.raises(ProcedureCountError) as e:
        vet(p, [proposal], outcomes, [Omission(H, OmissionReason.DECLINED, "", "声明")])
    assert e.value.code == "vetting.finding"


def test_rp_6_1_over_size_keeps_the_f_best_with_every_tie_at_the_cut() -> None:
    p = procedure(committee={"formal_size": 5})
    proposal = propose(p, election_date=DAY, counts=worked_counts(secretary={A: (1, 1)}))
    outcomes = dict.fromkeys([A, B, C, D, E, F, G], Outcome.PROCEEDS)
    record = vet(p, [proposal], outcomes)
    committee = record.post(COMMITTEE)
    assert committee is not None
    assert committee.proceeding == (A, B, C, D, E)
    assert [(s.member, s.reason) for s in committee.stopped] == [
        (F, StopReason.OVER_SIZE),
        (G, StopReason.OVER_SIZE),
    ]
    six = vet(procedure(committee={"formal_size": 6}), [proposal], outcomes).post(COMMITTEE)
    assert six is not None and six.proceeding == (A, B, C, D, E, F, G)


def test_rp_6_1_a_secretary_name_is_never_over_size_on_the_committee() -> None:
    p = procedure(committee={"formal_size": 5})
    proposal = propose(p, election_date=DAY, counts=worked_counts(secretary={G: (3, 3)}))
    outcomes = dict.fromkeys([A, B, C, D, E, F, G], Outcome.PROCEEDS)
    committee = vet(p, [proposal], outcomes).post(COMMITTEE)
    assert committee is not None
    assert G in committee.proceeding and F not in committee.proceeding


def test_rp_6_2_formal_lists_failing_the_margin_block_the_approval_with_every_problem() -> None:
    p = procedure()
    proposal = propose(p, election_date=DAY, counts=worked_counts(secretary={H: (1, 1)}))
    outcomes = dict.fromkeys([A, B, C, D, E, F, G, H], Outcome.PROCEEDS)
    # A, B, C do not proceed: the committee keeps D..H (5 for 5 seats), the secretary H alone.
    outcomes[A] = outcomes[B] = outcomes[C] = Outcome.DOES_NOT_PROCEED
    record = vet(p, [proposal], outcomes)
    with pytest.raises(ApprovalBlockedError) as e:
        formal_lists(p, record, election_date=DAY)
    codes = {(x.code, x.path) for x in e.value.problems}
    assert codes == {
        ("post.margin", "posts.committee.candidates"),
        ("post.margin", "posts.secretary.candidates"),
    }
    assert e.value.code == "approval.blocked"


def test_rp_6_2_the_secretary_order_set_by_the_town_must_list_the_vetted_names() -> None:
    p = procedure()
    proposal = propose(p, election_date=DAY, counts=worked_counts(secretary={A: (2, 2), B: (1, 1)}))
    record = vet(p, [proposal], dict.fromkeys([A, B, C, D, E, F, G], Outcome.PROCEEDS))
    lists = formal_lists(p, record, election_date=DAY, orders={SECRETARY: [B, A]})
    assert lists[1].candidates == (B, A)
    with pytest.raises(ApprovalBlockedError) as e:
        formal_lists(p, record, election_date=DAY, orders={SECRETARY: [B, C]})
    assert "approval.lists_differ" in {x.code for x in e.value.problems}


def test_rp_6_3_supplement_adds_the_next_names_with_ties_and_basis_supplement() -> None:
    p = procedure()
    counts = worked_counts(secretary={A: (2, 2), B: (1, 1)})
    first = propose(p, election_date=DAY, counts=counts)
    outcomes = dict.fromkeys([A, B, C, D, E, F, G], Outcome.PROCEEDS)
    outcomes[C] = outcomes[D] = Outcome.DOES_NOT_PROCEED
    record = vet(p, [first], outcomes)
    assert supplement_need(p, record, COMMITTEE) == 1  # 5 + ceil(5/5) = 6, and 5 proceed
    second = supplement(
        p, version=2, election_date=DAY, proposals=[first], record=record, counts=counts
    )
    committee = second.post(COMMITTEE)
    assert committee is not None
    # H is the next (and last) name of the ranking: it is added, the ranking is exhausted.
    assert [(n.member, n.basis.value) for n in committee.names] == [(H, "supplement")]
    assert committee.short
    secretary = second.post(SECRETARY)
    assert secretary is not None and secretary.names == ()
    with pytest.raises(ProcedureCountError) as e:
        supplement(p, version=1, election_date=DAY, proposals=[first], record=record, counts=counts)
    assert e.value.code == "preliminary.version"


def test_rp_6_3_a_supplement_includes_every_name_tied_at_its_cut() -> None:
    p = procedure(mode=RankingMode.SUM)
    per = {A: 9, B: 8, C: 7, D: 6, E: 5, F: 4, G: 3, H: 3, ORDER[8]: 1}
    counts = [
        count(RecommendationGroup.MEMBER, COMMITTEE, 10, per),
        count(RecommendationGroup.PUBLIC, COMMITTEE, 10, {}),
        count(RecommendationGroup.MEMBER, SECRETARY, 10, {B: 2, C: 1}),
        count(RecommendationGroup.PUBLIC, SECRETARY, 10, {}),
    ]
    first = propose(p, election_date=DAY, counts=counts)
    outcomes = dict.fromkeys([A, B, C, D, E, F], Outcome.PROCEEDS)
    outcomes[A] = Outcome.DOES_NOT_PROCEED
    record = vet(p, [first], outcomes)
    second = supplement(
        p, version=2, election_date=DAY, proposals=[first], record=record, counts=counts
    )
    committee = second.post(COMMITTEE)
    assert committee is not None and not committee.short
    assert [(n.member, n.basis.value, n.score) for n in committee.names] == [
        (G, "supplement", 3),
        (H, "supplement", 3),
    ]
    assert second.to_json()["version"] == 2


def test_rp_5_6_the_rule_is_written_out_as_the_spec_shows() -> None:
    p = procedure()
    fails = count_evaluation(p, 1, [A], _ballots("d" * 11 + "s" * 19))
    zh, en = rule_text(p.evaluation, fails.results[0], fails.valid_ballots)
    assert zh == "不满意 11 票，超过有效测评票 30 票的三分之一"
    assert en == "dissatisfied 11 of 30 valid evaluation ballots: more than 1/3"
    passes = count_evaluation(p, 1, [A], _ballots("d" * 10 + "s" * 20))
    assert rule_text(p.evaluation, passes.results[0], 30)[0] == (
        "不满意 10 票，未超过有效测评票 30 票的三分之一"
    )
    ge = _with_rule(p, FailComparison.GE, fail_numerator=11, fail_denominator=100)
    body = count_evaluation(ge, 1, [A], _ballots("d" * 11 + "s" * 89))
    assert rule_text(ge.evaluation, body.results[0], 100)[0].endswith(
        "达到或超过有效测评票 100 票的一百分之十一"
    )


def test_rp_6_3_a_higher_level_name_fills_a_post_whose_ranking_is_exhausted() -> None:
    p = procedure()
    counts = worked_counts(secretary={A: (2, 2), B: (1, 1)})
    first = propose(p, election_date=DAY, counts=counts)
    outcomes = dict.fromkeys([A, B, C, D, E, F, G], Outcome.PROCEEDS)
    outcomes[C] = outcomes[D] = outcomes[E] = Outcome.DOES_NOT_PROCEED
    record = vet(p, [first], outcomes)
    assert supplement_need(p, record, COMMITTEE) == 2
    outsider = ORDER[10]
    second = supplement(
        p,
        version=2,
        election_date=DAY,
        proposals=[first],
        record=record,
        counts=counts,
        higher_level={COMMITTEE: [outsider]},
    )
    committee = second.post(COMMITTEE)
    assert committee is not None
    assert [(n.member, n.basis.value) for n in committee.names] == [
        (H, "supplement"),
        (outsider, "higher_level"),
    ]
    with pytest.raises(ProcedureCountError) as e:
        supplement(
            p,
            version=2,
            election_date=DAY,
            proposals=[first],
            record=record,
            counts=counts,
            higher_level={COMMITTEE: [A]},
        )
    assert e.value.code == "preliminary.higher_level"
