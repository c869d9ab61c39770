"""``tally procedure serve``: a file it cannot open is refused before anything listens."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from tally.cli import app


def test_serve_refuses_a_missing_procedure_file(tmp_path: Path) -> None:
    r = CliRunner().invoke(
        app,
        ["procedure", "serve", str(tmp_path / "none.sqlite"), "--data", str(tmp_path / "d")],
    )
    assert r.exit_code == 1
    assert "none.sqlite" in r.output
