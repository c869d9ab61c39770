"""The Chinese working-day calendar for the publicity period (公示期).

Normative: spec/rules.md R26 and spec/bundle.md V17.

A day is a working day when it is an adjusted working day (调休上班日), or a Monday-Friday that is
not a statutory holiday. The holidays and adjusted working days of a year come from one of two
sources:

* the `chinese_calendar` package, for the years it ships (2004-2026 in 1.11.0);
* a year file for any other year, copied from the State Council notice
  (国务院办公厅关于××××年部分节假日安排的通知) as a `calendar/1` TOML document and **signed by the
  town committee** (`tally calendar sign`, giving a `signed-calendar/1` JSON file, spec/rules.md
  R26.3). Only the signed file is accepted, and only when its town key is the manifest's::

      format = "calendar/1"

      [years.2027]
      source = "国务院办公厅关于2027年部分节假日安排的通知（国办发明电〔2026〕×号）"
      holidays = [2027-01-01, 2027-01-02, 2027-01-03]   # TOML dates or "YYYY-MM-DD" strings
      workdays = [2027-02-20]                            # adjusted working days (Sat/Sun)

A year that neither source knows is never treated as plain Monday-Friday: every computation that
touches it raises `CalendarYearUnknownError`. Everything here is pure date logic except
`load_calendar`, which reads the optional file.

A `signed-calendar/1` file is ``{"format", "calendar", "town_key", "signature"}``: ``calendar``
is the `calendar/1` document as JSON (dates as "YYYY-MM-DD" strings), ``town_key`` a `pubkey/1`
document of role `town_committee`, ``signature`` the base64 Ed25519 signature over
``"branch-election/calendar/1" || 0x00 || JCS(calendar)``.
"""

from __future__ import annotations

import base64
import binascii
import functools
import json
import re
import tomllib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, Final

import chinese_calendar

import keys
from bilingual import BilingualError
from tally.core.manifest import canonical

__all__ = [
    "CALENDAR_DOMAIN",
    "CALENDAR_FORMAT",
    "SIGNED_CALENDAR_FORMAT",
    "CalendarArgumentError",
    "CalendarConflictError",
    "CalendarError",
    "CalendarYear",
    "CalendarYearUnknownError",
    "InvalidCalendarError",
    "WorkingDayCalendar",
    "build_calendar",
    "builtin_years",
    "load_calendar",
    "parse_calendar",
    "parse_signed_calendar",
    "sign_calendar",
]

CALENDAR_FORMAT: Final = "calendar/1"
SIGNED_CALENDAR_FORMAT: Final = "signed-calendar/1"
CALENDAR_DOMAIN: Final = b"branch-election/calendar/1"
_SIGNED_KEYS: Final = frozenset({"format", "calendar", "town_key", "signature"})
_TOP_KEYS: Final = frozenset({"format", "years"})
_YEAR_KEYS: Final = frozenset({"source", "holidays", "workdays"})
_YEAR_RE: Final = re.compile(r"[0-9]{4}")
_DATE_RE: Final = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_ONE_DAY: Final = timedelta(days=1)

_Bad = Callable[[str, str, str, str], "InvalidCalendarError"]
"""A local error factory: (kind, field path, zh, en) -> InvalidCalendarError for the file."""


# --- errors -------------------------------------------------------------------------------------


class CalendarError(BilingualError):
    """Base of the calendar errors: a stable ``code`` and a message in both languages."""

    code = "calendar.error"


class CalendarYearUnknownError(CalendarError):
    """Neither chinese_calendar nor the supplied holiday file knows the year."""

    year: int

    def __init__(self, year: int) -> None:
        super().__init__(
            "calendar.year_unknown",
            zh=(
                f"工作日历中没有 {year} 年的法定节假日安排，无法计算工作日。"
                f"请依据《国务院办公厅关于{year}年部分节假日安排的通知》编写 {year} 年的节假日文件"
                f'（format = "{CALENDAR_FORMAT}"，列出 [years.{year}] 的 holidays 放假日期、'
                "workdays 调休上班日期和 source 通知名称），并在计算时提供该文件；"
                "或升级 chinese-calendar 软件包。"
            ),
            en=(
                f"the working-day calendar has no statutory holidays for {year}; supply a "
                f'"{CALENDAR_FORMAT}" holiday file with a [years.{year}] table (holidays, '
                f"workdays, source) copied from the State Council notice on the {year} public "
                f"holidays (国务院办公厅关于{year}年部分节假日安排的通知), or upgrade "
                "chinese-calendar; an unknown year is never treated as plain Monday-Friday"
            ),
        )
        self.year = year


