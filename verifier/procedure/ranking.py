"""(V26) The ranking and the proposed preliminary list, version 1 (spec/procedure.md RP-4).

Scores (RP-4.1): ``shares`` ``Wm*m*max(Vp,1) + Wp*p*max(Vm,1)``, ``sum`` ``m + p``, from every
counted round of each group for the post; the ranking is the nominable members with a score above
0, by score, then ``ballot_order`` (reading only). The rule's list (RP-4.2) is the ranking without
the omitted (RP-4.4): all of it when at most ``L``, else every member scoring at least the
``L``-th's score ``c`` (ties at the cut all in). Bases (RP-4.3): ``rank``, ``tie_at_cut``,
``secretary_list`` (committee only: the secretary's and deputy's names), ``higher_level``
(RP-3.9). Omissions: the recorded ``declined`` and ``ten_disqualifications`` on every post, and on
the secretary post under ``block`` a ``qualification`` omission for each ranked or higher-level
member who fails R27 on the election date. A later version (the supplement, RP-6.3) is
``verifier.procedure.supplement``, on the ranking and the rule's list of this module.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any, Final

from verifier.model import EDUCATION_ORDER
from verifier.procedure.definition import CountingDefinition, ProcedureRecountError
from verifier.rules import age_on

__all__ = [
    "TEN_DISQUALIFICATIONS",
    "Ranked",
    "check_omissions",
    "fails_r27",
    "higher_level_names",
    "r27_codes",
    "ranking",
    "recount_proposal",
    "rule_list",
]

TEN_DISQUALIFICATIONS: Final = tuple(f"td{i}" for i in range(1, 11))
Ranked = tuple[str, int, int, int]  # member, m, p, score


def _refuse(code: str, clause: str, en: str, zh: str) -> ProcedureRecountError:
    return ProcedureRecountError(clause=clause, code=code, zh=zh, en=en)


def check_omissions(
    d: CountingDefinition, omissions: Sequence[Mapping[str, Any]]
) -> dict[str, Any]:
    """(RP-4.4) The recorded omissions by member, each as the rule allows, as RP-4.5's
    ``omitted`` item (members beyond those four are not copied: a recorded item with more is
    then not the recount's)."""
    out: dict[str, Any] = {}
    for o in omissions:
        member, reason = o.get("member"), o.get("reason")
        reference, category = o.get("reference"), o.get("category")
        ok = (
            isinstance(member, str)
            and member in d.ballot_order
            and member not in out
            and reason in ("declined", "ten_disqualifications")
            and isinstance(reference, str)
            and 1 <= len(reference.strip()) <= 64
            and (
                category in TEN_DISQUALIFICATIONS
                if reason == "ten_disqualifications"
                else category == ""
            )
        )
        if not ok:
            raise _refuse(
                "preliminary.omission",
                "RP-4.4",
                f"omission {o!r} is not allowed",
                "未列入人选的记录不符合规定",
            )
        out[str(member)] = {
            "member": member,
            "reason": reason,
            "category": category,
            "reference": reference,
        }
    return out


def higher_level_names(
    d: CountingDefinition, items: Sequence[Mapping[str, Any]]
) -> dict[str, tuple[str, ...]]:
    """(RP-3.9) Each post's higher-level names: nominable, each once, 1..L of them."""
    out: dict[str, tuple[str, ...]] = {}
    for item in items:
        post, members = item.get("post"), item.get("members")
        spec = next((p for p in d.posts if p.post == post), None)
        if (
            spec is None
            or post in out
            or not isinstance(members, list)
            or not 1 <= len(members) <= spec.preliminary_size
            or len(set(members)) != len(members)
            or any(m not in d.ballot_order for m in members)
        ):
            raise _refuse(
                "preliminary.higher_level",
                "RP-3.9",
                "higher-level names not allowed",
                "上级推荐人选不符合规定",
            )
        out[str(post)] = tuple(members)
    return out


def ranking(d: CountingDefinition, counts: Sequence[Mapping[str, Any]], post: str) -> list[Ranked]:
    """(RP-4.1) The post's ranking, or ``preliminary.group_missing``."""
    totals: dict[str, tuple[dict[str, int], int]] = {}
    for c in counts:
        if c.get("post") != post:
            continue
        per, valid = totals.setdefault(str(c.get("group")), ({}, 0))
        for r in c.get("recommendations", []):
            per[r["member"]] = per.get(r["member"], 0) + int(r["recommendations"])
        totals[str(c.get("group"))] = (per, valid + int(c.get("valid_ballots", 0)))
    for group, weight in (("member", d.member_weight), ("public", d.public_weight)):
        if group not in totals and not (d.mode == "shares" and weight == 0):
            raise _refuse(
                "preliminary.group_missing",
                "RP-4.1",
                f"{post} has no counted {group} round",
                "党员推荐和群众推荐须都已进行",
            )
    (pm, vm), (pp, vp) = totals.get("member", ({}, 0)), totals.get("public", ({}, 0))
    out: list[Ranked] = []
    for x in d.ballot_order:
        m, p = pm.get(x, 0), pp.get(x, 0)
        if d.mode == "sum":
            score = m + p
        else:
            score = d.member_weight * m * max(vp, 1) + d.public_weight * p * max(vm, 1)
        if score > 0:
            out.append((x, m, p, score))
    out.sort(key=lambda r: -r[3])  # stable: ballot_order among equals
    return out


def r27_codes(d: CountingDefinition, member: str, on: dt.date) -> list[str]:
    """(R27) The qualification codes ``member`` breaks as a secretary on ``on``."""
    facts = d.roster[member]
    i = 1 if facts.incumbent_secretary else 0
    out = []
    if age_on(facts.birth_date, on) > d.max_age[i]:
        out.append("qualification.age")
    if EDUCATION_ORDER.index(facts.education) < EDUCATION_ORDER.index(d.min_education[i]):
        out.append("qualification.education")
    return out


def fails_r27(d: CountingDefinition, member: str, on: dt.date) -> bool:
    """(R27) Whether ``member`` fails a secretary's qualifications on ``on``."""
    return bool(r27_codes(d, member, on))


def rule_list(pool: list[Ranked], size: int) -> list[tuple[Ranked, str]]:
    """(RP-4.2, RP-4.3) The rule's list with each name's basis."""
    if len(pool) <= size:
        return [(r, "rank") for r in pool]
    if size <= 0:
        return []
    c = pool[size - 1][3]
    reached = [r for r in pool if r[3] >= c]
    tie = len(reached) > size
    return [(r, "tie_at_cut" if tie and r[3] == c else "rank") for r in reached]


def recount_proposal(
    d: CountingDefinition,
    *,
    election_date: dt.date,
    counts: Sequence[Mapping[str, Any]],
    omissions: Sequence[Mapping[str, Any]],
    higher_level: Sequence[Mapping[str, Any]],
    ties: dict[str, frozenset[str]] | None = None,
) -> dict[str, Any]:
    """The ``preliminary.proposed`` body of version 1 (RP-4.5). ``ties``, when given, receives
    each post's names tied at its cut (basis ``tie_at_cut``: more than ``L`` reach ``c``), for
    ``preliminary.tie_broken``.

    Raises:
        ProcedureRecountError: ``preliminary.omission``, ``preliminary.higher_level``,
            ``preliminary.group_missing``.
    """
    recorded = check_omissions(d, omissions)
    hl = higher_level_names(d, higher_level)
    position = {m: i for i, m in enumerate(d.ballot_order)}
    done: dict[str, dict[str, Any]] = {}
    # The secretary's and deputy's lists first: the committee's grows by them (RP-4.3).
    for spec in sorted(d.posts, key=lambda p: p.post == "committee"):
        ranked = ranking(d, counts, spec.post)
        by_member = {r[0]: r for r in ranked}
        omitted = dict(recorded)
        if spec.post == "secretary" and d.qualification_policy == "block":
            for x in sorted({*by_member, *hl.get("secretary", ())}, key=position.__getitem__):
                if x not in omitted and fails_r27(d, x, election_date):
                    omitted[x] = {
                        "member": x,
                        "reason": "qualification",
                        "category": "",
                        "reference": "",
                    }
        names = {
            r[0]: (r, b)
            for r, b in rule_list([r for r in ranked if r[0] not in omitted], spec.preliminary_size)
        }
        if ties is not None:
            ties[spec.post] = frozenset(x for x, (_, b) in names.items() if b == "tie_at_cut")
        extra: list[tuple[str, str]] = []
        if spec.post == "committee":
            for other in ("secretary", "deputy_secretary"):
                extra += [
                    (n["member"], "secretary_list") for n in done.get(other, {}).get("names", [])
                ]
        extra += [(x, "higher_level") for x in hl.get(spec.post, ())]
        for x, basis in extra:
            if x not in names and x not in omitted:
                names[x] = (by_member.get(x, (x, 0, 0, 0)), basis)
        ordered = sorted(names.values(), key=lambda rb: (-rb[0][3], position[rb[0][0]]))
        done[spec.post] = {
            "post": spec.post,
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
            "omitted": sorted(omitted.values(), key=lambda o: position[o["member"]]),
        }
    return {
        "version": 1,
        "election_date": election_date.isoformat(),
        "posts": [done[p.post] for p in d.posts],
    }
