"""Errors of the tally core: one family, each carrying a stable code and both languages.

The core never prints or logs; the shells (CLI, service) choose the language and the exit code
or HTTP status from the exception class and its ``code``.
"""

from __future__ import annotations

from dataclasses import dataclass

from bilingual import BilingualError

__all__ = [
    "DefinitionError",
    "Problem",
    "RoundInputError",
    "RoundStateError",
    "TallyError",
]


@dataclass(frozen=True, slots=True)
class Problem:
    """One problem found in an input document, with where it is."""

    code: str
    path: str
    zh: str
    en: str
    clause: str = ""

    def message(self, lang: str) -> str:
        """The message in ``lang`` ("zh" or "en"), prefixed with the field path."""
        text = self.zh if lang == "zh" else self.en
        return f"{self.path}: {text}" if self.path else text


class TallyError(BilingualError):
    """Base of every error raised by ``tally.core``; raised as ``TallyError(code, zh=, en=)``."""

    code = "tally.error"


class DefinitionError(TallyError):
    """The election definition has one or more problems; all of them are listed."""

    problems: tuple[Problem, ...]

    def __init__(self, problems: tuple[Problem, ...]) -> None:
        n = len(problems)
        super().__init__(
            "definition.invalid",
            zh=f"选举定义有 {n} 个问题",
            en=f"the election definition has {n} problem(s)",
        )
        self.problems = problems


class RoundInputError(TallyError):
    """The inputs given for a round contradict the rules or the round (wrong counts, marks)."""


class RoundStateError(TallyError):
    """An operation that the election's current state does not allow."""
