"""The procedure bundle vectors (spec/procedure.md RP-15.2, RP-15.3; V20-V31), loaded by both sides.

Every vector is run through ``verifier procedure`` (its command line, in process, ``--json``)
with the casework and election bundles its ``expected.json`` names: a valid bundle passes with
exactly the warnings and the clauses not checked that it lists; an invalid one fails under exactly
its clause, with its code first. The producer's own reader (``tally.procedure_file`` and the
ledger's replay) accepts each valid bundle's definition and log. The committed vectors equal a
fresh regeneration by scripts/gen_procedure_bundle_vectors.py.

A valid bundle with its election bundle passes V29 (``--election``). ``LANDS_WITH`` names the
vectors whose check is not built yet (marked xfail strict): none today.
"""

from __future__ import annotations

import contextlib
import io
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import keys
from bilingual import BilingualError
from tally.core.procedure.entries import ProcedureEntry, StockCommitted, parse_entry
from tally.core.procedure.figures import procedure_figures
from tally.core.procedure.ledger import Ledger, replay
from tally.procedure_file import load_signed_procedure
from verifier.cli import app

ROOT = Path(__file__).resolve().parents[2]
VECTORS = ROOT / "spec" / "vectors" / "procedure" / "bundles"
VALID = sorted(p for p in (VECTORS / "valid").iterdir() if p.is_dir())
INVALID = sorted(p for p in (VECTORS / "invalid").iterdir() if p.is_dir())
TOWN_PUB = VECTORS / "town.pub"
LANDS_WITH: dict[str, str] = {}  # vector name prefix -> why its check is not built yet


def _expected(case: Path) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads((case / "expected.json").read_text(encoding="utf-8"))
    assert doc["format"] == "procedure-vector/1"
    return doc


def _verify(case: Path, *, election: bool = True) -> tuple[int, dict[str, Any]]:
    """``verifier procedure BUNDLE --town-key town.pub --json`` with the vector's other bundles."""
    expected = _expected(case)
    args = ["procedure", str(case / "bundle"), "--town-key", str(TOWN_PUB), "--json"]
    if "casework" in expected:
        args += ["--casework", str(VECTORS / expected["casework"])]
    if election and "election" in expected:
        args += ["--election", str(VECTORS / expected["election"])]
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = app(args, standalone_mode=False)
    assert out.getvalue(), err.getvalue()
    doc: dict[str, Any] = json.loads(out.getvalue())
    return code or 0, doc


def _marked(case: Path) -> Any:
    reason = next((r for k, r in LANDS_WITH.items() if case.name.startswith(k)), None)
    marks = [] if reason is None else [pytest.mark.xfail(strict=True, reason=reason)]
    return pytest.param(case, marks=marks, id=case.name)


def test_procedure_bundle_vectors_match_a_fresh_generation() -> None:
    r = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "gen_procedure_bundle_vectors.py"), "--check"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={"PYTHONPATH": str(ROOT)},
        check=False,
    )
    assert r.returncode == 0, r.stderr


def test_rp_15_2_valid_procedure_bundles_are_present() -> None:
    assert [p.name for p in VALID] == [
        "procedure-minimal",
        "procedure-objections",
        "procedure-tie-and-supplement",
    ]
    for case in VALID[:2]:
        expected = _expected(case)
        assert (VECTORS / expected["election"] / "manifest.json").is_file()
        assert (VECTORS / expected["casework"] / "casework.json").is_file()


def test_rp_15_3_every_invalid_vector_names_its_clause_in_its_name() -> None:
    for case in INVALID:
        expected = _expected(case)
        assert expected["valid"] is False
        assert case.name.startswith(expected["clause"]) or expected["code"] == "entry.body"


@pytest.mark.parametrize("case", VALID, ids=lambda p: p.name)
def test_valid_procedure_bundle_passes_with_only_its_warnings(case: Path) -> None:
    """Without ``--election``: V29 is reported as not checked, never passed; a clause the vector
    lists as not checked may become checked as the verifier grows, never the reverse."""
    code, report = _verify(case, election=False)
    expected = _expected(case)
    assert (code, report["ok"]) == (0, True), report["findings"]
    assert sorted({w["code"] for w in report["warnings"]}) == expected["warnings"]
    not_checked = {n["clause"] for n in report["not_checked"]}
    assert "V29" in not_checked
    assert not_checked <= set(expected["not_checked"])


@pytest.mark.parametrize("case", VALID[:2], ids=lambda p: p.name)
def test_v29_valid_procedure_bundle_passes_with_its_election_bundle(case: Path) -> None:
    code, report = _verify(case)
    assert (code, report["ok"]) == (0, True), report["findings"]
    assert report["clauses"]["V29"] == "passed"


@pytest.mark.parametrize("case", [_marked(p) for p in INVALID])
def test_invalid_procedure_bundle_fails_with_its_clause_and_code(case: Path) -> None:
    code, report = _verify(case)
    expected = _expected(case)
    assert (code, report["ok"]) == (1, False)
    assert {f["clause"] for f in report["findings"]} == {expected["clause"]}, report["findings"]
    assert report["findings"][0]["code"] == expected["code"], report["findings"]


