"""`tally demo` at a reduced size: the whole town's election runs and every bundle verifies, and
`tally town-report` on its published bundles gives the same report."""

from __future__ import annotations

import json
from pathlib import Path

from rich.cells import cell_len
from typer.testing import CliRunner

from tally.cli import app
from tests.helpers.notice_text import compare_notice


def test_demo_town_runs_and_every_bundle_verifies(tmp_path: Path) -> None:
    out = tmp_path / "town"
    r = CliRunner().invoke(app, ["demo", "--out", str(out), "--branches", "6", "--seed", "11"])
    assert r.exit_code == 0, r.output
    report = json.loads((out / "town-report.json").read_text(encoding="utf-8"))
    branches = report["branches"]
    assert len(branches) == 6
    assert all(b["verified"] for b in branches)
    scenarios = {b["scenario"]: b for b in branches}
    # The plan: a tie with its runoff, a shortfall with its further round, a void round re-voted.
    assert {"tie", "shortfall", "void"} <= set(scenarios)
    assert all(scenarios[s]["rounds"] == 3 for s in ("tie", "shortfall", "void"))
    assert any("committee" not in b["elected"] for b in branches)  # a branch without a committee
    assert (out / "town-report.pdf").stat().st_size > 5_000
    assert report["shares"]["secretaries"] == 6
    # Some absent members voted remotely, and the verifier rechecked their ballots too.
    assert sum(b["remote_ballots"] for b in branches) > 0
    for i in range(1, 7):
        assert (out / f"branch-{i:02d}" / "published" / "bundle.zip").exists()
        assert (out / f"branch-{i:02d}" / "published" / "notice.pdf").exists()
    # The summary table fits an 80-column terminal with its right edge, the verdict of every branch
    # shown, and every elected name whole on one line (never cut by an ellipsis or split).
    table = [line for line in r.stdout.splitlines() if line.startswith(("┃", "│", "┏", "└"))]
    assert table and all(cell_len(line) <= 80 and line[-1] in "┃│┓┘" for line in table)
    assert "…" not in r.stdout
    assert sum("│ 通过 │" in line for line in table) == 6
    words = {w for line in table if line[0] == "│" for w in line.split("│")[-2].split()}
    for b in branches:
        for names in b["elected"].values():
            assert set(names) <= words, names
    # Every number on every branch's notice (runoff, further round, void re-vote, remote ballots)
    # equals its bundle (RULES A13).
    for i in range(1, 7):
        compare_notice(out / f"branch-{i:02d}" / "published")
    # `tally town-report` on the six published folders (with the remote voters' branch) gives
    # the report the demo computed from its own files, less the demo's plan (RP-13.2).
    r = CliRunner().invoke(
        app,
        [
            "town-report",
            *(str(out / f"branch-{i:02d}" / "published") for i in range(1, 7)),
            "--town-key",
            str(out / "casework" / "town.pub"),
            "--casework",
            str(out / "casework" / "bundle"),
            "--on",
            "2026-12-28",
            "--out",
            str(tmp_path / "report.pdf"),
            "--json",
        ],
    )
    assert r.exit_code == 0, r.output
    got = json.loads(r.stdout)
    for b in report["branches"]:
        del b["scenario"]
    assert {k: got[k] for k in report} == report


def test_demo_refuses_a_bad_jobs_in_one_line_before_anything_runs(tmp_path: Path) -> None:
    out = tmp_path / "town"
    for jobs in ("0", "-1", "many"):
        r = CliRunner().invoke(app, ["demo", "--out", str(out), "--jobs", jobs])
        assert r.exit_code == 1
        assert r.stderr.count("\n") == 1 and r.stderr.startswith("错误：--jobs")
        assert not out.exists()
    r = CliRunner().invoke(app, ["demo", "--out", str(out), "--jobs", "0", "--lang", "en"])
    assert r.stderr.startswith("error: --jobs is a whole number of at least 1")
