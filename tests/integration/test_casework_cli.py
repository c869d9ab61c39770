"""``tally casework new|register|export`` end to end, with real key files (in-process)."""

from __future__ import annotations

import json
import secrets
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

import keys
from tally.casework_store import CaseworkStore
from tally.cli import app
from tests.helpers.polling import ENV, make_key

DEFINITION = """
town = "红旗镇"

[[branches]]
branch_code = "B01"
name = "东村党支部"
groups = [{ group = "G1", name = "一组" }, { group = "G2", name = "二组" }]

[[branches]]
branch_code = "B02"
name = "西村党支部"
groups = [{ group = "G1", name = "一组" }]

[deadlines]
report_conclude_days = 7
"""


@pytest.fixture
def town(tmp_path: Path) -> dict[str, Path]:
    town_key, _ = make_key(tmp_path, keys.Role.TOWN_COMMITTEE, "红旗镇党委", "town")
    cw_key, _ = make_key(tmp_path, keys.Role.CASEWORK, "红旗镇查核组", "casework")
    definition = tmp_path / "casework.toml"
    definition.write_text(DEFINITION, encoding="utf-8")
    return {"town": town_key, "casework": cw_key, "definition": definition, "dir": tmp_path}


def _new(runner: CliRunner, t: dict[str, Path], out: Path, *extra: str) -> Result:
    return runner.invoke(
        app,
        [
            "casework",
            "new",
            str(t["definition"]),
            "--town-key",
            str(t["town"]),
            "--casework-key",
            str(t["casework"]),
            "--out",
            str(out),
            *extra,
        ],
    )


def test_new_register_and_export_a_town_casework_file(town: dict[str, Path]) -> None:
    runner = CliRunner(env=ENV)
    db = town["dir"] / "town.casework"
    r = _new(runner, town, db, "--json")
    assert r.exit_code == 0, r.output
    cid = json.loads(r.output)["casework_id"]
    store = CaseworkStore.open(db)
    assert store.casework.id.hex() == cid
    assert store.casework.deadlines.report_conclude_days == 7
    assert store.casework.deadlines.objection_conclude_days == 5  # the default written out
    store.close()

    r = runner.invoke(
        app,
        [
            "casework",
            "register",
            str(db),
            "--reporter",
            "R1",
            "--branch",
            "B01",
            "--group",
            "G2",
            "--name",
            "李四",
            "--phone",
            "13800000000",
            "--json",
        ],
    )
    assert r.exit_code == 0, r.output
    code = json.loads(r.output)["access_code"]
    store = CaseworkStore.open(db)
    assert store.verify_code("access:R1", code)
    assert store.ledger.reporters["R1"].group == "G2"
    store.close()

    out = town["dir"] / "bundle"
    r = runner.invoke(app, ["casework", "export", str(db), "--out", str(out)])
    assert r.exit_code == 0, r.output
    assert sorted(p.name for p in out.iterdir()) == [
        "casework.json",
        "checkpoints.json",
        "index.json",
        "log.jsonl",
    ]
    assert len((out / "log.jsonl").read_bytes().splitlines()) == 2
    assert code not in "".join(p.read_text(encoding="utf-8") for p in out.iterdir())


def test_export_public_writes_only_the_town_totals(town: dict[str, Path]) -> None:
    runner = CliRunner(env=ENV)
    db = town["dir"] / "town.casework"
    assert _new(runner, town, db).exit_code == 0
    runner.invoke(
        app,
        [
            "casework",
            "register",
            str(db),
            "--reporter",
            "R1",
            "--branch",
            "B01",
            "--group",
            "G1",
            "--name",
            "李四",
        ],
    )
    out = town["dir"] / "public"
    r = runner.invoke(app, ["casework", "export", str(db), "--out", str(out), "--public"])
    assert r.exit_code == 0, r.output
    assert [p.name for p in out.iterdir()] == ["casework-public.json"]
    text = (out / "casework-public.json").read_text(encoding="utf-8")
    assert "李四" not in text
    assert "R1" not in text
    assert json.loads(text)["reports"]["received"] == 0


def test_a_registration_refused_changes_nothing_and_says_why(town: dict[str, Path]) -> None:
    runner = CliRunner(env=ENV)
    db = town["dir"] / "town.casework"
    assert _new(runner, town, db).exit_code == 0
    before = CaseworkStore.open(db).log_rows()
    r = runner.invoke(
        app,
        [
            "casework",
            "register",
            str(db),
            "--reporter",
            "R1",
            "--branch",
            "B02",
            "--group",
            "G2",
            "--name",
            "李四",
            "--json",
        ],
    )
    assert r.exit_code == 1
    assert json.loads(r.output)["code"] == "reporter.group_unknown"
    r = runner.invoke(
        app,
        [
            "casework",
            "register",
            str(db),
            "--reporter",
            "R1",
            "--branch",
            "B01",
            "--group",
            "G1",
            "--name",
            "李四",
            "--phone",
            "110",
        ],
    )
    assert r.exit_code == 1
    assert "手机号码" in r.output
    assert CaseworkStore.open(db).log_rows() == before


