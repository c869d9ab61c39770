"""The publicity notice (公示) of an election result, as an A4 PDF to post in the village.

One page in the usual case: the title "关于……换届选举结果的公示", the opening paragraph with
the elected members of each post, each with the round that elected them and that round's approvals
(RULES A13; a runoff winner also with the round in which they passed the threshold), then every
round of each post in the order held: its ballots, and for a counted round a horizontal bar chart of
the approvals of every candidate (bars of those it elected in red, its own threshold as a dashed
line "当选票数线 N 票" that no label crosses; a runoff says it has none), while a void round or one
not held for want of a quorum says why it did not count;
the publicity period and where objections go, the number of remote ballots when there are any,
the final checkpoint's root hash in groups and as a QR code (so anyone can compare it with the
town committee's verified copy of the bundle, spec/bundle.md §5), and the work group's signature
block. Ballot-level data never appears on the notice.

The page is laid out first (pure: `layout_notice`, text widths from the font), every character
is checked against the font, and only then is the file written, atomically, through the helpers
of `ballot_printer.render`. The content (`Notice` and its parts) and its validation live in
`ballot_printer.notice_model` and are re-exported here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import qrcode
from reportlab.pdfbase.ttfonts import TTFont

from ballot_printer.errors import LayoutOverflowError
from ballot_printer.notice_model import (
    PURPOSES_ZH,
    ROUND_COUNTED,
    ROUND_QUORUM_FAILED,
    ROUND_VOID,
    InvalidNoticeError,
    Notice,
    NoticeCandidate,
    NoticeElected,
    NoticePost,
    NoticeRound,
    format_date_zh,
    group_hex,
    notice_strings,
    validate_notice,
)
from ballot_printer.page import (
    MM,
    NO_LINE_END,
    NO_LINE_START,
    NUMERALS,
    Color,
    Line,
    PageItem,
    PageSize,
    Rect,
    Text,
    TextMeasure,
)
from ballot_printer.render import (
    DEFAULT_FONT_PATH,
    check_glyphs,
    draw_items,
    draw_qr_matrix,
    load_font,
    new_pdf_canvas,
    text_measure,
    write_atomically,
)

__all__ = [
    "InvalidNoticeError",
    "Notice",
    "NoticeCandidate",
    "NoticeElected",
    "NoticePage",
    "NoticePost",
    "NoticeRound",
    "format_date_zh",
    "group_hex",
    "layout_notice",
    "notice_strings",
    "render_notice_pdf",
]


# --- presentation helpers -----------------------------------------------------------------------


def _bar_label(c: NoticeCandidate) -> str:
    return f"{c.approvals}票" + (" 当选" if c.elected else " 票数相等" if c.tied else "")


def _issuer(branch: str) -> str:
    """中共青山村支部委员会 -> 中共青山村支部选举工作组."""
    stem = branch.removesuffix("委员会") or branch
    return f"{stem}选举工作组"


# --- layout -------------------------------------------------------------------------------------

_PAGE: Final = PageSize.A4
_MARGIN_X: Final = 25 * MM
_MARGIN_TOP: Final = 20 * MM
_MARGIN_BOTTOM: Final = 16 * MM

_TITLE_SIZE: Final = 20.0
_HEAD_SIZE: Final = 13.5
_BODY_SIZE: Final = 12.0
_BODY_LEAD: Final = 20.0
_SMALL_SIZE: Final = 9.0
_HASH_SIZE: Final = 12.5
_QR_SIZE: Final = 28 * MM

_BLACK: Final[Color] = (0.0, 0.0, 0.0)
_GREY: Final[Color] = (0.38, 0.38, 0.38)
_RED: Final[Color] = (0.72, 0.07, 0.07)
_BAR_ELECTED: Final[Color] = (0.76, 0.11, 0.11)
_BAR_OTHER: Final[Color] = (0.74, 0.74, 0.74)
_GRID: Final[Color] = (0.86, 0.86, 0.86)
_WHITE: Final[Color] = (1.0, 1.0, 1.0)

_ROW: Final = 16.0  # chart row pitch
_BAR_H: Final = 11.0
_SIGNATURE_H: Final = 44.0


@dataclass(frozen=True, slots=True)
class NoticePage:
    """One laid-out page: items in the main font, the hash lines in the mono font, the QR slot."""

    items: tuple[PageItem, ...]
    mono: tuple[Text, ...]
    qr: tuple[float, float, float] | None  # lower-left x, y, side
    # Each chart's threshold line as (x, top y, bottom y): no label may cross it.
    thresholds: tuple[tuple[float, float, float], ...] = ()


class _Flow:
    """Top-to-bottom placement of blocks with page breaks between blocks."""

    def __init__(self) -> None:
        self.pages: list[tuple[list[PageItem], list[Text], list[tuple[float, float, float]]]] = []
        self.thresholds: list[list[tuple[float, float, float]]] = []
        self.y = 0.0
        self.new_page()

    @property
    def items(self) -> list[PageItem]:
        return self.pages[-1][0]

    @property
    def mono(self) -> list[Text]:
        return self.pages[-1][1]

    def new_page(self) -> None:
        self.pages.append(([], [], []))
        self.thresholds.append([])
        self.y = _PAGE.height - _MARGIN_TOP

    def need(self, height: float) -> None:
        if height > _PAGE.height - _MARGIN_TOP - _MARGIN_BOTTOM:
            raise LayoutOverflowError(
                zh="公示内容过多，单个部分超出一页（候选人过多或文字过长）。",
                en=f"a notice block of {height:.0f} pt does not fit on one page",
            )
        if self.y - height < _MARGIN_BOTTOM:
            self.new_page()


_TOKEN: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9\-./:@_]*|.", re.DOTALL)


def _tokens(text: str) -> list[str]:
    """Unbreakable pieces: one CJK character, or a run of Latin letters, digits and the like.

    Closing punctuation sticks to the piece before it and opening punctuation to the piece
    after it, so neither is ever alone at the start (避头) or end (避尾) of a line.
    """
    out: list[str] = []
    glue_next = False
    for piece in _TOKEN.findall(text):
        if out and (glue_next or piece[0] in NO_LINE_START):
            out[-1] += piece
        else:
            out.append(piece)
        glue_next = piece[-1] in NO_LINE_END
    return out


def _wrap(
    pieces: list[str], measure: TextMeasure, size: float, first: float, rest: float | None = None
) -> list[str]:
    """Fill lines with unbreakable pieces: `first` is the first line's width, `rest` the others'."""
    lines: list[str] = []
    current = ""
    for piece in pieces:
        width = first if not lines else (rest if rest is not None else first)
        if current and measure(current + piece, size) > width:
            lines.append(current)
            current = piece.lstrip()
        else:
            current += piece
    if current:
        lines.append(current)
    return lines


def _paragraph(
    flow: _Flow,
    text: str | list[str],
    measure: TextMeasure,
    *,
    size: float = _BODY_SIZE,
    lead: float = _BODY_LEAD,
    indent: float = 2.0,
    hanging: float = 0.0,
    width: float | None = None,
    color: Color = _BLACK,
) -> None:
    """Wrapped text: the first line indented by `indent` em, the others by `hanging` em.

    `text` is a string or a list of unbreakable pieces.
    """
    full = width if width is not None else _PAGE.width - 2 * _MARGIN_X
    pieces = _tokens(text) if isinstance(text, str) else text
    lines = _wrap(pieces, measure, size, full - indent * size, full - hanging * size)
    for i, line in enumerate(lines):
        flow.need(lead)
        flow.y -= lead
        dx = (indent if i == 0 else hanging) * size
        flow.items.append(Text(_MARGIN_X + dx, flow.y + 0.28 * lead, line, size, color=color))


def _heading(
    flow: _Flow, text: str, legend: list[PageItem] | None = None, *, keep: float = 2 * _BODY_LEAD
) -> None:
    """A section heading, kept on the same page as the `keep` points that follow it."""
    flow.need(8 + _BODY_LEAD + keep)
    flow.y -= 8
    flow.y -= _BODY_LEAD
    baseline = flow.y + 0.28 * _BODY_LEAD
    flow.items.append(Text(_MARGIN_X, baseline, text, _HEAD_SIZE))
    if legend:
        flow.items.extend(_shift(legend, 0, baseline))


def _shift(items: list[PageItem], dx: float, dy: float) -> list[PageItem]:
    out: list[PageItem] = []
    for it in items:
        if isinstance(it, Text):
            out.append(Text(it.x + dx, it.y + dy, it.text, it.size, it.align, it.color))
        elif isinstance(it, Rect):
            out.append(Rect(it.x + dx, it.y + dy, it.w, it.h, it.stroke, it.fill, it.line_width))
        elif isinstance(it, Line):
            out.append(Line(it.x1 + dx, it.y1 + dy, it.x2 + dx, it.y2 + dy, it.width, it.color))
    return out


def _dashed(x: float, y1: float, y2: float, color: Color, width: float = 1.0) -> list[PageItem]:
    """A vertical dashed line from y1 down to y2 (y1 > y2), as short segments."""
    out: list[PageItem] = []
    dash, gap = 3.5, 2.5
    y = y1
    while y > y2:
        out.append(Line(x, y, x, max(y - dash, y2), width=width, color=color))
        y -= dash + gap
    return out


def _legend(measure: TextMeasure) -> list[PageItem]:
    """Right-aligned legend at baseline 0: ■ 当选  ■ 未当选  ┆ 当选票数线."""
    size = 9.5
    parts: list[tuple[str, str]] = [("bar", "当选"), ("grey", "未当选"), ("line", "当选票数线")]
    widths = [10 + 3 + measure(t, size) for _, t in parts]
    gap = 12.0
    x = _PAGE.width - _MARGIN_X - (sum(widths) + gap * (len(parts) - 1))
    out: list[PageItem] = []
    for (kind, label), w in zip(parts, widths, strict=True):
        if kind == "line":
            out.extend(_dashed(x + 5, 9, -2, _BLACK, 1.0))
        else:
            fill = _BAR_ELECTED if kind == "bar" else _BAR_OTHER
            out.append(Rect(x, -1, 10, 8, stroke=None, fill=fill))
        out.append(Text(x + 13, 0, label, size, color=_GREY))
        x += w + gap
    return out


def _nice_step(scale: int) -> int:
    """A tick step of 1, 2 or 5 x 10^k giving at most 6 intervals."""
    k = 1
    while True:
        for m in (1, 2, 5):
            if scale / (m * k) <= 6:
                return m * k
        k *= 10


def _chart_height(r: NoticeRound) -> float:
    return 16 + _ROW * len(r.candidates) + 14


_NAME_SIZE: Final = 11.0
_COUNT_SIZE: Final = 10.0


def _chart_columns(posts: tuple[NoticePost, ...], measure: TextMeasure) -> tuple[float, float]:
    """The name column and count label widths shared by every chart, so the bars line up."""
    cands = [c for p in posts for r in p.rounds for c in r.candidates]
    widest = max((measure(c.name, _NAME_SIZE) for c in cands), default=0.0)
    name_w = min(max(widest, 3 * _NAME_SIZE), 8.5 * _NAME_SIZE) + 10
    most = max((c.approvals for c in cands), default=0)
    widest_label = max((measure(_bar_label(c), _COUNT_SIZE) for c in cands), default=0.0)
    label_w = max(measure(f"{max(most, 10)}票 当选", _COUNT_SIZE), widest_label) + 8
    return name_w, label_w


_LINE_GAP: Final = 3.0  # the least space between a label's box and the threshold line


def _chart(
    r: NoticeRound, measure: TextMeasure, top: float, columns: tuple[float, float]
) -> tuple[list[PageItem], float, tuple[float, float, float] | None]:
    """A horizontal bar chart of the approvals of one counted round, its top edge at `top`.

    Returns the items, the height, and the threshold line (x, top, bottom) if the round has one.
    A count label that would cross the threshold line is set just beyond it.
    """
    x = _MARGIN_X + 2 * _BODY_SIZE
    width = _PAGE.width - _MARGIN_X - x
    name_size = _NAME_SIZE
    count_size = _COUNT_SIZE
    name_w, label_w = columns
    most = max(c.approvals for c in r.candidates)
    bar_x = x + name_w
    bar_w = width - name_w - label_w
    # The axis runs to the base (or the valid ballots, in a runoff), so rounds compare at a glance.
    scale = max(r.base, r.valid_ballots, most, r.threshold_minimum, 1)
    head = 16.0
    rows_top = top - head
    rows_bottom = rows_top - _ROW * len(r.candidates)
    height = _chart_height(r)

    def xv(v: float) -> float:
        return bar_x + bar_w * v / scale

    line_x = xv(r.threshold_minimum) if r.threshold_minimum > 0 else None
    items: list[PageItem] = []
    step = _nice_step(scale)
    for tick in range(0, scale + 1, step):
        tx = xv(tick)
        if tick:
            items.append(Line(tx, rows_top, tx, rows_bottom, width=0.5, color=_GRID))
        items.append(Text(tx, rows_bottom - 10, str(tick), 8, "center", _GREY))
    if scale % step:
        items.append(Line(xv(scale), rows_top, xv(scale), rows_bottom, width=0.5, color=_GRID))
        items.append(Text(xv(scale), rows_bottom - 10, str(scale), 8, "center", _GREY))
    labels: list[PageItem] = []
    for i, cand in enumerate(r.candidates):
        mid = rows_top - _ROW * (i + 0.5)
        size = name_size
        while measure(cand.name, size) > name_w - 10 and size > 6:
            size -= 0.5
        if measure(cand.name, size) > name_w - 10:
            raise LayoutOverflowError(
                zh=f"姓名“{cand.name}”过长，无法排入得票图。",
                en=f"the name {cand.name!r} is too long for the chart",
            )
        items.append(Text(bar_x - 6, mid - 0.36 * size, cand.name, size, "right"))
        fill = _BAR_ELECTED if cand.elected else _BAR_OTHER
        w = bar_w * cand.approvals / scale
        if w > 0:
            items.append(Rect(bar_x, mid - _BAR_H / 2, w, _BAR_H, stroke=None, fill=fill))
        label = _bar_label(cand)
        lx = bar_x + w + 4
        lw = measure(label, count_size)
        if line_x is not None and lx - 1.5 - _LINE_GAP < line_x < lx + lw + 1.5 + _LINE_GAP:
            lx = line_x + 1.5 + _LINE_GAP  # the label goes past the line, never across it
        labels.append(Rect(lx - 1.5, mid - 5.5, lw + 3, 11, stroke=None, fill=_WHITE))
        labels.append(
            Text(
                lx,
                mid - 0.36 * count_size,
                label,
                count_size,
                color=_RED if cand.elected else _BLACK,
            )
        )
    items.append(Line(bar_x, rows_top + 2, bar_x, rows_bottom, width=0.8, color=_BLACK))
    items.extend(labels)
    line: tuple[float, float, float] | None = None
    if line_x is not None:
        items.extend(_dashed(line_x, rows_top + 3, rows_bottom, _BLACK, 1.1))
        text = f"当选票数线 {r.threshold_minimum} 票"
        half = measure(text, 9.5) / 2
        cx = min(max(line_x, bar_x + half), x + width - half)
        items.append(Text(cx, rows_top + 6, text, 9.5, "center"))
        line = (line_x, rows_top + 3, rows_bottom)
    else:
        items.append(Text(bar_x, rows_top + 6, "本轮不设当选票数线", 9.5, color=_GREY))
    return items, height, line


def _round_caption(r: NoticeRound, prefix: str = "") -> str:
    """What a round was and why it counted or not, in one sentence or two.

    `prefix` (the post and its seats) stands for the round's title when the post had one round.
    """
    head = (prefix or f"{r.title_zh}，应选{r.seats}名") + "："
    if r.status == ROUND_QUORUM_FAILED:
        return (
            head + f"应到{r.expected}人，实到{r.present}人，未达到规定的到会人数，会议无效，"
            "本轮未发选票、未进行投票（不计入选举结果）。"
        )
    ballots = f"发出选票{r.issued}张，收回{r.returned}张"
    if r.remote_ballots:
        ballots += f"，另计入远程投票{r.remote_ballots}张"
    if r.status == ROUND_VOID:
        return (
            head + f"{ballots}，收回选票多于发出选票，本轮选举无效，所投选票不予统计"
            "（不计入选举结果），须用新选票重新投票。"
        )
    text = head + f"{ballots}，有效票{r.valid_ballots}张，无效票{r.invalid_ballots}张。"
    if r.dropped:
        text += (
            "、".join(r.dropped) + "不能当选本职（未当选委员，或已当选书记），退出本轮计票，"
            "所得赞成票不计给任何人。"
        )
    if r.purpose == "runoff":
        return text + "本轮为票数相等候选人的再次投票，不适用当选票数线，按得票多少确定当选人。"
    if r.threshold_minimum > 0:
        base = f"以{r.base_label_zh}{r.base}人为基数"
        return text + f"{base}，得票不少于{r.threshold_minimum}票当选。"
    return text + "本轮不设当选票数线，按得票多少确定当选人。"


def _elected_piece(post: NoticePost, e: NoticeElected, many: bool) -> str:
    """丁建国（20票） or, when the post had several rounds, 刘海燕（第2轮另行选举，15票）."""
    if not many:
        return f"{e.name}（{e.approvals}票）"
    r = next(r for r in post.rounds if r.number == e.round)
    where = f"第{e.round}轮" + (PURPOSES_ZH[r.purpose] or ("重新投票" if r.revote_of else ""))
    text = f"{e.name}（{where}，{e.approvals}票"
    if e.passed_round != e.round:
        text += f"；第{e.passed_round}轮得{e.passed_approvals}票，已达当选票数线"
    return text + "）"


def layout_notice(
    notice: Notice, *, measure: TextMeasure, mono_measure: TextMeasure
) -> tuple[NoticePage, ...]:
    """Lay the notice out on A4 pages (pure; text widths from `measure`).

    Raises:
        InvalidNoticeError: the notice contradicts itself.
        LayoutOverflowError: one block (a chart, the hash block) is taller than a page.
    """
    checkpoint = validate_notice(notice)
    flow = _Flow()
    content_w = _PAGE.width - 2 * _MARGIN_X

    # Title, centred; shrunk (down to 16 pt), then wrapped if still too long.
    title = f"关于{notice.title}结果的公示"
    size = _TITLE_SIZE
    while measure(title, size) > content_w and size > 16:
        size -= 0.5
    for line in _wrap(_tokens(title), measure, size, content_w):
        flow.y -= size * 1.45
        flow.items.append(Text(_PAGE.width / 2, flow.y, line, size, "center"))
    flow.y -= 12

    _paragraph(
        flow,
        f"{format_date_zh(notice.election_date)}，{notice.branch}召开党员大会，"
        f"进行{notice.term}换届选举。经选举，下列同志当选，现将选举结果公示如下：",
        measure,
    )
    for post in notice.posts:
        seats = f"应选{post.seats}名"
        if len(post.elected) != post.seats:
            seats += f"，当选{len(post.elected)}名"
        pieces = [f"{post.label_zh}（{seats}）："]
        many = len(post.rounds) > 1
        pieces += [
            _elected_piece(post, e, many) + ("、" if i < len(post.elected) - 1 else "")
            for i, e in enumerate(post.elected)
        ] or ["无人当选"]
        _paragraph(flow, pieces, measure, indent=2.0, hanging=4.0)

    # 一、得票情况: every round of each post, a chart with its own threshold line per counted round.
    cap_size = 10.0
    columns = _chart_columns(notice.posts, measure)
    cap_w = content_w - 2 * _BODY_SIZE
    blocks: list[tuple[str | None, float, NoticeRound, list[str], float]] = []
    for post in notice.posts:
        alone = len(post.rounds) == 1
        for i, r in enumerate(post.rounds):
            caption = _round_caption(r, f"{post.label_zh}（应选{post.seats}名）" if alone else "")
            cap_lines = _wrap(_tokens(caption), measure, cap_size, cap_w)
            h = len(cap_lines) * 14 + 4.0
            if r.status == ROUND_COUNTED:
                h += _chart_height(r)
            head = None
            if i == 0 and not alone:
                held = sum(1 for x in post.rounds if x.status != ROUND_QUORUM_FAILED)
                head = f"{post.label_zh}（应选{post.seats}名，共进行{held}轮投票）"
            gap = 5.0 if i == 0 and post is not notice.posts[0] else 0.0
            blocks.append((head, gap, r, cap_lines, gap + h + (_BODY_LEAD + 2 if head else 0)))
    section = 0
    _heading(flow, f"{NUMERALS[section]}、得票情况", _legend(measure), keep=blocks[0][4])
    section += 1
    for head, gap, r, cap_lines, block_h in blocks:
        flow.need(block_h)
        if gap:
            flow.y -= gap
        if head is not None:
            flow.y -= _BODY_LEAD
            flow.items.append(Text(_MARGIN_X + _BODY_SIZE, flow.y + 6, head, _BODY_SIZE))
            flow.y -= 2
        for line in cap_lines:
            flow.y -= 14
            flow.items.append(Text(_MARGIN_X + 2 * _BODY_SIZE, flow.y + 4, line, cap_size))
        flow.y -= 4
        if r.status == ROUND_COUNTED:
            items, height, threshold = _chart(r, measure, flow.y, columns)
            flow.items.extend(items)
            if threshold is not None:
                flow.thresholds[-1].append(threshold)
            flow.y -= height + 2
        else:
            flow.y -= 4

    # 二、公示期限及意见反映.
    _heading(flow, f"{NUMERALS[section]}、公示期限及意见反映")
    section += 1
    period = (
        f"公示期：{format_date_zh(notice.publicity_start)}至"
        f"{format_date_zh(notice.publicity_end)}（{notice.working_days}个工作日）。"
    )
    _paragraph(flow, period, measure)
    _paragraph(
        flow,
        f"公示期间，党员群众对当选人员如有意见，可向{notice.objections_to}反映。"
        "反映问题应实事求是，提倡署真实姓名。",
        measure,
    )
    if notice.remote_ballots > 0:
        _paragraph(flow, f"本次选举结果已计入经批准的远程投票{notice.remote_ballots}张。", measure)

    # 三、选举记录校验码: explanation and the hash in groups on the left, the QR on the right.
    groups = group_hex(notice.root_hash_hex)
    hash_lines = [" ".join(groups[i : i + 8]) for i in range(0, len(groups), 8)]
    left_w = content_w - _QR_SIZE - 18
    explain = _wrap(
        _tokens(
            "下列校验码是本次选举全过程记录最终检查点的根哈希值（SHA-256），右侧二维码内容与之"
            f"相同。任何人均可将其与{notice.town}存档的核验副本比对，两者一致即表明本公示所依据"
            "的选举记录未被改动。"
        ),
        measure,
        10.5,
        left_w - 2 * 10.5,
        left_w,
    )
    hash_lead = 18.0
    box_h = len(hash_lines) * hash_lead + 8
    block_h = 2 + max(len(explain) * 16 + 6 + box_h + 11, 4 + _QR_SIZE + 11)
    # The signature block stays on the page of the hash: never a signature page alone.
    _heading(flow, f"{NUMERALS[section]}、选举记录校验码", keep=block_h + _SIGNATURE_H)
    flow.need(block_h + _SIGNATURE_H)
    top = flow.y - 2
    y = top
    for i, line in enumerate(explain):
        y -= 16
        flow.items.append(Text(_MARGIN_X + (21 if i == 0 else 0), y + 4.5, line, 10.5))
    y -= 6
    hash_x = _MARGIN_X + 10
    box_w = max(mono_measure(line, _HASH_SIZE) for line in hash_lines) + 20
    flow.items.append(Rect(_MARGIN_X, y - box_h, box_w, box_h, stroke=_GREY, line_width=0.6))
    for i, line in enumerate(hash_lines):
        flow.mono.append(Text(hash_x, y - 4 - (i + 1) * hash_lead + 5, line, _HASH_SIZE))
    y -= box_h + 11
    detail = f"选举编号 {checkpoint.election_id[:16]}…　检查点记录 {checkpoint.size} 条"
    flow.items.append(Text(_MARGIN_X, y, detail, _SMALL_SIZE, color=_GREY))
    qr_x = _PAGE.width - _MARGIN_X - _QR_SIZE
    qr_y = top - 4 - _QR_SIZE
    flow.items.append(
        Text(qr_x + _QR_SIZE / 2, qr_y - 11, "扫码核对校验码", _SMALL_SIZE, "center", _GREY)
    )
    flow.pages[-1][2].append((qr_x, qr_y, _QR_SIZE))
    flow.y = min(y, qr_y - 11)

    # Signature block, right-aligned, dated on the first day of publicity.
    flow.need(_SIGNATURE_H)
    flow.y -= 22
    issuer = _issuer(notice.branch)
    right = _PAGE.width - _MARGIN_X
    issued = format_date_zh(notice.publicity_start)
    flow.items.append(Text(right, flow.y, issuer, 12.5, "right"))
    flow.y -= 22
    width = max(measure(issuer, 12.5), measure(issued, 12.5))
    flow.items.append(Text(right - width / 2, flow.y, issued, 12.5, "center"))

    pages: list[NoticePage] = []
    total = len(flow.pages)
    for n, ((items, mono, qrs), lines) in enumerate(
        zip(flow.pages, flow.thresholds, strict=True), start=1
    ):
        if total > 1:
            footer = f"第{n}页　共{total}页"
            items.append(Text(_PAGE.width / 2, _MARGIN_BOTTOM / 2, footer, 9, "center", _GREY))
        pages.append(NoticePage(tuple(items), tuple(mono), qrs[0] if qrs else None, tuple(lines)))
    return tuple(pages)


# --- rendering ----------------------------------------------------------------------------------


def _hash_qr(text: str) -> tuple[tuple[bool, ...], ...]:
    q = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=0)
    q.add_data(text, optimize=0)  # one byte-mode segment: the lowercase hex exactly as printed
    q.make(fit=True)
    return tuple(tuple(bool(v) for v in row) for row in q.get_matrix())


def _mono_font(font_path: Path, main: TTFont) -> TTFont:
    # WenQuanYi Micro Hei's subfont 1 is its monospaced face; another font is used as it is.
    return load_font(font_path, 1) if Path(font_path) == DEFAULT_FONT_PATH else main


def render_notice_pdf(
    notice: Notice, out_path: Path | str, *, font_path: Path = DEFAULT_FONT_PATH
) -> Path:
    """Write the publicity notice as an A4 PDF (replaced atomically).

    Raises:
        InvalidNoticeError: the notice contradicts itself (elected list, hash, dates).
        FontError: the font cannot be loaded.
        MissingGlyphError: a character has no glyph in the font (nothing is written).
        LayoutOverflowError: a block does not fit on a page.
        OutputError: the file cannot be written.

    Returns:
        The path written.
    """
    font = load_font(Path(font_path))
    mono = _mono_font(Path(font_path), font)
    validate_notice(notice)
    check_glyphs(font, notice_strings(notice))
    pages = layout_notice(notice, measure=text_measure(font), mono_measure=text_measure(mono))
    for page in pages:
        check_glyphs(font, (("公示文字", t.text) for t in page.items if isinstance(t, Text)))
        check_glyphs(mono, (("校验码", t.text) for t in page.mono))
    matrix = _hash_qr(notice.root_hash_hex)

    def write(fh: Any) -> None:
        c = new_pdf_canvas(fh, (_PAGE.width, _PAGE.height), f"关于{notice.title}结果的公示")
        c.setAuthor(_issuer(notice.branch))
        c.setSubject(f"root {notice.root_hash_hex}")
        for page in pages:
            draw_items(c, page.items, font.fontName)
            draw_items(c, page.mono, mono.fontName)
            if page.qr is not None:
                draw_qr_matrix(c, matrix, *page.qr)
            c.showPage()
        c.save()

    return write_atomically(Path(out_path), write)
