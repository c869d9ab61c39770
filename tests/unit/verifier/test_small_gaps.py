"""Issue 15, point 4: the small gaps. Each case fails exactly the named clause with its code.

A repeated checkpoint (V7 ``checkpoint.repeated``), a ``remote-casts`` checkpoint (a reason of remote
ballots version 1: version 2 makes no checkpoint inside the remote window, RV-4.3), zip directory
entries and extra folders (V1, spec/bundle.md §1).
"""

from __future__ import annotations

import datetime as dt
import json
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.unit.verifier import builder as B
from tests.unit.verifier import builder_remote_v2 as V
from tests.unit.verifier.conftest import TOWN_FP
from verifier.checks import TownKey, verify_bundle
from verifier.report import Report, render_json, render_text

Files = dict[str, bytes]
Runner = Callable[..., Report]


def _codes(report: Report) -> set[tuple[str, str]]:
    return {(f.clause, f.code) for c in report.clauses for f in c.findings}


def _findings(report: Report, clause: str) -> list[Any]:
    return [f for c in report.clauses if c.clause == clause for f in c.findings]


def _repeat_checkpoint(files: Files, i: int) -> Files:
    doc = json.loads(files["checkpoints.json"])
    cps = doc["checkpoints"]
    cps.insert(i + 1, {"text": cps[i]["text"], "consistency": []})
    return {**files, "checkpoints.json": B.jcs(doc)}


@pytest.mark.parametrize("which", [0, 1, -1], ids=["first", "second", "result"])
def test_the_same_checkpoint_twice_fails_V7_repeated(
    good_files: Files, run: Runner, which: int
) -> None:
    n = len(json.loads(good_files["checkpoints.json"])["checkpoints"])
    report = run(_repeat_checkpoint(good_files, which % n))
    assert report.failed() == ("V7",), _codes(report)
    assert _codes(report) == {("V7", "checkpoint.repeated")}


@pytest.fixture(scope="module")
def election() -> V.Election:
    return V.Election()


def _with_remote_casts_after(election: V.Election, etype: str) -> Files:
    """A ``remote-casts`` checkpoint (RM-8.2; version 2 makes none, RV-4.3) after ``etype``."""
    ev = election.script()
    i = next(k for k, (t, _) in enumerate(ev) if t == etype)
    ev[i] = [ev[i][0], {**ev[i][1], "_checkpoint": "remote-casts"}]
    return election.build(ev)


@pytest.mark.parametrize("after", ["remote.credential_issued", "member.checked_in"])
def test_a_remote_casts_checkpoint_anywhere_is_malformed_V7(
    election: V.Election, run: Runner, after: str
) -> None:
    # inside the remote window (after a credential) as well as after it: the reason is gone. The
    # next checkpoint's consistency proof starts from the refused one, so it cannot be checked.
    report = run(_with_remote_casts_after(election, after))
    assert report.failed() == ("V7",), _codes(report)
    assert _codes(report) == {("V7", "checkpoint.malformed"), ("V7", "checkpoint.consistency")}


def _zip_with_directories(files: Files, path: Path, dirs: list[str]) -> Path:
    B.write_zip(files, path)
    with zipfile.ZipFile(path, "a") as z:
        for d in dirs:
            z.writestr(zipfile.ZipInfo(d), b"")
    return path


@pytest.mark.parametrize("dirs", [["stocks/"], ["extra/"], ["stocks/", "a/b/"]])
def test_zip_directory_entries_fail_V1(good_files: Files, tmp_path: Path, dirs: list[str]) -> None:
    path = _zip_with_directories(good_files, tmp_path / "d.zip", dirs)
    report = verify_bundle(path, TownKey(fingerprint=TOWN_FP), jobs=1)
    assert report.failed() == ("V1",)
    assert {(f.code, f.file) for f in _findings(report, "V1")} == {
        ("bundle.directory_entry", d) for d in dirs
    }


@pytest.mark.parametrize("extra", ["empty", "nested/deeper", "stocks/old"])
def test_extra_empty_folders_fail_V1(good_files: Files, tmp_path: Path, extra: str) -> None:
    folder = B.write_folder(good_files, tmp_path / "b")
    (folder / extra).mkdir(parents=True)
    report = verify_bundle(folder, TownKey(fingerprint=TOWN_FP), jobs=1)
    assert report.failed() == ("V1",)
    want = {("bundle.extra_folder", extra + "/")}
    if extra == "nested/deeper":
        want.add(("bundle.extra_folder", "nested/"))
    assert {(f.code, f.file) for f in _findings(report, "V1")} == want


def test_folder_holding_only_indexed_files_passes(good_files: Files, run: Runner) -> None:
    assert run(good_files).ok


