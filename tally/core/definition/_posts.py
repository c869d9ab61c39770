"""The posts and their candidate lists (spec/definition.md; spec/rules.md R18-R23, R30)."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from typing import Any

from tally.core.definition._collector import _Collector
from tally.core.errors import Problem
from tally.core.model import (
    Body,
    MarginRule,
    Member,
    MemberId,
    Post,
    PostKind,
    zh_label,
)
from tally.core.rules import (
    candidate_eligible_for_election,
    margin_satisfied,
)

_POST_KEYS = {"post", "seats", "candidates", "margin"}
_MAX_SEATS = 15


def _default_margin(kind: PostKind, body: Body) -> MarginRule:
    # R19: the town plan's 20% for the secretary when the assembly elects; uncontested allowed
    # when the new committee elects its secretary.
    if kind is PostKind.COMMITTEE or body is not Body.COMMITTEE:
        return MarginRule.TWENTY_PERCENT
    return MarginRule.NONE


def _parse_posts(
    c: _Collector,
    rows: Sequence[Mapping[str, Any]],
    by_id: Mapping[MemberId, Member],
    excluded: set[MemberId],
    body: Body,
) -> tuple[Post, ...]:
    if not rows:
        c.add("posts.empty", "posts", "没有设置职位", "no posts are defined")
    posts: list[Post] = []
    kinds: set[PostKind] = set()
    for i, row in enumerate(rows):
        post = _parse_post(
            c, row, path=f"posts[{i}]", by_id=by_id, excluded=excluded, body=body, kinds=kinds
        )
        if post is not None:
            posts.append(post)
    _check_post_structure(c, posts, body, rows)
    return tuple(posts)


def _parse_post(
    c: _Collector,
    row: Mapping[str, Any],
    *,
    path: str,
    by_id: Mapping[MemberId, Member],
    excluded: set[MemberId],
    body: Body,
    kinds: set[PostKind],
) -> Post | None:
    """One ``[[posts]]`` row: its kind (once each, added to ``kinds``), its seats, its candidates
    (R30) and its margin (R18, R19). None when the row cannot make a post; its problems are
    recorded either way."""
    c.unknown_keys(row, _POST_KEYS, path)
    kind = c.enum(row, "post", path, PostKind)
    seats = _parse_seats(c, row, path, kind)
    if kind is not None and kind in kinds:
        c.add("post.duplicate", f"{path}.post", "职位重复", "post defined twice")
    if kind is not None:
        kinds.add(kind)
    candidates = _parse_candidates(c, row.get("candidates"), f"{path}.candidates", by_id)
    for j, cid in enumerate(candidates):
        member = by_id.get(cid)
        if member is None:
            continue
        c.problems.extend(candidate_problems(member, excluded, f"{path}.candidates[{j}]"))
    margin = (
        c.enum(row, "margin", path, MarginRule, None)
        if "margin" in row
        else (_default_margin(kind, body) if kind is not None else None)
    )
    if kind is None or margin is None or seats <= 0:
        return None
    _check_margin(c, path, kind=kind, seats=seats, candidates=candidates, margin=margin)
    return Post(kind=kind, seats=seats, candidates=candidates, margin=margin)


def _parse_seats(c: _Collector, row: Mapping[str, Any], path: str, kind: PostKind | None) -> int:
    """1 to 15 seats; one for the secretary and for the deputy."""
    seats = c.integer(row, "seats", path, None)
    if seats <= 0 or seats > _MAX_SEATS:
        c.add(
            "post.seats",
            f"{path}.seats",
            f"应选人数应为 1 到 {_MAX_SEATS}",
            f"seats must be 1 to {_MAX_SEATS}",
        )
    if kind in (PostKind.SECRETARY, PostKind.DEPUTY_SECRETARY) and seats > 1:
        c.add(
            "post.seats",
            f"{path}.seats",
            f"{zh_label(kind)}职数应为 1",
            f"{kind.value} has one seat",
        )
    return seats


def _check_margin(
    c: _Collector,
    path: str,
    *,
    kind: PostKind,
    seats: int,
    candidates: tuple[MemberId, ...],
    margin: MarginRule,
) -> None:
    """(R18) The committee's 20% margin cannot be waived; (R18, R19) at least as many candidates
    as seats, and the margin met."""
    if kind is PostKind.COMMITTEE and margin is not MarginRule.TWENTY_PERCENT:
        c.add(
            "post.margin",
            f"{path}.margin",
            "委员候选人差额不少于应选人数的20%，不能设为等额",
            "committee candidates need the 20% margin; it cannot be waived",
            "R18",
        )
    clause = "R18" if kind is PostKind.COMMITTEE else "R19"
    if len(candidates) < seats:
        # (A12.13) Fewer candidates than seats is its own problem, whatever the margin rule.
        twenty = margin is MarginRule.TWENTY_PERCENT or kind is PostKind.COMMITTEE
        need = seats + -(-seats // 5) if twenty else seats
        c.add(
            "post.too_few_candidates",
            f"{path}.candidates",
            f"候选人 {len(candidates)} 名少于应选 {seats} 名（至少需要 {need} 名）",
            f"{len(candidates)} candidates for {seats} seats (at least {need} needed)",
            clause,
        )
    elif not margin_satisfied(margin, len(candidates), seats):
        need = seats + -(-seats // 5)
        c.add(
            "post.margin",
            f"{path}.candidates",
            f"差额不足：应选 {seats} 名，候选人 {len(candidates)} 名，至少需要 {need} 名",
            f"competitive margin not met: {seats} seats, {len(candidates)} candidates, "
            f"at least {need} needed",
            clause,
        )


def candidate_problems(
    member: Member, excluded: Collection[MemberId], where: str
) -> tuple[Problem, ...]:
    """(R30) Why ``member`` cannot stand for any post: not eligible for election, or excluded
    from E. The same check for a definition's lists and for an amended list (RS7)."""
    cid = member.id
    if not candidate_eligible_for_election(member):
        return (
            Problem(
                "candidate.not_eligible",
                where,
                f"{member.name}（{cid}）为{zh_label(member.status)}"
                + ("" if member.registered_here else "，组织关系不在本支部")
                + "，没有被选举权",
                f"{member.name} ({cid}) is {member.status.value}"
                + ("" if member.registered_here else ", registered elsewhere")
                + " and cannot be elected",
                "R30",
            ),
        )
    if cid in excluded:
        return (
            Problem(
                "candidate.excluded",
                where,
                f"{member.name}（{cid}）已列入不计入应到会人数名单，不能作为候选人",
                f"{member.name} ({cid}) is excluded from E and cannot stand",
                "R30",
            ),
        )
    return ()


