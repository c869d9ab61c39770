"""The benchmarks' synthetic election (bench/synthetic.py) made with its ballot stocks in a second
process is the same election: for one seed, the published bundle is byte-identical whether one
process or two made it (issue 15.1, the 10^6 bundle of bench/bench_verify.py made on two cores)."""

from __future__ import annotations

import sys
from pathlib import Path
from types import ModuleType

import pytest

from tally.publish import publish

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def synthetic() -> ModuleType:
    sys.path.insert(0, str(ROOT / "bench"))
    try:
        import synthetic  # noqa: PLC0415
    finally:
        sys.path.remove(str(ROOT / "bench"))
    return synthetic


def _bundle(synthetic: ModuleType, folder: Path, *, workers: int, seed: bytes) -> dict[str, bytes]:
    folder.mkdir()
    session, _, _, entered = synthetic.build(
        folder, runoffs=3, members=30, workers=workers, seed=seed
    )
    assert entered == 30 * 5  # the first round, two runoffs, the last runoff, the secretary
    publish(session, folder / "out", notice=False)
    bundle = folder / "out" / "bundle"
    files = {str(p.relative_to(bundle)): p.read_bytes() for p in bundle.rglob("*") if p.is_file()}
    files["town.pub"] = (folder / "town.pub").read_bytes()
    return files


def test_two_workers_publish_the_same_bytes_as_one_for_one_seed(
    synthetic: ModuleType, tmp_path: Path
) -> None:
    one = _bundle(synthetic, tmp_path / "one", workers=1, seed=b"bench")
    two = _bundle(synthetic, tmp_path / "two", workers=2, seed=b"bench")
    assert "ballots.jsonl" in one
    assert sorted(one) == sorted(two)
    assert [name for name in one if one[name] != two[name]] == []


def test_another_seed_makes_another_bundle(synthetic: ModuleType, tmp_path: Path) -> None:
    one = _bundle(synthetic, tmp_path / "one", workers=2, seed=b"bench")
    other = _bundle(synthetic, tmp_path / "other", workers=2, seed=b"other")
    assert one["ballots.jsonl"] != other["ballots.jsonl"]
    assert one["town.pub"] != other["town.pub"]
