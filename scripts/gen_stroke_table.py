#!/usr/bin/env python3
"""Generate ``tally/strokes/table.txt``, the vendored 姓氏笔画 stroke-order table.

Sources (both read as data, nothing is imported from them):

* **Order** — cn-sort 0.14.0 (MIT, © bmxbmx3), file ``cn_sort/res/all_word.json``, field
  ``stroke_increment_level``: a rank for 20,897 CJK characters, sorted by stroke count, then
  by stroke sequence 横竖撇点折 (GB/T 13418 practice). cn-sort is never imported: its import
  rewrites the process's logging configuration. Get the archive with::

      .venv/bin/pip download --no-deps -d /tmp/cnsort cn-sort==0.14.0

  (the wheel, the sdist ``.tar.gz`` or an extracted ``all_word.json`` are all accepted).

* **Counts** — cn-sort has only the rank, not the count. The rank sequence is cut into
  stroke-count groups (non-decreasing along the rank) so that as many characters as possible
  agree with Unihan ``kTotalStrokes`` (first value) from Debian ``unicode-data``
  (``/usr/share/unicode/Unihan_IRGSources.txt.bz2``). Characters that cn-sort places in a
  group whose count differs from Unihan's keep cn-sort's (wrong-looking) count here, and the
  unit test ``test_every_count_agrees_with_unihan`` fails until ``overrides.txt`` fixes or
  withdraws each of them. That is how the 达 bug (cn-sort: 5 strokes, really 6) is caught.

Output: one line per character, ``字<TAB>count<TAB>rank-within-count``, sorted by count and
rank, after a comment header with provenance. Usage::

    python scripts/gen_stroke_table.py /tmp/cnsort/cn_sort-0.14.0-py3-none-any.whl
    python scripts/gen_stroke_table.py ARCHIVE --check      # exit 1 if the committed table differs
"""

from __future__ import annotations

import argparse
import bz2
import hashlib
import json
import sys
import tarfile
import unicodedata
import zipfile
from collections.abc import Mapping, Sequence
from pathlib import Path

__all__ = [
    "DEFAULT_UNIHAN",
    "cut_into_counts",
    "read_all_word_json",
    "read_unihan_total_strokes",
    "render_table",
]

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUTPUT = REPO_ROOT / "tally" / "strokes" / "table.txt"
DEFAULT_UNIHAN = Path("/usr/share/unicode/Unihan_IRGSources.txt.bz2")
_MEMBER = "cn_sort/res/all_word.json"

_MIT_NOTICE = """\
cn-sort — MIT License — Copyright (c) bmxbmx3
Permission is hereby granted, free of charge, to any person obtaining a copy of this software
and associated documentation files (the "Software"), to deal in the Software without
restriction, including without limitation the rights to use, copy, modify, merge, publish,
distribute, sublicense, and/or sell copies of the Software, and to permit persons to whom the
Software is furnished to do so, subject to the following conditions:
The above copyright notice and this permission notice shall be included in all copies or
substantial portions of the Software.
THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR IMPLIED, INCLUDING
BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY, FITNESS FOR A PARTICULAR PURPOSE AND
NONINFRINGEMENT. IN NO EVENT SHALL THE AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM,
DAMAGES OR OTHER LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM,
OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE SOFTWARE."""


def read_all_word_json(archive: Path) -> bytes:
    """The bytes of cn-sort's ``all_word.json`` from a wheel, an sdist or the file itself."""
    if zipfile.is_zipfile(archive):
        with zipfile.ZipFile(archive) as zf:
            return zf.read(_MEMBER)
    if tarfile.is_tarfile(archive):
        with tarfile.open(archive) as tf:
            for member in tf.getmembers():
                if member.name.endswith("/" + _MEMBER):
                    handle = tf.extractfile(member)
                    if handle is not None:
                        return handle.read()
        raise SystemExit(f"{archive}: no {_MEMBER} inside")
    return archive.read_bytes()


