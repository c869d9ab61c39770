"""The procedure ballot QR payload `procedure-ballot/1` (spec/procedure.md RP-3.5, PQ1-PQ8), its
stock and sealed list (RP-3.6), and the committed vectors of spec/vectors/procedure/qr, stock."""

from __future__ import annotations

import base64
import hashlib
import importlib.util
import json
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ballot_printer import PaperKind, StockSizeError, encode_qr_text, sign_payload
from ballot_printer.procedure_qr import (
    PROCEDURE_QR_PREFIX,
    ElectionBallotError,
    ProcedureBadFieldError,
    ProcedureBadPublicKeyError,
    ProcedureBadSignatureError,
    ProcedureForm,
    ProcedureOverlongError,
    ProcedureQrError,
    ProcedureQrPayload,
    ProcedureTruncatedError,
    WrongFormError,
    WrongProcedureError,
    WrongProcedureRoundError,
    encode_procedure_qr_text,
    parse_procedure_qr_text,
    sign_procedure_payload,
    verify_procedure_payload,
)
from ballot_printer.procedure_stock import (
    ProcedureStock,
    make_procedure_stock,
    procedure_stock_commitment,
    procedure_stock_list_json,
)
from tests.unit.ballot_printer.conftest import NaclTestSigner

ROOT = Path(__file__).resolve().parents[3]
VECTORS = ROOT / "spec" / "vectors" / "procedure"
GENERATOR = ROOT / "scripts" / "gen_procedure_qr_vectors.py"
PROCEDURE_ID = hashlib.sha256(b"test procedure").digest()
SIGNER = NaclTestSigner()
OTHER_SIGNER = NaclTestSigner(b"\x09" * 32)
BID = bytes(range(16))

forms_and_posts = st.one_of(
    st.tuples(
        st.sampled_from([ProcedureForm.MEMBER, ProcedureForm.PUBLIC]), st.sampled_from(PaperKind)
    ),
    st.just((ProcedureForm.EVALUATION, None)),
)


def _sign(
    form: ProcedureForm = ProcedureForm.MEMBER,
    post: PaperKind | None = PaperKind.COMMITTEE,
    round_number: int = 1,
    *,
    procedure_id: bytes = PROCEDURE_ID,
    signer: NaclTestSigner = SIGNER,
) -> ProcedureQrPayload:
    return sign_procedure_payload(
        procedure_id=procedure_id,
        form=form,
        post=post,
        round_number=round_number,
        ballot_id=BID,
        signer=signer,
    )


def _read(
    text: str,
    form: ProcedureForm = ProcedureForm.MEMBER,
    post: PaperKind | None = PaperKind.COMMITTEE,
    round_number: int = 1,
    key: bytes = SIGNER.public_key,
) -> Any:
    return verify_procedure_payload(
        parse_procedure_qr_text(text),
        key,
        procedure_id=PROCEDURE_ID,
        form=form,
        post=post,
        round_number=round_number,
    )


@given(
    fp=forms_and_posts,
    round_number=st.integers(1, 255),
    ballot_id=st.binary(min_size=16, max_size=16),
    procedure_id=st.binary(min_size=32, max_size=32),
)
def test_payload_round_trips_through_its_text_and_verifies(
    fp: tuple[ProcedureForm, PaperKind | None],
    round_number: int,
    ballot_id: bytes,
    procedure_id: bytes,
) -> None:
    form, post = fp
    payload = sign_procedure_payload(
        procedure_id=procedure_id,
        form=form,
        post=post,
        round_number=round_number,
        ballot_id=ballot_id,
        signer=SIGNER,
    )
    text = encode_procedure_qr_text(payload)
    assert len(text) == 164 and text.startswith(PROCEDURE_QR_PREFIX)
    assert len(payload.to_bytes()) == 100
    parsed = parse_procedure_qr_text(text)
    assert parsed == payload
    verified = verify_procedure_payload(
        parsed,
        SIGNER.public_key,
        procedure_id=procedure_id,
        form=form,
        post=post,
        round_number=round_number,
    )
    assert (verified.form, verified.post, verified.round_number) == (form, post, round_number)
    assert verified.ballot_id == ballot_id


def test_the_payload_bytes_are_the_rp_3_5_table() -> None:
    payload = _sign(ProcedureForm.PUBLIC, PaperKind.DEPUTY, 7)
    raw = base64.b32decode(encode_procedure_qr_text(payload)[4:])  # 160 symbols: no padding
    assert raw[0] == 1 and raw[1:17] == PROCEDURE_ID[:16]
    assert raw[17:20] == bytes([2, 3, 7]) and raw[20:36] == BID
    expected = SIGNER.sign(b"branch-election/procedure-ballot/1", raw[:36])
    assert raw[36:] == expected


