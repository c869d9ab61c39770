"""Page layout for the ballot and the tally sheet: a pure function from a model to a page spec.

Implements spec/ballot-qr.md §7 (printed ballot) and §8 (tally sheet) and the layout rules of
RULES §10: candidates in the approved order (never re-sorted), the number to elect, the marks and
the over-vote rule, write-in cells (one per seat), and a visibly different paper per kind.

Nothing here touches a font file or a PDF: text widths come from a `TextMeasure` the renderer
passes in, so the layout is testable with a fake measure. The page primitives it builds with live in
`ballot_printer.page` and are re-exported here.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final, Literal

from ballot_printer.errors import InvalidBallotPaperError, LayoutOverflowError
from ballot_printer.page import (
    BLACK,
    MM,
    NO_LINE_END,
    NO_LINE_START,
    NUMERALS,
    WHITE,
    Circle,
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

__all__ = [
    "INSTRUCTIONS",
    "MM",
    "SECRECY_NOTE",
    "BallotPageSpec",
    "BallotPaper",
    "Circle",
    "Color",
    "Line",
    "PageItem",
    "PageSize",
    "PageSpec",
    "QrSlot",
    "Rect",
    "Text",
    "TextMeasure",
    "layout_ballot",
    "layout_tally_sheet",
    "paper_strings",
]

# The marking rules, word for word as in the branch's 选举办法 templates (RULES §3.1, §3.2).
INSTRUCTIONS: Final = (
    "赞成的在姓名下方空格内画“○”，不赞成的画“×”，弃权的不画任何符号。",
    "另选他人的，在另选人空格内写上其姓名并在其下方画“○”。",
    "所选人数多于应选人数的为无效票。",
)
SECRECY_NOTE: Final = "注：二维码仅用于核验选票真伪，不含任何投票人信息，请勿折损。"

GREY: Final[Color] = (0.35, 0.35, 0.35)
LABEL_FILL: Final[Color] = (0.92, 0.92, 0.92)
NA_FILL: Final[Color] = (0.86, 0.86, 0.86)

# --- ballot page spec ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class QrSlot:
    """Where the per-ballot QR symbol and its code go (the quiet zone is already kept clear)."""

    x: float
    y: float
    size: float
    code_x: float
    code_y: float
    code_size: float


@dataclass(frozen=True, slots=True)
class BallotPageSpec:
    """The static part of a ballot page, shared by every ballot of a stock, plus the QR slot."""

    page: PageSpec
    qr: QrSlot


# --- the model ----------------------------------------------------------------------------------


def _check_line(value: str, what_zh: str, what_en: str, *, allow_empty: bool = False) -> None:
    if not isinstance(value, str):
        raise InvalidBallotPaperError(zh=f"{what_zh}必须是文字。", en=f"{what_en} must be a string")
    if not value.strip() and not allow_empty:
        raise InvalidBallotPaperError(zh=f"{what_zh}不能为空。", en=f"{what_en} is empty")
    if not value.isprintable() or value != value.strip():
        raise InvalidBallotPaperError(
            zh=f"{what_zh}“{value}”含有换行、控制字符或首尾空格。",
            en=f"{what_en} {value!r} has line breaks, control characters or outer spaces",
        )


@dataclass(frozen=True, slots=True)
class BallotPaper:
    """What is printed on one kind of paper ballot for one round (spec §7.1).

    `candidates` is the order the election office approved; it is printed as given.
    `round_wording` is the round note after the paper kind, e.g. "第2轮", "再次投票", "另行选举".
    """

    title: str
    branch: str
    term: str
    kind: PaperKind
    round_number: int
    seats: int
    candidates: tuple[str, ...]
    round_wording: str = ""

    def __post_init__(self) -> None:
        _check_line(self.title, "标题", "title")
        _check_line(self.branch, "选举单位", "branch")
        _check_line(self.term, "届次", "term")
        _check_line(self.round_wording, "轮次说明", "round wording", allow_empty=True)
        if not isinstance(self.kind, PaperKind):
            raise InvalidBallotPaperError(zh="选票种类未知。", en=f"unknown kind {self.kind!r}")
        if not isinstance(self.candidates, tuple):
            raise InvalidBallotPaperError(
                zh="候选人名单必须按批准顺序给出（元组）。",
                en="candidates must be a tuple in the approved order",
            )
        if isinstance(self.round_number, bool) or not 1 <= self.round_number <= 255:
            raise InvalidBallotPaperError(
                zh="轮次应为 1 至 255。", en=f"round must be 1..255, got {self.round_number}"
            )
        if isinstance(self.seats, bool) or not 1 <= self.seats <= 50:
            raise InvalidBallotPaperError(
                zh="应选人数应为 1 至 50。", en=f"seats must be 1..50, got {self.seats}"
            )
        if not self.candidates:
            raise InvalidBallotPaperError(zh="候选人名单为空。", en="no candidates")
        for name in self.candidates:
            _check_line(name, "候选人姓名", "candidate name")
        seen: set[str] = set()
        for name in self.candidates:
            if name in seen:
                raise InvalidBallotPaperError(
                    zh=f"候选人“{name}”重复出现；同名者请按规定加注区分。",
                    en=f"candidate {name!r} appears twice; disambiguate same-name candidates",
                )
            seen.add(name)

    @property
    def write_in_rows(self) -> int:
        """Write-in cells on the paper: one per seat (RULES A4)."""
        return self.seats

    @property
    def kind_label(self) -> str:
        """E.g. "委员选票" or "书记选票（另行选举）"."""
        label = self.kind.label_zh
        return f"{label}（{self.round_wording}）" if self.round_wording else label


def paper_strings(paper: BallotPaper) -> tuple[tuple[str, str], ...]:
    """Every variable string printed from the model, as (field name in Chinese, text)."""
    fixed = (("标题", paper.title), ("选举单位", paper.branch), ("届次", paper.term))
    rw = (("轮次说明", paper.round_wording),) if paper.round_wording else ()
    return fixed + rw + tuple(("候选人姓名", name) for name in paper.candidates)


# --- ballot -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Metrics:
    margin: float
    title: float
    title_min: float
    subtitle: float
    band_h: float
    band_text: float
    seats_text: float
    label_text: float
    name_max: float
    name_min: float
    name_row: tuple[float, float]  # min, max height
    mark_row: tuple[float, float]
    cell_w: tuple[float, float]  # min, max width
    label_w: float
    qr: float
    code_text: float
    instr_text: float


_METRICS: Final = {
    PageSize.A4: _Metrics(
        margin=15 * MM,
        title=20,
        title_min=13,
        subtitle=11,
        band_h=17 * MM,
        band_text=26,
        seats_text=16,
        label_text=9.5,
        name_max=14,
        name_min=8,
        name_row=(8 * MM, 13 * MM),
        mark_row=(9 * MM, 22 * MM),
        cell_w=(20 * MM, 34 * MM),
        label_w=24 * MM,
        qr=40 * MM,
        code_text=11,
        instr_text=10.5,
    ),
    PageSize.A5: _Metrics(
        margin=10 * MM,
        title=15,
        title_min=10,
        subtitle=8.5,
        band_h=12 * MM,
        band_text=19,
        seats_text=12,
        label_text=7.5,
        name_max=12,
        name_min=7,
        name_row=(7 * MM, 10 * MM),
        mark_row=(8 * MM, 14 * MM),
        cell_w=(17 * MM, 28 * MM),
        label_w=18 * MM,
        qr=35 * MM,
        code_text=9,
        instr_text=8,
    ),
}


@dataclass(frozen=True, slots=True)
class _KindStyle:
    color: Color
    pattern: Literal["solid", "hatch", "dots"]


# Colour plus a pattern, so the kinds stay distinct on a greyscale copier (RULES §10).
_KIND_STYLE: Final = {
    PaperKind.COMMITTEE: _KindStyle(color=(0.74, 0.07, 0.07), pattern="solid"),
    PaperKind.SECRETARY: _KindStyle(color=(0.05, 0.26, 0.62), pattern="hatch"),
    PaperKind.DEPUTY: _KindStyle(color=(0.0, 0.44, 0.20), pattern="dots"),
}


def _fit_size(text: str, measure: TextMeasure, width: float, start: float, minimum: float) -> float:
    """Largest size in 0.5 pt steps from `start` down to `minimum` at which `text` fits, or 0."""
    size = start
    while size >= minimum:
        if measure(text, size) <= width:
            return size
        size -= 0.5
    return 0.0


def wrap_text(text: str, measure: TextMeasure, size: float, width: float) -> list[str]:
    """Break Chinese text into lines of at most `width`.

    Closing punctuation never starts a line and opening punctuation never ends one; the
    character before is carried down with it instead.
    """
    lines: list[str] = []
    current = ""
    for ch in text:
        if current and measure(current + ch, size) > width:
            carry = 0
            while carry < len(current) - 1 and (
                (current[len(current) - carry :] + ch)[0] in NO_LINE_START
                or current[-1 - carry] in NO_LINE_END
            ):
                carry += 1
            lines.append(current[: len(current) - carry])
            current = current[len(current) - carry :]
        current += ch
    if current:
        lines.append(current)
    return lines


def _band(x: float, y: float, w: float, h: float, kind: PaperKind) -> list[PageItem]:
    style = _KIND_STYLE[kind]
    items: list[PageItem] = []
    if style.pattern == "solid":
        items.append(Rect(x, y, w, h, stroke=None, fill=style.color))
        return items
    items.append(Rect(x, y, w, h, stroke=style.color, fill=None, line_width=1.5))
    if style.pattern == "hatch":
        step = 2.2 * MM
        # 45-degree lines x - y = c, clipped to the band.
        c = -h
        while c < w:
            x1, y1 = max(0.0, c), max(0.0, -c)
            x2, y2 = min(w, c + h), min(h, w - c)
            items.append(Line(x + x1, y + y1, x + x2, y + y2, width=1.1, color=style.color))
            c += step
    else:
        step = 2.4 * MM
        rows = int(h // step)
        cols = int(w // step)
        off_y = (h - (rows - 1) * step) / 2
        off_x = (w - (cols - 1) * step) / 2
        for r in range(rows):
            for col in range(cols):
                cx = x + off_x + col * step + (step / 2 if r % 2 else 0.0)
                if cx < x + w - step / 4:
                    items.append(Circle(cx, y + off_y + r * step, 0.45 * MM, style.color))
    return items


def _band_label(
    *,
    x: float,
    y: float,
    w: float,
    h: float,
    kind: PaperKind,
    label: str,
    size: float,
    measure: TextMeasure,
) -> list[PageItem]:
    style = _KIND_STYLE[kind]
    fitted = _fit_size(label, measure, w - 8 * MM, size, size * 0.6) or size * 0.6
    baseline = y + (h - fitted * 0.72) / 2
    if style.pattern == "solid":
        return [Text(x + w / 2, baseline, label, fitted, "center", WHITE)]
    text_w = measure(label, fitted)
    pad = fitted * 0.6
    plate = Rect(
        x + (w - text_w) / 2 - pad,
        y + h * 0.16,
        text_w + 2 * pad,
        h * 0.68,
        stroke=style.color,
        fill=WHITE,
        line_width=1.0,
    )
    return [plate, Text(x + w / 2, baseline, label, fitted, "center", style.color)]


@dataclass(frozen=True, slots=True)
class _Grid:
    cols: int
    rows: int


def _grid_shape(n: int, max_cols: int) -> _Grid:
    cols = min(n, max_cols)
    rows = math.ceil(n / cols)
    return _Grid(cols=math.ceil(n / rows), rows=rows)  # balance the rows


def _fit_name(
    name: str, measure: TextMeasure, m: _Metrics, cell_w: float, row_h: float
) -> list[tuple[str, float]]:
    """One or two lines for a name, each with its font size; raises if it cannot fit."""
    avail = cell_w - 2.5 * MM
    single = _fit_size(name, measure, avail, min(m.name_max, row_h / 1.35), m.name_min)
    if single >= 0.8 * m.name_max:
        return [(name, single)]
    # Two lines: split after a middle dot (minority names) if there is one, else in the middle.
    cut = name.find("·") + 1 if "·" in name[:-1] else (len(name) + 1) // 2
    parts = [name[:cut], name[cut:]]
    double = 0.0
    if len(name) > 1:
        size = min(m.name_max, row_h / 2.5)
        double = min(_fit_size(p, measure, avail, size, m.name_min) for p in parts)
    if double > single:
        return [(p, double) for p in parts]
    if single:
        return [(name, single)]
    raise LayoutOverflowError(
        zh=f"候选人姓名“{name}”过长，在此纸张上无法完整印出；请改用 A4 纸或减少每行人数。",
        en=f"candidate name {name!r} is too long for the cell on this paper size",
    )


def _grid_items(
    *,
    x0: float,
    top: float,
    cells: Sequence[str | None],
    grid: _Grid,
    cell_w: float,
    name_h: float,
    mark_h: float,
    labels: tuple[str, str],
    m: _Metrics,
    measure: TextMeasure,
) -> list[PageItem]:
    """Row pairs of name cells over mark cells; `None` cells are blank write-in cells."""
    items: list[PageItem] = []
    label_size = _fit_size(max(labels, key=len), measure, m.label_w - 2 * MM, m.label_text, 6)
    y = top
    for r in range(grid.rows):
        row_cells = cells[r * grid.cols : (r + 1) * grid.cols]
        pair_h = name_h + mark_h
        name_y = y - name_h
        mark_y = y - pair_h
        for label, ly, lh in ((labels[0], name_y, name_h), (labels[1], mark_y, mark_h)):
            items.append(Rect(x0, ly, m.label_w, lh, fill=LABEL_FILL))
            base = ly + (lh - label_size * 0.72) / 2
            items.append(Text(x0 + m.label_w / 2, base, label, label_size, "center"))
        for c, name in enumerate(row_cells):
            cx = x0 + m.label_w + c * cell_w
            items.append(Rect(cx, name_y, cell_w, name_h))
            items.append(Rect(cx, mark_y, cell_w, mark_h))
            if name is None:
                continue
            lines = _fit_name(name, measure, m, cell_w, name_h)
            lead = lines[0][1] * 1.18
            first = name_y + name_h / 2 + (len(lines) - 1) * lead / 2 - lines[0][1] * 0.36
            for i, (text, size) in enumerate(lines):
                items.append(Text(cx + cell_w / 2, first - i * lead, text, size, "center"))
        # A heavier outline around each row pair reads as one block to the voter.
        width = m.label_w + len(row_cells) * cell_w
        items.append(Rect(x0, mark_y, width, pair_h, line_width=1.4))
        y = mark_y
    return items


def layout_ballot(
    paper: BallotPaper,
    *,
    measure: TextMeasure,
    page_size: PageSize = PageSize.A4,
    qr_modules: int = 45,
) -> BallotPageSpec:
    """Lay out the static part of a ballot page and the QR slot (spec §7).

    Args:
        paper: the ballot description.
        measure: width in points of a string at a font size, from the renderer's font.
        page_size: A4 or A5.
        qr_modules: modules across the QR symbol without the quiet zone (45 for version 7).

    Raises:
        LayoutOverflowError: the candidates or a name do not fit even at the minimum sizes.

    Returns:
        The page spec.
    """
    m = _METRICS[page_size]
    width, height = page_size.width, page_size.height
    left, right = m.margin, width - m.margin
    content_w = right - left
    items: list[PageItem] = []

    # Title, then branch and term.
    title_size = _fit_size(paper.title, measure, content_w, m.title, m.title_min)
    if not title_size:
        raise LayoutOverflowError(zh="标题过长，无法在一行内印出。", en="title too long")
    y = height - m.margin - title_size
    items.append(Text(width / 2, y, paper.title, title_size, "center"))
    sub = f"选举单位：{paper.branch}　　届次：{paper.term}"
    sub_size = _fit_size(sub, measure, content_w, m.subtitle, 6) or 6.0
    y -= m.subtitle + 3.5 * MM
    items.append(Text(width / 2, y, sub, sub_size, "center", GREY))

    # The paper-kind band, the first thing a teller sorting the box sees.
    y -= 3 * MM + m.band_h
    items.extend(_band(left, y, content_w, m.band_h, paper.kind))
    items.extend(
        _band_label(
            x=left,
            y=y,
            w=content_w,
            h=m.band_h,
            kind=paper.kind,
            label=paper.kind_label,
            size=m.band_text,
            measure=measure,
        )
    )
    y -= m.seats_text + 4 * MM
    items.append(Text(width / 2, y, f"应选{paper.seats}名", m.seats_text, "center"))
    grid_top = y - 4 * MM

    # The QR sits alone in the bottom-right corner, the same place on every ballot of the stock.
    module = m.qr / qr_modules
    qr_total = m.qr + 8 * module  # 4-module quiet zone each side
    code_h = m.code_text + 2 * MM
    bottom = m.margin
    qr_x = right - qr_total + 4 * module
    slot = QrSlot(
        x=qr_x,
        y=bottom + code_h + 4 * module,
        size=m.qr,
        code_x=qr_x + m.qr / 2,
        code_y=bottom + 1 * MM,
        code_size=m.code_text,
    )
    qr_block_top = bottom + code_h + qr_total

    # Candidate grid and write-in grid share the cell width and left edge so columns line up.
    max_cols = max(1, int((content_w - m.label_w) // m.cell_w[0]))
    cand_grid = _grid_shape(len(paper.candidates), max_cols)
    write_grid = _grid_shape(paper.write_in_rows, max_cols)
    widest = max(cand_grid.cols, write_grid.cols)
    cell_w = min(m.cell_w[1], (content_w - m.label_w) / widest)
    grid_x = left + (content_w - (m.label_w + widest * cell_w)) / 2
    pairs = cand_grid.rows + write_grid.rows
    gap = 5 * MM
    pair_min = m.name_row[0] + m.mark_row[0]
    pair_max = m.name_row[1] + m.mark_row[1]

    # Two arrangements: instructions full width under the grids (reads in order, preferred), or,
    # when the grids need the room, instructions beside the QR.
    note_w = content_w - qr_total - 4 * MM
    below = _instruction_lines(measure, m.instr_text, content_w - 4 * MM, with_note=False)
    below_h = _lines_height(below) + 4 * MM
    avail_below = grid_top - qr_block_top - 3 * gap - below_h
    beside = _instruction_lines(measure, m.instr_text, note_w - 4 * MM, with_note=True)
    beside_h = _lines_height(beside) + 4 * MM
    beside_top = bottom + max(qr_total + code_h, beside_h)
    avail_beside = grid_top - beside_top - 2 * gap
    pair_below = min(pair_max, avail_below / pairs)
    pair_beside = min(pair_max, avail_beside / pairs)
    use_below = pair_below >= pair_min and pair_below >= pair_beside - 0.01
    pair_h = pair_below if use_below else pair_beside
    if pair_h < pair_min:
        raise LayoutOverflowError(
            zh=f"候选人（{len(paper.candidates)} 名）和另选人栏在此纸张上放不下，请改用 A4 纸。",
            en=f"{len(paper.candidates)} candidates and {paper.write_in_rows} write-in cells "
            f"do not fit on {page_size.name}",
        )
    t = (pair_h - pair_min) / (pair_max - pair_min)
    name_h = m.name_row[0] + t * (m.name_row[1] - m.name_row[0])
    mark_h = pair_h - name_h

    items.extend(
        _grid_items(
            x0=grid_x,
            top=grid_top,
            cells=paper.candidates,
            grid=cand_grid,
            labels=("候选人姓名", "表决符号"),
            cell_w=cell_w,
            name_h=name_h,
            mark_h=mark_h,
            m=m,
            measure=measure,
        )
    )
    write_top = grid_top - cand_grid.rows * pair_h - gap
    items.extend(
        _grid_items(
            x0=grid_x,
            top=write_top,
            cells=[None] * paper.write_in_rows,
            grid=write_grid,
            labels=("另选人姓名", "表决符号"),
            cell_w=cell_w,
            name_h=name_h,
            mark_h=mark_h,
            m=m,
            measure=measure,
        )
    )
    if use_below:
        top = write_top - write_grid.rows * pair_h - gap
        items.extend(_text_box(left, top, content_w, below_h, below))
        note_size = m.instr_text * 0.85
        notes = wrap_text(SECRECY_NOTE, measure, note_size, note_w)
        for i, line in enumerate(notes):
            y_line = bottom + 1 * MM + (len(notes) - 1 - i) * note_size * 1.45
            items.append(Text(left, y_line, line, note_size, "left", GREY))
    else:
        items.extend(_text_box(left, beside_top, note_w, beside_h, beside))
    return BallotPageSpec(page=PageSpec(width=width, height=height, items=tuple(items)), qr=slot)


_Lines = list[tuple[str, float, Color]]


def _instruction_lines(
    measure: TextMeasure, size: float, width: float, *, with_note: bool
) -> _Lines:
    lines: _Lines = [("填写说明", size * 1.15, BLACK)]
    for i, sentence in enumerate(INSTRUCTIONS):
        wrapped = wrap_text(f"{NUMERALS[i]}、{sentence}", measure, size, width)
        lines.extend((line, size, BLACK) for line in wrapped)
    if with_note:
        lines.extend(
            (ln, size * 0.85, GREY) for ln in wrap_text(SECRECY_NOTE, measure, size * 0.85, width)
        )
    return lines


def _lines_height(lines: _Lines) -> float:
    return sum(size * 1.45 for _, size, _ in lines)


def _text_box(x: float, top: float, w: float, h: float, lines: _Lines) -> list[PageItem]:
    items: list[PageItem] = [Rect(x, top - h, w, h, stroke=GREY, line_width=0.6)]
    y = top - 2 * MM
    for text, size, color in lines:
        y -= size * 1.45
        items.append(Text(x + 2 * MM, y + size * 0.3, text, size, "left", color))
    return items


# --- tally sheet --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Column:
    title: str
    width: float
    na_for_write_in: bool = False


_TALLY_COLUMNS: Final = (
    _Column("序号", 10 * MM),
    _Column("姓名", 32 * MM),
    _Column("赞成（画“正”字）", 62 * MM),
    _Column("赞成票数", 18 * MM),
    _Column("不赞成（画“正”字）", 50 * MM, na_for_write_in=True),
    _Column("不赞成票数", 20 * MM, na_for_write_in=True),
    _Column("弃权（画“正”字）", 50 * MM, na_for_write_in=True),
    _Column("弃权票数", 18 * MM, na_for_write_in=True),
)
TALLY_PAGE: Final = (297 * MM, 210 * MM)  # A4 landscape: the 正字 areas need the width
_TALLY_MIN_WRITE_IN: Final = 3


@dataclass(frozen=True, slots=True)
class _TallyRow:
    number: str
    name: str
    write_in: bool = False


def layout_tally_sheet(paper: BallotPaper, *, measure: TextMeasure) -> tuple[PageSpec, ...]:
    """Lay out the tally sheet (计票单) on A4 landscape, over as many pages as needed (spec §8).

    Every page carries the header, the page number and the signature lines; the totals
    (issued, returned, valid, invalid) are on the last page.
    """
    width, height = TALLY_PAGE
    margin = 12 * MM
    left = margin
    table_w = sum(c.width for c in _TALLY_COLUMNS)
    x0 = left + (width - 2 * margin - table_w) / 2
    rows = [_TallyRow(str(i + 1), name) for i, name in enumerate(paper.candidates)]
    n_write = max(paper.write_in_rows, _TALLY_MIN_WRITE_IN)
    rows += [_TallyRow(f"另{i + 1}", "", write_in=True) for i in range(n_write)]

    header_h = 9 * MM
    row_h = 9.5 * MM
    top_block = 27 * MM
    sig_block = 22 * MM
    totals_block = 20 * MM
    avail_last = height - 2 * margin - top_block - sig_block - totals_block - header_h
    avail_other = height - 2 * margin - top_block - sig_block - header_h
    per_page = int(avail_other // row_h)
    per_last = int(avail_last // row_h)
    # Fewest pages, rows spread evenly, the last page leaving room for the totals.
    n_pages = 1
    while len(rows) > (n_pages - 1) * per_page + per_last:
        n_pages += 1
    per = math.ceil(len(rows) / n_pages)
    while len(rows) - per * (n_pages - 1) > per_last:
        per += 1
    chunks = [rows[i * per : (i + 1) * per] for i in range(n_pages - 1)]
    chunks.append(rows[(n_pages - 1) * per :])

    pages: list[PageSpec] = []
    for page_no, chunk in enumerate(chunks, start=1):
        items: list[PageItem] = []
        y = height - margin - 16
        title_size = _fit_size(paper.title, measure, width - 2 * margin, 16, 10) or 10.0
        items.append(Text(width / 2, y, paper.title, title_size, "center"))
        y -= 8 * MM
        items.append(Text(width / 2, y, f"{paper.kind_label}　计票单", 14, "center"))
        y -= 7 * MM
        info = f"选举单位：{paper.branch}　　届次：{paper.term}　　应选{paper.seats}名"
        items.append(Text(x0, y, info, 10))
        items.append(Text(x0 + table_w, y, f"第 {page_no} 页　共 {len(chunks)} 页", 10, "right"))
        y = height - margin - top_block

        # Header row.
        x = x0
        for col in _TALLY_COLUMNS:
            items.append(Rect(x, y - header_h, col.width, header_h, fill=LABEL_FILL))
            size = _fit_size(col.title, measure, col.width - 2 * MM, 9.5, 6) or 6.0
            items.append(Text(x + col.width / 2, y - header_h / 2 - 3.2, col.title, size, "center"))
            x += col.width
        y -= header_h
        for row in chunk:
            x = x0
            for i, col in enumerate(_TALLY_COLUMNS):
                na = row.write_in and col.na_for_write_in
                items.append(Rect(x, y - row_h, col.width, row_h, fill=NA_FILL if na else None))
                text = (row.number, row.name)[i] if i < 2 else ""
                if text:
                    fitted = _fit_size(text, measure, col.width - 2 * MM, 12, 6)
                    if not fitted:
                        raise LayoutOverflowError(
                            zh=f"姓名“{text}”过长，计票单上放不下。",
                            en=f"name {text!r} does not fit on the tally sheet",
                        )
                    items.append(Text(x + col.width / 2, y - row_h / 2 - 4, text, fitted, "center"))
                x += col.width
            y -= row_h
        items.append(Rect(x0, y, table_w, height - margin - top_block - y, line_width=1.4))
        note = "另选人：在“姓名”栏写上被另选人的姓名，只统计赞成票。"
        items.append(Text(x0, y - 5 * MM, note, 9, "left", GREY))

        if page_no == len(chunks):
            y -= totals_block
            labels = ("发出选票", "收回选票", "有效票", "无效票")
            box_w = table_w / len(labels)
            for i, label in enumerate(labels):
                bx = x0 + i * box_w
                items.append(Rect(bx, y + 2 * MM, box_w, 9 * MM))
                items.append(Text(bx + 3 * MM, y + 5 * MM, label, 11))
                items.append(Text(bx + box_w - 4 * MM, y + 5 * MM, "张", 11, "right"))
        sig_y = margin + 6 * MM
        third = table_w / 3
        for i, label in enumerate(("监票人（签名）：", "计票人（签名）：", "日期：")):
            sx = x0 + i * third
            items.append(Text(sx, sig_y, label, 11))
            lx = sx + measure(label, 11) + 1 * MM
            items.append(Line(lx, sig_y - 1.5, sx + third - 6 * MM, sig_y - 1.5, width=0.6))
        pages.append(PageSpec(width=width, height=height, items=tuple(items)))
    return tuple(pages)
