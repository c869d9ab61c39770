"""The whole polling day in a browser: sign in, check in past the quorum, print, issue and return,
enter every ballot through the scanner field, a tie and its runoff, the secretary round, the
scrutineers' sign-off, the result, the notice and the bundle, which the verifier then passes.

Screenshots of each page at laptop (1366x768) and tablet (820x1180) size: docs/screenshots/ (rewritten
only by `make screenshots`).
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from typer.testing import CliRunner

import ballot_printer

from .conftest import SHOTS, LiveStation, check_chart_labels

SIZES = {"laptop": (1366, 768), "tablet": (820, 1180)}
PRESENT = [f"M{i:03d}" for i in range(1, 27) if i not in (15, 20, 25)]  # 23 of E = 25
KEY = {"o": "o", "x": "x", "-": " ", "?": "?"}

# Committee round 1 (5 seats, M001-M006): M001-M004 get 19, M005 and M006 tie at 17 for the
# last seat (everyone passes 13 = more than half of E = 25): a runoff between them follows.
ROUND_1 = (
    ["ooooox"] * 5 + ["ooooxo"] * 5 + ["xooooo", "oxoooo", "ooxooo", "oooxoo"] * 3 + ["xxxxxx"]
)
RUNOFF = ["ox"] * 13 + ["xo"] * 10  # M005 wins the runoff
SECRETARY = ["ox"] * 15 + ["xo"] * 8  # M005 elected secretary


pytestmark = pytest.mark.slow


def _shot(page: Any, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    for size, (w, h) in SIZES.items():
        page.set_viewport_size({"width": w, "height": h})
        page.screenshot(path=str(SHOTS / f"{name}-{size}.png"), full_page=True)
    page.set_viewport_size({"width": 1366, "height": 768})


def _page(browser: Any, station: LiveStation, name: str) -> Any:
    context = browser.new_context(viewport={"width": 1366, "height": 768}, locale="zh-CN")
    page = context.new_page()
    page.on("dialog", lambda d: d.accept())
    page.goto(station.base + "/station/login")
    page.fill("input[name=name]", name)
    page.fill("input[name=password]", f"{name}-password")
    with page.expect_navigation():
        page.click("button[type=submit].primary")
    assert page.url.endswith("/station/"), page.url
    return page


def _submit(page: Any, selector: str) -> None:
    with page.expect_navigation():
        page.click(selector)


def _print_issue_return(chair: Any, station: LiveStation, stock: str, *, shots: bool) -> list[str]:
    chair.goto(station.base + "/station/ballots")
    if shots:
        _shot(chair, "ballots-print")
    chair.fill("input[name=count]", "25")
    _submit(chair, "form[action='/station/print'] button")
    assert "已打印并登记选票 25 张" in chair.inner_text(".flash.ok")
    chair.goto(station.base + "/station/downloads")
    with chair.expect_download() as d:
        chair.click(f"a[href='/station/files/stock/{stock}.pdf']")
    pdf = station.folder / f"{stock}.pdf"
    d.value.save_as(pdf)
    texts = [p.texts[0] for p in ballot_printer.read_qr_pages(pdf, dpi=150)]
    chair.goto(station.base + "/station/ballots")
    if shots:
        _shot(chair, "ballots-issue")
    _submit(chair, "form[action='/station/issue'] button")
    assert "发出选票 23 张" in chair.inner_text(".flash.ok")
    if shots:
        _shot(chair, "ballots-return")
    chair.fill("input[name=count]", "23")
    _submit(chair, "form[action='/station/return'] button")
    assert "本轮选举有效" in chair.inner_text(".flash.ok")
    if shots:
        _shot(chair, "ballots-valid")
    return texts


def _scan_and_mark(teller: Any, qr: str, marks: str) -> None:
    teller.fill("#qr", qr)  # a USB scanner types the QR text, then Enter
    teller.press("#qr", "Enter")
    teller.wait_for_selector("#scan-status.ok")
    teller.keyboard.type("".join(KEY[m] for m in marks))


def _enter_all(teller: Any, station: LiveStation, texts: list[str], marks: list[str]) -> None:
    teller.goto(station.base + "/station/count")
    for qr, m in zip(texts, marks, strict=False):
        _scan_and_mark(teller, qr, m)
        _submit(teller, "#save")
        assert "已录入选票" in teller.inner_text(".flash.ok")


def _close(chair: Any, station: LiveStation, *, shot: str | None) -> str:
    chair.goto(station.base + "/station/tally")
    if shot:
        _shot(chair, shot)
    _submit(chair, "form[action='/station/close'] button")
    text: str = chair.inner_text("main")
    station.cosign()
    return text


def test_a_whole_polling_day_in_the_browser_ends_in_a_bundle_the_verifier_passes(
    browser: Any, live_station: LiveStation
) -> None:
    station = live_station
    login = browser.new_page(viewport={"width": 1366, "height": 768})
    login.goto(station.base + "/station/login")
    _shot(login, "login")
    login.fill("input[name=name]", "chair")
    login.fill("input[name=password]", "wrong-password")
    with login.expect_navigation():
        login.click("button[type=submit].primary")
    assert "账户名或密码错误" in login.inner_text(".flash.error")

    clerk = _page(browser, station, "clerk")
    chair = _page(browser, station, "chair")
    teller = _page(browser, station, "teller")
    _shot(chair, "overview-start")

    # check-in: the live count passes the quorum line (more than 4/5 of E = 25 is 21)
    clerk.goto(station.base + "/station/checkin")
    for member in PRESENT:
        _submit(clerk, f"tr:has(td.mono:text-is('{member}')) button.primary")
    assert clerk.inner_text("#quorum .num") == "23"
    assert "会议有效" in clerk.inner_text("#quorum .verdict")
    _shot(clerk, "checkin")
    clerk.goto(station.base + "/station/checkin?q=刘")
    _shot(clerk, "checkin-search")
    chair.goto(station.base + "/station/")
    chair.wait_for_function("document.querySelector('#quorum .num').textContent === '23'")

    # committee round 1: a tie across the last seat
    texts = _print_issue_return(chair, station, "committee-1", shots=True)
    teller.goto(station.base + "/station/count")
    _scan_and_mark(teller, texts[0], "oooooo")  # six choices for five seats
    assert "无效票" in teller.inner_text("#verdict")
    _shot(teller, "count-overvote")
    teller.focus("tr[data-row='0'] input:checked")
    teller.keyboard.type("".join(KEY[m] for m in ROUND_1[0]))
    assert "有效票" in teller.inner_text("#verdict")
    _shot(teller, "count-valid")
    _submit(teller, "#save")
    _enter_all(teller, station, texts[1:], ROUND_1[1:])
    _shot(teller, "count-complete")
    chair.goto(station.base + "/station/tally")
    check_chart_labels(chair)  # the live count: no label crosses the threshold line
    _shot(chair, "tally-live")
    text = _close(chair, station, shot=None)
    assert "票数相等" in text
    assert "再次投票" in text
    chair.reload()
    _shot(chair, "result-tie")
    chair.goto(station.base + "/station/tally")
    check_chart_labels(chair)
    _shot(chair, "tally-result")

    # the runoff between the two tied candidates
    texts = _print_issue_return(chair, station, "committee-2", shots=False)
    _enter_all(teller, station, texts, RUNOFF)
    text = _close(chair, station, shot="tally-runoff")
    assert "当选" in text

    # the secretary round follows the committee
    chair.goto(station.base + "/station/result")
    assert "书记" in chair.inner_text("#next")
    texts = _print_issue_return(chair, station, "secretary-1", shots=False)
    _enter_all(teller, station, texts, SECRETARY)
    _close(chair, station, shot=None)

    # the result, the scrutineers' sign-off, publication
    chair.goto(station.base + "/station/result")
    _submit(chair, "form[action='/station/result'] button")
    station.cosign()
    chair.reload()
    assert "✓" in chair.inner_text("#signoff")
    _shot(chair, "result-final")
    _submit(chair, "form[action='/station/publish'] button")
    # Publishing writes and checks the whole bundle: on a loaded CI machine (load 8-10 on two
    # cores) that took longer than the default 30 s once, so the wait here is longer.
    # Any flash, so that a refusal is shown in the failure rather than a timeout.
    chair.wait_for_selector(".flash", timeout=120_000)
    flash = chair.inner_text(".flash")
    assert "已发布" in flash and chair.locator(".flash.ok").count() == 1, flash
    _shot(chair, "downloads")
    with chair.expect_download() as notice:
        chair.click("a[href='/station/files/notice.pdf']")
    notice.value.save_as(station.folder / "notice.pdf")
    assert (station.folder / "notice.pdf").read_bytes().startswith(b"%PDF")
    with chair.expect_download() as bundle:
        chair.click("a[href='/station/files/bundle.zip']")
    zip_path = station.folder / "bundle.zip"
    bundle.value.save_as(zip_path)
    chair.goto(station.base + "/station/")
    _shot(chair, "overview-end")
    chair.goto(station.base + "/station/?lang=en")
    _shot(chair, "overview-en")

    from verifier.cli import app as verifier_app  # noqa: PLC0415

    r = CliRunner().invoke(
        verifier_app,
        ["verify", str(zip_path), "--town-key", str(station.town_pub), "--json", "--jobs", "1"],
        catch_exceptions=False,
    )
    assert r.exit_code == 0, r.output
    report = json.loads(r.output)
    assert report
