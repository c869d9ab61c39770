"""The one driver of procedure files (tally.procedure_driver): its clock, its fixed sources and its
evaluation papers written from the round's candidates."""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path

import pytest

from tally.core.procedure.entries import Form
from tally.core.procedure.ledger import evaluation_opening
from tally.procedure_driver import (
    BranchPlan,
    Cosign,
    Day,
    Evaluate,
    Keys,
    Paper,
    ProcedureDriver,
    Propose,
    Recommend,
    Sources,
    Step,
    Vet,
    drive,
)
from tests.helpers.procedure import SCRUTINEERS, TOWN, WORK_GROUP, build
from tests.helpers.procedure_log import ELECTION_DATE, START
from tests.helpers.procedure_town import COMMITTEE_BALLOTS, SECRETARY_BALLOTS

KEYS = Keys(TOWN, WORK_GROUP, SCRUTINEERS)
PAPERS = {
    "committee": [Paper(tuple(b)) for b in COMMITTEE_BALLOTS],
    "secretary": [Paper(tuple(b)) for b in SECRETARY_BALLOTS],
}


def _salts(n: int) -> bytes:
    return hashlib.sha256(f"driver test salt {n}".encode()).digest()[:n]


def _fixed_sources() -> Sources:
    count = iter(range(1, 10_000))

    def salts(n: int) -> bytes:
        return hashlib.sha256(f"driver test salt {next(count)}".encode()).digest()[:n]

    def ids(form: Form, post: str, round_no: int, i: int) -> bytes:
        return hashlib.sha256(f"{form.value}/{post}/{round_no}/{i}".encode()).digest()[:16]

    return Sources(START, random=salts, ballot_ids=ids)


def _through_vetting() -> tuple[Step, ...]:
    procedure = build()
    members = tuple(procedure.expected_electors[:20])
    return (
        Recommend(Form.MEMBER, 20, PAPERS, present_members=members),
        Day(dt.date(2026, 11, 4)),
        Recommend(Form.PUBLIC, 40, {post: [*rows, *rows] for post, rows in PAPERS.items()}),
        Propose(ELECTION_DATE),
        Evaluate(lambda persons: ["s" * len(persons)] * 40),
        Vet(),
        Cosign(),
    )


def test_one_plan_with_fixed_sources_writes_the_same_bundle_twice(tmp_path: Path) -> None:
    bundles = []
    for name in ("a", "b"):
        plan = BranchPlan(build(), KEYS, _fixed_sources(), _through_vetting())
        driver = drive(tmp_path / f"{name}.sqlite", plan)
        bundles.append({f.path: f.data for f in driver.store.bundle_files()})
        driver.close()
    assert bundles[0] == bundles[1]
    assert "stocks/member-committee-1.json" in bundles[0]


def test_printer_drawn_ballot_ids_differ_between_two_runs(tmp_path: Path) -> None:
    logs = []
    for name in ("a", "b"):
        sources = Sources(START, random=_salts)
        plan = BranchPlan(build(), KEYS, sources, _through_vetting()[:1])
        driver = drive(tmp_path / f"{name}.sqlite", plan)
        logs.append(driver.store.log_rows())
        driver.close()
    assert logs[0] != logs[1]


def test_fixed_ballot_ids_whose_codes_collide_are_refused(tmp_path: Path) -> None:
    sources = Sources(START, random=_salts, ballot_ids=lambda *_: bytes(16))
    driver = ProcedureDriver.create(tmp_path / "p.sqlite", build(), KEYS, sources)
    try:
        with pytest.raises(ValueError, match="codes collide"):
            driver.step(_through_vetting()[0])
    finally:
        driver.close()


def test_every_entry_is_a_minute_after_the_last_and_a_day_never_moves_the_clock_back(
    tmp_path: Path,
) -> None:
    driver = ProcedureDriver.create(tmp_path / "p.sqlite", build(), KEYS, _fixed_sources())
    try:
        assert driver.at == START + dt.timedelta(minutes=1)  # the file's opening
        driver.step(Day(START.date() - dt.timedelta(days=1)))
        assert driver.now() == START + dt.timedelta(minutes=2)
        driver.step(Day(dt.date(2026, 11, 20), hour=14))
        assert driver.now() == dt.datetime(2026, 11, 20, 14, 1, tzinfo=START.tzinfo)
        driver.step(_through_vetting()[0])
        times = [dt.datetime.fromisoformat(e.at) for e in driver.store.entries()]
        assert times[0] == START + dt.timedelta(minutes=1)
        first = dt.datetime(2026, 11, 20, 14, 2, tzinfo=START.tzinfo)
        assert times[1:] == [first + dt.timedelta(minutes=i) for i in range(len(times) - 1)]
    finally:
        driver.close()


def test_evaluation_papers_are_written_from_the_rounds_candidates(tmp_path: Path) -> None:
    seen: list[tuple[str, ...]] = []

    def papers(persons: tuple[str, ...]) -> list[str]:
        seen.append(persons)
        return ["s" * len(persons)] * 40

    driver = ProcedureDriver.create(tmp_path / "p.sqlite", build(), KEYS, _fixed_sources())
    try:
        driver.run(_through_vetting()[:4])
        opening = evaluation_opening(driver.store.ledger)
        assert opening is not None
        driver.step(Evaluate(papers))
        assert seen == [tuple(opening[2])]
        assert driver.store.ledger.evaluations  # counted
    finally:
        driver.close()
