"""Page layout of the procedure ballots: a pure function from a paper model to a page spec.

Implements spec/procedure.md RP-3.3 (the recommendation ballot: every nominable member in the
approved order with a mark cell under the name, `K` blank rows for written names, the marking
rules, the grey cross-hatched band with the word 推荐票) and RP-5.3 (the evaluation ballot: one
row per evaluated person in the approved order, one cell per scale item, no blank rows). Both are
A4 portrait, one paper per post (recommendation) or per round (evaluation), with the QR symbol and
its ballot code in the bottom-right corner as on the election ballot (spec/ballot-qr.md §7.2).

Nothing here touches a font file or a PDF: text widths come from the renderer's `TextMeasure`.
Names are printed exactly as given (the caller passes the roster's NFC text); the order is the
caller's (`ballot_order`), never re-sorted.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from ballot_printer.errors import InvalidBallotPaperError, LayoutOverflowError
from ballot_printer.layout import BallotPageSpec, QrSlot, wrap_text
from ballot_printer.page import (
    BLACK,
    MM,
    NUMERALS,
    WHITE,
    Color,
    Line,
    PageItem,
    PageSize,
    PageSpec,
    Rect,
    Text,
    TextMeasure,
)
from ballot_printer.payload import PaperKind
from ballot_printer.procedure_qr import ProcedureForm

__all__ = [
    "EVALUATION_INSTRUCTION",
    "EvaluationPaper",
    "RecommendationPaper",
    "layout_evaluation",
    "layout_recommendation",
    "procedure_paper_strings",
    "recommendation_instructions",
]

EVALUATION_INSTRUCTION: Final = "在相应栏内画“○”，每人只能选一项；不画的视为弃权。"
SECRECY_NOTE: Final = "注：二维码仅用于核验票的真伪，不含任何填票人信息，请勿折损。"
POST_ZH: Final = {
    PaperKind.COMMITTEE: "委员",
    PaperKind.SECRETARY: "书记",
    PaperKind.DEPUTY: "副书记",
}

GREY: Final[Color] = (0.35, 0.35, 0.35)
HATCH: Final[Color] = (0.45, 0.45, 0.45)
LABEL_FILL: Final[Color] = (0.92, 0.92, 0.92)

_MARGIN: Final = 15 * MM
_TITLE: Final = (18.0, 11.0)  # start, minimum
_SUBTITLE: Final = 11.0
_BAND_H: Final = 15 * MM
_BAND_TEXT: Final = 22.0
_COUNT_TEXT: Final = 15.0
_LABEL_W: Final = 24 * MM
_LABEL_TEXT: Final = 9.5
_NAME: Final = (14.0, 7.0)  # max, min font size
_CELL_W: Final = (22 * MM, 34 * MM)  # min, max width of a name cell
_NAME_ROW: Final = (8 * MM, 12 * MM)
_MARK_ROW: Final = (9 * MM, 18 * MM)
_EVAL_ROW: Final = (7 * MM, 12 * MM)
_QR: Final = 40 * MM
_CODE_TEXT: Final = 11.0
_INSTR_TEXT: Final = 10.5
_GAP: Final = 4 * MM


def _check_line(value: str, what_zh: str, what_en: str) -> None:
    if not value.strip():
        raise InvalidBallotPaperError(zh=f"{what_zh}不能为空。", en=f"{what_en} is empty")
    if not value.isprintable() or value != value.strip():
        raise InvalidBallotPaperError(
            zh=f"{what_zh}“{value}”含有换行、控制字符或首尾空格。",
            en=f"{what_en} {value!r} has line breaks, control characters or outer spaces",
        )


def _check_notes(notes: tuple[str, ...], names: tuple[str, ...]) -> None:
    if notes and len(notes) != len(names):
        raise InvalidBallotPaperError(
            zh="姓名附注须与姓名一一对应。", en="the notes must be one per name"
        )
    for note in notes:
        if note:
            _check_line(note, "姓名附注", "name note")


def recommendation_instructions(max_per_ballot: int) -> tuple[str, ...]:
    """The marking rules of RP-3.3, word for word, with the paper's `K`."""
    return (
        "推荐的，在姓名下方空格内画“○”；不画符号的，视为不推荐。",
        "推荐名单以外人选的，在空格内写上其姓名（写上即为推荐）。",
        f"推荐人数多于{max_per_ballot}名的为无效票。",
    )