def test_truncated_text_is_refused_as_truncated() -> None:
    text = encode_procedure_qr_text(_sign())
    with pytest.raises(ProcedureTruncatedError) as e:
        parse_procedure_qr_text(text[:-16])  # 10 bytes short
    assert (e.value.code, e.value.clause) == ("pqr.truncated", "PQ3")


def test_a_text_without_the_bp1_prefix_is_bad_encoding() -> None:
    text = encode_procedure_qr_text(_sign())
    with pytest.raises(ProcedureQrError) as e:
        parse_procedure_qr_text("XX1:" + text[4:])
    assert e.value.code == "pqr.bad_encoding"


def test_an_election_ballot_is_named_as_such() -> None:
    election = encode_qr_text(
        sign_payload(
            election_id=PROCEDURE_ID,
            kind=PaperKind.COMMITTEE,
            round_number=1,
            ballot_id=BID,
            signer=SIGNER,
        )
    )
    with pytest.raises(ElectionBallotError) as e:
        parse_procedure_qr_text(election)
    assert e.value.code == "pqr.election_ballot"
    assert "选举票" in e.value.zh


def test_a_ballot_of_another_procedure_is_wrong_procedure() -> None:
    other = hashlib.sha256(b"another branch").digest()
    text = encode_procedure_qr_text(_sign(procedure_id=other))
    with pytest.raises(WrongProcedureError) as e:
        _read(text)
    assert (e.value.code, e.value.clause) == ("pqr.wrong_procedure", "PQ5")


def test_a_forged_ballot_signed_with_another_key_is_bad_signature() -> None:
    text = encode_procedure_qr_text(_sign(signer=OTHER_SIGNER))
    with pytest.raises(ProcedureBadSignatureError) as e:
        _read(text)
    assert e.value.code == "pqr.bad_signature"
    assert "伪造" in e.value.zh


def test_an_oversized_text_is_refused_before_decoding() -> None:
    text = encode_procedure_qr_text(_sign())
    with pytest.raises(ProcedureOverlongError) as e:
        parse_procedure_qr_text(text + "A" * 10_000)
    assert e.value.code == "pqr.overlong"


def test_an_overlong_payload_is_overlong() -> None:
    raw = _sign().to_bytes() + b"\x00"
    with pytest.raises(ProcedureOverlongError):
        parse_procedure_qr_text("BP1:" + base64.b32encode(raw).decode().rstrip("="))


def test_an_evaluation_ballot_in_a_recommendation_count_is_wrong_form() -> None:
    text = encode_procedure_qr_text(_sign(ProcedureForm.EVALUATION, None))
    with pytest.raises(WrongFormError) as e:
        _read(text)
    assert e.value.code == "pqr.wrong_form"
    assert "测评票" in e.value.zh


@pytest.mark.parametrize(
    ("form", "post"),
    [(ProcedureForm.PUBLIC, PaperKind.COMMITTEE), (ProcedureForm.MEMBER, PaperKind.SECRETARY)],
    ids=["public-in-member-count", "secretary-in-committee-count"],
)
def test_another_group_or_post_is_wrong_form(form: ProcedureForm, post: PaperKind) -> None:
    with pytest.raises(WrongFormError):
        _read(encode_procedure_qr_text(_sign(form, post)))


def test_another_round_is_wrong_round() -> None:
    with pytest.raises(WrongProcedureRoundError) as e:
        _read(encode_procedure_qr_text(_sign(round_number=2)))
    assert e.value.code == "pqr.wrong_round"


def test_a_malformed_key_is_bad_public_key() -> None:
    with pytest.raises(ProcedureBadPublicKeyError):
        _read(encode_procedure_qr_text(_sign()), key=SIGNER.public_key[:31])


@pytest.mark.parametrize(
    ("form", "post"),
    [(ProcedureForm.EVALUATION, PaperKind.COMMITTEE), (ProcedureForm.MEMBER, None)],
    ids=["evaluation-with-post", "recommendation-without-post"],
)
def test_signing_refuses_a_post_that_does_not_fit_the_form(
    form: ProcedureForm, post: PaperKind | None
) -> None:
    with pytest.raises(ProcedureBadFieldError):
        _sign(form, post)


# --- stock ---------------------------------------------------------------------------------------


def test_stock_has_distinct_ids_and_codes_and_its_sealed_list_recomputes() -> None:
    stock = make_procedure_stock(
        procedure_id=PROCEDURE_ID,
        form=ProcedureForm.EVALUATION,
        post=None,
        round_number=2,
        count=40,
        signer=SIGNER,
    )
    assert len(set(stock.ballot_ids)) == 40
    assert len({p.code for p in stock.payloads}) == 40
    doc = json.loads(procedure_stock_list_json(stock))
    assert doc["format"] == "procedure-stock/1"
    assert (doc["form"], doc["post"], doc["round"], doc["count"]) == ("evaluation", "", 2, 40)
    assert doc["ballot_ids"] == sorted(i.hex() for i in stock.ballot_ids)
    assert doc["commitment"] == procedure_stock_commitment(stock).hex()
    for p in stock.payloads:
        verify_procedure_payload(
            parse_procedure_qr_text(encode_procedure_qr_text(p)),
            SIGNER.public_key,
            procedure_id=PROCEDURE_ID,
            form=ProcedureForm.EVALUATION,
            post=None,
            round_number=2,
        )


