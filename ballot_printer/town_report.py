"""The town report PDF: every branch's election at a glance, for the town committee (issue 9).

A4 landscape table (branch, E, present, turnout, rounds, elected secretary, committee, verifier
verdict, publicity), the town plan's shares, then every branch's elected persons with the round that
elected them and their approvals in that round. Embedded CJK font, glyph check, atomic write.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

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

__all__ = ["TownElected", "TownReport", "TownRow", "render_town_report"]


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


@dataclass(frozen=True, slots=True)
class TownReport:
    town: str
    title: str
    rows: tuple[TownRow, ...]
    shares: tuple[tuple[str, str], ...]  # (label, value) lines


def render_town_report(
    report: TownReport, out_path: Path, *, font_path: Path = DEFAULT_FONT_PATH
) -> Path:
    """Write the report; raises MissingGlyphError before writing anything."""
    font = load_font(font_path)
    fields: list[tuple[str, str]] = [("标题", report.title), ("镇", report.town)]
    for r in report.rows:
        fields += [
            ("支部", r.branch),
            ("书记", r.secretary),
            ("委员", r.committee),
            ("公示", r.publicity),
            *(("当选人员", f"{x.post}{x.name}") for x in r.elected),
        ]
    fields += [(label, f"{label}{value}") for label, value in report.shares]
    check_glyphs(font, fields)
    size = landscape(A4)
    cols = [
        ("党支部", 62),
        ("应到", 14),
        ("实到", 14),
        ("到会率", 18),
        ("轮次", 12),
        ("书记", 22),
        ("委员", 72),
        ("核验", 14),
        ("公示期", 48),
    ]

    width, height = size
    detail = _elected_lines(report.rows, font.fontName, width - 35 * mm)
    lines_per_page = 24
    detail_pages = [detail[i : i + lines_per_page] for i in range(0, len(detail), lines_per_page)]

    def write(fh: Any) -> None:
        c = new_pdf_canvas(fh, size, report.title)
        name = font.fontName
        rows_per_page = 18
        pages = [
            report.rows[i : i + rows_per_page] for i in range(0, len(report.rows), rows_per_page)
        ]
        total = len(pages or [()]) + len(detail_pages)
        for p, rows in enumerate(pages or [()], start=1):
            y = height - 18 * mm
            c.setFont(name, 16)
            c.drawCentredString(width / 2, y, report.title)
            y -= 8 * mm
            c.setFont(name, 9)
            c.drawCentredString(width / 2, y, f"{report.town}　第 {p} / {total} 页")
            y -= 10 * mm
            widths = [w for _, w in cols]
            _row(
                c, font=name, x=15 * mm, y=y, cells=[h for h, _ in cols], widths=widths, header=True
            )
            for r in rows:
                y -= 8 * mm
                turnout = f"{100 * r.present // max(1, r.expected)}%"
                _row(
                    c,
                    font=name,
                    x=15 * mm,
                    y=y,
                    cells=[
                        r.branch,
                        str(r.expected),
                        str(r.present),
                        turnout,
                        str(r.rounds),
                        r.secretary,
                        r.committee,
                        "通过" if r.verified else "未通过",
                        r.publicity,
                    ],
                    widths=[w for _, w in cols],
                    ok=r.verified,
                )
            if p == len(pages or [()]):
                y -= 14 * mm
                c.setFont(name, 11)
                c.drawString(15 * mm, y, "全镇情况（镇换届实施方案要求）")
                for label, value in report.shares:
                    y -= 6.5 * mm
                    c.setFont(name, 10)
                    c.drawString(20 * mm, y, f"{label}：{value}")
            c.showPage()
        for p, chunk in enumerate(detail_pages, start=len(pages or [()]) + 1):
            y = height - 18 * mm
            c.setFont(name, 12)
            c.drawString(15 * mm, y, "各支部当选人员（当选轮次及该轮得票）")
            c.setFont(name, 9)
            c.drawRightString(width - 15 * mm, y, f"{report.town}　第 {p} / {total} 页")
            y -= 4 * mm
            for indent, text in chunk:
                y -= 6.5 * mm
                c.setFont(name, 10 if indent == 0 else 9.5)
                c.drawString((15 + indent) * mm, y, text)
            c.showPage()
        c.save()

    return write_atomically(out_path, write)


def _elected_lines(rows: Sequence[TownRow], font: str, width: float) -> list[tuple[int, str]]:
    """(indent in mm, text) lines: each branch, then per post its elected persons as
    ``name（第N轮，M票）``, wrapped between persons to ``width`` points."""
    out: list[tuple[int, str]] = []
    for r in rows:
        if not r.elected:
            continue
        out.append((0, r.branch))
        posts = list(dict.fromkeys(x.post for x in r.elected))
        for post in posts:
            items = [
                f"{x.name}（第{x.round}轮，{x.approvals}票）" for x in r.elected if x.post == post
            ]
            line, filled = f"{post}：", False
            for i, item in enumerate(items):
                piece = item + ("、" if i < len(items) - 1 else "")
                if filled and stringWidth(line + piece, font, 9.5) > width - 6 * mm:
                    out.append((6, line))
                    line = "\u3000\u3000" + piece
                else:
                    line += piece
                filled = True
            out.append((6, line))
    return out


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
        limit = int(w / 3.0)
        shown = text if len(text) <= limit else text[: limit - 1] + "…"
        c.drawString(cx + 1.5 * mm, y, shown)
        cx += w * mm
    c.setFillColor(colors.black)
