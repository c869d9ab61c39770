"""The verifier's supplement recount (spec/procedure.md RP-6.3, V26): the next names of the
ranking after a vetting leaves a post short, every tie at the supplement's cut included, the
higher level's names; a tie at a cut the recorded list breaks is found (``broken_ties``). The
producer's and the verifier's supplements are compared on random inputs in
tests/property/test_procedure_supplement_differential.py."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from tally.core.model import PostKind
from tally.core.procedure import Procedure, RankingMode, render_procedure
from tally.core.procedure.evaluation import Outcome
from tally.core.procedure.ranking import Omission, Proposal, propose
from tally.core.procedure.recommendation import RecommendationCount, RecommendationGroup
from tally.core.procedure.vetting import VettingRecord, supplement, vet
from tests.helpers.procedure_counting import ORDER, WORKED, count, procedure, worked_counts
from verifier.procedure import ProcedureRecountError, parse_counting, recount_supplement
from verifier.procedure.proposals import broken_ties

DAY = dt.date(2026, 12, 20)
COMMITTEE, SECRETARY = PostKind.COMMITTEE, PostKind.SECRETARY
MEMBER, PUBLIC = RecommendationGroup.MEMBER, RecommendationGroup.PUBLIC
A, B, C, D, E, F, G, H = (WORKED[k] for k in "ABCDEFGH")


def _version_one(
    p: Procedure,
    counts: list[RecommendationCount],
    failing: set[str],
    findings: tuple[Omission, ...] = (),
) -> tuple[Proposal, VettingRecord]:
    first = propose(p, election_date=DAY, counts=counts, omissions=findings)
    names = {n.member for post in first.posts for n in post.names}
    outcomes = {m: Outcome.DOES_NOT_PROCEED if m in failing else Outcome.PROCEEDS for m in names}
    return first, vet(p, [first], outcomes, [f for f in findings if f.member in names])


def _recount(
    p: Procedure,
    counts: list[RecommendationCount],
    first: Proposal,
    record: VettingRecord,
    *,
    omissions: tuple[Omission, ...] = (),
    higher_level: list[dict[str, Any]] | None = None,
    ties: dict[str, frozenset[str]] | None = None,
) -> dict[str, Any]:
    return recount_supplement(
        parse_counting(render_procedure(p)),
        version=2,
        election_date=DAY,
        counts=[c.to_json() for c in counts],
        proposals=[first.to_json()],
        vetting=record.to_json(),
        omissions=[o.to_json() for o in omissions],
        higher_level=higher_level or [],
        ties=ties,
    )


def test_rp_6_3_the_next_name_of_the_ranking_is_added_as_supplement() -> None:
    """RP-4.6's committee with C and D stopped: five proceed, one is needed, H is next."""
    p = procedure()
    counts = worked_counts(secretary={A: (2, 2), B: (1, 1)})
    first, record = _version_one(p, counts, {C, D})
    body = _recount(p, counts, first, record)
    committee = body["posts"][0]
    assert [(n["member"], n["basis"]) for n in committee["names"]] == [(H, "supplement")]
    assert body["posts"][1]["names"] == []  # the secretary's list is full
    assert (
        body
        == supplement(
            p, version=2, election_date=DAY, proposals=[first], record=record, counts=counts
        ).to_json()
    )


def test_rp_6_3_every_name_tied_at_the_supplements_cut_is_added_and_reported_as_tied() -> None:
    p = procedure(mode=RankingMode.SUM)
    per = {A: 9, B: 8, C: 7, D: 6, E: 5, F: 4, G: 3, H: 3, ORDER[8]: 1}
    counts = [
        count(MEMBER, COMMITTEE, 10, per),
        count(PUBLIC, COMMITTEE, 10, {}),
        count(MEMBER, SECRETARY, 10, {B: 2, C: 1}),
        count(PUBLIC, SECRETARY, 10, {}),
    ]
    first, record = _version_one(p, counts, {A})
    ties: dict[str, frozenset[str]] = {}
    body = _recount(p, counts, first, record, ties=ties)
    assert [(n["member"], n["basis"], n["score"]) for n in body["posts"][0]["names"]] == [
        (G, "supplement", 3),
        (H, "supplement", 3),
    ]
    assert ties == {"committee": frozenset({G, H}), "secretary": frozenset()}
    assert broken_ties(ties, body) == []
    body["posts"][0]["names"].pop()
    assert broken_ties(ties, body) == [("committee", [G], [H])]


