"""Rounds: counting one round, and which round comes next (spec/rules.md R4-R6, R11-R17, R19-R23).

The election advances as a pure state machine over immutable values:

    state = start(election)
    spec = next_round(state)          # a RoundSpec, or Blocked, or Finished
    outcome = count_round(state, spec, inputs)
    state = apply_outcome(state, outcome)

Committee round first; a tie across the last seat opens a runoff among exactly the tied candidates;
a shortfall opens a further round for the open seats (or a recorded seat reduction, never
automatic); a VOID round (returned > issued) is voted again; then the secretary round from the
newly elected committee, with the quorum and threshold of the electing body; then the deputy.
In a direct election (R22) the secretary's and deputy's first rounds are voted with the
committee's first round (``joint_rounds``), wait as their posts' pending rounds, and are counted
in the same order, a candidate not elected to the committee dropping out at the count.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field, replace
from enum import StrEnum

from tally.core.ballots import Ballot, BallotVerdict, judge_ballot
from tally.core.definition import candidate_problems
from tally.core.errors import Problem, RoundInputError, RoundStateError
from tally.core.model import (
    Body,
    Election,
    MarginRule,
    MemberId,
    Officials,
    PostKind,
    QualificationPolicy,
    zh_label,
)
from tally.core.remote import RemoteTotals
from tally.core.rules import (
    QuorumCheck,
    candidate_eligible_for_election,
    expected_electors,
    margin_satisfied,
    passes_threshold,
    plenary_quorum,
    qualification_problems,
    quorum,
    rank_and_fill,
    seat_reduction_allowed,
    threshold_base,
)

__all__ = [
    "Blocked",
    "ElectingBody",
    "ElectionState",
    "Finished",
    "PostState",
    "RoundInput",
    "RoundOutcome",
    "RoundPurpose",
    "RoundSpec",
    "RoundStatus",
    "amend_candidates",
    "amendable_round",
    "amended_list_warnings",
    "apply_outcome",
    "count_round",
    "joint_rounds",
    "next_round",
    "reduce_seats",
    "round_officials",
    "start",
    "uncounted_outcome",
    "void_held_round",
]

MAX_ROUNDS_PER_POST = 255  # the QR payload's round number is one byte (spec/ballot-qr.md)
MIN_COMMITTEE_SEATS = 3  # a committee needs at least 3 members to exist (RULES §4.3)


class RoundPurpose(StrEnum):
    FIRST = "first"
    RUNOFF = "runoff"
    FURTHER = "further"


class ElectingBody(StrEnum):
    ASSEMBLY = "assembly"
    PLENARY = "plenary"


class RoundStatus(StrEnum):
    QUORUM_FAILED = "quorum_failed"
    VOID = "void"
    COUNTED = "counted"


@dataclass(frozen=True, slots=True)
class RoundSpec:
    """What is voted on in a round: the ballot paper's content and the rules that apply."""

    post: PostKind
    number: int
    purpose: RoundPurpose
    candidates: tuple[MemberId, ...]
    seats: int
    body: ElectingBody
    expected: int
    apply_threshold: bool
    revote_of: int | None = None


@dataclass(frozen=True, slots=True)
class Blocked:
    """No round can open until a person records a decision (amended list, seat reduction)."""

    post: PostKind
    code: str
    clause: str
    zh: str
    en: str


@dataclass(frozen=True, slots=True)
class Finished:
    """Every post is filled (or its seats were reduced by a recorded decision)."""

    elected: tuple[tuple[PostKind, tuple[MemberId, ...]], ...]


@dataclass(frozen=True, slots=True)
class RoundInput:
    """What the work group records for a round: present electors, ballots issued and returned, and
    every returned ballot as read (paper)."""

    present: int
    issued: int
    returned: int
    ballots: tuple[Ballot, ...]
    # Remote ballots counted in this round (spec/remote.md RM-9.2), judged like paper; and the
    # electors present on paper when remote casts count toward the quorum (RM-9.3).
    remote: tuple[Ballot, ...] = ()
    paper_present: int | None = None
    # (spec/remote-v2.md RV-7.1) Version 2: the post's remote totals, counted like that many
    # valid paper ballots (no ballot is decrypted, so there are no ballots to judge).
    remote_totals: RemoteTotals | None = None


