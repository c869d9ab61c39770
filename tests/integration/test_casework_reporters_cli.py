"""``tally casework withdraw-reporter|replace-code|lodge`` end to end (spec/procedure.md RP-8.2,
RP-9.1, RP-9.2): hostile cases first, a refusal stores nothing; the new access code is printed
once and the old one stops at once; an objection lodged in person gets a reference and no check
code."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from tally.casework_store import CaseworkStore, sign_casework
from tally.cli import app
from tests.helpers import casework as cw
from tests.helpers.polling import ENV
from tests.helpers.procedure_town import vetted_for_casework
from tests.integration.test_casework_procedures import Procedure


@pytest.fixture
def db(tmp_path: Path) -> Path:
    """A casework file of the test town (B01 with groups G1, G2; B02), nothing registered."""
    signed, _ = sign_casework(cw.document(), cw.TOWN)
    path = tmp_path / "town.casework"
    store = CaseworkStore.create(
        path,
        signed_casework=signed,
        casework_signer=cw.SERVICE,
        at=cw.at("2026-09-28 10:00"),
        random=cw.counter_random(),
    )
    store.close()
    return path


def run(*args: str) -> list[str]:
    """The arguments of a ``tally casework`` command (a list, so a caller can add to it)."""
    return ["casework", *args]


def invoke(args: list[str]) -> tuple[int, dict[str, Any] | str]:
    r = CliRunner(env=ENV).invoke(app, args)
    try:
        return r.exit_code, json.loads(r.output)
    except json.JSONDecodeError:
        return r.exit_code, r.output


def _registered(db: Path) -> str:
    code, out = invoke(
        [
            *run("register", str(db), "--reporter", "R1", "--branch", "B01", "--group", "G1"),
            "--name",
            "李四",
            "--json",
        ]
    )
    assert code == 0, out
    assert isinstance(out, dict)
    return str(out["access_code"])


def _rows(db: Path) -> list[bytes]:
    store = CaseworkStore.open(db)
    try:
        return store.log_rows()
    finally:
        store.close()


def _who(db: Path, code: str) -> str | None:
    store = CaseworkStore.open(db)
    try:
        return store.reporter_for_code(code)
    finally:
        store.close()


# -- withdraw-reporter ----------------------------------------------------------------------------
def test_withdrawing_an_unknown_reporter_is_refused_and_stores_nothing(db: Path) -> None:
    _registered(db)
    before = _rows(db)
    code, out = invoke(run("withdraw-reporter", str(db), "R9", "--reason", "搬离", "--json"))
    assert code == 1
    assert isinstance(out, dict) and out["code"] == "reporter.unknown"
    assert _rows(db) == before


def test_withdrawing_without_a_reason_is_refused_and_stores_nothing(db: Path) -> None:
    _registered(db)
    before = _rows(db)
    code, out = invoke(run("withdraw-reporter", str(db), "R1", "--reason", "  ", "--json"))
    assert code == 1
    assert isinstance(out, dict) and out["code"] == "case.reason"
    assert _rows(db) == before


def test_a_withdrawn_reporter_is_logged_and_the_code_stops_at_once(db: Path) -> None:
    access = _registered(db)
    assert _who(db, access) == "R1"
    code, out = invoke(run("withdraw-reporter", str(db), "R1", "--reason", "本人辞去", "--json"))
    assert code == 0, out
    assert isinstance(out, dict) and out["type"] == "reporter.withdrawn"
    last = json.loads(_rows(db)[-1])
    assert last["type"] == "reporter.withdrawn"
    assert last["body"] == {"reporter": "R1", "reason": "本人辞去"}
    assert last["actor"] == "case_head"
    assert _who(db, access) is None
    code, out = invoke(run("withdraw-reporter", str(db), "R1", "--reason", "again", "--json"))
    assert isinstance(out, dict) and out["code"] == "reporter.unknown"


def test_withdraw_reporter_speaks_chinese_by_default_and_english_on_request(db: Path) -> None:
    _registered(db)
    code, out = invoke(run("withdraw-reporter", str(db), "R1", "--reason", "辞去"))
    assert code == 0 and "已撤销直报员 R1" in str(out)
    code, out = invoke(run("withdraw-reporter", str(db), "R1", "--reason", "x", "--lang", "en"))
    assert code == 1 and "not a registered reporter" in str(out)


# -- replace-code ---------------------------------------------------------------------------------
def test_replacing_the_code_of_an_unknown_or_withdrawn_reporter_is_refused(db: Path) -> None:
    access = _registered(db)
    code, out = invoke(run("replace-code", str(db), "R9", "--json"))
    assert code == 1 and isinstance(out, dict) and out["code"] == "reporter.unknown"
    assert invoke(run("withdraw-reporter", str(db), "R1", "--reason", "辞去"))[0] == 0
    code, out = invoke(run("replace-code", str(db), "R1", "--json"))
    assert code == 1 and isinstance(out, dict) and out["code"] == "reporter.unknown"
    assert _who(db, access) is None


def test_a_new_code_is_printed_once_and_the_old_one_stops_at_once(db: Path) -> None:
    old = _registered(db)
    before = _rows(db)
    code, out = invoke(run("replace-code", str(db), "R1", "--json"))
    assert code == 0, out
    assert isinstance(out, dict)
    new = str(out["access_code"])
    assert new != old and len(new) == 14
    assert _who(db, new) == "R1"
    assert _who(db, old) is None
    assert _rows(db) == before  # the code is never in the log
    code, text = invoke(run("replace-code", str(db), "R1", "--lang", "en"))
    assert code == 0 and "new access code:" in str(text) and "shown only this once" in str(text)


# -- lodge ----------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def vetted(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return vetted_for_casework(tmp_path_factory.mktemp("vetted"))


@pytest.fixture
def branch(vetted: Path, tmp_path: Path) -> Procedure:
    path = tmp_path / vetted.name
    shutil.copy(vetted, path)
    return Procedure(path)


def _lodge(db: Path, procedure: Path, *extra: str) -> tuple[int, dict[str, Any] | str]:
    return invoke(
        [
            *run("lodge", str(db), "--branch", "B01", "--procedure", str(procedure)),
            "--what",
            "当选人存在拉票行为",
            *extra,
            "--json",
        ]
    )


def test_lodging_before_the_election_is_concluded_is_refused(db: Path, branch: Procedure) -> None:
    before = _rows(db)
    code, out = _lodge(db, branch.path)
    assert code == 1 and isinstance(out, dict) and out["code"] == "objection.not_in_publicity"
    assert _rows(db) == before


def test_lodging_with_another_branchs_procedure_file_is_refused(
    db: Path, branch: Procedure
) -> None:
    branch.conclude()
    before = _rows(db)
    code, out = invoke(
        [
            *run("lodge", str(db), "--branch", "B02", "--procedure", str(branch.path)),
            "--what",
            "内容",
            "--json",
        ]
    )
    assert code == 1 and isinstance(out, dict) and out["code"] == "casework.procedure_branch"
    assert _rows(db) == before


def test_lodging_about_a_person_not_elected_or_with_no_content_is_refused(
    db: Path, branch: Procedure
) -> None:
    branch.conclude()
    before = _rows(db)
    code, out = _lodge(db, branch.path, "--about", "M999")
    assert isinstance(out, dict) and out["code"] == "objection.about_unknown"
    code, out = invoke(
        [
            *run("lodge", str(db), "--branch", "B01", "--procedure", str(branch.path)),
            "--what",
            "   ",
            "--json",
        ]
    )
    assert code == 1 and isinstance(out, dict) and out["code"] == "objection.empty"
    assert _rows(db) == before


def test_lodging_with_a_damaged_procedure_file_is_refused(db: Path, tmp_path: Path) -> None:
    bad = tmp_path / "B01.procedure"
    bad.write_bytes(b"not a procedure file")
    before = _rows(db)
    code, out = _lodge(db, bad)
    assert code == 1 and isinstance(out, dict) and str(out["code"]).startswith("store.")
    assert _rows(db) == before


def test_an_objection_lodged_in_person_is_recorded_with_no_check_code(
    db: Path, branch: Procedure
) -> None:
    branch.conclude()
    code, out = _lodge(db, branch.path, "--about", "M002", "--name", "王五", "--actor", "officer1")
    assert code == 0, out
    assert isinstance(out, dict)
    assert out["reference"].startswith("YY-") and out["channel"] == "in_person"
    assert "check_code" not in out
    last = json.loads(_rows(db)[-1])
    assert last["type"] == "objection.received" and last["actor"] == "officer1"
    assert last["body"]["channel"] == "in_person"
    assert last["body"]["about"] == "M002"
    assert last["body"]["objector"]["name"] == "王五"
    code, text = invoke(
        [
            *run("lodge", str(db), "--branch", "B01", "--procedure", str(branch.path)),
            "--what",
            "另一条异议",
        ]
    )
    assert code == 0 and "已记录当面提出的异议" in str(text) and "没有查询码" in str(text)


def test_lodging_under_another_branchs_work_group_actor_is_refused(
    db: Path, branch: Procedure
) -> None:
    """(RP-11.3, issue 18 clerklist) ``--actor branch:B02:…`` on B01's objection would put it on
    B02's clerks' list: ``casework.actor_branch``, nothing stored."""
    branch.conclude()
    before = _rows(db)
    code, out = _lodge(db, branch.path, "--actor", "branch:B02:clerk2")
    assert code == 1 and isinstance(out, dict) and out["code"] == "casework.actor_branch"
    assert _rows(db) == before
    code, out = _lodge(db, branch.path, "--actor", "branch:B01:clerk1")  # the control
    assert code == 0, out
    assert json.loads(_rows(db)[-1])["actor"] == "branch:B01:clerk1"
