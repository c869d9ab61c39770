"""The 10^6 bundle of bench/bench_verify.py is cached by a hash of its inputs (issue 15.1): a
bundle made by other producer code is never used, and one made by the same code always is."""

from __future__ import annotations

import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def bench(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    """bench_verify with its ROOT and cache moved to a small fake checkout under tmp_path."""
    sys.path.insert(0, str(ROOT / "bench"))
    try:
        import bench_verify  # noqa: PLC0415
    finally:
        sys.path.remove(str(ROOT / "bench"))
    for package in bench_verify.PRODUCER_PACKAGES:
        (tmp_path / package / "core").mkdir(parents=True)
        (tmp_path / package / "__init__.py").write_text("")
        (tmp_path / package / "core" / "model.py").write_text("X = 1\n")
    (tmp_path / "bench").mkdir()
    (tmp_path / "bench" / "synthetic.py").write_text("MEMBERS = 4998\n")
    monkeypatch.setattr(bench_verify, "ROOT", tmp_path)
    monkeypatch.setattr(bench_verify, "CACHE", tmp_path / ".cache" / "bench")
    return bench_verify


def test_cache_key_is_stable_for_the_same_inputs(bench: ModuleType) -> None:
    assert bench.cache_key(bench.cache_inputs(18)) == bench.cache_key(bench.cache_inputs(18))


@pytest.mark.parametrize(
    "change",
    [
        "tally/core/model.py",
        "keys/core/model.py",
        "ballot_printer/__init__.py",
        "bench/synthetic.py",
    ],
)
def test_cache_key_changes_with_any_producer_file(bench: ModuleType, change: str) -> None:
    before = bench.cache_key(bench.cache_inputs(18))
    path = bench.ROOT / change
    path.write_text(path.read_text() + "# edited\n")
    assert bench.cache_key(bench.cache_inputs(18)) != before


def test_cache_key_changes_with_a_new_data_file_and_the_parameters(
    bench: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = bench.cache_key(bench.cache_inputs(18))
    assert bench.cache_key(bench.cache_inputs(19)) != before
    monkeypatch.setenv("BENCH_MEMBERS", "999")
    assert bench.cache_key(bench.cache_inputs(18)) != before
    monkeypatch.delenv("BENCH_MEMBERS")
    (bench.ROOT / "tally" / "calendar.json").write_text("{}")
    assert bench.cache_key(bench.cache_inputs(18)) != before


def test_generate_uses_the_bundle_cached_under_its_key_and_no_other(bench: ModuleType) -> None:
    fresh = bench.bundle_path(18)
    fresh.mkdir(parents=True)
    (fresh / "DONE").write_text("1\n")
    assert bench.generate(18) == fresh  # no generation: the producer is not even imported
    (bench.ROOT / "tally" / "core" / "model.py").write_text("X = 2\n")
    assert bench.bundle_path(18) != fresh  # the same folder is now stale: another key


def test_prune_removes_only_other_keys_of_the_same_size(bench: ModuleType) -> None:
    cache = bench.CACHE
    keep, stale, other, legacy = (
        cache / "verify-18-0123456789abcdef",
        cache / "verify-18-fedcba9876543210",
        cache / "verify-198-fedcba9876543210",
        cache / "verify-18-salted",
    )
    for d in (keep, stale, other, legacy):
        d.mkdir(parents=True)
    bench._prune(18, keep=keep)
    assert sorted(p.name for p in cache.iterdir()) == sorted([keep.name, other.name, legacy.name])


@pytest.mark.parametrize(("cached", "says"), [(True, "found in the cache"), (False, "cold")])
def test_the_document_says_whether_the_bundle_was_made_or_found(cached: bool, says: str) -> None:
    from tests.integration.test_performance_doc import _sample_figures  # noqa: PLC0415

    sys.path.insert(0, str(ROOT / "bench"))
    try:
        import run_all  # noqa: PLC0415
    finally:
        sys.path.remove(str(ROOT / "bench"))
    figures = _sample_figures()
    figures["verify"] = {**figures["verify"], "bundle_cached": cached, "generate_s": 412.0}  # type: ignore[dict-item]
    text = run_all.render(figures, {"verify": 300.0}, 540.0)
    assert says in text.split("## Verifier at 1,000,000 ballot records")[1].split("##")[0]


def test_the_remote_v2_bundles_key_follows_the_producer_its_generator_and_the_shape(
    bench: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    """bench_verify_remote.py caches its bundles as bench_verify.py does, with its own generator
    (bench/remote_v2_election.py) and the number of elections and of voters among the inputs."""
    sys.path.insert(0, str(ROOT / "bench"))
    try:
        import bench_verify_remote  # noqa: PLC0415
    finally:
        sys.path.remove(str(ROOT / "bench"))
    monkeypatch.setattr(bench_verify_remote, "ROOT", bench.ROOT)
    gen = bench.ROOT / "bench" / "remote_v2_election.py"
    gen.write_text("VOTERS = 48\n")
    key = bench_verify_remote._key
    before = key(bench_verify_remote.cache_inputs(1000, 10))
    assert key(bench_verify_remote.cache_inputs(1000, 10)) == before
    assert key(bench_verify_remote.cache_inputs(1000, 11)) != before
    assert key(bench_verify_remote.cache_inputs(999, 10)) != before
    gen.write_text("VOTERS = 48  # edited\n")
    assert key(bench_verify_remote.cache_inputs(1000, 10)) != before
    gen.write_text("VOTERS = 48\n")
    model = bench.ROOT / "tally" / "core" / "model.py"
    model.write_text(model.read_text() + "# edited\n")
    assert key(bench_verify_remote.cache_inputs(1000, 10)) != before


def test_the_remote_v2_bundles_are_cached_under_bench_cache(
    bench: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A folder of bundles marked DONE under its key is used as it is: nothing is made again."""
    sys.path.insert(0, str(ROOT / "bench"))
    try:
        import bench_verify_remote  # noqa: PLC0415
    finally:
        sys.path.remove(str(ROOT / "bench"))
    monkeypatch.setattr(bench_verify_remote, "ROOT", bench.ROOT)
    monkeypatch.setattr(bench_verify_remote, "CACHE", bench.CACHE)
    (bench.ROOT / "bench" / "remote_v2_election.py").write_text("VOTERS = 48\n")
    fresh = bench_verify_remote.cache_path(3, 10)
    fresh.mkdir(parents=True)
    (fresh / "DONE").write_text("3\n")
    assert bench_verify_remote.generate(3, 10, 1) == (fresh, True)