@dataclass(frozen=True, slots=True)
class RoundOutcome:
    """What happened in a round and why, with the clause of each decision.

    ``approvals`` lists (member, approvals) for the listed candidates in ballot order, then any
    write-in recipients by id. ``minimum_to_pass`` is the smallest passing count (R13), or 0 in a
    runoff, where no threshold applies (R15).
    """

    spec: RoundSpec
    quorum: QuorumCheck
    status: RoundStatus
    issued: int
    returned: int
    valid_ballots: int
    invalid_ballots: int
    approvals: tuple[tuple[MemberId, int], ...]
    base: int
    minimum_to_pass: int
    passed: tuple[MemberId, ...]
    elected: tuple[MemberId, ...]
    tied: tuple[MemberId, ...]
    tied_seats: int
    shortfall: int
    clauses: tuple[str, ...]
    ballot_notes: tuple[tuple[str, int], ...] = ()
    remote_ballots: int = 0
    # (R22.3) Listed candidates who cannot take the post at the count (direct election: not
    # elected to the committee; deputy: the elected secretary): their approvals count for nobody.
    dropped: tuple[MemberId, ...] = ()


@dataclass(frozen=True, slots=True)
class PostState:
    """Where one post stands: seats still to fill, who is elected, the rounds held."""

    kind: PostKind
    seats: int
    candidates: tuple[MemberId, ...]
    elected: tuple[MemberId, ...] = ()
    rounds_held: int = 0
    pending: RoundSpec | None = None
    reduced_from: int | None = None

    @property
    def open_seats(self) -> int:
        return self.seats - len(self.elected)


@dataclass(frozen=True, slots=True)
class ElectionState:
    """The whole election's progress; a value, replaced by every step."""

    election: Election
    expected: int
    posts: tuple[PostState, ...]
    outcomes: tuple[RoundOutcome, ...] = field(default=())
    # (R25, A12.3) the officials of rounds opened from now on; None: the definition's.
    officials: Officials | None = None

    def post(self, kind: PostKind) -> PostState:
        for p in self.posts:
            if p.kind is kind:
                return p
        raise RoundStateError(
            "post.unknown",
            zh=f"本次选举没有{zh_label(kind)}职位",
            en=f"this election has no {kind.value} post",
        )

    def elected(self, kind: PostKind) -> tuple[MemberId, ...]:
        return self.post(kind).elected


_POST_ORDER = (PostKind.COMMITTEE, PostKind.SECRETARY, PostKind.DEPUTY_SECRETARY)


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


def uncounted_outcome(spec: RoundSpec, q: QuorumCheck) -> RoundOutcome:
    """A round that failed its quorum (R5, R6): nothing issued, nothing counted, nobody elected.

    Also the base of a VOID outcome (R11), which keeps the round's issued and returned counts."""
    return RoundOutcome(
        spec=spec,
        quorum=q,
        status=RoundStatus.QUORUM_FAILED,
        issued=0,
        returned=0,
        valid_ballots=0,
        invalid_ballots=0,
        approvals=(),
        base=0,
        minimum_to_pass=0,
        passed=(),
        elected=(),
        tied=(),
        tied_seats=0,
        shortfall=0,
        clauses=(q.clause,),
    )


