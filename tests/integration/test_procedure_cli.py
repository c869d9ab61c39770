"""`tally procedure new` and `tally procedure check` as the work group and the town run them
(spec/procedure.md §2): new → check, signed and not, and a broken file → one clear line per
problem, exit 1, the same as JSON with `--json`."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

import keys
from tally.cli import app
from tests.helpers.polling import ENV, make_key
from tests.helpers.procedure import EXAMPLE

ROOT = Path(__file__).resolve().parents[2]


class Keys:
    def __init__(self, folder: Path) -> None:
        self.town, self.town_pub = make_key(folder, keys.Role.TOWN_COMMITTEE, "红旗镇党委", "town")
        self.other_town, self.other_town_pub = make_key(
            folder, keys.Role.TOWN_COMMITTEE, "白云镇党委", "other"
        )
        _, self.wg_pub = make_key(folder, keys.Role.WORK_GROUP, "工作组", "wg")
        self.s_pubs = [
            make_key(folder, keys.Role.SCRUTINEER, name, f"s{i}")[1]
            for i, name in enumerate(("黄德明", "赵红梅"))
        ]

    def new_args(self, source: Path, out: Path) -> list[str]:
        args = ["procedure", "new", str(source), "--work-group-pub", str(self.wg_pub)]
        for p in self.s_pubs:
            args += ["--scrutineer-pub", str(p)]
        return [*args, "--out", str(out)]


@pytest.fixture(scope="module")
def k(tmp_path_factory: pytest.TempPathFactory) -> Keys:
    return Keys(tmp_path_factory.mktemp("keys"))


def run(*args: str | Path) -> Result:
    return CliRunner(env=ENV).invoke(app, [str(a) for a in args])


def test_new_then_check_an_unsigned_definition(k: Keys, tmp_path: Path) -> None:
    out = tmp_path / "procedure.json"
    r = run(*k.new_args(EXAMPLE, out))
    assert r.exit_code == 0, r.output
    assert "已写出换届程序定义（未签署" in r.stdout
    assert "委员：应选 5 名，初步人选 6 名" in r.stdout
    doc = json.loads(out.read_text(encoding="utf-8"))
    assert doc["format"] == "procedure/1"
    assert doc["posts"][0]["preliminary_size"] == 6  # the default, written out
    c = run("procedure", "check", out)
    assert c.exit_code == 0, c.output
    assert "换届程序定义检查通过（未签署）" in c.stdout
    assert "可被推荐的党员 25 名" in c.stdout


def test_new_signed_by_the_town_then_check_against_key_and_fingerprint(
    k: Keys, tmp_path: Path
) -> None:
    out = tmp_path / "signed.json"
    r = run(*k.new_args(EXAMPLE, out), "--town-key", k.town, "--json")
    assert r.exit_code == 0, r.output
    made = json.loads(r.stdout)
    assert made["ok"] is True and made["signed"] is True
    assert json.loads(out.read_bytes())["format"] == "signed-procedure/1"
    c = run("procedure", "check", out, "--town-key", k.town_pub, "--json")
    assert c.exit_code == 0, c.output
    checked = json.loads(c.stdout)
    assert checked["procedure_id"] == made["procedure_id"]
    assert checked["town_fingerprint"] == made["town_fingerprint"]
    assert checked["warnings"] == []
    en = run("--lang", "en", "procedure", "check", out, "--town-key", made["town_fingerprint"])
    assert en.exit_code == 0, en.output
    assert "the town committee's signature verifies" in en.stdout
    assert f"procedure id: {made['procedure_id']}" in en.stdout


def test_a_broken_input_gives_one_line_per_problem_and_exit_1(k: Keys, tmp_path: Path) -> None:
    text = EXAMPLE.read_text(encoding="utf-8")
    text = text.replace('branch_code = "qingshan"', 'branch_code = "青山村"')
    text = text.replace("public_representatives = 60", "public_representatives = 0")
    bad = tmp_path / "bad.toml"
    bad.write_text(text, encoding="utf-8")
    out = tmp_path / "out.json"
    r = run(*k.new_args(bad, out))
    assert r.exit_code == 1
    lines = r.stderr.strip().splitlines()
    # R = 0 is out of range, and so is Q, which defaults to R (RP-2.2).
    assert lines[-1] == "错误：换届程序定义有 3 个问题"
    assert [x.split(":")[0] for x in lines[:-1]] == [
        "election.branch_code",
        "recommendation.public_representatives",
        "evaluation.public_representatives",
    ]
    assert lines[0].startswith("election.branch_code: 支部代码")
    assert r.stdout == ""
    assert not out.exists()
    j = run(*k.new_args(bad, out), "--json", "--lang", "en")
    assert j.exit_code == 1
    body = json.loads(j.stdout)
    assert body["ok"] is False and body["code"] == "procedure.invalid"
    assert {p["code"] for p in body["problems"]} == {
        "procedure.branch_code",
        "procedure.parameter",
    }
    assert body["message"] == "the procedure definition has 3 problem(s)"


def test_a_ballot_order_out_of_stroke_order_is_a_warning_not_a_refusal(
    k: Keys, tmp_path: Path
) -> None:
    """R29: the order is the town's; the software suggests and the clerk confirms."""
    text = EXAMPLE.read_text(encoding="utf-8").replace(
        '"M001", "M022", "M023"', '"M023", "M022", "M001"'
    )
    source = tmp_path / "swapped.toml"
    source.write_text(text, encoding="utf-8")
    r = run(*k.new_args(source, tmp_path / "p.json"))
    assert r.exit_code == 0, r.output
    assert (
        "注意：推荐票排列顺序与姓氏笔画顺序建议不一致（R29）：建议 丁建国、于福贵、万金花"
        in r.stdout
    )
    ok = run(*k.new_args(EXAMPLE, tmp_path / "q.json"))
    assert "姓氏笔画" not in ok.stdout
    j = run("procedure", "check", tmp_path / "p.json", "--json", "--lang", "en")
    assert j.exit_code == 0
    [warning] = json.loads(j.stdout)["warnings"]
    assert warning.startswith("warning: the ballot order differs from the stroke-count")