def test_rp_6_3_no_tie_when_exactly_need_names_reach_the_cut() -> None:
    """Two names needed, two reach the score of the second: nothing is tied at the cut, so
    leaving one out is a difference, never ``preliminary.tie_broken``."""
    p = procedure(mode=RankingMode.SUM)
    per = {A: 9, B: 8, C: 7, D: 6, E: 5, F: 4, G: 3, H: 3}
    counts = [
        count(MEMBER, COMMITTEE, 10, per),
        count(PUBLIC, COMMITTEE, 10, {}),
        count(MEMBER, SECRETARY, 10, {B: 2, C: 1}),
        count(PUBLIC, SECRETARY, 10, {}),
    ]
    first, record = _version_one(p, counts, {A, B})
    ties: dict[str, frozenset[str]] = {}
    body = _recount(p, counts, first, record, ties=ties)
    assert [n["member"] for n in body["posts"][0]["names"]] == [G, H]
    assert ties["committee"] == frozenset()


def test_rp_6_3_a_secretary_supplement_name_joins_the_committee_and_counts_towards_its_need() -> (
    None
):
    """A and B, the secretary's two names, are stopped: the secretary's supplement adds X, the
    next of its ranking; X joins the committee's list (``secretary_list``) and fills the one name
    the committee lacks, so H, the committee's next name, is not added."""
    p = procedure()
    x = ORDER[10]
    counts = worked_counts(secretary={A: (3, 3), B: (2, 2), x: (1, 1)})
    first, record = _version_one(p, counts, {A, B})
    body = _recount(p, counts, first, record)
    committee, secretary = body["posts"]
    assert [(n["member"], n["basis"]) for n in secretary["names"]] == [(x, "supplement")]
    assert [(n["member"], n["basis"], n["score"]) for n in committee["names"]] == [
        (x, "secretary_list", 0)
    ]
    assert (
        body
        == supplement(
            p, version=2, election_date=DAY, proposals=[first], record=record, counts=counts
        ).to_json()
    )


def test_rp_6_3_a_higher_level_name_fills_a_post_and_one_already_listed_is_refused() -> None:
    p = procedure()
    counts = worked_counts(secretary={A: (2, 2), B: (1, 1)})
    first, record = _version_one(p, counts, {C, D, E})
    outsider = ORDER[10]
    body = _recount(
        p, counts, first, record, higher_level=[{"post": "committee", "members": [outsider]}]
    )
    assert [(n["member"], n["basis"]) for n in body["posts"][0]["names"]] == [
        (H, "supplement"),
        (outsider, "higher_level"),
    ]
    with pytest.raises(ProcedureRecountError) as e:
        _recount(p, counts, first, record, higher_level=[{"post": "committee", "members": [A]}])
    assert (e.value.code, e.value.clause) == ("preliminary.higher_level", "RP-3.9")


def test_rp_4_4_an_omission_item_with_another_member_is_not_the_recounts() -> None:
    """The recorded omissions are read as RP-4.5's four members: an item carrying more (here a
    note) recounts without it, so the body that carries it differs."""
    p = procedure()
    counts = worked_counts(secretary={A: (2, 2), B: (1, 1)})
    first, record = _version_one(p, counts, {C, D})
    declined = {"member": H, "reason": "declined", "category": "", "reference": "书面放弃 1 号"}
    body = recount_supplement(
        parse_counting(render_procedure(p)),
        version=2,
        election_date=DAY,
        counts=[c.to_json() for c in counts],
        proposals=[first.to_json()],
        vetting=record.to_json(),
        omissions=[{**declined, "note": "本人身体原因"}],
        higher_level=[],
    )
    assert body["posts"][0]["omitted"] == [declined]
    assert body["posts"][0]["names"] == []  # H declined: the ranking is exhausted
