"""Counting the public evaluation (spec/procedure.md RP-5.4 to RP-5.6): pure functions.

From an evaluation round's persons and its entered ballots, :func:`count_evaluation` computes the
``evaluation.counted`` body: per person the count of each scale letter, blanks, unreadable rows,
the fail count and the outcome of the definition's rule, in exact integers (``den*f > num*V``,
never a division).

Public names: :class:`Outcome`, :class:`EvaluationBallot`, :class:`LetterCount`,
:class:`EvaluationResult`, :class:`EvaluationCount`, :func:`does_not_proceed`,
:func:`check_evaluated`, :func:`check_evaluation_ballot`, :func:`count_evaluation`,
:func:`rule_text` (the rule written out for one person, RP-5.6).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from tally.core.model import MemberId
from tally.core.procedure.errors import ProcedureCountError
from tally.core.procedure.model import Evaluation, FailComparison, Procedure

__all__ = [
    "MARK_BLANK",
    "MARK_UNREADABLE",
    "EvaluationBallot",
    "EvaluationCount",
    "EvaluationResult",
    "LetterCount",
    "Outcome",
    "check_evaluated",
    "check_evaluation_ballot",
    "count_evaluation",
    "does_not_proceed",
    "rule_text",
]

MARK_BLANK = "-"
"""弃权: the row has no mark."""
MARK_UNREADABLE = "?"
"""The row cannot be read or has more than one cell marked: it counts for nothing."""


class Outcome(StrEnum):
    """(RP-5.6) Whether a person proceeds after the evaluation."""

    PROCEEDS = "proceeds"
    DOES_NOT_PROCEED = "does_not_proceed"


@dataclass(frozen=True, slots=True)
class EvaluationBallot:
    """An ``evaluation.entered`` ballot: one letter per evaluated person in ``ballot_order`` (a
    scale letter, ``-`` or ``?``) and the number of names added by hand (RP-5.3)."""

    marks: str
    added_rows: int = 0


@dataclass(frozen=True, slots=True)
class LetterCount:
    """How many valid ballots gave one scale letter to a person."""

    letter: str
    count: int


@dataclass(frozen=True, slots=True)
class EvaluationResult:
    """(RP-5.6) One person's counts and outcome."""

    member: MemberId
    counts: tuple[LetterCount, ...]
    blank: int
    unreadable: int
    fail_count: int
    outcome: Outcome

    def to_json(self) -> dict[str, Any]:
        """The ``results`` item of RP-5.6."""
        return {
            "member": self.member,
            "counts": [{"letter": c.letter, "count": c.count} for c in self.counts],
            "blank": self.blank,
            "unreadable": self.unreadable,
            "fail_count": self.fail_count,
            "outcome": self.outcome.value,
        }


@dataclass(frozen=True, slots=True)
class EvaluationCount:
    """(RP-5.6) The ``evaluation.counted`` body of one round."""

    round: int
    valid_ballots: int
    invalid_ballots: int
    added_rows: int
    results: tuple[EvaluationResult, ...]

    def outcome(self, member: MemberId) -> Outcome:
        """The outcome of ``member`` (KeyError if not evaluated in the round)."""
        for r in self.results:
            if r.member == member:
                return r.outcome
        raise KeyError(member)

    def to_json(self) -> dict[str, Any]:
        """The entry body of RP-5.6."""
        return {
            "round": self.round,
            "valid_ballots": self.valid_ballots,
            "invalid_ballots": self.invalid_ballots,
            "added_rows": self.added_rows,
            "results": [r.to_json() for r in self.results],
        }


def does_not_proceed(evaluation: Evaluation, fail_count: int, valid_ballots: int) -> bool:
    """(RP-5.5) ``den*f > num*V`` (``GT``) or ``den*f >= num*V`` (``GE``), in integers."""
    left = evaluation.fail_denominator * fail_count
    right = evaluation.fail_numerator * valid_ballots
    if evaluation.fail_comparison is FailComparison.GE:
        return left >= right
    return left > right


def check_evaluated(procedure: Procedure, persons: Sequence[MemberId]) -> None:
    """(RP-5.1) The persons of a round are nominable, each once, in ``ballot_order``, at least one
    (``evaluation.not_listed`` otherwise)."""
    nominable = procedure.nominable
    ok = (
        len(persons) >= 1
        and all(p in nominable for p in persons)
        and len(set(persons)) == len(persons)
    )
    if ok:
        positions = [procedure.position(p) for p in persons]
        ok = positions == sorted(positions)
    if not ok:
        raise ProcedureCountError(
            "evaluation.not_listed",
            zh="测评名单须为可被推荐的党员，各一次，按推荐票排列顺序",
            en="the persons evaluated must be nominable members, each once, in ballot order",
            clause="RP-5.1",
        )


