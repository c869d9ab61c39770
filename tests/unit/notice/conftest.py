"""A sample notice: a 5-seat committee (6 candidates and a write-in) and a secretary."""

from __future__ import annotations

import base64
import dataclasses
import hashlib
from datetime import date

import pytest

from ballot_printer.notice import (
    Notice,
    NoticeCandidate,
    NoticeElected,
    NoticePost,
    NoticeRound,
)

ROOT = hashlib.sha256(b"final checkpoint root").digest()
ELECTION_ID = hashlib.sha256(b"qingshan").hexdigest()
CHECKPOINT = (
    f"branch-election/{ELECTION_ID}\n412\n{base64.b64encode(ROOT).decode()}\nresult\n\n"
    "— work_group:0123456789abcdef AAAA\n"
)


def counted(
    number: int,
    candidates: tuple[NoticeCandidate, ...],
    *,
    seats: int,
    threshold: int = 26,
    purpose: str = "first",
    revote_of: int | None = None,
    ballots: int = 48,
) -> NoticeRound:
    """A counted round of 48 ballots out of 50 expected electors (threshold 26 of base 50)."""
    return NoticeRound(
        number=number,
        purpose=purpose,
        revote_of=revote_of,
        status="counted",
        seats=seats,
        present=ballots,
        expected=50,
        issued=ballots,
        returned=ballots,
        valid_ballots=ballots - 1,
        invalid_ballots=1,
        candidates=candidates,
        threshold_minimum=threshold,
        base=50 if threshold else 0,
        base_label_zh="应到会有选举权的党员",
    )


def elected_in(number: int, *cands: NoticeCandidate) -> tuple[NoticeElected, ...]:
    """The elected of one round, in the order given, elected by that round's approvals."""
    return tuple(NoticeElected(c.name, number, c.approvals, number, c.approvals) for c in cands)


def with_candidates(post: NoticePost, candidates: tuple[NoticeCandidate, ...]) -> NoticePost:
    """``post`` with its (only) round's candidates replaced."""
    first = post.rounds[0]
    return dataclasses.replace(post, rounds=(dataclasses.replace(first, candidates=candidates),))


def make_notice(**overrides: object) -> Notice:
    c = {
        n: NoticeCandidate(n, v, e)
        for n, v, e in (
            ("丁建国", 45, True),
            ("马秀英", 47, True),
            ("王春花", 41, True),
            ("石磊", 38, True),
            ("叶晓东", 22, False),
            ("龙海波", 33, True),
            ("阿卜杜热依木·艾买提", 3, False),
        )
    }
    committee = NoticePost(
        label_zh="支部委员会委员",
        seats=5,
        elected=elected_in(1, *(c[n] for n in ("马秀英", "丁建国", "王春花", "石磊", "龙海波"))),
        rounds=(counted(1, tuple(c.values()), seats=5),),
    )
    ma, ding = NoticeCandidate("马秀英", 44, True), NoticeCandidate("丁建国", 5, False)
    secretary = NoticePost(
        label_zh="书记",
        seats=1,
        elected=elected_in(1, ma),
        rounds=(counted(1, (ma, ding), seats=1),),
    )
    fields: dict[str, object] = {
        "title": "中共青山村支部委员会换届选举",
        "branch": "中共青山村支部委员会",
        "town": "中共红旗镇委员会",
        "term": "第十一届",
        "election_date": date(2026, 12, 15),
        "posts": (committee, secretary),
        "publicity_start": date(2026, 12, 16),
        "publicity_end": date(2026, 12, 22),
        "working_days": 5,
        "objections_to": "红旗镇党委组织办（电话 0000-1234567）",
        "root_hash_hex": ROOT.hex(),
        "checkpoint_text": CHECKPOINT,
        "remote_ballots": 2,
    }
    fields.update(overrides)
    return Notice(**fields)  # type: ignore[arg-type]


@pytest.fixture
def notice() -> Notice:
    return make_notice()
