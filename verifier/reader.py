"""The verifier's one door to the file system: bounded reads of regular files only (bundle.md §8).

Every file the verifier reads (a bundle zip, a bundle folder's members, the town key, audit records
and keys) is opened here. ``os.open`` with ``O_NONBLOCK`` never waits for a FIFO's writer, and
``fstat`` on the open descriptor (not ``stat`` on the name, which can change in between) refuses
anything but a regular file: a FIFO, a device such as ``/dev/zero``, a socket or a directory. A read
stops one byte past the format's limit, so ``/dev/zero`` or a growing file never fills memory.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import BinaryIO, Final

from verifier.errors import VerificationError

__all__ = [
    "DOCUMENT_LIMIT",
    "KEY_FILE_LIMIT",
    "InputFileError",
    "open_regular",
    "read_regular",
]

KEY_FILE_LIMIT: Final = 64 * 1024  # a pubkey/1 or audit-key/1 file (spec/bundle.md §8)
DOCUMENT_LIMIT: Final = 16 * 1024 * 1024  # one JSON document (spec/bundle.md §7)

_KINDS: Final = (
    (stat.S_ISFIFO, "FIFO", "命名管道"),
    (stat.S_ISCHR, "character device", "字符设备"),
    (stat.S_ISBLK, "block device", "块设备"),
    (stat.S_ISSOCK, "socket", "套接字"),
    (stat.S_ISDIR, "directory", "文件夹"),
)


class InputFileError(VerificationError):
    """A file given to the verifier is not a readable regular file, or exceeds its limit."""


def _kind(mode: int) -> tuple[str, str]:
    for test, en, zh in _KINDS:
        if test(mode):
            return en, zh
    return "special file", "特殊文件"


def open_regular(
    path: Path | str, *, clause: str = "V1", follow_symlinks: bool = True, label: str = ""
) -> BinaryIO:
    """Open ``path`` for reading if, once open, it is a regular file.

    Args:
        path: the file.
        clause: the clause a refusal is reported under.
        follow_symlinks: False refuses a symbolic link itself (bundle folder members).
        label: the name shown in messages (default: ``path``).

    Raises:
        InputFileError: missing, unreadable, a link when refused, or not a regular file.
    """
    shown = label or str(path)
    nonblock = getattr(os, "O_NONBLOCK", 0)  # POSIX; Windows has no FIFOs to wait on
    flags = os.O_RDONLY | nonblock | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0)
    if not follow_symlinks:
        flags |= getattr(os, "O_NOFOLLOW", 0)
    try:
        fd = os.open(path, flags)
    except OSError as e:
        raise InputFileError(
            clause=clause,
            code="input.unreadable",
            zh=f"无法打开文件：{shown}（{e.strerror}）",
            en=f"cannot open {shown} ({e.strerror})",
            path=shown,
        ) from e
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            en, zh = _kind(mode)
            raise InputFileError(
                clause=clause,
                code="input.not_regular",
                zh=f"不是普通文件（{zh}）：{shown}",
                en=f"not a regular file ({en}): {shown}",
                path=shown,
            )
        if nonblock:
            os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def read_regular(path: Path | str, limit: int, *, clause: str = "V1", label: str = "") -> bytes:
    """The whole content of a regular file of at most ``limit`` bytes.

    Raises:
        InputFileError: not a readable regular file (see ``open_regular``), or over ``limit``.
    """
    shown = label or str(path)
    with open_regular(path, clause=clause, label=shown) as fh:
        try:
            data = fh.read(limit + 1)
        except OSError as e:
            raise InputFileError(
                clause=clause,
                code="input.unreadable",
                zh=f"读取文件失败：{shown}（{e.strerror}）",
                en=f"cannot read {shown} ({e.strerror})",
                path=shown,
            ) from e
    if len(data) > limit:
        raise InputFileError(
            clause=clause,
            code="input.too_large",
            zh=f"文件超过 {limit} 字节的上限：{shown}",
            en=f"{shown} is larger than its limit of {limit} bytes",
            path=shown,
        )
    return data
