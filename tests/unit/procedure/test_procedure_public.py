"""The public view ``procedure-public/1`` (spec/procedure.md RP-12.4): what it carries, and each
privacy rule as its own test (never an id, a per-person count, a written name, who did not proceed
or why, an objection's reference or identity)."""

from __future__ import annotations

import json
import re
from typing import Any

from tally.core.procedure.entries import Form
from tally.core.procedure.public import public_view
from tests.helpers.procedure_log import LogBuilder, recommended_branch
from tests.helpers.procedure_public import (
    DECLINED_REFERENCE,
    OBJECTION_REFERENCE,
    WRITTEN_SECRET,
    appointed_branch,
    approved_lists,
    vetted_branch,
)


def _public(b: LogBuilder) -> dict[str, Any]:
    return public_view(b.procedure, b.entries).to_json()


def _text(b: LogBuilder) -> str:
    return json.dumps(_public(b), ensure_ascii=False)


def test_public_view_has_exactly_the_members_of_its_format() -> None:
    doc = _public(appointed_branch())
    assert list(doc) == [
        "format",
        "procedure_id",
        "branch",
        "town",
        "term",
        "preliminary",
        "formal",
        "sessions",
        "objections",
        "appointment",
    ]
    assert doc["format"] == "procedure-public/1"
    assert doc["branch"] == "中共青山村支部委员会"


def test_before_the_proposal_there_is_no_list_and_nothing_after_the_vote() -> None:
    doc = _public(recommended_branch())
    assert doc["preliminary"] == []
    assert doc["formal"] == []
    assert doc["objections"] is None
    assert doc["appointment"] is None


def test_each_session_round_gives_its_ballot_numbers_only() -> None:
    doc = _public(vetted_branch())
    first = doc["sessions"][0]
    assert first == {
        "form": "member",
        "post": "committee",
        "round": 1,
        "status": "counted",
        "issued": 20,
        "returned": 20,
        "valid": 20,
        "invalid": 0,
    }
    evaluation = [s for s in doc["sessions"] if s["form"] == "evaluation"]
    assert evaluation == [
        {
            "form": "evaluation",
            "post": "",
            "round": 1,
            "status": "counted",
            "issued": 40,
            "returned": 30,
            "valid": 30,
            "invalid": 0,
        }
    ]
    assert {tuple(sorted(s)) for s in doc["sessions"]} == {
        ("form", "invalid", "issued", "post", "returned", "round", "status", "valid")
    }


def test_an_open_session_has_no_numbers_until_they_are_recorded() -> None:
    b = LogBuilder()
    b.stock(Form.MEMBER, "committee", 1, 20)
    b.open_members(20)
    b.append("ballots.issued", {"form": "member", "post": "committee", "round": 1, "count": 20})
    sessions = _public(b)["sessions"]
    assert sessions[0]["status"] == "open"
    assert (sessions[0]["issued"], sessions[0]["returned"], sessions[0]["valid"]) == (
        20,
        None,
        None,
    )
    assert sessions[1]["issued"] is None


def test_a_void_round_is_shown_void_with_its_numbers() -> None:
    b = LogBuilder()
    b.stock(Form.MEMBER, "committee", 1, 20)
    b.open_members(20)
    b.issue_return(Form.MEMBER, "committee", 1, 20, 21)
    b.append(
        "round.void",
        {"form": "member", "post": "committee", "round": 1, "issued": 20, "returned": 21},
    )
    s = _public(b)["sessions"][0]
    assert (s["status"], s["issued"], s["returned"], s["valid"]) == ("void", 20, 21, None)


def test_preliminary_list_is_every_proposed_name_in_ballot_order_by_name() -> None:
    b = vetted_branch()
    doc = _public(b)
    p = b.procedure
    for post, item in zip(b.ledger.proposals[0].posts, doc["preliminary"], strict=True):
        ids = {n.member for n in post.names}
        assert item["post"] == post.post.value
        assert item["names"] == [p.member(m).name for m in p.ballot_order if m in ids]


def test_formal_lists_are_the_approved_candidates_by_name() -> None:
    b = appointed_branch()
    doc = _public(b)
    lists = approved_lists(b)
    assert doc["formal"] == [
        {"post": post.value, "names": [b.procedure.member(m).name for m in ids]}
        for post, ids in lists.items()
    ]


def test_after_the_appointment_objections_by_finding_and_each_persons_status() -> None:
    b = appointed_branch()
    doc = _public(b)
    assert doc["objections"] == {
        "received": 2,
        "by_finding": [
            {"finding": "substantiated", "count": 1},
            {"finding": "unsubstantiated", "count": 1},
        ],
    }
    appointment = doc["appointment"]
    assert appointment["date"] == "2026-12-10"
    assert appointment["decision"] == "approved"
    statuses = [p["status"] for p in appointment["persons"]]
    assert statuses.count("not_appointed") == 1
    assert len(statuses) == 6


# -- privacy (RP-12.4, RP-12.2): each rule its own test ------------------------------------------
def test_no_member_id_appears_anywhere() -> None:
    text = _text(appointed_branch())
    assert re.search(r"M\d{3}", text) is None


def test_no_written_name_appears() -> None:
    b = appointed_branch()
    written = [
        w["name"]
        for e in b.entries
        if e.type == "recommendation.counted"
        for w in e.body["written_names"]
    ]
    assert WRITTEN_SECRET in written  # the log has it: the count shows it to the town
    assert WRITTEN_SECRET not in _text(b)


def test_no_per_person_count_or_score_appears() -> None:
    b = appointed_branch()
    text = _text(b)
    for key in ("recommendations", "score", "member_recommendations", "counts", "fail_count"):
        assert f'"{key}"' not in text
    numbers = {int(n) for n in re.findall(r"\b\d+\b", json.dumps(_public(b)["sessions"]))}
    per_person = {
        r["recommendations"]
        for e in b.entries
        if e.type == "recommendation.counted"
        for r in e.body["recommendations"]
    }
    # Every number of the sessions is a ballot number of the log, never a person's count.
    ballot_numbers = {
        e.body[k]
        for e in b.entries
        for k in ("count", "valid_ballots", "invalid_ballots", "round")
        if k in e.body and isinstance(e.body[k], int)
    }
    assert numbers <= ballot_numbers
    assert per_person - ballot_numbers  # the test can tell the two apart


def test_who_did_not_proceed_and_why_never_appear() -> None:
    b = appointed_branch()
    text = _text(b)
    stopped = [s for post in b.ledger.vettings[-1].posts for s in post.stopped]
    assert {s.reason.value for s in stopped} >= {"evaluation", "declined"}
    for word in ("stopped", "omitted", "does_not_proceed", "proceeding", "declined", "reason"):
        assert word not in text
    assert DECLINED_REFERENCE not in text
    assert "outcome" not in text


def test_no_objection_reference_text_or_identity_appears() -> None:
    text = _text(appointed_branch())
    assert OBJECTION_REFERENCE not in text
    for key in ("reference", "channel", "about", "objector", "what", "summary", "casework"):
        assert f'"{key}"' not in text


def test_the_view_depends_only_on_the_log() -> None:
    b = appointed_branch()
    assert public_view(b.procedure, b.entries) == public_view(b.procedure, list(b.entries))
    assert _public(b)["procedure_id"] == b.procedure_id.hex()