@dataclass(frozen=True, slots=True)
class RecommendationPaper:
    """One post's recommendation ballot for one session round (RP-3.3).

    `names` are the nominable members in `ballot_order` under layout `listed`, and empty under
    `written`; `max_per_ballot` is `K`, also the number of blank rows. `notes` is empty or one
    short line per name printed small under it ("" for none): the caller tells apart two members
    of the same name by it (RP-3.3), the name itself is printed exactly as given.
    """

    branch: str
    term: str
    group: ProcedureForm
    post: PaperKind
    round_number: int
    max_per_ballot: int
    names: tuple[str, ...]
    notes: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        _check_line(self.branch, "支部名称", "branch")
        _check_line(self.term, "届次", "term")
        if self.group not in (ProcedureForm.MEMBER, ProcedureForm.PUBLIC):
            raise InvalidBallotPaperError(
                zh="推荐票须为党员推荐或群众推荐。", en="a recommendation is member or public"
            )
        if not isinstance(self.post, PaperKind):
            raise InvalidBallotPaperError(zh="职位未知。", en=f"unknown post {self.post!r}")
        if not 1 <= self.round_number <= 255:
            raise InvalidBallotPaperError(zh="轮次应为 1 至 255。", en="round must be 1..255")
        if not 1 <= self.max_per_ballot <= 50:
            raise InvalidBallotPaperError(
                zh="每张推荐票最多推荐人数应为 1 至 50。", en="K must be 1..50"
            )
        for name in self.names:
            _check_line(name, "姓名", "name")
        _check_notes(self.notes, self.names)

    @property
    def title(self) -> str:
        """`{branch}党组织换届{post}人选推荐票` (RP-3.3)."""
        return f"{self.branch}党组织换届{POST_ZH[self.post]}人选推荐票"

    @property
    def band_label(self) -> str:
        """The words on the band: 推荐票（党员推荐） / 推荐票（群众推荐）."""
        return f"推荐票（{self.group.label_zh}）"


@dataclass(frozen=True, slots=True)
class EvaluationPaper:
    """One evaluation round's ballot (RP-5.3): persons in `ballot_order`, the scale's `zh`."""

    branch: str
    term: str
    round_number: int
    names: tuple[str, ...]
    scale: tuple[str, ...]
    notes: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        _check_line(self.branch, "支部名称", "branch")
        _check_line(self.term, "届次", "term")
        if not 1 <= self.round_number <= 255:
            raise InvalidBallotPaperError(zh="轮次应为 1 至 255。", en="round must be 1..255")
        if not self.names:
            raise InvalidBallotPaperError(zh="测评名单不能为空。", en="nobody to evaluate")
        if not 2 <= len(self.scale) <= 5:
            raise InvalidBallotPaperError(
                zh="测评等次应为 2 至 5 项。", en="the scale has 2..5 items"
            )
        for text in (*self.names, *self.scale):
            _check_line(text, "姓名或测评等次", "name or scale item")
        _check_notes(self.notes, self.names)

    @property
    def title(self) -> str:
        """`{branch}党组织换届候选人初步人选群众测评表` (RP-5.3)."""
        return f"{self.branch}党组织换届候选人初步人选群众测评表"

    @property
    def band_label(self) -> str:
        """The words on the band."""
        return "测评票"


def procedure_paper_strings(
    paper: RecommendationPaper | EvaluationPaper,
) -> tuple[tuple[str, str], ...]:
    """Every variable string printed from the model, as (field name in Chinese, text)."""
    fixed = (("标题", paper.title), ("届次", paper.term))
    scale = paper.scale if isinstance(paper, EvaluationPaper) else ()
    return (
        fixed
        + tuple(("姓名", n) for n in paper.names)
        + tuple(("姓名附注", n) for n in paper.notes if n)
        + tuple(("测评等次", s) for s in scale)
    )


