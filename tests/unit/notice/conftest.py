"""A sample notice: a 5-seat committee (6 candidates and a write-in) and a secretary."""

from __future__ import annotations

import base64
import hashlib
from datetime import date

import pytest

from ballot_printer.notice import Notice, NoticeCandidate, NoticePost

ROOT = hashlib.sha256(b"final checkpoint root").digest()
ELECTION_ID = hashlib.sha256(b"qingshan").hexdigest()
CHECKPOINT = (
    f"branch-election/{ELECTION_ID}\n412\n{base64.b64encode(ROOT).decode()}\nresult\n\n"
    "— work_group:0123456789abcdef AAAA\n"
)


def make_notice(**overrides: object) -> Notice:
    committee = NoticePost(
        label_zh="支部委员会委员",
        seats=5,
        elected=("马秀英", "丁建国", "王春花", "石磊", "龙海波"),
        candidates=(
            NoticeCandidate("丁建国", 45, True),
            NoticeCandidate("马秀英", 47, True),
            NoticeCandidate("王春花", 41, True),
            NoticeCandidate("石磊", 38, True),
            NoticeCandidate("叶晓东", 22, False),
            NoticeCandidate("龙海波", 33, True),
            NoticeCandidate("阿卜杜热依木·艾买提", 3, False),
        ),
        threshold_minimum=26,
        base=50,
        base_label_zh="应到会有选举权的党员",
    )
    secretary = NoticePost(
        label_zh="书记",
        seats=1,
        elected=("马秀英",),
        candidates=(NoticeCandidate("马秀英", 44, True), NoticeCandidate("丁建国", 5, False)),
        threshold_minimum=26,
        base=50,
        base_label_zh="应到会有选举权的党员",
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
