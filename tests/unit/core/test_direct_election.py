"""Direct election (spec/rules.md R22, RULES A12.4; ADR 0011): secretary candidates are committee
candidates, the first rounds of every post open together with one present count, the committee is
counted first and a secretary candidate not elected to it drops out of the secretary count."""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest

from tally.core.ballots import Ballot, Mark, WriteIn
from tally.core.definition import parse_definition
from tally.core.errors import DefinitionError, RoundStateError
from tally.core.meeting import (
    Entry,
    Meeting,
    OpenRound,
    apply_entry,
    begin,
    count_current,
    counted_body,
    make_entry,
    opened_body,
)
from tally.core.model import Election, MemberId, PostKind
from tally.core.rounds import (
    ElectingBody,
    ElectionState,
    Finished,
    RoundInput,
    RoundOutcome,
    RoundPurpose,
    RoundSpec,
    apply_outcome,
    count_round,
    joint_rounds,
    next_round,
    start,
)
from tests.helpers.elections import ballots_for, definition_text, make_election, member_id

O, X, N = Mark.APPROVE, Mark.DISAPPROVE, Mark.ABSTAIN
M = [MemberId(member_id(i)) for i in range(100)]  # M[1] = "M001"


def _direct(full: int = 20, secretary: tuple[int, ...] = (1, 2), deputy: str = "") -> Election:
    """20 full members (E = 20), committee 3 seats of M001-M004, secretary list ``secretary``."""
    return make_election(
        full=full,
        committee_seats=3,
        committee_candidates=4,
        secretary_candidates=secretary,
        secretary_body="direct",
        extra=deputy,
    )


def _round(state: ElectionState, spec: RoundSpec, approvals: list[int], n: int) -> RoundOutcome:
    return count_round(
        state, spec, RoundInput(n, n, n, tuple(ballots_for(approvals, n, spec.seats)))
    )


def _due(state: ElectionState) -> RoundSpec:
    spec = next_round(state)
    assert isinstance(spec, RoundSpec), spec
    return spec


# -- R22.1 definition --------------------------------------------------------------------------


def test_direct_secretary_candidate_must_be_committee_candidate_R22_1() -> None:
    """M009 stands for secretary but not for the committee; the same pass also reports the
    scrutineer who is a candidate (every definition problem at once)."""
    text = definition_text(
        full=20,
        committee_seats=3,
        committee_candidates=4,
        secretary_candidates=(1, 9),
        secretary_body="direct",
    ).replace('scrutineers = ["M020"]', 'scrutineers = ["M002"]')
    with pytest.raises(DefinitionError) as err:
        parse_definition(text)
    by_code = {p.code: p for p in err.value.problems}
    assert set(by_code) >= {"secretary.not_committee_candidate", "official.is_candidate"}
    p = by_code["secretary.not_committee_candidate"]
    assert p.clause == "R22"
    assert "M009" in p.zh and "直接选举" in p.zh
    assert "M009" in p.en and "direct election" in p.en


def test_direct_definition_with_committee_candidates_is_accepted_R22_1() -> None:
    election = _direct(secretary=(1, 2))
    assert election.post(PostKind.SECRETARY) is not None


# -- R22.2 the joint first rounds ----------------------------------------------------------------


def test_direct_secretary_first_round_is_pending_from_start_with_the_whole_list_R22_2() -> None:
    state = start(_direct(secretary=(1, 2)))
    joint = joint_rounds(state)
    assert [s.post for s in joint] == [PostKind.SECRETARY]
    sec = joint[0]
    assert (sec.number, sec.purpose, sec.candidates, sec.seats) == (
        1,
        RoundPurpose.FIRST,
        (M[1], M[2]),
        1,
    )
    assert sec.body is ElectingBody.ASSEMBLY and sec.expected == 20
    assert _due(state).post is PostKind.COMMITTEE  # RS1: the committee is counted first


def test_joint_rounds_only_in_direct_elections_R22_2() -> None:
    state = start(make_election(full=20, committee_seats=3, committee_candidates=4))
    assert joint_rounds(state) == ()


# -- R22.3 drop-outs at the count ----------------------------------------------------------------


