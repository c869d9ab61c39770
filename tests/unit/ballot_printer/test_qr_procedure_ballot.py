"""The election reader names a procedure ballot's `BP<n>:` text `qr.procedure_ballot` (spec/ballot-qr.md
Q1; spec/procedure.md RP-3.5) instead of calling it an unreadable QR."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ballot_printer import (
    BadEncodingError,
    PaperKind,
    ProcedureBallotError,
    ProcedureForm,
    Signer,
    encode_procedure_qr_text,
    parse_qr_text,
)
from ballot_printer.procedure_qr import sign_procedure_payload

ROOT = Path(__file__).resolve().parents[3]
PROCEDURE_VECTORS = sorted((ROOT / "spec" / "vectors" / "procedure" / "qr").glob("valid-*.json"))
PROCEDURE_ID = bytes(range(32))


def _procedure_text(signer: Signer, form: ProcedureForm, post: PaperKind | None) -> str:
    payload = sign_procedure_payload(
        procedure_id=PROCEDURE_ID,
        form=form,
        post=post,
        round_number=1,
        ballot_id=b"\x11" * 16,
        signer=signer,
    )
    return encode_procedure_qr_text(payload)


@pytest.mark.parametrize(
    ("form", "post"),
    [
        (ProcedureForm.MEMBER, PaperKind.COMMITTEE),
        (ProcedureForm.PUBLIC, PaperKind.SECRETARY),
        (ProcedureForm.EVALUATION, None),
    ],
    ids=["member", "public", "evaluation"],
)
def test_every_procedure_form_is_named_a_procedure_ballot_in_zh_and_en(
    signer: Signer, form: ProcedureForm, post: PaperKind | None
) -> None:
    with pytest.raises(ProcedureBallotError) as info:
        parse_qr_text(_procedure_text(signer, form, post))
    err = info.value
    assert (err.code, err.clause) == ("qr.procedure_ballot", "Q1")
    assert "推荐票或测评票" in err.zh and "不是选举票" in err.zh
    assert "procedure ballot" in err.en and str(err) == err.en


def test_scanner_noise_does_not_hide_a_procedure_ballot(signer: Signer) -> None:
    text = _procedure_text(signer, ProcedureForm.MEMBER, PaperKind.DEPUTY)
    with pytest.raises(ProcedureBallotError):
        parse_qr_text("  " + text.lower() + "\r\n")


@pytest.mark.parametrize("text", ["BP2:AAAA", "BP17:", "BP1:not base32!"])
def test_any_bp_version_and_any_body_is_named_by_its_prefix(text: str) -> None:
    with pytest.raises(ProcedureBallotError):
        parse_qr_text(text)


@pytest.mark.parametrize("text", ["BP:AAAA", "BPX1:AAAA", "XBP1:AAAA", "BP1AAAA"])
def test_texts_that_only_resemble_the_procedure_prefix_stay_bad_encoding(text: str) -> None:
    with pytest.raises(BadEncodingError) as info:
        parse_qr_text(text)
    assert info.value.code == "qr.bad_encoding"


@pytest.mark.parametrize("path", PROCEDURE_VECTORS, ids=[p.stem for p in PROCEDURE_VECTORS])
def test_the_valid_procedure_vectors_are_named_procedure_ballots(path: Path) -> None:
    doc = json.loads(path.read_text(encoding="utf-8"))
    with pytest.raises(ProcedureBallotError):
        parse_qr_text(doc["qr_text"])


def test_the_procedure_vectors_are_there() -> None:
    assert len(PROCEDURE_VECTORS) >= 4
