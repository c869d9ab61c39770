"""The town report's casework pages (spec/procedure.md RP-13.2): every branch's numbers and the
town total in the table, the concluded cases by finding and effect and the village groups without a
reporter in the detail, Chinese by default and English by the switch; read back from the PDF."""

from __future__ import annotations

from pathlib import Path

from pypdf import PdfReader

from ballot_printer.town_report import TownCaseRow, TownCases, TownReport, render_town_report


def _case_row(i: int) -> TownCaseRow:
    return TownCaseRow(
        branch=f"中共第{i}村支部委员会",
        objections_received=3 + i,
        objections_concluded=2,
        objections_open=1 + i,
        objections_overdue=1,
        objections_after_publicity=i % 2,
        objection_findings=(("substantiated", 1), ("unsubstantiated", 1)),
        objection_effects=(("not_appointed", 1),),
        reports_received=4,
        reports_concluded=2 if i == 1 else 0,
        reports_open=2 if i == 1 else 4,
        reports_overdue=0,
        reports_from_other_branches=1,
        report_findings=(("not_competent", 2),) if i == 1 else (),
        groups=(("一组", 1), ("二组", 0), ("三组", 2)),
    )


def _render(tmp_path: Path, lang: str, branches: int = 3) -> tuple[int, str]:
    cases = TownCases(
        on="2026-12-28", entries=57, rows=tuple(_case_row(i) for i in range(1, branches + 1))
    )
    report = TownReport(
        town="中共红旗镇委员会", title="汇总", rows=(), shares=(), casework=cases, lang=lang
    )
    reader = PdfReader(render_town_report(report, tmp_path / f"town-{lang}.pdf"))
    return len(reader.pages), "\n".join(p.extract_text() for p in reader.pages)


def _numbers(text: str, first: str) -> list[int]:
    """The 12 numeric cells of the table row that starts with ``first`` (pypdf gives each drawn
    cell a line of its own)."""
    lines = text.splitlines()
    i = lines.index(first)
    return [int(x) for x in lines[i + 1 : i + 13]]


def test_casework_table_shows_each_branchs_numbers_and_the_town_total_rp_13_2(
    tmp_path: Path,
) -> None:
    pages, text = _render(tmp_path, "zh")
    assert pages == 3  # the (empty) election table, the casework table, the casework detail
    assert "各支部异议和民情直报情况（仅供镇党委）" in text
    assert "截至 2026-12-28，事项登记簿前 57 条记录" in text
    # branch, objections in/done/open/overdue/after publicity, reports in/done/open/overdue/from
    # another branch, reporters, groups without one.
    assert _numbers(text, "中共第1村支部委员会") == [4, 2, 2, 1, 1, 4, 2, 2, 0, 1, 3, 1]
    assert _numbers(text, "中共第2村支部委员会") == [5, 2, 3, 1, 0, 4, 0, 4, 0, 1, 3, 1]
    assert _numbers(text, "全镇合计") == [15, 6, 9, 3, 2, 12, 2, 10, 0, 3, 9, 3]


def test_casework_detail_lists_findings_effects_and_groups_without_reporter_rp_9_1(
    tmp_path: Path,
) -> None:
    _, text = _render(tmp_path, "zh")
    detail = text[text.index("各支部事项办结情况（按认定）及民情直报员") :]
    assert "异议办结：属实 1、不属实 1；处理：不予任命 1" in detail
    assert "民情直报办结：已转办 2" in detail
    assert detail.count("民情直报办结") == 1  # only the branch with a concluded report
    assert detail.count("民情直报员：一组 1 名、二组 无直报员、三组 2 名") == 3


def test_casework_pages_in_english_with_the_switch(tmp_path: Path) -> None:
    _, text = _render(tmp_path, "en")
    assert "Objections and reports per branch (town committee only)" in text
    assert _numbers(text, "Town total") == [15, 6, 9, 3, 2, 12, 2, 10, 0, 3, 9, 3]
    assert "objections concluded: substantiated 1, unsubstantiated 1; effect: not appointed 1" in (
        text
    )
    assert "reporters: 一组 1, 二组 NO REPORTER, 三组 2" in text
    assert "异议" not in text and "…" not in text  # the words are English, none cut short


def test_many_branches_run_over_pages_numbered_through_the_report(tmp_path: Path) -> None:
    pages, text = _render(tmp_path, "zh", branches=20)
    # The election table (1 page), the casework table (16 rows a page: 2 pages), the detail
    # (4 lines for the first branch, 3 for each other: 61 lines at 24 a page, 3 pages).
    assert pages == 1 + 2 + 3
    assert f"第 {pages} / {pages} 页" in text
    assert text.count("全镇合计") == 1
    for i in range(1, 21):
        assert text.count(f"中共第{i}村支部委员会") == 2  # its table row and its detail
