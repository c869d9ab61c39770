"""Publish the result bundle (spec/bundle.md) and the publicity notice.

The bundle is written to a temporary folder beside the target and renamed into place, so a failed
publish leaves nothing half-written; the zip holds the same files. A publish killed before it
could remove its temporary folder leaves it behind: the next publish into the same folder removes
it (``_remove_stale_temporaries``). The files that grow with the
election (``log.jsonl``, ``ballots.jsonl``, the stock lists) are streamed from the election file to
disk, and the zip is filled from the files on disk, so memory stays flat as the election grows.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import os
import re
import shutil
import stat
import tempfile
import time
import zipfile
from array import array
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path
from types import TracebackType
from typing import Any

from tally.calendar import CalendarError, WorkingDayCalendar, load_calendar
from tally.core.manifest import canonical
from tally.core.meeting import parse_entry
from tally.core.meeting.bodies import BallotDeclaredInvalid, BallotEntered, BallotWithdrawn
from tally.core.model import PostKind
from tally.election import ElectionSession
from tally.session_errors import SessionError
from tally.store import ElectionStore, StoredCheckpoint

__all__ = ["Published", "bundle_files", "publish"]

BUNDLE_FORMAT = "bundle-index/1"
_ZIP_DATE = (2020, 1, 1, 0, 0, 0)  # fixed, so that the same election always gives the same zip
# Every member a plain file, made on Unix, rw-r--r-- (spec/bundle.md §8 "Member attributes"):
# fixed, not zipfile's default or the host's, so that every unzip tool makes a readable file.
_ZIP_SYSTEM = 3  # Unix
_ZIP_ATTR = (stat.S_IFREG | 0o644) << 16
_CHUNK = 1 << 20  # bytes copied into the zip at a time
_TEMP_PREFIX = ".bundle-"
# A temporary folder of ours: the prefix and tempfile.mkdtemp's eight random characters.
_TEMP_NAME = re.compile(re.escape(_TEMP_PREFIX) + r"[a-z0-9_]{8}")
# When this process loaded the module: no later than its first publish, so a temporary folder
# last changed before it belongs to a publish of an earlier process, killed midway.
_LOADED = time.time()


@dataclass(frozen=True, slots=True)
class Published:
    folder: Path
    zip_path: Path
    notice: Path | None
    final_checkpoint: str
    root_hex: str


@dataclass(frozen=True, slots=True)
class _Digest:
    """What ``index.json`` lists for a file."""

    sha256: str
    size: int


@dataclass(frozen=True, slots=True)
class _LogSummary:
    """What the bundle needs from the log, read in one pass without holding any entry.

    ``counted`` holds the seqs of the ``ballot.entered`` and ``ballot.declared_invalid`` entries
    not withdrawn, ascending, packed 8 bytes apiece (a list of ints took 36 bytes a ballot at
    publishing time).
    """

    entries: int
    counted: array[int]
    outcomes: list[dict[str, Any]]
    remote_ballots: int
    result: Mapping[str, Any] | None


@dataclass(frozen=True, slots=True)
class _Plan:
    """Everything checked and the small files built, before anything is written to disk."""

    log: _LogSummary
    small: dict[str, bytes]
    final_checkpoint: str


class _HashedFile:
    """A file being written whose SHA-256 and size are kept as it goes (``index.json`` needs them
    and the big files are never held whole)."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._file = path.open("wb")
        self._hash = hashlib.sha256()
        self._size = 0

    def __enter__(self) -> _HashedFile:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._file.close()

    def write(self, data: bytes) -> None:
        self._file.write(data)
        self._hash.update(data)
        self._size += len(data)

    @property
    def digest(self) -> _Digest:
        return _Digest(sha256=self._hash.hexdigest(), size=self._size)


class _BundleFolder:
    """The bundle's files under ``root``, with the digest of each file written so far."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.digests: dict[str, _Digest] = {}

    @contextmanager
    def open(self, rel: str) -> Iterator[_HashedFile]:
        with _HashedFile(self.root / rel) as f:
            yield f
        self.digests[rel] = f.digest

    def write(self, rel: str, data: bytes) -> None:
        with self.open(rel) as f:
            f.write(data)


def _summarize_log(store: ElectionStore) -> _LogSummary:
    """One pass over the log: each entry is parsed with the replay's parser (so a row edited since
    the session opened still stops the publish), its few useful fields kept and the entry dropped.
    A ``ballot.withdrawn`` removes its round's last entered ballot that is not withdrawn yet."""
    per_round: dict[tuple[PostKind, int], array[int]] = {}
    outcomes: list[dict[str, Any]] = []
    entries = remote_ballots = 0
    last_type, last_body = "", None
    for seq, raw in store.iter_log_rows():
        e = parse_entry(raw)
        entries += 1
        last_type, last_body = e.type, e.body
        v = e.value
        if isinstance(v, BallotEntered | BallotDeclaredInvalid):  # (bundle.md §3)
            # The row's seq, so that the second pass, reading the same rows, finds it.
            per_round.setdefault((v.post, v.round), array("q")).append(seq)
        elif isinstance(v, BallotWithdrawn):
            per_round[(v.post, v.round)].pop()
        elif e.type in ("round.counted", "round.void"):
            outcomes.append({"type": e.type, **e.body})
        elif e.type == "remote.cast":
            remote_ballots += 1  # each cast counts by the totals (RV-7.1)
    # Rounds follow one another in the log, so their seqs concatenated in the order the rounds
    # first appear are already ascending; sort only if that ever stops being so.
    counted = array("q")
    for seqs in per_round.values():
        counted.extend(seqs)
    if any(a > b for a, b in pairwise(counted)):
        counted = array("q", sorted(counted))
    return _LogSummary(
        entries=entries,
        counted=counted,
        outcomes=outcomes,
        remote_ballots=remote_ballots,
        result=last_body if last_type == "election.result" else None,
    )


