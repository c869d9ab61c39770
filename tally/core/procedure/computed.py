"""The bodies the procedure log computes (spec/procedure.md RP-3.10, RP-4.5, RP-5.1, RP-5.6,
RP-6.1, RP-6.3): pure. ``count_body``, ``evaluation_opening``, ``proposal_body`` and
``vetting_body`` give the body a shell records; the ``apply_*`` functions accept a recorded body
only when it equals that recount (public through :mod:`tally.core.procedure.ledger`)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from tally.core.model import MemberId, PostKind
from tally.core.procedure._state import (
    Ledger,
    PostRound,
    RoundKey,
    close_round,
    no_session,
    open_round,
    out_of_order,
    refuse,
)
from tally.core.procedure.entries import (
    ComputedBody,
    DeclaredInvalid,
    EvaluationEntered,
    Form,
    RecommendationEntered,
)
from tally.core.procedure.evaluation import EvaluationCount, count_evaluation
from tally.core.procedure.ranking import Omission, OmissionReason, Proposal, propose
from tally.core.procedure.recommendation import RecommendationCount, count_recommendation_round
from tally.core.procedure.town import higher_level_for
from tally.core.procedure.vetting import VettingRecord, latest_outcomes, supplement, vet

__all__ = [
    "apply_count",
    "apply_proposal",
    "apply_vetting",
    "count_body",
    "evaluation_opening",
    "proposal_body",
    "recommendation_opening",
    "vetting_body",
]


def _counted_round(ledger: Ledger, key: RoundKey) -> PostRound:
    _, pr = open_round(ledger, key)
    if pr.returned is None or pr.issued is None or pr.returned > pr.issued:
        raise out_of_order("本轮不能计票", "the round cannot be counted")
    if len(pr.ballots) != pr.returned:
        raise out_of_order(
            f"收回 {pr.returned} 张，已录入 {len(pr.ballots)} 张：须全部录入后计票",
            f"{pr.returned} returned, {len(pr.ballots)} entered: enter every ballot first",
        )
    return pr


def _round_count(
    ledger: Ledger, form: Form, post: PostKind | None
) -> RecommendationCount | EvaluationCount:
    s = ledger.session
    key = RoundKey(form, post, s.round if s is not None else 0)
    pr = _counted_round(ledger, key)
    invalid = sum(isinstance(b.value, DeclaredInvalid) for b in pr.ballots)
    if form is Form.EVALUATION:
        assert s is not None  # _counted_round found the open round
        ev = [b.value.ballot for b in pr.ballots if isinstance(b.value, EvaluationEntered)]
        return count_evaluation(
            ledger.procedure, key.round, s.candidates, ev, declared_invalid=invalid
        )
    assert post is not None
    rec = [b.value.ballot for b in pr.ballots if isinstance(b.value, RecommendationEntered)]
    return count_recommendation_round(
        ledger.procedure, form.group, post, key.round, rec, declared_invalid=invalid
    )


def count_body(ledger: Ledger, form: Form, post: PostKind | None) -> dict[str, Any]:
    """(RP-3.10, RP-5.6) The count of the open session's round of ``post`` (None for the
    evaluation): the ``recommendation.counted`` or ``evaluation.counted`` body.

    Raises:
        ProcedureLogError: ``procedure.order`` (no such open round, or ballots not all entered).
        ProcedureCountError: the counting core's refusal (``evaluation.no_valid_ballots``, ...).
    """
    return _round_count(ledger, form, post).to_json()


def apply_count(ledger: Ledger, v: ComputedBody) -> Ledger:
    assert v.form is not None
    s = ledger.session
    if s is None or v.round != s.round:
        raise out_of_order(f"第 {v.round} 轮不在进行中", f"round {v.round} is not open")
    count = _round_count(ledger, v.form, v.post)
    if count.to_json() != dict(v.json):
        evaluation = v.form is Form.EVALUATION
        raise refuse(
            "count.evaluation_differs" if evaluation else "count.recommendation_differs",
            "V27" if evaluation else "V25",
            "计票结果与录入的票复核不一致",
            "the count differs from the recount of the entered ballots",
        )
    if isinstance(count, EvaluationCount):
        ledger = replace(
            ledger,
            evaluations=(*ledger.evaluations, count),
            evaluated_versions=ledger.evaluated_versions | {s.version},
        )
    else:
        ledger = replace(ledger, counts=(*ledger.counts, count))
    key = RoundKey(v.form, v.post, v.round)
    return close_round(ledger, replace(ledger.rounds[key], closed="counted"))


def recommendation_opening(
    ledger: Ledger, form: Form, present_members: Sequence[MemberId], present: int
) -> dict[str, Any]:
    """(RP-3.2) The ``recommendation.opened`` body of the group's next session: every post it has
    not counted (``present_members`` empty for the public)."""
    return {
        "group": form.value,
        "round": ledger.next_round(form),
        "posts": [p.value for p in ledger.pending_posts(form)],
        "present": present,
        "present_members": list(present_members),
    }


def evaluation_opening(ledger: Ledger) -> tuple[int, int, tuple[MemberId, ...]] | None:
    """(RP-5.1) The next evaluation: (round, version, persons in ``ballot_order``), or None when
    every proposed version is evaluated."""
    for proposal in sorted(ledger.proposals, key=lambda p: p.version):
        if proposal.version in ledger.evaluated_versions:
            continue
        earlier = {
            n.member
            for p in ledger.proposals
            if p.version < proposal.version
            for post in p.posts
            for n in post.names
        }
        names = {n.member for post in proposal.posts for n in post.names} - earlier
        persons = tuple(m for m in ledger.procedure.ballot_order if m in names)
        return ledger.next_round(Form.EVALUATION), proposal.version, persons
    return None


def _findings(posts: object, key: str) -> tuple[Omission, ...]:
    """The ``declined`` and ``ten_disqualifications`` items of each post's ``key`` list
    (``omitted``, ``stopped``) in a body, once per member, as omissions (whatever their shape:
    the recount decides whether the body stands)."""
    items = [
        o
        for post in (posts if isinstance(posts, list) else ())
        if isinstance(post, dict) and isinstance(post.get(key), list)
        for o in post[key]
        if isinstance(o, dict)
    ]
    seen: dict[MemberId, Omission] = {}
    for o in items:
        if o.get("reason") in (OmissionReason.DECLINED, OmissionReason.TEN_DISQUALIFICATIONS):
            member = MemberId(str(o.get("member")))
            seen.setdefault(
                member,
                Omission(
                    member,
                    OmissionReason(str(o["reason"])),
                    str(o.get("category")),
                    str(o.get("reference")),
                ),
            )
    return tuple(seen.values())


def proposal_body(
    ledger: Ledger, *, election_date: dt.date, omissions: Sequence[Omission] = ()
) -> Proposal:
    """(RP-4.5, RP-6.3) The next ``preliminary.proposed``: version 1 from the counts, or after a
    vetting record the supplement of the next version.

    Raises:
        ProcedureLogError: ``procedure.order`` (a session open; a supplement before the
            evaluation and a vetting record of the latest version).
        ProcedureCountError: the ranking core's refusals (``preliminary.group_missing``, ...).
    """
    no_session(ledger, "提出初步人选", "proposal")
    if not ledger.proposals:
        return propose(
            ledger.procedure,
            election_date=election_date,
            counts=ledger.counts,
            omissions=omissions,
            higher_level=higher_level_for(ledger),
        )
    latest = max(p.version for p in ledger.proposals)
    if latest not in ledger.evaluated_versions or not _vetted_latest(ledger):
        raise out_of_order(
            "补充推荐须在最新一版初步人选测评并考察审查之后",
            "a supplement follows the evaluation and vetting of the latest version",
        )
    proposal = supplement(
        ledger.procedure,
        version=latest + 1,
        election_date=election_date,
        proposals=ledger.proposals,
        record=ledger.vettings[-1],
        counts=ledger.counts,
        omissions=omissions,
        higher_level=higher_level_for(ledger),
    )
    if not any(post.names for post in proposal.posts):
        raise refuse(
            "preliminary.exhausted",
            "RP-6.3",
            "推荐结果中已没有可补充的人选，须由镇党委重新确定换届程序",
            "the ranking has no further name to add: a new procedure definition is needed",
        )
    return proposal


def _vetted_latest(ledger: Ledger) -> bool:
    """(RP-6.3) The last vetting record is of the latest version: it covers that version's names
    (a supplement adds only names no earlier vetting saw)."""
    if not ledger.vettings:
        return False
    record = ledger.vettings[-1]
    covered = {m for p in record.posts for m in (*p.proceeding, *(s.member for s in p.stopped))}
    latest = max(ledger.proposals, key=lambda p: p.version)
    return {n.member for post in latest.posts for n in post.names} <= covered


def apply_proposal(ledger: Ledger, v: ComputedBody) -> Ledger:
    body = v.json
    expected = max((p.version for p in ledger.proposals), default=0) + 1
    if v.version != expected:
        raise refuse(
            "preliminary.version",
            "RP-4.5",
            f"初步人选的版本号应为 {expected}",
            f"the proposal's version must be {expected}",
        )
    proposal = proposal_body(
        ledger,
        election_date=dt.date.fromisoformat(body["election_date"]),
        omissions=_findings(body["posts"], "omitted"),
    )
    if proposal.to_json() != dict(body):
        raise refuse(
            "preliminary.differs",
            "V26",
            "初步人选与推荐结果按规则计算的不一致",
            "the preliminary list differs from the rule applied to the counts",
        )
    return replace(ledger, proposals=(*ledger.proposals, proposal))


def vetting_body(ledger: Ledger, findings: Sequence[Omission] = ()) -> VettingRecord:
    """(RP-6.1) The ``vetting.recorded`` body of the versions proposed so far.

    Raises:
        ProcedureLogError: ``procedure.order`` (a session open, or nothing proposed).
        ProcedureCountError: ``vetting.not_evaluated``, ``vetting.finding``, ...
    """
    no_session(ledger, "记录考察审查", "vetting record")
    if not ledger.proposals:
        raise out_of_order("尚未提出初步人选", "nothing has been proposed")
    return vet(ledger.procedure, ledger.proposals, latest_outcomes(ledger.evaluations), findings)


def apply_vetting(ledger: Ledger, v: ComputedBody) -> Ledger:
    record = vetting_body(ledger, _findings(v.json["posts"], "stopped"))
    if record.to_json() != dict(v.json):
        raise refuse(
            "vetting.differs",
            "V28",
            "考察审查记录与测评结果或规则不一致",
            "the vetting record differs from the evaluation or the rule",
        )
    return replace(ledger, vettings=(*ledger.vettings, record))
