"""The vendored table against Unihan kTotalStrokes and against a regeneration from cn-sort.

Both checks need files from outside the repository and skip, saying why, when they are absent:
Debian ``unicode-data`` (installed by the Makefile, so CI runs the cross-check) and the cn-sort
0.14.0 archive (``pip download --no-deps -d /tmp/cnsort cn-sort==0.14.0``, or set
``CN_SORT_ARCHIVE``).
"""

from __future__ import annotations

import bz2
import importlib.resources
import importlib.util
import os
from pathlib import Path
from types import ModuleType

import pytest

from tally.strokes import StrokeTable, default_table

REPO = Path(__file__).resolve().parents[3]
UNICODE_DIR = Path("/usr/share/unicode")
UNIHAN_CANDIDATES = [
    "Unihan_IRGSources.txt",
    "Unihan_IRGSources.txt.bz2",
    "Unihan_DictionaryLikeData.txt",
    "Unihan_DictionaryLikeData.txt.bz2",
]


def _unihan_file() -> Path | None:
    """The first file of Debian unicode-data that holds kTotalStrokes."""
    for name in UNIHAN_CANDIDATES:
        path = UNICODE_DIR / name
        if path.exists() and "kTotalStrokes" in _read_text(path):
            return path
    return None


def _read_text(path: Path) -> str:
    if path.suffix == ".bz2":
        return bz2.decompress(path.read_bytes()).decode("utf-8")
    return path.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def unihan_path() -> Path:
    path = _unihan_file()
    if path is None:
        pytest.skip(
            f"no Unihan file with kTotalStrokes under {UNICODE_DIR}: "
            "install Debian unicode-data (apt-get install unicode-data) to run the cross-check"
        )
    return path


@pytest.fixture(scope="module")
def unihan_counts(unihan_path: Path) -> dict[str, int]:
    """kTotalStrokes per character; where two values are given, the first (zh-Hans) one."""
    counts: dict[str, int] = {}
    for line in _read_text(unihan_path).splitlines():
        fields = line.split("\t")
        if len(fields) == 3 and fields[1] == "kTotalStrokes":
            counts[chr(int(fields[0].removeprefix("U+"), 16))] = int(fields[2].split()[0])
    return counts


def _disagreements(table: StrokeTable, unihan: dict[str, int]) -> dict[str, tuple[int, int]]:
    return {
        char: (key[0], unihan.get(char, 0))
        for char, key in table.keys.items()
        if unihan.get(char) != key[0]
    }


def _packaged(name: str) -> str:
    return importlib.resources.files("tally.strokes").joinpath(name).read_text(encoding="utf-8")


def test_every_count_agrees_with_unihan(unihan_counts: dict[str, int]) -> None:
    table = default_table()
    assert len(table.keys) > 20_000
    assert _disagreements(table, unihan_counts) == {}


def test_every_raw_disagreement_with_unihan_is_named_in_the_overrides(
    unihan_counts: dict[str, int],
) -> None:
    raw = StrokeTable.parse(_packaged("table.txt"))
    overridden = {
        line.split()[0]
        for line in _packaged("overrides.txt").splitlines()
        if line.strip() and not line.startswith("#")
    }
    found = _disagreements(raw, unihan_counts)
    assert found["达"] == (5, 6)  # the check is live: it catches cn-sort's 达 bug
    assert set(found) <= overridden


def _cn_sort_archive() -> Path | None:
    if env := os.environ.get("CN_SORT_ARCHIVE"):
        return Path(env)
    found = sorted(Path("/tmp/cnsort").glob("cn_sort-0.14.0*"))
    return found[0] if found else None


def _generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "gen_stroke_table", REPO / "scripts" / "gen_stroke_table.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_committed_table_equals_a_regeneration(unihan_path: Path) -> None:
    archive = _cn_sort_archive()
    if archive is None or not archive.exists():
        pytest.skip(
            "cn-sort 0.14.0 archive not found: run `.venv/bin/pip download --no-deps "
            "-d /tmp/cnsort cn-sort==0.14.0` or set CN_SORT_ARCHIVE to its path"
        )
    assert _generator().render_table(archive, unihan_path) == _packaged("table.txt")
