"""The procedure's public notice as a PDF (spec/procedure.md RP-12.4): read back with pdftotext,
it says what ``procedure-public/1`` says, in Chinese or English, and nothing the public may not
see (no id, no per-person count, no written name, no reason, no objection reference)."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Any

import pytest

from ballot_printer.procedure_notice import render_procedure_notice_pdf
from tally.core.procedure.public import public_view
from tests.helpers.procedure_public import (
    DECLINED_REFERENCE,
    OBJECTION_REFERENCE,
    WRITTEN_SECRET,
    appointed_branch,
    vetted_branch,
)


def _text(pdf: Path) -> str:
    out = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], check=True, capture_output=True)
    return out.stdout.decode("utf-8")


@pytest.fixture(scope="module")
def appointed() -> dict[str, Any]:
    b = appointed_branch()
    return public_view(b.procedure, b.entries).to_json()


@pytest.fixture(scope="module")
def zh_text(appointed: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> str:
    pdf = tmp_path_factory.mktemp("notice") / "notice.pdf"
    render_procedure_notice_pdf(appointed, pdf)
    return _text(pdf)


def _flat(text: str) -> str:
    return "".join(text.split())


def test_chinese_notice_lists_every_session_with_its_ballot_numbers(
    appointed: dict[str, Any], zh_text: str
) -> None:
    flat = _flat(zh_text)
    assert "中共青山村支部委员会换届工作情况公示" in flat
    assert "党员推荐（支部委员会委员）第1轮：发出20张，收回20张，有效20张，无效0张。" in flat
    assert "群众测评第1轮：发出40张，收回30张，有效30张，无效0张。" in flat
    assert flat.count("第1轮：") == len(appointed["sessions"])


def test_chinese_notice_lists_the_preliminary_and_formal_names(
    appointed: dict[str, Any], zh_text: str
) -> None:
    flat = _flat(zh_text)
    for section in ("preliminary", "formal"):
        for item in appointed[section]:
            assert "、".join(item["names"]) in flat


def test_chinese_notice_gives_the_objections_by_finding_and_each_status(zh_text: str) -> None:
    flat = _flat(zh_text)
    assert "公示期间共收到异议2件，经查核：属实1件，不属实1件。" in flat
    assert "镇党委于2026-12-10作出决定：批准。" in flat
    assert flat.count("：不予任命") == 1
    assert flat.count("：任命") == 5


def test_every_number_on_the_notice_is_a_ballot_total_a_round_or_a_date(
    appointed: dict[str, Any], zh_text: str
) -> None:
    allowed = {
        v
        for s in appointed["sessions"]
        for k, v in s.items()
        if k in ("round", "issued", "returned", "valid", "invalid") and v is not None
    }
    allowed |= {appointed["objections"]["received"]}
    allowed |= {f["count"] for f in appointed["objections"]["by_finding"]}
    allowed |= {1, 2026, 12, 10}  # the page footer and the decision's date
    body = zh_text.replace(appointed["procedure_id"], "")
    found = {int(n) for n in re.findall(r"\d+", body)}
    assert found <= allowed, found - allowed


@pytest.mark.parametrize(
    "secret",
    [WRITTEN_SECRET, DECLINED_REFERENCE, OBJECTION_REFERENCE, "M0", "得分", "不满意"],
    ids=[
        "written-name",
        "declined-reference",
        "objection-reference",
        "member-id",
        "score",
        "evaluation-letter",
    ],
)
def test_the_notice_never_shows(zh_text: str, secret: str) -> None:
    assert secret not in _flat(zh_text)


def test_english_notice_by_the_switch(appointed: dict[str, Any], tmp_path: Path) -> None:
    pdf = render_procedure_notice_pdf(appointed, tmp_path / "en.pdf", lang="en")
    text = " ".join(_text(pdf).split())
    assert "Public notice of the re-election" in text
    assert (
        "members' recommendation (committee members), round 1: 20 issued, 20 returned, 20 valid, 0 invalid."
        in text
    )
    assert "2 objection(s) received: 1 substantiated, 1 unsubstantiated." in text
    assert "page 1 of" in text


def test_before_the_approval_the_notice_says_what_is_not_decided_yet(tmp_path: Path) -> None:
    b = vetted_branch()
    pdf = render_procedure_notice_pdf(
        public_view(b.procedure, b.entries).to_json(), tmp_path / "n.pdf"
    )
    flat = _flat(_text(pdf))
    assert "镇党委尚未批复。" in flat
    assert "尚未审批任命。" in flat


def test_the_same_view_prints_the_same_bytes(appointed: dict[str, Any], tmp_path: Path) -> None:
    a = render_procedure_notice_pdf(appointed, tmp_path / "a.pdf").read_bytes()
    assert render_procedure_notice_pdf(appointed, tmp_path / "b.pdf").read_bytes() == a
