"""Vetting, the formal lists, the supplement (spec/procedure.md RP-6.1 to RP-6.3): pure functions.

:func:`vet` computes the ``vetting.recorded`` body from the preliminary list (the union of the
proposal's versions), the latest evaluation outcomes and the town's findings (``declined``,
``ten_disqualifications``); ``over_size`` is computed from ``formal_size``. :func:`formal_lists`
applies RP-6.2's checks and gives the lists the town approves, or raises ``approval.blocked`` with
every problem. :func:`supplement` computes the next version of the proposal for short posts.

Public names: :class:`StopReason`, :class:`Stop`, :class:`VettedPost`, :class:`VettingRecord`,
:func:`preliminary_names`, :func:`latest_outcomes`, :func:`vet`, :class:`FormalPost`,
:func:`formal_lists`, :func:`supplement_need`, :func:`supplement`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from tally.core.errors import Problem
from tally.core.model import MarginRule, MemberId, PostKind, QualificationPolicy
from tally.core.procedure.errors import ApprovalBlockedError, ProcedureCountError
from tally.core.procedure.evaluation import EvaluationCount, Outcome
from tally.core.procedure.model import Procedure
from tally.core.procedure.ranking import (
    Basis,
    Omission,
    OmissionReason,
    Proposal,
    ProposedName,
    ProposedPost,
    RankedMember,
    check_higher_level,
    check_omissions,
    group_totals,
    r27_problems,
    rank_post,
    rule_list,
)
from tally.core.procedure.recommendation import RecommendationCount, RecommendationGroup
from tally.core.rules import margin_satisfied

__all__ = [
    "FormalPost",
    "Stop",
    "StopReason",
    "VettedPost",
    "VettingRecord",
    "formal_lists",
    "latest_outcomes",
    "preliminary_names",
    "supplement",
    "supplement_need",
    "vet",
]

_SECRETARIES = (PostKind.SECRETARY, PostKind.DEPUTY_SECRETARY)


class StopReason(StrEnum):
    """(RP-6.1) Why a preliminary name does not proceed to the formal list."""

    EVALUATION = "evaluation"
    DECLINED = "declined"
    TEN_DISQUALIFICATIONS = "ten_disqualifications"
    OVER_SIZE = "over_size"


@dataclass(frozen=True, slots=True)
class Stop:
    """A ``stopped`` item of RP-6.1 (``category`` and ``reference`` ``""`` unless a finding)."""

    member: MemberId
    reason: StopReason
    category: str
    reference: str

    def to_json(self) -> dict[str, str]:
        """The ``stopped`` item."""
        return {
            "member": self.member,
            "reason": self.reason.value,
            "category": self.category,
            "reference": self.reference,
        }


@dataclass(frozen=True, slots=True)
class VettedPost:
    """(RP-6.1) One post: ``proceeding`` in ``ballot_order``, ``stopped`` in ``ballot_order``."""

    post: PostKind
    proceeding: tuple[MemberId, ...]
    stopped: tuple[Stop, ...]

    def to_json(self) -> dict[str, Any]:
        """The ``posts`` item of RP-6.1."""
        return {
            "post": self.post.value,
            "proceeding": list(self.proceeding),
            "stopped": [s.to_json() for s in self.stopped],
        }


@dataclass(frozen=True, slots=True)
class VettingRecord:
    """(RP-6.1) The ``vetting.recorded`` body, one item per post in the definition's order."""

    posts: tuple[VettedPost, ...]

    def post(self, kind: PostKind) -> VettedPost | None:
        """The record's post of ``kind``."""
        for p in self.posts:
            if p.post is kind:
                return p
        return None

    def to_json(self) -> dict[str, Any]:
        """The entry body of RP-6.1."""
        return {"posts": [p.to_json() for p in self.posts]}


