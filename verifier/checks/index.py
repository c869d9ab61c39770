"""(V1) The bundle: the index, the layout of spec/bundle.md §1, each file's size and SHA-256."""

from __future__ import annotations

from verifier.bundle import hash_member, read_file
from verifier.canonical import parse_canonical
from verifier.checks.common import (
    DOCUMENT_LIMIT,
    FIXED_FILES,
    OPTIONAL_FILES,
    STOCK_PATH,
    STREAMED,
)
from verifier.checks.context import Context
from verifier.errors import DocumentFormatError, VerificationError
from verifier.parse.documents import parse_index

__all__ = [
    "check_hash",
    "check_index",
    "check_index_election",
    "check_index_entries",
    "settle_hashes",
]


def check_index(cx: Context) -> None:
    """(V1) ``index.json`` is a ``bundle-index/1`` listing exactly the bundle's files, sorted,
    each of the layout, with its size and SHA-256 (the streamed files' hashes wait for the replay).
    """
    f = cx.f
    try:
        raw = read_file(cx.b, "index.json", DOCUMENT_LIMIT)
        index = parse_index(parse_canonical(raw, clause="V1", path="index.json"))
    except VerificationError as e:
        f.error("V1", e, file="index.json")
        return
    cx.index_doc = index
    paths = []
    for item in index.files:
        if isinstance(item, DocumentFormatError):
            f.error("V1", item, file="index.json")
            continue
        paths.append(item.path)
        if item.path in cx.index_files:
            f.fail(
                "V1",
                "index.duplicate",
                "索引中路径重复",
                "path listed twice in the index",
                file="index.json",
                path=item.path,
            )
        cx.index_files[item.path] = (item.sha256, item.size)
    if paths != sorted(paths):
        f.fail(
            "V1",
            "index.order",
            "索引文件未按路径排序",
            "index files not sorted by path",
            file="index.json",
        )
    # (V1) every file of spec/bundle.md §1 is indexed, and nothing else
    for p in cx.index_files:
        if p not in FIXED_FILES and p not in OPTIONAL_FILES and STOCK_PATH.fullmatch(p) is None:
            f.fail(
                "V1",
                "index.unknown_file",
                "索引列出了规范之外的文件",
                "index lists a file the layout does not have",
                file="index.json",
                path=p,
            )
    for p in FIXED_FILES:
        if p not in cx.index_files:
            f.fail(
                "V1",
                "index.missing_file",
                "索引缺少必需文件",
                "index does not list a required file",
                file="index.json",
                path=p,
                expected=p,
                found="absent",
            )
    # (V1) the bundle holds exactly the indexed files, each of its size and SHA-256
    present = set(cx.b.names())
    for p in sorted(present - {"index.json"}):
        if p not in cx.index_files:
            f.fail(
                "V1",
                "bundle.extra_file",
                "结果包中有索引之外的文件",
                "file not listed in the index",
                file=p,
                expected="no such file",
                found=p,
            )
    for p, (digest, size) in sorted(cx.index_files.items()):
        if p not in present:
            f.fail(
                "V1",
                "bundle.missing_file",
                "索引列出的文件不存在",
                "file listed in the index is missing",
                file=p,
                expected=p,
                found="absent",
            )
            continue
        if cx.b.size(p) != size:
            f.fail(
                "V1",
                "bundle.size_mismatch",
                "文件大小与索引不符",
                "file size differs from the index",
                file=p,
                expected=str(size),
                found=str(cx.b.size(p)),
            )
            continue
        if p in STREAMED:
            cx.deferred_hashes[p] = digest  # hashed as the replay reads it
            continue
        check_hash(cx, p, digest, *hash_member(cx.b, p))


def check_hash(cx: Context, path: str, digest: str, found: str | None, error: str | None) -> None:
    """(V1) The file at ``path`` was read to its end and its SHA-256 is the indexed one."""
    if error is not None:
        cx.f.fail(
            "V1", "bundle.read_error", "读取文件失败", f"cannot read file ({error})", file=path
        )
    elif found != digest:
        cx.f.fail(
            "V1",
            "bundle.hash_mismatch",
            "文件的 SHA-256 与索引不符",
            "file SHA-256 differs from the index",
            file=path,
            expected=digest,
            found=str(found),
        )


def settle_hashes(cx: Context) -> None:
    """(V1) The hashes of the streamed files, which waited for the replay to read them."""
    for path, digest in sorted(cx.deferred_hashes.items()):
        reader = cx.readers.pop(path, None)
        if reader is None:  # the replay did not run
            check_hash(cx, path, digest, *hash_member(cx.b, path))
            continue
        reader.close()  # hashes whatever the replay left unread
        check_hash(cx, path, digest, reader.hexdigest, reader.error)
    cx.deferred_hashes = {}


def check_index_election(cx: Context, election_id: str) -> None:
    """(V1) The index's ``election_id`` is the manifest's (V3)."""
    if cx.index_doc is not None and cx.index_doc.election_id != election_id:
        cx.f.fail(
            "V1",
            "index.election_id",
            "索引的选举标识与清单不符",
            "index election_id differs from the manifest",
            file="index.json",
            expected=election_id,
            found=cx.index_doc.election_id,
        )


def check_index_entries(cx: Context) -> None:
    """(V1) The index's ``entries`` is the number of log entries (once the log is replayed)."""
    if cx.index_doc is not None and not cx.replay_stopped and cx.index_doc.entries != cx.entries:
        cx.f.fail(
            "V1",
            "index.entries",
            "索引中的条目数与日志不符",
            "index entries differs from the log",
            file="index.json",
            expected=str(cx.entries),
            found=str(cx.index_doc.entries),
        )