class InvalidCalendarError(CalendarError):
    """A holiday file (or a year's data) is malformed; ``field`` is the path of the bad value."""

    field: str
    file: str

    def __init__(self, kind: str, *, file: str, field: str, zh: str, en: str) -> None:
        where = f"{file}: {field}" if field else file
        super().__init__(f"calendar.{kind}", zh=f"{where}：{zh}", en=f"{where}: {en}")
        self.field = field
        self.file = file


class CalendarConflictError(CalendarError):
    """The supplied file gives a year that chinese_calendar also knows, with different dates."""

    year: int

    def __init__(self, year: int, only_file: Iterable[date], only_package: Iterable[date]) -> None:
        a = ", ".join(d.isoformat() for d in sorted(only_file)) or "-"
        b = ", ".join(d.isoformat() for d in sorted(only_package)) or "-"
        super().__init__(
            "calendar.conflict",
            zh=(
                f"节假日文件中 {year} 年的安排与 chinese-calendar 软件包不一致"
                f"（仅文件中有：{a}；仅软件包中有：{b}）。请对照国务院办公厅通知核实，"
                "删除文件中的该年份或更正后重试。"
            ),
            en=(
                f"the holiday file's {year} differs from chinese-calendar (only in the file: {a}; "
                f"only in the package: {b}); check against the State Council notice"
            ),
        )
        self.year = year


class CalendarArgumentError(CalendarError):
    """A computation was asked with impossible arguments (no working days, reversed range)."""


# --- data ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CalendarYear:
    """The statutory holidays and adjusted working days of one year, and where they come from."""

    year: int
    holidays: frozenset[date]
    workdays: frozenset[date]
    source: str

    def __post_init__(self) -> None:
        _check_year_data(
            self.year, self.holidays, self.workdays, file="", path=f"years.{self.year}"
        )


def _check_year_data(
    year: int, holidays: Iterable[date], workdays: Iterable[date], *, file: str, path: str
) -> None:
    holidays, workdays = frozenset(holidays), frozenset(workdays)
    for name, days in (("holidays", holidays), ("workdays", workdays)):
        for day in sorted(days):
            if day.year != year:
                raise InvalidCalendarError(
                    "date_outside_year",
                    file=file,
                    field=f"{path}.{name}",
                    zh=f"日期 {day.isoformat()} 不在 {year} 年内。",
                    en=f"{day.isoformat()} is not in {year}",
                )
    both = sorted(holidays & workdays)
    if both:
        raise InvalidCalendarError(
            "holiday_and_workday",
            file=file,
            field=path,
            zh=f"日期 {both[0].isoformat()} 同时列为放假日和调休上班日。",
            en=f"{both[0].isoformat()} is both a holiday and an adjusted working day",
        )
    weekday = sorted(d for d in workdays if d.weekday() < 5)
    if weekday:
        raise InvalidCalendarError(
            "workday_not_weekend",
            file=file,
            field=f"{path}.workdays",
            zh=f"调休上班日 {weekday[0].isoformat()} 不是星期六或星期日"
            "（周一至周五本来就是工作日）。",
            en=f"adjusted working day {weekday[0].isoformat()} is not a Saturday or Sunday",
        )