def preliminary_names(proposals: Sequence[Proposal], post: PostKind) -> tuple[ProposedName, ...]:
    """(RP-4.5) A post's preliminary list: the union of its names over all versions given (each
    name as first proposed)."""
    seen: dict[MemberId, ProposedName] = {}
    for proposal in sorted(proposals, key=lambda p: p.version):
        found = proposal.post(post)
        for n in found.names if found is not None else ():
            seen.setdefault(n.member, n)
    return tuple(seen.values())


def latest_outcomes(counts: Sequence[EvaluationCount]) -> dict[MemberId, Outcome]:
    """Each evaluated member's outcome in the latest round that evaluated them."""
    out: dict[MemberId, Outcome] = {}
    for count in sorted(counts, key=lambda c: c.round):
        for r in count.results:
            out[r.member] = r.outcome
    return out


def _pool(names: Sequence[ProposedName], position: Mapping[MemberId, int]) -> list[RankedMember]:
    ranked = [
        RankedMember(n.member, n.member_recommendations, n.public_recommendations, n.score)
        for n in names
    ]
    return sorted(ranked, key=lambda r: (-r.score, position[r.member]))


def vet(
    procedure: Procedure,
    proposals: Sequence[Proposal],
    outcomes: Mapping[MemberId, Outcome],
    findings: Sequence[Omission] = (),
) -> VettingRecord:
    """(RP-6.1) The ``vetting.recorded`` body.

    ``outcomes`` is each member's latest evaluation outcome (:func:`latest_outcomes`); every
    preliminary name must have one (``vetting.not_evaluated``). ``findings`` are the town's
    ``declined`` and ``ten_disqualifications`` findings (checked as RP-4.4; a finding about a
    member on no preliminary list is ``vetting.finding``). A member who does not proceed in the
    evaluation is stopped for ``evaluation`` on every post (that reason first, whatever the
    findings); then the findings, on every post; then ``over_size`` per post when ``formal_size``
    ``F > 0``: the ``F`` best by score stay with every tie at the cut (RP-4.2), and a name on the
    secretary's or deputy's ``proceeding`` is never ``over_size`` on the committee's.
    """
    check_omissions(procedure, findings)
    position = {m: i for i, m in enumerate(procedure.ballot_order)}
    lists = {p.kind: preliminary_names(proposals, p.kind) for p in procedure.posts}
    everyone = {n.member for names in lists.values() for n in names}
    for f in findings:
        if f.member not in everyone:
            raise ProcedureCountError(
                "vetting.finding",
                zh=f"{f.member} 不在候选人初步人选中，不能记录考察审查结论",
                en=f"{f.member} is on no preliminary list: no vetting finding",
                clause="RP-6.1",
            )
    missing = sorted(everyone - set(outcomes), key=position.__getitem__)
    if missing:
        raise ProcedureCountError(
            "vetting.not_evaluated",
            zh=f"初步人选 {'、'.join(missing)} 尚未测评",
            en=f"preliminary names not yet evaluated: {', '.join(missing)}",
            clause="RP-6.1",
        )
    by_finding = {f.member: f for f in findings}
    done: dict[PostKind, VettedPost] = {}
    order = sorted(procedure.posts, key=lambda p: p.kind is PostKind.COMMITTEE)
    for spec in order:
        stopped: dict[MemberId, Stop] = {}
        for n in lists[spec.kind]:
            if outcomes[n.member] is Outcome.DOES_NOT_PROCEED:
                stopped[n.member] = Stop(n.member, StopReason.EVALUATION, "", "")
            elif n.member in by_finding:
                f = by_finding[n.member]
                reason = (
                    StopReason.DECLINED
                    if f.reason is OmissionReason.DECLINED
                    else StopReason.TEN_DISQUALIFICATIONS
                )
                stopped[n.member] = Stop(n.member, reason, f.category, f.reference)
        left = [n for n in lists[spec.kind] if n.member not in stopped]
        if spec.formal_size > 0:
            protected: set[MemberId] = set()
            if spec.kind is PostKind.COMMITTEE:
                for other in _SECRETARIES:
                    if other in done:
                        protected |= set(done[other].proceeding)
            kept, _short = rule_list(_pool(left, position), spec.formal_size)
            stay = {r.member for r, _ in kept} | protected
            for n in left:
                if n.member not in stay:
                    stopped[n.member] = Stop(n.member, StopReason.OVER_SIZE, "", "")
        done[spec.kind] = VettedPost(
            post=spec.kind,
            proceeding=tuple(
                sorted(
                    (n.member for n in lists[spec.kind] if n.member not in stopped),
                    key=position.__getitem__,
                )
            ),
            stopped=tuple(sorted(stopped.values(), key=lambda s: position[s.member])),
        )
    return VettingRecord(posts=tuple(done[p.kind] for p in procedure.posts))


