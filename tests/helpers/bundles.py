"""Published bundles for verifier tests.

- ``generator(monkeypatch)``: scripts/gen_bundle_vectors.py loaded as a module (its scenarios,
  keys and ``run_scenario``), the producer of the committed bundle vectors.
- ``scenario_session(monkeypatch, folder, name)``: one of its scenarios run into ``folder``,
  returned as the open election (result recorded, ready to publish).
- ``verify_folder_and_zip(published, town_pub)``: the independent verifier on a ``tally publish``
  output, folder and zip, failing with the verifier's own report.
- ``verify_files(files, folder, town)``: bundle files written into ``folder`` and verified;
  returns the clauses that failed.

Whole elections driven through the CLI up to ``tally publish``: tests/helpers/cli_election.py.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

import keys
from tally.election import ElectionSession
from verifier.checks import TownKey, verify_bundle
from verifier.cli import parse_town_key
from verifier.crypto import fingerprint
from verifier.report import render_text

ROOT = Path(__file__).resolve().parents[2]
GENERATOR = ROOT / "scripts" / "gen_bundle_vectors.py"


def generator(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    """scripts/gen_bundle_vectors.py as a module, registered in ``sys.modules`` for the test only
    (its dataclasses look their module up)."""
    spec = importlib.util.spec_from_file_location("gen_bundle_vectors", GENERATOR)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, spec.name, module)
    spec.loader.exec_module(module)
    return module


def scenario_session(
    monkeypatch: pytest.MonkeyPatch, folder: Path, name: str = "small-branch"
) -> ElectionSession:
    """The generator's scenario ``name`` run into ``folder / "work"``; the session is open."""
    gen = generator(monkeypatch)
    work = folder / "work"
    work.mkdir()
    gen.run_scenario(gen.SCENARIOS[name](), work)
    return ElectionSession.open(work / "election.db")


def verify_folder_and_zip(published: Path, town_pub: Path, jobs: int = 2) -> None:
    """``published`` (a ``tally publish --out``) passes the verifier as a folder and as a zip."""
    town: TownKey = parse_town_key(str(town_pub))
    for path in (published / "bundle", published / "bundle.zip"):
        report = verify_bundle(path, town, jobs=jobs)
        assert report.ok, render_text(report, "en")


def verify_files(files: dict[str, bytes], folder: Path, town: keys.Signer) -> list[str]:
    """``files`` (relative path to content) written into ``folder`` and verified against
    ``town``'s key; the clauses that failed, in the report's order."""
    for rel, data in files.items():
        (folder / rel).parent.mkdir(parents=True, exist_ok=True)
        (folder / rel).write_bytes(data)
    report = verify_bundle(folder, TownKey(fingerprint=fingerprint(town.public_key.key)), jobs=1)
    return list(report.failed())
