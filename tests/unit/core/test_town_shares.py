"""R28 town shares (RULES A12.9): the young-secretary share follows each manifest's age limit,
with ages taken on each branch's own meeting date."""

from __future__ import annotations

import datetime as dt

from tally.core.model import Education, Member, MemberId, MemberStatus, Sex
from tally.core.rules import TownSecretary, town_shares

DEC_15 = dt.date(2026, 12, 15)


def _member(i: int, birth: dt.date, sex: Sex = Sex.MALE) -> Member:
    return Member(
        id=MemberId(f"M{i:03d}"),
        name=f"党员{i}",
        sex=sex,
        birth_date=birth,
        education=Education.BACHELOR,
        status=MemberStatus.FULL,
        registered_here=True,
    )


def test_young_share_uses_each_manifests_secretary_new_max_age_not_45_R28() -> None:
    aged_43 = _member(1, dt.date(1983, 6, 1))
    aged_47 = _member(2, dt.date(1979, 6, 1))
    shares = town_shares(
        [TownSecretary(aged_43, DEC_15, 40), TownSecretary(aged_47, DEC_15, 50)], []
    )
    # 43 is over branch 1's limit of 40; 47 is within branch 2's limit of 50.
    assert (shares.secretaries, shares.young_secretaries) == (2, 1)
    assert shares.max_ages == (40, 50)


def test_ages_are_taken_on_each_branchs_meeting_date_R28() -> None:
    # Turns 46 on 2026-12-01: 45 at a meeting on 2026-11-30, 46 at one on 2026-12-15.
    secretary = _member(1, dt.date(1980, 12, 1))
    early = town_shares([TownSecretary(secretary, dt.date(2026, 11, 30), 45)], [])
    late = town_shares([TownSecretary(secretary, DEC_15, 45)], [])
    assert (early.young_secretaries, late.young_secretaries) == (1, 0)
    # A birthday on the meeting date counts as reached (R27's age rule).
    on_the_day = town_shares([TownSecretary(secretary, dt.date(2025, 12, 1), 44)], [])
    assert on_the_day.young_secretaries == 0


def test_target_met_iff_ten_young_at_least_three_all_R28() -> None:
    young = _member(1, dt.date(1990, 1, 1))
    old = _member(2, dt.date(1960, 1, 1))
    three_of_ten = [TownSecretary(young, DEC_15, 45)] * 3 + [TownSecretary(old, DEC_15, 45)] * 7
    assert town_shares(three_of_ten, []).young_secretary_target_met
    two_of_ten = [TownSecretary(young, DEC_15, 45)] * 2 + [TownSecretary(old, DEC_15, 45)] * 8
    assert not town_shares(two_of_ten, []).young_secretary_target_met
    assert town_shares([], []).young_secretary_target_met  # no secretaries: met


def test_women_are_counted_among_committee_members_and_secretaries_R28() -> None:
    woman = _member(1, dt.date(1985, 1, 1), Sex.FEMALE)
    man = _member(2, dt.date(1985, 1, 1))
    shares = town_shares([TownSecretary(woman, DEC_15, 45)], [woman, man])
    assert (shares.women_secretaries, shares.women_committee_members) == (1, 1)
    assert shares.committee_members == 2