def count_round(state: ElectionState, spec: RoundSpec, inputs: RoundInput) -> RoundOutcome:
    """Count one round.

    Raises:
        RoundInputError: the counts contradict each other or the paper (R12): ballots issued must
            equal the electors present, every returned ballot must be entered, and each ballot must
            have one mark per listed candidate (more write-ins than rows make a ballot invalid,
            not the input: R9.5).
    """
    if spec.body is ElectingBody.PLENARY:
        q = plenary_quorum(inputs.present, spec.expected)
    else:
        q = quorum(inputs.present, spec.expected, state.election.parameters.quorum_comparison)
    _check_shape(spec, inputs, quorate=q.valid)
    empty = replace(uncounted_outcome(spec, q), issued=inputs.issued, returned=inputs.returned)
    if not q.valid:
        return empty
    if inputs.returned > inputs.issued:
        # (R11) more ballots came back than were issued: the round is void and voted again.
        return replace(empty, status=RoundStatus.VOID, clauses=(q.clause, "R11"))

    allowed = _write_in_rule(state, spec)
    verdicts: list[BallotVerdict] = [
        judge_ballot(
            b,
            candidates=spec.candidates,
            seats=spec.seats,
            params=state.election.parameters,
            write_in_eligible=(allowed or set()).__contains__,
        )
        for b in (*inputs.ballots, *inputs.remote)
    ]
    votes: Counter[MemberId] = Counter()
    for v in verdicts:
        votes.update(v.approvals)
    notes: Counter[str] = Counter(n for v in verdicts for n in v.notes)
    totals = inputs.remote_totals
    if totals is not None:
        _add_remote_totals(totals, spec, allowed or set(), votes, notes)
    # (R22.3) a dropped candidate's marks still count in each ballot's choices (R8) but give
    # approvals to nobody; the candidate leaves the approvals list.
    dropped = _dropped(state, spec)
    standing = tuple(c for c in spec.candidates if c not in dropped)
    write_in_ids = sorted(m for m in votes if m not in spec.candidates)
    approvals = tuple((c, votes.get(c, 0)) for c in (*standing, *write_in_ids))

    clauses = [q.clause, "R8", "R11"]
    if spec.apply_threshold:
        if spec.body is ElectingBody.PLENARY:
            base = spec.expected
            clauses.append("R21")
        else:
            base = threshold_base(state.election.parameters, spec.expected, inputs.present)
            clauses.append("R13")
        minimum = base // 2 + 1
        passed = tuple(m for m, v in approvals if passes_threshold(v, base))
    else:
        base, minimum = 0, 0
        passed = standing
        clauses.append("R15")
    order = tuple(m for m, _ in approvals)
    filling = rank_and_fill(dict(approvals), passed, spec.seats, order)
    clauses.append("R14")
    if filling.tied:
        clauses.append("R15")
    if filling.open_after:
        clauses.append("R16")
    if dropped:
        clauses.append("R22")
    return RoundOutcome(
        spec=spec,
        quorum=q,
        status=RoundStatus.COUNTED,
        issued=inputs.issued,
        returned=inputs.returned,
        valid_ballots=sum(1 for v in verdicts if v.valid) + (totals.ballots if totals else 0),
        invalid_ballots=sum(1 for v in verdicts if not v.valid),
        approvals=approvals,
        base=base,
        minimum_to_pass=minimum,
        passed=passed,
        elected=filling.elected,
        tied=filling.tied,
        tied_seats=filling.tied_seats,
        shortfall=filling.open_after,
        clauses=tuple(dict.fromkeys(clauses)),
        ballot_notes=tuple(sorted(notes.items())),
        remote_ballots=len(inputs.remote) + (totals.ballots if totals else 0),
        dropped=dropped,
    )


def _add_remote_totals(
    totals: RemoteTotals,
    spec: RoundSpec,
    allowed: set[MemberId],
    votes: Counter[MemberId],
    notes: Counter[str],
) -> None:
    """(RV-7.1, RV-2.4) A listed candidate's total adds to its approvals; a written-in person's
    total gives that many approvals if the person is write-in-eligible in the round (R9.3), else
    no vote: noted ``writein.no_vote`` once per approval, as R9.2 notes each paper write-in. A
    remote ballot is never invalid (its proofs exclude an over-vote) and names each person once,
    so R8, R9.1 (under RV-3.4) and R9.5 never apply to it."""
    for member, n in totals.approvals:
        if n == 0:
            continue
        if member in spec.candidates or member in allowed:
            votes[member] += n
        else:
            notes["writein.no_vote"] += n


