"""The town report's casework pages when the casework bundle failed V31 (spec/procedure.md
RP-13.2: "a branch whose bundle fails is shown with its failing clauses, never with unchecked
numbers"): one line naming V31 and its failing codes, each finding, and no table or number."""

from __future__ import annotations

from pathlib import Path

import pytest
from pypdf import PdfReader

from ballot_printer.town_casework import TownCaseRow, TownCases, casework_pages
from ballot_printer.town_report import TownReport, render_town_report

FAILURES = (
    ("entry.prev", "与上一条记录的哈希链不符", "prev does not chain"),
    ("cbundle.hash", "文件与索引的哈希或大小不符", "the file differs from its index entry"),
)


def _row() -> TownCaseRow:
    return TownCaseRow(
        branch="东村党支部",
        objections_received=7,
        objections_concluded=5,
        objections_open=2,
        objections_overdue=1,
        objections_after_publicity=0,
        reports_received=9,
        reports_concluded=8,
        reports_open=1,
        reports_overdue=0,
        reports_from_other_branches=3,
        groups=(("一组", 1),),
    )


def test_a_failed_bundle_gives_only_the_failing_clause_lines_rp_13_2() -> None:
    cases = TownCases(on="2026-12-28", entries=0, rows=(), failures=FAILURES)
    pages = casework_pages(cases, "zh", "Helvetica", 800.0)
    lines = [text for page in pages for _, text in page]
    assert (
        lines[0]
        == "事项登记簿导出包未通过核验（V31：cbundle.hash、entry.prev），不显示任何事项数字"
    )
    assert lines[1:] == [
        "[entry.prev] 与上一条记录的哈希链不符",
        "[cbundle.hash] 文件与索引的哈希或大小不符",
    ]


@pytest.mark.parametrize(
    ("lang", "line"),
    [
        ("zh", "事项登记簿导出包未通过核验（V31：cbundle.hash、entry.prev）"),
        ("en", "the casework bundle failed verification (V31: cbundle.hash, entry.prev)"),
    ],
)
def test_the_pdf_of_a_failed_bundle_prints_no_number_rp_13_2(
    tmp_path: Path, lang: str, line: str
) -> None:
    cases = TownCases(on="2026-12-28", entries=0, rows=(), failures=FAILURES)
    report = TownReport(town="红旗镇", title="汇总", rows=(), shares=(), casework=cases, lang=lang)
    text = PdfReader(render_town_report(report, tmp_path / "r.pdf")).pages[-1].extract_text()
    assert line in text
    assert "全镇合计" not in text and "Town total" not in text


def test_a_passed_bundle_still_gives_its_table_rp_13_2(tmp_path: Path) -> None:
    cases = TownCases(on="2026-12-28", entries=40, rows=(_row(),))
    report = TownReport(town="红旗镇", title="汇总", rows=(), shares=(), casework=cases)
    reader = PdfReader(render_town_report(report, tmp_path / "r.pdf"))
    text = "\n".join(p.extract_text() for p in reader.pages)
    assert "全镇合计" in text and "未通过核验" not in text
