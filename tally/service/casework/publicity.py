"""Which branches are open to objections, read from the branches' procedure files (spec/procedure.md
RP-7.2, RP-8.6, RP-9.9; docs/adr/0047-casework-pages.md, amended).

``tally serve --casework FILE --procedures DIR``: every file in ``DIR`` is read as a branch's
procedure file (``tally procedure open``), never written. A branch is open to objections from its
``election.concluded`` until its ``appointment.recorded`` (RP-8.6); its publicity dates and
elected come from ``election.concluded``, the elected's names from the signed procedure's roster.
A file is read again when it changes (its size or modification time, or its write-ahead log's);
a file that cannot be read (damaged, not a procedure file, another town's casework) opens no
branch and the service log says why, once per change. Two files of one branch open neither.
Without ``--procedures`` no branch is open and the pages say why (:class:`NoProcedures`).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, Final

from bilingual import BilingualError
from tally.procedure_store import ProcedureStore
from tally.service.casework.web import BranchPublicity

__all__ = ["NoProcedures", "ProcedureFolder"]

log = logging.getLogger("tally.service.casework")

# SQLite's companions of a file, never procedure files themselves.
_COMPANIONS: Final = ("-wal", "-shm", "-journal")


class NoProcedures:
    """The service was given no procedure files: no branch is open to objections, and the
    objection pages say so, with the reason."""

    def publicity(self, branch: str) -> BranchPublicity | None:  # noqa: ARG002 - the protocol's
        return None

    def unavailable(self) -> tuple[str, str] | None:
        return (
            "本服务没有读取各支部的换届程序文件（启动时未给出 --procedures），无法确定哪些支部"
            "处于公示期，因此暂不能在本页提出异议。请到镇查核组或支部当面提出。",
            "This service reads no branch procedure files (it was started without --procedures), "
            "so it cannot tell which branches are in publicity and this page takes no objection "
            "for now. Raise it in person with the town's verification group or at the branch.",
        )


@dataclass(frozen=True, slots=True)
class _Read:
    """One procedure file as last read: the stat it was read at, its branch (None when the file
    could not be used) and its publicity (None while the branch is not open)."""

    signature: tuple[int, ...]
    branch: str | None
    publicity: BranchPublicity | None


def _signature(path: Path) -> tuple[int, ...]:
    """Size and modification time of the file and of its write-ahead log (an append through
    SQLite's WAL changes the latter only)."""
    out: list[int] = []
    for p in (path, path.with_name(path.name + "-wal")):
        try:
            st = p.stat()
        except OSError:
            out += [-1, -1]
        else:
            out += [st.st_size, st.st_mtime_ns]
    return tuple(out)


def _elected(concluded: Mapping[str, Any], names: Mapping[str, str]) -> tuple[tuple[str, str], ...]:
    """The elected of every post, each once, in the posts' and the result's order."""
    seen: dict[str, str] = {}
    for ids in concluded["elected"].values():
        for member in ids:
            seen.setdefault(str(member), names.get(str(member), str(member)))
    return tuple(seen.items())


def read_procedure(path: Path, casework_id: str) -> tuple[str, BranchPublicity | None]:
    """(RP-8.6) The branch of the procedure file ``path`` and its publicity: None before its
    ``election.concluded`` and after its appointment.

    Raises:
        BilingualError: the file cannot be opened or fails its checks (``store.*``), or belongs
            to another town's casework (``casework.other_town``).
    """
    store = ProcedureStore.open(path)
    try:
        p = store.signed.procedure
        concluded = store.ledger.town.concluded
        appointed = store.ledger.town.appointment is not None
    finally:
        store.close()
    if p.casework_id != casework_id:
        raise BilingualError(
            "casework.other_town",
            zh="换届程序文件不属于本事项登记簿（casework_id 不符）",
            en="the procedure file is not this casework's (casework_id differs)",
            clause="RP-10.1",
        )
    branch = p.election.branch_code
    if concluded is None or appointed:
        return branch, None
    return branch, BranchPublicity(
        publicity_end=date.fromisoformat(str(concluded["publicity_end"])),
        elected=_elected(concluded, {str(m.id): m.name for m in p.members}),
        publicity_start=date.fromisoformat(str(concluded["publicity_start"])),
    )


class ProcedureFolder:
    """The branches' procedure files in ``folder`` (``tally serve --procedures``), each read
    again when it changes; safe to call from any thread."""

    def __init__(self, folder: Path, casework_id: str) -> None:
        self.folder = folder
        self.casework_id = casework_id
        self._files: dict[Path, _Read] = {}
        self._lock = threading.Lock()
        self._folder_warned = False

    def unavailable(self) -> tuple[str, str] | None:
        return None

    def publicity(self, branch: str) -> BranchPublicity | None:
        with self._lock:
            found = [r for r in self._refresh() if r.branch == branch]
        return found[0].publicity if len(found) == 1 else None

    def _paths(self) -> list[Path]:
        try:
            entries = sorted(self.folder.iterdir())
        except OSError as e:
            if not self._folder_warned:
                log.warning("procedure folder %s cannot be read: %s", self.folder, e)
                self._folder_warned = True
            return []
        self._folder_warned = False
        return [
            p
            for p in entries
            if not p.name.startswith(".") and not p.name.endswith(_COMPANIONS) and p.is_file()
        ]

    def _refresh(self) -> list[_Read]:
        paths = self._paths()
        changed = set(self._files) - set(paths)
        for gone in changed:
            del self._files[gone]
        for path in paths:
            signature = _signature(path)
            known = self._files.get(path)
            if known is not None and known.signature == signature:
                continue
            changed.add(path)
            self._files[path] = self._read(path, signature)
        reads = list(self._files.values())
        if changed:
            self._warn_duplicates()
        return reads

    def _read(self, path: Path, signature: tuple[int, ...]) -> _Read:
        try:
            branch, publicity = read_procedure(path, self.casework_id)
        except (BilingualError, OSError, ValueError, KeyError, TypeError) as e:
            why = f"{e.code}: {e.en}" if isinstance(e, BilingualError) else repr(e)
            log.warning("procedure file %s not read, its branch is not open (%s)", path, why)
            return _Read(signature, None, None)
        log.info(
            "procedure file %s read: branch %s %s",
            path,
            branch,
            "open to objections" if publicity is not None else "not open to objections",
        )
        return _Read(signature, branch, publicity)

    def _warn_duplicates(self) -> None:
        per_branch: dict[str, list[Path]] = {}
        for path, read in self._files.items():
            if read.branch is not None:
                per_branch.setdefault(read.branch, []).append(path)
        for branch, paths in per_branch.items():
            if len(paths) > 1:
                log.warning(
                    "branch %s has %d procedure files (%s): it is not open to objections",
                    branch,
                    len(paths),
                    ", ".join(str(p) for p in paths),
                )
