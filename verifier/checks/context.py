"""The state one verification run shares between its checks (spec/bundle.md §6).

A ``Context`` holds the bundle, the trust root, the findings, and what each clause hands on to
the later ones: the index (V1), the manifest and the town key (V2, V3), the checkpoints (V7) and
what the replay of the log found (V6-V15, V18). Each check is a function ``check_x(cx, ...)``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from verifier.bundle import Bundle, HashingReader, open_hashing, read_file
from verifier.canonical import parse_canonical
from verifier.checks.common import DOCUMENT_LIMIT, ProgressFn, TownKey
from verifier.checks.findings import Findings
from verifier.errors import VerificationError
from verifier.model import Checkpoint, LogEntry, Manifest
from verifier.parse.documents import BundleIndex, CheckpointItem
from verifier.report import ElectedPerson, RoundLine

if TYPE_CHECKING:
    from verifier.checks.replay.state import RemoteState

__all__ = ["Context"]


class Context:
    """One run's bundle, trust root, findings and the values the clauses pass on."""

    def __init__(
        self, bundle: Bundle, town: TownKey, jobs: int, progress: ProgressFn | None
    ) -> None:
        self.b = bundle
        self.town = town
        self.jobs = jobs
        self.progress = progress
        self.f = Findings()
        # (V1) the index: path -> (SHA-256, size); the streamed files' hashes wait for the replay
        self.index_doc: BundleIndex | None = None
        self.index_files: dict[str, tuple[str, int]] = {}
        self.deferred_hashes: dict[str, str] = {}  # path -> indexed SHA-256, for STREAMED
        self.readers: dict[str, HashingReader] = {}
        # (V2, V3)
        self.manifest: Manifest | None = None
        self.town_raw: bytes | None = None  # the town key of the signed manifest, after V2
        self.summary_hash = b""  # (V19) the public summary's hash, once its signature verified
        # (V7) checkpoints.json, parsed
        self.checkpoints: list[CheckpointItem] = []
        self.checkpoint_sizes: set[int] = set()
        # (V7) checkpoints held outside the bundle (``verify --checkpoint``): (where from, parsed)
        self.held: list[tuple[str, Checkpoint]] = []
        # (V6-V15, V18) what the replay of the log found
        self.entries = 0
        self.ballots = 0
        self.elected: dict[str, list[str]] = {}
        self.rounds: list[RoundLine] = []  # the report's round listing, in log order
        self.elected_persons: list[ElectedPerson] = []
        self.outcomes: list[bytes] = []
        self.result_entry: LogEntry | None = None
        self.moments: list[tuple[str, int, int]] = []
        self.roots: dict[int, bytes] = {}
        self.structure_ok = True
        self.remote: RemoteState | None = None
        self.replay_stopped = False  # too many bad log lines: entries and roots are incomplete

    def open_streamed(self, name: str) -> HashingReader:
        """Open ``log.jsonl`` or ``ballots.jsonl`` for the replay; V1 hashes it on the way."""
        reader = open_hashing(self.b, name)
        self.readers[name] = reader
        return reader

    def _doc(self, name: str, clause: str) -> Any:
        """The JSON value of the member ``name``, or None with a finding of ``clause``."""
        if name not in self.b.names():
            self.f.fail(
                clause, "bundle.missing_file", f"缺少 {name}", f"{name} is missing", file=name
            )
            return None
        try:
            return parse_canonical(
                read_file(self.b, name, DOCUMENT_LIMIT), clause=clause, path=name
            )
        except VerificationError as e:
            self.f.error(clause, e, file=name)
            return None

    doc = _doc
