"""Opening a result bundle safely: a folder or a zip (spec/bundle.md §1, V1, §7).

A zip is never extracted: members are read as bounded streams. Names must be relative, without
``..`` or empty components, not links and not repeated, and each member's attributes must say a
plain file (not a FIFO, device or directory, no set-uid: what another unzip tool would make of
it); the entry count and the total declared uncompressed size are bounded, and a member that
inflates beyond its declared size is an error.
Files are opened through ``verifier.reader`` (regular files only); every error ``zipfile`` or
``zlib`` raises while reading is a V1 finding, never a traceback (spec/bundle.md §8).
"""

from __future__ import annotations

import hashlib
import os
import stat
import struct
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Final, Protocol

from verifier.errors import BundleOpenError, VerificationError
from verifier.layout import DIRECTORY_ENTRY, EXTRA_FOLDER, folder_entry_names, layout_findings
from verifier.reader import InputFileError, open_regular

__all__ = [
    "MAX_ENTRIES",
    "MAX_RATIO",
    "MAX_TOTAL_SIZE",
    "ZIP_ERRORS",
    "Bundle",
    "BundleProblem",
    "HashingReader",
    "hash_member",
    "open_bundle",
    "open_hashing",
]

MAX_TOTAL_SIZE: Final = 4 * 1024**3  # spec/bundle.md §7
MAX_ENTRIES: Final = 4096  # 3 posts x 255 rounds of stocks + 7 files, with room
CHUNK: Final = 1 << 20
_LAYOUT_TEXT: Final = {
    DIRECTORY_ENTRY: (
        "zip 中含目录条目",
        "directory entry in the zip (the bundle holds files only)",
    ),
    EXTRA_FOLDER: (
        "结果包中有多余的文件夹",
        "extra folder in the bundle (it holds no indexed file)",
    ),
}
# A zip member over RATIO_FLOOR bytes may inflate at most MAX_RATIO times its compressed size
# (spec/bundle.md §8): bundle JSON compresses about 3:1, a zip bomb 1000:1.
MAX_RATIO: Final = 100
RATIO_FLOOR: Final = 1 << 20
# A member's attributes (spec/bundle.md §8 "Member attributes"): the high 16 bits of its external
# attributes are a Unix mode, which Info-ZIP's unzip, libarchive and 7-Zip act on (a link, a FIFO,
# a device, set-uid), and the low 16 bits MS-DOS/Windows attributes. Whatever system the zip names,
# a member must be a plain file to every tool: file type bits 0 or S_IFREG, no set-uid, set-gid or
# sticky bit, and no MS-DOS attribute but read-only, archive and normal.
_SPECIAL_BITS: Final = stat.S_ISUID | stat.S_ISGID | stat.S_ISVTX
_DOS_PLAIN: Final = 0x01 | 0x20 | 0x80  # read-only, archive, normal
_FILE_TYPES: Final = {  # S_IFLNK is refused before, as "bundle.link"
    stat.S_IFDIR: ("目录", "a directory"),
    stat.S_IFIFO: ("命名管道", "a FIFO"),
    stat.S_IFCHR: ("字符设备", "a character device"),
    stat.S_IFBLK: ("块设备", "a block device"),
    stat.S_IFSOCK: ("套接字", "a socket"),
}
# What Python's zipfile and zlib raise on a hostile archive: all are V1 findings, never a traceback.
ZIP_ERRORS: Final = (
    zipfile.BadZipFile,
    zipfile.LargeZipFile,
    zlib.error,
    struct.error,
    OSError,
    EOFError,
    ValueError,
    NotImplementedError,
    RuntimeError,
    OverflowError,
)


@dataclass(frozen=True, slots=True)
class BundleProblem:
    """A V1 finding discovered while opening: ``fatal`` stops every deeper clause."""

    code: str
    zh: str
    en: str
    path: str
    fatal: bool


class Bundle(Protocol):
    """Read access to the bundle's files by relative path."""

    def names(self) -> list[str]: ...

    def size(self, name: str) -> int: ...

    def open(self, name: str) -> IO[bytes]: ...