def test_direct_secretary_candidate_not_elected_to_committee_drops_out_R22_3() -> None:
    """M001 and M002 stand for secretary; M002 is not elected to the committee. M002's 15
    secretary approvals count for nobody; M001's 11 pass (2*11 > 20) and M001 is elected."""
    state = start(_direct(secretary=(1, 2)))
    com = _due(state)
    state = apply_outcome(state, _round(state, com, [16, 4, 15, 14], 18))
    assert state.elected(PostKind.COMMITTEE) == (M[1], M[3], M[4])
    sec = _due(state)
    assert sec.candidates == (M[1], M[2])  # the ballot as printed
    out = _round(state, sec, [11, 6], 18)
    assert out.dropped == (M[2],)
    assert out.approvals == ((M[1], 11),)
    assert out.elected == (M[1],)
    assert "R22" in out.clauses
    state = apply_outcome(state, out)
    assert isinstance(next_round(state), Finished)


def test_dropped_candidates_approvals_count_for_nobody_even_when_highest_R22_3() -> None:
    """The dropped M002 has the most approvals; M001's 9 do not pass (2*9 = 18 < 20): nobody is
    elected secretary, and M002 is never elected."""
    state = start(_direct(secretary=(1, 2)))
    state = apply_outcome(state, _round(state, _due(state), [16, 4, 15, 14], 18))
    out = _round(state, _due(state), [9, 9], 18)
    assert out.dropped == (M[2],)
    assert out.elected == () and out.shortfall == 1


def test_dropped_candidate_marks_still_count_in_choices_R22_3_R8() -> None:
    """A ballot approving both secretary candidates is invalid (2 choices, 1 seat), even though
    one of them dropped out: the ballot is judged as printed."""
    state = start(_direct(secretary=(1, 2)))
    state = apply_outcome(state, _round(state, _due(state), [16, 4, 15, 14], 18))
    sec = _due(state)
    ballots = (Ballot(marks=(O, O)),) + (Ballot(marks=(O, N)),) * 17
    out = count_round(state, sec, RoundInput(18, 18, 18, ballots))
    assert out.invalid_ballots == 1 and out.approvals == ((M[1], 17),)


def test_deputy_candidate_elected_secretary_drops_out_of_the_deputy_count_R22_3() -> None:
    deputy = '[[posts]]\npost = "deputy_secretary"\nseats = 1\ncandidates = ["M001", "M003"]\n'
    state = start(_direct(secretary=(1, 2), deputy=deputy))
    assert [s.post for s in joint_rounds(state)] == [PostKind.SECRETARY, PostKind.DEPUTY_SECRETARY]
    state = apply_outcome(state, _round(state, _due(state), [16, 4, 15, 14], 18))
    state = apply_outcome(state, _round(state, _due(state), [12, 3], 18))
    assert state.elected(PostKind.SECRETARY) == (M[1],)
    dep = _due(state)
    assert dep.post is PostKind.DEPUTY_SECRETARY and dep.candidates == (M[1], M[3])
    out = _round(state, dep, [7, 11], 18)
    assert out.dropped == (M[1],) and out.elected == (M[3],)


# -- R22.4 no secretary: a further round among the committee members ----------------------------


def test_no_one_elected_secretary_further_round_among_committee_members_R22_4() -> None:
    """M002 dropped out, M001 failed the threshold: the further round lists M001 only (the
    secretary candidates who are committee members), threshold unchanged, no margin."""
    state = start(_direct(secretary=(1, 2)))
    state = apply_outcome(state, _round(state, _due(state), [16, 4, 15, 14], 18))
    state = apply_outcome(state, _round(state, _due(state), [9, 9], 18))
    further = _due(state)
    assert further.purpose is RoundPurpose.FURTHER and further.number == 2
    assert further.candidates == (M[1],)
    out = _round(state, further, [12], 18)
    assert out.dropped == () and out.elected == (M[1],)


def test_write_in_for_non_committee_member_gives_no_vote_in_direct_secretary_round_R22_4_R9() -> (
    None
):
    state = start(_direct(secretary=(1, 2)))
    state = apply_outcome(state, _round(state, _due(state), [16, 4, 15, 14], 18))
    sec = _due(state)
    to_m5 = Ballot(marks=(X, X), write_ins=(WriteIn("M005", M[5], marked=True),))
    to_m3 = Ballot(marks=(X, X), write_ins=(WriteIn("M003", M[3], marked=True),))
    out = count_round(state, sec, RoundInput(18, 18, 18, (to_m5,) * 9 + (to_m3,) * 9))
    assert dict(out.approvals).get(M[5]) is None  # M005 is not on the committee
    assert dict(out.approvals)[M[3]] == 9


# -- the meeting: one opening, one present count ------------------------------------------------