@pytest.mark.parametrize(
    "bad_id", ["\u041c01", "M\u200b01", "Ｍ01", "M 01", "-M01", "M" * 33], ids=repr
)
def test_a_member_id_that_is_not_ascii_of_the_pattern_fails_V3(run: Runner, bad_id: str) -> None:
    d = B.definition()
    d["members"][11]["id"] = bad_id  # M12, registered elsewhere: no entry names it
    report = run(B.build(man=B.manifest(d)))
    assert "V3" in report.failed()
    assert ("V3", "members.id_format") in _codes(report)


def test_ascii_member_ids_of_the_pattern_pass(run: Runner) -> None:
    d = B.definition()
    d["members"][11]["id"] = "a.b_c-9"
    assert run(B.build(man=B.manifest(d))).ok


def _names(run: Runner, **names: str) -> Report:
    d = B.definition()
    for m in d["members"]:
        m["name"] = names.get(m["id"], m["name"])
    return run(B.build(man=B.manifest(d)))


def test_a_name_mixing_scripts_is_a_V3_warning_not_a_failure(run: Runner) -> None:
    report = _names(run, M04="党员0\u0437")  # Cyrillic з beside Han
    assert report.ok
    assert [(w.clause, w.code, w.rule) for w in report.warnings] == [
        ("V3", "member.name_mixed_script", "D-5.3")
    ]
    assert "M04" in report.warnings[0].en
    assert "提示（V3，D-5.3）" in render_text(report)
    assert json.loads(render_json(report))["warnings"][0]["code"] == "member.name_mixed_script"


def test_a_name_with_another_members_skeleton_is_a_V3_warning(run: Runner) -> None:
    report = _names(run, M05="党\u200b员01")  # invisible space: 党员01's skeleton
    assert report.ok
    assert [(w.code, w.en) for w in report.warnings] == [
        ("member.name_confusable", "M05's name '党\\u200b员01' looks like M01's '党员01'")
    ]


def test_distinct_plain_names_give_no_warning(good_files: Files, run: Runner) -> None:
    assert run(good_files).warnings == ()


# ---------------------------------------------------------------- V17: the verifier's own calendar


def _calendar(files: Files, edit: Callable[[dict[str, list[str]]], None]) -> Files:
    doc = json.loads(files["result.json"])
    edit(doc["calendar"])
    return {**files, "result.json": B.jcs(doc)}


def _v17(report: Report) -> list[str]:
    return [f.code for f in _findings(report, "V17")]


@pytest.mark.parametrize(
    ("edit", "found"),
    [
        (lambda c: c["holidays"].remove("2026-01-01"), "holidays: 2026-01-01"),
        (lambda c: c["workdays"].remove("2026-02-14"), "workdays: 2026-02-14"),
        (lambda c: c.__setitem__("holidays", sorted([*c["holidays"], "2026-03-03"])), None),
    ],
    ids=["new-year-dropped", "make-up-saturday-dropped", "invented-holiday"],
)
def test_the_results_calendar_is_checked_outside_the_publicity_window_V17_A12_8(
    good_files: Files, run: Runner, edit: Callable[[dict[str, list[str]]], None], found: str | None
) -> None:
    report = run(_calendar(good_files, edit))
    assert report.failed() == ("V17",)
    assert _v17(report) == ["publicity.calendar_differs"]
    if found is not None:
        assert _findings(report, "V17")[0].found == found


def test_a_date_of_a_year_outside_the_election_and_publicity_fails_V17(
    good_files: Files, run: Runner
) -> None:
    report = run(
        _calendar(good_files, lambda c: c.__setitem__("holidays", ["2025-10-01", *c["holidays"]]))
    )
    assert _v17(report) == ["publicity.calendar_differs"]
    assert _findings(report, "V17")[0].found == "2025-10-01"


def test_a_signed_year_file_that_contradicts_the_library_fails_V17_R26_3(
    good_files: Files, run: Runner
) -> None:
    from tally.calendar import CalendarYear, sign_calendar  # noqa: PLC0415

    cal = B.calendar_2026()
    holidays = frozenset(dt.date.fromisoformat(x) for x in cal["holidays"] if x != "2026-01-01")
    workdays = frozenset(dt.date.fromisoformat(x) for x in cal["workdays"])
    signed = sign_calendar([CalendarYear(2026, holidays, workdays, "test")], B.TOWN)
    files = _calendar(good_files, lambda c: c["holidays"].remove("2026-01-01"))
    report = run({**files, "calendar.json": signed})
    assert report.failed() == ("V17",)
    assert _v17(report) == ["publicity.calendar_conflict", "publicity.calendar_differs"]


@pytest.mark.parametrize("at", ["9999-12-31T23:00:00+08:00", "2400-06-01T10:00:00+08:00"])
def test_an_announcement_far_in_the_future_fails_V17_without_a_crash(run: Runner, at: str) -> None:
    ev = B.script()
    assert ev[-1][0] == "election.result"
    ev[-1][1]["_at"] = at
    report = run(B.build(ev))
    assert "V17" in report.failed()
    assert set(_v17(report)) <= {"publicity.date", "publicity.calendar_unsigned_year"}