def check_evaluation_ballot(
    procedure: Procedure, persons: Sequence[MemberId], ballot: EvaluationBallot
) -> None:
    """(RP-5.4) Refuse an entry that does not fit the round: ``evaluation.marks_length`` for a
    longer or shorter ``marks``, ``evaluation.marks`` for a letter not of the scale, ``-`` or
    ``?``, or a negative ``added_rows``."""
    if len(ballot.marks) != len(persons):
        raise ProcedureCountError(
            "evaluation.marks_length",
            zh=f"测评标记数 {len(ballot.marks)} 与测评名单人数 {len(persons)} 不符",
            en=f"{len(ballot.marks)} marks for {len(persons)} persons evaluated",
            clause="RP-5.4",
        )
    allowed = {s.letter for s in procedure.evaluation.scale} | {MARK_BLANK, MARK_UNREADABLE}
    if any(c not in allowed for c in ballot.marks) or ballot.added_rows < 0:
        raise ProcedureCountError(
            "evaluation.marks",
            zh="测评标记须为测评等次的字母、“-”（弃权）或“?”（无法辨认），手写添加人数不能为负",
            en="each mark is a scale letter, - (blank) or ? (unreadable); added rows are not "
            "negative",
            clause="RP-5.4",
        )


def count_evaluation(
    procedure: Procedure,
    round_no: int,
    persons: Sequence[MemberId],
    ballots: Sequence[EvaluationBallot],
    *,
    declared_invalid: int = 0,
) -> EvaluationCount:
    """(RP-5.5, RP-5.6) The ``evaluation.counted`` body of a round.

    ``persons`` are the round's evaluated members in ``ballot_order``; ``ballots`` its entered
    ballots (each valid: an evaluation ballot is invalid only by decision, RP-5.4);
    ``declared_invalid`` the number declared invalid (RP-3.8). ``V`` is the number of entered
    ballots; blank and unreadable rows are in it. ``V = 0`` is refused
    (``evaluation.no_valid_ballots``): the round is held again.
    """
    check_evaluated(procedure, persons)
    if declared_invalid < 0 or not 1 <= round_no <= 255:
        raise ProcedureCountError(
            "evaluation.round",
            zh="轮次须为 1 至 255，宣布无效的票数不能为负",
            en="the round is 1..255 and the number declared invalid is not negative",
            clause="RP-5.2",
        )
    for ballot in ballots:
        check_evaluation_ballot(procedure, persons, ballot)
    valid = len(ballots)
    if valid == 0:
        raise ProcedureCountError(
            "evaluation.no_valid_ballots",
            zh="没有有效测评票，须重新测评",
            en="no valid evaluation ballot: evaluate again",
            clause="RP-5.5",
        )
    evaluation = procedure.evaluation
    results: list[EvaluationResult] = []
    for i, member in enumerate(persons):
        column = [b.marks[i] for b in ballots]
        counts = tuple(LetterCount(s.letter, column.count(s.letter)) for s in evaluation.scale)
        fail = sum(c.count for c in counts if c.letter in evaluation.fail_letters)
        results.append(
            EvaluationResult(
                member=member,
                counts=counts,
                blank=column.count(MARK_BLANK),
                unreadable=column.count(MARK_UNREADABLE),
                fail_count=fail,
                outcome=(
                    Outcome.DOES_NOT_PROCEED
                    if does_not_proceed(evaluation, fail, valid)
                    else Outcome.PROCEEDS
                ),
            )
        )
    return EvaluationCount(
        round=round_no,
        valid_ballots=valid,
        invalid_ballots=declared_invalid,
        added_rows=sum(b.added_rows for b in ballots),
        results=tuple(results),
    )


_DIGITS = "零一二三四五六七八九"


def _zh_number(n: int) -> str:
    """1..100 in Chinese numerals as a fraction is read (三, 十一, 二十, 一百)."""
    if n == 100:
        return "一百"
    tens, ones = divmod(n, 10)
    if tens == 0:
        return _DIGITS[ones]
    return ("" if tens == 1 else _DIGITS[tens]) + "十" + (_DIGITS[ones] if ones else "")


def rule_text(
    evaluation: Evaluation, result: EvaluationResult, valid_ballots: int
) -> tuple[str, str]:
    """(RP-5.6) The rule written out for one person, (zh, en), e.g.
    ``不满意 11 票，超过有效测评票 30 票的三分之一``."""
    labels = {s.letter: s for s in evaluation.scale}
    zh_label = "、".join(labels[c].zh for c in evaluation.fail_letters)
    en_label = ", ".join(labels[c].en for c in evaluation.fail_letters)
    num, den = evaluation.fail_numerator, evaluation.fail_denominator
    fails = result.outcome is Outcome.DOES_NOT_PROCEED
    if evaluation.fail_comparison is FailComparison.GE:
        zh_cmp = "达到或超过" if fails else "未达到"
        en_cmp = "at least" if fails else "less than"
    else:
        zh_cmp = "超过" if fails else "未超过"
        en_cmp = "more than" if fails else "not more than"
    zh = (
        f"{zh_label} {result.fail_count} 票，{zh_cmp}有效测评票 {valid_ballots} 票的"
        f"{_zh_number(den)}分之{_zh_number(num)}"
    )
    en = (
        f"{en_label} {result.fail_count} of {valid_ballots} valid evaluation ballots: "
        f"{en_cmp} {num}/{den}"
    )
    return zh, en
