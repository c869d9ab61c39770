"""Runs of plain ballot lines replayed at once (``verifier.checks.replay.plain``) give exactly what
the line-by-line replay gives (performance work, issue 15 point 1).

* ``read_blocks``, flattened, yields what ``read_lines`` yields;
* on a valid bundle, runs are taken at once and the report is the line-by-line report;
* for each way a ballot line can break a rule that ``take_run`` checks over a run, the report
  (every clause, every finding) equals the line-by-line report, and names the failure;
* the tree's root at every size, checkpoint cuts falling inside runs, is the line-by-line root
  and the one ``merkle.stream_roots`` computes.
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.unit.verifier import builder as B
from tests.unit.verifier.conftest import TOWN_FP
from verifier.checks import TownKey, verify_bundle
from verifier.checks import run as run_module
from verifier.checks.checkpoints import load_checkpoints
from verifier.checks.replay import core, plain
from verifier.lines import read_blocks, read_lines
from verifier.merkle import stream_roots
from verifier.report import Report

Files = dict[str, bytes]


@settings(max_examples=500, deadline=None)
@given(
    st.lists(st.sampled_from([b"a", b"bc", b"\n", b"defgh", b"a\n"]), max_size=30).map(b"".join),
    st.integers(min_value=1, max_value=9),
    st.integers(min_value=1, max_value=12),
)
def test_read_blocks_flattened_equals_read_lines(data: bytes, limit: int, block: int) -> None:
    want = list(read_lines(io.BytesIO(data), limit, block))
    got = []
    for first, lines, problem in read_blocks(io.BytesIO(data), limit, block):
        assert lines, "an empty run"
        assert not problem or len(lines) == 1
        got += [(first + i, line, problem) for i, line in enumerate(lines)]
    assert got == want


def _verify(files: Files, tmp_path: Path, *, runs: bool, name: str) -> Report:
    """The report, with the bundle's path left out (each run writes its own folder); without
    ``runs``, ``take_run`` declines every run, so every line is replayed on its own."""
    path = B.write_folder(files, tmp_path / f"{name}-{runs}")
    with pytest.MonkeyPatch.context() as mp:
        if not runs:
            mp.setattr(core, "take_run", lambda *a, **k: None)
        return dataclasses.replace(
            verify_bundle(path, TownKey(fingerprint=TOWN_FP), jobs=1), bundle=""
        )


def test_a_valid_bundle_is_replayed_in_runs_with_the_same_report(
    good_files: Files, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    taken: list[int] = []
    original = plain.take_run

    def spy(*a: Any, **k: Any) -> Any:
        out = original(*a, **k)
        if out is not None:
            taken.append(len(a[2]))
        return out

    monkeypatch.setattr(core, "take_run", spy)
    report = _verify(good_files, tmp_path, runs=True, name="good")
    assert report.ok, report.failed()
    assert sum(taken) >= 20, taken  # nearly all of the 25 ballots go by runs
    assert report == _verify(good_files, tmp_path, runs=False, name="good")


def _ballot_indices(entries: list[dict[str, Any]]) -> list[int]:
    return [i for i, e in enumerate(entries) if e["type"] == "ballot.entered"]


def _nth_ballot(entries: list[dict[str, Any]], n: int) -> dict[str, Any]:
    return entries[_ballot_indices(entries)[n]]


def _seq_gap(es: list[dict[str, Any]]) -> bool:
    _nth_ballot(es, 2)["seq"] += 1
    return True


def _at_backwards(es: list[dict[str, Any]]) -> bool:
    _nth_ballot(es, 2)["at"] = "2000-01-01T00:00:00Z"
    return True


def _at_not_a_date(es: list[dict[str, Any]]) -> bool:
    e = _nth_ballot(es, 2)
    e["at"] = re.sub(r"^(\d{4})-\d\d-\d\d", r"\1-02-30", e["at"])
    return True


def _marks(value: str) -> Callable[[list[dict[str, Any]]], bool]:
    def mutate(es: list[dict[str, Any]]) -> bool:
        _nth_ballot(es, 1)["body"]["marks"] = value
        return True

    return mutate


def _qr(change: Callable[[str], str]) -> Callable[[list[dict[str, Any]]], bool]:
    def mutate(es: list[dict[str, Any]]) -> bool:
        body = _nth_ballot(es, 1)["body"]
        body["qr"] = change(body["qr"])
        return True

    return mutate


def _duplicate_id(es: list[dict[str, Any]]) -> bool:
    _nth_ballot(es, 2)["body"]["ballot_id"] = _nth_ballot(es, 1)["body"]["ballot_id"]
    return True


def _id_not_in_stock(es: list[dict[str, Any]]) -> bool:
    _nth_ballot(es, 1)["body"]["ballot_id"] = "ab" * 16
    return True


def _other_round(es: list[dict[str, Any]]) -> bool:
    _nth_ballot(es, 1)["body"]["round"] += 1
    return True


def _other_post(es: list[dict[str, Any]]) -> bool:
    _nth_ballot(es, 1)["body"]["post"] = "secretary"
    return True


def _chain_broken(es: list[dict[str, Any]]) -> bool:
    _nth_ballot(es, 2)["prev"] = "0" * 64
    return False  # not rechained: the link stays broken


CASES: list[tuple[str, Callable[[list[dict[str, Any]]], bool], str]] = [
    ("seq-gap", _seq_gap, "V6"),
    ("chain-broken", _chain_broken, "V6"),
    ("at-backwards", _at_backwards, "V6"),
    ("at-not-a-date", _at_not_a_date, "V6"),
    ("marks-too-few", _marks("oo"), "V9"),
    ("marks-bad-symbol", _marks("oooz"), "V9"),
    ("qr-lower-case", _qr(str.lower), "V9"),
    ("qr-leading-space", _qr(lambda q: " " + q), "V9"),
    ("qr-inner-space", _qr(lambda q: q[:10] + " " + q[11:]), "V9"),
    ("duplicate-id", _duplicate_id, "V9"),
    ("id-not-in-stock", _id_not_in_stock, "V9"),
    ("ballot-of-another-round", _other_round, "V11"),
    ("ballot-of-another-post", _other_post, "V11"),
]


@pytest.mark.parametrize(("name", "mutate", "clause"), CASES, ids=[c[0] for c in CASES])
def test_a_broken_ballot_line_gives_the_line_by_line_report(
    good_files: Files,
    tmp_path: Path,
    name: str,
    mutate: Callable[[list[dict[str, Any]]], bool],
    clause: str,
) -> None:
    entries = B.log_entries(good_files)
    rechain = mutate(entries)
    files = B.set_log(good_files, entries, rechain=rechain)
    files = {**files, "index.json": B.index(files)}
    fast = _verify(files, tmp_path, runs=True, name=name)
    slow = _verify(files, tmp_path, runs=False, name=name)
    assert clause in fast.failed(), fast.failed()
    assert fast == slow


def _roots(files: Files, tmp_path: Path, *, runs: bool, monkeypatch: pytest.MonkeyPatch) -> Any:
    """The replay's roots with a checkpoint at every size of the log."""
    seen: dict[str, Any] = {}

    def every_size(cx: Any) -> None:
        load_checkpoints(cx)
        cx.checkpoint_sizes.update(range(1, files["log.jsonl"].count(b"\n") + 1))
        seen["cx"] = cx

    monkeypatch.setattr(run_module, "load_checkpoints", every_size)
    _verify(files, tmp_path, runs=runs, name="roots")
    monkeypatch.undo()
    return seen["cx"].roots


def test_roots_at_every_size_are_the_line_by_line_roots(
    good_files: Files, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    lines = good_files["log.jsonl"].splitlines()
    leaves = [hashlib.sha256(b"\x00" + x).digest() for x in lines]
    want = dict(stream_roots(leaves, range(1, len(lines) + 1)).checkpoints)
    assert _roots(good_files, tmp_path, runs=True, monkeypatch=monkeypatch) == want
    assert _roots(good_files, tmp_path, runs=False, monkeypatch=monkeypatch) == want
