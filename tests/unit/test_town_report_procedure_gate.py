"""The town report's procedure gate (spec/procedure.md RP-13.2, V29): ``verify_procedure`` runs
``verifier procedure`` with the branch's election bundle, and passes a bundle only when the
verifier passed it with V29 checked. The verifier's process is replaced by its recorded answer."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tally import town_report


def _answer(monkeypatch: pytest.MonkeyPatch, report: dict[str, Any], code: int) -> list[str]:
    """Make the verifier's process answer ``report`` with exit ``code``; the arguments it got."""
    seen: list[str] = []

    def run(args: list[str]) -> subprocess.CompletedProcess[str]:
        seen.extend(args)
        return subprocess.CompletedProcess(args, code, json.dumps(report), "")

    monkeypatch.setattr(town_report, "run_verifier", run)
    return seen


def _gate(tmp_path: Path) -> dict[str, Any]:
    return town_report.verify_procedure(
        tmp_path / "procedure", tmp_path / "town.pub", tmp_path, tmp_path / "bundle.zip"
    )


def test_the_gate_gives_the_election_bundle_for_v29_and_covers_v20_to_v31(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    seen = _answer(monkeypatch, {"ok": True, "findings": [], "not_checked": []}, 0)
    got = _gate(tmp_path)
    assert seen[seen.index("--election") + 1] == str(tmp_path / "bundle.zip")
    assert seen[seen.index("--casework") + 1] == str(tmp_path)
    assert got == {"clauses": "V20-V31", "status": "passed", "failures": [], "not_checked": []}


def test_a_procedure_whose_v29_was_not_checked_fails_the_gate(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    why = {"clause": "V29", "zh": "日志中尚未登记选举", "en": "no election is bound in the log yet"}
    _answer(monkeypatch, {"ok": True, "findings": [], "not_checked": [why]}, 0)
    got = _gate(tmp_path)
    assert got["status"] == "failed" and got["not_checked"] == ["V29"]
    (failure,) = got["failures"]
    assert failure["code"] == "town.election_not_bound"
    assert "no election is bound in the log yet" in failure["en"]
    assert "日志中尚未登记选举" in failure["zh"]


def test_a_v29_finding_fails_the_gate_with_its_code(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    finding = {"clause": "V29", "code": "binding.manifest", "zh": "选举清单与登记的不一致",
               "en": "the manifest differs from the one bound"}  # fmt: skip
    _answer(monkeypatch, {"ok": False, "findings": [finding], "not_checked": []}, 1)
    got = _gate(tmp_path)
    assert got["status"] == "failed"
    assert [f["code"] for f in got["failures"]] == ["binding.manifest"]


def test_a_verifier_killed_after_the_timeout_fails_the_gate_with_verifier_timeout(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    def run(args: list[str]) -> subprocess.CompletedProcess[str]:
        return subprocess.CompletedProcess(args, town_report.TIMED_OUT, '{"ok": tr', "timed out")

    monkeypatch.setattr(town_report, "run_verifier", run)
    got = _gate(tmp_path)
    assert got["status"] == "failed"
    assert [f["code"] for f in got["failures"]] == ["verifier.timeout"]
    assert "timed out" in got["failures"][0]["en"]
