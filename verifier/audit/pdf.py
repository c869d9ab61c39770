"""The audit report PDF in Chinese (spec/audit.md A13): reportlab, embedded WenQuanYi Micro Hei.

Every character is checked against the font's character map before anything is written; the PDF
goes to a temporary file beside the target and is renamed into place.
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
from collections.abc import Sequence
from pathlib import Path, PurePath
from typing import Any, Final

from reportlab.graphics.charts.lineplots import LinePlot
from reportlab.graphics.shapes import Drawing, Line, String
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from verifier.audit.cli import ballot_code
from verifier.audit.comparison import ComparisonAudit
from verifier.audit.errors import AuditRecordError
from verifier.audit.reconcile import Reconciliation

__all__ = ["DEFAULT_FONT", "render_comparison_pdf", "render_reconciliation_pdf"]

DEFAULT_FONT: Final = Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc")
_FONT_NAME: Final = "AuditWQY"
_POSTS: Final = {"committee": "委员", "secretary": "书记", "deputy_secretary": "副书记"}
_KINDS: Final = {
    "missing": "记录中有、纸质选票中没有",
    "extra": "纸质选票中有、记录中没有",
    "counterfeit": "伪造选票（签名无效或不在批次中）",
    "foreign": "其他选举或其他轮次的选票",
    "duplicate": "重复的选票",
    "marks_differ": "标记与记录不符",
    "unreadable": "无法识读二维码的纸张",
}
_STATUS: Final = {
    "confirmed": "结果得到确认：测得的风险不高于风险限度。",
    "full_count_confirmed": "已全面手工计票，纸质选票的计票结果与公布结果一致。",
    "full_count_differs": "已全面手工计票，纸质选票的计票结果与公布结果不一致！",
    "more_ballots": "尚未完成：还需抽取更多选票。",
}


def _font(path: Path) -> tuple[str, set[int]]:
    try:
        font = TTFont(_FONT_NAME, str(path), subfontIndex=0)
    except Exception as e:  # reportlab raises its own TTFError and OSError
        raise AuditRecordError(
            clause="A13",
            code="render.font",
            zh=f"无法加载字体 {path}",
            en=f"cannot load font {path}: {e}",
        ) from e
    if _FONT_NAME not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(font)
    return _FONT_NAME, set(font.face.charToGlyph)


def _check_glyphs(texts: Sequence[str], cmap: set[int]) -> None:
    for t in texts:
        for ch in t:
            if ch not in "\n\t" and ord(ch) not in cmap:
                raise AuditRecordError(
                    clause="A13",
                    code="render.missing_glyph",
                    zh=f"字体中没有字符“{ch}”（{t[:40]}）",
                    en=f"the font has no glyph for {ch!r} (U+{ord(ch):04X}) in {t[:40]!r}",
                )


def _chart(points: Sequence[tuple[int, float]], limit: float) -> Drawing:
    d = Drawing(170 * mm, 75 * mm)
    lp = LinePlot()
    lp.x, lp.y, lp.width, lp.height = 18 * mm, 12 * mm, 145 * mm, 55 * mm
    data = [(0, 1.0), *points] if points else [(0, 1.0)]
    lp.data = [data, [(0, limit), (max(x for x, _ in data) or 1, limit)]]
    lp.lines[0].strokeColor = colors.HexColor("#8b0000")
    lp.lines[0].strokeWidth = 1.5
    lp.lines[1].strokeColor = colors.HexColor("#1f5fbf")
    lp.lines[1].strokeDashArray = [4, 3]
    lp.yValueAxis.valueMin, lp.yValueAxis.valueMax = 0, 1
    lp.yValueAxis.valueSteps = [0, 0.2, 0.4, 0.6, 0.8, 1.0]
    lp.xValueAxis.valueMin = 0
    lp.xValueAxis.labels.fontName = lp.yValueAxis.labels.fontName = _FONT_NAME
    d.add(lp)
    d.add(String(18 * mm, 70 * mm, "测得的风险", fontName=_FONT_NAME, fontSize=9))
    d.add(String(120 * mm, 2 * mm, "已审计的选票张数（抽取次数）", fontName=_FONT_NAME, fontSize=9))
    d.add(
        Line(
            130 * mm,
            71 * mm,
            138 * mm,
            71 * mm,
            strokeColor=colors.HexColor("#1f5fbf"),
            strokeDashArray=[4, 3],
        )
    )
    d.add(String(140 * mm, 70 * mm, f"风险限度 {limit:.0%}", fontName=_FONT_NAME, fontSize=8))
    return d


def _write(out: Path, story: list[Any], texts: list[str], font_path: Path) -> Path:
    name, cmap = _font(font_path)
    _check_glyphs(texts, cmap)
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".audit-report-", suffix=".pdf", dir=out.parent)
    os.close(fd)
    try:
        doc = SimpleDocTemplate(
            tmp,
            pagesize=A4,
            leftMargin=18 * mm,
            rightMargin=18 * mm,
            topMargin=16 * mm,
            bottomMargin=16 * mm,
            title="选票审计报告",
            author="verifier audit",
        )
        doc.build(story)
        os.replace(tmp, out)
    except OSError as e:
        raise AuditRecordError(
            clause="A13",
            code="render.output",
            zh=f"无法写入报告 {out}",
            en=f"cannot write {out}: {e}",
        ) from e
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
    del name
    return out


_SCAN_SOURCE: Final = re.compile(r"^(?P<image>.+)#(?P<page>\d+)$")


def _file_name(path: str) -> str:
    """A file's own name, never the folder it sits in on the auditor's machine."""
    return PurePath(path.replace("\\", "/")).name or path


def _where(source: str) -> str:
    """Where the auditor finds the paper, in words: a scan's file name and page, never a local
    path, a marks-file line or a log sequence number (the ballot code identifies the paper)."""
    m = _SCAN_SOURCE.match(source)
    if m:
        return f"扫描件 {_file_name(m.group('image'))} 第 {m.group('page')} 页"
    if source.startswith("seq "):
        return "电子选票记录"
    if source.startswith("line "):
        return "审计员录入的二维码文字"
    return f"扫描件 {_file_name(source)}"


def _code(ballot_id: str) -> str:
    """The printed ballot code (XXXX-XXXX) the auditor finds on the paper."""
    if len(ballot_id) != 32 or any(c not in "0123456789abcdef" for c in ballot_id):
        return "—"
    return ballot_code(ballot_id)


class _Story:
    def __init__(self) -> None:
        self.items: list[Any] = []
        self.texts: list[str] = []
        self.h1 = ParagraphStyle("h1", fontName=_FONT_NAME, fontSize=17, leading=24, spaceAfter=6)
        self.h2 = ParagraphStyle(
            "h2", fontName=_FONT_NAME, fontSize=12.5, leading=18, spaceBefore=8
        )
        self.body = ParagraphStyle(
            "b", fontName=_FONT_NAME, fontSize=10, leading=15, wordWrap="CJK"
        )
        self.strong = ParagraphStyle(
            "s", parent=self.body, fontSize=11.5, leading=17, textColor=colors.HexColor("#8b0000")
        )

    def p(self, text: str, style: ParagraphStyle | None = None) -> None:
        self.texts.append(text)
        self.items.append(Paragraph(text, style or self.body))

    def table(self, rows: list[list[str]], widths: list[float]) -> None:
        for r in rows:
            self.texts.extend(r)
        cells = [[Paragraph(c, self.body) for c in r] for r in rows]
        t = Table(cells, colWidths=widths, repeatRows=1)
        t.setStyle(
            TableStyle(
                [
                    ("GRID", (0, 0), (-1, -1), 0.4, colors.grey),
                    ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eeeeee")),
                    ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ]
            )
        )
        self.items.append(t)


def render_reconciliation_pdf(
    r: Reconciliation, out: Path, *, title: str, record: str, font_path: Path = DEFAULT_FONT
) -> Path:
    """The report of a full reconciliation (A13).

    Raises:
        AuditRecordError: font, missing glyph or output problem.
    """
    _font(font_path)
    s = _Story()
    s.p("选票审计报告（全面核对）", s.h1)
    s.p(f"选举：{title}")
    s.p(f"审计记录：{_file_name(record)}")
    s.p("一、检查了什么", s.h2)
    rounds = "、".join(f"{_POSTS.get(p, p)}第{n}轮" for p, n in r.rounds)
    s.p(
        f"逐张扫描纸质选票的二维码，核对签名与选票批次，并由审计员录入每张选票上的标记，"
        f"与电子选票记录逐一比对；再按选举规则用纸质选票重新计票。审计的轮次：{rounds}。"
    )
    s.p(f"纸质选票（扫描页）{r.papers} 张；电子选票记录 {r.records} 条。")
    s.p("二、发现的差异", s.h2)
    rows = [["类别", "张数"]] + [[_KINDS[k], str(r.count(k))] for k in _KINDS]
    s.table(rows, [120 * mm, 30 * mm])
    if r.discrepancies:
        s.items.append(Spacer(1, 4 * mm))
        det = [["类别", "选票编号", "在哪里", "记录 / 纸质"]]
        for d in r.discrepancies[:200]:
            det.append(
                [
                    _KINDS[d.kind],
                    _code(d.ballot_id),
                    _where(d.source),
                    f"{d.recorded or '无'} / {d.found or '无'}",
                ]
            )
        s.table(det, [45 * mm, 38 * mm, 52 * mm, 39 * mm])
    s.p("三、按纸质选票重新计票", s.h2)
    out_rows = [["轮次", "纸质票数", "当选", "与公布结果"]]
    for o in r.outcomes:
        out_rows.append(
            [
                f"{_POSTS.get(o.post, o.post)}第{o.number}轮",
                str(o.ballots),
                "、".join(o.paper.elected) or "—",
                ("一致" if o.counts_match else "当选一致、票数不同") if o.matches else "不一致",
            ]
        )
    s.table(out_rows, [40 * mm, 30 * mm, 60 * mm, 40 * mm])
    s.p("四、结论", s.h2)
    s.p("测得的风险：0（全面核对没有抽样风险）。")
    if r.ok:
        s.p("纸质选票与电子记录完全一致，按纸质选票计票的结果与公布的选举结果相同。", s.strong)
    elif all(o.matches for o in r.outcomes):
        s.p("发现上述差异，需要查明原因；但按纸质选票计票，选举结果与公布的结果相同。", s.strong)
    else:
        s.p("按纸质选票计票的结果与公布的选举结果不同！应报告镇党委，依照规定处理。", s.strong)
    s.p("审计员签名：__________________　　日期：__________")
    return _write(out, s.items, s.texts, font_path)


def render_comparison_pdf(
    a: ComparisonAudit, out: Path, *, title: str, record: str, font_path: Path = DEFAULT_FONT
) -> Path:
    """The report of a risk-limiting ballot-comparison audit, with the risk chart (A13).

    Raises:
        AuditRecordError: font, missing glyph or output problem.
    """
    _font(font_path)
    s = _Story()
    s.p("选票审计报告（风险限制比对审计）", s.h1)
    s.p(f"选举：{title}")
    s.p(f"审计记录：{_file_name(record)}")
    s.p("一、检查了什么", s.h2)
    s.p(
        f"审计{_POSTS.get(a.post, a.post)}第{a.round}轮共 {a.ballots} 张选票。"
        f"随机种子由当众掷骰得到：{a.seed}。用一致抽样法（SHA-256）有放回地抽取选票，找出纸质选票，与电子记录比对。"
        f"风险限度 {a.risk_limit}%；风险按 Kaplan–Markov 方法计算。"
    )
    s.p(
        f"需要证实的断言 {len(a.assertions)} 条（当选者过半数、当选者票数多于未当选者等）；"
        f"抽取 {len(a.draws)} 次，涉及 {len(set(a.draws))} 张不同的选票；"
        f"分 {len(a.stages)} 个阶段。"
    )
    s.p("二、发现的差异", s.h2)
    over = [x for x in a.overstatements if x[1] > 0]
    under = [x for x in a.overstatements if x[1] < 0]
    s.p(
        f"多计（对结果有利方向）的差异 {len(over)} 张，少计的差异 {len(under)} 张。"
        "找不到的选票按最坏情况（多计两票）处理。"
    )
    if a.overstatements:
        rows = [["选票编号", "最大多计票数"]] + [
            [_code(b), str(e)] for b, e in a.overstatements[:60]
        ]
        s.table(rows, [110 * mm, 40 * mm])
    s.p("三、测得的风险", s.h2)
    s.p(f"最终测得的风险：{a.risk:.4f}（风险限度 {a.risk_limit / 100:.2f}）。")
    pts = list(enumerate(a.trajectory, start=1))
    if a.status.startswith("full_count"):
        pts.append((a.ballots, a.risk))
    s.items.append(_chart(pts, a.risk_limit / 100))
    s.texts += ["测得的风险", "已审计的选票张数（抽取次数）", f"风险限度 {a.risk_limit / 100:.0%}"]
    s.p("四、结论", s.h2)
    s.p(_STATUS[a.status], s.strong)
    if a.status == "confirmed":
        s.p(f"含义：如果公布的结果是错的，这次审计仍然得出“确认”结论的机会不超过 {a.risk_limit}%。")
    elif a.status == "full_count_differs":
        s.p("含义：纸质选票显示的结果与公布的结果不同，应报告镇党委，依照规定处理。")
    s.p("审计员签名：__________________　　日期：__________")
    return _write(out, s.items, s.texts, font_path)
