"""Every file a ``tally`` command reads from a path it was given goes through the bounded reader
(ADR 0065): a FIFO, ``/dev/zero``, a folder, a missing file and a file over the command's limit
are each refused with their own ``input.*`` code before anything is written; a key or public key
file, ``--town-key`` (a file, or a fingerprint), a holiday file, a definition, a manifest, an
amended list, an entry batch, the newest audit record and the key files of ``tally serve``.

The commands run against one real election (tests/helpers/cli_election.py); before and after
each refusal the election's folder and the output folder hold the same bytes.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import os
import sqlite3
from collections.abc import Callable
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

import pytest
from typer.testing import CliRunner

import tally.service.transport
from tally.cli import app
from tests.helpers.cli_election import ENV, QINGSHAN, Election

SERVE = importlib.import_module("tally.cli_day.serve")  # tally.cli_day.serve is also a function
OVERSIZED = 65 * 1024 * 1024  # sparse: over every limit (the largest, an audit record, is 64 MiB)


@pytest.fixture(scope="module")
def election(tmp_path_factory: pytest.TempPathFactory) -> Election:
    return Election(tmp_path_factory.mktemp("election"), QINGSHAN)


def _place(kind: str, path: Path) -> None:
    """Make the hostile input ``kind`` at ``path``."""
    if kind == "folder":
        path.mkdir()
    elif kind == "fifo":
        os.mkfifo(path)  # no writer: a read would block the test
    elif kind == "dev-zero":
        path.symlink_to("/dev/zero")  # endless: a read would fill memory
    elif kind == "oversized":
        with path.open("wb") as fh:
            fh.truncate(OVERSIZED)
    elif kind == "not-utf8":
        path.write_bytes('town = "红旗镇"\n'.encode("gbk"))
    else:
        assert kind == "missing"


CODES = {
    "missing": "input.missing",
    "folder": "input.not_file",
    "fifo": "input.not_file",
    "dev-zero": "input.not_file",
    "oversized": "input.too_large",
}


@dataclass(frozen=True)
class Case:
    """A command whose input ``bad`` is the hostile one (``e``: the election, ``out``: a folder
    for what the command would write); ``text``: the input must be UTF-8."""

    args: Callable[[Election, Path, Path], list[str]]
    text: bool = False
    bad_name: str = "bad"


def _pub(e: Election, name: str) -> str:
    return str(e.folder / f"{name}.pub")


CASES: dict[str, Case] = {
    "manifest-sign:definition": Case(
        lambda e, b, o: [
            *("manifest", "sign", str(b), "--town-key", str(e.town)),
            *("--work-group-pub", _pub(e, "wg"), "--scrutineer-pub", _pub(e, "s1")),
            *("--out", str(o / "m.json")),
        ],
        text=True,
    ),
    "manifest-sign:work-group-pub": Case(
        lambda e, b, o: [
            *("manifest", "sign", str(e.definition), "--town-key", str(e.town)),
            *("--work-group-pub", str(b), "--scrutineer-pub", _pub(e, "s1")),
            *("--out", str(o / "m.json")),
        ]
    ),
    "manifest-sign:town-key": Case(
        lambda e, b, o: [
            *("manifest", "sign", str(e.definition), "--town-key", str(b)),
            *("--work-group-pub", _pub(e, "wg"), "--scrutineer-pub", _pub(e, "s1")),
            *("--out", str(o / "m.json")),
        ]
    ),
    "init:town-key": Case(
        lambda e, b, o: [
            *("init", str(e.folder / "manifest.json"), "--out", str(o / "e.db")),
            *("--key", str(e.wg), "--town-key", str(b)),
        ]
    ),
    "init:manifest": Case(
        lambda e, b, o: [
            *("init", str(b), "--out", str(o / "e.db")),
            *("--key", str(e.wg), "--town-key", _pub(e, "town")),
        ]
    ),
    "init:key": Case(
        lambda e, b, o: [
            *("init", str(e.folder / "manifest.json"), "--out", str(o / "e.db")),
            *("--key", str(b), "--town-key", _pub(e, "town")),
        ]
    ),
    "calendar-sign:year-file": Case(
        lambda e, b, o: [
            *("calendar", "sign", str(b), "--town-key", str(e.town), "--out", str(o / "c.json"))
        ],
        text=True,
    ),
    "amend-sign:request": Case(
        lambda e, b, o: ["amend-sign", str(b), "--key", str(e.town), "--out", str(o / "s.json")]
    ),
    "amend-sign:key": Case(
        lambda e, b, o: [
            *("amend-sign", str(e.definition), "--key", str(b), "--out", str(o / "s.json"))
        ]
    ),
    "amend-candidates:signed": Case(lambda e, b, _: ["amend-candidates", str(e.db), str(b)]),
    "enter:batch": Case(lambda e, b, _: ["enter", str(e.db), "--batch", str(b)], text=True),
    "result:calendar": Case(
        lambda e, b, _: ["result", str(e.db), "--key", str(e.wg), "--calendar", str(b)]
    ),
    "keys-show": Case(lambda _, b, o: ["keys", "show", str(b)]),
    "keys-export-public": Case(
        lambda _, b, o: ["keys", "export-public", str(b), "--out", str(o / "x.pub")]
    ),
    "procedure-open:town-key": Case(
        lambda e, b, o: [
            *("procedure", "open", str(o / "p.sqlite"), "--procedure", str(e.definition)),
            *("--town-key", str(b), "--key", str(e.wg)),
        ]
    ),
    "procedure-new:work-group-pub": Case(
        lambda e, b, o: [
            *("procedure", "new", str(QINGSHAN.parent / "qingshan.procedure.toml")),
            *("--work-group-pub", str(b), "--scrutineer-pub", _pub(e, "s1")),
            *("--out", str(o / "p.json")),
        ]
    ),
    "town-report:town-key": Case(
        lambda _, b, o: [
            *("town-report", str(o / "B01"), "--town-key", str(b)),
            *("--casework", str(o / "casework"), "--out", str(o / "r.pdf")),
        ]
    ),
    "casework-summary:town-key": Case(
        lambda _, b, o: ["casework", "summary", str(o / "bundle"), "--town-key", str(b)]
    ),
    "audit-head:record": Case(
        lambda e, b, o: [
            *("audit", "head", str(b.parent), "--town-key", str(e.town)),
            *("--election-id", "0" * 64, "--out", str(o / "head.json")),
        ],
        bad_name="audit/1.json",
    ),
}


def _content(p: Path) -> bytes:
    """A file's bytes; an election file's rows (its WAL may be checkpointed by any reader)."""
    if p.suffix != ".db":
        return p.read_bytes()
    with closing(sqlite3.connect(f"{p.as_uri()}?mode=ro", uri=True)) as conn:
        return "\n".join(conn.iterdump()).encode()


def _snapshot(*folders: Path) -> dict[str, str]:
    """Every regular file under ``folders`` and its SHA-256 (links and FIFOs are not read)."""
    out = {}
    for folder in folders:
        for p in sorted(folder.rglob("*")):
            if p.name.endswith(("-wal", "-shm")):
                continue
            if p.is_file() and not p.is_symlink() and p.stat().st_size < OVERSIZED:
                out[str(p)] = hashlib.sha256(_content(p)).hexdigest()
            elif not p.is_dir():
                out[str(p)] = "not read"
    return out


@pytest.fixture
def places(tmp_path: Path) -> tuple[Path, Path]:
    """(inputs, out): a folder for the hostile input, one for what the command would write."""
    (tmp_path / "in").mkdir()
    (tmp_path / "out").mkdir()
    return tmp_path / "in", tmp_path / "out"


def _refuse(args: list[str], *, as_json: bool) -> tuple[int, str, str]:
    extra = ["--json", "--lang", "en"] if as_json else ["--lang", "en"]
    r = CliRunner(env=ENV).invoke(app, [*args, *extra])
    return r.exit_code, r.stdout, r.stderr


def _bad_path(case: Case, kind: str, inputs: Path) -> Path:
    bad = inputs / case.bad_name
    bad.parent.mkdir(parents=True, exist_ok=True)
    _place(kind, bad)
    return bad


def _applicable(command: str, kind: str) -> bool:
    """Not every hostile kind applies to every input: a binary input has no encoding to get
    wrong (what it must parse as is the parser's refusal), and the newest audit record is found
    by listing its folder, so it cannot be missing."""
    case = CASES[command]
    if kind == "not-utf8":
        return case.text
    return not (kind == "missing" and case.bad_name == "audit/1.json")


@pytest.mark.parametrize(
    ("command", "kind"),
    [(c, k) for c in CASES for k in [*CODES, "not-utf8"] if _applicable(c, k)],
)
def test_a_hostile_input_is_refused_with_its_code_and_nothing_is_written(
    command: str, kind: str, election: Election, places: tuple[Path, Path]
) -> None:
    case = CASES[command]
    inputs, out = places
    bad = _bad_path(case, kind, inputs)
    args = case.args(election, bad, out)
    before = _snapshot(election.folder, out, inputs)

    code, stdout, _ = _refuse(args, as_json=True)
    body = json.loads(stdout)
    want = CODES.get(kind, "batch.encoding" if command == "enter:batch" else "input.encoding")
    assert (code, body["ok"], body["code"]) == (1, False, want), body
    assert str(bad) in body["message"], body

    code, stdout, stderr = _refuse(args, as_json=False)
    assert (code, stdout) == (1, "")
    assert stderr.count("\n") == 1 and stderr.startswith("error: "), stderr

    assert _snapshot(election.folder, out, inputs) == before


def test_a_town_key_that_is_neither_a_file_nor_a_fingerprint_is_a_missing_file(
    election: Election, places: tuple[Path, Path]
) -> None:
    inputs, out = places
    for value in ("town.pub", "03141 59265 35897 93238 4626"):  # a file's name; 24 digits
        args = CASES["procedure-open:town-key"].args(election, inputs / "x", out)
        args[args.index(str(inputs / "x"))] = value
        code, stdout, _ = _refuse(args, as_json=True)
        assert (code, json.loads(stdout)["code"]) == (1, "input.missing"), stdout


def test_a_fingerprint_reads_no_file(election: Election, places: tuple[Path, Path]) -> None:
    """25 digits that name no file are the town key's fingerprint: the check goes on to the
    procedure file (here not one), never to a file called so."""
    inputs, out = places
    args = CASES["procedure-open:town-key"].args(election, inputs / "x", out)
    args[args.index(str(inputs / "x"))] = "03141 59265 35897 93238 46264"
    code, stdout, _ = _refuse(args, as_json=True)
    assert code == 1 and not json.loads(stdout)["code"].startswith("input."), stdout


# -- tally serve and tally procedure serve: refused before the service is built -------------------
@pytest.fixture
def no_service(monkeypatch: pytest.MonkeyPatch) -> None:
    def never(*_: object, **__: object) -> None:
        raise AssertionError("the service must not start")

    monkeypatch.setattr(SERVE, "_run_service", never)
    monkeypatch.setattr(tally.service.transport, "run_servers", never)


SERVE_KEYS = {
    "serve:key": lambda e, b: ["serve", str(e.db), "--key", str(b)],
    "serve:scrutineer-key": lambda e, b: ["serve", str(e.db), "--scrutineer-key", str(b)],
    "serve:casework-key": lambda e, b: [
        *("serve", str(e.db), "--casework", str(e.folder / "manifest.json")),
        *("--casework-key", str(b)),
    ],
    "procedure-serve:scrutineer-key": lambda e, b: [
        *("procedure", "serve", str(e.folder / "p.sqlite"), "--scrutineer-key", str(b)),
    ],
}


@pytest.mark.usefixtures("no_service")
@pytest.mark.parametrize("kind", list(CODES))
@pytest.mark.parametrize("command", list(SERVE_KEYS))
def test_serve_refuses_a_hostile_key_file_before_the_service_starts(
    command: str, kind: str, election: Election, places: tuple[Path, Path]
) -> None:
    inputs, _ = places
    bad = inputs / "bad"
    _place(kind, bad)
    before = _snapshot(election.folder, inputs)
    r = CliRunner(env=ENV).invoke(app, [*SERVE_KEYS[command](election, bad), "--lang", "en"])
    assert r.exit_code == 1, r.output
    assert r.stderr.count("\n") == 1 and r.stderr.startswith("error: "), r.stderr
    assert str(bad) in r.stderr
    assert _snapshot(election.folder, inputs) == before


@pytest.mark.usefixtures("no_service")
def test_serve_without_a_passphrase_or_a_terminal_refuses_the_casework_key(
    election: Election, tmp_path: Path
) -> None:
    """(ADR 0065) TALLY_PASSPHRASE, else a prompt on a terminal; CliRunner's stdin is none."""
    key, _ = _casework_key(tmp_path)
    args = [*SERVE_KEYS["serve:casework-key"](election, key), "--lang", "en"]
    r = CliRunner(env={"TALLY_PASSPHRASE": None}).invoke(app, args)
    assert r.exit_code == 1, r.output
    assert "no passphrase" in r.stderr and "TALLY_PASSPHRASE" in r.stderr, r.stderr


def test_serve_unlocks_the_casework_key_with_the_passphrase_before_the_service_starts(
    election: Election, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    key, public = _casework_key(tmp_path)
    seen: list[object] = []
    monkeypatch.setattr(SERVE, "_run_service", lambda *_, **kw: seen.append(kw["casework_signer"]))
    r = CliRunner(env=ENV).invoke(app, SERVE_KEYS["serve:casework-key"](election, key))
    assert r.exit_code == 0, r.output
    (signer,) = seen
    assert getattr(signer, "public_key", None) == public


def test_the_serve_help_says_where_the_casework_passphrase_comes_from() -> None:
    r = CliRunner(env={"COLUMNS": "300"}).invoke(app, ["serve", "--help"])
    text = " ".join(r.stdout.replace("│", " ").split())
    assert "口令取自 TALLY_PASSPHRASE， 未设置时在终端中输入，不在终端则拒绝启动" in text
    assert "passphrase from TALLY_PASSPHRASE, else typed on a terminal" in text


def _casework_key(folder: Path) -> tuple[Path, object]:
    import keys  # noqa: PLC0415

    data, public = keys.generate_keypair(
        keys.Role.CASEWORK, "查核组", passphrase=ENV["TALLY_PASSPHRASE"],
        limits=keys.INTERACTIVE_LIMITS,
    )  # fmt: skip
    path = folder / "cw.key"
    path.write_bytes(data)
    return path, public
