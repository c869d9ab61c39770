"""R23 in the independent verifier (spec/bundle.md V5, spec/rules.md R23): a branch without a
committee post whose roster has 7 or more full members gets a warning, never a failure; with 6
full members (and one probationary, who does not count) it gets none. The bundles are made by the
producer through the `tally` CLI, as on polling day (the example branch Shiqiao)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.helpers.cli_election import Election

ROOT = Path(__file__).resolve().parents[2]
SHIQIAO = ROOT / "examples" / "shiqiao.toml"


def _published_report(tmp_path: Path, definition: Path, present: list[str]) -> dict[str, Any]:
    tmp_path.mkdir(exist_ok=True)
    e = Election(tmp_path, definition)
    e.checkin(present)
    votes = ["ox"] * (len(present) - 1) + ["xo"]
    out = e.vote("secretary", 1, votes)
    assert out["elected"] == ["S002"]
    published = e.finish()  # the verifier passes the folder and the zip (exit 0)
    return e.verify(published / "bundle")


def test_a_branch_without_committee_and_seven_full_members_gets_the_R23_warning(
    tmp_path: Path,
) -> None:
    text = SHIQIAO.read_text(encoding="utf-8")
    assert text.count('status = "probationary"') == 1
    seven = tmp_path / "seven.toml"
    seven.write_text(text.replace('status = "probationary"', 'status = "full"'), encoding="utf-8")
    report = _published_report(tmp_path / "e", seven, [f"S00{i}" for i in range(1, 7)])
    assert report["ok"] is True
    warnings = [(w["clause"], w["code"], w["rule"]) for w in report["warnings"]]
    assert warnings == [("V5", "branch.no_committee", "R23")]
    assert "7 名正式党员" in report["warnings"][0]["zh"]


def test_a_branch_without_committee_and_six_full_members_gets_no_warning(tmp_path: Path) -> None:
    report = _published_report(tmp_path, SHIQIAO, ["S001", "S002", "S003", "S004", "S005"])
    assert report["ok"] is True
    assert report["warnings"] == []
