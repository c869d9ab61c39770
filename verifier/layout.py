"""(V1) The bundle holds exactly its indexed files: no zip directory entries, no extra folders.

A small check over the list of entry names, kept apart from the bounded zip and folder readers
of ``verifier.bundle``: a zip lists its entries (a directory entry ends in ``/``), a folder is
listed by a walk that names each sub-folder with a trailing ``/``. spec/bundle.md §1 and V1: a
zip holds no directory entries, and a folder holds no folder but the parents of its files (an
empty folder is an extra folder). Repeated names are refused by the zip reader itself
(``bundle.duplicate_name``).
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import Final

__all__ = ["folder_entry_names", "layout_findings"]

DIRECTORY_ENTRY: Final = "bundle.directory_entry"
EXTRA_FOLDER: Final = "bundle.extra_folder"
_MAX_NAMES: Final = 8192  # the readers refuse more than 4096 entries anyway


def layout_findings(names: Iterable[str], *, is_zip: bool) -> list[tuple[str, str]]:
    """(V1) ``(code, name)`` for each entry that is not one of the bundle's files.

    Args:
        names: every entry, a directory spelled with a trailing ``/``.
        is_zip: in a zip every directory entry is refused; in a folder only those that are not
            the parent of a file.
    """
    dirs: list[str] = []
    parents: set[str] = set()
    for name in names:
        if name.endswith("/"):
            dirs.append(name)
            continue
        parts = name.split("/")[:-1]
        for i in range(1, len(parts) + 1):
            parents.add("/".join(parts[:i]) + "/")
    if is_zip:
        return [(DIRECTORY_ENTRY, d) for d in dirs]
    return [(EXTRA_FOLDER, d) for d in sorted(dirs) if d not in parents]


def folder_entry_names(path: Path) -> list[str]:
    """Every entry of a folder bundle (links are not followed; a folder ends in ``/``); at most
    ``_MAX_NAMES``, the reader refuses more. A zip's names come from its open archive."""
    out: list[str] = []
    stack = [(path, "")]
    while stack and len(out) < _MAX_NAMES:
        d, prefix = stack.pop()
        with os.scandir(d) as it:
            for e in it:
                if e.is_dir(follow_symlinks=False):
                    out.append(prefix + e.name + "/")
                    stack.append((Path(e.path), prefix + e.name + "/"))
                else:
                    out.append(prefix + e.name)
    return out