# --- shared pieces -------------------------------------------------------------------------------


def _fit(text: str, measure: TextMeasure, width: float, start: float, minimum: float) -> float:
    """Largest size in 0.5 pt steps from `start` down to `minimum` at which `text` fits, or 0."""
    size = start
    while size >= minimum:
        if measure(text, size) <= width:
            return size
        size -= 0.5
    return 0.0


def _hatched_band(x: float, y: float, w: float, h: float) -> list[PageItem]:
    """Grey cross-hatching (both diagonals): unlike every election ballot's band (RP-3.3)."""
    items: list[PageItem] = [Rect(x, y, w, h, stroke=HATCH, fill=None, line_width=1.5)]
    step = 2.6 * MM
    c = -h
    while c < w:
        # x - y = c (rising) and x + y = c + h (falling), clipped to the band.
        x1, y1 = max(0.0, c), max(0.0, -c)
        x2, y2 = min(w, c + h), min(h, w - c)
        items.append(Line(x + x1, y + y1, x + x2, y + y2, width=0.9, color=HATCH))
        items.append(Line(x + x1, y + h - y1, x + x2, y + h - y2, width=0.9, color=HATCH))
        c += step
    return items


def _band_label(
    x: float, y: float, w: float, h: float, *, label: str, measure: TextMeasure
) -> list[PageItem]:
    size = _fit(label, measure, w - 10 * MM, _BAND_TEXT, 12) or 12.0
    text_w = measure(label, size)
    pad = size * 0.6
    plate = Rect(x + (w - text_w) / 2 - pad, y + h * 0.15, text_w + 2 * pad, h * 0.7, fill=WHITE)
    return [plate, Text(x + w / 2, y + (h - size * 0.72) / 2, label, size, "center")]


def _header(
    title: str, subtitle: str, band_label: str, measure: TextMeasure, page: PageSize
) -> tuple[list[PageItem], float]:
    """Title, subtitle and band; returns the items and the y below the band."""
    width, height = page.width, page.height
    content_w = width - 2 * _MARGIN
    size = _fit(title, measure, content_w, *_TITLE)
    lines = [title] if size else wrap_text(title, measure, _TITLE[1], content_w)
    size = size or _TITLE[1]
    if len(lines) > 2:
        raise LayoutOverflowError(zh="标题过长，无法印出。", en="the title is too long")
    items: list[PageItem] = []
    y = height - _MARGIN
    for line in lines:
        y -= size * 1.3
        items.append(Text(width / 2, y, line, size, "center"))
    y -= _SUBTITLE + 3 * MM
    sub_size = _fit(subtitle, measure, content_w, _SUBTITLE, 6) or 6.0
    items.append(Text(width / 2, y, subtitle, sub_size, "center", GREY))
    y -= 3 * MM + _BAND_H
    items.extend(_hatched_band(_MARGIN, y, content_w, _BAND_H))
    items.extend(_band_label(_MARGIN, y, content_w, _BAND_H, label=band_label, measure=measure))
    return items, y


def _qr_slot(page: PageSize, qr_modules: int) -> tuple[QrSlot, float, float]:
    """The QR slot in the bottom-right corner; returns it, its block width and block top."""
    module = _QR / qr_modules
    qr_total = _QR + 8 * module  # 4-module quiet zone each side
    code_h = _CODE_TEXT + 2 * MM
    right = page.width - _MARGIN
    qr_x = right - qr_total + 4 * module
    slot = QrSlot(
        x=qr_x,
        y=_MARGIN + code_h + 4 * module,
        size=_QR,
        code_x=qr_x + _QR / 2,
        code_y=_MARGIN + 1 * MM,
        code_size=_CODE_TEXT,
    )
    return slot, qr_total, _MARGIN + code_h + qr_total


