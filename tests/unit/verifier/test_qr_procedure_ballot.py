"""The verifier's election reader names a procedure ballot's `BP<n>:` text `qr.procedure_ballot`
at Q1 (spec/ballot-qr.md Q1, spec/procedure.md RP-3.5), the same code as the producer's reader."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from verifier import ed25519
from verifier.errors import QrError
from verifier.qr import check_qr, check_qr_common, qr_prefix

ROOT = Path(__file__).resolve().parents[3]
ELECTION = json.loads(
    (ROOT / "spec" / "vectors" / "ballot-qr" / "valid" / "committee-round1.json").read_text()
)
PROCEDURE_VECTORS = sorted((ROOT / "spec" / "vectors" / "procedure" / "qr").glob("valid-*.json"))


def _check(text: str) -> Any:
    exp = ELECTION["expected"]
    return check_qr(
        text,
        public_key=bytes.fromhex(ELECTION["public_key"]),
        election_id=bytes.fromhex(exp["election_id"]),
        kind=exp["kind"],
        round_number=exp["round"],
    )


@pytest.mark.parametrize("path", PROCEDURE_VECTORS, ids=[p.stem for p in PROCEDURE_VECTORS])
def test_a_procedure_ballot_fails_q1_as_a_procedure_ballot(path: Path) -> None:
    text = json.loads(path.read_text(encoding="utf-8"))["qr_text"]
    with pytest.raises(QrError) as info:
        _check(text)
    err = info.value
    assert (err.clause, err.code) == ("Q1", "qr.procedure_ballot")
    assert "推荐票或测评票" in err.zh and "procedure ballot" in err.en


@pytest.mark.parametrize("text", ["bp1:aaaa\r\n", "BP2:AAAA", "BP1:not base32!"])
def test_any_bp_version_in_any_case_is_named_by_its_prefix(text: str) -> None:
    with pytest.raises(QrError) as info:
        _check(text)
    assert info.value.code == "qr.procedure_ballot"


@pytest.mark.parametrize("text", ["BP:AAAA", "BPX1:AAAA", "XBP1:AAAA"])
def test_texts_that_only_resemble_the_procedure_prefix_stay_bad_encoding(text: str) -> None:
    with pytest.raises(QrError) as info:
        _check(text)
    assert info.value.code == "qr.bad_encoding"


def test_the_fast_path_never_accepts_a_procedure_ballot() -> None:
    exp = ELECTION["expected"]
    key = ed25519.load_key(bytes.fromhex(ELECTION["public_key"]))
    prefix = qr_prefix(bytes.fromhex(exp["election_id"]), exp["kind"], exp["round"])
    assert PROCEDURE_VECTORS
    for path in PROCEDURE_VECTORS:
        text = json.loads(path.read_text(encoding="utf-8"))["qr_text"]
        assert check_qr_common(text, prefix, key) is None
