"""``calendar.json`` in the casework bundle (spec/procedure.md RP-12.3, spec/rules.md R26.3).

The export carries the town's signed year file exactly when a due date of the log is counted on a
year only that file knows: an exact date logged when received, or a provisional one the signed
year makes exact (RP-8.4a). A log whose exact due dates need a year the given calendar lacks is
refused (``casework.calendar_needed``): the verifier could not check those dates without it. The
bundles written verify under V31 with the independent verifier.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

import keys
from tally.calendar import WorkingDayCalendar, build_calendar, load_calendar, sign_calendar
from tally.casework_store import CaseworkStore, sign_casework
from tally.core.casework import CaseworkError, Channel, lodge_objection
from tests.helpers.casework import SERVICE, TOWN, at, counter_random, document
from tests.unit.casework.test_casework_provisional_due import UP_TO_2026, YEAR_2027
from verifier.casework import verify_casework
from verifier.cli import parse_town_key


def _store(tmp_path: Path) -> CaseworkStore:
    signed, _ = sign_casework(document(), TOWN)
    return CaseworkStore.create(
        tmp_path / "town.casework",
        signed_casework=signed,
        casework_signer=SERVICE,
        at=at("2026-12-01 09:00"),
        random=counter_random(),
    )


def _lodge(store: CaseworkStore, when: str, calendar: WorkingDayCalendar) -> None:
    step = lodge_objection(
        store.ledger,
        at=at(when),
        calendar=calendar,
        branch="B01",
        channel=Channel.FORM,
        about="M001",
        what="计票时有人代填选票",
        publicity_end=date(2026, 12, 31),
        elected=frozenset({"M001"}),
    )
    store.lodge(step, at=at(when), actor="public", random=counter_random())


def _signed_2027(tmp_path: Path) -> Path:
    path = tmp_path / "calendar-2027.json"
    path.write_bytes(sign_calendar([YEAR_2027], TOWN))
    return path


def _write(files: list[tuple[str, bytes]], folder: Path) -> Path:
    for rel, data in files:
        (folder / rel).parent.mkdir(parents=True, exist_ok=True)
        (folder / rel).write_bytes(data)
    return folder


def test_no_calendar_json_when_no_signed_year_was_used_rp_12_3(tmp_path: Path) -> None:
    store = _store(tmp_path)
    _lodge(store, "2026-12-07 10:00", UP_TO_2026)
    calendar = load_calendar(_signed_2027(tmp_path), town_key=TOWN.public_key)
    assert "calendar.json" not in {f.path for f in store.bundle_files(calendar)}
    store.close()


def test_a_provisional_date_the_signed_year_makes_exact_brings_calendar_json_rp_12_3(
    tmp_path: Path,
) -> None:
    store = _store(tmp_path)
    _lodge(store, "2026-12-28 10:00", UP_TO_2026)  # due_conclude provisional: 2027
    assert "calendar.json" not in {f.path for f in store.bundle_files(build_calendar())}
    calendar = load_calendar(_signed_2027(tmp_path), town_key=TOWN.public_key)
    files = {f.path: f.data for f in store.bundle_files(calendar)}
    assert files["calendar.json"] == calendar.signed_file
    store.close()


def test_an_exact_date_on_a_signed_year_needs_the_file_at_export_rp_12_3(
    tmp_path: Path,
) -> None:
    calendar = load_calendar(_signed_2027(tmp_path), town_key=TOWN.public_key)
    store = _store(tmp_path)
    _lodge(store, "2026-12-28 10:00", calendar)  # exact on the signed 2027
    with pytest.raises(CaseworkError) as e:
        store.bundle_files(build_calendar())
    assert e.value.code == "casework.calendar_needed" and "2027" in e.value.en
    files = [(f.path, f.data) for f in store.bundle_files(calendar)]
    store.close()
    assert "calendar.json" in dict(files)
    bundle = _write(files, tmp_path / "bundle")
    (tmp_path / "town.pub").write_bytes(keys.export_public_key(TOWN.public_key))
    report = verify_casework(bundle, parse_town_key(str(tmp_path / "town.pub")))
    assert report.ok, report.findings
