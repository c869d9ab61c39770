"""The CLI's commands take their language one way: ``tally.cli_errors.command_lang`` (``--lang``,
else ``TALLY_LANG``, else Chinese), and refuse through ``cli_errors`` (warts point 3)."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import nacl.pwhash
import pytest
from typer.testing import CliRunner

from tally.cli import app
from tally.service.accounts import AccountStore, Role, accounts_path

TALLY = Path(__file__).resolve().parents[3] / "tally"
# Modules that still resolve the language themselves, each for a reason of its own:
OWN_LANGUAGE = {
    # the top-level commands take ``--lang`` as a ``Lang`` enum, not a string
    "cli.py",
    # a ``TALLY_LANG`` other than zh/en is refused there (a key ceremony does not guess)
    "cli_keys.py",
}


def _cli_modules() -> list[Path]:
    found = [*TALLY.glob("cli*.py"), *(TALLY / "cli_day").glob("*.py")]
    return sorted(p for p in found if p.name not in OWN_LANGUAGE)


def _own_resolvers(path: Path) -> list[str]:
    """Functions defined in ``path`` that read ``TALLY_LANG`` (a copy of ``command_lang``)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            reads = any(
                isinstance(n, ast.Constant) and n.value == "TALLY_LANG" for n in ast.walk(node)
            )
            if reads:
                out.append(node.name)
    return out


@pytest.mark.parametrize("path", _cli_modules(), ids=lambda p: p.name)
def test_cli_module_takes_its_language_from_command_lang(path: Path) -> None:
    if path.name == "cli_errors.py":
        assert _own_resolvers(path) == ["command_lang"]
    else:
        assert _own_resolvers(path) == []


def _accounts(tmp_path: Path) -> Path:
    AccountStore(
        accounts_path(tmp_path),
        opslimit=nacl.pwhash.argon2id.OPSLIMIT_MIN,
        memlimit=nacl.pwhash.argon2id.MEMLIMIT_MIN,
    ).add("zhang", Role.TELLER, "pw-1234567")
    return tmp_path


@pytest.mark.parametrize(
    ("args", "env", "expected"),
    [
        ([], {}, "zhang\t计票人\n"),
        (["--lang", "en"], {}, "zhang\tteller\n"),
        ([], {"TALLY_LANG": "en"}, "zhang\tteller\n"),
        (["--lang", "zh"], {"TALLY_LANG": "en"}, "zhang\t计票人\n"),
        ([], {"TALLY_LANG": "fr"}, "zhang\t计票人\n"),
    ],
    ids=["default-zh", "option-en", "env-en", "option-wins", "unknown-env-is-zh"],
)
def test_accounts_list_language_follows_option_then_env(
    tmp_path: Path, args: list[str], env: dict[str, str], expected: str
) -> None:
    data = _accounts(tmp_path)
    result = CliRunner().invoke(app, ["accounts", "list", str(data), *args], env=env)
    assert result.exit_code == 0, result.output
    assert result.stdout == expected


def test_accounts_list_json_is_unchanged(tmp_path: Path) -> None:
    data = _accounts(tmp_path)
    result = CliRunner().invoke(app, ["accounts", "list", str(data), "--json"])
    assert json.loads(result.stdout) == [{"name": "zhang", "role": "teller"}]


@pytest.mark.parametrize(
    ("lang", "expected"),
    [
        ("zh", "错误：请给出 --name（账户）或 --address（地址）\n"),
        ("en", "error: give --name (an account) or --address (an address)\n"),
    ],
)
def test_accounts_refusal_is_one_line_in_the_language(
    tmp_path: Path, lang: str, expected: str
) -> None:
    result = CliRunner().invoke(app, ["accounts", "unlock", str(tmp_path), "--lang", lang])
    assert result.exit_code == 1
    assert result.stderr == expected
