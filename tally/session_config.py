"""What an election session is opened with: built by the shells (the CLI from its options, the
service from its configuration), so nothing under the session reads the environment."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["SessionConfig"]


@dataclass(frozen=True, slots=True)
class SessionConfig:
    """An election file, the work group's passphrase and the data folder.

    Attributes:
        path: the election file (``election.db``).
        passphrase: unlocks the remote issuer key file (``issuer-keyfile/1``, RM-4.1); the CLI
            and the service take it from ``TALLY_PASSPHRASE``. Empty where the session never
            opens remote voting or redeems an invitation (the meeting's commands need none).
        data_dir: the data folder whose ``remote/`` holds the issuer key, the invitations' key
            and the share containers (the CLI's ``--data``, the service's
            ``ServiceConfig.data_dir``). None where the session never touches those files; the
            remote commands that do refuse with ``remote.data_dir``.
    """

    path: Path
    passphrase: str = field(default="", repr=False)
    data_dir: Path | None = None