class _Capped:
    """A stream that raises once more than ``limit`` bytes come out of it."""

    def __init__(self, inner: IO[bytes], limit: int, name: str) -> None:
        self._inner = inner
        self._left = limit
        self._name = name

    def _count(self, data: bytes) -> bytes:
        self._left -= len(data)
        if self._left < 0:
            raise VerificationError(
                clause="V1",
                code="bundle.member_too_large",
                zh="文件解压后超过声明的大小",
                en="member inflates beyond its declared size",
                path=self._name,
            )
        return data

    def _fail(self, e: BaseException) -> VerificationError:
        return VerificationError(
            clause="V1",
            code="bundle.member_corrupt",
            zh=f"文件内容损坏，无法读取（{type(e).__name__}）",
            en=f"member cannot be read: corrupt data ({e})",
            path=self._name,
        )

    def read(self, n: int = -1) -> bytes:
        try:
            data = self._inner.read(n)
        except ZIP_ERRORS as e:
            raise self._fail(e) from e
        return self._count(data)

    def readline(self, limit: int = -1) -> bytes:
        try:
            data = self._inner.readline(limit)
        except ZIP_ERRORS as e:
            raise self._fail(e) from e
        return self._count(data)

    def __iter__(self) -> Iterator[bytes]:
        """Lines, as a file object gives them (``for line in member``)."""
        while line := self.readline():
            yield line

    def close(self) -> None:
        self._inner.close()

    def __enter__(self) -> _Capped:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class HashingReader:
    """A read stream that hashes (SHA-256) what is read through it, and on close the rest.

    V1 needs the digest of ``log.jsonl`` and ``ballots.jsonl``, which the replay reads anyway:
    hashing them as they stream by saves reading ~10^9 bytes twice at 10^6 ballots.
    """

    def __init__(self, inner: IO[bytes]) -> None:
        self._inner = inner
        self._hash = hashlib.sha256()
        self._closed = False
        self.hexdigest: str | None = None  # of the whole file, once closed without error
        self.error: str | None = None  # why the rest could not be read, if so

    def read(self, n: int = -1, /) -> bytes:
        """The next bytes; after a read error, nothing more (the error is kept for V1)."""
        if self.error is not None:
            return b""
        try:
            data = self._inner.read(n)
        except (VerificationError, *ZIP_ERRORS) as e:
            self.error = str(e)
            return b""
        self._hash.update(data)
        return data

    def close(self) -> None:
        """Read and hash what was not read yet, then close; idempotent."""
        if self._closed:
            return
        self._closed = True
        if self.error is not None:
            self._inner.close()
            return
        try:
            while chunk := self._inner.read(CHUNK):
                self._hash.update(chunk)
            self.hexdigest = self._hash.hexdigest()
        except (VerificationError, *ZIP_ERRORS) as e:
            self.error = str(e)
        finally:
            self._inner.close()

    def __enter__(self) -> HashingReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class _Empty:
    def read(self, n: int = -1, /) -> bytes:  # noqa: ARG002 - the stream protocol
        return b""

    def close(self) -> None:
        pass


def open_hashing(bundle: Bundle, name: str) -> HashingReader:
    """A ``HashingReader`` over a member; if the member cannot be opened, an empty one whose
    ``error`` says why (the caller's V1 check reports it)."""
    try:
        return HashingReader(bundle.open(name))
    except (VerificationError, *ZIP_ERRORS) as e:
        reader = HashingReader(_Empty())  # type: ignore[arg-type]
        reader.error = str(e)
        return reader


def hash_member(bundle: Bundle, name: str) -> tuple[str | None, str | None]:
    """(SHA-256 hex of the whole member, None), or (None, why it could not be read)."""
    try:
        reader = HashingReader(bundle.open(name))
    except (VerificationError, *ZIP_ERRORS) as e:
        return None, str(e)
    reader.close()
    return reader.hexdigest, reader.error


class _Folder:
    def __init__(self, root: Path, files: dict[str, int]) -> None:
        self._root = root
        self._files = files

    def names(self) -> list[str]:
        return sorted(self._files)

    def size(self, name: str) -> int:
        return self._files[name]

    def open(self, name: str) -> IO[bytes]:
        if name not in self._files:
            raise KeyError(name)
        fh = open_regular(self._root / name, follow_symlinks=False, label=name)
        return _Capped(fh, self._files[name], name)  # type: ignore[return-value]


class _Zip:
    def __init__(self, zf: zipfile.ZipFile, members: dict[str, zipfile.ZipInfo]) -> None:
        self._zf = zf
        self._members = members

    def names(self) -> list[str]:
        return sorted(self._members)

    def entries(self) -> list[str]:
        """Every entry of the central directory in order, folder entries included."""
        return [i.filename for i in self._zf.infolist()]

    def size(self, name: str) -> int:
        return self._members[name].file_size

    def open(self, name: str) -> IO[bytes]:
        info = self._members[name]
        try:
            inner = self._zf.open(info)
        except ZIP_ERRORS as e:
            raise VerificationError(
                clause="V1",
                code="bundle.member_corrupt",
                zh=f"zip 成员无法打开（{type(e).__name__}）",
                en=f"zip member cannot be opened ({e})",
                path=name,
            ) from e
        return _Capped(inner, info.file_size, name)  # type: ignore[return-value]


