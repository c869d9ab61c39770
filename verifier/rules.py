"""The election rules re-implemented from spec/rules.md (R2-R30, §11 counting algorithm, R26).

Pure functions over integers and ids; integer arithmetic only (rules.md §0.1). The replay of the
round sequence (RS1-RS9) that uses them lives in ``verifier.replay``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass

from verifier.model import EDUCATION_ORDER, Definition, Member, Parameters

__all__ = [
    "BallotVerdict",
    "RoundCount",
    "age_on",
    "count_round",
    "expected_electors",
    "first_working_day_after",
    "judge_ballot",
    "margin_ok",
    "minimum_candidates",
    "nth_working_day",
    "plenary_quorum",
    "qualification_problems",
    "quorum",
    "rank_and_fill",
]


def expected_electors(defn: Definition) -> int:
    """R3.3: E = eligible electors (R2) minus excluded members (each listed exclusion)."""
    eligible = {m.id for m in defn.members if m.eligible}
    excluded = {x.member for x in defn.exclusions if x.member in eligible}
    return len(eligible) - len(excluded)


def quorum(present: int, expected: int, comparison: str) -> bool:
    """R5: ``5P > 4E`` (GT) or ``5P >= 4E`` (GE), and E > 0."""
    if expected <= 0:
        return False
    if comparison == "GE":
        return 5 * present >= 4 * expected
    return 5 * present > 4 * expected


def plenary_quorum(present: int, committee: int) -> bool:
    """R6: ``3P > 2N`` and N > 0."""
    return committee > 0 and 3 * present > 2 * committee


def minimum_candidates(seats: int) -> int:
    """R18: S + ceil(S/5)."""
    return seats + (seats + 4) // 5


def margin_ok(candidates: int, seats: int, margin: str) -> bool:
    """R18/R19: ``5(C-S) >= S`` for 20pct, ``C >= S`` (and C >= 1) for none."""
    if candidates < 1:
        return False
    if margin == "none":
        return candidates >= seats
    return 5 * (candidates - seats) >= seats


MIN_COMMITTEE_SEATS = 3  # R17: a committee never below 3 seats, any other post never below 1


def seat_reduction_problems(
    post: str, *, elected: int, seats: int, new: int, consent: int, e: int
) -> list[str]:
    """R17: the codes a seat reduction of ``post`` from ``seats`` to ``new`` breaks, with
    ``elected`` members elected to it and the assembly consent ``consent`` of ``E = e``."""
    floor = max(elected, MIN_COMMITTEE_SEATS if post == "committee" else 1)
    out: list[str] = []
    if not floor <= new <= seats - 1:
        out.append("reduction.bad_number")
    if not (2 * consent > e and consent <= e):
        out.append("reduction.no_majority")
    return out


def age_on(birth: dt.date, day: dt.date) -> int:
    """R27: whole years on ``day``; a 29 February birthday is reached on 1 March."""
    years = day.year - birth.year
    if (day.month, day.day) < (birth.month, birth.day):
        years -= 1
    return years


def qualification_problems(defn: Definition) -> list[tuple[str, str]]:
    """R27: (candidate id, code) for each secretary candidate over age or under education."""
    roster = {m.id: m for m in defn.members}
    out: list[tuple[str, str]] = []
    for post in defn.posts:
        if post.post != "secretary":
            continue
        for cid in post.candidates:
            m = roster.get(cid)
            if m is None:
                continue
            out.extend((cid, code) for code in member_qualification_problems(defn, m))
    return out


def member_qualification_problems(defn: Definition, m: Member) -> list[str]:
    """R27: the codes a secretary candidate ``m`` breaks (a definition's or an amended list's)."""
    p: Parameters = defn.parameters
    if m.incumbent_secretary:
        max_age, min_edu = p.secretary_continuing_max_age, p.secretary_continuing_min_education
    else:
        max_age, min_edu = p.secretary_new_max_age, p.secretary_new_min_education
    out: list[str] = []
    if age_on(m.birth_date, defn.date) > max_age:
        out.append("qualification.age")
    if EDUCATION_ORDER.index(m.education) < EDUCATION_ORDER.index(min_edu):
        out.append("qualification.education")
    return out


@dataclass(frozen=True, slots=True)
class BallotVerdict:
    """R7-R10 for one ballot: valid or not, and the members it gives one approval each."""

    valid: bool
    approvals: tuple[str, ...]


def judge_ballot(
    *,
    marks: str,
    write_ins: Sequence[tuple[str, str]],
    candidates: Sequence[str],
    seats: int,
    params: Parameters,
    write_in_eligible: Callable[[str], bool],
    runoff: bool,
) -> BallotVerdict:
    """Judge one ballot: R10, R9.5, R8, then R9.1 and R9.2 (rules.md §11 step 4).

    Args:
        marks: one of ``o x - ?`` per listed candidate, in ballot order.
        write_ins: (member id or "", mark "o" or "-") in row order.
        candidates: the round's listed candidates.
        seats: the round's open seats S.
        params: the manifest parameters.
        write_in_eligible: R9.3 for a member id.
        runoff: no write-in gives a vote in a runoff (R15.2).

    Returns:
        The verdict.
    """
    if "?" in marks and params.unreadable_mark == "void_ballot":  # (R10)
        return BallotVerdict(valid=False, approvals=())
    if len(write_ins) > seats:  # (R9.5) more names than write-in rows
        return BallotVerdict(valid=False, approvals=())
    listed = [c for c, m in zip(candidates, marks, strict=True) if m == "o"]
    if len(listed) + len(write_ins) > seats:  # (R8.1, R8.2) every filled row is a choice
        return BallotVerdict(valid=False, approvals=())
    disapprovals = marks.count("x")
    given = list(listed)
    for row, (member, mark) in enumerate(write_ins, start=1):  # (R9.1, R9.2)
        if mark != "o" and params.write_in_unmarked != "approval":
            continue
        if params.write_in_requires_disapproval and row > disapprovals:
            continue
        if runoff or not member or not write_in_eligible(member) or member in given:
            continue
        given.append(member)
    return BallotVerdict(valid=True, approvals=tuple(given))


@dataclass(frozen=True, slots=True)
class RoundCount:
    """The recomputed ``round.counted`` body (R8-R16)."""

    valid_ballots: int
    invalid_ballots: int
    approvals: tuple[tuple[str, int], ...]
    base: int
    minimum: int
    elected: tuple[str, ...]
    tied: tuple[str, ...]
    tied_seats: int
    shortfall: int
    dropped: tuple[str, ...] = ()

    def as_body(self, post: str, number: int) -> dict[str, object]:
        """The body as ``round.counted`` records it (log.md §2); ``dropped`` only when some
        candidate dropped out at the count (R22.3)."""
        extra: dict[str, object] = {"dropped": list(self.dropped)} if self.dropped else {}
        return extra | {
            "post": post,
            "round": number,
            "valid_ballots": self.valid_ballots,
            "invalid_ballots": self.invalid_ballots,
            "approvals": [{"member": m, "approvals": v} for m, v in self.approvals],
            "base": self.base,
            "minimum": self.minimum,
            "elected": list(self.elected),
            "tied": list(self.tied),
            "tied_seats": self.tied_seats,
            "shortfall": self.shortfall,
        }


def rank_and_fill(
    passed: Sequence[tuple[str, int]], seats: int
) -> tuple[tuple[str, ...], tuple[str, ...], int, int]:
    """R14-R16 on (id, approvals) in approvals-list order: (elected, tied, tied_seats, shortfall).

    Elected and tied keep the approvals-list (ballot) order.
    """
    order = {m: i for i, (m, _) in enumerate(passed)}
    if len(passed) <= seats:  # (R14), (R16.1)
        return tuple(m for m, _ in passed), (), 0, seats - len(passed)
    ranked = sorted(passed, key=lambda mv: (-mv[1], order[mv[0]]))
    cut = ranked[seats - 1][1]  # (R15.1)
    above = [m for m, v in passed if v > cut]
    at_cut = [m for m, v in passed if v == cut]
    left = seats - len(above)
    if len(at_cut) <= left:
        elected = {*above, *at_cut}
        return tuple(m for m, _ in passed if m in elected), (), 0, 0
    return tuple(above), tuple(at_cut), left, 0


def count_round(
    *,
    verdicts: Iterable[BallotVerdict],
    candidates: Sequence[str],
    seats: int,
    base: int,
    runoff: bool,
    dropped: Collection[str] = (),
    added_ballots: int = 0,
    added: Sequence[tuple[str, int]] = (),
) -> RoundCount:
    """Rules.md §11 steps 4-7 for a valid round (quorum met, T <= I).

    Args:
        verdicts: one per counted ballot.
        candidates: the listed candidates in ballot order.
        seats: open seats S.
        base: the threshold base (E, P or N; ignored in a runoff).
        runoff: R15.2, no threshold.
        dropped: listed candidates who cannot take the post at the count (R22.3): their
            approvals count for nobody and they leave the approvals list.
        added_ballots: valid ballots counted as totals, not one by one (remote ballots v2,
            spec/remote-v2.md RV-7.1).
        added: (member, approvals) those ballots give, write-in eligibility already applied.

    Returns:
        The recomputed round outcome.
    """
    valid = invalid = 0
    out = set(dropped)
    listed = set(candidates)
    listed_order = tuple(candidates)
    candidates = [c for c in candidates if c not in out]  # (R22.3)
    tally: dict[str, int] = dict.fromkeys(candidates, 0)
    for v in verdicts:
        if not v.valid:
            invalid += 1
            continue
        valid += 1
        for m in v.approvals:
            if m not in out:
                tally[m] = tally.get(m, 0) + 1
    valid += added_ballots  # (RV-7.1) a remote ballot is never invalid
    for m, n in added:
        if m not in out:
            tally[m] = tally.get(m, 0) + n
    approvals = [(c, tally[c]) for c in candidates] + sorted(
        (m, n) for m, n in tally.items() if m not in listed and n > 0
    )
    if runoff:
        b, minimum = 0, 0
        passed = [(m, v) for m, v in approvals if m in listed and m not in out]
    else:
        b, minimum = base, base // 2 + 1  # (R13)
        passed = [(m, v) for m, v in approvals if 2 * v > base]
    elected, tied, tied_seats, shortfall = rank_and_fill(passed, seats)
    return RoundCount(
        valid_ballots=valid,
        invalid_ballots=invalid,
        approvals=tuple(approvals),
        base=b,
        minimum=minimum,
        elected=elected,
        tied=tied,
        tied_seats=tied_seats,
        shortfall=shortfall,
        dropped=tuple(c for c in listed_order if c in out),
    )


def election_order(approvals: Sequence[tuple[str, int]], elected: Collection[str]) -> list[str]:
    """RS8: members elected in a round, by approvals (highest first) then approvals-list order."""
    pos = {m: i for i, (m, _) in enumerate(approvals)}
    votes = dict(approvals)
    return sorted(elected, key=lambda m: (-votes.get(m, 0), pos.get(m, len(pos))))


def is_working_day(
    day: dt.date, holidays: Collection[dt.date], workdays: Collection[dt.date]
) -> bool:
    """V17: an adjusted working day, or Monday-Friday and not a holiday."""
    if day in workdays:
        return True
    return day.weekday() < 5 and day not in holidays


def first_working_day_after(
    day: dt.date, holidays: Collection[dt.date], workdays: Collection[dt.date]
) -> dt.date:
    """V17: the first working day strictly after ``day``."""
    d = day + dt.timedelta(days=1)
    while not is_working_day(d, holidays, workdays):
        d += dt.timedelta(days=1)
    return d


def nth_working_day(
    start: dt.date, n: int, holidays: Collection[dt.date], workdays: Collection[dt.date]
) -> dt.date:
    """V17: the n-th working day counting ``start`` (a working day) as day 1."""
    d, count = start, 1
    while count < n:
        d += dt.timedelta(days=1)
        if is_working_day(d, holidays, workdays):
            count += 1
    return d
