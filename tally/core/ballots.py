"""One ballot's marks and its verdict (spec/rules.md R7-R10).

A ballot is judged against the round it belongs to: the listed candidates (one mark each, in the
ballot order), the open seats, and who may receive a write-in vote. The verdict says whether the
ballot is valid, its 所选人数 (choices), whom it gives an approval to, and why.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum

from tally.core.model import MemberId, Parameters, UnreadableMark, WriteInUnmarked

__all__ = ["INVALID_REASONS", "Ballot", "BallotVerdict", "Mark", "WriteIn", "judge_ballot"]

#: (R8.5) Why the tellers, with a scrutineer's confirmation, entered a returned ballot as invalid:
#: reason code -> (Chinese, English) as shown to people.
INVALID_REASONS: dict[str, tuple[str, str]] = {
    "identifying_marks": ("有识别标记", "identifying marks"),
    "unreadable": ("无法辨认", "unreadable as a whole"),
    "not_official_stock": ("非正式选票", "not the official ballot stock"),
}


class Mark(StrEnum):
    """(R7) The mark under one listed candidate. Values are the one-letter codes used in files."""

    APPROVE = "o"
    DISAPPROVE = "x"
    ABSTAIN = "-"
    UNREADABLE = "?"


@dataclass(frozen=True, slots=True)
class WriteIn:
    """(R9) A name written on a blank row; ``member`` is the roster id the tellers resolved it to
    (None when it names nobody on the roster); ``marked`` is whether a ○ stands under it."""

    name: str
    member: MemberId | None
    marked: bool = True


@dataclass(frozen=True, slots=True)
class Ballot:
    """A returned ballot as read: one mark per listed candidate, then the write-in rows used.

    ``invalid_reason`` is set (one of ``INVALID_REASONS``, with no marks) for a ballot the tellers
    entered as invalid by decision, confirmed by a scrutineer (R8.5)."""

    marks: tuple[Mark, ...]
    write_ins: tuple[WriteIn, ...] = ()
    invalid_reason: str | None = None


@dataclass(frozen=True, slots=True)
class BallotVerdict:
    """The verdict on one ballot. ``approvals`` is empty when the ballot is invalid."""

    valid: bool
    choices: int
    approvals: tuple[MemberId, ...]
    notes: tuple[str, ...]


def judge_ballot(
    ballot: Ballot,
    *,
    candidates: Sequence[MemberId],
    seats: int,
    params: Parameters,
    write_in_eligible: Callable[[MemberId], bool],
) -> BallotVerdict:
    """Judge one ballot.

    Args:
        ballot: the marks as read; ``len(ballot.marks)`` must equal ``len(candidates)`` (the caller
            checks the shape, see ``tally.core.rounds``). It may hold more write-ins than
            ``seats``: such a ballot is invalid, not malformed (R9.5).
        candidates: the listed candidates in ballot order.
        seats: the open seats of the round (the over-vote limit).
        params: the election's rule parameters.
        write_in_eligible: whether a member may receive a write-in vote in this round.

    Returns:
        The verdict: (R8) choices = approvals of listed candidates + every filled write-in row;
        more choices than seats voids the whole ballot, and so do more write-ins than the paper
        has rows (R9.5). (R10) an unreadable mark voids only that mark, or the whole ballot under
        ``unreadable_mark = void_ballot``. (R9.1, R9.2) which write-ins give a vote: a marked
        one (or an unmarked one under ``write_in_unmarked = approval``), within the number of
        × marks under ``write_in_requires_disapproval``, naming a write-in-eligible member who
        has no approval from this ballot yet; every other write-in gives no vote.
    """
    if ballot.invalid_reason is not None:  # (R8.5) invalid by a confirmed decision
        return BallotVerdict(False, 0, (), (f"ballot.invalid.{ballot.invalid_reason}",))
    notes: list[str] = []
    if Mark.UNREADABLE in ballot.marks:
        if params.unreadable_mark is UnreadableMark.VOID_BALLOT:
            return BallotVerdict(False, 0, (), ("mark.unreadable_voids_ballot",))
        notes.append("mark.unreadable_voided")

    approved = [c for c, m in zip(candidates, ballot.marks, strict=True) if m is Mark.APPROVE]
    disapprovals = sum(1 for m in ballot.marks if m is Mark.DISAPPROVE)

    # (R8.1, R9.1) every filled write-in row counts in 所选人数, whatever the options say.
    choices = len(approved) + len(ballot.write_ins)
    if len(ballot.write_ins) > seats:
        # (R9.5) more names than the paper has write-in rows: one invalid ballot.
        return BallotVerdict(False, choices, (), (*notes, "ballot.write_in_rows"))
    if choices > seats:
        return BallotVerdict(False, choices, (), (*notes, "ballot.overvote"))

    gets_vote = list(approved)
    for row, w in enumerate(ballot.write_ins, start=1):
        if not w.marked and params.write_in_unmarked is WriteInUnmarked.IGNORED:
            notes.append("writein.unmarked_ignored")
        elif params.write_in_requires_disapproval and row > disapprovals:
            notes.append("writein.without_disapproval")
        elif w.member is not None and w.member not in gets_vote and write_in_eligible(w.member):
            gets_vote.append(w.member)
        else:
            # (R9.2) counts toward 所选人数 but gives no vote to anyone.
            notes.append("writein.no_vote")
    return BallotVerdict(True, choices, tuple(gets_vote), tuple(notes))