def _instruction_box(
    sentences: Sequence[str], measure: TextMeasure, width: float
) -> tuple[list[tuple[str, float, Color]], float]:
    lines: list[tuple[str, float, Color]] = [("填写说明", _INSTR_TEXT * 1.15, BLACK)]
    numbered = len(sentences) > 1
    for i, sentence in enumerate(sentences):
        text = f"{NUMERALS[i]}、{sentence}" if numbered else sentence
        lines.extend(
            (ln, _INSTR_TEXT, BLACK) for ln in wrap_text(text, measure, _INSTR_TEXT, width)
        )
    note = _INSTR_TEXT * 0.85
    lines.extend((ln, note, GREY) for ln in wrap_text(SECRECY_NOTE, measure, note, width))
    return lines, sum(s * 1.45 for _, s, _ in lines) + 4 * MM


def _draw_box(
    x: float, top: float, w: float, h: float, lines: Sequence[tuple[str, float, Color]]
) -> list[PageItem]:
    items: list[PageItem] = [Rect(x, top - h, w, h, stroke=GREY, line_width=0.6)]
    y = top - 2 * MM
    for text, size, color in lines:
        y -= size * 1.45
        items.append(Text(x + 2 * MM, y + size * 0.3, text, size, "left", color))
    return items


def _name_items(
    name: str, measure: TextMeasure, *, cx: float, cy: float, w: float, h: float, note: str = ""
) -> list[PageItem]:
    """A name centred in a cell, on one line, or two when one would be too small; a note, if
    any, small and grey in the lower third of the cell, the name above it."""
    if note:
        size = _fit(note, measure, w - 2 * MM, 8, 5)
        if not size:
            raise LayoutOverflowError(
                zh=f"姓名附注“{note}”过长。", en=f"the name note {note!r} does not fit"
            )
        below = [Text(cx + w / 2, cy + h * 0.1, note, size, "center", GREY)]
        return _name_items(name, measure, cx=cx, cy=cy + h * 0.3, w=w, h=h * 0.7) + below
    avail = w - 2.5 * MM
    single = _fit(name, measure, avail, min(_NAME[0], h / 1.35), _NAME[1])
    if single >= 0.8 * _NAME[0] or len(name) < 2:
        if not single:
            raise LayoutOverflowError(
                zh=f"姓名“{name}”过长，在此纸张上无法完整印出。",
                en=f"the name {name!r} is too long for its cell",
            )
        return [Text(cx + w / 2, cy + h / 2 - single * 0.36, name, single, "center")]
    cut = name.find("·") + 1 if "·" in name[:-1] else (len(name) + 1) // 2
    parts = (name[:cut], name[cut:])
    double = min(_fit(p, measure, avail, min(_NAME[0], h / 2.5), _NAME[1]) for p in parts)
    if double <= single:
        if not single:
            raise LayoutOverflowError(
                zh=f"姓名“{name}”过长，在此纸张上无法完整印出。",
                en=f"the name {name!r} is too long for its cell",
            )
        return [Text(cx + w / 2, cy + h / 2 - single * 0.36, name, single, "center")]
    lead = double * 1.18
    first = cy + h / 2 + lead / 2 - double * 0.36
    return [Text(cx + w / 2, first - i * lead, p, double, "center") for i, p in enumerate(parts)]


# --- recommendation ballot -----------------------------------------------------------------------