def _checkpoints_json(session: ElectionSession, checkpoints: list[StoredCheckpoint]) -> bytes:
    tree = session.tree
    cps: list[dict[str, Any]] = []
    prev = 0
    for cp in checkpoints:
        proof = tree.consistency_proof(prev, cp.size) if 0 < prev < cp.size else ()
        cps.append({"text": cp.text, "consistency": [base64.b64encode(h).decode() for h in proof]})
        prev = cp.size
    return canonical({"format": "checkpoints/1", "checkpoints": cps})


def _result_json(
    session: ElectionSession,
    calendar: WorkingDayCalendar,
    log: _LogSummary,
    result: Mapping[str, Any],
    checkpoint: str,
) -> bytes:
    election = session.manifest.election
    end = dt.date.fromisoformat(result["publicity_end"])
    holidays, workdays = calendar.extract(dt.date(election.election_date.year, 1, 1), end)
    return canonical(
        {
            "format": "result/1",
            "election_id": session.manifest.election_id.hex(),
            "elected": result["elected"],
            "publicity_start": result["publicity_start"],
            "publicity_end": result["publicity_end"],
            "working_days": election.parameters.publicity_working_days,
            "calendar": {
                "holidays": [d.isoformat() for d in holidays],
                "workdays": [d.isoformat() for d in workdays],
            },
            "remote_ballots": log.remote_ballots,
            "checkpoint": checkpoint,
        }
    )


def _plan(session: ElectionSession, calendar: WorkingDayCalendar) -> _Plan:
    """Check that there is something to publish and build the small files, writing nothing.

    Raises:
        SessionError: no result recorded yet, or scrutineer co-signatures missing.
        CalendarError: the calendar does not cover the publicity period.
    """
    log = _summarize_log(session.store)
    if log.result is None:
        raise SessionError(
            "publish.no_result",
            zh="尚未宣布选举结果（tally result），不能发布",
            en="no result recorded yet (tally result); nothing to publish",
        )
    missing = session.missing_cosignatures()
    if missing:
        raise SessionError(
            "publish.cosign_missing",
            zh="以下检查点尚缺监票人签名（tally cosign）：" + "；".join(missing),
            en="scrutineer signatures missing (tally cosign): " + "; ".join(missing),
        )
    checkpoints = session.store.checkpoints()
    last = checkpoints[-1].text
    small = {
        "manifest.json": session.store.signed_manifest,
        "checkpoints.json": _checkpoints_json(session, checkpoints),
        "outcomes.json": canonical({"format": "outcomes/1", "rounds": log.outcomes}),
        "result.json": _result_json(session, calendar, log, log.result, last),
    }
    if calendar.signed_file:  # (R26.3) the town's signed year file, for the verifier (V17)
        small["calendar.json"] = calendar.signed_file
    return _Plan(log=log, small=small, final_checkpoint=last)


def _write_log_and_ballots(
    store: ElectionStore, counted: array[int], folder: _BundleFolder
) -> None:
    """Second pass over the log: every entry to ``log.jsonl`` as stored, and the counted ballots
    to ``ballots.jsonl`` (only those entries are parsed again)."""
    wanted = iter(counted)
    next_seq = next(wanted, None)
    with folder.open("log.jsonl") as log, folder.open("ballots.jsonl") as ballots:
        for seq, raw in store.iter_log_rows():
            log.write(raw + b"\n")
            if seq == next_seq:
                e = parse_entry(raw)
                ballots.write(
                    canonical({"format": "ballot-record/1", "seq": e.seq, **e.body}) + b"\n"
                )
                next_seq = next(wanted, None)


def _index_json(session: ElectionSession, entries: int, digests: Mapping[str, _Digest]) -> bytes:
    return canonical(
        {
            "format": BUNDLE_FORMAT,
            "election_id": session.manifest.election_id.hex(),
            "entries": entries,
            "files": [
                {"path": p, "sha256": d.sha256, "size": d.size} for p, d in sorted(digests.items())
            ],
        }
    )


