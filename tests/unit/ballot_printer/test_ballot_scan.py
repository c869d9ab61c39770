"""Reading QR codes from scans: PNG, JPEG, PDF and the errors (spec §9)."""

from __future__ import annotations

from pathlib import Path

import pytest
import qrcode
from PIL import Image

from ballot_printer import (
    BallotPrinterError,
    NoQrFoundError,
    NotAFileError,
    PaperKind,
    Signer,
    UnreadableImageError,
    encode_qr_text,
    make_stock,
    read_qr_pages,
    read_qr_texts,
)
from ballot_printer.layout import BallotPaper
from ballot_printer.render import render_stock_pdf

TEXT = "BQ1:" + "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567" * 4


def _qr_image(text: str) -> Image.Image:
    img = qrcode.make(text, box_size=6, border=4).get_image()
    page = Image.new("L", (img.width + 200, img.height + 300), 255)
    page.paste(img.convert("L"), (100, 150))
    return page


@pytest.mark.parametrize("fmt", ["PNG", "JPEG"], ids=["png", "jpeg"])
def test_reads_qr_from_image_files(tmp_path: Path, fmt: str) -> None:
    path = tmp_path / "scan.bin"  # the type comes from the content, not the name
    _qr_image(TEXT).save(path, format=fmt, quality=70)
    assert read_qr_texts(path) == [TEXT]


def test_reads_every_page_of_a_pdf_in_order(
    tmp_path: Path, signer: Signer, election_id: bytes
) -> None:
    stock = make_stock(
        election_id=election_id, kind=PaperKind.COMMITTEE, round_number=1, count=2, signer=signer
    )
    paper = BallotPaper(
        title="中共某某村支部委员会换届选举",
        branch="中共某某村支部委员会",
        term="第十一届",
        kind=PaperKind.COMMITTEE,
        round_number=1,
        seats=1,
        candidates=("李华", "张伟"),
    )
    pdf = render_stock_pdf(paper, stock, tmp_path / "b.pdf")
    assert read_qr_texts(pdf) == [encode_qr_text(p) for p in stock.payloads]


def test_image_without_qr_reports_no_qr_found(tmp_path: Path) -> None:
    path = tmp_path / "blank.png"
    Image.new("L", (400, 400), 255).save(path)
    assert [p.texts for p in read_qr_pages(path)] == [()]
    with pytest.raises(NoQrFoundError):
        read_qr_texts(path)


def _truncated_png(tmp_path: Path) -> Path:
    path = tmp_path / "cut.png"
    _qr_image(TEXT).save(path)
    path.write_bytes(path.read_bytes()[:200])
    return path


def _text_file(tmp_path: Path) -> Path:
    path = tmp_path / "notes.png"
    path.write_text("not an image")
    return path


def _broken_pdf(tmp_path: Path) -> Path:
    path = tmp_path / "broken.pdf"
    path.write_bytes(b"%PDF-1.4\n garbage")
    return path


@pytest.mark.parametrize(
    ("make", "error"),
    [
        (lambda d: d / "missing.png", NotAFileError),
        (lambda d: d, NotAFileError),
        (_truncated_png, UnreadableImageError),
        (_text_file, UnreadableImageError),
        (_broken_pdf, UnreadableImageError),
    ],
    ids=["missing", "directory", "truncated-png", "text-file", "broken-pdf"],
)
def test_bad_inputs_raise_specific_errors(
    tmp_path: Path, make: object, error: type[BallotPrinterError]
) -> None:
    with pytest.raises(error) as info:
        read_qr_texts(make(tmp_path))  # type: ignore[operator]
    assert info.value.code.startswith("scan.")
