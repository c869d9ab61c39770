"""Each crash the fuzzers found (docs/FUZZING.md), as the smallest input that showed it.

Every test names the rule the parser broke: a bad input is refused with the parser's documented
error (here a SessionError with a code), never an unexpected exception and a traceback.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tally.cli_day import _read_batch
from tally.election import SessionError


# -- tally ballots enter --batch ----------------------------------------------------------------
@pytest.mark.parametrize("suffix", [".csv", ".jsonl"])
def test_batch_file_that_is_not_utf8_is_refused_with_a_session_error(
    tmp_path: Path, suffix: str
) -> None:
    path = tmp_path / f"b{suffix}"
    path.write_bytes(b"\x80")  # found by test_batch_file_refuses_damage_with_a_session_error
    with pytest.raises(SessionError) as e:
        _read_batch(path)
    assert e.value.code == "batch.encoding"


def test_batch_csv_field_over_the_csv_limit_is_refused_with_a_session_error(
    tmp_path: Path,
) -> None:
    path = tmp_path / "b.csv"
    path.write_text("," + "o" * 131073 + "\n", encoding="utf-8")
    with pytest.raises(SessionError) as e:
        _read_batch(path)
    assert e.value.code == "batch.row"


def test_batch_jsonl_line_nested_too_deep_is_refused_with_a_session_error(
    tmp_path: Path,
) -> None:
    path = tmp_path / "b.jsonl"
    path.write_text("[" * 100_000 + "\n", encoding="utf-8")
    with pytest.raises(SessionError) as e:
        _read_batch(path)
    assert e.value.code == "batch.row"
