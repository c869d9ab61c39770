"""The town report's procedure figures of a branch's log (spec/procedure.md RP-13.2,
tally.core.procedure.figures): read from the entries, not yet gated on the verifier."""

from __future__ import annotations

from tally.core.procedure.figures import procedure_figures
from tally.core.procedure.ledger import evaluation_opening
from tests.helpers.procedure_log import recommended_branch


def test_before_any_public_session_the_public_group_is_not_held() -> None:
    b = recommended_branch()
    member_only = [e for e in b.entries if e.body.get("group") != "public"]
    got = procedure_figures(member_only)["recommendation"]
    assert got["member_group_held"] is True
    assert got["public_group_held"] is False


def test_sessions_count_every_round_of_both_groups_with_issued_and_returned() -> None:
    got = procedure_figures(recommended_branch().entries)
    sessions = {(s["form"], s["post"]): s for s in got["recommendation"]["sessions"]}
    assert set(sessions) == {
        (g, p) for g in ("member", "public") for p in ("committee", "secretary")
    }
    assert sessions["member", "committee"] == {
        "form": "member",
        "post": "committee",
        "round": 1,
        "issued": 20,
        "returned": 20,
        "valid": 20,
        "invalid": 0,
    }
    assert sessions["public", "secretary"]["valid"] == 40
    assert got["source"] == "producer_log"


def test_an_evaluation_stop_is_counted_by_reason_and_the_appointment_is_pending() -> None:
    b = recommended_branch()
    b.propose()
    opening = evaluation_opening(b.ledger)
    assert opening is not None
    persons = len(opening[2])
    # the last committee name gets "not satisfied" on every paper; the others "satisfied"
    b.evaluate(40, ["s" * (persons - 1) + "d"] * 40)
    b.vet()
    got = procedure_figures(b.entries, "appointment.objection_open")
    assert got["evaluation"] == [{"round": 1, "persons": persons, "did_not_proceed": 1}]
    committee = got["lists"][0]
    assert committee["post"] == "committee"
    assert committee["preliminary"] == persons
    assert committee["formal"] is None  # not approved yet
    assert committee["not_proceeding"] == {"evaluation": 1}
    assert got["appointment"] == {"state": "pending", "refused": "appointment.objection_open"}
