"""The session's refusals: a command that cannot be carried out stores nothing."""

from __future__ import annotations

from tally.core.errors import DefinitionError, TallyError

__all__ = ["ManifestDefinitionError", "SessionError"]


class SessionError(TallyError):
    """A command cannot be carried out; nothing was stored."""


class ManifestDefinitionError(SessionError):
    """The signed manifest's definition has problems; ``problems`` lists every one of them."""

    def __init__(self, error: DefinitionError) -> None:
        super().__init__(error.code, zh=error.zh, en=error.en, clause=error.clause)
        self.problems = error.problems
