"""The CLI's one way of showing progress (tally/cli_progress.py): a bar on stderr only when
stderr is a terminal and the command was not asked for JSON; otherwise nothing at all, not even
the bar's last line (a log file or a pipe stays clean), and stdout is never written."""

from __future__ import annotations

import pytest

from tally.cli_progress import progress_bar


def test_no_bar_and_no_output_when_stderr_is_not_a_terminal(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("FORCE_COLOR", raising=False)
    monkeypatch.delenv("TTY_COMPATIBLE", raising=False)
    with progress_bar("核验", 3) as bar:
        assert not bar.shown
        bar.advance()
        bar.completed(3)
    assert capsys.readouterr() == ("", "")


def test_no_bar_with_json_even_on_a_terminal(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FORCE_COLOR", "1")  # rich takes the stream for a terminal
    with progress_bar("核验", 3, quiet=True) as bar:
        assert not bar.shown
        bar.advance()
    assert capsys.readouterr() == ("", "")


def test_a_bar_on_a_terminal_goes_to_stderr_only(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FORCE_COLOR", "1")
    with progress_bar("checking the received remote ballots", 4) as bar:
        assert bar.shown
        bar.advance()
        bar.completed(4)
    out, err = capsys.readouterr()
    assert out == ""
    assert "checking the received remote ballots" in err
