"""What an election session is opened with: built by the shells (the CLI from its options, the
service from its configuration), so nothing under the session reads the environment."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["SessionConfig"]


@dataclass(frozen=True, slots=True)
class SessionConfig:
    """An election file and the work group's passphrase.

    Attributes:
        path: the election file (``election.db``).
        passphrase: unlocks the remote issuer key file (``issuer-keyfile/1``, RM-4.1); the CLI
            and the service take it from ``TALLY_PASSPHRASE``. Empty where the session never
            opens remote voting or redeems an invitation (the meeting's commands need none).
    """

    path: Path
    passphrase: str = field(default="", repr=False)