def _bad_name(name: str) -> str | None:
    if name.startswith(("/", "\\")) or (len(name) > 1 and name[1] == ":"):
        return "absolute path"
    if "\\" in name or "\x00" in name:
        return "backslash or NUL in name"
    parts = name.rstrip("/").split("/")
    if any(p in ("", ".", "..") for p in parts):
        return "'..', '.' or empty path component"
    return None


def _open_zip(path: Path, fh: IO[bytes]) -> tuple[Bundle, list[BundleProblem]]:
    try:
        zf = zipfile.ZipFile(fh)
        infos = zf.infolist()
    except ZIP_ERRORS as e:
        fh.close()
        raise BundleOpenError(
            clause="V1",
            code="bundle.unreadable",
            zh="无法读取 zip 文件（损坏或截断）",
            en=f"cannot read the zip file ({e})",
            path=str(path),
        ) from e
    problems: list[BundleProblem] = []
    if len(infos) > MAX_ENTRIES:
        problems.append(
            BundleProblem(
                "bundle.too_many_entries",
                f"zip 条目过多（{len(infos)} > {MAX_ENTRIES}）",
                f"too many zip entries ({len(infos)} > {MAX_ENTRIES})",
                "",
                True,
            )
        )
        return _Zip(zf, {}), problems
    members: dict[str, zipfile.ZipInfo] = {}
    total = 0
    for info in infos:
        name = info.filename
        why = _bad_name(name)
        if why is not None:
            problems.append(
                BundleProblem(
                    "bundle.unsafe_path", f"不安全的路径：{why}", f"unsafe path: {why}", name, True
                )
            )
            continue
        mode = info.external_attr >> 16
        if stat.S_ISLNK(mode):
            problems.append(BundleProblem("bundle.link", "zip 中含链接", "link in zip", name, True))
            continue
        if name.endswith("/"):
            continue  # folder entries are allowed and carry nothing
        if name in members:
            problems.append(
                BundleProblem(
                    "bundle.duplicate_name", "zip 中文件名重复", "duplicate name in zip", name, True
                )
            )
            continue
        unsafe = _unsafe_member(info)
        if unsafe is not None:
            problems.append(BundleProblem(*unsafe, name, True))
            continue
        total += info.file_size
        members[name] = info
    if total > MAX_TOTAL_SIZE:
        problems.append(
            BundleProblem(
                "bundle.too_large",
                f"解压后总大小 {total} 字节超过上限",
                f"total uncompressed size {total} exceeds {MAX_TOTAL_SIZE} bytes",
                "",
                True,
            )
        )
    return _Zip(zf, members), problems


def _member_mode(info: zipfile.ZipInfo) -> tuple[str, str, str] | None:
    """(code, zh, en) when a member's attributes say anything but a plain file (a link is
    ``bundle.link``, checked before): from the central directory, before anything is read."""
    mode = info.external_attr >> 16
    kind = stat.S_IFMT(mode)
    if kind not in (0, stat.S_IFREG):
        zh, en = _FILE_TYPES.get(kind, ("未知类型", "of an unknown file type"))
        return (
            "bundle.member_mode",
            f"zip 成员的属性表明它是{zh}，不是普通文件（模式 {mode:o}）",
            f"the zip member's attributes make it {en}, not a regular file (mode {mode:o})",
        )
    if mode & _SPECIAL_BITS:
        return (
            "bundle.member_mode",
            f"zip 成员带有 set-uid、set-gid 或 sticky 位（模式 {mode:o}）",
            f"the zip member has a set-uid, set-gid or sticky bit (mode {mode:o})",
        )
    dos = info.external_attr & 0xFFFF
    if dos & ~_DOS_PLAIN:
        return (
            "bundle.member_mode",
            f"zip 成员带有普通文件以外的 MS-DOS 属性（{dos:#06x}）",
            f"the zip member has MS-DOS attributes of no plain file ({dos:#06x})",
        )
    return None


def _unsafe_member(info: zipfile.ZipInfo) -> tuple[str, str, str] | None:
    """(code, zh, en) when a member cannot be read safely: not a plain file, encrypted, unknown
    method, a bomb."""
    mode = _member_mode(info)
    if mode is not None:
        return mode
    if info.flag_bits & 0x1:
        return "bundle.zip_encrypted", "zip 成员已加密", "encrypted zip member"
    if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        return (
            "bundle.zip_method",
            f"zip 成员的压缩方法不受支持（{info.compress_type}）",
            f"unsupported zip compression method {info.compress_type}",
        )
    if info.file_size > RATIO_FLOOR and info.file_size > MAX_RATIO * info.compress_size:
        return (
            "bundle.zip_ratio",
            f"zip 成员压缩比超过 {MAX_RATIO}:1（疑似压缩炸弹）",
            f"zip member inflates more than {MAX_RATIO}:1 (zip bomb)",
        )
    return None


