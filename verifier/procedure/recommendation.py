"""(V25) The recount of a recommendation round (spec/procedure.md RP-3.7, RP-3.10).

Per ballot: ``n`` = the ``o`` marks + the filled rows (``?`` counts for nothing); ``n > K`` or a
declared-invalid ballot is invalid; on a valid ballot each ``o`` recommends its member, and each
written row recommends its member unless it is, in this order, ``unreadable``, ``not_on_roster``,
``not_nominable``, ``listed`` (layout ``listed``: a printed name counts only by its mark) or
``repeated``. The result is the ``recommendation.counted`` body.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any, Final

from verifier.procedure.definition import CountingDefinition, ProcedureRecountError

__all__ = ["REASONS", "check_recommendation_ballot", "recount_recommendation"]

#: (RP-3.10) The reasons a written row gives no recommendation, in their order.
REASONS: Final = ("unreadable", "not_on_roster", "not_nominable", "listed", "repeated")


def _refuse(code: str, en: str, zh: str, path: str = "") -> ProcedureRecountError:
    return ProcedureRecountError(clause="RP-3.7", code=code, zh=zh, en=en, path=path)


def check_recommendation_ballot(
    d: CountingDefinition, ballot: Mapping[str, Any]
) -> tuple[str, list[dict[str, str]]]:
    """(RP-3.7, piece 3's decisions; V23) The marks and rows of an entry that fits the
    definition.

    Raises:
        ProcedureRecountError: ``recommendation.marks`` (not a string; under ``listed`` not
            exactly one of ``o``, ``-``, ``?`` per nominable member; under ``written`` any mark),
            ``recommendation.written`` (not a list; a row not exactly ``{name, member}`` strings,
            with an empty name, ``"?"`` matched to a member, or a member not on the roster).
    """
    marks, written = ballot.get("marks"), ballot.get("written")
    if not isinstance(marks, str):
        raise _refuse("recommendation.marks", "marks is not a string", "标记不是字符串", "marks")
    if d.layout == "listed":
        if len(marks) != len(d.ballot_order) or set(marks) - set("o-?"):
            raise _refuse(
                "recommendation.marks",
                f"under listed, one of o, -, ? for each of the {len(d.ballot_order)} nominable "
                f"members ({len(marks)} given)",
                f"每名可被推荐的党员须有一个标记（o、-、?），共 {len(d.ballot_order)} 个，"
                f"记录为 {len(marks)} 个",
                "marks",
            )
    elif marks:
        raise _refuse(
            "recommendation.marks", "under written, no marks", "书写式推荐票没有标记", "marks"
        )
    if not isinstance(written, list):
        raise _refuse(
            "recommendation.written", "written is not a list", "另推荐人选不是列表", "written"
        )
    for i, row in enumerate(written):
        ok = (
            isinstance(row, dict)
            and set(row) == {"name", "member"}
            and isinstance(row["name"], str)
            and isinstance(row["member"], str)
            and row["name"] != ""
            and not (row["name"] == "?" and row["member"] != "")
            and (row["member"] == "" or row["member"] in d.roster)
        )
        if not ok:
            raise _refuse(
                "recommendation.written",
                "a written row is not {name, member} with a name, and a member on the roster, "
                '"" or, for "?", nothing',
                "另推荐人选的录入有误（姓名为空、无法辨认却对应了党员、或不在名册中）",
                f"written[{i}]",
            )
    return marks, written


def recount_recommendation(
    d: CountingDefinition,
    *,
    group: str,
    post: str,
    round_: int,
    ballots: Sequence[Mapping[str, Any]],
    declared_invalid: int,
) -> dict[str, Any]:
    """The ``recommendation.counted`` body of one post's round (RP-3.10).

    Raises:
        ProcedureRecountError: ``recommendation.post``, ``recommendation.marks`` or
            ``recommendation.written`` (an entry that does not fit the definition).
    """
    k = d.post(post).max_per_ballot
    nominable = frozenset(d.ballot_order)
    per: Counter[str] = Counter()
    reasons: Counter[str] = Counter()
    names: list[dict[str, str]] = []
    valid, invalid = 0, declared_invalid
    for ballot in ballots:
        marks, written = check_recommendation_ballot(d, ballot)
        if marks.count("o") + len(written) > k:
            invalid += 1
            continue
        valid += 1
        given = {d.ballot_order[i] for i, c in enumerate(marks) if c == "o"}
        for row in written:
            member = row["member"]
            if row["name"] == "?":
                reason = "unreadable"
            elif member == "":
                reason = "not_on_roster"
            elif member not in nominable:
                reason = "not_nominable"
            elif d.layout == "listed":
                reason = "listed"
            elif member in given:
                reason = "repeated"
            else:
                given.add(member)
                continue
            reasons[reason] += 1
            names.append({"name": row["name"], "reason": reason})
        per.update(given)
    return {
        "group": group,
        "post": post,
        "round": round_,
        "valid_ballots": valid,
        "invalid_ballots": invalid,
        "recommendations": [
            {"member": m, "recommendations": per[m]} for m in d.ballot_order if per[m] > 0
        ],
        "not_counted": [{"reason": r, "count": reasons[r]} for r in REASONS if reasons[r] > 0],
        "written_names": names,
    }