def _grid(
    *,
    x0: float,
    top: float,
    cells: Sequence[str | None],
    notes: Sequence[str],
    cols: int,
    cell_w: float,
    name_h: float,
    mark_h: float,
    labels: tuple[str, str],
    measure: TextMeasure,
) -> list[PageItem]:
    """Row pairs of name cells over mark cells; `None` cells are blank rows for written names."""
    items: list[PageItem] = []
    label_size = _fit(max(labels, key=len), measure, _LABEL_W - 2 * MM, _LABEL_TEXT, 6) or 6.0
    y = top
    for r in range(math.ceil(len(cells) / cols)):
        row = cells[r * cols : (r + 1) * cols]
        name_y, mark_y = y - name_h, y - name_h - mark_h
        for label, ly, lh in ((labels[0], name_y, name_h), (labels[1], mark_y, mark_h)):
            items.append(Rect(x0, ly, _LABEL_W, lh, fill=LABEL_FILL))
            items.append(
                Text(
                    x0 + _LABEL_W / 2,
                    ly + (lh - label_size * 0.72) / 2,
                    label,
                    label_size,
                    "center",
                )
            )
        for c, name in enumerate(row):
            cx = x0 + _LABEL_W + c * cell_w
            items.append(Rect(cx, name_y, cell_w, name_h))
            items.append(Rect(cx, mark_y, cell_w, mark_h))
            if name is not None:
                note = notes[r * cols + c] if notes else ""
                items.extend(
                    _name_items(name, measure, cx=cx, cy=name_y, w=cell_w, h=name_h, note=note)
                )
        items.append(
            Rect(x0, mark_y, _LABEL_W + len(row) * cell_w, name_h + mark_h, line_width=1.4)
        )
        y = mark_y
    return items


