"""V7, held checkpoints: the bundle's log must be the history signed and published at the time.

A fork signed with every key but the town's is self-consistent (test_tamper_catalogue.py); what
catches it is a checkpoint kept from before — the board's list saved on polling day or a remote
voter's receipt — given with ``verify --checkpoint``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from tests.unit.verifier import builder as B
from tests.unit.verifier.conftest import TOWN_FP
from tests.unit.verifier.test_tamper_catalogue import fork_runoff
from verifier.checks import TownKey, verify_bundle
from verifier.checks.held import HeldCheckpoint, HeldFileError, read_held
from verifier.cli import app
from verifier.report import Report

Files = dict[str, bytes]


def _texts(files: Files) -> list[str]:
    return [c["text"] for c in json.loads(files["checkpoints.json"])["checkpoints"]]


def _board(files: Files) -> dict[str, Any]:
    """What ``/api/board/checkpoints`` serves (the town committee saves it on polling day)."""
    cps = json.loads(files["checkpoints.json"])["checkpoints"]
    return {"checkpoints": [{"size": 0, "reason": "", "text": c["text"]} for c in cps]}


def _verify(files: Files, tmp_path: Path, *held: HeldCheckpoint) -> Report:
    bundle = B.write_folder(files, tmp_path / "bundle")
    return verify_bundle(bundle, TownKey(fingerprint=TOWN_FP), jobs=1, held=held)


def _codes(report: Report) -> set[tuple[str, str]]:
    return {(f.clause, f.code) for c in report.clauses for f in c.findings}


@pytest.fixture(scope="module")
def fork() -> Files:
    """Another history of the same election (M04 wins the runoff), signed with the work group's
    and the scrutineer's keys: a valid bundle of its own."""
    return B.build(fork_runoff(B.script()))


def test_the_bundles_own_checkpoints_held_outside_pass(good_files: Files, tmp_path: Path) -> None:
    held = tuple(HeldCheckpoint(f"cp{i}", t) for i, t in enumerate(_texts(good_files)))
    report = _verify(good_files, tmp_path, *held)
    assert report.ok, report.failed()
    assert report.held_checkpoints == len(held)


def test_a_fork_signed_with_every_key_but_the_towns_fails_V7_against_a_held_checkpoint(
    good_files: Files, fork: Files, tmp_path: Path
) -> None:
    assert _verify(fork, tmp_path / "alone").ok  # the bundle alone cannot show it
    # The last checkpoint the board published before the count (the same size in both).
    original, forked = _texts(good_files), _texts(fork)
    diverged = next(i for i, (a, b) in enumerate(zip(original, forked, strict=True)) if a != b)
    held = HeldCheckpoint("board.json [x]", original[diverged])
    report = _verify(fork, tmp_path / "held", held)
    assert set(report.failed()) == {"V7"}
    assert _codes(report) == {("V7", "checkpoint.held_fork")}


def test_a_bundle_missing_entries_once_signed_fails_V7_held_beyond_log(
    good_files: Files, tmp_path: Path
) -> None:
    """A checkpoint bigger than any the bundle's log reaches (here: the true result checkpoint,
    given to a bundle cut before it)."""
    last = _texts(good_files)[-1]
    body, _, sigs = last.partition("\n\n")
    origin, size, root, reason = body.split("\n")
    bigger = "\n".join([origin, str(int(size) + 5), root, reason]) + "\n\n" + sigs
    report = _verify(good_files, tmp_path, HeldCheckpoint("receipt.json", bigger))
    # the signature no longer matches the edited body, and the size is beyond the log
    assert ("V7", "checkpoint.held_beyond_log") in _codes(report)
    assert ("V7", "checkpoint.signature") in _codes(report)


def test_a_held_checkpoint_of_another_election_or_unparsable_fails_V7(
    good_files: Files, fork: Files, tmp_path: Path
) -> None:
    text = _texts(good_files)[0].replace("branch-election/", "branch-election/0", 1)
    report = _verify(
        good_files,
        tmp_path,
        HeldCheckpoint("a", text),
        HeldCheckpoint("b", "branch-election/x\nnot a checkpoint"),
    )
    assert _codes(report) == {("V7", "checkpoint.held_origin"), ("V7", "checkpoint.held_format")}