@dataclass(frozen=True, slots=True)
class WorkingDayCalendar:
    """Working days over the years it knows; any other year raises `CalendarYearUnknownError`."""

    years: tuple[CalendarYear, ...]
    signed_file: bytes = field(default=b"", compare=False)
    """The town committee's ``signed-calendar/1`` (JCS) the supplied years came from, or empty;
    published in the bundle as ``calendar.json`` (spec/bundle.md §1, V17)."""
    _index: Mapping[int, CalendarYear] = field(
        init=False, repr=False, compare=False, hash=False, default_factory=dict
    )

    def __post_init__(self) -> None:
        index: dict[int, CalendarYear] = {}
        for y in self.years:
            if y.year in index:
                raise CalendarArgumentError(
                    "calendar.duplicate_year",
                    zh=f"工作日历中 {y.year} 年出现两次。",
                    en=f"the calendar holds {y.year} twice",
                )
            index[y.year] = y
        object.__setattr__(self, "years", tuple(index[k] for k in sorted(index)))
        object.__setattr__(self, "_index", index)

    @property
    def known_years(self) -> tuple[int, ...]:
        """The years this calendar can answer for, ascending."""
        return tuple(y.year for y in self.years)

    def year(self, year: int) -> CalendarYear:
        """The data of one year.

        Raises:
            CalendarYearUnknownError: neither source knows the year.
        """
        try:
            return self._index[year]
        except KeyError:
            raise CalendarYearUnknownError(year) from None

    def is_working_day(self, day: date) -> bool:
        """An adjusted working day, or a Monday-Friday that is not a statutory holiday (V17).

        Raises:
            CalendarYearUnknownError: the day's year is not known.
        """
        y = self.year(day.year)
        if day in y.workdays:
            return True
        return day.weekday() < 5 and day not in y.holidays

    def next_working_day(self, day: date) -> date:
        """The first working day strictly after ``day``."""
        day += _ONE_DAY
        while not self.is_working_day(day):
            day += _ONE_DAY
        return day

    def publicity_period(self, election_date: date, working_days: int) -> tuple[date, date]:
        """The publicity period after an election (spec/bundle.md V17, spec/rules.md R26).

        ``start`` is the first working day after the election date; ``end`` is the
        ``working_days``-th working day counting ``start`` as day 1.

        Raises:
            CalendarArgumentError: ``working_days`` is less than 1.
            CalendarYearUnknownError: the election year, or a year the period reaches, is unknown.
        """
        if working_days < 1:
            raise CalendarArgumentError(
                "calendar.bad_working_days",
                zh=f"公示期工作日数须至少为 1，现为 {working_days}。",
                en=f"working_days must be at least 1, got {working_days}",
            )
        self.year(election_date.year)  # the calendar must cover every year touched (V17)
        start = end = self.next_working_day(election_date)
        for _ in range(working_days - 1):
            end = self.next_working_day(end)
        return start, end

    def count_working_days(self, start: date, end: date) -> int:
        """The number of working days from ``start`` to ``end``, both included."""
        self._check_range(start, end)
        n = 0
        day = start
        while day <= end:
            n += self.is_working_day(day)
            day += _ONE_DAY
        return n

    def extract(self, start: date, end: date) -> tuple[tuple[date, ...], tuple[date, ...]]:
        """The holidays and adjusted working days of every year from ``start.year`` to ``end.year``.

        This is the bundle's ``calendar`` member (spec/bundle.md §4), both lists ascending.

        Raises:
            CalendarArgumentError: ``start`` is after ``end``.
            CalendarYearUnknownError: one of those years is unknown.
        """
        self._check_range(start, end)
        years = [self.year(y) for y in range(start.year, end.year + 1)]
        holidays = tuple(sorted(d for y in years for d in y.holidays))
        workdays = tuple(sorted(d for y in years for d in y.workdays))
        return holidays, workdays

    @staticmethod
    def _check_range(start: date, end: date) -> None:
        if start > end:
            raise CalendarArgumentError(
                "calendar.bad_range",
                zh=f"起始日期 {start.isoformat()} 晚于结束日期 {end.isoformat()}。",
                en=f"start {start.isoformat()} is after end {end.isoformat()}",
            )


# --- sources ------------------------------------------------------------------------------------


@functools.cache
def builtin_years() -> tuple[CalendarYear, ...]:
    """Every year the installed chinese_calendar package knows."""
    version = getattr(chinese_calendar, "__version__", "?")
    source = f"chinese-calendar {version}"
    holidays: Mapping[date, Any] = chinese_calendar.holidays
    workdays: Mapping[date, Any] = chinese_calendar.workdays
    lo, hi = min(holidays).year, max(holidays).year
    return tuple(
        CalendarYear(
            year=y,
            holidays=frozenset(d for d in holidays if d.year == y),
            workdays=frozenset(d for d in workdays if d.year == y),
            source=source,
        )
        for y in range(lo, hi + 1)
    )


