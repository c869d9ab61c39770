"""Hypothesis strategies for random elections and random rounds of the tally engine.

Elections are built directly from the frozen model dataclasses, respecting what the definition
parser would enforce (candidates are eligible and not excluded, officials are not candidates, the
20% margin holds, secretary candidates come from the committee list unless elected directly).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from hypothesis import strategies as st

from tally.core.ballots import Ballot, Mark, WriteIn
from tally.core.model import (
    Body,
    Education,
    Election,
    Exclusion,
    ExclusionCategory,
    MarginRule,
    Member,
    MemberId,
    MemberStatus,
    Officials,
    Parameters,
    Post,
    PostKind,
    Preset,
    QualificationPolicy,
    QuorumComparison,
    RemoteVoting,
    Sex,
    ThresholdBase,
    UnreadableMark,
    WriteInUnmarked,
)
from tally.core.rounds import (
    ElectingBody,
    ElectionState,
    RoundInput,
    RoundPurpose,
    RoundSpec,
    next_round,
    start,
)

MARK_POOL: tuple[Mark, ...] = (
    Mark.APPROVE,
    Mark.APPROVE,
    Mark.ABSTAIN,
    Mark.DISAPPROVE,
    Mark.APPROVE,
    Mark.ABSTAIN,
    Mark.DISAPPROVE,
    Mark.UNREADABLE,
)

# Members who are on the roster but may never receive a vote (no right to be elected here).
_NON_ELECTORS: tuple[tuple[str, MemberStatus, bool], ...] = (
    ("Q01", MemberStatus.PROBATIONARY, True),
    ("Q02", MemberStatus.PARTY_PROBATION, True),
    ("Q03", MemberStatus.SUSPENDED, True),
    ("Q04", MemberStatus.MEMBERSHIP_STOPPED, True),
    ("Q05", MemberStatus.FULL, False),  # registered in another branch
)


def _member(mid: str, status: MemberStatus = MemberStatus.FULL, here: bool = True) -> Member:
    return Member(
        id=MemberId(mid),
        name=f"党员{mid}",
        sex=Sex.FEMALE if int(mid[1:]) % 2 else Sex.MALE,
        birth_date=dt.date(1980, 1, 1),
        education=Education.SENIOR_HIGH,
        status=status,
        registered_here=here,
    )


@st.composite
def parameters(draw: st.DrawFn) -> Parameters:
    return Parameters(
        preset=draw(st.sampled_from(Preset)),
        quorum_comparison=draw(st.sampled_from(QuorumComparison)),
        threshold_base=draw(st.sampled_from(ThresholdBase)),
        write_in_requires_disapproval=draw(st.booleans()),
        write_in_unmarked=draw(st.sampled_from(WriteInUnmarked)),
        unreadable_mark=draw(st.sampled_from(UnreadableMark)),
        publicity_working_days=5,
        qualification_policy=QualificationPolicy.WARN,
        secretary_new_max_age=45,
        secretary_new_min_education=Education.SENIOR_HIGH,
        secretary_continuing_max_age=50,
        secretary_continuing_min_education=Education.JUNIOR_HIGH,
    )


def one_in(n: int) -> st.SearchStrategy[bool]:
    """True about once in ``n`` draws (integers(...) == 0 would favour 0 heavily)."""
    return st.sampled_from((True,) + (False,) * (n - 1))


def twenty_pct_minimum(seats: int) -> int:
    """Fewest candidates for ``seats`` under the 20% margin: S + ceil(S/5)."""
    return seats + -(-seats // 5)


@st.composite
def elections(
    draw: st.DrawFn, *, with_committee: bool | None = True, with_deputy: bool = False
) -> Election:
    """A valid election with 3..40 full members, 1..7 committee seats and a secretary post."""
    n_full = draw(st.integers(3, 40))
    full = [f"F{i:03d}" for i in range(1, n_full + 1)]
    non = draw(
        st.lists(st.sampled_from(_NON_ELECTORS), min_size=2, max_size=5, unique=True).map(sorted)
    )
    members = [_member(m) for m in full] + [_member(m, s, h) for m, s, h in non]

    n_excl = draw(st.integers(0, min(2, n_full - 2)))
    excluded = draw(st.permutations(full))[:n_excl] if n_excl else []
    exclusions = tuple(
        Exclusion(MemberId(m), ExclusionCategory.INFIRM, "上级同意", "大会通过") for m in excluded
    )
    available = [m for m in full if m not in excluded]

    committee = with_committee if with_committee is not None else draw(st.booleans())
    body = draw(st.sampled_from(Body)) if committee else Body.ASSEMBLY
    posts: list[Post] = []
    if committee:
        max_seats = max(s for s in range(1, 8) if twenty_pct_minimum(s) <= len(available))
        seats = draw(st.integers(1, max_seats))
        n_cand = draw(st.integers(twenty_pct_minimum(seats), len(available)))
        cands = tuple(MemberId(m) for m in draw(st.permutations(available))[:n_cand])
        posts.append(Post(PostKind.COMMITTEE, seats, cands, MarginRule.TWENTY_PERCENT))
        pool = list(cands)  # R20.1, R22.1 (A12.4): secretary candidates stand for the committee
    else:
        pool = [MemberId(m) for m in available]
    kinds = [PostKind.SECRETARY] + ([PostKind.DEPUTY_SECRETARY] if with_deputy else [])
    for kind in kinds:
        margin = MarginRule.NONE if body is Body.COMMITTEE else MarginRule.TWENTY_PERCENT
        low = 1 if margin is MarginRule.NONE else 2
        k = draw(st.integers(min(low, len(pool)), min(len(pool), 4)))
        sec = tuple(draw(st.permutations(pool))[:k])
        posts.append(Post(kind, 1, sec, margin))

    all_cands = {c for p in posts for c in p.candidates}
    non_cands = [m.id for m in members if m.id not in all_cands]
    officials = draw(st.permutations(non_cands))
    n_scr = draw(st.integers(1, max(1, min(2, len(officials) - 1))))
    n_tel = draw(st.integers(1, max(1, min(2, len(officials) - n_scr))))
    return Election(
        title="测试选举",
        branch="测试支部",
        town="测试镇",
        term="第一届",
        election_date=dt.date(2026, 12, 15),
        parameters=draw(parameters()),
        members=tuple(members),
        exclusions=exclusions,
        posts=tuple(posts),
        secretary_body=body,
        officials=Officials(tuple(officials[:n_scr]), tuple(officials[n_scr : n_scr + n_tel])),
        remote_voting=RemoteVoting((), counts_toward_quorum=False),
        objections_to="镇党委组织办",
    )


def expected_count(election: Election) -> int:
    """E computed naively (A2): full members registered here, minus approved exclusions."""
    out = {x.member for x in election.exclusions}
    return len(
        [
            m
            for m in election.members
            if m.status == MemberStatus.FULL and m.registered_here and m.id not in out
        ]
    )


def write_in_targets(election: Election, candidates: Sequence[MemberId]) -> list[MemberId | None]:
    """Everyone a teller might resolve a write-in to: roster members (eligible, officials,
    non-electors, excluded, listed candidates) and None (a name on nobody)."""
    return [None, *(m.id for m in election.members), *candidates]


@st.composite
def write_ins(
    draw: st.DrawFn, targets: Sequence[MemberId | None], rows: int
) -> tuple[WriteIn, ...]:
    # Sometimes one name more than the paper has rows (A12.2: one invalid ballot).
    people = draw(st.lists(st.sampled_from(list(targets)), max_size=rows + 1))
    return tuple(
        WriteIn(name=p or "无名氏", member=p, marked=draw(st.booleans() | st.just(True)))
        for p in people
    )


_NOT_APPROVE: tuple[Mark, ...] = (Mark.ABSTAIN, Mark.DISAPPROVE, Mark.ABSTAIN, Mark.UNREADABLE)


@st.composite
def ballot_marks(draw: st.DrawFn, n_candidates: int, budget: int) -> tuple[Mark, ...]:
    """Marks of one ballot: usually a handful of approvals (about the ``budget`` of open seats
    left beside the write-ins, sometimes one too many: an over-vote), sometimes marks drawn
    freely."""
    if draw(one_in(5)):
        return tuple(
            draw(st.lists(st.sampled_from(MARK_POOL), min_size=n_candidates, max_size=n_candidates))
        )
    k = min(n_candidates, draw(st.just(budget) | st.integers(0, budget + 1)))
    approved = set(draw(st.permutations(range(n_candidates)))[:k])
    return tuple(
        Mark.APPROVE if i in approved else draw(st.sampled_from(_NOT_APPROVE))
        for i in range(n_candidates)
    )


@st.composite
def ballot_stack(
    draw: st.DrawFn,
    n_ballots: int,
    n_candidates: int,
    seats: int,
    targets: Sequence[MemberId | None],
) -> tuple[Ballot, ...]:
    """``n_ballots`` ballots drawn from a few ballot "types" (so that approvals pile up, pass the
    threshold and tie), dealt in a random order; the first type may take about two thirds.

    Sometimes a "rotation" instead: a group of more than ``seats`` candidates, each ballot
    approving ``seats`` consecutive members of the group (cyclically), which makes near-equal
    approvals above the threshold, and so ties across the last seat."""
    if n_candidates > seats and draw(one_in(4)):
        g = draw(st.integers(seats + 1, min(n_candidates, 2 * seats + 1)))
        group = draw(st.permutations(range(n_candidates)))[:g]
        offset = draw(st.integers(0, g - 1))
        out = []
        for i in range(n_ballots):
            window = {group[(i + offset + j) % g] for j in range(seats)}
            out.append(
                Ballot(
                    tuple(
                        Mark.APPROVE if c in window else Mark.DISAPPROVE
                        for c in range(n_candidates)
                    )
                )
            )
        return tuple(out)
    n_types = draw(st.integers(1, 6))
    types = [
        Ballot(marks=draw(ballot_marks(n_candidates, max(0, seats - len(w)))), write_ins=w)
        for w in (
            draw(write_ins(targets, seats)) if draw(one_in(3)) else () for _ in range(n_types)
        )
    ]
    heavy = 2 * n_types * draw(st.booleans())
    which = draw(
        st.lists(st.integers(0, heavy + n_types - 1), min_size=n_ballots, max_size=n_ballots)
    )
    return tuple(types[max(0, i - heavy)] for i in which)


def minimum_present(expected: int, comparison: QuorumComparison) -> int:
    """The smallest P with a valid assembly, computed by search (independent of rules.py)."""
    for p in range(expected + 1):
        if (comparison is QuorumComparison.GT and 5 * p > 4 * expected) or (
            comparison is QuorumComparison.GE and 5 * p >= 4 * expected
        ):
            return p
    return expected


@dataclass(frozen=True)
class RoundCase:
    """One committee round ready for ``count_round``, with what the oracle needs."""

    election: Election
    state: ElectionState
    spec: RoundSpec
    inputs: RoundInput
    write_in_ok: frozenset[MemberId]

    @property
    def base(self) -> int:
        if self.election.parameters.threshold_base is ThresholdBase.EXPECTED:
            return self.spec.expected
        return self.inputs.present


def naive_write_in_ok(election: Election, candidates: Sequence[MemberId]) -> frozenset[MemberId]:
    """Who may receive a write-in vote in a first committee round (A4, A9): an eligible member,
    not excluded, not a scrutineer or teller, not already on the ballot."""
    out = {x.member for x in election.exclusions}
    officials = set(election.officials.scrutineers) | set(election.officials.tellers)
    return frozenset(
        m.id
        for m in election.members
        if m.status == MemberStatus.FULL
        and m.registered_here
        and m.id not in out
        and m.id not in officials
        and m.id not in candidates
    )


@st.composite
def round_cases(
    draw: st.DrawFn,
    *,
    runoff: bool | None = None,
    quorate: bool = True,
    allow_void: bool = False,
) -> RoundCase:
    """A committee round: the first round (threshold applies) or a runoff among some candidates
    (no threshold), with P electors present, P ballots issued and up to P returned."""
    election = draw(elections())
    state = start(election)
    first = next_round(state)
    assert isinstance(first, RoundSpec)
    is_runoff = draw(st.booleans()) if runoff is None else runoff
    if is_runoff:
        k = draw(st.integers(2, len(first.candidates)))
        cands = tuple(draw(st.permutations(first.candidates))[:k])
        spec = RoundSpec(
            post=PostKind.COMMITTEE,
            number=2,
            purpose=RoundPurpose.RUNOFF,
            candidates=cands,
            seats=draw(st.integers(1, k - 1)),
            body=ElectingBody.ASSEMBLY,
            expected=first.expected,
            apply_threshold=False,
        )
        write_in_ok: frozenset[MemberId] = frozenset()
    else:
        spec = first
        write_in_ok = naive_write_in_ok(election, spec.candidates)
    e = expected_count(election)
    low = minimum_present(e, election.parameters.quorum_comparison)
    if quorate or draw(st.sampled_from((True, True, True, True, False))):
        present = draw(st.integers(low, e) | st.just(low) | st.just(e))
    else:  # anywhere, and often at the four-fifths boundary (5P == 4E when E is a multiple of 5)
        present = draw(st.integers(0, e) | st.sampled_from((max(0, low - 1), 4 * e // 5)))
    if present < low:
        # R5: no ballots are issued when the assembly is not quorate.
        return RoundCase(election, state, spec, RoundInput(present, 0, 0, ()), write_in_ok)
    if allow_void and draw(one_in(5)):
        returned = present + draw(st.integers(1, 3))
    else:
        returned = present - draw(st.integers(0, min(present, 3)) | st.integers(0, present))
    n_ballots = returned if returned <= present else draw(st.integers(0, returned))
    targets = write_in_targets(election, spec.candidates)
    ballots = draw(ballot_stack(n_ballots, len(spec.candidates), spec.seats, targets))
    return RoundCase(
        election=election,
        state=state,
        spec=spec,
        inputs=RoundInput(present=present, issued=present, returned=returned, ballots=ballots),
        write_in_ok=write_in_ok,
    )