T0 = dt.datetime(2026, 12, 15, 9, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))
EID = hashlib.sha256(b"direct").digest()
SALT = bytes(32)  # the state machine ignores the salt; the shells draw it from secrets
# 18 present, the scrutineer M020 among them (R25.2: an assembly round's scrutineers are present)
PRESENT = (*range(1, 18), 20)


class _Log:
    def __init__(self, election: Election) -> None:
        e0 = make_entry(
            None,
            "election.opened",
            {"election_id": EID.hex()},
            at=T0,
            actor="t",
            salt=SALT,
            election_id=EID,
        )
        self.m = begin(election, EID, e0)
        self.n = 0

    def entry(self, type_: str, body: dict[str, object]) -> Entry:
        self.n += 1
        return make_entry(
            self.m, type_, body, at=T0 + dt.timedelta(minutes=self.n), actor="t", salt=SALT
        )

    def add(
        self, type_: str, body: dict[str, object], ids: frozenset[str] | None = None
    ) -> Meeting:
        self.m = apply_entry(self.m, self.entry(type_, body), stock_ids=ids)
        return self.m

    def stock(self, post: str, number: int, count: int) -> None:
        ids = frozenset(
            hashlib.md5(f"{post}{number}{i}".encode()).hexdigest() for i in range(count)
        )
        self.add(
            "stock.committed",
            {"post": post, "round": number, "count": count, "commitment": "0" * 64},
            ids,
        )
        self.ids = sorted(ids)


def _open_round(m: Meeting) -> OpenRound | None:
    return m.current


def _opened(spec: RoundSpec, present: int) -> dict[str, object]:
    return opened_body(spec, present, ())


def test_joint_opening_opens_every_first_round_with_one_present_count_R22_2() -> None:
    log = _Log(_direct(secretary=(1, 2)))
    stocks = {}
    for post in ("committee", "secretary"):
        log.stock(post, 1, 20)
        stocks[post] = log.ids
    for i in PRESENT:
        log.add("member.checked_in", {"member": member_id(i)})
    com = log.m.due()
    assert isinstance(com, RoundSpec)
    log.add("round.opened", _opened(com, 18))
    # nothing but the secretary's opening may follow the committee's
    with pytest.raises(RoundStateError) as err:
        log.add("ballots.issued", {"post": "committee", "round": 1, "count": 18})
    assert err.value.code == "joint.incomplete" and "书记" in err.value.zh
    sec = joint_rounds(log.m.rounds)[0]
    # the secretary's round takes the committee's present count, not a new one
    with pytest.raises(RoundStateError) as err:
        log.add("round.opened", _opened(sec, 17))
    assert err.value.code == "joint.mismatch"
    log.add("round.opened", _opened(sec, 18))
    assert log.m.current is not None and log.m.current.spec.post is PostKind.COMMITTEE
    assert [h.spec.post for h in log.m.held] == [PostKind.SECRETARY]
    # ballots of both kinds are issued and returned together
    for post in ("committee", "secretary"):
        log.add("ballots.issued", {"post": post, "round": 1, "count": 18})
    for post in ("committee", "secretary"):
        log.add("ballots.returned", {"post": post, "round": 1, "count": 18})
    # a member arriving now changes nothing for the secretary round
    log.add("member.checked_in", {"member": member_id(19)})
    # secretary ballots wait for the committee count
    with pytest.raises(RoundStateError) as err:
        log.add(
            "ballot.entered",
            {
                "post": "secretary",
                "round": 1,
                "ballot_id": stocks["secretary"][0],
                "qr": "x",
                "marks": "o-",
                "write_ins": [],
            },
        )
    assert err.value.code == "round.other"
    for bid, b in zip(stocks["committee"], ballots_for([16, 4, 15, 14], 18, 3), strict=False):
        marks = "".join(x.value for x in b.marks)
        log.add(
            "ballot.entered",
            {
                "post": "committee",
                "round": 1,
                "ballot_id": bid,
                "qr": "x",
                "marks": marks,
                "write_ins": [],
            },
        )
    out = count_current(log.m)
    log.add("round.counted", counted_body(out))
    # the secretary round of the joint opening is now the open round, with the sitting's P
    cur = log.m.current
    assert (cur.spec, cur.present, cur.issued) == (sec, 18, 18)
    for bid, b in zip(stocks["secretary"], ballots_for([11, 6], 18, 1), strict=False):
        marks = "".join(x.value for x in b.marks)
        log.add(
            "ballot.entered",
            {
                "post": "secretary",
                "round": 1,
                "ballot_id": bid,
                "qr": "x",
                "marks": marks,
                "write_ins": [],
            },
        )
    out = count_current(log.m)
    body = counted_body(out)
    assert body["dropped"] == ["M002"] and body["elected"] == ["M001"]
    log.add("round.counted", body)
    assert isinstance(log.m.due(), Finished)


