"""spec/procedure.md RP-4: the score, the cut with every tie at it, the basis of each name and
the omissions, with the worked example of RP-4.6."""

from __future__ import annotations

import datetime as dt

import pytest

from tally.core.model import MemberId, PostKind, QualificationPolicy
from tally.core.procedure import ProcedureCountError, RankingMode
from tally.core.procedure.ranking import (
    Basis,
    Omission,
    OmissionReason,
    Proposal,
    propose,
    score,
)
from tally.core.procedure.recommendation import RecommendationGroup
from tests.helpers.procedure_counting import ORDER, WORKED, count, procedure, worked_counts

DAY = dt.date(2026, 12, 20)
COMMITTEE, SECRETARY = PostKind.COMMITTEE, PostKind.SECRETARY
A, B, C, D, E, F, G, H = (WORKED[k] for k in "ABCDEFGH")


def _names(proposal: Proposal, post: PostKind = COMMITTEE) -> list[tuple[MemberId, str, int]]:
    found = proposal.post(post)
    assert found is not None
    return [(n.member, n.basis.value, n.score) for n in found.names]


def test_rp_4_6_worked_example_shares_includes_both_names_tied_at_the_cut() -> None:
    proposal = propose(procedure(), election_date=DAY, counts=worked_counts())
    assert _names(proposal) == [
        (A, "rank", 3060),
        (B, "rank", 2080),
        (C, "rank", 2020),
        (D, "rank", 1480),
        (E, "rank", 1390),
        (F, "tie_at_cut", 1364),
        (G, "tie_at_cut", 1364),
    ]
    committee = proposal.post(COMMITTEE)
    assert committee is not None and not committee.short
    assert committee.names[6].member_recommendations == 31
    assert committee.names[6].public_recommendations == 0


def test_rp_4_6_worked_example_under_sum_f_is_sixth_alone_and_g_is_out() -> None:
    proposal = propose(procedure(mode=RankingMode.SUM), election_date=DAY, counts=worked_counts())
    assert _names(proposal) == [
        (A, "rank", 75),
        (B, "rank", 50),
        (C, "rank", 50),
        (D, "rank", 35),
        (E, "rank", 35),
        (F, "rank", 34),
    ]


def test_rp_4_1_shares_score_is_the_weighted_share_sum_in_integers() -> None:
    p = procedure(weights=(2, 1))
    assert score(p.recommendation.ranking, 12, 22, 38, 44) == 2 * 12 * 44 + 22 * 38
    proposal = propose(p, election_date=DAY, counts=worked_counts())
    # 2:1: G (31, 0) scores 2*31*44 = 2728 and rises to 4th; E (10, 25) 1830 drops out.
    assert _names(proposal) == [
        (A, "rank", 4600),
        (B, "rank", 3400),
        (C, "rank", 2900),
        (G, "rank", 2728),
        (D, "rank", 2580),
        (F, "rank", 1892),
    ]


def test_rp_4_1_a_group_with_no_valid_ballot_adds_nothing() -> None:
    counts = [
        count(RecommendationGroup.MEMBER, COMMITTEE, 10, {A: 5, B: 3}),
        count(RecommendationGroup.PUBLIC, COMMITTEE, 0, {}),
        count(RecommendationGroup.MEMBER, SECRETARY, 10, {A: 5}),
        count(RecommendationGroup.PUBLIC, SECRETARY, 0, {}),
    ]
    proposal = propose(procedure(), election_date=DAY, counts=counts)
    assert _names(proposal) == [(A, "rank", 5), (B, "rank", 3)]


def test_rp_4_1_both_groups_must_be_counted_before_the_proposal() -> None:
    counts = [c for c in worked_counts() if c.group is RecommendationGroup.MEMBER]
    with pytest.raises(ProcedureCountError) as e:
        propose(procedure(), election_date=DAY, counts=counts)
    assert e.value.code == "preliminary.group_missing"
    with pytest.raises(ProcedureCountError):
        propose(procedure(mode=RankingMode.SUM, weights=(1, 0)), election_date=DAY, counts=counts)


