"""Which round comes next, and recording what a round decided (spec/rules.md R3, R11, R14-R22,
RS1, RS3): the state machine's transitions other than counting and amended lists."""

from __future__ import annotations

from dataclasses import replace

from tally.core.errors import RoundStateError
from tally.core.model import (
    Body,
    Election,
    MemberId,
    Officials,
    PostKind,
    zh_label,
)
from tally.core.rounds._state import (
    _POST_ORDER,
    MAX_ROUNDS_PER_POST,
    MIN_COMMITTEE_SEATS,
    Blocked,
    ElectingBody,
    ElectionState,
    Finished,
    PostState,
    RoundOutcome,
    RoundPurpose,
    RoundSpec,
    RoundStatus,
)
from tally.core.rules import (
    candidate_eligible_for_election,
    expected_electors,
    margin_satisfied,
    seat_reduction_allowed,
)


def start(election: Election) -> ElectionState:
    """The state before the first round: E fixed for the whole election (R3).

    In a direct election (R22) the secretary's and deputy's first rounds are voted together with
    the committee's first round, so they are pending from the start: each is counted when its
    post's turn comes (RS1), after the committee is filled.
    """
    expected = len(expected_electors(election))
    direct = election.has_committee and election.secretary_body is Body.DIRECT
    posts = tuple(
        PostState(
            kind=p.kind,
            seats=p.seats,
            candidates=p.candidates,
            pending=_joint_spec(p.kind, p.candidates, p.seats, expected)
            if direct and kind is not PostKind.COMMITTEE
            else None,
        )
        for kind in _POST_ORDER
        if (p := election.post(kind)) is not None
    )
    return ElectionState(election=election, expected=expected, posts=posts)


def _joint_spec(
    kind: PostKind, candidates: tuple[MemberId, ...], seats: int, expected: int
) -> RoundSpec:
    """(R22.2) A secretary or deputy first round of a direct election: the manifest's whole list
    is on the ballot; who drops out is decided at the count (R22.3)."""
    return RoundSpec(
        post=kind,
        number=1,
        purpose=RoundPurpose.FIRST,
        candidates=candidates,
        seats=seats,
        body=ElectingBody.ASSEMBLY,
        expected=expected,
        apply_threshold=True,
    )


def joint_rounds(state: ElectionState) -> tuple[RoundSpec, ...]:
    """(R22.2) The rounds that open together with the committee's first round: in a direct
    election, the secretary's and deputy's first rounds, while no round of any post has been held.
    Empty in every other election and once the joint opening has happened."""
    election = state.election
    if not (election.has_committee and election.secretary_body is Body.DIRECT):
        return ()
    if any(p.rounds_held or p.elected for p in state.posts):
        return ()
    return tuple(
        p.pending for p in state.posts if p.kind is not PostKind.COMMITTEE and p.pending is not None
    )


def void_held_round(state: ElectionState, spec: RoundSpec, outcome: RoundOutcome) -> ElectionState:
    """(R11, R22.2) A round of a joint opening that is not yet due came back VOID (more returned
    than issued): its number is used and its re-vote becomes the post's pending round.

    Raises:
        RoundStateError: ``spec`` is not the post's pending round, or the outcome is not VOID.
    """
    post = state.post(spec.post)
    if post.pending != spec or outcome.spec != spec or outcome.status is not RoundStatus.VOID:
        raise RoundStateError(
            "round.not_due",
            zh="该轮次不是本次联合投票中的轮次",
            en="this round is not a round of the joint opening",
        )
    revote = replace(spec, number=spec.number + 1, revote_of=spec.number)
    new_post = replace(post, rounds_held=post.rounds_held + 1, pending=revote)
    posts = tuple(new_post if p.kind is post.kind else p for p in state.posts)
    return replace(state, posts=posts, outcomes=(*state.outcomes, outcome))


def _from_committee(state: ElectionState) -> bool:
    """(R20, R21, R22) Secretary and deputy come from the new committee (directly elected ones
    too: their candidates are committee candidates and the committee is counted first)."""
    return state.election.has_committee


def _dropped(state: ElectionState, spec: RoundSpec) -> tuple[MemberId, ...]:
    """(R22.3) Listed candidates of a secretary or deputy round who cannot take the post now.

    Only a direct election's ballot can list them (its first round is printed before the
    committee is counted); elsewhere the round's list already leaves them out (R20.2, R16.2).
    """
    if spec.post is PostKind.COMMITTEE or not _from_committee(state):
        return ()
    pool = set(state.elected(PostKind.COMMITTEE))
    gone = _excluded_from_post(state, spec.post)
    return tuple(c for c in spec.candidates if c not in pool or c in gone)


