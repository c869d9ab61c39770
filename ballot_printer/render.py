"""reportlab renderer: ballot stock PDF and tally sheet PDF (spec/ballot-qr.md §7, §8).

A thin shell over `layout`: load and check the font, lay the page out once, then draw. The static
part of the ballot is one PDF form XObject reused on every page; only the QR symbol and the ballot
code change from page to page. Output files are written atomically (temporary file in the same
folder, then `os.replace`), so a failure never leaves a partial PDF under the final name.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import os
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, Final

import qrcode
from qrcode.util import MODE_ALPHA_NUM, QRData
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFError, TTFont
from reportlab.pdfgen import canvas as rl_canvas

from ballot_printer.errors import (
    FontError,
    MissingGlyphError,
    OutputError,
    StockMismatchError,
)
from ballot_printer.layout import (
    BallotPageSpec,
    BallotPaper,
    QrSlot,
    layout_ballot,
    layout_tally_sheet,
    paper_strings,
)
from ballot_printer.page import Circle, Line, PageItem, PageSize, PageSpec, Rect, Text, TextMeasure
from ballot_printer.payload import QrPayload, encode_qr_text
from ballot_printer.stock import BallotStock

__all__ = [
    "DEFAULT_FONT_PATH",
    "QR_MASK_PATTERN",
    "check_glyphs",
    "draw_items",
    "draw_qr_matrix",
    "load_font",
    "new_pdf_canvas",
    "qr_matrix",
    "qr_version",
    "render_stock_pdf",
    "render_tally_sheet",
    "text_measure",
    "write_atomically",
]

DEFAULT_FONT_PATH: Final = Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc")
# A fixed mask is valid QR and skips the penalty search, which is ~85% of qrcode's time
# (notes: 10.5 ms -> 1.5 ms per symbol); the round-trip tests decode every printed symbol.
QR_MASK_PATTERN: Final = 0
_QR_FORM: Final = "ballot_static"


# --- font ---------------------------------------------------------------------------------------


@functools.lru_cache(maxsize=8)
def load_font(path: Path = DEFAULT_FONT_PATH, subfont_index: int = 0) -> TTFont:
    """Load and register a TrueType font for embedding (subset) in the PDF.

    Raises:
        FontError: the file is missing or is not a TrueType-outline font reportlab can embed.
    """
    path = Path(path)
    name = (
        "WQY"
        if path == DEFAULT_FONT_PATH and subfont_index == 0
        else _font_name(path, subfont_index)
    )
    if not path.is_file():
        raise FontError(zh=f"找不到字体文件 {path}。", en=f"font file not found: {path}")
    try:
        font = TTFont(name, str(path), subfontIndex=subfont_index)
    except (TTFError, OSError) as e:
        raise FontError(
            zh=f"无法加载字体 {path}（须为 TrueType 轮廓字体）。",
            en=f"cannot load font {path}: {e}",
        ) from e
    pdfmetrics.registerFont(font)
    return font


def _font_name(path: Path, subfont_index: int) -> str:
    return "F" + hashlib.sha256(f"{path}|{subfont_index}".encode()).hexdigest()[:12]


def check_glyphs(font: TTFont, fields: Iterable[tuple[str, str]]) -> None:
    """Raise before printing if any character would come out as a blank box.

    Args:
        font: the loaded font.
        fields: (field name in Chinese, text) pairs.

    Raises:
        MissingGlyphError: naming the first missing character and the text it is in.
    """
    glyphs: dict[int, int] = font.face.charToGlyph
    for field_name, text in fields:
        for ch in text:
            if not glyphs.get(ord(ch)):  # absent, or mapped to glyph 0 (.notdef)
                raise MissingGlyphError(char=ch, text=text, field=field_name)


def _measure(font: TTFont) -> TextMeasure:
    name = font.fontName

    def measure(text: str, size: float) -> float:
        return float(pdfmetrics.stringWidth(text, name, size))

    return measure


def _spec_strings(pages: Iterable[PageSpec]) -> Iterable[tuple[str, str]]:
    for page in pages:
        for item in page.items:
            if isinstance(item, Text):
                yield ("版面文字", item.text)


# --- QR -----------------------------------------------------------------------------------------


def _qr(text: str, version: int | None) -> Any:
    q = qrcode.QRCode(
        version=version,
        error_correction=qrcode.constants.ERROR_CORRECT_M,
        border=0,
        mask_pattern=QR_MASK_PATTERN,
    )
    # Alphanumeric mode: the text is "BQ1:" + base32, all in the QR alphanumeric set (spec §3.2).
    q.add_data(QRData(text, mode=MODE_ALPHA_NUM))
    q.make(fit=version is None)
    return q


def qr_version(text: str) -> int:
    """The QR version (1-40) the text needs at error correction M."""
    return int(_qr(text, None).version)


def qr_matrix(text: str, version: int | None = None) -> tuple[tuple[bool, ...], ...]:
    """The QR modules, without quiet zone, row 0 at the top."""
    return tuple(tuple(bool(v) for v in row) for row in _qr(text, version).get_matrix())


def _draw_qr(c: Any, matrix: tuple[tuple[bool, ...], ...], slot: QrSlot) -> None:
    draw_qr_matrix(c, matrix, slot.x, slot.y, slot.size)


def draw_qr_matrix(
    c: Any, matrix: tuple[tuple[bool, ...], ...], x: float, y: float, size: float
) -> None:
    """Draw QR modules (row 0 at the top, no quiet zone) as one vector path.

    `(x, y)` is the lower-left corner of the symbol, `size` its side; the caller keeps the quiet
    zone clear.
    """
    module = size / len(matrix)
    top = y + size
    path = c.beginPath()
    for r, row in enumerate(matrix):
        row_y = top - (r + 1) * module
        start = -1
        for col, dark in enumerate((*row, False)):
            if dark and start < 0:
                start = col
            elif not dark and start >= 0:
                # Horizontal runs merged into one rect each: fewer operators, no seams in a run.
                path.rect(x + start * module, row_y, (col - start) * module, module)
                start = -1
    c.setFillColorRGB(0, 0, 0)
    c.drawPath(path, stroke=0, fill=1)


# --- drawing ------------------------------------------------------------------------------------


def _draw_items(c: Any, items: Iterable[PageItem], font_name: str) -> None:
    for item in items:
        if isinstance(item, Text):
            c.setFont(font_name, item.size)
            c.setFillColorRGB(*item.color)
            if item.align == "center":
                c.drawCentredString(item.x, item.y, item.text)
            elif item.align == "right":
                c.drawRightString(item.x, item.y, item.text)
            else:
                c.drawString(item.x, item.y, item.text)
        elif isinstance(item, Rect):
            if item.fill is not None:
                c.setFillColorRGB(*item.fill)
            if item.stroke is not None:
                c.setStrokeColorRGB(*item.stroke)
            c.setLineWidth(item.line_width)
            c.rect(
                item.x,
                item.y,
                item.w,
                item.h,
                stroke=int(item.stroke is not None),
                fill=int(item.fill is not None),
            )
        elif isinstance(item, Line):
            c.setStrokeColorRGB(*item.color)
            c.setLineWidth(item.width)
            c.line(item.x1, item.y1, item.x2, item.y2)
        elif isinstance(item, Circle):
            c.setFillColorRGB(*item.fill)
            c.circle(item.x, item.y, item.r, stroke=0, fill=1)


def draw_items(c: Any, items: Iterable[PageItem], font_name: str) -> None:
    """Draw layout items (`Text`, `Rect`, `Line`, `Circle`) on a reportlab canvas."""
    _draw_items(c, items, font_name)


def text_measure(font: TTFont) -> TextMeasure:
    """A `TextMeasure` (text, size) -> width in points for a loaded font."""
    return _measure(font)


def write_atomically(out_path: Path | str, write: Callable[[Any], None]) -> Path:
    """Write a file through `write(binary file)` atomically (temporary file, then `os.replace`).

    On any error the temporary file is removed and nothing appears under `out_path`.

    Raises:
        OutputError: the folder cannot be written.
    """
    return _write_atomically(Path(out_path), write)


def new_pdf_canvas(fh: Any, pagesize: tuple[float, float], title: str) -> Any:
    """A reportlab canvas writing to `fh`, reproducible (no timestamp, no random id)."""
    return _new_canvas(fh, pagesize, title)


def _write_atomically(out_path: Path, write: Callable[[Any], None]) -> Path:
    out_path = Path(out_path)
    try:
        fd, tmp_name = tempfile.mkstemp(
            prefix=f".{out_path.name}.", suffix=".tmp", dir=out_path.parent
        )
    except OSError as e:
        raise OutputError(
            zh=f"无法在 {out_path.parent} 中写入文件。",
            en=f"cannot write in {out_path.parent}: {e}",
        ) from e
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as fh:
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, out_path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise
    return out_path


def _new_canvas(fh: Any, pagesize: tuple[float, float], title: str) -> Any:
    # invariant=1: no timestamp or random document id, so the same input gives the same bytes.
    c = rl_canvas.Canvas(fh, pagesize=pagesize, pageCompression=1, invariant=1)
    c.setTitle(title)
    c.setCreator("ballot_printer")
    return c


def _layout_checked(
    paper: BallotPaper, font: TTFont, page_size: PageSize, qr_modules: int
) -> BallotPageSpec:
    check_glyphs(font, paper_strings(paper))
    spec = layout_ballot(paper, measure=_measure(font), page_size=page_size, qr_modules=qr_modules)
    check_glyphs(font, _spec_strings([spec.page]))
    return spec


def render_stock_pdf(
    paper: BallotPaper,
    stock: BallotStock,
    out_path: Path | str,
    *,
    page_size: PageSize = PageSize.A4,
    font_path: Path = DEFAULT_FONT_PATH,
) -> Path:
    """Write the ballot stock as one PDF, one ballot per page, in stock order (spec §7).

    Args:
        paper: what is printed on the ballot.
        stock: the signed payloads; their kind and round must match `paper`.
        out_path: the PDF to write (replaced atomically).
        page_size: A4 (default) or A5.
        font_path: a TrueType font with CJK coverage (subfont 0 of a .ttc).

    Raises:
        StockMismatchError: the stock is for another kind or round than the paper.
        FontError: the font cannot be loaded.
        MissingGlyphError: a character of the paper has no glyph in the font.
        LayoutOverflowError: the content does not fit the page.
        OutputError: the file cannot be written.

    Returns:
        The path written.
    """
    if stock.kind is not paper.kind or stock.round_number != paper.round_number:
        raise StockMismatchError(
            zh="选票样式与选票批次不符（选票种类或轮次不同）。",
            en=f"paper is {paper.kind.name} round {paper.round_number}, stock is "
            f"{stock.kind.name} round {stock.round_number}",
        )
    font = load_font(Path(font_path))
    texts = [encode_qr_text(p) for p in stock.payloads]
    # Every payload has the same length, so one version fits all; fixing it skips the fitting.
    version = qr_version(texts[0])
    modules = 17 + 4 * version
    spec = _layout_checked(paper, font, page_size, modules)
    font_name = font.fontName

    def write(fh: Any) -> None:
        c = _new_canvas(
            fh, (spec.page.width, spec.page.height), f"{paper.title} {paper.kind_label}"
        )
        c.beginForm(_QR_FORM)
        _draw_items(c, spec.page.items, font_name)
        c.endForm()
        for payload, text in zip(stock.payloads, texts, strict=True):
            _draw_page(
                c, spec=spec, payload=payload, text=text, version=version, font_name=font_name
            )
        c.save()

    return _write_atomically(Path(out_path), write)


def _draw_page(
    c: Any, *, spec: BallotPageSpec, payload: QrPayload, text: str, version: int, font_name: str
) -> None:
    c.doForm(_QR_FORM)
    _draw_qr(c, qr_matrix(text, version), spec.qr)
    c.setFont(font_name, spec.qr.code_size)
    c.setFillColorRGB(0, 0, 0)
    c.drawCentredString(spec.qr.code_x, spec.qr.code_y, payload.code)
    c.showPage()


def render_tally_sheet(
    paper: BallotPaper, out_path: Path | str, *, font_path: Path = DEFAULT_FONT_PATH
) -> Path:
    """Write the tally sheet (计票单) for one paper kind and round (spec §8).

    Raises:
        FontError: the font cannot be loaded.
        MissingGlyphError: a character has no glyph in the font.
        LayoutOverflowError: a name does not fit.
        OutputError: the file cannot be written.

    Returns:
        The path written.
    """
    font = load_font(Path(font_path))
    check_glyphs(font, paper_strings(paper))
    pages = layout_tally_sheet(paper, measure=_measure(font))
    check_glyphs(font, _spec_strings(pages))

    def write(fh: Any) -> None:
        c = _new_canvas(fh, (pages[0].width, pages[0].height), f"{paper.title} 计票单")
        for page in pages:
            _draw_items(c, page.items, font.fontName)
            c.showPage()
        c.save()

    return _write_atomically(Path(out_path), write)
