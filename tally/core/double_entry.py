"""Double entry (spec/log.md §2.3): when two tellers' entries are the same ballot.

With double entry on, a ballot counts only when two tellers "have entered it alike". This module is
the one place that says what "alike" means; the CLI (``tally enter --batch --second``) and the
station (a second teller's entry of a held ballot) both call it. Two entries are the same ballot
when they agree on

1. the ballot: the ballot id the QR carries (the shells parse the QR; the core sees the id);
2. the marks, one per listed candidate, read as the session reads them (``read_marks``: spaces
   dropped, ``○``/``×`` as ``o``/``x``);
3. the write-ins, each a name and whether a ``○`` stands under it (spec/rules.md R9). A name is
   read as the count reads a typed write-in (``tally.core.marks_file.resolve_write_in``): white
   space around it trimmed and Unicode NFC, so two spellings the count cannot tell apart are the
   same write-in. The roster is not consulted: a member id on one side and that member's name on
   the other differ (the record keeps the written name, and the tellers check the paper again).
   The write-ins are compared as a multiset (the order the tellers typed the rows in changes no
   count), except when ``write_in_requires_disapproval`` is set: R9.1 then numbers the rows and
   only the first ``k`` (``k`` = the ballot's ``x`` marks) may give a vote, so the row order is
   part of the ballot and is compared too.

The core never logs and never puts a ballot's marks or names into a message: a difference names
only the ballot and which fields differ (``Field``). See docs/adr/0026-double-entry-rule.md.
"""

from __future__ import annotations

import enum
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from tally.core.errors import TallyError
from tally.core.model import Parameters

__all__ = [
    "Difference",
    "DoubleEntryMismatchError",
    "EnteredBallot",
    "EnteredWriteIn",
    "Field",
    "compare_batches",
    "compare_entries",
    "read_entry",
    "read_marks",
    "require_same_batches",
    "split_write_in",
    "write_in_rows_ordered",
]


class Field(enum.Enum):
    """What two entries of a ballot may disagree on, in the order messages list them."""

    BALLOT = "ballot"  # one entry has a ballot (QR) the other has not
    MARKS = "marks"
    WRITE_INS = "write_ins"


_FIELD_TEXT: dict[Field, tuple[str, str]] = {
    Field.BALLOT: ("只有一人录入了这张选票", "entered by one teller only"),
    Field.MARKS: ("标记", "marks"),
    Field.WRITE_INS: ("另选人", "write-ins"),
}


@dataclass(frozen=True, slots=True)
class EnteredWriteIn:
    """One write-in row as the double-entry rule compares it: the name as the count reads it."""

    name: str
    marked: bool


@dataclass(frozen=True, slots=True)
class EnteredBallot:
    """One teller's entry of one ballot, read for comparison (``read_entry``)."""

    ballot_id: str
    marks: str
    write_ins: tuple[EnteredWriteIn, ...]


@dataclass(frozen=True, slots=True)
class Difference:
    """Two entries that are not the same ballot: which ballot, and which fields differ."""

    ballot_id: str
    fields: tuple[Field, ...]


def read_marks(text: str) -> str:
    """The marks as the session stores them: spaces dropped, ``○`` as ``o`` and ``×`` as ``x``.

    The letters themselves are checked when the ballot is entered (spec/rules.md R7), not here.
    """
    return text.replace(" ", "").replace("○", "o").replace("×", "x")


def split_write_in(text: str) -> tuple[str, bool]:
    """A typed write-in row ``name`` or ``name:-`` (no ``○`` under it): the trimmed name and
    whether it is marked, as the session reads the row into a ``ballot.entered`` body."""
    name, _, mark = text.partition(":")
    return name.strip(), mark != "-"


def read_entry(*, ballot_id: str, marks: str, write_ins: Iterable[str]) -> EnteredBallot:
    """One teller's entry as the rule compares it.

    Args:
        ballot_id: the ballot id of the QR the teller scanned (hex), parsed by the shell.
        marks: the marks as typed (``read_marks``).
        write_ins: the write-in rows as typed, in row order (``split_write_in``); each name is
            read as the count reads it: trimmed, then Unicode NFC.

    Returns:
        The entry, ready for ``compare_entries``.
    """
    rows = []
    for text in write_ins:
        name, marked = split_write_in(text)
        rows.append(EnteredWriteIn(name=unicodedata.normalize("NFC", name), marked=marked))
    return EnteredBallot(ballot_id=ballot_id, marks=read_marks(marks), write_ins=tuple(rows))


