"""Double entry, spec/log.md §2.3: what counts as two tellers entering a ballot alike.

One rule (``tally.core.double_entry``) for the CLI's ``--second`` and the station: the ballot id,
the marks, and the write-ins as a multiset of (name as the count reads it, mark), in row order
when ``write_in_requires_disapproval`` numbers the rows (R9.1).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tally.core.ballots import Ballot, Mark, WriteIn, judge_ballot
from tally.core.definition import parse_definition
from tally.core.double_entry import (
    DoubleEntryMismatchError,
    EnteredBallot,
    Field,
    compare_batches,
    compare_entries,
    read_entry,
    require_same_batches,
)
from tally.core.marks_file import resolve_write_in
from tally.core.model import MemberId, Parameters
from tests.helpers.elections import make_election

ROOT = Path(__file__).resolve().parents[3]
QINGSHAN = parse_definition((ROOT / "examples" / "qingshan.toml").read_text(encoding="utf-8"))
ID1, ID2, ID3 = "aa" * 32, "bb" * 32, "cc" * 32
PLAIN = make_election(full=30, committee_seats=3).parameters
NUMBERED = make_election(
    full=30, committee_seats=3, parameters="write_in_requires_disapproval = true"
).parameters


def _entry(marks: str = "o-x", *write_ins: str, ballot_id: str = ID1) -> EnteredBallot:
    return read_entry(ballot_id=ballot_id, marks=marks, write_ins=write_ins)


def _fields(a: EnteredBallot, b: EnteredBallot, params: Parameters = PLAIN) -> tuple[Field, ...]:
    d = compare_entries(a, b, params=params)
    return () if d is None else d.fields


def test_write_ins_in_another_order_are_the_same_ballot_log_2_3() -> None:
    a = _entry("o--", "周玉兰", "林春生:-", "周玉兰")
    b = _entry("o--", "林春生:-", "周玉兰", "周玉兰")
    assert compare_entries(a, b, params=PLAIN) is None


@pytest.mark.parametrize(
    ("first", "second"),
    [
        (("周玉兰", "林春生"), ("周玉兰",)),
        (("周玉兰",), ("周玉兰", "林春生")),
        (("周玉兰", "林春生"), ("周玉兰", "林春")),
        (("周玉兰", "林春生"), ("周玉兰", "林春生:-")),
        (("周玉兰", "周玉兰"), ("周玉兰",)),
        (("周玉兰", "周玉兰", "林春生"), ("周玉兰", "林春生", "林春生")),
        ((), ("周玉兰",)),
    ],
    ids=[
        "missing",
        "extra",
        "name-changed",
        "mark-changed",
        "same-name-once",
        "counts-differ",
        "none",
    ],
)
def test_a_missing_extra_or_changed_write_in_differs_log_2_3(
    first: tuple[str, ...], second: tuple[str, ...]
) -> None:
    assert _fields(_entry("o--", *first), _entry("o--", *second)) == (Field.WRITE_INS,)
    assert _fields(_entry("o--", *second), _entry("o--", *first)) == (Field.WRITE_INS,)


def test_write_ins_are_compared_even_when_the_marks_agree_log_2_3() -> None:
    # A rule that looked at the marks alone would count a write-in the first teller never read.
    assert _fields(_entry("o--"), _entry("o--", "周玉兰")) == (Field.WRITE_INS,)


@pytest.mark.parametrize(
    ("first", "second"),
    [("o-x", "o-o"), ("o-x", "ox-"), ("o-x", "o-?"), ("o-x", "o-"), ("o-x", "o-xo")],
    ids=["one-mark", "swapped", "unreadable", "shorter", "longer"],
)
def test_marks_that_differ_differ_log_2_3(first: str, second: str) -> None:
    assert _fields(_entry(first, "周玉兰"), _entry(second, "周玉兰")) == (Field.MARKS,)


def test_marks_are_read_as_the_session_reads_them_log_2_3() -> None:
    assert compare_entries(_entry("○ - ×"), _entry("o-x"), params=PLAIN) is None


def test_every_field_that_differs_is_named_log_2_3() -> None:
    a = _entry("o-x", "周玉兰", ballot_id=ID1)
    b = _entry("o--", ballot_id=ID2)
    assert _fields(a, b) == (Field.BALLOT, Field.MARKS, Field.WRITE_INS)


@pytest.mark.parametrize(
    "typed",
    ["林春生", " 林春生 ", "\t林春生", "\uf9f4春生", " \uf9f4春生:o"],
    ids=["plain", "spaces", "tab", "compatibility-ideograph", "both"],
)
def test_a_name_the_count_reads_alike_is_the_same_write_in_R9(typed: str) -> None:
    # (R9) the count resolves the typed name trimmed and in NFC (U+F9F4 is 林 in NFC) ...
    assert resolve_write_in(typed.partition(":")[0], QINGSHAN) == (MemberId("M020"), None)
    # ... so double entry takes it as the same write-in as the roster's spelling.
    assert compare_entries(_entry("o--", "林春生"), _entry("o--", typed), params=PLAIN) is None


def test_a_member_id_and_that_members_name_are_different_write_ins_R9() -> None:
    assert resolve_write_in("M020", QINGSHAN) == resolve_write_in("林春生", QINGSHAN)
    assert _fields(_entry("o--", "M020"), _entry("o--", "林春生")) == (Field.WRITE_INS,)


def test_row_order_counts_when_write_ins_need_a_disapproval_R9_1() -> None:
    a = _entry("x--", "周玉兰", "林春生")
    b = _entry("x--", "林春生", "周玉兰")
    assert compare_entries(a, b, params=PLAIN) is None
    assert _fields(a, b, NUMBERED) == (Field.WRITE_INS,)
    # Why: with one × only write-in 1 may give a vote, so the two orders count differently.
    w, y = MemberId("M012"), MemberId("M020")

    def approvals(rows: tuple[MemberId, ...]) -> tuple[MemberId, ...]:
        ballot = Ballot(
            (Mark.DISAPPROVE, Mark.ABSTAIN, Mark.ABSTAIN),
            tuple(WriteIn(name=str(m), member=m) for m in rows),
        )
        return judge_ballot(
            ballot,
            candidates=(MemberId("M001"), MemberId("M002"), MemberId("M003")),
            seats=3,
            params=NUMBERED,
            write_in_eligible=lambda _m: True,
        ).approvals

    assert approvals((w, y)) != approvals((y, w))


def test_batches_match_ballots_by_id_in_any_order_log_2_3() -> None:
    first = [_entry("o--", ballot_id=ID1), _entry("x--", "周玉兰", ballot_id=ID2)]
    second = [_entry("x--", "周玉兰", ballot_id=ID2), _entry("o--", ballot_id=ID1)]
    assert compare_batches(first, second, params=PLAIN) == ()
    require_same_batches(first, second, params=PLAIN)


def test_a_ballot_in_one_batch_only_differs_log_2_3() -> None:
    first = [_entry(ballot_id=ID1), _entry(ballot_id=ID2)]
    second = [_entry(ballot_id=ID1), _entry(ballot_id=ID3)]
    got = compare_batches(first, second, params=PLAIN)
    assert [(d.ballot_id, d.fields) for d in got] == [
        (ID2, (Field.BALLOT,)),
        (ID3, (Field.BALLOT,)),
    ]
    twice = [_entry(ballot_id=ID1), _entry(ballot_id=ID1)]
    assert [d.fields for d in compare_batches(twice, first[:1], params=PLAIN)] == [(Field.BALLOT,)]


def test_a_mismatch_names_the_ballot_and_fields_never_the_content_log_2_3() -> None:
    first = [_entry("o-x", "周玉兰", ballot_id=ID1), _entry("o--", ballot_id=ID2)]
    second = [_entry("o-o", "林春生", ballot_id=ID1), _entry("o--", ballot_id=ID2)]
    with pytest.raises(DoubleEntryMismatchError) as info:
        require_same_batches(first, second, params=PLAIN)
    e = info.value
    assert e.code == "double_entry.mismatch"
    assert [d.ballot_id for d in e.differences] == [ID1]
    assert "aaaaaaaa…（标记、另选人）" in e.zh
    assert "aaaaaaaa… (marks, write-ins)" in e.en
    for text in (e.zh, e.en, str(e)):
        assert not any(s in text for s in ("周玉兰", "林春生", "o-x", "o-o", ID2[:8]))