def test_rp_4_1_a_group_of_weight_zero_need_not_be_held_under_shares() -> None:
    counts = [c for c in worked_counts() if c.group is RecommendationGroup.MEMBER]
    proposal = propose(procedure(weights=(1, 0)), election_date=DAY, counts=counts)
    assert [m for m, _, _ in _names(proposal)] == [A, G, B, D, C, F]


def test_rp_4_2_ties_at_the_cut_three_way_are_all_included() -> None:
    per = {A: 9, B: 8, C: 7, D: 6, E: 5, F: 4, G: 4, H: 4}
    counts = [
        count(RecommendationGroup.MEMBER, COMMITTEE, 10, per),
        count(RecommendationGroup.PUBLIC, COMMITTEE, 10, {}),
        count(RecommendationGroup.MEMBER, SECRETARY, 10, {}),
        count(RecommendationGroup.PUBLIC, SECRETARY, 10, {}),
    ]
    names = _names(propose(procedure(mode=RankingMode.SUM), election_date=DAY, counts=counts))
    assert [b for _, b, _ in names] == ["rank"] * 5 + ["tie_at_cut"] * 3


def test_rp_4_3_a_tie_inside_the_list_is_rank_not_tie_at_cut() -> None:
    per = {A: 9, B: 9, C: 7, D: 6, E: 5, F: 4, G: 3}
    counts = [
        count(RecommendationGroup.MEMBER, COMMITTEE, 10, per),
        count(RecommendationGroup.PUBLIC, COMMITTEE, 10, {}),
        count(RecommendationGroup.MEMBER, SECRETARY, 10, {}),
        count(RecommendationGroup.PUBLIC, SECRETARY, 10, {}),
    ]
    names = _names(propose(procedure(mode=RankingMode.SUM), election_date=DAY, counts=counts))
    assert names == [
        (A, "rank", 9),
        (B, "rank", 9),
        (C, "rank", 7),
        (D, "rank", 6),
        (E, "rank", 5),
        (F, "rank", 4),
    ]


def test_rp_4_2_a_post_with_fewer_ranked_than_l_is_short_and_takes_all() -> None:
    counts = [
        count(RecommendationGroup.MEMBER, COMMITTEE, 10, {A: 3, B: 2}),
        count(RecommendationGroup.PUBLIC, COMMITTEE, 10, {C: 1}),
        count(RecommendationGroup.MEMBER, SECRETARY, 10, {}),
        count(RecommendationGroup.PUBLIC, SECRETARY, 10, {}),
    ]
    proposal = propose(procedure(mode=RankingMode.SUM), election_date=DAY, counts=counts)
    committee = proposal.post(COMMITTEE)
    assert committee is not None and committee.short
    assert [n.basis for n in committee.names] == [Basis.RANK] * 3


def test_rp_4_4_an_omission_moves_the_next_name_up_and_is_listed() -> None:
    omission = Omission(C, OmissionReason.DECLINED, "", "本人书面放弃 2026-11-25")
    proposal = propose(procedure(), election_date=DAY, counts=worked_counts(), omissions=[omission])
    names = _names(proposal)
    assert C not in [m for m, _, _ in names]
    # Without C, the 6th of the pool is F/G at 1364 and exactly ... A B D E F G: six names.
    assert names[-2:] == [(F, "rank", 1364), (G, "rank", 1364)]
    for post in proposal.posts:
        assert post.omitted == (omission,)
    assert proposal.to_json()["posts"][0]["omitted"] == [
        {"member": C, "reason": "declined", "category": "", "reference": "本人书面放弃 2026-11-25"}
    ]


