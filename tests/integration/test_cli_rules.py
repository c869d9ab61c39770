"""`tally check` and `tally simulate` as a clerk runs them, through the real console script."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers.elections import definition_text

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"


def tally(*args: str | Path, lang: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {"PATH": "/usr/bin:/bin", "TALLY_LANG": lang or "zh"}
    return subprocess.run(
        [sys.executable, "-m", "tally", *map(str, args)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=60,
        check=False,
    )


def test_check_example_prints_summary_in_chinese() -> None:
    r = tally("check", EXAMPLES / "qingshan.toml")
    assert r.returncode == 0, r.stderr
    assert "应到会有选举权人数 E=25" in r.stdout
    assert "核对通过" in r.stdout


def test_check_small_branch_in_english_and_json() -> None:
    r = tally("check", EXAMPLES / "shiqiao.toml", "--lang", "en")
    assert r.returncode == 0 and "The definition is valid." in r.stdout
    j = tally("check", EXAMPLES / "shiqiao.toml", "--json")
    data = json.loads(j.stdout)
    assert data["ok"] is True and data["expected_electors"] == 6
    assert [p["post"] for p in data["posts"]] == ["secretary"]


def test_check_bad_definition_lists_every_problem_and_exits_1(tmp_path: Path) -> None:
    bad = (EXAMPLES / "qingshan.toml").read_text(encoding="utf-8")
    bad = bad.replace("seats = 5", "seats = 0").replace('preset = "R2020"', 'preset = "R1"')
    f = tmp_path / "bad.toml"
    f.write_text(bad, encoding="utf-8")
    r = tally("check", f)
    assert r.returncode == 1
    assert "posts[0].seats" in r.stderr and "preset" in r.stderr
    assert r.stdout == ""
    j = tally("check", f, "--json")
    assert j.returncode == 1
    codes = {p["code"] for p in json.loads(j.stdout)["problems"]}
    assert {"post.seats", "field.choice"} <= codes


@pytest.mark.parametrize(
    ("content", "needle"),
    [(None, "找不到文件"), (b"\xff\xfe", "UTF-8"), (b"format = [", "TOML")],
    ids=["missing", "not-utf8", "malformed"],
)
def test_check_unreadable_file_is_one_clear_line(
    tmp_path: Path, content: bytes | None, needle: str
) -> None:
    f = tmp_path / "x.toml"
    if content is not None:
        f.write_bytes(content)
    r = tally("check", f)
    assert r.returncode == 1
    assert needle in r.stderr


def test_simulate_example_elects_committee_then_secretary() -> None:
    r = tally(
        "simulate",
        EXAMPLES / "qingshan.toml",
        "--ballots",
        EXAMPLES / "qingshan.ballots.toml",
        "--json",
    )
    assert r.returncode == 0, r.stderr
    data = json.loads(r.stdout)
    assert data["finished"] is True
    assert sorted(data["elected"]["committee"]) == ["M001", "M002", "M003", "M004", "M005"]
    assert data["elected"]["secretary"] == ["M005"]
    first = data["rounds"][0]
    assert (first["valid_ballots"], first["invalid_ballots"]) == (22, 1)
    human = tally(
        "simulate", EXAMPLES / "qingshan.toml", "--ballots", EXAMPLES / "qingshan.ballots.toml"
    )
    assert "选举结束" in human.stdout and "至少 13 票" in human.stdout


def test_simulate_small_branch_tie_then_runoff(tmp_path: Path) -> None:
    marks = tmp_path / "m.toml"
    marks.write_text(
        'format = "ballot-marks/1"\n'
        '[[steps]]\npost = "secretary"\npresent = 6\n'
        'ballots = [{ marks = "ox", count = 3 }, { marks = "xo", count = 3 }]\n'
        '[[steps]]\npost = "secretary"\npresent = 6\n'
        'ballots = [{ marks = "ox", count = 4 }, { marks = "xo", count = 2 }]\n',
        encoding="utf-8",
    )
    r = tally("simulate", EXAMPLES / "shiqiao.toml", "--ballots", marks, "--json")
    assert r.returncode == 0, r.stderr
    data = json.loads(r.stdout)
    # 3 of E=6 is exactly half: nobody passes; a further round follows (R13, R16).
    assert data["rounds"][0]["shortfall"] == 1
    assert data["rounds"][1]["purpose"] == "further"
    assert data["elected"]["secretary"] == ["S002"]


def test_simulate_refuses_a_round_for_the_wrong_post(tmp_path: Path) -> None:
    marks = tmp_path / "m.toml"
    marks.write_text(
        'format = "ballot-marks/1"\n[[steps]]\npost = "secretary"\npresent = 23\nballots = []\n',
        encoding="utf-8",
    )
    r = tally("simulate", EXAMPLES / "qingshan.toml", "--ballots", marks)
    assert r.returncode == 1
    assert "委员" in r.stderr


def test_check_warns_on_seven_full_members_on_the_roster_without_a_committee_R23(
    tmp_path: Path,
) -> None:
    # 7 full members on the roster: one registered elsewhere, one excluded; 5 expected electors.
    text = definition_text(full=7, committee_seats=None, exclusions=1).replace(
        'id = "M003"', 'id = "M003"\nregistered_here = false'
    )
    f = tmp_path / "seven.toml"
    f.write_text(text, encoding="utf-8")
    r = tally("check", f)
    assert r.returncode == 0, r.stderr
    assert "名册上有 7 名正式党员" in r.stdout + r.stderr
    six = tmp_path / "six.toml"
    six.write_text(definition_text(full=6, committee_seats=None), encoding="utf-8")
    r = tally("check", six, "--lang", "en")
    assert r.returncode == 0, r.stderr
    assert "R23" not in r.stdout + r.stderr
