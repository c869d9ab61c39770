"""The shared log-entry envelope (spec/log.md §1): one reader for the election, procedure and
casework logs, each refusing in its own words, in its own order of the members and the salt."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tally.core.errors import TallyError
from tally.core.log_entry import MEMBERS, Fault, check_envelope, entry_bytes, read_envelope
from tally.core.manifest import canonical

FORMAT = "log-entry/1"


_RAW = entry_bytes(FORMAT, 0, "", type_="x", at="", actor="", body={}, salt="0" * 64)


def _doc(**changes: Any) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(_RAW)
    return doc | changes


class _Refused(Exception):
    def __init__(self, fault: Fault) -> None:
        super().__init__(fault)
        self.fault = fault


def _fault(raw: bytes, *, members_before_salt: bool = False) -> Fault:
    with pytest.raises(_Refused) as e:
        check_envelope(raw, FORMAT, _Refused, members_before_salt=members_before_salt)
    return e.value.fault


_NO_SALT = canonical({k: v for k, v in _doc().items() if k != "salt"})


@pytest.mark.parametrize(
    ("raw", "fault"),
    [
        (b"{", Fault.NOT_JSON),
        (b"[]", Fault.SHAPE),
        (canonical(_doc(format="casework-entry/1")), Fault.SHAPE),
        (canonical(_doc(salt="ab")), Fault.SALT),
        (_NO_SALT, Fault.SALT),
        (canonical(_doc() | {"extra": 1}), Fault.SHAPE),
        (canonical(_doc()) + b" ", Fault.NOT_CANONICAL),
    ],
    ids=["not-json", "not-object", "other-format", "bad-salt", "no-salt", "extra", "not-jcs"],
)
def test_each_fault_reaches_the_callers_refusal(raw: bytes, fault: Fault) -> None:
    assert _fault(raw) is fault


def test_members_before_salt_makes_a_missing_salt_a_wrong_shape() -> None:
    assert _fault(_NO_SALT, members_before_salt=True) is Fault.SHAPE
    assert _fault(canonical(_doc(salt="ab")), members_before_salt=True) is Fault.SALT


@pytest.mark.parametrize(
    ("raw", "code", "en"),
    [
        (b"{", "log.malformed", "log entry is not JSON"),
        (canonical(_doc(format="x")), "log.malformed", "log entry has the wrong shape"),
        (_NO_SALT, "log.salt", "log entry has no valid salt (64 lowercase hex)"),
        (canonical(_doc()) + b" ", "log.not_canonical", "log entry is not canonical JSON"),
    ],
    ids=["not-json", "shape", "no-salt", "not-jcs"],
)
def test_read_envelope_keeps_the_log_words_of_the_election_and_procedure_logs(
    raw: bytes, code: str, en: str
) -> None:
    with pytest.raises(TallyError) as e:
        read_envelope(raw, FORMAT)
    assert (e.value.code, e.value.en) == (code, en)


def test_an_entry_written_by_entry_bytes_reads_back() -> None:
    assert set(_doc()) == MEMBERS
    assert (_doc()["format"], _doc()["salt"]) == (FORMAT, "0" * 64)
    assert canonical(_doc()) == _RAW
    assert read_envelope(_RAW, FORMAT) == _doc()
    assert check_envelope(_RAW, FORMAT, _Refused, members_before_salt=True) == _doc()
