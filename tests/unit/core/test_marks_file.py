"""The ballot marks file (spec/marks-file.md): unknown write-in keys (B-1.3, B-5.4, RULES A12.12)
and the spec's own example, taken from the spec text and accepted as written (B-7)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tally.cli import app
from tally.core.definition import parse_definition
from tally.core.errors import DefinitionError
from tally.core.marks_file import ReduceSeatsStep, RoundStep, parse_marks_file

ROOT = Path(__file__).resolve().parents[3]
QINGSHAN = parse_definition((ROOT / "examples" / "qingshan.toml").read_text(encoding="utf-8"))


def _spec_example() -> str:
    text = (ROOT / "spec" / "marks-file.md").read_text(encoding="utf-8")
    section = text[text.index("## 7. Example") :]
    found = re.search(r"```toml\n(.*?)```", section, re.DOTALL)
    assert found is not None
    return found.group(1)


def test_spec_example_parses_as_written_B7() -> None:
    steps = parse_marks_file(_spec_example(), QINGSHAN)
    assert [type(s) for s in steps] == [RoundStep, ReduceSeatsStep]
    assert isinstance(steps[1], ReduceSeatsStep) and steps[1].town_agreement


def test_spec_example_runs_in_tally_simulate_B6_B7(tmp_path: Path) -> None:
    marks = tmp_path / "example.toml"
    marks.write_text(_spec_example(), encoding="utf-8")
    out = CliRunner().invoke(
        app,
        ["simulate", str(ROOT / "examples" / "qingshan.toml"), "--ballots", str(marks)],
        env={"TALLY_LANG": "zh"},
    )
    assert out.exit_code == 0, out.output
    assert "委员名额减为 4 名" in out.output


@pytest.mark.parametrize("key", ["mark", "member", "Marked", "note"])
def test_unknown_key_in_a_write_in_table_is_refused_B5_4_A12_12(key: str) -> None:
    text = (
        'format = "ballot-marks/1"\n[[steps]]\npost = "committee"\npresent = 23\n'
        f'ballots = [{{ marks = "oooo--", write_ins = [{{ name = "周玉兰", {key} = "o" }}] }}]\n'
    )
    with pytest.raises(DefinitionError) as err:
        parse_marks_file(text, QINGSHAN)
    problems = [(p.code, p.path) for p in err.value.problems]
    assert ("field.unknown", f"steps[0].ballots[0].write_ins[0].{key}") in problems


def test_write_in_table_with_name_and_marked_only_is_accepted_B5_1() -> None:
    text = (
        'format = "ballot-marks/1"\n[[steps]]\npost = "committee"\npresent = 23\n'
        'ballots = [{ marks = "oooo--", write_ins = [{ name = "周玉兰", marked = false }] }]\n'
    )
    (step,) = parse_marks_file(text, QINGSHAN)
    assert isinstance(step, RoundStep)
