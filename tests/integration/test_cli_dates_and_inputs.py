"""Every command that takes a date refuses a bad one the same way (``cli.date``, naming the option
and the value), and every command that reads an input file refuses a bad one the same way (one
code per failure, the same message whichever command read it). The commands here refuse before
they open anything else, so no election or procedure file is needed."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tally.cli import app
from tests.helpers.cli_election import ENV

FP = "03141 59265 35897 93238 46264"  # a town key given as its fingerprint: no file is read


def _refusal(args: list[str], lang: str = "zh") -> dict[str, str]:
    r = CliRunner(env=ENV).invoke(app, [*args, "--json", "--lang", lang])
    assert r.exit_code == 1, r.output
    body: dict[str, str] = json.loads(r.stdout)
    return body


# -- dates ------------------------------------------------------------------------------------------
DATED: dict[str, Callable[[Path, str], list[str]]] = {
    "casework-list": lambda t, v: ["casework", "list", str(t / "town.casework"), "--on", v],
    "casework-summary": lambda t, v: [
        *("casework", "summary", str(t / "bundle"), "--town-key", str(t / "town.pub")),
        *("--on", v),
    ],
    "town-report": lambda t, v: [
        *("town-report", str(t / "B01"), "--town-key", str(t / "town.pub")),
        *("--casework", str(t / "casework"), "--on", v),
    ],
    "procedure-appoint": lambda t, v: [
        *("procedure", "appoint", str(t / "p.sqlite"), "--casework", str(t / "town.casework")),
        *("--casework-key", str(t / "cw.key"), "--reference", "红组〔2027〕1号"),
        *("--town-key", str(t / "town.key"), "--key", str(t / "wg.key"), "--date", v),
    ],
}
OPTION = {
    "casework-list": "--on",
    "casework-summary": "--on",
    "town-report": "--on",
    "procedure-appoint": "--date",
}


@pytest.mark.parametrize(
    "value",
    ["2026-2-3", "2026-02-30", "20260203", "2026-02-03T09:00", " 2026-02-03", "２０２６-０２-０３"],
    ids=["unpadded", "no-such-day", "basic-form", "with-time", "leading-space", "full-width"],
)
@pytest.mark.parametrize("command", list(DATED))
def test_every_dated_command_refuses_a_bad_date_as_cli_date(
    command: str, value: str, tmp_path: Path
) -> None:
    body = _refusal(DATED[command](tmp_path, value))
    assert body["code"] == "cli.date"
    assert OPTION[command] in body["message"]
    assert json.dumps(value, ensure_ascii=False) in body["message"]
    assert "YYYY-MM-DD" in body["message"]


def test_the_date_refusal_is_the_same_words_in_every_command(tmp_path: Path) -> None:
    for lang in ("zh", "en"):
        messages = {
            _refusal(make(tmp_path, "2026-02-30"), lang)["message"].replace(OPTION[c], "OPT")
            for c, make in DATED.items()
        }
        assert len(messages) == 1, messages


# -- input files ------------------------------------------------------------------------------------
READERS: dict[str, Callable[[Path, Path], list[str]]] = {
    "check": lambda _, f: ["check", str(f)],
    "simulate": lambda t, f: ["simulate", str(f), "--ballots", str(t / "marks.toml")],
    "procedure-new": lambda t, f: [
        *("procedure", "new", str(f), "--work-group-pub", str(t / "wg.pub")),
        *("--scrutineer-pub", str(t / "s.pub"), "--out", str(t / "p.json")),
    ],
    "procedure-check": lambda _, f: ["procedure", "check", str(f)],
    "procedure-open": lambda t, f: [
        *("procedure", "open", str(t / "p.sqlite"), "--procedure", str(f)),
        *("--town-key", FP, "--key", str(t / "wg.key")),
    ],
    "procedure-record": lambda t, f: [
        *("procedure", "record", str(t / "p.sqlite"), str(f), "--key", str(t / "wg.key")),
    ],
    "procedure-bind": lambda t, f: [
        *("procedure", "bind", str(t / "p.sqlite"), str(f), "--key", str(t / "wg.key")),
    ],
    "casework-new": lambda t, f: [
        *("casework", "new", str(f), "--town-key", str(t / "town.key")),
        *("--casework-key", str(t / "cw.key"), "--out", str(t / "town.casework")),
    ],
}


def _bad_input(kind: str, tmp_path: Path) -> Path:
    if kind == "missing":
        return tmp_path / "无此文件"
    if kind == "folder":
        (tmp_path / "folder").mkdir()
        return tmp_path / "folder"
    if kind == "fifo":
        os.mkfifo(tmp_path / "pipe")  # no writer: reading it would block the test
        return tmp_path / "pipe"
    if kind == "dev-zero":
        return Path("/dev/zero")  # endless: reading it would fill memory
    big = tmp_path / "big"
    with big.open("wb") as fh:  # sparse, 17 MiB: over every command's limit
        fh.truncate(17 * 1024 * 1024)
    return big


CODES = {
    "missing": "input.missing",
    "folder": "input.not_file",
    "fifo": "input.not_file",
    "dev-zero": "input.not_file",
    "oversized": "input.too_large",
}


@pytest.mark.parametrize("kind", list(CODES))
def test_every_reader_gives_one_code_per_failure(kind: str, tmp_path: Path) -> None:
    bad = _bad_input(kind, tmp_path)
    for command, make in READERS.items():
        body = _refusal(make(tmp_path, bad))
        assert body["code"] == CODES[kind], (command, body)
        assert str(bad) in body["message"], (command, body)


def test_the_same_failure_reads_the_same_in_every_command(
    tmp_path: Path,
) -> None:
    bad = _bad_input("fifo", tmp_path)
    for lang in ("zh", "en"):
        seen = {_refusal(make(tmp_path, bad), lang)["message"] for make in READERS.values()}
        assert len(seen) == 1, seen


def test_a_definition_that_is_not_utf8_is_input_encoding(tmp_path: Path) -> None:
    gbk = tmp_path / "definition.toml"
    gbk.write_bytes('town = "红旗镇"\n'.encode("gbk"))
    for command in ("check", "procedure-new", "casework-new"):
        assert _refusal(READERS[command](tmp_path, gbk))["code"] == "input.encoding", command
