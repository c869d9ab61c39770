"""The signed year-file vectors (spec/vectors/calendar, R26.3): fresh, and read alike by the
producer (tally.calendar) and the verifier (verifier.checks, V17)."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from pathlib import Path

import pytest

import keys
from tally.calendar import InvalidCalendarError, parse_signed_calendar
from verifier.checks import signed_calendar_years
from verifier.crypto import parse_pubkey_document

ROOT = Path(__file__).resolve().parents[2]
VECTORS = ROOT / "spec" / "vectors" / "calendar"
INVALID = [
    ("invalid-other-town.json", "calendar.wrong_key", "publicity.calendar_key"),
    ("invalid-altered.json", "calendar.bad_signature", "publicity.calendar_signature"),
    ("invalid-unknown-field.json", "calendar.unknown_field", "publicity.calendar_file"),
]


def test_calendar_vectors_match_a_fresh_generation() -> None:
    r = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "gen_calendar_vectors.py"), "--check"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={"PYTHONPATH": str(ROOT)},
        check=False,
    )
    assert r.returncode == 0, r.stderr


def test_the_valid_signed_year_file_reads_the_same_on_both_sides_R26_3() -> None:
    raw = (VECTORS / "valid-2027.json").read_bytes()
    town = keys.parse_public_key((VECTORS / "town.pub").read_bytes())
    [year] = parse_signed_calendar(raw, town_key=town)
    verifier_key = parse_pubkey_document((VECTORS / "town.pub").read_bytes()).key
    holidays, workdays = signed_calendar_years(json.loads(raw), verifier_key)[2027]
    assert year.holidays == holidays and year.workdays == workdays
    assert workdays == {dt.date(2027, 2, 20), dt.date(2027, 10, 9)}
    assert len(holidays) == 17


@pytest.mark.parametrize(("name", "tally_code", "verifier_code"), INVALID)
def test_each_invalid_signed_year_file_is_refused_on_both_sides_R26_3(
    name: str, tally_code: str, verifier_code: str
) -> None:
    raw = (VECTORS / name).read_bytes()
    town = keys.parse_public_key((VECTORS / "town.pub").read_bytes())
    with pytest.raises(InvalidCalendarError) as e:
        parse_signed_calendar(raw, town_key=town)
    assert e.value.code == tally_code
    verifier_key = parse_pubkey_document((VECTORS / "town.pub").read_bytes()).key
    with pytest.raises(ValueError, match=verifier_code):
        signed_calendar_years(json.loads(raw), verifier_key)