def _write_bundle(session: ElectionSession, plan: _Plan, root: Path) -> list[str]:
    """Write every file of the bundle (spec/bundle.md §1) under ``root``; their paths, sorted."""
    folder = _BundleFolder(root)
    _write_log_and_ballots(session.store, plan.log.counted, folder)
    for s in session.store.iter_stocks():
        folder.write(f"stocks/{s.post}-{s.round}.json", s.list_json)
    for s, part in session.store.iter_stock_supplements():  # spec/bundle.md §1
        folder.write(f"stocks/{s.post}-{s.round}-{part}.json", s.list_json)
    for rel, data in plan.small.items():
        folder.write(rel, data)
    folder.write("index.json", _index_json(session, plan.log.entries, dict(folder.digests)))
    return sorted(folder.digests)


def _write_zip(root: Path, paths: list[str], zip_path: Path) -> None:
    """Zip the files under ``root`` in the given order, copied from disk a chunk at a time; the
    entries carry a fixed date, a fixed mode and their sizes up front, as ``writestr`` would, so
    the bytes are the same as zipping the files from memory."""
    with zipfile.ZipFile(zip_path, "w", compression=zipfile.ZIP_DEFLATED) as z:
        for rel in paths:
            source = root / rel
            info = zipfile.ZipInfo(rel, date_time=_ZIP_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = _ZIP_SYSTEM
            info.external_attr = _ZIP_ATTR
            info.file_size = source.stat().st_size  # decides the zip64 header, as writestr does
            with source.open("rb") as src, z.open(info, "w") as dest:
                shutil.copyfileobj(src, dest, _CHUNK)


def bundle_files(session: ElectionSession, calendar: WorkingDayCalendar) -> dict[str, bytes]:
    """Every file of the bundle by its path (spec/bundle.md §1), written to a scratch folder and
    read back: for the vector generator and tests, whose elections are small.

    Raises:
        SessionError: no result recorded yet, or scrutineer co-signatures missing.
    """
    plan = _plan(session, calendar)
    with tempfile.TemporaryDirectory(prefix="bundle-") as tmp:
        root = Path(tmp)
        return {rel: (root / rel).read_bytes() for rel in _write_bundle(session, plan, root)}


def publish(
    session: ElectionSession,
    out_dir: Path,
    *,
    calendar_file: Path | None = None,
    notice: bool = True,
) -> Published:
    """Write ``OUT/bundle/``, ``OUT/bundle.zip`` and ``OUT/notice.pdf``; refuses to overwrite.

    Raises:
        SessionError: nothing to publish yet, the target exists, or a calendar problem.
    """
    folder = out_dir / "bundle"
    zip_path = out_dir / "bundle.zip"
    if folder.exists() or zip_path.exists():
        raise SessionError(
            "publish.exists",
            zh=f"{out_dir} 中已有发布结果（不会覆盖）",
            en=f"{out_dir} already holds a bundle (never overwritten)",
        )
    try:
        calendar = load_calendar(calendar_file, town_key=session.town_key)
        plan = _plan(session, calendar)
    except CalendarError as e:
        raise SessionError(e.code, zh=e.zh, en=e.en) from e
    out_dir.mkdir(parents=True, exist_ok=True)
    _remove_stale_temporaries(out_dir)
    tmp = Path(tempfile.mkdtemp(prefix=_TEMP_PREFIX, dir=out_dir))
    try:
        paths = _write_bundle(session, plan, tmp / "bundle")
        _write_zip(tmp / "bundle", paths, tmp / "bundle.zip")
        notice_path = None
        if notice:
            notice_path = _render_notice(session, tmp / "notice.pdf", plan.small)
        for name in ("bundle", "bundle.zip", "notice.pdf"):
            if (tmp / name).exists():
                if name != "bundle":
                    (tmp / name).chmod(0o644)  # published documents, not secrets
                os.replace(tmp / name, out_dir / name)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    last = plan.final_checkpoint
    root_b64 = last.split("\n")[2]
    return Published(
        folder=folder,
        zip_path=zip_path,
        notice=(out_dir / "notice.pdf") if notice_path else None,
        final_checkpoint=last,
        root_hex=base64.b64decode(root_b64).hex(),
    )


def _remove_stale_temporaries(out_dir: Path, *, before: float | None = None) -> list[str]:
    """Remove the temporary folders an earlier publish into ``out_dir`` left when it was killed.

    Only folders named as ``publish`` names them (``.bundle-`` and eight characters of
    ``tempfile.mkdtemp``), real folders (not a link), last changed before ``before`` (default:
    when this process loaded the module, so never a folder of a publish running in it). A folder
    that cannot be removed is left; publishing goes on.

    Returns:
        The names removed.
    """
    cutoff = _LOADED if before is None else before
    removed = []
    with os.scandir(out_dir) as entries:
        for entry in entries:
            if not _TEMP_NAME.fullmatch(entry.name) or not entry.is_dir(follow_symlinks=False):
                continue
            if entry.stat(follow_symlinks=False).st_mtime >= cutoff:
                continue
            shutil.rmtree(entry.path, ignore_errors=True)
            removed.append(entry.name)
    return sorted(removed)


def _render_notice(session: ElectionSession, path: Path, small: dict[str, bytes]) -> Path:
    # reportlab and the fonts load only when a notice is rendered, not for every publish import
    from tally.notice import notice_for  # noqa: PLC0415

    # The notice reads result.json only; the files that grow with the election are not in memory.
    return notice_for(session, small, path)
