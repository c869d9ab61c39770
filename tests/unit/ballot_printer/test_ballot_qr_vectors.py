"""The committed vectors of spec/vectors/ballot-qr/ (spec Q1-Q8, §4.3) and their regeneration."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from ballot_printer import (
    BallotPrinterError,
    BallotStock,
    PaperKind,
    ProcedureForm,
    QrPayload,
    parse_procedure_qr_text,
    parse_qr_text,
    stock_commitment,
    verify_payload,
)

ROOT = Path(__file__).resolve().parents[3]
VECTORS = ROOT / "spec" / "vectors" / "ballot-qr"
GENERATOR = ROOT / "scripts" / "gen_ballot_qr_vectors.py"


def _load(path: Path) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    assert doc["format"] in {"ballot-qr-vector/1", "ballot-stock-vector/1"}
    return doc


def _check(doc: dict[str, Any]) -> Any:
    expected = doc["expected"]
    payload = parse_qr_text(doc["qr_text"])
    return verify_payload(
        payload,
        bytes.fromhex(doc["public_key"]),
        election_id=bytes.fromhex(expected["election_id"]),
        kind=PaperKind(expected["kind"]),
        round_number=expected["round"],
    )


VALID = sorted((VECTORS / "valid").glob("*.json"))
INVALID = sorted((VECTORS / "invalid").glob("*.json"))


def test_vector_set_covers_every_clause() -> None:
    clauses = {p.name.split("-")[0] for p in INVALID}
    assert clauses == {f"Q{i}" for i in range(1, 9)}
    assert len(VALID) >= 3


@pytest.mark.parametrize("path", VALID, ids=[p.stem for p in VALID])
def test_valid_vector_verifies(path: Path) -> None:
    doc = _load(path)
    verified = _check(doc)
    assert verified.ballot_id.hex() == doc["result"]["ballot_id"]
    assert verified.code == doc["result"]["ballot_code"]


@pytest.mark.parametrize("path", INVALID, ids=[p.stem for p in INVALID])
def test_invalid_vector_raises_its_code_and_clause(path: Path) -> None:
    doc = _load(path)
    with pytest.raises(BallotPrinterError) as info:
        _check(doc)
    assert info.value.code == doc["result"]["error"]
    assert info.value.clause == doc["result"]["clause"] == path.name.split("-")[0]


def test_the_procedure_ballot_vector_is_a_real_procedure_ballot() -> None:
    """`qr.procedure_ballot` is tested with a well-formed `BP1:` text, not with garbage."""
    doc = _load(VECTORS / "invalid" / "Q1-procedure-ballot.json")
    assert doc["result"]["error"] == "qr.procedure_ballot"
    payload = parse_procedure_qr_text(doc["qr_text"])  # PQ1-PQ4 pass
    assert payload.form is ProcedureForm.MEMBER and payload.post is PaperKind.COMMITTEE


def test_stock_commitment_vector() -> None:
    doc = _load(VECTORS / "stock" / "commitment.json")
    ids = tuple(bytes.fromhex(h) for h in doc["ballot_ids_print_order"])
    dummy_sig = b"\x00" * 64
    eid = bytes.fromhex(doc["election_id"])
    stock = BallotStock(
        election_id=eid,
        kind=PaperKind.COMMITTEE,
        round_number=doc["round"],
        payloads=tuple(
            QrPayload(
                election_prefix=eid[:16],
                kind=PaperKind.COMMITTEE,
                round_number=doc["round"],
                ballot_id=i,
                signature=dummy_sig,
            )
            for i in ids
        ),
    )
    assert stock_commitment(stock).hex() == doc["commitment"]


def _generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("gen_ballot_qr_vectors", GENERATOR)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_regeneration_equals_committed_vectors() -> None:
    wanted: dict[str, bytes] = _generator().build_vectors()
    present = {str(p.relative_to(VECTORS)) for p in VECTORS.rglob("*.json")}
    assert present == set(wanted)
    for rel, content in wanted.items():
        assert (VECTORS / rel).read_bytes() == content, rel