def _parse_candidates(
    c: _Collector, value: object, where: str, by_id: Mapping[MemberId, Member]
) -> tuple[MemberId, ...]:
    ids = c.ids(value, where)
    out: list[MemberId] = []
    for j, cid in enumerate(ids):
        if cid not in by_id:
            c.add(
                "candidate.not_on_roster",
                f"{where}[{j}]",
                f"候选人 {cid} 不在名册中",
                f"candidate {cid} is not on the roster",
                "R30",
            )
        elif cid in out:
            c.add(
                "candidate.duplicate",
                f"{where}[{j}]",
                f"候选人 {cid} 重复",
                f"candidate {cid} is listed twice",
            )
        else:
            out.append(cid)
    return tuple(out)


def _check_post_structure(
    c: _Collector, posts: Sequence[Post], body: Body, rows: Sequence[Mapping[str, Any]]
) -> None:
    kinds = {p.kind: p for p in posts}
    if rows and PostKind.SECRETARY not in kinds and len(posts) == len(rows):
        c.add("post.no_secretary", "posts", "没有设置书记职位", "there is no secretary post")
    committee = kinds.get(PostKind.COMMITTEE)
    if committee is None:
        if body is not Body.ASSEMBLY and posts:
            c.add(
                "secretary.body",
                "secretary.elected_by",
                "不设支部委员会的支部由党员大会直接选举书记",
                "a branch without a committee elects its secretary in the assembly",
                "R23",
            )
        return
    # R20/R21/R22: whatever the body, the secretary comes from the new committee (in a direct
    # election the committee ballots are counted first), so a secretary candidate who is not a
    # committee candidate could never be elected.
    direct = body is Body.DIRECT
    for kind in (PostKind.SECRETARY, PostKind.DEPUTY_SECRETARY):
        post = kinds.get(kind)
        if post is None:
            continue
        for cid in post.candidates:
            if cid not in committee.candidates:
                c.add(
                    "secretary.not_committee_candidate",
                    f"posts.{kind.value}.candidates",
                    f"{zh_label(kind)}候选人 {cid} 不是委员候选人"
                    + (
                        "：直接选举时书记、副书记候选人须同时是委员候选人"
                        if direct
                        else "，不能从新一届委员会中产生"
                    ),
                    f"{kind.value} candidate {cid} is not a committee candidate"
                    + (
                        " (in a direct election secretary and deputy candidates must also "
                        "stand for the committee)"
                        if direct
                        else ""
                    ),
                    "R22" if direct else "R20",
                )
