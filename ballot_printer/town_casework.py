"""The town report's casework pages: objections and reports per branch (spec/procedure.md RP-13.2).

For the town committee only (RP-9.8): per branch, the objections received, concluded, open, overdue
and lodged after publicity; the reports about the branch received, concluded, open, overdue and
made from another branch; the registered reporters and the village groups without one; then, per
branch, the concluded cases by finding (and the objections' effects) and each village group's
number of reporters. Counts and the branches' and groups' names only: the values below have no
member for a reference, a name, a text or a reporter id, so none can be printed.

The numbers come only from a casework bundle that passed V31 (RP-13.2): when it failed, the
pages carry no number at all, only the line that says so with the failing codes of V31 and each
finding (:attr:`TownCases.failures`).

Chinese by default, English with ``lang="en"`` (branch and group names stay as the town wrote
them). Drawn on the town report's canvas (:mod:`ballot_printer.town_report`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from reportlab.lib import colors
from reportlab.lib.units import mm
from reportlab.pdfbase.pdfmetrics import stringWidth

__all__ = [
    "EFFECT_LABELS",
    "FINDING_LABELS",
    "TownCaseRow",
    "TownCases",
    "casework_fields",
    "casework_pages",
    "draw_casework_pages",
]

#: (RP-8.5) the findings, as the town report names them.
FINDING_LABELS: Final[Mapping[str, Mapping[str, str]]] = {
    "zh": {
        "substantiated": "属实",
        "partly_substantiated": "部分属实",
        "unsubstantiated": "不属实",
        "not_competent": "已转办",
        "duplicate": "重复反映",
    },
    "en": {
        "substantiated": "substantiated",
        "partly_substantiated": "partly substantiated",
        "unsubstantiated": "unsubstantiated",
        "not_competent": "referred elsewhere",
        "duplicate": "duplicate",
    },
}
#: (RP-8.5) the effects other than ``none``.
EFFECT_LABELS: Final[Mapping[str, Mapping[str, str]]] = {
    "zh": {"not_appointed": "不予任命", "election_void": "选举无效"},
    "en": {"not_appointed": "not appointed", "election_void": "election void"},
}
_TEXT: Final[Mapping[str, Mapping[str, str]]] = {
    "zh": {
        "title": "各支部异议和民情直报情况（仅供镇党委）",
        "detail": "各支部事项办结情况（按认定）及民情直报员",
        "total": "全镇合计",
        "as_of": "截至 {on}，事项登记簿前 {entries} 条记录；不向支部和公众公开（RP-9.8）",
        "objections": "异议办结：",
        "effects": "；处理：",
        "reports": "民情直报办结：",
        "reporters": "民情直报员：",
        "none_yet": "尚无",
        "no_reporter": "无直报员",
        "sep": "、",
        "count": "{label} {n}",
        "group": "{name} {n} 名",
        "page": "{town}　第 {p} / {total} 页",
        "failed": "事项登记簿导出包未通过核验（V31：{codes}），不显示任何事项数字",
        "failed_as_of": "核验未通过的导出包不作统计；请查核组重新导出并核验（RP-13.2）",
        "finding": "[{code}] {text}",
    },
    "en": {
        "title": "Objections and reports per branch (town committee only)",
        "detail": "Cases concluded per branch (by finding) and community reporters",
        "total": "Town total",
        "as_of": "as of {on}, the first {entries} entries of the casework log; "
        "never shown to a branch or the public (RP-9.8)",
        "objections": "objections concluded: ",
        "effects": "; effect: ",
        "reports": "reports concluded: ",
        "reporters": "reporters: ",
        "none_yet": "none yet",
        "no_reporter": "NO REPORTER",
        "sep": ", ",
        "count": "{label} {n}",
        "group": "{name} {n}",
        "page": "{town}   page {p} / {total}",
        "failed": "the casework bundle failed verification (V31: {codes}): no case number is shown",
        "failed_as_of": "a bundle that failed verification is not counted; the verification "
        "group exports and verifies it again (RP-13.2)",
        "finding": "[{code}] {text}",
    },
}
_COLUMNS: Final[Mapping[str, tuple[tuple[str, float], ...]]] = {
    "zh": (
        ("党支部", 52),
        ("异议收到", 16),
        ("异议办结", 16),
        ("异议未结", 16),
        ("异议逾期", 16),
        ("公示后收到", 19),
        ("直报收到", 16),
        ("直报办结", 16),
        ("直报未结", 16),
        ("直报逾期", 16),
        ("他支部报送", 19),
        ("直报员", 14),
        ("缺员小组", 16),
    ),
    "en": (
        ("Branch", 52),
        ("Obj. in", 16),
        ("Obj. done", 16),
        ("Obj. open", 16),
        ("Obj. late", 16),
        ("After pub.", 19),
        ("Rep. in", 16),
        ("Rep. done", 16),
        ("Rep. open", 16),
        ("Rep. late", 16),
        ("From other", 19),
        ("Reporters", 14),
        ("No reporter", 16),
    ),
}
_ROWS_PER_PAGE: Final = 16
_LINES_PER_PAGE: Final = 24


@dataclass(frozen=True, slots=True, kw_only=True)
class TownCaseRow:
    """One branch's casework numbers (RP-13.2): counts and names only.

    ``*_findings`` are (finding code, count) of the concluded cases and ``objection_effects``
    (effect code, count) other than ``none``, each only where the count is not zero; ``groups``
    are (village group name, active registered reporters) in the definition's order.
    """

    branch: str
    objections_received: int
    objections_concluded: int
    objections_open: int
    objections_overdue: int
    objections_after_publicity: int
    objection_findings: tuple[tuple[str, int], ...] = ()
    objection_effects: tuple[tuple[str, int], ...] = ()
    reports_received: int
    reports_concluded: int
    reports_open: int
    reports_overdue: int
    reports_from_other_branches: int
    report_findings: tuple[tuple[str, int], ...] = ()
    groups: tuple[tuple[str, int], ...] = ()

    @property
    def reporters(self) -> int:
        return sum(n for _, n in self.groups)

    @property
    def groups_without_reporter(self) -> int:
        return sum(n == 0 for _, n in self.groups)

    def numbers(self) -> tuple[int, ...]:
        """The table's numeric cells, in column order."""
        return (
            self.objections_received,
            self.objections_concluded,
            self.objections_open,
            self.objections_overdue,
            self.objections_after_publicity,
            self.reports_received,
            self.reports_concluded,
            self.reports_open,
            self.reports_overdue,
            self.reports_from_other_branches,
            self.reporters,
            self.groups_without_reporter,
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class TownCases:
    """The casework part of the town report: the log's first ``entries`` entries, on ``on``."""

    on: str  # YYYY-MM-DD
    entries: int
    rows: tuple[TownCaseRow, ...]
    failures: tuple[tuple[str, str, str], ...] = ()
    """(RP-13.2) When the bundle failed V31: each failing finding's (code, zh, en); then
    ``rows`` is empty and no number is printed."""

    def failed_line(self, lang: str) -> str:
        """The one line that says the bundle failed V31, with its failing codes."""
        codes = sorted({code for code, _, _ in self.failures})
        return _TEXT[lang]["failed"].format(codes=_TEXT[lang]["sep"].join(codes))


def casework_fields(cases: TownCases, lang: str) -> list[tuple[str, str]]:
    """Every text the casework pages print, for the glyph check."""
    t = _TEXT[lang]
    out = [("事项标题", t["title"]), ("事项说明", t["detail"]), ("合计", t["total"])]
    out += [("事项表头", h) for h, _ in _COLUMNS[lang]]
    for r in cases.rows:
        out.append(("支部", r.branch))
        out += [("村民小组", g) for g, _ in r.groups]
    out += [("认定", v) for v in FINDING_LABELS[lang].values()]
    out += [("处理", v) for v in EFFECT_LABELS[lang].values()]
    out += [("事项文字", v) for v in t.values()]
    if cases.failures:
        out.append(("核验未通过", cases.failed_line(lang)))
        out += [("核验问题", zh if lang == "zh" else en) for _, zh, en in cases.failures]
    return out


def _counts(pairs: Sequence[tuple[str, int]], labels: Mapping[str, str], lang: str) -> str:
    t = _TEXT[lang]
    return t["sep"].join(t["count"].format(label=labels[k], n=n) for k, n in pairs if n)


def _branch_lines(r: TownCaseRow, lang: str) -> list[str]:
    """One branch's detail: the concluded by finding (and effect), then its village groups."""
    t = _TEXT[lang]
    out: list[str] = []
    if r.objections_concluded:
        line = t["objections"] + _counts(r.objection_findings, FINDING_LABELS[lang], lang)
        effects = _counts(r.objection_effects, EFFECT_LABELS[lang], lang)
        out.append(line + (t["effects"] + effects if effects else ""))
    if r.reports_concluded:
        out.append(t["reports"] + _counts(r.report_findings, FINDING_LABELS[lang], lang))
    groups = [
        t["group"].format(name=g, n=n) if n else f"{g} {t['no_reporter']}" for g, n in r.groups
    ]
    out.append(t["reporters"] + (t["sep"].join(groups) if groups else t["none_yet"]))
    return out


def _wrap(text: str, sep: str, font: str, size: float, width: float) -> list[str]:
    """``text`` in lines of at most ``width`` points, broken only after a separator."""
    parts = text.split(sep)
    lines: list[str] = []
    line = ""
    for i, part in enumerate(parts):
        piece = part + (sep if i < len(parts) - 1 else "")
        if line and stringWidth(line + piece, font, size) > width:
            lines.append(line)
            line = "\u3000\u3000" + piece
        else:
            line += piece
    return [*lines, line]


def _detail_lines(cases: TownCases, lang: str, font: str, width: float) -> list[tuple[int, str]]:
    out: list[tuple[int, str]] = []
    for r in cases.rows:
        out.append((0, r.branch))
        for text in _branch_lines(r, lang):
            out += [(6, x) for x in _wrap(text, _TEXT[lang]["sep"], font, 9.5, width - 6 * mm)]
    return out


def _failure_lines(cases: TownCases, lang: str, font: str, width: float) -> list[tuple[int, str]]:
    """(RP-13.2) The failing-clause line and each finding, and no number."""
    t = _TEXT[lang]
    out: list[tuple[int, str]] = [(0, cases.failed_line(lang))]
    for code, zh, en in cases.failures:
        text = t["finding"].format(code=code, text=zh if lang == "zh" else en)
        out += [(6, x) for x in _wrap(text, " ", font, 9.5, width - 6 * mm)]
    return out


def _tables(cases: TownCases) -> int:
    """The number of table pages: none when the bundle failed V31."""
    return 0 if cases.failures else max(1, -(-len(cases.rows) // _ROWS_PER_PAGE))


def casework_pages(cases: TownCases, lang: str, font: str, width: float) -> list[list[Any]]:
    """The casework pages' content: table pages (lists of rows, the last with the total) and
    detail pages (lists of (indent, text) lines); only the failure's lines when it failed V31."""
    if cases.failures:
        lines = _failure_lines(cases, lang, font, width - 35 * mm)
        return [lines[i : i + _LINES_PER_PAGE] for i in range(0, len(lines), _LINES_PER_PAGE)]
    rows: list[Any] = list(cases.rows)
    tables = [rows[i : i + _ROWS_PER_PAGE] for i in range(0, len(rows), _ROWS_PER_PAGE)] or [[]]
    detail = _detail_lines(cases, lang, font, width - 35 * mm)
    details = [detail[i : i + _LINES_PER_PAGE] for i in range(0, len(detail), _LINES_PER_PAGE)]
    return [*tables, *details]


def _total(rows: Sequence[TownCaseRow]) -> tuple[int, ...]:
    return tuple(sum(col) for col in zip(*(r.numbers() for r in rows), strict=True)) or (0,) * 12


def _table_row(
    c: Any, font: str, y: float, cells: Sequence[str], widths: Sequence[float], *, header: bool
) -> None:
    x = 15 * mm
    total = sum(widths) * mm
    c.setFillColor(colors.HexColor("#f0f0f0") if header else colors.white)
    c.rect(x, y - 2.2 * mm, total, 7.4 * mm, stroke=0, fill=1)
    c.setStrokeColor(colors.HexColor("#bbbbbb"))
    c.line(x, y - 2.2 * mm, x + total, y - 2.2 * mm)
    size = 9.0 if header else 9.5
    for i, (text, w) in enumerate(zip(cells, widths, strict=True)):
        # A number shown in red when a case is overdue or a group has no reporter.
        late = not header and i in (4, 9, 12) and text not in ("", "0")
        c.setFillColor(colors.HexColor("#c62828") if late else colors.black)
        fit = size
        while fit > 6 and stringWidth(text, font, fit) > w * mm - 2 * mm:
            fit -= 0.5
        c.setFont(font, fit)
        c.drawString(x + 1.5 * mm, y, text)
        x += w * mm
    c.setFillColor(colors.black)


def draw_casework_pages(
    c: Any,
    cases: TownCases,
    *,
    font: str,
    size: tuple[float, float],
    town: str,
    first: int,
    total: int,
    lang: str,
) -> None:
    """Draw the pages of :func:`casework_pages`, numbered from ``first`` of ``total``."""
    width, height = size
    t = _TEXT[lang]
    pages = casework_pages(cases, lang, font, width)
    tables = _tables(cases)
    cols = _COLUMNS[lang]
    widths = [w for _, w in cols]
    for n, content in enumerate(pages):
        y = height - 18 * mm
        c.setFont(font, 12)
        c.drawString(15 * mm, y, t["title"] if n < tables or cases.failures else t["detail"])
        c.setFont(font, 9)
        c.drawRightString(width - 15 * mm, y, t["page"].format(town=town, p=first + n, total=total))
        y -= 6 * mm
        as_of = t["failed_as_of"] if cases.failures else t["as_of"]
        c.drawString(15 * mm, y, as_of.format(on=cases.on, entries=cases.entries))
        if n < tables:
            y -= 10 * mm
            _table_row(c, font, y, [h for h, _ in cols], widths, header=True)
            for r in content:
                y -= 8 * mm
                _table_row(c, font, y, [r.branch, *map(str, r.numbers())], widths, header=False)
            if n == tables - 1:
                y -= 8 * mm
                cells = [t["total"], *map(str, _total(cases.rows))]
                _table_row(c, font, y, cells, widths, header=True)
        else:
            y -= 4 * mm
            for indent, text in content:
                y -= 6.5 * mm
                c.setFont(font, 10 if indent == 0 else 9.5)
                c.drawString((15 + indent) * mm, y, text)
        c.showPage()