def build_calendar(
    supplied: Iterable[CalendarYear] = (), *, signed_file: bytes = b""
) -> WorkingDayCalendar:
    """chinese_calendar's years plus the supplied ones.

    A supplied year that the package also knows must agree with it exactly.

    Raises:
        CalendarConflictError: a supplied year differs from the package's data.
    """
    builtin = {y.year: y for y in builtin_years()}
    years = dict(builtin)
    given: set[int] = set()
    for y in supplied:
        if y.year in given:
            raise CalendarArgumentError(
                "calendar.duplicate_year",
                zh=f"节假日文件中 {y.year} 年出现两次。",
                en=f"{y.year} is supplied twice",
            )
        given.add(y.year)
        known = builtin.get(y.year)
        if known is not None:
            a = (y.holidays - known.holidays) | (y.workdays - known.workdays)
            b = (known.holidays - y.holidays) | (known.workdays - y.workdays)
            if a or b:
                raise CalendarConflictError(y.year, a, b)
            continue
        years[y.year] = y
    return WorkingDayCalendar(years=tuple(years.values()), signed_file=signed_file)


def load_calendar(
    path: Path | None, *, town_key: keys.PublicKey | None = None
) -> WorkingDayCalendar:
    """The working-day calendar: chinese_calendar, plus the signed year file at ``path`` if given.

    Args:
        path: a ``signed-calendar/1`` file, or None.
        town_key: the manifest's town committee key; the file must be signed by it (R26.3).

    Raises:
        InvalidCalendarError: the file cannot be read, is not a valid ``signed-calendar/1`` file
            (an unsigned ``calendar/1`` file included), or is not signed by ``town_key``.
        CalendarConflictError: the file contradicts chinese_calendar for a year both know.
    """
    if path is None:
        return build_calendar()
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as e:
        raise InvalidCalendarError(
            "unreadable",
            file=str(path),
            field="",
            zh="无法读取节假日文件。",
            en=f"cannot read the holiday file: {e}",
        ) from e
    if town_key is None:
        raise InvalidCalendarError(
            "no_town_key",
            file=str(path),
            field="",
            zh="没有镇党委公钥，无法核对节假日文件的签名。",
            en="no town committee key to check the holiday file's signature against",
        )
    return calendar_of_signed_file(raw, town_key=town_key, file=str(path))


def calendar_of_signed_file(
    raw: bytes, *, town_key: keys.PublicKey, file: str
) -> WorkingDayCalendar:
    """The working-day calendar with the ``signed-calendar/1`` year file ``raw`` (already read,
    as ``file``), signed by ``town_key`` (R26.3).

    Raises:
        InvalidCalendarError, CalendarConflictError: as ``load_calendar``.
    """
    years = parse_signed_calendar(raw, town_key=town_key, file=file)
    return build_calendar(years, signed_file=canonical(json.loads(raw)))


def calendar_document(years: Iterable[CalendarYear]) -> dict[str, Any]:
    """The ``calendar/1`` document of ``years`` as JSON values (what the town committee signs)."""
    return {
        "format": CALENDAR_FORMAT,
        "years": {
            str(y.year): {
                "source": y.source,
                "holidays": [d.isoformat() for d in sorted(y.holidays)],
                "workdays": [d.isoformat() for d in sorted(y.workdays)],
            }
            for y in sorted(years, key=lambda y: y.year)
        },
    }


def sign_calendar(years: Iterable[CalendarYear], town: keys.Signer) -> bytes:
    """The ``signed-calendar/1`` bytes (JCS) of ``years``, signed with the town committee key.

    Raises:
        InvalidCalendarError: the signer is not a town committee key.
    """
    if town.role is not keys.Role.TOWN_COMMITTEE:
        raise InvalidCalendarError(
            "signer_role",
            file="",
            field="",
            zh="节假日文件须由镇党委密钥签署。",
            en="the holiday file must be signed with the town committee key",
        )
    doc = calendar_document(years)
    signature = town.sign(CALENDAR_DOMAIN, canonical(doc))
    return canonical(
        {
            "format": SIGNED_CALENDAR_FORMAT,
            "calendar": doc,
            "town_key": json.loads(keys.export_public_key(town.public_key)),
            "signature": base64.b64encode(signature).decode(),
        }
    )