@pytest.mark.parametrize(
    "omission",
    [
        Omission(A, OmissionReason.DECLINED, "", ""),
        Omission(A, OmissionReason.QUALIFICATION, "", ""),
        Omission(A, OmissionReason.TEN_DISQUALIFICATIONS, "td11", "红组〔2026〕9号"),
        Omission(A, OmissionReason.DECLINED, "td1", "声明 1"),
        Omission(MemberId("M027"), OmissionReason.DECLINED, "", "声明 1"),
    ],
)
def test_rp_4_4_an_omission_without_its_reason_reference_or_category_is_refused(
    omission: Omission,
) -> None:
    with pytest.raises(ProcedureCountError) as e:
        propose(procedure(), election_date=DAY, counts=worked_counts(), omissions=[omission])
    assert e.value.code == "preliminary.omission"


def test_rp_4_4_ten_disqualifications_keep_their_category() -> None:
    omission = Omission(A, OmissionReason.TEN_DISQUALIFICATIONS, "td4", "红组〔2026〕9号")
    proposal = propose(procedure(), election_date=DAY, counts=worked_counts(), omissions=[omission])
    assert A not in [m for m, _, _ in _names(proposal)]
    assert proposal.to_json()["posts"][0]["omitted"][0]["category"] == "td4"


def test_rp_4_4_under_block_a_secretary_name_failing_r27_is_omitted_automatically() -> None:
    # ORDER[0] fails R27's age on DAY; ORDER[3] passes.
    counts = worked_counts(secretary={ORDER[0]: (20, 20), ORDER[3]: (10, 10), ORDER[7]: (5, 5)})
    proposal = propose(
        procedure(policy=QualificationPolicy.BLOCK), election_date=DAY, counts=counts
    )
    secretary = proposal.post(SECRETARY)
    assert secretary is not None
    assert [n.member for n in secretary.names] == [ORDER[3], ORDER[7]]
    assert secretary.omitted == (Omission(ORDER[0], OmissionReason.QUALIFICATION, "", ""),)
    warned = propose(procedure(), election_date=DAY, counts=counts).post(SECRETARY)
    assert warned is not None and warned.omitted == ()
    assert [n.member for n in warned.names] == [ORDER[0], ORDER[3]]
    assert {w.code for w in warned.warnings} == {"qualification.age"}


def test_rp_4_3_a_secretary_name_not_reached_on_the_committee_joins_as_secretary_list() -> None:
    counts = worked_counts(secretary={H: (20, 20), A: (10, 10)})
    proposal = propose(procedure(), election_date=DAY, counts=counts)
    names = _names(proposal)
    assert names[-1] == (H, "secretary_list", 524)
    assert (A, "rank", 3060) in names


def test_rp_4_3_a_higher_level_name_not_reached_otherwise_has_basis_higher_level() -> None:
    outsider = ORDER[10]
    proposal = propose(
        procedure(),
        election_date=DAY,
        counts=worked_counts(),
        higher_level={COMMITTEE: [outsider, A]},
    )
    names = _names(proposal)
    assert names[-1] == (outsider, "higher_level", 0)
    assert names[0] == (A, "rank", 3060)


def test_rp_3_9_a_higher_level_name_must_be_nominable() -> None:
    with pytest.raises(ProcedureCountError) as e:
        propose(
            procedure(),
            election_date=DAY,
            counts=worked_counts(),
            higher_level={COMMITTEE: [MemberId("M027")]},
        )
    assert e.value.code == "preliminary.higher_level"


def test_rp_4_5_the_body_has_version_date_and_every_post_in_definition_order() -> None:
    body = propose(procedure(), election_date=DAY, counts=worked_counts()).to_json()
    assert body["version"] == 1 and body["election_date"] == "2026-12-20"
    assert [p["post"] for p in body["posts"]] == ["committee", "secretary"]
    assert body["posts"][0]["names"][0] == {
        "member": A,
        "basis": "rank",
        "member_recommendations": 35,
        "public_recommendations": 40,
        "score": 3060,
    }
