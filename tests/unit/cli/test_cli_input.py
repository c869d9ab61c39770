"""``tally.cli_input``: the one date parser and the one bounded file reader of the procedure,
casework and town-report commands. Hostile input first: each is refused with its own code, and a
pipe or a device is refused before a byte is read (so the test never blocks)."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pytest

from tally.cli_errors import CliError
from tally.cli_input import parse_date, read_input, read_input_text

# -- dates ------------------------------------------------------------------------------------------
NOT_DATES = [
    ("2026-2-3", "unpadded"),
    ("2026-02-30", "no-such-day"),
    ("2026-13-01", "no-such-month"),
    ("0000-01-01", "year-zero"),
    ("20260203", "basic-iso-form"),
    ("2026-W05-2", "iso-week-date"),
    ("2026-034", "ordinal-date"),
    ("2026-02-03T10:00", "with-a-time"),
    ("2026-02-03 10:00", "with-a-time-after-a-space"),
    (" 2026-02-03", "leading-space"),
    ("2026-02-03 ", "trailing-space"),
    ("2026-02-03\n", "trailing-newline"),
    ("２０２６-０２-０３", "full-width-digits"),
    ("2026－02－03", "full-width-hyphens"),
    ("٢٠٢٦-٠٢-٠٣", "arabic-indic-digits"),
    ("2026/02/03", "slashes"),
    ("03/02/2026", "day-first"),
    ("2026年2月3日", "chinese-form"),
    ("", "empty"),
]


@pytest.mark.parametrize("value", [v for v, _ in NOT_DATES], ids=[i for _, i in NOT_DATES])
def test_anything_but_a_real_day_written_yyyy_mm_dd_is_refused_as_cli_date(value: str) -> None:
    with pytest.raises(CliError) as e:
        parse_date(value, option="--on")
    assert e.value.code == "cli.date"


def test_the_date_refusal_names_the_option_the_value_and_the_form_in_both_languages() -> None:
    with pytest.raises(CliError) as e:
        parse_date("２０２６-０２-０３", option="--election-date")
    for lang in ("zh", "en"):
        message = e.value.message(lang)
        assert "--election-date" in message
        assert '"２０２６-０２-０３"' in message
        assert "YYYY-MM-DD" in message
    assert "不是有效日期" in e.value.message("zh")
    assert "not a valid date" in e.value.message("en")


def test_a_trailing_space_shows_in_the_refusal() -> None:
    with pytest.raises(CliError) as e:
        parse_date("2026-02-03 ", option="--on")
    assert '"2026-02-03 "' in e.value.message("en")


@pytest.mark.parametrize(
    ("value", "day"),
    [
        ("2026-02-03", dt.date(2026, 2, 3)),
        ("2028-02-29", dt.date(2028, 2, 29)),
        ("9999-12-31", dt.date(9999, 12, 31)),
    ],
    ids=["ordinary", "leap-day", "last-day"],
)
def test_a_real_day_written_yyyy_mm_dd_is_that_day(value: str, day: dt.date) -> None:
    assert parse_date(value, option="--on") == day


def test_february_29_of_a_common_year_is_refused() -> None:
    with pytest.raises(CliError) as e:
        parse_date("2026-02-29", option="--on")
    assert e.value.code == "cli.date"


# -- files ------------------------------------------------------------------------------------------
def _refusal(path: Path, limit: int = 1024) -> str:
    with pytest.raises(CliError) as e:
        read_input(path, limit=limit)
    assert str(path) in e.value.message("zh") and str(path) in e.value.message("en")
    return e.value.code


def test_a_missing_file_is_input_missing(tmp_path: Path) -> None:
    assert _refusal(tmp_path / "无此文件.json") == "input.missing"


def test_a_folder_is_input_not_file(tmp_path: Path) -> None:
    assert _refusal(tmp_path) == "input.not_file"


def test_a_fifo_is_refused_before_anything_is_read(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)  # no writer: a blocking open or read would hang here
    assert _refusal(fifo) == "input.not_file"


def test_dev_zero_is_refused_before_anything_is_read() -> None:
    assert _refusal(Path("/dev/zero")) == "input.not_file"


def test_a_file_over_the_limit_is_input_too_large_and_says_the_limit(tmp_path: Path) -> None:
    big = tmp_path / "big.json"
    big.write_bytes(b"{" + b" " * (2 * 1024 * 1024))
    with pytest.raises(CliError) as e:
        read_input(big, limit=1024 * 1024)
    assert e.value.code == "input.too_large"
    assert "1 MiB" in e.value.message("zh") and "1 MiB" in e.value.message("en")


def test_one_byte_over_the_limit_is_too_large_and_the_limit_itself_is_read(tmp_path: Path) -> None:
    path = tmp_path / "f"
    path.write_bytes(b"x" * 101)
    assert _refusal(path, limit=100) == "input.too_large"
    path.write_bytes(b"x" * 100)
    assert read_input(path, limit=100) == b"x" * 100


def test_a_symlink_to_a_regular_file_is_read(tmp_path: Path) -> None:
    target = tmp_path / "real.toml"
    target.write_text("a = 1\n", encoding="utf-8")
    link = tmp_path / "link.toml"
    link.symlink_to(target)
    assert read_input_text(link, limit=100) == "a = 1\n"


def test_a_file_without_read_permission_is_input_unreadable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "secret.json"
    path.write_bytes(b"{}")
    path.chmod(0)
    if os.geteuid() == 0:  # root (CI) reads a file whatever its mode: the refusal open() gives
        real_open = os.open

        def refuse(p: object, *args: object, **kwargs: object) -> int:
            if Path(str(p)) == path:
                raise PermissionError(13, "Permission denied", str(p))
            return real_open(p, *args, **kwargs)  # type: ignore[arg-type]

        monkeypatch.setattr("tally.cli_input.os.open", refuse)
    assert _refusal(path) == "input.unreadable"


def test_an_io_error_while_reading_is_input_unreadable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "disk.json"
    path.write_bytes(b"{}")

    def broken(fd: int, n: int) -> bytes:
        raise OSError(5, "Input/output error")

    monkeypatch.setattr("tally.cli_input.os.read", broken)
    assert _refusal(path) == "input.unreadable"


def test_a_file_that_is_not_utf8_is_input_encoding(tmp_path: Path) -> None:
    path = tmp_path / "gbk.toml"
    path.write_bytes("名单 = 1".encode("gbk"))
    with pytest.raises(CliError) as e:
        read_input_text(path, limit=1024)
    assert e.value.code == "input.encoding"
    assert str(path) in e.value.message("zh")