@dataclass(frozen=True, slots=True)
class FormalPost:
    """(RP-6.2) A post's formal candidates in the approval's order."""

    post: PostKind
    seats: int
    margin: MarginRule
    candidates: tuple[MemberId, ...]


def formal_lists(
    procedure: Procedure,
    record: VettingRecord,
    *,
    election_date: dt.date,
    orders: Mapping[PostKind, Sequence[MemberId]] | None = None,
) -> tuple[FormalPost, ...]:
    """(RP-6.2) The formal lists of the last vetting record, or ``approval.blocked`` listing
    every problem.

    The committee's candidates are in ``ballot_order``; the secretary's and deputy's in the order
    the town sets (``orders``; ``ballot_order`` when not given), which must list exactly the
    post's ``proceeding`` (``approval.lists_differ``). Checks: ``C >= S``
    (``post.too_few_candidates``), the margin (``post.margin``), secretary and deputy candidates
    on the committee's list (``secretary.not_committee_candidate``), R27 under ``block``.
    """
    given = dict(orders or {})
    problems: list[Problem] = []
    out: list[FormalPost] = []
    committee = record.post(PostKind.COMMITTEE)
    for spec in procedure.posts:
        vetted = record.post(spec.kind)
        proceeding = vetted.proceeding if vetted is not None else ()
        path = f"posts.{spec.kind.value}.candidates"
        candidates = tuple(proceeding)
        if spec.kind in _SECRETARIES and spec.kind in given:
            candidates = tuple(given[spec.kind])
            if sorted(candidates) != sorted(proceeding):
                problems.append(
                    Problem(
                        "approval.lists_differ",
                        path,
                        "批复名单与考察审查后的人选不一致",
                        "the approved lists differ from the vetted names",
                        "RP-6.4",
                    )
                )
        c, s = len(candidates), spec.seats
        need = s + -(-s // 5) if spec.margin is MarginRule.TWENTY_PERCENT else s
        if c < s:
            problems.append(
                Problem(
                    "post.too_few_candidates",
                    path,
                    f"候选人 {c} 名少于应选 {s} 名（至少需要 {need} 名）",
                    f"{c} candidates for {s} seats (at least {need} needed)",
                    "RP-6.2",
                )
            )
        elif not margin_satisfied(spec.margin, c, s):
            problems.append(
                Problem(
                    "post.margin",
                    path,
                    f"差额不足：应选 {s} 名，候选人 {c} 名，至少需要 {need} 名",
                    f"competitive margin not met: {s} seats, {c} candidates, at least {need} "
                    "needed",
                    "RP-6.2",
                )
            )
        if spec.kind in _SECRETARIES and committee is not None:
            for cid in candidates:
                if cid not in committee.proceeding:
                    problems.append(
                        Problem(
                            "secretary.not_committee_candidate",
                            path,
                            f"{cid} 不是委员候选人",
                            f"{spec.kind.value} candidate {cid} is not a committee candidate",
                            "R20.1",
                        )
                    )
        if procedure.qualifications.qualification_policy is QualificationPolicy.BLOCK:
            for cid in candidates:
                problems.extend(r27_problems(procedure, spec.kind, cid, election_date))
        out.append(FormalPost(spec.kind, spec.seats, spec.margin, candidates))
    if problems:
        raise ApprovalBlockedError(tuple(problems))
    return tuple(out)


def supplement_need(procedure: Procedure, record: VettingRecord, post: PostKind) -> int:
    """(RP-6.3) How many names ``post`` lacks to meet its margin if all of them proceed:
    ``S + ceil(S/5) - proceeding`` (``20pct``), ``S - proceeding`` (``none``), at least 0."""
    spec = procedure.post(post)
    if spec is None:
        return 0
    vetted = record.post(post)
    have = len(vetted.proceeding) if vetted is not None else 0
    s = spec.seats
    target = s + -(-s // 5) if spec.margin is MarginRule.TWENTY_PERCENT else s
    return max(0, target - have)


def supplement(
    procedure: Procedure,
    *,
    version: int,
    election_date: dt.date,
    proposals: Sequence[Proposal],
    record: VettingRecord,
    counts: Sequence[RecommendationCount],
    omissions: Sequence[Omission] = (),
    higher_level: Mapping[PostKind, Sequence[MemberId]] | None = None,
) -> Proposal:
    """(RP-6.3) The next version of the proposal: for each post that fails its margin for want of
    names, the next ``need`` names of its ranking not on an earlier version (and not omitted),
    every tie at the cut included, basis ``supplement``; a secretary or deputy name so added joins
    the committee's list as ``secretary_list`` (and counts towards the committee's need). The
    names of a higher-level recommendation recorded for this version (``higher_level``, RP-3.9)
    not reached otherwise follow with basis ``higher_level``; without one, a post whose ranking is
    exhausted gains nothing here (a new definition supplies it). ``omitted`` lists the omissions
    that hold, as in version 1.
    """
    _check_supplement_version(version, proposals)
    check_omissions(procedure, omissions)
    hl = dict(higher_level or {})
    check_higher_level(procedure, hl)
    by_member = {o.member: o for o in omissions}
    added: dict[PostKind, _Supplemented] = {}
    for spec in sorted(procedure.posts, key=lambda p: p.kind is PostKind.COMMITTEE):
        kind = spec.kind
        ranked = rank_post(
            procedure,
            group_totals(counts, RecommendationGroup.MEMBER, kind),
            group_totals(counts, RecommendationGroup.PUBLIC, kind),
        )
        earlier = {n.member for n in preliminary_names(proposals, kind)}
        omitted = _omissions_that_hold(procedure, kind, ranked, by_member, election_date)
        names = (
            _secretary_list(added, ranked, earlier, omitted) if kind is PostKind.COMMITTEE else {}
        )
        need = max(0, supplement_need(procedure, record, kind) - len(names))
        short = _next_by_ranking(ranked, need, earlier, omitted, names)
        _higher_level(hl.get(kind, ()), ranked, earlier, omitted, names)
        added[kind] = _Supplemented(names, short, omitted)
    position = {m: i for i, m in enumerate(procedure.ballot_order)}
    posts = tuple(added[spec.kind].proposed(spec.kind, position) for spec in procedure.posts)
    return Proposal(version=version, election_date=election_date, posts=posts)


@dataclass(frozen=True)
class _Supplemented:
    """One post's part of a supplement while it is computed: the names added with their ranking
    and basis, whether the ranking fell short, and the omissions that hold."""

    names: dict[MemberId, tuple[RankedMember, Basis]]
    short: bool
    omitted: dict[MemberId, Omission]

    def proposed(self, post: PostKind, position: Mapping[MemberId, int]) -> ProposedPost:
        """The post's ``ProposedPost``: names by score then ``ballot_order``, omissions in
        ``ballot_order``."""
        items = sorted(self.names.values(), key=lambda rb: (-rb[0].score, position[rb[0].member]))
        return ProposedPost(
            post=post,
            names=tuple(
                ProposedName(
                    r.member, b, r.member_recommendations, r.public_recommendations, r.score
                )
                for r, b in items
            ),
            omitted=tuple(sorted(self.omitted.values(), key=lambda o: position[o.member])),
            short=self.short,
        )


def _check_supplement_version(version: int, proposals: Sequence[Proposal]) -> None:
    """(RP-6.3) A supplement is version 2 or later and follows every earlier version."""
    if version < 2 or any(p.version >= version for p in proposals):
        raise ProcedureCountError(
            "preliminary.version",
            zh="补充推荐的版本号须大于已有的各版本",
            en="a supplement's version follows every earlier version",
            clause="RP-6.3",
        )


def _omissions_that_hold(
    procedure: Procedure,
    post: PostKind,
    ranked: Sequence[RankedMember],
    recorded: Mapping[MemberId, Omission],
    election_date: dt.date,
) -> dict[MemberId, Omission]:
    """(RP-6.3, as RP-4) The recorded omissions and, for the secretary post under ``block``, a
    ``qualification`` omission for each ranked member failing R27 on ``election_date``."""
    omitted = dict(recorded)
    if (
        post is PostKind.SECRETARY
        and procedure.qualifications.qualification_policy is QualificationPolicy.BLOCK
    ):
        for r in ranked:
            if r27_problems(procedure, post, r.member, election_date):
                omitted.setdefault(
                    r.member, Omission(r.member, OmissionReason.QUALIFICATION, "", "")
                )
    return omitted


def _ranked_or_zero(ranked: Sequence[RankedMember], member: MemberId) -> RankedMember:
    return next((r for r in ranked if r.member == member), None) or RankedMember(member, 0, 0, 0)


def _secretary_list(
    added: Mapping[PostKind, _Supplemented],
    ranked: Sequence[RankedMember],
    earlier: set[MemberId],
    omitted: Mapping[MemberId, Omission],
) -> dict[MemberId, tuple[RankedMember, Basis]]:
    """(RP-6.3) The committee's ``secretary_list`` names: each secretary or deputy name this
    supplement adds, unless on an earlier version or omitted, with its committee ranking."""
    names: dict[MemberId, tuple[RankedMember, Basis]] = {}
    for other in _SECRETARIES:
        for r, _ in added[other].names.values() if other in added else ():
            if r.member not in earlier and r.member not in omitted:
                names[r.member] = (_ranked_or_zero(ranked, r.member), Basis.SECRETARY_LIST)
    return names


def _next_by_ranking(
    ranked: Sequence[RankedMember],
    need: int,
    earlier: set[MemberId],
    omitted: Mapping[MemberId, Omission],
    names: dict[MemberId, tuple[RankedMember, Basis]],
) -> bool:
    """(RP-6.3) Add to ``names`` the next ``need`` names of the ranking not on an earlier version,
    not omitted and not yet added, every tie at the cut included, basis ``supplement``. Returns
    whether the ranking fell short."""
    if need <= 0:
        return False
    pool = [
        r
        for r in ranked
        if r.member not in earlier and r.member not in omitted and r.member not in names
    ]
    reached, short = rule_list(pool, need)
    for r, _ in reached:
        names[r.member] = (r, Basis.SUPPLEMENT)
    return short


def _higher_level(
    members: Sequence[MemberId],
    ranked: Sequence[RankedMember],
    earlier: set[MemberId],
    omitted: Mapping[MemberId, Omission],
    names: dict[MemberId, tuple[RankedMember, Basis]],
) -> None:
    """(RP-3.9, RP-6.3) Add to ``names`` the higher-level names recorded for this version not
    reached otherwise and not omitted, basis ``higher_level``; refuse
    (``preliminary.higher_level``) one already on an earlier version."""
    for member in members:
        if member in earlier and member not in names:
            raise ProcedureCountError(
                "preliminary.higher_level",
                zh=f"上级推荐人选 {member} 已在初步人选中",
                en=f"the higher-level name {member} is already on the preliminary list",
                clause="RP-3.9",
            )
        if member not in names and member not in omitted:
            names[member] = (_ranked_or_zero(ranked, member), Basis.HIGHER_LEVEL)
