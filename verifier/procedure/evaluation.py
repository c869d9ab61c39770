"""(V27) The recount of an evaluation round (spec/procedure.md RP-5.4-RP-5.6).

``V`` is the round's valid ballots (every entered ballot; an evaluation ballot is invalid only by
decision). For each person, in the order evaluated, the count of each scale letter, the blank
(``-``) and unreadable (``?``) rows, ``f`` the count of the fail letters, and the outcome: does not
proceed iff ``den * f > num * V`` (``GT``) or ``>=`` (``GE``). ``V = 0`` cannot be used.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from verifier.procedure.definition import CountingDefinition, ProcedureRecountError

__all__ = ["check_evaluation_ballot", "recount_evaluation"]


def check_evaluation_ballot(
    d: CountingDefinition, persons: Sequence[str], ballot: Mapping[str, Any]
) -> tuple[str, int]:
    """(RP-5.4; V23) The marks and added rows of an evaluation entry that fits its round.

    Raises:
        ProcedureRecountError: ``evaluation.marks_length`` (not one mark per person evaluated),
            ``evaluation.marks`` (a letter that is not the scale's, ``-`` or ``?``; marks not a
            string; ``added_rows`` not a non-negative integer).
    """
    marks, rows = ballot.get("marks"), ballot.get("added_rows")
    if isinstance(marks, str) and len(marks) != len(persons):
        raise ProcedureRecountError(
            clause="RP-5.4",
            code="evaluation.marks_length",
            zh=f"测评标记数 {len(marks)} 与测评名单人数 {len(persons)} 不符",
            en=f"{len(marks)} marks for {len(persons)} persons evaluated",
            path="marks",
        )
    if not isinstance(marks, str) or set(marks) - {*d.scale, "-", "?"}:
        raise ProcedureRecountError(
            clause="RP-5.4",
            code="evaluation.marks",
            zh="测评标记须为测评等次的字母、弃权或无法辨认",
            en="a mark is not a scale letter, - or ?",
            path="marks",
        )
    if type(rows) is not int or rows < 0:
        raise ProcedureRecountError(
            clause="RP-5.4",
            code="evaluation.marks",
            zh="手写添加的行数须为非负整数",
            en="added_rows is not a non-negative integer",
            path="added_rows",
        )
    return marks, rows


def recount_evaluation(
    d: CountingDefinition,
    *,
    round_: int,
    persons: Sequence[str],
    ballots: Sequence[Mapping[str, Any]],
    declared_invalid: int,
) -> dict[str, Any]:
    """The ``evaluation.counted`` body of one round (RP-5.6).

    Raises:
        ProcedureRecountError: ``evaluation.marks_length``, ``evaluation.marks``
            (:func:`check_evaluation_ballot`), ``evaluation.no_valid_ballots`` (RP-5.5,
            ``V = 0``).
    """
    columns: list[str] = []
    added = 0
    for ballot in ballots:
        marks, rows = check_evaluation_ballot(d, persons, ballot)
        columns.append(marks)
        added += rows
    v = len(columns)
    if v == 0:
        raise ProcedureRecountError(
            clause="RP-5.5",
            code="evaluation.no_valid_ballots",
            zh="本轮测评没有有效测评票，须重新测评",
            en="the round has no valid ballot: it is held again",
        )
    results = []
    for i, member in enumerate(persons):
        row = [c[i] for c in columns]
        f = sum(row.count(x) for x in d.fail_letters)
        num, den = d.fail_numerator, d.fail_denominator
        fails = den * f > num * v if d.fail_comparison == "GT" else den * f >= num * v
        results.append(
            {
                "member": member,
                "counts": [{"letter": x, "count": row.count(x)} for x in d.scale],
                "blank": row.count("-"),
                "unreadable": row.count("?"),
                "fail_count": f,
                "outcome": "does_not_proceed" if fails else "proceeds",
            }
        )
    return {
        "round": round_,
        "valid_ballots": v,
        "invalid_ballots": declared_invalid,
        "added_rows": added,
        "results": results,
    }
