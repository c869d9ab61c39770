"""Errors of the procedure definition (spec/procedure.md §2, §14).

One family under :class:`tally.core.errors.TallyError`: a definition with problems raises
:class:`ProcedureDefinitionError` listing every one (RP-2.4, as D-7.6); a ``signed-procedure/1``
whose envelope, town key or signature fails raises :class:`ProcedureFileError` with one code.
"""

from __future__ import annotations

from tally.core.errors import DefinitionError, Problem, TallyError

__all__ = [
    "ApprovalBlockedError",
    "ProcedureCountError",
    "ProcedureDefinitionError",
    "ProcedureFileError",
    "ProcedureLogError",
]


class ProcedureDefinitionError(DefinitionError):
    """The procedure definition has one or more problems (RP-2.4); ``problems`` lists them all.

    A :class:`DefinitionError`, so every shell that lists a definition's problems one a line lists
    these the same way.
    """

    def __init__(self, problems: tuple[Problem, ...]) -> None:
        n = len(problems)
        TallyError.__init__(
            self,
            "procedure.invalid",
            zh=f"换届程序定义有 {n} 个问题",
            en=f"the procedure definition has {n} problem(s)",
            clause="RP-2.4",
        )
        self.problems = problems


class ProcedureFileError(TallyError):
    """(RP-2.3) A procedure file that is not JSON of its format, or a ``signed-procedure/1``
    signed by another key or whose signature does not verify; nothing of its content may be used."""


class ProcedureCountError(TallyError):
    """(RP-3.7 to RP-6.3) A record given to the counting core that its rules refuse: an entry that
    does not fit the round (``recommendation.marks``, ``evaluation.marks_length``, ...), an
    omission or finding without its reason or reference, a round with no valid ballot. Raised as
    ``ProcedureCountError(code, zh=, en=, clause=)``; nothing is counted."""


class ProcedureLogError(TallyError):
    """(RP-11.1) A procedure log entry that is malformed (``log.*``) or that the procedure's state
    does not allow (``procedure.order``, ``recommendation.quorum_failed``, ``ballot.replayed``,
    ...): refused, nothing is appended."""


class ApprovalBlockedError(TallyError):
    """(RP-6.2) The formal lists break a rule (``approval.blocked``); ``problems`` lists each."""

    problems: tuple[Problem, ...]

    def __init__(self, problems: tuple[Problem, ...]) -> None:
        n = len(problems)
        super().__init__(
            "approval.blocked",
            zh=f"正式候选人名单不符合规定，不能报批（{n} 个问题）",
            en=f"the formal lists break a rule: approval blocked ({n} problem(s))",
            clause="RP-6.2",
        )
        self.problems = problems