def test_a_held_checkpoint_signed_by_another_key_fails_V7(
    good_files: Files, tmp_path: Path
) -> None:
    text = _texts(good_files)[0]
    body = text.partition("\n\n")[0] + "\n"
    forged = B.sign_checkpoint(body, [B.OTHER_WG])  # a work-group key outside the manifest
    report = _verify(good_files, tmp_path, HeldCheckpoint("x", forged))
    assert "V7" in report.failed()
    assert ("V7", "checkpoint.unknown_signer") in _codes(report)


# ------------------------------------------------------------------ the three file forms, the CLI


def test_read_held_takes_a_note_the_boards_list_and_a_receipts_proof(
    good_files: Files, tmp_path: Path
) -> None:
    texts = _texts(good_files)
    note = tmp_path / "note.txt"
    note.write_text(texts[0], encoding="utf-8")
    board = tmp_path / "board.json"
    board.write_text(json.dumps(_board(good_files)), encoding="utf-8")
    receipt = tmp_path / "receipt.json"
    receipt.write_text(json.dumps({"seq": 3, "checkpoint": texts[-1]}), encoding="utf-8")
    assert [h.text for h in read_held(note)] == texts[:1]
    assert [h.text for h in read_held(board)] == texts
    assert [h.label for h in read_held(board)][1] == f"{board} [1]"
    assert [h.text for h in read_held(receipt)] == texts[-1:]


@pytest.mark.parametrize(
    "content",
    [b"\xff\xfe", b"{}", b'{"checkpoints": [1]}', b'{"checkpoint": ""}', b"[", b"hello"],
)
def test_a_checkpoint_file_with_no_checkpoint_is_refused(content: bytes, tmp_path: Path) -> None:
    path = tmp_path / "cp"
    path.write_bytes(content)
    with pytest.raises(HeldFileError) as e:
        read_held(path)
    assert (e.value.clause, e.value.code) == ("V7", "checkpoint.held_file")


def test_a_checkpoint_file_that_is_a_fifo_is_refused_without_hanging(tmp_path: Path) -> None:
    import os  # noqa: PLC0415

    fifo = tmp_path / "cp"
    os.mkfifo(fifo)
    with pytest.raises(HeldFileError):
        read_held(fifo)


def test_verify_cli_takes_repeated_checkpoint_files_and_exits_1_on_a_fork(
    good_files: Files, fork: Files, tmp_path: Path
) -> None:
    board = tmp_path / "board.json"
    board.write_text(json.dumps(_board(good_files)), encoding="utf-8")
    note = tmp_path / "note.txt"
    note.write_text(_texts(good_files)[0], encoding="utf-8")
    good = B.write_folder(good_files, tmp_path / "good")
    forked = B.write_folder(fork, tmp_path / "fork")
    args = ["--town-key", TOWN_FP, "--jobs", "1", "--checkpoint", str(board)]
    ok = CliRunner().invoke(app, ["verify", str(good), *args, "--checkpoint", str(note)])
    assert ok.exit_code == 0, ok.stdout
    assert f"核对 {len(_texts(good_files)) + 1} 个" in ok.stdout
    bad = CliRunner().invoke(app, ["verify", str(forked), *args, "--json"])
    assert bad.exit_code == 1
    doc = json.loads(bad.stdout)
    v7 = next(c for c in doc["clauses"] if c["clause"] == "V7")
    assert {f["code"] for f in v7["findings"]} == {"checkpoint.held_fork"}


def test_verify_cli_exits_2_with_one_line_on_an_unreadable_checkpoint_file(
    good_files: Files, tmp_path: Path
) -> None:
    good = B.write_folder(good_files, tmp_path / "good")
    r = CliRunner().invoke(
        app,
        ["verify", str(good), "--town-key", TOWN_FP, "--checkpoint", str(tmp_path / "missing")],
    )
    assert r.exit_code == 2
    assert "外部检查点文件" in r.stderr