def _open_folder(root: Path) -> tuple[Bundle, list[BundleProblem]]:
    files: dict[str, int] = {}
    problems: list[BundleProblem] = []
    total = 0
    count = 0

    def walk(d: Path, prefix: str) -> Iterator[tuple[str, os.DirEntry[str]]]:
        with os.scandir(d) as it:
            for e in sorted(it, key=lambda x: x.name):
                yield prefix + e.name, e

    stack = [(root, "")]
    while stack:
        d, prefix = stack.pop()
        for name, e in walk(d, prefix):
            count += 1
            if count > MAX_ENTRIES:
                problems.append(
                    BundleProblem("bundle.too_many_entries", "文件过多", "too many files", "", True)
                )
                return _Folder(root, {}), problems
            if e.is_symlink():
                problems.append(
                    BundleProblem(
                        "bundle.link", "文件夹中含链接", "symbolic link in bundle", name, True
                    )
                )
            elif e.is_dir(follow_symlinks=False):
                stack.append((Path(e.path), name + "/"))
            elif e.is_file(follow_symlinks=False):
                size = e.stat(follow_symlinks=False).st_size
                total += size
                files[name] = size
            else:
                problems.append(
                    BundleProblem("bundle.special_file", "特殊文件", "special file", name, True)
                )
    if total > MAX_TOTAL_SIZE:
        problems.append(
            BundleProblem("bundle.too_large", "总大小超过上限", "bundle too large", "", True)
        )
    return _Folder(root, files), problems


def open_bundle(path: Path) -> tuple[Bundle, list[BundleProblem]]:
    """Open a folder or a ``.zip`` bundle (V1).

    Raises:
        BundleOpenError: missing, neither a folder nor a readable zip, or no ``index.json``.

    Returns:
        The bundle and the problems found while opening it.
    """
    if not path.exists():
        raise BundleOpenError(
            clause="V1",
            code="bundle.missing",
            zh="结果包不存在",
            en="the bundle does not exist",
            path=str(path),
        )
    if path.is_dir():
        bundle, problems = _open_folder(path)
    else:
        try:
            fh = open_regular(path)
        except InputFileError as e:
            raise BundleOpenError(clause="V1", code=e.code, zh=e.zh, en=e.en, path=str(path)) from e
        if not zipfile.is_zipfile(fh):
            fh.close()
            raise BundleOpenError(
                clause="V1",
                code="bundle.not_a_bundle",
                zh="既不是文件夹也不是 zip 文件",
                en="neither a folder nor a zip file",
                path=str(path),
            )
        bundle, problems = _open_zip(path, fh)
    if not any(p.fatal for p in problems):  # (V1) exactly the indexed files: verifier/layout.py
        # A zip's entries as its central directory lists them, from the archive already open
        # (no second read of the file); a folder's from one more listing.
        try:
            names = bundle.entries() if isinstance(bundle, _Zip) else folder_entry_names(path)
        except OSError as e:  # the folder changed while it was read
            raise BundleOpenError(
                clause="V1",
                code="bundle.read_error",
                zh=f"无法读取结果包文件夹：{e.strerror}",
                en=f"the bundle folder cannot be read: {e.strerror}",
                path=str(path),
            ) from e
        for code, name in layout_findings(names, is_zip=not path.is_dir()):
            zh, en = _LAYOUT_TEXT[code]
            problems.append(BundleProblem(code, zh, en, name, False))
    if "index.json" not in bundle.names() and not any(p.fatal for p in problems):
        raise BundleOpenError(
            clause="V1",
            code="bundle.no_index",
            zh="结果包中没有 index.json",
            en="index.json is missing",
            path=str(path),
        )
    return bundle, problems


def read_file(bundle: Bundle, name: str, limit: int) -> bytes:
    """Read a whole member, refusing more than ``limit`` bytes.

    Raises:
        VerificationError: too large, or the member cannot be read (clause V1).
    """
    if bundle.size(name) > limit:
        raise VerificationError(
            clause="V1",
            code="bundle.file_too_large",
            zh="文件过大",
            en=f"file larger than {limit} bytes",
            path=name,
        )
    try:
        with bundle.open(name) as f:
            data = f.read(limit + 1)
    except ZIP_ERRORS as e:
        raise VerificationError(
            clause="V1",
            code="bundle.read_error",
            zh="读取文件失败",
            en=f"cannot read file ({e})",
            path=name,
        ) from e
    if len(data) > limit:
        raise VerificationError(
            clause="V1",
            code="bundle.file_too_large",
            zh="文件过大",
            en=f"file larger than {limit} bytes",
            path=name,
        )
    return data
