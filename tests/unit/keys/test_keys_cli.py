"""`tally keys` (tally/cli_keys.py), spec/keyfile.md §8."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

import keys
from tally.cli_keys import app

PASSPHRASE = "换届选举 cli passphrase"


@pytest.fixture
def runner(monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.delenv("TALLY_LANG", raising=False)
    monkeypatch.setenv("TALLY_PASSPHRASE", PASSPHRASE)
    return CliRunner()


def _new(runner: CliRunner, out: Path, *extra: str, role: str = "scrutineer") -> Result:
    args = ["new", "--role", role, "--label", "张三", "--out", str(out), "--kdf", "interactive"]
    return runner.invoke(app, [*args, *extra])


def test_new_writes_a_private_key_file_and_a_public_key(runner: CliRunner, tmp_path: Path) -> None:
    out, pub = tmp_path / "s.key", tmp_path / "s.pub"
    result = _new(runner, out, "--pub-out", str(pub))
    assert result.exit_code == 0, result.output
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    public_key = keys.parse_public_key(pub.read_bytes())
    assert "指纹" in result.stdout
    assert keys.fingerprint(public_key) in result.stdout
    signer = keys.load_signer(out, PASSPHRASE, expected_role=keys.Role.SCRUTINEER)
    assert signer.public_key == public_key


def test_new_refuses_to_overwrite(runner: CliRunner, tmp_path: Path) -> None:
    out = tmp_path / "s.key"
    out.write_bytes(b"precious")
    result = _new(runner, out)
    assert result.exit_code == 1
    assert result.stderr.strip().startswith("错误：文件已存在")
    assert len(result.stderr.strip().splitlines()) == 1
    assert out.read_bytes() == b"precious"


def test_new_refuses_to_overwrite_the_public_key_before_writing_anything(
    runner: CliRunner, tmp_path: Path
) -> None:
    out, pub = tmp_path / "s.key", tmp_path / "s.pub"
    pub.write_bytes(b"old")
    assert _new(runner, out, "--pub-out", str(pub)).exit_code == 1
    assert not out.exists()


def test_new_prompts_twice_without_the_environment_variable(
    runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("TALLY_PASSPHRASE")
    out = tmp_path / "s.key"
    result = runner.invoke(
        app,
        [
            *("new", "--role", "town_committee", "--label", "镇党委", "--out", str(out)),
            "--kdf",
            "interactive",
        ],
        input=f"{PASSPHRASE}\n{PASSPHRASE}\n",
    )
    assert result.exit_code == 0, result.output
    assert PASSPHRASE not in result.output  # hidden input is not echoed
    keys.load_signer(out, PASSPHRASE, expected_role=keys.Role.TOWN_COMMITTEE)


def test_new_fails_when_the_two_passphrases_differ(
    runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("TALLY_PASSPHRASE")
    out = tmp_path / "s.key"
    result = runner.invoke(
        app,
        ["new", "--role", "work_group", "--label", "工作组", "--out", str(out), "--lang", "en"],
        input=f"{PASSPHRASE}\n{PASSPHRASE}x\n",
    )
    assert result.exit_code == 1
    assert "do not match" in result.stderr
    assert not out.exists()


def test_show_needs_no_passphrase_and_reads_both_file_kinds(
    runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out, pub = tmp_path / "s.key", tmp_path / "s.pub"
    assert _new(runner, out, "--pub-out", str(pub)).exit_code == 0
    monkeypatch.delenv("TALLY_PASSPHRASE")
    shown = [json.loads(runner.invoke(app, ["show", str(p), "--json"]).stdout) for p in (out, pub)]
    assert [s["kind"] for s in shown] == ["keyfile", "pubkey"]
    assert shown[0]["fingerprint"] == shown[1]["fingerprint"]
    assert shown[0]["role"] == "scrutineer"
    assert shown[0]["label"] == "张三"
    human = runner.invoke(app, ["show", str(out)])
    assert "监票人" in human.stdout
    assert "张三" in human.stdout


def test_export_public_of_the_vector_file_equals_the_vector_public_key(
    runner: CliRunner, tmp_path: Path, vector_key: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TALLY_PASSPHRASE", VECTOR_PASSPHRASE)
    result = runner.invoke(app, ["export-public", str(vector_key), "--out", str(tmp_path / "p")])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "p").read_bytes() == (vector_key.parent / "valid.pub").read_bytes()


def test_export_public_equals_the_public_key_written_by_new(
    runner: CliRunner, tmp_path: Path
) -> None:
    out, pub, exported = tmp_path / "s.key", tmp_path / "s.pub", tmp_path / "e.pub"
    assert _new(runner, out, "--pub-out", str(pub)).exit_code == 0
    result = runner.invoke(app, ["export-public", str(out), "--out", str(exported)])
    assert result.exit_code == 0, result.output
    assert exported.read_bytes() == pub.read_bytes()


@pytest.fixture(scope="module")
def vector_key() -> Path:
    return Path(__file__).resolve().parents[3] / "spec" / "vectors" / "keyfile" / "valid.key"


VECTOR_PASSPHRASE = "换届选举 vector passphrase 1"  # spec/vectors/keyfile/vectors.json
ERRORS = [
    ("wrong-passphrase", "valid.key", PASSPHRASE, "keyfile.wrong_passphrase"),
    ("truncated", "invalid-truncated.key", VECTOR_PASSPHRASE, "keyfile.truncated"),
    ("tampered-role", "invalid-tampered-role.key", VECTOR_PASSPHRASE, "keyfile.corrupt"),
    (
        "tampered-ciphertext",
        "invalid-tampered-ciphertext.key",
        VECTOR_PASSPHRASE,
        "keyfile.corrupt",
    ),
    (
        "unknown-version",
        "invalid-unknown-version.key",
        VECTOR_PASSPHRASE,
        "keys.unsupported_format",
    ),
    ("missing-file", "no-such.key", VECTOR_PASSPHRASE, "input.missing"),
]


@pytest.mark.parametrize(
    ("file", "passphrase", "code"), [e[1:] for e in ERRORS], ids=[e[0] for e in ERRORS]
)
def test_export_public_errors_as_json(
    runner: CliRunner,
    tmp_path: Path,
    vector_key: Path,
    monkeypatch: pytest.MonkeyPatch,
    file: str,
    passphrase: str,
    code: str,
) -> None:
    monkeypatch.setenv("TALLY_PASSPHRASE", passphrase)
    result = runner.invoke(
        app,
        [
            *("export-public", str(vector_key.parent / file), "--out", str(tmp_path / "p")),
            "--json",
            "--lang",
            "en",
        ],
    )
    assert result.exit_code == 1
    body = json.loads(result.stdout)
    assert body["ok"] is False
    assert body["code"] == code
    assert body["message"].isascii()
    assert not (tmp_path / "p").exists()


@pytest.mark.parametrize(
    ("env", "option", "expected"),
    [
        (None, [], "口令错误"),
        ("en", [], "wrong passphrase"),
        ("en", ["--lang", "zh"], "口令错误"),
        (None, ["--lang", "en"], "wrong passphrase"),
    ],
    ids=["default-zh", "env-en", "option-beats-env", "option-en"],
)
def test_language_follows_option_then_environment_then_chinese(
    runner: CliRunner,
    tmp_path: Path,
    vector_key: Path,
    monkeypatch: pytest.MonkeyPatch,
    env: str | None,
    option: list[str],
    expected: str,
) -> None:
    if env is not None:
        monkeypatch.setenv("TALLY_LANG", env)
    result = runner.invoke(
        app, ["export-public", str(vector_key), "--out", str(tmp_path / "p"), *option]
    )
    assert result.exit_code == 1
    assert expected in result.stderr
    assert result.stdout == ""


def test_bad_language_variable_is_an_error(
    runner: CliRunner, vector_key: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TALLY_LANG", "fr")
    result = runner.invoke(app, ["show", str(vector_key), "--json"])
    assert result.exit_code == 1
    assert json.loads(result.stdout)["code"] == "cli.bad_lang"


def test_weak_passphrase_is_refused(
    runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TALLY_PASSPHRASE", "short")
    result = _new(runner, tmp_path / "s.key", "--json")
    assert json.loads(result.stdout)["code"] == "keyfile.weak_passphrase"
    assert not (tmp_path / "s.key").exists()


def test_unknown_role_is_a_usage_error(runner: CliRunner, tmp_path: Path) -> None:
    result = _new(runner, tmp_path / "s.key", role="chair")
    assert result.exit_code == 2
    assert not (tmp_path / "s.key").exists()


def test_every_command_has_help(runner: CliRunner) -> None:
    for command in ("new", "show", "export-public"):
        result = runner.invoke(app, [command, "--help"])
        assert result.exit_code == 0
        assert "/" in result.stdout  # bilingual help text


def test_missing_output_directory_is_named_in_the_error(runner: CliRunner, tmp_path: Path) -> None:
    result = _new(runner, tmp_path / "missing" / "s.key", "--json", "--lang", "en")
    body = json.loads(result.stdout)
    assert (result.exit_code, body["code"]) == (1, "cli.file_not_found")
    assert body["message"] == f"file not found: {tmp_path / 'missing'}"
