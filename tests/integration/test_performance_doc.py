"""docs/PERFORMANCE.md names the command that produced each section's figures."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_every_performance_section_names_an_existing_benchmark_command() -> None:
    text = (ROOT / "docs" / "PERFORMANCE.md").read_text(encoding="utf-8")
    sections = re.split(r"^## ", text, flags=re.M)[1:]
    assert len(sections) >= 4
    for section in sections:
        title = section.splitlines()[0]
        commands = re.findall(r"```sh\n(.*?)\n```", section, flags=re.S)
        assert commands, f"section {title!r} names no command"
        for cmd in commands:
            script = re.search(r"bench/\w+\.py", cmd)
            assert script, f"{title!r}: {cmd!r} is not a bench/ script"
            assert (ROOT / script.group(0)).exists(), cmd
        assert re.search(r"\d", section), f"section {title!r} has no figures"
