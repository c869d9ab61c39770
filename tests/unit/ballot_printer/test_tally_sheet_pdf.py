"""Tally sheet PDF (spec §8)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pypdf
import pytest

from ballot_printer import BallotPaper, MissingGlyphError, render_tally_sheet


def test_tally_sheet_lists_candidates_in_order_with_count_boxes_totals_and_signatures(
    make_paper: Callable[..., BallotPaper], tmp_path: Path
) -> None:
    paper = make_paper()
    out = render_tally_sheet(paper, tmp_path / "tally.pdf")
    reader = pypdf.PdfReader(out)
    text = "".join("".join(p.extract_text().split()) for p in reader.pages)
    positions = [text.find(n) for n in paper.candidates]
    assert all(p >= 0 for p in positions) and positions == sorted(positions)
    for label in (
        "计票单",
        "赞成（画“正”字）",
        "不赞成（画“正”字）",
        "弃权（画“正”字）",
        "发出选票",
        "收回选票",
        "有效票",
        "无效票",
        "监票人（签名）",
        "计票人（签名）",
    ):
        assert label in text, label
    box = reader.pages[0].mediabox
    assert float(box.width) > float(box.height)  # landscape


def test_tally_sheet_refuses_a_name_the_font_cannot_print(
    make_paper: Callable[..., BallotPaper], tmp_path: Path
) -> None:
    with pytest.raises(MissingGlyphError):
        render_tally_sheet(make_paper(candidates=("吉𠮷",), seats=1), tmp_path / "t.pdf")
    assert list(tmp_path.iterdir()) == []
