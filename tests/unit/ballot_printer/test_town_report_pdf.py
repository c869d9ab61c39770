"""The town report PDF lists every elected person with the round and approvals that elected them
(RULES A13), whole and on its own pages after the table; read back from the PDF's text."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from pypdf import PdfReader

from ballot_printer.town_report import TownElected, TownReport, TownRow, render_town_report

NAMES = ["王建国", "李秀英", "张伟", "刘洋", "陈静", "杨帆", "赵磊", "黄丽", "周杰", "吴敏", "徐强"]


def _row(i: int, committee: int) -> TownRow:
    members = [TownElected("委员", NAMES[j], 1 + j % 3, 20 - j) for j in range(committee)]
    elected = (*members, TownElected("书记", NAMES[0], 1, 17))
    return TownRow(
        branch=f"中共第{i}村支部委员会",
        expected=25,
        present=23,
        rounds=3,
        secretary=NAMES[0],
        committee="、".join(NAMES[:committee]),
        verified=True,
        publicity="公示至 2026-12-22",
        elected=elected,
    )


def _text(pdf: Path) -> tuple[int, str]:
    reader = PdfReader(pdf)
    return len(reader.pages), "\n".join(p.extract_text() for p in reader.pages)


def test_each_elected_person_shows_round_and_approvals_whole(tmp_path: Path) -> None:
    rows = tuple(_row(i, 11 if i == 1 else 5) for i in range(1, 31))
    report = TownReport(
        town="中共红旗镇委员会", title="汇总", rows=rows, shares=(("书记人数", "30 名"),)
    )
    pages, text = _text(render_town_report(report, tmp_path / "town.pdf"))
    # 30 rows: two table pages (18 a page); 30 branches x 3 lines + 1 wrapped = 91 lines at 24 a
    # page: four more pages.
    assert pages == 2 + 4
    assert f"第 1 / {pages} 页" in text and f"第 {pages} / {pages} 页" in text
    assert text.count("各支部当选人员（当选轮次及该轮得票）") == 4
    for r in rows:
        assert r.branch in text
        for x in r.elected:
            # Every person whole (never cut by an ellipsis or split between lines).
            assert f"{x.name}（第{x.round}轮，{x.approvals}票）" in text
    assert "…（" not in text
    # The 11-member committee wraps onto a second line, between two persons.
    detail = text[text.index("各支部当选人员") :].splitlines()
    i = detail.index("中共第1村支部委员会")
    assert detail[i + 1].strip().startswith("委员：王建国（第1轮，20票）")
    assert "徐强" not in detail[i + 1]
    assert detail[i + 2].strip().endswith("徐强（第2轮，10票）")
    assert detail[i + 3].strip() == "书记：王建国（第1轮，17票）"


def test_report_without_elected_detail_has_only_the_table(tmp_path: Path) -> None:
    row = TownRow("中共某村支部", 9, 9, 1, "王建国", "（不设委员会）", True, "公示至 2026-12-22")
    report = TownReport(town="镇", title="汇总", rows=(row,), shares=())
    pages, text = _text(render_town_report(report, tmp_path / "town.pdf"))
    assert pages == 1 and "第 1 / 1 页" in text
    assert "当选轮次" not in text


def test_a_branch_whose_bundle_failed_shows_its_clauses_and_no_number_rp_13_2(
    tmp_path: Path,
) -> None:
    # numbers the row must never print, even when a caller passes them
    failed = replace(_row(2, 5), verified=False, failures=("V1", "V13"), publicity="公示至 2099")
    report = TownReport(
        town="中共红旗镇委员会",
        title="汇总",
        rows=(failed,),
        shares=(("书记人数", "0 名"),),
    )
    _, text = _text(render_town_report(report, tmp_path / "town.pdf"))
    assert "选举结果包未通过核验（verifier verify：V1、V13），不显示任何数字" in text
    assert "未通过" in text and "V1, V13" in text
    for number in ("25", "23", "92%", "公示至 2099", "第1轮", NAMES[1]):
        assert number not in text, number