def parse_signed_calendar(
    raw: bytes, *, town_key: keys.PublicKey, file: str = "<calendar>"
) -> tuple[CalendarYear, ...]:
    """Check a ``signed-calendar/1`` file against the town committee key and parse its years.

    Raises:
        InvalidCalendarError: not JSON, unsigned (a bare ``calendar/1`` TOML file), unknown or
            missing fields, another key than ``town_key``, a bad signature, or bad year data.
    """

    def bad(kind: str, path: str, zh: str, en: str) -> InvalidCalendarError:
        return InvalidCalendarError(kind, file=file, field=path, zh=zh, en=en)

    try:
        doc = json.loads(raw.decode("utf-8"), object_pairs_hook=_no_duplicate_keys)
    except (UnicodeDecodeError, ValueError) as e:
        if raw.lstrip().startswith((b"format", b"[", b"#")):
            raise bad(
                "unsigned",
                "",
                "节假日文件未经镇党委签署：请由镇党委用 tally calendar sign 签署后再提供"
                "（签署后的文件格式为 signed-calendar/1）。",
                "the holiday file is not signed: have the town committee sign it with "
                "`tally calendar sign` (a signed-calendar/1 file)",
            ) from e
        raise bad("bad_json", "", f"不是有效的 JSON：{e}", f"not valid JSON: {e}") from e
    if not isinstance(doc, dict):
        raise bad("bad_type", "", "须为 JSON 对象。", "must be a JSON object")
    _no_unknown_keys(doc, _SIGNED_KEYS, "", bad)
    if doc.get("format") != SIGNED_CALENDAR_FORMAT:
        raise bad(
            "wrong_format",
            "format",
            f'须为 "{SIGNED_CALENDAR_FORMAT}"，现为 {doc.get("format")!r}。',
            f'must be "{SIGNED_CALENDAR_FORMAT}", got {doc.get("format")!r}',
        )
    for key in ("calendar", "town_key"):
        if not isinstance(doc.get(key), dict):
            raise bad("missing_field", key, "缺少此字段或类型错误。", "missing or not an object")
    try:
        signer = keys.parse_public_key(canonical(doc["town_key"]))
    except keys.KeysError as e:
        raise bad("bad_key", "town_key", f"公钥无效：{e.zh}", f"invalid key: {e.en}") from e
    except ValueError as e:  # rfc8785 refuses it: an integer beyond 2**53
        raise bad("bad_key", "town_key", f"公钥无效：{e}", f"invalid key: {e}") from e
    if signer.role is not keys.Role.TOWN_COMMITTEE or signer.key != town_key.key:
        raise bad(
            "wrong_key",
            "town_key",
            "节假日文件不是由本次选举清单中的镇党委密钥签署的。",
            "the holiday file is not signed by the manifest's town committee key",
        )
    sig_text = doc.get("signature")
    try:
        if not isinstance(sig_text, str):
            raise ValueError(sig_text)
        signature = base64.b64decode(sig_text, validate=True)
        keys.verify(signer, CALENDAR_DOMAIN, canonical(doc["calendar"]), signature)
    except (ValueError, binascii.Error, keys.KeysError) as e:
        raise bad(
            "bad_signature",
            "signature",
            "镇党委对节假日文件的签名无效（文件可能被改动）。",
            "the town committee's signature on the holiday file does not verify",
        ) from e
    return _parse_calendar_doc(doc["calendar"], bad, file)


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in pairs:
        if k in out:
            msg = f"duplicate key {k!r}"
            raise ValueError(msg)
        out[k] = v
    return out


# --- the calendar/1 file ------------------------------------------------------------------------


def parse_calendar(text: str, *, file: str = "<calendar>") -> tuple[CalendarYear, ...]:
    """Parse a ``calendar/1`` TOML document.

    Raises:
        InvalidCalendarError: with the field path of the first problem found.
    """
    try:
        doc = tomllib.loads(text)
    except (tomllib.TOMLDecodeError, RecursionError) as e:  # nested deeper than Python recurses
        raise InvalidCalendarError(
            "bad_toml", file=file, field="", zh=f"不是有效的 TOML：{e}", en=f"not valid TOML: {e}"
        ) from e

    def bad(kind: str, path: str, zh: str, en: str) -> InvalidCalendarError:
        return InvalidCalendarError(kind, file=file, field=path, zh=zh, en=en)

    return _parse_calendar_doc(doc, bad, file)


