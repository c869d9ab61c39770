"""Bundles written by the producer (`tally publish`) verify with the independent verifier.

These drive whole elections through the `tally` CLI (tests/helpers/polling.py) and then run
`verifier verify` on the published folder and zip. They are slow (key derivation, PDFs).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers.polling import Election
from verifier.checks import TownKey, verify_bundle
from verifier.cli import parse_town_key
from verifier.report import render_text

ROOT = Path(__file__).resolve().parents[3]
QINGSHAN = ROOT / "examples" / "qingshan.toml"
PRESENT = [f"M{i:03d}" for i in range(1, 27) if i not in (15, 20, 25)]

pytestmark = pytest.mark.slow


def _verify(e: Election, out: Path) -> None:
    town: TownKey = parse_town_key(str(e.town_pub))
    for path in (out / "bundle", out / "bundle.zip"):
        report = verify_bundle(path, town, jobs=2)
        assert report.ok, render_text(report, "en")


def test_producer_normal_election_verifies(tmp_path: Path) -> None:
    e = Election(tmp_path, QINGSHAN)
    e.checkin(PRESENT)
    e.vote(
        "committee",
        1,
        [
            *["ooooox"] * 8,
            *["oxoooo"] * 4,
            *["ooxoox"] * 5,
            *["-oooo-"] * 2,
            ("xxoooo", ["周玉兰"]),
            "oooooo",
            "ooo?ox",
            "------",
        ],
    )
    e.vote("secretary", 1, [*["ox"] * 15, *["xo"] * 6, "oo"])
    _verify(e, e.finish())


def test_producer_unanimous_committee_and_secretary_verify(tmp_path: Path) -> None:
    e = Election(tmp_path, QINGSHAN)
    e.checkin(PRESENT)
    e.vote("committee", 1, ["ooooox"] * 23)
    e.vote("secretary", 1, [*["ox"] * 14, *["xo"] * 9])
    _verify(e, e.finish())
