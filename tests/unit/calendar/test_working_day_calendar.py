"""Working-day calendar: the 2026 facts, unknown years, supplied holiday files (R26, V17)."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import chinese_calendar
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import keys
from tally.calendar import (
    CalendarArgumentError,
    CalendarConflictError,
    CalendarYearUnknownError,
    InvalidCalendarError,
    WorkingDayCalendar,
    build_calendar,
    load_calendar,
    parse_calendar,
    sign_calendar,
)

TOWN = keys.InMemorySigner.from_seed(keys.Role.TOWN_COMMITTEE, "红旗镇党委", b"\x01" * 32)
OTHER_TOWN = keys.InMemorySigner.from_seed(keys.Role.TOWN_COMMITTEE, "别的镇党委", b"\x04" * 32)

# A made-up 2027 for the tests (NOT the State Council's dates, which are not published yet).
FILE_2027 = """\
format = "calendar/1"

[years.2027]
source = "测试数据：虚构的2027年节假日安排（非国务院办公厅通知）"
holidays = [
  2027-01-01, 2027-01-02, 2027-01-03,
  2027-02-06, 2027-02-07, 2027-02-08, 2027-02-09, 2027-02-10, 2027-02-11, 2027-02-12,
  "2027-10-01", "2027-10-02", "2027-10-03", "2027-10-04", "2027-10-05",
]
workdays = [2027-02-20]
"""


@pytest.fixture(scope="module")
def cal() -> WorkingDayCalendar:
    return load_calendar(None)


@pytest.fixture(scope="module")
def cal_2027(tmp_path_factory: pytest.TempPathFactory) -> WorkingDayCalendar:
    path = tmp_path_factory.mktemp("cal") / "2027.signed.json"
    path.write_bytes(sign_calendar(parse_calendar(FILE_2027), TOWN))
    return load_calendar(path, town_key=TOWN.public_key)


# --- the 2026 facts (notes §7; 国务院办公厅关于2026年部分节假日安排的通知) ------------------------


def test_publicity_five_working_days_from_0924_end_1008_across_mid_autumn_and_national_day(
    cal: WorkingDayCalendar,
) -> None:
    # find_workday(4, 2026-09-24) == 2026-10-08: the start day counts as day 1.
    assert cal.publicity_period(date(2026, 9, 23), 5) == (date(2026, 9, 24), date(2026, 10, 8))
    assert chinese_calendar.find_workday(4, date(2026, 9, 24)) == date(2026, 10, 8)


def test_publicity_counts_the_adjusted_saturday_0214_before_spring_festival(
    cal: WorkingDayCalendar,
) -> None:
    assert cal.is_working_day(date(2026, 2, 14))  # Saturday, 调休上班
    assert cal.publicity_period(date(2026, 2, 11), 5) == (date(2026, 2, 12), date(2026, 2, 25))


def test_national_day_and_spring_festival_2026_are_not_working_days(
    cal: WorkingDayCalendar,
) -> None:
    for day in range(1, 8):
        assert not cal.is_working_day(date(2026, 10, day))
    for day in range(15, 24):
        assert not cal.is_working_day(date(2026, 2, day))
    assert cal.is_working_day(date(2026, 10, 10))  # Saturday, 调休上班
    assert cal.is_working_day(date(2026, 2, 24))
    assert not cal.is_working_day(date(2026, 3, 1))  # an ordinary Sunday


def test_publicity_start_is_the_first_working_day_after_the_election_not_the_day_itself(
    cal: WorkingDayCalendar,
) -> None:
    # Election on a working Tuesday: the period starts on Wednesday.
    assert cal.publicity_period(date(2026, 12, 15), 5) == (date(2026, 12, 16), date(2026, 12, 22))
    # Election on the eve of National Day: the period starts after the holiday and the weekend.
    assert cal.publicity_period(date(2026, 9, 30), 1) == (date(2026, 10, 8), date(2026, 10, 8))


def test_extract_lists_the_holidays_and_adjusted_workdays_of_every_year_touched(
    cal: WorkingDayCalendar, cal_2027: WorkingDayCalendar
) -> None:
    holidays, workdays = cal.extract(date(2026, 9, 23), date(2026, 10, 8))
    assert len(holidays) == 33
    assert workdays == tuple(
        date(2026, m, d) for m, d in ((1, 4), (2, 14), (2, 28), (5, 9), (9, 20), (10, 10))
    )
    assert list(holidays) == sorted(holidays)
    holidays, workdays = cal_2027.extract(date(2026, 12, 28), date(2027, 1, 5))
    assert len(holidays) == 33 + 15
    assert workdays[-1] == date(2027, 2, 20)


def test_calendar_agrees_with_chinese_calendar_on_every_day_it_ships(
    cal: WorkingDayCalendar,
) -> None:
    day, last = date(2004, 1, 1), date(2026, 12, 31)
    while day <= last:
        assert cal.is_working_day(day) == chinese_calendar.is_workday(day), day
        day += timedelta(days=1)


# --- unknown years ------------------------------------------------------------------------------


def test_period_crossing_into_2027_without_a_holiday_file_raises_year_unknown(
    cal: WorkingDayCalendar,
) -> None:
    with pytest.raises(CalendarYearUnknownError) as e:
        cal.publicity_period(date(2026, 12, 28), 5)
    assert e.value.year == 2027
    assert e.value.code == "calendar.year_unknown"
    assert "国务院办公厅关于2027年部分节假日安排的通知" in e.value.zh
    assert "State Council" in e.value.en
    with pytest.raises(CalendarYearUnknownError):
        cal.is_working_day(date(2027, 1, 4))  # a Monday: never guessed as a working day
    with pytest.raises(CalendarYearUnknownError):
        cal.extract(date(2026, 12, 1), date(2027, 1, 1))
    with pytest.raises(CalendarYearUnknownError):
        cal.is_working_day(date(2003, 6, 2))


def test_period_crossing_into_2027_works_with_a_supplied_2027_file(
    cal_2027: WorkingDayCalendar,
) -> None:
    # 12-29, 12-30, 12-31, (01-01..03 holidays), 01-04, 01-05
    assert cal_2027.publicity_period(date(2026, 12, 28), 5) == (
        date(2026, 12, 29),
        date(2027, 1, 5),
    )
    assert cal_2027.is_working_day(date(2027, 2, 20))  # adjusted Saturday
    assert not cal_2027.is_working_day(date(2027, 2, 8))  # holiday Monday
    assert cal_2027.year(2027).source.startswith("测试数据")
    assert cal_2027.known_years[-1] == 2027
    with pytest.raises(CalendarYearUnknownError) as e:
        cal_2027.is_working_day(date(2028, 1, 3))
    assert e.value.year == 2028


def test_working_days_below_one_and_reversed_ranges_are_refused(cal: WorkingDayCalendar) -> None:
    with pytest.raises(CalendarArgumentError) as e:
        cal.publicity_period(date(2026, 5, 6), 0)
    assert e.value.code == "calendar.bad_working_days"
    with pytest.raises(CalendarArgumentError):
        cal.extract(date(2026, 5, 6), date(2026, 5, 5))


# --- holiday files ------------------------------------------------------------------------------


def _bad(text: str) -> InvalidCalendarError:
    with pytest.raises(InvalidCalendarError) as e:
        parse_calendar(text, file="2027.toml")
    return e.value


def test_calendar_file_with_an_unknown_field_names_its_path() -> None:
    e = _bad(FILE_2027.replace("workdays =", "work_days ="))
    assert (e.code, e.field) == ("calendar.unknown_field", "years.2027.work_days")
    assert "2027.toml" in e.en and "work_days" in e.zh
    e = _bad(FILE_2027 + "\nnote = 1\n")
    assert (e.code, e.field) == ("calendar.unknown_field", "years.2027.note")
    e = _bad('note = "x"\n' + FILE_2027)
    assert (e.code, e.field) == ("calendar.unknown_field", "note")


def test_calendar_file_with_a_bad_date_names_the_item() -> None:
    e = _bad(FILE_2027.replace('"2027-10-02"', '"2027-10-32"'))
    assert (e.code, e.field) == ("calendar.bad_date", "years.2027.holidays[11]")
    e = _bad(FILE_2027.replace('"2027-10-02"', '"2027/10/02"'))
    assert e.code == "calendar.bad_date"
    e = _bad(FILE_2027.replace("workdays = [2027-02-20]", "workdays = [2027-02-20T08:00:00]"))
    assert (e.code, e.field) == ("calendar.bad_date", "years.2027.workdays[0]")
    e = _bad(FILE_2027.replace("workdays = [2027-02-20]", "workdays = [20270220]"))
    assert e.code == "calendar.bad_date"


def test_calendar_file_with_the_wrong_format_is_refused() -> None:
    e = _bad(FILE_2027.replace('"calendar/1"', '"calendar/2"'))
    assert (e.code, e.field) == ("calendar.wrong_format", "format")
    e = _bad(FILE_2027.replace('format = "calendar/1"\n', ""))
    assert e.code == "calendar.wrong_format"
    e = _bad("format = [")
    assert e.code == "calendar.bad_toml"


def test_calendar_file_consistency_rules() -> None:
    e = _bad(FILE_2027.replace("workdays = [2027-02-20]", "workdays = [2028-02-19]"))
    assert (e.code, e.field) == ("calendar.date_outside_year", "years.2027.workdays")
    e = _bad(FILE_2027.replace("workdays = [2027-02-20]", "workdays = [2027-02-22]"))
    assert e.code == "calendar.workday_not_weekend"  # a Monday is no adjustment
    e = _bad(FILE_2027.replace("workdays = [2027-02-20]", "workdays = [2027-01-02]"))
    assert e.code == "calendar.holiday_and_workday"
    e = _bad(FILE_2027.replace("2027-01-02, 2027-01-03", "2027-01-02, 2027-01-02"))
    assert (e.code, e.field) == ("calendar.duplicate_date", "years.2027.holidays[2]")
    e = _bad(FILE_2027.replace("source = ", "# source = "))
    assert (e.code, e.field) == ("calendar.missing_field", "years.2027.source")
    e = _bad(FILE_2027.replace("[years.2027]", "[years.27]"))
    assert (e.code, e.field) == ("calendar.bad_year", "years.27")
    e = _bad('format = "calendar/1"\n')
    assert (e.code, e.field) == ("calendar.missing_field", "years")


def test_calendar_file_that_contradicts_chinese_calendar_for_2026_is_refused() -> None:
    text = FILE_2027.replace("2027", "2026").replace("[2026-02-20]", "[2026-02-14]")
    with pytest.raises(CalendarConflictError) as e:
        build_calendar(parse_calendar(text))
    assert e.value.year == 2026 and e.value.code == "calendar.conflict"


def test_unreadable_calendar_file_is_an_invalid_calendar_error(tmp_path: Path) -> None:
    with pytest.raises(InvalidCalendarError) as e:
        load_calendar(tmp_path / "missing.toml", town_key=TOWN.public_key)
    assert e.value.code == "calendar.unreadable"


# --- the town committee's signature on a supplied year (R26.3) --------------------------------


def test_an_unsigned_year_file_is_refused_with_the_way_to_sign_it_R26_3(tmp_path: Path) -> None:
    path = tmp_path / "2027.toml"
    path.write_text(FILE_2027, encoding="utf-8")
    with pytest.raises(InvalidCalendarError) as e:
        load_calendar(path, town_key=TOWN.public_key)
    assert e.value.code == "calendar.unsigned"
    assert "tally calendar sign" in e.value.zh and "tally calendar sign" in e.value.en


def test_a_year_file_signed_by_another_town_is_refused_R26_3(tmp_path: Path) -> None:
    path = tmp_path / "2027.signed.json"
    path.write_bytes(sign_calendar(parse_calendar(FILE_2027), OTHER_TOWN))
    with pytest.raises(InvalidCalendarError) as e:
        load_calendar(path, town_key=TOWN.public_key)
    assert e.value.code == "calendar.wrong_key"


def test_an_altered_signed_year_file_is_refused_R26_3(tmp_path: Path) -> None:
    signed = sign_calendar(parse_calendar(FILE_2027), TOWN)
    path = tmp_path / "2027.signed.json"
    path.write_bytes(signed.replace(b'"2027-02-20"', b'"2027-02-21"'))
    with pytest.raises(InvalidCalendarError) as e:
        load_calendar(path, town_key=TOWN.public_key)
    assert e.value.code == "calendar.bad_signature"


def test_a_signed_year_file_with_an_unknown_field_is_refused_A12_12(tmp_path: Path) -> None:
    signed = sign_calendar(parse_calendar(FILE_2027), TOWN)
    path = tmp_path / "2027.signed.json"
    path.write_bytes(signed[:-1] + b',"note":"x"}')
    with pytest.raises(InvalidCalendarError) as e:
        load_calendar(path, town_key=TOWN.public_key)
    assert e.value.code == "calendar.unknown_field" and e.value.field == "note"


def test_a_year_file_needs_a_town_key_to_be_checked_against(tmp_path: Path) -> None:
    path = tmp_path / "2027.signed.json"
    path.write_bytes(sign_calendar(parse_calendar(FILE_2027), TOWN))
    with pytest.raises(InvalidCalendarError) as e:
        load_calendar(path)
    assert e.value.code == "calendar.no_town_key"


def test_a_year_file_can_only_be_signed_with_a_town_key() -> None:
    wg = keys.InMemorySigner.from_seed(keys.Role.WORK_GROUP, "工作组", b"\x02" * 32)
    with pytest.raises(InvalidCalendarError) as e:
        sign_calendar(parse_calendar(FILE_2027), wg)
    assert e.value.code == "calendar.signer_role"


# --- property -----------------------------------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(
    election=st.dates(min_value=date(2004, 1, 1), max_value=date(2027, 10, 31)),
    working_days=st.integers(min_value=1, max_value=60),
)
def test_publicity_period_spans_exactly_working_days_working_days(
    cal_2027: WorkingDayCalendar, election: date, working_days: int
) -> None:
    try:
        start, end = cal_2027.publicity_period(election, working_days)
    except CalendarYearUnknownError as e:
        unknown = e.year
    else:
        unknown = None
    if unknown is not None:
        assert unknown == 2028
        return
    assert election < start <= end
    assert cal_2027.is_working_day(start) and cal_2027.is_working_day(end)
    assert cal_2027.count_working_days(start, end) == working_days
    # nothing skipped between the election and the start
    assert cal_2027.count_working_days(election + timedelta(days=1), start) == 1