def layout_recommendation(
    paper: RecommendationPaper, *, measure: TextMeasure, qr_modules: int = 45
) -> BallotPageSpec:
    """Lay out a recommendation ballot's static part and its QR slot (RP-3.3), A4 portrait.

    Raises:
        LayoutOverflowError: the names and blank rows do not fit on one page even at the smallest
            row heights (the town then signs layout `written`), or a name does not fit its cell.
    """
    page = PageSize.A4
    content_w = page.width - 2 * _MARGIN
    subtitle = f"{paper.group.label_zh}　　届次：{paper.term}　　第{paper.round_number}轮"
    items, y = _header(paper.title, subtitle, paper.band_label, measure, page)
    y -= _COUNT_TEXT + 4 * MM
    items.append(
        Text(page.width / 2, y, f"最多推荐{paper.max_per_ballot}名", _COUNT_TEXT, "center")
    )
    grid_top = y - 4 * MM

    slot, qr_w, qr_top = _qr_slot(page, qr_modules)
    box_w = content_w - qr_w - 4 * MM
    lines, box_h = _instruction_box(
        recommendation_instructions(paper.max_per_ballot), measure, box_w - 4 * MM
    )
    bottom_top = max(qr_top, _MARGIN + box_h)

    max_cols = max(1, int((content_w - _LABEL_W) // _CELL_W[0]))
    n_names, n_blank = len(paper.names), paper.max_per_ballot
    cols = min(max_cols, max(n_names, n_blank))
    cell_w = min(_CELL_W[1], (content_w - _LABEL_W) / cols)
    grid_x = _MARGIN + (content_w - (_LABEL_W + cols * cell_w)) / 2
    pairs = math.ceil(n_names / cols) + math.ceil(n_blank / cols)
    gaps = (2 if n_names else 1) * _GAP
    pair_min, pair_max = _NAME_ROW[0] + _MARK_ROW[0], _NAME_ROW[1] + _MARK_ROW[1]
    pair_h = min(pair_max, (grid_top - bottom_top - gaps) / pairs)
    if pair_h < pair_min:
        raise LayoutOverflowError(
            zh=f"推荐人选（{n_names} 名）和另推荐栏（{n_blank} 格）在一张 A4 纸上放不下；"
            "请镇党委将推荐票样式定为只留空格（written）。",
            en=f"{n_names} names and {n_blank} blank rows do not fit on one A4 page; the town "
            "may sign layout `written`",
        )
    t = (pair_h - pair_min) / (pair_max - pair_min)
    name_h = _NAME_ROW[0] + t * (_NAME_ROW[1] - _NAME_ROW[0])
    mark_h = pair_h - name_h
    top = grid_top
    if n_names:
        items.extend(
            _grid(
                x0=grid_x,
                top=top,
                cells=paper.names,
                notes=paper.notes,
                cols=cols,
                cell_w=cell_w,
                name_h=name_h,
                mark_h=mark_h,
                labels=("推荐人选姓名", "推荐符号"),
                measure=measure,
            )
        )
        top -= math.ceil(n_names / cols) * pair_h + _GAP
    items.extend(
        _grid(
            x0=grid_x,
            top=top,
            cells=[None] * n_blank,
            notes=(),
            cols=cols,
            cell_w=cell_w,
            name_h=name_h,
            mark_h=mark_h,
            labels=("另推荐人选姓名", "推荐符号"),
            measure=measure,
        )
    )
    items.extend(_draw_box(_MARGIN, _MARGIN + box_h, box_w, box_h, lines))
    return BallotPageSpec(
        page=PageSpec(width=page.width, height=page.height, items=tuple(items)), qr=slot
    )


# --- evaluation ballot ---------------------------------------------------------------------------


def layout_evaluation(
    paper: EvaluationPaper, *, measure: TextMeasure, qr_modules: int = 45
) -> BallotPageSpec:
    """Lay out an evaluation ballot's static part and its QR slot (RP-5.3), A4 portrait.

    A table: 序号, 姓名, then one column per scale item headed by its `zh`; one row per person.

    Raises:
        LayoutOverflowError: the rows do not fit on one page, or a name or a heading does not fit.
    """
    page = PageSize.A4
    content_w = page.width - 2 * _MARGIN
    subtitle = f"届次：{paper.term}　　第{paper.round_number}轮"
    items, y = _header(paper.title, subtitle, paper.band_label, measure, page)
    y -= _COUNT_TEXT + 4 * MM
    items.append(Text(page.width / 2, y, f"测评对象{len(paper.names)}名", _COUNT_TEXT, "center"))
    table_top = y - 4 * MM

    slot, qr_w, qr_top = _qr_slot(page, qr_modules)
    box_w = content_w - qr_w - 4 * MM
    lines, box_h = _instruction_box((EVALUATION_INSTRUCTION,), measure, box_w - 4 * MM)
    bottom_top = max(qr_top, _MARGIN + box_h)

    number_w, name_w = 14 * MM, 40 * MM
    scale_w = (content_w - number_w - name_w) / len(paper.scale)
    header_h = 10 * MM
    n = len(paper.names)
    row_h = min(_EVAL_ROW[1], (table_top - bottom_top - header_h - _GAP) / n)
    if row_h < _EVAL_ROW[0]:
        raise LayoutOverflowError(
            zh=f"测评对象（{n} 名）在一张 A4 纸上放不下。",
            en=f"{n} persons to evaluate do not fit on one A4 page",
        )
    x0 = _MARGIN
    headings = ("序号", "姓名", *paper.scale)
    widths = (number_w, name_w, *([scale_w] * len(paper.scale)))
    x = x0
    for heading, w in zip(headings, widths, strict=True):
        items.append(Rect(x, table_top - header_h, w, header_h, fill=LABEL_FILL))
        size = _fit(heading, measure, w - 2 * MM, 12, 7)
        if not size:
            raise LayoutOverflowError(
                zh=f"测评等次“{heading}”过长，表头放不下。",
                en=f"the scale item {heading!r} does not fit its heading",
            )
        items.append(
            Text(x + w / 2, table_top - header_h / 2 - size * 0.36, heading, size, "center")
        )
        x += w
    y = table_top - header_h
    for i, name in enumerate(paper.names, start=1):
        y -= row_h
        x = x0
        for w in widths:
            items.append(Rect(x, y, w, row_h))
            x += w
        items.append(Text(x0 + number_w / 2, y + row_h / 2 - 4, str(i), 11, "center"))
        note = paper.notes[i - 1] if paper.notes else ""
        items.extend(
            _name_items(name, measure, cx=x0 + number_w, cy=y, w=name_w, h=row_h, note=note)
        )
    items.append(Rect(x0, y, content_w, table_top - y, line_width=1.4))
    items.extend(_draw_box(_MARGIN, _MARGIN + box_h, box_w, box_h, lines))
    return BallotPageSpec(
        page=PageSpec(width=page.width, height=page.height, items=tuple(items)), qr=slot
    )
