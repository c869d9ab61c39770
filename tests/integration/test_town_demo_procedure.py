"""`tally demo`: every branch runs the procedure before and after its election (issue 18 point 6,
spec/procedure.md RP-13.2), and the town report's procedure figures are the log's."""

from __future__ import annotations

import hashlib
import json
import shutil
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader
from typer.testing import CliRunner

from tally.cli import app
from tally.demo_casework import CASEWORK_DAY
from tally.procedure_store import ProcedureStore
from tally.town_report import procedure_lines, procedure_report

BRANCHES = 3


@pytest.fixture(scope="module")
def town(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("procedure-town") / "town"
    r = CliRunner().invoke(
        app, ["demo", "--out", str(out), "--branches", str(BRANCHES), "--seed", "11"]
    )
    assert r.exit_code == 0, r.output
    return out


def _log(town: Path, i: int) -> list[dict[str, Any]]:
    """The published procedure bundle's log of branch ``i`` (1-based)."""
    raw = (town / f"branch-{i:02d}" / "published" / "procedure" / "log.jsonl").read_bytes()
    return [json.loads(line) for line in raw.splitlines()]


def _report(town: Path) -> list[dict[str, Any]]:
    doc = json.loads((town / "town-report.json").read_text(encoding="utf-8"))
    branches: list[dict[str, Any]] = doc["branches"]
    return branches


def test_every_branch_reaches_the_appointment_or_waits_on_its_open_objection(town: Path) -> None:
    last = {}
    for i in range(1, BRANCHES + 1):
        store = ProcedureStore.open(town / f"branch-{i:02d}" / "procedure.sqlite")
        try:
            types = [e.type for e in store.entries()]
        finally:
            store.close()
        # the whole procedure, in its order, before the town's last act
        for step in ("recommendation.counted", "preliminary.proposed", "evaluation.counted",
                     "vetting.recorded", "candidates.approved", "election.bound",
                     "election.concluded"):  # fmt: skip
            assert step in types, (i, step)
        assert {"member", "public"} <= {
            e["body"]["group"] for e in _log(town, i) if e["type"] == "recommendation.opened"
        }
        last[i] = types[-1]
    # The demo's objection still waiting (lodged after publicity) is branch 1's: its appointment
    # is refused and left pending; every other branch is appointed.
    assert last == {1: "election.concluded", 2: "appointment.recorded", 3: "appointment.recorded"}
    pending = _report(town)[0]["procedure"]["appointment"]
    assert pending == {"state": "pending", "refused": "appointment.objection_open"}


def test_each_branch_binds_its_own_election_manifest_and_publishes_its_notice(town: Path) -> None:
    for i in range(1, BRANCHES + 1):
        folder = town / f"branch-{i:02d}"
        bound = next(e for e in _log(town, i) if e["type"] == "election.bound")
        digest = hashlib.sha256((folder / "manifest.json").read_bytes()).hexdigest()
        assert bound["body"]["manifest_sha256"] == digest
        assert (folder / "published" / "procedure" / "procedure.json").exists()
        assert (folder / "published" / "procedure-notice.pdf").stat().st_size > 1_000


def _expected_figures(log: list[dict[str, Any]]) -> dict[str, Any]:
    """The RP-13.2 figures counted straight from the log's entries."""
    entered: Counter[tuple[str, str, int]] = Counter()
    issued: dict[tuple[str, str, int], int] = {}
    for e in log:
        b = e["body"]
        if e["type"] == "recommendation.entered":
            entered[b["group"], b["post"], b["round"]] += 1
        elif e["type"] == "ballots.issued" and b["form"] != "evaluation":
            issued[b["form"], b["post"], b["round"]] = b["count"]
    last = {e["type"]: e["body"] for e in log}
    formal = {
        p["post"]: len(p["candidates"]) for p in last["candidates.approved"]["approval"]["posts"]
    }
    stopped = {p["post"]: p["stopped"] for p in last["vetting.recorded"]["posts"]}
    results = last["evaluation.counted"]["results"]
    return {
        "ballots": {k: (issued[k], n) for k, n in entered.items()},
        "lists": {
            p["post"]: (len(p["names"]), formal[p["post"]], len(stopped[p["post"]]))
            for p in last["preliminary.proposed"]["posts"]
        },
        "did_not_proceed": sum(r["outcome"] == "does_not_proceed" for r in results),
        "appointment": (
            last["appointment.recorded"]["appointment"]["date"]
            if "appointment.recorded" in last
            else None
        ),
    }


def test_town_report_procedure_figures_equal_the_logs_rp_13_2(town: Path) -> None:
    stops = 0
    for i, branch in enumerate(_report(town), start=1):
        want = _expected_figures(_log(town, i))
        got = branch["procedure"]
        # numbers only from a bundle `verifier procedure` passed (V29 against the branch's
        # election bundle, V30 and V31 with the casework bundle)
        assert got["verifier_gate"] == "passed"
        assert got["verification"]["status"] == "passed"
        assert got["verification"]["clauses"] == "V20-V31"
        assert "V29" not in got["verification"]["not_checked"]  # checked, and it passed
        assert ("V30" in got["verification"]["not_checked"]) == (i == 1)  # no appointment yet
        assert got["recommendation"]["member_group_held"]
        assert got["recommendation"]["public_group_held"]
        sessions = {
            (s["form"], s["post"], s["round"]): (s["issued"], s["valid"] + s["invalid"])
            for s in got["recommendation"]["sessions"]
        }
        assert sessions == want["ballots"]
        lists = {
            x["post"]: (x["preliminary"], x["formal"], sum(x["not_proceeding"].values()))
            for x in got["lists"]
        }
        assert lists == want["lists"]
        assert sum(r["did_not_proceed"] for r in got["evaluation"]) == want["did_not_proceed"]
        assert got["appointment"].get("date") == want["appointment"]
        stops += want["did_not_proceed"]
    # the demo's evaluation stops a preliminary name somewhere: the "not proceeding" figures
    # are not all zero
    assert stops > 0


def test_town_report_pdf_shows_each_branchs_verified_procedure(town: Path) -> None:
    reader = PdfReader(town / "town-report.pdf")
    text = "\n".join(page.extract_text() for page in reader.pages)
    assert text.count("换届程序（已经 verifier procedure 核验）") == BRANCHES
    assert "任命：待任命（有异议未办结）" in text
    assert "委员人选：初步 7 名，正式候选人 6 名，不再列入 测评未通过 1" in text


def test_a_tampered_procedure_bundle_gives_the_findings_and_no_number_rp_13_2(
    town: Path, tmp_path: Path
) -> None:
    folder = tmp_path / "branch-02"
    shutil.copytree(town / "branch-02", folder)
    log = folder / "published" / "procedure" / "log.jsonl"
    log.write_bytes(log.read_bytes().replace(b'"valid_ballots":', b'"valid_ballots":1', 1))
    got = procedure_report(
        folder / "published" / "procedure",
        folder / "town.pub",
        town / "casework" / "bundle",
        election=folder / "published" / "bundle.zip",
        cases=None,
        on=CASEWORK_DAY,
    )
    assert got["verifier_gate"] == "failed"
    assert got["verification"]["status"] == "failed" and got["verification"]["failures"]
    assert "lists" not in got and "recommendation" not in got
    lines = procedure_lines(got)
    assert len(lines) == 1 and "未通过核验" in lines[0]


def test_a_procedure_against_an_election_bundle_it_did_not_bind_gives_v29_and_no_number(
    town: Path, tmp_path: Path
) -> None:
    """(V29, RP-13.2) Branch 2's intact procedure bundle against branch 3's election bundle."""
    folder = town / "branch-02"
    got = procedure_report(
        folder / "published" / "procedure",
        folder / "town.pub",
        town / "casework" / "bundle",
        election=town / "branch-03" / "published" / "bundle.zip",
        cases=None,
        on=CASEWORK_DAY,
    )
    assert set(got) == {"verifier_gate", "verification"}
    assert got["verifier_gate"] == "failed"
    assert "binding.manifest" in {f["code"] for f in got["verification"]["failures"]}
