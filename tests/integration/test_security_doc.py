"""SECURITY.md's "Services under attack (issue 14)" table names what exists: every threat row
names a test that is in the suite and a file that is in the project."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
THREATS = (
    "memory exhaustion",
    "slow headers, slow bodies",
    "connection exhaustion",
    "malformed JSON",
    "redeem throttle abuse",
    "sign-in lock-out abuse",
    "forwarded-header spoofing",
    "issuer key lifetime",
    "short RFC 9474 signatures",
)


def _section() -> str:
    text = (ROOT / "SECURITY.md").read_text(encoding="utf-8")
    start = text.index("## Services under attack (issue 14)")
    end = text.index("\n## ", start + 1)
    return text[start:end]


def test_every_threat_of_issue_14_has_a_row_with_a_test_and_what_is_left() -> None:
    rows = [line for line in _section().splitlines() if line.startswith("| **")]
    for threat in THREATS:
        (row,) = [r for r in rows if r.startswith(f"| **{threat}")]
        cells = [c.strip() for c in row.strip("|").split(" | ")]
        assert len(cells) == 4, (threat, len(cells))
        assert "test_" in cells[2], threat
        assert cells[3], threat


def test_every_test_and_file_the_table_names_exists() -> None:
    section = _section()
    sources = "".join(p.read_text(encoding="utf-8") for p in (ROOT / "tests").rglob("*.py"))
    named = set(re.findall(r"::(test_\w+)", section))
    assert len(named) >= 20
    for name in named:
        assert f"def {name}(" in sources, name
    for path in re.findall(r"`((?:integration|unit)/[\w/]+\.py)", section):
        assert (ROOT / "tests" / path).is_file(), path
    for path in re.findall(r"`((?:tally|keys|bench)/[\w/]+\.py)", section):
        assert (ROOT / path).is_file(), path
