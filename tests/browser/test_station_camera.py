"""The counting page's camera button: chromium's fake camera plays a Y4M video of a real ballot QR
code; the decoder (static/station/vendor/qr-camera.js, built from web/station/) reads it into the
scanner field, the page checks it with /station/api/scan and shows the valid-signature verdict,
and the camera is stopped. Without a camera the button is disabled with a message.

The video is made here from the printer's own QR matrix (version 7, error correction M) of a ballot
of the round's committed stock: first out of focus (unreadable), then sharp, looped by chromium.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image, ImageDraw, ImageFilter

import ballot_printer
from ballot_printer.render import qr_matrix, qr_version

from .conftest import ARGS, CHROMIUM, SHOTS, LiveStation

PRESENT = [f"M{i:03d}" for i in range(1, 27) if i not in (15, 20, 25)]  # 23 of E = 25
W, H = 640, 480
FPS = 5
# frames: ~2.4 s out of focus, then ~2.4 s readable, looped. The readable part is long enough for
# the page's decoder to catch it when the machine is loaded (under two busy cores, 1.2 s of sharp
# frames was missed for 15 s about one run in four).
BLURRED, SHARP = 12, 12

# Records every camera stream the page opens, so the test can see that it was stopped.
TRACK_STREAMS = """
(() => {
  window.__streams = [];
  const md = navigator.mediaDevices;
  if (!md || !md.getUserMedia) return;
  const real = md.getUserMedia.bind(md);
  md.getUserMedia = (c) => real(c).then((s) => { window.__streams.push(s); return s; });
})();
"""
AIMING_OR_READ = (
    "() => document.getElementById('camera-video').readyState >= 2"
    " && document.getElementById('camera-note').textContent.includes('对准')"
    " || !!document.querySelector('#scan-status.ok')"
)
ALL_STOPPED = (
    "() => window.__streams.length > 0 && window.__streams.every("
    "s => s.getTracks().every(t => t.readyState === 'ended'))"
)


def _open_round(station: LiveStation) -> list[str]:
    """Check in, print, issue and return committee round 1 (as the chair would); the QR texts."""
    state = station.app.state.service
    signer = state.signer

    def run(s: Any) -> list[str]:
        s.check_in(PRESENT, actor="chair")
        spec = s.due_round()
        stock = s.print_stock(
            post=spec.post,
            round_number=spec.number,
            count=23,
            out_pdf=station.folder / "camera-stock.pdf",
            stock_list_out=None,
            signer=signer,
            actor="chair",
        )
        s.issue(count=None, signer=signer, actor="chair")
        assert s.return_ballots(23, signer=signer, actor="chair")
        return [ballot_printer.encode_qr_text(p) for p in stock.payloads]

    texts: list[str] = state.thread.submit(run, state.session).result()
    return texts


def _frame(text: str, blur: float) -> Image.Image:
    """A ballot corner under the camera: off-white paper, the QR ~300 px wide, a little tilt."""
    matrix = qr_matrix(text, qr_version(text))
    box = 6
    n = len(matrix)
    dots = Image.new("L", (n * box, n * box), 0)  # the dark modules, as a paste mask
    draw = ImageDraw.Draw(dots)
    for y, row in enumerate(matrix):
        for x, dark in enumerate(row):
            if dark:
                draw.rectangle([x * box, y * box, x * box + box - 1, y * box + box - 1], fill=255)
    paper = Image.new("RGB", (W, H), (92, 84, 72))  # the table
    sheet = Image.new("RGB", (W - 120, H - 60), (238, 234, 224))
    ImageDraw.Draw(sheet).text((24, 18), "BQ1 ballot", fill=(60, 60, 60))
    at = ((sheet.width - dots.width) // 2, (sheet.height - dots.height) // 2)
    sheet.paste(Image.new("RGB", dots.size, (34, 30, 36)), at, dots)
    paper.paste(sheet.rotate(3, expand=False, fillcolor=(92, 84, 72)), (60, 30))
    return paper.filter(ImageFilter.GaussianBlur(blur)) if blur else paper


def _y4m(path: Path, frames: list[Image.Image]) -> None:
    """YUV4MPEG2, 4:2:0 with JPEG (full-range) YCbCr, which is what PIL's YCbCr mode gives."""
    with path.open("wb") as f:
        f.write(f"YUV4MPEG2 W{W} H{H} F{FPS}:1 Ip A1:1 C420jpeg\n".encode())
        for img in frames:
            y, cb, cr = img.convert("YCbCr").split()
            f.write(b"FRAME\n")
            f.write(y.tobytes())
            for plane in (cb, cr):
                f.write(plane.resize((W // 2, H // 2), Image.Resampling.BOX).tobytes())


def _signed_in(browser: Any, station: LiveStation, *, camera: bool) -> Any:
    context = browser.new_context(viewport={"width": 1366, "height": 768}, locale="zh-CN")
    if camera:
        context.grant_permissions(["camera"], origin=station.base)
        context.add_init_script(TRACK_STREAMS)
    page = context.new_page()
    page.goto(station.base + "/station/login")
    page.fill("input[name=name]", "teller")
    page.fill("input[name=password]", "teller-password")
    with page.expect_navigation():
        page.click("button[type=submit].primary")
    assert page.url.endswith("/station/"), page.url
    return page


@pytest.fixture(scope="module")
def ballots(live_station: LiveStation) -> list[str]:
    return _open_round(live_station)


@pytest.fixture(scope="module")
def playwright() -> Iterator[Any]:
    sync_api = pytest.importorskip("playwright.sync_api")
    if not CHROMIUM.exists():
        pytest.skip("Debian chromium is not installed (/usr/bin/chromium)")
    with sync_api.sync_playwright() as p:
        yield p


@pytest.fixture(scope="module")
def camera_browser(
    playwright: Any, ballots: list[str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Any, str]]:
    """Chromium whose only camera plays a video of the QR code of the stock's first ballot."""
    text = ballots[0]
    assert text.startswith("BQ1:") and qr_version(text) == 7
    video = tmp_path_factory.mktemp("camera") / "ballot.y4m"
    _y4m(video, [_frame(text, 7)] * BLURRED + [_frame(text, 0.6)] * SHARP)
    args = [
        *ARGS,
        "--use-fake-ui-for-media-stream",
        "--use-fake-device-for-media-stream",
        f"--use-file-for-fake-video-capture={video}",
    ]
    b = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=args)
    try:
        yield b, text
    finally:
        b.close()


def test_the_camera_reads_a_ballot_qr_into_the_field_and_the_page_checks_it(
    camera_browser: tuple[Any, str], live_station: LiveStation
) -> None:
    browser, text = camera_browser
    page = _signed_in(browser, live_station, camera=True)
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("console", lambda m: errors.extend([m.text] if m.type == "error" else []))
    page.goto(live_station.base + "/station/count")
    button = page.locator("#camera-open")
    assert button.inner_text() == "用摄像头扫码"
    assert button.is_enabled()
    assert page.locator("#camera-note").is_hidden()

    # cancel while the picture is still out of focus: the camera stops, the field stays empty
    button.click()
    page.wait_for_selector("#camera-box video", state="visible")
    page.wait_for_function("() => window.__streams.length === 1")
    page.click("#camera-cancel")
    assert page.locator("#camera-box").is_hidden()
    page.wait_for_function(ALL_STOPPED)
    assert page.input_value("#qr") == ""

    # again, and hold it until it is read (the fake camera restarts its video from the blur)
    button.click()
    page.wait_for_function(AIMING_OR_READ)
    if page.locator("#camera-box").is_visible():  # still blurred: the usual case
        assert "对准" in page.inner_text("#camera-note")
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / "count-camera-laptop.png"), full_page=True)
    page.wait_for_selector("#scan-status.ok", timeout=30_000)
    assert page.input_value("#qr") == text
    code = ballot_printer.ballot_code(ballot_printer.parse_qr_text(text).ballot_id)
    assert page.inner_text("#scan-status") == f"选票 {code}：签名有效，请录入标记"
    assert page.locator("#camera-box").is_hidden()
    page.wait_for_function(ALL_STOPPED)
    assert page.evaluate("() => document.getElementById('camera-video').srcObject") is None
    # on to the marks, as after Enter
    assert page.evaluate("() => document.activeElement.name") == "m0"
    assert errors == []
    page.context.close()


def test_without_a_camera_the_button_is_disabled_with_a_message(
    playwright: Any, live_station: LiveStation, ballots: list[str]
) -> None:
    if list(Path("/dev").glob("video*")):
        pytest.skip("this machine has a real camera")
    browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=ARGS)
    page = _signed_in(browser, live_station, camera=False)
    page.goto(live_station.base + "/station/count")
    page.wait_for_selector("#camera-open:disabled")
    assert page.inner_text("#camera-note") == "摄像头扫码不可用：未检测到摄像头。请使用扫码枪。"
    page.goto(live_station.base + "/station/count?lang=en")
    page.wait_for_selector("#camera-open:disabled")
    assert page.inner_text("#camera-open") == "Scan with camera"
    assert page.inner_text("#camera-note") == (
        "Camera scanning unavailable: no camera found. Use the scanner."
    )
    browser.close()
