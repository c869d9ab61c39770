"""The town report PDF: every branch's election at a glance, for the town committee (issue 9).

A4 landscape table (branch, E, present, turnout, rounds, elected secretary, committee, verifier
verdict, publicity) and the town plan's shares. Embedded CJK font, glyph check, atomic write.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.units import mm

from ballot_printer.render import (
    DEFAULT_FONT_PATH,
    check_glyphs,
    load_font,
    new_pdf_canvas,
    write_atomically,
)

__all__ = ["TownReport", "TownRow", "render_town_report"]


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

    def write(fh: Any) -> None:
        c = new_pdf_canvas(fh, size, report.title)
        name = font.fontName
        width, height = size
        rows_per_page = 18
        pages = [
            report.rows[i : i + rows_per_page] for i in range(0, len(report.rows), rows_per_page)
        ]
        for p, rows in enumerate(pages or [()], start=1):
            y = height - 18 * mm
            c.setFont(name, 16)
            c.drawCentredString(width / 2, y, report.title)
            y -= 8 * mm
            c.setFont(name, 9)
            c.drawCentredString(width / 2, y, f"{report.town}　第 {p} / {len(pages) or 1} 页")
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
        c.save()

    return write_atomically(out_path, write)


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
