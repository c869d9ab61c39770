"""V4/V5 on definitions a dishonest producer signs: each A12 refusal is found by the verifier."""

from __future__ import annotations

import base64
import datetime as dt
import json
from collections.abc import Callable
from typing import Any

import pytest

from tests.unit.verifier import builder as B
from verifier.report import Report

Runner = Callable[..., Report]


def codes(report: Report, clause: str) -> list[str]:
    [result] = [c for c in report.clauses if c.clause == clause]
    return [f.code for f in result.findings]


def run_with(run: Runner, edit: Callable[[dict[str, Any]], None]) -> Report:
    d = B.definition()
    edit(d)
    return run(B.build(B.script(), man=B.manifest(d)))


def test_V5_fewer_candidates_than_seats_is_too_few_candidates_A12_13(run: Runner) -> None:
    def edit(d: dict[str, Any]) -> None:
        d["posts"][1].update({"candidates": [], "margin": "none"})

    found = codes(run_with(run, edit), "V5")
    assert "post.too_few_candidates" in found
    assert "post.margin" not in found


def test_V5_a_committee_short_of_its_margin_is_post_margin_R18(run: Runner) -> None:
    def edit(d: dict[str, Any]) -> None:
        d["posts"][0]["candidates"] = ["M01", "M02", "M03"]

    found = codes(run_with(run, edit), "V5")
    assert "post.margin" in found
    assert "post.too_few_candidates" not in found


@pytest.mark.parametrize("category", ["party_probation", "membership_stopped", "detained"])
def test_V4_an_exclusion_of_a_never_elector_category_is_refused_R3_4(
    run: Runner, category: str
) -> None:
    def edit(d: dict[str, Any]) -> None:
        d["exclusions"][0]["category"] = category

    report = run_with(run, edit)
    assert codes(report, "V4") == ["exclusion.category_not_elector"]


# ----------------------------------------------------------------------- V17 publicity (R26)


def _announced(ev: list[list[Any]], at: str, start: str, end: str) -> None:
    assert ev[-1][0] == "election.result"
    ev[-1][1].update({"_at": at, "publicity_start": start, "publicity_end": end})


def test_V17_day_1_is_the_first_working_day_after_the_announcement_R26_1(run: Runner) -> None:
    # Election 2026-09-29; the result announced on 09-30 in the evening: the next working day is
    # 10-08 (National Day week), then 10-09, the make-up Saturday 10-10, 10-12 and 10-13.
    ev = B.script()
    _announced(ev, "2026-09-30T20:00:00+08:00", "2026-10-08", "2026-10-13")
    assert run(B.build(ev)).ok
    stale = B.script()
    _announced(stale, "2026-09-30T20:00:00+08:00", "2026-09-30", "2026-10-12")
    report = run(B.build(stale))
    assert set(report.failed()) == {"V17"}
    assert codes(report, "V17") == ["publicity.start", "publicity.end"]


def test_V17_publicity_below_five_working_days_is_refused_R26(run: Runner) -> None:
    def edit(d: dict[str, Any]) -> None:
        d["parameters"]["publicity_working_days"] = 4

    report = run_with(run, edit)
    assert "publicity.working_days_range" in codes(report, "V17")


def _signed_2026(signer: Any, drop: str = "") -> bytes:
    from tally.calendar import CalendarYear, sign_calendar  # noqa: PLC0415

    cal = B.calendar_2026()
    holidays = frozenset(dt.date.fromisoformat(x) for x in cal["holidays"] if x != drop)
    workdays = frozenset(dt.date.fromisoformat(x) for x in cal["workdays"])
    return sign_calendar([CalendarYear(2026, holidays, workdays, "测试")], signer)


def _pretend_2026_unknown(monkeypatch: pytest.MonkeyPatch) -> None:
    import verifier.statutory  # noqa: PLC0415

    real = verifier.statutory.builtin_year
    monkeypatch.setattr(
        verifier.statutory, "builtin_year", lambda year: None if year == 2026 else real(year)
    )