def test_deputy_stock_names_its_post_deputy_secretary() -> None:
    stock = make_procedure_stock(
        procedure_id=PROCEDURE_ID,
        form=ProcedureForm.PUBLIC,
        post=PaperKind.DEPUTY,
        round_number=1,
        count=1,
        signer=SIGNER,
    )
    assert json.loads(procedure_stock_list_json(stock))["post"] == "deputy_secretary"


@pytest.mark.parametrize("count", [0, 5001])
def test_stock_count_outside_1_to_5000_is_refused(count: int) -> None:
    with pytest.raises(StockSizeError):
        make_procedure_stock(
            procedure_id=PROCEDURE_ID,
            form=ProcedureForm.MEMBER,
            post=PaperKind.COMMITTEE,
            round_number=1,
            count=count,
            signer=SIGNER,
        )


# --- vectors -------------------------------------------------------------------------------------

QR_VECTORS = sorted((VECTORS / "qr").glob("*.json"))
FORM_BY_NAME = {f.code: f for f in ProcedureForm}
POST_BY_CODE = {"": None, "committee": PaperKind.COMMITTEE, "secretary": PaperKind.SECRETARY}
POST_BY_CODE["deputy_secretary"] = PaperKind.DEPUTY


def _check_vector(doc: dict[str, Any]) -> Any:
    e = doc["expected"]
    return verify_procedure_payload(
        parse_procedure_qr_text(doc["qr_text"]),
        bytes.fromhex(doc["public_key"]),
        procedure_id=bytes.fromhex(e["procedure_id"]),
        form=FORM_BY_NAME[e["form"]],
        post=POST_BY_CODE[e["post"]],
        round_number=e["round"],
    )


def test_vectors_cover_every_pq_clause_and_code() -> None:
    docs = [json.loads(p.read_text(encoding="utf-8")) for p in QR_VECTORS]
    codes = {d["result"]["error"] for d in docs if not d["result"]["valid"]}
    assert codes == {
        "pqr.bad_encoding",
        "pqr.election_ballot",
        "pqr.unknown_version",
        "pqr.truncated",
        "pqr.overlong",
        "pqr.bad_field",
        "pqr.wrong_procedure",
        "pqr.wrong_form",
        "pqr.wrong_round",
        "pqr.bad_signature",
        "pqr.bad_public_key",
    }
    forms = {d["expected"]["form"] for d in docs if d["result"]["valid"]}
    assert forms == {"member", "public", "evaluation"}


@pytest.mark.parametrize("path", QR_VECTORS, ids=[p.stem for p in QR_VECTORS])
def test_qr_vector(path: Path) -> None:
    doc = json.loads(path.read_text(encoding="utf-8"))
    assert doc["format"] == "procedure-qr-vector/1"
    if doc["result"]["valid"]:
        verified = _check_vector(doc)
        assert verified.ballot_id.hex() == doc["result"]["ballot_id"]
        assert verified.code == doc["result"]["ballot_code"]
        return
    with pytest.raises(ProcedureQrError) as e:
        _check_vector(doc)
    assert (e.value.code, e.value.clause) == (doc["result"]["error"], doc["result"]["clause"])


def test_stock_commitment_vector() -> None:
    doc = json.loads((VECTORS / "stock" / "commitment.json").read_text(encoding="utf-8"))
    pid = bytes.fromhex(doc["procedure_id"])
    payloads = tuple(
        ProcedureQrPayload(
            procedure_prefix=pid[:16],
            form=FORM_BY_NAME[doc["form"]],
            post=POST_BY_CODE[doc["post"]],
            round_number=doc["round"],
            ballot_id=bytes.fromhex(h),
            signature=b"\x00" * 64,
        )
        for h in doc["ballot_ids_print_order"]
    )
    stock = ProcedureStock(
        procedure_id=pid,
        form=FORM_BY_NAME[doc["form"]],
        post=POST_BY_CODE[doc["post"]],
        round_number=doc["round"],
        payloads=payloads,
    )
    assert procedure_stock_commitment(stock).hex() == doc["commitment"]


def _generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("gen_procedure_qr_vectors", GENERATOR)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_generator_check_passes_on_the_committed_vectors() -> None:
    assert _generator().main(["--check"]) == 0
