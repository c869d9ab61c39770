"""Amended candidate lists (spec/rules.md RS7, R16, R20, R25, R27, R30): when one may be recorded
and what refuses it."""

from __future__ import annotations

from dataclasses import replace

from tally.core.definition import candidate_problems
from tally.core.errors import Problem, RoundStateError
from tally.core.model import (
    MarginRule,
    Member,
    MemberId,
    PostKind,
    QualificationPolicy,
    zh_label,
)
from tally.core.rounds._schedule import (
    _eligible_pool,
    _excluded_from_post,
    next_round,
    round_officials,
)
from tally.core.rounds._state import Blocked, ElectionState, RoundPurpose, RoundSpec
from tally.core.rules import (
    margin_satisfied,
    qualification_problems,
)

AMENDABLE_BLOCKS = frozenset({"candidates.amended_list_needed", "further.too_few_candidates"})


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
    """(RS7) Refusals and (R27 under ``warn``) warnings for an amended list of ``kind``: each
    candidate in the list's order, then the list's size (R16, R18, R19)."""
    by_id = {m.id: m for m in state.election.members}
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
        elif candidates.index(c) != j:
            refusals.append(
                Problem(
                    "candidate.duplicate",
                    where,
                    f"{member.name}（{c}） 在名单中重复",
                    f"{member.name} ({c}) is listed twice",
                    "RS7",
                )
            )
        else:
            refused, warned = _listed_member_problems(state, kind, member, where)
            refusals.extend(refused)
            warnings.extend(warned)
    refusals.extend(_list_size_problems(state, kind, candidates))
    return refusals, warnings


def _listed_member_problems(
    state: ElectionState, kind: PostKind, member: Member, where: str
) -> tuple[list[Problem], list[Problem]]:
    """One member on the roster, listed once: (R30) eligible and not excluded, and only then
    (R25) not an official of the round, (RS7, R20) free to take the post, (R27) qualified; a
    qualification problem refuses under ``block`` and warns under ``warn``."""
    election = state.election
    problems = candidate_problems(member, {x.member for x in election.exclusions}, where)
    if problems:
        return list(problems), []
    refusals = _post_refusals(state, kind, member, where)
    warnings: list[Problem] = []
    params = election.parameters
    for q in qualification_problems(kind, member, election.election_date, params):
        block = params.qualification_policy is QualificationPolicy.BLOCK
        (refusals if block else warnings).append(replace(q, path=where))
    return refusals, warnings


def _post_refusals(
    state: ElectionState, kind: PostKind, member: Member, where: str
) -> list[Problem]:
    """(R25) An official of the round cannot stand in it; (RS7) nobody already elected to the
    post, nor the secretary for the deputy post; (R20) only the new committee's members where the
    post comes from the committee."""
    c = member.id
    name = f"{member.name}（{c}）"
    label = zh_label(kind)
    officials = round_officials(state)
    out: list[Problem] = []
    role = (
        ("监票人", "scrutineer")
        if c in officials.scrutineers
        else ("计票人", "teller")
        if c in officials.tellers
        else None
    )
    if role is not None:
        out.append(
            Problem(
                "amend.official",
                where,
                f"{name} 是本轮的{role[0]}，不能作为本轮候选人",
                f"{member.name} ({c}) is a {role[1]} of the round and cannot stand in it",
                "R25",
            )
        )
    elected = state.post(kind).elected
    pool = _eligible_pool(state, kind)
    if c in _excluded_from_post(state, kind):
        why_zh = "已当选本职位" if c in elected else "已当选书记"
        why_en = "is already elected to this post" if c in elected else "is the secretary"
        out.append(
            Problem(
                "amend.not_eligible",
                where,
                f"{name} {why_zh}，不能作为{label}候选人",
                f"{member.name} ({c}) {why_en} and cannot be a {kind.value} candidate",
                "RS7",
            )
        )
    elif pool is not None and c not in pool:
        out.append(
            Problem(
                "amend.not_eligible",
                where,
                f"{name} 未当选新一届委员，不能作为{label}候选人",
                f"{member.name} ({c}) was not elected to the committee and cannot be a "
                f"{kind.value} candidate",
                "R20",
            )
        )
    return out


def _list_size_problems(
    state: ElectionState, kind: PostKind, candidates: tuple[MemberId, ...]
) -> list[Problem]:
    """(R18, R19) A list for the post's first round keeps the competitive margin; (R16) a further
    round's list has at least as many candidates as open seats."""
    post = state.post(kind)
    first = not post.elected and post.rounds_held == 0
    rule = state.election.post(kind)
    assert rule is not None
    n = len(set(candidates))
    if first and candidates and not margin_satisfied(rule.margin, n, post.open_seats):
        need = post.open_seats + (
            -(-post.open_seats // 5) if rule.margin is MarginRule.TWENTY_PERCENT else 0
        )
        return [
            Problem(
                "post.margin",
                "candidates",
                f"差额不足：应选 {post.open_seats} 名，候选人 {n} 名，至少需要 {need} 名",
                f"competitive margin not met: {post.open_seats} seats, {n} candidates, "
                f"at least {need} needed",
                "R18" if kind is PostKind.COMMITTEE else "R19",
            )
        ]
    if candidates and n < post.open_seats:
        return [
            Problem(
                "amend.too_few",
                "candidates",
                f"另行选举的候选人 {n} 名少于空缺名额 {post.open_seats} 名",
                f"{n} candidates for {post.open_seats} open seats",
                "R16",
            )
        ]
    return []


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