def test_a_toml_syntax_error_names_its_line(k: Keys, tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('format = "procedure/1"\nseats = 5 5\n', encoding="utf-8")
    r = run(*k.new_args(bad, tmp_path / "out.json"))
    assert r.exit_code == 1
    assert "2" in r.stderr.splitlines()[0]


def test_check_lists_every_rule_problem_of_an_edited_definition(k: Keys, tmp_path: Path) -> None:
    out = tmp_path / "procedure.json"
    assert run(*k.new_args(EXAMPLE, out)).exit_code == 0
    doc = json.loads(out.read_text(encoding="utf-8"))
    doc["ballot_order"].append("M027")
    doc["publicity_working_days"] = 4
    out.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    r = run("procedure", "check", out, "--json")
    assert r.exit_code == 1
    problems = json.loads(r.stdout)["problems"]
    assert [(p["code"], p["path"]) for p in problems] == [
        ("procedure.ballot_order", "ballot_order[25]"),
        ("procedure.parameter", "publicity_working_days"),
    ]


def test_check_a_signed_definition_needs_the_town_key(k: Keys, tmp_path: Path) -> None:
    out = tmp_path / "signed.json"
    assert run(*k.new_args(EXAMPLE, out), "--town-key", k.town).exit_code == 0
    r = run("procedure", "check", out, "--json")
    assert r.exit_code == 1
    assert json.loads(r.stdout)["code"] == "procedure.trust_root_missing"


def test_check_refuses_another_towns_key_and_a_changed_file(k: Keys, tmp_path: Path) -> None:
    out = tmp_path / "signed.json"
    assert run(*k.new_args(EXAMPLE, out), "--town-key", k.town).exit_code == 0
    other = run("procedure", "check", out, "--town-key", k.other_town_pub)
    assert other.exit_code == 1
    assert other.stderr.strip().splitlines() == [
        "错误：换届程序定义不是用本镇党委的公钥签署的（公钥指纹不符），不能使用"
    ]
    doc = json.loads(out.read_bytes())
    doc["procedure"]["election"]["term"] = "第十二届"
    out.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    changed = run("procedure", "check", out, "--town-key", k.town_pub, "--json")
    assert changed.exit_code == 1
    assert json.loads(changed.stdout)["code"] == "procedure.signature"


@pytest.mark.parametrize(
    ("content", "code"),
    [
        (b'{"format": "manifest/1"}', "procedure.format"),
        (b"{not json", "procedure.format"),
    ],
    ids=["another-format", "not-json"],
)
def test_check_refuses_a_file_that_is_no_procedure(
    tmp_path: Path, content: bytes, code: str
) -> None:
    f = tmp_path / "x.json"
    f.write_bytes(content)
    r = run("procedure", "check", f, "--json")
    assert r.exit_code == 1
    assert json.loads(r.stdout)["code"] == code


def test_new_never_overwrites_its_output(k: Keys, tmp_path: Path) -> None:
    out = tmp_path / "procedure.json"
    out.write_text("keep", encoding="utf-8")
    r = run(*k.new_args(EXAMPLE, out))
    assert r.exit_code == 1
    assert out.read_text(encoding="utf-8") == "keep"


def test_new_with_a_key_of_the_wrong_role_is_refused(k: Keys, tmp_path: Path) -> None:
    args = k.new_args(EXAMPLE, tmp_path / "p.json")
    args[args.index(str(k.wg_pub))] = str(k.town_pub)
    r = run(*args, "--json")
    assert r.exit_code == 1
    assert json.loads(r.stdout)["code"] == "key.role"


def test_the_console_script_runs_procedure_check(k: Keys, tmp_path: Path) -> None:
    out = tmp_path / "procedure.json"
    assert run(*k.new_args(EXAMPLE, out)).exit_code == 0
    r = subprocess.run(
        [sys.executable, "-m", "tally", "--lang", "en", "procedure", "check", str(out)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={"PATH": "/usr/bin:/bin"},
        timeout=60,
        check=False,
    )
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("procedure definition checked (not signed)")
