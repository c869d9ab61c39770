"""Pure page layout with a fake text measure (spec §7, §8; RULES §10)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from ballot_printer import BallotPaper, InvalidBallotPaperError, LayoutOverflowError, PaperKind
from ballot_printer.layout import (
    MM,
    Circle,
    Line,
    PageSize,
    Rect,
    Text,
    layout_ballot,
    layout_tally_sheet,
    wrap_text,
)

MakePaper = Callable[..., BallotPaper]


def fake_measure(text: str, size: float) -> float:
    """CJK-like: every character one em wide."""
    return len(text) * size


def _texts(items: Any) -> list[str]:
    return [i.text for i in items if isinstance(i, Text)]


def test_candidates_are_laid_out_in_the_given_order_never_sorted(make_paper: MakePaper) -> None:
    names = ("赵丽", "王小明", "李华", "张伟", "刘芳", "陈静")
    assert list(names) != sorted(names)
    texts = _texts(layout_ballot(make_paper(candidates=names), measure=fake_measure).page.items)
    assert [t for t in texts if t in names] == list(names)


@pytest.mark.parametrize("size", list(PageSize), ids=[s.name for s in PageSize])
def test_fifteen_candidates_wrap_into_rows_inside_the_page_and_clear_of_the_qr(
    make_paper: MakePaper, size: PageSize
) -> None:
    names = tuple(f"名字{chr(0x4E00 + i)}" for i in range(15))
    spec = layout_ballot(
        make_paper(candidates=names, seats=7), measure=fake_measure, page_size=size
    )
    name_texts = [i for i in spec.page.items if isinstance(i, Text) and i.text in names]
    assert len(name_texts) == 15
    assert len({round(t.y) for t in name_texts}) >= 3  # several rows
    qr = spec.qr
    quiet = qr.size * 4 / 45
    for item in spec.page.items:
        if isinstance(item, Rect):
            assert item.x >= 0 and item.x + item.w <= size.width + 0.01
            assert item.y >= 0 and item.y + item.h <= size.height + 0.01
            overlaps_qr = (
                item.x < qr.x + qr.size + quiet
                and item.x + item.w > qr.x - quiet
                and item.y < qr.y + qr.size + quiet
                and item.y + item.h > qr.y - quiet
            )
            assert not overlaps_qr, item


@pytest.mark.parametrize("seats", [1, 3, 7, 12], ids=lambda s: f"{s}-seats")
def test_write_in_cells_equal_the_seats(make_paper: MakePaper, seats: int) -> None:
    paper = make_paper(seats=seats)
    spec = layout_ballot(paper, measure=fake_measure)
    # Every name cell and mark cell is a plain black-outlined, unfilled rect: two per person.
    plain = [
        i
        for i in spec.page.items
        if isinstance(i, Rect)
        and i.fill is None
        and i.stroke == (0.0, 0.0, 0.0)
        and i.line_width == 0.8
    ]
    assert len(plain) == 2 * (len(paper.candidates) + seats)
    assert f"应选{seats}名" in _texts(spec.page.items)


def test_long_minority_name_wraps_at_the_middle_dot(make_paper: MakePaper) -> None:
    name = "阿卜杜热依木·艾买提"
    spec = layout_ballot(
        make_paper(candidates=(name, "李华")), measure=fake_measure, page_size=PageSize.A5
    )
    texts = _texts(spec.page.items)
    assert name in texts or ("阿卜杜热依木·" in texts and "艾买提" in texts)


@pytest.mark.parametrize(
    ("overrides", "size"),
    [
        (
            {"candidates": tuple(f"人{chr(0x4E00 + i)}" for i in range(60)), "seats": 30},
            PageSize.A5,
        ),
        ({"candidates": ("很" * 40,)}, PageSize.A4),
        ({"title": "标" * 80}, PageSize.A4),
    ],
    ids=["sixty-candidates-on-a5", "forty-character-name", "eighty-character-title"],
)
def test_content_that_cannot_fit_raises_overflow(
    make_paper: MakePaper, overrides: dict[str, Any], size: PageSize
) -> None:
    with pytest.raises(LayoutOverflowError):
        layout_ballot(make_paper(**overrides), measure=fake_measure, page_size=size)


@pytest.mark.parametrize(
    "overrides",
    [
        {"candidates": ()},
        {"candidates": ["李华"]},
        {"candidates": ("李华", "李华")},
        {"candidates": ("李\n华",)},
        {"candidates": (" 李华",)},
        {"seats": 0},
        {"seats": True},
        {"round_number": 0},
        {"title": ""},
        {"kind": 1},
    ],
    ids=[
        "no-candidates",
        "list-not-tuple",
        "duplicate-name",
        "newline-in-name",
        "leading-space",
        "zero-seats",
        "bool-seats",
        "round-0",
        "empty-title",
        "int-kind",
    ],
)
def test_invalid_paper_descriptions_are_refused(
    make_paper: MakePaper, overrides: dict[str, Any]
) -> None:
    with pytest.raises(InvalidBallotPaperError):
        make_paper(**overrides)


def test_each_kind_has_a_distinct_band_pattern_not_only_a_colour(make_paper: MakePaper) -> None:
    def signature(kind: PaperKind) -> tuple[int, int, int]:
        paper = make_paper(kind=kind, seats=1)
        items = layout_ballot(paper, measure=fake_measure).page.items
        solid = sum(1 for i in items if isinstance(i, Rect) and i.stroke is None and i.fill)
        return (
            solid,
            sum(1 for i in items if isinstance(i, Line)),
            sum(1 for i in items if isinstance(i, Circle)),
        )

    sigs = {k: signature(k) for k in PaperKind}
    assert sigs[PaperKind.COMMITTEE][0] >= 1
    assert sigs[PaperKind.SECRETARY][1] > 10
    assert sigs[PaperKind.DEPUTY][2] > 10
    assert len(set(sigs.values())) == 3


def test_kind_label_includes_the_round_wording(make_paper: MakePaper) -> None:
    paper = make_paper(kind=PaperKind.SECRETARY, seats=1, round_wording="另行选举")
    assert paper.kind_label == "书记选票（另行选举）"
    assert "书记选票（另行选举）" in _texts(layout_ballot(paper, measure=fake_measure).page.items)


@pytest.mark.parametrize(
    ("width", "expected"),
    [
        (4, ["ab画", "“○”。", "cd，e", "f"]),
        (7, ["ab画“○”。", "cd，ef"]),
    ],
    ids=["opening-quote-carried-down", "fits"],
)
def test_wrap_never_starts_a_line_with_closing_or_ends_with_opening_punctuation(
    width: int, expected: list[str]
) -> None:
    assert wrap_text("ab画“○”。cd，ef", fake_measure, 1, width) == expected


def test_tally_sheet_spreads_rows_over_pages_with_totals_on_the_last(
    make_paper: MakePaper,
) -> None:
    names = tuple(f"名字{chr(0x4E00 + i)}" for i in range(30))
    pages = layout_tally_sheet(make_paper(candidates=names, seats=7), measure=fake_measure)
    assert len(pages) >= 2
    for n, page in enumerate(pages, start=1):
        texts = _texts(page.items)
        assert "监票人（签名）：" in texts and "计票人（签名）：" in texts
        assert f"第 {n} 页　共 {len(pages)} 页" in texts
        assert ("发出选票" in texts) == (n == len(pages))
    all_names = [t for p in pages for t in _texts(p.items) if t in names]
    assert all_names == list(names)
    # Rows are spread evenly: every page but the last (which also holds the totals) is equal.
    counts = [
        sum(1 for t in _texts(p.items) if t.isdigit() or (t[0] == "另" and t[1:].isdigit()))
        for p in pages
    ]
    assert sum(counts) == 30 + 7
    assert len(set(counts[:-1])) <= 1 and 1 <= counts[-1] <= counts[0]


def test_tally_sheet_rows_are_at_least_9_mm(make_paper: MakePaper) -> None:
    page = layout_tally_sheet(make_paper(), measure=fake_measure)[0]
    cells = [i for i in page.items if isinstance(i, Rect) and i.line_width == 0.8]
    assert min(c.h for c in cells) >= 9 * MM - 0.01
