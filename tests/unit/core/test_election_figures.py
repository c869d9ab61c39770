"""The town report's figures of an election log (tally.core.election_figures; issue 9,
spec/procedure.md RP-13.2): attendance, rounds held, remote ballots, the round that elected each
person with its approvals, and the publicity dates."""

from __future__ import annotations

from collections.abc import Sequence
from types import SimpleNamespace
from typing import Any, cast

import pytest

from tally.core.election_figures import electing_rounds, election_figures
from tally.core.meeting.entries import Entry


def _e(type_: str, **body: Any) -> SimpleNamespace:
    return SimpleNamespace(type=type_, body=body)


def _counted(post: str, round_: int, approvals: dict[str, int], elected: list[str]) -> Any:
    return _e(
        "round.counted",
        post=post,
        round=round_,
        approvals=[{"member": m, "approvals": n} for m, n in approvals.items()],
        elected=elected,
    )


RESULT = _e(
    "election.result",
    elected={"committee": ["M2", "M1"], "secretary": ["M1"]},
    publicity_start="2026-12-16",
    publicity_end="2026-12-22",
)


def _log(*entries: Any) -> Sequence[Entry]:
    return cast("Sequence[Entry]", list(entries))


def test_figures_count_attendance_once_rounds_held_and_remote_casts() -> None:
    log = _log(
        _e("election.opened"),
        _e("remote.cast"),
        _e("remote.cast"),
        _e("member.checked_in", member="M1"),
        _e("member.checked_in", member="M2"),
        _e("member.left", member="M2"),
        _e("member.checked_in", member="M2"),  # came back: still one member present
        _e("member.checked_in", member="M3"),
        _e("round.quorum_failed", post="committee", round=1),  # did not open: not a round
        _e("round.void", post="committee", round=1),
        _counted("committee", 2, {"M1": 3, "M2": 2, "M3": 1}, ["M1"]),
        _counted("committee", 3, {"M2": 3, "M3": 1}, ["M2"]),
        _counted("secretary", 1, {"M1": 3, "M2": 0}, ["M1"]),
        RESULT,
    )
    got = election_figures(log)
    assert (got.present, got.rounds, got.remote_ballots) == (3, 4, 2)
    assert got.elected == {"committee": ("M2", "M1"), "secretary": ("M1",)}
    assert got.electing == {
        ("committee", "M1"): (2, 3),
        ("committee", "M2"): (3, 3),
        ("secretary", "M1"): (1, 3),
    }
    assert (got.publicity_start, got.publicity_end) == ("2026-12-16", "2026-12-22")


def test_the_first_round_that_elected_a_person_is_theirs() -> None:
    log = _log(
        _counted("committee", 1, {"M1": 5}, ["M1"]),
        _counted("committee", 2, {"M1": 7}, ["M1"]),
    )
    assert electing_rounds(log, {"committee": ["M1"]}) == {("committee", "M1"): (1, 5)}


def test_a_log_without_its_result_or_an_elected_person_without_a_round_is_refused() -> None:
    with pytest.raises(ValueError, match=r"election\.result"):
        election_figures(_log(_e("member.checked_in", member="M1")))
    with pytest.raises(ValueError, match="without a counted round"):
        election_figures(_log(RESULT))
