"""Write a generator's vector files, or compare them with what is on disk (``--check``).

Shared by the ``scripts/gen_*_vectors.py`` generators, which import it as a sibling module.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping, Set
from pathlib import Path


def sync(
    out_dir: Path,
    wanted: Mapping[str, bytes],
    present: Set[str],
    *,
    check: bool,
    prune_empty_folders: bool = False,
) -> int:
    """With ``check``, print every file that differs and return 1 if any; else remove the stale
    files (and, if asked, the folders left empty), write ``wanted`` and return 0."""
    if check:
        differ = sorted(
            p
            for p in wanted.keys() | present
            if p not in present or (out_dir / p).read_bytes() != wanted.get(p)
        )
        for p in differ:
            print(f"differs: {p}", file=sys.stderr)
        return 1 if differ else 0
    for stale in present - wanted.keys():
        (out_dir / stale).unlink()
    if prune_empty_folders:
        for folder in sorted((p for p in out_dir.rglob("*") if p.is_dir()), reverse=True):
            if not any(folder.iterdir()):
                folder.rmdir()
    for rel, content in wanted.items():
        target = out_dir / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content)
    print(f"wrote {len(wanted)} files to {out_dir}")
    return 0
