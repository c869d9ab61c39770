"""``tally procedure serve``: a file it cannot open, and a work group key it cannot unlock (no
passphrase, a wrong one, another role's key), are refused before anything listens; the passphrase
comes from ``TALLY_PASSPHRASE`` or, on a terminal, a prompt without echo, as for every command."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

import keys
from tally.cli import app
from tally.cli_day import common
from tally.service import procedure as procedure_service
from tally.service import transport
from tally.service.procedure import ProcedureServiceConfig
from tests.helpers.cli_election import PASSPHRASE, make_key


def test_serve_refuses_a_missing_procedure_file(tmp_path: Path) -> None:
    r = CliRunner().invoke(
        app,
        ["procedure", "serve", str(tmp_path / "none.sqlite"), "--data", str(tmp_path / "d")],
    )
    assert r.exit_code == 1
    assert "none.sqlite" in r.output


# -- the work group's passphrase: as every other command takes it ---------------------------------
@pytest.fixture
def started(monkeypatch: pytest.MonkeyPatch) -> list[ProcedureServiceConfig]:
    """The configs ``serve`` would start with; nothing is built and nothing listens."""
    configs: list[ProcedureServiceConfig] = []

    def create_app(config: ProcedureServiceConfig) -> object:
        configs.append(config)
        return object()

    monkeypatch.setattr(procedure_service, "create_app", create_app)
    monkeypatch.setattr(transport, "build_servers", lambda *a, **k: [])
    monkeypatch.setattr(transport, "run_servers", lambda servers: None)
    return configs


def _serve(
    tmp_path: Path, key: Path, env: dict[str, str | None], stdin: str | None = None
) -> Result:
    args = ["procedure", "serve", str(tmp_path / "p.sqlite"), "--key", str(key)]
    args += ["--data", str(tmp_path / "d"), "--lang", "en"]
    return CliRunner(env=env).invoke(app, args, input=stdin)


def test_serve_without_a_passphrase_or_a_terminal_is_refused_before_anything_starts(
    tmp_path: Path, started: list[ProcedureServiceConfig]
) -> None:
    key, _ = make_key(tmp_path, keys.Role.WORK_GROUP, "工作组", "wg")
    r = _serve(tmp_path, key, {"TALLY_PASSPHRASE": None})
    assert r.exit_code == 1
    assert r.stderr.startswith("error: no passphrase for") and "TALLY_PASSPHRASE" in r.stderr
    assert started == [] and not (tmp_path / "d").exists()


def test_serve_with_a_wrong_passphrase_is_refused_before_anything_starts(
    tmp_path: Path, started: list[ProcedureServiceConfig]
) -> None:
    key, _ = make_key(tmp_path, keys.Role.WORK_GROUP, "工作组", "wg")
    r = _serve(tmp_path, key, {"TALLY_PASSPHRASE": PASSPHRASE + "x"})
    assert r.exit_code == 1
    assert r.stderr.startswith("error: wrong passphrase")
    assert started == [] and not (tmp_path / "d").exists()


def test_serve_with_a_work_group_key_of_another_role_is_refused(
    tmp_path: Path, started: list[ProcedureServiceConfig]
) -> None:
    key, _ = make_key(tmp_path, keys.Role.SCRUTINEER, "黄德明", "s1")
    r = _serve(tmp_path, key, {"TALLY_PASSPHRASE": PASSPHRASE})
    assert r.exit_code == 1 and started == []


def test_serve_takes_the_passphrase_from_the_environment(
    tmp_path: Path, started: list[ProcedureServiceConfig]
) -> None:
    key, pub = make_key(tmp_path, keys.Role.WORK_GROUP, "工作组", "wg")
    r = _serve(tmp_path, key, {"TALLY_PASSPHRASE": PASSPHRASE})
    assert r.exit_code == 0, r.output
    assert _fingerprint(started) == keys.fingerprint(keys.parse_public_key(pub.read_bytes()))


def test_serve_prompts_for_the_passphrase_without_echo_on_a_terminal(
    tmp_path: Path, started: list[ProcedureServiceConfig], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(common, "_stdin_is_terminal", lambda: True)
    key, pub = make_key(tmp_path, keys.Role.WORK_GROUP, "工作组", "wg")
    r = _serve(tmp_path, key, {"TALLY_PASSPHRASE": None}, stdin=PASSPHRASE + "\n")
    assert r.exit_code == 0, r.output
    assert "passphrase" in r.stderr and PASSPHRASE not in r.output
    assert _fingerprint(started) == keys.fingerprint(keys.parse_public_key(pub.read_bytes()))


def _fingerprint(started: list[ProcedureServiceConfig]) -> str:
    (config,) = started
    assert config.signer is not None
    return keys.fingerprint(config.signer.public_key)
