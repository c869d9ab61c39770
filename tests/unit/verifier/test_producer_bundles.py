"""Bundles written by the producer (`tally publish`) verify with the independent verifier.

These drive whole elections through the `tally` CLI (tests/helpers/cli_election.py) and then run
`verifier verify` on the published folder and zip. They are slow (key derivation, PDFs).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers.bundles import verify_folder_and_zip
from tests.helpers.cli_election import checked_in

pytestmark = pytest.mark.slow


def test_producer_normal_election_verifies(tmp_path: Path) -> None:
    e = checked_in(tmp_path)
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
    verify_folder_and_zip(e.finish(), e.town_pub)


def test_producer_unanimous_committee_and_secretary_verify(tmp_path: Path) -> None:
    e = checked_in(tmp_path)
    e.vote("committee", 1, ["ooooox"] * 23)
    e.vote("secretary", 1, [*["ox"] * 14, *["xo"] * 9])
    verify_folder_and_zip(e.finish(), e.town_pub)
