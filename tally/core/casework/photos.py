"""A report's photos (spec/procedure.md RP-9.4): count, size, type by the first bytes, and the
pixel count read from the image header (PNG ``IHDR``, JPEG ``SOFn``).

The whole submission is refused at the first photo that breaks a limit, naming its position
(1-based), its size and the limit; nothing of it is stored. Accepted photos keep their bytes as
received (evidence); the log carries ``{sha256, bytes, type}`` only.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from .definition import PhotoLimits
from .errors import refuse

__all__ = ["Photo", "check_photos", "photo_body"]

_PNG_SIGNATURE: Final = b"\x89PNG\r\n\x1a\n"
_JPEG_SOI: Final = b"\xff\xd8\xff"
# JPEG start-of-frame markers carry the image size; C4 (DHT), C8 (JPG) and CC (DAC) do not.
_SOF: Final = frozenset(
    {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}
)
_NO_LENGTH: Final = frozenset({0x01, *range(0xD0, 0xD8)})


@dataclass(frozen=True, slots=True)
class Photo:
    """An accepted photo: its bytes as received and what the log says of it."""

    data: bytes
    sha256: str
    type: str  # "jpeg" or "png"
    width: int
    height: int

    @property
    def size(self) -> int:
        return len(self.data)


def photo_body(photo: Photo) -> dict[str, object]:
    """The photo's item in ``report.received`` (RP-11.3)."""
    return {"sha256": photo.sha256, "bytes": photo.size, "type": photo.type}


def _mib(n: int) -> str:
    return f"{n / (1024 * 1024):.1f} MiB"


def _png_size(data: bytes) -> tuple[int, int] | None:
    if len(data) < 24 or data[12:16] != b"IHDR":
        return None
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")


def _jpeg_size(data: bytes) -> tuple[int, int] | None:
    i = 2
    n = len(data)
    while i < n:
        if data[i] != 0xFF:
            return None
        while i < n and data[i] == 0xFF:  # fill bytes
            i += 1
        if i >= n:
            return None
        marker = data[i]
        i += 1
        if marker in _NO_LENGTH:
            continue
        if marker in (0xD9, 0xDA) or i + 2 > n:  # end of image or start of scan before a frame
            return None
        length = int.from_bytes(data[i : i + 2], "big")
        if length < 2:
            return None
        if marker in _SOF:
            if i + 7 > n:
                return None
            height = int.from_bytes(data[i + 3 : i + 5], "big")
            width = int.from_bytes(data[i + 5 : i + 7], "big")
            return width, height
        i += length
    return None


def check_photos(photos: Sequence[bytes], limits: PhotoLimits) -> tuple[Photo, ...]:
    """Check every photo of one submission against RP-9.4, in order.

    Raises:
        CaseworkError: ``report.too_many_photos``, or for the first bad photo
            ``report.photo_too_large`` (position, size, limit), ``report.photo_type``,
            ``report.photo_unreadable`` or ``report.photo_too_many_pixels``.
    """
    if len(photos) > limits.max_count:
        raise refuse(
            "report.too_many_photos",
            "RP-9.4",
            f"照片数量超过上限（{len(photos)} 张，至多 {limits.max_count} 张）",
            f"too many photos ({len(photos)}, at most {limits.max_count})",
        )
    out: list[Photo] = []
    for pos, data in enumerate(photos, start=1):
        if len(data) > limits.max_bytes:
            raise refuse(
                "report.photo_too_large",
                "RP-9.4",
                f"第{pos}张照片过大（{_mib(len(data))}/{_mib(limits.max_bytes)}），请压缩后重新提交",
                f"photo {pos} is too large ({_mib(len(data))} / {_mib(limits.max_bytes)}): "
                "shrink it and send again",
            )
        if data.startswith(_PNG_SIGNATURE):
            kind, size = "png", _png_size(data)
        elif data.startswith(_JPEG_SOI):
            kind, size = "jpeg", _jpeg_size(data)
        else:
            raise refuse(
                "report.photo_type",
                "RP-9.4",
                f"第{pos}张照片须为 JPEG 或 PNG 格式",
                f"photo {pos} must be JPEG or PNG",
            )
        if size is None or size[0] == 0 or size[1] == 0:
            raise refuse(
                "report.photo_unreadable",
                "RP-9.4",
                f"第{pos}张照片无法读取",
                f"photo {pos} cannot be read",
            )
        width, height = size
        if width * height > limits.max_pixels:
            raise refuse(
                "report.photo_too_many_pixels",
                "RP-9.4",
                f"第{pos}张照片像素过多（{width}×{height}，至多 {limits.max_pixels} 像素）",
                f"photo {pos} has too many pixels ({width}x{height}, at most {limits.max_pixels})",
            )
        out.append(
            Photo(
                data=bytes(data),
                sha256=hashlib.sha256(data).hexdigest(),
                type=kind,
                width=width,
                height=height,
            )
        )
    return tuple(out)
