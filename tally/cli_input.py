"""What a clerk gives a ``tally`` command, read one way: a date typed on the command line, and an
input file of bounded size.

``parse_date`` is the only date parser of the procedure, casework and town-report commands: one
form (``YYYY-MM-DD`` in ASCII digits, a real calendar day) and one refusal, ``cli.date``, naming
the option and the value. ``read_input`` is the only way those commands read an input file: it
refuses, each with its own code, a missing file (``input.missing``), anything that is not a
regular file such as a folder, a pipe or a device (``input.not_file``, checked before a byte is
read, so a FIFO or ``/dev/zero`` never blocks or fills memory), a file over the command's limit
(``input.too_large``, never silently cut) and a file that cannot be read (``input.unreadable``);
``read_input_text`` adds ``input.encoding`` for a file that is not UTF-8, and ``open_input`` makes
the same checks for a file read piece by piece (a zip). What the bytes must parse as (JSON, TOML,
a signed document) is the parser's own refusal.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import stat
from pathlib import Path
from typing import BinaryIO

from tally.cli_errors import CliError

__all__ = ["DATE_FORM", "open_input", "parse_date", "read_input", "read_input_text"]

DATE_FORM = "YYYY-MM-DD"
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")  # ASCII digits only: \d would take ２０２６


def parse_date(value: str, *, option: str) -> dt.date:
    """The calendar day ``value`` names, written exactly ``YYYY-MM-DD`` (``2026-02-03``).

    Args:
        value: what the clerk typed.
        option: the option it came from (``--on``), named in the refusal.

    Raises:
        CliError: ``cli.date`` for anything else: ``2026-2-3``, ``20260203``, a time, spaces,
            full-width digits, or a day the calendar does not have (``2026-02-30``).

    Returns:
        The day.
    """
    if _DATE.fullmatch(value):
        try:
            return dt.date(int(value[:4]), int(value[5:7]), int(value[8:]))
        except ValueError:
            pass
    shown = json.dumps(value, ensure_ascii=False)  # quoted, so spaces and control characters show
    raise CliError(
        "cli.date",
        zh=f"{option} 不是有效日期：{shown}（应写作 {DATE_FORM}，如 2026-02-03）",
        en=f"{option} is not a valid date: {shown} (write {DATE_FORM}, e.g. 2026-02-03)",
    )


def _size(limit: int) -> str:
    mib = 1024 * 1024
    return f"{limit // mib} MiB" if limit % mib == 0 else f"{limit} B"


def _unreadable(path: Path, e: OSError) -> CliError:
    return CliError(
        "input.unreadable",
        zh=f"无法读取 {path}：{e.strerror}",
        en=f"cannot read {path}: {e.strerror}",
    )


def _too_large(path: Path, limit: int) -> CliError:
    return CliError(
        "input.too_large",
        zh=f"文件超过 {_size(limit)} 上限：{path}",
        en=f"the file is larger than the {_size(limit)} limit: {path}",
    )


def _read_at_most(fd: int, n: int) -> bytes:
    chunks: list[bytes] = []
    while n > 0:
        chunk = os.read(fd, min(n, 1024 * 1024))
        if not chunk:
            break
        chunks.append(chunk)
        n -= len(chunk)
    return b"".join(chunks)


def _open_regular(path: Path) -> tuple[int, int]:
    """An open descriptor of the regular file ``path`` (blocking again) and its size.

    Raises:
        CliError: ``input.missing``, ``input.not_file``, ``input.unreadable``.
    """
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except FileNotFoundError:
        raise CliError(
            "input.missing", zh=f"找不到文件：{path}", en=f"file not found: {path}"
        ) from None
    except OSError as e:
        raise _unreadable(path, e) from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise CliError(
                "input.not_file",
                zh=f"不是普通文件（文件夹、管道、设备都不能作输入）：{path}",
                en=f"not a regular file (a folder, pipe or device cannot be an input): {path}",
            )
        os.set_blocking(fd, True)
    except OSError as e:
        os.close(fd)
        raise _unreadable(path, e) from None
    except CliError:
        os.close(fd)
        raise
    return fd, st.st_size


def read_input(path: Path, *, limit: int) -> bytes:
    """The bytes of the regular file ``path``, at most ``limit`` of them.

    The file is opened without blocking and checked with ``fstat`` on the open descriptor, so
    what is checked is what is read.

    Args:
        path: the file the clerk named.
        limit: the largest size the command accepts, in bytes.

    Raises:
        CliError: ``input.missing``, ``input.not_file`` (a folder, pipe, device or socket),
            ``input.too_large`` (over ``limit``), ``input.unreadable`` (permission or I/O).

    Returns:
        The whole file.
    """
    fd, size = _open_regular(path)
    try:
        if size > limit:
            raise _too_large(path, limit)
        data = _read_at_most(fd, limit + 1)
    except OSError as e:
        raise _unreadable(path, e) from None
    finally:
        os.close(fd)
    if len(data) > limit:  # it grew after fstat
        raise _too_large(path, limit)
    return data


def open_input(path: Path) -> BinaryIO:
    """The regular file ``path`` opened for reading, for a reader that must not take it whole
    (a zip, read member by member); checked as :func:`read_input` checks, nothing read yet.

    Raises:
        CliError: ``input.missing``, ``input.not_file``, ``input.unreadable``.

    Returns:
        The open file; the caller closes it.
    """
    fd, _ = _open_regular(path)
    return os.fdopen(fd, "rb")


def read_input_text(path: Path, *, limit: int) -> str:
    """The UTF-8 text of ``path`` (:func:`read_input`, then decoded).

    Raises:
        CliError: what :func:`read_input` raises, and ``input.encoding`` for a file that is not
            UTF-8.

    Returns:
        The text.
    """
    raw = read_input(path, limit=limit)
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise CliError(
            "input.encoding",
            zh=f"文件不是 UTF-8 编码：{path}（请用 UTF-8 保存）",
            en=f"the file is not UTF-8: {path} (save it as UTF-8)",
        ) from None
