"""Reading ballot QR codes from scans: PNG, JPEG, or a PDF of scanned pages (spec §9).

The file type is taken from its first bytes, not its name. PDF pages are rendered with Debian's
pdftoppm at 200 dpi (notes: 150 dpi is the floor for a degraded scan, 200 gives margin) into a
temporary folder, then every page is decoded with zxing-cpp. Parsing and verification of the
texts is `payload.parse_qr_text` / `verify_payload`, not this module's job.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import zxingcpp
from PIL import Image, UnidentifiedImageError

from ballot_printer.errors import (
    NoQrFoundError,
    NotAFileError,
    PdfRasterError,
    UnreadableImageError,
)

__all__ = ["PDF_DPI", "PageQrs", "read_qr_pages", "read_qr_texts"]

PDF_DPI: Final = 200
_PDF_TIMEOUT_S: Final = 600
_PNG_MAGIC: Final = b"\x89PNG\r\n\x1a\n"
_JPEG_MAGIC: Final = b"\xff\xd8\xff"
_PDF_MAGIC: Final = b"%PDF-"
_PAGE_FILE: Final = re.compile(r"p-(\d+)\.png")


def _qr_only() -> zxingcpp.BarcodeFormats:
    """QR codes only, made per call: a zxingcpp object kept in a module global is still alive
    when the interpreter exits, and nanobind then prints a wall of leak warnings."""
    return zxingcpp.BarcodeFormats(zxingcpp.BarcodeFormat.QRCode)


@dataclass(frozen=True, slots=True)
class PageQrs:
    """The QR texts found on one image or PDF page (page numbers start at 1)."""

    page: int
    texts: tuple[str, ...]


def _decode_image(path: Path, display: Path) -> tuple[str, ...]:
    try:
        with Image.open(path) as img:
            gray = img.convert("L")  # forces a full decode, so truncated files fail here
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError) as e:
        raise UnreadableImageError(
            zh=f"无法读取图像文件 {display}（文件损坏或格式不支持）。",
            en=f"cannot decode image {display}: {e}",
        ) from e
    return _decode_with_fallbacks(gray)


def _decode_with_fallbacks(gray: Image.Image) -> tuple[str, ...]:
    """Whole page first; then the page's quarters and halves, then a half-size copy.

    A full page of text sometimes hides a QR code from the detector (more so with the fixed mask
    the printer uses for speed); the same symbol in a crop, where it dominates, decodes.
    """
    found = zxingcpp.read_barcodes(gray, formats=_qr_only())
    if found:
        return tuple(str(b.text) for b in found if b.valid)
    w, h = gray.size
    boxes = [
        (w // 2, h // 2, w, h),
        (0, h // 2, w // 2, h),
        (w // 2, 0, w, h // 2),
        (0, 0, w // 2, h // 2),
        (0, h // 2, w, h),
        (0, 0, w, h // 2),
    ]
    for box in boxes:
        found = zxingcpp.read_barcodes(gray.crop(box), formats=_qr_only())
        if found:
            return tuple(str(b.text) for b in found if b.valid)
    half = gray.resize((max(1, w // 2), max(1, h // 2)))
    return tuple(str(b.text) for b in zxingcpp.read_barcodes(half, formats=_qr_only()) if b.valid)


def _render_pdf(path: Path, out_dir: Path, dpi: int) -> list[Path]:
    exe = shutil.which("pdftoppm")
    if exe is None:
        raise PdfRasterError(
            zh="找不到 pdftoppm（请安装 poppler-utils）。", en="pdftoppm not found (poppler-utils)"
        )
    try:
        subprocess.run(  # noqa: S603 - fixed executable, no shell, path passed as one argument
            [exe, "-r", str(dpi), "-gray", "-png", str(path.resolve()), str(out_dir / "p")],
            check=True,
            capture_output=True,
            timeout=_PDF_TIMEOUT_S,
        )
    except subprocess.CalledProcessError as e:
        detail = e.stderr.decode("utf-8", "replace").strip()
        raise UnreadableImageError(
            zh=f"无法读取 PDF 文件 {path}（文件损坏？）。",
            en=f"pdftoppm failed on {path}: {detail}",
        ) from e
    except subprocess.TimeoutExpired as e:
        raise PdfRasterError(
            zh=f"PDF 文件 {path} 渲染超时。", en=f"pdftoppm timed out on {path}"
        ) from e
    pages = []
    for f in out_dir.iterdir():
        match = _PAGE_FILE.fullmatch(f.name)
        if match:
            pages.append((int(match.group(1)), f))
    return [f for _, f in sorted(pages)]


def read_qr_pages(path: str | os.PathLike[str], *, dpi: int = PDF_DPI) -> list[PageQrs]:
    """Decode the QR codes of an image (one page) or of every page of a PDF.

    Pages without a QR code are kept with an empty `texts`, so an audit can see which sheet
    carried none.

    Args:
        path: a PNG, JPEG or PDF file.
        dpi: resolution for rendering PDF pages.

    Raises:
        NotAFileError: the path is missing or not a regular file.
        UnreadableImageError: the file is not a decodable PNG, JPEG or PDF.
        PdfRasterError: pdftoppm is missing or timed out.

    Returns:
        One entry per page, in page order.
    """
    p = Path(path)
    if not p.is_file():
        raise NotAFileError(zh=f"{p} 不是文件或不存在。", en=f"not a file: {p}")
    with p.open("rb") as fh:
        head = fh.read(8)
    if head.startswith((_PNG_MAGIC, _JPEG_MAGIC)):
        return [PageQrs(page=1, texts=_decode_image(p, p))]
    if head.startswith(_PDF_MAGIC):
        with tempfile.TemporaryDirectory(prefix="ballot-scan-") as tmp:
            pages = _render_pdf(p, Path(tmp), dpi)
            if not pages:
                raise UnreadableImageError(
                    zh=f"PDF 文件 {p} 中没有页面。", en=f"no pages rendered from {p}"
                )
            return [
                PageQrs(page=i, texts=_decode_image(f, p)) for i, f in enumerate(pages, start=1)
            ]
    raise UnreadableImageError(
        zh=f"{p} 不是 PNG、JPEG 或 PDF 文件。", en=f"{p} is not a PNG, JPEG or PDF file"
    )


def read_qr_texts(path: str | os.PathLike[str]) -> list[str]:
    """All QR texts in an image or PDF, in page order.

    Raises:
        NotAFileError: the path is missing or not a regular file.
        UnreadableImageError: the file is not a decodable PNG, JPEG or PDF.
        PdfRasterError: pdftoppm is missing or timed out.
        NoQrFoundError: the file decodes but holds no QR code at all.

    Returns:
        The decoded texts.
    """
    texts = [t for page in read_qr_pages(path) for t in page.texts]
    if not texts:
        raise NoQrFoundError(
            zh=f"在 {path} 中没有找到二维码（请检查扫描是否清晰、是否扫反）。",
            en=f"no QR code found in {path}",
        )
    return texts
