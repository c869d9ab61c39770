"""Shared fixtures: a valid scripted bundle and a helper that verifies mutated copies."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.unit.verifier import builder as B
from verifier.checks import TownKey, verify_bundle
from verifier.crypto import fingerprint
from verifier.report import Report

TOWN_FP = fingerprint(B.TOWN.public_key.key)


@pytest.fixture(scope="session")
def good_files() -> dict[str, bytes]:
    return B.build()


@pytest.fixture
def run(tmp_path: Path) -> Callable[..., Report]:
    counter = iter(range(1000))

    def _run(files: dict[str, bytes], *, rehash: bool = True, as_zip: bool = False) -> Report:
        n = next(counter)
        if as_zip:
            path = B.write_zip(files, tmp_path / f"b{n}.zip", rehash=rehash)
        else:
            path = B.write_folder(files, tmp_path / f"b{n}", rehash=rehash)
        return verify_bundle(path, TownKey(fingerprint=TOWN_FP), jobs=1)

    return _run
