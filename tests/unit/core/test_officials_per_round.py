"""Officials per round (spec/rules.md R25.1, R25.2; RULES A12.3), on the meeting state machine.

The definition's scrutineers and tellers serve from the first round; ``officials.changed`` sets
those of the rounds opened afterwards. A round refuses to open when a scrutineer of an assembly
round is not present, when a scrutineer of a plenary round is not a committee member, or when an
official is a candidate of the round."""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Any

import pytest

from tally.core.definition import parse_definition
from tally.core.errors import DefinitionError, RoundStateError
from tally.core.meeting import (
    Meeting,
    apply_entry,
    begin,
    count_current,
    counted_body,
    make_entry,
    opened_body,
)
from tally.core.model import MemberId, PostKind
from tally.core.rounds import RoundSpec, amend_candidates, next_round
from tests.helpers.elections import definition_text

AT = dt.datetime(2026, 12, 15, 9, 0, tzinfo=dt.UTC)
EID = hashlib.sha256(b"officials per round").digest()
SALT = bytes(32)  # the state machine ignores the salt; the shells draw it from secrets
SCRUTINEER, TELLER = "M012", "M011"  # definition_text: the last two of 12 full members


def _meeting(**kw: Any) -> Meeting:
    election = parse_definition(definition_text(full=12, committee_seats=3, **kw))
    entry0 = make_entry(
        None,
        "election.opened",
        {"election_id": EID.hex()},
        at=AT,
        actor="",
        salt=SALT,
        election_id=EID,
    )
    return begin(election, EID, entry0)


def _do(m: Meeting, type_: str, body: dict[str, Any], **kw: Any) -> Meeting:
    return apply_entry(m, make_entry(m, type_, body, at=AT, actor="", salt=SALT), **kw)


def _checkin(m: Meeting, *ids: str) -> Meeting:
    for x in ids:
        m = _do(m, "member.checked_in", {"member": x})
    return m


def _open(m: Meeting, members: tuple[str, ...] = ()) -> Meeting:
    due = m.due()
    assert isinstance(due, RoundSpec)
    present = len(members) if members else len(m.present)
    return _do(m, "round.opened", opened_body(due, present, tuple(MemberId(x) for x in members)))


def _vote(m: Meeting, marks: list[str], members: tuple[str, ...] = ()) -> Meeting:
    """Open the due round, issue, return, enter ``marks`` and count."""
    due = m.due()
    assert isinstance(due, RoundSpec)
    key = {"post": due.post.value, "round": due.number}
    ids = [
        hashlib.sha256(f"{due.post}{due.number}{i}".encode()).hexdigest()[:32]
        for i in range(len(marks))
    ]
    m = _do(
        m,
        "stock.committed",
        {**key, "count": len(ids), "commitment": "0" * 64},
        stock_ids=frozenset(ids),
    )
    m = _open(m, members)
    m = _do(m, "ballots.issued", {**key, "count": len(marks)})
    m = _do(m, "ballots.returned", {**key, "count": len(marks)})
    for bid, text in zip(ids, marks, strict=True):
        m = _do(
            m, "ballot.entered", {**key, "ballot_id": bid, "qr": "", "marks": text, "write_ins": []}
        )
    return _do(m, "round.counted", counted_body(count_current(m)))


def _refused(m: Meeting, fn: Any) -> RoundStateError:
    with pytest.raises(RoundStateError) as err:
        fn(m)
    return err.value


ALL = [f"M{i:03d}" for i in range(1, 13)]


def test_assembly_round_does_not_open_while_a_scrutineer_is_absent_R25() -> None:
    m = _checkin(_meeting(), *[x for x in ALL if x != SCRUTINEER])
    err = _refused(m, _open)
    assert err.code == "official.not_present" and err.clause == "R25"
    assert "未签到" in err.zh and "not checked in" in err.en
    _open(_checkin(m, SCRUTINEER))  # present: the round opens