def _check_shape(spec: RoundSpec, inputs: RoundInput, *, quorate: bool) -> None:
    if min(inputs.present, inputs.issued, inputs.returned) < 0:
        raise RoundInputError(
            "round.negative", zh="人数不能为负数", en="counts cannot be negative", clause="R12"
        )
    if inputs.present > spec.expected:
        raise RoundInputError(
            "round.present_exceeds_expected",
            zh=f"实到 {inputs.present} 人多于应到 {spec.expected} 人",
            en=f"{inputs.present} present is more than the {spec.expected} expected",
            clause="R4",
        )
    if not quorate:
        if inputs.issued or inputs.returned or inputs.ballots:
            raise RoundInputError(
                "round.ballots_without_quorum",
                zh="会议未达到法定人数，不能发出选票",
                en="no ballots may be issued when the quorum is not met",
                clause="R5",
            )
        return
    paper = inputs.present if inputs.paper_present is None else inputs.paper_present
    if inputs.issued != paper:
        raise RoundInputError(
            "round.issued_not_present",
            zh=f"发出选票 {inputs.issued} 张，应等于到会有选举权人数 {paper}",
            en=f"{inputs.issued} ballots issued; must equal the {paper} electors present",
            clause="R12",
        )
    if len(inputs.ballots) != inputs.returned and inputs.returned <= inputs.issued:
        raise RoundInputError(
            "round.entered_not_returned",
            zh=f"已录入 {len(inputs.ballots)} 张选票，收回 {inputs.returned} 张，二者应相等",
            en=f"{len(inputs.ballots)} ballots entered but {inputs.returned} returned",
            clause="R12",
        )
    for i, b in enumerate((*inputs.ballots, *inputs.remote), start=1):
        if b.invalid_reason is not None:
            continue  # (R8.5) entered as invalid by decision: no marks to check
        if len(b.marks) != len(spec.candidates):
            raise RoundInputError(
                "ballot.shape",
                zh=f"第 {i} 张选票有 {len(b.marks)} 个标记，候选人有 {len(spec.candidates)} 名",
                en=f"ballot {i} has {len(b.marks)} marks for {len(spec.candidates)} candidates",
                clause="R7",
            )


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


AMENDABLE_BLOCKS = frozenset({"candidates.amended_list_needed", "further.too_few_candidates"})


def round_officials(state: ElectionState) -> Officials:
    """(R25) The scrutineers and tellers of the rounds opened from now on: the definition's, until
    a recorded change (spec/log.md ``officials.changed``)."""
    return state.officials if state.officials is not None else state.election.officials


def amendable_round(state: ElectionState, kind: PostKind) -> int:
    """(RS7) The number of the round an amended list for ``kind`` would be for.

    A list may be recorded only when the post's round cannot open as it stands (``next_round`` is
    Blocked for the post for want of candidates), or for the post's further round; never to replace
    the list of a first round that the signed manifest fixes, and never for a pending runoff or
    re-vote.

    Raises:
        RoundStateError: ``amend.not_now``; ``post.unknown``.
    """
    post = state.post(kind)
    due = next_round(state)
    if isinstance(due, Blocked) and due.post is kind and due.code in AMENDABLE_BLOCKS:
        return post.rounds_held + 1
    if (
        isinstance(due, RoundSpec)
        and due.post is kind
        and due.purpose is RoundPurpose.FURTHER
        and post.pending is None
    ):
        return due.number
    raise RoundStateError(
        "amend.not_now",
        zh=f"现在不能调整{zh_label(kind)}候选人名单：只有在该职位的轮次因候选人不足而无法进行时，"
        "或为该职位的另行选举，才能记录镇党委签署的名单；第一轮的名单以镇党委签署的选举清单为准，"
        "再次投票和重新投票的名单不变",
        en=f"the {kind.value} candidate list cannot be amended now: only when the post's round "
        "cannot open for want of candidates, or for its further round; a first round's list is "
        "the signed manifest's, and a runoff or re-vote keeps its list",
        clause="RS7",
    )