def _parse_calendar_doc(doc: Mapping[str, Any], bad: _Bad, file: str) -> tuple[CalendarYear, ...]:
    _no_unknown_keys(doc, _TOP_KEYS, "", bad)
    fmt = doc.get("format")
    if fmt != CALENDAR_FORMAT:
        raise bad(
            "wrong_format",
            "format",
            f'须为 "{CALENDAR_FORMAT}"，现为 {fmt!r}。',
            f'must be "{CALENDAR_FORMAT}", got {fmt!r}',
        )
    years = doc.get("years")
    if not isinstance(years, dict) or not years:
        raise bad(
            "missing_field",
            "years",
            "缺少 [years.YYYY] 年份表。",
            "missing: at least one [years.YYYY] table",
        )
    out: list[CalendarYear] = []
    for key, table in years.items():
        path = f"years.{key}"
        if not _YEAR_RE.fullmatch(key) or not 1949 <= int(key) <= 9999:
            raise bad("bad_year", path, f"“{key}”不是四位年份。", f"{key!r} is not a 4-digit year")
        if not isinstance(table, dict):
            raise bad("bad_type", path, "须为表（[years.YYYY]）。", "must be a table")
        year = int(key)
        _no_unknown_keys(table, _YEAR_KEYS, path, bad)
        source = table.get("source")
        if not isinstance(source, str) or not source.strip():
            raise bad(
                "missing_field",
                f"{path}.source",
                "须填写依据（如国务院办公厅关于该年部分节假日安排的通知）。",
                "missing or empty: the source (e.g. the State Council notice)",
            )
        holidays = _dates(table, "holidays", path, bad)
        workdays = _dates(table, "workdays", path, bad)
        if not holidays:
            raise bad(
                "missing_field",
                f"{path}.holidays",
                "放假日期不能为空。",
                "must list the year's statutory holidays",
            )
        _check_year_data(year, holidays, workdays, file=file, path=path)
        out.append(CalendarYear(year, frozenset(holidays), frozenset(workdays), source.strip()))
    return tuple(out)


def _no_unknown_keys(
    table: Mapping[str, Any], allowed: frozenset[str], path: str, bad: Any
) -> None:
    for key in table:
        if key not in allowed:
            full = f"{path}.{key}" if path else key
            raise bad(
                "unknown_field",
                full,
                f"未知字段“{key}”（允许：{'、'.join(sorted(allowed))}）。",
                f"unknown field {key!r} (allowed: {', '.join(sorted(allowed))})",
            )


def _dates(table: Mapping[str, Any], key: str, path: str, bad: _Bad) -> list[date]:
    values = table.get(key)
    full = f"{path}.{key}"
    if values is None:
        if key == "workdays":
            return []
        raise bad("missing_field", full, "缺少此字段。", "missing")
    if not isinstance(values, list):
        raise bad("bad_type", full, "须为日期数组。", "must be an array of dates")
    out: list[date] = []
    seen: set[date] = set()
    for i, v in enumerate(values):
        item = f"{full}[{i}]"
        day = _date(v)
        if day is None:
            raise bad(
                "bad_date",
                item,
                f"“{v}”不是有效日期（须为 YYYY-MM-DD）。",
                f"{v!r} is not a valid date (YYYY-MM-DD)",
            )
        if day in seen:
            raise bad(
                "duplicate_date",
                item,
                f"日期 {day.isoformat()} 重复。",
                f"{day.isoformat()} is listed twice",
            )
        seen.add(day)
        out.append(day)
    return out


def _date(v: Any) -> date | None:
    if isinstance(v, datetime):  # a datetime is a date subclass; a time of day is a mistake
        return None
    if isinstance(v, date):
        return v
    if isinstance(v, str) and _DATE_RE.fullmatch(v):
        try:
            return date.fromisoformat(v)
        except ValueError:
            return None
    return None
