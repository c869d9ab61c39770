"""The casework pages in headless chromium at phone (390x844) and laptop (1366x768) size: the
reporter signs in with the access code, chooses photos (one too large, shrunk on the phone and
said so; one of another type, listed as refused), reports about another branch and sees the
page say so; a refused report keeps its text; the public objection form gives a reference and a
check code that the status page takes; the verification group assigns and concludes, records
an objection made in person and registers a reporter, gives one a new access code (the phone
signed in with the old one is signed out) and withdraws them; a branch clerk records its own
branch's objection, finds it in its branch's list of those its work group recorded, and is refused every other page; the town committee's list shows the counts per branch and the latest
checkpoint. No page scrolls sideways.
"""

from __future__ import annotations

import json
import os
import re
import struct
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tally.service.accounts import AccountStore, Role, accounts_path
from tests.helpers.casework_service import FAST, CaseworkService, casework_service
from tests.helpers.http_session import serve

pytestmark = pytest.mark.slow

SIZES = {"phone": (390, 844), "laptop": (1366, 768)}
MIB = 1024 * 1024


def noisy_png(width: int, height: int) -> bytes:
    """A valid PNG of random pixels (it does not compress: about 3 bytes a pixel)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    raw = b"".join(b"\x00" + os.urandom(width * 3) for _ in range(height))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(raw, 1))
        + chunk(b"IEND", b"")
    )


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, CaseworkService]]:
    folder = tmp_path_factory.mktemp("casework")
    svc = casework_service(folder, max_bytes=MIB)
    with serve(svc.app) as base:
        yield base, svc


@pytest.fixture(params=list(SIZES), ids=list(SIZES))
def page(request: pytest.FixtureRequest, browser: Any) -> Iterator[Any]:
    w, h = SIZES[request.param]
    context = browser.new_context(viewport={"width": w, "height": h}, locale="zh-CN")
    p = context.new_page()
    try:
        yield p
    finally:
        context.close()


def _no_sideways_scroll(page: Any) -> None:
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1"), page.url


def _sign_in_reporter(page: Any, base: str, code: str) -> None:
    page.goto(base + "/report/")
    assert page.url.endswith("/report/login")
    _no_sideways_scroll(page)
    page.fill("input[name=code]", code)
    with page.expect_navigation():
        page.click("button.primary")
    assert page.url.endswith("/report/")


def test_reporter_reports_with_photos_shrunk_and_refused(
    live: tuple[str, CaseworkService], page: Any, tmp_path: Path
) -> None:
    base, svc = live
    big = tmp_path / "big.png"
    big.write_bytes(noisy_png(700, 600))  # about 1.2 MiB, over the 1 MiB limit
    assert big.stat().st_size > MIB
    gif = tmp_path / "not-a-photo.png"
    gif.write_bytes(b"GIF89a" + bytes(200))
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    _sign_in_reporter(page, base, svc.codes["R01"])
    _no_sideways_scroll(page)
    assert page.is_hidden("#other-branch")
    page.select_option("select[name=branch]", "B02")
    assert page.is_visible("#other-branch")
    page.fill("textarea[name=what]", "村口小卖部有人发烟拉票")
    page.fill("input[name=where]", "村口小卖部")
    page.set_input_files("#photos", [str(big), str(gif)])
    page.wait_for_selector("#photo-list li.refused")
    shrunk = page.inner_text("#photo-list li.shrunk")
    assert "已在手机上缩小" in shrunk and "JPEG" in shrunk
    assert "须为 JPEG 或 PNG 格式，未加入" in page.inner_text("#photo-list li.refused")
    shown = page.eval_on_selector(
        "#photo-list li.shrunk img", "i => [i.src.slice(0, 15), i.naturalWidth]"
    )
    assert shown[0] == "data:image/jpeg" and shown[1] > 0
    _no_sideways_scroll(page)
    with page.expect_navigation():
        page.click("#report-form button.primary")
    m = re.search(r"/report/case/(MQ-\d{4}-\d{5})\?new=1$", page.url)
    assert m is not None, page.url
    text = page.inner_text("main")
    assert "报告已提交" in text and "所报告的不是本人所在支部" in text
    assert "照片\n1" in text or "照片\t1" in text
    _no_sideways_scroll(page)
    reference = m[1]
    assert errors == []  # no script error and no Content-Security-Policy violation
    page.goto(base + "/report/")
    assert reference in page.inner_text("#my-reports")


def test_a_refused_report_keeps_the_text_on_the_page(
    live: tuple[str, CaseworkService], page: Any
) -> None:
    base, svc = live
    _sign_in_reporter(page, base, svc.codes["R02"])
    page.fill("textarea[name=what]", "   ")
    page.fill("input[name=where]", "二组晒谷场")
    page.click("#report-form button.primary")
    page.wait_for_selector("#form-error:not([hidden])")
    assert "报告内容不能为空" in page.inner_text("#form-error")
    assert page.input_value("input[name=where]") == "二组晒谷场"
    assert page.url.endswith("/report/")


def test_public_objection_then_its_status(live: tuple[str, CaseworkService], page: Any) -> None:
    base, _ = live
    page.goto(base + "/objection/")
    _no_sideways_scroll(page)
    with page.expect_navigation():
        page.click("a[href='/objection/?branch=B01']")
    page.select_option("select[name=about]", "M001")
    page.fill("textarea[name=what]", "该同志在选举前请客吃饭")
    with page.expect_navigation():
        page.click("button.primary")
    reference = page.inner_text("#reference")
    code = page.inner_text("#check-code")
    assert re.fullmatch(
        r"YY-\d{4}-\d{5}", reference
    ) and "请保存异议编号和查询码" in page.inner_text("main")
    _no_sideways_scroll(page)
    page.goto(base + "/objection/status")
    page.fill("input[name=reference]", reference)
    page.fill("input[name=check_code]", code)
    with page.expect_navigation():
        page.click("button.primary")
    assert "已受理" in page.inner_text("#status")
    _no_sideways_scroll(page)
    page.goto(base + "/objection/status?lang=en")
    assert "Look up an objection" in page.inner_text("h1")


def _sign_in_official(page: Any, base: str, name: str) -> None:
    page.goto(base + "/casework/")
    assert page.url.endswith("/casework/login")
    page.fill("input[name=name]", name)
    page.fill("input[name=password]", f"{name}-password")
    with page.expect_navigation():
        page.click("button.primary")


def test_verification_group_assigns_and_concludes_then_the_town_sees_it(
    live: tuple[str, CaseworkService], page: Any
) -> None:
    base, _ = live
    page.goto(base + "/objection/?branch=B01")
    page.fill("textarea[name=what]", "唱票时有人干扰")
    with page.expect_navigation():
        page.click("button.primary")
    reference = page.inner_text("#reference")
    _sign_in_official(page, base, "head")
    assert reference in page.inner_text("table.cases")
    _no_sideways_scroll(page)
    page.click(f"a[href='/casework/case/{reference}']")
    page.wait_for_selector("#assign")
    _no_sideways_scroll(page)
    page.select_option("#assign select[name=assignee]", "head")
    with page.expect_navigation():
        page.click("#assign button")
    assert "已交办" in page.inner_text("#state")
    page.select_option("#conclude select[name=finding]", "unsubstantiated")
    page.fill("#conclude textarea[name=summary]", "经调看录像，无干扰行为")
    with page.expect_navigation():
        page.click("#conclude button")
    assert "已办结" in page.inner_text("#state")
    assert "经调看录像，无干扰行为" in page.inner_text(".history")
    page.goto(base + "/casework/town")
    _no_sideways_scroll(page)
    assert "branch-casework/" in page.inner_text("#checkpoint")
    assert "不属实" in page.inner_text("#branch-B01")
    page.goto(base + "/casework/objection")
    _no_sideways_scroll(page)
    with page.expect_navigation():
        page.click("a[href='/casework/objection?branch=B01']")
    page.fill("#in-person textarea[name=what]", "当面反映：有人代写选票")
    page.fill("#in-person input[name=name]", "赵六")
    with page.expect_navigation():
        page.click("#in-person button.primary")
    assert "/casework/case/YY-" in page.url and "当面提出" in page.inner_text("main")
    _no_sideways_scroll(page)
    page.goto(base + "/casework/reporters")
    _no_sideways_scroll(page)
    rid = f"R{page.viewport_size['width']}"  # one new reporter per screen size
    page.fill("#register input[name=reporter]", rid)
    page.select_option("#register select[name=group]", "B01/G2")
    page.fill("#register input[name=name]", "孙七")
    with page.expect_navigation():
        page.click("#register button.primary")
    assert re.fullmatch(r"[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}", page.inner_text("#access-code"))
    assert rid in page.inner_text("#groups")
    _no_sideways_scroll(page)


def test_the_head_gives_a_new_access_code_then_withdraws_the_reporter(
    live: tuple[str, CaseworkService], page: Any, browser: Any
) -> None:
    base, _ = live
    rid = f"W{page.viewport_size['width']}"  # one reporter per screen size
    _sign_in_official(page, base, "head")
    page.goto(base + "/casework/reporters")
    page.fill("#register input[name=reporter]", rid)
    page.select_option("#register select[name=group]", "B01/G1")
    page.fill("#register input[name=name]", "钱八")
    with page.expect_navigation():
        page.click("#register button.primary")
    old = page.inner_text("#access-code")
    phone = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN")
    try:
        reporter = phone.new_page()
        _sign_in_reporter(reporter, base, old)
        page.goto(base + "/casework/reporters")
        _no_sideways_scroll(page)
        with page.expect_navigation():
            page.click(f"#reporter-{rid} form.new-code button")
        new = page.inner_text("#access-code")
        assert re.fullmatch(r"[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}", new) and new != old
        assert "已更换访问码" in page.inner_text("#issued")
        _no_sideways_scroll(page)
        reporter.goto(base + "/report/")
        assert reporter.url.endswith("/report/login")  # the old code's session ended
        _sign_in_reporter(reporter, base, new)
        page.fill(f"#reporter-{rid} form.withdraw input[name=reason]", "本人辞去")
        with page.expect_navigation():
            page.click(f"#reporter-{rid} form.withdraw button")
        assert "已撤销该直报员" in page.inner_text("#done")
        assert "已撤销" in page.inner_text(f"#reporter-{rid}")
        _no_sideways_scroll(page)
        reporter.goto(base + "/report/")
        assert reporter.url.endswith("/report/login")
    finally:
        phone.close()


def _recorded_by_b01_clerks(svc: CaseworkService) -> list[str]:
    """The references the log says B01's work group recorded (any clerk, any screen size)."""
    out = []
    for raw in svc.on_thread(lambda s: s.log_rows()):
        e = json.loads(raw)
        if e["type"] == "objection.received" and e["actor"].startswith("branch:B01:"):
            out.append(e["body"]["reference"])
    return out