def _amended_list_problems(
    state: ElectionState, kind: PostKind, candidates: tuple[MemberId, ...]
) -> tuple[list[Problem], list[Problem]]:
    """(RS7) Refusals and (R27 under ``warn``) warnings for an amended list of ``kind``."""
    election = state.election
    label = zh_label(kind)
    post = state.post(kind)
    by_id = {m.id: m for m in election.members}
    excluded = {x.member for x in election.exclusions}
    officials = round_officials(state)
    pool = _eligible_pool(state, kind)
    gone = _excluded_from_post(state, kind)
    refusals: list[Problem] = []
    warnings: list[Problem] = []
    if not candidates:
        refusals.append(
            Problem("amend.empty", "candidates", "候选人名单为空", "the list is empty", "RS7")
        )
    for j, c in enumerate(candidates):
        where = f"candidates[{j}]"
        member = by_id.get(c)
        if member is None:
            refusals.append(
                Problem(
                    "candidate.not_on_roster",
                    where,
                    f"候选人 {c} 不在名册中",
                    f"candidate {c} is not on the roster",
                    "R30",
                )
            )
            continue
        name = f"{member.name}（{c}）"
        if candidates.index(c) != j:
            refusals.append(
                Problem(
                    "candidate.duplicate",
                    where,
                    f"{name} 在名单中重复",
                    f"{member.name} ({c}) is listed twice",
                    "RS7",
                )
            )
            continue
        problems = candidate_problems(member, excluded, where)
        refusals.extend(problems)
        if problems:
            continue
        role = (
            ("监票人", "scrutineer")
            if c in officials.scrutineers
            else ("计票人", "teller")
            if c in officials.tellers
            else None
        )
        if role is not None:
            refusals.append(
                Problem(
                    "amend.official",
                    where,
                    f"{name} 是本轮的{role[0]}，不能作为本轮候选人",
                    f"{member.name} ({c}) is a {role[1]} of the round and cannot stand in it",
                    "R25",
                )
            )
        if c in gone:
            why_zh = "已当选本职位" if c in post.elected else "已当选书记"
            why_en = "is already elected to this post" if c in post.elected else "is the secretary"
            refusals.append(
                Problem(
                    "amend.not_eligible",
                    where,
                    f"{name} {why_zh}，不能作为{label}候选人",
                    f"{member.name} ({c}) {why_en} and cannot be a {kind.value} candidate",
                    "RS7",
                )
            )
        elif pool is not None and c not in pool:
            refusals.append(
                Problem(
                    "amend.not_eligible",
                    where,
                    f"{name} 未当选新一届委员，不能作为{label}候选人",
                    f"{member.name} ({c}) was not elected to the committee and cannot be a "
                    f"{kind.value} candidate",
                    "R20",
                )
            )
        params = election.parameters
        for q in qualification_problems(kind, member, election.election_date, params):
            block = params.qualification_policy is QualificationPolicy.BLOCK
            (refusals if block else warnings).append(replace(q, path=where))
    first = not post.elected and post.rounds_held == 0
    rule = election.post(kind)
    assert rule is not None
    n = len(set(candidates))
    if first and candidates and not margin_satisfied(rule.margin, n, post.open_seats):
        need = post.open_seats + (
            -(-post.open_seats // 5) if rule.margin is MarginRule.TWENTY_PERCENT else 0
        )
        refusals.append(
            Problem(
                "post.margin",
                "candidates",
                f"差额不足：应选 {post.open_seats} 名，候选人 {n} 名，至少需要 {need} 名",
                f"competitive margin not met: {post.open_seats} seats, {n} candidates, "
                f"at least {need} needed",
                "R18" if kind is PostKind.COMMITTEE else "R19",
            )
        )
    elif candidates and n < post.open_seats:
        refusals.append(
            Problem(
                "amend.too_few",
                "candidates",
                f"另行选举的候选人 {n} 名少于空缺名额 {post.open_seats} 名",
                f"{n} candidates for {post.open_seats} open seats",
                "R16",
            )
        )
    return refusals, warnings


def amended_list_warnings(
    state: ElectionState, kind: PostKind, candidates: tuple[MemberId, ...]
) -> tuple[Problem, ...]:
    """(R27) The qualification problems of an acceptable amended list under ``warn``."""
    return tuple(_amended_list_problems(state, kind, candidates)[1])


def amend_candidates(
    state: ElectionState, kind: PostKind, candidates: tuple[MemberId, ...]
) -> ElectionState:
    """(RS7, R16, R20) Record a candidate list signed by the town committee (an amended secretary or
    deputy list, or the candidate set of a further round).

    The list gets every check a definition's list gets (R30 eligibility and exclusions, R25 the
    round's officials, R27 qualifications under the same policy, the margin R18/R19 where the
    first round is concerned), plus the post's own: nobody already elected to it, the secretary
    not for the deputy post, only newly elected committee members where the post comes from the
    committee (R20, R21). The town's signature is checked by the caller (spec/log.md).

    Raises:
        RoundStateError: ``amend.not_now`` (not a moment RS7 allows) or the first problem's code,
            with every problem's message.
    """
    amendable_round(state, kind)
    refusals, _ = _amended_list_problems(state, kind, candidates)
    if refusals:
        first = refusals[0]
        raise RoundStateError(
            first.code,
            zh="调整后的候选人名单不能记录：" + "；".join(p.message("zh") for p in refusals),
            en="the amended list cannot be recorded: "
            + "; ".join(p.message("en") for p in refusals),
            clause=first.clause,
        )
    post = state.post(kind)
    new_post = replace(post, candidates=candidates)
    return replace(state, posts=tuple(new_post if p is post else p for p in state.posts))
