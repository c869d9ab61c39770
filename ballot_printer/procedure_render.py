"""reportlab shell for the procedure ballots: the stock PDF (RP-3.3, RP-5.3, RP-3.6).

As `render.render_stock_pdf` for the election ballot: check the glyphs, lay the page out once,
draw its static part as one form XObject, then one page per payload in stock order with the QR
symbol (`BP1:` text, alphanumeric mode, error correction M) and the ballot code. The same
embedded CJK font as the election ballots (`DEFAULT_FONT_PATH`); written atomically.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Final

from ballot_printer.errors import StockMismatchError
from ballot_printer.page import Text
from ballot_printer.procedure_layout import (
    EvaluationPaper,
    RecommendationPaper,
    layout_evaluation,
    layout_recommendation,
    procedure_paper_strings,
)
from ballot_printer.procedure_qr import ProcedureForm, encode_procedure_qr_text
from ballot_printer.procedure_stock import ProcedureStock
from ballot_printer.render import (
    DEFAULT_FONT_PATH,
    check_glyphs,
    draw_items,
    draw_qr_matrix,
    load_font,
    new_pdf_canvas,
    qr_matrix,
    qr_version,
    text_measure,
    write_atomically,
)

__all__ = ["render_procedure_stock_pdf"]

_FORM_NAME: Final = "procedure_static"


def _matches(paper: RecommendationPaper | EvaluationPaper, stock: ProcedureStock) -> bool:
    if stock.round_number != paper.round_number:
        return False
    if isinstance(paper, EvaluationPaper):
        return stock.form is ProcedureForm.EVALUATION and stock.post is None
    return stock.form is paper.group and stock.post is paper.post


def render_procedure_stock_pdf(
    paper: RecommendationPaper | EvaluationPaper,
    stock: ProcedureStock,
    out_path: Path | str,
    *,
    font_path: Path = DEFAULT_FONT_PATH,
) -> Path:
    """Write a procedure stock as one PDF, one ballot per page, in stock order.

    Raises:
        StockMismatchError: the stock's form, post or round is not the paper's.
        FontError: the font cannot be loaded.
        MissingGlyphError: a character (a name, a scale item) has no glyph in the font.
        LayoutOverflowError: the content does not fit the page.
        OutputError: the file cannot be written.
    """
    if not _matches(paper, stock):
        raise StockMismatchError(
            zh="票样与票的批次不符（种类、职位或轮次不同）。",
            en=f"the paper and the stock differ in form, post or round (stock: {stock.form.code} "
            f"{stock.post} round {stock.round_number})",
        )
    font = load_font(Path(font_path))
    check_glyphs(font, procedure_paper_strings(paper))
    texts = [encode_procedure_qr_text(p) for p in stock.payloads]
    version = qr_version(texts[0])
    modules = 17 + 4 * version
    measure = text_measure(font)
    if isinstance(paper, EvaluationPaper):
        spec = layout_evaluation(paper, measure=measure, qr_modules=modules)
    else:
        spec = layout_recommendation(paper, measure=measure, qr_modules=modules)
    check_glyphs(font, (("版面文字", i.text) for i in spec.page.items if isinstance(i, Text)))
    font_name = font.fontName
    slot = spec.qr

    def write(fh: Any) -> None:
        c = new_pdf_canvas(fh, (spec.page.width, spec.page.height), paper.title)
        c.beginForm(_FORM_NAME)
        draw_items(c, spec.page.items, font_name)
        c.endForm()
        for payload, text in zip(stock.payloads, texts, strict=True):
            c.doForm(_FORM_NAME)
            draw_qr_matrix(c, qr_matrix(text, version), slot.x, slot.y, slot.size)
            c.setFont(font_name, slot.code_size)
            c.setFillColorRGB(0, 0, 0)
            c.drawCentredString(slot.code_x, slot.code_y, payload.code)
            c.showPage()
        c.save()

    return write_atomically(Path(out_path), write)
