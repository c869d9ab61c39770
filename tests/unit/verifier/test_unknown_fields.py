"""A12.12: an unknown member in any file of the bundle is refused by the clause that reads it."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any

import pytest

from tests.unit.verifier import builder as B
from verifier.report import Report

Files = dict[str, bytes]
Runner = Callable[..., Report]


def _edit(name: str, fn: Callable[[Any], None]) -> Callable[[Files], Files]:
    def mutate(f: Files) -> Files:
        doc = json.loads(f[name])
        fn(doc)
        return {**f, name: B.jcs(doc)}

    return mutate


def _note(d: dict[str, Any]) -> None:
    d["note"] = "x"


def _log_member(f: Files) -> Files:
    entries = B.log_entries(f)
    entries[3]["note"] = "x"
    return B.set_log(f, entries, rechain=True)


def _log_body_member(f: Files) -> Files:
    entries = B.log_entries(f)
    entries[3]["body"]["note"] = "x"
    return B.set_log(f, entries, rechain=True)


def _record_member(f: Files) -> Files:
    lines = f["ballots.jsonl"].splitlines()
    rec = json.loads(lines[0])
    rec["note"] = "x"
    lines[0] = B.jcs(rec)
    return {**f, "ballots.jsonl": b"".join(x + b"\n" for x in lines)}


CASES: list[tuple[str, Callable[[Files], Files], str]] = [
    ("signed-manifest", _edit("manifest.json", _note), "V2"),
    ("checkpoints", _edit("checkpoints.json", _note), "V7"),
    ("checkpoint-item", _edit("checkpoints.json", lambda d: _note(d["checkpoints"][0])), "V7"),
    ("stock", _edit("stocks/committee-2.json", _note), "V8"),
    ("log-entry", _log_member, "V6"),
    ("log-body", _log_body_member, "V6"),
    ("ballot-record", _record_member, "V9"),
    ("outcomes", _edit("outcomes.json", _note), "V15"),
    ("result", _edit("result.json", _note), "V15"),
    ("result-calendar", _edit("result.json", lambda d: _note(d["calendar"])), "V17"),
]


@pytest.mark.parametrize(("name", "mutate", "clause"), CASES, ids=[c[0] for c in CASES])
def test_an_unknown_member_in_a_bundle_file_is_refused_A12_12(
    good_files: Files, run: Runner, name: str, mutate: Callable[[Files], Files], clause: str
) -> None:
    report = run(mutate(copy.deepcopy(good_files)))
    assert clause in report.failed(), (name, report.failed())


def test_an_unknown_member_in_the_signed_definition_is_refused_V3_A12_12(run: Runner) -> None:
    d = B.definition()
    d["members"][0]["nickname"] = "x"
    report = run(B.build(B.script(), man=B.manifest(d)))
    assert "V3" in report.failed()


@pytest.mark.parametrize("where", ["top", "file-item"])
def test_an_unknown_member_in_the_index_is_refused_V1_A12_12(
    good_files: Files, run: Runner, where: str
) -> None:
    doc = json.loads(B.index(good_files))
    _note(doc if where == "top" else doc["files"][0])
    report = run({**good_files, "index.json": B.jcs(doc)}, rehash=False)
    assert "V1" in report.failed()
