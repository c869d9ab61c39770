"""The verifier's procedure QR reader (verifier.procedure.qr, PQ1-PQ8 of spec/procedure.md RP-3.5)
against every vector of spec/vectors/procedure/qr/: the valid ones give the ballot id, each
invalid one fails with its clause and code."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from verifier.errors import QrError
from verifier.procedure.qr import check_procedure_qr

VECTORS = Path(__file__).resolve().parents[3] / "spec" / "vectors" / "procedure" / "qr"


@pytest.mark.parametrize("path", sorted(VECTORS.glob("*.json")), ids=lambda p: p.stem)
def test_pq1_to_pq8_as_the_vector_says(path: Path) -> None:
    doc = json.loads(path.read_text(encoding="utf-8"))
    want, result = doc["expected"], doc["result"]

    def read() -> bytes:
        return check_procedure_qr(
            doc["qr_text"],
            bytes.fromhex(want["procedure_id"]),
            want["form"],
            want["post"],
            want["round"],
            bytes.fromhex(doc["public_key"]),
        )

    if result["valid"]:
        assert read().hex() == result["ballot_id"]
    else:
        with pytest.raises(QrError) as e:
            read()
        assert (e.value.clause, e.value.code) == (result["clause"], result["error"])


def test_every_clause_has_a_vector() -> None:
    names = {p.stem for p in VECTORS.glob("invalid-*.json")}
    assert {n.split("-")[1] for n in names} == {f"PQ{i}" for i in range(1, 9)}
