"""The committed bundle vectors of spec/vectors/bundle/ (spec/bundle.md V1-V19), loaded by both sides.

The verifier (`verifier.checks.verify_bundle`) must pass every valid bundle and fail every invalid
one with exactly the clause set of its `expected.json`; the producer's own readers
(`tally.election.load_signed_manifest`, and `tally.core.meeting.parse_entry`/`apply_entry` as
`tally.election.ElectionSession.open` replays a stored log) must accept the valid manifests and
logs and reject the invalid ones the way `expected.json` says. The vectors must equal a fresh
regeneration by scripts/gen_bundle_vectors.py (STYLE.md §7.3 rules 20-23).
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any

import pytest

from tally.core.errors import DefinitionError, TallyError
from tally.core.manifest import parse_manifest
from tally.core.meeting import Meeting, apply_entry, begin, parse_entry
from tally.core.model import PostKind
from tally.election_log import check_invalid_confirmation
from tally.manifest_io import load_signed_manifest, town_check
from tally.session_errors import SessionError
from tests.helpers import bundles
from verifier.checks import TownKey, verify_bundle
from verifier.cli import parse_town_key
from verifier.report import Report, Status

ROOT = Path(__file__).resolve().parents[2]
VECTORS = ROOT / "spec" / "vectors" / "bundle"
VALID = sorted(p for p in (VECTORS / "valid").iterdir() if p.is_dir())
INVALID = sorted(p for p in (VECTORS / "invalid").iterdir() if p.is_dir())
ZIPS = sorted(p for p in (VECTORS / "zip").iterdir() if p.is_dir())


def _expected(case: Path) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads((case / "expected.json").read_text(encoding="utf-8"))
    assert doc["format"] == "bundle-vector/1"
    return doc


@pytest.fixture(scope="module")
def town() -> TownKey:
    return parse_town_key(str(VECTORS / "town.pub"))


def _verify(path: Path, town: TownKey) -> Report:
    return verify_bundle(path, town, jobs=1)


class Refused(Exception):
    """The producer refused the entry at ``seq`` with ``code``."""

    def __init__(self, code: str, seq: int) -> None:
        super().__init__(f"{code} at seq {seq}")
        self.code = code
        self.seq = seq


def _replay(bundle: Path) -> Meeting:
    """Replay log.jsonl the way ElectionSession.open does, with the bundle's sealed stock lists.

    Raises:
        SessionError: the manifest is rejected.
        Refused: an entry is refused.
    """
    manifest, town = load_signed_manifest((bundle / "manifest.json").read_bytes())
    stocks: dict[tuple[PostKind, int], frozenset[str]] = {}
    for path in (bundle / "stocks").glob("*.json"):
        post, _, rnd = path.stem.rpartition("-")
        stocks[(PostKind(post), int(rnd))] = frozenset(json.loads(path.read_bytes())["ballot_ids"])
    meeting: Meeting | None = None
    for seq, raw in enumerate((bundle / "log.jsonl").read_bytes().splitlines()):
        try:
            entry = parse_entry(raw)
            if meeting is None:
                meeting = begin(
                    manifest.election, manifest.election_id, entry, town_check=town_check(town)
                )
            else:
                key = (
                    (PostKind(entry.body["post"]), int(entry.body["round"]))
                    if entry.type == "stock.committed"
                    else None
                )
                if entry.type == "ballot.declared_invalid":
                    check_invalid_confirmation(manifest, entry)
                meeting = apply_entry(meeting, entry, stock_ids=stocks.get(key) if key else None)
        except TallyError as e:
            raise Refused(e.code, seq) from e
    assert meeting is not None
    return meeting


# ----------------------------------------------------------------------------- the vector set


def test_vector_set_covers_the_clauses() -> None:
    assert [p.name for p in VALID] == [
        "amended-secretary-list",
        "direct-election",
        "invalid-by-decision",
        "secretary-plenary",
        "small-branch",
        "tie-runoff",
    ]
    clauses = {p.name.split("-")[0] for p in INVALID}
    assert {f"V{i}" for i in range(1, 18)} <= clauses
    assert len(INVALID) >= 12
    for case in INVALID:
        doc = _expected(case)
        assert doc["clause"] == case.name.split("-")[0]
        assert doc["clause"] in doc["failed"]
        assert (VECTORS / "valid" / doc["base"]).is_dir()


def test_regeneration_equals_committed_vectors(monkeypatch: pytest.MonkeyPatch) -> None:
    wanted: dict[str, bytes] = bundles.generator(monkeypatch).build_vectors()
    present = {
        str(p.relative_to(VECTORS))
        for p in VECTORS.rglob("*")
        if p.is_file() and p.name != "README.md"
    }
    assert present == set(wanted)
    for rel, content in wanted.items():
        assert (VECTORS / rel).read_bytes() == content, rel


# ----------------------------------------------------------------------------- the verifier


@pytest.mark.parametrize("case", VALID, ids=[p.name for p in VALID])
def test_verifier_passes_valid_bundle(case: Path, town: TownKey) -> None:
    doc = _expected(case)
    report = _verify(case / "bundle", town)
    assert report.ok, report.failed()
    assert report.election_id == doc["election_id"]
    assert report.entries == doc["entries"]
    assert report.ballots == doc["ballots"]
    assert {post: list(ids) for post, ids in report.elected} == doc["elected"]


def test_verifier_passes_valid_bundle_as_zip(tmp_path: Path, town: TownKey) -> None:
    bundle = VECTORS / "valid" / "small-branch" / "bundle"
    path = tmp_path / "bundle.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for f in sorted(p for p in bundle.rglob("*") if p.is_file()):
            z.writestr(str(f.relative_to(bundle)), f.read_bytes())
    assert _verify(path, town).ok


@pytest.mark.parametrize("case", ZIPS, ids=[p.name for p in ZIPS])
def test_verifier_fails_zip_with_entries_that_are_not_plain_files_V1(
    case: Path, town: TownKey
) -> None:
    """V1: a directory entry, a link, a FIFO, a directory or a set-uid mode, each by the zip's
    attributes alone; a member refused by its attributes is not read, so nothing else is checked."""
    doc = _expected(case)
    report = _verify(case / "bundle.zip", town)
    assert set(report.failed()) == set(doc["failed"]) == {"V1"}
    found = [(f.code, f.file) for c in report.clauses if c.clause == "V1" for f in c.findings]
    assert found == [(doc["code"], p) for p in doc["paths"]]
    others = {c.status for c in report.clauses if c.clause != "V1"}
    assert others == {Status.PASSED if doc["others_pass"] else Status.NOT_CHECKED}


@pytest.mark.parametrize("case", INVALID, ids=[p.name for p in INVALID])
def test_verifier_fails_invalid_bundle_with_its_clause(case: Path, town: TownKey) -> None:
    doc = _expected(case)
    report = _verify(case / "bundle", town)
    assert set(report.failed()) == set(doc["failed"])
    codes = {f.code for c in report.clauses if c.clause == doc["clause"] for f in c.findings}
    assert doc["code"] in codes, codes
    others = {c.clause: c.status for c in report.clauses if c.clause not in doc["failed"]}
    if doc["others_pass"]:
        assert set(others.values()) == {Status.PASSED}
    else:  # an early failure leaves the later clauses not checked, never passed by default
        assert Status.NOT_CHECKED in others.values()


# ----------------------------------------------------------------------------- the producer


@pytest.mark.parametrize("case", VALID, ids=[p.name for p in VALID])
def test_producer_accepts_valid_manifest_and_log(case: Path) -> None:
    doc = _expected(case)
    manifest, _ = load_signed_manifest((case / "bundle" / "manifest.json").read_bytes())
    assert manifest.election_id.hex() == doc["election_id"]
    meeting = _replay(case / "bundle")
    assert meeting.size == doc["entries"]
    assert meeting.result is not None
    assert meeting.result["elected"] == doc["elected"]


def _producer(case: Path) -> dict[str, Any]:
    producer: dict[str, Any] = _expected(case)["producer"]
    return producer


MANIFEST_CASES = [p for p in INVALID if _producer(p)["load_signed_manifest"] != "accepts"]
LOG_CASES = [p for p in INVALID if isinstance(_producer(p)["replay"], dict)]
ACCEPTED = [p for p in INVALID if _producer(p)["replay"] == "accepts"]


@pytest.mark.parametrize("case", MANIFEST_CASES, ids=[p.name for p in MANIFEST_CASES])
def test_producer_rejects_invalid_manifest(case: Path) -> None:
    want = _producer(case)["load_signed_manifest"]
    raw = (case / "bundle" / "manifest.json").read_bytes()
    with pytest.raises(SessionError) as info:
        load_signed_manifest(raw)
    assert info.value.code == want["rejects"]
    if want["problem"] is not None:
        with pytest.raises(DefinitionError) as problems:
            parse_manifest(json.loads(raw)["manifest"])
        assert want["problem"] in {p.code for p in problems.value.problems}


@pytest.mark.parametrize("case", LOG_CASES, ids=[p.name for p in LOG_CASES])
def test_producer_replay_rejects_invalid_log(case: Path) -> None:
    want = _producer(case)["replay"]
    with pytest.raises(Refused) as info:
        _replay(case / "bundle")
    assert (info.value.code, info.value.seq) == (want["rejects"], want["seq"])


@pytest.mark.parametrize("case", ACCEPTED, ids=[p.name for p in ACCEPTED])
def test_producer_replay_accepts_what_it_does_not_check(case: Path) -> None:
    """Cases outside the producer's manifest and log checks say why (``note``)."""
    producer = _producer(case)
    assert producer["note"]
    _replay(case / "bundle")


@pytest.mark.parametrize("case", INVALID, ids=[p.name for p in INVALID])
def test_every_changed_log_is_rejected_or_explained(case: Path) -> None:
    doc = _expected(case)
    base = VECTORS / "valid" / doc["base"] / "bundle"
    same_manifest = (case / "bundle" / "manifest.json").read_bytes() == (
        base / "manifest.json"
    ).read_bytes()
    log_changed = (case / "bundle" / "log.jsonl").read_bytes() != (base / "log.jsonl").read_bytes()
    if same_manifest and log_changed:
        assert isinstance(doc["producer"]["replay"], dict) or doc["producer"].get("note")
