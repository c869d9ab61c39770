"""The town report PDF: every branch's election at a glance, for the town committee (issue 9).

A4 landscape table (branch, E, present, turnout, rounds, elected secretary, committee, verifier
verdict, publicity), the town plan's shares, then every branch's elected persons with the round that
elected them and their approvals in that round, then (when given) the casework pages: objections and
reports per branch (spec/procedure.md RP-13.2, :mod:`ballot_printer.town_casework`). A branch
whose election bundle failed the verifier shows its failing clauses and no number (RP-13.2).
Chinese by default, English with ``lang="en"``. Embedded CJK font, glyph check, atomic write.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.units import mm
from reportlab.pdfbase.pdfmetrics import stringWidth

from ballot_printer.render import (
    DEFAULT_FONT_PATH,
    check_glyphs,
    load_font,
    new_pdf_canvas,
    write_atomically,
)
from ballot_printer.town_casework import (
    TownCaseRow,
    TownCases,
    casework_fields,
    casework_pages,
    draw_casework_pages,
)

__all__ = [
    "TownCaseRow",
    "TownCases",
    "TownElected",
    "TownReport",
    "TownRow",
    "render_town_report",
]

_TEXT: Final[Mapping[str, Mapping[str, str]]] = {
    "zh": {
        "page": "{town}　第 {p} / {total} 页",
        "pass": "通过",
        "fail": "未通过",
        "shares": "全镇情况（镇换届实施方案要求）",
        "share": "{label}：{value}",
        "elected": "各支部当选人员（当选轮次及该轮得票）",
        "person": "{name}（第{round}轮，{votes}票）",
        "post": "{post}：",
        "sep": "、",
        "failed": "选举结果包未通过核验（verifier verify：{clauses}），不显示任何数字",
        "none": "—",
    },
    "en": {
        "page": "{town}   page {p} / {total}",
        "pass": "pass",
        "fail": "FAIL",
        "shares": "Town figures (the town plan's targets)",
        "share": "{label}: {value}",
        "elected": "Elected per branch (the round that elected them, its approvals)",
        "person": "{name} (round {round}, {votes} votes)",
        "post": "{post}: ",
        "sep": ", ",
        "failed": "the election bundle failed verifier verify ({clauses}): no figures shown",
        "none": "-",
    },
}
_COLUMNS: Final[Mapping[str, tuple[str, ...]]] = {
    "zh": ("党支部", "应到", "实到", "到会率", "轮次", "书记", "委员", "核验", "公示期"),
    "en": (
        "Branch",
        "E",
        "Present",
        "Turnout",
        "Rnd",
        "Secretary",
        "Committee",
        "Check",
        "Publicity",
    ),
}
_WIDTHS: Final = (62, 14, 14, 18, 12, 22, 72, 14, 48)


@dataclass(frozen=True, slots=True)
class TownElected:
    """One elected person of a branch: the round that elected them and the approvals in it."""

    post: str  # the post's Chinese label (委员, 书记, 副书记)
    name: str
    round: int
    approvals: int


@dataclass(frozen=True, slots=True)
class TownRow:
    branch: str
    expected: int
    present: int
    rounds: int
    secretary: str
    committee: str
    verified: bool
    publicity: str
    elected: tuple[TownElected, ...] = ()
    procedure: tuple[str, ...] = ()  # the branch's procedure figures, one line each (RP-13.2)
    # With ``verified`` False: the clauses its election bundle failed; the row shows no number.
    failures: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class TownReport:
    town: str
    title: str
    rows: tuple[TownRow, ...]
    shares: tuple[tuple[str, str], ...]  # (label, value) lines
    casework: TownCases | None = None  # the objections and reports per branch (RP-13.2)
    lang: str = "zh"  # "zh" or "en": the report's own words (names stay as written)


def _fields(report: TownReport) -> list[tuple[str, str]]:
    """Every text the report prints, for the glyph check."""
    t = _TEXT[report.lang]
    fields: list[tuple[str, str]] = [("标题", report.title), ("镇", report.town)]
    fields += [("报告文字", v) for v in t.values()]
    fields += [("表头", h) for h in _COLUMNS[report.lang]]
    for r in report.rows:
        fields += [
            ("支部", r.branch),
            ("书记", r.secretary),
            ("委员", r.committee),
            ("公示", r.publicity),
            ("未通过", _failed_line(r, report.lang)),
            *(("当选人员", f"{x.post}{x.name}") for x in r.elected),
            *(("换届程序", line) for line in r.procedure),
        ]
    fields += [(label, f"{label}{value}") for label, value in report.shares]
    if report.casework is not None:
        fields += casework_fields(report.casework, report.lang)
    return fields


def render_town_report(
    report: TownReport, out_path: Path, *, font_path: Path = DEFAULT_FONT_PATH
) -> Path:
    """Write the report; raises MissingGlyphError before writing anything."""
    font = load_font(font_path)
    check_glyphs(font, _fields(report))
    size = landscape(A4)
    width, _ = size
    name = font.fontName
    detail = _elected_lines(report.rows, name, width - 35 * mm, report.lang)
    lines_per_page = 24
    detail_pages = [detail[i : i + lines_per_page] for i in range(0, len(detail), lines_per_page)]
    rows_per_page = 18
    pages = [
        report.rows[i : i + rows_per_page] for i in range(0, len(report.rows), rows_per_page)
    ] or [()]
    cases = report.casework
    case_pages = len(casework_pages(cases, report.lang, name, width)) if cases else 0
    total = len(pages) + len(detail_pages) + case_pages

    def write(fh: Any) -> None:
        c = new_pdf_canvas(fh, size, report.title)
        for p, rows in enumerate(pages, start=1):
            _table_page(c, report, rows, font=name, page=(p, total), last=p == len(pages))
        for p, chunk in enumerate(detail_pages, start=len(pages) + 1):
            _detail_page(c, report, chunk, font=name, page=(p, total))
        if cases is not None:
            draw_casework_pages(
                c,
                cases,
                font=name,
                size=size,
                town=report.town,
                first=len(pages) + len(detail_pages) + 1,
                total=total,
                lang=report.lang,
            )
        c.save()

    return write_atomically(out_path, write)


def _table_page(
    c: Any,
    report: TownReport,
    rows: Sequence[TownRow],
    *,
    font: str,
    page: tuple[int, int],
    last: bool,
) -> None:
    """A page of the branches' table; the last one ends with the town plan's shares."""
    t = _TEXT[report.lang]
    width, height = landscape(A4)
    y = height - 18 * mm
    c.setFont(font, 16)
    c.drawCentredString(width / 2, y, report.title)
    y -= 8 * mm
    c.setFont(font, 9)
    c.drawCentredString(width / 2, y, t["page"].format(town=report.town, p=page[0], total=page[1]))
    y -= 10 * mm
    _row(c, font=font, x=15 * mm, y=y, cells=_COLUMNS[report.lang], widths=_WIDTHS, header=True)
    for r in rows:
        y -= 8 * mm
        cells = [
            r.branch,
            str(r.expected),
            str(r.present),
            f"{100 * r.present // max(1, r.expected)}%",
            str(r.rounds),
            r.secretary,
            r.committee,
            t["pass"] if r.verified else t["fail"],
            r.publicity,
        ]
        if not r.verified:  # (RP-13.2) a failed bundle's numbers are never shown
            cells = [r.branch, *[t["none"]] * 4, "", ", ".join(r.failures), t["fail"], ""]
        _row(c, font=font, x=15 * mm, y=y, cells=cells, widths=_WIDTHS, ok=r.verified)
    if last:
        y -= 14 * mm
        c.setFont(font, 11)
        c.drawString(15 * mm, y, t["shares"])
        for label, value in report.shares:
            y -= 6.5 * mm
            c.setFont(font, 10)
            c.drawString(20 * mm, y, t["share"].format(label=label, value=value))
    c.showPage()


def _detail_page(
    c: Any,
    report: TownReport,
    chunk: Sequence[tuple[int, str]],
    *,
    font: str,
    page: tuple[int, int],
) -> None:
    """A page of the elected persons per branch."""
    t = _TEXT[report.lang]
    width, height = landscape(A4)
    y = height - 18 * mm
    c.setFont(font, 12)
    c.drawString(15 * mm, y, t["elected"])
    c.setFont(font, 9)
    c.drawRightString(
        width - 15 * mm, y, t["page"].format(town=report.town, p=page[0], total=page[1])
    )
    y -= 4 * mm
    for indent, text in chunk:
        y -= 6.5 * mm
        c.setFont(font, 10 if indent == 0 else 9.5)
        c.drawString((15 + indent) * mm, y, text)
    c.showPage()


def _elected_lines(
    rows: Sequence[TownRow], font: str, width: float, lang: str = "zh"
) -> list[tuple[int, str]]:
    """(indent in mm, text) lines: each branch, then per post its elected persons as
    ``name（第N轮，M票）``, wrapped between persons to ``width`` points."""
    t = _TEXT[lang]
    out: list[tuple[int, str]] = []
    for r in rows:
        if not r.verified:
            out += [(0, r.branch), (6, _failed_line(r, lang))]
            out += [(6, line) for line in r.procedure]
            continue
        if not r.elected and not r.procedure:
            continue
        out.append((0, r.branch))
        posts = list(dict.fromkeys(x.post for x in r.elected))
        for post in posts:
            items = [
                t["person"].format(name=x.name, round=x.round, votes=x.approvals)
                for x in r.elected
                if x.post == post
            ]
            line, filled = t["post"].format(post=post), False
            for i, item in enumerate(items):
                piece = item + (t["sep"] if i < len(items) - 1 else "")
                if filled and stringWidth(line + piece, font, 9.5) > width - 6 * mm:
                    out.append((6, line))
                    line = "\u3000\u3000" + piece
                else:
                    line += piece
                filled = True
            out.append((6, line))
        out += [(6, line) for line in r.procedure]
    return out


def _failed_line(row: TownRow, lang: str) -> str:
    """The line that stands for a branch whose election bundle failed (no number)."""
    if row.verified:
        return ""
    sep = "、" if lang == "zh" else ", "
    return _TEXT[lang]["failed"].format(clauses=sep.join(row.failures) or "?")


def _row(
    c: Any,
    *,
    font: str,
    x: float,
    y: float,
    cells: Sequence[str],
    widths: Sequence[float],
    header: bool = False,
    ok: bool = True,
) -> None:
    total = sum(widths) * mm
    c.setFillColor(colors.HexColor("#f0f0f0") if header else colors.white)
    c.rect(x, y - 2.2 * mm, total, 7.4 * mm, stroke=0, fill=1)
    c.setStrokeColor(colors.HexColor("#bbbbbb"))
    c.line(x, y - 2.2 * mm, x + total, y - 2.2 * mm)
    c.setFont(font, 9.5 if header else 9)
    cx = x
    for i, (text, w) in enumerate(zip(cells, widths, strict=True)):
        color = colors.black
        if not header and i == 7:
            color = colors.HexColor("#1a7f37") if ok else colors.HexColor("#c62828")
        c.setFillColor(color)
        limit = int(w / 3.0)  # characters of a CJK text; a narrower (Latin) text fits by width
        fits = len(text) <= limit or stringWidth(text, font, 9) <= w * mm - 3 * mm
        shown = text if fits else text[: limit - 1] + "…"
        c.drawString(cx + 1.5 * mm, y, shown)
        cx += w * mm
    c.setFillColor(colors.black)