def test_plenary_round_needs_a_committee_member_scrutineer_who_is_not_a_candidate_R25() -> None:
    m = _checkin(
        _meeting(secretary_body="committee", secretary_candidates=(1,), secretary_margin="none"),
        *ALL,
    )
    m = _vote(m, ["ooox"] * 12)  # M001, M002, M003 elected
    plenary = ("M001", "M002", "M003")
    err = _refused(m, lambda x: _open(x, plenary))  # the definition's scrutineer is not a member
    assert err.code == "official.not_committee_member" and "tally officials" in err.en
    candidate = _do(m, "officials.changed", {"scrutineers": ["M001"], "tellers": [TELLER]})
    err = _refused(candidate, lambda x: _open(x, plenary))  # M001 stands for secretary
    assert err.code == "official.is_candidate" and err.clause == "R25"
    ok = _do(m, "officials.changed", {"scrutineers": ["M002"], "tellers": [TELLER]})
    after = _vote(ok, ["o", "o", "o"], plenary)  # a teller need not be a committee member
    assert after.rounds.elected(PostKind.SECRETARY) == ("M001",)


def test_officials_are_inherited_by_later_rounds_until_changed_R25() -> None:
    m = _checkin(_meeting(), *ALL)
    m = _do(m, "officials.changed", {"scrutineers": ["M010"], "tellers": ["M009"]})
    m = _vote(m, ["ooox"] * 12)
    m = _do(m, "member.left", {"member": "M010"})
    err = _refused(m, _open)  # the secretary round inherits M010, who has left
    assert err.code == "official.not_present"


def test_an_official_of_one_round_may_stand_in_another_R25() -> None:
    """M012 scrutinises committee round 1 (a shortfall); once the officials change, the town may
    put M012 on the further round's list (RS7), and the round opens with M012 standing."""
    m = _checkin(_meeting(committee_candidates=4), *ALL)
    m = _vote(m, ["ooxx"] * 7 + ["xxoo"] * 5)  # M001, M002 elected; one seat open
    state = m.rounds
    with pytest.raises(RoundStateError) as err:
        amend_candidates(state, PostKind.COMMITTEE, (MemberId("M003"), MemberId(SCRUTINEER)))
    assert err.value.code == "amend.official"
    m = _do(m, "officials.changed", {"scrutineers": ["M010"], "tellers": [TELLER]})
    state = amend_candidates(m.rounds, PostKind.COMMITTEE, (MemberId("M003"), MemberId(SCRUTINEER)))
    due = next_round(state)
    assert isinstance(due, RoundSpec) and MemberId(SCRUTINEER) in due.candidates


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"scrutineers": ["M010", "M010"], "tellers": [TELLER]}, "official.duplicate"),
        ({"scrutineers": ["M010"], "tellers": ["M010"]}, "official.both_roles"),
        ({"scrutineers": ["M099"], "tellers": [TELLER]}, "member.unknown"),
        ({"scrutineers": [], "tellers": [TELLER]}, "officials.missing"),
    ],
    ids=["twice-in-one-list", "both-roles", "not-on-roster", "no-scrutineer"],
)
def test_officials_change_is_refused_when_a_list_is_malformed_R25(
    body: dict[str, Any], code: str
) -> None:
    m = _meeting()
    err = _refused(m, lambda x: _do(x, "officials.changed", body))
    assert err.code == code and err.clause == "R25" and err.zh and err.en


def test_definition_refuses_an_official_twice_in_one_list_R25() -> None:
    text = definition_text(full=12, committee_seats=3).replace(
        f'scrutineers = ["{SCRUTINEER}"]', f'scrutineers = ["{SCRUTINEER}", "{SCRUTINEER}"]'
    )
    with pytest.raises(DefinitionError) as err:
        parse_definition(text)
    assert [p.code for p in err.value.problems] == ["official.duplicate"]
