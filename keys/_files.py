"""Writing key and public-key files: atomic, never overwriting, private mode (spec §4.4)."""

from __future__ import annotations

import contextlib
import errno
import os
from pathlib import Path

from keys._errors import KeyFileExistsError

__all__ = ["PRIVATE_FILE_MODE", "PUBLIC_FILE_MODE", "destroy_file", "write_new_file"]

PRIVATE_FILE_MODE = 0o600
PUBLIC_FILE_MODE = 0o644


def _exists_error(path: Path) -> KeyFileExistsError:
    return KeyFileExistsError(
        zh=f"文件已存在，拒绝覆盖：{path}",
        en=f"refusing to overwrite existing file {path}",
    )


def write_new_file(path: str | os.PathLike[str], data: bytes, *, mode: int) -> None:
    """Write `data` to a new file at `path`, all or nothing.

    The bytes go to a temporary file in the same directory (created with `mode`, fsynced), which
    is then hard-linked to `path`: the link fails if `path` exists, so a concurrent writer or an
    old key is never replaced, and a reader never sees a half-written key.

    Args:
        path: where the file goes; it must not exist.
        data: the complete file content.
        mode: permission bits, e.g. `PRIVATE_FILE_MODE` (0600) for a key file.

    Raises:
        KeyFileExistsError: `path` already exists.
        OSError: the directory is missing or not writable, or the disk is full.
    """
    target = Path(path)
    if target.exists() or target.is_symlink():
        raise _exists_error(target)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.{os.urandom(4).hex()}.tmp")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    except FileNotFoundError:
        # Name the missing directory, not our temporary file.
        raise FileNotFoundError(
            errno.ENOENT, os.strerror(errno.ENOENT), str(target.parent)
        ) from None
    try:
        try:
            os.fchmod(fd, mode)  # the umask may have narrowed it; set exactly what the spec says
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            os.fsync(fd)
        finally:
            os.close(fd)
        try:
            os.link(tmp, target)
        except FileExistsError:
            raise _exists_error(target) from None
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
    dir_fd = os.open(target.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)  # make the new directory entry durable too
    finally:
        os.close(dir_fd)


def _fsync_dir(folder: Path) -> None:
    dir_fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def destroy_file(path: str | os.PathLike[str]) -> bool:
    """Destroy a key file (spec §6.3): overwrite its bytes in place with random bytes, fsync, then
    remove the name and fsync the directory. A missing file is not an error.

    On a journaling or copy-on-write file system, or an SSD, old blocks may survive the overwrite;
    the key file is encrypted, so what survives is still sealed under the passphrase.

    Returns:
        True if a file was destroyed, False if there was none.

    Raises:
        OSError: the file cannot be written or removed.
    """
    target = Path(path)
    try:
        fd = os.open(target, os.O_WRONLY | getattr(os, "O_NOFOLLOW", 0))
    except FileNotFoundError:
        return False
    try:
        size = os.fstat(fd).st_size
        view = memoryview(os.urandom(size))
        while view:
            view = view[os.write(fd, view) :]
        os.fsync(fd)
    finally:
        os.close(fd)
    target.unlink()
    _fsync_dir(target.parent)
    return True
