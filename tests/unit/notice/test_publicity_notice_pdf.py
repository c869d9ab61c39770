"""Publicity notice PDF (公示): content, QR round trip, glyph check, atomic output."""

from __future__ import annotations

import dataclasses
import subprocess
from datetime import date
from pathlib import Path

import pypdf
import pytest
import zxingcpp
from PIL import Image

from ballot_printer import FontError, MissingGlyphError, OutputError
from ballot_printer.layout import PageSize, Text
from ballot_printer.notice import (
    InvalidNoticeError,
    Notice,
    NoticeCandidate,
    format_date_zh,
    group_hex,
    layout_notice,
    render_notice_pdf,
)
from ballot_printer.render import load_font, text_measure

from .conftest import ROOT, elected_in, make_notice, with_candidates


def _flat_text(pdf: Path) -> list[str]:
    return ["".join(p.extract_text().split()) for p in pypdf.PdfReader(pdf).pages]


def _qr_texts(pdf: Path, tmp: Path, dpi: int = 150) -> list[list[str]]:
    subprocess.run(
        ["pdftoppm", "-r", str(dpi), "-gray", "-png", str(pdf), str(tmp / "pg")], check=True
    )
    pages = sorted(tmp.glob("pg-*.png"), key=lambda p: int(p.stem.split("-")[1]))
    qr = zxingcpp.BarcodeFormats(zxingcpp.BarcodeFormat.QRCode)
    out = []
    for page in pages:
        with Image.open(page) as img:
            out.append([b.text for b in zxingcpp.read_barcodes(img, formats=qr)])
    return out


@pytest.fixture(scope="module")
def printed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Notice, Path]:
    notice = make_notice()
    out = tmp_path_factory.mktemp("notice") / "公示.pdf"
    assert render_notice_pdf(notice, out) == out
    return notice, out


def test_notice_is_one_a4_portrait_page(printed: tuple[Notice, Path]) -> None:
    _, pdf = printed
    pages = pypdf.PdfReader(pdf).pages
    assert len(pages) == 1
    box = pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == (595, 842)


def test_notice_text_has_title_names_approvals_period_objections_and_signature(
    printed: tuple[Notice, Path],
) -> None:
    notice, pdf = printed
    (text,) = _flat_text(pdf)
    assert "关于中共青山村支部委员会换届选举结果的公示" in text
    assert "2026年12月15日" in text
    for post in notice.posts:
        for cand in post.rounds[0].candidates:
            assert cand.name in text
            assert f"{cand.approvals}票" in text
    assert "马秀英（47票）、丁建国（45票）、王春花（41票）、石磊（38票）、龙海波（33票）" in text
    assert "书记（应选1名）：马秀英（44票）" in text
    assert "当选票数线26票" in text
    assert "公示期：2026年12月16日至2026年12月22日（5个工作日）" in text
    assert "红旗镇党委组织办（电话0000-1234567）" in text
    assert "远程投票2张" in text
    assert "中共青山村支部选举工作组" in text


def test_notice_text_has_the_root_hash_in_groups_and_names_the_town_copy(
    printed: tuple[Notice, Path],
) -> None:
    notice, pdf = printed
    (text,) = _flat_text(pdf)
    assert notice.root_hash_hex in text  # groups joined once whitespace is removed
    assert "中共红旗镇委员会存档的核验副本" in text
    raw = pypdf.PdfReader(pdf).pages[0].extract_text()
    assert " ".join(group_hex(notice.root_hash_hex)[:8]) in raw


def test_notice_qr_decodes_to_the_root_hash(printed: tuple[Notice, Path], tmp_path: Path) -> None:
    notice, pdf = printed
    assert _qr_texts(pdf, tmp_path) == [[notice.root_hash_hex]]
    assert notice.root_hash_hex == ROOT.hex()


def test_notice_without_remote_ballots_has_no_remote_line(tmp_path: Path) -> None:
    out = render_notice_pdf(make_notice(remote_ballots=0), tmp_path / "n.pdf")
    assert "远程投票" not in _flat_text(out)[0]


def test_notice_with_a_name_missing_from_the_font_raises_and_leaves_no_file(
    tmp_path: Path,
) -> None:
    notice = make_notice()
    committee = notice.posts[0]
    odd = with_candidates(
        committee, (*committee.rounds[0].candidates, NoticeCandidate("吉𠮷", 1, False))
    )
    out = tmp_path / "n.pdf"
    with pytest.raises(MissingGlyphError) as e:
        render_notice_pdf(dataclasses.replace(notice, posts=(odd, notice.posts[1])), out)
    assert e.value.char == "𠮷" and e.value.field == "候选人姓名"
    assert "U+20BB7" in e.value.zh
    assert list(tmp_path.iterdir()) == []