def _replay(bundle: Path) -> tuple[Ledger, list[bytes]]:
    """The producer's reading: the signed definition against the town key, then the log replayed
    through the ledger (every computed body recounted by the producer's core), each stock entry
    with its sealed list."""
    town = keys.parse_public_key(TOWN_PUB.read_bytes())
    signed = load_signed_procedure((bundle / "procedure.json").read_bytes(), trust_root=town)
    rows = (bundle / "log.jsonl").read_bytes().splitlines()

    def stock_ids(entry: ProcedureEntry) -> frozenset[str] | None:
        v = entry.value
        if not isinstance(v, StockCommitted):
            return None
        name = "-".join(
            str(x)
            for x in (
                v.form.value,
                v.post.value if v.post else "",
                v.round,
                v.part if v.part > 1 else "",
            )
            if x
        )
        doc = json.loads((bundle / "stocks" / f"{name}.json").read_bytes())
        assert doc["commitment"] == v.commitment
        return frozenset(doc["ballot_ids"])

    return replay(signed.procedure, signed.procedure_id, rows, stock_ids=stock_ids), rows


@pytest.mark.parametrize("case", VALID, ids=lambda p: p.name)
def test_the_producer_reads_the_valid_procedure_bundle(case: Path) -> None:
    bundle = case / "bundle"
    ledger, rows = _replay(bundle)
    assert ledger.size == len(rows) == json.loads((bundle / "index.json").read_bytes())["entries"]
    figures = procedure_figures([parse_entry(r) for r in rows], "")
    assert figures["recommendation"]["member_group_held"]
    assert figures["recommendation"]["public_group_held"]


def test_the_bundles_beside_the_vectors_verify_on_their_own() -> None:
    """The town's casework bundle passes V31 with no warning and each election bundle V1-V19,
    so a vector's failure is its procedure bundle's."""
    from verifier.casework import verify_casework  # noqa: PLC0415
    from verifier.checks import verify_bundle  # noqa: PLC0415
    from verifier.cli import parse_town_key  # noqa: PLC0415

    town = parse_town_key(str(TOWN_PUB))
    casework = verify_casework(VECTORS / "casework", town)
    assert (casework.ok, casework.warnings) == (True, ()), casework.findings
    elections = sorted(p for p in (VECTORS / "elections").iterdir() if p.is_dir())
    assert [p.name for p in elections] == ["B01", "B01-secretary-swapped", "B02"]
    for folder in elections:
        report = verify_bundle(folder, town, jobs=1)
        assert report.ok, (folder.name, report.failed())


# What the producer's replay refuses each invalid vector with (its own codes). Not listed: the
# approval over a stale checkpoint (the replay has no checkpoints: the store checks them when it
# opens the file), the V29 and V31 vectors (the election and the casework are not in the procedure
# file).
PRODUCER_REFUSES = {
    "V21-other-town-key": "procedure.town_key",
    "V22-recommendation-after-proposal": "preliminary.after_proposal",
    "V22-supplement-after-issued": "stock.supplement_late",
    "V22-supplement-part-skipped": "stock.supplement_part",
    "V23-ballot-outside-stock": "ballot.not_in_stock",
    "V23-evaluation-ballot-in-recommendation": "ballot.not_in_stock",
    "V24-evaluation-public-half": "evaluation.public_quorum",
    "V24-member-quorum-exactly-half": "recommendation.quorum_failed",
    "V24-records-fewer-than-returned": "procedure.order",
    "V24-returned-more-not-void": "procedure.order",
    "V25-over-limit-counted-valid": "count.recommendation_differs",
    "V25-written-nonmember-counted": "count.recommendation_differs",
    "V26-basis-rank-for-higher-level": "preliminary.differs",
    "V26-omission-without-reference": "preliminary.omission",
    "V26-qualification-not-omitted": "preliminary.differs",
    "V26-tie-broken": "preliminary.differs",
    "V27-boundary-counted-as-fail": "count.evaluation_differs",
    "V27-evaluation-count-differs": "count.evaluation_differs",
    "V28-approval-other-list": "approval.lists_differ",
    "V28-evaluation-failure-proceeds": "vetting.differs",
    "V30-not-appointed-without-finding": "appointment.status_unfounded",
    "V30-objection-open-at-approval": "appointment.objection_open",
    "V30-objection-text-in-appointment": "log.malformed",
    "V30-signed-during-publicity": "appointment.during_publicity",
}


@pytest.mark.parametrize("name", sorted(PRODUCER_REFUSES))
def test_the_producer_refuses_the_invalid_procedure_bundle(name: str) -> None:
    with pytest.raises(BilingualError) as info:
        _replay(VECTORS / "invalid" / name / "bundle")
    assert info.value.code == PRODUCER_REFUSES[name], info.value.en
