"""The audit-binding vectors (spec/vectors/audit/, spec/audit.md A11, A14-A16).

Each case must give exactly its expected set of [clause, code] findings, and the generator must
write the committed bytes again (the vectors are reproducible).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from verifier.audit.binding import parse_head
from verifier.audit.election import load_election
from verifier.audit.record import check_audit_records

ROOT = Path(__file__).resolve().parents[2]
VECTORS = ROOT / "spec" / "vectors" / "audit"
CASES = sorted(p.name for p in VECTORS.iterdir() if (p / "expected.json").exists())


def test_the_audit_vectors_cover_forge_delete_reorder_root_and_discrepancy() -> None:
    assert {
        "valid-chain",
        "valid-discrepancy-settled",
        "forged-record",
        "forged-appointment",
        "deleted-newest",
        "deleted-folder",
        "reordered",
        "other-root",
        "discrepancy",
    } <= set(CASES)


@pytest.mark.parametrize("name", CASES)
def test_each_audit_vector_gives_exactly_its_expected_findings(name: str) -> None:
    case = VECTORS / name
    expected = json.loads((case / "expected.json").read_text("utf-8"))
    bundle = VECTORS / "bundle"
    election = load_election(bundle, None, verify=False)
    head = (
        parse_head(str(case / expected["head"]), town_key=election.town_key, path="")
        if expected["head"]
        else None
    )
    result = check_audit_records(bundle, audit_dir=case / "audit", election=election, head=head)
    assert sorted({(f.clause, f.code) for f in result.findings}) == [
        tuple(x) for x in expected["findings"]
    ]
    assert result.head_checked is (head is not None)


def test_the_audit_vectors_are_reproducible() -> None:
    r = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "gen_audit_vectors.py"), "--check"],
        capture_output=True,
        text=True,
        check=False,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
    )
    assert r.returncode == 0, r.stderr