def _body(state: ElectionState, kind: PostKind) -> tuple[ElectingBody, int]:
    if (
        kind is not PostKind.COMMITTEE
        and state.election.secretary_body is Body.COMMITTEE
        and state.election.has_committee
    ):
        return ElectingBody.PLENARY, len(state.elected(PostKind.COMMITTEE))
    return ElectingBody.ASSEMBLY, state.expected


def _excluded_from_post(state: ElectionState, kind: PostKind) -> set[MemberId]:
    """Members who cannot take this post now: already elected to it, or (deputy) the secretary."""
    out = set(state.post(kind).elected)
    if kind is PostKind.DEPUTY_SECRETARY and any(p.kind is PostKind.SECRETARY for p in state.posts):
        out |= set(state.elected(PostKind.SECRETARY))
    return out


def _eligible_pool(state: ElectionState, kind: PostKind) -> set[MemberId] | None:
    """Who may stand at all for ``kind`` (None: any eligible member)."""
    if kind is PostKind.COMMITTEE or not _from_committee(state):
        return None
    return set(state.elected(PostKind.COMMITTEE))


def next_round(state: ElectionState) -> RoundSpec | Blocked | Finished:
    """The round that comes next, or why none can open, or that the election is finished."""
    for post in state.posts:
        if post.pending is not None:
            if post.pending.number > MAX_ROUNDS_PER_POST:
                return Blocked(
                    post.kind,
                    "rounds.exhausted",
                    "RS3",
                    "本职位轮次已达上限（255 轮）",
                    "this post has reached the maximum of 255 rounds",
                )
            return post.pending
        if post.open_seats <= 0:
            continue
        if post.rounds_held >= MAX_ROUNDS_PER_POST:
            return Blocked(
                post.kind,
                "rounds.exhausted",
                "RS3",
                "本职位轮次已达上限",
                "this post has reached the maximum number of rounds",
            )
        return _first_or_further(state, post)
    return Finished(elected=tuple((p.kind, p.elected) for p in state.posts))


def _first_or_further(state: ElectionState, post: PostState) -> RoundSpec | Blocked:
    kind = post.kind
    pool = _eligible_pool(state, kind)
    gone = _excluded_from_post(state, kind)
    candidates = tuple(c for c in post.candidates if c not in gone and (pool is None or c in pool))
    body, expected = _body(state, kind)
    first = not post.elected and post.rounds_held == 0
    margin = state.election.post(kind)
    assert margin is not None
    if first:
        # (R18, R19, R20) the margin applies to the first round only; a secretary candidate not
        # elected to the committee drops out, and too few left needs an amended list.
        if not margin_satisfied(margin.margin, len(candidates), post.open_seats):
            dropped = [c for c in post.candidates if c not in candidates]
            names = "、".join(state.election.member(c).name for c in dropped) or "无"
            return Blocked(
                kind,
                "candidates.amended_list_needed",
                "R20",
                f"{zh_label(kind)}候选人不足（未当选委员而退出：{names}），"
                "须经镇党委签署调整后的候选人名单",
                f"too few {kind.value} candidates (dropped, not elected to the committee: "
                f"{', '.join(dropped) or 'none'}); the town committee must sign an amended list",
            )
    elif len(candidates) < post.open_seats:
        return Blocked(
            kind,
            "further.too_few_candidates",
            "R16",
            f"另行选举的候选人少于空缺名额（{len(candidates)} < {post.open_seats}），"
            "须记录新的候选人名单或经党员大会决定减少名额",
            f"fewer candidates than open seats for the further round ({len(candidates)} < "
            f"{post.open_seats}); record a candidate set or a seat reduction",
        )
    return RoundSpec(
        post=kind,
        number=post.rounds_held + 1,
        purpose=RoundPurpose.FIRST if first else RoundPurpose.FURTHER,
        candidates=candidates,
        seats=post.open_seats,
        body=body,
        expected=expected,
        apply_threshold=True,
    )


