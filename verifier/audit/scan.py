"""Decoding ballot QR codes from scans with zxing-cpp (spec/ballot-qr.md §9, spec/audit.md A2).

PNG and JPEG are decoded directly; a PDF is rendered page by page with ``pdftoppm`` (200 dpi,
grey). Each page is tried whole, then in quarters, then in halves, then at half size: a page of
text can hide a QR code from the detector that decodes once it dominates a crop. The file type is
taken from the first bytes, never from the name. The file is opened once, through the bounded
reader (a regular file, at most ``SCAN_LIMIT`` bytes), and that open file is what Pillow decodes or
``pdftoppm`` reads on its standard input: a FIFO or a device given as a scan is refused before any
decoder sees it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Final

import zxingcpp
from PIL import Image, UnidentifiedImageError

from verifier.audit.errors import AuditScanError
from verifier.reader import InputFileError, open_regular

__all__ = ["ScannedPage", "decode_image", "read_scan"]

PDF_DPI: Final = 200
# (A2) one scan file: a 200-page PDF scanned at 300 dpi in grey is about 150 MB (spec/audit.md).
SCAN_LIMIT: Final = 256 * 1024 * 1024


def _qr_only() -> zxingcpp.BarcodeFormats:
    """QR codes only, made per call: a zxingcpp object kept in a module global is still alive
    when the interpreter exits, and nanobind then prints a wall of leak warnings."""
    return zxingcpp.BarcodeFormats(zxingcpp.BarcodeFormat.QRCode)


@dataclass(frozen=True, slots=True)
class ScannedPage:
    """The QR texts on one page (pages count from 1); ``unreadable`` counts symbols found but not
    decoded (a damaged QR code)."""

    source: str
    page: int
    texts: tuple[str, ...]
    unreadable: int = 0


def _read(img: Image.Image) -> tuple[tuple[str, ...], int]:
    found = zxingcpp.read_barcodes(img, formats=_qr_only())
    good = tuple(str(b.text) for b in found if b.valid)
    return good, len(found) - len(good)


def decode_image(gray: Image.Image) -> tuple[tuple[str, ...], int]:
    """QR texts of one page with the crop fallbacks, and the count of undecodable symbols."""
    texts, bad = _read(gray)
    if texts:
        return texts, bad
    w, h = gray.size
    boxes = [
        (0, 0, w // 2, h // 2),
        (w // 2, 0, w, h // 2),
        (0, h // 2, w // 2, h),
        (w // 2, h // 2, w, h),
        (0, 0, w, h // 2),
        (0, h // 2, w, h),
        (0, 0, w // 2, h),
        (w // 2, 0, w, h),
    ]
    for box in boxes:
        t, b = _read(gray.crop(box))
        bad = max(bad, b)
        if t:
            return t, bad
    t, b = _read(gray.resize((max(1, w // 2), max(1, h // 2))))
    return t, max(bad, b)


def _open_image(path: Path | BinaryIO, shown: str) -> Image.Image:
    try:
        with Image.open(path) as img:
            return img.convert("L")
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError) as e:
        raise AuditScanError(
            clause="A2",
            code="scan.unreadable",
            zh=f"无法读取图像 {shown}（文件损坏或格式不支持）",
            en=f"cannot decode the image {shown}: {e}",
        ) from e


def _pdf_pages(fh: BinaryIO, path: Path, out: Path) -> list[Path]:
    exe = shutil.which("pdftoppm")
    if exe is None:
        raise AuditScanError(
            clause="A2",
            code="scan.pdf_render_failed",
            zh="找不到 pdftoppm（请安装 poppler-utils）",
            en="pdftoppm not found (install poppler-utils)",
        )
    try:
        subprocess.run(  # noqa: S603 - fixed executable, no shell
            [exe, "-r", str(PDF_DPI), "-gray", "-png", "-", str(out / "p")],
            stdin=fh,
            check=True,
            capture_output=True,
            timeout=600,
        )
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as e:
        raise AuditScanError(
            clause="A2",
            code="scan.pdf_render_failed",
            zh=f"无法渲染 PDF 文件 {path}",
            en=f"cannot render the PDF {path}",
        ) from e
    return sorted(out.glob("p-*.png"), key=lambda p: int(p.stem.split("-")[-1]))


def _open_scan(path: Path) -> BinaryIO:
    """``path`` opened through the bounded reader: a regular file of at most ``SCAN_LIMIT``."""
    try:
        fh = open_regular(path, clause="A2")
    except InputFileError as e:
        raise AuditScanError(
            clause="A2",
            code="scan.not_a_file",
            zh=f"{path} 不是普通文件或无法读取（{e.zh}）",
            en=f"not a readable regular file: {path} ({e.en})",
        ) from e
    if os.fstat(fh.fileno()).st_size > SCAN_LIMIT:
        fh.close()
        raise AuditScanError(
            clause="A2",
            code="scan.too_large",
            zh=f"扫描文件超过 {SCAN_LIMIT // (1024 * 1024)} MB 的上限：{path}",
            en=f"the scan {path} is larger than its limit of {SCAN_LIMIT // (1024 * 1024)} MB",
        )
    return fh


def read_scan(path: Path) -> tuple[ScannedPage, ...]:
    """Every page of a PNG, JPEG or PDF scan with its QR texts (a page may have none).

    Raises:
        AuditScanError: not a file, not PNG/JPEG/PDF, undecodable, or no page rendered.
    """
    with _open_scan(path) as fh:
        # pread leaves the file offset at 0: ``pdftoppm`` reads the descriptor itself, and a
        # buffered read then seek(0) would move only Python's buffer, not the descriptor.
        head = os.pread(fh.fileno(), 8, 0)
        if head.startswith((b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff")):
            texts, bad = decode_image(_open_image(fh, str(path)))
            return (ScannedPage(str(path), 1, texts, bad),)
        if head.startswith(b"%PDF-"):
            with tempfile.TemporaryDirectory(prefix="audit-scan-") as tmp:
                files = _pdf_pages(fh, path, Path(tmp))
                if not files:
                    raise AuditScanError(
                        clause="A2",
                        code="scan.pdf_render_failed",
                        zh=f"PDF 文件 {path} 中没有页面",
                        en=f"no pages in {path}",
                    )
                pages = []
                for i, f in enumerate(files, start=1):
                    texts, bad = decode_image(_open_image(f, str(path)))
                    pages.append(ScannedPage(str(path), i, texts, bad))
                return tuple(pages)
    raise AuditScanError(
        clause="A2",
        code="scan.unreadable",
        zh=f"{path} 不是 PNG、JPEG 或 PDF 文件",
        en=f"{path} is not a PNG, JPEG or PDF file",
    )
