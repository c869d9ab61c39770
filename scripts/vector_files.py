"""Write a generator's vector files, or compare them with what is on disk (``--check``).

Shared by the ``scripts/gen_*_vectors.py`` generators, which import it as a sibling module.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Collection, Mapping, Set
from pathlib import Path


def present_files(out_dir: Path, pattern: str = "*", exclude: Collection[str] = ()) -> set[str]:
    """The files under ``out_dir`` matching ``pattern`` (paths relative to it), but for the names
    in ``exclude`` (a hand-written README the generator does not own)."""
    if not out_dir.exists():
        return set()
    return {
        str(p.relative_to(out_dir))
        for p in out_dir.rglob(pattern)
        if p.is_file() and p.name not in exclude
    }


def run(
    out_dir: Path,
    build: Callable[[], Mapping[str, bytes]],
    argv: list[str] | None,
    *,
    description: str,
    pattern: str = "*",
    exclude: Collection[str] = (),
    prune_empty_folders: bool = False,
) -> int:
    """A generator's command line: ``--check`` compares, otherwise the files are written."""
    parser = argparse.ArgumentParser(description=description.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare, do not write")
    args = parser.parse_args(argv)
    return sync(
        out_dir,
        build(),
        present_files(out_dir, pattern, exclude),
        check=args.check,
        prune_empty_folders=prune_empty_folders,
    )


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
