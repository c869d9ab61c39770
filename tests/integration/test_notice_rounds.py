"""The published notice (公示) tells every round (RULES A13): elections with a runoff, a further
round and a void re-vote are driven through the `tally` CLI, the notice PDF is read back as text
(pdftotext), and every number on it is compared with the bundle (tests/helpers/notice_text.py)."""

from __future__ import annotations

from pathlib import Path

from tests.helpers.cli_election import Election, checked_in, marks_for
from tests.helpers.notice_text import compare_notice

SECRETARY = [*["ox"] * 14, *["xo"] * 9]


# --- the elections ------------------------------------------------------------------------------


def _election(tmp_path: Path) -> Election:
    return checked_in(tmp_path)


def test_further_round_winners_show_the_further_rounds_approvals_on_the_notice_A13(
    tmp_path: Path,
) -> None:
    e = _election(tmp_path)
    e.vote("committee", 1, marks_for([20, 18, 16, 10, 9, 8], 23, 5))
    e.vote("committee", 2, marks_for([15, 14, 3], 23, 2))
    e.vote("secretary", 1, SECRETARY)
    read = compare_notice(e.finish())
    # 刘海燕 and 李志强 were elected by round 2's 15 and 14, not round 1's 10 and 9 (line 13).
    assert read.elected["支部委员会委员"][3:] == [
        ("刘海燕", 2, 15, 2, 15),
        ("李志强", 2, 14, 2, 14),
    ]
    assert [r[4] for r in read.rounds["支部委员会委员"]] == [13, 13]


def test_runoff_winner_shows_the_runoff_and_the_round_that_passed_the_line_A13(
    tmp_path: Path,
) -> None:
    e = _election(tmp_path)
    e.vote("committee", 1, marks_for([20, 20, 18, 16, 15, 15], 23, 5))
    e.vote("committee", 2, [*["ox"] * 12, *["xo"] * 11])
    e.vote("secretary", 1, SECRETARY)
    read = compare_notice(e.finish())
    assert read.elected["支部委员会委员"][-1] == ("李志强", 2, 12, 1, 15)
    assert [r[4] for r in read.rounds["支部委员会委员"]] == [13, 0]  # no line in the runoff


def test_void_round_is_listed_as_not_counted_and_its_revote_elects_A13(tmp_path: Path) -> None:
    e = _election(tmp_path)
    e.vote("committee", 1, ["ooooox"] * 23, returned=24)
    e.vote("committee", 2, ["ooooox"] * 23)
    e.vote("secretary", 1, SECRETARY)
    read = compare_notice(e.finish())
    void, revote = read.rounds["支部委员会委员"]
    assert (void[0], void[1], void[2], void[3]) == (1, "void", (23, 24), [])
    assert revote[0] == 2 and all(r == 2 for _, r, *_ in read.elected["支部委员会委员"])