def _write_in_rule(state: ElectionState, spec: RoundSpec) -> set[MemberId] | None:
    """Who may receive a write-in vote in ``spec`` (R9.3, R15, R25); None means nobody.

    A write-in naming anyone else gives no vote but still counts in 所选人数 (R9.2): nobody
    eligible, a candidate listed on the ballot, an official, a member already elected to the
    post, the elected secretary in a deputy round, a non-committee member where the post is
    elected from the committee."""
    if spec.purpose is RoundPurpose.RUNOFF:
        return None  # (R15) a runoff is among the tied candidates only
    election = state.election
    excluded = {x.member for x in election.exclusions}
    current = round_officials(state)
    officials = set(current.scrutineers) | set(current.tellers)
    pool = _eligible_pool(state, spec.post)
    gone = _excluded_from_post(state, spec.post)
    return {
        m.id
        for m in election.members
        if candidate_eligible_for_election(m)
        and m.id not in excluded
        and m.id not in officials
        and m.id not in spec.candidates
        and m.id not in gone
        and (pool is None or m.id in pool)
    }


def round_officials(state: ElectionState) -> Officials:
    """(R25) The scrutineers and tellers of the rounds opened from now on: the definition's, until
    a recorded change (spec/log.md ``officials.changed``)."""
    return state.officials if state.officials is not None else state.election.officials


def apply_outcome(state: ElectionState, outcome: RoundOutcome) -> ElectionState:
    """Record a counted, void or quorum-failed round and set up what follows it.

    Raises:
        RoundStateError: the outcome is not for the round that was due.
    """
    due = next_round(state)
    if due != outcome.spec:
        raise RoundStateError(
            "round.not_due",
            zh="该轮次不是当前应进行的轮次",
            en="this round is not the one due",
        )
    post = state.post(outcome.spec.post)
    if outcome.status is RoundStatus.QUORUM_FAILED:
        # No ballot was issued: the same round stays due (a later check-in may reach the quorum)
        # and its number is not used.
        new_post = post
    elif outcome.status is RoundStatus.VOID:
        revote = replace(
            outcome.spec,
            number=outcome.spec.number + 1,
            revote_of=outcome.spec.number,
        )
        new_post = replace(post, rounds_held=post.rounds_held + 1, pending=revote)
    else:
        pending = None
        if outcome.tied:
            pending = RoundSpec(
                post=post.kind,
                number=outcome.spec.number + 1,
                purpose=RoundPurpose.RUNOFF,
                candidates=outcome.tied,
                seats=outcome.tied_seats,
                body=outcome.spec.body,
                expected=outcome.spec.expected,
                apply_threshold=False,
            )
        new_post = replace(
            post,
            elected=post.elected + outcome.elected,
            rounds_held=post.rounds_held + 1,
            pending=pending,
        )
    posts = tuple(new_post if p.kind is post.kind else p for p in state.posts)
    return replace(state, posts=posts, outcomes=(*state.outcomes, outcome))


def reduce_seats(
    state: ElectionState,
    kind: PostKind,
    *,
    new_seats: int,
    assembly_consent: int,
    town_agreement: str,
) -> ElectionState:
    """(R17) Record the assembly's decision to stop with fewer seats after a shortfall.

    Raises:
        RoundStateError: not after a shortfall, the new number is not between the elected count and
            the seats, or the consent is not more than half of the electors.
    """
    post = state.post(kind)
    if post.pending is not None or post.open_seats <= 0 or post.rounds_held == 0:
        raise RoundStateError(
            "reduction.not_after_shortfall",
            zh="只有在当选人数不足应选名额时才能决定减少名额",
            en="seats can only be reduced after a shortfall",
            clause="R17",
        )
    floor = max(len(post.elected), MIN_COMMITTEE_SEATS if kind is PostKind.COMMITTEE else 1)
    if not floor <= new_seats < post.seats:
        raise RoundStateError(
            "reduction.bad_number",
            zh=f"减少后的名额应在 {floor} 与 {post.seats - 1} 之间（委员会至少 3 人）",
            en=f"the new seat count must be from {floor} to {post.seats - 1} "
            "(a committee has at least 3 members)",
            clause="R17",
        )
    if not town_agreement.strip():
        raise RoundStateError(
            "reduction.no_town_agreement",
            zh="减少名额须记录上级党组织（镇党委）同意的文件",
            en="a seat reduction needs the town committee's agreement on record",
            clause="R17",
        )
    if assembly_consent > state.expected or not seat_reduction_allowed(
        assembly_consent, state.expected
    ):
        raise RoundStateError(
            "reduction.no_majority",
            zh=f"减少名额须经半数以上选举人同意：同意 {assembly_consent} 人，"
            f"应到会 {state.expected} 人",
            en=f"a reduction needs more than half of the electors: {assembly_consent} of "
            f"{state.expected}",
            clause="R17",
        )
    new_post = replace(post, seats=new_seats, reduced_from=post.reduced_from or post.seats)
    return replace(state, posts=tuple(new_post if p is post else p for p in state.posts))
