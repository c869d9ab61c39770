"""(V28) The recount of a vetting record and the checks of the formal lists (spec/procedure.md
RP-6.1, RP-6.2).

RP-6.1: each post's preliminary list is the union of its names over every version of the
proposal (each as first proposed); every name needs its latest evaluation outcome. A member whose
latest outcome is ``does_not_proceed`` is stopped for ``evaluation`` on every post, whatever the
findings; then the town's findings (``declined``, ``ten_disqualifications``, with their
references) on every post; then, when ``formal_size`` ``F > 0``, among the names left the ``F``
best by the score of the proposal stay with every tie at the cut (RP-4.2), the others are
``over_size``, except that a name on the secretary's or deputy's ``proceeding`` stays on the
committee's. ``proceeding`` and ``stopped`` are in ``ballot_order``. RP-6.2: the formal lists
meet ``C >= S``, the margin, the secretary and deputy among the committee's, R27 under ``block``.
The supplement of RP-6.3 is recounted by ``verifier.procedure.supplement``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from verifier.procedure.definition import CountingDefinition, ProcedureRecountError
from verifier.procedure.ranking import check_omissions, r27_codes, rule_list
from verifier.rules import margin_ok

__all__ = ["formal_list_problems", "recount_vetting"]


def _preliminary(proposals: Sequence[Mapping[str, Any]], post: str) -> dict[str, int]:
    """(RP-4.5) A post's preliminary names with the score first proposed."""
    out: dict[str, int] = {}
    for proposal in sorted(proposals, key=lambda p: int(p["version"])):
        for item in proposal["posts"]:
            if item["post"] == post:
                for n in item["names"]:
                    out.setdefault(n["member"], int(n["score"]))
    return out


def _latest(evaluations: Sequence[Mapping[str, Any]]) -> dict[str, str]:
    out: dict[str, str] = {}
    for count in sorted(evaluations, key=lambda c: int(c["round"])):
        for r in count["results"]:
            out[r["member"]] = r["outcome"]
    return out


def recount_vetting(
    d: CountingDefinition,
    *,
    proposals: Sequence[Mapping[str, Any]],
    evaluations: Sequence[Mapping[str, Any]],
    findings: Sequence[Mapping[str, Any]],
) -> dict[str, Any]:
    """The ``vetting.recorded`` body (RP-6.1).

    Raises:
        ProcedureRecountError: ``preliminary.omission`` (a finding as RP-4.4 does not allow),
            ``vetting.finding`` (about a member on no preliminary list), ``vetting.not_evaluated``
            (a preliminary name without an outcome).
    """
    recorded = check_omissions(d, findings)
    position = {m: i for i, m in enumerate(d.ballot_order)}
    lists = {p.post: _preliminary(proposals, p.post) for p in d.posts}
    everyone = {m for names in lists.values() for m in names}
    outcomes = _latest(evaluations)
    if set(recorded) - everyone:
        raise ProcedureRecountError(
            clause="RP-6.1",
            code="vetting.finding",
            zh="考察审查结论所指人员不在候选人初步人选中",
            en="a finding about a member on no preliminary list",
        )
    if everyone - set(outcomes):
        raise ProcedureRecountError(
            clause="RP-6.1",
            code="vetting.not_evaluated",
            zh="有初步人选尚未测评",
            en="a preliminary name has no evaluation outcome",
        )
    done: dict[str, dict[str, Any]] = {}
    for spec in sorted(d.posts, key=lambda p: p.post == "committee"):
        names = lists[spec.post]
        stopped: dict[str, dict[str, str]] = {}
        for m in names:
            if outcomes[m] == "does_not_proceed":
                stopped[m] = {"member": m, "reason": "evaluation", "category": "", "reference": ""}
            elif m in recorded:
                f = recorded[m]
                stopped[m] = {
                    "member": m,
                    "reason": f["reason"],
                    "category": f["category"],
                    "reference": f["reference"],
                }
        left = [m for m in names if m not in stopped]
        if spec.formal_size > 0:
            protected: set[str] = set()
            if spec.post == "committee":
                for other in ("secretary", "deputy_secretary"):
                    protected |= set(done.get(other, {}).get("proceeding", []))
            pool = sorted(
                ((m, 0, 0, names[m]) for m in left), key=lambda r: (-r[3], position[r[0]])
            )
            stay = {r[0] for r, _ in rule_list(pool, spec.formal_size)} | protected
            for m in left:
                if m not in stay:
                    stopped[m] = {
                        "member": m,
                        "reason": "over_size",
                        "category": "",
                        "reference": "",
                    }
        done[spec.post] = {
            "post": spec.post,
            "proceeding": sorted((m for m in names if m not in stopped), key=position.__getitem__),
            "stopped": sorted(stopped.values(), key=lambda s: position[s["member"]]),
        }
    return {"posts": [done[p.post] for p in d.posts]}


def formal_list_problems(
    d: CountingDefinition,
    vetting: Mapping[str, Any],
    *,
    election_date: dt.date,
    orders: Mapping[str, Sequence[str]],
) -> list[str]:
    """(RP-6.2) The codes the formal lists break: ``post.too_few_candidates``, ``post.margin``,
    ``secretary.not_committee_candidate``, ``qualification.age`` / ``qualification.education``
    (R27 under ``block``), and ``approval.lists_differ`` when ``orders`` (the approval's
    secretary and deputy orders) are not exactly the ``proceeding`` names."""
    problems: list[str] = []
    proceeding = {p["post"]: list(p["proceeding"]) for p in vetting["posts"]}
    for spec in d.posts:
        names = proceeding.get(spec.post, [])
        if spec.post in orders and sorted(orders[spec.post]) != sorted(names):
            problems.append("approval.lists_differ")
        if len(names) < spec.seats:
            problems.append("post.too_few_candidates")
        elif not margin_ok(len(names), spec.seats, spec.margin):
            problems.append("post.margin")
        if spec.post != "committee" and set(names) - set(proceeding.get("committee", names)):
            problems.append("secretary.not_committee_candidate")
        if spec.post == "secretary" and d.qualification_policy == "block":
            for m in names:
                problems.extend(r27_codes(d, m, election_date))
    return problems
