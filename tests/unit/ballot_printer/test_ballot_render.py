"""Ballot stock PDF: round trip through print, raster and scan; fonts; atomic output (spec §7)."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pypdf
import pytest
import zxingcpp
from PIL import Image

from ballot_printer import (
    BallotPaper,
    BallotStock,
    FontError,
    LayoutOverflowError,
    MissingGlyphError,
    OutputError,
    PageSize,
    PaperKind,
    Signer,
    StockMismatchError,
    make_stock,
    parse_qr_text,
    render_stock_pdf,
    stock_list_json,
    verify_payload,
)
from ballot_printer import render as render_module
from ballot_printer.layout import INSTRUCTIONS, MM

NAMES_15 = (
    "王小明", "李华", "张伟", "刘芳", "陈静", "杨帆", "赵丽", "黄磊",
    "周杰", "吴敏", "徐强", "孙悦", "马超", "朱红", "阿卜杜热依木·艾买提",
)  # fmt: skip
MakePaper = Callable[..., BallotPaper]


def _stock(signer: Signer, election_id: bytes, count: int, **kw: Any) -> BallotStock:
    return make_stock(
        election_id=election_id,
        kind=kw.get("kind", PaperKind.COMMITTEE),
        round_number=kw.get("round_number", 1),
        count=count,
        signer=signer,
    )


def _decode_pages(pdf: Path, tmp: Path, dpi: int) -> list[list[str]]:
    subprocess.run(
        ["pdftoppm", "-r", str(dpi), "-gray", "-png", str(pdf), str(tmp / "pg")], check=True
    )
    pages = sorted(tmp.glob("pg-*.png"), key=lambda p: int(p.stem.split("-")[1]))
    qr = zxingcpp.BarcodeFormats(zxingcpp.BarcodeFormat.QRCode)
    out = []
    for page in pages:
        with Image.open(page) as img:
            out.append([b.text for b in zxingcpp.read_barcodes(img, formats=qr)])
    return out


def _flat_text(pdf: Path) -> list[str]:
    """Per-page extracted text with all whitespace removed (names may wrap in their cell)."""
    return ["".join(p.extract_text().split()) for p in pypdf.PdfReader(pdf).pages]


@pytest.fixture(scope="module")
def printed(
    tmp_path_factory: pytest.TempPathFactory, signer: Signer, election_id: bytes
) -> tuple[BallotPaper, BallotStock, Path]:
    paper = BallotPaper(
        title="中共某某村支部委员会换届选举",
        branch="中共某某村支部委员会",
        term="第十一届",
        kind=PaperKind.COMMITTEE,
        round_number=1,
        seats=7,
        candidates=NAMES_15,
    )
    stock = _stock(signer, election_id, 20)
    out = tmp_path_factory.mktemp("stock") / "committee.pdf"
    render_stock_pdf(paper, stock, out)
    return paper, stock, out


def test_every_printed_qr_scans_parses_and_verifies_and_matches_the_stock_list(
    printed: tuple[BallotPaper, BallotStock, Path],
    tmp_path: Path,
    public_key: bytes,
    election_id: bytes,
) -> None:
    _, stock, pdf = printed
    pages = _decode_pages(pdf, tmp_path, 150)
    assert len(pages) == 20
    assert all(len(texts) == 1 for texts in pages), pages
    verified = [
        verify_payload(
            parse_qr_text(texts[0]),
            public_key,
            election_id=election_id,
            kind=PaperKind.COMMITTEE,
            round_number=1,
        )
        for texts in pages
    ]
    ids = [v.ballot_id.hex() for v in verified]
    assert len(set(ids)) == 20
    assert sorted(ids) == json.loads(stock_list_json(stock))["ballot_ids"]
    assert ids == [i.hex() for i in stock.ballot_ids]  # printed in stock order


def test_pdf_text_has_every_candidate_in_the_given_order_and_the_instructions(
    printed: tuple[BallotPaper, BallotStock, Path],
) -> None:
    paper, stock, pdf = printed
    texts = _flat_text(pdf)
    assert len(texts) == 20
    first = texts[0]
    positions = [first.find(name) for name in paper.candidates]
    assert all(p >= 0 for p in positions), dict(zip(paper.candidates, positions, strict=True))
    assert positions == sorted(positions)
    for sentence in INSTRUCTIONS:
        assert "".join(sentence.split()) in first
    for label in ("委员选票", "应选7名", "另选人姓名", paper.title):
        assert label in first
    for text, payload in zip(texts, stock.payloads, strict=True):
        assert payload.code in text  # the ballot code under the QR


def test_font_is_embedded(printed: tuple[BallotPaper, BallotStock, Path]) -> None:
    out = subprocess.run(["pdffonts", str(printed[2])], check=True, capture_output=True, text=True)
    line = next(ln for ln in out.stdout.splitlines() if "WenQuanYi" in ln)
    assert " yes " in line  # emb


def test_qr_is_at_least_35_mm_wide(make_paper: MakePaper) -> None:
    for size in PageSize:
        spec = render_module._layout_checked(
            make_paper(), render_module.load_font(), size, qr_modules=45
        )
        assert spec.qr.size >= 35 * MM


def test_a5_ballot_renders_and_scans(
    make_paper: MakePaper, signer: Signer, election_id: bytes, tmp_path: Path
) -> None:
    paper = make_paper(candidates=NAMES_15, seats=7, kind=PaperKind.DEPUTY, round_wording="第2轮")
    stock = _stock(signer, election_id, 2, kind=PaperKind.DEPUTY)
    out = render_stock_pdf(paper, stock, tmp_path / "a5.pdf", page_size=PageSize.A5)
    box = pypdf.PdfReader(out).pages[0].mediabox
    assert (round(float(box.width) / MM), round(float(box.height) / MM)) == (148, 210)
    pages = _decode_pages(out, tmp_path, 150)
    assert [parse_qr_text(p[0]).ballot_id for p in pages] == list(stock.ballot_ids)
    assert "副书记选票（第2轮）" in _flat_text(out)[0]


@pytest.mark.parametrize(
    ("field", "value", "char"),
    [
        ("candidates", ("王小明", "吉𠮷"), "𠮷"),
        ("title", "中共𠮷村支部委员会换届选举", "𠮷"),
        ("round_wording", "第\U0001f600轮", "\U0001f600"),
    ],
    ids=["candidate-ext-b", "title-ext-b", "round-wording-emoji"],
)
def test_missing_glyph_raises_naming_the_character_and_writes_nothing(
    make_paper: MakePaper,
    signer: Signer,
    election_id: bytes,
    tmp_path: Path,
    field: str,
    value: object,
    char: str,
) -> None:
    paper = make_paper(**{field: value, "seats": 1})
    out = tmp_path / "ballots.pdf"
    with pytest.raises(MissingGlyphError) as info:
        render_stock_pdf(paper, _stock(signer, election_id, 1), out)
    assert info.value.char == char
    assert char in info.value.text and char in info.value.zh
    assert list(tmp_path.iterdir()) == []


def test_failure_midway_leaves_no_partial_pdf_and_keeps_the_old_file(
    make_paper: MakePaper,
    signer: Signer,
    election_id: bytes,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    out = tmp_path / "ballots.pdf"
    out.write_bytes(b"previous good file")
    real = render_module._draw_page
    calls = {"n": 0}

    def failing(*args: Any, **kwargs: Any) -> None:
        calls["n"] += 1
        if calls["n"] == 3:
            raise RuntimeError("printer on fire")
        real(*args, **kwargs)

    monkeypatch.setattr(render_module, "_draw_page", failing)
    with pytest.raises(RuntimeError, match="printer on fire"):
        render_stock_pdf(make_paper(), _stock(signer, election_id, 5), out)
    assert calls["n"] == 3
    assert out.read_bytes() == b"previous good file"
    assert [p.name for p in tmp_path.iterdir()] == ["ballots.pdf"]


def test_stock_of_another_kind_or_round_is_refused(
    make_paper: MakePaper, signer: Signer, election_id: bytes, tmp_path: Path
) -> None:
    with pytest.raises(StockMismatchError):
        render_stock_pdf(
            make_paper(kind=PaperKind.SECRETARY, seats=1),
            _stock(signer, election_id, 1),
            tmp_path / "x.pdf",
        )
    with pytest.raises(StockMismatchError):
        render_stock_pdf(
            make_paper(round_number=2), _stock(signer, election_id, 1), tmp_path / "x.pdf"
        )


def test_missing_font_file_and_missing_folder_raise_specific_errors(
    make_paper: MakePaper, signer: Signer, election_id: bytes, tmp_path: Path
) -> None:
    stock = _stock(signer, election_id, 1)
    with pytest.raises(FontError):
        render_stock_pdf(make_paper(), stock, tmp_path / "x.pdf", font_path=tmp_path / "no.ttf")
    with pytest.raises(OutputError):
        render_stock_pdf(make_paper(), stock, tmp_path / "no-such-dir" / "x.pdf")


def test_too_many_candidates_for_a5_is_a_layout_error(
    make_paper: MakePaper, signer: Signer, election_id: bytes, tmp_path: Path
) -> None:
    names = tuple(f"候选人{chr(0x4E00 + i)}" for i in range(60))
    with pytest.raises(LayoutOverflowError):
        render_stock_pdf(
            make_paper(candidates=names, seats=30),
            _stock(signer, election_id, 1),
            tmp_path / "x.pdf",
            page_size=PageSize.A5,
        )
    assert not (tmp_path / "x.pdf").exists()