def test_notice_failed_render_keeps_the_previous_file(tmp_path: Path) -> None:
    out = render_notice_pdf(make_notice(), tmp_path / "n.pdf")
    before = out.read_bytes()
    with pytest.raises(MissingGlyphError):
        render_notice_pdf(make_notice(town="中共𠮷镇委员会"), out)
    assert out.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["n.pdf"]


def test_notice_into_a_missing_folder_is_an_output_error(tmp_path: Path) -> None:
    with pytest.raises(OutputError):
        render_notice_pdf(make_notice(), tmp_path / "nope" / "n.pdf")


def test_notice_with_a_missing_font_is_a_font_error(tmp_path: Path) -> None:
    with pytest.raises(FontError):
        render_notice_pdf(make_notice(), tmp_path / "n.pdf", font_path=tmp_path / "x.ttf")
    assert list(tmp_path.iterdir()) == []


def test_notice_same_input_gives_the_same_bytes(tmp_path: Path) -> None:
    a = render_notice_pdf(make_notice(), tmp_path / "a.pdf").read_bytes()
    b = render_notice_pdf(make_notice(), tmp_path / "b.pdf").read_bytes()
    assert a == b


# --- consistency of the notice ------------------------------------------------------------------


def test_notice_elected_list_must_match_the_elected_flags(tmp_path: Path) -> None:
    notice = make_notice()
    ding = notice.posts[1].rounds[0].candidates[1]
    bad = dataclasses.replace(notice.posts[1], elected=elected_in(1, ding))
    with pytest.raises(InvalidNoticeError) as e:
        render_notice_pdf(dataclasses.replace(notice, posts=(notice.posts[0], bad)), tmp_path / "n")
    assert e.value.code == "render.bad_notice"
    assert list(tmp_path.iterdir()) == []


def test_notice_root_hash_must_be_the_checkpoint_root(tmp_path: Path) -> None:
    with pytest.raises(InvalidNoticeError):
        render_notice_pdf(make_notice(root_hash_hex="0" * 64), tmp_path / "n.pdf")
    with pytest.raises(InvalidNoticeError):
        render_notice_pdf(make_notice(root_hash_hex=ROOT.hex().upper()), tmp_path / "n.pdf")
    with pytest.raises(InvalidNoticeError):
        render_notice_pdf(make_notice(checkpoint_text="not a checkpoint"), tmp_path / "n.pdf")


def test_notice_publicity_must_start_after_the_election(tmp_path: Path) -> None:
    notice = make_notice()
    with pytest.raises(InvalidNoticeError):
        render_notice_pdf(
            dataclasses.replace(notice, publicity_start=notice.election_date), tmp_path / "n.pdf"
        )


# --- layout -------------------------------------------------------------------------------------


def test_notice_text_stays_inside_the_page_margins() -> None:
    font = load_font()
    measure = text_measure(font)
    (page,) = layout_notice(make_notice(), measure=measure, mono_measure=measure)
    width = PageSize.A4.width
    for item in page.items:
        if isinstance(item, Text):
            w = measure(item.text, item.size)
            left = {"left": item.x, "center": item.x - w / 2, "right": item.x - w}[item.align]
            assert left >= 60 and left + w <= width - 60, item
            assert 40 <= item.y <= PageSize.A4.height - 50, item


def test_notice_with_many_write_ins_flows_onto_more_pages_with_page_numbers(
    tmp_path: Path,
) -> None:
    notice = make_notice()
    committee = notice.posts[0]
    extra = tuple(NoticeCandidate(f"另选人{i:02d}", 1, False) for i in range(25))
    big = with_candidates(committee, (*committee.rounds[0].candidates, *extra))
    out = render_notice_pdf(
        dataclasses.replace(notice, posts=(big, notice.posts[1])), tmp_path / "n"
    )
    texts = _flat_text(out)
    n = len(texts)
    assert n > 1
    assert all(f"第{i}页共{n}页" in t for i, t in enumerate(texts, start=1))
    # a heading is never left alone: 得票情况 shares its page with the first chart
    assert any("得票情况" in t and "当选票数线26票" in t for t in texts)
    assert "中共青山村支部选举工作组" in texts[-1] and "选举记录校验码" in texts[-1]
    assert all(c.name in "".join(texts) for c in big.rounds[0].candidates)
    assert _qr_texts(out, tmp_path)[-1] == [notice.root_hash_hex]


def test_format_date_zh_has_no_leading_zeros() -> None:
    assert format_date_zh(date(2026, 3, 5)) == "2026年3月5日"
    assert group_hex("0123456789") == ("0123", "4567", "89")