def test_a_branch_clerk_records_its_branchs_objection_and_sees_nothing_else(
    live: tuple[str, CaseworkService], page: Any
) -> None:
    base, svc = live
    name = f"clerk{page.viewport_size['width']}"  # one account per screen size
    store = AccountStore(
        accounts_path(svc.data), opslimit=FAST["opslimit"], memlimit=FAST["memlimit"]
    )
    store.add(name, Role.BRANCH_CLERK, f"{name}-password", branch="B01")
    _sign_in_official(page, base, name)
    assert page.url.endswith("/casework/objection")
    _no_sideways_scroll(page)
    with page.expect_navigation():
        page.click("a[href='/casework/objection?branch=B01']")
    page.fill("#in-person textarea[name=what]", "当面反映：有人在会场外拉票")
    with page.expect_navigation():
        page.click("#in-person button.primary")
    reference = page.inner_text("#reference")
    assert re.fullmatch(r"YY-2026-[0-9]{5}", reference)
    assert "/casework/case/" not in page.url
    _no_sideways_scroll(page)
    with page.expect_navigation():  # its list: what B01's work group recorded, with the state
        page.click("#recorded-link")
    rows = page.locator("#recorded tbody tr")
    listed = [rows.nth(i).get_attribute("data-reference") for i in range(rows.count())]
    assert listed == _recorded_by_b01_clerks(svc) and reference in listed
    assert "代写选票" not in page.inner_text("main")  # the head's, in person: never listed
    row = page.locator(f"#recorded tbody tr[data-reference='{reference}']")
    assert "已受理" in row.inner_text() and "有人在会场外拉票" not in page.inner_text("main")
    _no_sideways_scroll(page)
    page.goto(base + "/casework/town")
    assert "支部工作组只能记录本支部" in page.inner_text("main")
    _no_sideways_scroll(page)