def test_new_lists_every_problem_of_the_definition(town: dict[str, Path]) -> None:
    town["definition"].write_text(
        'town = ""\ntext_max_chars = 5\n[[branches]]\nbranch_code = "甲"\nname = "x"\ngroups = []\n',
        encoding="utf-8",
    )
    runner = CliRunner(env=ENV)
    db = town["dir"] / "town.casework"
    r = _new(runner, town, db, "--json", "--lang", "en")
    assert r.exit_code == 1
    body = json.loads(r.output)
    assert body["code"] == "casework.definition"
    assert {p["path"] for p in body["problems"]} == {
        "town",
        "text_max_chars",
        "branches[0].branch_code",
    }
    assert not db.exists()


def test_new_refuses_a_key_of_the_wrong_role(town: dict[str, Path]) -> None:
    runner = CliRunner(env=ENV)
    db = town["dir"] / "town.casework"
    r = runner.invoke(
        app,
        [
            "casework",
            "new",
            str(town["definition"]),
            "--town-key",
            str(town["casework"]),
            "--casework-key",
            str(town["casework"]),
            "--out",
            str(db),
            "--json",
        ],
    )
    assert r.exit_code == 1
    assert json.loads(r.output)["ok"] is False
    assert not db.exists()


def test_new_and_export_never_overwrite(town: dict[str, Path]) -> None:
    runner = CliRunner(env=ENV)
    db = town["dir"] / "town.casework"
    assert _new(runner, town, db).exit_code == 0
    r = _new(runner, town, db, "--json")
    assert json.loads(r.output)["code"] == "store.exists"
    out = town["dir"] / "bundle"
    out.mkdir()
    (out / "keep.txt").write_text("x", encoding="utf-8")
    r = runner.invoke(app, ["casework", "export", str(db), "--out", str(out), "--json"])
    assert json.loads(r.output)["code"] == "export.exists"


def test_export_writes_the_signed_year_file_when_a_due_date_used_it_rp_12_3(
    town: dict[str, Path],
) -> None:
    """An objection counted on the town's signed 2027 (R26.3): the export refuses without the
    file (``casework.calendar_needed``), refuses a file of another key, and writes it as
    ``calendar.json`` when given."""
    from datetime import date, datetime  # noqa: PLC0415

    from tally.calendar import CalendarYear, load_calendar, sign_calendar  # noqa: PLC0415
    from tally.core.casework import TOWN_TIME, Channel, lodge_objection  # noqa: PLC0415
    from tests.helpers.cli_election import PASSPHRASE  # noqa: PLC0415

    runner = CliRunner(env=ENV)
    db = town["dir"] / "town.casework"
    assert _new(runner, town, db).exit_code == 0
    signer = keys.load_signer(town["town"], PASSPHRASE, expected_role=keys.Role.TOWN_COMMITTEE)
    year = CalendarYear(2027, frozenset({date(2027, 1, 1)}), frozenset(), "2027 年通知（测试）")
    year_file = town["dir"] / "2027.json"
    year_file.write_bytes(sign_calendar([year], signer))
    store = CaseworkStore.open(db)
    at = datetime(2026, 12, 28, 10, tzinfo=TOWN_TIME)
    step = lodge_objection(
        store.ledger,
        at=at,
        calendar=load_calendar(year_file, town_key=store.town_key),
        branch="B01",
        channel=Channel.IN_PERSON,
        about="",
        what="计票时有选票未展示",
        publicity_end=date(2026, 12, 31),
        elected=frozenset(),
    )
    store.lodge(step, at=at, actor="clerk", random=secrets.token_bytes)
    store.close()

    out = town["dir"] / "bundle"
    r = runner.invoke(app, ["casework", "export", str(db), "--out", str(out), "--json"])
    assert r.exit_code != 0 and json.loads(r.output)["code"] == "casework.calendar_needed"
    other, _ = make_key(town["dir"], keys.Role.TOWN_COMMITTEE, "别的镇党委", "other")
    other_signer = keys.load_signer(other, PASSPHRASE, expected_role=keys.Role.TOWN_COMMITTEE)
    other_file = town["dir"] / "other-2027.json"
    other_file.write_bytes(sign_calendar([year], other_signer))
    r = runner.invoke(
        app,
        ["casework", "export", str(db), "--out", str(out), "--json", "--calendar", str(other_file)],
    )
    assert r.exit_code != 0 and json.loads(r.output)["code"] == "calendar.wrong_key"
    r = runner.invoke(
        app, ["casework", "export", str(db), "--out", str(out), "--calendar", str(year_file)]
    )
    assert r.exit_code == 0, r.output
    written = json.loads((out / "calendar.json").read_bytes())
    assert written["format"] == "signed-calendar/1"
    assert "calendar.json" in {
        f["path"] for f in json.loads((out / "index.json").read_bytes())["files"]
    }
