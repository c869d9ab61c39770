"""(V23) The shape of each ballot record kept (spec/procedure.md RP-3.7, RP-5.4, §13 V23).

A ``recommendation.entered`` record has ``marks`` of the definition's layout (``listed``: one of
``o``, ``-``, ``?`` per nominable member; ``written``: ``""``) and ``written`` rows of RP-3.7's
shape (``recommendation.marks``, ``recommendation.written``); an ``evaluation.entered`` record one
mark per person its round evaluates (``evaluation.marks_length``), each a scale letter, ``-`` or
``?``, and ``added_rows`` a non-negative integer (``evaluation.marks``). The checks are the ones the
recounts apply (``check_recommendation_ballot``, ``check_evaluation_ballot``), run here on every
record, counted or not, and reported at the record.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from verifier.procedure.definition import CountingDefinition, ProcedureRecountError
from verifier.procedure.evaluation import check_evaluation_ballot
from verifier.procedure.log import Entry, ProcedureLog
from verifier.procedure.recommendation import check_recommendation_ballot

__all__ = ["check_record_shapes"]


def check_record_shapes(
    run: Any, d: CountingDefinition, log: ProcedureLog, records: Sequence[Entry]
) -> None:
    """(V23) Every kept ballot record's ``marks`` and ``written`` (or ``added_rows``); the
    persons of an evaluation round are its ``evaluation.opened``'s ``candidates``."""
    kept = {r.seq for r in records}
    persons: dict[object, list[str]] = {}
    for e in log.entries:
        b = e.body
        if e.type == "evaluation.opened":
            candidates = b.get("candidates")
            persons[b.get("round")] = list(candidates) if isinstance(candidates, list) else []
        if e.seq not in kept:
            continue
        try:
            if e.type == "recommendation.entered":
                check_recommendation_ballot(d, b)
            elif e.type == "evaluation.entered":
                check_evaluation_ballot(d, persons.get(b.get("round"), []), b)
        except ProcedureRecountError as x:
            run.f.fail(
                x.code,
                x.zh,
                x.en,
                clause="V23",
                file="log.jsonl",
                seq=e.seq,
                ballot_id=str(b.get("ballot_id")),
                path=x.path,
                rule=x.clause,
            )
