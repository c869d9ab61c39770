"""The procedure ballots on paper (spec/procedure.md RP-3.3, RP-5.3): the layout in the approved
order, the PDF rendered with the election ballots' CJK font, and every QR decoded back."""

from __future__ import annotations

import hashlib
import subprocess
import unicodedata
from pathlib import Path

import pytest

from ballot_printer import (
    EvaluationPaper,
    InvalidBallotPaperError,
    LayoutOverflowError,
    PaperKind,
    ProcedureForm,
    RecommendationPaper,
    StockMismatchError,
    encode_procedure_qr_text,
    make_procedure_stock,
    parse_procedure_qr_text,
    read_qr_texts,
    render_procedure_stock_pdf,
    verify_procedure_payload,
)
from ballot_printer.page import Text
from ballot_printer.procedure_layout import (
    EVALUATION_INSTRUCTION,
    layout_evaluation,
    layout_recommendation,
    recommendation_instructions,
)
from tests.unit.ballot_printer.conftest import NaclTestSigner

PROCEDURE_ID = hashlib.sha256(b"paper procedure").digest()
SIGNER = NaclTestSigner()
NAMES = ("丁建国", "于福贵", "万金花", "王伟", "王伟", "阿依古丽·买买提", "欧阳晓东", "黄德明")


def measure(text: str, size: float) -> float:
    return len(text) * size  # every character one em: enough for the layout's arithmetic


def _texts(paper: RecommendationPaper | EvaluationPaper) -> list[str]:
    spec = (
        layout_evaluation(paper, measure=measure)
        if isinstance(paper, EvaluationPaper)
        else layout_recommendation(paper, measure=measure)
    )
    return [i.text for i in spec.page.items if isinstance(i, Text)]


def _recommendation(**kw: object) -> RecommendationPaper:
    fields: dict[str, object] = {
        "branch": "中共青山村支部委员会",
        "term": "第十一届",
        "group": ProcedureForm.MEMBER,
        "post": PaperKind.COMMITTEE,
        "round_number": 1,
        "max_per_ballot": 5,
        "names": NAMES,
        "notes": ("", "", "", "1989年生", "1974年生", "", "", ""),
    }
    fields.update(kw)
    return RecommendationPaper(**fields)  # type: ignore[arg-type]


def _evaluation(**kw: object) -> EvaluationPaper:
    fields: dict[str, object] = {
        "branch": "中共青山村支部委员会",
        "term": "第十一届",
        "round_number": 1,
        "names": NAMES[:4],
        "scale": ("满意", "基本满意", "不满意"),
    }
    fields.update(kw)
    return EvaluationPaper(**fields)  # type: ignore[arg-type]


def test_recommendation_ballot_prints_names_in_the_given_order_with_k_and_the_rules() -> None:
    texts = _texts(_recommendation())
    assert texts[0] == "中共青山村支部委员会党组织换届委员人选推荐票"
    assert "推荐票（党员推荐）" in texts
    assert "最多推荐5名" in texts
    parts = {*NAMES, "阿依古丽·", "买买提"}
    printed = [t for t in texts if t in parts]
    assert (
        printed
        in (
            list(NAMES),  # the long name on one line
            [*NAMES[:5], "阿依古丽·", "买买提", *NAMES[6:]],  # or cut after its middle dot
        )
    )
    assert texts.count("另推荐人选姓名") == 1  # five blank cells on one row
    assert "1989年生" in texts and "1974年生" in texts
    for i, rule in enumerate(recommendation_instructions(5)):
        assert any(rule[:10] in t for t in texts), i
    assert "三、推荐人数多于5名的为无效票。" in texts


def test_written_layout_prints_only_k_blank_rows() -> None:
    texts = _texts(
        _recommendation(names=(), notes=(), max_per_ballot=3, group=ProcedureForm.PUBLIC)
    )
    assert "推荐票（群众推荐）" in texts
    assert "推荐人选姓名" not in texts and "另推荐人选姓名" in texts
    assert not set(NAMES) & set(texts)


def test_evaluation_ballot_has_a_row_per_person_and_a_column_per_scale_item() -> None:
    texts = _texts(_evaluation())
    assert texts[0] == "中共青山村支部委员会党组织换届候选人初步人选群众测评表"
    assert [t for t in texts if t in NAMES] == list(NAMES[:4])
    assert {"满意", "基本满意", "不满意", "序号", "姓名"} <= set(texts)
    assert EVALUATION_INSTRUCTION in texts
    assert "另推荐人选姓名" not in texts  # no blank rows on an evaluation ballot


def test_too_many_names_for_one_page_is_an_overflow_naming_layout_written() -> None:
    many = tuple(f"党员{i:03d}" for i in range(200))
    with pytest.raises(LayoutOverflowError) as e:
        _texts(_recommendation(names=many, notes=()))
    assert "written" in e.value.zh


def test_notes_must_be_one_per_name() -> None:
    with pytest.raises(InvalidBallotPaperError):
        _recommendation(notes=("1989年生",))


def test_pdf_renders_and_every_qr_decodes_back_and_verifies(tmp_path: Path) -> None:
    for paper, form, post in (
        (_recommendation(), ProcedureForm.MEMBER, PaperKind.COMMITTEE),
        (_evaluation(), ProcedureForm.EVALUATION, None),
    ):
        stock = make_procedure_stock(
            procedure_id=PROCEDURE_ID,
            form=form,
            post=post,
            round_number=1,
            count=3,
            signer=SIGNER,
        )
        pdf = render_procedure_stock_pdf(paper, stock, tmp_path / f"{form.code}.pdf")
        texts = read_qr_texts(pdf)
        assert texts == [encode_procedure_qr_text(p) for p in stock.payloads]
        for t in texts:
            verify_procedure_payload(
                parse_procedure_qr_text(t),
                SIGNER.public_key,
                procedure_id=PROCEDURE_ID,
                form=form,
                post=post,
                round_number=1,
            )


def test_names_are_printed_exactly_as_given_in_nfc(tmp_path: Path) -> None:
    name = unicodedata.normalize("NFC", "Zoe\u0308·买买提")  # "Zoë", ë one code point
    stock = make_procedure_stock(
        procedure_id=PROCEDURE_ID,
        form=ProcedureForm.EVALUATION,
        post=None,
        round_number=1,
        count=1,
        signer=SIGNER,
    )
    pdf = render_procedure_stock_pdf(_evaluation(names=(name, "丁建国")), stock, tmp_path / "e.pdf")
    out = subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert name in out and "Zoe\u0308" not in out


def test_a_stock_of_another_post_or_form_is_refused(tmp_path: Path) -> None:
    stock = make_procedure_stock(
        procedure_id=PROCEDURE_ID,
        form=ProcedureForm.PUBLIC,
        post=PaperKind.COMMITTEE,
        round_number=1,
        count=1,
        signer=SIGNER,
    )
    with pytest.raises(StockMismatchError):
        render_procedure_stock_pdf(_recommendation(), stock, tmp_path / "x.pdf")
    with pytest.raises(StockMismatchError):
        render_procedure_stock_pdf(_evaluation(), stock, tmp_path / "y.pdf")
    assert not (tmp_path / "x.pdf").exists()