def write_in_rows_ordered(params: Parameters) -> bool:
    """Whether the row order of the write-ins can change the count, so double entry compares it.

    (R9.1) with ``write_in_requires_disapproval`` only write-ins numbered up to the ballot's ``x``
    marks may give a vote, so swapping two rows can move a vote; otherwise no rule reads the order.
    """
    return params.write_in_requires_disapproval


def compare_entries(
    first: EnteredBallot, second: EnteredBallot, *, params: Parameters
) -> Difference | None:
    """Whether two entries are the same ballot (see the module docstring).

    Returns:
        None when they are the same ballot; otherwise the fields that differ, never empty.
    """
    fields = []
    if first.ballot_id != second.ballot_id:
        fields.append(Field.BALLOT)
    if first.marks != second.marks:
        fields.append(Field.MARKS)
    if write_in_rows_ordered(params):
        same_write_ins = first.write_ins == second.write_ins
    else:
        same_write_ins = Counter(first.write_ins) == Counter(second.write_ins)
    if not same_write_ins:
        fields.append(Field.WRITE_INS)
    return Difference(first.ballot_id, tuple(fields)) if fields else None


def compare_batches(
    first: Sequence[EnteredBallot], second: Sequence[EnteredBallot], *, params: Parameters
) -> tuple[Difference, ...]:
    """Two tellers' entries of one stack of ballots, matched by ballot id, in any order.

    Returns:
        Every difference, ordered by ballot id: a ballot in one batch only (or entered a
        different number of times) differs in ``Field.BALLOT``; the others as ``compare_entries``.
    """
    by_id: dict[str, tuple[list[EnteredBallot], list[EnteredBallot]]] = {}
    for side, batch in enumerate((first, second)):
        for entry in batch:
            by_id.setdefault(entry.ballot_id, ([], []))[side].append(entry)
    out: list[Difference] = []
    for ballot_id in sorted(by_id):
        a, b = by_id[ballot_id]
        if len(a) != len(b):
            out.append(Difference(ballot_id, (Field.BALLOT,)))
            continue
        for x, y in zip(a, b, strict=True):
            difference = compare_entries(x, y, params=params)
            if difference is not None:
                out.append(difference)
                break
    return tuple(out)


def _short_id(ballot_id: str) -> str:
    return f"{ballot_id[:8]}…"


class DoubleEntryMismatchError(TallyError):
    """(spec/log.md §2.3) Two tellers' entries are not the same ballot; nothing may count.

    The message names each ballot (by ``label``) and the fields that differ, never the marks or
    the names themselves.
    """

    differences: tuple[Difference, ...]

    def __init__(
        self, differences: tuple[Difference, ...], *, label: Callable[[str], str] = _short_id
    ) -> None:
        zh = "；".join(
            f"{label(d.ballot_id)}（{'、'.join(_FIELD_TEXT[f][0] for f in d.fields)}）"
            for d in differences
        )
        en = "; ".join(
            f"{label(d.ballot_id)} ({', '.join(_FIELD_TEXT[f][1] for f in d.fields)})"
            for d in differences
        )
        super().__init__(
            "double_entry.mismatch",
            zh=f"两名计票人的录入不一致，均未计入，请核对纸质选票后重新录入：{zh}",
            en=f"the two tellers' entries differ; nothing counted; check the paper ballots and "
            f"enter them again: {en}",
        )
        self.differences = differences


def require_same_batches(
    first: Sequence[EnteredBallot], second: Sequence[EnteredBallot], *, params: Parameters
) -> None:
    """Two tellers' batches hold the same ballots, each entered alike.

    Raises:
        DoubleEntryMismatchError: every ballot that differs (``compare_batches``).
    """
    differences = compare_batches(first, second, params=params)
    if differences:
        raise DoubleEntryMismatchError(differences)
