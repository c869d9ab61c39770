"""A branch's election figures for the town report (issue 9; spec/procedure.md RP-13.2), read
from its log: attendance, rounds held, remote ballots, who was elected in which round with how
many approvals, and the publicity dates.

Pure: parsed log entries in, a frozen value out. The town report takes them only from an election
bundle that ``verifier verify`` passed (``tally town-report``), or from the demo's own election
files (``tally demo``), so both give the same figures for the same log.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from tally.core.meeting.entries import Entry

__all__ = ["ElectionFigures", "electing_rounds", "election_figures"]


@dataclass(frozen=True, slots=True)
class ElectionFigures:
    """What the town report shows of one election's log."""

    present: int
    """Members who checked in to the meeting (each once, whenever they came)."""
    rounds: int
    """Rounds held: counted or void (a round whose quorum failed did not open)."""
    remote_ballots: int
    """``remote.cast`` entries: the remote ballots included (spec/bundle.md §4)."""
    elected: Mapping[str, tuple[str, ...]]
    """Post code -> member ids, in the order elected (the ``election.result`` body)."""
    electing: Mapping[tuple[str, str], tuple[int, int]]
    """(post, member) -> (the round that elected them, their approvals in it)."""
    publicity_start: str
    publicity_end: str


def electing_rounds(
    entries: Iterable[Entry], elected: Mapping[str, Sequence[str]]
) -> dict[tuple[str, str], tuple[int, int]]:
    """(post, member) -> (the round that elected them, their approvals in that round): the first
    counted round of the post whose ``elected`` names them.

    Raises:
        ValueError: an elected member no counted round elected (a log the verifier would fail).
    """
    out: dict[tuple[str, str], tuple[int, int]] = {}
    for entry in entries:
        if entry.type != "round.counted":
            continue
        b = entry.body
        votes = {a["member"]: a["approvals"] for a in b["approvals"]}
        for m in b["elected"]:
            out.setdefault((b["post"], m), (b["round"], votes[m]))
    missing = [(p, m) for p, ids in elected.items() for m in ids if (p, m) not in out]
    if missing:
        raise ValueError(f"elected without a counted round that elected them: {missing}")
    return out


def election_figures(entries: Sequence[Entry]) -> ElectionFigures:
    """The town report's figures of a whole election log (one that ends with its result).

    Raises:
        ValueError: the log has no ``election.result`` or an elected member no round elected.
    """
    results = [e.body for e in entries if e.type == "election.result"]
    if not results:
        raise ValueError("the log has no election.result")
    result = results[-1]
    elected = {str(post): tuple(ids) for post, ids in result["elected"].items()}
    checked_in = {e.body["member"] for e in entries if e.type == "member.checked_in"}
    return ElectionFigures(
        present=len(checked_in),
        rounds=sum(e.type in ("round.counted", "round.void") for e in entries),
        remote_ballots=sum(e.type == "remote.cast" for e in entries),
        elected=elected,
        electing=electing_rounds(entries, elected),
        publicity_start=str(result["publicity_start"]),
        publicity_end=str(result["publicity_end"]),
    )