def _cjk_order(all_word: bytes) -> list[str]:
    """CJK ideographs of cn-sort in its stroke order (ascending ``stroke_increment_level``)."""
    rank: dict[str, int] = {}
    for entry in json.loads(all_word)["all_word"]:
        char, level = entry["chinese"], int(entry["stroke_increment_level"])
        if len(char) != 1 or not unicodedata.name(char, "").startswith("CJK "):
            continue  # ASCII punctuation and letters: not names' characters
        if rank.setdefault(char, level) != level:
            raise SystemExit(f"cn-sort gives {char} two stroke ranks")
    if len(set(rank.values())) != len(rank):
        raise SystemExit("cn-sort gives two characters the same stroke rank")
    return sorted(rank, key=rank.__getitem__)


def read_unihan_total_strokes(path: Path) -> tuple[dict[str, int], str]:
    """``{char: first kTotalStrokes value}`` and the Unicode version stated in the file."""
    opener = bz2.open if path.suffix == ".bz2" else open
    counts: dict[str, int] = {}
    version = "unknown"
    with opener(path, "rt", encoding="utf-8") as fh:
        for line in fh:
            if line.startswith("# Unicode version:"):
                version = line.split(":", 1)[1].strip()
            fields = line.rstrip("\n").split("\t")
            if len(fields) == 3 and fields[1] == "kTotalStrokes":
                counts[chr(int(fields[0][2:], 16))] = int(fields[2].split()[0])
    return counts, version


def cut_into_counts(order: Sequence[str], unihan: Mapping[str, int]) -> list[int]:
    """A non-decreasing count per position of ``order``, agreeing with ``unihan`` the most.

    Dynamic programme over (position, count); ties go to the smaller count, so the cut is
    deterministic. Characters without a Unihan count cost nothing either way.
    """
    top = max(unihan[c] for c in order if c in unihan)
    counts = range(1, top + 1)
    cost = dict.fromkeys(counts, 0)
    back: list[dict[int, int]] = []
    for char in order:
        want = unihan.get(char)
        best, best_k = sys.maxsize, 1
        new_cost: dict[int, int] = {}
        step: dict[int, int] = {}
        for k in counts:
            if cost[k] < best:
                best, best_k = cost[k], k
            new_cost[k] = best + (0 if want is None or want == k else 1)
            step[k] = best_k
        cost = new_cost
        back.append(step)
    k = min(counts, key=lambda c: (cost[c], c))
    result = [0] * len(order)
    for i in range(len(order) - 1, -1, -1):
        result[i] = k
        k = back[i][k]
    return result


def render_table(archive: Path, unihan_path: Path) -> str:
    """The full text of ``table.txt``."""
    all_word = read_all_word_json(archive)
    order = _cjk_order(all_word)
    unihan, version = read_unihan_total_strokes(unihan_path)
    counts = cut_into_counts(order, unihan)
    header = [
        "GENERATED by scripts/gen_stroke_table.py — do not edit; put fixes in overrides.txt.",
        "Format: character<TAB>stroke count<TAB>rank within that count (1 = first).",
        "Order: cn-sort 0.14.0 res/all_word.json, stroke_increment_level (count, then 横竖撇点折);",
        f"  sha256(all_word.json) = {hashlib.sha256(all_word).hexdigest()}",
        "Counts: cn-sort's order cut into count groups agreeing most with Unihan kTotalStrokes",
        f"  (first value), Unicode {version}; disagreements are fixed in overrides.txt.",
        "",
        *_MIT_NOTICE.splitlines(),
    ]
    lines = [f"# {h}".rstrip() for h in header]
    rank = 0
    previous = 0
    for char, count in zip(order, counts, strict=True):
        rank = rank + 1 if count == previous else 1
        previous = count
        lines.append(f"{char}\t{count}\t{rank}")
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("archive", type=Path, help="cn-sort 0.14.0 wheel, sdist or all_word.json")
    parser.add_argument("--unihan", type=Path, default=DEFAULT_UNIHAN)
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
    parser.add_argument("--check", action="store_true", help="compare instead of writing")
    args = parser.parse_args(argv)
    text = render_table(args.archive, args.unihan)
    if args.check:
        same = args.output.read_text(encoding="utf-8") == text
        print(f"{args.output}: {'up to date' if same else 'DIFFERS from a regeneration'}")
        return 0 if same else 1
    args.output.write_text(text, encoding="utf-8")
    print(f"wrote {args.output} ({text.count(chr(10))} lines)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
