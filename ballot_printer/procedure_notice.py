"""The public notice of a branch's procedure (spec/procedure.md RP-12.4, ``tally procedure
notice``), as an A4 PDF to post in the village: Simplified Chinese, English by the switch.

Its only input is the ``procedure-public/1`` document (names only, ballot numbers only), so the
notice can say nothing the public view does not: the ballots of each recommendation and
evaluation session, the preliminary list per post (候选人初步人选), the formal candidates once
the town has approved them, and after the appointment the objections by finding and each elected
person's status. Laid out first (pure: :func:`layout_procedure_notice`, text widths from the
font), every character checked against the font, then written atomically, as the election's
notice (``ballot_printer.notice``), whose text flow it shares.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Final

from ballot_printer.notice import _Flow, _heading, _paragraph  # the notices' one text flow
from ballot_printer.page import MM, PageItem, PageSize, Text, TextMeasure
from ballot_printer.render import (
    DEFAULT_FONT_PATH,
    check_glyphs,
    draw_items,
    load_font,
    new_pdf_canvas,
    text_measure,
    write_atomically,
)

__all__ = ["layout_procedure_notice", "procedure_notice_lines", "render_procedure_notice_pdf"]

_PAGE: Final = PageSize.A4
_MARGIN_X: Final = 25 * MM
_TITLE: Final = 18.0

_POST: Final = {
    "committee": ("支部委员会委员", "committee members"),
    "secretary": ("书记", "secretary"),
    "deputy_secretary": ("副书记", "deputy secretary"),
}
_FORM: Final = {
    "member": ("党员推荐", "members' recommendation"),
    "public": ("群众推荐", "public recommendation"),
    "evaluation": ("群众测评", "public evaluation"),
}
_FINDING: Final = {
    "substantiated": ("属实", "substantiated"),
    "partly_substantiated": ("部分属实", "partly substantiated"),
    "unsubstantiated": ("不属实", "unsubstantiated"),
    "not_competent": ("不属于换届纪律或选举问题，已转办", "not competent, passed on"),
    "duplicate": ("重复反映", "duplicate"),
}
_STATUS: Final = {
    "appointed": ("任命", "appointed"),
    "not_appointed": ("不予任命", "not appointed"),
}
_DECISION: Final = {"approved": ("批准", "approved"), "refused": ("不予批准", "refused")}


def _pick(pair: tuple[str, str], lang: str) -> str:
    return pair[0] if lang == "zh" else pair[1]


def _label(table: Mapping[str, tuple[str, str]], key: object, lang: str) -> str:
    return _pick(table.get(str(key), (str(key), str(key))), lang)


def _session_line(s: Mapping[str, Any], lang: str) -> str:
    zh = lang == "zh"
    what = _label(_FORM, s["form"], lang)
    if s["post"]:
        post = _label(_POST, s["post"], lang)
        what += f"（{post}）" if zh else f" ({post})"
    head = f"{what}第{s['round']}轮：" if zh else f"{what}, round {s['round']}: "
    if s["status"] == "open" or s["issued"] is None or s["returned"] is None:
        return head + ("正在进行。" if zh else "in progress.")
    numbers = (
        f"发出{s['issued']}张，收回{s['returned']}张"
        if zh
        else f"{s['issued']} issued, {s['returned']} returned"
    )
    if s["status"] == "void":
        tail = "，收回多于发出，本轮无效。" if zh else "; more returned than issued: void."
        return head + numbers + tail
    if s["status"] == "counted":
        return (
            head
            + numbers
            + (
                f"，有效{s['valid']}张，无效{s['invalid']}张。"
                if zh
                else f", {s['valid']} valid, {s['invalid']} invalid."
            )
        )
    return head + numbers + ("，正在计票。" if zh else "; being counted.")


def _list_lines(items: Sequence[Mapping[str, Any]], lang: str) -> list[str]:
    sep = "、" if lang == "zh" else ", "
    out = []
    for item in items:
        post = _label(_POST, item["post"], lang)
        names = sep.join(item["names"]) or "—"
        out.append(f"{post}：{names}" if lang == "zh" else f"{post}: {names}")
    return out


def procedure_notice_lines(public: Mapping[str, Any], lang: str = "zh") -> list[tuple[str, str]]:
    """The notice's text as (kind, text) pairs, kind ``title``, ``subtitle``, ``heading`` or
    ``text``: what the page shows, in order (the layout only places it)."""
    zh = lang == "zh"
    out: list[tuple[str, str]] = [
        (
            "title",
            f"{public['branch']}换届工作情况公示" if zh else "Public notice of the re-election",
        ),
        (
            "subtitle",
            f"{public['town']}　{public['term']}"
            if zh
            else f"{public['branch']}, {public['term']}",
        ),
    ]
    out.append(("heading", "一、推荐和测评情况" if zh else "1. Recommendation and evaluation"))
    sessions = public["sessions"]
    out += [("text", _session_line(s, lang)) for s in sessions] or [
        ("text", "尚未进行。" if zh else "not held yet.")
    ]
    out.append(("heading", "二、候选人初步人选" if zh else "2. Preliminary candidates"))
    out += [("text", t) for t in _list_lines(public["preliminary"], lang)] or [
        ("text", "尚未提出。" if zh else "not proposed yet.")
    ]
    out.append(("heading", "三、正式候选人" if zh else "3. Formal candidates"))
    out += [("text", t) for t in _list_lines(public["formal"], lang)] or [
        ("text", "镇党委尚未批复。" if zh else "not yet approved by the town committee.")
    ]
    out.append(("heading", "四、审批任命" if zh else "4. Approval and appointment"))
    out += _appointment_lines(public, lang)
    out.append(
        (
            "text",
            "本公示只列姓名和票数总数；对公示内容有异议的，可向镇党委反映。"
            if zh
            else "This notice lists names and ballot totals only; objections go to the town "
            "committee.",
        )
    )
    out.append(("small", ("程序标识：" if zh else "procedure id: ") + str(public["procedure_id"])))
    return out


def _appointment_lines(public: Mapping[str, Any], lang: str) -> list[tuple[str, str]]:
    zh = lang == "zh"
    appointment, objections = public["appointment"], public["objections"]
    if appointment is None or objections is None:
        return [("text", "尚未审批任命。" if zh else "not yet decided.")]
    sep = "，" if zh else ", "
    found = sep.join(
        f"{_label(_FINDING, f['finding'], lang)}{f['count']}件"
        if zh
        else f"{f['count']} {_label(_FINDING, f['finding'], lang)}"
        for f in objections["by_finding"]
    )
    received = objections["received"]
    decision = _label(_DECISION, appointment["decision"], lang)
    out = [
        (
            "text",
            f"公示期间共收到异议{received}件" + (f"，经查核：{found}。" if found else "。")
            if zh
            else f"{received} objection(s) received" + (f": {found}." if found else "."),
        ),
        (
            "text",
            f"镇党委于{appointment['date']}作出决定：{decision}。"
            if zh
            else f"Decision of the town committee on {appointment['date']}: {decision}.",
        ),
    ]
    for p in appointment["persons"]:
        post, status = _label(_POST, p["post"], lang), _label(_STATUS, p["status"], lang)
        out.append(
            (
                "text",
                f"{p['name']}（{post}）：{status}" if zh else f"{p['name']} ({post}): {status}",
            )
        )
    return out


def layout_procedure_notice(
    public: Mapping[str, Any], *, measure: TextMeasure, lang: str = "zh"
) -> list[tuple[PageItem, ...]]:
    """The pages of the notice (pure): each a tuple of items in the main font.

    Raises:
        LayoutOverflowError: a block does not fit on a page (never in practice: a block is a
            line).
    """
    flow = _Flow()
    for kind, text in procedure_notice_lines(public, lang):
        if kind == "title":
            flow.need(2 * _TITLE)
            flow.y -= 1.6 * _TITLE
            flow.items.append(Text(_PAGE.width / 2, flow.y, text, _TITLE, align="center"))
        elif kind == "subtitle":
            flow.y -= 18
            flow.items.append(Text(_PAGE.width / 2, flow.y, text, 11.0, align="center"))
        elif kind == "heading":
            _heading(flow, text)
        elif kind == "small":
            _paragraph(flow, text, measure, size=8.0, lead=14.0, indent=0.0)
        else:
            _paragraph(flow, text, measure, indent=2.0 if lang == "zh" else 0.0, hanging=0.0)
    n = len(flow.pages)
    pages: list[tuple[PageItem, ...]] = []
    for i, (items, _, _) in enumerate(flow.pages):
        footer = f"第{i + 1}页 共{n}页" if lang == "zh" else f"page {i + 1} of {n}"
        pages.append((*items, Text(_PAGE.width / 2, 10 * MM, footer, 9.0, align="center")))
    return pages


def render_procedure_notice_pdf(
    public: Mapping[str, Any],
    out_path: Path | str,
    *,
    lang: str = "zh",
    font_path: Path = DEFAULT_FONT_PATH,
) -> Path:
    """Write the notice of ``public`` (a ``procedure-public/1`` document) as an A4 PDF.

    Raises:
        FontError: the font cannot be loaded.
        MissingGlyphError: a character has no glyph in the font (nothing is written).
        LayoutOverflowError: a block does not fit on a page.
        OutputError: the file cannot be written.

    Returns:
        The path written.
    """
    font = load_font(Path(font_path))
    check_glyphs(font, (("公示文字", t) for _, t in procedure_notice_lines(public, lang)))
    pages = layout_procedure_notice(public, measure=text_measure(font), lang=lang)
    for page in pages:
        check_glyphs(font, (("公示文字", t.text) for t in page if isinstance(t, Text)))
    title = procedure_notice_lines(public, lang)[0][1]

    def write(fh: Any) -> None:
        c = new_pdf_canvas(fh, (_PAGE.width, _PAGE.height), title)
        c.setSubject(f"procedure {public['procedure_id']}")
        for page in pages:
            draw_items(c, page, font.fontName)
            c.showPage()
        c.save()

    return write_atomically(Path(out_path), write)