def test_V17_a_year_the_library_does_not_know_needs_the_towns_signed_file_R26_3(
    good_files: dict[str, bytes], run: Runner, monkeypatch: pytest.MonkeyPatch
) -> None:
    _pretend_2026_unknown(monkeypatch)
    report = run(good_files)
    assert codes(report, "V17") == ["publicity.calendar_unsigned_year"]
    assert run({**good_files, "calendar.json": _signed_2026(B.TOWN)}).ok


@pytest.mark.parametrize(
    ("signer", "drop", "code"),
    [
        ("other", "", ["publicity.calendar_key"]),
        # The verifier counts with the signed file (10-01 a working day): the end moves too.
        ("town", "2026-10-01", ["publicity.end", "publicity.calendar_differs"]),
    ],
    ids=["signed-by-another-town", "dates-differ-from-result"],
)
def test_V17_the_signed_year_file_is_checked_R26_3(
    good_files: dict[str, bytes],
    run: Runner,
    monkeypatch: pytest.MonkeyPatch,
    signer: str,
    drop: str,
    code: list[str],
) -> None:
    _pretend_2026_unknown(monkeypatch)
    key = B.OTHER_TOWN if signer == "other" else B.TOWN
    report = run({**good_files, "calendar.json": _signed_2026(key, drop)})
    assert codes(report, "V17") == code


def test_V17_an_altered_signed_year_file_is_refused_R26_3(
    good_files: dict[str, bytes], run: Runner, monkeypatch: pytest.MonkeyPatch
) -> None:
    _pretend_2026_unknown(monkeypatch)
    altered = _signed_2026(B.TOWN).replace(b'"2026-10-01",', b"")
    report = run({**good_files, "calendar.json": altered})
    assert codes(report, "V17") == ["publicity.calendar_signature"]


@pytest.mark.parametrize("day", ["2026-02-30", "2026-13-01", "２０２６-10-01"])
def test_V17_a_signed_year_file_with_a_date_that_is_no_day_is_malformed_R26_3(
    good_files: dict[str, bytes], run: Runner, monkeypatch: pytest.MonkeyPatch, day: str
) -> None:
    """Signed by the town or not, a holiday of the date's shape that names no day is a
    malformed year file (publicity.calendar_file), not a finding coded with Python's message."""
    _pretend_2026_unknown(monkeypatch)
    doc = json.loads(_signed_2026(B.TOWN))
    doc["calendar"]["years"]["2026"]["holidays"][0] = day
    signature = B.TOWN.sign(b"branch-election/calendar/1", B.jcs(doc["calendar"]))
    doc["signature"] = base64.b64encode(signature).decode()
    report = run({**good_files, "calendar.json": B.jcs(doc)})
    assert codes(report, "V17") == ["publicity.calendar_file"]


# ----------------------------------------------------------------------- V14 seat reduction (R17)


def _secretary_shortfall_then_reduced_to(seats: int) -> list[list[Any]]:
    """The secretary's round 2 elects nobody (M01 4 of E = 9: 8 > 9 fails), then the assembly
    records a reduction of the secretary post to ``seats``."""
    ev = B.script()
    first = next(
        i for i, (t, b) in enumerate(ev) if t == "ballot.entered" and b["post"] == "secretary"
    )
    counted = next(
        i for i, (t, b) in enumerate(ev) if t == "round.counted" and b["post"] == "secretary"
    )
    ballots = ["ox"] * 4 + ["xo"] * 3 + ["oo"]
    ev[first:counted] = [next(e for e in ev[first:counted] if e[1]["marks"] == m) for m in ballots]
    counted = first + len(ballots)
    ev[counted] = B._counted("secretary", 2, 7, 1, [("M01", 4), ("M02", 3)], 9, 5, [], [], 0, 1)
    reduction = {"post": "secretary", "seats": seats, "assembly_consent": 9, "town_agreement": "x"}
    ev.insert(counted + 1, ["seats.reduced", reduction])
    ev[-1][1]["elected"] = {"committee": ["M01", "M02", "M03"], "secretary": []}
    return ev


def test_V14_no_post_is_reduced_below_one_seat_R17(run: Runner) -> None:
    report = run(B.build(_secretary_shortfall_then_reduced_to(0)))
    [result] = [c for c in report.clauses if c.clause == "V14"]
    assert [f.code for f in result.findings] == ["reduction.bad_number"]
    assert result.findings[0].expected == "1..0"