def test_held_round_returned_more_than_issued_is_void_and_revoted_later_R22_2_R11() -> None:
    log = _Log(_direct(secretary=(1, 2)))
    for post in ("committee", "secretary"):
        log.stock(post, 1, 20)
    for i in PRESENT:
        log.add("member.checked_in", {"member": member_id(i)})
    com = log.m.due()
    assert isinstance(com, RoundSpec)
    log.add("round.opened", _opened(com, 18))
    log.add("round.opened", _opened(joint_rounds(log.m.rounds)[0], 18))
    log.add("ballots.issued", {"post": "secretary", "round": 1, "count": 18})
    log.add("ballots.returned", {"post": "secretary", "round": 1, "count": 19})
    log.add("round.void", {"post": "secretary", "round": 1, "issued": 18, "returned": 19})
    assert log.m.held == ()
    assert log.m.current is not None and log.m.current.spec.post is PostKind.COMMITTEE
    revote = log.m.rounds.post(PostKind.SECRETARY).pending
    assert revote is not None and (revote.number, revote.revote_of) == (2, 1)


def test_committee_runoff_opens_on_its_own_while_secretary_round_waits_R22_2_R15() -> None:
    """A tie at the committee's last seat: the runoff opens with a fresh present count (a late
    arrival counts there) while the secretary round of the joint opening waits; the secretary
    round is counted after the runoff, with the joint opening's present."""
    log = _Log(_direct(secretary=(1, 2)))
    for post in ("committee", "secretary"):
        log.stock(post, 1, 20)
        if post == "committee":
            committee_ids = log.ids
    for i in PRESENT:
        log.add("member.checked_in", {"member": member_id(i)})
    com = log.m.due()
    assert isinstance(com, RoundSpec)
    log.add("round.opened", _opened(com, 18))
    log.add("round.opened", _opened(joint_rounds(log.m.rounds)[0], 18))
    for post in ("committee", "secretary"):
        log.add("ballots.issued", {"post": post, "round": 1, "count": 18})
        log.add("ballots.returned", {"post": post, "round": 1, "count": 18})
    # M001 16; M002, M003 and M004 12 each: three tie for the last two seats
    for bid, b in zip(committee_ids, ballots_for([16, 12, 12, 12], 18, 3), strict=False):
        log.add(
            "ballot.entered",
            {
                "post": "committee",
                "round": 1,
                "ballot_id": bid,
                "qr": "x",
                "marks": "".join(x.value for x in b.marks),
                "write_ins": [],
            },
        )
    out = count_current(log.m)
    assert out.tied == (M[2], M[3], M[4]) and out.tied_seats == 2
    log.add("round.counted", counted_body(out))
    assert _open_round(log.m) is None  # the runoff is due, not the secretary round
    assert [h.spec.post for h in log.m.held] == [PostKind.SECRETARY]
    log.add("member.checked_in", {"member": member_id(19)})
    runoff = log.m.due()
    assert isinstance(runoff, RoundSpec) and runoff.purpose is RoundPurpose.RUNOFF
    with pytest.raises(RoundStateError):  # the runoff counts attendance afresh
        log.add("round.opened", _opened(runoff, 18))
    log.add("round.opened", _opened(runoff, 19))
    log.stock("committee", 2, 20)
    log.add("ballots.issued", {"post": "committee", "round": 2, "count": 19})
    log.add("ballots.returned", {"post": "committee", "round": 2, "count": 19})
    for n, bid in enumerate(log.ids[:19]):
        marks = "xoo" if n < 12 else "oxo"  # M002 7, M003 12, M004 19
        log.add(
            "ballot.entered",
            {
                "post": "committee",
                "round": 2,
                "ballot_id": bid,
                "qr": "x",
                "marks": marks,
                "write_ins": [],
            },
        )
    log.add("round.counted", counted_body(count_current(log.m)))
    assert set(log.m.rounds.elected(PostKind.COMMITTEE)) == {M[1], M[3], M[4]}
    cur = _open_round(log.m)
    assert cur is not None
    assert (cur.spec.post, cur.present, cur.returned) == (PostKind.SECRETARY, 18, 18)
