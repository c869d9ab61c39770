"""Values and small helpers shared by the document checks and the replay (spec/bundle.md §1, §8)."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

from verifier.canonical import canonical_bytes
from verifier.crypto import PublicKey

__all__ = [
    "DOCUMENT_LIMIT",
    "FIXED_FILES",
    "KIND_NAMES",
    "MAX_BAD_LINES",
    "OPTIONAL_FILES",
    "STOCK_PATH",
    "STREAMED",
    "ProgressFn",
    "TownKey",
    "short",
]

# (spec/bundle.md §1) The files every bundle holds, and the one it may hold.
FIXED_FILES: Final = (
    "ballots.jsonl",
    "checkpoints.json",
    "log.jsonl",
    "manifest.json",
    "outcomes.json",
    "result.json",
)
OPTIONAL_FILES: Final = ("calendar.json",)  # the town's signed year file (R26.3), when supplied
STOCK_PATH: Final = re.compile(
    r"stocks/(committee|secretary|deputy_secretary)-([1-9][0-9]{0,2})(?:-([2-9]|[1-9][0-9]{1,2}))?\.json"
)
KIND_NAMES: Final = {
    "committee": "committee",
    "secretary": "secretary",
    "deputy_secretary": "deputy",
}
DOCUMENT_LIMIT: Final = 16 * 1024 * 1024  # (bundle.md §7) one JSON document
# (bundle.md §8) A log or ballots.jsonl with more unparsable lines is not read further line by line:
# its clause has failed, and the rest is only hashed (V1), so hostile input costs bounded time.
MAX_BAD_LINES: Final = 1000
# Files the replay streams through: V1 hashes them then rather than in a pass of its own.
STREAMED: Final = frozenset({"log.jsonl", "ballots.jsonl"})
ProgressFn = Callable[[int], None]


@dataclass(frozen=True, slots=True)
class TownKey:
    """The trust root: a ``pubkey/1`` key, or only its 25-digit fingerprint."""

    fingerprint: str
    key: PublicKey | None = None


def short(value: object) -> str:
    """A JSON value (or a string) for a finding, cut at 400 characters."""
    text = canonical_bytes(value).decode("utf-8") if not isinstance(value, str) else value
    return text if len(text) <= 400 else text[:400] + "…"
