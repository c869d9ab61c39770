"""The procedure log's entries and order (spec/procedure.md RP-11.1, RP-3.2, RP-3.4, RP-4.5,
RP-5.1, RP-5.2, RP-6.1, RP-11.2): each rule, and each violation's specific code."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import pytest

from tally.core.log_entry import leaf_hash
from tally.core.manifest import canonical
from tally.core.procedure import ProcedureCountError
from tally.core.procedure.entries import (
    ENTRY_FORMAT,
    Form,
    RecommendationEntered,
    parse_body,
    parse_entry,
)
from tally.core.procedure.errors import ProcedureLogError
from tally.core.procedure.ledger import (
    apply_entry,
    checkpoint_reason,
    count_body,
    evaluation_opening,
    proposal_body,
    replay,
    vetting_body,
)
from tests.helpers.procedure_log import ELECTION_DATE, LogBuilder, marks, recommended_branch


def refused(b: LogBuilder, type_: str, body: dict[str, Any], code: str, **kw: Any) -> None:
    """The entry is refused with ``code`` and the ledger is unchanged."""
    before = b.ledger
    with pytest.raises((ProcedureLogError, ProcedureCountError)) as info:
        b.append(type_, body, **kw)
    assert info.value.code == code, info.value.en
    assert b.ledger is before


def member_session(b: LogBuilder, present: int = 20) -> None:
    b.stock(Form.MEMBER, "committee", 1, present)
    b.stock(Form.MEMBER, "secretary", 1, present)
    b.open_members(present)


# -- entries ---------------------------------------------------------------------------------------
def test_entry_has_the_log_members_with_the_procedure_format_and_round_trips() -> None:
    b = LogBuilder()
    e = b.entries[0]
    doc = json.loads(e.raw)
    assert set(doc) == {"format", "seq", "prev", "salt", "type", "at", "actor", "body"}
    assert doc["format"] == ENTRY_FORMAT == "procedure-entry/1"
    assert doc["prev"] == b.procedure_id.hex()
    assert e.leaf_hash == leaf_hash(e.raw)
    again = parse_entry(e.raw)
    assert again == e
    assert again.value == e.value


@pytest.mark.parametrize(
    ("mutate", "code"),
    [
        (lambda d: d.update(format="log-entry/1"), "log.malformed"),
        (lambda d: d.update(salt="00"), "log.salt"),
        (lambda d: d.update(extra=1), "log.malformed"),
        (lambda d: d["body"].update(extra=1), "log.malformed"),
        (lambda d: d.update(type="ballot.entered"), "log.malformed"),
    ],
    ids=["election-format", "short-salt", "unknown-member", "unknown-body-member", "unknown-type"],
)
def test_stored_entry_that_breaks_the_envelope_is_refused(mutate: Any, code: str) -> None:
    doc = json.loads(LogBuilder().entries[0].raw)
    mutate(doc)
    with pytest.raises(ProcedureLogError) as info:
        parse_entry(canonical(doc))
    assert info.value.code == code


def test_non_canonical_stored_entry_is_refused() -> None:
    raw = LogBuilder().entries[0].raw
    with pytest.raises(ProcedureLogError) as info:
        parse_entry(raw.replace(b"{", b"{ ", 1))
    assert info.value.code == "log.not_canonical"


@pytest.mark.parametrize(
    ("type_", "body"),
    [
        ("ballots.issued", {"form": "members", "post": "committee", "round": 1, "count": 1}),
        ("ballots.issued", {"form": "evaluation", "post": "committee", "round": 1, "count": 1}),
        ("ballots.issued", {"form": "member", "post": "", "round": 1, "count": 1}),
        ("ballots.issued", {"form": "member", "post": "committee", "round": 0, "count": 1}),
        ("ballots.issued", {"form": "member", "post": "committee", "round": 1, "count": True}),
        (
            "recommendation.entered",
            {
                "group": "member",
                "post": "committee",
                "round": 1,
                "ballot_id": "zz",
                "qr": "",
                "marks": "",
                "written": [],
            },
        ),
        (
            "recommendation.entered",
            {
                "group": "member",
                "post": "committee",
                "round": 1,
                "ballot_id": "0" * 32,
                "qr": "",
                "marks": "",
                "written": [{"name": "张三"}],
            },
        ),
    ],
    ids=[
        "form",
        "evaluation-with-post",
        "recommendation-without-post",
        "round-0",
        "bool-count",
        "ballot-id",
        "written-row",
    ],
)
def test_body_of_the_wrong_kind_is_malformed(type_: str, body: dict[str, Any]) -> None:
    with pytest.raises(ProcedureLogError) as info:
        parse_body(type_, body)
    assert info.value.code == "log.malformed"


def test_body_parses_into_its_typed_value() -> None:
    body = {
        "group": "public",
        "post": "secretary",
        "round": 2,
        "ballot_id": "a" * 32,
        "qr": "BP1:X",
        "marks": "",
        "written": [{"name": "?", "member": ""}],
    }
    v = parse_body("recommendation.entered", body)
    assert isinstance(v, RecommendationEntered)
    assert (v.group.value, v.post.value, v.round) == ("public", "secretary", 2)
    assert v.ballot.written[0].name == "?"


# -- chain and entry 0 -----------------------------------------------------------------------------
def test_entry_zero_must_open_this_procedure() -> None:
    b = LogBuilder()
    b2 = LogBuilder()
    b2.ledger = dataclasses.replace(b.ledger, size=0, last=None, last_at=None)
    refused(b2, "procedure.opened", {"procedure_id": "0" * 64}, "procedure.order")


def test_second_procedure_opened_is_out_of_order() -> None:
    b = LogBuilder()
    refused(b, "procedure.opened", {"procedure_id": b.procedure_id.hex()}, "procedure.order")


def test_entry_out_of_its_chain_is_refused() -> None:
    b = LogBuilder()
    e = b.entry("officials.changed", {"scrutineers": ["M009"], "tellers": ["M011"]})
    with pytest.raises(ProcedureLogError) as info:
        apply_entry(b.ledger, dataclasses.replace(e, prev="0" * 64))
    assert info.value.code == "log.chain"


def test_time_before_the_previous_entry_is_refused() -> None:
    b = LogBuilder()
    b.append("officials.changed", {"scrutineers": ["M009"], "tellers": ["M011"]})
    e = b.entry("officials.changed", {"scrutineers": ["M009"], "tellers": ["M012"]}, minutes=-5)
    with pytest.raises(ProcedureLogError) as info:
        apply_entry(b.ledger, e)
    assert info.value.code == "log.time_backwards"


# -- sessions (RP-3.2) -----------------------------------------------------------------------------
def test_member_session_at_exactly_half_fails_its_quorum_and_the_failure_is_recordable() -> None:
    b = LogBuilder()
    e = len(b.procedure.expected_electors)
    half = e // 2  # 25 expected: 12 is not more than half
    body = {
        "group": "member",
        "round": 1,
        "posts": ["committee", "secretary"],
        "present": half,
        "present_members": b.members_present(half),
    }
    refused(b, "recommendation.opened", body, "recommendation.quorum_failed")
    del body["posts"]
    b.append("recommendation.quorum_failed", body)
    assert b.ledger.next_round(Form.MEMBER) == 1  # consumes no round number
    b.open_members(half + 1)
    assert b.ledger.session is not None


def test_quorum_failed_is_refused_when_the_quorum_holds() -> None:
    b = LogBuilder()
    body = {"group": "member", "round": 1, "present": 20, "present_members": b.members_present(20)}
    refused(b, "recommendation.quorum_failed", body, "recommendation.quorum_holds")


def test_member_present_who_is_not_an_expected_elector_is_refused() -> None:
    b = LogBuilder()
    body = {
        "group": "member",
        "round": 1,
        "posts": ["committee", "secretary"],
        "present": 14,
        "present_members": [*b.members_present(13), "M015"],
    }  # M015 is excluded
    refused(b, "recommendation.opened", body, "session.present_members")
    body["present_members"] = [*b.members_present(13), b.members_present(1)[0]]
    refused(b, "recommendation.opened", body, "session.present_members")


@pytest.mark.parametrize(
    ("present", "code"),
    [(30, "recommendation.public_quorum"), (61, "recommendation.public_too_many")],
    ids=["exactly-half", "more-than-fixed"],
)
def test_public_session_needs_more_than_half_and_no_more_than_fixed(
    present: int, code: str
) -> None:
    b = LogBuilder()
    body = {
        "group": "public",
        "round": 1,
        "posts": ["committee", "secretary"],
        "present": present,
        "present_members": [],
    }
    refused(b, "recommendation.opened", body, code)


def test_one_session_open_at_a_time() -> None:
    b = LogBuilder()
    member_session(b)
    body = {
        "group": "public",
        "round": 1,
        "posts": ["committee", "secretary"],
        "present": 40,
        "present_members": [],
    }
    refused(b, "recommendation.opened", body, "procedure.order")


def test_session_is_for_every_post_not_yet_counted_with_the_next_round() -> None:
    b = LogBuilder()
    body = {
        "group": "member",
        "round": 1,
        "posts": ["committee"],
        "present": 20,
        "present_members": b.members_present(20),
    }
    refused(b, "recommendation.opened", body, "procedure.order")
    body.update(posts=["committee", "secretary"], round=2)
    refused(b, "recommendation.opened", body, "procedure.order")


# -- issue, return, void, entries (RP-3.4) ---------------------------------------------------------
def test_issued_must_equal_present_and_return_follows_issue() -> None:
    b = LogBuilder()
    member_session(b)
    n = {"form": "member", "post": "committee", "round": 1}
    refused(b, "ballots.returned", {**n, "count": 20}, "procedure.order")
    refused(b, "ballots.issued", {**n, "count": 19}, "ballots.issued_count")
    b.append("ballots.issued", {**n, "count": 20})
    refused(b, "ballots.issued", {**n, "count": 20}, "procedure.order")


def test_returned_more_than_issued_voids_the_round_and_a_new_session_holds_that_post_only() -> None:
    b = LogBuilder()
    member_session(b)
    b.issue_return(Form.MEMBER, "committee", 1, 20, 21)
    ids = b.stock_ids[Form.MEMBER, "committee", 1]
    entry = {
        "group": "member",
        "post": "committee",
        "round": 1,
        "ballot_id": ids[0],
        "qr": "BP1:X",
        "marks": marks(b.procedure, []),
        "written": [],
    }
    refused(b, "recommendation.entered", entry, "procedure.order")
    void = {"form": "member", "post": "committee", "round": 1, "issued": 20, "returned": 20}
    refused(b, "round.void", void, "procedure.order")
    b.append("round.void", {**void, "returned": 21})
    assert checkpoint_reason(b.entries[-1]) == "round-closed member committee 1"
    b.issue_return(Form.MEMBER, "secretary", 1, 20, 20)
    for i in range(20):
        b.enter(Form.MEMBER, "secretary", 1, i, marks(b.procedure, []))
    b.count(Form.MEMBER, b.procedure.posts[1].kind)
    closed = b.ledger.session
    assert closed is None
    assert [p.value for p in b.ledger.pending_posts(Form.MEMBER)] == ["committee"]
    b.stock(Form.MEMBER, "committee", 2, 20)
    b.open_members(20, round_no=2)
    reopened = b.ledger.session
    assert reopened is not None
    assert reopened.posts == (b.procedure.posts[0].kind,)


def test_more_entries_than_returned_are_refused() -> None:
    b = LogBuilder()
    member_session(b)
    b.issue_return(Form.MEMBER, "committee", 1, 20, 1)
    b.enter(Form.MEMBER, "committee", 1, 0, marks(b.procedure, []))
    ids = b.stock_ids[Form.MEMBER, "committee", 1]
    entry = {
        "group": "member",
        "post": "committee",
        "round": 1,
        "ballot_id": ids[1],
        "qr": "BP1:X",
        "marks": marks(b.procedure, []),
        "written": [],
    }
    refused(b, "recommendation.entered", entry, "ballot.over_returned")


def test_ballot_outside_the_rounds_stock_or_entered_twice_is_refused() -> None:
    b = LogBuilder()
    member_session(b)
    b.issue_return(Form.MEMBER, "committee", 1, 20, 20)
    first = b.enter(Form.MEMBER, "committee", 1, 0, marks(b.procedure, []))
    secretary_id = b.stock_ids[Form.MEMBER, "secretary", 1][0]
    entry = dict(first.body)
    refused(b, "recommendation.entered", entry, "ballot.replayed")
    refused(
        b, "recommendation.entered", {**entry, "ballot_id": secretary_id}, "ballot.not_in_stock"
    )
    refused(b, "recommendation.entered", {**entry, "ballot_id": "f" * 32}, "ballot.not_in_stock")


def test_entry_with_marks_that_do_not_fit_the_layout_is_refused() -> None:
    b = LogBuilder()
    member_session(b)
    b.issue_return(Form.MEMBER, "committee", 1, 20, 20)
    ids = b.stock_ids[Form.MEMBER, "committee", 1]
    entry = {
        "group": "member",
        "post": "committee",
        "round": 1,
        "ballot_id": ids[0],
        "qr": "BP1:X",
        "marks": "o",
        "written": [],
    }
    refused(b, "recommendation.entered", entry, "recommendation.marks")
    entry.update(marks=marks(b.procedure, []), written=[{"name": "张三", "member": "M999"}])
    refused(b, "recommendation.entered", entry, "recommendation.written")


def test_only_the_last_entry_can_be_withdrawn_and_its_ballot_entered_again() -> None:
    b = LogBuilder()
    member_session(b)
    b.issue_return(Form.MEMBER, "committee", 1, 20, 20)
    first = b.enter(Form.MEMBER, "committee", 1, 0, marks(b.procedure, []))
    b.enter(Form.MEMBER, "committee", 1, 1, marks(b.procedure, []))
    w = {k: first.body[k] for k in ("post", "round", "ballot_id")} | {"form": "member"}
    refused(b, "ballot.withdrawn", w, "procedure.order")
    last = b.entries[-1]
    b.append("ballot.withdrawn", {**w, "ballot_id": last.body["ballot_id"]})
    assert len(b.ledger.rounds[next(iter(b.ledger.rounds))].ballots) == 1
    b.append("recommendation.entered", dict(last.body))


def test_count_waits_for_every_returned_ballot_and_must_equal_the_recount() -> None:
    b = LogBuilder()
    member_session(b)
    b.issue_return(Form.MEMBER, "committee", 1, 20, 2)
    order = b.procedure.ballot_order
    b.enter(Form.MEMBER, "committee", 1, 0, marks(b.procedure, order[:2]))
    with pytest.raises(ProcedureLogError) as info:
        b.count(Form.MEMBER, b.procedure.posts[0].kind)
    assert info.value.code == "procedure.order"
    b.enter(
        Form.MEMBER,
        "committee",
        1,
        1,
        marks(b.procedure, order[:1]),
        written=[{"name": "外村人", "member": ""}],
    )
    body = count_body(b.ledger, Form.MEMBER, b.procedure.posts[0].kind)
    # A written non-member is a recorded decision, shown: not counted, with its reason.
    assert body["not_counted"] == [{"reason": "not_on_roster", "count": 1}]
    assert body["written_names"] == [{"name": "外村人", "reason": "not_on_roster"}]
    forged = json.loads(json.dumps(body))
    forged["recommendations"][0]["recommendations"] += 1
    refused(b, "recommendation.counted", forged, "count.recommendation_differs")
    b.append("recommendation.counted", body)
    assert checkpoint_reason(b.entries[-1]) == "round-closed member committee 1"


# -- proposal, evaluation, vetting -----------------------------------------------------------------
def test_no_recommendation_after_the_proposal_and_a_changed_proposal_is_refused() -> None:
    b = recommended_branch()
    body = proposal_body(b.ledger, election_date=ELECTION_DATE).to_json()
    forged = json.loads(json.dumps(body))
    forged["posts"][0]["names"][-1]["basis"] = "rank"
    refused(b, "preliminary.proposed", forged, "preliminary.differs")
    refused(b, "preliminary.proposed", {**body, "version": 2}, "preliminary.version")
    b.append("preliminary.proposed", body)
    assert checkpoint_reason(b.entries[-1]) == "preliminary 1"
    body = {
        "group": "member",
        "round": 2,
        "posts": ["committee"],
        "present": 20,
        "present_members": b.members_present(20),
    }
    refused(b, "recommendation.opened", body, "preliminary.after_proposal")


def test_rp_11_1_no_failed_quorum_is_recorded_after_the_proposal() -> None:
    """RP-4.5, RP-11.1: a failed quorum is a recommendation entry too; after the proposal it is
    refused as a session would be (vector V22-recommendation-after-proposal), though the same
    body is recordable before it."""
    b = recommended_branch()
    few = len(b.procedure.expected_electors) // 2
    failed = {
        "group": "member",
        "round": 2,
        "present": few,
        "present_members": b.members_present(few),
    }
    apply_entry(b.ledger, b.entry("recommendation.quorum_failed", failed))  # recordable before
    b.append("preliminary.proposed", proposal_body(b.ledger, election_date=ELECTION_DATE).to_json())
    refused(b, "recommendation.quorum_failed", failed, "preliminary.after_proposal")
    public = {"group": "public", "round": 2, "present": 1, "present_members": []}
    refused(b, "recommendation.quorum_failed", public, "preliminary.after_proposal")


def test_proposal_needs_both_groups() -> None:
    b = LogBuilder()
    order = b.procedure.ballot_order
    b.recommend(Form.MEMBER, 20, {"committee": [order[:5]] * 20, "secretary": [order[:1]] * 20})
    with pytest.raises(ProcedureCountError) as info:
        b.propose()
    assert info.value.code == "preliminary.group_missing"


def test_evaluation_lists_exactly_the_versions_names_and_entries_fit_them() -> None:
    b = recommended_branch()
    b.propose()
    opening = evaluation_opening(b.ledger)
    assert opening is not None
    _, _, persons = opening
    b.stock(Form.EVALUATION, "", 1, 50)
    body = {
        "round": 1,
        "version": 1,
        "candidates": list(persons[:-1]),
        "present_members": [],
        "public_present": 40,
        "present": 40,
    }
    refused(b, "evaluation.opened", body, "evaluation.not_listed")
    body["candidates"] = list(persons)
    refused(
        b,
        "evaluation.opened",
        {**body, "public_present": 30, "present": 30},
        "evaluation.public_quorum",
    )
    refused(b, "evaluation.opened", {**body, "present": 41}, "session.present_members")
    b.append("evaluation.opened", body)
    b.issue_return(Form.EVALUATION, "", 1, 40, 40)
    ballot = {
        "round": 1,
        "ballot_id": b.stock_ids[Form.EVALUATION, "", 1][0],
        "qr": "BP1:X",
        "marks": "s" * (len(persons) + 1),
        "added_rows": 0,
    }
    refused(b, "evaluation.entered", ballot, "evaluation.marks_length")
    refused(b, "evaluation.entered", {**ballot, "marks": "x" * len(persons)}, "evaluation.marks")


def test_vetting_must_equal_the_rule_applied_to_the_evaluation() -> None:
    b = recommended_branch()
    b.propose()
    n = len(b.ledger.proposals[0].posts[0].names)
    # The last person has 11 不满意 of 30: more than a third, does not proceed (RP-5.5).
    b.evaluate(40, ["s" * n] * 19 + ["s" * (n - 1) + "d"] * 11)
    assert b.ledger.evaluations[0].results[-1].outcome.value == "does_not_proceed"
    body = vetting_body(b.ledger).to_json()
    forged = json.loads(json.dumps(body))
    forged["posts"][0]["stopped"] = []
    forged["posts"][0]["proceeding"].append(body["posts"][0]["stopped"][0]["member"])
    refused(b, "vetting.recorded", forged, "vetting.differs")
    b.append("vetting.recorded", body)
    assert checkpoint_reason(b.entries[-1]) == "vetted"


def test_vetting_before_the_evaluation_is_refused() -> None:
    b = recommended_branch()
    b.propose()
    refused(b, "vetting.recorded", {"posts": []}, "vetting.not_evaluated")


def test_replay_of_the_stored_entries_gives_the_same_ledger() -> None:
    b = recommended_branch()
    b.propose()
    stock = {
        e.seq: frozenset(b.stock_ids[Form(e.body["form"]), e.body["post"], e.body["round"]])
        for e in b.entries
        if e.type == "stock.committed"
    }
    again = replay(
        b.procedure,
        b.procedure_id,
        [e.raw for e in b.entries],
        stock_ids=lambda e: stock.get(e.seq),
    )
    assert again == b.ledger


@pytest.mark.parametrize(
    "posts",
    [
        7,
        "x",
        [1, "a"],
        [{"post": "committee", "names": 3, "omitted": 5}],
        [{"omitted": [{"member": ["M001"], "reason": "declined"}]}],
    ],
    ids=["number", "string", "scalars", "scalar-members", "list-member"],
)
def test_computed_body_of_any_shape_is_refused_never_a_crash(posts: Any) -> None:
    b = recommended_branch()
    with pytest.raises((ProcedureLogError, ProcedureCountError)):
        b.append(
            "preliminary.proposed", {"version": 1, "election_date": "2026-12-01", "posts": posts}
        )
    b.propose()
    n = len(b.ledger.proposals[0].posts[0].names)
    b.evaluate(40, ["s" * n] * 30)
    with pytest.raises((ProcedureLogError, ProcedureCountError)):
        b.append("vetting.recorded", {"posts": posts})


def test_supplement_after_the_vetting_adds_the_next_names_and_is_evaluated_again() -> None:
    """RP-6.3: two of six committee names do not proceed; version 2 adds the next names of the
    ranking (basis ``supplement``), evaluated in round 2, then vetted again."""
    b = LogBuilder()
    o = b.procedure.ballot_order
    committee = [list(o[:5])] * 10 + [list(o[5:9])] * 4 + [[o[5]]] * 2
    secretary = [[o[3]]] * 16
    b.recommend(Form.MEMBER, 20, {"committee": committee, "secretary": secretary})
    b.recommend(Form.PUBLIC, 40, {"committee": committee * 2, "secretary": secretary * 2})
    b.propose()
    assert {n.member for n in b.ledger.proposals[0].posts[0].names} == set(o[:6])
    opening = evaluation_opening(b.ledger)
    assert opening is not None
    persons = opening[2]
    fail = "".join("d" if m in o[:2] else "s" for m in persons)
    b.evaluate(40, ["s" * len(persons)] * 19 + [fail] * 11)
    b.vet()
    first_vetting = b.ledger.vettings[-1]
    assert len(first_vetting.posts[0].proceeding) == 4
    v2 = b.propose()
    assert v2.body["version"] == 2
    added = {n["member"]: n["basis"] for n in v2.body["posts"][0]["names"]}
    assert set(added) == set(o[6:9]) and set(added.values()) == {"supplement"}
    second = evaluation_opening(b.ledger)
    assert second == (2, 2, tuple(o[6:9]))
    b.evaluate(40, ["s" * 3] * 30)
    b.vet()
    second_vetting = b.ledger.vettings[-1]
    assert len(second_vetting.posts[0].proceeding) == 7
    # Every post meets its margin and the ranking is used up: no empty supplement is recorded.
    with pytest.raises(ProcedureLogError) as info:
        proposal_body(b.ledger, election_date=ELECTION_DATE)
    assert info.value.code == "preliminary.exhausted"


def test_supplement_waits_for_the_vetting_of_the_latest_version() -> None:
    """RP-6.3: a supplement follows a vetting record of the latest version. After version 2 is
    evaluated, the vetting of version 1 is not enough (its lists know nothing of version 2's
    names): version 3 is out of order until version 2 is vetted."""
    b = LogBuilder()
    o = b.procedure.ballot_order
    committee = [list(o[:5])] * 10 + [list(o[5:9])] * 4 + [[o[5]]] * 2 + [list(o[9:12])] * 2
    secretary = [[o[3]]] * 16
    b.recommend(Form.MEMBER, 20, {"committee": committee, "secretary": secretary})
    b.recommend(Form.PUBLIC, 40, {"committee": committee * 2, "secretary": secretary * 2})
    b.propose()
    opening = evaluation_opening(b.ledger)
    assert opening is not None
    fail = "".join("d" if m in o[:2] else "s" for m in opening[2])
    b.evaluate(40, ["s" * len(opening[2])] * 19 + [fail] * 11)
    b.vet()
    b.propose()
    second = evaluation_opening(b.ledger)
    assert second is not None
    b.evaluate(40, ["d" * len(second[2])] * 30)
    with pytest.raises(ProcedureLogError) as info:
        proposal_body(b.ledger, election_date=ELECTION_DATE)
    assert info.value.code == "procedure.order"
    b.vet()
    assert proposal_body(b.ledger, election_date=ELECTION_DATE).version == 3


def test_evaluation_round_without_a_valid_ballot_is_void_and_held_again() -> None:
    """RP-5.5: V = 0 cannot be used; the round is closed as void and the next round evaluates
    the same version."""
    b = recommended_branch()
    b.propose()
    opening = evaluation_opening(b.ledger)
    assert opening is not None
    _, _, persons = opening
    b.stock(Form.EVALUATION, "", 1, 50)
    b.append(
        "evaluation.opened",
        {
            "round": 1,
            "version": 1,
            "candidates": list(persons),
            "present_members": [],
            "public_present": 40,
            "present": 40,
        },
    )
    b.issue_return(Form.EVALUATION, "", 1, 40, 0)
    with pytest.raises(ProcedureCountError) as info:
        b.count(Form.EVALUATION, None)
    assert info.value.code == "evaluation.no_valid_ballots"
    void = {"form": "evaluation", "post": "", "round": 1, "issued": 40, "returned": 0}
    b.append("round.void", void)
    assert b.ledger.session is None
    assert evaluation_opening(b.ledger) == (2, 1, persons)


def test_void_is_refused_for_a_round_that_can_be_counted() -> None:
    b = LogBuilder()
    member_session(b)
    b.issue_return(Form.MEMBER, "committee", 1, 20, 0)
    void = {"form": "member", "post": "committee", "round": 1, "issued": 20, "returned": 0}
    refused(b, "round.void", void, "procedure.order")


def test_stock_part_once_ids_in_one_stock_and_a_post_of_the_procedure() -> None:
    b = LogBuilder()
    ids = b.stock(Form.MEMBER, "committee", 1, 3)
    body = {"form": "member", "post": "committee", "round": 1, "count": 3, "commitment": "ab" * 32}
    refused(b, "stock.committed", body, "stock.twice", stock_ids=frozenset(ids))
    body2 = {**body, "round": 2}
    refused(b, "stock.committed", body2, "stock.ids", stock_ids=frozenset(ids))
    refused(b, "stock.committed", body2, "stock.ids", stock_ids=frozenset(ids[:2]))
    refused(b, "stock.committed", body2, "stock.ids")
    refused(
        b,
        "stock.committed",
        {**body2, "post": "deputy_secretary"},
        "recommendation.post",
        stock_ids=frozenset({"c" * 32}),
    )
    supplement = {**body, "count": 1, "part": 2}
    b.append("stock.supplemented", supplement, stock_ids=frozenset({"d" * 32}))
    assert checkpoint_reason(b.entries[-1]) == "stock-supplement member committee 1 2"
    assert b.ledger.stocks[next(iter(b.ledger.stocks))] == frozenset([*ids, "d" * 32])
    refused(
        b,
        "stock.supplemented",
        {**body2, "count": 1, "part": 2},
        "stock.twice",
        stock_ids=frozenset({"e" * 32}),
    )


def test_officials_change_between_sessions_only_with_roster_members() -> None:
    b = LogBuilder()
    refused(b, "officials.changed", {"scrutineers": [], "tellers": ["M011"]}, "officials.bad_list")
    refused(
        b, "officials.changed", {"scrutineers": ["M999"], "tellers": ["M011"]}, "officials.bad_list"
    )
    b.append("officials.changed", {"scrutineers": ["M009"], "tellers": ["M011", "M012"]})
    assert b.ledger.officials is not None
    member_session(b)
    refused(
        b, "officials.changed", {"scrutineers": ["M009"], "tellers": ["M011"]}, "procedure.order"
    )


def test_town_acts_follow_their_order() -> None:
    """The town acts' rules are piece 5's (tests/unit/procedure/test_town_acts.py): an election
    is bound only after the approval."""
    b = LogBuilder()
    body = {"election_id": "0" * 64, "manifest_sha256": "0" * 64}
    refused(b, "election.bound", body, "procedure.order")
    assert checkpoint_reason(b.entry("election.bound", body)) == "bound"


def test_stored_entry_with_a_time_without_offset_is_refused() -> None:
    doc = json.loads(LogBuilder().entries[0].raw)
    doc["at"] = "2026-11-02T09:00:00"
    with pytest.raises(ProcedureLogError) as info:
        parse_entry(canonical(doc))
    assert info.value.code == "log.bad_time"


def test_declared_invalid_needs_a_known_reason_and_takes_a_returned_ballots_place() -> None:
    b = LogBuilder()
    member_session(b)
    b.issue_return(Form.MEMBER, "committee", 1, 20, 1)
    ballot_id = b.stock_ids[Form.MEMBER, "committee", 1][0]
    body = {
        "form": "member",
        "post": "committee",
        "round": 1,
        "ballot_id": ballot_id,
        "qr": "BP1:X",
        "reason": "torn",
        "scrutineer": "s",
        "signature": "x",
    }
    with pytest.raises(ProcedureLogError) as info:
        parse_body("ballot.declared_invalid", body)
    assert info.value.code == "log.malformed"
    b.append("ballot.declared_invalid", {**body, "reason": "unreadable"})
    counted = count_body(b.ledger, Form.MEMBER, b.procedure.posts[0].kind)
    assert (counted["valid_ballots"], counted["invalid_ballots"]) == (0, 1)
    b.append(
        "ballot.withdrawn",
        {"form": "member", "post": "committee", "round": 1, "ballot_id": ballot_id},
    )
    assert b.ledger.used_ids == frozenset()
