"""Progress bars of the CLI (house style: a bar for work over a couple of seconds), all one way:
on stderr, and only when stderr is a terminal and the command was not asked for JSON. A log file
or a pipe gets no bar and no final line, and stdout is never touched."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

__all__ = ["Bar", "progress_bar"]


@dataclass(frozen=True, slots=True)
class Bar:
    """What a long task reports to: ``advance`` by some steps, or ``completed`` so far. A bar
    that is not shown (``shown`` false) takes both and shows nothing."""

    _progress: Any = None
    _task: Any = None

    @property
    def shown(self) -> bool:
        return self._progress is not None

    def advance(self, steps: int = 1) -> None:
        if self._progress is not None:
            self._progress.advance(self._task, steps)

    def completed(self, done: int) -> None:
        if self._progress is not None:
            self._progress.update(self._task, completed=done)


@contextlib.contextmanager
def progress_bar(label: str, total: int, *, quiet: bool = False) -> Iterator[Bar]:
    """A bar labelled ``label`` over ``total`` steps on stderr, or none with ``quiet``
    (``--json``) or when stderr is not a terminal."""
    from rich.console import Console  # noqa: PLC0415 - rich loads only for a long task
    from rich.progress import Progress  # noqa: PLC0415 - rich loads only for a long task

    console = Console(stderr=True)
    if quiet or not console.is_terminal:
        yield Bar()
        return
    with Progress(console=console) as progress:
        yield Bar(progress, progress.add_task(label, total=total))
