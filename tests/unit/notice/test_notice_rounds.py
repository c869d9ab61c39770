"""RULES A13 on the notice: every round of each post with its own threshold line, each elected
person with the round that elected them, and chart labels that never cross a threshold line."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pypdf
import pytest

from ballot_printer.layout import Rect, Text
from ballot_printer.notice import (
    InvalidNoticeError,
    Notice,
    NoticeCandidate,
    NoticeElected,
    NoticePost,
    NoticeRound,
    layout_notice,
    render_notice_pdf,
)
from ballot_printer.render import load_font, text_measure

from .conftest import counted, elected_in, make_notice

C = NoticeCandidate


def _not_counted(number: int, status: str, *, issued: int = 0, returned: int = 0) -> NoticeRound:
    return NoticeRound(
        number=number,
        purpose="first",
        revote_of=None,
        status=status,
        seats=3,
        present=44 if status == "quorum_failed" else 48,
        expected=50,
        issued=issued,
        returned=returned,
        valid_ballots=0,
        invalid_ballots=0,
        candidates=(),
        threshold_minimum=0,
        base=0,
        base_label_zh="应到会有选举权的党员",
    )


def _every_kind_of_round() -> Notice:
    """Committee of 3: quorum failed, void, counted with a shortfall and a tie, runoff, further."""
    r3 = counted(3, (C("甲", 40, True), C("乙", 27, False), C("丙", 27, False), C("丁", 25, False)),
                 seats=3, revote_of=2)  # fmt: skip
    r4 = counted(4, (C("乙", 30, True), C("丙", 18, False)), seats=1, threshold=0, purpose="runoff")
    r5 = counted(5, (C("丁", 26, True), C("戊", 12, False)), seats=1, purpose="further")
    committee = NoticePost(
        label_zh="支部委员会委员",
        seats=3,
        elected=(
            NoticeElected("甲", 3, 40, 3, 40),
            NoticeElected("乙", 4, 30, 3, 27),
            NoticeElected("丁", 5, 26, 5, 26),
        ),
        rounds=(
            _not_counted(1, "quorum_failed"),
            _not_counted(2, "void", issued=48, returned=49),
            r3,
            r4,
            r5,
        ),
    )
    # r3's line is 26: 乙 and 丙 pass it with 27 and tie across the last seat (R15).
    return make_notice(posts=(committee, make_notice().posts[1]))


def _measure():  # type: ignore[no-untyped-def]
    return text_measure(load_font())


def _text_box(t: Text, measure) -> tuple[float, float, float, float]:  # type: ignore[no-untyped-def]
    w = measure(t.text, t.size)
    left = {"left": t.x, "center": t.x - w / 2, "right": t.x - w}[t.align]
    return left, left + w, t.y - 0.22 * t.size, t.y + 0.9 * t.size


def _crossings(notice: Notice) -> list[object]:
    measure = _measure()
    bad: list[object] = []
    pages = layout_notice(notice, measure=measure, mono_measure=measure)
    assert any(p.thresholds for p in pages)
    for page in pages:
        for x, top, bottom in page.thresholds:
            for it in page.items:
                if isinstance(it, Text):
                    x0, x1, y0, y1 = _text_box(it, measure)
                elif isinstance(it, Rect) and it.fill == (1.0, 1.0, 1.0):  # a label's backing
                    x0, x1, y0, y1 = it.x, it.x + it.w, it.y, it.y + it.h
                else:
                    continue
                if y0 < top and y1 > bottom and x0 <= x <= x1:
                    bad.append(it)
    return bad


def test_chart_labels_never_cross_the_threshold_line_A13() -> None:
    # Bars that end just short of the 13-vote line: their labels would sit across it.
    near = counted(
        1,
        (C("赵一", 12, False), C("钱二", 13, True), C("孙三", 11, False), C("李四", 14, True),
         C("周五", 2, False), C("吴六", 0, False)),
        seats=2, threshold=13,
    )  # fmt: skip
    near = dataclasses.replace(near, base=25)
    post = NoticePost("支部委员会委员", 2, elected_in(1, near.candidates[1], near.candidates[3]),
                      (near,))  # fmt: skip
    assert _crossings(make_notice(posts=(post,))) == []
    assert _crossings(_every_kind_of_round()) == []
    assert _crossings(make_notice()) == []


@pytest.fixture(scope="module")
def every_round_text(tmp_path_factory: pytest.TempPathFactory) -> str:
    out = render_notice_pdf(_every_kind_of_round(), tmp_path_factory.mktemp("n") / "n.pdf")
    return "".join("".join(p.extract_text().split()) for p in pypdf.PdfReader(out).pages)


def test_notice_lists_every_round_and_says_why_a_round_did_not_count_A13(
    every_round_text: str,
) -> None:
    text = every_round_text
    assert "支部委员会委员（应选3名，共进行4轮投票）" in text
    assert "第1轮（未能举行），应选3名：应到50人，实到44人，未达到规定的到会人数，会议无效" in text
    assert "第2轮，应选3名：发出选票48张，收回49张，收回选票多于发出选票，本轮选举无效" in text
    assert "第3轮（第2轮无效后重新投票），应选3名：发出选票48张，收回48张" in text
    assert "第4轮（再次投票），应选1名" in text and "不适用当选票数线" in text
    assert "第5轮（另行选举），应选1名" in text
    # one threshold line per counted threshold round: rounds 3 and 5 of the committee, secretary
    assert text.count("当选票数线26票") == 3


def test_notice_names_the_electing_round_and_its_approvals_A13(every_round_text: str) -> None:
    text = every_round_text
    assert "甲（第3轮重新投票，40票）" in text
    assert "乙（第4轮再次投票，30票；第3轮得27票，已达当选票数线）" in text
    assert "丁（第5轮另行选举，26票）" in text


def test_notice_refuses_approvals_from_a_round_that_did_not_elect_A13(tmp_path: Path) -> None:
    notice = _every_kind_of_round()
    committee = notice.posts[0]
    # The bug of issue 13: 丁 shown with round 3's 25 approvals, below its 26-vote line.
    wrong = dataclasses.replace(
        committee, elected=(*committee.elected[:2], NoticeElected("丁", 3, 25, 3, 25))
    )
    with pytest.raises(InvalidNoticeError) as e:
        render_notice_pdf(
            dataclasses.replace(notice, posts=(wrong, notice.posts[1])), tmp_path / "n"
        )
    assert "当选名单与各轮得票" in e.value.zh
    # A runoff winner's passing round must be one whose threshold they passed.
    unpassed = dataclasses.replace(
        committee, elected=(committee.elected[0], NoticeElected("乙", 4, 30, 4, 30),
                            committee.elected[2])
    )  # fmt: skip
    with pytest.raises(InvalidNoticeError):
        render_notice_pdf(
            dataclasses.replace(notice, posts=(unpassed, notice.posts[1])), tmp_path / "n"
        )
    assert list(tmp_path.iterdir()) == []


def test_notice_refuses_counts_on_a_round_that_was_not_counted(tmp_path: Path) -> None:
    notice = _every_kind_of_round()
    committee = notice.posts[0]
    void = dataclasses.replace(committee.rounds[1], candidates=(C("甲", 3, False),))
    bad = dataclasses.replace(committee, rounds=(committee.rounds[0], void, *committee.rounds[2:]))
    with pytest.raises(InvalidNoticeError):
        render_notice_pdf(dataclasses.replace(notice, posts=(bad, notice.posts[1])), tmp_path / "n")


def test_many_rounds_flow_onto_more_pages_every_round_listed_no_label_crossing(
    tmp_path: Path,
) -> None:
    names = [f"候选人{i:02d}" for i in range(12)]
    rounds = [
        counted(n, tuple(C(x, 25 - n + (i % 3), False) for i, x in enumerate(names)), seats=5,
                purpose="first" if n == 1 else "further")
        for n in range(1, 7)
    ]  # fmt: skip
    last = rounds[-1]
    winner = dataclasses.replace(last.candidates[0], approvals=30, elected=True)
    rounds[-1] = dataclasses.replace(last, candidates=(winner, *last.candidates[1:]))
    post = NoticePost("支部委员会委员", 5, elected_in(6, winner), tuple(rounds))
    notice = make_notice(posts=(post,))
    assert _crossings(notice) == []
    out = render_notice_pdf(notice, tmp_path / "n.pdf")
    texts = ["".join(p.extract_text().split()) for p in pypdf.PdfReader(out).pages]
    assert len(texts) > 1
    assert all(f"第{i}页共{len(texts)}页" in t for i, t in enumerate(texts, start=1))
    joined = "".join(texts)
    for n in range(2, 7):
        assert f"第{n}轮（另行选举），应选5名：发出选票48张" in joined
    assert "候选人00（第6轮另行选举，30票）" in joined


def test_remote_ballots_of_a_round_are_reported_beside_its_paper_counts_RM_9_2(
    tmp_path: Path,
) -> None:
    notice = make_notice()
    committee = notice.posts[0]
    with_remote = dataclasses.replace(committee.rounds[0], remote_ballots=2)
    post = dataclasses.replace(committee, rounds=(with_remote,))
    out = render_notice_pdf(
        dataclasses.replace(notice, posts=(post, notice.posts[1])), tmp_path / "n"
    )
    text = "".join("".join(p.extract_text().split()) for p in pypdf.PdfReader(out).pages)
    assert "发出选票48张，收回48张，另计入远程投票2张，有效票47张，无效票1张" in text
