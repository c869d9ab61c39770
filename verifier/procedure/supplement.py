"""(V26) A supplement version of the proposed preliminary list (spec/procedure.md RP-6.3).

Re-implemented from the spec alone. After a vetting record leaves a post short of its margin, the
next version adds, per post (the secretary's and deputy's first, so the committee's list grows by
their names):

* on the committee, each name the secretary's or deputy's supplement adds that is on no earlier
  version of the committee's list and not omitted, basis ``secretary_list``;
* ``need = target - proceeding - (those names)``, ``target`` ``S + ceil(S/5)`` (``20pct``) or
  ``S`` (``none``), ``proceeding`` the vetting record's; the next ``need`` names of the post's
  ranking (the verifier's own recounts) on no earlier version, not omitted and not added already,
  every tie at the cut included (RP-4.2), basis ``supplement``;
* the names of the higher-level recommendation recorded for this version (RP-3.9) not reached
  otherwise and not omitted, basis ``higher_level``; one already on the post's list is
  ``preliminary.higher_level``.

The omissions are version 1's (RP-4.4): the recorded ``declined`` and ``ten_disqualifications``,
and on the secretary post under ``block`` a ``qualification`` omission for each ranked member who
fails R27 on the election date. Names by score, then ``ballot_order``; omissions in
``ballot_order``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from verifier.procedure.definition import CountingDefinition, PostRule, ProcedureRecountError
from verifier.procedure.ranking import (
    Ranked,
    check_omissions,
    fails_r27,
    higher_level_names,
    ranking,
    rule_list,
)

__all__ = ["recount_supplement", "supplement_target"]

_SECRETARIES = ("secretary", "deputy_secretary")


def supplement_target(rule: PostRule) -> int:
    """(RP-6.3) How many names a post needs to meet its margin: ``S + ceil(S/5)`` or ``S``."""
    s = rule.seats
    return s + -(-s // 5) if rule.margin == "20pct" else s


def _earlier(proposals: Sequence[Mapping[str, Any]], post: str) -> set[str]:
    """The post's names over the earlier versions (their bodies passed V26 before this one)."""
    return {
        str(n.get("member"))
        for p in proposals
        for item in _list(p.get("posts"))
        if isinstance(item, dict) and item.get("post") == post
        for n in _list(item.get("names"))
        if isinstance(n, dict)
    }


def _proceeding(vetting: Mapping[str, Any], post: str) -> int:
    for item in _list(vetting.get("posts")):
        if isinstance(item, dict) and item.get("post") == post:
            return len(_list(item.get("proceeding")))
    return 0


def _list(v: object) -> list[Any]:
    return v if isinstance(v, list) else []


def _omitted(
    d: CountingDefinition,
    post: str,
    ranked: Sequence[Ranked],
    recorded: Mapping[str, Any],
    election_date: dt.date,
) -> dict[str, dict[str, Any]]:
    omitted = {m: dict(o) for m, o in recorded.items()}
    if post == "secretary" and d.qualification_policy == "block":
        for r in ranked:
            if r[0] not in omitted and fails_r27(d, r[0], election_date):
                omitted[r[0]] = {
                    "member": r[0],
                    "reason": "qualification",
                    "category": "",
                    "reference": "",
                }
    return omitted


def recount_supplement(
    d: CountingDefinition,
    *,
    version: int,
    election_date: dt.date,
    counts: Sequence[Mapping[str, Any]],
    proposals: Sequence[Mapping[str, Any]],
    vetting: Mapping[str, Any],
    omissions: Sequence[Mapping[str, Any]],
    higher_level: Sequence[Mapping[str, Any]],
    ties: dict[str, frozenset[str]] | None = None,
) -> dict[str, Any]:
    """The ``preliminary.proposed`` body of ``version`` (>= 2) after ``vetting``, from the
    earlier versions' bodies (``proposals``), the verifier's own recommendation recounts
    (``counts``), the recorded omissions and this version's higher-level recommendations.
    ``ties``, when given, receives each post's ``supplement`` names tied at its cut (more than
    ``need`` reach the ``need``-th score), for ``preliminary.tie_broken``.

    Raises:
        ProcedureRecountError: ``preliminary.omission``, ``preliminary.higher_level``,
            ``preliminary.group_missing``.
    """
    recorded = check_omissions(d, omissions)
    hl = higher_level_names(d, higher_level)
    position = {m: i for i, m in enumerate(d.ballot_order)}
    done: dict[str, tuple[dict[str, tuple[Ranked, str]], dict[str, dict[str, Any]]]] = {}
    for spec in sorted(d.posts, key=lambda p: p.post == "committee"):
        ranked = ranking(d, counts, spec.post)
        by_member = {r[0]: r for r in ranked}
        earlier = _earlier(proposals, spec.post)
        omitted = _omitted(d, spec.post, ranked, recorded, election_date)
        names: dict[str, tuple[Ranked, str]] = {}
        if spec.post == "committee":
            for other in _SECRETARIES:
                for x in done.get(other, ({}, {}))[0]:
                    if x not in earlier and x not in omitted:
                        names[x] = (by_member.get(x, (x, 0, 0, 0)), "secretary_list")
        need = supplement_target(spec) - _proceeding(vetting, spec.post) - len(names)
        pool = [r for r in ranked if r[0] not in earlier | set(omitted) | set(names)]
        reached = rule_list(pool, need)
        if ties is not None:
            cut = pool[need - 1][3] if 0 < need < len(pool) else None
            tied = [r[0] for r, _ in reached if r[3] == cut]
            ties[spec.post] = frozenset(tied if len(reached) > need else ())
        for r, _ in reached:
            names[r[0]] = (r, "supplement")
        for x in hl.get(spec.post, ()):
            if x in earlier:
                raise ProcedureRecountError(
                    clause="RP-3.9",
                    code="preliminary.higher_level",
                    zh=f"上级推荐人选 {x} 已在该职位的初步人选中",
                    en=f"the higher-level name {x} is already on the post's preliminary list",
                )
            if x not in names and x not in omitted:
                names[x] = (by_member.get(x, (x, 0, 0, 0)), "higher_level")
        done[spec.post] = (names, omitted)
    return {
        "version": version,
        "election_date": election_date.isoformat(),
        "posts": [_post(p.post, *done[p.post], position) for p in d.posts],
    }


def _post(
    post: str,
    names: Mapping[str, tuple[Ranked, str]],
    omitted: Mapping[str, Mapping[str, Any]],
    position: Mapping[str, int],
) -> dict[str, Any]:
    ordered = sorted(names.values(), key=lambda rb: (-rb[0][3], position[rb[0][0]]))
    return {
        "post": post,
        "names": [
            {
                "member": r[0],
                "basis": b,
                "member_recommendations": r[1],
                "public_recommendations": r[2],
                "score": r[3],
            }
            for r, b in ordered
        ],
        "omitted": [dict(omitted[m]) for m in sorted(omitted, key=position.__getitem__)],
    }
