"""Errors of the casework core (spec/procedure.md §14): one class, a code, zh and en, a clause.

Every refusal of a casework operation is a :class:`CaseworkError`; the shells (CLI, pages) choose
the language and the exit code or HTTP status from its ``code``. A refused operation changes no
state: the core returns new values and never mutates the old ones.
"""

from __future__ import annotations

from tally.core.errors import Problem, TallyError

__all__ = ["CaseworkDefinitionError", "CaseworkError", "definition_error", "refuse"]


class CaseworkError(TallyError):
    """A casework operation was refused; ``code``, ``clause``, ``zh`` and ``en`` say why."""

    code = "casework.error"


class CaseworkDefinitionError(CaseworkError):
    """The ``casework/1`` definition has one or more problems; ``problems`` lists all of them.

    Made by :func:`definition_error`, which sets the counts in the message.
    """

    code = "casework.definition"
    clause = "RP-8.1"
    problems: tuple[Problem, ...] = ()


def definition_error(problems: tuple[Problem, ...]) -> CaseworkDefinitionError:
    """The refusal of a definition with these problems (the caller raises it)."""
    n = len(problems)
    error = CaseworkDefinitionError(
        zh=f"事项登记簿定义有 {n} 个问题", en=f"the casework definition has {n} problem(s)"
    )
    error.problems = problems
    return error


def refuse(code: str, clause: str, zh: str, en: str) -> CaseworkError:
    """A :class:`CaseworkError` with its clause (the caller raises it)."""
    return CaseworkError(code, zh=zh, en=en, clause=clause)
